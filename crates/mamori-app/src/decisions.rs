//! Decisions on an incident: publication (公表判断) and the recurrence-prevention report
//! (再発防止策).
//!
//! * Publication: the secretariat (`ManageIncidents`) records the five viewpoints; mamori
//!   computes the recommendation ([`recommend`]) with the notice method of the incident's current
//!   assessment; management (`DecideIncidents`) decides — publish or not — and must give the
//!   reason. Every record and every decision is a new row; the newest decision counts.
//! * Recurrence: the department writes the report in its fixed format and submits it, the
//!   secretariat returns it with comments or forwards it, management approves it or sends it
//!   back ([`recurrence::next`]). Who acts as which party is derived from the caller: the
//!   department is the incident's reporter or a department head on its reporting line (never
//!   the privacy office), the secretariat holds `ManageIncidents`, management
//!   `DecideIncidents`. Every step is a new row.
//!
//! Every step also adds a line to the incident's timeline (in the same transaction as its row)
//! and an entry to the audit log; every view is recorded in the audit log.

use mamori_domain::appi::{self, NoticeMethod};
use mamori_domain::audit::Outcome;
use mamori_domain::incident::facts::{group_digits, MAX_PERSONS};
use mamori_domain::incident::line::Line;
use mamori_domain::incident::publication::{
    recommend, Content, Damage, LeakForm, Manager, Recommendation, Viewpoints,
};
use mamori_domain::incident::recurrence::{self, Action, Measure, Party, Report, State};
use mamori_domain::incident::IncidentFacts;
use mamori_domain::role::{Permission, Role};
use mamori_store::decisions::{NewPublication, NewStep, PublicationRecord, RecurrenceStep};
use mamori_store::incidents::{Incident, NewEntry};
use mamori_store::StoreError;
use serde_json::json;

use crate::incident::{actor_label, check_text};
use crate::{App, AppError, Ctx, Principal, Problem};

const MAX_TEXT: usize = 8000;
const MAX_SHORT: usize = 200;
/// Rows of measures done and of measures planned in the fixed format.
pub const MAX_MEASURES: usize = 5;

/// Management's decision on publication (a domain value, so the timeline can say it in
/// either language).
pub use mamori_domain::incident::publication::Decision;

/// One publication record, read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicationEntry {
    pub id: i64,
    pub viewpoints: Viewpoints,
    pub recommendation: Recommendation,
    pub reasons: Vec<String>,
    /// `None`: the secretariat recorded viewpoints; `Some`: management decided.
    pub decision: Option<Decision>,
    pub decision_reason: Option<String>,
    pub recorded_by: String,
    pub at: i64,
}

/// Everything the publication page shows.
#[derive(Debug, Clone)]
pub struct PublicationView {
    pub incident: Incident,
    /// The notice method of the current assessment (`None`: no notice to the persons required).
    pub notice: Option<NoticeMethod>,
    /// Every record, newest first.
    pub entries: Vec<PublicationEntry>,
    /// What the viewpoints form starts with: the latest record, or a guess from the facts.
    pub suggested: Viewpoints,
    pub can_record: bool,
    pub can_decide: bool,
}

impl PublicationView {
    /// The newest record (its viewpoints and recommendation are the current ones).
    pub fn latest(&self) -> Option<&PublicationEntry> {
        self.entries.first()
    }

    /// The newest record of viewpoints by the secretariat (a decision copies them, so this
    /// says who recorded what the recommendation is based on).
    pub fn recorded(&self) -> Option<&PublicationEntry> {
        self.entries
            .iter()
            .find(|e| e.decision.is_none())
            .or_else(|| self.latest())
    }

    /// The newest decision, if management decided.
    pub fn decision(&self) -> Option<&PublicationEntry> {
        self.entries.iter().find(|e| e.decision.is_some())
    }
}

