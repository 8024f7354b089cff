//! Use cases of the ledger (個人情報管理台帳): keep entries, review them yearly, export and
//! import them as CSV for Excel (UTF-8 with BOM or CP932), totals, and the review reminders.
//!
//! Privacy office and CISO keep every entry of their company; a department head keeps the
//! entries of the own department and the departments below it, and sees only those; executives
//! and auditors read everything. Every read and change is in the audit log.

use crate::{App, AppError, Ctx, Principal};
use mamori_domain::appi::item::Item;
use mamori_domain::audit::Outcome;
use mamori_domain::incident::jst_date;
use mamori_domain::ledger::{self, DatasetInput, LedgerError, Totals, TotalsRow};
use mamori_domain::org::{ancestors, DeptNode};
use mamori_domain::role::{Permission, Role};
use mamori_store::ledger::{DatasetFields, DatasetRow, ReviewRow};
use serde_json::json;

/// Which ledger entries a person may see and keep.
#[derive(Debug, Clone)]
pub struct LedgerScope {
    pub company_id: i64,
    /// `None`: every department of the company; `Some`: only these.
    pub departments: Option<Vec<i64>>,
    pub can_edit: bool,
}

impl LedgerScope {
    pub fn covers(&self, dept: i64) -> bool {
        self.departments.as_ref().is_none_or(|d| d.contains(&dept))
    }
}

/// A ledger entry with what the pages show beside it.
#[derive(Debug, Clone)]
pub struct DatasetView {
    pub row: DatasetRow,
    pub department: String,
    pub items: Vec<Item>,
    pub overdue: bool,
}

impl DatasetView {
    pub fn items_text(&self) -> String {
        ledger::items_text(&self.items)
    }
    pub fn sensitive_text(&self) -> String {
        ledger::items_text(
            &self
                .items
                .iter()
                .copied()
                .filter(|i| i.is_sensitive())
                .collect::<Vec<_>>(),
        )
    }
}

/// The ledger page: entries and totals.
#[derive(Debug, Clone)]
pub struct LedgerOverview {
    pub entries: Vec<DatasetView>,
    pub totals: Totals,
    pub can_edit: bool,
}

/// The result of a CSV import of the ledger.
#[derive(Debug, Clone, Default)]
pub struct LedgerImport {
    pub created: usize,
    pub updated: usize,
    /// (CSV line, problem) for rows not taken.
    pub rejected: Vec<(usize, String)>,
}

fn problem(e: &LedgerError) -> AppError {
    AppError::invalid(e.field, e.ja.clone(), e.en.clone())
}

/// Every problem of an entry as one `Invalid` (the first, with the others in `more`).
fn problems(all: Vec<LedgerError>) -> AppError {
    let mut ps = crate::Problems::new();
    for e in all {
        if let AppError::Invalid(p) = problem(&e) {
            ps.push(p);
        }
    }
    ps.done()
        .err()
        .unwrap_or_else(|| AppError::Internal("no problem".into()))
}

pub fn parse_items_json(s: &str) -> Vec<Item> {
    serde_json::from_str::<Vec<String>>(s)
        .unwrap_or_default()
        .iter()
        .filter_map(|c| c.parse().ok())
        .collect()
}

fn items_json(items: &[Item]) -> String {
    serde_json::to_string(&items.iter().map(|i| i.code()).collect::<Vec<_>>())
        .expect("codes serialise")
}

impl App {
    /// Which entries the caller may see (and whether they may keep them).
    pub async fn ledger_scope(&self, ctx: &Ctx) -> Result<LedgerScope, AppError> {
        let Principal::User(u) = &ctx.principal else {
            return Err(AppError::Denied);
        };
        if !ctx.allows(Permission::ViewLedger) {
            return Err(self.denied(ctx, "ledger.view", "ledger").await);
        }
        let whole = [
            Role::PrivacyOffice,
            Role::Ciso,
            Role::Executive,
            Role::Auditor,
        ]
        .iter()
        .any(|r| u.roles.contains(*r));
        let can_edit_all = u.roles.contains(Role::PrivacyOffice) || u.roles.contains(Role::Ciso);
        if whole {
            return Ok(LedgerScope {
                company_id: u.company_id,
                departments: None,
                can_edit: can_edit_all,
            });
        }
        // A department head: the own department and everything below it.
        let below = self
            .departments_below(u.company_id, u.department_id)
            .await?;
        Ok(LedgerScope {
            company_id: u.company_id,
            departments: Some(below),
            can_edit: true,
        })
    }

