//! Self-inspections (総点検, issue 17 part 1): the overview (own tasks, rounds, the settings),
//! the answer form (a phone page: one question per fieldset, はい / いいえ / 該当なし), one
//! round (response rates, a radar per department against the company, item scores), the
//! follow-up list with its interviews, one department's radar and trend, and the question
//! sets in versions.

use super::{jst, render, render_status, Chrome};
use crate::chart_radar::{radar_svg, score_text, trend_svg, Radar, Series, Style, Trend};
use crate::error::{WebError, WebResult};
use crate::form::FormErrors;
use crate::i18n::Lang;
use crate::visitor::Visitor;
use crate::WebState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect};
use axum::{Extension, Form};
use mamori_app::inspection::{
    DeptFigures, FollowupItem, RoundFigures, LABEL_FIELDS, NOTE_FIELDS, Q_FIELDS, TEXT_FIELDS,
};
use mamori_app::AppError;
use mamori_domain::programme::inspection::{Audience, Outcome, Question, Reply, ReplyInput, Tally};
use mamori_domain::programme::schedule::Month;
use mamori_domain::role::Permission;
use serde::Deserialize;
use std::collections::HashMap;

fn audience_label(v: &Visitor, a: Audience) -> String {
    v.tr()
        .get(&format!("insp.audience.{}", a.code()))
        .to_owned()
}

fn month_label(v: &Visitor, key: &str) -> String {
    Month::parse(key).map_or_else(|| key.to_owned(), |m| m.label(v.lang == Lang::En))
}

fn pct(answered: i64, expected: i64) -> String {
    if expected <= 0 {
        "-".into()
    } else {
        #[allow(clippy::cast_precision_loss)]
        let p = answered as f64 * 100.0 / expected as f64;
        format!("{p:.0}%")
    }
}

// ───────────────────────────── overview ─────────────────────────────

pub struct TaskLine {
    pub href: String,
    pub what: String,
    pub until: String,
    pub done: Option<String>,
}

pub struct RoundLine {
    pub id: i64,
    pub month: String,
    pub window: String,
    pub answered: String,
    pub score: String,
}

#[derive(Template)]
#[template(path = "inspections.html")]
pub struct OverviewPage {
    pub c: Chrome,
    pub errs: FormErrors,
    pub tasks: Vec<TaskLine>,
    pub sees_figures: bool,
    pub runs: bool,
    pub rounds: Vec<RoundLine>,
    pub day: String,
    pub enabled: bool,
    pub individual_version: i64,
    pub manager_version: i64,
    pub month: String,
    pub rule: String,
}

#[derive(Deserialize, Default)]
pub struct OverviewQuery {
    pub saved: Option<String>,
}

/// The person's inspection tasks (also the hub's).
pub async fn task_lines(s: &WebState, v: &Visitor) -> Result<Vec<TaskLine>, AppError> {
    let t = v.tr();
    let tasks = s.app.my_inspection_tasks(&v.ctx()).await?;
    Ok(tasks
        .into_iter()
        .map(|task| TaskLine {
            href: format!("/programme/inspections/answer?for={}", task.audience.code()),
            what: t
                .get("insp.task")
                .replace("{month}", &month_label(v, &task.round.month))
                .replace("{what}", &audience_label(v, task.audience)),
            until: t.get("insp.until").replace("{date}", &task.round.closes_on),
            done: task.answered_at.map(|at| jst(at)[..16].to_owned()),
        })
        .collect())
}

