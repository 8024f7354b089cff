//! Discovery (issue 16, part 2): the locations scanned for personal data with their newest
//! scan, one location's files (what was found, what changed, which ledger entry covers them),
//! one file (counts, masked samples for custodians, a ledger proposal, a note that it was
//! deleted), and the self-check page where people get a scan key and upload the signed report
//! of their own PC.

use super::{jst, render, render_status, Chrome};
use crate::error::{WebError, WebResult};
use crate::form::FormErrors;
use crate::i18n::Lang;
use crate::visitor::Visitor;
use crate::WebState;
use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Redirect};
use axum::{Extension, Form};
use mamori_app::discovery::{DiscoveryOverview, FileView, LocationInput, LocationView};
use mamori_app::AppError;
use mamori_domain::discovery::{Change, Counts, KINDS};
use mamori_domain::incident::facts::group_digits;
use mamori_store::discovery::ScanRow;
use serde::Deserialize;

fn kind_label(v: &Visitor, code: &str) -> String {
    v.tr().get(&format!("evidence.kind.{code}")).to_owned()
}

/// "電話番号 3、氏名 2" in the reader's language, in the scanner's order of kinds.
fn counts_text(v: &Visitor, c: &Counts) -> String {
    KINDS
        .iter()
        .filter_map(|k| {
            c.get(*k)
                .map(|n| format!("{} {}", kind_label(v, k), group_digits(*n)))
        })
        .collect::<Vec<_>>()
        .join(if v.lang == Lang::En { ", " } else { "、" })
}

fn change_label(v: &Visitor, c: Change) -> String {
    v.tr()
        .get(&format!("discovery.change.{}", c.code()))
        .to_owned()
}

fn status_label(v: &Visitor, status: &str) -> String {
    v.tr().get(&format!("discovery.status.{status}")).to_owned()
}

fn when(m: Option<i64>) -> String {
    m.map_or_else(|| "-".into(), |m| jst(m)[..16].to_owned())
}

// ───────────────────────────── the list ─────────────────────────────

pub struct LocationLine {
    pub id: i64,
    pub name: String,
    pub kind: String,
    pub path: String,
    pub department: String,
    pub last: String,
    pub status: String,
    pub running: bool,
    pub with_data: String,
    pub unledgered: usize,
}

pub struct DeptOpt {
    pub id: i64,
    pub name: String,
    pub selected: bool,
}

#[derive(Default)]
pub struct LocationEcho {
    pub name: String,
    pub path: String,
    pub department_id: i64,
    pub interval_hours: String,
    pub enabled: bool,
}

#[derive(Template)]
#[template(path = "discovery.html")]
pub struct DiscoveryPage {
    pub c: Chrome,
    pub errs: FormErrors,
    pub rows: Vec<LocationLine>,
    pub can_manage: bool,
    pub roots: String,
    pub departments: Vec<DeptOpt>,
    pub f: LocationEcho,
}

fn line_of(v: &Visitor, l: &LocationView) -> LocationLine {
    let t = v.tr();
    let s = l.latest.as_ref();
    LocationLine {
        id: l.row.id,
        name: l.row.name.clone(),
        kind: t.get(&format!("discovery.kind.{}", l.row.kind)).to_owned(),
        path: l.row.path.clone(),
        department: l.department.clone(),
        last: when(s.and_then(|s| s.finished_at.or(s.started_at).or(Some(s.queued_at)))),
        status: s.map_or_else(
            || t.get("discovery.never").to_owned(),
            |s| status_label(v, &s.status),
        ),
        running: s.is_some_and(|s| s.status == "running" || s.status == "queued"),
        with_data: s.map_or_else(
            || "-".into(),
            |s| group_digits(s.files_with_data.max(0) as u64),
        ),
        unledgered: l.unledgered,
    }
}

fn dept_opts(o: &DiscoveryOverview, chosen: i64) -> Vec<DeptOpt> {
    o.departments
        .iter()
        .map(|(id, name)| DeptOpt {
            id: *id,
            name: name.clone(),
            selected: *id == chosen,
        })
        .collect()
}

const LOCATION_FIELDS: &[(&str, &str)] = &[
    ("name", "discovery.name"),
    ("path", "discovery.path"),
    ("department_id", "discovery.department"),
    ("interval_hours", "discovery.interval"),
];

