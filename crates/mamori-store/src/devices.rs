//! The device and media register and take-outs (issue 17, parts 3 and 4): devices, their
//! lendings (kept after the return: the history), a register CSV between its preview and its
//! import, and take-out requests with their decision and their return or destruction.
//!
//! A lending changes the device's state in the same transaction, on the condition that the
//! device is in stock and unchanged since it was shown (its version); one open lending per
//! device is also a unique index. A decision or an evidence is one conditional UPDATE on the
//! take-out's status, so two heads deciding at once leave one decision.

use crate::{flag, one_row, Result, Store, StoreError};
use sqlx::any::AnyRow;
use sqlx::Row;

/// A device's fields as written.
#[derive(Debug, Clone, Default)]
pub struct DeviceFields {
    pub asset_tag: String,
    pub kind: String,
    pub model: String,
    pub serial: String,
    pub department_id: i64,
    pub owner_user_id: Option<i64>,
    pub pool: bool,
    pub encryption: String,
    pub remote_wipe: String,
    pub state: String,
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceRow {
    pub id: i64,
    pub company_id: i64,
    pub asset_tag: String,
    pub kind: String,
    pub model: String,
    pub serial: String,
    pub department_id: i64,
    pub owner_user_id: Option<i64>,
    pub pool: bool,
    pub encryption: String,
    pub remote_wipe: String,
    pub state: String,
    pub note: String,
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub updated_by: String,
}

macro_rules! device_cols {
    () => {
        "id, company_id, asset_tag, kind, model, serial, department_id, owner_user_id, pool, \
         encryption, remote_wipe, state, note, version, created_at, updated_at, updated_by"
    };
}

fn device_from_row(r: &AnyRow) -> DeviceRow {
    DeviceRow {
        id: r.get(0),
        company_id: r.get(1),
        asset_tag: r.get(2),
        kind: r.get(3),
        model: r.get(4),
        serial: r.get(5),
        department_id: r.get(6),
        owner_user_id: r.get(7),
        pool: r.get::<i64, _>(8) != 0,
        encryption: r.get(9),
        remote_wipe: r.get(10),
        state: r.get(11),
        note: r.get(12),
        version: r.get(13),
        created_at: r.get(14),
        updated_at: r.get(15),
        updated_by: r.get(16),
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoanRow {
    pub id: i64,
    pub device_id: i64,
    pub company_id: i64,
    pub borrower_id: i64,
    pub lent_at: i64,
    pub lent_by: String,
    pub due_on: String,
    pub purpose: String,
    pub returned_at: Option<i64>,
    pub returned_by: Option<String>,
    pub return_note: Option<String>,
}

macro_rules! loan_cols {
    () => {
        "id, device_id, company_id, borrower_id, lent_at, lent_by, due_on, purpose, \
         returned_at, returned_by, return_note"
    };
}

fn loan_from_row(r: &AnyRow) -> LoanRow {
    LoanRow {
        id: r.get(0),
        device_id: r.get(1),
        company_id: r.get(2),
        borrower_id: r.get(3),
        lent_at: r.get(4),
        lent_by: r.get(5),
        due_on: r.get(6),
        purpose: r.get(7),
        returned_at: r.get(8),
        returned_by: r.get(9),
        return_note: r.get(10),
    }
}

/// A lending to record.
#[derive(Debug, Clone)]
pub struct NewLoan {
    pub device_id: i64,
    pub device_version: i64,
    pub company_id: i64,
    pub borrower_id: i64,
    pub at: i64,
    pub by: String,
    pub due_on: String,
    pub purpose: String,
}

/// A register CSV kept between its preview and its import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceImportRow {
    pub id: i64,
    pub company_id: i64,
    pub user_id: i64,
    pub file_name: String,
    pub body: String,
    pub created_at: i64,
    pub applied_at: Option<i64>,
}

/// One row of an import: a new device, or new fields for an existing one.
#[derive(Debug, Clone)]
pub enum ImportWrite {
    Add(DeviceFields),
    Update { id: i64, fields: DeviceFields },
}

#[derive(Debug, Clone, Default)]
pub struct NewTakeout {
    pub company_id: i64,
    pub department_id: i64,
    pub requester_id: i64,
    pub dataset_id: i64,
    pub device_id: Option<i64>,
    pub purpose: String,
    pub until_on: String,
    pub requested_at: i64,
    pub requested_on: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TakeoutRow {
    pub id: i64,
    pub company_id: i64,
    pub department_id: i64,
    pub requester_id: i64,
    pub dataset_id: i64,
    pub device_id: Option<i64>,
    pub purpose: String,
    pub until_on: String,
    pub status: String,
    pub requested_at: i64,
    pub requested_on: String,
    pub decided_at: Option<i64>,
    pub decided_by: Option<i64>,
    pub decision_reason: String,
    pub evidence: Option<String>,
    pub evidence_on: Option<String>,
    pub evidence_note: String,
    pub evidence_at: Option<i64>,
    pub evidence_by: Option<i64>,
}

macro_rules! takeout_cols {
    () => {
        "id, company_id, department_id, requester_id, dataset_id, device_id, purpose, until_on, \
         status, requested_at, requested_on, decided_at, decided_by, decision_reason, evidence, \
         evidence_on, evidence_note, evidence_at, evidence_by"
    };
}

fn takeout_from_row(r: &AnyRow) -> TakeoutRow {
    TakeoutRow {
        id: r.get(0),
        company_id: r.get(1),
        department_id: r.get(2),
        requester_id: r.get(3),
        dataset_id: r.get(4),
        device_id: r.get(5),
        purpose: r.get(6),
        until_on: r.get(7),
        status: r.get(8),
        requested_at: r.get(9),
        requested_on: r.get(10),
        decided_at: r.get(11),
        decided_by: r.get(12),
        decision_reason: r.get(13),
        evidence: r.get(14),
        evidence_on: r.get(15),
        evidence_note: r.get(16),
        evidence_at: r.get(17),
        evidence_by: r.get(18),
    }
}

const VERSION_CONFLICT: StoreError = StoreError::Conflict("version (somebody else changed it)");

impl Store {
    // ───────────────────────────── devices ─────────────────────────────

    pub async fn insert_device(
        &self,
        company_id: i64,
        f: &DeviceFields,
        at: i64,
        by: &str,
    ) -> Result<i64> {
        insert_device_on(self.pool(), company_id, f, at, by).await
    }

    /// Writes new fields over version `version` of a device.
    pub async fn update_device(
        &self,
        id: i64,
        version: i64,
        f: &DeviceFields,
        at: i64,
        by: &str,
    ) -> Result<()> {
        let r = update_device_on(self.pool(), id, Some(version), f, at, by).await?;
        if r == 0 {
            self.device(id).await?;
            return Err(VERSION_CONFLICT);
        }
        Ok(())
    }

    pub async fn device(&self, id: i64) -> Result<DeviceRow> {
        let r = sqlx::query(concat!(
            "SELECT ",
            device_cols!(),
            " FROM devices WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::NotFound)?;
        Ok(device_from_row(&r))
    }

    /// The devices of a company, each optional filter applied, by asset tag.
    pub async fn list_devices(
        &self,
        company_id: i64,
        department_id: Option<i64>,
        kind: Option<&str>,
        state: Option<&str>,
    ) -> Result<Vec<DeviceRow>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            device_cols!(),
            " FROM devices WHERE company_id = $1 \
             AND (CAST($2 AS BIGINT) IS NULL OR department_id = $2) \
             AND (CAST($3 AS TEXT) IS NULL OR kind = $3) \
             AND (CAST($4 AS TEXT) IS NULL OR state = $4) ORDER BY asset_tag, id"
        ))
        .bind(company_id)
        .bind(department_id)
        .bind(kind)
        .bind(state)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.iter().map(device_from_row).collect())
    }

    /// Writes an import in one transaction: all its rows or none.
    pub async fn import_devices(
        &self,
        company_id: i64,
        import_id: i64,
        writes: &[ImportWrite],
        at: i64,
        by: &str,
    ) -> Result<()> {
        let mut tx = self.pool().begin().await?;
        let r = sqlx::query(
            "UPDATE device_imports SET applied_at = $1 WHERE id = $2 AND applied_at IS NULL",
        )
        .bind(at)
        .bind(import_id)
        .execute(&mut *tx)
        .await?;
        if r.rows_affected() == 0 {
            return Err(StoreError::Conflict("device import (already imported)"));
        }
        for w in writes {
            match w {
                ImportWrite::Add(f) => {
                    insert_device_on(&mut *tx, company_id, f, at, by).await?;
                }
                ImportWrite::Update { id, fields } => {
                    update_device_on(&mut *tx, *id, None, fields, at, by).await?;
                }
            }
        }
        tx.commit().await?;
        Ok(())
    }

    // ───────────────────────────── lending ─────────────────────────────

    /// Lends a device in stock: the lending and the state `lent` together, or nothing when the
    /// device changed since it was shown or is not in stock.
    pub async fn lend_device(&self, n: &NewLoan) -> Result<i64> {
        let mut tx = self.pool().begin().await?;
        let r = sqlx::query(
            "UPDATE devices SET state = 'lent', version = version + 1, updated_at = $1, \
             updated_by = $2 WHERE id = $3 AND version = $4 AND state = 'in_stock'",
        )
        .bind(n.at)
        .bind(&n.by)
        .bind(n.device_id)
        .bind(n.device_version)
        .execute(&mut *tx)
        .await?;
        if r.rows_affected() == 0 {
            return Err(VERSION_CONFLICT);
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO device_loans (device_id, company_id, borrower_id, lent_at, lent_by, \
             due_on, purpose) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(n.device_id)
        .bind(n.company_id)
        .bind(n.borrower_id)
        .bind(n.at)
        .bind(&n.by)
        .bind(&n.due_on)
        .bind(&n.purpose)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| StoreError::from_sqlx(e, "open lending"))?;
        tx.commit().await?;
        Ok(id)
    }

    /// Records the return of the open lending of a device; the device is in stock again.
    pub async fn return_device(&self, device_id: i64, at: i64, by: &str, note: &str) -> Result<()> {
        let mut tx = self.pool().begin().await?;
        let r = sqlx::query(
            "UPDATE device_loans SET returned_at = $1, returned_by = $2, return_note = $3 \
             WHERE device_id = $4 AND returned_at IS NULL",
        )
        .bind(at)
        .bind(by)
        .bind(note)
        .bind(device_id)
        .execute(&mut *tx)
        .await?;
        one_row(&r)?;
        sqlx::query(
            "UPDATE devices SET state = 'in_stock', version = version + 1, updated_at = $1, \
             updated_by = $2 WHERE id = $3",
        )
        .bind(at)
        .bind(by)
        .bind(device_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// A device's lendings, newest first.
    pub async fn device_loans(&self, device_id: i64) -> Result<Vec<LoanRow>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            loan_cols!(),
            " FROM device_loans WHERE device_id = $1 ORDER BY id DESC"
        ))
        .bind(device_id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.iter().map(loan_from_row).collect())
    }

