//! Take-outs of personal data (持ち出し, issue 17 part 4): a person asks to take a ledger entry
//! of their department out on a device of the register or on paper, until a day; a head of the
//! person's department (or of one above it) or the privacy office approves or refuses with a
//! reason — never the person who asked; the person records the return or destruction with its
//! day and a note. Take-outs still out after their last day are reminded by mail to the person
//! and to whoever approved (once per person and JST day).
//!
//! [`App::open_takeouts`] lists the take-outs of a scope that were open in a month: the monthly
//! inspection (part 1) and the monthly report (part 7) show them.

use crate::programme::ProgrammeScope;
use crate::{App, AppError, Ctx, Problem, Problems};
use mamori_domain::audit::Outcome;
use mamori_domain::incident::jst_date;
use mamori_domain::programme::schedule::Month;
use mamori_domain::programme::takeout::{self as rule, Decider, Evidence, Refusal, Status};
use mamori_domain::role::{Permission, Role};
use mamori_store::devices::{NewTakeout, TakeoutRow};
use serde_json::json;
use std::collections::HashMap;

/// The periodic task that reminds take-outs past their last day.
pub const TAKEOUT_REMINDER_TASK: &str = "takeouts.reminders";

/// A request as the form sends it.
#[derive(Debug, Clone, Default)]
pub struct TakeoutInput {
    pub dataset_id: i64,
    /// `paper`, or the id of a device of the register.
    pub carrier: String,
    pub purpose: String,
    pub until: String,
}

/// What a person may choose on the request form.
#[derive(Debug, Clone, Default)]
pub struct TakeoutChoices {
    /// Ledger entries of the person's department and the departments above it.
    pub datasets: Vec<(i64, String)>,
    /// Devices the person holds or that belong to their department (not lost or retired):
    /// id, asset tag, kind code, model.
    pub devices: Vec<(i64, String, String, String)>,
}

/// One take-out with the names a page shows.
#[derive(Debug, Clone)]
pub struct TakeoutLine {
    pub row: TakeoutRow,
    pub status: Status,
    pub requester: String,
    pub department: String,
    pub dataset: String,
    /// The device's asset tag and model; `None` on paper.
    pub device: Option<(i64, String)>,
    pub decided_by: String,
    pub overdue_days: i64,
}

/// Which take-outs a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Show {
    /// Requested or approved, not yet closed.
    #[default]
    Open,
    /// Approved and past the last day.
    Overdue,
    /// Waiting for a decision.
    Pending,
    /// Returned or destroyed.
    Closed,
    All,
}

impl Show {
    pub fn code(self) -> &'static str {
        match self {
            Show::Open => "open",
            Show::Overdue => "overdue",
            Show::Pending => "pending",
            Show::Closed => "closed",
            Show::All => "all",
        }
    }

    pub fn parse(s: &str) -> Show {
        [
            Show::Open,
            Show::Overdue,
            Show::Pending,
            Show::Closed,
            Show::All,
        ]
        .into_iter()
        .find(|x| x.code() == s)
        .unwrap_or_default()
    }

    fn keeps(self, l: &TakeoutLine) -> bool {
        match self {
            Show::Open => l.status.is_open(),
            Show::Overdue => l.overdue_days > 0,
            Show::Pending => l.status == Status::Requested,
            Show::Closed => l.status == Status::Closed,
            Show::All => true,
        }
    }
}

#[derive(Debug, Clone)]
pub struct TakeoutList {
    pub lines: Vec<TakeoutLine>,
    pub departments: Vec<(i64, String)>,
    /// Whether the person sees take-outs of others.
    pub sees_others: bool,
    pub can_approve: bool,
}

#[derive(Debug, Clone)]
pub struct TakeoutView {
    pub line: TakeoutLine,
    /// The person may approve or refuse it now.
    pub can_decide: bool,
    /// Why the person may not decide it although they approve take-outs (their own request).
    pub own_request: bool,
    /// The person may record its return or destruction now.
    pub can_close: bool,
    pub can_withdraw: bool,
}

fn refusal(r: Refusal) -> AppError {
    AppError::invalid(r.field(), r.ja(), r.en())
}

