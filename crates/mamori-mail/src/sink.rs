//! A small, real ESMTP server that keeps what it receives, for tests.
//!
//! It speaks enough of RFC 5321 for lettre and any other client: the 220 greeting, `EHLO`
//! (advertising `8BITMIME`, `SMTPUTF8`, `SIZE`, `PIPELINING`, `ENHANCEDSTATUSCODES`) and `HELO`,
//! `MAIL FROM`, `RCPT TO`, `DATA` (354, dot-unstuffing, end at `CRLF.CRLF`), `RSET`, `NOOP`,
//! `VRFY` (252), `QUIT`; 502 for anything else. Command lines are limited to 512 octets and text
//! lines to 1000 (both including CRLF), messages to [`MAX_MESSAGE_SIZE`]. Each connection may
//! carry several messages, connections are served concurrently, and a misbehaving client gets an
//! error reply or a closed connection, never a panic.
//!
//! [`SinkMode`] makes the sink answer 451 to `MAIL FROM` or 550 to `RCPT TO`, to test how the
//! sender handles temporary and permanent failures.

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

/// Largest message accepted (advertised with `SIZE`).
pub const MAX_MESSAGE_SIZE: usize = 10 * 1024 * 1024;
/// Longest command line, CRLF included (RFC 5321 §4.5.3.1.4).
const MAX_COMMAND_LINE: usize = 512;
/// Longest text line in DATA, CRLF included (RFC 5321 §4.5.3.1.6).
const MAX_TEXT_LINE: usize = 1000;
/// Recipients per message (RFC 5321 §4.5.3.1.8 asks for at least 100).
const MAX_RECIPIENTS: usize = 100;
/// Bad commands before the sink hangs up.
const MAX_ERRORS: usize = 20;
/// A connection silent this long is closed (RFC 5321 §4.5.3.2.7 suggests 5 minutes).
const IDLE_TIMEOUT: Duration = Duration::from_secs(300);
/// The name the sink gives itself in replies.
const HOSTNAME: &str = "mamori-smtp-sink";

/// How the sink answers senders.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SinkMode {
    /// Accept every message.
    #[default]
    Accept,
    /// Answer `451` to `MAIL FROM` (a temporary failure).
    TempFail,
    /// Answer `550` to `RCPT TO` (a permanent failure).
    Reject,
}

/// One message as received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Received {
    /// The envelope sender (`MAIL FROM`), without angle brackets; empty for the null sender.
    pub from: String,
    /// The envelope recipients (`RCPT TO`), in order, without angle brackets.
    pub to: Vec<String>,
    /// The raw message (headers and body) after dot-unstuffing, CRLF line ends, without the final
    /// `.` line.
    pub data: Vec<u8>,
    /// When the final `.` arrived.
    pub at: SystemTime,
}

/// A received message decoded by `mail-parser`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ParsedMail {
    /// The decoded `Subject`.
    pub subject: Option<String>,
    /// The first text/plain body, decoded, with line ends normalised to `\n` and trailing empty
    /// lines dropped (SMTP clients such as lettre add some to unencoded bodies), so it ends in at
    /// most one `\n`.
    pub text: String,
    /// The address of the `From` header.
    pub from: Option<String>,
    /// The addresses of the `To` header.
    pub to: Vec<String>,
    /// The `Message-ID`, without angle brackets.
    pub message_id: Option<String>,
    /// Every top-level header in order: name as written, value decoded — RFC 2047 words in text
    /// and display names decoded, addresses as `Name <a@b>` joined by `, `, dates in RFC 2822
    /// form, Message-IDs without brackets — or, for MIME and trace headers, the raw value unfolded
    /// and trimmed.
    pub headers: Vec<(String, String)>,
}

