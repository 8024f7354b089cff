//! Inquiries by mail: an mbox file or a single .eml read into [`InboundMail`] records for the
//! contact desk, or quarantined with the reason they could not be read.
//!
//! # Design
//!
//! - **Splitting.** [`split_mbox`] cuts an mbox file (mboxo or mboxrd) at its `From ` separator
//!   lines: at the start of the file, or after a blank line when the line looks like a
//!   separator (it carries a time such as `12:08:34`, or the next line is a header field), so a
//!   paragraph of an unescaped mboxo body that begins with "From the office…" stays in its
//!   message. `>From ` lines lose one `>` (mboxrd). Data without a `From ` line is one message
//!   (an .eml file). CRLF and LF both work.
//! - **Reading.** [`parse`] reads one message with `mail-parser`. Japanese charsets
//!   (ISO-2022-JP, Shift_JIS/CP932, EUC-JP) decode in bodies and in RFC 2047 encoded words. Old
//!   Japanese mailers often send ISO-2022-JP or Shift_JIS without a charset label, or with the
//!   wrong one, or raw 8-bit bytes in the Subject: when the decoded text holds escape sequences
//!   or replacement characters, the part's bytes are decoded again as UTF-8, ISO-2022-JP, EUC-JP
//!   and Shift_JIS (the first that decodes without an error wins) and
//!   [`InboundMail::charset_problem`] says a person should check the text against the
//!   original. The body is the text/plain part, else the HTML converted to text
//!   ([`html_to_text`], quoted `<blockquote>` text marked with `>`); a message whose only
//!   content is an attached message (a forwarded phishing mail, say) shows that message's text.
//! - **Quarantine, never half-stored.** A message that is not a mail, has no sender, is too
//!   large, has too many MIME parts or attached messages nested too deep, whose body cannot be
//!   decoded or is empty, is returned as a [`Quarantine`] with a [`QuarantineReason`] (a code
//!   with its numbers, serialisable) and words in Japanese ([`Quarantine::ja`]) and English
//!   (`Display`). Limits are in [`Limits`]. Nothing here panics on any input: the third-party
//!   parser is additionally run under `catch_unwind`, a panic there is a quarantine.
//! - **Threads.** [`InboundMail::thread_key`] is the first `References` ID, else the
//!   `In-Reply-To` ID, else the message's own ID, else a hash of the sender and the subject
//!   without its reply prefixes ([`subject_base`]: `Re:`, `RE：`, `Fwd:`, `返信:`, `転送:` …,
//!   full-width forms included).
//! - **What the person newly wrote.** [`strip_quoted`] drops `>`/`＞` lines and everything after
//!   an "On … wrote:", 「…さんは書きました：」, "-----Original Message-----" or
//!   「―――― 元のメッセージ ――――」 line (or an Outlook 差出人/送信日時 block); the full text is kept
//!   in [`InboundMail::body`].
//!
//! Nothing here logs: a mail is personal data.

use std::borrow::Cow;
use std::fmt;
use std::panic::{self, AssertUnwindSafe};

use encoding_rs::{EUC_JP, ISO_2022_JP, SHIFT_JIS};
use mail_parser::decoders::base64::base64_decode;
use mail_parser::decoders::quoted_printable::quoted_printable_decode;
use mail_parser::{
    Encoding, HeaderValue, Message, MessageParser, MessagePart, MimeHeaders, PartType,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::dsn::normalize_message_id;

/// Bounds on what one import reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest message, in bytes, before it is parsed. Default 2 MiB.
    pub max_bytes: usize,
    /// Most MIME parts in a message, containers and attached messages' parts included.
    /// Default 50.
    pub max_parts: usize,
    /// Deepest nesting of attached messages (`message/rfc822` in `message/rfc822` …).
    /// Default 5.
    pub max_depth: usize,
    /// Longest body kept, in characters; the rest is cut with a note. Default 20 000.
    pub max_body_chars: usize,
    /// Most messages read from one file; the rest are reported as one quarantine entry.
    /// Default 10 000.
    pub max_messages: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 2 * 1024 * 1024,
            max_parts: 50,
            max_depth: 5,
            max_body_chars: 20_000,
            max_messages: 10_000,
        }
    }
}

/// Why a message was not read. Serialises as `{"code": "too_large", "bytes": …, "max": …}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum QuarantineReason {
    /// No header fields a mail has: not a mail at all (a stray file, garbage bytes).
    NotAMail,
    /// No `From` (nor `Sender`) with an address or a name.
    NoFrom,
    /// Larger than [`Limits::max_bytes`]; not parsed.
    TooLarge { bytes: usize, max: usize },
    /// More MIME parts than [`Limits::max_parts`].
    TooManyParts { parts: usize, max: usize },
    /// Attached messages nested deeper than [`Limits::max_depth`].
    TooDeep { max: usize },
    /// The body is mostly replacement characters even after trying the Japanese charsets.
    UndecodableBody { charset: String },
    /// No text in the body.
    EmptyBody,
    /// The file holds more messages than [`Limits::max_messages`]; `rest` were not read.
    TooManyMessages { max: usize, rest: usize },
    /// The MIME structure is so broken that the parser gave up.
    Malformed,
}

impl QuarantineReason {
    /// A stable code for storage and figures.
    pub fn code(&self) -> &'static str {
        match self {
            QuarantineReason::NotAMail => "not_a_mail",
            QuarantineReason::NoFrom => "no_from",
            QuarantineReason::TooLarge { .. } => "too_large",
            QuarantineReason::TooManyParts { .. } => "too_many_parts",
            QuarantineReason::TooDeep { .. } => "too_deep",
            QuarantineReason::UndecodableBody { .. } => "undecodable_body",
            QuarantineReason::EmptyBody => "empty_body",
            QuarantineReason::TooManyMessages { .. } => "too_many_messages",
            QuarantineReason::Malformed => "malformed",
        }
    }

    /// The reason in Japanese.
    pub fn ja(&self) -> String {
        match self {
            QuarantineReason::NotAMail => {
                "メールとして読めません（メールのヘッダーがありません）".to_string()
            }
            QuarantineReason::NoFrom => "差出人（From）がありません".to_string(),
            QuarantineReason::TooLarge { bytes, max } => format!(
                "メールが大きすぎます（{}、上限 {}）",
                size(*bytes),
                size(*max)
            ),
            QuarantineReason::TooManyParts { parts, max } => {
                format!("MIME パートが多すぎます（{parts} 個、上限 {max} 個）")
            }
            QuarantineReason::TooDeep { max } => {
                format!("添付されたメールの入れ子が深すぎます（上限 {max} 段）")
            }
            QuarantineReason::UndecodableBody { charset } => {
                format!("本文を文字コード「{charset}」から読み取れません（文字化けしています）")
            }
            QuarantineReason::EmptyBody => "本文が空です".to_string(),
            QuarantineReason::TooManyMessages { max, rest } => format!(
                "1 つのファイルのメールが多すぎます（上限 {max} 通、残りの {rest} 通は取り込んでいません）"
            ),
            QuarantineReason::Malformed => {
                "メールの構造が壊れていて読み取れません".to_string()
            }
        }
    }

    /// The reason in English.
    pub fn en(&self) -> String {
        match self {
            QuarantineReason::NotAMail => "not an e-mail message: it has no mail header fields".to_string(),
            QuarantineReason::NoFrom => "no sender: the From header is missing or empty".to_string(),
            QuarantineReason::TooLarge { bytes, max } => format!(
                "the message is too large: {}, the limit is {}",
                size(*bytes),
                size(*max)
            ),
            QuarantineReason::TooManyParts { parts, max } => {
                format!("too many MIME parts: {parts}, the limit is {max}")
            }
            QuarantineReason::TooDeep { max } => format!(
                "attached messages are nested too deep: the limit is {max} levels"
            ),
            QuarantineReason::UndecodableBody { charset } => format!(
                "the body cannot be decoded from its character set \"{charset}\" (garbled text)"
            ),
            QuarantineReason::EmptyBody => "the body is empty".to_string(),
            QuarantineReason::TooManyMessages { max, rest } => format!(
                "too many messages in one file: the limit is {max}, the remaining {rest} were not imported"
            ),
            QuarantineReason::Malformed => {
                "the message's MIME structure is too broken to read".to_string()
            }
        }
    }
}

/// A byte count for people, in units read the same in Japanese and English.
fn size(bytes: usize) -> String {
    const KIB: usize = 1024;
    const MIB: usize = 1024 * 1024;
    if bytes >= MIB {
        format!("{:.1} MiB", bytes as f64 / MIB as f64)
    } else if bytes >= KIB {
        format!("{:.1} KiB", bytes as f64 / KIB as f64)
    } else {
        format!("{bytes} B")
    }
}

/// A message that was not read, with why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quarantine {
    pub reason: QuarantineReason,
    /// Technical detail for the person who looks at it (ASCII, no personal data), may be empty.
    pub detail: String,
}

impl Quarantine {
    fn new(reason: QuarantineReason, detail: impl Into<String>) -> Self {
        Quarantine {
            reason,
            detail: detail.into(),
        }
    }

    /// The message in Japanese, the detail in brackets.
    pub fn ja(&self) -> String {
        if self.detail.is_empty() {
            self.reason.ja()
        } else {
            format!("{}［{}］", self.reason.ja(), self.detail)
        }
    }

    /// The message in English (the same as `Display`).
    pub fn en(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for Quarantine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason.en())?;
        if !self.detail.is_empty() {
            write!(f, " [{}]", self.detail)?;
        }
        Ok(())
    }
}

impl std::error::Error for Quarantine {}

/// One mail as the desk needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundMail {
    /// `Message-ID` without its angle brackets.
    pub message_id: Option<String>,
    /// `In-Reply-To` IDs, without angle brackets.
    pub in_reply_to: Vec<String>,
    /// `References` IDs in order (oldest first), without angle brackets.
    pub references: Vec<String>,
    /// The sender's address (`From`, else `Sender`), as written.
    pub from_addr: Option<String>,
    /// The sender's display name, decoded.
    pub from_name: Option<String>,
    /// The subject, decoded, on one line; empty if there is none.
    pub subject: String,
    /// `Date` as Unix time in microseconds; `None` if missing or unreadable.
    pub date: Option<i64>,
    /// The text: the text/plain part, else the HTML as text; LF line ends. Cut at
    /// [`Limits::max_body_chars`] with a note in both languages (then `body_cut`).
    pub body: String,
    /// Attachments (files and attached messages; not the body's own parts).
    pub attachments: usize,
    /// The text had to be decoded by guessing (a missing or wrong charset label, raw 8-bit
    /// header bytes) or still holds replacement characters: check it against the original.
    pub charset_problem: bool,
    /// The body was longer than [`Limits::max_body_chars`] and was cut.
    pub body_cut: bool,
}

