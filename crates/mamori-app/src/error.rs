//! The errors of the use cases, with messages for people in Japanese and English.
//!
//! Messages shown to a user never include internal detail; the detail of an internal error goes
//! to the log (without personal data) and the user sees a generic message and a request id.

use mamori_store::StoreError;

/// Something the user can correct, named precisely.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The form field concerned, when there is one.
    pub field: Option<&'static str>,
    pub ja: String,
    pub en: String,
    /// The other problems found in the same input, in the order they were found (a form shows
    /// every one at its field, not only the first).
    pub more: Vec<Problem>,
}

impl Problem {
    pub fn new(field: Option<&'static str>, ja: impl Into<String>, en: impl Into<String>) -> Self {
        Problem {
            field,
            ja: ja.into(),
            en: en.into(),
            more: Vec::new(),
        }
    }

    /// This problem and every other one found with it, each without its `more`.
    pub fn all(&self) -> Vec<Problem> {
        let mut out = vec![Problem {
            more: Vec::new(),
            ..self.clone()
        }];
        for p in &self.more {
            out.extend(p.all());
        }
        out
    }

    pub fn message(&self, lang: &str) -> &str {
        if lang == "en" {
            &self.en
        } else {
            &self.ja
        }
    }
}

impl From<mamori_domain::text::TextError> for Problem {
    fn from(e: mamori_domain::text::TextError) -> Self {
        use mamori_domain::text::TextError as T;
        let (field, ja): (&'static str, String) = match &e {
            T::LoginName => (
                "login",
                "ログイン名は英小文字・数字・「.」「_」「-」の3〜64文字にしてください".into(),
            ),
            T::DisplayName => (
                "display_name",
                "氏名は1〜100文字で入力してください（制御文字は使えません）".into(),
            ),
            T::PasswordTooShort { min } => (
                "password",
                format!("パスワードは{min}文字以上にしてください"),
            ),
            T::PasswordTooLong => ("password", "パスワードは1024文字以内にしてください".into()),
            T::PasswordContainsLogin => (
                "password",
                "パスワードにログイン名を含めることはできません".into(),
            ),
            T::Email => ("email", "メールアドレスの形式が正しくありません".into()),
            T::Name => ("name", "名称は1〜100文字で入力してください".into()),
        };
        Problem::new(Some(field), ja, e.to_string())
    }
}

/// Collects every problem of an input instead of stopping at the first, so that a form can show
/// them all: `let x = ps.check(parse(..))?;` keeps going on a problem (giving `None`) and stops
/// only on an error that is not a problem of the input; `ps.done()?` then fails with them all.
#[derive(Debug, Default)]
pub struct Problems(Vec<Problem>);

impl Problems {
    pub fn new() -> Self {
        Problems::default()
    }

    /// The value, or `None` after noting the problem; any other error is returned.
    pub fn check<T>(&mut self, r: Result<T, AppError>) -> Result<Option<T>, AppError> {
        match r {
            Ok(v) => Ok(Some(v)),
            Err(AppError::Invalid(p)) => {
                self.0.extend(p.all());
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    pub fn push(&mut self, p: impl Into<Problem>) {
        self.0.extend(p.into().all());
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Ok` when nothing was wrong; otherwise one `Invalid` carrying every problem.
    pub fn done(self) -> Result<(), AppError> {
        let mut it = self.0.into_iter();
        match it.next() {
            None => Ok(()),
            Some(mut first) => {
                first.more = it.collect();
                Err(AppError::Invalid(first))
            }
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// No valid session (never logged in, logged out, expired).
    #[error("not logged in")]
    Unauthenticated,
    /// Logged in, but no role grants this.
    #[error("permission denied")]
    Denied,
    #[error("not found")]
    NotFound,
    /// Bad input; nothing was changed.
    #[error("invalid input: {}", .0.en)]
    Invalid(Problem),
    /// Too many failed logins; try again after this many seconds.
    #[error("too many attempts; retry after {0} s")]
    Throttled(i64),
    /// Wrong login name or password (deliberately not saying which).
    #[error("wrong login name or password")]
    BadCredentials,
    #[error("wrong or already used one-time code")]
    BadTotp,
    /// Too many wrong one-time codes: the second factor stays locked until an administrator
    /// unlocks it (`mamori admin unlock`, or the user's admin page).
    #[error(
        "the second factor is locked after too many wrong codes; an administrator must unlock it"
    )]
    TotpLocked,
    /// Every password-hashing slot stayed busy for the configured wait: answer 503 rather than
    /// queue without end.
    #[error("too many logins at once; try again shortly")]
    Overloaded,
    #[error("the database is busy")]
    Busy,
    #[error("the disk is full")]
    DiskFull,
    #[error("internal error: {0}")]
    Internal(String),
}

impl AppError {
    pub fn invalid(field: &'static str, ja: impl Into<String>, en: impl Into<String>) -> Self {
        AppError::Invalid(Problem::new(Some(field), ja, en))
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Busy => AppError::Busy,
            StoreError::DiskFull => AppError::DiskFull,
            StoreError::NotFound => AppError::NotFound,
            StoreError::Conflict(
                what @ ("incident version"
                | "publication record"
                | "recurrence step"
                | "version (somebody else changed it)"
                | "import progress (another process is running this import, or it was finished or rolled back)"),
            ) => {
                AppError::Invalid(Problem::new(
                    None,
                    "ほかの人が先に更新しました。画面を読み込み直して確認してから、もう一度操作してください",
                    format!("somebody else changed this first ({what}); reload and try again"),
                ))
            }
            StoreError::Conflict(what) => AppError::Invalid(Problem::new(
                None,
                format!("同じ{}がすでに登録されています", japanese_key(what)),
                format!("a record with the same {what} already exists"),
            )),
            other => AppError::Internal(other.to_string()),
        }
    }
}

fn japanese_key(what: &str) -> &'static str {
    match what {
        "login name" => "ログイン名",
        "company code" => "会社コード",
        _ => "キー",
    }
}

impl From<mamori_domain::text::TextError> for AppError {
    fn from(e: mamori_domain::text::TextError) -> Self {
        AppError::Invalid(e.into())
    }
}
