//! Self-inspections (総点検, issue 17 part 1): the schedule and question sets the privacy
//! office keeps, the monthly round (opened on its day by the worker, or earlier by the privacy
//! office), answers from every person and every department head, the figures per department
//! and item, the follow-up of people who answered "no", and the reminders.
//!
//! Who may do what: everybody answers (`TakePart`); the privacy office and the CISO keep the
//! sets and the schedule and open rounds (`RunProgramme`); figures are read with
//! `ViewProgramme` within the reach of [`App::programme_scope`] (department heads: their
//! departments); follow-ups are recorded by department heads for their departments and by the
//! privacy office. The follow-up list names people and shows their notes, so every view of it
//! is in the audit log; figures are counts and are not.

use crate::programme::ProgrammeScope;
use crate::{App, AppError, Ctx, Problem, Problems};
use chrono::TimeZone as _;
use mamori_domain::audit::Outcome;
use mamori_domain::programme::inspection::{
    self as insp, Audience, InspectionError, ItemReply, Question, Reply, ReplyInput, Tally,
};
use mamori_domain::programme::schedule::{Month, DEFAULT_DAY};
use mamori_domain::role::{Permission, Role};
use mamori_store::inspections::{
    AnswerRow, ExpectedRow, FollowupRow, NewAnswer, NewFollowup, NewRound, RoundRow, SetRow,
    TallyRow,
};
use mamori_store::users::User;
use serde_json::json;
use std::collections::{BTreeMap, HashMap, HashSet};

/// The periodic task that opens rounds on their day and reminds people (hourly).
pub const REMINDER_TASK: &str = "inspection.reminders";
/// Reminders go out from this hour (JST) of a reminder day, not at midnight.
pub const REMINDER_HOUR: u32 = 8;

/// Form fields of the items (`q-3`, `note-3`, `label-3`, `text-3`), static for `Problem`.
macro_rules! fields {
    ($p:literal) => {
        [
            concat!($p, "-1"),
            concat!($p, "-2"),
            concat!($p, "-3"),
            concat!($p, "-4"),
            concat!($p, "-5"),
            concat!($p, "-6"),
            concat!($p, "-7"),
            concat!($p, "-8"),
            concat!($p, "-9"),
            concat!($p, "-10"),
            concat!($p, "-11"),
            concat!($p, "-12"),
            concat!($p, "-13"),
            concat!($p, "-14"),
            concat!($p, "-15"),
            concat!($p, "-16"),
            concat!($p, "-17"),
            concat!($p, "-18"),
            concat!($p, "-19"),
            concat!($p, "-20"),
            concat!($p, "-21"),
            concat!($p, "-22"),
            concat!($p, "-23"),
            concat!($p, "-24"),
            concat!($p, "-25"),
            concat!($p, "-26"),
            concat!($p, "-27"),
            concat!($p, "-28"),
            concat!($p, "-29"),
            concat!($p, "-30"),
        ]
    };
}

/// Field names of item `n` (1-based) of the answer and set forms.
pub const Q_FIELDS: [&str; insp::MAX_ITEMS] = fields!("q");
pub const NOTE_FIELDS: [&str; insp::MAX_ITEMS] = fields!("note");
pub const LABEL_FIELDS: [&str; insp::MAX_ITEMS + 5] = {
    let a = fields!("label");
    [
        a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11], a[12], a[13],
        a[14], a[15], a[16], a[17], a[18], a[19], a[20], a[21], a[22], a[23], a[24], a[25], a[26],
        a[27], a[28], a[29], "label-31", "label-32", "label-33", "label-34", "label-35",
    ]
};
pub const TEXT_FIELDS: [&str; insp::MAX_ITEMS + 5] = {
    let a = fields!("text");
    [
        a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11], a[12], a[13],
        a[14], a[15], a[16], a[17], a[18], a[19], a[20], a[21], a[22], a[23], a[24], a[25], a[26],
        a[27], a[28], a[29], "text-31", "text-32", "text-33", "text-34", "text-35",
    ]
};

fn field_of(e: &InspectionError) -> Option<&'static str> {
    let pick = |list: &[&'static str], n: usize| list.get(n.wrapping_sub(1)).copied();
    match e {
        InspectionError::LabelMissing(n)
        | InspectionError::LabelTooLong(n)
        | InspectionError::DuplicateLabel(n, _) => pick(&LABEL_FIELDS, *n),
        InspectionError::TextMissing(n) | InspectionError::TextTooLong(n) => pick(&TEXT_FIELDS, *n),
        InspectionError::Unanswered(n) => pick(&Q_FIELDS, *n),
        InspectionError::NoteTooLong(n) => pick(&NOTE_FIELDS, *n),
        _ => None,
    }
}

fn problem_of(e: &InspectionError) -> Problem {
    Problem::new(field_of(e), e.message_ja(), e.to_string())
}

/// The schedule and the current sets of a company, as the settings page shows them.
#[derive(Debug, Clone)]
pub struct InspectionSettings {
    pub day_of_month: u32,
    pub enabled: bool,
    pub individual: SetRow,
    pub manager: SetRow,
}

/// A round with its sets' questions.
#[derive(Debug, Clone)]
pub struct RoundInfo {
    pub round: RoundRow,
    pub individual: Vec<Question>,
    pub manager: Vec<Question>,
}

impl RoundInfo {
    pub fn questions(&self, a: Audience) -> &[Question] {
        match a {
            Audience::Individual => &self.individual,
            Audience::Manager => &self.manager,
        }
    }

    pub fn month(&self) -> Option<Month> {
        Month::parse(&self.round.month)
    }
}

/// What a person is asked to answer now.
#[derive(Debug, Clone)]
pub struct InspectionTask {
    pub round: RoundRow,
    pub audience: Audience,
    pub answered_at: Option<i64>,
}

/// The answer form of one person.
#[derive(Debug, Clone)]
pub struct AnswerForm {
    pub round: RoundRow,
    pub audience: Audience,
    pub questions: Vec<Question>,
    /// Set when the person has answered already (the form is then shown read-only).
    pub answered: Option<(i64, Vec<ItemReply>)>,
}

/// Figures of one department in one round.
#[derive(Debug, Clone, PartialEq)]
pub struct DeptFigures {
    pub department_id: i64,
    pub name: String,
    pub expected: BTreeMap<Audience, i64>,
    pub answered: BTreeMap<Audience, i64>,
    /// Counts per item, by audience (index = item − 1).
    pub tallies: BTreeMap<Audience, Vec<Tally>>,
}

impl DeptFigures {
    pub fn score(&self, a: Audience) -> Option<f64> {
        self.tallies.get(&a).and_then(|t| insp::mean_score(t))
    }
}

