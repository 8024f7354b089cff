//! The vault: the datasets a visitor reaches, the lookup with masked values and the reveal of
//! one field (htmx), the export, the erasure of a person, the schema and retention of a
//! dataset, and the grants custodians issue.
//!
//! Every request goes through a use case that re-reads the grant from the database, so an
//! expired or revoked grant stops at the next click; `static/vault.js` also blanks revealed
//! values on a page left open when its grant expires.

use super::incidents::{Opt, Pairs};
use super::ledger::csv_download;
use crate::form::FormErrors;

const LOOKUP_FIELDS: &[(&str, &str)] = &[
    ("by", "vault.lookup.by"),
    ("q", "vault.lookup.value"),
    ("birth", "vault.lookup.birth"),
];
const ERASE_FIELDS: &[(&str, &str)] = &[
    ("by", "vault.lookup.by"),
    ("value", "vault.lookup.value"),
    ("reason", "vault.erase.reason"),
];
const SCHEMA_FIELDS: &[(&str, &str)] = &[
    ("schema", "vault.schema.fields"),
    ("retention", "vault.retention.title"),
    ("base_field", "vault.retention.base"),
    ("days", "vault.retention.days"),
];
const GRANT_FIELDS: &[(&str, &str)] = &[
    ("grantee", "vault.grant.grantee"),
    ("dataset", "vault.dataset"),
    ("fields", "vault.grant.fields"),
    ("purpose", "vault.grant.purpose"),
    ("hours", "vault.grant.hours.label"),
];
use super::{jst, render, render_status, Chrome};
use crate::error::{WebError, WebResult};
use crate::i18n::Lang;
use crate::visitor::Visitor;
use crate::WebState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect};
use axum::{Extension, Form};
use mamori_app::vault::{AccessView, GrantView, LookupBy, RecordView};
use mamori_app::vault_overview::VaultDataset;
use mamori_app::AppError;
use mamori_domain::incident::jst_date;
use mamori_domain::number::parse_whole;
use mamori_domain::role::Permission;
use mamori_domain::vault::grant::GrantRequest;
use mamori_domain::vault::normalize::IndexClass;
use mamori_domain::vault::{FieldKind, RetentionAction, RetentionRule, Schema};
use serde::Deserialize;

fn kind_label(v: &Visitor, k: mamori_domain::vault::FieldKind) -> &'static str {
    if v.lang == Lang::En {
        k.label_en()
    } else {
        k.label_ja()
    }
}

/// How the visitor reaches a dataset, as the page header says it.
pub struct AccessLine {
    pub custody: bool,
    pub purpose: String,
    pub until: String,
    pub expires_at: i64,
    pub expires_in_ms: i64,
    pub may_export: bool,
}

fn access_line(s: &WebState, a: &AccessView) -> AccessLine {
    let now = s.app.clock.now_micros();
    AccessLine {
        custody: a.custody,
        purpose: a.purpose.clone().unwrap_or_default(),
        until: a.expires_at.map(jst).unwrap_or_default(),
        expires_at: a.expires_at.unwrap_or(0),
        expires_in_ms: a.expires_at.map_or(0, |e| ((e - now) / 1000).max(0)),
        may_export: a.may_export,
    }
}

// ───────────────────────────── the vault index ─────────────────────────────

pub struct DatasetCard {
    pub id: i64,
    pub name: String,
    pub records: i64,
    pub has_schema: bool,
    pub fields: String,
    pub access: Option<AccessLine>,
}

pub struct GrantLine {
    pub id: i64,
    pub dataset_id: i64,
    pub dataset: String,
    pub grantee: String,
    pub issuer: String,
    pub fields: String,
    pub purpose: String,
    pub may_export: bool,
    pub issued: String,
    pub expires: String,
    pub status_code: &'static str,
    pub status: String,
    pub active: bool,
}

