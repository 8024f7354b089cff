//! CSV/TSV readers and column inference on arbitrary bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;
use mamori_detect::{KindSet, Scanner};

static SCANNER: std::sync::LazyLock<Scanner> =
    std::sync::LazyLock::new(|| Scanner::new(KindSet::all()));

fuzz_target!(|data: &[u8]| {
    let scanner = &*SCANNER;
    for name in ["f.csv", "f.tsv"] {
        scanner.scan_bytes(name, data, &mut |f| {
            assert!(f.line >= 1 && f.column >= 1);
        });
    }
});
