//! Users and their roles.

use crate::{flag, one_row, Result, Store, StoreError};
use mamori_domain::role::{Role, Roles};
use sqlx::any::AnyRow;
use sqlx::Row;
use std::fmt;

/// A user as stored. `Debug` leaves out the e-mail address and the secrets.
#[derive(Clone, PartialEq, Eq)]
pub struct User {
    pub id: i64,
    pub company_id: i64,
    pub department_id: i64,
    pub login: String,
    pub display_name: String,
    pub email: String,
    pub password_hash: String,
    /// The TOTP secret, sealed with the instance key (never stored in the clear).
    pub totp_secret: Option<String>,
    pub totp_enabled: bool,
    pub totp_last_step: Option<i64>,
    pub locale: String,
    pub disabled: bool,
    pub roles: Roles,
    pub created_at: i64,
    /// Wrong second-factor codes since the last right one; at the limit the second factor is
    /// locked until an administrator unlocks it.
    pub totp_failures: i64,
}

impl fmt::Debug for User {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("login", &self.login)
            .field("company_id", &self.company_id)
            .field("department_id", &self.department_id)
            .field("roles", &self.roles)
            .field("disabled", &self.disabled)
            .field("totp_failures", &self.totp_failures)
            .finish_non_exhaustive()
    }
}

/// What it takes to create a user.
pub struct NewUser<'a> {
    pub company_id: i64,
    pub department_id: i64,
    pub login: &'a str,
    pub display_name: &'a str,
    pub email: &'a str,
    pub password_hash: &'a str,
    pub roles: &'a [Role],
    pub locale: &'a str,
}

fn user_from_row(r: &AnyRow, roles: Roles) -> User {
    user_from_row_at(r, 0, roles)
}

/// A user from the fourteen columns of `get_user`'s SELECT, starting at column `at`.
pub(crate) fn user_from_row_at(r: &AnyRow, at: usize, roles: Roles) -> User {
    User {
        id: r.get(at),
        company_id: r.get(at + 1),
        department_id: r.get(at + 2),
        login: r.get(at + 3),
        display_name: r.get(at + 4),
        email: r.get(at + 5),
        password_hash: r.get(at + 6),
        totp_secret: r.get(at + 7),
        totp_enabled: r.get::<i64, _>(at + 8) != 0,
        totp_last_step: r.get(at + 9),
        locale: r.get(at + 10),
        disabled: r.get::<i64, _>(at + 11) != 0,
        roles,
        created_at: r.get(at + 12),
        totp_failures: r.get(at + 13),
    }
}

pub(crate) fn parse_roles(codes: &[String]) -> Result<Roles> {
    let roles = codes
        .iter()
        .map(|c| c.parse::<Role>())
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
    Ok(Roles::new(roles))
}

impl Store {
    pub async fn create_user(&self, u: &NewUser<'_>, now: i64) -> Result<i64> {
        let mut tx = self.pool().begin().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO users (company_id, department_id, login, display_name, email, \
             password_hash, locale, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id",
        )
        .bind(u.company_id)
        .bind(u.department_id)
        .bind(u.login)
        .bind(u.display_name)
        .bind(u.email)
        .bind(u.password_hash)
        .bind(u.locale)
        .bind(now)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| StoreError::from_sqlx(e, "login name"))?;
        for r in u.roles {
            sqlx::query("INSERT INTO user_roles (user_id, role) VALUES ($1, $2)")
                .bind(id)
                .bind(r.code())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(id)
    }

    async fn roles_of(&self, user_id: i64) -> Result<Roles> {
        let codes: Vec<String> =
            sqlx::query_scalar("SELECT role FROM user_roles WHERE user_id = $1 ORDER BY role")
                .bind(user_id)
                .fetch_all(self.pool())
                .await?;
        parse_roles(&codes)
    }

    pub async fn get_user(&self, id: i64) -> Result<User> {
        let r = sqlx::query(
            "SELECT id, company_id, department_id, login, display_name, email, password_hash, \
             totp_secret, totp_enabled, totp_last_step, locale, disabled, created_at, totp_failures \
             FROM users WHERE id = $1",
        )
        .bind(id)
        .fetch_one(self.pool())
        .await?;
        let roles = self.roles_of(id).await?;
        Ok(user_from_row(&r, roles))
    }

    pub async fn find_user_by_login(&self, login: &str) -> Result<Option<User>> {
        let r = sqlx::query(
            "SELECT id, company_id, department_id, login, display_name, email, password_hash, \
             totp_secret, totp_enabled, totp_last_step, locale, disabled, created_at, totp_failures \
             FROM users WHERE login = $1",
        )
        .bind(login)
        .fetch_optional(self.pool())
        .await?;
        match r {
            None => Ok(None),
            Some(r) => {
                let id: i64 = r.get(0);
                let roles = self.roles_of(id).await?;
                Ok(Some(user_from_row(&r, roles)))
            }
        }
    }

