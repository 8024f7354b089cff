//! The signed scan report ("mamori scan report", version 1): what `mamori scan --report` writes
//! on a laptop or a home PC and the web application imports on its 「データ探索」 page.
//!
//! A UTF-8 file of JSON lines, each ended by `"\n"`:
//!
//! ```text
//! {"format":"mamori-scan-report","version":1,"key":"<key id>","host":"…","roots":["…"],"started_at":"2026-12-07T21:30:00+09:00","finished_at":"…","scanner":"0.1.0","files_scanned":N,"files_clean":M}
//! {"path":"docs/顧客.csv","bytes":1234,"format":"csv","status":"scanned","counts":{"phone":3,"person_name":2}}
//! {"path":"photo.bin","bytes":20,"format":"binary","status":"skipped","reason":"unknown binary","counts":{}}
//! {"signature":"<base64 of the Ed25519 signature over every byte before this line>"}
//! ```
//!
//! One line per file that holds personal data or was not read (skipped or failed); clean files
//! are only counted (`files_clean`), so `files_scanned - files_clean` is the number of file
//! lines. Counts are per kind, keyed by the scanner's kind codes; no value, not even a masked
//! one, is in the report: it crosses the network from a home PC.
//!
//! The key is a scan key issued by the web application (`ScanKeyFile`), one per person. Its id
//! is derived from the public key ([`key_id_of`]: the first 16 bytes of SHA-256 of the public
//! key, lowercase hex), so a report names the key it was signed with and [`verify`] checks that
//! the key it verified with is that key.
//!
//! Nothing here reads a file or a clock: the command line passes the times and the bytes.

use std::collections::BTreeMap;

use data_encoding::BASE64;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub const FORMAT: &str = "mamori-scan-report";
pub const VERSION: u64 = 1;
pub const MAX_REPORT_BYTES: usize = 32 << 20;
pub const MAX_FILES: usize = 1_000_000;
/// The longest path, root, reason or host name accepted, in characters.
pub const MAX_PATH_CHARS: usize = 4096;
/// A count (of files, of findings) above this is not something a scan produced.
const MAX_COUNT: u64 = 1 << 40;
/// A file larger than this (1 PiB) is not something a scan read.
const MAX_BYTES: u64 = 1 << 50;
const MAX_ROOTS: usize = 10_000;
const MAX_SHORT_CHARS: usize = 64;

/// The first line of a scan key file.
pub const KEY_FILE_MAGIC: &str = "mamori-scan-key";

/// The kind codes of the scanner, in its order (one list, in `discovery`).
pub use crate::discovery::KINDS;

/// The id of a scan key: the first 16 bytes of SHA-256 of the public key, 32 lowercase hex
/// digits. The web application issues keys with this id; a key file whose id is another is
/// refused, and so is a report whose header names another key than the one that verifies it.
pub fn key_id_of(key: &VerifyingKey) -> String {
    hex::encode(&Sha256::digest(key.as_bytes())[..16])
}

