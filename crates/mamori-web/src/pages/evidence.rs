//! Leaked material on an incident (issue 14): the files page, the streamed upload, the download
//! and the progress the page polls.
//!
//! The upload (`POST /incidents/{id}/files`) is the one route whose body the visitor middleware
//! does not read (see `visitor::is_streaming_upload`): it is read here part by part with
//! `multer`, and each file goes into `mamori_app::evidence::FileWriter`, which seals a chunk as
//! soon as it is full. The CSRF token comes in the `X-CSRF-Token` header (the page's script) or
//! as the form's first field `csrf` (the plain form) and is checked before a byte is stored. A
//! refused or broken request leaves no file behind.

use crate::error::{error_response, PageError, WebError, WebResult};
use crate::form::FormErrors;
use crate::pages::{render_status, Chrome};
use crate::visitor::Visitor;
use crate::WebState;
use askama::Template;
use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Json};
use mamori_app::evidence::{human_size, EvidenceProblem, FileView, FileWriter};
use mamori_app::{AppError, Ctx};
use mamori_domain::role::Permission;
use subtle::ConstantTimeEq;

const FIELDS: &[(&str, &str)] = &[("file", "evidence.file")];

pub struct FileRow {
    pub id: i64,
    pub name: String,
    pub size: String,
    pub sha256: String,
    pub uploaded: String,
    pub state: &'static str,
    pub state_label: String,
    pub bytes_done: i64,
    pub total: i64,
    pub percent: i64,
    pub rows_found: i64,
    pub rows_matched: i64,
    pub problem: Option<String>,
    pub problem_is_error: bool,
    pub kinds: String,
}

#[derive(Template)]
#[template(path = "incident_files.html")]
pub struct FilesPage {
    pub c: Chrome,
    pub id: i64,
    pub ref_no: String,
    pub title: String,
    pub files: Vec<FileRow>,
    pub can_upload: bool,
    pub limit: String,
    pub errs: FormErrors,
}

fn state_key(state: &str) -> &'static str {
    match state {
        "queued" => "evidence.state.queued",
        "scanning" => "evidence.state.scanning",
        "done" => "evidence.state.done",
        "failed" => "evidence.state.failed",
        _ => "evidence.state.uploading",
    }
}

fn row(v: &Visitor, f: FileView) -> FileRow {
    let t = v.tr();
    let en = v.lang.code() == "en";
    let state: &'static str = match f.state.as_str() {
        "queued" => "queued",
        "scanning" => "scanning",
        "done" => "done",
        "failed" => "failed",
        _ => "uploading",
    };
    let kinds = f
        .kinds
        .iter()
        .map(|(k, n)| format!("{}: {n}", t.get(&format!("evidence.kind.{k}"))))
        .collect::<Vec<_>>()
        .join(" / ");
    FileRow {
        id: f.id,
        size: human_size(f.size.max(0) as u64),
        sha256: f.sha256.chars().take(16).collect(),
        uploaded: format!(
            "{}{}",
            mamori_domain::when::format_minute(f.uploaded_at),
            f.uploaded_by.map(|n| format!(" {n}")).unwrap_or_default()
        ),
        state,
        state_label: t.get(state_key(state)).to_owned(),
        bytes_done: f.bytes_done,
        total: f.size,
        percent: if f.size > 0 {
            (f.bytes_done * 100 / f.size).clamp(0, 100)
        } else {
            100
        },
        rows_found: f.rows_found,
        rows_matched: f.rows_matched,
        problem: if en { f.problem_en } else { f.problem_ja },
        problem_is_error: f.problem_is_error,
        kinds,
        name: f.name,
    }
}

async fn page(s: &WebState, v: &Visitor, id: i64, errs: FormErrors) -> WebResult<FilesPage> {
    let ctx = v.ctx();
    let (incident, _) = s.app.incident_for(&ctx, id).await?;
    let files = s.app.evidence_files(&ctx, id).await?;
    Ok(FilesPage {
        c: Chrome::new(v, "evidence.title").about_incident(
            &incident.ref_no,
            &incident.title,
            false,
        ),
        id,
        ref_no: incident.ref_no,
        title: incident.title,
        files: files.into_iter().map(|f| row(v, f)).collect(),
        can_upload: ctx.allows(Permission::ManageIncidents),
        limit: human_size(s.app.settings.max_upload_bytes),
        errs,
    })
}

