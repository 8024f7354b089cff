//! Contractors (委託先, issue 17 part 5): the register with each contractor's checklist
//! summary and next review, one contractor (its checklist with evidence and history, its
//! reviews, the ledger entries it handles, the incidents that name it, the register form), and
//! the small form on the incident page that names the contractor involved.

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
use mamori_app::contractors::{
    CheckInput, ContractorDetail, ContractorInput, ContractorsOverview, ReviewInput,
};
use mamori_app::AppError;
use mamori_domain::programme::contractors::{CheckGroup, CheckItem, CheckStatus, ReviewResult};
use serde::Deserialize;

fn when(micros: i64) -> String {
    jst(micros).chars().take(16).collect()
}

fn id_opts(list: &[(i64, String)], chosen: &[i64]) -> Vec<Opt> {
    list.iter()
        .map(|(id, name)| Opt {
            code: id.to_string(),
            label: name.clone(),
            selected: chosen.contains(id),
        })
        .collect()
}

fn item_label(v: &Visitor, item: CheckItem) -> String {
    v.tr()
        .get(&format!("contractor.item.{}", item.code()))
        .to_owned()
}

fn status_label(v: &Visitor, code: &str) -> String {
    v.tr().get(&format!("contractor.status.{code}")).to_owned()
}

fn result_label(v: &Visitor, code: &str) -> String {
    v.tr().get(&format!("contractor.result.{code}")).to_owned()
}

/// The register form as typed.
#[derive(Debug, Clone, Default)]
pub struct ContractorEcho {
    pub name: String,
    pub address: String,
    pub contact_person: String,
    pub contact: String,
    pub work: String,
    pub department_id: i64,
    pub interval_months: String,
    pub next_review_on: String,
    pub datasets: Vec<i64>,
    pub version: i64,
}

impl ContractorEcho {
    fn of(p: &Pairs) -> Self {
        ContractorEcho {
            name: p.get("name").into(),
            address: p.get("address").into(),
            contact_person: p.get("contact_person").into(),
            contact: p.get("contact").into(),
            work: p.get("work").into(),
            department_id: p.id("department_id").unwrap_or(0),
            interval_months: p.get("interval_months").into(),
            next_review_on: p.get("next_review_on").into(),
            datasets: p
                .all("datasets")
                .iter()
                .filter_map(|d| d.trim().parse().ok())
                .collect(),
            version: p.id("version").unwrap_or(0),
        }
    }

    fn input(&self) -> ContractorInput {
        ContractorInput {
            name: self.name.clone(),
            address: self.address.clone(),
            contact_person: self.contact_person.clone(),
            contact: self.contact.clone(),
            work: self.work.clone(),
            department_id: self.department_id,
            interval_months: self.interval_months.clone(),
            next_review_on: self.next_review_on.clone(),
            datasets: self.datasets.clone(),
            version: self.version,
        }
    }
}

const CONTRACTOR_FIELDS: &[(&str, &str)] = &[
    ("name", "contractor.name"),
    ("address", "contractor.address"),
    ("contact_person", "contractor.contact_person"),
    ("contact", "contractor.contact"),
    ("work", "contractor.work"),
    ("department_id", "contractor.department"),
    ("interval_months", "contractor.interval"),
    ("next_review_on", "contractor.next_review"),
    ("datasets", "contractor.datasets"),
];

// ───────────────────────────── the register ─────────────────────────────

pub struct Line {
    pub id: i64,
    pub name: String,
    pub department: String,
    pub work: String,
    pub checklist: String,
    pub not_met: usize,
    pub next_review: String,
    pub overdue: bool,
    pub datasets: usize,
}

#[derive(Template)]
#[template(path = "contractors.html")]
pub struct ListPage {
    pub c: Chrome,
    pub errs: FormErrors,
    pub lines: Vec<Line>,
    pub can_create: bool,
    pub departments: Vec<Opt>,
    pub dataset_opts: Vec<Opt>,
    pub f: ContractorEcho,
    pub action: String,
}

