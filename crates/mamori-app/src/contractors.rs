//! Contractors (委託先, issue 17 part 5; APPI Art. 25, seed 004): the register of the
//! contractors that handle personal data for the company, owned by a department and linked to
//! the ledger entries they handle; per contractor a checklist of the selection checks and seed
//! 004's contract clauses, each with its status and evidence (append-only, with who and when);
//! periodic reviews with mail reminders before and after the due date to the owning
//! department's heads and the privacy office; the incidents that name the contractor.
//!
//! Who may do what: the privacy office and the CISO (`RunProgramme`) keep the register; a
//! department head records checks and reviews of the own departments' contractors and sees
//! them; executives and auditors read the whole company. Every view and change is audited.

use crate::programme::ProgrammeScope;
use crate::{App, AppError, Ctx, Problem, Problems};
use chrono::NaiveDate;
use mamori_domain::audit::Outcome;
use mamori_domain::incident::jst_date;
use mamori_domain::ledger::ReviewReminder;
use mamori_domain::programme::contractors::{
    self as dc, CheckItem, CheckStatus, ChecklistSummary, ReviewResult,
};
use mamori_domain::role::{Permission, Role};
use mamori_store::contractors::{
    By, CheckRow, ContractorFields, ContractorIncident, ContractorRow, ReviewRow,
};
use mamori_store::users::User;
use serde_json::json;

/// The periodic task that mails the reminders of contractor reviews and corrective actions.
pub const REMINDER_TASK: &str = "programme.contractors_audits.reminders";

/// What a person types for a contractor.
#[derive(Debug, Clone, Default)]
pub struct ContractorInput {
    pub name: String,
    pub address: String,
    pub contact_person: String,
    pub contact: String,
    pub work: String,
    pub department_id: i64,
    /// As typed (`12`, `１２`); empty is 12.
    pub interval_months: String,
    /// The next review (`2027-04-01`); empty: the interval from today.
    pub next_review_on: String,
    /// The ledger entries the contractor handles.
    pub datasets: Vec<i64>,
    /// The version edited (0 for a new contractor).
    pub version: i64,
}

/// One record of a checklist item as typed.
#[derive(Debug, Clone, Default)]
pub struct CheckInput {
    pub item: String,
    pub status: String,
    pub document: String,
    pub document_on: String,
    pub note: String,
}

/// A review as typed.
#[derive(Debug, Clone, Default)]
pub struct ReviewInput {
    pub reviewed_on: String,
    pub result: String,
    pub note: String,
}

/// A contractor as the list shows it.
#[derive(Debug, Clone)]
pub struct ContractorLine {
    pub row: ContractorRow,
    pub department: String,
    pub summary: ChecklistSummary,
    pub review_overdue: bool,
    pub datasets: usize,
}

#[derive(Debug, Clone)]
pub struct ContractorsOverview {
    pub lines: Vec<ContractorLine>,
    pub can_create: bool,
    /// Departments a contractor may belong to (id, name).
    pub departments: Vec<(i64, String)>,
    /// The ledger entries of the company (id, name).
    pub datasets: Vec<(i64, String)>,
}

/// One item of the checklist with its newest record and its history (newest first).
#[derive(Debug, Clone)]
pub struct CheckState {
    pub item: CheckItem,
    pub status: CheckStatus,
    pub current: Option<CheckRow>,
    pub history: Vec<CheckRow>,
}

#[derive(Debug, Clone)]
pub struct ContractorDetail {
    pub row: ContractorRow,
    pub department: String,
    pub checks: Vec<CheckState>,
    pub summary: ChecklistSummary,
    pub reviews: Vec<ReviewRow>,
    pub review_overdue: bool,
    /// The linked ledger entries (id, name).
    pub datasets: Vec<(i64, String)>,
    pub incidents: Vec<ContractorIncident>,
    /// May change the register entry (name, department, ledger links).
    pub can_edit: bool,
    /// May record checks and reviews.
    pub can_record: bool,
    pub departments: Vec<(i64, String)>,
    pub all_datasets: Vec<(i64, String)>,
}

