//! Format helpers: HTML/XML tag stripping (streaming, line by line), JSON key/value pairs on a
//! line, and e-mail through mail-parser. Spreadsheets are read in `sheets`, word-processing and
//! presentation documents in `office`.

/// Tag-stripping state carried from one line to the next (a tag or comment may span lines).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct HtmlState {
    in_tag: bool,
    quote: Option<char>,
    in_comment: bool,
    /// Inside <script> or <style>: text there is not content.
    in_raw: bool,
    tag_name: String,
}

impl HtmlState {
    /// Replaces each tag by one space and decodes entities, into `out` (cleared first).
    pub fn strip_line(&mut self, line: &str, out: &mut String) {
        out.clear();
        let mut chars = line.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            if self.in_comment {
                if c == '-' && line[i..].starts_with("-->") {
                    self.in_comment = false;
                    chars.next();
                    chars.next();
                    out.push(' ');
                }
                continue;
            }
            if self.in_tag {
                match (self.quote, c) {
                    (Some(q), c) if c == q => self.quote = None,
                    (Some(_), _) => {}
                    (None, '"' | '\'') => self.quote = Some(c),
                    (None, '>') => {
                        self.in_tag = false;
                        let name = self.tag_name.to_ascii_lowercase();
                        if name == "script" || name == "style" {
                            self.in_raw = true;
                        } else if name == "/script" || name == "/style" {
                            self.in_raw = false;
                        }
                        out.push(' ');
                    }
                    (None, c) => {
                        if self.tag_name.len() < 10
                            && (c.is_ascii_alphanumeric() || (c == '/' && self.tag_name.is_empty()))
                        {
                            self.tag_name.push(c);
                        } else if !self.tag_name.is_empty() {
                            // Name complete; pad so later characters are not appended.
                            self.tag_name.push_str("          ");
                            self.tag_name
                                .truncate(10.max(self.tag_name.trim_end().len()));
                        }
                    }
                }
                continue;
            }
            if c == '<' {
                if line[i..].starts_with("<!--") {
                    self.in_comment = true;
                    continue;
                }
                let next = line[i + 1..].chars().next();
                if next.is_some_and(|n| n.is_ascii_alphabetic() || n == '/' || n == '!' || n == '?')
                {
                    self.in_tag = true;
                    self.tag_name.clear();
                    continue;
                }
            }
            if self.in_raw {
                continue;
            }
            if c == '&' {
                if let Some((decoded, len)) = entity(&line[i..]) {
                    out.push(decoded);
                    for _ in 1..len {
                        chars.next();
                    }
                    continue;
                }
            }
            out.push(c);
        }
        self.tag_name = self.tag_name.trim_end().to_owned();
    }
}

/// Decodes one entity at the start of `s`: (character, number of chars consumed).
fn entity(s: &str) -> Option<(char, usize)> {
    // Entities are ASCII: look for the ';' among the first 12 bytes without slicing a character.
    let end = s.bytes().take(12).position(|b| b == b';')?;
    let body = &s[1..end];
    let c = match body {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => ' ',
        _ => {
            let num = body.strip_prefix('#')?;
            let v = if let Some(hex) = num.strip_prefix(['x', 'X']) {
                u32::from_str_radix(hex, 16).ok()?
            } else {
                num.parse().ok()?
            };
            char::from_u32(v)?
        }
    };
    Some((c, s[..=end].chars().count()))
}

/// A `"key": value` pair on one line: byte ranges of the key and of the value (inside quotes).
pub struct Pair {
    pub key: (usize, usize),
    pub value: (usize, usize),
    pub escaped: bool,
}

/// Finds `"key": "value"` and `"key": 123` pairs on a line of JSON (pretty-printed or JSONL).
pub fn json_pairs(line: &str) -> Vec<Pair> {
    let b = line.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let mut last_key: Option<(usize, usize)> = None;
    let mut expect_value = false;
    while i < b.len() {
        match b[i] {
            b'"' => {
                let (s, e, escaped) = string_end(b, i + 1);
                if expect_value {
                    if let Some(k) = last_key.take() {
                        out.push(Pair {
                            key: k,
                            value: (s, e),
                            escaped,
                        });
                    }
                    expect_value = false;
                } else {
                    last_key = Some((s, e));
                }
                i = e + 1;
            }
            b':' if last_key.is_some() => {
                expect_value = true;
                i += 1;
            }
            b' ' | b'\t' => i += 1,
            c if expect_value && (c.is_ascii_digit() || c == b'-') => {
                let s = i;
                while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'-' || b[i] == b'.') {
                    i += 1;
                }
                if let Some(k) = last_key.take() {
                    out.push(Pair {
                        key: k,
                        value: (s, i),
                        escaped: false,
                    });
                }
                expect_value = false;
            }
            _ => {
                if b[i] != b':' {
                    last_key = if expect_value {
                        None
                    } else {
                        last_key.filter(|_| false)
                    };
                    expect_value = false;
                }
                i += 1;
            }
        }
    }
    out
}

