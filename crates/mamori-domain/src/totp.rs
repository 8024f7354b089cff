//! Time-based one-time passwords (RFC 6238: HMAC-SHA1, 30-second steps, 6 digits).
//!
//! The current time is a parameter. A code is accepted for the current step and one step either
//! side (clock drift), and never twice: the caller stores the last accepted step and passes it
//! back, so a code seen over a shoulder cannot be replayed.

use hmac::{Hmac, Mac};
use sha1::Sha1;

pub const STEP_SECONDS: i64 = 30;
pub const DIGITS: u32 = 6;

/// A new secret is 20 random bytes (160 bits, RFC 4226's recommendation); the caller supplies
/// the randomness so that this module stays pure.
pub fn encode_secret(bytes: &[u8]) -> String {
    data_encoding::BASE32_NOPAD.encode(bytes)
}

pub fn decode_secret(b32: &str) -> Option<Vec<u8>> {
    let cleaned: String = b32
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '=')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    data_encoding::BASE32_NOPAD.decode(cleaned.as_bytes()).ok()
}

/// The code for one time step.
pub fn code_at_step(secret: &[u8], step: i64) -> u32 {
    let mut mac = Hmac::<Sha1>::new_from_slice(secret).expect("HMAC accepts any key length");
    mac.update(&step.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = (digest[19] & 0x0f) as usize;
    let bin = (u32::from(digest[offset]) & 0x7f) << 24
        | u32::from(digest[offset + 1]) << 16
        | u32::from(digest[offset + 2]) << 8
        | u32::from(digest[offset + 3]);
    bin % 10u32.pow(DIGITS)
}

pub fn step_of(unix_seconds: i64) -> i64 {
    unix_seconds.div_euclid(STEP_SECONDS)
}

/// The code shown by an authenticator at `unix_seconds`, zero-padded.
pub fn code_at(secret: &[u8], unix_seconds: i64) -> String {
    format!("{:06}", code_at_step(secret, step_of(unix_seconds)))
}

/// Checks `code` at `unix_seconds`. Returns the accepted step, which must be greater than
/// `last_used_step` (replay protection).
pub fn verify(
    secret: &[u8],
    code: &str,
    unix_seconds: i64,
    last_used_step: Option<i64>,
) -> Option<i64> {
    let code = code.trim().replace([' ', '-'], "");
    if code.len() != DIGITS as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let wanted: u32 = code.parse().ok()?;
    let now = step_of(unix_seconds);
    let mut accepted = None;
    for step in [now - 1, now, now + 1] {
        let ok: bool = subtle::ConstantTimeEq::ct_eq(&code_at_step(secret, step), &wanted).into();
        if ok && last_used_step.is_none_or(|last| step > last) {
            accepted = Some(step);
        }
    }
    accepted
}

/// The `otpauth://` URI that authenticator apps read from a QR code.
pub fn provisioning_uri(issuer: &str, account: &str, secret_b32: &str) -> String {
    fn enc(s: &str) -> String {
        use std::fmt::Write;
        let mut out = String::new();
        for b in s.bytes() {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                out.push(b as char);
            } else {
                let _ = write!(out, "%{b:02X}");
            }
        }
        out
    }
    format!(
        "otpauth://totp/{}:{}?secret={}&issuer={}&algorithm=SHA1&digits=6&period=30",
        enc(issuer),
        enc(account),
        secret_b32,
        enc(issuer)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 6238 appendix B, SHA-1 seed "12345678901234567890", 8 digits truncated to 6.
    #[test]
    fn rfc6238_vectors() {
        let secret = b"12345678901234567890";
        for (t, eight) in [
            (59, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
        ] {
            assert_eq!(code_at(secret, t), eight[2..], "t={t}");
        }
    }

    #[test]
    fn accepts_adjacent_steps_and_refuses_replay() {
        let secret = b"12345678901234567890";
        let t = 1_234_567_890;
        let code = code_at(secret, t);
        let step = verify(secret, &code, t, None).unwrap();
        assert_eq!(step, step_of(t));
        assert_eq!(verify(secret, &code, t + 30, None), Some(step));
        assert_eq!(verify(secret, &code, t + 90, None), None);
        assert_eq!(verify(secret, &code, t, Some(step)), None, "replay");
        assert_eq!(verify(secret, "12345", t, None), None);
        assert_eq!(verify(secret, "abcdef", t, None), None);
        let spaced = format!("{} {}", &code[..3], &code[3..]);
        assert_eq!(verify(secret, &spaced, t, None), Some(step));
    }

    #[test]
    fn secret_round_trip_and_uri() {
        let b = [1u8; 20];
        let s = encode_secret(&b);
        assert_eq!(decode_secret(&s.to_lowercase()).unwrap(), b);
        let uri = provisioning_uri("mamori", "山田", &s);
        assert!(uri.starts_with("otpauth://totp/mamori:%E5%B1%B1%E7%94%B0?secret="));
    }
}
