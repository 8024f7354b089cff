//! Incident use cases: filing a first report, seeing an incident (along the reporting line
//! only), changing its facts (which recomputes the assessment and the obligations), the second
//! report, phases and tasks, obligations, notes, the list and the dashboard.
//!
//! Every view of an incident is recorded in the audit log (`incident.view`), every change on the
//! incident's append-only timeline and in the audit log.

use std::collections::BTreeSet;

use chrono::{Datelike, Days, NaiveDate};
use mamori_domain::appi::{self, Assessment, Item};
use mamori_domain::incident::facts::{format_jst, FactChange};
use mamori_domain::incident::line::{DatasetName, Line, TaskChange};
use mamori_domain::incident::obligation::{self, Change, ChangeLine, Existing};
use mamori_domain::incident::visibility::{self, Scope, Viewer};
use mamori_domain::incident::{
    jst_date, EventKind, FieldError, IncidentFacts, ObligationKind, ObligationStatus, Phase,
    TaskStatus,
};
use mamori_domain::lang::Words;
use mamori_domain::org::{ancestors, DeptNode};
use mamori_domain::role::Permission;
use mamori_store::incidents::{
    Incident, IncidentFilter, IncidentSummary, ListScope, NewEntry, NewIncident, Obligation,
    ObligationWrite, ReportVersion, Task, TimelineEntry,
};
use mamori_store::users::User;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::{App, AppError, Ctx, Problem, Problems};
use mamori_domain::audit::Outcome;

impl From<FieldError> for AppError {
    fn from(e: FieldError) -> Self {
        AppError::Invalid(e.into())
    }
}

impl From<FieldError> for Problem {
    fn from(e: FieldError) -> Self {
        Problem::new(Some(e.field), e.ja, e.en)
    }
}

/// The first report (第一報) as typed in the form. Only `description` is required; the rest is
/// "what is known".
#[derive(Debug, Clone, Default, Deserialize)]
pub struct FirstReportInput {
    #[serde(default)]
    pub drill: bool,
    #[serde(default)]
    pub title: String,
    /// When it happened (`2026-11-24T10:30` in Japan); empty when unknown.
    #[serde(default)]
    pub occurred_at: String,
    /// When it was found; empty means now.
    #[serde(default)]
    pub found_at: String,
    #[serde(default)]
    pub found_by: String,
    /// The department where it happened; `None` means the reporter's.
    #[serde(default)]
    pub department_id: Option<i64>,
    /// `leak`, `loss`, `damage` or `unknown`.
    #[serde(default)]
    pub event: String,
    /// `confirmed` or anything else (suspected).
    #[serde(default)]
    pub certainty: String,
    /// Item codes of appi.md §9.
    #[serde(default)]
    pub items: Vec<String>,
    /// Roughly how many persons; empty when unknown.
    #[serde(default)]
    pub persons: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub actions_taken: String,
    /// Ledger datasets the incident involves (the systems or files concerned); their items are
    /// added to the facts.
    #[serde(default)]
    pub datasets: Vec<i64>,
}

/// The first report as stored (version 1 of the `first` report).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FirstReport {
    pub title: String,
    pub occurred_at: Option<i64>,
    pub found_at: i64,
    pub found_by: String,
    pub department_id: i64,
    pub event: EventKind,
    pub suspected: bool,
    pub items: BTreeSet<Item>,
    pub persons: Option<u64>,
    pub description: String,
    pub actions_taken: String,
}

/// The second report (第二報) in 5W1H, with the fields the PPC report needs later.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct SecondReport {
    /// When (いつ): the sequence of events with times.
    pub when: String,
    /// Where (どこで): system, place, medium.
    #[serde(rename = "where")]
    pub place: String,
    /// Who (だれが): who caused it, who found it; the company or a contractor.
    pub who: String,
    /// What (なにを): the data affected, medium and kind.
    pub what: String,
    /// Why (なぜ): the cause.
    pub why: String,
    /// How (どのように): how it happened.
    pub how: String,
    /// Secondary damage or its risk.
    pub secondary_damage: String,
    /// What has been done for the persons.
    pub response_to_persons: String,
    /// Measures already taken.
    pub measures_done: String,
    /// Measures planned.
    pub measures_planned: String,
}

/// Changes of facts typed by the privacy office (all fields as in the form).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct FactsInput {
    pub version: i64,
    #[serde(default)]
    pub occurred_at: String,
    #[serde(default)]
    pub found_at: String,
    #[serde(default)]
    pub knew_at: String,
    #[serde(default)]
    pub event: String,
    #[serde(default)]
    pub certainty: String,
    #[serde(default)]
    pub items: Vec<String>,
    #[serde(default)]
    pub persons: String,
    #[serde(default)]
    pub role: String,
    #[serde(default)]
    pub notified_entruster_at: String,
    /// `yes`, `no` or empty (unknown).
    #[serde(default)]
    pub contact_info: String,
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
}

impl FactsInput {
    /// The form as it would be sent for `facts` unchanged (times as RFC 3339), to change one
    /// part of the facts in code (the impact analysis, the demo).
    pub fn from_facts(f: &mamori_domain::incident::facts::IncidentFacts, version: i64) -> Self {
        let time = |t: i64| {
            chrono::DateTime::from_timestamp_micros(t)
                .map(|d| d.to_rfc3339())
                .unwrap_or_default()
        };
        FactsInput {
            version,
            occurred_at: f.occurred_at.map(time).unwrap_or_default(),
            found_at: time(f.found_at),
            knew_at: time(f.knew_at),
            event: f.event.code().into(),
            certainty: if f.suspected {
                "suspected"
            } else {
                "confirmed"
            }
            .into(),
            items: f.items.iter().map(|i| i.code().to_owned()).collect(),
            persons: f.persons.map(|n| n.to_string()).unwrap_or_default(),
            role: match f.role {
                mamori_domain::appi::Role::Contractor => "contractor",
                mamori_domain::appi::Role::Controller => "controller",
            }
            .into(),
            notified_entruster_at: f.notified_entruster_at.map(time).unwrap_or_default(),
            contact_info: match f.contact_info_available {
                Some(true) => "yes",
                Some(false) => "no",
                None => "",
            }
            .into(),
            recovered_before_viewed: f.recovered_before_viewed,
            same_data_held_elsewhere: f.same_data_held_elsewhere,
            intentional_provision: f.intentional_provision,
            pseudonymized: f.pseudonymized,
            high_grade_encryption: f.high_grade_encryption,
            malicious: f.malicious,
            being_acquired: f.being_acquired,
        }
    }
}

