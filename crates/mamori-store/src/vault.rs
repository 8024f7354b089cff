//! The vault: sealed records, their wrapped data keys, the blind index, imports, grants,
//! retention runs and erasures. Nothing here sees a plaintext value: the use cases seal before
//! they call and open after.
//!
//! Bulk writes (an import batch, a re-wrap batch) are one static statement per table that reads a
//! JSON array of rows (`json_each` on SQLite, `json_array_elements` on PostgreSQL), inside one
//! transaction with the import's progress, so a batch is all or nothing.

use crate::{flag, one_row, Backend, Result, Store, StoreError};
use sqlx::any::AnyRow;
use sqlx::Row;

/// A record to insert: already sealed, its key already wrapped, its index digests computed.
#[derive(Debug, Clone)]
pub struct NewRecord {
    pub id: i64,
    pub import_row: Option<i64>,
    pub sealed: String,
    pub retention_date: Option<String>,
    pub key_version: i64,
    pub wrapped: String,
    pub digests: Vec<i64>,
}

/// A record as stored, with its wrapped key (`None` once erased).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordRow {
    pub id: i64,
    pub dataset_id: i64,
    pub sealed: String,
    pub retention_date: Option<String>,
    pub key_version: Option<i64>,
    pub wrapped: Option<String>,
    pub created_at: i64,
    pub scrubbed_at: Option<i64>,
    pub erased_at: Option<i64>,
}

macro_rules! record_columns {
    () => {
        "r.id, r.dataset_id, r.sealed, r.retention_date, k.key_version, k.wrapped, r.created_at, \
         r.scrubbed_at, r.erased_at FROM vault_records r LEFT JOIN vault_deks k ON k.record_id = r.id"
    };
}

fn record_from_row(r: &AnyRow) -> Result<RecordRow> {
    record_from_row_at(r, 0)
}

/// A `RecordRow` from nine columns starting at `$at`, read with `$r.$get(i)` (sqlx or
/// rusqlite, as `dataset_from!`).
macro_rules! record_from {
    ($r:expr, $get:ident, $at:expr) => {
        RecordRow {
            id: $r.$get($at)?,
            dataset_id: $r.$get($at + 1)?,
            sealed: $r.$get($at + 2)?,
            retention_date: $r.$get($at + 3)?,
            key_version: $r.$get($at + 4)?,
            wrapped: $r.$get($at + 5)?,
            created_at: $r.$get($at + 6)?,
            scrubbed_at: $r.$get($at + 7)?,
            erased_at: $r.$get($at + 8)?,
        }
    };
}

/// A record whose nine columns start at column `at`.
fn record_from_row_at(r: &AnyRow, at: usize) -> Result<RecordRow> {
    Ok(record_from!(r, try_get, at))
}

/// The dataset and its index hits in one statement (see `Store::lookup_in_dataset`).
const LOOKUP_IN_DATASET: &str = "SELECT d.id, d.company_id, d.department_id, d.name, d.items, \
    d.card_data, d.persons, d.purpose, d.source, d.storage_place, d.storage_method, d.access, \
    d.use_until, d.retain_until, d.entrusted_to, d.entrusted_from, d.reviewed_at, \
    d.reviewed_by, d.review_due, d.vault_schema, d.retention, d.created_at, d.updated_at, \
    d.version, \
    h.id, h.dataset_id, h.sealed, h.retention_date, h.key_version, h.wrapped, h.created_at, \
    h.scrubbed_at, h.erased_at \
    FROM datasets d LEFT JOIN ( \
      SELECT r.id AS id, r.dataset_id AS dataset_id, r.sealed AS sealed, \
      r.retention_date AS retention_date, k.key_version AS key_version, k.wrapped AS wrapped, \
      r.created_at AS created_at, r.scrubbed_at AS scrubbed_at, r.erased_at AS erased_at \
      FROM vault_index i CROSS JOIN vault_records r \
      LEFT JOIN vault_deks k ON k.record_id = r.id \
      WHERE i.digest = $1 AND r.id = i.record_id AND r.dataset_id = $2 \
      AND r.erased_at IS NULL ORDER BY r.id LIMIT $3 \
    ) h ON 1 = 1 \
    WHERE d.id = $2 ORDER BY h.id";

/// A native read connection for lookups on SQLite: read-only by pragma, the pool's settings.
fn open_reader(path: &std::path::Path) -> Result<rusqlite::Connection> {
    use crate::audit::from_rusqlite;
    let conn = rusqlite::Connection::open_with_flags(
        path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| from_rusqlite(&e))?;
    conn.busy_timeout(std::time::Duration::from_secs(5))
        .map_err(|e| from_rusqlite(&e))?;
    conn.execute_batch("PRAGMA query_only = ON; PRAGMA cache_size = -32768;")
        .map_err(|e| from_rusqlite(&e))?;
    Ok(conn)
}

type LookupRows = (crate::ledger::DatasetRow, Vec<RecordRow>);

