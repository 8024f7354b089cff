//! The auditor's page: search and filter the audit log, newest first, with keyset paging.
//! With htmx, changing a filter replaces only the result table. An auditor sees the own
//! company's entries; a group auditor (auditor and group headquarters) sees every company's,
//! with a company column and a company filter. The export downloads the same scope as JSON
//! lines with the hashes (evidence that each entry is unchanged).

use super::{jst, render, Chrome};
use crate::error::{WebError, WebResult};
use crate::visitor::Visitor;
use crate::WebState;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap};
use axum::response::IntoResponse;
use axum::Extension;
use chrono::{NaiveDate, TimeZone};
use mamori_app::audit::outcome_label;
use mamori_app::AppError;
use mamori_domain::audit::{AuditScope, Outcome};
use mamori_store::audit::AuditFilter;
use serde::Deserialize;

const PAGE: i64 = 50;

#[derive(Debug, Default, Deserialize)]
pub struct AuditQuery {
    #[serde(default)]
    actor: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    target: String,
    #[serde(default)]
    outcome: String,
    #[serde(default)]
    since: String,
    #[serde(default)]
    until: String,
    /// A group auditor's choice of company (its id); empty for all.
    #[serde(default)]
    company: String,
    before: Option<i64>,
}

pub struct Row {
    pub seq: i64,
    pub when: String,
    pub actor: String,
    pub ip: String,
    pub action: String,
    pub target: String,
    pub outcome: &'static str,
    pub outcome_class: &'static str,
    /// The company's name (shown to a group auditor only); empty for none.
    pub company: String,
}

pub struct CompanyOption {
    pub id: i64,
    pub name: String,
    pub selected: bool,
}

pub struct OutcomeOption {
    pub code: &'static str,
    pub label: &'static str,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "audit.html")]
pub struct AuditPage {
    pub c: Chrome,
    pub q: AuditQuery,
    pub outcomes: Vec<OutcomeOption>,
    pub rows: Vec<Row>,
    pub more_href: Option<String>,
    pub total: i64,
    /// A group auditor's company column and filter.
    pub show_company: bool,
    pub companies: Vec<CompanyOption>,
    pub export_href: String,
}

#[derive(Template)]
#[template(path = "audit_rows.html")]
pub struct AuditRows {
    pub c: Chrome,
    pub rows: Vec<Row>,
    pub more_href: Option<String>,
    pub show_company: bool,
}

/// A day in JST (`2026-04-07`) as microseconds at its start.
fn day_start(s: &str, field: &'static str) -> Result<Option<i64>, AppError> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    let d = NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| {
        AppError::invalid(
            field,
            format!("日付は YYYY-MM-DD の形式で入力してください: {s}"),
            format!("dates are YYYY-MM-DD: {s}"),
        )
    })?;
    let jst = chrono::FixedOffset::east_opt(9 * 3600).expect("JST");
    let t = jst
        .from_local_datetime(&d.and_hms_opt(0, 0, 0).expect("midnight"))
        .single()
        .ok_or_else(|| AppError::invalid(field, "日付が正しくありません", "invalid date"))?;
    Ok(Some(t.timestamp_micros()))
}

fn opt(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.chars().take(200).collect())
}

fn filter_of(q: &AuditQuery) -> Result<AuditFilter, AppError> {
    let outcome = match q.outcome.as_str() {
        "" => None,
        o => Some(o.parse::<Outcome>().map_err(|e| {
            AppError::invalid("outcome", format!("結果の指定が正しくありません: {o}"), e)
        })?),
    };
    Ok(AuditFilter {
        actor: opt(&q.actor).map(|a| a.to_lowercase()),
        action: opt(&q.action),
        outcome,
        since: day_start(&q.since, "since")?,
        // "until" is inclusive for people: the whole day.
        until: day_start(&q.until, "until")?.map(|t| t + 86_400_000_000),
        target: opt(&q.target),
        before_seq: q.before,
        company: company_of(q)?,
    })
}