    /// A department and every department below it (a department head's reach).
    pub(crate) async fn departments_below(
        &self,
        company_id: i64,
        department_id: i64,
    ) -> Result<Vec<i64>, AppError> {
        let nodes: Vec<DeptNode> = self
            .store
            .list_departments(company_id)
            .await?
            .iter()
            .map(|d| DeptNode {
                id: d.id,
                parent_id: d.parent_id,
            })
            .collect();
        Ok(nodes
            .iter()
            .filter(|n| ancestors(&nodes, n.id).contains(&department_id))
            .map(|n| n.id)
            .collect())
    }

    async fn dept_names(&self, company_id: i64) -> Result<Vec<(i64, String)>, AppError> {
        Ok(self
            .store
            .list_departments(company_id)
            .await?
            .into_iter()
            .map(|d| (d.id, d.name))
            .collect())
    }

    fn view(&self, row: DatasetRow, depts: &[(i64, String)]) -> DatasetView {
        let today = jst_date(self.clock.now_micros()).to_string();
        DatasetView {
            department: depts
                .iter()
                .find(|(id, _)| *id == row.department_id)
                .map(|(_, n)| n.clone())
                .unwrap_or_default(),
            items: parse_items_json(&row.items),
            overdue: row.review_due < today,
            row,
        }
    }

    /// The ledger the caller may see, with totals per department and item.
    pub async fn ledger(&self, ctx: &Ctx) -> Result<LedgerOverview, AppError> {
        let scope = self.ledger_scope(ctx).await?;
        let depts = self.dept_names(scope.company_id).await?;
        let entries: Vec<DatasetView> = self
            .store
            .list_datasets(scope.company_id)
            .await?
            .into_iter()
            .filter(|d| scope.covers(d.department_id))
            .map(|d| self.view(d, &depts))
            .collect();
        let rows: Vec<TotalsRow<'_>> = entries
            .iter()
            .map(|e| TotalsRow {
                department: &e.department,
                items: &e.items,
                persons: e.row.persons,
                card_data: e.row.card_data,
            })
            .collect();
        let totals = ledger::totals(&rows);
        self.audit(
            ctx,
            "ledger.list",
            "ledger",
            Outcome::Success,
            json!({"rows": entries.len()}),
        )
        .await?;
        Ok(LedgerOverview {
            entries,
            totals,
            can_edit: scope.can_edit,
        })
    }

    /// One entry (404 for entries outside the caller's scope), with its reviews.
    pub async fn dataset(
        &self,
        ctx: &Ctx,
        id: i64,
    ) -> Result<(DatasetView, Vec<ReviewRow>, bool), AppError> {
        let scope = self.ledger_scope(ctx).await?;
        let target = format!("dataset:{id}");
        let row = match self.store.get_dataset(id).await {
            Ok(r) if r.company_id == scope.company_id && scope.covers(r.department_id) => r,
            Ok(_) | Err(mamori_store::StoreError::NotFound) => {
                self.audit(ctx, "ledger.view", &target, Outcome::Denied, json!({}))
                    .await?;
                return Err(AppError::NotFound);
            }
            Err(e) => return Err(e.into()),
        };
        let depts = self.dept_names(scope.company_id).await?;
        let reviews = self.store.dataset_reviews(id).await?;
        self.audit(ctx, "ledger.view", &target, Outcome::Success, json!({}))
            .await?;
        Ok((self.view(row, &depts), reviews, scope.can_edit))
    }

    async fn check_edit(
        &self,
        ctx: &Ctx,
        dept: i64,
        action: &str,
        target: &str,
    ) -> Result<i64, AppError> {
        if matches!(ctx.principal, Principal::Local) {
            let d = self.store.get_department(dept).await.map_err(|_| {
                AppError::invalid(
                    "department_id",
                    "部署が見つかりません",
                    "no such department",
                )
            })?;
            return Ok(d.company_id);
        }
        let scope = self.ledger_scope(ctx).await?;
        if !ctx.allows(Permission::ManageLedger) || !scope.can_edit {
            return Err(self.denied(ctx, action, target).await);
        }
        let d = self.store.get_department(dept).await.ok();
        match d {
            Some(d) if d.company_id == scope.company_id && scope.covers(d.id) => Ok(d.company_id),
            Some(d) if d.company_id == scope.company_id => Err(AppError::invalid(
                "department_id",
                "自分の部門（とその下の部門）の台帳だけを登録・変更できます",
                "you may keep the entries of your own department (and those below it) only",
            )),
            _ => Err(AppError::invalid(
                "department_id",
                "部署が見つかりません",
                "no such department",
            )),
        }
    }

