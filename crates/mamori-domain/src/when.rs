//! A date and time (to the minute, in Japan) as people type it into one text field: the form
//! prefills `2026-12-07 11:30` and people edit it with an IME or a phone keyboard —
//! 「2026/12/7 9:30」「12/7 9:30」「２０２６年１２月７日　９時３０分」「午後3時」, or what a
//! `datetime-local` field sent (`2026-12-07T09:30`). One text field is one Tab stop (a
//! `datetime-local` costs up to seven).
//!
//! The numbers are read in order, whatever separates them (after NFKC):
//! year month day hour minute [second], or month day hour minute (the year is taken from
//! `now`: the latest such time that is not more than a day ahead, so 「12/31 23:00」 typed on
//! 2 January is last year), or year month day (midnight), or hour minute (today). Seconds are
//! dropped: the form, the timeline and the comparison ([`crate::incident::facts::same_minute`])
//! work at the minute.

use chrono::{Datelike, NaiveDate, NaiveDateTime, TimeZone};

use crate::appi::facts::jst;
use crate::vault::normalize::nfkc;

/// Why a text is not a date and time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum WhenError {
    #[error("not a date and time")]
    Unreadable,
    #[error("no such date or time")]
    NoSuchTime,
    #[error("a year is needed")]
    NeedsYear,
}

impl WhenError {
    /// The reason in Japanese, to follow 「発見日時「…」:」.
    pub fn ja(self) -> &'static str {
        match self {
            WhenError::Unreadable => {
                "日時として読めません（例: 2026-12-07 09:30、2026/12/7 9:30、12/7 9:30）"
            }
            WhenError::NoSuchTime => {
                "その日付・時刻はありません（月・日・時・分を確かめてください）"
            }
            WhenError::NeedsYear => "年も入力してください（例: 2026-12-07 09:30）",
        }
    }

    /// The reason in English.
    pub fn en(self) -> &'static str {
        match self {
            WhenError::Unreadable => {
                "is not a date and time (e.g. 2026-12-07 09:30, 2026/12/7 9:30, 12/7 9:30)"
            }
            WhenError::NoSuchTime => "is not a valid date or time",
            WhenError::NeedsYear => "needs a year (e.g. 2026-12-07 09:30)",
        }
    }
}

const MINUTE: i64 = 60_000_000;
const DAY: i64 = 86_400_000_000;

/// Reads a time typed in Japan, to the minute (see the module). Empty is `None`. `now` (µs)
/// completes a time typed without a year or a date; without it such a time is refused.
pub fn parse_minute(text: &str, now: Option<i64>) -> Result<Option<i64>, WhenError> {
    let t = nfkc(text.trim());
    let t = t.trim();
    if t.is_empty() {
        return Ok(None);
    }
    let lower = t.to_lowercase();
    let pm = lower.contains("午後") || lower.contains("pm") || lower.contains("p.m.");
    let am = lower.contains("午前") || lower.contains("am") || lower.contains("a.m.");
    // Letters other than a T between date and time, am/pm and the Japanese units are not
    // separators: 「yesterday」 is not read as nothing.
    let stray = lower
        .replace("a.m.", "")
        .replace("p.m.", "")
        .replace("am", "")
        .replace("pm", "")
        .chars()
        .any(|c| {
            c.is_alphabetic()
                && !matches!(
                    c,
                    't' | '年' | '月' | '日' | '時' | '分' | '秒' | '午' | '前' | '後'
                )
        });
    if stray {
        return Err(WhenError::Unreadable);
    }
    let mut nums: Vec<(u32, usize)> = Vec::new();
    let mut cur = String::new();
    for c in t.chars().chain(std::iter::once(' ')) {
        if c.is_ascii_digit() {
            cur.push(c);
        } else if !cur.is_empty() {
            if cur.len() > 4 {
                return Err(WhenError::Unreadable);
            }
            nums.push((cur.parse().map_err(|_| WhenError::Unreadable)?, cur.len()));
            cur.clear();
        }
    }
    let now_local = now.and_then(|n| jst().timestamp_micros(n).single());
    let (year, month, day, hour, minute) = match nums.as_slice() {
        [(y, 4), (mo, _), (d, _), (h, _), (mi, _)]
        | [(y, 4), (mo, _), (d, _), (h, _), (mi, _), (_, _)] => (Some(*y as i32), *mo, *d, *h, *mi),
        [(mo, l1), (d, l2), (h, _), (mi, _)] if *l1 <= 2 && *l2 <= 2 => (None, *mo, *d, *h, *mi),
        [(y, 4), (mo, _), (d, _)] => (Some(*y as i32), *mo, *d, 0, 0),
        [(h, l1), (mi, l2)] if *l1 <= 2 && *l2 <= 2 && (t.contains(':') || t.contains('時')) => {
            let n = now_local.ok_or(WhenError::NeedsYear)?;
            (Some(n.year()), n.month(), n.day(), *h, *mi)
        }
        _ => return Err(WhenError::Unreadable),
    };
    let hour = match (pm, am, hour) {
        (true, _, h) if h < 12 => h + 12,
        (_, true, 12) => 0,
        (true, true, _) => return Err(WhenError::Unreadable),
        (_, _, h) => h,
    };
    let at = |y: i32| -> Result<i64, WhenError> {
        let naive = NaiveDate::from_ymd_opt(y, month, day)
            .and_then(|d| d.and_hms_opt(hour, minute, 0))
            .ok_or(WhenError::NoSuchTime)?;
        local_micros(&naive).ok_or(WhenError::NoSuchTime)
    };
    if let Some(y) = year {
        return at(y).map(Some);
    }
    let n = now.ok_or(WhenError::NeedsYear)?;
    let y = now_local.map_or(1970, |l| l.year());
    // This year's, unless it is more than a day ahead: then last year's (a date typed in
    // January about December).
    match at(y) {
        Ok(t) if t <= n + DAY => Ok(Some(t)),
        _ => at(y - 1).map(Some),
    }
}

