//! Discovery (issue 16, part 2) against real databases (SQLite and PostgreSQL) and a real
//! folder: which folders may be configured, the scheduled scan through the worker, incremental
//! rescans (unchanged files not opened, touched files not scanned, changed, new and removed
//! files), links that leave the folder, ledger coverage and proposals, deletions checked by the
//! next scan, who sees what (samples for custodians only), and every view in the audit log.

use mamori_app::admin::UserInput;
use mamori_app::clock::ManualClock;
use mamori_app::discovery::{LocationInput, SCAN_TASK};
use mamori_app::keys::Keys;
use mamori_app::{App, AppError, Ctx, Settings};
use mamori_domain::appi::item::Item;
use mamori_domain::discovery::Change;
use mamori_domain::ledger::DatasetInput;
use mamori_domain::role::Role;
use mamori_store::audit::AuditFilter;
use mamori_store::testing::{temp_dir, TestDb};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

// 2026-12-07T01:00:00Z = 2026-12-07 10:00 JST.
const T0: i64 = 1_796_605_200_000_000;

const CUSTOMERS: &str = "氏名,電話番号,メールアドレス\n山田太郎,090-1234-5678,taro.yamada@example.co.jp\n佐藤花子,080-2345-6789,hanako.sato@example.co.jp\n鈴木一郎,070-3456-7890,ichiro.suzuki@example.jp\n";

struct Env {
    app: App,
    clock: Arc<ManualClock>,
    db: TestDb,
    root: PathBuf,
    share: PathBuf,
    sales: i64,
    privacy: Ctx,
    custodian: Ctx,
    sales_head: Ctx,
    hr_head: Ctx,
    staff: Ctx,
    other_company: Ctx,
}

async fn person(app: &App, company: i64, dept: i64, login: &str, role: Role) -> Ctx {
    let (id, _) = app
        .create_user(
            &Ctx::local(),
            &UserInput {
                company_id: Some(company),
                department_id: dept,
                login: login.into(),
                display_name: format!("{login} さん"),
                email: format!("{login}@example.co.jp"),
                roles: vec![role],
                password: Some("correct horse battery".into()),
                locale: "ja".into(),
            },
        )
        .await
        .unwrap();
    Ctx::user(app.store.get_user(id).await.unwrap(), "10.0.0.9")
}

fn write(p: &Path, text: &str) {
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

async fn envs() -> Vec<Env> {
    let mut out = Vec::new();
    for db in TestDb::all().await {
        let clock = Arc::new(ManualClock::new(T0));
        let root = std::fs::canonicalize(temp_dir("shares")).unwrap();
        let share = root.join("営業部");
        write(&share.join("顧客一覧.csv"), CUSTOMERS);
        write(
            &share.join("議事録/2026-11.txt"),
            "定例会議の議事録。特記事項なし。\n",
        );
        write(
            &share.join("議事録/問い合わせ.txt"),
            "お客様（山田太郎様）から電話。折り返し先 090-1234-5678。\n",
        );
        let key_dir = temp_dir("keys").join("k");
        let keys = Keys::load_or_create(&key_dir, true).unwrap();
        let data = temp_dir("data");
        let settings = Settings {
            discovery_roots: vec![root.to_string_lossy().into_owned()],
            discovery_own: vec![data.clone()],
            ..Settings::default()
        };
        let (app, _writer) = App::new(db.store.clone(), keys, clock.clone(), settings);
        let l = Ctx::local();
        let co = app
            .create_company(&l, "mirai", "株式会社みらい通販")
            .await
            .unwrap();
        let hq = app.create_department(&l, co, None, "本社").await.unwrap();
        let sales = app
            .create_department(&l, co, Some(hq), "営業部")
            .await
            .unwrap();
        let hr = app
            .create_department(&l, co, Some(hq), "人事部")
            .await
            .unwrap();
        let other = app.create_company(&l, "other", "他社").await.unwrap();
        let other_hq = app
            .create_department(&l, other, None, "本社")
            .await
            .unwrap();
        out.push(Env {
            privacy: person(&app, co, hq, "tanaka", Role::PrivacyOffice).await,
            custodian: person(&app, co, hq, "kanri", Role::Custodian).await,
            sales_head: person(&app, co, sales, "eigyo", Role::DepartmentHead).await,
            hr_head: person(&app, co, hr, "jinji", Role::DepartmentHead).await,
            staff: person(&app, co, sales, "yamada", Role::Staff).await,
            other_company: person(&app, other, other_hq, "other", Role::PrivacyOffice).await,
            app,
            clock,
            db,
            root,
            share,
            sales,
        });
    }
    out
}

fn input(name: &str, path: &Path, dept: i64) -> LocationInput {
    LocationInput {
        name: name.into(),
        path: path.to_string_lossy().into_owned(),
        department_id: dept,
        interval_hours: "24".into(),
        enabled: true,
    }
}

fn fields(e: &AppError) -> Vec<&'static str> {
    match e {
        AppError::Invalid(p) => p.all().iter().filter_map(|p| p.field).collect(),
        other => panic!("expected a problem, got {other:?}"),
    }
}

