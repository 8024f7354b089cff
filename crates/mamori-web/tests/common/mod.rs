//! The test browser shared by the integration tests of the web crate: the real router driven
//! through `oneshot`, with the cookies it sets and the CSRF token of the last page kept.
//!
//! Each test file compiles this module on its own and uses only part of it, hence the
//! `allow(dead_code)`.
#![allow(dead_code)]

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, HeaderMap, HeaderName, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use mamori_app::clock::ManualClock;
use mamori_app::keys::Keys;
use mamori_app::{App, Settings};
use mamori_store::testing::{temp_dir, TestDb};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use tower::ServiceExt;

/// The application on `db` with fresh keys and a clock stopped at `t0`, the demo company
/// seeded: the app, its clock, and each demo user's password by login name.
pub async fn demo_app(
    db: &TestDb,
    t0: i64,
    settings: Settings,
) -> (App, Arc<ManualClock>, HashMap<String, String>) {
    let clock = Arc::new(ManualClock::new(t0));
    let keys = Keys::load_or_create(&temp_dir("webkeys").join("k"), true).unwrap();
    let (app, _w) = App::new(db.store.clone(), keys, clock.clone(), settings);
    let passwords = app
        .seed_demo()
        .await
        .unwrap()
        .into_iter()
        .map(|l| (l.login, l.password))
        .collect();
    (app, clock, passwords)
}

/// One response, read whole.
pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    /// The `Location` header, or empty.
    pub location: String,
    /// The body as sent (a PDF, a CP932 file, …).
    pub bytes: Vec<u8>,
    /// The body as text, invalid UTF-8 replaced.
    pub body: String,
}

impl Resp {
    /// The value of header `name`, or empty when the response has none.
    pub fn header(&self, name: HeaderName) -> &str {
        self.headers.get(name).map_or("", |h| h.to_str().unwrap())
    }
}

/// A browser in miniature: keeps cookies, finds the CSRF token in the last page. With a peer
/// it connects from that address, sending `forwarded` as `X-Forwarded-For` when set.
pub struct Client<'a> {
    pub router: &'a Router,
    pub cookies: HashMap<String, String>,
    pub csrf: String,
    pub peer: Option<SocketAddr>,
    pub forwarded: Option<String>,
}

impl<'a> Client<'a> {
    pub fn new(router: &'a Router) -> Self {
        Client {
            router,
            cookies: HashMap::new(),
            csrf: String::new(),
            peer: None,
            forwarded: None,
        }
    }

    /// Connects from address `ip` (the connection's peer, port 40000).
    pub fn peer(mut self, ip: &str) -> Self {
        self.peer = Some(format!("{ip}:40000").parse().unwrap());
        self
    }

    /// Sends `forwarded` as `X-Forwarded-For` on every request.
    pub fn via(mut self, forwarded: &str) -> Self {
        self.forwarded = Some(forwarded.to_owned());
        self
    }

    /// Sends `req` as it is (plus the peer address and `X-Forwarded-For` when set), keeps the
    /// cookies of the response and its CSRF token.
    pub async fn send(&mut self, mut req: Request<Body>) -> Resp {
        if let Some(peer) = self.peer {
            req.extensions_mut().insert(ConnectInfo(peer));
        }
        if let Some(f) = &self.forwarded {
            req.headers_mut()
                .insert("x-forwarded-for", f.parse().unwrap());
        }
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
        let bytes = res.into_body().collect().await.unwrap().to_bytes().to_vec();
        let body = String::from_utf8_lossy(&bytes).into_owned();
        if let Some(i) = body.find("name=\"csrf\" value=\"") {
            let rest = &body[i + 19..];
            rest[..rest.find('"').unwrap()].clone_into(&mut self.csrf);
        }
        Resp {
            status,
            location: headers
                .get(header::LOCATION)
                .map(|l| l.to_str().unwrap().to_owned())
                .unwrap_or_default(),
            headers,
            bytes,
            body,
        }
    }

    /// The `Cookie` header of the cookies kept.
    pub fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    pub async fn get(&mut self, path: &str) -> Resp {
        let req = Request::get(path)
            .header(header::COOKIE, self.cookie_header())
            .body(Body::empty())
            .unwrap();
        self.send(req).await
    }

    /// A GET with one more header.
    pub async fn get_with(&mut self, path: &str, name: &str, value: &str) -> Resp {
        let req = Request::get(path)
            .header(header::COOKIE, self.cookie_header())
            .header(name, value)
            .body(Body::empty())
            .unwrap();
        self.send(req).await
    }

    /// Posts a form with the CSRF token of the last page.
    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Resp {
        self.post_with(path, fields, false).await
    }

    /// Posts a form with the CSRF token of the last page, as htmx does when `htmx`.
    pub async fn post_with(&mut self, path: &str, fields: &[(&str, &str)], htmx: bool) -> Resp {
        let csrf = self.csrf.clone();
        let mut all = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(fields);
        self.post_form(path, &all, htmx).await
    }

    /// Posts exactly `fields`, with no CSRF token added.
    pub async fn post_raw(&mut self, path: &str, fields: &[(&str, &str)]) -> Resp {
        self.post_form(path, fields, false).await
    }

    async fn post_form(&mut self, path: &str, fields: &[(&str, &str)], htmx: bool) -> Resp {
        let body = serde_urlencoded::to_string(fields).unwrap();
        let mut req = Request::post(path)
            .header(header::COOKIE, self.cookie_header())
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if htmx {
            req = req.header("hx-request", "true");
        }
        self.send(req.body(Body::from(body)).unwrap()).await
    }

    /// Opens the login page (for its CSRF token) and posts the login name and password.
    pub async fn password(&mut self, login: &str, password: &str) -> Resp {
        self.get("/login").await;
        self.post("/login", &[("login", login), ("password", password)])
            .await
    }

    /// Logs in, enrolling the second factor with a code for `now_secs` when the role needs it.
    /// Returns the last response and the TOTP secret when one was enrolled.
    pub async fn sign_in(
        &mut self,
        login: &str,
        password: &str,
        now_secs: i64,
    ) -> (Resp, Option<Vec<u8>>) {
        let r = self.password(login, password).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{login}: {}", r.body);
        if r.location != "/login/totp-setup" {
            return (r, None);
        }
        let page = self.get("/login/totp-setup").await;
        let i = page.body.find("data-testid=\"totp-secret\">").unwrap() + 26;
        let secret = &page.body[i..i + page.body[i..].find('<').unwrap()];
        let key = mamori_domain::totp::decode_secret(secret).unwrap();
        let code = mamori_domain::totp::code_at(&key, now_secs);
        let done = self.post("/login/totp-setup", &[("code", &code)]).await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
        (done, Some(key))
    }
}