/// Everything the incident page shows.
#[derive(Debug, Clone)]
pub struct IncidentView {
    pub incident: Incident,
    pub facts: IncidentFacts,
    pub assessment: Assessment,
    pub reporter_name: String,
    pub department_name: String,
    pub obligations: Vec<Obligation>,
    pub tasks: Vec<Task>,
    pub timeline: Vec<TimelineEntry>,
    pub first_reports: Vec<ReportVersion>,
    pub second_reports: Vec<ReportVersion>,
    /// Users of the company (for task owners), id and name.
    pub people: Vec<(i64, String)>,
    /// Ledger datasets the incident involves (id, name).
    pub datasets: Vec<(i64, String)>,
    pub can_manage: bool,
    pub can_decide: bool,
    pub can_acknowledge: bool,
}

/// The dashboard: per company, open incidents, next deadlines, everything overdue.
#[derive(Debug, Clone, Default)]
pub struct Dashboard {
    pub open: i64,
    pub open_drills: i64,
    pub unacknowledged: Vec<IncidentSummary>,
    /// (obligation, incident ref, incident title, drill)
    pub deadlines: Vec<(Obligation, String, String, bool)>,
    pub overdue_obligations: Vec<(Obligation, String, String, bool)>,
    pub overdue_tasks: Vec<(Task, String, String, bool)>,
    pub recent: Vec<IncidentSummary>,
}

const MAX_TEXT: usize = 8000;
const MAX_TITLE: usize = 200;

/// Reads a time typed in a form, to the minute in Japan (see [`mamori_domain::when`]):
/// `2026-12-07 09:30`, `2026/12/7 9:30`, full-width digits, `2026-12-07T09:30` (what a
/// `datetime-local` sends), `2026-12-07` (midnight) — or RFC 3339 with an offset. A time without
/// a year (`12/7 9:30`) is refused here; [`parse_time_near`] completes it. Empty is `None`.
pub fn parse_time(field: &'static str, s: &str) -> Result<Option<i64>, AppError> {
    parse_time_with(field, s, None)
}

/// [`parse_time`], completing a time typed without a year (or without a date) from `now`.
pub fn parse_time_near(field: &'static str, s: &str, now: i64) -> Result<Option<i64>, AppError> {
    parse_time_with(field, s, Some(now))
}

fn parse_time_with(
    field: &'static str,
    s: &str,
    now: Option<i64>,
) -> Result<Option<i64>, AppError> {
    let s = s.trim();
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Ok(Some(t.timestamp_micros()));
    }
    mamori_domain::when::parse_minute(s, now).map_err(|e| {
        let (ja, en) = match field {
            "found_at" => ("発見日時", "found at"),
            "occurred_at" => ("発生日時", "occurred at"),
            "knew_at" => ("会社が知った日時", "knew at"),
            "notified_entruster_at" => ("委託元へ通知した日時", "entruster notified at"),
            "from" | "since" => ("開始日", "from"),
            "to" | "until" => ("終了日", "to"),
            _ => ("日時", field),
        };
        let ja_text = match e {
            mamori_domain::when::WhenError::Unreadable => format!("{ja}: 「{s}」は{}", e.ja()),
            _ => format!("{ja}: 「{s}」— {}", e.ja()),
        };
        AppError::invalid(field, ja_text, format!("{en}: `{s}` {}", e.en()))
    })
}

/// Reads a count as people type it (「３００」「約300人」「1,250」「千五百」, see
/// [`mamori_domain::number`]): empty is unknown; anything else that is not one non-negative
/// whole number is an error naming the field and why.
pub fn parse_count(field: &'static str, s: &str) -> Result<Option<u64>, AppError> {
    let (ja, en) = match field {
        "persons" => ("本人の数", "number of persons"),
        "volume" => ("件数", "volume"),
        _ => ("数", field),
    };
    mamori_domain::number::parse_count(s).map_err(|e| {
        AppError::invalid(
            field,
            format!("{ja}「{}」: {}", s.trim(), e.ja()),
            format!("{en} `{}` {}", s.trim(), e.en()),
        )
    })
}

fn parse_items(codes: &[String]) -> Result<BTreeSet<Item>, AppError> {
    let mut out = BTreeSet::new();
    for c in codes.iter().map(|c| c.trim()).filter(|c| !c.is_empty()) {
        let item: Item = c.parse().map_err(|_| {
            AppError::invalid(
                "items",
                format!("項目コード「{c}」はありません"),
                format!("items: unknown item code `{c}`"),
            )
        })?;
        out.insert(item);
    }
    Ok(out)
}

fn parse_event(s: &str) -> Result<EventKind, AppError> {
    if s.trim().is_empty() {
        return Ok(EventKind::Unknown);
    }
    EventKind::parse(s.trim()).ok_or_else(|| {
        AppError::invalid(
            "event",
            "事象は漏えい・滅失・毀損・不明から選んでください",
            format!("event: unknown value `{s}`"),
        )
    })
}

/// Trims a text field and checks it: required (with the message to show when empty), at most
/// `max` characters, no control characters but line breaks and tabs. Line ends become `\n`.
pub(crate) fn check_text(
    field: &'static str,
    s: &str,
    max: usize,
    required: Option<(&str, &str)>,
) -> Result<String, AppError> {
    let t = s.trim();
    if let Some((ja, en)) = required {
        if t.is_empty() {
            return Err(AppError::invalid(field, ja, en));
        }
    }
    if t.chars().count() > max {
        return Err(AppError::invalid(
            field,
            format!("{max}文字以内で入力してください"),
            format!("{field} is longer than {max} characters"),
        ));
    }
    if t.chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        return Err(AppError::invalid(
            field,
            "制御文字は使えません",
            format!("{field} contains control characters"),
        ));
    }
    Ok(t.replace("\r\n", "\n"))
}

