//! The obligations an assessment creates, their deadlines, and their reminders.
//!
//! An obligation is a legal duty with a due date: the preliminary report (速報, day 5 with a
//! warning on day 3), the final report (確報, day 30/60 moved past closed days), the notice to the
//! persons (promptly — no fixed date), the My Number Act report, and a contractor's notice to its
//! entruster (promptly: day 5). When the facts change, [`reconcile`] says what to create, redate,
//! cancel or reopen, each with a reason for the timeline; a duty that was fulfilled stays
//! fulfilled.

use chrono::{Days, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::appi::{deadline, Assessment, Facts, NoticeMethod};
use crate::calendar::CalendarError;
use crate::lang::{Lang, Words};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ObligationKind {
    PreliminaryReport,
    FinalReport,
    NoticeToSubjects,
    MyNumberReport,
    NoticeToEntruster,
}

impl ObligationKind {
    pub const ALL: [ObligationKind; 5] = [
        ObligationKind::PreliminaryReport,
        ObligationKind::FinalReport,
        ObligationKind::NoticeToSubjects,
        ObligationKind::MyNumberReport,
        ObligationKind::NoticeToEntruster,
    ];

    pub fn code(self) -> &'static str {
        match self {
            ObligationKind::PreliminaryReport => "preliminary_report",
            ObligationKind::FinalReport => "final_report",
            ObligationKind::NoticeToSubjects => "notice_to_subjects",
            ObligationKind::MyNumberReport => "my_number_report",
            ObligationKind::NoticeToEntruster => "notice_to_entruster",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.code() == s)
    }

    pub fn label_ja(self) -> &'static str {
        match self {
            ObligationKind::PreliminaryReport => "個人情報保護委員会への速報",
            ObligationKind::FinalReport => "個人情報保護委員会への確報",
            ObligationKind::NoticeToSubjects => "本人への通知",
            ObligationKind::MyNumberReport => "番号法に基づく報告",
            ObligationKind::NoticeToEntruster => "委託元への通知",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            ObligationKind::PreliminaryReport => "Preliminary report to the PPC",
            ObligationKind::FinalReport => "Final report to the PPC",
            ObligationKind::NoticeToSubjects => "Notice to the persons",
            ObligationKind::MyNumberReport => "My Number Act report",
            ObligationKind::NoticeToEntruster => "Notice to the entruster",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ObligationStatus {
    Open,
    Done,
    /// The facts changed and the duty no longer applies.
    NotRequired,
}

impl ObligationStatus {
    pub fn code(self) -> &'static str {
        match self {
            ObligationStatus::Open => "open",
            ObligationStatus::Done => "done",
            ObligationStatus::NotRequired => "not_required",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Open, Self::Done, Self::NotRequired]
            .into_iter()
            .find(|k| k.code() == s)
    }
}

/// One duty the assessment requires, with its dates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObligationSpec {
    pub kind: ObligationKind,
    /// The day it is due; `None` for "promptly" without a fixed day (notice to the persons).
    pub due: Option<NaiveDate>,
    /// The day a warning is shown (the preliminary report's day 3).
    pub warn_on: Option<NaiveDate>,
    /// Why, citing the rule.
    pub basis: Basis,
}

/// The duties an assessment of `facts` creates, in the order of [`ObligationKind`].
pub fn obligations(facts: &Facts, a: &Assessment) -> Result<Vec<ObligationSpec>, CalendarError> {
    let knew_on = facts.knew_at.jst_date();
    let mut out = Vec::new();
    if a.reportable {
        let p = deadline::preliminary_report(knew_on)?;
        out.push(ObligationSpec {
            kind: ObligationKind::PreliminaryReport,
            due: Some(p.due),
            warn_on: Some(p.warning),
            basis: Basis::Preliminary,
        });
        let f = deadline::final_report(knew_on, facts.malicious)?;
        out.push(ObligationSpec {
            kind: ObligationKind::FinalReport,
            due: a.final_report_due,
            warn_on: None,
            basis: Basis::Final {
                days: f.days,
                nominal: f.nominal,
                closed_ja: f.nominal_closed.map(|c| c.label_ja().to_owned()),
                closed_en: f.nominal_closed.map(|c| c.label_en().to_owned()),
                due: f.due,
            },
        });
    }
    if a.notify_individuals {
        out.push(ObligationSpec {
            kind: ObligationKind::NoticeToSubjects,
            due: None,
            warn_on: None,
            basis: match a.notice_method {
                Some(NoticeMethod::Alternative) => Basis::NoticeAlternative,
                _ => Basis::NoticeDirect,
            },
        });
    }
    if let Some(mn) = a.my_number_act.as_ref().filter(|m| m.reportable) {
        out.push(ObligationSpec {
            kind: ObligationKind::MyNumberReport,
            due: mn.final_report_due,
            warn_on: Some(deadline::day(knew_on, deadline::PRELIMINARY_DUE_DAY)?),
            basis: Basis::MyNumber,
        });
    }
    if a.must_notify_entruster {
        out.push(ObligationSpec {
            kind: ObligationKind::NoticeToEntruster,
            due: Some(deadline::day(knew_on, deadline::PRELIMINARY_DUE_DAY)?),
            warn_on: Some(deadline::day(knew_on, deadline::PRELIMINARY_WARNING_DAY)?),
            basis: Basis::Entruster,
        });
    }
    Ok(out)
}

