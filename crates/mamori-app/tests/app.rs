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
        let n = export(&app.store, None, None, None, &mut out)
            .await
            .unwrap();
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

/// A company with a department and a user holding `roles` in it; returns (company, ctx).
async fn member(app: &App, company: &str, login: &str, roles: &[Role]) -> (i64, Ctx) {
    let ctx = Ctx::local();
    let id = match app
        .store
        .list_companies()
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.code == company)
    {
        Some(c) => c.id,
        None => app
            .create_company(&ctx, company, "試験株式会社")
            .await
            .unwrap(),
    };
    let dept = match app.store.list_departments(id).await.unwrap().first() {
        Some(d) => d.id,
        None => app.create_department(&ctx, id, None, "本社").await.unwrap(),
    };
    let (uid, _) = app
        .create_user(
            &ctx,
            &UserInput {
                company_id: Some(id),
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
        .unwrap();
    let user = app.store.get_user(uid).await.unwrap();
    (id, Ctx::user(user, "127.0.0.1"))
}

/// Issue 12, item 4: an auditor reads the own company's entries only (search and export);
/// an auditor who also holds the group headquarters role reads every company's, and the
/// entries of no company.
#[tokio::test]
async fn auditors_read_their_own_company_and_group_auditors_the_group() {
    for Env { app, db, .. } in envs().await {
        let (a, a_staff) = member(&app, "a-co", "a_staff", &[Role::Staff]).await;
        let (_, a_auditor) = member(&app, "a-co", "a_audit", &[Role::Auditor]).await;
        let (b, b_staff) = member(&app, "b-co", "b_staff", &[Role::Staff]).await;
        let (_, b_auditor) = member(&app, "b-co", "b_audit", &[Role::Auditor]).await;
        let (_, group) = member(&app, "a-co", "g_audit", &[Role::Auditor, Role::GroupHq]).await;
        let (_, hq) = member(&app, "a-co", "hq_only", &[Role::GroupHq]).await;
        for (ctx, action) in [(&a_staff, "test.a"), (&b_staff, "test.b")] {
            app.audit(ctx, action, "x", Outcome::Success, serde_json::json!({}))
                .await
                .unwrap();
        }
        app.audit(
            &Ctx::anonymous("10.0.0.9"),
            "test.anon",
            "x",
            Outcome::Failure,
            serde_json::json!({}),
        )
        .await
        .unwrap();
        let f = AuditFilter {
            action: Some("test.".into()),
            ..Default::default()
        };
        let actions = |v: Vec<mamori_domain::audit::AuditEntry>| {
            let mut a: Vec<String> = v.into_iter().map(|e| e.record.action).collect();
            a.sort();
            a
        };
        let seen = app.search_audit(&a_auditor, &f, 50).await.unwrap();
        assert!(seen.iter().all(|e| e.record.company_id == Some(a)));
        assert_eq!(actions(seen), vec!["test.a"], "{}", db.name);
        assert_eq!(
            actions(app.search_audit(&b_auditor, &f, 50).await.unwrap()),
            vec!["test.b"]
        );
        // Asking for the other company changes nothing for a company auditor.
        let other = AuditFilter {
            company: Some(b),
            ..f.clone()
        };
        assert_eq!(
            actions(app.search_audit(&a_auditor, &other, 50).await.unwrap()),
            vec!["test.a"]
        );
        assert_eq!(
            actions(app.search_audit(&group, &f, 50).await.unwrap()),
            vec!["test.a", "test.anon", "test.b"]
        );
        assert_eq!(
            actions(app.search_audit(&group, &other, 50).await.unwrap()),
            vec!["test.b"]
        );
        assert!(matches!(
            app.search_audit(&hq, &f, 50).await,
            Err(AppError::Denied)
        ));
        // The export has the same scope, and is itself recorded.
        let exported = |out: Vec<u8>| -> Vec<serde_json::Value> {
            out.split(|b| *b == b'\n')
                .filter(|l| !l.is_empty())
                .map(|l| serde_json::from_slice(l).unwrap())
                .collect()
        };
        let mut out = Vec::new();
        app.export_audit(&b_auditor, None, None, Some(a), &mut out)
            .await
            .unwrap();
        let lines = exported(out);
        assert!(lines.iter().any(|e| e["action"] == "test.b"));
        assert!(
            lines.iter().all(|e| e["company_id"] == b),
            "{}: {lines:?}",
            db.name
        );
        assert!(lines.iter().all(|e| e["form"] == 2));
        let mut out = Vec::new();
        app.export_audit(&group, None, None, None, &mut out)
            .await
            .unwrap();
        let lines = exported(out);
        for action in ["test.a", "test.b", "test.anon"] {
            assert!(lines.iter().any(|e| e["action"] == action), "{action}");
        }
        assert!(matches!(
            app.export_audit(&a_staff, None, None, None, &mut Vec::new())
                .await,
            Err(AppError::Denied)
        ));
        assert_eq!(
            app.search_audit(
                &b_auditor,
                &AuditFilter {
                    action: Some("audit.export".into()),
                    ..Default::default()
                },
                10
            )
            .await
            .unwrap()
            .len(),
            1
        );
        // A failed login on a company's account is in that company's log, although nobody
        // was logged in: its auditor sees the attempts on its people, the other does not.
        assert!(app
            .login(
                &Ctx::anonymous("10.0.0.9"),
                "b_staff",
                "not the password",
                "ua"
            )
            .await
            .is_err());
        let logins = AuditFilter {
            action: Some("auth.login".into()),
            ..Default::default()
        };
        let failed = |v: Vec<mamori_domain::audit::AuditEntry>| {
            v.iter()
                .filter(|e| matches!(e.record.outcome, Outcome::Failure))
                .count()
        };
        assert_eq!(
            failed(app.search_audit(&b_auditor, &logins, 10).await.unwrap()),
            1,
            "{}",
            db.name
        );
        assert_eq!(
            failed(app.search_audit(&a_auditor, &logins, 10).await.unwrap()),
            0
        );
        let vk = app.keys.verifying_key();
        assert!(matches!(
            verify(&app.store, &vk, 5).await.unwrap(),
            Verified::Ok(_)
        ));
        db.cleanup().await;
    }
}

/// Issue 12, item 4: the upgrade on real data. Entries written by the old release (canonical
/// form 1, no company column) are given their actor's company by migration 0010 and still
/// verify, with their checkpoint, beside the entries written after it (form 2).
#[tokio::test]
async fn audit_entries_written_before_the_company_migration_still_verify() {
    use mamori_domain::audit::{entry_hash_in, sign_checkpoint, AuditRecord, FORM_1, GENESIS_HASH};
    for db in TestDb::all_at(8).await {
        let s = &db.store;
        // The old release's data, in its columns: a company, a department, a user.
        for sql in [
            "INSERT INTO companies (id, code, name, created_at) VALUES (5, 'old-co', '旧株式会社', 1)",
            "INSERT INTO departments (id, company_id, parent_id, name, created_at) \
             VALUES (6, 5, NULL, '本社', 1)",
            "INSERT INTO users (id, company_id, department_id, login, display_name, email, \
             password_hash, created_at, updated_at) \
             VALUES (7, 5, 6, 'olduser', '旧 利用者', 'old@example.jp', '$argon2id$x', 1, 1)",
            "INSERT INTO user_roles (user_id, role) VALUES (7, 'auditor')",
        ] {
            sqlx::query(sql).execute(s.pool()).await.unwrap();
        }
        let keys = Keys::load_or_create(&temp_dir("keys").join("k"), true).unwrap();
        let mut prev = GENESIS_HASH.to_owned();
        for seq in 1..=4_i64 {
            let r = AuditRecord {
                at_micros: T0 + seq,
                actor_id: (seq % 2 == 1).then_some(7),
                actor: if seq % 2 == 1 { "olduser" } else { "-" }.into(),
                ip: "127.0.0.1".into(),
                action: "old.event".into(),
                target: format!("n:{seq}"),
                outcome: Outcome::Success,
                detail: "{}".into(),
                company_id: None,
            };
            let hash = entry_hash_in(FORM_1, &prev, seq, &r).unwrap();
            sqlx::query(
                "INSERT INTO audit_log (seq, at, actor_id, actor, ip, action, target, outcome, \
                 detail, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            )
            .bind(seq)
            .bind(r.at_micros)
            .bind(r.actor_id)
            .bind(r.actor.as_str())
            .bind(r.ip.as_str())
            .bind(r.action.as_str())
            .bind(r.target.as_str())
            .bind(r.outcome.code())
            .bind(r.detail.as_str())
            .bind(prev.as_str())
            .bind(hash.as_str())
            .execute(s.pool())
            .await
            .unwrap();
            prev = hash;
        }
        sqlx::query("UPDATE audit_head SET last_seq = 4, last_hash = $1 WHERE id = 1")
            .bind(prev.as_str())
            .execute(s.pool())
            .await
            .unwrap();
        s.insert_checkpoint(&sign_checkpoint(&keys.signing_key(), 4, &prev, T0 + 5))
            .await
            .unwrap();

        s.migrate().await.unwrap();
        let old = s.audit_page(0, 10, None, None).await.unwrap();
        assert!(old.iter().all(|e| e.form == FORM_1), "{}", db.name);
        let companies: Vec<Option<i64>> = old.iter().map(|e| e.record.company_id).collect();
        assert_eq!(companies, vec![Some(5), None, Some(5), None], "{}", db.name);

        let clock = Arc::new(ManualClock::new(T0 + 10));
        let (app, _writer) = App::new(s.clone(), keys, clock, Settings::default());
        let vk = app.keys.verifying_key();
        let Verified::Ok(sum) = verify(s, &vk, 3).await.unwrap() else {
            panic!(
                "{}: entries of the old release must verify after the upgrade",
                db.name
            )
        };
        assert_eq!((sum.entries, sum.checkpoints), (4, 1));
        let auditor = Ctx::user(s.get_user(7).await.unwrap(), "127.0.0.1");
        app.audit(
            &auditor,
            "new.event",
            "n:5",
            Outcome::Success,
            serde_json::json!({}),
        )
        .await
        .unwrap();
        app.checkpoint_audit().await.unwrap();
        let all = s.audit_page(0, 10, None, None).await.unwrap();
        assert_eq!(all[4].form, mamori_domain::audit::CURRENT_FORM);
        assert_eq!(all[4].record.company_id, Some(5));
        let Verified::Ok(sum) = verify(s, &vk, 2).await.unwrap() else {
            panic!("{}: old and new entries together must verify", db.name)
        };
        assert_eq!((sum.entries, sum.checkpoints), (5, 2));
        // The company auditor finds the old entries of the company through the backfill.
        let seen = app
            .search_audit(&auditor, &AuditFilter::default(), 50)
            .await
            .unwrap();
        assert_eq!(
            seen.iter().map(|e| e.seq).collect::<Vec<_>>(),
            vec![5, 3, 1],
            "{}",
            db.name
        );
        db.cleanup().await;
    }
}

/// Issue 12, item 13: each checkpoint is appended to the checkpoint file (0600, one JSON line);
/// a database tail rewritten with a valid chain (and its checkpoints deleted) verifies against
/// the database alone but not against the file.
#[tokio::test]
async fn a_rewritten_tail_is_found_by_the_checkpoint_file() {
    for db in TestDb::all().await {
        let dir = temp_dir("cpfile");
        let file = dir.join("checkpoints.jsonl");
        let clock = Arc::new(ManualClock::new(T0));
        let keys = Keys::load_or_create(&dir.join("keys"), true).unwrap();
        let settings = Settings {
            checkpoint_file: Some(file.clone()),
            ..Settings::default()
        };
        let (app, _writer) = App::new(db.store.clone(), keys, clock.clone(), settings);
        let ctx = Ctx::local();
        let event = |i: i64| {
            let app = app.clone();
            let ctx = ctx.clone();
            async move {
                app.audit(
                    &ctx,
                    "test.event",
                    &format!("n:{i}"),
                    Outcome::Success,
                    serde_json::json!({}),
                )
                .await
                .unwrap()
            }
        };
        for i in 1..=6 {
            event(i).await;
        }
        assert_eq!(app.checkpoint_audit().await.unwrap(), Some(6));
        for i in 7..=10 {
            event(i).await;
        }
        assert_eq!(app.checkpoint_audit().await.unwrap(), Some(10));
        let text = std::fs::read_to_string(&file).unwrap();
        assert_eq!(text.lines().count(), 2);
        let external = mamori_app::audit::read_checkpoints(&text).unwrap();
        assert_eq!(
            external.iter().map(|c| c.seq).collect::<Vec<_>>(),
            vec![6, 10]
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        let vk = app.keys.verifying_key();
        assert!(matches!(
            mamori_app::audit::verify_with(&db.store, &vk, 4, external.clone())
                .await
                .unwrap(),
            Verified::Ok(_)
        ));

        // Somebody with the database rewrites entries 8.. with a valid chain and removes the
        // checkpoint that covered them.
        let s = app.store.clone();
        let drop_guard = if db.name == "sqlite" {
            vec![
                "DROP TRIGGER audit_log_no_update",
                "DROP TRIGGER audit_log_no_delete",
            ]
        } else {
            vec!["DROP TRIGGER audit_log_no_change ON audit_log"]
        };
        for sql in drop_guard {
            sqlx::query(sql).execute(s.pool()).await.unwrap();
        }
        let kept = s.audit_page(0, 7, None, None).await.unwrap();
        let head = kept.last().unwrap().clone();
        for sql in [
            "DELETE FROM audit_log WHERE seq > 7",
            "DELETE FROM audit_checkpoints WHERE seq > 7",
        ] {
            sqlx::query(sql).execute(s.pool()).await.unwrap();
        }
        sqlx::query("UPDATE audit_head SET last_seq = $1, last_hash = $2 WHERE id = 1")
            .bind(head.seq)
            .bind(head.hash.as_str())
            .execute(s.pool())
            .await
            .unwrap();
        let mut forged = head.record.clone();
        forged.target = "n:forged".into();
        s.append_audit(vec![forged.clone(), forged.clone(), forged])
            .await
            .unwrap();
        assert!(
            matches!(verify(&s, &vk, 4).await.unwrap(), Verified::Ok(_)),
            "{}: the database alone cannot tell",
            db.name
        );
        match mamori_app::audit::verify_with(&s, &vk, 4, external)
            .await
            .unwrap()
        {
            Verified::Failed { error, .. } => assert!(
                matches!(error, VerifyError::CheckpointMismatch { seq: 10, .. }),
                "{}: {error}",
                db.name
            ),
            Verified::Ok(_) => panic!("{}: the rewritten tail must be found", db.name),
        }
        db.cleanup().await;
    }
}

/// Issue 12, item 13: with `checkpoint_url`, each checkpoint is queued as a job and POSTed;
/// `checkpoint_lag` reports entries that waited more than twice the interval.
#[tokio::test]
async fn checkpoints_are_sent_to_the_url_and_a_stalled_checkpoint_is_reported() {
    use axum::http::StatusCode;
    use mamori_app::clock::Clock;
    for db in TestDb::all().await {
        let got: Arc<std::sync::Mutex<Vec<String>>> = Arc::default();
        let sink = got.clone();
        let fail_first = Arc::new(std::sync::atomic::AtomicBool::new(true));
        let router = axum::Router::new().route(
            "/cp",
            axum::routing::post(move |body: String| {
                let sink = sink.clone();
                let fail_first = fail_first.clone();
                async move {
                    if fail_first.swap(false, std::sync::atomic::Ordering::SeqCst) {
                        return StatusCode::SERVICE_UNAVAILABLE;
                    }
                    sink.lock().unwrap().push(body);
                    StatusCode::NO_CONTENT
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        let clock = Arc::new(ManualClock::new(T0));
        let keys = Keys::load_or_create(&temp_dir("keys").join("k"), true).unwrap();
        let settings = Settings {
            checkpoint_url: Some(format!("http://{addr}/cp")),
            checkpoint_interval_secs: 60,
            ..Settings::default()
        };
        let (app, _writer) = App::new(db.store.clone(), keys, clock.clone(), settings);
        app.audit(
            &Ctx::local(),
            "test.event",
            "n:1",
            Outcome::Success,
            serde_json::json!({}),
        )
        .await
        .unwrap();
        // Nothing waits long yet; after three intervals without a checkpoint it is reported.
        let lag = |now| mamori_app::audit::checkpoint_lag(&app.store, now, 60);
        assert_eq!(lag(clock.now_micros()).await.unwrap(), None);
        clock.advance_secs(180);
        assert_eq!(lag(clock.now_micros()).await.unwrap(), Some(180));
        let seq = app.checkpoint_audit().await.unwrap().unwrap();
        assert_eq!(lag(clock.now_micros()).await.unwrap(), None);
        // The first attempt meets a 503 and stays queued; the retry delivers it.
        app.work_once("t", &App::job_handlers()).await.unwrap();
        assert!(got.lock().unwrap().is_empty());
        clock.advance_secs(3600);
        app.work_once("t", &App::job_handlers()).await.unwrap();
        let bodies = got.lock().unwrap().clone();
        assert_eq!(bodies.len(), 1, "{}", db.name);
        let c: mamori_domain::audit::Checkpoint = serde_json::from_str(&bodies[0]).unwrap();
        assert_eq!(c.seq, seq);
        assert_eq!(db.store.pending_jobs().await.unwrap(), 0);
        server.abort();
        db.cleanup().await;
    }
}
