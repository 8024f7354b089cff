//! Parallel scanning of one large text file (issue 16, Part 4).
//!
//! A file is the unit of work of `runner`, so one large file ran on one thread whatever
//! `--threads` said while the other cores stayed idle. Here a large text file (plain text, JSON
//! lines, HTML, CSV/TSV over [`ParallelConfig::min_bytes`]) is cut by the calling thread into
//! chunks of whole lines, the chunks are scanned by the threads of the current rayon pool, and
//! the calling thread hands their findings to the sink in file order: the same findings, in the
//! same order, with the same line and column numbers, warnings and counts as a scan on one
//! thread.
//!
//! What a chunk's findings depend on outside the chunk, and how each is handled:
//! - Line numbers: the splitter counts line breaks as it cuts.
//! - The label of a short line that names the kind of the next line (`LineScanner::carry`), and
//!   the HTML tag, quote and comment state: a chunk is scanned from the state a file starts in.
//!   When the previous chunk ended in another state, the chunk's first lines are scanned again
//!   from the true state, in step with a scan from the start state, until both states agree;
//!   from there on the chunk's own findings are the right ones.
//! - Lines longer than `Limits::max_line` are scanned in windows whose cuts depend on the
//!   buffers of the serial reader: the splitter records where each buffer ends and a chunk is
//!   replayed to `LineScanner::lines` in exactly those pieces. A line longer than a few chunks
//!   sends the rest of the file to the serial scan, so memory stays bounded.
//! - CSV/TSV: the column model is inferred from the header and sample rows before any chunk is
//!   scanned. A cut may fall inside a quoted field with a line break: each chunk is parsed as if
//!   it began with a record, and a sentinel `"\n` after its end tells whether it ended inside a
//!   quoted field (the sentinel closes the field instead of starting a record). When one did,
//!   the open record is parsed again joined with the next chunk until the two parses reach a
//!   common record start; the findings of the chunk from there on are kept.
//! - Decoding (Shift_JIS, EUC-JP, UTF-16) is done once, by the splitter: chunks are UTF-8.
//!
//! Memory: at most [`ParallelConfig::per_thread`] chunks per thread are in flight, each about
//! [`ParallelConfig::chunk`] bytes, with their findings.

use crate::detect::Engine;
use crate::formats::HtmlState;
use crate::kind::Kind;
use crate::scan::{FileReport, Finding, LineScanner, Model, Scanner, Status, CP932_LINES_WARNING};
use std::cell::Cell;
use std::collections::{BTreeMap, VecDeque};
use std::io::{self, BufRead, Cursor, Read};
use std::panic::AssertUnwindSafe;
use std::sync::mpsc;
use std::time::Duration;

/// When and how one large file is split between threads.
#[derive(Clone, Copy, Debug)]
pub struct ParallelConfig {
    /// Smaller files (and archive members) are scanned on one thread.
    pub min_bytes: u64,
    /// Bytes per chunk (cut at the first line break after this many bytes).
    pub chunk: usize,
    /// Chunks in flight per thread of the pool.
    pub per_thread: usize,
}

impl Default for ParallelConfig {
    fn default() -> Self {
        ParallelConfig {
            min_bytes: 8 << 20,
            chunk: 1 << 20,
            per_thread: 3,
        }
    }
}

impl ParallelConfig {
    /// Whether a file of `size` bytes is split: large enough, and more than one thread in the
    /// current rayon pool (`--threads 1` keeps the serial scan).
    pub(crate) fn applies(&self, size: u64) -> bool {
        self.chunk > 0
            && self.per_thread > 0
            && size >= self.min_bytes
            && rayon::current_num_threads() > 1
    }
}

/// How the lines of a file are read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Shape {
    Lines,
    Html,
    Csv(u8),
}

thread_local! {
    /// (chunks scanned in parallel, chunks whose start was scanned again) on this thread, for tests.
    static STATS: Cell<(u64, u64)> = const { Cell::new((0, 0)) };
}

fn count_stats(chunks: u64, fixups: u64) {
    STATS.with(|s| {
        let (c, f) = s.get();
        s.set((c + chunks, f + fixups));
    });
}

/// Scans the decoded text of one file in chunks on the current rayon pool. `sc` is the file's
/// scanner: findings reach its sink, counts and warnings its report, in file order.
pub(crate) fn scan(
    scanner: &Scanner,
    sc: &mut LineScanner<'_>,
    reader: Box<dyn BufRead + '_>,
    shape: Shape,
    path: &str,
    encoding: &'static str,
) -> Result<(), String> {
    let job = Job {
        engine: scanner.engine(),
        path,
        encoding,
        max_line: scanner.limits.max_line,
        html: shape == Shape::Html,
    };
    let cfg = &scanner.parallel;
    match shape {
        Shape::Csv(delim) => scan_csv(scanner, &job, sc, reader, delim),
        Shape::Lines | Shape::Html => scan_lines(cfg, &job, sc, reader),
    }
}

/// What every chunk's scan needs; shared by reference between the threads.
struct Job<'a> {
    engine: &'a Engine,
    path: &'a str,
    encoding: &'static str,
    max_line: usize,
    html: bool,
}

/// Whole lines of the decoded text.
struct Chunk {
    seq: u64,
    data: Vec<u8>,
    /// Where each buffer of the serial reader ends within `data`, ascending; the last is
    /// `data.len()`.
    fills: Vec<usize>,
    /// The number of the line `data` starts.
    first_line: u64,
    /// The end of the file.
    last: bool,
}

fn count_newlines(b: &[u8]) -> u64 {
    // Byte counters over blocks of 255 bytes, so that the count vectorises.
    b.chunks(255)
        .map(|block| {
            u64::from(
                block
                    .iter()
                    .fold(0u8, |n, &c| n.wrapping_add(u8::from(c == b'\n'))),
            )
        })
        .sum()
}

/// Hands `data[start..end]` to a reader in the pieces the serial reader returned it in.
struct Replay<'a> {
    data: &'a [u8],
    fills: &'a [usize],
    pos: usize,
    end: usize,
    i: usize,
}

