//! Where the web sends a visitor next and what it writes down about a request, on SQLite and
//! PostgreSQL: every `next` parameter stays on this site (issue 12, item 11), and the audit log
//! names routes, not the secrets or personal data in a path or query string (item 12).

use axum::http::StatusCode;
use axum::Router;
use mamori_app::{App, Settings};
use mamori_store::audit::AuditFilter;
use mamori_store::testing::TestDb;
use sha2::{Digest, Sha256};
use std::collections::HashMap;

mod common;
use common::Client;

const T0: i64 = 1_767_225_600_000_000;

struct Env {
    app: App,
    router: Router,
    passwords: HashMap<String, String>,
    db: TestDb,
}

async fn envs() -> Vec<Env> {
    let mut out = Vec::new();
    for db in TestDb::all().await {
        let (app, _, passwords) = common::demo_app(&db, T0, Settings::default()).await;
        let router = mamori_web::router(app.clone(), mamori_web::WebConfig::default());
        out.push(Env {
            app,
            router,
            passwords,
            db,
        });
    }
    out
}

/// `next` values a browser would follow off the site (a tab or line break is dropped from a
/// `Location`, a backslash read as a slash), each as it appears in a query string.
const OFF_SITE: &[&str] = &[
    "/%09/evil.example/x",
    "/%0A/evil.example",
    "/%0D%0A/evil.example",
    "%2F%2Fevil.example",
    "/%5Cevil.example",
    "%5C%5Cevil.example",
    "https://evil.example/",
    "javascript:alert(1)",
    "/%2509/evil.example",
    "/%20/evil.example",
];

#[tokio::test]
async fn every_next_parameter_stays_on_this_site() {
    for env in envs().await {
        let name = env.db.name;
        let mut c = Client::new(&env.router);
        for bad in OFF_SITE {
            let r = c.get(&format!("/lang/ja?next={bad}")).await;
            assert_eq!(r.status, StatusCode::SEE_OTHER, "{name}: {bad}");
            assert_eq!(r.location, "/", "{name}: /lang/ja?next={bad}");
            // The login form carries `next` on; it is cleaned before it is put in the page.
            let r = c.get(&format!("/login?next={bad}")).await;
            assert!(
                r.body.contains("name=\"next\" value=\"/\""),
                "{name}: /login?next={bad}"
            );
        }
        let r = c.get("/lang/en?next=/audit?x=1").await;
        assert_eq!(r.location, "/audit?x=1", "a local path is followed");
        let r = c.get("/lang/ja?next=/login").await;
        assert_eq!(r.location, "/login");

        // The login form's own `next` (a hidden field, so any value can be posted).
        c.get("/login").await;
        let r = c
            .post(
                "/login",
                &[
                    ("login", "yamada"),
                    ("password", &env.passwords["yamada"]),
                    ("next", "/\t/evil.example/x"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{name}: {}", r.body);
        assert_eq!(r.location, "/", "{name}");
        // Logged in, `/login?next=` redirects at once: the same check.
        for bad in OFF_SITE {
            let r = c.get(&format!("/login?next={bad}")).await;
            assert_eq!(r.location, "/", "{name}: logged in, {bad}");
        }
        let r = c.get("/login?next=/account").await;
        assert_eq!(r.location, "/account");
        env.db.cleanup().await;
    }
}

#[tokio::test]
async fn secrets_and_search_terms_stay_out_of_the_audit_log() {
    for env in envs().await {
        let name = env.db.name;
        let token = "5e3b9a70c1d24f8e9a6b0c2d4e6f8a1b3c5d7e9f0a2b4c6d8e0f1a3b5c7d9e1f";
        let short = &hex::encode(Sha256::digest(token.as_bytes()))[..8];
        let mut c = Client::new(&env.router);
        // An acknowledgement link from an alert mail, opened and submitted.
        let r = c.get(&format!("/ack/{token}")).await;
        assert_eq!(r.status, StatusCode::OK, "{name}");
        let r = c.post(&format!("/ack/{token}"), &[]).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{name}: no such alert");
        // Personal data in a query string, and in a path no route knows.
        c.get("/audit?q=hanako%40example.jp&actor=090-1234-5678")
            .await;
        c.get("/vault/hanako@example.jp/x").await;
        c.get("/nothing/09012345678-hanako").await;

        let entries = env
            .app
            .store
            .search_audit(&AuditFilter::default(), 50)
            .await
            .unwrap();
        let all = format!("{entries:?}");
        for secret in [
            token,
            "hanako",
            "090-1234-5678",
            "09012345678",
            "%40example",
        ] {
            assert!(!all.contains(secret), "{name}: {secret} in the audit log");
        }
        let acks: Vec<_> = entries
            .iter()
            .filter(|e| e.record.action.contains("/ack/"))
            .collect();
        assert_eq!(acks.len(), 2, "{name}: {acks:?}");
        for e in &acks {
            assert!(
                e.record.action == "GET /ack/:token" || e.record.action == "POST /ack/:token",
                "{}",
                e.record.action
            );
            assert_eq!(e.record.target, "/ack/:token");
            assert!(
                e.record
                    .detail
                    .contains(&format!("\"secret_sha256_8\":\"{short}\"")),
                "{}",
                e.record.detail
            );
        }
        let audit = entries
            .iter()
            .find(|e| e.record.action == "GET /audit")
            .expect("the audit page request is recorded");
        assert!(
            audit.record.detail.contains("\"query\":[\"q\",\"actor\"]"),
            "{}",
            audit.record.detail
        );
        env.db.cleanup().await;
    }
}