fn is_key_id(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

// ---------------------------------------------------------------------------------------------
// Errors

/// What is wrong with one line of a report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Defect {
    /// Not UTF-8.
    NotUtf8,
    /// An empty line.
    EmptyLine,
    /// Not the JSON this line must be (the parser's message, in English).
    Json(String),
    /// A kind code the scanner does not have.
    UnknownKind(String),
    /// A count of zero (only kinds found are listed) or an absurd one.
    BadCount(String),
    /// A path (or root) that is empty.
    EmptyPath,
    /// A path (or root) longer than `MAX_PATH_CHARS`.
    PathTooLong,
    /// A field that is empty, too long or not in its form (the field's name).
    BadField(&'static str),
    /// A file line for a clean file (status "scanned" and nothing found).
    CleanFile,
    /// "reason" missing for a skipped or failed file, or present for a scanned one.
    Reason,
    /// More than `MAX_FILES` file lines.
    TooManyFiles,
    /// `files_scanned`/`files_clean` disagree with the file lines.
    CountsDisagree { expected: u64, lines: u64 },
    /// `finished_at` before `started_at`.
    TimesOutOfOrder,
}

impl Defect {
    pub fn ja(&self) -> String {
        match self {
            Defect::NotUtf8 => "UTF-8 ではありません".to_owned(),
            Defect::EmptyLine => "空の行です".to_owned(),
            Defect::Json(e) => format!("JSON として読めません（{e}）"),
            Defect::UnknownKind(k) => format!("不明な種類コード「{k}」があります"),
            Defect::BadCount(k) => format!("「{k}」の件数が 0 か、ありえない値です"),
            Defect::EmptyPath => "パスが空です".to_owned(),
            Defect::PathTooLong => format!("パスが {MAX_PATH_CHARS} 文字を超えています"),
            Defect::BadField(f) => format!("「{f}」が空か、長すぎるか、形式が正しくありません"),
            Defect::CleanFile => {
                "個人データのないファイルの行があります（件数だけを数えるはずです）".to_owned()
            }
            Defect::Reason => "「reason」は読めなかったファイルにだけ、必ず付くはずです".to_owned(),
            Defect::TooManyFiles => format!("ファイルの行が {MAX_FILES} を超えています"),
            Defect::CountsDisagree { expected, lines } => format!(
                "ヘッダーの件数ではファイルの行が {expected} のはずですが、{lines} 行あります"
            ),
            Defect::TimesOutOfOrder => "終了時刻が開始時刻より前です".to_owned(),
        }
    }

    pub fn en(&self) -> String {
        match self {
            Defect::NotUtf8 => "not UTF-8".to_owned(),
            Defect::EmptyLine => "an empty line".to_owned(),
            Defect::Json(e) => format!("not the expected JSON ({e})"),
            Defect::UnknownKind(k) => format!("unknown kind code \"{k}\""),
            Defect::BadCount(k) => format!("the count of \"{k}\" is zero or absurd"),
            Defect::EmptyPath => "an empty path".to_owned(),
            Defect::PathTooLong => format!("a path longer than {MAX_PATH_CHARS} characters"),
            Defect::BadField(f) => format!("\"{f}\" is empty, too long or not in its form"),
            Defect::CleanFile => {
                "a line for a file without personal data (clean files are only counted)".to_owned()
            }
            Defect::Reason => {
                "\"reason\" must be present for a skipped or failed file, and only then".to_owned()
            }
            Defect::TooManyFiles => format!("more than {MAX_FILES} file lines"),
            Defect::CountsDisagree { expected, lines } => format!(
                "the header's counts call for {expected} file lines, the report has {lines}"
            ),
            Defect::TimesOutOfOrder => "finished_at is before started_at".to_owned(),
        }
    }
}

/// What is wrong with a scan key file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyProblem {
    /// The first line is not `mamori-scan-key 1`.
    NotAKeyFile,
    UnsupportedVersion(String),
    MissingKeyId,
    MissingSecret,
    /// A `key:` or `secret:` line given twice.
    Duplicate(&'static str),
    /// The key id is not 32 lowercase hex digits.
    BadKeyId,
    /// The secret is not standard base64.
    BadBase64,
    /// The secret does not decode to 32 bytes (the length it decodes to).
    WrongLength(usize),
    /// The key id is not the id of this secret's public key.
    IdMismatch,
}

impl KeyProblem {
    pub fn ja(&self) -> String {
        match self {
            KeyProblem::NotAKeyFile => format!(
                "自己点検キーのファイルではありません（1 行目が「{KEY_FILE_MAGIC} 1」ではありません）"
            ),
            KeyProblem::UnsupportedVersion(v) => {
                format!("このバージョンの mamori では読めないキーの形式（{v}）です")
            }
            KeyProblem::MissingKeyId => "「key:」の行がありません".to_owned(),
            KeyProblem::MissingSecret => "「secret:」の行がありません".to_owned(),
            KeyProblem::Duplicate(f) => format!("「{f}:」の行が 2 つあります"),
            KeyProblem::BadKeyId => "キー ID が 16 進数 32 桁ではありません".to_owned(),
            KeyProblem::BadBase64 => "秘密鍵が base64 として読めません".to_owned(),
            KeyProblem::WrongLength(n) => {
                format!("秘密鍵の長さが {n} バイトです（32 バイトのはずです）")
            }
            KeyProblem::IdMismatch => "キー ID がこの秘密鍵のものではありません".to_owned(),
        }
    }

    pub fn en(&self) -> String {
        match self {
            KeyProblem::NotAKeyFile => {
                format!("not a scan key file (the first line is not \"{KEY_FILE_MAGIC} 1\")")
            }
            KeyProblem::UnsupportedVersion(v) => {
                format!("a scan key format this version of mamori cannot read ({v})")
            }
            KeyProblem::MissingKeyId => "no \"key:\" line".to_owned(),
            KeyProblem::MissingSecret => "no \"secret:\" line".to_owned(),
            KeyProblem::Duplicate(f) => format!("two \"{f}:\" lines"),
            KeyProblem::BadKeyId => "the key id is not 32 lowercase hex digits".to_owned(),
            KeyProblem::BadBase64 => "the secret is not standard base64".to_owned(),
            KeyProblem::WrongLength(n) => {
                format!("the secret is {n} bytes long (it must be 32)")
            }
            KeyProblem::IdMismatch => "the key id does not belong to this secret".to_owned(),
        }
    }
}

/// Why a report (or a key file) cannot be used. `Display` is the English message.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ReportError {
    #[error("{}", self.en())]
    TooLarge { bytes: usize },
    #[error("{}", self.en())]
    NotAReport,
    #[error("{}", self.en())]
    UnsupportedVersion(u64),
    #[error("{}", self.en())]
    Malformed { line: usize, what: Defect },
    #[error("{}", self.en())]
    Unsigned,
    #[error("{}", self.en())]
    Edited,
    /// The signature verifies with the key, but the header names another key.
    #[error("{}", self.en())]
    KeyMismatch { report: String, key: String },
    #[error("{}", self.en())]
    BadKey(KeyProblem),
}

impl ReportError {
    pub fn ja(&self) -> String {
        match self {
            ReportError::TooLarge { bytes } => format!(
                "点検結果のファイルが大きすぎます（{bytes} バイト、上限 {MAX_REPORT_BYTES} バイト）"
            ),
            ReportError::NotAReport => "mamori の点検結果ファイルではありません（1 行目が点検結果のヘッダーではありません。mamori scan --report で書いたファイルを選んでください）".to_owned(),
            ReportError::UnsupportedVersion(v) => format!(
                "点検結果の形式のバージョン {v} には対応していません（mamori を更新してください）"
            ),
            ReportError::Malformed { line, what } => {
                format!("点検結果の {line} 行目が正しくありません: {}", what.ja())
            }
            ReportError::Unsigned => "点検結果に署名がありません（最後の行が署名ではありません）".to_owned(),
            ReportError::Edited => "署名が一致しません: 点検結果が署名のあとで変更されたか、別のキーで署名されています".to_owned(),
            ReportError::KeyMismatch { report, key } => format!(
                "点検結果はキー {report} のものとされていますが、キー {key} で署名されています"
            ),
            ReportError::BadKey(p) => format!("自己点検キーのファイルが読めません: {}", p.ja()),
        }
    }

