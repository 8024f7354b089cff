//! The ledger (個人情報管理台帳): the list with its totals, CSV export (UTF-8 with BOM or
//! CP932 for Excel) and import, the entry form, the yearly review with its history, and — for
//! the privacy office and custodians — the vault schema of an entry.

use super::incidents::{Opt, Pairs};
use super::vault::{schema_form, SchemaForm};
use super::{jst, render, render_status, url_encode, Chrome};
use crate::error::{WebError, WebResult};
use crate::form::FormErrors;
use crate::i18n::Lang;
use crate::visitor::Visitor;
use crate::WebState;
use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use mamori_app::ledger::{DatasetView, LedgerImport, LedgerOverview};
use mamori_app::{AppError, Ctx, Problem, Problems};
use mamori_domain::appi::Item;
use mamori_domain::incident::facts::group_digits;
use mamori_domain::incident::jst_date;
use mamori_domain::ledger::{self, DatasetInput, LedgerError};
use mamori_domain::role::Permission;
use mamori_store::ledger::ReviewRow;
use serde::Deserialize;

fn item_label(v: &Visitor, i: Item) -> String {
    if v.lang == Lang::En {
        i.label_en().to_owned()
    } else {
        i.label_ja().to_owned()
    }
}

fn count(n: Option<i64>) -> String {
    n.map_or_else(|| "-".into(), |n| group_digits(n.max(0) as u64))
}

// ───────────────────────────── the list ─────────────────────────────

pub struct LedgerRow {
    pub id: i64,
    pub name: String,
    pub department: String,
    pub items: String,
    pub sensitive: String,
    pub card: bool,
    pub persons: String,
    pub purpose: String,
    pub storage: String,
    pub use_until: String,
    pub retain_until: String,
    pub review_due: String,
    pub overdue: bool,
    pub vault: bool,
}

pub struct TotalLine {
    pub label: String,
    pub sensitive: bool,
    pub datasets: usize,
    pub persons: String,
    pub sensitive_persons: String,
}

pub struct ImportView {
    pub created: usize,
    pub updated: usize,
    pub rejected: Vec<(usize, String)>,
}

#[derive(Template)]
#[template(path = "ledger.html")]
pub struct LedgerPage {
    pub c: Chrome,
    /// The problems of the import form.
    pub errs: FormErrors,
    pub rows: Vec<LedgerRow>,
    pub can_edit: bool,
    pub datasets: usize,
    pub persons: String,
    pub sensitive_persons: String,
    pub card_persons: String,
    pub unknown_counts: usize,
    pub by_department: Vec<TotalLine>,
    pub by_item: Vec<TotalLine>,
    pub import: Option<ImportView>,
}

fn row_of(v: &Visitor, e: &DatasetView) -> LedgerRow {
    let r = &e.row;
    let items = |list: Vec<Item>| {
        list.into_iter()
            .map(|i| item_label(v, i))
            .collect::<Vec<_>>()
            .join(if v.lang == Lang::En { ", " } else { "、" })
    };
    LedgerRow {
        id: r.id,
        name: r.name.clone(),
        department: e.department.clone(),
        items: items(e.items.clone()),
        sensitive: items(
            e.items
                .iter()
                .copied()
                .filter(|i| i.is_sensitive())
                .collect(),
        ),
        card: r.card_data,
        persons: count(r.persons),
        purpose: r.purpose.clone(),
        storage: [r.storage_place.as_str(), r.storage_method.as_str()]
            .iter()
            .filter(|s| !s.is_empty())
            .copied()
            .collect::<Vec<_>>()
            .join(" / "),
        use_until: r.use_until.clone().unwrap_or_default(),
        retain_until: r.retain_until.clone().unwrap_or_default(),
        review_due: r.review_due.clone(),
        overdue: e.overdue,
        vault: r.vault_schema.is_some(),
    }
}

