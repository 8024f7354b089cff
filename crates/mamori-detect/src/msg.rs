//! Mailboxes (`.mbox`) and Outlook messages (`.msg`).
//!
//! An mbox is split into messages as it is read (a message starts at a `From ` line at the start
//! of the file or after an empty line), so a mailbox of any size is read one message at a time;
//! each message is parsed like an `.eml`. An Outlook message is an OLE compound file: its
//! subject, sender, recipients and bodies are MAPI properties (`__substg1.0_XXXXYYYY` streams),
//! its attachments are storages with the file's name and bytes.

use crate::office::read_stream;
use std::io::{BufRead, Read, Seek};

/// One message of a mailbox: its 1-based number, the line of the mailbox its `From ` line is
/// on, and its bytes (without the `From ` line). `oversized` is set when the message was longer
/// than the limit and its bytes were dropped.
pub struct MboxMessage {
    pub number: u64,
    pub from_line: u64,
    pub bytes: Vec<u8>,
    pub oversized: bool,
}

/// Splits a mailbox into messages, calling `each` for every one. A message longer than `max`
/// bytes is handed over empty with `oversized` set. Lines starting `>From ` are unquoted.
pub fn split_mbox<R: BufRead>(
    mut r: R,
    max: u64,
    mut each: impl FnMut(MboxMessage),
) -> std::io::Result<u64> {
    let mut line = Vec::new();
    let mut line_no = 0u64;
    let mut prev_blank = true;
    let mut cur: Option<MboxMessage> = None;
    let mut count = 0u64;
    loop {
        line.clear();
        let n = r.read_until(b'\n', &mut line)?;
        if n == 0 {
            break;
        }
        line_no += 1;
        if prev_blank && line.starts_with(b"From ") {
            if let Some(m) = cur.take() {
                each(m);
            }
            count += 1;
            cur = Some(MboxMessage {
                number: count,
                from_line: line_no,
                bytes: Vec::new(),
                oversized: false,
            });
            prev_blank = false;
            continue;
        }
        prev_blank = line == b"\n" || line == b"\r\n";
        let Some(m) = cur.as_mut() else {
            // Text before the first From line: a mailbox that does not start like one.
            if line.iter().any(|b| !b.is_ascii_whitespace()) {
                return Err(std::io::Error::other(
                    "not an mbox: the file does not start with a \"From \" line",
                ));
            }
            continue;
        };
        if m.oversized {
            continue;
        }
        let body: &[u8] = if line.starts_with(b">From ") {
            &line[1..]
        } else {
            &line
        };
        if (m.bytes.len() + body.len()) as u64 > max {
            m.oversized = true;
            m.bytes = Vec::new();
            continue;
        }
        m.bytes.extend_from_slice(body);
    }
    if let Some(m) = cur.take() {
        each(m);
    }
    Ok(count)
}

/// An Outlook message's text: labelled header lines, the body's lines, and its attachments.
#[derive(Debug, Default)]
pub struct Msg {
    pub lines: Vec<String>,
    pub attachments: Vec<(String, Vec<u8>)>,
    pub warnings: Vec<String>,
}

/// A string property of `storage` (a folder path in the compound file): the Unicode (`001F`)
/// stream, or the 8-bit (`001E`) one decoded with the detected code page.
fn string_prop<F: Read + Seek>(
    cfb: &mut cfb::CompoundFile<F>,
    storage: &str,
    tag: &str,
    max: u64,
) -> Result<Option<String>, String> {
    if let Some(b) = read_stream(cfb, &format!("{storage}/__substg1.0_{tag}001F"), max)? {
        let s = encoding_rs::UTF_16LE.decode_without_bom_handling(&b).0;
        return Ok(Some(s.trim_end_matches('\0').to_owned()));
    }
    if let Some(b) = read_stream(cfb, &format!("{storage}/__substg1.0_{tag}001E"), max)? {
        let b = b.strip_suffix(b"\0").unwrap_or(&b);
        let s = if let Ok(s) = std::str::from_utf8(b) {
            s.to_owned()
        } else {
            let mut det = chardetng::EncodingDetector::new();
            det.feed(b, true);
            let enc = det.guess(Some(b"jp"), true);
            enc.decode_without_bom_handling(b).0.into_owned()
        };
        return Ok(Some(s));
    }
    Ok(None)
}

/// Reads an Outlook `.msg`: subject, sender, recipients (display names and addresses), the plain
/// body (or the HTML body with tags removed when there is no plain one), and attachments by name.
/// Limits: `max` bytes per stream and in total for attachments.
pub fn read_msg(bytes: &[u8], max: u64) -> Result<Msg, String> {
    let mut cfb = cfb::CompoundFile::open(std::io::Cursor::new(bytes))
        .map_err(|e| format!("not a readable Outlook message (OLE): {e}"))?;
    if !cfb.is_stream("/__properties_version1.0") {
        return Err("not an Outlook message: no property stream".to_owned());
    }
    let mut msg = Msg::default();
    let mut total = 0u64;
    read_at(&mut cfb, "", max, &mut total, 0, &mut msg)?;
    Ok(msg)
}

