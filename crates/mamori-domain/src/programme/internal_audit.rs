//! Internal audit (内部監査, issue 17 part 6): JIS Q 15001 asks for an internal audit at least
//! once a year by somebody independent of what is audited; seed 000 audits every six months.
//! A yearly plan lists the audits (which department, when, who audits); an audit records
//! findings (severity, what was found, the rule it breaks) and corrective actions with an
//! owner, a deadline and a status.
//!
//! **Independence** (the rule, decided here and tested below): the auditor may not audit
//! their own department, a department below it (their own unit's work) nor one above it (a
//! department that contains the auditor's own: they would audit themselves and their own
//! management line). The privacy manager — a person with the privacy office role, who runs the
//! programme being audited — may not audit at all. So the board at the root of the tree,
//! which contains everybody, is audited from outside the company (an external auditor), not
//! with mamori's own users.

use crate::ledger::ReviewReminder;
use crate::org::{ancestors, DeptNode};
use chrono::NaiveDate;

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// 重大な不適合: a requirement is not met at all, or data is at risk.
    Major,
    /// 軽微な不適合: a requirement is met in part.
    Minor,
    /// 観察事項: no non-conformity, a point to improve.
    Observation,
}

impl Severity {
    pub const ALL: [Severity; 3] = [Severity::Major, Severity::Minor, Severity::Observation];

    pub fn code(self) -> &'static str {
        match self {
            Severity::Major => "major",
            Severity::Minor => "minor",
            Severity::Observation => "observation",
        }
    }

    pub fn parse(code: &str) -> Option<Severity> {
        Severity::ALL.into_iter().find(|s| s.code() == code)
    }

    /// A non-conformity needs a corrective action before it is closed; an observation does
    /// not.
    pub fn needs_action(self) -> bool {
        self != Severity::Observation
    }
}

/// Where a corrective action stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActionStatus {
    Open,
    InProgress,
    Done,
}

impl ActionStatus {
    pub const ALL: [ActionStatus; 3] = [
        ActionStatus::Open,
        ActionStatus::InProgress,
        ActionStatus::Done,
    ];

    pub fn code(self) -> &'static str {
        match self {
            ActionStatus::Open => "open",
            ActionStatus::InProgress => "in_progress",
            ActionStatus::Done => "done",
        }
    }

    pub fn parse(code: &str) -> Option<ActionStatus> {
        ActionStatus::ALL.into_iter().find(|s| s.code() == code)
    }
}

/// Whether a finding is still open: a non-conformity without a corrective action, or with one
/// not done yet. An observation is open only while an action it was given is not done.
pub fn finding_open(severity: Severity, actions: &[ActionStatus]) -> bool {
    if actions.is_empty() {
        return severity.needs_action();
    }
    actions.iter().any(|a| *a != ActionStatus::Done)
}

/// Whether an audit is still to be done or was done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditStatus {
    Planned,
    Done,
}

impl AuditStatus {
    pub fn code(self) -> &'static str {
        match self {
            AuditStatus::Planned => "planned",
            AuditStatus::Done => "done",
        }
    }

    pub fn parse(code: &str) -> Option<AuditStatus> {
        match code {
            "planned" => Some(AuditStatus::Planned),
            "done" => Some(AuditStatus::Done),
            _ => None,
        }
    }
}

/// Who is to audit: the department they belong to, and whether they are the privacy manager.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Auditor {
    pub department_id: i64,
    pub privacy_office: bool,
}

/// Why somebody may not audit a department.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The privacy manager runs what is audited.
    PrivacyManager,
    /// The auditor's own department.
    OwnDepartment,
    /// The audited department is below the auditor's (the auditor's own management line).
    BelowAuditor,
    /// The auditor works in a department below the audited one.
    AboveAuditor,
}

impl Refusal {
    /// The reason, in Japanese and English.
    pub fn message(self) -> (&'static str, &'static str) {
        match self {
            Refusal::PrivacyManager => (
                "個人情報保護管理者（個人情報保護事務局の役割を持つ人）は監査員になれません。運用する側が自分を監査することになるためです",
                "the privacy manager (a person with the privacy office role) may not be the auditor: they would audit the programme they run",
            ),
            Refusal::OwnDepartment => (
                "監査員は自分の部署を監査できません。ほかの部署の人を選んでください",
                "an auditor may not audit their own department; choose somebody from another department",
            ),
            Refusal::BelowAuditor => (
                "この部署は監査員の部署の下にあります。監査員は自分の部署の下の部署を監査できません",
                "this department is below the auditor's own department; an auditor may not audit a department under their own",
            ),
            Refusal::AboveAuditor => (
                "監査員はこの部署の下の部署に所属しています。自分の所属を含む部署は監査できません",
                "the auditor works in a department below this one; an auditor may not audit a department that contains their own",
            ),
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Refusal::PrivacyManager => "privacy_manager",
            Refusal::OwnDepartment => "own_department",
            Refusal::BelowAuditor => "below_auditor",
            Refusal::AboveAuditor => "above_auditor",
        }
    }
}

