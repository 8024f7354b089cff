//! Runs a whole scan for `mamori scan`: walks paths with include/exclude globs, scans files in
//! parallel, streams findings in the chosen output format, draws a progress line on a terminal
//! and prints the per-file, per-kind summary. Kept in the library so that it is tested here and
//! the command line stays a thin argument parser.

use crate::kind::{Kind, KindSet};
use crate::scan::{FileReport, Finding, Limits, Scanner, Status};
use globset::{Glob, GlobSet, GlobSetBuilder};
use rayon::prelude::*;
use serde::Serialize;
use std::fmt::Write as _;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputFormat {
    Jsonl,
    Json,
    Csv,
    Table,
}

impl OutputFormat {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "jsonl" => OutputFormat::Jsonl,
            "json" => OutputFormat::Json,
            "csv" => OutputFormat::Csv,
            "table" => OutputFormat::Table,
            _ => return None,
        })
    }
}

#[derive(Clone, Debug)]
pub struct RunOptions {
    pub paths: Vec<PathBuf>,
    pub format: OutputFormat,
    pub kinds: KindSet,
    pub reveal: bool,
    /// 0: one per core.
    pub threads: usize,
    pub include: Vec<String>,
    pub exclude: Vec<String>,
    pub progress: bool,
    /// Print the summary table on standard error (for the non-table formats).
    pub summary: bool,
    pub limits: Limits,
    /// Look for names in running prose with the morphological analyser (`--no-prose` turns it
    /// off: names are then found only beside labels, honorifics and in name columns).
    pub prose: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// Exit status 2.
    #[error("{0}")]
    BadArgs(String),
    /// Exit status 1.
    #[error("cannot write output: {0}")]
    Output(io::Error),
}

/// Totals of a run.
#[derive(Clone, Debug, Default)]
pub struct RunSummary {
    pub files: Vec<FileReport>,
    pub bytes: u64,
    pub elapsed: Duration,
}

impl RunSummary {
    pub fn count(&self, f: impl Fn(&FileReport) -> bool) -> usize {
        self.files.iter().filter(|r| f(r)).count()
    }
    pub fn per_kind(&self) -> [u64; 11] {
        let mut t = [0; 11];
        for r in &self.files {
            for (a, b) in t.iter_mut().zip(r.counts) {
                *a += b;
            }
        }
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_helpers_escape_when_needed() {
        let mut b = Vec::new();
        json_str(&mut b, "山田 \"x\"\n");
        json_u64(&mut b, 0);
        json_u64(&mut b, 18_446_744_073_709_551_615);
        assert_eq!(
            String::from_utf8(b).unwrap(),
            "\"山田 \\\"x\\\"\\n\"018446744073709551615"
        );
    }
}

#[derive(Serialize)]
struct JsonFinding<'a> {
    path: &'a str,
    line: u64,
    column: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    sheet: Option<&'a str>,
    /// The page, slide or message (one key, see `scan::Place`).
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    place: Option<std::collections::BTreeMap<&'static str, u64>>,
    kind: &'static str,
    masked: String,
    encoding: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    value: Option<&'a str>,
}

fn json_finding(f: &Finding, reveal: bool) -> JsonFinding<'_> {
    JsonFinding {
        path: &f.path,
        line: f.line,
        column: f.column,
        sheet: f.sheet.as_deref(),
        place: f
            .place
            .map(|p| std::iter::once((p.key(), p.number())).collect()),
        kind: f.kind.as_str(),
        masked: f.masked(),
        encoding: f.encoding,
        value: reveal.then_some(f.value.as_str()),
    }
}

/// The shared output: findings are formatted per file into a buffer and written under the lock.
struct Out<'w> {
    w: &'w mut (dyn Write + Send),
    first: bool,
    error: Option<io::Error>,
}

/// What a walk found: the files to scan, and the paths that are not read, each with why, placed
/// before the file at their index (so that reports keep the walk's order).
#[derive(Debug, Default)]
pub struct Walked {
    /// (path on disk, path to report).
    pub files: Vec<(PathBuf, String)>,
    pub not_read: Vec<(usize, FileReport)>,
}

/// The identity of a file or folder: (device, inode), so that a folder reached again through a
/// symbolic link is a loop and a file reached through a link is not scanned twice.
type FileKey = (u64, u64);

