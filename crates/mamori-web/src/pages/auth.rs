//! Login (password, then the second factor), enrolment of the second factor, logout, language.

use super::{render, render_status, safe_next, Chrome};
use crate::error::{WebError, WebResult};
use crate::form::FormErrors;
use crate::visitor::{removal_cookie, session_cookie, Visitor, LANG_COOKIE, SESSION_COOKIE};
use crate::WebState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use base64::Engine;
use mamori_app::auth::LoggedIn;
use mamori_app::AppError;
use mamori_store::sessions::Stage;
use serde::Deserialize;

#[derive(Template)]
#[template(path = "login.html")]
pub struct LoginPage {
    pub c: Chrome,
    pub login: String,
    pub next: String,
    pub errs: FormErrors,
}

const LOGIN_FIELDS: &[(&str, &str)] = &[("login", "login.login"), ("password", "login.password")];
const CODE_FIELDS: &[(&str, &str)] = &[("code", "totp.code")];

#[derive(Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
    expired: Option<String>,
    bye: Option<String>,
}

pub async fn login_page(
    Extension(v): Extension<Visitor>,
    Query(q): Query<LoginQuery>,
) -> WebResult {
    if v.full().is_ok() {
        return Ok(Redirect::to(&safe_next(q.next.as_deref())).into_response());
    }
    let t = v.tr();
    let flash = if q.expired.is_some() || v.session_expired {
        Some(t.get("login.expired").to_owned())
    } else if q.bye.is_some() {
        Some(t.get("login.logged_out").to_owned())
    } else {
        None
    };
    render(&LoginPage {
        c: Chrome::new(&v, "login.title").with_flash(flash),
        login: String::new(),
        next: safe_next(q.next.as_deref()),
        errs: FormErrors::none("login"),
    })
}

#[derive(Deserialize)]
pub struct LoginForm {
    login: String,
    password: String,
    next: Option<String>,
}

fn after_login(s: &WebState, jar: CookieJar, li: LoggedIn, next: &str) -> Response {
    let jar = jar.add(session_cookie(li.token, s.cfg.cookie_secure));
    let target = match li.stage {
        Stage::Totp => "/login/totp".to_owned(),
        Stage::TotpSetup => "/login/totp-setup".to_owned(),
        Stage::Full => next.to_owned(),
    };
    (jar, Redirect::to(&target)).into_response()
}

pub async fn login_submit(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    jar: CookieJar,
    Form(f): Form<LoginForm>,
) -> WebResult {
    let next = safe_next(f.next.as_deref());
    // An empty field is named without trying (a try would count towards the lock-out).
    let mut empty = Vec::new();
    if f.login.trim().is_empty() {
        empty.push(("login", "login.required.login"));
    }
    if f.password.is_empty() {
        empty.push(("password", "login.required.password"));
    }
    if !empty.is_empty() {
        return render_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            &LoginPage {
                c: Chrome::new(&v, "login.title"),
                login: f.login.chars().take(64).collect(),
                next,
                errs: FormErrors::missing(&v, "login", LOGIN_FIELDS, &empty),
            },
        );
    }
    match s
        .app
        .login(&v.ctx(), &f.login, &f.password, &v.user_agent)
        .await
    {
        Ok(li) => Ok(after_login(&s, jar, li, &next)),
        Err(e @ (AppError::BadCredentials | AppError::Throttled(_) | AppError::Overloaded)) => {
            let t = v.tr();
            let (status, msg) = match e {
                AppError::Throttled(secs) => (
                    StatusCode::TOO_MANY_REQUESTS,
                    t.fill("login.throttled", "secs", &secs.to_string()),
                ),
                AppError::Overloaded => (
                    StatusCode::SERVICE_UNAVAILABLE,
                    t.get("login.overloaded").to_owned(),
                ),
                _ => (
                    StatusCode::UNAUTHORIZED,
                    t.get("login.bad_credentials").to_owned(),
                ),
            };
            render_status(
                status,
                &LoginPage {
                    c: Chrome::new(&v, "login.title").with_error(Some(msg)),
                    login: f.login.chars().take(64).collect(),
                    next,
                    errs: FormErrors::none("login"),
                },
            )
        }
        Err(e) => Err(WebError(e)),
    }
}

