//! The device and media register (issue 17, part 3): the list with its filters and pages, one
//! device with its lendings and the lending and return forms, the device form, the import of a
//! register CSV with its preview, and the export for Excel.

use super::ledger::{csv_download, uploaded_file, ExportQuery};
use super::{jst, render, render_status, url_encode, Chrome};
use crate::error::{WebError, WebResult};
use crate::form::FormErrors;
use crate::visitor::Visitor;
use crate::WebState;
use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Redirect};
use axum::{Extension, Form};
use mamori_app::devices::{DeviceFilter, DeviceInput, DeviceView, ImportPreview};
use mamori_app::AppError;
use mamori_domain::incident::jst_date;
use mamori_domain::programme::devices::{Column, DeviceKind, DeviceState, Tri};
use serde::Deserialize;

/// An option of a select.
pub struct Opt {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

fn opts<'a>(items: impl IntoIterator<Item = (String, String)> + 'a, chosen: &str) -> Vec<Opt> {
    items
        .into_iter()
        .map(|(value, label)| Opt {
            selected: value == chosen,
            value,
            label,
        })
        .collect()
}

pub fn kind_label(v: &Visitor, code: &str) -> String {
    v.tr().get(&format!("devices.kind.{code}")).to_owned()
}

fn state_label(v: &Visitor, code: &str) -> String {
    v.tr().get(&format!("devices.state.{code}")).to_owned()
}

fn tri_label(v: &Visitor, code: &str) -> String {
    v.tr().get(&format!("devices.tri.{code}")).to_owned()
}

fn kind_opts(v: &Visitor, chosen: &str, any: bool) -> Vec<Opt> {
    let mut items = Vec::new();
    if any {
        items.push((String::new(), v.tr().get("devices.all").to_owned()));
    }
    items.extend(
        DeviceKind::ALL
            .iter()
            .map(|k| (k.code().to_owned(), kind_label(v, k.code()))),
    );
    opts(items, chosen)
}

fn state_opts(v: &Visitor, chosen: &str, any: bool) -> Vec<Opt> {
    let mut items = Vec::new();
    if any {
        items.push((String::new(), v.tr().get("devices.all").to_owned()));
    }
    items.extend(
        DeviceState::ALL
            .iter()
            .map(|k| (k.code().to_owned(), state_label(v, k.code()))),
    );
    opts(items, chosen)
}

fn tri_opts(v: &Visitor, chosen: &str) -> Vec<Opt> {
    opts(
        Tri::ALL
            .iter()
            .map(|k| (k.code().to_owned(), tri_label(v, k.code()))),
        chosen,
    )
}

fn dept_opts(v: &Visitor, depts: &[(i64, String)], chosen: &str, any: bool) -> Vec<Opt> {
    let mut items = Vec::new();
    if any {
        items.push((String::new(), v.tr().get("devices.all").to_owned()));
    }
    items.extend(depts.iter().map(|(id, n)| (id.to_string(), n.clone())));
    opts(items, chosen)
}

// ───────────────────────────── the list ─────────────────────────────

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    pub department: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub state: String,
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub overdue: Option<String>,
    #[serde(default)]
    pub page: String,
    #[serde(default)]
    pub imported: Option<String>,
}

pub struct Line {
    pub id: i64,
    pub tag: String,
    pub kind: String,
    pub model: String,
    pub department: String,
    pub holder: String,
    pub encryption: String,
    pub encrypted: bool,
    pub remote_wipe: String,
    pub state: String,
    pub due: String,
    pub overdue: String,
}

#[derive(Template)]
#[template(path = "devices.html")]
pub struct ListPage {
    pub c: Chrome,
    pub lines: Vec<Line>,
    pub departments: Vec<Opt>,
    pub kinds: Vec<Opt>,
    pub states: Vec<Opt>,
    pub q: String,
    pub overdue: bool,
    pub matching: usize,
    pub page: usize,
    pub pages: usize,
    pub prev_href: String,
    pub next_href: String,
    pub totals: mamori_app::devices::DeviceTotals,
    pub can_manage: bool,
    pub sees_register: bool,
}

