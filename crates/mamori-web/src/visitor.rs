//! The middleware around every request: who is visiting, CSRF, the audit record, error pages.

use crate::error::{error_response, status_key, PageError};
use crate::i18n::{Lang, Tr};
use crate::pages::ErrorPage;
use crate::WebState;
use askama::Template;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use mamori_app::auth::{random_token, ActiveSession};
use mamori_app::{AppError, Ctx};
use mamori_domain::audit::Outcome;
use mamori_store::sessions::Stage;
use std::net::SocketAddr;
use subtle::ConstantTimeEq;

pub const SESSION_COOKIE: &str = "mamori_session";
pub const CSRF_COOKIE: &str = "mamori_csrf";
pub const LANG_COOKIE: &str = "mamori_lang";

/// Who is visiting; every handler receives it as an extension.
#[derive(Debug, Clone)]
pub struct Visitor {
    pub session: Option<ActiveSession>,
    /// A session cookie was sent but is no longer valid (expired, logged out elsewhere).
    pub session_expired: bool,
    pub lang: Lang,
    pub ip: String,
    pub request_id: String,
    /// The token for forms shown before login (double-submit cookie).
    pub anon_csrf: String,
    pub path: String,
    pub user_agent: String,
    /// The API token the request came with (only under `/api/`).
    pub api_token: Option<i64>,
}

impl Visitor {
    pub fn ctx(&self) -> Ctx {
        match &self.session {
            Some(s) if s.stage == Stage::Full => Ctx::user(s.user.clone(), &self.ip),
            _ => Ctx::anonymous(&self.ip),
        }
    }

    /// The CSRF token to put into forms on this page.
    pub fn csrf(&self) -> &str {
        self.session
            .as_ref()
            .map_or(self.anon_csrf.as_str(), |s| s.csrf_token.as_str())
    }

    pub fn tr(&self) -> &'static Tr {
        Tr::of(self.lang)
    }

    /// The fully logged-in session, or the error that sends the visitor to log in.
    pub fn full(&self) -> Result<&ActiveSession, AppError> {
        match &self.session {
            Some(s) if s.stage == Stage::Full => Ok(s),
            _ => Err(AppError::Unauthenticated),
        }
    }
}

/// A session cookie with the attributes a security product should set.
pub fn session_cookie(token: String, secure: bool) -> Cookie<'static> {
    Cookie::build((SESSION_COOKIE, token))
        .path("/")
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Lax)
        .build()
}

pub fn removal_cookie(name: &'static str) -> Cookie<'static> {
    let mut c = Cookie::build((name, "")).path("/").build();
    c.make_removal();
    c
}

fn is_unsafe(m: &Method) -> bool {
    !matches!(*m, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// `POST /incidents/{id}/files` streams its body (leaked material, up to `max_upload_bytes`):
/// it is not read whole here, and its handler checks the CSRF token itself — from the
/// `X-CSRF-Token` header or the form's first field — before a byte is stored
/// (`pages::evidence::upload`).
pub fn is_streaming_upload(method: &Method, path: &str) -> bool {
    *method == Method::POST
        && path
            .strip_prefix("/incidents/")
            .and_then(|r| r.strip_suffix("/files"))
            .is_some_and(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()))
}

fn outcome_of(status: StatusCode) -> Outcome {
    match status.as_u16() {
        401 | 403 => Outcome::Denied,
        400..=499 => Outcome::Failure,
        500..=599 => Outcome::Error,
        _ => Outcome::Success,
    }
}

fn csrf_from_body(body: &[u8]) -> Option<String> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == "csrf")
        .map(|(_, v)| v)
}

/// The token of an upload form (`multipart/form-data`), sent as its `csrf` field.
fn csrf_from_multipart(headers: &axum::http::HeaderMap, body: &[u8]) -> Option<String> {
    let ct = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    let b = crate::multipart::boundary(ct)?;
    let parts = crate::multipart::parse(body, &b);
    let p = crate::multipart::field(&parts, "csrf")?;
    String::from_utf8(p.data.clone()).ok()
}

