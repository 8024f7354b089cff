//! The day a monthly event of the programme falls on.
//!
//! Seed 002's company inspects on the 17th of every month. **The rule** when that day is not a
//! business day — a Saturday, a Sunday, a national holiday (振替休日 and 国民の休日 included) or
//! the year-end closure (29 December – 3 January), the government calendar of
//! [`crate::calendar`] — is that the event **moves to the next business day**: the 17th of
//! January 2027 is a Sunday, so that month's inspection day is Monday the 18th. A day of the
//! month the month does not have (the 31st in February) is the month's last day, then the
//! same rule applies. The move never leaves the month's event in the previous month, and it
//! may carry it into the next month only from the last days of a month (the 31st of December
//! moves to the 4th of January).

use crate::calendar::{self, CalendarError};
use chrono::{Datelike, NaiveDate};

/// The day of the month seed 002 inspects on.
pub const DEFAULT_DAY: u32 = 17;

/// The last day of a month.
pub fn last_day_of_month(year: i32, month: u32) -> Option<NaiveDate> {
    let (ny, nm) = if month == 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    };
    NaiveDate::from_ymd_opt(ny, nm, 1)?.pred_opt()
}

/// The nominal day (`day` of `year`/`month`, or the month's last day when it is shorter).
pub fn nominal_day(year: i32, month: u32, day: u32) -> Option<NaiveDate> {
    let last = last_day_of_month(year, month)?;
    NaiveDate::from_ymd_opt(year, month, day.clamp(1, last.day()))
}

/// The business day a monthly event on `day` of `year`/`month` really falls on.
pub fn monthly_event_day(year: i32, month: u32, day: u32) -> Result<NaiveDate, ScheduleError> {
    let nominal =
        nominal_day(year, month, day).ok_or(ScheduleError::NoSuchMonth { year, month })?;
    Ok(calendar::next_open_day(nominal)?)
}

/// A month as `2026-12` (the key of a monthly inspection round).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    pub year: i32,
    pub month: u32,
}

impl Month {
    pub fn of(date: NaiveDate) -> Month {
        Month {
            year: date.year(),
            month: date.month(),
        }
    }

    /// Reads `2026-12` (also `2026/12`, `2026-1`).
    pub fn parse(text: &str) -> Option<Month> {
        let t = text.trim();
        let (y, m) = t.split_once(['-', '/'])?;
        let year: i32 = y.trim().parse().ok()?;
        let month: u32 = m.trim().parse().ok()?;
        ((1..=12).contains(&month) && (1900..=9999).contains(&year))
            .then_some(Month { year, month })
    }

    pub fn next(self) -> Month {
        if self.month == 12 {
            Month {
                year: self.year + 1,
                month: 1,
            }
        } else {
            Month {
                year: self.year,
                month: self.month + 1,
            }
        }
    }

    pub fn prev(self) -> Month {
        if self.month == 1 {
            Month {
                year: self.year - 1,
                month: 12,
            }
        } else {
            Month {
                year: self.year,
                month: self.month - 1,
            }
        }
    }

    /// `2026-12`.
    pub fn key(self) -> String {
        format!("{:04}-{:02}", self.year, self.month)
    }

    /// `2026年12月` / `December 2026`.
    pub fn label(self, english: bool) -> String {
        if english {
            const NAMES: [&str; 12] = [
                "January",
                "February",
                "March",
                "April",
                "May",
                "June",
                "July",
                "August",
                "September",
                "October",
                "November",
                "December",
            ];
            format!("{} {}", NAMES[(self.month - 1) as usize], self.year)
        } else {
            format!("{}年{}月", self.year, self.month)
        }
    }
}

impl std::fmt::Display for Month {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.key())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    #[error("{year}-{month} is not a month")]
    NoSuchMonth { year: i32, month: u32 },
    #[error(transparent)]
    Calendar(#[from] CalendarError),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn the_17th_on_a_weekday_stays() {
        // Thursday 17 December 2026.
        assert_eq!(monthly_event_day(2026, 12, 17).unwrap(), d(2026, 12, 17));
    }

    #[test]
    fn the_17th_on_a_sunday_moves_to_monday() {
        // Sunday 17 January 2027 → Monday 18 January.
        assert_eq!(monthly_event_day(2027, 1, 17).unwrap(), d(2027, 1, 18));
        // Sunday 17 May 2026 → Monday 18 May.
        assert_eq!(monthly_event_day(2026, 5, 17).unwrap(), d(2026, 5, 18));
    }

    #[test]
    fn the_17th_on_a_saturday_moves_past_the_weekend() {
        // Saturday 17 October 2026 → Monday 19 October.
        assert_eq!(monthly_event_day(2026, 10, 17).unwrap(), d(2026, 10, 19));
    }

    #[test]
    fn a_holiday_and_the_days_after_it() {
        // Saturday 19 September 2026, then 敬老の日 (21), 国民の休日 (22) and 秋分の日 (23):
        // the 19th moves to Thursday the 24th.
        assert_eq!(monthly_event_day(2026, 9, 19).unwrap(), d(2026, 9, 24));
        // 22 September 2026 is a 国民の休日 between two holidays.
        assert_eq!(monthly_event_day(2026, 9, 22).unwrap(), d(2026, 9, 24));
    }

    #[test]
    fn short_months_and_the_year_end() {
        // The 31st of February 2027 is the 28th (a Sunday) → Monday 1 March.
        assert_eq!(monthly_event_day(2027, 2, 31).unwrap(), d(2027, 3, 1));
        // The 30th of December is in the year-end closure → Monday 4 January 2027.
        assert_eq!(monthly_event_day(2026, 12, 30).unwrap(), d(2027, 1, 4));
    }

    #[test]
    fn past_the_calendar_is_an_error_not_a_guess() {
        assert!(matches!(
            monthly_event_day(2031, 1, 17),
            Err(ScheduleError::Calendar(_))
        ));
        assert!(monthly_event_day(2026, 13, 17).is_err());
    }

    #[test]
    fn months() {
        let m = Month::parse("2026-12").unwrap();
        assert_eq!(m.next().key(), "2027-01");
        assert_eq!(m.next().prev(), m);
        assert_eq!(Month::parse("2026/1").unwrap().key(), "2026-01");
        assert_eq!(Month::parse("2026-13"), None);
        assert_eq!(m.label(false), "2026年12月");
        assert_eq!(m.label(true), "December 2026");
        assert_eq!(Month::of(d(2027, 1, 18)).key(), "2027-01");
    }
}