/// `GET /incidents/{id}/files`: the files, their scan, and the upload form for managers.
pub async fn files_page(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Path(id): Path<i64>,
) -> WebResult {
    v.full()?;
    let p = page(&s, &v, id, FormErrors::none("upload")).await?;
    render_status(StatusCode::OK, &p)
}

/// `GET /incidents/{id}/files/progress`: what the page polls — states and counts, no names
/// and no values.
pub async fn progress(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Path(id): Path<i64>,
) -> WebResult {
    v.full()?;
    let p = s.app.evidence_progress(&v.ctx(), id).await?;
    Ok(Json(p).into_response())
}

/// `GET /incidents/{id}/files/{file_id}`: the file as uploaded, decrypted as it is sent;
/// recorded in the audit log. A chunk that fails its check ends the download (never sent as
/// data); the first one is checked before the answer starts, so a tampered file gets an error
/// page.
pub async fn download(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Path((id, file_id)): Path<(i64, i64)>,
) -> WebResult {
    v.full()?;
    let mut reader = s.app.open_evidence(&v.ctx(), id, file_id).await?;
    let first = reader.next_chunk().await?;
    let size = reader.file.size;
    let disposition = content_disposition(&reader.file.file_name);
    let stream =
        futures_util::stream::unfold((Some(reader), first), |(reader, pending)| async move {
            if let Some(c) = pending {
                return Some((Ok::<_, std::io::Error>(c), (reader, None)));
            }
            let mut r = reader?;
            match r.next_chunk().await {
                Ok(Some(c)) => Some((Ok(c), (Some(r), None))),
                Ok(None) => None,
                Err(e) => Some((Err(std::io::Error::other(e.to_string())), (None, None))),
            }
        });
    let mut resp = Body::from_stream(stream).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(size.max(0)));
    if let Ok(d) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, d);
    }
    Ok(resp)
}

/// `attachment; filename="ascii"; filename*=UTF-8''percent-encoded` (RFC 6266).
fn content_disposition(name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let enc = crate::pages::url_encode(name);
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{enc}")
}

fn wants_json(h: &HeaderMap) -> bool {
    h.get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("application/json"))
}

fn csrf_refused() -> Response {
    error_response(
        StatusCode::FORBIDDEN,
        PageError {
            key: "error.403.csrf",
            message: None,
            retry_after: None,
            field: None,
        },
    )
}

fn token_ok(sent: &str, expected: &str) -> bool {
    bool::from(sent.as_bytes().ct_eq(expected.as_bytes()))
}

fn bad_form(e: &multer::Error) -> AppError {
    AppError::invalid(
        "file",
        format!("アップロードを読み取れませんでした（{e}）。もう一度送ってください"),
        format!("the upload could not be read ({e}); send it again"),
    )
}

/// What went wrong in an upload: a refusal before anything was stored (CSRF), or an error.
enum Refused {
    Csrf,
    App(AppError),
}

impl From<AppError> for Refused {
    fn from(e: AppError) -> Self {
        Refused::App(e)
    }
}

impl From<EvidenceProblem> for Refused {
    fn from(p: EvidenceProblem) -> Self {
        Refused::App(p.into())
    }
}

