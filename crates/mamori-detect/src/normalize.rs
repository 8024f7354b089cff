//! Normalisation for matching, never for reporting.
//!
//! Full-width ASCII (U+FF01–U+FF5E) becomes ASCII, the ideographic space a space, and the many
//! dash characters one `-` (the long-vowel mark ー only between digits, where it is a dash in an
//! address or phone number and not part of a katakana word). Every mapping is **one character to
//! one character**, so a character index in the normalised text is the same index in the
//! original: detectors match on the normalised text and findings are cut from the original.

use crate::bytescan;

/// Normalises `src` into `out` (cleared first). Returns false, leaving `out` empty, when nothing
/// needed to change, so callers can keep using `src`.
pub fn normalize_into(src: &str, out: &mut String) -> bool {
    out.clear();
    let bytes = src.as_bytes();
    // One vectorised pass decides for most lines and cells that nothing changes.
    if !may_change(bytes) {
        return false;
    }
    // Every character that maps starts with 0xEF or 0xE2, or is U+3000 (E3 80 80) or ー
    // (E3 83 BC). Japanese text is full of other E3 sequences, so look for those exactly.
    let Some(first) = first_mappable(bytes) else {
        return false;
    };
    let mut changed = false;
    out.reserve(src.len());
    // Copy unmapped stretches in bulk; only characters with an 0xEF/0xE2/0xE3 lead byte can map.
    let mut i = 0;
    let mut next = first;
    loop {
        out.push_str(&src[i..next]);
        if next >= bytes.len() {
            break;
        }
        let c = src[next..].chars().next().unwrap_or('\u{FFFD}');
        let len = c.len_utf8();
        let prev_digit = out.as_bytes().last().is_some_and(u8::is_ascii_digit);
        let mapped = match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '\u{3000}' => ' ',
            '\u{2010}'..='\u{2015}'
            | '\u{2212}'
            | '\u{FE63}'
            | '\u{FE58}'
            | '\u{FF70}'
            | '\u{2500}'
            | '\u{2501}' => '-',
            '\u{30FC}'
                if prev_digit && src[next + len..].chars().next().is_some_and(is_digitish) =>
            {
                '-'
            }
            _ => c,
        };
        if mapped != c {
            changed = true;
        }
        out.push(mapped);
        i = next + len;
        // Mappable characters come in runs (full-width digits, ０９０－１２３４): look at the
        // next bytes one by one before falling back to the SIMD searches, whose set-up costs
        // more than a short walk.
        next = scan_short(bytes, i, true)
            .unwrap_or_else(|at| next_mappable(bytes, at, true).unwrap_or(bytes.len()));
    }
    if !changed {
        out.clear();
    }
    changed
}

/// False when normalising `b` would change nothing, decided by one vectorised pass over the whole
/// line (most lines of prose), so that the byte walk below runs only on lines that may change.
/// Exact, not a heuristic: normalisation starts at the first character of the narrow set (see
/// [`first_mappable`]); when that set holds nothing but ー, what follows maps only if it is a
/// full-width ASCII character (the broad set, EF BC 81–8C) or a ー between two ASCII digits
/// (a full-width digit next to it would be in the narrow set).
///
/// One pass computes three flags: a character of the narrow set other than ー, or a ー between
/// two ASCII digits (bit 0: the line may change, stop); a ー (bit 1); a full-width ASCII
/// character of the broad set (bit 2). The line may change when bit 0 is set or bits 1 and 2.
#[allow(clippy::needless_bitwise_bool)] // branch-free, so that it vectorises (see bytescan)
fn may_change(b: &[u8]) -> bool {
    let flags = bytescan::flags5(b, 1, |p, q, r, y, z| {
        let narrow_but_choon = ((p == 0xEF)
            & (((q == 0xBC) & ((r == 0x8B) | (r >= 0x8D)))
                | ((q == 0xBD) & (r <= 0xB0))
                | ((q == 0xB9) & ((r == 0xA3) | (r == 0x98)))))
            | ((p == 0xE2)
                & (((q == 0x80) & (r.wrapping_sub(0x90) < 6))
                    | ((q == 0x88) & (r == 0x92))
                    | ((q == 0x94) & ((r == 0x80) | (r == 0x81)))))
            | ((p == 0xE3) & (q == 0x80) & (r == 0x80));
        let digit_choon_digit = p.is_ascii_digit() & is_choon(q, r, y) & z.is_ascii_digit();
        let choon = is_choon(p, q, r);
        let broad = (p == 0xEF) & (q == 0xBC) & (r.wrapping_sub(0x81) < 12);
        u8::from(narrow_but_choon | digit_choon_digit)
            | (u8::from(choon) << 1)
            | (u8::from(broad) << 2)
    });
    flags & 1 != 0 || flags & 6 == 6
}

