//! Databases for tests: a fresh SQLite file, and a fresh PostgreSQL database when the test
//! environment names a server. The same test body runs on each (see `for_each_backend`).
//!
//! `MAMORI_TEST_POSTGRES_URL` is the server's admin URL (e.g.
//! `postgres://postgres@127.0.0.1:5432/test`); every test gets its own database created from
//! it and dropped afterwards. Without it, tests fail loudly unless `MAMORI_SKIP_POSTGRES=1`.

use crate::Store;
use std::path::PathBuf;

/// A database made for one test; the PostgreSQL database is dropped by `cleanup`.
pub struct TestDb {
    pub name: &'static str,
    pub url: String,
    pub store: Store,
    admin_url: Option<String>,
    db_name: Option<String>,
    dir: Option<PathBuf>,
}

fn unique(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!(
        "{prefix}_{}_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed),
        nanos
    )
}

/// A fresh directory under the system temp dir.
pub fn temp_dir(prefix: &str) -> PathBuf {
    let d = std::env::temp_dir().join(unique(prefix));
    std::fs::create_dir_all(&d).expect("create temp dir");
    d
}

async fn migrate(store: &Store, version: Option<i64>) {
    match version {
        None => store.migrate().await.expect("migrate"),
        Some(v) => store.migrate_to(v).await.expect("migrate up to a version"),
    }
}

impl TestDb {
    pub async fn sqlite() -> TestDb {
        Self::sqlite_at(None).await
    }

    /// A fresh SQLite database migrated up to `version` (all migrations for `None`).
    pub async fn sqlite_at(version: Option<i64>) -> TestDb {
        let dir = temp_dir("mamori_test");
        let url = format!("sqlite://{}", dir.join("mamori.db").display());
        let store = Store::connect(&url, true).await.expect("open sqlite");
        migrate(&store, version).await;
        TestDb {
            name: "sqlite",
            url,
            store,
            admin_url: None,
            db_name: None,
            dir: Some(dir),
        }
    }

    /// The PostgreSQL admin URL, or `None` when PostgreSQL is explicitly skipped.
    pub fn postgres_admin_url() -> Option<String> {
        if let Ok(url) = std::env::var("MAMORI_TEST_POSTGRES_URL") {
            return Some(url);
        }
        assert!(
            std::env::var("MAMORI_SKIP_POSTGRES").as_deref() == Ok("1"),
            "MAMORI_TEST_POSTGRES_URL is not set: the store tests must also run on PostgreSQL. \
             Run them through scripts/test (which starts and names the server), or set \
             MAMORI_SKIP_POSTGRES=1 to skip PostgreSQL knowingly."
        );
        None
    }

    pub async fn postgres() -> Option<TestDb> {
        Self::postgres_at(None).await
    }

    /// A fresh PostgreSQL database migrated up to `version` (all migrations for `None`).
    pub async fn postgres_at(version: Option<i64>) -> Option<TestDb> {
        let admin_url = Self::postgres_admin_url()?;
        let db_name = unique("mamori_test");
        let admin = Store::connect(&admin_url, false)
            .await
            .expect("connect to the PostgreSQL test server");
        // A database name cannot be a bound parameter; this one is made of [a-z0-9_] only.
        assert!(db_name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_'));
        let ddl = format!("CREATE DATABASE {db_name}");
        sqlx::query(&ddl)
            .execute(admin.pool())
            .await
            .expect("create test database");
        admin.close().await;
        let base = admin_url
            .rsplit_once('/')
            .map_or(admin_url.as_str(), |(b, _)| b);
        let url = format!("{base}/{db_name}");
        let store = Store::connect(&url, false).await.expect("open postgres");
        migrate(&store, version).await;
        Some(TestDb {
            name: "postgres",
            url,
            store,
            admin_url: Some(admin_url),
            db_name: Some(db_name),
            dir: None,
        })
    }

    /// Every backend the environment offers: SQLite always, PostgreSQL unless skipped.
    pub async fn all() -> Vec<TestDb> {
        let mut v = vec![TestDb::sqlite().await];
        if let Some(pg) = TestDb::postgres().await {
            v.push(pg);
        }
        v
    }

    /// [`TestDb::all`] with the databases migrated up to `version` only: a database as an
    /// older release left it, to test an upgrade.
    pub async fn all_at(version: i64) -> Vec<TestDb> {
        let mut v = vec![TestDb::sqlite_at(Some(version)).await];
        if let Some(pg) = TestDb::postgres_at(Some(version)).await {
            v.push(pg);
        }
        v
    }

    pub async fn cleanup(self) {
        self.store.close().await;
        if let (Some(admin_url), Some(db)) = (self.admin_url, self.db_name) {
            if let Ok(admin) = Store::connect(&admin_url, false).await {
                let ddl = format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)");
                let _ = sqlx::query(&ddl).execute(admin.pool()).await;
                admin.close().await;
            }
        }
        if let Some(dir) = self.dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}