impl App {
    /// The departments a department belongs to: itself and every one above it.
    async fn dept_and_above(
        &self,
        company_id: i64,
        department_id: i64,
    ) -> Result<Vec<i64>, AppError> {
        let depts = self.store.list_departments(company_id).await?;
        let mut out = Vec::new();
        let mut at = Some(department_id);
        while let Some(d) = at {
            if out.contains(&d) {
                break;
            }
            out.push(d);
            at = depts.iter().find(|x| x.id == d).and_then(|x| x.parent_id);
        }
        Ok(out)
    }

    /// The ledger entries and devices a person may name in a request.
    pub async fn takeout_choices(&self, ctx: &Ctx) -> Result<TakeoutChoices, AppError> {
        let u = ctx.user_ref().ok_or(AppError::Denied)?;
        if !ctx.allows(Permission::TakePart) {
            return Err(AppError::Denied);
        }
        let depts = self.dept_and_above(u.company_id, u.department_id).await?;
        let datasets = self
            .store
            .list_datasets(u.company_id)
            .await?
            .into_iter()
            .filter(|d| depts.contains(&d.department_id))
            .map(|d| (d.id, d.name))
            .collect();
        let borrowed: Vec<i64> = self
            .store
            .open_loans_of(u.id)
            .await?
            .iter()
            .map(|l| l.device_id)
            .collect();
        let devices = self
            .store
            .list_devices(u.company_id, None, None, None)
            .await?
            .into_iter()
            .filter(|d| {
                !matches!(d.state.as_str(), "lost" | "retired")
                    && (d.owner_user_id == Some(u.id)
                        || borrowed.contains(&d.id)
                        || (d.department_id == u.department_id && d.state != "lent"))
            })
            .map(|d| (d.id, d.asset_tag, d.kind, d.model))
            .collect();
        Ok(TakeoutChoices { datasets, devices })
    }

    /// Files a request; the heads who may decide it get a mail.
    pub async fn request_takeout(&self, ctx: &Ctx, input: &TakeoutInput) -> Result<i64, AppError> {
        let u = ctx.user_ref().ok_or(AppError::Denied)?.clone();
        let choices = self.takeout_choices(ctx).await?;
        let now = self.clock.now_micros();
        let today = jst_date(now);
        let mut ps = Problems::new();
        let dataset = choices
            .datasets
            .iter()
            .find(|(id, _)| *id == input.dataset_id);
        if dataset.is_none() {
            ps.push(Problem::new(
                Some("dataset_id"),
                "持ち出す個人情報（自部署の台帳）を選んでください",
                "choose the personal data (a ledger entry of your department)",
            ));
        }
        let device_id = match input.carrier.trim() {
            "paper" => None,
            other => {
                let id: i64 = other.parse().unwrap_or(0);
                if choices.devices.iter().any(|d| d.0 == id) {
                    Some(id)
                } else {
                    ps.push(Problem::new(
                        Some("carrier"),
                        "持ち出しに使う端末・媒体（または紙）を選んでください",
                        "choose the device or medium (or paper)",
                    ));
                    None
                }
            }
        };
        let purpose = input.purpose.trim();
        if purpose.is_empty() || purpose.chars().count() > 1000 {
            ps.push(Problem::new(
                Some("purpose"),
                "持ち出す理由を1000文字以内で入力してください",
                "give the reason, at most 1000 characters",
            ));
        }
        let until = mamori_domain::vault::schema::parse_date(&input.until);
        match until {
            None => ps.push(Problem::new(
                Some("until"),
                "持ち出し期限を日付で入力してください（例: 2026-12-24）",
                "give the last day as a date (2026-12-24)",
            )),
            Some(d) => {
                if let Err(r) = rule::check_until(d, today) {
                    ps.push(Problem::new(Some("until"), r.ja(), r.en()));
                }
            }
        }
        ps.done()?;
        let id = self
            .store
            .insert_takeout(&NewTakeout {
                company_id: u.company_id,
                department_id: u.department_id,
                requester_id: u.id,
                dataset_id: input.dataset_id,
                device_id,
                purpose: purpose.to_owned(),
                until_on: until.unwrap_or(today).to_string(),
                requested_at: now,
                requested_on: today.to_string(),
            })
            .await?;
        self.audit(
            ctx,
            "takeouts.request",
            &format!("takeout:{id}"),
            Outcome::Success,
            json!({"dataset": input.dataset_id, "device": device_id, "until": until.map(|d| d.to_string())}),
        )
        .await?;
        let subject = "【持ち出し申請】承認をお願いします";
        let body = format!(
            "{} さんから個人情報の持ち出し申請がありました（{}、期限 {}）。\n承認または却下してください。\n\n{}/programme/takeouts/{id}\n",
            u.display_name,
            dataset.map_or("", |d| d.1.as_str()),
            until.unwrap_or(today),
            self.settings.public_url
        );
        for h in self.heads_above(u.company_id, u.department_id).await? {
            if h.id != u.id {
                self.queue_plain_mail(u.company_id, &h.email, subject, &body)
                    .await?;
            }
        }
        Ok(id)
    }