fn checklist_text(v: &Visitor, met: usize, not_met: usize, unchecked: usize) -> String {
    v.tr()
        .get("contractor.checklist.counts")
        .replace("{met}", &met.to_string())
        .replace("{not_met}", &not_met.to_string())
        .replace("{unchecked}", &unchecked.to_string())
}

fn list_page(
    v: &Visitor,
    o: &ContractorsOverview,
    f: ContractorEcho,
    errs: FormErrors,
) -> ListPage {
    let chosen = if f.department_id > 0 {
        f.department_id
    } else {
        o.departments.first().map_or(0, |d| d.0)
    };
    ListPage {
        c: Chrome::new(v, "contractor.title"),
        errs,
        lines: o
            .lines
            .iter()
            .map(|l| Line {
                id: l.row.id,
                name: l.row.name.clone(),
                department: l.department.clone(),
                work: l.row.work.clone(),
                checklist: checklist_text(v, l.summary.met, l.summary.not_met, l.summary.unchecked),
                not_met: l.summary.not_met,
                next_review: l.row.next_review_on.clone(),
                overdue: l.review_overdue,
                datasets: l.datasets,
            })
            .collect(),
        can_create: o.can_create,
        departments: id_opts(&o.departments, &[chosen]),
        dataset_opts: id_opts(&o.datasets, &f.datasets),
        f,
        action: "/programme/contractors".into(),
    }
}

pub async fn list(State(s): State<WebState>, Extension(v): Extension<Visitor>) -> WebResult {
    v.full()?;
    let o = s.app.contractors_overview(&v.ctx()).await?;
    let f = ContractorEcho {
        interval_months: "12".into(),
        ..ContractorEcho::default()
    };
    render(&list_page(&v, &o, f, FormErrors::none("contractor")))
}