/// An obligation as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Existing {
    pub kind: ObligationKind,
    pub due: Option<NaiveDate>,
    pub status: ObligationStatus,
}

/// What to do to the stored obligations so that they match a new assessment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Create(ObligationSpec),
    /// The due date moved (e.g. malicious became true: 30 → 60 days).
    Redate {
        spec: ObligationSpec,
        from: Option<NaiveDate>,
    },
    /// No longer required by the facts.
    Cancel(ObligationKind),
    /// Required again after having been cancelled.
    Reopen(ObligationSpec),
}

impl Change {
    pub fn kind(&self) -> ObligationKind {
        match self {
            Change::Create(s) | Change::Redate { spec: s, .. } | Change::Reopen(s) => s.kind,
            Change::Cancel(k) => *k,
        }
    }

    /// One Japanese line for the timeline.
    pub fn describe_ja(&self) -> String {
        self.line().ja()
    }

    /// The timeline line, as a value.
    pub fn line(&self) -> ChangeLine {
        match self {
            Change::Create(s) => ChangeLine::Create {
                kind: s.kind,
                due: s.due,
            },
            Change::Redate { spec, from } => ChangeLine::Redate {
                kind: spec.kind,
                from: *from,
                to: spec.due,
            },
            Change::Cancel(k) => ChangeLine::Cancel { kind: *k },
            Change::Reopen(s) => ChangeLine::Reopen {
                kind: s.kind,
                due: s.due,
            },
        }
    }
}

/// What happened to one obligation, for the timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum ChangeLine {
    Create {
        kind: ObligationKind,
        due: Option<NaiveDate>,
    },
    Redate {
        kind: ObligationKind,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
    },
    Cancel {
        kind: ObligationKind,
    },
    Reopen {
        kind: ObligationKind,
        due: Option<NaiveDate>,
    },
}

impl ObligationKind {
    pub fn label(self, lang: Lang) -> &'static str {
        lang.pick(self.label_ja(), self.label_en())
    }
}

impl Words for ChangeLine {
    fn ja(&self) -> String {
        let date =
            |d: &Option<NaiveDate>| d.map_or_else(|| "速やかに".to_owned(), |d| d.to_string());
        match self {
            ChangeLine::Create { kind, due } => {
                format!("義務を追加: {}（期限 {}）", kind.label_ja(), date(due))
            }
            ChangeLine::Redate { kind, from, to } => format!(
                "期限を変更: {} {} → {}",
                kind.label_ja(),
                date(from),
                date(to)
            ),
            ChangeLine::Cancel { kind } => format!("不要になった義務: {}", kind.label_ja()),
            ChangeLine::Reopen { kind, due } => format!(
                "再び必要になった義務: {}（期限 {}）",
                kind.label_ja(),
                date(due)
            ),
        }
    }

    fn en(&self) -> String {
        let date =
            |d: &Option<NaiveDate>| d.map_or_else(|| "promptly".to_owned(), |d| d.to_string());
        match self {
            ChangeLine::Create { kind, due } => {
                format!("Obligation added: {} (due {})", kind.label_en(), date(due))
            }
            ChangeLine::Redate { kind, from, to } => format!(
                "Due date changed: {} {} → {}",
                kind.label_en(),
                date(from),
                date(to)
            ),
            ChangeLine::Cancel { kind } => {
                format!("Obligation no longer required: {}", kind.label_en())
            }
            ChangeLine::Reopen { kind, due } => format!(
                "Obligation required again: {} (due {})",
                kind.label_en(),
                date(due)
            ),
        }
    }
}

/// Why an obligation exists, citing the rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "basis", rename_all = "snake_case")]
pub enum Basis {
    Preliminary,
    Final {
        days: u64,
        nominal: NaiveDate,
        closed_ja: Option<String>,
        closed_en: Option<String>,
        due: NaiveDate,
    },
    NoticeDirect,
    NoticeAlternative,
    MyNumber,
    Entruster,
}

