//! Impact-analysis benchmark (issue 14), on SQLite and PostgreSQL: a vault of N persons
//! (default 1,000,000, bulk-loaded through `App::vault_import`) and a leaked list of N rows
//! matched through `App::match_leaked` in batches of 5,000 — the entry point the evidence
//! reader calls. Half the leaked rows match a person (25 % by e-mail written in upper case,
//! 10 % by phone written `+81 …`, 15 % by name + birth date only, in katakana with a 和暦 date);
//! half match nobody (their contact data is sealed and deduplicated). Target: under 60 s per
//! database (goal 10 s) for the matching.
//!
//! Run: `scripts/bench-impact [N]` (or `MAMORI_BENCH_IMPACT_N=N cargo bench -p mamori-cli
//! --bench impact`); `MAMORI_SKIP_POSTGRES=1` for SQLite only.

#[path = "common.rs"]
#[expect(
    dead_code,
    reason = "the shared helpers; this benchmark takes no medians"
)]
mod common;

use mamori_app::clock::SystemClock;
use mamori_app::incident::FirstReportInput;
use mamori_app::keys::Keys;
use mamori_app::vault_import::ImportOptions;
use mamori_app::{App, Ctx, Settings};
use mamori_domain::impact::{LeakedField as F, LeakedRow};
use mamori_domain::role::Role;
use mamori_store::Store;
use std::sync::Arc;
use std::time::Instant;

const SCHEMA: &str = "name:name, kana:kana_name, email:email, phone:phone, zip:postal_code, \
    address:address, birth:birth_date";

const FAMILY: [(&str, &str); 20] = [
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
    ("吉田", "ヨシダ"),
    ("山田", "ヤマダ"),
    ("佐々木", "ササキ"),
    ("山口", "ヤマグチ"),
    ("松本", "マツモト"),
    ("井上", "イノウエ"),
    ("木村", "キムラ"),
    ("林", "ハヤシ"),
    ("斎藤", "サイトウ"),
    ("清水", "シミズ"),
];
const GIVEN: [(&str, &str); 20] = [
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
    ("花子", "ハナコ"),
    ("太郎", "タロウ"),
    ("次郎", "ジロウ"),
    ("三郎", "サブロウ"),
    ("和子", "カズコ"),
    ("直樹", "ナオキ"),
    ("裕子", "ユウコ"),
    ("浩", "ヒロシ"),
    ("明美", "アケミ"),
    ("学", "マナブ"),
];

/// Person `i`: (kanji name, kana name, e-mail, phone, birth year/month/day). Name + birth date
/// is unique for i < 400 × 365 × 60 (names repeat every 400, dates every 400 persons).
fn person(i: usize) -> (String, String, String, String, (i32, u32, u32)) {
    let (f, fk) = FAMILY[i % 20];
    let (g, gk) = GIVEN[i / 20 % 20];
    let day = (i / 400) as i64;
    let d = chrono::NaiveDate::from_ymd_opt(1940, 1, 1).unwrap() + chrono::Duration::days(day);
    use chrono::Datelike;
    (
        format!("{f} {g}"),
        format!("{fk} {gk}"),
        format!("member{i}@example.jp"),
        format!("090-{:04}-{:04}", i / 10000 % 10000, i % 10000),
        (d.year(), d.month(), d.day()),
    )
}

fn members_csv(n: usize) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(n * 130);
    s.push_str("氏名,フリガナ,メールアドレス,電話番号,郵便番号,住所,生年月日\n");
    for i in 0..n {
        let (name, kana, email, phone, (y, m, d)) = person(i);
        let _ = writeln!(
            s,
            "{name},{kana},{email},{phone},100-{:04},東京都千代田区千代田{}-{}-{},{y}-{m:02}-{d:02}",
            i % 10000,
            1 + i % 9,
            1 + i / 9 % 30,
            1 + i / 270 % 20,
        );
    }
    s
}

fn wareki(y: i32, m: u32, d: u32) -> String {
    if y >= 1989 {
        format!("平成{}年{m}月{d}日", y - 1988)
    } else {
        format!("昭和{}年{m}月{d}日", y - 1925)
    }
}