/// The timeline's name for the actor.
pub fn actor_label(ctx: &Ctx) -> String {
    match ctx.user_ref() {
        Some(u) => format!("{}（{}）", u.display_name, u.login),
        None => ctx.actor_name(),
    }
}

fn store_date(d: Option<NaiveDate>) -> Option<String> {
    d.map(|d| d.to_string())
}

/// The obligation writes and timeline lines for a new assessment.
fn obligation_writes(
    facts: &IncidentFacts,
    a: &Assessment,
    existing: &[Obligation],
) -> Result<(Vec<ObligationWrite>, Vec<ChangeLine>), AppError> {
    let (appi_facts, _) = facts.to_appi();
    let wanted = obligation::obligations(&appi_facts, a).map_err(|e| {
        AppError::invalid(
            "knew_at",
            format!("期限を計算できません: {e}"),
            format!("knew_at: {e}"),
        )
    })?;
    let existing: Vec<Existing> = existing
        .iter()
        .filter_map(|o| {
            Some(Existing {
                kind: ObligationKind::parse(&o.kind)?,
                due: o.due_on.as_deref().and_then(|d| d.parse().ok()),
                status: ObligationStatus::parse(&o.status)?,
            })
        })
        .collect();
    let changes = obligation::reconcile(&existing, &wanted);
    let mut writes = Vec::new();
    let mut lines = Vec::new();
    for c in &changes {
        lines.push(c.line());
        match c {
            Change::Create(s) | Change::Reopen(s) | Change::Redate { spec: s, .. } => {
                writes.push(ObligationWrite::Upsert {
                    kind: s.kind.code().to_owned(),
                    due_on: store_date(s.due),
                    warn_on: store_date(s.warn_on),
                    basis: s.basis.ja(),
                    basis_msg: serde_json::to_string(&s.basis).ok(),
                });
            }
            Change::Cancel(k) => writes.push(ObligationWrite::Cancel {
                kind: k.code().to_owned(),
            }),
        }
    }
    Ok((writes, lines))
}

fn assessment_line(a: &Assessment, because: Vec<FactChange>) -> Line {
    Line::Assessment {
        reportable: a.reportable,
        categories: a.categories.clone(),
        preliminary_due: a.preliminary_report_due,
        final_due: a.final_report_due,
        because,
    }
}

impl App {
    fn assess_facts(facts: &IncidentFacts) -> Result<Assessment, AppError> {
        facts.assess().map_err(|e| {
            AppError::invalid(
                "knew_at",
                format!("この日付の期限は計算できません（政府カレンダーの範囲外）: {e}"),
                format!("knew_at: {e}"),
            )
        })
    }

    /// The reporting line of a department: it and every department above it.
    async fn line_of(&self, company_id: i64, dept: i64) -> Result<Vec<i64>, AppError> {
        let depts = self.store.list_departments(company_id).await?;
        let nodes: Vec<DeptNode> = depts
            .iter()
            .map(|d| DeptNode {
                id: d.id,
                parent_id: d.parent_id,
            })
            .collect();
        Ok(ancestors(&nodes, dept))
    }

