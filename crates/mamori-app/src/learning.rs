//! E-learning (eラーニング) and pledges (誓約書), issue 17 part 2 (seed 002: a yearly course
//! with a 20-question test that must be passed, temporary staff included, completion reported
//! to unit heads; seed 004: pledges and training for every temporary worker).
//!
//! The privacy office (who runs the programme) writes courses — pages in Markdown, images, a
//! question bank, a pass mark — assigns them to everybody, a department (with those below) or
//! a role with a deadline, and copies a course into the next year. Everybody takes the own
//! courses: an attempt draws the test from the bank with a random seed stored with it, and is
//! retaken until passed; a passed course gives a certificate (PDF). Department heads see the
//! completion of their departments, the privacy office, the CISO, executives and auditors of
//! the whole company. Reminders go by mail 7 days and 1 day before the deadline and on the
//! first business day after it (JST). Pledges are versions the privacy office publishes; each
//! person accepts the current one, and a new version asks everybody again.
//!
//! Every change and every read of somebody's results is in the audit log.

use crate::{App, AppError, Ctx, Problem, Problems};
use chrono::NaiveDate;
use mamori_domain::audit::Outcome;
use mamori_domain::incident::jst_date;
use mamori_domain::programme::learning::{
    self as l, Audience, Completion, Drawn, EmploymentType, QuestionInput,
};
use mamori_domain::role::{Permission, Role};
use mamori_store::learning::{
    AssignmentRow, AttemptRow, CourseFields, CourseRow, ImageRow, NewQuestion, PageRow, PledgeRow,
    QuestionRow,
};
use mamori_store::users::User;
use serde_json::json;
use std::collections::{BTreeMap, HashMap};

/// Department id → it and every department below it.
type Below = HashMap<i64, Vec<i64>>;

/// The periodic task that mails the deadline reminders.
pub const REMINDER_TASK: &str = "learning.reminders";

/// A course's settings as typed.
#[derive(Debug, Clone, Default)]
pub struct CourseInput {
    pub title: String,
    pub summary: String,
    pub year: String,
    pub pass_mark: String,
    pub questions: String,
}

/// A course with what the list shows.
#[derive(Debug, Clone)]
pub struct CourseLine {
    pub course: CourseRow,
    pub bank: usize,
    pub pages: usize,
    pub assignments: usize,
    /// Completion over the visitor's scope (`None` for somebody who sees only the own tasks).
    pub completion: Option<Completion>,
}

/// A person's state in one course.
#[derive(Debug, Clone, Default)]
pub struct MyCourse {
    /// The earliest deadline of the assignments that cover the person; `None` when not
    /// assigned (the privacy office may still try its own course).
    pub deadline: Option<NaiveDate>,
    pub overdue: bool,
    /// The first passed attempt.
    pub passed: Option<AttemptRow>,
    pub attempts: Vec<AttemptRow>,
    /// An attempt started and not yet submitted.
    pub open: Option<i64>,
}

/// Everything about one course the visitor may see.
#[derive(Debug, Clone)]
pub struct CourseView {
    pub course: CourseRow,
    pub pages: Vec<PageRow>,
    pub images: Vec<ImageRow>,
    /// Only for those who run the programme.
    pub questions: Vec<QuestionRow>,
    pub assignments: Vec<AssignmentRow>,
    pub me: MyCourse,
    pub runs: bool,
    pub sees_figures: bool,
    /// Whether the visitor may take the test (assigned, or runs the programme).
    pub may_take: bool,
    pub departments: Vec<(i64, String)>,
}

/// One question of an attempt as shown: the choices in the drawn order.
#[derive(Debug, Clone)]
pub struct ShownQuestion {
    pub number: usize,
    pub text: String,
    pub choices: Vec<String>,
    /// After submission: the shown index chosen, the shown index of the right one.
    pub chosen: Option<usize>,
    pub correct: Option<usize>,
    pub explanation: String,
}

#[derive(Debug, Clone)]
pub struct AttemptView {
    pub attempt: AttemptRow,
    pub course: CourseRow,
    pub questions: Vec<ShownQuestion>,
    pub taker: String,
    /// Whether right answers and explanations are shown (after a pass, or to the office).
    pub reveal: bool,
}

/// Completion of one department.
#[derive(Debug, Clone)]
pub struct DeptCompletion {
    pub department_id: i64,
    pub department: String,
    pub all: Completion,
    /// Temporary staff (派遣, パート・アルバイト) of the same department.
    pub temporary: Completion,
}

/// A person who has not completed a course.
#[derive(Debug, Clone)]
pub struct Missing {
    pub user_id: i64,
    pub name: String,
    pub department: String,
    pub employment: EmploymentType,
    pub deadline: NaiveDate,
    pub overdue: bool,
}

#[derive(Debug, Clone)]
pub struct CompletionReport {
    pub course: CourseRow,
    pub rows: Vec<DeptCompletion>,
    pub total: Completion,
    pub temporary: Completion,
    pub missing: Vec<Missing>,
    /// `(user, name, department, passed at, attempt)` of those who passed (for certificates).
    pub passed: Vec<(i64, String, String, i64, i64)>,
    pub runs: bool,
}

/// A task of the person for the hub.
#[derive(Debug, Clone)]
pub enum LearningTask {
    Course {
        id: i64,
        title: String,
        deadline: NaiveDate,
        overdue: bool,
    },
    Pledge {
        title: String,
        version: i64,
    },
}

/// The pledge page: the current version and what the person did with it.
#[derive(Debug, Clone)]
pub struct PledgeView {
    pub current: Option<PledgeRow>,
    pub accepted_at: Option<i64>,
    pub versions: Vec<PledgeRow>,
    pub runs: bool,
    pub sees_figures: bool,
}

/// Who has not accepted the current pledge, per department.
#[derive(Debug, Clone)]
pub struct PledgeStatus {
    pub current: Option<PledgeRow>,
    /// `(department, people, accepted)`.
    pub rows: Vec<(String, usize, usize)>,
    /// `(name, department, employment)` of those who have not accepted.
    pub missing: Vec<(String, String, EmploymentType)>,
}

/// The certificate as a PDF, with its file name.
pub struct Certificate {
    pub pdf: Vec<u8>,
    pub file_name: String,
}

fn dept_name(depts: &[(i64, String)], id: i64) -> String {
    depts
        .iter()
        .find(|(d, _)| *d == id)
        .map_or_else(|| "-".into(), |(_, n)| n.clone())
}

fn parse_drawn(json: &str) -> Vec<Drawn> {
    serde_json::from_str::<Vec<(i64, Vec<usize>)>>(json)
        .unwrap_or_default()
        .into_iter()
        .map(|(question_id, order)| Drawn { question_id, order })
        .collect()
}

fn drawn_json(d: &[Drawn]) -> String {
    let v: Vec<(i64, &Vec<usize>)> = d.iter().map(|q| (q.question_id, &q.order)).collect();
    serde_json::to_string(&v).unwrap_or_else(|_| "[]".into())
}

/// A count typed in a form (全角 digits, 「20問」, 「80%」 included).
fn count(
    ps: &mut Problems,
    field: &'static str,
    text: &str,
    default: i64,
) -> Result<Option<i64>, AppError> {
    let t = text.trim().trim_end_matches(['%', '％', '問']);
    if t.is_empty() {
        return Ok(Some(default));
    }
    let r = mamori_domain::number::parse_count(t)
        .map(|n| n.map_or(default, |n| i64::try_from(n).unwrap_or(i64::MAX)))
        .map_err(|e| AppError::Invalid(Problem::new(Some(field), e.ja(), e.en())));
    ps.check(r)
}

/// The deadline a person has for a course: the earliest of the assignments covering them.
fn deadline_for(
    user: &User,
    assignments: &[AssignmentRow],
    below: &HashMap<i64, Vec<i64>>,
) -> Option<NaiveDate> {
    let roles: Vec<Role> = user.roles.iter().collect();
    assignments
        .iter()
        .filter_map(|a| {
            let aud = Audience::from_parts(&a.kind, a.department_id, a.role.as_deref())?;
            let f = |d: i64| below.get(&d).cloned().unwrap_or_else(|| vec![d]);
            aud.covers(user.department_id, &roles, &f)
                .then(|| a.deadline.parse::<NaiveDate>().ok())
                .flatten()
        })
        .min()
}

impl App {
    fn learning_problem(field: &'static str, ja: &str, en: &str) -> AppError {
        AppError::Invalid(Problem::new(Some(field), ja, en))
    }

