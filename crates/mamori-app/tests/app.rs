//! Use-case tests against real databases (SQLite and PostgreSQL).

use mamori_app::admin::{UserInput, UserUpdate};
use mamori_app::audit::{export, verify, Verified};
use mamori_app::clock::ManualClock;
use mamori_app::keys::Keys;
use mamori_app::{App, AppError, Ctx, Settings};
use mamori_domain::audit::{Outcome, VerifyError};
use mamori_domain::role::Role;
use mamori_domain::totp;
use mamori_store::audit::AuditFilter;
use mamori_store::sessions::Stage;
use mamori_store::testing::{temp_dir, TestDb};
use std::sync::Arc;

const T0: i64 = 1_767_225_600_000_000; // 2026-01-01T00:00:00Z

struct Env {
    app: App,
    clock: Arc<ManualClock>,
    db: TestDb,
}

async fn envs() -> Vec<Env> {
    let mut out = Vec::new();
    for db in TestDb::all().await {
        let clock = Arc::new(ManualClock::new(T0));
        let keys = Keys::load_or_create(&temp_dir("keys").join("k"), true).unwrap();
        let (app, _writer) = App::new(db.store.clone(), keys, clock.clone(), Settings::default());
        out.push(Env { app, clock, db });
    }
    out
}

async fn user(app: &App, login: &str, roles: &[Role]) -> i64 {
    let ctx = Ctx::local();
    let companies = app.store.list_companies().await.unwrap();
    let company = match companies.first() {
        Some(c) => c.id,
        None => app
            .create_company(&ctx, "test-co", "テスト株式会社")
            .await
            .unwrap(),
    };
    let depts = app.store.list_departments(company).await.unwrap();
    let dept = match depts.first() {
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
            password: Some("correct horse battery".into()),
            locale: "ja".into(),
        },
    )
    .await
    .unwrap()
    .0
}

#[tokio::test]
async fn login_sessions_and_timeouts() {
    for Env { app, clock, db } in envs().await {
        user(&app, "sato", &[Role::Staff]).await;
        let anon = Ctx::anonymous("10.0.0.1");
        assert!(matches!(
            app.login(&anon, "sato", "wrong password!", "t").await,
            Err(AppError::BadCredentials)
        ));
        assert!(matches!(
            app.login(&anon, "nobody", "whatever", "t").await,
            Err(AppError::BadCredentials)
        ));
        let li = app
            .login(&anon, "SATO", "correct horse battery", "t")
            .await
            .unwrap();
        assert_eq!(li.stage, Stage::Full, "{}", db.name);
        let s = app
            .session(&li.token)
            .await
            .unwrap()
            .expect("valid session");
        assert_eq!(s.user.login, "sato");
        assert!(app.session("forged-token").await.unwrap().is_none());

        // Idle timeout: 30 minutes without a request ends the session.
        clock.advance_secs(29 * 60);
        assert!(
            app.session(&li.token).await.unwrap().is_some(),
            "still active"
        );
        clock.advance_secs(29 * 60);
        assert!(
            app.session(&li.token).await.unwrap().is_some(),
            "touched at the last request"
        );
        clock.advance_secs(31 * 60);
        assert!(
            app.session(&li.token).await.unwrap().is_none(),
            "idle too long"
        );

        // Absolute timeout: 12 hours even when used all the time.
        let li = app
            .login(&anon, "sato", "correct horse battery", "t")
            .await
            .unwrap();
        for _ in 0..25 {
            clock.advance_secs(29 * 60);
            let _ = app.session(&li.token).await.unwrap();
        }
        assert!(
            app.session(&li.token).await.unwrap().is_none(),
            "absolute timeout"
        );

        let failures = app
            .store
            .search_audit(
                &AuditFilter {
                    action: Some("auth.login".into()),
                    outcome: Some(Outcome::Failure),
                    ..Default::default()
                },
                10,
            )
            .await
            .unwrap();
        assert_eq!(failures.len(), 2, "failed logins are audited");
        assert!(
            failures.iter().any(|e| e.record.target == "user:unknown"),
            "unknown names are not recorded"
        );
        db.cleanup().await;
    }
}

