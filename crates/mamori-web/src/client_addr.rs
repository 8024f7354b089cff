//! The address of the client behind the connection: the one place the web layer takes it from.
//!
//! Behind a TLS proxy every connection comes from the proxy, so throttling by the peer address
//! would lock the whole company out after a few wrong passwords. `X-Forwarded-For` names the
//! client, but anybody can send that header: it is read only when the peer is a configured
//! trusted proxy (`trusted_proxies`), and then from the right, skipping the trusted proxies
//! that appended to it, so that an address a client wrote into the header itself is never
//! taken for its own. Without trusted proxies the header is ignored.

use axum::http::HeaderMap;
use mamori_domain::net::{canonical, Cidr};
use std::net::{IpAddr, SocketAddr};

/// One entry of `X-Forwarded-For`: an address, maybe with a port (`192.0.2.1:4711`,
/// `[2001:db8::1]:443`).
fn parse_entry(entry: &str) -> Option<IpAddr> {
    let e = entry.trim();
    if let Ok(ip) = e.parse::<IpAddr>() {
        return Some(ip);
    }
    e.parse::<SocketAddr>().ok().map(|s| s.ip())
}

fn trusted(ip: IpAddr, proxies: &[Cidr]) -> bool {
    proxies.iter().any(|c| c.contains(ip))
}

/// The client's address: the peer itself, unless the peer is a trusted proxy; then the
/// rightmost `X-Forwarded-For` address that is not itself a trusted proxy. When every address
/// in the header is a trusted proxy the leftmost one is the client; an entry that is not an
/// address ends the walk at the last trusted hop (it was written by somebody untrusted).
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, proxies: &[Cidr]) -> IpAddr {
    let peer = canonical(peer);
    if !trusted(peer, proxies) {
        return peer;
    }
    // Several headers count as one list, in order.
    let entries: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter(|e| !e.trim().is_empty())
        .collect();
    let mut client = peer;
    for entry in entries.iter().rev() {
        let Some(ip) = parse_entry(entry).map(canonical) else {
            return client;
        };
        client = ip;
        if !trusted(ip, proxies) {
            return ip;
        }
    }
    client
}

/// [`client_ip`] from the connection info of a request, as text for the audit log and the
/// login throttle (`unknown` when the server was started without connection info).
pub fn client_ip_text(peer: Option<SocketAddr>, headers: &HeaderMap, proxies: &[Cidr]) -> String {
    peer.map_or_else(
        || "unknown".to_owned(),
        |p| client_ip(p.ip(), headers, proxies).to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn xff(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append("x-forwarded-for", HeaderValue::from_str(v).unwrap());
        }
        h
    }

    fn proxies(list: &[&str]) -> Vec<Cidr> {
        list.iter().map(|c| c.parse().unwrap()).collect()
    }

    #[test]
    fn the_header_counts_only_from_a_trusted_proxy() {
        let h = xff(&["203.0.113.9"]);
        // No proxies configured: the header is ignored.
        assert_eq!(client_ip(ip("198.51.100.1"), &h, &[]), ip("198.51.100.1"));
        // A peer that is not a proxy cannot name another address.
        let p = proxies(&["10.0.0.0/8"]);
        assert_eq!(client_ip(ip("198.51.100.1"), &h, &p), ip("198.51.100.1"));
        // From the proxy it names the client.
        assert_eq!(client_ip(ip("10.0.0.2"), &h, &p), ip("203.0.113.9"));
        assert_eq!(client_ip(ip("::ffff:10.0.0.2"), &h, &p), ip("203.0.113.9"));
    }

    #[test]
    fn the_rightmost_untrusted_address_is_the_client() {
        let p = proxies(&["10.0.0.0/8", "192.0.2.10"]);
        // The client forged "1.1.1.1"; the proxies appended the real address and themselves.
        let h = xff(&["1.1.1.1, 203.0.113.9", "192.0.2.10"]);
        assert_eq!(client_ip(ip("10.0.0.2"), &h, &p), ip("203.0.113.9"));
        let h = xff(&["1.1.1.1, 203.0.113.9:5123, 10.1.1.1"]);
        assert_eq!(client_ip(ip("10.0.0.2"), &h, &p), ip("203.0.113.9"));
        let h = xff(&["[2001:db8::7]:443"]);
        assert_eq!(client_ip(ip("10.0.0.2"), &h, &p), ip("2001:db8::7"));
        // Only proxies: the leftmost is the client (a request from the proxy host itself).
        let h = xff(&["10.9.9.9, 10.0.0.3"]);
        assert_eq!(client_ip(ip("10.0.0.2"), &h, &p), ip("10.9.9.9"));
        // No header: the proxy itself.
        assert_eq!(
            client_ip(ip("10.0.0.2"), &HeaderMap::new(), &p),
            ip("10.0.0.2")
        );
        // Garbage ends the walk at the last trusted hop.
        let h = xff(&["203.0.113.9, garbage, 10.0.0.5"]);
        assert_eq!(client_ip(ip("10.0.0.2"), &h, &p), ip("10.0.0.5"));
    }

    #[test]
    fn text_form() {
        assert_eq!(client_ip_text(None, &HeaderMap::new(), &[]), "unknown");
        let peer: SocketAddr = "127.0.0.1:5000".parse().unwrap();
        let h = xff(&["2001:db8::1"]);
        assert_eq!(
            client_ip_text(Some(peer), &h, &proxies(&["127.0.0.1"])),
            "2001:db8::1"
        );
    }
}