#[cfg(unix)]
#[allow(clippy::unnecessary_wraps)] // elsewhere it can fail
fn file_key(m: &std::fs::Metadata, _p: &Path) -> Option<FileKey> {
    use std::os::unix::fs::MetadataExt;
    Some((m.dev(), m.ino()))
}

#[cfg(not(unix))]
fn file_key(_m: &std::fs::Metadata, p: &Path) -> Option<FileKey> {
    use std::hash::{Hash, Hasher};
    let c = std::fs::canonicalize(p).ok()?;
    let mut h = std::collections::hash_map::DefaultHasher::new();
    c.hash(&mut h);
    Some((0, h.finish()))
}

enum WalkEntry {
    File {
        path: PathBuf,
        display: String,
        key: Option<FileKey>,
        /// Reached through a symbolic link (the file itself or a folder above it).
        via_link: bool,
    },
    NotRead(FileReport),
}

fn not_read_report(display: String, status: Status) -> FileReport {
    FileReport {
        path: display,
        format: "unknown",
        encoding: None,
        bytes: 0,
        counts: [0; 11],
        status,
        warnings: Vec::new(),
    }
}

fn not_read(display: String, status: Status) -> WalkEntry {
    WalkEntry::NotRead(not_read_report(display, status))
}

struct Walker<'g> {
    inc: Option<&'g GlobSet>,
    exc: Option<&'g GlobSet>,
    entries: Vec<WalkEntry>,
    /// Every folder entered, with the path it was first entered by.
    dirs: rustc_hash::FxHashMap<FileKey, String>,
    /// When set (the real path of a discovery location), a symbolic link whose target lies
    /// outside it is reported and neither read nor entered.
    confine: Option<PathBuf>,
}

