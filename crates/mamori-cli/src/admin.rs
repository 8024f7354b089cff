//! `mamori admin …`: companies, departments and users from the command line. Every change is
//! recorded in the audit log with the actor `cli`.

use crate::config::Config;
use anyhow::{anyhow, bail, Context, Result};
use mamori_app::admin::UserInput;
use mamori_app::{App, AppError, Ctx};
use mamori_domain::role::Role;
use std::io::BufRead;
use std::process::ExitCode;

#[derive(Debug, clap::Subcommand)]
pub enum AdminCommand {
    /// Create a user. Without --password-stdin a password is generated and printed once.
    CreateUser {
        #[arg(long)]
        login: String,
        /// The person's name as shown (山田 太郎).
        #[arg(long)]
        name: String,
        #[arg(long)]
        email: String,
        /// Company code (see `list-users`); optional when there is only one company.
        #[arg(long)]
        company: Option<String>,
        /// Department name or id.
        #[arg(long)]
        department: String,
        /// A role; repeat for several (staff, department_head, privacy_office, ciso, executive,
        /// contact_desk, custodian, auditor, group_hq, admin).
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
        /// Interface language of the user: ja or en.
        #[arg(long, default_value = "ja")]
        locale: String,
    },
    /// Set a new password (generated and printed unless --password-stdin); ends all sessions.
    SetPassword {
        #[arg(long)]
        login: String,
        #[arg(long)]
        password_stdin: bool,
    },
    /// List users with their company, department, roles and state.
    ListUsers,
    /// Disable a user (ends all sessions), or enable again with --enable.
    DisableUser {
        #[arg(long)]
        login: String,
        #[arg(long)]
        enable: bool,
    },
    /// Remove a user's second factor so that they set it up again at the next login.
    ResetTotp {
        #[arg(long)]
        login: String,
    },
    /// Unlock a user locked by failed attempts: the second factor (locked after too many wrong
    /// codes) and the password lock.
    Unlock {
        /// The login name.
        #[arg(long = "user", alias = "login", value_name = "NAME")]
        user: String,
    },
    /// Create a company of the group.
    CreateCompany {
        /// Short code: a–z, 0–9, '.', '_', '-'.
        #[arg(long)]
        code: String,
        #[arg(long)]
        name: String,
    },
    /// Create a department, optionally under a parent department (name or id).
    CreateDepartment {
        #[arg(long)]
        company: Option<String>,
        #[arg(long)]
        name: String,
        #[arg(long)]
        parent: Option<String>,
    },
}

fn read_password() -> Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("reading the password from standard input")?;
    let p = line.trim_end_matches(['\r', '\n']).to_owned();
    if p.is_empty() {
        bail!("no password on standard input");
    }
    Ok(p)
}

fn app_err(e: AppError) -> anyhow::Error {
    match e {
        AppError::Invalid(p) => match p.field {
            Some(f) => anyhow!("{f}: {}", p.en),
            None => anyhow!("{}", p.en),
        },
        other => anyhow!("{other}"),
    }
}

