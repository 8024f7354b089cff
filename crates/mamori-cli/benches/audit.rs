//! Audit log benchmark (issue 2): appends with group commit against one commit per entry, on
//! SQLite and PostgreSQL (1,000 concurrent producers, each awaiting its entry's commit), and
//! `audit verify` over a million entries.
//!
//! Run: `cargo bench -p mamori-cli --bench audit` (set MAMORI_SKIP_POSTGRES=1 to skip
//! PostgreSQL). Each figure is the median of three runs.

#[path = "common.rs"]
mod common;

use mamori_app::audit::{verify, AuditLog, Verified};
use mamori_domain::audit::{AuditRecord, Outcome};
use mamori_store::Store;
use std::time::Instant;

/// Each record's time, as a clock would give it: increasing across all runs, so the index on
/// `at` grows at its end as in production (reusing times would insert into its middle).
static CLOCK: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(0);

fn record(i: i64) -> AuditRecord {
    AuditRecord {
        at_micros: 1_767_225_600_000_000 + CLOCK.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        actor_id: Some(i % 50),
        actor: format!("user{}", i % 50),
        ip: "127.0.0.1".into(),
        action: "GET /audit".into(),
        target: format!("/audit?page={i}"),
        outcome: Outcome::Success,
        detail: r#"{"status":200,"request_id":"abcdefabcdef"}"#.into(),
        company_id: Some(1),
    }
}

/// Concurrent producers for group commit: a busy server with a thousand requests in flight,
/// each waiting for its own entry to be durable before it answers (MAMORI_BENCH_PRODUCERS
/// overrides it).
fn producers() -> i64 {
    std::env::var("MAMORI_BENCH_PRODUCERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000)
}

/// `writers` tasks append `per_writer` entries each, every append awaited until durable.
async fn appends(store: &Store, max_batch: usize, writers: i64, per_writer: i64) -> f64 {
    let (log, handle) = AuditLog::start(store.clone(), max_batch);
    let (start, cpu) = (Instant::now(), cpu_seconds());
    let mut tasks = Vec::new();
    for w in 0..writers {
        let log = log.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..per_writer {
                log.record(record(w * per_writer + i)).await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let secs = start.elapsed().as_secs_f64();
    let n = (writers * per_writer) as f64;
    println!(
        "  {writers} producers, batches of at most {max_batch}: {:.0} entries/s, this process used {:.1} µs CPU per entry",
        n / secs,
        (cpu_seconds() - cpu) * 1e6 / n
    );
    drop(log);
    handle.await.unwrap();
    n / secs
}

async fn fill(store: &Store, n: i64) {
    let mut done = 0;
    while done < n {
        let batch: Vec<AuditRecord> = (done..(done + 10_000).min(n)).map(record).collect();
        done += batch.len() as i64;
        store.append_audit(batch).await.unwrap();
    }
}

#[tokio::main]
async fn main() {
    println!("load average at start: {}", common::loadavg());
    let key = ed25519_dalek::SigningKey::from_bytes(&[5u8; 32]);
    let mut rows = Vec::new();
    // MAMORI_BENCH_PART=append or =verify runs only that part (for profiling).
    let part = std::env::var("MAMORI_BENCH_PART").unwrap_or_default();
    for (name, store) in common::stores("audit").await {
        if part != "verify" {
            append_rows(&store, name, &mut rows).await;
        }
        if part != "append" {
            verify_rows(&store, name, &key, &mut rows).await;
        }
        store.close().await;
    }
    print_tables(&rows);
}

async fn append_rows(store: &Store, name: &'static str, rows: &mut Vec<(&'static str, f64, f64)>) {
    println!("{name}: appends");
    {
        let group: Vec<f64> = {
            let mut v = Vec::new();
            for _ in 0..3 {
                v.push(appends(store, 4096, producers(), 50).await);
            }
            v
        };
        let single: Vec<f64> = {
            let mut v = Vec::new();
            for _ in 0..3 {
                v.push(appends(store, 1, 64, 40).await);
            }
            v
        };
        let (g, s) = (common::median(group), common::median(single));
        rows.push((name, g, s));
    }
}

async fn verify_rows(
    store: &Store,
    name: &'static str,
    key: &ed25519_dalek::SigningKey,
    rows: &mut Vec<(&'static str, f64, f64)>,
) {
    {
        // Verification over a million entries (those above included).
        let have = store.count_audit().await.unwrap();
        fill(store, 1_000_000 - have).await;
        let (seq, hash) = store.audit_head().await.unwrap();
        store
            .insert_checkpoint(&mamori_domain::audit::sign_checkpoint(key, seq, &hash, 1))
            .await
            .unwrap();
        let mut rates = Vec::new();
        for _ in 0..3 {
            let (start, cpu) = (Instant::now(), cpu_seconds());
            let r = verify(store, &key.verifying_key(), 20_000).await.unwrap();
            let secs = start.elapsed().as_secs_f64();
            let Verified::Ok(summary) = r else {
                panic!("benchmark log must verify")
            };
            rates.push(summary.entries as f64 / secs);
            println!(
                "{name}: verify: {:.0} entries/s, this process used {:.2} µs CPU per entry",
                summary.entries as f64 / secs,
                (cpu_seconds() - cpu) * 1e6 / summary.entries as f64
            );
        }
        println!(
            "{name}: verify of {} entries: {:.0} entries/s (median of 3)",
            seq,
            common::median(rates.clone())
        );
        rows.push((
            if name == "SQLite" {
                "SQLite verify"
            } else {
                "PostgreSQL verify"
            },
            common::median(rates),
            0.0,
        ));
    }
}

/// CPU time (user + system) this process has used so far, in seconds.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let f: Vec<f64> = after
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|x| x.parse().ok())
        .collect();
    f.iter().sum::<f64>() / 100.0
}

fn print_tables(rows: &[(&'static str, f64, f64)]) {
    println!("load average at end: {}", common::loadavg());
    println!();
    let producers = producers();
    println!("group commit: {producers} producers, each appending 50 entries one after another, every append awaited until durable");
    println!("| database | group commit (entries/s) | one commit per entry (entries/s) | ratio |");
    println!("|---|---:|---:|---:|");
    for (name, g, s) in rows.iter().filter(|r| r.2 > 0.0) {
        println!("| {name} | {g:.0} | {s:.0} | {:.1}× |", g / s);
    }
    println!();
    println!("| database | audit verify (entries/s) |");
    println!("|---|---:|");
    for (name, v, _) in rows.iter().filter(|r| r.2 == 0.0) {
        println!("| {name} | {v:.0} |");
    }
}
