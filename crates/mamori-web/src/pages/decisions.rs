//! The publication decision (公表判断) and the recurrence-prevention report (再発防止策) of an
//! incident: one page each, forms posting to one use case each.

use super::incidents::{Opt, Pairs};
use super::{jst, render_status, Chrome};
use crate::error::{WebError, WebResult};
use crate::form::FormErrors;
use crate::i18n::Lang;
use crate::visitor::Visitor;
use crate::WebState;
use askama::Template;
use axum::extract::{Path, Query, State as AxState};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::{Extension, Form};
use mamori_app::decisions::{
    Decision, PublicationEntry, PublicationView, RecurrenceView, MAX_MEASURES,
};
use mamori_app::incident::{parse_count, parse_date};
use mamori_app::{AppError, Problems};
use mamori_domain::appi::NoticeMethod;
use mamori_domain::incident::facts::group_digits;
use mamori_domain::incident::publication::{
    Content, Damage, LeakForm, Manager, Recommendation, Viewpoints,
};
use mamori_domain::incident::recurrence::{Action, Measure, Report};
use mamori_domain::role::Permission;
use serde::Deserialize;

fn label(v: &Visitor, ja: &str, en: &str) -> String {
    if v.lang == Lang::En { en } else { ja }.to_owned()
}

#[derive(Debug, Default, Deserialize)]
pub struct DoneQuery {
    #[serde(default)]
    pub done: Option<String>,
}

/// The incident's heading on both pages.
pub struct Head {
    pub id: i64,
    pub ref_no: String,
    pub title: String,
    pub drill: bool,
}

fn head(i: &mamori_store::incidents::Incident) -> Head {
    Head {
        id: i.id,
        ref_no: i.ref_no.clone(),
        title: i.title.clone(),
        drill: i.drill,
    }
}

const RECURRENCE_FIELDS: &[(&str, &str)] = &[
    ("cause", "rec.cause"),
    ("done", "rec.done"),
    ("planned", "rec.planned"),
    ("comment", "rec.comment"),
];

// ───────────────────────────── publication ─────────────────────────────

/// A record of viewpoints with its recommendation.
pub struct RecBlock {
    pub code: &'static str,
    pub label: String,
    pub reasons: Vec<String>,
    pub viewpoints: Vec<(String, String)>,
    pub by: String,
    pub at: String,
}

pub struct DecisionBlock {
    pub code: &'static str,
    pub label: String,
    pub reason: String,
    pub recommendation: String,
    pub by: String,
    pub at: String,
}

pub struct HistoryRow {
    pub at: String,
    pub by: String,
    pub decision: bool,
    pub what: String,
    pub recommendation: String,
    pub reason: String,
    pub viewpoints: String,
}

#[derive(Template)]
#[template(path = "publication.html")]
pub struct PublicationPage {
    pub c: Chrome,
    pub h: Head,
    pub notice: String,
    pub managers: Vec<Opt>,
    pub forms: Vec<Opt>,
    pub contents: Vec<Opt>,
    pub damages: Vec<Opt>,
    pub volume: String,
    pub current: Option<RecBlock>,
    pub decision: Option<DecisionBlock>,
    pub history: Vec<HistoryRow>,
    pub choices: Vec<Opt>,
    pub reason: String,
    pub can_record: bool,
    pub can_decide: bool,
    /// The problems of the form sent: `viewpoints` or `decide`.
    pub errs: FormErrors,
}

const VIEWPOINT_FIELDS: &[(&str, &str)] = &[
    ("manager", "pub.manager"),
    ("form", "pub.form"),
    ("content", "pub.content"),
    ("volume", "pub.volume"),
    ("damage", "pub.damage"),
];
const DECIDE_FIELDS: &[(&str, &str)] = &[
    ("decision", "pub.decide.choice"),
    ("reason", "pub.decide.reason"),
];

fn opts<T: Copy + PartialEq>(
    v: &Visitor,
    all: &[T],
    selected: &str,
    code: impl Fn(T) -> &'static str,
    ja: impl Fn(T) -> &'static str,
    en: impl Fn(T) -> &'static str,
) -> Vec<Opt> {
    all.iter()
        .map(|x| Opt {
            code: code(*x).to_owned(),
            label: label(v, ja(*x), en(*x)),
            selected: code(*x) == selected,
        })
        .collect()
}