/// One round as the managers' page shows it.
#[derive(Debug, Clone)]
pub struct RoundFigures {
    pub info: RoundInfo,
    /// The departments within reach, in the tree's order.
    pub departments: Vec<DeptFigures>,
    /// The company as a whole (every department, whatever the reach): the comparison line on
    /// each radar.
    pub company: BTreeMap<Audience, Vec<Tally>>,
    pub follow_up_open: usize,
}

/// A person on the follow-up list.
#[derive(Debug, Clone)]
pub struct FollowupItem {
    pub answer: AnswerRow,
    pub person: String,
    pub department: String,
    /// The items answered "no": (number, label, note).
    pub noes: Vec<(usize, Question, Option<String>)>,
    pub followups: Vec<FollowupView>,
}

#[derive(Debug, Clone)]
pub struct FollowupView {
    pub row: FollowupRow,
    pub interviewer: String,
    pub note: Option<String>,
}

/// Scores of one department month by month.
#[derive(Debug, Clone, PartialEq)]
pub struct TrendPoint {
    pub month: String,
    pub individual: Option<f64>,
    pub manager: Option<f64>,
    pub company_individual: Option<f64>,
}

fn audience_of(s: &str) -> Result<Audience, AppError> {
    Audience::parse(s).ok_or_else(|| {
        AppError::Invalid(Problem::new(
            None,
            format!("点検の種類「{s}」はありません"),
            format!("no inspection kind `{s}`"),
        ))
    })
}

fn questions_of(set: &SetRow) -> Result<Vec<Question>, AppError> {
    serde_json::from_str(&set.questions)
        .map_err(|e| AppError::Internal(format!("question set {} is not readable: {e}", set.id)))
}

fn letters(replies: &[ItemReply]) -> String {
    replies
        .iter()
        .map(|r| match r.reply {
            Reply::Yes => 'y',
            Reply::No => 'n',
            Reply::NotApplicable => 'a',
        })
        .collect()
}

fn replies_of(letters: &str, notes: &[Option<String>]) -> Vec<ItemReply> {
    letters
        .chars()
        .enumerate()
        .map(|(i, c)| ItemReply {
            reply: match c {
                'y' => Reply::Yes,
                'n' => Reply::No,
                _ => Reply::NotApplicable,
            },
            note: notes.get(i).cloned().flatten(),
        })
        .collect()
}

fn notes_context(round_id: i64, user_id: i64, audience: &str) -> String {
    format!("inspection-notes:{round_id}:{user_id}:{audience}")
}

fn followup_context(answer_id: i64) -> String {
    format!("inspection-followup:{answer_id}")
}

fn tallies_by_audience(rows: &[&TallyRow]) -> BTreeMap<Audience, Vec<Tally>> {
    let mut out: BTreeMap<Audience, Vec<Tally>> = BTreeMap::new();
    for r in rows {
        let Some(a) = Audience::parse(&r.audience) else {
            continue;
        };
        let Ok(i) = usize::try_from(r.item - 1) else {
            continue;
        };
        let v = out.entry(a).or_default();
        if v.len() <= i {
            v.resize(i + 1, Tally::default());
        }
        v[i].merge(Tally {
            yes: r.yes,
            no: r.no,
            na: r.na,
        });
    }
    out
}

impl App {
    /// The sets of a company, made from the defaults the first time they are asked for.
    async fn current_sets(&self, company_id: i64, by: &str) -> Result<(SetRow, SetRow), AppError> {
        let mut out = Vec::with_capacity(2);
        for a in Audience::ALL {
            let set = if let Some(s) = self
                .store
                .latest_inspection_set(company_id, a.code())
                .await?
            {
                s
            } else {
                let qs = match a {
                    Audience::Individual => insp::default_individual_set(),
                    Audience::Manager => insp::default_manager_set(),
                };
                let json =
                    serde_json::to_string(&qs).map_err(|e| AppError::Internal(e.to_string()))?;
                self.store
                    .add_inspection_set(company_id, a.code(), &json, self.clock.now_micros(), by)
                    .await?
            };
            out.push(set);
        }
        let manager = out.pop().ok_or(AppError::NotFound)?;
        let individual = out.pop().ok_or(AppError::NotFound)?;
        Ok((individual, manager))
    }

    async fn schedule_of(&self, company_id: i64) -> Result<(u32, bool), AppError> {
        Ok(match self.store.inspection_schedule(company_id).await? {
            Some(s) => (
                u32::try_from(s.day_of_month).unwrap_or(DEFAULT_DAY),
                s.enabled,
            ),
            None => (DEFAULT_DAY, false),
        })
    }

    /// The schedule and the current sets (the settings page).
    pub async fn inspection_settings(&self, ctx: &Ctx) -> Result<InspectionSettings, AppError> {
        if !ctx.allows(Permission::ViewProgramme) {
            return Err(AppError::Denied);
        }
        let scope = self.programme_scope(ctx).await?;
        let (day, enabled) = self.schedule_of(scope.company_id).await?;
        let (individual, manager) = self
            .current_sets(scope.company_id, &ctx.actor_name())
            .await?;
        Ok(InspectionSettings {
            day_of_month: day,
            enabled,
            individual,
            manager,
        })
    }

    /// Every version of a set, newest first, with its questions.
    pub async fn inspection_set_versions(
        &self,
        ctx: &Ctx,
        audience: &str,
    ) -> Result<Vec<(SetRow, Vec<Question>)>, AppError> {
        if !ctx.allows(Permission::ViewProgramme) {
            return Err(AppError::Denied);
        }
        let a = audience_of(audience)?;
        let scope = self.programme_scope(ctx).await?;
        let mut out = Vec::new();
        for s in self
            .store
            .inspection_set_versions(scope.company_id, a.code())
            .await?
        {
            let qs = questions_of(&s)?;
            out.push((s, qs));
        }
        Ok(out)
    }

    /// Saves the day of the month and whether rounds open and remind by themselves.
    pub async fn set_inspection_schedule(
        &self,
        ctx: &Ctx,
        day_text: &str,
        enabled: bool,
    ) -> Result<(), AppError> {
        if !ctx.allows(Permission::RunProgramme) {
            return Err(AppError::Denied);
        }
        let scope = self.programme_scope(ctx).await?;
        let day = mamori_domain::number::parse_count(day_text)
            .ok()
            .flatten()
            .filter(|d| (1..=31).contains(d))
            .ok_or_else(|| {
                AppError::Invalid(Problem::new(
                    Some("day"),
                    format!("点検日「{day_text}」: 1〜31の日にちで入力してください（月末より大きい日はその月の末日になります）"),
                    format!("inspection day `{day_text}`: give a day of the month from 1 to 31 (a day the month does not have is its last day)"),
                ))
            })?;
        self.store
            .set_inspection_schedule(
                scope.company_id,
                i64::try_from(day).unwrap_or(17),
                enabled,
                self.clock.now_micros(),
                &ctx.actor_name(),
            )
            .await?;
        self.audit(
            ctx,
            "inspection.schedule",
            &format!("company:{}", scope.company_id),
            Outcome::Success,
            json!({"day": day, "enabled": enabled}),
        )
        .await?;
        Ok(())
    }