fn grant_line(v: &Visitor, g: &GrantView) -> GrantLine {
    GrantLine {
        id: g.row.id,
        dataset_id: g.row.dataset_id,
        dataset: g.dataset.clone(),
        grantee: g.grantee.clone(),
        issuer: g.issuer.clone(),
        fields: g.fields.join(", "),
        purpose: g.row.purpose.clone(),
        may_export: g.row.may_export,
        issued: jst(g.row.issued_at),
        expires: jst(g.row.expires_at),
        status_code: g.status,
        status: v
            .tr()
            .get(&format!("vault.grant.status.{}", g.status))
            .to_owned(),
        active: g.status == "active",
    }
}

#[derive(Template)]
#[template(path = "vault.html")]
pub struct VaultIndex {
    pub c: Chrome,
    pub datasets: Vec<DatasetCard>,
    pub grants: Vec<GrantLine>,
    pub can_grant: bool,
    pub can_manage: bool,
}

fn card(s: &WebState, v: &Visitor, d: &VaultDataset) -> DatasetCard {
    DatasetCard {
        id: d.id,
        name: d.name.clone(),
        records: d.records,
        has_schema: d.schema.is_some(),
        fields: d
            .schema
            .as_ref()
            .map(|sc| sc.field_labels(v.lang))
            .unwrap_or_default(),
        access: d.access.as_ref().map(|a| access_line(s, a)),
    }
}

pub async fn index(State(s): State<WebState>, Extension(v): Extension<Visitor>) -> WebResult {
    let me = v.full()?.user.id;
    let ctx = v.ctx();
    let datasets = s.app.vault_datasets(&ctx).await?;
    let grants = s
        .app
        .grants(&ctx)
        .await?
        .iter()
        .filter(|g| g.row.grantee_id == me && g.status == "active")
        .map(|g| {
            let mut line = grant_line(&v, g);
            // The fields as people read them, when the dataset's schema is at hand.
            if let Some(sc) = datasets
                .iter()
                .find(|d| d.id == g.row.dataset_id)
                .and_then(|d| d.schema.as_ref())
            {
                line.fields = g
                    .fields
                    .iter()
                    .map(|f| sc.field_label(f, v.lang))
                    .collect::<Vec<_>>()
                    .join(v.lang.pick("、", ", "));
            }
            line
        })
        .collect();
    render(&VaultIndex {
        c: Chrome::new(&v, "vault.title"),
        datasets: datasets.iter().map(|d| card(&s, &v, d)).collect(),
        grants,
        can_grant: ctx.allows(Permission::VaultCustody),
        can_manage: ctx.allows(Permission::ManageVault),
    })
}

// ───────────────────────────── one dataset: lookup ─────────────────────────────

#[derive(Debug, Default, Deserialize)]
pub struct LookupQuery {
    #[serde(default)]
    pub by: String,
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub birth: String,
    #[serde(default)]
    pub erased: Option<usize>,
}

pub struct FieldHead {
    pub name: String,
    pub kind: &'static str,
}

pub struct Cell {
    pub name: String,
    pub shown: String,
    pub present: bool,
    pub may_reveal: bool,
}

pub struct RecordLine {
    pub id: i64,
    pub error: Option<String>,
    pub scrubbed: bool,
    pub cells: Vec<Cell>,
}

fn record_line(r: &RecordView) -> RecordLine {
    RecordLine {
        id: r.id,
        error: r.error.clone(),
        scrubbed: r.scrubbed,
        cells: r
            .fields
            .iter()
            .map(|f| Cell {
                name: f.name.clone(),
                shown: f.shown.clone(),
                present: f.present,
                may_reveal: f.may_reveal,
            })
            .collect(),
    }
}

/// The erasure form as typed.
#[derive(Debug, Default)]
pub struct EraseEcho {
    pub by: String,
    pub value: String,
    pub reason: String,
}

