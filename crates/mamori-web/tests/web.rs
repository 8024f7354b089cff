//! In-process HTTP tests: the real router, a real database, requests through `oneshot`.

use axum::http::{header, StatusCode};
use axum::Router;
use mamori_app::clock::ManualClock;
use mamori_app::{App, Settings};
use mamori_domain::audit::Outcome;
use mamori_domain::role::Role;
use mamori_store::audit::AuditFilter;
use mamori_store::testing::TestDb;
use std::collections::HashMap;
use std::sync::Arc;

mod common;
use common::{Client, Resp};

const T0: i64 = 1_767_225_600_000_000;

struct Env {
    app: App,
    router: Router,
    clock: Arc<ManualClock>,
    passwords: HashMap<String, String>,
    db: TestDb,
}

async fn env() -> Vec<Env> {
    let mut out = Vec::new();
    for db in TestDb::all().await {
        let (app, clock, passwords) = common::demo_app(&db, T0, Settings::default()).await;
        let router = mamori_web::router(app.clone(), mamori_web::WebConfig::default());
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

/// One environment on SQLite only, for tests of the web layer itself.
async fn sqlite_env() -> Env {
    let mut all = env().await;
    let first = all.remove(0);
    for other in all {
        other.db.cleanup().await;
    }
    first
}

impl Client<'_> {
    /// Logs in, enrolling the second factor when the role needs it; returns the last response.
    async fn login(&mut self, env: &Env, login: &str) -> Resp {
        let now = env.clock.now_secs();
        self.sign_in(login, &env.passwords[login], now).await.0
    }
}

use mamori_app::clock::Clock;

#[tokio::test]
async fn pages_carry_security_headers_and_speak_japanese_first() {
    for env in env().await {
        let mut c = Client::new(&env.router);
        let r = c.get("/login").await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.body.contains("<html lang=\"ja\">") && r.body.contains("ログイン名"));
        let csp = r.headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
        assert!(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"));
        assert!(!csp.contains("unsafe-inline"));
        assert_eq!(r.headers[header::X_FRAME_OPTIONS], "DENY");
        assert_eq!(r.headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert_eq!(r.headers[header::CACHE_CONTROL], "no-store");
        let r = c.get("/lang/en?next=/login").await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        let r = c.get("/login").await;
        assert!(
            r.body.contains("<html lang=\"en\">") && r.body.contains("Login name"),
            "{}",
            env.db.name
        );
        let r = c.get("/lang/en?next=https://evil.example/").await;
        assert_eq!(r.headers[header::LOCATION], "/", "no open redirect");
        env.db.cleanup().await;
    }
}

#[tokio::test]
async fn login_sets_a_hardened_session_cookie_and_logout_ends_it() {
    for env in env().await {
        let mut c = Client::new(&env.router);
        c.get("/login").await;
        let csrf = c.csrf.clone();
        let bad = c
            .post_raw(
                "/login",
                &[
                    ("csrf", &csrf),
                    ("login", "yamada"),
                    ("password", "wrong password!"),
                ],
            )
            .await;
        assert_eq!(bad.status, StatusCode::UNAUTHORIZED);
        assert!(bad
            .body
            .contains("ログイン名またはパスワードが正しくありません"));
        assert!(!c.cookies.contains_key("mamori_session"));

        let r = c
            .post_raw(
                "/login",
                &[
                    ("csrf", &csrf),
                    ("login", "yamada"),
                    ("password", &env.passwords["yamada"]),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        let set = r
            .headers
            .get_all(header::SET_COOKIE)
            .iter()
            .map(|h| h.to_str().unwrap().to_owned())
            .find(|h| h.starts_with("mamori_session="))
            .unwrap();
        for attr in ["HttpOnly", "Secure", "SameSite=Lax", "Path=/"] {
            assert!(set.contains(attr), "{set} lacks {attr}");
        }
        let home = c.get("/").await;
        assert_eq!(home.status, StatusCode::OK);
        assert!(home.body.contains("山田 太郎") && home.body.contains("従業者"));
        assert!(
            !home.body.contains("/admin/users"),
            "navigation shows only what the role may use"
        );
        let csrf = c.csrf.clone();
        let out = c.post_raw("/logout", &[("csrf", &csrf)]).await;
        assert_eq!(out.status, StatusCode::SEE_OTHER);
        let after = c.get("/").await;
        assert_eq!(after.status, StatusCode::SEE_OTHER, "{}", env.db.name);
        assert!(after.headers[header::LOCATION]
            .to_str()
            .unwrap()
            .starts_with("/login"));
        env.db.cleanup().await;
    }
}

#[tokio::test]
async fn forged_or_missing_csrf_tokens_are_refused_and_recorded() {
    for env in env().await {
        let mut c = Client::new(&env.router);
        c.get("/login").await;
        let r = c
            .post_raw(
                "/login",
                &[("login", "yamada"), ("password", &env.passwords["yamada"])],
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        assert!(r.body.contains("フォームの有効期限が切れたか"));
        let r = c
            .post_raw(
                "/login",
                &[
                    ("csrf", "forged"),
                    ("login", "yamada"),
                    ("password", &env.passwords["yamada"]),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        c.login(&env, "admin").await;
        let r = c
            .post_raw("/admin/departments", &[("csrf", "x"), ("name", "不正部署")])
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let company = env.app.store.list_companies().await.unwrap()[0].id;
        let depts = env.app.store.list_departments(company).await.unwrap();
        assert!(
            !depts.iter().any(|d| d.name == "不正部署"),
            "nothing was changed"
        );
        let denied = env
            .app
            .store
            .search_audit(
                &AuditFilter {
                    outcome: Some(Outcome::Denied),
                    ..Default::default()
                },
                50,
            )
            .await
            .unwrap();
        let csrf_denials = denied
            .iter()
            .filter(|e| e.record.detail.contains("csrf"))
            .count();
        assert_eq!(csrf_denials, 3, "{}", env.db.name);
        env.db.cleanup().await;
    }
}

#[tokio::test]
async fn authorisation_matrix_by_role() {
    for env in env().await {
        let pages = [
            "/audit",
            "/admin/users",
            "/admin/departments",
            "/admin/users/new",
            "/account",
            "/",
        ];
        for role in Role::ALL {
            let login = match role {
                Role::Staff => "yamada",
                Role::DepartmentHead => "suzuki",
                Role::PrivacyOffice => "tanaka",
                Role::Ciso => "takahashi",
                Role::Executive => "watanabe",
                Role::ContactDesk => "ito",
                Role::Custodian => "kobayashi",
                Role::Auditor => "kato",
                Role::GroupHq => "yoshida",
                Role::Admin => "admin",
            };
            let mut c = Client::new(&env.router);
            c.login(&env, login).await;
            for page in pages {
                let expected = match page {
                    "/audit" if role == Role::Auditor => StatusCode::OK,
                    "/audit" => StatusCode::FORBIDDEN,
                    "/" | "/account" => StatusCode::OK,
                    _ if role == Role::Admin => StatusCode::OK,
                    _ => StatusCode::FORBIDDEN,
                };
                let r = c.get(page).await;
                assert_eq!(r.status, expected, "{} {login} {page}", env.db.name);
                if expected == StatusCode::FORBIDDEN {
                    assert!(r.body.contains("この操作を行う権限がありません"));
                }
            }
        }
        // Without a session every page sends the visitor to the login page.
        let mut anon = Client::new(&env.router);
        for page in pages {
            let r = anon.get(page).await;
            assert_eq!(r.status, StatusCode::SEE_OTHER, "{page}");
        }
        let denied = env
            .app
            .store
            .search_audit(
                &AuditFilter {
                    outcome: Some(Outcome::Denied),
                    action: Some("GET /admin".into()),
                    ..Default::default()
                },
                500,
            )
            .await
            .unwrap();
        // Nine roles refused three admin pages each, and three anonymous views.
        assert_eq!(
            denied.len(),
            9 * 3 + 3,
            "every refused page view is recorded"
        );
        env.db.cleanup().await;
    }
}

#[tokio::test]
async fn admin_creates_users_and_departments_with_named_errors() {
    for env in env().await {
        let mut c = Client::new(&env.router);
        c.login(&env, "admin").await;
        let page = c.get("/admin/users/new").await;
        let dept = {
            let i = page.body.find("<option value=\"").unwrap() + 15;
            page.body[i..i + page.body[i..].find('"').unwrap()].to_owned()
        };
        let csrf = c.csrf.clone();
        let bad = c
            .post_raw(
                "/admin/users",
                &[
                    ("csrf", &csrf),
                    ("login", "x"),
                    ("display_name", "新人"),
                    ("email", "a@b.jp"),
                    ("department_id", &dept),
                    ("roles", "staff"),
                ],
            )
            .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(bad.body.contains("ログイン名は英小文字"), "{}", bad.body);
        let csrf = c.csrf.clone();
        let ok = c
            .post_raw(
                "/admin/users",
                &[
                    ("csrf", &csrf),
                    ("login", "shinjin"),
                    ("display_name", "<script>新人</script>"),
                    ("email", "s@example.jp"),
                    ("department_id", &dept),
                    ("roles", "staff"),
                    ("roles", "contact_desk"),
                ],
            )
            .await;
        assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
        assert!(ok.body.contains("data-testid=\"generated-password\""));
        assert!(
            !ok.body.contains("<script>新人") && ok.body.contains("script&#62;新人"),
            "templates escape: {}",
            ok.body
        );
        let u = env
            .app
            .store
            .find_user_by_login("shinjin")
            .await
            .unwrap()
            .unwrap();
        assert!(u.roles.contains(Role::ContactDesk));
        let csrf = c.csrf.clone();
        let reset = c
            .post_raw(
                &format!("/admin/users/{}/password", u.id),
                &[("csrf", &csrf)],
            )
            .await;
        assert_eq!(reset.status, StatusCode::OK);
        assert!(
            reset.body.contains("新しいパスワードを発行しました")
                && reset.body.contains("generated-password")
        );
        let csrf = c.csrf.clone();
        let totp = c
            .post_raw(
                &format!("/admin/users/{}/totp-reset", u.id),
                &[("csrf", &csrf)],
            )
            .await;
        assert!(totp.body.contains("二要素認証をリセットしました"));
        let csrf = c.csrf.clone();
        let r = c
            .post_raw(
                "/admin/departments",
                &[("csrf", &csrf), ("name", "法務部"), ("parent_id", "")],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        let list = c.get("/admin/departments").await;
        assert!(list.body.contains("法務部"), "{}", env.db.name);
        env.db.cleanup().await;
    }
}

#[tokio::test]
async fn auditor_searches_the_log_and_htmx_gets_a_fragment() {
    for env in env().await {
        let mut staff = Client::new(&env.router);
        staff.login(&env, "yamada").await;
        staff.get("/audit").await;
        let mut c = Client::new(&env.router);
        c.login(&env, "kato").await;
        let r = c.get("/audit?actor=yamada&outcome=denied").await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(
            r.body.contains("GET /audit") && r.body.contains("拒否"),
            "{}",
            r.body
        );
        let frag = c
            .get_with("/audit?actor=yamada&outcome=denied", "hx-request", "true")
            .await;
        assert!(!frag.body.contains("<html") && frag.body.contains("audit-rows"));
        let none = c.get("/audit?actor=nobody").await;
        assert!(none.body.contains("audit-empty"));
        let bad = c.get("/audit?since=yesterday").await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(bad.body.contains("YYYY-MM-DD"), "the bad field is named");
        env.db.cleanup().await;
    }
}

#[tokio::test]
async fn bad_requests_get_clear_pages_never_panics() {
    for env in env().await {
        let mut c = Client::new(&env.router);
        let r = c.get("/no/such/page").await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        assert!(
            r.body.contains("お探しのページは見つかりません") && r.body.contains("問い合わせ番号")
        );
        let r = c
            .get_with("/no/such/page", "accept", "application/json")
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(v["error"], "error.404");

        c.get("/login").await;
        let csrf = c.csrf.clone();
        let r = c.post_raw("/login", &[("csrf", &csrf)]).await;
        assert!(r.status.is_client_error(), "{}", r.status);
        assert!(
            r.body.contains("<html") && r.body.contains("問い合わせ番号"),
            "missing fields give a page"
        );

        let big = "x".repeat(2 * 1024 * 1024);
        let r = c
            .post_raw("/login", &[("csrf", &csrf), ("login", &big)])
            .await;
        assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
        assert!(r.body.contains("送信されたデータが大きすぎます"));

        let r = c.get("/admin/users/notanumber").await;
        assert!(r.status.is_redirection() || r.status.is_client_error());
        let r = c.get("/lang/fr").await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", env.db.name);
        env.db.cleanup().await;
    }
}

#[tokio::test]
async fn expired_sessions_send_the_visitor_back_to_login() {
    for env in env().await {
        let mut c = Client::new(&env.router);
        c.login(&env, "yamada").await;
        assert_eq!(c.get("/").await.status, StatusCode::OK);
        env.clock.advance_secs(31 * 60);
        let r = c.get("/account").await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        let to = r.headers[header::LOCATION].to_str().unwrap();
        assert!(
            to.starts_with("/login?next=/account") && to.contains("expired=1"),
            "{to}"
        );
        let page = c.get(to).await;
        assert!(
            page.body.contains("セッションの有効期限が切れました"),
            "{}",
            env.db.name
        );
        env.db.cleanup().await;
    }
}

#[tokio::test]
async fn every_request_lands_in_the_audit_log() {
    for env in env().await {
        let mut c = Client::new(&env.router);
        c.login(&env, "yamada").await;
        let before = env.app.store.audit_head().await.unwrap().0;
        c.get("/").await;
        c.get("/account").await;
        c.get("/static/app.css").await;
        let after = env.app.store.audit_head().await.unwrap().0;
        assert_eq!(
            after - before,
            2,
            "pages are recorded, static files are not"
        );
        let last = env
            .app
            .store
            .search_audit(&AuditFilter::default(), 1)
            .await
            .unwrap();
        assert_eq!(last[0].record.action, "GET /account");
        assert_eq!(last[0].record.actor, "yamada");
        assert_eq!(last[0].record.outcome, Outcome::Success, "{}", env.db.name);
        env.db.cleanup().await;
    }
}

#[tokio::test]
async fn busy_database_and_full_disk_get_their_own_pages() {
    use axum::routing::get;
    use mamori_app::AppError;
    use mamori_web::error::WebError;
    let env = sqlite_env().await;
    let state = mamori_web::WebState::new(env.app.clone(), mamori_web::WebConfig::default());
    let router: Router = Router::new()
        .route(
            "/busy",
            get(|| async { Err::<(), _>(WebError(AppError::Busy)) }),
        )
        .route(
            "/full",
            get(|| async { Err::<(), _>(WebError(AppError::DiskFull)) }),
        )
        .route(
            "/boom",
            get(|| async { Err::<(), _>(WebError(AppError::Internal("secret detail".into()))) }),
        )
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            mamori_web::visitor::visitor,
        ))
        .with_state(state);
    let mut c = Client::new(&router);
    let r = c.get("/busy").await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(r.body.contains("データベースが混み合っています"));
    let r = c.get("/full").await;
    assert_eq!(r.status, StatusCode::INSUFFICIENT_STORAGE);
    assert!(r.body.contains("既存のデータは失われていません"));
    let r = c.get("/boom").await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(
        !r.body.contains("secret detail"),
        "internal detail never reaches the visitor"
    );
    assert!(r.body.contains("問い合わせ番号"));
    let errors = env
        .app
        .store
        .search_audit(
            &AuditFilter {
                outcome: Some(Outcome::Error),
                ..Default::default()
            },
            10,
        )
        .await
        .unwrap();
    assert_eq!(errors.len(), 3, "server errors are recorded too");
    env.db.cleanup().await;
}

#[tokio::test]
async fn any_user_may_turn_on_a_second_factor_from_the_account_page() {
    let env = sqlite_env().await;
    let mut c = Client::new(&env.router);
    c.login(&env, "yamada").await;
    let account = c.get("/account").await;
    assert!(account.body.contains("/account/totp"));
    let page = c.get("/account/totp").await;
    assert_eq!(page.status, StatusCode::OK);
    let i = page.body.find("data-testid=\"totp-secret\">").unwrap() + 26;
    let secret = page.body[i..i + page.body[i..].find('<').unwrap()].to_owned();
    assert_eq!(
        c.get("/account/totp").await.body.matches(&secret).count(),
        1,
        "a reload shows the same key"
    );
    let key = mamori_domain::totp::decode_secret(&secret).unwrap();
    let csrf = c.csrf.clone();
    let bad = c
        .post_raw("/account/totp", &[("csrf", &csrf), ("code", "000000")])
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let csrf = c.csrf.clone();
    let code = mamori_domain::totp::code_at(&key, env.clock.now_secs());
    let ok = c
        .post_raw("/account/totp", &[("csrf", &csrf), ("code", &code)])
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
    assert!(c
        .get("/account?totp=1")
        .await
        .body
        .contains("二要素認証を有効にしました"));
    assert_eq!(
        c.get("/account/totp").await.status,
        StatusCode::NOT_FOUND,
        "no second enrolment over the first"
    );
    // The next login asks for the code.
    let mut again = Client::new(&env.router);
    again.get("/login").await;
    let csrf = again.csrf.clone();
    let r = again
        .post_raw(
            "/login",
            &[
                ("csrf", &csrf),
                ("login", "yamada"),
                ("password", &env.passwords["yamada"]),
            ],
        )
        .await;
    assert_eq!(r.headers[header::LOCATION], "/login/totp");
    env.db.cleanup().await;
}

fn demo_login(role: Role) -> &'static str {
    match role {
        Role::Staff => "yamada",
        Role::DepartmentHead => "suzuki",
        Role::PrivacyOffice => "tanaka",
        Role::Ciso => "takahashi",
        Role::Executive => "watanabe",
        Role::ContactDesk => "ito",
        Role::Custodian => "kobayashi",
        Role::Auditor => "kato",
        Role::GroupHq => "yoshida",
        Role::Admin => "admin",
    }
}

#[tokio::test]
async fn incident_pages_by_role() {
    // The demo files two incidents: 1 by ito (カスタマーサポート課, under suzuki's
    // オペレーションサービス部) and 2, a drill, by yamada (バイヤー部).
    for env in env().await {
        for role in Role::ALL {
            let login = demo_login(role);
            let mut c = Client::new(&env.router);
            c.login(&env, login).await;
            let company_wide = matches!(
                role,
                Role::PrivacyOffice | Role::Ciso | Role::Executive | Role::Auditor
            );
            let cases = [
                ("/incidents", true),
                ("/incidents/new", true),
                (
                    "/incidents/1",
                    company_wide || login == "ito" || login == "suzuki",
                ),
                ("/incidents/2", company_wide || login == "yamada"),
            ];
            for (page, visible) in cases {
                let r = c.get(page).await;
                let expected = if visible {
                    StatusCode::OK
                } else {
                    StatusCode::NOT_FOUND
                };
                assert_eq!(r.status, expected, "{} {login} {page}", env.db.name);
            }
            let list = c.get("/incidents").await.body;
            assert_eq!(
                list.contains("/incidents/1\""),
                company_wide || login == "ito" || login == "suzuki",
                "{login}"
            );
            assert_eq!(
                list.contains("/incidents/2\""),
                company_wide || login == "yamada",
                "{login}"
            );
            let alerts = c.get("/admin/alerts").await.status;
            let expected = if matches!(role, Role::PrivacyOffice | Role::Admin) {
                StatusCode::OK
            } else {
                StatusCode::FORBIDDEN
            };
            assert_eq!(alerts, expected, "{login} /admin/alerts");
        }
        env.db.cleanup().await;
    }
}

#[tokio::test]
async fn first_report_over_http_with_named_errors() {
    let env = sqlite_env().await;
    let mut c = Client::new(&env.router);
    c.login(&env, "yamada").await;
    c.get("/incidents/new").await;
    let csrf = c.csrf.clone();
    // A negative count: the form again (422) with the field named, nothing stored.
    let r = c
        .post_raw(
            "/incidents",
            &[
                ("csrf", &csrf),
                ("description", "誤送信"),
                ("persons", "-3"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body.contains("本人の数「-3」: 負の数は入力できません"),
        "{}",
        r.body
    );
    assert!(
        r.body.contains(">誤送信</textarea>"),
        "what was typed is kept"
    );
    // Without the CSRF token: refused.
    let r = c.post_raw("/incidents", &[("description", "x")]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // A good report: redirected to the new incident, which the reporter sees with its timeline.
    let csrf = c.csrf.clone();
    let r = c
        .post_raw(
            "/incidents",
            &[
                ("csrf", &csrf),
                ("description", "顧客名簿の入ったUSBメモリを紛失"),
                ("event", "loss"),
                ("items", "name"),
                ("items", "address"),
                ("persons", "1,001"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let to = r.headers[header::LOCATION].to_str().unwrap().to_owned();
    assert!(to.starts_with("/incidents/3?filed=1"), "{to}");
    let page = c.get(&to).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("第一報を受け付けました"));
    assert!(page.body.contains("個人情報保護委員会への報告対象です"));
    // The staff reporter sees the page but not the manager's forms.
    assert!(!page.body.contains("data-testid=\"facts-form\""));
    let r = c
        .post_raw(
            "/incidents/3/facts",
            &[("csrf", &c.csrf.clone()), ("version", "1")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    env.db.cleanup().await;
}

/// Issue 12, item 4: an auditor's page and export hold the own company's entries only; a
/// group auditor (auditor and group headquarters) sees every company's, with a company column.
#[tokio::test]
async fn the_audit_page_and_export_keep_to_the_auditors_company() {
    for mut env in env().await {
        let companies = env.app.store.list_companies().await.unwrap();
        let mirai = companies
            .iter()
            .find(|c| c.code == "mirai-tsuhan")
            .unwrap()
            .id;
        let logistics = companies
            .iter()
            .find(|c| c.code == "mirai-logistics")
            .unwrap()
            .id;
        let local = mamori_app::Ctx::local();
        for (login, company, roles) in [
            ("l_staff", logistics, vec![Role::Staff]),
            ("l_audit", logistics, vec![Role::Auditor]),
            ("g_audit", mirai, vec![Role::Auditor, Role::GroupHq]),
        ] {
            let dept = env.app.store.list_departments(company).await.unwrap()[0].id;
            let password = "a long enough password 1".to_owned();
            env.app
                .create_user(
                    &local,
                    &mamori_app::admin::UserInput {
                        company_id: Some(company),
                        department_id: dept,
                        login: login.into(),
                        display_name: "試験 太郎".into(),
                        email: format!("{login}@example.jp"),
                        roles,
                        password: Some(password.clone()),
                        locale: "ja".into(),
                    },
                )
                .await
                .unwrap();
            env.passwords.insert(login.into(), password);
        }
        let mut l_staff = Client::new(&env.router);
        l_staff.login(&env, "l_staff").await;
        l_staff.get("/incidents").await;

        let mut kato = Client::new(&env.router);
        kato.login(&env, "kato").await;
        let r = kato.get("/audit?actor=l_staff").await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(
            r.body.contains("audit-empty"),
            "{}: {}",
            env.db.name,
            r.body
        );
        assert!(!r.body.contains("audit-company"), "no company filter");
        let r = kato
            .get(&format!("/audit?actor=l_staff&company={logistics}"))
            .await;
        assert!(
            r.body.contains("audit-empty"),
            "asking for another company changes nothing"
        );
        let export = kato.get("/audit/export").await;
        assert_eq!(export.status, StatusCode::OK);
        let lines: Vec<serde_json::Value> = export
            .body
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert!(!lines.is_empty());
        assert!(
            lines.iter().all(|e| e["company_id"] == mirai),
            "{}",
            env.db.name
        );

        let mut l_audit = Client::new(&env.router);
        l_audit.login(&env, "l_audit").await;
        let r = l_audit.get("/audit?actor=l_staff").await;
        assert!(r.body.contains("GET /incidents"), "{}", r.body);
        assert!(!r.body.contains("audit-row-company"));

        let mut group = Client::new(&env.router);
        group.login(&env, "g_audit").await;
        let r = group.get("/audit?actor=l_staff").await;
        assert!(r.body.contains("GET /incidents"));
        assert!(r.body.contains("audit-company") && r.body.contains("audit-row-company"));
        assert!(r.body.contains("みらいロジスティクス株式会社"));
        let r = group
            .get(&format!("/audit?actor=l_staff&company={mirai}"))
            .await;
        assert!(
            r.body.contains("audit-empty"),
            "a group auditor may narrow to one company"
        );
        let export = group.get("/audit/export").await;
        assert!(export.body.contains("\"actor\":\"l_staff\""));
        assert!(export.body.contains("\"actor\":\"kato\""));

        let mut staff = Client::new(&env.router);
        staff.login(&env, "yamada").await;
        assert_eq!(
            staff.get("/audit/export").await.status,
            StatusCode::FORBIDDEN
        );
        env.db.cleanup().await;
    }
}
