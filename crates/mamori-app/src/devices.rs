//! The device and media register (issue 17, part 3): laptops, phones, USB media and other
//! media of a company, with their owner or lending pool, encryption and remote-wipe status and
//! state; the lending of a pool's devices with a due day, the history of lendings, reminders of
//! overdue returns (to the borrower and the head of the borrower's department, once per person
//! and JST day); the import of a register CSV an IT department already keeps (UTF-8 or
//! CP932, Japanese or English headers) with a preview that lists every problem with its line
//! and column, and the export for Excel.
//!
//! Who may do what: the privacy office (`RunProgramme`) keeps the register; a department head
//! lends and takes back the devices of their departments; executives and auditors read the
//! whole register; everybody else sees the devices they hold.

use crate::programme::ProgrammeScope;
use crate::{App, AppError, Ctx, Problem, Problems};
use mamori_domain::audit::Outcome;
use mamori_domain::incident::jst_date;
use mamori_domain::programme::devices::{
    self as dev, Column, DeviceKind, DeviceState, HeaderMap, Tri,
};
use mamori_domain::role::{Permission, Role};
use mamori_store::devices::{DeviceFields, DeviceRow, ImportWrite, LoanRow, NewLoan};
use mamori_store::users::User;
use serde_json::json;
use std::collections::{HashMap, HashSet};

/// Devices shown on one page of the register.
pub const PAGE_SIZE: usize = 50;
/// The largest register CSV read (a register of thousands of devices is well under this).
pub const MAX_IMPORT_BYTES: usize = 5 << 20;
/// The periodic task that reminds overdue returns of lent devices.
pub const LOAN_REMINDER_TASK: &str = "devices.loan_reminders";

/// A device as a form sends it: codes and text as typed.
#[derive(Debug, Clone, Default)]
pub struct DeviceInput {
    pub asset_tag: String,
    pub kind: String,
    pub model: String,
    pub serial: String,
    pub department_id: i64,
    /// The owner's login name; empty: nobody (a pool device, or one in stock).
    pub owner: String,
    pub pool: bool,
    pub encryption: String,
    pub remote_wipe: String,
    pub state: String,
    pub note: String,
}

/// What the register list is narrowed to.
#[derive(Debug, Clone, Default)]
pub struct DeviceFilter {
    pub department_id: Option<i64>,
    pub kind: Option<String>,
    pub state: Option<String>,
    /// Part of an asset tag, model or serial, or the holder's name or login.
    pub q: String,
    /// Only lent devices past their due day.
    pub overdue: bool,
    /// From 1.
    pub page: usize,
}

/// One device in the list.
#[derive(Debug, Clone)]
pub struct DeviceLine {
    pub row: DeviceRow,
    pub department: String,
    /// Who holds it: the borrower of an open lending, else the owner; empty for the pool.
    pub holder: String,
    pub due_on: Option<String>,
    pub overdue_days: i64,
}

#[derive(Debug, Clone, Default)]
pub struct DeviceTotals {
    pub devices: usize,
    pub laptops: usize,
    pub lent: usize,
    pub overdue: usize,
    /// Laptops, phones and USB media whose disk is not (known to be) encrypted.
    pub unencrypted: usize,
}

#[derive(Debug, Clone)]
pub struct DeviceList {
    pub lines: Vec<DeviceLine>,
    /// Devices matching the filter (all pages).
    pub matching: usize,
    pub page: usize,
    pub pages: usize,
    pub totals: DeviceTotals,
    /// The departments the person may filter by.
    pub departments: Vec<(i64, String)>,
    pub can_manage: bool,
    /// Whether the person sees more than the own devices.
    pub sees_register: bool,
}

#[derive(Debug, Clone)]
pub struct LoanLine {
    pub row: LoanRow,
    pub borrower: String,
    pub overdue_days: i64,
}

#[derive(Debug, Clone)]
pub struct DeviceView {
    pub row: DeviceRow,
    pub department: String,
    pub owner_login: String,
    pub owner_name: String,
    pub open_loan: Option<LoanLine>,
    pub loans: Vec<LoanLine>,
    pub can_manage: bool,
    pub can_lend: bool,
    /// The departments a device may be moved to (for the edit form).
    pub departments: Vec<(i64, String)>,
}

/// A problem of an imported row, with where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowProblem {
    pub line: u64,
    /// The header of the column as the file has it (empty for the whole row).
    pub column: String,
    /// The column mamori read it as (`None`: the whole row).
    pub col: Option<Column>,
    pub ja: String,
    pub en: String,
}

/// A row that would be added or changed.
#[derive(Debug, Clone)]
pub struct PreviewRow {
    pub line: u64,
    pub fields: DeviceFields,
    pub department: String,
    pub owner: String,
    /// For a change: the columns whose value changes (the file's headers).
    pub changes: Vec<String>,
    /// The same columns as mamori reads them.
    pub changed: Vec<Column>,
    existing: Option<i64>,
}

/// What an import would do.
#[derive(Debug, Clone)]
pub struct ImportPreview {
    pub id: i64,
    pub file_name: String,
    pub adds: Vec<PreviewRow>,
    pub updates: Vec<PreviewRow>,
    pub unchanged: usize,
    pub problems: Vec<RowProblem>,
    /// Headers of the file that mamori does not read.
    pub ignored: Vec<String>,
    pub applied: bool,
}

impl ImportPreview {
    /// Lines with at least one problem.
    pub fn bad_lines(&self) -> usize {
        self.problems
            .iter()
            .map(|p| p.line)
            .collect::<HashSet<_>>()
            .len()
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportDone {
    pub added: usize,
    pub updated: usize,
    pub skipped_lines: usize,
}

/// The words of a code in a register CSV (Japanese, as Excel users keep it; the import reads
/// them back).
pub fn kind_ja(k: DeviceKind) -> &'static str {
    match k {
        DeviceKind::Laptop => "ノートPC",
        DeviceKind::Phone => "スマートフォン",
        DeviceKind::Usb => "USBメモリ",
        DeviceKind::OtherMedia => "その他の媒体",
    }
}

pub fn tri_ja(t: Tri) -> &'static str {
    match t {
        Tri::Yes => "あり",
        Tri::No => "なし",
        Tri::Unknown => "不明",
    }
}

pub fn state_ja(s: DeviceState) -> &'static str {
    match s {
        DeviceState::InUse => "使用中",
        DeviceState::InStock => "在庫",
        DeviceState::Lent => "貸出中",
        DeviceState::Lost => "紛失",
        DeviceState::Retired => "廃棄",
    }
}

fn bad(field: &'static str, ja: impl Into<String>, en: impl Into<String>) -> AppError {
    AppError::invalid(field, ja, en)
}

/// People of a company by id and by login.
struct People {
    users: Vec<User>,
}

impl People {
    fn name(&self, id: i64) -> String {
        self.users
            .iter()
            .find(|u| u.id == id)
            .map_or_else(|| format!("#{id}"), |u| u.display_name.clone())
    }

    fn login(&self, id: i64) -> String {
        self.users
            .iter()
            .find(|u| u.id == id)
            .map_or_else(String::new, |u| u.login.clone())
    }

