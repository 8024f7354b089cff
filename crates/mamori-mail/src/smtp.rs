//! Sending mail over SMTP with lettre.

use std::fmt;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use lettre::message::header::{ContentTransferEncoding, ContentType, HeaderName, HeaderValue};
use lettre::message::{Mailbox, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::{AsyncSmtpTransportBuilder, PoolConfig};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::{Deserialize, Serialize};

use crate::MailError;

/// How the connection to the SMTP server is protected.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SmtpTls {
    /// Plain text (a relay on localhost or in a trusted network).
    #[default]
    None,
    /// Plain connection upgraded with STARTTLS, which is required (usually port 587).
    #[serde(rename = "starttls")]
    StartTls,
    /// TLS from the first byte, "implicit TLS" (usually port 465).
    Tls,
}

/// Where and how to send mail. `Debug` hides the password.
#[derive(Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(default)]
pub struct SmtpConfig {
    /// Host name (checked against the certificate under TLS) or IP address.
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// Transport security.
    pub tls: SmtpTls,
    /// User name for SMTP AUTH; set together with `password`.
    pub username: Option<String>,
    /// Password for SMTP AUTH.
    pub password: Option<String>,
    /// The `From` mailbox, e.g. `mamori <no-reply@example.co.jp>`; also the envelope sender.
    pub from: String,
    /// Timeout of connecting and of each SMTP command, in seconds.
    pub timeout_secs: u64,
}

impl Default for SmtpConfig {
    fn default() -> Self {
        SmtpConfig {
            host: "127.0.0.1".to_owned(),
            port: 25,
            tls: SmtpTls::None,
            username: None,
            password: None,
            from: "mamori <mamori@localhost>".to_owned(),
            timeout_secs: 10,
        }
    }
}

impl fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("from", &self.from)
            .field("timeout_secs", &self.timeout_secs)
            .finish()
    }
}

/// One plain-text message.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Mail {
    /// Recipients (`a@example.jp` or `山田 <a@example.jp>`); at least one.
    pub to: Vec<String>,
    /// Subject, any Unicode; encoded per RFC 2047 on the wire.
    pub subject: String,
    /// Body, UTF-8 text; `\n` line ends become CRLF on the wire. Non-ASCII text is sent base64
    /// encoded, so the whole message is 7-bit ASCII.
    pub text: String,
    /// Optional `Reply-To` mailbox.
    pub reply_to: Option<String>,
    /// Extra headers such as `("X-Mamori-Incident", "42")`. Names must be printable ASCII
    /// without `:` and must not be one the mailer sets itself (From, To, Subject, Date, …);
    /// values must not contain control characters.
    pub headers: Vec<(String, String)>,
}

/// Sends mail through one SMTP server, reusing pooled connections. Cheap to clone; clones share
/// the pool.
///
/// The pool is created by the first [`send`](Mailer::send), on the tokio runtime that runs it, and
/// belongs to that runtime (its idle connections and cleanup task live there). [`Mailer::new`]
/// needs no runtime, and dropping the last clone outside a runtime does not panic (the idle
/// connections are then simply left to the operating system).
#[derive(Clone)]
pub struct Mailer {
    inner: Arc<Inner>,
}

struct Inner {
    builder: AsyncSmtpTransportBuilder,
    transport: OnceLock<AsyncSmtpTransport<Tokio1Executor>>,
    from: Mailbox,
    id_domain: String,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // lettre's pool spawns a clean-up task when dropped, which panics without a runtime.
        if tokio::runtime::Handle::try_current().is_err() {
            if let Some(transport) = self.transport.take() {
                std::mem::forget(transport);
            }
        }
    }
}

impl fmt::Debug for Mailer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mailer")
            .field("from", &self.inner.from.to_string())
            .finish_non_exhaustive()
    }
}

/// Headers the mailer writes itself; a custom header must not replace them.
const RESERVED_HEADERS: &[&str] = &[
    "from",
    "sender",
    "to",
    "cc",
    "bcc",
    "reply-to",
    "subject",
    "date",
    "message-id",
    "mime-version",
    "content-type",
    "content-transfer-encoding",
    "return-path",
    "received",
];

