//! Cross-checks the generated holiday table of `mamori_domain::calendar` against two independent
//! sources, committed as fixtures by `scripts/calendar/generate.sh`:
//!
//! * `cao_syukujitsu.csv`: the Cabinet Office's own list (内閣府「国民の祝日について」), as mirrored
//!   by the npm package `japanese-public-holidays`; it names substitute and citizens' holidays 休日.
//! * `holiday_jp.csv`: the holiday_jp dataset (npm `@holiday-jp/holiday_jp`), from 1970.
//!
//! Together they cover every year the calendar claims, so a wrong or missing date in any year is
//! caught here, whatever package the table was generated from.

use std::collections::BTreeSet;

use chrono::{Datelike, NaiveDate};
use mamori_domain::calendar;

fn dates(csv: &str) -> BTreeSet<NaiveDate> {
    csv.lines()
        .skip(1)
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let date = line.split(',').next().unwrap_or_default();
            date.parse()
                .unwrap_or_else(|e| panic!("fixture date {date:?}: {e}"))
        })
        .collect()
}

fn table_years(years: std::ops::RangeInclusive<i32>) -> BTreeSet<NaiveDate> {
    calendar::national_holidays()
        .map(|(d, _)| d)
        .filter(|d| years.contains(&d.year()))
        .collect()
}

fn assert_same(source: &str, expected: &BTreeSet<NaiveDate>, years: std::ops::RangeInclusive<i32>) {
    let ours = table_years(years.clone());
    let expected: BTreeSet<NaiveDate> = expected
        .iter()
        .copied()
        .filter(|d| years.contains(&d.year()))
        .collect();
    let missing: Vec<_> = expected.difference(&ours).collect();
    let extra: Vec<_> = ours.difference(&expected).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "calendar differs from {source} in {years:?}: missing {missing:?}, extra {extra:?}"
    );
    // Every year in the range is present in the source: an empty year would pass vacuously.
    for year in years {
        assert!(
            expected.iter().any(|d| d.year() == year),
            "{source} has no {year}"
        );
    }
}

#[test]
fn agrees_with_the_cabinet_office_list() {
    let cao = dates(include_str!("fixtures/cao_syukujitsu.csv"));
    let last = cao
        .iter()
        .map(Datelike::year)
        .max()
        .unwrap_or(calendar::FIRST_YEAR);
    assert_same("the Cabinet Office list", &cao, calendar::FIRST_YEAR..=last);
    // Every 休日 of the Cabinet Office list is a substitute or citizens' holiday in ours.
    for line in include_str!("fixtures/cao_syukujitsu.csv").lines().skip(1) {
        if let Some((date, "休日")) = line.split_once(',') {
            let date: NaiveDate = date.parse().expect("fixture date");
            let name = calendar::national_holiday(date).expect("covered");
            assert!(
                matches!(name, Some("振替休日" | "国民の休日")),
                "{date}: {name:?}"
            );
        }
    }
}

#[test]
fn agrees_with_holiday_jp() {
    let hjp = dates(include_str!("fixtures/holiday_jp.csv"));
    assert_same("holiday_jp", &hjp, 1970..=calendar::LAST_YEAR);
}

#[test]
fn the_two_sources_together_cover_every_claimed_year() {
    let cao = dates(include_str!("fixtures/cao_syukujitsu.csv"));
    let hjp = dates(include_str!("fixtures/holiday_jp.csv"));
    for year in calendar::coverage() {
        assert!(
            cao.iter().chain(hjp.iter()).any(|d| d.year() == year),
            "no independent source for {year}"
        );
    }
}
