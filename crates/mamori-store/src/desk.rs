//! The contact desk (issue 15): inquiries, the mails of their threads, quarantined mails, FAQ
//! entries in versions, survey answers, "am I affected?" checks and the daily digests.
//!
//! Every `*_sealed` value is sealed by the application; this module never sees what a person
//! said. A change of an inquiry's state is a compare-and-set on the state the caller read, so
//! two operators (or an operator and the privacy office) never overwrite each other silently.

use crate::{Result, Store, StoreError};
use sqlx::any::AnyRow;
use sqlx::Row;

/// An inquiry to store.
#[derive(Debug, Clone, Default)]
pub struct NewInquiry {
    pub company_id: i64,
    pub incident_id: i64,
    pub channel: String,
    pub caller_type: String,
    pub category: String,
    pub status: String,
    /// `desk` (typed by an operator), `mail` (imported), `public` (the public form).
    pub source: String,
    pub caller_sealed: Option<String>,
    pub question_sealed: String,
    pub answer_sealed: Option<String>,
    pub person_kind: Option<String>,
    pub person_id: Option<i64>,
    pub operator: String,
    pub operator_id: Option<i64>,
    pub handling_secs: Option<i64>,
    pub thread_key: Option<String>,
    pub created_at: i64,
    /// The JST day of `created_at` (`YYYY-MM-DD`).
    pub day: String,
}

/// An inquiry as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InquiryRow {
    pub id: i64,
    pub company_id: i64,
    pub incident_id: i64,
    pub channel: String,
    pub caller_type: String,
    pub category: String,
    pub status: String,
    pub source: String,
    pub caller_sealed: Option<String>,
    pub question_sealed: String,
    pub answer_sealed: Option<String>,
    pub person_kind: Option<String>,
    pub person_id: Option<i64>,
    pub escalation_sealed: Option<String>,
    pub escalated_at: Option<i64>,
    pub escalated_by: Option<String>,
    pub reply_sealed: Option<String>,
    pub replied_at: Option<i64>,
    pub replied_by: Option<String>,
    pub operator: String,
    pub operator_id: Option<i64>,
    pub handling_secs: Option<i64>,
    pub thread_key: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub closed_at: Option<i64>,
}

macro_rules! inquiry_cols {
    () => {
        "id, company_id, incident_id, channel, caller_type, category, status, source, \
         caller_sealed, question_sealed, answer_sealed, person_kind, person_id, \
         escalation_sealed, escalated_at, escalated_by, reply_sealed, replied_at, replied_by, \
         operator, operator_id, handling_secs, thread_key, created_at, updated_at, closed_at"
    };
}

fn inquiry_from_row(r: &AnyRow) -> InquiryRow {
    InquiryRow {
        id: r.get(0),
        company_id: r.get(1),
        incident_id: r.get(2),
        channel: r.get(3),
        caller_type: r.get(4),
        category: r.get(5),
        status: r.get(6),
        source: r.get(7),
        caller_sealed: r.get(8),
        question_sealed: r.get(9),
        answer_sealed: r.get(10),
        person_kind: r.get(11),
        person_id: r.get(12),
        escalation_sealed: r.get(13),
        escalated_at: r.get(14),
        escalated_by: r.get(15),
        reply_sealed: r.get(16),
        replied_at: r.get(17),
        replied_by: r.get(18),
        operator: r.get(19),
        operator_id: r.get(20),
        handling_secs: r.get(21),
        thread_key: r.get(22),
        created_at: r.get(23),
        updated_at: r.get(24),
        closed_at: r.get(25),
    }
}

/// Which inquiries a list shows.
#[derive(Debug, Clone, Default)]
pub struct InquiryFilter {
    pub company_id: i64,
    pub incident_id: Option<i64>,
    /// Status codes to include; empty for all.
    pub statuses: Vec<String>,
    /// Only those taken by this operator.
    pub operator_id: Option<i64>,
    /// Newest first, below this id (for paging).
    pub before_id: Option<i64>,
    pub limit: i64,
}