pub async fn list(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Query(q): Query<ListQuery>,
) -> WebResult {
    v.full()?;
    let filter = DeviceFilter {
        department_id: q.department.trim().parse().ok(),
        kind: Some(q.kind.clone()).filter(|k| !k.is_empty()),
        state: Some(q.state.clone()).filter(|k| !k.is_empty()),
        q: q.q.chars().take(100).collect(),
        overdue: q.overdue.is_some(),
        page: q.page.trim().parse().unwrap_or(1),
    };
    let l = s.app.devices(&v.ctx(), &filter).await?;
    let t = v.tr();
    let href = |page: usize| {
        format!(
            "/programme/devices?department={}&kind={}&state={}&q={}{}&page={page}",
            url_encode(&q.department),
            url_encode(&q.kind),
            url_encode(&q.state),
            url_encode(&filter.q),
            if filter.overdue { "&overdue=1" } else { "" },
        )
    };
    let lines = l
        .lines
        .iter()
        .map(|d| Line {
            id: d.row.id,
            tag: d.row.asset_tag.clone(),
            kind: kind_label(&v, &d.row.kind),
            model: d.row.model.clone(),
            department: d.department.clone(),
            holder: if d.holder.is_empty() && d.row.pool {
                t.get("devices.pool").to_owned()
            } else if d.holder.is_empty() {
                "-".into()
            } else {
                d.holder.clone()
            },
            encryption: tri_label(&v, &d.row.encryption),
            encrypted: d.row.encryption == "yes",
            remote_wipe: tri_label(&v, &d.row.remote_wipe),
            state: state_label(&v, &d.row.state),
            due: d.due_on.clone().unwrap_or_default(),
            overdue: if d.overdue_days > 0 {
                t.fill("devices.overdue_days", "n", &d.overdue_days.to_string())
            } else {
                String::new()
            },
        })
        .collect();
    let flash = q
        .imported
        .as_ref()
        .map(|_| t.get("devices.import.done").to_owned());
    render(&ListPage {
        c: Chrome::new(&v, "devices.title").with_flash(flash),
        lines,
        departments: dept_opts(&v, &l.departments, &q.department, true),
        kinds: kind_opts(&v, &q.kind, true),
        states: state_opts(&v, &q.state, true),
        q: filter.q.clone(),
        overdue: filter.overdue,
        matching: l.matching,
        page: l.page,
        pages: l.pages,
        prev_href: if l.page > 1 {
            href(l.page - 1)
        } else {
            String::new()
        },
        next_href: if l.page < l.pages {
            href(l.page + 1)
        } else {
            String::new()
        },
        totals: l.totals,
        can_manage: l.can_manage,
        sees_register: l.sees_register,
    })
}

pub async fn export(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Query(q): Query<ExportQuery>,
) -> WebResult {
    v.full()?;
    let cp932 = q.enc == "cp932";
    let bytes = s.app.export_devices(&v.ctx(), cp932).await?;
    let day = jst_date(s.app.clock.now_micros());
    let suffix = if cp932 { "_cp932" } else { "" };
    Ok(csv_download(
        bytes,
        cp932,
        &format!("devices-{day}{suffix}.csv"),
        &format!("端末・媒体台帳_{day}{suffix}.csv"),
    ))
}

// ───────────────────────────── the device form ─────────────────────────────

#[derive(Debug, Default, Deserialize)]
pub struct DeviceForm {
    #[serde(default)]
    asset_tag: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    model: String,
    #[serde(default)]
    serial: String,
    #[serde(default)]
    department_id: String,
    #[serde(default)]
    owner: String,
    #[serde(default)]
    pool: Option<String>,
    #[serde(default)]
    encryption: String,
    #[serde(default)]
    remote_wipe: String,
    #[serde(default)]
    state: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    version: String,
}

impl DeviceForm {
    fn input(&self) -> DeviceInput {
        DeviceInput {
            asset_tag: self.asset_tag.clone(),
            kind: self.kind.clone(),
            model: self.model.clone(),
            serial: self.serial.clone(),
            department_id: self.department_id.trim().parse().unwrap_or(0),
            owner: self.owner.clone(),
            pool: self.pool.is_some(),
            encryption: self.encryption.clone(),
            remote_wipe: self.remote_wipe.clone(),
            state: self.state.clone(),
            note: self.note.clone(),
        }
    }
}

