//! Incidents: the first report, the list, the incident page with its assessment, obligations,
//! phases, tasks, second report and timeline, and the acknowledgement link of alert mail.

use super::{jst, render, render_status, url_encode, Chrome};
use crate::error::{WebError, WebResult};
use crate::form::FormErrors;
use crate::i18n::{Lang, Words};
use crate::visitor::Visitor;
use crate::WebState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect};
use axum::{Extension, Form};
use mamori_app::incident::{parse_time, FactsInput, FirstReportInput, IncidentView, SecondReport};
use mamori_app::AppError;
use mamori_domain::appi::Item;
use mamori_domain::incident::facts::format_jst;
use mamori_domain::incident::line::show_row;
use mamori_domain::incident::obligation::show_basis;
use mamori_domain::incident::{EventKind, ObligationKind, Phase, TaskStatus};
use mamori_store::incidents::{IncidentFilter, IncidentSummary};
use serde::Deserialize;

/// A submitted form as pairs, so that repeated fields (item checkboxes) work.
pub struct Pairs(pub Vec<(String, String)>);

impl Pairs {
    pub fn get(&self, key: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map_or("", |(_, v)| v.as_str())
    }

    pub fn all(&self, key: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .collect()
    }

    pub fn flag(&self, key: &str) -> bool {
        matches!(self.get(key), "1" | "on" | "true" | "yes")
    }

    pub fn id(&self, key: &str) -> Option<i64> {
        self.get(key).trim().parse().ok()
    }
}

pub struct Opt {
    pub code: String,
    pub label: String,
    pub selected: bool,
}

fn lang_label(v: &Visitor, ja: &str, en: &str) -> String {
    if v.lang == Lang::En { en } else { ja }.to_owned()
}

fn item_options(v: &Visitor, selected: &[String]) -> Vec<Opt> {
    Item::ALL
        .iter()
        .map(|i| Opt {
            code: i.code().to_owned(),
            label: lang_label(v, i.label_ja(), i.label_en()),
            selected: selected.iter().any(|s| s == i.code()),
        })
        .collect()
}

fn event_options(v: &Visitor, selected: &str) -> Vec<Opt> {
    EventKind::ALL
        .iter()
        .map(|e| Opt {
            code: e.code().to_owned(),
            label: lang_label(v, e.label_ja(), e.label_en()),
            selected: e.code() == selected,
        })
        .collect()
}

// ───────────────────────────── first report ─────────────────────────────

#[derive(Template)]
#[template(path = "incident_new.html")]
pub struct NewIncidentPage {
    pub c: Chrome,
    pub departments: Vec<Opt>,
    pub events: Vec<Opt>,
    pub items: Vec<Opt>,
    /// Ledger datasets the report can name.
    pub datasets: Vec<Opt>,
    pub f: FormEcho,
    pub errs: FormErrors,
}

/// The fields of the first report in the order of the form, with their labels.
const REPORT_FIELDS: &[(&str, &str)] = &[
    ("description", "incident.description"),
    ("event", "incident.event"),
    ("certainty", "incident.certainty"),
    ("found_at", "incident.found_at"),
    ("occurred_at", "incident.occurred_at"),
    ("found_by", "incident.found_by"),
    ("department_id", "incident.department"),
    ("persons", "incident.persons"),
    ("title", "incident.title.label"),
    ("items", "incident.items"),
    ("datasets", "incident.datasets"),
    ("actions_taken", "incident.actions_taken"),
];

/// What the reporter typed, shown again with an error.
#[derive(Default)]
pub struct FormEcho {
    pub drill: bool,
    pub title: String,
    pub occurred_at: String,
    pub found_at: String,
    pub found_by: String,
    pub confirmed: bool,
    pub persons: String,
    pub description: String,
    pub actions_taken: String,
}