/// ー (E3 83 BC).
#[allow(clippy::needless_bitwise_bool, clippy::inline_always)] // inlined into vector loops
#[inline(always)]
fn is_choon(p: u8, q: u8, r: u8) -> bool {
    (p == 0xE3) & (q == 0x83) & (r == 0xBC)
}

/// The first byte at or after `from` of a character whose mapping matters for matching:
/// full-width digits, letters and ASCII symbols from U+FF10 on (not the full-width punctuation
/// that fills ordinary Japanese prose, such as （ ） ： ！), the ideographic space, dashes, and ー.
/// Kana and kanji (lead byte E3–E9) are skipped by SIMD searches, never one by one.
fn first_mappable(b: &[u8]) -> Option<usize> {
    match scan_short(b, 0, false) {
        Ok(found) => (found < b.len()).then_some(found),
        Err(at) => next_mappable(b, at, false),
    }
}

/// How far [`scan_short`] walks byte by byte.
const SHORT: usize = 48;

/// Walks at most [`SHORT`] bytes from `from` looking for a mappable character (`broad` or the
/// narrow set of [`next_mappable`]). `Ok(i)`: one starts at `i`, or `i == b.len()` when there is
/// none; `Err(at)`: none before `at`, keep searching from there. Every mappable character starts
/// with 0xE2, 0xE3 or 0xEF, which are never continuation bytes, so a byte walk is exact.
fn scan_short(b: &[u8], from: usize, broad: bool) -> Result<usize, usize> {
    let end = b.len().min(from + SHORT);
    let mut i = from;
    while i < end {
        if b[i] >= 0xE2 && mappable_at(b, i, broad) {
            return Ok(i);
        }
        i += 1;
    }
    if end == b.len() {
        Ok(b.len())
    } else {
        Err(end)
    }
}

/// Whether a mappable character (broad or narrow set) starts at `i`.
fn mappable_at(b: &[u8], i: usize, broad: bool) -> bool {
    let (b0, b1, b2) = (
        b[i],
        b.get(i + 1).copied().unwrap_or(0),
        b.get(i + 2).copied().unwrap_or(0),
    );
    match b0 {
        0xEF => {
            (b1 == 0xBC && (b2 == 0x8B || (0x8D..=0xBF).contains(&b2) || (broad && b2 >= 0x81)))
                || (b1 == 0xBD && (0x80..=0xB0).contains(&b2))
                || (b1 == 0xB9 && matches!(b2, 0xA3 | 0x98))
        }
        0xE2 => {
            (b1 == 0x80 && (0x90..=0x95).contains(&b2))
                || (b1 == 0x88 && b2 == 0x92)
                || (b1 == 0x94 && matches!(b2, 0x80 | 0x81))
        }
        0xE3 => (b1 == 0x80 && b2 == 0x80) || (b1 == 0x83 && b2 == 0xBC),
        _ => false,
    }
}