const DEVICE_FIELDS: &[(&str, &str)] = &[
    ("asset_tag", "devices.asset_tag"),
    ("kind", "devices.kind"),
    ("model", "devices.model"),
    ("serial", "devices.serial"),
    ("department_id", "devices.department"),
    ("owner", "devices.owner"),
    ("encryption", "devices.encryption"),
    ("remote_wipe", "devices.remote_wipe"),
    ("state", "devices.state"),
    ("note", "devices.note"),
];

#[derive(Template)]
#[template(path = "device_form.html")]
pub struct FormPage {
    pub c: Chrome,
    pub errs: FormErrors,
    pub action: String,
    pub f: DeviceForm,
    pub kinds: Vec<Opt>,
    pub states: Vec<Opt>,
    pub encryptions: Vec<Opt>,
    pub wipes: Vec<Opt>,
    pub departments: Vec<Opt>,
    pub pool: bool,
    pub editing: bool,
}

async fn form_page(
    s: &WebState,
    v: &Visitor,
    f: DeviceForm,
    errs: FormErrors,
    edit: Option<i64>,
) -> WebResult {
    let ctx = v.ctx();
    let scope = s.app.programme_scope(&ctx).await?;
    if !scope.runs {
        return Err(WebError(AppError::Denied));
    }
    let depts = s
        .app
        .devices(&ctx, &DeviceFilter::default())
        .await?
        .departments;
    let page = FormPage {
        c: Chrome::new(
            v,
            if edit.is_some() {
                "devices.edit"
            } else {
                "devices.new"
            },
        ),
        action: edit.map_or_else(
            || "/programme/devices".to_owned(),
            |id| format!("/programme/devices/{id}"),
        ),
        kinds: kind_opts(v, &f.kind, false),
        states: state_opts(v, &f.state, false),
        encryptions: tri_opts(v, &f.encryption),
        wipes: tri_opts(v, &f.remote_wipe),
        departments: dept_opts(v, &depts, &f.department_id, false),
        pool: f.pool.is_some(),
        editing: edit.is_some(),
        f,
        errs,
    };
    render_status(page.errs.status(), &page)
}

pub async fn new_page(State(s): State<WebState>, Extension(v): Extension<Visitor>) -> WebResult {
    v.full()?;
    let f = DeviceForm {
        kind: "laptop".into(),
        state: "in_stock".into(),
        encryption: "unknown".into(),
        remote_wipe: "unknown".into(),
        pool: Some("1".into()),
        ..DeviceForm::default()
    };
    form_page(&s, &v, f, FormErrors::none("device"), None).await
}

pub async fn create(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Form(f): Form<DeviceForm>,
) -> WebResult {
    v.full()?;
    match s.app.register_device(&v.ctx(), &f.input()).await {
        Ok(id) => Ok(Redirect::to(&format!("/programme/devices/{id}?saved=1")).into_response()),
        Err(e @ AppError::Invalid(_)) => {
            let errs = FormErrors::of(&v, "device", &e, DEVICE_FIELDS);
            form_page(&s, &v, f, errs, None).await
        }
        Err(e) => Err(WebError(e)),
    }
}

pub async fn edit_page(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Path(id): Path<i64>,
) -> WebResult {
    v.full()?;
    let d = s.app.device(&v.ctx(), id).await?;
    let r = &d.row;
    let f = DeviceForm {
        asset_tag: r.asset_tag.clone(),
        kind: r.kind.clone(),
        model: r.model.clone(),
        serial: r.serial.clone(),
        department_id: r.department_id.to_string(),
        owner: d.owner_login.clone(),
        pool: r.pool.then(|| "1".into()),
        encryption: r.encryption.clone(),
        remote_wipe: r.remote_wipe.clone(),
        state: r.state.clone(),
        note: r.note.clone(),
        version: r.version.to_string(),
    };
    form_page(&s, &v, f, FormErrors::none("device"), Some(id)).await
}