async fn overview(
    s: &WebState,
    v: &Visitor,
    errs: FormErrors,
    month: Option<String>,
    day: Option<(String, bool)>,
    flash: Option<String>,
) -> WebResult {
    let ctx = v.ctx();
    let scope = s.app.programme_scope(&ctx).await?;
    let tasks = task_lines(s, v).await?;
    let sees_figures = ctx.allows(Permission::ViewProgramme) && scope.sees_figures();
    let mut rounds = Vec::new();
    let (mut d, mut enabled, mut iv, mut mv) = (String::new(), false, 0, 0);
    if sees_figures {
        for r in s.app.inspection_rounds(&ctx, 24).await? {
            let f = s.app.inspection_round_figures(&ctx, r.id).await?;
            let (exp, ans) = f.departments.iter().fold((0, 0), |(e, a), d| {
                (
                    e + d.expected.get(&Audience::Individual).copied().unwrap_or(0),
                    a + d.answered.get(&Audience::Individual).copied().unwrap_or(0),
                )
            });
            let score = scope_score(&f);
            rounds.push(RoundLine {
                id: r.id,
                month: month_label(v, &r.month),
                window: format!("{} – {}", r.opens_on, r.closes_on),
                answered: format!("{ans} / {exp} ({})", pct(ans, exp)),
                score: score_text(v.lang, score),
            });
        }
        let st = s.app.inspection_settings(&ctx).await?;
        d = st.day_of_month.to_string();
        enabled = st.enabled;
        iv = st.individual.version;
        mv = st.manager.version;
    }
    if let Some((typed, on)) = day {
        d = typed;
        enabled = on;
    }
    let t = v.tr();
    render_status(
        errs.status(),
        &OverviewPage {
            c: Chrome::new(v, "insp.title").with_flash(flash),
            errs,
            tasks,
            sees_figures,
            runs: scope.runs,
            rounds,
            day: d,
            enabled,
            individual_version: iv,
            manager_version: mv,
            month: month.unwrap_or_else(|| {
                Month::of(mamori_domain::incident::jst_date(s.app.clock.now_micros())).key()
            }),
            rule: t.get("insp.rule").to_owned(),
        },
    )
}

/// The mean individual score of the departments within reach (the whole company for those
/// who see it), from their counts.
fn scope_score(f: &RoundFigures) -> Option<f64> {
    let mut sum: Vec<Tally> = Vec::new();
    for d in &f.departments {
        if let Some(ts) = d.tallies.get(&Audience::Individual) {
            if sum.len() < ts.len() {
                sum.resize(ts.len(), Tally::default());
            }
            for (i, t) in ts.iter().enumerate() {
                sum[i].merge(*t);
            }
        }
    }
    mamori_domain::programme::inspection::mean_score(&sum)
}

pub async fn list_page(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Query(q): Query<OverviewQuery>,
) -> WebResult {
    v.full()?;
    let flash = q.saved.as_deref().map(|k| {
        v.tr()
            .get(&format!("insp.flash.{}", flash_key(k)))
            .to_owned()
    });
    overview(&s, &v, FormErrors::none("schedule"), None, None, flash).await
}

fn flash_key(k: &str) -> &'static str {
    match k {
        "schedule" => "schedule",
        "round" => "round",
        "set" => "set",
        _ => "saved",
    }
}

#[derive(Deserialize)]
pub struct ScheduleForm {
    pub day: String,
    pub enabled: Option<String>,
}

pub async fn save_schedule(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Form(f): Form<ScheduleForm>,
) -> WebResult {
    v.full()?;
    let ctx = v.ctx();
    match s
        .app
        .set_inspection_schedule(&ctx, &f.day, f.enabled.is_some())
        .await
    {
        Ok(()) => Ok(Redirect::to("/programme/inspections?saved=schedule").into_response()),
        Err(e @ AppError::Invalid(_)) => {
            let errs = FormErrors::of(&v, "schedule", &e, &[("day", "insp.day")]);
            overview(&s, &v, errs, None, Some((f.day, f.enabled.is_some())), None).await
        }
        Err(e) => Err(WebError(e)),
    }
}

#[derive(Deserialize)]
pub struct OpenForm {
    pub month: String,
}

pub async fn open_round(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Form(f): Form<OpenForm>,
) -> WebResult {
    v.full()?;
    let ctx = v.ctx();
    match s.app.open_inspection_round(&ctx, &f.month).await {
        Ok(r) => Ok(Redirect::to(&format!(
            "/programme/inspections/rounds/{}?saved=round",
            r.id
        ))
        .into_response()),
        Err(e @ AppError::Invalid(_)) => {
            let errs = FormErrors::of(&v, "round", &e, &[("month", "insp.month")]);
            overview(&s, &v, errs, Some(f.month), None, None).await
        }
        Err(e) => Err(WebError(e)),
    }
}

// ───────────────────────────── the answer form ─────────────────────────────

pub struct QuestionLine {
    pub n: usize,
    pub label: String,
    pub text: String,
    pub reply: String,
    pub note: String,
}

