//! Signed webhooks.
//!
//! The sender computes `HMAC-SHA256(secret, "{timestamp}.{body}")` and sends it hex-encoded as
//! `X-Mamori-Signature: v1=<hex>` with `X-Mamori-Timestamp: <unix seconds>`. The receiver
//! recomputes it over the raw body bytes, compares in constant time, and refuses a timestamp
//! outside its tolerance so that a captured request cannot be replayed later. The scheme
//! (`v1=`) leaves room for another algorithm without breaking receivers.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
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

/// Which webhook targets may be reached besides public addresses: the host names (or IP
/// literals) the operator listed as `webhook_allow_hosts` in the configuration file. Nothing a
/// user types on a page can widen it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TargetPolicy {
    allow_hosts: Vec<String>,
}

impl TargetPolicy {
    /// A policy that also allows the given hosts (compared without case, IPv6 with or without
    /// brackets, a trailing dot ignored).
    pub fn allowing<I, S>(hosts: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        TargetPolicy {
            allow_hosts: hosts
                .into_iter()
                .map(|h| normal_host(h.as_ref()))
                .filter(|h| !h.is_empty())
                .collect(),
        }
    }

    /// Whether the operator allowed this host by name.
    pub fn allows_host(&self, host: &str) -> bool {
        let h = normal_host(host);
        self.allow_hosts.contains(&h)
    }
}

fn normal_host(h: &str) -> String {
    h.trim()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .trim_end_matches('.')
        .to_ascii_lowercase()
}

/// Why a webhook target is refused before anything is sent to it. Messages name the problem in
/// Japanese and English and never contain the URL (it often carries a secret token), only the
/// host and the address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    /// Not an `http`/`https` URL with a host.
    #[error("the webhook URL is not an http(s) URL with a host")]
    BadUrl,
    /// The host name does not resolve (now).
    #[error("the webhook host {host} does not resolve")]
    Unresolvable { host: String },
    /// The host is, or resolves to, an address inside the network (`why` names the range).
    #[error("the webhook host {host} is {addr} ({why_en}); only public addresses are allowed unless webhook_allow_hosts in the configuration file names the host")]
    Forbidden {
        host: String,
        addr: IpAddr,
        why_ja: &'static str,
        why_en: &'static str,
    },
}

impl TargetError {
    /// The message for a person, in Japanese.
    pub fn ja(&self) -> String {
        match self {
            TargetError::BadUrl => {
                "Webhook の URL は http:// または https:// で始まり、ホスト名を含む形にしてください"
                    .into()
            }
            TargetError::Unresolvable { host } => {
                format!("Webhook のホスト {host} の名前を解決できません（DNS に登録されているか確認してください）")
            }
            TargetError::Forbidden {
                host, addr, why_ja, ..
            } => format!(
                "Webhook の送信先 {host}（{addr}）は{why_ja}のため使えません。社内の宛先に送る場合は、管理者が設定ファイルの webhook_allow_hosts にこのホストを加えてください"
            ),
        }
    }

    /// The message in English.
    pub fn en(&self) -> String {
        self.to_string()
    }
}

/// Why an address must not be a webhook target, as (Japanese, English), or `None` for a public
/// address. IPv4 inside IPv6 (mapped, compatible, NAT64, 6to4) is judged by the IPv4 address.
pub fn forbidden_range(ip: IpAddr) -> Option<(&'static str, &'static str)> {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => forbidden_v6(v6),
    }
}

fn forbidden_v4(ip: Ipv4Addr) -> Option<(&'static str, &'static str)> {
    let [a, b, c, _] = ip.octets();
    Some(match (a, b, c) {
        _ if ip.is_unspecified() || a == 0 => {
            ("未指定のアドレス（0.0.0.0/8）", "unspecified (0.0.0.0/8)")
        }
        _ if ip.is_loopback() => (
            "ループバックアドレス（127.0.0.0/8）",
            "loopback (127.0.0.0/8)",
        ),
        (169, 254, 169) if ip.octets()[3] == 254 => (
            "クラウドのメタデータアドレス（169.254.169.254）",
            "the cloud metadata address (169.254.169.254)",
        ),
        _ if ip.is_link_local() => (
            "リンクローカルアドレス（169.254.0.0/16）",
            "link-local (169.254.0.0/16)",
        ),
        _ if ip.is_private() => (
            "プライベートアドレス（10.0.0.0/8・172.16.0.0/12・192.168.0.0/16）",
            "private (RFC 1918)",
        ),
        (100, 64..=127, _) => (
            "CGNAT の共有アドレス（100.64.0.0/10）",
            "shared CGNAT space (100.64.0.0/10)",
        ),
        (192, 0, 0) => (
            "IETF の予約アドレス（192.0.0.0/24）",
            "IETF protocol assignments (192.0.0.0/24)",
        ),
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => ("文書用のアドレス", "documentation range"),
        (198, 18 | 19, _) => (
            "ベンチマーク用のアドレス（198.18.0.0/15）",
            "benchmarking (198.18.0.0/15)",
        ),
        _ if ip.is_multicast() => (
            "マルチキャストアドレス（224.0.0.0/4）",
            "multicast (224.0.0.0/4)",
        ),
        _ if a >= 240 => (
            "予約済み・ブロードキャストのアドレス（240.0.0.0/4）",
            "reserved or broadcast (240.0.0.0/4)",
        ),
        _ => return None,
    })
}

