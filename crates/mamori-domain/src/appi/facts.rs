//! The facts of one incident, as the input of appi.md §9, parsed once at the edge.
//!
//! The JSON form is a fixed contract that scripts depend on, so it is strict: an unknown field,
//! an unknown item code, a knowing time that cannot be read or a negative count is an error that
//! names the field. What comes out is [`Facts`], which the rules trust: the knowing time is
//! already a date in Japan Standard Time.

use std::collections::BTreeSet;
use std::fmt;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime};
use serde::{Deserialize, Deserializer};

use super::item::Item;

/// Japan Standard Time, UTC+9, in which every legal date is counted.
pub fn jst() -> FixedOffset {
    FixedOffset::east_opt(9 * 3600).unwrap_or_else(|| unreachable!("+09:00 is a valid offset"))
}

/// What happened to the data (appi.md §1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    /// 漏えい: the data left the company.
    Leak,
    /// 滅失: the content is gone.
    Loss,
    /// 毀損: altered unintentionally or made unusable.
    Damage,
}

impl Event {
    pub fn label_ja(self) -> &'static str {
        match self {
            Self::Leak => "漏えい",
            Self::Loss => "滅失",
            Self::Damage => "毀損",
        }
    }
}

/// Whose data it is, from the point of view of the company asking (appi.md §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The company handles the data for its own purposes (including as an entruster, 委託元).
    #[default]
    Controller,
    /// The company handles the data on behalf of an entruster (委託先).
    Contractor,
}

/// When the company knew: a JST date, or an instant with its offset as given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KnownAt {
    Date(NaiveDate),
    Time(DateTime<FixedOffset>),
}

impl KnownAt {
    /// Reads `2026-04-07` (a date in Japan) or an RFC 3339 time with an offset
    /// (`2026-04-07T10:00:00+09:00`, `2026-04-06T20:00:00Z`).
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
            return Ok(Self::Date(date));
        }
        if let Ok(time) = DateTime::parse_from_rfc3339(text) {
            return Ok(Self::Time(time));
        }
        let without_offset = ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S"]
            .iter()
            .any(|f| NaiveDateTime::parse_from_str(text, f).is_ok());
        Err(if without_offset {
            format!("`{text}` has no UTC offset; write e.g. `{text}+09:00` for Japan time")
        } else {
            format!(
                "`{text}` is not a date (2026-04-07) or a date and time with an offset \
                 (2026-04-07T10:00:00+09:00)"
            )
        })
    }

    /// The calendar date in Japan (JST) — the day the legal clock starts.
    pub fn jst_date(self) -> NaiveDate {
        match self {
            Self::Date(date) => date,
            Self::Time(time) => time.with_timezone(&jst()).date_naive(),
        }
    }

    /// Whether this is strictly before `other`; dates compare as JST days.
    fn is_before(self, other: Self) -> bool {
        match (self, other) {
            (Self::Time(a), Self::Time(b)) => a < b,
            _ => self.jst_date() < other.jst_date(),
        }
    }
}

impl fmt::Display for KnownAt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Date(date) => write!(f, "{date}"),
            Self::Time(time) => write!(f, "{}", time.to_rfc3339()),
        }
    }
}

/// The validated facts of one incident. Absent booleans are false (appi.md §9).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    /// When any department of the company knew (知った時点).
    pub knew_at: KnownAt,
    pub event: Event,
    /// Only suspected (おそれ); counts exactly like the real thing.
    pub suspected: bool,
    /// All of it was recovered before any third party viewed it.
    pub recovered_before_viewed: bool,
    /// The same data is held elsewhere (a usable copy or backup exists).
    pub same_data_held_elsewhere: bool,
    /// Handed over on purpose: a third-party-provision question, not a leak.
    pub intentional_provision: bool,
    /// The data was pseudonymised information (仮名加工情報).
    pub pseudonymized: bool,
    /// High-grade encryption with the key managed apart (高度な暗号化).
    pub high_grade_encryption: bool,
    /// Possibly caused by an act with a wrongful purpose (不正の目的).
    pub malicious: bool,
    /// The data was still being acquired by the company (web skimming and the like).
    pub being_acquired: bool,
    pub items: BTreeSet<Item>,
    /// Persons, deduplicated; when unknown, the maximum possible.
    pub persons: u64,
    pub role: Role,
    /// When a contractor told the entruster.
    pub notified_entruster_at: Option<KnownAt>,
    /// Whether the persons can be reached; `None` when the input did not say, which counts as
    /// false (absent booleans mean false) and is said so in the reasons.
    pub contact_info_available: Option<bool>,
}