fn company_of(q: &AuditQuery) -> Result<Option<i64>, AppError> {
    match q.company.trim() {
        "" => Ok(None),
        c => c.parse().map(Some).map_err(|_| {
            AppError::invalid(
                "company",
                format!("会社の指定が正しくありません: {c}"),
                format!("unknown company: {c}"),
            )
        }),
    }
}

fn more_href(q: &AuditQuery, before: i64) -> String {
    use super::url_encode as e;
    format!(
        "/audit?actor={}&action={}&target={}&outcome={}&since={}&until={}&company={}&before={before}",
        e(&q.actor),
        e(&q.action),
        e(&q.target),
        e(&q.outcome),
        e(&q.since),
        e(&q.until),
        e(&q.company)
    )
}

fn export_href(q: &AuditQuery) -> String {
    use super::url_encode as e;
    format!(
        "/audit/export?since={}&until={}&company={}",
        e(&q.since),
        e(&q.until),
        e(&q.company)
    )
}

pub async fn audit_page(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    headers: HeaderMap,
    Query(q): Query<AuditQuery>,
) -> WebResult {
    v.full()?;
    let filter = filter_of(&q).map_err(WebError)?;
    let ctx = v.ctx();
    let entries = s.app.search_audit(&ctx, &filter, PAGE + 1).await?;
    let show_company = !matches!(ctx.audit_scope()?, Some(AuditScope::Company(_)));
    let names: std::collections::HashMap<i64, String> = if show_company {
        s.app
            .store
            .list_companies()
            .await?
            .into_iter()
            .map(|c| (c.id, c.name))
            .collect()
    } else {
        std::collections::HashMap::new()
    };
    let lang = v.lang.code();
    let more = entries.len() as i64 > PAGE;
    let rows: Vec<Row> = entries
        .iter()
        .take(PAGE as usize)
        .map(|e| Row {
            seq: e.seq,
            when: jst(e.record.at_micros),
            actor: e.record.actor.clone(),
            ip: e.record.ip.clone(),
            action: e.record.action.clone(),
            target: e.record.target.clone(),
            outcome: outcome_label(e.record.outcome, lang),
            outcome_class: e.record.outcome.code(),
            company: e
                .record
                .company_id
                .map(|c| names.get(&c).cloned().unwrap_or_else(|| c.to_string()))
                .unwrap_or_default(),
        })
        .collect();
    let more_href = if more {
        rows.last().map(|r| more_href(&q, r.seq))
    } else {
        None
    };
    let c = Chrome::new(&v, "audit.title");
    if headers.contains_key("hx-request") && !headers.contains_key("hx-boosted") {
        return render(&AuditRows {
            c,
            rows,
            more_href,
            show_company,
        });
    }
    let outcomes = Outcome::ALL
        .into_iter()
        .map(|o| OutcomeOption {
            code: o.code(),
            label: outcome_label(o, lang),
            selected: q.outcome == o.code(),
        })
        .collect();
    let total = s.app.store.audit_head().await?.0;
    let mut companies: Vec<CompanyOption> = names
        .into_iter()
        .map(|(id, name)| CompanyOption {
            id,
            name,
            selected: filter.company == Some(id),
        })
        .collect();
    companies.sort_by_key(|c| c.id);
    let export_href = export_href(&q);
    render(&AuditPage {
        c,
        q,
        outcomes,
        rows,
        more_href,
        total,
        show_company,
        companies,
        export_href,
    })
}

/// The auditor's export: the entries of the auditor's scope (and the chosen period and
/// company) as JSON lines, one object per entry with its hashes.
pub async fn audit_export(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Query(q): Query<AuditQuery>,
) -> WebResult {
    v.full()?;
    let since = day_start(&q.since, "since").map_err(WebError)?;
    let until = day_start(&q.until, "until")
        .map_err(WebError)?
        .map(|t| t + 86_400_000_000);
    let company = company_of(&q).map_err(WebError)?;
    let mut out = Vec::new();
    s.app
        .export_audit(&v.ctx(), since, until, company, &mut out)
        .await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/x-ndjson; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"mamori-audit.jsonl\"",
            ),
        ],
        out,
    )
        .into_response())
}