fn viewpoint_rows(v: &Visitor, p: &Viewpoints) -> Vec<(String, String)> {
    let t = v.tr();
    vec![
        (
            t.get("pub.manager").to_owned(),
            label(v, p.manager.label_ja(), p.manager.label_en()),
        ),
        (
            t.get("pub.form").to_owned(),
            label(v, p.form.label_ja(), p.form.label_en()),
        ),
        (
            t.get("pub.content").to_owned(),
            label(v, p.content.label_ja(), p.content.label_en()),
        ),
        (t.get("pub.volume").to_owned(), group_digits(p.volume)),
        (
            t.get("pub.damage").to_owned(),
            label(v, p.damage.label_ja(), p.damage.label_en()),
        ),
    ]
}

fn rec_label(v: &Visitor, r: Recommendation) -> String {
    label(v, r.label_ja(), r.label_en())
}

fn decision_label(v: &Visitor, d: Decision) -> String {
    label(v, d.label_ja(), d.label_en())
}

/// What the viewpoints form and the decision form show: the stored state, or what was typed.
struct PubEcho {
    manager: String,
    form: String,
    content: String,
    damage: String,
    volume: String,
    decision: String,
    reason: String,
}

fn publication_page(
    v: &Visitor,
    view: &PublicationView,
    echo: Option<&PubEcho>,
    errs: FormErrors,
    flash: Option<String>,
) -> PublicationPage {
    let t = v.tr();
    let s = &view.suggested;
    let stored = PubEcho {
        manager: s.manager.code().to_owned(),
        form: s.form.code().to_owned(),
        content: s.content.code().to_owned(),
        damage: s.damage.code().to_owned(),
        volume: s.volume.to_string(),
        decision: String::new(),
        reason: String::new(),
    };
    let e = echo.unwrap_or(&stored);
    let current = view.recorded().map(|l: &PublicationEntry| RecBlock {
        code: l.recommendation.code(),
        label: rec_label(v, l.recommendation),
        reasons: mamori_domain::incident::publication::reasons_in(
            &l.viewpoints,
            &l.reasons,
            v.lang,
        ),
        viewpoints: viewpoint_rows(v, &l.viewpoints),
        by: l.recorded_by.clone(),
        at: jst(l.at),
    });
    let decision = view.decision().and_then(|d| {
        d.decision.map(|choice| DecisionBlock {
            code: choice.code(),
            label: decision_label(v, choice),
            reason: d.decision_reason.clone().unwrap_or_default(),
            recommendation: rec_label(v, d.recommendation),
            by: d.recorded_by.clone(),
            at: jst(d.at),
        })
    });
    let history = view
        .entries
        .iter()
        .map(|en| HistoryRow {
            at: jst(en.at),
            by: en.recorded_by.clone(),
            decision: en.decision.is_some(),
            what: en.decision.map_or_else(
                || t.get("pub.kind.viewpoints").to_owned(),
                |d| format!("{}: {}", t.get("pub.kind.decision"), decision_label(v, d)),
            ),
            recommendation: rec_label(v, en.recommendation),
            reason: en.decision_reason.clone().unwrap_or_default(),
            viewpoints: viewpoint_rows(v, &en.viewpoints)
                .into_iter()
                .map(|(k, val)| format!("{k}: {val}"))
                .collect::<Vec<_>>()
                .join(" / "),
        })
        .collect();
    PublicationPage {
        c: Chrome::new(v, "pub.title")
            .about_incident(&view.incident.ref_no, &view.incident.title, false)
            .with_error(errs.banner(&["viewpoints", "decide"]))
            .with_flash(flash),
        errs,
        h: head(&view.incident),
        notice: match view.notice {
            None => t.get("pub.notice.none"),
            Some(NoticeMethod::Direct) => t.get("notice.direct"),
            Some(NoticeMethod::Alternative) => t.get("notice.alternative"),
        }
        .to_owned(),
        managers: opts(
            v,
            Manager::ALL,
            &e.manager,
            Manager::code,
            Manager::label_ja,
            Manager::label_en,
        ),
        forms: opts(
            v,
            LeakForm::ALL,
            &e.form,
            LeakForm::code,
            LeakForm::label_ja,
            LeakForm::label_en,
        ),
        contents: opts(
            v,
            Content::ALL,
            &e.content,
            Content::code,
            Content::label_ja,
            Content::label_en,
        ),
        damages: opts(
            v,
            Damage::ALL,
            &e.damage,
            Damage::code,
            Damage::label_ja,
            Damage::label_en,
        ),
        volume: e.volume.clone(),
        current,
        decision,
        history,
        choices: opts(
            v,
            Decision::ALL,
            &e.decision,
            Decision::code,
            Decision::label_ja,
            Decision::label_en,
        ),
        reason: e.reason.clone(),
        can_record: view.can_record,
        can_decide: view.can_decide && !view.entries.is_empty(),
    }
}

