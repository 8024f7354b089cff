//! Managing companies, departments and users. Only `admin` (in its own company) and the local
//! command line may do this; every change is in the audit log.

use crate::auth::generate_password;
use crate::{App, AppError, Ctx};
use mamori_domain::audit::Outcome;
use mamori_domain::org::{check_reparent, depth_first, DeptNode, TreeError};
use mamori_domain::role::{Permission, Role};
use mamori_domain::text::{check_password, display_name, email, org_name, LoginName};
use mamori_store::org::{Company, Department};
use mamori_store::users::{NewUser, User};
use serde_json::json;

/// The input of "create user".
#[derive(Debug, Clone)]
pub struct UserInput {
    pub company_id: Option<i64>,
    pub department_id: i64,
    pub login: String,
    pub display_name: String,
    pub email: String,
    pub roles: Vec<Role>,
    /// `None` generates a password that is shown once.
    pub password: Option<String>,
    pub locale: String,
}

/// The password to set, and the same again when it was generated (to show it once).
fn given_or_generated(given: Option<&str>) -> (String, Option<String>) {
    if let Some(p) = given {
        (p.to_owned(), None)
    } else {
        let p = generate_password();
        (p.clone(), Some(p))
    }
}

/// The changeable fields of a user.
#[derive(Debug, Clone)]
pub struct UserUpdate<'a> {
    pub display_name: &'a str,
    pub email: &'a str,
    pub department_id: i64,
    pub roles: &'a [Role],
    pub disabled: bool,
}

/// A department with its depth in the tree, for indented lists.
#[derive(Debug, Clone)]
pub struct DeptLine {
    pub dept: Department,
    pub depth: usize,
}

impl App {
    /// Ends everything a user is signed in with: sessions and API tokens (when the user is
    /// disabled or their password or second factor is reset).
    async fn end_user_access(&self, id: i64) -> Result<(), AppError> {
        self.store.delete_user_sessions(id).await?;
        self.store
            .revoke_user_api_tokens(id, self.clock.now_micros())
            .await?;
        Ok(())
    }

    /// A department named in a form; a missing one is a problem with that field.
    async fn department_named_in_input(&self, id: i64) -> Result<Department, AppError> {
        self.store.get_department(id).await.map_err(|_| {
            AppError::invalid(
                "department_id",
                "部署が見つかりません",
                "the department does not exist",
            )
        })
    }

    fn require(ctx: &Ctx, p: Permission) -> Result<(), AppError> {
        if ctx.allows(p) {
            Ok(())
        } else {
            Err(AppError::Denied)
        }
    }

    /// A company the actor may manage.
    fn check_company(ctx: &Ctx, company_id: i64) -> Result<(), AppError> {
        match ctx.company_scope() {
            Some(own) if own != company_id => Err(AppError::Denied),
            _ => Ok(()),
        }
    }

    pub(crate) async fn denied(&self, ctx: &Ctx, action: &str, target: &str) -> AppError {
        let _ = self
            .audit(ctx, action, target, Outcome::Denied, json!({}))
            .await;
        AppError::Denied
    }

    pub async fn list_companies(&self, ctx: &Ctx) -> Result<Vec<Company>, AppError> {
        Self::require(ctx, Permission::ManageUsers)?;
        let all = self.store.list_companies().await?;
        Ok(all
            .into_iter()
            .filter(|c| Self::check_company(ctx, c.id).is_ok())
            .collect())
    }

    pub async fn create_company(&self, ctx: &Ctx, code: &str, name: &str) -> Result<i64, AppError> {
        // A new company is a deployment decision, taken at the command line.
        if !matches!(ctx.principal, crate::Principal::Local) {
            return Err(self.denied(ctx, "org.company.create", "company").await);
        }
        let code = LoginName::parse(code).map_err(|_| {
            AppError::invalid(
                "code",
                "会社コードは英小文字・数字の3〜64文字にしてください",
                "company code must be 3–64 characters of a–z, 0–9, '.', '_' or '-'",
            )
        })?;
        let name = org_name(name)?;
        let id = self
            .store
            .create_company(code.as_str(), &name, self.clock.now_micros())
            .await?;
        self.audit(
            ctx,
            "org.company.create",
            &format!("company:{id}"),
            Outcome::Success,
            json!({}),
        )
        .await?;
        Ok(id)
    }

