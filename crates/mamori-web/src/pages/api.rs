//! The JSON API (`/api/v1`): the vault lookup and reveal for programs and for the browser.
//!
//! A caller is a logged-in browser (session cookie, `X-CSRF-Token` on POST) or a program with a
//! personal API token (`Authorization: Bearer mmr_…`); the visitor middleware tells them apart
//! and answers every error as JSON. The handlers go through the same use cases as the pages, so
//! grants, masking and audit entries are the same.

use super::jst;
use crate::error::{error_response, PageError, WebError, WebResult};
use crate::i18n::{Lang, Tr};
use crate::visitor::Visitor;
use crate::WebState;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::{Extension, Json};
use mamori_app::vault::{AccessView, LookupBy, RecordView};
use mamori_app::AppError;
use serde::Deserialize;
use serde_json::{json, Map, Value};

/// A time as ISO 8601 in Japan Standard Time.
fn iso(micros: i64) -> String {
    format!("{}+09:00", jst(micros).replacen(' ', "T", 1))
}

fn access_json(a: &AccessView) -> Value {
    json!({
        "custody": a.custody,
        "purpose": a.purpose,
        "expires_at": a.expires_at.map(iso),
        "may_export": a.may_export,
    })
}

fn record_json(r: &RecordView) -> Value {
    let mut fields = Map::new();
    for f in &r.fields {
        fields.insert(
            f.name.clone(),
            json!({
                "kind": f.kind.code(),
                "masked": f.present.then(|| f.shown.clone()),
                "may_reveal": f.may_reveal,
            }),
        );
    }
    json!({
        "id": r.id,
        "scrubbed": r.scrubbed,
        "error": r.error,
        "fields": fields,
    })
}

/// `GET /api/v1/vault/datasets`: the datasets the caller may search, with the access it has.
pub async fn datasets(State(s): State<WebState>, Extension(v): Extension<Visitor>) -> WebResult {
    v.full()?;
    let list = s.app.vault_datasets(&v.ctx()).await?;
    let out: Vec<Value> = list
        .iter()
        .map(|d| {
            json!({
                "id": d.id,
                "name": d.name,
                "records": d.records,
                "fields": d.schema.as_ref().map(|sc| sc
                    .fields
                    .iter()
                    .map(|f| json!({"name": f.name, "kind": f.kind.code()}))
                    .collect::<Vec<_>>()),
                "access": d.access.as_ref().map(access_json),
                "lookup_by": match (&d.access, &d.schema) {
                    (Some(a), Some(sc)) => a
                        .lookup_classes(sc)
                        .iter()
                        .map(|c| c.code())
                        .chain(["record"])
                        .collect::<Vec<_>>(),
                    _ => Vec::new(),
                },
            })
        })
        .collect();
    Ok(Json(json!({ "datasets": out })).into_response())
}

/// The search of a lookup: exactly one of `email`, `phone`, `name` (with `birth` if known) or
/// `record`.
#[derive(Debug, Default, Deserialize)]
pub struct LookupParams {
    email: Option<String>,
    phone: Option<String>,
    name: Option<String>,
    birth: Option<String>,
    record: Option<String>,
}

fn lookup_by(p: LookupParams) -> Result<LookupBy, AppError> {
    let filled = |o: &Option<String>| o.as_deref().is_some_and(|x| !x.trim().is_empty());
    let given = [&p.email, &p.phone, &p.name, &p.record]
        .iter()
        .filter(|o| filled(o))
        .count();
    if given != 1 {
        return Err(AppError::invalid(
            "query",
            "email・phone・name（必要なら birth も）・record のうち一つだけを指定してください",
            "give exactly one of email, phone, name (with birth if known) or record",
        ));
    }
    if filled(&p.birth) && !filled(&p.name) {
        return Err(AppError::invalid(
            "birth",
            "birth は name と一緒に指定してください",
            "birth is given together with name",
        ));
    }
    let t = |o: Option<String>| o.unwrap_or_default().trim().to_owned();
    Ok(if filled(&p.email) {
        LookupBy::Email(t(p.email))
    } else if filled(&p.phone) {
        LookupBy::Phone(t(p.phone))
    } else if filled(&p.record) {
        LookupBy::Record(t(p.record).parse().map_err(|_| {
            AppError::invalid(
                "record",
                "record はレコード番号（数字）で指定してください",
                "record is a record number",
            )
        })?)
    } else if filled(&p.birth) {
        LookupBy::NameBirth(t(p.name), t(p.birth))
    } else {
        LookupBy::Name(t(p.name))
    })
}

