//! Page handlers and their templates. Each handler extracts, calls one use case, renders.

pub mod account;
pub mod admin;
pub mod alerts;
pub mod api;
pub mod audit;
pub mod auth;
pub mod campaigns;
pub mod contractors;
pub mod decisions;
pub mod desk;
pub mod desk_incident;
pub mod devices;
pub mod discovery;
pub mod evidence;
pub mod home;
pub mod impact;
pub mod incidents;
pub mod inspections;
pub mod internal_audit;
pub mod learning;
pub mod ledger;
pub mod ppc;
pub mod programme;
pub mod programme_report;
pub mod public;
pub mod takeouts;
pub mod vault;

use crate::error::WebError;
use crate::i18n::Tr;
use crate::visitor::Visitor;
use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use mamori_app::AppError;
use mamori_domain::role::Permission;

/// A link in the navigation; only what exists and what the visitor may use is shown.
#[derive(Debug, Clone)]
pub struct NavItem {
    pub href: &'static str,
    pub label: String,
    pub active: bool,
}

/// What every page around its content needs.
pub struct Chrome {
    pub t: &'static Tr,
    pub lang: &'static str,
    pub title: String,
    pub user_name: Option<String>,
    pub nav: Vec<NavItem>,
    pub csrf: String,
    pub lang_href: String,
    pub flash: Option<String>,
    pub error: Option<String>,
}

impl Chrome {
    pub fn new(v: &Visitor, title_key: &str) -> Chrome {
        let t = v.tr();
        let ctx = v.ctx();
        let mut nav = Vec::new();
        if ctx.user_ref().is_some() {
            let mut add = |href: &'static str, key: &str| {
                let active = if href == "/" {
                    v.path == "/"
                } else {
                    v.path.starts_with(href)
                };
                nav.push(NavItem {
                    href,
                    label: t.get(key).to_owned(),
                    active,
                });
            };
            add("/", "nav.home");
            add("/incidents", "nav.incidents");
            if ctx.allows(Permission::HandleInquiries) {
                add("/desk", "nav.desk");
            }
            if ctx.allows(Permission::ViewLedger) {
                add("/ledger", "nav.ledger");
            }
            if ctx.allows(Permission::SubmitScanReport) {
                add("/discovery", "nav.discovery");
            }
            if ctx.allows(Permission::TakePart) {
                add("/programme", "nav.programme");
            }
            // Anybody may hold a grant; the page says so when there is none.
            add("/vault", "nav.vault");
            if ctx.allows(Permission::ReadAuditLog) {
                add("/audit", "nav.audit");
            }
            if ctx.allows(Permission::ManageUsers) {
                add("/admin/users", "nav.users");
                add("/admin/departments", "nav.departments");
            }
            if ctx.allows(Permission::ConfigureAlerts) {
                add("/admin/alerts", "nav.alerts");
            }
            add("/account", "nav.account");
        }
        Chrome {
            t,
            lang: v.lang.code(),
            title: t.get(title_key).to_owned(),
            // Shown (with the logout button) from the password step on, so that somebody
            // stopped at the second factor can still log out.
            user_name: v.session.as_ref().map(|s| s.user.display_name.clone()),
            nav,
            csrf: v.csrf().to_owned(),
            lang_href: format!(
                "/lang/{}?next={}",
                v.lang.other().code(),
                url_encode(&v.path)
            ),
            flash: None,
            error: None,
        }
    }

    pub fn with_error(mut self, e: Option<String>) -> Self {
        self.error = e;
        self
    }

    pub fn with_flash(mut self, f: Option<String>) -> Self {
        self.flash = f;
        self
    }

    /// Names the incident a page is about in the tab title, so that several incidents open in
    /// tabs (or in the browser's history) can be told apart: 「INC-2026-0001 顧客名簿の誤送信」
    /// for the incident itself, 「個人情報保護委員会への報告 · INC-2026-0001 …」 for its sub-pages.
    #[must_use]
    pub fn about_incident(mut self, ref_no: &str, title: &str, main: bool) -> Self {
        let subject = format!("{ref_no} {title}");
        self.title = if main {
            subject
        } else {
            format!("{} · {subject}", self.title)
        };
        self
    }
}

/// Percent-encodes a value for a query string.
pub fn url_encode(s: &str) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// Renders a template into a response; a template error is an internal error.
pub fn render<T: Template>(t: &T) -> Result<Response, WebError> {
    t.render()
        .map(|html| Html(html).into_response())
        .map_err(|e| WebError(AppError::Internal(format!("template: {e}"))))
}