#[tokio::test]
async fn throttling_per_account_and_per_address() {
    for Env { app, clock, db } in envs().await {
        user(&app, "sato", &[Role::Staff]).await;
        for i in 0..5 {
            let ctx = Ctx::anonymous(&format!("10.0.1.{i}"));
            assert!(matches!(
                app.login(&ctx, "sato", "wrong password!", "t").await,
                Err(AppError::BadCredentials)
            ));
        }
        let ctx = Ctx::anonymous("10.0.2.1");
        let r = app.login(&ctx, "sato", "correct horse battery", "t").await;
        assert!(
            matches!(r, Err(AppError::Throttled(s)) if s > 0 && s <= 900),
            "{}: account locked",
            db.name
        );
        clock.advance_secs(16 * 60);
        assert!(
            app.login(&ctx, "sato", "correct horse battery", "t")
                .await
                .is_ok(),
            "lock expires"
        );

        // Twenty failures from one address block it, whatever names it tries.
        let attacker = Ctx::anonymous("10.9.9.9");
        for i in 0..20 {
            let _ = app
                .login(&attacker, &format!("guess{i}"), "password123456", "t")
                .await;
        }
        assert!(matches!(
            app.login(&attacker, "sato", "correct horse battery", "t")
                .await,
            Err(AppError::Throttled(_))
        ));
        assert!(
            app.login(&ctx, "sato", "correct horse battery", "t")
                .await
                .is_ok(),
            "others unaffected"
        );
        db.cleanup().await;
    }
}

#[tokio::test]
async fn totp_enrolment_login_and_replay() {
    for Env { app, clock, db } in envs().await {
        user(&app, "kato", &[Role::Auditor]).await;
        let anon = Ctx::anonymous("127.0.0.1");
        let li = app
            .login(&anon, "kato", "correct horse battery", "t")
            .await
            .unwrap();
        assert_eq!(
            li.stage,
            Stage::TotpSetup,
            "auditors must enrol a second factor"
        );
        let s = app.session(&li.token).await.unwrap().unwrap();
        let ctx = Ctx::user(s.user.clone(), "127.0.0.1");
        let enrol = app.begin_totp_enrolment(&ctx, &s.user).await.unwrap();
        let stored = app
            .store
            .get_user(s.user.id)
            .await
            .unwrap()
            .totp_secret
            .unwrap();
        assert!(
            !stored.contains(&enrol.secret_b32),
            "secret is sealed at rest"
        );
        let secret = totp::decode_secret(&enrol.secret_b32).unwrap();
        assert!(matches!(
            app.confirm_totp_enrolment(&ctx, &s, "000000", "t").await,
            Err(AppError::BadTotp)
        ));
        let code = totp::code_at(&secret, clock.now_secs_for_test());
        let full = app
            .confirm_totp_enrolment(&ctx, &s, &code, "t")
            .await
            .unwrap();
        assert_eq!(full.stage, Stage::Full);
        assert!(
            app.session(&li.token).await.unwrap().is_none(),
            "the pre-login token is replaced"
        );

        clock.advance_secs(60);
        let li = app
            .login(&anon, "kato", "correct horse battery", "t")
            .await
            .unwrap();
        assert_eq!(li.stage, Stage::Totp, "{}", db.name);
        let s = app.session(&li.token).await.unwrap().unwrap();
        let code = totp::code_at(&secret, clock.now_secs_for_test());
        let done = app.login_totp(&anon, &s, &code, "t").await.unwrap();
        assert_eq!(done.stage, Stage::Full);
        // The same code again (e.g. seen over a shoulder) is refused.
        let li = app
            .login(&anon, "kato", "correct horse battery", "t")
            .await
            .unwrap();
        let s = app.session(&li.token).await.unwrap().unwrap();
        assert!(matches!(
            app.login_totp(&anon, &s, &code, "t").await,
            Err(AppError::BadTotp)
        ));
        db.cleanup().await;
    }
}

trait NowSecs {
    fn now_secs_for_test(&self) -> i64;
}
impl NowSecs for ManualClock {
    fn now_secs_for_test(&self) -> i64 {
        use mamori_app::clock::Clock;
        self.now_secs()
    }
}

