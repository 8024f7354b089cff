//! Incidents: the record, its reporting line, its append-only timeline, its report versions,
//! obligations and tasks.
//!
//! Each change that must be all-or-nothing (an incident with its line, first report and first
//! timeline entry; new facts with their obligations and timeline lines) is one transaction here.

use crate::{flag, one_row, Result, Store, StoreError};
use mamori_domain::incident::line::Line;
use mamori_domain::lang::Words;
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

/// What it takes to file an incident.
#[derive(Debug, Clone)]
pub struct NewIncident<'a> {
    pub company_id: i64,
    pub year: i32,
    pub drill: bool,
    pub title: &'a str,
    pub description: &'a str,
    pub actions_taken: &'a str,
    pub found_by: &'a str,
    pub reporter_id: i64,
    pub department_id: i64,
    pub phase: &'a str,
    pub facts: &'a str,
    pub assessment: &'a str,
    pub reportable: bool,
    pub persons: Option<i64>,
    pub occurred_at: Option<i64>,
    pub found_at: i64,
    pub knew_at: i64,
    /// The first report as filed (JSON), kept as version 1.
    pub first_report: &'a str,
    /// The reporting line (departments).
    pub line: &'a [i64],
}

/// An incident as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incident {
    pub id: i64,
    pub company_id: i64,
    pub ref_no: String,
    pub drill: bool,
    pub title: String,
    pub description: String,
    pub actions_taken: String,
    pub found_by: String,
    pub reporter_id: i64,
    pub department_id: i64,
    pub status: String,
    pub phase: String,
    pub facts: String,
    pub assessment: String,
    pub reportable: bool,
    pub persons: Option<i64>,
    pub occurred_at: Option<i64>,
    pub found_at: i64,
    pub knew_at: i64,
    pub acknowledged_at: Option<i64>,
    pub acknowledged_by: Option<String>,
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub closed_at: Option<i64>,
}

/// The columns `incident_from_row` reads, in its order.
macro_rules! incident_columns {
    () => {
        "id, company_id, ref_no, drill, title, description, actions_taken, found_by, reporter_id, \
         department_id, status, phase, facts, assessment, reportable, persons, occurred_at, \
         found_at, knew_at, acknowledged_at, acknowledged_by, version, created_at, updated_at, \
         closed_at"
    };
}

/// The columns of a row of the incident list (see `list_incidents`).
macro_rules! list_select {
    () => {
        "SELECT i.id, i.ref_no, i.drill, i.title, i.status, i.phase, i.reportable, i.persons, \
         i.department_id, i.created_at, i.acknowledged_at FROM incidents i \
         LEFT JOIN incident_line l ON l.incident_id = i.id AND l.department_id = $4"
    };
}

/// The conditions of the incident list (see `list_incidents`).
macro_rules! list_where {
    () => {
        "WHERE i.company_id = $1 \
         AND ($2 = 1 OR i.reporter_id = $3 OR l.incident_id IS NOT NULL) \
         AND (CAST($6 AS TEXT) IS NULL OR i.status = $6) \
         AND i.created_at >= $7 AND i.created_at < $8 AND i.created_at <= $10 \
         AND (CAST($9 AS BIGINT) IS NULL OR i.drill = $9) \
         AND (i.created_at < $10 OR i.id < $11)"
    };
}

fn incident_from_row(r: &AnyRow) -> Incident {
    Incident {
        id: r.get(0),
        company_id: r.get(1),
        ref_no: r.get(2),
        drill: r.get::<i64, _>(3) != 0,
        title: r.get(4),
        description: r.get(5),
        actions_taken: r.get(6),
        found_by: r.get(7),
        reporter_id: r.get(8),
        department_id: r.get(9),
        status: r.get(10),
        phase: r.get(11),
        facts: r.get(12),
        assessment: r.get(13),
        reportable: r.get::<i64, _>(14) != 0,
        persons: r.get(15),
        occurred_at: r.get(16),
        found_at: r.get(17),
        knew_at: r.get(18),
        acknowledged_at: r.get(19),
        acknowledged_by: r.get(20),
        version: r.get(21),
        created_at: r.get(22),
        updated_at: r.get(23),
        closed_at: r.get(24),
    }
}

