//! The declared schema of a dataset's records (field name → kind) and the check of each value.
//!
//! A value is checked and put in its stored form at the edge (an import row, a form): e-mail
//! trimmed, dates as ISO, passwords classified. What cannot be stored is refused with a reason
//! that names the problem but never repeats the value.

use crate::appi::item::Item;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

macro_rules! kinds {
    ($($v:ident = $code:literal, $ja:literal, $en:literal;)*) => {
        /// The kind of one field of a vault record.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum FieldKind { $($v,)* }

        impl FieldKind {
            pub const ALL: &'static [FieldKind] = &[$(FieldKind::$v,)*];
            pub fn code(self) -> &'static str { match self { $(FieldKind::$v => $code,)* } }
            pub fn label_ja(self) -> &'static str { match self { $(FieldKind::$v => $ja,)* } }
            pub fn label_en(self) -> &'static str { match self { $(FieldKind::$v => $en,)* } }
        }

        impl FromStr for FieldKind {
            type Err = SchemaError;
            fn from_str(s: &str) -> Result<Self, SchemaError> {
                match s.trim() {
                    // The code, or the kind's words in either language (「氏名」, "Postal code").
                    $($code | $ja => Ok(FieldKind::$v),)*
                    other => FieldKind::ALL
                        .iter()
                        .copied()
                        .find(|k| k.label_en().eq_ignore_ascii_case(other))
                        .ok_or_else(|| SchemaError::UnknownKind(other.chars().take(40).collect())),
                }
            }
        }
    };
}

kinds! {
    Name = "name", "氏名", "Name";
    KanaName = "kana_name", "氏名（カナ）", "Name (kana)";
    Email = "email", "メールアドレス", "E-mail";
    Phone = "phone", "電話番号", "Phone";
    PostalCode = "postal_code", "郵便番号", "Postal code";
    Address = "address", "住所", "Address";
    BirthDate = "birth_date", "生年月日", "Birth date";
    Gender = "gender", "性別", "Gender";
    CustomerId = "customer_id", "顧客ID", "Customer ID";
    LoginId = "login_id", "ログインID", "Login ID";
    PasswordHash = "password_hash", "パスワード（ハッシュ）", "Password (hash)";
    PaymentToken = "payment_token", "決済トークン", "Payment token";
    Text = "text", "自由記述", "Free text";
    Date = "date", "日付", "Date";
}

impl FieldKind {
    pub fn label(self, lang: crate::lang::Lang) -> &'static str {
        lang.pick(self.label_ja(), self.label_en())
    }

    /// The kinds in words with the code to type (「氏名 = name」), for the schema editor.
    pub fn list(lang: crate::lang::Lang) -> String {
        FieldKind::ALL
            .iter()
            .map(|k| format!("{} = {}", k.label(lang), k.code()))
            .collect::<Vec<_>>()
            .join(lang.pick("、", ", "))
    }

    /// The appi.md §9 item this kind holds, for the ledger and the assessment.
    pub fn item(self) -> Option<Item> {
        Some(match self {
            FieldKind::Name => Item::Name,
            FieldKind::KanaName => Item::KanaName,
            FieldKind::Email => Item::Email,
            FieldKind::Phone => Item::Phone,
            FieldKind::PostalCode => Item::PostalCode,
            FieldKind::Address => Item::Address,
            FieldKind::BirthDate => Item::BirthDate,
            FieldKind::Gender => Item::Gender,
            FieldKind::CustomerId => Item::CustomerId,
            FieldKind::LoginId => Item::LoginId,
            FieldKind::PasswordHash => Item::Password,
            FieldKind::PaymentToken | FieldKind::Text | FieldKind::Date => return None,
        })
    }

    /// Dates (dispatch date, order date) are shown as they are; everything else is masked.
    pub fn is_personal(self) -> bool {
        self != FieldKind::Date
    }
}

impl fmt::Display for FieldKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// One declared field.
///
/// `id` is the field's stable number within its dataset: a sealed record stores each value
/// under it, so the fields of a stored record are found by id, whatever the schema became after
/// the record was written. It is given when the field is declared and never changes or is
/// reused (`Schema::evolve`). Schemas stored before ids existed read with id = position + 1,
/// which is what they were.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldSpec {
    pub name: String,
    #[serde(with = "kind_code")]
    pub kind: FieldKind,
    #[serde(default)]
    pub id: u32,
}

impl FieldSpec {
    /// A field without an id yet (`Schema::new` numbers it).
    pub fn new(name: impl Into<String>, kind: FieldKind) -> FieldSpec {
        FieldSpec {
            name: name.into(),
            kind,
            id: 0,
        }
    }
}

