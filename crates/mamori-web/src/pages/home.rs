//! The home page: who you are and what you can do.

use super::{render, Chrome};
use crate::error::WebResult;
use crate::visitor::Visitor;
use crate::WebState;
use askama::Template;
use axum::extract::State;
use axum::Extension;
use mamori_domain::role::Permission;

pub struct Card {
    pub href: &'static str,
    pub title: String,
    pub desc: String,
}

#[derive(Template)]
#[template(path = "home.html")]
pub struct HomePage {
    pub c: Chrome,
    pub welcome: String,
    pub roles: Vec<String>,
    pub department: String,
    pub company: String,
    pub cards: Vec<Card>,
}

pub async fn home(State(s): State<WebState>, Extension(v): Extension<Visitor>) -> WebResult {
    let session = v.full()?;
    let user = &session.user;
    let t = v.tr();
    let ctx = v.ctx();
    let (department, company) = s
        .app
        .store
        .department_and_company_names(user.department_id)
        .await?;
    let mut cards = Vec::new();
    if ctx.allows(Permission::ReadAuditLog) {
        cards.push(Card {
            href: "/audit",
            title: t.get("nav.audit").into(),
            desc: t.get("home.audit.desc").into(),
        });
    }
    if ctx.allows(Permission::ManageUsers) {
        cards.push(Card {
            href: "/admin/users",
            title: t.get("nav.users").into(),
            desc: t.get("home.users.desc").into(),
        });
    }
    cards.push(Card {
        href: "/account",
        title: t.get("nav.account").into(),
        desc: t.get("home.account.desc").into(),
    });
    let roles = user
        .roles
        .iter()
        .map(|r| {
            if v.lang == crate::i18n::Lang::En {
                r.label_en()
            } else {
                r.label_ja()
            }
            .to_owned()
        })
        .collect();
    render(&HomePage {
        c: Chrome::new(&v, "home.title"),
        welcome: t.fill("home.welcome", "name", &user.display_name),
        roles,
        department,
        company,
        cards,
    })
}
