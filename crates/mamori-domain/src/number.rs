//! Whole numbers as people in Japan type them: with an IME (「３００」), with separators
//! (「1,250」「1，250」), with a counter word or an approximation (「約300人」「300件程度」), or in
//! kanji (「千五百」「3万2千」「1.5万」). Every form that asks for a count reads it through
//! [`parse_count`], so that a field never refuses what an IME produced.
//!
//! What it does not guess: a range or a bound (「300〜400」「1000人以上」「千人超」) is refused,
//! because the APPI's thresholds (more than 1,000 persons) depend on which end is meant; the
//! message asks for one number.

use crate::vault::normalize::nfkc;

/// Why a text is not a count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NumberError {
    #[error("not a whole number")]
    NotANumber,
    #[error("a negative number")]
    Negative,
    #[error("a range or a bound, not one number")]
    Range,
    #[error("too large")]
    TooLarge,
}

impl NumberError {
    /// The reason in Japanese, to follow 「本人の数「…」は」 and the like.
    pub fn ja(self) -> &'static str {
        match self {
            NumberError::NotANumber => "数として読めません（例: 300、３００、約300人、1,250、千五百、1.5万）",
            NumberError::Negative => "負の数は入力できません",
            NumberError::Range => {
                "範囲や「以上」「超」ではなく、一つの数で入力してください（分からなければ概数で、例: 約300）"
            }
            NumberError::TooLarge => "大きすぎます",
        }
    }

    /// The reason in English.
    pub fn en(self) -> &'static str {
        match self {
            NumberError::NotANumber => {
                "is not a number (e.g. 300, ３００, 約300人, 1,250, 千五百, 1.5万)"
            }
            NumberError::Negative => "must not be negative",
            NumberError::Range => {
                "must be one number, not a range or a bound (an estimate is fine, e.g. 約300)"
            }
            NumberError::TooLarge => "is too large",
        }
    }
}

/// Words before a number that mean "about" (kept as the number).
const APPROX_BEFORE: [&str; 5] = ["約", "およそ", "凡そ", "概ね", "推定"];
/// Counter words and approximations after a number.
const AFTER: [&str; 13] = [
    "人分",
    "件分",
    "名分",
    "人",
    "名",
    "件",
    "程度",
    "前後",
    "くらい",
    "ぐらい",
    "ほど",
    "位",
    "強",
];
/// Words that make a bound or a range.
const BOUNDS: [&str; 9] = [
    "以上",
    "以下",
    "未満",
    "超",
    "余り",
    "あまり",
    "〜",
    "~",
    "から",
];

/// Reads a count: empty (or 不明) is `None`; otherwise one non-negative whole number.
pub fn parse_count(s: &str) -> Result<Option<u64>, NumberError> {
    let t = nfkc(s.trim());
    let mut t: String = t
        .chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, ',' | '、' | '_'))
        .collect();
    if t.is_empty() || t == "不明" {
        return Ok(None);
    }
    if BOUNDS.iter().any(|b| t.contains(b)) || t.chars().skip(1).any(|c| c == '-') {
        return Err(NumberError::Range);
    }
    if t.starts_with('-') || t.starts_with('−') || t.starts_with("マイナス") {
        return Err(NumberError::Negative);
    }
    let mut changed = true;
    while changed {
        changed = false;
        for w in APPROX_BEFORE {
            if let Some(rest) = t.strip_prefix(w) {
                t = rest.to_owned();
                changed = true;
            }
        }
        for w in AFTER {
            if let Some(rest) = t.strip_suffix(w) {
                t = rest.to_owned();
                changed = true;
            }
        }
    }
    if t.is_empty() {
        return Err(NumberError::NotANumber);
    }
    if t.bytes().all(|b| b.is_ascii_digit()) {
        return t.parse().map(Some).map_err(|_| NumberError::TooLarge);
    }
    kanji_number(&t).map(Some)
}

/// One whole number as [`parse_count`] reads it, or `None` when the text is empty or not one
/// number — for fields whose own message names the range they accept.
pub fn parse_whole(s: &str) -> Option<u64> {
    parse_count(s).ok().flatten()
}

fn digit(c: char) -> Option<u64> {
    match c {
        '0'..='9' => Some(u64::from(c as u8 - b'0')),
        '〇' | '零' => Some(0),
        '一' | '壱' => Some(1),
        '二' | '弐' => Some(2),
        '三' | '参' => Some(3),
        '四' => Some(4),
        '五' => Some(5),
        '六' => Some(6),
        '七' => Some(7),
        '八' => Some(8),
        '九' => Some(9),
        _ => None,
    }
}

fn small_unit(c: char) -> Option<u64> {
    match c {
        '十' | '拾' => Some(10),
        '百' => Some(100),
        '千' | '阡' => Some(1_000),
        _ => None,
    }
}