impl Words for Basis {
    fn ja(&self) -> String {
        match self {
            Basis::Preliminary => {
                "個人情報保護法26条1項・施行規則8条1項: 速やかに（3〜5日目安）".into()
            }
            Basis::Final {
                days,
                nominal,
                closed_ja,
                due,
                ..
            } => match closed_ja {
                None => format!("施行規則8条2項: {days}日目 {nominal}"),
                Some(c) => format!(
                    "施行規則8条2項: {days}日目 {nominal}（{c}）は行政機関の休日のため翌開庁日 {due}（行政機関の休日に関する法律2条）"
                ),
            },
            Basis::NoticeDirect => "個人情報保護法26条2項・施行規則10条: 状況に応じ速やかに、書面または電子メール等で直接".into(),
            Basis::NoticeAlternative => "個人情報保護法26条2項・施行規則10条: 状況に応じ速やかに、連絡先がないため代替措置（公表・問い合わせ窓口）".into(),
            Basis::MyNumber => "番号法29条の4・特定個人情報の漏えい等に関する報告等に関する規則: 速報は速やかに、確報は期限まで".into(),
            Basis::Entruster => {
                "施行規則9条: 委託先は委託元へ速やかに通知すれば報告・本人通知を免除される".into()
            }
        }
    }

    fn en(&self) -> String {
        match self {
            Basis::Preliminary => {
                "APPI Art. 26(1), Enforcement Rules Art. 8(1): promptly (aim for day 3 to 5)".into()
            }
            Basis::Final {
                days,
                nominal,
                closed_en,
                due,
                ..
            } => match closed_en {
                None => format!("Enforcement Rules Art. 8(2): day {days}, {nominal}"),
                Some(c) => format!(
                    "Enforcement Rules Art. 8(2): day {days}, {nominal} ({c}), is a closing day of government offices, so the next open day, {due} (Act on Holidays of Administrative Organs, Art. 2)"
                ),
            },
            Basis::NoticeDirect => "APPI Art. 26(2), Enforcement Rules Art. 10: promptly as the situation allows, directly by letter, e-mail or similar".into(),
            Basis::NoticeAlternative => "APPI Art. 26(2), Enforcement Rules Art. 10: promptly as the situation allows; no contact details, so alternative measures (publication, a contact point)".into(),
            Basis::MyNumber => "My Number Act Art. 29-4 and its reporting rules: the preliminary report promptly, the final report by the due date".into(),
            Basis::Entruster => "Enforcement Rules Art. 9: a contractor that promptly tells its entruster is exempt from report and notice".into(),
        }
    }
}

/// An obligation's basis as shown: its code's words in `lang`, or the stored text for rows
/// written before bases had codes.
pub fn show_basis(basis_msg: Option<&str>, basis: &str, lang: Lang) -> String {
    basis_msg
        .and_then(|m| serde_json::from_str::<Basis>(m).ok())
        .map_or_else(|| basis.to_owned(), |b| b.say(lang))
}

/// Compares the stored obligations with those a new assessment wants. A fulfilled duty stays
/// fulfilled; an open one no longer wanted is cancelled; a cancelled one wanted again reopens.
pub fn reconcile(existing: &[Existing], wanted: &[ObligationSpec]) -> Vec<Change> {
    let mut out = Vec::new();
    for spec in wanted {
        match existing.iter().find(|e| e.kind == spec.kind) {
            None => out.push(Change::Create(spec.clone())),
            Some(e) if e.status == ObligationStatus::NotRequired => {
                out.push(Change::Reopen(spec.clone()));
            }
            Some(e) if e.status == ObligationStatus::Open && e.due != spec.due => {
                out.push(Change::Redate {
                    spec: spec.clone(),
                    from: e.due,
                });
            }
            Some(_) => {}
        }
    }
    for e in existing {
        if e.status == ObligationStatus::Open && !wanted.iter().any(|w| w.kind == e.kind) {
            out.push(Change::Cancel(e.kind));
        }
    }
    out
}

/// A reminder of an obligation: on which day, and a stable key so it is sent once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reminder {
    pub on: NaiveDate,
    /// `day3`, `day5`, `before7`, `before3`, `before1`, `overdue`.
    pub key: &'static str,
    pub text_ja: String,
}

