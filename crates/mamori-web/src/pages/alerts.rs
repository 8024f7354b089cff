//! Alert settings (privacy office, administrator): the call tree level by level, the
//! escalation delay, and signed webhooks for chat tools.

use super::incidents::Pairs;
use super::{render_status, Chrome};
use crate::error::{WebError, WebResult};
use crate::form::FormErrors;
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
    pub minutes: String,
    pub levels: Vec<LevelBlock>,
    pub hooks: Vec<HookRow>,
    pub new_secret: Option<String>,
    /// The problems of the form sent (`tree` or `hook`) and what was typed into it.
    pub errs: FormErrors,
    pub typed_url: String,
}

const TREE_FIELDS: &[(&str, &str)] = &[
    ("escalate_after_minutes", "alerts.minutes"),
    ("level1", "alerts.level1.label"),
];
const HOOK_FIELDS: &[(&str, &str)] = &[("url", "alerts.webhook.url")];

async fn page(
    s: &WebState,
    v: &Visitor,
    status: StatusCode,
    errs: FormErrors,
    typed: Option<&Pairs>,
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
                    checked: match typed {
                        Some(p) if errs.form == "tree" => {
                            p.all(&format!("level{level}")).contains(&u.id.to_string())
                        }
                        _ => a.tree.iter().any(|e| e.level == level && e.user_id == u.id),
                    },
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
                .with_error(errs.banner(&["tree", "hook"]))
                .with_flash(flash),
            minutes: match typed {
                Some(p) if errs.form == "tree" => p.get("minutes").to_owned(),
                _ => a.escalate_after_minutes.to_string(),
            },
            levels,
            hooks,
            new_secret,
            typed_url: match typed {
                Some(p) if errs.form == "hook" => p.get("url").to_owned(),
                _ => String::new(),
            },
            errs,
        },
    )
}

pub async fn alerts_page(State(s): State<WebState>, Extension(v): Extension<Visitor>) -> WebResult {
    page(
        &s,
        &v,
        StatusCode::OK,
        FormErrors::none("tree"),
        None,
        None,
        None,
    )
    .await
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
    match s.app.set_call_tree(&v.ctx(), &levels, minutes).await {
        Ok(()) => Ok(Redirect::to("/admin/alerts?saved=1").into_response()),
        Err(e @ AppError::Invalid(_)) => {
            let errs = FormErrors::of(&v, "tree", &e, TREE_FIELDS);
            page(
                &s,
                &v,
                StatusCode::UNPROCESSABLE_ENTITY,
                errs,
                Some(&p),
                None,
                None,
            )
            .await
        }
        Err(e) => Err(WebError(e)),
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
            page(
                &s,
                &v,
                StatusCode::OK,
                FormErrors::none("hook"),
                None,
                flash,
                Some(secret),
            )
            .await
        }
        Err(e @ AppError::Invalid(_)) => {
            let errs = FormErrors::of(&v, "hook", &e, HOOK_FIELDS);
            page(
                &s,
                &v,
                StatusCode::UNPROCESSABLE_ENTITY,
                errs,
                Some(&p),
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