    /// All users, or those of one company, ordered by login name.
    pub async fn list_users(&self, company_id: Option<i64>) -> Result<Vec<User>> {
        let rows = sqlx::query(
            "SELECT id, company_id, department_id, login, display_name, email, password_hash, \
             totp_secret, totp_enabled, totp_last_step, locale, disabled, created_at, totp_failures \
             FROM users WHERE (CAST($1 AS BIGINT) IS NULL OR company_id = $1) ORDER BY login",
        )
        .bind(company_id)
        .fetch_all(self.pool())
        .await?;
        let role_rows = sqlx::query("SELECT user_id, role FROM user_roles ORDER BY user_id")
            .fetch_all(self.pool())
            .await?;
        let mut by_user: std::collections::HashMap<i64, Vec<String>> =
            std::collections::HashMap::new();
        for r in role_rows {
            by_user.entry(r.get(0)).or_default().push(r.get(1));
        }
        rows.iter()
            .map(|r| {
                let id: i64 = r.get(0);
                let roles = parse_roles(&by_user.remove(&id).unwrap_or_default())?;
                Ok(user_from_row(r, roles))
            })
            .collect()
    }

    pub async fn count_users(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(self.pool())
            .await?)
    }

    pub async fn update_user_profile(
        &self,
        id: i64,
        display_name: &str,
        email: &str,
        department_id: i64,
        now: i64,
    ) -> Result<()> {
        one_row(&sqlx::query(
            "UPDATE users SET display_name = $1, email = $2, department_id = $3, updated_at = $4 \
             WHERE id = $5",
        )
        .bind(display_name)
        .bind(email)
        .bind(department_id)
        .bind(now)
        .bind(id)
        .execute(self.pool())
        .await?)
    }

    pub async fn set_user_roles(&self, id: i64, roles: &[Role]) -> Result<()> {
        let mut tx = self.pool().begin().await?;
        sqlx::query("DELETE FROM user_roles WHERE user_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        for r in roles {
            sqlx::query("INSERT INTO user_roles (user_id, role) VALUES ($1, $2)")
                .bind(id)
                .bind(r.code())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn set_password_hash(&self, id: i64, hash: &str, now: i64) -> Result<()> {
        one_row(
            &sqlx::query("UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3")
                .bind(hash)
                .bind(now)
                .bind(id)
                .execute(self.pool())
                .await?,
        )
    }

    pub async fn set_disabled(&self, id: i64, disabled: bool, now: i64) -> Result<()> {
        one_row(
            &sqlx::query("UPDATE users SET disabled = $1, updated_at = $2 WHERE id = $3")
                .bind(flag(disabled))
                .bind(now)
                .bind(id)
                .execute(self.pool())
                .await?,
        )
    }

    pub async fn set_locale(&self, id: i64, locale: &str) -> Result<()> {
        sqlx::query("UPDATE users SET locale = $1 WHERE id = $2")
            .bind(locale)
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Stores a (sealed) TOTP secret; `enabled` is false while the user has not yet proven
    /// that the authenticator works.
    pub async fn set_totp(
        &self,
        id: i64,
        sealed_secret: Option<&str>,
        enabled: bool,
        now: i64,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE users SET totp_secret = $1, totp_enabled = $2, totp_last_step = NULL, \
             updated_at = $3 WHERE id = $4",
        )
        .bind(sealed_secret)
        .bind(flag(enabled))
        .bind(now)
        .bind(id)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Records the time step of an accepted code. Fails (returns false) when another request
    /// already used this or a later step, so that a code can be used once, even by two
    /// servers at the same moment.
    pub async fn use_totp_step(&self, id: i64, step: i64) -> Result<bool> {
        let n = sqlx::query(
            "UPDATE users SET totp_last_step = $1 \
             WHERE id = $2 AND (totp_last_step IS NULL OR totp_last_step < $1)",
        )
        .bind(step)
        .bind(id)
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    /// Counts one more second-factor attempt before the code is checked, unless the second
    /// factor is locked (`limit` failures reached): the new count, or `None` when locked.
    /// Counting first, in one statement, means parallel guesses cannot overshoot the limit;
    /// a right code then clears the count with [`Store::clear_totp_failures`].
    pub async fn take_totp_attempt(&self, id: i64, limit: i64) -> Result<Option<i64>> {
        Ok(sqlx::query_scalar(
            "UPDATE users SET totp_failures = totp_failures + 1 \
             WHERE id = $1 AND totp_failures < $2 RETURNING totp_failures",
        )
        .bind(id)
        .bind(limit)
        .fetch_optional(self.pool())
        .await?)
    }

    /// Clears the second-factor failure count (a right code, or an administrator's unlock);
    /// true when there was something to clear.
    pub async fn clear_totp_failures(&self, id: i64) -> Result<bool> {
        let n =
            sqlx::query("UPDATE users SET totp_failures = 0 WHERE id = $1 AND totp_failures <> 0")
                .bind(id)
                .execute(self.pool())
                .await?
                .rows_affected();
        Ok(n == 1)
    }
}