/// The leaked list: N rows, half of them persons of the vault in other spellings.
fn leaked(n: usize) -> Vec<LeakedRow> {
    (0..n)
        .map(|i| {
            let locator = format!("leak.csv:{}", i + 2);
            let values = match i % 20 {
                0..=4 => {
                    let (name, _, email, _, _) = person(i);
                    vec![(F::Name, name), (F::Email, email.to_uppercase())]
                }
                5..=6 => {
                    let (_, _, _, phone, _) = person(i);
                    vec![(F::Phone, format!("+81 {}", &phone[1..]))]
                }
                7..=9 => {
                    let (_, kana, _, _, (y, m, d)) = person(i);
                    vec![(F::KanaName, kana), (F::BirthDate, wareki(y, m, d))]
                }
                _ => vec![
                    (F::Name, format!("部外 者{i}")),
                    (F::Email, format!("outsider{i}@example.com")),
                    (
                        F::Phone,
                        format!("080-{:04}-{:04}", i / 10000 % 10000, i % 10000),
                    ),
                ],
            };
            LeakedRow { locator, values }
        })
        .collect()
}

async fn setup(store: Store, tag: &str) -> (App, i64) {
    let dir = std::env::temp_dir().join(format!(
        "mamori-bench-impact-keys-{tag}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    let keys = Keys::load_or_create(&dir, true).unwrap();
    let (app, _writer) = App::new(store, keys, Arc::new(SystemClock), Settings::default());
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
                login: "reporter".into(),
                display_name: "報告 者".into(),
                email: "reporter@example.jp".into(),
                roles: vec![Role::PrivacyOffice],
                password: Some("correct horse battery".into()),
                locale: "ja".into(),
            },
        )
        .await
        .unwrap();
    let reporter = Ctx::user(app.store.get_user(uid).await.unwrap(), "127.0.0.1");
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
    let (incident, _) = app
        .file_first_report(
            &reporter,
            &FirstReportInput {
                description: "会員リストの流出".into(),
                event: "leak".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    (app, incident)
}

struct Row {
    db: &'static str,
    import_secs: f64,
    rows: u64,
    secs: f64,
    matched: u64,
    unmatched: u64,
    persons: u64,
}

async fn run(db: &'static str, store: Store, csv: &str, rows: &[LeakedRow]) -> Row {
    let (app, incident) = setup(store, db).await;
    let t = Instant::now();
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
    let import_secs = t.elapsed().as_secs_f64();
    println!(
        "  {db}: vault of {} persons imported in {import_secs:.1} s (load {})",
        report.imported,
        common::loadavg()
    );
    let t = Instant::now();
    let (mut matched, mut unmatched) = (0, 0);
    for chunk in rows.chunks(5000) {
        let s = app
            .match_leaked(incident, Some(1), chunk.to_vec())
            .await
            .unwrap();
        matched += s.matched;
        unmatched += s.unmatched;
    }
    let secs = t.elapsed().as_secs_f64();
    let persons = app
        .store
        .impact_persons(incident, 0, i64::MAX)
        .await
        .map_or(0, |p| p.len() as u64);
    println!(
        "  {db}: matched {} rows in {secs:.1} s (load {})",
        rows.len(),
        common::loadavg()
    );
    Row {
        db,
        import_secs,
        rows: rows.len() as u64,
        secs,
        matched,
        unmatched,
        persons,
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let n: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.replace('_', "").parse().ok())
        .or_else(|| {
            std::env::var("MAMORI_BENCH_IMPACT_N")
                .ok()
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(1_000_000);
    println!(
        "impact benchmark: vault of {n}, leaked list of {n} rows, load {}",
        common::loadavg()
    );
    let t = Instant::now();
    let csv = members_csv(n);
    let rows = leaked(n);
    println!("  generated the data in {:.1} s", t.elapsed().as_secs_f64());
    let mut results = Vec::new();
    for (db, store) in common::stores("impact").await {
        results.push(run(db, store, &csv, &rows).await);
    }
    println!();
    println!(
        "| database | rows | seconds | rows/s | matched | unmatched | persons | vault import |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- | --- |");
    for r in &results {
        println!(
            "| {} | {} | {:.1} | {:.0} | {} | {} | {} | {:.1} s |",
            r.db,
            r.rows,
            r.secs,
            r.rows as f64 / r.secs,
            r.matched,
            r.unmatched,
            r.persons,
            r.import_secs
        );
    }
}