fn local_micros(t: &NaiveDateTime) -> Option<i64> {
    jst()
        .from_local_datetime(t)
        .single()
        .map(|t| t.timestamp_micros())
}

/// An instant as the text field shows it: `2026-12-07 09:30` in Japan (seconds dropped).
pub fn format_minute(micros: i64) -> String {
    jst()
        .timestamp_micros(micros.div_euclid(MINUTE) * MINUTE)
        .single()
        .map_or_else(String::new, |t| t.format("%Y-%m-%d %H:%M").to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> i64 {
        local_micros(
            &NaiveDate::from_ymd_opt(y, mo, d)
                .unwrap()
                .and_hms_opt(h, mi, 0)
                .unwrap(),
        )
        .unwrap()
    }

    fn read(s: &str) -> Result<Option<i64>, WhenError> {
        parse_minute(s, Some(at(2026, 12, 7, 11, 30)))
    }

    #[test]
    fn reads_what_people_type() {
        let want = Some(at(2026, 12, 7, 9, 30));
        for s in [
            "2026-12-07 09:30",
            "2026-12-07T09:30",
            "2026-12-07T09:30:59",
            "2026/12/7 9:30",
            "2026/12/07 9:30",
            "12/7 9:30",
            "１２／７　９：３０",
            "２０２６年１２月７日　９時３０分",
            "2026年12月7日 午前9時30分",
            "2026.12.7 9.30",
            " 2026-12-07 09:30 ",
            "9:30",
        ] {
            assert_eq!(read(s), Ok(want), "{s}");
        }
        assert_eq!(read("2026/12/7 午後3:05"), Ok(Some(at(2026, 12, 7, 15, 5))));
        assert_eq!(read("12/7 3:05 pm"), Ok(Some(at(2026, 12, 7, 15, 5))));
        assert_eq!(
            read("2026-12-07 午前12:10"),
            Ok(Some(at(2026, 12, 7, 0, 10)))
        );
        assert_eq!(read("2026-12-05"), Ok(Some(at(2026, 12, 5, 0, 0))));
        assert_eq!(read(""), Ok(None));
        assert_eq!(read("  "), Ok(None));
    }

    #[test]
    fn a_time_without_a_year_is_not_in_the_future() {
        // Typed on 2 January 2027 about New Year's Eve: last year.
        let now = at(2027, 1, 2, 10, 0);
        assert_eq!(
            parse_minute("12/31 23:00", Some(now)),
            Ok(Some(at(2026, 12, 31, 23, 0)))
        );
        // Tomorrow (within a day) stays this year; the validation of facts refuses it later.
        assert_eq!(
            parse_minute("1/3 09:00", Some(now)),
            Ok(Some(at(2027, 1, 3, 9, 0)))
        );
        assert_eq!(parse_minute("12/31 23:00", None), Err(WhenError::NeedsYear));
        assert_eq!(parse_minute("9:30", None), Err(WhenError::NeedsYear));
    }

    #[test]
    fn refuses_what_it_cannot_read() {
        for s in [
            "yesterday",
            "2026-12",
            "12/7",
            "20261207 0930",
            "9時",
            "2026-12-07 09:30 JST",
        ] {
            assert_eq!(read(s), Err(WhenError::Unreadable), "{s}");
        }
        for s in [
            "2026-02-30 10:00",
            "2026-12-07 24:00",
            "2026-13-01 10:00",
            "2026-12-07 09:60",
        ] {
            assert_eq!(read(s), Err(WhenError::NoSuchTime), "{s}");
        }
        assert!(!WhenError::Unreadable.ja().is_empty());
        assert!(!WhenError::NeedsYear.en().is_empty());
    }

    #[test]
    fn shows_the_minute_it_reads_back() {
        let t = at(2026, 12, 7, 9, 30) + 59_000_000;
        assert_eq!(format_minute(t), "2026-12-07 09:30");
        assert_eq!(
            parse_minute(&format_minute(t), None),
            Ok(Some(at(2026, 12, 7, 9, 30)))
        );
        assert!(crate::incident::facts::same_minute(
            parse_minute(&format_minute(t), None).unwrap().unwrap(),
            t
        ));
    }
}
