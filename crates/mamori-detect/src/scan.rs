//! The scanner: picks a file's format, streams it through the decoder and the detectors, and
//! hands every finding to the caller's sink. Nothing is accumulated per file but counters, so a
//! file of any size is scanned in bounded memory; formats that cannot be streamed are read into
//! memory only below a limit.

use crate::columns;
use crate::decode::{self, Sniffed, SNIFF_LEN};
use crate::detect::{Engine, Hit};
use crate::formats;
use crate::kind::{Kind, KindSet};
use crate::normalize::{normalize_into, original_span, SpanMap};
use crate::sheets;
use std::cell::Cell;
use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Cursor, Read, Seek};
use std::path::Path;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};

// PDF, presentations, word-processing documents, mailboxes, Outlook messages and images.
mod documents;

/// One personal-data value found in a file.
#[derive(Clone, PartialEq, Eq)]
pub struct Finding {
    /// The file as walked; a member of an archive is `archive.zip!inner/path.csv`.
    pub path: String,
    /// 1-based line of a text file, or row of a spreadsheet.
    pub line: u64,
    /// 1-based field of a tabular file, else the character column.
    pub column: u64,
    /// The sheet of a spreadsheet.
    pub sheet: Option<String>,
    /// The page of a PDF or image, slide of a presentation, message of a mailbox (see
    /// [`Place`]); `line` is then the line or paragraph within it. Printed only when set.
    pub place: Option<Place>,
    pub kind: Kind,
    /// The raw value, as written in the file. Printed only with `--reveal`.
    pub value: String,
    pub encoding: &'static str,
}

/// Where in a paged document a finding is: a unit and its 1-based number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Place {
    /// A page of a PDF (or an image, page 1).
    Page(u64),
    /// A slide of a presentation; `line` is the paragraph on the slide.
    Slide(u64),
    /// The speaker notes of a slide; `line` is the paragraph in the notes.
    Notes(u64),
    /// A message of a mailbox (`.mbox`); `line` is the line of the mailbox file.
    Message(u64),
    /// A header of a word-processing document (1-based in document order); `line` is its
    /// paragraph.
    Header(u64),
    /// A footer, like [`Place::Header`].
    Footer(u64),
}

impl Place {
    /// The JSON key: "page", "slide", "notes", "message", "header" or "footer".
    pub fn key(self) -> &'static str {
        match self {
            Place::Page(_) => "page",
            Place::Slide(_) => "slide",
            Place::Notes(_) => "notes",
            Place::Message(_) => "message",
            Place::Header(_) => "header",
            Place::Footer(_) => "footer",
        }
    }

    pub fn number(self) -> u64 {
        match self {
            Place::Page(n)
            | Place::Slide(n)
            | Place::Notes(n)
            | Place::Message(n)
            | Place::Header(n)
            | Place::Footer(n) => n,
        }
    }
}

impl Finding {
    pub fn masked(&self) -> String {
        self.kind.mask(&self.value)
    }
}

impl fmt::Debug for Finding {
    // Personal data never reaches a log through Debug.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Finding")
            .field("path", &self.path)
            .field("line", &self.line)
            .field("column", &self.column)
            .field("place", &self.place)
            .field("kind", &self.kind)
            .field("masked", &self.masked())
            .finish_non_exhaustive()
    }
}

/// What happened to one file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Status {
    Scanned,
    /// Not scanned on purpose (unknown binary, over a limit); counted, not an error.
    Skipped(String),
    /// Malformed or unreadable; the scan goes on with the next file.
    Failed(String),
}

/// The per-file summary.
#[derive(Clone, Debug)]
pub struct FileReport {
    pub path: String,
    pub format: &'static str,
    pub encoding: Option<&'static str>,
    pub bytes: u64,
    pub counts: [u64; 11],
    pub status: Status,
    pub warnings: Vec<String>,
}

impl FileReport {
    fn new(path: &str, format: &'static str) -> Self {
        FileReport {
            path: path.to_owned(),
            format,
            encoding: None,
            bytes: 0,
            counts: [0; 11],
            status: Status::Scanned,
            warnings: Vec::new(),
        }
    }
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }
}

/// Limits that keep archives, huge lines and office files from taking the machine down.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Archive nesting: a zip in a zip in a zip is depth 3.
    pub max_depth: u32,
    /// Entries read per archive.
    pub max_entries: u64,
    /// Decompressed bytes per top-level file, counted while decompressing.
    pub max_expanded: u64,
    /// Largest member read into memory (nested archive, office file inside an archive).
    pub max_in_memory: u64,
    /// Largest spreadsheet or docx file opened (they are parsed in memory).
    pub max_office_file: u64,
    /// Longer lines are scanned in windows of this many bytes.
    pub max_line: usize,
    /// Rows sampled for column inference.
    pub sample_rows: usize,
    /// Largest CSV/TSV record without a line break (the CSV reader holds one record in memory).
    pub max_record: u64,
    /// Cells per sheet and expanded sizes of a workbook (see `sheets`).
    pub sheets: crate::sheets::SheetLimits,
    /// Read images and PDF pages without a text layer by OCR when tesseract is installed (about
    /// a second a page). Off: they are reported as not read.
    pub ocr: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 3,
            max_entries: 10_000,
            max_expanded: 1 << 30,
            max_in_memory: 64 << 20,
            max_office_file: 128 << 20,
            max_line: 1 << 20,
            sample_rows: 200,
            max_record: 64 << 20,
            sheets: crate::sheets::SheetLimits::default(),
            ocr: true,
        }
    }
}

/// The scanner. Shared by reference between threads.
pub struct Scanner {
    engine: Engine,
    pub limits: Limits,
    /// When and how one large text file is split between threads (`parallel`).
    pub parallel: crate::parallel::ParallelConfig,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Text,
    Csv(u8),
    Json,
    Html,
    Eml,
    Docx,
    Sheet,
    Zip,
    Pdf,
    Pptx,
    /// OpenDocument text or presentation (`.odt`, `.odp`).
    Odf,
    /// Legacy Word (`.doc`).
    Doc,
    /// Outlook message (`.msg`).
    Msg,
    Mbox,
    /// PNG, JPEG, TIFF: read by OCR.
    Image,
}

impl Format {
    /// Read whole or through a seekable reader, not streamed line by line.
    fn is_container(self) -> bool {
        !matches!(
            self,
            Format::Text | Format::Csv(_) | Format::Json | Format::Html | Format::Eml
        )
    }

    fn name(self) -> &'static str {
        match self {
            Format::Text => "text",
            Format::Csv(b'\t') => "tsv",
            Format::Csv(_) => "csv",
            Format::Json => "json",
            Format::Html => "html",
            Format::Eml => "eml",
            Format::Docx => "docx",
            Format::Sheet => "spreadsheet",
            Format::Zip => "zip",
            Format::Pdf => "pdf",
            Format::Pptx => "pptx",
            Format::Odf => "odf",
            Format::Doc => "doc",
            Format::Msg => "msg",
            Format::Mbox => "mbox",
            Format::Image => "image",
        }
    }
}