    /// Department id → it and every department below it, for a company.
    /// Department id → it and every department below it, from one read of the tree (a
    /// department is below each of its ancestors; a cycle in bad data stops the walk).
    async fn learning_below_map(&self, company_id: i64) -> Result<Below, AppError> {
        let depts = self.store.list_departments(company_id).await?;
        let parent: HashMap<i64, Option<i64>> = depts.iter().map(|d| (d.id, d.parent_id)).collect();
        let mut out: Below = depts.iter().map(|d| (d.id, Vec::new())).collect();
        for d in &depts {
            let mut at = Some(d.id);
            let mut steps = 0;
            while let Some(a) = at {
                if let Some(v) = out.get_mut(&a) {
                    v.push(d.id);
                }
                at = parent.get(&a).copied().flatten();
                steps += 1;
                if steps > depts.len() {
                    break;
                }
            }
        }
        Ok(out)
    }

    async fn learning_dept_names(&self, company_id: i64) -> Result<Vec<(i64, String)>, AppError> {
        Ok(self
            .store
            .list_departments(company_id)
            .await?
            .into_iter()
            .map(|d| (d.id, d.name))
            .collect())
    }

    /// A course of the visitor's company, or `NotFound` (another company's course does not
    /// exist for them).
    async fn course_in_scope(&self, company_id: i64, id: i64) -> Result<CourseRow, AppError> {
        match self.store.course(id).await {
            Ok(c) if c.company_id == company_id => Ok(c),
            Ok(_) | Err(mamori_store::StoreError::NotFound) => Err(AppError::NotFound),
            Err(e) => Err(e.into()),
        }
    }

    async fn require_runs(
        &self,
        ctx: &Ctx,
        action: &str,
    ) -> Result<crate::programme::ProgrammeScope, AppError> {
        let scope = self.programme_scope(ctx).await?;
        if !scope.runs {
            self.audit(ctx, action, "learning", Outcome::Denied, json!({}))
                .await?;
            return Err(AppError::Denied);
        }
        Ok(scope)
    }

    fn read_course_input(input: &CourseInput) -> Result<CourseFields, AppError> {
        let mut ps = Problems::new();
        let year = count(&mut ps, "year", &input.year, 0)?;
        let pass_mark = count(&mut ps, "pass_mark", &input.pass_mark, l::DEFAULT_PASS_MARK)?;
        let questions = count(&mut ps, "questions", &input.questions, l::DEFAULT_QUESTIONS)?;
        for p in l::check_settings(
            &input.title,
            year.unwrap_or(2026),
            pass_mark.unwrap_or(80),
            questions.unwrap_or(20),
        ) {
            ps.push(Problem::new(Some(p.field()), p.ja(), p.en()));
        }
        if input.title.trim().chars().count() > 200 {
            ps.push(Problem::new(
                Some("title"),
                "講座名は200文字までです",
                "the title may have at most 200 characters",
            ));
        }
        ps.done()?;
        Ok(CourseFields {
            year: year.unwrap_or(0),
            title: input.title.trim().to_owned(),
            summary: input.summary.trim().to_owned(),
            pass_mark: pass_mark.unwrap_or(l::DEFAULT_PASS_MARK),
            questions: questions.unwrap_or(l::DEFAULT_QUESTIONS),
        })
    }

    // ───────────────────────────── courses ─────────────────────────────

    /// The courses the visitor sees: all of the company for those who see figures, the own
    /// assigned ones for everybody else.
    pub async fn courses_overview(&self, ctx: &Ctx) -> Result<Vec<CourseLine>, AppError> {
        let scope = self.programme_scope(ctx).await?;
        let me = ctx.user_ref().ok_or(AppError::Denied)?.clone();
        let below = self.learning_below_map(scope.company_id).await?;
        let users = if scope.sees_figures() {
            self.store.list_users(Some(scope.company_id)).await?
        } else {
            Vec::new()
        };
        let mut out = Vec::new();
        for c in self.store.courses(scope.company_id).await? {
            let assignments = self.store.assignments(c.id).await?;
            let mine = deadline_for(&me, &assignments, &below).is_some();
            if !scope.sees_figures() && !mine {
                continue;
            }
            let completion = if scope.sees_figures() {
                let passes: Vec<i64> = self.store.passes(c.id).await?.iter().map(|p| p.0).collect();
                let today = jst_date(self.clock.now_micros());
                let mut comp = Completion::default();
                for u in users
                    .iter()
                    .filter(|u| !u.disabled && scope.sees_department(u.department_id))
                {
                    if let Some(d) = deadline_for(u, &assignments, &below) {
                        comp.add(passes.contains(&u.id), l::overdue(d, today));
                    }
                }
                Some(comp)
            } else {
                None
            };
            out.push(CourseLine {
                bank: self
                    .store
                    .questions(c.id)
                    .await?
                    .iter()
                    .filter(|q| q.retired_at.is_none())
                    .count(),
                pages: self.store.pages(c.id).await?.len(),
                assignments: assignments.len(),
                completion,
                course: c,
            });
        }
        self.audit(
            ctx,
            "learning.courses.view",
            "learning",
            Outcome::Success,
            json!({"courses": out.len()}),
        )
        .await?;
        Ok(out)
    }

    pub async fn create_course(&self, ctx: &Ctx, input: &CourseInput) -> Result<i64, AppError> {
        let scope = self.require_runs(ctx, "learning.course.create").await?;
        let f = Self::read_course_input(input)?;
        let id = self
            .store
            .insert_course(
                scope.company_id,
                &f,
                self.clock.now_micros(),
                &ctx.actor_name(),
            )
            .await?;
        self.audit(
            ctx,
            "learning.course.create",
            &format!("course:{id}"),
            Outcome::Success,
            json!({"year": f.year, "pass_mark": f.pass_mark, "questions": f.questions}),
        )
        .await?;
        Ok(id)
    }

    pub async fn update_course(
        &self,
        ctx: &Ctx,
        id: i64,
        input: &CourseInput,
    ) -> Result<(), AppError> {
        let scope = self.require_runs(ctx, "learning.course.update").await?;
        self.course_in_scope(scope.company_id, id).await?;
        let f = Self::read_course_input(input)?;
        self.store
            .update_course(id, &f, self.clock.now_micros())
            .await?;
        self.audit(
            ctx,
            "learning.course.update",
            &format!("course:{id}"),
            Outcome::Success,
            json!({"year": f.year, "pass_mark": f.pass_mark, "questions": f.questions}),
        )
        .await?;
        Ok(())
    }

    /// Copies a course into the next year (pages, images and questions; not the assignments).
    pub async fn copy_course_to_next_year(&self, ctx: &Ctx, id: i64) -> Result<i64, AppError> {
        let scope = self.require_runs(ctx, "learning.course.copy").await?;
        let c = self.course_in_scope(scope.company_id, id).await?;
        let year = c.year + 1;
        let new_id = match self
            .store
            .copy_course(id, year, self.clock.now_micros(), &ctx.actor_name())
            .await
        {
            Ok(n) => n,
            Err(mamori_store::StoreError::Conflict(_)) => {
                return Err(Self::learning_problem(
                    "year",
                    &format!("{year}年度に同じ名前の講座がすでにあります"),
                    &format!("a course of the same title already exists for {year}"),
                ))
            }
            Err(e) => return Err(e.into()),
        };
        self.audit(
            ctx,
            "learning.course.copy",
            &format!("course:{new_id}"),
            Outcome::Success,
            json!({"from": id, "year": year}),
        )
        .await?;
        Ok(new_id)
    }

    async fn my_course(
        &self,
        me: &User,
        c: &CourseRow,
        assignments: &[AssignmentRow],
    ) -> Result<MyCourse, AppError> {
        let below = self.learning_below_map(c.company_id).await?;
        let deadline = deadline_for(me, assignments, &below);
        let attempts = self.store.attempts(c.id, me.id).await?;
        let passed = attempts.iter().find(|a| a.passed).cloned();
        let open = attempts
            .iter()
            .rev()
            .find(|a| a.submitted_at.is_none())
            .map(|a| a.id);
        let today = jst_date(self.clock.now_micros());
        Ok(MyCourse {
            overdue: passed.is_none() && deadline.is_some_and(|d| l::overdue(d, today)),
            deadline,
            passed,
            attempts,
            open,
        })
    }

