//! The ledger (個人情報管理台帳): datasets, their yearly reviews, and the datasets an incident
//! names. Items are kept as a JSON array of appi.md §9 codes; the domain checks them.

use crate::{flag, one_row, Result, Store, StoreError};
use sqlx::any::AnyRow;
use sqlx::Row;

/// A ledger entry as stored (the vault schema and retention rule as JSON text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatasetRow {
    pub id: i64,
    pub company_id: i64,
    pub department_id: i64,
    pub name: String,
    pub items: String,
    pub card_data: bool,
    pub persons: Option<i64>,
    pub purpose: String,
    pub source: String,
    pub storage_place: String,
    pub storage_method: String,
    pub access: String,
    pub use_until: Option<String>,
    pub retain_until: Option<String>,
    pub entrusted_to: String,
    pub entrusted_from: String,
    pub reviewed_at: Option<i64>,
    pub reviewed_by: Option<i64>,
    pub review_due: String,
    pub vault_schema: Option<String>,
    pub retention: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub version: i64,
}

/// The editable part of an entry.
#[derive(Debug, Clone)]
pub struct DatasetFields<'a> {
    pub department_id: i64,
    pub name: &'a str,
    pub items: &'a str,
    pub card_data: bool,
    pub persons: Option<i64>,
    pub purpose: &'a str,
    pub source: &'a str,
    pub storage_place: &'a str,
    pub storage_method: &'a str,
    pub access: &'a str,
    pub use_until: Option<&'a str>,
    pub retain_until: Option<&'a str>,
    pub entrusted_to: &'a str,
    pub entrusted_from: &'a str,
}

macro_rules! dataset_columns {
    () => {
        "id, company_id, department_id, name, items, card_data, persons, purpose, source, \
         storage_place, storage_method, access, use_until, retain_until, entrusted_to, \
         entrusted_from, reviewed_at, reviewed_by, review_due, vault_schema, retention, \
         created_at, updated_at, version"
    };
}

/// A `DatasetRow` from the 24 columns of `dataset_columns!` starting at `$at`, read with
/// `$r.$get(i)`: `try_get` on an sqlx row, `get` on a native rusqlite row (a vault lookup on
/// SQLite), so that both read the columns the same way.
macro_rules! dataset_from {
    ($r:expr, $get:ident, $at:expr) => {
        crate::ledger::DatasetRow {
            id: $r.$get($at)?,
            company_id: $r.$get($at + 1)?,
            department_id: $r.$get($at + 2)?,
            name: $r.$get($at + 3)?,
            items: $r.$get($at + 4)?,
            card_data: {
                let flag: i64 = $r.$get($at + 5)?;
                flag != 0
            },
            persons: $r.$get($at + 6)?,
            purpose: $r.$get($at + 7)?,
            source: $r.$get($at + 8)?,
            storage_place: $r.$get($at + 9)?,
            storage_method: $r.$get($at + 10)?,
            access: $r.$get($at + 11)?,
            use_until: $r.$get($at + 12)?,
            retain_until: $r.$get($at + 13)?,
            entrusted_to: $r.$get($at + 14)?,
            entrusted_from: $r.$get($at + 15)?,
            reviewed_at: $r.$get($at + 16)?,
            reviewed_by: $r.$get($at + 17)?,
            review_due: $r.$get($at + 18)?,
            vault_schema: $r.$get($at + 19)?,
            retention: $r.$get($at + 20)?,
            created_at: $r.$get($at + 21)?,
            updated_at: $r.$get($at + 22)?,
            version: $r.$get($at + 23)?,
        }
    };
}
pub(crate) use dataset_from;

pub(crate) fn dataset_from_row(r: &AnyRow) -> Result<DatasetRow> {
    Ok(dataset_from!(r, try_get, 0))
}

/// One yearly review.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewRow {
    pub reviewed_at: i64,
    pub reviewed_by: i64,
    pub reviewer: String,
    pub comment: String,
    pub next_due: String,
}