    /// Files a first report. Returns the incident id and its reference number.
    pub async fn file_first_report(
        &self,
        ctx: &Ctx,
        input: &FirstReportInput,
    ) -> Result<(i64, String), AppError> {
        let user = match ctx.user_ref() {
            Some(u) if ctx.allows(Permission::FileIncident) => u.clone(),
            _ => return Err(AppError::Denied),
        };
        let now = self.clock.now_micros();
        // Every problem of the report is collected, in the order of the form, so that the
        // reporter sees them all at once.
        let mut ps = Problems::new();
        let description = ps.check(check_text(
            "description",
            &input.description,
            MAX_TEXT,
            Some(("何が起きたかを入力してください", "description is required")),
        ))?;
        let event = ps.check(parse_event(&input.event))?;
        let found_at = ps.check(parse_time_near("found_at", &input.found_at, now))?;
        let occurred_at = ps.check(parse_time_near("occurred_at", &input.occurred_at, now))?;
        let found_by = ps.check(check_text("found_by", &input.found_by, MAX_TITLE, None))?;
        let department_id = input.department_id.unwrap_or(user.department_id);
        let dept = self
            .store
            .get_department(department_id)
            .await
            .ok()
            .filter(|d| d.company_id == user.company_id);
        if dept.is_none() {
            ps.push(Problem::new(
                Some("department_id"),
                "部署が見つかりません",
                "department_id: no such department in your company",
            ));
        }
        let persons = ps.check(parse_count("persons", &input.persons))?;
        let title = ps.check(check_text("title", &input.title, MAX_TITLE, None))?;
        let items = ps.check(parse_items(&input.items))?;
        // Datasets named by the reporter: their items join the facts (a leaked member database
        // brings its sensitive items and card data into the assessment).
        let mut datasets = Vec::new();
        let mut dataset_items = BTreeSet::new();
        for id in &input.datasets {
            match self.store.get_dataset(*id).await {
                Ok(d) if d.company_id == user.company_id => {
                    dataset_items.extend(crate::ledger::parse_items_json(&d.items));
                    datasets.push(d);
                }
                _ => {
                    ps.push(Problem::new(
                        Some("datasets"),
                        "選んだ台帳が見つかりません",
                        "datasets: no such dataset in your company",
                    ));
                    break;
                }
            }
        }
        let actions_taken = ps.check(check_text(
            "actions_taken",
            &input.actions_taken,
            MAX_TEXT,
            None,
        ))?;
        // The facts are checked against each other with what could be read; a problem of a
        // field that could not be read is already named.
        let readable = |field: &str| match field {
            "found_at" | "knew_at" => found_at.is_some(),
            "occurred_at" => occurred_at.is_some(),
            "persons" => persons.is_some(),
            _ => true,
        };
        let found = found_at.flatten().unwrap_or(now);
        // The company knew when its employee found it; the privacy office can correct this.
        let mut f = IncidentFacts::new(found, found, event.unwrap_or(EventKind::Unknown));
        f.occurred_at = occurred_at.flatten();
        f.suspected = input.certainty != "confirmed";
        f.persons = persons.flatten();
        for p in f.problems(now) {
            if readable(p.field) {
                ps.push(p);
            }
        }
        let facts = Some(f);
        ps.done()?;
        let (
            Some(description),
            Some(actions_taken),
            Some(found_by),
            Some(title),
            Some(mut items),
            Some(dept),
            Some(mut facts),
        ) = (
            description,
            actions_taken,
            found_by,
            title,
            items,
            dept,
            facts,
        )
        else {
            return Err(AppError::Internal(
                "first report: a checked value is missing".into(),
            ));
        };
        let title = if title.is_empty() {
            description
                .lines()
                .next()
                .unwrap_or("")
                .chars()
                .take(40)
                .collect()
        } else {
            title
        };
        items.extend(dataset_items);
        facts.items = items.clone();
        let occurred_at = facts.occurred_at;
        let found_at = facts.found_at;
        let event = facts.event;
        let persons = facts.persons;
        let assessment = Self::assess_facts(&facts)?;
        let first = FirstReport {
            title: title.clone(),
            occurred_at,
            found_at,
            found_by: found_by.clone(),
            department_id: dept.id,
            event,
            suspected: facts.suspected,
            items,
            persons,
            description: description.clone(),
            actions_taken: actions_taken.clone(),
        };
        let mut line = self.line_of(user.company_id, user.department_id).await?;
        line.extend(self.line_of(user.company_id, dept.id).await?);
        let facts_json =
            serde_json::to_string(&facts).map_err(|e| AppError::Internal(e.to_string()))?;
        let assessment_json =
            serde_json::to_string(&assessment).map_err(|e| AppError::Internal(e.to_string()))?;
        let first_json =
            serde_json::to_string(&first).map_err(|e| AppError::Internal(e.to_string()))?;
        let actor = actor_label(ctx);
        let mut entries = vec![NewEntry::line(
            &actor,
            "first_report",
            &Line::FirstReport {
                drill: input.drill,
                reporter: user.display_name.clone(),
                department: dept.name.clone(),
            },
        )];
        if !datasets.is_empty() {
            let datasets = datasets
                .iter()
                .map(|d| DatasetName {
                    name: d.name.clone(),
                    persons: d.persons.map(|n| n.max(0) as u64),
                })
                .collect();
            entries.push(NewEntry::line(
                &actor,
                "datasets",
                &Line::Datasets { datasets },
            ));
        }
        entries.push(NewEntry::line(
            "mamori",
            "assessment",
            &assessment_line(&assessment, Vec::new()),
        ));
        let (writes, lines) = obligation_writes(&facts, &assessment, &[])?;
        for change in lines {
            entries.push(NewEntry::line(
                "mamori",
                "obligation",
                &Line::Obligation {
                    change,
                    because: Vec::new(),
                },
            ));
        }
        let year = jst_date(now).year();
        let (id, ref_no) = self
            .store
            .create_incident(
                &NewIncident {
                    company_id: user.company_id,
                    year,
                    drill: input.drill,
                    title: &title,
                    description: &description,
                    actions_taken: &actions_taken,
                    found_by: &found_by,
                    reporter_id: user.id,
                    department_id: dept.id,
                    phase: Phase::TaskForce.code(),
                    facts: &facts_json,
                    assessment: &assessment_json,
                    reportable: assessment.reportable,
                    persons: persons.map(|p| p as i64),
                    occurred_at,
                    found_at,
                    knew_at: facts.knew_at,
                    first_report: &first_json,
                    line: &line,
                },
                &entries,
                now,
            )
            .await?;
        if !datasets.is_empty() {
            let ids: Vec<i64> = datasets.iter().map(|d| d.id).collect();
            self.store.set_incident_datasets(id, &ids).await?;
        }
        let tasks = phase_tasks(Phase::TaskForce, now);
        self.store.apply_obligations(id, &writes, &[], now).await?;
        self.store
            .enter_phase(
                id,
                Phase::TaskForce.code(),
                &tasks,
                false,
                &NewEntry::line(
                    "mamori",
                    "phase",
                    &Line::PhaseStarted {
                        phase: Phase::TaskForce,
                    },
                ),
                now,
            )
            .await?;
        self.audit(
            ctx,
            "incident.create",
            &format!("incident:{id}"),
            Outcome::Success,
            json!({"ref": ref_no, "drill": input.drill, "reportable": assessment.reportable}),
        )
        .await?;
        self.raise_alerts(id).await?;
        Ok((id, ref_no))
    }

    /// Loads an incident if the caller may see it (and records the view), else `NotFound`
    /// (no hint that it exists).
    pub async fn incident_for(
        &self,
        ctx: &Ctx,
        id: i64,
    ) -> Result<(Incident, visibility::Why), AppError> {
        let incident = self.store.get_incident(id).await.map_err(AppError::from)?;
        let why = self.visible(ctx, &incident).await?;
        if let Some(w) = why {
            Ok((incident, w))
        } else {
            self.audit(
                ctx,
                "incident.view",
                &format!("incident:{id}"),
                Outcome::Denied,
                json!({}),
            )
            .await?;
            Err(AppError::NotFound)
        }
    }

    async fn visible(
        &self,
        ctx: &Ctx,
        incident: &Incident,
    ) -> Result<Option<visibility::Why>, AppError> {
        let Some(u) = ctx.user_ref() else {
            return Ok(matches!(ctx.principal, crate::Principal::Local)
                .then_some(visibility::Why::CompanyWide));
        };
        if u.disabled {
            return Ok(None);
        }
        let line = self.store.incident_line(incident.id).await?;
        Ok(visibility::why(
            Viewer {
                user_id: u.id,
                company_id: u.company_id,
                department_id: u.department_id,
                roles: &u.roles,
            },
            Scope {
                company_id: incident.company_id,
                reporter_id: incident.reporter_id,
                line: &line,
            },
        ))
    }

