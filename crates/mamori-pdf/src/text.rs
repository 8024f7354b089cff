//! Turning text into glyphs and glyphs into lines.
//!
//! - [`split_hard_lines`]: explicit line breaks (`\n`, `\r\n`, `\r`, U+2028 …).
//! - [`shape`]: one cluster per character (plus any variation selector), each with its glyph
//!   and advance. There is no OpenType shaping: Japanese needs none for horizontal text, and
//!   IPAex has no kerning worth applying to report text. Control characters become the
//!   replacement glyph (〓) with U+FFFD as their text; characters the font lacks are drawn as 〓
//!   but keep their own text, so copying and searching the PDF still find them.
//! - [`break_lines`]: greedy line breaking by width. Break opportunities are between any two
//!   CJK characters, after spaces, and between CJK and Latin; never inside a Latin word
//!   (except after a hyphen), nor against the 禁則 rules (no line starts with 、。）」ー… and none
//!   ends with （「…). A chunk with no opportunity wider than the line is broken at the
//!   character that overflows, so every line holds at least one cluster and breaking always
//!   terminates.

use std::ops::Range;

use unicode_normalization::char::compose;

use crate::font::FontMetrics;

/// How a cluster takes part in line breaking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A breakable blank: hangs at the end of a line and is dropped at the start of a wrapped one.
    Space,
    /// Ideographs, kana, full-width forms, CJK punctuation and symbols: breakable on both sides.
    Cjk,
    /// Latin letters, digits, ASCII punctuation and everything else: kept together as words.
    Other,
}

#[derive(Debug, Clone)]
pub(crate) struct Cluster {
    /// Bytes of [`Shaped::text`] this cluster stands for.
    pub(crate) text: Range<usize>,
    /// The glyph to draw, `None` for zero-width break hints (U+200B).
    pub(crate) glyph: Option<u32>,
    /// Advance in em.
    pub(crate) advance: f32,
    /// The base character, for the 禁則 rules.
    pub(crate) base: char,
    pub(crate) kind: Kind,
}

/// One hard line turned into clusters.
#[derive(Debug, Clone, Default)]
pub(crate) struct Shaped {
    /// The text the clusters index into: the input without invisible format characters, tabs
    /// as spaces and control characters as U+FFFD.
    pub(crate) text: String,
    pub(crate) clusters: Vec<Cluster>,
}

/// A line chosen by [`break_lines`]: clusters `start..end`, trailing blanks excluded.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Line {
    pub(crate) start: usize,
    pub(crate) end: usize,
    /// Natural width in em.
    pub(crate) width: f32,
    /// Ended by wrapping (not by the end of the text), so it may be justified.
    pub(crate) wrapped: bool,
}

/// Splits at explicit line breaks. An empty input is one empty line.
pub(crate) fn split_hard_lines(text: &str) -> Vec<&str> {
    let mut lines = Vec::new();
    let mut start = 0;
    let mut iter = text.char_indices().peekable();
    while let Some((i, c)) = iter.next() {
        let is_break = matches!(
            c,
            '\n' | '\r' | '\u{0B}' | '\u{0C}' | '\u{85}' | '\u{2028}' | '\u{2029}'
        );
        if is_break {
            lines.push(&text[start..i]);
            let mut next = i + c.len_utf8();
            if c == '\r' {
                if let Some(&(j, '\n')) = iter.peek() {
                    iter.next();
                    next = j + 1;
                }
            }
            start = next;
        }
    }
    lines.push(&text[start..]);
    lines
}

/// Variation selectors (standard and ideographic), attached to the character before them.
fn is_variation_selector(c: char) -> bool {
    matches!(c, '\u{FE00}'..='\u{FE0F}' | '\u{E0100}'..='\u{E01EF}')
}

/// Invisible format characters that are dropped (soft hyphen, joiners, directional marks,
/// BOM): drawing them would only put a box on the page.
fn is_dropped(c: char) -> bool {
    matches!(
        c,
        '\u{AD}'
            | '\u{200C}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{2069}'
            | '\u{FEFF}'
    )
}

