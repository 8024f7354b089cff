//! The impact page (影響範囲, issue 14): how many persons a leak concerns (counts for every
//! viewer of the incident), the persons themselves for viewers with custody of or a grant on
//! their dataset (masked), the system-side scope (a compromised dataset or an account, each
//! with an optional JST window), and the proposal for the facts as a difference that the
//! privacy office applies.

use super::incidents::Pairs;
use super::{render, render_status, Chrome};
use crate::error::{WebError, WebResult};
use crate::form::FormErrors;
use crate::i18n::Lang;
use crate::i18n::Words;
use crate::visitor::Visitor;
use crate::WebState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::{Extension, Form};
use mamori_app::impact::{parse_window, ImpactProposal};
use mamori_app::AppError;
use mamori_domain::appi::Item;
use mamori_domain::role::Role;
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
pub struct ImpactQuery {
    #[serde(default)]
    pub done: Option<String>,
    #[serde(default)]
    pub after: Option<i64>,
}

pub struct ItemCount {
    pub label: String,
    pub count: u64,
}

pub struct PersonRow {
    pub id: i64,
    pub strength: String,
    pub record: String,
    pub items: String,
    pub shown: String,
    pub sources: i64,
    pub locator: String,
}

pub struct Choice {
    pub id: i64,
    pub label: String,
}

#[derive(Template)]
#[template(path = "incident_impact.html")]
pub struct ImpactPage {
    pub c: Chrome,
    pub id: i64,
    pub total: u64,
    pub identifier: u64,
    pub name: u64,
    pub unmatched: u64,
    pub per_item: Vec<ItemCount>,
    pub persons: Vec<PersonRow>,
    pub withheld: u64,
    pub next_after: Option<i64>,
    pub can_manage: bool,
    pub can_apply: bool,
    pub datasets: Vec<Choice>,
    pub accounts: Vec<Choice>,
    pub version: i64,
    pub current_persons: String,
    pub proposed_persons: String,
    pub current_items: String,
    pub proposed_items: String,
    pub current_result: String,
    pub proposed_result: String,
    pub changes: Vec<String>,
    pub errs: FormErrors,
}

const PAGE: i64 = 200;

fn item_label(v: &Visitor, i: Item) -> String {
    if v.lang == Lang::En {
        i.label_en()
    } else {
        i.label_ja()
    }
    .to_owned()
}

fn items_text(v: &Visitor, items: impl IntoIterator<Item = Item>) -> String {
    let sep = if v.lang == Lang::En { ", " } else { "、" };
    let v: Vec<String> = items.into_iter().map(|i| item_label(v, i)).collect();
    if v.is_empty() {
        "-".into()
    } else {
        v.join(sep)
    }
}

fn result_text(v: &Visitor, a: &mamori_domain::appi::Assessment) -> String {
    let t = v.tr();
    if !a.reportable {
        return t.get("impact.result.not_reportable").to_owned();
    }
    let cats: Vec<String> = a
        .categories
        .iter()
        .map(|c| t.get(&format!("category.{}", c.code())).to_owned())
        .collect();
    format!(
        "{}: {}",
        t.get("impact.result.reportable"),
        cats.join(" / ")
    )
}

fn strength_text(v: &Visitor, s: &str) -> String {
    v.tr()
        .get(match s {
            "identifier" => "impact.strength.identifier",
            "name" => "impact.strength.name",
            _ => "impact.strength.none",
        })
        .to_owned()
}