#[derive(Template)]
#[template(path = "vault_dataset.html")]
pub struct DatasetPage {
    pub c: Chrome,
    pub id: i64,
    pub name: String,
    pub records: i64,
    pub retention: String,
    pub access: Option<AccessLine>,
    pub heads: Vec<FieldHead>,
    pub by: String,
    pub q: String,
    pub birth: String,
    /// The ways of searching the visitor may use (`email`, `phone`, `name`, `record`), with
    /// their labels.
    pub by_options: Vec<(&'static str, String)>,
    /// Whether a birth date may be added to a name (the grant covers the birth date too).
    pub may_birth: bool,
    pub searched: bool,
    pub results: Vec<RecordLine>,
    pub may_erase: bool,
    pub may_manage: bool,
    pub erase: EraseEcho,
    /// The problems of the form sent: `lookup`, `erase` or `export`.
    pub errs: FormErrors,
}

/// A record number as typed (「１２」 from an IME is 12).
fn parse_record(s: &str) -> Option<i64> {
    parse_whole(s).and_then(|n| i64::try_from(n).ok())
}

fn lookup_of(q: &LookupQuery) -> Result<LookupBy, AppError> {
    let value = q.q.trim().to_owned();
    Ok(match q.by.as_str() {
        "phone" => LookupBy::Phone(value),
        "name" if !q.birth.trim().is_empty() => LookupBy::NameBirth(value, q.birth.trim().into()),
        "name" => LookupBy::Name(value),
        "record" => LookupBy::Record(parse_record(&value).ok_or_else(|| {
            AppError::invalid(
                "q",
                "レコード番号は数字で入力してください",
                "a record number is a number",
            )
        })?),
        _ => LookupBy::Email(value),
    })
}

#[allow(clippy::too_many_arguments)]
async fn dataset_page(
    s: &WebState,
    v: &Visitor,
    id: i64,
    q: &LookupQuery,
    erase: EraseEcho,
    errs: FormErrors,
    flash: Option<String>,
    status: StatusCode,
) -> WebResult {
    let ctx = v.ctx();
    let d = s.app.vault_dataset_info(&ctx, id).await?;
    let Some(schema) = d.schema.as_ref() else {
        return Ok(Redirect::to(&format!("/vault/{id}/schema")).into_response());
    };
    let mut errs = errs;
    let mut status = status;
    let mut results = Vec::new();
    let mut access = d.access.clone();
    let mut retry_after = None;
    let searched = !q.q.trim().is_empty();
    if searched && errs.is_empty() {
        let found = match lookup_of(q) {
            Ok(by) => s.app.vault_lookup(&ctx, id, &by).await,
            Err(e) => Err(e),
        };
        match found {
            Ok((a, rows)) => {
                access = Some(a);
                results = rows.iter().map(record_line).collect();
            }
            Err(e @ AppError::Invalid(_)) => {
                errs = FormErrors::of(v, "lookup", &e, LOOKUP_FIELDS);
                status = StatusCode::UNPROCESSABLE_ENTITY;
            }
            Err(AppError::Throttled(secs)) => {
                errs = FormErrors::message(
                    v,
                    "lookup",
                    v.tr()
                        .fill("vault.lookup.throttled", "secs", &secs.to_string()),
                );
                status = StatusCode::TOO_MANY_REQUESTS;
                retry_after = Some(secs);
            }
            Err(e) => return Err(WebError(e)),
        }
    }
    let top = errs.banner(&["lookup", "erase"]);
    let classes = access
        .as_ref()
        .map(|a| a.lookup_classes(schema))
        .unwrap_or_default();
    let mut by_options: Vec<&'static str> = Vec::new();
    for c in &classes {
        let code = match c {
            IndexClass::NameBirth | IndexClass::NameAddress => continue,
            other => other.code(),
        };
        by_options.push(code);
    }
    by_options.push("record");
    let may_birth = classes.contains(&IndexClass::NameBirth);
    let by = if by_options.contains(&q.by.as_str()) {
        q.by.clone()
    } else {
        by_options[0].to_owned()
    };
    let by_options = by_options
        .into_iter()
        .map(|o| (o, v.tr().get(&format!("vault.by.{o}")).to_owned()))
        .collect();
    let mut response = render_status(
        status,
        &DatasetPage {
            c: Chrome::new(v, "vault.dataset.title")
                .with_error(top)
                .with_flash(flash),
            id,
            name: d.name.clone(),
            records: d.records,
            retention: d
                .retention
                .as_ref()
                .map(|r| r.describe(Some(schema), v.lang))
                .unwrap_or_default(),
            access: access.as_ref().map(|a| access_line(s, a)),
            heads: schema
                .fields
                .iter()
                .map(|f| FieldHead {
                    name: f.name.clone(),
                    kind: kind_label(v, f.kind),
                })
                .collect(),
            by,
            q: q.q.clone(),
            birth: q.birth.clone(),
            by_options,
            may_birth,
            searched: searched && status == StatusCode::OK,
            results,
            may_erase: ctx.allows(Permission::EraseSubjects),
            may_manage: ctx.allows(Permission::ManageVault),
            erase,
            errs,
        },
    )?;
    if let Some(secs) = retry_after {
        if let Ok(h) = axum::http::HeaderValue::from_str(&secs.to_string()) {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, h);
        }
    }
    Ok(response)
}

