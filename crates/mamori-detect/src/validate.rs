//! Pure validators: check digits, card brands, the Japanese numbering plan, prefectures and
//! 和暦 dates. Total functions on any input (fuzzed through the readers).

/// Luhn over ASCII digits.
pub fn luhn(digits: &[u8]) -> bool {
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let mut sum = 0u32;
    for (i, &d) in digits.iter().rev().enumerate() {
        let mut v = u32::from(d - b'0');
        if i % 2 == 1 {
            v *= 2;
            if v > 9 {
                v -= 9;
            }
        }
        sum += v;
    }
    sum.is_multiple_of(10)
}

/// The card brand of a number by its prefix and length (Visa, Mastercard, JCB, Amex, Diners).
pub fn card_brand(d: &[u8]) -> Option<&'static str> {
    let n = d.len();
    let p = |k: usize| -> u32 {
        d.iter()
            .take(k)
            .fold(0, |a, &c| a * 10 + u32::from(c - b'0'))
    };
    if !(13..=19).contains(&n) {
        return None;
    }
    if d[0] == b'4' && matches!(n, 13 | 16 | 19) {
        return Some("visa");
    }
    if n == 16 && ((51..=55).contains(&p(2)) || (2221..=2720).contains(&p(4))) {
        return Some("mastercard");
    }
    if (16..=19).contains(&n) && (3528..=3589).contains(&p(4)) {
        return Some("jcb");
    }
    if n == 15 && matches!(p(2), 34 | 37) {
        return Some("amex");
    }
    if (14..=19).contains(&n) && ((300..=305).contains(&p(3)) || matches!(p(2), 36 | 38 | 39)) {
        return Some("diners");
    }
    None
}

/// My Number (個人番号) check digit, appi.md §8.
pub fn my_number_valid(d: &[u8]) -> bool {
    if d.len() != 12 || !d.iter().all(u8::is_ascii_digit) {
        return false;
    }
    const W: [u32; 11] = [6, 5, 4, 3, 2, 7, 6, 5, 4, 3, 2];
    let sum: u32 = d[..11]
        .iter()
        .zip(W)
        .map(|(&c, w)| u32::from(c - b'0') * w)
        .sum();
    let r = sum % 11;
    let check = if r <= 1 { 0 } else { 11 - r };
    u32::from(d[11] - b'0') == check
}

/// Corporate number (法人番号) check digit, appi.md §8: 13 digits, the first is the check digit.
pub fn corporate_number_valid(d: &[u8]) -> bool {
    if d.len() != 13 || !d.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let sum: u32 = d[1..]
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &c)| u32::from(c - b'0') * if i % 2 == 0 { 1 } else { 2 })
        .sum();
    u32::from(d[0] - b'0') == 9 - sum % 9
}

/// EAN-13 / JAN / ISBN-13 check digit.
pub fn ean13_valid(d: &[u8]) -> bool {
    if d.len() != 13 || !d.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let sum: u32 = d[..12]
        .iter()
        .enumerate()
        .map(|(i, &c)| u32::from(c - b'0') * if i % 2 == 0 { 1 } else { 3 })
        .sum();
    u32::from(d[12] - b'0') == (10 - sum % 10) % 10
}

/// Whether `d` (digits only, domestic form with the leading 0) is a plausible Japanese
/// subscriber number: mobile/PHS/IP (070 080 090 050 060, 11 digits), free dial (0120 10,
/// 0800 11), navi dial (0570, 10) or a fixed line (0 + area code not starting with 0, 10 digits).
pub fn phone_plan_valid(d: &[u8]) -> bool {
    if d.len() < 10 || d[0] != b'0' || !d.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let head3 = &d[..3];
    match d.len() {
        11 => matches!(head3, b"070" | b"080" | b"090" | b"050" | b"060") || d.starts_with(b"0800"),
        10 => {
            if d.starts_with(b"0120") || d.starts_with(b"0570") {
                return true;
            }
            d[1] != b'0'
                && !matches!(head3, b"070" | b"080" | b"090" | b"050" | b"060" | b"020")
                && !d.starts_with(b"0990")
        }
        _ => false,
    }
}

/// Whether the number is a mobile/IP number (which needs no context even without separators).
pub fn is_mobile(d: &[u8]) -> bool {
    d.len() == 11 && matches!(&d[..3], b"070" | b"080" | b"090")
}