fn format_from_name(name: &str) -> Option<Format> {
    let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase())?;
    Some(match ext.as_str() {
        "txt" | "log" | "md" | "text" | "sql" | "ini" | "conf" | "yaml" | "yml" | "tsv_" => {
            Format::Text
        }
        "csv" => Format::Csv(b','),
        "tsv" | "tab" => Format::Csv(b'\t'),
        "json" | "jsonl" | "ndjson" => Format::Json,
        "html" | "htm" | "xml" | "xhtml" => Format::Html,
        "eml" => Format::Eml,
        "docx" => Format::Docx,
        "xlsx" | "xlsm" | "xls" | "ods" | "xlsb" => Format::Sheet,
        "zip" => Format::Zip,
        "pdf" => Format::Pdf,
        "pptx" | "pptm" => Format::Pptx,
        "odt" | "odp" => Format::Odf,
        "doc" => Format::Doc,
        "msg" => Format::Msg,
        "mbox" | "mbx" => Format::Mbox,
        "png" | "jpg" | "jpeg" | "tif" | "tiff" | "gif" | "bmp" | "webp" => Format::Image,
        _ => return None,
    })
}

/// Known binary formats that are skipped without a look inside.
fn binary_magic(prefix: &[u8]) -> Option<&'static str> {
    const MAGIC: [(&[u8], &str); 9] = [
        (b"%PDF", "PDF"),
        (b"\x89PNG", "PNG"),
        (b"\xFF\xD8\xFF", "JPEG"),
        (b"GIF8", "GIF"),
        (b"\x7FELF", "ELF"),
        (b"\x1F\x8B", "gzip"),
        (b"7z\xBC\xAF", "7z"),
        (b"Rar!", "RAR"),
        (b"MZ", "executable"),
    ];
    MAGIC
        .iter()
        .find(|(m, _)| prefix.starts_with(m))
        .map(|&(_, n)| n)
}

/// State shared by one top-level file and everything nested in it.
struct Ctx<'a> {
    sink: &'a mut dyn FnMut(&Finding),
    reports: Vec<FileReport>,
    /// Bytes still allowed to be decompressed.
    budget: Rc<Cell<u64>>,
}

impl Scanner {
    pub fn new(kinds: KindSet) -> Self {
        Scanner {
            engine: Engine::new(kinds),
            limits: Limits::default(),
            parallel: crate::parallel::ParallelConfig::default(),
        }
    }

