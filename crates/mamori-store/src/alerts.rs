//! Alerts: the call tree, alerts with their acknowledgement tokens, the mail outbox and
//! webhooks.

use crate::{flag, Result, Store, StoreError};
use sqlx::any::AnyRow;
use sqlx::Row;

/// One person on the call tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallTreeEntry {
    pub level: i64,
    pub user_id: i64,
}

/// An alert sent to one person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    pub id: i64,
    pub incident_id: i64,
    pub level: i64,
    pub user_id: i64,
    pub created_at: i64,
    pub acknowledged_at: Option<i64>,
}

/// A mail in the outbox. The body is sealed by the application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxMail {
    pub id: i64,
    pub incident_id: Option<i64>,
    pub kind: String,
    pub to_addr: String,
    pub subject: String,
    pub body: String,
    pub status: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub sent_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    pub id: i64,
    pub company_id: i64,
    pub url: String,
    /// Sealed by the application.
    pub secret: String,
    pub active: bool,
}

fn outbox_from_row(r: &AnyRow) -> OutboxMail {
    OutboxMail {
        id: r.get(0),
        incident_id: r.get(1),
        kind: r.get(2),
        to_addr: r.get(3),
        subject: r.get(4),
        body: r.get(5),
        status: r.get(6),
        attempts: r.get(7),
        last_error: r.get(8),
        created_at: r.get(9),
        sent_at: r.get(10),
    }
}

impl Store {
    pub async fn call_tree(&self, company_id: i64) -> Result<Vec<CallTreeEntry>> {
        let rows = sqlx::query(
            "SELECT level, user_id FROM call_tree WHERE company_id = $1 ORDER BY level, user_id",
        )
        .bind(company_id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .iter()
            .map(|r| CallTreeEntry {
                level: r.get(0),
                user_id: r.get(1),
            })
            .collect())
    }