/// Queues what is due and runs the scans to the end, as the worker does.
async fn scan_due(app: &App) -> Vec<i64> {
    app.store
        .queue_due_scans(app.clock.now_micros())
        .await
        .unwrap();
    let mut done = Vec::new();
    while let Some(id) = app.run_next_scan("test-worker").await.unwrap() {
        done.push(id);
    }
    done
}

async fn files_by_path(
    app: &App,
    ctx: &Ctx,
    loc: i64,
) -> HashMap<String, mamori_app::discovery::FileView> {
    app.location_detail(ctx, loc)
        .await
        .unwrap()
        .files
        .into_iter()
        .map(|f| (f.row.path.clone(), f))
        .collect()
}

#[tokio::test]
async fn only_allowed_folders_can_be_configured_and_only_by_the_privacy_office() {
    for e in envs().await {
        let app = &e.app;
        // Everything wrong at once: every problem named.
        let bad = LocationInput {
            name: String::new(),
            path: "relative/path".into(),
            department_id: 0,
            interval_hours: "毎日".into(),
            enabled: true,
        };
        let err = app.add_location(&e.privacy, bad).await.unwrap_err();
        assert_eq!(
            fields(&err),
            vec!["name", "path", "department_id", "interval_hours"],
            "{}",
            e.db.name
        );
        // Outside the allowed roots, a folder that does not exist, a file, ".." and mamori's
        // own data folder.
        for (path, needle) in [
            (PathBuf::from("/etc"), "outside"),
            (e.root.join("存在しない"), "cannot open"),
            (e.share.join("顧客一覧.csv"), "not a folder"),
            (PathBuf::from(format!("{}/../..", e.share.display())), ".."),
        ] {
            let err = app
                .add_location(&e.privacy, input("x", &path, e.sales))
                .await
                .unwrap_err();
            let AppError::Invalid(p) = &err else { panic!() };
            assert!(p.en.contains(needle), "{path:?}: {}", p.en);
        }
        let own = app.settings.discovery_own[0].clone();
        let mut s2 = (*app.settings).clone();
        s2.discovery_roots
            .push(own.parent().unwrap().to_string_lossy().into_owned());
        let mut wide = app.clone();
        wide.settings = Arc::new(s2);
        let err = wide
            .add_location(&e.privacy, input("own", &own, e.sales))
            .await
            .unwrap_err();
        let AppError::Invalid(p) = &err else { panic!() };
        assert!(p.en.contains("own data"), "{}", p.en);
        // Interval out of range.
        let mut i = input("x", &e.share, e.sales);
        i.interval_hours = "800".into();
        assert_eq!(
            fields(&app.add_location(&e.privacy, i).await.unwrap_err()),
            vec!["interval_hours"]
        );
        // Without roots in the configuration nothing may be scanned, and the message says so.
        let mut none = app.clone();
        none.settings = Arc::new(Settings::default());
        let err = none
            .add_location(&e.privacy, input("x", &e.share, e.sales))
            .await
            .unwrap_err();
        let AppError::Invalid(p) = &err else { panic!() };
        assert!(p.en.contains("discovery_roots"), "{}", p.en);
        // Department heads and staff may not configure locations.
        for who in [&e.sales_head, &e.staff, &e.custodian] {
            assert!(matches!(
                app.add_location(who, input("x", &e.share, e.sales)).await,
                Err(AppError::Denied)
            ));
        }
        // A good one: queued for its first scan at once.
        let id = app
            .add_location(&e.privacy, input("営業部の共有", &e.share, e.sales))
            .await
            .unwrap();
        let loc = app.store.location(id).await.unwrap();
        assert_eq!(loc.next_scan_at, Some(T0));
        assert_eq!(loc.path, e.share.to_string_lossy());
        e.db.cleanup().await;
    }
}