    /// Publishes a new version of a question set from the rows of the form (label, question).
    pub async fn publish_inspection_set(
        &self,
        ctx: &Ctx,
        audience: &str,
        rows: &[(String, String)],
    ) -> Result<SetRow, AppError> {
        if !ctx.allows(Permission::RunProgramme) {
            return Err(AppError::Denied);
        }
        let a = audience_of(audience)?;
        let scope = self.programme_scope(ctx).await?;
        let (questions, problems) = insp::check_questions(rows);
        let mut ps = Problems::new();
        for p in &problems {
            ps.push(problem_of(p));
        }
        ps.done()?;
        // A question whose Japanese is unchanged keeps its English.
        let before = match self
            .store
            .latest_inspection_set(scope.company_id, a.code())
            .await?
        {
            Some(set) => questions_of(&set)?,
            None => match a {
                Audience::Individual => insp::default_individual_set(),
                Audience::Manager => insp::default_manager_set(),
            },
        };
        let questions: Vec<Question> = questions
            .into_iter()
            .map(|q| q.with_english_of(&before))
            .collect();
        let json =
            serde_json::to_string(&questions).map_err(|e| AppError::Internal(e.to_string()))?;
        let set = self
            .store
            .add_inspection_set(
                scope.company_id,
                a.code(),
                &json,
                self.clock.now_micros(),
                &ctx.actor_name(),
            )
            .await?;
        self.audit(
            ctx,
            "inspection.set.publish",
            &format!("inspection_set:{}", set.id),
            Outcome::Success,
            json!({"audience": a.code(), "version": set.version, "questions": questions.len()}),
        )
        .await?;
        Ok(set)
    }

    /// Opens the round of a month for a company (the worker on the inspection day, or the
    /// privacy office earlier): the current sets, the window from the schedule, and who is
    /// expected to answer per department. The existing round when it is open already.
    pub async fn open_inspection_round_for(
        &self,
        company_id: i64,
        month: Month,
        by: &str,
        early: Option<chrono::NaiveDate>,
    ) -> Result<(RoundRow, bool), AppError> {
        if let Some(r) = self
            .store
            .inspection_round(company_id, &month.key())
            .await?
        {
            return Ok((r, false));
        }
        let (day, _) = self.schedule_of(company_id).await?;
        let (opens, closes) = insp::round_window(month, day).map_err(|e| {
            AppError::Invalid(Problem::new(
                None,
                format!("{}の点検日を決められません: {e}", month.label(false)),
                format!(
                    "the inspection day of {} cannot be set: {e}",
                    month.label(true)
                ),
            ))
        })?;
        // Opened before its day: answers are taken from the day it was opened.
        let opens = early.map_or(opens, |d| d.min(opens));
        let (individual, manager) = self.current_sets(company_id, by).await?;
        let users = self.store.list_users(Some(company_id)).await?;
        let mut expected: BTreeMap<(i64, Audience), i64> = BTreeMap::new();
        for u in users.iter().filter(|u| !u.disabled) {
            *expected
                .entry((u.department_id, Audience::Individual))
                .or_default() += 1;
            if u.roles.contains(Role::DepartmentHead) {
                *expected
                    .entry((u.department_id, Audience::Manager))
                    .or_default() += 1;
            }
        }
        let round = NewRound {
            company_id,
            month: month.key(),
            opens_on: opens.to_string(),
            closes_on: closes.to_string(),
            individual_set_id: individual.id,
            manager_set_id: manager.id,
            opened_at: self.clock.now_micros(),
            opened_by: by.to_owned(),
            expected: expected
                .into_iter()
                .map(|((d, a), n)| (d, a.code().to_owned(), n))
                .collect(),
        };
        Ok(self.store.open_inspection_round(&round).await?)
    }

    /// The privacy office opens this month's round before its day (or a past month's that
    /// was never opened).
    pub async fn open_inspection_round(
        &self,
        ctx: &Ctx,
        month_text: &str,
    ) -> Result<RoundRow, AppError> {
        if !ctx.allows(Permission::RunProgramme) {
            return Err(AppError::Denied);
        }
        let scope = self.programme_scope(ctx).await?;
        let this = Month::of(self.today());
        let month = Month::parse(month_text)
            .filter(|m| *m <= this.next())
            .ok_or_else(|| {
                AppError::Invalid(Problem::new(
                    Some("month"),
                    format!("月「{month_text}」: 2026-12 のように、来月までの年月で入力してください"),
                    format!("month `{month_text}`: give a year and month such as 2026-12, at most next month"),
                ))
            })?;
        let (round, created) = self
            .open_inspection_round_for(
                scope.company_id,
                month,
                &ctx.actor_name(),
                Some(self.today()),
            )
            .await?;
        if created {
            self.audit(
                ctx,
                "inspection.round.open",
                &format!("inspection_round:{}", round.id),
                Outcome::Success,
                json!({"month": round.month, "opens_on": round.opens_on, "closes_on": round.closes_on}),
            )
            .await?;
        }
        Ok(round)
    }

    async fn round_info(&self, round: RoundRow) -> Result<RoundInfo, AppError> {
        let ind = self
            .store
            .inspection_set(round.individual_set_id)
            .await?
            .ok_or(AppError::NotFound)?;
        let man = self
            .store
            .inspection_set(round.manager_set_id)
            .await?
            .ok_or(AppError::NotFound)?;
        Ok(RoundInfo {
            individual: questions_of(&ind)?,
            manager: questions_of(&man)?,
            round,
        })
    }

    /// The round that accepts answers today, if it has been opened.
    pub async fn open_inspection_round_now(
        &self,
        company_id: i64,
    ) -> Result<Option<RoundRow>, AppError> {
        let today = self.today();
        let (day, _) = self.schedule_of(company_id).await?;
        // Today's round by the schedule, or one opened early by the privacy office for a
        // month whose day has not come yet.
        let Ok((month, _, _)) = insp::round_open_on(today, day) else {
            return Ok(None);
        };
        let today = today.to_string();
        for m in [month.next(), month] {
            if let Some(r) = self.store.inspection_round(company_id, &m.key()).await? {
                if r.opens_on <= today && today <= r.closes_on {
                    return Ok(Some(r));
                }
            }
        }
        Ok(None)
    }

