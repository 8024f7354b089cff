//! Decisions on an incident: the publication decision (公表判断) and the steps of the
//! recurrence-prevention report (再発防止策).
//!
//! Both are append-only histories: recording the five viewpoints, deciding, saving, submitting,
//! returning, forwarding or approving each adds a row, and each row is written in one
//! transaction with its lines on the incident's timeline. A step is refused (`Conflict`) when
//! somebody else added a row since the caller read the history, so two people acting on the same
//! state cannot both move it.

use crate::incidents::{append_entries, lock_incident, NewEntry};
use crate::{Result, Store, StoreError};
use sqlx::any::AnyRow;
use sqlx::Row;

/// A publication record as stored: the viewpoints with the recommendation, and — when an
/// executive decided — the decision and its reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicationRecord {
    pub id: i64,
    pub incident_id: i64,
    /// The five viewpoints (JSON).
    pub viewpoints: String,
    /// The recommendation's code (`publish`, `consider`, `not_needed`).
    pub recommendation: String,
    /// The reasons of the recommendation (JSON array of strings).
    pub reasons: String,
    /// `publish` or `not_publish`; `None` for a record of viewpoints only.
    pub decision: Option<String>,
    pub decision_reason: Option<String>,
    pub recorded_by: String,
    pub created_at: i64,
}

/// A publication record to add.
#[derive(Debug, Clone)]
pub struct NewPublication<'a> {
    pub viewpoints: &'a str,
    pub recommendation: &'a str,
    pub reasons: &'a str,
    pub decision: Option<&'a str>,
    pub decision_reason: Option<&'a str>,
    pub recorded_by: &'a str,
}

/// One step of the recurrence-prevention report as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecurrenceStep {
    pub id: i64,
    pub incident_id: i64,
    /// The state after the step (`draft`, `submitted`, `returned`, `forwarded`, `approved`).
    pub state: String,
    /// The report after the step (JSON).
    pub body: String,
    pub comment: String,
    pub actor: String,
    pub created_at: i64,
}

/// A step to add.
#[derive(Debug, Clone)]
pub struct NewStep<'a> {
    pub state: &'a str,
    pub body: &'a str,
    pub comment: &'a str,
    pub actor: &'a str,
}

fn publication_from_row(r: &AnyRow) -> PublicationRecord {
    PublicationRecord {
        id: r.get(0),
        incident_id: r.get(1),
        viewpoints: r.get(2),
        recommendation: r.get(3),
        reasons: r.get(4),
        decision: r.get(5),
        decision_reason: r.get(6),
        recorded_by: r.get(7),
        created_at: r.get(8),
    }
}

fn step_from_row(r: &AnyRow) -> RecurrenceStep {
    RecurrenceStep {
        id: r.get(0),
        incident_id: r.get(1),
        state: r.get(2),
        body: r.get(3),
        comment: r.get(4),
        actor: r.get(5),
        created_at: r.get(6),
    }
}

impl Store {
    /// Adds a publication record with its timeline lines, in one transaction. `after` is the id
    /// of the newest record the caller based it on (`None`: there was none); if another record
    /// was added since, nothing is written and the answer is `Conflict("publication record")`.
    pub async fn add_publication_record(
        &self,
        incident_id: i64,
        after: Option<i64>,
        n: &NewPublication<'_>,
        entries: &[NewEntry<'_>],
        now: i64,
    ) -> Result<i64> {
        let mut tx = self.pool().begin().await?;
        lock_incident(&mut tx, incident_id, now).await?;
        let latest: Option<i64> =
            sqlx::query_scalar("SELECT MAX(id) FROM publication_decisions WHERE incident_id = $1")
                .bind(incident_id)
                .fetch_one(&mut *tx)
                .await?;
        if latest != after {
            return Err(StoreError::Conflict("publication record"));
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO publication_decisions (incident_id, viewpoints, recommendation, reasons, \
             decision, decision_reason, recorded_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(incident_id)
        .bind(n.viewpoints)
        .bind(n.recommendation)
        .bind(n.reasons)
        .bind(n.decision)
        .bind(n.decision_reason)
        .bind(n.recorded_by)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        append_entries(&mut tx, incident_id, now, entries).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Every publication record of an incident, newest first.
    pub async fn publication_records(&self, incident_id: i64) -> Result<Vec<PublicationRecord>> {
        let rows = sqlx::query(
            "SELECT id, incident_id, viewpoints, recommendation, reasons, decision, \
             decision_reason, recorded_by, created_at FROM publication_decisions \
             WHERE incident_id = $1 ORDER BY id DESC",
        )
        .bind(incident_id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.iter().map(publication_from_row).collect())
    }

    /// Adds a step of the recurrence-prevention report with its timeline lines, in one
    /// transaction. `after` is the id of the step the caller saw last (`None`: no step yet); if
    /// another step was added since, nothing is written and the answer is
    /// `Conflict("recurrence step")`.
    pub async fn add_recurrence_step(
        &self,
        incident_id: i64,
        after: Option<i64>,
        s: &NewStep<'_>,
        entries: &[NewEntry<'_>],
        now: i64,
    ) -> Result<i64> {
        let mut tx = self.pool().begin().await?;
        lock_incident(&mut tx, incident_id, now).await?;
        let latest: Option<i64> =
            sqlx::query_scalar("SELECT MAX(id) FROM recurrence_reports WHERE incident_id = $1")
                .bind(incident_id)
                .fetch_one(&mut *tx)
                .await?;
        if latest != after {
            return Err(StoreError::Conflict("recurrence step"));
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO recurrence_reports (incident_id, state, body, comment, actor, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(incident_id)
        .bind(s.state)
        .bind(s.body)
        .bind(s.comment)
        .bind(s.actor)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        append_entries(&mut tx, incident_id, now, entries).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Every step of an incident's recurrence-prevention report, oldest first.
    pub async fn recurrence_steps(&self, incident_id: i64) -> Result<Vec<RecurrenceStep>> {
        let rows = sqlx::query(
            "SELECT id, incident_id, state, body, comment, actor, created_at \
             FROM recurrence_reports WHERE incident_id = $1 ORDER BY id",
        )
        .bind(incident_id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.iter().map(step_from_row).collect())
    }
}
