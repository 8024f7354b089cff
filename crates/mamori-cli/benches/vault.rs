//! Vault benchmarks (issue 5), on SQLite and PostgreSQL, through the same use cases the
//! command line and the pages call (`App::vault_import`, `App::vault_lookup`,
//! `App::rewrap_keys`), with the audit writer on (every lookup is recorded durably before it
//! answers).
//!
//! (a) **Import** of N ten-field records (default 1,000,000) from a UTF-8 CSV in memory:
//!     checking, per-person data keys, ten sealed fields, four blind-index classes, batches of
//!     2,000 with the import's progress. Target: ≥ 50,000 records/s on SQLite.
//!     Peer, in the same run on the same PostgreSQL: what a team would build with pgcrypto —
//!     `pgp_sym_encrypt` per field and a `digest` index on the e-mail, fed by the same batches
//!     of 2,000 rows as JSON (on a sample of `MAMORI_BENCH_PGCRYPTO_N`, default 20,000 rows,
//!     because it is slow; the rate is what is compared).
//! (b) **Lookup by e-mail** with N persons stored: 32 concurrent callers, 3 rounds of 5 s, random
//!     existing addresses, each answered masked and recorded in the audit log. Target: p99
//!     < 5 ms.
//! (c) **Re-wrap** of N data keys after `rotate-key` (three rotations, the median). Target:
//!     ≥ 100,000 keys/s.
//!
//! Run: `cargo bench -p mamori-cli --bench vault`. `MAMORI_BENCH_VAULT_N=100000` for a quick
//! run, `MAMORI_SKIP_POSTGRES=1` for SQLite only, `MAMORI_BENCH_PART=import` for (a) only.

#[path = "common.rs"]
mod common;

use mamori_app::clock::SystemClock;
use mamori_app::keys::Keys;
use mamori_app::vault::LookupBy;
use mamori_app::vault_import::ImportOptions;
use mamori_app::{App, Ctx, Settings};
use mamori_domain::role::Role;
use mamori_store::{Backend, Store};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const SCHEMA: &str = "name:name, kana:kana_name, email:email, phone:phone, zip:postal_code, \
    address:address, birth:birth_date, shipped:date, customer:customer_id, gender:gender";

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const FAMILY: [(&str, &str); 10] = [
    ("佐藤", "サトウ"),
    ("鈴木", "スズキ"),
    ("高橋", "タカハシ"),
    ("田中", "タナカ"),
    ("伊藤", "イトウ"),
    ("渡辺", "ワタナベ"),
    ("山本", "ヤマモト"),
    ("中村", "ナカムラ"),
    ("小林", "コバヤシ"),
    ("加藤", "カトウ"),
];
const GIVEN: [(&str, &str); 10] = [
    ("陽子", "ヨウコ"),
    ("健太", "ケンタ"),
    ("美咲", "ミサキ"),
    ("大輔", "ダイスケ"),
    ("真由美", "マユミ"),
    ("翔太", "ショウタ"),
    ("恵", "メグミ"),
    ("拓也", "タクヤ"),
    ("由美子", "ユミコ"),
    ("誠", "マコト"),
];
const PREF: [&str; 5] = [
    "東京都渋谷区神南",
    "大阪府大阪市北区梅田",
    "愛知県名古屋市中区栄",
    "福岡県福岡市博多区博多駅前",
    "北海道札幌市中央区北一条西",
];

fn email(i: usize) -> String {
    format!("member{i}@example.jp")
}

/// N rows of a member export: ten fields, all valid, every e-mail distinct.
fn members_csv(n: usize) -> String {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut s = String::with_capacity(n * 160);
    s.push_str("氏名,フリガナ,メールアドレス,電話番号,郵便番号,住所,生年月日,発送日,顧客ID,性別\n");
    for i in 0..n {
        let (f, fk) = FAMILY[rng.below(10) as usize];
        let (g, gk) = GIVEN[rng.below(10) as usize];
        use std::fmt::Write;
        let _ = writeln!(
            s,
            "{f} {g},{fk} {gk},{},090-{:04}-{:04},{:03}-{:04},{}{}-{}-{},{}-{:02}-{:02},2026-{:02}-{:02},C{:08},{}",
            email(i),
            i / 10000 % 10000,
            i % 10000,
            100 + rng.below(900),
            rng.below(10000),
            PREF[rng.below(5) as usize],
            1 + rng.below(9),
            1 + rng.below(30),
            1 + rng.below(20),
            1940 + rng.below(65),
            1 + rng.below(12),
            1 + rng.below(28),
            1 + rng.below(11),
            1 + rng.below(28),
            i,
            if rng.below(2) == 0 { "女" } else { "男" },
        );
    }
    s
}