    /// Loads an incident the caller may manage.
    async fn managed_incident(&self, ctx: &Ctx, id: i64) -> Result<Incident, AppError> {
        let (incident, _) = self.incident_for(ctx, id).await?;
        if !ctx.allows(Permission::ManageIncidents) {
            self.audit(
                ctx,
                "incident.manage",
                &format!("incident:{id}"),
                Outcome::Denied,
                json!({}),
            )
            .await?;
            return Err(AppError::Denied);
        }
        Ok(incident)
    }

    /// Everything the incident page shows; the view is recorded in the audit log.
    pub async fn incident_view(&self, ctx: &Ctx, id: i64) -> Result<IncidentView, AppError> {
        let (incident, why) = self.incident_for(ctx, id).await?;
        let facts: IncidentFacts = serde_json::from_str(&incident.facts)
            .map_err(|e| AppError::Internal(format!("incident {id} facts: {e}")))?;
        let assessment = Self::assess_facts(&facts)?;
        let reporter_name = self
            .store
            .get_user(incident.reporter_id)
            .await
            .map_or_else(|_| "-".into(), |u| u.display_name);
        let department_name = self
            .store
            .get_department(incident.department_id)
            .await
            .map_or_else(|_| "-".into(), |d| d.name);
        let people = self
            .store
            .list_users(Some(incident.company_id))
            .await?
            .into_iter()
            .filter(|u| !u.disabled)
            .map(|u| (u.id, u.display_name))
            .collect();
        let view = IncidentView {
            obligations: self.store.obligations(id).await?,
            tasks: self.store.tasks(id).await?,
            timeline: self.store.timeline(id).await?,
            first_reports: self.store.report_versions(id, "first").await?,
            second_reports: self.store.report_versions(id, "second").await?,
            datasets: self.store.incident_datasets(id).await?,
            facts,
            assessment,
            reporter_name,
            department_name,
            people,
            can_manage: ctx.allows(Permission::ManageIncidents),
            can_decide: ctx.allows(Permission::DecideIncidents),
            can_acknowledge: why == visibility::Why::CompanyWide,
            incident,
        };
        self.audit(
            ctx,
            "incident.view",
            &format!("incident:{id}"),
            Outcome::Success,
            json!({"why": format!("{why:?}")}),
        )
        .await?;
        Ok(view)
    }

    /// Changes the facts: validates them, recomputes the assessment and the obligations, and
    /// says on the timeline what changed and why — all in one transaction, refused if someone
    /// else changed the incident since `input.version`.
    pub async fn update_facts(
        &self,
        ctx: &Ctx,
        id: i64,
        input: &FactsInput,
    ) -> Result<(), AppError> {
        let incident = self.managed_incident(ctx, id).await?;
        let now = self.clock.now_micros();
        let old: IncidentFacts = serde_json::from_str(&incident.facts)
            .map_err(|e| AppError::Internal(format!("incident {id} facts: {e}")))?;
        let mut f = old.clone();
        // Every problem of the form is collected; a value that cannot be read keeps the old one
        // while the others are checked.
        let mut ps = Problems::new();
        let event = ps.check(parse_event(&input.event))?;
        let occurred_at = ps.check(parse_time_near("occurred_at", &input.occurred_at, now))?;
        let found_at = ps.check(parse_time_near("found_at", &input.found_at, now))?;
        let knew_at = ps.check(parse_time_near("knew_at", &input.knew_at, now))?;
        let persons = ps.check(parse_count("persons", &input.persons))?;
        let items = ps.check(parse_items(&input.items))?;
        let notified = ps.check(parse_time_near(
            "notified_entruster_at",
            &input.notified_entruster_at,
            now,
        ))?;
        f.event = event.unwrap_or(old.event);
        f.occurred_at = occurred_at.unwrap_or(old.occurred_at);
        f.found_at = found_at.flatten().unwrap_or(old.found_at);
        f.knew_at = knew_at.flatten().unwrap_or(old.knew_at);
        f.suspected = input.certainty != "confirmed";
        f.items = items.unwrap_or_else(|| old.items.clone());
        f.persons = persons.unwrap_or(old.persons);
        match input.role.as_str() {
            "contractor" => f.role = appi::Role::Contractor,
            "" | "controller" => f.role = appi::Role::Controller,
            other => ps.push(Problem::new(
                Some("role"),
                "立場は委託元（管理者）か委託先から選んでください",
                format!("role: unknown value `{other}`"),
            )),
        }
        f.notified_entruster_at = notified.unwrap_or(old.notified_entruster_at);
        match input.contact_info.as_str() {
            "yes" => f.contact_info_available = Some(true),
            "no" => f.contact_info_available = Some(false),
            "" => f.contact_info_available = None,
            other => ps.push(Problem::new(
                Some("contact_info"),
                "本人の連絡先はあり・なし・不明から選んでください",
                format!("contact_info: unknown value `{other}`"),
            )),
        }
        f.recovered_before_viewed = input.recovered_before_viewed;
        f.same_data_held_elsewhere = input.same_data_held_elsewhere;
        f.intentional_provision = input.intentional_provision;
        f.pseudonymized = input.pseudonymized;
        f.high_grade_encryption = input.high_grade_encryption;
        f.malicious = input.malicious;
        f.being_acquired = input.being_acquired;
        f.keep_times_shown_unchanged(&old);
        let readable = |field: &str| match field {
            "occurred_at" => occurred_at.is_some(),
            "found_at" => found_at.is_some(),
            "knew_at" => knew_at.is_some(),
            "persons" => persons.is_some(),
            "notified_entruster_at" => notified.is_some(),
            _ => true,
        };
        for p in f.problems(now) {
            if readable(p.field) {
                ps.push(p);
            }
        }
        ps.done()?;
        let diff = old.diff(&f);
        if diff.is_empty() {
            return Ok(());
        }
        let old_a = Self::assess_facts(&old)?;
        let a = Self::assess_facts(&f)?;
        let existing = self.store.obligations(id).await?;
        let (writes, lines) = obligation_writes(&f, &a, &existing)?;
        let actor = actor_label(ctx);
        let mut entries = vec![NewEntry::line(
            &actor,
            "facts",
            &Line::Facts {
                changes: diff.clone(),
            },
        )];
        if old_a.reportable != a.reportable
            || old_a.categories != a.categories
            || old_a.final_report_due != a.final_report_due
        {
            entries.push(NewEntry::line(
                "mamori",
                "assessment",
                &assessment_line(&a, diff.clone()),
            ));
        }
        for change in lines {
            entries.push(NewEntry::line(
                "mamori",
                "obligation",
                &Line::Obligation {
                    change,
                    because: diff.clone(),
                },
            ));
        }
        let facts_json =
            serde_json::to_string(&f).map_err(|e| AppError::Internal(e.to_string()))?;
        let a_json = serde_json::to_string(&a).map_err(|e| AppError::Internal(e.to_string()))?;
        self.store
            .update_facts(
                id,
                input.version,
                &facts_json,
                &a_json,
                a.reportable,
                f.persons.map(|p| p as i64),
                (f.occurred_at, f.found_at, f.knew_at),
                &writes,
                &entries,
                now,
            )
            .await?;
        self.audit(
            ctx,
            "incident.facts",
            &format!("incident:{id}"),
            Outcome::Success,
            json!({"reportable": a.reportable, "changes": diff.len()}),
        )
        .await?;
        Ok(())
    }