/// `broad`: once a line is being normalised, every full-width ASCII character maps (the
/// parentheses of ０６（１２３４）５６７８ included); the narrow set only decides whether to start.
fn next_mappable(b: &[u8], from: usize, broad: bool) -> Option<usize> {
    let mut best = None;
    let mut at = from;
    while let Some(rel) = memchr::memchr2(0xEF, 0xE2, &b[at..]) {
        let i = at + rel;
        let (b1, b2) = (
            b.get(i + 1).copied().unwrap_or(0),
            b.get(i + 2).copied().unwrap_or(0),
        );
        let hit = if b[i] == 0xEF {
            (b1 == 0xBC && (b2 == 0x8B || (0x8D..=0xBF).contains(&b2) || (broad && b2 >= 0x81)))
                || (b1 == 0xBD && (0x80..=0xB0).contains(&b2))
                || (b1 == 0xB9 && matches!(b2, 0xA3 | 0x98))
        } else {
            (b1 == 0x80 && (0x90..=0x95).contains(&b2))
                || (b1 == 0x88 && b2 == 0x92)
                || (b1 == 0x94 && matches!(b2, 0x80 | 0x81))
        };
        if hit {
            best = Some(i);
            break;
        }
        at = i + 1;
    }
    let limit = best.unwrap_or(b.len());
    for f in [&*IDEOGRAPHIC_SPACE, &*CHOON] {
        if let Some(rel) = f.find(&b[from..limit]) {
            best = Some(best.map_or(from + rel, |x: usize| x.min(from + rel)));
        }
    }
    best
}

static IDEOGRAPHIC_SPACE: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
    std::sync::LazyLock::new(|| memchr::memmem::Finder::new("\u{3000}".as_bytes()));
static CHOON: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
    std::sync::LazyLock::new(|| memchr::memmem::Finder::new("ー".as_bytes()));

fn is_digitish(c: char) -> bool {
    c.is_ascii_digit() || ('\u{FF10}'..='\u{FF19}').contains(&c)
}

/// Convenience for tests and one-off callers.
pub fn normalize(src: &str) -> String {
    let mut out = String::new();
    if normalize_into(src, &mut out) {
        out
    } else {
        src.to_owned()
    }
}

/// The substring of `original` covering the same characters as `norm[start..end]`.
/// Both strings have the same number of characters by construction.
pub fn original_span<'a>(original: &'a str, norm: &str, start: usize, end: usize) -> &'a str {
    if std::ptr::eq(original, norm) {
        // Not normalised: the caller passed the same text twice.
        return &original[start..end];
    }
    if original.len() == norm.len() {
        // Unchanged or same-width mapping only: byte offsets coincide when the strings match
        // byte for byte, which is the common case; check it cheaply.
        if original.is_char_boundary(start)
            && original.is_char_boundary(end)
            && norm.as_bytes() == original.as_bytes()
        {
            return &original[start..end];
        }
    }
    let c0 = norm[..start].chars().count();
    let n = norm[start..end].chars().count();
    let mut it = original.char_indices().skip(c0);
    let Some((b0, _)) = it.next() else {
        return "";
    };
    let b1 = original[b0..]
        .char_indices()
        .nth(n)
        .map_or(original.len(), |(i, _)| b0 + i);
    &original[b0..b1]
}

/// Maps the spans of a line's hits, in increasing order, from the normalised text back to the
/// original, and gives each hit's character index (its column): each call walks on from the
/// previous hit, so all the hits of a line cost one walk over it, not one per hit.
pub struct SpanMap<'a> {
    original: &'a str,
    norm: &'a str,
    /// `norm` is `original` (the line needed no normalisation): byte offsets coincide.
    same: bool,
    /// The previous hit's start in `norm`, its character index, and its start in `original`.
    at: usize,
    chars: usize,
    orig_at: usize,
}

impl<'a> SpanMap<'a> {
    /// `norm` is `original` normalised (or `original` itself), with the same characters.
    pub fn new(original: &'a str, norm: &'a str) -> Self {
        SpanMap {
            original,
            norm,
            same: std::ptr::eq(original, norm),
            at: 0,
            chars: 0,
            orig_at: 0,
        }
    }