fn forbidden_v6(ip: Ipv6Addr) -> Option<(&'static str, &'static str)> {
    let seg = ip.segments();
    if ip.is_unspecified() {
        return Some(("未指定のアドレス（::）", "unspecified (::)"));
    }
    if ip.is_loopback() {
        return Some(("ループバックアドレス（::1）", "loopback (::1)"));
    }
    // IPv4-mapped (::ffff:a.b.c.d) and IPv4-compatible (::a.b.c.d) addresses reach the IPv4
    // address they carry.
    if let Some(v4) = ip.to_ipv4() {
        return Some(forbidden_v4(v4).unwrap_or((
            "IPv4 を埋め込んだ IPv6 アドレス",
            "IPv6 with an embedded IPv4 address",
        )));
    }
    let embedded = |hi: u16, lo: u16| {
        let [a, b] = hi.to_be_bytes();
        let [c, d] = lo.to_be_bytes();
        Ipv4Addr::new(a, b, c, d)
    };
    // NAT64 (64:ff9b::/96) and 6to4 (2002::/16) reach their IPv4 address too.
    if seg[0] == 0x64 && seg[1] == 0xff9b && seg[2..6] == [0, 0, 0, 0] {
        return forbidden_v4(embedded(seg[6], seg[7]));
    }
    if seg[0] == 0x2002 {
        return forbidden_v4(embedded(seg[1], seg[2]));
    }
    Some(match seg[0] {
        0xfd00 if seg[1] == 0x0ec2 && seg[2..7] == [0, 0, 0, 0, 0] && seg[7] == 0x254 => (
            "クラウドのメタデータアドレス（fd00:ec2::254）",
            "the cloud metadata address (fd00:ec2::254)",
        ),
        s if s & 0xfe00 == 0xfc00 => (
            "ユニークローカルアドレス（fc00::/7）",
            "unique local (fc00::/7)",
        ),
        s if s & 0xffc0 == 0xfe80 => (
            "リンクローカルアドレス（fe80::/10）",
            "link-local (fe80::/10)",
        ),
        s if s & 0xffc0 == 0xfec0 => (
            "サイトローカルアドレス（fec0::/10）",
            "site-local (fec0::/10)",
        ),
        s if s & 0xff00 == 0xff00 => ("マルチキャストアドレス（ff00::/8）", "multicast (ff00::/8)"),
        0x2001 if seg[1] == 0x0db8 => (
            "文書用のアドレス（2001:db8::/32）",
            "documentation (2001:db8::/32)",
        ),
        0x2001 if seg[1] == 0 => ("Teredo のアドレス（2001::/32）", "Teredo (2001::/32)"),
        0x0100 if seg[1..4] == [0, 0, 0] => {
            ("破棄用のアドレス（100::/64）", "discard-only (100::/64)")
        }
        _ => return None,
    })
}

/// A webhook target that passed [`check_target`]: the URL and the addresses that were checked,
/// which the request must use (so that a second DNS answer cannot point somewhere else).
#[derive(Debug, Clone)]
pub struct Target {
    pub url: reqwest::Url,
    /// The host as written in the URL (without brackets).
    pub host: String,
    pub addrs: Vec<SocketAddr>,
}

/// The host of a URL, and its address when the URL names an IP address (the URL parser has
/// already turned forms like `0x7f.1` into `127.0.0.1`).
fn host_of(url: &reqwest::Url) -> Option<(String, Option<IpAddr>)> {
    let h = url.host_str().filter(|h| !h.is_empty())?;
    if let Some(v6) = h.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
        let ip: Ipv6Addr = v6.parse().ok()?;
        return Some((ip.to_string(), Some(IpAddr::V6(ip))));
    }
    Some((h.to_owned(), h.parse::<Ipv4Addr>().ok().map(IpAddr::V4)))
}

/// Parses `url`, resolves its host and refuses it when any address it resolves to is loopback,
/// private, link-local, a metadata address, unspecified, multicast or otherwise not public —
/// unless `policy` allows the host. Used when a webhook is configured and again before each
/// delivery.
pub async fn check_target(url: &str, policy: &TargetPolicy) -> Result<Target, TargetError> {
    let parsed = reqwest::Url::parse(url.trim()).map_err(|_| TargetError::BadUrl)?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(TargetError::BadUrl);
    }
    let port = parsed.port_or_known_default().ok_or(TargetError::BadUrl)?;
    let (host, literal) = host_of(&parsed).ok_or(TargetError::BadUrl)?;
    let addrs: Vec<SocketAddr> = match literal {
        Some(ip) => vec![SocketAddr::new(ip, port)],
        None => tokio::net::lookup_host((host.as_str(), port))
            .await
            .map_err(|_| TargetError::Unresolvable { host: host.clone() })?
            .collect(),
    };
    if addrs.is_empty() {
        return Err(TargetError::Unresolvable { host });
    }
    if !policy.allows_host(&host) {
        // Every address must be public: a name with one public and one internal address would
        // otherwise reach the internal one on some connection.
        for a in &addrs {
            if let Some((why_ja, why_en)) = forbidden_range(a.ip()) {
                return Err(TargetError::Forbidden {
                    host,
                    addr: a.ip(),
                    why_ja,
                    why_en,
                });
            }
        }
    }
    Ok(Target {
        url: parsed,
        host,
        addrs,
    })
}