/// One step of the recurrence-prevention report, read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecurrenceEntry {
    pub id: i64,
    /// What was done (derived from the states before and after).
    pub action: Action,
    /// The state after the step.
    pub state: State,
    pub report: Report,
    pub comment: String,
    pub actor: String,
    pub at: i64,
}

/// Everything the recurrence page shows.
#[derive(Debug, Clone)]
pub struct RecurrenceView {
    pub incident: Incident,
    pub state: State,
    /// The report as it stands (empty before the first step).
    pub report: Report,
    /// Every step, oldest first.
    pub steps: Vec<RecurrenceEntry>,
    /// The actions the caller may take now, in the order of [`Action::ALL`].
    pub actions: Vec<Action>,
}

impl RecurrenceView {
    /// Whether the caller may change the text (the department, while it holds the report).
    pub fn can_edit(&self) -> bool {
        self.actions
            .iter()
            .any(|a| matches!(a, Action::Save | Action::Submit))
    }
}

fn internal(what: &str, e: impl std::fmt::Display) -> AppError {
    AppError::Internal(format!("{what}: {e}"))
}

fn facts_of(incident: &Incident) -> Result<IncidentFacts, AppError> {
    serde_json::from_str(&incident.facts)
        .map_err(|e| internal(&format!("incident {} facts", incident.id), e))
}

/// The notice method of the incident's current assessment.
fn notice_of(facts: &IncidentFacts) -> Result<Option<NoticeMethod>, AppError> {
    facts.assess().map(|a| a.notice_method).map_err(|e| {
        AppError::invalid(
            "knew_at",
            format!("この日付の期限は計算できません（政府カレンダーの範囲外）: {e}"),
            format!("knew_at: {e}"),
        )
    })
}

/// A first guess of the viewpoints from the facts, for the form; the secretariat corrects it.
fn suggest(facts: &IncidentFacts) -> Viewpoints {
    Viewpoints {
        manager: if facts.role == appi::Role::Contractor {
            Manager::Entruster
        } else {
            Manager::Own
        },
        form: if facts.malicious {
            LeakForm::ExternalAttack
        } else {
            LeakForm::Other
        },
        content: if facts.items.iter().any(|i| i.is_sensitive()) {
            Content::Sensitive
        } else if facts.items.iter().any(|i| i.is_financial()) {
            Content::Financial
        } else {
            Content::Contact
        },
        volume: facts.persons.unwrap_or(0),
        damage: Damage::None,
    }
}

fn publication_entry(r: &PublicationRecord) -> Result<PublicationEntry, AppError> {
    let what = format!("publication record {}", r.id);
    Ok(PublicationEntry {
        id: r.id,
        viewpoints: serde_json::from_str(&r.viewpoints).map_err(|e| internal(&what, e))?,
        recommendation: Recommendation::parse(&r.recommendation)
            .ok_or_else(|| internal(&what, "unknown recommendation"))?,
        reasons: serde_json::from_str(&r.reasons).map_err(|e| internal(&what, e))?,
        decision: match r.decision.as_deref() {
            None => None,
            Some(d) => Some(Decision::parse(d).ok_or_else(|| internal(&what, "unknown decision"))?),
        },
        decision_reason: r.decision_reason.clone(),
        recorded_by: r.recorded_by.clone(),
        at: r.created_at,
    })
}

/// What a step did, from the states before and after it.
fn action_of(before: State, after: State) -> Action {
    match (before, after) {
        (_, State::Submitted) => Action::Submit,
        (_, State::Forwarded) => Action::Forward,
        (_, State::Approved) => Action::Approve,
        (State::Forwarded, State::Returned) => Action::SendBack,
        (State::Submitted, State::Returned) => Action::Return,
        _ => Action::Save,
    }
}