#[tokio::test]
async fn folders_are_scanned_on_schedule_and_incrementally() {
    for e in envs().await {
        let app = &e.app;
        let loc = app
            .add_location(&e.privacy, input("営業部の共有", &e.share, e.sales))
            .await
            .unwrap();
        // The worker's periodic task queues it and runs it in the background.
        app.run_periodic(SCAN_TASK).await.unwrap();
        let mut first = None;
        for _ in 0..600 {
            let s = app.store.scans(loc, 1).await.unwrap();
            if s.first().is_some_and(|s| s.status == "done") {
                first = s.into_iter().next();
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        let first = first.expect("the scheduled scan finished");
        assert_eq!(first.source, "schedule", "{}", e.db.name);
        assert_eq!(
            (first.files_seen, first.files_read, first.files_unchanged),
            (3, 3, 0)
        );
        assert_eq!(first.files_with_data, 2);
        let files = files_by_path(app, &e.privacy, loc).await;
        let csv = &files["顧客一覧.csv"];
        assert_eq!(csv.counts.get("phone"), Some(&3));
        assert_eq!(csv.counts.get("email"), Some(&3));
        assert_eq!(csv.counts.get("person_name"), Some(&3));
        assert_eq!(csv.change, Change::New);
        assert!(csv.unledgered);
        assert!(files["議事録/問い合わせ.txt"].counts.contains_key("phone"));
        assert!(
            !files.contains_key("議事録/2026-11.txt"),
            "a clean file is not listed"
        );
        // Not due again before its interval.
        e.clock.advance_secs(3600);
        assert!(scan_due(app).await.is_empty());

        // Nothing changed: nothing is read.
        let s2 = app.request_scan(&e.privacy, loc).await.unwrap();
        assert!(matches!(
            app.request_scan(&e.privacy, loc).await,
            Err(AppError::Invalid(_))
        ));
        assert_eq!(scan_due(app).await, vec![s2]);
        let r = app.store.scan(s2).await.unwrap();
        assert_eq!((r.files_seen, r.files_read, r.files_unchanged), (3, 0, 3));

        // Same size and time, other bytes: not opened (the rule), so not noticed.
        let memo = e.share.join("議事録/2026-11.txt");
        let t = std::fs::metadata(&memo).unwrap().modified().unwrap();
        std::fs::write(&memo, "定例会議の議事録。特記事項あり。\n").unwrap();
        std::fs::File::options()
            .write(true)
            .open(&memo)
            .unwrap()
            .set_modified(t)
            .unwrap();
        // Touched (new time, same bytes): hashed, not scanned.
        let inquiry = e.share.join("議事録/問い合わせ.txt");
        let bytes = std::fs::read(&inquiry).unwrap();
        std::fs::write(&inquiry, &bytes).unwrap();
        std::fs::File::options()
            .write(true)
            .open(&inquiry)
            .unwrap()
            .set_modified(t + std::time::Duration::from_mins(1))
            .unwrap();
        // Changed, new and removed files.
        write(
            &e.share.join("顧客一覧.csv"),
            &format!("{CUSTOMERS}高橋次郎,090-9999-0000,jiro@example.jp\n"),
        );
        write(
            &e.share.join("退職者/名簿.csv"),
            "氏名,マイナンバー\n木村 誠,123456789018\n",
        );
        std::fs::remove_file(e.share.join("議事録/2026-11.txt")).unwrap_or(());
        write(&memo, "定例会議の議事録。特記事項あり。\n");
        std::fs::remove_file(&memo).unwrap();
        let s3 = app.request_scan(&e.privacy, loc).await.unwrap();
        scan_due(app).await;
        let r = app.store.scan(s3).await.unwrap();
        assert_eq!(r.status, "done", "{:?}", r.error);
        assert_eq!(
            (
                r.files_seen,
                r.files_read,
                r.files_unchanged,
                r.files_removed
            ),
            (3, 2, 1, 1),
            "{}",
            e.db.name
        );
        let files = files_by_path(app, &e.privacy, loc).await;
        let csv = &files["顧客一覧.csv"];
        assert_eq!(csv.change, Change::Changed);
        assert!(csv.changed_now);
        assert_eq!(csv.counts.get("phone"), Some(&4));
        assert_eq!(csv.prev_counts.as_ref().unwrap().get("phone"), Some(&3));
        assert_eq!(files["退職者/名簿.csv"].change, Change::New);
        assert_eq!(files["退職者/名簿.csv"].counts.get("my_number"), Some(&1));
        assert!(
            !files.contains_key("議事録/2026-11.txt"),
            "a clean file gone is only counted"
        );
        let inquiry_row = &files["議事録/問い合わせ.txt"];
        assert_eq!(
            inquiry_row.change,
            Change::New,
            "touched only: its first change stays"
        );
        assert!(!inquiry_row.changed_now);
        // The location's totals and their change since the scan before.
        let dt = app.location_detail(&e.privacy, loc).await.unwrap();
        assert_eq!(dt.delta.get("phone"), Some(&1));
        assert_eq!(dt.delta.get("my_number"), Some(&1));
        assert_eq!(dt.totals.get("phone"), Some(&5));
        // Every scan is in the audit log, in the company's log.
        let scans = app
            .store
            .search_audit(
                &AuditFilter {
                    action: Some("discovery.scan".into()),
                    ..AuditFilter::default()
                },
                100,
            )
            .await
            .unwrap();
        assert_eq!(
            scans
                .iter()
                .filter(|a| a.record.action == "discovery.scan")
                .count(),
            3
        );
        e.db.cleanup().await;
    }
}

#[tokio::test]
async fn links_out_of_the_folder_are_not_followed() {
    for e in envs().await {
        let app = &e.app;
        let secret = temp_dir("outside").join("秘密.csv");
        write(&secret, CUSTOMERS);
        std::os::unix::fs::symlink(&secret, e.share.join("link.csv")).unwrap();
        std::os::unix::fs::symlink(secret.parent().unwrap(), e.share.join("外のフォルダ")).unwrap();
        let loc = app
            .add_location(&e.privacy, input("営業部", &e.share, e.sales))
            .await
            .unwrap();
        scan_due(app).await;
        let files = files_by_path(app, &e.privacy, loc).await;
        // Each link is listed once, as not read; nothing behind it is read or even listed.
        for name in ["link.csv", "外のフォルダ"] {
            let link = &files[name];
            assert!(link.counts.is_empty(), "{}", e.db.name);
            assert_eq!(link.row.status, "skipped");
            assert!(link.row.reason.as_deref().unwrap().contains("leads out"));
        }
        assert!(
            !files.keys().any(|k| k.starts_with("外のフォルダ/")),
            "{:?}",
            files.keys()
        );
        // A link that stays inside the folder is followed (its file scanned once).
        e.db.cleanup().await;
    }
}

#[tokio::test]
async fn what_cannot_be_read_is_never_taken_as_clean_or_deleted() {
    for e in envs().await {
        let app = &e.app;
        let loc = app
            .add_location(&e.privacy, input("営業部", &e.share, e.sales))
            .await
            .unwrap();
        scan_due(app).await;
        // The member list becomes something that cannot be read (a named pipe): its counts
        // stay, marked as not read.
        let csv = e.share.join("顧客一覧.csv");
        std::fs::remove_file(&csv).unwrap();
        let fifo = std::process::Command::new("mkfifo")
            .arg(&csv)
            .status()
            .unwrap();
        assert!(fifo.success());
        e.clock.advance_secs(60);
        app.request_scan(&e.privacy, loc).await.unwrap();
        scan_due(app).await;
        let f = &files_by_path(app, &e.privacy, loc).await["顧客一覧.csv"];
        assert_eq!(f.row.status, "skipped", "{}", e.db.name);
        assert_eq!(f.counts.get("phone"), Some(&3));
        assert!(f.unledgered);
        let dt = app.location_detail(&e.privacy, loc).await.unwrap();
        assert_eq!(
            dt.totals.get("phone"),
            Some(&4),
            "totals keep what cannot be read"
        );
        // The share is not mounted (the folder is empty): the scan fails and says why; the
        // files of the last scan are not taken as deleted.
        for entry in std::fs::read_dir(&e.share).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                std::fs::remove_dir_all(&p).unwrap();
            } else {
                std::fs::remove_file(&p).unwrap();
            }
        }
        e.clock.advance_secs(60);
        let id = app.request_scan(&e.privacy, loc).await.unwrap();
        scan_due(app).await;
        let s = app.store.scan(id).await.unwrap();
        assert_eq!(s.status, "failed");
        assert!(
            s.error.as_deref().unwrap().contains("mounted"),
            "{:?}",
            s.error
        );
        let files = files_by_path(app, &e.privacy, loc).await;
        assert_eq!(files["議事録/問い合わせ.txt"].change, Change::New);
        e.db.cleanup().await;
    }
}

