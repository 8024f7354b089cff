//! Notification campaigns (issue 14): notice versions, campaigns, recipients and their events.
//!
//! Every change of a recipient is a compare-and-set on what the caller read (channel, state,
//! attempt), written together with its event row in one transaction, so two processes never
//! both move one recipient and the event log is exactly the history of the states.

use crate::{Result, Store, StoreError};
use sqlx::any::AnyRow;
use sqlx::Row;

/// One saved version of a notice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeRow {
    pub id: i64,
    pub incident_id: i64,
    pub version: i64,
    /// The notice as JSON (`mamori_domain::notice::Notice`).
    pub body: String,
    pub created_by: String,
    pub created_at: i64,
    pub approved_by: Option<String>,
    pub approved_at: Option<i64>,
}

fn notice_from_row(r: &AnyRow) -> NoticeRow {
    NoticeRow {
        id: r.get(0),
        incident_id: r.get(1),
        version: r.get(2),
        body: r.get(3),
        created_by: r.get(4),
        created_at: r.get(5),
        approved_by: r.get(6),
        approved_at: r.get(7),
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CampaignRow {
    pub id: i64,
    pub incident_id: i64,
    pub notice_version_id: i64,
    /// `post,email,phone`.
    pub channels: String,
    pub rate_per_sec: i64,
    pub lease_secs: i64,
    pub status: String,
    pub created_by: String,
    pub created_at: i64,
    pub last_error: Option<String>,
    pub last_error_at: Option<i64>,
    pub public_slug: Option<String>,
    pub public_at: Option<i64>,
    pub public_by: Option<String>,
}

fn campaign_from_row(r: &AnyRow) -> CampaignRow {
    CampaignRow {
        id: r.get(0),
        incident_id: r.get(1),
        notice_version_id: r.get(2),
        channels: r.get(3),
        rate_per_sec: r.get(4),
        lease_secs: r.get(5),
        status: r.get(6),
        created_by: r.get(7),
        created_at: r.get(8),
        last_error: r.get(9),
        last_error_at: r.get(10),
        public_slug: r.get(11),
        public_at: r.get(12),
        public_by: r.get(13),
    }
}

macro_rules! campaign_cols {
    () => {
        "id, incident_id, notice_version_id, channels, rate_per_sec, lease_secs, status, \
         created_by, created_at, last_error, last_error_at, public_slug, public_at, public_by"
    };
}

/// A recipient as stored; `contact` is sealed by the application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecipientRow {
    pub id: i64,
    pub campaign_id: i64,
    pub person_id: i64,
    pub reach: String,
    pub contact: String,
    /// Item codes, comma-separated.
    pub items: String,
    pub channel: Option<String>,
    pub state: String,
    pub no_answers: i64,
    pub not_before: Option<i64>,
    pub attempt: i64,
    pub message_id: Option<String>,
    pub claimed_by: Option<String>,
    pub claimed_until: Option<i64>,
    pub problem: Option<String>,
    pub updated_at: i64,
}

macro_rules! recipient_cols {
    () => {
        "id, campaign_id, person_id, reach, contact, items, channel, state, no_answers, \
         not_before, attempt, message_id, claimed_by, claimed_until, problem, updated_at"
    };
}

fn recipient_from_row(r: &AnyRow) -> RecipientRow {
    RecipientRow {
        id: r.get(0),
        campaign_id: r.get(1),
        person_id: r.get(2),
        reach: r.get(3),
        contact: r.get(4),
        items: r.get(5),
        channel: r.get(6),
        state: r.get(7),
        no_answers: r.get(8),
        not_before: r.get(9),
        attempt: r.get(10),
        message_id: r.get(11),
        claimed_by: r.get(12),
        claimed_until: r.get(13),
        problem: r.get(14),
        updated_at: r.get(15),
    }
}

/// A recipient to add to a campaign.
#[derive(Debug, Clone)]
pub struct NewRecipient {
    pub person_id: i64,
    pub reach: String,
    pub contact: String,
    pub items: String,
    pub channel: Option<String>,
    pub state: String,
    /// A problem with the contact data (`bad_address`: an e-mail that is not one).
    pub problem: Option<String>,
}

/// The new values of a recipient after a transition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecipientChange {
    pub channel: Option<String>,
    pub state: String,
    pub no_answers: i64,
    pub not_before: Option<i64>,
    pub problem: Option<String>,
}