/// The contractor an incident names, and the choices of those who may change it.
#[derive(Debug, Clone, Default)]
pub struct IncidentContractor {
    pub current: Option<(i64, String)>,
    pub options: Vec<(i64, String)>,
    pub can_set: bool,
}

// ───────────────────────────── shared helpers (also internal audit) ─────────────────────────────

/// A text field: trimmed, at most `max` characters, no control characters except line
/// breaks; `required` refuses an empty one. `label` names the field in both languages.
pub(crate) fn text(
    ps: &mut Problems,
    field: &'static str,
    label: (&str, &str),
    value: &str,
    max: usize,
    required: bool,
) -> String {
    let v = value.trim();
    if required && v.is_empty() {
        ps.push(Problem::new(
            Some(field),
            format!("{}を入力してください", label.0),
            format!("enter the {}", label.1),
        ));
    } else if v.chars().count() > max {
        ps.push(Problem::new(
            Some(field),
            format!("{}は{max}文字以内で入力してください", label.0),
            format!("the {} may be at most {max} characters", label.1),
        ));
    } else if v
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        ps.push(Problem::new(
            Some(field),
            format!("{}に使えない文字が含まれています", label.0),
            format!("the {} holds a character that cannot be used", label.1),
        ));
    }
    v.to_owned()
}

/// Reads a date as people type it: `2026-12-07`, `2026/12/7`, `２０２６年１２月７日`.
pub fn read_date(text: &str) -> Option<NaiveDate> {
    let ascii: String = text
        .trim()
        .chars()
        .map(|c| match c {
            '０'..='９' => char::from(b'0' + u8::try_from(c as u32 - '０' as u32).unwrap_or(0)),
            other => other,
        })
        .collect();
    let nums: Vec<&str> = ascii
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .collect();
    if nums.len() != 3 || nums[0].len() != 4 {
        return None;
    }
    NaiveDate::from_ymd_opt(
        nums[0].parse().ok()?,
        nums[1].parse().ok()?,
        nums[2].parse().ok()?,
    )
}

/// A date field: `None` after noting the problem (or when empty and not required).
pub(crate) fn date_field(
    ps: &mut Problems,
    field: &'static str,
    label: (&str, &str),
    value: &str,
    required: bool,
) -> Option<NaiveDate> {
    let v = value.trim();
    if v.is_empty() {
        if required {
            ps.push(Problem::new(
                Some(field),
                format!("{}を入力してください（例: 2026-12-07）", label.0),
                format!("enter the {} (e.g. 2026-12-07)", label.1),
            ));
        }
        return None;
    }
    let d = read_date(v);
    if d.is_none() {
        ps.push(Problem::new(
            Some(field),
            format!("{}「{v}」は日付として読めません（例: 2026-12-07）", label.0),
            format!("the {} \"{v}\" is not a date (e.g. 2026-12-07)", label.1),
        ));
    }
    d
}

impl App {
    /// The department names of a company (id, name).
    pub(crate) async fn programme_depts(
        &self,
        company_id: i64,
    ) -> Result<Vec<(i64, String)>, AppError> {
        Ok(self
            .store
            .list_departments(company_id)
            .await?
            .into_iter()
            .map(|d| (d.id, d.name))
            .collect())
    }

    /// The heads of a department (its own heads) and the privacy office of the company: who
    /// hears about a contractor's review.
    pub(crate) async fn heads_and_privacy_office(
        &self,
        company_id: i64,
        department_id: i64,
    ) -> Result<Vec<User>, AppError> {
        Ok(self
            .store
            .list_users(Some(company_id))
            .await?
            .into_iter()
            .filter(|u| {
                !u.disabled
                    && (u.roles.contains(Role::PrivacyOffice)
                        || (u.roles.contains(Role::DepartmentHead)
                            && u.department_id == department_id))
            })
            .collect())
    }
}

