//! Internal audit (内部監査, issue 17 part 6; JIS Q 15001, seed 000's audit every six
//! months): the yearly plan (which department is audited, when, by whom), audits with their
//! findings (severity, what was found, the rule it breaks), corrective actions with an owner,
//! a deadline and a status, and mail reminders of actions near or past their deadline.
//!
//! Independence (`mamori_domain::programme::internal_audit::check_independence`): nobody
//! audits their own department, one below it or one above it, and the privacy manager never
//! audits; a plan that names such an auditor is refused with the reason at the auditor field,
//! and a finding from such a person is refused too.
//!
//! Who may do what: the privacy office and the CISO (`RunProgramme`) plan; auditors
//! (`ConductAudits`) and the auditor named on an audit record its findings and its end;
//! actions are added by the auditor, the privacy office or the head of the audited
//! department, and updated by their owner (or those); department heads see the audits of
//! their departments, executives and auditors the whole company, an owner the audits of the
//! own actions. Every view and change is audited.

use crate::contractors::{date_field, dept_name, text};
use crate::programme::ProgrammeScope;
use crate::{App, AppError, Ctx, Problem, Problems};
use chrono::NaiveDate;
use mamori_domain::audit::Outcome;
use mamori_domain::incident::jst_date;
use mamori_domain::ledger::ReviewReminder;
use mamori_domain::org::DeptNode;
use mamori_domain::programme::internal_audit::{
    self as da, ActionStatus, AuditStatus, Auditor, Refusal, Severity,
};
use mamori_domain::role::{Permission, Role};
use mamori_store::contractors::{ActionRow, ActionUpdateRow, AuditRow, By, FindingRow, PlanRow};
use mamori_store::users::User;
use serde_json::json;

#[derive(Debug, Clone, Default)]
pub struct PlanInput {
    /// As typed (`2026`, `２０２６`).
    pub year: String,
    pub note: String,
}

#[derive(Debug, Clone, Default)]
pub struct AuditInput {
    pub department_id: i64,
    pub planned_on: String,
    pub auditor_id: i64,
}

#[derive(Debug, Clone, Default)]
pub struct FindingInput {
    pub severity: String,
    pub description: String,
    pub rule: String,
}

#[derive(Debug, Clone, Default)]
pub struct ActionInput {
    pub finding_id: i64,
    pub description: String,
    pub owner_id: i64,
    pub due_on: String,
}

#[derive(Debug, Clone, Default)]
pub struct ActionChange {
    pub status: String,
    pub note: String,
}

#[derive(Debug, Clone, Default)]
pub struct AuditDoneInput {
    pub done_on: String,
    pub summary: String,
}

/// An audit as the plan shows it.
#[derive(Debug, Clone)]
pub struct AuditLine {
    pub row: AuditRow,
    pub department: String,
    pub auditor: String,
    pub findings: usize,
    pub open_findings: usize,
    pub open_actions: usize,
}

#[derive(Debug, Clone)]
pub struct AuditYear {
    pub year: i32,
    pub plan: Option<PlanRow>,
    pub audits: Vec<AuditLine>,
    /// The years that have a plan.
    pub years: Vec<i64>,
    pub can_plan: bool,
    pub departments: Vec<(i64, String)>,
    /// Who may be named auditor (id, "name（department）").
    pub auditors: Vec<(i64, String)>,
}

/// A corrective action with its owner and history.
#[derive(Debug, Clone)]
pub struct ActionView {
    pub row: ActionRow,
    pub owner: String,
    pub overdue: bool,
    pub history: Vec<ActionUpdateRow>,
    /// The person may change its status.
    pub can_update: bool,
}

#[derive(Debug, Clone)]
pub struct FindingView {
    pub row: FindingRow,
    pub open: bool,
    pub actions: Vec<ActionView>,
}

#[derive(Debug, Clone)]
pub struct AuditDetail {
    pub row: AuditRow,
    pub year: i64,
    pub department: String,
    pub auditor: String,
    pub findings: Vec<FindingView>,
    /// May record findings and the audit's end.
    pub can_conduct: bool,
    /// May add corrective actions.
    pub can_add_actions: bool,
    /// Who may own an action (id, "name（department）").
    pub owners: Vec<(i64, String)>,
}

/// A corrective action or an audit to conduct, as the person's own task.
#[derive(Debug, Clone)]
pub struct AuditTask {
    pub audit_id: i64,
    /// `action` or `audit`.
    pub kind: &'static str,
    pub what: String,
    pub due: String,
    pub overdue: bool,
}

/// Open findings and actions within a person's reach (the monthly report).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AuditCounts {
    pub open_findings: usize,
    pub open_major: usize,
    pub open_actions: usize,
    pub overdue_actions: usize,
    pub audits_planned: usize,
    pub audits_done: usize,
}

fn user_label(users: &[User], depts: &[(i64, String)], id: i64) -> String {
    users
        .iter()
        .find(|u| u.id == id)
        .map(|u| {
            format!(
                "{}（{}）",
                u.display_name,
                dept_name(depts, u.department_id)
            )
        })
        .unwrap_or_default()
}