/// `LOOKUP_IN_DATASET` on a native connection.
fn native_lookup(
    conn: &rusqlite::Connection,
    dataset_id: i64,
    digest: i64,
    limit: i64,
) -> rusqlite::Result<Option<LookupRows>> {
    let mut st = conn.prepare_cached(LOOKUP_IN_DATASET)?;
    let mut rows = st.query(rusqlite::params![digest, dataset_id, limit])?;
    let mut dataset = None;
    let mut hits = Vec::new();
    while let Some(r) = rows.next()? {
        if dataset.is_none() {
            dataset = Some(crate::ledger::dataset_from!(r, get, 0));
        }
        if r.get::<_, Option<i64>>(24)?.is_some() {
            hits.push(record_from!(r, get, 24));
        }
    }
    Ok(dataset.map(|d| (d, hits)))
}

/// A master key version as registered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VaultKeyRow {
    pub version: i64,
    pub check_value: String,
    pub created_at: i64,
    pub retired_at: Option<i64>,
}

/// An import as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportRow {
    pub id: i64,
    pub dataset_id: i64,
    pub file_name: String,
    pub file_sha256: String,
    pub mapping: String,
    pub status: String,
    pub next_row: i64,
    pub imported: i64,
    pub rejected: i64,
    pub started_by: Option<i64>,
    pub started_at: i64,
    pub finished_at: Option<i64>,
}

fn import_from_row(r: &AnyRow) -> Result<ImportRow> {
    Ok(ImportRow {
        id: r.try_get(0)?,
        dataset_id: r.try_get(1)?,
        file_name: r.try_get(2)?,
        file_sha256: r.try_get(3)?,
        mapping: r.try_get(4)?,
        status: r.try_get(5)?,
        next_row: r.try_get(6)?,
        imported: r.try_get(7)?,
        rejected: r.try_get(8)?,
        started_by: r.try_get(9)?,
        started_at: r.try_get(10)?,
        finished_at: r.try_get(11)?,
    })
}

macro_rules! import_columns {
    () => {
        "id, dataset_id, file_name, file_sha256, mapping, status, next_row, imported, rejected, \
         started_by, started_at, finished_at"
    };
}

/// A rejected row: where and why, never the value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reject {
    pub row_no: i64,
    pub field: String,
    pub reason: String,
}

/// A grant as stored (fields as JSON text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantRow {
    pub id: i64,
    pub company_id: i64,
    pub dataset_id: i64,
    pub grantee_id: i64,
    pub fields: String,
    pub purpose: String,
    pub may_export: bool,
    pub issued_by: i64,
    pub issued_at: i64,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
    pub revoked_by: Option<i64>,
}

macro_rules! grant_columns {
    () => {
        "id, company_id, dataset_id, grantee_id, fields, purpose, may_export, issued_by, \
         issued_at, expires_at, revoked_at, revoked_by"
    };
}

fn grant_from_row(r: &AnyRow) -> Result<GrantRow> {
    Ok(GrantRow {
        id: r.try_get(0)?,
        company_id: r.try_get(1)?,
        dataset_id: r.try_get(2)?,
        grantee_id: r.try_get(3)?,
        fields: r.try_get(4)?,
        purpose: r.try_get(5)?,
        may_export: r.try_get::<i64, _>(6)? != 0,
        issued_by: r.try_get(7)?,
        issued_at: r.try_get(8)?,
        expires_at: r.try_get(9)?,
        revoked_at: r.try_get(10)?,
        revoked_by: r.try_get(11)?,
    })
}

/// A retention run as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetentionRun {
    pub ran_at: i64,
    pub rule: String,
    pub cutoff: String,
    pub scrubbed: i64,
    pub deleted: i64,
    pub failed: i64,
}

const INSERT_RECORDS_SQLITE: &str = "INSERT INTO vault_records \
    (id, dataset_id, import_id, import_row, sealed, retention_date, created_at, updated_at) \
    SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5, value->>6, value->>6 \
    FROM json_each($1)";
const INSERT_RECORDS_POSTGRES: &str = "INSERT INTO vault_records \
    (id, dataset_id, import_id, import_row, sealed, retention_date, created_at, updated_at) \
    SELECT (e->>0)::bigint, (e->>1)::bigint, (e->>2)::bigint, (e->>3)::bigint, e->>4, e->>5, \
    (e->>6)::bigint, (e->>6)::bigint FROM json_array_elements(CAST($1 AS TEXT)::json) AS e";
const INSERT_DEKS_SQLITE: &str = "INSERT INTO vault_deks (record_id, key_version, wrapped) \
    SELECT value->>0, value->>1, value->>2 FROM json_each($1)";
const INSERT_DEKS_POSTGRES: &str = "INSERT INTO vault_deks (record_id, key_version, wrapped) \
    SELECT (e->>0)::bigint, (e->>1)::bigint, e->>2 \
    FROM json_array_elements(CAST($1 AS TEXT)::json) AS e";
const INSERT_INDEX_SQLITE: &str = "INSERT INTO vault_index (digest, record_id) \
    SELECT value->>0, value->>1 FROM json_each($1) WHERE true ON CONFLICT DO NOTHING";
const INSERT_INDEX_POSTGRES: &str = "INSERT INTO vault_index (digest, record_id) \
    SELECT (e->>0)::bigint, (e->>1)::bigint FROM json_array_elements(CAST($1 AS TEXT)::json) AS e \
    ON CONFLICT DO NOTHING";