impl Facts {
    /// Facts with every flag false, for building facts in code and tests.
    pub fn new(knew_at: KnownAt, event: Event, items: &[Item], persons: u64) -> Self {
        Self {
            knew_at,
            event,
            suspected: false,
            recovered_before_viewed: false,
            same_data_held_elsewhere: false,
            intentional_provision: false,
            pseudonymized: false,
            high_grade_encryption: false,
            malicious: false,
            being_acquired: false,
            items: items.iter().copied().collect(),
            persons,
            role: Role::Controller,
            notified_entruster_at: None,
            contact_info_available: Some(true),
        }
    }

    /// Checks the facts against the present, for callers that have a clock (the web application):
    /// a knowing time or an entruster notice in the future is impossible. `mamori assess` does not
    /// call this, so that "what if" questions about a future date can still be asked.
    pub fn check_not_in_future(&self, now: DateTime<FixedOffset>) -> Result<(), InputError> {
        let now = KnownAt::Time(now);
        if now.is_before(self.knew_at) {
            return Err(InputError::field(
                "knew_at",
                format!("{} is in the future", self.knew_at),
            ));
        }
        if let Some(at) = self.notified_entruster_at.filter(|&at| now.is_before(at)) {
            return Err(InputError::field(
                "notified_entruster_at",
                format!("{at} is in the future"),
            ));
        }
        Ok(())
    }

    /// Parses and validates the §9 input JSON.
    pub fn from_json(json: &str) -> Result<Self, InputError> {
        let mut de = serde_json::Deserializer::from_str(json);
        let raw: RawFacts = serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let path = e.path().to_string();
            let message = e.inner().to_string();
            // serde_json appends " at line L column C"; the field path says more to a person.
            let message = match message.find(" at line ") {
                Some(i) if path != "." => message[..i].to_owned(),
                _ => message,
            };
            InputError::new((path != ".").then_some(path), message)
        })?;
        de.end().map_err(|e| InputError::new(None, e.to_string()))?;
        raw.validate()
    }
}

/// Bad input: which field, and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    field: Option<String>,
    message: String,
}

impl InputError {
    pub fn new(field: Option<String>, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }

    fn field(field: &str, message: impl Into<String>) -> Self {
        Self::new(Some(field.to_owned()), message)
    }