pub async fn create(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> WebResult {
    v.full()?;
    let ctx = v.ctx();
    let f = ContractorEcho::of(&Pairs(pairs));
    match s.app.create_contractor(&ctx, &f.input()).await {
        Ok(id) => Ok(Redirect::to(&format!("/programme/contractors/{id}?saved=1")).into_response()),
        Err(e @ AppError::Invalid(_)) => {
            let o = s.app.contractors_overview(&ctx).await?;
            let errs = FormErrors::of(&v, "contractor", &e, CONTRACTOR_FIELDS);
            render_status(errs.status(), &list_page(&v, &o, f, errs))
        }
        Err(e) => Err(WebError(e)),
    }
}

// ───────────────────────────── one contractor ─────────────────────────────

pub struct HistLine {
    pub status: String,
    pub status_code: &'static str,
    pub document: String,
    pub document_on: String,
    pub note: String,
    pub by: String,
    pub at: String,
}

pub struct CheckLine {
    pub code: &'static str,
    pub label: String,
    pub group: String,
    pub current: HistLine,
    pub recorded: bool,
    pub history: Vec<HistLine>,
}

pub struct ReviewLine {
    pub reviewed_on: String,
    pub result: String,
    pub note: String,
    pub next: String,
    pub by: String,
}

pub struct IncidentLine {
    pub id: i64,
    pub ref_no: String,
    pub title: String,
    pub status: String,
    pub drill: bool,
    pub filed: String,
}

#[derive(Debug, Clone, Default)]
pub struct CheckEcho {
    pub item: String,
    pub status: String,
    pub document: String,
    pub document_on: String,
    pub note: String,
}

#[derive(Debug, Clone, Default)]
pub struct ReviewEcho {
    pub reviewed_on: String,
    pub result: String,
    pub note: String,
}

#[derive(Template)]
#[template(path = "contractor.html")]
pub struct DetailPage {
    pub c: Chrome,
    pub errs: FormErrors,
    pub id: i64,
    pub name: String,
    pub facts: Vec<(String, String)>,
    pub next_review: String,
    pub overdue: bool,
    pub checklist: String,
    pub checks: Vec<CheckLine>,
    pub reviews: Vec<ReviewLine>,
    pub datasets: Vec<(i64, String)>,
    pub incidents: Vec<IncidentLine>,
    pub can_edit: bool,
    pub can_record: bool,
    pub f: ContractorEcho,
    pub departments: Vec<Opt>,
    pub dataset_opts: Vec<Opt>,
    pub action: String,
    pub check: CheckEcho,
    pub items: Vec<Opt>,
    pub statuses: Vec<Opt>,
    pub review: ReviewEcho,
    pub results: Vec<Opt>,
}

fn hist(v: &Visitor, r: &mamori_store::contractors::CheckRow) -> HistLine {
    HistLine {
        status: status_label(v, &r.status),
        status_code: CheckStatus::parse(&r.status).map_or("unchecked", CheckStatus::code),
        document: r.document.clone(),
        document_on: r.document_on.clone().unwrap_or_default(),
        note: r.note.clone(),
        by: r.by_name.clone(),
        at: when(r.at),
    }
}

fn code_opts(codes: &[(&'static str, String)], chosen: &str) -> Vec<Opt> {
    codes
        .iter()
        .map(|(code, label)| Opt {
            code: (*code).to_owned(),
            label: label.clone(),
            selected: *code == chosen,
        })
        .collect()
}

fn detail_page(
    v: &Visitor,
    d: &ContractorDetail,
    f: Option<ContractorEcho>,
    check: CheckEcho,
    review: ReviewEcho,
    errs: FormErrors,
) -> DetailPage {
    let t = v.tr();
    let r = &d.row;
    let f = f.unwrap_or_else(|| ContractorEcho {
        name: r.name.clone(),
        address: r.address.clone(),
        contact_person: r.contact_person.clone(),
        contact: r.contact.clone(),
        work: r.work.clone(),
        department_id: r.department_id,
        interval_months: r.interval_months.to_string(),
        next_review_on: r.next_review_on.clone(),
        datasets: d.datasets.iter().map(|(id, _)| *id).collect(),
        version: r.version,
    });
    let dash = |s: &str| {
        if s.is_empty() {
            "-".to_owned()
        } else {
            s.to_owned()
        }
    };
    let facts = vec![
        (
            t.get("contractor.department").to_owned(),
            d.department.clone(),
        ),
        (t.get("contractor.work").to_owned(), r.work.clone()),
        (t.get("contractor.address").to_owned(), dash(&r.address)),
        (
            t.get("contractor.contact_person").to_owned(),
            dash(&r.contact_person),
        ),
        (t.get("contractor.contact").to_owned(), dash(&r.contact)),
        (
            t.get("contractor.interval").to_owned(),
            t.fill(
                "contractor.interval.value",
                "n",
                &r.interval_months.to_string(),
            ),
        ),
    ];
    let checks = d
        .checks
        .iter()
        .map(|c| CheckLine {
            code: c.item.code(),
            label: item_label(v, c.item),
            group: t
                .get(match c.item.group() {
                    CheckGroup::Selection => "contractor.group.selection",
                    CheckGroup::Clause => "contractor.group.clause",
                })
                .to_owned(),
            current: c.current.as_ref().map_or_else(
                || HistLine {
                    status: status_label(v, "unchecked"),
                    status_code: "unchecked",
                    document: String::new(),
                    document_on: String::new(),
                    note: String::new(),
                    by: String::new(),
                    at: String::new(),
                },
                |r| hist(v, r),
            ),
            recorded: c.current.is_some(),
            history: c.history.iter().skip(1).map(|r| hist(v, r)).collect(),
        })
        .collect();
    let items: Vec<(&'static str, String)> = CheckItem::ALL
        .iter()
        .map(|i| (i.code(), item_label(v, *i)))
        .collect();
    let statuses: Vec<(&'static str, String)> = CheckStatus::ALL
        .iter()
        .map(|s| (s.code(), status_label(v, s.code())))
        .collect();
    let results: Vec<(&'static str, String)> = ReviewResult::ALL
        .iter()
        .map(|s| (s.code(), result_label(v, s.code())))
        .collect();
    DetailPage {
        c: Chrome::new(v, "contractor.title").with_error(errs.banner(&[
            "contractor",
            "check",
            "review",
        ])),
        id: r.id,
        name: r.name.clone(),
        facts,
        next_review: r.next_review_on.clone(),
        overdue: d.review_overdue,
        checklist: checklist_text(v, d.summary.met, d.summary.not_met, d.summary.unchecked),
        checks,
        reviews: d
            .reviews
            .iter()
            .map(|x| ReviewLine {
                reviewed_on: x.reviewed_on.clone(),
                result: result_label(v, &x.result),
                note: x.note.clone(),
                next: x.next_review_on.clone(),
                by: x.by_name.clone(),
            })
            .collect(),
        datasets: d.datasets.clone(),
        incidents: d
            .incidents
            .iter()
            .map(|i| IncidentLine {
                id: i.id,
                ref_no: i.ref_no.clone(),
                title: i.title.clone(),
                status: t.get(&format!("incident.status.{}", i.status)).to_owned(),
                drill: i.drill,
                filed: when(i.created_at),
            })
            .collect(),
        can_edit: d.can_edit,
        can_record: d.can_record,
        departments: id_opts(&d.departments, &[f.department_id]),
        dataset_opts: id_opts(&d.all_datasets, &f.datasets),
        action: format!("/programme/contractors/{}", r.id),
        f,
        items: code_opts(&items, &check.item),
        statuses: code_opts(
            &statuses,
            if check.status.is_empty() {
                "met"
            } else {
                &check.status
            },
        ),
        check,
        results: code_opts(
            &results,
            if review.result.is_empty() {
                "satisfactory"
            } else {
                &review.result
            },
        ),
        review,
        errs,
    }
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
    let d = s.app.contractor_detail(&v.ctx(), id).await?;
    let mut page = detail_page(
        &v,
        &d,
        None,
        CheckEcho::default(),
        ReviewEcho {
            reviewed_on: mamori_domain::incident::jst_date(chrono::Utc::now().timestamp_micros())
                .to_string(),
            ..ReviewEcho::default()
        },
        FormErrors::none("contractor"),
    );
    if q.saved.is_some() {
        page.c.flash = Some(v.tr().get("common.saved").to_owned());
    }
    render(&page)
}

pub async fn update(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> WebResult {
    v.full()?;
    let ctx = v.ctx();
    let f = ContractorEcho::of(&Pairs(pairs));
    match s.app.update_contractor(&ctx, id, &f.input()).await {
        Ok(()) => Ok(Redirect::to(&format!("/programme/contractors/{id}?saved=1")).into_response()),
        Err(e @ AppError::Invalid(_)) => {
            let d = s.app.contractor_detail(&ctx, id).await?;
            let errs = FormErrors::of(&v, "contractor", &e, CONTRACTOR_FIELDS);
            let page = detail_page(
                &v,
                &d,
                Some(f),
                CheckEcho::default(),
                ReviewEcho::default(),
                errs,
            );
            render_status(page.errs.status(), &page)
        }
        Err(e) => Err(WebError(e)),
    }
}

const CHECK_FIELDS: &[(&str, &str)] = &[
    ("item", "contractor.check.item"),
    ("status", "contractor.check.status"),
    ("document", "contractor.check.document"),
    ("document_on", "contractor.check.document_on"),
    ("note", "contractor.check.note"),
];

pub async fn record_check(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> WebResult {
    v.full()?;
    let ctx = v.ctx();
    let p = Pairs(pairs);
    let echo = CheckEcho {
        item: p.get("item").into(),
        status: p.get("status").into(),
        document: p.get("document").into(),
        document_on: p.get("document_on").into(),
        note: p.get("note").into(),
    };
    let input = CheckInput {
        item: echo.item.clone(),
        status: echo.status.clone(),
        document: echo.document.clone(),
        document_on: echo.document_on.clone(),
        note: echo.note.clone(),
    };
    match s.app.record_contractor_check(&ctx, id, &input).await {
        Ok(_) => Ok(
            Redirect::to(&format!("/programme/contractors/{id}?saved=1#checklist")).into_response(),
        ),
        Err(e @ AppError::Invalid(_)) => {
            let d = s.app.contractor_detail(&ctx, id).await?;
            let errs = FormErrors::of(&v, "check", &e, CHECK_FIELDS);
            let page = detail_page(&v, &d, None, echo, ReviewEcho::default(), errs);
            render_status(page.errs.status(), &page)
        }
        Err(e) => Err(WebError(e)),
    }
}

const REVIEW_FIELDS: &[(&str, &str)] = &[
    ("reviewed_on", "contractor.review.on"),
    ("result", "contractor.review.result"),
    ("note", "contractor.review.note"),
];

pub async fn record_review(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> WebResult {
    v.full()?;
    let ctx = v.ctx();
    let p = Pairs(pairs);
    let echo = ReviewEcho {
        reviewed_on: p.get("reviewed_on").into(),
        result: p.get("result").into(),
        note: p.get("note").into(),
    };
    let input = ReviewInput {
        reviewed_on: echo.reviewed_on.clone(),
        result: echo.result.clone(),
        note: echo.note.clone(),
    };
    match s.app.record_contractor_review(&ctx, id, &input).await {
        Ok(_) => Ok(
            Redirect::to(&format!("/programme/contractors/{id}?saved=1#reviews")).into_response(),
        ),
        Err(e @ AppError::Invalid(_)) => {
            let d = s.app.contractor_detail(&ctx, id).await?;
            let errs = FormErrors::of(&v, "review", &e, REVIEW_FIELDS);
            let page = detail_page(&v, &d, None, CheckEcho::default(), echo, errs);
            render_status(page.errs.status(), &page)
        }
        Err(e) => Err(WebError(e)),
    }
}

// ───────────────────────────── the incident page ─────────────────────────────

/// The contractor an incident names, for `contractor_incident.html` on the incident page.
#[derive(Default)]
pub struct IncidentContractorView {
    /// Whether the block is shown at all (the incident page of somebody who may not see the
    /// register shows it only when a contractor is named).
    pub shown: bool,
    pub current: Option<(i64, String)>,
    pub can_set: bool,
    pub options: Vec<Opt>,
    /// The current contractor's page is open to the visitor.
    pub linked: bool,
}

/// What the incident page shows of its contractor (nothing when it cannot be read).
pub async fn incident_view(s: &WebState, v: &Visitor, incident_id: i64) -> IncidentContractorView {
    let ctx = v.ctx();
    let Ok(c) = s.app.incident_contractor(&ctx, incident_id).await else {
        return IncidentContractorView::default();
    };
    let chosen: Vec<i64> = c.current.iter().map(|(id, _)| *id).collect();
    IncidentContractorView {
        shown: c.can_set || c.current.is_some(),
        linked: ctx.allows(mamori_domain::role::Permission::ViewProgramme),
        options: id_opts(&c.options, &chosen),
        can_set: c.can_set,
        current: c.current,
    }
}

pub async fn set_for_incident(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> WebResult {
    v.full()?;
    let p = Pairs(pairs);
    let chosen = p.get("contractor_id").trim();
    let r = if chosen.is_empty() {
        s.app.set_incident_contractor(&v.ctx(), id, None).await
    } else {
        match chosen.parse::<i64>() {
            Ok(c) => s.app.set_incident_contractor(&v.ctx(), id, Some(c)).await,
            Err(_) => Err(AppError::invalid(
                "contractor_id",
                "委託先を一覧から選んでください",
                "choose the contractor from the list",
            )),
        }
    };
    super::incidents::after(&s, &v, id, r, "contractor", super::incidents::Sent::row()).await
}