impl Walker<'_> {
    fn matches(g: &GlobSet, root: &Path, p: &Path) -> bool {
        let rel = p.strip_prefix(root).unwrap_or(p);
        g.is_match(rel) || p.file_name().is_some_and(|n| g.is_match(n))
    }

    fn root(&mut self, root: &Path) {
        let display = root.display().to_string();
        let link = match std::fs::symlink_metadata(root) {
            Ok(m) => m.file_type().is_symlink(),
            Err(e) => {
                return self
                    .entries
                    .push(not_read(display, Status::Failed(format!("not read: {e}"))));
            }
        };
        match std::fs::metadata(root) {
            Err(e) => self.entries.push(not_read(
                display,
                Status::Failed(format!(
                    "not read: symbolic link that cannot be followed: {e}"
                )),
            )),
            Ok(m) if m.is_file() => self.entries.push(WalkEntry::File {
                key: file_key(&m, root),
                path: root.to_path_buf(),
                display,
                via_link: link,
            }),
            Ok(m) if m.is_dir() => {
                let mut ancestors = Vec::new();
                self.dir(root, root, &m, link, &mut ancestors);
            }
            Ok(_) => self.entries.push(not_read(
                display,
                Status::Skipped("not read: not a regular file or folder".to_owned()),
            )),
        }
    }

    fn dir(
        &mut self,
        root: &Path,
        dir: &Path,
        meta: &std::fs::Metadata,
        via_link: bool,
        ancestors: &mut Vec<(FileKey, String)>,
    ) {
        let display = dir.display().to_string();
        let key = file_key(meta, dir);
        if let Some(key) = key {
            if let Some((_, up)) = ancestors.iter().find(|(k, _)| *k == key) {
                let msg = format!("not read: symbolic link loop (leads back to {up})");
                return self.entries.push(not_read(display, Status::Skipped(msg)));
            }
            if let Some(first) = self.dirs.get(&key) {
                let msg = format!("not read: the same folder as {first}, scanned there");
                return self.entries.push(not_read(display, Status::Skipped(msg)));
            }
        }
        let read = match std::fs::read_dir(dir) {
            Ok(r) => r,
            Err(e) => {
                let msg = format!("not read: cannot open folder: {e}");
                return self.entries.push(not_read(display, Status::Failed(msg)));
            }
        };
        if let Some(key) = key {
            self.dirs.insert(key, display.clone());
            ancestors.push((key, display.clone()));
        }
        self.dir_entries(root, read, &display, via_link, ancestors);
        if key.is_some() {
            ancestors.pop();
        }
    }

    fn dir_entries(
        &mut self,
        root: &Path,
        read: std::fs::ReadDir,
        display: &str,
        via_link: bool,
        ancestors: &mut Vec<(FileKey, String)>,
    ) {
        let mut children = Vec::new();
        for entry in read {
            match entry {
                Ok(e) => children.push(e),
                Err(e) => {
                    let msg = format!("not read: cannot list the whole folder: {e}");
                    self.entries
                        .push(not_read(display.to_owned(), Status::Failed(msg)));
                }
            }
        }
        children.sort_by_key(std::fs::DirEntry::file_name);
        for child in children {
            let p = child.path();
            if self.exc.is_some_and(|g| Self::matches(g, root, &p)) {
                continue;
            }
            let included = self.inc.is_none_or(|g| Self::matches(g, root, &p));
            let cdisplay = p.display().to_string();
            let Ok(ft) = child.file_type() else {
                let msg = "not read: cannot read its file type".to_owned();
                self.entries.push(not_read(cdisplay, Status::Failed(msg)));
                continue;
            };
            let link = ft.is_symlink();
            if link {
                if let Some(c) = &self.confine {
                    let inside = std::fs::canonicalize(&p).is_ok_and(|real| real.starts_with(c));
                    if !inside {
                        let msg = "not read: a link that leads out of the location".to_owned();
                        self.entries.push(not_read(cdisplay, Status::Skipped(msg)));
                        continue;
                    }
                }
            }
            let meta = if link {
                std::fs::metadata(&p)
            } else {
                child.metadata()
            };
            let meta = match meta {
                Ok(m) => m,
                Err(e) => {
                    if included {
                        let msg = if link {
                            format!("not read: symbolic link that cannot be followed: {e}")
                        } else {
                            format!("not read: {e}")
                        };
                        self.entries.push(not_read(cdisplay, Status::Failed(msg)));
                    }
                    continue;
                }
            };
            if meta.is_dir() {
                self.dir(root, &p, &meta, via_link || link, ancestors);
            } else if !included {
                // Left out by --include: not a problem to report.
            } else if meta.is_file() {
                self.entries.push(WalkEntry::File {
                    key: file_key(&meta, &p),
                    path: p,
                    display: cdisplay,
                    via_link: via_link || link,
                });
            } else {
                let msg = "not read: not a regular file (a device, socket or pipe)".to_owned();
                self.entries.push(not_read(cdisplay, Status::Skipped(msg)));
            }
        }
    }

    /// A file reached through a symbolic link that is also reached otherwise (or through an
    /// earlier link) is scanned once; the other paths are reported as not read, naming it.
    fn finish(self) -> Walked {
        let mut first: rustc_hash::FxHashMap<FileKey, String> = rustc_hash::FxHashMap::default();
        for e in &self.entries {
            if let WalkEntry::File {
                key: Some(k),
                display,
                via_link: false,
                ..
            } = e
            {
                first.entry(*k).or_insert_with(|| display.clone());
            }
        }
        let mut walked = Walked::default();
        for e in self.entries {
            match e {
                WalkEntry::File {
                    path,
                    display,
                    key,
                    via_link,
                } => {
                    if let (true, Some(k)) = (via_link, key) {
                        if let Some(f) = first.get(&k) {
                            let msg = format!(
                                "not read: the same file as {f} (through a symbolic link), scanned there"
                            );
                            let r = not_read_report(display, Status::Skipped(msg));
                            walked.not_read.push((walked.files.len(), r));
                            continue;
                        }
                        first.insert(k, display.clone());
                    }
                    walked.files.push((path, display));
                }
                WalkEntry::NotRead(r) => walked.not_read.push((walked.files.len(), r)),
            }
        }
        walked
    }
}

/// Walks the paths: folders recursively (in name order), following symbolic links once. A path
/// that cannot be read (missing, unreadable folder, broken or looping link) is reported in
/// `not_read` with why, and the walk goes on; only a bad glob is an error.
pub fn walk(paths: &[PathBuf], include: &[String], exclude: &[String]) -> Result<Walked, RunError> {
    let build = |pats: &[String]| -> Result<Option<GlobSet>, RunError> {
        if pats.is_empty() {
            return Ok(None);
        }
        let mut b = GlobSetBuilder::new();
        for p in pats {
            b.add(Glob::new(p).map_err(|e| RunError::BadArgs(format!("bad glob `{p}`: {e}")))?);
        }
        b.build()
            .map(Some)
            .map_err(|e| RunError::BadArgs(e.to_string()))
    };
    let inc = build(include)?;
    let exc = build(exclude)?;
    let mut w = Walker {
        inc: inc.as_ref(),
        exc: exc.as_ref(),
        entries: Vec::new(),
        dirs: rustc_hash::FxHashMap::default(),
        confine: None,
    };
    for root in paths {
        w.root(root);
    }
    Ok(w.finish())
}