async fn build(
    s: &WebState,
    v: &Visitor,
    id: i64,
    after: i64,
    errs: FormErrors,
    flash: Option<String>,
) -> Result<ImpactPage, WebError> {
    let ctx = v.ctx();
    let (incident, _) = s.app.incident_for(&ctx, id).await?;
    let p: ImpactProposal = s.app.impact_proposal(&ctx, id).await?;
    let (persons, withheld) = s.app.impact_persons(&ctx, id, after, PAGE).await?;
    let can_manage = ctx.allows(mamori_domain::role::Permission::ManageIncidents);
    let can_apply = ctx
        .user_ref()
        .is_some_and(|u| u.roles.contains(Role::PrivacyOffice));
    let (datasets, accounts) = if can_manage {
        let ds = s
            .app
            .dataset_choices(&ctx)
            .await?
            .into_iter()
            .map(|(id, name, dept)| Choice {
                id,
                label: format!("{name}（{dept}）"),
            })
            .collect();
        let users = s
            .app
            .store
            .list_users(Some(incident.company_id))
            .await
            .map_err(AppError::from)?
            .into_iter()
            .map(|u| Choice {
                id: u.id,
                label: format!("{}（{}）", u.display_name, u.login),
            })
            .collect();
        (ds, users)
    } else {
        (Vec::new(), Vec::new())
    };
    let next_after = (persons.len() as i64 == PAGE)
        .then(|| persons.last().map(|x| x.id))
        .flatten();
    let persons = persons
        .into_iter()
        .map(|x| PersonRow {
            id: x.id,
            strength: strength_text(v, &x.strength),
            record: x.record_id.map_or_else(|| "-".into(), |r| r.to_string()),
            items: items_text(v, x.items.iter().copied()),
            shown: x
                .shown
                .iter()
                .map(|(_, s)| s.clone())
                .collect::<Vec<_>>()
                .join(" / "),
            sources: x.sources,
            locator: x.first_locator,
        })
        .collect();
    let count = |n: Option<u64>| n.map_or_else(|| "-".into(), |n| n.to_string());
    Ok(ImpactPage {
        c: Chrome::new(v, "impact.title")
            .about_incident(&incident.ref_no, &incident.title, false)
            .with_error(errs.banner(&["scope", "apply"]))
            .with_flash(flash),
        id,
        total: p.counts.total,
        identifier: p.counts.identifier,
        name: p.counts.name,
        unmatched: p.counts.unmatched,
        per_item: p
            .counts
            .per_item
            .iter()
            .map(|(i, n)| ItemCount {
                label: item_label(v, *i),
                count: *n,
            })
            .collect(),
        persons,
        withheld,
        next_after,
        can_manage,
        can_apply,
        datasets,
        accounts,
        version: p.version,
        current_persons: count(p.current.persons),
        proposed_persons: count(p.proposed.persons),
        current_items: items_text(v, p.current.items.iter().copied()),
        proposed_items: items_text(v, p.proposed.items.iter().copied()),
        current_result: result_text(v, &p.current_assessment),
        proposed_result: result_text(v, &p.proposed_assessment),
        changes: p.changes.iter().map(|c| c.say(v.lang)).collect(),
        errs,
    })
}

/// The page.
pub async fn impact_page(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Path(id): Path<i64>,
    Query(q): Query<ImpactQuery>,
) -> WebResult {
    v.full()?;
    let flash = q.done.as_deref().map(|d| {
        v.tr()
            .get(match d {
                "apply" => "impact.flash.applied",
                _ => "impact.flash.scoped",
            })
            .to_owned()
    });
    let page = build(
        &s,
        &v,
        id,
        q.after.unwrap_or(0),
        FormErrors::none("scope"),
        flash,
    )
    .await?;
    render(&page)
}

async fn after(
    s: &WebState,
    v: &Visitor,
    id: i64,
    form: &'static str,
    done: &str,
    r: Result<(), AppError>,
) -> WebResult {
    match r {
        Ok(()) => Ok(Redirect::to(&format!("/incidents/{id}/impact?done={done}")).into_response()),
        Err(e @ AppError::Invalid(_)) => {
            let t = v.tr();
            let fields = [
                ("from", t.get("impact.window.from")),
                ("to", t.get("impact.window.to")),
                ("version", t.get("impact.apply")),
            ];
            let errs = FormErrors::of(v, form, &e, &fields);
            let page = build(s, v, id, 0, errs, None).await?;
            render_status(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(e) => Err(WebError(e)),
    }
}

/// Every record of a dataset (optionally within a window) as affected persons.
pub async fn from_dataset(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> WebResult {
    v.full()?;
    let p = Pairs(pairs);
    let r = async {
        let w = parse_window(p.get("from"), p.get("to"))?;
        let ds = p.id("dataset").ok_or_else(|| {
            AppError::invalid("dataset", "台帳を選んでください", "choose a dataset")
        })?;
        s.app.impact_from_dataset(&v.ctx(), id, ds, w).await?;
        Ok(())
    }
    .await;
    after(&s, &v, id, "scope", "dataset", r).await
}

/// The records an account revealed or exported as affected persons.
pub async fn from_account(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> WebResult {
    v.full()?;
    let p = Pairs(pairs);
    let r = async {
        let w = parse_window(p.get("from"), p.get("to"))?;
        let user = p.id("user").ok_or_else(|| {
            AppError::invalid("user", "アカウントを選んでください", "choose an account")
        })?;
        s.app.impact_from_account(&v.ctx(), id, user, w).await?;
        Ok(())
    }
    .await;
    after(&s, &v, id, "scope", "account", r).await
}

/// Applies the proposal to the facts (privacy office).
pub async fn apply(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> WebResult {
    v.full()?;
    let p = Pairs(pairs);
    let r = s
        .app
        .apply_impact_proposal(&v.ctx(), id, p.id("version").unwrap_or(0))
        .await;
    after(&s, &v, id, "apply", "apply", r).await
}
