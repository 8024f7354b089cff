//! Leaked material on an incident (issue 14, impact item 1): files kept sealed in the database,
//! read back by the incident's viewers, and scanned in the background into [`LeakedRow`]s for
//! [`App::match_leaked`].
//!
//! - A file has its own 32-byte data key, wrapped by the vault master key of the current
//!   version (associated data `mamori-evidence-dek:{file id}`). Its bytes are kept in chunks of
//!   [`CHUNK`] bytes, each sealed with XChaCha20-Poly1305 (random 192-bit nonce ‖ ciphertext)
//!   with the associated data `mamori-evidence:{file id}:{chunk}:{last 0/1}`: a chunk moved to
//!   another file or place, a chunk altered, or a file cut short (its new last chunk was not
//!   sealed as last) does not open. The file row also keeps the chunk count and the SHA-256 of
//!   the plaintext, checked after a full read.
//! - [`FileWriter`] seals a chunk as soon as it is full, so a file is never whole in memory;
//!   the web upload (multipart, streamed) and `mamori incident attach` both use it.
//! - The scan (job `evidence.scan`) first decrypts the file into an unnamed temporary file,
//!   checking every chunk and the digest — so nothing tampered is ever read as data — and then
//!   reads it with `mamori-detect` (encodings, CSV, spreadsheets, zip with its bomb limits,
//!   e-mail). Rows go to matching in batches of [`BATCH`]; the number of rows confirmed is
//!   recorded, so a scan resumed after a restart skips them, and a batch sent again is harmless
//!   (matching is idempotent per locator).

use crate::vault_keys::Dek;
use crate::{App, AppError, Ctx, Problem};
use base64::Engine as _;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use mamori_detect::{Finding, Kind, KindSet, Limits, Scanner, Status};
use mamori_domain::audit::Outcome;
use mamori_domain::impact::{LeakedField, LeakedRow};
use mamori_domain::role::Permission;
use mamori_store::evidence::{FileRow, ScanProgress};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};
use std::io::{Read, Seek, SeekFrom, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Plaintext bytes per chunk.
pub const CHUNK: usize = 256 * 1024;
/// Rows per call of `match_leaked`.
pub const BATCH: usize = 5_000;
/// The job kind of the background scan; the payload is the file id.
pub const SCAN_JOB: &str = "evidence.scan";
/// How long a scan holds its file without recording progress (microseconds): another process
/// takes over a scan whose process died after this.
const SCAN_LEASE: i64 = 600 * 1_000_000;
/// An upload still unfinished after this long was cut off (a crash) and is removed.
const STALE_UPLOAD: i64 = 24 * 3600 * 1_000_000;
/// The periodic task that removes cut-off uploads.
pub const PURGE_TASK: &str = "evidence.purge_uploads";

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD_NO_PAD;

fn dek_aad(file_id: i64) -> String {
    format!("mamori-evidence-dek:{file_id}")
}

fn chunk_aad(file_id: i64, n: i64, last: bool) -> String {
    format!("mamori-evidence:{file_id}:{n}:{}", u8::from(last))
}

fn seal_chunk(key: &[u8; 32], file_id: i64, n: i64, last: bool, plain: &[u8]) -> Vec<u8> {
    let cipher = XChaCha20Poly1305::new(key.into());
    let mut nonce = [0u8; 24];
    rand::thread_rng().fill_bytes(&mut nonce);
    let aad = chunk_aad(file_id, n, last);
    let ct = cipher
        .encrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: plain,
                aad: aad.as_bytes(),
            },
        )
        .expect("XChaCha20-Poly1305 encryption does not fail for inputs under 256 GiB");
    let mut out = Vec::with_capacity(24 + ct.len());
    out.extend_from_slice(&nonce);
    out.extend(ct);
    out
}

fn open_chunk(key: &[u8; 32], file_id: i64, n: i64, last: bool, sealed: &[u8]) -> Option<Vec<u8>> {
    if sealed.len() < 24 + 16 {
        return None;
    }
    let cipher = XChaCha20Poly1305::new(key.into());
    let aad = chunk_aad(file_id, n, last);
    cipher
        .decrypt(
            XNonce::from_slice(&sealed[..24]),
            Payload {
                msg: &sealed[24..],
                aad: aad.as_bytes(),
            },
        )
        .ok()
}

/// What went wrong with one attached file, kept as a code with its parameters and put into
/// words when shown. Nothing here holds a personal value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum EvidenceProblem {
    /// Scanned completely; nothing personal in it.
    NoPersonalData,
    /// An archive with encrypted members (`entries` of them), which cannot be read.
    Encrypted { entries: u64 },
    /// An archive over a limit of the scanner (expanded size, nesting, entries): a zip bomb or
    /// simply too large; the part within the limits was read.
    ArchiveLimit { path: String, detail: String },
    /// A file (or member) that could not be read: a corrupt spreadsheet or archive.
    Unreadable { path: String, detail: String },
    /// A format the scanner does not read (an image, a PDF, an unknown binary).
    Unsupported { path: String, detail: String },
    /// A chunk that did not open, a missing chunk, or a digest that does not match: the stored
    /// file was altered. Nothing of it was read as data.
    Integrity,
    /// Matching failed; the scan is retried later.
    MatchFailed { detail: String },
    /// An upload over the configured limit (never stored: the partial file is removed).
    TooLarge { limit: u64 },
}