async fn new_page(s: &WebState, v: &Visitor, p: Option<&Pairs>, errs: FormErrors) -> WebResult {
    let session = v.full()?;
    let depts = s.app.departments_for_report(&v.ctx()).await?;
    let chosen = p
        .and_then(|p| p.id("department_id"))
        .unwrap_or(session.user.department_id);
    let departments = depts
        .into_iter()
        .map(|(id, label)| Opt {
            code: id.to_string(),
            label,
            selected: id == chosen,
        })
        .collect();
    // The time found is prefilled with now (one text field, see `mamori_domain::when`).
    let f = p.map_or_else(
        || FormEcho {
            found_at: mamori_domain::when::format_minute(s.app.clock.now_micros()),
            ..FormEcho::default()
        },
        |p| FormEcho {
            drill: p.flag("drill"),
            title: p.get("title").to_owned(),
            occurred_at: p.get("occurred_at").to_owned(),
            found_at: p.get("found_at").to_owned(),
            found_by: p.get("found_by").to_owned(),
            confirmed: p.get("certainty") == "confirmed",
            persons: p.get("persons").to_owned(),
            description: p.get("description").to_owned(),
            actions_taken: p.get("actions_taken").to_owned(),
        },
    );
    render_status(
        errs.status(),
        &NewIncidentPage {
            c: Chrome::new(v, "incident.new.title"),
            departments,
            events: event_options(v, p.map_or("unknown", |p| p.get("event"))),
            items: item_options(v, &p.map(|p| p.all("items")).unwrap_or_default()),
            datasets: {
                let chosen = p.map(|p| p.all("datasets")).unwrap_or_default();
                s.app
                    .dataset_choices(&v.ctx())
                    .await?
                    .into_iter()
                    .map(|(id, name, dept)| Opt {
                        selected: chosen.contains(&id.to_string()),
                        code: id.to_string(),
                        label: format!("{name}（{dept}）"),
                    })
                    .collect()
            },
            f,
            errs,
        },
    )
}

pub async fn new_incident_page(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
) -> WebResult {
    new_page(&s, &v, None, FormErrors::none("report")).await
}

pub async fn create_incident(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> WebResult {
    v.full()?;
    let p = Pairs(pairs);
    let input = FirstReportInput {
        drill: p.flag("drill"),
        title: p.get("title").into(),
        occurred_at: p.get("occurred_at").into(),
        found_at: p.get("found_at").into(),
        found_by: p.get("found_by").into(),
        department_id: p.id("department_id"),
        event: p.get("event").into(),
        certainty: p.get("certainty").into(),
        items: p.all("items"),
        persons: p.get("persons").into(),
        description: p.get("description").into(),
        actions_taken: p.get("actions_taken").into(),
        datasets: p
            .all("datasets")
            .iter()
            .filter_map(|d| d.parse().ok())
            .collect(),
    };
    match s.app.file_first_report(&v.ctx(), &input).await {
        Ok((id, _)) => Ok(Redirect::to(&format!("/incidents/{id}?filed=1")).into_response()),
        Err(e @ AppError::Invalid(_)) => {
            let errs = FormErrors::of(&v, "report", &e, REPORT_FIELDS);
            new_page(&s, &v, Some(&p), errs).await
        }
        Err(e) => Err(WebError(e)),
    }
}

// ───────────────────────────── list ─────────────────────────────

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
    #[serde(default)]
    pub drill: String,
    #[serde(default)]
    pub before: String,
}

pub struct ListRow {
    pub id: i64,
    pub ref_no: String,
    pub drill: bool,
    pub title: String,
    pub status: String,
    pub status_code: String,
    pub phase: String,
    pub reportable: bool,
    pub persons: String,
    pub filed: String,
    pub acknowledged: bool,
}

#[derive(Template)]
#[template(path = "incidents.html")]
pub struct ListPage {
    pub c: Chrome,
    pub q: ListQuery,
    pub statuses: Vec<Opt>,
    pub drills: Vec<Opt>,
    pub rows: Vec<ListRow>,
    pub more_href: Option<String>,
}

#[derive(Template)]
#[template(path = "incident_rows.html")]
pub struct ListRows {
    pub c: Chrome,
    pub rows: Vec<ListRow>,
    pub more_href: Option<String>,
}

const PAGE: i64 = 50;

pub fn summary_row(v: &Visitor, i: &IncidentSummary) -> ListRow {
    let t = v.tr();
    ListRow {
        id: i.id,
        ref_no: i.ref_no.clone(),
        drill: i.drill,
        title: i.title.clone(),
        status: t.get(&format!("incident.status.{}", i.status)).to_owned(),
        status_code: i.status.clone(),
        phase: Phase::parse(&i.phase).map_or_else(String::new, |p| {
            format!(
                "{}. {}",
                p.number(),
                lang_label(v, p.label_ja(), p.label_en())
            )
        }),
        reportable: i.reportable,
        persons: i.persons.map_or_else(
            || "-".into(),
            |p| mamori_domain::incident::facts::group_digits(p as u64),
        ),
        filed: jst(i.created_at),
        acknowledged: i.acknowledged_at.is_some(),
    }
}

