//! Impact analysis (issue 14): the affected persons of an incident (`impact_persons`), the
//! source rows already counted (`impact_sources`), batched lookups in the blind index, and the
//! reads the system side and the index upgrade need. Nothing here sees a plaintext value: the
//! use case computes digests and dedupe keys and seals contact data before it calls.
//!
//! Bulk statements read a JSON array of rows (`json_each` on SQLite, `json_array_elements` on
//! PostgreSQL), as the vault's bulk writes do: static SQL, every value bound.

use crate::vault::RecordRow;
use crate::{Backend, Result, Store};
use sqlx::any::AnyRow;
use sqlx::Row;

/// How many digests one lookup statement carries.
pub const LOOKUP_BATCH: usize = 4096;

/// One source row of a batch, with the person it was attributed to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceRow {
    pub locator: String,
    pub person: PersonDraft,
}

/// What one source row says about its person (merged into the stored person).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonDraft {
    pub dedupe_key: String,
    pub record_id: Option<i64>,
    pub dataset_id: Option<i64>,
    /// `identifier`, `name` or `none`.
    pub strength: String,
    /// appi item codes.
    pub items: Vec<String>,
    pub contact_sealed: Option<String>,
}

/// A stored affected person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonRow {
    pub id: i64,
    pub incident_id: i64,
    pub record_id: Option<i64>,
    pub dataset_id: Option<i64>,
    pub strength: String,
    pub items: String,
    pub contact_sealed: Option<String>,
    pub dedupe_key: String,
    pub sources: i64,
    pub first_locator: String,
    pub created_at: i64,
    pub updated_at: i64,
}

macro_rules! person_columns {
    () => {
        "id, incident_id, record_id, dataset_id, strength, items, contact_sealed, dedupe_key, \
         sources, first_locator, created_at, updated_at"
    };
}

fn person_from(r: &AnyRow) -> Result<PersonRow> {
    Ok(PersonRow {
        id: r.try_get(0)?,
        incident_id: r.try_get(1)?,
        record_id: r.try_get(2)?,
        dataset_id: r.try_get(3)?,
        strength: r.try_get(4)?,
        items: r.try_get(5)?,
        contact_sealed: r.try_get(6)?,
        dedupe_key: r.try_get(7)?,
        sources: r.try_get(8)?,
        first_locator: r.try_get(9)?,
        created_at: r.try_get(10)?,
        updated_at: r.try_get(11)?,
    })
}

const LOOKUP_SQLITE: &str = "SELECT i.digest, r.id, r.dataset_id FROM vault_index i \
    JOIN vault_records r ON r.id = i.record_id \
    WHERE i.digest IN (SELECT value FROM json_each($1)) AND r.erased_at IS NULL";
const LOOKUP_POSTGRES: &str = "SELECT i.digest, r.id, r.dataset_id FROM vault_index i \
    JOIN vault_records r ON r.id = i.record_id \
    WHERE i.digest IN (SELECT (e #>> '{}')::bigint \
      FROM json_array_elements(CAST($1 AS TEXT)::json) AS e) \
    AND r.erased_at IS NULL";

const SOURCES_SQLITE: &str = "INSERT INTO impact_sources (incident_id, file_id, locator, \
    dedupe_key) SELECT $1, $2, value->>0, value->>1 FROM json_each($3) WHERE true \
    ON CONFLICT DO NOTHING RETURNING locator";
const SOURCES_POSTGRES: &str = "INSERT INTO impact_sources (incident_id, file_id, locator, \
    dedupe_key) SELECT $1, $2, e->>0, e->>1 \
    FROM json_array_elements(CAST($3 AS TEXT)::json) AS e \
    ON CONFLICT DO NOTHING RETURNING locator";

const TERMS_SQLITE: &str = "INSERT INTO impact_contact_terms (incident_id, digest, dedupe_key) \
    SELECT $1, value->>0, value->>1 FROM json_each($2) WHERE true ON CONFLICT DO NOTHING";
const TERMS_POSTGRES: &str = "INSERT INTO impact_contact_terms (incident_id, digest, dedupe_key) \
    SELECT $1, (e->>0)::bigint, e->>1 FROM json_array_elements(CAST($2 AS TEXT)::json) AS e \
    ON CONFLICT DO NOTHING";

