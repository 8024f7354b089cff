//! Alert settings (privacy office, administrator): the call tree level by level, the
//! escalation delay, and signed webhooks for chat tools.

use super::incidents::Pairs;
use super::{problem_text, render_status, Chrome};
use crate::error::{WebError, WebResult};
use crate::i18n::Lang;
use crate::visitor::Visitor;
use crate::WebState;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::{Extension, Form};
use mamori_app::AppError;

pub const LEVELS: i64 = 3;

pub struct PersonBox {
    pub id: i64,
    pub name: String,
    pub roles: String,
    pub checked: bool,
}

pub struct LevelBlock {
    pub level: i64,
    pub people: Vec<PersonBox>,
}

pub struct HookRow {
    pub id: i64,
    pub url: String,
    pub active: bool,
}

#[derive(Template)]
#[template(path = "admin_alerts.html")]
pub struct AlertsPage {
    pub c: Chrome,
    pub minutes: i64,
    pub levels: Vec<LevelBlock>,
    pub hooks: Vec<HookRow>,
    pub new_secret: Option<String>,
}

async fn page(
    s: &WebState,
    v: &Visitor,
    status: StatusCode,
    error: Option<String>,
    flash: Option<String>,
    new_secret: Option<String>,
) -> WebResult {
    v.full()?;
    let a = s.app.alert_settings(&v.ctx()).await?;
    let levels = (1..=LEVELS)
        .map(|level| LevelBlock {
            level,
            people: a
                .people
                .iter()
                .map(|u| PersonBox {
                    id: u.id,
                    name: u.display_name.clone(),
                    roles: u
                        .roles
                        .iter()
                        .map(|r| {
                            if v.lang == Lang::En {
                                r.label_en()
                            } else {
                                r.label_ja()
                            }
                        })
                        .collect::<Vec<_>>()
                        .join("・"),
                    checked: a.tree.iter().any(|e| e.level == level && e.user_id == u.id),
                })
                .collect(),
        })
        .collect();
    let hooks = a
        .webhooks
        .iter()
        .map(|w| HookRow {
            id: w.id,
            url: w.url.clone(),
            active: w.active,
        })
        .collect();
    render_status(
        status,
        &AlertsPage {
            c: Chrome::new(v, "alerts.title")
                .with_error(error)
                .with_flash(flash),
            minutes: a.escalate_after_minutes,
            levels,
            hooks,
            new_secret,
        },
    )
}

pub async fn alerts_page(State(s): State<WebState>, Extension(v): Extension<Visitor>) -> WebResult {
    page(&s, &v, StatusCode::OK, None, None, None).await
}

fn outcome(s: &WebState, v: &Visitor, r: Result<(), AppError>) -> Result<Option<String>, WebError> {
    let _ = s;
    match r {
        Ok(()) => Ok(None),
        Err(e @ AppError::Invalid(_)) => Ok(Some(problem_text(v, &e))),
        Err(e) => Err(WebError(e)),
    }
}

pub async fn save_call_tree(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> WebResult {
    v.full()?;
    let p = Pairs(pairs);
    let levels: Vec<Vec<i64>> = (1..=LEVELS)
        .map(|l| {
            p.all(&format!("level{l}"))
                .iter()
                .filter_map(|x| x.parse().ok())
                .collect()
        })
        .collect();
    let minutes = mamori_domain::number::parse_whole(p.get("minutes"))
        .and_then(|m| i64::try_from(m).ok())
        .unwrap_or(0);
    let r = s.app.set_call_tree(&v.ctx(), &levels, minutes).await;
    match outcome(&s, &v, r)? {
        None => Ok(Redirect::to("/admin/alerts?saved=1").into_response()),
        Some(e) => {
            page(
                &s,
                &v,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(e),
                None,
                None,
            )
            .await
        }
    }
}

pub async fn add_webhook(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> WebResult {
    v.full()?;
    let p = Pairs(pairs);
    match s.app.add_webhook(&v.ctx(), p.get("url")).await {
        Ok(secret) => {
            let flash = Some(v.tr().get("alerts.webhook.added").to_owned());
            page(&s, &v, StatusCode::OK, None, flash, Some(secret)).await
        }
        Err(e @ AppError::Invalid(_)) => {
            let msg = problem_text(&v, &e);
            page(
                &s,
                &v,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(msg),
                None,
                None,
            )
            .await
        }
        Err(e) => Err(WebError(e)),
    }
}

pub async fn toggle_webhook(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> WebResult {
    v.full()?;
    let p = Pairs(pairs);
    s.app
        .set_webhook_active(&v.ctx(), id, p.get("active") == "1")
        .await?;
    Ok(Redirect::to("/admin/alerts?saved=1").into_response())
}
