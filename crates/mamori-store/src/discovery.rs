//! Discovery (issue 16, part 2): locations, their scans, the files found in them, and the scan
//! keys people sign their own PCs' reports with.
//!
//! A scan is claimed like a job — one conditional UPDATE, with a lease the running scan extends
//! with each progress report — so a scan whose process died is taken up again by another, and
//! two processes never run the same scan. Masked samples arrive sealed; this module never sees
//! a value.

use crate::{Result, Store};
use sqlx::any::AnyRow;
use sqlx::Row;

/// A location to store.
#[derive(Debug, Clone, Default)]
pub struct NewLocation {
    pub company_id: i64,
    pub department_id: i64,
    /// `folder` or `device`.
    pub kind: String,
    pub name: String,
    pub path: String,
    pub owner_user_id: Option<i64>,
    pub interval_hours: i64,
    pub next_scan_at: Option<i64>,
    pub created_at: i64,
    pub created_by: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocationRow {
    pub id: i64,
    pub company_id: i64,
    pub department_id: i64,
    pub kind: String,
    pub name: String,
    pub path: String,
    pub owner_user_id: Option<i64>,
    pub interval_hours: i64,
    pub enabled: bool,
    pub next_scan_at: Option<i64>,
    pub created_at: i64,
    pub created_by: String,
}

macro_rules! location_cols {
    () => {
        "id, company_id, department_id, kind, name, path, owner_user_id, interval_hours, \
         enabled, next_scan_at, created_at, created_by"
    };
}

fn location_from_row(r: &AnyRow) -> LocationRow {
    LocationRow {
        id: r.get(0),
        company_id: r.get(1),
        department_id: r.get(2),
        kind: r.get(3),
        name: r.get(4),
        path: r.get(5),
        owner_user_id: r.get(6),
        interval_hours: r.get(7),
        enabled: r.get::<i64, _>(8) != 0,
        next_scan_at: r.get(9),
        created_at: r.get(10),
        created_by: r.get(11),
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ScanRow {
    pub id: i64,
    pub location_id: i64,
    pub company_id: i64,
    /// `schedule`, `manual` or `report`.
    pub source: String,
    /// `queued`, `running`, `done` or `failed`.
    pub status: String,
    pub requested_by: String,
    pub queued_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub files_seen: i64,
    pub files_read: i64,
    pub files_unchanged: i64,
    pub files_with_data: i64,
    pub files_not_read: i64,
    pub files_removed: i64,
    pub files_total: Option<i64>,
    pub bytes_read: i64,
    /// JSON object of kind code → count over the files holding data after this scan.
    pub counts: String,
    pub error: Option<String>,
    pub report_key_id: Option<String>,
    pub report_scanned_at: Option<String>,
}

macro_rules! scan_cols {
    () => {
        "id, location_id, company_id, source, status, requested_by, queued_at, started_at, \
         finished_at, files_seen, files_read, files_unchanged, files_with_data, files_not_read, \
         files_removed, files_total, bytes_read, counts, error, report_key_id, report_scanned_at"
    };
}

fn scan_from_row(r: &AnyRow) -> ScanRow {
    ScanRow {
        id: r.get(0),
        location_id: r.get(1),
        company_id: r.get(2),
        source: r.get(3),
        status: r.get(4),
        requested_by: r.get(5),
        queued_at: r.get(6),
        started_at: r.get(7),
        finished_at: r.get(8),
        files_seen: r.get(9),
        files_read: r.get(10),
        files_unchanged: r.get(11),
        files_with_data: r.get(12),
        files_not_read: r.get(13),
        files_removed: r.get(14),
        files_total: r.get(15),
        bytes_read: r.get(16),
        counts: r.get(17),
        error: r.get(18),
        report_key_id: r.get(19),
        report_scanned_at: r.get(20),
    }
}

/// Progress of a running scan.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScanProgress {
    pub files_seen: i64,
    pub files_read: i64,
    pub files_unchanged: i64,
    pub files_not_read: i64,
    pub files_removed: i64,
    pub files_total: Option<i64>,
    pub bytes_read: i64,
}

/// What the last scan knew of a file (for incremental scanning).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenFile {
    pub id: i64,
    pub path: String,
    pub size: i64,
    pub mtime: i64,
    pub sha256: String,
    pub scanner: String,
    pub counts: String,
    pub change: String,
}

/// A file's result from this scan.
#[derive(Debug, Clone, Default)]
pub struct FileResult {
    pub location_id: i64,
    pub company_id: i64,
    pub path: String,
    pub size: i64,
    pub mtime: i64,
    pub sha256: String,
    pub scanner: String,
    pub format: String,
    pub status: String,
    pub reason: Option<String>,
    pub counts: String,
    /// `new`, `changed` or `unchanged` (read again, same findings).
    pub change: String,
    pub samples_sealed: Option<String>,
    pub scan_id: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRow {
    pub id: i64,
    pub location_id: i64,
    pub company_id: i64,
    pub path: String,
    pub size: i64,
    pub mtime: i64,
    pub format: String,
    pub status: String,
    pub reason: Option<String>,
    pub counts: String,
    pub prev_counts: Option<String>,
    pub change: String,
    pub samples_sealed: Option<String>,
    pub first_scan_id: i64,
    pub last_scan_id: i64,
    pub changed_scan_id: i64,
    pub ledger_dataset_id: Option<i64>,
    pub disposition: Option<String>,
    pub disposition_note: Option<String>,
    pub disposition_by: Option<String>,
    pub disposition_at: Option<i64>,
}

macro_rules! file_cols {
    () => {
        "id, location_id, company_id, path, size, mtime, format, status, reason, counts, \
         prev_counts, change, samples_sealed, first_scan_id, last_scan_id, changed_scan_id, \
         ledger_dataset_id, disposition, disposition_note, disposition_by, disposition_at"
    };
}

fn file_from_row(r: &AnyRow) -> FileRow {
    FileRow {
        id: r.get(0),
        location_id: r.get(1),
        company_id: r.get(2),
        path: r.get(3),
        size: r.get(4),
        mtime: r.get(5),
        format: r.get(6),
        status: r.get(7),
        reason: r.get(8),
        counts: r.get(9),
        prev_counts: r.get(10),
        change: r.get(11),
        samples_sealed: r.get(12),
        first_scan_id: r.get(13),
        last_scan_id: r.get(14),
        changed_scan_id: r.get(15),
        ledger_dataset_id: r.get(16),
        disposition: r.get(17),
        disposition_note: r.get(18),
        disposition_by: r.get(19),
        disposition_at: r.get(20),
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanKeyRow {
    pub key_id: String,
    pub company_id: i64,
    pub user_id: i64,
    pub public_key: String,
    pub label: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
    pub revoked_by: Option<String>,
}

fn key_from_row(r: &AnyRow) -> ScanKeyRow {
    ScanKeyRow {
        key_id: r.get(0),
        company_id: r.get(1),
        user_id: r.get(2),
        public_key: r.get(3),
        label: r.get(4),
        created_at: r.get(5),
        revoked_at: r.get(6),
        revoked_by: r.get(7),
    }
}

/// An imported report, stored as one finished scan.
#[derive(Debug, Clone, Default)]
pub struct ReportScan {
    pub location_id: i64,
    pub company_id: i64,
    pub requested_by: String,
    pub now: i64,
    pub sha256: String,
    pub key_id: String,
    pub scanned_at: String,
    pub files_total: i64,
}

impl Store {
    // ───────────────────────────── locations ─────────────────────────────

    pub async fn insert_location(&self, n: &NewLocation) -> Result<i64> {
        sqlx::query_scalar(
            "INSERT INTO discovery_locations (company_id, department_id, kind, name, path, \
             owner_user_id, interval_hours, enabled, next_scan_at, created_at, created_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $8, $9, $10) RETURNING id",
        )
        .bind(n.company_id)
        .bind(n.department_id)
        .bind(&n.kind)
        .bind(&n.name)
        .bind(&n.path)
        .bind(n.owner_user_id)
        .bind(n.interval_hours)
        .bind(n.next_scan_at)
        .bind(n.created_at)
        .bind(&n.created_by)
        .fetch_one(self.pool())
        .await
        .map_err(|e| crate::StoreError::from_sqlx(e, "name"))
    }

    /// Changes a location's settings; `next_scan_at` is recomputed by the caller.
    #[allow(clippy::too_many_arguments)]
    pub async fn update_location(
        &self,
        id: i64,
        name: &str,
        path: &str,
        department_id: i64,
        interval_hours: i64,
        enabled: bool,
        next_scan_at: Option<i64>,
    ) -> Result<()> {
        let r = sqlx::query(
            "UPDATE discovery_locations SET name = $1, path = $2, department_id = $3, \
             interval_hours = $4, enabled = $5, next_scan_at = $6 WHERE id = $7",
        )
        .bind(name)
        .bind(path)
        .bind(department_id)
        .bind(interval_hours)
        .bind(i64::from(enabled))
        .bind(next_scan_at)
        .bind(id)
        .execute(self.pool())
        .await
        .map_err(|e| crate::StoreError::from_sqlx(e, "name"))?;
        if r.rows_affected() == 0 {
            return Err(crate::StoreError::NotFound);
        }
        Ok(())
    }

    pub async fn location(&self, id: i64) -> Result<LocationRow> {
        let r = sqlx::query(concat!(
            "SELECT ",
            location_cols!(),
            " FROM discovery_locations WHERE id = $1"
        ))
        .bind(id)
        .fetch_one(self.pool())
        .await?;
        Ok(location_from_row(&r))
    }

    pub async fn locations(&self, company_id: i64) -> Result<Vec<LocationRow>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            location_cols!(),
            " FROM discovery_locations WHERE company_id = $1 ORDER BY kind DESC, name, id"
        ))
        .bind(company_id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.iter().map(location_from_row).collect())
    }

