//! The public page of an incident (issue 15): no login, made for a phone. One page at
//! `/notice/{slug}` shows the published notice, the contact point with its hours, the approved
//! FAQ, the "am I affected?" check, the inquiry form and the survey; the three forms post to
//! `/notice/{slug}/check`, `/inquiry` and `/survey`, and a form accepted answers with a
//! redirect (303) to the page with a thank-you at that form (`?sent=check#check`).
//!
//! - The page is built from the cached `PublicPage` of `mamori-app` (no query when the cache
//!   is warm) and rendered afresh for every request, because every form carries a fresh stamp
//!   and, under load, a fresh proof-of-work challenge (`crate::public_guard`).
//! - The check says the same words whatever the address: the handler only hands the address to
//!   the use case, which queues the work; nothing is looked up here.
//! - A refused form comes back 422 with its values and problems (`FormErrors`); a network over
//!   its limit gets a 429 page naming when to try again (`Retry-After`). Every refusal is
//!   logged at info with the form and the reason, never with what was typed.
//! - No navigation of the logged-in application: the page has its own frame
//!   (`public_base.html`) with the company's name and the language switch, and loads only
//!   `static/pow.js`.

use super::{jst, render_status, url_encode};
use crate::error::{WebError, WebResult};
use crate::form::FormErrors;
use crate::i18n::{Lang, Tr};
use crate::public_guard::{network_key, FormTokens, PublicForm, Screen, Shield, HONEYPOT_FIELD};
use crate::visitor::Visitor;
use crate::WebState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use mamori_app::desk_public::{PublicInquiry, PublicPage};
use mamori_app::AppError;
use mamori_domain::notice::LetterParts;
use serde::Deserialize;
use std::sync::Arc;

const CHECK_FIELDS: &[(&str, &str)] = &[("email", "public.check.email")];
const INQUIRY_FIELDS: &[(&str, &str)] = &[
    ("name", "public.inquiry.name"),
    ("contact", "public.inquiry.contact"),
    ("question", "public.inquiry.question"),
];
const SURVEY_FIELDS: &[(&str, &str)] = &[
    ("score", "public.survey.score"),
    ("understood", "public.survey.understood"),
    ("comment", "public.survey.comment"),
];
/// The scores of the survey, with the catalogue keys of their labels.
const SCORES: [(&str, &str); 5] = [
    ("5", "public.survey.score.5"),
    ("4", "public.survey.score.4"),
    ("3", "public.survey.score.3"),
    ("2", "public.survey.score.2"),
    ("1", "public.survey.score.1"),
];
/// The most characters of a value shown again in a refused form (the body is at most 64 KiB;
/// the use case refuses anything longer than 2,000 characters with its own message).
const ECHO_MAX: usize = 8_000;

/// What every public page has around its content (`public_base.html`).
pub struct PublicFrame {
    pub t: &'static Tr,
    pub lang: &'static str,
    pub title: String,
    pub company: String,
    pub lang_href: String,
}

impl PublicFrame {
    fn new(v: &Visitor, page: &PublicPage, title: &str) -> PublicFrame {
        PublicFrame {
            t: v.tr(),
            lang: v.lang.code(),
            title: title.to_owned(),
            company: page.company_name.clone(),
            lang_href: format!(
                "/lang/{}?next={}",
                v.lang.other().code(),
                url_encode(&format!("/notice/{}", page.slug))
            ),
        }
    }
}

/// One FAQ entry in the reader's language (Japanese when it has no English version).
pub struct FaqShown<'a> {
    pub lang: &'static str,
    pub question: &'a str,
    pub answer: &'a str,
}

/// What the visitor typed into the forms (empty but for the form sent).
#[derive(Debug, Clone, Default)]
pub struct Typed {
    pub email: String,
    pub name: String,
    pub contact: String,
    pub question: String,
    pub score: String,
    pub understood: String,
    pub comment: String,
}

impl Typed {
    /// Whether `value` is the score or the answer chosen (for `checked`).
    pub fn score_is(&self, value: &str) -> bool {
        self.score.trim() == value
    }

    pub fn understood_is(&self, value: &str) -> bool {
        self.understood.trim() == value
    }
}

#[derive(Template)]
#[template(path = "public_notice.html")]
pub struct NoticePage<'a> {
    pub b: PublicFrame,
    pub slug: &'a str,
    pub csrf: &'a str,
    /// The notice's language (Japanese when there is no English notice).
    pub notice_lang: &'static str,
    pub parts: &'a LetterParts,
    /// The notice's sections but the contact point, which has its own card.
    pub sections: Vec<&'a (String, String)>,
    pub published: String,
    pub contact: &'a str,
    pub contact_lang: &'static str,
    pub faq: Vec<FaqShown<'a>>,
    /// The form whose thank-you is shown (`check`, `inquiry`, `survey`), or empty.
    pub sent: &'static str,
    /// The stamp and challenge of each form.
    pub check: FormTokens,
    pub inquiry: FormTokens,
    pub survey: FormTokens,
    /// The problems of the form sent (its `form` says which), or none.
    pub errs: FormErrors,
    pub typed: Typed,
    pub honeypot: &'static str,
    pub scores: [(&'static str, &'static str); 5],
}

