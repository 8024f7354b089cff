//! `mamori-detect-score LABELS.jsonl FINDINGS.jsonl [--prefix P]`: precision, recall and F1 per
//! kind. FINDINGS is the output of `mamori scan --format jsonl --reveal` (or any tool converted
//! to it); `--prefix` is stripped from finding paths so they match the labels' relative paths.

use mamori_detect::testdata::{score, Label, Scored};
use std::io::BufRead;

fn read<T: serde::de::DeserializeOwned>(path: &str) -> std::io::Result<Vec<T>> {
    let f = std::io::BufReader::new(std::fs::File::open(path)?);
    let mut out = Vec::new();
    for line in f.lines() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        out.push(
            serde_json::from_str(&line)
                .map_err(|e| std::io::Error::other(format!("{path}: {e}")))?,
        );
    }
    Ok(out)
}

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 2 {
        eprintln!("usage: mamori-detect-score LABELS.jsonl FINDINGS.jsonl [--prefix P]");
        return std::process::ExitCode::from(2);
    }
    let prefix = args
        .iter()
        .position(|a| a == "--prefix")
        .and_then(|i| args.get(i + 1))
        .cloned()
        .unwrap_or_default();
    let labels: Vec<Label> = match read(&args[0]) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("{e}");
            return std::process::ExitCode::from(1);
        }
    };
    let mut found: Vec<Scored> = match read(&args[1]) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("{e}");
            return std::process::ExitCode::from(1);
        }
    };
    for f in &mut found {
        if let Some(rest) = f.path.strip_prefix(&prefix) {
            f.path = rest.trim_start_matches('/').to_owned();
        }
    }
    print!("{}", score(&labels, &found).table());
    std::process::ExitCode::SUCCESS
}
