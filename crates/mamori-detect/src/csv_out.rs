//! CSV for Excel: the one writer every CSV mamori produces goes through (ledger export, vault
//! export, the scanner's `--format csv`, and any export added later), and its inverse for the
//! CSV mamori reads back.
//!
//! Excel runs a cell that starts with `=`, `+`, `-` or `@` as a formula (and tab or CR in front
//! of one is skipped), so a customer name `=HYPERLINK(...)` or `-2+3+cmd|'/c calc'!A0` in a
//! vault export becomes a live formula on the reader's machine ("CSV injection"). Such a cell is
//! written with a leading apostrophe, which makes Excel take it as text. The full-width forms
//! (＝＋－＠) get the same treatment, as a Japanese Excel may turn them into the ASCII ones.
//! A plain number (`-12`, `+81`, `-1.5`: a sign, digits, at most one decimal point) is left
//! alone: Excel reads it as a numeric constant, never as a formula, and a negative amount stays
//! a number.
//!
//! The guard is reversible: a value that already starts with apostrophes before such a
//! character gets one more, so `from_excel_cell` (used where mamori imports CSV: the vault
//! import and the ledger import) removes exactly the one the writer added, and every value
//! makes the round trip unchanged.
//!
//! Records are quoted per RFC 4180 (a field with a comma, a quote, CR or LF is quoted, quotes
//! doubled) and end in CRLF. The text is then encoded as the exports choose: UTF-8 with a BOM
//! (so Excel reads it as UTF-8) or CP932.

use std::borrow::Cow;

/// Characters that make Excel read a cell as a formula.
const FORMULA_START: [char; 10] = ['=', '+', '-', '@', '\t', '\r', '＝', '＋', '－', '＠'];

/// Whether `s` (the value with any leading apostrophes taken off) would start a formula.
fn starts_formula(s: &str) -> bool {
    let t = s.trim_start_matches('\'');
    t.starts_with(FORMULA_START) && !is_plain_number(t)
}

/// `[+-]?digits(.digits)?`, ASCII only.
fn is_plain_number(t: &str) -> bool {
    let body = t.strip_prefix(['+', '-']).unwrap_or(t);
    let (int, frac) = match body.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (body, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    digits(int) && frac.is_none_or(digits)
}

/// The cell as written for Excel: a value that would start a formula gets a leading apostrophe.
pub fn excel_cell(s: &str) -> Cow<'_, str> {
    if starts_formula(s) {
        Cow::Owned(format!("'{s}"))
    } else {
        Cow::Borrowed(s)
    }
}

/// The inverse of `excel_cell`, for CSV mamori reads back: the apostrophe the writer added is
/// taken off; any other value is returned as it is.
pub fn from_excel_cell(s: &str) -> &str {
    match s.strip_prefix('\'') {
        Some(rest) if starts_formula(rest) => rest,
        _ => s,
    }
}

/// Appends one record to `out`: each cell guarded, quoted where RFC 4180 needs it, CRLF at the
/// end. A record of one empty cell is written as `""` so that the line is not blank.
pub fn push_record<S: AsRef<str>>(out: &mut Vec<u8>, cells: impl IntoIterator<Item = S>) {
    let start = out.len();
    let mut n = 0;
    for cell in cells {
        if n > 0 {
            out.push(b',');
        }
        n += 1;
        let cell = excel_cell(cell.as_ref());
        if cell
            .bytes()
            .any(|b| matches!(b, b',' | b'"' | b'\r' | b'\n'))
        {
            out.push(b'"');
            for b in cell.bytes() {
                if b == b'"' {
                    out.push(b'"');
                }
                out.push(b);
            }
            out.push(b'"');
        } else {
            out.extend_from_slice(cell.as_bytes());
        }
    }
    if n == 1 && out.len() == start {
        out.extend_from_slice(b"\"\"");
    }
    out.extend_from_slice(b"\r\n");
}

/// How the bytes of an export are encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    /// UTF-8 with a byte-order mark, which Excel needs to read UTF-8.
    Utf8Bom,
    /// CP932 (Shift_JIS as Windows has it); characters it cannot hold become 〓.
    Cp932,
    /// UTF-8 without a mark (a stream, such as the scanner's standard output).
    Utf8,
}

