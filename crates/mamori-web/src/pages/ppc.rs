//! The report to the PPC (個人情報保護委員会への漏えい等報告): the editor with its two stages,
//! the version history with submission, a printable page, and PDF and JSON downloads.

use super::incidents::Pairs;
use super::{jst, render, render_status, Chrome};
use crate::error::{WebError, WebResult};
use crate::form::FormErrors;
use crate::i18n::{Lang, Tr};
use crate::visitor::Visitor;
use crate::WebState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use mamori_app::ppc::{self as app_ppc, Basis, PpcPrint, PpcView, StageView};
use mamori_app::AppError;
use mamori_domain::incident::ppc::{Report, Stage, ITEMS};
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
pub struct PpcQuery {
    #[serde(default)]
    pub stage: Option<String>,
    #[serde(default)]
    pub saved: Option<i64>,
    #[serde(default)]
    pub submitted: Option<i64>,
}

/// A stage tab.
pub struct Tab {
    pub code: &'static str,
    pub label: String,
    pub active: bool,
    pub versions: usize,
    pub submitted: bool,
}

/// One item of the report in the editor.
pub struct ItemRow {
    pub number: u8,
    pub field: &'static str,
    pub heading: String,
    pub text: String,
    pub missing: bool,
    /// The item the last error was about.
    pub invalid: bool,
}

/// A row of the version history.
pub struct VersionRow {
    pub version: i64,
    pub at: String,
    pub by: String,
    pub submitted: Option<String>,
    pub missing: String,
    pub base: String,
}

#[derive(Template)]
#[template(path = "ppc.html")]
pub struct PpcPage {
    pub c: Chrome,
    pub id: i64,
    pub ref_no: String,
    pub title: String,
    pub drill: bool,
    pub stage: &'static str,
    pub stage_label: String,
    pub tabs: Vec<Tab>,
    pub basis: String,
    pub due: String,
    pub obligation: String,
    pub items: Vec<ItemRow>,
    /// The empty items, counted and named (see `missing_text`); empty when all nine are there.
    pub missing: String,
    pub is_final: bool,
    pub versions: Vec<VersionRow>,
    pub can_manage: bool,
    /// The problems of the nine items' form (`f`) or of a submit button (`submit`).
    pub errs: FormErrors,
}

fn stage_label(v: &Visitor, s: Stage) -> String {
    if v.lang == Lang::En {
        s.label_en()
    } else {
        s.label_ja()
    }
    .to_owned()
}

fn heading(v: &Visitor, n: u8, ja: &str, en: &str) -> String {
    format!("{n}. {}", if v.lang == Lang::En { en } else { ja })
}

/// The empty items as a count and a list of numbers with names (「2件 — 第4項「原因」、第9項
/// 「その他参考となる事項」」), so that 「未記入の項目: 9」 cannot be read as nine items.
fn missing_text(v: &Visitor, ns: &[u8]) -> String {
    if ns.is_empty() {
        return String::new();
    }
    let t = v.tr();
    let en = v.lang == Lang::En;
    let list: Vec<String> = ns
        .iter()
        .map(|n| {
            let name = ITEMS
                .iter()
                .find(|(m, _, _, _)| m == n)
                .map(|(_, _, ja, e)| {
                    // Item 8 has two halves; name the item, not the first half.
                    if en {
                        e.split(':').next().unwrap_or(e)
                    } else {
                        ja.split('（').next().unwrap_or(ja)
                    }
                })
                .unwrap_or_default();
            t.fill("ppc.missing.item", "n", &n.to_string())
                .replace("{name}", name)
        })
        .collect();
    let count = if ns.len() == 1 {
        t.get("ppc.missing.count.one").to_owned()
    } else {
        t.fill("ppc.missing.count", "n", &ns.len().to_string())
    };
    format!("{count} — {}", list.join(t.get("ppc.missing.sep")))
}

fn obligation_text(t: &Tr, s: &StageView) -> (String, String) {
    match &s.obligation {
        None => (String::new(), t.get("ppc.obligation.none").to_owned()),
        Some(o) => (
            o.due_on.clone().unwrap_or_else(|| "-".into()),
            match o.status.as_str() {
                "done" => t.get("obligation.status.done"),
                "not_required" => t.get("obligation.status.not_required"),
                _ => t.get("obligation.status.open"),
            }
            .to_owned(),
        ),
    }
}