    async fn takeout_lines(
        &self,
        company_id: i64,
        rows: Vec<TakeoutRow>,
    ) -> Result<Vec<TakeoutLine>, AppError> {
        let today = jst_date(self.clock.now_micros());
        let users: HashMap<i64, String> = self
            .store
            .list_users(Some(company_id))
            .await?
            .into_iter()
            .map(|u| (u.id, u.display_name))
            .collect();
        let depts: HashMap<i64, String> = self.dept_list(company_id).await?.into_iter().collect();
        let datasets: HashMap<i64, String> = self
            .store
            .list_datasets(company_id)
            .await?
            .into_iter()
            .map(|d| (d.id, d.name))
            .collect();
        let devices: HashMap<i64, String> = self
            .store
            .list_devices(company_id, None, None, None)
            .await?
            .into_iter()
            .map(|d| {
                let label = if d.model.is_empty() {
                    d.asset_tag
                } else {
                    format!("{} {}", d.asset_tag, d.model)
                };
                (d.id, label)
            })
            .collect();
        Ok(rows
            .into_iter()
            .map(|row| {
                let status = Status::from_code(&row.status).unwrap_or(Status::Requested);
                let overdue_days = row
                    .until_on
                    .parse()
                    .map_or(0, |until| rule::days_overdue(status, until, today));
                TakeoutLine {
                    status,
                    requester: users.get(&row.requester_id).cloned().unwrap_or_default(),
                    department: depts.get(&row.department_id).cloned().unwrap_or_default(),
                    dataset: datasets.get(&row.dataset_id).cloned().unwrap_or_default(),
                    device: row
                        .device_id
                        .map(|d| (d, devices.get(&d).cloned().unwrap_or_default())),
                    decided_by: row
                        .decided_by
                        .and_then(|d| users.get(&d).cloned())
                        .unwrap_or_default(),
                    overdue_days,
                    row,
                }
            })
            .collect())
    }

    /// Whether the scope reaches a take-out beyond the own ones.
    fn sees_takeout(ctx: &Ctx, scope: &ProgrammeScope, row: &TakeoutRow) -> bool {
        row.requester_id == scope.user_id
            || (ctx.allows(Permission::ViewProgramme)
                && scope.sees_figures()
                && scope.sees_department(row.department_id))
    }

    /// Take-outs the person sees, filtered.
    pub async fn takeouts(
        &self,
        ctx: &Ctx,
        show: Show,
        department_id: Option<i64>,
    ) -> Result<TakeoutList, AppError> {
        let scope = self.programme_scope(ctx).await?;
        let sees_others = ctx.allows(Permission::ViewProgramme) && scope.sees_figures();
        let rows = if sees_others {
            self.store
                .list_takeouts(Some(scope.company_id), None)
                .await?
        } else {
            self.store.takeouts_of(scope.user_id).await?
        };
        let rows = rows
            .into_iter()
            .filter(|r| Self::sees_takeout(ctx, &scope, r))
            .filter(|r| department_id.is_none_or(|d| r.department_id == d))
            .collect();
        let lines = self
            .takeout_lines(scope.company_id, rows)
            .await?
            .into_iter()
            .filter(|l| show.keeps(l))
            .collect();
        let departments = self
            .dept_list(scope.company_id)
            .await?
            .into_iter()
            .filter(|(d, _)| sees_others && scope.sees_department(*d))
            .collect();
        Ok(TakeoutList {
            lines,
            departments,
            sees_others,
            can_approve: ctx.allows(Permission::ApproveTakeouts),
        })
    }

