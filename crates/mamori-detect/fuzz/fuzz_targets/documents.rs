//! Document readers on arbitrary bytes (PDF, pptx/docx/odt, legacy Word, Outlook .msg, mbox):
//! must not panic, hang or exceed limits. OCR is off (it would run an external program).
#![no_main]
use libfuzzer_sys::fuzz_target;
use mamori_detect::{KindSet, Scanner};

static SCANNER: std::sync::LazyLock<Scanner> = std::sync::LazyLock::new(|| {
    let mut scanner = Scanner::new(KindSet::all());
    scanner.limits.max_expanded = 8 << 20;
    scanner.limits.max_in_memory = 4 << 20;
    scanner.limits.ocr = false;
    scanner
});

fuzz_target!(|data: &[u8]| {
    let scanner = &*SCANNER;
    for name in ["f.pdf", "f.pptx", "f.docx", "f.odt", "f.doc", "f.msg", "f.mbox"] {
        scanner.scan_bytes(name, data, &mut |_| {});
    }
});
