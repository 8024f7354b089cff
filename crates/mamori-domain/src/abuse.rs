//! Abuse protection for the public pages of an incident (`/notice/{slug}` and below: the
//! inquiry form, the survey, the "am I affected?" check), which have no login and may be in the
//! news. Nothing here needs an outside service (no CAPTCHA provider, no shared cache):
//!
//! - [`network_of`]: the network a client is counted by (IPv4 /24, IPv6 /64);
//! - [`Limiter`]: a bounded in-memory counter per key (a network, or a keyed hash of an
//!   e-mail address), and [`Load`], the number of submissions in the last minute, so that
//!   proof-of-work is asked for only under load;
//! - [`pow`]: a stateless proof-of-work challenge signed by the server, solved by
//!   `static/pow.js` in the browser, and [`Replay`], which refuses a solved challenge twice;
//! - [`honeypot_tripped`], [`too_fast`] and [`form_stamp`]: the cheap signs of a script (a
//!   hidden field filled in, a form sent within two seconds of being served).
//!
//! Like the rest of the crate this is pure: time is a parameter (`now`, microseconds since the
//! epoch), randomness is passed in, nothing reads a clock or does I/O, and no function panics on
//! any input. The web layer holds a `Limiter`, a `Load` and a `Replay` behind a mutex; they are
//! per process (several processes share the database's `rate_counts` for limits that must hold
//! across them).

use std::collections::{BTreeSet, HashMap};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::lang::Lang;

/// One second in microseconds, the unit of `now` throughout.
pub const SECOND: i64 = 1_000_000;
/// One minute in microseconds.
pub const MINUTE: i64 = 60 * SECOND;

// ---------------------------------------------------------------------------------------------
// Networks

/// The network a client is counted by, as a key for [`Limiter`]: the /24 of an IPv4 address
/// (`"v4:203.0.113.0/24"`) or the /64 of an IPv6 address (`"v6:2001:db8:1:2::/64"`).
///
/// - One IPv6 subscriber usually holds a whole /64 and may use any address in it, so counting
///   per IPv6 address would hand a script 2⁶⁴ fresh counters. (A subscriber with a /48 still
///   has 65,536 /64s; that is what the global [`Load`] gauge and proof-of-work are for.)
/// - An IPv4 /24 is usually one organisation or one pool of a provider; counting per /24 keeps
///   a script that rotates through a small cloud block under one counter. The limits are set
///   with this in mind (a company's office behind one /24 sends more than one person).
/// - An IPv4-mapped IPv6 address (`::ffff:192.0.2.7`, what a dual-stack socket reports) is
///   counted as the IPv4 address it carries.
/// - **Loopback** addresses (127.0.0.0/8, `::1`) are counted per address
///   (`"v4:127.0.0.1/32"`, `"v6:::1/128"`). Requests from loopback come from this machine: a
///   health check, a test, or a reverse proxy on the same host. In the last case the web layer
///   must take the client address from the proxy's header (the trusted-proxy setting);
///   otherwise every visitor shows up as 127.0.0.1 and shares that one counter, which shows up
///   at once as everyone being refused together, not as a silent hole.
pub fn network_of(ip: IpAddr) -> String {
    match crate::net::canonical(ip) {
        IpAddr::V4(v4) if v4.is_loopback() => format!("v4:{v4}/32"),
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            format!("v4:{}/24", Ipv4Addr::new(a, b, c, 0))
        }
        IpAddr::V6(v6) if v6.is_loopback() => format!("v6:{v6}/128"),
        IpAddr::V6(v6) => {
            let s = v6.segments();
            format!(
                "v6:{}/64",
                Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0)
            )
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The limiter

/// The most keys a [`Limiter`] made with `Limiter::default()` holds.
pub const DEFAULT_KEYS: usize = 100_000;
/// Keys longer than this are counted under their SHA-256, so that one key costs little memory
/// whatever a caller passes.
pub const MAX_KEY_LEN: usize = 128;
/// At most this many expired keys are dropped on one call, so that no single request pays for
/// a large sweep.
const SWEEP_PER_CALL: usize = 64;

/// The answer of [`Limiter::hit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Counted; `remaining` more are allowed in the current window.
    Allowed { remaining: u32 },
    /// Over the limit; try again in `retry_after` seconds (at least 1, for `Retry-After`).
    Refused { retry_after: u64 },
}

impl Verdict {
    pub fn is_allowed(self) -> bool {
        matches!(self, Verdict::Allowed { .. })
    }