#[tokio::test]
async fn authorisation_matrix_for_admin_use_cases() {
    for Env { app, db, .. } in envs().await {
        let admin_id = user(&app, "admin", &[Role::Admin]).await;
        let staff_id = user(&app, "yamada", &[Role::Staff]).await;
        let auditor_id = user(&app, "kato", &[Role::Auditor]).await;
        let admin = Ctx::user(app.store.get_user(admin_id).await.unwrap(), "127.0.0.1");
        let staff = Ctx::user(app.store.get_user(staff_id).await.unwrap(), "127.0.0.1");
        let auditor = Ctx::user(app.store.get_user(auditor_id).await.unwrap(), "127.0.0.1");
        let anon = Ctx::anonymous("127.0.0.1");

        assert_eq!(app.list_users(&admin).await.unwrap().len(), 3);
        for ctx in [&staff, &auditor, &anon] {
            assert!(matches!(app.list_users(ctx).await, Err(AppError::Denied)));
            assert!(matches!(
                app.set_password(ctx, staff_id, None).await,
                Err(AppError::Denied)
            ));
        }
        assert!(app
            .search_audit(&auditor, &AuditFilter::default(), 10)
            .await
            .is_ok());
        for ctx in [&staff, &admin, &anon] {
            assert!(matches!(
                app.search_audit(ctx, &AuditFilter::default(), 10).await,
                Err(AppError::Denied)
            ));
        }
        // An admin of another company cannot touch this one's users.
        let other = app
            .create_company(&Ctx::local(), "other-co", "別会社")
            .await
            .unwrap();
        let od = app
            .create_department(&Ctx::local(), other, None, "本社")
            .await
            .unwrap();
        let (oid, pw) = app
            .create_user(
                &Ctx::local(),
                &UserInput {
                    company_id: None,
                    department_id: od,
                    login: "other.admin".into(),
                    display_name: "別 管理者".into(),
                    email: "oa@example.jp".into(),
                    roles: vec![Role::Admin],
                    password: None,
                    locale: "ja".into(),
                },
            )
            .await
            .unwrap();
        assert_eq!(pw.unwrap().len(), 16, "generated password returned once");
        let other_admin = Ctx::user(app.store.get_user(oid).await.unwrap(), "127.0.0.1");
        assert!(matches!(
            app.get_user_for_admin(&other_admin, staff_id).await,
            Err(AppError::Denied)
        ));
        assert_eq!(app.list_users(&other_admin).await.unwrap().len(), 1);
        // Admins cannot lock themselves out.
        let me = app.store.get_user(admin_id).await.unwrap();
        let r = app
            .update_user(
                &admin,
                admin_id,
                &UserUpdate {
                    display_name: &me.display_name,
                    email: &me.email,
                    department_id: me.department_id,
                    roles: &[Role::Staff],
                    disabled: false,
                },
            )
            .await;
        assert!(matches!(r, Err(AppError::Invalid(p)) if p.field == Some("roles")));
        // Denials are in the audit log.
        let denied = app
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
        assert!(denied.len() >= 4, "{}: {}", db.name, denied.len());
        db.cleanup().await;
    }
}

#[tokio::test]
async fn bad_input_is_named_and_changes_nothing() {
    for Env { app, db, .. } in envs().await {
        let id = user(&app, "sato", &[Role::Staff]).await;
        let dept = app.store.get_user(id).await.unwrap().department_id;
        let base = UserInput {
            company_id: None,
            department_id: dept,
            login: "new.user".into(),
            display_name: "新 人".into(),
            email: "new@example.jp".into(),
            roles: vec![Role::Staff],
            password: Some("long enough password".into()),
            locale: "ja".into(),
        };
        let cases: Vec<(UserInput, &str)> = vec![
            (
                UserInput {
                    login: "x".into(),
                    ..base.clone()
                },
                "login",
            ),
            (
                UserInput {
                    email: "not-mail".into(),
                    ..base.clone()
                },
                "email",
            ),
            (
                UserInput {
                    display_name: String::new(),
                    ..base.clone()
                },
                "display_name",
            ),
            (
                UserInput {
                    password: Some("short".into()),
                    ..base.clone()
                },
                "password",
            ),
            (
                UserInput {
                    department_id: 9999,
                    ..base.clone()
                },
                "department_id",
            ),
        ];
        for (input, field) in cases {
            match app.create_user(&Ctx::local(), &input).await {
                Err(AppError::Invalid(p)) => {
                    assert_eq!(p.field, Some(field));
                    assert!(!p.ja.is_empty() && !p.en.is_empty());
                }
                other => panic!("{field}: {other:?}"),
            }
        }
        let dup = app
            .create_user(
                &Ctx::local(),
                &UserInput {
                    login: "sato".into(),
                    ..base.clone()
                },
            )
            .await;
        assert!(matches!(dup, Err(AppError::Invalid(p)) if p.ja.contains("ログイン名")));
        assert_eq!(
            app.store.count_users().await.unwrap(),
            1,
            "{}: nothing stored",
            db.name
        );
        // A department cannot move under its own child.
        let company = app.store.get_user(id).await.unwrap().company_id;
        let child = app
            .create_department(&Ctx::local(), company, Some(dept), "子部署")
            .await
            .unwrap();
        let r = app
            .update_department(&Ctx::local(), dept, Some(child), "本社")
            .await;
        assert!(matches!(r, Err(AppError::Invalid(p)) if p.field == Some("parent_id")));
        db.cleanup().await;
    }
}