fn overview_page(
    v: &Visitor,
    o: &DiscoveryOverview,
    f: LocationEcho,
    errs: FormErrors,
) -> DiscoveryPage {
    let chosen = if f.department_id > 0 {
        f.department_id
    } else {
        o.departments.first().map_or(0, |d| d.0)
    };
    DiscoveryPage {
        c: Chrome::new(v, "discovery.title"),
        errs,
        rows: o.locations.iter().map(|l| line_of(v, l)).collect(),
        can_manage: o.scope.can_manage,
        roots: o.roots.join(", "),
        departments: dept_opts(o, chosen),
        f,
    }
}

pub async fn list_page(State(s): State<WebState>, Extension(v): Extension<Visitor>) -> WebResult {
    v.full()?;
    let o = s.app.discovery_overview(&v.ctx()).await?;
    render(&overview_page(
        &v,
        &o,
        LocationEcho {
            interval_hours: "24".into(),
            enabled: true,
            ..LocationEcho::default()
        },
        FormErrors::none("location"),
    ))
}

#[derive(Deserialize)]
pub struct LocationForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    path: String,
    #[serde(default)]
    department_id: String,
    #[serde(default)]
    interval_hours: String,
    #[serde(default)]
    enabled: Option<String>,
}

impl LocationForm {
    fn input(&self, enabled_default: bool) -> LocationInput {
        LocationInput {
            name: self.name.clone(),
            path: self.path.clone(),
            department_id: self.department_id.trim().parse().unwrap_or(0),
            interval_hours: self.interval_hours.clone(),
            enabled: self.enabled.is_some() || enabled_default,
        }
    }
    fn echo(&self) -> LocationEcho {
        LocationEcho {
            name: self.name.clone(),
            path: self.path.clone(),
            department_id: self.department_id.trim().parse().unwrap_or(0),
            interval_hours: self.interval_hours.clone(),
            enabled: self.enabled.is_some(),
        }
    }
}

pub async fn create_location(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Form(f): Form<LocationForm>,
) -> WebResult {
    v.full()?;
    let ctx = v.ctx();
    match s.app.add_location(&ctx, f.input(true)).await {
        Ok(id) => Ok(Redirect::to(&format!("/discovery/locations/{id}?saved=1")).into_response()),
        Err(e @ AppError::Invalid(_)) => {
            let o = s.app.discovery_overview(&ctx).await?;
            let errs = FormErrors::of(&v, "location", &e, LOCATION_FIELDS);
            render_status(errs.status(), &overview_page(&v, &o, f.echo(), errs))
        }
        Err(e) => Err(WebError(e)),
    }
}

// ───────────────────────────── one location ─────────────────────────────

pub struct FileLine {
    pub id: i64,
    pub path: String,
    pub counts: String,
    pub change: String,
    pub changed_now: bool,
    pub removed: bool,
    pub not_read: Option<String>,
    pub dataset: Option<(i64, String)>,
    pub unledgered: bool,
    pub deleted: bool,
    pub deleted_but_present: bool,
}

pub struct ScanLine {
    pub started: String,
    pub source: String,
    pub status: String,
    pub seen: String,
    pub read: String,
    pub unchanged: String,
    pub not_read: String,
    pub removed: String,
    pub with_data: String,
    pub error: String,
}

pub struct KindLine {
    pub label: String,
    pub count: String,
    pub delta: String,
}

#[derive(Template)]
#[template(path = "discovery_location.html")]
pub struct LocationPage {
    pub c: Chrome,
    pub errs: FormErrors,
    pub id: i64,
    pub name: String,
    pub folder: bool,
    pub facts: Vec<(String, String)>,
    pub progress: Option<String>,
    pub kinds: Vec<KindLine>,
    pub files: Vec<FileLine>,
    pub shown: usize,
    pub hidden: usize,
    pub only_unledgered: bool,
    pub unledgered: usize,
    pub scans: Vec<ScanLine>,
    pub can_manage: bool,
    pub f: LocationEcho,
    pub departments: Vec<DeptOpt>,
}

fn file_line(v: &Visitor, f: &FileView) -> FileLine {
    FileLine {
        id: f.row.id,
        path: f.row.path.clone(),
        counts: counts_text(v, &f.counts),
        change: change_label(v, f.change),
        changed_now: f.changed_now && f.change != Change::Unchanged,
        removed: f.change == Change::Removed,
        not_read: (f.row.status != "scanned")
            .then(|| f.row.reason.clone().unwrap_or_else(|| f.row.status.clone())),
        dataset: f.dataset.clone(),
        unledgered: f.unledgered,
        deleted: f.row.disposition.as_deref() == Some("deleted"),
        deleted_but_present: f.deleted_but_present,
    }
}