    /// Adds a ledger entry. The first review is due a year from today.
    pub async fn create_dataset(&self, ctx: &Ctx, input: DatasetInput) -> Result<i64, AppError> {
        let company_id = self
            .check_edit(ctx, input.department_id, "ledger.create", "ledger")
            .await?;
        let e = input.check().map_err(problems)?;
        let now = self.clock.now_micros();
        let due = ledger::review_due(jst_date(now)).to_string();
        let items = items_json(&e.items);
        let (use_until, retain_until) = (
            e.use_until.map(|d| d.to_string()),
            e.retain_until.map(|d| d.to_string()),
        );
        let id = self
            .store
            .create_dataset(
                company_id,
                &fields(&e, &items, use_until.as_deref(), retain_until.as_deref()),
                &due,
                ctx.actor_id(),
                now,
            )
            .await?;
        self.audit(
            ctx,
            "ledger.create",
            &format!("dataset:{id}"),
            Outcome::Success,
            json!({"items": e.items.iter().map(|i| i.code()).collect::<Vec<_>>()}),
        )
        .await?;
        Ok(id)
    }

    /// Changes a ledger entry that is still at `version`.
    pub async fn update_dataset(
        &self,
        ctx: &Ctx,
        id: i64,
        version: i64,
        input: DatasetInput,
    ) -> Result<(), AppError> {
        let target = format!("dataset:{id}");
        let old = self.store.get_dataset(id).await?;
        // Both the old and the new department must be the caller's to keep.
        self.check_edit(ctx, old.department_id, "ledger.update", &target)
            .await?;
        let company_id = self
            .check_edit(ctx, input.department_id, "ledger.update", &target)
            .await?;
        if company_id != old.company_id {
            return Err(AppError::NotFound);
        }
        let mut e = input.check().map_err(problems)?;
        // Items the vault schema holds stay on the entry.
        if let Some(schema) = old
            .vault_schema
            .as_deref()
            .and_then(|s| serde_json::from_str::<mamori_domain::vault::Schema>(s).ok())
        {
            e.items.extend(schema.items());
            e.items.sort();
            e.items.dedup();
        }
        let items = items_json(&e.items);
        let (use_until, retain_until) = (
            e.use_until.map(|d| d.to_string()),
            e.retain_until.map(|d| d.to_string()),
        );
        self.store
            .update_dataset(
                id,
                version,
                &fields(&e, &items, use_until.as_deref(), retain_until.as_deref()),
                self.clock.now_micros(),
            )
            .await?;
        self.audit(ctx, "ledger.update", &target, Outcome::Success, json!({}))
            .await?;
        Ok(())
    }

    /// Records the yearly review; the next is due a year from today.
    pub async fn review_dataset(&self, ctx: &Ctx, id: i64, comment: &str) -> Result<(), AppError> {
        let target = format!("dataset:{id}");
        let row = self.store.get_dataset(id).await?;
        self.check_edit(ctx, row.department_id, "ledger.review", &target)
            .await?;
        let by = ctx.actor_id().ok_or(AppError::Denied)?;
        let comment = comment.trim();
        if comment.chars().count() > 2000 {
            return Err(AppError::invalid(
                "comment",
                "コメントは2000文字以内にしてください",
                "the comment is longer than 2,000 characters",
            ));
        }
        let now = self.clock.now_micros();
        let next = ledger::review_due(jst_date(now)).to_string();
        self.store
            .review_dataset(id, by, comment, &next, now)
            .await?;
        self.audit(
            ctx,
            "ledger.review",
            &target,
            Outcome::Success,
            json!({"next_due": next}),
        )
        .await?;
        Ok(())
    }