    /// Turns the prose name analyser on or off (on by default).
    pub fn set_prose(&mut self, on: bool) {
        self.engine.set_prose(on);
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Scans one file on disk. `display` is the path to report. Returns one report for the file
    /// and one per archive member. Never fails: problems are in the reports.
    pub fn scan_path(
        &self,
        path: &Path,
        display: &str,
        progress: Option<&AtomicU64>,
        sink: &mut dyn FnMut(&Finding),
    ) -> Vec<FileReport> {
        let mut ctx = Ctx {
            sink,
            reports: Vec::new(),
            budget: Rc::new(Cell::new(self.limits.max_expanded)),
        };
        match File::open(path) {
            Ok(file) => {
                let size = file.metadata().map_or(0, |m| m.len());
                let reader = Counting {
                    inner: file,
                    progress,
                };
                self.scan_seekable(&mut ctx, display, reader, size, 0);
            }
            Err(e) => {
                let mut r = FileReport::new(display, "unknown");
                r.status = Status::Failed(format!("not read: cannot open: {e}"));
                ctx.reports.push(r);
            }
        }
        ctx.reports
    }

    /// Scans bytes held in memory (an upload, a test, a fuzz input) as if they were a file named `name`.
    pub fn scan_bytes(
        &self,
        name: &str,
        data: &[u8],
        sink: &mut dyn FnMut(&Finding),
    ) -> Vec<FileReport> {
        let mut ctx = Ctx {
            sink,
            reports: Vec::new(),
            budget: Rc::new(Cell::new(self.limits.max_expanded)),
        };
        self.scan_seekable(&mut ctx, name, Cursor::new(data), data.len() as u64, 0);
        ctx.reports
    }

    /// Scans a seekable reader (a decrypted stream, an unnamed temporary file) as if it were a
    /// file named `name` of `size` bytes. Like [`Scanner::scan_path`], never fails.
    pub fn scan_reader<R: Read + Seek>(
        &self,
        name: &str,
        r: R,
        size: u64,
        sink: &mut dyn FnMut(&Finding),
    ) -> Vec<FileReport> {
        let mut ctx = Ctx {
            sink,
            reports: Vec::new(),
            budget: Rc::new(Cell::new(self.limits.max_expanded)),
        };
        self.scan_seekable(&mut ctx, name, r, size, 0);
        ctx.reports
    }

    fn scan_seekable<R: Read + Seek>(
        &self,
        ctx: &mut Ctx<'_>,
        name: &str,
        mut r: R,
        size: u64,
        depth: u32,
    ) {
        let mut prefix = Vec::with_capacity(SNIFF_LEN.min(size as usize + 1));
        if let Err(e) = (&mut r).take(SNIFF_LEN as u64).read_to_end(&mut prefix) {
            return fail(ctx, name, "unknown", size, &format!("cannot read: {e}"));
        }
        let format = Self::pick_format(name, &prefix);
        if let Some(f) = format.filter(|f| f.is_container()) {
            if let Err(e) = r.rewind() {
                return fail(ctx, name, f.name(), size, &format!("cannot read: {e}"));
            }
            self.scan_container(ctx, name, f, r, size, depth);
        } else {
            let complete = (prefix.len() as u64) < SNIFF_LEN as u64;
            self.scan_streamable(ctx, name, format, prefix, complete, &mut r, size, depth);
        }
    }

    fn pick_format(name: &str, prefix: &[u8]) -> Option<Format> {
        let by_name = format_from_name(name);
        let zip_magic = prefix.starts_with(b"PK\x03\x04") || prefix.starts_with(b"PK\x05\x06");
        match by_name {
            Some(f) if f.is_container() => by_name,
            _ if prefix.starts_with(b"%PDF-") => Some(Format::Pdf),
            // A mailbox without an extension (Thunderbird's "Inbox"): a "From " line first.
            None if prefix.starts_with(b"From ") => Some(Format::Mbox),
            _ if documents::image_magic(prefix) => Some(Format::Image),
            _ if zip_magic => Some(Format::Zip),
            _ if prefix.starts_with(b"\xD0\xCF\x11\xE0") => Some(Format::Sheet),
            other => other,
        }
    }

    /// Text-like formats: sniff the encoding from the prefix, then stream.
    #[allow(clippy::too_many_arguments)]
    fn scan_streamable(
        &self,
        ctx: &mut Ctx<'_>,
        name: &str,
        format: Option<Format>,
        prefix: Vec<u8>,
        complete: bool,
        rest: &mut dyn Read,
        size: u64,
        depth: u32,
    ) {
        if let Some(kind) = binary_magic(&prefix) {
            let mut r = FileReport::new(name, "binary");
            r.bytes = size;
            r.status = Status::Skipped(format!("unknown binary ({kind})"));
            ctx.reports.push(r);
            return;
        }
        let sniffed = decode::sniff(&prefix, complete);
        if sniffed.binary {
            let mut r = FileReport::new(name, "binary");
            r.bytes = size;
            r.status = Status::Skipped("unknown binary".to_owned());
            ctx.reports.push(r);
            return;
        }
        let format = match format.unwrap_or_else(|| guess_text_format(&prefix)) {
            // Tabular text whatever its name (Excel's 「Unicode テキスト」 is a UTF-16 `.txt`),
            // and the delimiter a "CSV" really has.
            Format::Text => tabular_by_content(&prefix, sniffed, complete, None),
            Format::Csv(d) => tabular_by_content(&prefix, sniffed, complete, Some(d)),
            f => f,
        };
        let mut report = FileReport::new(name, format.name());
        report.bytes = size;
        report.encoding = Some(sniffed.name());
        if sniffed.utf8_errors {
            report
                .warnings
                .push("invalid UTF-8 sequences replaced with U+FFFD".to_owned());
        }
        let chained = Cursor::new(prefix).chain(rest);
        let result = if format == Format::Eml {
            self.scan_eml(ctx, &mut report, chained, depth)
        } else {
            let mut reader = text_reader(chained, sniffed);
            // A mixed file's findings name their own line's encoding (see `raw_line`).
            let mut sc = LineScanner::new(
                &self.engine,
                name,
                decode::encoding_name(sniffed.encoding),
                &mut report,
                &mut *ctx.sink,
            );
            match format {
                // One large file: split between the threads of the current pool (`parallel`).
                _ if self.parallel.applies(size) => {
                    let shape = match format {
                        Format::Csv(delim) => crate::parallel::Shape::Csv(delim),
                        Format::Html => crate::parallel::Shape::Html,
                        _ => crate::parallel::Shape::Lines,
                    };
                    crate::parallel::scan(self, &mut sc, reader, shape, name, sniffed.name())
                }
                Format::Csv(delim) => sc.csv(
                    reader,
                    delim,
                    self.limits.sample_rows,
                    self.limits.max_record,
                ),
                Format::Html => sc.lines(&mut reader, self.limits.max_line, true),
                _ => sc.lines(&mut reader, self.limits.max_line, false),
            }
        };
        if let Err(e) = result {
            report.status = Status::Failed(e);
        }
        ctx.reports.push(report);
    }

    fn scan_container<R: Read + Seek>(
        &self,
        ctx: &mut Ctx<'_>,
        name: &str,
        format: Format,
        r: R,
        size: u64,
        depth: u32,
    ) {
        match format {
            Format::Zip => self.scan_zip(ctx, name, r, size, depth),
            Format::Sheet => {
                let mut report = FileReport::new(name, "spreadsheet");
                report.bytes = size;
                if size > self.limits.max_office_file {
                    report.status = Status::Skipped(format!(
                        "spreadsheet larger than {} MiB",
                        self.limits.max_office_file >> 20
                    ));
                    ctx.reports.push(report);
                    return;
                }
                let mut buf = Vec::new();
                let mut r = r;
                if let Err(e) = r.read_to_end(&mut buf) {
                    report.status = Status::Failed(format!("cannot read: {e}"));
                    ctx.reports.push(report);
                    return;
                }
                // An OLE compound file may be a Word document or an Outlook message.
                if buf.starts_with(b"\xD0\xCF\x11\xE0") {
                    let f = match crate::office::cfb_kind(&buf) {
                        "doc" => Some(Format::Doc),
                        "msg" => Some(Format::Msg),
                        "encrypted" => {
                            report.status = Status::Skipped("not read: encrypted".to_owned());
                            ctx.reports.push(report);
                            return;
                        }
                        _ => None,
                    };
                    if let Some(f) = f {
                        return self.scan_document(ctx, name, f, Cursor::new(buf), size, depth);
                    }
                }
                let result = sheets::read_sheets(&buf, &self.limits.sheets, |sheet, rows| {
                    let mut sc =
                        LineScanner::new(&self.engine, name, "UTF-8", &mut report, &mut *ctx.sink);
                    sc.sheet = Some(sheet.to_owned());
                    sc.table(rows.into_iter(), false, self.limits.sample_rows);
                });
                match result {
                    Ok(()) => {}
                    // Over a limit: the file is skipped with the reason, like an archive member
                    // over its limit; sheets before the one refused have been scanned.
                    Err(e @ sheets::SheetError::TooLarge(_)) => {
                        report.status = Status::Skipped(e.to_string());
                    }
                    Err(e) => report.status = Status::Failed(e.to_string()),
                }
                ctx.reports.push(report);
            }
            _ => self.scan_document(ctx, name, format, r, size, depth),
        }
    }

    fn scan_zip<R: Read + Seek>(&self, ctx: &mut Ctx<'_>, name: &str, r: R, size: u64, depth: u32) {
        let mut report = FileReport::new(name, "zip");
        report.bytes = size;
        if depth >= self.limits.max_depth {
            report.status = Status::Skipped(format!(
                "archive nested deeper than {}",
                self.limits.max_depth
            ));
            ctx.reports.push(report);
            return;
        }
        let mut archive = match zip::ZipArchive::new(r) {
            Ok(a) => a,
            Err(e) => {
                report.status = Status::Failed(format!("not a readable zip archive: {e}"));
                ctx.reports.push(report);
                return;
            }
        };
        let entries = archive.len() as u64;
        if entries > self.limits.max_entries {
            report.warnings.push(format!(
                "{entries} entries; only the first {} are scanned",
                self.limits.max_entries
            ));
        }
        let report_idx = ctx.reports.len();
        ctx.reports.push(report);
        let mut encrypted = 0usize;
        for i in 0..entries.min(self.limits.max_entries) as usize {
            // A password-protected member cannot be read: it is reported, by name, as not read.
            if let Ok(raw) = archive.by_index_raw(i) {
                if raw.encrypted() && !raw.is_dir() {
                    let mut r =
                        FileReport::new(&format!("{name}!{}", zip_entry_name(&raw)), "unknown");
                    r.bytes = raw.size();
                    r.status =
                        Status::Skipped("not read: encrypted (password-protected)".to_owned());
                    ctx.reports.push(r);
                    encrypted += 1;
                    continue;
                }
            }
            let mut entry = match archive.by_index(i) {
                Ok(e) => e,
                Err(e) => {
                    ctx.reports[report_idx]
                        .warnings
                        .push(format!("entry {i}: {e}"));
                    continue;
                }
            };
            if entry.is_dir() {
                continue;
            }
            let entry_name = zip_entry_name(&entry);
            let member = format!("{name}!{entry_name}");
            let claimed = entry.size();
            if ctx.budget.get() == 0 {
                ctx.reports[report_idx].status = Status::Failed(format!(
                    "expanded size limit of {} MiB reached; rest of the archive not scanned",
                    self.limits.max_expanded >> 20
                ));
                break;
            }
            if claimed > ctx.budget.get() {
                let mut r = FileReport::new(&member, "unknown");
                r.bytes = claimed;
                r.status = Status::Skipped(format!(
                    "expands to {claimed} bytes, over the archive limit"
                ));
                ctx.reports.push(r);
                continue;
            }
            let mut limited = Budget {
                inner: &mut entry,
                budget: Rc::clone(&ctx.budget),
            };
            match format_from_name(&member) {
                Some(f) if f.is_container() => {
                    let mut buf = Vec::new();
                    let cap = self.limits.max_in_memory;
                    if let Err(e) = (&mut limited).take(cap + 1).read_to_end(&mut buf) {
                        fail(
                            ctx,
                            &member,
                            f.name(),
                            claimed,
                            &format!("cannot decompress: {e}"),
                        );
                        continue;
                    }
                    if buf.len() as u64 > cap {
                        let mut r = FileReport::new(&member, f.name());
                        r.bytes = claimed;
                        r.status = Status::Skipped(format!("member larger than {} MiB", cap >> 20));
                        ctx.reports.push(r);
                        continue;
                    }
                    let len = buf.len() as u64;
                    self.scan_container(ctx, &member, f, Cursor::new(buf), len, depth + 1);
                }
                fmt => {
                    let mut prefix = Vec::new();
                    if let Err(e) = (&mut limited)
                        .take(SNIFF_LEN as u64)
                        .read_to_end(&mut prefix)
                    {
                        fail(
                            ctx,
                            &member,
                            "unknown",
                            claimed,
                            &format!("cannot decompress: {e}"),
                        );
                        continue;
                    }
                    // A container with an unknown name (an archive, a PDF, an image, an OLE
                    // file): read it whole, within the limit.
                    let sniffed = fmt
                        .is_none()
                        .then(|| Self::pick_format(&member, &prefix))
                        .flatten()
                        .filter(|f| f.is_container());
                    if let Some(f) = sniffed {
                        let mut buf = prefix;
                        let cap = self.limits.max_in_memory;
                        if (&mut limited).take(cap).read_to_end(&mut buf).is_ok()
                            && (buf.len() as u64) <= cap
                        {
                            let len = buf.len() as u64;
                            self.scan_container(ctx, &member, f, Cursor::new(buf), len, depth + 1);
                        } else {
                            let mut r = FileReport::new(&member, f.name());
                            r.bytes = claimed;
                            r.status =
                                Status::Skipped(format!("member larger than {} MiB", cap >> 20));
                            ctx.reports.push(r);
                        }
                        continue;
                    }
                    let complete = prefix.len() < SNIFF_LEN;
                    self.scan_streamable(
                        ctx,
                        &member,
                        fmt,
                        prefix,
                        complete,
                        &mut limited,
                        claimed,
                        depth + 1,
                    );
                }
            }
        }
        if encrypted > 0 {
            ctx.reports[report_idx].warnings.push(format!(
                "{encrypted} encrypted (password-protected) members not read"
            ));
        }
    }

    fn scan_eml<R: Read>(
        &self,
        ctx: &mut Ctx<'_>,
        report: &mut FileReport,
        r: R,
        depth: u32,
    ) -> Result<(), String> {
        let cap = self.limits.max_in_memory;
        let mut raw = Vec::new();
        r.take(cap + 1)
            .read_to_end(&mut raw)
            .map_err(|e| format!("cannot read: {e}"))?;
        if raw.len() as u64 > cap {
            return Err(format!("mail larger than {} MiB", cap >> 20));
        }
        let mail = formats::parse_eml(&raw).ok_or("not a readable e-mail message")?;
        report.encoding = Some(mail.charset);
        let name = report.path.clone();
        {
            let mut sc =
                LineScanner::new(&self.engine, &name, mail.charset, report, &mut *ctx.sink);
            for (line, text) in &mail.lines {
                sc.line_at(*line, text);
            }
        }
        for (att_name, data) in mail.attachments {
            let member = format!("{name}!{att_name}");
            if depth + 1 > self.limits.max_depth {
                continue;
            }
            let len = data.len() as u64;
            self.scan_seekable(ctx, &member, Cursor::new(data), len, depth + 1);
        }
        Ok(())
    }
}

fn fail(ctx: &mut Ctx<'_>, name: &str, format: &'static str, size: u64, msg: &str) {
    let mut r = FileReport::new(name, format);
    r.bytes = size;
    r.status = Status::Failed(msg.to_owned());
    ctx.reports.push(r);
}

fn guess_text_format(prefix: &[u8]) -> Format {
    let start = prefix
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .map_or(&[][..], |i| &prefix[i..]);
    if start.starts_with(b"{") || start.starts_with(b"[{") {
        Format::Json
    } else if start.starts_with(b"<!DOCTYPE")
        || start.starts_with(b"<html")
        || start.starts_with(b"<?xml")
    {
        Format::Html
    } else if start.starts_with(b"From ")
        || start.starts_with(b"Received:")
        || start.starts_with(b"Return-Path:")
        || start.starts_with(b"MIME-Version:")
    {
        Format::Eml
    } else {
        Format::Text
    }
}

/// `Format::Csv` when the decoded prefix is tabular by content (see `columns::delimiter_of`),
/// else `Format::Text`; a file named as a table (`named`) stays one, with the delimiter its
/// content has.
fn tabular_by_content(
    prefix: &[u8],
    sniffed: Sniffed,
    complete: bool,
    named: Option<u8>,
) -> Format {
    // The first records are enough: 16 KiB of the prefix.
    const LOOK: usize = 16 * 1024;
    let body = prefix.get(sniffed.bom_len..).unwrap_or_default();
    let complete = complete && body.len() <= LOOK;
    let body = &body[..body.len().min(LOOK)];
    let text = if sniffed.encoding == encoding_rs::UTF_8 {
        String::from_utf8_lossy(body)
    } else {
        sniffed.encoding.decode_without_bom_handling(body).0
    };
    match (columns::delimiter_of(&text, complete, named), named) {
        (Some(d), _) | (None, Some(d)) => Format::Csv(d),
        (None, None) => Format::Text,
    }
}

/// A reader that decodes to UTF-8 (or passes UTF-8 through) with the BOM removed.
fn text_reader<'r, R: Read + 'r>(r: R, sniffed: Sniffed) -> Box<dyn BufRead + 'r> {
    const CAP: usize = 256 * 1024;
    if sniffed.encoding == encoding_rs::UTF_8 {
        let mut br = BufReader::with_capacity(CAP, r);
        if sniffed.bom_len > 0 {
            let _ = br.fill_buf();
            br.consume(sniffed.bom_len);
        }
        Box::new(br)
    } else {
        let dec = encoding_rs_io::DecodeReaderBytesBuilder::new()
            .encoding(Some(sniffed.encoding))
            .bom_override(true)
            .build(r);
        Box::new(BufReader::with_capacity(CAP, dec))
    }
}

