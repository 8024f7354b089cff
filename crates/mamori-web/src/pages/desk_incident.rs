//! The privacy office's desk page of an incident (issue 15): the desk's figures as charts drawn
//! on the server, the survey, the FAQ that grows from the inquiries (proposals, drafts,
//! versions, approval, retirement), the exports, and the mail import with its quarantine.
//!
//! Rights are the use cases': `desk_volumes` lets in the incident's managers and the contact
//! desk of an incident the desk answers for; the FAQ's changes, the proposals (their sample
//! questions are personal data) and the exports are for managers; the mail import is for those
//! who handle inquiries. The survey's counts are read from the store only after
//! `faq_proposals` has checked that the visitor manages the incident.

use super::incidents::{Opt, Pairs};
use super::{render_status, Chrome};
use crate::chart_desk::{self, DeskChart};
use crate::error::{WebError, WebResult};
use crate::form::FormErrors;
use crate::visitor::Visitor;
use crate::WebState;
use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect};
use axum::{Extension, Form};
use mamori_app::desk::MailImport;
use mamori_app::desk_faq::{FaqText, FaqView};
use mamori_app::{AppError, Ctx};
use mamori_domain::desk::Category;
use mamori_domain::lang::Lang;
use mamori_domain::role::Permission;
use mamori_domain::when::format_minute;
use mamori_store::desk::QuarantineRow;
use serde::Deserialize;

/// The periods the figures can cover, in days; the first visit shows [`DEFAULT_DAYS`].
pub const PERIODS: [u32; 3] = [7, 14, 30];
pub const DEFAULT_DAYS: u32 = 14;

/// The fields of an FAQ form, with the catalogue keys of their labels.
const FAQ_FIELDS: &[(&str, &str)] = &[
    ("category", "deskinc.faq.category"),
    ("question_ja", "deskinc.faq.question_ja"),
    ("answer_ja", "deskinc.faq.answer_ja"),
    ("question_en", "deskinc.faq.question_en"),
    ("answer_en", "deskinc.faq.answer_en"),
];
const MAIL_FIELDS: &[(&str, &str)] = &[("file", "deskinc.mail.file")];
/// The forms whose problems are shown at their fields; any other's go to the banner.
const FORMS_WITH_SUMMARY: &[&str] = &["faq_create", "faq_revise", "mail"];

#[derive(Debug, Default, Deserialize)]
pub struct DeskQuery {
    #[serde(default)]
    pub days: Option<String>,
    #[serde(default)]
    pub done: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct CsvQuery {
    #[serde(default)]
    pub enc: Option<String>,
}

/// `?days=7|14|30`; anything else is the default.
#[must_use]
pub fn period(days: Option<&str>) -> u32 {
    days.and_then(|d| d.trim().parse::<u32>().ok())
        .filter(|d| PERIODS.contains(d))
        .unwrap_or(DEFAULT_DAYS)
}

pub struct Figure {
    pub label: String,
    pub value: String,
    pub testid: &'static str,
}

pub struct PeriodLink {
    pub href: String,
    pub label: String,
    pub current: bool,
}

pub struct SurveyView {
    pub answers: String,
    pub mean: String,
    pub understood: String,
    pub not_understood: String,
    pub chart: DeskChart,
}

/// An FAQ form: where it sends, what it shows, and whether the problems shown are its own.
#[derive(Debug, Clone, Default)]
pub struct FaqForm {
    /// Its fields' ids start with it, unique on the page: `faq_create-items`, `faq_revise-12`
    /// (the field `faq_create-items-question_ja`).
    pub prefix: String,
    pub category: String,
    pub question_ja: String,
    pub answer_ja: String,
    pub question_en: String,
    pub answer_en: String,
    /// The problems of the page are this form's.
    pub bad: bool,
}

impl FaqForm {
    fn empty(form: &str, scope: &str, category: &str) -> FaqForm {
        FaqForm {
            prefix: format!("{form}-{scope}"),
            category: category.to_owned(),
            ..FaqForm::default()
        }
    }

