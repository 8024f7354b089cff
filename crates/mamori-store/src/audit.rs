//! The audit log table: batched appends that extend the hash chain, search, and paging for
//! verification and export.

use crate::{Backend, Result, Store, StoreError};
use mamori_domain::audit::{
    chain_hashes, AuditEntry, AuditRecord, Checkpoint, Outcome, CURRENT_FORM,
};
use sqlx::any::AnyRow;
use sqlx::Row;

const INSERT_SQLITE: &str = "INSERT INTO audit_log \
    (seq, at, actor_id, actor, ip, action, target, outcome, detail, prev_hash, hash, company_id, \
    form) \
    SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]'), \
    json_extract(value, '$[3]'), json_extract(value, '$[4]'), json_extract(value, '$[5]'), \
    json_extract(value, '$[6]'), json_extract(value, '$[7]'), json_extract(value, '$[8]'), \
    json_extract(value, '$[9]'), json_extract(value, '$[10]'), json_extract(value, '$[11]'), \
    json_extract(value, '$[12]') FROM json_each($1)";

const INSERT_POSTGRES: &str = "INSERT INTO audit_log \
    (seq, at, actor_id, actor, ip, action, target, outcome, detail, prev_hash, hash, company_id, \
    form) \
    SELECT (e->>0)::bigint, (e->>1)::bigint, (e->>2)::bigint, e->>3, e->>4, e->>5, e->>6, \
    e->>7, e->>8, e->>9, e->>10, (e->>11)::bigint, (e->>12)::bigint \
    FROM jsonb_array_elements(CAST($1 AS TEXT)::jsonb) AS e";

/// The batch as one JSON array of rows, each row an array in the column order of the bulk
/// inserts, written straight from borrowed fields.
fn rows_json(last_seq: i64, last_hash: &str, records: &[AuditRecord], hashes: &[String]) -> String {
    let mut out = Vec::with_capacity(records.len() * 400 + 2);
    out.push(b'[');
    let mut prev = last_hash;
    for (i, (r, hash)) in records.iter().zip(hashes).enumerate() {
        if i > 0 {
            out.push(b',');
        }
        let row = (
            last_seq + 1 + i as i64,
            r.at_micros,
            r.actor_id,
            &r.actor,
            &r.ip,
            &r.action,
            &r.target,
            r.outcome.code(),
            &r.detail,
            prev,
            hash,
            r.company_id,
            CURRENT_FORM,
        );
        // Integers and strings always serialise.
        let _ = serde_json::to_writer(&mut out, &row);
        prev = hash;
    }
    out.push(b']');
    String::from_utf8(out).expect("serde_json writes UTF-8")
}

/// The bulk insert of [`ROWS_PER_INSERT`] entries with bound parameters: binding is much
/// cheaper per row than extracting the fields from JSON in SQL (≈ 8 µs a row on SQLite).
const ROWS_PER_INSERT: usize = 32;
/// With anonymous parameters, bound in order: sqlx looks up the name of each numbered
/// parameter, which SQLite finds by a linear search (quadratic in their number).
const INSERT_ROWS_SQLITE: &str = concat!(
    "INSERT INTO audit_log \
    (seq, at, actor_id, actor, ip, action, target, outcome, detail, prev_hash, hash, company_id, \
    form) VALUES ",
    "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?),",
    "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?),",
    "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?),",
    "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?),",
    "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?),",
    "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?),",
    "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?),",
    "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?),",
    "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?),",
    "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?),",
    "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?),",
    "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?),",
    "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?),",
    "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?),",
    "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?),",
    "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?),",
    "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?),",
    "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?),",
    "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?),",
    "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?),",
    "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?),",
    "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?),",
    "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?),",
    "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?),",
    "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?),",
    "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?),",
    "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?),",
    "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?),",
    "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?),",
    "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?),",
    "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?),",
    "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
);

/// The columns of an entry, in the order `entry_from_row` reads them.
macro_rules! columns {
    () => {
        "seq, at, actor_id, actor, ip, action, target, outcome, detail, prev_hash, hash, \
         company_id, form"
    };
}