fn recurrence_entries(steps: &[RecurrenceStep]) -> Result<Vec<RecurrenceEntry>, AppError> {
    let mut before = State::Draft;
    let mut out = Vec::with_capacity(steps.len());
    for s in steps {
        let what = format!("recurrence step {}", s.id);
        let state = State::parse(&s.state).ok_or_else(|| internal(&what, "unknown state"))?;
        out.push(RecurrenceEntry {
            id: s.id,
            action: action_of(before, state),
            state,
            report: serde_json::from_str(&s.body).map_err(|e| internal(&what, e))?,
            comment: s.comment.clone(),
            actor: s.actor.clone(),
            at: s.created_at,
        });
        before = state;
    }
    Ok(out)
}

/// The party whose action it is in the state machine.
fn party_of(action: Action) -> Party {
    match action {
        Action::Save | Action::Submit => Party::Department,
        Action::Return | Action::Forward => Party::Secretariat,
        Action::Approve | Action::SendBack => Party::Management,
    }
}

/// Whose turn it is, for messages.
fn waiting_for(state: State) -> (&'static str, &'static str) {
    match state {
        State::Draft | State::Returned => {
            ("部門の作成・修正待ちです", "waiting for the department")
        }
        State::Submitted => ("事務局の確認待ちです", "waiting for the secretariat"),
        State::Forwarded => ("経営の承認待ちです", "waiting for management"),
        State::Approved => ("承認済みです", "already approved"),
    }
}

/// Cleans and checks a report typed by the department: trims, drops empty rows of measures,
/// limits the sizes.
fn clean_report(r: &Report) -> Result<Report, AppError> {
    let cause = check_text("cause", &r.cause, MAX_TEXT, None)?;
    let clean = |field: &'static str, list: &[Measure]| -> Result<Vec<Measure>, AppError> {
        let mut out = Vec::new();
        for m in list {
            let what = check_text(field, &m.what, MAX_SHORT, None)?;
            let owner = check_text(field, &m.owner, MAX_SHORT, None)?;
            if what.is_empty() && owner.is_empty() && m.date.is_none() {
                continue;
            }
            if what.is_empty() {
                return Err(AppError::invalid(
                    field,
                    "対策の内容を記入してください（担当・期日だけの行があります）",
                    format!("{field}: a measure has an owner or date but no text"),
                ));
            }
            out.push(Measure {
                what,
                owner,
                date: m.date,
            });
        }
        if out.len() > MAX_MEASURES {
            return Err(AppError::invalid(
                field,
                format!("対策は{MAX_MEASURES}件までです"),
                format!("{field}: at most {MAX_MEASURES} measures"),
            ));
        }
        Ok(out)
    };
    Ok(Report {
        cause,
        done: clean("done", &r.done)?,
        planned: clean("planned", &r.planned)?,
    })
}

/// A step based on an out-of-date history (somebody else acted in between) is refused.
fn conflict(e: StoreError) -> AppError {
    match e {
        StoreError::Conflict(_) => AppError::invalid(
            "action",
            "他の人が先に更新しました。ページを読み込み直してから、もう一度操作してください",
            "somebody else changed this in the meantime; reload the page and try again",
        ),
        other => other.into(),
    }
}

impl App {
    /// The incident if the caller may see it and holds `permission`; a refusal is recorded
    /// under `action`.
    async fn incident_with(
        &self,
        ctx: &Ctx,
        id: i64,
        permission: Permission,
        action: &str,
    ) -> Result<Incident, AppError> {
        let (incident, _) = self.incident_for(ctx, id).await?;
        if !ctx.allows(permission) {
            self.audit(
                ctx,
                action,
                &format!("incident:{id}"),
                Outcome::Denied,
                json!({}),
            )
            .await?;
            return Err(AppError::Denied);
        }
        Ok(incident)
    }

