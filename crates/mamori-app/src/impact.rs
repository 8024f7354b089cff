//! Impact analysis: matching what leaked against the vault's persons (issue 14, items 2–5).
//!
//! The evidence reader (`evidence`) calls [`App::match_leaked`] with batches of rows as it
//! reads a leaked file; the system-side scope (a dataset, a time window, an account's reveals
//! and exports) feeds the same function.

use crate::{App, AppError};
use mamori_domain::impact::LeakedRow;

/// What one batch of rows gave.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MatchStats {
    pub rows: u64,
    pub matched: u64,
    pub unmatched: u64,
}

#[allow(
    clippy::unused_async,
    reason = "stub until the matcher lands; the signature is final"
)]
impl App {
    /// Matches one batch of leaked rows of an incident (from the file `file_id`, or from the
    /// system side when `None`) and records the result. Sending the same batch again (a scan
    /// resumed after a restart) changes nothing: rows are keyed by their locator.
    pub async fn match_leaked(
        &self,
        incident_id: i64,
        file_id: Option<i64>,
        rows: Vec<LeakedRow>,
    ) -> Result<MatchStats, AppError> {
        let _ = (incident_id, file_id, &rows);
        Err(AppError::Internal(
            "matching is not built yet (issue 14)".into(),
        ))
    }
}

/// How to reach one affected person: from the vault record when matched, else from what the
/// leak itself holds. Any part may be missing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Contact {
    pub name: Option<String>,
    pub postal_code: Option<String>,
    pub address: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
}

/// One affected person as a notification campaign needs them (system use: the campaign job;
/// pages show persons through the viewer's vault rights instead).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AffectedPerson {
    /// `impact_persons.id`.
    pub id: i64,
    /// The vault record, when matched.
    pub record_id: Option<i64>,
    /// The items that leaked for this person, in appi.md §9 order.
    pub items: Vec<mamori_domain::appi::Item>,
    pub contact: Contact,
}

#[allow(
    clippy::unused_async,
    reason = "stub until the matcher lands; the signature is final"
)]
impl App {
    /// The affected persons of an incident after `after_id`, at most `limit`, in id order,
    /// with their contact data unsealed (vault keys must be open).
    pub async fn affected_persons(
        &self,
        incident_id: i64,
        after_id: i64,
        limit: i64,
    ) -> Result<Vec<AffectedPerson>, AppError> {
        let _ = (incident_id, after_id, limit);
        Err(AppError::Internal(
            "matching is not built yet (issue 14)".into(),
        ))
    }
}
