//! Contractors (委託先) and internal audit (issue 17, parts 5 and 6): the register of
//! contractors with the ledger entries they handle, their checklist and reviews
//! (append-only), the incident a contractor was involved in; the yearly audit plan, its
//! audits, findings (append-only) and corrective actions with their history.

use crate::{one_row, Result, Store, StoreError};
use sqlx::any::AnyRow;
use sqlx::Row;

/// A contractor as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContractorRow {
    pub id: i64,
    pub company_id: i64,
    pub department_id: i64,
    pub name: String,
    pub address: String,
    pub contact_person: String,
    pub contact: String,
    pub work: String,
    pub interval_months: i64,
    pub next_review_on: String,
    pub created_at: i64,
    pub created_by: String,
    pub updated_at: i64,
    pub version: i64,
}

/// The editable part of a contractor.
#[derive(Debug, Clone)]
pub struct ContractorFields<'a> {
    pub department_id: i64,
    pub name: &'a str,
    pub address: &'a str,
    pub contact_person: &'a str,
    pub contact: &'a str,
    pub work: &'a str,
    pub interval_months: i64,
    pub next_review_on: &'a str,
}

macro_rules! contractor_columns {
    () => {
        "id, company_id, department_id, name, address, contact_person, contact, work, \
         interval_months, next_review_on, created_at, created_by, updated_at, version"
    };
}

fn contractor_from(r: &AnyRow) -> Result<ContractorRow> {
    Ok(ContractorRow {
        id: r.try_get(0)?,
        company_id: r.try_get(1)?,
        department_id: r.try_get(2)?,
        name: r.try_get(3)?,
        address: r.try_get(4)?,
        contact_person: r.try_get(5)?,
        contact: r.try_get(6)?,
        work: r.try_get(7)?,
        interval_months: r.try_get(8)?,
        next_review_on: r.try_get(9)?,
        created_at: r.try_get(10)?,
        created_by: r.try_get(11)?,
        updated_at: r.try_get(12)?,
        version: r.try_get(13)?,
    })
}

/// One record of a checklist item (the newest is the item's state).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckRow {
    pub id: i64,
    pub contractor_id: i64,
    pub item: String,
    pub status: String,
    pub document: String,
    pub document_on: Option<String>,
    pub note: String,
    pub by_user: Option<i64>,
    pub by_name: String,
    pub at: i64,
}

/// One periodic review.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewRow {
    pub id: i64,
    pub contractor_id: i64,
    pub reviewed_on: String,
    pub result: String,
    pub note: String,
    pub next_review_on: String,
    pub by_user: Option<i64>,
    pub by_name: String,
    pub at: i64,
}

/// An incident naming a contractor, as the contractor's page lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContractorIncident {
    pub id: i64,
    pub ref_no: String,
    pub title: String,
    pub status: String,
    pub drill: bool,
    pub created_at: i64,
}

/// A yearly audit plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanRow {
    pub id: i64,
    pub company_id: i64,
    pub year: i64,
    pub note: String,
    pub created_at: i64,
    pub created_by: String,
}

/// One planned (or done) audit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRow {
    pub id: i64,
    pub plan_id: i64,
    pub company_id: i64,
    pub department_id: i64,
    pub planned_on: String,
    pub auditor_id: i64,
    pub status: String,
    pub done_on: Option<String>,
    pub summary: String,
    pub created_at: i64,
    pub created_by: String,
}

macro_rules! audit_columns {
    () => {
        "id, plan_id, company_id, department_id, planned_on, auditor_id, status, done_on, \
         summary, created_at, created_by"
    };
}

fn audit_from(r: &AnyRow) -> Result<AuditRow> {
    Ok(AuditRow {
        id: r.try_get(0)?,
        plan_id: r.try_get(1)?,
        company_id: r.try_get(2)?,
        department_id: r.try_get(3)?,
        planned_on: r.try_get(4)?,
        auditor_id: r.try_get(5)?,
        status: r.try_get(6)?,
        done_on: r.try_get(7)?,
        summary: r.try_get(8)?,
        created_at: r.try_get(9)?,
        created_by: r.try_get(10)?,
    })
}

