//! The contact desk's screen (issue 15): log a call in one keystroke, see the matching FAQ
//! entries while typing, find the caller among the vault's and the incident's persons,
//! escalate, and get the privacy office's reply back; the inquiry's own page with its mail
//! thread; the privacy office's replies to escalations.
//!
//! The form works as a plain form; `static/desk.js` makes it keyboard-first without page
//! reloads (Ctrl+Enter saves, the JSON answer updates the lists). Questions and searches are
//! sent in POST bodies, never in a URL.

use crate::error::{WebError, WebResult};
use crate::form::FormErrors;
use crate::pages::incidents::Pairs;
use crate::pages::{jst, render, render_status, Chrome};
use crate::visitor::Visitor;
use crate::WebState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form, Json};
use mamori_app::desk::{Caller, DeskIncident, InquiryInput, InquiryView, PersonLink};
use mamori_app::AppError;
use mamori_domain::desk::{CallerType, Category, InquiryChannel, Status};
use mamori_domain::lang::Lang;
use mamori_domain::role::Permission;
use serde::Deserialize;
use serde_json::json;

/// The fields of the inquiry form, in order, with their labels.
const FIELDS: &[(&str, &str)] = &[
    ("incident", "desk.incident"),
    ("channel", "desk.channel"),
    ("caller_type", "desk.caller_type"),
    ("category", "desk.category"),
    ("caller_name", "desk.caller_name"),
    ("caller_contact", "desk.caller_contact"),
    ("person", "desk.person"),
    ("question", "desk.question"),
    ("answer", "desk.answer"),
    ("outcome", "desk.outcome"),
    ("escalation", "desk.escalation"),
    ("status", "desk.status"),
];

/// An option of a select or a radio group.
pub struct Opt {
    pub code: &'static str,
    pub label: &'static str,
    pub chosen: bool,
}

fn opts<T: Copy + PartialEq>(
    all: &[T],
    chosen: &str,
    code: fn(T) -> &'static str,
    label: fn(T, Lang) -> &'static str,
    lang: Lang,
) -> Vec<Opt> {
    all.iter()
        .map(|x| Opt {
            code: code(*x),
            label: label(*x, lang),
            chosen: code(*x) == chosen,
        })
        .collect()
}

/// What the form holds (as typed, when shown again).
#[derive(Default, Clone)]
pub struct Typed {
    pub incident: i64,
    pub channel: String,
    pub caller_type: String,
    pub category: String,
    pub caller_name: String,
    pub caller_contact: String,
    pub person: String,
    pub question: String,
    pub answer: String,
    pub outcome: String,
    pub escalation: String,
}

/// One line of an inquiry list.
pub struct Row {
    pub id: i64,
    pub at: String,
    pub channel: &'static str,
    pub category: &'static str,
    pub status: &'static str,
    pub status_code: &'static str,
    pub question: String,
    pub reply: Option<String>,
    pub incident: String,
}

fn short(s: &str, n: usize) -> String {
    let one: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if one.chars().count() > n {
        let mut c: String = one.chars().take(n).collect();
        c.push('…');
        c
    } else {
        one
    }
}

fn row(v: &InquiryView, lang: Lang, incidents: &[DeskIncident]) -> Row {
    Row {
        id: v.id,
        at: jst(v.created_at).chars().skip(5).take(11).collect(),
        channel: v.channel.label(lang),
        category: v.category.label(lang),
        status: v.status.label(lang),
        status_code: v.status.code(),
        question: short(&v.question, 60),
        reply: v.reply.as_deref().map(|r| short(r, 200)),
        incident: incidents
            .iter()
            .find(|i| i.id == v.incident_id)
            .map_or_else(String::new, |i| i.ref_no.clone()),
    }
}

#[derive(Template)]
#[template(path = "desk.html")]
pub struct DeskPage {
    pub c: Chrome,
    pub incidents: Vec<DeskIncident>,
    pub typed: Typed,
    pub channels: Vec<Opt>,
    pub callers: Vec<Opt>,
    pub categories: Vec<Opt>,
    pub errs: FormErrors,
    pub replied: Vec<Row>,
    pub escalated: Vec<Row>,
    pub recent: Vec<Row>,
    pub may_reply: bool,
    pub open: i64,
}

#[derive(Deserialize)]
pub struct DeskQuery {
    pub saved: Option<i64>,
    pub incident: Option<i64>,
}

