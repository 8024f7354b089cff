//! Webhook signing, and `post` against a small axum server on loopback.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use mamori_mail::webhook::{self, SIGNATURE_HEADER, TIMESTAMP_HEADER};
use mamori_mail::MailError;

const SECRET: &[u8] = b"whsec_test-0123456789";
const NOW: i64 = 1_750_000_000;

/// The receivers of these tests listen on loopback, which only an allow-list entry reaches.
fn loopback() -> webhook::TargetPolicy {
    webhook::TargetPolicy::allowing(["127.0.0.1"])
}

#[test]
fn sign_verify_round_trip() {
    let body = r#"{"incident":"2025-0001","title":"個人情報漏えい"}"#.as_bytes();
    let sig = webhook::sign(SECRET, NOW, body);
    assert!(sig.starts_with("v1="));
    assert_eq!(sig, webhook::sign(SECRET, NOW, body), "deterministic");
    assert!(webhook::verify(SECRET, NOW, body, &sig, NOW + 10, 300));
    assert!(webhook::verify(SECRET, NOW, body, &sig, NOW - 10, 300));
}

#[test]
fn tampering_fails() {
    let body = br#"{"incident":"2025-0001"}"#;
    let sig = webhook::sign(SECRET, NOW, body);
    assert!(!webhook::verify(
        SECRET,
        NOW,
        br#"{"incident":"2025-0002"}"#,
        &sig,
        NOW,
        300
    ));
    assert!(!webhook::verify(b"other secret", NOW, body, &sig, NOW, 300));
    // The timestamp is signed too: moving it breaks the signature.
    assert!(!webhook::verify(SECRET, NOW + 1, body, &sig, NOW, 300));
}

#[test]
fn stale_timestamp_fails() {
    let body = b"{}";
    let sig = webhook::sign(SECRET, NOW, body);
    assert!(webhook::verify(SECRET, NOW, body, &sig, NOW + 300, 300));
    assert!(!webhook::verify(SECRET, NOW, body, &sig, NOW + 301, 300));
    assert!(!webhook::verify(SECRET, NOW, body, &sig, NOW - 301, 300));
}

#[derive(Clone, Default)]
struct Seen(Arc<Mutex<Vec<(HeaderMap, Bytes)>>>);

/// A receiver that checks the signature like a real one would.
async fn receiver(seen: axum::extract::State<Seen>, headers: HeaderMap, body: Bytes) -> StatusCode {
    seen.0
         .0
        .lock()
        .unwrap()
        .push((headers.clone(), body.clone()));
    let Some(ts) = headers
        .get(TIMESTAMP_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<i64>().ok())
    else {
        return StatusCode::BAD_REQUEST;
    };
    let Some(sig) = headers.get(SIGNATURE_HEADER).and_then(|v| v.to_str().ok()) else {
        return StatusCode::BAD_REQUEST;
    };
    if webhook::verify(SECRET, ts, &body, sig, NOW + 5, 300) {
        StatusCode::NO_CONTENT
    } else {
        StatusCode::UNAUTHORIZED
    }
}

async fn server() -> (SocketAddr, Seen) {
    let seen = Seen::default();
    let app = Router::new()
        .route("/hook", post(receiver))
        .route(
            "/fail",
            post(|| async { StatusCode::INTERNAL_SERVER_ERROR }),
        )
        .route("/busy", post(|| async { StatusCode::TOO_MANY_REQUESTS }))
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .await
        .unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (addr, seen)
}

#[tokio::test]
async fn post_is_signed_and_accepted() {
    let (addr, seen) = server().await;
    let client = loopback();
    let body = r#"{"event":"incident.reported","incident":"2025-0001","title":"第一報"}"#;
    let status = webhook::post(
        &client,
        &format!("http://{addr}/hook"),
        SECRET,
        body.as_bytes(),
        NOW,
    )
    .await
    .expect("delivered");
    assert_eq!(status, 204);
    let seen = seen.0.lock().unwrap();
    assert_eq!(seen.len(), 1);
    let (headers, got) = &seen[0];
    assert_eq!(got.as_ref(), body.as_bytes());
    assert_eq!(headers["content-type"], "application/json");
    assert_eq!(headers[TIMESTAMP_HEADER], NOW.to_string().as_str());
}

#[tokio::test]
async fn wrong_secret_is_refused_permanently() {
    let (addr, _) = server().await;
    let err = webhook::post(
        &loopback(),
        &format!("http://{addr}/hook"),
        b"wrong",
        b"{}",
        NOW,
    )
    .await
    .unwrap_err();
    assert!(matches!(err, MailError::Permanent(_)), "{err:?}");
    assert!(err.to_string().contains("401"), "{err}");
}