#[tokio::test]
async fn a_location_moved_to_another_folder_starts_afresh() {
    for e in envs().await {
        let app = &e.app;
        let loc = app
            .add_location(&e.privacy, input("営業部", &e.share, e.sales))
            .await
            .unwrap();
        scan_due(app).await;
        let csv = files_by_path(app, &e.privacy, loc).await["顧客一覧.csv"]
            .row
            .id;
        app.record_file_deleted(&e.privacy, csv, "削除", false)
            .await
            .unwrap();
        // Another folder with a file of the same name.
        let other = e.root.join("2027");
        write(&other.join("顧客一覧.csv"), CUSTOMERS);
        app.update_location(&e.privacy, loc, input("営業部", &other, e.sales))
            .await
            .unwrap();
        e.clock.advance_secs(60);
        app.request_scan(&e.privacy, loc).await.unwrap();
        scan_due(app).await;
        let files = files_by_path(app, &e.privacy, loc).await;
        let f = &files["顧客一覧.csv"];
        assert_eq!(f.change, Change::New, "{}", e.db.name);
        assert!(
            f.row.disposition.is_none(),
            "the old file's deletion record is not inherited"
        );
        assert!(f.unledgered);
        assert!(!files.contains_key("議事録/問い合わせ.txt"));
        e.db.cleanup().await;
    }
}