/// `GET /vault/{id}`: the dataset with its lookup form. A search is sent with `POST` (below):
/// an e-mail address or phone number in the query string would land in access logs, proxies
/// and the browser history, so a `GET` that carries one is refused.
pub async fn dataset(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Path(id): Path<i64>,
    Query(q): Query<LookupQuery>,
) -> WebResult {
    v.full()?;
    if !q.q.is_empty() || !q.birth.is_empty() {
        return Ok(crate::error::error_response(
            StatusCode::BAD_REQUEST,
            crate::error::PageError {
                key: "error.400",
                message: Some((
                    crate::i18n::Tr::of(Lang::Ja)
                        .get("vault.lookup.use_post")
                        .to_owned(),
                    crate::i18n::Tr::of(Lang::En)
                        .get("vault.lookup.use_post")
                        .to_owned(),
                )),
                retry_after: None,
                field: Some("method"),
            },
        ));
    }
    let flash = q
        .erased
        .map(|n| v.tr().fill("vault.erase.done", "n", &n.to_string()));
    let shown = LookupQuery {
        by: q.by.clone(),
        ..LookupQuery::default()
    };
    dataset_page(
        &s,
        &v,
        id,
        &shown,
        EraseEcho::default(),
        FormErrors::none("lookup"),
        flash,
        StatusCode::OK,
    )
    .await
}

