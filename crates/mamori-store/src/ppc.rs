//! The report to the PPC (個人情報保護委員会への漏えい等報告): every saved text is a new version
//! per incident and stage (`preliminary`, `final`), earlier versions are kept, and a version is
//! marked submitted once, with when and by whom.
//!
//! Saving and submitting each write their line on the incident's timeline in the same
//! transaction as the row.

use crate::incidents::{append_entries, lock_incident, NewEntry};
use crate::{Result, Store, StoreError};
use sqlx::any::AnyRow;
use sqlx::Row;

/// A version of the report as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PpcReport {
    pub id: i64,
    pub incident_id: i64,
    /// `preliminary` or `final`.
    pub stage: String,
    pub version: i64,
    /// The nine items (JSON of `mamori_domain::incident::ppc::Report`).
    pub body: String,
    pub created_by: Option<i64>,
    pub created_at: i64,
    pub submitted_at: Option<i64>,
    /// The submitter as shown on the timeline (name and login).
    pub submitted_by: Option<String>,
}

fn report_from_row(r: &AnyRow) -> PpcReport {
    PpcReport {
        id: r.get(0),
        incident_id: r.get(1),
        stage: r.get(2),
        version: r.get(3),
        body: r.get(4),
        created_by: r.get(5),
        created_at: r.get(6),
        submitted_at: r.get(7),
        submitted_by: r.get(8),
    }
}

impl Store {
    /// Stores a new version of the report of a stage (the highest version of the incident and
    /// stage plus one) with its timeline line, in which `{version}` is replaced by the version
    /// number; returns the version number. The incident row is locked first, so two saves at
    /// once get consecutive versions (or one is refused as busy), never the same one.
    pub async fn save_ppc_report(
        &self,
        incident_id: i64,
        stage: &str,
        body: &str,
        by: Option<i64>,
        entry: &NewEntry<'_>,
        now: i64,
    ) -> Result<i64> {
        let mut tx = self.pool().begin().await?;
        lock_incident(&mut tx, incident_id, now).await?;
        let version: i64 = sqlx::query_scalar(
            "SELECT COALESCE(MAX(version), 0) + 1 FROM ppc_reports \
             WHERE incident_id = $1 AND stage = $2",
        )
        .bind(incident_id)
        .bind(stage)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO ppc_reports (incident_id, stage, version, body, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(incident_id)
        .bind(stage)
        .bind(version)
        .bind(body)
        .bind(by)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(|e| StoreError::from_sqlx(e, "report version"))?;
        let text = entry.text.replace("{version}", &version.to_string());
        let msg = entry
            .msg
            .as_ref()
            .map(|m| m.replace("{version}", &version.to_string()));
        let entry = NewEntry {
            text,
            msg,
            ..entry.clone()
        };
        append_entries(&mut tx, incident_id, now, std::slice::from_ref(&entry)).await?;
        tx.commit().await?;
        Ok(version)
    }

    /// Every version of the report of an incident, of one stage or (`None`) of both, newest
    /// first within a stage, the preliminary stage first.
    pub async fn ppc_reports(
        &self,
        incident_id: i64,
        stage: Option<&str>,
    ) -> Result<Vec<PpcReport>> {
        let rows = sqlx::query(
            "SELECT id, incident_id, stage, version, body, created_by, created_at, submitted_at, \
             submitted_by FROM ppc_reports \
             WHERE incident_id = $1 AND (CAST($2 AS TEXT) IS NULL OR stage = $2) \
             ORDER BY CASE WHEN stage = 'preliminary' THEN 0 ELSE 1 END, version DESC",
        )
        .bind(incident_id)
        .bind(stage)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.iter().map(report_from_row).collect())
    }

    /// One version; `NotFound` when the incident has no such version.
    pub async fn get_ppc_report(
        &self,
        incident_id: i64,
        stage: &str,
        version: i64,
    ) -> Result<PpcReport> {
        let r = sqlx::query(
            "SELECT id, incident_id, stage, version, body, created_by, created_at, submitted_at, \
             submitted_by FROM ppc_reports WHERE incident_id = $1 AND stage = $2 AND version = $3",
        )
        .bind(incident_id)
        .bind(stage)
        .bind(version)
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::NotFound)?;
        Ok(report_from_row(&r))
    }

    /// Records that a version was submitted, when and by whom, with its timeline line. A
    /// version is submitted once: a second attempt is `Conflict("submission")` and changes
    /// nothing; an unknown version is `NotFound`.
    pub async fn submit_ppc_report(
        &self,
        incident_id: i64,
        stage: &str,
        version: i64,
        by: &str,
        entry: &NewEntry<'_>,
        now: i64,
    ) -> Result<()> {
        let mut tx = self.pool().begin().await?;
        let n = sqlx::query(
            "UPDATE ppc_reports SET submitted_at = $1, submitted_by = $2 \
             WHERE incident_id = $3 AND stage = $4 AND version = $5 AND submitted_at IS NULL",
        )
        .bind(now)
        .bind(by)
        .bind(incident_id)
        .bind(stage)
        .bind(version)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 0 {
            let exists: Option<i64> = sqlx::query_scalar(
                "SELECT id FROM ppc_reports WHERE incident_id = $1 AND stage = $2 AND version = $3",
            )
            .bind(incident_id)
            .bind(stage)
            .bind(version)
            .fetch_optional(&mut *tx)
            .await?;
            return Err(match exists {
                Some(_) => StoreError::Conflict("submission"),
                None => StoreError::NotFound,
            });
        }
        sqlx::query("UPDATE incidents SET updated_at = $1 WHERE id = $2")
            .bind(now)
            .bind(incident_id)
            .execute(&mut *tx)
            .await?;
        append_entries(&mut tx, incident_id, now, std::slice::from_ref(entry)).await?;
        tx.commit().await?;
        Ok(())
    }
}
