//! Take-outs (持ち出し, issue 17 part 4): the request form (one column, for a phone), the list
//! with its filters (open, overdue, waiting, returned), the department head's approval queue,
//! and one take-out with the decision, the withdrawal and the return or destruction.

use super::devices::{kind_label, Opt};
use super::{jst, render, render_status, Chrome};
use crate::error::{WebError, WebResult};
use crate::form::FormErrors;
use crate::visitor::Visitor;
use crate::WebState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect};
use axum::{Extension, Form};
use mamori_app::takeouts::{Show, TakeoutInput, TakeoutLine};
use mamori_app::AppError;
use mamori_domain::incident::jst_date;
use serde::Deserialize;

/// One take-out in a list.
pub struct Line {
    pub id: i64,
    pub requester: String,
    pub department: String,
    pub dataset: String,
    pub carrier: String,
    pub until: String,
    pub status: String,
    pub status_code: &'static str,
    pub overdue: String,
    pub requested: String,
}

fn status_label(v: &Visitor, code: &str) -> String {
    v.tr().get(&format!("takeouts.status.{code}")).to_owned()
}

pub fn line_of(v: &Visitor, l: &TakeoutLine) -> Line {
    let t = v.tr();
    Line {
        id: l.row.id,
        requester: l.requester.clone(),
        department: l.department.clone(),
        dataset: l.dataset.clone(),
        carrier: l
            .device
            .as_ref()
            .map_or_else(|| t.get("takeouts.paper").to_owned(), |d| d.1.clone()),
        until: l.row.until_on.clone(),
        status: status_label(v, l.status.code()),
        status_code: l.status.code(),
        overdue: if l.overdue_days > 0 {
            t.fill("devices.overdue_days", "n", &l.overdue_days.to_string())
        } else {
            String::new()
        },
        requested: l.row.requested_on.clone(),
    }
}

// ───────────────────────────── the list ─────────────────────────────

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    show: String,
    #[serde(default)]
    department: String,
}

#[derive(Template)]
#[template(path = "takeouts.html")]
pub struct ListPage {
    pub c: Chrome,
    pub lines: Vec<Line>,
    pub shows: Vec<Opt>,
    pub departments: Vec<Opt>,
    pub sees_others: bool,
    pub can_approve: bool,
}

pub async fn list(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Query(q): Query<ListQuery>,
) -> WebResult {
    v.full()?;
    let show = Show::parse(&q.show);
    let department = q.department.trim().parse().ok();
    let l = s.app.takeouts(&v.ctx(), show, department).await?;
    let t = v.tr();
    let shows = [
        Show::Open,
        Show::Overdue,
        Show::Pending,
        Show::Closed,
        Show::All,
    ]
    .iter()
    .map(|x| Opt {
        value: x.code().to_owned(),
        label: t.get(&format!("takeouts.show.{}", x.code())).to_owned(),
        selected: *x == show,
    })
    .collect();
    let mut departments = vec![Opt {
        value: String::new(),
        label: t.get("devices.all").to_owned(),
        selected: department.is_none(),
    }];
    departments.extend(l.departments.iter().map(|(id, n)| Opt {
        value: id.to_string(),
        label: n.clone(),
        selected: Some(*id) == department,
    }));
    render(&ListPage {
        c: Chrome::new(&v, "takeouts.title"),
        lines: l.lines.iter().map(|x| line_of(&v, x)).collect(),
        shows,
        departments,
        sees_others: l.sees_others,
        can_approve: l.can_approve,
    })
}

#[derive(Template)]
#[template(path = "takeout_queue.html")]
pub struct QueuePage {
    pub c: Chrome,
    pub lines: Vec<Line>,
}

pub async fn queue(State(s): State<WebState>, Extension(v): Extension<Visitor>) -> WebResult {
    v.full()?;
    let lines = s.app.approval_queue(&v.ctx()).await?;
    render(&QueuePage {
        c: Chrome::new(&v, "takeouts.queue"),
        lines: lines.iter().map(|x| line_of(&v, x)).collect(),
    })
}

// ───────────────────────────── the request ─────────────────────────────

#[derive(Debug, Default, Deserialize)]
pub struct RequestForm {
    #[serde(default)]
    dataset_id: String,
    #[serde(default)]
    carrier: String,
    #[serde(default)]
    purpose: String,
    #[serde(default)]
    until: String,
}

const REQUEST_FIELDS: &[(&str, &str)] = &[
    ("dataset_id", "takeouts.dataset"),
    ("carrier", "takeouts.carrier"),
    ("purpose", "takeouts.purpose"),
    ("until", "takeouts.until"),
];

#[derive(Template)]
#[template(path = "takeout_new.html")]
pub struct NewPage {
    pub c: Chrome,
    pub errs: FormErrors,
    pub datasets: Vec<Opt>,
    pub carriers: Vec<Opt>,
    pub f: RequestForm,
    pub today: String,
}

