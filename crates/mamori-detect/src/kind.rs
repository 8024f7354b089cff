//! The kinds of personal data of pii-detection.md, their stable names and how each is masked.

use std::fmt;

/// One kind of personal data. The snake_case names are part of the `mamori scan` contract.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    PersonName,
    Address,
    PostalCode,
    Phone,
    Email,
    BirthDate,
    CreditCard,
    MyNumber,
    BankAccount,
    PassportNumber,
    DriversLicenseNumber,
}

impl Kind {
    pub const ALL: [Kind; 11] = [
        Kind::PersonName,
        Kind::Address,
        Kind::PostalCode,
        Kind::Phone,
        Kind::Email,
        Kind::BirthDate,
        Kind::CreditCard,
        Kind::MyNumber,
        Kind::BankAccount,
        Kind::PassportNumber,
        Kind::DriversLicenseNumber,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::PersonName => "person_name",
            Kind::Address => "address",
            Kind::PostalCode => "postal_code",
            Kind::Phone => "phone",
            Kind::Email => "email",
            Kind::BirthDate => "birth_date",
            Kind::CreditCard => "credit_card",
            Kind::MyNumber => "my_number",
            Kind::BankAccount => "bank_account",
            Kind::PassportNumber => "passport_number",
            Kind::DriversLicenseNumber => "drivers_license_number",
        }
    }

    pub fn parse(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// Index in [`Kind::ALL`], for per-kind counters.
    pub fn index(self) -> usize {
        self as usize
    }

    /// The value with most characters replaced by `*`, keeping separators and just enough to
    /// recognise it (the last four digits of a number, the domain of an e-mail address, the
    /// first character of a name, the prefecture and municipality of an address).
    pub fn mask(self, raw: &str) -> String {
        let mut out = Vec::with_capacity(raw.len());
        self.mask_into(raw, &mut out);
        // Only whole characters of `raw` and '*' are written, so this is always valid UTF-8.
        String::from_utf8(out)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
    }

    /// [`Kind::mask`] as UTF-8 bytes appended to `out`, without allocating when `out` has room:
    /// the writer of findings reuses one buffer for every finding and copies it into the output.
    pub fn mask_into(self, raw: &str, out: &mut Vec<u8>) {
        out.reserve(raw.len());
        match self {
            Kind::Email => mask_email(raw, out),
            Kind::PersonName => {
                mask_chars(raw, out, |n, c| n > 0 && !(is_space(c) || c == '・'));
            }
            Kind::Address => mask_address(raw, out),
            Kind::Phone => {
                // Keep the first group (the area or mobile prefix): 03-****-5678, 090-****-5678.
                let head = raw
                    .trim_start_matches('+')
                    .chars()
                    .take_while(|&c| is_alnum(c))
                    .count();
                mask_digits(raw, if (1..=5).contains(&head) { head } else { 3 }, 4, out);
            }
            Kind::PostalCode => mask_digits(raw, 3, 0, out),
            Kind::BirthDate => mask_chars(raw, out, |_, c| is_alnum(c)),
            _ => mask_digits(raw, 0, 4, out),
        }
    }
}

/// `char::is_whitespace`, answered without a table look-up for ASCII, kana and kanji (every
/// whitespace character is ASCII or lies in U+0085–U+3000).
#[inline]
fn is_space(c: char) -> bool {
    match c as u32 {
        0x09..=0x0D | 0x20 | 0x3000 => true,
        x if !(0x80..0x3000).contains(&x) => false,
        _ => c.is_whitespace(),
    }
}

/// Copies `raw` to `out`, writing '*' for each character that `star(index, character)` picks.
#[inline]
fn mask_chars(raw: &str, out: &mut Vec<u8>, mut star: impl FnMut(usize, char) -> bool) {
    let b = raw.as_bytes();
    for (n, (i, c)) in raw.char_indices().enumerate() {
        if star(n, c) {
            out.push(b'*');
        } else {
            push_char(out, b, i, c);
        }
    }
}