/// `512 MiB`, `1.5 GiB`, `200 KiB` or bytes.
pub fn human_size(bytes: u64) -> String {
    const KIB: u64 = 1024;
    const MIB: u64 = KIB * 1024;
    const GIB: u64 = MIB * 1024;
    let show = |v: u64, unit: u64, name: &str| {
        if v.is_multiple_of(unit) {
            format!("{} {name}", v / unit)
        } else {
            format!("{:.1} {name}", v as f64 / unit as f64)
        }
    };
    if bytes >= GIB {
        show(bytes, GIB, "GiB")
    } else if bytes >= MIB {
        show(bytes, MIB, "MiB")
    } else if bytes >= KIB {
        show(bytes, KIB, "KiB")
    } else {
        format!("{bytes} B")
    }
}

impl EvidenceProblem {
    /// The stable code stored in `incident_files.problem`.
    pub fn code(&self) -> &'static str {
        match self {
            EvidenceProblem::NoPersonalData => "no_personal_data",
            EvidenceProblem::Encrypted { .. } => "encrypted",
            EvidenceProblem::ArchiveLimit { .. } => "archive_limit",
            EvidenceProblem::Unreadable { .. } => "unreadable",
            EvidenceProblem::Unsupported { .. } => "unsupported",
            EvidenceProblem::Integrity => "integrity",
            EvidenceProblem::MatchFailed { .. } => "match_failed",
            EvidenceProblem::TooLarge { .. } => "too_large",
        }
    }

    /// The parameters as stored in `incident_files.problem_params`.
    pub fn params(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Reads a stored problem back; a code this release does not know is shown as the code.
    pub fn from_stored(code: &str, params: Option<&str>) -> Option<EvidenceProblem> {
        params
            .and_then(|p| serde_json::from_str::<EvidenceProblem>(p).ok())
            .filter(|p| p.code() == code)
    }

    /// Whether the scan stopped on it (as opposed to a note on a scan that finished).
    pub fn is_error(&self) -> bool {
        !matches!(self, EvidenceProblem::NoPersonalData)
    }

    pub fn ja(&self) -> String {
        match self {
            EvidenceProblem::NoPersonalData => "個人データは見つかりませんでした".into(),
            EvidenceProblem::Encrypted { entries } => format!(
                "暗号化（パスワード付き）のアーカイブです（暗号化された項目 {entries} 件）。読み取れないため、パスワードのないファイルを添付し直すか、パスワードを別の経路で担当者に伝えてください"
            ),
            EvidenceProblem::ArchiveLimit { path, detail } => format!(
                "{path}: アーカイブが展開の上限を超えました（zip爆弾の可能性があります）。上限内の部分だけを読み取りました（{detail}）"
            ),
            EvidenceProblem::Unreadable { path, detail } => format!(
                "{path}: ファイルを読み取れませんでした。壊れているか、拡張子と中身の形式が違います（{detail}）"
            ),
            EvidenceProblem::Unsupported { path, detail } => format!(
                "{path}: この形式は読み取りの対象外です（{detail}）。CSV・Excel・テキスト・メール・zipで添付してください"
            ),
            EvidenceProblem::Integrity => "保存されたファイルの完全性を確認できませんでした（改ざんまたは破損）。内容は使用していません。ファイルを添付し直してください".into(),
            EvidenceProblem::MatchFailed { detail } => format!(
                "照合に失敗しました。しばらくして自動で再試行します（{detail}）"
            ),
            EvidenceProblem::TooLarge { limit } => format!(
                "ファイルが大きすぎます。アップロードの上限は {} です",
                human_size(*limit)
            ),
        }
    }

    pub fn en(&self) -> String {
        match self {
            EvidenceProblem::NoPersonalData => "No personal data was found".into(),
            EvidenceProblem::Encrypted { entries } => format!(
                "This archive is encrypted (password-protected; {entries} encrypted entries) and cannot be read. Attach the file without a password, or give the password to the person in charge by another channel"
            ),
            EvidenceProblem::ArchiveLimit { path, detail } => format!(
                "{path}: the archive exceeds the expansion limits (possibly a zip bomb); only the part within the limits was read ({detail})"
            ),
            EvidenceProblem::Unreadable { path, detail } => format!(
                "{path}: the file could not be read; it is damaged or its content does not match its name ({detail})"
            ),
            EvidenceProblem::Unsupported { path, detail } => format!(
                "{path}: this format is not read ({detail}); attach CSV, Excel, text, e-mail or zip"
            ),
            EvidenceProblem::Integrity => "The stored file failed its integrity check (altered or damaged); none of its content was used. Attach the file again".into(),
            EvidenceProblem::MatchFailed { detail } => format!(
                "Matching failed; it will be retried automatically ({detail})"
            ),
            EvidenceProblem::TooLarge { limit } => format!(
                "The file is too large: the upload limit is {}",
                human_size(*limit)
            ),
        }
    }

    pub fn in_lang(&self, lang: &str) -> String {
        if lang == "en" {
            self.en()
        } else {
            self.ja()
        }
    }
}

