//! Issue 12, items 5–7 over HTTP: the client address behind a trusted proxy, the locked second
//! factor and its unlock, the 503 of saturated password hashing, and the password asked again
//! before an API token is made.

use axum::http::StatusCode;
use axum::Router;
use mamori_app::clock::{Clock, ManualClock};
use mamori_app::{App, Settings};
use mamori_store::audit::AuditFilter;
use mamori_store::testing::TestDb;
use std::collections::HashMap;
use std::sync::Arc;

mod common;
use common::Client;

const T0: i64 = 1_767_225_600_000_000;

struct Env {
    app: App,
    router: Router,
    clock: Arc<ManualClock>,
    passwords: HashMap<String, String>,
    db: TestDb,
}

async fn envs_with(settings: impl Fn() -> Settings, proxies: &[&str]) -> Vec<Env> {
    let mut out = Vec::new();
    for db in TestDb::all().await {
        let (app, clock, passwords) = common::demo_app(&db, T0, settings()).await;
        let cfg = mamori_web::WebConfig {
            trusted_proxies: proxies.iter().map(|p| p.parse().unwrap()).collect(),
            ..mamori_web::WebConfig::default()
        };
        let router = mamori_web::router(app.clone(), cfg);
        out.push(Env {
            app,
            router,
            clock,
            passwords,
            db,
        });
    }
    out
}

impl Client<'_> {
    /// Logs in completely, enrolling the second factor when the role needs it; returns the
    /// TOTP secret when one was enrolled.
    async fn login(&mut self, env: &Env, login: &str) -> Option<Vec<u8>> {
        let now = env.clock.now_secs();
        self.sign_in(login, &env.passwords[login], now).await.1
    }
}