    /// Stores a new version of the second report (5W1H); earlier versions are kept.
    pub async fn save_second_report(
        &self,
        ctx: &Ctx,
        id: i64,
        r: &SecondReport,
    ) -> Result<i64, AppError> {
        self.managed_incident(ctx, id).await?;
        let mut clean = r.clone();
        for (field, v) in [
            ("when", &mut clean.when),
            ("where", &mut clean.place),
            ("who", &mut clean.who),
            ("what", &mut clean.what),
            ("why", &mut clean.why),
            ("how", &mut clean.how),
            ("secondary_damage", &mut clean.secondary_damage),
            ("response_to_persons", &mut clean.response_to_persons),
            ("measures_done", &mut clean.measures_done),
            ("measures_planned", &mut clean.measures_planned),
        ] {
            *v = check_text(field, v, MAX_TEXT, None)?;
        }
        if clean == SecondReport::default() {
            return Err(AppError::invalid(
                "why",
                "第二報の項目を1つ以上入力してください",
                "the second report is empty",
            ));
        }
        let now = self.clock.now_micros();
        let body = serde_json::to_string(&clean).map_err(|e| AppError::Internal(e.to_string()))?;
        let actor = actor_label(ctx);
        let next = self.store.report_versions(id, "second").await?.len() + 1;
        let version = self
            .store
            .add_report_version(
                id,
                "second",
                &body,
                ctx.actor_id(),
                &NewEntry::line(
                    &actor,
                    "second_report",
                    &Line::SecondReport {
                        version: next as i64,
                    },
                ),
                now,
            )
            .await?;
        self.audit(
            ctx,
            "incident.second_report",
            &format!("incident:{id}"),
            Outcome::Success,
            json!({"version": version}),
        )
        .await?;
        Ok(version)
    }

    /// The latest second report, if any.
    pub async fn latest_second_report(&self, id: i64) -> Result<Option<SecondReport>, AppError> {
        Ok(self
            .store
            .report_versions(id, "second")
            .await?
            .first()
            .and_then(|v| serde_json::from_str(&v.body).ok()))
    }

    /// Moves the incident to a phase and creates the phase's tasks.
    pub async fn enter_phase(&self, ctx: &Ctx, id: i64, phase: &str) -> Result<(), AppError> {
        let incident = self.managed_incident(ctx, id).await?;
        let phase = Phase::parse(phase).ok_or_else(|| {
            AppError::invalid(
                "phase",
                "フェーズが正しくありません",
                format!("phase: unknown `{phase}`"),
            )
        })?;
        if incident.phase == phase.code() {
            return Ok(());
        }
        let now = self.clock.now_micros();
        let actor = actor_label(ctx);
        let existing = self.store.tasks(id).await?;
        // Tasks of a phase are created once, even if the response goes back to it.
        let tasks = if existing.iter().any(|t| t.phase == phase.code()) {
            Vec::new()
        } else {
            phase_tasks(phase, now)
        };
        self.store
            .enter_phase(
                id,
                phase.code(),
                &tasks,
                phase == Phase::Closed,
                &NewEntry::line(&actor, "phase", &Line::PhaseMoved { phase }),
                now,
            )
            .await?;
        self.audit(
            ctx,
            "incident.phase",
            &format!("incident:{id}"),
            Outcome::Success,
            json!({"phase": phase.code()}),
        )
        .await?;
        Ok(())
    }

    /// Adds a task to the current or a given phase.
    pub async fn add_task(
        &self,
        ctx: &Ctx,
        id: i64,
        phase: &str,
        title: &str,
        owner_id: Option<i64>,
        due_on: &str,
    ) -> Result<i64, AppError> {
        let incident = self.managed_incident(ctx, id).await?;
        let phase = Phase::parse(phase)
            .or_else(|| Phase::parse(&incident.phase))
            .unwrap_or(Phase::TaskForce);
        let title = check_text("title", title, MAX_TITLE, None)?;
        if title.is_empty() {
            return Err(AppError::invalid(
                "title",
                "タスク名を入力してください",
                "title is required",
            ));
        }
        let due = parse_date("due_on", due_on)?;
        self.check_owner(incident.company_id, owner_id).await?;
        let now = self.clock.now_micros();
        let actor = actor_label(ctx);
        let task_id = self
            .store
            .add_task(
                id,
                phase.code(),
                &title,
                owner_id,
                due.map(|d| d.to_string()).as_deref(),
                &NewEntry::line(
                    &actor,
                    "task",
                    &Line::TaskAdded {
                        title: title.clone(),
                    },
                ),
                now,
            )
            .await?;
        self.audit(
            ctx,
            "incident.task.add",
            &format!("task:{task_id}"),
            Outcome::Success,
            json!({"incident": id}),
        )
        .await?;
        Ok(task_id)
    }

    async fn check_owner(&self, company_id: i64, owner_id: Option<i64>) -> Result<(), AppError> {
        if let Some(o) = owner_id {
            let ok = self
                .store
                .get_user(o)
                .await
                .is_ok_and(|u| u.company_id == company_id && !u.disabled);
            if !ok {
                return Err(AppError::invalid(
                    "owner_id",
                    "担当者が見つかりません",
                    "owner_id: no such user in the company",
                ));
            }
        }
        Ok(())
    }