fn scan_line(v: &Visitor, s: &ScanRow) -> ScanLine {
    let n = |x: i64| group_digits(x.max(0) as u64);
    ScanLine {
        started: when(s.started_at.or(Some(s.queued_at))),
        source: v
            .tr()
            .get(&format!("discovery.source.{}", s.source))
            .to_owned(),
        status: status_label(v, &s.status),
        seen: n(s.files_seen),
        read: n(s.files_read),
        unchanged: n(s.files_unchanged),
        not_read: n(s.files_not_read),
        removed: n(s.files_removed),
        with_data: n(s.files_with_data),
        error: s.error.clone().unwrap_or_default(),
    }
}

#[derive(Deserialize)]
pub struct LocationQuery {
    saved: Option<String>,
    queued: Option<String>,
    imported: Option<String>,
    show: Option<String>,
}

async fn location_page(
    s: &WebState,
    v: &Visitor,
    id: i64,
    q: &LocationQuery,
    form: Option<(LocationEcho, FormErrors)>,
    banner: Option<String>,
) -> WebResult {
    let ctx = v.ctx();
    let dt = s.app.location_detail(&ctx, id).await?;
    let t = v.tr();
    let row = &dt.location.row;
    let folder = row.kind == "folder";
    let mut facts = vec![
        (
            t.get(if folder {
                "discovery.path"
            } else {
                "discovery.host"
            })
            .to_owned(),
            row.path.clone(),
        ),
        (
            t.get("discovery.department").to_owned(),
            dt.location.department.clone(),
        ),
    ];
    if folder {
        facts.push((
            t.get("discovery.interval").to_owned(),
            if row.interval_hours == 0 {
                t.get("discovery.manual").to_owned()
            } else {
                t.fill("discovery.every", "n", &row.interval_hours.to_string())
            },
        ));
        facts.push((
            t.get("discovery.next").to_owned(),
            if row.enabled {
                when(row.next_scan_at)
            } else {
                t.get("discovery.paused").to_owned()
            },
        ));
    }
    let latest = dt.scans.first();
    let progress = latest
        .filter(|s| s.status == "running" || s.status == "queued")
        .map(|s| {
            if s.status == "queued" {
                t.get("discovery.progress.queued").to_owned()
            } else {
                let total = s
                    .files_total
                    .map_or_else(|| "?".into(), |n| group_digits(n.max(0) as u64));
                t.fill(
                    "discovery.progress.running",
                    "seen",
                    &group_digits(s.files_seen.max(0) as u64),
                )
                .replace("{total}", &total)
            }
        });
    let kinds = KINDS
        .iter()
        .filter(|k| dt.totals.contains_key(**k) || dt.delta.contains_key(**k))
        .map(|k| KindLine {
            label: kind_label(v, k),
            count: group_digits(dt.totals.get(*k).copied().unwrap_or(0)),
            delta: dt
                .delta
                .get(*k)
                .map_or_else(String::new, |d| format!("{d:+}")),
        })
        .collect();
    let only_unledgered = q.show.as_deref() == Some("unledgered");
    let all: Vec<FileLine> = dt.files.iter().map(|f| file_line(v, f)).collect();
    let total = all.len();
    let files: Vec<FileLine> = all
        .into_iter()
        .filter(|f| !only_unledgered || f.unledgered || f.deleted_but_present)
        .take(1000)
        .collect();
    let flash = if q.saved.is_some() {
        Some(t.get("discovery.flash.saved").to_owned())
    } else if q.queued.is_some() {
        Some(t.get("discovery.flash.queued").to_owned())
    } else if q.imported.is_some() {
        Some(t.get("discovery.flash.imported").to_owned())
    } else {
        None
    };
    let (f, errs) = form.unwrap_or_else(|| {
        (
            LocationEcho {
                name: row.name.clone(),
                path: row.path.clone(),
                department_id: row.department_id,
                interval_hours: row.interval_hours.to_string(),
                enabled: row.enabled,
            },
            FormErrors::none("location"),
        )
    });
    let o_depts = if dt.scope.can_manage {
        dt.departments.clone()
    } else {
        Vec::new()
    };
    let mut c = Chrome::new(v, "discovery.location.title");
    c.title = format!("{} — {}", row.name, c.title);
    c.flash = flash;
    c.error = banner;
    render_status(
        errs.status(),
        &LocationPage {
            c,
            id,
            name: row.name.clone(),
            folder,
            facts,
            progress,
            kinds,
            shown: files.len(),
            hidden: total.saturating_sub(files.len()),
            files,
            only_unledgered,
            unledgered: dt.location.unledgered,
            scans: dt.scans.iter().map(|s| scan_line(v, s)).collect(),
            can_manage: dt.scope.can_manage && folder,
            departments: o_depts
                .into_iter()
                .map(|(id, name)| DeptOpt {
                    selected: id == f.department_id,
                    id,
                    name,
                })
                .collect(),
            f,
            errs,
        },
    )
}