    /// Requests waiting for this person's decision (not the own ones).
    pub async fn approval_queue(&self, ctx: &Ctx) -> Result<Vec<TakeoutLine>, AppError> {
        let scope = self.programme_scope(ctx).await?;
        if !ctx.allows(Permission::ApproveTakeouts) {
            return Err(AppError::Denied);
        }
        let mut rows = Vec::new();
        for r in self
            .store
            .list_takeouts(Some(scope.company_id), Some("requested"))
            .await?
        {
            if self.decider(ctx, &scope, &r).await?.is_some_and(|d| {
                d.user_id != r.requester_id && (d.privacy_office || d.heads_requester)
            }) {
                rows.push(r);
            }
        }
        rows.reverse();
        self.takeout_lines(scope.company_id, rows).await
    }

    /// The person as a decider of `row`; `None` when they may not approve take-outs at all.
    async fn decider(
        &self,
        ctx: &Ctx,
        scope: &ProgrammeScope,
        row: &TakeoutRow,
    ) -> Result<Option<Decider>, AppError> {
        let Some(u) = ctx.user_ref() else {
            return Ok(None);
        };
        if !ctx.allows(Permission::ApproveTakeouts) || row.company_id != scope.company_id {
            return Ok(None);
        }
        let privacy_office = u.roles.contains(Role::PrivacyOffice);
        let heads_requester = u.roles.contains(Role::DepartmentHead)
            && self
                .dept_and_above(row.company_id, row.department_id)
                .await?
                .contains(&u.department_id);
        Ok(Some(Decider {
            user_id: u.id,
            privacy_office,
            heads_requester,
        }))
    }

    /// One take-out, for its requester, the heads of its department and readers of the
    /// programme of the company.
    pub async fn takeout(&self, ctx: &Ctx, id: i64) -> Result<TakeoutView, AppError> {
        let scope = self.programme_scope(ctx).await?;
        let row = self.store.takeout(id).await?;
        if row.company_id != scope.company_id {
            return Err(AppError::NotFound);
        }
        if !Self::sees_takeout(ctx, &scope, &row) {
            return Err(AppError::Denied);
        }
        let decider = self.decider(ctx, &scope, &row).await?;
        let status = Status::from_code(&row.status).unwrap_or(Status::Requested);
        let can_decide = decider
            .is_some_and(|d| rule::check_decision(row.requester_id, status, d, true, "").is_ok());
        let own_request = decider.is_some() && row.requester_id == scope.user_id;
        let mine = row.requester_id == scope.user_id;
        let can_close = status == Status::Approved && (mine || scope.runs);
        let can_withdraw = status == Status::Requested && mine;
        let line = self
            .takeout_lines(scope.company_id, vec![row])
            .await?
            .pop()
            .ok_or(AppError::NotFound)?;
        Ok(TakeoutView {
            line,
            can_decide,
            own_request,
            can_close,
            can_withdraw,
        })
    }

    /// Approves (or, with a reason, refuses) a request. The own request is refused with the
    /// reason, whatever the person's role; so is a request outside the person's departments.
    pub async fn decide_takeout(
        &self,
        ctx: &Ctx,
        id: i64,
        approve: bool,
        reason: &str,
    ) -> Result<(), AppError> {
        let scope = self.programme_scope(ctx).await?;
        let row = self.store.takeout(id).await?;
        if row.company_id != scope.company_id {
            return Err(AppError::NotFound);
        }
        let Some(decider) = self.decider(ctx, &scope, &row).await? else {
            return Err(AppError::Denied);
        };
        let status = Status::from_code(&row.status).unwrap_or(Status::Requested);
        let reason = reason.trim();
        if reason.chars().count() > 1000 {
            return Err(AppError::invalid(
                "reason",
                "理由は1000文字以内にしてください",
                "the reason is at most 1000 characters",
            ));
        }
        if let Err(r) = rule::check_decision(row.requester_id, status, decider, approve, reason) {
            self.audit(
                ctx,
                "takeouts.decide",
                &format!("takeout:{id}"),
                Outcome::Denied,
                json!({"approve": approve, "refusal": format!("{r:?}")}),
            )
            .await?;
            return Err(refusal(r));
        }
        let now = self.clock.now_micros();
        if !self
            .store
            .decide_takeout(id, approve, decider.user_id, reason, now)
            .await?
        {
            return Err(refusal(Refusal::NotPending));
        }
        self.audit(
            ctx,
            if approve {
                "takeouts.approve"
            } else {
                "takeouts.refuse"
            },
            &format!("takeout:{id}"),
            Outcome::Success,
            json!({"requester": format!("user:{}", row.requester_id)}),
        )
        .await?;
        let requester = self.store.get_user(row.requester_id).await?;
        let (subject, what) = if approve {
            (
                "【持ち出し申請】承認されました",
                "承認されました。持ち出し後は期限までに返却または廃棄を記録してください。"
                    .to_owned(),
            )
        } else {
            (
                "【持ち出し申請】却下されました",
                format!("却下されました。理由: {reason}"),
            )
        };
        let body = format!(
            "持ち出し申請（期限 {}）が{what}\n\n{}/programme/takeouts/{id}\n",
            row.until_on, self.settings.public_url
        );
        self.queue_plain_mail(row.company_id, &requester.email, subject, &body)
            .await?;
        Ok(())
    }