/// Counts bytes read from a file into the shared progress counter.
struct Counting<'p, R> {
    inner: R,
    progress: Option<&'p AtomicU64>,
}

impl<R: Read> Read for Counting<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(p) = self.progress {
            p.fetch_add(n as u64, Ordering::Relaxed);
        }
        Ok(n)
    }
}

impl<R: Seek> Seek for Counting<'_, R> {
    fn seek(&mut self, pos: io::SeekFrom) -> io::Result<u64> {
        self.inner.seek(pos)
    }
}

/// Stops decompression when the archive's expanded-size budget is spent.
struct Budget<'a, R> {
    inner: &'a mut R,
    budget: Rc<Cell<u64>>,
}

impl<R: Read> Read for Budget<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.budget.get();
        if left == 0 {
            return Err(io::Error::other(
                "expanded size limit of the archive reached",
            ));
        }
        let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        self.budget.set(left - n as u64);
        Ok(n)
    }
}

/// How far a window of an over-long line reaches back into the window before it: more than the
/// longest value a detector reports plus the context it looks at before a value.
const WINDOW_OVERLAP: usize = 4096;

/// The largest character boundary of UTF-8 `b` at or before `i` (`i < b.len()`).
fn char_floor(b: &[u8], mut i: usize) -> usize {
    while i > 0 && (b[i] & 0xC0) == 0x80 {
        i -= 1;
    }
    i
}