pub async fn location(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Path(id): Path<i64>,
    Query(q): Query<LocationQuery>,
) -> WebResult {
    v.full()?;
    location_page(&s, &v, id, &q, None, None).await
}

fn no_query() -> LocationQuery {
    LocationQuery {
        saved: None,
        queued: None,
        imported: None,
        show: None,
    }
}

pub async fn update_location(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Path(id): Path<i64>,
    Form(f): Form<LocationForm>,
) -> WebResult {
    v.full()?;
    match s.app.update_location(&v.ctx(), id, f.input(false)).await {
        Ok(()) => Ok(Redirect::to(&format!("/discovery/locations/{id}?saved=1")).into_response()),
        Err(e @ AppError::Invalid(_)) => {
            let errs = FormErrors::of(&v, "location", &e, LOCATION_FIELDS);
            location_page(&s, &v, id, &no_query(), Some((f.echo(), errs)), None).await
        }
        Err(e) => Err(WebError(e)),
    }
}

pub async fn scan_now(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Path(id): Path<i64>,
) -> WebResult {
    v.full()?;
    match s.app.request_scan(&v.ctx(), id).await {
        Ok(_) => Ok(Redirect::to(&format!("/discovery/locations/{id}?queued=1")).into_response()),
        Err(AppError::Invalid(p)) => {
            let msg = p.message(v.lang.code()).to_owned();
            location_page(&s, &v, id, &no_query(), None, Some(msg)).await
        }
        Err(e) => Err(WebError(e)),
    }
}

// ───────────────────────────── one file ─────────────────────────────

pub struct SampleLine {
    pub kind: String,
    pub masked: String,
    pub line: u64,
}

#[derive(Template)]
#[template(path = "discovery_file.html")]
pub struct FilePage {
    pub c: Chrome,
    pub errs: FormErrors,
    pub id: i64,
    pub location_id: i64,
    pub location: String,
    pub path: String,
    pub facts: Vec<(String, String)>,
    pub kinds: Vec<KindLine>,
    pub samples: Option<Vec<SampleLine>>,
    pub dataset: Option<(i64, String)>,
    pub unledgered: bool,
    pub deleted: bool,
    pub deleted_but_present: bool,
    pub deleted_note: String,
    pub can_resolve: bool,
    pub has_data: bool,
    pub datasets: Vec<DeptOpt>,
    pub note: String,
}

