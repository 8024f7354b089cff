//! Personal API tokens for `/api/v1`: created on the account page, shown once, stored as their
//! SHA-256, accepted only by the API (the web layer enforces that), revocable, and dead at once
//! when they expire or their user is disabled.

use crate::auth::{random_token, token_hash};
use crate::{App, AppError, Ctx};
use mamori_domain::audit::Outcome;
use mamori_store::api_tokens::ApiTokenRow;
use mamori_store::users::User;
use serde_json::json;

/// The prefix every token starts with, so that a secret scanner recognises one.
pub const TOKEN_PREFIX: &str = "mmr_";
/// The longest lifetime a token may be given.
pub const MAX_TOKEN_DAYS: i64 = 90;
const DAY_MICROS: i64 = 86_400 * 1_000_000;

/// A token as its owner's list shows it.
#[derive(Debug, Clone)]
pub struct TokenView {
    pub row: ApiTokenRow,
    /// `active`, `expired` or `revoked`.
    pub status: &'static str,
}

/// A caller authenticated by a token.
#[derive(Debug, Clone)]
pub struct TokenCaller {
    pub token_id: i64,
    pub user: User,
}

fn token_name(name: &str) -> Result<String, AppError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(AppError::invalid(
            "name",
            "トークンの名前（用途）を入力してください",
            "give the token a name (what it is for)",
        ));
    }
    if name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(AppError::invalid(
            "name",
            "トークンの名前は制御文字を含まない100文字以内にしてください",
            "a token name is at most 100 characters without control characters",
        ));
    }
    Ok(name.to_owned())
}

fn token_days(days: &str) -> Result<i64, AppError> {
    match mamori_domain::number::parse_whole(days).and_then(|d| i64::try_from(d).ok()) {
        Some(d) if (1..=MAX_TOKEN_DAYS).contains(&d) => Ok(d),
        _ => Err(AppError::invalid(
            "days",
            format!("有効日数は1から{MAX_TOKEN_DAYS}までの数で入力してください"),
            format!("the lifetime is a number of days from 1 to {MAX_TOKEN_DAYS}"),
        )),
    }
}

impl App {
    /// Creates a token for the calling user and returns it with its id; the token is never
    /// readable again. The user gives their password again: a token outlives the session, so
    /// a session left open (or stolen) must not be enough to mint one.
    pub async fn create_api_token(
        &self,
        ctx: &Ctx,
        password: &str,
        name: &str,
        days: &str,
    ) -> Result<(i64, String), AppError> {
        let user = ctx.user_ref().ok_or(AppError::Unauthenticated)?;
        // The name and the days are both checked before the password is.
        let mut ps = crate::Problems::new();
        let name = ps.check(token_name(name))?;
        let days = ps.check(token_days(days))?;
        ps.done()?;
        let (Some(name), Some(days)) = (name, days) else {
            return Err(AppError::Internal(
                "api token: a checked value is missing".into(),
            ));
        };
        // The stored hash, not the session's copy: a password changed elsewhere counts.
        let stored = self.store.get_user(user.id).await?;
        if password.is_empty() || !self.argon2.verify(password, &stored.password_hash).await? {
            self.audit(
                ctx,
                "account.api_token.create",
                &format!("user:{}", user.id),
                Outcome::Failure,
                json!({"reason": "wrong_password"}),
            )
            .await?;
            return Err(AppError::invalid(
                "password",
                "パスワードが正しくありません。トークンを作るには現在のパスワードを入力してください",
                "the password is wrong; enter your current password to create a token",
            ));
        }
        let token = format!("{TOKEN_PREFIX}{}", random_token());
        let now = self.clock.now_micros();
        let id = self
            .store
            .create_api_token(
                user.id,
                &name,
                &token_hash(&token),
                now,
                now + days * DAY_MICROS,
            )
            .await?;
        self.audit(
            ctx,
            "account.api_token.create",
            &format!("api_token:{id}"),
            Outcome::Success,
            json!({"days": days}),
        )
        .await?;
        Ok((id, token))
    }

    /// The calling user's tokens, newest first.
    pub async fn api_tokens(&self, ctx: &Ctx) -> Result<Vec<TokenView>, AppError> {
        let user = ctx.user_ref().ok_or(AppError::Unauthenticated)?;
        let now = self.clock.now_micros();
        Ok(self
            .store
            .list_api_tokens(user.id)
            .await?
            .into_iter()
            .map(|row| {
                let status = if row.revoked_at.is_some() {
                    "revoked"
                } else if row.expires_at <= now {
                    "expired"
                } else {
                    "active"
                };
                TokenView { row, status }
            })
            .collect())
    }

    /// Revokes one of the calling user's own tokens.
    pub async fn revoke_api_token(&self, ctx: &Ctx, id: i64) -> Result<(), AppError> {
        let user = ctx.user_ref().ok_or(AppError::Unauthenticated)?;
        let now = self.clock.now_micros();
        if !self.store.revoke_api_token(user.id, id, now).await? {
            return Err(AppError::NotFound);
        }
        self.audit(
            ctx,
            "account.api_token.revoke",
            &format!("api_token:{id}"),
            Outcome::Success,
            json!({}),
        )
        .await?;
        Ok(())
    }

    /// The caller a bearer token stands for, or `None` when the token is unknown, revoked,
    /// expired or its user disabled, or when a role of the user requires a second factor the
    /// user has not enrolled. The user and roles are read afresh on every call.
    pub async fn api_caller(&self, token: &str) -> Result<Option<TokenCaller>, AppError> {
        if !token.starts_with(TOKEN_PREFIX) || token.len() > 200 {
            return Ok(None);
        }
        let Some((row, user)) = self
            .store
            .get_api_token_and_user(&token_hash(token))
            .await?
        else {
            return Ok(None);
        };
        let now = self.clock.now_micros();
        if row.revoked_at.is_some()
            || row.expires_at <= now
            || user.disabled
            || App::must_enrol(&user)
        {
            return Ok(None);
        }
        // As with sessions, a minute is precise enough for "last used".
        if row.last_used_at.is_none_or(|t| now - t > 60_000_000) {
            self.store.touch_api_token(row.id, now).await?;
        }
        Ok(Some(TokenCaller {
            token_id: row.id,
            user,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_lifetimes_are_checked() {
        assert!(token_name("  ").is_err());
        assert!(token_name("a\u{7}b").is_err());
        assert!(token_name(&"あ".repeat(101)).is_err());
        assert_eq!(token_name(" 照会バッチ ").unwrap(), "照会バッチ");
        assert!(token_days("0").is_err());
        assert!(token_days("91").is_err());
        assert!(token_days("abc").is_err());
        assert_eq!(token_days("90").unwrap(), 90);
        assert_eq!(token_days(" 1 ").unwrap(), 1);
    }
}