/// The message whose properties are in `root` ("" for the file's own, or the storage of an
/// embedded message): its lines and attachments into `msg`. Attachment bytes together stay
/// within `max` (`total`); embedded messages are followed 3 deep.
fn read_at<F: Read + Seek>(
    cfb: &mut cfb::CompoundFile<F>,
    root: &str,
    max: u64,
    total: &mut u64,
    depth: u32,
    msg: &mut Msg,
) -> Result<(), String> {
    let headers = [
        ("0037", "Subject"),
        ("0C1A", "From"),
        ("0C1F", "From"),
        ("5D01", "From"),
        ("0E04", "To"),
        ("0E03", "Cc"),
        ("0E02", "Bcc"),
    ];
    for (tag, label) in headers {
        if let Some(v) = string_prop(cfb, root, tag, max)? {
            if !v.trim().is_empty() {
                msg.lines.push(format!("{label}: {v}"));
            }
        }
    }
    // Recipients and attachments are storages named __recip_version1.0_#XXXXXXXX and
    // __attach_version1.0_#XXXXXXXX in the message's storage.
    let mut recips = Vec::new();
    let mut attachments = Vec::new();
    let listing = if root.is_empty() { "/" } else { root };
    for e in cfb
        .read_storage(listing)
        .map_err(|e| format!("cannot list {listing}: {e}"))?
    {
        if !e.is_storage() {
            continue;
        }
        let name = e.name().to_owned();
        if name.starts_with("__recip_version1.0_") {
            recips.push(name);
        } else if name.starts_with("__attach_version1.0_") {
            attachments.push(name);
        }
    }
    recips.sort();
    attachments.sort();
    for r in &recips {
        let storage = format!("{root}/{r}");
        let display = string_prop(cfb, &storage, "3001", max)?.unwrap_or_default();
        let smtp = match string_prop(cfb, &storage, "39FE", max)? {
            Some(s) if !s.is_empty() => s,
            _ => string_prop(cfb, &storage, "3003", max)?.unwrap_or_default(),
        };
        msg.lines.push(format!("Recipient: {display} <{smtp}>"));
    }
    let body = string_prop(cfb, root, "1000", max)?;
    match body {
        Some(b) => msg.lines.extend(b.lines().map(str::to_owned)),
        None => {
            if let Some(html) = read_stream(cfb, &format!("{root}/__substg1.0_10130102"), max)? {
                let text = String::from_utf8_lossy(&html).into_owned();
                let mut st = crate::formats::HtmlState::default();
                let mut out = String::new();
                for l in text.lines() {
                    st.strip_line(l, &mut out);
                    msg.lines.push(out.clone());
                }
            }
        }
    }
    for (i, a) in attachments.iter().enumerate() {
        let storage = format!("{root}/{a}");
        let name = match string_prop(cfb, &storage, "3707", max)? {
            Some(n) if !n.is_empty() => n,
            _ => string_prop(cfb, &storage, "3704", max)?
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| format!("attachment {}", i + 1)),
        };
        let embedded = format!("{storage}/__substg1.0_3701000D");
        if cfb.is_storage(&embedded) {
            // A message attached as a message (a forwarded mail): its text follows.
            if depth >= 3 {
                msg.warnings.push(format!(
                    "attached message {} ({name}) nested deeper than 3; not read",
                    i + 1
                ));
                continue;
            }
            msg.lines.push(format!("Attached message: {name}"));
            read_at(cfb, &embedded, max, total, depth + 1, msg)?;
            continue;
        }
        let data_path = format!("{storage}/__substg1.0_37010102");
        if !cfb.is_stream(&data_path) {
            msg.warnings.push(format!(
                "attachment {} ({name}) is an embedded OLE object; not read",
                i + 1
            ));
            continue;
        }
        let len = cfb.entry(&data_path).map_or(0, |e| e.len());
        if *total + len > max {
            msg.warnings.push(format!(
                "attachment {} ({name}) is over the size limit; not read",
                i + 1
            ));
            continue;
        }
        *total += len;
        if let Some(data) = read_stream(cfb, &data_path, max)? {
            msg.attachments.push((name, data));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mbox_messages_and_their_lines() {
        let mbox = b"From a@example.jp Mon Jan  1 00:00:00 2024\nSubject: one\n\n>From here\n\nFrom b@example.jp Mon Jan  1 00:00:00 2024\nSubject: two\n\nbody\n";
        let mut got = Vec::new();
        let n = split_mbox(&mbox[..], 1 << 20, |m| {
            got.push((m.number, m.from_line, String::from_utf8(m.bytes).unwrap()));
        })
        .unwrap();
        assert_eq!(n, 2);
        assert_eq!(got[0], (1, 1, "Subject: one\n\nFrom here\n\n".to_owned()));
        assert_eq!(got[1], (2, 6, "Subject: two\n\nbody\n".to_owned()));
        assert!(split_mbox(&b"hello\nFrom x\n"[..], 100, |_| {}).is_err());
        let mut over = Vec::new();
        split_mbox(&mbox[..], 10, |m| over.push(m.oversized)).unwrap();
        assert_eq!(over, vec![true, true]);
    }

    #[test]
    fn not_an_ole_file_is_an_error() {
        assert!(read_msg(b"hello", 1 << 20).is_err());
    }
}
