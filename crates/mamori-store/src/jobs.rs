//! The job queue and the periodic schedule, both in the database.
//!
//! A job is claimed with one conditional UPDATE, so two processes never run the same job; a
//! schedule entry is claimed by moving its `next_run_at` forward with a compare-and-set, so a
//! periodic task runs once per period across all processes.

use crate::{Result, Store};
use sqlx::Row;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub id: i64,
    pub kind: String,
    pub payload: String,
    pub attempts: i64,
}

impl Store {
    pub async fn enqueue_job(
        &self,
        kind: &str,
        payload: &str,
        run_at: i64,
        now: i64,
    ) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "INSERT INTO jobs (kind, payload, run_at, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(kind)
        .bind(payload)
        .bind(run_at)
        .bind(now)
        .fetch_one(self.pool())
        .await?)
    }

    /// Claims the oldest due job for `worker` until `lease_until`. The outer condition is
    /// re-checked under the row lock, so a job that another worker claimed first is skipped.
    pub async fn claim_job(&self, worker: &str, now: i64, lease_until: i64) -> Result<Option<Job>> {
        let r = sqlx::query(
            "UPDATE jobs SET locked_by = $1, locked_until = $2, attempts = attempts + 1 \
             WHERE id = (SELECT id FROM jobs WHERE done_at IS NULL AND run_at <= $3 \
                         AND (locked_until IS NULL OR locked_until < $3) ORDER BY run_at, id LIMIT 1) \
             AND done_at IS NULL AND (locked_until IS NULL OR locked_until < $3) \
             RETURNING id, kind, payload, attempts",
        )
        .bind(worker)
        .bind(lease_until)
        .bind(now)
        .fetch_optional(self.pool())
        .await?;
        Ok(r.map(|r| Job {
            id: r.get(0),
            kind: r.get(1),
            payload: r.get(2),
            attempts: r.get(3),
        }))
    }

    pub async fn complete_job(&self, id: i64, now: i64) -> Result<()> {
        sqlx::query(
            "UPDATE jobs SET done_at = $1, locked_by = NULL, locked_until = NULL WHERE id = $2",
        )
        .bind(now)
        .bind(id)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Puts a failed job back for a later attempt at `retry_at`.
    pub async fn fail_job(&self, id: i64, error: &str, retry_at: i64) -> Result<()> {
        sqlx::query(
            "UPDATE jobs SET last_error = $1, run_at = $2, locked_by = NULL, locked_until = NULL \
             WHERE id = $3",
        )
        .bind(error)
        .bind(retry_at)
        .bind(id)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    pub async fn pending_jobs(&self) -> Result<i64> {
        Ok(
            sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE done_at IS NULL")
                .fetch_one(self.pool())
                .await?,
        )
    }

    /// Registers a periodic task if it is not known yet; an existing schedule keeps its next
    /// run time but takes the new interval.
    pub async fn ensure_schedule(
        &self,
        name: &str,
        interval_secs: i64,
        first_run_at: i64,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO schedules (name, interval_secs, next_run_at) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO UPDATE SET interval_secs = excluded.interval_secs",
        )
        .bind(name)
        .bind(interval_secs)
        .bind(first_run_at)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Claims every periodic task that is due: returns the names this worker must run now.
    pub async fn claim_due_schedules(&self, worker: &str, now: i64) -> Result<Vec<String>> {
        let due = sqlx::query(
            "SELECT name, interval_secs, next_run_at FROM schedules WHERE next_run_at <= $1 ORDER BY name",
        )
        .bind(now)
        .fetch_all(self.pool())
        .await?;
        let mut mine = Vec::new();
        for r in due {
            let (name, interval, next): (String, i64, i64) = (r.get(0), r.get(1), r.get(2));
            let n = sqlx::query(
                "UPDATE schedules SET next_run_at = $1, last_run_by = $2, last_run_at = $3 \
                 WHERE name = $4 AND next_run_at = $5",
            )
            .bind(now + interval * 1_000_000)
            .bind(worker)
            .bind(now)
            .bind(&name)
            .bind(next)
            .execute(self.pool())
            .await?
            .rows_affected();
            if n == 1 {
                mine.push(name);
            }
        }
        Ok(mine)
    }

    /// Who ran a periodic task last, and when.
    pub async fn schedule_last_run(&self, name: &str) -> Result<Option<(String, i64)>> {
        let r = sqlx::query("SELECT last_run_by, last_run_at FROM schedules WHERE name = $1")
            .bind(name)
            .fetch_optional(self.pool())
            .await?;
        Ok(r.and_then(|r| {
            let by: Option<String> = r.get(0);
            let at: Option<i64> = r.get(1);
            by.zip(at)
        }))
    }
}