pub async fn update(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Path(id): Path<i64>,
    Form(f): Form<DeviceForm>,
) -> WebResult {
    v.full()?;
    let version = f.version.trim().parse().unwrap_or(0);
    match s.app.update_device(&v.ctx(), id, version, &f.input()).await {
        Ok(()) => Ok(Redirect::to(&format!("/programme/devices/{id}?saved=1")).into_response()),
        Err(e @ AppError::Invalid(_)) => {
            let errs = FormErrors::of(&v, "device", &e, DEVICE_FIELDS);
            form_page(&s, &v, f, errs, Some(id)).await
        }
        Err(e) => Err(WebError(e)),
    }
}

// ───────────────────────────── one device ─────────────────────────────

pub struct LoanLine {
    pub borrower: String,
    pub lent: String,
    pub due: String,
    pub returned: String,
    pub purpose: String,
    pub note: String,
    pub overdue: String,
}

#[derive(Default)]
pub struct LendEcho {
    pub borrower: String,
    pub due: String,
    pub purpose: String,
    pub note: String,
}

#[derive(Template)]
#[template(path = "device.html")]
pub struct DevicePage {
    pub c: Chrome,
    pub errs: FormErrors,
    pub id: i64,
    pub version: i64,
    pub tag: String,
    pub kind: String,
    pub model: String,
    pub serial: String,
    pub department: String,
    pub owner: String,
    pub pool: bool,
    pub encryption: String,
    pub remote_wipe: String,
    pub state: String,
    pub note: String,
    pub updated: String,
    pub open: Option<LoanLine>,
    pub loans: Vec<LoanLine>,
    pub can_manage: bool,
    pub can_lend_now: bool,
    pub can_return: bool,
    pub f: LendEcho,
    pub today: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct DeviceQuery {
    #[serde(default)]
    saved: Option<String>,
    #[serde(default)]
    lent: Option<String>,
    #[serde(default)]
    returned: Option<String>,
}

fn device_page(
    s: &WebState,
    v: &Visitor,
    d: &DeviceView,
    errs: FormErrors,
    f: LendEcho,
    flash: Option<String>,
) -> DevicePage {
    let t = v.tr();
    let loan_line = |l: &mamori_app::devices::LoanLine| LoanLine {
        borrower: l.borrower.clone(),
        lent: jst(l.row.lent_at)[..10].to_owned(),
        due: l.row.due_on.clone(),
        returned: l
            .row
            .returned_at
            .map(|r| jst(r)[..10].to_owned())
            .unwrap_or_default(),
        purpose: l.row.purpose.clone(),
        note: l.row.return_note.clone().unwrap_or_default(),
        overdue: if l.overdue_days > 0 {
            t.fill("devices.overdue_days", "n", &l.overdue_days.to_string())
        } else {
            String::new()
        },
    };
    let r = &d.row;
    let mut c = Chrome::new(v, "devices.device").with_flash(flash);
    c.title = format!("{} · {}", r.asset_tag, c.title);
    DevicePage {
        c,
        errs,
        id: r.id,
        version: r.version,
        tag: r.asset_tag.clone(),
        kind: kind_label(v, &r.kind),
        model: r.model.clone(),
        serial: r.serial.clone(),
        department: d.department.clone(),
        owner: if d.owner_name.is_empty() {
            String::new()
        } else {
            format!("{} · {}", d.owner_name, d.owner_login)
        },
        pool: r.pool,
        encryption: tri_label(v, &r.encryption),
        remote_wipe: tri_label(v, &r.remote_wipe),
        state: state_label(v, &r.state),
        note: r.note.clone(),
        updated: format!("{} · {}", &jst(r.updated_at)[..16], r.updated_by),
        open: d.open_loan.as_ref().map(loan_line),
        loans: d.loans.iter().map(loan_line).collect(),
        can_manage: d.can_manage,
        can_lend_now: d.can_lend && r.state == "in_stock",
        can_return: d.can_lend && d.open_loan.is_some(),
        f,
        today: jst_date(s.app.clock.now_micros()).to_string(),
    }
}

pub async fn show(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Path(id): Path<i64>,
    Query(q): Query<DeviceQuery>,
) -> WebResult {
    v.full()?;
    let d = s.app.device(&v.ctx(), id).await?;
    let t = v.tr();
    let flash = if q.saved.is_some() {
        Some(t.get("common.saved").to_owned())
    } else if q.lent.is_some() {
        Some(t.get("devices.lent_flash").to_owned())
    } else if q.returned.is_some() {
        Some(t.get("devices.returned_flash").to_owned())
    } else {
        None
    };
    let f = LendEcho {
        purpose: String::new(),
        ..LendEcho::default()
    };
    render(&device_page(&s, &v, &d, FormErrors::none("lend"), f, flash))
}

#[derive(Debug, Default, Deserialize)]
pub struct LendForm {
    #[serde(default)]
    borrower: String,
    #[serde(default)]
    due: String,
    #[serde(default)]
    purpose: String,
    #[serde(default)]
    version: String,
    #[serde(default)]
    note: String,
}

const LEND_FIELDS: &[(&str, &str)] = &[
    ("borrower", "devices.borrower"),
    ("due", "devices.due"),
    ("purpose", "devices.purpose"),
];

pub async fn lend(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Path(id): Path<i64>,
    Form(f): Form<LendForm>,
) -> WebResult {
    v.full()?;
    let ctx = v.ctx();
    let version = f.version.trim().parse().unwrap_or(0);
    match s
        .app
        .lend_device(&ctx, id, version, &f.borrower, &f.due, &f.purpose)
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/programme/devices/{id}?lent=1")).into_response()),
        Err(e @ AppError::Invalid(_)) => {
            let d = s.app.device(&ctx, id).await?;
            let errs = FormErrors::of(&v, "lend", &e, LEND_FIELDS);
            let echo = LendEcho {
                borrower: f.borrower,
                due: f.due,
                purpose: f.purpose,
                note: String::new(),
            };
            render_status(errs.status(), &device_page(&s, &v, &d, errs, echo, None))
        }
        Err(e) => Err(WebError(e)),
    }
}

