//! Volume figures of the contact desk, from the plain rows the store gives (codes and times,
//! never what anybody said), and the FAQ proposal rule.
//!
//! Days and hours are Japan's (UTC+9, no summer time). Time is a parameter: nothing here reads
//! a clock.

use chrono::{Days, NaiveDate};

use super::{CallerType, Category, InquiryChannel, Status, PROPOSE_AT};
use crate::incident::jst_date;

/// The longest window of days the figures cover: a year.
pub const MAX_DAYS: u32 = 366;

const MICROS_PER_SEC: i64 = 1_000_000;
const MICROS_PER_HOUR: i64 = 3_600 * MICROS_PER_SEC;
const JST_HOURS: i64 = 9;

/// One inquiry as the figures see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InquiryFact {
    pub channel: InquiryChannel,
    pub category: Category,
    pub caller: CallerType,
    pub status: Status,
    /// Microseconds since the epoch.
    pub created_at: i64,
    /// When it was closed (microseconds), if it is.
    pub closed_at: Option<i64>,
    /// The time the operator recorded for it, if any.
    pub handling_secs: Option<i64>,
}

/// One JST day of the window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayVolume {
    pub date: NaiveDate,
    /// Per channel, in `InquiryChannel::ALL` order.
    pub by_channel: Vec<(InquiryChannel, i64)>,
    pub total: i64,
}

/// The desk's figures over the last days.
///
/// Everything but the backlog counts the inquiries created in the window (the last `days` JST
/// days ending today); the backlog counts every inquiry still open, however old.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Volumes {
    /// Every day of the window, oldest first, days without inquiries included.
    pub days: Vec<DayVolume>,
    /// Per hour of the day in Japan, 0–23.
    pub per_hour: [i64; 24],
    /// Every category, in `Category::ALL` order.
    pub by_category: Vec<(Category, i64)>,
    /// Every caller type, in `CallerType::ALL` order.
    pub by_caller: Vec<(CallerType, i64)>,
    /// Inquiries created in the window.
    pub total: i64,
    /// Inquiries not closed (open, escalated or replied), of any date.
    pub open: i64,
    /// Of those, the ones waiting for the privacy office.
    pub escalated: i64,
    /// Mean recorded handling time in seconds (rounded), over the inquiries with one.
    pub avg_handling_secs: Option<i64>,
    /// Median time from creation to closing in seconds, over the closed inquiries.
    pub median_close_secs: Option<i64>,
    /// The day with the most inquiries (the earliest of equals); `None` when there were none.
    pub busiest_day: Option<(NaiveDate, i64)>,
    /// The hour with the most inquiries (the earliest of equals); `None` when there were none.
    pub busiest_hour: Option<(u32, i64)>,
}

/// The hour of the day in Japan of an instant (microseconds since the epoch).
fn jst_hour(micros: i64) -> usize {
    (micros.div_euclid(MICROS_PER_HOUR) + JST_HOURS).rem_euclid(24) as usize
}

fn position<T: PartialEq>(all: &[T], x: &T) -> Option<usize> {
    all.iter().position(|a| a == x)
}