async fn new_form(s: &WebState, v: &Visitor, f: RequestForm, errs: FormErrors) -> WebResult {
    let ch = s.app.takeout_choices(&v.ctx()).await?;
    let t = v.tr();
    let mut datasets = vec![Opt {
        value: String::new(),
        label: t.get("takeouts.choose").to_owned(),
        selected: f.dataset_id.is_empty(),
    }];
    datasets.extend(ch.datasets.iter().map(|(id, n)| Opt {
        value: id.to_string(),
        label: n.clone(),
        selected: id.to_string() == f.dataset_id,
    }));
    let mut carriers = vec![Opt {
        value: "paper".into(),
        label: t.get("takeouts.paper").to_owned(),
        selected: f.carrier == "paper",
    }];
    carriers.extend(ch.devices.iter().map(|(id, tag, kind, model)| Opt {
        value: id.to_string(),
        label: format!("{tag} {} {model}", kind_label(v, kind)),
        selected: id.to_string() == f.carrier,
    }));
    let page = NewPage {
        c: Chrome::new(v, "takeouts.new"),
        errs,
        datasets,
        carriers,
        today: jst_date(s.app.clock.now_micros()).to_string(),
        f,
    };
    render_status(page.errs.status(), &page)
}

pub async fn new_page(State(s): State<WebState>, Extension(v): Extension<Visitor>) -> WebResult {
    v.full()?;
    new_form(&s, &v, RequestForm::default(), FormErrors::none("takeout")).await
}

pub async fn create(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Form(f): Form<RequestForm>,
) -> WebResult {
    v.full()?;
    let input = TakeoutInput {
        dataset_id: f.dataset_id.trim().parse().unwrap_or(0),
        carrier: f.carrier.clone(),
        purpose: f.purpose.clone(),
        until: f.until.clone(),
    };
    match s.app.request_takeout(&v.ctx(), &input).await {
        Ok(id) => Ok(Redirect::to(&format!("/programme/takeouts/{id}?sent=1")).into_response()),
        Err(e @ AppError::Invalid(_)) => {
            let errs = FormErrors::of(&v, "takeout", &e, REQUEST_FIELDS);
            new_form(&s, &v, f, errs).await
        }
        Err(e) => Err(WebError(e)),
    }
}

// ───────────────────────────── one take-out ─────────────────────────────

#[derive(Default)]
pub struct Echo {
    pub reason: String,
    pub evidence: String,
    pub on: String,
    pub note: String,
}