async fn file_page(
    s: &WebState,
    v: &Visitor,
    id: i64,
    errs: FormErrors,
    note: String,
    flash: Option<String>,
) -> WebResult {
    let dt = s.app.discovery_file_detail(&v.ctx(), id).await?;
    let t = v.tr();
    let f = &dt.file;
    let r = &f.row;
    let mut facts = vec![
        (t.get("discovery.file.path").to_owned(), f.full_path.clone()),
        (t.get("discovery.file.format").to_owned(), r.format.clone()),
        (
            t.get("discovery.file.size").to_owned(),
            group_digits(r.size.max(0) as u64),
        ),
        (
            t.get("discovery.file.change").to_owned(),
            change_label(v, f.change),
        ),
    ];
    if r.status != "scanned" || r.reason.is_some() {
        facts.push((
            t.get("discovery.file.not_read").to_owned(),
            r.reason.clone().unwrap_or_else(|| r.status.clone()),
        ));
    }
    let prev = f.prev_counts.clone().unwrap_or_default();
    let kinds = KINDS
        .iter()
        .filter(|k| f.counts.contains_key(**k) || prev.contains_key(**k))
        .map(|k| {
            let now = f.counts.get(*k).copied().unwrap_or(0);
            let before = prev.get(*k).copied();
            KindLine {
                label: kind_label(v, k),
                count: group_digits(now),
                delta: match (f.prev_counts.as_ref(), before) {
                    (None, _) => String::new(),
                    (Some(_), b) => {
                        let d = i128::from(now) - i128::from(b.unwrap_or(0));
                        if d == 0 {
                            String::new()
                        } else {
                            format!("{d:+}")
                        }
                    }
                },
            }
        })
        .collect();
    let mut c = Chrome::new(v, "discovery.file.title");
    let short = r.path.rsplit('/').next().unwrap_or(&r.path).to_owned();
    c.title = format!("{short} — {}", c.title);
    c.flash = flash;
    render_status(
        errs.status(),
        &FilePage {
            c,
            errs,
            id,
            location_id: dt.location.id,
            location: dt.location.name.clone(),
            path: r.path.clone(),
            facts,
            kinds,
            samples: dt.samples.as_ref().map(|ss| {
                ss.iter()
                    .map(|s| SampleLine {
                        kind: kind_label(v, &s.kind),
                        masked: s.masked.clone(),
                        line: s.line,
                    })
                    .collect()
            }),
            dataset: f.dataset.clone(),
            unledgered: f.unledgered,
            deleted: r.disposition.as_deref() == Some("deleted"),
            deleted_but_present: f.deleted_but_present,
            deleted_note: r.disposition_note.clone().unwrap_or_default(),
            can_resolve: dt.scope.can_resolve,
            has_data: !f.counts.is_empty(),
            datasets: dt
                .datasets
                .iter()
                .map(|(id, name)| DeptOpt {
                    id: *id,
                    name: name.clone(),
                    selected: f.dataset.as_ref().is_some_and(|d| d.0 == *id),
                })
                .collect(),
            note,
        },
    )
}

#[derive(Deserialize)]
pub struct FileQuery {
    saved: Option<String>,
}

pub async fn file(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Path(id): Path<i64>,
    Query(q): Query<FileQuery>,
) -> WebResult {
    v.full()?;
    let flash = q
        .saved
        .map(|_| v.tr().get("discovery.flash.saved").to_owned());
    file_page(&s, &v, id, FormErrors::none("link"), String::new(), flash).await
}

#[derive(Deserialize)]
pub struct LinkForm {
    #[serde(default)]
    dataset_id: String,
}

pub async fn link_file(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Path(id): Path<i64>,
    Form(f): Form<LinkForm>,
) -> WebResult {
    v.full()?;
    let dataset = f.dataset_id.trim().parse::<i64>().ok().filter(|d| *d > 0);
    match s.app.link_discovery_file(&v.ctx(), id, dataset).await {
        Ok(()) => Ok(Redirect::to(&format!("/discovery/files/{id}?saved=1")).into_response()),
        Err(e @ AppError::Invalid(_)) => {
            let errs = FormErrors::of(&v, "link", &e, &[("dataset_id", "discovery.file.dataset")]);
            file_page(&s, &v, id, errs, String::new(), None).await
        }
        Err(e) => Err(WebError(e)),
    }
}

#[derive(Deserialize)]
pub struct DeletedForm {
    #[serde(default)]
    note: String,
    #[serde(default)]
    withdraw: Option<String>,
}

pub async fn file_deleted(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Path(id): Path<i64>,
    Form(f): Form<DeletedForm>,
) -> WebResult {
    v.full()?;
    match s
        .app
        .record_file_deleted(&v.ctx(), id, &f.note, f.withdraw.is_some())
        .await
    {
        Ok(()) => Ok(Redirect::to(&format!("/discovery/files/{id}?saved=1")).into_response()),
        Err(e @ AppError::Invalid(_)) => {
            let errs = FormErrors::of(&v, "deleted", &e, &[("note", "discovery.file.note")]);
            file_page(&s, &v, id, errs, f.note, None).await
        }
        Err(e) => Err(WebError(e)),
    }
}

// ───────────────────────────── self-check ─────────────────────────────

pub struct KeyLine {
    pub key_id: String,
    pub label: String,
    pub created: String,
    pub revoked: Option<String>,
}

