//! Report deadlines (appi.md §3), counted on the Japanese government calendar.
//!
//! Day 1 is the day of knowing in Japan, so "day N" is that date plus N−1 days. The preliminary
//! report has no official counting rule: we warn on day 3 and call day 5 the due date, without
//! moving over holidays (interpretation, appi.md §3). The final report is due on day 30, or day 60
//! for a wrongful-purpose case; a last day on which government offices are closed moves to the
//! next day they are open (行政機関の休日に関する法律 2条).

use chrono::{Days, NaiveDate};

use crate::calendar::{self, CalendarError, ClosedReason};

/// The preliminary report's warning day (day 3).
pub const PRELIMINARY_WARNING_DAY: u64 = 3;
/// The preliminary report's due day (day 5); also how long a contractor may take to be "prompt".
pub const PRELIMINARY_DUE_DAY: u64 = 5;
/// The final report's day, ordinarily.
pub const FINAL_DAYS: u64 = 30;
/// The final report's day when the cause may be a wrongful purpose (施行規則8条2項かっこ書).
pub const FINAL_DAYS_MALICIOUS: u64 = 60;

/// Day `n` counted with the day of knowing as day 1.
pub fn day(knew_on: NaiveDate, n: u64) -> Result<NaiveDate, CalendarError> {
    knew_on
        .checked_add_days(Days::new(n.saturating_sub(1)))
        .ok_or(CalendarError::OutOfRange { date: knew_on })
}

/// A final-report deadline and how it was reached, for the reasons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FinalDeadline {
    /// Day 30 or day 60.
    pub nominal: NaiveDate,
    /// Why government offices are closed on the nominal day, if they are.
    pub nominal_closed: Option<ClosedReason>,
    /// The real due date: the nominal day or the next day offices are open.
    pub due: NaiveDate,
    pub days: u64,
}

impl FinalDeadline {
    /// The same in English: "day 30, 2025-05-31 (Saturday) → 2025-06-02 …".
    pub fn describe_en(&self) -> String {
        match self.nominal_closed {
            None => format!("day {}, {}", self.days, self.nominal),
            Some(reason) => format!(
                "day {}, {} ({}), is a closing day of government offices, so the next open day, \
                 {} (Act on Holidays of Administrative Organs, Art. 2)",
                self.days,
                self.nominal,
                reason.label_en(),
                self.due
            ),
        }
    }

    /// A Japanese line for the reasons, e.g. "30日目 2025-05-31（土曜日）→ 2025-06-02".
    pub fn describe_ja(&self) -> String {
        match self.nominal_closed {
            None => format!("{}日目 {}", self.days, self.nominal),
            Some(reason) => format!(
                "{}日目 {}（{}）は行政機関の休日のため翌開庁日 {}（行政機関の休日に関する法律2条）",
                self.days,
                self.nominal,
                reason.label_ja(),
                self.due
            ),
        }
    }
}

/// The final report's deadline: day 30, or day 60 when `malicious`, moved past closed days.
pub fn final_report(knew_on: NaiveDate, malicious: bool) -> Result<FinalDeadline, CalendarError> {
    let days = if malicious {
        FINAL_DAYS_MALICIOUS
    } else {
        FINAL_DAYS
    };
    let nominal = day(knew_on, days)?;
    Ok(FinalDeadline {
        nominal,
        nominal_closed: calendar::closed_reason(nominal)?,
        due: calendar::next_open_day(nominal)?,
        days,
    })
}

/// The preliminary report's warning (day 3) and due date (day 5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PreliminaryDeadline {
    pub warning: NaiveDate,
    pub due: NaiveDate,
}

pub fn preliminary_report(knew_on: NaiveDate) -> Result<PreliminaryDeadline, CalendarError> {
    Ok(PreliminaryDeadline {
        warning: day(knew_on, PRELIMINARY_WARNING_DAY)?,
        due: day(knew_on, PRELIMINARY_DUE_DAY)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().expect("test date")
    }

    #[test]
    fn day_one_is_the_day_of_knowing() {
        assert_eq!(day(d("2026-04-07"), 1), Ok(d("2026-04-07")));
        assert_eq!(day(d("2026-04-07"), 5), Ok(d("2026-04-11")));
        assert_eq!(day(d("2026-04-07"), 60), Ok(d("2026-06-05")));
    }

    #[test]
    fn preliminary_is_day_three_and_five_without_moving() {
        // 2026-04-11 is a Saturday: the preliminary target is not moved (appi.md §9 example).
        let p = preliminary_report(d("2026-04-07")).unwrap();
        assert_eq!((p.warning, p.due), (d("2026-04-09"), d("2026-04-11")));
    }

    /// The deadline table: the two examples of appi.md §3, the two of §10 and holiday edges.
    #[test]
    fn final_report_deadlines() {
        let cases = [
            // (knew, malicious, nominal day, due, why)
            (
                "2025-05-02",
                false,
                "2025-05-31",
                "2025-06-02",
                "§3: Saturday → Monday",
            ),
            (
                "2025-12-01",
                false,
                "2025-12-30",
                "2026-01-05",
                "§3: year-end closure",
            ),
            (
                "2025-08-17",
                false,
                "2025-09-15",
                "2025-09-16",
                "§10: 敬老の日",
            ),
            (
                "2025-11-05",
                true,
                "2026-01-03",
                "2026-01-05",
                "§10: day 60 in the closure",
            ),
            (
                "2026-08-24",
                false,
                "2026-09-22",
                "2026-09-24",
                "国民の休日 then 秋分の日",
            ),
            (
                "2026-04-07",
                false,
                "2026-05-06",
                "2026-05-07",
                "振替休日 2026-05-06",
            ),
            (
                "2025-04-07",
                false,
                "2025-05-06",
                "2025-05-07",
                "振替休日 2025-05-06",
            ),
            (
                "2026-03-07",
                true,
                "2026-05-05",
                "2026-05-07",
                "こどもの日 + 振替休日",
            ),
            (
                "2026-12-01",
                false,
                "2026-12-30",
                "2027-01-04",
                "closure into a Monday",
            ),
            (
                "2026-04-07",
                true,
                "2026-06-05",
                "2026-06-05",
                "an open Friday stays",
            ),
            (
                "2026-06-01",
                false,
                "2026-06-30",
                "2026-06-30",
                "an open Tuesday stays",
            ),
        ];
        for (knew, malicious, nominal, due, why) in cases {
            let f = final_report(d(knew), malicious).unwrap();
            assert_eq!((f.nominal, f.due), (d(nominal), d(due)), "{why}");
            assert_eq!(f.nominal_closed.is_some(), nominal != due, "{why}");
        }
    }

    #[test]
    fn describes_the_move() {
        let f = final_report(d("2025-08-17"), false).unwrap();
        assert_eq!(
            f.describe_ja(),
            "30日目 2025-09-15（敬老の日）は行政機関の休日のため翌開庁日 2025-09-16\
             （行政機関の休日に関する法律2条）"
        );
        let f = final_report(d("2026-06-01"), false).unwrap();
        assert_eq!(f.describe_ja(), "30日目 2026-06-30");
    }

    #[test]
    fn beyond_the_calendar_is_an_error() {
        assert!(final_report(d("2027-12-01"), false).is_err());
        assert!(final_report(d("1954-12-01"), false).is_err());
    }
}