    /// Seconds to wait, when refused.
    pub fn retry_after(self) -> Option<u64> {
        match self {
            Verdict::Allowed { .. } => None,
            Verdict::Refused { retry_after } => Some(retry_after),
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Slot {
    /// The end of the key's current window (exclusive), micros.
    end: i64,
    /// Hits counted in the window.
    count: u32,
}

/// A fixed-window counter per key, in memory, with a cap on the number of keys.
///
/// A key's window starts at its first counted hit and lasts `window`; in it at most `limit`
/// hits are allowed, and the window's end is when the count starts again. (So, like every
/// fixed window, a key can get `limit` hits at the end of one window and `limit` more at the
/// start of the next: the limits are set with that factor two in mind. In exchange a key costs
/// one small slot, whatever the limit.) Refused hits are not counted and do not move the
/// window: a visitor who tries again too early is not punished for it, and the answer's
/// `retry_after` stays true.
///
/// A key's window is fixed when its count starts; callers that count different things (the
/// inquiry form, the check) under one limiter put a prefix in the key (`"inquiry:" + network`).
///
/// **Memory is bounded**: at most `cap` keys. Every call drops up to a few keys whose window
/// has ended (soonest ended first); a new key that finds the limiter full evicts the key whose
/// window ends soonest, which is the oldest one. A flood of distinct keys therefore cannot grow
/// the limiter; it can only push out older keys, and the keys it pushes out are the ones
/// closest to being forgotten anyway. (A flood that large, from more than `cap` networks, is
/// what [`Load`] and proof-of-work answer.)
#[derive(Debug)]
pub struct Limiter {
    cap: usize,
    slots: HashMap<Arc<str>, Slot>,
    /// (window end, key) for every slot, soonest end first.
    by_end: BTreeSet<(i64, Arc<str>)>,
}

impl Default for Limiter {
    fn default() -> Self {
        Limiter::new(DEFAULT_KEYS)
    }
}

impl Limiter {
    /// A limiter holding at most `cap` keys (at least one).
    pub fn new(cap: usize) -> Limiter {
        Limiter {
            cap: cap.max(1),
            slots: HashMap::new(),
            by_end: BTreeSet::new(),
        }
    }

    /// The number of keys held.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// Counts one hit of `key` at `now` (micros) against `limit` hits per `window` (micros; a
    /// window shorter than one microsecond counts as one). A limit of 0 refuses everything.
    pub fn hit(&mut self, key: &str, now: i64, limit: u32, window: i64) -> Verdict {
        let window = window.max(1);
        if limit == 0 {
            return Verdict::Refused {
                retry_after: seconds_until(now.saturating_add(window), now),
            };
        }
        let key = bounded_key(key);
        self.sweep(now);
        if let Some(slot) = self.slots.get_mut(key.as_str()) {
            if now < slot.end {
                if slot.count >= limit {
                    return Verdict::Refused {
                        retry_after: seconds_until(slot.end, now),
                    };
                }
                slot.count += 1;
                return Verdict::Allowed {
                    remaining: limit - slot.count,
                };
            }
            // The window has ended: the key starts again below.
            let end = slot.end;
            self.remove(&key, end);
        }
        while self.slots.len() >= self.cap {
            let Some((end, oldest)) = self.by_end.first().cloned() else {
                break;
            };
            self.remove(&oldest, end);
        }
        let end = now.saturating_add(window);
        let key: Arc<str> = Arc::from(key);
        self.slots.insert(key.clone(), Slot { end, count: 1 });
        self.by_end.insert((end, key));
        Verdict::Allowed {
            remaining: limit - 1,
        }
    }

    /// Drops up to [`SWEEP_PER_CALL`] keys whose window has ended.
    fn sweep(&mut self, now: i64) {
        for _ in 0..SWEEP_PER_CALL {
            match self.by_end.first() {
                Some((end, _)) if *end <= now => {
                    if let Some((_, key)) = self.by_end.pop_first() {
                        self.slots.remove(&key);
                    }
                }
                _ => break,
            }
        }
    }

    fn remove(&mut self, key: &str, end: i64) {
        if let Some((k, _)) = self.slots.remove_entry(key) {
            self.by_end.remove(&(end, k));
        }
    }
}

/// The key as stored: itself, or `sha256:<hex>` when longer than [`MAX_KEY_LEN`].
fn bounded_key(key: &str) -> String {
    if key.len() <= MAX_KEY_LEN {
        key.to_owned()
    } else {
        format!("sha256:{}", hex::encode(Sha256::digest(key.as_bytes())))
    }
}

/// Whole seconds from `now` until `end`, rounded up, at least 1.
fn seconds_until(end: i64, now: i64) -> u64 {
    let micros = end.saturating_sub(now).max(1);
    (micros / SECOND + i64::from(micros % SECOND != 0)) as u64
}

// ---------------------------------------------------------------------------------------------
// The load gauge

/// The number of submissions in the last minute, across all visitors, in sixty one-second
/// buckets (fixed memory). The web layer records every submission to the public forms and asks
/// [`Load::under_load`] whether to demand proof-of-work: when few people write, nobody waits
/// for a calculation; when an incident is in the news or a script floods the forms, everyone
/// does, which costs a person a second and a script a second per submission.
#[derive(Debug, Clone)]
pub struct Load {
    /// (unix second, submissions in it), at index second mod 60.
    buckets: [(i64, u32); 60],
}

impl Default for Load {
    fn default() -> Self {
        Load {
            buckets: [(i64::MIN, 0); 60],
        }
    }
}

impl Load {
    pub fn new() -> Load {
        Load::default()
    }

    /// Records one submission at `now` (micros). A submission more than a minute older than
    /// one already recorded is outside every window still asked about and is ignored.
    pub fn record(&mut self, now: i64) {
        let sec = now.div_euclid(SECOND);
        let bucket = &mut self.buckets[sec.rem_euclid(60) as usize];
        if bucket.0 == sec {
            bucket.1 = bucket.1.saturating_add(1);
        } else if bucket.0 < sec {
            *bucket = (sec, 1);
        }
    }

    /// Submissions recorded in the minute up to `now`: the current second and the 59 before it.
    pub fn count(&self, now: i64) -> u64 {
        let sec = now.div_euclid(SECOND);
        self.buckets
            .iter()
            .filter(|(s, _)| *s <= sec && *s > sec.saturating_sub(60))
            .map(|(_, n)| u64::from(*n))
            .sum()
    }

    /// True when at least `threshold` submissions were recorded in the last minute (so a
    /// threshold of 0 always asks for proof-of-work).
    pub fn under_load(&self, now: i64, threshold: u64) -> bool {
        self.count(now) >= threshold
    }
}

// ---------------------------------------------------------------------------------------------
// Signed tokens (shared by pow and form_stamp)

type HmacSha256 = Hmac<Sha256>;

/// A key for one purpose, derived from the server's secret: HMAC(secret, label). The secret may
/// sign other things too (keyed hashes of e-mail addresses); with a derived key per purpose no
/// value signed for one use is ever valid for another.
fn purpose_key(secret: &[u8; 32], label: &str) -> [u8; 32] {
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC takes a key of any length");
    mac.update(label.as_bytes());
    mac.finalize().into_bytes().into()
}

fn tag(key: &[u8; 32], body: &str) -> [u8; 32] {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(body.as_bytes());
    mac.finalize().into_bytes().into()
}

/// Lower-case hex only (what we write); anything else is not one of our tokens.
fn lower_hex<const N: usize>(s: &str) -> Option<[u8; N]> {
    if s.len() != 2 * N || !s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return None;
    }
    let mut out = [0u8; N];
    hex::decode_to_slice(s, &mut out).ok()?;
    Some(out)
}

/// Splits `token` at its last `.` into the signed body and the tag, and checks the tag in
/// constant time. `None` when there is no well-formed tag; `Some(false)` when it does not match.
fn check_tag(key: &[u8; 32], token: &str) -> Option<(bool, [u8; 32])> {
    let (body, tag_hex) = token.rsplit_once('.')?;
    let given = lower_hex::<32>(tag_hex)?;
    let ok: bool = tag(key, body).ct_eq(&given).into();
    Some((ok, given))
}

/// Whether a digit field is plausible before parsing: ASCII digits only, 1 to `max` of them.
fn digits(s: &str, max: usize) -> bool {
    !s.is_empty() && s.len() <= max && s.bytes().all(|b| b.is_ascii_digit())
}

// ---------------------------------------------------------------------------------------------
// Replay

/// The most tokens a [`Replay`] made with `Replay::default()` remembers.
pub const DEFAULT_REPLAY: usize = 100_000;

/// Tokens already used (proof-of-work challenges, form stamps), refused until they expire;
/// after that the token's own expiry refuses it, and it is forgotten.
///
/// A token is remembered by its signature (32 bytes), not its text. **Memory is bounded**: at
/// most `cap` tokens. When full, the token that expires soonest is forgotten early, so under a
/// flood of more than `cap` solved, unexpired tokens a token may be used twice; each of those
/// cost a solved challenge and still passes the limiter, so nothing is gained by it that the
/// limits do not already allow. (The alternative, refusing new tokens when full, would let a
/// flood lock out every person.)
#[derive(Debug)]
pub struct Replay {
    cap: usize,
    seen: HashMap<[u8; 32], i64>,
    by_expiry: BTreeSet<(i64, [u8; 32])>,
}

impl Default for Replay {
    fn default() -> Self {
        Replay::new(DEFAULT_REPLAY)
    }
}

impl Replay {
    /// A set remembering at most `cap` tokens (at least one).
    pub fn new(cap: usize) -> Replay {
        Replay {
            cap: cap.max(1),
            seen: HashMap::new(),
            by_expiry: BTreeSet::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.seen.len()
    }

    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }

    /// Marks the token with signature `id`, valid until `expires`, as used at `now`. False when
    /// it was already used. A token already expired is not remembered (its expiry refuses it).
    fn spend(&mut self, id: [u8; 32], expires: i64, now: i64) -> bool {
        while let Some((end, _)) = self.by_expiry.first() {
            if *end > now {
                break;
            }
            if let Some((_, old)) = self.by_expiry.pop_first() {
                self.seen.remove(&old);
            }
        }
        if self.seen.contains_key(&id) {
            return false;
        }
        if expires <= now {
            return true;
        }
        while self.seen.len() >= self.cap {
            let Some((_, old)) = self.by_expiry.pop_first() else {
                break;
            };
            self.seen.remove(&old);
        }
        self.seen.insert(id, expires);
        self.by_expiry.insert((expires, id));
        true
    }
}

// ---------------------------------------------------------------------------------------------
// Proof-of-work

/// Why a proof-of-work is refused. `Display` is the English message for the visitor; [`ja`]
/// the Japanese one.
///
/// [`ja`]: PowError::ja
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PowError {
    /// The token is not one of ours in shape (wrong fields, not hex, bits over 32, too long).
    #[error("The form's check data is damaged. Please send the form again; if this message appears again, reload the page.")]
    Malformed,
    /// The shape is right but the signature is not ours (or the server's secret changed).
    #[error("The form's check data could not be confirmed. Please send the form again; if this message appears again, reload the page.")]
    Forged,
    /// The challenge's ten minutes are over.
    #[error("The check before sending has expired (it is valid for 10 minutes). Please send the form again.")]
    Expired,
    /// No solution, or one that does not have the leading zero bits asked for.
    #[error("The automatic check before sending (a short calculation against automated submissions) was not completed. Please enable JavaScript and send the form from the page opened over https.")]
    NotSolved,
    /// The challenge has already been used for a submission.
    #[error("This form has already been sent. To send another, reload the page.")]
    Used,
}

impl PowError {
    pub fn ja(self) -> &'static str {
        match self {
            PowError::Malformed => {
                "送信内容の確認用データが壊れています。もう一度送信してください（繰り返し表示される場合は、ページを再読み込みしてください）。"
            }
            PowError::Forged => {
                "送信内容の確認用データを確認できませんでした。もう一度送信してください（繰り返し表示される場合は、ページを再読み込みしてください）。"
            }
            PowError::Expired => {
                "送信前の確認の有効期限（10分）が切れました。お手数ですが、もう一度送信してください。"
            }
            PowError::NotSolved => {
                "送信前の自動確認（機械的な大量送信を防ぐための短い計算）が完了していません。JavaScript を有効にし、https で開いたページから送信してください。"
            }
            PowError::Used => {
                "このフォームは既に送信されています。別の内容を送信する場合は、ページを再読み込みしてください。"
            }
        }
    }

    /// The English message (the same as `Display`).
    pub fn en(self) -> String {
        self.to_string()
    }

    pub fn say(self, lang: Lang) -> String {
        match lang {
            Lang::Ja => self.ja().to_owned(),
            Lang::En => self.en(),
        }
    }
}

/// A proof-of-work challenge that needs no server state.
///
/// The server issues `v1.<expires>.<bits>.<nonce>.<mac>`: `expires` in microseconds since the
/// epoch (issue time + 10 minutes), `bits` the leading zero bits asked for, `nonce` 32 hex
/// digits of randomness the caller supplies, and `mac` HMAC-SHA256 over everything before the
/// last dot, under a key derived from the server's secret for this purpose only. The browser
/// (`static/pow.js`) tries the decimal numbers 0, 1, 2, … as `solution` until
/// SHA-256(token ‖ ":" ‖ solution) — the token's UTF-8 bytes, one colon, the number's ASCII
/// digits — starts with `bits` zero bits, and sends the number in the form's `pow` field. The
/// server checks the signature, the expiry and the hash: one HMAC and one SHA-256, no lookup.
/// [`redeem`] also refuses a challenge used before (through a [`Replay`]).
pub mod pow {
    use super::{check_tag, digits, lower_hex, purpose_key, tag, PowError, Replay, MINUTE};
    use sha2::{Digest, Sha256};