pub(crate) fn dept_name(depts: &[(i64, String)], id: i64) -> String {
    depts
        .iter()
        .find(|(d, _)| *d == id)
        .map(|(_, n)| n.clone())
        .unwrap_or_default()
}

fn by<'a>(ctx: &Ctx, name: &'a str, at: i64) -> By<'a> {
    By {
        user: ctx.actor_id(),
        name,
        at,
    }
}

/// The current status of each item of the checks (oldest first) of one contractor.
fn current_checks(checks: &[&CheckRow]) -> Vec<(CheckItem, CheckStatus)> {
    let mut out: Vec<(CheckItem, CheckStatus)> = Vec::new();
    for c in checks {
        let (Some(item), Some(status)) = (CheckItem::parse(&c.item), CheckStatus::parse(&c.status))
        else {
            continue;
        };
        out.retain(|(i, _)| *i != item);
        out.push((item, status));
    }
    out
}

// ───────────────────────────── use cases ─────────────────────────────

impl App {
    /// The reach of a person for contractors: figures (department heads, the privacy office,
    /// executives, auditors); refused (and recorded) for the others.
    async fn contractor_scope(&self, ctx: &Ctx, action: &str) -> Result<ProgrammeScope, AppError> {
        let scope = self.programme_scope(ctx).await?;
        if !ctx.allows(Permission::ViewProgramme) || !scope.sees_figures() {
            return Err(self.denied(ctx, action, "contractors").await);
        }
        Ok(scope)
    }

    /// Whether the person may record checks and reviews of a contractor of `department_id`.
    fn records_for(ctx: &Ctx, scope: &ProgrammeScope, department_id: i64) -> bool {
        scope.runs
            || (ctx
                .user_ref()
                .is_some_and(|u| u.roles.contains(Role::DepartmentHead))
                && scope.departments.is_some()
                && scope.sees_department(department_id))
    }

    async fn visible_contractor(
        &self,
        ctx: &Ctx,
        scope: &ProgrammeScope,
        id: i64,
        action: &str,
    ) -> Result<ContractorRow, AppError> {
        match self.store.contractor(id).await {
            Ok(c) if c.company_id == scope.company_id && scope.sees_department(c.department_id) => {
                Ok(c)
            }
            Ok(_) | Err(mamori_store::StoreError::NotFound) => {
                self.audit(
                    ctx,
                    action,
                    &format!("contractor:{id}"),
                    Outcome::Denied,
                    json!({}),
                )
                .await?;
                Err(AppError::NotFound)
            }
            Err(e) => Err(e.into()),
        }
    }

    async fn contractor_lines(
        &self,
        scope: &ProgrammeScope,
    ) -> Result<Vec<ContractorLine>, AppError> {
        let depts = self.programme_depts(scope.company_id).await?;
        let checks = self.store.contractor_checks(scope.company_id, None).await?;
        let links = self
            .store
            .contractor_dataset_links(scope.company_id)
            .await?;
        let today = self.today().to_string();
        Ok(self
            .store
            .contractors(scope.company_id)
            .await?
            .into_iter()
            .filter(|c| scope.sees_department(c.department_id))
            .map(|row| {
                let mine: Vec<&CheckRow> = checks
                    .iter()
                    .filter(|k| k.contractor_id == row.id)
                    .collect();
                ContractorLine {
                    department: dept_name(&depts, row.department_id),
                    summary: ChecklistSummary::of(&current_checks(&mine)),
                    review_overdue: row.next_review_on < today,
                    datasets: links.iter().filter(|(c, _)| *c == row.id).count(),
                    row,
                }
            })
            .collect())
    }