/// A CSV document for Excel, built in memory.
#[derive(Debug, Default)]
pub struct CsvOut {
    buf: Vec<u8>,
    records: usize,
}

impl CsvOut {
    pub fn new() -> Self {
        CsvOut::default()
    }

    /// Adds one record (see `push_record`).
    pub fn record<S: AsRef<str>>(&mut self, cells: impl IntoIterator<Item = S>) {
        push_record(&mut self.buf, cells);
        self.records += 1;
    }

    /// Records written so far, the header included.
    pub fn records(&self) -> usize {
        self.records
    }

    /// The document as text.
    pub fn text(&self) -> &str {
        // Built only from &str cells and ASCII separators.
        std::str::from_utf8(&self.buf).expect("CSV built from UTF-8 cells")
    }

    /// The document encoded for Excel.
    pub fn finish(self, encoding: Encoding) -> Vec<u8> {
        match encoding {
            Encoding::Utf8 => self.buf,
            Encoding::Utf8Bom | Encoding::Cp932 => {
                encode_for_excel(self.text(), encoding == Encoding::Cp932)
            }
        }
    }
}

/// UTF-8 with a BOM (Excel then reads it as UTF-8), or CP932 with characters it cannot hold
/// replaced by 〓 (the geta mark Japanese printers use for the same purpose).
pub fn encode_for_excel(text: &str, cp932: bool) -> Vec<u8> {
    if !cp932 {
        let mut out = b"\xEF\xBB\xBF".to_vec();
        out.extend_from_slice(text.as_bytes());
        return out;
    }
    let (bytes, _, had_errors) = encoding_rs::SHIFT_JIS.encode(text);
    if !had_errors {
        return bytes.into_owned();
    }
    let mut out = Vec::with_capacity(text.len());
    let mut buf = [0u8; 4];
    for c in text.chars() {
        let (b, _, bad) = encoding_rs::SHIFT_JIS.encode(c.encode_utf8(&mut buf));
        if bad {
            out.extend_from_slice(&[0x81, 0xAC]); // 〓
        } else {
            out.extend_from_slice(&b);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_starts_get_an_apostrophe_and_come_back() {
        let cases = [
            ("=1+1", "'=1+1"),
            ("+81 90-1234-5678", "'+81 90-1234-5678"),
            ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\t=1", "'\t=1"),
            ("\r=1", "'\r=1"),
            ("＝1+1", "'＝1+1"),
            ("'=1", "''=1"),
            ("''@x", "'''@x"),
            ("-12", "-12"),
            ("+81", "+81"),
            ("-1.5", "-1.5"),
            ("'-12", "'-12"),
            ("-", "'-"),
            ("-1.", "'-1."),
            ("山田太郎", "山田太郎"),
            ("'quoted", "'quoted"),
            ("", ""),
        ];
        for (value, written) in cases {
            assert_eq!(excel_cell(value), written, "{value:?}");
            assert_eq!(from_excel_cell(written), value, "{value:?}");
        }
    }

    #[test]
    fn records_are_quoted_per_rfc4180_with_crlf() {
        let mut out = Vec::new();
        push_record(&mut out, ["a,b", "say \"hi\"", "two\nlines", "=x", "plain"]);
        push_record(&mut out, [""]);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",'=x,plain\r\n\"\"\r\n"
        );
    }

    #[test]
    fn encodings() {
        let mut csv = CsvOut::new();
        csv.record(["氏名", "=1"]);
        assert_eq!(csv.records(), 1);
        let cp932 = CsvOut {
            buf: csv.buf.clone(),
            records: 1,
        }
        .finish(Encoding::Cp932);
        let (text, _, bad) = encoding_rs::SHIFT_JIS.decode(&cp932);
        assert!(!bad);
        assert_eq!(text, "氏名,'=1\r\n");
        let utf8 = csv.finish(Encoding::Utf8Bom);
        assert_eq!(&utf8[..3], b"\xEF\xBB\xBF");
        assert_eq!(&utf8[3..], "氏名,'=1\r\n".as_bytes());
    }
}
