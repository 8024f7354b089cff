//! E-learning and pledges (issue 17, part 2): the courses, one course to read and its test,
//! an attempt (the form, then the result), the certificate, the completion per department,
//! the editor's pages (settings, pages, images, the question bank, assignments, the copy into
//! the next year), the pledge to accept and who has not accepted it.
//!
//! Course pages are Markdown rendered here by [`markdown`]: raw HTML is shown as text, links
//! only to http(s) or this site, images only from this site.

use super::{jst, render, render_status, Chrome};
use crate::error::{WebError, WebResult};
use crate::form::FormErrors;
use crate::visitor::Visitor;
use crate::WebState;
use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Redirect};
use axum::{Extension, Form};
use mamori_app::learning::{AttemptView, CourseInput, CourseView, LearningTask};
use mamori_app::AppError;
use mamori_domain::programme::learning::{self as l, EmploymentType, QuestionInput};
use mamori_domain::role::Role;
use serde::Deserialize;

// ───────────────────────────── Markdown ─────────────────────────────

/// Renders a course page's Markdown as HTML that is safe to embed: raw HTML becomes text, a
/// link to anything but http(s) or this site keeps only its text, an image from elsewhere
/// keeps only its description. Headings start at level 2 (the page has its own h1).
pub fn markdown(md: &str) -> String {
    use pulldown_cmark::{Event, HeadingLevel, Options, Parser, Tag, TagEnd};
    let mut opts = Options::empty();
    opts.insert(Options::ENABLE_TABLES);
    opts.insert(Options::ENABLE_STRIKETHROUGH);
    let mut dropped_links = 0usize;
    let mut in_dropped_image = 0usize;
    let mut events = Vec::new();
    for ev in Parser::new_ext(md, opts) {
        let ev = match ev {
            Event::Html(h) | Event::InlineHtml(h) => Event::Text(h),
            Event::Start(Tag::Heading {
                level,
                id,
                classes,
                attrs,
            }) => Event::Start(Tag::Heading {
                level: deeper(level),
                id,
                classes,
                attrs,
            }),
            Event::End(TagEnd::Heading(level)) => Event::End(TagEnd::Heading(deeper(level))),
            Event::Start(Tag::Link { dest_url, .. }) if !l::safe_link(&dest_url) => {
                dropped_links += 1;
                continue;
            }
            Event::End(TagEnd::Link) if dropped_links > 0 => {
                dropped_links -= 1;
                continue;
            }
            Event::Start(Tag::Image { dest_url, .. }) if !l::safe_image(&dest_url) => {
                in_dropped_image += 1;
                continue;
            }
            Event::End(TagEnd::Image) if in_dropped_image > 0 => {
                in_dropped_image -= 1;
                continue;
            }
            other => other,
        };
        events.push(ev);
    }
    fn deeper(l: HeadingLevel) -> HeadingLevel {
        match l {
            HeadingLevel::H1 => HeadingLevel::H2,
            HeadingLevel::H2 => HeadingLevel::H3,
            HeadingLevel::H3 => HeadingLevel::H4,
            HeadingLevel::H4 => HeadingLevel::H5,
            _ => HeadingLevel::H6,
        }
    }
    let mut html = String::new();
    pulldown_cmark::html::push_html(&mut html, events.into_iter());
    html
}

// ───────────────────────────── helpers ─────────────────────────────

fn emp_label(v: &Visitor, e: EmploymentType) -> String {
    v.tr().get(&format!("employment.{}", e.code())).to_owned()
}

fn day(micros: i64) -> String {
    jst(micros)[..10].to_owned()
}

fn minute(micros: i64) -> String {
    jst(micros)[..16].to_owned()
}

fn rate(c: &l::Completion) -> String {
    c.rate().map_or_else(|| "-".into(), |r| format!("{r}%"))
}