/// A person already there gets the new items added (a set: item codes are `[a-z_]`), the
/// stronger strength and the new sources counted, in the statement itself, so two batches of
/// one incident written at once (two workers on PostgreSQL) cannot lose each other's items.
macro_rules! merge_on_conflict {
    ($items:expr) => {
        concat!(
            " ON CONFLICT (incident_id, dedupe_key) DO UPDATE SET \
             strength = CASE WHEN (CASE excluded.strength WHEN 'identifier' THEN 2 \
               WHEN 'name' THEN 1 ELSE 0 END) > (CASE impact_persons.strength \
               WHEN 'identifier' THEN 2 WHEN 'name' THEN 1 ELSE 0 END) \
               THEN excluded.strength ELSE impact_persons.strength END, \
             items = ",
            $items,
            ", sources = impact_persons.sources + excluded.sources, \
             updated_at = excluded.updated_at"
        )
    };
}

const UPSERT_SQLITE: &str = concat!(
    "INSERT INTO impact_persons (incident_id, dedupe_key, record_id, \
    dataset_id, strength, items, contact_sealed, sources, first_locator, created_at, \
    updated_at) SELECT $1, value->>0, value->>1, value->>2, value->>3, value->>4, value->>5, \
    value->>6, value->>7, $2, $2 FROM json_each($3) WHERE true",
    merge_on_conflict!(
        "(SELECT group_concat(value, ',') FROM (SELECT DISTINCT j.value AS value \
          FROM json_each('[\"' || replace(impact_persons.items || ',' || excluded.items, \
          ',', '\",\"') || '\"]') AS j WHERE j.value <> '' ORDER BY j.value))"
    )
);
const UPSERT_POSTGRES: &str = concat!(
    "INSERT INTO impact_persons (incident_id, dedupe_key, record_id, \
    dataset_id, strength, items, contact_sealed, sources, first_locator, created_at, \
    updated_at) SELECT $1, e->>0, (e->>1)::bigint, (e->>2)::bigint, e->>3, e->>4, e->>5, \
    (e->>6)::bigint, e->>7, $2, $2 FROM json_array_elements(CAST($3 AS TEXT)::json) AS e",
    merge_on_conflict!(
        "(SELECT string_agg(DISTINCT x, ',' ORDER BY x) FROM \
          unnest(string_to_array(impact_persons.items || ',' || excluded.items, ',')) AS x \
          WHERE x <> '')"
    )
);

const INSERT_INDEX_SQLITE: &str = "INSERT INTO vault_index (digest, record_id) \
    SELECT value->>0, value->>1 FROM json_each($1) WHERE true ON CONFLICT DO NOTHING";
const INSERT_INDEX_POSTGRES: &str = "INSERT INTO vault_index (digest, record_id) \
    SELECT (e->>0)::bigint, (e->>1)::bigint FROM json_array_elements(CAST($1 AS TEXT)::json) AS e \
    ON CONFLICT DO NOTHING";

macro_rules! record_columns {
    () => {
        "r.id, r.dataset_id, r.sealed, r.retention_date, k.key_version, k.wrapped, \
         r.created_at, r.scrubbed_at, r.erased_at \
         FROM vault_records r LEFT JOIN vault_deks k ON k.record_id = r.id"
    };
}

fn record_from(r: &AnyRow) -> Result<RecordRow> {
    Ok(RecordRow {
        id: r.try_get(0)?,
        dataset_id: r.try_get(1)?,
        sealed: r.try_get(2)?,
        retention_date: r.try_get(3)?,
        key_version: r.try_get(4)?,
        wrapped: r.try_get(5)?,
        created_at: r.try_get(6)?,
        scrubbed_at: r.try_get(7)?,
        erased_at: r.try_get(8)?,
    })
}

/// The stronger of two strengths (`identifier` > `name` > `none`).
pub fn stronger<'a>(a: &'a str, b: &'a str) -> &'a str {
    let rank = |s: &str| match s {
        "identifier" => 2,
        "name" => 1,
        _ => 0,
    };
    if rank(b) > rank(a) {
        b
    } else {
        a
    }
}

/// Counts of an incident's persons: (strength, items, persons) per distinct pair.
pub type CountRow = (String, String, i64);

