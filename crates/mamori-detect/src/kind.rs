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
        match self {
            Kind::Email => mask_email(raw),
            Kind::PersonName => {
                let mut out = String::with_capacity(raw.len());
                for (i, c) in raw.chars().enumerate() {
                    out.push(if i == 0 || c.is_whitespace() || c == '・' {
                        c
                    } else {
                        '*'
                    });
                }
                out
            }
            Kind::Address => mask_address(raw),
            Kind::Phone => {
                // Keep the first group (the area or mobile prefix): 03-****-5678, 090-****-5678.
                let head = raw
                    .trim_start_matches('+')
                    .chars()
                    .take_while(|&c| is_alnum(c))
                    .count();
                mask_digits(raw, if (1..=5).contains(&head) { head } else { 3 }, 4)
            }
            Kind::PostalCode => mask_digits(raw, 3, 0),
            Kind::BirthDate => raw
                .chars()
                .map(|c| if is_alnum(c) { '*' } else { c })
                .collect(),
            _ => mask_digits(raw, 0, 4),
        }
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
fn mask_digits(raw: &str, keep_head: usize, keep_tail: usize) -> String {
    if raw.is_ascii() {
        // The common case, byte by byte.
        let total = raw.bytes().filter(u8::is_ascii_alphanumeric).count();
        let (head, tail) = if total <= keep_head + keep_tail {
            (0, total.min(2))
        } else {
            (keep_head, keep_tail)
        };
        let mut seen = 0;
        let bytes: Vec<u8> = raw
            .bytes()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    seen += 1;
                    if seen <= head || seen > total - tail {
                        return c;
                    }
                    return b'*';
                }
                c
            })
            .collect();
        return String::from_utf8(bytes).unwrap_or_default();
    }
    let total = raw.chars().filter(|&c| is_alnum(c)).count();
    let (head, tail) = if total <= keep_head + keep_tail {
        (0, total.min(2))
    } else {
        (keep_head, keep_tail)
    };
    let mut seen = 0;
    let mut out = String::with_capacity(raw.len());
    for c in raw.chars() {
        if is_alnum(c) {
            seen += 1;
            out.push(if seen <= head || seen > total - tail {
                c
            } else {
                '*'
            });
        } else {
            out.push(c);
        }
    }
    out
}

fn mask_email(raw: &str) -> String {
    match raw.rfind(['@', '＠']) {
        Some(at) => {
            let (local, domain) = raw.split_at(at);
            let mut out = String::with_capacity(raw.len());
            for (i, c) in local.chars().enumerate() {
                out.push(if i == 0 { c } else { '*' });
            }
            out.push_str(domain);
            out
        }
        None => "*".repeat(raw.chars().count()),
    }
}

fn mask_address(raw: &str) -> String {
    // Keep up to the first municipality marker (市区町村郡) within the first 12 characters.
    let keep = raw
        .char_indices()
        .take(12)
        .filter(|(_, c)| matches!(c, '市' | '区' | '町' | '村' | '郡'))
        .map(|(i, c)| i + c.len_utf8())
        .next()
        .unwrap_or(0);
    let mut out = String::with_capacity(raw.len());
    out.push_str(&raw[..keep]);
    for c in raw[keep..].chars() {
        out.push(
            if c.is_whitespace() || matches!(c, '-' | '－' | '‐' | '−' | 'ー') {
                c
            } else {
                '*'
            },
        );
    }
    out
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
