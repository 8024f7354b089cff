//! Compliance-programme benchmark (issue 17): a company of 10,000 people with 24 months of
//! monthly self-inspections; the department radar page and the monthly report must render
//! with p99 under 100 ms on SQLite and PostgreSQL.
//!
//! Per database: one company with 100 departments (10 divisions of 9 sections under a board),
//! 10,000 active people (100 of them department heads), the default question sets, and 24
//! monthly rounds (2025-01 to 2026-12) opened through the application (who is expected per
//! department), each answered by about 95 % of the people — 240,000 answers imported in bulk
//! and counted with `recount_inspection_round` (the counts equal those kept one answer at a
//! time; the app tests check that). The clock stands at 2026-12-20 10:00 JST. The real router
//! on 127.0.0.1; sessions from the real login of a department head (a section's head) and of
//! an executive (who reads the whole company, as the privacy office does). Requests go one after another from one client (reqwest, keep-alive),
//! so the latency is the page's own, not a queue's.
//!
//! Measured, each `N` times after a warm-up (default 300, `MAMORI_BENCH_PROGRAMME_N`):
//! - `radar (head)` — `/programme/inspections/departments/{own section}` as its head;
//! - `radar (executive)` — the same page of a division as an executive;
//! - `report (executive)` — `/programme/report?month=2026-11` for the whole company
//!   (100 radar charts);
//! - `report (head)` — the same for the head (the own section);
//! - `report PDF` — `/programme/report.pdf?month=2026-11` (not a target; printed for scale);
//! - baseline `account` — `/account`, a small logged-in page through the same stack, so the
//!   ratio shows what the pages cost over the stack itself.
//!
//! Run: `cargo bench -p mamori-cli --bench programme` (PostgreSQL as in `common::stores`:
//! `MAMORI_BENCH_POSTGRES_URL`, `MAMORI_SKIP_POSTGRES=1` to skip).

#[path = "common.rs"]
mod common;

use chrono::TimeZone;
use mamori_app::clock::ManualClock;
use mamori_app::keys::Keys;
use mamori_app::{App, Ctx, Settings};
use mamori_domain::programme::schedule::Month;
use mamori_domain::role::Role;
use mamori_store::inspections::NewAnswer;
use mamori_store::users::NewUser;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

const PEOPLE: usize = 10_000;
const DIVISIONS: usize = 10;
const SECTIONS: usize = 9;
const MONTHS: usize = 24;
const TARGET_P99_MS: f64 = 100.0;
const PASSWORD: &str = "bench-password-1234";