    /// The form again with what was typed, its problems shown.
    fn typed(form: &str, scope: &str, category: &str, t: &FaqText) -> FaqForm {
        FaqForm {
            prefix: format!("{form}-{scope}"),
            category: category.to_owned(),
            question_ja: t.question_ja.clone(),
            answer_ja: t.answer_ja.clone(),
            question_en: t.question_en.clone(),
            answer_en: t.answer_en.clone(),
            bad: true,
        }
    }
}

pub struct ProposalView {
    pub code: &'static str,
    pub label: String,
    pub count: String,
    pub samples: Vec<String>,
    pub form: FaqForm,
}

pub struct VersionView {
    pub version: i64,
    pub question_ja: String,
    pub answer_ja: String,
    pub question_en: String,
    pub answer_en: String,
    /// When and by whom (JST minute, name).
    pub written: (String, String),
    pub approved: Option<(String, String)>,
    pub published: bool,
    pub may_approve: bool,
}

pub struct EntryView {
    pub id: i64,
    pub category: String,
    pub status: String,
    pub retired: bool,
    pub published: Option<i64>,
    pub versions: Vec<VersionView>,
    pub form: FaqForm,
}

pub struct QuarantineView {
    pub at: String,
    pub file: String,
    pub position: i64,
    pub reason: String,
    pub actor: String,
}

/// What a mail import did, in the reader's language.
pub struct ImportReport {
    pub summary: String,
    pub quarantined: Vec<String>,
}

#[derive(Template)]
#[template(path = "incident_desk.html")]
pub struct DeskIncidentPage {
    pub c: Chrome,
    pub id: i64,
    pub ref_no: String,
    pub title: String,
    pub days: u32,
    pub periods: Vec<PeriodLink>,
    pub figures: Vec<Figure>,
    pub charts: Vec<DeskChart>,
    /// Manages the incident: proposals, survey, FAQ changes, exports.
    pub manager: bool,
    /// May download the inquiries (a manager who also handles inquiries).
    pub can_csv: bool,
    pub survey: Option<SurveyView>,
    pub proposals: Vec<ProposalView>,
    pub new_form: FaqForm,
    pub categories: Vec<Opt>,
    pub entries: Vec<EntryView>,
    /// The quarantined mails, for those who import mail (None: no mail section).
    pub quarantine: Option<Vec<QuarantineView>>,
    pub report: Option<ImportReport>,
    pub upload_limit: String,
    pub errs: FormErrors,
}

/// The FAQ form sent and what was typed into it.
struct Typed {
    form: &'static str,
    scope: String,
    category: String,
    text: FaqText,
}

/// What a refused form or an import brings to the page besides its data.
#[derive(Default)]
struct Extra {
    errs: Option<FormErrors>,
    typed: Option<Typed>,
    report: Option<ImportReport>,
    flash: Option<String>,
}

fn tr(v: &Visitor, key: &str) -> String {
    v.tr().get(key).to_owned()
}

/// The ids of a form's problems made unique on the page: `{form}-{scope}-{field}`.
fn scoped(mut errs: FormErrors, scope: &str) -> FormErrors {
    for e in &mut errs.items {
        if !e.id.is_empty() {
            e.id = format!("{}-{scope}-{}", errs.form, e.field);
        }
    }
    errs
}

/// The reason a mail was quarantined, from its stored code, in the reader's language.
#[must_use]
pub fn quarantine_reason(v: &Visitor, code: &str, size: i64) -> String {
    let key = match code {
        "not_a_mail" => "deskinc.q.not_a_mail",
        "no_from" => "deskinc.q.no_from",
        "too_large" => "deskinc.q.too_large",
        "too_many_parts" => "deskinc.q.too_many_parts",
        "too_deep" => "deskinc.q.too_deep",
        "undecodable_body" => "deskinc.q.undecodable_body",
        "empty_body" => "deskinc.q.empty_body",
        "too_many_messages" => "deskinc.q.too_many_messages",
        "malformed" => "deskinc.q.malformed",
        _ => "deskinc.q.unknown",
    };
    let size = u64::try_from(size).unwrap_or(0);
    v.tr()
        .get(key)
        .replace("{size}", &mamori_app::evidence::human_size(size))
        .replace("{n}", &crate::chart::grouped(size))
}

/// The incident's number and title: from the incident for a manager, from the desk's list for
/// the contact desk.
async fn head(
    s: &WebState,
    ctx: &Ctx,
    id: i64,
    manager: bool,
) -> Result<(String, String), AppError> {
    if manager {
        let (i, _) = s.app.incident_for(ctx, id).await?;
        return Ok((i.ref_no, i.title));
    }
    s.app
        .desk_incidents(ctx)
        .await?
        .into_iter()
        .find(|i| i.id == id)
        .map(|i| (i.ref_no, i.title))
        .ok_or(AppError::NotFound)
}

/// Whether the visitor may open the desk page of an incident whose page they see: a manager,
/// or the contact desk of an incident the desk answers for.
pub async fn may_open(s: &WebState, v: &Visitor, id: i64) -> bool {
    let ctx = v.ctx();
    if ctx.allows(Permission::ManageIncidents) {
        return true;
    }
    if !ctx.allows(Permission::HandleInquiries) {
        return false;
    }
    match s.app.desk_incidents(&ctx).await {
        Ok(list) => list.iter().any(|i| i.id == id),
        Err(e) => {
            tracing::warn!(error = %e, "the desk's incidents could not be read");
            false
        }
    }
}

fn figures(v: &Visitor, vol: &mamori_domain::desk::figures::Volumes) -> Vec<Figure> {
    let lang = v.lang;
    let t = v.tr();
    let none = "—".to_owned();
    let n = |x: i64| chart_desk::with_unit(lang, chart_desk::count(x));
    vec![
        Figure {
            label: t.get("deskinc.fig.total").to_owned(),
            value: n(vol.total),
            testid: "fig-total",
        },
        Figure {
            label: t.get("deskinc.fig.open").to_owned(),
            value: t
                .get("deskinc.fig.open_value")
                .replace("{open}", &n(vol.open))
                .replace("{escalated}", &n(vol.escalated)),
            testid: "fig-open",
        },
        Figure {
            label: t.get("deskinc.fig.handling").to_owned(),
            value: vol
                .avg_handling_secs
                .map_or(none.clone(), chart_desk::mm_ss),
            testid: "fig-handling",
        },
        Figure {
            label: t.get("deskinc.fig.to_close").to_owned(),
            value: vol
                .median_close_secs
                .map_or(none.clone(), |s| chart_desk::duration(lang, s)),
            testid: "fig-to-close",
        },
        Figure {
            label: t.get("deskinc.fig.busiest_day").to_owned(),
            value: vol.busiest_day.map_or(none.clone(), |(d, k)| {
                format!("{} {}", chart_desk::long_day(lang, d), n(k))
            }),
            testid: "fig-busiest-day",
        },
        Figure {
            label: t.get("deskinc.fig.busiest_hour").to_owned(),
            value: vol.busiest_hour.map_or(none, |(h, k)| {
                format!("{} {}", chart_desk::hour_label(lang, h), n(k))
            }),
            testid: "fig-busiest-hour",
        },
    ]
}

fn survey_view(v: &Visitor, (scores, yes, no): ([i64; 5], i64, i64)) -> SurveyView {
    let lang = v.lang;
    let answers: i64 = scores.iter().map(|n| (*n).max(0)).sum();
    #[allow(clippy::cast_precision_loss)]
    let mean = if answers > 0 {
        let total: f64 = scores
            .iter()
            .enumerate()
            .map(|(i, n)| (i as f64 + 1.0) * (*n).max(0) as f64)
            .sum();
        format!("{:.2}", total / answers as f64)
    } else {
        "—".to_owned()
    };
    let n = |x: i64| chart_desk::with_unit(lang, chart_desk::count(x));
    SurveyView {
        answers: n(answers),
        mean,
        understood: n(yes),
        not_understood: n(no),
        chart: chart_desk::survey_scores(&scores, lang),
    }
}

fn status_label(v: &Visitor, status: &str) -> String {
    tr(
        v,
        match status {
            "proposed" => "deskinc.faq.status.proposed",
            "approved" => "deskinc.faq.status.approved",
            "retired" => "deskinc.faq.status.retired",
            _ => "deskinc.faq.status.draft",
        },
    )
}

fn entry_view(v: &Visitor, f: &FaqView, manager: bool, typed: Option<&FaqText>) -> EntryView {
    let versions: Vec<VersionView> = f
        .versions
        .iter()
        .map(|x| VersionView {
            version: x.version,
            question_ja: x.question_ja.clone(),
            answer_ja: x.answer_ja.clone(),
            question_en: x.question_en.clone().unwrap_or_default(),
            answer_en: x.answer_en.clone().unwrap_or_default(),
            written: (format_minute(x.created_at), x.created_by.clone()),
            approved: x.approved_by.as_ref().map(|by| {
                (
                    x.approved_at.map(format_minute).unwrap_or_default(),
                    by.clone(),
                )
            }),
            published: f.entry.published_version == Some(x.version),
            // A draft older than the published version is history, not a candidate: approving
            // it would put older words back on the public page by mistake.
            may_approve: manager
                && x.approved_by.is_none()
                && f.entry.published_version.is_none_or(|p| x.version > p),
        })
        .collect();
    let scope = f.entry.id.to_string();
    let code = f.category.code();
    let form = match (typed, f.latest()) {
        (Some(t), _) => FaqForm::typed("faq_revise", &scope, code, t),
        (None, Some(l)) => FaqForm {
            question_ja: l.question_ja.clone(),
            answer_ja: l.answer_ja.clone(),
            question_en: l.question_en.clone().unwrap_or_default(),
            answer_en: l.answer_en.clone().unwrap_or_default(),
            ..FaqForm::empty("faq_revise", &scope, code)
        },
        (None, None) => FaqForm::empty("faq_revise", &scope, code),
    };
    EntryView {
        id: f.entry.id,
        category: f.category.label(v.lang).to_owned(),
        status: status_label(v, &f.entry.status),
        retired: f.entry.status == "retired",
        published: f.entry.published_version,
        versions,
        form,
    }
}

async fn build(
    s: &WebState,
    v: &Visitor,
    id: i64,
    days: u32,
    extra: Extra,
) -> Result<DeskIncidentPage, AppError> {
    let ctx = v.ctx();
    let lang = v.lang;
    // First: the use case says whether the visitor may see the desk of this incident.
    let vol = s.app.desk_volumes(&ctx, Some(id), days).await?;
    let manager = ctx.allows(Permission::ManageIncidents);
    let (ref_no, title) = head(s, &ctx, id, manager).await?;
    let faq = s.app.faq(&ctx, id).await?;
    let mut errs = extra.errs.unwrap_or_else(|| FormErrors::none("faq_create"));
    let mut typed = extra.typed;
    let (props, survey) = if manager {
        let props = s.app.faq_proposals(&ctx, id).await?;
        // The survey has no use case of its own: read only once the proposals' check that the
        // visitor manages this incident has passed.
        let survey = s.app.store.survey_counts(id).await?;
        (props, Some(survey_view(v, survey)))
    } else {
        (Vec::new(), None)
    };
    // A proposal's form whose category is no longer proposed (an entry was started meanwhile)
    // comes back as the form by hand, so that its problems are shown somewhere.
    if let Some(t) = typed.as_mut() {
        if t.form == "faq_create"
            && t.scope != "new"
            && !props.iter().any(|p| p.category.code() == t.scope)
        {
            "new".clone_into(&mut t.scope);
            errs = scoped(errs, "new");
        }
    }
    let typed_for = |form: &str, scope: &str| -> Option<&FaqText> {
        typed
            .as_ref()
            .filter(|t| errs.on(form) && t.form == form && t.scope == scope)
            .map(|t| &t.text)
    };
    let proposals = props
        .into_iter()
        .map(|p| {
            let code = p.category.code();
            let form = match typed_for("faq_create", code) {
                Some(t) => FaqForm::typed("faq_create", code, code, t),
                None => FaqForm::empty("faq_create", code, code),
            };
            ProposalView {
                code,
                label: p.category.label(lang).to_owned(),
                count: chart_desk::with_unit(lang, chart_desk::count(p.count)),
                samples: p.samples,
                form,
            }
        })
        .collect();
    let chosen = typed
        .as_ref()
        .filter(|t| t.form == "faq_create" && t.scope == "new")
        .map(|t| t.category.clone())
        .unwrap_or_default();
    let new_form = match typed_for("faq_create", "new") {
        Some(t) => FaqForm::typed("faq_create", "new", &chosen, t),
        None => FaqForm::empty("faq_create", "new", ""),
    };
    let categories = Category::ALL
        .iter()
        .map(|c| Opt {
            code: c.code().to_owned(),
            label: c.label(lang).to_owned(),
            selected: c.code() == chosen,
        })
        .collect();
    let entries = faq
        .iter()
        .map(|f| {
            let typed = typed_for("faq_revise", &f.entry.id.to_string());
            entry_view(v, f, manager, typed)
        })
        .collect();
    let quarantine = if ctx.allows(Permission::HandleInquiries) {
        match s.app.quarantined_mails(&ctx, id).await {
            Ok(rows) => Some(rows.iter().map(|r| quarantine_view(v, r)).collect()),
            // An incident the desk does not answer for (no campaign yet): no mail to import.
            Err(AppError::NotFound | AppError::Denied) => None,
            Err(e) => return Err(e),
        }
    } else {
        None
    };
    let periods = PERIODS
        .iter()
        .map(|d| PeriodLink {
            href: format!("/incidents/{id}/desk?days={d}#figures"),
            label: v.tr().get("deskinc.days").replace("{n}", &d.to_string()),
            current: *d == days,
        })
        .collect();
    let limit = s
        .app
        .settings
        .max_upload_bytes
        .min(s.cfg.max_body_bytes as u64);
    let c = Chrome::new(v, "deskinc.title")
        .about_incident(&ref_no, &title, false)
        .with_flash(extra.flash)
        .with_error(errs.banner(FORMS_WITH_SUMMARY));
    Ok(DeskIncidentPage {
        c,
        id,
        ref_no,
        title,
        days,
        periods,
        figures: figures(v, &vol),
        charts: chart_desk::desk_charts(&vol, lang),
        can_csv: manager,
        manager,
        survey,
        proposals,
        new_form,
        categories,
        entries,
        quarantine,
        report: extra.report,
        upload_limit: mamori_app::evidence::human_size(limit),
        errs,
    })
}

fn quarantine_view(v: &Visitor, r: &QuarantineRow) -> QuarantineView {
    QuarantineView {
        at: format_minute(r.at),
        file: r.file_name.clone(),
        position: r.position,
        reason: quarantine_reason(v, &r.reason, r.size),
        actor: r.actor.clone(),
    }
}

/// `GET /incidents/{id}/desk`.
pub async fn desk_page(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Path(id): Path<i64>,
    Query(q): Query<DeskQuery>,
) -> WebResult {
    v.full()?;
    let flash = q.done.as_deref().map(|d| {
        tr(
            &v,
            match d {
                "created" => "deskinc.done.created",
                "revised" => "deskinc.done.revised",
                "approved" => "deskinc.done.approved",
                "retired" => "deskinc.done.retired",
                _ => "deskinc.done.saved",
            },
        )
    });
    let page = build(
        &s,
        &v,
        id,
        period(q.days.as_deref()),
        Extra {
            flash,
            ..Extra::default()
        },
    )
    .await?;
    render_status(StatusCode::OK, &page)
}

fn faq_text(p: &Pairs) -> FaqText {
    FaqText {
        question_ja: p.get("question_ja").to_owned(),
        answer_ja: p.get("answer_ja").to_owned(),
        question_en: p.get("question_en").to_owned(),
        answer_en: p.get("answer_en").to_owned(),
    }
}

/// The page again (422) with the problems of the form sent.
async fn refused(
    s: &WebState,
    v: &Visitor,
    id: i64,
    errs: FormErrors,
    typed: Option<Typed>,
) -> WebResult {
    let page = build(
        s,
        v,
        id,
        DEFAULT_DAYS,
        Extra {
            errs: Some(errs),
            typed,
            ..Extra::default()
        },
    )
    .await?;
    render_status(StatusCode::UNPROCESSABLE_ENTITY, &page)
}

/// `POST /incidents/{id}/desk/faq`: a new entry, from a proposal (its category in a hidden
/// field) or by hand (`from=new`, the category chosen).
pub async fn faq_create(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> WebResult {
    v.full()?;
    let p = Pairs(pairs);
    let category = p.get("category").trim().to_owned();
    let scope = match Category::parse(&category) {
        Some(c) if p.get("from") != "new" => c.code().to_owned(),
        _ => "new".to_owned(),
    };
    let text = faq_text(&p);
    match s.app.create_faq(&v.ctx(), id, &category, &text).await {
        Ok(entry) => Ok(
            Redirect::to(&format!("/incidents/{id}/desk?done=created#faq-{entry}")).into_response(),
        ),
        Err(e @ AppError::Invalid(_)) => {
            let errs = scoped(FormErrors::of(&v, "faq_create", &e, FAQ_FIELDS), &scope);
            let typed = Typed {
                form: "faq_create",
                scope,
                category,
                text,
            };
            refused(&s, &v, id, errs, Some(typed)).await
        }
        Err(e) => Err(WebError(e)),
    }
}

/// The entry, when it is one of this incident's (an entry of another incident under this
/// address is not found).
async fn entry_of(s: &WebState, v: &Visitor, id: i64, entry: i64) -> Result<FaqView, AppError> {
    s.app
        .faq(&v.ctx(), id)
        .await?
        .into_iter()
        .find(|f| f.entry.id == entry)
        .ok_or(AppError::NotFound)
}

/// `POST /incidents/{id}/desk/faq/{entry}/revise`: a new version.
pub async fn faq_revise(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Path((id, entry)): Path<(i64, i64)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> WebResult {
    v.full()?;
    entry_of(&s, &v, id, entry).await?;
    let p = Pairs(pairs);
    let text = faq_text(&p);
    match s.app.revise_faq(&v.ctx(), entry, &text).await {
        Ok(_) => Ok(
            Redirect::to(&format!("/incidents/{id}/desk?done=revised#faq-{entry}")).into_response(),
        ),
        Err(e @ AppError::Invalid(_)) => {
            let scope = entry.to_string();
            let errs = scoped(FormErrors::of(&v, "faq_revise", &e, FAQ_FIELDS), &scope);
            let typed = Typed {
                form: "faq_revise",
                scope,
                category: String::new(),
                text,
            };
            refused(&s, &v, id, errs, Some(typed)).await
        }
        Err(e) => Err(WebError(e)),
    }
}

/// `POST /incidents/{id}/desk/faq/{entry}/approve` (field `version`): approved and published.
pub async fn faq_approve(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Path((id, entry)): Path<(i64, i64)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> WebResult {
    v.full()?;
    entry_of(&s, &v, id, entry).await?;
    let p = Pairs(pairs);
    let r = match p.id("version").filter(|n| *n > 0) {
        Some(version) => s.app.approve_faq(&v.ctx(), entry, version).await,
        None => Err(AppError::invalid(
            "version",
            "承認する版を選んでください",
            "choose the version to approve",
        )),
    };
    match r {
        Ok(()) => Ok(
            Redirect::to(&format!("/incidents/{id}/desk?done=approved#faq-{entry}"))
                .into_response(),
        ),
        Err(e @ AppError::Invalid(_)) => {
            let errs = FormErrors::of(&v, "faq_row", &e, &[]);
            refused(&s, &v, id, errs, None).await
        }
        Err(e) => Err(WebError(e)),
    }
}

/// `POST /incidents/{id}/desk/faq/{entry}/retire`: taken off the public page.
pub async fn faq_retire(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Path((id, entry)): Path<(i64, i64)>,
) -> WebResult {
    v.full()?;
    entry_of(&s, &v, id, entry).await?;
    match s.app.retire_faq(&v.ctx(), entry).await {
        Ok(()) => Ok(
            Redirect::to(&format!("/incidents/{id}/desk?done=retired#faq-{entry}")).into_response(),
        ),
        Err(e @ AppError::Invalid(_)) => {
            let errs = FormErrors::of(&v, "faq_row", &e, &[]);
            refused(&s, &v, id, errs, None).await
        }
        Err(e) => Err(WebError(e)),
    }
}

/// `attachment; filename="ascii"; filename*=UTF-8''percent-encoded` (RFC 6266).
fn attachment(name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!(
        "attachment; filename=\"{ascii}\"; filename*=UTF-8''{}",
        super::url_encode(name)
    )
}

/// The incident's number for a file name (managers only reach the exports).
async fn ref_no(s: &WebState, v: &Visitor, id: i64) -> Result<String, AppError> {
    let (i, _) = s.app.incident_for(&v.ctx(), id).await?;
    Ok(i.ref_no)
}

/// `GET /incidents/{id}/desk/inquiries.csv?enc=utf8|cp932`: for the call-centre company.
pub async fn inquiries_csv(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Path(id): Path<i64>,
    Query(q): Query<CsvQuery>,
) -> WebResult {
    v.full()?;
    let cp932 = matches!(
        q.enc
            .as_deref()
            .map(str::trim)
            .map(str::to_ascii_lowercase)
            .as_deref(),
        Some("cp932" | "sjis" | "shift_jis" | "windows-31j")
    );
    let bytes = s.app.inquiries_csv(&v.ctx(), id, cp932).await?;
    let r = ref_no(&s, &v, id).await?;
    let (ctype, suffix) = if cp932 {
        ("text/csv; charset=Shift_JIS", "-cp932")
    } else {
        ("text/csv; charset=utf-8", "")
    };
    Ok((
        [
            (header::CONTENT_TYPE, ctype.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                attachment(&format!("{r}-inquiries{suffix}.csv")),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// `GET /incidents/{id}/desk/report.pdf`: the desk's figures on one page.
pub async fn report_pdf(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Path(id): Path<i64>,
) -> WebResult {
    v.full()?;
    let pdf = s.app.desk_report_pdf(&v.ctx(), id).await?;
    let r = ref_no(&s, &v, id).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                attachment(&format!("{r}-desk-report.pdf")),
            ),
        ],
        pdf,
    )
        .into_response())
}

/// The file of the mail form: its name and bytes.
fn mail_file(headers: &HeaderMap, body: &[u8]) -> Result<(String, Vec<u8>), AppError> {
    let none = || {
        AppError::invalid(
            "file",
            "メールのファイル（mbox または .eml）を選んでください",
            "choose a mail file (mbox or .eml)",
        )
    };
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    let b = crate::multipart::boundary(ct).ok_or_else(none)?;
    let mut parts = crate::multipart::parse(body, &b);
    let i = parts
        .iter()
        .position(|p| p.name == "file" && p.filename.as_deref().is_some_and(|f| !f.is_empty()))
        .ok_or_else(none)?;
    let part = parts.swap_remove(i);
    if part.data.is_empty() {
        return Err(none());
    }
    Ok((part.filename.unwrap_or_default(), part.data))
}

fn report(v: &Visitor, m: &MailImport) -> ImportReport {
    let lang = v.lang;
    let n = |x: usize| crate::chart::grouped(x as u64);
    ImportReport {
        summary: v
            .tr()
            .get("deskinc.mail.report")
            .replace("{created}", &n(m.created))
            .replace("{threaded}", &n(m.threaded))
            .replace("{duplicates}", &n(m.duplicates))
            .replace("{quarantined}", &n(m.quarantined.len())),
        quarantined: m
            .quarantined
            .iter()
            .map(|(pos, ja, en)| {
                v.tr()
                    .get("deskinc.mail.quarantined_at")
                    .replace("{n}", &pos.to_string())
                    .replace("{reason}", if lang == Lang::En { en } else { ja })
            })
            .collect(),
    }
}

/// `POST /incidents/{id}/desk/mail`: an mbox or .eml file of inquiry mails (multipart, the
/// CSRF token in the form's `csrf` field, checked by the visitor middleware).
pub async fn mail_import(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Path(id): Path<i64>,
    headers: HeaderMap,
    body: Bytes,
) -> WebResult {
    v.full()?;
    let r = match mail_file(&headers, &body) {
        Ok((name, bytes)) => s.app.import_inquiry_mail(&v.ctx(), id, &name, &bytes).await,
        Err(e) => Err(e),
    };
    match r {
        Ok(m) => {
            let page = build(
                &s,
                &v,
                id,
                DEFAULT_DAYS,
                Extra {
                    report: Some(report(&v, &m)),
                    ..Extra::default()
                },
            )
            .await?;
            render_status(StatusCode::OK, &page)
        }
        Err(e @ AppError::Invalid(_)) => {
            let errs = FormErrors::of(&v, "mail", &e, MAIL_FIELDS);
            refused(&s, &v, id, errs, None).await
        }
        Err(e) => Err(WebError(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_period_is_one_of_three() {
        assert_eq!(period(None), 14);
        assert_eq!(period(Some("7")), 7);
        assert_eq!(period(Some(" 30 ")), 30);
        for bad in ["", "0", "15", "-7", "99999999999999999999", "七", "7d"] {
            assert_eq!(period(Some(bad)), DEFAULT_DAYS, "{bad}");
        }
    }

    #[test]
    fn attachments_name_an_ascii_file_and_the_real_one() {
        assert_eq!(
            attachment("INC-2026-0001-inquiries.csv"),
            "attachment; filename=\"INC-2026-0001-inquiries.csv\"; filename*=UTF-8''INC-2026-0001-inquiries.csv"
        );
        let a = attachment("報告\"x\r\n.pdf");
        assert!(a.starts_with("attachment; filename=\"___x__.pdf\""), "{a}");
        assert!(!a.contains('\r') && !a.contains('\n'));
    }

    #[test]
    fn mail_files_are_found_in_the_form() {
        let mut h = HeaderMap::new();
        h.insert(
            header::CONTENT_TYPE,
            "multipart/form-data; boundary=XyZ".parse().unwrap(),
        );
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\ntok\r\n--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"in.mbox\"\r\n\r\nFrom a\r\n--XyZ--\r\n";
        let (name, data) = mail_file(&h, body).unwrap();
        assert_eq!(name, "in.mbox");
        assert_eq!(data, b"From a");
        // No file chosen: an empty part without a name; not multipart at all; garbage.
        let empty = b"--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"\"\r\n\r\n\r\n--XyZ--\r\n";
        assert!(matches!(mail_file(&h, empty), Err(AppError::Invalid(_))));
        assert!(matches!(
            mail_file(&h, b"\xff\xfe"),
            Err(AppError::Invalid(_))
        ));
        assert!(matches!(
            mail_file(&HeaderMap::new(), body),
            Err(AppError::Invalid(_))
        ));
    }

    #[test]
    fn every_catalogue_key_of_this_page_is_in_both_languages() {
        use crate::i18n::Tr;
        let mut n = 0;
        for src in [
            include_str!("desk_incident.rs"),
            include_str!("../../templates/incident_desk.html"),
            include_str!("../../templates/incident_desk_faq_fields.html"),
        ] {
            for key in src
                .split('"')
                .filter(|k| k.starts_with("deskinc.") && !k.contains(' ') && !k.ends_with('.'))
            {
                n += 1;
                for lang in [Lang::Ja, Lang::En] {
                    assert_ne!(Tr::of(lang).get(key), key, "{key} missing in {lang:?}");
                }
            }
        }
        assert!(n > 50, "{n} keys");
    }
}