/// The page for one stage; `typed` is what the visitor sent when it was refused.
fn page(
    v: &Visitor,
    view: &PpcView,
    stage: Stage,
    typed: Option<&Report>,
    errs: FormErrors,
    flash: Option<String>,
) -> PpcPage {
    let t = v.tr();
    let sv = view.stage(stage);
    let current = typed.unwrap_or(&sv.current);
    let missing = current.missing();
    let items = ITEMS
        .iter()
        .map(|(n, field, ja, en)| ItemRow {
            number: *n,
            field,
            heading: heading(v, *n, ja, en),
            text: current.get(field).to_owned(),
            missing: missing.contains(n),
            invalid: errs.form == "f" && errs.at(field).is_some(),
        })
        .collect();
    let basis = match sv.basis {
        Basis::Saved(n) => t.fill("ppc.basis.saved", "version", &n.to_string()),
        Basis::Preliminary(n) => t.fill("ppc.basis.preliminary", "version", &n.to_string()),
        Basis::Draft => t.get("ppc.basis.draft").to_owned(),
    };
    let (due, obligation) = obligation_text(t, sv);
    let tabs = [Stage::Preliminary, Stage::Final]
        .into_iter()
        .map(|s| {
            let other = view.stage(s);
            Tab {
                code: s.code(),
                label: stage_label(v, s),
                active: s == stage,
                versions: other.versions.len(),
                submitted: other.submitted().is_some(),
            }
        })
        .collect();
    let versions = sv
        .versions
        .iter()
        .map(|x| VersionRow {
            version: x.version,
            at: jst(x.created_at),
            by: x.created_by.clone(),
            submitted: x
                .submitted_at
                .map(|at| format!("{} {}", jst(at), x.submitted_by.clone().unwrap_or_default())),
            missing: missing_text(v, &x.report.missing()),
            base: format!(
                "/incidents/{}/ppc/{}/{}",
                view.incident.id,
                stage.code(),
                x.version
            ),
        })
        .collect();
    PpcPage {
        c: Chrome::new(v, "ppc.title")
            .about_incident(&view.incident.ref_no, &view.incident.title, false)
            .with_error(errs.banner(&["f"]))
            .with_flash(flash),
        id: view.incident.id,
        ref_no: view.incident.ref_no.clone(),
        title: view.incident.title.clone(),
        drill: view.incident.drill,
        stage: stage.code(),
        stage_label: stage_label(v, stage),
        tabs,
        basis,
        due,
        obligation,
        items,
        missing: missing_text(v, &missing),
        is_final: stage == Stage::Final,
        versions,
        can_manage: view.can_manage,
        errs,
    }
}

fn parse_stage(s: &str) -> Result<Stage, WebError> {
    Stage::parse(s).ok_or(WebError(AppError::NotFound))
}

/// The editor: `?stage=final` for the final report, the preliminary one by default.
pub async fn ppc_page(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Path(id): Path<i64>,
    Query(q): Query<PpcQuery>,
) -> WebResult {
    v.full()?;
    let stage = match q.stage.as_deref() {
        None | Some("") => Stage::Preliminary,
        Some(x) => parse_stage(x)?,
    };
    let view = s.app.ppc_view(&v.ctx(), id).await?;
    let t = v.tr();
    let flash = if let Some(n) = q.submitted {
        Some(t.fill("ppc.flash.submitted", "version", &n.to_string()))
    } else {
        q.saved
            .map(|n| t.fill("ppc.flash.saved", "version", &n.to_string()))
    };
    render(&page(&v, &view, stage, None, FormErrors::none("f"), flash))
}

/// After a change: back to the stage, or the page again with the error (and what was typed).
async fn after(
    s: &WebState,
    v: &Visitor,
    id: i64,
    stage: Stage,
    typed: Option<&Report>,
    result: Result<String, AppError>,
) -> WebResult {
    match result {
        Ok(query) => Ok(Redirect::to(&format!(
            "/incidents/{id}/ppc?stage={}&{query}",
            stage.code()
        ))
        .into_response()),
        Err(e @ AppError::Invalid(_)) => {
            // The nine items' form is `f` (its fields' ids are `f-cause`…); a submit button in
            // the list of versions puts its problem in the banner.
            let form = if typed.is_some() { "f" } else { "submit" };
            let fields: Vec<(&str, String)> = ITEMS
                .iter()
                .map(|(n, field, ja, en)| (*field, heading(v, *n, ja, en)))
                .collect();
            let errs = FormErrors::of_labelled(v, form, &e, &fields);
            let view = s.app.ppc_view(&v.ctx(), id).await?;
            render_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                &page(v, &view, stage, typed, errs, None),
            )
        }
        Err(e) => Err(WebError(e)),
    }
}

