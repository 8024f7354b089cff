//! E-learning and pledges (issue 17, part 2): courses with pages, images and a question bank,
//! their assignments, the attempts people make, the pledge versions and their acceptances,
//! and the employment type of a user.
//!
//! A question is never changed: a changed question is a new row and the old one is retired,
//! so an attempt shown again shows what was asked. An attempt is written when it starts (its
//! seed and drawn order) and once more when it is submitted (a conditional UPDATE, so it is
//! submitted once). Pledge versions and acceptances are append-only (triggers).

use crate::{Result, Store, StoreError};
use sqlx::any::AnyRow;
use sqlx::Row;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CourseRow {
    pub id: i64,
    pub company_id: i64,
    pub year: i64,
    pub title: String,
    pub summary: String,
    pub pass_mark: i64,
    pub questions: i64,
    pub copied_from: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

macro_rules! course_cols {
    () => {
        "id, company_id, year, title, summary, pass_mark, questions, copied_from, created_at, \
         updated_at"
    };
}

fn course_from_row(r: &AnyRow) -> CourseRow {
    CourseRow {
        id: r.get(0),
        company_id: r.get(1),
        year: r.get(2),
        title: r.get(3),
        summary: r.get(4),
        pass_mark: r.get(5),
        questions: r.get(6),
        copied_from: r.get(7),
        created_at: r.get(8),
        updated_at: r.get(9),
    }
}

/// A course's settings.
#[derive(Debug, Clone, Default)]
pub struct CourseFields {
    pub year: i64,
    pub title: String,
    pub summary: String,
    pub pass_mark: i64,
    pub questions: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRow {
    pub id: i64,
    pub course_id: i64,
    pub position: i64,
    pub title: String,
    pub body: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRow {
    pub id: i64,
    pub course_id: i64,
    pub name: String,
    pub content_type: String,
    pub size: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuestionRow {
    pub id: i64,
    pub course_id: i64,
    pub position: i64,
    pub text: String,
    pub choices: Vec<String>,
    pub correct: i64,
    pub explanation: String,
    pub retired_at: Option<i64>,
}

fn question_from_row(r: &AnyRow) -> Result<QuestionRow> {
    let choices: String = r.get(4);
    Ok(QuestionRow {
        id: r.get(0),
        course_id: r.get(1),
        position: r.get(2),
        text: r.get(3),
        choices: serde_json::from_str(&choices)
            .map_err(|e| StoreError::Corrupt(format!("question choices: {e}")))?,
        correct: r.get(5),
        explanation: r.get(6),
        retired_at: r.get(7),
    })
}

/// A question to store.
#[derive(Debug, Clone)]
pub struct NewQuestion<'a> {
    pub text: &'a str,
    pub choices: &'a [String],
    pub correct: i64,
    pub explanation: &'a str,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssignmentRow {
    pub id: i64,
    pub course_id: i64,
    pub kind: String,
    pub department_id: Option<i64>,
    pub role: Option<String>,
    pub deadline: String,
    pub created_at: i64,
}

fn assignment_from_row(r: &AnyRow) -> AssignmentRow {
    AssignmentRow {
        id: r.get(0),
        course_id: r.get(1),
        kind: r.get(2),
        department_id: r.get(3),
        role: r.get(4),
        deadline: r.get(5),
        created_at: r.get(6),
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptRow {
    pub id: i64,
    pub course_id: i64,
    pub user_id: i64,
    pub seed: u64,
    /// JSON `[[question id, [choice order]], …]`.
    pub drawn: String,
    pub started_at: i64,
    pub submitted_at: Option<i64>,
    /// JSON `[stored choice index, …]` in the drawn order.
    pub answers: Option<String>,
    pub correct: Option<i64>,
    pub total: i64,
    pub passed: bool,
}

macro_rules! attempt_cols {
    () => {
        "id, course_id, user_id, seed, drawn, started_at, submitted_at, answers, correct, total, \
         passed"
    };
}

fn attempt_from_row(r: &AnyRow) -> AttemptRow {
    let seed: String = r.get(3);
    AttemptRow {
        id: r.get(0),
        course_id: r.get(1),
        user_id: r.get(2),
        seed: seed.parse().unwrap_or(0),
        drawn: r.get(4),
        started_at: r.get(5),
        submitted_at: r.get(6),
        answers: r.get(7),
        correct: r.get(8),
        total: r.get(9),
        passed: r.get::<i64, _>(10) != 0,
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PledgeRow {
    pub id: i64,
    pub company_id: i64,
    pub version: i64,
    pub title: String,
    pub body: String,
    pub published_at: i64,
    pub published_by: String,
}

fn pledge_from_row(r: &AnyRow) -> PledgeRow {
    PledgeRow {
        id: r.get(0),
        company_id: r.get(1),
        version: r.get(2),
        title: r.get(3),
        body: r.get(4),
        published_at: r.get(5),
        published_by: r.get(6),
    }
}

impl Store {
    // ───────────────────────────── courses ─────────────────────────────

    pub async fn insert_course(
        &self,
        company_id: i64,
        f: &CourseFields,
        now: i64,
        by: &str,
    ) -> Result<i64> {
        sqlx::query_scalar(
            "INSERT INTO courses (company_id, year, title, summary, pass_mark, questions, \
             created_at, created_by, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $7) \
             RETURNING id",
        )
        .bind(company_id)
        .bind(f.year)
        .bind(&f.title)
        .bind(&f.summary)
        .bind(f.pass_mark)
        .bind(f.questions)
        .bind(now)
        .bind(by)
        .fetch_one(self.pool())
        .await
        .map_err(|e| StoreError::from_sqlx(e, "title"))
    }

    pub async fn update_course(&self, id: i64, f: &CourseFields, now: i64) -> Result<()> {
        let r = sqlx::query(
            "UPDATE courses SET year = $1, title = $2, summary = $3, pass_mark = $4, \
             questions = $5, updated_at = $6 WHERE id = $7",
        )
        .bind(f.year)
        .bind(&f.title)
        .bind(&f.summary)
        .bind(f.pass_mark)
        .bind(f.questions)
        .bind(now)
        .bind(id)
        .execute(self.pool())
        .await
        .map_err(|e| StoreError::from_sqlx(e, "title"))?;
        if r.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    pub async fn course(&self, id: i64) -> Result<CourseRow> {
        let r = sqlx::query(concat!(
            "SELECT ",
            course_cols!(),
            " FROM courses WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::NotFound)?;
        Ok(course_from_row(&r))
    }

    /// A company's courses, newest year first.
    pub async fn courses(&self, company_id: i64) -> Result<Vec<CourseRow>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            course_cols!(),
            " FROM courses WHERE company_id = $1 ORDER BY year DESC, title, id"
        ))
        .bind(company_id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.iter().map(course_from_row).collect())
    }

    /// Every course of every company (for the reminders).
    pub async fn all_courses(&self) -> Result<Vec<CourseRow>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            course_cols!(),
            " FROM courses ORDER BY id"
        ))
        .fetch_all(self.pool())
        .await?;
        Ok(rows.iter().map(course_from_row).collect())
    }

    /// Copies a course into another year with its pages, images and current questions (not
    /// its assignments: a new year has new deadlines). Returns the new course's id.
    pub async fn copy_course(&self, id: i64, year: i64, now: i64, by: &str) -> Result<i64> {
        let mut tx = self.pool().begin().await?;
        let new_id: i64 = sqlx::query_scalar(
            "INSERT INTO courses (company_id, year, title, summary, pass_mark, questions, \
             copied_from, created_at, created_by, updated_at) \
             SELECT company_id, $1, title, summary, pass_mark, questions, id, $2, $3, $2 \
             FROM courses WHERE id = $4 RETURNING id",
        )
        .bind(year)
        .bind(now)
        .bind(by)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(|e| StoreError::from_sqlx(e, "title"))?
        .ok_or(StoreError::NotFound)?;
        sqlx::query(
            "INSERT INTO course_pages (course_id, position, title, body, updated_at, updated_by) \
             SELECT $1, position, title, body, $2, $3 FROM course_pages WHERE course_id = $4",
        )
        .bind(new_id)
        .bind(now)
        .bind(by)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO course_questions (course_id, position, text, choices, correct, \
             explanation, created_at, created_by) \
             SELECT $1, position, text, choices, correct, explanation, $2, $3 \
             FROM course_questions WHERE course_id = $4 AND retired_at IS NULL",
        )
        .bind(new_id)
        .bind(now)
        .bind(by)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        // Images are copied too, and the copied pages point at the copies (a page refers to
        // an image by its path, `/programme/courses/{course}/images/{image}`).
        let old_images: Vec<i64> =
            sqlx::query_scalar("SELECT id FROM course_images WHERE course_id = $1 ORDER BY id")
                .bind(id)
                .fetch_all(&mut *tx)
                .await?;
        let mut moves = Vec::new();
        for old in old_images {
            let new: i64 = sqlx::query_scalar(
                "INSERT INTO course_images (course_id, name, content_type, bytes, created_at, \
                 created_by) SELECT $1, name, content_type, bytes, $2, $3 FROM course_images \
                 WHERE id = $4 RETURNING id",
            )
            .bind(new_id)
            .bind(now)
            .bind(by)
            .bind(old)
            .fetch_one(&mut *tx)
            .await?;
            moves.push((
                format!("/programme/courses/{id}/images/{old})"),
                format!("/programme/courses/{new_id}/images/{new})"),
            ));
        }
        if !moves.is_empty() {
            let pages = sqlx::query("SELECT id, body FROM course_pages WHERE course_id = $1")
                .bind(new_id)
                .fetch_all(&mut *tx)
                .await?;
            for p in pages {
                let (pid, body): (i64, String) = (p.get(0), p.get(1));
                let mut text = body.clone();
                for (from, to) in &moves {
                    text = text.replace(from.as_str(), to);
                }
                if text != body {
                    sqlx::query("UPDATE course_pages SET body = $1 WHERE id = $2")
                        .bind(text)
                        .bind(pid)
                        .execute(&mut *tx)
                        .await?;
                }
            }
        }
        tx.commit().await?;
        Ok(new_id)
    }

    // ───────────────────────────── pages ─────────────────────────────

    pub async fn insert_page(
        &self,
        course_id: i64,
        title: &str,
        body: &str,
        now: i64,
        by: &str,
    ) -> Result<i64> {
        let mut tx = self.pool().begin().await?;
        sqlx::query("UPDATE courses SET updated_at = $1 WHERE id = $2")
            .bind(now)
            .bind(course_id)
            .execute(&mut *tx)
            .await?;
        let id = sqlx::query_scalar(
            "INSERT INTO course_pages (course_id, position, title, body, updated_at, updated_by) \
             VALUES ($1, (SELECT COALESCE(MAX(position), 0) + 1 FROM course_pages \
             WHERE course_id = $1), $2, $3, $4, $5) RETURNING id",
        )
        .bind(course_id)
        .bind(title)
        .bind(body)
        .bind(now)
        .bind(by)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    pub async fn update_page(
        &self,
        id: i64,
        title: &str,
        body: &str,
        now: i64,
        by: &str,
    ) -> Result<()> {
        let r = sqlx::query(
            "UPDATE course_pages SET title = $1, body = $2, updated_at = $3, updated_by = $4 \
             WHERE id = $5",
        )
        .bind(title)
        .bind(body)
        .bind(now)
        .bind(by)
        .bind(id)
        .execute(self.pool())
        .await?;
        if r.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    pub async fn delete_page(&self, id: i64) -> Result<()> {
        sqlx::query("DELETE FROM course_pages WHERE id = $1")
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    pub async fn pages(&self, course_id: i64) -> Result<Vec<PageRow>> {
        let rows = sqlx::query(
            "SELECT id, course_id, position, title, body FROM course_pages WHERE course_id = $1 \
             ORDER BY position, id",
        )
        .bind(course_id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .iter()
            .map(|r| PageRow {
                id: r.get(0),
                course_id: r.get(1),
                position: r.get(2),
                title: r.get(3),
                body: r.get(4),
            })
            .collect())
    }

    // ───────────────────────────── images ─────────────────────────────

    pub async fn insert_image(
        &self,
        course_id: i64,
        name: &str,
        content_type: &str,
        bytes: &[u8],
        now: i64,
        by: &str,
    ) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "INSERT INTO course_images (course_id, name, content_type, bytes, created_at, \
             created_by) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(course_id)
        .bind(name)
        .bind(content_type)
        .bind(bytes)
        .bind(now)
        .bind(by)
        .fetch_one(self.pool())
        .await?)
    }

    pub async fn images(&self, course_id: i64) -> Result<Vec<ImageRow>> {
        let rows = sqlx::query(
            "SELECT id, course_id, name, content_type, LENGTH(bytes) FROM course_images \
             WHERE course_id = $1 ORDER BY id",
        )
        .bind(course_id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .iter()
            .map(|r| ImageRow {
                id: r.get(0),
                course_id: r.get(1),
                name: r.get(2),
                content_type: r.get(3),
                size: r.get::<i64, _>(4),
            })
            .collect())
    }

    /// An image and its bytes.
    pub async fn image(&self, id: i64) -> Result<(ImageRow, Vec<u8>)> {
        let r = sqlx::query(
            "SELECT id, course_id, name, content_type, bytes FROM course_images WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::NotFound)?;
        let bytes: Vec<u8> = r.get(4);
        Ok((
            ImageRow {
                id: r.get(0),
                course_id: r.get(1),
                name: r.get(2),
                content_type: r.get(3),
                size: i64::try_from(bytes.len()).unwrap_or(i64::MAX),
            },
            bytes,
        ))
    }

    // ───────────────────────────── questions ─────────────────────────────

    /// Adds a question at the end of the bank, or at `position` (a changed question keeps its
    /// place).
    pub async fn insert_question(
        &self,
        course_id: i64,
        position: Option<i64>,
        q: &NewQuestion<'_>,
        now: i64,
        by: &str,
    ) -> Result<i64> {
        let choices = serde_json::to_string(q.choices)
            .map_err(|e| StoreError::Corrupt(format!("question choices: {e}")))?;
        Ok(sqlx::query_scalar(
            "INSERT INTO course_questions (course_id, position, text, choices, correct, \
             explanation, created_at, created_by) VALUES ($1, COALESCE($2, (SELECT \
             COALESCE(MAX(position), 0) + 1 FROM course_questions WHERE course_id = $1)), \
             $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(course_id)
        .bind(position)
        .bind(q.text)
        .bind(choices)
        .bind(q.correct)
        .bind(q.explanation)
        .bind(now)
        .bind(by)
        .fetch_one(self.pool())
        .await?)
    }

    /// Retires a question (it stays for the attempts that asked it). False when it was
    /// retired already.
    pub async fn retire_question(&self, id: i64, now: i64) -> Result<bool> {
        let r = sqlx::query(
            "UPDATE course_questions SET retired_at = $1 WHERE id = $2 AND retired_at IS NULL",
        )
        .bind(now)
        .bind(id)
        .execute(self.pool())
        .await?;
        Ok(r.rows_affected() == 1)
    }

    /// Every question of a course, retired ones included, in bank order.
    pub async fn questions(&self, course_id: i64) -> Result<Vec<QuestionRow>> {
        let rows = sqlx::query(
            "SELECT id, course_id, position, text, choices, correct, explanation, retired_at \
             FROM course_questions WHERE course_id = $1 ORDER BY position, id",
        )
        .bind(course_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(question_from_row).collect()
    }

    // ───────────────────────────── assignments ─────────────────────────────

    pub async fn insert_assignment(
        &self,
        course_id: i64,
        parts: (&str, Option<i64>, Option<&str>),
        deadline: &str,
        now: i64,
        by: &str,
    ) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "INSERT INTO course_assignments (course_id, kind, department_id, role, deadline, \
             created_at, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(course_id)
        .bind(parts.0)
        .bind(parts.1)
        .bind(parts.2)
        .bind(deadline)
        .bind(now)
        .bind(by)
        .fetch_one(self.pool())
        .await?)
    }

    pub async fn delete_assignment(&self, course_id: i64, id: i64) -> Result<bool> {
        let r = sqlx::query("DELETE FROM course_assignments WHERE id = $1 AND course_id = $2")
            .bind(id)
            .bind(course_id)
            .execute(self.pool())
            .await?;
        Ok(r.rows_affected() == 1)
    }

    pub async fn assignments(&self, course_id: i64) -> Result<Vec<AssignmentRow>> {
        let rows = sqlx::query(
            "SELECT id, course_id, kind, department_id, role, deadline, created_at \
             FROM course_assignments WHERE course_id = $1 ORDER BY id",
        )
        .bind(course_id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.iter().map(assignment_from_row).collect())
    }

    /// Every assignment of a company's courses.
    pub async fn company_assignments(&self, company_id: i64) -> Result<Vec<AssignmentRow>> {
        let rows = sqlx::query(
            "SELECT a.id, a.course_id, a.kind, a.department_id, a.role, a.deadline, a.created_at \
             FROM course_assignments a JOIN courses c ON c.id = a.course_id \
             WHERE c.company_id = $1 ORDER BY a.id",
        )
        .bind(company_id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.iter().map(assignment_from_row).collect())
    }

    // ───────────────────────────── attempts ─────────────────────────────

    pub async fn insert_attempt(
        &self,
        course_id: i64,
        user_id: i64,
        seed: u64,
        drawn: &str,
        total: i64,
        now: i64,
    ) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "INSERT INTO course_attempts (course_id, user_id, seed, drawn, started_at, total) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(course_id)
        .bind(user_id)
        .bind(seed.to_string())
        .bind(drawn)
        .bind(now)
        .bind(total)
        .fetch_one(self.pool())
        .await?)
    }

    pub async fn attempt(&self, id: i64) -> Result<AttemptRow> {
        let r = sqlx::query(concat!(
            "SELECT ",
            attempt_cols!(),
            " FROM course_attempts WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::NotFound)?;
        Ok(attempt_from_row(&r))
    }

    /// One person's attempts at a course, oldest first.
    pub async fn attempts(&self, course_id: i64, user_id: i64) -> Result<Vec<AttemptRow>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            attempt_cols!(),
            " FROM course_attempts WHERE course_id = $1 AND user_id = $2 ORDER BY id"
        ))
        .bind(course_id)
        .bind(user_id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.iter().map(attempt_from_row).collect())
    }

    /// Records the answers of an attempt not yet submitted. False when it was submitted
    /// already (a second tab, a double click).
    pub async fn submit_attempt(
        &self,
        id: i64,
        answers: &str,
        correct: i64,
        passed: bool,
        now: i64,
    ) -> Result<bool> {
        let r = sqlx::query(
            "UPDATE course_attempts SET submitted_at = $1, answers = $2, correct = $3, \
             passed = $4 WHERE id = $5 AND submitted_at IS NULL",
        )
        .bind(now)
        .bind(answers)
        .bind(correct)
        .bind(i64::from(passed))
        .bind(id)
        .execute(self.pool())
        .await?;
        Ok(r.rows_affected() == 1)
    }

    /// The first passed attempt of each person who passed a course: `(user, attempt id,
    /// submitted at)`.
    pub async fn passes(&self, course_id: i64) -> Result<Vec<(i64, i64, i64)>> {
        let rows = sqlx::query(
            "SELECT user_id, MIN(id), MIN(submitted_at) FROM course_attempts \
             WHERE course_id = $1 AND passed = 1 GROUP BY user_id",
        )
        .bind(course_id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect())
    }

    // ───────────────────────────── employment types ─────────────────────────────

    pub async fn set_employment_type(&self, user_id: i64, code: &str) -> Result<()> {
        let r = sqlx::query("UPDATE users SET employment_type = $1 WHERE id = $2")
            .bind(code)
            .bind(user_id)
            .execute(self.pool())
            .await?;
        if r.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    pub async fn employment_type(&self, user_id: i64) -> Result<String> {
        sqlx::query_scalar("SELECT employment_type FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_optional(self.pool())
            .await?
            .ok_or(StoreError::NotFound)
    }

    /// `(user id, employment type)` of a company's users.
    pub async fn employment_types(&self, company_id: i64) -> Result<Vec<(i64, String)>> {
        let rows =
            sqlx::query("SELECT id, employment_type FROM users WHERE company_id = $1 ORDER BY id")
                .bind(company_id)
                .fetch_all(self.pool())
                .await?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    // ───────────────────────────── pledges ─────────────────────────────

    /// Publishes a new version of the company's pledge; returns `(id, version)`.
    pub async fn insert_pledge(
        &self,
        company_id: i64,
        title: &str,
        body: &str,
        now: i64,
        by: &str,
    ) -> Result<(i64, i64)> {
        let mut tx = self.pool().begin().await?;
        // Begins with a write (ARCHITECTURE: a transaction that reads and then writes), so two
        // publications get different versions.
        sqlx::query("UPDATE companies SET name = name WHERE id = $1")
            .bind(company_id)
            .execute(&mut *tx)
            .await?;
        let version: i64 = sqlx::query_scalar(
            "SELECT COALESCE(MAX(version), 0) + 1 FROM pledges WHERE company_id = $1",
        )
        .bind(company_id)
        .fetch_one(&mut *tx)
        .await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO pledges (company_id, version, title, body, published_at, published_by) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(company_id)
        .bind(version)
        .bind(title)
        .bind(body)
        .bind(now)
        .bind(by)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| StoreError::from_sqlx(e, "version"))?;
        tx.commit().await?;
        Ok((id, version))
    }

    /// A company's pledge versions, newest first.
    pub async fn pledges(&self, company_id: i64) -> Result<Vec<PledgeRow>> {
        let rows = sqlx::query(
            "SELECT id, company_id, version, title, body, published_at, published_by \
             FROM pledges WHERE company_id = $1 ORDER BY version DESC",
        )
        .bind(company_id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.iter().map(pledge_from_row).collect())
    }

    pub async fn pledge(&self, id: i64) -> Result<PledgeRow> {
        let r = sqlx::query(
            "SELECT id, company_id, version, title, body, published_at, published_by \
             FROM pledges WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::NotFound)?;
        Ok(pledge_from_row(&r))
    }

    /// Records that a person accepted a pledge version. False when they had already.
    pub async fn accept_pledge(&self, pledge_id: i64, user_id: i64, now: i64) -> Result<bool> {
        let r = sqlx::query(
            "INSERT INTO pledge_acceptances (pledge_id, user_id, accepted_at) VALUES ($1, $2, $3) \
             ON CONFLICT (pledge_id, user_id) DO NOTHING",
        )
        .bind(pledge_id)
        .bind(user_id)
        .bind(now)
        .execute(self.pool())
        .await?;
        Ok(r.rows_affected() == 1)
    }

    /// `(user id, accepted at)` of everybody who accepted a version.
    pub async fn pledge_acceptances(&self, pledge_id: i64) -> Result<Vec<(i64, i64)>> {
        let rows = sqlx::query(
            "SELECT user_id, accepted_at FROM pledge_acceptances WHERE pledge_id = $1 \
             ORDER BY user_id",
        )
        .bind(pledge_id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    /// `(pledge id, version, accepted at)` of one person's acceptances, newest first.
    pub async fn pledges_accepted_by(&self, user_id: i64) -> Result<Vec<(i64, i64, i64)>> {
        let rows = sqlx::query(
            "SELECT p.id, p.version, a.accepted_at FROM pledge_acceptances a \
             JOIN pledges p ON p.id = a.pledge_id WHERE a.user_id = $1 ORDER BY p.version DESC",
        )
        .bind(user_id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect())
    }
}
