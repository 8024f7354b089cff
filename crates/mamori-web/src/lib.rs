//! The web application: an axum router over the use cases of `mamori-app`.
//!
//! One middleware ([`visitor::visitor`]) wraps every request: it resolves the session from its
//! cookie, checks the CSRF token of every state-changing request, records the request in the
//! audit log with its outcome, and renders every error as a page in the visitor's language (or
//! JSON for API clients). Handlers stay thin: extract, call one use case, render.

pub mod chart;
pub mod chart_desk;
pub mod chart_radar;
pub mod client_addr;
pub mod error;
pub mod form;
pub mod i18n;
pub mod multipart;
pub mod pages;
pub mod public_guard;
pub mod redact;
pub mod visitor;

use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use mamori_app::App;
use std::sync::Arc;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::set_header::SetResponseHeaderLayer;

/// Settings of the web front.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// Mark cookies `Secure` (browsers accept them on http://localhost and 127.0.0.1 too).
    pub cookie_secure: bool,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Reverse proxies whose `X-Forwarded-For` is believed (see [`client_addr`]).
    pub trusted_proxies: Vec<mamori_domain::net::Cidr>,
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig {
            cookie_secure: true,
            max_body_bytes: 1024 * 1024,
            trusted_proxies: Vec::new(),
        }
    }
}

#[derive(Clone)]
pub struct WebState {
    pub app: App,
    pub cfg: Arc<WebConfig>,
    /// Limits, load gauge and spent tokens of the public forms (`/notice/{slug}/…`).
    pub public: Arc<public_guard::PublicGuard>,
}

impl WebState {
    /// The state of one process: `app`, `cfg`, and a public-form guard with the default
    /// limits whose secrets are derived from the app's keys.
    pub fn new(app: App, cfg: WebConfig) -> WebState {
        let public = Arc::new(public_guard::PublicGuard::new(&app.keys));
        WebState {
            app,
            cfg: Arc::new(cfg),
            public,
        }
    }
}

const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
    connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The whole application.
pub fn router(app: App, cfg: WebConfig) -> Router {
    router_with(WebState::new(app, cfg))
}