/// One line of the timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelineEntry {
    pub id: i64,
    pub at: i64,
    pub actor: String,
    pub kind: String,
    pub text: String,
    pub detail: String,
    /// The line as a code with parameters (JSON), for lines mamori writes; `None` for lines
    /// people type and rows written before migration 0011.
    pub msg: Option<String>,
}

/// A line to add to the timeline.
#[derive(Debug, Clone)]
pub struct NewEntry<'a> {
    pub actor: &'a str,
    pub kind: &'a str,
    pub text: String,
    pub detail: String,
    /// The code with parameters (JSON) the text is the Japanese words of.
    pub msg: Option<String>,
}

impl<'a> NewEntry<'a> {
    pub fn new(actor: &'a str, kind: &'a str, text: impl Into<String>) -> Self {
        NewEntry {
            actor,
            kind,
            text: text.into(),
            detail: "{}".into(),
            msg: None,
        }
    }

    /// A line mamori writes: its Japanese words as the text, and its code.
    pub fn line(actor: &'a str, kind: &'a str, line: &Line) -> Self {
        NewEntry {
            actor,
            kind,
            text: line.ja(),
            detail: "{}".into(),
            msg: serde_json::to_string(line).ok(),
        }
    }
}

/// Who is listing: everything of the company, or only what is on the viewer's line.
#[derive(Debug, Clone, Copy)]
pub struct ListScope {
    pub company_id: i64,
    pub all: bool,
    pub user_id: i64,
    /// The viewer's department when the viewer is a department head.
    pub head_of: Option<i64>,
}

/// Filters of the incident list; `None` means "any".
#[derive(Debug, Clone, Default)]
pub struct IncidentFilter {
    /// Words in the reference number, title or description.
    pub text: Option<String>,
    pub status: Option<String>,
    /// Filed at or after (microseconds).
    pub from: Option<i64>,
    /// Filed before (microseconds).
    pub until: Option<i64>,
    /// `Some(false)` hides drills, `Some(true)` shows only drills.
    pub drill: Option<bool>,
    /// Keyset cursor: the `(created_at, id)` of the last row of the previous page.
    pub before: Option<(i64, i64)>,
}

/// A row of the incident list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentSummary {
    pub id: i64,
    pub ref_no: String,
    pub drill: bool,
    pub title: String,
    pub status: String,
    pub phase: String,
    pub reportable: bool,
    pub persons: Option<i64>,
    pub department_id: i64,
    pub created_at: i64,
    pub acknowledged_at: Option<i64>,
}

/// An obligation as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Obligation {
    pub id: i64,
    pub incident_id: i64,
    pub kind: String,
    pub due_on: Option<String>,
    pub warn_on: Option<String>,
    pub basis: String,
    /// The basis as a code (JSON), from migration 0011 on.
    pub basis_msg: Option<String>,
    pub status: String,
    pub done_at: Option<i64>,
    pub done_by: Option<String>,
}

/// What a new assessment does to one obligation (see `mamori_domain::incident::obligation`).
#[derive(Debug, Clone)]
pub enum ObligationWrite {
    Upsert {
        kind: String,
        due_on: Option<String>,
        warn_on: Option<String>,
        basis: String,
        basis_msg: Option<String>,
    },
    Cancel {
        kind: String,
    },
}

/// A task as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task {
    pub id: i64,
    pub incident_id: i64,
    pub phase: String,
    pub title: String,
    pub owner_id: Option<i64>,
    pub due_on: Option<String>,
    pub status: String,
    pub done_at: Option<i64>,
    /// `phase/index` of the phase template the task came from (migration 0011 on); `None` for
    /// a task added by hand.
    pub template: Option<String>,
}