fn statuses(actions: &[ActionRow], finding: i64) -> Vec<ActionStatus> {
    actions
        .iter()
        .filter(|a| a.finding_id == finding)
        .filter_map(|a| ActionStatus::parse(&a.status))
        .collect()
}

fn finding_open(f: &FindingRow, actions: &[ActionRow]) -> bool {
    Severity::parse(&f.severity).is_some_and(|s| da::finding_open(s, &statuses(actions, f.id)))
}

impl App {
    async fn dept_nodes(&self, company_id: i64) -> Result<Vec<DeptNode>, AppError> {
        Ok(self
            .store
            .list_departments(company_id)
            .await?
            .iter()
            .map(|d| DeptNode {
                id: d.id,
                parent_id: d.parent_id,
            })
            .collect())
    }

    /// Whether `user` may audit `department`: the reason when not.
    async fn independence(
        &self,
        user: &User,
        department: i64,
    ) -> Result<Result<(), Refusal>, AppError> {
        let nodes = self.dept_nodes(user.company_id).await?;
        Ok(da::check_independence(
            &nodes,
            Auditor {
                department_id: user.department_id,
                privacy_office: user.roles.contains(Role::PrivacyOffice),
            },
            department,
        ))
    }

    async fn audit_visible(
        &self,
        ctx: &Ctx,
        scope: &ProgrammeScope,
        id: i64,
        action: &str,
    ) -> Result<AuditRow, AppError> {
        let found = match self.store.audit(id).await {
            Ok(a) if a.company_id == scope.company_id => Some(a),
            Ok(_) | Err(mamori_store::StoreError::NotFound) => None,
            Err(e) => return Err(e.into()),
        };
        if let Some(a) = found {
            let sees = (ctx.allows(Permission::ViewProgramme)
                && scope.sees_figures()
                && scope.sees_department(a.department_id))
                || a.auditor_id == scope.user_id
                || self
                    .store
                    .actions(scope.company_id, Some(a.id))
                    .await?
                    .iter()
                    .any(|x| x.owner_id == scope.user_id);
            if sees {
                return Ok(a);
            }
        }
        self.audit(
            ctx,
            action,
            &format!("internal-audit:{id}"),
            Outcome::Denied,
            json!({}),
        )
        .await?;
        Err(AppError::NotFound)
    }

    /// Whether the person may record findings of an audit: an auditor or the named auditor,
    /// independent of the audited department. The reason when independence fails.
    async fn may_conduct(
        &self,
        ctx: &Ctx,
        a: &AuditRow,
    ) -> Result<Result<(), Option<Refusal>>, AppError> {
        let Some(u) = ctx.user_ref() else {
            return Ok(Err(None));
        };
        if !(ctx.allows(Permission::ConductAudits) || u.id == a.auditor_id) {
            return Ok(Err(None));
        }
        Ok(self.independence(u, a.department_id).await?.map_err(Some))
    }

    async fn company_users(&self, company_id: i64) -> Result<Vec<User>, AppError> {
        Ok(self
            .store
            .list_users(Some(company_id))
            .await?
            .into_iter()
            .filter(|u| !u.disabled)
            .collect())
    }

    fn people_labels(users: &[User], depts: &[(i64, String)]) -> Vec<(i64, String)> {
        users
            .iter()
            .map(|u| (u.id, user_label(users, depts, u.id)))
            .collect()
    }

    /// The audit plan of a year with its audits, and how many findings and actions are open.
    pub async fn audit_year(&self, ctx: &Ctx, year: Option<i32>) -> Result<AuditYear, AppError> {
        let scope = self.programme_scope(ctx).await?;
        if !ctx.allows(Permission::ViewProgramme) || !scope.sees_figures() {
            return Err(self
                .denied(ctx, "internal_audit.plan.view", "internal-audit")
                .await);
        }
        let year =
            year.unwrap_or_else(|| chrono::Datelike::year(&jst_date(self.clock.now_micros())));
        let plans = self.store.audit_plans(scope.company_id).await?;
        let plan = plans.iter().find(|p| p.year == i64::from(year)).cloned();
        let depts = self.programme_depts(scope.company_id).await?;
        let users = self.company_users(scope.company_id).await?;
        let findings = self.store.findings(scope.company_id, None).await?;
        let actions = self.store.actions(scope.company_id, None).await?;
        let audits = match &plan {
            Some(p) => self
                .store
                .audits(scope.company_id)
                .await?
                .into_iter()
                .filter(|a| a.plan_id == p.id && scope.sees_department(a.department_id))
                .map(|a| {
                    let mine: Vec<&FindingRow> =
                        findings.iter().filter(|f| f.audit_id == a.id).collect();
                    AuditLine {
                        department: dept_name(&depts, a.department_id),
                        auditor: user_label(&users, &depts, a.auditor_id),
                        findings: mine.len(),
                        open_findings: mine.iter().filter(|f| finding_open(f, &actions)).count(),
                        open_actions: actions
                            .iter()
                            .filter(|x| x.audit_id == a.id && x.status != "done")
                            .count(),
                        row: a,
                    }
                })
                .collect(),
            None => Vec::new(),
        };
        self.audit(
            ctx,
            "internal_audit.plan.view",
            &format!("internal-audit-plan:{year}"),
            Outcome::Success,
            json!({"audits": audits.len()}),
        )
        .await?;
        Ok(AuditYear {
            year,
            plan,
            audits,
            years: plans.iter().map(|p| p.year).collect(),
            can_plan: scope.runs,
            auditors: Self::people_labels(&users, &depts),
            departments: depts,
        })
    }