impl Mailer {
    /// Checks the configuration and prepares the transport; does not connect.
    pub fn new(cfg: &SmtpConfig) -> Result<Mailer, MailError> {
        let from: Mailbox = cfg.from.parse().map_err(|_| MailError::BadAddress {
            field: "from",
            value: cfg.from.clone(),
        })?;
        if cfg.host.trim().is_empty() {
            return Err(MailError::Config("smtp host is empty".to_owned()));
        }
        if cfg.port == 0 {
            return Err(MailError::Config("smtp port is 0".to_owned()));
        }
        if cfg.timeout_secs == 0 {
            return Err(MailError::Config("smtp timeout_secs is 0".to_owned()));
        }
        let builder = match cfg.tls {
            SmtpTls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&cfg.host),
            SmtpTls::StartTls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&cfg.host)
                .map_err(|e| MailError::Config(format!("smtp tls: {e}")))?,
            SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&cfg.host)
                .map_err(|e| MailError::Config(format!("smtp tls: {e}")))?,
        };
        let mut builder = builder
            .port(cfg.port)
            .timeout(Some(Duration::from_secs(cfg.timeout_secs)))
            .pool_config(
                PoolConfig::new()
                    .max_size(4)
                    .idle_timeout(Duration::from_secs(30)),
            );
        match (&cfg.username, &cfg.password) {
            (Some(user), Some(password)) => {
                builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
            }
            (None, None) => {}
            _ => {
                return Err(MailError::Config(
                    "smtp username and password must be set together".to_owned(),
                ))
            }
        }
        let id_domain = from
            .email
            .domain()
            .trim_matches(|c| c == '[' || c == ']')
            .to_owned();
        Ok(Mailer {
            inner: Arc::new(Inner {
                builder,
                transport: OnceLock::new(),
                from,
                id_domain,
            }),
        })
    }

    /// The `From` mailbox used for every message.
    pub fn from(&self) -> String {
        self.inner.from.to_string()
    }

    /// Sends one message to all its recipients in one SMTP transaction and returns its
    /// Message-ID (without the angle brackets, as `mail-parser` and most APIs show it).
    pub async fn send(&self, mail: &Mail) -> Result<String, MailError> {
        let (message, id) = self.build(mail)?;
        let transport = self
            .inner
            .transport
            .get_or_init(|| self.inner.builder.clone().build());
        transport.send(message).await.map_err(|e| classify(&e))?;
        Ok(id)
    }

    /// Sends one message under a Message-ID the caller chose (`local@domain`, without angle
    /// brackets): a notification campaign stores it before the SMTP transaction so that a
    /// bounce or the relay's log can be matched to the recipient and attempt.
    pub async fn send_with_id(&self, mail: &Mail, message_id: &str) -> Result<(), MailError> {
        let id_ok = message_id.len() <= 250
            && message_id
                .split_once('@')
                .is_some_and(|(l, d)| !l.is_empty() && !d.is_empty())
            && message_id
                .bytes()
                .all(|b| b.is_ascii_graphic() && !matches!(b, b'<' | b'>' | b'"' | b'\\'));
        if !id_ok {
            return Err(MailError::Config(format!(
                "invalid Message-ID {message_id:?}"
            )));
        }
        let (message, _) = self.build_with(mail, message_id.to_owned())?;
        let transport = self
            .inner
            .transport
            .get_or_init(|| self.inner.builder.clone().build());
        transport.send(message).await.map_err(|e| classify(&e))?;
        Ok(())
    }

    /// The domain of the `From` address, used on the right of generated Message-IDs.
    pub fn id_domain(&self) -> &str {
        &self.inner.id_domain
    }

    /// Builds the message and its id; no I/O.
    fn build(&self, mail: &Mail) -> Result<(Message, String), MailError> {
        let id = format!("{:032x}@{}", rand::random::<u128>(), self.inner.id_domain);
        self.build_with(mail, id)
    }

    fn build_with(&self, mail: &Mail, id: String) -> Result<(Message, String), MailError> {
        if mail.to.is_empty() {
            return Err(MailError::BadAddress {
                field: "to",
                value: String::new(),
            });
        }
        let mut builder = Message::builder()
            .from(self.inner.from.clone())
            .subject(mail.subject.clone())
            .date_now()
            .message_id(Some(format!("<{id}>")));
        for to in &mail.to {
            builder = builder.to(mailbox("to", to)?);
        }
        if let Some(reply_to) = &mail.reply_to {
            builder = builder.reply_to(mailbox("reply_to", reply_to)?);
        }
        builder = builder.raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("Auto-Submitted"),
            "auto-generated".to_owned(),
        ));
        for (name, value) in &mail.headers {
            builder = builder.raw_header(custom_header(name, value)?);
        }
        // Non-ASCII text goes as base64 so the message stays 7-bit clean for relays without
        // 8BITMIME (lettre would pick 8bit for short lines) and decodes to exactly what was sent;
        // ASCII text is left to lettre (7bit, or quoted-printable for long lines).
        let part = if mail.text.is_ascii() {
            SinglePart::plain(mail.text.clone())
        } else {
            SinglePart::builder()
                .header(ContentType::TEXT_PLAIN)
                .header(ContentTransferEncoding::Base64)
                .body(mail.text.clone())
        };
        let message = builder
            .singlepart(part)
            .map_err(|e| MailError::Permanent(format!("cannot build message: {e}")))?;
        Ok((message, id))
    }
}

fn mailbox(field: &'static str, value: &str) -> Result<Mailbox, MailError> {
    value.trim().parse().map_err(|_| MailError::BadAddress {
        field,
        value: value.to_owned(),
    })
}