    /// Records the five viewpoints (the secretariat) with the recommendation mamori computes
    /// from them and the notice method of the current assessment. Returns the record's id.
    pub async fn record_viewpoints(
        &self,
        ctx: &Ctx,
        incident_id: i64,
        v: &Viewpoints,
    ) -> Result<i64, AppError> {
        let incident = self
            .incident_with(
                ctx,
                incident_id,
                Permission::ManageIncidents,
                "incident.publication.record",
            )
            .await?;
        if v.volume > MAX_PERSONS {
            return Err(AppError::invalid(
                "volume",
                format!(
                    "漏えい情報量は{}人以下で入力してください",
                    group_digits(MAX_PERSONS)
                ),
                format!("volume must be at most {MAX_PERSONS}"),
            ));
        }
        let notice = notice_of(&facts_of(&incident)?)?;
        let (rec, reasons) = recommend(v, notice);
        let latest = self
            .store
            .publication_records(incident_id)
            .await?
            .first()
            .map(|r| r.id);
        let viewpoints = serde_json::to_string(v).map_err(|e| internal("viewpoints", e))?;
        let reasons_json = serde_json::to_string(&reasons).map_err(|e| internal("reasons", e))?;
        let actor = actor_label(ctx);
        let mut entry = NewEntry::line(
            &actor,
            "publication",
            &Line::PublicationViewpoints {
                recommendation: rec,
                viewpoints: v.clone(),
            },
        );
        entry.detail.clone_from(&viewpoints);
        let id = self
            .store
            .add_publication_record(
                incident_id,
                latest,
                &NewPublication {
                    viewpoints: &viewpoints,
                    recommendation: rec.code(),
                    reasons: &reasons_json,
                    decision: None,
                    decision_reason: None,
                    recorded_by: &actor,
                },
                &[entry],
                self.clock.now_micros(),
            )
            .await
            .map_err(conflict)?;
        self.audit(
            ctx,
            "incident.publication.record",
            &format!("incident:{incident_id}"),
            Outcome::Success,
            json!({"record": id, "recommendation": rec.code()}),
        )
        .await?;
        Ok(id)
    }

    /// Management decides on publication (`publish` or `not_publish`) and gives the reason, on
    /// the latest viewpoints the secretariat recorded. Returns the record's id.
    pub async fn decide_publication(
        &self,
        ctx: &Ctx,
        incident_id: i64,
        decision: &str,
        reason: &str,
    ) -> Result<i64, AppError> {
        self.incident_with(
            ctx,
            incident_id,
            Permission::DecideIncidents,
            "incident.publication.decide",
        )
        .await?;
        let decision = Decision::parse(decision.trim()).ok_or_else(|| {
            AppError::invalid(
                "decision",
                "「公表する」か「公表しない」を選んでください",
                "decision: choose publish or not_publish",
            )
        })?;
        let reason = check_text(
            "reason",
            reason,
            MAX_TEXT,
            Some((
                "判断の理由を入力してください",
                "reason is required: say why",
            )),
        )?;
        let records = self.store.publication_records(incident_id).await?;
        let Some(latest) = records.first() else {
            return Err(AppError::invalid(
                "viewpoints",
                "先に事務局が公表判断の5つの視点を記録してください",
                "the secretariat has not recorded the five viewpoints yet",
            ));
        };
        let rec = publication_entry(latest)?.recommendation;
        let actor = actor_label(ctx);
        let entry = NewEntry::line(
            &actor,
            "publication",
            &Line::PublicationDecision {
                decision,
                recommendation: rec,
                reason: reason.clone(),
            },
        );
        let id = self
            .store
            .add_publication_record(
                incident_id,
                Some(latest.id),
                &NewPublication {
                    viewpoints: &latest.viewpoints,
                    recommendation: &latest.recommendation,
                    reasons: &latest.reasons,
                    decision: Some(decision.code()),
                    decision_reason: Some(&reason),
                    recorded_by: &actor,
                },
                &[entry],
                self.clock.now_micros(),
            )
            .await
            .map_err(conflict)?;
        self.audit(
            ctx,
            "incident.publication.decide",
            &format!("incident:{incident_id}"),
            Outcome::Success,
            json!({"record": id, "decision": decision.code(), "recommendation": rec.code()}),
        )
        .await?;
        Ok(id)
    }