#[derive(Template)]
#[template(path = "totp.html")]
pub struct TotpPage {
    pub c: Chrome,
    pub errs: FormErrors,
}

fn pending(v: &Visitor, stage: Stage) -> Result<&mamori_app::auth::ActiveSession, WebError> {
    match &v.session {
        Some(s) if s.stage == stage => Ok(s),
        _ => Err(WebError(AppError::Unauthenticated)),
    }
}

pub async fn totp_page(Extension(v): Extension<Visitor>) -> WebResult {
    pending(&v, Stage::Totp)?;
    render(&TotpPage {
        c: Chrome::new(&v, "totp.title"),
        errs: FormErrors::none("totp"),
    })
}

#[derive(Deserialize)]
pub struct CodeForm {
    code: String,
}

pub async fn totp_submit(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    jar: CookieJar,
    Form(f): Form<CodeForm>,
) -> WebResult {
    let session = pending(&v, Stage::Totp)?;
    if f.code.trim().is_empty() {
        // Not a wrong code: nothing is tried, nothing counts towards the lock.
        return render_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            &TotpPage {
                c: Chrome::new(&v, "totp.title"),
                errs: FormErrors::missing(&v, "totp", CODE_FIELDS, &[("code", "totp.required")]),
            },
        );
    }
    match s
        .app
        .login_totp(&v.ctx(), session, &f.code, &v.user_agent)
        .await
    {
        Ok(li) => Ok(after_login(&s, jar, li, "/")),
        Err(AppError::BadTotp) => render_status(
            StatusCode::UNAUTHORIZED,
            &TotpPage {
                c: Chrome::new(&v, "totp.title")
                    .with_error(Some(v.tr().get("totp.bad").to_owned())),
                errs: FormErrors::none("totp"),
            },
        ),
        Err(AppError::TotpLocked) => render_status(
            StatusCode::FORBIDDEN,
            &TotpPage {
                c: Chrome::new(&v, "totp.title")
                    .with_error(Some(v.tr().get("totp.locked").to_owned())),
                errs: FormErrors::none("totp"),
            },
        ),
        Err(AppError::Throttled(secs)) => render_status(
            StatusCode::TOO_MANY_REQUESTS,
            &TotpPage {
                c: Chrome::new(&v, "totp.title").with_error(Some(v.tr().fill(
                    "login.throttled",
                    "secs",
                    &secs.to_string(),
                ))),
                errs: FormErrors::none("totp"),
            },
        ),
        Err(e) => Err(WebError(e)),
    }
}

#[derive(Template)]
#[template(path = "totp_setup.html")]
pub struct TotpSetupPage {
    pub c: Chrome,
    pub secret: String,
    pub qr_data_uri: String,
    /// Where the form goes: the login step, or the account page (voluntary set-up).
    pub action: &'static str,
    pub intro_key: &'static str,
    pub errs: FormErrors,
}

/// The provisioning URI as an SVG QR code in a data: URI (allowed by the CSP's img-src).
fn qr_data_uri(uri: &str) -> String {
    let svg = qrcode::QrCode::new(uri.as_bytes())
        .map(|q| {
            q.render::<qrcode::render::svg::Color>()
                .min_dimensions(200, 200)
                .quiet_zone(true)
                .build()
        })
        .unwrap_or_default();
    format!(
        "data:image/svg+xml;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(svg)
    )
}

/// The session that may enrol now: one stopped at the login step, or (voluntary) a full
/// session of a user who has no second factor yet.
fn enrolling(v: &Visitor, voluntary: bool) -> Result<&mamori_app::auth::ActiveSession, WebError> {
    if voluntary {
        let s = v.full()?;
        if s.user.totp_enabled {
            return Err(WebError(AppError::NotFound));
        }
        Ok(s)
    } else {
        pending(v, Stage::TotpSetup)
    }
}