/// The end of the warning that counts CP932 lines among UTF-8 lines.
pub(crate) const CP932_LINES_WARNING: &str =
    " lines in Shift_JIS (CP932) among UTF-8 lines, decoded line by line";

/// Turns lines or rows into findings.
pub(crate) struct LineScanner<'a> {
    engine: &'a Engine,
    pub(crate) report: &'a mut FileReport,
    sink: &'a mut dyn FnMut(&Finding),
    pub sheet: Option<String>,
    /// The page, slide or message the lines being scanned belong to.
    pub place: Option<Place>,
    norm: String,
    hits: Vec<Hit>,
    pub(crate) carry: Option<Kind>,
    pub(crate) html: formats::HtmlState,
    pub(crate) replaced_lines: u64,
    /// Lines of a UTF-8 file that were CP932 and decoded so, one by one.
    pub(crate) cp932_lines: u64,
    /// The number of the first line `lines` reads (a chunk of a file scanned in parallel).
    pub(crate) first_line: u64,
    col_offset: u64,
    hint_cache: rustc_hash::FxHashMap<Box<str>, Option<Kind>>,
    /// While a window of an over-long line is scanned: the last column it reports (later ones
    /// are in the overlap with the next window, which reports them).
    col_limit: Option<u64>,
    /// The finding handed to the sink, reused: its path is copied once per file and its value
    /// buffer is reused, so reporting a finding allocates nothing.
    finding: Finding,
}

impl<'a> LineScanner<'a> {
    pub(crate) fn new(
        engine: &'a Engine,
        path: &'a str,
        encoding: &'static str,
        report: &'a mut FileReport,
        sink: &'a mut dyn FnMut(&Finding),
    ) -> Self {
        LineScanner {
            engine,
            report,
            sink,
            sheet: None,
            place: None,
            norm: String::new(),
            hits: Vec::new(),
            carry: None,
            html: formats::HtmlState::default(),
            replaced_lines: 0,
            cp932_lines: 0,
            first_line: 1,
            col_offset: 0,
            hint_cache: rustc_hash::FxHashMap::default(),
            col_limit: None,
            finding: Finding {
                path: path.to_owned(),
                line: 0,
                column: 0,
                sheet: None,
                place: None,
                kind: Kind::PersonName,
                value: String::new(),
                encoding,
            },
        }
    }

    /// Streams lines; a line longer than `max_line` is scanned in windows.
    pub(crate) fn lines(
        &mut self,
        r: &mut dyn BufRead,
        max_line: usize,
        html: bool,
    ) -> Result<(), String> {
        let mut line_no: u64 = self.first_line;
        let mut pending: Vec<u8> = Vec::new();
        let mut col_offset: u64 = 0;
        let mut stripped = String::new();
        loop {
            let avail = match r.fill_buf() {
                Ok(a) => a,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(format!("read error at line {line_no}: {e}")),
            };
            if avail.is_empty() {
                if !pending.is_empty() {
                    let p = std::mem::take(&mut pending);
                    self.raw_line(line_no, col_offset, &p, html, &mut stripped);
                }
                break;
            }
            let mut consumed = 0;
            // A line begun in the previous buffer ends at this buffer's first line break.
            if !pending.is_empty() {
                if let Some(i) = memchr::memchr(b'\n', avail) {
                    pending.extend_from_slice(&avail[..i]);
                    let p = std::mem::take(&mut pending);
                    self.raw_line(line_no, col_offset, &p, html, &mut stripped);
                    pending = p;
                    pending.clear();
                    line_no += 1;
                    col_offset = 0;
                    consumed = i + 1;
                }
            }
            // Fast path: validate every complete line of the buffer at once, then split the
            // &str without validating each line again.
            if pending.is_empty() {
                if let Some(last) = memchr::memrchr(b'\n', &avail[consumed..]) {
                    let last = consumed + last;
                    if let Ok(block) = simdutf8::basic::from_utf8(&avail[consumed..last]) {
                        // memchr's SIMD search, not `str::split`, whose byte search is not
                        // vectorised. A '\n' byte is always a character boundary.
                        let mut from = 0;
                        for nl in memchr::memchr_iter(b'\n', block.as_bytes())
                            .chain(std::iter::once(block.len()))
                        {
                            self.str_line(line_no, 0, &block[from..nl], html, &mut stripped);
                            line_no += 1;
                            from = nl + 1;
                        }
                        col_offset = 0;
                        consumed = last + 1;
                    }
                }
            }
            while let Some(i) = memchr::memchr(b'\n', &avail[consumed..]) {
                let end = consumed + i;
                if pending.is_empty() {
                    self.raw_line(
                        line_no,
                        col_offset,
                        &avail[consumed..end],
                        html,
                        &mut stripped,
                    );
                } else {
                    pending.extend_from_slice(&avail[consumed..end]);
                    let p = std::mem::take(&mut pending);
                    self.raw_line(line_no, col_offset, &p, html, &mut stripped);
                }
                line_no += 1;
                col_offset = 0;
                consumed = end + 1;
            }
            pending.extend_from_slice(&avail[consumed..]);
            let n = avail.len();
            r.consume(n);
            if pending.len() >= max_line {
                // Scan a window of the over-long line, cut at a character boundary. The next
                // window starts `WINDOW_OVERLAP` bytes before the cut, so that a value across
                // the cut is found whole there; this window's findings that start in the
                // overlap are left to the next one (`col_limit`), so none is reported twice.
                let cut = char_floor(&pending, max_line);
                let next_from = char_floor(&pending, cut.saturating_sub(WINDOW_OVERLAP));
                let head_chars = String::from_utf8_lossy(&pending[..next_from])
                    .chars()
                    .count() as u64;
                self.col_limit = Some(col_offset + head_chars);
                self.raw_line(line_no, col_offset, &pending[..cut], html, &mut stripped);
                self.col_limit = None;
                pending.drain(..next_from);
                if col_offset == 0 {
                    self.report.warnings.push(format!(
                        "line {line_no} is longer than {} KiB; scanned in windows",
                        max_line >> 10
                    ));
                }
                col_offset += head_chars;
            }
        }
        self.note_replaced_lines();
        self.note_cp932_lines();
        Ok(())
    }

    /// The warning for lines of invalid UTF-8, once per file.
    pub(crate) fn note_replaced_lines(&mut self) {
        if self.replaced_lines > 0
            && !self
                .report
                .warnings
                .iter()
                .any(|w| w.starts_with("invalid UTF-8"))
        {
            self.report.warnings.push(format!(
                "invalid UTF-8 on {} lines, replaced with U+FFFD",
                self.replaced_lines
            ));
        }
    }