    /// Changes a task's owner, due date and status. The privacy office may change any task; an
    /// owner may change the status of their own.
    pub async fn update_task(
        &self,
        ctx: &Ctx,
        task_id: i64,
        owner_id: Option<i64>,
        due_on: &str,
        status: &str,
    ) -> Result<i64, AppError> {
        let mut task = self.store.get_task(task_id).await?;
        let (incident, _) = self.incident_for(ctx, task.incident_id).await?;
        let manager = ctx.allows(Permission::ManageIncidents);
        let owner = task.owner_id.is_some() && task.owner_id == ctx.actor_id();
        if !manager && !owner {
            self.audit(
                ctx,
                "incident.task.update",
                &format!("task:{task_id}"),
                Outcome::Denied,
                json!({}),
            )
            .await?;
            return Err(AppError::Denied);
        }
        let new_status = TaskStatus::parse(status).ok_or_else(|| {
            AppError::invalid(
                "status",
                "状態が正しくありません",
                format!("status: unknown `{status}`"),
            )
        })?;
        let mut changes = Vec::new();
        if manager {
            self.check_owner(incident.company_id, owner_id).await?;
            let due = parse_date("due_on", due_on)?.map(|d| d.to_string());
            if due != task.due_on {
                changes.push(TaskChange::Due {
                    from: task.due_on.clone(),
                    to: due.clone(),
                });
                task.due_on = due;
            }
            if owner_id != task.owner_id {
                let name = |id: Option<i64>| async move {
                    match id {
                        Some(i) => Some(
                            self.store
                                .get_user(i)
                                .await
                                .map_or_else(|_| "-".into(), |u| u.display_name),
                        ),
                        None => None,
                    }
                };
                changes.push(TaskChange::Owner {
                    from: name(task.owner_id).await,
                    to: name(owner_id).await,
                });
                task.owner_id = owner_id;
            }
        }
        if new_status.code() != task.status {
            changes.push(TaskChange::Status {
                from: TaskStatus::parse(&task.status),
                to: new_status,
            });
            new_status.code().clone_into(&mut task.status);
        }
        if changes.is_empty() {
            return Ok(task.incident_id);
        }
        let now = self.clock.now_micros();
        let actor = actor_label(ctx);
        self.store
            .update_task(
                &task,
                &NewEntry::line(
                    &actor,
                    "task",
                    &Line::TaskChanged {
                        title: task.title.clone(),
                        template: task.template.clone(),
                        changes,
                    },
                ),
                now,
            )
            .await?;
        self.audit(
            ctx,
            "incident.task.update",
            &format!("task:{task_id}"),
            Outcome::Success,
            json!({"incident": task.incident_id}),
        )
        .await?;
        Ok(task.incident_id)
    }

    /// Marks an obligation done (with the date it was fulfilled) or open again.
    pub async fn set_obligation(
        &self,
        ctx: &Ctx,
        obligation_id: i64,
        done: bool,
    ) -> Result<i64, AppError> {
        let o = self.store.get_obligation(obligation_id).await?;
        self.managed_incident(ctx, o.incident_id).await?;
        let kind = ObligationKind::parse(&o.kind)
            .map_or_else(|| o.kind.clone(), |k| k.label_ja().to_owned());
        if o.status == "not_required" {
            return Err(AppError::invalid(
                "status",
                "現在の事実では不要な義務です",
                "this obligation is not required by the current facts",
            ));
        }
        let now = self.clock.now_micros();
        let actor = actor_label(ctx);
        let entry = match ObligationKind::parse(&o.kind) {
            Some(kind) if done => NewEntry::line(
                &actor,
                "obligation",
                &Line::ObligationDone {
                    kind,
                    at: format_jst(now),
                },
            ),
            Some(kind) => NewEntry::line(&actor, "obligation", &Line::ObligationReopened { kind }),
            None if done => NewEntry::new(
                &actor,
                "obligation",
                format!("義務を完了しました: {kind}（{}）", format_jst(now)),
            ),
            None => NewEntry::new(
                &actor,
                "obligation",
                format!("義務を未完了に戻しました: {kind}"),
            ),
        };
        self.store
            .set_obligation_status(
                obligation_id,
                if done { "done" } else { "open" },
                &actor,
                &entry,
                now,
            )
            .await?;
        self.audit(
            ctx,
            "incident.obligation",
            &format!("obligation:{obligation_id}"),
            Outcome::Success,
            json!({"done": done}),
        )
        .await?;
        Ok(o.incident_id)
    }

    /// Adds a note to the timeline; anybody who may see the incident may add one.
    pub async fn add_note(&self, ctx: &Ctx, id: i64, text: &str) -> Result<(), AppError> {
        self.incident_for(ctx, id).await?;
        let text = check_text("note", text, MAX_TEXT, None)?;
        if text.is_empty() {
            return Err(AppError::invalid(
                "note",
                "メモを入力してください",
                "note is empty",
            ));
        }
        let actor = actor_label(ctx);
        self.store
            .append_timeline(
                id,
                self.clock.now_micros(),
                &[NewEntry::new(&actor, "note", text)],
            )
            .await?;
        self.audit(
            ctx,
            "incident.note",
            &format!("incident:{id}"),
            Outcome::Success,
            json!({}),
        )
        .await?;
        Ok(())
    }

    /// The list scope of the caller.
    pub(crate) fn list_scope(ctx: &Ctx) -> Result<ListScope, AppError> {
        let u = ctx.user_ref().ok_or(AppError::Denied)?;
        Ok(ListScope {
            company_id: u.company_id,
            all: ctx.allows(Permission::ViewAllIncidents),
            user_id: u.id,
            head_of: u
                .roles
                .contains(mamori_domain::role::Role::DepartmentHead)
                .then_some(u.department_id),
        })
    }