impl InboundMail {
    /// The key that groups a conversation: the first `References` ID (the thread's first
    /// message), else the first `In-Reply-To` ID, else this message's own ID, else
    /// `h:` and a hash of the sender's address (lower-cased) and [`subject_base`].
    pub fn thread_key(&self) -> String {
        if let Some(id) = self.references.first() {
            return id.clone();
        }
        if let Some(id) = self.in_reply_to.first() {
            return id.clone();
        }
        if let Some(id) = &self.message_id {
            return id.clone();
        }
        let from = self
            .from_addr
            .as_deref()
            .or(self.from_name.as_deref())
            .unwrap_or("")
            .to_lowercase();
        let digest = Sha256::digest(format!("{from}\n{}", subject_base(&self.subject)));
        format!("h:{}", hex::encode(&digest[..16]))
    }

    /// The body without quoted earlier messages (see [`strip_quoted`]).
    pub fn new_text(&self) -> String {
        strip_quoted(&self.body)
    }
}

// ---------------------------------------------------------------------------------------------
// mbox

/// The messages of an mbox file, or the one message of an .eml file.
///
/// A separator is a line starting with `From ` at the start of the data, or after a blank line
/// when it carries a time (`hh:mm`) or the next line is a header field. The separator line and
/// the blank line before the next separator are dropped; `>From `, `>>From ` … lose one `>`
/// (owned bytes only then). Data that does not start with `From ` (blank lines aside) is one
/// message; data of only blanks is none.
#[must_use]
pub fn split_mbox(data: &[u8]) -> Vec<Cow<'_, [u8]>> {
    let skip = data
        .iter()
        .take_while(|&&b| b == b'\r' || b == b'\n')
        .count();
    let data = &data[skip..];
    if data.iter().all(u8::is_ascii_whitespace) {
        return Vec::new();
    }
    if !data.starts_with(b"From ") {
        return vec![Cow::Borrowed(data)];
    }
    // (start of the separator line, start of the message after it)
    let mut seps: Vec<(usize, usize)> = Vec::new();
    let mut pos = 0;
    let mut prev_blank = true;
    while pos < data.len() {
        let end = line_end(data, pos);
        let line = trim_eol(&data[pos..end]);
        if prev_blank
            && line.starts_with(b"From ")
            && (pos == 0 || has_time(line) || is_header_line(next_line(data, end)))
        {
            seps.push((pos, end));
        }
        prev_blank = line.is_empty();
        pos = end;
    }
    let mut out = Vec::with_capacity(seps.len());
    for (i, &(_, start)) in seps.iter().enumerate() {
        let end = seps.get(i + 1).map_or(data.len(), |&(next, _)| next);
        let mut body = &data[start..end];
        // The blank line that precedes the next separator belongs to the mbox, not the message.
        if i + 1 < seps.len() {
            if body.ends_with(b"\r\n\r\n") {
                body = &body[..body.len() - 2];
            } else if body.ends_with(b"\n\n") {
                body = &body[..body.len() - 1];
            }
        }
        out.push(unescape_from(body));
    }
    out
}