    /// One course: its pages for those who take it, and its bank and assignments for those
    /// who run the programme.
    pub async fn course_view(&self, ctx: &Ctx, id: i64) -> Result<CourseView, AppError> {
        let scope = self.programme_scope(ctx).await?;
        let me = ctx.user_ref().ok_or(AppError::Denied)?.clone();
        let course = self.course_in_scope(scope.company_id, id).await?;
        let assignments = self.store.assignments(id).await?;
        let mine = self.my_course(&me, &course, &assignments).await?;
        let may_take = scope.runs || mine.deadline.is_some();
        if !may_take && !scope.sees_figures() {
            self.audit(
                ctx,
                "learning.course.view",
                &format!("course:{id}"),
                Outcome::Denied,
                json!({}),
            )
            .await?;
            return Err(AppError::NotFound);
        }
        let questions = if scope.runs {
            self.store.questions(id).await?
        } else {
            Vec::new()
        };
        self.audit(
            ctx,
            "learning.course.view",
            &format!("course:{id}"),
            Outcome::Success,
            json!({}),
        )
        .await?;
        Ok(CourseView {
            pages: self.store.pages(id).await?,
            images: self.store.images(id).await?,
            questions,
            assignments,
            me: mine,
            runs: scope.runs,
            sees_figures: scope.sees_figures(),
            may_take,
            departments: self.learning_dept_names(scope.company_id).await?,
            course,
        })
    }

    /// An image of a course, for those who may see the course: `(content type, bytes)`.
    pub async fn course_image(
        &self,
        ctx: &Ctx,
        course_id: i64,
        image_id: i64,
    ) -> Result<(String, Vec<u8>), AppError> {
        let scope = self.programme_scope(ctx).await?;
        let me = ctx.user_ref().ok_or(AppError::Denied)?.clone();
        let course = self.course_in_scope(scope.company_id, course_id).await?;
        if !scope.runs && !scope.sees_figures() {
            let assignments = self.store.assignments(course_id).await?;
            let below = self.learning_below_map(course.company_id).await?;
            if deadline_for(&me, &assignments, &below).is_none() {
                return Err(AppError::NotFound);
            }
        }
        let (img, bytes) = match self.store.image(image_id).await {
            Ok(x) if x.0.course_id == course_id => x,
            Ok(_) | Err(mamori_store::StoreError::NotFound) => return Err(AppError::NotFound),
            Err(e) => return Err(e.into()),
        };
        Ok((img.content_type, bytes))
    }

    pub async fn add_page(
        &self,
        ctx: &Ctx,
        course_id: i64,
        title: &str,
        body: &str,
    ) -> Result<i64, AppError> {
        let scope = self.require_runs(ctx, "learning.page.add").await?;
        self.course_in_scope(scope.company_id, course_id).await?;
        Self::check_page(title, body)?;
        let id = self
            .store
            .insert_page(
                course_id,
                title.trim(),
                body,
                self.clock.now_micros(),
                &ctx.actor_name(),
            )
            .await?;
        self.audit(
            ctx,
            "learning.page.add",
            &format!("course:{course_id}"),
            Outcome::Success,
            json!({"page": id}),
        )
        .await?;
        Ok(id)
    }

    fn check_page(title: &str, body: &str) -> Result<(), AppError> {
        let mut ps = Problems::new();
        if title.trim().is_empty() {
            ps.push(Problem::new(
                Some("title"),
                "ページの見出しを入力してください",
                "enter the page's heading",
            ));
        } else if title.trim().chars().count() > 200 {
            ps.push(Problem::new(
                Some("title"),
                "見出しは200文字までです",
                "the heading may have at most 200 characters",
            ));
        }
        if body.trim().is_empty() {
            ps.push(Problem::new(
                Some("body"),
                "本文を入力してください",
                "enter the page's text",
            ));
        } else if body.chars().count() > 50_000 {
            ps.push(Problem::new(
                Some("body"),
                "本文は50,000文字までです",
                "the text may have at most 50,000 characters",
            ));
        }
        ps.done()
    }

    pub async fn update_page(
        &self,
        ctx: &Ctx,
        course_id: i64,
        page_id: i64,
        title: &str,
        body: &str,
    ) -> Result<(), AppError> {
        let scope = self.require_runs(ctx, "learning.page.update").await?;
        self.course_in_scope(scope.company_id, course_id).await?;
        if !self
            .store
            .pages(course_id)
            .await?
            .iter()
            .any(|p| p.id == page_id)
        {
            return Err(AppError::NotFound);
        }
        Self::check_page(title, body)?;
        self.store
            .update_page(
                page_id,
                title.trim(),
                body,
                self.clock.now_micros(),
                &ctx.actor_name(),
            )
            .await?;
        self.audit(
            ctx,
            "learning.page.update",
            &format!("course:{course_id}"),
            Outcome::Success,
            json!({"page": page_id}),
        )
        .await?;
        Ok(())
    }

    pub async fn delete_page(
        &self,
        ctx: &Ctx,
        course_id: i64,
        page_id: i64,
    ) -> Result<(), AppError> {
        let scope = self.require_runs(ctx, "learning.page.delete").await?;
        self.course_in_scope(scope.company_id, course_id).await?;
        if !self
            .store
            .pages(course_id)
            .await?
            .iter()
            .any(|p| p.id == page_id)
        {
            return Err(AppError::NotFound);
        }
        self.store.delete_page(page_id).await?;
        self.audit(
            ctx,
            "learning.page.delete",
            &format!("course:{course_id}"),
            Outcome::Success,
            json!({"page": page_id}),
        )
        .await?;
        Ok(())
    }

    /// Stores an uploaded image (PNG or JPEG by its first bytes, at most 2 MB).
    pub async fn add_image(
        &self,
        ctx: &Ctx,
        course_id: i64,
        name: &str,
        bytes: &[u8],
    ) -> Result<i64, AppError> {
        let scope = self.require_runs(ctx, "learning.image.add").await?;
        self.course_in_scope(scope.company_id, course_id).await?;
        let ct =
            l::image_type(bytes).map_err(|p| Self::learning_problem("image", p.ja(), p.en()))?;
        let name: String = name
            .rsplit(['/', '\\'])
            .next()
            .unwrap_or("")
            .chars()
            .filter(|c| !c.is_control())
            .take(100)
            .collect();
        let id = self
            .store
            .insert_image(
                course_id,
                &name,
                ct,
                bytes,
                self.clock.now_micros(),
                &ctx.actor_name(),
            )
            .await?;
        self.audit(
            ctx,
            "learning.image.add",
            &format!("course:{course_id}"),
            Outcome::Success,
            json!({"image": id, "type": ct, "bytes": bytes.len()}),
        )
        .await?;
        Ok(id)
    }

    // ───────────────────────────── question bank ─────────────────────────────

    /// Adds a question to the bank, or replaces one (`replaces`: the old one is retired and
    /// the new one takes its place, so attempts that asked the old one still show it).
    pub async fn save_question(
        &self,
        ctx: &Ctx,
        course_id: i64,
        replaces: Option<i64>,
        input: &QuestionInput,
    ) -> Result<i64, AppError> {
        let scope = self.require_runs(ctx, "learning.question.save").await?;
        self.course_in_scope(scope.company_id, course_id).await?;
        let old = match replaces {
            Some(q) => Some(
                self.store
                    .questions(course_id)
                    .await?
                    .into_iter()
                    .find(|x| x.id == q && x.retired_at.is_none())
                    .ok_or(AppError::NotFound)?,
            ),
            None => None,
        };
        let q = l::check_question(input).map_err(|ps| {
            let mut all = Problems::new();
            for p in ps {
                all.push(Problem::new(Some(p.field()), p.ja(), p.en()));
            }
            all.done().err().unwrap_or(AppError::NotFound)
        })?;
        let now = self.clock.now_micros();
        if let Some(o) = &old {
            self.store.retire_question(o.id, now).await?;
        }
        let id = self
            .store
            .insert_question(
                course_id,
                old.as_ref().map(|o| o.position),
                &NewQuestion {
                    text: &q.text,
                    choices: &q.choices,
                    correct: i64::try_from(q.correct).unwrap_or(0),
                    explanation: &q.explanation,
                },
                now,
                &ctx.actor_name(),
            )
            .await?;
        self.audit(
            ctx,
            "learning.question.save",
            &format!("course:{course_id}"),
            Outcome::Success,
            json!({"question": id, "replaces": replaces}),
        )
        .await?;
        Ok(id)
    }

    pub async fn retire_question(
        &self,
        ctx: &Ctx,
        course_id: i64,
        question_id: i64,
    ) -> Result<(), AppError> {
        let scope = self.require_runs(ctx, "learning.question.retire").await?;
        self.course_in_scope(scope.company_id, course_id).await?;
        if !self
            .store
            .questions(course_id)
            .await?
            .iter()
            .any(|q| q.id == question_id)
        {
            return Err(AppError::NotFound);
        }
        self.store
            .retire_question(question_id, self.clock.now_micros())
            .await?;
        self.audit(
            ctx,
            "learning.question.retire",
            &format!("course:{course_id}"),
            Outcome::Success,
            json!({"question": question_id}),
        )
        .await?;
        Ok(())
    }