/// The token of `Authorization: Bearer …`, if the request has one.
fn bearer_of(headers: &axum::http::HeaderMap) -> Option<String> {
    let h = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, token) = h.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
}

fn wants_json(req_headers: &axum::http::HeaderMap) -> bool {
    req_headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("application/json") && !a.contains("text/html"))
}

pub async fn visitor(State(state): State<WebState>, req: Request, next: Next) -> Response {
    let request_id = random_token()[..12].to_owned();
    let started = std::time::Instant::now();
    let ip = crate::client_addr::client_ip_text(
        req.extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0),
        req.headers(),
        &state.cfg.trusted_proxies,
    );
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    // What the logs may say of this request: the route, never a secret or a query value.
    let red = crate::redact::request(
        &method,
        req.extensions()
            .get::<axum::extract::MatchedPath>()
            .map(axum::extract::MatchedPath::as_str),
        &path,
        req.uri().query(),
    );
    let action = red.action.clone();
    let api = path.starts_with("/api/");
    let json = api || wants_json(req.headers());
    // The public page of an incident (no login, no personal data) may be opened by
    // thousands a second when the incident is in the news: a view is not an audit entry (the
    // forms it sends are, by their use cases), so reading it costs no database write.
    let public_view = path.starts_with("/notice/")
        && (method == axum::http::Method::GET || method == axum::http::Method::HEAD);
    let quiet =
        path.starts_with("/static/") || path == "/healthz" || path == "/favicon.ico" || public_view;
    let jar = CookieJar::from_headers(req.headers());
    // A bearer token counts only for the API; the pages know only the session cookie.
    let bearer = if api { bearer_of(req.headers()) } else { None };
    let token = if bearer.is_some() {
        None
    } else {
        jar.get(SESSION_COOKIE).map(|c| c.value().to_owned())
    };
    let mut api_token = None;
    let mut bad_bearer = false;
    if let Some(b) = &bearer {
        match state.app.api_caller(b).await {
            Ok(Some(caller)) => api_token = Some((caller.token_id, caller.user)),
            Ok(None) => bad_bearer = true,
            Err(e) => {
                tracing::error!(request_id, error = %e, "API token lookup failed");
                let r = crate::error::WebError(e).into_response();
                return render_error(r, Lang::Ja, &request_id, true, &path);
            }
        }
    }

    let session = match &token {
        _ if api_token.is_some() => api_token.as_ref().map(|(_, user)| ActiveSession {
            token_hash: String::new(),
            csrf_token: String::new(),
            stage: Stage::Full,
            user: user.clone(),
        }),
        Some(t) if !quiet => match state.app.session(t).await {
            Ok(s) => s,
            Err(e) => {
                let lang = jar
                    .get(LANG_COOKIE)
                    .and_then(|c| Lang::parse(c.value()))
                    .unwrap_or(Lang::Ja);
                tracing::error!(request_id, error = %e, "session lookup failed");
                let r = crate::error::WebError(e).into_response();
                return render_error(r, lang, &request_id, json, &path);
            }
        },
        _ => None,
    };
    let lang = jar
        .get(LANG_COOKIE)
        .and_then(|c| Lang::parse(c.value()))
        .or_else(|| session.as_ref().and_then(|s| Lang::parse(&s.user.locale)))
        .unwrap_or(Lang::Ja);
    let (anon_csrf, new_anon) = match jar.get(CSRF_COOKIE) {
        Some(c) if c.value().len() >= 32 => (c.value().to_owned(), false),
        _ => (random_token(), true),
    };
    let v = Visitor {
        session_expired: token.is_some() && session.is_none() && !quiet,
        session,
        lang,
        ip,
        request_id: request_id.clone(),
        anon_csrf,
        path: path.clone(),
        user_agent: req
            .headers()
            .get(header::USER_AGENT)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("")
            .to_owned(),
        api_token: api_token.as_ref().map(|(id, _)| *id),
    };
    let ctx = v.ctx();
    let ctx = match (&ctx.principal, &v.session) {
        // A half-logged-in visitor is still named in the audit log.
        (mamori_app::Principal::Anonymous, Some(s)) => Ctx::user(s.user.clone(), &v.ip),
        _ => ctx,
    };

    let mut req = req;
    let mut csrf_failed = false;
    // A bearer request carries no cookie a browser would add on its own: no CSRF to fear.
    if is_unsafe(&method) && !bad_bearer && !is_streaming_upload(&method, &path) {
        let (parts, body) = req.into_parts();
        // The public forms take small bodies: a larger one is refused after 64 KiB, not 1 MiB.
        let limit = if path.starts_with("/notice/") {
            crate::public_guard::BODY_LIMIT.min(state.cfg.max_body_bytes)
        } else {
            state.cfg.max_body_bytes
        };
        let Ok(bytes) = axum::body::to_bytes(body, limit).await else {
            let r = error_response(
                StatusCode::PAYLOAD_TOO_LARGE,
                PageError {
                    key: "error.413",
                    message: None,
                    retry_after: None,
                    field: None,
                },
            );
            let _ = state
                .app
                .audit(
                    &ctx,
                    &action,
                    &red.target,
                    Outcome::Failure,
                    serde_json::json!({"status": 413, "request_id": request_id}),
                )
                .await;
            return render_error(r, lang, &request_id, json, &path);
        };
        let sent = parts
            .headers
            .get("x-csrf-token")
            .and_then(|h| h.to_str().ok())
            .map(str::to_owned)
            .or_else(|| csrf_from_multipart(&parts.headers, &bytes))
            .or_else(|| csrf_from_body(&bytes));
        // Before login the token is the double-submit cookie; after, the session's own.
        let expected = match (&v.session, new_anon) {
            (Some(s), _) => Some(s.csrf_token.clone()),
            (None, false) => Some(v.anon_csrf.clone()),
            (None, true) => None,
        };
        // An API request with neither a token nor a session cookie carries no credentials a
        // forged request could borrow: it goes on, and the handler answers 401.
        let anonymous_api = api && token.is_none() && bearer.is_none();
        csrf_failed = v.api_token.is_none()
            && !anonymous_api
            && match (sent, expected) {
                (Some(s), Some(e)) => !bool::from(s.as_bytes().ct_eq(e.as_bytes())),
                _ => true,
            };
        req = Request::from_parts(parts, Body::from(bytes));
    }

    let mut response = if bad_bearer {
        error_response(
            StatusCode::UNAUTHORIZED,
            PageError {
                key: "error.401.token",
                message: None,
                retry_after: None,
                field: None,
            },
        )
    } else if csrf_failed {
        error_response(
            StatusCode::FORBIDDEN,
            PageError {
                key: "error.403.csrf",
                message: None,
                retry_after: None,
                field: None,
            },
        )
    } else {
        req.extensions_mut().insert(v.clone());
        next.run(req).await
    };

    let status = response.status();
    // The access log names the route and the user by id: of the query string only the
    // parameter names (values may hold search terms), no secrets, no login names, no personal
    // data.
    tracing::info!(
        request_id,
        method = %method,
        route = %action,
        query = %red.query_names.join(","),
        status = status.as_u16(),
        ms = started.elapsed().as_millis() as u64,
        user = ctx.actor_id(),
        "request"
    );
    if !quiet {
        let mut detail = serde_json::json!({"status": status.as_u16(), "request_id": request_id});
        if csrf_failed {
            detail["reason"] = "csrf".into();
        }
        if bad_bearer {
            detail["reason"] = "api_token".into();
        }
        if let Some(id) = v.api_token {
            detail["api_token"] = id.into();
        }
        if !red.query_names.is_empty() {
            detail["query"] = red.query_names.clone().into();
        }
        if let Some(h) = &red.secret_hash {
            detail["secret_sha256_8"] = h.clone().into();
        }
        if let Err(e) = state
            .app
            .audit(&ctx, &action, &red.target, outcome_of(status), detail)
            .await
        {
            // Nothing may happen unrecorded: without the audit entry the answer is an error.
            tracing::error!(request_id, error = %e, "audit record failed");
            response = crate::error::WebError(e).into_response();
        }
    }
    if new_anon {
        let c = Cookie::build((CSRF_COOKIE, v.anon_csrf.clone()))
            .path("/")
            .http_only(true)
            .secure(state.cfg.cookie_secure)
            .same_site(SameSite::Lax)
            .build();
        if let Ok(h) = HeaderValue::from_str(&c.to_string()) {
            response.headers_mut().append(header::SET_COOKIE, h);
        }
    }
    if response.status().is_client_error() || response.status().is_server_error() {
        if response.status() == StatusCode::UNAUTHORIZED && !json && method == Method::GET {
            return redirect_to_login(&v, response);
        }
        return render_error(response, lang, &request_id, json, &path);
    }
    response
}