impl From<EvidenceProblem> for AppError {
    fn from(p: EvidenceProblem) -> Self {
        AppError::Invalid(Problem::new(Some("file"), p.ja(), p.en()))
    }
}

/// The leaked field a finding's kind is.
pub fn field_of(kind: Kind) -> LeakedField {
    match kind {
        Kind::PersonName => LeakedField::Name,
        Kind::Address => LeakedField::Address,
        Kind::PostalCode => LeakedField::PostalCode,
        Kind::Phone => LeakedField::Phone,
        Kind::Email => LeakedField::Email,
        Kind::BirthDate => LeakedField::BirthDate,
        Kind::CreditCard => LeakedField::CreditCard,
        Kind::MyNumber => LeakedField::MyNumber,
        Kind::BankAccount => LeakedField::BankAccount,
        Kind::PassportNumber => LeakedField::PassportNumber,
        Kind::DriversLicenseNumber => LeakedField::DriversLicenseNumber,
    }
}

/// What reading one file gave, besides its rows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Extraction {
    /// Rows produced (those skipped on a resume included).
    pub rows: u64,
    /// Findings per kind, in `Kind::ALL` order.
    pub kind_counts: [u64; 11],
    /// The first problem worth telling, if any.
    pub problem: Option<EvidenceProblem>,
}

impl Extraction {
    /// `{"email": 3, …}` for the kinds found.
    pub fn kind_counts_json(&self) -> String {
        let m: serde_json::Map<String, serde_json::Value> = Kind::ALL
            .iter()
            .zip(self.kind_counts)
            .filter(|(_, n)| *n > 0)
            .map(|(k, n)| (k.as_str().to_owned(), json!(n)))
            .collect();
        serde_json::Value::Object(m).to_string()
    }
}

/// Groups findings into rows as they stream out of the scanner: a row of a table (its
/// spreadsheet sheet and row, or its CSV line), a line of text, or a whole e-mail message.
struct Grouper<'a> {
    key: Option<(String, Option<String>, u64)>,
    current: Option<LeakedRow>,
    rows: u64,
    skip: u64,
    counts: [u64; 11],
    on_row: &'a mut dyn FnMut(LeakedRow) -> bool,
    stopped: bool,
}

/// A message is one record: its findings, over all its lines, make one row.
fn is_mail(path: &str) -> bool {
    let last = path.rsplit('!').next().unwrap_or(path);
    std::path::Path::new(last)
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("eml") || e.eq_ignore_ascii_case("msg"))
}

impl Grouper<'_> {
    fn push(&mut self, f: &Finding) {
        if self.stopped {
            return;
        }
        self.counts[f.kind.index()] += 1;
        let mail = is_mail(&f.path);
        let line = if mail { 0 } else { f.line };
        let same = self
            .key
            .as_ref()
            .is_some_and(|(p, s, l)| *p == f.path && *s == f.sheet && *l == line);
        if !same {
            self.flush();
            let locator = match (&f.sheet, mail) {
                (Some(sheet), _) => format!("{}!{sheet}:{}", f.path, f.line),
                (None, true) => f.path.clone(),
                (None, false) => format!("{}:{}", f.path, f.line),
            };
            self.key = Some((f.path.clone(), f.sheet.clone(), line));
            self.current = Some(LeakedRow {
                locator,
                values: Vec::new(),
            });
        }
        if let Some(r) = &mut self.current {
            r.values.push((field_of(f.kind), f.value.clone()));
        }
    }

    fn flush(&mut self) {
        if let Some(r) = self.current.take() {
            self.rows += 1;
            if self.rows > self.skip && !self.stopped && !(self.on_row)(r) {
                self.stopped = true;
            }
        }
    }
}

/// The number of encrypted members of a zip archive (0 for anything else or a zip that does
/// not open: the scanner reports those).
fn encrypted_entries<R: Read + Seek>(r: &mut R) -> u64 {
    let mut magic = [0u8; 4];
    if r.seek(SeekFrom::Start(0)).is_err() || r.read_exact(&mut magic).is_err() {
        let _ = r.seek(SeekFrom::Start(0));
        return 0;
    }
    let _ = r.seek(SeekFrom::Start(0));
    if &magic != b"PK\x03\x04" {
        return 0;
    }
    let mut n = 0;
    if let Ok(mut a) = zip::ZipArchive::new(&mut *r) {
        for i in 0..a.len() {
            if a.by_index_raw(i).is_ok_and(|e| e.encrypted()) {
                n += 1;
            }
        }
    }
    let _ = r.seek(SeekFrom::Start(0));
    n
}