    pub fn en(&self) -> String {
        match self {
            ReportError::TooLarge { bytes } => format!(
                "the scan report is too large ({bytes} bytes; at most {MAX_REPORT_BYTES})"
            ),
            ReportError::NotAReport => "not a mamori scan report (the first line is not a scan report header; choose the file written by mamori scan --report)".to_owned(),
            ReportError::UnsupportedVersion(v) => format!(
                "scan report format version {v} is not supported (update mamori)"
            ),
            ReportError::Malformed { line, what } => {
                format!("line {line} of the scan report is malformed: {}", what.en())
            }
            ReportError::Unsigned => "the scan report is not signed (its last line is not a signature)".to_owned(),
            ReportError::Edited => "the signature does not match: the report was changed after it was signed, or signed with another key".to_owned(),
            ReportError::KeyMismatch { report, key } => format!(
                "the report names key {report} but was signed with key {key}"
            ),
            ReportError::BadKey(p) => format!("cannot use the scan key file: {}", p.en()),
        }
    }
}

fn malformed(line: usize, what: Defect) -> ReportError {
    ReportError::Malformed { line, what }
}

// ---------------------------------------------------------------------------------------------
// The key file

/// A scan key file as the web application issues it:
///
/// ```text
/// mamori-scan-key 1
/// key: <key id: 32 lowercase hex>
/// secret: <standard base64 of the 32-byte Ed25519 secret seed>
/// issued-to: …
/// ```
///
/// Other `name: value` lines, `#` comments and blank lines are ignored; CRLF and a BOM are
/// tolerated.
#[derive(Clone)]
pub struct ScanKeyFile {
    pub key_id: String,
    pub signing: SigningKey,
}

impl std::fmt::Debug for ScanKeyFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScanKeyFile")
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

impl ScanKeyFile {
    pub fn parse(text: &str) -> Result<Self, ReportError> {
        let bad = |p| Err(ReportError::BadKey(p));
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut lines = text
            .split('\n')
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'));
        match lines
            .next()
            .map(|l| l.split_whitespace().collect::<Vec<_>>())
        {
            Some(w) if w.len() == 2 && w[0] == KEY_FILE_MAGIC => {
                if w[1] != "1" {
                    return bad(KeyProblem::UnsupportedVersion(
                        w[1].chars().take(16).collect(),
                    ));
                }
            }
            _ => return bad(KeyProblem::NotAKeyFile),
        }
        let (mut key_id, mut secret) = (None, None);
        for line in lines {
            let Some((name, value)) = line.split_once(':') else {
                continue;
            };
            let (slot, field) = match name.trim() {
                "key" => (&mut key_id, "key"),
                "secret" => (&mut secret, "secret"),
                _ => continue,
            };
            if slot.replace(value.trim()).is_some() {
                return bad(KeyProblem::Duplicate(field));
            }
        }
        let Some(key_id) = key_id else {
            return bad(KeyProblem::MissingKeyId);
        };
        let Some(secret) = secret else {
            return bad(KeyProblem::MissingSecret);
        };
        if !is_key_id(key_id) {
            return bad(KeyProblem::BadKeyId);
        }
        let Ok(seed) = BASE64.decode(secret.as_bytes()) else {
            return bad(KeyProblem::BadBase64);
        };
        let Ok(seed) = <[u8; 32]>::try_from(seed.as_slice()) else {
            return bad(KeyProblem::WrongLength(seed.len()));
        };
        let signing = SigningKey::from_bytes(&seed);
        if key_id_of(&signing.verifying_key()) != key_id {
            return bad(KeyProblem::IdMismatch);
        }
        Ok(ScanKeyFile {
            key_id: key_id.to_owned(),
            signing,
        })
    }

    /// The key file's text. `issued_to` (a person's name or login, for the reader) is written on
    /// one line; line breaks and other control characters in it become spaces.
    pub fn render(key_id: &str, signing: &SigningKey, issued_to: &str) -> String {
        let issued_to: String = issued_to
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        format!(
            "{KEY_FILE_MAGIC} {VERSION}\nkey: {key_id}\nsecret: {}\nissued-to: {}\n",
            BASE64.encode(signing.as_bytes()),
            issued_to.trim()
        )
    }
}

// ---------------------------------------------------------------------------------------------
// The report

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportHeader {
    pub key_id: String,
    pub host: String,
    /// The paths given to `mamori scan`, as given.
    pub roots: Vec<String>,
    /// RFC 3339 with the offset, e.g. `2026-12-07T21:30:00+09:00`.
    pub started_at: String,
    pub finished_at: String,
    /// The version of mamori that scanned.
    pub scanner: String,
    /// Every file the scan looked at (archive members included), clean or not.
    pub files_scanned: u64,
    /// Files read in full with nothing found: counted only, no line.
    pub files_clean: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReportStatus {
    Scanned,
    Skipped,
    Failed,
}

/// One file line; the JSON keys are the field names, `reason` only when present.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportFile {
    pub path: String,
    pub bytes: u64,
    pub format: String,
    pub status: ReportStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Only non-zero counts, keyed by kind code (`KINDS`).
    pub counts: BTreeMap<String, u64>,
}

/// The header line as written: `format` and `version` first, the key id as `key`.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct HeaderLine {
    format: String,
    version: u64,
    key: String,
    host: String,
    roots: Vec<String>,
    started_at: String,
    finished_at: String,
    scanner: String,
    files_scanned: u64,
    files_clean: u64,
}

/// The signature line: `{"signature":"…"}`, written and read byte for byte.
const SIG_PREFIX: &[u8] = b"{\"signature\":\"";
const SIG_SUFFIX: &[u8] = b"\"}";

