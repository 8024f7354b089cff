//! The store test suite. Every test runs the same body on SQLite and on PostgreSQL.

use mamori_domain::audit::{sign_checkpoint, AuditRecord, ChainVerifier, Outcome};
use mamori_domain::role::Role;
use mamori_store::audit::AuditFilter;
use mamori_store::sessions::{SessionRow, Stage};
use mamori_store::testing::TestDb;
use mamori_store::users::NewUser;
use mamori_store::{Store, StoreError};

fn rec(i: i64, actor: &str, outcome: Outcome) -> AuditRecord {
    AuditRecord {
        at_micros: 1_000_000 * i,
        actor_id: None,
        actor: actor.into(),
        ip: "127.0.0.1".into(),
        action: if i % 2 == 0 {
            "GET /audit".into()
        } else {
            "auth.login".into()
        },
        target: format!("user:{i}"),
        outcome,
        detail: "{}".into(),
        company_id: None,
    }
}

async fn company_with_user(s: &Store) -> (i64, i64, i64) {
    let c = s
        .create_company("sample", "株式会社サンプル", 1)
        .await
        .unwrap();
    let d = s.create_department(c, None, "経営戦略室", 1).await.unwrap();
    let u = s
        .create_user(
            &NewUser {
                company_id: c,
                department_id: d,
                login: "sato",
                display_name: "佐藤 花子",
                email: "sato@example.jp",
                password_hash: "$argon2id$x",
                roles: &[Role::Staff, Role::Auditor],
                locale: "ja",
            },
            1,
        )
        .await
        .unwrap();
    (c, d, u)
}

#[tokio::test]
async fn organisation_and_users() {
    for db in TestDb::all().await {
        let s = &db.store;
        let (c, d, u) = company_with_user(s).await;
        let child = s
            .create_department(c, Some(d), "システム部", 2)
            .await
            .unwrap();
        let depts = s.list_departments(c).await.unwrap();
        assert_eq!(depts.len(), 2, "{}", db.name);
        assert_eq!(depts[1].parent_id, Some(d));
        s.update_department(child, Some(d), "情報システム部")
            .await
            .unwrap();
        assert_eq!(
            s.get_department(child).await.unwrap().name,
            "情報システム部"
        );
        assert_eq!(
            s.department_and_company_names(child).await.unwrap(),
            ("情報システム部".to_owned(), "株式会社サンプル".to_owned())
        );

        let user = s.get_user(u).await.unwrap();
        assert_eq!(user.display_name, "佐藤 花子");
        assert!(user.roles.contains(Role::Auditor));
        assert!(
            !format!("{user:?}").contains("example.jp"),
            "Debug hides the e-mail"
        );
        let dup = s
            .create_user(
                &NewUser {
                    company_id: c,
                    department_id: d,
                    login: "sato",
                    display_name: "別人",
                    email: "x@example.jp",
                    password_hash: "h",
                    roles: &[],
                    locale: "ja",
                },
                1,
            )
            .await;
        assert!(
            matches!(dup, Err(StoreError::Conflict("login name"))),
            "{}",
            db.name
        );
        s.set_user_roles(u, &[Role::Admin]).await.unwrap();
        assert_eq!(
            s.get_user(u)
                .await
                .unwrap()
                .roles
                .iter()
                .collect::<Vec<_>>(),
            vec![Role::Admin]
        );
        s.set_disabled(u, true, 3).await.unwrap();
        assert!(
            s.find_user_by_login("sato")
                .await
                .unwrap()
                .unwrap()
                .disabled
        );
        assert_eq!(s.list_users(Some(c)).await.unwrap().len(), 1);
        assert_eq!(s.list_users(Some(c + 100)).await.unwrap().len(), 0);
        assert!(matches!(s.get_user(999).await, Err(StoreError::NotFound)));

        assert!(s.use_totp_step(u, 10).await.unwrap());
        assert!(
            !s.use_totp_step(u, 10).await.unwrap(),
            "a step is used once"
        );
        assert!(s.use_totp_step(u, 11).await.unwrap());
        db.cleanup().await;
    }
}

#[tokio::test]
async fn sessions_and_throttling() {
    for db in TestDb::all().await {
        let s = &db.store;
        let (_, _, u) = company_with_user(s).await;
        let row = SessionRow {
            token_hash: "h1".into(),
            user_id: u,
            csrf_token: "c1".into(),
            stage: Stage::Totp,
            created_at: 100,
            last_seen_at: 100,
        };
        s.create_session(&row, "127.0.0.1", "test").await.unwrap();
        assert_eq!(s.get_session("h1").await.unwrap(), Some(row.clone()));
        s.touch_session("h1", 200).await.unwrap();
        assert_eq!(
            s.get_session("h1").await.unwrap().unwrap().last_seen_at,
            200
        );
        assert_eq!(s.purge_sessions(150, 0).await.unwrap(), 0);
        assert_eq!(s.purge_sessions(250, 0).await.unwrap(), 1);
        assert_eq!(s.get_session("h1").await.unwrap(), None);

        for t in [10, 20, 30] {
            s.record_login_failure("account", "sato", t).await.unwrap();
        }
        s.record_login_failure("ip", "127.0.0.1", 30).await.unwrap();
        assert_eq!(
            s.login_failures_since("account", "sato", 15).await.unwrap(),
            (2, Some(30))
        );
        assert_eq!(
            s.login_failures_since("account", "nobody", 0)
                .await
                .unwrap(),
            (0, None)
        );
        s.clear_login_failures("account", "sato").await.unwrap();
        assert_eq!(
            s.login_failures_since("account", "sato", 0)
                .await
                .unwrap()
                .0,
            0
        );
        assert_eq!(s.purge_login_failures(100).await.unwrap(), 1);
        db.cleanup().await;
    }
}