fn problem_of(reports: &[mamori_detect::FileReport]) -> Option<EvidenceProblem> {
    for r in reports {
        let limit = |m: &str| {
            m.contains("limit")
                || m.contains("nested deeper")
                || m.contains("larger than")
                || m.contains("only the first")
        };
        match &r.status {
            Status::Failed(m) | Status::Skipped(m) if limit(m) => {
                return Some(EvidenceProblem::ArchiveLimit {
                    path: r.path.clone(),
                    detail: m.clone(),
                })
            }
            Status::Failed(m) => {
                return Some(EvidenceProblem::Unreadable {
                    path: r.path.clone(),
                    detail: m.clone(),
                })
            }
            Status::Skipped(m) => {
                return Some(EvidenceProblem::Unsupported {
                    path: r.path.clone(),
                    detail: m.clone(),
                })
            }
            Status::Scanned => {}
        }
        if let Some(w) = r.warnings.iter().find(|w| limit(w)) {
            return Some(EvidenceProblem::ArchiveLimit {
                path: r.path.clone(),
                detail: w.clone(),
            });
        }
    }
    None
}

/// Reads a file (`name` says its format, as a file name does) into rows: each data row of a
/// table is one row with its values tagged by the column's kind (locator `name.csv:LINE`,
/// `book.xlsx!Sheet:ROW`, `a.zip!inner.csv:LINE`); in text the findings of one line make a row,
/// in an e-mail the findings of the whole message. The first `skip` rows are not handed to
/// `on_row` (a resumed scan); `on_row` returning `false` stops the reading.
pub fn extract_rows<R: Read + Seek>(
    name: &str,
    mut reader: R,
    size: u64,
    limits: Limits,
    skip: u64,
    on_row: &mut dyn FnMut(LeakedRow) -> bool,
) -> Extraction {
    let encrypted = encrypted_entries(&mut reader);
    let mut scanner = Scanner::new(KindSet::all());
    scanner.limits = limits;
    let mut g = Grouper {
        key: None,
        current: None,
        rows: 0,
        skip,
        counts: [0; 11],
        on_row,
        stopped: false,
    };
    let reports = scanner.scan_reader(name, reader, size, &mut |f| g.push(f));
    g.flush();
    let problem = if encrypted > 0 {
        Some(EvidenceProblem::Encrypted { entries: encrypted })
    } else {
        problem_of(&reports)
    };
    let problem = match problem {
        None if g.rows == 0 => Some(EvidenceProblem::NoPersonalData),
        p => p,
    };
    Extraction {
        rows: g.rows,
        kind_counts: g.counts,
        problem,
    }
}

/// [`extract_rows`] over bytes in memory, every row collected (tests, small inputs).
pub fn rows_from_bytes(name: &str, data: &[u8]) -> (Vec<LeakedRow>, Extraction) {
    let mut rows = Vec::new();
    let ex = extract_rows(
        name,
        std::io::Cursor::new(data),
        data.len() as u64,
        Limits::default(),
        0,
        &mut |r| {
            rows.push(r);
            true
        },
    );
    (rows, ex)
}

/// The last path component of a file name as given by a browser or a command line, checked:
/// 1–255 characters, no control characters.
pub fn clean_file_name(raw: &str) -> Result<String, AppError> {
    let base = raw
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or_default()
        .trim()
        .to_owned();
    if base.is_empty() || base == "." || base == ".." {
        return Err(AppError::invalid(
            "file",
            "ファイル名がありません。ファイルを選んでください",
            "the file has no name; choose a file",
        ));
    }
    if base.chars().count() > 255 || base.chars().any(char::is_control) {
        return Err(AppError::invalid(
            "file",
            "ファイル名は制御文字を含まない255文字以内にしてください",
            "the file name must be at most 255 characters without control characters",
        ));
    }
    Ok(base)
}

/// Writes one file into the database as it arrives. Call [`FileWriter::finish`] at the end, or
/// [`FileWriter::abort`] to remove what was written (a refused or broken upload).
pub struct FileWriter {
    app: App,
    ctx: Ctx,
    pub file_id: i64,
    incident_id: i64,
    name: String,
    dek: Dek,
    buf: Vec<u8>,
    next: i64,
    size: u64,
    limit: u64,
    hash: Sha256,
}

impl FileWriter {
    /// Bytes received so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Adds bytes; a full chunk is sealed and stored at once. Past the upload limit the file
    /// is removed and the error names the limit.
    pub async fn write(&mut self, mut data: &[u8]) -> Result<(), AppError> {
        if self.size + data.len() as u64 > self.limit {
            return Err(EvidenceProblem::TooLarge { limit: self.limit }.into());
        }
        self.size += data.len() as u64;
        self.hash.update(data);
        while !data.is_empty() {
            // A chunk is sealed only when a byte after it has arrived: then it is not the last.
            if self.buf.len() == CHUNK {
                self.store_chunk(false).await?;
            }
            let take = (CHUNK - self.buf.len()).min(data.len());
            self.buf.extend_from_slice(&data[..take]);
            data = &data[take..];
        }
        Ok(())
    }

    async fn store_chunk(&mut self, last: bool) -> Result<(), AppError> {
        let sealed = seal_chunk(self.dek.key(), self.file_id, self.next, last, &self.buf);
        self.app
            .store
            .put_incident_file_chunk(self.file_id, self.next, &sealed)
            .await?;
        self.next += 1;
        self.buf.clear();
        Ok(())
    }

