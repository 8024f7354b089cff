//! Alert delivery for mamori: e-mail over SMTP, HMAC-signed webhooks, and a real SMTP server for
//! tests.
//!
//! # Design
//!
//! - **[`Mailer`]** sends one plain-text UTF-8 message at a time through lettre's
//!   `AsyncSmtpTransport` on tokio, with rustls (ring backend, Mozilla roots from `webpki-roots`,
//!   so no system certificate store and no OpenSSL). Connections are pooled by lettre, so a burst
//!   of alerts reuses one SMTP session. Subjects and display names are RFC 2047 encoded and the
//!   body is base64 or quoted-printable as lettre chooses, so what goes over the wire is 7-bit
//!   ASCII and survives any relay. Every message carries `Date`, a `Message-ID` under the domain
//!   of the `From` address, and `Auto-Submitted: auto-generated` (RFC 3834) so that
//!   out-of-office replies are not sent back to an alert.
//! - **Errors say what to do next.** [`MailError::Transient`] (connection refused, timeout, TLS
//!   failure, a 4xx reply, HTTP 5xx/429) means "retry later"; [`MailError::Permanent`] (a 5xx
//!   reply, HTTP 4xx, a server lacking a required capability) means "retrying will not help";
//!   [`MailError::BadAddress`] and [`MailError::Config`] are caller or configuration mistakes found
//!   before anything is sent. The job queue in `mamori-app` retries only transient failures.
//! - **[`webhook`]** signs a JSON body like Slack and Stripe do: `v1=hex(HMAC-SHA256(secret,
//!   "{timestamp}.{body}"))`, sent in `X-Mamori-Signature` next to `X-Mamori-Timestamp`. The
//!   receiver checks the signature in constant time and refuses stale timestamps (replay).
//!   Error messages never contain the URL, because webhook URLs often carry a secret token.
//! - **[`sink`]** is a small but real ESMTP server (tokio only, always compiled) that keeps what
//!   it receives in memory. Tests talk to it over loopback TCP exactly as production talks to a
//!   relay; its [`sink::SinkMode`] makes it answer 451 or 550 to exercise the error paths. The
//!   binary `mamori-smtp-sink` wraps it for the browser tests and writes each message to a
//!   directory as `<n>.eml` and `<n>.json`.
//! - **[`inbox`]** reads inquiries sent to the contact desk from an mbox file or an .eml:
//!   Japanese charsets, HTML-only mail, threads, quoted replies; a message that cannot be read
//!   is quarantined with its reason in Japanese and English.
//!
//! Time is a parameter where it matters ([`webhook::post`] takes `now_unix`); only the `Date`
//! header of a mail reads the system clock, as SMTP expects.

pub mod dsn;
pub mod inbox;
pub mod sink;
mod smtp;
pub mod webhook;

pub use smtp::{Mail, Mailer, SmtpConfig, SmtpTls};

/// Why an alert could not be delivered.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum MailError {
    /// An address or URL is unusable; nothing was sent. `field` names the input
    /// (`"from"`, `"to"`, `"reply_to"`, `"url"`).
    #[error("invalid {field}: {value:?}")]
    BadAddress {
        /// Which input was wrong.
        field: &'static str,
        /// The value as given.
        value: String,
    },
    /// The configuration (or a custom header of the message) is unusable; nothing was sent.
    #[error("mail configuration: {0}")]
    Config(String),
    /// Delivery failed for now and may succeed later: connection refused, timeout, TLS or network
    /// failure, an SMTP 4xx reply, an HTTP 5xx or 429 answer.
    #[error("temporary delivery failure: {0}")]
    Transient(String),
    /// Delivery failed and retrying will not help: an SMTP 5xx reply, an HTTP 4xx answer, a server
    /// lacking a capability the message needs.
    #[error("permanent delivery failure: {0}")]
    Permanent(String),
}

impl MailError {
    /// Whether a later retry may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, MailError::Transient(_))
    }
}