/// The reminders of an open obligation: day 3 and day 5 for the preliminary report; 7, 3 and
/// 1 days before the final report (and the other dated duties); and the day after a missed
/// date.
pub fn reminders(
    spec_kind: ObligationKind,
    due: Option<NaiveDate>,
    warn_on: Option<NaiveDate>,
) -> Vec<Reminder> {
    let Some(due) = due else {
        return Vec::new();
    };
    let label = spec_kind.label_ja();
    let mut out = Vec::new();
    match spec_kind {
        ObligationKind::PreliminaryReport | ObligationKind::NoticeToEntruster => {
            if let Some(w) = warn_on {
                out.push(Reminder {
                    on: w,
                    key: "day3",
                    text_ja: format!("{label}: 本日が3日目です（期限 {due}）"),
                });
            }
            out.push(Reminder {
                on: due,
                key: "day5",
                text_ja: format!("{label}: 本日 {due} が期限（5日目）です"),
            });
        }
        _ => {
            for (n, key) in [(7u64, "before7"), (3, "before3"), (1, "before1")] {
                if let Some(on) = due.checked_sub_days(Days::new(n)) {
                    out.push(Reminder {
                        on,
                        key,
                        text_ja: format!("{label}: 期限 {due} まであと{n}日です"),
                    });
                }
            }
        }
    }
    if let Some(after) = due.succ_opt() {
        out.push(Reminder {
            on: after,
            key: "overdue",
            text_ja: format!("{label}: 期限 {due} を過ぎています"),
        });
    }
    out
}