/// An event to record with a change.
#[derive(Debug, Clone)]
pub struct EventRow<'a> {
    /// The channel the event happened on.
    pub channel: Option<&'a str>,
    pub event: &'a str,
    pub message_id: Option<&'a str>,
    /// Sealed by the application (a call note may name the person).
    pub note: Option<&'a str>,
    pub actor: &'a str,
    /// The JST day (`2026-12-07`).
    pub day: &'a str,
}

/// An e-mail recipient claimed for sending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claimed {
    pub id: i64,
    pub attempt: i64,
    pub message_id: String,
    pub contact: String,
    pub items: String,
    pub reach: String,
}

/// The outcome of one claimed e-mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailOutcome {
    pub id: i64,
    pub attempt: i64,
    pub change: RecipientChange,
    pub event: String,
    pub message_id: String,
}

/// One line of the funnel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountRow {
    pub day: Option<String>,
    pub channel: Option<String>,
    pub what: String,
    pub count: i64,
}

impl Store {
    /// Whether a job of `kind` with `payload` is waiting: not done and not held by a running
    /// worker (a job leased by a process that stopped counts as not waiting).
    pub async fn job_waiting(&self, kind: &str, payload: &str, now: i64) -> Result<bool> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM jobs WHERE kind = $1 AND payload = $2 AND done_at IS NULL \
             AND (locked_until IS NULL OR locked_until < $3)",
        )
        .bind(kind)
        .bind(payload)
        .bind(now)
        .fetch_one(self.pool())
        .await?;
        Ok(n > 0)
    }

    /// Brings a waiting (not running) job of `kind` with `payload` forward to `now`; whether
    /// such a job exists (running or waiting) afterwards.
    pub async fn wake_job(&self, kind: &str, payload: &str, now: i64) -> Result<bool> {
        sqlx::query(
            "UPDATE jobs SET run_at = $3 WHERE kind = $1 AND payload = $2 AND done_at IS NULL \
             AND (locked_until IS NULL OR locked_until < $3) AND run_at > $3",
        )
        .bind(kind)
        .bind(payload)
        .bind(now)
        .execute(self.pool())
        .await?;
        self.job_waiting(kind, payload, now).await
    }

    /// Saves a new version of an incident's notice; returns its version number (1, 2, …).
    /// One statement, so SQLite takes the write lock at once (no read-then-write upgrade).
    pub async fn save_notice_version(
        &self,
        incident_id: i64,
        body: &str,
        by: &str,
        now: i64,
    ) -> Result<i64> {
        sqlx::query_scalar(
            "INSERT INTO notice_versions (incident_id, version, body, created_by, created_at) \
             SELECT $1, COALESCE(MAX(version), 0) + 1, $2, $3, $4 FROM notice_versions \
             WHERE incident_id = $1 RETURNING version",
        )
        .bind(incident_id)
        .bind(body)
        .bind(by)
        .bind(now)
        .fetch_one(self.pool())
        .await
        .map_err(|e| StoreError::from_sqlx(e, "notice version"))
    }

    /// Every version of an incident's notice, newest first.
    pub async fn notice_versions(&self, incident_id: i64) -> Result<Vec<NoticeRow>> {
        let sql = "SELECT id, incident_id, version, body, created_by, created_at, approved_by, \
                   approved_at FROM notice_versions WHERE incident_id = $1 ORDER BY version DESC";
        let rows = sqlx::query(sql)
            .bind(incident_id)
            .fetch_all(self.pool())
            .await?;
        Ok(rows.iter().map(notice_from_row).collect())
    }

    pub async fn notice_version(&self, incident_id: i64, version: i64) -> Result<NoticeRow> {
        let r = sqlx::query(
            "SELECT id, incident_id, version, body, created_by, created_at, approved_by, \
             approved_at FROM notice_versions WHERE incident_id = $1 AND version = $2",
        )
        .bind(incident_id)
        .bind(version)
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::NotFound)?;
        Ok(notice_from_row(&r))
    }

    pub async fn notice_by_id(&self, id: i64) -> Result<NoticeRow> {
        let r = sqlx::query(
            "SELECT id, incident_id, version, body, created_by, created_at, approved_by, \
             approved_at FROM notice_versions WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::NotFound)?;
        Ok(notice_from_row(&r))
    }

    /// Approves one version (once); false if it was approved already.
    pub async fn approve_notice_version(
        &self,
        incident_id: i64,
        version: i64,
        by: &str,
        now: i64,
    ) -> Result<bool> {
        let n = sqlx::query(
            "UPDATE notice_versions SET approved_by = $1, approved_at = $2 \
             WHERE incident_id = $3 AND version = $4 AND approved_at IS NULL",
        )
        .bind(by)
        .bind(now)
        .bind(incident_id)
        .bind(version)
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    /// Creates a campaign (no recipients yet).
    #[allow(clippy::too_many_arguments, reason = "one column each")]
    pub async fn create_campaign(
        &self,
        incident_id: i64,
        notice_version_id: i64,
        channels: &str,
        rate_per_sec: i64,
        lease_secs: i64,
        by: &str,
        now: i64,
    ) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "INSERT INTO campaigns (incident_id, notice_version_id, channels, rate_per_sec, \
             lease_secs, status, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, 'active', $6, $7) RETURNING id",
        )
        .bind(incident_id)
        .bind(notice_version_id)
        .bind(channels)
        .bind(rate_per_sec)
        .bind(lease_secs)
        .bind(by)
        .bind(now)
        .fetch_one(self.pool())
        .await?)
    }

    /// Adds recipients in one transaction; a person already in the campaign is skipped.
    /// Returns how many were added.
    pub async fn add_recipients(
        &self,
        campaign_id: i64,
        recipients: &[NewRecipient],
        now: i64,
    ) -> Result<u64> {
        let mut tx = self.pool().begin().await?;
        let mut added = 0;
        for r in recipients {
            added += sqlx::query(
                "INSERT INTO campaign_recipients (campaign_id, person_id, reach, contact, items, \
                 channel, state, problem, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
                 ON CONFLICT (campaign_id, person_id) DO NOTHING",
            )
            .bind(campaign_id)
            .bind(r.person_id)
            .bind(&r.reach)
            .bind(&r.contact)
            .bind(&r.items)
            .bind(r.channel.as_deref())
            .bind(&r.state)
            .bind(r.problem.as_deref())
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        }
        tx.commit().await?;
        Ok(added)
    }

    pub async fn get_campaign(&self, id: i64) -> Result<CampaignRow> {
        let r = sqlx::query(concat!(
            "SELECT ",
            campaign_cols!(),
            " FROM campaigns WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::NotFound)?;
        Ok(campaign_from_row(&r))
    }

    pub async fn campaigns_of(&self, incident_id: i64) -> Result<Vec<CampaignRow>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            campaign_cols!(),
            " FROM campaigns WHERE incident_id = $1 ORDER BY id"
        ))
        .bind(incident_id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.iter().map(campaign_from_row).collect())
    }

    pub async fn campaign_by_slug(&self, slug: &str) -> Result<CampaignRow> {
        let r = sqlx::query(concat!(
            "SELECT ",
            campaign_cols!(),
            " FROM campaigns WHERE public_slug = $1"
        ))
        .bind(slug)
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::NotFound)?;
        Ok(campaign_from_row(&r))
    }

    /// Active campaigns (for the e-mail job after a restart).
    pub async fn active_campaigns(&self) -> Result<Vec<i64>> {
        Ok(
            sqlx::query_scalar("SELECT id FROM campaigns WHERE status = 'active' ORDER BY id")
                .fetch_all(self.pool())
                .await?,
        )
    }

    pub async fn set_campaign_status(&self, id: i64, status: &str) -> Result<()> {
        sqlx::query("UPDATE campaigns SET status = $1 WHERE id = $2")
            .bind(status)
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Records (or clears, with `None`) the last sending error shown on the campaign.
    pub async fn set_campaign_error(&self, id: i64, error: Option<&str>, now: i64) -> Result<()> {
        sqlx::query("UPDATE campaigns SET last_error = $1, last_error_at = $2 WHERE id = $3")
            .bind(error)
            .bind(error.map(|_| now))
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Records the public notice (once); false if it was published already.
    pub async fn set_campaign_public(
        &self,
        id: i64,
        slug: &str,
        by: &str,
        now: i64,
    ) -> Result<bool> {
        let n = sqlx::query(
            "UPDATE campaigns SET public_slug = $1, public_by = $2, public_at = $3 \
             WHERE id = $4 AND public_at IS NULL",
        )
        .bind(slug)
        .bind(by)
        .bind(now)
        .bind(id)
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    pub async fn get_recipient(&self, id: i64) -> Result<RecipientRow> {
        let r = sqlx::query(concat!(
            "SELECT ",
            recipient_cols!(),
            " FROM campaign_recipients WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::NotFound)?;
        Ok(recipient_from_row(&r))
    }

    /// Recipients of a campaign on `channel` in `state`, after `after_id`, due by `now`
    /// (`not_before` unset or past), in id order.
    pub async fn recipients_in(
        &self,
        campaign_id: i64,
        channel: &str,
        state: &str,
        after_id: i64,
        now: i64,
        limit: i64,
    ) -> Result<Vec<RecipientRow>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            recipient_cols!(),
            " FROM campaign_recipients WHERE campaign_id = $1 AND channel = $2 AND state = $3 \
              AND id > $4 AND (not_before IS NULL OR not_before <= $5) ORDER BY id LIMIT $6"
        ))
        .bind(campaign_id)
        .bind(channel)
        .bind(state)
        .bind(after_id)
        .bind(now)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.iter().map(recipient_from_row).collect())
    }

    /// Every recipient of a campaign after `after_id`, in id order (pages list them).
    pub async fn campaign_recipients(
        &self,
        campaign_id: i64,
        after_id: i64,
        limit: i64,
    ) -> Result<Vec<RecipientRow>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            recipient_cols!(),
            " FROM campaign_recipients WHERE campaign_id = $1 AND id > $2 ORDER BY id LIMIT $3"
        ))
        .bind(campaign_id)
        .bind(after_id)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.iter().map(recipient_from_row).collect())
    }

    /// Moves one recipient from what the caller read (`channel`, `state`, `attempt`) to
    /// `change`, recording `event`; false (nothing written) if the recipient changed meanwhile.
    pub async fn transition_recipient(
        &self,
        id: i64,
        from: (Option<&str>, &str, i64),
        change: &RecipientChange,
        event: &EventRow<'_>,
        now: i64,
    ) -> Result<bool> {
        let mut tx = self.pool().begin().await?;
        let n = sqlx::query(
            "UPDATE campaign_recipients SET channel = $1, state = $2, no_answers = $3, \
             not_before = $4, problem = $5, updated_at = $6, claimed_by = NULL, \
             claimed_until = NULL WHERE id = $7 AND COALESCE(channel, '') = $8 AND state = $9 \
             AND attempt = $10",
        )
        .bind(change.channel.as_deref())
        .bind(&change.state)
        .bind(change.no_answers)
        .bind(change.not_before)
        .bind(change.problem.as_deref())
        .bind(now)
        .bind(id)
        .bind(from.0.unwrap_or(""))
        .bind(from.1)
        .bind(from.2)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n != 1 {
            return Ok(false);
        }
        insert_event(&mut tx, id, &change.state, event, now).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Claims up to `limit` queued e-mail recipients of a campaign for `worker` until
    /// `lease_until`. Each claim is a compare-and-set on (state `queued`, attempt) that also
    /// stores the attempt's Message-ID (from `message_id(recipient, attempt)`), committed
    /// before anything is sent; a recipient another process claimed first is skipped.
    #[allow(clippy::too_many_arguments, reason = "the claim's every condition")]
    pub async fn claim_email_batch(
        &self,
        campaign_id: i64,
        worker: &str,
        now: i64,
        lease_until: i64,
        limit: i64,
        day: &str,
        message_id: &(dyn Fn(i64, i64) -> String + Sync),
    ) -> Result<Vec<Claimed>> {
        let candidates = sqlx::query(
            "SELECT id, attempt FROM campaign_recipients WHERE campaign_id = $1 \
             AND channel = 'email' AND state = 'queued' ORDER BY id LIMIT $2",
        )
        .bind(campaign_id)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        if candidates.is_empty() {
            return Ok(Vec::new());
        }
        let mut tx = self.pool().begin().await?;
        let mut out = Vec::with_capacity(candidates.len());
        for c in &candidates {
            let (id, attempt): (i64, i64) = (c.get(0), c.get(1));
            let next = attempt + 1;
            let mid = message_id(id, next);
            let r = sqlx::query(
                "UPDATE campaign_recipients SET state = 'sending', attempt = $1, message_id = $2, \
                 claimed_by = $3, claimed_until = $4, updated_at = $5 \
                 WHERE id = $6 AND state = 'queued' AND channel = 'email' AND attempt = $7 \
                 RETURNING contact, items, reach",
            )
            .bind(next)
            .bind(&mid)
            .bind(worker)
            .bind(lease_until)
            .bind(now)
            .bind(id)
            .bind(attempt)
            .fetch_optional(&mut *tx)
            .await?;
            if let Some(r) = r {
                insert_event(
                    &mut tx,
                    id,
                    "sending",
                    &EventRow {
                        channel: Some("email"),
                        event: "claimed",
                        message_id: Some(&mid),
                        note: None,
                        actor: worker,
                        day,
                    },
                    now,
                )
                .await?;
                out.push(Claimed {
                    id,
                    attempt: next,
                    message_id: mid,
                    contact: r.get(0),
                    items: r.get(1),
                    reach: r.get(2),
                });
            }
        }
        tx.commit().await?;
        Ok(out)
    }

    /// Records the outcomes of claimed e-mails in one transaction. Each is a compare-and-set
    /// on (state `sending`, attempt): an outcome for a claim that is no longer ours changes
    /// nothing. Returns how many were recorded.
    pub async fn record_email_outcomes(
        &self,
        outcomes: &[EmailOutcome],
        actor: &str,
        day: &str,
        now: i64,
    ) -> Result<u64> {
        let mut tx = self.pool().begin().await?;
        let mut n = 0;
        for o in outcomes {
            let c = &o.change;
            let done = sqlx::query(
                "UPDATE campaign_recipients SET channel = $1, state = $2, no_answers = $3, \
                 not_before = $4, problem = $5, updated_at = $6, claimed_by = NULL, \
                 claimed_until = NULL WHERE id = $7 AND state = 'sending' AND attempt = $8",
            )
            .bind(c.channel.as_deref())
            .bind(&c.state)
            .bind(c.no_answers)
            .bind(c.not_before)
            .bind(c.problem.as_deref())
            .bind(now)
            .bind(o.id)
            .bind(o.attempt)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if done == 1 {
                insert_event(
                    &mut tx,
                    o.id,
                    &c.state,
                    &EventRow {
                        channel: Some("email"),
                        event: &o.event,
                        message_id: Some(&o.message_id),
                        note: None,
                        actor,
                        day,
                    },
                    now,
                )
                .await?;
                n += 1;
            }
        }
        tx.commit().await?;
        Ok(n)
    }

    /// Claims whose lease ran out (the sender stopped during the SMTP transaction) become
    /// `in_doubt`: returns their ids and Message-IDs.
    pub async fn expire_email_claims(
        &self,
        campaign_id: i64,
        now: i64,
        day: &str,
    ) -> Result<Vec<(i64, String)>> {
        let rows = sqlx::query(
            "SELECT id, attempt, message_id FROM campaign_recipients WHERE campaign_id = $1 \
             AND channel = 'email' AND state = 'sending' AND claimed_until < $2 ORDER BY id",
        )
        .bind(campaign_id)
        .bind(now)
        .fetch_all(self.pool())
        .await?;
        let mut out = Vec::new();
        if rows.is_empty() {
            return Ok(out);
        }
        let mut tx = self.pool().begin().await?;
        for r in &rows {
            let (id, attempt, mid): (i64, i64, Option<String>) = (r.get(0), r.get(1), r.get(2));
            let n = sqlx::query(
                "UPDATE campaign_recipients SET state = 'in_doubt', claimed_by = NULL, \
                 claimed_until = NULL, updated_at = $1 WHERE id = $2 AND state = 'sending' \
                 AND attempt = $3 AND claimed_until < $1",
            )
            .bind(now)
            .bind(id)
            .bind(attempt)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n == 1 {
                let mid = mid.unwrap_or_default();
                insert_event(
                    &mut tx,
                    id,
                    "in_doubt",
                    &EventRow {
                        channel: Some("email"),
                        event: "in_doubt",
                        message_id: Some(&mid),
                        note: None,
                        actor: "mamori",
                        day,
                    },
                    now,
                )
                .await?;
                out.push((id, mid));
            }
        }
        tx.commit().await?;
        Ok(out)
    }

    /// The recipient an e-mail with this Message-ID went to (any attempt), if any.
    pub async fn recipient_by_message_id(&self, message_id: &str) -> Result<Option<i64>> {
        Ok(sqlx::query_scalar(
            "SELECT recipient_id FROM campaign_events WHERE message_id = $1 ORDER BY id LIMIT 1",
        )
        .bind(message_id)
        .fetch_optional(self.pool())
        .await?)
    }

    /// Every unreachable recipient of a campaign becomes covered by the public notice, each
    /// with its event; returns how many.
    pub async fn cover_unreachable(
        &self,
        campaign_id: i64,
        actor: &str,
        day: &str,
        now: i64,
    ) -> Result<u64> {
        let mut tx = self.pool().begin().await?;
        sqlx::query(
            "INSERT INTO campaign_events (campaign_id, recipient_id, channel, event, state_after, \
             message_id, note, actor, at, day) SELECT campaign_id, id, NULL, 'public_notice', \
             'covered', NULL, NULL, $1, $2, $3 FROM campaign_recipients \
             WHERE campaign_id = $4 AND state = 'unreachable'",
        )
        .bind(actor)
        .bind(now)
        .bind(day)
        .bind(campaign_id)
        .execute(&mut *tx)
        .await?;
        let n = sqlx::query(
            "UPDATE campaign_recipients SET state = 'covered', updated_at = $1 \
             WHERE campaign_id = $2 AND state = 'unreachable'",
        )
        .bind(now)
        .bind(campaign_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(n)
    }

    /// Recipients per current channel and state.
    pub async fn campaign_states(&self, campaign_id: i64) -> Result<Vec<CountRow>> {
        let rows = sqlx::query(
            "SELECT channel, state, COUNT(*) FROM campaign_recipients WHERE campaign_id = $1 \
             GROUP BY channel, state ORDER BY channel, state",
        )
        .bind(campaign_id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .iter()
            .map(|r| CountRow {
                day: None,
                channel: r.get(0),
                what: r.get(1),
                count: r.get(2),
            })
            .collect())
    }

    /// Events per JST day, channel and kind.
    pub async fn campaign_days(&self, campaign_id: i64) -> Result<Vec<CountRow>> {
        let rows = sqlx::query(
            "SELECT day, channel, event, COUNT(*) FROM campaign_events WHERE campaign_id = $1 \
             GROUP BY day, channel, event ORDER BY day, channel, event",
        )
        .bind(campaign_id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .iter()
            .map(|r| CountRow {
                day: r.get(0),
                channel: r.get(1),
                what: r.get(2),
                count: r.get(3),
            })
            .collect())
    }

    /// The events of one recipient, oldest first: (channel, event, state after, message id,
    /// sealed note, actor, at).
    #[allow(clippy::type_complexity)]
    pub async fn recipient_events(
        &self,
        recipient_id: i64,
    ) -> Result<
        Vec<(
            Option<String>,
            String,
            String,
            Option<String>,
            Option<String>,
            String,
            i64,
        )>,
    > {
        let rows = sqlx::query(
            "SELECT channel, event, state_after, message_id, note, actor, at FROM campaign_events \
             WHERE recipient_id = $1 ORDER BY id",
        )
        .bind(recipient_id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .iter()
            .map(|r| {
                (
                    r.get(0),
                    r.get(1),
                    r.get(2),
                    r.get(3),
                    r.get(4),
                    r.get(5),
                    r.get(6),
                )
            })
            .collect())
    }
}

async fn insert_event(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    recipient_id: i64,
    state_after: &str,
    e: &EventRow<'_>,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO campaign_events (campaign_id, recipient_id, channel, event, state_after, \
         message_id, note, actor, at, day) SELECT campaign_id, id, $1, $2, $3, $4, $5, $6, $7, $8 \
         FROM campaign_recipients WHERE id = $9",
    )
    .bind(e.channel)
    .bind(e.event)
    .bind(state_after)
    .bind(e.message_id)
    .bind(e.note)
    .bind(e.actor)
    .bind(now)
    .bind(e.day)
    .bind(recipient_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