    /// The inspections the person is asked to answer now (the hub's tasks).
    pub async fn my_inspection_tasks(&self, ctx: &Ctx) -> Result<Vec<InspectionTask>, AppError> {
        let u = ctx.user_ref().ok_or(AppError::Denied)?;
        if !ctx.allows(Permission::TakePart) {
            return Err(AppError::Denied);
        }
        let Some(round) = self.open_inspection_round_now(u.company_id).await? else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        let mut audiences = vec![Audience::Individual];
        if u.roles.contains(Role::DepartmentHead) {
            audiences.push(Audience::Manager);
        }
        for a in audiences {
            let answered = self
                .store
                .inspection_answer_of(round.id, a.code(), u.id)
                .await?
                .map(|r| r.submitted_at);
            out.push(InspectionTask {
                round: round.clone(),
                audience: a,
                answered_at: answered,
            });
        }
        Ok(out)
    }

    /// The answer form of the open round (or the person's answer, read-only, once given).
    pub async fn inspection_answer_form(
        &self,
        ctx: &Ctx,
        audience: &str,
    ) -> Result<Option<AnswerForm>, AppError> {
        let u = ctx.user_ref().ok_or(AppError::Denied)?;
        if !ctx.allows(Permission::TakePart) {
            return Err(AppError::Denied);
        }
        let a = audience_of(audience)?;
        if a == Audience::Manager && !u.roles.contains(Role::DepartmentHead) {
            return Err(AppError::Denied);
        }
        let Some(round) = self.open_inspection_round_now(u.company_id).await? else {
            return Ok(None);
        };
        let info = self.round_info(round).await?;
        let answered = match self
            .store
            .inspection_answer_of(info.round.id, a.code(), u.id)
            .await?
        {
            Some(row) => {
                let notes: Vec<Option<String>> = match &row.notes_sealed {
                    Some(s) => {
                        let plain = self
                            .keys
                            .unseal(s, &notes_context(row.round_id, row.user_id, &row.audience))
                            .map_err(|e| AppError::Internal(format!("notes: {e}")))?;
                        serde_json::from_slice(&plain).unwrap_or_default()
                    }
                    None => Vec::new(),
                };
                Some((row.submitted_at, replies_of(&row.replies, &notes)))
            }
            None => None,
        };
        Ok(Some(AnswerForm {
            questions: info.questions(a).to_vec(),
            round: info.round,
            audience: a,
            answered,
        }))
    }

    /// Stores the person's answer to the open round.
    pub async fn submit_inspection(
        &self,
        ctx: &Ctx,
        round_id: i64,
        audience: &str,
        input: &[ReplyInput],
    ) -> Result<i64, AppError> {
        let u = ctx.user_ref().ok_or(AppError::Denied)?;
        if !ctx.allows(Permission::TakePart) {
            return Err(AppError::Denied);
        }
        let a = audience_of(audience)?;
        if a == Audience::Manager && !u.roles.contains(Role::DepartmentHead) {
            return Err(AppError::Denied);
        }
        let round = self
            .store
            .inspection_round_by_id(round_id)
            .await?
            .filter(|r| r.company_id == u.company_id)
            .ok_or(AppError::NotFound)?;
        let today = self.today().to_string();
        if today < round.opens_on || today > round.closes_on {
            return Err(AppError::Invalid(Problem::new(
                None,
                format!(
                    "この点検（{}）の回答期間は {} から {} までです",
                    round.month, round.opens_on, round.closes_on
                ),
                format!(
                    "answers to this inspection ({}) are accepted from {} to {}",
                    round.month, round.opens_on, round.closes_on
                ),
            )));
        }
        if let Some(prev) = self
            .store
            .inspection_answer_of(round.id, a.code(), u.id)
            .await?
        {
            return Err(already_answered(&prev));
        }
        let info = self.round_info(round).await?;
        let questions = info.questions(a);
        let replies = insp::check_answer(questions.len(), input).map_err(|problems| {
            let mut ps = Problems::new();
            for p in &problems {
                ps.push(problem_of(p));
            }
            match ps.done() {
                Err(e) => e,
                Ok(()) => AppError::Internal("no problem".into()),
            }
        })?;
        let notes: Vec<Option<String>> = replies.iter().map(|r| r.note.clone()).collect();
        let notes_sealed = notes.iter().any(Option::is_some).then(|| {
            let plain = serde_json::to_vec(&notes).unwrap_or_default();
            self.keys
                .seal(&plain, &notes_context(info.round.id, u.id, a.code()))
        });
        let set_id = match a {
            Audience::Individual => info.round.individual_set_id,
            Audience::Manager => info.round.manager_set_id,
        };
        let id = self
            .store
            .submit_inspection_answer(&NewAnswer {
                round_id: info.round.id,
                company_id: u.company_id,
                audience: a.code().to_owned(),
                set_id,
                user_id: u.id,
                department_id: u.department_id,
                replies: letters(&replies),
                notes_sealed,
                submitted_at: self.clock.now_micros(),
            })
            .await?;
        let Some(id) = id else {
            // Sent twice at once: the other one was stored.
            let prev = self
                .store
                .inspection_answer_of(info.round.id, a.code(), u.id)
                .await?
                .ok_or(AppError::NotFound)?;
            return Err(already_answered(&prev));
        };
        let noes = replies.iter().filter(|r| r.reply == Reply::No).count();
        self.audit(
            ctx,
            "inspection.answer",
            &format!("inspection_round:{}", info.round.id),
            Outcome::Success,
            json!({"audience": a.code(), "answer": id, "no": noes}),
        )
        .await?;
        Ok(id)
    }

    /// A company's rounds, newest first, within the last `months` months.
    pub async fn inspection_rounds(
        &self,
        ctx: &Ctx,
        months: u32,
    ) -> Result<Vec<RoundRow>, AppError> {
        if !ctx.allows(Permission::ViewProgramme) {
            return Err(AppError::Denied);
        }
        let scope = self.programme_scope(ctx).await?;
        let to = Month::of(self.today()).next();
        let mut from = to;
        for _ in 0..months {
            from = from.prev();
        }
        Ok(self
            .store
            .inspection_rounds(scope.company_id, &from.key(), &to.key())
            .await?)
    }