    /// A person by login name or e-mail address (as a register names them).
    fn find(&self, text: &str) -> Option<&User> {
        let t = mamori_domain::vault::normalize::nfkc(text.trim()).to_lowercase();
        self.users
            .iter()
            .find(|u| u.login == t || u.email.to_lowercase() == t)
    }
}

impl App {
    async fn people(&self, company_id: i64) -> Result<People, AppError> {
        Ok(People {
            users: self.store.list_users(Some(company_id)).await?,
        })
    }

    pub(crate) async fn dept_list(&self, company_id: i64) -> Result<Vec<(i64, String)>, AppError> {
        Ok(self
            .store
            .list_departments(company_id)
            .await?
            .into_iter()
            .map(|d| (d.id, d.name))
            .collect())
    }

    /// The heads of `department_id`, or of the nearest department above it that has one; the
    /// privacy office when no department up the tree has a head.
    pub(crate) async fn heads_above(
        &self,
        company_id: i64,
        department_id: i64,
    ) -> Result<Vec<User>, AppError> {
        let depts = self.store.list_departments(company_id).await?;
        let users = self.store.list_users(Some(company_id)).await?;
        let mut at = Some(department_id);
        let mut seen = HashSet::new();
        while let Some(d) = at {
            if !seen.insert(d) {
                break;
            }
            let heads: Vec<User> = users
                .iter()
                .filter(|u| {
                    !u.disabled && u.department_id == d && u.roles.contains(Role::DepartmentHead)
                })
                .cloned()
                .collect();
            if !heads.is_empty() {
                return Ok(heads);
            }
            at = depts.iter().find(|x| x.id == d).and_then(|x| x.parent_id);
        }
        Ok(users
            .into_iter()
            .filter(|u| !u.disabled && u.roles.contains(Role::PrivacyOffice))
            .collect())
    }

    /// Whether the person may lend and take back devices of `department_id`.
    fn may_lend(ctx: &Ctx, scope: &ProgrammeScope, department_id: i64) -> bool {
        scope.runs
            || (ctx.allows(Permission::ApproveTakeouts)
                && scope.departments.is_some()
                && scope.sees_department(department_id))
    }

    /// The register, filtered and one page of it.
    pub async fn devices(&self, ctx: &Ctx, f: &DeviceFilter) -> Result<DeviceList, AppError> {
        let scope = self.programme_scope(ctx).await?;
        let sees_register = scope.sees_figures() && ctx.allows(Permission::ViewProgramme);
        let today = jst_date(self.clock.now_micros());
        let rows = self
            .store
            .list_devices(
                scope.company_id,
                f.department_id,
                f.kind
                    .as_deref()
                    .filter(|k| DeviceKind::from_code(k).is_some()),
                f.state
                    .as_deref()
                    .filter(|s| DeviceState::from_code(s).is_some()),
            )
            .await?;
        let loans: HashMap<i64, LoanRow> = self
            .store
            .open_loans(Some(scope.company_id))
            .await?
            .into_iter()
            .map(|l| (l.device_id, l))
            .collect();
        let people = self.people(scope.company_id).await?;
        let depts = self.dept_list(scope.company_id).await?;
        let dept_name = |id: i64| {
            depts
                .iter()
                .find(|(d, _)| *d == id)
                .map_or_else(String::new, |(_, n)| n.clone())
        };
        let q = mamori_domain::vault::normalize::nfkc(f.q.trim()).to_lowercase();
        let mut totals = DeviceTotals::default();
        let mut lines = Vec::new();
        for row in rows {
            let loan = loans.get(&row.id);
            let mine = row.owner_user_id == Some(scope.user_id)
                || loan.is_some_and(|l| l.borrower_id == scope.user_id);
            let visible = if sees_register {
                scope.sees_department(row.department_id)
            } else {
                mine
            };
            if !visible {
                continue;
            }
            let overdue_days = loan.map_or(0, |l| {
                l.due_on
                    .parse()
                    .map_or(0, |due| dev::days_overdue(due, today))
            });
            let holder_id = loan.map(|l| l.borrower_id).or(row.owner_user_id);
            let holder = holder_id.map_or_else(String::new, |id| people.name(id));
            totals.devices += 1;
            if row.kind == "laptop" {
                totals.laptops += 1;
            }
            if loan.is_some() {
                totals.lent += 1;
            }
            if overdue_days > 0 {
                totals.overdue += 1;
            }
            if row.encryption != "yes"
                && row.kind != "media"
                && !matches!(row.state.as_str(), "retired" | "lost")
            {
                totals.unencrypted += 1;
            }
            if f.overdue && overdue_days == 0 {
                continue;
            }
            if !q.is_empty() {
                let hay = format!(
                    "{}\n{}\n{}\n{}\n{}",
                    row.asset_tag,
                    row.model,
                    row.serial,
                    holder,
                    holder_id.map(|id| people.login(id)).unwrap_or_default()
                );
                if !mamori_domain::vault::normalize::nfkc(&hay)
                    .to_lowercase()
                    .contains(&q)
                {
                    continue;
                }
            }
            lines.push(DeviceLine {
                department: dept_name(row.department_id),
                due_on: loan.map(|l| l.due_on.clone()),
                holder,
                overdue_days,
                row,
            });
        }
        let matching = lines.len();
        let pages = matching.div_ceil(PAGE_SIZE).max(1);
        let page = f.page.clamp(1, pages);
        let lines: Vec<DeviceLine> = lines
            .into_iter()
            .skip((page - 1) * PAGE_SIZE)
            .take(PAGE_SIZE)
            .collect();
        let departments = depts
            .into_iter()
            .filter(|(id, _)| sees_register && scope.sees_department(*id))
            .collect();
        Ok(DeviceList {
            lines,
            matching,
            page,
            pages,
            totals,
            departments,
            can_manage: scope.runs,
            sees_register,
        })
    }

    /// One device with its lendings. The holder of a device sees it; a department head the
    /// devices of their departments; readers of the programme every device of their company.
    pub async fn device(&self, ctx: &Ctx, id: i64) -> Result<DeviceView, AppError> {
        let scope = self.programme_scope(ctx).await?;
        let row = self.store.device(id).await?;
        if row.company_id != scope.company_id {
            return Err(AppError::NotFound);
        }
        let today = jst_date(self.clock.now_micros());
        let people = self.people(scope.company_id).await?;
        let loans: Vec<LoanLine> = self
            .store
            .device_loans(id)
            .await?
            .into_iter()
            .map(|l| LoanLine {
                borrower: people.name(l.borrower_id),
                overdue_days: if l.returned_at.is_none() {
                    l.due_on
                        .parse()
                        .map_or(0, |due| dev::days_overdue(due, today))
                } else {
                    0
                },
                row: l,
            })
            .collect();
        let open_loan = loans.iter().find(|l| l.row.returned_at.is_none()).cloned();
        let mine = row.owner_user_id == Some(scope.user_id)
            || open_loan
                .as_ref()
                .is_some_and(|l| l.row.borrower_id == scope.user_id);
        let sees = ctx.allows(Permission::ViewProgramme)
            && scope.sees_figures()
            && scope.sees_department(row.department_id);
        if !sees && !mine {
            return Err(AppError::Denied);
        }
        let depts = self.dept_list(scope.company_id).await?;
        let department = depts
            .iter()
            .find(|(d, _)| *d == row.department_id)
            .map_or_else(String::new, |(_, n)| n.clone());
        let can_lend = Self::may_lend(ctx, &scope, row.department_id);
        Ok(DeviceView {
            department,
            owner_login: row
                .owner_user_id
                .map(|u| people.login(u))
                .unwrap_or_default(),
            owner_name: row
                .owner_user_id
                .map(|u| people.name(u))
                .unwrap_or_default(),
            open_loan,
            loans,
            can_manage: scope.runs,
            can_lend,
            departments: depts,
            row,
        })
    }

