//! Incidents (事故・インシデント): the pure rules of the response.
//!
//! * [`facts`]: what is known about an incident (the first report and what the privacy office
//!   adds), validated against the present, and turned into the APPI facts of [`crate::appi`].
//! * [`obligation`]: the duties an assessment creates — preliminary and final report, notice to
//!   the persons, My Number Act report, notice to the entruster — with their deadlines, how they
//!   change when the facts change, and when to remind whom.
//! * [`phase`]: the seven response phases and their task templates.
//! * [`publication`]: the publication decision on the five viewpoints of seed 001 8-⑥.
//! * [`recurrence`]: the recurrence-prevention report and its way through the company.
//! * [`visibility`]: who may see an incident.
//! * [`ppc`]: the report to the PPC with its nine items (施行規則8条1項).
//!
//! Time is always a parameter (microseconds since the epoch, or a JST date): nothing here reads
//! a clock.

pub mod facts;
pub mod line;
pub mod obligation;
pub mod phase;
pub mod ppc;
pub mod publication;
pub mod recurrence;
pub mod visibility;

use chrono::{NaiveDate, TimeZone};
use std::fmt;

pub use facts::{EventKind, IncidentFacts};
pub use obligation::{ObligationKind, ObligationSpec, ObligationStatus};
pub use phase::{Phase, TaskStatus};

/// Bad input on an incident: which field, and what is wrong, in both languages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: &'static str,
    pub ja: String,
    pub en: String,
}

impl FieldError {
    pub fn new(field: &'static str, ja: impl Into<String>, en: impl Into<String>) -> Self {
        FieldError {
            field,
            ja: ja.into(),
            en: en.into(),
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.en)
    }
}

impl std::error::Error for FieldError {}

/// The date in Japan of an instant (microseconds since the epoch).
pub fn jst_date(micros: i64) -> NaiveDate {
    crate::appi::facts::jst()
        .timestamp_micros(micros)
        .single()
        .map_or(NaiveDate::MIN, |t| t.date_naive())
}

/// Midnight at the start of a JST date, in microseconds since the epoch.
pub fn jst_midnight(date: NaiveDate) -> i64 {
    date.and_hms_opt(0, 0, 0)
        .and_then(|t| t.and_local_timezone(crate::appi::facts::jst()).single())
        .map_or(0, |t| t.timestamp_micros())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jst_dates() {
        // 2026-04-06T20:00:00Z is 2026-04-07 05:00 in Japan.
        assert_eq!(
            jst_date(1_775_505_600_000_000),
            NaiveDate::from_ymd_opt(2026, 4, 7).unwrap()
        );
        let d = NaiveDate::from_ymd_opt(2026, 4, 7).unwrap();
        assert_eq!(jst_date(jst_midnight(d)), d);
        assert_eq!(jst_date(jst_midnight(d) - 1), d.pred_opt().unwrap());
    }
}