/// The report's bytes, signed with `key`. The header's `key_id` is written as given (the
/// command line passes the key file's id, which [`ScanKeyFile::parse`] checked).
pub fn write_signed(header: &ReportHeader, files: &[ReportFile], key: &SigningKey) -> Vec<u8> {
    let line = HeaderLine {
        format: FORMAT.to_owned(),
        version: VERSION,
        key: header.key_id.clone(),
        host: header.host.clone(),
        roots: header.roots.clone(),
        started_at: header.started_at.clone(),
        finished_at: header.finished_at.clone(),
        scanner: header.scanner.clone(),
        files_scanned: header.files_scanned,
        files_clean: header.files_clean,
    };
    let mut out = Vec::with_capacity(256 + files.len() * 128);
    // Serialising plain structs of strings, integers and a string map cannot fail.
    serde_json::to_writer(&mut out, &line).expect("the header serialises");
    out.push(b'\n');
    for f in files {
        serde_json::to_writer(&mut out, f).expect("a file line serialises");
        out.push(b'\n');
    }
    let sig = key.sign(&out);
    out.extend_from_slice(SIG_PREFIX);
    out.extend_from_slice(BASE64.encode(&sig.to_bytes()).as_bytes());
    out.extend_from_slice(SIG_SUFFIX);
    out.push(b'\n');
    out
}

/// The first line, checked to be a version-1 report header as far as format and version.
fn first_line(bytes: &[u8]) -> Result<&[u8], ReportError> {
    if bytes.len() > MAX_REPORT_BYTES {
        return Err(ReportError::TooLarge { bytes: bytes.len() });
    }
    let end = bytes
        .iter()
        .position(|&b| b == b'\n')
        .unwrap_or(bytes.len());
    let line = &bytes[..end];
    // Only an object whose "format" is ours is a report; anything else (the JSONL findings, a
    // PDF, a key file) is not, whatever else it holds.
    let value: serde_json::Value =
        serde_json::from_slice(line).map_err(|_| ReportError::NotAReport)?;
    let obj = value.as_object().ok_or(ReportError::NotAReport)?;
    if obj.get("format").and_then(serde_json::Value::as_str) != Some(FORMAT) {
        return Err(ReportError::NotAReport);
    }
    match obj.get("version").map(serde_json::Value::as_u64) {
        Some(Some(VERSION)) => Ok(line),
        Some(Some(v)) => Err(ReportError::UnsupportedVersion(v)),
        _ => Err(malformed(1, Defect::BadField("version"))),
    }
}

/// Reads the key id from the header without verifying (to look the key up).
pub fn key_id(bytes: &[u8]) -> Result<String, ReportError> {
    let line = first_line(bytes)?;
    let value: serde_json::Value =
        serde_json::from_slice(line).map_err(|_| ReportError::NotAReport)?;
    match value.get("key").and_then(serde_json::Value::as_str) {
        Some(k) if is_key_id(k) => Ok(k.to_owned()),
        _ => Err(malformed(1, Defect::BadField("key"))),
    }
}

/// Verifies the signature with the key, then parses and checks every line.
pub fn verify(
    bytes: &[u8],
    key: &VerifyingKey,
) -> Result<(ReportHeader, Vec<ReportFile>), ReportError> {
    verify_within(bytes, key, MAX_FILES)
}

/// [`verify`] with another limit on the file lines (the byte limit comes first in practice: a
/// file line takes at least 70 bytes, so 32 MiB hold fewer than `MAX_FILES`).
fn verify_within(
    bytes: &[u8],
    key: &VerifyingKey,
    max_files: usize,
) -> Result<(ReportHeader, Vec<ReportFile>), ReportError> {
    first_line(bytes)?;
    // The signature line: the last line, after the last "\n" but the final one.
    let body = bytes.strip_suffix(b"\n").ok_or(ReportError::Unsigned)?;
    let start = body
        .iter()
        .rposition(|&b| b == b'\n')
        .ok_or(ReportError::Unsigned)?
        + 1;
    let (signed, sig_line) = body.split_at(start);
    let encoded = sig_line
        .strip_prefix(SIG_PREFIX)
        .and_then(|s| s.strip_suffix(SIG_SUFFIX))
        .ok_or(ReportError::Unsigned)?;
    let sig = BASE64
        .decode(encoded)
        .ok()
        .and_then(|b| Signature::from_slice(&b).ok())
        .ok_or(ReportError::Edited)?;
    key.verify_strict(signed, &sig)
        .map_err(|_| ReportError::Edited)?;

    // Signed by this key: now every line must be as mamori writes it.
    let signed = signed.strip_suffix(b"\n").unwrap_or(signed);
    let mut lines = signed.split(|&b| b == b'\n');
    let head = lines.next().unwrap_or_default();
    let header = parse_header(head)?;
    let expected = key_id_of(key);
    if header.key_id != expected {
        return Err(ReportError::KeyMismatch {
            report: header.key_id,
            key: expected,
        });
    }
    let mut files: Vec<ReportFile> = Vec::new();
    let mut paths = std::collections::HashSet::new();
    for (i, line) in lines.enumerate() {
        let n = i + 2;
        if files.len() >= max_files {
            return Err(malformed(n, Defect::TooManyFiles));
        }
        let f = parse_file(line).map_err(|d| malformed(n, d))?;
        // One line per file: a path twice would count its findings twice.
        if !paths.insert(f.path.clone()) {
            return Err(malformed(n, Defect::BadField("path")));
        }
        files.push(f);
    }
    let expected_lines = header.files_scanned - header.files_clean;
    if expected_lines != files.len() as u64 {
        return Err(malformed(
            1,
            Defect::CountsDisagree {
                expected: expected_lines,
                lines: files.len() as u64,
            },
        ));
    }
    Ok((header, files))
}

fn text_line(line: &[u8]) -> Result<&str, Defect> {
    if line.is_empty() {
        return Err(Defect::EmptyLine);
    }
    std::str::from_utf8(line).map_err(|_| Defect::NotUtf8)
}

fn check_path(p: &str) -> Result<(), Defect> {
    if p.is_empty() {
        Err(Defect::EmptyPath)
    } else if p.contains('\0') {
        Err(Defect::BadField("path"))
    } else if p.chars().count() > MAX_PATH_CHARS {
        Err(Defect::PathTooLong)
    } else {
        Ok(())
    }
}