fn ledger_page(
    v: &Visitor,
    o: &LedgerOverview,
    import: Option<LedgerImport>,
    errs: FormErrors,
) -> LedgerPage {
    let t = &o.totals;
    LedgerPage {
        c: Chrome::new(v, "ledger.title"),
        errs,
        rows: o.entries.iter().map(|e| row_of(v, e)).collect(),
        can_edit: o.can_edit,
        datasets: t.datasets,
        persons: group_digits(t.persons.max(0) as u64),
        sensitive_persons: group_digits(t.sensitive_persons.max(0) as u64),
        card_persons: group_digits(t.card_persons.max(0) as u64),
        unknown_counts: t.unknown_counts,
        by_department: t
            .by_department
            .iter()
            .map(|(name, d)| TotalLine {
                label: name.clone(),
                sensitive: d.sensitive_persons > 0,
                datasets: d.datasets,
                persons: group_digits(d.persons.max(0) as u64),
                sensitive_persons: group_digits(d.sensitive_persons.max(0) as u64),
            })
            .collect(),
        by_item: t
            .by_item
            .iter()
            .map(|(item, (n, persons))| TotalLine {
                label: item_label(v, *item),
                sensitive: item.is_sensitive(),
                datasets: *n,
                persons: group_digits((*persons).max(0) as u64),
                sensitive_persons: String::new(),
            })
            .collect(),
        import: import.map(|i| ImportView {
            created: i.created,
            updated: i.updated,
            rejected: i.rejected,
        }),
    }
}

pub async fn list_page(State(s): State<WebState>, Extension(v): Extension<Visitor>) -> WebResult {
    v.full()?;
    let o = s.app.ledger(&v.ctx()).await?;
    render(&ledger_page(&v, &o, None, FormErrors::none("import")))
}

#[derive(Debug, Default, Deserialize)]
pub struct ExportQuery {
    #[serde(default)]
    pub enc: String,
}

/// A CSV download; the name is given in UTF-8 (RFC 6266) with an ASCII fallback.
pub fn csv_download(bytes: Vec<u8>, cp932: bool, ascii_name: &str, name: &str) -> Response {
    let ctype = if cp932 {
        "text/csv; charset=Shift_JIS"
    } else {
        "text/csv; charset=utf-8"
    };
    (
        [
            (header::CONTENT_TYPE, ctype.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{}",
                    url_encode(name).replace('/', "%2F")
                ),
            ),
        ],
        bytes,
    )
        .into_response()
}

pub async fn export(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Query(q): Query<ExportQuery>,
) -> WebResult {
    v.full()?;
    let cp932 = q.enc == "cp932";
    let bytes = s.app.export_ledger(&v.ctx(), cp932).await?;
    let day = jst_date(s.app.clock.now_micros());
    let suffix = if cp932 { "_cp932" } else { "" };
    Ok(csv_download(
        bytes,
        cp932,
        &format!("ledger-{day}{suffix}.csv"),
        &format!("個人情報管理台帳_{day}{suffix}.csv"),
    ))
}

/// Reads an uploaded file from a `multipart/form-data` body.
pub fn uploaded_file(headers: &HeaderMap, body: &[u8]) -> Result<Vec<u8>, AppError> {
    let none = || {
        AppError::invalid(
            "file",
            "CSVファイルを選んでください",
            "choose a CSV file to upload",
        )
    };
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    let b = crate::multipart::boundary(ct).ok_or_else(none)?;
    let parts = crate::multipart::parse(body, &b);
    let f = crate::multipart::field(&parts, "file").ok_or_else(none)?;
    if f.data.is_empty() {
        return Err(none());
    }
    Ok(f.data.clone())
}

pub async fn import(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    headers: HeaderMap,
    body: Bytes,
) -> WebResult {
    v.full()?;
    let ctx = v.ctx();
    let scope = s.app.ledger_scope(&ctx).await?;
    if !scope.can_edit || !ctx.allows(Permission::ManageLedger) {
        return Err(WebError(AppError::Denied));
    }
    let result = match uploaded_file(&headers, &body) {
        Ok(bytes) => s.app.import_ledger(&ctx, &bytes).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(report) => {
            let o = s.app.ledger(&ctx).await?;
            render(&ledger_page(
                &v,
                &o,
                Some(report),
                FormErrors::none("import"),
            ))
        }
        Err(e @ AppError::Invalid(_)) => {
            let o = s.app.ledger(&ctx).await?;
            render_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                &ledger_page(
                    &v,
                    &o,
                    None,
                    FormErrors::of(&v, "import", &e, IMPORT_FIELDS),
                ),
            )
        }
        Err(e) => Err(WebError(e)),
    }
}

// ───────────────────────────── the entry form ─────────────────────────────