    /// The register of contractors the person may see.
    pub async fn contractors_overview(&self, ctx: &Ctx) -> Result<ContractorsOverview, AppError> {
        let scope = self.contractor_scope(ctx, "contractor.list").await?;
        let lines = self.contractor_lines(&scope).await?;
        self.audit(
            ctx,
            "contractor.list",
            "contractors",
            Outcome::Success,
            json!({"contractors": lines.len()}),
        )
        .await?;
        Ok(ContractorsOverview {
            lines,
            can_create: scope.runs,
            departments: self.programme_depts(scope.company_id).await?,
            datasets: self.dataset_names(scope.company_id).await?,
        })
    }

    async fn dataset_names(&self, company_id: i64) -> Result<Vec<(i64, String)>, AppError> {
        Ok(self
            .store
            .list_datasets(company_id)
            .await?
            .into_iter()
            .map(|d| (d.id, d.name))
            .collect())
    }

    /// One contractor: the checklist with its history, the reviews, the ledger entries and
    /// the incidents that name it.
    pub async fn contractor_detail(
        &self,
        ctx: &Ctx,
        id: i64,
    ) -> Result<ContractorDetail, AppError> {
        let scope = self.contractor_scope(ctx, "contractor.view").await?;
        let row = self
            .visible_contractor(ctx, &scope, id, "contractor.view")
            .await?;
        let depts = self.programme_depts(scope.company_id).await?;
        let all = self
            .store
            .contractor_checks(scope.company_id, Some(id))
            .await?;
        let refs: Vec<&CheckRow> = all.iter().collect();
        let current = current_checks(&refs);
        let checks = CheckItem::ALL
            .into_iter()
            .map(|item| {
                let mut history: Vec<CheckRow> = all
                    .iter()
                    .filter(|c| c.item == item.code())
                    .cloned()
                    .collect();
                history.reverse();
                CheckState {
                    item,
                    status: current
                        .iter()
                        .find(|(i, _)| *i == item)
                        .map_or(CheckStatus::Unchecked, |(_, s)| *s),
                    current: history.first().cloned(),
                    history,
                }
            })
            .collect();
        let all_datasets = self.dataset_names(scope.company_id).await?;
        let linked: Vec<i64> = self
            .store
            .contractor_dataset_links(scope.company_id)
            .await?
            .into_iter()
            .filter(|(c, _)| *c == id)
            .map(|(_, d)| d)
            .collect();
        let datasets = all_datasets
            .iter()
            .filter(|(d, _)| linked.contains(d))
            .cloned()
            .collect();
        let reviews = self.store.contractor_reviews(id).await?;
        let incidents = self.store.contractor_incidents(id).await?;
        self.audit(
            ctx,
            "contractor.view",
            &format!("contractor:{id}"),
            Outcome::Success,
            json!({}),
        )
        .await?;
        Ok(ContractorDetail {
            department: dept_name(&depts, row.department_id),
            summary: ChecklistSummary::of(&current),
            review_overdue: row.next_review_on < self.today().to_string(),
            checks,
            reviews,
            datasets,
            incidents,
            can_edit: scope.runs,
            can_record: Self::records_for(ctx, &scope, row.department_id),
            departments: depts,
            all_datasets,
            row,
        })
    }

