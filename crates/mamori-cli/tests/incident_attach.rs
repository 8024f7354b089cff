//! `mamori incident attach ID PATH…` as a person runs it: the files are stored sealed on the
//! incident (read back the same), queued for their scan, and recorded in the audit log as the
//! command line; an unknown incident or a missing file is named and nothing else stops.

use mamori_app::clock::SystemClock;
use mamori_app::keys::Keys;
use mamori_app::{App, Settings};
use mamori_store::audit::AuditFilter;
use mamori_store::testing::temp_dir;
use mamori_store::Store;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;

const BIN: &str = env!("CARGO_BIN_EXE_mamori");

fn mamori(cwd: &Path, data: &Path, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(BIN)
        .args(args)
        .current_dir(cwd)
        .env("MAMORI_DATA_DIR", data)
        .env("MAMORI_LOG", "warn")
        .env_remove("MAMORI_DATABASE_URL")
        .env_remove("MAMORI_KEY_DIR")
        .env_remove("MAMORI_CONFIG")
        .env_remove("MAMORI_VAULT_KEYS")
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

async fn open(data: &Path) -> (App, tokio::task::JoinHandle<()>) {
    let url = format!("sqlite://{}", data.join("mamori.db").display());
    let store = Store::connect(&url, false).await.unwrap();
    let keys = Keys::load_or_create(&data.join("keys"), true).unwrap();
    let (app, writer) = App::new(store, keys, Arc::new(SystemClock), Settings::default());
    app.open_vault_default(true).await.unwrap();
    (app, writer)
}

async fn close(app: App, writer: tokio::task::JoinHandle<()>) {
    let store = app.store.clone();
    drop(app);
    writer.await.unwrap();
    store.close().await;
}

#[tokio::test]
async fn attach_stores_the_files_sealed_and_audited_as_the_command_line() {
    let cwd = temp_dir("attach");
    let data = cwd.join("data");
    let (ok, out, err) = mamori(&cwd, &data, &["migrate", "--create"]);
    assert!(ok, "{out}{err}");
    let (app, writer) = open(&data).await;
    app.seed_demo().await.unwrap();
    let incident: i64 = sqlx::query_scalar("SELECT MIN(id) FROM incidents")
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    close(app, writer).await;

    let csv = cwd.join("顧客一覧.csv");
    let text = "氏名,メールアドレス\r\n山田 花子,hanako@example.jp\r\n".repeat(20_000);
    std::fs::write(&csv, &text).unwrap();
    let mail = cwd.join("reply.eml");
    std::fs::write(&mail, "Subject: x\r\n\r\n090-1111-2222\r\n").unwrap();
    let id = incident.to_string();
    let (ok, out, err) = mamori(
        &cwd,
        &data,
        &[
            "incident",
            "attach",
            &id,
            csv.to_str().unwrap(),
            mail.to_str().unwrap(),
        ],
    );
    assert!(ok, "{out}{err}");
    assert_eq!(out.matches("attached").count(), 2, "{out}");

    // A missing file is named; an unknown incident too.
    let (ok, _, err) = mamori(
        &cwd,
        &data,
        &[
            "incident",
            "attach",
            &id,
            cwd.join("none.csv").to_str().unwrap(),
        ],
    );
    assert!(!ok);
    assert!(
        err.contains("none.csv") && err.contains("cannot open"),
        "{err}"
    );
    let (ok, _, err) = mamori(
        &cwd,
        &data,
        &["incident", "attach", "9999", mail.to_str().unwrap()],
    );
    assert!(!ok);
    assert!(err.contains("incident 9999 not found"), "{err}");

    let (app, writer) = open(&data).await;
    let files = app.store.incident_files(incident).await.unwrap();
    assert_eq!(files.len(), 2);
    assert_eq!(files[0].file_name, "顧客一覧.csv");
    assert_eq!(files[0].size, text.len() as i64);
    assert!(files[0].chunk_count > 1);
    assert_eq!(files[0].scan_state, "queued");
    assert_eq!(
        app.read_evidence_unchecked(files[0].id).await.unwrap(),
        text.as_bytes()
    );
    let uploads = app
        .store
        .search_audit(
            &AuditFilter {
                action: Some("incident.file.upload".into()),
                // The demo attaches a file of its own to another incident.
                target: Some(format!("incident:{incident}")),
                ..AuditFilter::default()
            },
            10,
        )
        .await
        .unwrap();
    assert_eq!(uploads.len(), 2);
    assert!(uploads.iter().all(|u| u.record.actor == "cli"));
    // Nothing personal in the database file in plain text.
    close(app, writer).await;
    let db = std::fs::read(data.join("mamori.db")).unwrap();
    assert!(!db.windows(17).any(|w| w == b"hanako@example.jp"));
}