async fn desk_page(
    s: &WebState,
    v: &Visitor,
    typed: Typed,
    errs: FormErrors,
    flash: Option<String>,
) -> Result<DeskPage, AppError> {
    let ctx = v.ctx();
    let lang = v.lang;
    let incidents = s.app.desk_incidents(&ctx).await?;
    let mut typed = typed;
    if typed.incident == 0 {
        typed.incident = incidents.first().map_or(0, |i| i.id);
    }
    if typed.channel.is_empty() {
        typed.channel = "phone".into();
    }
    if typed.caller_type.is_empty() {
        typed.caller_type = "customer".into();
    }
    if typed.outcome.is_empty() {
        typed.outcome = "close".into();
    }
    let replied = s
        .app
        .inquiries(&ctx, None, &[Status::Replied], true, None, 50)
        .await?;
    let may_reply = ctx.allows(Permission::ManageIncidents);
    let escalated = if may_reply {
        s.app
            .inquiries(&ctx, None, &[Status::Escalated], false, None, 50)
            .await?
    } else {
        s.app
            .inquiries(&ctx, None, &[Status::Escalated], true, None, 50)
            .await?
    };
    let recent = s.app.inquiries(&ctx, None, &[], true, None, 20).await?;
    let open = s.app.escalations_waiting(&ctx).await?;
    let c = Chrome::new(v, "desk.title").with_flash(flash);
    Ok(DeskPage {
        channels: opts(
            InquiryChannel::ALL,
            &typed.channel,
            InquiryChannel::code,
            InquiryChannel::label,
            lang,
        ),
        callers: opts(
            CallerType::ALL,
            &typed.caller_type,
            CallerType::code,
            CallerType::label,
            lang,
        ),
        categories: opts(
            Category::ALL,
            &typed.category,
            Category::code,
            Category::label,
            lang,
        ),
        replied: replied.iter().map(|r| row(r, lang, &incidents)).collect(),
        escalated: escalated.iter().map(|r| row(r, lang, &incidents)).collect(),
        recent: recent.iter().map(|r| row(r, lang, &incidents)).collect(),
        c,
        incidents,
        typed,
        errs,
        may_reply,
        open,
    })
}

pub async fn desk_get(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Query(q): Query<DeskQuery>,
) -> WebResult {
    v.full()?;
    let flash = q
        .saved
        .map(|id| v.tr().fill("desk.saved", "id", &id.to_string()));
    let typed = Typed {
        incident: q.incident.unwrap_or(0),
        ..Typed::default()
    };
    render(&desk_page(&s, &v, typed, FormErrors::none("desk"), flash).await?)
}

fn typed_of(p: &Pairs) -> Typed {
    Typed {
        incident: p.get("incident").trim().parse().unwrap_or(0),
        channel: p.get("channel").to_owned(),
        caller_type: p.get("caller_type").to_owned(),
        category: p.get("category").to_owned(),
        caller_name: p.get("caller_name").to_owned(),
        caller_contact: p.get("caller_contact").to_owned(),
        person: p.get("person").to_owned(),
        question: p.get("question").to_owned(),
        answer: p.get("answer").to_owned(),
        outcome: p.get("outcome").to_owned(),
        escalation: p.get("escalation").to_owned(),
    }
}

fn input_of(t: &Typed, p: &Pairs) -> InquiryInput {
    InquiryInput {
        incident_id: t.incident,
        channel: t.channel.clone(),
        caller_type: t.caller_type.clone(),
        category: t.category.clone(),
        caller: Caller {
            name: t.caller_name.clone(),
            contact: t.caller_contact.clone(),
        },
        question: t.question.clone(),
        answer: t.answer.clone(),
        close: t.outcome == "close",
        escalate: (t.outcome == "escalate").then(|| t.escalation.clone()),
        person: PersonLink::parse(&t.person),
        handling_secs: p.get("handling_secs").trim().parse().ok(),
    }
}

fn wants_json(h: &HeaderMap) -> bool {
    h.get(axum::http::header::ACCEPT)
        .and_then(|a| a.to_str().ok())
        .is_some_and(|a| a.contains("application/json"))
}