    /// Replaces a company's call tree and escalation delay.
    pub async fn set_call_tree(
        &self,
        company_id: i64,
        entries: &[CallTreeEntry],
        escalate_after_secs: i64,
    ) -> Result<()> {
        let mut tx = self.pool().begin().await?;
        sqlx::query("DELETE FROM call_tree WHERE company_id = $1")
            .bind(company_id)
            .execute(&mut *tx)
            .await?;
        for e in entries {
            sqlx::query(
                "INSERT INTO call_tree (company_id, level, user_id) VALUES ($1, $2, $3) \
                 ON CONFLICT (company_id, level, user_id) DO NOTHING",
            )
            .bind(company_id)
            .bind(e.level)
            .bind(e.user_id)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query(
            "INSERT INTO alert_settings (company_id, escalate_after_secs) VALUES ($1, $2) \
             ON CONFLICT (company_id) DO UPDATE SET escalate_after_secs = excluded.escalate_after_secs",
        )
        .bind(company_id)
        .bind(escalate_after_secs)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn escalate_after_secs(&self, company_id: i64) -> Result<Option<i64>> {
        Ok(sqlx::query_scalar(
            "SELECT escalate_after_secs FROM alert_settings WHERE company_id = $1",
        )
        .bind(company_id)
        .fetch_optional(self.pool())
        .await?)
    }

    pub async fn create_alert(
        &self,
        incident_id: i64,
        level: i64,
        user_id: i64,
        token_hash: &str,
        now: i64,
    ) -> Result<i64> {
        sqlx::query_scalar(
            "INSERT INTO alerts (incident_id, level, user_id, token_hash, created_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(incident_id)
        .bind(level)
        .bind(user_id)
        .bind(token_hash)
        .bind(now)
        .fetch_one(self.pool())
        .await
        .map_err(|e| StoreError::from_sqlx(e, "alert token"))
    }

    pub async fn alert_by_token(&self, token_hash: &str) -> Result<Option<Alert>> {
        let r = sqlx::query(
            "SELECT id, incident_id, level, user_id, created_at, acknowledged_at FROM alerts \
             WHERE token_hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(self.pool())
        .await?;
        Ok(r.map(|r| Alert {
            id: r.get(0),
            incident_id: r.get(1),
            level: r.get(2),
            user_id: r.get(3),
            created_at: r.get(4),
            acknowledged_at: r.get(5),
        }))
    }

    pub async fn alerts_of(&self, incident_id: i64) -> Result<Vec<Alert>> {
        let rows = sqlx::query(
            "SELECT id, incident_id, level, user_id, created_at, acknowledged_at FROM alerts \
             WHERE incident_id = $1 ORDER BY level, id",
        )
        .bind(incident_id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .iter()
            .map(|r| Alert {
                id: r.get(0),
                incident_id: r.get(1),
                level: r.get(2),
                user_id: r.get(3),
                created_at: r.get(4),
                acknowledged_at: r.get(5),
            })
            .collect())
    }

    pub async fn mark_alert_acknowledged(&self, alert_id: i64, now: i64) -> Result<()> {
        sqlx::query(
            "UPDATE alerts SET acknowledged_at = $1 WHERE id = $2 AND acknowledged_at IS NULL",
        )
        .bind(now)
        .bind(alert_id)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Puts a mail in the outbox and queues its delivery job, in one transaction; returns the
    /// mail id and the job id.
    pub async fn enqueue_mail(
        &self,
        incident_id: Option<i64>,
        kind: &str,
        to_addr: &str,
        subject: &str,
        sealed_body: &str,
        now: i64,
    ) -> Result<(i64, i64)> {
        let mut tx = self.pool().begin().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO mail_outbox (incident_id, kind, to_addr, subject, body, status, created_at) \
             VALUES ($1, $2, $3, $4, $5, 'queued', $6) RETURNING id",
        )
        .bind(incident_id)
        .bind(kind)
        .bind(to_addr)
        .bind(subject)
        .bind(sealed_body)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        let job: i64 = sqlx::query_scalar(
            "INSERT INTO jobs (kind, payload, run_at, created_at) VALUES ('mail.send', $1, $2, $2) RETURNING id",
        )
        .bind(id.to_string())
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok((id, job))
    }

    pub async fn get_outbox_mail(&self, id: i64) -> Result<OutboxMail> {
        let r = sqlx::query(
            "SELECT id, incident_id, kind, to_addr, subject, body, status, attempts, last_error, \
             created_at, sent_at FROM mail_outbox WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::NotFound)?;
        Ok(outbox_from_row(&r))
    }

    pub async fn outbox_of(&self, incident_id: i64) -> Result<Vec<OutboxMail>> {
        let rows = sqlx::query(
            "SELECT id, incident_id, kind, to_addr, subject, body, status, attempts, last_error, \
             created_at, sent_at FROM mail_outbox WHERE incident_id = $1 ORDER BY id",
        )
        .bind(incident_id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.iter().map(outbox_from_row).collect())
    }

    /// Records the outcome of one delivery attempt.
    pub async fn mark_mail(
        &self,
        id: i64,
        status: &str,
        error: Option<&str>,
        now: i64,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE mail_outbox SET status = $1, attempts = attempts + 1, last_error = $2, \
             sent_at = CASE WHEN $1 = 'sent' THEN $3 ELSE sent_at END WHERE id = $4",
        )
        .bind(status)
        .bind(error)
        .bind(now)
        .bind(id)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    pub async fn webhooks(&self, company_id: i64, active_only: bool) -> Result<Vec<Webhook>> {
        let rows = sqlx::query(
            "SELECT id, company_id, url, secret, active FROM webhooks \
             WHERE company_id = $1 AND ($2 = 0 OR active = 1) ORDER BY id",
        )
        .bind(company_id)
        .bind(flag(active_only))
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .iter()
            .map(|r| Webhook {
                id: r.get(0),
                company_id: r.get(1),
                url: r.get(2),
                secret: r.get(3),
                active: r.get::<i64, _>(4) != 0,
            })
            .collect())
    }

    pub async fn get_webhook(&self, id: i64) -> Result<Webhook> {
        let r =
            sqlx::query("SELECT id, company_id, url, secret, active FROM webhooks WHERE id = $1")
                .bind(id)
                .fetch_optional(self.pool())
                .await?
                .ok_or(StoreError::NotFound)?;
        Ok(Webhook {
            id: r.get(0),
            company_id: r.get(1),
            url: r.get(2),
            secret: r.get(3),
            active: r.get::<i64, _>(4) != 0,
        })
    }

    pub async fn add_webhook(
        &self,
        company_id: i64,
        url: &str,
        sealed_secret: &str,
        now: i64,
    ) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "INSERT INTO webhooks (company_id, url, secret, active, created_at) VALUES ($1, $2, $3, 1, $4) RETURNING id",
        )
        .bind(company_id)
        .bind(url)
        .bind(sealed_secret)
        .bind(now)
        .fetch_one(self.pool())
        .await?)
    }

    pub async fn set_webhook_active(&self, id: i64, active: bool) -> Result<()> {
        let r = sqlx::query("UPDATE webhooks SET active = $1 WHERE id = $2")
            .bind(flag(active))
            .bind(id)
            .execute(self.pool())
            .await?;
        crate::one_row(&r)
    }

    /// Claims one job by id (the fast path right after it was queued); false if another worker
    /// has it or it is done.
    pub async fn claim_job_by_id(
        &self,
        id: i64,
        worker: &str,
        now: i64,
        lease_until: i64,
    ) -> Result<bool> {
        let n = sqlx::query(
            "UPDATE jobs SET locked_by = $1, locked_until = $2, attempts = attempts + 1 \
             WHERE id = $3 AND done_at IS NULL AND (locked_until IS NULL OR locked_until < $4)",
        )
        .bind(worker)
        .bind(lease_until)
        .bind(id)
        .bind(now)
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    pub async fn job_attempts(&self, id: i64) -> Result<i64> {
        Ok(
            sqlx::query_scalar("SELECT attempts FROM jobs WHERE id = $1")
                .bind(id)
                .fetch_one(self.pool())
                .await?,
        )
    }
}