mod kind_code {
    use super::FieldKind;
    use serde::{Deserialize, Deserializer, Serializer};
    #[expect(
        clippy::trivially_copy_pass_by_ref,
        reason = "the signature serde's `with` expects"
    )]
    pub fn serialize<S: Serializer>(k: &FieldKind, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(k.code())
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<FieldKind, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// What is wrong with a schema.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SchemaError {
    #[error("unknown field kind `{0}` (known: name, kana_name, email, phone, postal_code, address, birth_date, gender, customer_id, login_id, password_hash, payment_token, text, date)")]
    UnknownKind(String),
    #[error("field name `{0}` is not valid: use 1–40 characters of a–z, 0–9 and _ starting with a letter")]
    BadName(String),
    #[error("field `{0}` is declared twice")]
    Duplicate(String),
    #[error("a schema needs at least one field")]
    Empty,
    #[error("a schema may have at most 64 fields")]
    TooMany,
    #[error("`{0}` is not a field of this dataset")]
    UnknownField(String),
    #[error("a field must be written NAME:KIND (e.g. email:email), not `{0}`")]
    Syntax(String),
    #[error("records exist: field `{0}` cannot be removed")]
    Removed(String),
    #[error("records exist: field `{0}` cannot change its kind")]
    KindChanged(String),
    #[error(
        "records exist: existing fields keep their order; new fields go at the end (`{0}` moved)"
    )]
    Reordered(String),
}

/// The fields of a dataset's records, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Schema {
    pub fields: Vec<FieldSpec>,
}

impl<'de> Deserialize<'de> for Schema {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Schema, D::Error> {
        #[derive(Deserialize)]
        struct Stored {
            fields: Vec<FieldSpec>,
        }
        let mut s = Stored::deserialize(d)?;
        // Stored before fields had ids: their id is their position.
        for (i, f) in s.fields.iter_mut().enumerate() {
            if f.id == 0 {
                f.id = i as u32 + 1;
            }
        }
        for (i, f) in s.fields.iter().enumerate() {
            if s.fields[..i].iter().any(|g| g.id == f.id) {
                return Err(serde::de::Error::custom(format!(
                    "field id {} is used twice",
                    f.id
                )));
            }
        }
        Ok(Schema { fields: s.fields })
    }
}

