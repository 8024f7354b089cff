//! Normal forms of the values the blind indexes are computed over, so that the same person is
//! found however the value was typed: `Taro@Example.JP ` and `taro@example.jp`, `090-1234-5678`
//! and `+81 90 1234 5678`, `ヤマダ タロウ` and `やまだたろう`, `昭和60年1月2日` and `1985-01-02`.

use unicode_normalization::UnicodeNormalization;

/// NFKC: full-width ASCII and digits to half-width, half-width katakana to full-width. Text
/// that is already in NFKC (most of it) is returned as it is, without normalising it again.
pub fn nfkc(s: &str) -> String {
    if unicode_normalization::is_nfkc_quick(s.chars()) == unicode_normalization::IsNormalized::Yes {
        return s.to_owned();
    }
    s.nfkc().collect()
}

/// E-mail: NFKC, trimmed, lower-cased (the local part too: Japanese providers treat it so).
pub fn email(s: &str) -> String {
    nfkc(s.trim()).trim().to_lowercase()
}

/// Phone: the digits only, `+81` (or `81` with 11–12 digits) to a leading 0. `None` if the
/// result is not 10 or 11 digits starting with 0.
pub fn phone(s: &str) -> Option<String> {
    let n = nfkc(s);
    let plus = n.trim_start().starts_with('+');
    let mut digits: String = n.chars().filter(char::is_ascii_digit).collect();
    if plus || (digits.starts_with("81") && (11..=12).contains(&digits.len())) {
        let rest = digits.strip_prefix("81")?;
        let rest = rest.strip_prefix('0').unwrap_or(rest);
        digits = format!("0{rest}");
    }
    ((10..=11).contains(&digits.len()) && digits.starts_with('0')).then_some(digits)
}

/// Name: NFKC, no spaces or middle dots, katakana folded to hiragana, Latin lower-cased.
pub fn name(s: &str) -> String {
    nfkc(s)
        .chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '・' | '･' | '　'))
        .map(|c| match c {
            // Katakana ァ..ヶ map onto hiragana ぁ..ゖ by a fixed offset.
            'ァ'..='ヶ' => char::from_u32(c as u32 - 0x60).unwrap_or(c),
            _ => c,
        })
        .flat_map(char::to_lowercase)
        .collect()
}

/// Birth date: ISO `YYYY-MM-DD`, from any form `schema::parse_date` reads.
pub fn birth_date(s: &str) -> Option<String> {
    super::schema::parse_date(s).map(|d| d.format("%Y-%m-%d").to_string())
}

/// The searchable classes of the blind index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IndexClass {
    Email,
    Phone,
    Name,
    NameBirth,
}

impl IndexClass {
    pub const ALL: [IndexClass; 4] = [
        IndexClass::Email,
        IndexClass::Phone,
        IndexClass::Name,
        IndexClass::NameBirth,
    ];

    pub fn code(self) -> &'static str {
        match self {
            IndexClass::Email => "email",
            IndexClass::Phone => "phone",
            IndexClass::Name => "name",
            IndexClass::NameBirth => "name_birth",
        }
    }
}

/// The fields a class's index terms are made from (the same rule as `terms`): a search by
/// that class confirms values of exactly these fields, so it is allowed only to someone who
/// may see all of them (`Access::may_lookup`).
pub fn index_sources(schema: &super::Schema, class: IndexClass) -> Vec<&str> {
    use super::FieldKind as K;
    let mut out: Vec<&str> = schema
        .fields
        .iter()
        .filter(|f| match class {
            IndexClass::Email => f.kind == K::Email,
            IndexClass::Phone => f.kind == K::Phone,
            IndexClass::Name | IndexClass::NameBirth => matches!(f.kind, K::Name | K::KanaName),
        })
        .map(|f| f.name.as_str())
        .collect();
    if class == IndexClass::NameBirth {
        if let Some(i) = schema.first_of(K::BirthDate) {
            out.push(schema.fields[i].name.as_str());
        }
    }
    out
}

/// The index terms of a record: (class, normalised value). A record with several phones gets
/// a term for each; names are indexed from the kanji and the kana field.
pub fn terms(schema: &super::Schema, values: &[Option<String>]) -> Vec<(IndexClass, String)> {
    use super::FieldKind as K;
    let mut out = Vec::new();
    let birth = schema
        .first_of(K::BirthDate)
        .and_then(|i| values.get(i).cloned().flatten())
        .and_then(|b| birth_date(&b));
    for (f, v) in schema.fields.iter().zip(values) {
        let Some(v) = v else { continue };
        match f.kind {
            K::Email => out.push((IndexClass::Email, email(v))),
            K::Phone => {
                if let Some(p) = phone(v) {
                    out.push((IndexClass::Phone, p));
                }
            }
            K::Name | K::KanaName => {
                let n = name(v);
                if n.is_empty() {
                    continue;
                }
                if let Some(b) = &birth {
                    out.push((IndexClass::NameBirth, format!("{n}\u{1f}{b}")));
                }
                out.push((IndexClass::Name, n));
            }
            _ => {}
        }
    }
    out.sort_by(|a, b| (a.0.code(), &a.1).cmp(&(b.0.code(), &b.1)));
    out.dedup();
    out
}

/// The term a search looks for: `None` when the query cannot match anything (a phone with too
/// few digits), so the caller can say so instead of searching.
pub fn query_term(class: IndexClass, value: &str, birth: Option<&str>) -> Option<String> {
    match class {
        IndexClass::Email => Some(email(value)).filter(|e| e.contains('@')),
        IndexClass::Phone => phone(value),
        IndexClass::Name => Some(name(value)).filter(|n| !n.is_empty()),
        IndexClass::NameBirth => {
            let n = name(value);
            let b = birth_date(birth?)?;
            (!n.is_empty()).then(|| format!("{n}\u{1f}{b}"))
        }
    }
}