/// An edit of an inquiry's codes and answer by the operator.
#[derive(Debug, Clone)]
pub struct InquiryEdit {
    pub id: i64,
    /// The `updated_at` the editor read: the edit applies only if nobody changed it since.
    pub expect_updated_at: i64,
    pub caller_type: String,
    pub category: String,
    pub caller_sealed: Option<String>,
    pub question_sealed: String,
    pub answer_sealed: Option<String>,
    pub person_kind: Option<String>,
    pub person_id: Option<i64>,
    pub handling_secs: Option<i64>,
    pub now: i64,
}

/// The codes and times of one inquiry, for the volume figures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InquiryFactRow {
    pub channel: String,
    pub category: String,
    pub caller_type: String,
    pub status: String,
    pub created_at: i64,
    pub closed_at: Option<i64>,
    pub handling_secs: Option<i64>,
}

/// One mail of a thread.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageRow {
    pub id: i64,
    pub inquiry_id: i64,
    pub sender_sealed: Option<String>,
    pub subject_sealed: String,
    pub body_sealed: String,
    pub sent_at: Option<i64>,
    pub imported_at: i64,
}

/// A mail that could not be read, kept (sealed) for a person to look at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuarantineRow {
    pub id: i64,
    pub incident_id: i64,
    pub file_name: String,
    pub position: i64,
    pub reason: String,
    pub size: i64,
    pub at: i64,
    pub actor: String,
}

/// An FAQ entry with its newest version and, if any, the published one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaqRow {
    pub id: i64,
    pub incident_id: i64,
    pub category: String,
    /// `proposed`, `draft`, `approved`, `retired`.
    pub status: String,
    pub published_version: Option<i64>,
    pub position: i64,
    pub created_by: String,
    pub created_at: i64,
}

/// One version of an FAQ entry. FAQ text is written for the public, not personal data.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FaqVersionRow {
    pub id: i64,
    pub entry_id: i64,
    pub version: i64,
    pub question_ja: String,
    pub answer_ja: String,
    pub question_en: Option<String>,
    pub answer_en: Option<String>,
    pub created_by: String,
    pub created_at: i64,
    pub approved_by: Option<String>,
    pub approved_at: Option<i64>,
}

fn faq_from_row(r: &AnyRow) -> FaqRow {
    FaqRow {
        id: r.get(0),
        incident_id: r.get(1),
        category: r.get(2),
        status: r.get(3),
        published_version: r.get(4),
        position: r.get(5),
        created_by: r.get(6),
        created_at: r.get(7),
    }
}

fn version_from_row(r: &AnyRow) -> FaqVersionRow {
    FaqVersionRow {
        id: r.get(0),
        entry_id: r.get(1),
        version: r.get(2),
        question_ja: r.get(3),
        answer_ja: r.get(4),
        question_en: r.get(5),
        answer_en: r.get(6),
        created_by: r.get(7),
        created_at: r.get(8),
        approved_by: r.get(9),
        approved_at: r.get(10),
    }
}

macro_rules! faq_cols {
    () => {
        "id, incident_id, category, status, published_version, position, created_by, created_at"
    };
}

macro_rules! version_cols {
    () => {
        "v.id, v.entry_id, v.version, v.question_ja, v.answer_ja, v.question_en, v.answer_en, \
         v.created_by, v.created_at, v.approved_by, v.approved_at"
    };
}

/// A survey answer from the public page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SurveyRow {
    pub id: i64,
    pub score: i64,
    pub understood: Option<i64>,
    pub comment_sealed: Option<String>,
    pub at: i64,
}

/// An "am I affected?" check waiting for its mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AffectedCheckRow {
    pub id: i64,
    pub incident_id: i64,
    pub address_sealed: String,
    pub lang: String,
    pub requested_at: i64,
    pub attempts: i64,
}

/// An incident the desk takes inquiries for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeskIncident {
    pub id: i64,
    pub ref_no: String,
    pub title: String,
    /// The slug of its public notice, once published.
    pub public_slug: Option<String>,
}

impl Store {
    /// The incidents of a company the desk answers for: those with a notification campaign
    /// (people were told and will call), newest first.
    pub async fn desk_incidents(&self, company_id: i64) -> Result<Vec<DeskIncident>> {
        let rows = sqlx::query(
            "SELECT i.id, i.ref_no, i.title, MAX(c.public_slug) FROM incidents i \
             JOIN campaigns c ON c.incident_id = i.id WHERE i.company_id = $1 \
             GROUP BY i.id, i.ref_no, i.title ORDER BY i.id DESC LIMIT 50",
        )
        .bind(company_id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .iter()
            .map(|r| DeskIncident {
                id: r.get(0),
                ref_no: r.get(1),
                title: r.get(2),
                public_slug: r.get(3),
            })
            .collect())
    }