/// A connection the audit writer keeps for its appends. On a SQLite file it is a native
/// connection used on a blocking thread (a batch is one hop there and back, not one per
/// statement); otherwise a connection opened by the store's pool, then detached from it, so
/// that closing the pool never waits for a writer that lives as long as its application (a
/// kept pool connection made `Store::close` wait forever).
#[derive(Default)]
pub struct WriterConnection(Option<WriterConn>);

enum WriterConn {
    Pooled(sqlx::AnyConnection),
    Native(rusqlite::Connection),
}

const INSERT_ONE_NATIVE: &str = "INSERT INTO audit_log \
    (seq, at, actor_id, actor, ip, action, target, outcome, detail, prev_hash, hash, company_id, \
    form) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)";

/// One batch on a native SQLite connection: the same statements as `append_audit_on`, in one
/// immediate transaction, durable when it returns (`synchronous = FULL`).
fn append_native(
    conn: &mut rusqlite::Connection,
    records: &[AuditRecord],
) -> rusqlite::Result<i64> {
    use rusqlite::params;
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let (last_seq, last_hash): (i64, String) = tx.query_row(
        "UPDATE audit_head SET last_seq = last_seq WHERE id = 1 RETURNING last_seq, last_hash",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let hashes = chain_hashes(last_seq, &last_hash, records);
    {
        let mut insert = tx.prepare_cached(INSERT_ONE_NATIVE)?;
        for (k, r) in records.iter().enumerate() {
            let prev = if k == 0 { &last_hash } else { &hashes[k - 1] };
            insert.execute(params![
                last_seq + 1 + k as i64,
                r.at_micros,
                r.actor_id,
                r.actor,
                r.ip,
                r.action,
                r.target,
                r.outcome.code(),
                r.detail,
                prev,
                hashes[k],
                r.company_id,
                CURRENT_FORM,
            ])?;
        }
    }
    tx.execute(
        "UPDATE audit_head SET last_seq = ?1, last_hash = ?2 WHERE id = 1",
        params![
            last_seq + records.len() as i64,
            hashes.last().expect("non-empty batch")
        ],
    )?;
    tx.commit()?;
    Ok(last_seq + 1)
}

fn open_writer(path: &std::path::Path) -> Result<rusqlite::Connection> {
    open_native_writer(path, "PRAGMA cache_size = -32768;")
}

/// A native read-write SQLite connection with the pool's settings (see `Store::connect`) and
/// `extra` pragmas after them, for the writers that bypass sqlx (the audit writer, bulk import).
pub(crate) fn open_native_writer(
    path: &std::path::Path,
    extra: &str,
) -> Result<rusqlite::Connection> {
    let conn = rusqlite::Connection::open_with_flags(
        path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| from_rusqlite(&e))?;
    conn.busy_timeout(std::time::Duration::from_secs(5))
        .map_err(|e| from_rusqlite(&e))?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; \
         PRAGMA secure_delete = ON;",
    )
    .and_then(|()| conn.execute_batch(extra))
    .map_err(|e| from_rusqlite(&e))?;
    Ok(conn)
}

/// Search criteria for the auditor's page; every field is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    pub actor: Option<String>,
    /// Matched as a case-insensitive substring of the action.
    pub action: Option<String>,
    pub outcome: Option<Outcome>,
    /// Microseconds, inclusive.
    pub since: Option<i64>,
    /// Microseconds, exclusive.
    pub until: Option<i64>,
    /// Matched as a case-insensitive substring of the target.
    pub target: Option<String>,
    /// Keyset pagination: only entries with a smaller sequence number.
    pub before_seq: Option<i64>,
    /// Only the entries of this company (an auditor's scope, or a group auditor's choice).
    pub company: Option<i64>,
}

