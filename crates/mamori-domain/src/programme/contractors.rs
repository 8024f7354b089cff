//! Contractors (委託先, issue 17 part 5): APPI Art. 25 makes the supervision of a contractor
//! that handles personal data a duty of the entruster. Seed 004 names what every contract must
//! hold; mamori keeps, per contractor, a checklist of the selection checks (委託先選定) and of
//! the contract clauses, each item with a status and its evidence, and a periodic review.
//!
//! Pure rules: the checklist's items as codes (shown in the reader's language by the web
//! layer), the statuses, the review interval and its next due date, and when a reminder of a
//! review goes out.

use crate::ledger::{review_reminder, ReviewReminder};
use chrono::{Months, NaiveDate};

/// Whether an item belongs to the selection of the contractor or to its contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckGroup {
    Selection,
    Clause,
}

/// One item of a contractor's checklist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CheckItem {
    /// 委託先選定: the contractor's safety measures were assessed against the selection
    /// criteria (a questionnaire, a visit).
    Assessment,
    /// 委託先選定: a third-party certification (privacy mark, ISMS) or an equivalent was seen.
    Certification,
    /// 契約: the data is used only for the entrusted purpose (利用目的の限定).
    Purpose,
    /// 契約: the safety measures the contractor keeps (安全管理措置), confidentiality included.
    Security,
    /// 契約: the conditions of subcontracting (再委託の条件: prior consent, same duties).
    Subcontracting,
    /// 契約: audit rights and reports (監査・報告), incidents reported at once.
    Audit,
    /// 契約: return or deletion of the data when the contract ends (返却・削除).
    ReturnDeletion,
}

impl CheckItem {
    /// Every item, in the order of the checklist: the selection first, then seed 004's five
    /// clauses.
    pub const ALL: [CheckItem; 7] = [
        CheckItem::Assessment,
        CheckItem::Certification,
        CheckItem::Purpose,
        CheckItem::Security,
        CheckItem::Subcontracting,
        CheckItem::Audit,
        CheckItem::ReturnDeletion,
    ];

    pub fn code(self) -> &'static str {
        match self {
            CheckItem::Assessment => "assessment",
            CheckItem::Certification => "certification",
            CheckItem::Purpose => "purpose",
            CheckItem::Security => "security",
            CheckItem::Subcontracting => "subcontracting",
            CheckItem::Audit => "audit",
            CheckItem::ReturnDeletion => "return_deletion",
        }
    }

    pub fn parse(code: &str) -> Option<CheckItem> {
        CheckItem::ALL.into_iter().find(|i| i.code() == code)
    }

    pub fn group(self) -> CheckGroup {
        match self {
            CheckItem::Assessment | CheckItem::Certification => CheckGroup::Selection,
            _ => CheckGroup::Clause,
        }
    }
}

/// The state of one item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CheckStatus {
    Met,
    NotMet,
    /// Nobody has looked yet (also an item without any record).
    #[default]
    Unchecked,
}

impl CheckStatus {
    pub const ALL: [CheckStatus; 3] = [
        CheckStatus::Met,
        CheckStatus::NotMet,
        CheckStatus::Unchecked,
    ];

    pub fn code(self) -> &'static str {
        match self {
            CheckStatus::Met => "met",
            CheckStatus::NotMet => "not_met",
            CheckStatus::Unchecked => "unchecked",
        }
    }

    pub fn parse(code: &str) -> Option<CheckStatus> {
        CheckStatus::ALL.into_iter().find(|s| s.code() == code)
    }
}

/// The outcome of a periodic review.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewResult {
    /// Handling is as agreed.
    Satisfactory,
    /// Problems found; improvements asked for.
    Improvements,
    /// The relationship is to end (the data returned or deleted).
    Terminate,
}

impl ReviewResult {
    pub const ALL: [ReviewResult; 3] = [
        ReviewResult::Satisfactory,
        ReviewResult::Improvements,
        ReviewResult::Terminate,
    ];

    pub fn code(self) -> &'static str {
        match self {
            ReviewResult::Satisfactory => "satisfactory",
            ReviewResult::Improvements => "improvements",
            ReviewResult::Terminate => "terminate",
        }
    }

    pub fn parse(code: &str) -> Option<ReviewResult> {
        ReviewResult::ALL.into_iter().find(|s| s.code() == code)
    }
}

/// The checklist in figures: how many items are met, not met and not checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ChecklistSummary {
    pub met: usize,
    pub not_met: usize,
    pub unchecked: usize,
}

impl ChecklistSummary {
    /// The summary of the current status of each item (an item without a record is not
    /// checked).
    pub fn of(current: &[(CheckItem, CheckStatus)]) -> ChecklistSummary {
        let mut s = ChecklistSummary::default();
        for item in CheckItem::ALL {
            let status = current
                .iter()
                .find(|(i, _)| *i == item)
                .map_or(CheckStatus::Unchecked, |(_, st)| *st);
            match status {
                CheckStatus::Met => s.met += 1,
                CheckStatus::NotMet => s.not_met += 1,
                CheckStatus::Unchecked => s.unchecked += 1,
            }
        }
        s
    }

