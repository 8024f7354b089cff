//! Authentication: passwords (Argon2id), login throttling, TOTP, server-side sessions.
//!
//! A session token is 256 random bits handed to the browser once; the database holds only its
//! SHA-256, so a copy of the database does not let anybody in. A new token is issued at every
//! step up (password, then second factor), so a token seen before login is worthless after it.

use crate::{App, AppError, Ctx};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine;
use mamori_domain::audit::Outcome;
use mamori_domain::text::{check_password, LoginName};
use mamori_domain::totp;
use mamori_store::sessions::{SessionRow, Stage};
use mamori_store::users::User;
use rand::RngCore;
use serde_json::json;
use sha2::{Digest, Sha256};

fn argon2() -> Argon2<'static> {
    // OWASP's recommended minimum for Argon2id: 19 MiB, 2 iterations, 1 lane.
    Argon2::new(
        Algorithm::Argon2id,
        Version::V0x13,
        Params::new(19 * 1024, 2, 1, None).expect("valid Argon2 parameters"),
    )
}

pub fn hash_password(password: &str) -> Result<String, AppError> {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AppError::Internal(format!("password hashing: {e}")))
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| argon2().verify_password(password.as_bytes(), &h).is_ok())
}

/// A password for a new account or a reset: 16 characters without look-alikes.
pub fn generate_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut b = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut b);
    b.iter()
        .map(|x| ALPHABET[*x as usize % ALPHABET.len()] as char)
        .collect()
}

pub fn random_token() -> String {
    let mut b = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut b);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A session as the web layer sees it after validation.
#[derive(Debug, Clone)]
pub struct ActiveSession {
    pub token_hash: String,
    pub csrf_token: String,
    pub stage: Stage,
    pub user: User,
}

/// What a successful step of the login hands back: a fresh token for the cookie.
#[derive(Debug)]
pub struct LoggedIn {
    pub token: String,
    pub stage: Stage,
    pub user: User,
}

/// What the second-factor enrolment shows the user once.
#[derive(Debug)]
pub struct TotpEnrolment {
    pub secret_b32: String,
    pub uri: String,
}

fn totp_context(user_id: i64) -> String {
    format!("totp:user:{user_id}")
}

impl App {
    fn stage_after_password(user: &User) -> Stage {
        if user.totp_enabled {
            Stage::Totp
        } else if user.roles.requires_totp() {
            Stage::TotpSetup
        } else {
            Stage::Full
        }
    }

    async fn new_session(
        &self,
        ctx: &Ctx,
        user: &User,
        stage: Stage,
        user_agent: &str,
    ) -> Result<String, AppError> {
        let token = random_token();
        let now = self.clock.now_micros();
        self.store
            .create_session(
                &SessionRow {
                    token_hash: token_hash(&token),
                    user_id: user.id,
                    csrf_token: random_token(),
                    stage,
                    created_at: now,
                    last_seen_at: now,
                },
                &ctx.ip,
                &user_agent.chars().take(200).collect::<String>(),
            )
            .await?;
        Ok(token)
    }

    /// Seconds until `key` may try again, if it is throttled now.
    async fn throttled(&self, scope: &str, key: &str, max: i64) -> Result<Option<i64>, AppError> {
        let now = self.clock.now_micros();
        let window = self.settings.throttle_window_secs * 1_000_000;
        let (n, last) = self
            .store
            .login_failures_since(scope, key, now - window)
            .await?;
        if n >= max {
            let until = last.unwrap_or(now) + window;
            return Ok(Some(((until - now) / 1_000_000).max(1)));
        }
        Ok(None)
    }

    /// Refuses (and records) a login step for an account locked by failed attempts.
    async fn refuse_if_locked(
        &self,
        ctx: &Ctx,
        login: &str,
        action: &str,
        target: &str,
    ) -> Result<(), AppError> {
        if let Some(wait) = self
            .throttled("account", login, self.settings.max_failures_per_account)
            .await?
        {
            self.audit(
                ctx,
                action,
                target,
                Outcome::Denied,
                json!({"reason": "account_locked"}),
            )
            .await?;
            return Err(AppError::Throttled(wait));
        }
        Ok(())
    }

    async fn note_failure(&self, ctx: &Ctx, login: Option<&str>) -> Result<(), AppError> {
        let now = self.clock.now_micros();
        self.store.record_login_failure("ip", &ctx.ip, now).await?;
        if let Some(l) = login {
            self.store.record_login_failure("account", l, now).await?;
        }
        Ok(())
    }

