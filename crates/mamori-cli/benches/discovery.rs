//! Discovery benchmark (issue 16, part 2), on SQLite and PostgreSQL: a share of N files
//! (default 20,000: one in twenty a member list with names, phones and e-mail addresses, the
//! rest memos of about 2 KB without personal data, in 100 folders) scanned by the worker's scan
//! (`App::run_next_scan`) three ways: the first scan (every file read), a rescan with nothing
//! changed (no file opened), and a rescan after 1 % of the files changed and 1 % were touched
//! (new time, same bytes: hashed, not scanned). Each rescan is compared with the first scan of
//! the same run; the three are repeated 3 times and medians printed.
//!
//! Run: `cargo bench -p mamori-cli --bench discovery [N]` (or `MAMORI_BENCH_DISCOVERY_N=N`);
//! `MAMORI_SKIP_POSTGRES=1` for SQLite only.

#[path = "common.rs"]
mod common;

use mamori_app::clock::SystemClock;
use mamori_app::discovery::LocationInput;
use mamori_app::keys::Keys;
use mamori_app::{App, Ctx, Settings};
use mamori_domain::role::Role;
use mamori_store::Store;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn memo(i: usize) -> String {
    let mut s = format!("議事録 第{i}回 定例会議\n");
    while s.len() < 2000 {
        s.push_str("本日の議題は新商品の販売計画と在庫の見直しについて。特記事項なし。次回も同じ時間に開催する。\n");
    }
    s
}

fn members(i: usize) -> String {
    let mut s = String::from("氏名,電話番号,メールアドレス\n");
    for j in 0..20 {
        let k = i * 20 + j;
        let _ = writeln!(
            s,
            "山田 太郎,090-{:04}-{:04},member{k}@example.jp",
            1000 + k % 9000,
            (k * 7) % 10_000
        );
    }
    s
}

fn path_of(root: &Path, i: usize) -> PathBuf {
    let dir = root.join(format!("部署{:03}", i % 100));
    if i.is_multiple_of(20) {
        dir.join(format!("名簿{i}.csv"))
    } else {
        dir.join(format!("メモ{i}.txt"))
    }
}

fn make_share(root: &Path, n: usize) -> u64 {
    let mut bytes = 0;
    for i in 0..n {
        let p = path_of(root, i);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        let text = if i.is_multiple_of(20) {
            members(i)
        } else {
            memo(i)
        };
        bytes += text.len() as u64;
        std::fs::write(&p, text).unwrap();
    }
    bytes
}

/// Changes 1 % of the files (one line more) and touches another 1 % (new time, same bytes).
fn change_some(root: &Path, n: usize, round: usize) {
    for i in (0..n).filter(|i| i % 100 == round % 100) {
        let p = path_of(root, i);
        let mut text = std::fs::read_to_string(&p).unwrap();
        let _ = writeln!(text, "追記 {round}");
        std::fs::write(&p, text).unwrap();
    }
    let later = std::time::SystemTime::now() + Duration::from_secs(3600 + round as u64);
    for i in (0..n).filter(|i| i % 100 == (round + 50) % 100) {
        let p = path_of(root, i);
        std::fs::File::options()
            .write(true)
            .open(&p)
            .unwrap()
            .set_modified(later)
            .unwrap();
    }
}

struct Row {
    db: &'static str,
    first: f64,
    unchanged: f64,
    changed: f64,
    read_changed: i64,
    with_data: i64,
}

async fn scan(app: &App, ctx: &Ctx, loc: i64) -> (f64, i64, i64) {
    let t = Instant::now();
    app.request_scan(ctx, loc).await.unwrap();
    while app.run_next_scan("bench").await.unwrap().is_some() {}
    let secs = t.elapsed().as_secs_f64();
    let s = app.store.scans(loc, 1).await.unwrap().remove(0);
    assert_eq!(s.status, "done", "{:?}", s.error);
    (secs, s.files_read, s.files_with_data)
}