fn big_unit(c: char) -> Option<u64> {
    match c {
        '万' | '萬' => Some(10_000),
        '億' => Some(100_000_000),
        '兆' => Some(1_000_000_000_000),
        _ => None,
    }
}

/// A number written with kanji digits and units, Arabic digits mixed in (3万2千), and a decimal
/// before a unit (1.5万). Positional kanji (二〇二六) reads as digits.
fn kanji_number(t: &str) -> Result<u64, NumberError> {
    // The number being read, as an integer scaled by 10^scale when it had a decimal point.
    let (mut cur, mut scale, mut have, mut point) = (0u128, 0u32, false, false);
    let (mut section, mut total) = (0u128, 0u128);
    let mut last_big = u128::MAX;
    let apply = |cur: u128, scale: u32, unit: u128| -> Result<u128, NumberError> {
        let v = cur.checked_mul(unit).ok_or(NumberError::TooLarge)?;
        let d = 10u128.pow(scale);
        if v % d != 0 {
            return Err(NumberError::NotANumber);
        }
        Ok(v / d)
    };
    for c in t.chars() {
        if let Some(d) = digit(c) {
            cur = cur
                .checked_mul(10)
                .and_then(|v| v.checked_add(u128::from(d)))
                .ok_or(NumberError::TooLarge)?;
            if point {
                scale += 1;
            }
            have = true;
        } else if c == '.' && have && !point {
            point = true;
        } else if let Some(u) = small_unit(c) {
            let n = if have { cur } else { 1 };
            section += apply(n, scale, u128::from(u))?;
            (cur, scale, have, point) = (0, 0, false, false);
        } else if let Some(u) = big_unit(c) {
            let u = u128::from(u);
            if u >= last_big {
                return Err(NumberError::NotANumber);
            }
            last_big = u;
            if !have && section == 0 {
                return Err(NumberError::NotANumber);
            }
            // 1.5万 is 15 × 10,000 / 10; 3千2百万 is (3,000 + 200) × 10,000.
            let part = apply(cur, scale, u)?;
            let n = section
                .checked_mul(u)
                .and_then(|v| v.checked_add(part))
                .ok_or(NumberError::TooLarge)?;
            total = total.checked_add(n).ok_or(NumberError::TooLarge)?;
            (section, cur, scale, have, point) = (0, 0, 0, false, false);
        } else {
            return Err(NumberError::NotANumber);
        }
    }
    if point {
        return Err(NumberError::NotANumber);
    }
    let n = total + section + cur;
    u64::try_from(n).map_err(|_| NumberError::TooLarge)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_people_type_is_read() {
        for (s, n) in [
            ("300", 300),
            ("３００", 300),
            (" ３００ ", 300),
            ("約300人", 300),
            ("約３００人", 300),
            ("およそ 1,250 名", 1250),
            ("1，250", 1250),
            ("1 250", 1250),
            ("300件程度", 300),
            ("300人前後", 300),
            ("千五百", 1500),
            ("千", 1000),
            ("十", 10),
            ("二十一", 21),
            ("三百五", 305),
            ("3万2千", 32_000),
            ("1.5万", 15_000),
            ("1.5万人", 15_000),
            ("1万", 10_000),
            ("一万二千三百四十五", 12_345),
            ("2億", 200_000_000),
            ("1.23万", 12_300),
            ("3千2百万", 32_000_000),
            ("二〇二六", 2026),
            ("1000", 1000),
            ("1001", 1001),
            ("0", 0),
        ] {
            assert_eq!(parse_count(s), Ok(Some(n)), "{s}");
        }
    }

    #[test]
    fn empty_and_unknown_are_none() {
        for s in ["", "  ", "不明", "　"] {
            assert_eq!(parse_count(s), Ok(None), "{s:?}");
        }
    }

    #[test]
    fn what_is_not_one_number_is_named() {
        for s in [
            "たくさん",
            "abc",
            "3.5",
            "1.23456万",
            "人",
            "約",
            "万",
            "3万万",
        ] {
            assert_eq!(parse_count(s), Err(NumberError::NotANumber), "{s}");
        }
        for s in [
            "1000人以上",
            "千人超",
            "300〜400",
            "300~400",
            "300～400",
            "100人未満",
            "1000人余り",
            "100-200",
        ] {
            assert_eq!(parse_count(s), Err(NumberError::Range), "{s}");
        }
        for s in ["-5", "－５", "マイナス3"] {
            assert_eq!(parse_count(s), Err(NumberError::Negative), "{s}");
        }
        assert_eq!(
            parse_count("99999999999999999999999"),
            Err(NumberError::TooLarge)
        );
    }
}