/// Combining marks: never separated from the character before them.
fn is_combining(c: char) -> bool {
    matches!(
        c,
        '\u{0300}'..='\u{036F}' | '\u{20D0}'..='\u{20FF}' | '\u{3099}' | '\u{309A}'
    )
}

fn is_blank(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\u{2000}'..='\u{200A}' | '\u{205F}')
}

fn classify(c: char) -> Kind {
    if is_blank(c) {
        return Kind::Space;
    }
    let cjk = matches!(
        c,
        '\u{1100}'..='\u{11FF}'        // Hangul Jamo
        | '\u{2010}'..='\u{2027}'      // dashes, quotes, ‥ …, ※ lives just above
        | '\u{2030}'..='\u{203B}'      // ‰ ′ ″ ※
        | '\u{2100}'..='\u{27BF}'      // letterlike, numbers, arrows, math, boxes, ① … ■ ★ ✓
        | '\u{2E80}'..='\u{A4CF}'      // radicals, CJK punctuation, kana, CJK, Yi
        | '\u{A960}'..='\u{A97F}'
        | '\u{AC00}'..='\u{D7FF}'      // Hangul
        | '\u{F900}'..='\u{FAFF}'      // compatibility ideographs
        | '\u{FE10}'..='\u{FE1F}'
        | '\u{FE30}'..='\u{FE6F}'
        | '\u{FF00}'..='\u{FFEF}'      // full-width and half-width forms
        | '\u{1F000}'..='\u{1FAFF}'    // symbols and pictographs
        | '\u{20000}'..='\u{3FFFF}' // CJK extensions
    );
    if cjk {
        Kind::Cjk
    } else {
        Kind::Other
    }
}

/// 行頭禁則: characters that may not begin a line.
pub(crate) fn is_no_start(c: char) -> bool {
    matches!(
        c,
        '、' | '。' | '，' | '．' | '､' | '｡' | ',' | '.' | '：' | '；' | ':' | ';'
            | '！' | '？' | '!' | '?' | '‼' | '⁇' | '⁈' | '⁉'
            | '）' | '」' | '』' | '】' | '〕' | '］' | '｝' | '〉' | '》' | '〙' | '〗' | '｣'
            | ')' | ']' | '}' | '’' | '”' | '〟' | '»'
            | 'ー' | 'ｰ' | '〜' | '～' | '・' | '･' | '…' | '‥' | '゠' | '〳' | '〴' | '〵'
            | 'ゝ' | 'ゞ' | 'ヽ' | 'ヾ' | '々' | '〻' | '〱' | '〲' | '゛' | '゜' | 'ﾞ' | 'ﾟ'
            | 'ぁ' | 'ぃ' | 'ぅ' | 'ぇ' | 'ぉ' | 'っ' | 'ゃ' | 'ゅ' | 'ょ' | 'ゎ' | 'ゕ' | 'ゖ'
            | 'ァ' | 'ィ' | 'ゥ' | 'ェ' | 'ォ' | 'ッ' | 'ャ' | 'ュ' | 'ョ' | 'ヮ' | 'ヵ' | 'ヶ'
            | 'ㇰ'..='ㇿ'
            | 'ｧ'..='ｯ'
            | '％' | '%' | '‰' | '℃' | '°' | '′' | '″' | '¢' | '￠'
    )
}

/// 行末禁則: characters that may not end a line.
pub(crate) fn is_no_end(c: char) -> bool {
    matches!(
        c,
        '（' | '「'
            | '『'
            | '【'
            | '〔'
            | '［'
            | '｛'
            | '〈'
            | '《'
            | '〘'
            | '〖'
            | '｢'
            | '('
            | '['
            | '{'
            | '‘'
            | '“'
            | '〝'
            | '«'
            | '￥'
            | '¥'
            | '＄'
            | '$'
            | '£'
            | '￡'
            | '€'
            | '＃'
            | '#'
            | '№'
    )
}

/// Characters that are not split when doubled (……, ――).
fn is_inseparable(c: char) -> bool {
    matches!(c, '…' | '‥' | '―' | '—' | '─')
}