fn custom_header(name: &str, value: &str) -> Result<HeaderValue, MailError> {
    let name_ok = !name.is_empty()
        && name.len() <= 76
        && name.bytes().all(|b| (33..=126).contains(&b) && b != b':')
        && !RESERVED_HEADERS
            .iter()
            .any(|reserved| name.eq_ignore_ascii_case(reserved));
    if !name_ok {
        return Err(MailError::Config(format!(
            "invalid custom header name {name:?}"
        )));
    }
    if value.chars().any(|c| c.is_control() && c != '\t') {
        return Err(MailError::Config(format!(
            "custom header {name} has control characters"
        )));
    }
    let name = HeaderName::new_from_ascii(name.to_owned())
        .map_err(|_| MailError::Config(format!("invalid custom header name {name:?}")))?;
    Ok(HeaderValue::new(name, value.to_owned()))
}

/// Maps lettre's error to what the caller should do next.
fn classify(e: &lettre::transport::smtp::Error) -> MailError {
    let text = e.to_string();
    if e.is_permanent() || e.is_client() {
        // 5xx, or the server lacks something the message needs (STARTTLS, AUTH, 8BITMIME).
        MailError::Permanent(text)
    } else {
        // 4xx, refused or broken connection, timeout, TLS failure, garbled reply.
        MailError::Transient(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_debug_hides_password() {
        let cfg = SmtpConfig {
            username: Some("alerts".into()),
            password: Some("hunter2".into()),
            ..SmtpConfig::default()
        };
        let shown = format!("{cfg:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("<redacted>"), "{shown}");
    }

    #[test]
    fn tls_names_in_serde() {
        for (tls, name) in [
            (SmtpTls::None, "\"none\""),
            (SmtpTls::StartTls, "\"starttls\""),
            (SmtpTls::Tls, "\"tls\""),
        ] {
            assert_eq!(serde_json::to_string(&tls).unwrap(), name);
            assert_eq!(serde_json::from_str::<SmtpTls>(name).unwrap(), tls);
        }
        let cfg: SmtpConfig =
            serde_json::from_str(r#"{"host":"smtp.example.jp","port":587,"tls":"starttls"}"#)
                .unwrap();
        assert_eq!(cfg.tls, SmtpTls::StartTls);
        assert_eq!(cfg.timeout_secs, 10);
    }

    #[test]
    fn new_checks_config() {
        let bad_from = SmtpConfig {
            from: "not an address".into(),
            ..SmtpConfig::default()
        };
        assert!(matches!(
            Mailer::new(&bad_from),
            Err(MailError::BadAddress { field: "from", .. })
        ));
        let half_auth = SmtpConfig {
            username: Some("u".into()),
            ..SmtpConfig::default()
        };
        assert!(matches!(Mailer::new(&half_auth), Err(MailError::Config(_))));
        for tls in [SmtpTls::None, SmtpTls::StartTls, SmtpTls::Tls] {
            let cfg = SmtpConfig {
                host: "smtp.example.co.jp".into(),
                tls,
                ..SmtpConfig::default()
            };
            assert!(Mailer::new(&cfg).is_ok(), "{tls:?}");
        }
    }

    fn mailer() -> Mailer {
        Mailer::new(&SmtpConfig {
            from: "まもり <no-reply@example.co.jp>".into(),
            ..SmtpConfig::default()
        })
        .unwrap()
    }

    #[test]
    fn custom_headers_are_checked() {
        let base = Mail {
            to: vec!["a@example.jp".into()],
            subject: "s".into(),
            text: "t".into(),
            ..Mail::default()
        };
        for (name, value) in [
            ("Subject", "x"),
            ("bcc", "x@example.jp"),
            ("X-Bad Name", "x"),
            ("X-Bad:Name", "x"),
            ("X-Ünicode", "x"),
            ("X-Injected", "a\r\nBcc: evil@example.com"),
        ] {
            let mail = Mail {
                headers: vec![(name.into(), value.into())],
                ..base.clone()
            };
            assert!(
                matches!(mailer().build(&mail), Err(MailError::Config(_))),
                "{name}: {value:?}"
            );
        }
        let mail = Mail {
            headers: vec![("X-Mamori-Incident".into(), "2025-0001 漏えい".into())],
            ..base
        };
        let (message, id) = mailer().build(&mail).unwrap();
        let raw = message.formatted();
        assert!(raw.is_ascii());
        let raw = String::from_utf8(raw).unwrap();
        assert!(raw.contains(&format!("Message-ID: <{id}>")), "{raw}");
        assert!(id.ends_with("@example.co.jp"), "{id}");
        assert!(raw.contains("X-Mamori-Incident: "), "{raw}");
        assert!(raw.contains("Auto-Submitted: auto-generated"), "{raw}");
    }

    #[test]
    fn newline_in_subject_cannot_inject_headers() {
        let mail = Mail {
            to: vec!["a@example.jp".into()],
            subject: "hello\r\nBcc: evil@example.com".into(),
            text: "t".into(),
            ..Mail::default()
        };
        let (message, _) = mailer().build(&mail).unwrap();
        let raw = String::from_utf8(message.formatted()).unwrap();
        assert!(!raw.contains("\r\nBcc:"), "{raw}");
    }
}