    /// The figures of one round: per department within reach, and the company's.
    pub async fn inspection_round_figures(
        &self,
        ctx: &Ctx,
        round_id: i64,
    ) -> Result<RoundFigures, AppError> {
        if !ctx.allows(Permission::ViewProgramme) {
            return Err(AppError::Denied);
        }
        let scope = self.programme_scope(ctx).await?;
        let round = self
            .store
            .inspection_round_by_id(round_id)
            .await?
            .filter(|r| r.company_id == scope.company_id)
            .ok_or(AppError::NotFound)?;
        let info = self.round_info(round).await?;
        let tallies = self.store.inspection_tallies(round_id).await?;
        let expected = self.store.inspection_expected(round_id).await?;
        let departments = self.store.list_departments(scope.company_id).await?;
        let follow = self.follow_up_open_count(&scope, round_id).await?;
        Ok(round_figures(
            info,
            &scope,
            &departments,
            &tallies,
            &expected,
            follow,
        ))
    }

    async fn follow_up_open_count(
        &self,
        scope: &ProgrammeScope,
        round_id: i64,
    ) -> Result<usize, AppError> {
        Ok(self
            .store
            .inspection_follow_up_open(round_id)
            .await?
            .iter()
            .filter(|(d, _)| scope.sees_department(*d))
            .map(|(_, n)| usize::try_from(*n).unwrap_or(0))
            .sum())
    }

    /// The people of a round who answered "no" at least once, within reach, with their notes
    /// and follow-ups. Recorded in the audit log (it names people).
    pub async fn inspection_follow_up_list(
        &self,
        ctx: &Ctx,
        round_id: i64,
    ) -> Result<Vec<FollowupItem>, AppError> {
        if !ctx.allows(Permission::ViewProgramme) {
            return Err(AppError::Denied);
        }
        let scope = self.programme_scope(ctx).await?;
        let round = self
            .store
            .inspection_round_by_id(round_id)
            .await?
            .filter(|r| r.company_id == scope.company_id)
            .ok_or(AppError::NotFound)?;
        let info = self.round_info(round).await?;
        let answers: Vec<AnswerRow> = self
            .store
            .inspection_answers_with_no(round_id)
            .await?
            .into_iter()
            .filter(|a| scope.sees_department(a.department_id))
            .collect();
        let users: HashMap<i64, User> = self
            .store
            .list_users(Some(scope.company_id))
            .await?
            .into_iter()
            .map(|u| (u.id, u))
            .collect();
        let depts: HashMap<i64, String> = self
            .store
            .list_departments(scope.company_id)
            .await?
            .into_iter()
            .map(|d| (d.id, d.name))
            .collect();
        let mut followups: HashMap<i64, Vec<FollowupRow>> = HashMap::new();
        for f in self.store.inspection_followups(round_id).await? {
            followups.entry(f.answer_id).or_default().push(f);
        }
        let name = |id: i64| {
            users
                .get(&id)
                .map_or_else(|| format!("#{id}"), |u| u.display_name.clone())
        };
        let mut out = Vec::with_capacity(answers.len());
        for a in answers {
            let notes: Vec<Option<String>> = match &a.notes_sealed {
                Some(s) => {
                    let plain = self
                        .keys
                        .unseal(s, &notes_context(a.round_id, a.user_id, &a.audience))
                        .map_err(|e| AppError::Internal(format!("notes: {e}")))?;
                    serde_json::from_slice(&plain).unwrap_or_default()
                }
                None => Vec::new(),
            };
            let audience = Audience::parse(&a.audience).unwrap_or(Audience::Individual);
            let questions = info.questions(audience);
            let noes = a
                .replies
                .chars()
                .enumerate()
                .filter(|(_, c)| *c == 'n')
                .map(|(i, _)| {
                    (
                        i + 1,
                        questions.get(i).cloned().unwrap_or_else(|| Question {
                            label: (i + 1).to_string(),
                            text: String::new(),
                            label_en: None,
                            text_en: None,
                        }),
                        notes.get(i).cloned().flatten(),
                    )
                })
                .collect();
            let mut views = Vec::new();
            for f in followups.remove(&a.id).unwrap_or_default() {
                let note = match &f.note_sealed {
                    Some(s) => Some(
                        String::from_utf8_lossy(
                            &self
                                .keys
                                .unseal(s, &followup_context(f.answer_id))
                                .map_err(|e| AppError::Internal(format!("follow-up: {e}")))?,
                        )
                        .into_owned(),
                    ),
                    None => None,
                };
                views.push(FollowupView {
                    interviewer: name(f.interviewer_id),
                    note,
                    row: f,
                });
            }
            out.push(FollowupItem {
                person: name(a.user_id),
                department: depts.get(&a.department_id).cloned().unwrap_or_default(),
                noes,
                followups: views,
                answer: a,
            });
        }
        self.audit(
            ctx,
            "inspection.followup.view",
            &format!("inspection_round:{round_id}"),
            Outcome::Success,
            json!({"people": out.len()}),
        )
        .await?;
        Ok(out)
    }

    /// Records an interview with a person on the follow-up list.
    pub async fn record_inspection_followup(
        &self,
        ctx: &Ctx,
        answer_id: i64,
        date_text: &str,
        outcome_text: &str,
        note_text: &str,
    ) -> Result<i64, AppError> {
        let u = ctx.user_ref().ok_or(AppError::Denied)?;
        if !(ctx.allows(Permission::RunProgramme) || u.roles.contains(Role::DepartmentHead)) {
            return Err(AppError::Denied);
        }
        let scope = self.programme_scope(ctx).await?;
        let answer = self
            .store
            .inspection_answer(answer_id)
            .await?
            .filter(|a| a.company_id == scope.company_id && scope.sees_department(a.department_id))
            .ok_or(AppError::NotFound)?;
        if answer.no_count == 0 {
            return Err(AppError::NotFound);
        }
        let mut ps = Problems::new();
        let today = self.today();
        let date = match chrono::NaiveDate::parse_from_str(date_text.trim(), "%Y-%m-%d") {
            Ok(d) if d <= today => Some(d),
            Ok(_) => {
                ps.push(Problem::new(
                    Some("interviewed_on"),
                    "面談日: 今日より後の日は入力できません",
                    "interview date: a day after today cannot be given",
                ));
                None
            }
            Err(_) => {
                ps.push(Problem::new(
                    Some("interviewed_on"),
                    format!("面談日「{date_text}」: 2026-12-17 の形で入力してください"),
                    format!("interview date `{date_text}`: give a date such as 2026-12-17"),
                ));
                None
            }
        };
        let outcome = insp::Outcome::parse(outcome_text);
        if outcome.is_none() {
            ps.push(Problem::new(
                Some("outcome"),
                "結果を選んでください",
                "choose the outcome",
            ));
        }
        let note = mamori_domain::text::single_line(note_text);
        if note.chars().count() > insp::MAX_NOTE_CHARS {
            ps.push(Problem::new(
                Some("note"),
                format!("メモは{}文字以内にしてください", insp::MAX_NOTE_CHARS),
                format!(
                    "the note is longer than {} characters",
                    insp::MAX_NOTE_CHARS
                ),
            ));
        }
        ps.done()?;
        let (Some(date), Some(outcome)) = (date, outcome) else {
            return Err(AppError::Internal("checked above".into()));
        };
        let id = self
            .store
            .add_inspection_followup(&NewFollowup {
                answer_id,
                interviewed_on: date.to_string(),
                interviewer_id: u.id,
                outcome: outcome.code().to_owned(),
                note_sealed: (!note.is_empty()).then(|| {
                    self.keys
                        .seal(note.as_bytes(), &followup_context(answer_id))
                }),
                recorded_at: self.clock.now_micros(),
                recorded_by: ctx.actor_name(),
            })
            .await?;
        self.audit(
            ctx,
            "inspection.followup.record",
            &format!("inspection_answer:{answer_id}"),
            Outcome::Success,
            json!({"followup": id, "outcome": outcome.code(), "person": answer.user_id}),
        )
        .await?;
        Ok(id)
    }

