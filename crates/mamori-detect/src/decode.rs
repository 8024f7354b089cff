//! Encoding detection and streaming decoding.
//!
//! The encoding is decided once per file from its first bytes: a BOM (UTF-8, UTF-16LE/BE);
//! UTF-16 without a BOM by its pattern of zero bytes; valid UTF-8; otherwise `chardetng`, with
//! the answer restricted to the Japanese legacy encodings (Shift_JIS/CP932, EUC-JP, ISO-2022-JP)
//! by counting decoding errors when chardetng names something else. A prefix with zero bytes
//! that is not UTF-16 is binary.

use encoding_rs::{Encoding, EUC_JP, ISO_2022_JP, SHIFT_JIS, UTF_16BE, UTF_16LE, UTF_8};

/// How many bytes are looked at to decide.
pub const SNIFF_LEN: usize = 64 * 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sniffed {
    pub encoding: &'static Encoding,
    pub bom_len: usize,
    pub binary: bool,
    /// The prefix was mostly UTF-8 but had invalid sequences.
    pub utf8_errors: bool,
    /// Lines in UTF-8 and lines in Shift_JIS (CP932) in one file: read as UTF-8, and each line
    /// that is not valid UTF-8 is decoded as CP932 on its own ([`line_as_cp932`]).
    pub mixed: bool,
}

impl Sniffed {
    pub fn name(&self) -> &'static str {
        if self.mixed {
            "UTF-8+Shift_JIS"
        } else {
            encoding_name(self.encoding)
        }
    }
}

/// The name reported in `encoding`.
pub fn encoding_name(enc: &'static Encoding) -> &'static str {
    if enc == SHIFT_JIS {
        "Shift_JIS"
    } else {
        enc.name()
    }
}

/// Decides the encoding of a file from its first bytes. `complete` says whether `prefix` is the
/// whole file (so a multi-byte character cut at the end of the prefix is not an error).
pub fn sniff(prefix: &[u8], complete: bool) -> Sniffed {
    let text = |encoding, bom_len| Sniffed {
        encoding,
        bom_len,
        binary: false,
        utf8_errors: false,
        mixed: false,
    };
    if prefix.starts_with(b"\xEF\xBB\xBF") {
        return text(UTF_8, 3);
    }
    if prefix.starts_with(b"\xFF\xFE") {
        return text(UTF_16LE, 2);
    }
    if prefix.starts_with(b"\xFE\xFF") {
        return text(UTF_16BE, 2);
    }
    if let Some(enc) = utf16_without_bom(prefix) {
        return text(enc, 0);
    }
    if memchr::memchr(0, prefix).is_some() {
        return Sniffed {
            encoding: UTF_8,
            bom_len: 0,
            binary: true,
            utf8_errors: false,
            mixed: false,
        };
    }
    if prefix.is_ascii() && prefix.windows(3).any(|w| w == b"\x1B$B" || w == b"\x1B$@") {
        return text(ISO_2022_JP, 0);
    }
    let (valid, errors) = utf8_validity(prefix, complete);
    if valid {
        return text(UTF_8, 0);
    }
    if mixed_lines(prefix, complete) {
        return Sniffed {
            mixed: true,
            ..text(UTF_8, 0)
        };
    }
    // Mostly UTF-8 with a few bad bytes: a UTF-8 file with damage, reported as such.
    let multibyte = prefix.iter().filter(|&&b| b >= 0x80).count().max(1);
    if errors * 50 < multibyte {
        return Sniffed {
            encoding: UTF_8,
            bom_len: 0,
            binary: false,
            utf8_errors: true,
            mixed: false,
        };
    }
    let mut det = chardetng::EncodingDetector::new();
    det.feed(prefix, complete);
    let guess = det.guess(Some(b"jp"), true);
    if guess == SHIFT_JIS || guess == EUC_JP || guess == ISO_2022_JP {
        return text(guess, 0);
    }
    let sjis = decode_errors(SHIFT_JIS, prefix);
    let euc = decode_errors(EUC_JP, prefix);
    if euc < sjis {
        text(EUC_JP, 0)
    } else {
        text(SHIFT_JIS, 0)
    }
}

/// Whether the prefix has both lines in UTF-8 (with non-ASCII text) and lines in CP932, and every
/// line that is not valid UTF-8 is clean CP932: a file appended to by programs that disagree.
fn mixed_lines(prefix: &[u8], complete: bool) -> bool {
    let mut utf8 = 0usize;
    let mut cp932 = 0usize;
    let mut lines = prefix.split(|&b| b == b'\n').peekable();
    while let Some(line) = lines.next() {
        if lines.peek().is_none() && !complete {
            break; // possibly cut by the end of the prefix
        }
        if line.is_ascii() {
            continue;
        }
        if let Ok(t) = simdutf8::basic::from_utf8(line) {
            // Japanese in UTF-8 is three bytes a character; a short CP932 line of half-width
            // kana can pass for two-byte UTF-8 (ﾂｱ is C2 B1, "±"), which does not count.
            if t.chars()
                .any(|c| matches!(c, '\u{3000}'..='\u{9FFF}' | '\u{FF00}'..='\u{FFEF}'))
            {
                utf8 += 1;
            }
        } else if line_as_cp932(line).is_some() {
            cp932 += 1;
        } else {
            return false;
        }
    }
    utf8 > 0 && cp932 > 0
}

/// One line that is not valid UTF-8, decoded as CP932 when that is what it is: it decodes
/// without errors and most of its non-ASCII bytes are not valid UTF-8 (a UTF-8 line with one
/// damaged byte stays UTF-8 with a replacement character).
pub fn line_as_cp932(line: &[u8]) -> Option<String> {
    let text = SHIFT_JIS.decode_without_bom_handling_and_without_replacement(line)?;
    let lossy = String::from_utf8_lossy(line);
    let replaced = lossy.matches('\u{FFFD}').count();
    let valid_multibyte = lossy
        .chars()
        .filter(|&c| !c.is_ascii() && c != '\u{FFFD}')
        .count();
    (replaced > valid_multibyte).then(|| text.into_owned())
}

fn utf16_without_bom(p: &[u8]) -> Option<&'static Encoding> {
    let n = p.len().min(4096) & !1;
    if n < 8 {
        return None;
    }
    let even_zero = p[..n].iter().step_by(2).filter(|&&b| b == 0).count();
    let odd_zero = p[1..n].iter().step_by(2).filter(|&&b| b == 0).count();
    let half = n / 2;
    if odd_zero * 10 > half * 6 && even_zero * 10 < half {
        Some(UTF_16LE)
    } else if even_zero * 10 > half * 6 && odd_zero * 10 < half {
        Some(UTF_16BE)
    } else {
        None
    }
}