#[tokio::test]
async fn the_ledger_covers_files_and_proposals_and_deletions_close_the_gap() {
    for e in envs().await {
        let app = &e.app;
        let loc = app
            .add_location(&e.privacy, input("営業部", &e.share, e.sales))
            .await
            .unwrap();
        scan_due(app).await;
        let o = app.discovery_overview(&e.privacy).await.unwrap();
        assert_eq!(o.locations[0].unledgered, 2, "{}", e.db.name);

        // An entry whose storage place names the minutes folder covers the file in it.
        app.create_dataset(
            &e.privacy,
            DatasetInput {
                name: "問い合わせ記録".into(),
                department_id: e.sales,
                items: vec![Item::Name, Item::Phone],
                persons: Some(100),
                purpose: "問い合わせ対応".into(),
                storage_place: format!("{}/議事録", e.share.display()),
                ..DatasetInput::default()
            },
        )
        .await
        .unwrap();
        let files = files_by_path(app, &e.privacy, loc).await;
        assert_eq!(
            files["議事録/問い合わせ.txt"].dataset.as_ref().unwrap().1,
            "問い合わせ記録"
        );
        let csv = files["顧客一覧.csv"].row.id;
        assert!(files["顧客一覧.csv"].unledgered);

        // The proposal: department, items from the kinds found, an estimate, the folder.
        let p = app.ledger_proposal(&e.privacy, csv).await.unwrap();
        assert_eq!(p.name, "顧客一覧.csv");
        assert_eq!(p.department_id, e.sales);
        assert_eq!(p.items, vec![Item::Name, Item::Phone, Item::Email]);
        assert_eq!(p.persons, Some(3));
        assert_eq!(p.storage_place, e.share.to_string_lossy());
        // Saved as an entry and tied to the file: no longer unledgered.
        let ds = app
            .create_dataset(
                &e.privacy,
                DatasetInput {
                    purpose: "通信販売の発送".into(),
                    storage_place: String::new(),
                    ..p
                },
            )
            .await
            .unwrap();
        app.link_discovery_file(&e.privacy, csv, Some(ds))
            .await
            .unwrap();
        let o = app.discovery_overview(&e.privacy).await.unwrap();
        assert_eq!(o.locations[0].unledgered, 0);
        // Another company's entry cannot be tied.
        assert!(matches!(
            app.link_discovery_file(&e.privacy, csv, Some(ds + 1000))
                .await,
            Err(AppError::Invalid(_))
        ));

        // A file recorded as deleted that the next scan still finds is flagged; gone, it is not.
        app.link_discovery_file(&e.privacy, csv, None)
            .await
            .unwrap();
        app.record_file_deleted(&e.sales_head, csv, "不要になったため削除", false)
            .await
            .unwrap();
        let f = &files_by_path(app, &e.privacy, loc).await["顧客一覧.csv"];
        assert!(!f.unledgered && !f.deleted_but_present);
        e.clock.advance_secs(60);
        app.request_scan(&e.privacy, loc).await.unwrap();
        // Queued, not yet run: the page does not claim the file is still there.
        let f = &files_by_path(app, &e.privacy, loc).await["顧客一覧.csv"];
        assert!(!f.deleted_but_present);
        scan_due(app).await;
        let f = &files_by_path(app, &e.privacy, loc).await["顧客一覧.csv"];
        assert!(f.deleted_but_present, "{}", e.db.name);
        std::fs::remove_file(e.share.join("顧客一覧.csv")).unwrap();
        e.clock.advance_secs(60);
        app.request_scan(&e.privacy, loc).await.unwrap();
        scan_due(app).await;
        let f = &files_by_path(app, &e.privacy, loc).await["顧客一覧.csv"];
        assert_eq!(f.change, Change::Removed);
        assert!(!f.deleted_but_present && !f.unledgered);
        // An auditor who also heads 人事部 reads every location but resolves only 人事部's.
        let hr = app
            .store
            .get_user(e.hr_head.actor_id().unwrap())
            .await
            .unwrap()
            .department_id;
        let (both, _) = app
            .create_user(
                &Ctx::local(),
                &UserInput {
                    company_id: Some(app.store.location(loc).await.unwrap().company_id),
                    department_id: hr,
                    login: "kansa".into(),
                    display_name: "監査 兼 部長".into(),
                    email: "kansa@example.co.jp".into(),
                    roles: vec![Role::Auditor, Role::DepartmentHead],
                    password: Some("correct horse battery".into()),
                    locale: "ja".into(),
                },
            )
            .await
            .unwrap();
        let both = Ctx::user(app.store.get_user(both).await.unwrap(), "10.0.0.9");
        assert!(app.discovery_file_detail(&both, csv).await.is_ok());
        assert!(matches!(
            app.record_file_deleted(&both, csv, "", false).await,
            Err(AppError::Denied)
        ));
        // The human resources head may not resolve the sales department's files.
        assert!(matches!(
            app.record_file_deleted(&e.hr_head, csv, "", false).await,
            Err(AppError::NotFound)
        ));
        e.db.cleanup().await;
    }
}