#[derive(Template)]
#[template(path = "inspection_answer.html")]
pub struct AnswerPage {
    pub c: Chrome,
    pub errs: FormErrors,
    pub open: bool,
    pub round_id: i64,
    pub audience: String,
    pub heading: String,
    pub until: String,
    pub questions: Vec<QuestionLine>,
    pub answered: Option<String>,
    pub noes: usize,
}

#[derive(Deserialize, Default)]
pub struct AnswerQuery {
    #[serde(rename = "for")]
    pub audience: Option<String>,
    pub sent: Option<String>,
}

fn reply_code(r: Reply) -> &'static str {
    r.code()
}

pub async fn answer_page(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Query(q): Query<AnswerQuery>,
) -> WebResult {
    v.full()?;
    let ctx = v.ctx();
    let audience = q.audience.unwrap_or_else(|| "individual".into());
    let form = s.app.inspection_answer_form(&ctx, &audience).await?;
    let t = v.tr();
    let flash = q
        .sent
        .is_some()
        .then(|| t.get("insp.flash.sent").to_owned());
    let Some(form) = form else {
        return render(&AnswerPage {
            c: Chrome::new(&v, "insp.answer.title"),
            errs: FormErrors::none("answer"),
            open: false,
            round_id: 0,
            audience,
            heading: String::new(),
            until: String::new(),
            questions: Vec::new(),
            answered: None,
            noes: 0,
        });
    };
    let replies = form.answered.as_ref().map(|(_, r)| r.clone());
    let questions = form
        .questions
        .iter()
        .enumerate()
        .map(|(i, q)| {
            let r = replies.as_ref().and_then(|r| r.get(i));
            QuestionLine {
                n: i + 1,
                label: q.label_for(v.lang == Lang::En).to_owned(),
                text: q.text_for(v.lang == Lang::En).to_owned(),
                reply: r.map_or_else(String::new, |r| reply_code(r.reply).to_owned()),
                note: r.and_then(|r| r.note.clone()).unwrap_or_default(),
            }
        })
        .collect();
    let noes = replies
        .as_ref()
        .map_or(0, |r| r.iter().filter(|r| r.reply == Reply::No).count());
    render(&AnswerPage {
        c: Chrome::new(&v, "insp.answer.title").with_flash(flash),
        errs: FormErrors::none("answer"),
        open: true,
        round_id: form.round.id,
        audience: form.audience.code().to_owned(),
        heading: t
            .get("insp.task")
            .replace("{month}", &month_label(&v, &form.round.month))
            .replace("{what}", &audience_label(&v, form.audience)),
        until: t.get("insp.until").replace("{date}", &form.round.closes_on),
        questions,
        answered: form.answered.map(|(at, _)| jst(at)[..16].to_owned()),
        noes,
    })
}

pub async fn submit_answer(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> WebResult {
    v.full()?;
    let f: HashMap<String, String> = pairs.into_iter().collect();
    let ctx = v.ctx();
    let round_id: i64 = f.get("round").and_then(|r| r.parse().ok()).unwrap_or(0);
    let audience = f.get("audience").cloned().unwrap_or_default();
    let Some(form) = s.app.inspection_answer_form(&ctx, &audience).await? else {
        return Err(WebError(AppError::NotFound));
    };
    let n = form.questions.len();
    let input: Vec<ReplyInput> = (0..n)
        .map(|i| ReplyInput {
            reply: f.get(Q_FIELDS[i]).cloned(),
            note: f.get(NOTE_FIELDS[i]).cloned().unwrap_or_default(),
        })
        .collect();
    match s
        .app
        .submit_inspection(&ctx, round_id, &audience, &input)
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!(
            "/programme/inspections/answer?for={}&sent=1",
            form.audience.code()
        ))
        .into_response()),
        Err(e @ AppError::Invalid(_)) => {
            let t = v.tr();
            let labelled: Vec<(&str, String)> = (0..n)
                .flat_map(|i| {
                    [
                        (
                            Q_FIELDS[i],
                            t.get("insp.q").replace("{n}", &(i + 1).to_string()),
                        ),
                        (
                            NOTE_FIELDS[i],
                            t.get("insp.q").replace("{n}", &(i + 1).to_string()),
                        ),
                    ]
                })
                .collect();
            let errs = FormErrors::of_labelled(&v, "answer", &e, &labelled);
            let questions = form
                .questions
                .iter()
                .enumerate()
                .map(|(i, q)| QuestionLine {
                    n: i + 1,
                    label: q.label_for(v.lang == Lang::En).to_owned(),
                    text: q.text_for(v.lang == Lang::En).to_owned(),
                    reply: input[i]
                        .reply
                        .as_deref()
                        .and_then(Reply::parse)
                        .map_or_else(String::new, |r| r.code().to_owned()),
                    note: input[i].note.clone(),
                })
                .collect();
            render_status(
                errs.status(),
                &AnswerPage {
                    c: Chrome::new(&v, "insp.answer.title"),
                    errs,
                    open: true,
                    round_id: form.round.id,
                    audience: form.audience.code().to_owned(),
                    heading: t
                        .get("insp.task")
                        .replace("{month}", &month_label(&v, &form.round.month))
                        .replace("{what}", &audience_label(&v, form.audience)),
                    until: t.get("insp.until").replace("{date}", &form.round.closes_on),
                    questions,
                    answered: None,
                    noes: 0,
                },
            )
        }
        Err(e) => Err(WebError(e)),
    }
}

