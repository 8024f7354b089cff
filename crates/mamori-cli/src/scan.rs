//! `mamori scan`: find Japanese personal data in files (pii-detection.md). The engine, the
//! walker and the output formats live in the `mamori-detect` crate; this module parses the
//! arguments and maps the outcome to the exit status of the contract: 0 when the scan ran
//! (findings or not), 2 on bad arguments, 1 on an error that stopped it.

use mamori_detect::runner::{self, OutputFormat, RunError, RunOptions};
use mamori_detect::{KindSet, Limits};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct ScanArgs {
    /// Files and folders to scan.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Output: jsonl (one finding per line), json, csv, or table (default on a terminal).
    #[arg(long, value_parser = ["jsonl", "json", "csv", "table"])]
    pub format: Option<String>,
    /// Only these kinds, comma-separated (person_name,address,postal_code,phone,email,
    /// birth_date,credit_card,my_number,bank_account,passport_number,drivers_license_number).
    #[arg(long)]
    pub kinds: Option<String>,
    /// Print raw values too (recorded in the audit log when run against a server).
    #[arg(long)]
    pub reveal: bool,
    /// Worker threads (default: one per core).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Only scan files matching this glob (repeatable), e.g. --include '*.csv'.
    #[arg(long)]
    pub include: Vec<String>,
    /// Skip files and folders matching this glob (repeatable), e.g. --exclude 'node_modules'.
    #[arg(long)]
    pub exclude: Vec<String>,
    /// No progress line and no summary on standard error.
    #[arg(long, short)]
    pub quiet: bool,
    /// Maximum archive nesting depth.
    #[arg(long, default_value_t = 3)]
    pub max_archive_depth: u32,
    /// Maximum bytes decompressed from one archive (MiB).
    #[arg(long, default_value_t = 1024)]
    pub max_archive_mib: u64,
    /// Do not analyse running prose for names (faster): names are then found only beside
    /// labels and honorifics, in name columns, and as dictionary full names.
    #[arg(long)]
    pub no_prose: bool,
}

pub fn run(args: &ScanArgs) -> ExitCode {
    let format = match args.format.as_deref() {
        Some(f) => OutputFormat::parse(f).unwrap_or(OutputFormat::Jsonl),
        None if std::io::stdout().is_terminal() => OutputFormat::Table,
        None => OutputFormat::Jsonl,
    };
    let kinds = match args.kinds.as_deref().map(KindSet::parse_list).transpose() {
        Ok(k) => k.unwrap_or_default(),
        Err(e) => {
            eprintln!("mamori scan: --kinds: {e}");
            return ExitCode::from(2);
        }
    };
    let limits = Limits {
        max_depth: args.max_archive_depth,
        max_expanded: args.max_archive_mib << 20,
        ..Limits::default()
    };
    let opts = RunOptions {
        paths: args.paths.clone(),
        format,
        kinds,
        reveal: args.reveal,
        threads: args.threads,
        include: args.include.clone(),
        exclude: args.exclude.clone(),
        progress: !args.quiet && std::io::stderr().is_terminal(),
        summary: !args.quiet,
        limits,
        prose: !args.no_prose,
    };
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout());
    let mut err = std::io::stderr();
    match runner::run(&opts, &mut out, &mut err) {
        Ok(_) => ExitCode::SUCCESS,
        Err(RunError::BadArgs(m)) => {
            eprintln!("mamori scan: {m}");
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("mamori scan: {e}");
            ExitCode::from(1)
        }
    }
}
