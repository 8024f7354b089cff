//! What the contact desk has to do across campaigns: the phone queues of a company's active
//! campaigns (counts only; the persons are read through the call list, audited).

use crate::{Result, Store};
use sqlx::Row;

/// One campaign with calls waiting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneQueue {
    pub campaign_id: i64,
    pub incident_id: i64,
    pub ref_no: String,
    pub title: String,
    /// Persons waiting for a call (some not before a later time: an unanswered call waits).
    pub waiting: i64,
}

impl Store {
    /// The active campaigns of a company with persons waiting on the phone channel.
    pub async fn phone_queues(&self, company_id: i64) -> Result<Vec<PhoneQueue>> {
        let rows = sqlx::query(
            "SELECT c.id, i.id, i.ref_no, i.title, COUNT(r.id) FROM campaigns c \
             JOIN incidents i ON i.id = c.incident_id \
             JOIN campaign_recipients r ON r.campaign_id = c.id \
             WHERE i.company_id = $1 AND c.status = 'active' \
             AND r.channel = 'phone' AND r.state = 'queued' \
             GROUP BY c.id, i.id, i.ref_no, i.title ORDER BY c.id",
        )
        .bind(company_id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .iter()
            .map(|r| PhoneQueue {
                campaign_id: r.get(0),
                incident_id: r.get(1),
                ref_no: r.get(2),
                title: r.get(3),
                waiting: r.get(4),
            })
            .collect())
    }
}