fn like_pattern(s: &str) -> String {
    let mut out = String::from("%");
    for c in s.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// A stored form number; one that does not fit is data nobody wrote.
fn form_of(v: i64) -> Result<u8> {
    u8::try_from(v).map_err(|_| StoreError::Corrupt(format!("audit_log form {v}")))
}

fn entry_from_row(r: &AnyRow) -> Result<AuditEntry> {
    let outcome: String = r.get(7);
    Ok(AuditEntry {
        seq: r.get(0),
        record: AuditRecord {
            at_micros: r.get(1),
            actor_id: r.get(2),
            actor: r.get(3),
            ip: r.get(4),
            action: r.get(5),
            target: r.get(6),
            outcome: outcome.parse().map_err(StoreError::Corrupt)?,
            detail: r.get(8),
            company_id: r.get(11),
        },
        prev_hash: r.get(9),
        hash: r.get(10),
        form: form_of(r.get(12))?,
    })
}

impl Store {
    /// Appends records to the chain in one transaction and returns their sequence numbers.
    ///
    /// The first statement takes the write lock on the chain head (a row lock on PostgreSQL,
    /// the database write lock on SQLite), so that appends from several processes serialise
    /// and the chain stays linear. When this returns, the entries are durable.
    pub async fn append_audit(&self, records: Vec<AuditRecord>) -> Result<Vec<i64>> {
        let first = self.append_audit_slice(&records).await?;
        Ok((first..first + records.len() as i64).collect())
    }

    /// [`Store::append_audit`] without taking the records (so a busy database can be retried
    /// with the same batch); returns the sequence number of the first (0 for an empty batch),
    /// the others follow it.
    pub async fn append_audit_slice(&self, records: &[AuditRecord]) -> Result<i64> {
        if records.is_empty() {
            return Ok(0);
        }
        let mut conn = self.pool().acquire().await?;
        self.append_audit_on(&mut conn, records).await
    }

    /// [`Store::append_audit_slice`] on the writer's own connection, taken from the pool when
    /// it has none and given back after an error (the next batch takes a fresh one). Keeping
    /// one connection for the appends keeps SQLite's page cache of it warm between batches.
    pub async fn append_audit_kept(
        &self,
        conn: &mut WriterConnection,
        records: &[AuditRecord],
    ) -> Result<i64> {
        if records.is_empty() {
            return Ok(0);
        }
        let c = if let Some(c) = conn.0.take() {
            c
        } else {
            match self.sqlite_file() {
                Some(path) => WriterConn::Native(open_writer(path)?),
                None => WriterConn::Pooled(self.pool().acquire().await?.detach()),
            }
        };
        // A connection is kept only after a success: one in an unknown state is not reused.
        match c {
            WriterConn::Pooled(mut c) => {
                let result = self.append_audit_on(&mut c, records).await;
                if result.is_ok() {
                    conn.0 = Some(WriterConn::Pooled(c));
                }
                result
            }
            WriterConn::Native(mut c) => {
                let batch = records.to_vec();
                let (c, result) = tokio::task::spawn_blocking(move || {
                    let result = append_native(&mut c, &batch).map_err(|e| from_rusqlite(&e));
                    (c, result)
                })
                .await
                .map_err(|e| StoreError::Database(format!("audit writer thread: {e}")))?;
                if result.is_ok() {
                    conn.0 = Some(WriterConn::Native(c));
                }
                result
            }
        }
    }

    async fn append_audit_on(
        &self,
        conn: &mut sqlx::AnyConnection,
        records: &[AuditRecord],
    ) -> Result<i64> {
        use sqlx::Connection;
        if records.is_empty() {
            return Ok(0);
        }
        let mut tx = conn.begin().await?;
        // Locks the head and reads it in one statement.
        let head = sqlx::query(
            "UPDATE audit_head SET last_seq = last_seq WHERE id = 1 \
             RETURNING last_seq, last_hash",
        )
        .fetch_one(&mut *tx)
        .await?;
        let (last_seq, last_hash): (i64, String) = (head.get(0), head.get(1));
        let hashes = chain_hashes(last_seq, &last_hash, records);
        // SQLite: full groups of ROWS_PER_INSERT with bound parameters, the rest as one JSON
        // array. PostgreSQL: one JSON array (measured faster there than bound groups).
        let full = match self.backend() {
            Backend::Sqlite => records.len() / ROWS_PER_INSERT * ROWS_PER_INSERT,
            Backend::Postgres => 0,
        };
        for (i, group) in records[..full].chunks(ROWS_PER_INSERT).enumerate() {
            let base = i * ROWS_PER_INSERT;
            let mut q = sqlx::query(INSERT_ROWS_SQLITE);
            for (j, r) in group.iter().enumerate() {
                let k = base + j;
                let prev = if k == 0 { &last_hash } else { &hashes[k - 1] };
                q = q
                    .bind(last_seq + 1 + k as i64)
                    .bind(r.at_micros)
                    .bind(r.actor_id)
                    .bind(r.actor.as_str())
                    .bind(r.ip.as_str())
                    .bind(r.action.as_str())
                    .bind(r.target.as_str())
                    .bind(r.outcome.code())
                    .bind(r.detail.as_str())
                    .bind(prev.as_str())
                    .bind(hashes[k].as_str())
                    .bind(r.company_id)
                    .bind(i64::from(CURRENT_FORM));
            }
            q.execute(&mut *tx).await?;
        }
        if full < records.len() {
            let prev = if full == 0 {
                &last_hash
            } else {
                &hashes[full - 1]
            };
            let json = rows_json(
                last_seq + full as i64,
                prev,
                &records[full..],
                &hashes[full..],
            );
            let sql = match self.backend() {
                Backend::Sqlite => INSERT_SQLITE,
                Backend::Postgres => INSERT_POSTGRES,
            };
            sqlx::query(sql).bind(json).execute(&mut *tx).await?;
        }
        let last = hashes.last().expect("non-empty batch");
        sqlx::query("UPDATE audit_head SET last_seq = $1, last_hash = $2 WHERE id = 1")
            .bind(last_seq + records.len() as i64)
            .bind(last)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(last_seq + 1)
    }

    /// The newest entries matching `f`, newest first.
    pub async fn search_audit(&self, f: &AuditFilter, limit: i64) -> Result<Vec<AuditEntry>> {
        const SQL: &str = concat!(
            "SELECT ",
            columns!(),
            " FROM audit_log WHERE \
             (CAST($1 AS TEXT) IS NULL OR actor = $1) \
             AND (CAST($2 AS TEXT) IS NULL OR LOWER(action) LIKE $2 ESCAPE '\\') \
             AND (CAST($3 AS TEXT) IS NULL OR outcome = $3) \
             AND (CAST($4 AS BIGINT) IS NULL OR at >= $4) \
             AND (CAST($5 AS BIGINT) IS NULL OR at < $5) \
             AND (CAST($6 AS TEXT) IS NULL OR LOWER(target) LIKE $6 ESCAPE '\\') \
             AND (CAST($7 AS BIGINT) IS NULL OR seq < $7) \
             AND (CAST($9 AS BIGINT) IS NULL OR company_id = $9) \
             ORDER BY seq DESC LIMIT $8"
        );
        let rows = sqlx::query(SQL)
            .bind(f.actor.clone())
            .bind(f.action.as_deref().map(like_pattern))
            .bind(f.outcome.map(|o| o.code().to_owned()))
            .bind(f.since)
            .bind(f.until)
            .bind(f.target.as_deref().map(like_pattern))
            .bind(f.before_seq)
            .bind(limit)
            .bind(f.company)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(entry_from_row).collect()
    }

    /// Entries with `seq > after_seq` in order, at most `limit`, optionally within a time
    /// window; used by verification (no window) and export.
    pub async fn audit_page(
        &self,
        after_seq: i64,
        limit: i64,
        since: Option<i64>,
        until: Option<i64>,
    ) -> Result<Vec<AuditEntry>> {
        self.audit_page_of(after_seq, limit, since, until, None)
            .await
    }

    /// [`Store::audit_page`] limited to the entries of one company when `company` is given.
    pub async fn audit_page_of(
        &self,
        after_seq: i64,
        limit: i64,
        since: Option<i64>,
        until: Option<i64>,
        company: Option<i64>,
    ) -> Result<Vec<AuditEntry>> {
        const SQL: &str = concat!(
            "SELECT ",
            columns!(),
            " FROM audit_log WHERE seq > $1 \
             AND (CAST($2 AS BIGINT) IS NULL OR at >= $2) \
             AND (CAST($3 AS BIGINT) IS NULL OR at < $3) \
             AND (CAST($5 AS BIGINT) IS NULL OR company_id = $5) \
             ORDER BY seq LIMIT $4"
        );
        let rows = sqlx::query(SQL)
            .bind(after_seq)
            .bind(since)
            .bind(until)
            .bind(limit)
            .bind(company)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(entry_from_row).collect()
    }

    /// Every entry in order, streamed: one query, rows decoded as they arrive.
    pub fn audit_stream(&self) -> impl futures_util::Stream<Item = Result<AuditEntry>> + '_ {
        use futures_util::StreamExt;
        const SQL: &str = concat!("SELECT ", columns!(), " FROM audit_log ORDER BY seq");
        sqlx::query(SQL).fetch(self.pool()).map(|r| {
            r.map_err(StoreError::from)
                .and_then(|row| entry_from_row(&row))
        })
    }

    /// The last sequence number and hash of the chain.
    pub async fn audit_head(&self) -> Result<(i64, String)> {
        let r = sqlx::query("SELECT last_seq, last_hash FROM audit_head WHERE id = 1")
            .fetch_one(self.pool())
            .await?;
        Ok((r.get(0), r.get(1)))
    }

    pub async fn count_audit(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM audit_log")
            .fetch_one(self.pool())
            .await?)
    }

    pub async fn insert_checkpoint(&self, c: &Checkpoint) -> Result<()> {
        sqlx::query(
            "INSERT INTO audit_checkpoints (seq, hash, at, key_id, signature) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (seq) DO NOTHING",
        )
        .bind(c.seq)
        .bind(&c.hash)
        .bind(c.at_micros)
        .bind(&c.key_id)
        .bind(&c.signature)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    pub async fn list_checkpoints(&self) -> Result<Vec<Checkpoint>> {
        let rows = sqlx::query(
            "SELECT seq, hash, at, key_id, signature FROM audit_checkpoints ORDER BY seq",
        )
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .iter()
            .map(|r| Checkpoint {
                seq: r.get(0),
                hash: r.get(1),
                at_micros: r.get(2),
                key_id: r.get(3),
                signature: r.get(4),
            })
            .collect())
    }

    /// The time of entry `seq`, if there is one.
    pub async fn audit_entry_at(&self, seq: i64) -> Result<Option<i64>> {
        Ok(
            sqlx::query_scalar("SELECT at FROM audit_log WHERE seq = $1")
                .bind(seq)
                .fetch_optional(self.pool())
                .await?,
        )
    }

    pub async fn last_checkpoint_seq(&self) -> Result<i64> {
        let v: Option<i64> = sqlx::query_scalar("SELECT MAX(seq) FROM audit_checkpoints")
            .fetch_one(self.pool())
            .await?;
        Ok(v.unwrap_or(0))
    }
}

