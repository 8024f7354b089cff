//! What is known about an incident, and how it becomes the input of the APPI assessment.
//!
//! The first report asks only for what the reporter knows: the event may be unknown, the time it
//! happened may be unknown, the number of persons may be unknown. The privacy office fills in the
//! rest later. Each change is validated against the present (nothing found before it happened,
//! nothing known in the future) and recomputes the assessment.

use std::collections::BTreeSet;

use chrono::TimeZone;
use serde::{Deserialize, Serialize};

use super::FieldError;
use crate::appi::{self, Event, Facts, Item, KnownAt, Reason, Role};
use crate::lang::{Lang, Words};

/// What happened, as the reporter saw it: the APPI's three events, or not known yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    Leak,
    Loss,
    Damage,
    Unknown,
}

impl EventKind {
    pub const ALL: [EventKind; 4] = [
        EventKind::Leak,
        EventKind::Loss,
        EventKind::Damage,
        EventKind::Unknown,
    ];

    pub fn code(self) -> &'static str {
        match self {
            EventKind::Leak => "leak",
            EventKind::Loss => "loss",
            EventKind::Damage => "damage",
            EventKind::Unknown => "unknown",
        }
    }

    pub fn parse(s: &str) -> Option<EventKind> {
        EventKind::ALL.into_iter().find(|e| e.code() == s)
    }

    pub fn label_ja(self) -> &'static str {
        match self {
            EventKind::Leak => "漏えい",
            EventKind::Loss => "滅失",
            EventKind::Damage => "毀損",
            EventKind::Unknown => "不明",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            EventKind::Leak => "Leak",
            EventKind::Loss => "Loss",
            EventKind::Damage => "Damage",
            EventKind::Unknown => "Unknown",
        }
    }
}

/// The facts of an incident that the law cares about. Times are microseconds since the epoch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentFacts {
    /// When it happened; `None` while unknown.
    pub occurred_at: Option<i64>,
    /// When it was found.
    pub found_at: i64,
    /// When the company knew (知った時点): the legal clock starts here. Normally the time the
    /// first report was filed or the time it was found, whichever the privacy office records.
    pub knew_at: i64,
    pub event: EventKind,
    /// Only suspected (おそれ).
    pub suspected: bool,
    #[serde(default)]
    pub recovered_before_viewed: bool,
    #[serde(default)]
    pub same_data_held_elsewhere: bool,
    #[serde(default)]
    pub intentional_provision: bool,
    #[serde(default)]
    pub pseudonymized: bool,
    #[serde(default)]
    pub high_grade_encryption: bool,
    #[serde(default)]
    pub malicious: bool,
    #[serde(default)]
    pub being_acquired: bool,
    #[serde(default)]
    pub items: BTreeSet<Item>,
    /// Persons, deduplicated, or the most there can be; `None` while unknown.
    pub persons: Option<u64>,
    #[serde(default)]
    pub role: Role,
    /// When the company (as contractor) told its entruster.
    #[serde(default)]
    pub notified_entruster_at: Option<i64>,
    /// Whether the persons can be reached; `None` while unknown.
    #[serde(default)]
    pub contact_info_available: Option<bool>,
}

/// The most persons an incident may count; more is a typing error, not an incident.
pub const MAX_PERSONS: u64 = 10_000_000_000;

impl IncidentFacts {
    /// Facts of a fresh first report: everything unknown but what must be known.
    pub fn new(found_at: i64, knew_at: i64, event: EventKind) -> Self {
        IncidentFacts {
            occurred_at: None,
            found_at,
            knew_at,
            event,
            suspected: true,
            recovered_before_viewed: false,
            same_data_held_elsewhere: false,
            intentional_provision: false,
            pseudonymized: false,
            high_grade_encryption: false,
            malicious: false,
            being_acquired: false,
            items: BTreeSet::new(),
            persons: None,
            role: Role::Controller,
            notified_entruster_at: None,
            contact_info_available: None,
        }
    }