/// Walks one folder given by its real path without leaving it: a symbolic link whose target
/// lies outside (a file or a folder) is reported as "not read: a link that leads out of the
/// location" and neither read nor entered. For discovery, where a share's writer must not
/// make the server list or read its other folders.
pub fn walk_within(root: &Path) -> Walked {
    let mut w = Walker {
        inc: None,
        exc: None,
        entries: Vec::new(),
        dirs: rustc_hash::FxHashMap::default(),
        confine: Some(root.to_path_buf()),
    };
    w.root(root);
    w.finish()
}

/// Whether a report is of a path or member that was not read (see [`walk`], encrypted members).
pub fn is_not_read(r: &FileReport) -> bool {
    matches!(&r.status, Status::Skipped(m) | Status::Failed(m) if m.starts_with("not read:"))
}

/// The reports of one walked path, keyed by its place in the walk.
type OrderedReports = ((usize, u8), Vec<FileReport>);

/// Runs the scan, writing findings to `out` and the summary/progress to `err`.
pub fn run(
    opts: &RunOptions,
    out: &mut (dyn Write + Send),
    err: &mut (dyn Write + Send),
) -> Result<RunSummary, RunError> {
    let Walked { files, not_read } = walk(&opts.paths, &opts.include, &opts.exclude)?;
    let mut scanner = Scanner::new(opts.kinds);
    scanner.limits = opts.limits;
    scanner.set_prose(opts.prose);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.threads)
        .build()
        .map_err(|e| RunError::BadArgs(format!("--threads: {e}")))?;
    let start = Instant::now();
    let progress = AtomicU64::new(0);
    let done_files = AtomicU64::new(0);
    let finished = AtomicBool::new(false);
    let stop = AtomicBool::new(false);
    let total_files = files.len() as u64;
    let total_bytes: u64 = if opts.progress {
        files
            .iter()
            .filter_map(|(p, _)| std::fs::metadata(p).ok())
            .map(|m| m.len())
            .sum()
    } else {
        0
    };
    if opts.format == OutputFormat::Json {
        out.write_all(b"{\"findings\":[")
            .map_err(RunError::Output)?;
    } else if opts.format == OutputFormat::Csv {
        let mut head = Vec::new();
        let names = [
            "path", "line", "column", "sheet", "kind", "masked", "encoding", "value",
        ];
        crate::csv_out::push_record(&mut head, &names[..if opts.reveal { 8 } else { 7 }]);
        out.write_all(&head).map_err(RunError::Output)?;
    }
    let shared = Mutex::new(Out {
        w: out,
        first: true,
        error: None,
    });
    // Keyed (index of the file, 1) and (index of the next file, 0) for paths not read.
    let reports: Mutex<Vec<OrderedReports>> = Mutex::new(
        not_read
            .into_iter()
            .map(|(i, r)| ((i, 0), vec![r]))
            .collect(),
    );
    let err_lock = Mutex::new(err);
    std::thread::scope(|s| {
        if opts.progress {
            s.spawn(|| {
                while !finished.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(200));
                    let bytes = progress.load(Ordering::Relaxed);
                    let secs = start.elapsed().as_secs_f64().max(1e-3);
                    // Archives expand past their size on disk: cap the share at 100 %.
                    let pct = (bytes * 100).checked_div(total_bytes).unwrap_or(0).min(100);
                    let line = format!(
                        "\r\x1b[2K[{pct:>3}%] {} of {}  {}/{} files  {}/s",
                        human(bytes),
                        human(total_bytes),
                        done_files.load(Ordering::Relaxed),
                        total_files,
                        human((bytes as f64 / secs) as u64)
                    );
                    if let Ok(mut e) = err_lock.lock() {
                        let _ = e.write_all(line.as_bytes());
                        let _ = e.flush();
                    }
                }
            });
        }
        pool.install(|| {
            files
                .par_iter()
                .enumerate()
                .for_each(|(idx, (path, display))| {
                    if stop.load(Ordering::Relaxed) {
                        return;
                    }
                    let mut buf: Vec<u8> = Vec::new();
                    let mut pending = 0usize;
                    // The escaped `"path":"…"` prefix, reused while the path stays the same.
                    let mut path_json: (String, Vec<u8>) = (String::new(), Vec::new());
                    // The masked value, rebuilt in one buffer for every finding.
                    let mut masked: Vec<u8> = Vec::new();
                    let flush = |buf: &mut Vec<u8>, pending: &mut usize| {
                        if buf.is_empty() {
                            return;
                        }
                        let mut o = shared
                            .lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner);
                        if o.error.is_none() {
                            if let Err(e) = o.w.write_all(buf) {
                                o.error = Some(e);
                                stop.store(true, Ordering::Relaxed);
                            }
                        }
                        buf.clear();
                        *pending = 0;
                    };
                    let mut sink = |f: &Finding| {
                        match opts.format {
                            OutputFormat::Jsonl => {
                                write_jsonl(&mut buf, &mut path_json, &mut masked, f, opts.reveal);
                            }
                            OutputFormat::Json => {
                                // The separating comma is decided under the lock when flushed.
                                buf.push(0);
                                let _ =
                                    serde_json::to_writer(&mut buf, &json_finding(f, opts.reveal));
                            }
                            OutputFormat::Csv => {
                                let masked = f.masked();
                                let line = f.line.to_string();
                                let col = f.column.to_string();
                                let mut rec = vec![
                                    f.path.as_str(),
                                    &line,
                                    &col,
                                    f.sheet.as_deref().unwrap_or(""),
                                    f.kind.as_str(),
                                    &masked,
                                    f.encoding,
                                ];
                                if opts.reveal {
                                    rec.push(&f.value);
                                }
                                crate::csv_out::push_record(&mut buf, rec);
                            }
                            OutputFormat::Table => {}
                        }
                        pending += 1;
                        if pending >= 512 {
                            let mut b = std::mem::take(&mut buf);
                            fix_json_commas(&mut b, opts.format, &shared);
                            flush(&mut b, &mut pending);
                            buf = b;
                        }
                    };
                    // A bug in a reader or detector must not end the whole scan: the file is
                    // reported as failed and the others go on.
                    let rep = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        scanner.scan_path(path, display, Some(&progress), &mut sink)
                    }))
                    .unwrap_or_else(|_| {
                        vec![failed_report(
                            display,
                            "internal error while scanning this file (a bug: please report it)",
                        )]
                    });
                    fix_json_commas(&mut buf, opts.format, &shared);
                    flush(&mut buf, &mut pending);
                    done_files.fetch_add(1, Ordering::Relaxed);
                    reports
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .push(((idx, 1), rep));
                });
        });
        finished.store(true, Ordering::Relaxed);
    });
    let mut out_state = shared
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let err = err_lock
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if opts.progress {
        let _ = err.write_all(b"\r\x1b[2K");
    }
    let mut reports = reports
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    reports.sort_by_key(|(i, _)| *i);
    let summary = RunSummary {
        files: reports.into_iter().flat_map(|(_, r)| r).collect(),
        bytes: progress.load(Ordering::Relaxed),
        elapsed: start.elapsed(),
    };
    if let Some(e) = out_state.error.take() {
        if e.kind() == io::ErrorKind::BrokenPipe {
            return Ok(summary);
        }
        return Err(RunError::Output(e));
    }
    let w = &mut *out_state.w;
    let res = match opts.format {
        OutputFormat::Json => write_json_tail(w, &summary),
        OutputFormat::Table => write_table(w, &summary),
        _ => Ok(()),
    };
    match res.and_then(|()| w.flush()) {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => return Ok(summary),
        Err(e) => return Err(RunError::Output(e)),
        Ok(()) => {}
    }
    if opts.summary && opts.format != OutputFormat::Table {
        let _ = write_table(err, &summary);
    } else {
        // Without the summary on standard error, what was not read still is said there.
        for r in summary.files.iter().filter(|r| is_not_read(r)) {
            if let Status::Skipped(m) | Status::Failed(m) = &r.status {
                let _ = writeln!(err, "warning: {}: {m}", r.path);
            }
        }
    }
    Ok(summary)
}