    /// Checks a device form; every problem at its field.
    async fn device_fields(
        &self,
        company_id: i64,
        input: &DeviceInput,
    ) -> Result<DeviceFields, AppError> {
        let mut ps = Problems::new();
        let tag = dev::asset_tag(&input.asset_tag);
        if tag.is_none() {
            ps.push(Problem::new(
                Some("asset_tag"),
                "資産番号を1〜40文字で入力してください",
                "give an asset tag of 1 to 40 characters",
            ));
        }
        let kind = DeviceKind::from_code(&input.kind);
        if kind.is_none() {
            ps.push(Problem::new(
                Some("kind"),
                "種別を選んでください",
                "choose a kind",
            ));
        }
        let model = dev::short_text(&input.model, 100);
        if model.is_none() {
            ps.push(Problem::new(
                Some("model"),
                "機種は100文字以内にしてください",
                "the model is at most 100 characters",
            ));
        }
        let serial = dev::short_text(&input.serial, 100);
        if serial.is_none() {
            ps.push(Problem::new(
                Some("serial"),
                "シリアル番号は100文字以内にしてください",
                "the serial number is at most 100 characters",
            ));
        }
        let note = dev::short_text(&input.note, 1000);
        if note.is_none() {
            ps.push(Problem::new(
                Some("note"),
                "備考は1000文字以内にしてください",
                "the note is at most 1000 characters",
            ));
        }
        let depts = self.dept_list(company_id).await?;
        if !depts.iter().any(|(d, _)| *d == input.department_id) {
            ps.push(Problem::new(
                Some("department_id"),
                "部署を選んでください",
                "choose a department",
            ));
        }
        let mut owner = None;
        if !input.owner.trim().is_empty() {
            let people = self.people(company_id).await?;
            match people.find(&input.owner) {
                Some(u) => owner = Some(u.id),
                None => ps.push(Problem::new(
                    Some("owner"),
                    "利用者のログイン名（またはメールアドレス）が見つかりません",
                    "no user with this login name (or e-mail address)",
                )),
            }
        }
        let enc = Tri::from_code(&input.encryption);
        if enc.is_none() {
            ps.push(Problem::new(
                Some("encryption"),
                "暗号化を選んでください",
                "choose the encryption status",
            ));
        }
        let wipe = Tri::from_code(&input.remote_wipe);
        if wipe.is_none() {
            ps.push(Problem::new(
                Some("remote_wipe"),
                "リモートワイプを選んでください",
                "choose the remote-wipe status",
            ));
        }
        let state = DeviceState::from_code(&input.state);
        if state.is_none() {
            ps.push(Problem::new(
                Some("state"),
                "状態を選んでください",
                "choose a state",
            ));
        }
        ps.done()?;
        Ok(DeviceFields {
            asset_tag: tag.unwrap_or_default(),
            kind: kind.map_or("laptop", DeviceKind::code).to_owned(),
            model: model.unwrap_or_default(),
            serial: serial.unwrap_or_default(),
            department_id: input.department_id,
            owner_user_id: owner,
            pool: input.pool,
            encryption: enc.map_or("unknown", Tri::code).to_owned(),
            remote_wipe: wipe.map_or("unknown", Tri::code).to_owned(),
            state: state.map_or("in_use", DeviceState::code).to_owned(),
            note: note.unwrap_or_default(),
        })
    }

    fn tag_taken(e: AppError) -> AppError {
        match e {
            AppError::Invalid(p) if p.en.contains("asset tag") => bad(
                "asset_tag",
                "この資産番号はすでに登録されています",
                "this asset tag is already registered",
            ),
            other => other,
        }
    }

    /// Adds a device to the register (the privacy office).
    pub async fn register_device(&self, ctx: &Ctx, input: &DeviceInput) -> Result<i64, AppError> {
        let scope = self.programme_scope(ctx).await?;
        if !scope.runs {
            return Err(AppError::Denied);
        }
        let f = self.device_fields(scope.company_id, input).await?;
        if f.state == "lent" {
            return Err(bad(
                "state",
                "「貸出中」は貸出の記録で設定されます。在庫として登録してから貸し出してください",
                "`lent` is set by lending: register the device in stock, then lend it",
            ));
        }
        let now = self.clock.now_micros();
        let id = self
            .store
            .insert_device(scope.company_id, &f, now, &ctx.actor_name())
            .await
            .map_err(|e| Self::tag_taken(e.into()))?;
        self.audit(
            ctx,
            "devices.create",
            &format!("device:{id}"),
            Outcome::Success,
            json!({"kind": f.kind, "state": f.state}),
        )
        .await?;
        Ok(id)
    }

    /// Changes a device as shown at `version` (the privacy office). The state of a lent device
    /// changes only by its return.
    pub async fn update_device(
        &self,
        ctx: &Ctx,
        id: i64,
        version: i64,
        input: &DeviceInput,
    ) -> Result<(), AppError> {
        let scope = self.programme_scope(ctx).await?;
        if !scope.runs {
            return Err(AppError::Denied);
        }
        let old = self.store.device(id).await?;
        if old.company_id != scope.company_id {
            return Err(AppError::NotFound);
        }
        let f = self.device_fields(scope.company_id, input).await?;
        if (old.state == "lent") != (f.state == "lent") {
            return Err(bad(
                "state",
                "「貸出中」は貸出と返却の記録でだけ変わります",
                "`lent` changes only by lending and return",
            ));
        }
        self.store
            .update_device(id, version, &f, self.clock.now_micros(), &ctx.actor_name())
            .await
            .map_err(|e| Self::tag_taken(e.into()))?;
        self.audit(
            ctx,
            "devices.update",
            &format!("device:{id}"),
            Outcome::Success,
            json!({"state": f.state, "from_state": old.state}),
        )
        .await?;
        Ok(())
    }