    /// The substring of the original covering the same characters as `norm[start..end]`, and
    /// the character index of `start`. A span that starts before the previous one walks again
    /// from the beginning.
    pub fn span(&mut self, start: usize, end: usize) -> (&'a str, usize) {
        if start < self.at {
            (self.at, self.chars, self.orig_at) = (0, 0, 0);
        }
        let k = self.norm[self.at..start].chars().count();
        self.chars += k;
        self.at = start;
        if self.same {
            return (&self.original[start..end], self.chars);
        }
        self.orig_at = skip_chars(self.original, self.orig_at, k);
        let n = self.norm[start..end].chars().count();
        let orig_end = skip_chars(self.original, self.orig_at, n);
        (&self.original[self.orig_at..orig_end], self.chars)
    }
}

/// The byte offset `n` characters after byte offset `i` of `s` (at most `s.len()`).
fn skip_chars(s: &str, mut i: usize, n: usize) -> usize {
    let b = s.as_bytes();
    for _ in 0..n {
        let Some(&lead) = b.get(i) else {
            break;
        };
        i += utf8_len(lead);
    }
    i.min(b.len())
}

/// The length of the UTF-8 character whose first byte is `b` (1 for a byte that starts none).
pub(crate) fn utf8_len(b: u8) -> usize {
    match b {
        0xC0..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xFF => 4,
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_full_width_and_dashes_one_to_one() {
        let src = "ＴＥＬ：０９０－１２３４‐５６７８　〒１６０ー００２３ ラーメン";
        let n = normalize(src);
        assert_eq!(n, "TEL:090-1234-5678 〒160-0023 ラーメン");
        assert_eq!(
            normalize("電話（代表）：０６（１２３４）５６７８"),
            "電話（代表）:06(1234)5678"
        );
        assert_eq!(n.chars().count(), src.chars().count());
        let start = n.find("090").unwrap();
        let end = n.find(" 〒").unwrap();
        assert_eq!(
            original_span(src, &n, start, end),
            "０９０－１２３４‐５６７８"
        );
    }

    #[test]
    fn mappable_characters_far_into_a_line_are_found() {
        // Past the byte-by-byte walk (SHORT bytes), the SIMD searches take over.
        let pad = "あ".repeat(40);
        let src = format!("{pad}電話０９０－１２３４－５６７８{pad}（代表）　山田");
        assert_eq!(
            normalize(&src),
            format!("{pad}電話090-1234-5678{pad}(代表) 山田")
        );
        let plain = format!("{pad}ラーメン{pad}");
        let mut out = String::new();
        assert!(!normalize_into(&plain, &mut out));
    }

    #[test]
    fn ascii_and_plain_japanese_are_left_alone() {
        let mut out = String::new();
        assert!(!normalize_into("plain ascii 03-1234-5678", &mut out));
        assert!(!normalize_into("山田太郎です", &mut out));
        assert!(out.is_empty());
        assert_eq!(
            original_span("山田太郎です", "山田太郎です", 0, 12),
            "山田太郎"
        );
    }

    #[test]
    fn span_map_walks_on_and_agrees_with_original_span() {
        let src = "氏名：山田　太郎 ＴＥＬ：０９０－１２３４－５６７８ 〒１６０ー００２３ mail a@b.jp ラーメン";
        let n = normalize(src);
        assert_ne!(n, src);
        // Every span that starts and ends on a character boundary, in increasing order and
        // then again from the start (a hit before the previous one walks from the beginning).
        let bounds: Vec<usize> = n.char_indices().map(|(i, _)| i).chain([n.len()]).collect();
        for step in [1, 2, 3, 5] {
            let mut map = SpanMap::new(src, &n);
            for round in 0..2 {
                for (k, w) in bounds.windows(2).enumerate().step_by(step) {
                    let (start, end) = (w[0], bounds[(k + 1 + round).min(bounds.len() - 1)]);
                    let (value, chars) = map.span(start, end);
                    assert_eq!(value, original_span(src, &n, start, end), "{start}..{end}");
                    assert_eq!(chars, n[..start].chars().count());
                }
            }
            // Unnormalised text maps to itself.
            let mut same = SpanMap::new(src, src);
            assert_eq!(same.span(9, 15), (&src[9..15], 3));
        }
    }
}
