//! Issue 12, items 5–7: the second factor cannot be guessed, login throttling neither locks
//! out a company nor tells names apart, Argon2 runs bounded, and credentials follow the
//! password and the roles. On SQLite and PostgreSQL.

use mamori_app::admin::{UserInput, UserUpdate};
use mamori_app::auth::LoggedIn;
use mamori_app::clock::{Clock, ManualClock};
use mamori_app::keys::Keys;
use mamori_app::{App, AppError, Ctx, Settings};
use mamori_domain::role::Role;
use mamori_domain::totp;
use mamori_store::sessions::Stage;
use mamori_store::testing::{temp_dir, TestDb};
use std::sync::Arc;

const T0: i64 = 1_767_225_600_000_000; // 2026-01-01T00:00:00Z
const PASSWORD: &str = "correct horse battery";

struct Env {
    app: App,
    clock: Arc<ManualClock>,
    db: TestDb,
}

async fn envs_with(settings: impl Fn() -> Settings) -> Vec<Env> {
    let mut out = Vec::new();
    for db in TestDb::all().await {
        let clock = Arc::new(ManualClock::new(T0));
        let keys = Keys::load_or_create(&temp_dir("authkeys").join("k"), true).unwrap();
        let (app, _writer) = App::new(db.store.clone(), keys, clock.clone(), settings());
        out.push(Env { app, clock, db });
    }
    out
}

async fn envs() -> Vec<Env> {
    envs_with(Settings::default).await
}

async fn user(app: &App, login: &str, roles: &[Role]) -> i64 {
    let ctx = Ctx::local();
    let company = match app.store.list_companies().await.unwrap().first() {
        Some(c) => c.id,
        None => app
            .create_company(&ctx, "test-co", "テスト株式会社")
            .await
            .unwrap(),
    };
    let dept = match app.store.list_departments(company).await.unwrap().first() {
        Some(d) => d.id,
        None => app
            .create_department(&ctx, company, None, "本社")
            .await
            .unwrap(),
    };
    app.create_user(
        &ctx,
        &UserInput {
            company_id: Some(company),
            department_id: dept,
            login: login.into(),
            display_name: "試験 太郎".into(),
            email: format!("{login}@example.jp"),
            roles: roles.to_vec(),
            password: Some(PASSWORD.into()),
            locale: "ja".into(),
        },
    )
    .await
    .unwrap()
    .0
}

/// Creates `login` with a role that requires TOTP, enrols it, and returns the secret.
async fn enrolled(env: &Env, login: &str) -> Vec<u8> {
    let app = &env.app;
    user(app, login, &[Role::Auditor]).await;
    let anon = Ctx::anonymous("192.0.2.1");
    let li = app.login(&anon, login, PASSWORD, "t").await.unwrap();
    assert_eq!(li.stage, Stage::TotpSetup);
    let s = app.session(&li.token).await.unwrap().unwrap();
    let ctx = Ctx::user(s.user.clone(), "192.0.2.1");
    let enrol = app.begin_totp_enrolment(&ctx, &s.user).await.unwrap();
    let secret = totp::decode_secret(&enrol.secret_b32).unwrap();
    let code = totp::code_at(&secret, env.clock.now_secs());
    app.confirm_totp_enrolment(&ctx, &s, &code, "t")
        .await
        .unwrap();
    env.clock.advance_secs(60);
    secret
}

/// Logs in with the password only: the session waiting for the code.
async fn password_step(app: &App, ip: &str, login: &str) -> mamori_app::auth::ActiveSession {
    let li: LoggedIn = app
        .login(&Ctx::anonymous(ip), login, PASSWORD, "t")
        .await
        .unwrap();
    assert_eq!(li.stage, Stage::Totp);
    app.session(&li.token).await.unwrap().unwrap()
}

fn wrong_code(secret: &[u8], now: i64) -> String {
    let right: u32 = totp::code_at(secret, now).parse().unwrap();
    format!("{:06}", (right + 1) % 1_000_000)
}