fn pct(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

struct Result1 {
    db: &'static str,
    import_rate: f64,
    import_secs: f64,
    p50: f64,
    p99: f64,
    lookups: u64,
    rewrap_rate: f64,
    rewrap_secs: f64,
    pgcrypto_rate: Option<f64>,
}

async fn setup(store: Store, tag: &str) -> (App, i64, Ctx) {
    let dir = std::env::temp_dir().join(format!(
        "mamori-bench-vault-keys-{tag}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    let keys = Keys::load_or_create(&dir, true).unwrap();
    // The per-user lookup limits stay in force (their counter is part of a lookup's cost), set
    // high enough that the benchmark's one custodian is never refused.
    let settings = Settings {
        vault_lookups_per_minute: 1_000_000_000,
        vault_lookups_per_hour: 1_000_000_000,
        ..Settings::default()
    };
    let (app, _writer) = App::new(store, keys, Arc::new(SystemClock), settings);
    app.open_vault_default(true).await.unwrap();
    let l = Ctx::local();
    let co = app
        .create_company(&l, "bench", "株式会社ベンチ")
        .await
        .unwrap();
    let dept = app.create_department(&l, co, None, "本社").await.unwrap();
    let (uid, _) = app
        .create_user(
            &l,
            &mamori_app::admin::UserInput {
                company_id: Some(co),
                department_id: dept,
                login: "custodian".into(),
                display_name: "保管 責任者".into(),
                email: "custodian@example.jp".into(),
                roles: vec![Role::Custodian],
                password: Some("correct horse battery".into()),
                locale: "ja".into(),
            },
        )
        .await
        .unwrap();
    let custodian = Ctx::user(app.store.get_user(uid).await.unwrap(), "127.0.0.1");
    let id = app
        .create_dataset(
            &l,
            mamori_domain::ledger::DatasetInput {
                name: "会員情報".into(),
                department_id: dept,
                items: vec![mamori_domain::appi::item::Item::Name],
                purpose: "ベンチマーク".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let v = app.store.get_dataset(id).await.unwrap().version;
    app.set_vault_schema(&l, id, v, SCHEMA, None).await.unwrap();
    (app, id, custodian)
}

async fn pgcrypto(store: &Store, csv: &str, n: usize) -> f64 {
    let pool = store.pool();
    sqlx::query("CREATE EXTENSION IF NOT EXISTS pgcrypto")
        .execute(pool)
        .await
        .unwrap();
    sqlx::query("DROP TABLE IF EXISTS pgcrypto_members")
        .execute(pool)
        .await
        .unwrap();
    sqlx::query(
        "CREATE TABLE pgcrypto_members (id BIGSERIAL PRIMARY KEY, name BYTEA, kana BYTEA, \
         email BYTEA, phone BYTEA, zip BYTEA, address BYTEA, birth BYTEA, shipped BYTEA, \
         customer BYTEA, gender BYTEA, email_digest BYTEA)",
    )
    .execute(pool)
    .await
    .unwrap();
    sqlx::query("CREATE INDEX pgcrypto_members_email ON pgcrypto_members (email_digest)")
        .execute(pool)
        .await
        .unwrap();
    let rows: Vec<Vec<&str>> = csv
        .lines()
        .skip(1)
        .take(n)
        .map(|l| l.split(',').collect())
        .collect();
    let started = Instant::now();
    for chunk in rows.chunks(2000) {
        let json = serde_json::to_string(chunk).unwrap();
        sqlx::query(
            "INSERT INTO pgcrypto_members (name, kana, email, phone, zip, address, birth, shipped, \
             customer, gender, email_digest) SELECT \
             pgp_sym_encrypt(e->>0, $2), pgp_sym_encrypt(e->>1, $2), pgp_sym_encrypt(e->>2, $2), \
             pgp_sym_encrypt(e->>3, $2), pgp_sym_encrypt(e->>4, $2), pgp_sym_encrypt(e->>5, $2), \
             pgp_sym_encrypt(e->>6, $2), pgp_sym_encrypt(e->>7, $2), pgp_sym_encrypt(e->>8, $2), \
             pgp_sym_encrypt(e->>9, $2), digest(lower(e->>2), 'sha256') \
             FROM json_array_elements(CAST($1 AS TEXT)::json) AS e",
        )
        .bind(json)
        .bind("bench-master-key-0123456789abcdef")
        .execute(pool)
        .await
        .unwrap();
    }
    rows.len() as f64 / started.elapsed().as_secs_f64()
}

async fn run(db: &'static str, store: Store, csv: &str, n: usize) -> Result1 {
    let backend = store.backend();
    let (app, ds, custodian) = setup(store.clone(), db).await;
    // (a) import
    let started = Instant::now();
    let report = app
        .vault_import(
            &Ctx::local(),
            csv.as_bytes(),
            &ImportOptions {
                dataset: "会員情報".into(),
                file_name: "members.csv".into(),
                ..Default::default()
            },
            &|_| true,
        )
        .await
        .unwrap();
    let import_secs = started.elapsed().as_secs_f64();
    assert_eq!(report.imported as usize, n, "{:?}", report.rejects.first());
    let import_rate = n as f64 / import_secs;
    println!(
        "  {db}: import {n} records in {import_secs:.1} s = {import_rate:.0}/s (load {})",
        common::loadavg()
    );
    if backend == Backend::Sqlite {
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(store.pool())
            .await
            .ok();
    }
    if std::env::var("MAMORI_BENCH_PART").as_deref() == Ok("import") {
        return Result1 {
            db,
            import_rate,
            import_secs,
            p50: f64::NAN,
            p99: f64::NAN,
            lookups: 0,
            rewrap_rate: f64::NAN,
            rewrap_secs: f64::NAN,
            pgcrypto_rate: None,
        };
    }
    // (b) lookups: 32 callers, 3 rounds of 5 s; the median of the rounds' percentiles.
    let (mut p50s, mut p99s, mut total) = (Vec::new(), Vec::new(), 0u64);
    for round in 0..3u64 {
        let stop_at = Instant::now() + Duration::from_secs(5);
        let count = Arc::new(AtomicU64::new(0));
        let mut tasks = Vec::new();
        for t in 0..32u64 {
            let app = app.clone();
            let ctx = custodian.clone();
            let count = count.clone();
            tasks.push(tokio::spawn(async move {
                let mut rng = Rng(0x1234_5678 + t * 7919 + round * 104_729);
                let mut lat = Vec::new();
                while Instant::now() < stop_at {
                    let i = rng.below(n as u64) as usize;
                    let t0 = Instant::now();
                    let (_, found) = app
                        .vault_lookup(&ctx, ds, &LookupBy::Email(email(i)))
                        .await
                        .unwrap();
                    lat.push(t0.elapsed().as_secs_f64() * 1000.0);
                    assert_eq!(found.len(), 1);
                    count.fetch_add(1, Ordering::Relaxed);
                }
                lat
            }));
        }
        let mut lat = Vec::new();
        for t in tasks {
            lat.extend(t.await.unwrap());
        }
        lat.sort_by(f64::total_cmp);
        println!(
            "  {db}: round {round}: {} lookups in 5 s, p50 {:.2} ms, p99 {:.2} ms",
            lat.len(),
            pct(&lat, 0.5),
            pct(&lat, 0.99)
        );
        p50s.push(pct(&lat, 0.5));
        p99s.push(pct(&lat, 0.99));
        total += count.load(Ordering::Relaxed);
    }
    let (p50, p99) = (common::median(p50s), common::median(p99s));
    // (c) rotate and re-wrap, three times; the median rate.
    let mut rates = Vec::new();
    let mut secs = Vec::new();
    for _ in 0..3 {
        app.rotate_vault_key(&Ctx::local()).await.unwrap();
        let started = Instant::now();
        let done = app.rewrap_keys(5000, None).await.unwrap();
        let s = started.elapsed().as_secs_f64();
        assert_eq!(done as usize, n);
        println!(
            "  {db}: re-wrapped {n} keys in {s:.1} s = {:.0}/s",
            n as f64 / s
        );
        rates.push(n as f64 / s);
        secs.push(s);
    }
    let (rewrap_rate, rewrap_secs) = (common::median(rates), common::median(secs));
    let pgcrypto_rate = if backend == Backend::Postgres {
        let m: usize = std::env::var("MAMORI_BENCH_PGCRYPTO_N")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(20_000);
        let r = pgcrypto(&store, csv, m.min(n)).await;
        println!("  {db}: pgcrypto insert of {} rows: {r:.0}/s", m.min(n));
        Some(r)
    } else {
        None
    };
    Result1 {
        db,
        import_rate,
        import_secs,
        p50,
        p99,
        lookups: total,
        rewrap_rate,
        rewrap_secs,
        pgcrypto_rate,
    }
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(
            std::env::var("RUST_LOG")
                .unwrap_or_else(|_| "warn,mamori_app::vault_import=debug".into()),
        ))
        .with_writer(std::io::stderr)
        .init();
    let n: usize = std::env::var("MAMORI_BENCH_VAULT_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    println!("vault benchmark: {n} records, load {}", common::loadavg());
    let t = Instant::now();
    let csv = members_csv(n);
    println!(
        "  generated {} MB of CSV in {:.1} s",
        csv.len() / 1_000_000,
        t.elapsed().as_secs_f64()
    );
    let mut results = Vec::new();
    for (db, store) in common::stores("vault").await {
        results.push(run(db, store, &csv, n).await);
    }
    let pg_crypto = results.iter().find_map(|r| r.pgcrypto_rate);
    println!();
    println!("| database | import (records/s) | import time | vs pgcrypto | lookup p50 (median of 3) | lookup p99 (median of 3) | lookups in 3 × 5 s | re-wrap (keys/s, median of 3) | re-wrap time |");
    println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    for r in &results {
        println!(
            "| {} | {:.0} | {:.1} s | {} | {:.2} ms | {:.2} ms | {} | {:.0} | {:.1} s |",
            r.db,
            r.import_rate,
            r.import_secs,
            pg_crypto.map_or("–".into(), |p| format!("{:.1}×", r.import_rate / p)),
            r.p50,
            r.p99,
            r.lookups,
            r.rewrap_rate,
            r.rewrap_secs
        );
    }
    if let Some(p) = pg_crypto {
        println!("| PostgreSQL pgcrypto (pgp_sym_encrypt × 10 + digest index) | {p:.0} | | 1.0× | | | | | |");
    }
}
