//! Validated values that cross the edge of the system: login names, display names, passwords.
//!
//! Parse at the edge, trust inside: a `LoginName` cannot hold something that would break a log
//! line or a URL.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    #[error("login name must be 3–64 characters of a–z, 0–9, '.', '_' or '-'")]
    LoginName,
    #[error("display name must be 1–100 characters without control characters")]
    DisplayName,
    #[error("password must be at least {min} characters long")]
    PasswordTooShort { min: usize },
    #[error("password must be at most 1024 characters long")]
    PasswordTooLong,
    #[error("password must not contain the login name")]
    PasswordContainsLogin,
    #[error("e-mail address is not valid")]
    Email,
    #[error("name must be 1–100 characters without control characters")]
    Name,
}

/// A login name: lower-case ASCII, 3–64 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LoginName(String);

impl LoginName {
    pub fn parse(s: &str) -> Result<Self, TextError> {
        let s = s.trim().to_ascii_lowercase();
        let ok = (3..=64).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
        if ok {
            Ok(LoginName(s))
        } else {
            Err(TextError::LoginName)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for LoginName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn plain_text(s: &str, max: usize) -> Option<String> {
    let s = s.trim();
    let n = s.chars().count();
    if n == 0 || n > max || s.chars().any(char::is_control) {
        None
    } else {
        Some(s.to_owned())
    }
}

/// A person's name as shown in the interface (山田 太郎).
pub fn display_name(s: &str) -> Result<String, TextError> {
    plain_text(s, 100).ok_or(TextError::DisplayName)
}

/// A company or department name.
pub fn org_name(s: &str) -> Result<String, TextError> {
    plain_text(s, 100).ok_or(TextError::Name)
}

/// A deliberately simple address check: one `@`, a dot in the domain, no spaces.
pub fn email(s: &str) -> Result<String, TextError> {
    let s = s.trim();
    let Some((local, domain)) = s.split_once('@') else {
        return Err(TextError::Email);
    };
    let ok = !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && s.len() <= 254
        && !s.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok {
        Ok(s.to_owned())
    } else {
        Err(TextError::Email)
    }
}

pub const MIN_PASSWORD_CHARS: usize = 12;

/// The password policy: long rather than complex (NIST SP 800-63B), not the login name.
pub fn check_password(password: &str, login: &LoginName) -> Result<(), TextError> {
    let n = password.chars().count();
    if n < MIN_PASSWORD_CHARS {
        return Err(TextError::PasswordTooShort {
            min: MIN_PASSWORD_CHARS,
        });
    }
    if n > 1024 {
        return Err(TextError::PasswordTooLong);
    }
    if password.to_lowercase().contains(login.as_str()) {
        return Err(TextError::PasswordContainsLogin);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_names() {
        assert_eq!(LoginName::parse(" Sato.K ").unwrap().as_str(), "sato.k");
        for bad in ["ab", "山田", "a b", "x;drop", &"a".repeat(65)] {
            assert!(LoginName::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn passwords() {
        let login = LoginName::parse("sato").unwrap();
        assert!(check_password("short", &login).is_err());
        assert!(check_password("my-sato-password", &login).is_err());
        assert!(check_password("correct horse battery", &login).is_ok());
        assert!(check_password("パスワードは十二文字以上です", &login).is_ok());
    }

    #[test]
    fn names_and_mail() {
        assert_eq!(display_name(" 山田 太郎 ").unwrap(), "山田 太郎");
        assert!(display_name("").is_err());
        assert!(display_name("a\u{0}b").is_err());
        assert!(email("taro@example.co.jp").is_ok());
        assert!(email("taro@localhost").is_err());
        assert!(email("ta ro@example.jp").is_err());
    }
}