    /// Makes the plan of a year (the privacy office, the CISO). Returns the year.
    pub async fn create_audit_plan(&self, ctx: &Ctx, input: &PlanInput) -> Result<i32, AppError> {
        let scope = self.programme_scope(ctx).await?;
        if !scope.runs {
            return Err(self
                .denied(ctx, "internal_audit.plan.create", "internal-audit")
                .await);
        }
        let mut ps = Problems::new();
        let typed = input.year.trim();
        let year = mamori_domain::number::parse_whole(typed)
            .map(|n| i64::try_from(n).unwrap_or(i64::MAX))
            .ok_or_else(|| {
                (
                    format!("年「{typed}」を西暦の年として読めません（例: 2026）"),
                    format!("the year \"{typed}\" is not a year (e.g. 2026)"),
                )
            })
            .and_then(|n| da::check_year(n).map_err(|(ja, en)| (ja.to_owned(), en.to_owned())))
            .map_err(|(ja, en)| ps.push(Problem::new(Some("year"), ja, en)))
            .ok();
        let note = text(
            &mut ps,
            "note",
            ("方針・メモ", "note"),
            &input.note,
            2000,
            false,
        );
        ps.done()?;
        let year = year.unwrap_or_default();
        let now = self.clock.now_micros();
        let actor = ctx.actor_name();
        let id = self
            .store
            .insert_audit_plan(
                scope.company_id,
                i64::from(year),
                &note,
                By {
                    user: ctx.actor_id(),
                    name: &actor,
                    at: now,
                },
            )
            .await
            .map_err(|e| match e {
                mamori_store::StoreError::Conflict(_) => AppError::invalid(
                    "year",
                    format!("{year}年の監査計画はすでにあります"),
                    format!("there is already an audit plan for {year}"),
                ),
                other => other.into(),
            })?;
        self.audit(
            ctx,
            "internal_audit.plan.create",
            &format!("internal-audit-plan:{year}"),
            Outcome::Success,
            json!({"plan": id}),
        )
        .await?;
        Ok(year)
    }

    /// Adds an audit to the plan of `year`: the department, the planned date, the auditor —
    /// refused, with the reason at the auditor field, when the auditor is not independent.
    pub async fn add_planned_audit(
        &self,
        ctx: &Ctx,
        year: i32,
        input: &AuditInput,
    ) -> Result<i64, AppError> {
        let scope = self.programme_scope(ctx).await?;
        let target = format!("internal-audit-plan:{year}");
        if !scope.runs {
            return Err(self
                .denied(ctx, "internal_audit.audit.create", &target)
                .await);
        }
        let Some(plan) = self
            .store
            .audit_plans(scope.company_id)
            .await?
            .into_iter()
            .find(|p| p.year == i64::from(year))
        else {
            return Err(AppError::NotFound);
        };
        let mut ps = Problems::new();
        let depts = self.programme_depts(scope.company_id).await?;
        let dept_ok = depts.iter().any(|(id, _)| *id == input.department_id);
        if !dept_ok {
            ps.push(Problem::new(
                Some("department_id"),
                "監査する部署を選んでください",
                "choose the department to audit",
            ));
        }
        let on = date_field(
            &mut ps,
            "planned_on",
            ("実施予定日", "planned date"),
            &input.planned_on,
            true,
        );
        if let Some(d) = on {
            if chrono::Datelike::year(&d) != year {
                ps.push(Problem::new(
                    Some("planned_on"),
                    format!("実施予定日は{year}年の日付にしてください"),
                    format!("the planned date must be in {year}"),
                ));
            }
        }
        let auditor = self
            .store
            .get_user(input.auditor_id)
            .await
            .ok()
            .filter(|u| u.company_id == scope.company_id && !u.disabled);
        match &auditor {
            None => ps.push(Problem::new(
                Some("auditor_id"),
                "監査員を選んでください",
                "choose the auditor",
            )),
            Some(u) if dept_ok => {
                if let Err(r) = self.independence(u, input.department_id).await? {
                    let (ja, en) = r.message();
                    ps.push(Problem::new(Some("auditor_id"), ja, en));
                }
            }
            Some(_) => {}
        }
        ps.done()?;
        let on = on.map(|d| d.to_string()).unwrap_or_default();
        let now = self.clock.now_micros();
        let actor = ctx.actor_name();
        let id = self
            .store
            .insert_audit(
                plan.id,
                scope.company_id,
                input.department_id,
                &on,
                input.auditor_id,
                By {
                    user: ctx.actor_id(),
                    name: &actor,
                    at: now,
                },
            )
            .await?;
        self.audit(
            ctx,
            "internal_audit.audit.create",
            &format!("internal-audit:{id}"),
            Outcome::Success,
            json!({"year": year, "department": input.department_id, "planned_on": on,
                   "auditor": input.auditor_id}),
        )
        .await?;
        Ok(id)
    }