// ───────────────────────────── one round ─────────────────────────────

pub struct DeptLine {
    pub id: i64,
    pub name: String,
    pub individual: String,
    pub manager: String,
    pub score: String,
    pub low: bool,
}

pub struct DeptRadar {
    pub id: i64,
    pub name: String,
    pub svg: String,
    pub score: String,
}

pub struct ItemLine {
    pub n: usize,
    pub label: String,
    pub text: String,
    pub company: String,
    pub cells: Vec<String>,
}

#[derive(Template)]
#[template(path = "inspection_round.html")]
pub struct RoundPage {
    pub c: Chrome,
    pub id: i64,
    pub month: String,
    pub month_key: String,
    pub window: String,
    pub lines: Vec<DeptLine>,
    pub radars: Vec<DeptRadar>,
    pub items: Vec<ItemLine>,
    pub dept_heads: Vec<String>,
    pub manager_items: Vec<ItemLine>,
    pub follow_up_open: usize,
    /// Take-outs open at some time in the month (part 4): checked on the inspection day.
    pub takeouts: Vec<TakeoutOpen>,
}

pub struct TakeoutOpen {
    pub id: i64,
    pub dataset: String,
    pub department: String,
    pub requester: String,
    pub until: String,
    pub late: bool,
}

fn scores_of(tallies: Option<&Vec<Tally>>, n: usize) -> Vec<Option<f64>> {
    (0..n)
        .map(|i| tallies.and_then(|t| t.get(i)).and_then(|t| t.score()))
        .collect()
}

fn dept_radar(
    v: &Visitor,
    questions: &[Question],
    d: &DeptFigures,
    company: Option<&Vec<Tally>>,
    title: &str,
    previous: Option<Vec<Option<f64>>>,
) -> String {
    let t = v.tr();
    let n = questions.len();
    let mut series = vec![Series {
        name: d.name.clone(),
        values: scores_of(d.tallies.get(&Audience::Individual), n),
        style: Style::Main,
    }];
    if let Some(p) = previous {
        series.push(Series {
            name: t.get("insp.previous").to_owned(),
            values: p,
            style: Style::Previous,
        });
    }
    series.push(Series {
        name: t.get("insp.company").to_owned(),
        values: scores_of(company, n),
        style: Style::Compare,
    });
    radar_svg(
        &Radar {
            title: title.to_owned(),
            axes: questions
                .iter()
                .map(|q| q.label_for(v.lang == Lang::En).to_owned())
                .collect(),
            series,
        },
        v.lang,
        &format!("radar-{}", d.department_id),
    )
}