async fn company_id(app: &App, code: Option<&str>) -> Result<i64> {
    let companies = app.store.list_companies().await?;
    match code {
        Some(c) => companies
            .iter()
            .find(|x| x.code == c)
            .map(|x| x.id)
            .ok_or_else(|| {
                anyhow!(
                    "no company with code `{c}` (known: {})",
                    companies
                        .iter()
                        .map(|x| x.code.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }),
        None => match companies.as_slice() {
            [one] => Ok(one.id),
            [] => bail!(
                "there is no company yet: create one with `mamori admin create-company --code CODE --name NAME`"
            ),
            _ => bail!(
                "there are several companies: name one with --company CODE (known: {})",
                companies
                    .iter()
                    .map(|x| x.code.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        },
    }
}

async fn department_id(app: &App, company: i64, name_or_id: &str) -> Result<i64> {
    let depts = app.store.list_departments(company).await?;
    if let Ok(id) = name_or_id.parse::<i64>() {
        if depts.iter().any(|d| d.id == id) {
            return Ok(id);
        }
    }
    let matches: Vec<_> = depts.iter().filter(|d| d.name == name_or_id).collect();
    match matches.as_slice() {
        [one] => Ok(one.id),
        [] if depts.is_empty() => bail!(
            "the company has no department yet: create one with `mamori admin create-department --name NAME`"
        ),
        [] => bail!(
            "no department `{name_or_id}` in this company (known: {})",
            depts
                .iter()
                .map(|d| format!("{} (id {})", d.name, d.id))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        _ => bail!("several departments are called `{name_or_id}`: give the id"),
    }
}

async fn user_id(app: &App, login: &str) -> Result<i64> {
    app.store
        .find_user_by_login(&login.trim().to_ascii_lowercase())
        .await?
        .map(|u| u.id)
        .ok_or_else(|| {
            anyhow!("no user with login name `{login}` (list them with `mamori admin list-users`)")
        })
}

pub async fn run(cfg: Config, cmd: AdminCommand) -> Result<ExitCode> {
    let (app, writer) = crate::serve::app(&cfg, false).await?;
    let ctx = Ctx::local();
    let result = run_with(&app, &ctx, cmd).await;
    let store = app.store.clone();
    drop(app);
    let _ = writer.await;
    store.close().await;
    result
}

async fn run_with(app: &App, ctx: &Ctx, cmd: AdminCommand) -> Result<ExitCode> {
    match cmd {
        AdminCommand::CreateUser {
            login,
            name,
            email,
            company,
            department,
            roles,
            password_stdin,
            locale,
        } => {
            let roles = roles
                .iter()
                .map(|r| r.parse::<Role>())
                .collect::<Result<Vec<_>, _>>()?;
            let company = company_id(app, company.as_deref()).await?;
            let department_id = department_id(app, company, &department).await?;
            let password = if password_stdin {
                Some(read_password()?)
            } else {
                None
            };
            let (id, generated) = app
                .create_user(
                    ctx,
                    &UserInput {
                        company_id: Some(company),
                        department_id,
                        login: login.clone(),
                        display_name: name,
                        email,
                        roles,
                        password,
                        locale,
                    },
                )
                .await
                .map_err(app_err)?;
            println!("created user {} (id {id})", login.to_ascii_lowercase());
            if let Some(p) = generated {
                println!("password: {p}");
            }
        }
        AdminCommand::SetPassword {
            login,
            password_stdin,
        } => {
            let id = user_id(app, &login).await?;
            let given = if password_stdin {
                Some(read_password()?)
            } else {
                None
            };
            let generated = app
                .set_password(ctx, id, given.as_deref())
                .await
                .map_err(app_err)?;
            println!("password set for {login}; all of its sessions have ended");
            if let Some(p) = generated {
                println!("password: {p}");
            }
        }
        AdminCommand::ListUsers => {
            let companies = app.store.list_companies().await?;
            let users = app.list_users(ctx).await.map_err(app_err)?;
            let mut rows = Vec::with_capacity(users.len());
            for u in users {
                let company = companies
                    .iter()
                    .find(|c| c.id == u.company_id)
                    .map_or("-", |c| c.code.as_str());
                let dept = app
                    .store
                    .get_department(u.department_id)
                    .await
                    .map(|d| d.name)
                    .unwrap_or_default();
                let roles: Vec<&str> = u.roles.iter().map(Role::code).collect();
                rows.push(vec![
                    u.login.clone(),
                    company.to_owned(),
                    u.display_name.clone(),
                    dept,
                    if u.totp_enabled { "yes" } else { "no" }.to_owned(),
                    if u.disabled { "disabled" } else { "active" }.to_owned(),
                    roles.join(","),
                ]);
            }
            // Padded by display width, so names in kanji and kana line up in a terminal.
            print!(
                "{}",
                mamori_domain::text::text_table(
                    &[
                        "login",
                        "company",
                        "name",
                        "department",
                        "2fa",
                        "state",
                        "roles"
                    ],
                    &rows
                )
            );
        }
        AdminCommand::DisableUser { login, enable } => {
            let id = user_id(app, &login).await?;
            app.set_disabled(ctx, id, !enable).await.map_err(app_err)?;
            println!(
                "{login} is now {}",
                if enable {
                    "enabled"
                } else {
                    "disabled (sessions ended)"
                }
            );
        }
        AdminCommand::ResetTotp { login } => {
            let id = user_id(app, &login).await?;
            app.reset_totp(ctx, id).await.map_err(app_err)?;
            println!("second factor of {login} removed; it is set up again at the next login");
        }
        AdminCommand::Unlock { user } => {
            let id = user_id(app, &user).await?;
            let was_locked = app.unlock_user(ctx, id).await.map_err(app_err)?;
            if was_locked {
                println!("{user}: the second factor is unlocked; failed logins are cleared");
            } else {
                println!("{user}: the second factor was not locked; failed logins are cleared");
            }
        }
        AdminCommand::CreateCompany { code, name } => {
            let id = app
                .create_company(ctx, &code, &name)
                .await
                .map_err(app_err)?;
            println!("created company {code} (id {id})");
        }
        AdminCommand::CreateDepartment {
            company,
            name,
            parent,
        } => {
            let company = company_id(app, company.as_deref()).await?;
            let parent = match parent {
                Some(p) => Some(department_id(app, company, &p).await?),
                None => None,
            };
            let id = app
                .create_department(ctx, company, parent, &name)
                .await
                .map_err(app_err)?;
            println!("created department {name} (id {id})");
        }
    }
    Ok(ExitCode::SUCCESS)
}