/// A report version (first or second report).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportVersion {
    pub version: i64,
    pub body: String,
    pub created_by: Option<i64>,
    pub created_at: i64,
}

/// Writes timeline lines inside a transaction (the timeline is only ever written this way, with
/// the change it describes).
pub(crate) async fn append_entries(
    tx: &mut Transaction<'_, Any>,
    incident_id: i64,
    at: i64,
    entries: &[NewEntry<'_>],
) -> Result<()> {
    for e in entries {
        sqlx::query(
            "INSERT INTO incident_events (incident_id, at, actor, kind, text, detail, msg) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(incident_id)
        .bind(at)
        .bind(e.actor)
        .bind(e.kind)
        .bind(&e.text)
        .bind(&e.detail)
        .bind(e.msg.as_deref())
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

impl Store {
    /// Files an incident: the record, its number, its line, the first report as version 1 and
    /// the first timeline entries, in one transaction. Returns the id and reference number.
    pub async fn create_incident(
        &self,
        n: &NewIncident<'_>,
        entries: &[NewEntry<'_>],
        now: i64,
    ) -> Result<(i64, String)> {
        let mut tx = self.pool().begin().await?;
        let seq: i64 = sqlx::query_scalar(
            "INSERT INTO incident_counters (company_id, year, last) VALUES ($1, $2, 1) \
             ON CONFLICT (company_id, year) DO UPDATE SET last = incident_counters.last + 1 \
             RETURNING last",
        )
        .bind(n.company_id)
        .bind(i64::from(n.year))
        .fetch_one(&mut *tx)
        .await?;
        let ref_no = format!("{}-{seq:04}", n.year);
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO incidents (company_id, ref_no, drill, title, description, actions_taken, \
             found_by, reporter_id, department_id, status, phase, facts, assessment, reportable, \
             persons, occurred_at, found_at, knew_at, version, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'open', $10, $11, $12, $13, $14, $15, \
             $16, $17, 1, $18, $18) RETURNING id",
        )
        .bind(n.company_id)
        .bind(&ref_no)
        .bind(flag(n.drill))
        .bind(n.title)
        .bind(n.description)
        .bind(n.actions_taken)
        .bind(n.found_by)
        .bind(n.reporter_id)
        .bind(n.department_id)
        .bind(n.phase)
        .bind(n.facts)
        .bind(n.assessment)
        .bind(flag(n.reportable))
        .bind(n.persons)
        .bind(n.occurred_at)
        .bind(n.found_at)
        .bind(n.knew_at)
        .bind(now)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| StoreError::from_sqlx(e, "incident number"))?;
        let mut line = n.line.to_vec();
        line.sort_unstable();
        line.dedup();
        for d in line {
            sqlx::query("INSERT INTO incident_line (incident_id, department_id) VALUES ($1, $2)")
                .bind(id)
                .bind(d)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query(
            "INSERT INTO incident_reports (incident_id, kind, version, body, created_by, created_at) \
             VALUES ($1, 'first', 1, $2, $3, $4)",
        )
        .bind(id)
        .bind(n.first_report)
        .bind(n.reporter_id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        append_entries(&mut tx, id, now, entries).await?;
        tx.commit().await?;
        Ok((id, ref_no))
    }

    pub async fn get_incident(&self, id: i64) -> Result<Incident> {
        let r = sqlx::query(concat!(
            "SELECT ",
            incident_columns!(),
            " FROM incidents WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::NotFound)?;
        Ok(incident_from_row(&r))
    }

    /// The departments on an incident's reporting line.
    pub async fn incident_line(&self, id: i64) -> Result<Vec<i64>> {
        Ok(sqlx::query_scalar(
            "SELECT department_id FROM incident_line WHERE incident_id = $1 ORDER BY department_id",
        )
        .bind(id)
        .fetch_all(self.pool())
        .await?)
    }

    /// A page of incidents the scope may see, newest first.
    pub async fn list_incidents(
        &self,
        scope: ListScope,
        f: &IncidentFilter,
        limit: i64,
    ) -> Result<Vec<IncidentSummary>> {
        let pattern = f.text.as_ref().map(|t| format!("%{}%", escape_like(t)));
        // The time bounds are always bound (open ends as the extremes of i64), so that both
        // databases can walk (company_id, created_at) between them instead of testing every row;
        // the reporting line is a join on incident_line's primary key (at most one row per
        // incident and department), probed only for the rows the walk reaches.
        let (before_at, before_id) = f.before.unwrap_or((i64::MAX, i64::MAX));
        // With words to search, the matching incidents are found first (on PostgreSQL through
        // the trigram indexes of migration 0003) and the page is cut from them; without, the
        // newest incidents are walked in index order. Two static statements, same parameters.
        let sql = match (pattern.is_some(), self.backend()) {
            (true, crate::Backend::Postgres) => concat!(
                "WITH m AS MATERIALIZED (SELECT id FROM incidents WHERE company_id = $1 AND \
                 (ref_no LIKE $5 ESCAPE '\\' OR title LIKE $5 ESCAPE '\\' OR description LIKE $5 ESCAPE '\\')) ",
                list_select!(),
                " JOIN m ON m.id = i.id ",
                list_where!(),
                " ORDER BY i.created_at DESC, i.id DESC LIMIT $12"
            ),
            // SQLite has no index for `LIKE '%…%'`: walking the newest incidents and stopping
            // at a page of matches reads fewer rows than matching all of them first.
            (true, crate::Backend::Sqlite) => concat!(
                list_select!(),
                " ",
                list_where!(),
                " AND (i.ref_no LIKE $5 ESCAPE '\\' OR i.title LIKE $5 ESCAPE '\\' \
                 OR i.description LIKE $5 ESCAPE '\\') ORDER BY i.created_at DESC, i.id DESC LIMIT $12"
            ),
            (false, _) => concat!(
                list_select!(),
                " ",
                list_where!(),
                " AND CAST($5 AS TEXT) IS NULL ORDER BY i.created_at DESC, i.id DESC LIMIT $12"
            ),
        };
        let rows = sqlx::query(sql)
            .bind(scope.company_id)
            .bind(flag(scope.all))
            .bind(scope.user_id)
            .bind(scope.head_of)
            .bind(pattern)
            .bind(f.status.as_deref())
            .bind(f.from.unwrap_or(i64::MIN))
            .bind(f.until.unwrap_or(i64::MAX))
            .bind(f.drill.map(flag))
            .bind(before_at)
            .bind(before_id)
            .bind(limit)
            .fetch_all(self.pool())
            .await?;
        Ok(rows
            .iter()
            .map(|r| IncidentSummary {
                id: r.get(0),
                ref_no: r.get(1),
                drill: r.get::<i64, _>(2) != 0,
                title: r.get(3),
                status: r.get(4),
                phase: r.get(5),
                reportable: r.get::<i64, _>(6) != 0,
                persons: r.get(7),
                department_id: r.get(8),
                created_at: r.get(9),
                acknowledged_at: r.get(10),
            })
            .collect())
    }

    /// Adds lines to an incident's timeline.
    pub async fn append_timeline(
        &self,
        incident_id: i64,
        at: i64,
        entries: &[NewEntry<'_>],
    ) -> Result<()> {
        let mut tx = self.pool().begin().await?;
        append_entries(&mut tx, incident_id, at, entries).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn timeline(&self, incident_id: i64) -> Result<Vec<TimelineEntry>> {
        let rows = sqlx::query(
            "SELECT id, at, actor, kind, text, detail, msg FROM incident_events \
             WHERE incident_id = $1 ORDER BY id",
        )
        .bind(incident_id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .iter()
            .map(|r| TimelineEntry {
                id: r.get(0),
                at: r.get(1),
                actor: r.get(2),
                kind: r.get(3),
                text: r.get(4),
                detail: r.get(5),
                msg: r.get(6),
            })
            .collect())
    }

    /// Replaces the facts of an incident if it is still at `version` (someone else's change in
    /// between is a conflict, never overwritten), applies the obligation changes and appends the
    /// timeline lines — all in one transaction.
    #[expect(clippy::too_many_arguments, reason = "one transaction, its parts")]
    pub async fn update_facts(
        &self,
        id: i64,
        version: i64,
        facts: &str,
        assessment: &str,
        reportable: bool,
        persons: Option<i64>,
        times: (Option<i64>, i64, i64),
        obligations: &[ObligationWrite],
        entries: &[NewEntry<'_>],
        now: i64,
    ) -> Result<()> {
        let mut tx = self.pool().begin().await?;
        let n = sqlx::query(
            "UPDATE incidents SET facts = $1, assessment = $2, reportable = $3, persons = $4, \
             occurred_at = $5, found_at = $6, knew_at = $7, version = version + 1, updated_at = $8 \
             WHERE id = $9 AND version = $10",
        )
        .bind(facts)
        .bind(assessment)
        .bind(flag(reportable))
        .bind(persons)
        .bind(times.0)
        .bind(times.1)
        .bind(times.2)
        .bind(now)
        .bind(id)
        .bind(version)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::Conflict("incident version"));
        }
        write_obligations(&mut tx, id, obligations, now).await?;
        append_entries(&mut tx, id, now, entries).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Writes obligation changes and timeline lines without touching the facts (used when the
    /// incident is filed).
    pub async fn apply_obligations(
        &self,
        id: i64,
        obligations: &[ObligationWrite],
        entries: &[NewEntry<'_>],
        now: i64,
    ) -> Result<()> {
        let mut tx = self.pool().begin().await?;
        write_obligations(&mut tx, id, obligations, now).await?;
        append_entries(&mut tx, id, now, entries).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn obligations(&self, incident_id: i64) -> Result<Vec<Obligation>> {
        let rows = sqlx::query(
            "SELECT id, incident_id, kind, due_on, warn_on, basis, status, done_at, done_by, basis_msg \
             FROM obligations WHERE incident_id = $1 ORDER BY id",
        )
        .bind(incident_id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.iter().map(obligation_from_row).collect())
    }

    /// Open obligations of open incidents due on or before `date` (ISO), for reminders and the
    /// dashboard.
    pub async fn open_obligations_until(
        &self,
        company_id: Option<i64>,
        date: &str,
    ) -> Result<Vec<Obligation>> {
        let rows = sqlx::query(
            "SELECT o.id, o.incident_id, o.kind, o.due_on, o.warn_on, o.basis, o.status, o.done_at, \
             o.done_by, o.basis_msg FROM obligations o JOIN incidents i ON i.id = o.incident_id \
             WHERE o.status = 'open' AND i.status = 'open' AND o.due_on IS NOT NULL AND o.due_on <= $1 \
             AND (CAST($2 AS BIGINT) IS NULL OR i.company_id = $2) ORDER BY o.due_on, o.id",
        )
        .bind(date)
        .bind(company_id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.iter().map(obligation_from_row).collect())
    }

    /// Marks an obligation done (or open again), with a timeline line.
    pub async fn set_obligation_status(
        &self,
        id: i64,
        status: &str,
        by: &str,
        entry: &NewEntry<'_>,
        now: i64,
    ) -> Result<()> {
        let mut tx = self.pool().begin().await?;
        let incident_id: i64 = sqlx::query_scalar(
            "UPDATE obligations SET status = $1, done_at = CASE WHEN $1 = 'done' THEN $2 ELSE NULL END, \
             done_by = CASE WHEN $1 = 'done' THEN $3 ELSE NULL END, updated_at = $2 WHERE id = $4 \
             RETURNING incident_id",
        )
        .bind(status)
        .bind(now)
        .bind(by)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::NotFound)?;
        append_entries(&mut tx, incident_id, now, std::slice::from_ref(entry)).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn get_obligation(&self, id: i64) -> Result<Obligation> {
        let r = sqlx::query(
            "SELECT id, incident_id, kind, due_on, warn_on, basis, status, done_at, done_by, basis_msg \
             FROM obligations WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::NotFound)?;
        Ok(obligation_from_row(&r))
    }

    /// Stores a new version of the first or second report; returns its version number.
    pub async fn add_report_version(
        &self,
        incident_id: i64,
        kind: &str,
        body: &str,
        by: Option<i64>,
        entry: &NewEntry<'_>,
        now: i64,
    ) -> Result<i64> {
        let mut tx = self.pool().begin().await?;
        // A write first: it takes the write lock (SQLite) and the incident's row lock
        // (PostgreSQL) before the version is read, so that concurrent saves queue up instead of
        // failing on a stale read snapshot or choosing the same number.
        lock_incident(&mut tx, incident_id, now).await?;
        let version: i64 = sqlx::query_scalar(
            "SELECT COALESCE(MAX(version), 0) + 1 FROM incident_reports WHERE incident_id = $1 AND kind = $2",
        )
        .bind(incident_id)
        .bind(kind)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO incident_reports (incident_id, kind, version, body, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(incident_id)
        .bind(kind)
        .bind(version)
        .bind(body)
        .bind(by)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(|e| StoreError::from_sqlx(e, "report version"))?;
        append_entries(&mut tx, incident_id, now, std::slice::from_ref(entry)).await?;
        tx.commit().await?;
        Ok(version)
    }

    /// Every version of a report kind, newest first.
    pub async fn report_versions(
        &self,
        incident_id: i64,
        kind: &str,
    ) -> Result<Vec<ReportVersion>> {
        let rows = sqlx::query(
            "SELECT version, body, created_by, created_at FROM incident_reports \
             WHERE incident_id = $1 AND kind = $2 ORDER BY version DESC",
        )
        .bind(incident_id)
        .bind(kind)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .iter()
            .map(|r| ReportVersion {
                version: r.get(0),
                body: r.get(1),
                created_by: r.get(2),
                created_at: r.get(3),
            })
            .collect())
    }

    /// Moves the incident to a phase, creating the phase's tasks, with a timeline line.
    pub async fn enter_phase(
        &self,
        incident_id: i64,
        phase: &str,
        tasks: &[(String, Option<String>, Option<String>)],
        closed: bool,
        entry: &NewEntry<'_>,
        now: i64,
    ) -> Result<()> {
        let mut tx = self.pool().begin().await?;
        let n = sqlx::query(
            "UPDATE incidents SET phase = $1, status = CASE WHEN $2 = 1 THEN 'closed' ELSE 'open' END, \
             closed_at = CASE WHEN $2 = 1 THEN $3 ELSE NULL END, updated_at = $3 WHERE id = $4",
        )
        .bind(phase)
        .bind(flag(closed))
        .bind(now)
        .bind(incident_id)
        .execute(&mut *tx)
        .await?;
        one_row(&n)?;
        for (title, due, template) in tasks {
            insert_task(
                &mut tx,
                incident_id,
                phase,
                (title, template.as_deref()),
                None,
                due.as_deref(),
                now,
            )
            .await?;
        }
        append_entries(&mut tx, incident_id, now, std::slice::from_ref(entry)).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Adds a task by hand.
    #[expect(clippy::too_many_arguments, reason = "one transaction, its parts")]
    pub async fn add_task(
        &self,
        incident_id: i64,
        phase: &str,
        title: &str,
        owner_id: Option<i64>,
        due_on: Option<&str>,
        entry: &NewEntry<'_>,
        now: i64,
    ) -> Result<i64> {
        let mut tx = self.pool().begin().await?;
        let id = insert_task(
            &mut tx,
            incident_id,
            phase,
            (title, None),
            owner_id,
            due_on,
            now,
        )
        .await?;
        append_entries(&mut tx, incident_id, now, std::slice::from_ref(entry)).await?;
        tx.commit().await?;
        Ok(id)
    }

    pub async fn tasks(&self, incident_id: i64) -> Result<Vec<Task>> {
        let rows = sqlx::query(
            "SELECT id, incident_id, phase, title, owner_id, due_on, status, done_at, template FROM tasks \
             WHERE incident_id = $1 ORDER BY id",
        )
        .bind(incident_id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.iter().map(task_from_row).collect())
    }

    pub async fn get_task(&self, id: i64) -> Result<Task> {
        let r = sqlx::query(
            "SELECT id, incident_id, phase, title, owner_id, due_on, status, done_at, template FROM tasks WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::NotFound)?;
        Ok(task_from_row(&r))
    }

    /// Updates a task's owner, due date and status, with a timeline line.
    pub async fn update_task(&self, t: &Task, entry: &NewEntry<'_>, now: i64) -> Result<()> {
        let mut tx = self.pool().begin().await?;
        let n = sqlx::query(
            "UPDATE tasks SET owner_id = $1, due_on = $2, status = $3, updated_at = $4, \
             done_at = CASE WHEN $3 = 'done' THEN COALESCE(done_at, $4) ELSE NULL END WHERE id = $5",
        )
        .bind(t.owner_id)
        .bind(t.due_on.as_deref())
        .bind(&t.status)
        .bind(now)
        .bind(t.id)
        .execute(&mut *tx)
        .await?;
        one_row(&n)?;
        append_entries(&mut tx, t.incident_id, now, std::slice::from_ref(entry)).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Unfinished tasks of open incidents due on or before `date` (ISO).
    pub async fn open_tasks_until(&self, company_id: Option<i64>, date: &str) -> Result<Vec<Task>> {
        let rows = sqlx::query(
            "SELECT t.id, t.incident_id, t.phase, t.title, t.owner_id, t.due_on, t.status, t.done_at, t.template \
             FROM tasks t JOIN incidents i ON i.id = t.incident_id \
             WHERE t.status <> 'done' AND i.status = 'open' AND t.due_on IS NOT NULL AND t.due_on <= $1 \
             AND (CAST($2 AS BIGINT) IS NULL OR i.company_id = $2) ORDER BY t.due_on, t.id",
        )
        .bind(date)
        .bind(company_id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.iter().map(task_from_row).collect())
    }

    /// Records that a reminder was sent; false when it had been already (by another process).
    pub async fn mark_reminder(&self, subject: &str, key: &str, now: i64) -> Result<bool> {
        let n = sqlx::query(
            "INSERT INTO reminders_sent (subject, key, sent_at) VALUES ($1, $2, $3) \
             ON CONFLICT (subject, key) DO NOTHING",
        )
        .bind(subject)
        .bind(key)
        .bind(now)
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    pub async fn reminders_sent(&self, subject: &str) -> Result<Vec<String>> {
        Ok(
            sqlx::query_scalar("SELECT key FROM reminders_sent WHERE subject = $1")
                .bind(subject)
                .fetch_all(self.pool())
                .await?,
        )
    }

    /// Records the first acknowledgement of an incident's alert; false if already acknowledged.
    pub async fn acknowledge_incident(
        &self,
        incident_id: i64,
        by: &str,
        entry: &NewEntry<'_>,
        now: i64,
    ) -> Result<bool> {
        let mut tx = self.pool().begin().await?;
        let n = sqlx::query(
            "UPDATE incidents SET acknowledged_at = $1, acknowledged_by = $2 \
             WHERE id = $3 AND acknowledged_at IS NULL",
        )
        .bind(now)
        .bind(by)
        .bind(incident_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        append_entries(&mut tx, incident_id, now, std::slice::from_ref(entry)).await?;
        tx.commit().await?;
        Ok(n == 1)
    }

    /// Counts for the dashboard: open incidents (drills apart) per company.
    pub async fn count_open_incidents(&self, company_id: i64, drill: bool) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM incidents WHERE company_id = $1 AND status = 'open' AND drill = $2",
        )
        .bind(company_id)
        .bind(flag(drill))
        .fetch_one(self.pool())
        .await?)
    }
}

async fn write_obligations(
    tx: &mut Transaction<'_, Any>,
    incident_id: i64,
    obligations: &[ObligationWrite],
    now: i64,
) -> Result<()> {
    for o in obligations {
        match o {
            ObligationWrite::Upsert {
                kind,
                due_on,
                warn_on,
                basis,
                basis_msg,
            } => {
                sqlx::query(
                    "INSERT INTO obligations (incident_id, kind, due_on, warn_on, basis, status, updated_at, basis_msg) \
                     VALUES ($1, $2, $3, $4, $5, 'open', $6, $7) ON CONFLICT (incident_id, kind) DO UPDATE \
                     SET due_on = excluded.due_on, warn_on = excluded.warn_on, basis = excluded.basis, \
                     basis_msg = excluded.basis_msg, \
                     status = 'open', done_at = NULL, done_by = NULL, updated_at = excluded.updated_at",
                )
                .bind(incident_id)
                .bind(kind)
                .bind(due_on.as_deref())
                .bind(warn_on.as_deref())
                .bind(basis)
                .bind(now)
                .bind(basis_msg.as_deref())
                .execute(&mut **tx)
                .await?;
            }
            ObligationWrite::Cancel { kind } => {
                sqlx::query(
                    "UPDATE obligations SET status = 'not_required', updated_at = $1 \
                     WHERE incident_id = $2 AND kind = $3 AND status = 'open'",
                )
                .bind(now)
                .bind(incident_id)
                .bind(kind)
                .execute(&mut **tx)
                .await?;
            }
        }
    }
    Ok(())
}

async fn insert_task(
    tx: &mut Transaction<'_, Any>,
    incident_id: i64,
    phase: &str,
    (title, template): (&str, Option<&str>),
    owner_id: Option<i64>,
    due_on: Option<&str>,
    now: i64,
) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO tasks (incident_id, phase, title, owner_id, due_on, status, created_at, updated_at, template) \
         VALUES ($1, $2, $3, $4, $5, 'todo', $6, $6, $7) RETURNING id",
    )
    .bind(incident_id)
    .bind(phase)
    .bind(title)
    .bind(owner_id)
    .bind(due_on)
    .bind(now)
    .bind(template)
    .fetch_one(&mut **tx)
    .await?)
}

fn obligation_from_row(r: &AnyRow) -> Obligation {
    Obligation {
        id: r.get(0),
        incident_id: r.get(1),
        kind: r.get(2),
        due_on: r.get(3),
        warn_on: r.get(4),
        basis: r.get(5),
        status: r.get(6),
        done_at: r.get(7),
        done_by: r.get(8),
        basis_msg: r.get(9),
    }
}

fn task_from_row(r: &AnyRow) -> Task {
    Task {
        id: r.get(0),
        incident_id: r.get(1),
        phase: r.get(2),
        title: r.get(3),
        owner_id: r.get(4),
        due_on: r.get(5),
        status: r.get(6),
        done_at: r.get(7),
        template: r.get(8),
    }
}

/// Locks the incident for the rest of the transaction (a row lock on PostgreSQL, the write lock
/// on SQLite) by touching `updated_at`, so that what the transaction reads next — the latest
/// version, the latest step — sees every committed change. `NotFound` if there is no such
/// incident.
pub(crate) async fn lock_incident(
    tx: &mut Transaction<'_, Any>,
    incident_id: i64,
    now: i64,
) -> Result<()> {
    let n = sqlx::query("UPDATE incidents SET updated_at = $1 WHERE id = $2")
        .bind(now)
        .bind(incident_id)
        .execute(&mut **tx)
        .await?;
    one_row(&n)
}

/// Escapes `%`, `_` and `\` so that searched text matches literally.
pub fn escape_like(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}