    // ───────────────────────────── assignments ─────────────────────────────

    /// Assigns a course. `target`: `all`, `department:ID` or `role:CODE`; the deadline as a
    /// date (`2027-01-29`, `2027/1/29`).
    pub async fn assign_course(
        &self,
        ctx: &Ctx,
        course_id: i64,
        target: &str,
        deadline: &str,
    ) -> Result<i64, AppError> {
        let scope = self.require_runs(ctx, "learning.assign").await?;
        self.course_in_scope(scope.company_id, course_id).await?;
        let mut ps = Problems::new();
        let audience = match target.split_once(':') {
            None if target == "all" => Some(Audience::Everybody),
            Some(("department", d)) => match d.parse::<i64>() {
                Ok(d)
                    if self
                        .learning_dept_names(scope.company_id)
                        .await?
                        .iter()
                        .any(|(id, _)| *id == d) =>
                {
                    Some(Audience::Department(d))
                }
                _ => None,
            },
            Some(("role", r)) => r.parse::<Role>().ok().map(Audience::Role),
            _ => None,
        };
        if audience.is_none() {
            ps.push(Problem::new(
                Some("target"),
                "対象（全員・部署・役割）を選んでください",
                "choose who must take the course (everybody, a department or a role)",
            ));
        }
        let date = mamori_domain::vault::schema::parse_date(deadline);
        if date.is_none() {
            ps.push(Problem::new(
                Some("deadline"),
                format!(
                    "期限: 「{}」は日付として読めません（例: 2027-01-29）",
                    deadline.trim()
                ),
                format!(
                    "deadline: “{}” is not a date (e.g. 2027-01-29)",
                    deadline.trim()
                ),
            ));
        }
        ps.done()?;
        let (Some(audience), Some(date)) = (audience, date) else {
            return Err(AppError::NotFound);
        };
        let id = self
            .store
            .insert_assignment(
                course_id,
                audience.to_parts(),
                &date.to_string(),
                self.clock.now_micros(),
                &ctx.actor_name(),
            )
            .await?;
        let (kind, dept, role) = audience.to_parts();
        self.audit(
            ctx,
            "learning.assign",
            &format!("course:{course_id}"),
            Outcome::Success,
            json!({"assignment": id, "kind": kind, "department": dept, "role": role, "deadline": date.to_string()}),
        )
        .await?;
        Ok(id)
    }

    pub async fn remove_assignment(
        &self,
        ctx: &Ctx,
        course_id: i64,
        assignment_id: i64,
    ) -> Result<(), AppError> {
        let scope = self.require_runs(ctx, "learning.unassign").await?;
        self.course_in_scope(scope.company_id, course_id).await?;
        if !self
            .store
            .delete_assignment(course_id, assignment_id)
            .await?
        {
            return Err(AppError::NotFound);
        }
        self.audit(
            ctx,
            "learning.unassign",
            &format!("course:{course_id}"),
            Outcome::Success,
            json!({"assignment": assignment_id}),
        )
        .await?;
        Ok(())
    }

    // ───────────────────────────── attempts ─────────────────────────────

    /// Starts an attempt (or returns the one started and not submitted): draws the test with a
    /// new random seed.
    pub async fn start_attempt(&self, ctx: &Ctx, course_id: i64) -> Result<i64, AppError> {
        let scope = self.programme_scope(ctx).await?;
        let me = ctx.user_ref().ok_or(AppError::Denied)?.clone();
        let course = self.course_in_scope(scope.company_id, course_id).await?;
        let assignments = self.store.assignments(course_id).await?;
        let mine = self.my_course(&me, &course, &assignments).await?;
        if !scope.runs && mine.deadline.is_none() {
            self.audit(
                ctx,
                "learning.attempt.start",
                &format!("course:{course_id}"),
                Outcome::Denied,
                json!({}),
            )
            .await?;
            return Err(AppError::Denied);
        }
        if let Some(open) = mine.open {
            return Ok(open);
        }
        if mine.passed.is_some() {
            return Err(Self::learning_problem(
                "test",
                "この講座はすでに合格しています",
                "you have passed this course already",
            ));
        }
        let bank: Vec<(i64, usize)> = self
            .store
            .questions(course_id)
            .await?
            .iter()
            .filter(|q| q.retired_at.is_none())
            .map(|q| (q.id, q.choices.len()))
            .collect();
        if bank.is_empty() {
            return Err(Self::learning_problem(
                "test",
                "この講座にはまだ問題がありません",
                "this course has no questions yet",
            ));
        }
        let seed: u64 = rand::random();
        let drawn = l::draw(&bank, usize::try_from(course.questions).unwrap_or(20), seed);
        let total = i64::try_from(drawn.len()).unwrap_or(0);
        let id = self
            .store
            .insert_attempt(
                course_id,
                me.id,
                seed,
                &drawn_json(&drawn),
                total,
                self.clock.now_micros(),
            )
            .await?;
        self.audit(
            ctx,
            "learning.attempt.start",
            &format!("course:{course_id}"),
            Outcome::Success,
            json!({"attempt": id, "questions": total}),
        )
        .await?;
        Ok(id)
    }

    async fn attempt_for(
        &self,
        ctx: &Ctx,
        course_id: i64,
        attempt_id: i64,
        action: &str,
    ) -> Result<(AttemptRow, CourseRow, bool), AppError> {
        let scope = self.programme_scope(ctx).await?;
        let course = self.course_in_scope(scope.company_id, course_id).await?;
        let a = match self.store.attempt(attempt_id).await {
            Ok(a) if a.course_id == course_id => a,
            Ok(_) | Err(mamori_store::StoreError::NotFound) => return Err(AppError::NotFound),
            Err(e) => return Err(e.into()),
        };
        if a.user_id != scope.user_id && !scope.runs {
            self.audit(
                ctx,
                action,
                &format!("attempt:{attempt_id}"),
                Outcome::Denied,
                json!({}),
            )
            .await?;
            return Err(AppError::NotFound);
        }
        Ok((a, course, scope.runs))
    }

    /// An attempt as it was asked (the same questions and choice order, from the stored draw),
    /// with the answers once submitted.
    pub async fn attempt_view(
        &self,
        ctx: &Ctx,
        course_id: i64,
        attempt_id: i64,
    ) -> Result<AttemptView, AppError> {
        let (a, course, runs) = self
            .attempt_for(ctx, course_id, attempt_id, "learning.attempt.view")
            .await?;
        let bank: HashMap<i64, QuestionRow> = self
            .store
            .questions(course_id)
            .await?
            .into_iter()
            .map(|q| (q.id, q))
            .collect();
        let answers: Vec<Option<usize>> = a
            .answers
            .as_deref()
            .and_then(|s| serde_json::from_str(s).ok())
            .unwrap_or_default();
        let mut questions = Vec::new();
        for (i, d) in parse_drawn(&a.drawn).iter().enumerate() {
            let Some(q) = bank.get(&d.question_id) else {
                continue;
            };
            let choices = d
                .order
                .iter()
                .map(|k| q.choices.get(*k).cloned().unwrap_or_default())
                .collect();
            let shown = |stored: usize| d.order.iter().position(|k| *k == stored);
            questions.push(ShownQuestion {
                number: i + 1,
                text: q.text.clone(),
                choices,
                chosen: answers.get(i).copied().flatten().and_then(shown),
                correct: a
                    .submitted_at
                    .and_then(|_| usize::try_from(q.correct).ok())
                    .and_then(shown),
                explanation: q.explanation.clone(),
            });
        }
        let taker = self.store.get_user(a.user_id).await?.display_name;
        self.audit(
            ctx,
            "learning.attempt.view",
            &format!("attempt:{attempt_id}"),
            Outcome::Success,
            json!({"course": course_id, "user": a.user_id}),
        )
        .await?;
        let reveal = a.submitted_at.is_some() && (a.passed || runs);
        Ok(AttemptView {
            attempt: a,
            course,
            questions,
            taker,
            reveal,
        })
    }