fn valid_field_name(n: &str) -> bool {
    (1..=40).contains(&n.len())
        && n.as_bytes()[0].is_ascii_lowercase()
        && n.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

impl Schema {
    pub fn new(fields: Vec<FieldSpec>) -> Result<Schema, SchemaError> {
        if fields.is_empty() {
            return Err(SchemaError::Empty);
        }
        if fields.len() > 64 {
            return Err(SchemaError::TooMany);
        }
        for (i, f) in fields.iter().enumerate() {
            if !valid_field_name(&f.name) {
                return Err(SchemaError::BadName(f.name.chars().take(40).collect()));
            }
            if fields[..i].iter().any(|g| g.name == f.name) {
                return Err(SchemaError::Duplicate(f.name.clone()));
            }
        }
        let mut fields = fields;
        for (i, f) in fields.iter_mut().enumerate() {
            f.id = i as u32 + 1;
        }
        Ok(Schema { fields })
    }

    /// The schema `self` (just parsed) applied over `old`, the stored one: fields of `old`
    /// keep their ids, new fields get ids never used before. With `records` stored, a change
    /// that would leave a stored value without its field is refused here, before anything is
    /// written: removing a field, changing its kind, or moving it (existing fields stay in their
    /// order; new ones go at the end).
    pub fn evolve(mut self, old: &Schema, records: bool) -> Result<Schema, SchemaError> {
        let mut next = old.fields.iter().map(|f| f.id).max().unwrap_or(0) + 1;
        if records {
            for (i, o) in old.fields.iter().enumerate() {
                match self.fields.iter().position(|f| f.name == o.name) {
                    None => return Err(SchemaError::Removed(o.name.clone())),
                    Some(j) if self.fields[j].kind != o.kind => {
                        return Err(SchemaError::KindChanged(o.name.clone()))
                    }
                    Some(j) if j != i => return Err(SchemaError::Reordered(o.name.clone())),
                    Some(_) => {}
                }
            }
        }
        for f in &mut self.fields {
            if let Some(o) = old
                .fields
                .iter()
                .find(|o| o.name == f.name && o.kind == f.kind)
            {
                f.id = o.id;
            } else {
                f.id = next;
                next += 1;
            }
        }
        Ok(self)
    }

    /// The stable ids of the fields, in schema order (what a sealed record is bound to).
    pub fn ids(&self) -> Vec<u32> {
        self.fields.iter().map(|f| f.id).collect()
    }

    /// The position of the field with this id.
    pub fn position_of_id(&self, id: u32) -> Option<usize> {
        self.fields.iter().position(|f| f.id == id)
    }

    /// Parses `name:name, email:email, phone:phone` (commas or new lines between fields).
    pub fn parse(text: &str) -> Result<Schema, SchemaError> {
        let mut fields = Vec::new();
        for part in text.split([',', '\n', '、']) {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            let (name, kind) = part
                .split_once([':', '：'])
                .ok_or_else(|| SchemaError::Syntax(part.chars().take(40).collect()))?;
            fields.push(FieldSpec::new(name.trim(), kind.parse()?));
        }
        Schema::new(fields)
    }

    /// The text form `parse` reads.
    pub fn to_text(&self) -> String {
        self.fields
            .iter()
            .map(|f| format!("{}:{}", f.name, f.kind.code()))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The text form with each kind in the reader's words (「name:氏名, zip:郵便番号」), which
    /// `parse` reads too.
    pub fn to_text_in(&self, lang: crate::lang::Lang) -> String {
        self.fields
            .iter()
            .map(|f| format!("{}:{}", f.name, f.kind.label(lang)))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// A field as people read it: its kind's words, and its name too when another field has
    /// the same kind (「氏名（ship_name）」).
    pub fn field_label(&self, name: &str, lang: crate::lang::Lang) -> String {
        let Some(f) = self.fields.iter().find(|f| f.name == name) else {
            return name.to_owned();
        };
        let label = f.kind.label(lang);
        if self.fields.iter().filter(|g| g.kind == f.kind).count() > 1 {
            match lang {
                crate::lang::Lang::Ja => format!("{label}（{name}）"),
                crate::lang::Lang::En => format!("{label} ({name})"),
            }
        } else {
            label.to_owned()
        }
    }

    /// The fields as people read them, joined (「氏名、郵便番号」 / "Name, Postal code").
    pub fn field_labels(&self, lang: crate::lang::Lang) -> String {
        self.fields
            .iter()
            .map(|f| self.field_label(&f.name, lang))
            .collect::<Vec<_>>()
            .join(lang.pick("、", ", "))
    }

    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.fields.iter().position(|f| f.name == name)
    }

    pub fn field(&self, name: &str) -> Result<&FieldSpec, SchemaError> {
        self.fields
            .iter()
            .find(|f| f.name == name)
            .ok_or_else(|| SchemaError::UnknownField(name.chars().take(40).collect()))
    }

    /// The first field of a kind (lookups and erasure search the first e-mail, phone, …).
    pub fn first_of(&self, kind: FieldKind) -> Option<usize> {
        self.fields.iter().position(|f| f.kind == kind)
    }

    /// The appi.md §9 items the schema holds, for the ledger entry.
    pub fn items(&self) -> Vec<Item> {
        let mut v: Vec<Item> = self.fields.iter().filter_map(|f| f.kind.item()).collect();
        v.sort();
        v.dedup();
        v
    }
}

/// Why a value cannot be stored. Never carries the value itself.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValueError {
    #[error("too long (at most {0} characters)")]
    TooLong(usize),
    #[error("contains control characters")]
    Control,
    #[error("not an e-mail address")]
    Email,
    #[error("not a Japanese phone number (10 or 11 digits starting with 0, or +81)")]
    Phone,
    #[error("not a postal code (7 digits, 123-4567)")]
    PostalCode,
    #[error("not a date (2024-04-01, 2024/4/1, 2024年4月1日 or 和暦 such as 昭和60年1月2日)")]
    Date,
    #[error("a birth date in the future or before 1900")]
    BirthDateRange,
    #[error("looks like a credit card number: only the payment provider's token may be stored")]
    CardNumber,
    #[error("a password hash other than Argon2id (MD5, SHA, bcrypt …) is refused: import the plaintext to be hashed with Argon2id, or an Argon2id hash")]
    WeakPasswordHash,
}

/// What a password column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordForm {
    /// A PHC string `$argon2id$…`: stored as it is.
    Argon2id,
    /// Another hash format: refused.
    OtherHash,
    /// A plaintext password: hashed with Argon2id before it is stored.
    Plain,
}

pub fn classify_password(v: &str) -> PasswordForm {
    let v = v.trim();
    if v.starts_with("$argon2id$") {
        return PasswordForm::Argon2id;
    }
    let hexlen = v.len();
    let all_hex = v.bytes().all(|b| b.is_ascii_hexdigit());
    if v.starts_with("$2a$")
        || v.starts_with("$2b$")
        || v.starts_with("$2y$")
        || v.starts_with("$1$")
        || v.starts_with("$5$")
        || v.starts_with("$6$")
        || v.starts_with("$argon2")
        || v.starts_with("$scrypt")
        || v.starts_with("$pbkdf2")
        || (all_hex && matches!(hexlen, 32 | 40 | 56 | 64 | 96 | 128))
    {
        PasswordForm::OtherHash
    } else {
        PasswordForm::Plain
    }
}