    /// The department tree of a company in depth-first order.
    pub async fn department_tree(
        &self,
        ctx: &Ctx,
        company_id: i64,
    ) -> Result<Vec<DeptLine>, AppError> {
        let own = ctx.user_ref().is_some_and(|u| u.company_id == company_id);
        if !own && !ctx.allows(Permission::ManageUsers) {
            return Err(AppError::Denied);
        }
        Self::check_company(ctx, company_id)?;
        let depts = self.store.list_departments(company_id).await?;
        let nodes: Vec<DeptNode> = depts
            .iter()
            .map(|d| DeptNode {
                id: d.id,
                parent_id: d.parent_id,
            })
            .collect();
        Ok(depth_first(&nodes)
            .into_iter()
            .filter_map(|(id, depth)| {
                depts.iter().find(|d| d.id == id).map(|d| DeptLine {
                    dept: d.clone(),
                    depth,
                })
            })
            .collect())
    }

    pub async fn create_department(
        &self,
        ctx: &Ctx,
        company_id: i64,
        parent_id: Option<i64>,
        name: &str,
    ) -> Result<i64, AppError> {
        if !ctx.allows(Permission::ManageUsers) || Self::check_company(ctx, company_id).is_err() {
            return Err(self
                .denied(
                    ctx,
                    "org.department.create",
                    &format!("company:{company_id}"),
                )
                .await);
        }
        let name = org_name(name)?;
        if let Some(p) = parent_id {
            let parent = self.store.get_department(p).await.map_err(|_| {
                AppError::invalid(
                    "parent_id",
                    "上位部署が見つかりません",
                    "the parent department does not exist",
                )
            })?;
            if parent.company_id != company_id {
                return Err(AppError::invalid(
                    "parent_id",
                    "上位部署は同じ会社の部署にしてください",
                    "the parent department belongs to another company",
                ));
            }
        }
        let id = self
            .store
            .create_department(company_id, parent_id, &name, self.clock.now_micros())
            .await?;
        self.audit(
            ctx,
            "org.department.create",
            &format!("department:{id}"),
            Outcome::Success,
            json!({}),
        )
        .await?;
        Ok(id)
    }

    pub async fn update_department(
        &self,
        ctx: &Ctx,
        id: i64,
        parent_id: Option<i64>,
        name: &str,
    ) -> Result<(), AppError> {
        let target = format!("department:{id}");
        let dept = self.store.get_department(id).await?;
        if !ctx.allows(Permission::ManageUsers)
            || Self::check_company(ctx, dept.company_id).is_err()
        {
            return Err(self.denied(ctx, "org.department.update", &target).await);
        }
        let name = org_name(name)?;
        let nodes: Vec<DeptNode> = self
            .store
            .list_departments(dept.company_id)
            .await?
            .iter()
            .map(|d| DeptNode {
                id: d.id,
                parent_id: d.parent_id,
            })
            .collect();
        check_reparent(&nodes, id, parent_id).map_err(|e| match e {
            TreeError::Cycle(_) => AppError::invalid(
                "parent_id",
                "部署を自分自身の配下に移すことはできません",
                e.to_string(),
            ),
            TreeError::UnknownParent(_) => {
                AppError::invalid("parent_id", "上位部署が見つかりません", e.to_string())
            }
        })?;
        self.store.update_department(id, parent_id, &name).await?;
        self.audit(
            ctx,
            "org.department.update",
            &target,
            Outcome::Success,
            json!({}),
        )
        .await?;
        Ok(())
    }

    pub async fn list_users(&self, ctx: &Ctx) -> Result<Vec<User>, AppError> {
        if !ctx.allows(Permission::ManageUsers) {
            return Err(self.denied(ctx, "admin.users.list", "users").await);
        }
        Ok(self.store.list_users(ctx.company_scope()).await?)
    }

    pub async fn get_user_for_admin(&self, ctx: &Ctx, id: i64) -> Result<User, AppError> {
        let target = format!("user:{id}");
        if !ctx.allows(Permission::ManageUsers) {
            return Err(self.denied(ctx, "admin.users.view", &target).await);
        }
        let u = self.store.get_user(id).await?;
        if Self::check_company(ctx, u.company_id).is_err() {
            return Err(self.denied(ctx, "admin.users.view", &target).await);
        }
        Ok(u)
    }