/// Whether `auditor` may audit the department `audited` of the tree `nodes`.
pub fn check_independence(
    nodes: &[DeptNode],
    auditor: Auditor,
    audited: i64,
) -> Result<(), Refusal> {
    if auditor.privacy_office {
        return Err(Refusal::PrivacyManager);
    }
    if auditor.department_id == audited {
        return Err(Refusal::OwnDepartment);
    }
    if ancestors(nodes, audited).contains(&auditor.department_id) {
        return Err(Refusal::BelowAuditor);
    }
    if ancestors(nodes, auditor.department_id).contains(&audited) {
        return Err(Refusal::AboveAuditor);
    }
    Ok(())
}

/// A plan's year: 2000 to 2100.
pub fn check_year(year: i64) -> Result<i32, (&'static str, &'static str)> {
    match i32::try_from(year) {
        Ok(y) if (2000..=2100).contains(&y) => Ok(y),
        _ => Err((
            "年は2000〜2100の西暦で入力してください",
            "enter the year as 2000 to 2100",
        )),
    }
}

/// The reminder of a corrective action due on `due` to send on `today` (JST): 7 days and 1
/// day before, the day after the deadline, then weekly while it is not done.
pub fn action_reminder(due: NaiveDate, today: NaiveDate) -> Option<ReviewReminder> {
    let days = (due - today).num_days();
    match days {
        7 => Some(ReviewReminder::Before(7)),
        1 => Some(ReviewReminder::Before(1)),
        d if d < 0 && (-d - 1) % 7 == 0 => u32::try_from(-d).ok().map(ReviewReminder::Overdue),
        _ => None,
    }
}

/// The key that makes one reminder of one action's deadline go once.
pub fn action_reminder_key(action_id: i64, due: NaiveDate, r: ReviewReminder) -> String {
    match r {
        ReviewReminder::Before(d) => format!("audit-action:{action_id}:{due}:before{d}"),
        ReviewReminder::Overdue(d) => format!("audit-action:{action_id}:{due}:overdue{d}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // 1 board ─┬─ 2 operations ─┬─ 3 support
    //          │                └─ 4 logistics
    //          ├─ 5 administration ── 6 privacy office
    //          └─ 7 internal audit
    fn tree() -> Vec<DeptNode> {
        [
            (1, None),
            (2, Some(1)),
            (3, Some(2)),
            (4, Some(2)),
            (5, Some(1)),
            (6, Some(5)),
            (7, Some(1)),
        ]
        .into_iter()
        .map(|(id, parent_id)| DeptNode { id, parent_id })
        .collect()
    }

    #[test]
    fn independence() {
        let t = tree();
        let a = |department_id, privacy_office| Auditor {
            department_id,
            privacy_office,
        };
        for (auditor, audited, want) in [
            (a(7, false), 3, Ok(())),
            (a(7, false), 2, Ok(())),
            (a(3, false), 4, Ok(())),
            (a(3, false), 6, Ok(())),
            (a(7, false), 7, Err(Refusal::OwnDepartment)),
            (a(2, false), 3, Err(Refusal::BelowAuditor)),
            (a(1, false), 6, Err(Refusal::BelowAuditor)),
            (a(3, false), 2, Err(Refusal::AboveAuditor)),
            (a(7, false), 1, Err(Refusal::AboveAuditor)),
            (a(7, true), 3, Err(Refusal::PrivacyManager)),
            (a(6, true), 6, Err(Refusal::PrivacyManager)),
        ] {
            assert_eq!(
                check_independence(&t, auditor, audited),
                want,
                "{auditor:?} → {audited}"
            );
        }
        for r in [
            Refusal::PrivacyManager,
            Refusal::OwnDepartment,
            Refusal::BelowAuditor,
            Refusal::AboveAuditor,
        ] {
            assert!(!r.message().0.is_empty() && !r.message().1.is_empty());
        }
    }

    #[test]
    fn open_findings() {
        use ActionStatus::{Done, InProgress, Open};
        for (severity, actions, open) in [
            (Severity::Major, &[][..], true),
            (Severity::Minor, &[Open][..], true),
            (Severity::Minor, &[Done, InProgress][..], true),
            (Severity::Major, &[Done, Done][..], false),
            (Severity::Observation, &[][..], false),
            (Severity::Observation, &[Open][..], true),
        ] {
            assert_eq!(
                finding_open(severity, actions),
                open,
                "{severity:?} {actions:?}"
            );
        }
        for s in Severity::ALL {
            assert_eq!(Severity::parse(s.code()), Some(s));
        }
        for s in ActionStatus::ALL {
            assert_eq!(ActionStatus::parse(s.code()), Some(s));
        }
    }

    #[test]
    fn years_and_action_reminders() {
        assert_eq!(check_year(2026), Ok(2026));
        assert!(check_year(1999).is_err());
        assert!(check_year(20_260).is_err());
        let d = |m, day| NaiveDate::from_ymd_opt(2026, m, day).unwrap();
        let due = d(12, 18);
        for (today, want) in [
            (d(12, 10), None),
            (d(12, 11), Some(ReviewReminder::Before(7))),
            (d(12, 17), Some(ReviewReminder::Before(1))),
            (d(12, 18), None),
            (d(12, 19), Some(ReviewReminder::Overdue(1))),
            (d(12, 20), None),
            (d(12, 26), Some(ReviewReminder::Overdue(8))),
        ] {
            assert_eq!(action_reminder(due, today), want, "{today}");
        }
        assert_eq!(
            action_reminder_key(5, due, ReviewReminder::Before(1)),
            "audit-action:5:2026-12-18:before1"
        );
    }
}