/// Clusters for one hard line (no line breaks inside).
pub(crate) fn shape(line: &str, m: &FontMetrics) -> Shaped {
    let mut out = Shaped {
        text: String::with_capacity(line.len()),
        clusters: Vec::with_capacity(line.chars().count()),
    };
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if is_dropped(c) || is_variation_selector(c) {
            // A selector with no base before it (or after a dropped one) is dropped too.
            continue;
        }
        let start = out.text.len();
        let cluster = if c == '\u{200B}' {
            // Zero-width space: a break opportunity with nothing to draw.
            Cluster {
                text: start..start,
                glyph: None,
                advance: 0.0,
                base: c,
                kind: Kind::Space,
            }
        } else if c == '\t' {
            out.text.push(' ');
            Cluster {
                text: start..out.text.len(),
                glyph: Some(m.space.id),
                advance: m.space.advance,
                base: ' ',
                kind: Kind::Space,
            }
        } else if c.is_control() {
            out.text.push('\u{FFFD}');
            Cluster {
                text: start..out.text.len(),
                glyph: Some(m.replacement.id),
                advance: m.replacement.advance,
                base: '\u{FFFD}',
                kind: Kind::Cjk,
            }
        } else {
            // か + U+3099 → が, e + U+0301 → é: the font has no mark positioning worth using,
            // but it has the precomposed characters. Pairwise composition only — full NFC
            // would also replace compatibility ideographs (神 U+FA19 → 神 U+795E), and names
            // must keep the form they were written in.
            let mut c = c;
            while let Some(&n) = chars.peek() {
                match compose(c, n) {
                    Some(composed) if is_combining(n) && m.glyph(composed).is_some() => {
                        c = composed;
                        chars.next();
                    }
                    _ => break,
                }
            }
            out.text.push(c);
            let mut selector = None;
            while let Some(&n) = chars.peek() {
                if !is_variation_selector(n) {
                    break;
                }
                selector.get_or_insert(n);
                out.text.push(n);
                chars.next();
            }
            let kind = classify(c);
            let found = match selector {
                Some(s) => m.glyph_variant(c, s),
                None => m.glyph(c),
            };
            let g = found.unwrap_or_else(|| {
                if kind == Kind::Space || c == '\u{A0}' {
                    m.space
                } else {
                    m.replacement
                }
            });
            Cluster {
                text: start..out.text.len(),
                glyph: Some(g.id),
                advance: g.advance,
                base: c,
                kind,
            }
        };
        out.clusters.push(cluster);
    }
    out
}

/// Whether a line may end between `clusters[i - 1]` and `clusters[i]`.
pub(crate) fn can_break_before(clusters: &[Cluster], i: usize) -> bool {
    if i == 0 || i >= clusters.len() {
        return false;
    }
    let prev = &clusters[i - 1];
    let cur = &clusters[i];
    if cur.kind == Kind::Space || is_combining(cur.base) {
        return false;
    }
    if is_no_start(cur.base) {
        return false;
    }
    if prev.kind == Kind::Space {
        return true;
    }
    if is_no_end(prev.base) {
        return false;
    }
    if prev.base == cur.base && is_inseparable(cur.base) {
        return false;
    }
    match (prev.kind, cur.kind) {
        (Kind::Other, Kind::Other) => {
            // Inside a word; a hyphen between letters ("well-known") is the one exception.
            // Not between digits: 03-1234-5678 and CVE-2026-12345 stay whole.
            prev.base == '-'
                && i >= 2
                && clusters[i - 2].base.is_alphabetic()
                && cur.base.is_alphabetic()
        }
        _ => true,
    }
}

/// Greedy line breaking at `max_width` em. Returns at least one line (an empty one for no
/// clusters); every line but possibly the last holds at least one cluster.
pub(crate) fn break_lines(clusters: &[Cluster], max_width: f32) -> Vec<Line> {
    let n = clusters.len();
    let mut lines = Vec::new();
    let mut start = 0;
    loop {
        let mut width = 0.0f32;
        let mut last_break: Option<usize> = None;
        let mut j = start;
        let mut broke_at = None;
        while j < n {
            if j > start && can_break_before(clusters, j) {
                last_break = Some(j);
            }
            let c = &clusters[j];
            let w = width + c.advance;
            // Blanks may hang past the edge; they are trimmed from the line.
            if w > max_width && j > start && c.kind != Kind::Space {
                broke_at = Some(last_break.unwrap_or(j));
                break;
            }
            width = w;
            j += 1;
        }
        match broke_at {
            None => {
                lines.push(trimmed(clusters, start, n, false));
                break;
            }
            Some(at) => {
                lines.push(trimmed(clusters, start, at, true));
                start = at;
                // A wrapped line does not start with the blanks it was broken at.
                while start < n && clusters[start].kind == Kind::Space {
                    start += 1;
                }
                if start >= n {
                    break;
                }
            }
        }
    }
    lines
}