pub struct ItemOpt {
    pub code: &'static str,
    pub label: String,
    pub sensitive: bool,
    pub selected: bool,
}

fn item_opts(v: &Visitor, selected: &[String]) -> Vec<ItemOpt> {
    Item::ALL
        .iter()
        .map(|i| ItemOpt {
            code: i.code(),
            label: item_label(v, *i),
            sensitive: i.is_sensitive(),
            selected: selected.iter().any(|s| s == i.code()),
        })
        .collect()
}

/// What the form shows: the stored entry, or what was typed.
#[derive(Debug, Default)]
pub struct DatasetEcho {
    pub version: i64,
    pub name: String,
    pub department_id: i64,
    pub items: Vec<String>,
    pub card_data: bool,
    pub persons: String,
    pub purpose: String,
    pub source: String,
    pub storage_place: String,
    pub storage_method: String,
    pub access: String,
    pub use_until: String,
    pub retain_until: String,
    pub entrusted_to: String,
    pub entrusted_from: String,
    /// The discovery file this entry is proposed from (tied to it when saved); 0 for none.
    pub discovery_file: i64,
}

impl DatasetEcho {
    /// The ledger form prefilled from a proposal.
    fn of_input(d: &DatasetInput, discovery_file: i64) -> DatasetEcho {
        DatasetEcho {
            name: d.name.clone(),
            department_id: d.department_id,
            items: d.items.iter().map(|i| i.code().to_owned()).collect(),
            card_data: d.card_data,
            persons: d.persons.map(|n| n.to_string()).unwrap_or_default(),
            storage_place: d.storage_place.clone(),
            storage_method: d.storage_method.clone(),
            discovery_file,
            ..DatasetEcho::default()
        }
    }

    fn of_pairs(p: &Pairs) -> DatasetEcho {
        DatasetEcho {
            version: p.id("version").unwrap_or(0),
            name: p.get("name").to_owned(),
            department_id: p.id("department_id").unwrap_or(0),
            items: p.all("items"),
            card_data: p.flag("card_data"),
            persons: p.get("persons").to_owned(),
            purpose: p.get("purpose").to_owned(),
            source: p.get("source").to_owned(),
            storage_place: p.get("storage_place").to_owned(),
            storage_method: p.get("storage_method").to_owned(),
            access: p.get("access").to_owned(),
            use_until: p.get("use_until").to_owned(),
            retain_until: p.get("retain_until").to_owned(),
            entrusted_to: p.get("entrusted_to").to_owned(),
            entrusted_from: p.get("entrusted_from").to_owned(),
            discovery_file: p.id("discovery_file").unwrap_or(0),
        }
    }

    fn of_view(d: &DatasetView) -> DatasetEcho {
        let r = &d.row;
        DatasetEcho {
            version: r.version,
            name: r.name.clone(),
            department_id: r.department_id,
            items: d.items.iter().map(|i| i.code().to_owned()).collect(),
            card_data: r.card_data,
            persons: r.persons.map(|n| n.to_string()).unwrap_or_default(),
            purpose: r.purpose.clone(),
            source: r.source.clone(),
            storage_place: r.storage_place.clone(),
            storage_method: r.storage_method.clone(),
            access: r.access.clone(),
            use_until: r.use_until.clone().unwrap_or_default(),
            retain_until: r.retain_until.clone().unwrap_or_default(),
            entrusted_to: r.entrusted_to.clone(),
            entrusted_from: r.entrusted_from.clone(),
            discovery_file: 0,
        }
    }
}

/// The fields of the entry form in its order, with their labels.
pub(crate) const FORM_FIELDS: &[(&str, &str)] = &[
    ("name", "ledger.name"),
    ("department_id", "ledger.department"),
    ("persons", "ledger.persons"),
    ("card_data", "ledger.card_data"),
    ("items", "ledger.items"),
    ("purpose", "ledger.purpose"),
    ("source", "ledger.source"),
    ("access", "ledger.access"),
    ("storage_place", "ledger.storage_place"),
    ("storage_method", "ledger.storage_method"),
    ("use_until", "ledger.use_until"),
    ("retain_until", "ledger.retain_until"),
    ("entrusted_to", "ledger.entrusted_to"),
    ("entrusted_from", "ledger.entrusted_from"),
];

const IMPORT_FIELDS: &[(&str, &str)] = &[("file", "ledger.import.file")];
const REVIEW_FIELDS: &[(&str, &str)] = &[("comment", "ledger.review.comment")];