    /// How long a challenge may be solved and sent: 10 minutes.
    pub const LIFETIME: i64 = 10 * MINUTE;
    /// The most leading zero bits a challenge may ask for (about 4 × 10⁹ hashes on average:
    /// hours in a browser). A token asking more is malformed; [`issue`] asks at most this.
    pub const MAX_BITS: u8 = 32;
    /// Leading zero bits asked for by default: 16, that is 2¹⁶ = 65,536 hashes on average.
    ///
    /// Why 16 and not the 18 first planned: what limits `crypto.subtle.digest` is not SHA-256
    /// but the cost of each call (a promise, a hop to another thread). pow.js run under
    /// Node 20 (the same WebCrypto interface as the browsers) on a shared two-core server did
    /// 90,000–180,000 hashes a second in its batches; a phone is assumed two to four times
    /// slower (not measured here). 16 bits is then about 0.4–0.7 s on a desktop and 1–3 s on a
    /// phone, on average; 18 bits would be four times that, up to 12 s on a slow phone. The
    /// number of tries is geometric, so one visitor in twenty needs three times the average
    /// and one in a hundred four and a half: the average has to stay short. A script with
    /// native SHA-256 solves either in milliseconds, so the challenge only raises the price of
    /// a flood from plain scripts; the limits per network and per address do the rest. The web
    /// layer may ask for more bits as the load grows.
    pub const DEFAULT_BITS: u8 = 16;
    /// The longest solution accepted: 20 ASCII digits (any `u64`; pow.js counts far less).
    pub const MAX_SOLUTION_LEN: usize = 20;
    /// Longer than any token [`issue`] writes.
    const MAX_TOKEN_LEN: usize = 160;
    const PURPOSE: &str = "mamori/abuse/pow/v1";

    /// A new challenge asking for `bits` leading zero bits (at most [`MAX_BITS`]), valid for
    /// [`LIFETIME`] from `now`. `nonce_seed` must be fresh randomness (from the caller's RNG).
    pub fn issue(secret: &[u8; 32], now: i64, bits: u8, nonce_seed: [u8; 16]) -> String {
        let expires = now.saturating_add(LIFETIME);
        let bits = bits.min(MAX_BITS);
        let body = format!("v1.{expires}.{bits}.{}", hex::encode(nonce_seed));
        let mac = hex::encode(tag(&purpose_key(secret, PURPOSE), &body));
        format!("{body}.{mac}")
    }

    /// The parts of a well-formed token.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    struct Parts {
        expires: i64,
        bits: u8,
    }

    fn parse(token: &str) -> Result<Parts, PowError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(PowError::Malformed);
        }
        let fields: Vec<&str> = token.split('.').collect();
        let [version, expires, bits, nonce, mac] = fields[..] else {
            return Err(PowError::Malformed);
        };
        if version != "v1"
            || !digits(expires, 19)
            || !digits(bits, 2)
            || lower_hex::<16>(nonce).is_none()
            || lower_hex::<32>(mac).is_none()
        {
            return Err(PowError::Malformed);
        }
        let expires: i64 = expires.parse().map_err(|_| PowError::Malformed)?;
        let bits: u8 = bits.parse().map_err(|_| PowError::Malformed)?;
        if bits > MAX_BITS {
            return Err(PowError::Malformed);
        }
        Ok(Parts { expires, bits })
    }

    /// Checks a solved challenge at `now`: the token's shape ([`PowError::Malformed`]), its
    /// signature, compared in constant time ([`PowError::Forged`]), its expiry — valid while
    /// `now` is before `expires` ([`PowError::Expired`]) — and the solution: 1 to 20 ASCII
    /// digits whose hash has the leading zero bits asked for ([`PowError::NotSolved`]).
    pub fn verify(
        secret: &[u8; 32],
        token: &str,
        solution: &str,
        now: i64,
    ) -> Result<(), PowError> {
        checked(secret, token, solution, now).map(|_| ())
    }

    /// [`verify`], then refuses a challenge that `replay` has seen ([`PowError::Used`]) and
    /// remembers this one. A refused submission does not use up its challenge.
    pub fn redeem(
        secret: &[u8; 32],
        token: &str,
        solution: &str,
        now: i64,
        replay: &mut Replay,
    ) -> Result<(), PowError> {
        let (parts, id) = checked(secret, token, solution, now)?;
        if replay.spend(id, parts.expires, now) {
            Ok(())
        } else {
            Err(PowError::Used)
        }
    }

    fn checked(
        secret: &[u8; 32],
        token: &str,
        solution: &str,
        now: i64,
    ) -> Result<(Parts, [u8; 32]), PowError> {
        let parts = parse(token)?;
        let (ok, id) =
            check_tag(&purpose_key(secret, PURPOSE), token).ok_or(PowError::Malformed)?;
        if !ok {
            return Err(PowError::Forged);
        }
        if now >= parts.expires {
            return Err(PowError::Expired);
        }
        if !digits(solution, MAX_SOLUTION_LEN) || !solves(token, solution, parts.bits) {
            return Err(PowError::NotSolved);
        }
        Ok((parts, id))
    }

    /// True when SHA-256(token ‖ ":" ‖ solution) starts with at least `bits` zero bits.
    pub fn solves(token: &str, solution: &str, bits: u8) -> bool {
        let mut h = Sha256::new();
        h.update(token.as_bytes());
        h.update(b":");
        h.update(solution.as_bytes());
        leading_zero_bits(&h.finalize()) >= u32::from(bits)
    }

    /// The number of zero bits at the start of `bytes`, most significant bit of each byte first
    /// (pow.js counts the same way).
    pub fn leading_zero_bits(bytes: &[u8]) -> u32 {
        let mut n = 0;
        for b in bytes {
            if *b == 0 {
                n += 8;
            } else {
                return n + b.leading_zeros();
            }
        }
        n
    }

    /// The bits a well-formed token asks for (for the page's `data-pow-bits`); `None` for a
    /// malformed token. The signature is not checked here.
    pub fn bits_of(token: &str) -> Option<u8> {
        parse(token).ok().map(|p| p.bits)
    }
}