fn filter_of(q: &ListQuery) -> Result<IncidentFilter, AppError> {
    let day = 86_400_000_000;
    let before = if q.before.is_empty() {
        None
    } else {
        let (a, b) = q.before.split_once('_').ok_or_else(|| {
            AppError::invalid(
                "before",
                "ページの指定が正しくありません",
                "before: bad cursor",
            )
        })?;
        Some((
            a.parse().map_err(|_| {
                AppError::invalid(
                    "before",
                    "ページの指定が正しくありません",
                    "before: bad cursor",
                )
            })?,
            b.parse().map_err(|_| {
                AppError::invalid(
                    "before",
                    "ページの指定が正しくありません",
                    "before: bad cursor",
                )
            })?,
        ))
    };
    Ok(IncidentFilter {
        text: Some(q.q.trim().to_owned()).filter(|s| !s.is_empty()),
        status: match q.status.as_str() {
            "open" | "closed" => Some(q.status.clone()),
            "" => None,
            _ => {
                return Err(AppError::invalid(
                    "status",
                    "状態が正しくありません",
                    "status: unknown value",
                ))
            }
        },
        from: parse_time("from", &q.from)?,
        until: parse_time("to", &q.to)?.map(|t| t + day),
        drill: match q.drill.as_str() {
            "" => None,
            "hide" => Some(false),
            "only" => Some(true),
            _ => {
                return Err(AppError::invalid(
                    "drill",
                    "訓練の指定が正しくありません",
                    "drill: unknown value",
                ))
            }
        },
        before,
    })
}

fn more_href(q: &ListQuery, last: &IncidentSummary) -> String {
    format!(
        "/incidents?q={}&status={}&from={}&to={}&drill={}&before={}_{}",
        url_encode(&q.q),
        url_encode(&q.status),
        url_encode(&q.from),
        url_encode(&q.to),
        url_encode(&q.drill),
        last.created_at,
        last.id
    )
}

pub async fn list_page(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    headers: HeaderMap,
    Query(q): Query<ListQuery>,
) -> WebResult {
    v.full()?;
    let filter = filter_of(&q).map_err(WebError)?;
    let found = s.app.list_incidents(&v.ctx(), &filter, PAGE + 1).await?;
    let more_href = (found.len() as i64 > PAGE)
        .then(|| found.get(PAGE as usize - 1).map(|l| more_href(&q, l)))
        .flatten();
    let rows: Vec<ListRow> = found
        .iter()
        .take(PAGE as usize)
        .map(|i| summary_row(&v, i))
        .collect();
    let c = Chrome::new(&v, "incidents.title");
    if headers.contains_key("hx-request") && !headers.contains_key("hx-boosted") {
        return render(&ListRows { c, rows, more_href });
    }
    let t = v.tr();
    let statuses = [
        ("", "incidents.any"),
        ("open", "incident.status.open"),
        ("closed", "incident.status.closed"),
    ]
    .into_iter()
    .map(|(code, key)| Opt {
        code: code.into(),
        label: t.get(key).into(),
        selected: q.status == code,
    })
    .collect();
    let drills = [
        ("", "incidents.drill.any"),
        ("hide", "incidents.drill.hide"),
        ("only", "incidents.drill.only"),
    ]
    .into_iter()
    .map(|(code, key)| Opt {
        code: code.into(),
        label: t.get(key).into(),
        selected: q.drill == code,
    })
    .collect();
    render(&ListPage {
        c,
        q,
        statuses,
        drills,
        rows,
        more_href,
    })
}

// ───────────────────────────── the incident page ─────────────────────────────

pub struct ObligationRow {
    pub id: i64,
    pub label: String,
    pub due: String,
    pub warn: String,
    pub basis: String,
    pub status: String,
    pub status_code: String,
    pub overdue: bool,
    pub done_by: String,
}

pub struct TaskRow {
    pub id: i64,
    pub title: String,
    pub owner: String,
    pub owners: Vec<Opt>,
    pub due: String,
    pub statuses: Vec<Opt>,
    pub done: bool,
    pub overdue: bool,
    pub mine: bool,
}

pub struct PhaseBlock {
    pub code: &'static str,
    pub number: usize,
    pub label: String,
    pub current: bool,
    pub passed: bool,
    pub tasks: Vec<TaskRow>,
}

pub struct TimelineRow {
    pub at: String,
    pub actor: String,
    pub kind: String,
    pub text: String,
}

pub struct VersionRow {
    pub version: i64,
    pub at: String,
    pub fields: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "incident.html")]