/// A finding of an audit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindingRow {
    pub id: i64,
    pub audit_id: i64,
    pub severity: String,
    pub description: String,
    pub rule: String,
    pub by_user: Option<i64>,
    pub by_name: String,
    pub at: i64,
}

/// A corrective action with the audit and department it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionRow {
    pub id: i64,
    pub finding_id: i64,
    pub audit_id: i64,
    pub company_id: i64,
    pub department_id: i64,
    pub description: String,
    pub owner_id: i64,
    pub due_on: String,
    pub status: String,
    pub created_at: i64,
    pub created_by: String,
    pub updated_at: i64,
}

macro_rules! action_select {
    () => {
        "SELECT a.id, a.finding_id, f.audit_id, u.company_id, u.department_id, a.description, \
         a.owner_id, a.due_on, a.status, a.created_at, a.created_by, a.updated_at \
         FROM audit_actions a JOIN audit_findings f ON f.id = a.finding_id \
         JOIN audits u ON u.id = f.audit_id"
    };
}

fn action_from(r: &AnyRow) -> Result<ActionRow> {
    Ok(ActionRow {
        id: r.try_get(0)?,
        finding_id: r.try_get(1)?,
        audit_id: r.try_get(2)?,
        company_id: r.try_get(3)?,
        department_id: r.try_get(4)?,
        description: r.try_get(5)?,
        owner_id: r.try_get(6)?,
        due_on: r.try_get(7)?,
        status: r.try_get(8)?,
        created_at: r.try_get(9)?,
        created_by: r.try_get(10)?,
        updated_at: r.try_get(11)?,
    })
}

/// One change of a corrective action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionUpdateRow {
    pub id: i64,
    pub action_id: i64,
    pub status: String,
    pub note: String,
    pub by_user: Option<i64>,
    pub by_name: String,
    pub at: i64,
}

/// Who recorded something, and when.
#[derive(Debug, Clone, Copy)]
pub struct By<'a> {
    pub user: Option<i64>,
    pub name: &'a str,
    pub at: i64,
}

impl Store {
    // ───────────────────────────── contractors ─────────────────────────────

    pub async fn insert_contractor(
        &self,
        company_id: i64,
        f: &ContractorFields<'_>,
        by: By<'_>,
    ) -> Result<i64> {
        sqlx::query_scalar(
            "INSERT INTO contractors (company_id, department_id, name, address, contact_person, \
             contact, work, interval_months, next_review_on, created_at, created_by, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $10) RETURNING id",
        )
        .bind(company_id)
        .bind(f.department_id)
        .bind(f.name)
        .bind(f.address)
        .bind(f.contact_person)
        .bind(f.contact)
        .bind(f.work)
        .bind(f.interval_months)
        .bind(f.next_review_on)
        .bind(by.at)
        .bind(by.name)
        .fetch_one(self.pool())
        .await
        .map_err(|e| StoreError::from_sqlx(e, "contractor name"))
    }

    /// Updates a contractor if it is still at `version` (a concurrent edit is refused).
    pub async fn update_contractor(
        &self,
        id: i64,
        version: i64,
        f: &ContractorFields<'_>,
        now: i64,
    ) -> Result<()> {
        let r = sqlx::query(
            "UPDATE contractors SET department_id = $1, name = $2, address = $3, \
             contact_person = $4, contact = $5, work = $6, interval_months = $7, \
             next_review_on = $8, updated_at = $9, version = version + 1 \
             WHERE id = $10 AND version = $11",
        )
        .bind(f.department_id)
        .bind(f.name)
        .bind(f.address)
        .bind(f.contact_person)
        .bind(f.contact)
        .bind(f.work)
        .bind(f.interval_months)
        .bind(f.next_review_on)
        .bind(now)
        .bind(id)
        .bind(version)
        .execute(self.pool())
        .await
        .map_err(|e| StoreError::from_sqlx(e, "contractor name"))?;
        if r.rows_affected() == 0 {
            return Err(StoreError::Conflict("version (somebody else changed it)"));
        }
        Ok(())
    }