    /// The ledger as CSV for Excel: UTF-8 with a BOM, or CP932 (`cp932 = true`).
    pub async fn export_ledger(&self, ctx: &Ctx, cp932: bool) -> Result<Vec<u8>, AppError> {
        let overview = self.ledger(ctx).await?;
        let mut w = mamori_detect::csv_out::CsvOut::new();
        w.record(ledger::CSV_HEADERS);
        for e in &overview.entries {
            let r = &e.row;
            let yes_no = |b: bool| if b { "あり" } else { "なし" };
            let reviewed = r
                .reviewed_at
                .map(|t| jst_date(t).to_string())
                .unwrap_or_default();
            w.record([
                r.name.as_str(),
                &e.department,
                &e.items_text(),
                yes_no(e.items.iter().any(|i| i.is_sensitive())),
                yes_no(r.card_data),
                &r.persons.map(|n| n.to_string()).unwrap_or_default(),
                &r.purpose,
                &r.source,
                &r.storage_place,
                &r.storage_method,
                &r.access,
                r.use_until.as_deref().unwrap_or(""),
                r.retain_until.as_deref().unwrap_or(""),
                &r.entrusted_to,
                &r.entrusted_from,
                &reviewed,
                &r.review_due,
            ]);
        }
        self.audit(
            ctx,
            "ledger.export",
            "ledger",
            Outcome::Success,
            json!({"rows": overview.entries.len(), "encoding": if cp932 { "cp932" } else { "utf-8" }}),
        )
        .await?;
        Ok(w.finish(if cp932 {
            mamori_detect::csv_out::Encoding::Cp932
        } else {
            mamori_detect::csv_out::Encoding::Utf8Bom
        }))
    }

    /// Reads a ledger CSV (any encoding the scanner reads; columns found by their Japanese
    /// headers) and creates or updates entries by name. A row with a problem is reported with
    /// its line and the column; the other rows are taken.
    pub async fn import_ledger(&self, ctx: &Ctx, bytes: &[u8]) -> Result<LedgerImport, AppError> {
        let company_id = match ctx.user_ref() {
            Some(u) => u.company_id,
            None => self
                .store
                .list_companies()
                .await?
                .first()
                .map(|c| c.id)
                .ok_or(AppError::NotFound)?,
        };
        let text = crate::vault_import::decode_text(bytes)?;
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(true)
            .from_reader(text.as_bytes());
        let headers: Vec<String> = rdr
            .headers()
            .map_err(|e| {
                AppError::invalid(
                    "file",
                    format!("CSVを読めません: {e}"),
                    format!("cannot read the CSV: {e}"),
                )
            })?
            .iter()
            .map(|h| mamori_detect::csv_out::from_excel_cell(h).trim().to_owned())
            .collect();
        let col = |name: &str| headers.iter().position(|h| h == name);
        let Some(name_col) = col("台帳名") else {
            return Err(AppError::invalid(
                "file",
                "見出し行に「台帳名」の列がありません（台帳のCSV出力と同じ見出しにしてください）",
                "the header row has no 台帳名 column (use the headers of the ledger export)",
            ));
        };
        let depts = self.dept_names(company_id).await?;
        let mut out = LedgerImport::default();
        for (i, rec) in rdr.records().enumerate() {
            let line = i + 2;
            let rec = match rec {
                Ok(r) => r,
                Err(e) => {
                    out.rejected
                        .push((line, format!("CSVの行を読めません: {e}")));
                    continue;
                }
            };
            // Cells as the export wrote them for Excel: the formula guard comes off first.
            let cell = |name: &str| {
                col(name)
                    .and_then(|c| rec.get(c))
                    .map_or("", mamori_detect::csv_out::from_excel_cell)
                    .trim()
            };
            let parsed = (|| -> Result<DatasetInput, LedgerError> {
                let dept_name = cell("主管部門");
                let department_id = depts
                    .iter()
                    .find(|(_, n)| n == dept_name)
                    .map(|(id, _)| *id)
                    .ok_or_else(|| {
                        let name = dept_name.chars().take(40).collect::<String>();
                        LedgerError::new(
                            "department_id",
                            format!("主管部門「{name}」が見つかりません"),
                            format!("no such department `{name}`"),
                        )
                    })?;
                DatasetInput {
                    name: rec
                        .get(name_col)
                        .map_or("", mamori_detect::csv_out::from_excel_cell)
                        .to_owned(),
                    department_id,
                    items: ledger::parse_items(cell("項目"))?,
                    card_data: ledger::parse_flag(cell("カード情報")).ok_or_else(|| {
                        LedgerError::new(
                            "card_data",
                            "「あり」か「なし」で入力してください",
                            "yes or no",
                        )
                    })?,
                    persons: ledger::parse_persons(cell("本人の数"))?,
                    purpose: cell("利用目的").to_owned(),
                    source: cell("取得元").to_owned(),
                    storage_place: cell("保管場所").to_owned(),
                    storage_method: cell("保管方法").to_owned(),
                    access: cell("アクセスできる者").to_owned(),
                    use_until: ledger::parse_date_cell("use_until", cell("利用期限"))?,
                    retain_until: ledger::parse_date_cell("retain_until", cell("保管期限"))?,
                    entrusted_to: cell("委託先").to_owned(),
                    entrusted_from: cell("委託元").to_owned(),
                }
                .validate()
            })();
            let input = match parsed {
                Ok(p) => p,
                Err(e) => {
                    out.rejected.push((line, e.to_string()));
                    continue;
                }
            };
            let result = match self.store.dataset_by_name(company_id, &input.name).await {
                Ok(existing) => self
                    .update_dataset(ctx, existing.id, existing.version, input)
                    .await
                    .map(|()| false),
                Err(mamori_store::StoreError::NotFound) => {
                    self.create_dataset(ctx, input).await.map(|_| true)
                }
                Err(e) => return Err(e.into()),
            };
            match result {
                Ok(true) => out.created += 1,
                Ok(false) => out.updated += 1,
                Err(AppError::Invalid(p)) => out.rejected.push((line, p.ja)),
                Err(AppError::Denied) => out
                    .rejected
                    .push((line, "この部門の台帳を変更する権限がありません".into())),
                Err(e) => return Err(e),
            }
        }
        self.audit(
            ctx,
            "ledger.import",
            "ledger",
            Outcome::Success,
            json!({"created": out.created, "updated": out.updated, "rejected": out.rejected.len()}),
        )
        .await?;
        Ok(out)
    }