/// The whole application on a state built by the caller (a test lowering the public forms'
/// limits or proof-of-work, say).
pub fn router_with(state: WebState) -> Router {
    let public_limit = DefaultBodyLimit::max(public_guard::BODY_LIMIT);
    let limit = state.cfg.max_body_bytes;
    Router::new()
        .route("/", get(pages::home::home))
        .route(
            "/login",
            get(pages::auth::login_page).post(pages::auth::login_submit),
        )
        .route(
            "/login/totp",
            get(pages::auth::totp_page).post(pages::auth::totp_submit),
        )
        .route(
            "/login/totp-setup",
            get(pages::auth::totp_setup_page).post(pages::auth::totp_setup_submit),
        )
        .route("/logout", post(pages::auth::logout))
        .route("/lang/{lang}", get(pages::auth::switch_lang))
        .route("/account", get(pages::account::account_page))
        .route("/account/password", post(pages::account::change_password))
        .route("/account/tokens", post(pages::account::create_token))
        .route(
            "/account/tokens/{id}/revoke",
            post(pages::account::revoke_token),
        )
        .route("/api/v1/vault/datasets", get(pages::api::datasets))
        .route(
            "/api/v1/vault/datasets/{id}/records",
            get(pages::api::lookup_by_get),
        )
        .route(
            "/api/v1/vault/datasets/{id}/lookup",
            post(pages::api::lookup),
        )
        .route(
            "/api/v1/vault/records/{id}/reveal",
            post(pages::api::reveal),
        )
        .route(
            "/account/totp",
            get(pages::auth::account_totp_page).post(pages::auth::account_totp_submit),
        )
        .route(
            "/admin/users",
            get(pages::admin::users_page).post(pages::admin::create_user),
        )
        .route("/admin/users/new", get(pages::admin::new_user_page))
        .route(
            "/admin/users/{id}",
            get(pages::admin::edit_user_page).post(pages::admin::update_user),
        )
        .route(
            "/admin/users/{id}/password",
            post(pages::admin::reset_password),
        )
        .route(
            "/admin/users/{id}/totp-reset",
            post(pages::admin::reset_totp),
        )
        .route("/admin/users/{id}/unlock", post(pages::admin::unlock_user))
        .route(
            "/admin/departments",
            get(pages::admin::departments_page).post(pages::admin::create_department),
        )
        .route(
            "/admin/departments/{id}",
            post(pages::admin::update_department),
        )
        .route("/audit", get(pages::audit::audit_page))
        .route("/audit/export", get(pages::audit::audit_export))
        .route(
            "/admin/alerts",
            get(pages::alerts::alerts_page).post(pages::alerts::save_call_tree),
        )
        .route("/admin/alerts/webhooks", post(pages::alerts::add_webhook))
        .route(
            "/admin/alerts/webhooks/{id}",
            post(pages::alerts::toggle_webhook),
        )
        .route(
            "/incidents",
            get(pages::incidents::list_page).post(pages::incidents::create_incident),
        )
        .route("/incidents/new", get(pages::incidents::new_incident_page))
        .route("/incidents/{id}", get(pages::incidents::incident_page))
        .route(
            "/incidents/{id}/facts",
            post(pages::incidents::update_facts),
        )
        .route(
            "/incidents/{id}/second-report",
            post(pages::incidents::save_second_report),
        )
        .route("/incidents/{id}/phase", post(pages::incidents::enter_phase))
        .route("/incidents/{id}/tasks", post(pages::incidents::add_task))
        .route(
            "/incidents/{id}/tasks/{task}",
            post(pages::incidents::update_task),
        )
        .route(
            "/incidents/{id}/obligations/{obligation}",
            post(pages::incidents::set_obligation),
        )
        .route("/incidents/{id}/notes", post(pages::incidents::add_note))
        .route("/incidents/{id}/ack", post(pages::incidents::acknowledge))
        .route(
            "/ack/{token}",
            get(pages::incidents::ack_page).post(pages::incidents::ack_submit),
        )
        .route(
            "/incidents/{id}/publication",
            get(pages::decisions::publication_get).post(pages::decisions::publication_record),
        )
        .route(
            "/incidents/{id}/publication/decide",
            post(pages::decisions::publication_decide),
        )
        .route(
            "/incidents/{id}/recurrence",
            get(pages::decisions::recurrence_get).post(pages::decisions::recurrence_post),
        )
        .route(
            "/incidents/{id}/ppc",
            get(pages::ppc::ppc_page).post(pages::ppc::ppc_save),
        )
        .route(
            "/incidents/{id}/ppc/{stage}/{version}/submit",
            post(pages::ppc::ppc_submit),
        )
        .route(
            "/incidents/{id}/ppc/{stage}/{version}/print",
            get(pages::ppc::ppc_print),
        )
        .route(
            "/incidents/{id}/ppc/{stage}/{version}/pdf",
            get(pages::ppc::ppc_pdf),
        )
        .route(
            "/incidents/{id}/ppc/{stage}/{version}/json",
            get(pages::ppc::ppc_json),
        )
        .route(
            "/incidents/{id}/notice",
            get(pages::campaigns::notice_get).post(pages::campaigns::notice_save),
        )
        .route(
            "/incidents/{id}/notice/{version}/approve",
            post(pages::campaigns::notice_approve),
        )
        .route(
            "/incidents/{id}/campaigns",
            get(pages::campaigns::campaigns_get).post(pages::campaigns::campaigns_create),
        )
        .route("/campaigns/{id}", get(pages::campaigns::campaign_get))
        .route(
            "/campaigns/{id}/letters.pdf",
            get(pages::campaigns::letters_pdf),
        )
        .route(
            "/campaigns/{id}/print-list.csv",
            get(pages::campaigns::print_list).post(pages::campaigns::print_list_substituted),
        )
        .route(
            "/campaigns/{id}/posted",
            post(pages::campaigns::campaign_posted),
        )
        .route(
            "/campaigns/{id}/returned",
            post(pages::campaigns::campaign_returned),
        )
        .route(
            "/campaigns/{id}/returned/import",
            post(pages::campaigns::campaign_returned_import),
        )
        .route(
            "/campaigns/{id}/bounces",
            post(pages::campaigns::campaign_bounces),
        )
        .route(
            "/campaigns/{id}/resolve",
            post(pages::campaigns::campaign_resolve),
        )
        .route(
            "/campaigns/{id}/publish",
            post(pages::campaigns::campaign_publish),
        )
        .route("/campaigns/{id}/calls", get(pages::campaigns::calls_get))
        .route(
            "/campaigns/{id}/calls/{recipient}",
            post(pages::campaigns::call_record),
        )
        .route("/desk", get(pages::desk::desk_get))
        .route("/desk/inquiries", post(pages::desk::log_post))
        .route("/desk/faq-suggest", post(pages::desk::suggest_post))
        .route("/desk/find", post(pages::desk::find_post))
        .route("/desk/inquiries/{id}", get(pages::desk::inquiry_get))
        .route(
            "/desk/inquiries/{id}/{action}",
            post(pages::desk::inquiry_post),
        )
        .route("/notice/{slug}", get(pages::public::notice_page))
        // The public forms take small bodies only (the visitor middleware has read at most
        // `max_body_bytes` of a larger one before refusing it).
        .route(
            "/notice/{slug}/check",
            post(pages::public::check_submit).layer(public_limit),
        )
        .route(
            "/notice/{slug}/inquiry",
            post(pages::public::inquiry_submit).layer(public_limit),
        )
        .route(
            "/notice/{slug}/survey",
            post(pages::public::survey_submit).layer(public_limit),
        )
        .route(
            "/discovery",
            get(pages::discovery::list_page).post(pages::discovery::create_location),
        )
        .route(
            "/discovery/locations/{id}",
            get(pages::discovery::location).post(pages::discovery::update_location),
        )
        .route(
            "/discovery/locations/{id}/scan",
            post(pages::discovery::scan_now),
        )
        .route("/discovery/files/{id}", get(pages::discovery::file))
        .route(
            "/discovery/files/{id}/link",
            post(pages::discovery::link_file),
        )
        .route(
            "/discovery/files/{id}/deleted",
            post(pages::discovery::file_deleted),
        )
        .route("/discovery/self-check", get(pages::discovery::selfcheck))
        // The compliance programme (issue 17).
        .route("/programme", get(pages::programme::hub))
        .route("/programme/inspections", get(pages::inspections::list_page))
        .route(
            "/programme/report",
            get(pages::programme_report::report_page),
        )
        .route(
            "/programme/report.pdf",
            get(pages::programme_report::report_pdf),
        )
        .route(
            "/programme/inspections/schedule",
            post(pages::inspections::save_schedule),
        )
        .route(
            "/programme/inspections/rounds",
            post(pages::inspections::open_round),
        )
        .route(
            "/programme/inspections/answer",
            get(pages::inspections::answer_page).post(pages::inspections::submit_answer),
        )
        .route(
            "/programme/inspections/rounds/{id}",
            get(pages::inspections::round_page),
        )
        .route(
            "/programme/inspections/rounds/{id}/follow-up",
            get(pages::inspections::followup_page),
        )
        .route(
            "/programme/inspections/answers/{id}/follow-up",
            post(pages::inspections::record_followup),
        )
        .route(
            "/programme/inspections/departments/{id}",
            get(pages::inspections::department_page),
        )
        .route(
            "/programme/inspections/sets/{audience}",
            get(pages::inspections::sets_page).post(pages::inspections::publish_set),
        )
        .route(
            "/programme/devices",
            get(pages::devices::list).post(pages::devices::create),
        )
        .route("/programme/devices/new", get(pages::devices::new_page))
        .route("/programme/devices/export", get(pages::devices::export))
        .route(
            "/programme/devices/import",
            get(pages::devices::import_form).post(pages::devices::import_preview),
        )
        .route(
            "/programme/devices/import/{id}",
            get(pages::devices::import_show).post(pages::devices::import_apply),
        )
        .route(
            "/programme/devices/{id}",
            get(pages::devices::show).post(pages::devices::update),
        )
        .route(
            "/programme/devices/{id}/edit",
            get(pages::devices::edit_page),
        )
        .route("/programme/devices/{id}/lend", post(pages::devices::lend))
        .route(
            "/programme/devices/{id}/return",
            post(pages::devices::give_back),
        )
        .route(
            "/programme/takeouts",
            get(pages::takeouts::list).post(pages::takeouts::create),
        )
        .route("/programme/takeouts/new", get(pages::takeouts::new_page))
        .route("/programme/takeouts/queue", get(pages::takeouts::queue))
        .route("/programme/takeouts/{id}", get(pages::takeouts::show))
        .route(
            "/programme/takeouts/{id}/decide",
            post(pages::takeouts::decide),
        )
        .route(
            "/programme/takeouts/{id}/evidence",
            post(pages::takeouts::evidence),
        )
        .route(
            "/programme/takeouts/{id}/withdraw",
            post(pages::takeouts::withdraw),
        )
        // Parts 5–6: contractors and internal audit.
        .route(
            "/programme/contractors",
            get(pages::contractors::list).post(pages::contractors::create),
        )
        .route(
            "/programme/contractors/{id}",
            get(pages::contractors::show).post(pages::contractors::update),
        )
        .route(
            "/programme/contractors/{id}/checks",
            post(pages::contractors::record_check),
        )
        .route(
            "/programme/contractors/{id}/reviews",
            post(pages::contractors::record_review),
        )
        .route(
            "/incidents/{id}/contractor",
            post(pages::contractors::set_for_incident),
        )
        .route(
            "/programme/audits",
            get(pages::internal_audit::plan).post(pages::internal_audit::create_plan),
        )
        .route(
            "/programme/audit-plans/{year}",
            post(pages::internal_audit::add_audit),
        )
        .route("/programme/audits/{id}", get(pages::internal_audit::show))
        .route(
            "/programme/audits/{id}/findings",
            post(pages::internal_audit::record_finding),
        )
        .route(
            "/programme/audits/{id}/done",
            post(pages::internal_audit::finish),
        )
        .route(
            "/programme/audits/{id}/actions",
            post(pages::internal_audit::add_action),
        )
        .route(
            "/programme/audit-actions/{id}",
            post(pages::internal_audit::update_action),
        )
        // E-learning and pledges (issue 17, part 2).
        .route(
            "/programme/courses",
            get(pages::learning::courses).post(pages::learning::create_course),
        )
        .route("/programme/courses/{id}", get(pages::learning::course))
        .route(
            "/programme/courses/{id}/edit",
            get(pages::learning::edit).post(pages::learning::update_course),
        )
        .route(
            "/programme/courses/{id}/pages",
            post(pages::learning::add_page),
        )
        .route(
            "/programme/courses/{id}/pages/{page}",
            get(pages::learning::page).post(pages::learning::update_page),
        )
        .route(
            "/programme/courses/{id}/pages/{page}/delete",
            post(pages::learning::delete_page),
        )
        .route(
            "/programme/courses/{id}/images",
            post(pages::learning::upload_image),
        )
        .route(
            "/programme/courses/{id}/images/{image}",
            get(pages::learning::image),
        )
        .route(
            "/programme/courses/{id}/questions",
            get(pages::learning::questions).post(pages::learning::save_question),
        )
        .route(
            "/programme/courses/{id}/questions/{q}/retire",
            post(pages::learning::retire_question),
        )
        .route(
            "/programme/courses/{id}/assignments",
            post(pages::learning::assign),
        )
        .route(
            "/programme/courses/{id}/assignments/{a}/delete",
            post(pages::learning::unassign),
        )
        .route("/programme/courses/{id}/copy", post(pages::learning::copy))
        .route(
            "/programme/courses/{id}/completion",
            get(pages::learning::completion),
        )
        .route(
            "/programme/courses/{id}/attempts",
            post(pages::learning::start_attempt),
        )
        .route(
            "/programme/courses/{id}/attempts/{attempt}",
            get(pages::learning::attempt).post(pages::learning::submit_attempt),
        )
        .route(
            "/programme/courses/{id}/certificate/{user}",
            get(pages::learning::certificate),
        )
        .route(
            "/programme/pledges",
            get(pages::learning::pledge).post(pages::learning::publish_pledge),
        )
        .route(
            "/programme/pledges/accept",
            post(pages::learning::accept_pledge),
        )
        .route(
            "/programme/pledges/status",
            get(pages::learning::pledge_status),
        )
        .route(
            "/discovery/self-check/keys",
            post(pages::discovery::issue_key),
        )
        .route(
            "/discovery/self-check/keys/revoke",
            post(pages::discovery::revoke_key),
        )
        .route(
            "/discovery/self-check/report",
            post(pages::discovery::upload_report),
        )
        .route(
            "/ledger",
            get(pages::ledger::list_page).post(pages::ledger::create_entry),
        )
        .route("/ledger/new", get(pages::ledger::new_entry_page))
        .route("/ledger/export", get(pages::ledger::export))
        .route("/ledger/import", post(pages::ledger::import))
        .route(
            "/ledger/{id}",
            get(pages::ledger::entry).post(pages::ledger::update_entry),
        )
        .route("/ledger/{id}/review", post(pages::ledger::review_entry))
        .route("/vault", get(pages::vault::index))
        .route(
            "/vault/grants",
            get(pages::vault::grants).post(pages::vault::issue_grant),
        )
        .route(
            "/vault/grants/{id}/revoke",
            post(pages::vault::revoke_grant),
        )
        .route("/vault/records/{id}/reveal", post(pages::vault::reveal))
        .route(
            "/vault/{id}",
            get(pages::vault::dataset).post(pages::vault::lookup),
        )
        .route(
            "/vault/{id}/schema",
            get(pages::vault::schema_page).post(pages::vault::save_schema),
        )
        .route("/vault/{id}/export", post(pages::vault::export))
        .route("/vault/{id}/erase", post(pages::vault::erase))
        .route(
            "/incidents/{id}/files",
            get(pages::evidence::files_page).post(pages::evidence::upload),
        )
        .route(
            "/incidents/{id}/files/progress",
            get(pages::evidence::progress),
        )
        .route(
            "/incidents/{id}/files/{file_id}",
            get(pages::evidence::download),
        )
        .route("/incidents/{id}/impact", get(pages::impact::impact_page))
        .route(
            "/incidents/{id}/impact/dataset",
            post(pages::impact::from_dataset),
        )
        .route(
            "/incidents/{id}/impact/account",
            post(pages::impact::from_account),
        )
        .route("/incidents/{id}/impact/apply", post(pages::impact::apply))
        // The desk page of an incident (issue 15): figures, survey, FAQ, exports, mail.
        .route("/incidents/{id}/desk", get(pages::desk_incident::desk_page))
        .route(
            "/incidents/{id}/desk/faq",
            post(pages::desk_incident::faq_create),
        )
        .route(
            "/incidents/{id}/desk/faq/{entry}/revise",
            post(pages::desk_incident::faq_revise),
        )
        .route(
            "/incidents/{id}/desk/faq/{entry}/approve",
            post(pages::desk_incident::faq_approve),
        )
        .route(
            "/incidents/{id}/desk/faq/{entry}/retire",
            post(pages::desk_incident::faq_retire),
        )
        .route(
            "/incidents/{id}/desk/inquiries.csv",
            get(pages::desk_incident::inquiries_csv),
        )
        .route(
            "/incidents/{id}/desk/report.pdf",
            get(pages::desk_incident::report_pdf),
        )
        .route(
            "/incidents/{id}/desk/mail",
            post(pages::desk_incident::mail_import),
        )
        .route("/healthz", get(healthz))
        .route("/static/{file}", get(static_file))
        .route("/favicon.ico", get(favicon))
        .fallback(pages::not_found)
        .layer(CatchPanicLayer::custom(error::panic_response))
        .layer(DefaultBodyLimit::max(limit))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            visitor::visitor,
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::HeaderName::from_static("cross-origin-opener-policy"),
            HeaderValue::from_static("same-origin"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::HeaderName::from_static("permissions-policy"),
            HeaderValue::from_static("camera=(), microphone=(), geolocation=()"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .with_state(state)
}

async fn healthz(axum::extract::State(s): axum::extract::State<WebState>) -> Response {
    match s.app.store.ping().await {
        Ok(()) => (StatusCode::OK, "ok\n").into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable\n").into_response()
        }
    }
}

const APP_CSS: &str = include_str!("../static/app.css");
const HTMX_JS: &str = include_str!("../static/htmx.min.js");
const APP_JS: &str = include_str!("../static/app.js");
const VAULT_JS: &str = include_str!("../static/vault.js");
const EVIDENCE_JS: &str = include_str!("../static/evidence.js");
const POW_JS: &str = include_str!("../static/pow.js");
const FAVICON: &str = include_str!("../static/favicon.svg");

/// Browsers ask for `/favicon.ico` by themselves; answer with the SVG icon.
async fn favicon() -> Response {
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        FAVICON,
    )
        .into_response()
}

async fn static_file(axum::extract::Path(file): axum::extract::Path<String>) -> Response {
    let (body, ctype) = match file.as_str() {
        "app.css" => (APP_CSS, "text/css; charset=utf-8"),
        "htmx.min.js" => (HTMX_JS, "text/javascript; charset=utf-8"),
        "app.js" => (APP_JS, "text/javascript; charset=utf-8"),
        "vault.js" => (VAULT_JS, "text/javascript; charset=utf-8"),
        "evidence.js" => (EVIDENCE_JS, "text/javascript; charset=utf-8"),
        "desk.js" => (pages::desk::DESK_JS, "text/javascript; charset=utf-8"),
        "pow.js" => (POW_JS, "text/javascript; charset=utf-8"),
        "favicon.svg" => (FAVICON, "image/svg+xml"),
        _ => return pages::not_found().await,
    };
    (
        [
            (header::CONTENT_TYPE, ctype),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
        .into_response()
}