impl<'a> Replay<'a> {
    fn new(data: &'a [u8], fills: &'a [usize], start: usize, end: usize) -> Self {
        Replay {
            data,
            fills,
            pos: start,
            end,
            i: fills.partition_point(|&f| f <= start),
        }
    }
}

impl Read for Replay<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let avail = self.fill_buf()?;
        let n = avail.len().min(buf.len());
        buf[..n].copy_from_slice(&avail[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for Replay<'_> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.pos >= self.end {
            return Ok(&[]);
        }
        let stop = self
            .fills
            .get(self.i)
            .copied()
            .unwrap_or(self.end)
            .min(self.end);
        Ok(&self.data[self.pos..stop])
    }
    fn consume(&mut self, n: usize) {
        self.pos += n;
        while self.fills.get(self.i).is_some_and(|&f| f <= self.pos) {
            self.i += 1;
        }
    }
}

enum Next {
    Chunk(Chunk),
    End,
    /// No line break in more than the hard limit.
    LongLine,
    Failed(io::Error),
}

/// Reads the decoded text buffer by buffer, as the serial scan would, and cuts it into chunks
/// at line breaks.
struct Splitter<'r> {
    r: Box<dyn BufRead + 'r>,
    /// Read and not yet cut: starts at a line start.
    buf: Vec<u8>,
    fills: Vec<usize>,
    /// The number of the line `buf` starts.
    line: u64,
    eof: bool,
    error: Option<io::Error>,
    /// Buffers of scanned chunks, reused.
    free: Vec<Vec<u8>>,
}

const BOM: &[u8] = b"\xEF\xBB\xBF";

impl<'r> Splitter<'r> {
    fn new(r: Box<dyn BufRead + 'r>) -> Self {
        Splitter {
            r,
            buf: Vec::new(),
            fills: Vec::new(),
            line: 1,
            eof: false,
            error: None,
            free: Vec::new(),
        }
    }