    /// The field at fault (`persons`, `items[2]`), when one is.
    pub fn field_name(&self) -> Option<&str> {
        self.field.as_deref()
    }

    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.field {
            Some(field) => write!(f, "{field}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for InputError {}

/// The §9 input exactly as written; [`RawFacts::validate`] turns it into [`Facts`].
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFacts {
    knew_at: String,
    event: Event,
    #[serde(default)]
    suspected: bool,
    #[serde(default)]
    recovered_before_viewed: bool,
    #[serde(default)]
    same_data_held_elsewhere: bool,
    #[serde(default)]
    intentional_provision: bool,
    #[serde(default)]
    pseudonymized: bool,
    #[serde(default)]
    high_grade_encryption: bool,
    #[serde(default)]
    malicious: bool,
    #[serde(default)]
    being_acquired: bool,
    items: Vec<Item>,
    #[serde(deserialize_with = "persons")]
    persons: u64,
    #[serde(default)]
    role: Role,
    #[serde(default)]
    notified_entruster_at: Option<String>,
    #[serde(default)]
    contact_info_available: Option<bool>,
}

impl RawFacts {
    fn validate(self) -> Result<Facts, InputError> {
        let knew_at = KnownAt::parse(&self.knew_at).map_err(|m| InputError::field("knew_at", m))?;
        let notified_entruster_at = match &self.notified_entruster_at {
            None => None,
            Some(text) => {
                let at = KnownAt::parse(text)
                    .map_err(|m| InputError::field("notified_entruster_at", m))?;
                if self.role != Role::Contractor {
                    return Err(InputError::field(
                        "notified_entruster_at",
                        "only a contractor (\"role\": \"contractor\") notifies an entruster",
                    ));
                }
                if at.is_before(knew_at) {
                    return Err(InputError::field(
                        "notified_entruster_at",
                        format!("{at} is before knew_at ({knew_at})"),
                    ));
                }
                Some(at)
            }
        };
        Ok(Facts {
            knew_at,
            event: self.event,
            suspected: self.suspected,
            recovered_before_viewed: self.recovered_before_viewed,
            same_data_held_elsewhere: self.same_data_held_elsewhere,
            intentional_provision: self.intentional_provision,
            pseudonymized: self.pseudonymized,
            high_grade_encryption: self.high_grade_encryption,
            malicious: self.malicious,
            being_acquired: self.being_acquired,
            items: self.items.into_iter().collect(),
            persons: self.persons,
            role: self.role,
            notified_entruster_at,
            contact_info_available: self.contact_info_available,
        })
    }
}

/// A count of persons: a whole number, not negative, and present (unknown = the maximum).
fn persons<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
    use serde::de::Error;
    use serde_json::Value;
    match Value::deserialize(deserializer)? {
        Value::Number(n) => {
            if let Some(count) = n.as_u64() {
                Ok(count)
            } else if n.as_i64().is_some() || n.as_f64().is_some_and(|f| f < 0.0) {
                Err(D::Error::custom(format!("must not be negative (got {n})")))
            } else {
                Err(D::Error::custom(format!(
                    "must be a whole number of persons (got {n})"
                )))
            }
        }
        Value::Null => Err(D::Error::custom(
            "is required; when the count is unknown give the maximum possible (appi.md §2)",
        )),
        other => Err(D::Error::custom(format!(
            "must be a number of persons (got {other})"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"{"knew_at":"2026-04-07","event":"leak","items":["name"],"persons":3}"#;

    fn err(json: &str) -> InputError {
        Facts::from_json(json).expect_err("should be rejected")
    }

    #[test]
    fn minimal_input_defaults() {
        let facts = Facts::from_json(MINIMAL).expect("valid");
        assert_eq!(
            facts.knew_at.jst_date(),
            "2026-04-07".parse::<NaiveDate>().unwrap()
        );
        assert_eq!(facts.role, Role::Controller);
        assert!(!facts.malicious && !facts.suspected && !facts.being_acquired);
        assert_eq!(facts.contact_info_available, None);
        assert_eq!(facts.notified_entruster_at, None);
    }

    #[test]
    fn the_full_contract_example_parses() {
        let json = r#"{
          "knew_at": "2026-04-07T10:00:00+09:00", "event": "leak", "suspected": false,
          "recovered_before_viewed": false, "same_data_held_elsewhere": false,
          "intentional_provision": false, "pseudonymized": false, "high_grade_encryption": false,
          "malicious": false, "being_acquired": false,
          "items": ["name", "address", "credit_card_number"], "persons": 1200,
          "role": "controller", "notified_entruster_at": null, "contact_info_available": true
        }"#;
        let facts = Facts::from_json(json).expect("valid");
        assert_eq!(facts.items.len(), 3);
        assert_eq!(facts.persons, 1200);
        assert_eq!(facts.contact_info_available, Some(true));
    }

    #[test]
    fn utc_knowing_time_is_converted_to_jst() {
        let at = KnownAt::parse("2026-04-06T20:00:00Z").unwrap();
        assert_eq!(at.jst_date(), "2026-04-07".parse::<NaiveDate>().unwrap());
        let at = KnownAt::parse("2026-04-06T14:59:59Z").unwrap();
        assert_eq!(at.jst_date(), "2026-04-06".parse::<NaiveDate>().unwrap());
        let at = KnownAt::parse("2026-04-07T01:00:00+09:00").unwrap();
        assert_eq!(at.jst_date(), "2026-04-07".parse::<NaiveDate>().unwrap());
    }

    #[test]
    fn unknown_field_is_named() {
        let e = err(r#"{"knew_at":"2026-04-07","event":"leak","items":[],"persons":1,"colour":1}"#);
        assert!(e.to_string().contains("unknown field `colour`"), "{e}");
    }

    #[test]
    fn missing_field_is_named() {
        let e = err(r#"{"event":"leak","items":[],"persons":1}"#);
        assert!(e.to_string().contains("missing field `knew_at`"), "{e}");
        let e = err(r#"{"knew_at":"2026-04-07","event":"leak","items":[]}"#);
        assert!(e.to_string().contains("`persons`"), "{e}");
    }

    #[test]
    fn unknown_item_code_is_named() {
        let e =
            err(r#"{"knew_at":"2026-04-07","event":"leak","items":["name","bogus"],"persons":1}"#);
        assert_eq!(e.field_name(), Some("items[1]"));
        assert!(e.to_string().contains("`bogus`"), "{e}");
    }

    #[test]
    fn bad_values_name_their_field() {
        let cases = [
            (r#""persons":-5"#, "persons", "must not be negative"),
            (r#""persons":1.5"#, "persons", "whole number"),
            (r#""persons":null"#, "persons", "maximum possible"),
            (r#""persons":"many""#, "persons", "number of persons"),
            (r#""event":"theft""#, "event", "unknown variant `theft`"),
            (r#""role":"owner""#, "role", "unknown variant `owner`"),
            (r#""malicious":"yes""#, "malicious", "invalid type"),
            (r#""knew_at":"yesterday""#, "knew_at", "is not a date"),
            (r#""knew_at":"2026-02-30""#, "knew_at", "is not a date"),
            (
                r#""knew_at":"2026-04-07T10:00:00""#,
                "knew_at",
                "no UTC offset",
            ),
        ];
        for (field_json, field, needle) in cases {
            let mut map: serde_json::Map<String, serde_json::Value> =
                serde_json::from_str(MINIMAL).unwrap();
            let extra: serde_json::Map<String, serde_json::Value> =
                serde_json::from_str(&format!("{{{field_json}}}")).unwrap();
            map.extend(extra);
            let e = err(&serde_json::Value::Object(map).to_string());
            assert_eq!(e.field_name(), Some(field), "{field_json}: {e}");
            assert!(e.message().contains(needle), "{field_json}: {e}");
        }
    }

    #[test]
    fn entruster_notice_must_be_consistent() {
        let before = r#"{"knew_at":"2026-04-07T10:00:00+09:00","event":"leak","items":[],"persons":1,
            "role":"contractor","notified_entruster_at":"2026-04-07T09:00:00+09:00"}"#;
        let e = err(before);
        assert_eq!(e.field_name(), Some("notified_entruster_at"));
        assert!(e.message().contains("before knew_at"), "{e}");

        let controller = r#"{"knew_at":"2026-04-07","event":"leak","items":[],"persons":1,
            "notified_entruster_at":"2026-04-08"}"#;
        assert_eq!(err(controller).field_name(), Some("notified_entruster_at"));
    }

    #[test]
    fn future_knowing_time_is_rejected_when_a_clock_is_given() {
        let facts = Facts::from_json(MINIMAL).unwrap();
        let now = |s| DateTime::parse_from_rfc3339(s).unwrap();
        assert_eq!(
            facts.check_not_in_future(now("2026-04-07T00:00:00+09:00")),
            Ok(())
        );
        let e = facts
            .check_not_in_future(now("2026-04-06T23:00:00+09:00"))
            .unwrap_err();
        assert_eq!(e.field_name(), Some("knew_at"));
        assert!(e.message().contains("in the future"), "{e}");
    }

    #[test]
    fn not_json_or_trailing_garbage() {
        assert!(Facts::from_json("not json").is_err());
        assert!(Facts::from_json("[]").is_err());
        assert!(Facts::from_json(&format!("{MINIMAL} {MINIMAL}")).is_err());
    }
}
