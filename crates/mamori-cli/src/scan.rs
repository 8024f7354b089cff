//! `mamori scan`: find Japanese personal data in files (pii-detection.md). The engine, the
//! walker and the output formats live in the `mamori-detect` crate; this module parses the
//! arguments and maps the outcome to the exit status of the contract: 0 when the scan ran
//! (findings or not), 2 on bad arguments, 1 on an error that stopped it.
//!
//! With `--report FILE --report-key KEYFILE` it also writes the signed scan report
//! (`mamori_domain::discovery_report`) that the web application's 「データ探索」 page imports: one line
//! per file with personal data or not read, counts per kind, no values.

use mamori_detect::runner::{self, OutputFormat, RunError, RunOptions, RunSummary};
use mamori_detect::{FileReport, Kind, KindSet, Limits, Status};
use mamori_domain::discovery_report::{
    self, ReportFile, ReportHeader, ReportStatus, ScanKeyFile, MAX_FILES, MAX_PATH_CHARS,
    MAX_REPORT_BYTES,
};
use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Where a scan key comes from, for the messages about `--report` and `--report-key`.
const KEY_HINT: &str = "a scan key file is issued by the web application: \
    「データ探索」 (Discovery) page → 「自己点検（自分のPC）」 (Self-check) → 「自己点検キー」 (Scan keys)";

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
    /// Also write a signed scan report to FILE for the web application to import (「データ探索」 →
    /// 「自己点検キー」): one line per file with personal data or not read, the counts per kind,
    /// no values. Needs --report-key.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// The scan key file that signs the report, issued by the web application: 「データ探索」
    /// (Discovery) page → 「自己点検キー」 (Scan keys). Needs --report.
    #[arg(long, value_name = "KEYFILE", requires = "report")]
    pub report_key: Option<PathBuf>,
}

/// The report's destination and key, checked before the scan starts.
struct ReportTarget {
    path: PathBuf,
    key: ScanKeyFile,
}

/// Checks `--report`/`--report-key` and reads the key; `Err` is the message for exit status 2.
fn report_target(args: &ScanArgs) -> Result<Option<ReportTarget>, String> {
    let (path, key_path) = match (&args.report, &args.report_key) {
        (None, None) => return Ok(None),
        (Some(p), Some(k)) => (p, k),
        // clap's `requires` refuses --report-key alone; --report alone is refused here so that
        // the message can say where a key comes from.
        (Some(_), None) => return Err(format!("--report needs --report-key KEYFILE ({KEY_HINT})")),
        (None, Some(_)) => return Err("--report-key needs --report FILE".to_owned()),
    };
    let bytes = std::fs::read(key_path).map_err(|e| {
        format!(
            "--report-key: cannot read {}: {e} ({KEY_HINT})",
            key_path.display()
        )
    })?;
    let key = ScanKeyFile::parse(&String::from_utf8_lossy(&bytes)).map_err(|e| {
        format!(
            "--report-key: {}: {} ({KEY_HINT})",
            key_path.display(),
            e.en()
        )
    })?;
    let folder = report_folder(path);
    if !folder.is_dir() {
        return Err(format!(
            "--report: the folder {} does not exist",
            folder.display()
        ));
    }
    if path.is_dir() {
        return Err(format!("--report: {} is a folder", path.display()));
    }
    Ok(Some(ReportTarget {
        path: path.clone(),
        key,
    }))
}

