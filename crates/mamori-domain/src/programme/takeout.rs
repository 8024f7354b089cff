//! Take-outs of personal data (持ち出し, issue 17 part 4): a person asks to take a ledger entry's
//! data out of the office on a device or medium of the register, or on paper, until a day; the
//! head of the person's department (or of a department above it) or the privacy office approves
//! or refuses with a reason — never the person who asked; the person then records the return or
//! the destruction with its day.
//!
//! Pure rules: the states and what may follow each, who may decide, when a take-out is overdue
//! (approved, nothing recorded, the day after its last day in JST), and which take-outs were open
//! in a month (what the monthly inspection and the monthly report show).

use super::schedule::{last_day_of_month, Month};
use chrono::NaiveDate;

/// Where a take-out is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// Asked, waiting for a decision.
    Requested,
    /// Approved; the data is out until the return or destruction is recorded.
    Approved,
    Refused,
    /// The return or the destruction was recorded.
    Closed,
    /// Withdrawn by the person before a decision.
    Withdrawn,
}

impl Status {
    pub const ALL: [Status; 5] = [
        Status::Requested,
        Status::Approved,
        Status::Refused,
        Status::Closed,
        Status::Withdrawn,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Status::Requested => "requested",
            Status::Approved => "approved",
            Status::Refused => "refused",
            Status::Closed => "closed",
            Status::Withdrawn => "withdrawn",
        }
    }

    pub fn from_code(code: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.code() == code)
    }

    /// Open: asked or out, not yet closed.
    pub fn is_open(self) -> bool {
        matches!(self, Status::Requested | Status::Approved)
    }
}

/// What happened to the data at the end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Evidence {
    Returned,
    Destroyed,
}

impl Evidence {
    pub fn code(self) -> &'static str {
        match self {
            Evidence::Returned => "returned",
            Evidence::Destroyed => "destroyed",
        }
    }

    pub fn from_code(code: &str) -> Option<Evidence> {
        [Evidence::Returned, Evidence::Destroyed]
            .into_iter()
            .find(|e| e.code() == code)
    }
}

/// A take-out may last at most this many days from the day it is asked.
pub const MAX_DAYS: i64 = 92;

/// Why something about a take-out is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The last day is before today.
    UntilPast,
    /// The last day is more than [`MAX_DAYS`] away.
    UntilTooFar,
    /// The person who asked may not decide their own request.
    OwnRequest,
    /// The decider is not the head of the requester's department or of one above it.
    NotTheirHead,
    /// Already decided (or withdrawn).
    NotPending,
    /// A refusal needs its reason.
    ReasonMissing,
    /// Only an approved take-out gets its return or destruction.
    NotOut,
    /// The day of the return or destruction is after today or before the request.
    EvidenceDay,
}

impl Refusal {
    pub fn field(self) -> &'static str {
        match self {
            Refusal::UntilPast | Refusal::UntilTooFar => "until",
            Refusal::ReasonMissing => "reason",
            Refusal::EvidenceDay => "on",
            Refusal::OwnRequest | Refusal::NotTheirHead | Refusal::NotPending | Refusal::NotOut => {
                "decision"
            }
        }
    }

    pub fn ja(self) -> &'static str {
        match self {
            Refusal::UntilPast => "持ち出し期限が今日より前です",
            Refusal::UntilTooFar => "持ち出し期限は申請日から92日以内にしてください",
            Refusal::OwnRequest => {
                "自分の申請は承認・却下できません（部門責任者または個人情報保護事務局が判断します）"
            }
            Refusal::NotTheirHead => {
                "申請者の部署（またはその上位の部署）の部門責任者だけが判断できます"
            }
            Refusal::NotPending => "この申請はすでに判断済みか、取り下げられています",
            Refusal::ReasonMissing => "却下する理由を入力してください",
            Refusal::NotOut => "承認された持ち出しだけ、返却・廃棄を記録できます",
            Refusal::EvidenceDay => "返却・廃棄の日は申請日から今日までの日にしてください",
        }
    }

    pub fn en(self) -> &'static str {
        match self {
            Refusal::UntilPast => "the last day is before today",
            Refusal::UntilTooFar => "a take-out may last at most 92 days from the request",
            Refusal::OwnRequest => "nobody may approve or refuse their own request (a department head or the privacy office decides)",
            Refusal::NotTheirHead => "only a head of the requester's department (or of one above it) may decide",
            Refusal::NotPending => "this request was already decided or withdrawn",
            Refusal::ReasonMissing => "give the reason for the refusal",
            Refusal::NotOut => "only an approved take-out gets its return or destruction recorded",
            Refusal::EvidenceDay => "the day of the return or destruction must be between the request and today",
        }
    }
}

