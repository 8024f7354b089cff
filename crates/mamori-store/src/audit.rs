//! The audit log table: batched appends that extend the hash chain, search, and paging for
//! verification and export.

use crate::{Backend, Result, Store, StoreError};
use mamori_domain::audit::{chain, AuditEntry, AuditRecord, Checkpoint, Outcome};
use sqlx::any::AnyRow;
use sqlx::Row;

const INSERT_SQLITE: &str = "INSERT INTO audit_log \
    (seq, at, actor_id, actor, ip, action, target, outcome, detail, prev_hash, hash) \
    SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]'), \
    json_extract(value, '$[3]'), json_extract(value, '$[4]'), json_extract(value, '$[5]'), \
    json_extract(value, '$[6]'), json_extract(value, '$[7]'), json_extract(value, '$[8]'), \
    json_extract(value, '$[9]'), json_extract(value, '$[10]') FROM json_each($1)";

const INSERT_POSTGRES: &str = "INSERT INTO audit_log \
    (seq, at, actor_id, actor, ip, action, target, outcome, detail, prev_hash, hash) \
    SELECT (e->>0)::bigint, (e->>1)::bigint, (e->>2)::bigint, e->>3, e->>4, e->>5, e->>6, \
    e->>7, e->>8, e->>9, e->>10 FROM jsonb_array_elements(CAST($1 AS TEXT)::jsonb) AS e";

/// The columns of an entry, in the order `entry_from_row` reads them.
macro_rules! columns {
    () => {
        "seq, at, actor_id, actor, ip, action, target, outcome, detail, prev_hash, hash"
    };
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
        },
        prev_hash: r.get(9),
        hash: r.get(10),
    })
}

impl Store {
    /// Appends records to the chain in one transaction and returns their sequence numbers.
    ///
    /// The first statement takes the write lock on the chain head (a row lock on PostgreSQL,
    /// the database write lock on SQLite), so that appends from several processes serialise
    /// and the chain stays linear. When this returns, the entries are durable.
    pub async fn append_audit(&self, records: Vec<AuditRecord>) -> Result<Vec<i64>> {
        if records.is_empty() {
            return Ok(Vec::new());
        }
        let mut tx = self.pool().begin().await?;
        sqlx::query("UPDATE audit_head SET last_seq = last_seq WHERE id = 1")
            .execute(&mut *tx)
            .await?;
        let head = sqlx::query("SELECT last_seq, last_hash FROM audit_head WHERE id = 1")
            .fetch_one(&mut *tx)
            .await?;
        let (last_seq, last_hash): (i64, String) = (head.get(0), head.get(1));
        let entries = chain(last_seq, &last_hash, records);
        let rows: Vec<serde_json::Value> = entries
            .iter()
            .map(|e| {
                serde_json::json!([
                    e.seq,
                    e.record.at_micros,
                    e.record.actor_id,
                    e.record.actor,
                    e.record.ip,
                    e.record.action,
                    e.record.target,
                    e.record.outcome.code(),
                    e.record.detail,
                    e.prev_hash,
                    e.hash
                ])
            })
            .collect();
        let json = serde_json::Value::Array(rows).to_string();
        let sql = match self.backend() {
            Backend::Sqlite => INSERT_SQLITE,
            Backend::Postgres => INSERT_POSTGRES,
        };
        sqlx::query(sql).bind(json).execute(&mut *tx).await?;
        let last = entries.last().expect("non-empty batch");
        sqlx::query("UPDATE audit_head SET last_seq = $1, last_hash = $2 WHERE id = 1")
            .bind(last.seq)
            .bind(&last.hash)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(entries.iter().map(|e| e.seq).collect())
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
        const SQL: &str = concat!(
            "SELECT ",
            columns!(),
            " FROM audit_log WHERE seq > $1 \
             AND (CAST($2 AS BIGINT) IS NULL OR at >= $2) \
             AND (CAST($3 AS BIGINT) IS NULL OR at < $3) \
             ORDER BY seq LIMIT $4"
        );
        let rows = sqlx::query(SQL)
            .bind(after_seq)
            .bind(since)
            .bind(until)
            .bind(limit)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(entry_from_row).collect()
    }

    /// Every entry in order, streamed: one query, rows decoded as they arrive.
    pub fn audit_stream(&self) -> impl futures_util::Stream<Item = Result<AuditEntry>> + '_ {
        use futures_util::StreamExt;
        const SQL: &str = concat!("SELECT ", columns!(), " FROM audit_log ORDER BY seq");
        sqlx::query(SQL)
            .fetch(self.pool())
            .map(|r| r.map_err(StoreError::from).and_then(|row| entry_from_row(&row)))
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

    pub async fn last_checkpoint_seq(&self) -> Result<i64> {
        let v: Option<i64> = sqlx::query_scalar("SELECT MAX(seq) FROM audit_checkpoints")
            .fetch_one(self.pool())
            .await?;
        Ok(v.unwrap_or(0))
    }
}