/// Appends the character `c` found at byte `i` of `b`, copying its bytes.
#[inline]
fn push_char(out: &mut Vec<u8>, b: &[u8], i: usize, c: char) {
    for &x in &b[i..i + c.len_utf8()] {
        out.push(x);
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A set of kinds, for `--kinds`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KindSet(u16);

impl KindSet {
    pub fn all() -> Self {
        KindSet((1 << Kind::ALL.len()) - 1)
    }
    pub fn empty() -> Self {
        KindSet(0)
    }
    pub fn insert(&mut self, kind: Kind) {
        self.0 |= 1 << kind.index();
    }
    pub fn contains(self, kind: Kind) -> bool {
        self.0 & (1 << kind.index()) != 0
    }
    /// Parses a comma-separated list of kind names; the error names the unknown kind.
    pub fn parse_list(list: &str) -> Result<Self, String> {
        let mut set = KindSet::empty();
        for name in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let kind = Kind::parse(name).ok_or_else(|| {
                let known: Vec<&str> = Kind::ALL.iter().map(|k| k.as_str()).collect();
                format!("unknown kind `{name}` (known: {})", known.join(", "))
            })?;
            set.insert(kind);
        }
        if set == KindSet::empty() {
            return Err("no kind given".to_owned());
        }
        Ok(set)
    }
}

impl Default for KindSet {
    fn default() -> Self {
        KindSet::all()
    }
}

fn is_alnum(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || ('\u{FF10}'..='\u{FF19}').contains(&c)
        || ('\u{FF21}'..='\u{FF3A}').contains(&c)
        || ('\u{FF41}'..='\u{FF5A}').contains(&c)
}

/// Keeps the first `keep_head` and the last `keep_tail` alphanumerics.
fn mask_digits(raw: &str, keep_head: usize, keep_tail: usize, out: &mut Vec<u8>) {
    if raw.is_ascii() {
        // The common case, byte by byte.
        let b = raw.as_bytes();
        let total = b.iter().filter(|c| c.is_ascii_alphanumeric()).count();
        let (head, tail) = if total <= keep_head + keep_tail {
            (0, total.min(2))
        } else {
            (keep_head, keep_tail)
        };
        let mut seen = 0;
        out.extend(b.iter().map(|&c| {
            if c.is_ascii_alphanumeric() {
                seen += 1;
                if seen > head && seen <= total - tail {
                    return b'*';
                }
            }
            c
        }));
        return;
    }
    let total = raw.chars().filter(|&c| is_alnum(c)).count();
    let (head, tail) = if total <= keep_head + keep_tail {
        (0, total.min(2))
    } else {
        (keep_head, keep_tail)
    };
    let mut seen = 0;
    mask_chars(raw, out, |_, c| {
        if is_alnum(c) {
            seen += 1;
            seen > head && seen <= total - tail
        } else {
            false
        }
    });
}

fn mask_email(raw: &str, out: &mut Vec<u8>) {
    let at = match memchr::memrchr(b'@', raw.as_bytes()) {
        Some(i) if raw.is_ascii() => Some(i),
        _ => raw.rfind(['@', '＠']),
    };
    match at {
        Some(at) => {
            let (local, domain) = raw.split_at(at);
            mask_chars(local, out, |n, _| n > 0);
            out.extend_from_slice(domain.as_bytes());
        }
        None => out.extend(std::iter::repeat_n(b'*', raw.chars().count())),
    }
}

fn mask_address(raw: &str, out: &mut Vec<u8>) {
    // Keep up to the first municipality marker (市区町村郡) within the first 12 characters.
    let keep = raw
        .char_indices()
        .take(12)
        .filter(|(_, c)| matches!(c, '市' | '区' | '町' | '村' | '郡'))
        .map(|(i, c)| i + c.len_utf8())
        .next()
        .unwrap_or(0);
    out.extend_from_slice(&raw.as_bytes()[..keep]);
    mask_chars(&raw[keep..], out, |_, c| {
        !(is_space(c) || matches!(c, '-' | '－' | '‐' | '−' | 'ー'))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_like_the_contract() {
        assert_eq!(Kind::Phone.mask("090-1234-5678"), "090-****-5678");
        assert_eq!(Kind::Phone.mask("03-1234-5678"), "03-****-5678");
        assert_eq!(
            Kind::CreditCard.mask("4111 1111 1111 1111"),
            "**** **** **** 1111"
        );
        assert_eq!(Kind::Email.mask("taro@example.co.jp"), "t***@example.co.jp");
        assert_eq!(Kind::PersonName.mask("山田 太郎"), "山* **");
        assert_eq!(
            Kind::Address.mask("東京都新宿区西新宿2-8-1"),
            "東京都新宿区****-*-*"
        );
        assert_eq!(
            Kind::PostalCode.mask("〒１６０－００２３"),
            "〒１６０－****"
        );
        assert_eq!(Kind::MyNumber.mask("123456789018"), "********9018");
    }

    #[test]
    fn kind_names_round_trip_and_lists_parse() {
        for k in Kind::ALL {
            assert_eq!(Kind::parse(k.as_str()), Some(k));
        }
        let set = KindSet::parse_list("phone, email").unwrap();
        assert!(set.contains(Kind::Phone) && set.contains(Kind::Email));
        assert!(!set.contains(Kind::Address));
        assert!(KindSet::parse_list("phone,telepathy")
            .unwrap_err()
            .contains("telepathy"));
    }
}