/// Checks the last day of a new take-out.
pub fn check_until(until: NaiveDate, today: NaiveDate) -> Result<(), Refusal> {
    if until < today {
        Err(Refusal::UntilPast)
    } else if (until - today).num_days() > MAX_DAYS {
        Err(Refusal::UntilTooFar)
    } else {
        Ok(())
    }
}

/// Who decides, as the use case knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decider {
    pub user_id: i64,
    /// Holds the privacy office's reach over the whole company.
    pub privacy_office: bool,
    /// Heads the requester's department or one above it.
    pub heads_requester: bool,
}

/// Whether `decider` may approve (or, with a reason, refuse) a request of `requester_id` in
/// `status`. The own request is refused first, whatever the role.
pub fn check_decision(
    requester_id: i64,
    status: Status,
    decider: Decider,
    approve: bool,
    reason: &str,
) -> Result<(), Refusal> {
    if decider.user_id == requester_id {
        return Err(Refusal::OwnRequest);
    }
    if !decider.privacy_office && !decider.heads_requester {
        return Err(Refusal::NotTheirHead);
    }
    if status != Status::Requested {
        return Err(Refusal::NotPending);
    }
    if !approve && reason.trim().is_empty() {
        return Err(Refusal::ReasonMissing);
    }
    Ok(())
}

/// Checks the return or destruction of a take-out asked on `requested_on`.
pub fn check_evidence(
    status: Status,
    on: NaiveDate,
    requested_on: NaiveDate,
    today: NaiveDate,
) -> Result<(), Refusal> {
    if status != Status::Approved {
        return Err(Refusal::NotOut);
    }
    if on > today || on < requested_on {
        return Err(Refusal::EvidenceDay);
    }
    Ok(())
}

/// The days an approved take-out is past its last day on `today`; 0 when not overdue.
pub fn days_overdue(status: Status, until: NaiveDate, today: NaiveDate) -> i64 {
    if status == Status::Approved {
        (today - until).num_days().max(0)
    } else {
        0
    }
}