pub struct Opt {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// The hub's lines of this part: a course to pass, a pledge to accept.
pub async fn hub_tasks(
    s: &WebState,
    v: &Visitor,
) -> Result<Vec<super::programme::TaskLine>, AppError> {
    let t = v.tr();
    Ok(s.app
        .learning_tasks(&v.ctx())
        .await?
        .into_iter()
        .map(|task| match task {
            LearningTask::Course {
                id,
                title,
                deadline,
                overdue,
            } => super::programme::TaskLine {
                href: format!("/programme/courses/{id}"),
                what: t.fill("learning.task.course", "title", &title),
                due: t.fill("learning.task.due", "date", &deadline.to_string()),
                overdue,
            },
            LearningTask::Pledge { title, version } => super::programme::TaskLine {
                href: "/programme/pledges".into(),
                what: t.fill("learning.task.pledge", "title", &title),
                due: t.fill("learning.task.version", "version", &version.to_string()),
                overdue: false,
            },
        })
        .collect())
}

// ───────────────────────────── the list ─────────────────────────────

pub struct CourseLine {
    pub id: i64,
    pub title: String,
    pub year: i64,
    pub bank: usize,
    pub pages: usize,
    pub pass_mark: i64,
    pub questions: i64,
    pub figures: Option<(usize, usize, String, usize)>,
}

#[derive(Default)]
pub struct CourseEcho {
    pub title: String,
    pub summary: String,
    pub year: String,
    pub pass_mark: String,
    pub questions: String,
}

impl CourseEcho {
    fn of(f: &CourseForm) -> Self {
        CourseEcho {
            title: f.title.clone(),
            summary: f.summary.clone(),
            year: f.year.clone(),
            pass_mark: f.pass_mark.clone(),
            questions: f.questions.clone(),
        }
    }
}

#[derive(Template)]
#[template(path = "learning_courses.html")]
pub struct CoursesPage {
    pub c: Chrome,
    pub errs: FormErrors,
    pub rows: Vec<CourseLine>,
    pub runs: bool,
    pub figures: bool,
    pub f: CourseEcho,
}

#[derive(Deserialize, Default)]
pub struct CourseForm {
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub summary: String,
    #[serde(default)]
    pub year: String,
    #[serde(default)]
    pub pass_mark: String,
    #[serde(default)]
    pub questions: String,
}

impl CourseForm {
    fn input(&self) -> CourseInput {
        CourseInput {
            title: self.title.clone(),
            summary: self.summary.clone(),
            year: self.year.clone(),
            pass_mark: self.pass_mark.clone(),
            questions: self.questions.clone(),
        }
    }
}

const COURSE_FIELDS: &[(&str, &str)] = &[
    ("title", "learning.course_title"),
    ("year", "learning.year"),
    ("pass_mark", "learning.pass_mark"),
    ("questions", "learning.questions"),
    ("summary", "learning.summary"),
];

async fn courses_page(s: &WebState, v: &Visitor, errs: FormErrors, f: CourseEcho) -> WebResult {
    let ctx = v.ctx();
    let scope = s.app.programme_scope(&ctx).await?;
    let rows = s
        .app
        .courses_overview(&ctx)
        .await?
        .into_iter()
        .map(|c| CourseLine {
            id: c.course.id,
            title: c.course.title,
            year: c.course.year,
            bank: c.bank,
            pages: c.pages,
            pass_mark: c.course.pass_mark,
            questions: c.course.questions,
            figures: c
                .completion
                .map(|x| (x.assigned, x.completed, rate(&x), x.overdue)),
        })
        .collect();
    render_status(
        errs.status(),
        &CoursesPage {
            c: Chrome::new(v, "learning.title"),
            errs,
            rows,
            runs: scope.runs,
            figures: scope.sees_figures(),
            f,
        },
    )
}

pub async fn courses(State(s): State<WebState>, Extension(v): Extension<Visitor>) -> WebResult {
    v.full()?;
    let year = chrono::Datelike::year(&mamori_domain::incident::jst_date(
        chrono::Utc::now().timestamp_micros(),
    ));
    let f = CourseEcho {
        year: year.to_string(),
        pass_mark: "80".into(),
        questions: "20".into(),
        ..CourseEcho::default()
    };
    courses_page(&s, &v, FormErrors::none("course"), f).await
}

pub async fn create_course(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Form(f): Form<CourseForm>,
) -> WebResult {
    v.full()?;
    match s.app.create_course(&v.ctx(), &f.input()).await {
        Ok(id) => {
            Ok(Redirect::to(&format!("/programme/courses/{id}/edit?saved=1")).into_response())
        }
        Err(e @ AppError::Invalid(_)) => {
            let errs = FormErrors::of(&v, "course", &e, COURSE_FIELDS);
            courses_page(&s, &v, errs, CourseEcho::of(&f)).await
        }
        Err(e) => Err(WebError(e)),
    }
}

// ───────────────────────────── one course ─────────────────────────────

pub struct PageHtml {
    pub id: i64,
    pub title: String,
    pub html: String,
}

pub struct AttemptLine {
    pub id: i64,
    pub when: String,
    pub score: String,
    pub passed: bool,
    pub open: bool,
}

#[derive(Template)]
#[template(path = "learning_course.html")]
pub struct CoursePage {
    pub c: Chrome,
    pub errs: FormErrors,
    pub id: i64,
    pub title: String,
    pub summary: String,
    pub year: i64,
    pub pass_mark: i64,
    pub questions: i64,
    pub test_desc: String,
    pub deadline: String,
    pub overdue: bool,
    pub passed: Option<String>,
    pub open: Option<i64>,
    pub may_take: bool,
    pub runs: bool,
    pub figures: bool,
    pub pages: Vec<PageHtml>,
    pub attempts: Vec<AttemptLine>,
    pub user_id: i64,
}

fn attempt_lines(v: &CourseView) -> Vec<AttemptLine> {
    v.me.attempts
        .iter()
        .rev()
        .map(|a| AttemptLine {
            id: a.id,
            when: minute(a.submitted_at.unwrap_or(a.started_at)),
            score: a
                .correct
                .map_or_else(|| "-".into(), |c| format!("{c} / {}", a.total)),
            passed: a.passed,
            open: a.submitted_at.is_none(),
        })
        .collect()
}

async fn course_page(s: &WebState, v: &Visitor, id: i64, errs: FormErrors) -> WebResult {
    let ctx = v.ctx();
    let cv = s.app.course_view(&ctx, id).await?;
    let t = v.tr();
    let mut c = Chrome::new(v, "learning.title");
    c.title = format!("{} · {}", cv.course.title, t.get("learning.title"));
    render_status(
        errs.status(),
        &CoursePage {
            c,
            errs,
            id,
            title: cv.course.title.clone(),
            summary: cv.course.summary.clone(),
            year: cv.course.year,
            pass_mark: cv.course.pass_mark,
            questions: cv.course.questions,
            test_desc: t
                .fill("learning.test.desc", "n", &cv.course.questions.to_string())
                .replace("{mark}", &cv.course.pass_mark.to_string()),
            deadline: cv.me.deadline.map_or_else(
                || t.get("learning.not_assigned").to_owned(),
                |d| d.to_string(),
            ),
            overdue: cv.me.overdue,
            passed: cv
                .me
                .passed
                .as_ref()
                .map(|a| day(a.submitted_at.unwrap_or(a.started_at))),
            open: cv.me.open,
            may_take: cv.may_take,
            runs: cv.runs,
            figures: cv.sees_figures,
            pages: cv
                .pages
                .iter()
                .map(|p| PageHtml {
                    id: p.id,
                    title: p.title.clone(),
                    html: markdown(&p.body),
                })
                .collect(),
            attempts: attempt_lines(&cv),
            user_id: ctx.actor_id().unwrap_or(0),
        },
    )
}

pub async fn course(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Path(id): Path<i64>,
) -> WebResult {
    v.full()?;
    course_page(&s, &v, id, FormErrors::none("test")).await
}

pub async fn start_attempt(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Path(id): Path<i64>,
) -> WebResult {
    v.full()?;
    match s.app.start_attempt(&v.ctx(), id).await {
        Ok(a) => Ok(Redirect::to(&format!("/programme/courses/{id}/attempts/{a}")).into_response()),
        Err(e @ AppError::Invalid(_)) => {
            let errs = FormErrors::of(&v, "test", &e, &[("test", "learning.take")]);
            course_page(&s, &v, id, errs).await
        }
        Err(e) => Err(WebError(e)),
    }
}

pub async fn image(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Path((id, image)): Path<(i64, i64)>,
) -> WebResult {
    v.full()?;
    let (ct, bytes) = s.app.course_image(&v.ctx(), id, image).await?;
    Ok((
        [
            (header::CONTENT_TYPE, ct),
            (header::CACHE_CONTROL, "private, max-age=300".to_owned()),
            (header::CONTENT_DISPOSITION, "inline".to_owned()),
        ],
        bytes,
    )
        .into_response())
}

pub async fn certificate(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Path((id, user)): Path<(i64, i64)>,
) -> WebResult {
    v.full()?;
    let c = s.app.certificate(&v.ctx(), id, user).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}\"", c.file_name),
            ),
        ],
        c.pdf,
    )
        .into_response())
}