/// One JSONL finding in the contract's key order, written without an intermediate value.
fn write_jsonl(
    buf: &mut Vec<u8>,
    path_json: &mut (String, Vec<u8>),
    masked: &mut Vec<u8>,
    f: &Finding,
    reveal: bool,
) {
    if path_json.0 != f.path {
        path_json.0.clone_from(&f.path);
        path_json.1.clear();
        path_json.1.extend_from_slice(b"{\"path\":");
        json_str(&mut path_json.1, &f.path);
    }
    buf.extend_from_slice(&path_json.1);
    buf.extend_from_slice(b",\"line\":");
    json_u64(buf, f.line);
    buf.extend_from_slice(b",\"column\":");
    json_u64(buf, f.column);
    if let Some(sheet) = &f.sheet {
        buf.extend_from_slice(b",\"sheet\":");
        json_str(buf, sheet);
    }
    if let Some(place) = f.place {
        buf.extend_from_slice(b",\"");
        buf.extend_from_slice(place.key().as_bytes());
        buf.extend_from_slice(b"\":");
        json_u64(buf, place.number());
    }
    buf.extend_from_slice(b",\"kind\":\"");
    buf.extend_from_slice(f.kind.as_str().as_bytes());
    buf.extend_from_slice(b"\",\"masked\":");
    masked.clear();
    f.kind.mask_into(&f.value, masked);
    json_bytes(buf, masked);
    buf.extend_from_slice(b",\"encoding\":\"");
    buf.extend_from_slice(f.encoding.as_bytes());
    buf.push(b'"');
    if reveal {
        buf.extend_from_slice(b",\"value\":");
        json_str(buf, &f.value);
    }
    buf.extend_from_slice(b"}\n");
}