    /// One department's scores month by month over the last `months` months, with the
    /// company's individual score for comparison.
    pub async fn inspection_trend(
        &self,
        ctx: &Ctx,
        department_id: i64,
        months: u32,
    ) -> Result<Vec<TrendPoint>, AppError> {
        Ok(self
            .inspection_department_view(ctx, department_id, months)
            .await?
            .trend)
    }

    /// One department's page: its name, its newest round's scores per item against the month
    /// before (when it asked the same questions) and the company, and the trend over the last
    /// `months` months. Reads the department's counts and the company's sums (summed by the
    /// database), never the answers.
    pub async fn inspection_department_view(
        &self,
        ctx: &Ctx,
        department_id: i64,
        months: u32,
    ) -> Result<DepartmentView, AppError> {
        if !ctx.allows(Permission::ViewProgramme) {
            return Err(AppError::Denied);
        }
        let scope = self.programme_scope(ctx).await?;
        let name = self
            .store
            .list_departments(scope.company_id)
            .await?
            .into_iter()
            .find(|d| d.id == department_id && scope.sees_department(d.id))
            .map(|d| d.name)
            .ok_or(AppError::NotFound)?;
        let to = Month::of(self.today()).next();
        let mut from = to;
        for _ in 0..months {
            from = from.prev();
        }
        let mine = self
            .store
            .inspection_department_tallies(scope.company_id, department_id, &from.key(), &to.key())
            .await?;
        let company = self
            .store
            .inspection_company_items(
                scope.company_id,
                Audience::Individual.code(),
                &from.key(),
                &to.key(),
            )
            .await?;
        let trend = trend_of(&mine, &company);
        // The newest month in which the department answered its own inspection.
        let mut latest = None;
        let months_with: Vec<(String, i64)> = {
            let mut v: Vec<(String, i64)> = mine
                .iter()
                .filter(|t| t.audience == Audience::Individual.code())
                .map(|t| (t.month.clone(), t.round_id))
                .collect();
            v.dedup();
            v
        };
        if let Some((month, round_id)) = months_with.last() {
            let round = self
                .store
                .inspection_round_by_id(*round_id)
                .await?
                .ok_or(AppError::NotFound)?;
            let info = self.round_info(round).await?;
            let n = info.individual.len();
            let items = |rows: &[TallyRow], m: &str| -> Vec<Option<f64>> {
                let refs: Vec<&TallyRow> = rows
                    .iter()
                    .filter(|t| t.month == m && t.audience == Audience::Individual.code())
                    .collect();
                let by = tallies_by_audience(&refs);
                (0..n)
                    .map(|i| {
                        by.get(&Audience::Individual)
                            .and_then(|t| t.get(i))
                            .and_then(|t| t.score())
                    })
                    .collect()
            };
            let previous = match months_with.iter().rev().nth(1) {
                Some((pm, pid)) => {
                    let same = match self.store.inspection_round_by_id(*pid).await? {
                        Some(p) => self.round_info(p).await?.individual == info.individual,
                        None => false,
                    };
                    same.then(|| items(&mine, pm))
                }
                None => None,
            };
            latest = Some(DepartmentLatest {
                month: month.clone(),
                round_id: *round_id,
                labels: info.individual.clone(),
                items: items(&mine, month),
                previous,
                company: items(&company, month),
            });
        }
        Ok(DepartmentView {
            name,
            latest,
            trend,
        })
    }
}

/// One department's newest inspection (the department page's radar).
#[derive(Debug, Clone, PartialEq)]
pub struct DepartmentLatest {
    pub month: String,
    pub round_id: i64,
    pub labels: Vec<Question>,
    pub items: Vec<Option<f64>>,
    /// The month before, when it asked the same questions.
    pub previous: Option<Vec<Option<f64>>>,
    pub company: Vec<Option<f64>>,
}

/// The department page.
#[derive(Debug, Clone, PartialEq)]
pub struct DepartmentView {
    pub name: String,
    pub latest: Option<DepartmentLatest>,
    pub trend: Vec<TrendPoint>,
}

fn already_answered(prev: &AnswerRow) -> AppError {
    let at = mamori_domain::when::format_minute(prev.submitted_at);
    AppError::Invalid(Problem::new(
        None,
        format!("この点検には {at} に回答済みです。回答は1回だけです"),
        format!("you answered this inspection at {at}; an inspection is answered once"),
    ))
}

/// The figures of a round from its counts (pure, so the benchmark and the tests share it).
pub fn round_figures(
    info: RoundInfo,
    scope: &ProgrammeScope,
    departments: &[mamori_store::org::Department],
    tallies: &[TallyRow],
    expected: &[ExpectedRow],
    follow_up_open: usize,
) -> RoundFigures {
    let all: Vec<&TallyRow> = tallies.iter().collect();
    let company = tallies_by_audience(&all);
    let nodes: Vec<mamori_domain::org::DeptNode> = departments
        .iter()
        .map(|d| mamori_domain::org::DeptNode {
            id: d.id,
            parent_id: d.parent_id,
        })
        .collect();
    let names: HashMap<i64, &str> = departments
        .iter()
        .map(|d| (d.id, d.name.as_str()))
        .collect();
    let mut out = Vec::new();
    for (id, _) in mamori_domain::org::depth_first(&nodes) {
        if !scope.sees_department(id) {
            continue;
        }
        let mine: Vec<&TallyRow> = tallies.iter().filter(|t| t.department_id == id).collect();
        let mut exp = BTreeMap::new();
        let mut ans = BTreeMap::new();
        for e in expected.iter().filter(|e| e.department_id == id) {
            if let Some(a) = Audience::parse(&e.audience) {
                exp.insert(a, e.expected);
                ans.insert(a, e.answered);
            }
        }
        if exp.values().all(|n| *n == 0) && ans.values().all(|n| *n == 0) && mine.is_empty() {
            continue;
        }
        out.push(DeptFigures {
            department_id: id,
            name: names.get(&id).map(|s| (*s).to_owned()).unwrap_or_default(),
            expected: exp,
            answered: ans,
            tallies: tallies_by_audience(&mine),
        });
    }
    RoundFigures {
        info,
        departments: out,
        company,
        follow_up_open,
    }
}

