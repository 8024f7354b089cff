//! Administration of users and departments (role `admin`, own company only).

use super::{render, render_status, Chrome};
use crate::error::{WebError, WebResult};
use crate::form::FormErrors;
use crate::i18n::Lang;
use crate::visitor::Visitor;
use crate::WebState;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::{Extension, Form};
use mamori_app::admin::{DeptLine, UserInput, UserUpdate};
use mamori_app::{AppError, Problems};
use mamori_domain::role::{Permission, Role};
use mamori_store::users::User;
use std::collections::HashMap;

pub struct RoleOption {
    pub code: &'static str,
    pub label: &'static str,
    pub checked: bool,
}

pub struct DeptOption {
    pub id: i64,
    pub label: String,
    pub selected: bool,
}

pub struct UserLine {
    pub id: i64,
    pub login: String,
    pub name: String,
    pub department: String,
    pub roles: String,
    pub disabled: bool,
    pub totp: bool,
    /// The second factor is locked by wrong codes.
    pub locked: bool,
}

fn role_label(r: Role, lang: Lang) -> &'static str {
    if lang == Lang::En {
        r.label_en()
    } else {
        r.label_ja()
    }
}

fn role_options(lang: Lang, checked: &[Role]) -> Vec<RoleOption> {
    Role::ALL
        .into_iter()
        .map(|r| RoleOption {
            code: r.code(),
            label: role_label(r, lang),
            checked: checked.contains(&r),
        })
        .collect()
}

fn dept_options(tree: &[DeptLine], selected: Option<i64>) -> Vec<DeptOption> {
    tree.iter()
        .map(|d| DeptOption {
            id: d.dept.id,
            label: format!("{}{}", "　".repeat(d.depth), d.dept.name),
            selected: Some(d.dept.id) == selected,
        })
        .collect()
}

fn own_company(v: &Visitor) -> Result<i64, WebError> {
    let s = v.full()?;
    if !v.ctx().allows(Permission::ManageUsers) {
        return Err(WebError(AppError::Denied));
    }
    Ok(s.user.company_id)
}

#[derive(Template)]
#[template(path = "admin_users.html")]
pub struct UsersPage {
    pub c: Chrome,
    pub users: Vec<UserLine>,
}

pub async fn users_page(State(s): State<WebState>, Extension(v): Extension<Visitor>) -> WebResult {
    v.full()?;
    let users = s.app.list_users(&v.ctx()).await?;
    let company = own_company(&v)?;
    let tree = s.app.department_tree(&v.ctx(), company).await?;
    let names: HashMap<i64, String> = tree
        .iter()
        .map(|d| (d.dept.id, d.dept.name.clone()))
        .collect();
    let lines = users
        .iter()
        .map(|u| UserLine {
            id: u.id,
            login: u.login.clone(),
            name: u.display_name.clone(),
            department: names.get(&u.department_id).cloned().unwrap_or_default(),
            roles: u
                .roles
                .iter()
                .map(|r| role_label(r, v.lang))
                .collect::<Vec<_>>()
                .join("、"),
            disabled: u.disabled,
            totp: u.totp_enabled,
            locked: s.app.totp_locked(u),
        })
        .collect();
    render(&UsersPage {
        c: Chrome::new(&v, "users.title"),
        users: lines,
    })
}

