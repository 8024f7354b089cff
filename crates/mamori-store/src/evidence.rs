//! Leaked material attached to an incident (issue 14): the file rows and their sealed chunks.
//!
//! The store keeps bytes it cannot read: sealing and opening are `mamori-app::evidence`'s. A
//! file is written as a row in state `uploading`, its chunks one by one as they fill, and then
//! finished (size, digest, chunk count, state `queued`) — or deleted with its chunks when the
//! upload fails, so no partial file is left.

use crate::{Result, Store};
use sqlx::any::AnyRow;
use sqlx::Row;

/// One attached file as stored (no content).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRow {
    pub id: i64,
    pub incident_id: i64,
    pub file_name: String,
    pub size: i64,
    /// Hex SHA-256 of the plaintext.
    pub sha256: String,
    /// The file's data key, wrapped by the vault master key of `key_version` (base64).
    pub wrapped_key: String,
    pub key_version: i64,
    pub chunk_count: i64,
    pub uploaded_by: Option<i64>,
    pub uploaded_at: i64,
    /// `uploading`, `queued`, `scanning`, `done` or `failed`.
    pub scan_state: String,
    pub bytes_done: i64,
    pub rows_found: i64,
    pub rows_matched: i64,
    /// A problem code and its parameters (JSON), put into words when shown.
    pub problem: Option<String>,
    pub problem_params: Option<String>,
    /// JSON object: finding kind → count.
    pub kind_counts: String,
}

/// A static SELECT of every column of `incident_files`, followed by `$rest`.
macro_rules! select_files {
    ($rest:literal) => {
        concat!(
            "SELECT id, incident_id, file_name, size, sha256, wrapped_key, key_version, \
             chunk_count, uploaded_by, uploaded_at, scan_state, bytes_done, rows_found, \
             rows_matched, problem, problem_params, kind_counts FROM incident_files ",
            $rest
        )
    };
}

fn file_from_row(r: &AnyRow) -> FileRow {
    FileRow {
        id: r.get(0),
        incident_id: r.get(1),
        file_name: r.get(2),
        size: r.get(3),
        sha256: r.get(4),
        wrapped_key: r.get(5),
        key_version: r.get(6),
        chunk_count: r.get(7),
        uploaded_by: r.get(8),
        uploaded_at: r.get(9),
        scan_state: r.get(10),
        bytes_done: r.get(11),
        rows_found: r.get(12),
        rows_matched: r.get(13),
        problem: r.get(14),
        problem_params: r.get(15),
        kind_counts: r.get(16),
    }
}

/// The `settings` row that holds a file's scan lease.
fn lease_name(file_id: i64) -> String {
    format!("evidence.scan_lease.{file_id}")
}

/// Progress of a scan, written as it goes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScanProgress {
    pub bytes_done: i64,
    pub rows_found: i64,
    pub rows_matched: i64,
    pub kind_counts: String,
}