/// (valid, number of invalid sequences). A sequence cut by the end of an incomplete prefix is
/// not counted.
fn utf8_validity(mut p: &[u8], complete: bool) -> (bool, usize) {
    let mut errors = 0;
    loop {
        match std::str::from_utf8(p) {
            Ok(_) => return (errors == 0, errors),
            Err(e) => {
                if let Some(len) = e.error_len() {
                    errors += 1;
                    p = &p[e.valid_up_to() + len..];
                } else {
                    if complete {
                        errors += 1;
                    }
                    return (errors == 0, errors);
                }
            }
        }
    }
}

fn decode_errors(enc: &'static Encoding, p: &[u8]) -> usize {
    let (text, _) = enc.decode_without_bom_handling(p);
    text.matches('\u{FFFD}').count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_each_encoding() {
        let s = "氏名,電話\n山田太郎,090-1234-5678\n東京都新宿区西新宿二丁目８番１号の住所です。よろしくお願いします。\n";
        let (sjis, _, _) = SHIFT_JIS.encode(s);
        let (euc, _, _) = EUC_JP.encode(s);
        let (iso, _, _) = ISO_2022_JP.encode(s);
        assert_eq!(sniff(s.as_bytes(), true).name(), "UTF-8");
        assert_eq!(sniff(&sjis, true).name(), "Shift_JIS");
        assert_eq!(sniff(&euc, true).name(), "EUC-JP");
        assert_eq!(sniff(&iso, true).name(), "ISO-2022-JP");
        let mut bom = b"\xEF\xBB\xBF".to_vec();
        bom.extend_from_slice(s.as_bytes());
        assert_eq!(sniff(&bom, true).bom_len, 3);
        let le: Vec<u8> = "\u{FEFF}"
            .encode_utf16()
            .chain(s.encode_utf16())
            .flat_map(u16::to_le_bytes)
            .collect();
        let be: Vec<u8> = "\u{FEFF}"
            .encode_utf16()
            .chain(s.encode_utf16())
            .flat_map(u16::to_be_bytes)
            .collect();
        assert_eq!(sniff(&le, true).name(), "UTF-16LE");
        assert_eq!(sniff(&be, true).name(), "UTF-16BE");
        let mut ascii_le = vec![0xFF, 0xFE];
        ascii_le.extend(
            "phone 03-1234-5678"
                .encode_utf16()
                .flat_map(u16::to_le_bytes),
        );
        assert_eq!(sniff(&ascii_le[2..], true).name(), "UTF-16LE");
        assert!(sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", true).binary);
    }

    #[test]
    fn mixed_lines_need_japanese_in_the_utf8_ones() {
        let mut mixed = "山田太郎 taro@example.jp\n".as_bytes().to_vec();
        mixed.extend_from_slice(&SHIFT_JIS.encode("佐藤花子 hanako@example.jp\n").0);
        assert!(sniff(&mixed, true).mixed);
        assert_eq!(sniff(&mixed, true).name(), "UTF-8+Shift_JIS");
        // CP932 only, one line of half-width kana that is also valid UTF-8 (C2 B1 = "±").
        let mut sjis = SHIFT_JIS.encode("氏名：佐藤花子\n").0.into_owned();
        sjis.extend_from_slice(b"\xC2\xB1\n");
        assert!(std::str::from_utf8(b"\xC2\xB1").is_ok());
        let sn = sniff(&sjis, true);
        assert!(!sn.mixed);
        assert_eq!(sn.name(), "Shift_JIS");
    }

    #[test]
    fn damaged_utf8_is_reported_as_utf8_with_errors() {
        let mut s = "山田太郎の電話番号は090-1234-5678です。"
            .repeat(20)
            .into_bytes();
        s[30] = 0xFF;
        let sn = sniff(&s, true);
        assert_eq!(sn.name(), "UTF-8");
        assert!(sn.utf8_errors);
    }
}