// ───────────────────────────── an attempt ─────────────────────────────

pub struct QuestionLine {
    pub number: usize,
    pub text: String,
    pub choices: Vec<ChoiceLine>,
    pub right: Option<bool>,
    pub explanation: String,
    pub unanswered: bool,
}

pub struct ChoiceLine {
    pub index: usize,
    pub text: String,
    pub checked: bool,
    pub correct: bool,
}

#[derive(Template)]
#[template(path = "learning_attempt.html")]
pub struct AttemptPage {
    pub c: Chrome,
    pub errs: FormErrors,
    pub course_id: i64,
    pub attempt_id: i64,
    pub course: String,
    pub taker: String,
    pub submitted: bool,
    pub passed: bool,
    pub reveal: bool,
    pub score: String,
    pub pass_mark: i64,
    pub questions: Vec<QuestionLine>,
    pub mine: bool,
    pub user_id: i64,
}

fn attempt_page(
    v: &Visitor,
    a: &AttemptView,
    errs: FormErrors,
    typed: &[Option<usize>],
    mine: bool,
) -> WebResult {
    let t = v.tr();
    let submitted = a.attempt.submitted_at.is_some();
    let questions = a
        .questions
        .iter()
        .enumerate()
        .map(|(i, q)| {
            let chosen = if submitted {
                q.chosen
            } else {
                typed.get(i).copied().flatten()
            };
            QuestionLine {
                number: q.number,
                text: q.text.clone(),
                choices: q
                    .choices
                    .iter()
                    .enumerate()
                    .map(|(k, c)| ChoiceLine {
                        index: k,
                        text: c.clone(),
                        checked: chosen == Some(k),
                        correct: a.reveal && q.correct == Some(k),
                    })
                    .collect(),
                right: submitted.then(|| q.chosen.is_some() && q.chosen == q.correct),
                explanation: if a.reveal {
                    q.explanation.clone()
                } else {
                    String::new()
                },
                unanswered: !submitted && !errs.is_empty() && chosen.is_none(),
            }
        })
        .collect();
    let mut c = Chrome::new(v, "learning.attempt");
    c.title = format!("{} · {}", t.get("learning.attempt"), a.course.title);
    let correct = a.attempt.correct.unwrap_or(0);
    render_status(
        errs.status(),
        &AttemptPage {
            c,
            errs,
            course_id: a.course.id,
            attempt_id: a.attempt.id,
            course: a.course.title.clone(),
            taker: a.taker.clone(),
            submitted,
            passed: a.attempt.passed,
            reveal: a.reveal,
            score: format!(
                "{correct} / {} ({}%)",
                a.attempt.total,
                l::percent(
                    usize::try_from(correct).unwrap_or(0),
                    usize::try_from(a.attempt.total).unwrap_or(0)
                )
            ),
            pass_mark: a.course.pass_mark,
            questions,
            mine,
            user_id: a.attempt.user_id,
        },
    )
}

pub async fn attempt(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Path((id, attempt)): Path<(i64, i64)>,
) -> WebResult {
    v.full()?;
    let ctx = v.ctx();
    let a = s.app.attempt_view(&ctx, id, attempt).await?;
    let mine = ctx.actor_id() == Some(a.attempt.user_id);
    attempt_page(&v, &a, FormErrors::none("attempt"), &[], mine)
}

/// The answers as sent: `q1` … `qN`, each the index of the choice as shown.
fn answers_of(body: &[u8], n: usize) -> Vec<Option<usize>> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body).unwrap_or_default();
    (1..=n)
        .map(|i| {
            let key = format!("q{i}");
            pairs
                .iter()
                .find(|(k, _)| *k == key)
                .and_then(|(_, v)| v.parse().ok())
        })
        .collect()
}