/// `POST /api/v1/vault/datasets/{id}/lookup` with `{"email": "…"}` (or `phone`, `name` with
/// `birth`, `record`): the persons found, masked. The search goes in the body, never in the
/// address, so that no access log, proxy or history keeps it.
pub async fn lookup(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Path(id): Path<i64>,
    body: Bytes,
) -> WebResult {
    v.full()?;
    let Ok(p) = serde_json::from_slice::<LookupParams>(&body) else {
        return Err(WebError(AppError::invalid(
                "body",
                "本文は {\"email\": \"…\"} のような JSON にしてください（email・phone・name（必要なら birth も）・record のうち一つ、値は文字列）",
                "the body must be JSON such as {\"email\": \"…\"} (one of email, phone, name with birth if known, or record, as strings)",
            )));
    };
    let by = lookup_by(p)?;
    match s.app.vault_lookup(&v.ctx(), id, &by).await {
        Ok((access, records)) => Ok(Json(json!({
            "dataset": id,
            "access": access_json(&access),
            "records": records.iter().map(record_json).collect::<Vec<_>>(),
        }))
        .into_response()),
        Err(AppError::Throttled(secs)) => Ok(throttled(secs)),
        Err(e) => Err(WebError(e)),
    }
}

/// 429 with `Retry-After` and a message that says what was limited.
fn throttled(secs: i64) -> axum::response::Response {
    let s = secs.to_string();
    error_response(
        StatusCode::TOO_MANY_REQUESTS,
        PageError {
            key: "error.429",
            message: Some((
                Tr::of(Lang::Ja).fill("vault.lookup.throttled", "secs", &s),
                Tr::of(Lang::En).fill("vault.lookup.throttled", "secs", &s),
            )),
            retry_after: Some(secs),
            field: None,
        },
    )
}

/// `GET /api/v1/vault/datasets/{id}/records`, the old lookup with the search in the query
/// string: refused with 400 naming `method`, without searching.
pub async fn lookup_by_get(Extension(v): Extension<Visitor>) -> WebResult {
    v.full()?;
    Ok(error_response(
        StatusCode::BAD_REQUEST,
        PageError {
            key: "error.400",
            message: Some((
                "照会は POST /api/v1/vault/datasets/{id}/lookup に JSON の本文（例: {\"email\": \"…\"}）で送ってください。検索語を URL に含める GET は受け付けません".into(),
                "send lookups as POST /api/v1/vault/datasets/{id}/lookup with a JSON body (e.g. {\"email\": \"…\"}); a GET with the search in the URL is not accepted".into(),
            )),
            retry_after: None,
            field: Some("method"),
        },
    ))
}

/// `POST /api/v1/vault/records/{id}/reveal` with `{"field": "…"}`: one field in clear.
pub async fn reveal(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Path(record): Path<i64>,
    body: Bytes,
) -> WebResult {
    v.full()?;
    let field = match serde_json::from_slice::<Value>(&body) {
        Ok(Value::Object(o)) => match o.get("field") {
            Some(Value::String(f)) if !f.trim().is_empty() => f.trim().to_owned(),
            _ => {
                return Err(WebError(AppError::invalid(
                    "field",
                    "本文の field に表示する項目名を文字列で指定してください",
                    "the body's field must name the field to reveal, as a string",
                )))
            }
        },
        _ => {
            return Err(WebError(AppError::invalid(
                "body",
                "本文は {\"field\": \"項目名\"} の形の JSON にしてください",
                "the body must be JSON of the form {\"field\": \"name\"}",
            )))
        }
    };
    let value = s.app.vault_reveal(&v.ctx(), record, &field).await?;
    Ok(Json(json!({ "record": record, "field": field, "value": value })).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(pairs: &[(&str, &str)]) -> LookupParams {
        let q = pairs
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&");
        serde_urlencoded::from_str(&q).unwrap()
    }

    #[test]
    fn exactly_one_search_is_given() {
        assert!(lookup_by(p(&[])).is_err());
        assert!(lookup_by(p(&[("email", "a@example.jp"), ("phone", "0312345678")])).is_err());
        assert!(lookup_by(p(&[("birth", "1980-01-01")])).is_err());
        assert!(lookup_by(p(&[("phone", "03"), ("birth", "1980-01-01")])).is_err());
        assert!(lookup_by(p(&[("record", "x")])).is_err());
        assert!(matches!(
            lookup_by(p(&[("email", " a@example.jp ")])).unwrap(),
            LookupBy::Email(e) if e == "a@example.jp"
        ));
        assert!(matches!(
            lookup_by(p(&[("name", "山田太郎"), ("birth", "1980-01-01")])).unwrap(),
            LookupBy::NameBirth(..)
        ));
        assert!(matches!(
            lookup_by(p(&[("record", "42")])).unwrap(),
            LookupBy::Record(42)
        ));
        assert_eq!(iso(1_775_505_600_000_000), "2026-04-07T05:00:00+09:00");
    }
}
