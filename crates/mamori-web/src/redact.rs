//! What of a request may be written down: the access log and the audit entry of every request
//! name the route, never a secret or a person.
//!
//! A path can carry a secret (the acknowledgement link `/ack/{token}` from an alert mail) and a
//! query string can carry personal data (search terms, e-mail addresses). Logs are read by more
//! people and kept longer than the data they describe, so the middleware records:
//!
//! - the **route** of the router (`GET /ack/:token`, `POST /admin/users/:id/password`): numbers
//!   become `:id`, a secret parameter its name, anything else that is not a plain word its
//!   parameter name;
//! - the **target**: the same path with record numbers kept (they are how an auditor follows a
//!   record), secrets and other values replaced;
//! - at most a short **hash** of a secret (the first 8 hex digits of its SHA-256), enough to
//!   match two requests with the same link and useless to open it;
//! - the **names** of the query parameters, never their values.
//!
//! A path no route matched (a 404) is treated the same way, segment by segment.

use axum::http::Method;
use sha2::{Digest, Sha256};

/// Route parameters whose values are secrets: never written down, only hashed.
const SECRET_PARAMS: &[&str] = &["token"];

/// What the logs may say about one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redacted {
    /// `GET /ack/:token`: the audit action and the access log's route.
    pub action: String,
    /// `/ack/:token`, `/admin/users/42/password`: the audit target.
    pub target: String,
    /// The first 8 hex digits of the SHA-256 of a secret in the path, if there was one.
    pub secret_hash: Option<String>,
    /// The names of the query parameters (values are never kept).
    pub query_names: Vec<String>,
}

/// A segment that reads as an ordinary word of a route (`incidents`, `preliminary`, `ja`).
fn plain(seg: &str) -> bool {
    !seg.is_empty()
        && seg.len() <= 40
        && seg
            .bytes()
            .all(|b| b.is_ascii_alphabetic() || b"-_.".contains(&b))
}

fn numeric(seg: &str) -> bool {
    !seg.is_empty() && seg.len() <= 19 && seg.bytes().all(|b| b.is_ascii_digit())
}

/// The first 8 hex digits of the SHA-256 of `secret`.
pub fn short_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))[..8].to_owned()
}

/// The names of a query string's parameters, in order, without repeats; a name that is not a
/// plain identifier (it could be a value sent without `=`) is shown as `?`.
pub fn query_names(query: Option<&str>) -> Vec<String> {
    let Some(q) = query.filter(|q| !q.is_empty()) else {
        return Vec::new();
    };
    let mut out: Vec<String> = Vec::new();
    for part in q.split('&').filter(|p| !p.is_empty()) {
        let name = part.split_once('=').map_or(part, |(k, _)| k);
        let ok = !name.is_empty()
            && name.len() <= 40
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.[]".contains(&b));
        let name = if ok { name.to_owned() } else { "?".to_owned() };
        if !out.contains(&name) {
            out.push(name);
        }
        if out.len() >= 20 {
            break;
        }
    }
    out
}