fn check_text(s: &str, field: &'static str, max: usize) -> Result<(), Defect> {
    if s.trim().is_empty() || s.chars().count() > max || s.chars().any(char::is_control) {
        Err(Defect::BadField(field))
    } else {
        Ok(())
    }
}

fn parse_header(line: &[u8]) -> Result<ReportHeader, ReportError> {
    let m = |d| malformed(1, d);
    let text = text_line(line).map_err(m)?;
    let h: HeaderLine = serde_json::from_str(text).map_err(|e| m(Defect::Json(e.to_string())))?;
    if !is_key_id(&h.key) {
        return Err(m(Defect::BadField("key")));
    }
    check_text(&h.host, "host", MAX_PATH_CHARS).map_err(m)?;
    check_text(&h.scanner, "scanner", MAX_SHORT_CHARS).map_err(m)?;
    if h.roots.is_empty() || h.roots.len() > MAX_ROOTS {
        return Err(m(Defect::BadField("roots")));
    }
    for r in &h.roots {
        check_path(r).map_err(m)?;
    }
    let time = |s: &str, field| {
        chrono::DateTime::parse_from_rfc3339(s).map_err(|_| m(Defect::BadField(field)))
    };
    let started = time(&h.started_at, "started_at")?;
    let finished = time(&h.finished_at, "finished_at")?;
    if finished < started {
        return Err(m(Defect::TimesOutOfOrder));
    }
    if h.files_scanned > MAX_COUNT {
        return Err(m(Defect::BadField("files_scanned")));
    }
    if h.files_clean > h.files_scanned {
        return Err(m(Defect::BadField("files_clean")));
    }
    Ok(ReportHeader {
        key_id: h.key,
        host: h.host,
        roots: h.roots,
        started_at: h.started_at,
        finished_at: h.finished_at,
        scanner: h.scanner,
        files_scanned: h.files_scanned,
        files_clean: h.files_clean,
    })
}