    /// One audit: its findings with their actions and the actions' history.
    pub async fn audit_detail(&self, ctx: &Ctx, id: i64) -> Result<AuditDetail, AppError> {
        let scope = self.programme_scope(ctx).await?;
        let a = self
            .audit_visible(ctx, &scope, id, "internal_audit.audit.view")
            .await?;
        let depts = self.programme_depts(scope.company_id).await?;
        let users = self.company_users(scope.company_id).await?;
        let actions = self.store.actions(scope.company_id, Some(id)).await?;
        let history = self.store.action_updates(id).await?;
        let can_conduct = self.may_conduct(ctx, &a).await?.is_ok();
        let heads_dept = ctx
            .user_ref()
            .is_some_and(|u| u.roles.contains(Role::DepartmentHead))
            && scope.departments.is_some()
            && scope.sees_department(a.department_id);
        let today = jst_date(self.clock.now_micros()).to_string();
        let findings = self
            .store
            .findings(scope.company_id, Some(id))
            .await?
            .into_iter()
            .map(|f| FindingView {
                open: finding_open(&f, &actions),
                actions: actions
                    .iter()
                    .filter(|x| x.finding_id == f.id)
                    .map(|x| ActionView {
                        owner: user_label(&users, &depts, x.owner_id),
                        overdue: x.status != "done" && x.due_on < today,
                        history: history
                            .iter()
                            .filter(|h| h.action_id == x.id)
                            .cloned()
                            .collect(),
                        can_update: x.owner_id == scope.user_id || can_conduct || scope.runs,
                        row: x.clone(),
                    })
                    .collect(),
                row: f,
            })
            .collect();
        let year = self
            .store
            .audit_plans(scope.company_id)
            .await?
            .iter()
            .find(|p| p.id == a.plan_id)
            .map_or(0, |p| p.year);
        self.audit(
            ctx,
            "internal_audit.audit.view",
            &format!("internal-audit:{id}"),
            Outcome::Success,
            json!({}),
        )
        .await?;
        Ok(AuditDetail {
            year,
            department: dept_name(&depts, a.department_id),
            auditor: user_label(&users, &depts, a.auditor_id),
            findings,
            can_conduct,
            can_add_actions: can_conduct || scope.runs || heads_dept,
            owners: Self::people_labels(&users, &depts),
            row: a,
        })
    }

    async fn conducting(&self, ctx: &Ctx, id: i64, action: &str) -> Result<AuditRow, AppError> {
        let scope = self.programme_scope(ctx).await?;
        let a = self.audit_visible(ctx, &scope, id, action).await?;
        match self.may_conduct(ctx, &a).await? {
            Ok(()) => Ok(a),
            Err(Some(r)) => {
                self.audit(
                    ctx,
                    action,
                    &format!("internal-audit:{id}"),
                    Outcome::Denied,
                    json!({"reason": r.code()}),
                )
                .await?;
                let (ja, en) = r.message();
                Err(AppError::Invalid(Problem::new(None, ja, en)))
            }
            Err(None) => Err(self
                .denied(ctx, action, &format!("internal-audit:{id}"))
                .await),
        }
    }

    /// Records a finding (append-only).
    pub async fn record_finding(
        &self,
        ctx: &Ctx,
        audit_id: i64,
        input: &FindingInput,
    ) -> Result<i64, AppError> {
        self.conducting(ctx, audit_id, "internal_audit.finding.create")
            .await?;
        let mut ps = Problems::new();
        let severity = Severity::parse(input.severity.trim());
        if severity.is_none() {
            ps.push(Problem::new(
                Some("severity"),
                "重大度（重大な不適合・軽微な不適合・観察事項）を選んでください",
                "choose the severity (major, minor, observation)",
            ));
        }
        let description = text(
            &mut ps,
            "description",
            ("指摘内容", "finding"),
            &input.description,
            2000,
            true,
        );
        let rule = text(
            &mut ps,
            "rule",
            ("根拠となる規程", "rule it breaks"),
            &input.rule,
            200,
            false,
        );
        if severity.is_some_and(Severity::needs_action) && rule.is_empty() {
            ps.push(Problem::new(
                Some("rule"),
                "不適合には、守られていない規程（例: 個人情報保護規程 第12条、JIS Q 15001 A.7.3）を入力してください",
                "a non-conformity names the rule it breaks (e.g. the privacy policy art. 12, JIS Q 15001 A.7.3)",
            ));
        }
        ps.done()?;
        let severity = severity.unwrap_or(Severity::Observation);
        let now = self.clock.now_micros();
        let actor = ctx.actor_name();
        let id = self
            .store
            .insert_finding(
                audit_id,
                severity.code(),
                &description,
                &rule,
                By {
                    user: ctx.actor_id(),
                    name: &actor,
                    at: now,
                },
            )
            .await?;
        self.audit(
            ctx,
            "internal_audit.finding.create",
            &format!("internal-audit:{audit_id}"),
            Outcome::Success,
            json!({"finding": id, "severity": severity.code(), "rule": rule}),
        )
        .await?;
        Ok(id)
    }