    /// Checks the facts against each other and against `now`: nothing found before it happened,
    /// nothing known before it was found, nothing in the future. The first problem; see
    /// [`IncidentFacts::problems`] for all of them.
    pub fn validate(&self, now: i64) -> Result<(), FieldError> {
        match self.problems(now).into_iter().next() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Every problem of [`IncidentFacts::validate`], in the order of the form's fields, at most
    /// one per field.
    pub fn problems(&self, now: i64) -> Vec<FieldError> {
        // A minute of slack for clocks of phones and servers that disagree a little.
        let horizon = now + 60_000_000;
        let future = |field: &'static str, label: &str| {
            FieldError::new(
                field,
                format!("{label}が未来の日時です"),
                format!("{field} is in the future"),
            )
        };
        let mut out = Vec::new();
        if let Some(o) = self.occurred_at {
            if o > horizon {
                out.push(future("occurred_at", "発生日時"));
            }
        }
        if self.found_at > horizon {
            out.push(future("found_at", "発見日時"));
        } else if self
            .occurred_at
            .is_some_and(|o| o <= horizon && o > self.found_at)
        {
            out.push(FieldError::new(
                "found_at",
                "発見日時が発生日時より前になっています",
                "found_at is before occurred_at: it cannot be found before it happened",
            ));
        }
        if self.knew_at > horizon {
            out.push(future("knew_at", "会社が知った日時"));
        } else if self.knew_at < self.found_at {
            out.push(FieldError::new(
                "knew_at",
                "会社が知った日時が発見日時より前になっています",
                "knew_at is before found_at",
            ));
        }
        if let Some(at) = self.notified_entruster_at {
            if at > horizon {
                out.push(future("notified_entruster_at", "委託元へ通知した日時"));
            }
        }
        if self.persons.is_some_and(|p| p > MAX_PERSONS) {
            out.push(FieldError::new(
                "persons",
                "本人の数が大きすぎます",
                "persons is too large",
            ));
        }
        out
    }

    /// The input of the APPI assessment, with a note for every unknown that had to be filled.
    pub fn to_appi(&self) -> (Facts, Vec<Reason>) {
        let mut notes = Vec::new();
        let (event, suspected) = match self.event {
            EventKind::Leak => (Event::Leak, self.suspected),
            EventKind::Loss => (Event::Loss, self.suspected),
            EventKind::Damage => (Event::Damage, self.suspected),
            EventKind::Unknown => {
                notes.push(Reason::UnknownEvent);
                (Event::Leak, true)
            }
        };
        let persons = if let Some(p) = self.persons {
            p
        } else {
            notes.push(Reason::UnknownPersons);
            0
        };
        let contact = if let Some(c) = self.contact_info_available {
            c
        } else {
            notes.push(Reason::UnknownContact);
            true
        };
        let jst = appi::facts::jst();
        let time = |micros: i64| {
            jst.timestamp_micros(micros)
                .single()
                .map_or(KnownAt::Date(super::jst_date(micros)), KnownAt::Time)
        };
        let facts = Facts {
            knew_at: time(self.knew_at),
            event,
            suspected,
            recovered_before_viewed: self.recovered_before_viewed,
            same_data_held_elsewhere: self.same_data_held_elsewhere,
            intentional_provision: self.intentional_provision,
            pseudonymized: self.pseudonymized,
            high_grade_encryption: self.high_grade_encryption,
            malicious: self.malicious,
            being_acquired: self.being_acquired,
            items: self.items.clone(),
            persons,
            role: self.role,
            notified_entruster_at: self.notified_entruster_at.map(time),
            contact_info_available: Some(contact),
        };
        (facts, notes)
    }

    /// The assessment of these facts: the §9 output, with the notes on unknowns first among
    /// the reasons.
    pub fn assess(&self) -> Result<appi::Assessment, crate::calendar::CalendarError> {
        let (facts, notes) = self.to_appi();
        let mut a = appi::assess(&facts)?;
        if !notes.is_empty() {
            let mut reasons = notes;
            reasons.append(&mut a.reasons);
            a.reasons = reasons;
        }
        Ok(a)
    }

    /// Keeps each stored time whose value came back from the form unchanged at the precision
    /// the form shows (the minute: `datetime-local` drops the seconds), so a save that changed
    /// only the number of persons does not rewrite, nor log, four times nobody touched.
    pub fn keep_times_shown_unchanged(&mut self, old: &IncidentFacts) {
        fn keep(new: &mut i64, old: i64) {
            if same_minute(*new, old) {
                *new = old;
            }
        }
        keep(&mut self.found_at, old.found_at);
        keep(&mut self.knew_at, old.knew_at);
        for (new, old) in [
            (&mut self.occurred_at, old.occurred_at),
            (&mut self.notified_entruster_at, old.notified_entruster_at),
        ] {
            if let (Some(n), Some(o)) = (new.as_mut(), old) {
                keep(n, o);
            }
        }
    }