fn redirect_to_login(v: &Visitor, mut original: Response) -> Response {
    let target = match &v.session {
        Some(s) if s.stage == Stage::Totp => "/login/totp".to_owned(),
        Some(s) if s.stage == Stage::TotpSetup => "/login/totp-setup".to_owned(),
        _ => {
            let expired = if v.session_expired { "&expired=1" } else { "" };
            format!("/login?next={}{expired}", crate::pages::url_encode(&v.path))
        }
    };
    let mut r = axum::response::Redirect::to(&target).into_response();
    for c in original.headers_mut().get_all(header::SET_COOKIE) {
        r.headers_mut().append(header::SET_COOKIE, c.clone());
    }
    r
}

/// Turns an error response into a page (or JSON) unless the handler already rendered one.
fn render_error(
    response: Response,
    lang: Lang,
    request_id: &str,
    json: bool,
    path: &str,
) -> Response {
    let is_rendered = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.starts_with("text/html") || c.starts_with("application/json"));
    if is_rendered {
        return response;
    }
    let status = response.status();
    let err = response
        .extensions()
        .get::<PageError>()
        .cloned()
        .unwrap_or(PageError {
            key: status_key(status),
            message: None,
            retry_after: None,
            field: None,
        });
    let tr = Tr::of(lang);
    let mut message = tr.get(err.key).to_owned();
    if let Some((ja, en)) = &err.message {
        message = if lang == Lang::En {
            en.clone()
        } else {
            ja.clone()
        };
    }
    if let (Some(secs), None) = (err.retry_after, &err.message) {
        message = tr.fill("login.throttled", "secs", &secs.to_string());
    }
    let (parts, _) = response.into_parts();
    let mut out = if json {
        let mut body = serde_json::json!({
            "error": err.key,
            "message": message,
            "status": status.as_u16(),
            "request_id": request_id,
        });
        if let Some(f) = err.field {
            body["field"] = f.into();
        }
        axum::Json(body).into_response()
    } else {
        let page = ErrorPage {
            t: tr,
            lang: lang.code(),
            status: status.as_u16(),
            message,
            request_id: request_id.to_owned(),
            lang_href: format!(
                "/lang/{}?next={}",
                lang.other().code(),
                crate::pages::url_encode(path)
            ),
        };
        match page.render() {
            Ok(html) => Html(html).into_response(),
            Err(_) => (status, "error").into_response(),
        }
    };
    *out.status_mut() = status;
    for c in parts.headers.get_all(header::SET_COOKIE) {
        out.headers_mut().append(header::SET_COOKIE, c.clone());
    }
    if let Some(secs) = err.retry_after {
        if let Ok(h) = HeaderValue::from_str(&secs.to_string()) {
            out.headers_mut().insert(header::RETRY_AFTER, h);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csrf_field_is_found_in_forms() {
        assert_eq!(
            csrf_from_body(b"a=1&csrf=abc%2Fd&b=2").as_deref(),
            Some("abc/d")
        );
        assert_eq!(csrf_from_body(b"a=1"), None);
        assert_eq!(csrf_from_body(&[0xff, 0xfe]), None);
    }
}