#[derive(Template)]
#[template(path = "admin_user_form.html")]
pub struct UserFormPage {
    pub c: Chrome,
    /// `None` for a new user.
    pub id: Option<i64>,
    pub login: String,
    pub name: String,
    pub email: String,
    pub roles: Vec<RoleOption>,
    pub departments: Vec<DeptOption>,
    pub disabled: bool,
    pub generated_password: Option<String>,
    /// The second factor is locked by wrong codes (an unlock button is shown).
    pub locked: bool,
    pub errs: FormErrors,
    /// The employment type (正社員, 派遣社員, …): `(code, label, selected)`.
    pub employment: Vec<(&'static str, String, bool)>,
}

/// The employment types for the user form, `code` selected.
fn employment_options(v: &Visitor, code: &str) -> Vec<(&'static str, String, bool)> {
    mamori_domain::programme::learning::EmploymentType::ALL
        .iter()
        .map(|e| {
            (
                e.code(),
                v.tr().get(&format!("employment.{}", e.code())).to_owned(),
                e.code() == code,
            )
        })
        .collect()
}

const USER_FIELDS: &[(&str, &str)] = &[
    ("login", "users.login"),
    ("display_name", "users.name"),
    ("email", "users.email"),
    ("department_id", "users.department"),
    ("employment_type", "learning.employment_type"),
    ("roles", "users.roles"),
    ("password", "users.password"),
];
const DEPT_FIELDS: &[(&str, &str)] = &[
    ("name", "departments.name"),
    ("parent_id", "departments.parent"),
];

pub async fn new_user_page(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
) -> WebResult {
    let company = own_company(&v)?;
    let tree = s.app.department_tree(&v.ctx(), company).await?;
    render(&UserFormPage {
        c: Chrome::new(&v, "users.new"),
        id: None,
        login: String::new(),
        name: String::new(),
        email: String::new(),
        roles: role_options(v.lang, &[Role::Staff]),
        departments: dept_options(&tree, None),
        disabled: false,
        generated_password: None,
        locked: false,
        errs: FormErrors::none("user"),
        employment: employment_options(&v, "regular"),
    })
}

/// A form with repeated `roles` fields, read as pairs so that any number of boxes works.
fn form_value<'a>(pairs: &'a [(String, String)], key: &str) -> &'a str {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map_or("", |(_, v)| v.as_str())
}

fn form_roles(pairs: &[(String, String)]) -> Result<Vec<Role>, AppError> {
    pairs
        .iter()
        .filter(|(k, _)| k == "roles")
        .map(|(_, v)| {
            v.parse::<Role>().map_err(|e| {
                AppError::invalid("roles", format!("不明な役割です: {v}"), e.to_string())
            })
        })
        .collect()
}

fn form_department(pairs: &[(String, String)]) -> Result<i64, AppError> {
    form_value(pairs, "department_id").parse().map_err(|_| {
        AppError::invalid(
            "department_id",
            "部署を選んでください",
            "choose a department",
        )
    })
}

pub async fn create_user(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> WebResult {
    let company = own_company(&v)?;
    let tree = s.app.department_tree(&v.ctx(), company).await?;
    let roles = form_roles(&pairs);
    let dept = form_department(&pairs);
    let password = Some(form_value(&pairs, "password"))
        .filter(|p| !p.is_empty())
        .map(str::to_owned);
    let result = if let (Ok(roles), Ok(dept)) = (&roles, &dept) {
        s.app
            .create_user(
                &v.ctx(),
                &UserInput {
                    company_id: Some(company),
                    department_id: *dept,
                    login: form_value(&pairs, "login").into(),
                    display_name: form_value(&pairs, "display_name").into(),
                    email: form_value(&pairs, "email").into(),
                    roles: roles.clone(),
                    password,
                    locale: v.lang.code().into(),
                },
            )
            .await
    } else {
        // Both problems of the choices, when both are wrong.
        let mut ps = Problems::new();
        for r in [roles.as_ref().map(|_| ()), dept.as_ref().map(|_| ())] {
            if let Err(AppError::Invalid(p)) = r {
                ps.push(p.clone());
            }
        }
        Err(ps
            .done()
            .err()
            .unwrap_or_else(|| AppError::Internal("user form".into())))
    };
    match result {
        Ok((id, generated)) => {
            let code = form_value(&pairs, "employment_type");
            if !code.is_empty() {
                s.app.set_employment_type(&v.ctx(), id, code).await?;
            }
            let user = s.app.get_user_for_admin(&v.ctx(), id).await?;
            let page = edit_form(
                &s,
                &v,
                &tree,
                &user,
                Some(v.tr().get("users.created").to_owned()),
                FormErrors::none("user"),
                generated,
            )
            .await;
            render(&page)
        }
        Err(e @ AppError::Invalid(_)) => render_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            &UserFormPage {
                c: Chrome::new(&v, "users.new"),
                errs: FormErrors::of(&v, "user", &e, USER_FIELDS),
                id: None,
                login: form_value(&pairs, "login").into(),
                name: form_value(&pairs, "display_name").into(),
                email: form_value(&pairs, "email").into(),
                roles: role_options(v.lang, roles.as_deref().unwrap_or(&[])),
                departments: dept_options(&tree, dept.ok()),
                disabled: false,
                generated_password: None,
                locked: false,
                employment: employment_options(&v, form_value(&pairs, "employment_type")),
            },
        ),
        Err(e) => Err(WebError(e)),
    }
}