/// (start, end, has escapes) of a string body starting at `s` (after the opening quote).
fn string_end(b: &[u8], s: usize) -> (usize, usize, bool) {
    let mut i = s;
    let mut escaped = false;
    while i < b.len() {
        match b[i] {
            b'\\' => {
                escaped = true;
                i += 2;
            }
            b'"' => return (s, i, escaped),
            _ => i += 1,
        }
    }
    (s, b.len().max(s), escaped)
}

/// Decodes JSON string escapes (\n, \", \uXXXX with surrogate pairs).
pub fn json_unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('u') => {
                let hex: String = chars.by_ref().take(4).collect();
                let Ok(mut v) = u32::from_str_radix(&hex, 16) else {
                    continue;
                };
                if (0xD800..0xDC00).contains(&v) {
                    let rest = chars.as_str();
                    if rest.starts_with("\\u") {
                        if let Ok(lo) = u32::from_str_radix(rest.get(2..6).unwrap_or(""), 16) {
                            if (0xDC00..0xE000).contains(&lo) {
                                v = 0x10000 + ((v - 0xD800) << 10) + (lo - 0xDC00);
                                chars.by_ref().take(6).for_each(drop);
                            }
                        }
                    }
                }
                out.push(char::from_u32(v).unwrap_or('\u{FFFD}'));
            }
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

/// An e-mail as lines to scan (with their line numbers in the raw message) and attachments.
pub struct Mail {
    pub charset: &'static str,
    pub lines: Vec<(u64, String)>,
    pub attachments: Vec<(String, Vec<u8>)>,
}

/// Parses an e-mail: address and subject headers (encoded words decoded) on their own raw
/// lines, text bodies (transfer encoding and charset decoded) from the line their part's body
/// starts on, and attachments for recursive scanning.
pub fn parse_eml(raw: &[u8]) -> Option<Mail> {
    use mail_parser::{Address, HeaderName, HeaderValue, MimeHeaders};
    let msg = mail_parser::MessageParser::default().parse(raw)?;
    let line_of = |offset: usize| {
        memchr::memchr_iter(b'\n', &raw[..offset.min(raw.len())]).count() as u64 + 1
    };
    let mut lines = Vec::new();
    let mut charset = "UTF-8";
    for h in msg.headers() {
        let label = match &h.name {
            HeaderName::From => "From",
            HeaderName::To => "To",
            HeaderName::Cc => "Cc",
            HeaderName::Bcc => "Bcc",
            HeaderName::ReplyTo => "Reply-To",
            HeaderName::Sender => "Sender",
            HeaderName::Subject => "Subject",
            HeaderName::ContentType => {
                if let HeaderValue::ContentType(ct) = &h.value {
                    if let Some(cs) = ct.attribute("charset") {
                        charset = charset_name(cs);
                    }
                }
                continue;
            }
            _ => continue,
        };
        let text = match &h.value {
            HeaderValue::Address(Address::List(list)) => list
                .iter()
                .map(|a| {
                    format!(
                        "{} <{}>",
                        a.name.as_deref().unwrap_or(""),
                        a.address.as_deref().unwrap_or("")
                    )
                })
                .collect::<Vec<_>>()
                .join(", "),
            HeaderValue::Address(Address::Group(groups)) => groups
                .iter()
                .flat_map(|g| g.addresses.iter())
                .map(|a| {
                    format!(
                        "{} <{}>",
                        a.name.as_deref().unwrap_or(""),
                        a.address.as_deref().unwrap_or("")
                    )
                })
                .collect::<Vec<_>>()
                .join(", "),
            HeaderValue::Text(t) => t.to_string(),
            HeaderValue::TextList(l) => l.join(", "),
            _ => continue,
        };
        lines.push((line_of(h.offset_field), format!("{label}: {text}")));
    }
    for (i, &part_id) in msg.text_body.iter().enumerate() {
        let Some(part) = msg.part(part_id) else {
            continue;
        };
        if let Some(cs) = part.content_type().and_then(|ct| ct.attribute("charset")) {
            charset = charset_name(cs);
        }
        let start = line_of(part.offset_body);
        if let Some((enc, body)) = sniffed_part_text(raw, part) {
            charset = enc;
            for (k, l) in body.lines().enumerate() {
                lines.push((start + k as u64, l.to_owned()));
            }
        } else if let Some(body) = msg.body_text(i) {
            for (k, l) in body.lines().enumerate() {
                lines.push((start + k as u64, l.to_owned()));
            }
        }
    }
    let attachments = msg
        .attachments()
        .filter(|a| !a.is_message())
        .map(|a| {
            // A text attachment without charset= was decoded by mail-parser as if it were
            // UTF-8; its bytes are scanned instead, and their encoding sniffed as for a file.
            let data = if a.is_text() && part_charset(a).is_none() {
                transfer_decoded(raw, a).unwrap_or_else(|| a.contents().to_vec())
            } else {
                a.contents().to_vec()
            };
            (a.attachment_name().unwrap_or("attachment").to_owned(), data)
        })
        .collect();
    Some(Mail {
        charset,
        lines,
        attachments,
    })
}