    /// Every item met.
    pub fn complete(self) -> bool {
        self.not_met == 0 && self.unchecked == 0
    }
}

/// The longest review interval: five years.
pub const MAX_INTERVAL_MONTHS: u32 = 60;
/// The interval of a new contractor when none is typed: yearly.
pub const DEFAULT_INTERVAL_MONTHS: u32 = 12;

/// A review interval in months (1 to 60).
pub fn check_interval(months: u64) -> Result<u32, (&'static str, &'static str)> {
    match u32::try_from(months) {
        Ok(m) if (1..=MAX_INTERVAL_MONTHS).contains(&m) => Ok(m),
        _ => Err((
            "見直しの間隔は1〜60か月で入力してください",
            "the review interval must be 1 to 60 months",
        )),
    }
}

/// The next review after one on `from`: `months` later, on the month's last day when the
/// month is shorter (31 January + 1 month = 28 or 29 February).
pub fn next_review(from: NaiveDate, months: u32) -> NaiveDate {
    from.checked_add_months(Months::new(months))
        .unwrap_or(NaiveDate::MAX)
}

/// The reminder of a review due on `due` to send on `today` (JST), if any: 30 and 7 days
/// before, the day after the due date, then weekly while no review is recorded — the rule of
/// the ledger's yearly review, so that both reminders read alike.
pub fn reminder(due: NaiveDate, today: NaiveDate) -> Option<ReviewReminder> {
    review_reminder(due, today)
}

/// The key that makes one reminder of one due date go once.
pub fn reminder_key(contractor_id: i64, due: NaiveDate, r: ReviewReminder) -> String {
    match r {
        ReviewReminder::Before(d) => format!("contractor:{contractor_id}:{due}:before{d}"),
        ReviewReminder::Overdue(d) => format!("contractor:{contractor_id}:{due}:overdue{d}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn codes_round_trip_and_the_five_clauses_are_there() {
        for i in CheckItem::ALL {
            assert_eq!(CheckItem::parse(i.code()), Some(i));
        }
        let clauses: Vec<&str> = CheckItem::ALL
            .iter()
            .filter(|i| i.group() == CheckGroup::Clause)
            .map(|i| i.code())
            .collect();
        assert_eq!(
            clauses,
            [
                "purpose",
                "security",
                "subcontracting",
                "audit",
                "return_deletion"
            ]
        );
        for s in CheckStatus::ALL {
            assert_eq!(CheckStatus::parse(s.code()), Some(s));
        }
        for r in ReviewResult::ALL {
            assert_eq!(ReviewResult::parse(r.code()), Some(r));
        }
        assert_eq!(CheckItem::parse("Purpose"), None);
        assert_eq!(CheckStatus::parse(""), None);
    }

    #[test]
    fn summary_counts_missing_items_as_unchecked() {
        let s = ChecklistSummary::of(&[
            (CheckItem::Purpose, CheckStatus::Met),
            (CheckItem::Subcontracting, CheckStatus::NotMet),
        ]);
        assert_eq!(
            s,
            ChecklistSummary {
                met: 1,
                not_met: 1,
                unchecked: 5
            }
        );
        assert!(!s.complete());
        let all: Vec<_> = CheckItem::ALL
            .iter()
            .map(|i| (*i, CheckStatus::Met))
            .collect();
        assert!(ChecklistSummary::of(&all).complete());
    }

    #[test]
    fn intervals_and_next_reviews() {
        for (typed, ok) in [
            (0, None),
            (1, Some(1)),
            (12, Some(12)),
            (60, Some(60)),
            (61, None),
        ] {
            assert_eq!(check_interval(typed).ok(), ok, "{typed}");
        }
        for (from, months, next) in [
            (d(2026, 4, 1), 12, d(2027, 4, 1)),
            (d(2026, 1, 31), 1, d(2026, 2, 28)),
            (d(2027, 11, 30), 3, d(2028, 2, 29)),
            (d(2026, 12, 7), 6, d(2027, 6, 7)),
        ] {
            assert_eq!(next_review(from, months), next, "{from} + {months}");
        }
    }

    #[test]
    fn reminders_before_and_after_and_their_keys() {
        let due = d(2026, 12, 24);
        for (today, want) in [
            (d(2026, 11, 24), Some(ReviewReminder::Before(30))),
            (d(2026, 11, 25), None),
            (d(2026, 12, 17), Some(ReviewReminder::Before(7))),
            (d(2026, 12, 24), None),
            (d(2026, 12, 25), Some(ReviewReminder::Overdue(1))),
            (d(2027, 1, 1), Some(ReviewReminder::Overdue(8))),
        ] {
            assert_eq!(reminder(due, today), want, "{today}");
        }
        assert_eq!(
            reminder_key(3, due, ReviewReminder::Before(7)),
            "contractor:3:2026-12-24:before7"
        );
        assert_ne!(
            reminder_key(3, due, ReviewReminder::Overdue(1)),
            reminder_key(4, due, ReviewReminder::Overdue(1))
        );
    }
}