/// Which reminders are due on `today` and not yet sent. When several are pending (the server
/// was down), only the latest is worth a mail; the older ones are to be marked as sent too.
pub fn due_reminders<'a>(
    all: &'a [Reminder],
    today: NaiveDate,
    sent: &[String],
) -> (Option<&'a Reminder>, Vec<&'a Reminder>) {
    let pending: Vec<&Reminder> = all
        .iter()
        .filter(|r| r.on <= today && !sent.iter().any(|s| s == r.key))
        .collect();
    let latest = pending.iter().copied().max_by_key(|r| r.on);
    (latest, pending)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::appi::{assess, Event, Item, KnownAt};

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn facts(knew: &str, items: &[Item], persons: u64) -> Facts {
        Facts::new(KnownAt::Date(d(knew)), Event::Leak, items, persons)
    }

    fn specs(f: &Facts) -> Vec<ObligationSpec> {
        obligations(f, &assess(f).unwrap()).unwrap()
    }

    #[test]
    fn reportable_leak_creates_reports_and_notice() {
        let f = facts("2025-05-02", &[Item::CreditCardNumber], 10);
        let s = specs(&f);
        let kinds: Vec<_> = s.iter().map(|s| s.kind).collect();
        assert_eq!(
            kinds,
            vec![
                ObligationKind::PreliminaryReport,
                ObligationKind::FinalReport,
                ObligationKind::NoticeToSubjects
            ]
        );
        assert_eq!(s[0].warn_on, Some(d("2025-05-04")));
        assert_eq!(s[0].due, Some(d("2025-05-06")));
        // Day 30 is Saturday 2025-05-31 → Monday 2025-06-02 (appi.md §3).
        assert_eq!(s[1].due, Some(d("2025-06-02")));
        assert!(s[1].basis.ja().contains("2025-05-31"));
        assert_eq!(s[2].due, None);
    }

    #[test]
    fn not_reportable_creates_nothing() {
        let f = facts("2025-05-02", &[Item::Name, Item::Email], 1000);
        assert!(specs(&f).is_empty());
    }

    #[test]
    fn year_end_closure_and_citizens_holiday() {
        // Knew 2025-12-01 → day 30 is 2025-12-30 (closure) → 2026-01-05.
        let f = facts("2025-12-01", &[Item::CreditCardNumber], 1);
        assert_eq!(specs(&f)[1].due, Some(d("2026-01-05")));
        // 2026-09-22 is a 国民の休日 (between 敬老の日 9/21 and 秋分の日 9/23).
        // Knew 2026-08-24 → day 30 = 2026-09-22 → next open day is 2026-09-24.
        let f = facts("2026-08-24", &[Item::CreditCardNumber], 1);
        assert_eq!(specs(&f)[1].due, Some(d("2026-09-24")));
        // Substitute holiday: 2025-11-24 (振替休日 for 勤労感謝の日 on Sunday 11/23).
        // Knew 2025-10-26 → day 30 = 2025-11-24 → 2025-11-25.
        let f = facts("2025-10-26", &[Item::CreditCardNumber], 1);
        assert_eq!(specs(&f)[1].due, Some(d("2025-11-25")));
    }

    #[test]
    fn my_number_and_entruster_duties() {
        let mut f = facts("2026-04-07", &[Item::MyNumber], 101);
        let s = specs(&f);
        assert!(s.iter().any(|s| s.kind == ObligationKind::MyNumberReport));
        f.role = crate::appi::Role::Contractor;
        let s = specs(&f);
        let e = s
            .iter()
            .find(|s| s.kind == ObligationKind::NoticeToEntruster)
            .expect("contractor must tell the entruster");
        assert_eq!(e.due, Some(d("2026-04-11")));
    }

    #[test]
    fn count_passing_1000_adds_duties_and_malicious_moves_the_date() {
        let f1 = facts("2026-04-07", &[Item::Name, Item::Address], 800);
        let before: Vec<Existing> = specs(&f1)
            .into_iter()
            .map(|s| Existing {
                kind: s.kind,
                due: s.due,
                status: ObligationStatus::Open,
            })
            .collect();
        assert!(before.is_empty());
        let f2 = facts("2026-04-07", &[Item::Name, Item::Address], 1200);
        let changes = reconcile(&before, &specs(&f2));
        assert_eq!(changes.len(), 3);
        assert!(matches!(changes[0], Change::Create(_)));
        let stored: Vec<Existing> = specs(&f2)
            .into_iter()
            .map(|s| Existing {
                kind: s.kind,
                due: s.due,
                status: ObligationStatus::Open,
            })
            .collect();
        let mut f3 = f2.clone();
        f3.malicious = true;
        let changes = reconcile(&stored, &specs(&f3));
        assert_eq!(changes.len(), 1);
        let Change::Redate { spec, from } = &changes[0] else {
            panic!("expected a new date: {changes:?}")
        };
        assert_eq!(spec.kind, ObligationKind::FinalReport);
        assert_eq!(*from, Some(d("2026-05-07")));
        assert_eq!(spec.due, Some(d("2026-06-05")));
        assert!(changes[0].describe_ja().contains("2026-05-07 → 2026-06-05"));
        // Back under 1,000 and not malicious: open duties are cancelled …
        let changes = reconcile(&stored, &specs(&f1));
        assert_eq!(changes.len(), 3);
        assert!(changes.iter().all(|c| matches!(c, Change::Cancel(_))));
        // … but a duty already done stays done, and a cancelled one reopens.
        let mixed = vec![
            Existing {
                kind: ObligationKind::PreliminaryReport,
                due: Some(d("2026-04-11")),
                status: ObligationStatus::Done,
            },
            Existing {
                kind: ObligationKind::FinalReport,
                due: Some(d("2026-05-07")),
                status: ObligationStatus::NotRequired,
            },
        ];
        let changes = reconcile(&mixed, &specs(&f1));
        assert!(changes.is_empty());
        let changes = reconcile(&mixed, &specs(&f2));
        assert_eq!(changes.len(), 2);
        assert!(matches!(changes[0], Change::Reopen(_)));
        assert!(matches!(changes[1], Change::Create(_)));
    }

    #[test]
    fn reminder_days() {
        let r = reminders(
            ObligationKind::PreliminaryReport,
            Some(d("2026-04-11")),
            Some(d("2026-04-09")),
        );
        let days: Vec<_> = r.iter().map(|r| (r.key, r.on.to_string())).collect();
        assert_eq!(
            days,
            vec![
                ("day3", "2026-04-09".to_owned()),
                ("day5", "2026-04-11".to_owned()),
                ("overdue", "2026-04-12".to_owned())
            ]
        );
        let r = reminders(ObligationKind::FinalReport, Some(d("2026-06-05")), None);
        let days: Vec<_> = r.iter().map(|r| (r.key, r.on.to_string())).collect();
        assert_eq!(
            days,
            vec![
                ("before7", "2026-05-29".to_owned()),
                ("before3", "2026-06-02".to_owned()),
                ("before1", "2026-06-04".to_owned()),
                ("overdue", "2026-06-06".to_owned())
            ]
        );
        assert!(reminders(ObligationKind::NoticeToSubjects, None, None).is_empty());
    }

    #[test]
    fn only_the_latest_pending_reminder_is_mailed() {
        let r = reminders(ObligationKind::FinalReport, Some(d("2026-06-05")), None);
        let (latest, pending) = due_reminders(&r, d("2026-05-28"), &[]);
        assert!(latest.is_none() && pending.is_empty());
        let (latest, pending) = due_reminders(&r, d("2026-06-03"), &[]);
        assert_eq!(latest.unwrap().key, "before3");
        assert_eq!(pending.len(), 2);
        let (latest, pending) =
            due_reminders(&r, d("2026-06-03"), &["before7".into(), "before3".into()]);
        assert!(latest.is_none() && pending.is_empty());
    }
}