    /// Lends a device in stock to a person until `due` (a day, JST).
    pub async fn lend_device(
        &self,
        ctx: &Ctx,
        id: i64,
        version: i64,
        borrower: &str,
        due: &str,
        purpose: &str,
    ) -> Result<i64, AppError> {
        let scope = self.programme_scope(ctx).await?;
        let row = self.store.device(id).await?;
        if row.company_id != scope.company_id {
            return Err(AppError::NotFound);
        }
        if !Self::may_lend(ctx, &scope, row.department_id) {
            return Err(AppError::Denied);
        }
        let today = jst_date(self.clock.now_micros());
        let mut ps = Problems::new();
        let people = self.people(scope.company_id).await?;
        let who = people.find(borrower).filter(|u| !u.disabled).map(|u| u.id);
        if who.is_none() {
            ps.push(Problem::new(
                Some("borrower"),
                "貸出先のログイン名（またはメールアドレス）が見つかりません",
                "no user with this login name (or e-mail address)",
            ));
        }
        let due_day = mamori_domain::vault::schema::parse_date(due);
        match due_day {
            None => ps.push(Problem::new(
                Some("due"),
                "返却予定日を日付で入力してください（例: 2026-12-24）",
                "give the due day as a date (2026-12-24)",
            )),
            Some(d) => match dev::check_due(d, today) {
                Ok(()) => {}
                Err(dev::DueProblem::Past) => ps.push(Problem::new(
                    Some("due"),
                    "返却予定日が今日より前です",
                    "the due day is before today",
                )),
                Err(dev::DueProblem::TooFar) => ps.push(Problem::new(
                    Some("due"),
                    "返却予定日は1年以内にしてください",
                    "the due day must be within a year",
                )),
            },
        }
        let purpose = dev::short_text(purpose, 200);
        if purpose.is_none() {
            ps.push(Problem::new(
                Some("purpose"),
                "用途は200文字以内にしてください",
                "the purpose is at most 200 characters",
            ));
        }
        if !DeviceState::from_code(&row.state).is_some_and(DeviceState::may_lend) {
            ps.push(Problem::new(
                None,
                "在庫の端末だけ貸し出せます（この端末は在庫ではありません）",
                "only a device in stock can be lent (this one is not in stock)",
            ));
        }
        ps.done()?;
        let loan = self
            .store
            .lend_device(&NewLoan {
                device_id: id,
                device_version: version,
                company_id: scope.company_id,
                borrower_id: who.unwrap_or_default(),
                at: self.clock.now_micros(),
                by: ctx.actor_name(),
                due_on: due_day.unwrap_or(today).to_string(),
                purpose: purpose.unwrap_or_default(),
            })
            .await?;
        self.audit(
            ctx,
            "devices.lend",
            &format!("device:{id}"),
            Outcome::Success,
            json!({"loan": loan, "borrower": format!("user:{}", who.unwrap_or_default())}),
        )
        .await?;
        Ok(loan)
    }

    /// Records the return of a lent device; it is in stock again.
    pub async fn return_device(&self, ctx: &Ctx, id: i64, note: &str) -> Result<(), AppError> {
        let scope = self.programme_scope(ctx).await?;
        let row = self.store.device(id).await?;
        if row.company_id != scope.company_id {
            return Err(AppError::NotFound);
        }
        if !Self::may_lend(ctx, &scope, row.department_id) {
            return Err(AppError::Denied);
        }
        let note = dev::short_text(note, 500).ok_or_else(|| {
            bad(
                "note",
                "メモは500文字以内にしてください",
                "the note is at most 500 characters",
            )
        })?;
        match self
            .store
            .return_device(id, self.clock.now_micros(), &ctx.actor_name(), &note)
            .await
        {
            Ok(()) => {}
            Err(mamori_store::StoreError::NotFound) => {
                return Err(AppError::Invalid(Problem::new(
                    None,
                    "この端末は貸し出されていません",
                    "this device is not lent",
                )))
            }
            Err(e) => return Err(e.into()),
        }
        self.audit(
            ctx,
            "devices.return",
            &format!("device:{id}"),
            Outcome::Success,
            json!({}),
        )
        .await?;
        Ok(())
    }

    /// The lendings a person holds (for the own tasks): device id, asset tag, due day,
    /// days overdue.
    pub async fn my_loans(&self, ctx: &Ctx) -> Result<Vec<(i64, String, String, i64)>, AppError> {
        let u = ctx.user_ref().ok_or(AppError::Denied)?;
        let today = jst_date(self.clock.now_micros());
        let mut out = Vec::new();
        for l in self.store.open_loans_of(u.id).await? {
            let d = self.store.device(l.device_id).await?;
            let late = l
                .due_on
                .parse()
                .map_or(0, |due| dev::days_overdue(due, today));
            out.push((d.id, d.asset_tag, l.due_on, late));
        }
        Ok(out)
    }

    // ───────────────────────────── CSV ─────────────────────────────

    /// The register as CSV for Excel (CP932, or UTF-8 with a BOM), every cell formula-safe,
    /// with the columns the import reads back.
    pub async fn export_devices(&self, ctx: &Ctx, cp932: bool) -> Result<Vec<u8>, AppError> {
        let scope = self.programme_scope(ctx).await?;
        if !(ctx.allows(Permission::ViewProgramme) && scope.sees_figures()) {
            return Err(AppError::Denied);
        }
        let rows = self
            .store
            .list_devices(scope.company_id, None, None, None)
            .await?;
        let people = self.people(scope.company_id).await?;
        let depts = self.dept_list(scope.company_id).await?;
        let mut w = mamori_detect::csv_out::CsvOut::new();
        w.record(Column::ALL.map(Column::header));
        let mut n = 0;
        for r in rows
            .iter()
            .filter(|r| scope.sees_department(r.department_id))
        {
            let dept = depts
                .iter()
                .find(|(d, _)| *d == r.department_id)
                .map_or("", |(_, n)| n.as_str());
            let owner = r.owner_user_id.map(|u| people.login(u)).unwrap_or_default();
            w.record([
                r.asset_tag.as_str(),
                DeviceKind::from_code(&r.kind).map_or(r.kind.as_str(), |k| kind_ja(k)),
                &r.model,
                &r.serial,
                dept,
                &owner,
                if r.pool { "あり" } else { "なし" },
                Tri::from_code(&r.encryption).map_or("不明", tri_ja),
                Tri::from_code(&r.remote_wipe).map_or("不明", tri_ja),
                DeviceState::from_code(&r.state).map_or(r.state.as_str(), |s| state_ja(s)),
                &r.note,
            ]);
            n += 1;
        }
        self.audit(
            ctx,
            "devices.export",
            "devices",
            Outcome::Success,
            json!({"rows": n, "encoding": if cp932 { "cp932" } else { "utf-8" }}),
        )
        .await?;
        Ok(w.finish(if cp932 {
            mamori_detect::csv_out::Encoding::Cp932
        } else {
            mamori_detect::csv_out::Encoding::Utf8Bom
        }))
    }

