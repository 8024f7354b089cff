//! `mamori audit verify` and `mamori audit export`.

use crate::config::Config;
use anyhow::{anyhow, Context, Result};
use chrono::{DateTime, NaiveDate, TimeZone};
use mamori_app::audit::{checkpoint_lag, export, read_checkpoints, verify_with, Verified};
use mamori_app::keys::Keys;
use mamori_domain::audit::{Checkpoint, VerifyError};
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
        /// Also check the checkpoints in this file (the `checkpoint_file` written outside the
        /// database): a database tail rewritten after one of them fails at that checkpoint.
        #[arg(long, value_name = "FILE")]
        checkpoints: Option<PathBuf>,
        /// Print the result as one JSON object.
        #[arg(long)]
        json: bool,
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
        /// Only the entries of this company (its code, as in `admin create-company`).
        #[arg(long, value_name = "CODE")]
        company: Option<String>,
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
        AuditCommand::Verify {
            public_key,
            checkpoints,
            json,
        } => {
            let path = public_key.unwrap_or_else(|| cfg.key_dir().join("audit-signing.pub"));
            let key = Keys::read_public(&path)
                .with_context(|| format!("reading the public key {}", path.display()))?;
            let external = match &checkpoints {
                Some(file) => {
                    let text = std::fs::read_to_string(file).with_context(|| {
                        format!("reading the checkpoint file {}", file.display())
                    })?;
                    read_checkpoints(&text)
                        .map_err(|e| anyhow!("checkpoint file {}: {e}", file.display()))?
                }
                None => Vec::new(),
            };
            let from_file = external.clone();
            let start = Instant::now();
            let result = verify_with(&store, &key, 20_000, external).await?;
            let secs = start.elapsed().as_secs_f64();
            let now = chrono::Utc::now().timestamp_micros();
            let lag = checkpoint_lag(&store, now, cfg.checkpoint_interval_secs).await?;
            let mut warnings = Vec::new();
            if let Some(waited) = lag {
                warnings.push(format!(
                    "entries have waited {waited} s for a signed checkpoint (more than twice \
                     checkpoint_interval_secs = {}): is `mamori serve` running its worker? \
                     A truncated tail is detected only up to the newest checkpoint",
                    cfg.checkpoint_interval_secs
                ));
            }
            report_verify(&result, &from_file, &warnings, secs, json)
        }
        AuditCommand::Export {
            since,
            until,
            output,
            company,
        } => {
            let company = match company {
                None => None,
                Some(code) => Some(
                    store
                        .list_companies()
                        .await?
                        .into_iter()
                        .find(|c| c.code == code)
                        .map(|c| c.id)
                        .ok_or_else(|| {
                            anyhow!(
                                "no company with the code `{code}` (`mamori admin list-users` \
                                 shows the companies)"
                            )
                        })?,
                ),
            };
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
                let n = export(&store, since, until, company, &mut w)
                    .await
                    .map_err(|e| anyhow!("{e}"))?;
                w.flush()?;
                n
            } else {
                let stdout = std::io::stdout();
                let mut w = std::io::BufWriter::new(stdout.lock());
                let n = export(&store, since, until, company, &mut w)
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

/// Prints the result of `audit verify` (text or one JSON object) and gives the exit status:
/// 0 when everything verified (warnings included), 1 when not.
fn report_verify(
    result: &Verified,
    from_file: &[Checkpoint],
    warnings: &[String],
    secs: f64,
    json: bool,
) -> ExitCode {
    // Which checkpoint failed: one only the file has is evidence from outside the database.
    let source = |e: &VerifyError| -> &'static str {
        let seq = match e {
            VerifyError::BadSignature { seq } | VerifyError::CheckpointMismatch { seq, .. } => *seq,
            VerifyError::Truncated { checkpoint, .. } => *checkpoint,
            _ => return "chain",
        };
        if from_file.iter().any(|c| c.seq == seq) {
            "checkpoint_file"
        } else {
            "database"
        }
    };
    let code = match result {
        Verified::Ok(_) => ExitCode::SUCCESS,
        Verified::Failed { .. } => ExitCode::from(1),
    };
    if json {
        let value = match result {
            Verified::Ok(s) => serde_json::json!({
                "ok": true,
                "entries": s.entries,
                "last_seq": s.last_seq,
                "checkpoints": s.checkpoints,
                "file_checkpoints": from_file.len(),
                "warnings": warnings,
            }),
            Verified::Failed { error, checked } => serde_json::json!({
                "ok": false,
                "first_bad_seq": error.first_bad_seq(),
                "error": error.to_string(),
                "found_by": source(error),
                "checked": checked,
                "file_checkpoints": from_file.len(),
                "warnings": warnings,
            }),
        };
        println!("{value}");
        return code;
    }
    match result {
        Verified::Ok(s) => {
            println!(
                "OK: {} entries verified (last {}), {} signed checkpoints, {:.0} entries/s",
                s.entries,
                s.last_seq,
                s.checkpoints,
                s.entries as f64 / secs.max(1e-9)
            );
            if !from_file.is_empty() {
                println!(
                    "the {} checkpoints of the checkpoint file match the database",
                    from_file.len()
                );
            }
        }
        Verified::Failed { error, checked } => {
            println!("FAILED at entry {}: {error}", error.first_bad_seq());
            if source(error) == "checkpoint_file" {
                println!(
                    "(found by the checkpoint file: the database from entry {} on differs from \
                     what was signed then — its tail was rewritten or truncated)",
                    error.first_bad_seq()
                );
            }
            println!("({checked} entries before it verified)");
        }
    }
    for w in warnings {
        eprintln!("warning: {w}");
    }
    code
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