    pub(crate) fn note_cp932_lines(&mut self) {
        if self.cp932_lines > 0 {
            self.report
                .warnings
                .push(format!("{}{CP932_LINES_WARNING}", self.cp932_lines));
        }
    }

    fn raw_line(
        &mut self,
        line_no: u64,
        col_offset: u64,
        raw: &[u8],
        html: bool,
        stripped: &mut String,
    ) {
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        let owned;
        let text = if let Ok(t) = simdutf8::basic::from_utf8(raw) {
            t
        } else if let Some(t) = decode::line_as_cp932(raw) {
            // A CP932 line among UTF-8 lines: decoded on its own, and its findings say so.
            self.cp932_lines += 1;
            let utf8 = self.finding.encoding;
            self.finding.encoding = decode::encoding_name(encoding_rs::SHIFT_JIS);
            self.str_line(line_no, col_offset, &t, html, stripped);
            self.finding.encoding = utf8;
            return;
        } else {
            self.replaced_lines += 1;
            owned = String::from_utf8_lossy(raw).into_owned();
            &owned
        };
        self.str_line(line_no, col_offset, text, html, stripped);
    }

    fn str_line(
        &mut self,
        line_no: u64,
        col_offset: u64,
        text: &str,
        html: bool,
        stripped: &mut String,
    ) {
        let text = text.strip_suffix('\r').unwrap_or(text);
        if html {
            self.html.strip_line(text, stripped);
            let s = std::mem::take(stripped);
            self.text_line(line_no, col_offset, &s);
            *stripped = s;
        } else {
            self.text_line(line_no, col_offset, text);
        }
    }

    /// `columns::header_hint` with a small cache: JSON keys and memo labels repeat on every line.
    fn hint_of(&mut self, label: &str) -> Option<Kind> {
        if let Some(&k) = self.hint_cache.get(label) {
            return k;
        }
        let k = columns::header_hint(label);
        if self.hint_cache.len() < 512 {
            self.hint_cache.insert(label.into(), k);
        }
        k
    }

    pub(crate) fn line_at(&mut self, line_no: u64, text: &str) {
        self.text_line(line_no, 0, text);
    }

    /// One line of free text: JSON pairs, a "label: value" line, or prose.
    fn text_line(&mut self, line_no: u64, col_offset: u64, line: &str) {
        if is_blank(line) {
            return;
        }
        let mut norm = std::mem::take(&mut self.norm);
        let n: &str = if normalize_into(line, &mut norm) {
            &norm
        } else {
            line
        };
        self.col_offset = col_offset;
        let mut any = false;
        if starts_like_json(n) && n.contains("\":") {
            for pair in formats::json_pairs(n) {
                let hint = self.hint_of(&n[pair.key.0..pair.key.1]);
                let (vs, ve) = pair.value;
                if pair.escaped {
                    let decoded = formats::json_unescape(&n[vs..ve]);
                    let mut dn = String::new();
                    let dnorm: &str = if normalize_into(&decoded, &mut dn) {
                        &dn
                    } else {
                        &decoded
                    };
                    let col = col_offset + n[..vs].chars().count() as u64 + 1;
                    any |= self.emit_segment(line_no, Some(col), &decoded, dnorm, 0, hint, None);
                } else {
                    any |= self.emit_segment(line_no, None, line, n, vs, hint, Some(ve));
                }
            }
        } else if let Some((label_end, value_start)) = label_split(n) {
            let hint = self.hint_of(&n[..label_end]);
            if hint.is_some() {
                any = self.emit_segment(line_no, None, line, n, value_start, hint, None);
            } else {
                any = self.emit_segment(line_no, None, line, n, 0, self.carry, None);
            }
        } else {
            any = self.emit_segment(line_no, None, line, n, 0, self.carry, None);
        }
        self.carry = if any || n.len() > 40 {
            None
        } else {
            self.hint_of(n.trim().trim_end_matches([':', '：']))
        };
        self.norm = norm;
    }

    /// Detects in `norm[from..to]` and reports hits, cut from `orig` (same characters).
    /// `fixed_col` overrides the column (decoded JSON strings).
    #[allow(clippy::too_many_arguments)]
    fn emit_segment(
        &mut self,
        line_no: u64,
        fixed_col: Option<u64>,
        orig: &str,
        norm: &str,
        from: usize,
        hint: Option<Kind>,
        to: Option<usize>,
    ) -> bool {
        let to = to.unwrap_or(norm.len());
        let mut hits = std::mem::take(&mut self.hits);
        hits.clear();
        self.engine.detect(&norm[from..to], hint, &mut hits);
        let any = !hits.is_empty();
        // Hits come sorted by start: characters are counted only from the previous hit on.
        let mut map = SpanMap::new(orig, norm);
        for h in &hits {
            let (value, chars) = map.span(from + h.start, from + h.end);
            let column = fixed_col.unwrap_or(self.col_offset + chars as u64 + 1);
            self.push(line_no, column, h.kind, value);
        }
        self.hits = hits;
        any
    }

    pub(crate) fn push(&mut self, line: u64, column: u64, kind: Kind, value: &str) {
        if self.col_limit.is_some_and(|limit| column > limit) {
            return;
        }
        self.report.counts[kind.index()] += 1;
        let f = &mut self.finding;
        f.line = line;
        f.column = column;
        f.place = self.place;
        if f.sheet != self.sheet {
            f.sheet.clone_from(&self.sheet);
        }
        f.kind = kind;
        f.value.clear();
        f.value.push_str(value);
        (self.sink)(f);
    }

    /// CSV/TSV: quoted fields, embedded newlines, CRLF; flexible row lengths.
    pub(crate) fn csv(
        &mut self,
        r: Box<dyn BufRead + '_>,
        delim: u8,
        sample_rows: usize,
        max_line: u64,
    ) -> Result<(), String> {
        // csv's own line numbers are unreliable with CRLF, so newlines are tracked on the way in.
        let newlines = Rc::new(std::cell::RefCell::new(Newlines::default()));
        let tracked = NewlineTracker {
            inner: r,
            offset: 0,
            since_newline: 0,
            max_line,
            lines: Rc::clone(&newlines),
        };
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(delim)
            .from_reader(tracked);
        let line_of = |rec: &csv::ByteRecord| {
            rec.position()
                .map_or(0, |p| newlines.borrow_mut().line_at(p.byte()))
        };
        let mut rec = csv::ByteRecord::new();
        let mut buffered: Vec<(u64, Vec<String>)> = Vec::new();
        let to_row = |rec: &csv::ByteRecord| -> Vec<String> {
            rec.iter().map(|f| field_text(f).into_owned()).collect()
        };
        let mut error = None;
        loop {
            match rdr.read_byte_record(&mut rec) {
                Ok(true) => {
                    let line = line_of(&rec);
                    buffered.push((line, to_row(&rec)));
                    if buffered.len() > sample_rows {
                        break;
                    }
                }
                Ok(false) => break,
                Err(e) => {
                    error = Some(format!("malformed CSV: {e}"));
                    break;
                }
            }
        }
        let model = self.model(&buffered);
        for (line, row) in &buffered {
            self.row(*line, row, &model, true);
        }
        if error.is_none() && buffered.len() > sample_rows {
            loop {
                match rdr.read_byte_record(&mut rec) {
                    Ok(true) => {
                        let line = line_of(&rec);
                        // One UTF-8 check for the whole record; a field is then cut from it
                        // (falling back to a lossy copy only for damaged text).
                        let whole = simdutf8::basic::from_utf8(rec.as_slice()).ok();
                        let fields = (0..rec.len()).map(|i| {
                            let r = rec.range(i).unwrap_or(0..0);
                            match whole.and_then(|w| w.get(r.clone())) {
                                Some(f) => std::borrow::Cow::Borrowed(f),
                                None => field_text(&rec.as_slice()[r]),
                            }
                        });
                        self.row(line, fields, &model, true);
                    }
                    Ok(false) => break,
                    Err(e) => {
                        error = Some(format!("malformed CSV: {e}"));
                        break;
                    }
                }
            }
        }
        error.map_or(Ok(()), Err)
    }