    /// Checks a contractor's fields, collecting every problem; returns the interval and the
    /// next review date.
    async fn check_contractor(
        &self,
        company_id: i64,
        input: &ContractorInput,
    ) -> Result<(ContractorInput, i64, String), AppError> {
        let mut ps = Problems::new();
        let clean = ContractorInput {
            name: text(
                &mut ps,
                "name",
                ("委託先名", "name of the contractor"),
                &input.name,
                100,
                true,
            ),
            address: text(
                &mut ps,
                "address",
                ("所在地", "address"),
                &input.address,
                200,
                false,
            ),
            contact_person: text(
                &mut ps,
                "contact_person",
                ("担当者", "contact person"),
                &input.contact_person,
                100,
                false,
            ),
            contact: text(
                &mut ps,
                "contact",
                ("連絡先", "contact"),
                &input.contact,
                200,
                false,
            ),
            work: text(
                &mut ps,
                "work",
                ("委託業務の内容", "work entrusted"),
                &input.work,
                1000,
                true,
            ),
            ..input.clone()
        };
        let depts = self.programme_depts(company_id).await?;
        if !depts.iter().any(|(id, _)| *id == input.department_id) {
            ps.push(Problem::new(
                Some("department_id"),
                "担当部署を選んでください",
                "choose the department that owns the relationship",
            ));
        }
        let typed = input.interval_months.trim();
        let months = if typed.is_empty() {
            Some(dc::DEFAULT_INTERVAL_MONTHS)
        } else {
            let checked = mamori_domain::number::parse_whole(typed)
                .ok_or_else(|| {
                    (
                        format!("見直しの間隔「{typed}」を月数として読めません"),
                        format!("the review interval \"{typed}\" is not a number of months"),
                    )
                })
                .and_then(|n| {
                    dc::check_interval(n).map_err(|(ja, en)| (ja.to_owned(), en.to_owned()))
                });
            checked
                .map_err(|(ja, en)| ps.push(Problem::new(Some("interval_months"), ja, en)))
                .ok()
        };
        let next = date_field(
            &mut ps,
            "next_review_on",
            ("次回見直し日", "next review"),
            &input.next_review_on,
            false,
        );
        let datasets = self.dataset_names(company_id).await?;
        if input
            .datasets
            .iter()
            .any(|d| !datasets.iter().any(|(id, _)| id == d))
        {
            ps.push(Problem::new(
                Some("datasets"),
                "個人情報管理台帳の項目を選び直してください",
                "choose the ledger entries again",
            ));
        }
        ps.done()?;
        let months = months.unwrap_or(dc::DEFAULT_INTERVAL_MONTHS);
        let next = next.unwrap_or_else(|| dc::next_review(self.today(), months));
        Ok((clean, i64::from(months), next.to_string()))
    }

    /// Adds a contractor to the register (the privacy office, the CISO).
    pub async fn create_contractor(
        &self,
        ctx: &Ctx,
        input: &ContractorInput,
    ) -> Result<i64, AppError> {
        let scope = self.contractor_scope(ctx, "contractor.create").await?;
        if !scope.runs {
            return Err(self.denied(ctx, "contractor.create", "contractors").await);
        }
        let (c, months, next) = self.check_contractor(scope.company_id, input).await?;
        let now = self.clock.now_micros();
        let actor = ctx.actor_name();
        let id = self
            .store
            .insert_contractor(
                scope.company_id,
                &ContractorFields {
                    department_id: c.department_id,
                    name: &c.name,
                    address: &c.address,
                    contact_person: &c.contact_person,
                    contact: &c.contact,
                    work: &c.work,
                    interval_months: months,
                    next_review_on: &next,
                },
                by(ctx, &actor, now),
            )
            .await?;
        let mut datasets = c.datasets.clone();
        datasets.sort_unstable();
        datasets.dedup();
        self.store.set_contractor_datasets(id, &datasets).await?;
        self.audit(
            ctx,
            "contractor.create",
            &format!("contractor:{id}"),
            Outcome::Success,
            json!({"name": c.name, "department": c.department_id, "interval_months": months,
                   "next_review_on": next, "datasets": datasets}),
        )
        .await?;
        Ok(id)
    }

