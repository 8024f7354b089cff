//! Time-limited access to a dataset's records (seed 004: at most three people hold standing
//! access; everybody else gets access for a purpose and a time).

use super::Schema;
use chrono::{DateTime, Duration, Utc};

/// The default and the ceiling of a grant's duration.
pub const DEFAULT_MAX_HOURS: u32 = 24;
/// The default number of custodians a company may have.
pub const DEFAULT_MAX_CUSTODIANS: usize = 3;

/// A grant as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub id: i64,
    pub dataset_id: i64,
    pub grantee_id: i64,
    pub fields: Vec<String>,
    pub purpose: String,
    pub may_export: bool,
    pub issued_by: i64,
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl Grant {
    pub fn is_active(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && now < self.expires_at
    }

    pub fn status(&self, now: DateTime<Utc>) -> GrantStatus {
        if self.revoked_at.is_some() {
            GrantStatus::Revoked
        } else if now >= self.expires_at {
            GrantStatus::Expired
        } else {
            GrantStatus::Active
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantStatus {
    Active,
    Expired,
    Revoked,
}

impl GrantStatus {
    pub fn code(self) -> &'static str {
        match self {
            GrantStatus::Active => "active",
            GrantStatus::Expired => "expired",
            GrantStatus::Revoked => "revoked",
        }
    }
}

/// What a custodian asks for when issuing a grant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantRequest {
    pub fields: Vec<String>,
    pub purpose: String,
    pub hours: u32,
    pub may_export: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GrantError {
    #[error("purpose: say what the access is for (1–500 characters)")]
    Purpose,
    #[error("hours: a grant lasts 1 to {0} hours")]
    Hours(u32),
    #[error("fields: choose at least one field")]
    NoFields,
    #[error("fields: `{0}` is not a field of this dataset")]
    UnknownField(String),
    #[error("grantee: a custodian already has standing access")]
    GranteeIsCustodian,
    #[error("grantee: a grant is for somebody else")]
    SelfGrant,
}

impl GrantRequest {
    /// Checks the request against the dataset's schema and the company's ceiling, and gives the
    /// expiry time.
    pub fn check(
        &self,
        schema: &Schema,
        max_hours: u32,
        now: DateTime<Utc>,
    ) -> Result<DateTime<Utc>, GrantError> {
        let p = self.purpose.trim();
        if p.is_empty() || p.chars().count() > 500 || p.chars().any(char::is_control) {
            return Err(GrantError::Purpose);
        }
        if self.hours == 0 || self.hours > max_hours {
            return Err(GrantError::Hours(max_hours));
        }
        if self.fields.is_empty() {
            return Err(GrantError::NoFields);
        }
        for f in &self.fields {
            if schema.index_of(f).is_none() {
                return Err(GrantError::UnknownField(f.chars().take(40).collect()));
            }
        }
        Ok(now + Duration::hours(i64::from(self.hours)))
    }
}

/// How a person reaches a dataset's records right now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    /// A custodian: every field, export allowed.
    Custody,
    /// Through this grant, until it expires.
    Grant(Grant),
}

impl Access {
    pub fn may_reveal(&self, field: &str) -> bool {
        match self {
            Access::Custody => true,
            Access::Grant(g) => g.fields.iter().any(|f| f == field),
        }
    }

    /// Whether a search by `class` is allowed: custody, or a grant that holds every field the
    /// class's index is made from. Otherwise a grant for `zip` alone would let its holder test
    /// guesses of a phone number against the index, one lookup each, and recover the value
    /// that the mask (`090-****-2049`) hides.
    pub fn may_lookup(&self, schema: &Schema, class: super::normalize::IndexClass) -> bool {
        match self {
            Access::Custody => true,
            Access::Grant(_) => super::normalize::index_sources(schema, class)
                .into_iter()
                .all(|f| self.may_reveal(f)),
        }
    }

    pub fn may_export(&self) -> bool {
        match self {
            Access::Custody => true,
            Access::Grant(g) => g.may_export,
        }
    }

    /// The grant id the audit entry names (`custody` for standing access).
    pub fn basis(&self) -> String {
        match self {
            Access::Custody => "custody".to_owned(),
            Access::Grant(g) => format!("grant:{}", g.id),
        }
    }

    pub fn expires_at(&self) -> Option<DateTime<Utc>> {
        match self {
            Access::Custody => None,
            Access::Grant(g) => Some(g.expires_at),
        }
    }
}

/// Chooses the access a person has to a dataset from the grants they hold: custody first, then
/// the active grant that ends last.
pub fn access(is_custodian: bool, grants: &[Grant], now: DateTime<Utc>) -> Option<Access> {
    if is_custodian {
        return Some(Access::Custody);
    }
    grants
        .iter()
        .filter(|g| g.is_active(now))
        .max_by_key(|g| g.expires_at)
        .cloned()
        .map(Access::Grant)
}