/// The query behind both fast read paths: every entry in `seq` order.
const ALL_IN_ORDER: &str = concat!("SELECT ", columns!(), " FROM audit_log ORDER BY seq");

/// The same, as a binary `COPY` for PostgreSQL.
const COPY_ALL_IN_ORDER: &str = concat!(
    "COPY (SELECT ",
    columns!(),
    " FROM audit_log ORDER BY seq) TO STDOUT (FORMAT binary)"
);

impl Store {
    /// Sends every entry in `seq` order to `out`, in chunks of `chunk`, from one consistent
    /// snapshot; stops early (without error) when the receiver is dropped.
    ///
    /// This is the fast read path for verification: SQLite is read with rusqlite on a blocking
    /// thread (a read-only connection to the same file), PostgreSQL with a binary `COPY` over
    /// a native connection. Through the `Any` driver each row costs several microseconds.
    pub async fn audit_chunks(
        &self,
        chunk: usize,
        out: tokio::sync::mpsc::Sender<Vec<AuditEntry>>,
    ) -> Result<()> {
        let chunk = chunk.max(1);
        match self.backend() {
            Backend::Sqlite => {
                if let Some(path) = self.sqlite_file().map(std::path::Path::to_path_buf) {
                    return tokio::task::spawn_blocking(move || sqlite_chunks(&path, chunk, &out))
                        .await
                        .map_err(|e| StoreError::Database(format!("reader thread: {e}")))?;
                }
                // A path the URL does not spell plainly: the generic (slower) stream.
                self.stream_chunks(chunk, &out).await
            }
            Backend::Postgres => {
                use futures_util::TryStreamExt;
                use sqlx::Connection;
                let url = self.pool().connect_options().database_url.clone();
                let mut conn = sqlx::PgConnection::connect(url.as_str()).await?;
                {
                    let mut data = conn.copy_out_raw(COPY_ALL_IN_ORDER).await?;
                    let mut parser = CopyBinary::default();
                    let mut buf = Vec::with_capacity(chunk);
                    while let Some(bytes) = data.try_next().await? {
                        parser.feed(&bytes, &mut buf)?;
                        if buf.len() >= chunk {
                            let full = std::mem::replace(&mut buf, Vec::with_capacity(chunk));
                            if out.send(full).await.is_err() {
                                return Ok(());
                            }
                        }
                    }
                    parser.finish()?;
                    if !buf.is_empty() {
                        let _ = out.send(buf).await;
                    }
                }
                conn.close().await?;
                Ok(())
            }
        }
    }