    /// Spreadsheet rows (row number, cells).
    pub(crate) fn table(
        &mut self,
        rows: impl Iterator<Item = (u64, Vec<String>)>,
        physical: bool,
        sample_rows: usize,
    ) {
        let mut rows = rows.peekable();
        let mut buffered = Vec::new();
        while buffered.len() <= sample_rows {
            match rows.next() {
                Some(r) => buffered.push(r),
                None => break,
            }
        }
        let model = self.model(&buffered);
        for (line, row) in buffered.iter().chain(std::iter::empty()) {
            self.row(*line, row, &model, physical);
        }
        for (line, row) in rows {
            self.row(line, &row, &model, physical);
        }
    }

    pub(crate) fn model(&self, buffered: &[(u64, Vec<String>)]) -> Model {
        let first = buffered
            .iter()
            .find(|(_, r)| r.iter().any(|c| !c.trim().is_empty()));
        let header = first
            .filter(|(_, r)| columns::looks_like_header(r))
            .map(|(l, r)| (*l, r.clone()));
        let sample: Vec<Vec<String>> = buffered
            .iter()
            .filter(|(l, _)| header.as_ref().is_none_or(|(hl, _)| hl != l))
            .map(|(_, r)| r.clone())
            .collect();
        let kinds = columns::infer(
            self.engine,
            header.as_ref().map(|(_, r)| r.as_slice()),
            &sample,
        );
        Model {
            header_line: header.map(|(l, _)| l),
            kinds,
        }
    }

    pub(crate) fn row<'c, S: AsRef<str> + 'c>(
        &mut self,
        line: u64,
        row: impl IntoIterator<Item = S>,
        model: &Model,
        physical: bool,
    ) {
        if model.header_line == Some(line) {
            return;
        }
        let mut newlines = 0u64;
        let mut norm = std::mem::take(&mut self.norm);
        for (j, cell) in row.into_iter().enumerate() {
            let cell = cell.as_ref();
            if cell.trim().is_empty() {
                continue;
            }
            let n: &str = if normalize_into(cell, &mut norm) {
                &norm
            } else {
                cell
            };
            let hint = model.kinds.get(j).copied().flatten();
            let mut hits = std::mem::take(&mut self.hits);
            hits.clear();
            self.engine.detect(n, hint, &mut hits);
            if hits.is_empty() && hint == Some(Kind::MyNumber) {
                if let Some(restored) = my_number_without_zero(n) {
                    let l = if physical { line + newlines } else { line };
                    self.push(l, j as u64 + 1, Kind::MyNumber, &restored);
                }
            }
            for h in &hits {
                let value = original_span(cell, n, h.start, h.end);
                let l = if physical {
                    line + newlines + n[..h.start].matches('\n').count() as u64
                } else {
                    line
                };
                self.push(l, j as u64 + 1, h.kind, value);
            }
            self.hits = hits;
            if physical {
                newlines += memchr::memchr_iter(b'\n', cell.as_bytes()).count() as u64;
            }
        }
        self.norm = norm;
    }
}

/// A member's name: UTF-8 when it is (the UTF-8 flag, or ASCII), else CP932 when it decodes
/// cleanly as that (Windows' Japanese zips set no flag), else the zip standard's CP437.
fn zip_entry_name<R: Read>(entry: &zip::read::ZipFile<'_, R>) -> String {
    let raw = entry.name_raw();
    if let Ok(s) = std::str::from_utf8(raw) {
        return s.to_owned();
    }
    if let Some(s) = encoding_rs::SHIFT_JIS.decode_without_bom_handling_and_without_replacement(raw)
    {
        return s.into_owned();
    }
    entry.name().map_or_else(
        |_| String::from_utf8_lossy(raw).into_owned(),
        std::borrow::Cow::into_owned,
    )
}

/// A My Number kept as a number by a spreadsheet, which dropped its leading zero (or two: one
/// in a hundred begins with 00): 11 or 10 digits in a column that is one, given back with the
/// zeros when the check digit then holds.
fn my_number_without_zero(cell: &str) -> Option<String> {
    let t = cell.trim();
    let t = t.strip_suffix(".0").unwrap_or(t);
    if !(10..=11).contains(&t.len()) || !t.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let restored = format!("{t:0>12}");
    crate::validate::my_number_valid(restored.as_bytes()).then_some(restored)
}

/// A CSV field as text: UTF-8, else CP932 when the field is that (a file whose rows mix the
/// two), else UTF-8 with replacement characters.
fn field_text(f: &[u8]) -> std::borrow::Cow<'_, str> {
    match simdutf8::basic::from_utf8(f) {
        Ok(t) => std::borrow::Cow::Borrowed(t),
        Err(_) => decode::line_as_cp932(f)
            .map_or_else(|| String::from_utf8_lossy(f), std::borrow::Cow::Owned),
    }
}

/// Byte offsets of newlines not yet passed by the CSV reader, and how many were passed.
#[derive(Default)]
struct Newlines {
    passed: u64,
    pending: std::collections::VecDeque<u64>,
}

impl Newlines {
    /// The 1-based line of byte `at`; queries must not go backwards.
    fn line_at(&mut self, at: u64) -> u64 {
        // `<=`: after CRLF, csv reports the record as starting at the '\n'.
        while self.pending.front().is_some_and(|&o| o <= at) {
            self.pending.pop_front();
            self.passed += 1;
        }
        self.passed + 1
    }
}

struct NewlineTracker<R> {
    inner: R,
    offset: u64,
    /// Bytes since the last newline: the CSV reader holds a whole record in memory, so a
    /// "CSV" without line breaks is refused past `max_line` bytes instead of filling memory.
    since_newline: u64,
    max_line: u64,
    lines: Rc<std::cell::RefCell<Newlines>>,
}

impl<R: Read> Read for NewlineTracker<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let mut lines = self.lines.borrow_mut();
        let mut last = None;
        for i in memchr::memchr_iter(b'\n', &buf[..n]) {
            lines.pending.push_back(self.offset + i as u64);
            last = Some(i);
        }
        self.since_newline = match last {
            Some(i) => (n - i - 1) as u64,
            None => self.since_newline + n as u64,
        };
        if self.since_newline > self.max_line {
            return Err(io::Error::other(format!(
                "more than {} MiB without a line break",
                self.max_line >> 20
            )));
        }
        self.offset += n as u64;
        Ok(n)
    }
}