    /// Reads a register CSV and keeps it for its import; returns what the import would do.
    /// Nothing of the register changes here.
    pub async fn preview_device_import(
        &self,
        ctx: &Ctx,
        bytes: &[u8],
        file_name: &str,
    ) -> Result<ImportPreview, AppError> {
        let scope = self.programme_scope(ctx).await?;
        if !scope.runs {
            return Err(AppError::Denied);
        }
        let text = read_register_file(bytes, file_name)?;
        let name: String = file_name.chars().take(200).collect();
        let id = self
            .store
            .insert_device_import(
                scope.company_id,
                scope.user_id,
                &name,
                &text,
                self.clock.now_micros(),
            )
            .await?;
        let p = self
            .plan_import(scope.company_id, id, &name, &text, false)
            .await?;
        self.audit(
            ctx,
            "devices.import.preview",
            &format!("device_import:{id}"),
            Outcome::Success,
            json!({"add": p.adds.len(), "update": p.updates.len(), "problems": p.problems.len()}),
        )
        .await?;
        Ok(p)
    }

    /// The preview of a kept import again (the confirmation page).
    pub async fn device_import(&self, ctx: &Ctx, id: i64) -> Result<ImportPreview, AppError> {
        let scope = self.programme_scope(ctx).await?;
        if !scope.runs {
            return Err(AppError::Denied);
        }
        let row = self.store.device_import(id).await?;
        if row.company_id != scope.company_id || row.user_id != scope.user_id {
            return Err(AppError::NotFound);
        }
        self.plan_import(
            scope.company_id,
            id,
            &row.file_name,
            &row.body,
            row.applied_at.is_some(),
        )
        .await
    }

    /// Imports a previewed file, planned again against the register as it is now. A file with
    /// problems is refused unless `only_good` says to take the rows without problems.
    pub async fn apply_device_import(
        &self,
        ctx: &Ctx,
        id: i64,
        only_good: bool,
    ) -> Result<ImportDone, AppError> {
        let p = self.device_import(ctx, id).await?;
        let scope = self.programme_scope(ctx).await?;
        if p.applied {
            return Err(AppError::Invalid(Problem::new(
                None,
                "このファイルはすでに取り込みました",
                "this file was already imported",
            )));
        }
        if !p.problems.is_empty() && !only_good {
            return Err(AppError::Invalid(Problem::new(
                None,
                format!(
                    "{}行に問題があるため、何も取り込んでいません。ファイルを直すか、「問題のない行だけ取り込む」を選んでください",
                    p.bad_lines()
                ),
                format!(
                    "{} lines have problems, so nothing was imported: correct the file, or choose to import only the rows without problems",
                    p.bad_lines()
                ),
            )));
        }
        if p.adds.is_empty() && p.updates.is_empty() {
            return Err(AppError::Invalid(Problem::new(
                None,
                "取り込む行がありません（追加も変更もありません）",
                "there is nothing to import (nothing new, nothing changed)",
            )));
        }
        let writes: Vec<ImportWrite> = p
            .adds
            .iter()
            .map(|r| ImportWrite::Add(r.fields.clone()))
            .chain(p.updates.iter().map(|r| ImportWrite::Update {
                id: r.existing.unwrap_or_default(),
                fields: r.fields.clone(),
            }))
            .collect();
        match self
            .store
            .import_devices(
                scope.company_id,
                id,
                &writes,
                self.clock.now_micros(),
                &ctx.actor_name(),
            )
            .await
        {
            Ok(()) => {}
            Err(mamori_store::StoreError::Conflict(what)) if what.starts_with("device import") => {
                return Err(AppError::Invalid(Problem::new(
                    None,
                    "このファイルはすでに取り込みました",
                    "this file was already imported",
                )))
            }
            Err(e) => return Err(Self::tag_taken(e.into())),
        }
        let done = ImportDone {
            added: p.adds.len(),
            updated: p.updates.len(),
            skipped_lines: p.bad_lines(),
        };
        self.audit(
            ctx,
            "devices.import",
            &format!("device_import:{id}"),
            Outcome::Success,
            json!({"added": done.added, "updated": done.updated, "skipped_lines": done.skipped_lines, "only_good": only_good}),
        )
        .await?;
        Ok(done)
    }