    /// Submits the answers (`answers[i]`: the index of the chosen choice as shown, for the
    /// i-th question). Every question must be answered. Returns the stored attempt.
    pub async fn submit_attempt(
        &self,
        ctx: &Ctx,
        course_id: i64,
        attempt_id: i64,
        answers: &[Option<usize>],
    ) -> Result<AttemptRow, AppError> {
        let (a, course, _) = self
            .attempt_for(ctx, course_id, attempt_id, "learning.attempt.submit")
            .await?;
        if a.user_id != ctx.actor_id().unwrap_or(0) {
            return Err(AppError::Denied);
        }
        if a.submitted_at.is_some() {
            return Err(Self::learning_problem(
                "answers",
                "この回答はすでに送信されています",
                "these answers were submitted already",
            ));
        }
        let drawn = parse_drawn(&a.drawn);
        let bank: HashMap<i64, QuestionRow> = self
            .store
            .questions(course_id)
            .await?
            .into_iter()
            .map(|q| (q.id, q))
            .collect();
        let unanswered: Vec<String> = (0..drawn.len())
            .filter(|i| {
                answers
                    .get(*i)
                    .copied()
                    .flatten()
                    .is_none_or(|k| k >= drawn[*i].order.len())
            })
            .map(|i| (i + 1).to_string())
            .collect();
        if !unanswered.is_empty() {
            return Err(Self::learning_problem(
                "answers",
                &format!(
                    "まだ答えていない問題があります: 問{}",
                    unanswered.join("、問")
                ),
                &format!("some questions are not answered: {}", unanswered.join(", ")),
            ));
        }
        let mut stored = Vec::new();
        let mut correct = 0usize;
        for (i, d) in drawn.iter().enumerate() {
            let k = answers[i].and_then(|s| d.order.get(s).copied());
            if let (Some(k), Some(q)) = (k, bank.get(&d.question_id)) {
                if i64::try_from(k).ok() == Some(q.correct) {
                    correct += 1;
                }
            }
            stored.push(k);
        }
        let passed = l::passes(correct, drawn.len(), course.pass_mark);
        let json_answers = serde_json::to_string(&stored).unwrap_or_else(|_| "[]".into());
        if !self
            .store
            .submit_attempt(
                attempt_id,
                &json_answers,
                i64::try_from(correct).unwrap_or(0),
                passed,
                self.clock.now_micros(),
            )
            .await?
        {
            return Err(Self::learning_problem(
                "answers",
                "この回答はすでに送信されています",
                "these answers were submitted already",
            ));
        }
        self.audit(
            ctx,
            "learning.attempt.submit",
            &format!("attempt:{attempt_id}"),
            Outcome::Success,
            json!({"course": course_id, "correct": correct, "total": drawn.len(), "passed": passed}),
        )
        .await?;
        Ok(self.store.attempt(attempt_id).await?)
    }

    // ───────────────────────────── completion ─────────────────────────────

    /// Completion of a course per department (department heads: their departments; the
    /// privacy office, the CISO, executives and auditors: all), temporary staff apart, and who
    /// has not completed it.
    pub async fn course_completion(
        &self,
        ctx: &Ctx,
        course_id: i64,
    ) -> Result<CompletionReport, AppError> {
        let scope = self.programme_scope(ctx).await?;
        let course = self.course_in_scope(scope.company_id, course_id).await?;
        if !scope.sees_figures() || !ctx.allows(Permission::ViewProgramme) {
            self.audit(
                ctx,
                "learning.completion.view",
                &format!("course:{course_id}"),
                Outcome::Denied,
                json!({}),
            )
            .await?;
            return Err(AppError::Denied);
        }
        let depts = self.learning_dept_names(scope.company_id).await?;
        let below = self.learning_below_map(scope.company_id).await?;
        let assignments = self.store.assignments(course_id).await?;
        let passes: HashMap<i64, (i64, i64)> = self
            .store
            .passes(course_id)
            .await?
            .into_iter()
            .map(|(u, a, at)| (u, (a, at)))
            .collect();
        let types: HashMap<i64, EmploymentType> = self
            .store
            .employment_types(scope.company_id)
            .await?
            .into_iter()
            .map(|(u, t)| {
                (
                    u,
                    EmploymentType::parse(&t).unwrap_or(EmploymentType::Regular),
                )
            })
            .collect();
        let today = jst_date(self.clock.now_micros());
        let mut per: BTreeMap<i64, (Completion, Completion)> = BTreeMap::new();
        let mut total = Completion::default();
        let mut temporary = Completion::default();
        let mut missing = Vec::new();
        let mut passed = Vec::new();
        for u in self.store.list_users(Some(scope.company_id)).await? {
            if u.disabled || !scope.sees_department(u.department_id) {
                continue;
            }
            let Some(deadline) = deadline_for(&u, &assignments, &below) else {
                continue;
            };
            let emp = types.get(&u.id).copied().unwrap_or(EmploymentType::Regular);
            let done = passes.get(&u.id);
            let late = l::overdue(deadline, today);
            let e = per.entry(u.department_id).or_default();
            e.0.add(done.is_some(), late);
            total.add(done.is_some(), late);
            if emp.is_temporary() {
                e.1.add(done.is_some(), late);
                temporary.add(done.is_some(), late);
            }
            match done {
                Some((attempt, at)) => passed.push((
                    u.id,
                    u.display_name.clone(),
                    dept_name(&depts, u.department_id),
                    *at,
                    *attempt,
                )),
                None => missing.push(Missing {
                    user_id: u.id,
                    name: u.display_name.clone(),
                    department: dept_name(&depts, u.department_id),
                    employment: emp,
                    deadline,
                    overdue: late,
                }),
            }
        }
        let mut rows: Vec<DeptCompletion> = per
            .into_iter()
            .map(|(d, (all, temp))| DeptCompletion {
                department_id: d,
                department: dept_name(&depts, d),
                all,
                temporary: temp,
            })
            .collect();
        rows.sort_by(|a, b| a.department.cmp(&b.department));
        missing.sort_by(|a, b| {
            b.overdue
                .cmp(&a.overdue)
                .then_with(|| a.department.cmp(&b.department))
                .then_with(|| a.name.cmp(&b.name))
        });
        self.audit(
            ctx,
            "learning.completion.view",
            &format!("course:{course_id}"),
            Outcome::Success,
            json!({"assigned": total.assigned, "completed": total.completed}),
        )
        .await?;
        Ok(CompletionReport {
            course,
            rows,
            total,
            temporary,
            missing,
            passed,
            runs: scope.runs,
        })
    }

    // ───────────────────────────── certificate ─────────────────────────────

    /// The certificate of completion of a person who passed (the person, or the privacy
    /// office for anybody of the company).
    pub async fn certificate(
        &self,
        ctx: &Ctx,
        course_id: i64,
        user_id: i64,
    ) -> Result<Certificate, AppError> {
        let scope = self.programme_scope(ctx).await?;
        let course = self.course_in_scope(scope.company_id, course_id).await?;
        let target = format!("course:{course_id}/user:{user_id}");
        if user_id != scope.user_id && !scope.runs {
            self.audit(
                ctx,
                "learning.certificate",
                &target,
                Outcome::Denied,
                json!({}),
            )
            .await?;
            return Err(AppError::Denied);
        }
        let person = match self.store.get_user(user_id).await {
            Ok(u) if u.company_id == scope.company_id => u,
            Ok(_) | Err(mamori_store::StoreError::NotFound) => return Err(AppError::NotFound),
            Err(e) => return Err(e.into()),
        };
        let Some(pass) = self
            .store
            .attempts(course_id, user_id)
            .await?
            .into_iter()
            .find(|a| a.passed)
        else {
            return Err(AppError::NotFound);
        };
        let company = self.store.get_company(scope.company_id).await?;
        let date = jst_date(pass.submitted_at.unwrap_or(pass.started_at));
        let correct = usize::try_from(pass.correct.unwrap_or(0)).unwrap_or(0);
        let total = usize::try_from(pass.total).unwrap_or(0);
        let cert = mamori_pdf::certificate::Certificate {
            name: person.display_name.clone(),
            course: course.title.clone(),
            year: course.year,
            date: format!(
                "{}年{}月{}日",
                chrono::Datelike::year(&date),
                chrono::Datelike::month(&date),
                chrono::Datelike::day(&date)
            ),
            score: format!(
                "{correct} / {total}問正解（{}％）",
                l::percent(correct, total)
            ),
            pass_mark: format!("{}％", course.pass_mark),
            company: company.name.clone(),
            number: format!("EL-{}-{:04}-{:06}", course.year, course.id, pass.id),
        };
        let pdf = mamori_pdf::certificate::render_certificate(&cert)
            .map_err(|e| AppError::Internal(e.to_string()))?;
        self.audit(
            ctx,
            "learning.certificate",
            &target,
            Outcome::Success,
            json!({"attempt": pass.id}),
        )
        .await?;
        Ok(Certificate {
            pdf,
            file_name: format!("certificate-{}-{}.pdf", course.id, user_id),
        })
    }

    // ───────────────────────────── the hub ─────────────────────────────