    async fn stream_chunks(
        &self,
        chunk: usize,
        out: &tokio::sync::mpsc::Sender<Vec<AuditEntry>>,
    ) -> Result<()> {
        use futures_util::TryStreamExt;
        let mut buf = Vec::with_capacity(chunk);
        let mut stream = std::pin::pin!(self.audit_stream());
        while let Some(e) = stream.try_next().await? {
            buf.push(e);
            if buf.len() == chunk {
                let full = std::mem::replace(&mut buf, Vec::with_capacity(chunk));
                if out.send(full).await.is_err() {
                    return Ok(());
                }
            }
        }
        if !buf.is_empty() {
            let _ = out.send(buf).await;
        }
        Ok(())
    }
}

pub(crate) fn from_rusqlite(e: &rusqlite::Error) -> StoreError {
    match e {
        rusqlite::Error::SqliteFailure(f, _)
            if matches!(
                f.code,
                rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
            ) =>
        {
            StoreError::Busy
        }
        rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::DiskFull => {
            StoreError::DiskFull
        }
        rusqlite::Error::FromSqlConversionFailure(..)
        | rusqlite::Error::InvalidColumnType(..)
        | rusqlite::Error::Utf8Error(..) => StoreError::Corrupt(e.to_string()),
        _ => StoreError::Database(e.to_string()),
    }
}