    fn next(&mut self, target: usize, hard: usize, csv: bool) -> Next {
        loop {
            if self.eof || self.error.is_some() || self.buf.len() >= target {
                if self.eof {
                    if self.buf.is_empty() {
                        return Next::End;
                    }
                    return Next::Chunk(self.take(self.buf.len(), true));
                }
                // The first line break after `target` bytes; on an error or past the hard
                // limit, the last one.
                let from = if self.error.is_some() || self.buf.len() >= hard {
                    None
                } else {
                    Some(target.saturating_sub(1))
                };
                if let Some(cut) = cut_point(&self.buf, from, csv) {
                    return Next::Chunk(self.take(cut + 1, false));
                }
                if let Some(e) = self.error.take() {
                    return Next::Failed(e);
                }
                if self.buf.len() >= hard {
                    return Next::LongLine;
                }
            }
            match self.r.fill_buf() {
                Ok([]) => self.eof = true,
                Ok(avail) => {
                    let n = avail.len();
                    self.buf.extend_from_slice(avail);
                    self.fills.push(self.buf.len());
                    self.r.consume(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => self.error = Some(e),
            }
        }
    }

    fn take(&mut self, n: usize, last: bool) -> Chunk {
        // The chunk takes the buffer; only the bytes after the cut are copied to a new one.
        let mut rest = self.free.pop().unwrap_or_default();
        rest.clear();
        rest.extend_from_slice(&self.buf[n..]);
        let mut data = std::mem::replace(&mut self.buf, rest);
        data.truncate(n);
        let k = self.fills.partition_point(|&f| f < n);
        let mut fills = self.fills[..k].to_vec();
        fills.push(n);
        self.fills = self.fills[k..]
            .iter()
            .filter(|&&f| f > n)
            .map(|&f| f - n)
            .collect();
        let first_line = self.line;
        self.line += count_newlines(&data);
        Chunk {
            seq: 0,
            data,
            fills,
            first_line,
            last,
        }
    }
}

/// The first line break of `buf` at or after `from`, or with `None` the last one. The CSV reader
/// drops a UTF-8 BOM at the start of its input, so a CSV chunk never starts with one (the serial
/// reader keeps it as text).
fn cut_point(buf: &[u8], from: Option<usize>, csv: bool) -> Option<usize> {
    let fits = |i: usize| {
        let after = &buf[i + 1..];
        !csv || !(after.starts_with(BOM) || (!after.is_empty() && BOM.starts_with(after)))
    };
    if let Some(mut from) = from {
        while let Some(i) = buf.get(from..).and_then(|b| memchr::memchr(b'\n', b)) {
            if fits(from + i) {
                return Some(from + i);
            }
            from += i + 1;
        }
        return None;
    }
    let mut end = buf.len();
    while let Some(i) = memchr::memrchr(b'\n', &buf[..end]) {
        if fits(i) {
            return Some(i);
        }
        end = i;
    }
    None
}

/// Why the pipeline stopped.
enum Tail {
    End,
    LongLine,
    Failed(io::Error),
    Stopped(String),
}

type Done<T> = (u64, std::thread::Result<T>, Chunk);

/// Chunks cut and not yet taken by a thread.
type Queue = std::sync::Mutex<VecDeque<Chunk>>;

fn pop(queue: &Queue) -> Option<Chunk> {
    queue
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .pop_front()
}

fn run<T>(work: &(dyn Fn(&Chunk) -> T + Sync), c: Chunk) -> Done<T> {
    let r = std::panic::catch_unwind(AssertUnwindSafe(|| work(&c)));
    (c.seq, r, c)
}

/// Waits for the result of chunk `seq`, scanning queued chunks of this file meanwhile (never
/// other jobs of the pool: another file's scan started here would hold this file's chunks).
fn wait<T>(
    rx: &mpsc::Receiver<Done<T>>,
    queue: &Queue,
    work: &(dyn Fn(&Chunk) -> T + Sync),
    early: &mut BTreeMap<u64, (std::thread::Result<T>, Chunk)>,
    seq: u64,
) -> (T, Chunk) {
    loop {
        if let Some((r, c)) = early.remove(&seq) {
            match r {
                Ok(t) => return (t, c),
                // A bug in a detector: the file is reported as failed, as in the serial scan.
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        let got = match rx.try_recv() {
            Ok(d) => Some(d),
            Err(_) => match pop(queue) {
                Some(c) => Some(run(work, c)),
                None => rx.recv_timeout(Duration::from_millis(5)).ok(),
            },
        };
        if let Some((s, r, c)) = got {
            early.insert(s, (r, c));
        }
    }
}

/// Cuts chunks, scans them with `work` on the pool and hands the results to `emit` in order.
fn pipeline<T: Send>(
    sp: &mut Splitter<'_>,
    mut first: Option<Chunk>,
    cfg: &ParallelConfig,
    csv: bool,
    hard: usize,
    work: &(dyn Fn(&Chunk) -> T + Sync),
    emit: &mut dyn FnMut(T, &Chunk) -> Result<(), String>,
) -> Tail {
    // Bounded for many-core machines too: at most 32 chunks (about 40 MiB with their findings).
    let in_flight = (rayon::current_num_threads() * cfg.per_thread).clamp(2, 32) as u64;
    let mut tail = None;
    let mut chunks = 0;
    let queue: Queue = std::sync::Mutex::new(VecDeque::new());
    rayon::in_place_scope_fifo(|s| {
        let (tx, rx) = mpsc::channel::<Done<T>>();
        let mut early = BTreeMap::new();
        let (mut next, mut emitted) = (0u64, 0u64);
        loop {
            while tail.is_none() && next - emitted < in_flight {
                let n = match first.take() {
                    Some(c) => Next::Chunk(c),
                    None => sp.next(cfg.chunk, hard, csv),
                };
                match n {
                    Next::Chunk(mut c) => {
                        c.seq = next;
                        next += 1;
                        queue
                            .lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner)
                            .push_back(c);
                        // One job per chunk; it finds none when this thread took it first.
                        let (tx, queue) = (tx.clone(), &queue);
                        s.spawn_fifo(move |_| {
                            if let Some(c) = pop(queue) {
                                let _ = tx.send(run(work, c));
                            }
                        });
                    }
                    Next::End => tail = Some(Tail::End),
                    Next::LongLine => tail = Some(Tail::LongLine),
                    Next::Failed(e) => tail = Some(Tail::Failed(e)),
                }
            }
            if emitted == next {
                break;
            }
            let (t, c) = wait(&rx, &queue, work, &mut early, emitted);
            emitted += 1;
            chunks += 1;
            if !matches!(tail, Some(Tail::Stopped(_))) {
                if let Err(m) = emit(t, &c) {
                    tail = Some(Tail::Stopped(m));
                }
            }
            sp.free.push(c.data);
        }
    });
    count_stats(chunks, 0);
    tail.unwrap_or(Tail::End)
}

/// Findings of a chunk, kept until it is its turn: `key` is the line (text) or the record's
/// byte offset (CSV), ascending.
#[derive(Default)]
struct Found {
    items: Vec<Item>,
    arena: String,
}

struct Item {
    key: u64,
    line: u64,
    column: u64,
    kind: Kind,
    value: (usize, usize),
}

impl Found {
    fn add(&mut self, key: u64, f: &Finding) {
        let start = self.arena.len();
        self.arena.push_str(&f.value);
        self.items.push(Item {
            key,
            line: f.line,
            column: f.column,
            kind: f.kind,
            value: (start, self.arena.len()),
        });
    }

    /// Reports the findings with `key >= from` through the file's scanner.
    fn emit(&self, sc: &mut LineScanner<'_>, from: u64) {
        let first = self.items.partition_point(|it| it.key < from);
        for it in &self.items[first..] {
            sc.push(
                it.line,
                it.column,
                it.kind,
                &self.arena[it.value.0..it.value.1],
            );
        }
    }
}

fn scratch_report() -> FileReport {
    FileReport {
        path: String::new(),
        format: "text",
        encoding: None,
        bytes: 0,
        counts: [0; 11],
        status: Status::Scanned,
        warnings: Vec::new(),
    }
}

// ---- text, JSON lines, HTML ---------------------------------------------------------------

/// What carries from one line to the next.
#[derive(Clone, Default, PartialEq, Eq)]
struct TextState {
    carry: Option<Kind>,
    html: HtmlState,
}

struct TextOut {
    found: Found,
    end: TextState,
    replaced: u64,
    /// CP932 lines among UTF-8 lines: counted per chunk, reported once for the file.
    cp932: u64,
    warnings: Vec<String>,
}

const REPLACED_WARNING: &str = "invalid UTF-8 on ";

fn text_chunk(job: &Job<'_>, chunk: &Chunk) -> TextOut {
    let mut found = Found::default();
    let mut report = scratch_report();
    let (end, replaced, cp932) = {
        let mut sink = |f: &Finding| found.add(f.line, f);
        let mut sc = LineScanner::new(job.engine, job.path, job.encoding, &mut report, &mut sink);
        sc.first_line = chunk.first_line;
        let mut r = Replay::new(&chunk.data, &chunk.fills, 0, chunk.data.len());
        // A replay of memory cannot fail.
        let _ = sc.lines(&mut r, job.max_line, job.html);
        let end = TextState {
            carry: sc.carry,
            html: std::mem::take(&mut sc.html),
        };
        (end, sc.replaced_lines, sc.cp932_lines)
    };
    report
        .warnings
        .retain(|w| !w.starts_with(REPLACED_WARNING) && !w.ends_with(CP932_LINES_WARNING));
    TextOut {
        found,
        end,
        replaced,
        cp932,
        warnings: report.warnings,
    }
}

/// Scans the chunk's first lines again from the true state `truth`, in step with a scan from
/// the start state, until both states agree. Returns the findings of those lines, the last of
/// them if the states agreed (the chunk's own findings are right after it), and the state after
/// the chunk if they never did.
fn text_fixup(job: &Job<'_>, chunk: &Chunk, truth: &TextState) -> (Found, Option<u64>, TextState) {
    let mut fixed = Found::default();
    let (mut ra, mut rb) = (scratch_report(), scratch_report());
    let mut sink_a = |f: &Finding| fixed.add(f.line, f);
    let mut sink_b = |_: &Finding| {};
    let mut a = LineScanner::new(job.engine, job.path, job.encoding, &mut ra, &mut sink_a);
    a.carry = truth.carry;
    a.html = truth.html.clone();
    let mut b = LineScanner::new(job.engine, job.path, job.encoding, &mut rb, &mut sink_b);
    let data = &chunk.data;
    let (mut start, mut line) = (0, chunk.first_line);
    let mut agreed = None;
    while start < data.len() {
        let end = memchr::memchr(b'\n', &data[start..]).map_or(data.len(), |i| start + i + 1);
        for sc in [&mut a, &mut b] {
            sc.first_line = line;
            let _ = sc.lines(
                &mut Replay::new(data, &chunk.fills, start, end),
                job.max_line,
                job.html,
            );
        }
        if a.carry == b.carry && a.html == b.html {
            agreed = Some(line);
            break;
        }
        start = end;
        line += 1;
    }
    let end = TextState {
        carry: a.carry,
        html: std::mem::take(&mut a.html),
    };
    drop(a);
    (fixed, agreed, end)
}

fn scan_lines(
    cfg: &ParallelConfig,
    job: &Job<'_>,
    sc: &mut LineScanner<'_>,
    reader: Box<dyn BufRead + '_>,
) -> Result<(), String> {
    let mut sp = Splitter::new(reader);
    // Lines up to a few chunks long stay in one chunk; a longer one is scanned on this thread.
    let hard = cfg
        .chunk
        .saturating_mul(4)
        .max(job.max_line.saturating_mul(2));
    let mut state = TextState {
        carry: sc.carry,
        html: sc.html.clone(),
    };
    let start = TextState::default();
    let mut replaced = 0u64;
    let mut cp932 = 0u64;
    let mut fixups = 0;
    let work = |c: &Chunk| text_chunk(job, c);
    let tail = loop {
        let mut emit = |out: TextOut, c: &Chunk| -> Result<(), String> {
            if state == start {
                out.found.emit(sc, 0);
                state = out.end;
            } else {
                fixups += 1;
                let (fixed, agreed, end) = text_fixup(job, c, &state);
                fixed.emit(sc, 0);
                if let Some(line) = agreed {
                    out.found.emit(sc, line + 1);
                    state = out.end;
                } else {
                    state = end;
                }
            }
            // Windowed lines and invalid UTF-8 do not depend on the state: the chunk's own.
            sc.report.warnings.extend(out.warnings);
            replaced += out.replaced;
            cp932 += out.cp932;
            Ok(())
        };
        match pipeline(&mut sp, None, cfg, false, hard, &work, &mut emit) {
            Tail::LongLine => {
                // This line on this thread, from the state after the last chunk, read in the
                // serial reader's buffers up to its line break; then chunks again.
                sc.first_line = sp.line;
                sc.carry = state.carry;
                sc.html = std::mem::take(&mut state.html);
                sc.replaced_lines = 0;
                sc.cp932_lines = 0;
                let result = sc.lines(
                    &mut OneLine {
                        sp: &mut sp,
                        done: false,
                    },
                    job.max_line,
                    job.html,
                );
                state.carry = sc.carry;
                state.html = std::mem::take(&mut sc.html);
                replaced += sc.replaced_lines;
                cp932 += sc.cp932_lines;
                sc.report.warnings.retain(|w| {
                    !w.starts_with(REPLACED_WARNING) && !w.ends_with(CP932_LINES_WARNING)
                });
                result?;
                sp.line += 1;
            }
            tail => break tail,
        }
    };
    count_stats(0, fixups);
    sc.replaced_lines = replaced;
    sc.cp932_lines = cp932;
    match tail {
        Tail::End | Tail::LongLine => {
            sc.note_replaced_lines();
            sc.note_cp932_lines();
            Ok(())
        }
        Tail::Failed(e) => Err(format!("read error at line {}: {e}", sp.line)),
        Tail::Stopped(m) => Err(m),
    }
}

/// The splitter's text up to and including the next line break, in the serial reader's buffers
/// (the last one cut after the line break; its rest stays in the splitter).
struct OneLine<'s, 'r> {
    sp: &'s mut Splitter<'r>,
    done: bool,
}

impl Read for OneLine<'_, '_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let avail = self.fill_buf()?;
        let n = avail.len().min(buf.len());
        buf[..n].copy_from_slice(&avail[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for OneLine<'_, '_> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.done {
            return Ok(&[]);
        }
        if self.sp.buf.is_empty() {
            let avail = self.sp.r.fill_buf()?;
            let n = avail.len();
            if n == 0 {
                self.sp.eof = true;
                return Ok(&[]);
            }
            self.sp.buf.extend_from_slice(avail);
            self.sp.fills.push(n);
            self.sp.r.consume(n);
        }
        let fill = self.sp.fills.first().copied().unwrap_or(0);
        let piece = &self.sp.buf[..fill];
        Ok(memchr::memchr(b'\n', piece).map_or(piece, |i| &piece[..=i]))
    }
    fn consume(&mut self, n: usize) {
        if n == 0 {
            return;
        }
        self.done = self.sp.buf[n - 1] == b'\n';
        self.sp.buf.drain(..n);
        for f in &mut self.sp.fills {
            *f -= n;
        }
        if self.sp.fills.first() == Some(&0) {
            self.sp.fills.remove(0);
        }
    }
}

// ---- CSV and TSV ----------------------------------------------------------------------------

/// Record starts kept per chunk to find where a parse joined with the previous chunk meets
/// the chunk's own parse.
const KEEP_STARTS: usize = 256;

/// How a chunk's parse ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CsvEnd {
    AtStart,
    /// The record starting at this offset runs on past the end (a quoted line break).
    Open(usize),
}

struct CsvOut {
    found: Found,
    /// The first record starts of the parse.
    starts: Vec<usize>,
    /// `starts` holds every record start.
    all_starts: bool,
    end: CsvEnd,
    /// Where a joined parse met the chunk's own parse (an offset in the chunk).
    met: Option<usize>,
    error: Option<String>,
}

/// The line of the record starting at `pos` (as the serial scan counts them: line breaks at or
/// before the record's offset, which is the '\n' of a CRLF).
struct LineAt {
    base: u64,
    upto: usize,
    count: u64,
}

impl LineAt {
    fn at(&mut self, buf: &[u8], pos: usize) -> u64 {
        let end = (pos + 1).min(buf.len());
        if end > self.upto {
            self.count += count_newlines(&buf[self.upto..end]);
            self.upto = end;
        }
        self.base + self.count
    }
}

fn csv_reader(body: &[u8], last: bool, delim: u8) -> csv::Reader<impl Read + '_> {
    let sentinel: &[u8] = if last { b"" } else { b"\"\n" };
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delim)
        .from_reader(body.chain(sentinel))
}