    /// The incident and company a public slug belongs to.
    pub async fn incident_by_slug(&self, slug: &str) -> Result<Option<(i64, i64)>> {
        let r = sqlx::query(
            "SELECT i.id, i.company_id FROM campaigns c JOIN incidents i ON i.id = c.incident_id \
             WHERE c.public_slug = $1",
        )
        .bind(slug)
        .fetch_optional(self.pool())
        .await?;
        Ok(r.map(|r| (r.get(0), r.get(1))))
    }

    /// The affected persons of an incident with any of these dedupe keys: (id, dedupe key,
    /// item codes).
    pub async fn impact_persons_by_keys(
        &self,
        incident_id: i64,
        keys: &[String],
    ) -> Result<Vec<(i64, String, String)>> {
        let mut out = Vec::new();
        for k in keys.iter().take(200) {
            if let Some(r) = sqlx::query(
                "SELECT id, dedupe_key, items FROM impact_persons \
                 WHERE incident_id = $1 AND dedupe_key = $2",
            )
            .bind(incident_id)
            .bind(k)
            .fetch_optional(self.pool())
            .await?
            {
                out.push((r.get(0), r.get(1), r.get(2)));
            }
        }
        Ok(out)
    }

    // ───────────────────────────── inquiries ─────────────────────────────

    pub async fn insert_inquiry(&self, n: &NewInquiry) -> Result<i64> {
        sqlx::query_scalar(
            "INSERT INTO inquiries (company_id, incident_id, channel, caller_type, category, \
             status, source, caller_sealed, question_sealed, answer_sealed, person_kind, \
             person_id, operator, operator_id, handling_secs, thread_key, created_at, \
             updated_at, closed_at, day) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, \
             $12, $13, $14, $15, $16, $17, $17, CASE WHEN $6 = 'closed' THEN $17 END, $18) \
             RETURNING id",
        )
        .bind(n.company_id)
        .bind(n.incident_id)
        .bind(&n.channel)
        .bind(&n.caller_type)
        .bind(&n.category)
        .bind(&n.status)
        .bind(&n.source)
        .bind(&n.caller_sealed)
        .bind(&n.question_sealed)
        .bind(&n.answer_sealed)
        .bind(&n.person_kind)
        .bind(n.person_id)
        .bind(&n.operator)
        .bind(n.operator_id)
        .bind(n.handling_secs)
        .bind(&n.thread_key)
        .bind(n.created_at)
        .bind(&n.day)
        .fetch_one(self.pool())
        .await
        .map_err(|e| StoreError::from_sqlx(e, "thread"))
    }