/// `POST /vault/{id}`: a lookup from the form (with its CSRF token); the answer is the dataset
/// page with the masked results.
pub async fn lookup(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> WebResult {
    v.full()?;
    let p = Pairs(pairs);
    let q = LookupQuery {
        by: p.get("by").to_owned(),
        q: p.get("q").to_owned(),
        birth: p.get("birth").to_owned(),
        erased: None,
    };
    if q.q.trim().is_empty() {
        let errs = FormErrors::of(
            &v,
            "lookup",
            &AppError::invalid(
                "q",
                "検索する値を入力してください",
                "give the value to search for",
            ),
            LOOKUP_FIELDS,
        );
        return dataset_page(
            &s,
            &v,
            id,
            &q,
            EraseEcho::default(),
            errs,
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    dataset_page(
        &s,
        &v,
        id,
        &q,
        EraseEcho::default(),
        FormErrors::none("lookup"),
        None,
        StatusCode::OK,
    )
    .await
}

#[derive(Template)]
#[template(path = "vault_revealed.html")]
pub struct Revealed {
    pub value: String,
    pub field: String,
}

#[derive(Template)]
#[template(path = "vault_reveal.html")]
pub struct RevealPage {
    pub c: Chrome,
    pub value: String,
    pub field: String,
    pub record: i64,
}

/// One field in clear: the htmx fragment that replaces the masked value, or a page without
/// JavaScript.
pub async fn reveal(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    headers: HeaderMap,
    Path(record): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> WebResult {
    v.full()?;
    let p = Pairs(pairs);
    let field = p.get("field").to_owned();
    let value = s.app.vault_reveal(&v.ctx(), record, &field).await?;
    if headers.contains_key("hx-request") {
        return render(&Revealed { value, field });
    }
    render(&RevealPage {
        c: Chrome::new(&v, "vault.reveal.title"),
        value,
        field,
        record,
    })
}

pub async fn export(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> WebResult {
    v.full()?;
    let p = Pairs(pairs);
    let cp932 = p.get("enc") == "cp932";
    match s.app.vault_export(&v.ctx(), id, cp932).await {
        Ok((bytes, _)) => {
            let day = jst_date(s.app.clock.now_micros());
            let suffix = if cp932 { "_cp932" } else { "" };
            Ok(csv_download(
                bytes,
                cp932,
                &format!("vault-{id}-{day}{suffix}.csv"),
                &format!("vault-{id}-{day}{suffix}.csv"),
            ))
        }
        Err(e @ AppError::Invalid(_)) => {
            let errs = FormErrors::of(&v, "export", &e, &[]);
            dataset_page(
                &s,
                &v,
                id,
                &LookupQuery::default(),
                EraseEcho::default(),
                errs,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(WebError(e)),
    }
}

// ───────────────────────────── erasure ─────────────────────────────

#[derive(Template)]
#[template(path = "vault_erase.html")]
pub struct EraseConfirm {
    pub c: Chrome,
    pub id: i64,
    pub name: String,
    pub by_label: String,
    pub e: EraseEcho,
}

fn erase_by(e: &EraseEcho) -> Result<LookupBy, AppError> {
    let value = e.value.trim().to_owned();
    if value.is_empty() {
        return Err(AppError::invalid(
            "value",
            "消去する本人のメールアドレス・電話番号・レコード番号を入力してください",
            "give the person's e-mail, phone or record number",
        ));
    }
    Ok(match e.by.as_str() {
        "phone" => LookupBy::Phone(value),
        "record" => LookupBy::Record(parse_record(&value).ok_or_else(|| {
            AppError::invalid(
                "value",
                "レコード番号は数字で入力してください",
                "a record number is a number",
            )
        })?),
        _ => LookupBy::Email(value),
    })
}

pub async fn erase(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> WebResult {
    v.full()?;
    let ctx = v.ctx();
    if !ctx.allows(Permission::EraseSubjects) {
        return Err(WebError(AppError::Denied));
    }
    let p = Pairs(pairs);
    let e = EraseEcho {
        by: match p.get("by") {
            b @ ("phone" | "record") => b.to_owned(),
            _ => "email".to_owned(),
        },
        value: p.get("value").to_owned(),
        reason: p.get("reason").to_owned(),
    };
    let result = match erase_by(&e) {
        Err(err) => Err(err),
        Ok(_) if e.reason.trim().is_empty() => Err(AppError::invalid(
            "reason",
            "消去の理由（本人からの請求の受付番号など）を入力してください",
            "give the reason (e.g. the request's reference)",
        )),
        Ok(by) if p.get("confirm") == "1" => s
            .app
            .erase_subject(&ctx, id, &by, &e.reason)
            .await
            .map(Some),
        Ok(_) => Ok(None),
    };
    match result {
        Ok(Some(n)) => Ok(Redirect::to(&format!("/vault/{id}?erased={n}")).into_response()),
        Ok(None) => {
            let d = s.app.vault_dataset_info(&ctx, id).await?;
            let t = v.tr();
            render(&EraseConfirm {
                c: Chrome::new(&v, "vault.erase.title"),
                id,
                name: d.name,
                by_label: t.get(&format!("vault.by.{}", e.by)).to_owned(),
                e,
            })
        }
        Err(err @ AppError::Invalid(_)) => {
            let errs = FormErrors::of(&v, "erase", &err, ERASE_FIELDS);
            dataset_page(
                &s,
                &v,
                id,
                &LookupQuery::default(),
                e,
                errs,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(err) => Err(WebError(err)),
    }
}

// ───────────────────────────── schema and retention ─────────────────────────────

/// The schema form (on the ledger entry and on its own page).
#[derive(Debug, Default)]
pub struct SchemaForm {
    pub dataset_id: i64,
    pub version: i64,
    pub schema_text: String,
    pub action: String,
    pub base_field: String,
    pub days: String,
    pub scrub_fields: String,
    pub rule_text: String,
    /// The kinds in words with their codes, in the reader's language.
    pub kinds: String,
    pub back: String,
    pub errs: FormErrors,
}

pub fn schema_form(
    lang: Lang,
    dataset_id: i64,
    version: i64,
    schema: Option<&str>,
    retention: Option<&str>,
    back: &str,
) -> SchemaForm {
    let parsed = schema.and_then(|s| serde_json::from_str::<Schema>(s).ok());
    let schema_text = parsed
        .as_ref()
        .map(|sc| sc.to_text_in(lang))
        .unwrap_or_default();
    let rule = retention.and_then(|r| serde_json::from_str::<RetentionRule>(r).ok());
    let (action, scrub_fields) = match rule.as_ref().map(|r| &r.action) {
        None => ("none", String::new()),
        Some(RetentionAction::Delete) => ("delete", String::new()),
        Some(RetentionAction::Scrub { fields }) => ("scrub", fields.join(", ")),
    };
    SchemaForm {
        dataset_id,
        version,
        schema_text,
        action: action.into(),
        base_field: rule
            .as_ref()
            .map(|r| r.base_field.clone())
            .unwrap_or_default(),
        days: rule
            .as_ref()
            .map(|r| r.after_days.to_string())
            .unwrap_or_default(),
        scrub_fields,
        rule_text: rule
            .as_ref()
            .map(|r| r.describe(parsed.as_ref(), lang))
            .unwrap_or_default(),
        kinds: FieldKind::list(lang),
        back: back.into(),
        errs: FormErrors::none("schema"),
    }
}

#[derive(Template)]
#[template(path = "vault_schema.html")]
pub struct SchemaPage {
    pub c: Chrome,
    pub name: String,
    pub has_schema: bool,
    pub records: i64,
    pub sf: SchemaForm,
}

fn rule_of(p: &Pairs) -> Result<Option<RetentionRule>, AppError> {
    let action = match p.get("action") {
        "delete" => RetentionAction::Delete,
        "scrub" => RetentionAction::Scrub {
            fields: p
                .get("scrub_fields")
                .split([',', '、', ' ', '\n'])
                .map(str::trim)
                .filter(|f| !f.is_empty())
                .map(str::to_owned)
                .collect(),
        },
        _ => return Ok(None),
    };
    let days = parse_whole(p.get("days"))
        .and_then(|d| u32::try_from(d).ok())
        .ok_or_else(|| {
            AppError::invalid(
                "days",
                "日数を数字で入力してください（1〜36500）",
                "days: a number from 1 to 36,500",
            )
        })?;
    Ok(Some(RetentionRule {
        base_field: p.get("base_field").trim().to_owned(),
        after_days: days,
        action,
    }))
}

#[derive(Debug, Default, Deserialize)]
pub struct SavedQuery {
    #[serde(default)]
    pub saved: Option<String>,
}

pub async fn schema_page(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Path(id): Path<i64>,
    Query(q): Query<SavedQuery>,
) -> WebResult {
    v.full()?;
    let ctx = v.ctx();
    if !ctx.allows(Permission::ManageVault) {
        return Err(WebError(AppError::Denied));
    }
    let d = s.app.vault_dataset_info(&ctx, id).await?;
    let mut sf = schema_form(v.lang, id, d.version, None, None, "vault");
    if let Some(sc) = &d.schema {
        sf.schema_text = sc.to_text_in(v.lang);
    }
    if let Some(r) = &d.retention {
        let json = serde_json::to_string(r).unwrap_or_default();
        let schema_json = d
            .schema
            .as_ref()
            .and_then(|sc| serde_json::to_string(sc).ok());
        let from = schema_form(
            v.lang,
            id,
            d.version,
            schema_json.as_deref(),
            Some(&json),
            "vault",
        );
        sf = SchemaForm {
            schema_text: sf.schema_text,
            ..from
        };
    }
    let flash = q
        .saved
        .as_ref()
        .map(|_| v.tr().get("vault.schema.saved").to_owned());
    render(&SchemaPage {
        c: Chrome::new(&v, "vault.schema.title").with_flash(flash),
        name: d.name,
        has_schema: d.schema.is_some(),
        records: d.records,
        sf,
    })
}

pub async fn save_schema(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> WebResult {
    v.full()?;
    let ctx = v.ctx();
    let p = Pairs(pairs);
    let back = if p.get("back") == "ledger" {
        "ledger"
    } else {
        "vault"
    };
    let result = match rule_of(&p) {
        Ok(rule) => {
            s.app
                .set_vault_schema(
                    &ctx,
                    id,
                    p.id("version").unwrap_or(0),
                    p.get("schema"),
                    rule,
                )
                .await
        }
        Err(e) => {
            if !ctx.allows(Permission::ManageVault) {
                return Err(WebError(AppError::Denied));
            }
            Err(e)
        }
    };
    match result {
        Ok(()) if back == "ledger" => {
            Ok(Redirect::to(&format!("/ledger/{id}?schema=1#vault-schema")).into_response())
        }
        Ok(()) => Ok(Redirect::to(&format!("/vault/{id}/schema?saved=1")).into_response()),
        Err(e @ AppError::Invalid(_)) => {
            let d = s.app.vault_dataset_info(&ctx, id).await?;
            let errs = FormErrors::of(&v, "schema", &e, SCHEMA_FIELDS);
            let sf = SchemaForm {
                dataset_id: id,
                version: p.id("version").unwrap_or(0),
                schema_text: p.get("schema").to_owned(),
                action: p.get("action").to_owned(),
                base_field: p.get("base_field").to_owned(),
                days: p.get("days").to_owned(),
                scrub_fields: p.get("scrub_fields").to_owned(),
                rule_text: String::new(),
                kinds: FieldKind::list(v.lang),
                back: "vault".into(),
                errs,
            };
            render_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                &SchemaPage {
                    c: Chrome::new(&v, "vault.schema.title"),
                    name: d.name,
                    has_schema: d.schema.is_some(),
                    records: d.records,
                    sf,
                },
            )
        }
        Err(e) => Err(WebError(e)),
    }
}

// ───────────────────────────── grants ─────────────────────────────

pub struct GrantDataset {
    pub id: i64,
    pub name: String,
    pub selected: bool,
    pub fields: Vec<Opt>,
}

#[derive(Debug, Default)]
pub struct GrantEcho {
    pub grantee: i64,
    pub dataset: i64,
    pub fields: Vec<String>,
    pub purpose: String,
    pub hours: String,
    pub may_export: bool,
}

#[derive(Template)]
#[template(path = "vault_grants.html")]
pub struct GrantsPage {
    pub c: Chrome,
    pub can_issue: bool,
    pub read_all: bool,
    pub rows: Vec<GrantLine>,
    pub grantees: Vec<Opt>,
    pub datasets: Vec<GrantDataset>,
    pub f: GrantEcho,
    /// The problems of the form sent: `grant` (a new grant) or `revoke`.
    pub errs: FormErrors,
    pub max_hours: u32,
}

#[derive(Debug, Default, Deserialize)]
pub struct GrantsQuery {
    #[serde(default)]
    pub issued: Option<String>,
    #[serde(default)]
    pub revoked: Option<String>,
    #[serde(default)]
    pub dataset: Option<i64>,
}

async fn grants_page(
    s: &WebState,
    v: &Visitor,
    f: GrantEcho,
    errs: FormErrors,
    flash: Option<String>,
) -> WebResult {
    let ctx = v.ctx();
    let can_issue = ctx.allows(Permission::VaultCustody);
    let read_all = can_issue || ctx.allows(Permission::ReadAuditLog);
    let rows = s
        .app
        .grants(&ctx)
        .await?
        .iter()
        .map(|g| grant_line(v, g))
        .collect();
    let (grantees, datasets) = if can_issue {
        let grantees = s
            .app
            .grantees(&ctx)
            .await?
            .into_iter()
            .map(|(id, name)| Opt {
                code: id.to_string(),
                label: name,
                selected: id == f.grantee,
            })
            .collect();
        let all = s.app.vault_datasets(&ctx).await?;
        let chosen = if f.dataset > 0 {
            f.dataset
        } else {
            all.iter().find(|d| d.schema.is_some()).map_or(0, |d| d.id)
        };
        let datasets = all
            .iter()
            .filter_map(|d| {
                let sc = d.schema.as_ref()?;
                Some(GrantDataset {
                    id: d.id,
                    name: d.name.clone(),
                    selected: d.id == chosen,
                    fields: sc
                        .fields
                        .iter()
                        .map(|fs| Opt {
                            code: fs.name.clone(),
                            label: format!("{}（{}）", fs.name, kind_label(v, fs.kind)),
                            selected: d.id == chosen && f.fields.contains(&fs.name),
                        })
                        .collect(),
                })
            })
            .collect();
        (grantees, datasets)
    } else {
        (Vec::new(), Vec::new())
    };
    let top = errs.banner(&["grant"]);
    render_status(
        errs.status(),
        &GrantsPage {
            c: Chrome::new(v, "vault.grants.title")
                .with_error(top)
                .with_flash(flash),
            can_issue,
            read_all,
            rows,
            grantees,
            datasets,
            f,
            errs,
            max_hours: s.app.settings.vault_max_grant_hours,
        },
    )
}

pub async fn grants(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Query(q): Query<GrantsQuery>,
) -> WebResult {
    v.full()?;
    let t = v.tr();
    let flash = if q.issued.is_some() {
        Some(t.get("vault.grant.issued").to_owned())
    } else {
        q.revoked
            .as_ref()
            .map(|_| t.get("vault.grant.revoked").to_owned())
    };
    let f = GrantEcho {
        dataset: q.dataset.unwrap_or(0),
        hours: "8".into(),
        ..GrantEcho::default()
    };
    grants_page(&s, &v, f, FormErrors::none("grant"), flash).await
}

pub async fn issue_grant(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> WebResult {
    v.full()?;
    let ctx = v.ctx();
    if !ctx.allows(Permission::VaultCustody) {
        return Err(WebError(AppError::Denied));
    }
    let p = Pairs(pairs);
    let dataset = p.id("dataset").unwrap_or(0);
    let f = GrantEcho {
        grantee: p.id("grantee").unwrap_or(0),
        dataset,
        fields: p.all(&format!("fields_{dataset}")),
        purpose: p.get("purpose").to_owned(),
        hours: p.get("hours").to_owned(),
        may_export: p.flag("may_export"),
    };
    let result = match parse_whole(&f.hours).and_then(|h| u32::try_from(h).ok()) {
        Some(hours) => {
            s.app
                .issue_grant(
                    &ctx,
                    dataset,
                    f.grantee,
                    &GrantRequest {
                        fields: f.fields.clone(),
                        purpose: f.purpose.clone(),
                        hours,
                        may_export: f.may_export,
                    },
                )
                .await
        }
        None => Err(AppError::invalid(
            "hours",
            format!(
                "期間は1〜{}時間の数字で入力してください",
                s.app.settings.vault_max_grant_hours
            ),
            format!(
                "hours: a number from 1 to {}",
                s.app.settings.vault_max_grant_hours
            ),
        )),
    };
    match result {
        Ok(_) => Ok(Redirect::to("/vault/grants?issued=1").into_response()),
        Err(AppError::NotFound) => {
            let e = AppError::invalid("dataset", "台帳を選んでください", "choose a dataset");
            let errs = FormErrors::of(&v, "grant", &e, GRANT_FIELDS);
            grants_page(&s, &v, f, errs, None).await
        }
        Err(e @ AppError::Invalid(_)) => {
            let errs = FormErrors::of(&v, "grant", &e, GRANT_FIELDS);
            grants_page(&s, &v, f, errs, None).await
        }
        Err(e) => Err(WebError(e)),
    }
}

pub async fn revoke_grant(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Path(id): Path<i64>,
) -> WebResult {
    v.full()?;
    match s.app.revoke_grant(&v.ctx(), id).await {
        Ok(()) => Ok(Redirect::to("/vault/grants?revoked=1").into_response()),
        Err(e @ AppError::Invalid(_)) => {
            let errs = FormErrors::of(&v, "revoke", &e, &[]);
            grants_page(
                &s,
                &v,
                GrantEcho {
                    hours: "8".into(),
                    ..GrantEcho::default()
                },
                errs,
                None,
            )
            .await
        }
        Err(e) => Err(WebError(e)),
    }
}