/// Renders a template with a status (a form shown again with its error).
pub fn render_status<T: Template>(status: StatusCode, t: &T) -> Result<Response, WebError> {
    let mut r = render(t)?;
    *r.status_mut() = status;
    Ok(r)
}

/// The message of a validation problem in the visitor's language.
pub fn problem_text(v: &Visitor, e: &AppError) -> String {
    match e {
        AppError::Invalid(p) => p.message(v.lang.code()).to_owned(),
        other => v
            .tr()
            .get(crate::error::status_key(status_of(other)))
            .to_owned(),
    }
}

fn status_of(e: &AppError) -> StatusCode {
    match e {
        AppError::Denied => StatusCode::FORBIDDEN,
        AppError::NotFound => StatusCode::NOT_FOUND,
        AppError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
        AppError::Busy => StatusCode::SERVICE_UNAVAILABLE,
        AppError::DiskFull => StatusCode::INSUFFICIENT_STORAGE,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub t: &'static Tr,
    pub lang: &'static str,
    pub status: u16,
    pub message: String,
    pub request_id: String,
    pub lang_href: String,
}

pub async fn not_found() -> Response {
    WebError(AppError::NotFound).into_response()
}

/// Only a path on this site is followed after login or a language switch (no open redirect);
/// anything else goes to `/`. Every `next`/redirect parameter goes through here.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if is_local_path(n) => encode_non_ascii(n),
        _ => "/".to_owned(),
    }
}

/// Whether `n` (already decoded once by the query or form parser) is a path on this site: it
/// starts with one `/` (not `//` or `/\`), and neither it nor its percent-decoded form holds a
/// control character, a backslash or white space. Browsers drop tabs and line breaks from a
/// `Location` and read `\` as `/`, so `/%09/evil.example` or `/\evil.example` would leave the
/// site; a scheme (`https:`, `javascript:`) cannot start with `/`.
pub fn is_local_path(n: &str) -> bool {
    fn clean(s: &str) -> bool {
        !s.chars()
            .any(|c| c.is_control() || c.is_whitespace() || c == '\\')
    }
    let decoded = percent_decode(n);
    n.starts_with('/')
        && !n.starts_with("//")
        && !decoded.starts_with("//")
        && clean(n)
        && clean(&decoded)
        && n.len() <= 2000
}

/// `%XX` decoded (bytes that are not UTF-8 are replaced); a broken escape is kept as it is.
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        if b[i] == b'%' && i + 2 < b.len() {
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Non-ASCII characters percent-encoded, so that the `Location` header is plain ASCII.
fn encode_non_ascii(s: &str) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                let _ = write!(out, "%{b:02X}");
            }
        }
    }
    out
}

/// Formats microseconds since the epoch as Japan Standard Time.
pub fn jst(micros: i64) -> String {
    use chrono::{FixedOffset, TimeZone};
    let tz = FixedOffset::east_opt(9 * 3600).expect("JST offset");
    tz.timestamp_micros(micros)
        .single()
        .map_or_else(|| "-".into(), |d| d.format("%Y-%m-%d %H:%M:%S").to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_is_local_only() {
        assert_eq!(safe_next(Some("/audit?x=1")), "/audit?x=1");
        assert_eq!(safe_next(Some("//evil.example")), "/");
        assert_eq!(safe_next(Some("https://evil.example")), "/");
        assert_eq!(safe_next(Some("/\\evil")), "/");
        assert_eq!(safe_next(None), "/");
        // What a browser makes of a Location with a tab, a line break or a backslash.
        for bad in [
            "/\t/evil.example/x",
            "/\n/evil.example",
            "/\r\n//evil.example",
            "/%09/evil.example/x",
            "/%2F/evil.example",
            "/%5Cevil.example",
            "\\\\evil.example",
            "/ /evil.example",
            "javascript:alert(1)",
            "evil.example",
            "",
        ] {
            assert_eq!(safe_next(Some(bad)), "/", "{bad:?}");
        }
        assert_eq!(
            safe_next(Some("/vault/3?x=%E3%81%82")),
            "/vault/3?x=%E3%81%82"
        );
        assert_eq!(safe_next(Some("/監査")), "/%E7%9B%A3%E6%9F%BB");
        assert_eq!(safe_next(Some("/audit%")), "/audit%");
    }

    #[test]
    fn jst_is_nine_hours_ahead() {
        // 2026-04-06T20:00:00Z is already the 7th in Japan.
        assert_eq!(jst(1_775_505_600_000_000), "2026-04-07 05:00:00");
    }
}