fn lerr(e: &LedgerError) -> AppError {
    AppError::invalid(e.field, e.ja.clone(), e.en.clone())
}

/// Reads the form into an entry; the use case checks it again. Every problem is named: what
/// cannot be read here, and what the entry's own check finds in the rest.
fn input_of(p: &Pairs) -> Result<DatasetInput, AppError> {
    let mut ps = Problems::new();
    let department_id = p.id("department_id").filter(|d| *d > 0);
    if department_id.is_none() {
        ps.push(Problem::new(
            Some("department_id"),
            "主管部門を選んでください",
            "choose the owning department",
        ));
    }
    let mut items = Vec::new();
    for code in p.all("items") {
        if let Ok(item) = code.parse::<Item>() {
            items.push(item);
        } else {
            ps.push(Problem::new(
                Some("items"),
                "項目の指定が正しくありません",
                "unknown item",
            ));
            break;
        }
    }
    let persons = ps
        .check(ledger::parse_persons(p.get("persons")).map_err(|e| lerr(&e)))?
        .flatten();
    let use_until = ps
        .check(ledger::parse_date_cell("use_until", p.get("use_until")).map_err(|e| lerr(&e)))?
        .flatten();
    let retain_until = ps
        .check(
            ledger::parse_date_cell("retain_until", p.get("retain_until")).map_err(|e| lerr(&e)),
        )?
        .flatten();
    let input = DatasetInput {
        name: p.get("name").to_owned(),
        department_id: department_id.unwrap_or(0),
        items,
        card_data: p.flag("card_data"),
        persons,
        purpose: p.get("purpose").to_owned(),
        source: p.get("source").to_owned(),
        storage_place: p.get("storage_place").to_owned(),
        storage_method: p.get("storage_method").to_owned(),
        access: p.get("access").to_owned(),
        use_until,
        retain_until,
        entrusted_to: p.get("entrusted_to").to_owned(),
        entrusted_from: p.get("entrusted_from").to_owned(),
    };
    if ps.is_empty() {
        return Ok(input);
    }
    // The rest of the entry is checked too, so that one submit names every problem.
    if let Err(rest) = input.check() {
        for e in rest {
            if let AppError::Invalid(p) = lerr(&e) {
                ps.push(p);
            }
        }
    }
    ps.done()?;
    Err(AppError::Internal("ledger form: a problem was lost".into()))
}

/// The departments whose entries the visitor keeps, indented as a tree.
async fn department_opts(s: &WebState, ctx: &Ctx, chosen: i64) -> Result<Vec<Opt>, AppError> {
    let scope = s.app.ledger_scope(ctx).await?;
    Ok(s.app
        .departments_for_report(ctx)
        .await?
        .into_iter()
        .filter(|(id, _)| scope.covers(*id))
        .map(|(id, label)| Opt {
            code: id.to_string(),
            label,
            selected: id == chosen,
        })
        .collect())
}

#[derive(Template)]
#[template(path = "ledger_form.html")]
pub struct NewEntryPage {
    pub c: Chrome,
    pub f: DatasetEcho,
    pub departments: Vec<Opt>,
    pub items: Vec<ItemOpt>,
    pub errs: FormErrors,
    pub action: String,
}

async fn new_page(s: &WebState, v: &Visitor, f: DatasetEcho, errs: FormErrors) -> WebResult {
    let ctx = v.ctx();
    let scope = s.app.ledger_scope(&ctx).await?;
    if !scope.can_edit || !ctx.allows(Permission::ManageLedger) {
        return Err(WebError(AppError::Denied));
    }
    let chosen = if f.department_id > 0 {
        f.department_id
    } else {
        v.full()?.user.department_id
    };
    render_status(
        errs.status(),
        &NewEntryPage {
            c: Chrome::new(v, "ledger.new.title"),
            departments: department_opts(s, &ctx, chosen).await?,
            items: item_opts(v, &f.items),
            f,
            errs,
            action: "/ledger".into(),
        },
    )
}

#[derive(Deserialize)]
pub struct NewEntryQuery {
    /// A file found by discovery to propose the entry from (an id, never a path).
    from_file: Option<i64>,
}