fn sqlite_chunks(
    path: &std::path::Path,
    chunk: usize,
    out: &tokio::sync::mpsc::Sender<Vec<AuditEntry>>,
) -> Result<()> {
    use rusqlite::{Connection, OpenFlags};
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| from_rusqlite(&e))?;
    conn.busy_timeout(std::time::Duration::from_secs(5))
        .map_err(|e| from_rusqlite(&e))?;
    let mut stmt = conn.prepare(ALL_IN_ORDER).map_err(|e| from_rusqlite(&e))?;
    let mut rows = stmt.query([]).map_err(|e| from_rusqlite(&e))?;
    let mut buf = Vec::with_capacity(chunk);
    while let Some(r) = rows.next().map_err(|e| from_rusqlite(&e))? {
        let text = |i: usize| -> Result<String> {
            let v = r.get_ref(i).map_err(|e| from_rusqlite(&e))?;
            Ok(v.as_str()
                .map_err(|e| StoreError::Corrupt(format!("audit_log column {i}: {e}")))?
                .to_owned())
        };
        let int = |i: usize| -> Result<Option<i64>> {
            r.get_ref(i)
                .map_err(|e| from_rusqlite(&e))?
                .as_i64_or_null()
                .map_err(|e| StoreError::Corrupt(format!("audit_log column {i}: {e}")))
        };
        let required = |i: usize| -> Result<i64> {
            int(i)?.ok_or_else(|| StoreError::Corrupt(format!("audit_log column {i} is NULL")))
        };
        buf.push(AuditEntry {
            seq: required(0)?,
            record: AuditRecord {
                at_micros: required(1)?,
                actor_id: int(2)?,
                actor: text(3)?,
                ip: text(4)?,
                action: text(5)?,
                target: text(6)?,
                outcome: r
                    .get_ref(7)
                    .map_err(|e| from_rusqlite(&e))?
                    .as_str()
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?
                    .parse()
                    .map_err(StoreError::Corrupt)?,
                detail: text(8)?,
                company_id: int(11)?,
            },
            prev_hash: text(9)?,
            hash: text(10)?,
            form: form_of(required(12)?)?,
        });
        if buf.len() == chunk {
            let full = std::mem::replace(&mut buf, Vec::with_capacity(chunk));
            if out.blocking_send(full).is_err() {
                return Ok(());
            }
        }
    }
    if !buf.is_empty() {
        let _ = out.blocking_send(buf);
    }
    Ok(())
}