#[tokio::test]
async fn a_right_password_does_not_reset_the_count_of_wrong_codes() {
    for env in envs().await {
        let (app, name) = (&env.app, env.db.name);
        let secret = enrolled(&env, "kato").await;
        // Four wrong codes, then the (stolen) password again: before, this cleared the only
        // counter and allowed four more guesses, for ever.
        for round in 0..2 {
            let s = password_step(app, "192.0.2.10", "kato").await;
            let ctx = Ctx::anonymous("192.0.2.10");
            let tries = if round == 0 { 4 } else { 1 };
            for i in 0..tries {
                let bad = wrong_code(&secret, env.clock.now_secs());
                let r = app.login_totp(&ctx, &s, &bad, "t").await;
                let last = round == 1 && i == tries - 1;
                if last {
                    assert!(matches!(r, Err(AppError::TotpLocked)), "{name}: {r:?}");
                } else {
                    assert!(matches!(r, Err(AppError::BadTotp)), "{name}: {r:?}");
                }
            }
        }
        // Locked: even the right code is refused, after a right password too.
        let s = password_step(app, "192.0.2.11", "kato").await;
        let code = totp::code_at(&secret, env.clock.now_secs());
        assert!(matches!(
            app.login_totp(&Ctx::anonymous("192.0.2.11"), &s, &code, "t")
                .await,
            Err(AppError::TotpLocked)
        ));
        let u = app.store.find_user_by_login("kato").await.unwrap().unwrap();
        assert!(app.totp_locked(&u), "{name}");
        // Only an administrator unlocks it (the command line here).
        assert!(app.unlock_user(&Ctx::local(), u.id).await.unwrap());
        let s = password_step(app, "192.0.2.11", "kato").await;
        let done = app
            .login_totp(&Ctx::anonymous("192.0.2.11"), &s, &code, "t")
            .await
            .unwrap();
        assert_eq!(done.stage, Stage::Full);
        let u = app.store.get_user(u.id).await.unwrap();
        assert_eq!(u.totp_failures, 0, "a right code clears the count");
        let audit = app
            .store
            .search_audit(
                &mamori_store::audit::AuditFilter {
                    action: Some("auth.totp.lock".into()),
                    ..Default::default()
                },
                10,
            )
            .await
            .unwrap();
        assert_eq!(audit.len(), 1, "{name}: the lock is in the audit log");
        env.db.cleanup().await;
    }
}

#[tokio::test]
async fn a_right_code_clears_the_count() {
    for env in envs().await {
        let app = &env.app;
        let secret = enrolled(&env, "kato").await;
        let s = password_step(app, "192.0.2.20", "kato").await;
        let ctx = Ctx::anonymous("192.0.2.20");
        for _ in 0..4 {
            let bad = wrong_code(&secret, env.clock.now_secs());
            assert!(matches!(
                app.login_totp(&ctx, &s, &bad, "t").await,
                Err(AppError::BadTotp)
            ));
        }
        let code = totp::code_at(&secret, env.clock.now_secs());
        app.login_totp(&ctx, &s, &code, "t").await.unwrap();
        env.clock.advance_secs(60);
        // Four more wrong codes do not lock: the count started again.
        let s = password_step(app, "192.0.2.20", "kato").await;
        for _ in 0..4 {
            let bad = wrong_code(&secret, env.clock.now_secs());
            assert!(matches!(
                app.login_totp(&ctx, &s, &bad, "t").await,
                Err(AppError::BadTotp)
            ));
        }
        env.db.cleanup().await;
    }
}

#[tokio::test]
async fn the_code_step_obeys_the_address_limit_and_ipv6_counts_per_64() {
    for env in envs().await {
        let (app, name) = (&env.app, env.db.name);
        let secret = enrolled(&env, "kato").await;
        // Twenty failures from addresses of one IPv6 /64, each a different address.
        for i in 0..20 {
            let ctx = Ctx::anonymous(&format!("2001:db8:1:2::{:x}", i + 1));
            let _ = app
                .login(&ctx, &format!("guess{i}"), "password123456", "t")
                .await;
        }
        // Another address of the same /64 is blocked, at the password and at the code.
        let same = Ctx::anonymous("2001:db8:1:2:ffff:ffff:ffff:1");
        assert!(
            matches!(
                app.login(&same, "kato", PASSWORD, "t").await,
                Err(AppError::Throttled(_))
            ),
            "{name}: the /64 is one address"
        );
        let s = password_step(app, "192.0.2.30", "kato").await;
        let code = totp::code_at(&secret, env.clock.now_secs());
        assert!(
            matches!(
                app.login_totp(&same, &s, &code, "t").await,
                Err(AppError::Throttled(_))
            ),
            "{name}: the code step goes through the per-address limit"
        );
        // The next /64 is not affected.
        let other = Ctx::anonymous("2001:db8:1:3::1");
        assert_eq!(
            app.login_totp(&other, &s, &code, "t").await.unwrap().stage,
            Stage::Full
        );
        env.db.cleanup().await;
    }
}

#[tokio::test]
async fn unknown_and_known_names_are_answered_alike() {
    for env in envs().await {
        let (app, name) = (&env.app, env.db.name);
        user(app, "sato", &[Role::Staff]).await;
        let mut answers = Vec::new();
        for login in ["sato", "nobody"] {
            let mut seq = Vec::new();
            for i in 0..7 {
                let ctx = Ctx::anonymous(&format!("198.51.100.{i}"));
                let r = app.login(&ctx, login, "wrong password!", "t").await;
                seq.push(match r {
                    Err(AppError::BadCredentials) => "bad",
                    Err(AppError::Throttled(_)) => "throttled",
                    other => panic!("{name}: {other:?}"),
                });
            }
            answers.push(seq);
        }
        assert_eq!(
            answers[0], answers[1],
            "{name}: attempt 6 must not tell a real name from an unknown one"
        );
        assert_eq!(answers[0][5], "throttled");
        env.db.cleanup().await;
    }
}