    /// The person's open tasks: courses to pass (with the deadline) and the pledge to accept.
    pub async fn learning_tasks(&self, ctx: &Ctx) -> Result<Vec<LearningTask>, AppError> {
        let scope = self.programme_scope(ctx).await?;
        let me = ctx.user_ref().ok_or(AppError::Denied)?.clone();
        let below = self.learning_below_map(scope.company_id).await?;
        let today = jst_date(self.clock.now_micros());
        let mut out = Vec::new();
        for c in self.store.courses(scope.company_id).await? {
            let assignments = self.store.assignments(c.id).await?;
            let Some(deadline) = deadline_for(&me, &assignments, &below) else {
                continue;
            };
            if self
                .store
                .attempts(c.id, me.id)
                .await?
                .iter()
                .any(|a| a.passed)
            {
                continue;
            }
            out.push(LearningTask::Course {
                id: c.id,
                title: c.title,
                deadline,
                overdue: l::overdue(deadline, today),
            });
        }
        if let Some(p) = self
            .store
            .pledges(scope.company_id)
            .await?
            .into_iter()
            .next()
        {
            let accepted = self
                .store
                .pledges_accepted_by(me.id)
                .await?
                .iter()
                .any(|a| a.0 == p.id);
            if !accepted {
                out.push(LearningTask::Pledge {
                    title: p.title,
                    version: p.version,
                });
            }
        }
        Ok(out)
    }

    // ───────────────────────────── reminders ─────────────────────────────

    /// Mails the deadline reminders due today (JST) to everybody who has not passed: 7 days
    /// and 1 day before the deadline and on the first business day after it. Each goes at
    /// most once per person, course and day (`mark_reminder`). Returns the mails queued.
    pub async fn send_learning_reminders(&self) -> Result<usize, AppError> {
        let now = self.clock.now_micros();
        let today = jst_date(now);
        let mut sent = 0;
        let mut by_company: HashMap<i64, (Vec<User>, Below)> = HashMap::new();
        for c in self.store.all_courses().await? {
            let assignments = self.store.assignments(c.id).await?;
            if assignments.is_empty() {
                continue;
            }
            if let std::collections::hash_map::Entry::Vacant(slot) = by_company.entry(c.company_id)
            {
                let users = self.store.list_users(Some(c.company_id)).await?;
                let below = self.learning_below_map(c.company_id).await?;
                slot.insert((users, below));
            }
            let Some((users, below)) = by_company.get(&c.company_id) else {
                continue;
            };
            let passed: Vec<i64> = self.store.passes(c.id).await?.iter().map(|p| p.0).collect();
            for u in users
                .iter()
                .filter(|u| !u.disabled && !passed.contains(&u.id))
            {
                let Some(deadline) = deadline_for(u, &assignments, below) else {
                    continue;
                };
                let Some(r) = l::reminder_due(deadline, today) else {
                    continue;
                };
                let key = format!("course:{}:user:{}:{today}", c.id, u.id);
                if !self.store.mark_reminder("learning", &key, now).await? {
                    continue;
                }
                let when = match r {
                    l::Reminder::Before(n) => format!("受講期限まであと{n}日です"),
                    l::Reminder::Overdue => "受講期限を過ぎています".to_owned(),
                };
                let subject = format!("【eラーニング】「{}」: {when}", c.title);
                let body = format!(
                    "{} 様\n\neラーニング「{}」の受講期限は {} です。{when}。\n\
                     講座を読み、確認テストに合格してください（合格点 {}％）。\n\n{}/programme/courses/{}\n",
                    u.display_name, c.title, deadline, c.pass_mark, self.settings.public_url, c.id
                );
                self.queue_plain_mail(c.company_id, &u.email, &subject, &body)
                    .await?;
                sent += 1;
            }
        }
        Ok(sent)
    }

    // ───────────────────────────── employment types ─────────────────────────────

    /// Sets a user's employment type (administrators, for their company).
    pub async fn set_employment_type(
        &self,
        ctx: &Ctx,
        user_id: i64,
        code: &str,
    ) -> Result<(), AppError> {
        let user = self.get_user_for_admin(ctx, user_id).await?;
        let Some(t) = EmploymentType::parse(code) else {
            return Err(Self::learning_problem(
                "employment_type",
                "雇用形態を選んでください",
                "choose the employment type",
            ));
        };
        let before = self.store.employment_type(user.id).await?;
        if before == t.code() {
            return Ok(());
        }
        self.store.set_employment_type(user.id, t.code()).await?;
        self.audit(
            ctx,
            "admin.users.employment_type",
            &format!("user:{user_id}"),
            Outcome::Success,
            json!({"from": before, "to": t.code()}),
        )
        .await?;
        Ok(())
    }

    /// A user's employment type (for the admin form).
    pub async fn employment_type_of(
        &self,
        ctx: &Ctx,
        user_id: i64,
    ) -> Result<EmploymentType, AppError> {
        let user = self.get_user_for_admin(ctx, user_id).await?;
        Ok(
            EmploymentType::parse(&self.store.employment_type(user.id).await?)
                .unwrap_or(EmploymentType::Regular),
        )
    }

    // ───────────────────────────── pledges ─────────────────────────────

    pub async fn pledge_view(&self, ctx: &Ctx) -> Result<PledgeView, AppError> {
        let scope = self.programme_scope(ctx).await?;
        let versions = self.store.pledges(scope.company_id).await?;
        let current = versions.first().cloned();
        let accepted_at = match &current {
            Some(p) => self
                .store
                .pledges_accepted_by(scope.user_id)
                .await?
                .into_iter()
                .find(|a| a.0 == p.id)
                .map(|a| a.2),
            None => None,
        };
        self.audit(
            ctx,
            "learning.pledge.view",
            "pledge",
            Outcome::Success,
            json!({"version": current.as_ref().map(|p| p.version)}),
        )
        .await?;
        Ok(PledgeView {
            current,
            accepted_at,
            versions: if scope.runs { versions } else { Vec::new() },
            runs: scope.runs,
            sees_figures: scope.sees_figures(),
        })
    }

    /// Publishes a new version of the pledge: everybody is asked to accept it again.
    pub async fn publish_pledge(
        &self,
        ctx: &Ctx,
        title: &str,
        body: &str,
    ) -> Result<i64, AppError> {
        let scope = self.require_runs(ctx, "learning.pledge.publish").await?;
        let mut ps = Problems::new();
        if title.trim().is_empty() {
            ps.push(Problem::new(
                Some("title"),
                "表題を入力してください",
                "enter the title",
            ));
        } else if title.trim().chars().count() > 200 {
            ps.push(Problem::new(
                Some("title"),
                "表題は200文字までです",
                "the title may have at most 200 characters",
            ));
        }
        if body.trim().is_empty() {
            ps.push(Problem::new(
                Some("body"),
                "誓約の本文を入力してください",
                "enter the text of the pledge",
            ));
        } else if body.chars().count() > 20_000 {
            ps.push(Problem::new(
                Some("body"),
                "本文は20,000文字までです",
                "the text may have at most 20,000 characters",
            ));
        }
        ps.done()?;
        let (id, version) = self
            .store
            .insert_pledge(
                scope.company_id,
                title.trim(),
                body.trim(),
                self.clock.now_micros(),
                &ctx.actor_name(),
            )
            .await?;
        self.audit(
            ctx,
            "learning.pledge.publish",
            &format!("pledge:{id}"),
            Outcome::Success,
            json!({"version": version}),
        )
        .await?;
        Ok(version)
    }

    /// Accepts the current version; `version` is the one the person read (a newer one
    /// published meanwhile is refused, so nobody accepts a text they did not see).
    pub async fn accept_pledge(&self, ctx: &Ctx, version: i64) -> Result<(), AppError> {
        let scope = self.programme_scope(ctx).await?;
        let Some(current) = self
            .store
            .pledges(scope.company_id)
            .await?
            .into_iter()
            .next()
        else {
            return Err(AppError::NotFound);
        };
        if current.version != version {
            return Err(Self::learning_problem(
                "version",
                "誓約書が新しい版に改訂されました。新しい本文を読んでから同意してください",
                "the pledge was revised; read the new text before accepting it",
            ));
        }
        let new = self
            .store
            .accept_pledge(current.id, scope.user_id, self.clock.now_micros())
            .await?;
        if new {
            self.audit(
                ctx,
                "learning.pledge.accept",
                &format!("pledge:{}", current.id),
                Outcome::Success,
                json!({"version": version}),
            )
            .await?;
        }
        Ok(())
    }