    /// Seals the last chunk, marks the file complete and queues its scan; audited.
    pub async fn finish(mut self) -> Result<i64, AppError> {
        self.store_chunk(true).await?;
        let digest = hex::encode(self.hash.clone().finalize());
        let app = self.app.clone();
        app.store
            .finish_incident_file(self.file_id, self.size as i64, &digest, self.next)
            .await?;
        let now = app.clock.now_micros();
        app.store
            .enqueue_job(SCAN_JOB, &self.file_id.to_string(), now, now)
            .await?;
        app.audit(
            &self.ctx,
            "incident.file.upload",
            &format!("incident:{}", self.incident_id),
            Outcome::Success,
            json!({"file": self.file_id, "name": self.name, "bytes": self.size, "sha256": digest}),
        )
        .await?;
        Ok(self.file_id)
    }

    /// Removes the file and every chunk written so far.
    pub async fn abort(self) -> Result<(), AppError> {
        self.app.store.delete_incident_file(self.file_id).await?;
        Ok(())
    }
}

/// An integrity failure of a stored file (never its content).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IntegrityError {
    pub file_id: i64,
    pub chunk: i64,
}

impl std::fmt::Display for IntegrityError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "file {} failed its integrity check at chunk {}",
            self.file_id, self.chunk
        )
    }
}

/// Reads a stored file chunk by chunk, checking each.
pub struct FileReader {
    app: App,
    pub file: FileRow,
    dek: Dek,
    next: i64,
    hash: Sha256,
}

impl FileReader {
    /// The next chunk's plaintext, `Ok(None)` at the end (after the digest matched), or an
    /// integrity error: a chunk missing, moved, altered, a file cut short or a wrong digest.
    pub async fn next_chunk(&mut self) -> Result<Option<Vec<u8>>, AppError> {
        let id = self.file.id;
        let fail = |chunk| {
            tracing::warn!(file = id, chunk, "evidence file failed its integrity check");
            AppError::Invalid(Problem::new(
                Some("file"),
                EvidenceProblem::Integrity.ja(),
                EvidenceProblem::Integrity.en(),
            ))
        };
        if self.next >= self.file.chunk_count {
            if self.next == self.file.chunk_count {
                self.next += 1;
                let extra = self
                    .app
                    .store
                    .incident_file_chunk(id, self.file.chunk_count)
                    .await?;
                let digest = hex::encode(self.hash.clone().finalize());
                if extra.is_some() || digest != self.file.sha256 {
                    return Err(fail(self.file.chunk_count));
                }
            }
            return Ok(None);
        }
        let n = self.next;
        let last = n + 1 == self.file.chunk_count;
        let sealed = self
            .app
            .store
            .incident_file_chunk(id, n)
            .await?
            .ok_or_else(|| fail(n))?;
        let plain = open_chunk(self.dek.key(), id, n, last, &sealed).ok_or_else(|| fail(n))?;
        if !last && plain.len() != CHUNK {
            return Err(fail(n));
        }
        self.hash.update(&plain);
        self.next += 1;
        Ok(Some(plain))
    }

    /// The whole file into `out`, checked (for the scan's temporary file and for tests).
    pub async fn copy_to<W: Write + Send>(&mut self, out: &mut W) -> Result<u64, AppError> {
        let mut n = 0u64;
        while let Some(c) = self.next_chunk().await? {
            out.write_all(&c)
                .map_err(|e| AppError::Internal(format!("temporary file: {e}")))?;
            n += c.len() as u64;
        }
        Ok(n)
    }
}

/// One attached file as a page shows it (no content, no key).
#[derive(Debug, Clone, Serialize)]
pub struct FileView {
    pub id: i64,
    pub name: String,
    pub size: i64,
    pub sha256: String,
    pub uploaded_at: i64,
    pub uploaded_by: Option<String>,
    /// `queued`, `scanning`, `done` or `failed`.
    pub state: String,
    pub bytes_done: i64,
    pub rows_found: i64,
    pub rows_matched: i64,
    /// The problem in both languages, if any.
    pub problem_ja: Option<String>,
    pub problem_en: Option<String>,
    /// Whether the problem stopped the scan (otherwise it is a note, such as "no personal data").
    pub problem_is_error: bool,
    /// Findings per kind (kind name → count).
    pub kinds: Vec<(String, u64)>,
}

/// What the page polls: progress only, no personal value and no file name.
#[derive(Debug, Clone, Serialize)]
pub struct FileProgress {
    pub id: i64,
    pub state: String,
    pub size: i64,
    pub bytes_done: i64,
    pub rows_found: i64,
    pub rows_matched: i64,
    pub problem: Option<String>,
}