/// Saves the nine items as a new version of the stage named in the form.
pub async fn ppc_save(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> WebResult {
    v.full()?;
    let p = Pairs(pairs);
    let stage = parse_stage(p.get("stage"))?;
    let mut report = Report::default();
    for (_, field, _, _) in ITEMS {
        report
            .set(field, p.get(field).to_owned())
            .map_err(AppError::from)?;
    }
    let r = s
        .app
        .save_ppc(&v.ctx(), id, stage, &report)
        .await
        .map(|n| format!("saved={n}"));
    after(&s, &v, id, stage, Some(&report), r).await
}

/// Marks a version submitted.
pub async fn ppc_submit(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Path((id, stage, version)): Path<(i64, String, i64)>,
) -> WebResult {
    v.full()?;
    let stage = parse_stage(&stage)?;
    let r = s
        .app
        .submit_ppc(&v.ctx(), id, stage, version)
        .await
        .map(|()| format!("submitted={version}"));
    after(&s, &v, id, stage, None, r).await
}

/// The printable page: the report alone, in Japanese, without navigation.
#[derive(Template)]
#[template(path = "ppc_print.html")]
pub struct PrintPage {
    pub t: &'static Tr,
    pub lang: &'static str,
    pub id: i64,
    pub stage: &'static str,
    pub version: i64,
    pub drill: bool,
    pub submitted: bool,
    pub title: String,
    pub subtitle: &'static str,
    pub report_date: String,
    pub company: String,
    pub particulars: Vec<(String, String)>,
    pub items_heading: &'static str,
    pub items: Vec<(String, String)>,
    pub footer: String,
}

fn print_page(v: &Visitor, p: &PpcPrint) -> PrintPage {
    let stage = p.version.stage;
    PrintPage {
        t: v.tr(),
        lang: v.lang.code(),
        id: p.incident.id,
        stage: stage.code(),
        version: p.version.version,
        drill: p.incident.drill,
        submitted: p.version.submitted(),
        title: app_ppc::stage_title(stage),
        subtitle: app_ppc::SUBTITLE,
        report_date: p.report_date.clone(),
        company: p.company_name.clone(),
        particulars: app_ppc::particulars(p),
        items_heading: app_ppc::ITEMS_HEADING,
        items: app_ppc::item_rows(&p.version.report),
        footer: app_ppc::footer(p),
    }
}

pub async fn ppc_print(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Path((id, stage, version)): Path<(i64, String, i64)>,
) -> WebResult {
    v.full()?;
    let stage = parse_stage(&stage)?;
    let p = s.app.ppc_print(&v.ctx(), id, stage, version).await?;
    render(&print_page(&v, &p))
}

fn download(content_type: &'static str, filename: &str, body: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
        ],
        body,
    )
        .into_response()
}

pub async fn ppc_pdf(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Path((id, stage, version)): Path<(i64, String, i64)>,
) -> WebResult {
    v.full()?;
    let stage = parse_stage(&stage)?;
    let f = s.app.ppc_pdf(&v.ctx(), id, stage, version).await?;
    Ok(download("application/pdf", &f.filename, f.bytes))
}

pub async fn ppc_json(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Path((id, stage, version)): Path<(i64, String, i64)>,
) -> WebResult {
    v.full()?;
    let stage = parse_stage(&stage)?;
    let j = s.app.ppc_json(&v.ctx(), id, stage, version).await?;
    let name = app_ppc::file_name(
        j["incident"].as_str().unwrap_or("incident"),
        stage,
        version,
        "json",
    );
    let mut body = serde_json::to_vec_pretty(&j)
        .map_err(|e| WebError(AppError::Internal(format!("ppc json: {e}"))))?;
    body.push(b'\n');
    Ok(download("application/json; charset=utf-8", &name, body))
}