    #[allow(clippy::too_many_lines)]
    async fn plan_import(
        &self,
        company_id: i64,
        id: i64,
        file_name: &str,
        text: &str,
        applied: bool,
    ) -> Result<ImportPreview, AppError> {
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(delimiter_of(text))
            .from_reader(text.as_bytes());
        let mut records = rdr.records();
        let headers: Vec<String> = match records.next() {
            Some(Ok(h)) => h
                .iter()
                .map(|c| mamori_detect::csv_out::from_excel_cell(c).trim().to_owned())
                .collect(),
            Some(Err(_)) => return Err(not_csv()),
            None => return Err(empty_file()),
        };
        let map = HeaderMap::of(&headers);
        let mut missing = Vec::new();
        for c in [Column::AssetTag, Column::Kind, Column::Department] {
            if map.index(c).is_none() {
                missing.push(c);
            }
        }
        if !missing.is_empty() {
            let ja: Vec<_> = missing
                .iter()
                .map(|c| format!("「{}」", c.header()))
                .collect();
            let en: Vec<_> = missing
                .iter()
                .map(|c| format!("`{}`", c.english()))
                .collect();
            return Err(bad(
                "file",
                format!(
                    "見出し行に{}の列がありません（見出しは日本語でも英語でもかまいません。例: 資産番号,種別,機種,シリアル,部署,利用者,暗号化,リモートワイプ）",
                    ja.join("")
                ),
                format!(
                    "the header row has no {} column (headers in Japanese or English, e.g. asset tag,kind,model,serial,department,user,encryption,remote wipe)",
                    en.join(", ")
                ),
            ));
        }
        let existing: HashMap<String, DeviceRow> = self
            .store
            .list_devices(company_id, None, None, None)
            .await?
            .into_iter()
            .map(|d| (d.asset_tag.clone(), d))
            .collect();
        let depts = self.dept_list(company_id).await?;
        let people = self.people(company_id).await?;
        let mut out = ImportPreview {
            id,
            file_name: file_name.to_owned(),
            adds: Vec::new(),
            updates: Vec::new(),
            unchanged: 0,
            problems: Vec::new(),
            ignored: map.unknown.clone(),
            applied,
        };
        let mut seen: HashMap<String, u64> = HashMap::new();
        for rec in records {
            let rec = match rec {
                Ok(r) => r,
                Err(e) => {
                    let line = e.position().map_or(0, csv::Position::line);
                    out.problems.push(RowProblem {
                        line,
                        column: String::new(),
                        col: None,
                        ja: "この行をCSVとして読めません（引用符の対応を確認してください）".into(),
                        en: "this line cannot be read as CSV (check the quotes)".into(),
                    });
                    continue;
                }
            };
            let line = rec.position().map_or(0, csv::Position::line);
            if rec.iter().all(|c| c.trim().is_empty()) {
                continue;
            }
            let cell = |c: Column| -> Option<&str> {
                map.index(c).map(|i| {
                    rec.get(i)
                        .map_or("", mamori_detect::csv_out::from_excel_cell)
                        .trim()
                })
            };
            let col_name = |c: Column| {
                map.index(c)
                    .and_then(|i| headers.get(i).cloned())
                    .unwrap_or_else(|| c.header().to_owned())
            };
            let mut problems = Vec::new();
            let mut problem = |c: Column, ja: String, en: String| {
                problems.push(RowProblem {
                    line,
                    column: col_name(c),
                    col: Some(c),
                    ja,
                    en,
                });
            };
            let short = |s: &str, n: usize| s.chars().take(n).collect::<String>();
            let tag = dev::asset_tag(cell(Column::AssetTag).unwrap_or(""));
            let tag = if let Some(t) = tag {
                if let Some(first) = seen.get(&t) {
                    problem(
                        Column::AssetTag,
                        format!("資産番号「{t}」が{first}行目と重複しています"),
                        format!("asset tag `{t}` repeats line {first}"),
                    );
                } else {
                    seen.insert(t.clone(), line);
                }
                t
            } else {
                problem(
                    Column::AssetTag,
                    "資産番号が空か、40文字を超えています".into(),
                    "the asset tag is empty or longer than 40 characters".into(),
                );
                String::new()
            };
            let old = existing.get(&tag);
            let kind_text = cell(Column::Kind).unwrap_or("");
            let kind = if let Some(k) = DeviceKind::parse(kind_text) {
                k.code().to_owned()
            } else {
                problem(
                        Column::Kind,
                        format!("種別「{}」が分かりません（ノートPC・スマートフォン・USBメモリ・その他の媒体）", short(kind_text, 30)),
                        format!("unknown kind `{}` (laptop, phone, usb, media)", short(kind_text, 30)),
                    );
                String::new()
            };
            let dept_text =
                mamori_domain::vault::normalize::nfkc(cell(Column::Department).unwrap_or(""));
            let department_id = depts
                .iter()
                .find(|(_, n)| mamori_domain::vault::normalize::nfkc(n) == dept_text.trim())
                .map(|(d, _)| *d);
            if department_id.is_none() {
                problem(
                    Column::Department,
                    format!(
                        "部署「{}」が見つかりません（mamoriの部署名と同じにしてください）",
                        short(&dept_text, 40)
                    ),
                    format!("no department named `{}`", short(&dept_text, 40)),
                );
            }
            let text_of = |c: Column,
                           old_v: Option<&str>,
                           max: usize,
                           problem: &mut dyn FnMut(Column, String, String)|
             -> String {
                match cell(c) {
                    Some(v) => dev::short_text(v, max).unwrap_or_else(|| {
                        problem(
                            c,
                            format!("{max}文字以内にしてください"),
                            format!("at most {max} characters"),
                        );
                        String::new()
                    }),
                    None => old_v.unwrap_or("").to_owned(),
                }
            };
            let model = text_of(
                Column::Model,
                old.map(|o| o.model.as_str()),
                100,
                &mut problem,
            );
            let serial = text_of(
                Column::Serial,
                old.map(|o| o.serial.as_str()),
                100,
                &mut problem,
            );
            let note = text_of(
                Column::Note,
                old.map(|o| o.note.as_str()),
                1000,
                &mut problem,
            );
            let owner_user_id = match cell(Column::Owner) {
                Some("") => None,
                Some(v) => {
                    let found = people.find(v).map(|u| u.id);
                    if found.is_none() {
                        problem(
                            Column::Owner,
                            format!("利用者「{}」が見つかりません（ログイン名かメールアドレスで書いてください）", short(v, 40)),
                            format!("no user `{}` (give a login name or an e-mail address)", short(v, 40)),
                        );
                    }
                    found
                }
                None => old.and_then(|o| o.owner_user_id),
            };
            let tri = |c: Column,
                       old_v: Option<&str>,
                       problem: &mut dyn FnMut(Column, String, String)|
             -> String {
                match cell(c) {
                    Some(v) => Tri::parse(v).map_or_else(
                        || {
                            problem(
                                c,
                                format!(
                                    "「{}」は「あり」「なし」「不明」のどれかにしてください",
                                    short(v, 20)
                                ),
                                format!("`{}`: give yes, no or unknown", short(v, 20)),
                            );
                            String::new()
                        },
                        |t| t.code().to_owned(),
                    ),
                    None => old_v.unwrap_or("unknown").to_owned(),
                }
            };
            let encryption = tri(
                Column::Encryption,
                old.map(|o| o.encryption.as_str()),
                &mut problem,
            );
            let remote_wipe = tri(
                Column::RemoteWipe,
                old.map(|o| o.remote_wipe.as_str()),
                &mut problem,
            );
            let pool = match cell(Column::Pool) {
                Some(v) => match Tri::parse(v) {
                    Some(Tri::Yes) => true,
                    Some(_) => false,
                    None => {
                        problem(
                            Column::Pool,
                            format!("「{}」は「あり」か「なし」にしてください", short(v, 20)),
                            format!("`{}`: give yes or no", short(v, 20)),
                        );
                        false
                    }
                },
                None => old.map_or(owner_user_id.is_none(), |o| o.pool),
            };
            let state = match cell(Column::State) {
                Some(v) => {
                    if let Some(s) = DeviceState::parse(v) {
                        s.code().to_owned()
                    } else {
                        problem(
                            Column::State,
                            format!(
                                "状態「{}」が分かりません（使用中・在庫・貸出中・紛失・廃棄）",
                                short(v, 20)
                            ),
                            format!(
                                "unknown state `{}` (in use, in stock, lent, lost, retired)",
                                short(v, 20)
                            ),
                        );
                        String::new()
                    }
                }
                None => old.map_or_else(|| "in_use".to_owned(), |o| o.state.clone()),
            };
            let was_lent = old.is_some_and(|o| o.state == "lent");
            if !state.is_empty() && (state == "lent") != was_lent {
                if was_lent {
                    problem(
                        Column::State,
                        "この端末は貸出中です。状態は返却の記録で変わります（「貸出中」のままにしてください）".into(),
                        "this device is lent: its state changes when its return is recorded (keep `lent`)".into(),
                    );
                } else {
                    problem(
                        Column::State,
                        "「貸出中」は貸出の記録で設定されます。「在庫」として取り込み、端末の画面で貸し出してください".into(),
                        "`lent` is set by lending: import the device as in stock, then lend it on its page".into(),
                    );
                }
            }
            if !problems.is_empty() {
                out.problems.extend(problems);
                continue;
            }
            let fields = DeviceFields {
                asset_tag: tag,
                kind,
                model,
                serial,
                department_id: department_id.unwrap_or_default(),
                owner_user_id,
                pool,
                encryption,
                remote_wipe,
                state,
                note,
            };
            let department = depts
                .iter()
                .find(|(d, _)| *d == fields.department_id)
                .map_or_else(String::new, |(_, n)| n.clone());
            let owner = owner_user_id.map(|u| people.name(u)).unwrap_or_default();
            match old {
                None => out.adds.push(PreviewRow {
                    line,
                    fields,
                    department,
                    owner,
                    changes: Vec::new(),
                    changed: Vec::new(),
                    existing: None,
                }),
                Some(o) => {
                    let mut changes = Vec::new();
                    let mut diff = |c: Column, a: &str, b: &str| {
                        if a != b {
                            changes.push((col_name(c), c));
                        }
                    };
                    diff(Column::Kind, &o.kind, &fields.kind);
                    diff(Column::Model, &o.model, &fields.model);
                    diff(Column::Serial, &o.serial, &fields.serial);
                    diff(
                        Column::Department,
                        &o.department_id.to_string(),
                        &fields.department_id.to_string(),
                    );
                    diff(
                        Column::Owner,
                        &format!("{:?}", o.owner_user_id),
                        &format!("{:?}", fields.owner_user_id),
                    );
                    diff(Column::Pool, &o.pool.to_string(), &fields.pool.to_string());
                    diff(Column::Encryption, &o.encryption, &fields.encryption);
                    diff(Column::RemoteWipe, &o.remote_wipe, &fields.remote_wipe);
                    diff(Column::State, &o.state, &fields.state);
                    diff(Column::Note, &o.note, &fields.note);
                    if changes.is_empty() {
                        out.unchanged += 1;
                    } else {
                        out.updates.push(PreviewRow {
                            line,
                            fields,
                            department,
                            owner,
                            changed: changes.iter().map(|(_, c)| *c).collect(),
                            changes: changes.into_iter().map(|(h, _)| h).collect(),
                            existing: Some(o.id),
                        });
                    }
                }
            }
        }
        if out.adds.is_empty()
            && out.updates.is_empty()
            && out.unchanged == 0
            && out.problems.is_empty()
        {
            return Err(empty_file());
        }
        Ok(out)
    }