fn part_charset<'p>(part: &'p mail_parser::MessagePart<'_>) -> Option<&'p str> {
    use mail_parser::MimeHeaders;
    part.content_type().and_then(|ct| ct.attribute("charset"))
}

/// A part's body with only its transfer encoding (base64, quoted-printable) undone.
fn transfer_decoded(raw: &[u8], part: &mail_parser::MessagePart<'_>) -> Option<Vec<u8>> {
    use mail_parser::decoders::{base64::base64_decode, quoted_printable::quoted_printable_decode};
    let body = raw.get(part.offset_body..part.offset_end)?;
    match part.encoding {
        mail_parser::Encoding::Base64 => base64_decode(body),
        mail_parser::Encoding::QuotedPrintable => quoted_printable_decode(body),
        mail_parser::Encoding::None => Some(body.to_vec()),
    }
}

/// A plain-text body part without charset= whose bytes are not UTF-8: decoded with the encoding
/// sniffed as for a file (a mail client that left the charset out wrote Shift_JIS), as
/// (encoding name, text). `None` when the part has a charset, is HTML or is UTF-8 anyway.
fn sniffed_part_text(
    raw: &[u8],
    part: &mail_parser::MessagePart<'_>,
) -> Option<(&'static str, String)> {
    if !matches!(part.body, mail_parser::PartType::Text(_)) || part_charset(part).is_some() {
        return None;
    }
    let bytes = transfer_decoded(raw, part)?;
    if std::str::from_utf8(&bytes).is_ok() {
        return None;
    }
    let sn = crate::decode::sniff(&bytes, true);
    if sn.binary {
        return None;
    }
    let text = if sn.mixed {
        bytes
            .split(|&b| b == b'\n')
            .map(|l| match std::str::from_utf8(l) {
                Ok(t) => t.to_owned(),
                Err(_) => crate::decode::line_as_cp932(l)
                    .unwrap_or_else(|| String::from_utf8_lossy(l).into_owned()),
            })
            .collect::<Vec<_>>()
            .join("\n")
    } else {
        sn.encoding
            .decode_without_bom_handling(&bytes[sn.bom_len..])
            .0
            .into_owned()
    };
    Some((sn.name(), text))
}

fn charset_name(cs: &str) -> &'static str {
    match encoding_rs::Encoding::for_label(cs.as_bytes()) {
        Some(enc) => crate::decode::encoding_name(enc),
        None => "UTF-8",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_tags_and_entities_are_stripped_across_lines() {
        let mut st = HtmlState::default();
        let mut out = String::new();
        st.strip_line(
            "<td class=\"x\">山田太郎</td><td>&#x30;90-1234-5678",
            &mut out,
        );
        assert_eq!(out.trim(), "山田太郎  090-1234-5678");
        st.strip_line("<script>var tel='03-1111-2222';", &mut out);
        assert_eq!(out.trim(), "");
        st.strip_line("</script><p a='", &mut out);
        st.strip_line("'>本文</p>", &mut out);
        assert_eq!(out.trim(), "本文");
        // Found by fuzzing: an '&' followed by multi-byte text must not slice a character.
        st.strip_line("&東京都;", &mut out);
        assert_eq!(out, "&東京都;");
    }

    #[test]
    fn json_pairs_on_a_line() {
        let line = r#"{"name": "山田", "age": 42, "tel":"03-1234-5678", "esc": "\u5c71"}"#;
        let pairs = json_pairs(line);
        let kv: Vec<(&str, &str)> = pairs
            .iter()
            .map(|p| (&line[p.key.0..p.key.1], &line[p.value.0..p.value.1]))
            .collect();
        assert_eq!(
            kv,
            vec![
                ("name", "山田"),
                ("age", "42"),
                ("tel", "03-1234-5678"),
                ("esc", r"\u5c71")
            ]
        );
        assert_eq!(json_unescape(r"\u5c71\u7530 \ud83d\ude00"), "山田 😀");
    }
}