impl Store {
    fn impact_sql(&self, sqlite: &'static str, postgres: &'static str) -> &'static str {
        match self.backend() {
            Backend::Sqlite => sqlite,
            Backend::Postgres => postgres,
        }
    }

    /// Records the contact terms of unmatched persons: (keyed digest of an e-mail address or
    /// phone number under the incident's dedupe key, the person's dedupe key), so the desk finds
    /// a person by any contact value their rows held, not only the one they are keyed by.
    pub async fn add_impact_terms(&self, incident_id: i64, terms: &[(i64, String)]) -> Result<()> {
        let sql = self.impact_sql(TERMS_SQLITE, TERMS_POSTGRES);
        for chunk in terms.chunks(LOOKUP_BATCH) {
            let json = serde_json::to_string(chunk).expect("pairs serialise");
            sqlx::query(sql)
                .bind(incident_id)
                .bind(json)
                .execute(self.pool())
                .await?;
        }
        Ok(())
    }

    /// The dedupe keys of an incident's unmatched persons whose rows held a contact term.
    pub async fn impact_keys_by_term(&self, incident_id: i64, digest: i64) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT dedupe_key FROM impact_contact_terms WHERE incident_id = $1 AND digest = $2 \
             ORDER BY dedupe_key LIMIT 50",
        )
        .bind(incident_id)
        .bind(digest)
        .fetch_all(self.pool())
        .await?)
    }

    /// The blind-index rows of live records holding any of `digests`: (digest, record id,
    /// dataset id). One statement per [`LOOKUP_BATCH`] digests.
    pub async fn impact_lookup(&self, digests: &[i64]) -> Result<Vec<(i64, i64, i64)>> {
        let mut out = Vec::new();
        let sql = self.impact_sql(LOOKUP_SQLITE, LOOKUP_POSTGRES);
        for chunk in digests.chunks(LOOKUP_BATCH) {
            let json = serde_json::to_string(chunk).expect("integers serialise");
            let rows = sqlx::query(sql).bind(json).fetch_all(self.pool()).await?;
            for r in &rows {
                out.push((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?));
            }
        }
        Ok(out)
    }

    /// Records one batch of source rows of an incident (`file_id` 0 for the system side) in
    /// one transaction: rows already recorded (a batch sent again) are skipped; each new row
    /// adds its items to its person (created when new) and counts as one source. Returns how
    /// many rows were new.
    pub async fn impact_record_batch(
        &self,
        incident_id: i64,
        file_id: i64,
        rows: &[SourceRow],
        now: i64,
    ) -> Result<u64> {
        use std::collections::{BTreeSet, HashMap};
        if rows.is_empty() {
            return Ok(0);
        }
        let mut tx = self.pool().begin().await?;
        let json: Vec<(&str, &str)> = rows
            .iter()
            .map(|r| (r.locator.as_str(), r.person.dedupe_key.as_str()))
            .collect();
        let inserted: std::collections::HashSet<String> =
            sqlx::query(self.impact_sql(SOURCES_SQLITE, SOURCES_POSTGRES))
                .bind(incident_id)
                .bind(file_id)
                .bind(serde_json::to_string(&json).expect("strings serialise"))
                .fetch_all(&mut *tx)
                .await?
                .iter()
                .map(|r| r.try_get::<String, _>(0))
                .collect::<std::result::Result<_, _>>()?;
        if inserted.is_empty() {
            tx.commit().await?;
            return Ok(0);
        }
        // Merge the new rows per person, in the order given (the first locator is the first).
        struct Merged<'a> {
            draft: &'a PersonDraft,
            strength: String,
            items: BTreeSet<String>,
            sources: i64,
            first_locator: &'a str,
        }
        let mut order: Vec<&str> = Vec::new();
        let mut merged: HashMap<&str, Merged> = HashMap::new();
        let mut seen = std::collections::HashSet::new();
        for r in rows {
            if !inserted.contains(&r.locator) || !seen.insert(r.locator.as_str()) {
                continue;
            }
            let key = r.person.dedupe_key.as_str();
            let m = merged.entry(key).or_insert_with(|| {
                order.push(key);
                Merged {
                    draft: &r.person,
                    strength: r.person.strength.clone(),
                    items: BTreeSet::new(),
                    sources: 0,
                    first_locator: &r.locator,
                }
            });
            if stronger(&m.strength, &r.person.strength) != m.strength {
                r.person.strength.clone_into(&mut m.strength);
            }
            m.items.extend(r.person.items.iter().cloned());
            m.sources += 1;
        }
        type Up<'a> = (
            &'a str,
            Option<i64>,
            Option<i64>,
            &'a str,
            String,
            Option<&'a str>,
            i64,
            &'a str,
        );
        let ups: Vec<Up> = order
            .iter()
            .map(|key| {
                let m = &merged[key];
                (
                    *key,
                    m.draft.record_id,
                    m.draft.dataset_id,
                    m.strength.as_str(),
                    m.items.iter().cloned().collect::<Vec<_>>().join(","),
                    m.draft.contact_sealed.as_deref(),
                    m.sources,
                    m.first_locator,
                )
            })
            .collect();
        sqlx::query(self.impact_sql(UPSERT_SQLITE, UPSERT_POSTGRES))
            .bind(incident_id)
            .bind(now)
            .bind(serde_json::to_string(&ups).expect("rows serialise"))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(inserted.len() as u64)
    }

    /// An incident's persons after `after_id`, at most `limit`, in id order.
    pub async fn impact_persons(
        &self,
        incident_id: i64,
        after_id: i64,
        limit: i64,
    ) -> Result<Vec<PersonRow>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            person_columns!(),
            " FROM impact_persons WHERE incident_id = $1 AND id > $2 ORDER BY id LIMIT $3"
        ))
        .bind(incident_id)
        .bind(after_id)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(person_from).collect()
    }

    /// How many persons an incident has per (strength, items).
    pub async fn impact_counts(&self, incident_id: i64) -> Result<Vec<CountRow>> {
        let rows = sqlx::query(
            "SELECT strength, items, COUNT(*) FROM impact_persons WHERE incident_id = $1 \
             GROUP BY strength, items ORDER BY strength, items",
        )
        .bind(incident_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
            .collect()
    }

    /// How many source rows an incident has recorded.
    pub async fn impact_source_count(&self, incident_id: i64) -> Result<i64> {
        Ok(
            sqlx::query_scalar("SELECT COUNT(*) FROM impact_sources WHERE incident_id = $1")
                .bind(incident_id)
                .fetch_one(self.pool())
                .await?,
        )
    }

    /// Live records (all datasets) after `after`, in id order: the blind-index upgrade reads
    /// them all.
    pub async fn records_for_reindex(&self, after: i64, limit: i64) -> Result<Vec<RecordRow>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            record_columns!(),
            " WHERE r.id > $1 AND r.erased_at IS NULL ORDER BY r.id LIMIT $2"
        ))
        .bind(after)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(record_from).collect()
    }

    /// A dataset's live records after `after`, optionally only those created or last changed
    /// within `[from, to]` (microseconds).
    pub async fn records_in_window(
        &self,
        dataset_id: i64,
        after: i64,
        limit: i64,
        window: Option<(i64, i64)>,
    ) -> Result<Vec<RecordRow>> {
        let (from, to) = window.unwrap_or((i64::MIN, i64::MAX));
        let rows = sqlx::query(concat!(
            "SELECT ",
            record_columns!(),
            " WHERE r.dataset_id = $1 AND r.id > $2 AND r.erased_at IS NULL \
              AND ((r.created_at >= $3 AND r.created_at <= $4) \
                OR (r.updated_at >= $3 AND r.updated_at <= $4)) \
              ORDER BY r.id LIMIT $5"
        ))
        .bind(dataset_id)
        .bind(after)
        .bind(from)
        .bind(to)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(record_from).collect()
    }

    /// Adds blind-index rows (digest, record id); rows already there are kept.
    pub async fn add_index_rows(&self, rows: &[(i64, i64)]) -> Result<u64> {
        if rows.is_empty() {
            return Ok(0);
        }
        let r = sqlx::query(self.impact_sql(INSERT_INDEX_SQLITE, INSERT_INDEX_POSTGRES))
            .bind(serde_json::to_string(rows).expect("integers serialise"))
            .execute(self.pool())
            .await?;
        Ok(r.rows_affected())
    }

    /// Sealed contacts of unmatched persons after `after` (id order), for a key rotation:
    /// (id, incident, dedupe key, sealed).
    pub async fn impact_blobs_after(
        &self,
        after: i64,
        limit: i64,
    ) -> Result<Vec<(i64, i64, String, String)>> {
        let rows = sqlx::query(
            "SELECT id, incident_id, dedupe_key, contact_sealed FROM impact_persons \
             WHERE id > $1 AND contact_sealed IS NOT NULL ORDER BY id LIMIT $2",
        )
        .bind(after)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
            .collect())
    }

    /// Replaces a sealed contact if it is still `old` (a concurrent match may have merged a
    /// new one in); whether it was replaced.
    pub async fn replace_impact_blob(&self, id: i64, old: &str, new: &str) -> Result<bool> {
        let n = sqlx::query(
            "UPDATE impact_persons SET contact_sealed = $1 WHERE id = $2 AND contact_sealed = $3",
        )
        .bind(new)
        .bind(id)
        .bind(old)
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok(n == 1)
    }
}