impl App {
    /// Starts writing a file onto an incident: the caller must see the incident and may manage
    /// incidents; the vault keys must be open (the file key is wrapped by the master key).
    pub async fn begin_evidence(
        &self,
        ctx: &Ctx,
        incident_id: i64,
        file_name: &str,
    ) -> Result<FileWriter, AppError> {
        self.may_attach(ctx, incident_id).await?;
        let name = clean_file_name(file_name)?;
        let vault = self.vault_state()?;
        let version = vault.current();
        let now = self.clock.now_micros();
        let id = self
            .store
            .insert_incident_file(incident_id, &name, ctx.actor_id(), now)
            .await?;
        let dek = Dek::generate();
        let wrapped = match vault
            .provider
            .wrap(version, dek.key(), dek_aad(id).as_bytes())
        {
            Ok(w) => B64.encode(w),
            Err(e) => {
                self.store.delete_incident_file(id).await?;
                return Err(AppError::Internal(format!("wrap evidence key: {e}")));
            }
        };
        self.store
            .set_incident_file_key(id, &wrapped, i64::from(version))
            .await?;
        Ok(FileWriter {
            app: self.clone(),
            ctx: ctx.clone(),
            file_id: id,
            incident_id,
            name,
            dek,
            buf: Vec::with_capacity(CHUNK),
            next: 0,
            size: 0,
            limit: self.settings.max_upload_bytes,
            hash: Sha256::new(),
        })
    }

    /// Checks that the caller may attach files to the incident: sees it (else `NotFound`) and
    /// may manage incidents (else `Denied`, recorded).
    pub async fn may_attach(&self, ctx: &Ctx, incident_id: i64) -> Result<(), AppError> {
        self.incident_for(ctx, incident_id).await?;
        if !ctx.allows(Permission::ManageIncidents) {
            self.audit(
                ctx,
                "incident.file.upload",
                &format!("incident:{incident_id}"),
                Outcome::Denied,
                json!({}),
            )
            .await?;
            return Err(AppError::Denied);
        }
        Ok(())
    }