impl Store {
    /// Starts a file: a row in state `uploading` holding the wrapped data key, before any chunk.
    pub async fn insert_incident_file(
        &self,
        incident_id: i64,
        file_name: &str,
        uploaded_by: Option<i64>,
        now: i64,
    ) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "INSERT INTO incident_files (incident_id, file_name, uploaded_by, uploaded_at, scan_state) \
             VALUES ($1, $2, $3, $4, 'uploading') RETURNING id",
        )
        .bind(incident_id)
        .bind(file_name)
        .bind(uploaded_by)
        .bind(now)
        .fetch_one(self.pool())
        .await?)
    }

    /// Stores the file's wrapped data key (the wrap names the file id, known only after insert).
    pub async fn set_incident_file_key(&self, id: i64, wrapped: &str, version: i64) -> Result<()> {
        sqlx::query("UPDATE incident_files SET wrapped_key = $1, key_version = $2 WHERE id = $3")
            .bind(wrapped)
            .bind(version)
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    pub async fn put_incident_file_chunk(&self, file_id: i64, n: i64, sealed: &[u8]) -> Result<()> {
        sqlx::query("INSERT INTO incident_file_chunks (file_id, n, sealed) VALUES ($1, $2, $3)")
            .bind(file_id)
            .bind(n)
            .bind(sealed)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Completes an upload: the file is whole and waits for its scan.
    pub async fn finish_incident_file(
        &self,
        id: i64,
        size: i64,
        sha256: &str,
        chunk_count: i64,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE incident_files SET size = $1, sha256 = $2, chunk_count = $3, scan_state = 'queued' \
             WHERE id = $4 AND scan_state = 'uploading'",
        )
        .bind(size)
        .bind(sha256)
        .bind(chunk_count)
        .bind(id)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Removes a file and its chunks (a failed or refused upload).
    pub async fn delete_incident_file(&self, id: i64) -> Result<()> {
        let mut tx = self.pool().begin().await?;
        sqlx::query("DELETE FROM incident_file_chunks WHERE file_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM incident_files WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM settings WHERE name = $1")
            .bind(lease_name(id))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The files of an incident that finished uploading, oldest first.
    pub async fn incident_files(&self, incident_id: i64) -> Result<Vec<FileRow>> {
        Ok(sqlx::query(select_files!(
            "WHERE incident_id = $1 AND scan_state <> 'uploading' ORDER BY id"
        ))
        .bind(incident_id)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(file_from_row)
        .collect())
    }

    pub async fn get_incident_file(&self, id: i64) -> Result<FileRow> {
        let r = sqlx::query(select_files!("WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.pool())
            .await?
            .ok_or(crate::StoreError::NotFound)?;
        Ok(file_from_row(&r))
    }

    /// Every file row (uploading included) of an incident, for tests and clean-up.
    pub async fn incident_file_rows_all(&self, incident_id: i64) -> Result<Vec<FileRow>> {
        Ok(
            sqlx::query(select_files!("WHERE incident_id = $1 ORDER BY id"))
                .bind(incident_id)
                .fetch_all(self.pool())
                .await?
                .iter()
                .map(file_from_row)
                .collect(),
        )
    }

    /// One sealed chunk, or `None` when there is no chunk of that number.
    pub async fn incident_file_chunk(&self, file_id: i64, n: i64) -> Result<Option<Vec<u8>>> {
        Ok(sqlx::query_scalar(
            "SELECT sealed FROM incident_file_chunks WHERE file_id = $1 AND n = $2",
        )
        .bind(file_id)
        .bind(n)
        .fetch_optional(self.pool())
        .await?)
    }

    /// How many chunks a file has stored.
    pub async fn incident_file_chunk_count(&self, file_id: i64) -> Result<i64> {
        Ok(
            sqlx::query_scalar("SELECT COUNT(*) FROM incident_file_chunks WHERE file_id = $1")
                .bind(file_id)
                .fetch_one(self.pool())
                .await?,
        )
    }

    /// Chunks stored in all (every file), to check that a refused upload left nothing.
    pub async fn all_incident_file_chunks(&self) -> Result<i64> {
        Ok(
            sqlx::query_scalar("SELECT COUNT(*) FROM incident_file_chunks")
                .fetch_one(self.pool())
                .await?,
        )
    }

    /// Moves a file to a scan state, with the problem code and parameters (or none).
    pub async fn set_incident_file_state(
        &self,
        id: i64,
        state: &str,
        problem: Option<&str>,
        problem_params: Option<&str>,
    ) -> Result<()> {
        let mut tx = self.pool().begin().await?;
        sqlx::query(
            "UPDATE incident_files SET scan_state = $1, problem = $2, problem_params = $3 WHERE id = $4",
        )
        .bind(state)
        .bind(problem)
        .bind(problem_params)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        // Whatever the new state, a scan that held the file lets it go.
        sqlx::query("DELETE FROM settings WHERE name = $1")
            .bind(lease_name(id))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn set_incident_file_progress(&self, id: i64, p: &ScanProgress) -> Result<()> {
        sqlx::query(
            "UPDATE incident_files SET bytes_done = $1, rows_found = $2, rows_matched = $3, \
             kind_counts = $4 WHERE id = $5",
        )
        .bind(p.bytes_done)
        .bind(p.rows_found)
        .bind(p.rows_matched)
        .bind(&p.kind_counts)
        .bind(id)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Test support: replaces the sealed bytes of a chunk (to prove tampering is detected).
    pub async fn replace_incident_file_chunk(
        &self,
        file_id: i64,
        n: i64,
        sealed: &[u8],
    ) -> Result<()> {
        sqlx::query("UPDATE incident_file_chunks SET sealed = $1 WHERE file_id = $2 AND n = $3")
            .bind(sealed)
            .bind(file_id)
            .bind(n)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Test support: removes one chunk (to prove truncation is detected).
    pub async fn remove_incident_file_chunk(&self, file_id: i64, n: i64) -> Result<()> {
        sqlx::query("DELETE FROM incident_file_chunks WHERE file_id = $1 AND n = $2")
            .bind(file_id)
            .bind(n)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Files whose data key is wrapped under another master key version than `current`, after
    /// file `after`, at most `limit`: (id, version, wrapped key).
    pub async fn evidence_keys_to_rewrap(
        &self,
        current: i64,
        after: i64,
        limit: i64,
    ) -> Result<Vec<(i64, i64, String)>> {
        Ok(sqlx::query(
            "SELECT id, key_version, wrapped_key FROM incident_files \
             WHERE key_version <> $1 AND wrapped_key <> '' AND id > $2 ORDER BY id LIMIT $3",
        )
        .bind(current)
        .bind(after)
        .bind(limit)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect())
    }

    /// Replaces a file's wrapped key if it is still wrapped under `old` (compare-and-set).
    pub async fn rewrap_incident_file_key(
        &self,
        id: i64,
        old: i64,
        new: i64,
        wrapped: &str,
    ) -> Result<u64> {
        Ok(sqlx::query(
            "UPDATE incident_files SET wrapped_key = $1, key_version = $2 \
             WHERE id = $3 AND key_version = $4",
        )
        .bind(wrapped)
        .bind(new)
        .bind(id)
        .bind(old)
        .execute(self.pool())
        .await?
        .rows_affected())
    }

    /// The master key versions file keys are wrapped under (a version still listed here is
    /// not retired).
    pub async fn evidence_key_versions(&self) -> Result<Vec<i64>> {
        Ok(sqlx::query_scalar(
            "SELECT DISTINCT key_version FROM incident_files WHERE wrapped_key <> ''",
        )
        .fetch_all(self.pool())
        .await?)
    }

    /// Takes the scan of a file for `lease_until` (compare-and-set): `false` when it is
    /// finished or another process holds a lease that has not run out. The lease is a row of
    /// `settings` (`evidence.scan_lease.{id}` = microseconds), removed when the scan ends.
    pub async fn claim_incident_file_scan(
        &self,
        id: i64,
        now: i64,
        lease_until: i64,
    ) -> Result<bool> {
        let mut tx = self.pool().begin().await?;
        let took = sqlx::query(
            "INSERT INTO settings (name, value) VALUES ($1, $2) \
             ON CONFLICT (name) DO UPDATE SET value = excluded.value \
             WHERE CAST(settings.value AS BIGINT) < $3",
        )
        .bind(lease_name(id))
        .bind(lease_until.to_string())
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if took != 1 {
            tx.rollback().await?;
            return Ok(false);
        }
        let open = sqlx::query(
            "UPDATE incident_files SET scan_state = 'scanning' \
             WHERE id = $1 AND scan_state IN ('queued', 'scanning')",
        )
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if open != 1 {
            tx.rollback().await?;
            return Ok(false);
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Renews the scan's lease (as progress is recorded).
    pub async fn renew_incident_file_scan(&self, id: i64, lease_until: i64) -> Result<()> {
        sqlx::query("UPDATE settings SET value = $1 WHERE name = $2")
            .bind(lease_until.to_string())
            .bind(lease_name(id))
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Files still `uploading` since before `before`: uploads cut off by a crash.
    pub async fn stale_incident_uploads(&self, before: i64) -> Result<Vec<i64>> {
        Ok(sqlx::query_scalar(
            "SELECT id FROM incident_files WHERE scan_state = 'uploading' AND uploaded_at < $1 ORDER BY id",
        )
        .bind(before)
        .fetch_all(self.pool())
        .await?)
    }
}