    /// Step one: login name and password.
    pub async fn login(
        &self,
        ctx: &Ctx,
        login: &str,
        password: &str,
        user_agent: &str,
    ) -> Result<LoggedIn, AppError> {
        let name = LoginName::parse(login).ok();
        if let Some(wait) = self
            .throttled("ip", &ctx.ip, self.settings.max_failures_per_ip)
            .await?
        {
            self.audit(
                ctx,
                "auth.login",
                "ip",
                Outcome::Denied,
                json!({"reason": "ip_throttled"}),
            )
            .await?;
            return Err(AppError::Throttled(wait));
        }
        let user = match &name {
            Some(n) => self.store.find_user_by_login(n.as_str()).await?,
            None => None,
        };
        // The attempted name is recorded only when it is a real account: a mistyped name is
        // often a password typed into the wrong box.
        let target = user
            .as_ref()
            .map_or_else(|| "user:unknown".to_owned(), |u| format!("user:{}", u.id));
        if let Some(u) = &user {
            self.refuse_if_locked(ctx, &u.login, "auth.login", &target)
                .await?;
        }
        let ok = if let Some(u) = &user {
            verify_password(password, &u.password_hash) && !u.disabled
        } else {
            // Spend the same time as a real check so that timing does not reveal names.
            let _ = verify_password(password, DUMMY_HASH);
            false
        };
        let Some(user) = user.filter(|_| ok) else {
            self.note_failure(ctx, name.as_ref().map(LoginName::as_str))
                .await?;
            self.audit(
                ctx,
                "auth.login",
                &target,
                Outcome::Failure,
                json!({"reason": "bad_credentials"}),
            )
            .await?;
            return Err(AppError::BadCredentials);
        };
        self.store
            .clear_login_failures("account", &user.login)
            .await?;
        let stage = Self::stage_after_password(&user);
        let token = self.new_session(ctx, &user, stage, user_agent).await?;
        let uctx = Ctx::user(user.clone(), &ctx.ip);
        self.audit(
            &uctx,
            "auth.login",
            &target,
            Outcome::Success,
            json!({"stage": stage.code()}),
        )
        .await?;
        Ok(LoggedIn { token, stage, user })
    }

    /// Looks up a session token; ends it when idle or too old or when the user is disabled.
    pub async fn session(&self, token: &str) -> Result<Option<ActiveSession>, AppError> {
        let h = token_hash(token);
        // The session, its user and the user's roles in one query.
        let Some((s, user)) = self.store.get_session_and_user(&h).await? else {
            return Ok(None);
        };
        let now = self.clock.now_micros();
        let idle = now - s.last_seen_at > self.settings.session_idle_secs * 1_000_000;
        let old = now - s.created_at > self.settings.session_absolute_secs * 1_000_000;
        if idle || old {
            self.store.delete_session(&h).await?;
            return Ok(None);
        }
        let user = match user {
            Some(u) if !u.disabled => u,
            Some(_) | None => {
                self.store.delete_session(&h).await?;
                return Ok(None);
            }
        };
        // Writing on every request would make every page a write; a minute is precise enough
        // for an idle timeout counted in tens of minutes.
        if now - s.last_seen_at > 60_000_000 {
            self.store.touch_session(&h, now).await?;
        }
        Ok(Some(ActiveSession {
            token_hash: h,
            csrf_token: s.csrf_token,
            stage: s.stage,
            user,
        }))
    }

    pub async fn logout(&self, ctx: &Ctx, session: &ActiveSession) -> Result<(), AppError> {
        self.store.delete_session(&session.token_hash).await?;
        self.audit(
            ctx,
            "auth.logout",
            &format!("user:{}", session.user.id),
            Outcome::Success,
            json!({}),
        )
        .await?;
        Ok(())
    }

    /// Step two: the one-time code. Replaces the session with a fully logged-in one.
    pub async fn login_totp(
        &self,
        ctx: &Ctx,
        session: &ActiveSession,
        code: &str,
        user_agent: &str,
    ) -> Result<LoggedIn, AppError> {
        let user = &session.user;
        let target = format!("user:{}", user.id);
        if session.stage != Stage::Totp {
            return Err(AppError::Denied);
        }
        self.refuse_if_locked(ctx, &user.login, "auth.totp", &target)
            .await?;
        let secret = self.totp_secret(user)?;
        let accepted = totp::verify(&secret, code, self.clock.now_secs(), user.totp_last_step);
        let used = match accepted {
            Some(step) => self.store.use_totp_step(user.id, step).await?,
            None => false,
        };
        if !used {
            self.note_failure(ctx, Some(&user.login)).await?;
            self.audit(ctx, "auth.totp", &target, Outcome::Failure, json!({}))
                .await?;
            return Err(AppError::BadTotp);
        }
        self.store
            .clear_login_failures("account", &user.login)
            .await?;
        self.store.delete_session(&session.token_hash).await?;
        let token = self.new_session(ctx, user, Stage::Full, user_agent).await?;
        self.audit(ctx, "auth.totp", &target, Outcome::Success, json!({}))
            .await?;
        Ok(LoggedIn {
            token,
            stage: Stage::Full,
            user: user.clone(),
        })
    }

    fn totp_secret(&self, user: &User) -> Result<Vec<u8>, AppError> {
        let sealed = user.totp_secret.as_deref().ok_or(AppError::BadTotp)?;
        self.keys
            .unseal(sealed, &totp_context(user.id))
            .map_err(|e| AppError::Internal(e.to_string()))
    }