/// Parses `body` (whole lines; the line numbered `base` first) from a record start and scans its
/// rows. Unless `last`, a record left open at the end is reported in `end` and not scanned.
/// `skip`: records not scanned (the sample, already scanned). `meet`: a parse whose first
/// `shift` bytes are the open record of the previous chunk stops where it reaches a record start
/// of that chunk's own parse.
#[allow(clippy::too_many_arguments)]
fn csv_parse(
    job: &Job<'_>,
    model: &Model,
    delim: u8,
    body: &[u8],
    base: u64,
    last: bool,
    mut skip: usize,
    meet: Option<(&CsvOut, usize)>,
) -> CsvOut {
    let mut found = Found::default();
    let mut report = scratch_report();
    let key = Cell::new(0u64);
    let count = Cell::new(0usize);
    let mut starts = Vec::new();
    let mut all_starts = true;
    let mut end = CsvEnd::AtStart;
    let mut met = None;
    let mut error = None;
    let mut sentinel = false;
    let (mut last_start, mut mark) = (None, 0);
    {
        let mut sink = |f: &Finding| {
            found.add(key.get(), f);
            count.set(count.get() + 1);
        };
        let mut sc = LineScanner::new(job.engine, job.path, job.encoding, &mut report, &mut sink);
        let mut rdr = csv_reader(body, last, delim);
        let mut rec = csv::ByteRecord::new();
        let mut lines = LineAt {
            base,
            upto: 0,
            count: 0,
        };
        loop {
            match rdr.read_byte_record(&mut rec) {
                Ok(true) => {
                    let pos = usize::try_from(rec.position().map_or(0, csv::Position::byte))
                        .unwrap_or(usize::MAX);
                    if !last && pos >= body.len() {
                        sentinel = true;
                        break;
                    }
                    if let Some((own, shift)) = meet {
                        if pos > shift {
                            let q = pos - shift;
                            let known =
                                own.all_starts || own.starts.last().is_some_and(|&l| q <= l);
                            if known && own.starts.binary_search(&q).is_ok() {
                                met = Some(q);
                                break;
                            }
                        }
                    }
                    if starts.len() < KEEP_STARTS {
                        starts.push(pos);
                    } else {
                        all_starts = false;
                    }
                    last_start = Some(pos);
                    mark = count.get();
                    if skip > 0 {
                        skip -= 1;
                        continue;
                    }
                    key.set(pos as u64);
                    let line = lines.at(body, pos);
                    // As in the serial scan: one UTF-8 check for the record, a lossy copy of a
                    // field only for damaged text.
                    let whole = simdutf8::basic::from_utf8(rec.as_slice()).ok();
                    let fields = (0..rec.len()).map(|i| {
                        let r = rec.range(i).unwrap_or(0..0);
                        match whole.and_then(|w| w.get(r.clone())) {
                            Some(f) => std::borrow::Cow::Borrowed(f),
                            None => String::from_utf8_lossy(&rec.as_slice()[r]),
                        }
                    });
                    sc.row(line, fields, model, true);
                }
                Ok(false) => break,
                Err(e) => {
                    error = Some(format!("malformed CSV: {e}"));
                    break;
                }
            }
        }
    }
    if !last && !sentinel && met.is_none() && error.is_none() {
        if let Some(p) = last_start {
            end = CsvEnd::Open(p);
            found.items.truncate(mark);
        }
    }
    CsvOut {
        found,
        starts,
        all_starts,
        end,
        met,
        error,
    }
}