    /// Creates a user; returns the id and the password when one was generated.
    pub async fn create_user(
        &self,
        ctx: &Ctx,
        input: &UserInput,
    ) -> Result<(i64, Option<String>), AppError> {
        if !ctx.allows(Permission::ManageUsers) {
            return Err(self.denied(ctx, "admin.users.create", "users").await);
        }
        let dept = self.department_named_in_input(input.department_id).await?;
        let company_id = input.company_id.unwrap_or(dept.company_id);
        if dept.company_id != company_id {
            return Err(AppError::invalid(
                "department_id",
                "部署が会社に属していません",
                "the department belongs to another company",
            ));
        }
        if Self::check_company(ctx, company_id).is_err() {
            return Err(self
                .denied(ctx, "admin.users.create", &format!("company:{company_id}"))
                .await);
        }
        self.check_custodians(company_id, None, &input.roles)
            .await?;
        // Every problem of the form is named at once.
        let mut ps = crate::Problems::new();
        let login = ps.check(LoginName::parse(&input.login).map_err(AppError::from))?;
        let name = ps.check(display_name(&input.display_name).map_err(AppError::from))?;
        let mail = ps.check(email(&input.email).map_err(AppError::from))?;
        let (password, generated) = given_or_generated(input.password.as_deref());
        if let Some(login) = &login {
            ps.check(check_password(&password, login).map_err(AppError::from))?;
        }
        ps.done()?;
        let (Some(login), Some(name), Some(mail)) = (login, name, mail) else {
            return Err(AppError::Internal(
                "create_user: a checked value is missing".into(),
            ));
        };
        let hash = self.argon2.hash(&password).await?;
        let id = self
            .store
            .create_user(
                &NewUser {
                    company_id,
                    department_id: dept.id,
                    login: login.as_str(),
                    display_name: &name,
                    email: &mail,
                    password_hash: &hash,
                    roles: &input.roles,
                    locale: if input.locale == "en" { "en" } else { "ja" },
                },
                self.clock.now_micros(),
            )
            .await?;
        let roles: Vec<&str> = input.roles.iter().map(|r| r.code()).collect();
        self.audit(
            ctx,
            "admin.users.create",
            &format!("user:{id}"),
            Outcome::Success,
            json!({"roles": roles}),
        )
        .await?;
        Ok((id, generated))
    }

    /// Refuses roles that would give the company more vault custodians than allowed (seed 004:
    /// at most three people hold standing access).
    async fn check_custodians(
        &self,
        company_id: i64,
        user_id: Option<i64>,
        roles: &[Role],
    ) -> Result<(), AppError> {
        if !roles.contains(&Role::Custodian) {
            return Ok(());
        }
        let max = self.settings.vault_max_custodians;
        let others = self
            .store
            .list_users(Some(company_id))
            .await?
            .into_iter()
            .filter(|u| Some(u.id) != user_id && !u.disabled && u.roles.contains(Role::Custodian))
            .count();
        if others >= max {
            return Err(AppError::invalid(
                "roles",
                format!("常時アクセス権限者（custodian）は1社{max}人までです。ほかの人の権限を外してから設定してください"),
                format!("a company may have at most {max} vault custodians; remove the role from somebody first"),
            ));
        }
        Ok(())
    }