pub struct IncidentPage {
    pub c: Chrome,
    pub id: i64,
    pub ref_no: String,
    pub drill: bool,
    pub title: String,
    pub status: String,
    pub closed: bool,
    pub acknowledged: Option<String>,
    pub reporter: String,
    pub department: String,
    /// Ledger datasets involved.
    pub datasets: Vec<(i64, String)>,
    pub filed: String,
    pub summary: Vec<(String, String)>,
    pub reportable: bool,
    pub categories: Vec<String>,
    pub preliminary_due: String,
    pub final_due: String,
    pub notice: String,
    pub reasons: Vec<String>,
    pub obligations: Vec<ObligationRow>,
    pub phases: Vec<PhaseBlock>,
    pub timeline: Vec<TimelineRow>,
    pub first_versions: Vec<VersionRow>,
    pub second_versions: Vec<VersionRow>,
    pub second: SecondReport,
    pub can_manage: bool,
    /// May open the incident's desk page (a manager, or the desk of an incident it answers
    /// for; see `desk_incident::may_open`).
    pub can_desk: bool,
    pub can_decide: bool,
    pub can_ack: bool,
    pub facts: FactsEcho,
    pub items: Vec<Opt>,
    pub events: Vec<Opt>,
    pub owners: Vec<Opt>,
    /// The problems of the form sent (`facts`, `second`, `task`, `phase`, `note`; any other
    /// form's in the banner).
    pub errs: FormErrors,
    /// What was typed into the forms that start empty (a new task, a note), kept when refused.
    pub typed_task: TaskEcho,
    pub typed_note: String,
    /// The contractor involved (issue 17, part 5).
    pub contractor: super::contractors::IncidentContractorView,
}

#[derive(Default)]
pub struct TaskEcho {
    pub title: String,
    pub due_on: String,
    pub owner_id: String,
}

const FACTS_FIELDS: &[(&str, &str)] = &[
    ("event", "incident.event"),
    ("certainty", "incident.certainty"),
    ("occurred_at", "incident.occurred_at"),
    ("found_at", "incident.found_at"),
    ("knew_at", "incident.knew_at"),
    ("persons", "incident.persons"),
    ("role", "facts.role"),
    ("notified_entruster_at", "facts.notified_entruster_at"),
    ("contact_info", "facts.contact_info"),
    ("items", "incident.items"),
];
const SECOND_FIELDS: &[(&str, &str)] = &[
    ("when", "second.when"),
    ("where", "second.where"),
    ("who", "second.who"),
    ("what", "second.what"),
    ("why", "second.why"),
    ("how", "second.how"),
    ("secondary_damage", "second.secondary_damage"),
    ("response_to_persons", "second.response_to_persons"),
    ("measures_done", "second.measures_done"),
    ("measures_planned", "second.measures_planned"),
];
const TASK_FIELDS: &[(&str, &str)] = &[
    ("title", "task.title"),
    ("phase", "task.phase"),
    ("owner_id", "task.owner"),
    ("due_on", "task.due"),
];
const PHASE_FIELDS: &[(&str, &str)] = &[("phase", "incident.move_phase")];
const NOTE_FIELDS: &[(&str, &str)] = &[("note", "incident.note")];
/// The forms of the incident page that show their problems in a summary.
const PAGE_FORMS: &[&str] = &["facts", "second", "task", "phase", "note"];