/// A client for one checked target: it connects only to the addresses that were checked, uses
/// no proxy (a proxy would resolve the name again) and follows no redirect (a redirect would
/// resend the signed body somewhere the configuration did not name).
fn pinned_client(target: &Target) -> Result<reqwest::Client, MailError> {
    let mut b = reqwest::Client::builder()
        .timeout(TIMEOUT)
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("mamori/", env!("CARGO_PKG_VERSION")));
    if let Some((name, None)) = host_of(&target.url) {
        b = b.resolve_to_addrs(&name, &target.addrs);
    }
    b.build()
        .map_err(|e| MailError::Config(format!("webhook client: {}", e.without_url())))
}

/// POSTs the JSON `body` to `url`, signed with `secret` at `now_unix`, and returns the HTTP
/// status on a 2xx answer.
///
/// The target is checked with [`check_target`] first and the request goes to the addresses
/// that were checked. Only `http` and `https` URLs are accepted ([`MailError::BadAddress`] with
/// field `"url"`); a refused target is [`MailError::Permanent`] and nothing is sent; a host that
/// does not resolve, a 5xx, 408 or 429 answer and network failures are [`MailError::Transient`];
/// other answers are [`MailError::Permanent`]. Error messages contain neither the URL nor the
/// answer's body.
pub async fn post(
    policy: &TargetPolicy,
    url: &str,
    secret: &[u8],
    body: &[u8],
    now_unix: i64,
) -> Result<u16, MailError> {
    let target = match check_target(url, policy).await {
        Ok(t) => t,
        Err(TargetError::BadUrl) => {
            return Err(MailError::BadAddress {
                field: "url",
                value: url.to_owned(),
            })
        }
        Err(e @ TargetError::Unresolvable { .. }) => return Err(MailError::Transient(e.en())),
        Err(e @ TargetError::Forbidden { .. }) => return Err(MailError::Permanent(e.en())),
    };
    post_to(&target, secret, body, now_unix).await
}

/// POSTs to a target that [`check_target`] returned, connecting only to its checked addresses.
/// Errors as for [`post`].
pub async fn post_to(
    target: &Target,
    secret: &[u8],
    body: &[u8],
    now_unix: i64,
) -> Result<u16, MailError> {
    let client = pinned_client(target)?;
    let response = client
        .post(target.url.clone())
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
    fn internal_ranges_are_named() {
        for ip in [
            "127.0.0.1",
            "127.255.0.9",
            "10.0.0.1",
            "172.31.255.255",
            "192.168.0.1",
            "169.254.169.254",
            "169.254.1.1",
            "100.64.0.1",
            "100.127.255.255",
            "0.0.0.0",
            "0.1.2.3",
            "224.0.0.251",
            "255.255.255.255",
            "198.18.0.1",
            "::",
            "::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "::127.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "2002:0a00:0001::1",
            "fc00::1",
            "fd00:ec2::254",
            "fe80::1",
            "ff02::1",
        ] {
            let addr: IpAddr = ip.parse().unwrap();
            assert!(forbidden_range(addr).is_some(), "{ip}");
        }
        for ip in [
            "8.8.8.8",
            "93.184.215.14",
            "100.128.0.1",
            "172.32.0.1",
            "2606:4700::1111",
            "64:ff9b::808:808",
        ] {
            let addr: IpAddr = ip.parse().unwrap();
            assert!(forbidden_range(addr).is_none(), "{ip}");
        }
        let meta: IpAddr = "169.254.169.254".parse().unwrap();
        assert!(forbidden_range(meta).unwrap().0.contains("メタデータ"));
    }

    #[test]
    fn allow_list_compares_hosts_loosely() {
        let p = TargetPolicy::allowing(["Hooks.Example.JP.", "[::1]", " "]);
        assert!(p.allows_host("hooks.example.jp"));
        assert!(p.allows_host("::1"));
        assert!(!p.allows_host("example.jp"));
        assert!(!p.allows_host(""));
    }

    #[test]
    fn extreme_timestamps_do_not_overflow() {
        let sig = sign(b"k", i64::MIN, b"x");
        assert!(!verify(b"k", i64::MIN, b"x", &sig, i64::MAX, 300));
        assert!(verify(b"k", i64::MIN, b"x", &sig, i64::MIN, 0));
    }
}