    /// The location of one person's device (by host name), if reports came from it before.
    pub async fn device_location(
        &self,
        company_id: i64,
        owner_user_id: i64,
        host: &str,
    ) -> Result<Option<LocationRow>> {
        let r = sqlx::query(concat!(
            "SELECT ",
            location_cols!(),
            " FROM discovery_locations WHERE company_id = $1 AND kind = 'device' \
             AND owner_user_id = $2 AND path = $3"
        ))
        .bind(company_id)
        .bind(owner_user_id)
        .bind(host)
        .fetch_optional(self.pool())
        .await?;
        Ok(r.as_ref().map(location_from_row))
    }

    /// Queues a scan of every enabled folder whose time has come and that has no scan queued
    /// or running, moving its `next_scan_at` on by compare-and-set (so two processes queue it
    /// once). Returns the new scans' ids.
    pub async fn queue_due_scans(&self, now: i64) -> Result<Vec<i64>> {
        let due = sqlx::query(
            "SELECT id, company_id, next_scan_at, interval_hours FROM discovery_locations \
             WHERE kind = 'folder' AND enabled = 1 AND next_scan_at IS NOT NULL \
             AND next_scan_at <= $1 ORDER BY next_scan_at, id",
        )
        .bind(now)
        .fetch_all(self.pool())
        .await?;
        let mut out = Vec::new();
        for r in due {
            let (id, company, next, hours): (i64, i64, i64, i64) =
                (r.get(0), r.get(1), r.get(2), r.get(3));
            let later = mamori_domain::discovery::next_scan(now, hours);
            let mut tx = self.pool().begin().await?;
            let moved = sqlx::query(
                "UPDATE discovery_locations SET next_scan_at = $1 WHERE id = $2 AND next_scan_at = $3",
            )
            .bind(later)
            .bind(id)
            .bind(next)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if moved == 0 {
                continue;
            }
            let busy: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM discovery_scans WHERE location_id = $1 \
                 AND status IN ('queued', 'running')",
            )
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
            if busy == 0 {
                let sid: i64 = sqlx::query_scalar(
                    "INSERT INTO discovery_scans (location_id, company_id, source, status, \
                     requested_by, queued_at) VALUES ($1, $2, 'schedule', 'queued', 'system', $3) \
                     RETURNING id",
                )
                .bind(id)
                .bind(company)
                .bind(now)
                .fetch_one(&mut *tx)
                .await?;
                out.push(sid);
            }
            tx.commit().await?;
        }
        Ok(out)
    }