#[tokio::test]
async fn saturated_password_hashing_answers_overloaded_instead_of_queueing() {
    let settings = || Settings {
        argon2_permits: 1,
        argon2_wait_millis: 20,
        ..Settings::default()
    };
    for env in envs_with(settings).await {
        let app = &env.app;
        user(app, "sato", &[Role::Staff]).await;
        let anon = Ctx::anonymous("192.0.2.40");
        let held = app.argon2.occupy_all().expect("all slots free");
        for login in ["sato", "nobody"] {
            assert!(
                matches!(
                    app.login(&anon, login, PASSWORD, "t").await,
                    Err(AppError::Overloaded)
                ),
                "{}",
                env.db.name
            );
        }
        drop(held);
        assert!(app.login(&anon, "sato", PASSWORD, "t").await.is_ok());
        env.db.cleanup().await;
    }
}

async fn full_session(app: &App, login: &str) -> (String, Ctx) {
    let li = app
        .login(&Ctx::anonymous("192.0.2.50"), login, PASSWORD, "t")
        .await
        .unwrap();
    assert_eq!(li.stage, Stage::Full);
    let ctx = Ctx::user(li.user.clone(), "192.0.2.50");
    (li.token, ctx)
}

#[tokio::test]
async fn creating_an_api_token_asks_for_the_password_again() {
    for env in envs().await {
        let app = &env.app;
        user(app, "sato", &[Role::Staff]).await;
        let (_, ctx) = full_session(app, "sato").await;
        for wrong in ["", "not the password"] {
            match app.create_api_token(&ctx, wrong, "バッチ", "30").await {
                Err(AppError::Invalid(p)) => assert_eq!(p.field, Some("password")),
                other => panic!("{}: {other:?}", env.db.name),
            }
        }
        assert!(app.api_tokens(&ctx).await.unwrap().is_empty());
        let (_, token) = app
            .create_api_token(&ctx, PASSWORD, "バッチ", "30")
            .await
            .unwrap();
        assert!(app.api_caller(&token).await.unwrap().is_some());
        env.db.cleanup().await;
    }
}

#[tokio::test]
async fn changing_the_own_password_revokes_the_api_tokens() {
    for env in envs().await {
        let app = &env.app;
        user(app, "sato", &[Role::Staff]).await;
        let (session_token, ctx) = full_session(app, "sato").await;
        let (_, token) = app
            .create_api_token(&ctx, PASSWORD, "バッチ", "30")
            .await
            .unwrap();
        let s = app.session(&session_token).await.unwrap().unwrap();
        app.change_own_password(&ctx, &s, PASSWORD, "a brand new passphrase", "t")
            .await
            .unwrap();
        assert!(
            app.api_caller(&token).await.unwrap().is_none(),
            "{}: a token made with the old password dies with it",
            env.db.name
        );
        assert!(app
            .api_tokens(&ctx)
            .await
            .unwrap()
            .iter()
            .all(|t| t.status == "revoked"));
        env.db.cleanup().await;
    }
}

#[tokio::test]
async fn a_role_that_requires_totp_ends_sessions_and_tokens_until_enrolment() {
    for env in envs().await {
        let (app, name) = (&env.app, env.db.name);
        user(app, "admin", &[Role::Admin]).await;
        let sato = user(app, "sato", &[Role::Staff]).await;
        let (session_token, ctx) = full_session(app, "sato").await;
        let (_, token) = app
            .create_api_token(&ctx, PASSWORD, "バッチ", "30")
            .await
            .unwrap();
        let u = app.store.get_user(sato).await.unwrap();
        app.update_user(
            &Ctx::local(),
            sato,
            &UserUpdate {
                display_name: &u.display_name,
                email: &u.email,
                department_id: u.department_id,
                roles: &[Role::Staff, Role::PrivacyOffice],
                disabled: false,
            },
        )
        .await
        .unwrap();
        assert!(
            app.session(&session_token).await.unwrap().is_none(),
            "{name}: the session made without a second factor ends"
        );
        assert!(app.api_caller(&token).await.unwrap().is_none(), "{name}");
        let li = app
            .login(&Ctx::anonymous("192.0.2.50"), "sato", PASSWORD, "t")
            .await
            .unwrap();
        assert_eq!(
            li.stage,
            Stage::TotpSetup,
            "{name}: privacy_office requires a second factor"
        );

        // A role given behind the use cases' back (straight in the database) has the same
        // effect: a full session of a user who must enrol is not honoured.
        let yamada = user(app, "yamada", &[Role::Staff]).await;
        let (session_token, _) = full_session(app, "yamada").await;
        app.store
            .set_user_roles(yamada, &[Role::Custodian])
            .await
            .unwrap();
        assert!(app.session(&session_token).await.unwrap().is_none());
        env.db.cleanup().await;
    }
}