async fn setup_page(
    s: &WebState,
    v: &Visitor,
    error: Option<String>,
    errs: FormErrors,
    voluntary: bool,
) -> WebResult {
    let session = enrolling(v, voluntary)?;
    let ctx = mamori_app::Ctx::user(session.user.clone(), &v.ip);
    let enrol = s.app.begin_totp_enrolment(&ctx, &session.user).await?;
    let status = if error.is_some() || !errs.is_empty() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    render_status(
        status,
        &TotpSetupPage {
            c: Chrome::new(v, "totp.setup.title").with_error(error),
            qr_data_uri: qr_data_uri(&enrol.uri),
            secret: enrol.secret_b32,
            action: if voluntary {
                "/account/totp"
            } else {
                "/login/totp-setup"
            },
            intro_key: if voluntary {
                "totp.setup.voluntary"
            } else {
                "totp.setup.required"
            },
            errs,
        },
    )
}

async fn setup_submit(
    s: &WebState,
    v: &Visitor,
    jar: CookieJar,
    code: &str,
    voluntary: bool,
) -> WebResult {
    let session = enrolling(v, voluntary)?;
    if code.trim().is_empty() {
        let errs = FormErrors::missing(v, "totp", CODE_FIELDS, &[("code", "totp.required")]);
        return setup_page(s, v, None, errs, voluntary).await;
    }
    let ctx = mamori_app::Ctx::user(session.user.clone(), &v.ip);
    match s
        .app
        .confirm_totp_enrolment(&ctx, session, code, &v.user_agent)
        .await
    {
        Ok(li) => Ok(after_login(
            s,
            jar,
            li,
            if voluntary { "/account?totp=1" } else { "/" },
        )),
        // A wrong code shows the same secret again, with the error.
        Err(AppError::BadTotp) => {
            let bad = Some(v.tr().get("totp.bad").to_owned());
            setup_page(s, v, bad, FormErrors::none("totp"), voluntary).await
        }
        Err(e) => Err(WebError(e)),
    }
}

/// The voluntary set-up from the account page.
pub async fn account_totp_page(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
) -> WebResult {
    setup_page(&s, &v, None, FormErrors::none("totp"), true).await
}

pub async fn account_totp_submit(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    jar: CookieJar,
    Form(f): Form<CodeForm>,
) -> WebResult {
    setup_submit(&s, &v, jar, &f.code, true).await
}

pub async fn totp_setup_page(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
) -> WebResult {
    setup_page(&s, &v, None, FormErrors::none("totp"), false).await
}

pub async fn totp_setup_submit(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    jar: CookieJar,
    Form(f): Form<CodeForm>,
) -> WebResult {
    setup_submit(&s, &v, jar, &f.code, false).await
}

pub async fn logout(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    jar: CookieJar,
) -> WebResult {
    if let Some(session) = &v.session {
        let ctx = mamori_app::Ctx::user(session.user.clone(), &v.ip);
        s.app.logout(&ctx, session).await?;
    }
    Ok((
        jar.remove(removal_cookie(SESSION_COOKIE)),
        Redirect::to("/login?bye=1"),
    )
        .into_response())
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

pub async fn switch_lang(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Path(lang): Path<String>,
    Query(q): Query<NextQuery>,
    jar: CookieJar,
) -> WebResult {
    let Some(lang) = crate::i18n::Lang::parse(&lang) else {
        return Err(WebError(AppError::NotFound));
    };
    if let Some(session) = &v.session {
        s.app.set_own_locale(&session.user, lang.code()).await?;
    }
    let c = Cookie::build((LANG_COOKIE, lang.code()))
        .path("/")
        .http_only(true)
        .secure(s.cfg.cookie_secure)
        .same_site(SameSite::Lax)
        .max_age(time_year())
        .build();
    Ok((jar.add(c), Redirect::to(&safe_next(q.next.as_deref()))).into_response())
}

fn time_year() -> cookie::time::Duration {
    cookie::time::Duration::days(365)
}