impl Store {
    pub async fn create_dataset(
        &self,
        company_id: i64,
        f: &DatasetFields<'_>,
        review_due: &str,
        by: Option<i64>,
        now: i64,
    ) -> Result<i64> {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO datasets (company_id, department_id, name, items, card_data, persons, \
             purpose, source, storage_place, storage_method, access, use_until, retain_until, \
             entrusted_to, entrusted_from, review_due, created_at, created_by, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, \
             $18, $17) RETURNING id",
        )
        .bind(company_id)
        .bind(f.department_id)
        .bind(f.name)
        .bind(f.items)
        .bind(flag(f.card_data))
        .bind(f.persons)
        .bind(f.purpose)
        .bind(f.source)
        .bind(f.storage_place)
        .bind(f.storage_method)
        .bind(f.access)
        .bind(f.use_until)
        .bind(f.retain_until)
        .bind(f.entrusted_to)
        .bind(f.entrusted_from)
        .bind(review_due)
        .bind(now)
        .bind(by)
        .fetch_one(self.pool())
        .await
        .map_err(|e| StoreError::from_sqlx(e, "dataset name"))?;
        Ok(id)
    }

    /// Updates an entry if it is still at `version` (a concurrent edit is refused).
    pub async fn update_dataset(
        &self,
        id: i64,
        version: i64,
        f: &DatasetFields<'_>,
        now: i64,
    ) -> Result<()> {
        let r = sqlx::query(
            "UPDATE datasets SET department_id = $1, name = $2, items = $3, card_data = $4, \
             persons = $5, purpose = $6, source = $7, storage_place = $8, storage_method = $9, \
             access = $10, use_until = $11, retain_until = $12, entrusted_to = $13, \
             entrusted_from = $14, updated_at = $15, version = version + 1 \
             WHERE id = $16 AND version = $17",
        )
        .bind(f.department_id)
        .bind(f.name)
        .bind(f.items)
        .bind(flag(f.card_data))
        .bind(f.persons)
        .bind(f.purpose)
        .bind(f.source)
        .bind(f.storage_place)
        .bind(f.storage_method)
        .bind(f.access)
        .bind(f.use_until)
        .bind(f.retain_until)
        .bind(f.entrusted_to)
        .bind(f.entrusted_from)
        .bind(now)
        .bind(id)
        .bind(version)
        .execute(self.pool())
        .await
        .map_err(|e| StoreError::from_sqlx(e, "dataset name"))?;
        if r.rows_affected() == 0 {
            return Err(StoreError::Conflict("version (somebody else changed it)"));
        }
        Ok(())
    }

    pub async fn get_dataset(&self, id: i64) -> Result<DatasetRow> {
        let r = sqlx::query(concat!(
            "SELECT ",
            dataset_columns!(),
            " FROM datasets WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::NotFound)?;
        dataset_from_row(&r)
    }

    pub async fn dataset_by_name(&self, company_id: i64, name: &str) -> Result<DatasetRow> {
        let r = sqlx::query(concat!(
            "SELECT ",
            dataset_columns!(),
            " FROM datasets WHERE company_id = $1 AND name = $2"
        ))
        .bind(company_id)
        .bind(name)
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::NotFound)?;
        dataset_from_row(&r)
    }

    /// Every entry of a company, by department then name.
    pub async fn list_datasets(&self, company_id: i64) -> Result<Vec<DatasetRow>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            dataset_columns!(),
            " FROM datasets WHERE company_id = $1 ORDER BY department_id, name"
        ))
        .bind(company_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(dataset_from_row).collect()
    }

    /// Every entry of every company (for the reminder task).
    pub async fn all_datasets(&self) -> Result<Vec<DatasetRow>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            dataset_columns!(),
            " FROM datasets ORDER BY id"
        ))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(dataset_from_row).collect()
    }

    /// Records a yearly review and moves the due date.
    pub async fn review_dataset(
        &self,
        id: i64,
        by: i64,
        comment: &str,
        next_due: &str,
        now: i64,
    ) -> Result<()> {
        let mut tx = self.pool().begin().await?;
        let r = sqlx::query(
            "UPDATE datasets SET reviewed_at = $1, reviewed_by = $2, review_due = $3, \
             updated_at = $1, version = version + 1 WHERE id = $4",
        )
        .bind(now)
        .bind(by)
        .bind(next_due)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        one_row(&r)?;
        sqlx::query(
            "INSERT INTO dataset_reviews (dataset_id, reviewed_at, reviewed_by, comment, next_due) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id)
        .bind(now)
        .bind(by)
        .bind(comment)
        .bind(next_due)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn dataset_reviews(&self, id: i64) -> Result<Vec<ReviewRow>> {
        let rows = sqlx::query(
            "SELECT r.reviewed_at, r.reviewed_by, u.display_name, r.comment, r.next_due \
             FROM dataset_reviews r JOIN users u ON u.id = r.reviewed_by \
             WHERE r.dataset_id = $1 ORDER BY r.id DESC",
        )
        .bind(id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ReviewRow {
                    reviewed_at: r.try_get(0)?,
                    reviewed_by: r.try_get(1)?,
                    reviewer: r.try_get(2)?,
                    comment: r.try_get(3)?,
                    next_due: r.try_get(4)?,
                })
            })
            .collect()
    }

    /// Sets the vault schema and retention rule (JSON), guarded by the version.
    pub async fn set_dataset_vault(
        &self,
        id: i64,
        version: i64,
        schema: Option<&str>,
        retention: Option<&str>,
        items: &str,
        now: i64,
    ) -> Result<()> {
        let r = sqlx::query(
            "UPDATE datasets SET vault_schema = $1, retention = $2, items = $3, updated_at = $4, \
             version = version + 1 WHERE id = $5 AND version = $6",
        )
        .bind(schema)
        .bind(retention)
        .bind(items)
        .bind(now)
        .bind(id)
        .bind(version)
        .execute(self.pool())
        .await?;
        if r.rows_affected() == 0 {
            return Err(StoreError::Conflict("version (somebody else changed it)"));
        }
        Ok(())
    }

    /// Links datasets to an incident (the systems it involves).
    pub async fn set_incident_datasets(&self, incident_id: i64, datasets: &[i64]) -> Result<()> {
        let mut tx = self.pool().begin().await?;
        sqlx::query("DELETE FROM incident_datasets WHERE incident_id = $1")
            .bind(incident_id)
            .execute(&mut *tx)
            .await?;
        for d in datasets {
            sqlx::query("INSERT INTO incident_datasets (incident_id, dataset_id) VALUES ($1, $2)")
                .bind(incident_id)
                .bind(d)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn incident_datasets(&self, incident_id: i64) -> Result<Vec<(i64, String)>> {
        let rows = sqlx::query(
            "SELECT d.id, d.name FROM incident_datasets x JOIN datasets d ON d.id = x.dataset_id \
             WHERE x.incident_id = $1 ORDER BY d.name",
        )
        .bind(incident_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect()
    }
}