/// A parser for PostgreSQL's binary `COPY` format carrying the thirteen columns of
/// `ALL_IN_ORDER`, fed with the data as it arrives (rows may be split across messages).
#[derive(Default)]
struct CopyBinary {
    pending: Vec<u8>,
    header_done: bool,
    trailer_seen: bool,
}

const COPY_SIGNATURE: &[u8] = b"PGCOPY\n\xff\r\n\0";

/// A cursor over bytes that may stop short; `None` means "wait for more data".
struct Cursor<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let s = self.data.get(self.pos..self.pos.checked_add(n)?)?;
        self.pos += n;
        Some(s)
    }
    fn i16(&mut self) -> Option<i16> {
        self.take(2).map(|b| i16::from_be_bytes([b[0], b[1]]))
    }
    fn i32(&mut self) -> Option<i32> {
        self.take(4)
            .map(|b| i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
    /// One field: `None` = incomplete, `Some(None)` = SQL NULL.
    #[expect(
        clippy::option_option,
        reason = "incomplete data and SQL NULL are both needed"
    )]
    fn field(&mut self) -> Option<Option<&'a [u8]>> {
        let len = self.i32()?;
        if len < 0 {
            return Some(None);
        }
        self.take(usize::try_from(len).ok()?).map(Some)
    }
}

impl CopyBinary {
    fn feed(&mut self, data: &[u8], out: &mut Vec<AuditEntry>) -> Result<()> {
        if self.pending.is_empty() {
            let used = self.parse(data, out)?;
            self.pending.extend_from_slice(&data[used..]);
        } else {
            let mut pending = std::mem::take(&mut self.pending);
            pending.extend_from_slice(data);
            let used = self.parse(&pending, out)?;
            pending.drain(..used);
            self.pending = pending;
        }
        Ok(())
    }

    /// Parses whole rows from `data`; returns how many bytes were used.
    fn parse(&mut self, data: &[u8], out: &mut Vec<AuditEntry>) -> Result<usize> {
        let corrupt = |what: &str| StoreError::Corrupt(format!("COPY data: {what}"));
        let mut c = Cursor { data, pos: 0 };
        if !self.header_done {
            let Some(sig) = c.take(COPY_SIGNATURE.len()) else {
                return Ok(0);
            };
            if sig != COPY_SIGNATURE {
                return Err(corrupt("bad signature"));
            }
            let (Some(_flags), Some(ext)) = (c.i32(), c.i32()) else {
                return Ok(0);
            };
            if c.take(usize::try_from(ext).map_err(|_| corrupt("bad header"))?)
                .is_none()
            {
                return Ok(0);
            }
            self.header_done = true;
        }
        loop {
            let start = c.pos;
            if self.trailer_seen {
                return Ok(start);
            }
            let Some(n) = c.i16() else {
                return Ok(start);
            };
            if n == -1 {
                self.trailer_seen = true;
                return Ok(c.pos);
            }
            if n != 13 {
                return Err(corrupt("unexpected column count"));
            }
            let mut f: [Option<&[u8]>; 13] = [None; 13];
            let mut complete = true;
            for slot in &mut f {
                let Some(v) = c.field() else {
                    complete = false;
                    break;
                };
                *slot = v;
            }
            if !complete {
                return Ok(start);
            }
            out.push(copy_entry(&f)?);
        }
    }

