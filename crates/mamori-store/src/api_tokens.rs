//! Personal API tokens: a user's key for `/api/v1`, stored as the SHA-256 of the token.

use crate::users::{parse_roles, user_from_row_at, User};
use crate::{Result, Store};
use sqlx::Row;

/// A token as its owner sees it in the list (never the token itself).
#[derive(Debug, Clone)]
pub struct ApiTokenRow {
    pub id: i64,
    pub user_id: i64,
    pub name: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

fn token_from_row(r: &sqlx::any::AnyRow) -> ApiTokenRow {
    ApiTokenRow {
        id: r.get(0),
        user_id: r.get(1),
        name: r.get(2),
        created_at: r.get(3),
        expires_at: r.get(4),
        last_used_at: r.get(5),
        revoked_at: r.get(6),
    }
}

impl Store {
    pub async fn create_api_token(
        &self,
        user_id: i64,
        name: &str,
        token_hash: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<i64> {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO api_tokens (user_id, name, token_hash, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(user_id)
        .bind(name)
        .bind(token_hash)
        .bind(now)
        .bind(expires_at)
        .fetch_one(self.pool())
        .await?;
        Ok(id)
    }

    /// A user's tokens, newest first.
    pub async fn list_api_tokens(&self, user_id: i64) -> Result<Vec<ApiTokenRow>> {
        let rows = sqlx::query(
            "SELECT id, user_id, name, created_at, expires_at, last_used_at, revoked_at \
             FROM api_tokens WHERE user_id = $1 ORDER BY created_at DESC, id DESC",
        )
        .bind(user_id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.iter().map(token_from_row).collect())
    }

    /// Revokes one of a user's own tokens; false when there is no such live token.
    pub async fn revoke_api_token(&self, user_id: i64, id: i64, now: i64) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE api_tokens SET revoked_at = $1 \
             WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(id)
        .bind(user_id)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Revokes every live token of a user (when the user is disabled or the password reset).
    pub async fn revoke_user_api_tokens(&self, user_id: i64, now: i64) -> Result<u64> {
        let done = sqlx::query(
            "UPDATE api_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(user_id)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected())
    }

    /// The token with this hash and its user with the user's roles, in one query.
    pub async fn get_api_token_and_user(
        &self,
        token_hash: &str,
    ) -> Result<Option<(ApiTokenRow, User)>> {
        let rows = sqlx::query(
            "SELECT t.id, t.user_id, t.name, t.created_at, t.expires_at, t.last_used_at, \
             t.revoked_at, u.id, u.company_id, u.department_id, u.login, u.display_name, \
             u.email, u.password_hash, u.totp_secret, u.totp_enabled, u.totp_last_step, \
             u.locale, u.disabled, u.created_at, u.totp_failures, r.role \
             FROM api_tokens t JOIN users u ON u.id = t.user_id \
             LEFT JOIN user_roles r ON r.user_id = u.id \
             WHERE t.token_hash = $1 ORDER BY r.role",
        )
        .bind(token_hash)
        .fetch_all(self.pool())
        .await?;
        let Some(r) = rows.first() else {
            return Ok(None);
        };
        let codes: Vec<String> = rows
            .iter()
            .filter_map(|r| r.get::<Option<String>, _>(21))
            .collect();
        let user = user_from_row_at(r, 7, parse_roles(&codes)?);
        Ok(Some((token_from_row(r), user)))
    }

    pub async fn touch_api_token(&self, id: i64, now: i64) -> Result<()> {
        sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
            .bind(now)
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(())
    }
}