impl Volumes {
    /// The figures at `now` (microseconds) over the last `days` JST days, today included;
    /// `days` above [`MAX_DAYS`] counts as `MAX_DAYS`, and 0 gives an empty window (the
    /// backlog is still counted).
    pub fn compute(facts: &[InquiryFact], now: i64, days: u32) -> Volumes {
        let days = days.min(MAX_DAYS);
        let today = jst_date(now);
        let first = days
            .checked_sub(1)
            .and_then(|back| today.checked_sub_days(Days::new(u64::from(back))));
        let mut window: Vec<DayVolume> = first
            .map(|first| {
                first
                    .iter_days()
                    .take_while(|d| *d <= today)
                    .map(|date| DayVolume {
                        date,
                        by_channel: InquiryChannel::ALL.iter().map(|c| (*c, 0)).collect(),
                        total: 0,
                    })
                    .collect()
            })
            .unwrap_or_default();

        let mut per_hour = [0_i64; 24];
        let mut by_category: Vec<(Category, i64)> = Category::ALL.iter().map(|c| (*c, 0)).collect();
        let mut by_caller: Vec<(CallerType, i64)> =
            CallerType::ALL.iter().map(|c| (*c, 0)).collect();
        let (mut total, mut open, mut escalated) = (0_i64, 0_i64, 0_i64);
        let (mut handling_sum, mut handling_n) = (0_i128, 0_i128);
        let mut to_close: Vec<i64> = Vec::new();

        for f in facts {
            if f.status.is_open() {
                open += 1;
                if f.status == Status::Escalated {
                    escalated += 1;
                }
            }
            let Some(day) = first.and_then(|first| {
                let i = jst_date(f.created_at)
                    .signed_duration_since(first)
                    .num_days();
                usize::try_from(i).ok().filter(|i| *i < window.len())
            }) else {
                continue;
            };
            let d = &mut window[day];
            d.total += 1;
            if let Some(i) = position(InquiryChannel::ALL, &f.channel) {
                d.by_channel[i].1 += 1;
            }
            per_hour[jst_hour(f.created_at)] += 1;
            if let Some(i) = position(Category::ALL, &f.category) {
                by_category[i].1 += 1;
            }
            if let Some(i) = position(CallerType::ALL, &f.caller) {
                by_caller[i].1 += 1;
            }
            total += 1;
            // A negative time is a bad row, not a fast call.
            if let Some(secs) = f.handling_secs.filter(|s| *s >= 0) {
                handling_sum += i128::from(secs);
                handling_n += 1;
            }
            if f.status == Status::Closed {
                if let Some(closed) = f.closed_at {
                    if let Some(micros) = closed.checked_sub(f.created_at).filter(|m| *m >= 0) {
                        to_close.push(micros);
                    }
                }
            }
        }

        let avg_handling_secs = (handling_n > 0).then(|| {
            // Rounded half up; the sum of i64 values over a slice cannot overflow i128.
            let avg = (2 * handling_sum + handling_n) / (2 * handling_n);
            i64::try_from(avg).unwrap_or(i64::MAX)
        });
        let busiest_day = window.iter().filter(|d| d.total > 0).fold(
            None,
            |best: Option<(NaiveDate, i64)>, d| match best {
                Some((_, n)) if n >= d.total => best,
                _ => Some((d.date, d.total)),
            },
        );
        let busiest_hour = per_hour.iter().enumerate().filter(|(_, n)| **n > 0).fold(
            None,
            |best: Option<(u32, i64)>, (h, n)| match best {
                Some((_, m)) if m >= *n => best,
                _ => Some((h as u32, *n)),
            },
        );
        Volumes {
            days: window,
            per_hour,
            by_category,
            by_caller,
            total,
            open,
            escalated,
            avg_handling_secs,
            median_close_secs: median(&mut to_close).map(|m| m / MICROS_PER_SEC),
            busiest_day,
            busiest_hour,
        }
    }
}

/// The median (of an even count, the mean of the middle two, rounded down).
fn median(values: &mut [i64]) -> Option<i64> {
    values.sort_unstable();
    let n = values.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => values.get(n / 2).copied(),
        _ => {
            let (a, b) = (values.get(n / 2 - 1)?, values.get(n / 2)?);
            // Without overflow: a + (b - a) / 2, both non-negative here and b >= a.
            Some(a + (b - a) / 2)
        }
    }
}