/// The facts as the form shows them.
pub struct FactsEcho {
    pub version: i64,
    pub occurred_at: String,
    pub found_at: String,
    pub knew_at: String,
    pub confirmed: bool,
    pub persons: String,
    pub contractor: bool,
    pub notified_entruster_at: String,
    pub contact_info: String,
    pub flags: Vec<(&'static str, String, bool)>,
}

/// A time as its text field shows it (`2026-12-07 09:30`, see `mamori_domain::when`).
fn input_time(micros: i64) -> String {
    mamori_domain::when::format_minute(micros)
}

fn second_fields(v: &Visitor, r: &SecondReport) -> Vec<(String, String)> {
    let t = v.tr();
    [
        ("second.when", &r.when),
        ("second.where", &r.place),
        ("second.who", &r.who),
        ("second.what", &r.what),
        ("second.why", &r.why),
        ("second.how", &r.how),
        ("second.secondary_damage", &r.secondary_damage),
        ("second.response_to_persons", &r.response_to_persons),
        ("second.measures_done", &r.measures_done),
        ("second.measures_planned", &r.measures_planned),
    ]
    .into_iter()
    .filter(|(_, val)| !val.is_empty())
    .map(|(k, val)| (t.get(k).to_owned(), val.clone()))
    .collect()
}

fn build_page(
    v: &Visitor,
    view: &IncidentView,
    errs: FormErrors,
    flash: Option<String>,
) -> IncidentPage {
    let t = v.tr();
    let i = &view.incident;
    let today =
        mamori_domain::incident::jst_date(chrono::Utc::now().timestamp_micros()).to_string();
    let f = &view.facts;
    let a = &view.assessment;
    let me = v.session.as_ref().map(|s| s.user.id);
    let no = t.get("common.no").to_owned();
    let unknown = t.get("common.unknown").to_owned();
    let mut summary = vec![
        (
            t.get("incident.event").to_owned(),
            format!(
                "{}{}",
                lang_label(v, f.event.label_ja(), f.event.label_en()),
                if f.suspected {
                    t.get("incident.suspected_suffix")
                } else {
                    ""
                }
            ),
        ),
        (
            t.get("incident.occurred_at").to_owned(),
            f.occurred_at.map_or_else(|| unknown.clone(), format_jst),
        ),
        (
            t.get("incident.found_at").to_owned(),
            format_jst(f.found_at),
        ),
        (t.get("incident.knew_at").to_owned(), format_jst(f.knew_at)),
        (
            t.get("incident.found_by").to_owned(),
            if i.found_by.is_empty() {
                unknown.clone()
            } else {
                i.found_by.clone()
            },
        ),
        (
            t.get("incident.persons").to_owned(),
            f.persons.map_or_else(
                || unknown.clone(),
                mamori_domain::incident::facts::group_digits,
            ),
        ),
        (
            t.get("incident.items").to_owned(),
            if f.items.is_empty() {
                unknown.clone()
            } else {
                f.items
                    .iter()
                    .map(|i| {
                        if v.lang == Lang::En {
                            i.code()
                        } else {
                            i.label_ja()
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            },
        ),
        (
            t.get("incident.description").to_owned(),
            i.description.clone(),
        ),
    ];
    if !i.actions_taken.is_empty() {
        summary.push((
            t.get("incident.actions_taken").to_owned(),
            i.actions_taken.clone(),
        ));
    }
    let obligations = view
        .obligations
        .iter()
        .map(|o| {
            let kind = ObligationKind::parse(&o.kind);
            ObligationRow {
                id: o.id,
                label: kind.map_or_else(
                    || o.kind.clone(),
                    |k| lang_label(v, k.label_ja(), k.label_en()),
                ),
                due: o
                    .due_on
                    .clone()
                    .unwrap_or_else(|| t.get("obligation.promptly").to_owned()),
                warn: o.warn_on.clone().unwrap_or_default(),
                basis: show_basis(o.basis_msg.as_deref(), &o.basis, v.lang),
                status: t.get(&format!("obligation.status.{}", o.status)).to_owned(),
                status_code: o.status.clone(),
                overdue: o.status == "open"
                    && o.due_on.as_deref().is_some_and(|d| d < today.as_str()),
                done_by: o.done_by.clone().unwrap_or_default(),
            }
        })
        .collect();
    let owner_opts = |sel: Option<i64>| -> Vec<Opt> {
        view.people
            .iter()
            .map(|(id, name)| Opt {
                code: id.to_string(),
                label: name.clone(),
                selected: Some(*id) == sel,
            })
            .collect()
    };
    let current = Phase::parse(&i.phase).unwrap_or(Phase::TaskForce);
    let phases = Phase::ALL
        .iter()
        .map(|p| PhaseBlock {
            code: p.code(),
            number: p.number(),
            label: lang_label(v, p.label_ja(), p.label_en()),
            current: *p == current,
            passed: p.number() < current.number(),
            tasks: view
                .tasks
                .iter()
                .filter(|t| t.phase == p.code())
                .map(|task| TaskRow {
                    id: task.id,
                    title: Phase::show_task_title(task.template.as_deref(), &task.title, v.lang),
                    owner: task
                        .owner_id
                        .and_then(|o| view.people.iter().find(|(id, _)| *id == o))
                        .map_or_else(String::new, |(_, n)| n.clone()),
                    owners: owner_opts(task.owner_id),
                    due: task.due_on.clone().unwrap_or_default(),
                    statuses: TaskStatus::ALL
                        .iter()
                        .map(|s| Opt {
                            code: s.code().into(),
                            label: lang_label(v, s.label_ja(), s.label_en()),
                            selected: s.code() == task.status,
                        })
                        .collect(),
                    done: task.status == "done",
                    overdue: task.status != "done"
                        && task.due_on.as_deref().is_some_and(|d| d < today.as_str()),
                    mine: task.owner_id.is_some() && task.owner_id == me,
                })
                .collect(),
        })
        .collect();
    let timeline = view
        .timeline
        .iter()
        .rev()
        .map(|e| TimelineRow {
            at: jst(e.at),
            actor: e.actor.clone(),
            kind: e.kind.clone(),
            text: show_row(e.msg.as_deref(), &e.text, v.lang),
        })
        .collect();
    let second_versions: Vec<VersionRow> = view
        .second_reports
        .iter()
        .map(|r| VersionRow {
            version: r.version,
            at: jst(r.created_at),
            fields: serde_json::from_str::<SecondReport>(&r.body)
                .map(|s| second_fields(v, &s))
                .unwrap_or_default(),
        })
        .collect();
    let second = view
        .second_reports
        .first()
        .and_then(|r| serde_json::from_str(&r.body).ok())
        .unwrap_or_default();
    let first_versions = view
        .first_reports
        .iter()
        .map(|r| VersionRow {
            version: r.version,
            at: jst(r.created_at),
            fields: vec![(t.get("incident.raw").to_owned(), r.body.clone())],
        })
        .collect();
    let flags = [
        ("malicious", "facts.malicious", f.malicious),
        ("being_acquired", "facts.being_acquired", f.being_acquired),
        (
            "recovered_before_viewed",
            "facts.recovered_before_viewed",
            f.recovered_before_viewed,
        ),
        (
            "same_data_held_elsewhere",
            "facts.same_data_held_elsewhere",
            f.same_data_held_elsewhere,
        ),
        (
            "intentional_provision",
            "facts.intentional_provision",
            f.intentional_provision,
        ),
        ("pseudonymized", "facts.pseudonymized", f.pseudonymized),
        (
            "high_grade_encryption",
            "facts.high_grade_encryption",
            f.high_grade_encryption,
        ),
    ]
    .into_iter()
    .map(|(code, key, on)| (code, t.get(key).to_owned(), on))
    .collect();
    let item_codes: Vec<String> = f.items.iter().map(|i| i.code().to_owned()).collect();
    IncidentPage {
        c: Chrome::new(v, "incident.title")
            .about_incident(&i.ref_no, &i.title, true)
            .with_error(errs.banner(PAGE_FORMS))
            .with_flash(flash),
        id: i.id,
        ref_no: i.ref_no.clone(),
        drill: i.drill,
        title: i.title.clone(),
        status: t.get(&format!("incident.status.{}", i.status)).to_owned(),
        closed: i.status == "closed",
        acknowledged: i.acknowledged_at.map(|at| {
            format!(
                "{}（{}）",
                jst(at),
                i.acknowledged_by.clone().unwrap_or_default()
            )
        }),
        reporter: view.reporter_name.clone(),
        department: view.department_name.clone(),
        datasets: view.datasets.clone(),
        filed: jst(i.created_at),
        summary,
        reportable: a.reportable,
        categories: a
            .categories
            .iter()
            .map(|c| t.get(&format!("category.{}", c.code())).to_owned())
            .collect(),
        preliminary_due: a
            .preliminary_report_due
            .map_or_else(|| "-".into(), |d| d.to_string()),
        final_due: a
            .final_report_due
            .map_or_else(|| "-".into(), |d| d.to_string()),
        notice: match (a.notify_individuals, a.notice_method) {
            (false, _) => no.clone(),
            (true, Some(mamori_domain::appi::NoticeMethod::Alternative)) => {
                t.get("notice.alternative").to_owned()
            }
            (true, _) => t.get("notice.direct").to_owned(),
        },
        reasons: a.reasons.iter().map(|r| r.say(v.lang)).collect(),
        obligations,
        phases,
        timeline,
        first_versions,
        second_versions,
        second,
        can_manage: view.can_manage,
        can_desk: view.can_manage,
        can_decide: view.can_decide,
        can_ack: view.can_acknowledge && i.acknowledged_at.is_none(),
        facts: FactsEcho {
            version: i.version,
            occurred_at: f.occurred_at.map(input_time).unwrap_or_default(),
            found_at: input_time(f.found_at),
            knew_at: input_time(f.knew_at),
            confirmed: !f.suspected,
            persons: f.persons.map(|p| p.to_string()).unwrap_or_default(),
            contractor: f.role == mamori_domain::appi::Role::Contractor,
            notified_entruster_at: f.notified_entruster_at.map(input_time).unwrap_or_default(),
            contact_info: match f.contact_info_available {
                Some(true) => "yes",
                Some(false) => "no",
                None => "",
            }
            .into(),
            flags,
        },
        items: item_options(v, &item_codes),
        events: event_options(v, f.event.code()),
        owners: owner_opts(None),
        errs,
        typed_task: TaskEcho::default(),
        typed_note: String::new(),
        contractor: super::contractors::IncidentContractorView::default(),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct ShowQuery {
    #[serde(default)]
    pub filed: Option<String>,
    #[serde(default)]
    pub done: Option<String>,
}

pub async fn incident_page(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Path(id): Path<i64>,
    Query(q): Query<ShowQuery>,
) -> WebResult {
    v.full()?;
    let view = s.app.incident_view(&v.ctx(), id).await?;
    let t = v.tr();
    let flash = if q.filed.is_some() {
        Some(t.get("incident.filed").to_owned())
    } else {
        q.done.as_ref().map(|_| t.get("incident.saved").to_owned())
    };
    let mut page = build_page(&v, &view, FormErrors::none("facts"), flash);
    page.can_desk = page.can_desk || super::desk_incident::may_open(&s, &v, id).await;
    page.contractor = super::contractors::incident_view(&s, &v, id).await;
    render(&page)
}

/// The form a change came from: its name, its fields, and what was typed into it.
pub(crate) struct Sent<'a> {
    form: &'static str,
    fields: &'static [(&'static str, &'static str)],
    echo: Option<&'a (dyn Fn(&mut IncidentPage) + Sync)>,
}

impl Sent<'_> {
    /// A button in a list (a task row, an obligation): its problem goes in the banner.
    pub(crate) fn row() -> Sent<'static> {
        Sent {
            form: "row",
            fields: &[],
            echo: None,
        }
    }
}

/// After a change: back to the page, or the page again (422) with every problem at the form
/// sent and what was typed into it.
pub(crate) async fn after(
    s: &WebState,
    v: &Visitor,
    id: i64,
    result: Result<(), AppError>,
    anchor: &str,
    sent: Sent<'_>,
) -> WebResult {
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/incidents/{id}?done=1#{anchor}")).into_response()),
        Err(e @ AppError::Invalid(_)) => {
            let errs = FormErrors::of(v, sent.form, &e, sent.fields);
            let view = s.app.incident_view(&v.ctx(), id).await?;
            let mut page = build_page(v, &view, errs, None);
            page.can_desk = page.can_desk || super::desk_incident::may_open(s, v, id).await;
            page.contractor = super::contractors::incident_view(s, v, id).await;
            if let Some(echo) = sent.echo {
                echo(&mut page);
            }
            render_status(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(e) => Err(WebError(e)),
    }
}

pub async fn update_facts(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> WebResult {
    v.full()?;
    let p = Pairs(pairs);
    let input = FactsInput {
        version: p.id("version").unwrap_or(0),
        occurred_at: p.get("occurred_at").into(),
        found_at: p.get("found_at").into(),
        knew_at: p.get("knew_at").into(),
        event: p.get("event").into(),
        certainty: p.get("certainty").into(),
        items: p.all("items"),
        persons: p.get("persons").into(),
        role: p.get("role").into(),
        notified_entruster_at: p.get("notified_entruster_at").into(),
        contact_info: p.get("contact_info").into(),
        recovered_before_viewed: p.flag("recovered_before_viewed"),
        same_data_held_elsewhere: p.flag("same_data_held_elsewhere"),
        intentional_provision: p.flag("intentional_provision"),
        pseudonymized: p.flag("pseudonymized"),
        high_grade_encryption: p.flag("high_grade_encryption"),
        malicious: p.flag("malicious"),
        being_acquired: p.flag("being_acquired"),
    };
    let r = s.app.update_facts(&v.ctx(), id, &input).await;
    let echo = |page: &mut IncidentPage| {
        let f = &mut page.facts;
        p.get("occurred_at").clone_into(&mut f.occurred_at);
        p.get("found_at").clone_into(&mut f.found_at);
        p.get("knew_at").clone_into(&mut f.knew_at);
        f.confirmed = p.get("certainty") == "confirmed";
        p.get("persons").clone_into(&mut f.persons);
        f.contractor = p.get("role") == "contractor";
        p.get("notified_entruster_at")
            .clone_into(&mut f.notified_entruster_at);
        p.get("contact_info").clone_into(&mut f.contact_info);
        for (code, _, on) in &mut f.flags {
            *on = p.flag(code);
        }
        page.items = item_options(&v, &p.all("items"));
        page.events = event_options(&v, p.get("event"));
    };
    let sent = Sent {
        form: "facts",
        fields: FACTS_FIELDS,
        echo: Some(&echo),
    };
    after(&s, &v, id, r, "assessment", sent).await
}

pub async fn save_second_report(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> WebResult {
    v.full()?;
    let p = Pairs(pairs);
    let r = SecondReport {
        when: p.get("when").into(),
        place: p.get("where").into(),
        who: p.get("who").into(),
        what: p.get("what").into(),
        why: p.get("why").into(),
        how: p.get("how").into(),
        secondary_damage: p.get("secondary_damage").into(),
        response_to_persons: p.get("response_to_persons").into(),
        measures_done: p.get("measures_done").into(),
        measures_planned: p.get("measures_planned").into(),
    };
    let res = s.app.save_second_report(&v.ctx(), id, &r).await.map(|_| ());
    let echo = |page: &mut IncidentPage| page.second = r.clone();
    let sent = Sent {
        form: "second",
        fields: SECOND_FIELDS,
        echo: Some(&echo),
    };
    after(&s, &v, id, res, "second", sent).await
}

pub async fn enter_phase(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> WebResult {
    v.full()?;
    let p = Pairs(pairs);
    let r = s.app.enter_phase(&v.ctx(), id, p.get("phase")).await;
    let sent = Sent {
        form: "phase",
        fields: PHASE_FIELDS,
        echo: None,
    };
    after(&s, &v, id, r, "phases", sent).await
}

pub async fn add_task(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> WebResult {
    v.full()?;
    let p = Pairs(pairs);
    let r = s
        .app
        .add_task(
            &v.ctx(),
            id,
            p.get("phase"),
            p.get("title"),
            p.id("owner_id"),
            p.get("due_on"),
        )
        .await
        .map(|_| ());
    let echo = |page: &mut IncidentPage| {
        page.typed_task = TaskEcho {
            title: p.get("title").to_owned(),
            due_on: p.get("due_on").to_owned(),
            owner_id: p.get("owner_id").to_owned(),
        };
    };
    let sent = Sent {
        form: "task",
        fields: TASK_FIELDS,
        echo: Some(&echo),
    };
    after(&s, &v, id, r, "phases", sent).await
}

pub async fn update_task(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Path((id, task)): Path<(i64, i64)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> WebResult {
    v.full()?;
    let p = Pairs(pairs);
    let r = s
        .app
        .update_task(
            &v.ctx(),
            task,
            p.id("owner_id"),
            p.get("due_on"),
            p.get("status"),
        )
        .await
        .map(|_| ());
    after(&s, &v, id, r, "phases", Sent::row()).await
}

pub async fn set_obligation(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Path((id, obligation)): Path<(i64, i64)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> WebResult {
    v.full()?;
    let p = Pairs(pairs);
    let done = p.get("done") == "1";
    // Marking a legal obligation done (the report to the PPC, the notice to the persons) is
    // asked twice: the first submit shows what is being confirmed, the second carries
    // `confirm=1`. Without scripts, so it works under the CSP and without JavaScript.
    if done && p.get("confirm") != "1" {
        let view = s.app.incident_view(&v.ctx(), id).await?;
        if !view.can_manage {
            return Err(WebError(AppError::Denied));
        }
        let page = build_page(&v, &view, FormErrors::none("facts"), None);
        if let Some(o) = page
            .obligations
            .into_iter()
            .find(|o| o.id == obligation && o.status_code == "open")
        {
            return render(&ObligationConfirm {
                c: Chrome::new(&v, "obligation.confirm.title").about_incident(
                    &page.ref_no,
                    &page.title,
                    false,
                ),
                id,
                ref_no: page.ref_no,
                title: page.title,
                o,
            });
        }
    }
    let r = s
        .app
        .set_obligation(&v.ctx(), obligation, done)
        .await
        .map(|_| ());
    after(&s, &v, id, r, "obligations", Sent::row()).await
}

/// 「本当に完了にしますか」: the second step before a legal obligation is marked done.
#[derive(Template)]
#[template(path = "obligation_confirm.html")]
pub struct ObligationConfirm {
    pub c: Chrome,
    pub id: i64,
    pub ref_no: String,
    pub title: String,
    pub o: ObligationRow,
}

pub async fn add_note(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> WebResult {
    v.full()?;
    let p = Pairs(pairs);
    let r = s.app.add_note(&v.ctx(), id, p.get("note")).await;
    let echo = |page: &mut IncidentPage| p.get("note").clone_into(&mut page.typed_note);
    let sent = Sent {
        form: "note",
        fields: NOTE_FIELDS,
        echo: Some(&echo),
    };
    after(&s, &v, id, r, "timeline", sent).await
}

pub async fn acknowledge(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Path(id): Path<i64>,
) -> WebResult {
    v.full()?;
    let r = s.app.acknowledge(&v.ctx(), id).await;
    after(&s, &v, id, r, "top", Sent::row()).await
}

// ───────────────────────────── acknowledgement link ─────────────────────────────

#[derive(Template)]
#[template(path = "ack.html")]
pub struct AckPage {
    pub c: Chrome,
    pub token: String,
    pub done: bool,
    pub already: bool,
    pub incident_href: String,
}

/// The link in the alert mail shows a button; only pressing it acknowledges (mail scanners
/// that follow links must not acknowledge for a person).
pub async fn ack_page(Extension(v): Extension<Visitor>, Path(token): Path<String>) -> WebResult {
    render(&AckPage {
        c: Chrome::new(&v, "ack.title"),
        token: token.chars().filter(char::is_ascii_hexdigit).collect(),
        done: false,
        already: false,
        incident_href: String::new(),
    })
}

pub async fn ack_submit(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Path(token): Path<String>,
) -> WebResult {
    let (incident, already) = s.app.acknowledge_by_token(&v.ctx(), &token).await?;
    render(&AckPage {
        c: Chrome::new(&v, "ack.title"),
        token: String::new(),
        done: true,
        already,
        incident_href: format!("/incidents/{incident}"),
    })
}