/// The index just past the line starting at `pos` (its `\n` included).
fn line_end(data: &[u8], pos: usize) -> usize {
    data[pos..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(data.len(), |i| pos + i + 1)
}

fn next_line(data: &[u8], pos: usize) -> &[u8] {
    if pos >= data.len() {
        return &[];
    }
    trim_eol(&data[pos..line_end(data, pos)])
}

fn trim_eol(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// A time `hh:mm` somewhere in the line, as every mbox writer puts in its postmark.
fn has_time(line: &[u8]) -> bool {
    line.windows(5).any(|w| {
        w[0].is_ascii_digit()
            && w[1].is_ascii_digit()
            && w[2] == b':'
            && w[3].is_ascii_digit()
            && w[4].is_ascii_digit()
    })
}

/// `Name: value` with an RFC 5322 field name.
fn is_header_line(line: &[u8]) -> bool {
    match line.iter().position(|&b| b == b':') {
        Some(0) | None => false,
        Some(colon) => line[..colon]
            .iter()
            .all(|&b| (33..=126).contains(&b) && b != b':'),
    }
}

/// mboxrd: a line `>From `, `>>From ` … loses one `>`.
fn unescape_from(body: &[u8]) -> Cow<'_, [u8]> {
    let escaped = |line: &[u8]| {
        let n = line.iter().take_while(|&&b| b == b'>').count();
        n > 0 && line[n..].starts_with(b"From ")
    };
    if !body.split(|&b| b == b'\n').any(escaped) {
        return Cow::Borrowed(body);
    }
    let mut out = Vec::with_capacity(body.len());
    for (i, line) in body.split(|&b| b == b'\n').enumerate() {
        if i > 0 {
            out.push(b'\n');
        }
        if escaped(line) {
            out.extend_from_slice(&line[1..]);
        } else {
            out.extend_from_slice(line);
        }
    }
    Cow::Owned(out)
}

// ---------------------------------------------------------------------------------------------
// Import

/// Reads every message of an mbox file (or one .eml): the mails in file order, and the
/// quarantined ones with their index in the file (0-based). Messages past
/// [`Limits::max_messages`] are not read; they are one quarantine entry at index
/// `max_messages`.
#[must_use]
pub fn import_all(bytes: &[u8], limits: &Limits) -> (Vec<InboundMail>, Vec<(usize, Quarantine)>) {
    let messages = split_mbox(bytes);
    let mut mails = Vec::new();
    let mut quarantined = Vec::new();
    for (index, raw) in messages.iter().enumerate().take(limits.max_messages) {
        match parse(raw, limits) {
            Ok(mail) => mails.push(mail),
            Err(q) => quarantined.push((index, q)),
        }
    }
    if messages.len() > limits.max_messages {
        let rest = messages.len() - limits.max_messages;
        quarantined.push((
            limits.max_messages,
            Quarantine::new(
                QuarantineReason::TooManyMessages {
                    max: limits.max_messages,
                    rest,
                },
                format!("{} messages in the file", messages.len()),
            ),
        ));
    }
    (mails, quarantined)
}

// ---------------------------------------------------------------------------------------------
// One message

/// Reads one message (RFC 5322, MIME) into an [`InboundMail`], or says why not.
pub fn parse(raw: &[u8], limits: &Limits) -> Result<InboundMail, Quarantine> {
    if raw.len() > limits.max_bytes {
        return Err(Quarantine::new(
            QuarantineReason::TooLarge {
                bytes: raw.len(),
                max: limits.max_bytes,
            },
            format!("{} bytes", raw.len()),
        ));
    }
    match panic::catch_unwind(AssertUnwindSafe(|| read(raw, limits))) {
        Ok(result) => result,
        Err(_) => Err(Quarantine::new(
            QuarantineReason::Malformed,
            "the MIME parser stopped on this message",
        )),
    }
}

/// Header fields of which at least one makes data a mail.
const MAIL_FIELDS: &[&str] = &[
    "from",
    "sender",
    "to",
    "cc",
    "subject",
    "date",
    "message-id",
    "received",
    "return-path",
    "mime-version",
    "content-type",
    "reply-to",
    "in-reply-to",
    "references",
    "delivered-to",
];

fn read(raw: &[u8], limits: &Limits) -> Result<InboundMail, Quarantine> {
    let not_a_mail = || Quarantine::new(QuarantineReason::NotAMail, "");
    let message = MessageParser::default().parse(raw).ok_or_else(not_a_mail)?;
    let root = message.parts.first().ok_or_else(not_a_mail)?;
    if !root
        .headers
        .iter()
        .any(|h| MAIL_FIELDS.iter().any(|f| h.name().eq_ignore_ascii_case(f)))
    {
        return Err(not_a_mail());
    }

    let parts = count_parts(&message, limits.max_depth)?;
    if parts > limits.max_parts {
        return Err(Quarantine::new(
            QuarantineReason::TooManyParts {
                parts,
                max: limits.max_parts,
            },
            "",
        ));
    }

    let mut charset_problem = false;
    let (from_addr, from_name) = sender(&message, &mut charset_problem);
    if from_addr.is_none() && from_name.is_none() {
        return Err(Quarantine::new(QuarantineReason::NoFrom, ""));
    }
    let subject = subject(&message, &mut charset_problem);
    let date = message
        .date()
        .filter(|d| d.is_valid())
        .and_then(|d| d.to_timestamp().checked_mul(1_000_000));
    let message_id = message
        .message_id()
        .map(normalize_message_id)
        .filter(|id| !id.is_empty());
    let in_reply_to = id_list(message.in_reply_to());
    let references = id_list(message.references());

    let mut body_parts = body_part_ids(&message);
    let mut body = clean_body(&message_text(&message, &mut charset_problem));
    if body.trim().is_empty() {
        // A text part the parser did not take for the body: a multipart whose boundary never
        // comes, text/enriched, text/x-… — the whole message is that text.
        if let Some(part) = message.parts.first() {
            if let PartType::Text(t) = &part.body {
                body = clean_body(&repair(&message, part, t, &mut charset_problem));
                body_parts.push(0);
            }
        }
    }
    let attachments = message
        .attachments
        .iter()
        .filter(|i| !body_parts.contains(i))
        .count();
    if body.trim().is_empty() {
        // Only an attached message (a forwarded mail): its text is the inquiry.
        body = attached_text(&message, limits.max_depth, &mut charset_problem);
    }
    if body.trim().is_empty() {
        return Err(Quarantine::new(
            QuarantineReason::EmptyBody,
            format!("{attachments} attachment(s)"),
        ));
    }
    if mostly_replacement(&body) {
        let charset = body_charset(&message);
        return Err(Quarantine::new(
            QuarantineReason::UndecodableBody {
                charset: charset.clone(),
            },
            format!("declared charset {charset}"),
        ));
    }
    if body.contains('\u{FFFD}') || subject.contains('\u{FFFD}') {
        charset_problem = true;
    }
    let (body, body_cut) = cap(body, limits.max_body_chars);

    Ok(InboundMail {
        message_id,
        in_reply_to,
        references,
        from_addr,
        from_name,
        subject,
        date,
        body,
        attachments,
        charset_problem,
        body_cut,
    })
}

/// The text of the first attached message that has one, looking into attached messages of
/// attached messages down to `max_depth`, under a note in both languages; empty if none.
fn attached_text(message: &Message<'_>, max_depth: usize, problem: &mut bool) -> String {
    let mut current = message;
    for _ in 0..max_depth {
        let Some(inner) = current.attachments.iter().find_map(|&i| {
            current.parts.get(i).and_then(|p| match &p.body {
                PartType::Message(m) => Some(m),
                _ => None,
            })
        }) else {
            break;
        };
        let text = clean_body(&message_text(inner, problem));
        if !text.trim().is_empty() {
            return format!("［添付されたメール / Attached message］\n{text}");
        }
        current = inner;
    }
    String::new()
}

/// Every MIME part of the message and of its attached messages; an attached message deeper
/// than `max_depth` is a quarantine. Iterative: the nesting is bounded only by the input.
fn count_parts(message: &Message<'_>, max_depth: usize) -> Result<usize, Quarantine> {
    let mut count = 0usize;
    let mut stack: Vec<(&Message<'_>, usize)> = vec![(message, 0)];
    while let Some((m, depth)) = stack.pop() {
        for part in &m.parts {
            count += 1;
            if let PartType::Message(inner) = &part.body {
                if depth + 1 > max_depth {
                    return Err(Quarantine::new(
                        QuarantineReason::TooDeep { max: max_depth },
                        "",
                    ));
                }
                stack.push((inner, depth + 1));
            }
        }
    }
    Ok(count)
}

fn body_part_ids(message: &Message<'_>) -> Vec<usize> {
    let mut ids: Vec<usize> = message
        .text_body
        .iter()
        .chain(message.html_body.iter())
        .copied()
        .collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// The sender's address and name from `From`, else `Sender`.
fn sender(message: &Message<'_>, problem: &mut bool) -> (Option<String>, Option<String>) {
    let Some(addr) = message
        .from()
        .and_then(|a| a.first())
        .or_else(|| message.sender().and_then(|a| a.first()))
    else {
        return (None, None);
    };
    let address = addr
        .address()
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(str::to_string);
    let mut name = addr.name().map(one_line).filter(|n| !n.is_empty());
    if addr.name().is_some_and(needs_repair) {
        let better = reparse_header(message, "From", |m| {
            m.from()
                .and_then(|a| a.first())
                .and_then(|a| a.name().map(one_line))
        });
        match better {
            Some((better, guessed)) => {
                *problem |= guessed;
                name = Some(better).filter(|n| !n.is_empty());
            }
            None => *problem = true,
        }
    }
    (address, name)
}

fn subject(message: &Message<'_>, problem: &mut bool) -> String {
    let decoded = message.subject().unwrap_or_default();
    let subject = one_line(decoded);
    if !needs_repair(decoded) {
        return subject;
    }
    if let Some((better, guessed)) =
        reparse_header(message, "Subject", |m| m.subject().map(one_line))
    {
        *problem |= guessed;
        better
    } else {
        *problem = true;
        subject
    }
}

/// Decoded text that kept ISO-2022-JP escapes or holds replacement characters.
fn needs_repair(text: &str) -> bool {
    text.contains('\u{FFFD}') || text.contains('\u{1b}')
}

/// A header field read again from its raw bytes: encoded words under a charset name
/// mail-parser does not know (`CP932`, `Windows-31J`, `ISO-2022-JP-MS` …) renamed to one it
/// does, raw 8-bit Shift_JIS/EUC-JP or unescaped ISO-2022-JP decoded with a guessed charset.
/// The value and whether a charset had to be guessed; `None` unless the value is clean.
fn reparse_header(
    message: &Message<'_>,
    name: &str,
    get: impl Fn(&Message<'_>) -> Option<String>,
) -> Option<(String, bool)> {
    let header = message
        .parts
        .first()?
        .headers
        .iter()
        .find(|h| h.name().eq_ignore_ascii_case(name))?;
    let raw = message
        .raw_message()
        .get(header.offset_start()..header.offset_end())?;
    let guessed = raw.iter().any(|&b| b >= 0x80 || b == 0x1b);
    let text = guess_decode(raw)?;
    let synthetic = format!("{name}: {}\r\n\r\n", rename_word_charsets(text.trim_end()));
    let parsed = MessageParser::default().parse(synthetic.as_bytes())?;
    get(&parsed)
        .filter(|v| !needs_repair(v))
        .map(|v| (v, guessed))
}

/// The mail-parser name for a Japanese charset label it does not know itself.
fn japanese_alias(label: &str) -> Option<&'static str> {
    let l = label.trim().trim_matches('"').to_ascii_lowercase();
    let l = l.replace('_', "-");
    match l.as_str() {
        "cp932" | "ms932" | "windows-31j" | "windows-932" | "x-sjis" | "sjis" | "ms-kanji"
        | "x-ms-cp932" | "shift-jis-2004" | "shift-jisx0213" => Some("shift_jis"),
        "eucjp" | "eucjp-ms" | "euc-jp-ms" | "x-euc-jp" | "euc-jis-2004" | "euc-jisx0213"
        | "cp51932" => Some("euc-jp"),
        _ if l.starts_with("iso-2022-jp") || l == "cp50220" || l == "cp50221" || l == "cp50222" => {
            Some("iso-2022-jp")
        }
        _ => None,
    }
}

/// `=?CP932?B?…?=` → `=?shift_jis?B?…?=` for every Japanese alias.
fn rename_word_charsets(text: &str) -> Cow<'_, str> {
    if !text.contains("=?") {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(k) = rest.find("=?") {
        out.push_str(&rest[..k + 2]);
        rest = &rest[k + 2..];
        let Some(q) = rest.find('?') else {
            break;
        };
        // RFC 2231 allows a language after "*": =?ISO-2022-JP*ja?B?…?=
        let label = &rest[..q];
        let charset = label.split('*').next().unwrap_or(label);
        match japanese_alias(charset) {
            Some(alias) => out.push_str(alias),
            None => out.push_str(label),
        }
        rest = &rest[q..];
    }
    out.push_str(rest);
    Cow::Owned(out)
}

fn id_list(value: &HeaderValue<'_>) -> Vec<String> {
    let raw: Vec<&str> = match value {
        HeaderValue::Text(t) => vec![t.as_ref()],
        HeaderValue::TextList(list) => list.iter().map(AsRef::as_ref).collect(),
        _ => Vec::new(),
    };
    let mut out: Vec<String> = Vec::new();
    for id in raw {
        let id = normalize_message_id(id);
        if !id.is_empty() && !out.contains(&id) {
            out.push(id);
        }
    }
    out
}

/// The body text of a message: its text parts (HTML ones as text), blank-line separated.
fn message_text(message: &Message<'_>, problem: &mut bool) -> String {
    let ids: &[usize] = if message.text_body.is_empty() {
        &message.html_body
    } else {
        &message.text_body
    };
    let mut pieces: Vec<String> = Vec::new();
    for &i in ids {
        let Some(part) = message.parts.get(i) else {
            continue;
        };
        let piece = match &part.body {
            PartType::Text(t) => repair(message, part, t, problem),
            PartType::Html(h) => html_to_text(&repair(message, part, h, problem)),
            _ => continue,
        };
        if !piece.trim().is_empty() {
            pieces.push(piece);
        }
    }
    pieces.join("\n\n")
}

/// A text part's decoded text, decoded again when it kept ISO-2022-JP escapes or holds
/// replacement characters: first with its label when that is a Japanese alias mail-parser does
/// not know (`CP932`, `Windows-31J` …; not a problem), else with a guessed charset (a problem).
fn repair(message: &Message<'_>, part: &MessagePart<'_>, text: &str, problem: &mut bool) -> String {
    if !needs_repair(text) {
        return text.to_string();
    }
    let bytes = part_bytes(message, part);
    let bytes = bytes.as_deref().unwrap_or(text.as_bytes());
    let label = part
        .content_type()
        .and_then(|ct| ct.attribute("charset"))
        .and_then(japanese_alias)
        .and_then(|alias| encoding_rs::Encoding::for_label(alias.as_bytes()));
    if let Some(encoding) = label {
        if let Some(s) = encoding.decode_without_bom_handling_and_without_replacement(bytes) {
            if !needs_repair(&s) {
                return s.into_owned();
            }
        }
    }
    *problem = true;
    match guess_decode(bytes) {
        Some(better) if count_replacements(&better) <= count_replacements(text) => better,
        _ => text.to_string(),
    }
}

/// The part's content with the transfer encoding undone.
fn part_bytes(message: &Message<'_>, part: &MessagePart<'_>) -> Option<Vec<u8>> {
    let raw = message
        .raw_message()
        .get(part.offset_body..part.offset_end)?;
    match part.encoding {
        Encoding::Base64 => base64_decode(raw),
        Encoding::QuotedPrintable => quoted_printable_decode(raw),
        Encoding::None => Some(raw.to_vec()),
    }
}

/// The bytes decoded with a guessed charset: ISO-2022-JP when they hold its escapes; UTF-8
/// when valid, or when only a few bytes of otherwise good UTF-8 are broken (kept with their
/// replacement characters rather than read as Shift_JIS mojibake); else the first of EUC-JP
/// and Shift_JIS (as CP932) that decodes without an error.
fn guess_decode(bytes: &[u8]) -> Option<String> {
    let escapes: [&[u8]; 4] = [b"\x1b$B", b"\x1b$@", b"\x1b(J", b"\x1b(I"];
    if escapes
        .iter()
        .any(|e| bytes.windows(e.len()).any(|w| w == *e))
    {
        if let Some(s) = ISO_2022_JP.decode_without_bom_handling_and_without_replacement(bytes) {
            return Some(s.into_owned());
        }
    }
    if let Ok(s) = std::str::from_utf8(bytes) {
        return Some(s.to_string());
    }
    let lossy = String::from_utf8_lossy(bytes);
    let bad = count_replacements(&lossy);
    let good = lossy
        .chars()
        .filter(|&c| !c.is_ascii() && c != '\u{FFFD}')
        .count();
    if good >= 3 && bad * 10 <= good {
        return Some(lossy.into_owned());
    }
    for encoding in [EUC_JP, SHIFT_JIS] {
        if let Some(s) = encoding.decode_without_bom_handling_and_without_replacement(bytes) {
            return Some(s.into_owned());
        }
    }
    None
}

fn count_replacements(s: &str) -> usize {
    s.chars().filter(|&c| c == '\u{FFFD}').count()
}

/// More than a third of the visible characters are replacement characters.
fn mostly_replacement(text: &str) -> bool {
    let (mut bad, mut visible) = (0usize, 0usize);
    for c in text.chars().filter(|c| !c.is_whitespace()) {
        visible += 1;
        if c == '\u{FFFD}' {
            bad += 1;
        }
    }
    bad > 0 && bad * 3 > visible
}

/// The charset label of the first body part, for a quarantine.
fn body_charset(message: &Message<'_>) -> String {
    message
        .text_body
        .iter()
        .chain(message.html_body.iter())
        .filter_map(|&i| message.parts.get(i))
        .find_map(|p| {
            p.content_type()
                .and_then(|ct| ct.attribute("charset"))
                .map(|c| c.chars().filter(char::is_ascii_graphic).take(40).collect())
        })
        .unwrap_or_else(|| "(none)".to_string())
}

/// A header value on one line: control characters and line breaks as spaces, runs of ASCII
/// blanks as one, trimmed.
fn one_line(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut space = false;
    for c in s.chars() {
        if c.is_ascii_whitespace() || c.is_control() {
            space = true;
            continue;
        }
        if space && !out.is_empty() {
            out.push(' ');
        }
        space = false;
        out.push(c);
    }
    out.trim().to_string()
}

/// LF line ends, no control characters but tabs, no trailing blanks on lines, no blank lines
/// at either end.
fn clean_body(s: &str) -> String {
    let s = s.replace("\r\n", "\n").replace('\r', "\n");
    let mut out = String::with_capacity(s.len());
    for line in s.split('\n') {
        let line: String = line
            .chars()
            .filter(|&c| c == '\t' || !(c.is_control() || c == '\u{FEFF}'))
            .collect();
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out.trim_matches('\n').to_string()
}

/// The body cut to `max` characters with a note in both languages.
fn cap(body: String, max: usize) -> (String, bool) {
    let Some((at, _)) = body.char_indices().nth(max) else {
        return (body, false);
    };
    let total = body.chars().count();
    let mut cut = body[..at].trim_end().to_string();
    let note = format!(
        "\n\n［本文が長いため、先頭の {max} 文字だけを取り込みました（全 {total} 文字） / \
         The body was cut to its first {max} of {total} characters］"
    );
    cut.push_str(&note);
    (cut, true)
}

// ---------------------------------------------------------------------------------------------
// Threads

/// A subject without its reply and forward prefixes, for grouping: `Re:`, `RE：`, `Re[2]:`,
/// `Fwd:`, `FW:`, `AW:`, `WG:`, `返信:`, `転送:` (repeated, any case, full-width letters and
/// colons too), full-width ASCII folded, blanks collapsed, ASCII lower-cased.
#[must_use]
pub fn subject_base(subject: &str) -> String {
    let folded: String = subject.chars().map(fold_width).collect();
    let mut rest = folded.as_str();
    loop {
        let t = rest.trim_start();
        if let Some(after) = strip_reply_prefix(t) {
            rest = after;
        } else {
            rest = t;
            break;
        }
    }
    one_line(rest).to_ascii_lowercase()
}

/// Full-width ASCII (U+FF01–FF5E) as ASCII, the ideographic space as a space.
fn fold_width(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        '\u{3000}' => ' ',
        _ => c,
    }
}

fn strip_reply_prefix(t: &str) -> Option<&str> {
    const PREFIXES: &[&str] = &["fwd", "fw", "re", "aw", "wg", "返信", "転送"];
    for p in PREFIXES {
        let Some(head) = t.get(..p.len()) else {
            continue;
        };
        if !head.eq_ignore_ascii_case(p) {
            continue;
        }
        let mut rest = &t[p.len()..];
        // A counter: Re[2]:, Re(2):, Re^2:
        for (open, close) in [('[', Some(']')), ('(', Some(')')), ('^', None)] {
            if let Some(r) = rest.strip_prefix(open) {
                let digits = r.chars().take_while(char::is_ascii_digit).count();
                if digits > 0 {
                    let r = &r[digits..];
                    match close {
                        Some(c) => {
                            if let Some(r) = r.strip_prefix(c) {
                                rest = r;
                            }
                        }
                        None => rest = r,
                    }
                }
            }
        }
        if let Some(after) = rest.trim_start().strip_prefix(':') {
            return Some(after);
        }
    }
    None
}

// ---------------------------------------------------------------------------------------------
// Quoted text

/// What the person newly wrote: lines quoted with `>` or `＞` dropped, and everything after
/// the start of an unmarked quote of the previous message — "On … wrote:",
/// 「…さんは書きました：」, Gmail's 「2024年1月5日(金) 10:00 山田 <a@example.jp>:」,
/// "-----Original Message-----", 「―――― 元のメッセージ ――――」, an Outlook
/// `差出人:`/`From:` … `送信日時:`/`Sent:` block. An attribution line followed by `>` lines is
/// only dropped, so text written below a quote (bottom posting) stays.
#[must_use]
pub fn strip_quoted(body: &str) -> String {
    let lines: Vec<&str> = body.lines().collect();
    let mut out: Vec<&str> = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        if is_quoted(line) {
            i += 1;
            continue;
        }
        if let Some(span) = attribution(&lines, i) {
            let mut j = i + span;
            while j < lines.len() && lines[j].trim().is_empty() {
                j += 1;
            }
            if j < lines.len() && is_quoted(lines[j]) {
                i = j;
                continue;
            }
            break;
        }
        if is_separator(line) || outlook_block(&lines, i) {
            break;
        }
        out.push(line.trim_end_matches('\r'));
        i += 1;
    }
    let mut text = String::new();
    let mut blank = 0;
    for line in out {
        if line.trim().is_empty() {
            blank += 1;
            if blank > 1 {
                continue;
            }
        } else {
            blank = 0;
        }
        text.push_str(line.trim_end());
        text.push('\n');
    }
    text.trim_matches('\n').to_string()
}

fn trim_blank(s: &str) -> &str {
    s.trim_matches(|c: char| c.is_whitespace())
}

fn is_quoted(line: &str) -> bool {
    let t = line.trim_start_matches([' ', '\t', '\u{3000}']);
    t.starts_with('>') || t.starts_with('＞')
}

/// The number of lines (1 or 2) of an attribution line starting at `i`.
fn attribution(lines: &[&str], i: usize) -> Option<usize> {
    let line = trim_blank(lines[i]);
    if line.is_empty() || line.chars().count() > 300 {
        return None;
    }
    let next = lines.get(i + 1).map_or("", |l| trim_blank(l));
    let wrote = |s: &str| s.ends_with("wrote:") || s.ends_with("wrote：");
    let japanese = |s: &str| {
        ["書きました:", "書きました：", "書きました。", "書きました"]
            .iter()
            .any(|e| s.ends_with(e))
    };
    if wrote(line) || japanese(line) {
        return Some(1);
    }
    // Gmail wraps a long "On …, Name <address>" before "wrote:".
    if line.starts_with("On ") && (wrote(next) || japanese(next)) && next.chars().count() < 200 {
        return Some(2);
    }
    // Gmail in Japanese: 2024年1月5日(金) 10:00 山田 太郎 <yamada@example.jp>:
    let gmail_ja = |s: &str| s.ends_with(">:") || s.ends_with(">：") || s.ends_with("> :");
    if line.starts_with(|c: char| c.is_ascii_digit()) && line.contains('年') && line.contains('月')
    {
        if gmail_ja(line) {
            return Some(1);
        }
        if gmail_ja(next) && next.chars().count() < 200 {
            return Some(2);
        }
    }
    None
}

/// "-----Original Message-----", 「―――― 元のメッセージ ――――」 and the like.
fn is_separator(line: &str) -> bool {
    let t = trim_blank(line);
    let is_dash = |c: char| {
        matches!(
            c,
            '-' | '―' | 'ー' | '─' | '—' | '－' | '‐' | '_' | '=' | ' ' | '\u{3000}'
        )
    };
    let inner = t.trim_matches(is_dash);
    if inner.len() == t.len() {
        return false;
    }
    let lower = inner.to_ascii_lowercase();
    lower == "original message" || inner == "元のメッセージ" || inner == "元メッセージ"
}

fn field_start(line: &str, names: &[&str]) -> bool {
    let t = trim_blank(line).trim_start_matches('*');
    names.iter().any(|n| {
        t.get(..n.len()).is_some_and(|h| h.eq_ignore_ascii_case(n))
            && (t[n.len()..].starts_with(':') || t[n.len()..].starts_with('：'))
    })
}

/// Outlook quotes the previous message under a block of its header fields: `From:`/`差出人:`
/// followed within four lines by `Sent:`/`送信日時:`/`Date:`/`日付:`, perhaps after a line
/// of underscores.
fn outlook_block(lines: &[&str], i: usize) -> bool {
    let mut start = i;
    let t = trim_blank(lines[i]);
    if t.len() >= 10 && t.chars().all(|c| c == '_') {
        start = i + 1;
    }
    let Some(first) = lines.get(start) else {
        return false;
    };
    if !field_start(first, &["From", "差出人", "送信者"]) {
        return false;
    }
    lines
        .iter()
        .skip(start + 1)
        .take(4)
        .any(|l| field_start(l, &["Sent", "Date", "送信日時", "日付", "送信日"]))
}

// ---------------------------------------------------------------------------------------------
// HTML

/// HTML as plain text: tags dropped, `<br>` and block elements as line breaks, paragraphs as
/// blank lines, list items as 「・」, table cells apart, `<script>`/`<style>`/`<title>`
/// dropped, character references decoded, blanks collapsed (not in `<pre>`), and
/// `<blockquote>` text marked with `> ` so [`strip_quoted`] finds it.
#[must_use]
pub fn html_to_text(html: &str) -> String {
    let lower = html.to_ascii_lowercase();
    let b = html.as_bytes();
    let mut w = TextWriter::default();
    let mut i = 0;
    let mut text_start = 0;
    while i < b.len() {
        if b[i] != b'<' {
            i += 1;
            continue;
        }
        w.text(&html[text_start..i]);
        let start = i;
        if lower[start..].starts_with("<!--") {
            i = lower[start + 4..]
                .find("-->")
                .map_or(b.len(), |k| start + 4 + k + 3);
            text_start = i;
            continue;
        }
        let next = b.get(start + 1).copied().unwrap_or(0);
        let first = if next == b'/' {
            b.get(start + 2).copied().unwrap_or(0)
        } else {
            next
        };
        let declaration = next == b'!' || next == b'?';
        if !declaration && !first.is_ascii_alphabetic() {
            // "a < b": a literal "<".
            w.text("<");
            i = start + 1;
            text_start = i;
            continue;
        }
        let Some(end) = tag_end(b, start) else {
            // An unfinished tag runs to the end.
            text_start = b.len();
            break;
        };
        i = end + 1;
        text_start = i;
        if declaration {
            continue;
        }
        let tag = &lower[start + 1..end];
        let closing = tag.starts_with('/');
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == ':' || *c == '-')
            .collect();
        if !closing && matches!(name.as_str(), "script" | "style" | "title" | "noscript") {
            let close = format!("</{name}");
            i = match lower[i..].find(&close) {
                Some(k) => tag_end(b, i + k).map_or(b.len(), |e| e + 1),
                None => b.len(),
            };
            text_start = i;
            continue;
        }
        w.tag(&name, closing);
    }
    if text_start < b.len() {
        w.text(&html[text_start..]);
    }
    w.finish()
}

/// The index of the `>` that ends the tag opened at `start`; quotes after `=` are honoured,
/// and if they never close, the first `>` ends the tag.
fn tag_end(b: &[u8], start: usize) -> Option<usize> {
    let mut quote: Option<u8> = None;
    let mut last = 0u8;
    for (k, &c) in b.iter().enumerate().skip(start + 1) {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None => {
                if c == b'>' {
                    return Some(k);
                }
                if (c == b'"' || c == b'\'') && last == b'=' {
                    quote = Some(c);
                }
                if !c.is_ascii_whitespace() {
                    last = c;
                }
            }
        }
    }
    b.iter()
        .skip(start + 1)
        .position(|&c| c == b'>')
        .map(|k| start + 1 + k)
}