/// Month-by-month scores of one department from its counts and the company's (pure).
pub fn trend_of(mine: &[TallyRow], company: &[TallyRow]) -> Vec<TrendPoint> {
    let mut by_month: BTreeMap<&str, (Vec<&TallyRow>, Vec<&TallyRow>)> = BTreeMap::new();
    for r in mine {
        by_month.entry(r.month.as_str()).or_default().0.push(r);
    }
    for r in company {
        by_month.entry(r.month.as_str()).or_default().1.push(r);
    }
    by_month
        .into_iter()
        .map(|(month, (m, c))| {
            let d = tallies_by_audience(&m);
            let c = tallies_by_audience(&c);
            TrendPoint {
                month: month.to_owned(),
                individual: d
                    .get(&Audience::Individual)
                    .and_then(|t| insp::mean_score(t)),
                manager: d.get(&Audience::Manager).and_then(|t| insp::mean_score(t)),
                company_individual: c
                    .get(&Audience::Individual)
                    .and_then(|t| insp::mean_score(t)),
            }
        })
        .collect()
}

impl App {
    /// The hourly task: for every company whose schedule is on, opens the month's round on
    /// its inspection day and, on the reminder days of the open round (its first day and the
    /// third business day after it, from [`REMINDER_HOUR`] JST), mails everybody who has not
    /// answered yet — at most once per person, round, audience and day. Returns the mails
    /// queued.
    pub async fn send_inspection_reminders(&self) -> Result<usize, AppError> {
        let now = self.clock.now_micros();
        let local = mamori_domain::appi::facts::jst()
            .timestamp_micros(now)
            .single()
            .map(|t| t.naive_local());
        let Some(local) = local else {
            return Ok(0);
        };
        let today = local.date();
        if chrono::Timelike::hour(&local) < REMINDER_HOUR {
            return Ok(0);
        }
        let mut sent = 0;
        for sched in self.store.inspection_schedules_enabled().await? {
            let day = u32::try_from(sched.day_of_month).unwrap_or(DEFAULT_DAY);
            let (month, opens, _) = match insp::round_open_on(today, day) {
                Ok(w) => w,
                Err(e) => {
                    tracing::warn!(company = sched.company_id, error = %e, "no inspection day");
                    continue;
                }
            };
            if today == opens {
                let (round, created) = self
                    .open_inspection_round_for(sched.company_id, month, "system", None)
                    .await?;
                if created {
                    self.audit_in(
                        &Ctx::local(),
                        Some(sched.company_id),
                        "inspection.round.open",
                        &format!("inspection_round:{}", round.id),
                        Outcome::Success,
                        json!({"month": round.month, "opens_on": round.opens_on,
                               "closes_on": round.closes_on, "by": "schedule"}),
                    )
                    .await?;
                }
            }
            let Some(round) = self.open_inspection_round_now(sched.company_id).await? else {
                continue;
            };
            let Ok(round_opens) = round.opens_on.parse::<chrono::NaiveDate>() else {
                continue;
            };
            let days = match insp::reminder_days(round_opens) {
                Ok(d) => d,
                Err(e) => {
                    tracing::warn!(company = sched.company_id, error = %e, "no reminder days");
                    continue;
                }
            };
            if !days.contains(&today) {
                continue;
            }
            sent += self.remind_round(&round, today).await?;
        }
        Ok(sent)
    }

    async fn remind_round(
        &self,
        round: &RoundRow,
        today: chrono::NaiveDate,
    ) -> Result<usize, AppError> {
        let answered: HashSet<(i64, String)> = self
            .store
            .inspection_respondents(round.id)
            .await?
            .into_iter()
            .collect();
        let month = Month::parse(&round.month);
        let mut sent = 0;
        for u in self.store.list_users(Some(round.company_id)).await? {
            if u.disabled {
                continue;
            }
            let mut audiences = vec![Audience::Individual];
            if u.roles.contains(Role::DepartmentHead) {
                audiences.push(Audience::Manager);
            }
            for a in audiences {
                if answered.contains(&(u.id, a.code().to_owned())) {
                    continue;
                }
                let key = format!("{}:{}:{}:{today}", round.id, u.id, a.code());
                if !self
                    .store
                    .mark_reminder("inspection", &key, self.clock.now_micros())
                    .await?
                {
                    continue;
                }
                let (subject, body) = reminder_text(&u, a, round, month, &self.settings.public_url);
                self.queue_plain_mail(round.company_id, &u.email, &subject, &body)
                    .await?;
                sent += 1;
            }
        }
        Ok(sent)
    }
}

/// The reminder mail in the person's language.
fn reminder_text(
    u: &User,
    a: Audience,
    round: &RoundRow,
    month: Option<Month>,
    public_url: &str,
) -> (String, String) {
    let en = u.locale == "en";
    let label = month.map_or_else(|| round.month.clone(), |m| m.label(en));
    let link = format!("{public_url}/programme/inspections/answer?for={}", a.code());
    if en {
        let what = match a {
            Audience::Individual => "the self-inspection",
            Audience::Manager => "the workplace inspection",
        };
        (
            format!("[Inspection] Please answer {what} for {label}"),
            format!(
                "Dear {},\n\nPlease answer {what} for {label}. Answers are accepted until {}.\n\n{link}\n",
                u.display_name, round.closes_on
            ),
        )
    } else {
        let what = match a {
            Audience::Individual => "個人の総点検",
            Audience::Manager => "職場の総点検（管理者）",
        };
        (
            format!("【総点検】{label}の{what}に回答してください"),
            format!(
                "{} 様\n\n{label}の{what}への回答をお願いします。回答期限は {} です。\n\n{link}\n",
                u.display_name, round.closes_on
            ),
        )
    }
}

/// Family and given names of the demo company's other employees (no login: their password is
/// random and thrown away).
const DEMO_FAMILY: [&str; 14] = [
    "佐藤", "中村", "小川", "松本", "井上", "木村", "林", "清水", "山口", "森", "池田", "橋本",
    "石川", "前田",
];
const DEMO_GIVEN: [&str; 8] = [
    "陽菜", "翔太", "結衣", "大輝", "美咲", "拓也", "彩花", "健太",
];
const DEMO_PLACES: [&str; 7] = [
    "カスタマーサポート課",
    "カスタマーサポート課",
    "物流課",
    "バイヤー部",
    "システム部",
    "管理部",
    "経営戦略室",
];