pub async fn submit_attempt(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Path((id, attempt)): Path<(i64, i64)>,
    body: Bytes,
) -> WebResult {
    v.full()?;
    let ctx = v.ctx();
    let a = s.app.attempt_view(&ctx, id, attempt).await?;
    let answers = answers_of(&body, a.questions.len());
    match s.app.submit_attempt(&ctx, id, attempt, &answers).await {
        Ok(_) => Ok(
            Redirect::to(&format!("/programme/courses/{id}/attempts/{attempt}")).into_response(),
        ),
        Err(e @ AppError::Invalid(_)) => {
            let errs = FormErrors::of(&v, "attempt", &e, &[("answers", "learning.answers")]);
            let a = s.app.attempt_view(&ctx, id, attempt).await?;
            attempt_page(&v, &a, errs, &answers, true)
        }
        Err(e) => Err(WebError(e)),
    }
}

// ───────────────────────────── completion ─────────────────────────────

pub struct DeptLine {
    /// The total rows (all departments, temporary staff) are set apart.
    pub total: bool,
    pub department: String,
    pub assigned: usize,
    pub completed: usize,
    pub rate: String,
    pub overdue: usize,
    pub temp: String,
}

pub struct MissingLine {
    pub name: String,
    pub department: String,
    pub employment: String,
    pub temporary: bool,
    pub deadline: String,
    pub overdue: bool,
}

pub struct PassedLine {
    pub user_id: i64,
    pub name: String,
    pub department: String,
    pub when: String,
}

#[derive(Template)]
#[template(path = "learning_completion.html")]
pub struct CompletionPage {
    pub c: Chrome,
    pub id: i64,
    pub title: String,
    pub rows: Vec<DeptLine>,
    pub total: DeptLine,
    pub temp: DeptLine,
    pub missing: Vec<MissingLine>,
    pub passed: Vec<PassedLine>,
    pub runs: bool,
}

fn dept_line(name: String, all: &l::Completion, temp: &l::Completion) -> DeptLine {
    DeptLine {
        total: false,
        department: name,
        assigned: all.assigned,
        completed: all.completed,
        rate: rate(all),
        overdue: all.overdue,
        temp: if temp.assigned == 0 {
            "-".into()
        } else {
            format!("{} / {}", temp.completed, temp.assigned)
        },
    }
}

pub async fn completion(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Path(id): Path<i64>,
) -> WebResult {
    v.full()?;
    let r = s.app.course_completion(&v.ctx(), id).await?;
    let t = v.tr();
    let mut c = Chrome::new(&v, "learning.completion");
    c.title = format!("{} · {}", t.get("learning.completion"), r.course.title);
    render(&CompletionPage {
        c,
        id,
        title: r.course.title.clone(),
        rows: r
            .rows
            .iter()
            .map(|d| dept_line(d.department.clone(), &d.all, &d.temporary))
            .collect(),
        total: dept_line(t.get("learning.total").to_owned(), &r.total, &r.temporary),
        temp: dept_line(
            t.get("learning.temporary_total").to_owned(),
            &r.temporary,
            &r.temporary,
        ),
        missing: r
            .missing
            .iter()
            .map(|m| MissingLine {
                name: m.name.clone(),
                department: m.department.clone(),
                employment: emp_label(&v, m.employment),
                temporary: m.employment.is_temporary(),
                deadline: m.deadline.to_string(),
                overdue: m.overdue,
            })
            .collect(),
        passed: r
            .passed
            .iter()
            .map(|p| PassedLine {
                user_id: p.0,
                name: p.1.clone(),
                department: p.2.clone(),
                when: day(p.3),
            })
            .collect(),
        runs: r.runs,
    })
}

// ───────────────────────────── the editor ─────────────────────────────

pub struct AssignmentLine {
    pub id: i64,
    pub target: String,
    pub deadline: String,
}

pub struct ImageLine {
    pub id: i64,
    pub name: String,
    pub size: String,
    pub snippet: String,
}

#[derive(Default)]
pub struct PageEcho {
    pub title: String,
    pub body: String,
}

#[derive(Default)]
pub struct AssignEcho {
    pub target: String,
    pub deadline: String,
}

#[derive(Template)]
#[template(path = "learning_edit.html")]
pub struct EditPage {
    pub c: Chrome,
    pub errs: FormErrors,
    /// The settings form's problems only (its fields share names with the page form's).
    pub cerrs: FormErrors,
    pub id: i64,
    pub title: String,
    pub year: i64,
    pub bank: usize,
    pub f: CourseEcho,
    pub page: PageEcho,
    pub pages: Vec<(i64, String)>,
    pub images: Vec<ImageLine>,
    pub assignments: Vec<AssignmentLine>,
    pub targets: Vec<Opt>,
    pub assign: AssignEcho,
}

#[derive(Deserialize, Default)]
pub struct SavedQuery {
    pub saved: Option<String>,
}

#[derive(Default)]
pub struct EditEcho {
    pub course: Option<CourseEcho>,
    pub page: PageEcho,
    pub assign: AssignEcho,
}

fn role_label(v: &Visitor, r: Role) -> &'static str {
    if v.lang == crate::i18n::Lang::En {
        r.label_en()
    } else {
        r.label_ja()
    }
}

fn target_label(
    v: &Visitor,
    cv: &CourseView,
    kind: &str,
    dept: Option<i64>,
    role: Option<&str>,
) -> String {
    let t = v.tr();
    match (kind, dept, role) {
        ("department", Some(d), _) => t.fill(
            "learning.target.department",
            "name",
            cv.departments
                .iter()
                .find(|(id, _)| *id == d)
                .map_or("-", |(_, n)| n.as_str()),
        ),
        ("role", _, Some(r)) => t.fill(
            "learning.target.role",
            "role",
            &r.parse::<Role>()
                .map_or_else(|_| r.to_owned(), |r| role_label(v, r).to_owned()),
        ),
        _ => t.get("learning.target.all").to_owned(),
    }
}