/// A JSON string; values rarely need escaping, so the common case is one copy.
fn json_str(buf: &mut Vec<u8>, s: &str) {
    json_bytes(buf, s.as_bytes());
}

/// [`json_str`] of UTF-8 bytes (a masked value, built as bytes).
fn json_bytes(buf: &mut Vec<u8>, s: &[u8]) {
    // A fold without an early exit, so that it vectorises.
    let special = s.iter().fold(0u8, |a, &b| {
        a | u8::from(b < 0x20) | u8::from(b == b'"') | u8::from(b == b'\\')
    }) != 0;
    if special {
        let _ = serde_json::to_writer(&mut *buf, &String::from_utf8_lossy(s));
    } else {
        buf.push(b'"');
        buf.extend_from_slice(s);
        buf.push(b'"');
    }
}

fn json_u64(buf: &mut Vec<u8>, v: u64) {
    buf.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
}

fn failed_report(path: &str, msg: &str) -> FileReport {
    FileReport {
        path: path.to_owned(),
        format: "unknown",
        encoding: None,
        bytes: 0,
        counts: [0; 11],
        status: Status::Failed(msg.to_owned()),
        warnings: Vec::new(),
    }
}

/// In JSON output each finding in a buffer is preceded by a 0 byte; replace it with a comma
/// except before the very first finding of the document.
fn fix_json_commas(buf: &mut Vec<u8>, format: OutputFormat, shared: &Mutex<Out<'_>>) {
    if format != OutputFormat::Json || buf.is_empty() {
        return;
    }
    let mut o = shared
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let mut first = o.first;
    buf.retain_mut(|b| {
        if *b == 0 {
            if first {
                first = false;
                return false;
            }
            *b = b',';
        }
        true
    });
    o.first = first;
}