    // ───────────────────────────── reminders ─────────────────────────────

    /// Mails every person who holds a lent device past its due day, and the head of their
    /// department, once per person and JST day (one mail listing all their overdue devices).
    pub async fn send_loan_reminders(&self) -> Result<usize, AppError> {
        let now = self.clock.now_micros();
        let today = jst_date(now);
        // recipient id → (company, e-mail, lines)
        let mut mails: HashMap<i64, (i64, String, Vec<String>)> = HashMap::new();
        let mut companies: HashMap<i64, People> = HashMap::new();
        for l in self.store.open_loans(None).await? {
            let Ok(due) = l.due_on.parse::<chrono::NaiveDate>() else {
                continue;
            };
            let late = dev::days_overdue(due, today);
            if late == 0 {
                continue;
            }
            if let std::collections::hash_map::Entry::Vacant(v) = companies.entry(l.company_id) {
                v.insert(self.people(l.company_id).await?);
            }
            let people = &companies[&l.company_id];
            let Some(borrower) = people.users.iter().find(|u| u.id == l.borrower_id) else {
                continue;
            };
            let device = self.store.device(l.device_id).await?;
            let line = format!(
                "・{} {}（{}）: 返却予定日 {}、{}日超過\n  {}/programme/devices/{}",
                device.asset_tag,
                device.model,
                borrower.display_name,
                l.due_on,
                late,
                self.settings.public_url,
                device.id
            );
            let mut to = vec![borrower.clone()];
            to.extend(
                self.heads_above(l.company_id, borrower.department_id)
                    .await?,
            );
            for u in to {
                if u.disabled {
                    continue;
                }
                let e = mails
                    .entry(u.id)
                    .or_insert_with(|| (l.company_id, u.email.clone(), Vec::new()));
                if !e.2.contains(&line) {
                    e.2.push(line.clone());
                }
            }
        }
        let mut sent = 0;
        let mut ids: Vec<_> = mails.keys().copied().collect();
        ids.sort_unstable();
        for id in ids {
            let (company, email, lines) = &mails[&id];
            if !self
                .store
                .mark_reminder("devices.loan", &format!("{id}:{today}"), now)
                .await?
            {
                continue;
            }
            let subject = format!(
                "【端末・媒体】返却予定日を過ぎた貸出が{}件あります",
                lines.len()
            );
            let body = format!(
                "返却予定日を過ぎても返却が記録されていない端末・媒体があります。返却してください（部門責任者の方は返却を促してください）。\n\n{}\n",
                lines.join("\n")
            );
            self.queue_plain_mail(*company, email, &subject, &body)
                .await?;
            sent += 1;
        }
        Ok(sent)
    }
}

/// The separator of a CSV text: a tab when the first line has more tabs than commas.
fn delimiter_of(text: &str) -> u8 {
    let first = text.lines().next().unwrap_or("");
    if first.matches('\t').count() > first.matches(',').count() {
        b'\t'
    } else {
        b','
    }
}

fn not_csv() -> AppError {
    bad(
        "file",
        "CSVファイルではありません。Excelの台帳なら「CSV（コンマ区切り）」で保存してから選んでください",
        "this is not a CSV file: save an Excel register as CSV (comma delimited) first",
    )
}

fn empty_file() -> AppError {
    bad(
        "file",
        "ファイルに見出し行と端末の行がありません",
        "the file holds no header row and no devices",
    )
}

/// Reads an uploaded register: not too big, not a spreadsheet or another binary file, and
/// decodable as UTF-8 or CP932/Shift_JIS (a BOM is dropped).
pub fn read_register_file(bytes: &[u8], file_name: &str) -> Result<String, AppError> {
    if bytes.is_empty() {
        return Err(bad(
            "file",
            "CSVファイルを選んでください",
            "choose a CSV file",
        ));
    }
    if bytes.len() > MAX_IMPORT_BYTES {
        return Err(bad(
            "file",
            format!("ファイルが大きすぎます（{}MBまで）", MAX_IMPORT_BYTES >> 20),
            format!(
                "the file is too big (at most {} MB)",
                MAX_IMPORT_BYTES >> 20
            ),
        ));
    }
    let lower = file_name.to_ascii_lowercase();
    if bytes.starts_with(b"PK\x03\x04")
        || bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0])
        || [".xlsx", ".xls", ".xlsm", ".ods", ".pdf", ".zip"]
            .iter()
            .any(|e| lower.ends_with(e))
    {
        return Err(not_csv());
    }
    let sniffed = mamori_detect::decode::sniff(
        &bytes[..bytes.len().min(mamori_detect::decode::SNIFF_LEN)],
        bytes.len() <= mamori_detect::decode::SNIFF_LEN,
    );
    if sniffed.binary {
        return Err(not_csv());
    }
    let body = &bytes[sniffed.bom_len..];
    let enc = sniffed.encoding;
    let (text, had_errors) = enc.decode_without_bom_handling(body);
    if had_errors || sniffed.utf8_errors {
        return Err(bad(
            "file",
            format!(
                "ファイルを{}として読めない箇所があります。UTF-8かShift_JIS（CP932）で保存してください",
                sniffed.name()
            ),
            format!(
                "the file does not decode as {}: save it as UTF-8 or Shift_JIS (CP932)",
                sniffed.name()
            ),
        ));
    }
    Ok(text.into_owned())
}

// ───────────────────────────── demo ─────────────────────────────