    pub async fn contractor(&self, id: i64) -> Result<ContractorRow> {
        let sql = concat!(
            "SELECT ",
            contractor_columns!(),
            " FROM contractors WHERE id = $1"
        );
        let r = sqlx::query(sql).bind(id).fetch_one(self.pool()).await?;
        contractor_from(&r)
    }

    /// The contractors of a company, by name.
    pub async fn contractors(&self, company_id: i64) -> Result<Vec<ContractorRow>> {
        let sql = concat!(
            "SELECT ",
            contractor_columns!(),
            " FROM contractors WHERE company_id = $1 ORDER BY name, id"
        );
        sqlx::query(sql)
            .bind(company_id)
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(contractor_from)
            .collect()
    }

    /// Every contractor of every company (the reminders).
    pub async fn all_contractors(&self) -> Result<Vec<ContractorRow>> {
        let sql = concat!(
            "SELECT ",
            contractor_columns!(),
            " FROM contractors ORDER BY id"
        );
        sqlx::query(sql)
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(contractor_from)
            .collect()
    }

    /// Replaces the ledger entries a contractor handles.
    pub async fn set_contractor_datasets(
        &self,
        contractor_id: i64,
        datasets: &[i64],
    ) -> Result<()> {
        let mut tx = self.pool().begin().await?;
        sqlx::query("DELETE FROM contractor_datasets WHERE contractor_id = $1")
            .bind(contractor_id)
            .execute(&mut *tx)
            .await?;
        for d in datasets {
            sqlx::query(
                "INSERT INTO contractor_datasets (contractor_id, dataset_id) VALUES ($1, $2)",
            )
            .bind(contractor_id)
            .bind(d)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// (contractor, ledger entry) pairs of a company.
    pub async fn contractor_dataset_links(&self, company_id: i64) -> Result<Vec<(i64, i64)>> {
        let rows = sqlx::query(
            "SELECT l.contractor_id, l.dataset_id FROM contractor_datasets l \
             JOIN contractors c ON c.id = l.contractor_id WHERE c.company_id = $1 \
             ORDER BY l.contractor_id, l.dataset_id",
        )
        .bind(company_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect()
    }

    #[expect(clippy::too_many_arguments, reason = "one column each")]
    pub async fn add_contractor_check(
        &self,
        contractor_id: i64,
        item: &str,
        status: &str,
        document: &str,
        document_on: Option<&str>,
        note: &str,
        by: By<'_>,
    ) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "INSERT INTO contractor_checks (contractor_id, item, status, document, document_on, \
             note, by_user, by_name, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        )
        .bind(contractor_id)
        .bind(item)
        .bind(status)
        .bind(document)
        .bind(document_on)
        .bind(note)
        .bind(by.user)
        .bind(by.name)
        .bind(by.at)
        .fetch_one(self.pool())
        .await?)
    }

    /// Every checklist record of the contractors of a company, oldest first (the newest of an
    /// item is its state); `contractor` narrows to one.
    pub async fn contractor_checks(
        &self,
        company_id: i64,
        contractor: Option<i64>,
    ) -> Result<Vec<CheckRow>> {
        let rows = sqlx::query(
            "SELECT k.id, k.contractor_id, k.item, k.status, k.document, k.document_on, k.note, \
             k.by_user, k.by_name, k.at FROM contractor_checks k \
             JOIN contractors c ON c.id = k.contractor_id \
             WHERE c.company_id = $1 AND (CAST($2 AS BIGINT) IS NULL OR k.contractor_id = $2) \
             ORDER BY k.id",
        )
        .bind(company_id)
        .bind(contractor)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(CheckRow {
                    id: r.try_get(0)?,
                    contractor_id: r.try_get(1)?,
                    item: r.try_get(2)?,
                    status: r.try_get(3)?,
                    document: r.try_get(4)?,
                    document_on: r.try_get(5)?,
                    note: r.try_get(6)?,
                    by_user: r.try_get(7)?,
                    by_name: r.try_get(8)?,
                    at: r.try_get(9)?,
                })
            })
            .collect()
    }

    /// Records a review and moves the contractor's next review to `next_review_on`.
    pub async fn add_contractor_review(
        &self,
        contractor_id: i64,
        reviewed_on: &str,
        result: &str,
        note: &str,
        next_review_on: &str,
        by: By<'_>,
    ) -> Result<i64> {
        let mut tx = self.pool().begin().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO contractor_reviews (contractor_id, reviewed_on, result, note, \
             next_review_on, by_user, by_name, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             RETURNING id",
        )
        .bind(contractor_id)
        .bind(reviewed_on)
        .bind(result)
        .bind(note)
        .bind(next_review_on)
        .bind(by.user)
        .bind(by.name)
        .bind(by.at)
        .fetch_one(&mut *tx)
        .await?;
        let r = sqlx::query(
            "UPDATE contractors SET next_review_on = $1, updated_at = $2, version = version + 1 \
             WHERE id = $3",
        )
        .bind(next_review_on)
        .bind(by.at)
        .bind(contractor_id)
        .execute(&mut *tx)
        .await?;
        one_row(&r)?;
        tx.commit().await?;
        Ok(id)
    }

    /// The reviews of a contractor, newest first.
    pub async fn contractor_reviews(&self, contractor_id: i64) -> Result<Vec<ReviewRow>> {
        let rows = sqlx::query(
            "SELECT id, contractor_id, reviewed_on, result, note, next_review_on, by_user, \
             by_name, at FROM contractor_reviews WHERE contractor_id = $1 ORDER BY id DESC",
        )
        .bind(contractor_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ReviewRow {
                    id: r.try_get(0)?,
                    contractor_id: r.try_get(1)?,
                    reviewed_on: r.try_get(2)?,
                    result: r.try_get(3)?,
                    note: r.try_get(4)?,
                    next_review_on: r.try_get(5)?,
                    by_user: r.try_get(6)?,
                    by_name: r.try_get(7)?,
                    at: r.try_get(8)?,
                })
            })
            .collect()
    }

    /// Names (or clears) the contractor involved in an incident.
    pub async fn set_incident_contractor(
        &self,
        incident_id: i64,
        contractor_id: Option<i64>,
    ) -> Result<()> {
        let r = sqlx::query("UPDATE incidents SET contractor_id = $1 WHERE id = $2")
            .bind(contractor_id)
            .bind(incident_id)
            .execute(self.pool())
            .await?;
        one_row(&r)
    }

    /// The company of an incident and the contractor it names.
    pub async fn incident_contractor(&self, incident_id: i64) -> Result<(i64, Option<i64>)> {
        let r = sqlx::query("SELECT company_id, contractor_id FROM incidents WHERE id = $1")
            .bind(incident_id)
            .fetch_one(self.pool())
            .await?;
        Ok((r.try_get(0)?, r.try_get(1)?))
    }

    /// The incidents that name a contractor, newest first.
    pub async fn contractor_incidents(
        &self,
        contractor_id: i64,
    ) -> Result<Vec<ContractorIncident>> {
        let rows = sqlx::query(
            "SELECT id, ref_no, title, status, drill, created_at FROM incidents \
             WHERE contractor_id = $1 ORDER BY created_at DESC, id DESC",
        )
        .bind(contractor_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                let drill: i64 = r.try_get(4)?;
                Ok(ContractorIncident {
                    id: r.try_get(0)?,
                    ref_no: r.try_get(1)?,
                    title: r.try_get(2)?,
                    status: r.try_get(3)?,
                    drill: drill != 0,
                    created_at: r.try_get(5)?,
                })
            })
            .collect()
    }

    // ───────────────────────────── internal audit ─────────────────────────────

    pub async fn insert_audit_plan(
        &self,
        company_id: i64,
        year: i64,
        note: &str,
        by: By<'_>,
    ) -> Result<i64> {
        sqlx::query_scalar(
            "INSERT INTO audit_plans (company_id, year, note, created_at, created_by) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(company_id)
        .bind(year)
        .bind(note)
        .bind(by.at)
        .bind(by.name)
        .fetch_one(self.pool())
        .await
        .map_err(|e| StoreError::from_sqlx(e, "audit plan year"))
    }

    /// The plans of a company, newest year first.
    pub async fn audit_plans(&self, company_id: i64) -> Result<Vec<PlanRow>> {
        let rows = sqlx::query(
            "SELECT id, company_id, year, note, created_at, created_by FROM audit_plans \
             WHERE company_id = $1 ORDER BY year DESC",
        )
        .bind(company_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(PlanRow {
                    id: r.try_get(0)?,
                    company_id: r.try_get(1)?,
                    year: r.try_get(2)?,
                    note: r.try_get(3)?,
                    created_at: r.try_get(4)?,
                    created_by: r.try_get(5)?,
                })
            })
            .collect()
    }

    pub async fn insert_audit(
        &self,
        plan_id: i64,
        company_id: i64,
        department_id: i64,
        planned_on: &str,
        auditor_id: i64,
        by: By<'_>,
    ) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "INSERT INTO audits (plan_id, company_id, department_id, planned_on, auditor_id, \
             status, created_at, created_by) VALUES ($1, $2, $3, $4, $5, 'planned', $6, $7) \
             RETURNING id",
        )
        .bind(plan_id)
        .bind(company_id)
        .bind(department_id)
        .bind(planned_on)
        .bind(auditor_id)
        .bind(by.at)
        .bind(by.name)
        .fetch_one(self.pool())
        .await?)
    }

    pub async fn audit(&self, id: i64) -> Result<AuditRow> {
        let sql = concat!("SELECT ", audit_columns!(), " FROM audits WHERE id = $1");
        let r = sqlx::query(sql).bind(id).fetch_one(self.pool()).await?;
        audit_from(&r)
    }

    /// The audits of a company, by planned date.
    pub async fn audits(&self, company_id: i64) -> Result<Vec<AuditRow>> {
        let sql = concat!(
            "SELECT ",
            audit_columns!(),
            " FROM audits WHERE company_id = $1 ORDER BY planned_on, id"
        );
        sqlx::query(sql)
            .bind(company_id)
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(audit_from)
            .collect()
    }

    /// Records that an audit was done, on `done_on`, with its summary.
    pub async fn finish_audit(&self, id: i64, done_on: &str, summary: &str) -> Result<()> {
        let r = sqlx::query(
            "UPDATE audits SET status = 'done', done_on = $1, summary = $2 WHERE id = $3",
        )
        .bind(done_on)
        .bind(summary)
        .bind(id)
        .execute(self.pool())
        .await?;
        one_row(&r)
    }

    pub async fn insert_finding(
        &self,
        audit_id: i64,
        severity: &str,
        description: &str,
        rule: &str,
        by: By<'_>,
    ) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "INSERT INTO audit_findings (audit_id, severity, description, rule, by_user, by_name, \
             at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(audit_id)
        .bind(severity)
        .bind(description)
        .bind(rule)
        .bind(by.user)
        .bind(by.name)
        .bind(by.at)
        .fetch_one(self.pool())
        .await?)
    }

    /// The findings of a company's audits (`audit` narrows to one), oldest first.
    pub async fn findings(&self, company_id: i64, audit: Option<i64>) -> Result<Vec<FindingRow>> {
        let rows = sqlx::query(
            "SELECT f.id, f.audit_id, f.severity, f.description, f.rule, f.by_user, f.by_name, \
             f.at FROM audit_findings f JOIN audits u ON u.id = f.audit_id \
             WHERE u.company_id = $1 AND (CAST($2 AS BIGINT) IS NULL OR f.audit_id = $2) \
             ORDER BY f.id",
        )
        .bind(company_id)
        .bind(audit)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(FindingRow {
                    id: r.try_get(0)?,
                    audit_id: r.try_get(1)?,
                    severity: r.try_get(2)?,
                    description: r.try_get(3)?,
                    rule: r.try_get(4)?,
                    by_user: r.try_get(5)?,
                    by_name: r.try_get(6)?,
                    at: r.try_get(7)?,
                })
            })
            .collect()
    }

    pub async fn finding(&self, id: i64) -> Result<FindingRow> {
        let r = sqlx::query(
            "SELECT id, audit_id, severity, description, rule, by_user, by_name, at \
             FROM audit_findings WHERE id = $1",
        )
        .bind(id)
        .fetch_one(self.pool())
        .await?;
        Ok(FindingRow {
            id: r.try_get(0)?,
            audit_id: r.try_get(1)?,
            severity: r.try_get(2)?,
            description: r.try_get(3)?,
            rule: r.try_get(4)?,
            by_user: r.try_get(5)?,
            by_name: r.try_get(6)?,
            at: r.try_get(7)?,
        })
    }

    /// Adds a corrective action (status `open`) and its first history row.
    pub async fn insert_action(
        &self,
        finding_id: i64,
        description: &str,
        owner_id: i64,
        due_on: &str,
        by: By<'_>,
    ) -> Result<i64> {
        let mut tx = self.pool().begin().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO audit_actions (finding_id, description, owner_id, due_on, status, \
             created_at, created_by, updated_at) VALUES ($1, $2, $3, $4, 'open', $5, $6, $5) \
             RETURNING id",
        )
        .bind(finding_id)
        .bind(description)
        .bind(owner_id)
        .bind(due_on)
        .bind(by.at)
        .bind(by.name)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO audit_action_updates (action_id, status, note, by_user, by_name, at) \
             VALUES ($1, 'open', '', $2, $3, $4)",
        )
        .bind(id)
        .bind(by.user)
        .bind(by.name)
        .bind(by.at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Changes an action's status and keeps the change in its history.
    pub async fn update_action(&self, id: i64, status: &str, note: &str, by: By<'_>) -> Result<()> {
        let mut tx = self.pool().begin().await?;
        let r = sqlx::query("UPDATE audit_actions SET status = $1, updated_at = $2 WHERE id = $3")
            .bind(status)
            .bind(by.at)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        one_row(&r)?;
        sqlx::query(
            "INSERT INTO audit_action_updates (action_id, status, note, by_user, by_name, at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id)
        .bind(status)
        .bind(note)
        .bind(by.user)
        .bind(by.name)
        .bind(by.at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn action(&self, id: i64) -> Result<ActionRow> {
        let sql = concat!(action_select!(), " WHERE a.id = $1");
        let r = sqlx::query(sql).bind(id).fetch_one(self.pool()).await?;
        action_from(&r)
    }

    /// The corrective actions of a company (`audit` narrows to one audit), by deadline.
    pub async fn actions(&self, company_id: i64, audit: Option<i64>) -> Result<Vec<ActionRow>> {
        let sql = concat!(
            action_select!(),
            " WHERE u.company_id = $1 AND \
             (CAST($2 AS BIGINT) IS NULL OR f.audit_id = $2) ORDER BY a.due_on, a.id"
        );
        sqlx::query(sql)
            .bind(company_id)
            .bind(audit)
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(action_from)
            .collect()
    }

    /// Every action not done, of every company (the reminders).
    pub async fn unfinished_actions(&self) -> Result<Vec<ActionRow>> {
        let sql = concat!(action_select!(), " WHERE a.status <> 'done' ORDER BY a.id");
        sqlx::query(sql)
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(action_from)
            .collect()
    }

    /// The actions a person owns, by deadline.
    pub async fn actions_of_owner(&self, owner_id: i64) -> Result<Vec<ActionRow>> {
        let sql = concat!(
            action_select!(),
            " WHERE a.owner_id = $1 ORDER BY a.due_on, a.id"
        );
        sqlx::query(sql)
            .bind(owner_id)
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(action_from)
            .collect()
    }

    /// The history of the actions of one audit, oldest first.
    pub async fn action_updates(&self, audit_id: i64) -> Result<Vec<ActionUpdateRow>> {
        let rows = sqlx::query(
            "SELECT h.id, h.action_id, h.status, h.note, h.by_user, h.by_name, h.at \
             FROM audit_action_updates h JOIN audit_actions a ON a.id = h.action_id \
             JOIN audit_findings f ON f.id = a.finding_id WHERE f.audit_id = $1 ORDER BY h.id",
        )
        .bind(audit_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ActionUpdateRow {
                    id: r.try_get(0)?,
                    action_id: r.try_get(1)?,
                    status: r.try_get(2)?,
                    note: r.try_get(3)?,
                    by_user: r.try_get(4)?,
                    by_name: r.try_get(5)?,
                    at: r.try_get(6)?,
                })
            })
            .collect()
    }
}