#[tokio::test]
async fn each_sees_their_own_and_samples_only_with_vault_rights() {
    for e in envs().await {
        let app = &e.app;
        let loc = app
            .add_location(&e.privacy, input("営業部", &e.share, e.sales))
            .await
            .unwrap();
        scan_due(app).await;
        let csv = files_by_path(app, &e.privacy, loc).await["顧客一覧.csv"]
            .row
            .id;
        // The custodian sees masked samples; nobody else does.
        let d = app.discovery_file_detail(&e.custodian, csv).await.unwrap();
        let samples = d.samples.unwrap();
        assert_eq!(samples.len(), 9, "{}", e.db.name);
        assert!(samples
            .iter()
            .any(|s| s.kind == "phone" && s.masked.contains('*')));
        assert!(samples.iter().all(|s| !s.masked.contains("1234-5678")));
        for who in [&e.privacy, &e.sales_head] {
            assert!(app
                .discovery_file_detail(who, csv)
                .await
                .unwrap()
                .samples
                .is_none());
        }
        // The samples are sealed at rest.
        let row = app.store.discovery_file(csv).await.unwrap();
        let sealed = row.samples_sealed.unwrap();
        assert!(!sealed.contains("taro") && !sealed.contains("090"));
        // Department heads see their departments' locations; staff and other companies not.
        assert_eq!(
            app.discovery_overview(&e.sales_head)
                .await
                .unwrap()
                .locations
                .len(),
            1
        );
        assert!(app
            .discovery_overview(&e.hr_head)
            .await
            .unwrap()
            .locations
            .is_empty());
        assert!(app
            .discovery_overview(&e.staff)
            .await
            .unwrap()
            .locations
            .is_empty());
        for who in [&e.hr_head, &e.staff, &e.other_company] {
            assert!(matches!(
                app.location_detail(who, loc).await,
                Err(AppError::NotFound)
            ));
            assert!(matches!(
                app.discovery_file_detail(who, csv).await,
                Err(AppError::NotFound)
            ));
        }
        // Every view is in the audit log, the sample view with its count.
        let views = app
            .store
            .search_audit(
                &AuditFilter {
                    action: Some("discovery.file.view".into()),
                    ..AuditFilter::default()
                },
                100,
            )
            .await
            .unwrap();
        assert!(
            views
                .iter()
                .any(|v| v.record.detail.contains("\"samples\":9")),
            "{views:?}"
        );
        assert_eq!(
            views
                .iter()
                .filter(|v| v.record.outcome == mamori_domain::audit::Outcome::Denied)
                .count(),
            3
        );
        e.db.cleanup().await;
    }
}