    /// The lendings not yet returned: of one company, or of every company (`None`).
    pub async fn open_loans(&self, company_id: Option<i64>) -> Result<Vec<LoanRow>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            loan_cols!(),
            " FROM device_loans WHERE returned_at IS NULL \
             AND (CAST($1 AS BIGINT) IS NULL OR company_id = $1) ORDER BY due_on, id"
        ))
        .bind(company_id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.iter().map(loan_from_row).collect())
    }

    /// The lendings of one person not yet returned.
    pub async fn open_loans_of(&self, borrower_id: i64) -> Result<Vec<LoanRow>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            loan_cols!(),
            " FROM device_loans WHERE borrower_id = $1 AND returned_at IS NULL ORDER BY due_on"
        ))
        .bind(borrower_id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.iter().map(loan_from_row).collect())
    }

    // ───────────────────────────── imports ─────────────────────────────

    pub async fn insert_device_import(
        &self,
        company_id: i64,
        user_id: i64,
        file_name: &str,
        body: &str,
        at: i64,
    ) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "INSERT INTO device_imports (company_id, user_id, file_name, body, created_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(company_id)
        .bind(user_id)
        .bind(file_name)
        .bind(body)
        .bind(at)
        .fetch_one(self.pool())
        .await?)
    }

    pub async fn device_import(&self, id: i64) -> Result<DeviceImportRow> {
        let r = sqlx::query(
            "SELECT id, company_id, user_id, file_name, body, created_at, applied_at \
             FROM device_imports WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::NotFound)?;
        Ok(DeviceImportRow {
            id: r.get(0),
            company_id: r.get(1),
            user_id: r.get(2),
            file_name: r.get(3),
            body: r.get(4),
            created_at: r.get(5),
            applied_at: r.get(6),
        })
    }

    /// Forgets previews older than `before` that were never imported (their text is a copy of
    /// the company's register).
    pub async fn purge_device_imports(&self, before: i64) -> Result<u64> {
        Ok(
            sqlx::query("DELETE FROM device_imports WHERE created_at < $1")
                .bind(before)
                .execute(self.pool())
                .await?
                .rows_affected(),
        )
    }

    // ───────────────────────────── take-outs ─────────────────────────────

    pub async fn insert_takeout(&self, n: &NewTakeout) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "INSERT INTO takeouts (company_id, department_id, requester_id, dataset_id, \
             device_id, purpose, until_on, status, requested_at, requested_on) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'requested', $8, $9) RETURNING id",
        )
        .bind(n.company_id)
        .bind(n.department_id)
        .bind(n.requester_id)
        .bind(n.dataset_id)
        .bind(n.device_id)
        .bind(&n.purpose)
        .bind(&n.until_on)
        .bind(n.requested_at)
        .bind(&n.requested_on)
        .fetch_one(self.pool())
        .await?)
    }

    pub async fn takeout(&self, id: i64) -> Result<TakeoutRow> {
        let r = sqlx::query(concat!(
            "SELECT ",
            takeout_cols!(),
            " FROM takeouts WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::NotFound)?;
        Ok(takeout_from_row(&r))
    }

    /// Take-outs of a company (or of every company: `None`), optionally of one status, newest
    /// first.
    pub async fn list_takeouts(
        &self,
        company_id: Option<i64>,
        status: Option<&str>,
    ) -> Result<Vec<TakeoutRow>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            takeout_cols!(),
            " FROM takeouts WHERE (CAST($1 AS BIGINT) IS NULL OR company_id = $1) \
             AND (CAST($2 AS TEXT) IS NULL OR status = $2) ORDER BY id DESC"
        ))
        .bind(company_id)
        .bind(status)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.iter().map(takeout_from_row).collect())
    }

    /// Take-outs asked by one person, newest first.
    pub async fn takeouts_of(&self, requester_id: i64) -> Result<Vec<TakeoutRow>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            takeout_cols!(),
            " FROM takeouts WHERE requester_id = $1 ORDER BY id DESC"
        ))
        .bind(requester_id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.iter().map(takeout_from_row).collect())
    }

    /// Approves or refuses a request still waiting; `false` when it was no longer waiting.
    pub async fn decide_takeout(
        &self,
        id: i64,
        approve: bool,
        by: i64,
        reason: &str,
        at: i64,
    ) -> Result<bool> {
        let r = sqlx::query(
            "UPDATE takeouts SET status = $1, decided_at = $2, decided_by = $3, \
             decision_reason = $4 WHERE id = $5 AND status = 'requested'",
        )
        .bind(if approve { "approved" } else { "refused" })
        .bind(at)
        .bind(by)
        .bind(reason)
        .bind(id)
        .execute(self.pool())
        .await?;
        Ok(r.rows_affected() == 1)
    }

    /// Withdraws a request still waiting; `false` when it was no longer waiting.
    pub async fn withdraw_takeout(&self, id: i64, at: i64, by: i64) -> Result<bool> {
        let r = sqlx::query(
            "UPDATE takeouts SET status = 'withdrawn', decided_at = $1, decided_by = $2 \
             WHERE id = $3 AND status = 'requested'",
        )
        .bind(at)
        .bind(by)
        .bind(id)
        .execute(self.pool())
        .await?;
        Ok(r.rows_affected() == 1)
    }

    /// Records the return or destruction of an approved take-out; `false` when it was not out.
    pub async fn close_takeout(
        &self,
        id: i64,
        evidence: &str,
        on: &str,
        note: &str,
        by: i64,
        at: i64,
    ) -> Result<bool> {
        let r = sqlx::query(
            "UPDATE takeouts SET status = 'closed', evidence = $1, evidence_on = $2, \
             evidence_note = $3, evidence_by = $4, evidence_at = $5 \
             WHERE id = $6 AND status = 'approved'",
        )
        .bind(evidence)
        .bind(on)
        .bind(note)
        .bind(by)
        .bind(at)
        .bind(id)
        .execute(self.pool())
        .await?;
        Ok(r.rows_affected() == 1)
    }
}