// ---------------------------------------------------------------------------------------------
// Honeypot and timing

/// The least time between serving a form and receiving it from a person: 2 seconds.
pub const MIN_FILL_TIME: i64 = 2 * SECOND;

/// True when the hidden honeypot field holds anything but whitespace. The field is one a
/// person never sees or reaches (hidden by CSS, `tabindex="-1"`, `autocomplete="off"`, a name
/// that autofill does not recognise, so a browser does not fill it either), and that a script
/// filling every field fills.
pub fn honeypot_tripped(value: &str) -> bool {
    value.chars().any(|c| !c.is_whitespace())
}

/// True when a form served at `rendered_at` and sent at `now` (micros) came back within
/// [`MIN_FILL_TIME`]: no person reads and fills a form that fast. A `rendered_at` after `now`
/// (a clock set back) counts as too fast; the page says to send again, which then passes.
pub fn too_fast(rendered_at: i64, now: i64) -> bool {
    now.saturating_sub(rendered_at) < MIN_FILL_TIME
}

/// Why a form stamp is refused. `Display` is English; [`ja`](StampError::ja) Japanese.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum StampError {
    #[error("The form's check data is damaged. Please reload the page and send the form again.")]
    Malformed,
    #[error("The form's check data could not be confirmed. Please reload the page and send the form again.")]
    Forged,
    #[error("The form has been open too long (more than 2 hours). Please send it again.")]
    Expired,
    #[error("This form has already been sent. To send another, reload the page.")]
    Used,
}

impl StampError {
    pub fn ja(self) -> &'static str {
        match self {
            StampError::Malformed => {
                "フォームの確認用データが壊れています。ページを再読み込みしてから、もう一度送信してください。"
            }
            StampError::Forged => {
                "フォームの確認用データを確認できませんでした。ページを再読み込みしてから、もう一度送信してください。"
            }
            StampError::Expired => {
                "フォームを開いてから時間が経ちすぎました（2時間以上）。お手数ですが、もう一度送信してください。"
            }
            StampError::Used => {
                "このフォームは既に送信されています。別の内容を送信する場合は、ページを再読み込みしてください。"
            }
        }
    }

    /// The English message (the same as `Display`).
    pub fn en(self) -> String {
        self.to_string()
    }

    pub fn say(self, lang: Lang) -> String {
        match lang {
            Lang::Ja => self.ja().to_owned(),
            Lang::En => self.en(),
        }
    }
}

/// The time a form was served, signed so that a script cannot claim an earlier one.
///
/// `s1.<rendered_at>.<nonce>.<mac>`: `rendered_at` in microseconds since the epoch, `nonce` 32
/// hex digits of randomness (two forms served in the same microsecond get different stamps),
/// `mac` HMAC-SHA256 over everything before the last dot under a key derived for this purpose
/// (so a stamp is never a proof-of-work token, nor the reverse). The page carries it in a
/// hidden field; [`verify`] gives back the time for [`super::too_fast`]. A stamp is valid for
/// [`MAX_AGE`], so that a script cannot fetch one form and send it for ever; [`redeem`] makes it
/// single-use as well.
pub mod form_stamp {
    use super::{check_tag, digits, lower_hex, purpose_key, tag, Replay, StampError, MINUTE};

    /// How long a served form may be sent: 2 hours (a person may write a long question, or
    /// leave the tab open over lunch).
    pub const MAX_AGE: i64 = 120 * MINUTE;
    const MAX_STAMP_LEN: usize = 160;
    const PURPOSE: &str = "mamori/abuse/form-stamp/v1";

    /// A stamp for a form served at `now`; `nonce_seed` is fresh randomness.
    pub fn issue(secret: &[u8; 32], now: i64, nonce_seed: [u8; 16]) -> String {
        let body = format!("s1.{now}.{}", hex::encode(nonce_seed));
        let mac = hex::encode(tag(&purpose_key(secret, PURPOSE), &body));
        format!("{body}.{mac}")
    }

    /// The time the form was served, when the stamp is ours and not older than [`MAX_AGE`] at
    /// `now` (valid while `now < rendered_at + MAX_AGE`).
    pub fn verify(secret: &[u8; 32], stamp: &str, now: i64) -> Result<i64, StampError> {
        checked(secret, stamp, now).map(|(at, _)| at)
    }

    /// [`verify`], then refuses a stamp that `replay` has seen ([`StampError::Used`]) and
    /// remembers this one until it expires.
    pub fn redeem(
        secret: &[u8; 32],
        stamp: &str,
        now: i64,
        replay: &mut Replay,
    ) -> Result<i64, StampError> {
        let (at, id) = checked(secret, stamp, now)?;
        if replay.spend(id, at.saturating_add(MAX_AGE), now) {
            Ok(at)
        } else {
            Err(StampError::Used)
        }
    }