/// Lines of text with their `<blockquote>` depth.
#[derive(Default)]
struct TextWriter {
    lines: Vec<(usize, String)>,
    cur: String,
    depth: usize,
    pre: usize,
    space: bool,
}

impl TextWriter {
    fn text(&mut self, raw: &str) {
        for c in decode_entities(raw).chars() {
            self.push(c);
        }
    }

    fn push(&mut self, c: char) {
        if self.pre > 0 {
            match c {
                '\n' => self.newline(),
                '\r' => {}
                _ => self.cur.push(c),
            }
            return;
        }
        if c.is_ascii_whitespace() || c == '\u{a0}' {
            self.space = true;
            return;
        }
        if self.space && !self.cur.is_empty() {
            self.cur.push(' ');
        }
        self.space = false;
        self.cur.push(c);
    }

    fn newline(&mut self) {
        let line = std::mem::take(&mut self.cur);
        self.lines.push((self.depth, line));
        self.space = false;
    }

    /// Ends the current line if it has text.
    fn block(&mut self) {
        if self.cur.trim().is_empty() {
            self.cur.clear();
            self.space = false;
        } else {
            self.newline();
        }
    }

    /// A blank line unless there is one already.
    fn gap(&mut self) {
        if self.lines.last().is_some_and(|(_, l)| !l.trim().is_empty()) {
            self.lines.push((self.depth, String::new()));
        }
    }

