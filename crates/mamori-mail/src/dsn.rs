//! Bounces: delivery status notifications (DSN, RFC 3464) read from a mailbox.
//!
//! A DSN is a `multipart/report; report-type=delivery-status` message (RFC 6522) with a
//! human-readable part, a `message/delivery-status` part — one block of per-message fields,
//! then one block per recipient (`Final-Recipient`, `Action`, `Status`, `Diagnostic-Code` …)
//! — and the original message or only its headers (`message/rfc822` or
//! `text/rfc822-headers`). [`parse_dsn`] turns one into a [`Bounce`] per recipient block, with
//! the original `Message-ID` that a campaign matches against the ID it stored before sending.
//! `message/global-delivery-status` (RFC 6533, UTF-8 addresses) is read the same way.
//!
//! Mailboxes come as an **mbox** file (messages after `From ` separator lines, `>From `
//! unescaped as mboxrd writes it) or a single **.eml**; [`read_mailbox`] takes either. A
//! mailbox holds other mail too (replies, auto-replies, spam): those are counted as skipped,
//! never an error.
//!
//! A DSN whose `Action` is `delayed` (status 4.x.x: "still trying") is returned with that
//! action; [`Bounce::is_bounce`] is true only for `failed`. Message-IDs are compared without
//! their angle brackets and surrounding blanks ([`normalize_message_id`]).
//!
//! Nothing here logs: a DSN holds the recipient's address.

use std::borrow::Cow;

use mail_parser::{MessageParser, MimeHeaders, PartType};

/// What the reporting MTA did for a recipient (RFC 3464 §2.3.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Could not be delivered and will not be retried: a bounce.
    Failed,
    /// Not delivered yet; the MTA keeps trying.
    Delayed,
    Delivered,
    Relayed,
    Expanded,
    /// Any other value, lower-cased.
    Other(String),
}

impl Action {
    fn parse(s: &str) -> Self {
        let s = s.trim().to_ascii_lowercase();
        // Some MTAs add a comment: "failed (bad address)".
        let word = s.split([' ', '(', ';']).next().unwrap_or("");
        match word {
            "failed" => Action::Failed,
            "delayed" => Action::Delayed,
            "delivered" => Action::Delivered,
            "relayed" => Action::Relayed,
            "expanded" => Action::Expanded,
            _ => Action::Other(s),
        }
    }
}

/// One recipient block of a DSN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bounce {
    /// The `Message-ID` of the message this DSN reports on, normalised (no `<>`), if the DSN
    /// carries it (in the attached original or its headers, or Gmail's
    /// `X-Original-Message-ID`).
    pub original_message_id: Option<String>,
    /// The address from `Final-Recipient` (the `rfc822;` type taken off).
    pub final_recipient: String,
    /// The address from `Original-Recipient`, if given.
    pub original_recipient: Option<String>,
    pub action: Action,
    /// The enhanced status code, e.g. `5.1.1`.
    pub status: String,
    /// `Diagnostic-Code` without its type (`smtp;`), unfolded, e.g. `550 5.1.1 … User unknown`.
    pub diagnostic: Option<String>,
    /// `Reporting-MTA` without its type.
    pub reporting_mta: Option<String>,
}

impl Bounce {
    /// A permanent failure: the message will not arrive. A delayed DSN is not a bounce.
    #[must_use]
    pub fn is_bounce(&self) -> bool {
        self.action == Action::Failed
    }

    /// Whether this DSN is about the message with ID `message_id` (with or without `<>`).
    #[must_use]
    pub fn is_about(&self, message_id: &str) -> bool {
        let want = normalize_message_id(message_id);
        !want.is_empty() && self.original_message_id.as_deref() == Some(want.as_str())
    }
}

/// A Message-ID as compared: blanks and one pair of angle brackets taken off.
#[must_use]
pub fn normalize_message_id(id: &str) -> String {
    let t = id.trim();
    let t = t.strip_prefix('<').unwrap_or(t);
    let t = t.strip_suffix('>').unwrap_or(t);
    t.trim().to_string()
}