/// What may be logged of `method path?query`, given the route template the router matched
/// (`/ack/{token}`), if any.
pub fn request(
    method: &Method,
    matched: Option<&str>,
    path: &str,
    query: Option<&str>,
) -> Redacted {
    let actual: Vec<&str> = path.split('/').collect();
    let template: Option<Vec<&str>> = matched
        .map(|m| m.split('/').collect::<Vec<_>>())
        .filter(|t| t.len() == actual.len());
    let mut action = Vec::with_capacity(actual.len());
    let mut target = Vec::with_capacity(actual.len());
    let mut secret_hash = None;
    for (i, seg) in actual.iter().enumerate() {
        let param = template.as_ref().and_then(|t| {
            t[i].strip_prefix('{')
                .and_then(|p| p.strip_suffix('}'))
                .map(|p| p.trim_start_matches('*'))
        });
        let literal = template.as_ref().is_some_and(|t| t[i] == *seg) && param.is_none();
        match param {
            // A fixed word of the matched route (`v1`, `ppc`).
            None if literal => {
                action.push((*seg).to_owned());
                target.push((*seg).to_owned());
            }
            Some(name) if SECRET_PARAMS.contains(&name) => {
                secret_hash = Some(short_hash(seg));
                action.push(format!(":{name}"));
                target.push(format!(":{name}"));
            }
            _ if numeric(seg) => {
                action.push(":id".to_owned());
                target.push((*seg).to_owned());
            }
            _ if seg.is_empty() || plain(seg) => {
                action.push((*seg).to_owned());
                target.push((*seg).to_owned());
            }
            Some(name) => {
                action.push(format!(":{name}"));
                target.push(format!(":{name}"));
            }
            None => {
                action.push(":x".to_owned());
                target.push(":x".to_owned());
            }
        }
    }
    Redacted {
        action: format!("{method} {}", action.join("/")),
        target: target.join("/"),
        secret_hash,
        query_names: query_names(query),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_in_paths_become_the_route_and_a_short_hash() {
        let token = "3f9a0c1d2e3f4a5b6c7d8e9f00112233445566778899aabbccddeeff00112233";
        let r = request(
            &Method::GET,
            Some("/ack/{token}"),
            &format!("/ack/{token}"),
            None,
        );
        assert_eq!(r.action, "GET /ack/:token");
        assert_eq!(r.target, "/ack/:token");
        assert_eq!(r.secret_hash.as_deref(), Some(&short_hash(token)[..]));
        assert_eq!(r.secret_hash.unwrap().len(), 8);
        // A token of letters only is still a secret.
        let r = request(
            &Method::POST,
            Some("/ack/{token}"),
            "/ack/abcdefabcdef",
            None,
        );
        assert_eq!(r.action, "POST /ack/:token");
    }

    #[test]
    fn ids_group_and_words_stay() {
        let r = request(
            &Method::POST,
            Some("/admin/users/{id}/password"),
            "/admin/users/42/password",
            None,
        );
        assert_eq!(r.action, "POST /admin/users/:id/password");
        assert_eq!(r.target, "/admin/users/42/password");
        let r = request(
            &Method::GET,
            Some("/incidents/{id}/ppc/{stage}/{version}/pdf"),
            "/incidents/7/ppc/preliminary/2/pdf",
            None,
        );
        assert_eq!(r.action, "GET /incidents/:id/ppc/preliminary/:id/pdf");
        assert_eq!(request(&Method::GET, Some("/"), "/", None).action, "GET /");
        let r = request(
            &Method::POST,
            Some("/api/v1/vault/records/{id}/reveal"),
            "/api/v1/vault/records/42/reveal",
            None,
        );
        assert_eq!(r.action, "POST /api/v1/vault/records/:id/reveal");
    }

    #[test]
    fn unmatched_paths_keep_only_plain_words() {
        let r = request(
            &Method::GET,
            None,
            "/ack/3f9a0c1d2e/extra/hanako@example.jp/09012345678",
            None,
        );
        assert_eq!(r.action, "GET /ack/:x/extra/:x/:id");
        assert!(!r.target.contains("hanako") && !r.target.contains("3f9a"));
    }

    #[test]
    fn query_values_are_never_kept() {
        assert_eq!(
            query_names(Some("by=email&q=hanako%40example.jp&q=x&birth=")),
            vec!["by", "q", "birth"]
        );
        assert_eq!(query_names(Some("hanako@example.jp")), vec!["?"]);
        assert!(query_names(None).is_empty() && query_names(Some("")).is_empty());
        let r = request(
            &Method::GET,
            Some("/audit"),
            "/audit",
            Some("q=090-1234-5678"),
        );
        assert_eq!(r.query_names, vec!["q"]);
        assert!(!format!("{r:?}").contains("090"));
    }
}