    /// Records that an audit was done, with its date and summary.
    pub async fn finish_audit(
        &self,
        ctx: &Ctx,
        audit_id: i64,
        input: &AuditDoneInput,
    ) -> Result<(), AppError> {
        self.conducting(ctx, audit_id, "internal_audit.audit.done")
            .await?;
        let mut ps = Problems::new();
        let on = date_field(
            &mut ps,
            "done_on",
            ("実施日", "date done"),
            &input.done_on,
            true,
        );
        if on.is_some_and(|d| d > jst_date(self.clock.now_micros())) {
            ps.push(Problem::new(
                Some("done_on"),
                "実施日に未来の日付は入力できません",
                "the date done cannot be in the future",
            ));
        }
        let summary = text(
            &mut ps,
            "summary",
            ("総括", "summary"),
            &input.summary,
            4000,
            true,
        );
        ps.done()?;
        let on = on.map(|d| d.to_string()).unwrap_or_default();
        self.store.finish_audit(audit_id, &on, &summary).await?;
        self.audit(
            ctx,
            "internal_audit.audit.done",
            &format!("internal-audit:{audit_id}"),
            Outcome::Success,
            json!({"done_on": on, "status": AuditStatus::Done.code()}),
        )
        .await?;
        Ok(())
    }

    /// Adds a corrective action to a finding: the auditor, the privacy office or the head of
    /// the audited department.
    pub async fn add_corrective_action(
        &self,
        ctx: &Ctx,
        audit_id: i64,
        input: &ActionInput,
    ) -> Result<i64, AppError> {
        let d = self
            .audit_detail_quiet(ctx, audit_id, "internal_audit.action.create")
            .await?;
        if !d.1 {
            return Err(self
                .denied(
                    ctx,
                    "internal_audit.action.create",
                    &format!("internal-audit:{audit_id}"),
                )
                .await);
        }
        let scope = d.0;
        let mut ps = Problems::new();
        let finding = self
            .store
            .finding(input.finding_id)
            .await
            .ok()
            .filter(|f| f.audit_id == audit_id);
        if finding.is_none() {
            ps.push(Problem::new(
                Some("finding_id"),
                "指摘を選んでください",
                "choose the finding",
            ));
        }
        let description = text(
            &mut ps,
            "description",
            ("是正処置の内容", "corrective action"),
            &input.description,
            2000,
            true,
        );
        let owner = self
            .store
            .get_user(input.owner_id)
            .await
            .ok()
            .filter(|u| u.company_id == scope.company_id && !u.disabled);
        if owner.is_none() {
            ps.push(Problem::new(
                Some("owner_id"),
                "担当者を選んでください",
                "choose the owner",
            ));
        }
        let due = date_field(&mut ps, "due_on", ("期限", "deadline"), &input.due_on, true);
        if due.is_some_and(|d| d < jst_date(self.clock.now_micros())) {
            ps.push(Problem::new(
                Some("due_on"),
                "期限に過去の日付は入力できません",
                "the deadline cannot be in the past",
            ));
        }
        ps.done()?;
        let due = due.map(|d| d.to_string()).unwrap_or_default();
        let now = self.clock.now_micros();
        let actor = ctx.actor_name();
        let id = self
            .store
            .insert_action(
                input.finding_id,
                &description,
                input.owner_id,
                &due,
                By {
                    user: ctx.actor_id(),
                    name: &actor,
                    at: now,
                },
            )
            .await?;
        self.audit(
            ctx,
            "internal_audit.action.create",
            &format!("internal-audit:{audit_id}"),
            Outcome::Success,
            json!({"action": id, "finding": input.finding_id, "owner": input.owner_id, "due_on": due}),
        )
        .await?;
        Ok(id)
    }

    /// The scope and whether the person may add actions to the audit (no view recorded).
    async fn audit_detail_quiet(
        &self,
        ctx: &Ctx,
        audit_id: i64,
        action: &str,
    ) -> Result<(ProgrammeScope, bool), AppError> {
        let scope = self.programme_scope(ctx).await?;
        let a = self.audit_visible(ctx, &scope, audit_id, action).await?;
        let heads_dept = ctx
            .user_ref()
            .is_some_and(|u| u.roles.contains(Role::DepartmentHead))
            && scope.departments.is_some()
            && scope.sees_department(a.department_id);
        let may = self.may_conduct(ctx, &a).await?.is_ok() || scope.runs || heads_dept;
        Ok((scope, may))
    }