#[tokio::test]
async fn server_errors_are_transient_and_client_errors_permanent() {
    let (addr, _) = server().await;
    let client = loopback();
    for (path, transient) in [("fail", true), ("busy", true), ("missing", false)] {
        let url = format!("http://{addr}/{path}");
        let err = webhook::post(&client, &url, SECRET, b"{}", NOW)
            .await
            .unwrap_err();
        assert_eq!(err.is_transient(), transient, "{path}: {err:?}");
        assert!(
            matches!(err, MailError::Transient(_) | MailError::Permanent(_)),
            "{err:?}"
        );
        assert!(!err.to_string().contains(&url), "URL leaked: {err}");
    }
}

#[tokio::test]
async fn nothing_listening_is_transient() {
    let port = {
        let listener = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        listener.local_addr().unwrap().port()
    };
    let url = format!("http://127.0.0.1:{port}/hook?token=secret-token");
    let err = webhook::post(&loopback(), &url, SECRET, b"{}", NOW)
        .await
        .unwrap_err();
    assert!(matches!(err, MailError::Transient(_)), "{err:?}");
    assert!(
        !err.to_string().contains("secret-token"),
        "URL leaked: {err}"
    );
}

#[tokio::test]
async fn only_http_urls() {
    let client = loopback();
    for url in [
        "ftp://x",
        "file:///etc/passwd",
        "not a url",
        "http://",
        "mailto:a@b.jp",
    ] {
        let err = webhook::post(&client, url, SECRET, b"{}", NOW)
            .await
            .unwrap_err();
        assert_eq!(
            err,
            MailError::BadAddress {
                field: "url",
                value: url.to_owned()
            }
        );
    }
}

/// A receiver on loopback whose answer must never reach mamori unless allowed.
async fn secret_server() -> (SocketAddr, Arc<Mutex<usize>>) {
    let hits = Arc::new(Mutex::new(0usize));
    let h = hits.clone();
    let app = Router::new().route(
        "/hook",
        post(move || {
            let h = h.clone();
            async move {
                *h.lock().unwrap() += 1;
                (StatusCode::FORBIDDEN, "metadata: SECRET-CREDENTIALS")
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .await
        .unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (addr, hits)
}

#[tokio::test]
async fn internal_targets_are_refused_before_anything_is_sent() {
    let (addr, hits) = secret_server().await;
    let none = webhook::TargetPolicy::default();
    let port = addr.port();
    for url in [
        format!("http://127.0.0.1:{port}/hook"),
        format!("http://localhost:{port}/hook"),
        format!("http://[::1]:{port}/hook"),
        format!("http://[::ffff:127.0.0.1]:{port}/hook"),
        format!("http://0x7f.1:{port}/hook"),
        "http://10.1.2.3/hook".to_owned(),
        "http://172.16.0.1/hook".to_owned(),
        "http://192.168.1.1/hook".to_owned(),
        "http://169.254.169.254/latest/meta-data/".to_owned(),
        "http://[fd00:ec2::254]/".to_owned(),
        "http://100.64.0.1/".to_owned(),
        "http://0.0.0.0/".to_owned(),
        "http://[fe80::1]/".to_owned(),
        "http://224.0.0.1/".to_owned(),
    ] {
        let err = webhook::check_target(&url, &none).await.unwrap_err();
        assert!(
            matches!(err, webhook::TargetError::Forbidden { .. }),
            "{url}: {err:?}"
        );
        assert!(err.ja().contains("webhook_allow_hosts"), "{}", err.ja());
        let sent = webhook::post(&none, &url, SECRET, b"{}", NOW).await;
        let err = sent.unwrap_err();
        assert!(matches!(err, MailError::Permanent(_)), "{url}: {err:?}");
        assert!(!err.to_string().contains("SECRET-CREDENTIALS"));
        assert!(!err.to_string().contains("/hook"), "URL leaked: {err}");
    }
    assert_eq!(*hits.lock().unwrap(), 0, "nothing reached the listener");

    // The operator's allow-list opens exactly the named host; the pinned address is used.
    let allowed = webhook::TargetPolicy::allowing(["LOCALHOST."]);
    let t = webhook::check_target(&format!("http://localhost:{port}/hook"), &allowed)
        .await
        .unwrap();
    assert!(t.addrs.iter().all(|a| a.ip().is_loopback()), "{t:?}");
    let err = webhook::post(
        &allowed,
        &format!("http://localhost:{port}/hook"),
        SECRET,
        b"{}",
        NOW,
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("403"), "{err}");
    assert!(!err.to_string().contains("SECRET-CREDENTIALS"), "{err}");
    assert!(*hits.lock().unwrap() >= 1, "the allowed host was reached");
    assert!(
        webhook::check_target(&format!("http://127.0.0.1:{port}/hook"), &allowed)
            .await
            .is_err()
    );
}

#[tokio::test]
async fn public_targets_pass_the_check() {
    let none = webhook::TargetPolicy::default();
    for url in ["https://93.184.215.14/x", "http://[2606:4700::1111]/"] {
        let t = webhook::check_target(url, &none).await.unwrap();
        assert_eq!(t.addrs.len(), 1, "{url}");
    }
    assert_eq!(
        webhook::check_target("ftp://x", &none).await.unwrap_err(),
        webhook::TargetError::BadUrl
    );
}