#[tokio::test]
async fn x_forwarded_for_counts_only_from_a_trusted_proxy() {
    for env in envs_with(Settings::default, &["10.0.0.1"]).await {
        let name = env.db.name;
        // Twenty wrong passwords from one client behind the proxy block that client only:
        // before, every client had the proxy's address and the whole company was locked out.
        for i in 0..20 {
            let mut c = Client::new(&env.router).peer("10.0.0.1").via("203.0.113.5");
            let r = c.password(&format!("guess{i}"), "password123456").await;
            assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{name}");
        }
        let mut blocked = Client::new(&env.router).peer("10.0.0.1").via("203.0.113.5");
        let r = blocked.password("yamada", &env.passwords["yamada"]).await;
        assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{name}");
        let mut colleague = Client::new(&env.router).peer("10.0.0.1").via("203.0.113.6");
        let r = colleague.password("yamada", &env.passwords["yamada"]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{name}: {}", r.body);
        let entries = env
            .app
            .store
            .search_audit(
                &AuditFilter {
                    action: Some("auth.login".into()),
                    ..Default::default()
                },
                100,
            )
            .await
            .unwrap();
        assert!(entries
            .iter()
            .any(|e| e.record.actor == "yamada" && e.record.ip == "203.0.113.6"));

        // A client that is not a proxy cannot escape its own count by naming other addresses.
        for i in 0..20 {
            let mut c = Client::new(&env.router)
                .peer("198.51.100.7")
                .via(&format!("192.0.2.{i}"));
            c.password(&format!("guess{i}"), "password123456").await;
        }
        let mut forger = Client::new(&env.router)
            .peer("198.51.100.7")
            .via("192.0.2.200");
        let r = forger.password("yamada", &env.passwords["yamada"]).await;
        assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{name}");
        env.db.cleanup().await;
    }
}

#[tokio::test]
async fn without_trusted_proxies_the_header_is_ignored() {
    for env in envs_with(Settings::default, &[]).await {
        let mut c = Client::new(&env.router)
            .peer("198.51.100.8")
            .via("203.0.113.77");
        c.login(&env, "yamada").await;
        let entries = env
            .app
            .store
            .search_audit(
                &AuditFilter {
                    action: Some("auth.login".into()),
                    ..Default::default()
                },
                10,
            )
            .await
            .unwrap();
        assert!(
            entries.iter().all(|e| e.record.ip == "198.51.100.8"),
            "{}",
            env.db.name
        );
        env.db.cleanup().await;
    }
}

#[tokio::test]
async fn a_locked_second_factor_says_so_and_an_admin_unlocks_it() {
    for env in envs_with(Settings::default, &[]).await {
        let name = env.db.name;
        let mut first = Client::new(&env.router).peer("192.0.2.1");
        let key = first.login(&env, "kato").await.expect("auditors enrol");
        env.clock.advance_secs(60);
        let right = mamori_domain::totp::code_at(&key, env.clock.now_secs());
        let wrong = format!("{:06}", (right.parse::<u32>().unwrap() + 1) % 1_000_000);
        let mut c = Client::new(&env.router).peer("192.0.2.2");
        let r = c.password("kato", &env.passwords["kato"]).await;
        assert_eq!(r.location, "/login/totp");
        c.get("/login/totp").await;
        for i in 0..5 {
            let r = c.post("/login/totp", &[("code", &wrong)]).await;
            if i < 4 {
                assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{name}");
            } else {
                assert_eq!(r.status, StatusCode::FORBIDDEN, "{name}: {}", r.body);
                assert!(r.body.contains("二要素認証をロックしました"), "{}", r.body);
            }
        }
        let r = c.post("/login/totp", &[("code", &right)]).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{name}: locked");

        let kato = env
            .app
            .store
            .find_user_by_login("kato")
            .await
            .unwrap()
            .unwrap();
        let mut admin = Client::new(&env.router).peer("192.0.2.3");
        admin.login(&env, "admin").await;
        let list = admin.get("/admin/users").await;
        assert!(list.body.contains("二要素認証ロック中"), "{name}");
        let page = admin.get(&format!("/admin/users/{}", kato.id)).await;
        assert!(page
            .body
            .contains(&format!("/admin/users/{}/unlock", kato.id)));
        assert!(page.body.contains("data-testid=\"unlock\""));
        let r = admin
            .post(&format!("/admin/users/{}/unlock", kato.id), &[])
            .await;
        assert_eq!(r.status, StatusCode::OK, "{name}: {}", r.body);
        assert!(r.body.contains("ロックを解除しました"));
        assert!(
            !r.body.contains("data-testid=\"unlock\""),
            "no longer locked"
        );
        let r = c.post("/login/totp", &[("code", &right)]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{name}: {}", r.body);
        env.db.cleanup().await;
    }
}

#[tokio::test]
async fn saturated_password_hashing_answers_503() {
    let settings = || Settings {
        argon2_permits: 1,
        argon2_wait_millis: 20,
        ..Settings::default()
    };
    for env in envs_with(settings, &[]).await {
        let held = env.app.argon2.occupy_all().unwrap();
        let mut c = Client::new(&env.router).peer("192.0.2.9");
        let r = c.password("yamada", &env.passwords["yamada"]).await;
        assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", env.db.name);
        assert!(r.body.contains("ログインが集中しています"), "{}", r.body);
        drop(held);
        let r = c.password("yamada", &env.passwords["yamada"]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        env.db.cleanup().await;
    }
}

#[tokio::test]
async fn the_token_form_asks_for_the_password_again() {
    for env in envs_with(Settings::default, &[]).await {
        let name = env.db.name;
        let mut c = Client::new(&env.router).peer("192.0.2.4");
        c.login(&env, "yamada").await;
        let page = c.get("/account").await;
        let form = &page.body[page.body.find("action=\"/account/tokens\"").unwrap()..];
        assert!(form.contains("name=\"password\""), "{name}");
        let r = c
            .post("/account/tokens", &[("name", "照会ツール"), ("days", "30")])
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{name}");
        assert!(
            r.body.contains("パスワードが正しくありません"),
            "{}",
            r.body
        );
        assert!(!r.body.contains("data-testid=\"new-token\""));
        let r = c
            .post(
                "/account/tokens",
                &[
                    ("name", "照会ツール"),
                    ("days", "30"),
                    ("password", &env.passwords["yamada"]),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{name}: {}", r.body);
        assert!(r.body.contains("data-testid=\"new-token\""));
        env.db.cleanup().await;
    }
}