    fn tag(&mut self, name: &str, closing: bool) {
        match name {
            "br" => self.newline(),
            "p" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "table" | "ul" | "ol" | "dl" => {
                self.block();
                self.gap();
            }
            "pre" => {
                self.block();
                self.gap();
                if closing {
                    self.pre = self.pre.saturating_sub(1);
                } else {
                    self.pre += 1;
                }
            }
            "blockquote" => {
                self.block();
                if closing {
                    self.depth = self.depth.saturating_sub(1);
                } else {
                    self.gap();
                    self.depth += 1;
                }
                self.gap();
            }
            "li" => {
                self.block();
                if !closing {
                    self.cur.push('・');
                }
            }
            "div" | "tr" | "dd" | "dt" | "hr" | "section" | "article" | "header" | "footer"
            | "address" | "center" | "form" | "fieldset" | "caption" => self.block(),
            "td" | "th" if closing => self.space = true,
            _ => {}
        }
    }

    fn finish(mut self) -> String {
        self.block();
        let mut out = String::new();
        let mut blank = 0;
        for (depth, line) in &self.lines {
            let line = line.trim_end();
            if line.trim().is_empty() {
                blank += 1;
                if blank > 1 {
                    continue;
                }
            } else {
                blank = 0;
            }
            let depth = (*depth).min(20);
            if depth > 0 {
                out.push_str(&">".repeat(depth));
                if !line.is_empty() {
                    out.push(' ');
                }
            }
            out.push_str(line);
            out.push('\n');
        }
        out.trim_matches('\n').to_string()
    }
}