pub const PREFECTURES: [&str; 47] = [
    "北海道",
    "青森県",
    "岩手県",
    "宮城県",
    "秋田県",
    "山形県",
    "福島県",
    "茨城県",
    "栃木県",
    "群馬県",
    "埼玉県",
    "千葉県",
    "東京都",
    "神奈川県",
    "新潟県",
    "富山県",
    "石川県",
    "福井県",
    "山梨県",
    "長野県",
    "岐阜県",
    "静岡県",
    "愛知県",
    "三重県",
    "滋賀県",
    "京都府",
    "大阪府",
    "兵庫県",
    "奈良県",
    "和歌山県",
    "鳥取県",
    "島根県",
    "岡山県",
    "広島県",
    "山口県",
    "徳島県",
    "香川県",
    "愛媛県",
    "高知県",
    "福岡県",
    "佐賀県",
    "長崎県",
    "熊本県",
    "大分県",
    "宮崎県",
    "鹿児島県",
    "沖縄県",
];

/// 和暦 eras: name, abbreviation, first Gregorian year, last year of the era (inclusive).
const ERAS: [(&str, char, i32, i32); 5] = [
    ("明治", 'M', 1868, 45),
    ("大正", 'T', 1912, 15),
    ("昭和", 'S', 1926, 64),
    ("平成", 'H', 1989, 31),
    ("令和", 'R', 2019, 99),
];

/// Gregorian year of `era_year` in the era named (or abbreviated) `era`.
pub fn wareki_to_year(era: &str, era_year: i32) -> Option<i32> {
    let (_, _, first, last) = ERAS.iter().find(|(name, abbr, _, _)| {
        *name == era
            || (era.len() == 1
                && era
                    .chars()
                    .next()
                    .is_some_and(|c| c.eq_ignore_ascii_case(abbr)))
    })?;
    (1..=*last)
        .contains(&era_year)
        .then(|| first + era_year - 1)
}

pub const ERA_NAMES: [&str; 5] = ["明治", "大正", "昭和", "平成", "令和"];

/// A real calendar date in a plausible range for a living person's birth date.
pub fn plausible_birth_date(y: i32, m: u32, d: u32) -> bool {
    if !(1890..=2030).contains(&y) || !(1..=12).contains(&m) || d == 0 {
        return false;
    }
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    d <= days
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_digits_from_appi_section_8() {
        for ok in ["123456789018", "400000000050", "110000000000"] {
            assert!(my_number_valid(ok.as_bytes()), "{ok}");
        }
        assert!(!my_number_valid(b"123456789010"));
        assert!(!my_number_valid(b"12345678901"));
        assert!(corporate_number_valid(b"7000012050002"));
        assert!(!corporate_number_valid(b"8000012050002"));
    }

    #[test]
    fn cards_need_luhn_and_a_brand() {
        assert!(luhn(b"4111111111111111") && card_brand(b"4111111111111111") == Some("visa"));
        assert_eq!(card_brand(b"3528000000000007"), Some("jcb"));
        assert!(luhn(b"3528000000000007"));
        assert_eq!(card_brand(b"378282246310005"), Some("amex"));
        assert_eq!(card_brand(b"30569309025904"), Some("diners"));
        assert_eq!(card_brand(b"5555555555554444"), Some("mastercard"));
        assert!(!luhn(b"4111111111111112"));
        assert_eq!(card_brand(b"9111111111111111"), None);
        assert!(ean13_valid(b"4901234567894"));
        assert!(ean13_valid(b"9784061592230"));
    }

    #[test]
    fn numbering_plan() {
        for ok in [
            "09012345678",
            "0312345678",
            "0663001234",
            "0120123456",
            "05012345678",
            "0466123456",
        ] {
            assert!(phone_plan_valid(ok.as_bytes()), "{ok}");
        }
        for bad in [
            "9012345678",
            "0012345678",
            "090123456",
            "031234567890",
            "0901234567",
        ] {
            assert!(!phone_plan_valid(bad.as_bytes()), "{bad}");
        }
    }

    #[test]
    fn wareki_and_dates() {
        assert_eq!(wareki_to_year("昭和", 60), Some(1985));
        assert_eq!(wareki_to_year("平成", 1), Some(1989));
        assert_eq!(wareki_to_year("S", 60), Some(1985));
        assert_eq!(wareki_to_year("平成", 32), None);
        assert_eq!(wareki_to_year("西暦", 1), None);
        assert!(plausible_birth_date(2000, 2, 29));
        assert!(!plausible_birth_date(1900, 2, 29));
        assert!(!plausible_birth_date(1985, 13, 1));
        assert_eq!(PREFECTURES.len(), 47);
    }
}