    /// Changes name, mail, department, roles and the disabled flag of a user.
    pub async fn update_user(
        &self,
        ctx: &Ctx,
        id: i64,
        upd: &UserUpdate<'_>,
    ) -> Result<(), AppError> {
        let UserUpdate {
            display_name: name,
            email: mail,
            department_id,
            roles,
            disabled,
        } = *upd;
        let target = format!("user:{id}");
        let user = self.get_user_for_admin(ctx, id).await?;
        let dept = self.department_named_in_input(department_id).await?;
        if dept.company_id != user.company_id {
            return Err(AppError::invalid(
                "department_id",
                "部署が会社に属していません",
                "the department belongs to another company",
            ));
        }
        if ctx.actor_id() == Some(id) && (disabled || !roles.contains(&Role::Admin)) {
            return Err(AppError::invalid(
                "roles",
                "自分自身の管理者権限を外したり無効にしたりすることはできません",
                "you cannot remove your own admin role or disable yourself",
            ));
        }
        if !disabled {
            self.check_custodians(user.company_id, Some(id), roles)
                .await?;
        }
        let name = display_name(name)?;
        let mail = email(mail)?;
        let now = self.clock.now_micros();
        self.store
            .update_user_profile(id, &name, &mail, department_id, now)
            .await?;
        self.store.set_user_roles(id, roles).await?;
        if disabled != user.disabled {
            self.store.set_disabled(id, disabled, now).await?;
        }
        // A role that requires a second factor, given to a user without one, ends what the
        // user is signed in with: sessions made without a second factor and API tokens must not
        // carry the new role's powers. The user enrols at the next login.
        let must_enrol = !user.totp_enabled
            && roles
                .iter()
                .any(|r| r.requires_totp() && !user.roles.contains(*r));
        let ended = disabled || must_enrol;
        if ended {
            self.end_user_access(id).await?;
        }
        let codes: Vec<&str> = roles.iter().map(|r| r.code()).collect();
        self.audit(
            ctx,
            "admin.users.update",
            &target,
            Outcome::Success,
            json!({"roles": codes, "disabled": disabled, "access_ended": ended}),
        )
        .await?;
        Ok(())
    }

    /// Sets a new password (given, or generated and returned); all sessions of the user end.
    pub async fn set_password(
        &self,
        ctx: &Ctx,
        id: i64,
        password: Option<&str>,
    ) -> Result<Option<String>, AppError> {
        let target = format!("user:{id}");
        let user = self.get_user_for_admin(ctx, id).await?;
        let login = LoginName::parse(&user.login)?;
        let (password, generated) = given_or_generated(password);
        check_password(&password, &login)?;
        let hash = self.argon2.hash(&password).await?;
        self.store
            .set_password_hash(id, &hash, self.clock.now_micros())
            .await?;
        self.end_user_access(id).await?;
        self.store
            .clear_login_failures("account", &user.login)
            .await?;
        self.audit(
            ctx,
            "admin.users.password",
            &target,
            Outcome::Success,
            json!({}),
        )
        .await?;
        Ok(generated)
    }

    /// Removes a user's second factor so that they enrol again at the next login.
    pub async fn reset_totp(&self, ctx: &Ctx, id: i64) -> Result<(), AppError> {
        let target = format!("user:{id}");
        self.get_user_for_admin(ctx, id).await?;
        self.store
            .set_totp(id, None, false, self.clock.now_micros())
            .await?;
        self.store.clear_totp_failures(id).await?;
        self.end_user_access(id).await?;
        self.audit(
            ctx,
            "admin.users.totp_reset",
            &target,
            Outcome::Success,
            json!({}),
        )
        .await?;
        Ok(())
    }

    pub async fn set_disabled(&self, ctx: &Ctx, id: i64, disabled: bool) -> Result<(), AppError> {
        let target = format!("user:{id}");
        self.get_user_for_admin(ctx, id).await?;
        self.store
            .set_disabled(id, disabled, self.clock.now_micros())
            .await?;
        if disabled {
            self.end_user_access(id).await?;
        }
        self.audit(
            ctx,
            "admin.users.disable",
            &target,
            Outcome::Success,
            json!({"disabled": disabled}),
        )
        .await?;
        Ok(())
    }

    /// Unlocks a user locked by failed attempts: the second factor (locked after too many
    /// wrong codes, which nothing but a right code or this clears) and the password lock.
    /// Returns whether the second factor was locked.
    pub async fn unlock_user(&self, ctx: &Ctx, id: i64) -> Result<bool, AppError> {
        let target = format!("user:{id}");
        let user = self.get_user_for_admin(ctx, id).await?;
        let was_locked = user.totp_failures >= self.settings.max_totp_failures;
        self.store.clear_totp_failures(id).await?;
        self.store
            .clear_login_failures("account", &user.login)
            .await?;
        self.audit(
            ctx,
            "admin.users.unlock",
            &target,
            Outcome::Success,
            json!({"totp_failures": user.totp_failures}),
        )
        .await?;
        Ok(was_locked)
    }

    /// True when the user's second factor is locked by wrong codes.
    pub fn totp_locked(&self, user: &User) -> bool {
        user.totp_failures >= self.settings.max_totp_failures
    }
}