    /// Attaches a file from a path on this machine (the command line), streamed from disk.
    pub async fn attach_path(
        &self,
        ctx: &Ctx,
        incident_id: i64,
        path: &std::path::Path,
    ) -> Result<i64, AppError> {
        use tokio::io::AsyncReadExt;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut f = tokio::fs::File::open(path).await.map_err(|e| {
            AppError::invalid(
                "path",
                format!("ファイル {} を開けません: {e}", path.display()),
                format!("cannot open {}: {e}", path.display()),
            )
        })?;
        let mut w = self.begin_evidence(ctx, incident_id, &name).await?;
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = match f.read(&mut buf).await {
                Ok(n) => n,
                Err(e) => {
                    w.abort().await?;
                    return Err(AppError::invalid(
                        "path",
                        format!("ファイル {} を読めません: {e}", path.display()),
                        format!("cannot read {}: {e}", path.display()),
                    ));
                }
            };
            if n == 0 {
                break;
            }
            if let Err(e) = w.write(&buf[..n]).await {
                w.abort().await?;
                return Err(e);
            }
        }
        w.finish().await
    }

    /// The files of an incident, for its viewers (others get `NotFound`).
    pub async fn evidence_files(
        &self,
        ctx: &Ctx,
        incident_id: i64,
    ) -> Result<Vec<FileView>, AppError> {
        self.incident_for(ctx, incident_id).await?;
        let rows = self.store.incident_files(incident_id).await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let problem = r
                .problem
                .as_deref()
                .map(|c| EvidenceProblem::from_stored(c, r.problem_params.as_deref()).ok_or(c));
            let (problem_ja, problem_en, problem_is_error) = match problem {
                Some(Ok(p)) => (Some(p.ja()), Some(p.en()), p.is_error()),
                Some(Err(code)) => (Some(code.to_owned()), Some(code.to_owned()), true),
                None => (None, None, false),
            };
            let kinds =
                serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&r.kind_counts)
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(k, v)| (k, v.as_u64().unwrap_or(0)))
                    .collect();
            let uploaded_by = match r.uploaded_by {
                Some(u) => self.store.get_user(u).await.ok().map(|u| u.display_name),
                None => None,
            };
            out.push(FileView {
                id: r.id,
                name: r.file_name,
                size: r.size,
                sha256: r.sha256,
                uploaded_at: r.uploaded_at,
                uploaded_by,
                state: r.scan_state,
                bytes_done: r.bytes_done,
                rows_found: r.rows_found,
                rows_matched: r.rows_matched,
                problem_ja,
                problem_en,
                problem_is_error,
                kinds,
            });
        }
        Ok(out)
    }

    /// Scan progress of an incident's files, for its viewers (no names, no values).
    pub async fn evidence_progress(
        &self,
        ctx: &Ctx,
        incident_id: i64,
    ) -> Result<Vec<FileProgress>, AppError> {
        self.incident_for(ctx, incident_id).await?;
        Ok(self
            .store
            .incident_files(incident_id)
            .await?
            .into_iter()
            .map(|r| FileProgress {
                id: r.id,
                state: r.scan_state,
                size: r.size,
                bytes_done: r.bytes_done,
                rows_found: r.rows_found,
                rows_matched: r.rows_matched,
                problem: r.problem,
            })
            .collect())
    }

    /// Opens a file for reading by a viewer of its incident; the read is recorded in the audit
    /// log. Another incident's file id, or a file still uploading, is `NotFound`.
    pub async fn open_evidence(
        &self,
        ctx: &Ctx,
        incident_id: i64,
        file_id: i64,
    ) -> Result<FileReader, AppError> {
        self.incident_for(ctx, incident_id).await?;
        let file = match self.store.get_incident_file(file_id).await {
            Ok(f) if f.incident_id == incident_id && f.scan_state != "uploading" => f,
            Ok(_) | Err(mamori_store::StoreError::NotFound) => return Err(AppError::NotFound),
            Err(e) => return Err(e.into()),
        };
        let reader = self.file_reader(file)?;
        self.audit(
            ctx,
            "incident.file.read",
            &format!("incident:{incident_id}"),
            Outcome::Success,
            json!({"file": file_id, "name": reader.file.file_name, "bytes": reader.file.size}),
        )
        .await?;
        Ok(reader)
    }

    /// A reader without a permission check: the scan job (system use).
    fn file_reader(&self, file: FileRow) -> Result<FileReader, AppError> {
        let vault = self.vault_state()?;
        let wrapped = B64
            .decode(&file.wrapped_key)
            .map_err(|_| AppError::Internal(format!("evidence file {}: bad key", file.id)))?;
        let key = vault
            .provider
            .unwrap(
                file.key_version as u32,
                &wrapped,
                dek_aad(file.id).as_bytes(),
            )
            .map_err(|e| AppError::Internal(format!("evidence file {}: {e}", file.id)))?;
        Ok(FileReader {
            app: self.clone(),
            file,
            dek: Dek::from_key(key),
            next: 0,
            hash: Sha256::new(),
        })
    }

    /// Reads a stored file whole, checked, without a permission check or an audit entry: for
    /// tests of the storage and for system jobs only.
    pub async fn read_evidence_unchecked(&self, file_id: i64) -> Result<Vec<u8>, AppError> {
        let file = self.store.get_incident_file(file_id).await?;
        let mut r = self.file_reader(file)?;
        let mut out = Vec::new();
        r.copy_to(&mut out).await?;
        Ok(out)
    }

    /// Removes uploads cut off by a crash (still `uploading` a day later) with their chunks.
    pub async fn purge_stale_uploads(&self) -> Result<u64, AppError> {
        let before = self.clock.now_micros() - STALE_UPLOAD;
        let ids = self.store.stale_incident_uploads(before).await?;
        for id in &ids {
            self.store.delete_incident_file(*id).await?;
        }
        Ok(ids.len() as u64)
    }

    /// Re-wraps the file keys not yet under the current master key (part of
    /// `rewrap_keys`, so that a retired master key version holds no file). Returns how many.
    pub async fn rewrap_evidence_keys(&self) -> Result<u64, AppError> {
        let v = self.vault_state()?;
        let current = v.current();
        let mut after = 0;
        let mut done = 0;
        loop {
            let rows = self
                .store
                .evidence_keys_to_rewrap(i64::from(current), after, 500)
                .await?;
            let Some(last) = rows.last() else { break };
            after = last.0;
            for (id, old, wrapped) in rows {
                let aad = dek_aad(id);
                let bytes = B64
                    .decode(&wrapped)
                    .map_err(|_| AppError::Internal(format!("evidence file {id}: bad key")))?;
                let key = v
                    .provider
                    .unwrap(old as u32, &bytes, aad.as_bytes())
                    .map_err(|e| AppError::Internal(format!("evidence file {id}: {e}")))?;
                let dek = Dek::from_key(key);
                let new = v
                    .provider
                    .wrap(current, dek.key(), aad.as_bytes())
                    .map_err(|e| AppError::Internal(format!("evidence file {id}: {e}")))?;
                done += self
                    .store
                    .rewrap_incident_file_key(id, old, i64::from(current), &B64.encode(new))
                    .await?;
            }
        }
        Ok(done)
    }

    /// The job `evidence.scan`: reads one file into rows and matches them. Resumable: the rows
    /// already matched are skipped. A match error leaves the file queued with the message and
    /// fails the job, so the queue retries it; a file that cannot be read is marked failed
    /// with its problem and the job is done.
    pub async fn scan_evidence(&self, file_id: i64) -> Result<(), String> {
        let file = match self.store.get_incident_file(file_id).await {
            Ok(f) => f,
            Err(mamori_store::StoreError::NotFound) => return Ok(()),
            Err(e) => return Err(e.to_string()),
        };
        if file.scan_state == "done" || file.scan_state == "failed" {
            return Ok(());
        }
        let now = self.clock.now_micros();
        if !self
            .store
            .claim_incident_file_scan(file_id, now, now + SCAN_LEASE)
            .await
            .map_err(|e| e.to_string())?
        {
            // Finished meanwhile, or another process is scanning it: the job is retried
            // later and then finds it done (or the other lease run out, and resumes it).
            let f = self
                .store
                .get_incident_file(file_id)
                .await
                .map_err(|e| e.to_string())?;
            return if f.scan_state == "done" || f.scan_state == "failed" {
                Ok(())
            } else {
                Err(format!(
                    "file {file_id} is being scanned by another process"
                ))
            };
        }
        let result = self.scan_claimed(file).await;
        if result.is_err() {
            // Give the file back at once (a match failure has already done so, with its
            // message), so that the retry does not wait for the lease to run out.
            let now_state = self
                .store
                .get_incident_file(file_id)
                .await
                .map(|f| f.scan_state);
            if now_state.is_ok_and(|s| s == "scanning") {
                self.store
                    .set_incident_file_state(file_id, "queued", None, None)
                    .await
                    .map_err(|e| e.to_string())?;
            }
        }
        result
    }

    /// The scan of a file this process holds the lease of.
    async fn scan_claimed(&self, file: FileRow) -> Result<(), String> {
        let file_id = file.id;
        let set_state = |state: &'static str, p: Option<EvidenceProblem>| {
            let store = self.store.clone();
            async move {
                store
                    .set_incident_file_state(
                        file_id,
                        state,
                        p.as_ref().map(EvidenceProblem::code),
                        p.as_ref().map(EvidenceProblem::params).as_deref(),
                    )
                    .await
                    .map_err(|e| e.to_string())
            }
        };
        // Decrypt into an unnamed temporary file, checking every chunk and the digest first.
        let mut tmp = tempfile::tempfile().map_err(|e| format!("temporary file: {e}"))?;
        let mut reader = self.file_reader(file.clone()).map_err(|e| e.to_string())?;
        match reader.copy_to(&mut tmp).await {
            Ok(_) => {}
            Err(AppError::Invalid(_)) => {
                set_state("failed", Some(EvidenceProblem::Integrity)).await?;
                return Ok(());
            }
            Err(e) => return Err(e.to_string()),
        }
        tmp.seek(SeekFrom::Start(0))
            .map_err(|e| format!("temporary file: {e}"))?;

        let skip = file.rows_found.max(0) as u64;
        let position = Arc::new(AtomicU64::new(0));
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<LeakedRow>>(2);
        let name = file.file_name.clone();
        let size = file.size.max(0) as u64;
        let pos = Arc::clone(&position);
        let scan = tokio::task::spawn_blocking(move || {
            let counted = Counting { inner: tmp, pos };
            let mut batch = Vec::with_capacity(BATCH);
            let mut open = true;
            let mut on_row = |r: LeakedRow| {
                batch.push(r);
                if batch.len() >= BATCH {
                    open = tx.blocking_send(std::mem::take(&mut batch)).is_ok();
                }
                open
            };
            let ex = extract_rows(&name, counted, size, Limits::default(), skip, &mut on_row);
            if open && !batch.is_empty() {
                let _ = tx.blocking_send(batch);
            }
            ex
        });
        let mut progress = ScanProgress {
            bytes_done: 0,
            rows_found: file.rows_found,
            rows_matched: file.rows_matched,
            kind_counts: file.kind_counts.clone(),
        };
        let mut failure = None;
        while let Some(batch) = rx.recv().await {
            let n = batch.len() as i64;
            match self
                .match_leaked(file.incident_id, Some(file_id), batch)
                .await
            {
                Ok(stats) => {
                    progress.rows_found += n;
                    progress.rows_matched += stats.matched as i64;
                    progress.bytes_done = position.load(Ordering::Relaxed) as i64;
                    self.store
                        .set_incident_file_progress(file_id, &progress)
                        .await
                        .map_err(|e| e.to_string())?;
                    self.store
                        .renew_incident_file_scan(file_id, self.clock.now_micros() + SCAN_LEASE)
                        .await
                        .map_err(|e| e.to_string())?;
                }
                Err(e) => {
                    failure = Some(e.to_string());
                    break;
                }
            }
        }
        drop(rx);
        let ex = scan.await.map_err(|e| format!("scan task: {e}"))?;
        if let Some(detail) = failure {
            set_state(
                "queued",
                Some(EvidenceProblem::MatchFailed {
                    detail: detail.clone(),
                }),
            )
            .await?;
            return Err(detail);
        }
        progress.bytes_done = file.size;
        progress.kind_counts = ex.kind_counts_json();
        self.store
            .set_incident_file_progress(file_id, &progress)
            .await
            .map_err(|e| e.to_string())?;
        let state = match &ex.problem {
            Some(EvidenceProblem::Unreadable { .. }) if ex.rows == 0 => "failed",
            _ => "done",
        };
        set_state(state, ex.problem).await?;
        Ok(())
    }
}

/// A reader that tells how far it has read (scan progress in bytes).
struct Counting<R> {
    inner: R,
    pos: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.pos.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

impl<R: Seek> Seek for Counting<R> {
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        let p = self.inner.seek(to)?;
        self.pos.store(p, Ordering::Relaxed);
        Ok(p)
    }
}

/// Test support: seals and opens chunks exactly as the store keeps them.
#[doc(hidden)]
pub mod testing {
    pub fn chunk_aad(file_id: i64, n: i64, last: bool) -> String {
        super::chunk_aad(file_id, n, last)
    }
}