    pub async fn get_inquiry(&self, id: i64) -> Result<InquiryRow> {
        let r = sqlx::query(concat!(
            "SELECT ",
            inquiry_cols!(),
            " FROM inquiries WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::NotFound)?;
        Ok(inquiry_from_row(&r))
    }

    /// The inquiry of a mail thread, if one exists.
    pub async fn inquiry_by_thread(
        &self,
        incident_id: i64,
        thread_key: &str,
    ) -> Result<Option<InquiryRow>> {
        let r = sqlx::query(concat!(
            "SELECT ",
            inquiry_cols!(),
            " FROM inquiries WHERE incident_id = $1 AND thread_key = $2"
        ))
        .bind(incident_id)
        .bind(thread_key)
        .fetch_optional(self.pool())
        .await?;
        Ok(r.as_ref().map(inquiry_from_row))
    }

    /// Inquiries newest first. The optional conditions are bound as NULL when unused, so the
    /// statement stays one static string.
    pub async fn inquiries(&self, f: &InquiryFilter) -> Result<Vec<InquiryRow>> {
        let statuses = f.statuses.join(",");
        let rows = sqlx::query(concat!(
            "SELECT ",
            inquiry_cols!(),
            " FROM inquiries WHERE company_id = $1 \
             AND ($2 IS NULL OR incident_id = $2) \
             AND ($3 = '' OR (',' || $3 || ',') LIKE ('%,' || status || ',%')) \
             AND ($4 IS NULL OR operator_id = $4) \
             AND ($5 IS NULL OR id < $5) \
             ORDER BY id DESC LIMIT $6"
        ))
        .bind(f.company_id)
        .bind(f.incident_id)
        .bind(&statuses)
        .bind(f.operator_id)
        .bind(f.before_id)
        .bind(f.limit)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.iter().map(inquiry_from_row).collect())
    }

    /// Changes an inquiry's codes and texts if nobody changed it since `expect_updated_at`.
    /// Returns false when somebody did.
    pub async fn edit_inquiry(&self, e: &InquiryEdit) -> Result<bool> {
        let r = sqlx::query(
            "UPDATE inquiries SET caller_type = $1, category = $2, caller_sealed = $3, \
             question_sealed = $4, answer_sealed = $5, person_kind = $6, person_id = $7, \
             handling_secs = COALESCE($8, handling_secs), \
             updated_at = CASE WHEN $9 > updated_at THEN $9 ELSE updated_at + 1 END \
             WHERE id = $10 AND updated_at = $11",
        )
        .bind(&e.caller_type)
        .bind(&e.category)
        .bind(&e.caller_sealed)
        .bind(&e.question_sealed)
        .bind(&e.answer_sealed)
        .bind(&e.person_kind)
        .bind(e.person_id)
        .bind(e.handling_secs)
        .bind(e.now)
        .bind(e.id)
        .bind(e.expect_updated_at)
        .execute(self.pool())
        .await?;
        Ok(r.rows_affected() == 1)
    }

    /// Escalates an inquiry that is still in `from`.
    pub async fn escalate_inquiry(
        &self,
        id: i64,
        from: &str,
        reason_sealed: &str,
        by: &str,
        now: i64,
    ) -> Result<bool> {
        let r = sqlx::query(
            "UPDATE inquiries SET status = 'escalated', escalation_sealed = $1, \
             escalated_at = $2, escalated_by = $3, reply_sealed = NULL, replied_at = NULL, \
             replied_by = NULL, updated_at = $2 WHERE id = $4 AND status = $5",
        )
        .bind(reason_sealed)
        .bind(now)
        .bind(by)
        .bind(id)
        .bind(from)
        .execute(self.pool())
        .await?;
        Ok(r.rows_affected() == 1)
    }

    /// The privacy office's reply to an escalated inquiry.
    pub async fn reply_inquiry(
        &self,
        id: i64,
        reply_sealed: &str,
        by: &str,
        now: i64,
    ) -> Result<bool> {
        let r = sqlx::query(
            "UPDATE inquiries SET status = 'replied', reply_sealed = $1, replied_at = $2, \
             replied_by = $3, updated_at = $2 WHERE id = $4 AND status = 'escalated'",
        )
        .bind(reply_sealed)
        .bind(now)
        .bind(by)
        .bind(id)
        .execute(self.pool())
        .await?;
        Ok(r.rows_affected() == 1)
    }

    /// Closes (with the answer given, when one is passed) or reopens an inquiry still in `from`.
    pub async fn set_inquiry_status(
        &self,
        id: i64,
        from: &str,
        to: &str,
        answer_sealed: Option<&str>,
        now: i64,
    ) -> Result<bool> {
        let r = sqlx::query(
            "UPDATE inquiries SET status = $1, answer_sealed = COALESCE($2, answer_sealed), \
             closed_at = CASE WHEN $1 = 'closed' THEN $3 END, updated_at = $3 \
             WHERE id = $4 AND status = $5",
        )
        .bind(to)
        .bind(answer_sealed)
        .bind(now)
        .bind(id)
        .bind(from)
        .execute(self.pool())
        .await?;
        Ok(r.rows_affected() == 1)
    }

    /// Codes and times of a company's inquiries (one incident's, when given) created since
    /// `since`, for the volume figures.
    pub async fn inquiry_facts(
        &self,
        company_id: i64,
        incident_id: Option<i64>,
        since: i64,
    ) -> Result<Vec<InquiryFactRow>> {
        let rows = sqlx::query(
            "SELECT channel, category, caller_type, status, created_at, closed_at, \
             handling_secs FROM inquiries WHERE company_id = $1 \
             AND ($2 IS NULL OR incident_id = $2) AND created_at >= $3",
        )
        .bind(company_id)
        .bind(incident_id)
        .bind(since)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .iter()
            .map(|r| InquiryFactRow {
                channel: r.get(0),
                category: r.get(1),
                caller_type: r.get(2),
                status: r.get(3),
                created_at: r.get(4),
                closed_at: r.get(5),
                handling_secs: r.get(6),
            })
            .collect())
    }

