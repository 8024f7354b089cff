//! Internal audit (内部監査, issue 17 part 6): the plan of a year with its audits (and the
//! forms to make the plan and add an audit, whose auditor is refused with the reason at the
//! field when not independent), and one audit with its findings, corrective actions and
//! their history (and the forms to record a finding, the audit's end, an action, and a
//! change of an action's status).

use super::incidents::{Opt, Pairs};
use super::{jst, render, render_status, Chrome};
use crate::error::{WebError, WebResult};
use crate::form::FormErrors;
use crate::visitor::Visitor;
use crate::WebState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect};
use axum::{Extension, Form};
use mamori_app::internal_audit::{
    ActionChange, ActionInput, AuditDetail, AuditDoneInput, AuditInput, AuditYear, FindingInput,
    PlanInput,
};
use mamori_app::AppError;
use mamori_domain::programme::internal_audit::{ActionStatus, Severity};
use serde::Deserialize;

fn when(micros: i64) -> String {
    jst(micros).chars().take(16).collect()
}

fn id_opts(list: &[(i64, String)], chosen: i64) -> Vec<Opt> {
    list.iter()
        .map(|(id, name)| Opt {
            code: id.to_string(),
            label: name.clone(),
            selected: *id == chosen,
        })
        .collect()
}