#[tokio::test]
async fn audit_chain_appends_searches_and_verifies() {
    let key = ed25519_dalek::SigningKey::from_bytes(&[3u8; 32]);
    for db in TestDb::all().await {
        let s = &db.store;
        let seqs = s
            .append_audit((1..=5).map(|i| rec(i, "sato", Outcome::Success)).collect())
            .await
            .unwrap();
        assert_eq!(seqs, vec![1, 2, 3, 4, 5], "{}", db.name);
        let more = s
            .append_audit(vec![
                rec(6, "tanaka", Outcome::Denied),
                rec(7, "sato", Outcome::Failure),
            ])
            .await
            .unwrap();
        assert_eq!(more, vec![6, 7]);
        let (last, hash) = s.audit_head().await.unwrap();
        assert_eq!(last, 7);
        s.insert_checkpoint(&sign_checkpoint(&key, last, &hash, 9))
            .await
            .unwrap();

        let all = s.audit_page(0, 100, None, None).await.unwrap();
        let vk = key.verifying_key();
        let mut v = ChainVerifier::new(&vk, s.list_checkpoints().await.unwrap());
        for e in &all {
            v.push(e).unwrap();
        }
        assert_eq!(v.finish().unwrap().entries, 7);

        let denied = s
            .search_audit(
                &AuditFilter {
                    outcome: Some(Outcome::Denied),
                    ..Default::default()
                },
                50,
            )
            .await
            .unwrap();
        assert_eq!(denied.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![6]);
        let by_actor = s
            .search_audit(
                &AuditFilter {
                    actor: Some("sato".into()),
                    ..Default::default()
                },
                50,
            )
            .await
            .unwrap();
        assert_eq!(by_actor.len(), 6);
        assert_eq!(by_actor[0].seq, 7, "newest first");
        let action = s
            .search_audit(
                &AuditFilter {
                    action: Some("LOGIN".into()),
                    ..Default::default()
                },
                50,
            )
            .await
            .unwrap();
        assert_eq!(action.len(), 4, "case-insensitive substring");
        let wild = s
            .search_audit(
                &AuditFilter {
                    target: Some("%".into()),
                    ..Default::default()
                },
                50,
            )
            .await
            .unwrap();
        assert!(wild.is_empty(), "LIKE wildcards in input are literal");
        let window = s
            .search_audit(
                &AuditFilter {
                    since: Some(2_000_000),
                    until: Some(4_000_000),
                    ..Default::default()
                },
                50,
            )
            .await
            .unwrap();
        assert_eq!(window.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![3, 2]);
        let page = s
            .search_audit(
                &AuditFilter {
                    before_seq: Some(3),
                    ..Default::default()
                },
                50,
            )
            .await
            .unwrap();
        assert_eq!(page.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![2, 1]);
        let exported = s
            .audit_page(0, 100, Some(3_000_000), Some(6_000_000))
            .await
            .unwrap();
        assert_eq!(
            exported.iter().map(|e| e.seq).collect::<Vec<_>>(),
            vec![3, 4, 5]
        );

        // The application cannot rewrite history.
        let upd = sqlx::query("UPDATE audit_log SET actor = 'x' WHERE seq = 1")
            .execute(s.pool())
            .await;
        assert!(upd.is_err(), "{}: update must be refused", db.name);
        let del = sqlx::query("DELETE FROM audit_log WHERE seq = 7")
            .execute(s.pool())
            .await;
        assert!(del.is_err(), "{}: delete must be refused", db.name);
        db.cleanup().await;
    }
}