pub async fn publication_get(
    AxState(s): AxState<WebState>,
    Extension(v): Extension<Visitor>,
    Path(id): Path<i64>,
    Query(q): Query<DoneQuery>,
) -> WebResult {
    v.full()?;
    let view = s.app.publication_view(&v.ctx(), id).await?;
    let flash = q.done.map(|_| v.tr().get("pub.saved").to_owned());
    render_status(
        StatusCode::OK,
        &publication_page(&v, &view, None, FormErrors::none("viewpoints"), flash),
    )
}

fn echo_of(p: &Pairs) -> PubEcho {
    PubEcho {
        manager: p.get("manager").to_owned(),
        form: p.get("form").to_owned(),
        content: p.get("content").to_owned(),
        damage: p.get("damage").to_owned(),
        volume: p.get("volume").to_owned(),
        decision: p.get("decision").to_owned(),
        reason: p.get("reason").to_owned(),
    }
}

fn choice<T>(
    field: &'static str,
    value: &str,
    parse: fn(&str) -> Option<T>,
) -> Result<T, AppError> {
    parse(value.trim()).ok_or_else(|| {
        AppError::invalid(
            field,
            "選択肢から選んでください",
            format!("{field}: choose one of the options"),
        )
    })
}

/// The five viewpoints as typed; every problem is named, not only the first.
fn viewpoints_of(p: &Pairs) -> Result<Viewpoints, AppError> {
    let mut ps = Problems::new();
    let manager = ps.check(choice("manager", p.get("manager"), Manager::parse))?;
    let form = ps.check(choice("form", p.get("form"), LeakForm::parse))?;
    let content = ps.check(choice("content", p.get("content"), Content::parse))?;
    let volume = ps.check(parse_count("volume", p.get("volume")).and_then(|n| {
        n.ok_or_else(|| {
            AppError::invalid(
                "volume",
                "漏えい情報量（人数）を入力してください。不明なときは考えられる最大の人数を入力します",
                "volume is required (enter the largest possible number when unknown)",
            )
        })
    }))?;
    let damage = ps.check(choice("damage", p.get("damage"), Damage::parse))?;
    match (manager, form, content, volume, damage) {
        (Some(manager), Some(form), Some(content), Some(volume), Some(damage)) => Ok(Viewpoints {
            manager,
            form,
            content,
            volume,
            damage,
        }),
        _ => ps.done().and(Err(AppError::Internal(
            "viewpoints: a problem was lost".into(),
        ))),
    }
}