const INSERT_REJECTS_SQLITE: &str = "INSERT INTO vault_import_rejects \
    (import_id, row_no, field, reason) \
    SELECT $1, value->>0, value->>1, value->>2 FROM json_each($2)";
const INSERT_REJECTS_POSTGRES: &str = "INSERT INTO vault_import_rejects \
    (import_id, row_no, field, reason) \
    SELECT $1, (e->>0)::bigint, e->>1, e->>2 FROM json_array_elements(CAST($2 AS TEXT)::json) AS e";
const DELETE_INDEX_SQLITE: &str = "DELETE FROM vault_index WHERE (digest, record_id) IN \
    (SELECT value->>0, value->>1 FROM json_each($1))";
const DELETE_INDEX_POSTGRES: &str = "DELETE FROM vault_index WHERE (digest, record_id) IN \
    (SELECT (e->>0)::bigint, (e->>1)::bigint FROM json_array_elements(CAST($1 AS TEXT)::json) AS e)";
const REWRAP_SQLITE: &str =
    "UPDATE vault_deks SET key_version = j.value->>2, wrapped = j.value->>3 \
    FROM json_each($1) AS j \
    WHERE vault_deks.record_id = j.value->>0 AND vault_deks.key_version = j.value->>1";
const REWRAP_POSTGRES: &str = "UPDATE vault_deks SET key_version = (e->>2)::bigint, \
    wrapped = e->>3 FROM json_array_elements(CAST($1 AS TEXT)::json) AS e \
    WHERE vault_deks.record_id = (e->>0)::bigint AND vault_deks.key_version = (e->>1)::bigint";

/// One import batch for the native SQLite writer.
struct ImportBatch {
    import_id: i64,
    dataset_id: i64,
    from_row: i64,
    to_row: i64,
    records: Vec<NewRecord>,
    rejects: Vec<Reject>,
    now: i64,
}

fn open_bulk(path: &std::path::Path) -> Result<rusqlite::Connection> {
    // The pool's settings with a larger page cache: a million records make a blind index of
    // six million random keys, and an import that has to read its pages back from the file
    // slows to a third.
    crate::audit::open_native_writer(
        path,
        "PRAGMA cache_size = -262144; PRAGMA wal_autocheckpoint = 16384;",
    )
}

/// The batch in one immediate transaction with prepared statements: the progress (refused if
/// another process moved it), records, keys, index rows in key order, rejects.
fn sqlite_write_batch(conn: &mut rusqlite::Connection, b: &ImportBatch) -> Result<()> {
    use crate::audit::from_rusqlite;
    use rusqlite::params;
    let e = |e: rusqlite::Error| {
        if let rusqlite::Error::SqliteFailure(f, _) = &e {
            if f.code == rusqlite::ErrorCode::ConstraintViolation {
                return StoreError::Conflict("import row");
            }
        }
        from_rusqlite(&e)
    };
    let tx = conn
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .map_err(e)?;
    let moved = tx
        .execute(
            "UPDATE vault_imports SET next_row = ?1, imported = imported + ?2, \
             rejected = rejected + ?3 WHERE id = ?4 AND next_row = ?5 AND status = 'running'",
            params![
                b.to_row,
                b.records.len() as i64,
                b.rejects.len() as i64,
                b.import_id,
                b.from_row
            ],
        )
        .map_err(e)?;
    if moved == 0 {
        return Err(StoreError::Conflict(
            "import progress (another process is running this import, or it was finished or rolled back)",
        ));
    }
    {
        let mut rec = tx
            .prepare_cached(
                "INSERT INTO vault_records (id, dataset_id, import_id, import_row, sealed, \
                 retention_date, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
            )
            .map_err(e)?;
        for r in &b.records {
            rec.execute(params![
                r.id,
                b.dataset_id,
                b.import_id,
                r.import_row,
                r.sealed,
                r.retention_date,
                b.now
            ])
            .map_err(e)?;
        }
        let mut dek = tx
            .prepare_cached(
                "INSERT INTO vault_deks (record_id, key_version, wrapped) VALUES (?1, ?2, ?3)",
            )
            .map_err(e)?;
        for r in &b.records {
            dek.execute(params![r.id, r.key_version, r.wrapped])
                .map_err(e)?;
        }
        let mut index: Vec<(i64, i64)> = b
            .records
            .iter()
            .flat_map(|r| r.digests.iter().map(move |d| (*d, r.id)))
            .collect();
        index.sort_unstable();
        let mut idx = tx
            .prepare_cached("INSERT OR IGNORE INTO vault_index (digest, record_id) VALUES (?1, ?2)")
            .map_err(e)?;
        for (d, id) in index {
            idx.execute(params![d, id]).map_err(e)?;
        }
        let mut rej = tx
            .prepare_cached(
                "INSERT INTO vault_import_rejects (import_id, row_no, field, reason) VALUES (?1, ?2, ?3, ?4)",
            )
            .map_err(e)?;
        for r in &b.rejects {
            rej.execute(params![b.import_id, r.row_no, r.field, r.reason])
                .map_err(e)?;
        }
    }
    tx.commit().map_err(e)
}

fn json_rows<T: serde::Serialize>(rows: &[T]) -> String {
    serde_json::to_string(rows).expect("rows serialise")
}