pub async fn give_back(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Path(id): Path<i64>,
    Form(f): Form<LendForm>,
) -> WebResult {
    v.full()?;
    let ctx = v.ctx();
    match s.app.return_device(&ctx, id, &f.note).await {
        Ok(()) => Ok(Redirect::to(&format!("/programme/devices/{id}?returned=1")).into_response()),
        Err(e @ AppError::Invalid(_)) => {
            let d = s.app.device(&ctx, id).await?;
            let errs = FormErrors::of(&v, "return", &e, &[("note", "devices.return_note")]);
            let echo = LendEcho {
                note: f.note,
                ..LendEcho::default()
            };
            render_status(errs.status(), &device_page(&s, &v, &d, errs, echo, None))
        }
        Err(e) => Err(WebError(e)),
    }
}

// ───────────────────────────── import ─────────────────────────────

pub struct ProblemLine {
    pub line: u64,
    pub column: String,
    pub message: String,
}

pub struct RowLine {
    pub line: u64,
    pub tag: String,
    pub kind: String,
    pub model: String,
    pub department: String,
    pub owner: String,
    pub changes: String,
}

pub struct RowGroup {
    pub title: &'static str,
    pub rows: Vec<RowLine>,
}

pub struct PreviewView {
    pub id: i64,
    pub file_name: String,
    pub adds: usize,
    pub updates: usize,
    pub groups: Vec<RowGroup>,
    pub unchanged: usize,
    pub problems: Vec<ProblemLine>,
    pub bad_lines: usize,
    pub ignored: String,
    pub applied: bool,
}

#[derive(Template)]
#[template(path = "device_import.html")]
pub struct ImportPage {
    pub c: Chrome,
    pub errs: FormErrors,
    pub preview: Option<PreviewView>,
}

/// A register column in the reader's language (the file may have Japanese or English
/// headers; the page speaks the reader's language).
fn column_label(v: &Visitor, c: Column) -> String {
    let key = match c {
        Column::AssetTag => "devices.asset_tag",
        Column::Kind => "devices.kind",
        Column::Model => "devices.model",
        Column::Serial => "devices.serial",
        Column::Department => "devices.department",
        Column::Owner => "devices.owner",
        Column::Pool => "devices.pool",
        Column::Encryption => "devices.encryption",
        Column::RemoteWipe => "devices.remote_wipe",
        Column::State => "devices.state",
        Column::Note => "devices.note",
    };
    v.tr().get(key).to_owned()
}