#[derive(Template)]
#[template(path = "discovery_selfcheck.html")]
pub struct SelfCheckPage {
    pub c: Chrome,
    pub errs: FormErrors,
    pub keys: Vec<KeyLine>,
    pub label: String,
}

async fn selfcheck_page(
    s: &WebState,
    v: &Visitor,
    errs: FormErrors,
    label: String,
    flash: Option<String>,
) -> WebResult {
    let keys = s.app.my_scan_keys(&v.ctx()).await?;
    let mut c = Chrome::new(v, "discovery.selfcheck.title");
    c.flash = flash;
    render_status(
        errs.status(),
        &SelfCheckPage {
            c,
            errs,
            keys: keys
                .iter()
                .map(|k| KeyLine {
                    key_id: k.key_id.clone(),
                    label: k.label.clone(),
                    created: when(Some(k.created_at)),
                    revoked: k.revoked_at.map(|r| when(Some(r))),
                })
                .collect(),
            label,
        },
    )
}

#[derive(Deserialize)]
pub struct SelfCheckQuery {
    revoked: Option<String>,
}

pub async fn selfcheck(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Query(q): Query<SelfCheckQuery>,
) -> WebResult {
    v.full()?;
    let flash = q
        .revoked
        .map(|_| v.tr().get("discovery.key.revoked").to_owned());
    selfcheck_page(&s, &v, FormErrors::none("report"), String::new(), flash).await
}

#[derive(Deserialize)]
pub struct KeyForm {
    #[serde(default)]
    label: String,
}

/// Issues a key and answers with its file as a download: the secret is shown this once.
pub async fn issue_key(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Form(f): Form<KeyForm>,
) -> WebResult {
    v.full()?;
    match s.app.issue_scan_key(&v.ctx(), &f.label).await {
        Ok(k) => Ok((
            [
                (header::CONTENT_TYPE, "text/plain; charset=utf-8".to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    format!(
                        "attachment; filename=\"mamori-scan-key-{}.txt\"",
                        &k.key_id[..8]
                    ),
                ),
            ],
            k.file,
        )
            .into_response()),
        Err(e @ AppError::Invalid(_)) => {
            let errs = FormErrors::of(&v, "key", &e, &[("label", "discovery.key.label")]);
            selfcheck_page(&s, &v, errs, f.label, None).await
        }
        Err(e) => Err(WebError(e)),
    }
}

#[derive(Deserialize)]
pub struct RevokeForm {
    #[serde(default)]
    key_id: String,
}

pub async fn revoke_key(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Form(f): Form<RevokeForm>,
) -> WebResult {
    v.full()?;
    s.app.revoke_scan_key(&v.ctx(), f.key_id.trim()).await?;
    Ok(Redirect::to("/discovery/self-check?revoked=1").into_response())
}

/// Imports an uploaded signed report and shows the device's location.
pub async fn upload_report(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    headers: HeaderMap,
    body: Bytes,
) -> WebResult {
    v.full()?;
    let none = || {
        AppError::invalid(
            "file",
            "mamori scan --report で作ったレポートファイルを選んでください",
            "choose the report file made by mamori scan --report",
        )
    };
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    let bytes = crate::multipart::boundary(ct).and_then(|b| {
        let parts = crate::multipart::parse(&body, &b);
        crate::multipart::field(&parts, "file")
            .map(|f| f.data.clone())
            .filter(|d| !d.is_empty())
    });
    let result = match bytes {
        Some(b) => s.app.import_scan_report(&v.ctx(), &b).await,
        None => Err(none()),
    };
    match result {
        Ok(r) => Ok(Redirect::to(&format!(
            "/discovery/locations/{}?imported=1",
            r.location_id
        ))
        .into_response()),
        Err(e @ AppError::Invalid(_)) => {
            let errs = FormErrors::of(&v, "report", &e, &[("file", "discovery.report.file")]);
            selfcheck_page(&s, &v, errs, String::new(), None).await
        }
        Err(e) => Err(WebError(e)),
    }
}

/// The ledger form prefilled from a file (GET /ledger/new?from_file=ID).
pub async fn proposal(
    s: &WebState,
    v: &Visitor,
    file_id: i64,
) -> Result<mamori_domain::ledger::DatasetInput, WebError> {
    Ok(s.app.ledger_proposal(&v.ctx(), file_id).await?)
}
