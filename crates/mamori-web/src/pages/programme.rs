//! 「点検・教育」: the hub of the compliance programme (issue 17). Everybody sees the own tasks
//! (an inspection to answer, a course to take, a pledge to accept, a take-out to return);
//! department heads, the privacy office, executives and auditors also see the links to the
//! figures and registers of the parts they may use. Each part adds its tasks and its cards
//! here; the pages of a part live in their own module.

use super::{render, Chrome};
use crate::error::WebResult;
use crate::visitor::Visitor;
use crate::WebState;
use askama::Template;
use axum::extract::State;
use axum::Extension;

/// A task of the person: what, until when, where to do it.
pub struct TaskLine {
    pub href: String,
    pub what: String,
    pub due: String,
    pub overdue: bool,
}

/// A link to a part's pages.
pub struct Card {
    pub href: &'static str,
    pub title: String,
    pub desc: String,
}

#[derive(Template)]
#[template(path = "programme.html")]
pub struct HubPage {
    pub c: Chrome,
    pub tasks: Vec<TaskLine>,
    pub cards: Vec<Card>,
}

/// A card of a part, with its title and description from the catalogue (`{key}` and
/// `{key}.desc`).
pub fn card(v: &Visitor, href: &'static str, key: &str) -> Card {
    let t = v.tr();
    Card {
        href,
        title: t.get(key).to_owned(),
        desc: t.get(&format!("{key}.desc")).to_owned(),
    }
}

pub async fn hub(State(s): State<WebState>, Extension(v): Extension<Visitor>) -> WebResult {
    v.full()?;
    let ctx = v.ctx();
    let scope = s.app.programme_scope(&ctx).await?;
    let mut tasks: Vec<TaskLine> = Vec::new();
    let mut cards = Vec::new();
    // Each part pushes its own tasks and cards below.
    // Part 1: the self-inspections (everybody answers; the figures for those who see them).
    for t in super::inspections::task_lines(&s, &v).await? {
        if t.done.is_none() {
            tasks.push(TaskLine {
                href: t.href,
                what: t.what,
                due: t.until,
                overdue: false,
            });
        }
    }
    cards.push(card(&v, "/programme/inspections", "insp.title"));
    if scope.sees_figures() {
        cards.push(card(&v, "/programme/report", "report.title"));
    }
    super::takeouts::hub_part(&s, &v, &scope, &mut tasks, &mut cards).await?;
    // Parts 5–6: contractors and internal audit.
    super::internal_audit::hub_tasks(&s, &v, &mut tasks).await;
    if ctx.allows(mamori_domain::role::Permission::ViewProgramme) && scope.sees_figures() {
        cards.push(card(&v, "/programme/contractors", "contractor.card"));
        cards.push(card(&v, "/programme/audits", "internal_audit.card"));
    }
    // E-learning and pledges (part 2): the own courses and pledge; the managers' pages.
    tasks.extend(super::learning::hub_tasks(&s, &v).await?);
    cards.push(card(&v, "/programme/courses", "learning.card"));
    cards.push(card(&v, "/programme/pledges", "pledge.card"));
    cards.retain(|c: &Card| !c.href.is_empty());
    render(&HubPage {
        c: Chrome::new(&v, "programme.title"),
        tasks,
        cards,
    })
}