impl ParsedMail {
    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

impl Received {
    /// Decodes the message; fields the message lacks are empty.
    pub fn parsed(&self) -> ParsedMail {
        use mail_parser::{HeaderValue, MessageParser};

        // mail-parser 0.9 applies `default_header_text` only when some header parser is
        // configured, so name them all.
        let Some(message) = MessageParser::new()
            .with_mime_headers()
            .with_date_headers()
            .with_address_headers()
            .with_message_ids()
            .default_header_text()
            .parse(&self.data)
        else {
            return ParsedMail::default();
        };
        let addresses = |a: Option<&mail_parser::Address<'_>>| -> Vec<String> {
            a.map(|a| {
                a.iter()
                    .filter_map(|addr| addr.address().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
        };
        let raw = &self.data;
        let headers = message
            .headers()
            .iter()
            .map(|h| {
                let value = match h.value() {
                    HeaderValue::Text(text) => text.to_string(),
                    HeaderValue::TextList(list) => list.join(", "),
                    HeaderValue::Address(list) => list
                        .iter()
                        .map(|a| match (a.name(), a.address()) {
                            (Some(name), Some(address)) => format!("{name} <{address}>"),
                            (None, Some(address)) => address.to_owned(),
                            (Some(name), None) => name.to_owned(),
                            (None, None) => String::new(),
                        })
                        .collect::<Vec<_>>()
                        .join(", "),
                    HeaderValue::DateTime(date) => date.to_rfc822(),
                    _ => raw
                        .get(h.offset_start()..h.offset_end())
                        .map(|bytes| unfold(&String::from_utf8_lossy(bytes)))
                        .unwrap_or_default(),
                };
                (h.name().to_owned(), value)
            })
            .collect();
        ParsedMail {
            subject: message.subject().map(str::to_owned),
            text: message
                .body_text(0)
                .map(|t| normalise_text(&t))
                .unwrap_or_default(),
            from: addresses(message.from()).into_iter().next(),
            to: addresses(message.to()),
            message_id: message.message_id().map(str::to_owned),
            headers,
        }
    }
}

fn normalise_text(text: &str) -> String {
    let text = text.replace("\r\n", "\n");
    let body = text.trim_end_matches('\n');
    if body.len() < text.len() {
        format!("{body}\n")
    } else {
        text
    }
}

fn unfold(value: &str) -> String {
    value
        .split(['\r', '\n'])
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

struct Shared {
    messages: Mutex<Vec<Received>>,
    count: watch::Sender<usize>,
    mode: Mutex<SinkMode>,
}

impl Shared {
    fn mode(&self) -> SinkMode {
        *self.mode.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Stores a message and returns its number, starting at 1.
    fn push(&self, message: Received) -> usize {
        let mut messages = self.messages.lock().unwrap_or_else(PoisonError::into_inner);
        messages.push(message);
        let n = messages.len();
        drop(messages);
        self.count.send_replace(n);
        n
    }
}

/// A running SMTP server on loopback that keeps what it receives. Dropping it (or [`stop`])
/// closes the listener and every open connection.
///
/// [`stop`]: SmtpSink::stop
pub struct SmtpSink {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl std::fmt::Debug for SmtpSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSink")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl SmtpSink {
    /// Starts on `127.0.0.1` with a port chosen by the system.
    pub async fn start() -> SmtpSink {
        SmtpSink::start_on(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
            .await
            .expect("SmtpSink: cannot listen on 127.0.0.1:0")
    }

    /// Starts on `addr`.
    pub async fn start_on(addr: SocketAddr) -> io::Result<SmtpSink> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            messages: Mutex::new(Vec::new()),
            count: watch::Sender::new(0),
            mode: Mutex::new(SinkMode::Accept),
        });
        let task = tokio::spawn(serve(listener, Arc::clone(&shared)));
        Ok(SmtpSink { addr, shared, task })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Every message received so far, in order of arrival.
    pub fn messages(&self) -> Vec<Received> {
        self.shared
            .messages
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Waits until at least `n` messages have arrived and returns all of them.
    ///
    /// # Panics
    ///
    /// If fewer than `n` arrive within `timeout`, naming how many did.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Received> {
        let mut count = self.shared.count.subscribe();
        if tokio::time::timeout(timeout, count.wait_for(|&c| c >= n))
            .await
            .is_err()
        {
            let got = *count.borrow();
            panic!(
                "SmtpSink::wait_for: expected {n} message(s) on {} within {timeout:?}, \
                 but {got} arrived",
                self.addr
            );
        }
        self.messages()
    }

    /// Waits, without limit, until more than `seen` messages have arrived and returns those after
    /// the first `seen`.
    pub async fn wait_new(&self, seen: usize) -> Vec<Received> {
        let mut count = self.shared.count.subscribe();
        // The sender lives in `self.shared`, so the channel cannot close while we wait.
        let _ = count.wait_for(|&c| c > seen).await;
        let messages = self
            .shared
            .messages
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        messages.get(seen..).unwrap_or_default().to_vec()
    }

    /// Changes how later commands are answered (also on open connections).
    pub fn set_mode(&self, mode: SinkMode) {
        *self
            .shared
            .mode
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = mode;
    }

    /// Stops listening and closes every connection.
    pub fn stop(self) {
        drop(self);
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Accepts connections until aborted; aborting drops the `JoinSet`, which aborts every session.
async fn serve(listener: TcpListener, shared: Arc<Shared>) {
    let mut sessions = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => {
                    sessions.spawn(session(stream, Arc::clone(&shared)));
                }
                // Out of file descriptors and the like: back off instead of spinning.
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            },
            Some(_) = sessions.join_next(), if !sessions.is_empty() => {}
        }
    }
}

async fn session(stream: TcpStream, shared: Arc<Shared>) {
    let _ = stream.set_nodelay(true);
    let (reader, writer) = stream.into_split();
    let mut conn = Conn {
        reader: BufReader::new(reader),
        writer,
        shared,
    };
    // An I/O error ends the session; there is nobody to tell.
    let _ = conn.run().await;
}

/// One line read with a length limit.
#[derive(Debug, PartialEq, Eq)]
enum Line {
    /// A complete line, line end included.
    Full,
    /// A line longer than the limit; its bytes were discarded.
    TooLong,
    /// The peer closed the connection (a partial last line is discarded).
    Eof,
}

/// Reads one line ending in `\n` into `buf` (cleared first), keeping at most `limit` bytes.
async fn read_line<R: AsyncBufRead + Unpin>(
    reader: &mut R,
    limit: usize,
    buf: &mut Vec<u8>,
) -> io::Result<Line> {
    buf.clear();
    let mut too_long = false;
    loop {
        let available = reader.fill_buf().await?;
        if available.is_empty() {
            return Ok(Line::Eof);
        }
        let (chunk_len, complete) = match available.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (available.len(), false),
        };
        if !too_long {
            if buf.len() + chunk_len > limit {
                too_long = true;
                buf.clear();
            } else {
                buf.extend_from_slice(&available[..chunk_len]);
            }
        }
        reader.consume(chunk_len);
        if complete {
            return Ok(if too_long { Line::TooLong } else { Line::Full });
        }
    }
}

/// The envelope of the transaction in progress.
#[derive(Default)]
struct Transaction {
    from: Option<String>,
    to: Vec<String>,
}

struct Conn<R, W> {
    reader: R,
    writer: W,
    shared: Arc<Shared>,
}

impl<R: AsyncBufRead + Unpin, W: AsyncWrite + Unpin> Conn<R, W> {
    async fn reply(&mut self, text: &str) -> io::Result<()> {
        self.writer.write_all(text.as_bytes()).await?;
        self.writer.write_all(b"\r\n").await?;
        self.writer.flush().await
    }

