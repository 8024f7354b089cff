//! The public page of an incident (issue 15): no login, made for a phone. One page at
//! `/notice/{slug}` shows the published notice, the contact point with its hours, the approved
//! FAQ, the "am I affected?" check, the inquiry form and the survey; the three forms post to
//! `/notice/{slug}/check`, `/inquiry` and `/survey`, and a form accepted answers with a
//! redirect (303) to the page with a thank-you at that form (`?sent=check#check`).
//!
//! - The page is built from the cached `PublicPage` of `mamori-app` (no query when the cache
//!   is warm) and rendered afresh for every request, because every form carries a fresh stamp
//!   and, under load, a fresh proof-of-work challenge (`crate::public_guard`). When the cache
//!   has expired, the visitors asking at that moment share one rebuild ([`shared_page`])
//!   instead of each running the page's queries.
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
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use tokio::sync::Notify;

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

/// The fetches of a page from `mamori-app` under way, by router ([`WebState::public`]'s
/// address) and slug, each with the signal its waiters wait for.
type Fetches = Mutex<HashMap<(usize, String), Arc<Notify>>>;

fn fetches() -> &'static Fetches {
    static FETCHES: OnceLock<Fetches> = OnceLock::new();
    FETCHES.get_or_init(Fetches::default)
}

/// The fetch a request started: forgotten, and its waiters woken, when the request ends
/// (answered, failed or dropped), so that no waiter is left waiting and nothing is kept.
struct Fetching {
    key: (usize, String),
    done: Arc<Notify>,
}

impl Drop for Fetching {
    fn drop(&mut self) {
        if let Ok(mut m) = fetches().lock() {
            if m.get(&self.key).is_some_and(|d| Arc::ptr_eq(d, &self.done)) {
                m.remove(&self.key);
            }
        }
        self.done.notify_waiters();
    }
}

/// The public page of `slug` from `mamori-app`, one request at a time fetching it. The app's
/// cache answers without a query while it is fresh; when it has expired, every request in
/// flight would otherwise miss it together and run the page's eight queries each — at 256
/// connections about two thousand queries every few seconds, queued in the database pool
/// ahead of the desk's operators (docs/benchmarks.md, issue 15). So the first request fetches
/// and those arriving meanwhile wait for it, then read the page it left in the cache (or, if
/// it failed, ask on their own).
async fn shared_page(s: &WebState, slug: &str) -> Result<Arc<PublicPage>, AppError> {
    let slug = clean_slug(slug);
    let key = (Arc::as_ptr(&s.public) as usize, slug.clone());
    let turn = match fetches().lock() {
        Ok(mut m) => {
            if let Some(done) = m.get(&key) {
                // Registered while the lock is held: the fetch cannot end unseen.
                Turn::Wait(done.clone().notified_owned())
            } else {
                let done = Arc::new(Notify::new());
                m.insert(key.clone(), done.clone());
                Turn::Fetch(Fetching { key, done })
            }
        }
        Err(_) => Turn::Alone,
    };
    match turn {
        Turn::Fetch(fetching) => {
            let page = s.app.public_page(&slug).await;
            drop(fetching);
            page
        }
        Turn::Wait(woken) => {
            woken.await;
            s.app.public_page(&slug).await
        }
        Turn::Alone => s.app.public_page(&slug).await,
    }
}

/// What a request does about a page fetch ([`shared_page`]).
enum Turn {
    /// Fetches it, the others waiting.
    Fetch(Fetching),
    /// Waits for the fetch under way, then reads the cache.
    Wait(tokio::sync::futures::OwnedNotified),
    /// Fetches it on its own (the table of fetches is unusable after a panic).
    Alone,
}