    /// The ledger datasets of the caller's company a first report can name: (id, name,
    /// department). Names only — every employee may report, not every employee reads the ledger.
    pub async fn dataset_choices(&self, ctx: &Ctx) -> Result<Vec<(i64, String, String)>, AppError> {
        let u = ctx.user_ref().ok_or(AppError::Denied)?;
        let depts = self.store.list_departments(u.company_id).await?;
        Ok(self
            .store
            .list_datasets(u.company_id)
            .await?
            .into_iter()
            .map(|d| {
                let dept = depts
                    .iter()
                    .find(|x| x.id == d.department_id)
                    .map(|x| x.name.clone())
                    .unwrap_or_default();
                (d.id, d.name, dept)
            })
            .collect())
    }

    /// A page of the incidents the caller may see.
    pub async fn list_incidents(
        &self,
        ctx: &Ctx,
        filter: &IncidentFilter,
        limit: i64,
    ) -> Result<Vec<IncidentSummary>, AppError> {
        let scope = Self::list_scope(ctx)?;
        let rows = self.store.list_incidents(scope, filter, limit).await?;
        self.audit(
            ctx,
            "incident.list",
            "/incidents",
            Outcome::Success,
            json!({"rows": rows.len()}),
        )
        .await?;
        Ok(rows)
    }

    /// The dashboard of the caller's company (incidents the caller may see).
    pub async fn dashboard(&self, ctx: &Ctx) -> Result<Dashboard, AppError> {
        let scope = Self::list_scope(ctx)?;
        let today = jst_date(self.clock.now_micros());
        let horizon = today.checked_add_days(Days::new(14)).unwrap_or(today);
        let mut d = Dashboard::default();
        let open = IncidentFilter {
            status: Some("open".into()),
            ..IncidentFilter::default()
        };
        let visible_open = self.store.list_incidents(scope, &open, 500).await?;
        d.open = visible_open.iter().filter(|i| !i.drill).count() as i64;
        d.open_drills = visible_open.iter().filter(|i| i.drill).count() as i64;
        d.unacknowledged = visible_open
            .iter()
            .filter(|i| i.acknowledged_at.is_none())
            .take(20)
            .cloned()
            .collect();
        let find = |incident_id: i64| visible_open.iter().find(|i| i.id == incident_id);
        for o in self
            .store
            .open_obligations_until(Some(scope.company_id), &horizon.to_string())
            .await?
        {
            if let Some(i) = find(o.incident_id) {
                let overdue = o
                    .due_on
                    .as_deref()
                    .is_some_and(|d| d < today.to_string().as_str());
                let row = (o, i.ref_no.clone(), i.title.clone(), i.drill);
                if overdue {
                    d.overdue_obligations.push(row);
                } else {
                    d.deadlines.push(row);
                }
            }
        }
        let yesterday = today.pred_opt().unwrap_or(today);
        for t in self
            .store
            .open_tasks_until(Some(scope.company_id), &yesterday.to_string())
            .await?
        {
            if let Some(i) = find(t.incident_id) {
                d.overdue_tasks
                    .push((t, i.ref_no.clone(), i.title.clone(), i.drill));
            }
        }
        d.recent = self
            .store
            .list_incidents(scope, &IncidentFilter::default(), 10)
            .await?;
        Ok(d)
    }

    /// The departments of the caller's company, for the first-report form.
    pub async fn departments_for_report(&self, ctx: &Ctx) -> Result<Vec<(i64, String)>, AppError> {
        let u = ctx.user_ref().ok_or(AppError::Denied)?;
        Ok(self
            .department_tree(ctx, u.company_id)
            .await?
            .into_iter()
            .map(|l| {
                (
                    l.dept.id,
                    format!("{}{}", "　".repeat(l.depth), l.dept.name),
                )
            })
            .collect())
    }

    /// A user by id within the caller's company (for names on pages).
    pub async fn colleague(&self, ctx: &Ctx, id: i64) -> Option<User> {
        let company = ctx.company_scope()?;
        self.store
            .get_user(id)
            .await
            .ok()
            .filter(|u| u.company_id == company)
    }
}

/// Reads a date (`2026-11-24`); empty is `None`.
pub fn parse_date(field: &'static str, s: &str) -> Result<Option<NaiveDate>, AppError> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map(Some)
        .map_err(|_| {
            AppError::invalid(
                field,
                format!("「{s}」は日付として読めません（例: 2026-11-24）"),
                format!("{field}: `{s}` is not a date (e.g. 2026-11-24)"),
            )
        })
}

/// The tasks a phase starts with, due relative to `now` in Japan.
/// The tasks a phase starts with: title (Japanese, as stored), due date, and the template it
/// came from (`phase/index`), by which a page shows the title in the reader's language.
fn phase_tasks(phase: Phase, now: i64) -> Vec<(String, Option<String>, Option<String>)> {
    let today = jst_date(now);
    phase
        .templates()
        .iter()
        .enumerate()
        .map(|(n, (ja, _, days))| {
            (
                (*ja).to_owned(),
                today
                    .checked_add_days(Days::new(*days))
                    .map(|d| d.to_string()),
                Some(format!("{}/{n}", phase.code())),
            )
        })
        .collect()
}

#[cfg(test)]
mod time_field_tests {
    use super::*;

    // 2026-11-24 10:00 JST.
    const NOW: i64 = 1_795_482_000_000_000;
    const NINE: i64 = NOW - 3_600_000_000;

    #[test]
    fn a_time_field_reads_what_people_type() {
        for s in [
            "2026-11-24T09:00",
            "2026-11-24 09:00",
            "2026/11/24 9:00",
            "１１／２４　９：００",
            "11/24 9:00",
            "9:00",
            "2026-11-24T00:00:00Z",
        ] {
            // (00:00 UTC is 09:00 in Japan.)
            assert_eq!(
                parse_time_near("found_at", s, NOW).unwrap(),
                Some(NINE),
                "{s}"
            );
        }
        assert_eq!(parse_time_near("found_at", " ", NOW).unwrap(), None);
        // Without a clock (the list's filter) a year is needed.
        assert!(parse_time("from", "11/24 9:00").is_err());
        assert_eq!(parse_time("from", "2026/11/24 9:00").unwrap(), Some(NINE));
        let e = parse_time_near("occurred_at", "きのう", NOW).unwrap_err();
        assert!(format!("{e:?}").contains("発生日時"), "{e:?}");
    }
}