/// The problems of an error as JSON for the script: the summary heading and each field's
/// element id and message.
fn json_errors(v: &Visitor, e: &AppError) -> Response {
    let errs = FormErrors::of(v, "desk", e, FIELDS);
    let status = match e {
        AppError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
        AppError::Denied | AppError::TotpLocked => StatusCode::FORBIDDEN,
        AppError::NotFound => StatusCode::NOT_FOUND,
        AppError::Throttled(_) => StatusCode::TOO_MANY_REQUESTS,
        AppError::Unauthenticated => StatusCode::UNAUTHORIZED,
        AppError::Busy | AppError::Overloaded => StatusCode::SERVICE_UNAVAILABLE,
        AppError::Internal(detail) => {
            tracing::error!(error = %detail, "internal error");
            StatusCode::INTERNAL_SERVER_ERROR
        }
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    (
        status,
        Json(json!({
            "heading": errs.heading,
            "errors": errs.items.iter().map(|i| json!({
                "field": i.field, "id": i.id, "label": i.label, "message": i.message,
            })).collect::<Vec<_>>(),
        })),
    )
        .into_response()
}

pub async fn log_post(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    headers: HeaderMap,
    Form(pairs): Form<Vec<(String, String)>>,
) -> WebResult {
    v.full()?;
    let p = Pairs(pairs);
    let typed = typed_of(&p);
    let json = wants_json(&headers);
    match s.app.log_inquiry(&v.ctx(), &input_of(&typed, &p)).await {
        Ok(saved) if json => {
            let incidents = s.app.desk_incidents(&v.ctx()).await?;
            let r = row(&saved, v.lang, &incidents);
            Ok(Json(json!({
                "id": saved.id,
                "message": v.tr().fill("desk.saved", "id", &saved.id.to_string()),
                "row": {
                    "id": r.id, "at": r.at, "channel": r.channel, "category": r.category,
                    "status": r.status, "status_code": r.status_code, "question": r.question,
                    "incident": r.incident,
                },
            }))
            .into_response())
        }
        Ok(saved) => Ok(Redirect::to(&format!(
            "/desk?saved={}&incident={}",
            saved.id, saved.incident_id
        ))
        .into_response()),
        Err(e) if json => Ok(json_errors(&v, &e)),
        Err(e @ (AppError::Invalid(_) | AppError::Throttled(_))) => {
            let errs = FormErrors::of(&v, "desk", &e, FIELDS);
            let page = desk_page(&s, &v, typed, errs, None).await?;
            render_status(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(e) => Err(WebError(e)),
    }
}

/// FAQ entries matching the question being typed (POST: the text is personal data).
pub async fn suggest_post(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> WebResult {
    v.full()?;
    let p = Pairs(pairs);
    let incident: i64 = p.get("incident").trim().parse().unwrap_or(0);
    let hits = s.app.faq_suggest(&v.ctx(), incident, p.get("q"), 5).await?;
    Ok(Json(json!({
        "hits": hits.iter().map(|h| json!({
            "id": h.entry_id, "question": h.question, "answer": h.answer,
        })).collect::<Vec<_>>(),
    }))
    .into_response())
}

/// The caller among the vault's persons (masked) and the incident's affected persons.
pub async fn find_post(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> WebResult {
    v.full()?;
    let p = Pairs(pairs);
    let incident: i64 = p.get("incident").trim().parse().unwrap_or(0);
    match s.app.desk_find_person(&v.ctx(), incident, p.get("q")).await {
        Ok(found) => {
            let t = v.tr();
            Ok(Json(json!({
                "found": found.iter().map(|m| json!({
                    "link": m.link.code(),
                    "label": m.label,
                    "affected": m.affected_items.as_ref().map(|items| {
                        let names: Vec<&str> = items.iter().map(|i| match v.lang {
                            Lang::Ja => i.label_ja(),
                            Lang::En => i.label_en(),
                        }).collect();
                        t.fill("desk.affected_items", "items", &names.join(if v.lang == Lang::Ja { "、" } else { ", " }))
                    }),
                })).collect::<Vec<_>>(),
                "none": t.get("desk.find_none"),
            }))
            .into_response())
        }
        Err(e) => Ok(json_errors(&v, &e)),
    }
}

// ───────────────────────────── one inquiry ─────────────────────────────

#[derive(Template)]
#[template(path = "desk_inquiry.html")]
pub struct InquiryPage {
    pub c: Chrome,
    pub i: InquiryView,
    pub channel: &'static str,
    pub caller_type: &'static str,
    pub category: &'static str,
    pub status: &'static str,
    pub created: String,
    pub closed: Option<String>,
    pub replied: Option<String>,
    pub incident: String,
    pub thread: Vec<(String, String, String, String)>,
    pub callers: Vec<Opt>,
    pub categories: Vec<Opt>,
    pub errs: FormErrors,
    pub may_reply: bool,
    pub may_escalate: bool,
    pub may_close: bool,
    pub may_reopen: bool,
    pub handling: String,
}

async fn inquiry_page(
    s: &WebState,
    v: &Visitor,
    id: i64,
    errs: FormErrors,
    flash: Option<String>,
) -> Result<InquiryPage, AppError> {
    let ctx = v.ctx();
    let i = s.app.inquiry(&ctx, id).await?;
    let thread = if i.messages > 0 {
        s.app
            .inquiry_thread(&ctx, id)
            .await?
            .into_iter()
            .map(|(from, subject, body, at)| {
                (from, subject, body, at.map_or_else(String::new, jst))
            })
            .collect()
    } else {
        Vec::new()
    };
    let incident = s
        .app
        .desk_incidents(&ctx)
        .await?
        .into_iter()
        .find(|x| x.id == i.incident_id)
        .map_or_else(String::new, |x| format!("{} {}", x.ref_no, x.title));
    let lang = v.lang;
    let mut c = Chrome::new(v, "desk.inquiry").with_flash(flash);
    c.title = format!("{} #{id}", c.title);
    Ok(InquiryPage {
        channel: i.channel.label(lang),
        caller_type: i.caller_type.label(lang),
        category: i.category.label(lang),
        status: i.status.label(lang),
        created: jst(i.created_at),
        closed: i.closed_at.map(jst),
        replied: i.replied_at.map(jst),
        callers: opts(
            CallerType::ALL,
            i.caller_type.code(),
            CallerType::code,
            CallerType::label,
            lang,
        ),
        categories: opts(
            Category::ALL,
            i.category.code(),
            Category::code,
            Category::label,
            lang,
        ),
        may_reply: ctx.allows(Permission::ManageIncidents) && i.status == Status::Escalated,
        may_escalate: matches!(i.status, Status::Open | Status::Replied),
        may_close: i.status != Status::Closed,
        may_reopen: i.status == Status::Closed,
        handling: i
            .handling_secs
            .map_or_else(|| "—".into(), |s| format!("{}:{:02}", s / 60, s % 60)),
        incident,
        thread,
        errs,
        c,
        i,
    })
}

#[derive(Deserialize)]
pub struct Done {
    pub done: Option<String>,
}

pub async fn inquiry_get(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Path(id): Path<i64>,
    Query(q): Query<Done>,
) -> WebResult {
    v.full()?;
    let flash = q.done.map(|_| v.tr().get("desk.updated").to_owned());
    render(&inquiry_page(&s, &v, id, FormErrors::none("inquiry"), flash).await?)
}

/// One action on an inquiry: edit, escalate, reply, close, reopen.
pub async fn inquiry_post(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Path((id, action)): Path<(i64, String)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> WebResult {
    v.full()?;
    let p = Pairs(pairs);
    let ctx = v.ctx();
    let r = match action.as_str() {
        "edit" => {
            let cur = s.app.inquiry(&ctx, id).await?;
            let mut t = typed_of(&p);
            t.incident = cur.incident_id;
            t.channel = cur.channel.code().into();
            let mut input = input_of(&t, &p);
            input.close = false;
            input.escalate = None;
            let expect: i64 = p.get("updated_at").trim().parse().unwrap_or(0);
            s.app
                .edit_inquiry(&ctx, id, expect, &input)
                .await
                .map(|_| ())
        }
        "escalate" => s.app.escalate_inquiry(&ctx, id, p.get("escalation")).await,
        "reply" => s.app.reply_inquiry(&ctx, id, p.get("reply")).await,
        "close" => s.app.close_inquiry(&ctx, id, p.get("answer")).await,
        "reopen" => s.app.reopen_inquiry(&ctx, id).await,
        _ => return Err(WebError(AppError::NotFound)),
    };
    match r {
        Ok(()) if p.get("back") == "desk" => Ok(Redirect::to("/desk").into_response()),
        Ok(()) => Ok(Redirect::to(&format!("/desk/inquiries/{id}?done=1")).into_response()),
        Err(e @ AppError::Invalid(_)) => {
            let fields: &[(&str, &str)] = &[
                ("caller_type", "desk.caller_type"),
                ("category", "desk.category"),
                ("caller_name", "desk.caller_name"),
                ("caller_contact", "desk.caller_contact"),
                ("question", "desk.question"),
                ("answer", "desk.answer"),
                ("escalation", "desk.escalation"),
                ("reply", "desk.reply"),
                ("status", "desk.status"),
            ];
            let errs = FormErrors::of(&v, "inquiry", &e, fields);
            let page = inquiry_page(&s, &v, id, errs, None).await?;
            render_status(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(e) => Err(WebError(e)),
    }
}

/// The static script of the desk screen.
pub const DESK_JS: &str = include_str!("../../static/desk.js");