/// `GET /notice/{slug}`: the public page.
pub async fn notice_page(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Path(slug): Path<String>,
    Query(q): Query<SentQuery>,
) -> WebResult {
    let page = shared_page(&s, &slug).await?;
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
    let page = shared_page(s, slug).await?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::WebConfig;
    use futures_util::future::join_all;
    use futures_util::FutureExt;
    use mamori_app::clock::ManualClock;
    use mamori_app::desk_faq::FaqText;
    use mamori_app::keys::Keys;
    use mamori_app::{App, Ctx, Settings};
    use mamori_store::testing::{temp_dir, TestDb};

    // 2026-11-24T01:00:00Z = 2026-11-24 10:00 JST.
    const T0: i64 = 1_795_482_000_000_000;

    struct Env {
        state: WebState,
        office: Ctx,
        incident: i64,
        slug: String,
        db: TestDb,
        _writer: tokio::task::JoinHandle<()>,
    }

    /// The demo company with its campaign's notice published, on each test database.
    async fn envs() -> Vec<Env> {
        let mut out = Vec::new();
        for db in TestDb::all().await {
            let keys = Keys::load_or_create(&temp_dir("webkeys").join("k"), true).unwrap();
            let clock = Arc::new(ManualClock::new(T0));
            let (app, writer) = App::new(db.store.clone(), keys, clock, Settings::default());
            app.open_vault_default(true).await.unwrap();
            app.seed_demo().await.unwrap();
            let tanaka = app
                .store
                .find_user_by_login("tanaka")
                .await
                .unwrap()
                .unwrap();
            let office = Ctx::user(tanaka, "10.0.0.1");
            let incident = app.store.get_campaign(1).await.unwrap().incident_id;
            let slug = app.publish_public_notice(&office, 1).await.unwrap();
            out.push(Env {
                state: WebState::new(app, WebConfig::default()),
                office,
                incident,
                slug,
                db,
                _writer: writer,
            });
        }
        out
    }

    /// The fetches under way for `state`'s router.
    fn pending(state: &WebState) -> usize {
        let me = Arc::as_ptr(&state.public) as usize;
        fetches()
            .lock()
            .unwrap()
            .keys()
            .filter(|(router, _)| *router == me)
            .count()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn visitors_arriving_together_share_one_fetch_of_a_changed_page() {
        for e in envs().await {
            let app = &e.state.app;
            // A new FAQ entry approved: the app forgets the cached page.
            let entry = app
                .create_faq(
                    &e.office,
                    e.incident,
                    "items",
                    &FaqText {
                        question_ja: "どの情報が漏えいしましたか".into(),
                        answer_ja: "氏名と住所です".into(),
                        ..FaqText::default()
                    },
                )
                .await
                .unwrap();
            app.approve_faq(&e.office, entry, 1).await.unwrap();
            // Forty visitors at once: one fetch, so one page object for all (each fetching
            // on its own would build forty).
            let pages = join_all((0..40).map(|_| shared_page(&e.state, &e.slug))).await;
            let first = pages[0].as_ref().unwrap().clone();
            for p in &pages {
                assert!(Arc::ptr_eq(p.as_ref().unwrap(), &first));
            }
            assert!(
                first
                    .faq
                    .iter()
                    .any(|f| f.question_ja == "どの情報が漏えいしましたか"),
                "the page fetched after the approval shows the new entry"
            );
            assert_eq!(pending(&e.state), 0, "nothing is kept once answered");
            e.db.cleanup().await;
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_unknown_page_is_not_found_for_every_visitor_sharing_the_fetch() {
        for e in envs().await {
            let unknown = "zzzzzzzzzzzzzzzzzzzzzzzzzz";
            let pages = join_all((0..10).map(|_| shared_page(&e.state, unknown))).await;
            for p in pages {
                assert!(matches!(p, Err(AppError::NotFound)), "{:?}", p.err());
            }
            // What the path segment holds besides letters, digits and '-' is dropped first.
            assert!(matches!(
                shared_page(&e.state, "../../etc/passwd").await,
                Err(AppError::NotFound)
            ));
            assert_eq!(pending(&e.state), 0);
            // The real page is still found.
            assert_eq!(shared_page(&e.state, &e.slug).await.unwrap().slug, e.slug);
            e.db.cleanup().await;
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_visitor_who_leaves_during_the_fetch_leaves_nothing_behind() {
        for e in envs().await {
            e.state.app.public_cache.invalidate(e.incident);
            // Polled once (the fetch starts and waits for the database), then dropped.
            assert!(shared_page(&e.state, &e.slug).now_or_never().is_none());
            assert_eq!(pending(&e.state), 0, "the abandoned fetch is forgotten");
            // The next visitor fetches afresh and gets the page.
            assert_eq!(shared_page(&e.state, &e.slug).await.unwrap().slug, e.slug);
            assert_eq!(pending(&e.state), 0);

            // A visitor waiting for the fetch of one who leaves is not left waiting: it
            // fetches on its own.
            e.state.app.public_cache.invalidate(e.incident);
            let mut first = Box::pin(shared_page(&e.state, &e.slug));
            assert!((&mut first).now_or_never().is_none());
            assert_eq!(pending(&e.state), 1);
            let mut second = Box::pin(shared_page(&e.state, &e.slug));
            assert!((&mut second).now_or_never().is_none(), "it waits");
            drop(first);
            assert_eq!(pending(&e.state), 0);
            let page = tokio::time::timeout(std::time::Duration::from_secs(10), second)
                .await
                .expect("the waiter goes on when the fetch it waited for is dropped");
            assert_eq!(page.unwrap().slug, e.slug);
            e.db.cleanup().await;
        }
    }
}
