//! Server-side sessions and login throttling state.
//!
//! Both live in the database, not in a process, so that several `mamori serve` processes on one
//! PostgreSQL behave as one: a session created by one is valid at the other, and failed logins
//! counted by one throttle the other.

use crate::users::{parse_roles, user_from_row_at, User};
use crate::{Result, Store};
use sqlx::Row;

/// How far a session has come through the login.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// The password was right; the second factor is still due.
    Totp,
    /// The password was right; the user must enrol a second factor before anything else.
    TotpSetup,
    /// Fully logged in.
    Full,
}

impl Stage {
    pub fn code(self) -> &'static str {
        match self {
            Stage::Totp => "totp",
            Stage::TotpSetup => "totp_setup",
            Stage::Full => "full",
        }
    }

    pub fn parse(s: &str) -> Option<Stage> {
        match s {
            "totp" => Some(Stage::Totp),
            "totp_setup" => Some(Stage::TotpSetup),
            "full" => Some(Stage::Full),
            _ => None,
        }
    }
}

/// A session row. The token itself is never stored, only its SHA-256.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    pub token_hash: String,
    pub user_id: i64,
    pub csrf_token: String,
    pub stage: Stage,
    pub created_at: i64,
    pub last_seen_at: i64,
}

impl Store {
    pub async fn create_session(&self, s: &SessionRow, ip: &str, user_agent: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, csrf_token, stage, created_at, \
             last_seen_at, ip, user_agent) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&s.token_hash)
        .bind(s.user_id)
        .bind(&s.csrf_token)
        .bind(s.stage.code())
        .bind(s.created_at)
        .bind(s.last_seen_at)
        .bind(ip)
        .bind(user_agent)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    pub async fn get_session(&self, token_hash: &str) -> Result<Option<SessionRow>> {
        let r = sqlx::query(
            "SELECT token_hash, user_id, csrf_token, stage, created_at, last_seen_at \
             FROM sessions WHERE token_hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(self.pool())
        .await?;
        Ok(r.and_then(|r| {
            Some(SessionRow {
                token_hash: r.get(0),
                user_id: r.get(1),
                csrf_token: r.get(2),
                stage: Stage::parse(&r.get::<String, _>(3))?,
                created_at: r.get(4),
                last_seen_at: r.get(5),
            })
        }))
    }

    /// The session with this token hash and its user with roles, in one query (a request
    /// needs all three). The user is `None` if it no longer exists.
    pub async fn get_session_and_user(
        &self,
        token_hash: &str,
    ) -> Result<Option<(SessionRow, Option<User>)>> {
        let rows = sqlx::query(
            "SELECT s.token_hash, s.user_id, s.csrf_token, s.stage, s.created_at, \
             s.last_seen_at, u.id, u.company_id, u.department_id, u.login, u.display_name, \
             u.email, u.password_hash, u.totp_secret, u.totp_enabled, u.totp_last_step, \
             u.locale, u.disabled, u.created_at, u.totp_failures, r.role \
             FROM sessions s LEFT JOIN users u ON u.id = s.user_id \
             LEFT JOIN user_roles r ON r.user_id = u.id \
             WHERE s.token_hash = $1 ORDER BY r.role",
        )
        .bind(token_hash)
        .fetch_all(self.pool())
        .await?;
        let Some(r) = rows.first() else {
            return Ok(None);
        };
        let Some(stage) = Stage::parse(&r.get::<String, _>(3)) else {
            return Ok(None);
        };
        let session = SessionRow {
            token_hash: r.get(0),
            user_id: r.get(1),
            csrf_token: r.get(2),
            stage,
            created_at: r.get(4),
            last_seen_at: r.get(5),
        };
        if r.get::<Option<i64>, _>(6).is_none() {
            return Ok(Some((session, None)));
        }
        let codes: Vec<String> = rows
            .iter()
            .filter_map(|r| r.get::<Option<String>, _>(20))
            .collect();
        let user = user_from_row_at(r, 6, parse_roles(&codes)?);
        Ok(Some((session, Some(user))))
    }

    pub async fn touch_session(&self, token_hash: &str, now: i64) -> Result<()> {
        sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2")
            .bind(now)
            .bind(token_hash)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    pub async fn delete_session(&self, token_hash: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Ends every session of a user (password change, account disabled).
    pub async fn delete_user_sessions(&self, user_id: i64) -> Result<u64> {
        Ok(sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(user_id)
            .execute(self.pool())
            .await?
            .rows_affected())
    }

    /// Removes sessions idle since `idle_before` or created before `created_before`.
    pub async fn purge_sessions(&self, idle_before: i64, created_before: i64) -> Result<u64> {
        Ok(
            sqlx::query("DELETE FROM sessions WHERE last_seen_at < $1 OR created_at < $2")
                .bind(idle_before)
                .bind(created_before)
                .execute(self.pool())
                .await?
                .rows_affected(),
        )
    }

    pub async fn record_login_failure(&self, scope: &str, key: &str, at: i64) -> Result<()> {
        sqlx::query("INSERT INTO login_failures (scope, key, at) VALUES ($1, $2, $3)")
            .bind(scope)
            .bind(key)
            .bind(at)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Failures of `key` in `scope` since `since`, and the time of the latest.
    pub async fn login_failures_since(
        &self,
        scope: &str,
        key: &str,
        since: i64,
    ) -> Result<(i64, Option<i64>)> {
        let r = sqlx::query(
            "SELECT COUNT(*), MAX(at) FROM login_failures WHERE scope = $1 AND key = $2 AND at >= $3",
        )
        .bind(scope)
        .bind(key)
        .bind(since)
        .fetch_one(self.pool())
        .await?;
        Ok((r.get(0), r.get(1)))
    }

    pub async fn clear_login_failures(&self, scope: &str, key: &str) -> Result<()> {
        sqlx::query("DELETE FROM login_failures WHERE scope = $1 AND key = $2")
            .bind(scope)
            .bind(key)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    pub async fn purge_login_failures(&self, before: i64) -> Result<u64> {
        Ok(sqlx::query("DELETE FROM login_failures WHERE at < $1")
            .bind(before)
            .execute(self.pool())
            .await?
            .rows_affected())
    }
}
