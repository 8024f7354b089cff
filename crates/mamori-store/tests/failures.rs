//! A locked database and a full disk are reported as such, and nothing stored is lost.

use mamori_store::testing::TestDb;
use mamori_store::StoreError;
use sqlx::{AnyConnection, Connection, Executor};

async fn raw(url: &str) -> AnyConnection {
    sqlx::any::install_default_drivers();
    AnyConnection::connect(url).await.unwrap()
}

#[tokio::test]
async fn a_locked_sqlite_database_is_busy_not_an_internal_error() {
    let db = TestDb::sqlite().await;
    db.store.set_setting("kept", "yes").await.unwrap();
    let mut holder = raw(&db.url).await;
    holder.execute("BEGIN EXCLUSIVE").await.unwrap();
    let mut other = raw(&db.url).await;
    other.execute("PRAGMA busy_timeout = 100").await.unwrap();
    let err = sqlx::query("INSERT INTO settings (name, value) VALUES ('x', 'y')")
        .execute(&mut other)
        .await
        .unwrap_err();
    assert!(matches!(StoreError::from(err), StoreError::Busy));
    holder.execute("ROLLBACK").await.unwrap();
    assert_eq!(
        db.store.get_setting("kept").await.unwrap().as_deref(),
        Some("yes")
    );
    db.cleanup().await;
}

#[tokio::test]
async fn a_full_disk_is_reported_and_earlier_data_survives() {
    let db = TestDb::sqlite().await;
    db.store.set_setting("kept", "yes").await.unwrap();
    let mut conn = raw(&db.url).await;
    // The database may not grow: to SQLite this is exactly a full disk (SQLITE_FULL).
    let pages: i64 = sqlx::query_scalar("PRAGMA page_count")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    let limit = format!("PRAGMA max_page_count = {pages}");
    conn.execute(limit.as_str()).await.unwrap();
    let big = "x".repeat(64 * 1024);
    let mut failure = None;
    for i in 0..64 {
        if let Err(e) = sqlx::query("INSERT INTO settings (name, value) VALUES ($1, $2)")
            .bind(format!("blob{i}"))
            .bind(&big)
            .execute(&mut conn)
            .await
        {
            failure = Some(e);
            break;
        }
    }
    let err = StoreError::from(failure.expect("the insert must fail on a full database"));
    assert!(matches!(err, StoreError::DiskFull), "{err}");
    assert_eq!(
        db.store.get_setting("kept").await.unwrap().as_deref(),
        Some("yes")
    );
    db.cleanup().await;
}