/// A small deterministic mixer for demo answers (the same demo every time).
fn demo_mix(a: u64, b: u64, c: u64) -> u64 {
    let mut x = a
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(b.wrapping_mul(0xC2B2_AE3D_27D4_EB4F))
        .wrapping_add(c.wrapping_mul(0x1656_67B1_9E37_79F9));
    x ^= x >> 31;
    x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x ^ (x >> 29)
}

impl App {
    /// Demo data of the self-inspections: the schedule (the 17th, reminders on), 28 more
    /// employees so that departments have figures, and twelve months of answers in which
    /// each department has its weak items and improves over the year; the round open today
    /// is left unanswered by the demo logins (so that their task shows), and some of the
    /// people who answered "no" have a recorded interview.
    pub async fn seed_demo_inspections(&self, company_id: i64) -> Result<(), AppError> {
        if self.store.inspection_schedule(company_id).await?.is_some() {
            return Ok(());
        }
        let now = self.clock.now_micros();
        self.store
            .set_inspection_schedule(company_id, i64::from(DEFAULT_DAY), true, now, "demo")
            .await?;
        let depts = self.store.list_departments(company_id).await?;
        let dept_id = |name: &str| depts.iter().find(|d| d.name == name).map(|d| d.id);
        let hash = self.argon2.hash(&crate::auth::generate_password()).await?;
        for i in 0..28usize {
            let Some(dept) = dept_id(DEMO_PLACES[i % DEMO_PLACES.len()]) else {
                continue;
            };
            let name = format!(
                "{} {}",
                DEMO_FAMILY[i % DEMO_FAMILY.len()],
                DEMO_GIVEN[(i * 3 + i / DEMO_FAMILY.len()) % DEMO_GIVEN.len()]
            );
            let login = format!("emp{:03}", i + 1);
            if self.store.find_user_by_login(&login).await?.is_some() {
                continue;
            }
            self.store
                .create_user(
                    &mamori_store::users::NewUser {
                        company_id,
                        department_id: dept,
                        login: &login,
                        display_name: &name,
                        email: &format!("{login}@mirai-tsuhan.example"),
                        password_hash: &hash,
                        roles: &[Role::Staff],
                        locale: "ja",
                    },
                    now,
                )
                .await?;
        }
        let users: Vec<User> = self
            .store
            .list_users(Some(company_id))
            .await?
            .into_iter()
            .filter(|u| !u.disabled)
            .collect();
        let today = self.today();
        let (open_month, _, _) = insp::round_open_on(today, DEFAULT_DAY)
            .map_err(|e| AppError::Internal(format!("demo inspection: {e}")))?;
        let mut month = open_month;
        for _ in 0..11 {
            month = month.prev();
        }
        let logins = [
            "yamada",
            "suzuki",
            "tanaka",
            "takahashi",
            "watanabe",
            "ito",
            "kobayashi",
            "kato",
            "yoshida",
            "admin",
        ];
        let mut age = 11u64;
        loop {
            let (round, _) = self
                .open_inspection_round_for(company_id, month, "demo", None)
                .await?;
            let info = self.round_info(round).await?;
            let opens: chrono::NaiveDate = info.round.opens_on.parse().unwrap_or(today);
            let at = mamori_domain::appi::facts::jst()
                .from_local_datetime(&opens.and_hms_opt(10, 0, 0).unwrap_or_default())
                .single()
                .map_or(now, |t| t.timestamp_micros());
            let is_open = month == open_month;
            for u in &users {
                if is_open && logins.contains(&u.login.as_str()) {
                    continue;
                }
                // About one in twelve do not answer in time.
                if demo_mix(u.id as u64, age, 99).is_multiple_of(12) {
                    continue;
                }
                let mut audiences = vec![Audience::Individual];
                if u.roles.contains(Role::DepartmentHead) {
                    audiences.push(Audience::Manager);
                }
                for a in audiences {
                    let n = info.questions(a).len();
                    let replies: String = (0..n)
                        .map(|item| {
                            // Each department is weak on two items; everybody improves.
                            let weak = (u.department_id as usize * 5 + item).is_multiple_of(7);
                            let p_no = if weak { 22 + age * 3 } else { 3 + age / 2 };
                            let r = demo_mix(u.id as u64, age * 100 + item as u64, 7) % 100;
                            if item == 12 && u.department_id % 3 == 0 {
                                'a'
                            } else if r < p_no {
                                'n'
                            } else {
                                'y'
                            }
                        })
                        .collect();
                    let notes_sealed = replies.contains('n').then(|| {
                        let notes: Vec<Option<String>> = replies
                            .chars()
                            .map(|c| (c == 'n').then(|| "忙しくて徹底できていない".to_owned()))
                            .collect();
                        self.keys.seal(
                            &serde_json::to_vec(&notes).unwrap_or_default(),
                            &notes_context(info.round.id, u.id, a.code()),
                        )
                    });
                    let id = self
                        .store
                        .submit_inspection_answer(&NewAnswer {
                            round_id: info.round.id,
                            company_id,
                            audience: a.code().to_owned(),
                            set_id: match a {
                                Audience::Individual => info.round.individual_set_id,
                                Audience::Manager => info.round.manager_set_id,
                            },
                            user_id: u.id,
                            department_id: u.department_id,
                            replies: replies.clone(),
                            notes_sealed,
                            submitted_at: at + (u.id % 50) * 600_000_000,
                        })
                        .await?;
                    // Interviews of the older rounds' "no"s.
                    if let (Some(id), true) = (id, replies.contains('n') && age >= 2) {
                        let interviewer = users
                            .iter()
                            .find(|h| {
                                h.roles.contains(Role::DepartmentHead)
                                    || h.roles.contains(Role::PrivacyOffice)
                            })
                            .map_or(u.id, |h| h.id);
                        let outcome = if age > 4 { "improved" } else { "planned" };
                        self.store
                            .add_inspection_followup(&NewFollowup {
                                answer_id: id,
                                interviewed_on: opens
                                    .checked_add_days(chrono::Days::new(7))
                                    .unwrap_or(opens)
                                    .to_string(),
                                interviewer_id: interviewer,
                                outcome: outcome.to_owned(),
                                note_sealed: None,
                                recorded_at: at,
                                recorded_by: "demo".into(),
                            })
                            .await?;
                    }
                }
            }
            if month == open_month {
                break;
            }
            month = month.next();
            age = age.saturating_sub(1);
        }
        Ok(())
    }
}