    /// Who has not accepted the current version, per department (department heads: theirs).
    pub async fn pledge_status(&self, ctx: &Ctx) -> Result<PledgeStatus, AppError> {
        let scope = self.programme_scope(ctx).await?;
        if !scope.sees_figures() || !ctx.allows(Permission::ViewProgramme) {
            self.audit(
                ctx,
                "learning.pledge.status",
                "pledge",
                Outcome::Denied,
                json!({}),
            )
            .await?;
            return Err(AppError::Denied);
        }
        let current = self
            .store
            .pledges(scope.company_id)
            .await?
            .into_iter()
            .next();
        let accepted: Vec<i64> = match &current {
            Some(p) => self
                .store
                .pledge_acceptances(p.id)
                .await?
                .iter()
                .map(|a| a.0)
                .collect(),
            None => Vec::new(),
        };
        let depts = self.learning_dept_names(scope.company_id).await?;
        let types: HashMap<i64, EmploymentType> = self
            .store
            .employment_types(scope.company_id)
            .await?
            .into_iter()
            .map(|(u, t)| {
                (
                    u,
                    EmploymentType::parse(&t).unwrap_or(EmploymentType::Regular),
                )
            })
            .collect();
        let mut per: BTreeMap<String, (usize, usize)> = BTreeMap::new();
        let mut missing = Vec::new();
        for u in self.store.list_users(Some(scope.company_id)).await? {
            if u.disabled || !scope.sees_department(u.department_id) {
                continue;
            }
            let d = dept_name(&depts, u.department_id);
            let e = per.entry(d.clone()).or_default();
            e.0 += 1;
            if accepted.contains(&u.id) {
                e.1 += 1;
            } else {
                missing.push((
                    u.display_name.clone(),
                    d,
                    types.get(&u.id).copied().unwrap_or(EmploymentType::Regular),
                ));
            }
        }
        missing.sort_by(|a, b| (&a.1, &a.0).cmp(&(&b.1, &b.0)));
        self.audit(
            ctx,
            "learning.pledge.status",
            "pledge",
            Outcome::Success,
            json!({"version": current.as_ref().map(|p| p.version), "missing": missing.len()}),
        )
        .await?;
        Ok(PledgeStatus {
            current,
            rows: per.into_iter().map(|(d, (n, a))| (d, n, a)).collect(),
            missing,
        })
    }
}

/// The demo course's bank: `(question, choices, index of the right one, explanation)`. The
/// browser test keeps its own copy of the right answers.
pub const DEMO_BANK: &[(&str, &[&str], usize, &str)] = &[
    // P-mark / APPI (13)
    (
        "個人情報保護法でいう「個人情報」に当たるものはどれですか。",
        &[
            "氏名と勤務先が分かる名刺の情報",
            "匿名の来店者数の集計",
            "公開されている会社の所在地",
        ],
        0,
        "生存する個人を識別できる情報は個人情報です。名刺の情報も含まれます。",
    ),
    (
        "顧客から個人情報を取得するとき、必要なことはどれですか。",
        &[
            "利用目的をあらかじめ公表するか、本人に通知する",
            "利用目的は社内だけで決めておけばよい",
            "取得後1年以内に利用目的を決める",
        ],
        0,
        "利用目的の通知・公表が必要です（法21条）。",
    ),
    (
        "要配慮個人情報（病歴など）を取得するときに原則として必要なものはどれですか。",
        &["本人の同意", "上司の口頭承認", "取得後の事後報告"],
        0,
        "要配慮個人情報の取得には原則として本人の同意が必要です。",
    ),
    (
        "個人データを第三者に提供するとき、原則として必要なものはどれですか。",
        &["本人の同意", "提供先の社名の記録だけ", "特に何も必要ない"],
        0,
        "第三者提供には原則として本人の同意が必要です（法27条）。",
    ),
    (
        "個人データの漏えいのおそれに気づいたとき、最初にすることはどれですか。",
        &[
            "すぐに上長と個人情報保護事務局に報告する",
            "自分で原因が分かるまで様子を見る",
            "関係するファイルを削除して痕跡を消す",
        ],
        0,
        "小さなことでもすぐに報告します。報告の遅れが被害を広げます。",
    ),
    (
        "個人情報保護委員会への漏えい等の速報の期限の目安はどれですか。",
        &[
            "事態を知ってからおおむね3〜5日以内",
            "事態を知ってから60日以内",
            "期限はない",
        ],
        0,
        "速報はおおむね3〜5日以内、確報は30日（不正目的は60日）以内です。",
    ),
    (
        "本人から自分の個人データの開示を求められたときの対応として正しいものはどれですか。",
        &[
            "本人確認をしたうえで、窓口の手順に従って対応する",
            "電話口で求められた内容をすぐに読み上げる",
            "開示請求には応じなくてよい",
        ],
        0,
        "本人確認のうえ、定められた手順で対応します。",
    ),
    (
        "委託先に個人データの取扱いを任せるとき、会社の義務はどれですか。",
        &[
            "委託先を必要かつ適切に監督する",
            "委託したら責任は委託先だけに移る",
            "契約書は不要",
        ],
        0,
        "委託先の監督は委託元の義務です（法25条）。",
    ),
    (
        "個人情報を含む書類を捨てるときの正しい方法はどれですか。",
        &[
            "シュレッダーにかけるか溶解処理に出す",
            "一般ごみとして捨てる",
            "裏紙としてメモに使う",
        ],
        0,
        "復元できない方法で廃棄します。",
    ),
    (
        "JIS Q 15001（プライバシーマーク）で求められている教育の頻度はどれですか。",
        &[
            "少なくとも年1回、全従業者に",
            "入社時の1回だけ",
            "管理職だけ3年に1回",
        ],
        0,
        "全従業者（派遣社員等を含む）への定期的な教育が求められます。",
    ),
    (
        "派遣社員やアルバイトは個人情報保護の教育の対象ですか。",
        &["対象である", "対象ではない", "本人が希望した場合だけ対象"],
        0,
        "個人情報を取り扱うすべての従業者が対象です。",
    ),
    (
        "保有個人データの利用目的を変更するときの正しい対応はどれですか。",
        &[
            "変更前と関連性のある範囲で変更し、本人に通知または公表する",
            "自由に変更でき、通知も不要",
            "変更は一切できない",
        ],
        0,
        "関連性を有すると合理的に認められる範囲で変更でき、通知・公表が必要です。",
    ),
    (
        "個人情報管理台帳について正しいものはどれですか。",
        &[
            "取り扱う個人情報を特定し、定期的に見直す",
            "作成すれば見直しは不要",
            "システム部だけが知っていればよい",
        ],
        0,
        "台帳は年に1回以上見直します。",
    ),
    // ISMS (13)
    (
        "パスワードの扱いとして正しいものはどれですか。",
        &[
            "他人に教えず、使い回さない",
            "覚えやすいように付箋でモニターに貼る",
            "同僚と共有して業務を効率化する",
        ],
        0,
        "パスワードは本人だけが知るものです。",
    ),
    (
        "不審なメールの添付ファイルを開いてしまったとき、最初にすることはどれですか。",
        &[
            "ネットワークから切り離し、すぐにシステム部に連絡する",
            "そのまま仕事を続ける",
            "パソコンを初期化してから報告する",
        ],
        0,
        "被害の拡大を防ぎ、証拠を残すため、すぐに連絡します。",
    ),
    (
        "離席するときにパソコンで行うべきことはどれですか。",
        &[
            "画面をロックする",
            "画面を開いたままにする",
            "電源ケーブルを抜く",
        ],
        0,
        "Windows キー＋L などで必ずロックします。",
    ),
    (
        "個人情報を社外に持ち出すときに必要なことはどれですか。",
        &[
            "所定の申請をして承認を受け、暗号化した媒体を使う",
            "自分の判断で USB メモリにコピーする",
            "私用のクラウドストレージに保存する",
        ],
        0,
        "持ち出しは承認制で、暗号化が必要です。",
    ),
    (
        "クリアデスクとは何ですか。",
        &[
            "退社時や離席時に机の上に書類や媒体を放置しないこと",
            "机を毎日消毒すること",
            "机の配置を定期的に変えること",
        ],
        0,
        "書類や媒体は施錠できる場所にしまいます。",
    ),
    (
        "メールを送る前に確認すべきことはどれですか。",
        &[
            "宛先・添付ファイルが正しいか",
            "件名の文字数だけ",
            "送信時刻だけ",
        ],
        0,
        "誤送信は漏えいの大きな原因です。宛先と添付を必ず確認します。",
    ),
    (
        "複数の社外の人に一斉にメールを送るときの正しい方法はどれですか。",
        &[
            "BCC を使うか、一斉配信の仕組みを使う",
            "全員を TO に入れる",
            "全員を CC に入れる",
        ],
        0,
        "TO や CC ではほかの受信者のアドレスが漏えいします。",
    ),
    (
        "業務用ノートパソコンを紛失したときの対応として正しいものはどれですか。",
        &[
            "すぐに上長とシステム部に報告し、遠隔ロックやワイプを依頼する",
            "見つかるまで誰にも言わない",
            "翌週の定例会議で報告する",
        ],
        0,
        "紛失は漏えいのおそれとして直ちに報告します。",
    ),
    (
        "ソフトウェアの更新（セキュリティパッチ）について正しいものはどれですか。",
        &[
            "配信されたら速やかに適用する",
            "不具合が怖いので適用しない",
            "年に1回まとめて適用すれば十分",
        ],
        0,
        "脆弱性を突かれないよう速やかに適用します。",
    ),
    (
        "社内で見知らぬ人がカードをかざさずに後ろからついて入ろうとしたときの対応はどれですか。",
        &[
            "声をかけて用件を確認し、必要なら受付や総務に連絡する",
            "気まずいのでそのまま通す",
            "後で誰かが対応するので何もしない",
        ],
        0,
        "共連れは不正侵入の典型的な手口です。",
    ),
    (
        "USB メモリを社内のパソコンにつなぐときの決まりとして正しいものはどれですか。",
        &[
            "会社が貸し出した暗号化 USB メモリだけを使う",
            "拾った USB メモリの中身を確認する",
            "私物の USB メモリを自由に使う",
        ],
        0,
        "私物や出所不明の媒体はマルウェア感染の原因です。",
    ),
    (
        "情報セキュリティインシデントを報告しなかった場合の問題として正しいものはどれですか。",
        &[
            "被害が広がり、法令上の報告期限にも間に合わなくなる",
            "報告しない方が会社の評判を守れる",
            "特に問題はない",
        ],
        0,
        "早い報告が被害を小さくします。",
    ),
    (
        "公共の場所（電車やカフェ）での仕事について正しいものはどれですか。",
        &[
            "のぞき見や会話の盗み聞きに注意し、個人情報は扱わない",
            "周りに人がいても気にしない",
            "公衆 Wi-Fi で社内システムに自由に接続する",
        ],
        0,
        "のぞき見防止フィルターを使い、機密の話はしません。",
    ),
];