/// The state between two chunks: at a record start, or inside the record `bytes` (from its
/// start), which starts on line `base`.
enum CsvState {
    AtStart,
    Open { bytes: Vec<u8>, base: u64 },
}

fn open_state(end: CsvEnd, buf: &[u8], base: u64, max_record: u64) -> Result<CsvState, String> {
    match end {
        CsvEnd::AtStart => Ok(CsvState::AtStart),
        CsvEnd::Open(p) => {
            let bytes = buf[p..].to_vec();
            if bytes.len() as u64 > max_record {
                return Err(format!(
                    "malformed CSV: a quoted field runs over more than {} MiB",
                    max_record >> 20
                ));
            }
            Ok(CsvState::Open {
                bytes,
                base: base + count_newlines(&buf[..p]),
            })
        }
    }
}

/// The header and sample rows of the first chunk (as the serial scan reads them), if the chunk
/// holds all of them whole.
fn sample(data: &[u8], delim: u8, sample_rows: usize) -> Option<Vec<(u64, Vec<String>)>> {
    let mut rdr = csv_reader(data, false, delim);
    let mut rec = csv::ByteRecord::new();
    let mut lines = LineAt {
        base: 1,
        upto: 0,
        count: 0,
    };
    let mut buffered = Vec::new();
    while let Ok(true) = rdr.read_byte_record(&mut rec) {
        let pos = usize::try_from(rec.position().map_or(0, csv::Position::byte)).ok()?;
        // The sentinel, or a record after the sample: the sample's records are whole.
        if pos >= data.len() || buffered.len() > sample_rows {
            return (buffered.len() > sample_rows).then_some(buffered);
        }
        let row = rec
            .iter()
            .map(|f| String::from_utf8_lossy(f).into_owned())
            .collect();
        buffered.push((lines.at(data, pos), row));
    }
    None
}