    /// Counts per category of one incident's inquiries (all time), for FAQ proposals.
    pub async fn inquiry_category_counts(&self, incident_id: i64) -> Result<Vec<(String, i64)>> {
        let rows = sqlx::query(
            "SELECT category, COUNT(*) FROM inquiries WHERE incident_id = $1 \
             GROUP BY category ORDER BY category",
        )
        .bind(incident_id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    /// The most recent inquiries of one category of an incident (for drafting an FAQ entry).
    pub async fn inquiries_in_category(
        &self,
        incident_id: i64,
        category: &str,
        limit: i64,
    ) -> Result<Vec<InquiryRow>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            inquiry_cols!(),
            " FROM inquiries WHERE incident_id = $1 AND category = $2 ORDER BY id DESC LIMIT $3"
        ))
        .bind(incident_id)
        .bind(category)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.iter().map(inquiry_from_row).collect())
    }

    /// A company's inquiries created on one JST day, oldest first (the daily digest).
    pub async fn inquiries_of_day(&self, company_id: i64, day: &str) -> Result<Vec<InquiryRow>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            inquiry_cols!(),
            " FROM inquiries WHERE company_id = $1 AND day = $2 ORDER BY id LIMIT 5000"
        ))
        .bind(company_id)
        .bind(day)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.iter().map(inquiry_from_row).collect())
    }

    /// Escalations waiting for a reply in a company.
    pub async fn escalations_waiting(&self, company_id: i64) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM inquiries WHERE company_id = $1 AND status = 'escalated'",
        )
        .bind(company_id)
        .fetch_one(self.pool())
        .await?)
    }

    // ───────────────────────────── mail threads ─────────────────────────────

    /// Adds one mail to a thread; false when the same message (by key) was imported before.
    #[expect(clippy::too_many_arguments, reason = "one column each")]
    pub async fn add_inquiry_message(
        &self,
        inquiry_id: i64,
        message_key: &str,
        sender_sealed: Option<&str>,
        subject_sealed: &str,
        body_sealed: &str,
        sent_at: Option<i64>,
        now: i64,
        by: &str,
    ) -> Result<bool> {
        let r = sqlx::query(
            "INSERT INTO inquiry_messages (inquiry_id, message_key, sender_sealed, \
             subject_sealed, body_sealed, sent_at, imported_at, imported_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (message_key) DO NOTHING",
        )
        .bind(inquiry_id)
        .bind(message_key)
        .bind(sender_sealed)
        .bind(subject_sealed)
        .bind(body_sealed)
        .bind(sent_at)
        .bind(now)
        .bind(by)
        .execute(self.pool())
        .await?;
        if r.rows_affected() == 1 {
            sqlx::query("UPDATE inquiries SET updated_at = $1 WHERE id = $2")
                .bind(now)
                .bind(inquiry_id)
                .execute(self.pool())
                .await?;
        }
        Ok(r.rows_affected() == 1)
    }

    /// Whether a message (by key) was imported before.
    pub async fn inquiry_message_known(&self, message_key: &str) -> Result<bool> {
        let n: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM inquiry_messages WHERE message_key = $1")
                .bind(message_key)
                .fetch_one(self.pool())
                .await?;
        Ok(n > 0)
    }

    pub async fn inquiry_messages(&self, inquiry_id: i64) -> Result<Vec<MessageRow>> {
        let rows = sqlx::query(
            "SELECT id, inquiry_id, sender_sealed, subject_sealed, body_sealed, sent_at, \
             imported_at FROM inquiry_messages WHERE inquiry_id = $1 ORDER BY id",
        )
        .bind(inquiry_id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .iter()
            .map(|r| MessageRow {
                id: r.get(0),
                inquiry_id: r.get(1),
                sender_sealed: r.get(2),
                subject_sealed: r.get(3),
                body_sealed: r.get(4),
                sent_at: r.get(5),
                imported_at: r.get(6),
            })
            .collect())
    }

    #[expect(clippy::too_many_arguments, reason = "one column each")]
    pub async fn quarantine_mail(
        &self,
        incident_id: i64,
        file_name: &str,
        position: i64,
        reason: &str,
        size: i64,
        raw_sealed: Option<&str>,
        now: i64,
        actor: &str,
    ) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "INSERT INTO inquiry_quarantine (incident_id, file_name, position, reason, size, \
             raw_sealed, at, actor) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(incident_id)
        .bind(file_name)
        .bind(position)
        .bind(reason)
        .bind(size)
        .bind(raw_sealed)
        .bind(now)
        .bind(actor)
        .fetch_one(self.pool())
        .await?)
    }

    pub async fn quarantined_mails(&self, incident_id: i64) -> Result<Vec<QuarantineRow>> {
        let rows = sqlx::query(
            "SELECT id, incident_id, file_name, position, reason, size, at, actor \
             FROM inquiry_quarantine WHERE incident_id = $1 ORDER BY id DESC LIMIT 200",
        )
        .bind(incident_id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .iter()
            .map(|r| QuarantineRow {
                id: r.get(0),
                incident_id: r.get(1),
                file_name: r.get(2),
                position: r.get(3),
                reason: r.get(4),
                size: r.get(5),
                at: r.get(6),
                actor: r.get(7),
            })
            .collect())
    }

    // ───────────────────────────── FAQ ─────────────────────────────

    /// A new entry with its first version, in one transaction.
    pub async fn create_faq(
        &self,
        incident_id: i64,
        category: &str,
        status: &str,
        v: &FaqVersionRow,
    ) -> Result<i64> {
        let mut tx = self.pool().begin().await?;
        let position: i64 = sqlx::query_scalar(
            "SELECT COALESCE(MAX(position), 0) + 1 FROM faq_entries WHERE incident_id = $1",
        )
        .bind(incident_id)
        .fetch_one(&mut *tx)
        .await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO faq_entries (incident_id, category, status, position, created_by, \
             created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(incident_id)
        .bind(category)
        .bind(status)
        .bind(position)
        .bind(&v.created_by)
        .bind(v.created_at)
        .fetch_one(&mut *tx)
        .await?;
        insert_version(&mut tx, id, 1, v).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// A new version of an entry (the next number); a proposed entry becomes a draft.
    pub async fn add_faq_version(&self, entry_id: i64, v: &FaqVersionRow) -> Result<i64> {
        let mut tx = self.pool().begin().await?;
        let next: i64 = sqlx::query_scalar(
            "SELECT COALESCE(MAX(version), 0) + 1 FROM faq_versions WHERE entry_id = $1",
        )
        .bind(entry_id)
        .fetch_one(&mut *tx)
        .await?;
        insert_version(&mut tx, entry_id, next, v).await?;
        sqlx::query(
            "UPDATE faq_entries SET status = CASE WHEN status = 'proposed' THEN 'draft' \
             ELSE status END WHERE id = $1",
        )
        .bind(entry_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(next)
    }

    /// Approves a version and publishes it; false when it was approved before.
    pub async fn approve_faq_version(
        &self,
        entry_id: i64,
        version: i64,
        by: &str,
        now: i64,
    ) -> Result<bool> {
        let mut tx = self.pool().begin().await?;
        let r = sqlx::query(
            "UPDATE faq_versions SET approved_by = $1, approved_at = $2 \
             WHERE entry_id = $3 AND version = $4 AND approved_by IS NULL",
        )
        .bind(by)
        .bind(now)
        .bind(entry_id)
        .bind(version)
        .execute(&mut *tx)
        .await?;
        if r.rows_affected() != 1 {
            return Ok(false);
        }
        sqlx::query(
            "UPDATE faq_entries SET status = 'approved', published_version = $1 WHERE id = $2",
        )
        .bind(version)
        .bind(entry_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Takes an entry off the public page (its versions stay).
    pub async fn retire_faq(&self, entry_id: i64) -> Result<bool> {
        let r = sqlx::query(
            "UPDATE faq_entries SET status = 'retired', published_version = NULL \
             WHERE id = $1 AND status <> 'retired'",
        )
        .bind(entry_id)
        .execute(self.pool())
        .await?;
        Ok(r.rows_affected() == 1)
    }

    pub async fn get_faq(&self, entry_id: i64) -> Result<FaqRow> {
        let r = sqlx::query(concat!(
            "SELECT ",
            faq_cols!(),
            " FROM faq_entries WHERE id = $1"
        ))
        .bind(entry_id)
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::NotFound)?;
        Ok(faq_from_row(&r))
    }

    /// The entries of an incident in their order.
    pub async fn faq_entries(&self, incident_id: i64) -> Result<Vec<FaqRow>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            faq_cols!(),
            " FROM faq_entries WHERE incident_id = $1 ORDER BY position, id"
        ))
        .bind(incident_id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.iter().map(faq_from_row).collect())
    }

    /// Every version of every entry of an incident, by entry and version.
    pub async fn faq_versions(&self, incident_id: i64) -> Result<Vec<FaqVersionRow>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            version_cols!(),
            " FROM faq_versions v JOIN faq_entries e ON e.id = v.entry_id \
             WHERE e.incident_id = $1 ORDER BY v.entry_id, v.version"
        ))
        .bind(incident_id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.iter().map(version_from_row).collect())
    }

    /// The published version of each approved entry of an incident, in order.
    pub async fn published_faq(&self, incident_id: i64) -> Result<Vec<FaqVersionRow>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            version_cols!(),
            " FROM faq_entries e JOIN faq_versions v ON v.entry_id = e.id \
             AND v.version = e.published_version WHERE e.incident_id = $1 \
             AND e.status = 'approved' ORDER BY e.position, e.id"
        ))
        .bind(incident_id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.iter().map(version_from_row).collect())
    }

    // ───────────────────────────── survey ─────────────────────────────

    pub async fn add_survey(
        &self,
        incident_id: i64,
        score: i64,
        understood: Option<bool>,
        comment_sealed: Option<&str>,
        now: i64,
        day: &str,
    ) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "INSERT INTO survey_responses (incident_id, score, understood, comment_sealed, at, \
             day) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(incident_id)
        .bind(score)
        .bind(understood.map(i64::from))
        .bind(comment_sealed)
        .bind(now)
        .bind(day)
        .fetch_one(self.pool())
        .await?)
    }

    /// The newest survey answers of an incident.
    pub async fn surveys(&self, incident_id: i64, limit: i64) -> Result<Vec<SurveyRow>> {
        let rows = sqlx::query(
            "SELECT id, score, understood, comment_sealed, at FROM survey_responses \
             WHERE incident_id = $1 ORDER BY id DESC LIMIT $2",
        )
        .bind(incident_id)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .iter()
            .map(|r| SurveyRow {
                id: r.get(0),
                score: r.get(1),
                understood: r.get(2),
                comment_sealed: r.get(3),
                at: r.get(4),
            })
            .collect())
    }

    /// Answers per score (1–5) and how many said they understood / did not.
    pub async fn survey_counts(&self, incident_id: i64) -> Result<([i64; 5], i64, i64)> {
        let rows = sqlx::query(
            "SELECT score, COUNT(*), SUM(CASE WHEN understood = 1 THEN 1 ELSE 0 END), \
             SUM(CASE WHEN understood = 0 THEN 1 ELSE 0 END) FROM survey_responses \
             WHERE incident_id = $1 GROUP BY score",
        )
        .bind(incident_id)
        .fetch_all(self.pool())
        .await?;
        let mut scores = [0i64; 5];
        let (mut yes, mut no) = (0, 0);
        for r in &rows {
            let s: i64 = r.get(0);
            if (1..=5).contains(&s) {
                scores[(s - 1) as usize] += r.get::<i64, _>(1);
            }
            yes += r.try_get::<Option<i64>, _>(2)?.unwrap_or(0);
            no += r.try_get::<Option<i64>, _>(3)?.unwrap_or(0);
        }
        Ok((scores, yes, no))
    }

    // ───────────────────────────── "am I affected?" ─────────────────────────────

    pub async fn add_affected_check(
        &self,
        incident_id: i64,
        address_sealed: &str,
        lang: &str,
        now: i64,
    ) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "INSERT INTO affected_checks (incident_id, address_sealed, lang, requested_at) \
             VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(incident_id)
        .bind(address_sealed)
        .bind(lang)
        .bind(now)
        .fetch_one(self.pool())
        .await?)
    }

    /// Claims up to `limit` checks not yet sent and not claimed by a live lease.
    pub async fn claim_affected_checks(
        &self,
        now: i64,
        lease_until: i64,
        limit: i64,
    ) -> Result<Vec<AffectedCheckRow>> {
        let ids: Vec<i64> = sqlx::query_scalar(
            "SELECT id FROM affected_checks WHERE sent_at IS NULL AND attempts < 5 \
             AND (claimed_until IS NULL OR claimed_until < $1) ORDER BY id LIMIT $2",
        )
        .bind(now)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        let mut out = Vec::new();
        for id in ids {
            let r = sqlx::query(
                "UPDATE affected_checks SET claimed_until = $1, attempts = attempts + 1 \
                 WHERE id = $2 AND sent_at IS NULL AND (claimed_until IS NULL OR claimed_until < $3) \
                 RETURNING id, incident_id, address_sealed, lang, requested_at, attempts",
            )
            .bind(lease_until)
            .bind(id)
            .bind(now)
            .fetch_optional(self.pool())
            .await?;
            if let Some(r) = r {
                out.push(AffectedCheckRow {
                    id: r.get(0),
                    incident_id: r.get(1),
                    address_sealed: r.get(2),
                    lang: r.get(3),
                    requested_at: r.get(4),
                    attempts: r.get(5),
                });
            }
        }
        Ok(out)
    }

    /// Marks a check answered: the address is dropped, only the times stay.
    pub async fn finish_affected_check(&self, id: i64, now: i64) -> Result<()> {
        sqlx::query(
            "UPDATE affected_checks SET sent_at = $1, address_sealed = '', problem = NULL \
             WHERE id = $2",
        )
        .bind(now)
        .bind(id)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Records why a check's mail failed; it is tried again after its lease.
    pub async fn fail_affected_check(&self, id: i64, problem: &str) -> Result<()> {
        sqlx::query("UPDATE affected_checks SET problem = $1 WHERE id = $2")
            .bind(problem)
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Checks still waiting (for the page and the tests).
    pub async fn affected_checks_pending(&self) -> Result<i64> {
        Ok(
            sqlx::query_scalar("SELECT COUNT(*) FROM affected_checks WHERE sent_at IS NULL")
                .fetch_one(self.pool())
                .await?,
        )
    }

    // ───────────────────────────── daily digest ─────────────────────────────

    /// Claims the digest of a company's day; false when it was sent (or claimed) before.
    pub async fn claim_digest(&self, company_id: i64, day: &str, now: i64, n: i64) -> Result<bool> {
        let r = sqlx::query(
            "INSERT INTO desk_digests (company_id, day, sent_at, inquiries) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (company_id, day) DO NOTHING",
        )
        .bind(company_id)
        .bind(day)
        .bind(now)
        .bind(n)
        .execute(self.pool())
        .await?;
        Ok(r.rows_affected() == 1)
    }

    /// Gives a claimed digest back (its mail could not be sent), so the next run tries again.
    pub async fn release_digest(&self, company_id: i64, day: &str) -> Result<()> {
        sqlx::query("DELETE FROM desk_digests WHERE company_id = $1 AND day = $2")
            .bind(company_id)
            .bind(day)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Companies with inquiries on a day (the digest goes to each).
    pub async fn companies_with_inquiries(&self, day: &str) -> Result<Vec<i64>> {
        Ok(sqlx::query_scalar(
            "SELECT DISTINCT company_id FROM inquiries WHERE day = $1 ORDER BY company_id",
        )
        .bind(day)
        .fetch_all(self.pool())
        .await?)
    }
}

async fn insert_version(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    entry_id: i64,
    version: i64,
    v: &FaqVersionRow,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO faq_versions (entry_id, version, question_ja, answer_ja, question_en, \
         answer_en, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(entry_id)
    .bind(version)
    .bind(&v.question_ja)
    .bind(&v.answer_ja)
    .bind(&v.question_en)
    .bind(&v.answer_en)
    .bind(&v.created_by)
    .bind(v.created_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