    /// Reads a line, or `None` after telling an idle client goodbye.
    async fn line(&mut self, limit: usize, buf: &mut Vec<u8>) -> io::Result<Option<Line>> {
        if let Ok(line) =
            tokio::time::timeout(IDLE_TIMEOUT, read_line(&mut self.reader, limit, buf)).await
        {
            line.map(Some)
        } else {
            self.reply("421 4.4.2 Idle timeout, closing connection")
                .await?;
            Ok(None)
        }
    }

    async fn run(&mut self) -> io::Result<()> {
        self.reply(&format!("220 {HOSTNAME} ESMTP ready")).await?;
        let mut greeted = false;
        let mut tx = Transaction::default();
        let mut errors = 0;
        let mut buf = Vec::with_capacity(MAX_COMMAND_LINE);
        loop {
            if errors >= MAX_ERRORS {
                self.reply("421 4.7.0 Too many errors, closing connection")
                    .await?;
                return Ok(());
            }
            match self.line(MAX_COMMAND_LINE, &mut buf).await? {
                None | Some(Line::Eof) => return Ok(()),
                Some(Line::TooLong) => {
                    errors += 1;
                    self.reply("500 5.5.2 Line too long").await?;
                    continue;
                }
                Some(Line::Full) => {}
            }
            let line = String::from_utf8_lossy(trim_line_end(&buf)).into_owned();
            let (verb, arg) = match line.split_once(' ') {
                Some((verb, arg)) => (verb.to_ascii_uppercase(), arg.trim()),
                None => (line.to_ascii_uppercase(), ""),
            };
            let reply: String = match verb.as_str() {
                "EHLO" | "HELO" if arg.is_empty() => {
                    errors += 1;
                    format!("501 5.5.4 {verb} needs a domain or address")
                }
                "EHLO" => {
                    greeted = true;
                    tx = Transaction::default();
                    // Echo the client's name without anything that could break the reply.
                    let client: String =
                        arg.chars().filter(|c| !c.is_control()).take(100).collect();
                    format!(
                        "250-{HOSTNAME} greets {client}\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n\
                         250-SIZE {MAX_MESSAGE_SIZE}\r\n250-PIPELINING\r\n250 ENHANCEDSTATUSCODES"
                    )
                }
                "HELO" => {
                    greeted = true;
                    tx = Transaction::default();
                    format!("250 {HOSTNAME}")
                }
                "MAIL" => match self.mail(greeted, &tx, arg) {
                    Ok(from) => {
                        tx.from = Some(from);
                        "250 2.1.0 Ok".to_owned()
                    }
                    Err(reply) => {
                        errors += usize::from(is_protocol_error(&reply));
                        reply
                    }
                },
                "RCPT" => match self.rcpt(&tx, arg) {
                    Ok(to) => {
                        tx.to.push(to);
                        "250 2.1.5 Ok".to_owned()
                    }
                    Err(reply) => {
                        errors += usize::from(is_protocol_error(&reply));
                        reply
                    }
                },
                "DATA" if !arg.is_empty() => {
                    errors += 1;
                    "501 5.5.4 DATA takes no argument".to_owned()
                }
                "DATA" if tx.from.is_none() => {
                    errors += 1;
                    "503 5.5.1 MAIL FROM first".to_owned()
                }
                "DATA" if tx.to.is_empty() => {
                    errors += 1;
                    "554 5.5.1 No valid recipients".to_owned()
                }
                "DATA" => {
                    let taken = std::mem::take(&mut tx);
                    match self.data(taken).await? {
                        Some(reply) => reply,
                        None => return Ok(()),
                    }
                }
                "RSET" => {
                    tx = Transaction::default();
                    "250 2.0.0 Ok".to_owned()
                }
                "NOOP" => "250 2.0.0 Ok".to_owned(),
                "VRFY" => "252 2.5.2 Cannot verify, but will accept".to_owned(),
                "QUIT" => {
                    self.reply(&format!("221 2.0.0 {HOSTNAME} closing connection"))
                        .await?;
                    return Ok(());
                }
                "" => {
                    errors += 1;
                    "500 5.5.2 Empty command".to_owned()
                }
                _ => {
                    errors += 1;
                    "502 5.5.2 Command not recognised".to_owned()
                }
            };
            self.reply(&reply).await?;
        }
    }