    fn checked(secret: &[u8; 32], stamp: &str, now: i64) -> Result<(i64, [u8; 32]), StampError> {
        if stamp.len() > MAX_STAMP_LEN {
            return Err(StampError::Malformed);
        }
        let fields: Vec<&str> = stamp.split('.').collect();
        let [version, at, nonce, mac] = fields[..] else {
            return Err(StampError::Malformed);
        };
        // A time before 1970 is not one we write (digits only, no sign).
        if version != "s1"
            || !digits(at, 19)
            || lower_hex::<16>(nonce).is_none()
            || lower_hex::<32>(mac).is_none()
        {
            return Err(StampError::Malformed);
        }
        let at: i64 = at.parse().map_err(|_| StampError::Malformed)?;
        let (ok, id) =
            check_tag(&purpose_key(secret, PURPOSE), stamp).ok_or(StampError::Malformed)?;
        if !ok {
            return Err(StampError::Forged);
        }
        if now >= at.saturating_add(MAX_AGE) {
            return Err(StampError::Expired);
        }
        Ok((at, id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_700_000_000 * SECOND;
    const SECRET: [u8; 32] = [7; 32];
    const SEED: [u8; 16] = [0x11; 16];

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    // --- networks ---------------------------------------------------------------------------

    #[test]
    fn networks_group_ipv4_by_24_and_ipv6_by_64() {
        for (addr, key) in [
            ("203.0.113.7", "v4:203.0.113.0/24"),
            ("203.0.113.0", "v4:203.0.113.0/24"),
            ("203.0.113.255", "v4:203.0.113.0/24"),
            ("203.0.114.1", "v4:203.0.114.0/24"),
            ("0.0.0.0", "v4:0.0.0.0/24"),
            ("255.255.255.255", "v4:255.255.255.0/24"),
            ("::ffff:203.0.113.9", "v4:203.0.113.0/24"),
            ("::ffff:10.1.2.3", "v4:10.1.2.0/24"),
            ("2001:db8:1:2:aaaa:bbbb:cccc:dddd", "v6:2001:db8:1:2::/64"),
            ("2001:db8:1:2::1", "v6:2001:db8:1:2::/64"),
            ("2001:db8:1:3::1", "v6:2001:db8:1:3::/64"),
            ("2001:db8::ffff:1", "v6:2001:db8::/64"),
            ("fe80::1", "v6:fe80::/64"),
            ("::", "v6:::/64"),
            // Loopback: per address, documented.
            ("127.0.0.1", "v4:127.0.0.1/32"),
            ("127.0.0.2", "v4:127.0.0.2/32"),
            ("::ffff:127.0.0.1", "v4:127.0.0.1/32"),
            ("::1", "v6:::1/128"),
        ] {
            assert_eq!(network_of(ip(addr)), key, "{addr}");
        }
    }

    #[test]
    fn a_mapped_address_and_its_ipv4_share_a_counter() {
        let mut l = Limiter::new(10);
        let a = network_of(ip("198.51.100.20"));
        let b = network_of(ip("::ffff:198.51.100.99"));
        assert!(l.hit(&a, T0, 1, MINUTE).is_allowed());
        assert!(!l.hit(&b, T0 + 1, 1, MINUTE).is_allowed());
    }

    // --- limiter ----------------------------------------------------------------------------

    fn invariant(l: &Limiter) {
        assert_eq!(l.slots.len(), l.by_end.len());
        assert!(l.slots.len() <= l.cap);
        for (end, key) in &l.by_end {
            assert_eq!(l.slots.get(key).map(|s| s.end), Some(*end));
        }
    }

    #[test]
    fn the_limit_holds_per_key_and_window() {
        let mut l = Limiter::new(100);
        let w = 60 * SECOND;
        let hits = [
            (0, Verdict::Allowed { remaining: 2 }),
            (SECOND, Verdict::Allowed { remaining: 1 }),
            (2 * SECOND, Verdict::Allowed { remaining: 0 }),
            // 57.5 s left, rounded up.
            (
                2 * SECOND + SECOND / 2,
                Verdict::Refused { retry_after: 58 },
            ),
            (10 * SECOND, Verdict::Refused { retry_after: 50 }),
            // One microsecond before the end: still refused, for one (whole) second.
            (w - 1, Verdict::Refused { retry_after: 1 }),
            // At the end exactly, the count starts again.
            (w, Verdict::Allowed { remaining: 2 }),
            (w + 1, Verdict::Allowed { remaining: 1 }),
        ];
        for (at, want) in hits {
            assert_eq!(l.hit("k", T0 + at, 3, w), want, "at +{at}µs");
            invariant(&l);
        }
        // Other keys are counted on their own.
        assert_eq!(
            l.hit("other", T0 + w, 3, w),
            Verdict::Allowed { remaining: 2 }
        );
        assert_eq!(l.len(), 2);
    }

    #[test]
    fn refused_hits_do_not_move_the_window() {
        let mut l = Limiter::new(100);
        assert!(l.hit("k", T0, 1, 10 * SECOND).is_allowed());
        for s in 1..10 {
            assert_eq!(
                l.hit("k", T0 + s * SECOND, 1, 10 * SECOND).retry_after(),
                Some((10 - s) as u64)
            );
        }
        assert!(l.hit("k", T0 + 10 * SECOND, 1, 10 * SECOND).is_allowed());
    }

    #[test]
    fn odd_limits_and_windows_do_not_panic() {
        let mut l = Limiter::new(100);
        // A limit of 0 refuses and stores nothing.
        assert_eq!(
            l.hit("k", T0, 0, 90 * SECOND),
            Verdict::Refused { retry_after: 90 }
        );
        assert_eq!(l.hit("k", T0, 0, 0), Verdict::Refused { retry_after: 1 });
        assert!(l.is_empty());
        // A window of 0 or less is one microsecond.
        for w in [0, -5, i64::MIN] {
            let key = format!("w{w}");
            assert!(l.hit(&key, T0, 1, w).is_allowed());
            assert_eq!(l.hit(&key, T0, 1, w), Verdict::Refused { retry_after: 1 });
            assert!(l.hit(&key, T0 + 1, 1, w).is_allowed());
        }
        // Extreme times and windows saturate.
        assert!(l.hit("max", i64::MAX - 10, 1, i64::MAX).is_allowed());
        assert_eq!(
            l.hit("max", i64::MAX - 1, 1, i64::MAX),
            Verdict::Refused { retry_after: 1 }
        );
        // From the start of time a window of i64::MAX ends at -1.
        assert!(l.hit("min", i64::MIN, 2, i64::MAX).is_allowed());
        assert_eq!(
            l.hit("min", -2, 2, i64::MAX),
            Verdict::Allowed { remaining: 0 }
        );
        assert_eq!(
            l.hit("min", -2, 2, i64::MAX),
            Verdict::Refused { retry_after: 1 }
        );
        assert!(l.hit("min", -1, 2, i64::MAX).is_allowed());
        assert!(l.hit("big", T0, u32::MAX, MINUTE).is_allowed());
        // A clock set back counts the hit in the current window.
        assert!(l.hit("back", T0, 2, MINUTE).is_allowed());
        assert_eq!(
            l.hit("back", T0 - SECOND, 2, MINUTE),
            Verdict::Allowed { remaining: 0 }
        );
        invariant(&l);
    }

    #[test]
    fn long_keys_are_stored_as_their_hash() {
        let mut l = Limiter::new(100);
        let long_a = "a".repeat(10_000);
        let long_b = format!("{}b", "a".repeat(9_999));
        let exact = "x".repeat(MAX_KEY_LEN);
        assert!(l.hit(&long_a, T0, 1, MINUTE).is_allowed());
        assert!(
            !l.hit(&long_a, T0, 1, MINUTE).is_allowed(),
            "the same long key"
        );
        assert!(
            l.hit(&long_b, T0, 1, MINUTE).is_allowed(),
            "another long key"
        );
        assert!(l.hit(&exact, T0, 1, MINUTE).is_allowed());
        assert!(l.slots.keys().all(|k| k.len() <= MAX_KEY_LEN));
        assert!(
            l.slots.contains_key(exact.as_str()),
            "short enough: kept as is"
        );
        assert!(
            l.hit("", T0, 1, MINUTE).is_allowed(),
            "the empty key is a key"
        );
    }

    #[test]
    fn a_flood_of_distinct_keys_stays_under_the_cap_and_recent_keys_stay_limited() {
        let cap = 1_000;
        let mut l = Limiter::new(cap);
        let w = 10 * MINUTE;
        // A key reaches its limit, then a flood of 50,000 distinct networks (1 ms apart, all in
        // one window) arrives.
        assert!(l.hit("early", T0, 1, w).is_allowed());
        let mut t = T0;
        let mut most = 0;
        for i in 0..50_000u32 {
            t += 1_000;
            let k = format!("v6:2001:db8:{:x}:{:x}::/64", i >> 16, i & 0xffff);
            assert!(l.hit(&k, t, 1, w).is_allowed(), "each flood key is new");
            most = most.max(l.len());
            if i == 49_500 {
                // A person's network in the middle of the flood reaches its limit.
                assert!(l.hit("person", t, 1, w).is_allowed());
            }
        }
        assert_eq!(most, cap, "never more keys than the cap");
        assert_eq!(l.len(), cap);
        invariant(&l);
        // The most recent keys (the person and the last flood keys) are still counted.
        assert!(!l.hit("person", t, 1, w).is_allowed());
        for i in 49_500..50_000u32 {
            let k = format!("v6:2001:db8:{:x}:{:x}::/64", i >> 16, i & 0xffff);
            assert_eq!(
                l.hit(&k, t, 1, w).retry_after().map(|s| s > 0),
                Some(true),
                "{k}"
            );
        }
        // The oldest were pushed out: that is the price of the bound.
        assert!(l.hit("early", t, 1, w).is_allowed());
        assert_eq!(l.len(), cap);
        invariant(&l);
    }

    #[test]
    fn the_default_cap_is_100_000_keys() {
        let mut l = Limiter::default();
        for i in 0..(DEFAULT_KEYS + 5_000) {
            l.hit(&i.to_string(), T0 + i as i64, 5, 24 * 60 * MINUTE);
        }
        assert_eq!(l.len(), DEFAULT_KEYS);
        // The newest key still has its count.
        let last = (DEFAULT_KEYS + 4_999).to_string();
        assert_eq!(
            l.hit(&last, T0 + 200_000, 5, 24 * 60 * MINUTE),
            Verdict::Allowed { remaining: 3 }
        );
    }

    #[test]
    fn expired_keys_are_dropped_a_few_at_a_time() {
        let mut l = Limiter::new(10_000);
        for i in 0..200 {
            l.hit(&format!("k{i}"), T0, 1, SECOND);
        }
        assert_eq!(l.len(), 200);
        // Later, each call drops up to SWEEP_PER_CALL ended keys (and adds its own).
        l.hit("late", T0 + 2 * SECOND, 1, SECOND);
        assert_eq!(l.len(), 200 - SWEEP_PER_CALL + 1);
        for _ in 0..5 {
            l.hit("late", T0 + 2 * SECOND, 1, SECOND);
        }
        assert_eq!(l.len(), 1, "only the live key is left");
        invariant(&l);
    }

    // --- load -------------------------------------------------------------------------------

    #[test]
    fn load_counts_the_last_minute() {
        let mut load = Load::new();
        assert_eq!(load.count(T0), 0);
        assert!(load.under_load(T0, 0), "a threshold of 0 always asks");
        assert!(!load.under_load(T0, 1));
        for _ in 0..5 {
            load.record(T0);
        }
        load.record(T0 + 30 * SECOND);
        for (at, want) in [
            (T0 - SECOND, 0),
            (T0, 5),
            (T0 + 30 * SECOND, 6),
            (T0 + 59 * SECOND + 999_999, 6),
            (T0 + 60 * SECOND, 1),
            (T0 + 89 * SECOND, 1),
            (T0 + 90 * SECOND, 0),
        ] {
            assert_eq!(load.count(at), want, "at +{}s", (at - T0) / SECOND);
        }
        assert!(load.under_load(T0 + 30 * SECOND, 6));
        assert!(!load.under_load(T0 + 30 * SECOND, 7));
    }

    #[test]
    fn load_reuses_its_buckets_and_ignores_stale_records() {
        let mut load = Load::new();
        for s in 0..120 {
            load.record(T0 + s * SECOND);
            load.record(T0 + s * SECOND + SECOND / 2);
        }
        assert_eq!(load.count(T0 + 119 * SECOND), 120, "60 seconds × 2");
        // A record a minute older than the bucket's second is ignored, not mixed in.
        load.record(T0 + 59 * SECOND);
        assert_eq!(load.count(T0 + 119 * SECOND), 120);
        // Negative and extreme times do not panic.
        let mut odd = Load::new();
        odd.record(-1);
        odd.record(i64::MIN);
        odd.record(i64::MAX);
        assert_eq!(odd.count(-1), 1);
        assert_eq!(odd.count(i64::MAX), 1);
        assert_eq!(odd.count(i64::MIN), 1);
    }

    // --- proof-of-work ----------------------------------------------------------------------

    /// The smallest solution, found the way pow.js finds it: the decimal numbers 0, 1, 2, …
    fn solve(token: &str, bits: u8) -> String {
        (0..10_000_000u64)
            .map(|n| n.to_string())
            .find(|s| pow::solves(token, s, bits))
            .unwrap()
    }

    /// A token with any body, signed with the pow key, to reach the checks after the shape.
    fn signed(body: &str) -> String {
        let key = purpose_key(&SECRET, "mamori/abuse/pow/v1");
        format!("{body}.{}", hex::encode(tag(&key, body)))
    }

    #[test]
    fn a_token_has_its_five_fields() {
        let t = pow::issue(&SECRET, T0, 8, SEED);
        let f: Vec<&str> = t.split('.').collect();
        assert_eq!(f.len(), 5);
        assert_eq!(f[0], "v1");
        assert_eq!(f[1], (T0 + 600 * SECOND).to_string());
        assert_eq!(f[2], "8");
        assert_eq!(f[3], "11".repeat(16));
        assert_eq!(f[4].len(), 64);
        assert_eq!(t, pow::issue(&SECRET, T0, 8, SEED), "deterministic");
        assert_ne!(t, pow::issue(&SECRET, T0, 8, [0x12; 16]));
        assert_ne!(t, pow::issue(&[8; 32], T0, 8, SEED));
        assert_eq!(pow::bits_of(&t), Some(8));
        assert_eq!(pow::bits_of(&pow::issue(&SECRET, T0, 200, SEED)), Some(32));
        assert_eq!(pow::bits_of("v1.1.8.zz.00"), None);
    }

    #[test]
    fn a_solved_token_verifies() {
        for bits in [0u8, 1, 4, 8, 10] {
            let t = pow::issue(&SECRET, T0, bits, [bits; 16]);
            let s = solve(&t, bits);
            assert_eq!(pow::verify(&SECRET, &t, &s, T0 + SECOND), Ok(()), "{bits}");
        }
        let t = pow::issue(&SECRET, T0, 0, SEED);
        assert_eq!(pow::verify(&SECRET, &t, "0", T0), Ok(()));
    }

    #[test]
    fn the_solution_of_pow_js_verifies() {
        // The token below, its bits (12) and its solution were run through
        // crates/mamori-web/static/pow.js under Node 20 (WebCrypto) with data-pow-bits="12":
        // it put 6625 in the form's pow field. The Rust side must agree byte for byte.
        let t = pow::issue(&SECRET, T0, 12, SEED);
        assert_eq!(
            t,
            "v1.1700000600000000.12.11111111111111111111111111111111.\
             2dbc07a579f8891c461c5a744b74a8ff75c26f924c78bf449220f4ba9f0e41cd"
        );
        assert_eq!(
            solve(&t, 12),
            "6625",
            "the smallest counter, as pow.js finds it"
        );
        assert_eq!(pow::verify(&SECRET, &t, "6625", T0), Ok(()));
        assert_eq!(
            pow::verify(&SECRET, &t, "6624", T0),
            Err(PowError::NotSolved)
        );
        // The same token solved with data-pow-bits="16" (more than it asks for) gave 132637:
        // the bit counting agrees beyond the first byte too.
        assert_eq!(solve(&t, 16), "132637");
        assert!(pow::leading_zero_bits(&Sha256::digest(format!("{t}:132637"))) >= 16);
    }

    #[test]
    fn wrong_solutions_are_not_solved() {
        let bits = 8;
        let t = pow::issue(&SECRET, T0, bits, SEED);
        let good = solve(&t, bits);
        let bad = (0..10_000_000u64)
            .map(|n| n.to_string())
            .find(|s| !pow::solves(&t, s, bits))
            .unwrap();
        for s in [
            bad.as_str(),
            "",
            " ",
            "abc",
            "-1",
            "+1",
            "1.0",
            "１",
            &format!("{good} "),
            &format!(" {good}"),
            &"9".repeat(21),
            &"1".repeat(10_000),
        ] {
            assert_eq!(
                pow::verify(&SECRET, &t, s, T0),
                Err(PowError::NotSolved),
                "{s:?}"
            );
        }
        // 20 digits are accepted when they solve it.
        let t0 = pow::issue(&SECRET, T0, 0, SEED);
        assert_eq!(pow::verify(&SECRET, &t0, &"9".repeat(20), T0), Ok(()));
    }

    #[test]
    fn tampered_tokens_are_forged() {
        let t = pow::issue(&SECRET, T0, 8, SEED);
        let s = solve(&t, 8);
        let f: Vec<&str> = t.split('.').collect();
        let later = (T0 + 60 * MINUTE).to_string();
        let other_nonce = "22".repeat(16);
        let mut flipped = f[4].to_owned();
        flipped.replace_range(0..1, if f[4].starts_with('0') { "1" } else { "0" });
        for forged in [
            [f[0], &later, f[2], f[3], f[4]].join("."),
            [f[0], f[1], "0", f[3], f[4]].join("."),
            [f[0], f[1], f[2], &other_nonce, f[4]].join("."),
            [f[0], f[1], f[2], f[3], &flipped].join("."),
            [f[0], f[1], f[2], f[3], &"0".repeat(64)].join("."),
        ] {
            // Whatever the solution: the signature is checked first.
            for sol in [s.as_str(), "0"] {
                assert_eq!(
                    pow::verify(&SECRET, &forged, sol, T0),
                    Err(PowError::Forged),
                    "{forged}"
                );
            }
        }
        assert_eq!(pow::verify(&[8; 32], &t, &s, T0), Err(PowError::Forged));
        // A form stamp is not a challenge, even one shaped like it.
        let stamp = form_stamp::issue(&SECRET, T0, SEED);
        assert_eq!(
            pow::verify(&SECRET, &stamp, "0", T0),
            Err(PowError::Malformed)
        );
        let key = purpose_key(&SECRET, "mamori/abuse/form-stamp/v1");
        let body = format!("v1.{}.0.{}", T0 + MINUTE, "11".repeat(16));
        let cross = format!("{body}.{}", hex::encode(tag(&key, &body)));
        assert_eq!(pow::verify(&SECRET, &cross, "0", T0), Err(PowError::Forged));
        assert_eq!(pow::verify(&SECRET, &signed(&body), "0", T0), Ok(()));
    }

    #[test]
    fn malformed_tokens_are_refused_without_panic() {
        let t = pow::issue(&SECRET, T0, 8, SEED);
        let f: Vec<&str> = t.split('.').collect();
        let n = "11".repeat(16);
        let long = format!("{t}{}", "0".repeat(200));
        let upper = [f[0], f[1], f[2], f[3], &f[4].to_uppercase()].join(".");
        for bad in [
            String::new(),
            ".".into(),
            "....".into(),
            "v1".into(),
            [f[0], f[1], f[2], f[3]].join("."),
            format!("{t}.00"),
            [f[0], f[1], f[2], f[3], f[4], ""].join("."),
            ["v2", f[1], f[2], f[3], f[4]].join("."),
            ["V1", f[1], f[2], f[3], f[4]].join("."),
            [f[0], "", f[2], f[3], f[4]].join("."),
            [f[0], "12x", f[2], f[3], f[4]].join("."),
            [f[0], "-5", f[2], f[3], f[4]].join("."),
            [f[0], "+5", f[2], f[3], f[4]].join("."),
            [f[0], "99999999999999999999", f[2], f[3], f[4]].join("."),
            [f[0], "9223372036854775808", f[2], f[3], f[4]].join("."),
            [f[0], f[1], "", f[3], f[4]].join("."),
            [f[0], f[1], "x", f[3], f[4]].join("."),
            [f[0], f[1], "256", f[3], f[4]].join("."),
            [f[0], f[1], f[2], "zz", f[4]].join("."),
            [f[0], f[1], f[2], &"g".repeat(32), f[4]].join("."),
            [f[0], f[1], f[2], &"1".repeat(31), f[4]].join("."),
            [f[0], f[1], f[2], &n.to_uppercase().replace('1', "A"), f[4]].join("."),
            [f[0], f[1], f[2], f[3], &f[4][..63]].join("."),
            [f[0], f[1], f[2], f[3], &format!("{}0", f[4])].join("."),
            [f[0], f[1], f[2], f[3], &"x".repeat(64)].join("."),
            upper,
            long,
            "v1.１.８.あ.い".into(),
            "\u{0}".repeat(5),
        ] {
            assert_eq!(
                pow::verify(&SECRET, &bad, "0", T0),
                Err(PowError::Malformed),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn bits_over_32_are_malformed_even_when_signed() {
        let expires = T0 + MINUTE;
        for (bits, want) in [
            (32, Err(PowError::NotSolved)),
            (33, Err(PowError::Malformed)),
            (99, Err(PowError::Malformed)),
        ] {
            let t = signed(&format!("v1.{expires}.{bits}.{}", "11".repeat(16)));
            assert_eq!(pow::verify(&SECRET, &t, "0", T0), want, "{bits}");
        }
        // issue never writes more than 32.
        let t = pow::issue(&SECRET, T0, u8::MAX, SEED);
        assert_eq!(t.split('.').nth(2), Some("32"));
    }

    #[test]
    fn a_token_expires_exactly_ten_minutes_after_issue() {
        let t = pow::issue(&SECRET, T0, 4, SEED);
        let s = solve(&t, 4);
        for (at, want) in [
            (T0 - MINUTE, Ok(())),
            (T0, Ok(())),
            (T0 + pow::LIFETIME - 1, Ok(())),
            (T0 + pow::LIFETIME, Err(PowError::Expired)),
            (T0 + pow::LIFETIME + 1, Err(PowError::Expired)),
            (i64::MAX, Err(PowError::Expired)),
        ] {
            assert_eq!(pow::verify(&SECRET, &t, &s, at), want, "at {at}");
        }
        // An expired token with a wrong solution is reported as expired (the page then gives
        // a fresh challenge), a forged one as forged.
        assert_eq!(
            pow::verify(&SECRET, &t, "", T0 + pow::LIFETIME),
            Err(PowError::Expired)
        );
        // Issued at the end of time: saturates instead of overflowing.
        let end = pow::issue(&SECRET, i64::MAX, 0, SEED);
        assert_eq!(pow::verify(&SECRET, &end, "0", i64::MAX - 1), Ok(()));
        // A time before 1970 is not one we write.
        let before = pow::issue(&SECRET, -pow::LIFETIME - 1, 0, SEED);
        assert_eq!(
            pow::verify(&SECRET, &before, "0", -pow::LIFETIME - 2),
            Err(PowError::Malformed)
        );
    }

    #[test]
    fn leading_zero_bits_are_counted_from_the_top() {
        for (bytes, want) in [
            (&[][..], 0),
            (&[0xff][..], 0),
            (&[0x80][..], 0),
            (&[0x7f][..], 1),
            (&[0x01][..], 7),
            (&[0x00][..], 8),
            (&[0x00, 0x40][..], 9),
            (&[0x00, 0x00, 0x0f, 0xff][..], 20),
            (&[0x00, 0x00, 0x00, 0x00][..], 32),
            (&[0x00; 32][..], 256),
        ] {
            assert_eq!(pow::leading_zero_bits(bytes), want, "{bytes:?}");
        }
    }

    #[test]
    fn a_challenge_is_used_once() {
        let mut replay = Replay::new(100);
        let t = pow::issue(&SECRET, T0, 6, SEED);
        let s = solve(&t, 6);
        // A refused attempt does not use it up.
        assert_eq!(
            pow::redeem(&SECRET, &t, "", T0, &mut replay),
            Err(PowError::NotSolved)
        );
        assert!(replay.is_empty());
        assert_eq!(pow::redeem(&SECRET, &t, &s, T0, &mut replay), Ok(()));
        assert_eq!(
            pow::redeem(&SECRET, &t, &s, T0 + SECOND, &mut replay),
            Err(PowError::Used)
        );
        // Another solution of the same challenge is the same challenge.
        let other = (s.parse::<u64>().unwrap() + 1..10_000_000)
            .map(|n| n.to_string())
            .find(|x| pow::solves(&t, x, 6))
            .unwrap();
        assert_eq!(
            pow::redeem(&SECRET, &t, &other, T0 + SECOND, &mut replay),
            Err(PowError::Used)
        );
        // verify alone does not look at the set.
        assert_eq!(pow::verify(&SECRET, &t, &s, T0 + SECOND), Ok(()));
        // Once expired it is refused as expired, and forgotten.
        assert_eq!(
            pow::redeem(&SECRET, &t, &s, T0 + pow::LIFETIME, &mut replay),
            Err(PowError::Expired)
        );
        let t2 = pow::issue(&SECRET, T0 + pow::LIFETIME, 0, SEED);
        assert_eq!(
            pow::redeem(&SECRET, &t2, "0", T0 + pow::LIFETIME, &mut replay),
            Ok(())
        );
        assert_eq!(replay.len(), 1, "the expired one was dropped");
    }

    #[test]
    fn the_replay_set_is_bounded() {
        let mut replay = Replay::new(10);
        for i in 0..1_000u32 {
            let mut seed = [0u8; 16];
            seed[..4].copy_from_slice(&i.to_be_bytes());
            let t = pow::issue(&SECRET, T0 + i64::from(i), 0, seed);
            assert_eq!(
                pow::redeem(&SECRET, &t, "0", T0 + i64::from(i), &mut replay),
                Ok(())
            );
            assert!(replay.len() <= 10);
            assert_eq!(replay.seen.len(), replay.by_expiry.len());
        }
        assert_eq!(replay.len(), 10);
        // The latest tokens are still refused a second time.
        let mut seed = [0u8; 16];
        seed[..4].copy_from_slice(&999u32.to_be_bytes());
        let last = pow::issue(&SECRET, T0 + 999, 0, seed);
        assert_eq!(
            pow::redeem(&SECRET, &last, "0", T0 + 1_000, &mut replay),
            Err(PowError::Used)
        );
        // The set empties itself as tokens expire.
        let late = T0 + 2 * pow::LIFETIME;
        let fresh = pow::issue(&SECRET, late, 0, SEED);
        assert_eq!(pow::redeem(&SECRET, &fresh, "0", late, &mut replay), Ok(()));
        assert_eq!(replay.len(), 1);
        assert_eq!(Replay::new(0).cap, 1);
    }

    #[test]
    fn errors_have_both_languages() {
        let pow_errors = [
            PowError::Malformed,
            PowError::Forged,
            PowError::Expired,
            PowError::NotSolved,
            PowError::Used,
        ];
        let stamp_errors = [
            StampError::Malformed,
            StampError::Forged,
            StampError::Expired,
            StampError::Used,
        ];
        let mut seen = std::collections::HashSet::new();
        let pairs = pow_errors
            .iter()
            .map(|e| (e.ja(), e.en(), e.say(Lang::Ja), e.say(Lang::En)))
            .chain(
                stamp_errors
                    .iter()
                    .map(|e| (e.ja(), e.en(), e.say(Lang::Ja), e.say(Lang::En))),
            );
        for (ja, en, say_ja, say_en) in pairs {
            assert!(
                ja.chars().any(|c| ('\u{3040}'..='\u{30ff}').contains(&c)),
                "{ja}"
            );
            assert!(en.is_ascii() && en.ends_with('.'), "{en}");
            assert_eq!(say_ja, ja);
            assert_eq!(say_en, en);
            seen.insert(en);
        }
        // Each variant says something of its own (Used reads the same for both kinds).
        assert_eq!(seen.len(), pow_errors.len() + stamp_errors.len() - 1);
        assert!(PowError::Expired.ja().contains("10分"));
        assert!(PowError::NotSolved.to_string().contains("JavaScript"));
    }

    // --- honeypot, timing, form stamps ------------------------------------------------------

    #[test]
    fn the_honeypot_trips_on_anything_but_whitespace() {
        for (value, tripped) in [
            ("", false),
            (" ", false),
            ("\t\r\n", false),
            ("\u{3000}", false), // the ideographic space of a Japanese IME
            ("a", true),
            ("  x  ", true),
            ("0", true),
            ("山田", true),
            ("\u{200b}", true), // a zero-width space is not whitespace
            ("https://spam.example/", true),
        ] {
            assert_eq!(honeypot_tripped(value), tripped, "{value:?}");
        }
    }

    #[test]
    fn a_form_sent_within_two_seconds_is_too_fast() {
        for (elapsed, fast) in [
            (0, true),
            (SECOND, true),
            (MIN_FILL_TIME - 1, true),
            (MIN_FILL_TIME, false),
            (MINUTE, false),
            (-SECOND, true),
        ] {
            assert_eq!(too_fast(T0, T0 + elapsed), fast, "{elapsed}µs");
        }
        assert!(!too_fast(i64::MIN, i64::MAX));
        assert!(too_fast(i64::MAX, i64::MIN));
    }

    #[test]
    fn a_stamp_gives_back_its_time() {
        let s = form_stamp::issue(&SECRET, T0, SEED);
        assert!(s.starts_with(&format!("s1.{T0}.{}.", "11".repeat(16))));
        assert_eq!(form_stamp::verify(&SECRET, &s, T0 + 3 * SECOND), Ok(T0));
        assert!(!too_fast(
            form_stamp::verify(&SECRET, &s, T0 + 3 * SECOND).unwrap(),
            T0 + 3 * SECOND
        ));
        assert!(too_fast(
            form_stamp::verify(&SECRET, &s, T0 + SECOND).unwrap(),
            T0 + SECOND
        ));
        assert_ne!(s, form_stamp::issue(&SECRET, T0, [0x12; 16]));
        for (at, want) in [
            (T0 - SECOND, Ok(T0)),
            (T0 + form_stamp::MAX_AGE - 1, Ok(T0)),
            (T0 + form_stamp::MAX_AGE, Err(StampError::Expired)),
            (i64::MAX, Err(StampError::Expired)),
        ] {
            assert_eq!(form_stamp::verify(&SECRET, &s, at), want, "{at}");
        }
    }

    #[test]
    fn a_stamp_cannot_be_moved_back_in_time() {
        let s = form_stamp::issue(&SECRET, T0, SEED);
        let f: Vec<&str> = s.split('.').collect();
        let earlier = (T0 - MINUTE).to_string();
        let mut flipped = f[3].to_owned();
        flipped.replace_range(63..64, if f[3].ends_with('0') { "1" } else { "0" });
        for forged in [
            [f[0], &earlier, f[2], f[3]].join("."),
            [f[0], f[1], &"22".repeat(16), f[3]].join("."),
            [f[0], f[1], f[2], &flipped].join("."),
        ] {
            assert_eq!(
                form_stamp::verify(&SECRET, &forged, T0 + MINUTE),
                Err(StampError::Forged),
                "{forged}"
            );
        }
        assert_eq!(
            form_stamp::verify(&[9; 32], &s, T0 + MINUTE),
            Err(StampError::Forged)
        );
        // A stamp-shaped value signed with the proof-of-work key is not a stamp.
        let body = format!("s1.{earlier}.{}", "11".repeat(16));
        assert_eq!(
            form_stamp::verify(&SECRET, &signed(&body), T0),
            Err(StampError::Forged)
        );
    }

    #[test]
    fn malformed_stamps_are_refused() {
        let s = form_stamp::issue(&SECRET, T0, SEED);
        let f: Vec<&str> = s.split('.').collect();
        let pow_token = pow::issue(&SECRET, T0, 8, SEED);
        for bad in [
            String::new(),
            "s1".into(),
            [f[0], f[1], f[2]].join("."),
            format!("{s}.0"),
            ["s2", f[1], f[2], f[3]].join("."),
            [f[0], "-1", f[2], f[3]].join("."),
            [f[0], "1e9", f[2], f[3]].join("."),
            [f[0], "99999999999999999999", f[2], f[3]].join("."),
            [f[0], f[1], "xyz", f[3]].join("."),
            [f[0], f[1], f[2], &f[3].to_uppercase()].join("."),
            [f[0], f[1], f[2], &f[3][1..]].join("."),
            format!("{s}{}", "0".repeat(200)),
            pow_token,
            "s1.あ.い.う".into(),
        ] {
            assert_eq!(
                form_stamp::verify(&SECRET, &bad, T0),
                Err(StampError::Malformed),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn a_stamp_is_used_once() {
        let mut replay = Replay::new(100);
        let s = form_stamp::issue(&SECRET, T0, SEED);
        assert_eq!(
            form_stamp::redeem(&SECRET, &s, T0 + 5 * SECOND, &mut replay),
            Ok(T0)
        );
        assert_eq!(
            form_stamp::redeem(&SECRET, &s, T0 + 6 * SECOND, &mut replay),
            Err(StampError::Used)
        );
        // One set can hold stamps and challenges: their signatures never collide.
        let t = pow::issue(&SECRET, T0, 0, SEED);
        assert_eq!(pow::redeem(&SECRET, &t, "0", T0, &mut replay), Ok(()));
        assert_eq!(replay.len(), 2);
        // Remembered until the stamp expires.
        assert_eq!(
            form_stamp::redeem(&SECRET, &s, T0 + form_stamp::MAX_AGE - 1, &mut replay),
            Err(StampError::Used)
        );
        assert_eq!(
            form_stamp::redeem(&SECRET, &s, T0 + form_stamp::MAX_AGE, &mut replay),
            Err(StampError::Expired)
        );
    }
}