    /// Lines describing what changed between two versions of the facts, in Japanese, for the
    /// timeline ("本人の数: 800 → 1,200"). Times are compared at the minute, the precision the
    /// form and the timeline show: the timeline is a legal record, and 「05:20 → 05:20」 says
    /// something changed that did not.
    pub fn diff_ja(&self, new: &IncidentFacts) -> Vec<String> {
        self.diff(new).iter().map(Words::ja).collect()
    }

    /// What changed between two versions of the facts, as values (see [`Self::diff_ja`]).
    pub fn diff(&self, new: &IncidentFacts) -> Vec<FactChange> {
        let mut out = Vec::new();
        let same = |a: Option<i64>, b: Option<i64>| match (a, b) {
            (Some(a), Some(b)) => same_minute(a, b),
            (a, b) => a == b,
        };
        if !same(self.occurred_at, new.occurred_at) {
            out.push(FactChange::OccurredAt {
                from: self.occurred_at,
                to: new.occurred_at,
            });
        }
        if !same_minute(self.found_at, new.found_at) {
            out.push(FactChange::FoundAt {
                from: self.found_at,
                to: new.found_at,
            });
        }
        if !same_minute(self.knew_at, new.knew_at) {
            out.push(FactChange::KnewAt {
                from: self.knew_at,
                to: new.knew_at,
            });
        }
        if self.event != new.event {
            out.push(FactChange::Event {
                from: self.event,
                to: new.event,
            });
        }
        for (flag, a, b) in [
            (FactFlag::Suspected, self.suspected, new.suspected),
            (
                FactFlag::RecoveredBeforeViewed,
                self.recovered_before_viewed,
                new.recovered_before_viewed,
            ),
            (
                FactFlag::SameDataHeldElsewhere,
                self.same_data_held_elsewhere,
                new.same_data_held_elsewhere,
            ),
            (
                FactFlag::IntentionalProvision,
                self.intentional_provision,
                new.intentional_provision,
            ),
            (
                FactFlag::Pseudonymized,
                self.pseudonymized,
                new.pseudonymized,
            ),
            (
                FactFlag::HighGradeEncryption,
                self.high_grade_encryption,
                new.high_grade_encryption,
            ),
            (FactFlag::Malicious, self.malicious, new.malicious),
            (
                FactFlag::BeingAcquired,
                self.being_acquired,
                new.being_acquired,
            ),
        ] {
            if a != b {
                out.push(FactChange::Flag {
                    flag,
                    from: a,
                    to: b,
                });
            }
        }
        if self.items != new.items {
            out.push(FactChange::Items {
                from: self.items.iter().copied().collect(),
                to: new.items.iter().copied().collect(),
            });
        }
        if self.persons != new.persons {
            out.push(FactChange::Persons {
                from: self.persons,
                to: new.persons,
            });
        }
        if self.role != new.role {
            out.push(FactChange::Role {
                from: self.role,
                to: new.role,
            });
        }
        if !same(self.notified_entruster_at, new.notified_entruster_at) {
            out.push(FactChange::NotifiedEntruster {
                from: self.notified_entruster_at,
                to: new.notified_entruster_at,
            });
        }
        if self.contact_info_available != new.contact_info_available {
            out.push(FactChange::Contact {
                from: self.contact_info_available,
                to: new.contact_info_available,
            });
        }
        out
    }
}

/// `1200` → `1,200`.
/// A yes/no fact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FactFlag {
    Suspected,
    RecoveredBeforeViewed,
    SameDataHeldElsewhere,
    IntentionalProvision,
    Pseudonymized,
    HighGradeEncryption,
    Malicious,
    BeingAcquired,
}

