//! `mamori-detect-scan`: the engine's own front end, for benchmarks and fuzz-corpus checks
//! without building the server crates. It calls the same `runner::run` as `mamori scan`.
//!
//! Usage: mamori-detect-scan [--threads N] [--format jsonl|json|csv|table] [--reveal] [--no-prose] [--kinds K,K]
//! PATH...

use mamori_detect::runner::{self, OutputFormat, RunError, RunOptions};
use mamori_detect::{KindSet, Limits};

fn main() -> std::process::ExitCode {
    let mut opts = RunOptions {
        paths: Vec::new(),
        format: OutputFormat::Jsonl,
        kinds: KindSet::all(),
        reveal: false,
        threads: 0,
        include: Vec::new(),
        exclude: Vec::new(),
        progress: false,
        summary: false,
        limits: Limits::default(),
        prose: true,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--threads" => opts.threads = args.next().and_then(|v| v.parse().ok()).unwrap_or(0),
            "--format" => {
                opts.format = args
                    .next()
                    .and_then(|v| OutputFormat::parse(&v))
                    .unwrap_or(OutputFormat::Jsonl);
            }
            "--reveal" => opts.reveal = true,
            "--no-prose" => opts.prose = false,
            "--kinds" => match KindSet::parse_list(&args.next().unwrap_or_default()) {
                Ok(k) => opts.kinds = k,
                Err(m) => {
                    eprintln!("{m}");
                    return std::process::ExitCode::from(2);
                }
            },
            "--summary" => opts.summary = true,
            // A missing path is reported as not read and the run goes on, so an unknown option
            // must not pass for one.
            o if o.starts_with("--") => {
                eprintln!("unknown option {o}");
                return std::process::ExitCode::from(2);
            }
            _ => opts.paths.push(a.into()),
        }
    }
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout());
    match runner::run(&opts, &mut out, &mut std::io::stderr()) {
        Ok(_) => std::process::ExitCode::SUCCESS,
        Err(RunError::BadArgs(m)) => {
            eprintln!("{m}");
            std::process::ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("{e}");
            std::process::ExitCode::from(1)
        }
    }
}