    /// Changes the status of a corrective action (its owner, the auditor, the privacy
    /// office); the change is kept in its history. Returns the audit it belongs to.
    pub async fn update_corrective_action(
        &self,
        ctx: &Ctx,
        action_id: i64,
        input: &ActionChange,
    ) -> Result<i64, AppError> {
        let scope = self.programme_scope(ctx).await?;
        let target = format!("internal-audit-action:{action_id}");
        let x = match self.store.action(action_id).await {
            Ok(x) if x.company_id == scope.company_id => x,
            Ok(_) | Err(mamori_store::StoreError::NotFound) => {
                self.audit(
                    ctx,
                    "internal_audit.action.update",
                    &target,
                    Outcome::Denied,
                    json!({}),
                )
                .await?;
                return Err(AppError::NotFound);
            }
            Err(e) => return Err(e.into()),
        };
        let a = self
            .audit_visible(ctx, &scope, x.audit_id, "internal_audit.action.update")
            .await?;
        let may =
            x.owner_id == scope.user_id || scope.runs || self.may_conduct(ctx, &a).await?.is_ok();
        if !may {
            return Err(self
                .denied(ctx, "internal_audit.action.update", &target)
                .await);
        }
        let mut ps = Problems::new();
        let status = ActionStatus::parse(input.status.trim());
        if status.is_none() {
            ps.push(Problem::new(
                Some("status"),
                "状況を選んでください",
                "choose the status",
            ));
        }
        let note = text(
            &mut ps,
            "note",
            ("経過・メモ", "progress note"),
            &input.note,
            2000,
            false,
        );
        if status == Some(ActionStatus::Done) && note.is_empty() {
            ps.push(Problem::new(
                Some("note"),
                "完了にするには、行ったこと（例: 規程を改訂し全員に周知）を入力してください",
                "say what was done to mark the action done",
            ));
        }
        if status.is_some_and(|s| s.code() == x.status) && note.is_empty() {
            ps.push(Problem::new(
                Some("note"),
                "状況が同じときは、経過を入力してください",
                "the status is unchanged: add a progress note",
            ));
        }
        ps.done()?;
        let status = status.unwrap_or(ActionStatus::Open);
        let actor = ctx.actor_name();
        self.store
            .update_action(
                action_id,
                status.code(),
                &note,
                By {
                    user: ctx.actor_id(),
                    name: &actor,
                    at: self.clock.now_micros(),
                },
            )
            .await?;
        self.audit(
            ctx,
            "internal_audit.action.update",
            &target,
            Outcome::Success,
            json!({"audit": x.audit_id, "from": x.status, "to": status.code()}),
        )
        .await?;
        Ok(x.audit_id)
    }

    /// The person's own tasks: corrective actions not done, and audits to conduct.
    pub async fn my_audit_tasks(&self, ctx: &Ctx) -> Result<Vec<AuditTask>, AppError> {
        let Some(u) = ctx.user_ref() else {
            return Err(AppError::Denied);
        };
        let today = jst_date(self.clock.now_micros()).to_string();
        let depts = self.programme_depts(u.company_id).await?;
        let mut out: Vec<AuditTask> = self
            .store
            .actions_of_owner(u.id)
            .await?
            .into_iter()
            .filter(|x| x.status != "done" && x.company_id == u.company_id)
            .map(|x| AuditTask {
                audit_id: x.audit_id,
                kind: "action",
                overdue: x.due_on < today,
                what: x.description,
                due: x.due_on,
            })
            .collect();
        for a in self.store.audits(u.company_id).await? {
            if a.auditor_id == u.id && a.status == AuditStatus::Planned.code() {
                out.push(AuditTask {
                    audit_id: a.id,
                    kind: "audit",
                    what: dept_name(&depts, a.department_id),
                    overdue: a.planned_on < today,
                    due: a.planned_on,
                });
            }
        }
        out.sort_by(|a, b| a.due.cmp(&b.due));
        Ok(out)
    }

    /// Open findings and actions within the person's reach, for the monthly report (part 7)
    /// and the managers' pages: the company for the privacy office, executives and auditors,
    /// the own departments for a department head. Not audited itself (the page calling it
    /// is).
    pub async fn audit_counts(&self, ctx: &Ctx) -> Result<AuditCounts, AppError> {
        let scope = self.programme_scope(ctx).await?;
        if !ctx.allows(Permission::ViewProgramme) || !scope.sees_figures() {
            return Err(AppError::Denied);
        }
        let today = jst_date(self.clock.now_micros()).to_string();
        let audits: Vec<AuditRow> = self
            .store
            .audits(scope.company_id)
            .await?
            .into_iter()
            .filter(|a| scope.sees_department(a.department_id))
            .collect();
        let ids: Vec<i64> = audits.iter().map(|a| a.id).collect();
        let actions: Vec<ActionRow> = self
            .store
            .actions(scope.company_id, None)
            .await?
            .into_iter()
            .filter(|x| ids.contains(&x.audit_id))
            .collect();
        let findings: Vec<FindingRow> = self
            .store
            .findings(scope.company_id, None)
            .await?
            .into_iter()
            .filter(|f| ids.contains(&f.audit_id) && finding_open(f, &actions))
            .collect();
        let open: Vec<&ActionRow> = actions.iter().filter(|x| x.status != "done").collect();
        Ok(AuditCounts {
            open_findings: findings.len(),
            open_major: findings
                .iter()
                .filter(|f| f.severity == Severity::Major.code())
                .count(),
            open_actions: open.len(),
            overdue_actions: open.iter().filter(|x| x.due_on < today).count(),
            audits_planned: audits
                .iter()
                .filter(|a| a.status == AuditStatus::Planned.code())
                .count(),
            audits_done: audits
                .iter()
                .filter(|a| a.status == AuditStatus::Done.code())
                .count(),
        })
    }