pub(crate) struct Model {
    header_line: Option<u64>,
    kinds: Vec<Option<Kind>>,
}

/// `s.trim().is_empty()`, answered from the first byte for nearly every line: a printable
/// ASCII character, or a lead byte E4–EF (kanji, full-width forms), is never whitespace.
fn is_blank(s: &str) -> bool {
    match s.as_bytes().first() {
        None => true,
        Some(0x21..=0x7E | 0xE4..=0xEF) => false,
        _ => s.trim().is_empty(),
    }
}

/// Whether `s`, after leading whitespace, starts with `{`, `"` or `[`: a JSON line. Decided from
/// the first byte unless it may be whitespace (see [`is_blank`]).
fn starts_like_json(s: &str) -> bool {
    match s.as_bytes().first() {
        Some(b'{' | b'"' | b'[') => true,
        Some(0x21..=0x7E | 0xE4..=0xEF) | None => false,
        _ => s.trim_start().starts_with(['{', '"', '[']),
    }
}

/// "氏名：山田太郎" → (end of label, start of value). The label is short and at the line start.
fn label_split(n: &str) -> Option<(usize, usize)> {
    let mut cut = n.len().min(40);
    while !n.is_char_boundary(cut) {
        cut -= 1;
    }
    // The first ':' or '：' (EF BC 9A) of the head, in one walk over at most 40 bytes (two
    // `str::find` calls cost more on every line of prose).
    let head = &n.as_bytes()[..cut];
    let (pos, sep_len) = head.iter().enumerate().find_map(|(i, &c)| match c {
        b':' => Some((i, 1)),
        0xEF if head.get(i + 1) == Some(&0xBC) && head.get(i + 2) == Some(&0x9A) => {
            Some((i, '：'.len_utf8()))
        }
        _ => None,
    })?;
    let label = n[..pos].trim();
    if label.is_empty() || label.chars().count() > 12 {
        return None;
    }
    Some((pos, pos + sep_len))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(name: &str, data: &[u8]) -> (Vec<Finding>, Vec<FileReport>) {
        let scanner = Scanner::new(KindSet::all());
        let mut found = Vec::new();
        let reports = scanner.scan_bytes(name, data, &mut |f| found.push(f.clone()));
        (found, reports)
    }

    #[test]
    fn shift_jis_csv_with_columns() {
        let csv = "会員番号,氏名,電話,生年月日\r\n1001,山田　太郎,０９０－１２３４－５６７８,昭和60年3月5日\r\n1002,\"佐藤\n花子\",03-1234-5678,1990/01/02\r\n";
        let (sjis, _, _) = encoding_rs::SHIFT_JIS.encode(csv);
        let (found, reports) = scan("members.csv", &sjis);
        assert_eq!(reports[0].encoding, Some("Shift_JIS"));
        let got: Vec<(u64, u64, &str, &str)> = found
            .iter()
            .map(|f| (f.line, f.column, f.kind.as_str(), f.value.as_str()))
            .collect();
        assert!(
            got.contains(&(2, 2, "person_name", "山田　太郎")),
            "{got:?}"
        );
        assert!(
            got.contains(&(2, 3, "phone", "０９０－１２３４－５６７８")),
            "{got:?}"
        );
        assert!(
            got.contains(&(2, 4, "birth_date", "昭和60年3月5日")),
            "{got:?}"
        );
        assert!(
            got.contains(&(3, 2, "person_name", "佐藤\n花子"))
                || got.iter().any(|g| g.0 == 3 && g.2 == "person_name"),
            "{got:?}"
        );
        assert!(got.contains(&(4, 3, "phone", "03-1234-5678")), "{got:?}");
        assert!(got.contains(&(4, 4, "birth_date", "1990/01/02")), "{got:?}");
        assert_eq!(
            found
                .iter()
                .find(|f| f.kind == Kind::Phone)
                .unwrap()
                .masked(),
            "０９０－****－５６７８"
        );
    }

    #[test]
    fn text_lines_labels_and_json() {
        let text = "お問い合わせ\n氏名：鈴木一郎\n生年月日\n1985年3月5日\nメール taro@example.co.jp, hanako@example.jp\n";
        let (found, _) = scan("memo.txt", text.as_bytes());
        let got: Vec<(u64, u64, &str)> = found
            .iter()
            .map(|f| (f.line, f.column, f.kind.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                (2, 4, "person_name"),
                (4, 1, "birth_date"),
                (5, 5, "email"),
                (5, 25, "email")
            ]
        );
        let jsonl = "{\"id\":1,\"name\":\"Taro Yamada\",\"tel\":\"0312345678\",\"birthday\":\"1985-03-05\"}\n";
        let (found, _) = scan("x.jsonl", jsonl.as_bytes());
        let kinds: Vec<&str> = found.iter().map(|f| f.kind.as_str()).collect();
        assert_eq!(kinds, vec!["person_name", "phone", "birth_date"]);
    }

    #[test]
    fn binary_and_broken_files_are_reported_not_fatal() {
        let (_, r) = scan("image.png", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR");
        assert!(matches!(r[0].status, Status::Skipped(_)));
        let (_, r) = scan("broken.zip", b"PK\x03\x04garbage");
        assert!(matches!(r[0].status, Status::Failed(_)), "{r:?}");
        let (_, r) = scan("broken.xlsx", b"PK\x03\x04garbage");
        assert!(matches!(r[0].status, Status::Failed(_)), "{r:?}");
    }

    #[test]
    fn long_lines_are_scanned_in_windows() {
        let mut line = "あ".repeat(700_000);
        line.push_str(" 090-1234-5678 ");
        line.push_str(&"い".repeat(700_000));
        let (found, r) = scan("big.log", line.as_bytes());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].column, 700_002);
        assert!(
            r[0].warnings.iter().any(|w| w.contains("windows")),
            "{:?}",
            r[0].warnings
        );
    }

    #[test]
    fn a_value_across_a_window_cut_is_found_once() {
        // Windows are cut every MiB: put a value across the first cut, a few bytes to each side
        // of it, and values just before and inside the overlap, each with its own column.
        let cut = 1 << 20;
        for shift in [1usize, 3, 7, 12, 20] {
            let mut line = "x".repeat(cut - 5000);
            line.push_str(" taro@example.jp ");
            while line.len() < cut - 2000 {
                line.push('x');
            }
            line.push_str(" 090-1111-2222 ");
            while line.len() < cut - shift {
                line.push('x');
            }
            line.push_str(" 03-1234-5678 ");
            line.push_str(&"y".repeat(300_000));
            let (found, _) = scan("one-line.log", line.as_bytes());
            let got: Vec<(u64, &str)> =
                found.iter().map(|f| (f.column, f.value.as_str())).collect();
            let col = |v: &str| line.find(v).unwrap() as u64 + 1;
            assert_eq!(
                got,
                vec![
                    (col("taro@"), "taro@example.jp"),
                    (col("090-"), "090-1111-2222"),
                    (col("03-"), "03-1234-5678"),
                ],
                "cut {shift} bytes into the value"
            );
        }
    }
}
