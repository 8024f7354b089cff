//! Storage for mamori: one `Store` over SQLite (the embedded default) or PostgreSQL.
//!
//! Both databases are reached through sqlx's `Any` driver, so almost every query is one static
//! SQL string with `$n` parameters that both understand; the few statements that must differ
//! (bulk inserts) are chosen by [`Backend`], still static. Migrations live in
//! `migrations/sqlite` and `migrations/postgres` with the same version numbers.
//!
//! Times are `i64` microseconds since the Unix epoch, booleans are `0/1` integers: the common
//! ground of the two databases through `Any`.

pub mod alerts;
pub mod api_tokens;
pub mod audit;
pub mod campaign_desk;
pub mod campaigns;
pub mod contractors;
pub mod decisions;
pub mod desk;
pub mod devices;
pub mod discovery;
pub mod evidence;
pub mod impact;
pub mod incidents;
pub mod inspections;
pub mod jobs;
pub mod learning;
pub mod ledger;
pub mod limits;
pub mod org;
pub mod ppc;
pub mod sessions;
pub mod testing;
pub mod users;
pub mod vault;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

pub use sqlx::Row;

/// Which database a store talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// What can go wrong in storage, in terms the layers above can act on.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the database is busy (locked by another writer); try again")]
    Busy,
    #[error("the disk holding the database is full")]
    DiskFull,
    #[error("a record with the same {0} already exists")]
    Conflict(&'static str),
    #[error("not found")]
    NotFound,
    #[error(
        "the database file {0} does not exist: make a new one with `mamori migrate --create` (or `mamori serve --create`), or check the path"
    )]
    Missing(PathBuf),
    #[error("unsupported database URL `{0}`: use sqlite://PATH or postgres://…")]
    BadUrl(String),
    #[error("database error: {0}")]
    Database(String),
    #[error("migration failed: {0}")]
    Migrate(String),
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
}

impl StoreError {
    /// Maps driver errors to the cases the application distinguishes. The detail of other
    /// errors is kept for the log; it never contains bound values.
    #[expect(
        clippy::needless_pass_by_value,
        reason = "used as map_err(|e| from_sqlx(e, …))"
    )]
    pub fn from_sqlx(e: sqlx::Error, unique_what: &'static str) -> Self {
        match &e {
            sqlx::Error::RowNotFound => StoreError::NotFound,
            sqlx::Error::Database(db) => {
                let code = db.code().map(|c| c.to_string()).unwrap_or_default();
                match code.as_str() {
                    // SQLite: SQLITE_BUSY (5), SQLITE_LOCKED (6) and their extended codes;
                    // PostgreSQL: lock_not_available, serialization_failure, deadlock.
                    "5" | "6" | "261" | "517" | "262" | "55P03" | "40001" | "40P01" => {
                        StoreError::Busy
                    }
                    // SQLite SQLITE_FULL; PostgreSQL disk_full.
                    "13" | "53100" => StoreError::DiskFull,
                    _ if db.is_unique_violation() => StoreError::Conflict(unique_what),
                    _ => StoreError::Database(db.message().to_owned()),
                }
            }
            sqlx::Error::PoolTimedOut => StoreError::Busy,
            other => StoreError::Database(other.to_string()),
        }
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        StoreError::from_sqlx(e, "key")
    }
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// The store: a connection pool and the backend it talks to.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// SQLite only: one native connection for bulk writes (vault imports), opened on first
    /// use. Through the `Any` driver every row costs several microseconds more.
    bulk: std::sync::Arc<std::sync::Mutex<Option<rusqlite::Connection>>>,
    /// SQLite only: idle native read connections for vault lookups (see
    /// `Store::lookup_in_dataset`).
    readers: std::sync::Arc<std::sync::Mutex<Vec<rusqlite::Connection>>>,
    /// SQLite only: the database file, for the native connections above (found once, at
    /// connect; `None` for PostgreSQL or a SQLite URL that names no plain file).
    sqlite_file: Option<std::sync::Arc<Path>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend)
            .finish_non_exhaustive()
    }
}

/// Where a SQLite URL points, if it is one.
pub fn sqlite_path(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or(rest);
    Some(PathBuf::from(path))
}

/// A database URL with its password hidden, for display and logs.
pub fn redact_url(url: &str) -> String {
    if let Some((scheme, rest)) = url.split_once("://") {
        if let Some((cred, host)) = rest.rsplit_once('@') {
            let user = cred.split(':').next().unwrap_or("");
            if cred.contains(':') {
                return format!("{scheme}://{user}:***@{host}");
            }
        }
    }
    url.to_owned()
}