async fn edit_page(
    s: &WebState,
    v: &Visitor,
    id: i64,
    errs: FormErrors,
    echo: EditEcho,
    flash: Option<String>,
) -> WebResult {
    let cv = s.app.course_view(&v.ctx(), id).await?;
    if !cv.runs {
        return Err(WebError(AppError::Denied));
    }
    let t = v.tr();
    let mut targets = vec![Opt {
        value: "all".into(),
        label: t.get("learning.target.all").to_owned(),
        selected: echo.assign.target.is_empty() || echo.assign.target == "all",
    }];
    for (d, name) in &cv.departments {
        let value = format!("department:{d}");
        targets.push(Opt {
            selected: echo.assign.target == value,
            label: t.fill("learning.target.department", "name", name),
            value,
        });
    }
    for r in Role::ALL {
        let value = format!("role:{}", r.code());
        targets.push(Opt {
            selected: echo.assign.target == value,
            label: t.fill("learning.target.role", "role", role_label(v, r)),
            value,
        });
    }
    let mut c = Chrome::new(v, "learning.edit");
    c.title = format!("{} · {}", t.get("learning.edit"), cv.course.title);
    c.flash = flash;
    let f = echo.course.unwrap_or_else(|| CourseEcho {
        title: cv.course.title.clone(),
        summary: cv.course.summary.clone(),
        year: cv.course.year.to_string(),
        pass_mark: cv.course.pass_mark.to_string(),
        questions: cv.course.questions.to_string(),
    });
    render_status(
        errs.status(),
        &EditPage {
            c,
            cerrs: if errs.form == "course" {
                errs.clone()
            } else {
                FormErrors::none("course")
            },
            errs,
            id,
            title: cv.course.title.clone(),
            year: cv.course.year,
            bank: cv
                .questions
                .iter()
                .filter(|q| q.retired_at.is_none())
                .count(),
            f,
            page: echo.page,
            pages: cv.pages.iter().map(|p| (p.id, p.title.clone())).collect(),
            images: cv
                .images
                .iter()
                .map(|i| ImageLine {
                    id: i.id,
                    name: i.name.clone(),
                    size: format!("{} KB", (i.size + 1023) / 1024),
                    snippet: format!("![{}](/programme/courses/{id}/images/{})", i.name, i.id),
                })
                .collect(),
            assignments: cv
                .assignments
                .iter()
                .map(|a| AssignmentLine {
                    id: a.id,
                    target: target_label(v, &cv, &a.kind, a.department_id, a.role.as_deref()),
                    deadline: a.deadline.clone(),
                })
                .collect(),
            targets,
            assign: echo.assign,
        },
    )
}

pub async fn edit(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Path(id): Path<i64>,
    Query(q): Query<SavedQuery>,
) -> WebResult {
    v.full()?;
    let flash = q
        .saved
        .map(|_| v.tr().get("learning.flash.saved").to_owned());
    edit_page(
        &s,
        &v,
        id,
        FormErrors::none("course"),
        EditEcho::default(),
        flash,
    )
    .await
}

pub async fn update_course(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Path(id): Path<i64>,
    Form(f): Form<CourseForm>,
) -> WebResult {
    v.full()?;
    match s.app.update_course(&v.ctx(), id, &f.input()).await {
        Ok(()) => {
            Ok(Redirect::to(&format!("/programme/courses/{id}/edit?saved=1")).into_response())
        }
        Err(e @ AppError::Invalid(_)) => {
            let errs = FormErrors::of(&v, "course", &e, COURSE_FIELDS);
            let echo = EditEcho {
                course: Some(CourseEcho::of(&f)),
                ..EditEcho::default()
            };
            edit_page(&s, &v, id, errs, echo, None).await
        }
        Err(e) => Err(WebError(e)),
    }
}

#[derive(Deserialize, Default)]
pub struct PageForm {
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub body: String,
}

const PAGE_FIELDS: &[(&str, &str)] = &[
    ("title", "learning.page_title"),
    ("body", "learning.page_body"),
];

pub async fn add_page(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Path(id): Path<i64>,
    Form(f): Form<PageForm>,
) -> WebResult {
    v.full()?;
    match s.app.add_page(&v.ctx(), id, &f.title, &f.body).await {
        Ok(_) => Ok(Redirect::to(&format!("/programme/courses/{id}/edit?saved=1")).into_response()),
        Err(e @ AppError::Invalid(_)) => {
            let errs = FormErrors::of(&v, "page", &e, PAGE_FIELDS);
            let echo = EditEcho {
                page: PageEcho {
                    title: f.title,
                    body: f.body,
                },
                ..EditEcho::default()
            };
            edit_page(&s, &v, id, errs, echo, None).await
        }
        Err(e) => Err(WebError(e)),
    }
}

#[derive(Template)]
#[template(path = "learning_page.html")]
pub struct PageEditPage {
    pub c: Chrome,
    pub errs: FormErrors,
    pub id: i64,
    pub page_id: i64,
    pub course: String,
    pub page: PageEcho,
    pub preview: String,
}