    /// Withdraws the own request before it is decided.
    pub async fn withdraw_takeout(&self, ctx: &Ctx, id: i64) -> Result<(), AppError> {
        let scope = self.programme_scope(ctx).await?;
        let row = self.store.takeout(id).await?;
        if row.company_id != scope.company_id {
            return Err(AppError::NotFound);
        }
        if row.requester_id != scope.user_id {
            return Err(AppError::Denied);
        }
        if !self
            .store
            .withdraw_takeout(id, self.clock.now_micros(), scope.user_id)
            .await?
        {
            return Err(refusal(Refusal::NotPending));
        }
        self.audit(
            ctx,
            "takeouts.withdraw",
            &format!("takeout:{id}"),
            Outcome::Success,
            json!({}),
        )
        .await?;
        Ok(())
    }

    /// Records the return or destruction of an approved take-out: by the person who took it
    /// out (or the privacy office), with the day it happened and a note.
    pub async fn close_takeout(
        &self,
        ctx: &Ctx,
        id: i64,
        evidence: &str,
        on: &str,
        note: &str,
    ) -> Result<(), AppError> {
        let scope = self.programme_scope(ctx).await?;
        let row = self.store.takeout(id).await?;
        if row.company_id != scope.company_id {
            return Err(AppError::NotFound);
        }
        if row.requester_id != scope.user_id && !scope.runs {
            return Err(AppError::Denied);
        }
        let now = self.clock.now_micros();
        let today = jst_date(now);
        let status = Status::from_code(&row.status).unwrap_or(Status::Requested);
        let mut ps = Problems::new();
        let kind = Evidence::from_code(evidence);
        if kind.is_none() {
            ps.push(Problem::new(
                Some("evidence"),
                "返却か廃棄かを選んでください",
                "choose returned or destroyed",
            ));
        }
        let day = mamori_domain::vault::schema::parse_date(on);
        let requested_on = row.requested_on.parse().unwrap_or(today);
        match day {
            None => ps.push(Problem::new(
                Some("on"),
                "返却・廃棄の日を日付で入力してください（例: 2026-12-24）",
                "give the day of the return or destruction as a date (2026-12-24)",
            )),
            Some(d) => {
                if let Err(r) = rule::check_evidence(status, d, requested_on, today) {
                    ps.push(Problem::new(Some(r.field()), r.ja(), r.en()));
                }
            }
        }
        let note = note.trim();
        if note.is_empty() || note.chars().count() > 1000 {
            ps.push(Problem::new(
                Some("note"),
                "返却先・廃棄の方法などを1000文字以内で記録してください",
                "say where it was returned or how it was destroyed (at most 1000 characters)",
            ));
        }
        ps.done()?;
        if !self
            .store
            .close_takeout(
                id,
                kind.map_or("returned", Evidence::code),
                &day.unwrap_or(today).to_string(),
                note,
                scope.user_id,
                now,
            )
            .await?
        {
            return Err(refusal(Refusal::NotOut));
        }
        self.audit(
            ctx,
            "takeouts.close",
            &format!("takeout:{id}"),
            Outcome::Success,
            json!({"evidence": kind.map(Evidence::code)}),
        )
        .await?;
        Ok(())
    }

