//! `mamori-smtp-sink --listen 127.0.0.1:2525 --dir DIR`: an SMTP server for tests that writes
//! each message it receives to `DIR/<n>.eml` (raw) and `DIR/<n>.json` (decoded: `from`, `to`,
//! `subject`, `text`, `message_id`, `headers`). Both files are written to a temporary name and
//! renamed, and the `.json` comes second, so a reader that sees `<n>.json` finds both complete.
//! Numbering continues after the highest `<n>.json` already in `DIR`. Prints `listening on ADDR`
//! once bound.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;
use mamori_mail::sink::{Received, SmtpSink};

#[derive(Debug, Parser)]
#[command(
    name = "mamori-smtp-sink",
    version,
    about = "An SMTP server for tests that writes what it receives to a directory"
)]
struct Args {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:2525")]
    listen: SocketAddr,
    /// Directory for `<n>.eml` and `<n>.json`; created if missing.
    #[arg(long)]
    dir: PathBuf,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mamori-smtp-sink: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: &Args) -> std::io::Result<()> {
    tokio::fs::create_dir_all(&args.dir).await?;
    let mut number = highest_number(&args.dir).await?;
    let sink = SmtpSink::start_on(args.listen).await?;
    {
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "listening on {}", sink.addr())?;
        stdout.flush()?;
    }
    let mut seen = 0;
    loop {
        let new = tokio::select! {
            new = sink.wait_new(seen) => new,
            _ = tokio::signal::ctrl_c() => return Ok(()),
        };
        seen += new.len();
        for message in &new {
            number += 1;
            write_message(&args.dir, number, message).await?;
        }
    }
}

/// The highest `<n>` of the `<n>.json` files in `dir`, or 0.
async fn highest_number(dir: &Path) -> std::io::Result<u64> {
    let mut highest = 0;
    let mut entries = tokio::fs::read_dir(dir).await?;
    while let Some(entry) = entries.next_entry().await? {
        let name = entry.file_name();
        let n = name
            .to_str()
            .and_then(|name| name.strip_suffix(".json"))
            .and_then(|stem| stem.parse::<u64>().ok());
        if let Some(n) = n {
            highest = highest.max(n);
        }
    }
    Ok(highest)
}

async fn write_message(dir: &Path, number: u64, message: &Received) -> std::io::Result<()> {
    let parsed = message.parsed();
    let headers: serde_json::Map<String, serde_json::Value> = parsed
        .headers
        .iter()
        .rev() // the first of repeated headers wins
        .map(|(name, value)| (name.clone(), value.clone().into()))
        .collect();
    let json = serde_json::json!({
        "from": message.from,
        "to": message.to,
        "subject": parsed.subject.unwrap_or_default(),
        "text": parsed.text,
        "message_id": parsed.message_id,
        "headers": headers,
    });
    let json = serde_json::to_vec_pretty(&json).map_err(std::io::Error::other)?;
    write_atomically(dir, &format!("{number}.eml"), &message.data).await?;
    write_atomically(dir, &format!("{number}.json"), &json).await
}

async fn write_atomically(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = dir.join(format!(".{name}.tmp"));
    tokio::fs::write(&tmp, bytes).await?;
    tokio::fs::rename(&tmp, dir.join(name)).await
}
