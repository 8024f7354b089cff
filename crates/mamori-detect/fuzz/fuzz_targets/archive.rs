//! Zip, docx and spreadsheet (xlsx, xlsb, ods, xls: detected by content) readers on arbitrary
//! bytes: must not panic, hang or exceed limits.
#![no_main]
use libfuzzer_sys::fuzz_target;
use mamori_detect::{KindSet, Scanner};

static SCANNER: std::sync::LazyLock<Scanner> = std::sync::LazyLock::new(|| {
    let mut scanner = Scanner::new(KindSet::all());
    scanner.limits.max_expanded = 8 << 20;
    scanner.limits.max_in_memory = 4 << 20;
    // Small sheet limits keep each run fast; the limits themselves are what is being tested.
    scanner.limits.sheets.max_cells = 200_000;
    scanner.limits.sheets.max_part = 16 << 20;
    scanner.limits.sheets.max_workbook = 32 << 20;
    scanner
});

fuzz_target!(|data: &[u8]| {
    let scanner = &*SCANNER;
    for name in ["f.zip", "f.docx", "f.xlsx"] {
        scanner.scan_bytes(name, data, &mut |_| {});
    }
});