fn item_lines(
    questions: &[Question],
    company: Option<&Vec<Tally>>,
    depts: &[DeptFigures],
    a: Audience,
    lang: Lang,
) -> Vec<ItemLine> {
    questions
        .iter()
        .enumerate()
        .map(|(i, q)| ItemLine {
            n: i + 1,
            label: q.label_for(lang == Lang::En).to_owned(),
            text: q.text_for(lang == Lang::En).to_owned(),
            company: score_text(lang, company.and_then(|c| c.get(i)).and_then(|t| t.score())),
            cells: depts
                .iter()
                .map(|d| {
                    score_text(
                        lang,
                        d.tallies
                            .get(&a)
                            .and_then(|t| t.get(i))
                            .and_then(|t| t.score()),
                    )
                })
                .collect(),
        })
        .collect()
}

#[derive(Deserialize, Default)]
pub struct SavedQuery {
    pub saved: Option<String>,
}

pub async fn round_page(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Path(id): Path<i64>,
    Query(q): Query<SavedQuery>,
) -> WebResult {
    v.full()?;
    let ctx = v.ctx();
    let f = s.app.inspection_round_figures(&ctx, id).await?;
    let t = v.tr();
    let month = month_label(&v, &f.info.round.month);
    let low_mark = 80.0;
    let lines = f
        .departments
        .iter()
        .map(|d| {
            let cell = |a: Audience| {
                let e = d.expected.get(&a).copied().unwrap_or(0);
                let n = d.answered.get(&a).copied().unwrap_or(0);
                if e == 0 && n == 0 {
                    "-".to_owned()
                } else {
                    format!("{n} / {e} ({})", pct(n, e))
                }
            };
            let score = d.score(Audience::Individual);
            DeptLine {
                id: d.department_id,
                name: d.name.clone(),
                individual: cell(Audience::Individual),
                manager: cell(Audience::Manager),
                score: score_text(v.lang, score),
                low: score.is_some_and(|s| s < low_mark),
            }
        })
        .collect();
    let company = f.company.get(&Audience::Individual);
    let radars = f
        .departments
        .iter()
        .filter(|d| d.tallies.contains_key(&Audience::Individual))
        .map(|d| DeptRadar {
            id: d.department_id,
            name: d.name.clone(),
            svg: dept_radar(
                &v,
                &f.info.individual,
                d,
                company,
                &t.get("insp.radar.title")
                    .replace("{dept}", &d.name)
                    .replace("{month}", &month),
                None,
            ),
            score: score_text(v.lang, d.score(Audience::Individual)),
        })
        .collect();
    let items = item_lines(
        &f.info.individual,
        company,
        &f.departments,
        Audience::Individual,
        v.lang,
    );
    let manager_items = item_lines(
        &f.info.manager,
        f.company.get(&Audience::Manager),
        &f.departments,
        Audience::Manager,
        v.lang,
    );
    let flash = q
        .saved
        .is_some()
        .then(|| t.get("insp.flash.round").to_owned());
    let scope = s.app.programme_scope(&ctx).await?;
    let takeouts = match Month::parse(&f.info.round.month) {
        Some(m) => s
            .app
            .open_takeouts(&scope, m)
            .await?
            .into_iter()
            .map(|l| TakeoutOpen {
                id: l.row.id,
                dataset: l.dataset,
                department: l.department,
                requester: l.requester,
                until: l.row.until_on.clone(),
                late: l.overdue_days > 0,
            })
            .collect(),
        None => Vec::new(),
    };
    render(&RoundPage {
        c: Chrome::new(&v, "insp.round.title").with_flash(flash),
        id,
        window: format!("{} – {}", f.info.round.opens_on, f.info.round.closes_on),
        month,
        month_key: f.info.round.month.clone(),
        lines,
        radars,
        items,
        dept_heads: f.departments.iter().map(|d| d.name.clone()).collect(),
        manager_items,
        follow_up_open: f.follow_up_open,
        takeouts,
    })
}

// ───────────────────────────── follow-up ─────────────────────────────

pub struct PersonLine {
    pub answer_id: i64,
    pub person: String,
    pub department: String,
    pub audience: String,
    pub noes: Vec<String>,
    pub followups: Vec<String>,
    pub open: bool,
}

#[derive(Template)]
#[template(path = "inspection_followup.html")]
pub struct FollowupPage {
    pub c: Chrome,
    pub errs: FormErrors,
    pub round_id: i64,
    pub month: String,
    pub people: Vec<PersonLine>,
    pub can_record: bool,
    pub today: String,
    pub outcomes: Vec<(String, String)>,
    pub failed_answer: i64,
    pub f_date: String,
    pub f_outcome: String,
    pub f_note: String,
}

