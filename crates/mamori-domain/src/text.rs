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

/// How many terminal columns `c` takes: 2 for East Asian wide and full-width characters (kanji,
/// kana, Hangul, full-width forms), 0 for combining marks and zero-width characters, 1 otherwise.
///
/// A deliberately small table rather than the whole of Unicode's East Asian Width property: it
/// covers the scripts a Japanese company's names are written in, which is what the command
/// line's tables show.
#[must_use]
pub fn char_width(c: char) -> usize {
    let u = u32::from(c);
    let zero = matches!(u,
        0x0300..=0x036F      // combining diacritical marks
        | 0x1AB0..=0x1AFF
        | 0x1DC0..=0x1DFF
        | 0x200B..=0x200F    // zero-width space, joiners, direction marks
        | 0x20D0..=0x20FF
        | 0x3099..=0x309A    // combining (han)dakuten
        | 0xFE00..=0xFE0F    // variation selectors
        | 0xFE20..=0xFE2F
        | 0xE0100..=0xE01EF) // ideographic variation selectors
        || c.is_control();
    if zero {
        return 0;
    }
    let wide = matches!(u,
        0x1100..=0x115F      // Hangul Jamo leading consonants
        | 0x2E80..=0x303E    // CJK radicals, symbols and punctuation (、。「」)
        | 0x3041..=0x33FF    // hiragana, katakana, CJK compatibility
        | 0x3400..=0x4DBF    // CJK extension A
        | 0x4E00..=0x9FFF    // CJK unified ideographs
        | 0xA960..=0xA97F
        | 0xAC00..=0xD7A3    // Hangul syllables
        | 0xF900..=0xFAFF    // CJK compatibility ideographs
        | 0xFE30..=0xFE4F
        | 0xFF00..=0xFF60    // full-width forms (ＡＢＣ、１２３)
        | 0xFFE0..=0xFFE6
        | 0x1F300..=0x1F64F  // emoji
        | 0x1F900..=0x1F9FF
        | 0x20000..=0x3FFFD); // CJK extensions B and beyond
    if wide {
        2
    } else {
        1
    }
}

/// How many terminal columns `s` takes (see [`char_width`]).
#[must_use]
pub fn display_width(s: &str) -> usize {
    s.chars().map(char_width).sum()
}

/// `s` followed by spaces up to `width` columns; never cut.
#[must_use]
pub fn pad_to_width(s: &str, width: usize) -> String {
    let pad = width.saturating_sub(display_width(s));
    let mut out = String::with_capacity(s.len() + pad);
    out.push_str(s);
    out.extend(std::iter::repeat_n(' ', pad));
    out
}

/// A plain-text table for a terminal: each column padded to its widest cell by display width,
/// one space between columns, the last column unpadded, every line ending in a newline.
#[must_use]
pub fn text_table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| display_width(h)).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(display_width(cell));
            } else {
                widths.push(display_width(cell));
            }
        }
    }
    let mut out = String::new();
    let header: Vec<String> = header.iter().map(|h| (*h).to_owned()).collect();
    for row in std::iter::once(&header).chain(rows) {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            if i > 0 {
                line.push(' ');
            }
            if i + 1 == row.len() {
                line.push_str(cell);
            } else {
                line.push_str(&pad_to_width(cell, widths[i]));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
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
    #[test]
    fn widths_count_wide_characters_twice() {
        assert_eq!(display_width("sato"), 4);
        assert_eq!(display_width("山田 太郎"), 9);
        assert_eq!(display_width("ヤマダ"), 6);
        assert_eq!(display_width("ｶﾅ"), 2); // half-width katakana stay narrow
        assert_eq!(display_width("ＡＢ１"), 6);
        assert_eq!(display_width("김민수"), 6);
        assert_eq!(display_width("e\u{301}"), 1);
        assert_eq!(display_width("か\u{3099}"), 2);
        assert_eq!(pad_to_width("山田", 6), "山田  ");
        assert_eq!(pad_to_width("山田太郎", 4), "山田太郎");
    }

    #[test]
    fn text_tables_line_up_japanese_names() {
        let rows = vec![
            vec![
                "sato".to_owned(),
                "佐藤 花子".to_owned(),
                "総務部".to_owned(),
                "admin".to_owned(),
            ],
            vec![
                "yamada".to_owned(),
                "Yamada Taro".to_owned(),
                "IT".to_owned(),
                "staff".to_owned(),
            ],
        ];
        let t = text_table(&["login", "name", "department", "roles"], &rows);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines.len(), 3);
        // The roles column starts at the same terminal column on every line.
        let col = |l: &str| display_width(&l[..l.rfind(' ').unwrap()]);
        assert_eq!(col(lines[0]), col(lines[1]));
        assert_eq!(col(lines[1]), col(lines[2]));
        assert_eq!(lines[1], "sato   佐藤 花子   総務部     admin");
        assert_eq!(lines[2], "yamada Yamada Taro IT         staff");
    }
}

/// Text typed into a one-line field, made safe to store and show on one line: control
/// characters (line breaks, tabs, NUL) become spaces, runs of spaces one, and the ends are
/// trimmed. Nothing else changes: what a person typed stays as typed.
pub fn single_line(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut space = false;
    for c in s.chars() {
        if c.is_control() || c == ' ' {
            space = true;
        } else {
            if space && !out.is_empty() {
                out.push(' ');
            }
            space = false;
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod single_line_tests {
    #[test]
    fn control_characters_become_one_space() {
        assert_eq!(
            super::single_line("  鍵付きの\r\n棚が\t\0足りない  "),
            "鍵付きの 棚が 足りない"
        );
        assert_eq!(super::single_line("\n\n"), "");
        assert_eq!(
            super::single_line("全角　スペースは残す"),
            "全角　スペースは残す"
        );
    }
}
