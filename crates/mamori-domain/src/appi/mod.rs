//! The APPI breach assessment (漏えい等報告の要否判定): from the facts of one incident, whether
//! the Act on the Protection of Personal Information requires a report to the PPC, on which
//! grounds, by when, whether and how the persons must be told, and the separate My Number Act
//! decision.
//!
//! The rules are those of `shared/docs/appi.md`; the input and output are its fixed §9 contract.
//! Everything here is a function of its arguments — no I/O, no clock — so the web application
//! and `mamori assess` give the same answer with the same reasons.
//!
//! * [`facts`]: the §9 input, parsed strictly into validated [`Facts`].
//! * [`item`]: the item codes and which of them are sensitive or financial.
//! * [`rules`]: §1, §2, §5, §6 and §7, producing the reasons line by line.
//! * [`deadline`]: §3, on the government calendar of [`crate::calendar`].
//! * [`assessment`]: the §9 output.

pub mod assessment;
pub mod deadline;
pub mod facts;
pub mod item;
pub mod reason;
pub mod rules;

pub use assessment::{Assessment, Category, MyNumberAct, NoticeMethod};
pub use facts::{Event, Facts, InputError, KnownAt, Role};
pub use item::{Item, UnknownItem};
pub use reason::{NotBreach, Reason};
pub use rules::assess;

/// Parses the §9 input and assesses it: what `mamori assess` does between reading and printing.
/// A deadline beyond the calendar's years is reported against `knew_at`, the field that caused it.
pub fn assess_json(json: &str) -> Result<Assessment, InputError> {
    let facts = Facts::from_json(json)?;
    assess(&facts).map_err(|e| InputError::new(Some("knew_at".to_owned()), e.to_string()))
}

#[cfg(test)]
mod tests;