#[tokio::test]
async fn audit_verify_detects_tampering_and_exports() {
    for Env { app, db, .. } in envs().await {
        user(&app, "sato", &[Role::Staff]).await;
        let ctx = Ctx::local();
        for i in 0..30 {
            app.audit(
                &ctx,
                "test.event",
                &format!("n:{i}"),
                Outcome::Success,
                serde_json::json!({}),
            )
            .await
            .unwrap();
        }
        let cp = app.checkpoint_audit().await.unwrap().unwrap();
        assert!(
            app.checkpoint_audit().await.unwrap().is_none(),
            "nothing new to sign"
        );
        for i in 30..40 {
            app.audit(
                &ctx,
                "test.event",
                &format!("n:{i}"),
                Outcome::Success,
                serde_json::json!({}),
            )
            .await
            .unwrap();
        }
        let vk = app.keys.verifying_key();
        let Verified::Ok(s) = verify(&app.store, &vk, 7).await.unwrap() else {
            panic!("intact log must verify")
        };
        assert_eq!(s.last_seq, cp + 10);

        let mut out = Vec::new();
        let n = export(&app.store, None, None, &mut out).await.unwrap();
        assert_eq!(n as i64, s.last_seq);
        let first: serde_json::Value =
            serde_json::from_slice(out.split(|b| *b == b'\n').next().unwrap()).unwrap();
        assert_eq!(first["seq"], 1);
        assert!(first["hash"].as_str().unwrap().len() == 64);

        // An attacker with direct database access drops the guard and edits an entry.
        let drop_guard = if db.name == "sqlite" {
            vec![
                "DROP TRIGGER audit_log_no_update",
                "DROP TRIGGER audit_log_no_delete",
            ]
        } else {
            vec!["DROP TRIGGER audit_log_no_change ON audit_log"]
        };
        for sql in drop_guard {
            sqlx::query(sql).execute(app.store.pool()).await.unwrap();
        }
        sqlx::query("UPDATE audit_log SET outcome = 'denied' WHERE seq = 12")
            .execute(app.store.pool())
            .await
            .unwrap();
        match verify(&app.store, &vk, 7).await.unwrap() {
            Verified::Failed { error, .. } => {
                assert_eq!(error, VerifyError::Altered { seq: 12 }, "{}", db.name);
            }
            Verified::Ok(_) => panic!("edit not detected"),
        }
        sqlx::query("UPDATE audit_log SET outcome = 'success' WHERE seq = 12")
            .execute(app.store.pool())
            .await
            .unwrap();
        // Truncating the tail below the checkpoint.
        sqlx::query("DELETE FROM audit_log WHERE seq > $1")
            .bind(cp - 3)
            .execute(app.store.pool())
            .await
            .unwrap();
        match verify(&app.store, &vk, 7).await.unwrap() {
            Verified::Failed { error, .. } => {
                assert!(matches!(error, VerifyError::Truncated { .. }), "{error}");
                assert_eq!(error.first_bad_seq(), cp - 2);
            }
            Verified::Ok(_) => panic!("truncation not detected"),
        }
        db.cleanup().await;
    }
}

#[tokio::test]
async fn demo_seed_creates_every_role_and_reseeds_passwords() {
    for Env { app, db, .. } in envs().await {
        let logins = app.seed_demo().await.unwrap();
        assert_eq!(logins.len(), Role::ALL.len());
        for r in Role::ALL {
            assert!(logins.iter().any(|l| l.role == r), "{r}");
        }
        let anon = Ctx::anonymous("127.0.0.1");
        let staff = logins.iter().find(|l| l.role == Role::Staff).unwrap();
        assert!(app
            .login(&anon, &staff.login, &staff.password, "t")
            .await
            .is_ok());
        let again = app.seed_demo().await.unwrap();
        assert_eq!(again.len(), logins.len(), "{}", db.name);
        assert_ne!(again[0].password, logins[0].password);
        assert_eq!(app.store.list_companies().await.unwrap().len(), 2);
        db.cleanup().await;
    }
}

/// Closing the store while the application (and its audit writer, which keeps a connection)
/// is alive returns: the writer's connection is detached from the pool. It used to wait
/// forever, which hung a test run now and then.
#[tokio::test]
async fn closing_the_store_does_not_wait_for_the_audit_writer() {
    for db in TestDb::all().await {
        let keys = Keys::load_or_create(&temp_dir("close").join("k"), true).unwrap();
        let (app, _writer) = App::new(
            db.store.clone(),
            keys,
            Arc::new(ManualClock::new(0)),
            Settings::default(),
        );
        app.audit(
            &Ctx::local(),
            "test.close",
            "-",
            Outcome::Success,
            serde_json::json!({}),
        )
        .await
        .unwrap();
        let name = db.name;
        let closed = tokio::time::timeout(std::time::Duration::from_mins(1), db.cleanup()).await;
        assert!(
            closed.is_ok(),
            "{name}: closing the store waited for the audit writer"
        );
        drop(app);
    }
}