/// The recipient blocks of one message, or `None` if it is not a DSN (not a
/// `multipart/report` with a delivery-status part).
#[must_use]
pub fn parse_dsn(raw: &[u8]) -> Option<Vec<Bounce>> {
    let message = MessageParser::default().parse(raw)?;
    let root = message.root_part().content_type()?;
    if !root.ctype().eq_ignore_ascii_case("multipart")
        || !root
            .subtype()
            .is_some_and(|s| s.eq_ignore_ascii_case("report"))
    {
        return None;
    }
    let mut status: Option<Cow<'_, str>> = None;
    let mut original: Option<String> = None;
    for part in &message.parts {
        let Some(ct) = part.content_type() else {
            continue;
        };
        let (ctype, sub) = (
            ct.ctype().to_ascii_lowercase(),
            ct.subtype().unwrap_or("").to_ascii_lowercase(),
        );
        match (ctype.as_str(), sub.as_str()) {
            ("message", "delivery-status" | "global-delivery-status") if status.is_none() => {
                status = Some(String::from_utf8_lossy(part.contents()));
            }
            ("message", "rfc822" | "global") if original.is_none() => {
                original = match &part.body {
                    PartType::Message(m) => m.message_id().map(normalize_message_id),
                    _ => header_message_id(part.contents()),
                };
            }
            ("text", "rfc822-headers" | "global-headers") if original.is_none() => {
                original = header_message_id(part.contents());
            }
            _ => {}
        }
    }
    let status = status?;
    let mut blocks = field_blocks(&status).into_iter();
    let per_message = blocks.next().unwrap_or_default();
    let reporting_mta = field(&per_message, "reporting-mta").map(|v| strip_type(&v));
    let original = original
        .or_else(|| field(&per_message, "x-original-message-id").map(|v| normalize_message_id(&v)));
    let mut out = Vec::new();
    for block in blocks {
        let Some(recipient) = field(&block, "final-recipient") else {
            continue;
        };
        out.push(Bounce {
            original_message_id: original.clone(),
            final_recipient: strip_type(&recipient),
            original_recipient: field(&block, "original-recipient").map(|v| strip_type(&v)),
            action: Action::parse(&field(&block, "action").unwrap_or_default()),
            status: field(&block, "status")
                .map(|s| s.split_whitespace().next().unwrap_or_default().to_string())
                .unwrap_or_default(),
            diagnostic: field(&block, "diagnostic-code").map(|v| strip_type(&v)),
            reporting_mta: reporting_mta.clone(),
        });
    }
    Some(out)
}

/// The Message-ID in a block of headers (an attached original's headers).
fn header_message_id(headers: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(headers);
    let end = text
        .find("\r\n\r\n")
        .or_else(|| text.find("\n\n"))
        .unwrap_or(text.len());
    let block = field_blocks(&text[..end]).into_iter().next()?;
    field(&block, "message-id")
        .map(|v| normalize_message_id(&v))
        .filter(|v| !v.is_empty())
}

/// A block of `Name: value` fields, names lower-cased, continuation lines unfolded.
type Fields = Vec<(String, String)>;

/// Splits a delivery-status body into blocks (separated by blank lines) of fields.
fn field_blocks(text: &str) -> Vec<Fields> {
    let mut blocks = Vec::new();
    let mut current: Fields = Vec::new();
    for line in text.lines() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            if !current.is_empty() {
                blocks.push(std::mem::take(&mut current));
            }
            continue;
        }
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = current.last_mut() {
                value.push(' ');
                value.push_str(line.trim());
            }
            continue;
        }
        if let Some((name, value)) = line.split_once(':') {
            current.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
        }
    }
    if !current.is_empty() {
        blocks.push(current);
    }
    blocks
}

fn field(block: &Fields, name: &str) -> Option<String> {
    block
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.clone())
}

/// "rfc822; user@example.jp" → "user@example.jp" (the address-type or diagnostic-type off).
fn strip_type(value: &str) -> String {
    match value.split_once(';') {
        Some((_, rest)) => rest.trim().to_string(),
        None => value.trim().to_string(),
    }
}

/// The messages of an mbox file: split at `From ` lines (at the start of the file or after a
/// line break), the separator line dropped, `>From ` (any number of `>`) unescaped by one.
/// Data that does not start with `From ` is one message (an .eml file).
#[must_use]
pub fn split_mbox(data: &[u8]) -> Vec<Cow<'_, [u8]>> {
    if !data.starts_with(b"From ") {
        return if data.iter().all(u8::is_ascii_whitespace) {
            Vec::new()
        } else {
            vec![Cow::Borrowed(data)]
        };
    }
    let mut starts = Vec::new();
    let mut pos = 0;
    while pos < data.len() {
        let end = data[pos..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(data.len(), |i| pos + i + 1);
        if data[pos..end].starts_with(b"From ") {
            starts.push((pos, end));
        }
        pos = end;
    }
    let mut out = Vec::with_capacity(starts.len());
    for (i, &(_, body_start)) in starts.iter().enumerate() {
        let body_end = starts.get(i + 1).map_or(data.len(), |&(s, _)| s);
        let body = &data[body_start..body_end];
        out.push(unescape_from(body));
    }
    out
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

/// What a mailbox held.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MailboxReport {
    /// Every recipient block of every DSN, in mailbox order (delayed ones included: see
    /// [`Bounce::is_bounce`]).
    pub reports: Vec<Bounce>,
    /// Messages read.
    pub messages: usize,
    /// Messages that were not DSNs (skipped).
    pub skipped: usize,
}

impl MailboxReport {
    /// The permanent failures only.
    pub fn bounces(&self) -> impl Iterator<Item = &Bounce> {
        self.reports.iter().filter(|b| b.is_bounce())
    }
}

/// Reads an mbox file or a single .eml: every DSN's recipient blocks, and how many messages
/// were skipped as not DSNs.
#[must_use]
pub fn read_mailbox(data: &[u8]) -> MailboxReport {
    let mut report = MailboxReport::default();
    for message in split_mbox(data) {
        report.messages += 1;
        match parse_dsn(&message) {
            Some(bounces) => report.reports.extend(bounces),
            None => report.skipped += 1,
        }
    }
    report
}