    /// Starts (or restarts) enrolment of a second factor: a new secret, not yet enabled.
    pub async fn begin_totp_enrolment(
        &self,
        ctx: &Ctx,
        user: &User,
    ) -> Result<TotpEnrolment, AppError> {
        // A pending (not yet confirmed) secret is shown again, so that reloading the page
        // after scanning the code does not invalidate what the phone already holds.
        let user = &self.store.get_user(user.id).await?;
        if let (Some(sealed), false) = (&user.totp_secret, user.totp_enabled) {
            if let Ok(secret) = self.keys.unseal(sealed, &totp_context(user.id)) {
                let b32 = totp::encode_secret(&secret);
                return Ok(TotpEnrolment {
                    uri: totp::provisioning_uri(&self.settings.totp_issuer, &user.login, &b32),
                    secret_b32: b32,
                });
            }
        }
        let mut secret = [0u8; 20];
        rand::rngs::OsRng.fill_bytes(&mut secret);
        let b32 = totp::encode_secret(&secret);
        let sealed = self.keys.seal(&secret, &totp_context(user.id));
        self.store
            .set_totp(user.id, Some(&sealed), false, self.clock.now_micros())
            .await?;
        self.audit(
            ctx,
            "auth.totp.enrol_start",
            &format!("user:{}", user.id),
            Outcome::Success,
            json!({}),
        )
        .await?;
        Ok(TotpEnrolment {
            uri: totp::provisioning_uri(&self.settings.totp_issuer, &user.login, &b32),
            secret_b32: b32,
        })
    }

    /// Finishes enrolment with a code from the authenticator; the session becomes full.
    pub async fn confirm_totp_enrolment(
        &self,
        ctx: &Ctx,
        session: &ActiveSession,
        code: &str,
        user_agent: &str,
    ) -> Result<LoggedIn, AppError> {
        let user = self.store.get_user(session.user.id).await?;
        let target = format!("user:{}", user.id);
        let secret = self.totp_secret(&user)?;
        let Some(step) = totp::verify(&secret, code, self.clock.now_secs(), None) else {
            self.audit(ctx, "auth.totp.enrol", &target, Outcome::Failure, json!({}))
                .await?;
            return Err(AppError::BadTotp);
        };
        self.store
            .set_totp(
                user.id,
                user.totp_secret.as_deref(),
                true,
                self.clock.now_micros(),
            )
            .await?;
        self.store.use_totp_step(user.id, step).await?;
        self.store.delete_session(&session.token_hash).await?;
        let token = self
            .new_session(ctx, &user, Stage::Full, user_agent)
            .await?;
        self.audit(ctx, "auth.totp.enrol", &target, Outcome::Success, json!({}))
            .await?;
        let user = self.store.get_user(user.id).await?;
        Ok(LoggedIn {
            token,
            stage: Stage::Full,
            user,
        })
    }

    /// Changes the own password; every other session of the user ends.
    pub async fn change_own_password(
        &self,
        ctx: &Ctx,
        session: &ActiveSession,
        current: &str,
        new: &str,
        user_agent: &str,
    ) -> Result<LoggedIn, AppError> {
        let user = &session.user;
        let target = format!("user:{}", user.id);
        if !verify_password(current, &user.password_hash) {
            self.audit(
                ctx,
                "account.password",
                &target,
                Outcome::Failure,
                json!({"reason": "wrong_current"}),
            )
            .await?;
            return Err(AppError::invalid(
                "current_password",
                "現在のパスワードが正しくありません",
                "the current password is wrong",
            ));
        }
        let login = LoginName::parse(&user.login)?;
        check_password(new, &login)?;
        let hash = hash_password(new)?;
        self.store
            .set_password_hash(user.id, &hash, self.clock.now_micros())
            .await?;
        self.store.delete_user_sessions(user.id).await?;
        let token = self.new_session(ctx, user, Stage::Full, user_agent).await?;
        self.audit(
            ctx,
            "account.password",
            &target,
            Outcome::Success,
            json!({}),
        )
        .await?;
        Ok(LoggedIn {
            token,
            stage: Stage::Full,
            user: user.clone(),
        })
    }

    pub async fn set_own_locale(&self, user: &User, locale: &str) -> Result<(), AppError> {
        let locale = if locale == "en" { "en" } else { "ja" };
        self.store.set_locale(user.id, locale).await?;
        Ok(())
    }
}

/// An Argon2id hash of a random string, verified against when the login name is unknown.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$3QbHzFm4Y0TjuCnPqaqHhUBxmgsB6SR4pBoiF6Rr0B0";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_hashes_are_argon2id_and_verify() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify_password("correct horse battery", &h));
        assert!(!verify_password("wrong", &h));
        assert!(!verify_password("x", "not a hash"));
        assert!(PasswordHash::new(DUMMY_HASH).is_ok());
    }

    #[test]
    fn generated_secrets() {
        let p = generate_password();
        assert_eq!(p.len(), 16);
        assert_ne!(p, generate_password());
        assert_eq!(random_token().len(), 43);
        assert_eq!(token_hash("x").len(), 64);
    }
}