fn scan_csv(
    scanner: &Scanner,
    job: &Job<'_>,
    sc: &mut LineScanner<'_>,
    reader: Box<dyn BufRead + '_>,
    delim: u8,
) -> Result<(), String> {
    let cfg = &scanner.parallel;
    let limits = &scanner.limits;
    let long = || {
        format!(
            "malformed CSV: more than {} MiB without a line break",
            limits.max_record >> 20
        )
    };
    let mut sp = Splitter::new(reader);
    let hard = usize::try_from(limits.max_record)
        .unwrap_or(usize::MAX)
        .saturating_add(1);
    let mut first = match sp.next(cfg.chunk, hard, true) {
        Next::Chunk(c) => c,
        Next::End => return Ok(()),
        Next::LongLine => return Err(long()),
        Next::Failed(e) => return Err(format!("malformed CSV: {e}")),
    };
    // The first chunk grows until it holds the header and sample rows.
    let sample_cap = cfg.chunk.max(1 << 20).saturating_mul(16);
    let buffered = loop {
        if first.last {
            break None;
        }
        if let Some(b) = sample(&first.data, delim, limits.sample_rows) {
            break Some(b);
        }
        if first.data.len() >= sample_cap {
            break None;
        }
        match sp.next(cfg.chunk, hard, true) {
            Next::Chunk(c) => {
                let at = first.data.len();
                first.fills.extend(c.fills.iter().map(|f| f + at));
                first.data.extend_from_slice(&c.data);
                first.last = c.last;
            }
            Next::End => first.last = true,
            Next::LongLine | Next::Failed(_) => break None,
        }
    };
    let Some(buffered) = buffered else {
        // The whole file in one chunk, or rows too long for the sample to fit in it.
        let replay = Replay::new(&sp.buf, &sp.fills, 0, sp.buf.len());
        let rest = Cursor::new(&first.data[..]).chain(replay).chain(&mut sp.r);
        return sc.csv(Box::new(rest), delim, limits.sample_rows, limits.max_record);
    };
    let model = sc.model(&buffered);
    for (line, row) in &buffered {
        sc.row(*line, row, &model, true);
    }
    let skip = buffered.len();
    drop(buffered);
    let mut state = CsvState::AtStart;
    let mut fixups = 0;
    let work = |c: &Chunk| {
        let skip = if c.seq == 0 { skip } else { 0 };
        csv_parse(
            job,
            &model,
            delim,
            &c.data,
            c.first_line,
            c.last,
            skip,
            None,
        )
    };
    let mut emit = |out: CsvOut, c: &Chunk| -> Result<(), String> {
        if let Some(e) = out.error {
            return Err(e);
        }
        match std::mem::replace(&mut state, CsvState::AtStart) {
            CsvState::AtStart => {
                out.found.emit(sc, 0);
                state = open_state(out.end, &c.data, c.first_line, limits.max_record)?;
            }
            CsvState::Open { mut bytes, base } => {
                fixups += 1;
                let shift = bytes.len();
                bytes.extend_from_slice(&c.data);
                let joined = csv_parse(
                    job,
                    &model,
                    delim,
                    &bytes,
                    base,
                    c.last,
                    0,
                    Some((&out, shift)),
                );
                if let Some(e) = joined.error {
                    return Err(e);
                }
                joined.found.emit(sc, 0);
                state = match joined.met {
                    Some(q) => {
                        out.found.emit(sc, q as u64);
                        open_state(out.end, &c.data, c.first_line, limits.max_record)?
                    }
                    None => open_state(joined.end, &bytes, base, limits.max_record)?,
                };
            }
        }
        Ok(())
    };
    let tail = pipeline(&mut sp, Some(first), cfg, true, hard, &work, &mut emit);
    count_stats(0, fixups);
    match tail {
        Tail::End => {
            // The file ended right after a chunk that left a record open: parse it to the end.
            if let CsvState::Open { bytes, base } = state {
                let out = csv_parse(job, &model, delim, &bytes, base, true, 0, None);
                if let Some(e) = out.error {
                    return Err(e);
                }
                out.found.emit(sc, 0);
            }
            Ok(())
        }
        Tail::LongLine => Err(long()),
        Tail::Failed(e) => Err(format!("malformed CSV: {e}")),
        Tail::Stopped(m) => Err(m),
    }
}

