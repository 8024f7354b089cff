//! Where the web sends a visitor next and what it writes down about a request, on SQLite and
//! PostgreSQL: every `next` parameter stays on this site (issue 12, item 11), and the audit log
//! names routes, not the secrets or personal data in a path or query string (item 12).

use axum::body::Body;
use axum::http::{header, HeaderMap, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use mamori_app::clock::ManualClock;
use mamori_app::keys::Keys;
use mamori_app::{App, Settings};
use mamori_store::audit::AuditFilter;
use mamori_store::testing::{temp_dir, TestDb};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Arc;
use tower::ServiceExt;

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
        let clock = Arc::new(ManualClock::new(T0));
        let keys = Keys::load_or_create(&temp_dir("webredir").join("k"), true).unwrap();
        let (app, _w) = App::new(db.store.clone(), keys, clock, Settings::default());
        let passwords = app
            .seed_demo()
            .await
            .unwrap()
            .into_iter()
            .map(|l| (l.login, l.password))
            .collect();
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

struct Resp {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Resp {
    fn location(&self) -> &str {
        self.headers
            .get(header::LOCATION)
            .map_or("", |l| l.to_str().unwrap())
    }
}

/// Keeps cookies and the CSRF token of the last page.
struct Client<'a> {
    router: &'a Router,
    cookies: HashMap<String, String>,
    csrf: String,
}

impl<'a> Client<'a> {
    fn new(router: &'a Router) -> Self {
        Client {
            router,
            cookies: HashMap::new(),
            csrf: String::new(),
        }
    }

    async fn send(&mut self, req: Request<Body>) -> Resp {
        let res = self.router.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        for c in headers.get_all(header::SET_COOKIE) {
            let c = c.to_str().unwrap();
            let (kv, _) = c.split_once(';').unwrap_or((c, ""));
            let (k, v) = kv.split_once('=').unwrap();
            if v.is_empty() {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_owned(), v.to_owned());
            }
        }
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        let body = String::from_utf8_lossy(&bytes).into_owned();
        if let Some(i) = body.find("name=\"csrf\" value=\"") {
            let rest = &body[i + 19..];
            rest[..rest.find('"').unwrap()].clone_into(&mut self.csrf);
        }
        Resp {
            status,
            headers,
            body,
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn get(&mut self, path: &str) -> Resp {
        let req = Request::get(path)
            .header(header::COOKIE, self.cookie_header())
            .body(Body::empty())
            .unwrap();
        self.send(req).await
    }

    async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Resp {
        let mut all = vec![("csrf", self.csrf.clone())];
        all.extend(fields.iter().map(|(k, v)| (*k, (*v).to_owned())));
        let req = Request::post(path)
            .header(header::COOKIE, self.cookie_header())
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(serde_urlencoded::to_string(&all).unwrap()))
            .unwrap();
        self.send(req).await
    }
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
            assert_eq!(r.location(), "/", "{name}: /lang/ja?next={bad}");
            // The login form carries `next` on; it is cleaned before it is put in the page.
            let r = c.get(&format!("/login?next={bad}")).await;
            assert!(
                r.body.contains("name=\"next\" value=\"/\""),
                "{name}: /login?next={bad}"
            );
        }
        let r = c.get("/lang/en?next=/audit?x=1").await;
        assert_eq!(r.location(), "/audit?x=1", "a local path is followed");
        let r = c.get("/lang/ja?next=/login").await;
        assert_eq!(r.location(), "/login");

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
        assert_eq!(r.location(), "/", "{name}");
        // Logged in, `/login?next=` redirects at once: the same check.
        for bad in OFF_SITE {
            let r = c.get(&format!("/login?next={bad}")).await;
            assert_eq!(r.location(), "/", "{name}: logged in, {bad}");
        }
        let r = c.get("/login?next=/account").await;
        assert_eq!(r.location(), "/account");
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
