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
use mamori_domain::net::throttle_key_of;
use mamori_domain::text::{check_password, LoginName};
use mamori_domain::totp;
use mamori_store::sessions::{SessionRow, Stage};
use mamori_store::users::User;
use rand::RngCore;
use serde_json::json;
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

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

/// Runs Argon2 on the blocking thread pool, at most `permits` at once.
///
/// An Argon2id check takes 19 MiB and tens of milliseconds of a core; run on the async workers
/// it would stall every other request, and unbounded it lets a burst of logins exhaust memory.
/// A request waits a bounded time for a slot and is then answered 503 ([`AppError::Overloaded`])
/// instead of queueing without end. The permit moves into the blocking task, so a slot stays
/// taken until the hash is done even when the client has gone away.
#[derive(Clone)]
pub struct Argon2Pool {
    permits: Arc<Semaphore>,
    size: usize,
    wait: Duration,
}

impl std::fmt::Debug for Argon2Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Argon2Pool")
            .field("size", &self.size)
            .field("available", &self.permits.available_permits())
            .field("wait", &self.wait)
            .finish_non_exhaustive()
    }
}

impl Argon2Pool {
    pub fn new(permits: usize, wait_millis: u64) -> Argon2Pool {
        let size = permits.max(1);
        Argon2Pool {
            permits: Arc::new(Semaphore::new(size)),
            size,
            wait: Duration::from_millis(wait_millis),
        }
    }

    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, AppError> {
        let permit = tokio::time::timeout(self.wait, self.permits.clone().acquire_owned())
            .await
            .map_err(|_| AppError::Overloaded)?
            .map_err(|_| AppError::Overloaded)?;
        tokio::task::spawn_blocking(move || {
            let out = f();
            drop(permit);
            out
        })
        .await
        .map_err(|e| AppError::Internal(format!("password hashing task: {e}")))
    }

    /// Hashes a new password.
    pub async fn hash(&self, password: &str) -> Result<String, AppError> {
        let password = password.to_owned();
        self.run(move || hash_password(&password)).await?
    }

    /// Checks a password against a stored hash.
    pub async fn verify(&self, password: &str, hash: &str) -> Result<bool, AppError> {
        let (password, hash) = (password.to_owned(), hash.to_owned());
        self.run(move || verify_password(&password, &hash)).await
    }