async fn edit_form(
    s: &WebState,
    v: &Visitor,
    tree: &[DeptLine],
    u: &User,
    flash: Option<String>,
    errs: FormErrors,
    generated: Option<String>,
) -> UserFormPage {
    let roles: Vec<Role> = u.roles.iter().collect();
    UserFormPage {
        c: Chrome::new(v, "users.edit")
            .with_flash(flash)
            .with_error(errs.banner(&["user"])),
        errs,
        id: Some(u.id),
        login: u.login.clone(),
        name: u.display_name.clone(),
        email: u.email.clone(),
        roles: role_options(v.lang, &roles),
        departments: dept_options(tree, Some(u.department_id)),
        disabled: u.disabled,
        generated_password: generated,
        locked: s.app.totp_locked(u),
        employment: employment_options(
            v,
            s.app
                .employment_type_of(&v.ctx(), u.id)
                .await
                .map_or("regular", |e| e.code()),
        ),
    }
}

pub async fn edit_user_page(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Path(id): Path<i64>,
) -> WebResult {
    let company = own_company(&v)?;
    let user = s.app.get_user_for_admin(&v.ctx(), id).await?;
    let tree = s.app.department_tree(&v.ctx(), company).await?;
    render(&edit_form(&s, &v, &tree, &user, None, FormErrors::none("user"), None).await)
}