/// Whether a take-out asked on `requested_on` was open at some time in `month`: asked on or
/// before the month's last day, not refused or withdrawn, and not closed before the month's
/// first day (`closed_on`: the day its return or destruction was recorded).
pub fn open_in_month(
    status: Status,
    requested_on: NaiveDate,
    closed_on: Option<NaiveDate>,
    month: Month,
) -> bool {
    let (Some(first), Some(last)) = (
        NaiveDate::from_ymd_opt(month.year, month.month, 1),
        last_day_of_month(month.year, month.month),
    ) else {
        return false;
    };
    if matches!(status, Status::Refused | Status::Withdrawn) || requested_on > last {
        return false;
    }
    match (status, closed_on) {
        (Status::Closed, Some(c)) => c >= first,
        (Status::Closed, None) => false,
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn who_decides() {
        let head = Decider {
            user_id: 2,
            privacy_office: false,
            heads_requester: true,
        };
        let other_head = Decider {
            heads_requester: false,
            ..head
        };
        let office = Decider {
            user_id: 3,
            privacy_office: true,
            heads_requester: false,
        };
        let own = Decider {
            user_id: 1,
            privacy_office: true,
            heads_requester: true,
        };
        for (decider, status, approve, reason, want) in [
            (head, Status::Requested, true, "", Ok(())),
            (office, Status::Requested, true, "", Ok(())),
            (
                head,
                Status::Requested,
                false,
                "  ",
                Err(Refusal::ReasonMissing),
            ),
            (head, Status::Requested, false, "暗号化なし", Ok(())),
            (own, Status::Requested, true, "", Err(Refusal::OwnRequest)),
            (
                other_head,
                Status::Requested,
                true,
                "",
                Err(Refusal::NotTheirHead),
            ),
            (head, Status::Approved, true, "", Err(Refusal::NotPending)),
            (
                head,
                Status::Withdrawn,
                false,
                "x",
                Err(Refusal::NotPending),
            ),
        ] {
            assert_eq!(
                check_decision(1, status, decider, approve, reason),
                want,
                "{decider:?} {status:?}"
            );
        }
    }

    #[test]
    fn last_days_and_overdue() {
        let today = d("2026-12-07");
        assert_eq!(check_until(d("2026-12-06"), today), Err(Refusal::UntilPast));
        assert_eq!(check_until(today, today), Ok(()));
        assert_eq!(check_until(d("2027-03-08"), today), Ok(()));
        assert_eq!(
            check_until(d("2027-03-10"), today),
            Err(Refusal::UntilTooFar)
        );
        assert_eq!(days_overdue(Status::Approved, d("2026-12-07"), today), 0);
        assert_eq!(days_overdue(Status::Approved, d("2026-12-05"), today), 2);
        assert_eq!(days_overdue(Status::Requested, d("2026-12-05"), today), 0);
        assert_eq!(days_overdue(Status::Closed, d("2026-12-05"), today), 0);
    }

    #[test]
    fn evidence_days() {
        let today = d("2026-12-07");
        let asked = d("2026-12-01");
        assert_eq!(
            check_evidence(Status::Approved, today, asked, today),
            Ok(())
        );
        assert_eq!(
            check_evidence(Status::Approved, asked, asked, today),
            Ok(())
        );
        assert_eq!(
            check_evidence(Status::Approved, d("2026-12-08"), asked, today),
            Err(Refusal::EvidenceDay)
        );
        assert_eq!(
            check_evidence(Status::Approved, d("2026-11-30"), asked, today),
            Err(Refusal::EvidenceDay)
        );
        assert_eq!(
            check_evidence(Status::Requested, today, asked, today),
            Err(Refusal::NotOut)
        );
    }

    #[test]
    fn open_in_a_month() {
        let dec = Month {
            year: 2026,
            month: 12,
        };
        for (status, asked, closed, want) in [
            (Status::Approved, "2026-11-20", None, true),
            (Status::Requested, "2026-12-31", None, true),
            (Status::Approved, "2027-01-01", None, false),
            (Status::Closed, "2026-11-20", Some("2026-11-30"), false),
            (Status::Closed, "2026-11-20", Some("2026-12-01"), true),
            (Status::Closed, "2026-12-20", Some("2026-12-21"), true),
            (Status::Refused, "2026-12-02", None, false),
            (Status::Withdrawn, "2026-12-02", None, false),
        ] {
            assert_eq!(
                open_in_month(status, d(asked), closed.map(d), dec),
                want,
                "{status:?} {asked} {closed:?}"
            );
        }
    }

    #[test]
    fn codes_round_trip() {
        for s in Status::ALL {
            assert_eq!(Status::from_code(s.code()), Some(s));
        }
        assert!(Status::Approved.is_open() && Status::Requested.is_open());
        assert!(!Status::Closed.is_open());
        assert_eq!(Evidence::from_code("destroyed"), Some(Evidence::Destroyed));
    }
}