fn write_json_tail(w: &mut dyn Write, s: &RunSummary) -> io::Result<()> {
    #[derive(Serialize)]
    struct FileJson<'a> {
        path: &'a str,
        format: &'a str,
        encoding: Option<&'a str>,
        bytes: u64,
        status: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        message: Option<&'a str>,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        warnings: &'a Vec<String>,
        counts: serde_json::Map<String, serde_json::Value>,
    }
    let counts = |c: &[u64; 11]| -> serde_json::Map<String, serde_json::Value> {
        Kind::ALL
            .iter()
            .filter(|k| c[k.index()] > 0)
            .map(|k| (k.as_str().to_owned(), c[k.index()].into()))
            .collect()
    };
    let files: Vec<FileJson<'_>> = s
        .files
        .iter()
        .map(|r| {
            let (status, message) = match &r.status {
                Status::Scanned => ("scanned", None),
                Status::Skipped(m) => ("skipped", Some(m.as_str())),
                Status::Failed(m) => ("failed", Some(m.as_str())),
            };
            FileJson {
                path: &r.path,
                format: r.format,
                encoding: r.encoding,
                bytes: r.bytes,
                status,
                message,
                warnings: &r.warnings,
                counts: counts(&r.counts),
            }
        })
        .collect();
    let summary = serde_json::json!({
        "files_scanned": s.count(|r| r.status == Status::Scanned),
        "files_skipped": s.count(|r| matches!(r.status, Status::Skipped(_))),
        "files_failed": s.count(|r| matches!(r.status, Status::Failed(_))),
        "files_not_read": s.count(is_not_read),
        "bytes": s.bytes,
        "seconds": s.elapsed.as_secs_f64(),
        "findings": counts(&s.per_kind()),
    });
    w.write_all(b"],\"files\":")?;
    serde_json::to_writer(&mut *w, &files)?;
    w.write_all(b",\"summary\":")?;
    serde_json::to_writer(&mut *w, &summary)?;
    w.write_all(b"}\n")
}

/// The per-file, per-kind summary table (kinds with findings only), then skipped and failed files.
pub fn write_table(w: &mut dyn Write, s: &RunSummary) -> io::Result<()> {
    let totals = s.per_kind();
    let kinds: Vec<Kind> = Kind::ALL
        .iter()
        .copied()
        .filter(|k| totals[k.index()] > 0)
        .collect();
    let rows: Vec<&FileReport> = s.files.iter().filter(|r| r.total() > 0).collect();
    let path_w = rows
        .iter()
        .map(|r| display_width(&r.path))
        .max()
        .unwrap_or(4)
        .clamp(4, 60);
    let mut head = format!("{:<path_w$}  {:<11}", "file", "encoding");
    for k in &kinds {
        let _ = write!(head, "  {:>w$}", k.as_str(), w = k.as_str().len());
    }
    head.push_str("  total");
    writeln!(w, "{head}")?;
    for r in &rows {
        let mut line = pad(&r.path, path_w);
        let _ = write!(line, "  {:<11}", r.encoding.unwrap_or("-"));
        for k in &kinds {
            let _ = write!(line, "  {:>w$}", r.counts[k.index()], w = k.as_str().len());
        }
        let _ = write!(line, "  {:>5}", r.total());
        writeln!(w, "{line}")?;
    }
    let mut line = format!("{:<path_w$}  {:<11}", "TOTAL", "");
    for k in &kinds {
        let _ = write!(line, "  {:>w$}", totals[k.index()], w = k.as_str().len());
    }
    let _ = write!(line, "  {:>5}", totals.iter().sum::<u64>());
    writeln!(w, "{line}")?;
    for r in &s.files {
        match &r.status {
            Status::Skipped(m) => writeln!(w, "skipped: {}: {m}", r.path)?,
            Status::Failed(m) => writeln!(w, "error: {}: {m}", r.path)?,
            Status::Scanned => {}
        }
        for warn in &r.warnings {
            writeln!(w, "warning: {}: {warn}", r.path)?;
        }
    }
    let secs = s.elapsed.as_secs_f64().max(1e-6);
    writeln!(
        w,
        "{} files scanned, {} skipped, {} failed ({} not read); {} in {:.2} s ({}/s)",
        s.count(|r| r.status == Status::Scanned),
        s.count(|r| matches!(r.status, Status::Skipped(_))),
        s.count(|r| matches!(r.status, Status::Failed(_))),
        s.count(is_not_read),
        human(s.bytes),
        secs,
        human((s.bytes as f64 / secs) as u64)
    )
}

fn display_width(s: &str) -> usize {
    s.chars().map(|c| if c.is_ascii() { 1 } else { 2 }).sum()
}

fn pad(s: &str, w: usize) -> String {
    let mut out = s.to_owned();
    let dw = display_width(s);
    if dw < w {
        out.push_str(&" ".repeat(w - dw));
    }
    out
}

pub fn human(bytes: u64) -> String {
    const U: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut v = bytes as f64;
    let mut i = 0;
    while v >= 1000.0 && i < U.len() - 1 {
        v /= 1000.0;
        i += 1;
    }
    if i == 0 {
        format!("{bytes} B")
    } else {
        format!("{v:.1} {}", U[i])
    }
}
