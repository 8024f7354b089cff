//! The own account: password and second factor.

use super::{problem_text, render, render_status, Chrome};
use crate::error::{WebError, WebResult};
use crate::visitor::{session_cookie, Visitor};
use crate::WebState;
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::{Extension, Form};
use axum_extra::extract::cookie::CookieJar;
use mamori_app::AppError;
use serde::Deserialize;

#[derive(Template)]
#[template(path = "account.html")]
pub struct AccountPage {
    pub c: Chrome,
    pub login: String,
    pub name: String,
    pub totp_enabled: bool,
}

fn page(
    v: &Visitor,
    flash: Option<String>,
    error: Option<String>,
) -> Result<AccountPage, WebError> {
    let s = v.full()?;
    Ok(AccountPage {
        c: Chrome::new(v, "account.title")
            .with_flash(flash)
            .with_error(error),
        login: s.user.login.clone(),
        name: s.user.display_name.clone(),
        totp_enabled: s.user.totp_enabled,
    })
}

#[derive(Deserialize)]
pub struct AccountQuery {
    totp: Option<String>,
}

pub async fn account_page(
    Extension(v): Extension<Visitor>,
    axum::extract::Query(q): axum::extract::Query<AccountQuery>,
) -> WebResult {
    let flash = q
        .totp
        .map(|_| v.tr().get("account.totp.enabled_now").to_owned());
    render(&page(&v, flash, None)?)
}

#[derive(Deserialize)]
pub struct PasswordForm {
    current_password: String,
    new_password: String,
}

pub async fn change_password(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    jar: CookieJar,
    Form(f): Form<PasswordForm>,
) -> WebResult {
    let session = v.full()?;
    match s
        .app
        .change_own_password(
            &v.ctx(),
            session,
            &f.current_password,
            &f.new_password,
            &v.user_agent,
        )
        .await
    {
        Ok(li) => {
            let jar = jar.add(session_cookie(li.token, s.cfg.cookie_secure));
            // The old session (and its CSRF token) is gone; render with the new one.
            let mut v2 = v.clone();
            if let Some(new) = s
                .app
                .session(
                    &jar.get(crate::visitor::SESSION_COOKIE)
                        .map(|c| c.value().to_owned())
                        .unwrap_or_default(),
                )
                .await?
            {
                v2.session = Some(new);
            }
            let p = page(
                &v2,
                Some(v.tr().get("account.password.done").to_owned()),
                None,
            )?;
            Ok((jar, super::render(&p)?).into_response())
        }
        Err(e @ AppError::Invalid(_)) => render_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            &page(&v, None, Some(problem_text(&v, &e)))?,
        ),
        Err(e) => Err(WebError(e)),
    }
}