    /// Mails the heads of the owning department (or the privacy office when it has none) 30
    /// and 7 days before a review is due and weekly once it is missed; once per key.
    pub async fn send_ledger_reminders(&self) -> Result<usize, AppError> {
        let now = self.clock.now_micros();
        let today = jst_date(now);
        let mut sent = 0;
        for d in self.store.all_datasets().await? {
            let Ok(due) = d.review_due.parse::<chrono::NaiveDate>() else {
                continue;
            };
            let Some(reminder) = ledger::review_reminder(due, today) else {
                continue;
            };
            let key = reminder.key(d.id, due);
            if !self.store.mark_reminder("ledger", &key, now).await? {
                continue;
            }
            let users = self.store.list_users(Some(d.company_id)).await?;
            let mut to: Vec<_> = users
                .iter()
                .filter(|u| {
                    !u.disabled
                        && u.roles.contains(Role::DepartmentHead)
                        && u.department_id == d.department_id
                })
                .collect();
            if to.is_empty() {
                to = users
                    .iter()
                    .filter(|u| !u.disabled && u.roles.contains(Role::PrivacyOffice))
                    .collect();
            }
            let when = match reminder {
                ledger::ReviewReminder::Before(n) => format!("見直し期限まであと{n}日です"),
                ledger::ReviewReminder::Overdue(n) => format!("見直し期限を{n}日過ぎています"),
            };
            let subject = format!("【個人情報管理台帳】「{}」の年次見直し: {when}", d.name);
            let body = format!(
                "個人情報管理台帳の「{}」は {} までに年次見直しが必要です。\n{}\n\n{}/ledger/{}\n",
                d.name, d.review_due, when, self.settings.public_url, d.id
            );
            for u in to {
                self.queue_plain_mail(d.company_id, &u.email, &subject, &body)
                    .await?;
                sent += 1;
            }
        }
        Ok(sent)
    }
}

fn fields<'a>(
    e: &'a DatasetInput,
    items: &'a str,
    use_until: Option<&'a str>,
    retain_until: Option<&'a str>,
) -> DatasetFields<'a> {
    DatasetFields {
        department_id: e.department_id,
        name: &e.name,
        items,
        card_data: e.card_data,
        persons: e.persons,
        purpose: &e.purpose,
        source: &e.source,
        storage_place: &e.storage_place,
        storage_method: &e.storage_method,
        access: &e.access,
        use_until,
        retain_until,
        entrusted_to: &e.entrusted_to,
        entrusted_from: &e.entrusted_from,
    }
}