/// The categories to propose an FAQ entry for: at least [`PROPOSE_AT`] inquiries and no
/// approved entry, the most frequent first (equals in `Category::ALL` order). `Other` is never
/// proposed: it is not one topic. A category listed twice counts once with both counts.
pub fn proposals(counts_by_category: &[(Category, i64)], approved: &[Category]) -> Vec<Category> {
    let mut counts: Vec<(Category, i64)> = Category::ALL.iter().map(|c| (*c, 0)).collect();
    for (category, n) in counts_by_category {
        if let Some(i) = position(Category::ALL, category) {
            counts[i].1 = counts[i].1.saturating_add((*n).max(0));
        }
    }
    let mut out: Vec<(Category, i64)> = counts
        .into_iter()
        .filter(|(c, n)| *c != Category::Other && *n >= PROPOSE_AT && !approved.contains(c))
        .collect();
    // Stable: equals keep `Category::ALL` order.
    out.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
    out.into_iter().map(|(c, _)| c).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::incident::jst_midnight;

    const SEC: i64 = MICROS_PER_SEC;
    const HOUR: i64 = MICROS_PER_HOUR;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    /// 2026-04-10 12:00 JST.
    fn now() -> i64 {
        jst_midnight(date(2026, 4, 10)) + 12 * HOUR
    }

    fn fact(created_at: i64) -> InquiryFact {
        InquiryFact {
            channel: InquiryChannel::Phone,
            category: Category::Items,
            caller: CallerType::Customer,
            status: Status::Closed,
            created_at,
            closed_at: None,
            handling_secs: None,
        }
    }

    fn day(v: &Volumes, d: NaiveDate) -> &DayVolume {
        v.days.iter().find(|x| x.date == d).unwrap()
    }

    #[test]
    fn empty_input_gives_zero_filled_figures() {
        let v = Volumes::compute(&[], now(), 7);
        assert_eq!(v.days.len(), 7);
        assert_eq!(v.days.first().map(|d| d.date), Some(date(2026, 4, 4)));
        assert_eq!(v.days.last().map(|d| d.date), Some(date(2026, 4, 10)));
        assert!(v
            .days
            .iter()
            .all(|d| d.total == 0 && d.by_channel.len() == 3));
        assert_eq!(v.per_hour, [0; 24]);
        assert_eq!(v.by_category.len(), Category::ALL.len());
        assert_eq!(
            v.by_category.iter().map(|c| c.0).collect::<Vec<_>>(),
            Category::ALL
        );
        assert!(v.by_category.iter().all(|c| c.1 == 0));
        assert_eq!(v.by_caller.len(), CallerType::ALL.len());
        assert_eq!((v.total, v.open, v.escalated), (0, 0, 0));
        assert_eq!(v.avg_handling_secs, None);
        assert_eq!(v.median_close_secs, None);
        assert_eq!(v.busiest_day, None);
        assert_eq!(v.busiest_hour, None);
    }

    #[test]
    fn the_day_turns_at_15_utc() {
        // 2026-04-08T15:00:00Z is 2026-04-09 00:00 JST.
        let midnight = jst_midnight(date(2026, 4, 9));
        assert_eq!(midnight, 1_775_660_400 * SEC);
        let cases: &[(i64, NaiveDate, usize)] = &[
            (midnight - 1, date(2026, 4, 8), 23),
            (midnight, date(2026, 4, 9), 0),
            (midnight + HOUR - 1, date(2026, 4, 9), 0),
            (midnight + 9 * HOUR, date(2026, 4, 9), 9),
            // 23:59:59 JST today is today.
            (jst_midnight(date(2026, 4, 11)) - 1, date(2026, 4, 10), 23),
        ];
        for (at, want_day, want_hour) in cases {
            let v = Volumes::compute(&[fact(*at)], now(), 7);
            assert_eq!(day(&v, *want_day).total, 1, "{at}");
            assert_eq!(v.days.iter().map(|d| d.total).sum::<i64>(), 1, "{at}");
            assert_eq!(v.per_hour[*want_hour], 1, "{at}");
            assert_eq!(v.busiest_day, Some((*want_day, 1)));
            assert_eq!(v.busiest_hour, Some((*want_hour as u32, 1)));
        }
    }

    #[test]
    fn only_the_window_is_counted() {
        let cases: &[(i64, bool)] = &[
            // The first day of a 7-day window ending 2026-04-10 is 2026-04-04.
            (jst_midnight(date(2026, 4, 4)), true),
            (jst_midnight(date(2026, 4, 4)) - 1, false),
            // Tomorrow (a clock ahead) is outside.
            (jst_midnight(date(2026, 4, 11)), false),
            (i64::MIN, false),
            (i64::MAX, false),
        ];
        for (at, inside) in cases {
            let mut f = fact(*at);
            f.status = Status::Open;
            f.handling_secs = Some(60);
            let v = Volumes::compute(&[f], now(), 7);
            assert_eq!(v.total, i64::from(*inside), "{at}");
            assert_eq!(v.per_hour.iter().sum::<i64>(), i64::from(*inside), "{at}");
            assert_eq!(
                v.by_category.iter().map(|c| c.1).sum::<i64>(),
                i64::from(*inside)
            );
            assert_eq!(v.avg_handling_secs.is_some(), *inside);
            // The backlog is every open inquiry, however old.
            assert_eq!(v.open, 1);
        }
    }

    #[test]
    fn window_lengths() {
        assert!(Volumes::compute(&[fact(now())], now(), 0).days.is_empty());
        assert_eq!(Volumes::compute(&[fact(now())], now(), 0).total, 0);
        assert_eq!(Volumes::compute(&[fact(now())], now(), 1).days.len(), 1);
        assert_eq!(
            Volumes::compute(&[], now(), u32::MAX).days.len(),
            MAX_DAYS as usize
        );
        // A clock at the ends of time gives no panic.
        let _ = Volumes::compute(&[fact(0)], i64::MIN, 30);
        let _ = Volumes::compute(&[fact(0)], i64::MAX, 30);
    }

    #[test]
    fn counts_per_channel_category_caller_and_backlog() {
        let base = jst_midnight(date(2026, 4, 9)) + 10 * HOUR;
        let mk = |ch, cat, caller, status| InquiryFact {
            channel: ch,
            category: cat,
            caller,
            status,
            ..fact(base)
        };
        use CallerType as C;
        use Category as K;
        use InquiryChannel as Ch;
        let facts = [
            mk(Ch::Phone, K::Affected, C::Customer, Status::Open),
            mk(Ch::Phone, K::Affected, C::Relative, Status::Escalated),
            mk(Ch::Mail, K::Damage, C::Press, Status::Replied),
            mk(Ch::Web, K::Other, C::Customer, Status::Closed),
            InquiryFact {
                created_at: base + 24 * HOUR,
                ..mk(Ch::Web, K::Affected, C::Customer, Status::Escalated)
            },
        ];
        let v = Volumes::compute(&facts, now(), 3);
        assert_eq!(
            day(&v, date(2026, 4, 9)).by_channel,
            vec![(Ch::Phone, 2), (Ch::Mail, 1), (Ch::Web, 1)]
        );
        assert_eq!(day(&v, date(2026, 4, 9)).total, 4);
        assert_eq!(
            day(&v, date(2026, 4, 10)).by_channel,
            vec![(Ch::Phone, 0), (Ch::Mail, 0), (Ch::Web, 1)]
        );
        assert_eq!(day(&v, date(2026, 4, 8)).total, 0);
        assert_eq!(v.per_hour[10], 5);
        assert_eq!(v.by_category[0], (K::Affected, 3));
        assert_eq!(v.by_category[3], (K::Damage, 1));
        assert_eq!(v.by_category.last(), Some(&(K::Other, 1)));
        assert_eq!(v.by_caller[0], (C::Customer, 3));
        assert_eq!(v.by_caller[2], (C::Press, 1));
        assert_eq!((v.total, v.open, v.escalated), (5, 4, 2));
        assert_eq!(v.busiest_day, Some((date(2026, 4, 9), 4)));
        assert_eq!(v.busiest_hour, Some((10, 5)));
    }

    #[test]
    fn handling_average_ignores_none_and_bad_rows() {
        let at = now() - HOUR;
        let cases: &[(&[Option<i64>], Option<i64>)] = &[
            (&[], None),
            (&[None, None], None),
            (&[Some(120), None, Some(240)], Some(180)),
            (&[Some(0)], Some(0)),
            // Rounded: 1.5 s to 2 s.
            (&[Some(1), Some(2)], Some(2)),
            (&[Some(-50), Some(100)], Some(100)),
            (&[Some(i64::MAX), Some(i64::MAX)], Some(i64::MAX)),
        ];
        for (secs, want) in cases {
            let facts: Vec<InquiryFact> = secs
                .iter()
                .map(|s| InquiryFact {
                    handling_secs: *s,
                    ..fact(at)
                })
                .collect();
            assert_eq!(
                Volumes::compute(&facts, now(), 7).avg_handling_secs,
                *want,
                "{secs:?}"
            );
        }
    }

    #[test]
    fn median_time_to_close() {
        let at = now() - 10 * HOUR;
        let closed = |secs: i64| InquiryFact {
            closed_at: Some(at + secs * SEC),
            ..fact(at)
        };
        let cases: &[(&[i64], Option<i64>)] = &[
            (&[], None),
            (&[600], Some(600)),
            (&[300, 60, 900], Some(300)),
            (&[60, 120, 300, 7200], Some(210)),
            // Closed before it was created: a bad row, left out.
            (&[-60, 100], Some(100)),
        ];
        for (secs, want) in cases {
            let facts: Vec<InquiryFact> = secs.iter().map(|s| closed(*s)).collect();
            assert_eq!(
                Volumes::compute(&facts, now(), 7).median_close_secs,
                *want,
                "{secs:?}"
            );
        }
        // A reopened inquiry (open again, an old closed_at kept) is not closed.
        let reopened = InquiryFact {
            status: Status::Open,
            ..closed(60)
        };
        assert_eq!(
            Volumes::compute(&[reopened], now(), 7).median_close_secs,
            None
        );
        // A closed inquiry without its time is left out.
        assert_eq!(
            Volumes::compute(&[fact(at)], now(), 7).median_close_secs,
            None
        );
        // Times at the ends of i64 do not overflow.
        let odd = InquiryFact {
            closed_at: Some(i64::MAX),
            ..fact(i64::MIN)
        };
        let _ = Volumes::compute(&[odd], now(), 7);
    }

    #[test]
    fn the_earliest_of_equal_busiest() {
        let d8 = jst_midnight(date(2026, 4, 8));
        let facts = [fact(d8 + 14 * HOUR), fact(d8 + 24 * HOUR + 9 * HOUR)];
        let v = Volumes::compute(&facts, now(), 7);
        assert_eq!(v.busiest_day, Some((date(2026, 4, 8), 1)));
        assert_eq!(v.busiest_hour, Some((9, 1)));
    }

    #[test]
    fn proposal_table() {
        use Category::{Affected, Cause, Complaint, Damage, Items, Letter, Other};
        type Case<'a> = (&'a [(Category, i64)], &'a [Category], &'a [Category]);
        let p = PROPOSE_AT;
        let cases: &[Case] = &[
            (&[], &[], &[]),
            // Exactly at the threshold is proposed; one below is not.
            (&[(Items, p)], &[], &[Items]),
            (&[(Items, p - 1)], &[], &[]),
            // An approved entry already answers it.
            (&[(Items, p + 5)], &[Items], &[]),
            // Other is never one topic.
            (&[(Other, p + 100)], &[], &[]),
            // Most frequent first; equals in the order of the list.
            (
                &[
                    (Damage, p),
                    (Cause, p + 2),
                    (Affected, p),
                    (Complaint, 1),
                    (Other, 99),
                ],
                &[Complaint],
                &[Cause, Affected, Damage],
            ),
            // A category given twice counts both; a negative count is nothing.
            (&[(Letter, 2), (Letter, p - 2)], &[], &[Letter]),
            (&[(Letter, -10), (Letter, p)], &[], &[Letter]),
            (&[(Letter, i64::MAX), (Letter, i64::MAX)], &[], &[Letter]),
        ];
        for (counts, approved, want) in cases {
            assert_eq!(
                proposals(counts, approved),
                *want,
                "{counts:?} {approved:?}"
            );
        }
    }
}