fn preview_view(v: &Visitor, p: &ImportPreview) -> PreviewView {
    let en = v.lang.code() == "en";
    let row = |r: &mamori_app::devices::PreviewRow| RowLine {
        line: r.line,
        tag: r.fields.asset_tag.clone(),
        kind: kind_label(v, &r.fields.kind),
        model: r.fields.model.clone(),
        department: r.department.clone(),
        owner: r.owner.clone(),
        changes: r
            .changed
            .iter()
            .map(|c| column_label(v, *c))
            .collect::<Vec<_>>()
            .join(if en { ", " } else { "、" }),
    };
    PreviewView {
        id: p.id,
        file_name: p.file_name.clone(),
        adds: p.adds.len(),
        updates: p.updates.len(),
        groups: vec![
            RowGroup {
                title: "devices.import.adds",
                rows: p.adds.iter().map(row).collect(),
            },
            RowGroup {
                title: "devices.import.updates",
                rows: p.updates.iter().map(row).collect(),
            },
        ],
        unchanged: p.unchanged,
        problems: p
            .problems
            .iter()
            .map(|x| ProblemLine {
                line: x.line,
                column: x.col.map_or_else(String::new, |c| column_label(v, c)),
                message: if en { x.en.clone() } else { x.ja.clone() },
            })
            .collect(),
        bad_lines: p.bad_lines(),
        ignored: p.ignored.join(if en { ", " } else { "、" }),
        applied: p.applied,
    }
}

async fn import_page(
    s: &WebState,
    v: &Visitor,
    errs: FormErrors,
    preview: Option<PreviewView>,
) -> WebResult {
    let scope = s.app.programme_scope(&v.ctx()).await?;
    if !scope.runs {
        return Err(WebError(AppError::Denied));
    }
    let page = ImportPage {
        c: Chrome::new(v, "devices.import.title"),
        errs,
        preview,
    };
    render_status(page.errs.status(), &page)
}

pub async fn import_form(State(s): State<WebState>, Extension(v): Extension<Visitor>) -> WebResult {
    v.full()?;
    import_page(&s, &v, FormErrors::none("import"), None).await
}

fn file_name(headers: &HeaderMap, body: &[u8]) -> String {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    crate::multipart::boundary(ct)
        .and_then(|b| {
            let parts = crate::multipart::parse(body, &b);
            crate::multipart::field(&parts, "file").and_then(|f| f.filename.clone())
        })
        .unwrap_or_default()
}

pub async fn import_preview(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    headers: HeaderMap,
    body: Bytes,
) -> WebResult {
    v.full()?;
    let ctx = v.ctx();
    let result = match uploaded_file(&headers, &body) {
        Ok(bytes) => {
            s.app
                .preview_device_import(&ctx, &bytes, &file_name(&headers, &body))
                .await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(p) => {
            import_page(
                &s,
                &v,
                FormErrors::none("import"),
                Some(preview_view(&v, &p)),
            )
            .await
        }
        Err(e @ AppError::Invalid(_)) => {
            let errs = FormErrors::of(&v, "import", &e, &[("file", "devices.import.file")]);
            import_page(&s, &v, errs, None).await
        }
        Err(e) => Err(WebError(e)),
    }
}

pub async fn import_show(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Path(id): Path<i64>,
) -> WebResult {
    v.full()?;
    let p = s.app.device_import(&v.ctx(), id).await?;
    import_page(
        &s,
        &v,
        FormErrors::none("apply"),
        Some(preview_view(&v, &p)),
    )
    .await
}

#[derive(Debug, Default, Deserialize)]
pub struct ApplyForm {
    #[serde(default)]
    mode: String,
}

pub async fn import_apply(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Path(id): Path<i64>,
    Form(f): Form<ApplyForm>,
) -> WebResult {
    v.full()?;
    let ctx = v.ctx();
    match s.app.apply_device_import(&ctx, id, f.mode == "good").await {
        Ok(done) => Ok(Redirect::to(&format!(
            "/programme/devices?imported={}-{}",
            done.added, done.updated
        ))
        .into_response()),
        Err(e @ AppError::Invalid(_)) => {
            let p = s.app.device_import(&ctx, id).await?;
            let errs = FormErrors::of(&v, "apply", &e, &[]);
            import_page(&s, &v, errs, Some(preview_view(&v, &p))).await
        }
        Err(e) => Err(WebError(e)),
    }
}