impl App {
    /// The demo company's register: about 300 lending laptops spread over the departments
    /// (seed 002), a laptop and a phone for each demo user, 30 USB sticks; some lent, a few of
    /// them late; and three take-outs (one waiting, one out past its last day, one returned).
    /// Once per database (`demo.devices`).
    #[allow(clippy::too_many_lines)]
    pub async fn seed_demo_devices(&self) -> Result<(), AppError> {
        use mamori_store::devices::NewTakeout;
        if self.store.get_setting("demo.devices").await?.is_some() {
            return Ok(());
        }
        let Some(company) = self
            .store
            .list_companies()
            .await?
            .into_iter()
            .find(|c| c.code == "mirai-tsuhan")
        else {
            return Ok(());
        };
        let now = self.clock.now_micros();
        let today = jst_date(now);
        let depts = self.store.list_departments(company.id).await?;
        let dept = |name: &str| depts.iter().find(|d| d.name == name).map_or(0, |d| d.id);
        let users = self.store.list_users(Some(company.id)).await?;
        let user = |login: &str| users.iter().find(|u| u.login == login);
        let pools = [
            ("カスタマーサポート課", 90),
            ("物流課", 50),
            ("オペレーションサービス部", 30),
            ("システム部", 60),
            ("バイヤー部", 30),
            ("管理部", 25),
            ("経営戦略室", 15),
        ];
        let models = [
            "ThinkPad L14 Gen 4",
            "Let's note SV1",
            "dynabook G83",
            "MacBook Air 13",
        ];
        let by = "demo";
        let mut n = 0usize;
        let mut pool_ids: Vec<(i64, i64)> = Vec::new();
        for (name, count) in pools {
            for _ in 0..count {
                n += 1;
                let f = DeviceFields {
                    asset_tag: format!("LP-{n:04}"),
                    kind: "laptop".into(),
                    model: models[n % models.len()].into(),
                    serial: format!("SN{:08}", 41_000_000 + n * 37),
                    department_id: dept(name),
                    owner_user_id: None,
                    pool: true,
                    encryption: if n.is_multiple_of(23) {
                        "unknown"
                    } else {
                        "yes"
                    }
                    .into(),
                    remote_wipe: if n.is_multiple_of(4) { "no" } else { "yes" }.into(),
                    state: if n.is_multiple_of(97) {
                        "lost"
                    } else if n.is_multiple_of(61) {
                        "retired"
                    } else {
                        "in_stock"
                    }
                    .into(),
                    note: String::new(),
                };
                let id = self.store.insert_device(company.id, &f, now, by).await?;
                if f.state == "in_stock" {
                    pool_ids.push((id, f.department_id));
                }
            }
        }
        // Each demo user: a laptop and (department heads and above) a phone.
        for (i, u) in users.iter().enumerate() {
            let f = DeviceFields {
                asset_tag: format!("PC-{:04}", i + 1),
                kind: "laptop".into(),
                model: models[i % models.len()].into(),
                serial: format!("SN{:08}", 52_000_000 + i * 91),
                department_id: u.department_id,
                owner_user_id: Some(u.id),
                pool: false,
                encryption: "yes".into(),
                remote_wipe: "yes".into(),
                state: "in_use".into(),
                note: String::new(),
            };
            self.store.insert_device(company.id, &f, now, by).await?;
            if !u.roles.contains(Role::Staff) {
                let f = DeviceFields {
                    asset_tag: format!("SP-{:04}", i + 1),
                    kind: "phone".into(),
                    model: "iPhone 15".into(),
                    serial: format!("IMEI35{:09}", 12_345_000 + i * 7),
                    remote_wipe: "yes".into(),
                    ..f
                };
                self.store.insert_device(company.id, &f, now, by).await?;
            }
        }
        let mut usb = Vec::new();
        for i in 1..=30 {
            let f = DeviceFields {
                asset_tag: format!("USB-{i:03}"),
                kind: "usb".into(),
                model: "暗号化USBメモリ 32GB".into(),
                serial: format!("U{:07}", 7_700_000 + i),
                department_id: dept(if i <= 12 {
                    "カスタマーサポート課"
                } else {
                    "システム部"
                }),
                owner_user_id: None,
                pool: true,
                encryption: if i == 30 { "no" } else { "yes" }.into(),
                remote_wipe: "unknown".into(),
                state: "in_stock".into(),
                note: if i == 30 {
                    "暗号化なし・持ち出し禁止".into()
                } else {
                    String::new()
                },
            };
            usb.push(self.store.insert_device(company.id, &f, now, by).await?);
        }
        // Lendings: a few to each demo user, some late.
        let day = |d: i64| (today + chrono::Duration::days(d)).to_string();
        let borrowers: Vec<&User> = ["ito", "yamada", "kobayashi", "suzuki", "watanabe"]
            .iter()
            .filter_map(|l| user(l))
            .collect();
        for (k, (id, _)) in pool_ids.iter().step_by(9).take(30).enumerate() {
            let b = borrowers[k % borrowers.len()];
            let due = match k % 6 {
                0 => day(-3),
                1 => day(-1),
                _ => day(7 + i64::try_from(k).unwrap_or(0)),
            };
            let d = self.store.device(*id).await?;
            self.store
                .lend_device(&NewLoan {
                    device_id: *id,
                    device_version: d.version,
                    company_id: company.id,
                    borrower_id: b.id,
                    at: now - 86_400_000_000 * 10,
                    by: "tanaka".into(),
                    due_on: due,
                    purpose: "在宅勤務".into(),
                })
                .await?;
        }
        // Take-outs.
        let datasets = self.store.list_datasets(company.id).await?;
        let support_data = datasets
            .iter()
            .find(|d| d.department_id == dept("カスタマーサポート課"))
            .or_else(|| datasets.first());
        if let (Some(ds), Some(ito), Some(suzuki)) = (support_data, user("ito"), user("suzuki")) {
            let base = NewTakeout {
                company_id: company.id,
                department_id: ito.department_id,
                requester_id: ito.id,
                dataset_id: ds.id,
                device_id: usb.first().copied(),
                purpose: "顧客訪問で問い合わせ履歴を確認するため".into(),
                until_on: day(3),
                requested_at: now,
                requested_on: today.to_string(),
            };
            self.store.insert_takeout(&base).await?;
            let late = self
                .store
                .insert_takeout(&NewTakeout {
                    device_id: None,
                    purpose: "委託先での打ち合わせ資料（紙）".into(),
                    until_on: day(-2),
                    requested_at: now - 86_400_000_000 * 6,
                    requested_on: day(-6),
                    ..base.clone()
                })
                .await?;
            self.store
                .decide_takeout(late, true, suzuki.id, "", now - 86_400_000_000 * 6)
                .await?;
            let done = self
                .store
                .insert_takeout(&NewTakeout {
                    device_id: usb.get(1).copied(),
                    purpose: "展示会での問い合わせ対応".into(),
                    until_on: day(-10),
                    requested_at: now - 86_400_000_000 * 14,
                    requested_on: day(-14),
                    ..base
                })
                .await?;
            self.store
                .decide_takeout(done, true, suzuki.id, "", now - 86_400_000_000 * 14)
                .await?;
            self.store
                .close_takeout(done, "returned", &day(-11), "課の金庫に返却", ito.id, now)
                .await?;
        }
        self.store.set_setting("demo.devices", "1").await?;
        Ok(())
    }
}