async fn page_edit(
    s: &WebState,
    v: &Visitor,
    id: i64,
    page_id: i64,
    errs: FormErrors,
    echo: Option<PageEcho>,
) -> WebResult {
    let cv = s.app.course_view(&v.ctx(), id).await?;
    if !cv.runs {
        return Err(WebError(AppError::Denied));
    }
    let p = cv
        .pages
        .iter()
        .find(|p| p.id == page_id)
        .ok_or(AppError::NotFound)?;
    let page = echo.unwrap_or_else(|| PageEcho {
        title: p.title.clone(),
        body: p.body.clone(),
    });
    let t = v.tr();
    let mut c = Chrome::new(v, "learning.page_edit");
    c.title = format!("{} · {}", t.get("learning.page_edit"), cv.course.title);
    render_status(
        errs.status(),
        &PageEditPage {
            c,
            errs,
            id,
            page_id,
            course: cv.course.title.clone(),
            preview: markdown(&page.body),
            page,
        },
    )
}

pub async fn page(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Path((id, page_id)): Path<(i64, i64)>,
) -> WebResult {
    v.full()?;
    page_edit(&s, &v, id, page_id, FormErrors::none("page"), None).await
}

pub async fn update_page(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Path((id, page_id)): Path<(i64, i64)>,
    Form(f): Form<PageForm>,
) -> WebResult {
    v.full()?;
    match s
        .app
        .update_page(&v.ctx(), id, page_id, &f.title, &f.body)
        .await
    {
        Ok(()) => {
            Ok(Redirect::to(&format!("/programme/courses/{id}/edit?saved=1")).into_response())
        }
        Err(e @ AppError::Invalid(_)) => {
            let errs = FormErrors::of(&v, "page", &e, PAGE_FIELDS);
            page_edit(
                &s,
                &v,
                id,
                page_id,
                errs,
                Some(PageEcho {
                    title: f.title,
                    body: f.body,
                }),
            )
            .await
        }
        Err(e) => Err(WebError(e)),
    }
}

pub async fn delete_page(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Path((id, page_id)): Path<(i64, i64)>,
) -> WebResult {
    v.full()?;
    s.app.delete_page(&v.ctx(), id, page_id).await?;
    Ok(Redirect::to(&format!("/programme/courses/{id}/edit?saved=1")).into_response())
}

pub async fn upload_image(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Path(id): Path<i64>,
    headers: HeaderMap,
    body: Bytes,
) -> WebResult {
    v.full()?;
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    let file = crate::multipart::boundary(ct).and_then(|b| {
        let parts = crate::multipart::parse(&body, &b);
        crate::multipart::field(&parts, "image")
            .map(|f| (f.filename.clone().unwrap_or_default(), f.data.clone()))
    });
    let (name, bytes) = file.unwrap_or_default();
    match s.app.add_image(&v.ctx(), id, &name, &bytes).await {
        Ok(_) => Ok(
            Redirect::to(&format!("/programme/courses/{id}/edit?saved=1#images")).into_response(),
        ),
        Err(e @ AppError::Invalid(_)) => {
            let errs = FormErrors::of(&v, "image", &e, &[("image", "learning.image")]);
            edit_page(&s, &v, id, errs, EditEcho::default(), None).await
        }
        Err(e) => Err(WebError(e)),
    }
}

#[derive(Deserialize, Default)]
pub struct AssignForm {
    #[serde(default)]
    pub target: String,
    #[serde(default)]
    pub deadline: String,
}

pub async fn assign(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Path(id): Path<i64>,
    Form(f): Form<AssignForm>,
) -> WebResult {
    v.full()?;
    match s
        .app
        .assign_course(&v.ctx(), id, &f.target, &f.deadline)
        .await
    {
        Ok(_) => Ok(
            Redirect::to(&format!("/programme/courses/{id}/edit?saved=1#assignments"))
                .into_response(),
        ),
        Err(e @ AppError::Invalid(_)) => {
            let errs = FormErrors::of(
                &v,
                "assign",
                &e,
                &[
                    ("target", "learning.target"),
                    ("deadline", "learning.deadline"),
                ],
            );
            let echo = EditEcho {
                assign: AssignEcho {
                    target: f.target,
                    deadline: f.deadline,
                },
                ..EditEcho::default()
            };
            edit_page(&s, &v, id, errs, echo, None).await
        }
        Err(e) => Err(WebError(e)),
    }
}

pub async fn unassign(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Path((id, a)): Path<(i64, i64)>,
) -> WebResult {
    v.full()?;
    s.app.remove_assignment(&v.ctx(), id, a).await?;
    Ok(Redirect::to(&format!("/programme/courses/{id}/edit?saved=1#assignments")).into_response())
}

pub async fn copy(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Path(id): Path<i64>,
) -> WebResult {
    v.full()?;
    match s.app.copy_course_to_next_year(&v.ctx(), id).await {
        Ok(n) => Ok(Redirect::to(&format!("/programme/courses/{n}/edit?saved=1")).into_response()),
        Err(e @ AppError::Invalid(_)) => {
            let errs = FormErrors::of(&v, "copy", &e, &[]);
            edit_page(&s, &v, id, errs, EditEcho::default(), None).await
        }
        Err(e) => Err(WebError(e)),
    }
}

// ───────────────────────────── the question bank ─────────────────────────────

pub struct BankLine {
    pub id: i64,
    pub number: usize,
    pub text: String,
    pub choices: Vec<(String, bool)>,
    pub explanation: String,
}

#[derive(Default)]
pub struct QuestionEcho {
    pub text: String,
    pub choices: Vec<String>,
    pub correct: Option<usize>,
    pub explanation: String,
}

#[derive(Template)]
#[template(path = "learning_questions.html")]
pub struct QuestionsPage {
    pub c: Chrome,
    pub errs: FormErrors,
    pub id: i64,
    pub title: String,
    pub rows: Vec<BankLine>,
    pub editing: Option<i64>,
    pub q: QuestionEcho,
    pub slots: Vec<(usize, String, bool)>,
}