/// After a change: back to the page, or the page again with the error and what was typed.
async fn after_publication(
    s: &WebState,
    v: &Visitor,
    id: i64,
    p: &Pairs,
    result: Result<i64, AppError>,
    (form, fields): (&'static str, &[(&str, &str)]),
) -> WebResult {
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/incidents/{id}/publication?done=1")).into_response()),
        Err(e @ AppError::Invalid(_)) => {
            let errs = FormErrors::of(v, form, &e, fields);
            let view = s.app.publication_view(&v.ctx(), id).await?;
            let echo = echo_of(p);
            let page = publication_page(v, &view, Some(&echo), errs, None);
            render_status(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(e) => Err(WebError(e)),
    }
}

pub async fn publication_record(
    AxState(s): AxState<WebState>,
    Extension(v): Extension<Visitor>,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> WebResult {
    v.full()?;
    let p = Pairs(pairs);
    let r = match viewpoints_of(&p) {
        Ok(vp) => s.app.record_viewpoints(&v.ctx(), id, &vp).await,
        // Bad input from somebody who may not record at all is still a refusal.
        Err(_) if !v.ctx().allows(Permission::ManageIncidents) => Err(AppError::Denied),
        Err(e) => Err(e),
    };
    after_publication(&s, &v, id, &p, r, ("viewpoints", VIEWPOINT_FIELDS)).await
}

pub async fn publication_decide(
    AxState(s): AxState<WebState>,
    Extension(v): Extension<Visitor>,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> WebResult {
    v.full()?;
    let p = Pairs(pairs);
    let r = s
        .app
        .decide_publication(&v.ctx(), id, p.get("decision"), p.get("reason"))
        .await;
    after_publication(&s, &v, id, &p, r, ("decide", DECIDE_FIELDS)).await
}

// ───────────────────────────── recurrence ─────────────────────────────

pub struct MeasureRow {
    pub what: String,
    pub owner: String,
    pub date: String,
}

/// Rows of measures: in the form always `MAX_MEASURES`, read-only only the filled ones.
pub struct MeasureSection {
    pub key: &'static str,
    pub prefix: &'static str,
    pub rows: Vec<MeasureRow>,
}

pub struct ActionButton {
    pub code: &'static str,
    pub label: String,
    pub primary: bool,
}

pub struct StepRow {
    pub n: usize,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub state: String,
    pub comment: String,
}

#[derive(Template)]
#[template(path = "recurrence.html")]
pub struct RecurrencePage {
    pub c: Chrome,
    pub h: Head,
    pub state: String,
    pub state_code: &'static str,
    pub waiting: String,
    pub can_edit: bool,
    pub cause: String,
    /// Measures done, then planned.
    pub measures: Vec<MeasureSection>,
    /// Nothing written yet (read-only view).
    pub report_empty: bool,
    pub actions: Vec<ActionButton>,
    pub comment: String,
    pub steps: Vec<StepRow>,
    pub errs: FormErrors,
}

fn measure_rows(list: &[Measure], pad: bool) -> Vec<MeasureRow> {
    let mut rows: Vec<MeasureRow> = list
        .iter()
        .map(|m| MeasureRow {
            what: m.what.clone(),
            owner: m.owner.clone(),
            date: m.date.map(|d| d.to_string()).unwrap_or_default(),
        })
        .collect();
    while pad && rows.len() < MAX_MEASURES {
        rows.push(MeasureRow {
            what: String::new(),
            owner: String::new(),
            date: String::new(),
        });
    }
    rows
}

/// The rows typed in the form, as they were (for showing them again).
fn typed_rows(p: &Pairs, prefix: &str) -> Vec<MeasureRow> {
    let what = p.all(&format!("{prefix}_what"));
    let owner = p.all(&format!("{prefix}_owner"));
    let date = p.all(&format!("{prefix}_date"));
    let mut rows: Vec<MeasureRow> = (0..what.len().max(owner.len()).max(date.len()))
        .map(|i| MeasureRow {
            what: what.get(i).cloned().unwrap_or_default(),
            owner: owner.get(i).cloned().unwrap_or_default(),
            date: date.get(i).cloned().unwrap_or_default(),
        })
        .collect();
    while rows.len() < MAX_MEASURES {
        rows.push(MeasureRow {
            what: String::new(),
            owner: String::new(),
            date: String::new(),
        });
    }
    rows
}

fn recurrence_page(
    v: &Visitor,
    view: &RecurrenceView,
    typed: Option<&Pairs>,
    errs: FormErrors,
    flash: Option<String>,
) -> RecurrencePage {
    let t = v.tr();
    let can_edit = view.can_edit();
    let steps = view
        .steps
        .iter()
        .enumerate()
        .map(|(n, s)| StepRow {
            n: n + 1,
            at: jst(s.at),
            actor: s.actor.clone(),
            action: label(v, s.action.label_ja(), s.action.label_en()),
            state: label(v, s.state.label_ja(), s.state.label_en()),
            comment: s.comment.clone(),
        })
        .collect();
    let actions = view
        .actions
        .iter()
        .map(|a| ActionButton {
            code: a.code(),
            label: label(v, a.label_ja(), a.label_en()),
            primary: matches!(a, Action::Submit | Action::Forward | Action::Approve),
        })
        .collect();
    let (cause, done, planned) = match typed {
        Some(p) if can_edit && p.0.iter().any(|(k, _)| k == "cause") => (
            p.get("cause").to_owned(),
            typed_rows(p, "done"),
            typed_rows(p, "planned"),
        ),
        _ => (
            view.report.cause.clone(),
            measure_rows(&view.report.done, can_edit),
            measure_rows(&view.report.planned, can_edit),
        ),
    };
    RecurrencePage {
        c: Chrome::new(v, "rec.title")
            .about_incident(&view.incident.ref_no, &view.incident.title, false)
            .with_error(errs.banner(&["recurrence"]))
            .with_flash(flash),
        errs,
        h: head(&view.incident),
        state: label(v, view.state.label_ja(), view.state.label_en()),
        state_code: view.state.code(),
        waiting: t
            .get(&format!("rec.waiting.{}", view.state.code()))
            .to_owned(),
        can_edit,
        report_empty: cause.is_empty() && done.is_empty() && planned.is_empty(),
        cause,
        measures: vec![
            MeasureSection {
                key: "rec.done",
                prefix: "done",
                rows: done,
            },
            MeasureSection {
                key: "rec.planned",
                prefix: "planned",
                rows: planned,
            },
        ],
        actions,
        comment: typed
            .map(|p| p.get("comment").to_owned())
            .unwrap_or_default(),
        steps,
    }
}

pub async fn recurrence_get(
    AxState(s): AxState<WebState>,
    Extension(v): Extension<Visitor>,
    Path(id): Path<i64>,
    Query(q): Query<DoneQuery>,
) -> WebResult {
    v.full()?;
    let view = s.app.recurrence_view(&v.ctx(), id).await?;
    let flash = q.done.map(|_| v.tr().get("rec.saved").to_owned());
    render_status(
        StatusCode::OK,
        &recurrence_page(&v, &view, None, FormErrors::none("recurrence"), flash),
    )
}

/// The measures of one table; a date that cannot be read is noted in `ps` (once a table).
fn measures_of(
    p: &Pairs,
    prefix: &'static str,
    ps: &mut Problems,
) -> Result<Vec<Measure>, AppError> {
    let rows = typed_rows(p, prefix);
    let mut out = Vec::new();
    let mut noted = false;
    for r in rows {
        let date = match parse_date(prefix, &r.date) {
            Err(_) if noted => None,
            read => {
                let d = ps.check(read)?;
                noted |= d.is_none();
                d.flatten()
            }
        };
        out.push(Measure {
            what: r.what,
            owner: r.owner,
            date,
        });
    }
    Ok(out)
}

/// The report typed by the department; `None` when the form carried no text (the secretariat's
/// and management's forms).
fn report_of(p: &Pairs) -> Result<Option<Report>, AppError> {
    if !p.0.iter().any(|(k, _)| k == "cause") {
        return Ok(None);
    }
    let mut ps = Problems::new();
    let done = measures_of(p, "done", &mut ps)?;
    let planned = measures_of(p, "planned", &mut ps)?;
    ps.done()?;
    Ok(Some(Report {
        cause: p.get("cause").to_owned(),
        done,
        planned,
    }))
}

pub async fn recurrence_post(
    AxState(s): AxState<WebState>,
    Extension(v): Extension<Visitor>,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> WebResult {
    v.full()?;
    let p = Pairs(pairs);
    let ctx = v.ctx();
    let r = match report_of(&p) {
        Ok(report) => {
            s.app
                .recurrence_step(&ctx, id, p.get("action"), report.as_ref(), p.get("comment"))
                .await
        }
        Err(e) => Err(e),
    };
    match r {
        Ok(_) => Ok(Redirect::to(&format!("/incidents/{id}/recurrence?done=1")).into_response()),
        Err(e @ AppError::Invalid(_)) => {
            let errs = FormErrors::of(&v, "recurrence", &e, RECURRENCE_FIELDS);
            let view = s.app.recurrence_view(&ctx, id).await?;
            let page = recurrence_page(&v, &view, Some(&p), errs, None);
            render_status(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(e) => Err(WebError(e)),
    }
}
