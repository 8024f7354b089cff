//! Audit log benchmark (issue 2): appends with group commit against one commit per entry, on
//! SQLite and PostgreSQL, and `audit verify` over a million entries.
//!
//! Run: `cargo bench -p mamori-cli --bench audit` (set MAMORI_SKIP_POSTGRES=1 to skip
//! PostgreSQL). Each figure is the median of three runs.

#[path = "common.rs"]
mod common;

use mamori_app::audit::{verify, AuditLog, Verified};
use mamori_domain::audit::{AuditRecord, Outcome};
use mamori_store::Store;
use std::time::Instant;

fn record(i: i64) -> AuditRecord {
    AuditRecord {
        at_micros: 1_767_225_600_000_000 + i,
        actor_id: Some(i % 50),
        actor: format!("user{}", i % 50),
        ip: "127.0.0.1".into(),
        action: "GET /audit".into(),
        target: format!("/audit?page={i}"),
        outcome: Outcome::Success,
        detail: r#"{"status":200,"request_id":"abcdefabcdef"}"#.into(),
    }
}

/// `writers` tasks append `per_writer` entries each, every append awaited until durable.
async fn appends(store: &Store, max_batch: usize, writers: i64, per_writer: i64) -> f64 {
    let (log, handle) = AuditLog::start(store.clone(), max_batch);
    let start = Instant::now();
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
    drop(log);
    handle.await.unwrap();
    (writers * per_writer) as f64 / secs
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
    let key = ed25519_dalek::SigningKey::from_bytes(&[5u8; 32]);
    let mut rows = Vec::new();
    for (name, store) in common::stores("audit").await {
        let group: Vec<f64> = {
            let mut v = Vec::new();
            for _ in 0..3 {
                v.push(appends(&store, 4096, 256, 200).await);
            }
            v
        };
        let single: Vec<f64> = {
            let mut v = Vec::new();
            for _ in 0..3 {
                v.push(appends(&store, 1, 64, 40).await);
            }
            v
        };
        let (g, s) = (common::median(group), common::median(single));
        rows.push((name, g, s));
        // Verification over a million entries (those above included).
        let have = store.count_audit().await.unwrap();
        fill(&store, 1_000_000 - have).await;
        let (seq, hash) = store.audit_head().await.unwrap();
        store
            .insert_checkpoint(&mamori_domain::audit::sign_checkpoint(&key, seq, &hash, 1))
            .await
            .unwrap();
        let mut rates = Vec::new();
        for _ in 0..3 {
            let start = Instant::now();
            let r = verify(&store, &key.verifying_key(), 20_000).await.unwrap();
            let secs = start.elapsed().as_secs_f64();
            let Verified::Ok(summary) = r else { panic!("benchmark log must verify") };
            rates.push(summary.entries as f64 / secs);
        }
        println!("{name}: verify of {} entries: {:.0} entries/s (median of 3)", seq, common::median(rates.clone()));
        rows.push((if name == "SQLite" { "SQLite verify" } else { "PostgreSQL verify" }, common::median(rates), 0.0));
        store.close().await;
    }
    println!();
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
