//! The own account: password, second factor and personal API tokens.

use super::{jst, render, render_status, Chrome};
use crate::error::{WebError, WebResult};
use crate::form::FormErrors;
use crate::visitor::{session_cookie, Visitor};
use crate::WebState;
use askama::Template;
use axum::extract::{Path, State};
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
    pub tokens: Vec<TokenLine>,
    /// A token just created: shown this once.
    pub new_token: Option<String>,
    pub token_name: String,
    pub token_days: String,
    /// The problems of the form sent: `pw` (the password) or `token`.
    pub errs: FormErrors,
}

const PASSWORD_FIELDS: &[(&str, &str)] = &[
    ("current_password", "account.password.current"),
    // The new password's problems name `password`.
    ("password", "account.password.new"),
];
const TOKEN_FIELDS: &[(&str, &str)] = &[
    ("name", "account.token.name"),
    ("days", "account.token.days"),
    ("password", "account.token.password"),
];

/// A personal API token in the list.
pub struct TokenLine {
    pub id: i64,
    pub name: String,
    pub created: String,
    pub expires: String,
    pub last_used: String,
    pub status: String,
    pub active: bool,
}

async fn page(
    s: &WebState,
    v: &Visitor,
    flash: Option<String>,
    errs: FormErrors,
) -> Result<AccountPage, WebError> {
    let session = v.full()?;
    let tokens = s
        .app
        .api_tokens(&v.ctx())
        .await?
        .into_iter()
        .map(|t| TokenLine {
            id: t.row.id,
            name: t.row.name,
            created: jst(t.row.created_at),
            expires: jst(t.row.expires_at),
            last_used: t.row.last_used_at.map(jst).unwrap_or_default(),
            status: v
                .tr()
                .get(&format!("account.token.status.{}", t.status))
                .to_owned(),
            active: t.status == "active",
        })
        .collect();
    Ok(AccountPage {
        c: Chrome::new(v, "account.title")
            .with_flash(flash)
            .with_error(errs.banner(&["pw", "token"])),
        errs,
        login: session.user.login.clone(),
        name: session.user.display_name.clone(),
        totp_enabled: session.user.totp_enabled,
        tokens,
        new_token: None,
        token_name: String::new(),
        token_days: "30".into(),
    })
}

#[derive(Deserialize)]
pub struct AccountQuery {
    totp: Option<String>,
    revoked: Option<String>,
}

pub async fn account_page(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    axum::extract::Query(q): axum::extract::Query<AccountQuery>,
) -> WebResult {
    let flash = q
        .totp
        .map(|_| v.tr().get("account.totp.enabled_now").to_owned())
        .or_else(|| {
            q.revoked
                .map(|_| v.tr().get("account.token.revoked").to_owned())
        });
    render(&page(&s, &v, flash, FormErrors::none("pw")).await?)
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
                &s,
                &v2,
                Some(v.tr().get("account.password.done").to_owned()),
                FormErrors::none("pw"),
            )
            .await?;
            Ok((jar, super::render(&p)?).into_response())
        }
        Err(e @ AppError::Invalid(_)) => render_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            &page(&s, &v, None, FormErrors::of(&v, "pw", &e, PASSWORD_FIELDS)).await?,
        ),
        Err(e) => Err(WebError(e)),
    }
}

#[derive(Deserialize)]
pub struct TokenForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    days: String,
    /// The current password, asked again: a token outlives the session that made it.
    #[serde(default)]
    password: String,
}

/// Creates a personal API token and shows it once.
pub async fn create_token(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Form(f): Form<TokenForm>,
) -> WebResult {
    v.full()?;
    match s
        .app
        .create_api_token(&v.ctx(), &f.password, &f.name, &f.days)
        .await
    {
        Ok((_, token)) => {
            let mut p = page(
                &s,
                &v,
                Some(v.tr().get("account.token.created").to_owned()),
                FormErrors::none("token"),
            )
            .await?;
            p.new_token = Some(token);
            render(&p)
        }
        Err(e @ AppError::Invalid(_)) => {
            let errs = FormErrors::of(&v, "token", &e, TOKEN_FIELDS);
            let mut p = page(&s, &v, None, errs).await?;
            p.token_name = f.name;
            p.token_days = f.days;
            render_status(StatusCode::UNPROCESSABLE_ENTITY, &p)
        }
        Err(e) => Err(WebError(e)),
    }
}

pub async fn revoke_token(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Path(id): Path<i64>,
) -> WebResult {
    v.full()?;
    s.app.revoke_api_token(&v.ctx(), id).await?;
    Ok(axum::response::Redirect::to("/account?revoked=1").into_response())
}