#[derive(Template)]
#[template(path = "takeout.html")]
pub struct ShowPage {
    pub c: Chrome,
    pub errs: FormErrors,
    pub l: Line,
    pub purpose: String,
    pub decided: String,
    pub decided_by: String,
    pub reason: String,
    pub evidence: String,
    pub evidence_on: String,
    pub evidence_note: String,
    pub can_decide: bool,
    pub own_request: bool,
    pub can_close: bool,
    pub can_withdraw: bool,
    pub f: Echo,
    pub today: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct ShowQuery {
    #[serde(default)]
    sent: Option<String>,
    #[serde(default)]
    done: Option<String>,
}

async fn show_page(
    s: &WebState,
    v: &Visitor,
    id: i64,
    errs: FormErrors,
    f: Echo,
    flash: Option<String>,
) -> WebResult {
    let view = s.app.takeout(&v.ctx(), id).await?;
    let r = &view.line.row;
    let t = v.tr();
    let mut c = Chrome::new(v, "takeouts.one").with_flash(flash);
    c.title = format!("{} · {}", view.line.dataset, c.title);
    let page = ShowPage {
        c,
        errs,
        purpose: r.purpose.clone(),
        decided: r
            .decided_at
            .map(|d| jst(d)[..16].to_owned())
            .unwrap_or_default(),
        decided_by: view.line.decided_by.clone(),
        reason: r.decision_reason.clone(),
        evidence: r
            .evidence
            .as_deref()
            .map(|e| t.get(&format!("takeouts.evidence.{e}")).to_owned())
            .unwrap_or_default(),
        evidence_on: r.evidence_on.clone().unwrap_or_default(),
        evidence_note: r.evidence_note.clone(),
        can_decide: view.can_decide,
        own_request: view.own_request,
        can_close: view.can_close,
        can_withdraw: view.can_withdraw,
        l: line_of(v, &view.line),
        f: Echo {
            on: if f.on.is_empty() {
                jst_date(s.app.clock.now_micros()).to_string()
            } else {
                f.on
            },
            ..f
        },
        today: jst_date(s.app.clock.now_micros()).to_string(),
    };
    render_status(page.errs.status(), &page)
}

pub async fn show(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Path(id): Path<i64>,
    Query(q): Query<ShowQuery>,
) -> WebResult {
    v.full()?;
    let t = v.tr();
    let flash = if q.sent.is_some() {
        Some(t.get("takeouts.sent").to_owned())
    } else {
        q.done.as_deref().map(|d| {
            let key = match d {
                "approved" | "refused" | "closed" | "withdrawn" => d,
                _ => "saved",
            };
            t.get(&format!("takeouts.done.{key}")).to_owned()
        })
    };
    show_page(
        &s,
        &v,
        id,
        FormErrors::none("decide"),
        Echo {
            evidence: "returned".into(),
            ..Echo::default()
        },
        flash,
    )
    .await
}

#[derive(Debug, Default, Deserialize)]
pub struct DecideForm {
    #[serde(default)]
    decision: String,
    #[serde(default)]
    reason: String,
}

pub async fn decide(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Path(id): Path<i64>,
    Form(f): Form<DecideForm>,
) -> WebResult {
    v.full()?;
    let approve = f.decision == "approve";
    match s.app.decide_takeout(&v.ctx(), id, approve, &f.reason).await {
        Ok(()) => Ok(Redirect::to(&format!(
            "/programme/takeouts/{id}?done={}",
            if approve { "approved" } else { "refused" }
        ))
        .into_response()),
        Err(e @ AppError::Invalid(_)) => {
            let errs = FormErrors::of(&v, "decide", &e, &[("reason", "takeouts.reason")]);
            let echo = Echo {
                reason: f.reason,
                evidence: "returned".into(),
                ..Echo::default()
            };
            show_page(&s, &v, id, errs, echo, None).await
        }
        Err(e) => Err(WebError(e)),
    }
}

pub async fn withdraw(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Path(id): Path<i64>,
) -> WebResult {
    v.full()?;
    match s.app.withdraw_takeout(&v.ctx(), id).await {
        Ok(()) => {
            Ok(Redirect::to(&format!("/programme/takeouts/{id}?done=withdrawn")).into_response())
        }
        Err(e @ AppError::Invalid(_)) => {
            let errs = FormErrors::of(&v, "decide", &e, &[]);
            show_page(&s, &v, id, errs, Echo::default(), None).await
        }
        Err(e) => Err(WebError(e)),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct EvidenceForm {
    #[serde(default)]
    evidence: String,
    #[serde(default)]
    on: String,
    #[serde(default)]
    note: String,
}

const EVIDENCE_FIELDS: &[(&str, &str)] = &[
    ("evidence", "takeouts.evidence"),
    ("on", "takeouts.evidence_on"),
    ("note", "takeouts.evidence_note"),
];

pub async fn evidence(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Path(id): Path<i64>,
    Form(f): Form<EvidenceForm>,
) -> WebResult {
    v.full()?;
    match s
        .app
        .close_takeout(&v.ctx(), id, &f.evidence, &f.on, &f.note)
        .await
    {
        Ok(()) => {
            Ok(Redirect::to(&format!("/programme/takeouts/{id}?done=closed")).into_response())
        }
        Err(e @ AppError::Invalid(_)) => {
            let errs = FormErrors::of(&v, "evidence", &e, EVIDENCE_FIELDS);
            let echo = Echo {
                evidence: f.evidence,
                on: f.on,
                note: f.note,
                reason: String::new(),
            };
            show_page(&s, &v, id, errs, echo, None).await
        }
        Err(e) => Err(WebError(e)),
    }
}

// ───────────────────────────── the hub ─────────────────────────────

/// Parts 3 and 4 on the hub `/programme`: the person's take-outs to return or destroy, the
/// devices they must give back, the requests waiting for their decision; the cards of the
/// register, the take-outs and the request form.
pub async fn hub_part(
    s: &WebState,
    v: &Visitor,
    scope: &mamori_app::programme::ProgrammeScope,
    tasks: &mut Vec<super::programme::TaskLine>,
    cards: &mut Vec<super::programme::Card>,
) -> Result<(), WebError> {
    use super::programme::{card, TaskLine};
    use mamori_domain::role::Permission;
    let ctx = v.ctx();
    let t = v.tr();
    let (mine, waiting) = s.app.my_takeout_tasks(&ctx).await?;
    for l in &mine {
        tasks.push(TaskLine {
            href: format!("/programme/takeouts/{}#evidence", l.row.id),
            what: t.fill("takeouts.task.return", "what", &l.dataset),
            due: t.fill("takeouts.task.until", "day", &l.row.until_on),
            overdue: l.overdue_days > 0,
        });
    }
    if waiting > 0 {
        tasks.push(TaskLine {
            href: "/programme/takeouts/queue".into(),
            what: t.fill("takeouts.task.decide", "n", &waiting.to_string()),
            due: String::new(),
            overdue: false,
        });
    }
    for (id, tag, due, late) in s.app.my_loans(&ctx).await? {
        tasks.push(TaskLine {
            href: format!("/programme/devices/{id}"),
            what: t.fill("devices.task.return", "tag", &tag),
            due: t.fill("takeouts.task.until", "day", &due),
            overdue: late > 0,
        });
    }
    cards.push(card(v, "/programme/takeouts/new", "takeouts.new"));
    cards.push(card(v, "/programme/takeouts", "takeouts.title"));
    if ctx.allows(Permission::ViewProgramme) && scope.sees_figures() {
        cards.push(card(v, "/programme/devices", "devices.title"));
    }
    Ok(())
}
