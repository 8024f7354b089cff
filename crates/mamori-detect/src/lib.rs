//! mamori-detect: find Japanese personal data in files (pii-detection.md).
//!
//! A library with no server dependencies: decoding, normalisation, detectors with their
//! validators, column inference for tabular data, file-format readers and the scanner that ties
//! them together. ARCHITECTURE.md (section "The personal-data scanner") describes the design.

mod bytescan;
pub mod detect;
pub mod dict;
pub mod kind;
pub mod normalize;
pub mod parallel;
pub mod validate;

pub use detect::{Engine, Hit};
pub use kind::{Kind, KindSet};
pub mod columns;
pub mod csv_out;
pub mod decode;
pub mod formats;
pub mod print_list;
pub mod prose;
pub mod runner;
pub mod scan;
pub mod sheets;
pub mod testdata;

pub use scan::{FileReport, Finding, Limits, Place, Scanner, Status};

// Documents (issue 16): PDF text layers, office documents, mailboxes and Outlook messages, OCR.
pub mod msg;
pub mod ocr;
pub mod office;
pub mod pdf;