impl Store {
    fn pick(&self, sqlite: &'static str, postgres: &'static str) -> &'static str {
        match self.backend() {
            Backend::Sqlite => sqlite,
            Backend::Postgres => postgres,
        }
    }

    // ---- master key versions -------------------------------------------------------------

    pub async fn vault_keys(&self) -> Result<Vec<VaultKeyRow>> {
        let rows = sqlx::query(
            "SELECT version, check_value, created_at, retired_at FROM vault_keys ORDER BY version",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(VaultKeyRow {
                    version: r.try_get(0)?,
                    check_value: r.try_get(1)?,
                    created_at: r.try_get(2)?,
                    retired_at: r.try_get(3)?,
                })
            })
            .collect()
    }

    pub async fn add_vault_key(&self, version: i64, check_value: &str, now: i64) -> Result<()> {
        sqlx::query(
            "INSERT INTO vault_keys (version, check_value, created_at) VALUES ($1, $2, $3)",
        )
        .bind(version)
        .bind(check_value)
        .bind(now)
        .execute(self.pool())
        .await
        .map_err(|e| StoreError::from_sqlx(e, "key version"))?;
        Ok(())
    }

    pub async fn retire_vault_key(&self, version: i64, now: i64) -> Result<()> {
        sqlx::query(
            "UPDATE vault_keys SET retired_at = $1 WHERE version = $2 AND retired_at IS NULL",
        )
        .bind(now)
        .bind(version)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// How many data keys each master key version wraps.
    pub async fn deks_per_version(&self) -> Result<Vec<(i64, i64)>> {
        let rows = sqlx::query(
            "SELECT key_version, COUNT(*) FROM vault_deks GROUP BY key_version ORDER BY key_version",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect()
    }

    /// The next `n` record ids (ids are given out in blocks so a batch can bind them into its
    /// sealed fields before it is written).
    pub async fn allocate_record_ids(&self, n: i64) -> Result<i64> {
        let next: i64 = sqlx::query_scalar(
            "UPDATE vault_counters SET next_id = next_id + $1 WHERE id = 1 RETURNING next_id",
        )
        .bind(n)
        .fetch_one(self.pool())
        .await?;
        Ok(next - n)
    }

    // ---- imports ---------------------------------------------------------------------------

    pub async fn start_import(
        &self,
        dataset_id: i64,
        file_name: &str,
        file_sha256: &str,
        mapping: &str,
        by: Option<i64>,
        now: i64,
    ) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "INSERT INTO vault_imports (dataset_id, file_name, file_sha256, mapping, status, \
             started_by, started_at) VALUES ($1, $2, $3, $4, 'running', $5, $6) RETURNING id",
        )
        .bind(dataset_id)
        .bind(file_name)
        .bind(file_sha256)
        .bind(mapping)
        .bind(by)
        .bind(now)
        .fetch_one(self.pool())
        .await?)
    }

    /// The unfinished import of the same file into the same dataset, if any.
    pub async fn running_import(&self, dataset_id: i64, sha: &str) -> Result<Option<ImportRow>> {
        let r = sqlx::query(concat!(
            "SELECT ",
            import_columns!(),
            " FROM vault_imports WHERE dataset_id = $1 AND file_sha256 = $2 AND status = 'running' \
             ORDER BY id DESC LIMIT 1"
        ))
        .bind(dataset_id)
        .bind(sha)
        .fetch_optional(self.pool())
        .await?;
        r.as_ref().map(import_from_row).transpose()
    }

    pub async fn get_import(&self, id: i64) -> Result<ImportRow> {
        let r = sqlx::query(concat!(
            "SELECT ",
            import_columns!(),
            " FROM vault_imports WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::NotFound)?;
        import_from_row(&r)
    }

    pub async fn list_imports(&self, dataset_id: i64) -> Result<Vec<ImportRow>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            import_columns!(),
            " FROM vault_imports WHERE dataset_id = $1 ORDER BY id DESC LIMIT 50"
        ))
        .bind(dataset_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(import_from_row).collect()
    }

    /// Writes one batch of an import: records, keys, index rows, rejects and the progress, all
    /// in one transaction. `from_row` must be the import's current `next_row`; if another
    /// process has moved it, nothing is written and `Conflict` is returned.
    #[expect(clippy::too_many_arguments, reason = "one batch of one import")]
    pub async fn write_import_batch(
        &self,
        import_id: i64,
        dataset_id: i64,
        from_row: i64,
        to_row: i64,
        records: Vec<NewRecord>,
        rejects: Vec<Reject>,
        now: i64,
    ) -> Result<()> {
        if self.backend() == Backend::Sqlite {
            if let Some(path) = self.sqlite_file().map(std::path::Path::to_path_buf) {
                let bulk = self.bulk.clone();
                let batch = ImportBatch {
                    import_id,
                    dataset_id,
                    from_row,
                    to_row,
                    records,
                    rejects,
                    now,
                };
                return tokio::task::spawn_blocking(move || {
                    let mut guard = bulk
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    if guard.is_none() {
                        *guard = Some(open_bulk(&path)?);
                    }
                    let conn = guard.as_mut().expect("opened above");
                    let result = sqlite_write_batch(conn, &batch);
                    if result.is_err() {
                        // A connection in an unknown state is not reused.
                        *guard = None;
                    }
                    result
                })
                .await
                .map_err(|e| StoreError::Database(format!("writer thread: {e}")))?;
            }
        }
        let (records, rejects) = (&records[..], &rejects[..]);
        let mut tx = self.pool().begin().await?;
        let moved = sqlx::query(
            "UPDATE vault_imports SET next_row = $1, imported = imported + $2, \
             rejected = rejected + $3 WHERE id = $4 AND next_row = $5 AND status = 'running'",
        )
        .bind(to_row)
        .bind(records.len() as i64)
        .bind(rejects.len() as i64)
        .bind(import_id)
        .bind(from_row)
        .execute(&mut *tx)
        .await?;
        if moved.rows_affected() == 0 {
            return Err(StoreError::Conflict(
                "import progress (another process is running this import, or it was finished or rolled back)",
            ));
        }
        self.insert_records_on(&mut tx, dataset_id, Some(import_id), records, now)
            .await?;
        if !rejects.is_empty() {
            let rows: Vec<(i64, &str, &str)> = rejects
                .iter()
                .map(|r| (r.row_no, r.field.as_str(), r.reason.as_str()))
                .collect();
            sqlx::query(self.pick(INSERT_REJECTS_SQLITE, INSERT_REJECTS_POSTGRES))
                .bind(import_id)
                .bind(json_rows(&rows))
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn insert_records_on(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        dataset_id: i64,
        import_id: Option<i64>,
        records: &[NewRecord],
        now: i64,
    ) -> Result<()> {
        if records.is_empty() {
            return Ok(());
        }
        let rows: Vec<_> = records
            .iter()
            .map(|r| {
                (
                    r.id,
                    dataset_id,
                    import_id,
                    r.import_row,
                    r.sealed.as_str(),
                    r.retention_date.as_deref(),
                    now,
                )
            })
            .collect();
        sqlx::query(self.pick(INSERT_RECORDS_SQLITE, INSERT_RECORDS_POSTGRES))
            .bind(json_rows(&rows))
            .execute(&mut **tx)
            .await
            .map_err(|e| StoreError::from_sqlx(e, "import row"))?;
        let deks: Vec<_> = records
            .iter()
            .map(|r| (r.id, r.key_version, r.wrapped.as_str()))
            .collect();
        sqlx::query(self.pick(INSERT_DEKS_SQLITE, INSERT_DEKS_POSTGRES))
            .bind(json_rows(&deks))
            .execute(&mut **tx)
            .await?;
        // In key order, so that the B-tree of random digests is walked once per batch.
        let mut index: Vec<(i64, i64)> = records
            .iter()
            .flat_map(|r| r.digests.iter().map(move |d| (*d, r.id)))
            .collect();
        index.sort_unstable();
        if !index.is_empty() {
            sqlx::query(self.pick(INSERT_INDEX_SQLITE, INSERT_INDEX_POSTGRES))
                .bind(json_rows(&index))
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }

    /// Adds records outside an import (a record typed in a form).
    pub async fn insert_records(
        &self,
        dataset_id: i64,
        records: &[NewRecord],
        now: i64,
    ) -> Result<()> {
        let mut tx = self.pool().begin().await?;
        self.insert_records_on(&mut tx, dataset_id, None, records, now)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Refreshes the planner's statistics of the vault tables after a bulk change (PostgreSQL;
    /// SQLite plans these queries from the indexes alone).
    pub async fn analyze_vault(&self) -> Result<()> {
        if self.backend() == Backend::Postgres {
            sqlx::query("ANALYZE vault_records, vault_index, vault_deks")
                .execute(self.pool())
                .await?;
        }
        Ok(())
    }

    pub async fn finish_import(&self, id: i64, now: i64) -> Result<()> {
        let r = sqlx::query(
            "UPDATE vault_imports SET status = 'done', finished_at = $1 \
             WHERE id = $2 AND status = 'running'",
        )
        .bind(now)
        .bind(id)
        .execute(self.pool())
        .await?;
        one_row(&r)
    }

    /// Removes one batch of an import's records (with their keys and the index rows given) and,
    /// when `last`, marks the import rolled back. Returns how many records were removed.
    pub async fn rollback_import_batch(
        &self,
        import_id: i64,
        record_ids: &[i64],
        digests: &[(i64, i64)],
        last: bool,
        now: i64,
    ) -> Result<u64> {
        let mut tx = self.pool().begin().await?;
        if !digests.is_empty() {
            sqlx::query(self.pick(DELETE_INDEX_SQLITE, DELETE_INDEX_POSTGRES))
                .bind(json_rows(digests))
                .execute(&mut *tx)
                .await?;
        }
        let ids = json_rows(record_ids);
        sqlx::query(self.pick(
            "DELETE FROM vault_deks WHERE record_id IN (SELECT value FROM json_each($1))",
            "DELETE FROM vault_deks WHERE record_id IN \
             (SELECT CAST(x AS BIGINT) FROM json_array_elements_text(CAST($1 AS TEXT)::json) AS x)",
        ))
        .bind(&ids)
        .execute(&mut *tx)
        .await?;
        let n = sqlx::query(self.pick(
            "DELETE FROM vault_records WHERE import_id = $2 AND id IN (SELECT value FROM json_each($1))",
            "DELETE FROM vault_records WHERE import_id = $2 AND id IN \
             (SELECT CAST(x AS BIGINT) FROM json_array_elements_text(CAST($1 AS TEXT)::json) AS x)",
        ))
        .bind(&ids)
        .bind(import_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if last {
            sqlx::query(
                "UPDATE vault_imports SET status = 'rolled_back', finished_at = $1 WHERE id = $2",
            )
            .bind(now)
            .bind(import_id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(n)
    }

    /// The next records of an import, in id order, for a rollback.
    pub async fn import_records(
        &self,
        import_id: i64,
        after: i64,
        limit: i64,
    ) -> Result<Vec<RecordRow>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            record_columns!(),
            " WHERE r.import_id = $1 AND r.id > $2 ORDER BY r.id LIMIT $3"
        ))
        .bind(import_id)
        .bind(after)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(record_from_row).collect()
    }

    pub async fn import_rejects(&self, import_id: i64, limit: i64) -> Result<Vec<Reject>> {
        let rows = sqlx::query(
            "SELECT row_no, field, reason FROM vault_import_rejects WHERE import_id = $1 \
             ORDER BY row_no LIMIT $2",
        )
        .bind(import_id)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Reject {
                    row_no: r.try_get(0)?,
                    field: r.try_get(1)?,
                    reason: r.try_get(2)?,
                })
            })
            .collect()
    }

    // ---- records ---------------------------------------------------------------------------

    pub async fn get_record(&self, id: i64) -> Result<RecordRow> {
        let r = sqlx::query(concat!("SELECT ", record_columns!(), " WHERE r.id = $1"))
            .bind(id)
            .fetch_optional(self.pool())
            .await?
            .ok_or(StoreError::NotFound)?;
        record_from_row(&r)
    }

    /// Records of a dataset whose index holds `digest` (not erased), at most `limit`.
    pub async fn lookup_digest(
        &self,
        dataset_id: i64,
        digest: i64,
        limit: i64,
    ) -> Result<Vec<RecordRow>> {
        // Driven from the index (the digest is selective). `CROSS JOIN` makes SQLite keep
        // this join order (without statistics it walked the records instead); PostgreSQL
        // plans it like any inner join.
        let rows = sqlx::query(
            "SELECT r.id, r.dataset_id, r.sealed, r.retention_date, k.key_version, k.wrapped, \
             r.created_at, r.scrubbed_at, r.erased_at FROM vault_index i \
             CROSS JOIN vault_records r \
             LEFT JOIN vault_deks k ON k.record_id = r.id \
             WHERE i.digest = $1 AND r.id = i.record_id AND r.dataset_id = $2 \
             AND r.erased_at IS NULL ORDER BY r.id LIMIT $3",
        )
        .bind(digest)
        .bind(dataset_id)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(record_from_row).collect()
    }

    /// The dataset and the records its blind index gives for `digest`, in one statement (a
    /// lookup is one round trip to the database, not two). `NotFound` when there is no such
    /// dataset.
    pub async fn lookup_in_dataset(
        &self,
        dataset_id: i64,
        digest: i64,
        limit: i64,
    ) -> Result<(crate::ledger::DatasetRow, Vec<RecordRow>)> {
        // The hits are a subquery with its own LIMIT, so neither database flattens it into
        // the outer join; it keeps the index-driven order of `lookup_digest`. On SQLite the
        // statement runs on a native connection on the calling thread: a point read from the
        // page cache takes microseconds, and the hop to an sqlx worker thread and back was
        // most of a lookup's cost.
        if let Some(found) = self.with_reader(|c| native_lookup(c, dataset_id, digest, limit)) {
            return found?.ok_or(StoreError::NotFound);
        }
        let rows = sqlx::query(LOOKUP_IN_DATASET)
            .bind(digest)
            .bind(dataset_id)
            .bind(limit)
            .fetch_all(self.pool())
            .await?;
        let first = rows.first().ok_or(StoreError::NotFound)?;
        let dataset = crate::ledger::dataset_from_row(first)?;
        let mut hits = Vec::with_capacity(rows.len());
        for r in &rows {
            if r.try_get::<Option<i64>, _>(24)?.is_some() {
                hits.push(record_from_row_at(r, 24)?);
            }
        }
        Ok((dataset, hits))
    }

    /// Runs `f` on a native read connection when the store is a SQLite file (`None`
    /// otherwise). Connections are kept for reuse; one that failed is dropped.
    fn with_reader<T>(
        &self,
        f: impl FnOnce(&rusqlite::Connection) -> rusqlite::Result<T>,
    ) -> Option<Result<T>> {
        let path = self.sqlite_file()?;
        let idle = self
            .readers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .pop();
        let conn = match idle {
            Some(c) => c,
            None => match open_reader(path) {
                Ok(c) => c,
                Err(e) => return Some(Err(e)),
            },
        };
        let result = f(&conn).map_err(|e| crate::audit::from_rusqlite(&e));
        if result.is_ok() {
            let mut idle = self
                .readers
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if idle.len() < 8 {
                idle.push(conn);
            }
        }
        Some(result)
    }

    /// A page of a dataset's records in id order (export, listing).
    pub async fn records_page(
        &self,
        dataset_id: i64,
        after: i64,
        limit: i64,
    ) -> Result<Vec<RecordRow>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            record_columns!(),
            " WHERE r.dataset_id = $1 AND r.id > $2 AND r.erased_at IS NULL ORDER BY r.id LIMIT $3"
        ))
        .bind(dataset_id)
        .bind(after)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(record_from_row).collect()
    }

    pub async fn count_records(&self, dataset_id: i64) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM vault_records WHERE dataset_id = $1 AND erased_at IS NULL",
        )
        .bind(dataset_id)
        .fetch_one(self.pool())
        .await?)
    }

    /// Records due under a retention rule: base date on or before `cutoff`, not yet scrubbed.
    pub async fn retention_due(
        &self,
        dataset_id: i64,
        cutoff: &str,
        limit: i64,
    ) -> Result<Vec<RecordRow>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            record_columns!(),
            " WHERE r.dataset_id = $1 AND r.retention_date IS NOT NULL AND r.retention_date <= $2 \
             AND r.scrubbed_at IS NULL AND r.erased_at IS NULL ORDER BY r.retention_date, r.id LIMIT $3"
        ))
        .bind(dataset_id)
        .bind(cutoff)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(record_from_row).collect()
    }

    /// Replaces a record's sealed fields (scrubbed) and removes the index rows given.
    pub async fn scrub_record(
        &self,
        id: i64,
        sealed: &str,
        remove: &[(i64, i64)],
        now: i64,
    ) -> Result<()> {
        let mut tx = self.pool().begin().await?;
        if !remove.is_empty() {
            sqlx::query(self.pick(DELETE_INDEX_SQLITE, DELETE_INDEX_POSTGRES))
                .bind(json_rows(remove))
                .execute(&mut *tx)
                .await?;
        }
        let r = sqlx::query(
            "UPDATE vault_records SET sealed = $1, scrubbed_at = $2, updated_at = $2 WHERE id = $3",
        )
        .bind(sealed)
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        one_row(&r)?;
        tx.commit().await?;
        Ok(())
    }

    /// Destroys a record: its index rows, its data key (crypto-shredding) and its sealed
    /// fields. The row stays as a tombstone (so a resumed import does not bring it back) and the
    /// erasure is recorded.
    pub async fn erase_record(
        &self,
        id: i64,
        dataset_id: i64,
        remove: &[(i64, i64)],
        by: &str,
        reason: &str,
        now: i64,
    ) -> Result<()> {
        let mut tx = self.pool().begin().await?;
        if !remove.is_empty() {
            sqlx::query(self.pick(DELETE_INDEX_SQLITE, DELETE_INDEX_POSTGRES))
                .bind(json_rows(remove))
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query("DELETE FROM vault_deks WHERE record_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let r = sqlx::query(
            "UPDATE vault_records SET sealed = '', retention_date = NULL, erased_at = $1, \
             updated_at = $1 WHERE id = $2 AND erased_at IS NULL",
        )
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        one_row(&r)?;
        sqlx::query(
            "INSERT INTO vault_erasures (dataset_id, record_id, erased_at, erased_by, reason) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(dataset_id)
        .bind(id)
        .bind(now)
        .bind(by)
        .bind(reason)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn add_retention_run(&self, dataset_id: i64, run: &RetentionRun) -> Result<()> {
        sqlx::query(
            "INSERT INTO vault_retention_runs (dataset_id, ran_at, rule, cutoff, scrubbed, \
             deleted, failed) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(dataset_id)
        .bind(run.ran_at)
        .bind(&run.rule)
        .bind(&run.cutoff)
        .bind(run.scrubbed)
        .bind(run.deleted)
        .bind(run.failed)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    pub async fn retention_runs(&self, dataset_id: i64, limit: i64) -> Result<Vec<RetentionRun>> {
        let rows = sqlx::query(
            "SELECT ran_at, rule, cutoff, scrubbed, deleted, failed FROM vault_retention_runs \
             WHERE dataset_id = $1 ORDER BY id DESC LIMIT $2",
        )
        .bind(dataset_id)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(RetentionRun {
                    ran_at: r.try_get(0)?,
                    rule: r.try_get(1)?,
                    cutoff: r.try_get(2)?,
                    scrubbed: r.try_get(3)?,
                    deleted: r.try_get(4)?,
                    failed: r.try_get(5)?,
                })
            })
            .collect()
    }

    pub async fn count_erasures(&self, dataset_id: i64) -> Result<i64> {
        Ok(
            sqlx::query_scalar("SELECT COUNT(*) FROM vault_erasures WHERE dataset_id = $1")
                .bind(dataset_id)
                .fetch_one(self.pool())
                .await?,
        )
    }

    // ---- re-wrap ---------------------------------------------------------------------------

    /// The next data keys (after `after`, in id order) not wrapped by `current`.
    pub async fn deks_to_rewrap(
        &self,
        current: i64,
        after: i64,
        limit: i64,
    ) -> Result<Vec<(i64, i64, String)>> {
        let rows = sqlx::query(
            "SELECT record_id, key_version, wrapped FROM vault_deks \
             WHERE record_id > $1 AND key_version <> $2 ORDER BY record_id LIMIT $3",
        )
        .bind(after)
        .bind(current)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
            .collect()
    }

    /// Stores re-wrapped keys: (record id, old version, new version, wrapped). A key erased or
    /// re-wrapped meanwhile is left alone (the old version must still match).
    pub async fn rewrap_batch(&self, rows: &[(i64, i64, i64, String)]) -> Result<u64> {
        if rows.is_empty() {
            return Ok(0);
        }
        let mut tx = self.pool().begin().await?;
        let n = sqlx::query(self.pick(REWRAP_SQLITE, REWRAP_POSTGRES))
            .bind(json_rows(rows))
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(n)
    }

    // ---- re-seal (sealed-format upgrade) ------------------------------------------------------

    /// The next records (after `after`, in id order) still sealed in an older format than
    /// format 3 (whose text starts `v3.`; base64 has no `.`). Erased records have nothing sealed.
    pub async fn records_to_reseal(&self, after: i64, limit: i64) -> Result<Vec<RecordRow>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            record_columns!(),
            " WHERE r.id > $1 AND r.erased_at IS NULL AND r.sealed <> '' \
              AND r.sealed NOT LIKE 'v3.%' ORDER BY r.id LIMIT $2"
        ))
        .bind(after)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(record_from_row).collect()
    }

    /// Stores re-sealed records: (record id, old sealed text, new sealed text), in one
    /// transaction. A record changed meanwhile (scrubbed, erased) is left alone: the old text
    /// must still match. Returns how many were replaced.
    pub async fn reseal_batch(&self, rows: &[(i64, String, String)]) -> Result<u64> {
        if rows.is_empty() {
            return Ok(0);
        }
        let mut tx = self.pool().begin().await?;
        let mut n = 0;
        for (id, old, new) in rows {
            n += sqlx::query("UPDATE vault_records SET sealed = $1 WHERE id = $2 AND sealed = $3")
                .bind(new)
                .bind(id)
                .bind(old)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        }
        tx.commit().await?;
        Ok(n)
    }

    /// Replaces one record's sealed text as it is (tests use it to put records written in an
    /// older format in place).
    #[doc(hidden)]
    pub async fn replace_sealed(&self, id: i64, sealed: &str) -> Result<()> {
        let r = sqlx::query("UPDATE vault_records SET sealed = $1 WHERE id = $2")
            .bind(sealed)
            .bind(id)
            .execute(self.pool())
            .await?;
        one_row(&r)
    }

    // ---- grants ----------------------------------------------------------------------------

    #[expect(clippy::too_many_arguments, reason = "the fields of a grant")]
    pub async fn create_grant(
        &self,
        company_id: i64,
        dataset_id: i64,
        grantee_id: i64,
        fields: &str,
        purpose: &str,
        may_export: bool,
        issued_by: i64,
        now: i64,
        expires_at: i64,
    ) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "INSERT INTO vault_grants (company_id, dataset_id, grantee_id, fields, purpose, \
             may_export, issued_by, issued_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        )
        .bind(company_id)
        .bind(dataset_id)
        .bind(grantee_id)
        .bind(fields)
        .bind(purpose)
        .bind(flag(may_export))
        .bind(issued_by)
        .bind(now)
        .bind(expires_at)
        .fetch_one(self.pool())
        .await?)
    }

    /// The grants a person holds on a dataset that have not ended before `now`.
    pub async fn grants_for(
        &self,
        grantee_id: i64,
        dataset_id: i64,
        now: i64,
    ) -> Result<Vec<GrantRow>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            grant_columns!(),
            " FROM vault_grants WHERE grantee_id = $1 AND dataset_id = $2 \
             AND revoked_at IS NULL AND expires_at > $3 ORDER BY id"
        ))
        .bind(grantee_id)
        .bind(dataset_id)
        .bind(now)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(grant_from_row).collect()
    }

    /// A person's grants that are still running, on any dataset.
    pub async fn active_grants_of(&self, grantee_id: i64, now: i64) -> Result<Vec<GrantRow>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            grant_columns!(),
            " FROM vault_grants WHERE grantee_id = $1 AND revoked_at IS NULL AND expires_at > $2 \
             ORDER BY expires_at"
        ))
        .bind(grantee_id)
        .bind(now)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(grant_from_row).collect()
    }

    /// The newest grants of a company.
    pub async fn list_grants(&self, company_id: i64, limit: i64) -> Result<Vec<GrantRow>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            grant_columns!(),
            " FROM vault_grants WHERE company_id = $1 ORDER BY id DESC LIMIT $2"
        ))
        .bind(company_id)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(grant_from_row).collect()
    }

    pub async fn get_grant(&self, id: i64) -> Result<GrantRow> {
        let r = sqlx::query(concat!(
            "SELECT ",
            grant_columns!(),
            " FROM vault_grants WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::NotFound)?;
        grant_from_row(&r)
    }

    /// Revokes a grant; false when it had already ended or been revoked.
    pub async fn revoke_grant(&self, id: i64, by: i64, now: i64) -> Result<bool> {
        let n = sqlx::query(
            "UPDATE vault_grants SET revoked_at = $1, revoked_by = $2 \
             WHERE id = $3 AND revoked_at IS NULL AND expires_at > $1",
        )
        .bind(now)
        .bind(by)
        .bind(id)
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok(n == 1)
    }
}
