//! `mamori audit verify` and `mamori audit export`.

use crate::config::Config;
use anyhow::{anyhow, Context, Result};
use chrono::{DateTime, NaiveDate, TimeZone};
use mamori_app::audit::{export, verify, Verified};
use mamori_app::keys::Keys;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

#[derive(Debug, clap::Subcommand)]
pub enum AuditCommand {
    /// Check the hash chain and every signed checkpoint; name the first entry that fails.
    /// Exit status 0 when the whole log verifies, 1 when it does not.
    Verify {
        /// The public key file (default: audit-signing.pub in the key directory). An auditor
        /// needs only this file, never the private key.
        #[arg(long, value_name = "FILE")]
        public_key: Option<PathBuf>,
    },
    /// Write entries as JSON lines, one object per entry with its hashes.
    Export {
        /// From this time on (inclusive): YYYY-MM-DD (JST) or RFC 3339.
        #[arg(long)]
        since: Option<String>,
        /// Up to this time (exclusive): YYYY-MM-DD (JST) or RFC 3339.
        #[arg(long)]
        until: Option<String>,
        /// Write to this file instead of standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Sign a checkpoint of the current head now (the server does this periodically).
    Checkpoint,
}

/// Parses `2026-04-07` (a day in JST) or an RFC 3339 time into microseconds.
fn parse_time(s: &str, what: &str) -> Result<i64> {
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        let jst = chrono::FixedOffset::east_opt(9 * 3600).expect("JST");
        let t = jst
            .from_local_datetime(&d.and_hms_opt(0, 0, 0).expect("midnight"))
            .single()
            .ok_or_else(|| anyhow!("{what}: invalid date {s}"))?;
        return Ok(t.timestamp_micros());
    }
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.timestamp_micros())
        .map_err(|_| anyhow!("{what}: `{s}` is neither YYYY-MM-DD nor an RFC 3339 time"))
}

pub async fn run(cfg: Config, cmd: AuditCommand) -> Result<ExitCode> {
    let store = crate::serve::open_store(&cfg, false).await?;
    let code = match cmd {
        AuditCommand::Verify { public_key } => {
            let path = public_key.unwrap_or_else(|| cfg.key_dir().join("audit-signing.pub"));
            let key = Keys::read_public(&path)
                .with_context(|| format!("reading the public key {}", path.display()))?;
            let start = Instant::now();
            let result = verify(&store, &key, 20_000).await?;
            let secs = start.elapsed().as_secs_f64();
            match result {
                Verified::Ok(s) => {
                    println!(
                        "OK: {} entries verified (last {}), {} signed checkpoints, {:.0} entries/s",
                        s.entries,
                        s.last_seq,
                        s.checkpoints,
                        s.entries as f64 / secs.max(1e-9)
                    );
                    ExitCode::SUCCESS
                }
                Verified::Failed { error, checked } => {
                    println!("FAILED at entry {}: {error}", error.first_bad_seq());
                    println!("({checked} entries before it verified)");
                    ExitCode::from(1)
                }
            }
        }
        AuditCommand::Export {
            since,
            until,
            output,
        } => {
            let since = since
                .as_deref()
                .map(|s| parse_time(s, "--since"))
                .transpose()?;
            let until = until
                .as_deref()
                .map(|s| parse_time(s, "--until"))
                .transpose()?;
            let n = if let Some(path) = output {
                let f = std::fs::File::create(&path)
                    .with_context(|| format!("creating {}", path.display()))?;
                let mut w = std::io::BufWriter::new(f);
                let n = export(&store, since, until, &mut w)
                    .await
                    .map_err(|e| anyhow!("{e}"))?;
                w.flush()?;
                n
            } else {
                let stdout = std::io::stdout();
                let mut w = std::io::BufWriter::new(stdout.lock());
                let n = export(&store, since, until, &mut w)
                    .await
                    .map_err(|e| anyhow!("{e}"))?;
                w.flush()?;
                n
            };
            eprintln!("exported {n} entries");
            ExitCode::SUCCESS
        }
        AuditCommand::Checkpoint => {
            let keys = crate::serve::open_keys(&cfg, &store).await?;
            let (app, writer) = mamori_app::App::new(
                store.clone(),
                keys,
                std::sync::Arc::new(mamori_app::clock::SystemClock),
                cfg.settings(),
            );
            let r = app.checkpoint_audit().await.map_err(|e| anyhow!("{e}"))?;
            drop(app);
            let _ = writer.await;
            match r {
                Some(seq) => println!("checkpoint signed at entry {seq}"),
                None => println!("nothing new since the last checkpoint"),
            }
            ExitCode::SUCCESS
        }
    };
    store.close().await;
    Ok(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_jst_days_or_rfc3339() {
        assert_eq!(
            parse_time("2026-01-01", "x").unwrap(),
            1_767_193_200_000_000
        );
        assert_eq!(
            parse_time("2026-01-01T00:00:00Z", "x").unwrap(),
            1_767_225_600_000_000
        );
        assert!(parse_time("yesterday", "--since")
            .unwrap_err()
            .to_string()
            .contains("--since"));
    }
}