    /// Takes every slot, as a burst of logins would (tests use it to show the 503); the slots
    /// are free again when the returned permit is dropped.
    pub fn occupy_all(&self) -> Option<OwnedSemaphorePermit> {
        let n = u32::try_from(self.size).ok()?;
        self.permits.clone().try_acquire_many_owned(n).ok()
    }
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
    /// True when a role of the user requires a second factor the user has not enrolled yet;
    /// such a user has no full session and no working API token.
    pub fn must_enrol(user: &User) -> bool {
        user.roles.requires_totp() && !user.totp_enabled
    }

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
        company: Option<i64>,
        login: &str,
        action: &str,
        target: &str,
    ) -> Result<(), AppError> {
        if let Some(wait) = self
            .throttled("account", login, self.settings.max_failures_per_account)
            .await?
        {
            self.audit_in(
                ctx,
                company,
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

    /// Refuses (and records) a login step from an address (an IPv6 /64) blocked by failures.
    async fn refuse_if_address_blocked(
        &self,
        ctx: &Ctx,
        action: &str,
        target: &str,
    ) -> Result<(), AppError> {
        if let Some(wait) = self
            .throttled(
                "ip",
                &throttle_key_of(&ctx.ip),
                self.settings.max_failures_per_ip,
            )
            .await?
        {
            self.audit(
                ctx,
                action,
                target,
                Outcome::Denied,
                json!({"reason": "ip_throttled"}),
            )
            .await?;
            return Err(AppError::Throttled(wait));
        }
        Ok(())
    }

    async fn note_failure(&self, ctx: &Ctx, login: Option<&str>) -> Result<(), AppError> {
        let now = self.clock.now_micros();
        self.store
            .record_login_failure("ip", &throttle_key_of(&ctx.ip), now)
            .await?;
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
        self.refuse_if_address_blocked(ctx, "auth.login", "ip")
            .await?;
        let user = match &name {
            Some(n) => self.store.find_user_by_login(n.as_str()).await?,
            None => None,
        };
        // The attempted name is recorded only when it is a real account: a mistyped name is
        // often a password typed into the wrong box.
        let target = user
            .as_ref()
            .map_or_else(|| "user:unknown".to_owned(), |u| format!("user:{}", u.id));
        // The account counter is kept under the name asked for, whether or not an account has
        // it: were it consulted only for real accounts, the sixth try would answer "locked"
        // for a real name and "wrong password" for an unknown one, telling them apart.
        // A refused or failed login on a real account belongs to that account's company, so
        // the company's auditor sees the attempts on its people; an unknown name belongs to
        // no company (only a group auditor sees it).
        let company = user.as_ref().map(|u| u.company_id);
        if let Some(n) = &name {
            self.refuse_if_locked(ctx, company, n.as_str(), "auth.login", &target)
                .await?;
        }
        // An unknown name is checked against a dummy hash with the same parameters, so that
        // it costs the same time (and the same Argon2 slot) as a real check.
        let hash = user
            .as_ref()
            .map_or(DUMMY_HASH, |u| u.password_hash.as_str());
        let verified = self.argon2.verify(password, hash).await?;
        let ok = verified && user.as_ref().is_some_and(|u| !u.disabled);
        let Some(user) = user.filter(|_| ok) else {
            self.note_failure(ctx, name.as_ref().map(LoginName::as_str))
                .await?;
            self.audit_in(
                ctx,
                company,
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
        // A role that requires a second factor, given after this session was made, ends it:
        // the user logs in again and enrols before anything else.
        if s.stage == Stage::Full && Self::must_enrol(&user) {
            self.store.delete_session(&h).await?;
            return Ok(None);
        }
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
        // Codes are guessed from one address as passwords are: the same per-address limit.
        self.refuse_if_address_blocked(ctx, "auth.totp", &target)
            .await?;
        // The lock that only an administrator lifts is named before the one that expires.
        let max = self.settings.max_totp_failures;
        if user.totp_failures >= max {
            return Err(self
                .totp_locked_refusal(ctx, user.company_id, &target)
                .await);
        }
        self.refuse_if_locked(
            ctx,
            Some(user.company_id),
            &user.login,
            "auth.totp",
            &target,
        )
        .await?;
        // The attempt is counted before the code is checked (so parallel guesses cannot pass
        // the limit); only a right code clears the count, a right password does not.
        let Some(attempt) = self.store.take_totp_attempt(user.id, max).await? else {
            return Err(self
                .totp_locked_refusal(ctx, user.company_id, &target)
                .await);
        };
        let secret = self.totp_secret(user)?;
        let accepted = totp::verify(&secret, code, self.clock.now_secs(), user.totp_last_step);
        let used = match accepted {
            Some(step) => self.store.use_totp_step(user.id, step).await?,
            None => false,
        };
        if !used {
            self.note_failure(ctx, Some(&user.login)).await?;
            self.audit_in(
                ctx,
                Some(user.company_id),
                "auth.totp",
                &target,
                Outcome::Failure,
                json!({"failures": attempt}),
            )
            .await?;
            if attempt >= max {
                self.audit_in(
                    ctx,
                    Some(user.company_id),
                    "auth.totp.lock",
                    &target,
                    Outcome::Success,
                    json!({"failures": attempt}),
                )
                .await?;
                return Err(AppError::TotpLocked);
            }
            return Err(AppError::BadTotp);
        }
        self.store.clear_totp_failures(user.id).await?;
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

    /// Records a code refused because the second factor is locked, and the error to answer.
    async fn totp_locked_refusal(&self, ctx: &Ctx, company: i64, target: &str) -> AppError {
        match self
            .audit_in(
                ctx,
                Some(company),
                "auth.totp",
                target,
                Outcome::Denied,
                json!({"reason": "totp_locked"}),
            )
            .await
        {
            Ok(_) => AppError::TotpLocked,
            Err(e) => e,
        }
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
        self.store.clear_totp_failures(user.id).await?;
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

    /// Changes the own password; every other session of the user ends and every API token of
    /// the user is revoked (whoever learnt the old password may have made one).
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
        if !self.argon2.verify(current, &user.password_hash).await? {
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
        let hash = self.argon2.hash(new).await?;
        let now = self.clock.now_micros();
        self.store.set_password_hash(user.id, &hash, now).await?;
        self.store.delete_user_sessions(user.id).await?;
        let revoked = self.store.revoke_user_api_tokens(user.id, now).await?;
        let token = self.new_session(ctx, user, Stage::Full, user_agent).await?;
        self.audit(
            ctx,
            "account.password",
            &target,
            Outcome::Success,
            json!({"api_tokens_revoked": revoked}),
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