impl FactFlag {
    pub fn label(self, lang: Lang) -> &'static str {
        let (ja, en) = match self {
            FactFlag::Suspected => ("おそれ", "Suspected"),
            FactFlag::RecoveredBeforeViewed => ("閲覧前に回収", "Recovered before viewed"),
            FactFlag::SameDataHeldElsewhere => ("同じデータを別に保有", "Same data held elsewhere"),
            FactFlag::IntentionalProvision => ("意図的な提供", "Intentional provision"),
            FactFlag::Pseudonymized => ("仮名加工情報", "Pseudonymised"),
            FactFlag::HighGradeEncryption => ("高度な暗号化", "High-grade encryption"),
            FactFlag::Malicious => ("不正の目的のおそれ", "Possible wrongful purpose"),
            FactFlag::BeingAcquired => ("取得中のデータ", "Data being acquired"),
        };
        lang.pick(ja, en)
    }
}

/// One change of the facts, for the timeline ("本人の数: 800 → 1,200").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "field", rename_all = "snake_case")]
pub enum FactChange {
    OccurredAt {
        from: Option<i64>,
        to: Option<i64>,
    },
    FoundAt {
        from: i64,
        to: i64,
    },
    KnewAt {
        from: i64,
        to: i64,
    },
    Event {
        from: EventKind,
        to: EventKind,
    },
    Flag {
        flag: FactFlag,
        from: bool,
        to: bool,
    },
    Items {
        from: Vec<Item>,
        to: Vec<Item>,
    },
    Persons {
        from: Option<u64>,
        to: Option<u64>,
    },
    Role {
        from: Role,
        to: Role,
    },
    NotifiedEntruster {
        from: Option<i64>,
        to: Option<i64>,
    },
    Contact {
        from: Option<bool>,
        to: Option<bool>,
    },
}

impl FactChange {
    fn say_in(&self, lang: Lang) -> String {
        let unknown = lang.pick("不明", "unknown");
        let time = |v: Option<i64>| v.map_or_else(|| unknown.to_owned(), format_jst);
        let (label, from, to) = match self {
            FactChange::OccurredAt { from, to } => {
                (lang.pick("発生日時", "Occurred at"), time(*from), time(*to))
            }
            FactChange::FoundAt { from, to } => (
                lang.pick("発見日時", "Found at"),
                format_jst(*from),
                format_jst(*to),
            ),
            FactChange::KnewAt { from, to } => (
                lang.pick("知った日時", "Known at"),
                format_jst(*from),
                format_jst(*to),
            ),
            FactChange::Event { from, to } => {
                let e = |e: &EventKind| lang.pick(e.label_ja(), e.label_en()).to_owned();
                (lang.pick("事象", "Event"), e(from), e(to))
            }
            FactChange::Flag { flag, from, to } => {
                let f = |b: &bool| {
                    lang.pick(
                        if *b { "はい" } else { "いいえ" },
                        if *b { "yes" } else { "no" },
                    )
                    .to_owned()
                };
                (flag.label(lang), f(from), f(to))
            }
            FactChange::Items { from, to } => {
                let list = |s: &Vec<Item>| {
                    if s.is_empty() {
                        lang.pick("なし", "none").to_owned()
                    } else {
                        s.iter()
                            .map(|i| lang.pick(i.label_ja(), i.label_en()))
                            .collect::<Vec<_>>()
                            .join(lang.pick("、", ", "))
                    }
                };
                (lang.pick("項目", "Items"), list(from), list(to))
            }
            FactChange::Persons { from, to } => {
                let n = |v: &Option<u64>| v.map_or_else(|| unknown.to_owned(), group_digits);
                (lang.pick("本人の数", "Persons"), n(from), n(to))
            }
            FactChange::Role { from, to } => {
                let r = |r: &Role| {
                    match r {
                        Role::Controller => lang.pick(
                            "本人データの管理者（委託元を含む）",
                            "Controller (including an entruster)",
                        ),
                        Role::Contractor => lang.pick("委託先", "Contractor"),
                    }
                    .to_owned()
                };
                (lang.pick("立場", "Role"), r(from), r(to))
            }
            FactChange::NotifiedEntruster { from, to } => (
                lang.pick("委託元への通知", "Entruster told"),
                time(*from),
                time(*to),
            ),
            FactChange::Contact { from, to } => {
                let c = |v: &Option<bool>| {
                    match v {
                        None => unknown,
                        Some(true) => lang.pick("あり", "yes"),
                        Some(false) => lang.pick("なし", "no"),
                    }
                    .to_owned()
                };
                (lang.pick("本人の連絡先", "Contact details"), c(from), c(to))
            }
        };
        format!("{label}: {from} → {to}")
    }
}