fn parse_file(line: &[u8]) -> Result<ReportFile, Defect> {
    let text = text_line(line)?;
    let f: ReportFile = serde_json::from_str(text).map_err(|e| Defect::Json(e.to_string()))?;
    check_path(&f.path)?;
    if f.bytes > MAX_BYTES {
        return Err(Defect::BadField("bytes"));
    }
    check_text(&f.format, "format", MAX_SHORT_CHARS)?;
    match (&f.status, &f.reason) {
        (ReportStatus::Scanned, None) => {}
        (ReportStatus::Skipped | ReportStatus::Failed, Some(r)) => {
            check_text(r, "reason", MAX_PATH_CHARS)?;
        }
        _ => return Err(Defect::Reason),
    }
    for (kind, &n) in &f.counts {
        if !KINDS.contains(&kind.as_str()) {
            return Err(Defect::UnknownKind(kind.chars().take(64).collect()));
        }
        if n == 0 || n > MAX_COUNT {
            return Err(Defect::BadCount(kind.clone()));
        }
    }
    if f.status == ReportStatus::Scanned && f.counts.is_empty() {
        return Err(Defect::CleanFile);
    }
    Ok(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> SigningKey {
        SigningKey::from_bytes(&[7u8; 32])
    }

    fn header(k: &SigningKey) -> ReportHeader {
        ReportHeader {
            key_id: key_id_of(&k.verifying_key()),
            host: "yamada-pc".to_owned(),
            roots: vec!["/home/yamada/Documents".to_owned(), "D:\\共有".to_owned()],
            started_at: "2026-12-07T21:30:00+09:00".to_owned(),
            finished_at: "2026-12-07T21:31:05+09:00".to_owned(),
            scanner: "0.1.0".to_owned(),
            files_scanned: 10,
            files_clean: 7,
        }
    }

    fn files() -> Vec<ReportFile> {
        vec![
            ReportFile {
                path: "docs/顧客.csv".to_owned(),
                bytes: 1234,
                format: "csv".to_owned(),
                status: ReportStatus::Scanned,
                reason: None,
                counts: BTreeMap::from([("phone".to_owned(), 3), ("person_name".to_owned(), 2)]),
            },
            ReportFile {
                path: "a.zip!名簿.xlsx".to_owned(),
                bytes: 9000,
                format: "xlsx".to_owned(),
                status: ReportStatus::Scanned,
                reason: None,
                counts: BTreeMap::from([("email".to_owned(), 1)]),
            },
            ReportFile {
                path: "scan \"1\".png".to_owned(),
                bytes: 20,
                format: "image".to_owned(),
                status: ReportStatus::Skipped,
                reason: Some("not read: image only (OCR not installed)".to_owned()),
                counts: BTreeMap::new(),
            },
        ]
    }

    fn report() -> Vec<u8> {
        let k = key();
        write_signed(&header(&k), &files(), &k)
    }

    /// Re-signs `text` (everything before the signature line) with the test key, so a test can
    /// reach the checks after the signature.
    fn signed(text: &str) -> Vec<u8> {
        let k = key();
        let mut out = text.as_bytes().to_vec();
        let sig = k.sign(&out);
        out.extend_from_slice(SIG_PREFIX);
        out.extend_from_slice(BASE64.encode(&sig.to_bytes()).as_bytes());
        out.extend_from_slice(SIG_SUFFIX);
        out.push(b'\n');
        out
    }

    fn body_of(r: &[u8]) -> String {
        let s = std::str::from_utf8(r).unwrap();
        let cut = s[..s.len() - 1].rfind('\n').unwrap() + 1;
        s[..cut].to_owned()
    }

    fn vk() -> VerifyingKey {
        key().verifying_key()
    }

    #[test]
    fn round_trip() {
        let r = report();
        let text = std::str::from_utf8(&r).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 5);
        assert!(text.ends_with("\"}\n"));
        let id = key_id_of(&vk());
        assert_eq!(id.len(), 32);
        assert_eq!(
            lines[0],
            format!(
                "{{\"format\":\"mamori-scan-report\",\"version\":1,\"key\":\"{id}\",\"host\":\"yamada-pc\",\"roots\":[\"/home/yamada/Documents\",\"D:\\\\共有\"],\"started_at\":\"2026-12-07T21:30:00+09:00\",\"finished_at\":\"2026-12-07T21:31:05+09:00\",\"scanner\":\"0.1.0\",\"files_scanned\":10,\"files_clean\":7}}"
            )
        );
        assert_eq!(
            lines[1],
            r#"{"path":"docs/顧客.csv","bytes":1234,"format":"csv","status":"scanned","counts":{"person_name":2,"phone":3}}"#
        );
        assert_eq!(
            lines[3],
            r#"{"path":"scan \"1\".png","bytes":20,"format":"image","status":"skipped","reason":"not read: image only (OCR not installed)","counts":{}}"#
        );
        assert!(lines[4].starts_with("{\"signature\":\""));
        assert_eq!(key_id(&r).unwrap(), id);
        let (h, f) = verify(&r, &vk()).unwrap();
        assert_eq!(h, header(&key()));
        assert_eq!(f, files());
        // No file lines at all: everything clean.
        let mut h0 = header(&key());
        h0.files_clean = h0.files_scanned;
        let r0 = write_signed(&h0, &[], &key());
        assert_eq!(verify(&r0, &vk()).unwrap(), (h0, vec![]));
    }

    #[test]
    fn a_changed_file_line_is_edited() {
        let r = report();
        let text = String::from_utf8(r.clone()).unwrap();
        let flipped = text.replacen("\"phone\":3", "\"phone\":2", 1).into_bytes();
        assert_eq!(verify(&flipped, &vk()), Err(ReportError::Edited));
        // A single flipped byte in the second line.
        let at = text.find("1234").unwrap();
        let mut b = r.clone();
        b[at] ^= 0x01;
        assert_eq!(verify(&b, &vk()), Err(ReportError::Edited));
        // A removed file line.
        let lines: Vec<&str> = text.split_inclusive('\n').collect();
        let removed: String = [lines[0], lines[1], lines[3], lines[4]].concat();
        assert_eq!(verify(removed.as_bytes(), &vk()), Err(ReportError::Edited));
        // Lines swapped.
        let swapped: String = [lines[0], lines[2], lines[1], lines[3], lines[4]].concat();
        assert_eq!(verify(swapped.as_bytes(), &vk()), Err(ReportError::Edited));
        // Converted to CRLF.
        let crlf = text.replace('\n', "\r\n");
        assert!(verify(crlf.as_bytes(), &vk()).is_err());
        // Another key.
        let other = SigningKey::from_bytes(&[9u8; 32]).verifying_key();
        assert_eq!(verify(&r, &other), Err(ReportError::Edited));
    }

    #[test]
    fn each_error() {
        let k = key();
        // Too large.
        let big = vec![b' '; MAX_REPORT_BYTES + 1];
        assert_eq!(
            verify(&big, &vk()),
            Err(ReportError::TooLarge {
                bytes: MAX_REPORT_BYTES + 1
            })
        );
        assert!(matches!(key_id(&big), Err(ReportError::TooLarge { .. })));
        // Not a report: the JSONL findings, a PDF, an empty file, a key file.
        let findings = b"{\"path\":\"a.csv\",\"line\":1,\"column\":1,\"kind\":\"phone\",\"masked\":\"***-****-5678\",\"encoding\":\"UTF-8\"}\n";
        assert_eq!(verify(findings, &vk()), Err(ReportError::NotAReport));
        assert_eq!(key_id(findings), Err(ReportError::NotAReport));
        assert_eq!(
            verify(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", &vk()),
            Err(ReportError::NotAReport)
        );
        assert_eq!(verify(b"", &vk()), Err(ReportError::NotAReport));
        let key_file = ScanKeyFile::render(&key_id_of(&vk()), &k, "山田");
        assert_eq!(
            verify(key_file.as_bytes(), &vk()),
            Err(ReportError::NotAReport)
        );
        // Unsupported version.
        let text = String::from_utf8(report()).unwrap();
        let v2 = text.replacen("\"version\":1", "\"version\":2", 1);
        assert_eq!(
            verify(v2.as_bytes(), &vk()),
            Err(ReportError::UnsupportedVersion(2))
        );
        assert_eq!(
            key_id(v2.as_bytes()),
            Err(ReportError::UnsupportedVersion(2))
        );
        // Unsigned: no signature line, no final newline, a signature line with something else.
        let body = body_of(&report());
        assert_eq!(verify(body.as_bytes(), &vk()), Err(ReportError::Unsigned));
        let r = report();
        assert_eq!(verify(&r[..r.len() - 1], &vk()), Err(ReportError::Unsigned));
        let header_only = text.lines().next().unwrap();
        assert_eq!(
            verify(header_only.as_bytes(), &vk()),
            Err(ReportError::Unsigned)
        );
        // Edited: a signature that is not base64 or not 64 bytes.
        let bad_sig = format!("{body}{{\"signature\":\"AAAA\"}}\n");
        assert_eq!(verify(bad_sig.as_bytes(), &vk()), Err(ReportError::Edited));
        // Key mismatch: signed correctly, but the header names another key.
        let other_id = "0123456789abcdef0123456789abcdef";
        let renamed = body.replacen(&key_id_of(&vk()), other_id, 1);
        assert_eq!(
            verify(&signed(&renamed), &vk()),
            Err(ReportError::KeyMismatch {
                report: other_id.to_owned(),
                key: key_id_of(&vk())
            })
        );
        // Malformed lines, each signed so that only the check after the signature fails.
        let cases: Vec<(String, usize, Defect)> = vec![
            (
                body.replacen("\"phone\":3", "\"fax\":3", 1),
                2,
                Defect::UnknownKind("fax".to_owned()),
            ),
            (
                body.replacen("\"phone\":3", "\"phone\":0", 1),
                2,
                Defect::BadCount("phone".to_owned()),
            ),
            (
                body.replacen("\"phone\":3", "\"phone\":1099511627777", 1),
                2,
                Defect::BadCount("phone".to_owned()),
            ),
            (body.replacen("docs/顧客.csv", "", 1), 2, Defect::EmptyPath),
            (
                body.replacen("docs/顧客.csv", &"あ".repeat(MAX_PATH_CHARS + 1), 1),
                2,
                Defect::PathTooLong,
            ),
            (
                body.replacen("\"files_clean\":7", "\"files_clean\":6", 1),
                1,
                Defect::CountsDisagree {
                    expected: 4,
                    lines: 3,
                },
            ),
            (
                body.replacen("\"files_clean\":7", "\"files_clean\":11", 1),
                1,
                Defect::BadField("files_clean"),
            ),
            (
                body.replacen(
                    ",\"reason\":\"not read: image only (OCR not installed)\"",
                    "",
                    1,
                ),
                4,
                Defect::Reason,
            ),
            (
                body.replacen("{\"email\":1}", "{}", 1),
                3,
                Defect::CleanFile,
            ),
            (
                body.replacen("21:31:05", "21:29:05", 1),
                1,
                Defect::TimesOutOfOrder,
            ),
            (
                body.replacen("2026-12-07T21:30:00+09:00", "yesterday", 1),
                1,
                Defect::BadField("started_at"),
            ),
            (
                body.replacen("\"host\":\"yamada-pc\"", "\"host\":\"\"", 1),
                1,
                Defect::BadField("host"),
            ),
        ];
        for (text, line, what) in cases {
            assert_eq!(
                verify(&signed(&text), &vk()),
                Err(ReportError::Malformed { line, what }),
                "{text}"
            );
        }
        // Bad JSON, a value where none belongs, a negative count, an empty line.
        for (text, line) in [
            (body.replacen("\"bytes\":1234", "\"bytes\":-1", 1), 2),
            (body.replacen("\"phone\":3", "\"phone\":-3", 1), 2),
            (
                body.replacen(
                    "\"status\":\"scanned\"",
                    "\"status\":\"scanned\",\"value\":\"090-1234-5678\"",
                    1,
                ),
                2,
            ),
            (
                body.replacen("\"status\":\"scanned\"", "\"status\":\"clean\"", 1),
                2,
            ),
            (body.replacen("\"scanner\"", "\"scanner\":1,\"x\"", 1), 1),
            (
                body.replacen("\n{\"path\":\"a.zip", "\n\n{\"path\":\"a.zip", 1),
                3,
            ),
        ] {
            assert!(
                matches!(verify(&signed(&text), &vk()), Err(ReportError::Malformed { line: l, .. }) if l == line),
                "{text}: {:?}",
                verify(&signed(&text), &vk())
            );
        }
        // Not UTF-8 in a file line.
        let mut raw = body.clone().into_bytes();
        let at = body.find("顧客").unwrap();
        raw[at] = 0xff;
        let k2 = key();
        let mut r2 = raw.clone();
        let sig = k2.sign(&raw);
        r2.extend_from_slice(SIG_PREFIX);
        r2.extend_from_slice(BASE64.encode(&sig.to_bytes()).as_bytes());
        r2.extend_from_slice(b"\"}\n");
        assert_eq!(
            verify(&r2, &vk()),
            Err(ReportError::Malformed {
                line: 2,
                what: Defect::NotUtf8
            })
        );
        // Too many file lines: checked before the lines are all parsed.
        let mut many = header(&k);
        many.files_scanned = 20;
        many.files_clean = 0;
        let lots: Vec<ReportFile> = (0..20)
            .map(|i| ReportFile {
                path: format!("f{i}.csv"),
                ..files()[1].clone()
            })
            .collect();
        let r = write_signed(&many, &lots, &k);
        assert!(verify(&r, &vk()).is_ok());
        // One path twice: refused at the second line that names it.
        let twice = vec![files()[1].clone(); 2];
        let mut two = header(&k);
        two.files_scanned = 2;
        two.files_clean = 0;
        let r2 = write_signed(&two, &twice, &k);
        assert_eq!(
            verify(&r2, &vk()),
            Err(ReportError::Malformed {
                line: 3,
                what: Defect::BadField("path")
            })
        );
        assert_eq!(
            verify_within(&r, &vk(), 10),
            Err(ReportError::Malformed {
                line: 12,
                what: Defect::TooManyFiles
            })
        );
        // Every error has both messages.
        for e in [
            ReportError::NotAReport,
            ReportError::Unsigned,
            ReportError::Edited,
            ReportError::UnsupportedVersion(3),
            ReportError::BadKey(KeyProblem::BadBase64),
        ] {
            assert!(!e.ja().is_empty() && !e.en().is_empty());
            assert_eq!(e.to_string(), e.en());
        }
        assert!(ReportError::Edited
            .en()
            .contains("changed after it was signed"));
        assert!(ReportError::Edited.ja().contains("署名"));
    }

    /// A tiny xorshift generator: the domain has no random-number crate.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    #[test]
    fn no_change_of_a_report_verifies_and_nothing_panics() {
        let r = report();
        let vk = vk();
        // Every single-byte change.
        for i in 0..r.len() {
            for x in [0x01u8, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80, 0xff] {
                let mut b = r.clone();
                b[i] ^= x;
                assert!(verify(&b, &vk).is_err(), "byte {i} xor {x:#x} verified");
                let _ = key_id(&b);
            }
            for c in [b'\n', b'"', b'{', b'}', b' ', b'0', b'\\', b'\r', 0] {
                if r[i] != c {
                    let mut b = r.clone();
                    b[i] = c;
                    assert!(verify(&b, &vk).is_err(), "byte {i} = {c} verified");
                }
            }
            // Removed and inserted bytes.
            let mut b = r.clone();
            b.remove(i);
            assert!(verify(&b, &vk).is_err(), "byte {i} removed verified");
            let mut b = r.clone();
            b.insert(i, b'\n');
            assert!(verify(&b, &vk).is_err(), "newline inserted at {i} verified");
        }
        // Every truncation.
        for n in 0..r.len() {
            assert!(verify(&r[..n], &vk).is_err(), "truncated to {n} verified");
            let _ = key_id(&r[..n]);
        }
        // Appended bytes.
        let mut b = r.clone();
        b.extend_from_slice(b"{\"signature\":\"\"}\n");
        assert!(verify(&b, &vk).is_err());
        // Random bytes and random mutations.
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for _ in 0..2000 {
            let n = rng.below(400);
            let b: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
            assert!(verify(&b, &vk).is_err());
            let _ = key_id(&b);
            let mut m = r.clone();
            for _ in 0..=rng.below(8) {
                let i = rng.below(m.len());
                m[i] = rng.next() as u8;
            }
            if m != r {
                assert!(verify(&m, &vk).is_err());
            }
        }
        // A report starting like one but with random lines after it.
        let head = String::from_utf8(r.clone()).unwrap();
        let head = head.lines().next().unwrap();
        for _ in 0..500 {
            let mut b = format!("{head}\n").into_bytes();
            for _ in 0..rng.below(300) {
                b.push(match rng.below(6) {
                    0 => b'\n',
                    1 => b'"',
                    2 => b'{',
                    3 => b'}',
                    _ => rng.next() as u8,
                });
            }
            assert!(verify(&b, &vk).is_err());
        }
    }

    #[test]
    fn key_file() {
        let k = key();
        let id = key_id_of(&k.verifying_key());
        let text = ScanKeyFile::render(&id, &k, "山田 太郎\n(経理部)");
        assert!(text.starts_with("mamori-scan-key 1\n"));
        assert!(text.contains("\nissued-to: 山田 太郎 (経理部)\n"), "{text}");
        let parsed = ScanKeyFile::parse(&text).unwrap();
        assert_eq!(parsed.key_id, id);
        assert_eq!(parsed.signing.to_bytes(), k.to_bytes());
        // The secret is not in Debug.
        let dbg = format!("{parsed:?}");
        assert!(!dbg.contains(&BASE64.encode(k.as_bytes())), "{dbg}");
        // BOM, CRLF, comments, blank lines, extra lines, spaces around values.
        let secret = BASE64.encode(k.as_bytes());
        let windows = format!(
            "\u{feff}# issued by mamori\r\n\r\nmamori-scan-key 1\r\n# keep this file private\r\nissued-to: 山田\r\nkey:   {id}  \r\nsecret: {secret}\r\n"
        );
        assert_eq!(ScanKeyFile::parse(&windows).unwrap().key_id, id);
        let bad = |t: &str| match ScanKeyFile::parse(t) {
            Err(ReportError::BadKey(p)) => p,
            other => panic!("{t}: {other:?}"),
        };
        assert_eq!(bad(""), KeyProblem::NotAKeyFile);
        assert_eq!(
            bad("-----BEGIN PRIVATE KEY-----\n"),
            KeyProblem::NotAKeyFile
        );
        assert_eq!(
            bad(&format!("mamori-scan-key 2\nkey: {id}\nsecret: {secret}\n")),
            KeyProblem::UnsupportedVersion("2".to_owned())
        );
        assert_eq!(
            bad(&format!("mamori-scan-key 1\nsecret: {secret}\n")),
            KeyProblem::MissingKeyId
        );
        assert_eq!(
            bad(&format!("mamori-scan-key 1\nkey: {id}\n")),
            KeyProblem::MissingSecret
        );
        assert_eq!(
            bad(&format!(
                "mamori-scan-key 1\nkey: {id}\nkey: {id}\nsecret: {secret}\n"
            )),
            KeyProblem::Duplicate("key")
        );
        assert_eq!(
            bad(&format!(
                "mamori-scan-key 1\nkey: {}\nsecret: {secret}\n",
                id.to_uppercase()
            )),
            KeyProblem::BadKeyId
        );
        assert_eq!(
            bad(&format!(
                "mamori-scan-key 1\nkey: {id}\nsecret: not*base64!\n"
            )),
            KeyProblem::BadBase64
        );
        assert_eq!(
            bad(&format!(
                "mamori-scan-key 1\nkey: {id}\nsecret: {}\n",
                BASE64.encode(&[1u8; 31])
            )),
            KeyProblem::WrongLength(31)
        );
        assert_eq!(
            bad(&format!(
                "mamori-scan-key 1\nkey: {id}\nsecret: {}\n",
                BASE64.encode(&[1u8; 64])
            )),
            KeyProblem::WrongLength(64)
        );
        let other = BASE64.encode(&[9u8; 32]);
        assert_eq!(
            bad(&format!("mamori-scan-key 1\nkey: {id}\nsecret: {other}\n")),
            KeyProblem::IdMismatch
        );
        // Never a panic on arbitrary text.
        let mut rng = Rng(42);
        for _ in 0..2000 {
            let mut t = text.clone().into_bytes();
            let i = rng.below(t.len());
            t[i] = rng.next() as u8;
            let _ = ScanKeyFile::parse(&String::from_utf8_lossy(&t));
        }
        let e = ReportError::BadKey(KeyProblem::WrongLength(31));
        assert!(e.en().contains("31 bytes"), "{}", e.en());
        assert!(e.ja().contains("自己点検キー"), "{}", e.ja());
    }
}
