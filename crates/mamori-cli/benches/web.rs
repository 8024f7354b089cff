//! Page latency benchmark (issue 2): a logged-in page with 100,000 audit entries in the
//! database, 64 concurrent connections from wrk on loopback, each request recorded durably in
//! the audit log as in production. Reports wrk's latency percentiles.
//!
//! Run: `cargo bench -p mamori-cli --bench web` (needs `wrk`: apt-get install wrk).

#[path = "common.rs"]
mod common;

use mamori_app::clock::SystemClock;
use mamori_app::keys::Keys;
use mamori_app::{App, Ctx, Settings};
use mamori_domain::audit::{AuditRecord, Outcome};
use std::net::SocketAddr;
use std::process::Command;
use std::sync::Arc;

fn record(i: i64) -> AuditRecord {
    AuditRecord {
        at_micros: 1_767_225_600_000_000 + i,
        actor_id: None,
        actor: format!("user{}", i % 50),
        ip: "127.0.0.1".into(),
        action: "GET /".into(),
        target: "/".into(),
        outcome: Outcome::Success,
        detail: "{}".into(),
        company_id: None,
    }
}

/// wrk's "Latency Distribution" lines: 50%, 75%, 90%, 99% in milliseconds.
fn percentiles(out: &str) -> Vec<(String, f64)> {
    let mut v = Vec::new();
    let mut on = false;
    for line in out.lines() {
        if line.contains("Latency Distribution") {
            on = true;
            continue;
        }
        if on {
            let parts: Vec<&str> = line.split_whitespace().collect();
            if parts.len() != 2 || !parts[0].ends_with('%') {
                break;
            }
            let t = parts[1];
            let ms = if let Some(x) = t.strip_suffix("us") {
                x.parse::<f64>().unwrap() / 1000.0
            } else if let Some(x) = t.strip_suffix("ms") {
                x.parse::<f64>().unwrap()
            } else if let Some(x) = t.strip_suffix('s') {
                x.parse::<f64>().unwrap() * 1000.0
            } else {
                f64::NAN
            };
            v.push((parts[0].to_owned(), ms));
        }
    }
    v
}

#[tokio::main]
async fn main() {
    assert!(
        Command::new("wrk").arg("--version").output().is_ok(),
        "install wrk: apt-get install wrk"
    );
    println!("load average at start: {}", common::loadavg());
    let mut table = Vec::new();
    for (name, store) in common::stores("web").await {
        let keys = Keys::load_or_create(
            &std::env::temp_dir().join(format!("mamori-bench-keys-{}", std::process::id())),
            true,
        )
        .unwrap();
        let (app, _w) = App::new(
            store.clone(),
            keys,
            Arc::new(SystemClock),
            Settings::default(),
        );
        let logins = app.seed_demo().await.unwrap();
        let yamada = logins.iter().find(|l| l.login == "yamada").unwrap();
        let have = store.count_audit().await.unwrap();
        let mut done = have;
        while done < 100_000 {
            let batch: Vec<AuditRecord> =
                (done..(done + 10_000).min(100_000)).map(record).collect();
            done += batch.len() as i64;
            store.append_audit(batch).await.unwrap();
        }
        let li = app
            .login(
                &Ctx::anonymous("127.0.0.1"),
                "yamada",
                &yamada.password,
                "bench",
            )
            .await
            .unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let router = mamori_web::router(app.clone(), mamori_web::WebConfig::default());
        let server = tokio::spawn(async move {
            axum::serve(
                listener,
                router.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await
            .unwrap();
        });
        let cookie = format!("Cookie: mamori_session={}", li.token);
        let url = format!("http://{addr}/");
        let mut p99s = Vec::new();
        let mut last = String::new();
        for _ in 0..3 {
            let out = tokio::task::spawn_blocking({
                let (cookie, url) = (cookie.clone(), url.clone());
                move || {
                    Command::new("wrk")
                        .args(["-t2", "-c64", "-d8s", "--latency", "-H", &cookie, &url])
                        .output()
                        .unwrap()
                }
            })
            .await
            .unwrap();
            let text = String::from_utf8_lossy(&out.stdout).into_owned();
            assert!(
                !text.contains("Non-2xx"),
                "the page must answer 200 to a logged-in session:\n{text}"
            );
            let p = percentiles(&text);
            p99s.push(p.iter().find(|(k, _)| k == "99%").map_or(f64::NAN, |x| x.1));
            last = text;
        }
        println!("--- {name}: last wrk run ---\n{last}");
        let rps = last
            .lines()
            .find(|l| l.starts_with("Requests/sec"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|x| x.parse::<f64>().ok())
            .unwrap_or(f64::NAN);
        let entries = store.count_audit().await.unwrap();
        table.push((name, common::median(p99s), percentiles(&last), rps, entries));
        server.abort();
        drop(app);
    }
    println!("load average at end: {}", common::loadavg());
    println!("| database | p50 (ms) | p90 (ms) | p99 (ms, median of 3 runs) | requests/s | audit entries at end |");
    println!("|---|---:|---:|---:|---:|---:|");
    for (name, p99, p, rps, entries) in table {
        let get = |k: &str| p.iter().find(|(x, _)| x == k).map_or(f64::NAN, |x| x.1);
        println!(
            "| {name} | {:.2} | {:.2} | {p99:.2} | {rps:.0} | {entries} |",
            get("50%"),
            get("90%")
        );
    }
}