    /// Mails the reminders of corrective actions (7 days and 1 day before the deadline, the
    /// day after and weekly after that) to the owner — and, once late, to the privacy office
    /// too; each once (`mark_reminder`), on JST days. Returns the mails queued.
    pub async fn send_audit_action_reminders(&self) -> Result<usize, AppError> {
        let now = self.clock.now_micros();
        let today = jst_date(now);
        let mut sent = 0;
        for x in self.store.unfinished_actions().await? {
            let Ok(due) = x.due_on.parse::<NaiveDate>() else {
                continue;
            };
            let Some(r) = da::action_reminder(due, today) else {
                continue;
            };
            if !self
                .store
                .mark_reminder("audit_action", &da::action_reminder_key(x.id, due, r), now)
                .await?
            {
                continue;
            }
            let when = match r {
                ReviewReminder::Before(n) => format!("期限まであと{n}日です"),
                ReviewReminder::Overdue(n) => format!("期限を{n}日過ぎています"),
            };
            let subject = format!("【内部監査】是正処置の期限: {when}");
            let body = format!(
                "内部監査の指摘に対する是正処置の期限は {} です。\n{when}\n\n是正処置: {}\n\n{}/programme/audits/{}\n",
                x.due_on, x.description, self.settings.public_url, x.audit_id
            );
            let users = self.company_users(x.company_id).await?;
            let mut to: Vec<&User> = users.iter().filter(|u| u.id == x.owner_id).collect();
            if matches!(r, ReviewReminder::Overdue(_)) {
                to.extend(
                    users
                        .iter()
                        .filter(|u| u.roles.contains(Role::PrivacyOffice) && u.id != x.owner_id),
                );
            }
            for u in to {
                self.queue_plain_mail(x.company_id, &u.email, &subject, &body)
                    .await?;
                sent += 1;
            }
        }
        Ok(sent)
    }
}

/// A demo contractor: name, address, contact person, work, department, contact, review
/// interval, ledger entries, checklist records (item, status, document).
type DemoContractor<'a> = (
    &'a str,
    &'a str,
    &'a str,
    &'a str,
    i64,
    &'a str,
    i64,
    Vec<Option<i64>>,
    &'a [(&'a str, &'a str, &'a str)],
);

impl App {
    /// Demo data of parts 5 and 6, once per database: three contractors of the demo shop —
    /// one with all clauses met, one whose contract lacks the subcontracting clause and whose
    /// review is overdue, one not checked yet — linked to the ledger entries that exist; this
    /// year's audit plan with one audit done (findings, corrective actions, one of them
    /// late) and one still planned.
    pub async fn seed_demo_contractors_audits(&self) -> Result<(), AppError> {
        use chrono::Datelike;
        if self.store.get_setting("demo.contractors").await?.is_some() {
            return Ok(());
        }
        let Some(company) = self.store.list_companies().await?.into_iter().next() else {
            return Ok(());
        };
        let depts = self.programme_depts(company.id).await?;
        let dept = |name: &str| depts.iter().find(|(_, n)| n == name).map(|(id, _)| *id);
        let users = self.company_users(company.id).await?;
        let user = |login: &str| users.iter().find(|u| u.login == login).map(|u| u.id);
        let (
            Some(ops),
            Some(support),
            Some(system),
            Some(logistics),
            Some(tanaka),
            Some(kato),
            Some(suzuki),
        ) = (
            dept("オペレーションサービス部"),
            dept("カスタマーサポート課"),
            dept("システム部"),
            dept("物流課"),
            user("tanaka"),
            user("kato"),
            user("suzuki"),
        )
        else {
            return Ok(());
        };
        let now = self.clock.now_micros();
        let today = jst_date(now);
        let days = |n: i64| (today + chrono::Duration::days(n)).to_string();
        let datasets = self.store.list_datasets(company.id).await?;
        let dataset = |name: &str| datasets.iter().find(|d| d.name == name).map(|d| d.id);
        let by = |user: i64, name: &'static str| By {
            user: Some(user),
            name,
            at: now,
        };
        let contractors: [DemoContractor; 3] = [
            (
                "やまびこ配送株式会社",
                "埼玉県さいたま市北区宮原町9-9-9",
                "配送 一郎",
                "商品の発送と配達（会員の氏名・住所・電話番号）",
                ops,
                "03-0000-1111",
                12,
                vec![dataset("会員情報"), dataset("配送先情報")],
                &[
                    ("assessment", "met", "委託先評価シート（2026年度）"),
                    ("certification", "met", "プライバシーマーク登録証の写し"),
                    ("purpose", "met", "業務委託契約書 第3条"),
                    ("security", "met", "業務委託契約書 第7条・別紙 安全管理措置"),
                    ("subcontracting", "met", "業務委託契約書 第8条"),
                    ("audit", "met", "業務委託契約書 第10条"),
                    ("return_deletion", "met", "業務委託契約書 第12条"),
                ],
            ),
            (
                "株式会社コールパートナーズ",
                "大阪府大阪市北区梅田9-9-9",
                "受付 二郎",
                "お問い合わせ窓口の一次受付（会員の氏名・電話番号・購入履歴）",
                support,
                "06-0000-2222",
                6,
                vec![dataset("会員情報"), dataset("お問い合わせ履歴")],
                &[
                    ("assessment", "met", "委託先評価シート（2025年度）"),
                    ("purpose", "met", "業務委託契約書 第2条"),
                    ("security", "met", "業務委託契約書 第6条"),
                    (
                        "subcontracting",
                        "not_met",
                        "業務委託契約書（再委託の条項なし。海外拠点への再委託を確認中）",
                    ),
                    ("audit", "met", "業務委託契約書 第9条"),
                ],
            ),
            (
                "東日本データセンター株式会社",
                "東京都江東区青海9-9-9",
                "運用 三郎",
                "会員データベースのサーバーの設置と運用（データの中身は扱わない契約）",
                system,
                "03-0000-3333",
                12,
                vec![],
                &[],
            ),
        ];
        let mut ids = Vec::new();
        for (name, address, person, work, department_id, contact, months, links, checks) in
            &contractors
        {
            let next = if *name == "株式会社コールパートナーズ" {
                days(-20)
            } else {
                mamori_domain::programme::contractors::next_review(
                    today,
                    u32::try_from(*months).unwrap_or(12),
                )
                .to_string()
            };
            let id = self
                .store
                .insert_contractor(
                    company.id,
                    &mamori_store::contractors::ContractorFields {
                        department_id: *department_id,
                        name,
                        address,
                        contact_person: person,
                        contact,
                        work,
                        interval_months: *months,
                        next_review_on: &next,
                    },
                    by(tanaka, "tanaka"),
                )
                .await?;
            let links: Vec<i64> = links.iter().flatten().copied().collect();
            self.store.set_contractor_datasets(id, &links).await?;
            for (item, status, document) in *checks {
                self.store
                    .add_contractor_check(
                        id,
                        item,
                        status,
                        document,
                        Some(&days(-60)),
                        "",
                        by(tanaka, "tanaka"),
                    )
                    .await?;
            }
            ids.push(id);
        }
        if let Some(calls) = ids.get(1) {
            self.store
                .add_contractor_review(
                    *calls,
                    &days(-200),
                    "improvements",
                    "再委託先（海外拠点）の管理状況の報告を求めた。",
                    &days(-20),
                    by(tanaka, "tanaka"),
                )
                .await?;
        }