    /// Changes a contractor's register entry and its ledger entries.
    pub async fn update_contractor(
        &self,
        ctx: &Ctx,
        id: i64,
        input: &ContractorInput,
    ) -> Result<(), AppError> {
        let scope = self.contractor_scope(ctx, "contractor.update").await?;
        let target = format!("contractor:{id}");
        self.visible_contractor(ctx, &scope, id, "contractor.update")
            .await?;
        if !scope.runs {
            return Err(self.denied(ctx, "contractor.update", &target).await);
        }
        let (c, months, next) = self.check_contractor(scope.company_id, input).await?;
        self.store
            .update_contractor(
                id,
                input.version,
                &ContractorFields {
                    department_id: c.department_id,
                    name: &c.name,
                    address: &c.address,
                    contact_person: &c.contact_person,
                    contact: &c.contact,
                    work: &c.work,
                    interval_months: months,
                    next_review_on: &next,
                },
                self.clock.now_micros(),
            )
            .await?;
        let mut datasets = c.datasets.clone();
        datasets.sort_unstable();
        datasets.dedup();
        self.store.set_contractor_datasets(id, &datasets).await?;
        self.audit(
            ctx,
            "contractor.update",
            &target,
            Outcome::Success,
            json!({"name": c.name, "department": c.department_id, "interval_months": months,
                   "next_review_on": next, "datasets": datasets}),
        )
        .await?;
        Ok(())
    }

    /// Records the state of one checklist item with its evidence (a new row: the history
    /// stays).
    pub async fn record_contractor_check(
        &self,
        ctx: &Ctx,
        id: i64,
        input: &CheckInput,
    ) -> Result<i64, AppError> {
        let scope = self.contractor_scope(ctx, "contractor.check").await?;
        let target = format!("contractor:{id}");
        let row = self
            .visible_contractor(ctx, &scope, id, "contractor.check")
            .await?;
        if !Self::records_for(ctx, &scope, row.department_id) {
            return Err(self.denied(ctx, "contractor.check", &target).await);
        }
        let mut ps = Problems::new();
        let item = CheckItem::parse(input.item.trim());
        if item.is_none() {
            ps.push(Problem::new(
                Some("item"),
                "確認項目を選んでください",
                "choose the item",
            ));
        }
        let status = CheckStatus::parse(input.status.trim());
        if status.is_none() {
            ps.push(Problem::new(
                Some("status"),
                "状態（満たす・満たさない・未確認）を選んでください",
                "choose the status (met, not met, not checked)",
            ));
        }
        let document = text(
            &mut ps,
            "document",
            ("根拠資料", "evidence document"),
            &input.document,
            200,
            false,
        );
        let on = date_field(
            &mut ps,
            "document_on",
            ("資料の日付", "date of the document"),
            &input.document_on,
            false,
        );
        let note = text(&mut ps, "note", ("メモ", "note"), &input.note, 1000, false);
        if status == Some(CheckStatus::Met) && document.is_empty() && note.is_empty() {
            ps.push(Problem::new(
                Some("document"),
                "「満たす」とするには、根拠資料（契約書、確認書など）の名前かメモを入力してください",
                "to mark an item as met, name the evidence (the contract, a questionnaire) or add a note",
            ));
        }
        ps.done()?;
        let (Some(item), Some(status)) = (item, status) else {
            return Err(AppError::Internal("checked above".into()));
        };
        let now = self.clock.now_micros();
        let actor = ctx.actor_name();
        let on = on.map(|d| d.to_string());
        let check = self
            .store
            .add_contractor_check(
                id,
                item.code(),
                status.code(),
                &document,
                on.as_deref(),
                &note,
                by(ctx, &actor, now),
            )
            .await?;
        self.audit(
            ctx,
            "contractor.check",
            &target,
            Outcome::Success,
            json!({"item": item.code(), "status": status.code(), "document": document,
                   "document_on": on, "check": check}),
        )
        .await?;
        Ok(check)
    }