async fn insert_device_on<'e, E>(
    ex: E,
    company_id: i64,
    f: &DeviceFields,
    at: i64,
    by: &str,
) -> Result<i64>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query_scalar(
        "INSERT INTO devices (company_id, asset_tag, kind, model, serial, department_id, \
         owner_user_id, pool, encryption, remote_wipe, state, note, version, created_at, \
         created_by, updated_at, updated_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 1, $13, $14, $13, $14) \
         RETURNING id",
    )
    .bind(company_id)
    .bind(&f.asset_tag)
    .bind(&f.kind)
    .bind(&f.model)
    .bind(&f.serial)
    .bind(f.department_id)
    .bind(f.owner_user_id)
    .bind(flag(f.pool))
    .bind(&f.encryption)
    .bind(&f.remote_wipe)
    .bind(&f.state)
    .bind(&f.note)
    .bind(at)
    .bind(by)
    .fetch_one(ex)
    .await
    .map_err(|e| StoreError::from_sqlx(e, "asset tag"))
}

/// The rows changed (0: not found, or another version when `version` is given).
async fn update_device_on<'e, E>(
    ex: E,
    id: i64,
    version: Option<i64>,
    f: &DeviceFields,
    at: i64,
    by: &str,
) -> Result<u64>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    Ok(sqlx::query(
        "UPDATE devices SET asset_tag = $1, kind = $2, model = $3, serial = $4, \
         department_id = $5, owner_user_id = $6, pool = $7, encryption = $8, remote_wipe = $9, \
         state = $10, note = $11, version = version + 1, updated_at = $12, updated_by = $13 \
         WHERE id = $14 AND (CAST($15 AS BIGINT) IS NULL OR version = $15)",
    )
    .bind(&f.asset_tag)
    .bind(&f.kind)
    .bind(&f.model)
    .bind(&f.serial)
    .bind(f.department_id)
    .bind(f.owner_user_id)
    .bind(flag(f.pool))
    .bind(&f.encryption)
    .bind(&f.remote_wipe)
    .bind(&f.state)
    .bind(&f.note)
    .bind(at)
    .bind(by)
    .bind(id)
    .bind(version)
    .execute(ex)
    .await
    .map_err(|e| StoreError::from_sqlx(e, "asset tag"))?
    .rows_affected())
}