#[tokio::test]
async fn concurrent_appends_keep_one_chain() {
    for db in TestDb::all().await {
        let mut tasks = Vec::new();
        for t in 0..8 {
            let s = db.store.clone();
            tasks.push(tokio::spawn(async move {
                for i in 0..20 {
                    s.append_audit(vec![rec(t * 100 + i, "p", Outcome::Success)])
                        .await
                        .unwrap();
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        let all = db.store.audit_page(0, 1000, None, None).await.unwrap();
        assert_eq!(all.len(), 160, "{}", db.name);
        let key = ed25519_dalek::SigningKey::from_bytes(&[1u8; 32]);
        let vk = key.verifying_key();
        let mut v = ChainVerifier::new(&vk, vec![]);
        for e in &all {
            v.push(e).unwrap();
        }
        db.cleanup().await;
    }
}

#[tokio::test]
async fn jobs_and_schedules_are_claimed_once() {
    for db in TestDb::all().await {
        let s = &db.store;
        let id = s.enqueue_job("mail", "{}", 10, 1).await.unwrap();
        assert_eq!(
            s.claim_job("w1", 5, 100).await.unwrap(),
            None,
            "not due yet"
        );
        let j = s.claim_job("w1", 10, 100).await.unwrap().unwrap();
        assert_eq!((j.id, j.attempts), (id, 1));
        assert_eq!(
            s.claim_job("w2", 50, 150).await.unwrap(),
            None,
            "leased to w1"
        );
        let again = s.claim_job("w2", 101, 200).await.unwrap().unwrap();
        assert_eq!(again.attempts, 2, "lease expired: claimed again");
        s.fail_job(id, "smtp down", 300).await.unwrap();
        assert_eq!(s.claim_job("w1", 250, 400).await.unwrap(), None);
        s.complete_job(id, 301).await.unwrap();
        assert_eq!(s.pending_jobs().await.unwrap(), 0);

        s.ensure_schedule("audit.checkpoint", 60, 0).await.unwrap();
        assert_eq!(
            s.claim_due_schedules("a", 10).await.unwrap(),
            vec!["audit.checkpoint"]
        );
        assert!(s.claim_due_schedules("b", 20).await.unwrap().is_empty());
        assert_eq!(
            s.schedule_last_run("audit.checkpoint").await.unwrap(),
            Some(("a".into(), 10))
        );
        db.cleanup().await;
    }
}

#[tokio::test]
async fn settings_and_missing_files() {
    for db in TestDb::all().await {
        db.store.set_setting("demo", "1").await.unwrap();
        db.store.set_setting("demo", "2").await.unwrap();
        assert_eq!(
            db.store.get_setting("demo").await.unwrap().as_deref(),
            Some("2")
        );
        assert_eq!(db.store.get_setting("none").await.unwrap(), None);
        db.cleanup().await;
    }
    let missing = mamori_store::testing::temp_dir("missing").join("typo/mamori.db");
    let err = Store::connect(&format!("sqlite://{}", missing.display()), false)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Missing(_)), "{err}");
    assert!(!missing.exists(), "nothing is created on a typo'd path");
    assert!(matches!(
        Store::connect("mysql://x", true).await,
        Err(StoreError::BadUrl(_))
    ));
}

/// Issue 12, item 4: every write path (bound groups of 32 and the JSON remainder through the
/// pool, the audit writer's own connection) stores the company and the canonical form, every
/// read path (search, pages, the fast chunked reader) returns them, and the company filter
/// keeps to one company.
#[tokio::test]
async fn audit_entries_keep_their_company_on_every_path() {
    for db in TestDb::all().await {
        let s = &db.store;
        let company = |i: i64| match i % 3 {
            0 => None,
            1 => Some(1),
            _ => Some(2),
        };
        let batch: Vec<AuditRecord> = (1..=40)
            .map(|i| AuditRecord {
                company_id: company(i),
                ..rec(i, "sato", Outcome::Success)
            })
            .collect();
        s.append_audit(batch).await.unwrap();
        let mut conn = mamori_store::audit::WriterConnection::default();
        let more: Vec<AuditRecord> = (41..=45)
            .map(|i| AuditRecord {
                company_id: company(i),
                ..rec(i, "sato", Outcome::Success)
            })
            .collect();
        s.append_audit_kept(&mut conn, &more).await.unwrap();
        let all = s.audit_page(0, 100, None, None).await.unwrap();
        assert_eq!(all.len(), 45);
        for e in &all {
            assert_eq!(
                e.record.company_id,
                company(e.seq),
                "{}: {}",
                db.name,
                e.seq
            );
            assert_eq!(e.form, mamori_domain::audit::CURRENT_FORM);
        }
        let (tx, mut rx) = tokio::sync::mpsc::channel(4);
        let reader = {
            let s = s.clone();
            tokio::spawn(async move { s.audit_chunks(7, tx).await })
        };
        let mut chunked = Vec::new();
        while let Some(c) = rx.recv().await {
            chunked.extend(c);
        }
        reader.await.unwrap().unwrap();
        assert_eq!(chunked, all, "{}", db.name);
        let key = ed25519_dalek::SigningKey::from_bytes(&[1u8; 32]);
        let vk = key.verifying_key();
        let mut v = ChainVerifier::new(&vk, vec![]);
        for e in &all {
            v.push(e).unwrap();
        }
        let of_two = s
            .search_audit(
                &AuditFilter {
                    company: Some(2),
                    ..Default::default()
                },
                100,
            )
            .await
            .unwrap();
        assert_eq!(of_two.len(), 15);
        assert!(of_two.iter().all(|e| e.record.company_id == Some(2)));
        let page = s.audit_page_of(0, 100, None, None, Some(1)).await.unwrap();
        assert_eq!(page.len(), 15);
        assert!(page.iter().all(|e| e.record.company_id == Some(1)));
        db.cleanup().await;
    }
}