fn code_opts(v: &Visitor, prefix: &str, codes: &[&'static str], chosen: &str) -> Vec<Opt> {
    codes
        .iter()
        .map(|code| Opt {
            code: (*code).to_owned(),
            label: v.tr().get(&format!("{prefix}.{code}")).to_owned(),
            selected: *code == chosen,
        })
        .collect()
}

fn audit_status(v: &Visitor, code: &str) -> String {
    v.tr()
        .get(&format!("internal_audit.status.{code}"))
        .to_owned()
}

// ───────────────────────────── the plan of a year ─────────────────────────────

pub struct AuditLineV {
    pub id: i64,
    pub department: String,
    pub planned_on: String,
    pub auditor: String,
    pub status: String,
    pub done: bool,
    pub late: bool,
    pub findings: usize,
    pub open_findings: usize,
    pub open_actions: usize,
}

#[derive(Debug, Clone, Default)]
pub struct PlanEcho {
    pub year: String,
    pub note: String,
}

#[derive(Debug, Clone, Default)]
pub struct AuditEcho {
    pub department_id: i64,
    pub planned_on: String,
    pub auditor_id: i64,
}

#[derive(Template)]
#[template(path = "audit_plan.html")]
pub struct PlanPage {
    pub c: Chrome,
    pub errs: FormErrors,
    pub year: i32,
    pub prev: i32,
    pub next: i32,
    pub years: Vec<i64>,
    pub has_plan: bool,
    pub note: String,
    pub can_plan: bool,
    pub audits: Vec<AuditLineV>,
    pub departments: Vec<Opt>,
    pub auditors: Vec<Opt>,
    pub plan_f: PlanEcho,
    pub audit_f: AuditEcho,
}

fn plan_page(
    v: &Visitor,
    y: &AuditYear,
    plan_f: PlanEcho,
    audit_f: AuditEcho,
    errs: FormErrors,
) -> PlanPage {
    let today =
        mamori_domain::incident::jst_date(chrono::Utc::now().timestamp_micros()).to_string();
    PlanPage {
        c: Chrome::new(v, "internal_audit.title").with_error(errs.banner(&["plan", "audit"])),
        year: y.year,
        prev: y.year - 1,
        next: y.year + 1,
        years: y.years.clone(),
        has_plan: y.plan.is_some(),
        note: y.plan.as_ref().map(|p| p.note.clone()).unwrap_or_default(),
        can_plan: y.can_plan,
        audits: y
            .audits
            .iter()
            .map(|a| AuditLineV {
                id: a.row.id,
                department: a.department.clone(),
                planned_on: a.row.planned_on.clone(),
                auditor: a.auditor.clone(),
                status: audit_status(v, &a.row.status),
                done: a.row.status == "done",
                late: a.row.status != "done" && a.row.planned_on < today,
                findings: a.findings,
                open_findings: a.open_findings,
                open_actions: a.open_actions,
            })
            .collect(),
        departments: id_opts(&y.departments, audit_f.department_id),
        auditors: id_opts(&y.auditors, audit_f.auditor_id),
        plan_f,
        audit_f,
        errs,
    }
}

#[derive(Debug, Deserialize)]
pub struct YearQuery {
    year: Option<String>,
}

pub async fn plan(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Query(q): Query<YearQuery>,
) -> WebResult {
    v.full()?;
    let year = q
        .year
        .as_deref()
        .and_then(|y| y.trim().parse::<i32>().ok())
        .filter(|y| (2000..=2100).contains(y));
    let y = s.app.audit_year(&v.ctx(), year).await?;
    let plan_f = PlanEcho {
        year: y.year.to_string(),
        note: String::new(),
    };
    render(&plan_page(
        &v,
        &y,
        plan_f,
        AuditEcho::default(),
        FormErrors::none("plan"),
    ))
}

const PLAN_FIELDS: &[(&str, &str)] = &[
    ("year", "internal_audit.year"),
    ("note", "internal_audit.note"),
];

pub async fn create_plan(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> WebResult {
    v.full()?;
    let ctx = v.ctx();
    let p = Pairs(pairs);
    let f = PlanEcho {
        year: p.get("year").into(),
        note: p.get("note").into(),
    };
    let input = PlanInput {
        year: f.year.clone(),
        note: f.note.clone(),
    };
    match s.app.create_audit_plan(&ctx, &input).await {
        Ok(year) => Ok(Redirect::to(&format!("/programme/audits?year={year}")).into_response()),
        Err(e @ AppError::Invalid(_)) => {
            let y = s.app.audit_year(&ctx, None).await?;
            let errs = FormErrors::of(&v, "plan", &e, PLAN_FIELDS);
            let page = plan_page(&v, &y, f, AuditEcho::default(), errs);
            render_status(page.errs.status(), &page)
        }
        Err(e) => Err(WebError(e)),
    }
}

const AUDIT_FIELDS: &[(&str, &str)] = &[
    ("department_id", "internal_audit.department"),
    ("planned_on", "internal_audit.planned_on"),
    ("auditor_id", "internal_audit.auditor"),
];

pub async fn add_audit(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Path(year): Path<i32>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> WebResult {
    v.full()?;
    let ctx = v.ctx();
    let p = Pairs(pairs);
    let f = AuditEcho {
        department_id: p.id("department_id").unwrap_or(0),
        planned_on: p.get("planned_on").into(),
        auditor_id: p.id("auditor_id").unwrap_or(0),
    };
    let input = AuditInput {
        department_id: f.department_id,
        planned_on: f.planned_on.clone(),
        auditor_id: f.auditor_id,
    };
    match s.app.add_planned_audit(&ctx, year, &input).await {
        Ok(_) => Ok(Redirect::to(&format!("/programme/audits?year={year}#audits")).into_response()),
        Err(e @ AppError::Invalid(_)) => {
            let y = s.app.audit_year(&ctx, Some(year)).await?;
            let errs = FormErrors::of(&v, "audit", &e, AUDIT_FIELDS);
            let plan_f = PlanEcho {
                year: year.to_string(),
                note: String::new(),
            };
            let page = plan_page(&v, &y, plan_f, f, errs);
            render_status(page.errs.status(), &page)
        }
        Err(e) => Err(WebError(e)),
    }
}

// ───────────────────────────── one audit ─────────────────────────────

pub struct HistV {
    pub status: String,
    pub note: String,
    pub by: String,
    pub at: String,
}

pub struct ActionV {
    pub id: i64,
    pub description: String,
    pub owner: String,
    pub due_on: String,
    pub status_code: String,
    pub status: String,
    pub overdue: bool,
    pub can_update: bool,
    pub statuses: Vec<Opt>,
    pub history: Vec<HistV>,
}

pub struct FindingV {
    pub id: i64,
    pub severity_code: String,
    pub severity: String,
    pub description: String,
    pub rule: String,
    pub by: String,
    pub at: String,
    pub open: bool,
    pub actions: Vec<ActionV>,
}

#[derive(Debug, Clone, Default)]
pub struct FindingEcho {
    pub severity: String,
    pub description: String,
    pub rule: String,
}

#[derive(Debug, Clone, Default)]
pub struct ActionEcho {
    pub finding_id: i64,
    pub description: String,
    pub owner_id: i64,
    pub due_on: String,
}

#[derive(Debug, Clone, Default)]
pub struct DoneEcho {
    pub done_on: String,
    pub summary: String,
}

#[derive(Template)]
#[template(path = "audit_plan_audit.html")]
pub struct AuditPage {
    pub c: Chrome,
    pub errs: FormErrors,
    pub id: i64,
    pub year: i64,
    pub department: String,
    pub auditor: String,
    pub planned_on: String,
    pub status: String,
    pub done: bool,
    pub done_on: String,
    pub summary: String,
    pub findings: Vec<FindingV>,
    pub can_conduct: bool,
    pub can_add_actions: bool,
    pub owners: Vec<Opt>,
    pub finding_opts: Vec<Opt>,
    pub severities: Vec<Opt>,
    pub finding_f: FindingEcho,
    pub action_f: ActionEcho,
    pub done_f: DoneEcho,
}

fn severities() -> Vec<&'static str> {
    Severity::ALL.iter().map(|s| s.code()).collect()
}

fn action_statuses() -> Vec<&'static str> {
    ActionStatus::ALL.iter().map(|s| s.code()).collect()
}

fn audit_page(
    v: &Visitor,
    d: &AuditDetail,
    finding_f: FindingEcho,
    action_f: ActionEcho,
    done_f: DoneEcho,
    errs: FormErrors,
) -> AuditPage {
    let t = v.tr();
    let sev = |code: &str| t.get(&format!("internal_audit.severity.{code}")).to_owned();
    let findings: Vec<FindingV> = d
        .findings
        .iter()
        .map(|f| FindingV {
            id: f.row.id,
            severity_code: f.row.severity.clone(),
            severity: sev(&f.row.severity),
            description: f.row.description.clone(),
            rule: f.row.rule.clone(),
            by: f.row.by_name.clone(),
            at: when(f.row.at),
            open: f.open,
            actions: f
                .actions
                .iter()
                .map(|a| ActionV {
                    id: a.row.id,
                    description: a.row.description.clone(),
                    owner: a.owner.clone(),
                    due_on: a.row.due_on.clone(),
                    status: t
                        .get(&format!("internal_audit.action.{}", a.row.status))
                        .to_owned(),
                    status_code: a.row.status.clone(),
                    overdue: a.overdue,
                    can_update: a.can_update,
                    statuses: code_opts(
                        v,
                        "internal_audit.action",
                        &action_statuses(),
                        &a.row.status,
                    ),
                    history: a
                        .history
                        .iter()
                        .map(|h| HistV {
                            status: t
                                .get(&format!("internal_audit.action.{}", h.status))
                                .to_owned(),
                            note: h.note.clone(),
                            by: h.by_name.clone(),
                            at: when(h.at),
                        })
                        .collect(),
                })
                .collect(),
        })
        .collect();
    let finding_opts = d
        .findings
        .iter()
        .enumerate()
        .map(|(n, f)| Opt {
            code: f.row.id.to_string(),
            label: format!(
                "{} {}: {}",
                t.fill("internal_audit.finding.no", "n", &(n + 1).to_string()),
                sev(&f.row.severity),
                f.row.description.chars().take(40).collect::<String>()
            ),
            selected: f.row.id == action_f.finding_id,
        })
        .collect();
    let r = &d.row;
    AuditPage {
        c: Chrome::new(v, "internal_audit.audit.title")
            .with_error(errs.banner(&["finding", "action", "done"])),
        id: r.id,
        year: d.year,
        department: d.department.clone(),
        auditor: d.auditor.clone(),
        planned_on: r.planned_on.clone(),
        status: audit_status(v, &r.status),
        done: r.status == "done",
        done_on: r.done_on.clone().unwrap_or_default(),
        summary: r.summary.clone(),
        findings,
        can_conduct: d.can_conduct,
        can_add_actions: d.can_add_actions && !d.findings.is_empty(),
        owners: id_opts(&d.owners, action_f.owner_id),
        finding_opts,
        severities: code_opts(
            v,
            "internal_audit.severity",
            &severities(),
            if finding_f.severity.is_empty() {
                "minor"
            } else {
                &finding_f.severity
            },
        ),
        finding_f,
        action_f,
        done_f,
        errs,
    }
}

fn today() -> String {
    mamori_domain::incident::jst_date(chrono::Utc::now().timestamp_micros()).to_string()
}

#[derive(Debug, Deserialize)]
pub struct SavedQuery {
    saved: Option<String>,
}

pub async fn show(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Path(id): Path<i64>,
    Query(q): Query<SavedQuery>,
) -> WebResult {
    v.full()?;
    let d = s.app.audit_detail(&v.ctx(), id).await?;
    let mut page = audit_page(
        &v,
        &d,
        FindingEcho::default(),
        ActionEcho::default(),
        DoneEcho {
            done_on: today(),
            summary: String::new(),
        },
        FormErrors::none("finding"),
    );
    if q.saved.is_some() {
        page.c.flash = Some(v.tr().get("common.saved").to_owned());
    }
    render(&page)
}

/// After a change: back to the audit, or the audit again (422) with the problems at the form.
async fn after(
    s: &WebState,
    v: &Visitor,
    id: i64,
    r: Result<(), AppError>,
    anchor: &str,
    page_of: impl FnOnce(&AuditDetail, FormErrors) -> AuditPage,
    (form, fields): (&'static str, &[(&str, &str)]),
) -> WebResult {
    match r {
        Ok(()) => {
            Ok(Redirect::to(&format!("/programme/audits/{id}?saved=1#{anchor}")).into_response())
        }
        Err(e @ AppError::Invalid(_)) => {
            let d = s.app.audit_detail(&v.ctx(), id).await?;
            let errs = FormErrors::of(v, form, &e, fields);
            let page = page_of(&d, errs);
            render_status(page.errs.status(), &page)
        }
        Err(e) => Err(WebError(e)),
    }
}

const FINDING_FIELDS: &[(&str, &str)] = &[
    ("severity", "internal_audit.severity"),
    ("description", "internal_audit.finding.description"),
    ("rule", "internal_audit.finding.rule"),
];

pub async fn record_finding(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> WebResult {
    v.full()?;
    let p = Pairs(pairs);
    let f = FindingEcho {
        severity: p.get("severity").into(),
        description: p.get("description").into(),
        rule: p.get("rule").into(),
    };
    let input = FindingInput {
        severity: f.severity.clone(),
        description: f.description.clone(),
        rule: f.rule.clone(),
    };
    let r = s.app.record_finding(&v.ctx(), id, &input).await.map(|_| ());
    let page_of = |d: &AuditDetail, errs| {
        audit_page(&v, d, f, ActionEcho::default(), DoneEcho::default(), errs)
    };
    after(
        &s,
        &v,
        id,
        r,
        "findings",
        page_of,
        ("finding", FINDING_FIELDS),
    )
    .await
}

const DONE_FIELDS: &[(&str, &str)] = &[
    ("done_on", "internal_audit.done_on"),
    ("summary", "internal_audit.summary"),
];

pub async fn finish(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> WebResult {
    v.full()?;
    let p = Pairs(pairs);
    let f = DoneEcho {
        done_on: p.get("done_on").into(),
        summary: p.get("summary").into(),
    };
    let input = AuditDoneInput {
        done_on: f.done_on.clone(),
        summary: f.summary.clone(),
    };
    let r = s.app.finish_audit(&v.ctx(), id, &input).await;
    let page_of = |d: &AuditDetail, errs| {
        audit_page(
            &v,
            d,
            FindingEcho::default(),
            ActionEcho::default(),
            f,
            errs,
        )
    };
    after(&s, &v, id, r, "summary", page_of, ("done", DONE_FIELDS)).await
}

const ACTION_FIELDS: &[(&str, &str)] = &[
    ("finding_id", "internal_audit.action.finding"),
    ("description", "internal_audit.action.description"),
    ("owner_id", "internal_audit.action.owner"),
    ("due_on", "internal_audit.action.due_on"),
];

pub async fn add_action(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> WebResult {
    v.full()?;
    let p = Pairs(pairs);
    let f = ActionEcho {
        finding_id: p.id("finding_id").unwrap_or(0),
        description: p.get("description").into(),
        owner_id: p.id("owner_id").unwrap_or(0),
        due_on: p.get("due_on").into(),
    };
    let input = ActionInput {
        finding_id: f.finding_id,
        description: f.description.clone(),
        owner_id: f.owner_id,
        due_on: f.due_on.clone(),
    };
    let r = s
        .app
        .add_corrective_action(&v.ctx(), id, &input)
        .await
        .map(|_| ());
    let page_of = |d: &AuditDetail, errs| {
        audit_page(&v, d, FindingEcho::default(), f, DoneEcho::default(), errs)
    };
    after(
        &s,
        &v,
        id,
        r,
        "findings",
        page_of,
        ("action", ACTION_FIELDS),
    )
    .await
}

pub async fn update_action(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Path(action_id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> WebResult {
    v.full()?;
    let ctx = v.ctx();
    let p = Pairs(pairs);
    let input = ActionChange {
        status: p.get("status").into(),
        note: p.get("note").into(),
    };
    match s
        .app
        .update_corrective_action(&ctx, action_id, &input)
        .await
    {
        Ok(audit) => Ok(Redirect::to(&format!(
            "/programme/audits/{audit}?saved=1#action-{action_id}"
        ))
        .into_response()),
        Err(e @ AppError::Invalid(_)) => {
            let Some(audit) = p.id("audit") else {
                return Err(WebError(e));
            };
            let d = s.app.audit_detail(&ctx, audit).await?;
            // A button in a list: its problem goes in the banner.
            let errs = FormErrors::of(&v, "action_row", &e, &[]);
            let page = audit_page(
                &v,
                &d,
                FindingEcho::default(),
                ActionEcho::default(),
                DoneEcho::default(),
                errs,
            );
            render_status(page.errs.status(), &page)
        }
        Err(e) => Err(WebError(e)),
    }
}

/// The person's corrective actions and audits to conduct, as tasks on the hub.
pub async fn hub_tasks(s: &WebState, v: &Visitor, tasks: &mut Vec<super::programme::TaskLine>) {
    let t = v.tr();
    let Ok(mine) = s.app.my_audit_tasks(&v.ctx()).await else {
        return;
    };
    for a in mine {
        let what = if a.kind == "audit" {
            t.fill("internal_audit.task.audit", "department", &a.what)
        } else {
            format!("{}: {}", t.get("internal_audit.task.action"), a.what)
        };
        tasks.push(super::programme::TaskLine {
            href: format!("/programme/audits/{}", a.audit_id),
            what,
            due: t.fill("internal_audit.task.due", "date", &a.due),
            overdue: a.overdue,
        });
    }
}