pub async fn update_user(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> WebResult {
    let company = own_company(&v)?;
    let tree = s.app.department_tree(&v.ctx(), company).await?;
    let result = async {
        let roles = form_roles(&pairs)?;
        let dept = form_department(&pairs)?;
        let disabled = form_value(&pairs, "disabled") == "1";
        s.app
            .update_user(
                &v.ctx(),
                id,
                &UserUpdate {
                    display_name: form_value(&pairs, "display_name"),
                    email: form_value(&pairs, "email"),
                    department_id: dept,
                    roles: &roles,
                    disabled,
                },
            )
            .await?;
        let code = form_value(&pairs, "employment_type");
        if code.is_empty() {
            Ok(())
        } else {
            s.app.set_employment_type(&v.ctx(), id, code).await
        }
    }
    .await;
    let user = s.app.get_user_for_admin(&v.ctx(), id).await?;
    match result {
        Ok(()) => render(
            &edit_form(
                &s,
                &v,
                &tree,
                &user,
                Some(v.tr().get("users.saved").to_owned()),
                FormErrors::none("user"),
                None,
            )
            .await,
        ),
        Err(e @ AppError::Invalid(_)) => {
            let errs = FormErrors::of(&v, "user", &e, USER_FIELDS);
            let mut page = edit_form(&s, &v, &tree, &user, None, errs, None).await;
            page.name = form_value(&pairs, "display_name").into();
            page.email = form_value(&pairs, "email").into();
            let roles = form_roles(&pairs).unwrap_or_default();
            page.roles = role_options(v.lang, &roles);
            if let Ok(d) = form_department(&pairs) {
                page.departments = dept_options(&tree, Some(d));
            }
            page.disabled = form_value(&pairs, "disabled") == "1";
            page.employment = employment_options(&v, form_value(&pairs, "employment_type"));
            render_status(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(e) => Err(WebError(e)),
    }
}

/// The edit page of a user again, after an action on it, with a message.
async fn edit_again(
    s: &WebState,
    v: &Visitor,
    id: i64,
    flash_key: &str,
    generated: Option<String>,
) -> WebResult {
    let company = own_company(v)?;
    let user = s.app.get_user_for_admin(&v.ctx(), id).await?;
    let tree = s.app.department_tree(&v.ctx(), company).await?;
    render(
        &edit_form(
            s,
            v,
            &tree,
            &user,
            Some(v.tr().get(flash_key).to_owned()),
            FormErrors::none("user"),
            generated,
        )
        .await,
    )
}

pub async fn reset_password(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Path(id): Path<i64>,
) -> WebResult {
    own_company(&v)?;
    let generated = s.app.set_password(&v.ctx(), id, None).await?;
    edit_again(&s, &v, id, "users.password_reset", generated).await
}

pub async fn reset_totp(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Path(id): Path<i64>,
) -> WebResult {
    own_company(&v)?;
    s.app.reset_totp(&v.ctx(), id).await?;
    edit_again(&s, &v, id, "users.totp_reset", None).await
}

/// Unlocks a user's second factor (and password lock) after failed attempts.
pub async fn unlock_user(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Path(id): Path<i64>,
) -> WebResult {
    own_company(&v)?;
    s.app.unlock_user(&v.ctx(), id).await?;
    edit_again(&s, &v, id, "users.unlocked", None).await
}

pub struct DeptRow {
    pub id: i64,
    pub name: String,
    pub depth: usize,
    pub indent: String,
    pub parents: Vec<DeptOption>,
}

#[derive(Template)]
#[template(path = "admin_departments.html")]
pub struct DepartmentsPage {
    pub c: Chrome,
    pub company: String,
    pub rows: Vec<DeptRow>,
    pub parents: Vec<DeptOption>,
    /// The problems of the new department's form (`dept`; a row's in the banner) and what was
    /// typed into it.
    pub errs: FormErrors,
    pub typed_name: String,
}

async fn departments(
    s: &WebState,
    v: &Visitor,
    flash: Option<String>,
    errs: FormErrors,
    typed: Option<&[(String, String)]>,
) -> WebResult {
    let company = own_company(v)?;
    let tree = s.app.department_tree(&v.ctx(), company).await?;
    let rows = tree
        .iter()
        .map(|d| DeptRow {
            id: d.dept.id,
            name: d.dept.name.clone(),
            depth: d.depth,
            indent: "　".repeat(d.depth),
            parents: dept_options(&tree, d.dept.parent_id),
        })
        .collect();
    render_status(
        errs.status(),
        &DepartmentsPage {
            c: Chrome::new(v, "departments.title")
                .with_flash(flash)
                .with_error(errs.banner(&["dept"])),
            company: s.app.store.get_company(company).await?.name,
            rows,
            parents: dept_options(&tree, typed.and_then(parent_of)),
            typed_name: typed.map_or("", |p| form_value(p, "name")).to_owned(),
            errs,
        },
    )
}

pub async fn departments_page(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
) -> WebResult {
    departments(&s, &v, None, FormErrors::none("dept"), None).await
}

fn parent_of(pairs: &[(String, String)]) -> Option<i64> {
    form_value(pairs, "parent_id").parse().ok()
}

pub async fn create_department(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> WebResult {
    let company = own_company(&v)?;
    match s
        .app
        .create_department(
            &v.ctx(),
            company,
            parent_of(&pairs),
            form_value(&pairs, "name"),
        )
        .await
    {
        Ok(_) => Ok(Redirect::to("/admin/departments").into_response()),
        Err(e @ AppError::Invalid(_)) => {
            let errs = FormErrors::of(&v, "dept", &e, DEPT_FIELDS);
            departments(&s, &v, None, errs, Some(&pairs)).await
        }
        Err(e) => Err(WebError(e)),
    }
}

pub async fn update_department(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> WebResult {
    own_company(&v)?;
    match s
        .app
        .update_department(&v.ctx(), id, parent_of(&pairs), form_value(&pairs, "name"))
        .await
    {
        Ok(()) => Ok(Redirect::to("/admin/departments").into_response()),
        Err(e @ AppError::Invalid(_)) => {
            let errs = FormErrors::of(&v, "row", &e, &[]);
            departments(&s, &v, None, errs, None).await
        }
        Err(e) => Err(WebError(e)),
    }
}