    /// Records a periodic review; the next one is due the contractor's interval later.
    pub async fn record_contractor_review(
        &self,
        ctx: &Ctx,
        id: i64,
        input: &ReviewInput,
    ) -> Result<i64, AppError> {
        let scope = self.contractor_scope(ctx, "contractor.review").await?;
        let target = format!("contractor:{id}");
        let row = self
            .visible_contractor(ctx, &scope, id, "contractor.review")
            .await?;
        if !Self::records_for(ctx, &scope, row.department_id) {
            return Err(self.denied(ctx, "contractor.review", &target).await);
        }
        let mut ps = Problems::new();
        let on = date_field(
            &mut ps,
            "reviewed_on",
            ("見直し日", "date of the review"),
            &input.reviewed_on,
            true,
        );
        if on.is_some_and(|d| d > self.today()) {
            ps.push(Problem::new(
                Some("reviewed_on"),
                "見直し日に未来の日付は入力できません",
                "the date of the review cannot be in the future",
            ));
        }
        let result = ReviewResult::parse(input.result.trim());
        if result.is_none() {
            ps.push(Problem::new(
                Some("result"),
                "結果を選んでください",
                "choose the result",
            ));
        }
        let note = text(
            &mut ps,
            "note",
            ("所見", "findings"),
            &input.note,
            2000,
            false,
        );
        if matches!(
            result,
            Some(ReviewResult::Improvements | ReviewResult::Terminate)
        ) && note.is_empty()
        {
            ps.push(Problem::new(
                Some("note"),
                "改善を求める場合や委託を終了する場合は、所見を入力してください",
                "say what was found when asking for improvements or ending the relationship",
            ));
        }
        ps.done()?;
        let (Some(on), Some(result)) = (on, result) else {
            return Err(AppError::Internal("checked above".into()));
        };
        let months = u32::try_from(row.interval_months).unwrap_or(dc::DEFAULT_INTERVAL_MONTHS);
        let next = dc::next_review(on, months).to_string();
        let now = self.clock.now_micros();
        let actor = ctx.actor_name();
        let review = self
            .store
            .add_contractor_review(
                id,
                &on.to_string(),
                result.code(),
                &note,
                &next,
                by(ctx, &actor, now),
            )
            .await?;
        self.audit(
            ctx,
            "contractor.review",
            &target,
            Outcome::Success,
            json!({"reviewed_on": on.to_string(), "result": result.code(), "next_review_on": next,
                   "review": review}),
        )
        .await?;
        Ok(review)
    }

    /// The contractor an incident names, for the incident page: the current one for whoever
    /// sees the incident, the choices for those who manage incidents.
    pub async fn incident_contractor(
        &self,
        ctx: &Ctx,
        incident_id: i64,
    ) -> Result<IncidentContractor, AppError> {
        let (incident, _) = self.incident_for(ctx, incident_id).await?;
        let (_, current) = self.store.incident_contractor(incident_id).await?;
        let all = self.store.contractors(incident.company_id).await?;
        Ok(IncidentContractor {
            current: current.and_then(|c| {
                all.iter()
                    .find(|r| r.id == c)
                    .map(|r| (r.id, r.name.clone()))
            }),
            can_set: ctx.allows(Permission::ManageIncidents),
            options: all.into_iter().map(|r| (r.id, r.name)).collect(),
        })
    }

    /// Names (or with `None` clears) the contractor involved in an incident.
    pub async fn set_incident_contractor(
        &self,
        ctx: &Ctx,
        incident_id: i64,
        contractor_id: Option<i64>,
    ) -> Result<(), AppError> {
        let target = format!("incident:{incident_id}");
        let (incident, _) = self.incident_for(ctx, incident_id).await?;
        if !ctx.allows(Permission::ManageIncidents) {
            return Err(self.denied(ctx, "incident.contractor", &target).await);
        }
        if let Some(c) = contractor_id {
            match self.store.contractor(c).await {
                Ok(r) if r.company_id == incident.company_id => {}
                Ok(_) | Err(mamori_store::StoreError::NotFound) => {
                    return Err(AppError::invalid(
                        "contractor_id",
                        "委託先を一覧から選んでください",
                        "choose the contractor from the list",
                    ))
                }
                Err(e) => return Err(e.into()),
            }
        }
        self.store
            .set_incident_contractor(incident_id, contractor_id)
            .await?;
        self.audit(
            ctx,
            "incident.contractor",
            &target,
            Outcome::Success,
            json!({"contractor": contractor_id}),
        )
        .await?;
        Ok(())
    }

