//! Signed webhooks.
//!
//! The sender computes `HMAC-SHA256(secret, "{timestamp}.{body}")` and sends it hex-encoded as
//! `X-Mamori-Signature: v1=<hex>` with `X-Mamori-Timestamp: <unix seconds>`. The receiver
//! recomputes it over the raw body bytes, compares in constant time, and refuses a timestamp
//! outside its tolerance so that a captured request cannot be replayed later. The scheme
//! (`v1=`) leaves room for another algorithm without breaking receivers.

use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::MailError;

/// Header carrying the Unix time (seconds) the request was signed at.
pub const TIMESTAMP_HEADER: &str = "X-Mamori-Timestamp";
/// Header carrying `v1=<hex HMAC-SHA256>`.
pub const SIGNATURE_HEADER: &str = "X-Mamori-Signature";
/// How long one webhook request may take.
pub const TIMEOUT: Duration = Duration::from_secs(10);

type HmacSha256 = Hmac<Sha256>;

fn mac(secret: &[u8], timestamp: i64, body: &[u8]) -> HmacSha256 {
    // HMAC accepts keys of any length; `new_from_slice` cannot fail for it.
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The signature header value for `body` sent at `timestamp`: `v1=<64 hex digits>`.
pub fn sign(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    format!(
        "v1={}",
        hex::encode(mac(secret, timestamp, body).finalize().into_bytes())
    )
}

/// Whether `signature` (`v1=<hex>`) is valid for `body` at `timestamp`, and `timestamp` is within
/// `tolerance_secs` of `now` (either direction). The comparison is constant time.
pub fn verify(
    secret: &[u8],
    timestamp: i64,
    body: &[u8],
    signature: &str,
    now: i64,
    tolerance_secs: u64,
) -> bool {
    if now.abs_diff(timestamp) > tolerance_secs {
        return false;
    }
    let Some(hex_part) = signature.trim().strip_prefix("v1=") else {
        return false;
    };
    let Ok(tag) = hex::decode(hex_part) else {
        return false;
    };
    mac(secret, timestamp, body).verify_slice(&tag).is_ok()
}

/// A client suited to webhooks: 10 s timeout, no redirects (a redirect would resend the signed
/// body somewhere the configuration did not name).
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("mamori/", env!("CARGO_PKG_VERSION")))
        .build()
        .expect("a client with rustls and no custom roots builds")
}

/// POSTs the JSON `body` to `url`, signed with `secret` at `now_unix`, and returns the HTTP
/// status on a 2xx answer.
///
/// Only `http` and `https` URLs are accepted ([`MailError::BadAddress`] with field `"url"`).
/// A 5xx, 408 or 429 answer and network failures are [`MailError::Transient`]; other answers
/// are [`MailError::Permanent`]. Error messages do not contain the URL.
pub async fn post(
    client: &reqwest::Client,
    url: &str,
    secret: &[u8],
    body: &[u8],
    now_unix: i64,
) -> Result<u16, MailError> {
    let bad_url = || MailError::BadAddress {
        field: "url",
        value: url.to_owned(),
    };
    let parsed = reqwest::Url::parse(url).map_err(|_| bad_url())?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(bad_url());
    }
    let response = client
        .post(parsed)
        .timeout(TIMEOUT)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(TIMESTAMP_HEADER, now_unix.to_string())
        .header(SIGNATURE_HEADER, sign(secret, now_unix, body))
        .body(body.to_vec())
        .send()
        .await
        .map_err(|e| {
            let e = e.without_url();
            if e.is_builder() {
                MailError::Permanent(format!("webhook request: {e}"))
            } else {
                MailError::Transient(format!("webhook request: {e}"))
            }
        })?;
    let status = response.status();
    if status.is_success() {
        return Ok(status.as_u16());
    }
    let detail = format!("webhook answered {status}");
    if status.is_server_error()
        || status == reqwest::StatusCode::TOO_MANY_REQUESTS
        || status == reqwest::StatusCode::REQUEST_TIMEOUT
    {
        Err(MailError::Transient(detail))
    } else {
        Err(MailError::Permanent(detail))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_vector() {
        // Computed independently:
        // printf '1700000000.{}' | openssl dgst -sha256 -hmac secret
        let sig = sign(b"secret", 1_700_000_000, b"{}");
        assert_eq!(
            sig,
            "v1=b8569b78799ff9e3cbff0fc2d63a33a2b57f3282abd07c37ae5e8e7d79a5f163"
        );
        assert!(verify(
            b"secret",
            1_700_000_000,
            b"{}",
            &sig,
            1_700_000_000,
            0
        ));
    }

    #[test]
    fn malformed_signatures_fail() {
        for sig in ["", "v1=", "v1=zz", "v0=00", "deadbeef", "v1=00"] {
            assert!(!verify(b"k", 1, b"x", sig, 1, 300), "{sig}");
        }
    }

    #[test]
    fn extreme_timestamps_do_not_overflow() {
        let sig = sign(b"k", i64::MIN, b"x");
        assert!(!verify(b"k", i64::MIN, b"x", &sig, i64::MAX, 300));
        assert!(verify(b"k", i64::MIN, b"x", &sig, i64::MIN, 0));
    }
}