/// Reads the multipart body, writing each file as it arrives. On any problem every file of the
/// request is removed.
async fn receive(
    s: &WebState,
    ctx: &Ctx,
    id: i64,
    expected: &str,
    header_token: Option<String>,
    req: Request,
) -> Result<Vec<i64>, Refused> {
    let ct = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let boundary = multer::parse_boundary(&ct).map_err(|_| {
        Refused::App(AppError::invalid(
            "file",
            "ファイルを選んで送ってください（multipart/form-data）",
            "choose a file and send it (multipart/form-data)",
        ))
    })?;
    let limit = s.app.settings.max_upload_bytes;
    let mut mp = multer::Multipart::with_constraints(
        req.into_body().into_data_stream(),
        boundary,
        // The form's fields are small; the files are limited below, with a message.
        multer::Constraints::new().size_limit(
            multer::SizeLimit::new()
                .for_field("csrf", 1024)
                .whole_stream(limit.saturating_add(1 << 20)),
        ),
    );
    let mut token_checked = match header_token {
        Some(t) if token_ok(&t, expected) => true,
        Some(_) => return Err(Refused::Csrf),
        None => false,
    };
    let mut writers: Vec<FileWriter> = Vec::new();
    let result: Result<(), Refused> = async {
        let mut total = 0u64;
        loop {
            let field = match mp.next_field().await {
                Ok(Some(f)) => f,
                Ok(None) => break,
                Err(multer::Error::StreamSizeExceeded { .. }) => {
                    return Err(EvidenceProblem::TooLarge { limit }.into())
                }
                Err(e) => return Err(Refused::App(bad_form(&e))),
            };
            if !token_checked {
                // Without the header, the token must be the first field, before any file.
                if field.name() != Some("csrf") {
                    return Err(Refused::Csrf);
                }
                let sent = field.text().await.map_err(|_| Refused::Csrf)?;
                if !token_ok(sent.trim(), expected) {
                    return Err(Refused::Csrf);
                }
                token_checked = true;
                continue;
            }
            let Some(file_name) = field.file_name().map(str::to_owned) else {
                continue;
            };
            if field.name() != Some("file") {
                continue;
            }
            let mut field = field;
            // A form sent with no file chosen has one empty part without a name.
            if file_name.is_empty() {
                continue;
            }
            if writers.is_empty() {
                s.app.may_attach(ctx, id).await?;
            }
            let w = s.app.begin_evidence(ctx, id, &file_name).await?;
            writers.push(w);
            let w = writers.last_mut().expect("just pushed");
            loop {
                match field.chunk().await {
                    Ok(Some(bytes)) => {
                        total += bytes.len() as u64;
                        if total > limit {
                            return Err(EvidenceProblem::TooLarge { limit }.into());
                        }
                        w.write(&bytes).await?;
                    }
                    Ok(None) => break,
                    Err(multer::Error::StreamSizeExceeded { .. }) => {
                        return Err(EvidenceProblem::TooLarge { limit }.into())
                    }
                    Err(e) => return Err(Refused::App(bad_form(&e))),
                }
            }
        }
        if !token_checked {
            return Err(Refused::Csrf);
        }
        if writers.is_empty() {
            return Err(Refused::App(AppError::invalid(
                "file",
                "ファイルを選んでください",
                "choose a file",
            )));
        }
        Ok(())
    }
    .await;
    match result {
        Ok(()) => {
            let mut ids = Vec::with_capacity(writers.len());
            for w in writers {
                ids.push(w.finish().await?);
            }
            Ok(ids)
        }
        Err(e) => {
            for w in writers {
                if let Err(err) = w.abort().await {
                    tracing::error!(error = %err, "could not remove a refused upload");
                }
            }
            Err(e)
        }
    }
}

/// `POST /incidents/{id}/files`: one or more files (`file` fields), streamed.
pub async fn upload(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Path(id): Path<i64>,
    req: Request,
) -> Response {
    let json = wants_json(req.headers());
    let session = match v.full() {
        Ok(s) => s.clone(),
        Err(e) => return WebError(e).into_response(),
    };
    let header_token = req
        .headers()
        .get("x-csrf-token")
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned);
    let ctx = v.ctx();
    match receive(&s, &ctx, id, &session.csrf_token, header_token, req).await {
        Ok(ids) if json => Json(serde_json::json!({ "files": ids })).into_response(),
        Ok(_) => Redirect::to(&format!("/incidents/{id}/files")).into_response(),
        Err(Refused::Csrf) => csrf_refused(),
        Err(Refused::App(e @ AppError::Invalid(_))) => {
            let too_large =
                matches!(&e, AppError::Invalid(p) if p.en.starts_with("The file is too large"));
            let status = if too_large {
                StatusCode::PAYLOAD_TOO_LARGE
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            if json {
                let AppError::Invalid(p) = &e else {
                    unreachable!()
                };
                return error_response(
                    status,
                    PageError {
                        key: if too_large { "error.413" } else { "error.422" },
                        message: Some((p.ja.clone(), p.en.clone())),
                        retry_after: None,
                        field: p.field,
                    },
                );
            }
            let errs = FormErrors::of(&v, "upload", &e, FIELDS);
            match page(&s, &v, id, errs).await {
                Ok(p) => render_status(status, &p).unwrap_or_else(IntoResponse::into_response),
                Err(e) => e.into_response(),
            }
        }
        Err(Refused::App(e)) => WebError(e).into_response(),
    }
}