    /// The contractors that handle a ledger entry, within the person's reach (for the ledger
    /// entry's page, which has checked and recorded the view of the entry itself); empty for
    /// those who may not see the register.
    pub async fn dataset_contractors(
        &self,
        ctx: &Ctx,
        dataset_id: i64,
    ) -> Result<Vec<(i64, String)>, AppError> {
        let scope = self.programme_scope(ctx).await?;
        if !ctx.allows(Permission::ViewProgramme) || !scope.sees_figures() {
            return Ok(Vec::new());
        }
        let linked: Vec<i64> = self
            .store
            .contractor_dataset_links(scope.company_id)
            .await?
            .into_iter()
            .filter(|(_, d)| *d == dataset_id)
            .map(|(c, _)| c)
            .collect();
        Ok(self
            .store
            .contractors(scope.company_id)
            .await?
            .into_iter()
            .filter(|c| linked.contains(&c.id) && scope.sees_department(c.department_id))
            .map(|c| (c.id, c.name))
            .collect())
    }

    /// The contractors whose review is overdue, within the person's reach (for the monthly
    /// report and the managers' pages). Not audited itself: the caller's page is.
    pub async fn contractors_review_overdue(
        &self,
        ctx: &Ctx,
    ) -> Result<Vec<ContractorLine>, AppError> {
        let scope = self.contractor_scope(ctx, "contractor.list").await?;
        Ok(self
            .contractor_lines(&scope)
            .await?
            .into_iter()
            .filter(|l| l.review_overdue)
            .collect())
    }

    /// The contractors with a checklist item not met, within the person's reach.
    pub async fn contractors_with_unmet_items(
        &self,
        ctx: &Ctx,
    ) -> Result<Vec<ContractorLine>, AppError> {
        let scope = self.contractor_scope(ctx, "contractor.list").await?;
        Ok(self
            .contractor_lines(&scope)
            .await?
            .into_iter()
            .filter(|l| l.summary.not_met > 0)
            .collect())
    }

    /// Mails the reminders of contractor reviews (30 and 7 days before the due date, the day
    /// after it and weekly after that) to the owning department's heads and the privacy
    /// office; each reminder once (`mark_reminder`), on JST days. Returns the mails queued.
    pub async fn send_contractor_reminders(&self) -> Result<usize, AppError> {
        let now = self.clock.now_micros();
        let today = jst_date(now);
        let mut sent = 0;
        for c in self.store.all_contractors().await? {
            let Ok(due) = c.next_review_on.parse::<NaiveDate>() else {
                continue;
            };
            let Some(r) = dc::reminder(due, today) else {
                continue;
            };
            if !self
                .store
                .mark_reminder("contractor", &dc::reminder_key(c.id, due, r), now)
                .await?
            {
                continue;
            }
            let when = match r {
                ReviewReminder::Before(n) => format!("見直し期限まであと{n}日です"),
                ReviewReminder::Overdue(n) => format!("見直し期限を{n}日過ぎています"),
            };
            let subject = format!("【委託先】「{}」の定期見直し: {when}", c.name);
            let body = format!(
                "委託先「{}」の定期見直しの期限は {} です。\n{when}\n\n委託先の取扱状況を確認し、結果を記録してください。\n{}/programme/contractors/{}\n",
                c.name, c.next_review_on, self.settings.public_url, c.id
            );
            for u in self
                .heads_and_privacy_office(c.company_id, c.department_id)
                .await?
            {
                self.queue_plain_mail(c.company_id, &u.email, &subject, &body)
                    .await?;
                sent += 1;
            }
        }
        Ok(sent)
    }
}