impl Words for FactChange {
    fn ja(&self) -> String {
        self.say_in(Lang::Ja)
    }
    fn en(&self) -> String {
        self.say_in(Lang::En)
    }
}

pub fn group_digits(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// An instant as `2026-04-07 10:00` in Japan.
/// Whether two instants fall in the same minute (what a `datetime-local` field and the
/// timeline show).
pub fn same_minute(a: i64, b: i64) -> bool {
    a.div_euclid(60_000_000) == b.div_euclid(60_000_000)
}

pub fn format_jst(micros: i64) -> String {
    appi::facts::jst()
        .timestamp_micros(micros)
        .single()
        .map_or_else(|| "-".into(), |t| t.format("%Y-%m-%d %H:%M").to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_time_sent_back_at_the_minute_is_no_change() {
        // 2026-11-24 05:20:37 JST, stored with its seconds; the form sends 05:20.
        let stored = 1_795_460_437_000_000;
        let shown = stored - 37_000_000;
        let mut old = IncidentFacts::new(stored, stored, EventKind::Leak);
        old.occurred_at = Some(stored);
        old.notified_entruster_at = Some(stored);
        old.persons = Some(3);
        let mut new = old.clone();
        new.found_at = shown;
        new.knew_at = shown;
        new.occurred_at = Some(shown);
        new.notified_entruster_at = Some(shown);
        new.persons = Some(4);
        assert_eq!(old.diff_ja(&new), vec!["本人の数: 3 → 4".to_owned()]);
        new.keep_times_shown_unchanged(&old);
        assert_eq!(
            (
                new.found_at,
                new.knew_at,
                new.occurred_at,
                new.notified_entruster_at
            ),
            (stored, stored, Some(stored), Some(stored))
        );
        // A real change of a minute is kept and logged once.
        let mut moved = old.clone();
        moved.found_at = shown + 60_000_000;
        moved.keep_times_shown_unchanged(&old);
        assert_eq!(moved.found_at, shown + 60_000_000);
        assert_eq!(old.diff_ja(&moved).len(), 1);
        // Unknown ↔ known is a change.
        let mut cleared = old.clone();
        cleared.occurred_at = None;
        assert_eq!(old.diff_ja(&cleared).len(), 1);
    }
    use crate::appi::Category;
    use chrono::NaiveDate;

    const HOUR: i64 = 3_600_000_000;
    // 2026-04-07T10:00:00+09:00
    const T: i64 = 1_775_523_600_000_000;

    fn facts() -> IncidentFacts {
        IncidentFacts::new(T, T, EventKind::Leak)
    }

    #[test]
    fn impossible_dates_name_the_field() {
        let mut f = facts();
        f.occurred_at = Some(T + HOUR);
        assert_eq!(f.validate(T + 2 * HOUR).unwrap_err().field, "found_at");
        let f = facts();
        assert_eq!(f.validate(T - 2 * HOUR).unwrap_err().field, "found_at");
        let mut f = IncidentFacts::new(T - 2 * HOUR, T, EventKind::Leak);
        f.knew_at = T;
        assert_eq!(f.validate(T - HOUR).unwrap_err().field, "knew_at");
        let mut f = facts();
        f.knew_at = T - HOUR;
        assert_eq!(f.validate(T).unwrap_err().field, "knew_at");
        let mut f = facts();
        f.occurred_at = Some(T + 3 * HOUR);
        f.found_at = T + 4 * HOUR;
        f.knew_at = T + 4 * HOUR;
        assert_eq!(f.validate(T).unwrap_err().field, "occurred_at");
        let mut f = facts();
        f.persons = Some(MAX_PERSONS + 1);
        assert_eq!(f.validate(T).unwrap_err().field, "persons");
        let mut f = facts();
        f.notified_entruster_at = Some(T + 5 * HOUR);
        assert_eq!(
            f.validate(T + HOUR).unwrap_err().field,
            "notified_entruster_at"
        );
        assert!(facts().validate(T).is_ok());
        // A minute of clock skew is tolerated.
        assert!(facts().validate(T - 30_000_000).is_ok());
    }

    #[test]
    fn every_problem_is_named_not_only_the_first() {
        let mut f = facts();
        f.occurred_at = Some(T + 3 * HOUR);
        f.knew_at = T - HOUR;
        f.persons = Some(MAX_PERSONS + 1);
        let fields: Vec<&str> = f.problems(T).iter().map(|e| e.field).collect();
        assert_eq!(fields, ["occurred_at", "knew_at", "persons"]);
        assert_eq!(f.validate(T).unwrap_err().field, "occurred_at");
        assert!(facts().problems(T).is_empty());
    }

    #[test]
    fn unknown_event_is_assessed_as_a_suspected_leak() {
        let mut f = facts();
        f.event = EventKind::Unknown;
        f.suspected = false;
        f.items.insert(Item::CreditCardNumber);
        f.persons = Some(3);
        let a = f.assess().unwrap();
        assert!(a.reportable);
        assert_eq!(a.categories, vec![Category::Financial]);
        assert!(a.reasons[0].ja().contains("事象の種類が未確定"));
    }

    #[test]
    fn unknown_count_is_said_in_the_reasons() {
        let mut f = facts();
        f.items.insert(Item::Name);
        let a = f.assess().unwrap();
        assert!(!a.reportable);
        assert!(a
            .reasons
            .iter()
            .any(|r| r.ja().contains("本人の数が未確定")));
        f.persons = Some(1001);
        let a = f.assess().unwrap();
        assert_eq!(a.categories, vec![Category::Over1000]);
        f.persons = Some(1000);
        assert!(!f.assess().unwrap().reportable);
    }

    #[test]
    fn knowing_time_in_utc_that_is_already_the_next_day_in_japan() {
        // 2025-08-16T15:30:00Z is 2025-08-17 00:30 JST: day 30 is 2025-09-15 (敬老の日).
        let knew = chrono::DateTime::parse_from_rfc3339("2025-08-16T15:30:00Z")
            .unwrap()
            .timestamp_micros();
        let mut f = IncidentFacts::new(knew, knew, EventKind::Leak);
        f.items.insert(Item::CreditCardNumber);
        f.persons = Some(10);
        let a = f.assess().unwrap();
        assert_eq!(
            a.final_report_due,
            Some(NaiveDate::from_ymd_opt(2025, 9, 16).unwrap())
        );
        assert_eq!(
            a.preliminary_report_due,
            Some(NaiveDate::from_ymd_opt(2025, 8, 21).unwrap())
        );
    }

    #[test]
    fn diff_names_what_changed() {
        let a = facts();
        let mut b = a.clone();
        b.persons = Some(1200);
        b.malicious = true;
        b.items.insert(Item::Email);
        let d = a.diff_ja(&b);
        assert_eq!(
            d,
            vec![
                "不正の目的のおそれ: いいえ → はい".to_owned(),
                "項目: なし → メールアドレス".to_owned(),
                "本人の数: 不明 → 1,200".to_owned(),
            ]
        );
        assert!(a.diff_ja(&a).is_empty());
    }

    #[test]
    fn unknown_contact_details_are_assumed_reachable_and_said_so() {
        let mut f = facts();
        f.items.insert(Item::CreditCardNumber);
        f.persons = Some(2);
        let a = f.assess().unwrap();
        assert_eq!(a.notice_method, Some(crate::appi::NoticeMethod::Direct));
        assert!(a
            .reasons
            .iter()
            .any(|r| r.ja().contains("連絡先の有無が未確認")));
        f.contact_info_available = Some(false);
        let a = f.assess().unwrap();
        assert_eq!(
            a.notice_method,
            Some(crate::appi::NoticeMethod::Alternative)
        );
    }

    #[test]
    fn digits_are_grouped() {
        assert_eq!(group_digits(0), "0");
        assert_eq!(group_digits(999), "999");
        assert_eq!(group_digits(1000), "1,000");
        assert_eq!(group_digits(1_234_567), "1,234,567");
    }

    #[test]
    fn stored_form_round_trips() {
        let mut f = facts();
        f.items.insert(Item::MyNumber);
        f.persons = Some(5);
        let json = serde_json::to_string(&f).unwrap();
        assert_eq!(serde_json::from_str::<IncidentFacts>(&json).unwrap(), f);
    }
}