/// (chunks scanned in parallel, chunks whose start was scanned again) so far on this thread.
#[cfg(test)]
fn stats() -> (u64, u64) {
    STATS.with(Cell::get)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kind::KindSet;
    use crate::testdata;
    use std::fmt::Write as _;

    type Outcome = (Vec<Finding>, Vec<String>, (u64, u64));

    /// Scans `data` on a pool of three threads with `cfg` (None: on one thread) and returns the
    /// findings, the reports (as text) and the parallel statistics of the run.
    fn run(
        name: &str,
        data: &[u8],
        cfg: Option<ParallelConfig>,
        limits: Option<crate::Limits>,
    ) -> Outcome {
        let mut scanner = Scanner::new(KindSet::all());
        if let Some(l) = limits {
            scanner.limits = l;
        }
        let threads = if let Some(c) = cfg {
            scanner.parallel = c;
            3
        } else {
            1
        };
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let before = stats();
            let mut found = Vec::new();
            let reports = scanner.scan_bytes(name, data, &mut |f| found.push(f.clone()));
            let after = stats();
            let reports = reports
                .iter()
                .map(|r| {
                    format!(
                        "{} {} {:?} {} {:?} {:?} {:?}",
                        r.path, r.format, r.encoding, r.bytes, r.counts, r.status, r.warnings
                    )
                })
                .collect();
            (found, reports, (after.0 - before.0, after.1 - before.1))
        })
    }

    fn small(chunk: usize) -> ParallelConfig {
        ParallelConfig {
            min_bytes: 0,
            chunk,
            per_thread: 2,
        }
    }

    /// Every chunk size gives the findings (values, lines, columns, order), counts and warnings
    /// of the scan on one thread. Returns the most chunks and fix-ups seen.
    fn same_as_serial(name: &str, data: &[u8], limits: Option<crate::Limits>) -> (u64, u64) {
        let (want, want_reports, st) = run(name, data, None, limits);
        assert_eq!(st.0, 0, "{name}: one thread must not split");
        assert!(
            want.len() > 20,
            "{name}: too few findings ({}) to compare",
            want.len()
        );
        let mut most = (0, 0);
        for chunk in [700, 4093, 20_000] {
            let (got, reports, st) = run(name, data, Some(small(chunk)), limits);
            assert_eq!(reports, want_reports, "{name}, chunks of {chunk}");
            assert_eq!(got.len(), want.len(), "{name}, chunks of {chunk}");
            for (g, w) in got.iter().zip(&want) {
                assert!(
                    g == w,
                    "{name}, chunks of {chunk}: {:?} {:?} instead of {:?} {:?}",
                    g,
                    g.value,
                    w,
                    w.value
                );
            }
            assert!(st.0 > 1, "{name}: {st:?}");
            most = (most.0.max(st.0), most.1.max(st.1));
        }
        most
    }

    /// The generated documents of one name ending, decoded, joined under the first header.
    fn corpus(suffix: &str, header: bool, min_len: usize) -> String {
        let mut out = String::new();
        let mut seed = 11;
        while out.len() < min_len {
            let (files, _) = testdata::generate(seed, 45);
            seed += 1;
            for f in files.iter().filter(|f| f.path.ends_with(suffix)) {
                let s = crate::decode::sniff(&f.bytes, true);
                let text = s.encoding.decode_with_bom_removal(&f.bytes).0.into_owned();
                let body = match text.split_once('\n') {
                    Some((_, b)) if header && !out.is_empty() => b,
                    _ => text.as_str(),
                };
                out.push_str(body);
                if !out.ends_with('\n') {
                    out.push('\n');
                }
            }
        }
        out
    }

    fn utf16le(s: &str) -> Vec<u8> {
        [0xFF, 0xFE]
            .into_iter()
            .chain(s.encode_utf16().flat_map(u16::to_le_bytes))
            .collect()
    }

    #[test]
    fn memo_text_with_labels_on_the_line_before_and_bad_utf8() {
        let mut text = corpus("_memo.txt", false, 150_000);
        // A short label line names the kind of the next line (the state a chunk may start in).
        for i in 0..400 {
            let _ = write!(
                text,
                "生年月日\n1985年3月{}日\n氏名\n山田 太郎\n電話\n",
                i % 28 + 1
            );
            text.push_str("090-1234-5678\n\n");
        }
        let mut bytes = text.into_bytes();
        // Invalid UTF-8 past the sniffed prefix: lines replaced and counted.
        for i in 0..50 {
            bytes.extend_from_slice(format!("メール{i} ").as_bytes());
            bytes.extend_from_slice(b"\xFF\xFE");
            bytes.extend_from_slice(format!(" taro{i}@example.jp\r\n").as_bytes());
        }
        let (chunks, fixups) = same_as_serial("memo.txt", &bytes, None);
        assert!(
            chunks > 100 && fixups > 0,
            "{chunks} chunks, {fixups} fix-ups"
        );
    }

    #[test]
    fn lines_of_shift_jis_among_utf8_lines() {
        // A UTF-8 memo with CP932 lines here and there (a file appended to by two programs):
        // each chunk decodes its own, and the file reports one count, as on one thread.
        let text = corpus("_memo.txt", false, 150_000);
        let mut bytes = Vec::new();
        for (i, line) in text.lines().enumerate() {
            if i % 7 == 3 {
                let (sjis, _, bad) = encoding_rs::SHIFT_JIS.encode(line);
                if !bad {
                    bytes.extend_from_slice(&sjis);
                    bytes.push(b'\n');
                    continue;
                }
            }
            bytes.extend_from_slice(line.as_bytes());
            bytes.push(b'\n');
        }
        same_as_serial("mixed.txt", &bytes, None);
    }

    #[test]
    fn json_lines_and_utf16_and_shift_jis_text() {
        let jsonl = corpus("_users.jsonl", false, 200_000);
        same_as_serial("users.jsonl", jsonl.as_bytes(), None);
        let memo = corpus("_memo.txt", false, 120_000);
        same_as_serial("memo-utf16.txt", &utf16le(&memo), None);
        let sjis = encoding_rs::SHIFT_JIS.encode(&memo).0.into_owned();
        same_as_serial("memo-sjis.txt", &sjis, None);
    }

    #[test]
    fn html_with_comments_and_tags_over_several_lines() {
        let mut html = String::from("<!DOCTYPE html>\n<html><body>\n");
        for i in 0..1500 {
            let _ = writeln!(
                html,
                "<p class=\"a\">氏名：佐藤 花子{i}</p><p>電話 03-1234-{:04}</p>",
                i % 10_000
            );
            if i % 7 == 0 {
                // A comment over many lines: its values are not content.
                html.push_str(
                    "<!-- 旧データ\n氏名：鈴木 一郎\n電話 090-9999-8888\nメール old@example.jp\n",
                );
                html.push_str("生年月日 1970年1月1日\n -->\n");
            }
            if i % 11 == 0 {
                html.push_str("<div\n  title=\"連絡先 > 090-1111-2222\"\n  data-x='y'>メール hana@example.jp</div>\n");
            }
            if i % 13 == 0 {
                html.push_str("<script>\nvar tel = \"090-3333-4444\";\n</script>\n");
            }
        }
        let (_, fixups) = same_as_serial("page.html", html.as_bytes(), None);
        assert!(fixups > 0);
    }

    /// CSV rows, with quoted fields that hold line breaks, quotes and delimiters.
    fn csv_with_quoted_newlines(delim: char, crlf: bool) -> String {
        let nl = if crlf { "\r\n" } else { "\n" };
        let mut csv = corpus(
            if delim == '\t' {
                "_payments.tsv"
            } else {
                "_members.csv"
            },
            true,
            100_000,
        );
        if crlf {
            csv = csv.replace("\r\n", "\n").replace('\n', "\r\n");
        }
        let d = delim;
        for i in 0..1200 {
            let (town, tel) = (i % 9 + 1, i % 10_000);
            let _ = write!(
                csv,
                "{i}{d}\"山田\n太郎\"{d}ヤマダ タロウ{d}100-0001{d}\"東京都千代田区千代田1-{town}\n"
            );
            let _ = write!(
                csv,
                "皇居 \"\"前\"\"{d}棟\"{d}090-1234-{tel:04}{d}taro{i}@example.jp{d}1985年3月5日{d}5'10\"{nl}"
            );
            if i % 5 == 0 {
                let _ = write!(csv, "{d}{d}{nl}{nl}\"{nl}{nl}\"{d}x{nl}");
            }
        }
        csv
    }

    #[test]
    fn csv_with_line_breaks_in_quoted_fields_across_chunks() {
        let csv = csv_with_quoted_newlines(',', false);
        let (chunks, fixups) = same_as_serial("members.csv", csv.as_bytes(), None);
        assert!(
            chunks > 100 && fixups > 0,
            "{chunks} chunks, {fixups} fix-ups"
        );
        let crlf = csv_with_quoted_newlines(',', true);
        let sjis = encoding_rs::SHIFT_JIS.encode(&crlf).0.into_owned();
        same_as_serial("members-sjis.csv", &sjis, None);
        let tsv = csv_with_quoted_newlines('\t', false);
        same_as_serial("payments.tsv", &utf16le(&tsv), None);
    }

    #[test]
    fn lines_longer_than_the_window_and_than_a_chunk() {
        let limits = crate::Limits {
            max_line: 16 << 10,
            ..crate::Limits::default()
        };
        let mut text = String::new();
        for i in 0..60usize {
            text.push_str("氏名：山田 太郎 電話 090-1234-5678\n");
            // 3 KB to 130 KB, values scattered and across window cuts.
            let len = 3000 + (i * 7919) % 130_000;
            let mut line = String::new();
            let mut j = 0;
            while line.len() < len {
                let _ = write!(
                    line,
                    "あいう{j} taro{j}@example.jp 03-1234-{:04} ",
                    j % 10_000
                );
                j += 1;
            }
            text.push_str(&line);
            text.push('\n');
        }
        let (chunks, _) = same_as_serial("long-lines.log", text.as_bytes(), Some(limits));
        assert!(chunks > 10, "{chunks}");
    }

    #[test]
    fn a_csv_line_over_the_record_limit_fails_as_on_one_thread() {
        let limits = crate::Limits {
            max_record: 1 << 20,
            ..crate::Limits::default()
        };
        let mut csv = csv_with_quoted_newlines(',', false);
        csv.push_str(&"x".repeat(3 << 20));
        csv.push('\n');
        let (want, want_reports, _) = run("big.csv", csv.as_bytes(), None, Some(limits));
        let (got, reports, st) = run("big.csv", csv.as_bytes(), Some(small(50_000)), Some(limits));
        assert!(st.0 > 0);
        assert!(
            want_reports[0].contains("without a line break"),
            "{want_reports:?}"
        );
        assert_eq!(
            reports[0].split(" [").nth(1),
            want_reports[0].split(" [").nth(1)
        );
        assert!(reports[0].contains("without a line break"), "{reports:?}");
        // Every finding before the long line is reported.
        assert_eq!(got, want);
    }

    /// `mamori scan` on two threads: a 9 MB CSV is split (default settings) beside a small memo,
    /// and each file's JSONL findings are the same, byte for byte, as on one thread.
    #[test]
    fn the_runner_prints_the_same_findings_on_two_threads() {
        let dir = std::env::temp_dir().join(format!("mamori-par-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let unit = csv_with_quoted_newlines(',', true);
        let (head, body) = unit.split_once("\r\n").unwrap();
        let mut csv = format!("{head}\r\n");
        while csv.len() < 9 << 20 {
            csv.push_str(body);
        }
        std::fs::write(dir.join("members.csv"), &csv).unwrap();
        std::fs::write(dir.join("memo.txt"), corpus("_memo.txt", false, 100_000)).unwrap();
        let scan = |threads| {
            let opts = crate::runner::RunOptions {
                paths: vec![dir.clone()],
                format: crate::runner::OutputFormat::Jsonl,
                kinds: KindSet::all(),
                reveal: true,
                threads,
                include: Vec::new(),
                exclude: Vec::new(),
                progress: false,
                summary: false,
                limits: crate::Limits::default(),
                prose: true,
            };
            let (mut out, mut err) = (Vec::new(), Vec::new());
            let summary = crate::runner::run(&opts, &mut out, &mut err).unwrap();
            (out, summary.per_kind(), summary.files.len())
        };
        // Files of this size are split on a pool of two threads.
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        assert!(pool.install(|| ParallelConfig::default().applies(9 << 20)));
        let one = scan(1);
        let two = scan(2);
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(one.0.len() > 1 << 20, "{}", one.0.len());
        assert_eq!(one.1, two.1);
        assert_eq!(one.2, two.2);
        // Findings of the two files may interleave; each file's own are in the same order.
        let per_file = |out: &[u8], name: &str| -> Vec<u8> {
            out.split(|&b| b == b'\n')
                .filter(|l| std::str::from_utf8(l).is_ok_and(|l| l.contains(name)))
                .flat_map(|l| l.iter().copied().chain([b'\n']))
                .collect()
        };
        for name in ["members.csv", "memo.txt"] {
            assert!(
                per_file(&one.0, name) == per_file(&two.0, name),
                "{name}: findings differ on two threads"
            );
        }
    }

    #[test]
    fn small_files_and_one_thread_are_not_split() {
        let text = corpus("_memo.txt", false, 50_000);
        let (_, _, st) = run(
            "memo.txt",
            text.as_bytes(),
            Some(ParallelConfig::default()),
            None,
        );
        assert_eq!(st.0, 0);
        assert!(
            !ParallelConfig {
                min_bytes: 0,
                ..ParallelConfig::default()
            }
            .applies(10)
                || rayon::current_num_threads() > 1
        );
    }
}