fn person_lines(v: &Visitor, items: &[FollowupItem]) -> Vec<PersonLine> {
    let t = v.tr();
    items
        .iter()
        .map(|p| PersonLine {
            answer_id: p.answer.id,
            person: p.person.clone(),
            department: p.department.clone(),
            audience: Audience::parse(&p.answer.audience)
                .map_or_else(String::new, |a| audience_label(v, a)),
            noes: p
                .noes
                .iter()
                .map(|(n, q, note)| {
                    let label = q.label_for(v.lang == Lang::En);
                    match note {
                        Some(note) => format!("{n}. {label}（{note}）"),
                        None => format!("{n}. {label}"),
                    }
                })
                .collect(),
            followups: p
                .followups
                .iter()
                .map(|f| {
                    let mut s = format!(
                        "{} {} · {}",
                        f.row.interviewed_on,
                        f.interviewer,
                        t.get(&format!("insp.outcome.{}", f.row.outcome))
                    );
                    if let Some(n) = &f.note {
                        s.push_str(" · ");
                        s.push_str(n);
                    }
                    s
                })
                .collect(),
            open: p.followups.is_empty(),
        })
        .collect()
}

async fn followup_view(
    s: &WebState,
    v: &Visitor,
    round_id: i64,
    errs: FormErrors,
    failed: Option<(i64, FollowupForm)>,
    flash: Option<String>,
) -> WebResult {
    let ctx = v.ctx();
    let f = s.app.inspection_round_figures(&ctx, round_id).await?;
    let items = s.app.inspection_follow_up_list(&ctx, round_id).await?;
    let t = v.tr();
    let user = v.full()?.user.clone();
    let today = mamori_domain::incident::jst_date(s.app.clock.now_micros()).to_string();
    let (failed_answer, ff) = failed.map_or((0, None), |(id, f)| (id, Some(f)));
    render_status(
        errs.status(),
        &FollowupPage {
            c: Chrome::new(v, "insp.follow.title").with_flash(flash),
            errs,
            round_id,
            month: month_label(v, &f.info.round.month),
            people: person_lines(v, &items),
            can_record: ctx.allows(Permission::RunProgramme)
                || user
                    .roles
                    .contains(mamori_domain::role::Role::DepartmentHead),
            today: ff
                .as_ref()
                .map_or_else(|| today.clone(), |f| f.interviewed_on.clone()),
            outcomes: Outcome::ALL
                .iter()
                .map(|o| {
                    (
                        o.code().to_owned(),
                        t.get(&format!("insp.outcome.{}", o.code())).to_owned(),
                    )
                })
                .collect(),
            failed_answer,
            f_date: ff.as_ref().map_or(today, |f| f.interviewed_on.clone()),
            f_outcome: ff.as_ref().map_or_else(String::new, |f| f.outcome.clone()),
            f_note: ff.map_or_else(String::new, |f| f.note),
        },
    )
}

pub async fn followup_page(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Path(id): Path<i64>,
    Query(q): Query<SavedQuery>,
) -> WebResult {
    v.full()?;
    let flash = q
        .saved
        .is_some()
        .then(|| v.tr().get("insp.flash.followup").to_owned());
    followup_view(&s, &v, id, FormErrors::none("followup"), None, flash).await
}

#[derive(Deserialize, Clone)]
pub struct FollowupForm {
    pub round: i64,
    pub interviewed_on: String,
    #[serde(default)]
    pub outcome: String,
    #[serde(default)]
    pub note: String,
}

pub async fn record_followup(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Path(answer_id): Path<i64>,
    Form(f): Form<FollowupForm>,
) -> WebResult {
    v.full()?;
    let ctx = v.ctx();
    match s
        .app
        .record_inspection_followup(&ctx, answer_id, &f.interviewed_on, &f.outcome, &f.note)
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!(
            "/programme/inspections/rounds/{}/follow-up?saved=1#person-{answer_id}",
            f.round
        ))
        .into_response()),
        Err(e @ AppError::Invalid(_)) => {
            let errs = FormErrors::of(
                &v,
                "followup",
                &e,
                &[
                    ("interviewed_on", "insp.follow.date"),
                    ("outcome", "insp.follow.outcome"),
                    ("note", "insp.follow.note"),
                ],
            );
            followup_view(&s, &v, f.round, errs, Some((answer_id, f)), None).await
        }
        Err(e) => Err(WebError(e)),
    }
}