/// Demo pages of the course.
const DEMO_PAGES: &[(&str, &str)] = &[
    ("はじめに", "# 2026年度 個人情報保護・情報セキュリティ教育\n\nこの講座は、**全従業者**（正社員・契約社員・派遣社員・パート・アルバイト・出向者）が年に1回受講します。\n\n- 所要時間: 約30分\n- 最後に確認テスト（20問、80％以上で合格）があります\n- 不合格でも、合格するまで何度でも受けられます\n\n分からないことは[個人情報保護事務局](/programme)に相談してください。"),
    ("個人情報とは", "## 個人情報と個人データ\n\n**個人情報**は、生存する個人を識別できる情報です（氏名、顔写真、メールアドレスなど）。\n\n> 名刺1枚も個人情報です。\n\n要配慮個人情報（病歴、犯罪歴など）は、取得に本人の同意が必要です。\n\n詳しくは[個人情報保護委員会のサイト](https://www.ppc.go.jp/)を見てください。"),
    ("漏えいを防ぐ毎日の習慣", "## 毎日の5つの習慣\n\n1. 離席時は画面をロック（Windows キー＋L）\n2. メールの宛先と添付を送信前に確認\n3. 社外への一斉送信は BCC\n4. 持ち出しは申請と承認、暗号化した媒体で\n5. 退社時はクリアデスク\n\n## もしものときは\n\n漏えいのおそれに気づいたら、**すぐに**上長と個人情報保護事務局に報告してください。"),
];

impl App {
    /// The demo's e-learning: the 2026 course (three pages, a bank of 26 questions: 13 on
    /// the APPI / P-mark, 13 on information security), assigned to everybody; a pledge; two
    /// temporary staff; a few people who already passed or accepted.
    pub async fn seed_demo_learning(&self) -> Result<(), AppError> {
        if self.store.get_setting("demo.learning").await?.is_some() {
            return Ok(());
        }
        let Some(company) = self.store.list_companies().await?.into_iter().next() else {
            return Ok(());
        };
        let user = |login: &'static str| async move { self.store.find_user_by_login(login).await };
        let Some(tanaka) = user("tanaka").await? else {
            return Ok(());
        };
        let office = Ctx::user(tanaka.clone(), "demo");
        let local = Ctx::local();
        let depts = self.store.list_departments(company.id).await?;
        let dept = |name: &str| depts.iter().find(|d| d.name == name).map_or(0, |d| d.id);
        // Temporary staff: two agency workers and a part-timer besides the demo logins.
        if let Some(ito) = user("ito").await? {
            self.store
                .set_employment_type(ito.id, EmploymentType::Temporary.code())
                .await?;
        }
        if let Some(k) = user("kobayashi").await? {
            self.store
                .set_employment_type(k.id, EmploymentType::Contract.code())
                .await?;
        }
        for (login, name, d, t) in [
            (
                "sato",
                "佐藤 由美",
                "カスタマーサポート課",
                EmploymentType::Temporary,
            ),
            ("nakamura", "中村 亮", "物流課", EmploymentType::PartTime),
        ] {
            if user(login).await?.is_some() || dept(d) == 0 {
                continue;
            }
            let id = self
                .create_user(
                    &local,
                    &crate::admin::UserInput {
                        company_id: Some(company.id),
                        department_id: dept(d),
                        login: login.into(),
                        display_name: name.into(),
                        email: format!("{login}@mirai-tsuhan.example"),
                        roles: vec![Role::Staff],
                        password: None,
                        locale: "ja".into(),
                    },
                )
                .await?
                .0;
            self.store.set_employment_type(id, t.code()).await?;
        }
        let course = self
            .create_course(
                &office,
                &CourseInput {
                    title: "個人情報保護・情報セキュリティ教育".into(),
                    summary: "全従業者が年に1回受講する教育です。確認テストに80％以上で合格してください。".into(),
                    year: "2026".into(),
                    pass_mark: "80".into(),
                    questions: "20".into(),
                },
            )
            .await?;
        for (title, body) in DEMO_PAGES {
            self.add_page(&office, course, title, body).await?;
        }
        for (i, (text, choices, correct, explanation)) in DEMO_BANK.iter().enumerate() {
            // The bank lists the right answer first; stored, it moves round the places.
            let mut choices: Vec<String> = choices.iter().map(|c| (*c).to_owned()).collect();
            let turn = i % choices.len();
            choices.rotate_right(turn);
            self.save_question(
                &office,
                course,
                None,
                &QuestionInput {
                    text: (*text).into(),
                    choices,
                    correct: Some((correct + turn) % DEMO_BANK[i].1.len() + 1),
                    explanation: (*explanation).into(),
                },
            )
            .await?;
        }
        self.assign_course(&office, course, "all", "2027-01-29")
            .await?;
        // Some people passed already.
        for login in ["tanaka", "suzuki", "watanabe"] {
            let Some(u) = user(login).await? else {
                continue;
            };
            let ctx = Ctx::user(u, "demo");
            let attempt = self.start_attempt(&ctx, course).await?;
            let v = self.attempt_view(&ctx, course, attempt).await?;
            let bank = self.store.questions(course).await?;
            let answers: Vec<Option<usize>> = v
                .questions
                .iter()
                .map(|q| {
                    let right = bank
                        .iter()
                        .find(|b| b.text == q.text)
                        .map(|b| b.choices[usize::try_from(b.correct).unwrap_or(0)].clone());
                    q.choices.iter().position(|c| Some(c) == right.as_ref())
                })
                .collect();
            self.submit_attempt(&ctx, course, attempt, &answers).await?;
        }
        self.publish_pledge(
            &office,
            "個人情報の取扱いに関する誓約書",
            "私は、株式会社みらい通販の業務に従事するにあたり、次の事項を守ることを誓約します。\n\n\
             1. 業務上知り得た個人情報を、業務の目的以外に利用しません。\n\
             2. 個人情報を、会社の許可なく複製したり、社外に持ち出したりしません。\n\
             3. 個人情報保護規程と情報セキュリティ規程を守ります。\n\
             4. 個人情報の漏えいやそのおそれに気づいたときは、直ちに上長と個人情報保護事務局に報告します。\n\
             5. この義務は、退職後または派遣・委託の契約が終わった後も続きます。",
        )
        .await?;
        for login in ["tanaka", "suzuki", "takahashi"] {
            if let Some(u) = user(login).await? {
                self.accept_pledge(&Ctx::user(u, "demo"), 1).await?;
            }
        }
        self.store.set_setting("demo.learning", "1").await?;
        Ok(())
    }
}