        // This year's plan: the customer support section audited (done, with findings), the
        // logistics section still to come.
        let year = today.year();
        let first = NaiveDate::from_ymd_opt(year, 1, 1).unwrap_or(today);
        let last = NaiveDate::from_ymd_opt(year, 12, 31).unwrap_or(today);
        let done_on = (today - chrono::Duration::days(20)).max(first).to_string();
        let planned = (today + chrono::Duration::days(30)).min(last).to_string();
        let plan = self
            .store
            .insert_audit_plan(
                company.id,
                i64::from(year),
                "JIS Q 15001 に基づく年次内部監査。各部署を年1回、個人情報を多く扱う部署は年2回。",
                by(tanaka, "tanaka"),
            )
            .await?;
        let done = self
            .store
            .insert_audit(
                plan,
                company.id,
                support,
                &done_on,
                kato,
                by(tanaka, "tanaka"),
            )
            .await?;
        self.store
            .insert_audit(
                plan,
                company.id,
                logistics,
                &planned,
                kato,
                by(tanaka, "tanaka"),
            )
            .await?;
        self.store
            .finish_audit(
                done,
                &done_on,
                "電話受付の記録と画面の覗き見対策は適切。アクセス権限の管理に重大な不適合1件、委託先管理に軽微な不適合1件。",
            )
            .await?;
        let major = self
            .store
            .insert_finding(
                done,
                Severity::Major.code(),
                "退職者2名の顧客管理システムのアカウントが削除されず、有効なまま残っていた。",
                "個人情報保護規程 第15条（アクセス権限の管理）",
                by(kato, "kato"),
            )
            .await?;
        let minor = self
            .store
            .insert_finding(
                done,
                Severity::Minor.code(),
                "コールセンター業務の委託契約に再委託の条件が定められていない。",
                "JIS Q 15001 A.7.3.4（委託先の監督）",
                by(kato, "kato"),
            )
            .await?;
        self.store
            .insert_finding(
                done,
                Severity::Observation.code(),
                "教育の受講記録の様式が課ごとに異なる。統一すると確認しやすい。",
                "",
                by(kato, "kato"),
            )
            .await?;
        let a1 = self
            .store
            .insert_action(
                major,
                "退職者のアカウントを削除し、退職手続きにアカウント削除の確認を加える",
                suzuki,
                &days(14),
                by(kato, "kato"),
            )
            .await?;
        self.store
            .update_action(
                a1,
                ActionStatus::InProgress.code(),
                "2名分は削除済み。手続きの改訂を人事と調整中。",
                by(suzuki, "suzuki"),
            )
            .await?;
        self.store
            .insert_action(
                minor,
                "委託先と再委託の条件（事前承認、同等の義務）を定めた覚書を締結する",
                tanaka,
                &days(-3),
                by(kato, "kato"),
            )
            .await?;
        self.store.set_setting("demo.contractors", "1").await?;
        Ok(())
    }
}