async fn run(db: &'static str, store: Store, root: &Path, n: usize) -> Row {
    let key_dir = std::env::temp_dir().join(format!(
        "mamori-bench-discovery-keys-{db}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&key_dir);
    let keys = Keys::load_or_create(&key_dir, true).unwrap();
    let settings = Settings {
        discovery_roots: vec![root.parent().unwrap().to_string_lossy().into_owned()],
        ..Settings::default()
    };
    let (app, _writer) = App::new(store, keys, Arc::new(SystemClock), settings);
    let l = Ctx::local();
    let co = app
        .create_company(&l, "bench", "ベンチ株式会社")
        .await
        .unwrap();
    let dept = app.create_department(&l, co, None, "本社").await.unwrap();
    let (uid, _) = app
        .create_user(
            &l,
            &mamori_app::admin::UserInput {
                company_id: Some(co),
                department_id: dept,
                login: "tanaka".into(),
                display_name: "田中".into(),
                email: "tanaka@example.jp".into(),
                roles: vec![Role::PrivacyOffice],
                password: Some("correct horse battery".into()),
                locale: "ja".into(),
            },
        )
        .await
        .unwrap();
    let ctx = Ctx::user(app.store.get_user(uid).await.unwrap(), "local");
    let loc = app
        .add_location(
            &ctx,
            LocationInput {
                name: "共有".into(),
                path: root.to_string_lossy().into_owned(),
                department_id: dept,
                interval_hours: "0".into(),
                enabled: true,
            },
        )
        .await
        .unwrap();
    let (mut firsts, mut unchanged, mut changed) = (Vec::new(), Vec::new(), Vec::new());
    let (mut read_changed, mut with_data) = (0, 0);
    for round in 0..3 {
        // A first scan: forget what was seen by scanning a fresh location of the same folder.
        let first_loc = if round == 0 {
            loc
        } else {
            app.add_location(
                &ctx,
                LocationInput {
                    name: format!("共有{round}"),
                    path: root.to_string_lossy().into_owned(),
                    department_id: dept,
                    interval_hours: "0".into(),
                    enabled: true,
                },
            )
            .await
            .unwrap()
        };
        // A new location is due at once; the worker's task queues it.
        let t = Instant::now();
        app.store
            .queue_due_scans(app.clock.now_micros())
            .await
            .unwrap();
        while app.run_next_scan("bench").await.unwrap().is_some() {}
        firsts.push(t.elapsed().as_secs_f64());
        let s = app.store.scans(first_loc, 1).await.unwrap().remove(0);
        with_data = s.files_with_data;
        assert_eq!(s.files_read, n as i64, "the first scan reads every file");
        let (u, read, _) = scan(&app, &ctx, first_loc).await;
        assert_eq!(read, 0, "nothing changed, nothing read");
        unchanged.push(u);
        change_some(root, n, round);
        let (c, read, _) = scan(&app, &ctx, first_loc).await;
        read_changed = read;
        changed.push(c);
        println!(
            "  {db} round {}: first {:.2} s, unchanged {:.3} s, 1 % changed {:.3} s ({read} read) (load {})",
            round + 1,
            firsts[round],
            unchanged[round],
            changed[round],
            common::loadavg()
        );
    }
    Row {
        db,
        first: common::median(firsts),
        unchanged: common::median(unchanged),
        changed: common::median(changed),
        read_changed,
        with_data,
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let n: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.replace('_', "").parse().ok())
        .or_else(|| {
            std::env::var("MAMORI_BENCH_DISCOVERY_N")
                .ok()
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(20_000);
    let base = std::env::temp_dir().join(format!("mamori-bench-share-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    let root = base.join("share");
    std::fs::create_dir_all(&root).unwrap();
    let root = std::fs::canonicalize(&root).unwrap();
    let bytes = make_share(&root, n);
    println!(
        "discovery benchmark: {n} files, {:.1} MB, load {}",
        bytes as f64 / 1e6,
        common::loadavg()
    );
    let mut rows = Vec::new();
    for (db, store) in common::stores("discovery").await {
        rows.push(run(db, store, &root, n).await);
    }
    println!();
    println!("| database | files | with data | first scan | files/s | unchanged rescan | vs first | 1 % changed, 1 % touched | read | vs first |");
    println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    for r in &rows {
        println!(
            "| {} | {n} | {} | {:.2} s | {:.0} | {:.3} s | {:.1} % | {:.3} s | {} | {:.1} % |",
            r.db,
            r.with_data,
            r.first,
            n as f64 / r.first,
            r.unchanged,
            100.0 * r.unchanged / r.first,
            r.changed,
            r.read_changed,
            100.0 * r.changed / r.first
        );
    }
    let _ = std::fs::remove_dir_all(&base);
}