    /// Checks `MAIL FROM:<path> [params]`; `Err` is the reply to send.
    fn mail(&self, greeted: bool, tx: &Transaction, arg: &str) -> Result<String, String> {
        if !greeted {
            return Err("503 5.5.1 EHLO or HELO first".to_owned());
        }
        if tx.from.is_some() {
            return Err("503 5.5.1 Nested MAIL command".to_owned());
        }
        let (path, params) = parse_path(arg, "FROM:")
            .ok_or_else(|| "501 5.5.4 Syntax: MAIL FROM:<address>".to_owned())?;
        for param in params.split_ascii_whitespace() {
            let (key, value) = param.split_once('=').unwrap_or((param, ""));
            match key.to_ascii_uppercase().as_str() {
                "SIZE" => match value.parse::<usize>() {
                    Ok(size) if size > MAX_MESSAGE_SIZE => {
                        return Err("552 5.3.4 Message size exceeds fixed limit".to_owned())
                    }
                    Ok(_) => {}
                    Err(_) => return Err("501 5.5.4 Bad SIZE parameter".to_owned()),
                },
                "BODY" if ["7BIT", "8BITMIME"].contains(&value.to_ascii_uppercase().as_str()) => {}
                "SMTPUTF8" if value.is_empty() => {}
                _ => return Err(format!("555 5.5.4 Unsupported parameter {key}")),
            }
        }
        if self.shared.mode() == SinkMode::TempFail {
            return Err("451 4.3.0 Temporary failure (test sink)".to_owned());
        }
        Ok(path)
    }