impl Store {
    /// Opens the database at `url`. A SQLite file that does not exist is created only when
    /// `create` is true, so that a typo in a path never silently starts an empty database.
    pub async fn connect(url: &str, create: bool) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let file = sqlite_path(url);
        let (backend, url, max) = if let Some(path) = &file {
            if !path.exists() {
                if !create {
                    return Err(StoreError::Missing(path.clone()));
                }
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    create_private_dir(dir)
                        .map_err(|e| StoreError::Database(format!("{}: {e}", dir.display())))?;
                }
                // An empty file is a new database to SQLite; made here it is the owner's alone,
                // and SQLite gives its -wal and -shm files the same mode.
                create_private_file(path)
                    .map_err(|e| StoreError::Database(format!("{}: {e}", path.display())))?;
            }
            restrict_database_files(path);
            let mode = if create { "rwc" } else { "rw" };
            (
                Backend::Sqlite,
                format!("sqlite://{}?mode={mode}", path.display()),
                8,
            )
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            (Backend::Postgres, url.to_owned(), 16)
        } else {
            return Err(StoreError::BadUrl(redact_url(url)));
        };
        let opts =
            AnyConnectOptions::from_str(&url).map_err(|e| StoreError::Database(e.to_string()))?;
        let pool = AnyPoolOptions::new()
            .max_connections(max)
            .acquire_timeout(Duration::from_secs(10))
            // No ping before every use of a pooled connection: it doubled the round trips of
            // each query (a vault lookup is two queries). A connection that died while idle
            // (a restarted PostgreSQL) fails the one request that gets it and is then dropped;
            // idle connections are closed after ten minutes anyway.
            .test_before_acquire(false)
            .idle_timeout(Duration::from_mins(10))
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // WAL lets readers run beside the writer; FULL makes a commit durable
                        // once it returns; busy_timeout waits for a lock instead of failing.
                        conn.execute("PRAGMA journal_mode = WAL").await?;
                        conn.execute("PRAGMA synchronous = FULL").await?;
                        conn.execute("PRAGMA busy_timeout = 5000").await?;
                        conn.execute("PRAGMA foreign_keys = ON").await?;
                        // Deleted content (a shredded data key, a scrubbed record) is
                        // overwritten with zeros, not left in free pages.
                        conn.execute("PRAGMA secure_delete = ON").await?;
                        // 32 MiB of page cache per connection (the default is 2 MiB): the
                        // blind index is a B-tree of random keys that bulk imports walk.
                        conn.execute("PRAGMA cache_size = -32768").await?;
                    }
                    Ok(())
                })
            })
            .connect_with(opts)
            .await
            .map_err(|e| match e {
                sqlx::Error::Database(_) => StoreError::from(e),
                other => {
                    StoreError::Database(format!("cannot connect to {}: {other}", redact_url(&url)))
                }
            })?;
        Ok(Store {
            pool,
            backend,
            bulk: std::sync::Arc::default(),
            readers: std::sync::Arc::default(),
            sqlite_file: file.filter(|p| p.is_file()).map(std::sync::Arc::from),
        })
    }

    /// Applies the migrations that are not yet applied.
    pub async fn migrate(&self) -> Result<()> {
        let m = match self.backend {
            Backend::Sqlite => sqlx::migrate!("./migrations/sqlite"),
            Backend::Postgres => sqlx::migrate!("./migrations/postgres"),
        };
        m.run(&self.pool)
            .await
            .map_err(|e| StoreError::Migrate(e.to_string()))
    }

    /// Applies the migrations up to and including `version` that are not yet applied: a
    /// database as an older release left it, for tests of an upgrade (`migrate` then applies
    /// the rest).
    pub async fn migrate_to(&self, version: i64) -> Result<()> {
        let all = match self.backend {
            Backend::Sqlite => sqlx::migrate!("./migrations/sqlite"),
            Backend::Postgres => sqlx::migrate!("./migrations/postgres"),
        };
        let m = sqlx::migrate::Migrator {
            migrations: all
                .iter()
                .filter(|x| x.version <= version)
                .cloned()
                .collect::<Vec<_>>()
                .into(),
            ..all
        };
        m.run(&self.pool)
            .await
            .map_err(|e| StoreError::Migrate(e.to_string()))
    }

    /// The migrations this binary knows and which of them the database has applied.
    pub async fn migration_status(&self) -> Result<Vec<(i64, String, bool)>> {
        let m = match self.backend {
            Backend::Sqlite => sqlx::migrate!("./migrations/sqlite"),
            Backend::Postgres => sqlx::migrate!("./migrations/postgres"),
        };
        let applied: Vec<i64> = sqlx::query_scalar("SELECT version FROM _sqlx_migrations")
            .fetch_all(&self.pool)
            .await
            .unwrap_or_default();
        Ok(m.iter()
            .map(|x| {
                (
                    x.version,
                    x.description.to_string(),
                    applied.contains(&x.version),
                )
            })
            .collect())
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The SQLite database file, when the store is one (native connections open it).
    pub(crate) fn sqlite_file(&self) -> Option<&Path> {
        self.sqlite_file.as_deref()
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// A cheap round trip, for `/healthz`.
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    pub async fn close(&self) {
        *self
            .bulk
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = None;
        self.readers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clear();
        self.pool.close().await;
    }

    pub async fn get_setting(&self, name: &str) -> Result<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT value FROM settings WHERE name = $1")
                .bind(name)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    pub async fn set_setting(&self, name: &str, value: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO settings (name, value) VALUES ($1, $2) \
             ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        )
        .bind(name)
        .bind(value)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}

pub(crate) fn flag(b: bool) -> i64 {
    i64::from(b)
}

/// An UPDATE of one row by id: no row changed means the id does not exist.
/// Creates a directory and its missing parents, readable only by the owner (0700 on Unix):
/// the data directory holds the database, the key directory the keys.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(dir)
}

/// Creates an empty file readable only by the owner (0600 on Unix); fails if it exists.
pub fn create_private_file(path: &Path) -> std::io::Result<()> {
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    o.open(path).map(drop)
}

/// Takes group and other access away from a SQLite database and its -wal and -shm files (an
/// installation made before they were created 0600 had them 0644).
fn restrict_database_files(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mut names = vec![path.to_path_buf()];
        for suffix in ["-wal", "-shm"] {
            let mut p = path.as_os_str().to_owned();
            p.push(suffix);
            names.push(PathBuf::from(p));
        }
        for p in names {
            if let Ok(m) = std::fs::metadata(&p) {
                if m.permissions().mode() & 0o077 != 0 {
                    if let Err(e) =
                        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600))
                    {
                        tracing::warn!(file = %p.display(), error = %e, "cannot make the database file private");
                    }
                }
            }
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

pub(crate) fn one_row(result: &sqlx::any::AnyQueryResult) -> Result<()> {
    if result.rows_affected() == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}