mod reports {
    use super::*;
    use mamori_domain::discovery_report::{
        write_signed, ReportFile, ReportHeader, ReportStatus, ScanKeyFile,
    };
    use std::collections::BTreeMap;

    fn header(key: &str, files_scanned: u64, files_clean: u64) -> ReportHeader {
        ReportHeader {
            key_id: key.into(),
            host: "YAMADA-PC".into(),
            roots: vec!["Documents".into(), "Desktop".into(), "Downloads".into()],
            started_at: "2026-12-07T09:00:00+09:00".into(),
            finished_at: "2026-12-07T09:05:00+09:00".into(),
            scanner: "0.1.0".into(),
            files_scanned,
            files_clean,
        }
    }

    fn file(path: &str, counts: &[(&str, u64)]) -> ReportFile {
        ReportFile {
            path: path.into(),
            bytes: 1234,
            format: "csv".into(),
            status: ReportStatus::Scanned,
            reason: None,
            counts: counts
                .iter()
                .map(|(k, n)| ((*k).to_owned(), *n))
                .collect::<BTreeMap<_, _>>(),
        }
    }

    #[tokio::test]
    async fn signed_reports_are_imported_once_and_edited_ones_refused() {
        for e in envs().await {
            let app = &e.app;
            let issued = app.issue_scan_key(&e.staff, "ノートPC").await.unwrap();
            let key = ScanKeyFile::parse(&issued.file).unwrap();
            assert_eq!(key.key_id, issued.key_id);
            // The secret is only in the file: the store keeps the public half.
            let stored = app.store.scan_key(&issued.key_id).await.unwrap().unwrap();
            assert_eq!(stored.public_key.len(), 64);
            assert!(!issued.file.contains(&stored.public_key));

            let mut not_read = file("Downloads/scan.png", &[]);
            not_read.status = ReportStatus::Skipped;
            not_read.reason = Some("not read: image only".into());
            let files = vec![
                file(
                    "Documents/顧客リスト.xlsx",
                    &[("person_name", 120), ("phone", 118)],
                ),
                file("Desktop/memo.txt", &[("email", 2)]),
                not_read,
            ];
            let report = write_signed(&header(&key.key_id, 40, 37), &files, &key.signing);

            // Edited after signing: refused, and the refusal recorded with why.
            let mut edited = report.clone();
            let at = edited.windows(3).position(|w| w == b"120").unwrap();
            edited[at] = b'0';
            let err = app.import_scan_report(&e.staff, &edited).await.unwrap_err();
            let AppError::Invalid(p) = &err else {
                panic!("{err:?}")
            };
            assert!(p.en.contains("changed"), "{}: {}", e.db.name, p.en);
            // Not a report at all.
            assert!(matches!(
                app.import_scan_report(&e.staff, CUSTOMERS.as_bytes()).await,
                Err(AppError::Invalid(_))
            ));
            // Another person may not import it; the owner may.
            assert!(matches!(
                app.import_scan_report(&e.sales_head, &report).await,
                Err(AppError::Invalid(_))
            ));
            // A folder already carries the name the device would get: the device gets another.
            app.add_location(&e.privacy, input("YAMADA-PC (yamada)", &e.share, e.sales))
                .await
                .unwrap();
            let r = app.import_scan_report(&e.staff, &report).await.unwrap();
            assert_eq!((r.files, r.with_data, r.host.as_str()), (3, 2, "YAMADA-PC"));
            assert_eq!(
                app.store.location(r.location_id).await.unwrap().name,
                "YAMADA-PC (yamada) 2"
            );
            // Once only.
            let err = app.import_scan_report(&e.staff, &report).await.unwrap_err();
            let AppError::Invalid(p) = &err else { panic!() };
            assert!(p.en.contains("imported already"), "{}", p.en);

            // The device is a location of the owner's department: the owner and the
            // department's head see it, with what was found and what no ledger entry covers.
            let o = app.discovery_overview(&e.staff).await.unwrap();
            assert_eq!(o.locations.len(), 1);
            assert_eq!(o.locations[0].row.kind, "device");
            assert_eq!(o.locations[0].unledgered, 2);
            assert_eq!(
                app.discovery_overview(&e.sales_head)
                    .await
                    .unwrap()
                    .locations
                    .len(),
                2
            );
            assert!(app
                .discovery_overview(&e.hr_head)
                .await
                .unwrap()
                .locations
                .is_empty());
            let dt = app.location_detail(&e.staff, r.location_id).await.unwrap();
            assert_eq!(dt.totals.get("person_name"), Some(&120));
            assert_eq!(dt.files.len(), 3);

            // The next report of the same PC: the memo is gone, the list changed.
            let files2 = vec![file(
                "Documents/顧客リスト.xlsx",
                &[("person_name", 121), ("phone", 118)],
            )];
            let mut h2 = header(&key.key_id, 41, 40);
            h2.finished_at = "2026-12-08T09:05:00+09:00".into();
            let report2 = write_signed(&h2, &files2, &key.signing);
            let r2 = app.import_scan_report(&e.staff, &report2).await.unwrap();
            assert_eq!(r2.location_id, r.location_id);
            let s = app.store.scan(r2.scan_id).await.unwrap();
            assert_eq!((s.source.as_str(), s.files_removed), ("report", 2));
            let files = files_by_path(app, &e.staff, r.location_id).await;
            assert_eq!(files["Documents/顧客リスト.xlsx"].change, Change::Changed);
            assert_eq!(files["Desktop/memo.txt"].change, Change::Removed);

            // An older report of the same PC after a newer one is refused.
            let mut old_h = header(&key.key_id, 1, 1);
            old_h.started_at = "2026-11-30T09:00:00+09:00".into();
            old_h.finished_at = "2026-11-30T09:05:00+09:00".into();
            let old = write_signed(&old_h, &[], &key.signing);
            let err = app.import_scan_report(&e.staff, &old).await.unwrap_err();
            let AppError::Invalid(p) = &err else { panic!() };
            assert!(p.en.contains("newer report"), "{}", p.en);
            // A report that names one file twice is refused.
            let mut h_dup = header(&key.key_id, 2, 0);
            h_dup.finished_at = "2026-12-08T10:05:00+09:00".into();
            let twice = [
                file("a.csv", &[("phone", 1)]),
                file("a.csv", &[("phone", 1)]),
            ];
            let dup = write_signed(&h_dup, &twice, &key.signing);
            assert!(matches!(
                app.import_scan_report(&e.staff, &dup).await,
                Err(AppError::Invalid(_))
            ));

            // A revoked key signs nothing more.
            app.revoke_scan_key(&e.staff, &key.key_id).await.unwrap();
            let mut h3 = header(&key.key_id, 1, 1);
            h3.finished_at = "2026-12-09T09:05:00+09:00".into();
            let report3 = write_signed(&h3, &[], &key.signing);
            let err = app
                .import_scan_report(&e.staff, &report3)
                .await
                .unwrap_err();
            let AppError::Invalid(p) = &err else { panic!() };
            assert!(p.en.contains("revoked"), "{}", p.en);
            // Someone else's key cannot be revoked (the same answer as none).
            let other = app.issue_scan_key(&e.hr_head, "").await.unwrap();
            assert!(matches!(
                app.revoke_scan_key(&e.staff, &other.key_id).await,
                Err(AppError::NotFound)
            ));
            // Refusals are in the audit log with their reason.
            let refused = app
                .store
                .search_audit(
                    &AuditFilter {
                        action: Some("discovery.report.import".into()),
                        ..AuditFilter::default()
                    },
                    100,
                )
                .await
                .unwrap();
            let reasons: Vec<&str> = refused
                .iter()
                .filter(|a| a.record.outcome == mamori_domain::audit::Outcome::Denied)
                .map(|a| a.record.detail.as_str())
                .collect();
            for why in [
                "edited",
                "not_a_report",
                "other_person",
                "duplicate",
                "revoked_key",
            ] {
                assert!(
                    reasons.iter().any(|d| d.contains(why)),
                    "{why}: {reasons:?}"
                );
            }
            e.db.cleanup().await;
        }
    }
}