fn trimmed(clusters: &[Cluster], start: usize, end: usize, wrapped: bool) -> Line {
    let mut end = end;
    while end > start && clusters[end - 1].kind == Kind::Space {
        end -= 1;
    }
    let width = clusters[start..end].iter().map(|c| c.advance).sum();
    Line {
        start,
        end,
        width,
        wrapped,
    }
}

/// Extra advance (em) after each cluster of a wrapped line so that it fills `max_width`
/// (両端揃え). The slack is shared by the break opportunities inside the line; a line with
/// too few of them for its slack (a Latin line with a few long words) is left ragged.
pub(crate) fn justification(clusters: &[Cluster], line: &Line, max_width: f32) -> Vec<f32> {
    let len = line.end - line.start;
    let mut extra = vec![0.0; len];
    let slack = max_width - line.width;
    if !line.wrapped || slack <= 0.0 || len < 2 {
        return extra;
    }
    let gaps: Vec<usize> = (line.start + 1..line.end)
        .filter(|&k| can_break_before(clusters, k))
        .collect();
    if gaps.is_empty() {
        return extra;
    }
    let per_gap = slack / gaps.len() as f32;
    if per_gap > 0.5 {
        return extra;
    }
    for k in gaps {
        extra[k - 1 - line.start] += per_gap;
    }
    extra
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::font::metrics;

    fn lines_of(text: &str, width_em: f32) -> Vec<String> {
        let m = metrics().unwrap();
        let shaped = shape(text, m);
        break_lines(&shaped.clusters, width_em)
            .iter()
            .map(|l| {
                if l.start == l.end {
                    return String::new();
                }
                let a = shaped.clusters[l.start].text.start;
                let b = shaped.clusters[l.end - 1].text.end;
                shaped.text[a..b].to_string()
            })
            .collect()
    }

    #[test]
    fn hard_lines() {
        assert_eq!(split_hard_lines(""), vec![""]);
        assert_eq!(split_hard_lines("a\nb"), vec!["a", "b"]);
        assert_eq!(split_hard_lines("a\r\nb\rc\n"), vec!["a", "b", "c", ""]);
        assert_eq!(split_hard_lines("a\u{2028}b"), vec!["a", "b"]);
    }

    #[test]
    fn cjk_breaks_anywhere() {
        let lines = lines_of("あいうえおかきくけこ", 4.0);
        assert_eq!(lines, vec!["あいうえ", "おかきく", "けこ"]);
    }

    #[test]
    fn no_line_starts_with_closing_punctuation() {
        // Without 禁則, "。" would start the second line.
        let lines = lines_of("あいうえ。かき", 4.0);
        assert_eq!(lines, vec!["あいう", "え。かき"]);
        for text in [
            "あいうえ、かき",
            "あいうえ）かき",
            "あいうえ」かき",
            "あいうえ』かき",
            "あいうえ】かき",
            "あいうえ〕かき",
            "あいうえ！かき",
            "あいうえ？かき",
            "あいうえーかき",
            "あいうえ・かき",
            "あいうえっかき",
            "あいうえャかき",
        ] {
            let lines = lines_of(text, 4.0);
            for line in &lines[1..] {
                let first = line.chars().next().unwrap();
                assert!(!is_no_start(first), "{text:?} → {lines:?}");
            }
            assert_eq!(lines.concat(), text);
        }
    }

    #[test]
    fn no_line_ends_with_opening_bracket() {
        for text in [
            "あいう（かき",
            "あいう「かき",
            "あいう『かき",
            "あいう【かき",
            "あいう〔かき",
        ] {
            let lines = lines_of(text, 4.0);
            assert_eq!(lines[0], "あいう", "{text:?} → {lines:?}");
            for line in &lines[..lines.len() - 1] {
                let last = line.chars().last().unwrap();
                assert!(!is_no_end(last), "{text:?} → {lines:?}");
            }
        }
    }

    #[test]
    fn consecutive_prohibited_characters_are_pushed_together() {
        // "」。" may not start a line either: two characters move down.
        let lines = lines_of("あいう「え」。かきくけ", 5.0);
        for line in &lines[1..] {
            assert!(!is_no_start(line.chars().next().unwrap()), "{lines:?}");
        }
        assert_eq!(lines.concat(), "あいう「え」。かきくけ");
    }

    #[test]
    fn latin_words_are_kept_and_spaces_trimmed() {
        let m = metrics().unwrap();
        let w = shape("personal data ", m)
            .clusters
            .iter()
            .map(|c| c.advance)
            .sum::<f32>();
        let lines = lines_of("personal data personal data", w);
        assert_eq!(lines, vec!["personal data", "personal data"]);
        // Mixed: Japanese may break next to a Latin word but not inside it.
        let lines = lines_of("あいうabcdefえお", 5.0);
        assert!(lines.iter().any(|l| l.contains("abcdef")), "{lines:?}");
        // Numbers with hyphens stay whole; hyphenated words may break after the hyphen.
        let lines = lines_of("電話03-1234-5678", 8.0);
        assert_eq!(lines, vec!["電話", "03-1234-5678"]);
        let lines = lines_of("well-known", 4.0);
        assert_eq!(lines[0], "well-");
    }

    #[test]
    fn unbreakable_latin_is_broken_by_force() {
        let long = "x".repeat(10_000);
        let lines = lines_of(&long, 10.0);
        assert!(lines.len() > 100);
        assert_eq!(lines.concat(), long);
        // Narrower than a single glyph: one glyph per line, still terminates.
        let lines = lines_of("abc", 0.01);
        assert_eq!(lines, vec!["a", "b", "c"]);
        // A long run of prohibited characters cannot satisfy 禁則; it must still terminate.
        let dashes = "ー".repeat(50);
        assert_eq!(lines_of(&dashes, 4.0).concat(), dashes);
        // Only blanks.
        assert_eq!(lines_of("     ", 1.0).concat(), "");
    }

    #[test]
    fn control_and_missing_characters_get_a_replacement() {
        let m = metrics().unwrap();
        let s = shape("a\u{0}b\u{7}\t\u{10FFFD}\u{FEFF}", m);
        let glyphs: Vec<_> = s.clusters.iter().map(|c| c.glyph).collect();
        assert_eq!(glyphs.len(), 6, "BOM dropped");
        assert_eq!(glyphs[1], Some(m.replacement.id));
        assert_eq!(glyphs[3], Some(m.replacement.id));
        assert_eq!(glyphs[4], Some(m.space.id));
        assert_eq!(glyphs[5], Some(m.replacement.id));
        // The missing character keeps its text; the control characters become U+FFFD.
        assert_eq!(s.text, "a\u{FFFD}b\u{FFFD} \u{10FFFD}");
    }

    #[test]
    fn combining_marks_are_composed_but_compatibility_ideographs_kept() {
        let m = metrics().unwrap();
        let s = shape("か\u{3099}は\u{309A}e\u{301}\u{FA19}", m);
        assert_eq!(s.text, "がぱé\u{FA19}");
        assert_eq!(s.clusters.len(), 4);
    }

    #[test]
    fn justification_fills_wrapped_lines_only() {
        let m = metrics().unwrap();
        let s = shape("あいうえ。かきく", m);
        let lines = break_lines(&s.clusters, 4.0);
        let first = justification(&s.clusters, &lines[0], 4.0);
        let total: f32 = lines[0].width + first.iter().sum::<f32>();
        assert!((total - 4.0).abs() < 1e-3, "{total}");
        let last = justification(&s.clusters, lines.last().unwrap(), 4.0);
        assert!(last.iter().all(|&e| e == 0.0));
    }
}