    /// The take-outs of `scope` that were open at some time in `month`: asked on or before its
    /// last day, not refused or withdrawn, not closed before its first day (see
    /// `mamori_domain::programme::takeout::open_in_month`). The whole company for a scope
    /// without departments (`departments: None`), else the take-outs of its departments and
    /// the person's own. Newest first. For the monthly inspection (part 1) and the monthly
    /// report (part 7); it checks no permission itself: the scope comes from
    /// [`App::programme_scope`], which did.
    pub async fn open_takeouts(
        &self,
        scope: &ProgrammeScope,
        month: Month,
    ) -> Result<Vec<TakeoutLine>, AppError> {
        let rows = self
            .store
            .list_takeouts(Some(scope.company_id), None)
            .await?
            .into_iter()
            .filter(|r| r.requester_id == scope.user_id || scope.sees_department(r.department_id))
            .filter(|r| {
                let status = Status::from_code(&r.status).unwrap_or(Status::Requested);
                let asked = r.requested_on.parse().unwrap_or(chrono::NaiveDate::MIN);
                let closed = r.evidence_on.as_deref().and_then(|d| d.parse().ok());
                rule::open_in_month(status, asked, closed, month)
            })
            .collect();
        self.takeout_lines(scope.company_id, rows).await
    }

    /// The person's own take-out tasks: approved ones to return or destroy (with their last
    /// day and days overdue), and for deciders the number of requests waiting.
    pub async fn my_takeout_tasks(&self, ctx: &Ctx) -> Result<(Vec<TakeoutLine>, usize), AppError> {
        let scope = self.programme_scope(ctx).await?;
        let rows = self
            .store
            .takeouts_of(scope.user_id)
            .await?
            .into_iter()
            .filter(|r| r.status == "approved")
            .collect();
        let mine = self.takeout_lines(scope.company_id, rows).await?;
        let waiting = if ctx.allows(Permission::ApproveTakeouts) {
            self.approval_queue(ctx).await?.len()
        } else {
            0
        };
        Ok((mine, waiting))
    }

    /// Mails the person and the approver of every take-out past its last day with nothing
    /// recorded, once per person and JST day (one mail listing all).
    pub async fn send_takeout_reminders(&self) -> Result<usize, AppError> {
        let now = self.clock.now_micros();
        let today = jst_date(now);
        let mut mails: HashMap<i64, (i64, Vec<String>)> = HashMap::new();
        for r in self.store.list_takeouts(None, Some("approved")).await? {
            let Ok(until) = r.until_on.parse::<chrono::NaiveDate>() else {
                continue;
            };
            let late = rule::days_overdue(Status::Approved, until, today);
            if late == 0 {
                continue;
            }
            let line = format!(
                "・申請 {}（期限 {}、{}日超過）\n  {}/programme/takeouts/{}",
                r.id, r.until_on, late, self.settings.public_url, r.id
            );
            for u in [Some(r.requester_id), r.decided_by].into_iter().flatten() {
                let e = mails.entry(u).or_insert_with(|| (r.company_id, Vec::new()));
                if !e.1.contains(&line) {
                    e.1.push(line.clone());
                }
            }
        }
        let mut ids: Vec<_> = mails.keys().copied().collect();
        ids.sort_unstable();
        let mut sent = 0;
        for id in ids {
            let (company, lines) = &mails[&id];
            let u = self.store.get_user(id).await?;
            if u.disabled {
                continue;
            }
            if !self
                .store
                .mark_reminder("takeouts", &format!("{id}:{today}"), now)
                .await?
            {
                continue;
            }
            let subject = format!(
                "【持ち出し】期限を過ぎても返却・廃棄が記録されていない持ち出しが{}件あります",
                lines.len()
            );
            let body = format!(
                "持ち出しの期限を過ぎても、返却または廃棄の記録がありません。返却・廃棄を記録してください（承認した方は確認をお願いします）。\n\n{}\n",
                lines.join("\n")
            );
            self.queue_plain_mail(*company, &u.email, &subject, &body)
                .await?;
            sent += 1;
        }
        Ok(sent)
    }
}