// ───────────────────────────── one department ─────────────────────────────

#[derive(Template)]
#[template(path = "inspection_department.html")]
pub struct DepartmentPage {
    pub c: Chrome,
    pub name: String,
    pub month: String,
    pub radar: Option<String>,
    pub trend: String,
    pub rows: Vec<(String, String, String, String)>,
    pub round_id: Option<i64>,
}

pub async fn department_page(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Path(dept): Path<i64>,
) -> WebResult {
    v.full()?;
    let ctx = v.ctx();
    let view = s.app.inspection_department_view(&ctx, dept, 24).await?;
    let t = v.tr();
    let name = view.name.clone();
    let (radar, month, round_id) = match &view.latest {
        Some(l) => {
            let month = month_label(&v, &l.month);
            let mut series = vec![Series {
                name: name.clone(),
                values: l.items.clone(),
                style: Style::Main,
            }];
            if let Some(p) = &l.previous {
                series.push(Series {
                    name: t.get("insp.previous").to_owned(),
                    values: p.clone(),
                    style: Style::Previous,
                });
            }
            series.push(Series {
                name: t.get("insp.company").to_owned(),
                values: l.company.clone(),
                style: Style::Compare,
            });
            let svg = radar_svg(
                &Radar {
                    title: t
                        .get("insp.radar.title")
                        .replace("{dept}", &name)
                        .replace("{month}", &month),
                    axes: l
                        .labels
                        .iter()
                        .map(|q| q.label_for(v.lang == Lang::En).to_owned())
                        .collect(),
                    series,
                },
                v.lang,
                &format!("radar-{dept}"),
            );
            (Some(svg), month, Some(l.round_id))
        }
        None => (None, String::new(), None),
    };
    let trend = &view.trend;
    let months: Vec<String> = trend
        .iter()
        .map(|p| {
            Month::parse(&p.month).map_or_else(
                || p.month.clone(),
                |m| {
                    if v.lang == Lang::En {
                        format!("{}/{:02}", m.year % 100, m.month)
                    } else {
                        format!("{}/{}", m.year % 100, m.month)
                    }
                },
            )
        })
        .collect();
    let trend_svg = trend_svg(
        &Trend {
            title: t.get("insp.trend.title").replace("{dept}", &name),
            months,
            series: vec![
                Series {
                    name: name.clone(),
                    values: trend.iter().map(|p| p.individual).collect(),
                    style: Style::Main,
                },
                Series {
                    name: t.get("insp.audience.manager").to_owned(),
                    values: trend.iter().map(|p| p.manager).collect(),
                    style: Style::Previous,
                },
                Series {
                    name: t.get("insp.company").to_owned(),
                    values: trend.iter().map(|p| p.company_individual).collect(),
                    style: Style::Compare,
                },
            ],
        },
        v.lang,
        "trend",
    );
    let rows = trend
        .iter()
        .rev()
        .map(|p| {
            (
                month_label(&v, &p.month),
                score_text(v.lang, p.individual),
                score_text(v.lang, p.manager),
                score_text(v.lang, p.company_individual),
            )
        })
        .collect();
    render(&DepartmentPage {
        c: Chrome::new(&v, "insp.dept.title"),
        name,
        month,
        radar,
        trend: trend_svg,
        rows,
        round_id,
    })
}

// ───────────────────────────── question sets ─────────────────────────────

pub struct SetRowLine {
    pub n: usize,
    pub label: String,
    pub text: String,
}

pub struct VersionLine {
    pub version: i64,
    pub created: String,
    pub by: String,
    pub questions: Vec<String>,
}

#[derive(Template)]
#[template(path = "inspection_sets.html")]
pub struct SetsPage {
    pub c: Chrome,
    pub errs: FormErrors,
    pub audience: String,
    pub audience_label: String,
    pub other: String,
    pub other_label: String,
    pub runs: bool,
    pub rows: Vec<SetRowLine>,
    pub versions: Vec<VersionLine>,
}