fn plain(v: &str, max: usize) -> Result<String, ValueError> {
    let v = v.trim();
    if v.chars().count() > max {
        return Err(ValueError::TooLong(max));
    }
    if v.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(ValueError::Control);
    }
    Ok(v.to_owned())
}

/// Parses a date as people write it in Japan: ISO, slashes, 年月日, 20240401, or 和暦 (明治…令和,
/// 元年, also the one-letter forms S60.1.2 / H1/1/8 / R6-4-1).
pub fn parse_date(v: &str) -> Option<NaiveDate> {
    let n = super::normalize::nfkc(v.trim()).replace("元年", "1年");
    let (era_base, rest) = era_prefix(n.trim());
    // Only separators may stand between the numbers.
    if !rest
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '-' | '/' | '.' | '年' | '月' | '日' | ' '))
    {
        return None;
    }
    let nums: Vec<i32> = rest
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().ok())
        .collect::<Option<Vec<i32>>>()?;
    let (y, m, d) = match nums.as_slice() {
        [y, m, d] => (*y, *m, *d),
        [ymd] if era_base.is_none() && rest.len() == 8 => (ymd / 10000, ymd / 100 % 100, ymd % 100),
        _ => return None,
    };
    let year = match era_base {
        Some(_) if y < 1 => return None,
        Some(base) => base + y - 1,
        None if (1000..=9999).contains(&y) => y,
        None => return None,
    };
    let date = NaiveDate::from_ymd_opt(year, u32::try_from(m).ok()?, u32::try_from(d).ok()?)?;
    // An era year past the era's end (昭和65年) is not a date.
    let end = match era_base {
        Some(1868) => NaiveDate::from_ymd_opt(1912, 7, 29),
        Some(1912) => NaiveDate::from_ymd_opt(1926, 12, 24),
        Some(1926) => NaiveDate::from_ymd_opt(1989, 1, 7),
        Some(1989) => NaiveDate::from_ymd_opt(2019, 4, 30),
        _ => None,
    };
    if end.is_some_and(|e| date > e) {
        return None;
    }
    Some(date)
}

fn era_prefix(s: &str) -> (Option<i32>, &str) {
    for (names, base) in [
        (&["明治", "M", "m"][..], 1868),
        (&["大正", "T", "t"][..], 1912),
        (&["昭和", "S", "s"][..], 1926),
        (&["平成", "H", "h"][..], 1989),
        (&["令和", "R", "r"][..], 2019),
    ] {
        for n in names {
            if let Some(rest) = s.strip_prefix(n) {
                return (Some(base), rest);
            }
        }
    }
    (None, s)
}

/// Checks and puts a value in its stored form. Empty means "not given" and is `Ok(None)`.
/// `today` bounds birth dates.
pub fn check_value(
    kind: FieldKind,
    raw: &str,
    today: NaiveDate,
) -> Result<Option<String>, ValueError> {
    let v = raw.trim();
    if v.is_empty() {
        return Ok(None);
    }
    let stored = match kind {
        FieldKind::Name | FieldKind::KanaName => plain(v, 100)?,
        FieldKind::Gender => plain(v, 20)?,
        FieldKind::CustomerId | FieldKind::LoginId => plain(v, 200)?,
        FieldKind::PaymentToken => plain(v, 500)?,
        FieldKind::PasswordHash => plain(v, 1024)?,
        FieldKind::Address => plain(v, 400)?,
        FieldKind::Text => plain(v, 10_000)?,
        FieldKind::Email => {
            let e = plain(v, 254)?;
            crate::text::email(&e).map_err(|_| ValueError::Email)?
        }
        FieldKind::Phone => {
            let p = plain(v, 40)?;
            if super::normalize::phone(&p).is_none() {
                return Err(ValueError::Phone);
            }
            p
        }
        FieldKind::PostalCode => {
            let p = plain(v, 20)?;
            let digits: String = super::normalize::nfkc(&p)
                .chars()
                .filter(char::is_ascii_digit)
                .collect();
            let shape_ok = super::normalize::nfkc(&p)
                .trim_start_matches('〒')
                .trim()
                .chars()
                .all(|c| c.is_ascii_digit() || c == '-');
            if digits.len() != 7 || !shape_ok {
                return Err(ValueError::PostalCode);
            }
            format!("{}-{}", &digits[..3], &digits[3..])
        }
        FieldKind::BirthDate => {
            let d = parse_date(v).ok_or(ValueError::Date)?;
            if d > today || d < NaiveDate::from_ymd_opt(1900, 1, 1).expect("valid") {
                return Err(ValueError::BirthDateRange);
            }
            d.format("%Y-%m-%d").to_string()
        }
        FieldKind::Date => parse_date(v)
            .ok_or(ValueError::Date)?
            .format("%Y-%m-%d")
            .to_string(),
    };
    Ok(Some(stored))
}