    fn finish(&self) -> Result<()> {
        if self.trailer_seen && self.pending.is_empty() {
            Ok(())
        } else {
            Err(StoreError::Corrupt("COPY data ended early".into()))
        }
    }
}

fn copy_entry(f: &[Option<&[u8]>; 13]) -> Result<AuditEntry> {
    let corrupt = |i: usize| StoreError::Corrupt(format!("COPY data: bad column {i}"));
    let int = |i: usize| -> Result<Option<i64>> {
        match f[i] {
            None => Ok(None),
            Some(b) => Ok(Some(i64::from_be_bytes(
                b.try_into().map_err(|_| corrupt(i))?,
            ))),
        }
    };
    let required = |i: usize| int(i)?.ok_or_else(|| corrupt(i));
    let text = |i: usize| -> Result<&str> {
        std::str::from_utf8(f[i].ok_or_else(|| corrupt(i))?).map_err(|_| corrupt(i))
    };
    Ok(AuditEntry {
        seq: required(0)?,
        record: AuditRecord {
            at_micros: required(1)?,
            actor_id: int(2)?,
            actor: text(3)?.to_owned(),
            ip: text(4)?.to_owned(),
            action: text(5)?.to_owned(),
            target: text(6)?.to_owned(),
            outcome: text(7)?.parse().map_err(StoreError::Corrupt)?,
            detail: text(8)?.to_owned(),
            company_id: int(11)?,
        },
        prev_hash: text(9)?.to_owned(),
        hash: text(10)?.to_owned(),
        form: form_of(required(12)?)?,
    })
}

#[cfg(test)]
mod copy_tests {
    use super::*;

    fn field(out: &mut Vec<u8>, v: Option<&[u8]>) {
        match v {
            None => out.extend_from_slice(&(-1i32).to_be_bytes()),
            Some(b) => {
                out.extend_from_slice(&i32::try_from(b.len()).unwrap().to_be_bytes());
                out.extend_from_slice(b);
            }
        }
    }

    fn stream(rows: i64) -> Vec<u8> {
        let mut out = COPY_SIGNATURE.to_vec();
        out.extend_from_slice(&0i32.to_be_bytes());
        out.extend_from_slice(&0i32.to_be_bytes());
        for seq in 1..=rows {
            out.extend_from_slice(&13i16.to_be_bytes());
            field(&mut out, Some(&seq.to_be_bytes()));
            field(&mut out, Some(&(seq * 10).to_be_bytes()));
            let seven = 7i64.to_be_bytes();
            field(&mut out, if seq % 2 == 0 { None } else { Some(&seven) });
            for v in [
                "sato",
                "127.0.0.1",
                "GET /",
                "/x\t\\y",
                "denied",
                "{}",
                "p",
                "h",
            ] {
                field(&mut out, Some(v.as_bytes()));
            }
            field(&mut out, if seq == 2 { Some(&seven) } else { None });
            field(&mut out, Some(&2i64.to_be_bytes()));
        }
        out.extend_from_slice(&(-1i16).to_be_bytes());
        out
    }

    #[test]
    fn binary_copy_parses_across_any_split() {
        let data = stream(3);
        for step in [1, 2, 3, 7, 50, data.len()] {
            let mut p = CopyBinary::default();
            let mut out = Vec::new();
            for piece in data.chunks(step) {
                p.feed(piece, &mut out).unwrap();
            }
            p.finish().unwrap();
            assert_eq!(out.len(), 3);
            assert_eq!(out[1].seq, 2);
            assert_eq!(out[1].record.at_micros, 20);
            assert_eq!(out[1].record.actor_id, None);
            assert_eq!(out[2].record.actor_id, Some(7));
            assert_eq!(out[2].record.target, "/x\t\\y");
            assert_eq!(out[2].record.outcome, Outcome::Denied);
            assert_eq!(out[2].hash, "h");
            assert_eq!(out[1].record.company_id, Some(7));
            assert_eq!(out[2].record.company_id, None);
            assert_eq!(out[2].form, 2);
        }
        let mut p = CopyBinary::default();
        let mut out = Vec::new();
        p.feed(&data[..data.len() - 5], &mut out).unwrap();
        assert!(p.finish().is_err());
    }
}