pub async fn new_entry_page(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Query(q): Query<NewEntryQuery>,
) -> WebResult {
    v.full()?;
    let f = match q.from_file {
        Some(file) => {
            let input = super::discovery::proposal(&s, &v, file).await?;
            DatasetEcho::of_input(&input, file)
        }
        None => DatasetEcho::default(),
    };
    new_page(&s, &v, f, FormErrors::none("ledger")).await
}

pub async fn create_entry(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> WebResult {
    v.full()?;
    let p = Pairs(pairs);
    let ctx = v.ctx();
    let result = match input_of(&p) {
        Ok(input) => s.app.create_dataset(&ctx, input).await,
        Err(e) => {
            // Form problems of somebody who may not keep the ledger at all are still a 403.
            s.app.ledger_scope(&ctx).await?;
            Err(e)
        }
    };
    match result {
        Ok(id) => {
            // Proposed from a file found by discovery: the file now belongs to this entry.
            if let Some(file) = p.id("discovery_file").filter(|f| *f > 0) {
                s.app.link_discovery_file(&ctx, file, Some(id)).await?;
            }
            Ok(Redirect::to(&format!("/ledger/{id}?saved=1")).into_response())
        }
        Err(e @ AppError::Invalid(_)) => {
            let errs = FormErrors::of(&v, "ledger", &e, FORM_FIELDS);
            new_page(&s, &v, DatasetEcho::of_pairs(&p), errs).await
        }
        Err(e) => Err(WebError(e)),
    }
}

// ───────────────────────────── one entry ─────────────────────────────

pub struct ReviewLine {
    pub at: String,
    pub by: String,
    pub comment: String,
    pub next_due: String,
}

#[derive(Template)]
#[template(path = "ledger_entry.html")]
pub struct EntryPage {
    pub c: Chrome,
    pub id: i64,
    pub name: String,
    pub summary: Vec<(String, String)>,
    pub sensitive: String,
    pub review_due: String,
    pub overdue: bool,
    pub reviewed: String,
    pub can_edit: bool,
    pub f: DatasetEcho,
    pub departments: Vec<Opt>,
    pub items: Vec<ItemOpt>,
    /// The problems of the form sent: `ledger` (the entry) or `review`.
    pub errs: FormErrors,
    pub action: String,
    pub comment: String,
    pub reviews: Vec<ReviewLine>,
    pub vault: bool,
    pub sf: Option<SchemaForm>,
    /// The contractors that handle the entry (issue 17, part 5).
    pub contractors: Vec<(i64, String)>,
}

#[derive(Debug, Default, Deserialize)]
pub struct EntryQuery {
    #[serde(default)]
    pub saved: Option<String>,
    #[serde(default)]
    pub reviewed: Option<String>,
    #[serde(default)]
    pub schema: Option<String>,
}

/// The entry page; `typed` is the edit form as submitted, `comment` the review comment.
async fn entry_page(
    s: &WebState,
    v: &Visitor,
    id: i64,
    typed: Option<DatasetEcho>,
    comment: String,
    errs: FormErrors,
    flash: Option<String>,
) -> WebResult {
    let ctx = v.ctx();
    let t = v.tr();
    let (view, reviews, can_edit) = s.app.dataset(&ctx, id).await?;
    let can_edit = can_edit && ctx.allows(Permission::ManageLedger);
    let r = &view.row;
    let yes_no = |b: bool| t.get(if b { "common.yes" } else { "common.no" }).to_owned();
    let or_dash = |x: &str| {
        if x.is_empty() {
            "-".to_owned()
        } else {
            x.to_owned()
        }
    };
    let row = row_of(v, &view);
    let summary = vec![
        (
            t.get("ledger.department").to_owned(),
            view.department.clone(),
        ),
        (t.get("ledger.items").to_owned(), row.items.clone()),
        (t.get("ledger.card").to_owned(), yes_no(r.card_data)),
        (t.get("ledger.persons").to_owned(), count(r.persons)),
        (t.get("ledger.purpose").to_owned(), r.purpose.clone()),
        (t.get("ledger.source").to_owned(), or_dash(&r.source)),
        (
            t.get("ledger.storage_place").to_owned(),
            or_dash(&r.storage_place),
        ),
        (
            t.get("ledger.storage_method").to_owned(),
            or_dash(&r.storage_method),
        ),
        (t.get("ledger.access").to_owned(), or_dash(&r.access)),
        (
            t.get("ledger.use_until").to_owned(),
            or_dash(r.use_until.as_deref().unwrap_or("")),
        ),
        (
            t.get("ledger.retain_until").to_owned(),
            or_dash(r.retain_until.as_deref().unwrap_or("")),
        ),
        (
            t.get("ledger.entrusted_to").to_owned(),
            or_dash(&r.entrusted_to),
        ),
        (
            t.get("ledger.entrusted_from").to_owned(),
            or_dash(&r.entrusted_from),
        ),
    ];
    let f = typed.unwrap_or_else(|| DatasetEcho::of_view(&view));
    let departments = if can_edit {
        department_opts(s, &ctx, f.department_id).await?
    } else {
        Vec::new()
    };
    let sf = if ctx.allows(Permission::ManageVault) {
        Some(schema_form(
            v.lang,
            id,
            r.version,
            r.vault_schema.as_deref(),
            r.retention.as_deref(),
            "ledger",
        ))
    } else {
        None
    };
    render_status(
        errs.status(),
        &EntryPage {
            c: Chrome::new(v, "ledger.entry.title").with_flash(flash),
            id,
            name: r.name.clone(),
            summary,
            sensitive: row.sensitive,
            review_due: r.review_due.clone(),
            overdue: view.overdue,
            reviewed: r.reviewed_at.map(jst).unwrap_or_default(),
            can_edit,
            items: item_opts(v, &f.items),
            f,
            departments,
            errs,
            action: format!("/ledger/{id}"),
            comment,
            reviews: reviews.iter().map(review_line).collect(),
            vault: r.vault_schema.is_some(),
            sf,
            contractors: s
                .app
                .dataset_contractors(&ctx, id)
                .await
                .unwrap_or_default(),
        },
    )
}

fn review_line(r: &ReviewRow) -> ReviewLine {
    ReviewLine {
        at: jst(r.reviewed_at),
        by: r.reviewer.clone(),
        comment: r.comment.clone(),
        next_due: r.next_due.clone(),
    }
}

pub async fn entry(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Path(id): Path<i64>,
    Query(q): Query<EntryQuery>,
) -> WebResult {
    v.full()?;
    let t = v.tr();
    let flash = if q.saved.is_some() {
        Some(t.get("ledger.flash.saved").to_owned())
    } else if q.reviewed.is_some() {
        Some(t.get("ledger.flash.reviewed").to_owned())
    } else {
        q.schema
            .as_ref()
            .map(|_| t.get("vault.schema.saved").to_owned())
    };
    entry_page(
        &s,
        &v,
        id,
        None,
        String::new(),
        FormErrors::none("ledger"),
        flash,
    )
    .await
}

pub async fn update_entry(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> WebResult {
    v.full()?;
    let p = Pairs(pairs);
    let ctx = v.ctx();
    let result = match input_of(&p) {
        Ok(input) => {
            s.app
                .update_dataset(&ctx, id, p.id("version").unwrap_or(0), input)
                .await
        }
        Err(e) => {
            // 403/404 before a form problem.
            let (_, _, can_edit) = s.app.dataset(&ctx, id).await?;
            if !can_edit || !ctx.allows(Permission::ManageLedger) {
                return Err(WebError(AppError::Denied));
            }
            Err(e)
        }
    };
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/ledger/{id}?saved=1")).into_response()),
        Err(e @ AppError::Invalid(_)) => {
            let errs = FormErrors::of(&v, "ledger", &e, FORM_FIELDS);
            entry_page(
                &s,
                &v,
                id,
                Some(DatasetEcho::of_pairs(&p)),
                String::new(),
                errs,
                None,
            )
            .await
        }
        Err(e) => Err(WebError(e)),
    }
}

pub async fn review_entry(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> WebResult {
    v.full()?;
    let p = Pairs(pairs);
    match s.app.review_dataset(&v.ctx(), id, p.get("comment")).await {
        Ok(()) => Ok(Redirect::to(&format!("/ledger/{id}?reviewed=1#reviews")).into_response()),
        Err(e @ AppError::Invalid(_)) => {
            let errs = FormErrors::of(&v, "review", &e, REVIEW_FIELDS);
            entry_page(&s, &v, id, None, p.get("comment").to_owned(), errs, None).await
        }
        Err(e) => Err(WebError(e)),
    }
}