    /// The publication page: the records and decisions, newest first. The view is recorded.
    pub async fn publication_view(&self, ctx: &Ctx, id: i64) -> Result<PublicationView, AppError> {
        let (incident, _) = self.incident_for(ctx, id).await?;
        let facts = facts_of(&incident)?;
        let notice = notice_of(&facts)?;
        let entries = self
            .store
            .publication_records(id)
            .await?
            .iter()
            .map(publication_entry)
            .collect::<Result<Vec<_>, _>>()?;
        let suggested = entries
            .first()
            .map_or_else(|| suggest(&facts), |e| e.viewpoints.clone());
        self.audit(
            ctx,
            "incident.publication.view",
            &format!("incident:{id}"),
            Outcome::Success,
            json!({}),
        )
        .await?;
        Ok(PublicationView {
            incident,
            notice,
            entries,
            suggested,
            can_record: ctx.allows(Permission::ManageIncidents),
            can_decide: ctx.allows(Permission::DecideIncidents),
        })
    }

    /// The parties the caller may act as on this incident's recurrence report.
    async fn parties(&self, ctx: &Ctx, incident: &Incident) -> Result<Vec<Party>, AppError> {
        let mut out = Vec::new();
        match &ctx.principal {
            Principal::Local => {
                return Ok(vec![
                    Party::Department,
                    Party::Secretariat,
                    Party::Management,
                ])
            }
            Principal::Anonymous => return Ok(out),
            Principal::User(u) => {
                if !u.disabled && !u.roles.contains(Role::PrivacyOffice) {
                    let department = u.id == incident.reporter_id
                        || (u.roles.contains(Role::DepartmentHead)
                            && self
                                .store
                                .incident_line(incident.id)
                                .await?
                                .contains(&u.department_id));
                    if department {
                        out.push(Party::Department);
                    }
                }
            }
        }
        if ctx.allows(Permission::ManageIncidents) {
            out.push(Party::Secretariat);
        }
        if ctx.allows(Permission::DecideIncidents) {
            out.push(Party::Management);
        }
        Ok(out)
    }

    /// The caller's name on the timeline of a recurrence step: department and name.
    async fn step_signature(&self, ctx: &Ctx) -> String {
        match ctx.user_ref() {
            Some(u) => {
                let dept = self
                    .store
                    .get_department(u.department_id)
                    .await
                    .map_or_else(|_| "-".to_owned(), |d| d.name);
                format!("{dept} {}", u.display_name)
            }
            None => ctx.actor_name(),
        }
    }