#[derive(Deserialize, Default)]
pub struct QuestionQuery {
    pub edit: Option<i64>,
    pub saved: Option<String>,
}

const QUESTION_FIELDS: &[(&str, &str)] = &[
    ("text", "learning.question"),
    ("choices", "learning.choices"),
    ("correct", "learning.correct"),
];

async fn questions_page(
    s: &WebState,
    v: &Visitor,
    id: i64,
    errs: FormErrors,
    editing: Option<i64>,
    echo: Option<QuestionEcho>,
    flash: Option<String>,
) -> WebResult {
    let cv = s.app.course_view(&v.ctx(), id).await?;
    if !cv.runs {
        return Err(WebError(AppError::Denied));
    }
    let live: Vec<_> = cv
        .questions
        .iter()
        .filter(|q| q.retired_at.is_none())
        .collect();
    let q = match (echo, editing) {
        (Some(e), _) => e,
        (None, Some(qid)) => {
            let q = live
                .iter()
                .find(|q| q.id == qid)
                .ok_or(AppError::NotFound)?;
            QuestionEcho {
                text: q.text.clone(),
                choices: q.choices.clone(),
                correct: usize::try_from(q.correct).ok().map(|c| c + 1),
                explanation: q.explanation.clone(),
            }
        }
        (None, None) => QuestionEcho::default(),
    };
    let slots = (1..=l::MAX_CHOICES)
        .map(|i| {
            (
                i,
                q.choices.get(i - 1).cloned().unwrap_or_default(),
                q.correct == Some(i),
            )
        })
        .collect();
    let t = v.tr();
    let mut c = Chrome::new(v, "learning.bank");
    c.title = format!("{} · {}", t.get("learning.bank"), cv.course.title);
    c.flash = flash;
    render_status(
        errs.status(),
        &QuestionsPage {
            c,
            errs,
            id,
            title: cv.course.title.clone(),
            rows: live
                .iter()
                .enumerate()
                .map(|(i, q)| BankLine {
                    id: q.id,
                    number: i + 1,
                    text: q.text.clone(),
                    choices: q
                        .choices
                        .iter()
                        .enumerate()
                        .map(|(k, c)| (c.clone(), i64::try_from(k).ok() == Some(q.correct)))
                        .collect(),
                    explanation: q.explanation.clone(),
                })
                .collect(),
            editing,
            q,
            slots,
        },
    )
}

pub async fn questions(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Path(id): Path<i64>,
    Query(q): Query<QuestionQuery>,
) -> WebResult {
    v.full()?;
    let flash = q
        .saved
        .map(|_| v.tr().get("learning.flash.saved").to_owned());
    questions_page(
        &s,
        &v,
        id,
        FormErrors::none("question"),
        q.edit,
        None,
        flash,
    )
    .await
}

#[derive(Deserialize, Default)]
pub struct QuestionForm {
    #[serde(default)]
    pub text: String,
    #[serde(default)]
    pub c1: String,
    #[serde(default)]
    pub c2: String,
    #[serde(default)]
    pub c3: String,
    #[serde(default)]
    pub c4: String,
    #[serde(default)]
    pub c5: String,
    #[serde(default)]
    pub correct: String,
    #[serde(default)]
    pub explanation: String,
    #[serde(default)]
    pub replaces: String,
}

pub async fn save_question(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Path(id): Path<i64>,
    Form(f): Form<QuestionForm>,
) -> WebResult {
    v.full()?;
    let input = QuestionInput {
        text: f.text.clone(),
        choices: vec![
            f.c1.clone(),
            f.c2.clone(),
            f.c3.clone(),
            f.c4.clone(),
            f.c5.clone(),
        ],
        correct: f.correct.trim().parse().ok(),
        explanation: f.explanation.clone(),
    };
    let replaces = f.replaces.trim().parse::<i64>().ok();
    match s.app.save_question(&v.ctx(), id, replaces, &input).await {
        Ok(_) => {
            Ok(Redirect::to(&format!("/programme/courses/{id}/questions?saved=1")).into_response())
        }
        Err(e @ AppError::Invalid(_)) => {
            let errs = FormErrors::of(&v, "question", &e, QUESTION_FIELDS);
            let echo = QuestionEcho {
                text: input.text,
                choices: input.choices,
                correct: input.correct,
                explanation: input.explanation,
            };
            questions_page(&s, &v, id, errs, replaces, Some(echo), None).await
        }
        Err(e) => Err(WebError(e)),
    }
}

pub async fn retire_question(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Path((id, q)): Path<(i64, i64)>,
) -> WebResult {
    v.full()?;
    s.app.retire_question(&v.ctx(), id, q).await?;
    Ok(Redirect::to(&format!("/programme/courses/{id}/questions?saved=1")).into_response())
}

// ───────────────────────────── pledges ─────────────────────────────

#[derive(Template)]
#[template(path = "pledge.html")]
pub struct PledgePage {
    pub c: Chrome,
    pub errs: FormErrors,
    pub current: Option<(i64, String, String, String)>,
    pub accepted: Option<String>,
    pub runs: bool,
    pub figures: bool,
    pub versions: Vec<(i64, String, String)>,
    pub f: PageEcho,
}

#[derive(Deserialize, Default)]
pub struct PledgeQuery {
    pub accepted: Option<String>,
    pub published: Option<String>,
}