fn report_folder(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
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
    let target = match report_target(args) {
        Ok(t) => t,
        Err(m) => {
            eprintln!("mamori scan: {m}");
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
    let started_at = now_jst();
    match runner::run(&opts, &mut out, &mut err) {
        Ok(summary) => match target {
            None => ExitCode::SUCCESS,
            Some(t) => write_report(&t, args, &summary, &started_at),
        },
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

/// The time now in Japan, `2026-12-07T21:30:00+09:00`.
fn now_jst() -> String {
    let jst = chrono::FixedOffset::east_opt(9 * 3600).expect("JST");
    chrono::Utc::now()
        .with_timezone(&jst)
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}

/// The name of this computer, for the report's header.
fn host_name() -> String {
    let from_file = |p: &str| std::fs::read_to_string(p).ok();
    [
        from_file("/proc/sys/kernel/hostname"),
        from_file("/etc/hostname"),
        std::env::var("COMPUTERNAME").ok(),
        std::env::var("HOSTNAME").ok(),
    ]
    .into_iter()
    .flatten()
    .map(|h| h.trim().to_owned())
    .find(|h| !h.is_empty())
    .map_or_else(|| "unknown".to_owned(), |h| clip(&h))
}

/// At most `MAX_PATH_CHARS` characters (a longer path is cut and ends in "…"); an empty text
/// becomes `""` so that the line stays importable.
fn clip(s: &str) -> String {
    if s.is_empty() {
        "\"\"".to_owned()
    } else if s.chars().count() > MAX_PATH_CHARS {
        let mut c: String = s.chars().take(MAX_PATH_CHARS - 1).collect();
        c.push('…');
        c
    } else {
        s.to_owned()
    }
}

/// A file's line in the report, or `None` for a clean file (only counted).
fn report_line(r: &FileReport) -> Option<ReportFile> {
    let (status, reason) = match &r.status {
        Status::Scanned if r.total() == 0 => return None,
        Status::Scanned => (ReportStatus::Scanned, None),
        Status::Skipped(m) => (ReportStatus::Skipped, Some(clip(m))),
        Status::Failed(m) => (ReportStatus::Failed, Some(clip(m))),
    };
    let counts: BTreeMap<String, u64> = Kind::ALL
        .iter()
        .zip(r.counts)
        .filter(|(_, n)| *n > 0)
        .map(|(k, n)| (k.as_str().to_owned(), n))
        .collect();
    Some(ReportFile {
        path: clip(&r.path),
        bytes: r.bytes,
        format: r.format.to_owned(),
        status,
        reason,
        counts,
    })
}

/// Writes the signed report after the scan; the exit status of the whole command.
fn write_report(
    t: &ReportTarget,
    args: &ScanArgs,
    summary: &RunSummary,
    started_at: &str,
) -> ExitCode {
    let files: Vec<ReportFile> = summary.files.iter().filter_map(report_line).collect();
    let header = ReportHeader {
        key_id: t.key.key_id.clone(),
        host: host_name(),
        roots: args
            .paths
            .iter()
            .map(|p| clip(&p.display().to_string()))
            .collect(),
        started_at: started_at.to_owned(),
        finished_at: now_jst(),
        scanner: env!("CARGO_PKG_VERSION").to_owned(),
        files_scanned: summary.files.len() as u64,
        files_clean: (summary.files.len() - files.len()) as u64,
    };
    let bytes = discovery_report::write_signed(&header, &files, &t.key.signing);
    if files.len() > MAX_FILES || bytes.len() > MAX_REPORT_BYTES {
        eprintln!(
            "mamori scan: the report would hold {} files in {} bytes, more than the web \
             application imports ({MAX_FILES} files, {MAX_REPORT_BYTES} bytes); scan fewer \
             folders at a time. No report was written.",
            files.len(),
            bytes.len()
        );
        return ExitCode::from(1);
    }
    if let Err(e) = write_private(&t.path, &bytes) {
        eprintln!(
            "mamori scan: cannot write the report {}: {e}",
            t.path.display()
        );
        return ExitCode::from(1);
    }
    if !args.quiet {
        let not_read = files
            .iter()
            .filter(|f| f.status != ReportStatus::Scanned)
            .count();
        eprintln!(
            "report written: {} ({} files with personal data, {not_read} not read), signed with key {}",
            t.path.display(),
            files.iter().filter(|f| !f.counts.is_empty()).count(),
            t.key.key_id
        );
    }
    ExitCode::SUCCESS
}

/// Writes `bytes` to a new file beside `path` (mode 0600 on unix), then renames it over `path`,
/// so a reader never sees half a report and an earlier report is replaced whole.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let name = path
        .file_name()
        .map_or_else(|| "report".into(), |n| n.to_string_lossy().into_owned());
    let tmp = report_folder(path).join(format!(
        ".{name}.{}.{:016x}.tmp",
        std::process::id(),
        rand::random::<u64>()
    ));
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    let result = o.open(&tmp).and_then(|mut f| {
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, path)
    });
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
