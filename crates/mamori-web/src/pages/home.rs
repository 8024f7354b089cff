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
    pub dash: DashView,
    /// Campaigns with calls waiting (contact desk).
    pub calls: Vec<CallQueue>,
    /// The desk's last seven days, when there is something to show.
    pub desk: Option<DeskCard>,
}

/// The contact desk's week on the dashboard: the inquiries per day and the open backlog.
pub struct DeskCard {
    pub chart: crate::chart_desk::DeskChart,
    pub summary: String,
}

/// The desk card for those who handle inquiries or see every incident; none when the desk had
/// nothing this week and nothing is open, and none (never a broken page) when the figures
/// cannot be read.
async fn desk_card(s: &WebState, v: &Visitor) -> Option<DeskCard> {
    use crate::chart_desk::{count, per_day, with_unit};
    let ctx = v.ctx();
    if !(ctx.allows(Permission::HandleInquiries) || ctx.allows(Permission::ViewAllIncidents)) {
        return None;
    }
    let vol = match s.app.desk_volumes(&ctx, None, 7).await {
        Ok(vol) => vol,
        Err(e) => {
            tracing::warn!(error = %e, "the desk's figures could not be read for the dashboard");
            return None;
        }
    };
    if vol.total <= 0 && vol.open <= 0 {
        return None;
    }
    let n = |x: i64| with_unit(v.lang, count(x));
    Some(DeskCard {
        chart: per_day(&vol.days, v.lang),
        summary: v
            .tr()
            .get("home.desk.open")
            .replace("{open}", &n(vol.open))
            .replace("{escalated}", &n(vol.escalated))
            .replace("{total}", &n(vol.total)),
    })
}

pub struct CallQueue {
    pub href: String,
    pub incident: String,
    pub waiting: i64,
}

pub struct DueRow {
    pub href: String,
    pub drill: bool,
    pub what: String,
    pub incident: String,
    pub due: String,
}

#[derive(Default)]
pub struct DashView {
    pub open: i64,
    pub open_drills: i64,
    pub overdue: Vec<DueRow>,
    pub deadlines: Vec<DueRow>,
    pub unacknowledged: Vec<super::incidents::ListRow>,
    pub recent: Vec<super::incidents::ListRow>,
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
    let d = s.app.dashboard(&ctx).await?;
    let label = |kind: &str| {
        mamori_domain::incident::ObligationKind::parse(kind).map_or_else(
            || kind.to_owned(),
            |k| {
                if v.lang == crate::i18n::Lang::En {
                    k.label_en()
                } else {
                    k.label_ja()
                }
                .to_owned()
            },
        )
    };
    let mut overdue: Vec<DueRow> = d
        .overdue_obligations
        .iter()
        .map(|(o, r, title, drill)| DueRow {
            href: format!("/incidents/{}#obligations", o.incident_id),
            drill: *drill,
            what: label(&o.kind),
            incident: format!("{r} {title}"),
            due: o.due_on.clone().unwrap_or_default(),
        })
        .collect();
    overdue.extend(
        d.overdue_tasks
            .iter()
            .map(|(task, r, title, drill)| DueRow {
                href: format!("/incidents/{}#phases", task.incident_id),
                drill: *drill,
                what: mamori_domain::incident::Phase::show_task_title(
                    task.template.as_deref(),
                    &task.title,
                    v.lang,
                ),
                incident: format!("{r} {title}"),
                due: task.due_on.clone().unwrap_or_default(),
            }),
    );
    let dash = DashView {
        open: d.open,
        open_drills: d.open_drills,
        overdue,
        deadlines: d
            .deadlines
            .iter()
            .map(|(o, r, title, drill)| DueRow {
                href: format!("/incidents/{}#obligations", o.incident_id),
                drill: *drill,
                what: label(&o.kind),
                incident: format!("{r} {title}"),
                due: o.due_on.clone().unwrap_or_default(),
            })
            .collect(),
        unacknowledged: d
            .unacknowledged
            .iter()
            .map(|i| super::incidents::summary_row(&v, i))
            .collect(),
        recent: d
            .recent
            .iter()
            .map(|i| super::incidents::summary_row(&v, i))
            .collect(),
    };
    let mut cards = Vec::new();
    cards.push(Card {
        href: "/incidents",
        title: t.get("incidents.title").into(),
        desc: t.get("home.incidents.desc").into(),
    });
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
    let calls = s
        .app
        .phone_queues(&ctx)
        .await?
        .into_iter()
        .map(|q| CallQueue {
            href: format!("/campaigns/{}/calls", q.campaign_id),
            incident: format!("{} {}", q.ref_no, q.title),
            waiting: q.waiting,
        })
        .collect();
    let desk = desk_card(&s, &v).await;
    render(&HomePage {
        calls,
        desk,
        c: Chrome::new(&v, "home.title"),
        welcome: t.fill("home.welcome", "name", &user.display_name),
        roles,
        department,
        company,
        cards,
        dash,
    })
}