fn mix(a: u64, b: u64) -> u64 {
    let mut x = a.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ b.wrapping_mul(0xC2B2_AE3D_27D4_EB4F);
    x ^= x >> 31;
    x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x ^ (x >> 29)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

struct Seeded {
    app: App,
    head_section: i64,
    division: i64,
}

#[allow(clippy::too_many_lines)]
async fn seed(store: mamori_store::Store) -> Seeded {
    let now = chrono::FixedOffset::east_opt(9 * 3600)
        .unwrap()
        .with_ymd_and_hms(2026, 12, 20, 10, 0, 0)
        .unwrap()
        .timestamp_micros();
    let keys = Keys::load_or_create(
        &std::env::temp_dir().join(format!("mamori-bench-prog-keys-{}", std::process::id())),
        true,
    )
    .unwrap();
    let (app, _w) = App::new(
        store.clone(),
        keys,
        Arc::new(ManualClock::new(now)),
        Settings::default(),
    );
    let l = Ctx::local();
    let co = app
        .create_company(&l, "bench", "株式会社ベンチ")
        .await
        .unwrap();
    let board = app
        .create_department(&l, co, None, "取締役会")
        .await
        .unwrap();
    let mut sections = Vec::new();
    let mut divisions = Vec::new();
    for d in 0..DIVISIONS {
        let div = app
            .create_department(&l, co, Some(board), &format!("第{}事業部", d + 1))
            .await
            .unwrap();
        divisions.push(div);
        for s in 0..SECTIONS {
            sections.push(
                app.create_department(&l, co, Some(div), &format!("第{}事業部 {}課", d + 1, s + 1))
                    .await
                    .unwrap(),
            );
        }
    }
    let hash = app.argon2.hash(PASSWORD).await.unwrap();
    let mut all_depts = divisions.clone();
    all_depts.extend(&sections);
    for i in 0..PEOPLE {
        let dept = all_depts[i % all_depts.len()];
        // The first person of each department heads it.
        let role = if i < all_depts.len() {
            Role::DepartmentHead
        } else {
            Role::Staff
        };
        let login = format!("p{i:05}");
        store
            .create_user(
                &NewUser {
                    company_id: co,
                    department_id: dept,
                    login: &login,
                    display_name: &format!("社員 {i:05}"),
                    email: &format!("{login}@bench.example"),
                    password_hash: &hash,
                    roles: &[role],
                    locale: "ja",
                },
                now,
            )
            .await
            .unwrap();
    }
    store
        .create_user(
            &NewUser {
                company_id: co,
                department_id: board,
                login: "executive",
                display_name: "役員",
                email: "executive@bench.example",
                password_hash: &hash,
                roles: &[Role::Executive],
                locale: "ja",
            },
            now,
        )
        .await
        .unwrap();
    let users = store.list_users(Some(co)).await.unwrap();
    let mut month = Month {
        year: 2025,
        month: 1,
    };
    for age in (0..MONTHS as u64).rev() {
        let (round, _) = app
            .open_inspection_round_for(co, month, "bench", None)
            .await
            .unwrap();
        let mut batch = Vec::with_capacity(users.len());
        for u in &users {
            if mix(u.id as u64, age).is_multiple_of(20) {
                continue;
            }
            let replies: String = (0..15u64)
                .map(|item| {
                    let weak = (u.department_id as u64 + item).is_multiple_of(6);
                    let p = if weak { 20 + age } else { 3 + age / 3 };
                    if mix(u.id as u64 * 31 + item, age) % 100 < p {
                        'n'
                    } else {
                        'y'
                    }
                })
                .collect();
            batch.push(NewAnswer {
                round_id: round.id,
                company_id: co,
                audience: "individual".into(),
                set_id: round.individual_set_id,
                user_id: u.id,
                department_id: u.department_id,
                replies,
                notes_sealed: None,
                submitted_at: now,
            });
            if u.roles.contains(Role::DepartmentHead) {
                batch.push(NewAnswer {
                    round_id: round.id,
                    company_id: co,
                    audience: "manager".into(),
                    set_id: round.manager_set_id,
                    user_id: u.id,
                    department_id: u.department_id,
                    replies: "yyyyyyynyy".into(),
                    notes_sealed: None,
                    submitted_at: now,
                });
            }
        }
        for chunk in batch.chunks(5_000) {
            store.insert_inspection_answers(chunk).await.unwrap();
        }
        store.recount_inspection_round(round.id).await.unwrap();
        month = month.next();
    }
    Seeded {
        app,
        head_section: sections[0],
        division: divisions[0],
    }
}

async fn session(app: &App, login: &str) -> String {
    app.login(&Ctx::anonymous("127.0.0.1"), login, PASSWORD, "bench")
        .await
        .unwrap()
        .token
}

async fn measure(client: &reqwest::Client, url: &str, cookie: &str, n: usize) -> (Vec<f64>, usize) {
    let mut bytes = 0;
    for _ in 0..5 {
        let r = client
            .get(url)
            .header("Cookie", cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{url} must answer 200");
        bytes = r.bytes().await.unwrap().len();
    }
    let mut v = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        let r = client
            .get(url)
            .header("Cookie", cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let _ = r.bytes().await.unwrap();
        v.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    v.sort_by(f64::total_cmp);
    (v, bytes)
}

#[tokio::main]
async fn main() {
    let n: usize = std::env::var("MAMORI_BENCH_PROGRAMME_N")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(300);
    println!("load average at start: {}", common::loadavg());
    let mut rows = Vec::new();
    for (db, store) in common::stores("programme").await {
        let t = Instant::now();
        let s = seed(store.clone()).await;
        let answers: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM inspection_answers")
            .fetch_one(store.pool())
            .await
            .unwrap();
        println!(
            "{db}: seeded {PEOPLE} people, {MONTHS} rounds, {answers} answers in {:.0} s",
            t.elapsed().as_secs_f64()
        );
        // The head of the first section, and an executive (the whole company).
        let head_login = {
            let users = store.list_users(None).await.unwrap();
            users
                .iter()
                .find(|u| {
                    u.department_id == s.head_section && u.roles.contains(Role::DepartmentHead)
                })
                .unwrap()
                .login
                .clone()
        };
        let head = format!("mamori_session={}", session(&s.app, &head_login).await);
        let privacy = format!("mamori_session={}", session(&s.app, "executive").await);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let router = mamori_web::router(s.app.clone(), mamori_web::WebConfig::default());
        let server = tokio::spawn(async move {
            axum::serve(
                listener,
                router.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await
            .unwrap();
        });
        let client = reqwest::Client::builder().build().unwrap();
        let base = format!("http://{addr}");
        let pages = [
            (
                "account (baseline)",
                format!("{base}/account"),
                &privacy,
                true,
            ),
            (
                "radar (head)",
                format!(
                    "{base}/programme/inspections/departments/{}",
                    s.head_section
                ),
                &head,
                true,
            ),
            (
                "radar (executive)",
                format!("{base}/programme/inspections/departments/{}", s.division),
                &privacy,
                true,
            ),
            (
                "report (executive)",
                format!("{base}/programme/report?month=2026-11"),
                &privacy,
                true,
            ),
            (
                "report (head)",
                format!("{base}/programme/report?month=2026-11"),
                &head,
                true,
            ),
            (
                "report PDF (executive)",
                format!("{base}/programme/report.pdf?month=2026-11"),
                &privacy,
                false,
            ),
        ];
        for (name, url, cookie, target) in pages {
            let count = if target { n } else { n / 10 };
            let (v, bytes) = measure(&client, &url, cookie, count).await;
            rows.push((
                db,
                name,
                common::median(v.clone()),
                percentile(&v, 0.99),
                bytes,
                target,
            ));
        }
        server.abort();
    }
    println!("\n| database | page | p50 ms | p99 ms | bytes | target p99 < {TARGET_P99_MS} ms |");
    println!("| --- | --- | ---: | ---: | ---: | --- |");
    for (db, name, p50, p99, bytes, target) in &rows {
        let verdict = if !target || name.contains("baseline") {
            "-".to_owned()
        } else if *p99 < TARGET_P99_MS {
            "met".to_owned()
        } else {
            "NOT met".to_owned()
        };
        println!("| {db} | {name} | {p50:.1} | {p99:.1} | {bytes} | {verdict} |");
    }
    for db in ["SQLite", "PostgreSQL"] {
        let base = rows
            .iter()
            .find(|r| r.0 == db && r.1.contains("baseline"))
            .map(|r| r.2);
        if let Some(b) = base {
            for r in rows
                .iter()
                .filter(|r| r.0 == db && !r.1.contains("baseline"))
            {
                println!("{db}: {} p50 is {:.1}× the baseline's", r.1, r.2 / b);
            }
        }
    }
    println!("load average at end: {}", common::loadavg());
}