async fn pledge_page(
    s: &WebState,
    v: &Visitor,
    errs: FormErrors,
    f: PageEcho,
    flash: Option<String>,
) -> WebResult {
    let p = s.app.pledge_view(&v.ctx()).await?;
    let mut c = Chrome::new(v, "pledge.title");
    c.flash = flash;
    render_status(
        errs.status(),
        &PledgePage {
            c,
            errs,
            current: p.current.as_ref().map(|x| {
                (
                    x.version,
                    x.title.clone(),
                    x.body.clone(),
                    day(x.published_at),
                )
            }),
            accepted: p.accepted_at.map(minute),
            runs: p.runs,
            figures: p.sees_figures,
            versions: p
                .versions
                .iter()
                .map(|x| (x.version, x.title.clone(), minute(x.published_at)))
                .collect(),
            f,
        },
    )
}

pub async fn pledge(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Query(q): Query<PledgeQuery>,
) -> WebResult {
    v.full()?;
    let t = v.tr();
    let flash = if q.accepted.is_some() {
        Some(t.get("pledge.flash.accepted").to_owned())
    } else {
        q.published
            .map(|_| t.get("pledge.flash.published").to_owned())
    };
    pledge_page(
        &s,
        &v,
        FormErrors::none("accept"),
        PageEcho::default(),
        flash,
    )
    .await
}

#[derive(Deserialize, Default)]
pub struct AcceptForm {
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub agree: Option<String>,
}

pub async fn accept_pledge(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Form(f): Form<AcceptForm>,
) -> WebResult {
    v.full()?;
    let result = if f.agree.is_none() {
        Err(AppError::invalid(
            "agree",
            "内容を読み、「上記の内容に同意します」にチェックしてください",
            "read the text and tick “I agree to the above”",
        ))
    } else {
        s.app
            .accept_pledge(&v.ctx(), f.version.trim().parse().unwrap_or(0))
            .await
    };
    match result {
        Ok(()) => Ok(Redirect::to("/programme/pledges?accepted=1").into_response()),
        Err(e @ AppError::Invalid(_)) => {
            let errs = FormErrors::of(&v, "accept", &e, &[("agree", "pledge.agree")]);
            pledge_page(&s, &v, errs, PageEcho::default(), None).await
        }
        Err(e) => Err(WebError(e)),
    }
}

pub async fn publish_pledge(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Form(f): Form<PageForm>,
) -> WebResult {
    v.full()?;
    match s.app.publish_pledge(&v.ctx(), &f.title, &f.body).await {
        Ok(_) => Ok(Redirect::to("/programme/pledges?published=1").into_response()),
        Err(e @ AppError::Invalid(_)) => {
            let errs = FormErrors::of(
                &v,
                "publish",
                &e,
                &[("title", "pledge.title_field"), ("body", "pledge.body")],
            );
            pledge_page(
                &s,
                &v,
                errs,
                PageEcho {
                    title: f.title,
                    body: f.body,
                },
                None,
            )
            .await
        }
        Err(e) => Err(WebError(e)),
    }
}

#[derive(Template)]
#[template(path = "pledge_status.html")]
pub struct PledgeStatusPage {
    pub c: Chrome,
    pub version: Option<(i64, String)>,
    pub rows: Vec<(String, usize, usize, String)>,
    pub missing: Vec<(String, String, String, bool)>,
}

pub async fn pledge_status(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
) -> WebResult {
    v.full()?;
    let st = s.app.pledge_status(&v.ctx()).await?;
    render(&PledgeStatusPage {
        c: Chrome::new(&v, "pledge.status"),
        version: st.current.as_ref().map(|p| (p.version, p.title.clone())),
        rows: st
            .rows
            .iter()
            .map(|(d, n, a)| {
                (
                    d.clone(),
                    *n,
                    *a,
                    l::Completion {
                        assigned: *n,
                        completed: *a,
                        overdue: 0,
                    }
                    .rate()
                    .map_or_else(|| "-".into(), |r| format!("{r}%")),
                )
            })
            .collect(),
        missing: st
            .missing
            .iter()
            .map(|(n, d, e)| (n.clone(), d.clone(), emp_label(&v, *e), e.is_temporary()))
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::markdown;

    #[test]
    fn markdown_is_rendered_safely() {
        let cases: &[(&str, &str, &[&str])] = &[
            ("# 見出し\n本文", "<h2>見出し</h2>", &[]),
            ("<script>alert(1)</script>", "&lt;script&gt;", &["<script"]),
            ("a <img src=x onerror=alert(1)> b", "&lt;img", &["<img"]),
            ("[x](javascript:alert(1))", "x", &["javascript", "<a"]),
            ("[x](JAVASCRIPT:alert(1))", "x", &["<a"]),
            (
                "[ppc](https://www.ppc.go.jp/)",
                "<a href=\"https://www.ppc.go.jp/\">ppc</a>",
                &[],
            ),
            ("[hub](/programme)", "<a href=\"/programme\">hub</a>", &[]),
            (
                "![図](/programme/courses/1/images/2)",
                "<img src=\"/programme/courses/1/images/2\" alt=\"図\"",
                &[],
            ),
            ("![外](https://evil.example/x.png)", "外", &["<img", "evil"]),
            ("[a](data:text/html,<b>x</b>)", "a", &["data:", "<a"]),
            ("<a href=\"javascript:x\">y</a>", "&lt;a href=", &["<a "]),
            ("**太字** `code`", "<strong>太字</strong>", &[]),
        ];
        for (md, want, never) in cases {
            let html = markdown(md);
            assert!(html.contains(want), "{md} → {html}");
            for n in *never {
                assert!(!html.contains(n), "{md} → {html} contains {n}");
            }
        }
    }
}