#[derive(Template)]
#[template(path = "public_refused.html")]
pub struct RefusedPage<'a> {
    pub b: PublicFrame,
    pub slug: &'a str,
    pub message: String,
    pub contact: &'a str,
    pub contact_lang: &'static str,
}

#[derive(Debug, Default, Deserialize)]
pub struct SentQuery {
    #[serde(default)]
    pub sent: Option<String>,
}

/// The fields every public form sends besides its own.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ShieldFields {
    pub stamp: String,
    pub pow_token: String,
    pub pow: String,
    /// The honeypot ([`HONEYPOT_FIELD`]).
    pub ref_code: String,
}

impl ShieldFields {
    fn shield(&self) -> Shield<'_> {
        Shield {
            honeypot: &self.ref_code,
            stamp: &self.stamp,
            pow_token: &self.pow_token,
            pow: &self.pow,
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CheckForm {
    pub email: String,
    #[serde(flatten)]
    pub shield: ShieldFields,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct InquiryForm {
    pub name: String,
    pub contact: String,
    pub question: String,
    #[serde(flatten)]
    pub shield: ShieldFields,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SurveyForm {
    pub score: String,
    pub understood: String,
    pub comment: String,
    #[serde(flatten)]
    pub shield: ShieldFields,
}

/// The path segment as the use case accepts it (anything else is simply not found).
fn clean_slug(slug: &str) -> String {
    slug.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .take(64)
        .collect()
}

fn echo(s: &str) -> String {
    s.chars().take(ECHO_MAX).collect()
}

fn errs_of(v: &Visitor, form: PublicForm, e: &AppError) -> FormErrors {
    match form {
        PublicForm::Check => FormErrors::of(v, "check", e, CHECK_FIELDS),
        PublicForm::Inquiry => FormErrors::of(v, "inquiry", e, INQUIRY_FIELDS),
        PublicForm::Survey => FormErrors::of(v, "survey", e, SURVEY_FIELDS),
    }
}

/// Renders the page: fresh tokens for the three forms, the problems of `refused` at its form.
fn page_response(
    s: &WebState,
    v: &Visitor,
    page: &PublicPage,
    sent: Option<PublicForm>,
    refused: Option<FormErrors>,
    typed: Typed,
) -> WebResult {
    let now = s.app.clock.now_micros();
    let under_load = s.public.under_load(now);
    let (notice_lang, parts) = match (v.lang, &page.en) {
        (Lang::En, Some(en)) => ("en", en),
        _ => ("ja", &page.ja),
    };
    let (contact, contact_lang) = contact_of(v, page);
    let sections: Vec<&(String, String)> = parts
        .sections
        .iter()
        .filter(|(_, body)| !body.trim().is_empty() && body.trim() != contact.trim())
        .collect();
    let faq = page
        .faq
        .iter()
        .map(|f| match (v.lang, &f.question_en, &f.answer_en) {
            (Lang::En, Some(q), Some(a)) if !q.trim().is_empty() => FaqShown {
                lang: "en",
                question: q,
                answer: a,
            },
            _ => FaqShown {
                lang: "ja",
                question: &f.question_ja,
                answer: &f.answer_ja,
            },
        })
        .collect();
    let errs = refused.unwrap_or_else(|| FormErrors::none(""));
    let view = NoticePage {
        b: PublicFrame::new(v, page, &parts.title),
        slug: &page.slug,
        csrf: v.csrf(),
        notice_lang,
        parts,
        sections,
        published: jst(page.published_at).chars().take(10).collect(),
        contact,
        contact_lang,
        faq,
        sent: sent.map_or("", PublicForm::code),
        check: s.public.tokens(now, under_load),
        inquiry: s.public.tokens(now, under_load),
        survey: s.public.tokens(now, under_load),
        errs,
        typed,
        honeypot: HONEYPOT_FIELD,
        scores: SCORES,
    };
    render_status(view.errs.status(), &view)
}

/// The contact point in the reader's language, and that language.
fn contact_of<'a>(v: &Visitor, page: &'a PublicPage) -> (&'a str, &'static str) {
    match (v.lang, &page.contact_en) {
        (Lang::En, Some(en)) if !en.trim().is_empty() => (en.as_str(), "en"),
        _ => (page.contact_ja.as_str(), "ja"),
    }
}

/// `GET /notice/{slug}`: the public page.
pub async fn notice_page(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Path(slug): Path<String>,
    Query(q): Query<SentQuery>,
) -> WebResult {
    let page = s.app.public_page(&clean_slug(&slug)).await?;
    let sent = q.sent.as_deref().and_then(PublicForm::parse);
    page_response(&s, &v, &page, sent, None, Typed::default())
}

/// The 429 page: when to try again, and the contact point for what cannot wait.
fn throttled(v: &Visitor, page: &PublicPage, now: i64, retry_after: u64) -> WebResult {
    let t = v.tr();
    let secs = retry_after.max(1);
    let minutes = secs.div_ceil(60);
    let at = now.saturating_add(
        i64::try_from(secs)
            .unwrap_or(i64::MAX / 2)
            .saturating_mul(1_000_000),
    );
    let time: String = jst(at).chars().skip(11).take(5).collect();
    let when = t
        .get("public.throttled.when")
        .replace("{n}", &minutes.to_string())
        .replace("{time}", &time);
    let (contact, contact_lang) = contact_of(v, page);
    let view = RefusedPage {
        b: PublicFrame::new(v, page, t.get("public.throttled.title")),
        slug: &page.slug,
        message: t.fill("public.throttled", "when", &when),
        contact,
        contact_lang,
    };
    let mut r = render_status(StatusCode::TOO_MANY_REQUESTS, &view)?;
    if let Ok(h) = HeaderValue::from_str(&secs.to_string()) {
        r.headers_mut().insert(header::RETRY_AFTER, h);
    }
    Ok(r)
}

fn thanks(slug: &str, form: PublicForm) -> Response {
    let f = form.code();
    Redirect::to(&format!("/notice/{slug}?sent={f}#{f}")).into_response()
}

/// Logs a refusal: the form, the reason and the request, never a value.
fn log_refusal(v: &Visitor, form: PublicForm, reason: &str) {
    tracing::info!(
        request_id = %v.request_id,
        form = form.code(),
        reason,
        "public form refused"
    );
}

/// The common path of the three forms: the page, the guard, then the use case.
async fn submit<F, Fut>(
    s: &WebState,
    v: &Visitor,
    slug: &str,
    form: PublicForm,
    shield: Shield<'_>,
    typed: Typed,
    store: F,
) -> WebResult
where
    F: FnOnce(Arc<PublicPage>) -> Fut,
    Fut: std::future::Future<Output = Result<(), AppError>>,
{
    let page = s.app.public_page(&clean_slug(slug)).await?;
    let now = s.app.clock.now_micros();
    match s.public.screen(form, &network_key(&v.ip), &shield, now) {
        Screen::Pass => {}
        Screen::Honeypot => {
            log_refusal(v, form, "honeypot");
            return Ok(thanks(&page.slug, form));
        }
        Screen::Throttled { retry_after } => {
            log_refusal(v, form, "network_limit");
            return throttled(v, &page, now, retry_after);
        }
        Screen::Refused(r) => {
            log_refusal(v, form, r.code());
            let errs = FormErrors::message(v, form.code(), r.say(v.lang));
            return page_response(s, v, &page, None, Some(errs), typed);
        }
    }
    match store(page.clone()).await {
        Ok(()) => Ok(thanks(&page.slug, form)),
        Err(e @ AppError::Invalid(_)) => {
            log_refusal(v, form, "invalid");
            let errs = errs_of(v, form, &e);
            page_response(s, v, &page, None, Some(errs), typed)
        }
        Err(AppError::Throttled(secs)) => {
            log_refusal(v, form, "address_limit");
            throttled(v, &page, now, u64::try_from(secs).unwrap_or(1))
        }
        Err(e) => Err(WebError(e)),
    }
}

/// `POST /notice/{slug}/check`: "am I affected?" — the answer goes to the address by mail.
pub async fn check_submit(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Path(slug): Path<String>,
    Form(f): Form<CheckForm>,
) -> WebResult {
    let typed = Typed {
        email: echo(&f.email),
        ..Typed::default()
    };
    let ctx = v.ctx();
    let lang = v.lang;
    let app = &s.app;
    submit(
        &s,
        &v,
        &slug,
        PublicForm::Check,
        f.shield.shield(),
        typed,
        |page| async move {
            app.public_affected_check(&ctx, &page.slug, &f.email, lang)
                .await
        },
    )
    .await
}

/// `POST /notice/{slug}/inquiry`: a question for the desk.
pub async fn inquiry_submit(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Path(slug): Path<String>,
    Form(f): Form<InquiryForm>,
) -> WebResult {
    let typed = Typed {
        name: echo(&f.name),
        contact: echo(&f.contact),
        question: echo(&f.question),
        ..Typed::default()
    };
    let ctx = v.ctx();
    let app = &s.app;
    let input = PublicInquiry {
        name: f.name.clone(),
        contact: f.contact.clone(),
        question: f.question.clone(),
    };
    submit(
        &s,
        &v,
        &slug,
        PublicForm::Inquiry,
        f.shield.shield(),
        typed,
        |page| async move {
            app.public_inquiry(&ctx, &page.slug, &input)
                .await
                .map(|_| ())
        },
    )
    .await
}

/// `POST /notice/{slug}/survey`: the satisfaction survey.
pub async fn survey_submit(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Path(slug): Path<String>,
    Form(f): Form<SurveyForm>,
) -> WebResult {
    let typed = Typed {
        score: echo(&f.score),
        understood: echo(&f.understood),
        comment: echo(&f.comment),
        ..Typed::default()
    };
    let ctx = v.ctx();
    let app = &s.app;
    submit(
        &s,
        &v,
        &slug,
        PublicForm::Survey,
        f.shield.shield(),
        typed,
        |page| async move {
            app.public_survey(&ctx, &page.slug, &f.score, &f.understood, &f.comment)
                .await
        },
    )
    .await
}