    /// Queues a scan asked for by a person; `None` when one is already queued or running.
    pub async fn queue_scan(
        &self,
        location_id: i64,
        company_id: i64,
        requested_by: &str,
        now: i64,
    ) -> Result<Option<i64>> {
        let mut tx = self.pool().begin().await?;
        // A write first, so that two requests at once are serialised (see ARCHITECTURE.md).
        sqlx::query("UPDATE discovery_locations SET created_at = created_at WHERE id = $1")
            .bind(location_id)
            .execute(&mut *tx)
            .await?;
        let busy: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM discovery_scans WHERE location_id = $1 \
             AND status IN ('queued', 'running')",
        )
        .bind(location_id)
        .fetch_one(&mut *tx)
        .await?;
        if busy > 0 {
            return Ok(None);
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO discovery_scans (location_id, company_id, source, status, requested_by, \
             queued_at) VALUES ($1, $2, 'manual', 'queued', $3, $4) RETURNING id",
        )
        .bind(location_id)
        .bind(company_id)
        .bind(requested_by)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Some(id))
    }

    /// Claims the oldest queued scan, or a running one whose lease ran out (its process died).
    pub async fn claim_scan(
        &self,
        worker: &str,
        now: i64,
        lease_until: i64,
    ) -> Result<Option<ScanRow>> {
        let r = sqlx::query(concat!(
            "UPDATE discovery_scans SET status = 'running', worker = $1, lease_until = $2, \
             started_at = COALESCE(started_at, $3) \
             WHERE id = (SELECT id FROM discovery_scans WHERE status = 'queued' \
                         OR (status = 'running' AND lease_until < $3) ORDER BY id LIMIT 1) \
             AND (status = 'queued' OR (status = 'running' AND lease_until < $3)) RETURNING ",
            scan_cols!()
        ))
        .bind(worker)
        .bind(lease_until)
        .bind(now)
        .fetch_optional(self.pool())
        .await?;
        Ok(r.as_ref().map(scan_from_row))
    }

    /// Records progress and extends the lease; false when the scan is no longer this
    /// worker's (its lease ran out and another took it over).
    pub async fn scan_progress(
        &self,
        id: i64,
        worker: &str,
        p: &ScanProgress,
        lease_until: i64,
    ) -> Result<bool> {
        self.write_progress(id, Some(worker), p, Some(lease_until))
            .await
    }

    /// The figures of a scan; with a worker, only while it holds the scan (and its lease is
    /// extended), without one (an imported report) unconditionally.
    async fn write_progress(
        &self,
        id: i64,
        worker: Option<&str>,
        p: &ScanProgress,
        lease_until: Option<i64>,
    ) -> Result<bool> {
        let r = sqlx::query(
            "UPDATE discovery_scans SET files_seen = $1, files_read = $2, files_unchanged = $3, \
             files_not_read = $4, files_removed = $5, files_total = $6, bytes_read = $7, \
             lease_until = COALESCE($8, lease_until) WHERE id = $9 \
             AND (CAST($10 AS TEXT) IS NULL OR (worker = $10 AND status = 'running'))",
        )
        .bind(p.files_seen)
        .bind(p.files_read)
        .bind(p.files_unchanged)
        .bind(p.files_not_read)
        .bind(p.files_removed)
        .bind(p.files_total)
        .bind(p.bytes_read)
        .bind(lease_until)
        .bind(id)
        .bind(worker)
        .execute(self.pool())
        .await?;
        Ok(r.rows_affected() == 1)
    }

    /// Gives a running scan back to the queue (its process is stopping); it resumes from what
    /// was saved, since saved files count as seen.
    pub async fn release_scan(&self, id: i64, worker: &str) -> Result<()> {
        sqlx::query(
            "UPDATE discovery_scans SET status = 'queued', worker = NULL, lease_until = NULL \
             WHERE id = $1 AND worker = $2 AND status = 'running'",
        )
        .bind(id)
        .bind(worker)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Ends a scan this worker still holds (see [`Store::finish_scan`]); false when it is no
    /// longer this worker's, and nothing is changed then.
    pub async fn finish_claimed_scan(
        &self,
        id: i64,
        worker: &str,
        status: &str,
        error: Option<&str>,
        now: i64,
    ) -> Result<bool> {
        self.end_scan(id, Some(worker), status, error, now).await
    }

    /// Ends a scan: done with the location's totals, or failed with why.
    pub async fn finish_scan(
        &self,
        id: i64,
        status: &str,
        error: Option<&str>,
        now: i64,
    ) -> Result<()> {
        self.end_scan(id, None, status, error, now)
            .await
            .map(|_| ())
    }

    async fn end_scan(
        &self,
        id: i64,
        worker: Option<&str>,
        status: &str,
        error: Option<&str>,
        now: i64,
    ) -> Result<bool> {
        let scan = self.scan(id).await?;
        let (with_data, counts) = self.location_totals(scan.location_id).await?;
        let r = sqlx::query(
            "UPDATE discovery_scans SET status = $1, error = $2, finished_at = $3, \
             lease_until = NULL, files_with_data = $4, counts = $5 WHERE id = $6 \
             AND (CAST($7 AS TEXT) IS NULL OR (worker = $7 AND status = 'running'))",
        )
        .bind(status)
        .bind(error)
        .bind(now)
        .bind(with_data)
        .bind(counts)
        .bind(id)
        .bind(worker)
        .execute(self.pool())
        .await?;
        Ok(r.rows_affected() == 1)
    }

    /// Ends the scan of an imported report: its figures, then done with the totals.
    pub async fn report_scan_done(&self, id: i64, p: &ScanProgress, now: i64) -> Result<()> {
        self.write_progress(id, None, p, None).await?;
        self.finish_scan(id, "done", None, now).await
    }

    /// A report whose import failed half-way: its scan failed, and its hash freed so that the
    /// same report can be imported again.
    pub async fn fail_report_scan(&self, id: i64, now: i64) -> Result<()> {
        sqlx::query("UPDATE discovery_scans SET report_sha256 = NULL WHERE id = $1")
            .bind(id)
            .execute(self.pool())
            .await?;
        self.finish_scan(
            id,
            "failed",
            Some("取り込みに失敗しました / the import failed"),
            now,
        )
        .await
    }

    /// Files holding data in a location now, and their counts per kind (a JSON object).
    async fn location_totals(&self, location_id: i64) -> Result<(i64, String)> {
        let rows: Vec<String> = sqlx::query_scalar(
            "SELECT counts FROM discovery_files WHERE location_id = $1 AND change <> 'removed' \
             AND counts <> '{}'",
        )
        .bind(location_id)
        .fetch_all(self.pool())
        .await?;
        let mut total = mamori_domain::discovery::Counts::new();
        for c in &rows {
            for (k, n) in mamori_domain::discovery::counts_from_json(c) {
                *total.entry(k).or_default() += n;
            }
        }
        Ok((
            i64::try_from(rows.len()).unwrap_or(i64::MAX),
            mamori_domain::discovery::counts_to_json(&total),
        ))
    }

    pub async fn scan(&self, id: i64) -> Result<ScanRow> {
        let r = sqlx::query(concat!(
            "SELECT ",
            scan_cols!(),
            " FROM discovery_scans WHERE id = $1"
        ))
        .bind(id)
        .fetch_one(self.pool())
        .await?;
        Ok(scan_from_row(&r))
    }

    /// The newest scans of a location, newest first.
    pub async fn scans(&self, location_id: i64, limit: i64) -> Result<Vec<ScanRow>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            scan_cols!(),
            " FROM discovery_scans WHERE location_id = $1 ORDER BY id DESC LIMIT $2"
        ))
        .bind(location_id)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.iter().map(scan_from_row).collect())
    }

    /// The newest scan of every location of a company (one query for the list page).
    pub async fn latest_scans(&self, company_id: i64) -> Result<Vec<ScanRow>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            scan_cols!(),
            " FROM discovery_scans s WHERE company_id = $1 AND id = \
             (SELECT MAX(id) FROM discovery_scans t WHERE t.location_id = s.location_id)"
        ))
        .bind(company_id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.iter().map(scan_from_row).collect())
    }

    /// The newest finished scan of every location of a company.
    pub async fn latest_finished_scans(&self, company_id: i64) -> Result<Vec<ScanRow>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            scan_cols!(),
            " FROM discovery_scans s WHERE company_id = $1 AND id = \
             (SELECT MAX(id) FROM discovery_scans t WHERE t.location_id = s.location_id \
              AND t.status = 'done')"
        ))
        .bind(company_id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.iter().map(scan_from_row).collect())
    }

    // ───────────────────────────── files ─────────────────────────────

    /// Everything the last scans knew of a location's files that are still there.
    pub async fn seen_files(&self, location_id: i64) -> Result<Vec<SeenFile>> {
        let rows = sqlx::query(
            "SELECT id, path, size, mtime, sha256, scanner, counts, change FROM discovery_files \
             WHERE location_id = $1 AND change <> 'removed'",
        )
        .bind(location_id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .iter()
            .map(|r| SeenFile {
                id: r.get(0),
                path: r.get(1),
                size: r.get(2),
                mtime: r.get(3),
                sha256: r.get(4),
                scanner: r.get(5),
                counts: r.get(6),
                change: r.get(7),
            })
            .collect())
    }

    /// Stores the results of files read in this scan, in one transaction. A file seen before
    /// keeps its id, ledger entry and first scan; its previous counts are kept when they differ.
    pub async fn save_files(&self, files: &[FileResult]) -> Result<()> {
        let mut tx = self.pool().begin().await?;
        for f in files {
            sqlx::query(
                "INSERT INTO discovery_files (location_id, company_id, path, size, mtime, sha256, \
                 scanner, format, status, reason, counts, prev_counts, change, samples_sealed, \
                 first_scan_id, last_scan_id, changed_scan_id) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, NULL, $12, $13, $14, $14, $14) \
                 ON CONFLICT (location_id, path) DO UPDATE SET size = excluded.size, \
                 mtime = excluded.mtime, sha256 = excluded.sha256, scanner = excluded.scanner, \
                 format = excluded.format, status = excluded.status, reason = excluded.reason, \
                 prev_counts = CASE WHEN discovery_files.change = 'removed' THEN NULL \
                                    WHEN discovery_files.counts = excluded.counts THEN discovery_files.prev_counts \
                                    ELSE discovery_files.counts END, \
                 counts = excluded.counts, \
                 change = CASE WHEN discovery_files.change = 'removed' THEN 'new' \
                               WHEN discovery_files.counts = excluded.counts THEN discovery_files.change \
                               ELSE excluded.change END, \
                 samples_sealed = excluded.samples_sealed, last_scan_id = excluded.last_scan_id, \
                 changed_scan_id = CASE WHEN discovery_files.change <> 'removed' \
                                        AND discovery_files.counts = excluded.counts \
                                        THEN discovery_files.changed_scan_id ELSE excluded.changed_scan_id END",
            )
            .bind(f.location_id)
            .bind(f.company_id)
            .bind(&f.path)
            .bind(f.size)
            .bind(f.mtime)
            .bind(&f.sha256)
            .bind(&f.scanner)
            .bind(&f.format)
            .bind(&f.status)
            .bind(&f.reason)
            .bind(&f.counts)
            .bind(&f.change)
            .bind(&f.samples_sealed)
            .bind(f.scan_id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// A file whose time changed but whose bytes did not: the new time is kept, nothing else.
    pub async fn touch_file(&self, id: i64, mtime: i64, scan_id: i64) -> Result<()> {
        sqlx::query("UPDATE discovery_files SET mtime = $1, last_scan_id = $2 WHERE id = $3")
            .bind(mtime)
            .bind(scan_id)
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// A location moved to another folder: what was known of the old folder's files no longer
    /// holds — they are marked removed, without previous counts, ledger ties or deletion
    /// records, so that a file of the same name in the new folder starts afresh.
    pub async fn reset_location_files(&self, location_id: i64) -> Result<()> {
        sqlx::query(
            "UPDATE discovery_files SET change = 'removed', prev_counts = NULL, \
             changed_scan_id = 0, ledger_dataset_id = NULL, disposition = NULL, \
             disposition_note = NULL, disposition_by = NULL, disposition_at = NULL \
             WHERE location_id = $1",
        )
        .bind(location_id)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Files no longer in their folder (or report) are marked removed in this scan.
    pub async fn mark_removed(&self, ids: &[i64], scan_id: i64) -> Result<()> {
        let mut tx = self.pool().begin().await?;
        for id in ids {
            sqlx::query(
                "UPDATE discovery_files SET prev_counts = counts, change = 'removed', \
                 changed_scan_id = $1, last_scan_id = $1 WHERE id = $2",
            )
            .bind(scan_id)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The files of a location that hold personal data, were not read, or lost personal data
    /// in the given scan (emptied or removed), by path. Clean files are only counted.
    pub async fn location_files(&self, location_id: i64, scan_id: i64) -> Result<Vec<FileRow>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            file_cols!(),
            " FROM discovery_files WHERE location_id = $1 AND ((counts <> '{}' AND change <> 'removed') \
             OR (status <> 'scanned' AND change <> 'removed') \
             OR (changed_scan_id = $2 AND COALESCE(prev_counts, '{}') <> '{}')) ORDER BY path"
        ))
        .bind(location_id)
        .bind(scan_id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.iter().map(file_from_row).collect())
    }

    pub async fn discovery_file(&self, id: i64) -> Result<FileRow> {
        let r = sqlx::query(concat!(
            "SELECT ",
            file_cols!(),
            " FROM discovery_files WHERE id = $1"
        ))
        .bind(id)
        .fetch_one(self.pool())
        .await?;
        Ok(file_from_row(&r))
    }

    pub async fn set_file_dataset(&self, id: i64, dataset_id: Option<i64>) -> Result<()> {
        sqlx::query("UPDATE discovery_files SET ledger_dataset_id = $1 WHERE id = $2")
            .bind(dataset_id)
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    pub async fn set_file_disposition(
        &self,
        id: i64,
        disposition: Option<&str>,
        note: Option<&str>,
        by: &str,
        at: i64,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE discovery_files SET disposition = $1, disposition_note = $2, \
             disposition_by = $3, disposition_at = $4 WHERE id = $5",
        )
        .bind(disposition)
        .bind(note)
        .bind(by)
        .bind(at)
        .bind(id)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    // ───────────────────────────── reports and keys ─────────────────────────────

    /// Starts the scan an imported report becomes (running, so the files can be saved under
    /// it); the report's hash is unique, so one report is imported once.
    pub async fn begin_report_scan(&self, r: &ReportScan) -> Result<i64> {
        sqlx::query_scalar(
            "INSERT INTO discovery_scans (location_id, company_id, source, status, requested_by, \
             queued_at, started_at, files_seen, files_total, report_sha256, report_key_id, \
             report_scanned_at) VALUES ($1, $2, 'report', 'running', $3, $4, $4, $5, $5, $6, $7, $8) \
             RETURNING id",
        )
        .bind(r.location_id)
        .bind(r.company_id)
        .bind(&r.requested_by)
        .bind(r.now)
        .bind(r.files_total)
        .bind(&r.sha256)
        .bind(&r.key_id)
        .bind(&r.scanned_at)
        .fetch_one(self.pool())
        .await
        .map_err(|e| crate::StoreError::from_sqlx(e, "report"))
    }

    pub async fn insert_scan_key(&self, k: &ScanKeyRow) -> Result<()> {
        sqlx::query(
            "INSERT INTO scan_keys (key_id, company_id, user_id, public_key, label, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&k.key_id)
        .bind(k.company_id)
        .bind(k.user_id)
        .bind(&k.public_key)
        .bind(&k.label)
        .bind(k.created_at)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    pub async fn scan_key(&self, key_id: &str) -> Result<Option<ScanKeyRow>> {
        let r = sqlx::query(
            "SELECT key_id, company_id, user_id, public_key, label, created_at, revoked_at, \
             revoked_by FROM scan_keys WHERE key_id = $1",
        )
        .bind(key_id)
        .fetch_optional(self.pool())
        .await?;
        Ok(r.as_ref().map(key_from_row))
    }

    pub async fn scan_keys_of(&self, user_id: i64) -> Result<Vec<ScanKeyRow>> {
        let rows = sqlx::query(
            "SELECT key_id, company_id, user_id, public_key, label, created_at, revoked_at, \
             revoked_by FROM scan_keys WHERE user_id = $1 ORDER BY created_at DESC, key_id",
        )
        .bind(user_id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.iter().map(key_from_row).collect())
    }

    pub async fn revoke_scan_key(&self, key_id: &str, by: &str, at: i64) -> Result<bool> {
        let r = sqlx::query(
            "UPDATE scan_keys SET revoked_at = $1, revoked_by = $2 WHERE key_id = $3 \
             AND revoked_at IS NULL",
        )
        .bind(at)
        .bind(by)
        .bind(key_id)
        .execute(self.pool())
        .await?;
        Ok(r.rows_affected() == 1)
    }
}