async fn sets_view(
    s: &WebState,
    v: &Visitor,
    audience: &str,
    errs: FormErrors,
    typed: Option<Vec<(String, String)>>,
    flash: Option<String>,
) -> WebResult {
    let ctx = v.ctx();
    let a = Audience::parse(audience).ok_or(AppError::NotFound)?;
    // The settings create the default sets the first time.
    s.app.inspection_settings(&ctx).await?;
    let versions = s.app.inspection_set_versions(&ctx, a.code()).await?;
    let current: Vec<(String, String)> = typed.unwrap_or_else(|| {
        versions
            .first()
            .map(|(_, qs)| {
                qs.iter()
                    .map(|q| (q.label.clone(), q.text.clone()))
                    .collect()
            })
            .unwrap_or_default()
    });
    let mut rows: Vec<SetRowLine> = current
        .into_iter()
        .enumerate()
        .map(|(i, (label, text))| SetRowLine {
            n: i + 1,
            label,
            text,
        })
        .collect();
    // Room for new questions (blank rows are ignored).
    while rows.len() < LABEL_FIELDS.len().min(rows.len() + 3) {
        rows.push(SetRowLine {
            n: rows.len() + 1,
            label: String::new(),
            text: String::new(),
        });
    }
    let other = match a {
        Audience::Individual => Audience::Manager,
        Audience::Manager => Audience::Individual,
    };
    render_status(
        errs.status(),
        &SetsPage {
            c: Chrome::new(v, "insp.sets.title").with_flash(flash),
            errs,
            audience: a.code().to_owned(),
            audience_label: audience_label(v, a),
            other: other.code().to_owned(),
            other_label: audience_label(v, other),
            runs: ctx.allows(Permission::RunProgramme),
            rows,
            versions: versions
                .iter()
                .map(|(row, qs)| VersionLine {
                    version: row.version,
                    created: jst(row.created_at)[..16].to_owned(),
                    by: row.created_by.clone(),
                    questions: qs
                        .iter()
                        .map(|q| {
                            format!(
                                "{}: {}",
                                q.label_for(v.lang == Lang::En),
                                q.text_for(v.lang == Lang::En)
                            )
                        })
                        .collect(),
                })
                .collect(),
        },
    )
}

pub async fn sets_page(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Path(audience): Path<String>,
    Query(q): Query<SavedQuery>,
) -> WebResult {
    v.full()?;
    let flash = q
        .saved
        .is_some()
        .then(|| v.tr().get("insp.flash.set").to_owned());
    sets_view(&s, &v, &audience, FormErrors::none("set"), None, flash).await
}

pub async fn publish_set(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Path(audience): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> WebResult {
    v.full()?;
    let f: HashMap<String, String> = pairs.into_iter().collect();
    let ctx = v.ctx();
    let rows: Vec<(String, String)> = (0..LABEL_FIELDS.len())
        .map(|i| {
            (
                f.get(LABEL_FIELDS[i]).cloned().unwrap_or_default(),
                f.get(TEXT_FIELDS[i]).cloned().unwrap_or_default(),
            )
        })
        .collect();
    match s.app.publish_inspection_set(&ctx, &audience, &rows).await {
        Ok(_) => Ok(
            Redirect::to(&format!("/programme/inspections/sets/{audience}?saved=1"))
                .into_response(),
        ),
        Err(e @ AppError::Invalid(_)) => {
            let t = v.tr();
            // Problems are numbered among the questions kept (blank rows dropped): show
            // the rows as kept so the numbers match the fields.
            let kept: Vec<(String, String)> = rows
                .into_iter()
                .filter(|(l, x)| !(l.trim().is_empty() && x.trim().is_empty()))
                .collect();
            let labelled: Vec<(&str, String)> = (0..kept.len().min(LABEL_FIELDS.len()))
                .flat_map(|i| {
                    let q = t.get("insp.q").replace("{n}", &(i + 1).to_string());
                    [(LABEL_FIELDS[i], q.clone()), (TEXT_FIELDS[i], q)]
                })
                .collect();
            let errs = FormErrors::of_labelled(&v, "set", &e, &labelled);
            sets_view(&s, &v, &audience, errs, Some(kept), None).await
        }
        Err(e) => Err(WebError(e)),
    }
}
