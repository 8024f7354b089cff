//! Self-inspections (issue 17 part 1): the schedule, question sets in versions, monthly rounds,
//! answers, the counts per department and item, and follow-up interviews.
//!
//! An answer and its counts are written in one transaction: the answer row (unique per round,
//! audience and person, so a second submission is refused by the database, not by a race),
//! then the per-item counts of its department and the department's number of answers, both
//! added to with `ON CONFLICT … DO UPDATE`. Pages read the counts, never the answers, for
//! figures.

use crate::{Result, Store};
use sqlx::any::AnyRow;
use sqlx::Row;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleRow {
    pub company_id: i64,
    pub day_of_month: i64,
    pub enabled: bool,
    pub updated_at: i64,
    pub updated_by: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetRow {
    pub id: i64,
    pub company_id: i64,
    pub audience: String,
    pub version: i64,
    /// JSON `[{"label": …, "text": …}]`.
    pub questions: String,
    pub created_at: i64,
    pub created_by: String,
}

fn set_from_row(r: &AnyRow) -> SetRow {
    SetRow {
        id: r.get(0),
        company_id: r.get(1),
        audience: r.get(2),
        version: r.get(3),
        questions: r.get(4),
        created_at: r.get(5),
        created_by: r.get(6),
    }
}

const SET_COLS: &str = "id, company_id, audience, version, questions, created_at, created_by";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoundRow {
    pub id: i64,
    pub company_id: i64,
    pub month: String,
    pub opens_on: String,
    pub closes_on: String,
    pub individual_set_id: i64,
    pub manager_set_id: i64,
    pub opened_at: i64,
    pub opened_by: String,
}

fn round_from_row(r: &AnyRow) -> RoundRow {
    RoundRow {
        id: r.get(0),
        company_id: r.get(1),
        month: r.get(2),
        opens_on: r.get(3),
        closes_on: r.get(4),
        individual_set_id: r.get(5),
        manager_set_id: r.get(6),
        opened_at: r.get(7),
        opened_by: r.get(8),
    }
}

macro_rules! round_cols {
    () => {
        "id, company_id, month, opens_on, closes_on, individual_set_id, manager_set_id, \
         opened_at, opened_by"
    };
}

/// A round to open.
#[derive(Debug, Clone)]
pub struct NewRound {
    pub company_id: i64,
    pub month: String,
    pub opens_on: String,
    pub closes_on: String,
    pub individual_set_id: i64,
    pub manager_set_id: i64,
    pub opened_at: i64,
    pub opened_by: String,
    /// (department, audience, people expected to answer).
    pub expected: Vec<(i64, String, i64)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectedRow {
    pub department_id: i64,
    pub audience: String,
    pub expected: i64,
    pub answered: i64,
}

/// An answer to store with the counts it adds.
#[derive(Debug, Clone)]
pub struct NewAnswer {
    pub round_id: i64,
    pub company_id: i64,
    pub audience: String,
    pub set_id: i64,
    pub user_id: i64,
    pub department_id: i64,
    /// One letter per item: `y`, `n`, `a`.
    pub replies: String,
    pub notes_sealed: Option<String>,
    pub submitted_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnswerRow {
    pub id: i64,
    pub round_id: i64,
    pub company_id: i64,
    pub audience: String,
    pub set_id: i64,
    pub user_id: i64,
    pub department_id: i64,
    pub replies: String,
    pub no_count: i64,
    pub notes_sealed: Option<String>,
    pub submitted_at: i64,
}

const ANSWER_COLS: &str = "id, round_id, company_id, audience, set_id, user_id, department_id, \
                           replies, no_count, notes_sealed, submitted_at";

fn answer_from_row(r: &AnyRow) -> AnswerRow {
    AnswerRow {
        id: r.get(0),
        round_id: r.get(1),
        company_id: r.get(2),
        audience: r.get(3),
        set_id: r.get(4),
        user_id: r.get(5),
        department_id: r.get(6),
        replies: r.get(7),
        no_count: r.get(8),
        notes_sealed: r.get(9),
        submitted_at: r.get(10),
    }
}

/// Counts of one item in one department and round.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TallyRow {
    pub round_id: i64,
    pub month: String,
    pub department_id: i64,
    pub audience: String,
    pub item: i64,
    pub yes: i64,
    pub no: i64,
    pub na: i64,
}

fn tally_from_row(r: &AnyRow) -> TallyRow {
    TallyRow {
        round_id: r.get(0),
        month: r.get(1),
        department_id: r.get(2),
        audience: r.get(3),
        item: r.get(4),
        yes: r.get(5),
        no: r.get(6),
        na: r.get(7),
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FollowupRow {
    pub id: i64,
    pub answer_id: i64,
    pub interviewed_on: String,
    pub interviewer_id: i64,
    pub outcome: String,
    pub note_sealed: Option<String>,
    pub recorded_at: i64,
    pub recorded_by: String,
}

#[derive(Debug, Clone)]
pub struct NewFollowup {
    pub answer_id: i64,
    pub interviewed_on: String,
    pub interviewer_id: i64,
    pub outcome: String,
    pub note_sealed: Option<String>,
    pub recorded_at: i64,
    pub recorded_by: String,
}

fn followup_from_row(r: &AnyRow) -> FollowupRow {
    FollowupRow {
        id: r.get(0),
        answer_id: r.get(1),
        interviewed_on: r.get(2),
        interviewer_id: r.get(3),
        outcome: r.get(4),
        note_sealed: r.get(5),
        recorded_at: r.get(6),
        recorded_by: r.get(7),
    }
}

impl Store {
    // ───────────────────────────── schedule ─────────────────────────────

    pub async fn inspection_schedule(&self, company_id: i64) -> Result<Option<ScheduleRow>> {
        let row = sqlx::query(
            "SELECT company_id, day_of_month, enabled, updated_at, updated_by \
             FROM inspection_schedules WHERE company_id = $1",
        )
        .bind(company_id)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.map(|r| ScheduleRow {
            company_id: r.get(0),
            day_of_month: r.get(1),
            enabled: r.get::<i64, _>(2) != 0,
            updated_at: r.get(3),
            updated_by: r.get(4),
        }))
    }

    pub async fn set_inspection_schedule(
        &self,
        company_id: i64,
        day_of_month: i64,
        enabled: bool,
        now: i64,
        by: &str,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO inspection_schedules (company_id, day_of_month, enabled, updated_at, \
             updated_by) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (company_id) DO UPDATE SET \
             day_of_month = excluded.day_of_month, enabled = excluded.enabled, \
             updated_at = excluded.updated_at, updated_by = excluded.updated_by",
        )
        .bind(company_id)
        .bind(day_of_month)
        .bind(i64::from(enabled))
        .bind(now)
        .bind(by)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Companies with an enabled schedule (the reminder task's work list).
    pub async fn inspection_schedules_enabled(&self) -> Result<Vec<ScheduleRow>> {
        let rows = sqlx::query(
            "SELECT company_id, day_of_month, enabled, updated_at, updated_by \
             FROM inspection_schedules WHERE enabled = 1 ORDER BY company_id",
        )
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .iter()
            .map(|r| ScheduleRow {
                company_id: r.get(0),
                day_of_month: r.get(1),
                enabled: true,
                updated_at: r.get(3),
                updated_by: r.get(4),
            })
            .collect())
    }

    // ───────────────────────────── question sets ─────────────────────────────

    /// The newest version of a company's set for an audience.
    pub async fn latest_inspection_set(
        &self,
        company_id: i64,
        audience: &str,
    ) -> Result<Option<SetRow>> {
        let sql = format!(
            "SELECT {SET_COLS} FROM inspection_sets WHERE company_id = $1 AND audience = $2 \
             ORDER BY version DESC LIMIT 1"
        );
        let row = sqlx::query(&sql)
            .bind(company_id)
            .bind(audience)
            .fetch_optional(self.pool())
            .await?;
        Ok(row.as_ref().map(set_from_row))
    }

    pub async fn inspection_set(&self, id: i64) -> Result<Option<SetRow>> {
        let sql = format!("SELECT {SET_COLS} FROM inspection_sets WHERE id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        Ok(row.as_ref().map(set_from_row))
    }

    /// Every version of a set, newest first.
    pub async fn inspection_set_versions(
        &self,
        company_id: i64,
        audience: &str,
    ) -> Result<Vec<SetRow>> {
        let sql = format!(
            "SELECT {SET_COLS} FROM inspection_sets WHERE company_id = $1 AND audience = $2 \
             ORDER BY version DESC"
        );
        let rows = sqlx::query(&sql)
            .bind(company_id)
            .bind(audience)
            .fetch_all(self.pool())
            .await?;
        Ok(rows.iter().map(set_from_row).collect())
    }

    /// Publishes a new version of a set (the version after the newest; two publications at
    /// once: the second fails on the unique version and is retried once).
    pub async fn add_inspection_set(
        &self,
        company_id: i64,
        audience: &str,
        questions: &str,
        now: i64,
        by: &str,
    ) -> Result<SetRow> {
        let mut last = None;
        for _ in 0..3 {
            let version: i64 = sqlx::query_scalar(
                "SELECT COALESCE(MAX(version), 0) + 1 FROM inspection_sets \
                 WHERE company_id = $1 AND audience = $2",
            )
            .bind(company_id)
            .bind(audience)
            .fetch_one(self.pool())
            .await?;
            let r = sqlx::query_scalar::<_, i64>(
                "INSERT INTO inspection_sets (company_id, audience, version, questions, \
                 created_at, created_by) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            )
            .bind(company_id)
            .bind(audience)
            .bind(version)
            .bind(questions)
            .bind(now)
            .bind(by)
            .fetch_one(self.pool())
            .await;
            match r {
                Ok(id) => {
                    return Ok(SetRow {
                        id,
                        company_id,
                        audience: audience.to_owned(),
                        version,
                        questions: questions.to_owned(),
                        created_at: now,
                        created_by: by.to_owned(),
                    })
                }
                Err(e) => last = Some(e),
            }
        }
        Err(last.map_or(crate::StoreError::Conflict("version"), Into::into))
    }

    // ───────────────────────────── rounds ─────────────────────────────

    /// Opens the round of a month with who is expected to answer; the existing round when
    /// another process opened it first (`false`: not opened by this call).
    pub async fn open_inspection_round(&self, r: &NewRound) -> Result<(RoundRow, bool)> {
        let mut tx = self.pool().begin().await?;
        let id: Option<i64> = sqlx::query_scalar(
            "INSERT INTO inspection_rounds (company_id, month, opens_on, closes_on, \
             individual_set_id, manager_set_id, opened_at, opened_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (company_id, month) DO NOTHING RETURNING id",
        )
        .bind(r.company_id)
        .bind(&r.month)
        .bind(&r.opens_on)
        .bind(&r.closes_on)
        .bind(r.individual_set_id)
        .bind(r.manager_set_id)
        .bind(r.opened_at)
        .bind(&r.opened_by)
        .fetch_optional(&mut *tx)
        .await?;
        let created = id.is_some();
        if let Some(id) = id {
            for (dept, audience, n) in &r.expected {
                sqlx::query(
                    "INSERT INTO inspection_expected (round_id, department_id, audience, \
                     expected, answered) VALUES ($1, $2, $3, $4, 0)",
                )
                .bind(id)
                .bind(dept)
                .bind(audience)
                .bind(n)
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await?;
        let round = self
            .inspection_round(r.company_id, &r.month)
            .await?
            .ok_or(crate::StoreError::NotFound)?;
        Ok((round, created))
    }

    pub async fn inspection_round(&self, company_id: i64, month: &str) -> Result<Option<RoundRow>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            round_cols!(),
            " FROM inspection_rounds WHERE company_id = $1 AND month = $2"
        ))
        .bind(company_id)
        .bind(month)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.as_ref().map(round_from_row))
    }

    pub async fn inspection_round_by_id(&self, id: i64) -> Result<Option<RoundRow>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            round_cols!(),
            " FROM inspection_rounds WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.as_ref().map(round_from_row))
    }

    /// A company's rounds from `from_month` to `to_month` (`2025-01`…), newest first.
    pub async fn inspection_rounds(
        &self,
        company_id: i64,
        from_month: &str,
        to_month: &str,
    ) -> Result<Vec<RoundRow>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            round_cols!(),
            " FROM inspection_rounds WHERE company_id = $1 AND month >= $2 AND month <= $3 \
             ORDER BY month DESC"
        ))
        .bind(company_id)
        .bind(from_month)
        .bind(to_month)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.iter().map(round_from_row).collect())
    }

    pub async fn inspection_expected(&self, round_id: i64) -> Result<Vec<ExpectedRow>> {
        let rows = sqlx::query(
            "SELECT department_id, audience, expected, answered FROM inspection_expected \
             WHERE round_id = $1 ORDER BY department_id, audience",
        )
        .bind(round_id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .iter()
            .map(|r| ExpectedRow {
                department_id: r.get(0),
                audience: r.get(1),
                expected: r.get(2),
                answered: r.get(3),
            })
            .collect())
    }

    // ───────────────────────────── answers ─────────────────────────────

    /// Stores an answer and adds it to the counts. `None` when the person already answered
    /// this round for this audience (nothing is changed then).
    pub async fn submit_inspection_answer(&self, a: &NewAnswer) -> Result<Option<i64>> {
        let no_count = a.replies.bytes().filter(|b| *b == b'n').count() as i64;
        let mut tx = self.pool().begin().await?;
        let id: Option<i64> = sqlx::query_scalar(
            "INSERT INTO inspection_answers (round_id, company_id, audience, set_id, user_id, \
             department_id, replies, no_count, notes_sealed, submitted_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
             ON CONFLICT (round_id, audience, user_id) DO NOTHING RETURNING id",
        )
        .bind(a.round_id)
        .bind(a.company_id)
        .bind(&a.audience)
        .bind(a.set_id)
        .bind(a.user_id)
        .bind(a.department_id)
        .bind(&a.replies)
        .bind(no_count)
        .bind(a.notes_sealed.as_deref())
        .bind(a.submitted_at)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(id) = id else {
            tx.rollback().await?;
            return Ok(None);
        };
        for (i, c) in a.replies.bytes().enumerate() {
            let (y, n, na) = match c {
                b'y' => (1i64, 0i64, 0i64),
                b'n' => (0, 1, 0),
                _ => (0, 0, 1),
            };
            sqlx::query(
                "INSERT INTO inspection_tallies (round_id, department_id, audience, item, yes, \
                 no, na) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                 ON CONFLICT (round_id, department_id, audience, item) DO UPDATE SET \
                 yes = inspection_tallies.yes + excluded.yes, \
                 no = inspection_tallies.no + excluded.no, \
                 na = inspection_tallies.na + excluded.na",
            )
            .bind(a.round_id)
            .bind(a.department_id)
            .bind(&a.audience)
            .bind(i as i64 + 1)
            .bind(y)
            .bind(n)
            .bind(na)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query(
            "INSERT INTO inspection_expected (round_id, department_id, audience, expected, \
             answered) VALUES ($1, $2, $3, 0, 1) \
             ON CONFLICT (round_id, department_id, audience) DO UPDATE SET \
             answered = inspection_expected.answered + 1",
        )
        .bind(a.round_id)
        .bind(a.department_id)
        .bind(&a.audience)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Some(id))
    }

    pub async fn inspection_answer_of(
        &self,
        round_id: i64,
        audience: &str,
        user_id: i64,
    ) -> Result<Option<AnswerRow>> {
        let sql = format!(
            "SELECT {ANSWER_COLS} FROM inspection_answers WHERE round_id = $1 AND audience = $2 \
             AND user_id = $3"
        );
        let row = sqlx::query(&sql)
            .bind(round_id)
            .bind(audience)
            .bind(user_id)
            .fetch_optional(self.pool())
            .await?;
        Ok(row.as_ref().map(answer_from_row))
    }

    pub async fn inspection_answer(&self, id: i64) -> Result<Option<AnswerRow>> {
        let sql = format!("SELECT {ANSWER_COLS} FROM inspection_answers WHERE id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        Ok(row.as_ref().map(answer_from_row))
    }

    /// Who has answered a round: (user, audience).
    pub async fn inspection_respondents(&self, round_id: i64) -> Result<Vec<(i64, String)>> {
        let rows =
            sqlx::query("SELECT user_id, audience FROM inspection_answers WHERE round_id = $1")
                .bind(round_id)
                .fetch_all(self.pool())
                .await?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    /// The answers with at least one "no" in a round (the follow-up list), by department.
    pub async fn inspection_answers_with_no(&self, round_id: i64) -> Result<Vec<AnswerRow>> {
        let sql = format!(
            "SELECT {ANSWER_COLS} FROM inspection_answers WHERE round_id = $1 AND no_count > 0 \
             ORDER BY department_id, audience, user_id"
        );
        let rows = sqlx::query(&sql)
            .bind(round_id)
            .fetch_all(self.pool())
            .await?;
        Ok(rows.iter().map(answer_from_row).collect())
    }

    // ───────────────────────────── counts ─────────────────────────────

    /// The counts of one round (every department and audience).
    pub async fn inspection_tallies(&self, round_id: i64) -> Result<Vec<TallyRow>> {
        let rows = sqlx::query(
            "SELECT t.round_id, r.month, t.department_id, t.audience, t.item, t.yes, t.no, t.na \
             FROM inspection_tallies t JOIN inspection_rounds r ON r.id = t.round_id \
             WHERE t.round_id = $1 ORDER BY t.department_id, t.audience, t.item",
        )
        .bind(round_id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.iter().map(tally_from_row).collect())
    }

    /// The counts of a company's rounds between two months (trends), every department.
    pub async fn inspection_tallies_between(
        &self,
        company_id: i64,
        from_month: &str,
        to_month: &str,
    ) -> Result<Vec<TallyRow>> {
        let rows = sqlx::query(
            "SELECT t.round_id, r.month, t.department_id, t.audience, t.item, t.yes, t.no, t.na \
             FROM inspection_tallies t JOIN inspection_rounds r ON r.id = t.round_id \
             WHERE r.company_id = $1 AND r.month >= $2 AND r.month <= $3 \
             ORDER BY r.month, t.department_id, t.audience, t.item",
        )
        .bind(company_id)
        .bind(from_month)
        .bind(to_month)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.iter().map(tally_from_row).collect())
    }

    /// The counts of one department over a company's rounds between two months.
    pub async fn inspection_department_tallies(
        &self,
        company_id: i64,
        department_id: i64,
        from_month: &str,
        to_month: &str,
    ) -> Result<Vec<TallyRow>> {
        let rows = sqlx::query(
            "SELECT t.round_id, r.month, t.department_id, t.audience, t.item, t.yes, t.no, t.na \
             FROM inspection_tallies t JOIN inspection_rounds r ON r.id = t.round_id \
             WHERE r.company_id = $1 AND t.department_id = $2 AND r.month >= $3 \
             AND r.month <= $4 ORDER BY r.month, t.audience, t.item",
        )
        .bind(company_id)
        .bind(department_id)
        .bind(from_month)
        .bind(to_month)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.iter().map(tally_from_row).collect())
    }

    /// Stores many answers in one transaction without counting them (an import of a past
    /// year, the benchmark's history); [`Store::recount_inspection_round`] counts them after.
    /// An answer already there is left as it is. Returns how many were stored.
    pub async fn insert_inspection_answers(&self, answers: &[NewAnswer]) -> Result<u64> {
        let mut tx = self.pool().begin().await?;
        let mut n = 0;
        for a in answers {
            let no_count = a.replies.bytes().filter(|b| *b == b'n').count() as i64;
            n += sqlx::query(
                "INSERT INTO inspection_answers (round_id, company_id, audience, set_id, user_id, \
                 department_id, replies, no_count, notes_sealed, submitted_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
                 ON CONFLICT (round_id, audience, user_id) DO NOTHING",
            )
            .bind(a.round_id)
            .bind(a.company_id)
            .bind(&a.audience)
            .bind(a.set_id)
            .bind(a.user_id)
            .bind(a.department_id)
            .bind(&a.replies)
            .bind(no_count)
            .bind(a.notes_sealed.as_deref())
            .bind(a.submitted_at)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        }
        tx.commit().await?;
        Ok(n)
    }

    /// Counts a round again from its answers: the counts per department, audience and item
    /// and the number of answers per department, in one transaction. The counts kept as
    /// answers arrive must equal these (a test checks).
    pub async fn recount_inspection_round(&self, round_id: i64) -> Result<()> {
        let mut tx = self.pool().begin().await?;
        sqlx::query("DELETE FROM inspection_tallies WHERE round_id = $1")
            .bind(round_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(concat!(
            "INSERT INTO inspection_tallies (round_id, department_id, audience, item, yes, no, na) \
             SELECT a.round_id, a.department_id, a.audience, i.item, \
             SUM(CASE WHEN SUBSTR(a.replies, i.item, 1) = 'y' THEN 1 ELSE 0 END), \
             SUM(CASE WHEN SUBSTR(a.replies, i.item, 1) = 'n' THEN 1 ELSE 0 END), \
             SUM(CASE WHEN SUBSTR(a.replies, i.item, 1) = 'a' THEN 1 ELSE 0 END) \
             FROM inspection_answers a JOIN (",
            "SELECT 1 AS item UNION ALL SELECT 2 AS item UNION ALL SELECT 3 AS item UNION ALL SELECT 4 AS item UNION ALL SELECT 5 AS item UNION ALL SELECT 6 AS item UNION ALL SELECT 7 AS item UNION ALL SELECT 8 AS item UNION ALL SELECT 9 AS item UNION ALL SELECT 10 AS item UNION ALL SELECT 11 AS item UNION ALL SELECT 12 AS item UNION ALL SELECT 13 AS item UNION ALL SELECT 14 AS item UNION ALL SELECT 15 AS item UNION ALL SELECT 16 AS item UNION ALL SELECT 17 AS item UNION ALL SELECT 18 AS item UNION ALL SELECT 19 AS item UNION ALL SELECT 20 AS item UNION ALL SELECT 21 AS item UNION ALL SELECT 22 AS item UNION ALL SELECT 23 AS item UNION ALL SELECT 24 AS item UNION ALL SELECT 25 AS item UNION ALL SELECT 26 AS item UNION ALL SELECT 27 AS item UNION ALL SELECT 28 AS item UNION ALL SELECT 29 AS item UNION ALL SELECT 30 AS item",
            ") i ON i.item <= LENGTH(a.replies) WHERE a.round_id = $1 \
             GROUP BY a.round_id, a.department_id, a.audience, i.item"
        ))
        .bind(round_id)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE inspection_expected SET answered = (SELECT COUNT(*) FROM inspection_answers a \
             WHERE a.round_id = inspection_expected.round_id \
             AND a.department_id = inspection_expected.department_id \
             AND a.audience = inspection_expected.audience) WHERE round_id = $1",
        )
        .bind(round_id)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO inspection_expected (round_id, department_id, audience, expected, \
             answered) SELECT round_id, department_id, audience, 0, COUNT(*) \
             FROM inspection_answers WHERE round_id = $1 \
             GROUP BY round_id, department_id, audience \
             ON CONFLICT (round_id, department_id, audience) DO NOTHING",
        )
        .bind(round_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Per department, the answers of a round with a "no" and no interview recorded yet.
    pub async fn inspection_follow_up_open(&self, round_id: i64) -> Result<Vec<(i64, i64)>> {
        let rows = sqlx::query(
            "SELECT a.department_id, COUNT(*) FROM inspection_answers a \
             WHERE a.round_id = $1 AND a.no_count > 0 AND NOT EXISTS \
             (SELECT 1 FROM inspection_followups f WHERE f.answer_id = a.id) \
             GROUP BY a.department_id",
        )
        .bind(round_id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    /// The company's counts per month and item for one audience (all departments summed by
    /// the database): the comparison line of trends and radars.
    pub async fn inspection_company_items(
        &self,
        company_id: i64,
        audience: &str,
        from_month: &str,
        to_month: &str,
    ) -> Result<Vec<TallyRow>> {
        let rows = sqlx::query(
            "SELECT MIN(t.round_id), r.month, CAST(0 AS BIGINT), t.audience, t.item, \
             CAST(SUM(t.yes) AS BIGINT), CAST(SUM(t.no) AS BIGINT), CAST(SUM(t.na) AS BIGINT) FROM inspection_tallies t JOIN inspection_rounds r ON r.id = t.round_id \
             WHERE r.company_id = $1 AND t.audience = $2 AND r.month >= $3 AND r.month <= $4 \
             GROUP BY r.month, t.audience, t.item ORDER BY r.month, t.item",
        )
        .bind(company_id)
        .bind(audience)
        .bind(from_month)
        .bind(to_month)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.iter().map(tally_from_row).collect())
    }

    // ───────────────────────────── follow-up ─────────────────────────────

    pub async fn add_inspection_followup(&self, f: &NewFollowup) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "INSERT INTO inspection_followups (answer_id, interviewed_on, interviewer_id, \
             outcome, note_sealed, recorded_at, recorded_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(f.answer_id)
        .bind(&f.interviewed_on)
        .bind(f.interviewer_id)
        .bind(&f.outcome)
        .bind(f.note_sealed.as_deref())
        .bind(f.recorded_at)
        .bind(&f.recorded_by)
        .fetch_one(self.pool())
        .await?)
    }

    /// The follow-ups of a round's answers, oldest first.
    pub async fn inspection_followups(&self, round_id: i64) -> Result<Vec<FollowupRow>> {
        let rows = sqlx::query(
            "SELECT f.id, f.answer_id, f.interviewed_on, f.interviewer_id, f.outcome, \
             f.note_sealed, f.recorded_at, f.recorded_by FROM inspection_followups f \
             JOIN inspection_answers a ON a.id = f.answer_id WHERE a.round_id = $1 \
             ORDER BY f.id",
        )
        .bind(round_id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.iter().map(followup_from_row).collect())
    }
}