/// HTML character references: numeric ones and the named ones mail uses; anything else stays
/// as written.
fn decode_entities(s: &str) -> Cow<'_, str> {
    if !s.contains('&') {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let end = rest
            .char_indices()
            .take(12)
            .find(|&(_, c)| c == ';')
            .map(|(k, _)| k);
        let decoded = end.and_then(|end| entity(&rest[1..end]).map(|c| (c, end)));
        if let Some((c, end)) = decoded {
            if c != '\0' {
                out.push(c);
            }
            rest = &rest[end + 1..];
        } else {
            out.push('&');
            rest = &rest[1..];
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

fn entity(name: &str) -> Option<char> {
    if let Some(num) = name.strip_prefix('#') {
        let code = match num.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => num.parse::<u32>().ok()?,
        };
        return Some(char::from_u32(code).unwrap_or('\u{FFFD}'));
    }
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => '\u{a0}',
        "yen" => '¥',
        "copy" => '©',
        "reg" => '®',
        "trade" => '™',
        "hellip" => '…',
        "mdash" => '—',
        "ndash" => '–',
        "middot" => '·',
        "times" => '×',
        "divide" => '÷',
        "laquo" => '«',
        "raquo" => '»',
        "ldquo" => '“',
        "rdquo" => '”',
        "lsquo" => '‘',
        "rsquo" => '’',
        "bull" => '•',
        "deg" => '°',
        "plusmn" => '±',
        "sect" => '§',
        "para" => '¶',
        "zwj" | "zwnj" | "shy" => '\0',
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;

    // ---- building real-looking mail -------------------------------------------------------

    /// Text in a legacy charset; the test fails if a character cannot be written in it.
    fn enc(encoding: &'static encoding_rs::Encoding, text: &str) -> Vec<u8> {
        let (bytes, _, unmappable) = encoding.encode(text);
        assert!(!unmappable, "{} cannot hold {text:?}", encoding.name());
        bytes.into_owned()
    }

    /// Base64 in 76-character lines, as MIME writes it.
    fn b64(bytes: &[u8]) -> String {
        let s = base64::engine::general_purpose::STANDARD.encode(bytes);
        s.as_bytes()
            .chunks(76)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join("\r\n")
    }

    /// An RFC 2047 encoded word.
    fn word(charset: &str, bytes: &[u8]) -> String {
        format!(
            "=?{charset}?B?{}?=",
            base64::engine::general_purpose::STANDARD.encode(bytes)
        )
    }

    /// Quoted-printable with soft line breaks at 72 characters.
    fn qp(bytes: &[u8]) -> String {
        let mut out = String::new();
        let mut line = 0;
        for &b in bytes {
            let piece = if b == b'\n' {
                out.push_str("\r\n");
                line = 0;
                continue;
            } else if (33..=126).contains(&b) && b != b'=' || b == b' ' {
                (b as char).to_string()
            } else {
                format!("={b:02X}")
            };
            if line + piece.len() > 72 {
                out.push_str("=\r\n");
                line = 0;
            }
            line += piece.len();
            out.push_str(&piece);
        }
        out
    }

    /// Header lines (LF in the source) and a body, joined with CRLF as on the wire.
    fn mail(headers: &str, body: &[u8]) -> Vec<u8> {
        let mut out = headers.trim_end().replace('\n', "\r\n").into_bytes();
        out.extend_from_slice(b"\r\n\r\n");
        out.extend_from_slice(body);
        out
    }

    fn ok(raw: &[u8]) -> InboundMail {
        match parse(raw, &Limits::default()) {
            Ok(m) => m,
            Err(q) => panic!("quarantined: {q}"),
        }
    }

    fn quarantined(raw: &[u8]) -> Quarantine {
        match parse(raw, &Limits::default()) {
            Ok(m) => panic!("read, expected a quarantine: {m:?}"),
            Err(q) => q,
        }
    }

    const JA_BODY: &str = "お世話になっております。\n通知書を受け取りました。私の情報は漏えいしたのでしょうか。\n株式会社の①番の件です。";

    // ---- Japanese charsets ------------------------------------------------------------------

    #[test]
    fn iso_2022_jp_alternative_reads_the_plain_part() {
        let text = enc(ISO_2022_JP, &JA_BODY.replace('\n', "\r\n"));
        let html = enc(
            ISO_2022_JP,
            "<html><body><p>ＨＴＭＬ版です</p></body></html>",
        );
        let headers = format!(
            "From: {} <yamada@example.jp>\n\
             To: desk@example.co.jp\n\
             Subject: {}\n\
             Date: Mon, 15 Jan 2024 10:30:00 +0900\n\
             Message-ID: <a1.20240115@mail.example.jp>\n\
             MIME-Version: 1.0\n\
             Content-Type: multipart/alternative; boundary=\"=_b1\"",
            word("ISO-2022-JP", &enc(ISO_2022_JP, "山田 太郎")),
            word("ISO-2022-JP", &enc(ISO_2022_JP, "個人情報の漏えいについて")),
        );
        let mut body = b"--=_b1\r\nContent-Type: text/plain; charset=ISO-2022-JP\r\nContent-Transfer-Encoding: 7bit\r\n\r\n".to_vec();
        body.extend_from_slice(&text);
        body.extend_from_slice(b"\r\n--=_b1\r\nContent-Type: text/html; charset=ISO-2022-JP\r\nContent-Transfer-Encoding: 7bit\r\n\r\n");
        body.extend_from_slice(&html);
        body.extend_from_slice(b"\r\n--=_b1--\r\n");
        let m = ok(&mail(&headers, &body));
        assert_eq!(m.body, JA_BODY);
        assert_eq!(m.subject, "個人情報の漏えいについて");
        assert_eq!(m.from_name.as_deref(), Some("山田 太郎"));
        assert_eq!(m.from_addr.as_deref(), Some("yamada@example.jp"));
        assert_eq!(m.message_id.as_deref(), Some("a1.20240115@mail.example.jp"));
        assert_eq!(m.date, Some(1_705_282_200_000_000));
        assert_eq!(m.attachments, 0);
        assert!(!m.charset_problem);
        assert!(!m.body_cut);
    }

    #[test]
    fn base64_shift_jis_with_cp932_characters() {
        // ㈱ and ① are NEC specials, 髙 an IBM extension: CP932, not plain Shift_JIS.
        let text = "髙橋様\n㈱マモリの①の件で、カード番号が漏れていないか心配です。";
        for label in ["Shift_JIS", "CP932", "Windows-31J", "x-sjis"] {
            let headers = format!(
                "From: {} <takahashi@example.ne.jp>\n\
                 Subject: {}\n\
                 Date: Tue, 16 Jan 2024 09:00:00 +0900\n\
                 Message-ID: <sjis-{label}@example.ne.jp>\n\
                 MIME-Version: 1.0\n\
                 Content-Type: text/plain; charset=\"{label}\"\n\
                 Content-Transfer-Encoding: base64",
                word(label, &enc(SHIFT_JIS, "髙橋 一郎")),
                word(label, &enc(SHIFT_JIS, "㈱マモリ 通知の件")),
            );
            let body = b64(&enc(SHIFT_JIS, &text.replace('\n', "\r\n")));
            let m = ok(&mail(&headers, body.as_bytes()));
            assert_eq!(m.body, text, "{label}");
            assert_eq!(m.subject, "㈱マモリ 通知の件", "{label}");
            assert_eq!(m.from_name.as_deref(), Some("髙橋 一郎"), "{label}");
            assert!(!m.charset_problem, "{label}: a known alias is no problem");
        }
    }

    #[test]
    fn euc_jp_eight_bit_body_and_encoded_subject() {
        let text = "いつもお世話になっております。\n退会済みですが、登録情報は削除されていますか。";
        let headers = format!(
            "From: suzuki@example.org\n\
             Subject: {}\n\
             Date: Wed, 17 Jan 2024 18:45:10 +0900\n\
             MIME-Version: 1.0\n\
             Content-Type: text/plain; charset=EUC-JP\n\
             Content-Transfer-Encoding: 8bit",
            word("EUC-JP", &enc(EUC_JP, "登録情報の削除について")),
        );
        let m = ok(&mail(&headers, &enc(EUC_JP, &text.replace('\n', "\r\n"))));
        assert_eq!(m.body, text);
        assert_eq!(m.subject, "登録情報の削除について");
        assert_eq!(m.from_addr.as_deref(), Some("suzuki@example.org"));
        assert_eq!(m.from_name, None);
        assert!(!m.charset_problem);
    }

    #[test]
    fn quoted_printable_utf8_with_soft_breaks() {
        let text = "ご担当者様\n\nお知らせのはがきに記載の問い合わせ番号 MAM-2024-0042 について、二次被害（不審な電話・メール）の有無を教えてください。長い行はソフト改行で折り返されます。";
        let headers = "From: \"Sato, Hanako\" <sato@example.com>\n\
             Subject: =?UTF-8?Q?=E5=95=8F=E3=81=84=E5=90=88=E3=82=8F=E3=81=9B?=\n\
             Date: Thu, 18 Jan 2024 08:00:00 +0000\n\
             MIME-Version: 1.0\n\
             Content-Type: text/plain; charset=utf-8\n\
             Content-Transfer-Encoding: quoted-printable";
        let encoded = qp(text.as_bytes());
        assert!(encoded.contains("=\r\n"), "the test needs soft line breaks");
        let m = ok(&mail(headers, encoded.as_bytes()));
        assert_eq!(m.body, text);
        assert_eq!(m.subject, "問い合わせ");
        assert_eq!(m.from_name.as_deref(), Some("Sato, Hanako"));
        assert_eq!(m.date, Some(1_705_564_800_000_000));
    }

    #[test]
    fn unlabelled_iso_2022_jp_is_decoded_and_flagged() {
        // Old mailers: no MIME headers at all, JIS text in the body and the Subject.
        let mut raw = b"From: old@example.jp\r\nSubject: ".to_vec();
        raw.extend_from_slice(&enc(ISO_2022_JP, "通知の件"));
        raw.extend_from_slice(b"\r\n\r\n");
        raw.extend_from_slice(&enc(ISO_2022_JP, "はがきが届きました。"));
        let m = ok(&raw);
        assert_eq!(m.body, "はがきが届きました。");
        assert_eq!(m.subject, "通知の件");
        assert!(m.charset_problem);
    }

    #[test]
    fn missing_or_wrong_labels_are_guessed_and_flagged() {
        let text = "口座番号が漏れていないか確認したいです。";
        for (ctype, bytes) in [
            ("text/plain", enc(SHIFT_JIS, text)),
            ("text/plain; charset=utf-8", enc(SHIFT_JIS, text)),
            ("text/plain; charset=us-ascii", enc(EUC_JP, text)),
            ("text/plain; charset=x-unknown", enc(SHIFT_JIS, text)),
        ] {
            let headers = format!("From: a@example.jp\nSubject: q\nContent-Type: {ctype}");
            let m = ok(&mail(&headers, &bytes));
            assert_eq!(m.body, text, "{ctype}");
            assert!(m.charset_problem, "{ctype}");
        }
    }

    #[test]
    fn raw_eight_bit_subject_and_name_are_recovered() {
        let mut raw = b"From: ".to_vec();
        raw.extend_from_slice(&enc(SHIFT_JIS, "田中"));
        raw.extend_from_slice(b" <tanaka@example.jp>\r\nSubject: ");
        raw.extend_from_slice(&enc(SHIFT_JIS, "返信: 漏えいの件"));
        raw.extend_from_slice(b"\r\nContent-Type: text/plain; charset=Shift_JIS\r\n\r\n");
        raw.extend_from_slice(&enc(SHIFT_JIS, "本文です"));
        let m = ok(&raw);
        assert_eq!(m.subject, "返信: 漏えいの件");
        assert_eq!(m.from_name.as_deref(), Some("田中"));
        assert_eq!(m.from_addr.as_deref(), Some("tanaka@example.jp"));
        assert_eq!(m.body, "本文です");
        assert!(m.charset_problem);
    }

    #[test]
    fn a_few_broken_bytes_in_utf8_stay_utf8() {
        // Not read as Shift_JIS mojibake: the good UTF-8 is kept, the bad byte shown as �.
        let mut body = "通知を受け取りました。住所が変わっています。"
            .as_bytes()
            .to_vec();
        body.push(0xff);
        body.extend_from_slice("よろしくお願いします。".as_bytes());
        let m = ok(&mail(
            "From: a@example.jp\nContent-Type: text/plain; charset=utf-8",
            &body,
        ));
        assert!(m.body.starts_with("通知を受け取りました。"), "{}", m.body);
        assert!(m.body.ends_with("よろしくお願いします。"), "{}", m.body);
        assert!(m.charset_problem);
    }

    #[test]
    fn undecodable_body_is_quarantined() {
        let body = [0xff_u8, 0xfe, 0xfd, 0xff, 0x80, 0xff, 0xfe, 0xff].repeat(20);
        let q = quarantined(&mail(
            "From: a@example.jp\nSubject: x\nContent-Type: text/plain; charset=x-unknown-8bit",
            &body,
        ));
        assert_eq!(
            q.reason,
            QuarantineReason::UndecodableBody {
                charset: "x-unknown-8bit".into()
            }
        );
        assert!(q.ja().contains("x-unknown-8bit"), "{}", q.ja());
        assert!(q.ja().contains("文字化け"));
        assert!(q.to_string().contains("cannot be decoded"));
    }

    // ---- HTML -------------------------------------------------------------------------------

    #[test]
    fn html_only_mail_becomes_text() {
        let html = "<!DOCTYPE html><html><head><title>件名</title>\
            <style>p { color: red; }</style><script>alert('x')</script></head>\
            <body><div>お問い合わせ&amp;ご相談</div><p>1行目<br>2行目<br/>3&nbsp;行目</p>\
            <!-- a comment <p>hidden</p> -->\
            <ul><li>氏名</li><li>住所</li></ul>\
            <table><tr><td>番号</td><td>A&#45;1&#x32;</td></tr></table>\
            <blockquote>以前のメール<br>引用です</blockquote>\
            <p>署名 &lt;desk&gt;</p></body></html>";
        let m = ok(&mail(
            "From: web@example.jp\nSubject: html\nContent-Type: text/html; charset=utf-8",
            html.as_bytes(),
        ));
        assert_eq!(
            m.body,
            "お問い合わせ&ご相談\n\n1行目\n2行目\n3 行目\n\n・氏名\n・住所\n\n番号 A-12\n\n> 以前のメール\n> 引用です\n\n署名 <desk>"
        );
        assert_eq!(
            strip_quoted(&m.body),
            "お問い合わせ&ご相談\n\n1行目\n2行目\n3 行目\n\n・氏名\n・住所\n\n番号 A-12\n\n署名 <desk>"
        );
        assert!(!m.charset_problem);
    }

    #[test]
    fn html_to_text_survives_broken_markup() {
        assert_eq!(html_to_text("a < b and c > d"), "a < b and c > d");
        assert_eq!(html_to_text("text <b>bold</b> <i"), "text bold");
        assert_eq!(html_to_text("<p title=\"x>y\">quoted</p>"), "quoted");
        assert_eq!(html_to_text("<p title=\"never closed>ok"), "ok");
        assert_eq!(html_to_text("<script>never closed"), "");
        assert_eq!(html_to_text("<!-- never closed"), "");
        assert_eq!(
            html_to_text("&unknown; &amp &#xZZ; &#1114112;"),
            "&unknown; &amp &#xZZ; \u{FFFD}"
        );
        assert_eq!(html_to_text("<pre>  a\n   b</pre>c"), "  a\n   b\n\nc");
        assert_eq!(
            html_to_text("<blockquote>1<blockquote>2</blockquote>3</blockquote>4"),
            "> 1\n>\n>> 2\n>\n> 3\n\n4"
        );
        assert_eq!(html_to_text(""), "");
        assert_eq!(html_to_text("<"), "<");
        assert_eq!(html_to_text("</"), "</");
        // Deep nesting stays bounded.
        let deep = "<blockquote>".repeat(10_000) + "x";
        assert_eq!(html_to_text(&deep), format!("{} x", ">".repeat(20)));
    }

    // ---- threads ----------------------------------------------------------------------------

    #[test]
    fn a_thread_of_three_shares_a_key() {
        let first = ok(&mail(
            "From: ito@example.jp\nSubject: 問い合わせ\nMessage-ID: <t1@example.jp>",
            "最初の質問です。".as_bytes(),
        ));
        let second = ok(&mail(
            "From: desk@example.co.jp\nSubject: Re: 問い合わせ\nMessage-ID: <t2@example.co.jp>\n\
             In-Reply-To: <t1@example.jp>\nReferences: <t1@example.jp>",
            "回答です。".as_bytes(),
        ));
        let third = ok(&mail(
            "From: ito@example.jp\nSubject: RE：問い合わせ\nMessage-ID: <t3@example.jp>\n\
             In-Reply-To: <t2@example.co.jp>\n\
             References: <t1@example.jp>\n <t2@example.co.jp>",
            "ありがとうございました。".as_bytes(),
        ));
        assert_eq!(third.references, vec!["t1@example.jp", "t2@example.co.jp"]);
        assert_eq!(third.in_reply_to, vec!["t2@example.co.jp"]);
        assert_eq!(first.thread_key(), "t1@example.jp");
        assert_eq!(second.thread_key(), "t1@example.jp");
        assert_eq!(third.thread_key(), "t1@example.jp");
        // Only In-Reply-To.
        let reply = ok(&mail(
            "From: x@example.jp\nIn-Reply-To: <t9@example.jp>",
            b"ok",
        ));
        assert_eq!(reply.thread_key(), "t9@example.jp");
    }

    #[test]
    fn without_ids_the_key_is_sender_and_base_subject() {
        let key = |from: &str, subject: &str| {
            ok(&mail(&format!("From: {from}\nSubject: {subject}"), b"body")).thread_key()
        };
        let k = key("Ito@Example.jp", "漏えいの件");
        assert!(k.starts_with("h:") && k.len() == 34, "{k}");
        for subject in [
            "Re: 漏えいの件",
            "RE：漏えいの件",
            "Ｒｅ：　漏えいの件",
            "返信: 漏えいの件",
            "転送：Re: 漏えいの件",
            "Fwd: FW: re[2]: 漏えいの件",
        ] {
            let encoded = word("UTF-8", subject.as_bytes());
            assert_eq!(key("ito@example.jp", &encoded), k, "{subject}");
        }
        assert_ne!(key("other@example.jp", "Re: 漏えいの件"), k);
        assert_ne!(key("ito@example.jp", "別の件"), k);
    }

    #[test]
    fn subject_base_strips_only_prefixes() {
        assert_eq!(subject_base("Re: Re:Re : Hello  World"), "hello world");
        assert_eq!(subject_base("Ｒｅ：ｔｅｓｔ"), "test");
        assert_eq!(subject_base("RE^3: x"), "x");
        assert_eq!(subject_base("Re(2): x"), "x");
        assert_eq!(subject_base("Reply to my question"), "reply to my question");
        assert_eq!(subject_base("Re"), "re");
        assert_eq!(subject_base("返信の件"), "返信の件");
        assert_eq!(subject_base("転送:返信:漏えい"), "漏えい");
        assert_eq!(subject_base(""), "");
        assert_eq!(subject_base("Re:"), "");
    }

    // ---- quoted replies ---------------------------------------------------------------------

    #[test]
    fn strip_quoted_keeps_what_is_new() {
        let cases: &[(&str, &str)] = &[
            ("新しい質問です。\n\n> 以前の回答\n> です\n", "新しい質問です。"),
            ("ありがとうございます。\n＞ 全角の引用\n　＞ 字下げされた引用\n追記です。", "ありがとうございます。\n追記です。"),
            (
                "承知しました。\n\nOn Mon, Jan 15, 2024 at 10:00 AM Desk <desk@example.co.jp> wrote:\n元の本文（引用記号なし）\n",
                "承知しました。",
            ),
            (
                "承知しました。\n\nOn Mon, Jan 15, 2024 at 10:00 AM 窓口 <\ndesk@example.co.jp> wrote:\n\n> 元の本文\n",
                "承知しました。",
            ),
            (
                "確認します。\n\n2024/01/15 10:00 に 窓口 さんは書きました：\n元の本文\n",
                "確認します。",
            ),
            (
                "確認します。\n\n2024年1月15日(月) 10:00 窓口 <desk@example.co.jp>:\n\n> 元の本文\n",
                "確認します。",
            ),
            ("了解です。\n-----Original Message-----\nFrom: desk\n本文", "了解です。"),
            ("了解です。\n----- Original Message -----\n本文", "了解です。"),
            ("了解です。\n―――― 元のメッセージ ――――\n本文", "了解です。"),
            (
                "了解です。\n\n________________________________\n差出人: 窓口 <desk@example.co.jp>\n送信日時: 2024年1月15日 10:00\n宛先: 伊藤\n件名: 回答\n\n本文",
                "了解です。",
            ),
            (
                "了解です。\nFrom: Desk <desk@example.co.jp>\nSent: Monday, January 15, 2024 10:00 AM\n本文",
                "了解です。",
            ),
            // Bottom posting: the new text below the quote stays.
            (
                "On Mon, Jan 15, 2024 Desk wrote:\n> 質問は何ですか\n> \n\n私の番号は MAM-1 です。",
                "私の番号は MAM-1 です。",
            ),
            // Not separators.
            (
                "From: の欄に何を書けばよいですか。\nOriginal Message という言葉は使いません。",
                "From: の欄に何を書けばよいですか。\nOriginal Message という言葉は使いません。",
            ),
            ("> すべて引用", ""),
            ("", ""),
        ];
        for (body, want) in cases {
            assert_eq!(strip_quoted(body), *want, "{body:?}");
        }
    }

    #[test]
    fn new_text_is_the_stripped_body_and_the_body_stays_full() {
        let m = ok(&mail(
            "From: a@example.jp\nContent-Type: text/plain; charset=utf-8",
            "はい。\r\n\r\n> 以前の回答\r\n".as_bytes(),
        ));
        assert_eq!(m.body, "はい。\n\n> 以前の回答");
        assert_eq!(m.new_text(), "はい。");
    }

    // ---- mbox -------------------------------------------------------------------------------

    fn three_message_mbox(eol: &str) -> Vec<u8> {
        let text = "From alice@example.jp Mon Jan 15 10:00:00 2024\n\
            From: alice@example.jp\n\
            Subject: one\n\
            Message-ID: <m1@example.jp>\n\
            \n\
            First.\n\
            >From the office, with love.\n\
            >>From quoted twice.\n\
            \n\
            From bob@example.jp Mon Jan 15 11:00:00 2024\n\
            From: bob@example.jp\n\
            Subject: two\n\
            \n\
            Second.\n\
            \n\
            From MAILER-DAEMON Mon Jan 15 12:00:00 2024\n\
            From: carol@example.jp\n\
            Subject: three\n\
            \n\
            Third.\n";
        text.replace('\n', eol).into_bytes()
    }

    #[test]
    fn mbox_of_three_with_escaped_from_lines() {
        for eol in ["\n", "\r\n"] {
            let data = three_message_mbox(eol);
            let messages = split_mbox(&data);
            assert_eq!(messages.len(), 3, "{eol:?}");
            let first = String::from_utf8_lossy(&messages[0]).replace('\r', "");
            assert!(first.starts_with("From: alice@example.jp\n"), "{first}");
            assert!(
                first.ends_with("First.\nFrom the office, with love.\n>From quoted twice.\n"),
                "{first:?}"
            );
            assert!(matches!(messages[0], Cow::Owned(_)));
            assert!(matches!(messages[1], Cow::Borrowed(_)));
            let (mails, bad) = import_all(&data, &Limits::default());
            assert!(bad.is_empty(), "{bad:?}");
            let subjects: Vec<&str> = mails.iter().map(|m| m.subject.as_str()).collect();
            assert_eq!(subjects, ["one", "two", "three"]);
            assert_eq!(
                mails[0].body,
                "First.\nFrom the office, with love.\n>From quoted twice."
            );
            assert_eq!(mails[1].body, "Second.");
            assert_eq!(mails[2].from_addr.as_deref(), Some("carol@example.jp"));
        }
    }

    #[test]
    fn mboxo_body_from_line_is_not_a_separator() {
        // An unescaped mboxo body: "From " after a blank line, but no time and no header after.
        let data = b"From a@example.jp Mon Jan 15 10:00:00 2024\nFrom: a@example.jp\n\nHello.\n\nFrom the desk of the manager\nwe thank you.\n";
        let messages = split_mbox(data);
        assert_eq!(messages.len(), 1);
        let m = ok(&messages[0]);
        assert_eq!(
            m.body,
            "Hello.\n\nFrom the desk of the manager\nwe thank you."
        );
        // Without a blank line before it, even a postmark-like line is text.
        let data = b"From a@example.jp Mon Jan 15 10:00:00 2024\nFrom: a@example.jp\n\nHello.\nFrom b Mon Jan 15 10:00:00 2024\n";
        assert_eq!(split_mbox(data).len(), 1);
        // A separator without a time is still one when a header follows.
        let data = b"From a\nFrom: a@example.jp\n\nx\n\nFrom b\nFrom: b@example.jp\n\ny\n";
        assert_eq!(split_mbox(data).len(), 2);
    }

    #[test]
    fn eml_and_empty_inputs() {
        let eml = b"\r\n\r\nFrom: a@example.jp\r\nSubject: eml\r\n\r\nbody\r\n";
        let messages = split_mbox(eml);
        assert_eq!(messages.len(), 1);
        assert!(messages[0].starts_with(b"From: a@example.jp"));
        assert_eq!(ok(&messages[0]).subject, "eml");
        assert!(split_mbox(b"").is_empty());
        assert!(split_mbox(b" \r\n\t\n").is_empty());
        let (mails, bad) = import_all(b"", &Limits::default());
        assert!(mails.is_empty() && bad.is_empty());
    }

    #[test]
    fn import_reports_bad_messages_by_index_and_bounds_the_count() {
        let data = b"From x Mon Jan 15 10:00:00 2024\nFrom: a@example.jp\n\none\n\n\
            From x Mon Jan 15 10:00:01 2024\nSubject: no sender\n\ntwo\n\n\
            From x Mon Jan 15 10:00:02 2024\nFrom: c@example.jp\n\nthree\n\n\
            From x Mon Jan 15 10:00:03 2024\ngarbage without headers\n\n\
            From x Mon Jan 15 10:00:04 2024\nFrom: e@example.jp\n\nfive\n";
        let (mails, bad) = import_all(data, &Limits::default());
        assert_eq!(
            mails.iter().map(|m| m.body.as_str()).collect::<Vec<_>>(),
            ["one", "three", "five"]
        );
        let reasons: Vec<(usize, &str)> = bad.iter().map(|(i, q)| (*i, q.reason.code())).collect();
        assert_eq!(reasons, [(1, "no_from"), (3, "not_a_mail")]);

        let limits = Limits {
            max_messages: 2,
            ..Limits::default()
        };
        let (mails, bad) = import_all(data, &limits);
        assert_eq!(mails.len(), 1);
        assert_eq!(bad.len(), 2);
        assert_eq!(bad[1].0, 2);
        assert_eq!(
            bad[1].1.reason,
            QuarantineReason::TooManyMessages { max: 2, rest: 3 }
        );
        assert!(bad[1].1.ja().contains("残りの 3 通"), "{}", bad[1].1.ja());
        assert!(bad[1].1.to_string().contains("remaining 3"));
    }

    // ---- broken and hostile input -----------------------------------------------------------

    #[test]
    fn unterminated_boundary_still_reads_the_text() {
        let raw = mail(
            "From: a@example.jp\nSubject: broken\nMIME-Version: 1.0\n\
             Content-Type: multipart/mixed; boundary=\"zz\"",
            b"--zz\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\xe6\x9c\xac\xe6\x96\x87\r\n\
              --zz\r\nContent-Type: application/pdf; name=\"a.pdf\"\r\n\
              Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\nJVBE",
        );
        let m = ok(&raw);
        assert_eq!(m.body, "本文");
        assert_eq!(m.attachments, 1);
        // A boundary that never appears: the whole body is text.
        let raw = mail(
            "From: a@example.jp\nContent-Type: multipart/mixed; boundary=\"never\"",
            b"just text\r\n",
        );
        let m = ok(&raw);
        assert_eq!(m.body, "just text");
        assert_eq!(m.attachments, 0);
    }

    #[test]
    fn missing_headers_and_sender() {
        let q = quarantined(b"just some text\nwith no headers at all\n");
        assert_eq!(q.reason, QuarantineReason::NotAMail);
        assert!(q.ja().contains("ヘッダー"));
        assert!(q.to_string().contains("not an e-mail"));
        assert_eq!(quarantined(b"").reason, QuarantineReason::NotAMail);
        assert_eq!(
            quarantined(b"X-Foo: bar\n\nbody").reason,
            QuarantineReason::NotAMail
        );
        for raw in [
            &b"To: desk@example.co.jp\nSubject: hi\n\nbody"[..],
            b"From: \nSubject: hi\n\nbody",
            b"From: <>\nSubject: hi\n\nbody",
        ] {
            let q = quarantined(raw);
            assert_eq!(
                q.reason,
                QuarantineReason::NoFrom,
                "{:?}",
                String::from_utf8_lossy(raw)
            );
            assert!(q.ja().contains("差出人"));
        }
        // Sender stands in for a missing From; a name alone is a sender too.
        assert_eq!(
            ok(b"Sender: s@example.jp\n\nbody").from_addr.as_deref(),
            Some("s@example.jp")
        );
        let m = ok("From: =?UTF-8?B?5bGx55Sw?=\n\nbody".as_bytes());
        assert_eq!((m.from_addr, m.from_name.as_deref()), (None, Some("山田")));
    }

    #[test]
    fn garbage_bytes_are_not_mail() {
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for len in [1usize, 7, 100, 4096, 70_000] {
            let bytes: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            let q = quarantined(&bytes);
            assert_eq!(q.reason, QuarantineReason::NotAMail, "{len}");
        }
        assert_eq!(
            quarantined(b"\x00\x01\x02\xff\xfe\r\n\r\n\x00").reason,
            QuarantineReason::NotAMail
        );
    }

    /// Truncations and byte flips of real messages through the parser without `catch_unwind`:
    /// neither mail-parser nor this module may panic.
    #[test]
    fn mangled_messages_never_panic() {
        let mut samples: Vec<Vec<u8>> = vec![
            three_message_mbox("\r\n"),
            mail(
                "From: a@example.jp\nContent-Type: multipart/alternative; boundary=b\nSubject: =?ISO-2022-JP?B?GyRCJUYlOSVIGyhC?=",
                b"--b\r\nContent-Type: text/plain; charset=iso-2022-jp\r\n\r\n\x1b$B$3$s\x1b(B\r\n--b\r\nContent-Type: text/html\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n<p>=E3=81=82<b\r\n--b--\r\n",
            ),
            mail(
                "From: a@example.jp\nContent-Type: multipart/mixed; boundary=o",
                b"--o\r\nContent-Type: message/rfc822\r\n\r\nFrom: b@example.jp\r\nContent-Type: multipart/mixed; boundary=i\r\n\r\n--i\r\nContent-Type: text/plain; charset=shift_jis\r\nContent-Transfer-Encoding: base64\r\n\r\ngqCCog==\r\n--i--\r\n--o--\r\n",
            ),
        ];
        samples.push(deep_nested(8));
        let limits = Limits::default();
        for sample in &samples {
            for cut in (0..sample.len()).step_by(3) {
                let _ = read(&sample[..cut], &limits);
            }
            for i in 0..sample.len() {
                for flip in [0x00_u8, b'\n', b'-', b'=', 0xff, b'<'] {
                    let mut m = sample.clone();
                    m[i] = flip;
                    let _ = read(&m, &limits);
                }
            }
        }
    }

    #[test]
    fn three_mib_message_is_too_large() {
        let mut raw = b"From: big@example.jp\r\nSubject: big\r\n\r\n".to_vec();
        raw.resize(3 * 1024 * 1024, b'a');
        let q = quarantined(&raw);
        assert_eq!(
            q.reason,
            QuarantineReason::TooLarge {
                bytes: 3 * 1024 * 1024,
                max: 2 * 1024 * 1024
            }
        );
        assert!(
            q.ja().contains("3.0 MiB") && q.ja().contains("2.0 MiB"),
            "{}",
            q.ja()
        );
        assert!(q.to_string().contains("too large"));
        // At the limit it is read.
        raw.truncate(2 * 1024 * 1024);
        let m = ok(&raw);
        assert!(m.body_cut);
    }

    #[test]
    fn one_hundred_parts_are_too_many() {
        let mut body = Vec::new();
        for i in 0..100 {
            body.extend_from_slice(
                format!("--p\r\nContent-Type: text/plain\r\n\r\npart {i}\r\n").as_bytes(),
            );
        }
        body.extend_from_slice(b"--p--\r\n");
        let raw = mail(
            "From: a@example.jp\nContent-Type: multipart/mixed; boundary=p",
            &body,
        );
        let q = quarantined(&raw);
        match q.reason {
            QuarantineReason::TooManyParts { parts, max } => {
                assert_eq!(max, 50);
                assert!(parts >= 100, "{parts}");
            }
            other => panic!("{other:?}"),
        }
        assert!(q.ja().contains("上限 50 個"), "{}", q.ja());
        // Under a higher limit the same mail reads, all its text parts joined.
        let m = parse(
            &raw,
            &Limits {
                max_parts: 200,
                ..Limits::default()
            },
        )
        .unwrap_or_else(|q| panic!("{q}"));
        assert!(m.body.starts_with("part 0\n\npart 1"), "{}", m.body);
    }

    /// A message with `levels` attached messages inside each other.
    fn deep_nested(levels: usize) -> Vec<u8> {
        let mut inner =
            b"From: innermost@example.jp\r\nSubject: inner\r\n\r\nthe innermost text\r\n".to_vec();
        for level in 0..levels {
            let mut outer =
                format!("From: level{level}@example.jp\r\nContent-Type: message/rfc822\r\n\r\n")
                    .into_bytes();
            outer.extend_from_slice(&inner);
            inner = outer;
        }
        inner
    }

    #[test]
    fn deeply_nested_messages_are_quarantined() {
        let q = quarantined(&deep_nested(20));
        assert_eq!(q.reason, QuarantineReason::TooDeep { max: 5 });
        assert!(q.ja().contains("入れ子"));
        let q = quarantined(&deep_nested(6));
        assert_eq!(q.reason, QuarantineReason::TooDeep { max: 5 });
        // Within the limit: the attached message's text is the body.
        let m = ok(&deep_nested(2));
        assert_eq!(m.from_addr.as_deref(), Some("level1@example.jp"));
        assert_eq!(m.attachments, 1);
        assert!(
            m.body
                .starts_with("［添付されたメール / Attached message］\n"),
            "{}",
            m.body
        );
    }

    #[test]
    fn forwarded_phishing_mail_as_attachment() {
        let raw = mail(
            "From: customer@example.jp\nSubject: Fwd: 不審なメール\n\
             Content-Type: multipart/mixed; boundary=f",
            "--f\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nこのメールは御社からですか？\r\n\
             --f\r\nContent-Type: message/rfc822\r\n\r\n\
             From: phish@bad.example\r\nSubject: 【重要】カード再登録\r\n\r\n下記URLから再登録してください。\r\n\
             --f--\r\n"
                .as_bytes(),
        );
        let m = ok(&raw);
        assert_eq!(m.body, "このメールは御社からですか？");
        assert_eq!(m.attachments, 1);
    }

    #[test]
    fn long_body_is_cut_with_a_note() {
        let text = "あ".repeat(30_000);
        let m = ok(&mail(
            "From: a@example.jp\nContent-Type: text/plain; charset=utf-8",
            text.as_bytes(),
        ));
        assert!(m.body_cut);
        assert!(m.body.starts_with(&"あ".repeat(20_000)));
        assert!(!m.body.starts_with(&"あ".repeat(20_001)));
        assert!(
            m.body.contains("20000 文字") && m.body.contains("30000"),
            "{}",
            &m.body[60_000..]
        );
        let m = ok(&mail(
            "From: a@example.jp\nContent-Type: text/plain; charset=utf-8",
            "あ".repeat(20_000).as_bytes(),
        ));
        assert!(!m.body_cut);
        assert_eq!(m.body.chars().count(), 20_000);
    }

    #[test]
    fn empty_bodies_are_quarantined() {
        for raw in [
            &b"From: a@example.jp\r\nSubject: only a subject\r\n\r\n"[..],
            b"From: a@example.jp\r\nSubject: only a subject\r\n",
            b"From: a@example.jp\r\n\r\n \r\n\t\r\n\xe3\x80\x80\r\n",
            b"From: a@example.jp\r\nContent-Type: text/html\r\n\r\n<html><body><p> </p></body></html>",
        ] {
            let q = quarantined(raw);
            assert_eq!(q.reason, QuarantineReason::EmptyBody, "{:?}", String::from_utf8_lossy(raw));
            assert!(q.ja().contains("本文が空"));
        }
        let raw = mail(
            "From: a@example.jp\nContent-Type: multipart/mixed; boundary=e",
            b"--e\r\nContent-Type: image/jpeg; name=\"letter.jpg\"\r\nContent-Disposition: attachment\r\nContent-Transfer-Encoding: base64\r\n\r\n/9j/4AAQ\r\n--e--\r\n",
        );
        let q = quarantined(&raw);
        assert_eq!(q.reason, QuarantineReason::EmptyBody);
        assert_eq!(q.detail, "1 attachment(s)");
    }

    #[test]
    fn dates_and_ids() {
        let m = ok(b"From: a@example.jp\r\nDate: not a date\r\nMessage-ID: <>\r\n\r\nx");
        assert_eq!(m.date, None);
        assert_eq!(m.message_id, None);
        let m = ok(b"From: a@example.jp\r\nDate: Thu, 1 Jan 1970 00:00:01 +0000\r\n\r\nx");
        assert_eq!(m.date, Some(1_000_000));
        let m = ok(b"From: a@example.jp\r\nReferences: <a@x> <b@x> <a@x>\r\n\r\nx");
        assert_eq!(m.references, vec!["a@x", "b@x"]);
    }

    #[test]
    fn body_text_is_cleaned() {
        let m = ok(b"From: a@example.jp\r\nSubject: two\r\n  lines\x07\r\n\r\n\r\n\xef\xbb\xbfline 1  \r\nline\x00 2\rline 3\r\n\r\n\r\n");
        assert_eq!(m.subject, "two lines");
        assert_eq!(m.body, "line 1\nline 2\nline 3");
    }

    #[test]
    fn quarantine_words_and_codes() {
        let all = [
            QuarantineReason::NotAMail,
            QuarantineReason::NoFrom,
            QuarantineReason::TooLarge {
                bytes: 3_145_728,
                max: 2_097_152,
            },
            QuarantineReason::TooManyParts {
                parts: 102,
                max: 50,
            },
            QuarantineReason::TooDeep { max: 5 },
            QuarantineReason::UndecodableBody {
                charset: "x-unknown".into(),
            },
            QuarantineReason::EmptyBody,
            QuarantineReason::TooManyMessages {
                max: 10_000,
                rest: 5,
            },
            QuarantineReason::Malformed,
        ];
        let mut codes = std::collections::HashSet::new();
        for reason in all {
            assert!(codes.insert(reason.code()), "{}", reason.code());
            assert!(!reason.ja().is_ascii(), "{}", reason.ja());
            assert!(reason.en().is_ascii(), "{}", reason.en());
            let json = serde_json::to_value(&reason).unwrap_or_default();
            assert_eq!(json["code"], reason.code());
            let back: QuarantineReason =
                serde_json::from_value(json).unwrap_or(QuarantineReason::Malformed);
            assert_eq!(back, reason);
        }
        let q = Quarantine::new(QuarantineReason::NoFrom, "detail");
        assert_eq!(q.ja(), "差出人（From）がありません［detail］");
        assert_eq!(
            q.en(),
            "no sender: the From header is missing or empty [detail]"
        );
        assert_eq!(size(512), "512 B");
        assert_eq!(size(1536), "1.5 KiB");
    }
}