    /// Checks `RCPT TO:<path>`; `Err` is the reply to send.
    fn rcpt(&self, tx: &Transaction, arg: &str) -> Result<String, String> {
        if tx.from.is_none() {
            return Err("503 5.5.1 MAIL FROM first".to_owned());
        }
        let (path, params) = parse_path(arg, "TO:")
            .ok_or_else(|| "501 5.5.4 Syntax: RCPT TO:<address>".to_owned())?;
        if path.is_empty() {
            return Err("501 5.1.3 Empty recipient".to_owned());
        }
        if let Some(param) = params.split_ascii_whitespace().next() {
            return Err(format!("555 5.5.4 Unsupported parameter {param}"));
        }
        if tx.to.len() >= MAX_RECIPIENTS {
            return Err("452 4.5.3 Too many recipients".to_owned());
        }
        if self.shared.mode() == SinkMode::Reject {
            return Err("550 5.1.1 Recipient rejected (test sink)".to_owned());
        }
        Ok(path)
    }

    /// Reads the message after `DATA`; returns the final reply, or `None` if the peer left.
    async fn data(&mut self, tx: Transaction) -> io::Result<Option<String>> {
        self.reply("354 End data with <CR><LF>.<CR><LF>").await?;
        let mut data = Vec::new();
        let mut line_too_long = false;
        let mut too_big = false;
        let mut buf = Vec::with_capacity(MAX_TEXT_LINE);
        loop {
            match self.line(MAX_TEXT_LINE, &mut buf).await? {
                None | Some(Line::Eof) => return Ok(None),
                Some(Line::TooLong) => line_too_long = true,
                Some(Line::Full) => {
                    if buf == b".\r\n" {
                        break;
                    }
                    let line = buf.strip_prefix(b".").unwrap_or(&buf);
                    if data.len() + line.len() > MAX_MESSAGE_SIZE {
                        too_big = true;
                    }
                    if !too_big && !line_too_long {
                        data.extend_from_slice(line);
                    }
                }
            }
        }
        if too_big {
            return Ok(Some(
                "552 5.3.4 Message size exceeds fixed limit".to_owned(),
            ));
        }
        if line_too_long {
            return Ok(Some("500 5.5.2 Line too long in message".to_owned()));
        }
        let n = self.shared.push(Received {
            from: tx.from.unwrap_or_default(),
            to: tx.to,
            data,
            at: SystemTime::now(),
        });
        Ok(Some(format!("250 2.0.0 Ok: queued as {n}")))
    }
}

/// Whether a reply is about the client's syntax or command order (counted towards
/// [`MAX_ERRORS`]), not a verdict of the sink's mode or limits.
fn is_protocol_error(reply: &str) -> bool {
    reply.starts_with("50") || reply.starts_with("555")
}

fn trim_line_end(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Splits `FROM:<a@b> PARAMS` (keyword case-insensitive, optional space after the colon) into the
/// address without brackets and the parameters. A path without brackets is accepted too.
fn parse_path<'a>(arg: &'a str, keyword: &str) -> Option<(String, &'a str)> {
    let head = arg.get(..keyword.len())?;
    if !head.eq_ignore_ascii_case(keyword) {
        return None;
    }
    let rest = arg[keyword.len()..].trim_start();
    if let Some(inner) = rest.strip_prefix('<') {
        let end = inner.find('>')?;
        let path = &inner[..end];
        // A source route (`<@relay:user@host>`, RFC 5321 §4.1.2) is ignored.
        let path = match path.split_once(':') {
            Some((route, mailbox)) if route.starts_with('@') => mailbox,
            _ => path,
        };
        if path.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return None;
        }
        Some((path.to_owned(), inner[end + 1..].trim()))
    } else {
        let (path, params) = rest.split_once(' ').unwrap_or((rest, ""));
        if path.is_empty() {
            return None;
        }
        Some((path.to_owned(), params.trim()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert_eq!(
            parse_path("FROM:<a@b.jp> SIZE=10", "FROM:"),
            Some(("a@b.jp".to_owned(), "SIZE=10"))
        );
        assert_eq!(
            parse_path("from: <a@b.jp>", "FROM:"),
            Some(("a@b.jp".to_owned(), ""))
        );
        assert_eq!(parse_path("FROM:<>", "FROM:"), Some((String::new(), "")));
        assert_eq!(
            parse_path("TO:<@relay.jp:u@h.jp>", "TO:"),
            Some(("u@h.jp".to_owned(), ""))
        );
        assert_eq!(
            parse_path("TO:u@h.jp", "TO:"),
            Some(("u@h.jp".to_owned(), ""))
        );
        assert_eq!(parse_path("TO:<u@h.jp", "TO:"), None);
        assert_eq!(parse_path("FROM:<a@b.jp>", "TO:"), None);
        assert_eq!(parse_path("T", "TO:"), None);
        assert_eq!(parse_path("TO:", "TO:"), None);
        // Multi-byte text where the keyword would end must not panic.
        assert_eq!(parse_path("宛先:<u@h.jp>", "TO:"), None);
    }

    #[tokio::test]
    async fn line_limits() {
        let input: &[u8] = b"short\r\n0123456789abcdef\r\nok\npartial";
        let mut reader = BufReader::with_capacity(4, input);
        let mut buf = Vec::new();
        assert_eq!(
            read_line(&mut reader, 10, &mut buf).await.unwrap(),
            Line::Full
        );
        assert_eq!(buf, b"short\r\n");
        assert_eq!(
            read_line(&mut reader, 10, &mut buf).await.unwrap(),
            Line::TooLong
        );
        assert_eq!(
            read_line(&mut reader, 10, &mut buf).await.unwrap(),
            Line::Full
        );
        assert_eq!(buf, b"ok\n");
        assert_eq!(
            read_line(&mut reader, 10, &mut buf).await.unwrap(),
            Line::Eof
        );
    }
}