    /// Takes one step on the recurrence-prevention report: `action` is `save`, `submit`,
    /// `return`, `forward`, `approve` or `send_back`. Only the department's `save` and `submit`
    /// change the text (`report`; `None` keeps it); `submit` needs a complete report, `return`
    /// and `send_back` a comment. Returns the new state.
    pub async fn recurrence_step(
        &self,
        ctx: &Ctx,
        incident_id: i64,
        action: &str,
        report: Option<&Report>,
        comment: &str,
    ) -> Result<State, AppError> {
        let (incident, _) = self.incident_for(ctx, incident_id).await?;
        let action = Action::parse(action.trim()).ok_or_else(|| {
            AppError::invalid(
                "action",
                "操作が正しくありません",
                format!("action: unknown `{action}`"),
            )
        })?;
        let audit_action = format!("incident.recurrence.{}", action.code());
        let parties = self.parties(ctx, &incident).await?;
        let natural = party_of(action);
        if !parties.contains(&natural) {
            self.audit(
                ctx,
                &audit_action,
                &format!("incident:{incident_id}"),
                Outcome::Denied,
                json!({}),
            )
            .await?;
            return Err(AppError::Denied);
        }
        let steps = self.store.recurrence_steps(incident_id).await?;
        let history = recurrence_entries(&steps)?;
        let (state, current) = history
            .last()
            .map_or((State::Draft, Report::default()), |s| {
                (s.state, s.report.clone())
            });
        // A caller may be several parties; the one whose turn it is acts.
        let Some(to) = parties
            .iter()
            .find_map(|p| recurrence::next(state, action, *p).ok())
        else {
            let e = recurrence::next(state, action, natural).err().map_or_else(
                || Problem::new(Some("action"), "", ""),
                |e| Problem::new(Some(e.field), e.ja, e.en),
            );
            let (ja, en) = waiting_for(state);
            return Err(AppError::Invalid(Problem::new(
                e.field,
                format!("{}（現在は{ja}）", e.ja),
                format!("{} ({en})", e.en),
            )));
        };
        let comment = check_text("comment", comment, MAX_TEXT, None)?;
        if matches!(action, Action::Return | Action::SendBack) && comment.is_empty() {
            return Err(AppError::invalid(
                "comment",
                "差し戻す理由と直してほしい点をコメントに記入してください",
                "comment is required when sending the report back",
            ));
        }
        let body = match (natural, report) {
            (Party::Department, Some(r)) => clean_report(r)?,
            (_, None) => current.clone(),
            (_, Some(r)) => {
                if clean_report(r)? != current {
                    return Err(AppError::invalid(
                        "cause",
                        "本文を変更できるのは部門だけです。直してほしい点はコメントに書いてください",
                        "only the department changes the text; put corrections in the comment",
                    ));
                }
                current.clone()
            }
        };
        if action == Action::Submit {
            body.check_complete()?;
        }
        if action == Action::Save && body == current && comment.is_empty() && !history.is_empty() {
            return Ok(state);
        }
        let body_json = serde_json::to_string(&body).map_err(|e| internal("report", e))?;
        let actor = actor_label(ctx);
        let mut entry = NewEntry::line(
            &actor,
            "recurrence",
            &Line::Recurrence {
                action,
                signature: self.step_signature(ctx).await,
                comment: comment.clone(),
            },
        );
        entry.detail = json!({"action": action.code(), "state": to.code()}).to_string();
        let step = self
            .store
            .add_recurrence_step(
                incident_id,
                steps.last().map(|s| s.id),
                &NewStep {
                    state: to.code(),
                    body: &body_json,
                    comment: &comment,
                    actor: &actor,
                },
                &[entry],
                self.clock.now_micros(),
            )
            .await
            .map_err(conflict)?;
        self.audit(
            ctx,
            &audit_action,
            &format!("incident:{incident_id}"),
            Outcome::Success,
            json!({"step": step, "from": state.code(), "to": to.code()}),
        )
        .await?;
        Ok(to)
    }

    /// The recurrence page: the report as it stands, its steps with comments, and what the
    /// caller may do now. The view is recorded.
    pub async fn recurrence_view(&self, ctx: &Ctx, id: i64) -> Result<RecurrenceView, AppError> {
        let (incident, _) = self.incident_for(ctx, id).await?;
        let steps = recurrence_entries(&self.store.recurrence_steps(id).await?)?;
        let (state, report) = steps.last().map_or((State::Draft, Report::default()), |s| {
            (s.state, s.report.clone())
        });
        let parties = self.parties(ctx, &incident).await?;
        let actions = Action::ALL
            .iter()
            .copied()
            .filter(|a| {
                parties
                    .iter()
                    .any(|p| recurrence::next(state, *a, *p).is_ok())
            })
            .collect();
        self.audit(
            ctx,
            "incident.recurrence.view",
            &format!("incident:{id}"),
            Outcome::Success,
            json!({"state": state.code()}),
        )
        .await?;
        Ok(RecurrenceView {
            incident,
            state,
            report,
            steps,
            actions,
        })
    }
}
