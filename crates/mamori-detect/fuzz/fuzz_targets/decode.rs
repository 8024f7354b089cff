//! Encoding sniffing, decoding and the line scanner on arbitrary bytes (text, HTML, JSON, eml).
#![no_main]
use libfuzzer_sys::fuzz_target;
use mamori_detect::{KindSet, Scanner};

static SCANNER: std::sync::LazyLock<Scanner> =
    std::sync::LazyLock::new(|| Scanner::new(KindSet::all()));

fuzz_target!(|data: &[u8]| {
    let _ = mamori_detect::decode::sniff(data, true);
    let scanner = &*SCANNER;
    for name in ["f.txt", "f.html", "f.jsonl", "f.eml"] {
        scanner.scan_bytes(name, data, &mut |f| {
            assert!(!f.value.is_empty());
        });
    }
});
