//! The ledger and the vault against real databases (SQLite and PostgreSQL): ledger scope and
//! CSV round trip, the vault's import (encodings, mapping, refused rows, resume, rollback),
//! lookup through the blind index, grants that expire and are revoked, reveal and export in the
//! audit log, retention, erasure, key rotation, a wrong master key, an undecryptable row, and no
//! personal value in plaintext anywhere in the database files.

use mamori_app::admin::UserInput;
use mamori_app::clock::ManualClock;
use mamori_app::keys::Keys;
use mamori_app::vault::{LookupBy, VaultOpenError};
use mamori_app::vault_import::ImportOptions;
use mamori_app::vault_keys::{FileKeyProvider, KeyProvider};
use mamori_app::{App, AppError, Ctx, Settings};
use mamori_domain::appi::item::Item;
use mamori_domain::ledger::DatasetInput;
use mamori_domain::role::Role;
use mamori_domain::vault::{GrantRequest, RetentionAction, RetentionRule};
use mamori_store::audit::AuditFilter;
use mamori_store::testing::{temp_dir, TestDb};
use std::sync::Arc;

// 2026-11-24T01:00:00Z = 2026-11-24 10:00 JST.
const T0: i64 = 1_795_482_000_000_000;
const HOUR: i64 = 3_600_000_000;

struct Env {
    app: App,
    clock: Arc<ManualClock>,
    db: TestDb,
    key_dir: std::path::PathBuf,
    sales: i64,
    sys: i64,
    staff: Ctx,
    staff_id: i64,
    head_sales: Ctx,
    privacy: Ctx,
    custodian: Ctx,
    auditor: Ctx,
}

async fn person(app: &App, company: i64, dept: i64, login: &str, role: Role) -> Ctx {
    let (id, _) = app
        .create_user(
            &Ctx::local(),
            &UserInput {
                company_id: Some(company),
                department_id: dept,
                login: login.into(),
                display_name: format!("{login} さん"),
                email: format!("{login}@example.co.jp"),
                roles: vec![role],
                password: Some("correct horse battery".into()),
                locale: "ja".into(),
            },
        )
        .await
        .unwrap();
    Ctx::user(app.store.get_user(id).await.unwrap(), "10.0.0.9")
}

/// Aborts the whole test process if it runs far longer than it should, so that a hang fails
/// in minutes with a message instead of holding CI until its time limit.
fn watchdog() {
    static STARTED: std::sync::Once = std::sync::Once::new();
    STARTED.call_once(|| {
        std::thread::spawn(|| {
            std::thread::sleep(std::time::Duration::from_mins(10));
            eprintln!("tests/vault.rs: still running after 10 minutes; aborting (a hang)");
            std::process::abort();
        });
    });
}

async fn envs() -> Vec<Env> {
    watchdog();
    let mut out = Vec::new();
    for db in TestDb::all().await {
        let clock = Arc::new(ManualClock::new(T0));
        let key_dir = temp_dir("keys").join("k");
        let keys = Keys::load_or_create(&key_dir, true).unwrap();
        let (app, _writer) = App::new(db.store.clone(), keys, clock.clone(), Settings::default());
        app.open_vault_default(true).await.unwrap();
        let l = Ctx::local();
        let co = app
            .create_company(&l, "mirai", "株式会社みらい通販")
            .await
            .unwrap();
        let hq = app.create_department(&l, co, None, "本社").await.unwrap();
        let sales = app
            .create_department(&l, co, Some(hq), "営業部")
            .await
            .unwrap();
        let sys = app
            .create_department(&l, co, Some(hq), "システム部")
            .await
            .unwrap();
        let staff = person(&app, co, sales, "yamada", Role::Staff).await;
        let staff_id = staff.actor_id().unwrap();
        out.push(Env {
            head_sales: person(&app, co, sales, "suzuki", Role::DepartmentHead).await,
            privacy: person(&app, co, sys, "tanaka", Role::PrivacyOffice).await,
            custodian: person(&app, co, sys, "kobayashi", Role::Custodian).await,
            auditor: person(&app, co, hq, "kato", Role::Auditor).await,
            staff,
            staff_id,
            app,
            clock,
            db,
            key_dir,
            sales,
            sys,
        });
    }
    out
}

fn entry(name: &str, dept: i64) -> DatasetInput {
    DatasetInput {
        name: name.into(),
        department_id: dept,
        items: vec![Item::Name, Item::Email],
        persons: Some(1000),
        purpose: "商品の発送とお問い合わせ対応".into(),
        ..DatasetInput::default()
    }
}

const SCHEMA: &str = "name:name, kana:kana_name, email:email, phone:phone, zip:postal_code, \
    address:address, birth:birth_date, shipped:date, token:payment_token, password:password_hash";

/// A member export as an Excel user would save it: Japanese headers, CRLF, quoted address with
/// a comma.
fn members_csv() -> String {
    let mut s = String::from(
        "氏名,フリガナ,メールアドレス,電話番号,郵便番号,住所,生年月日,発送日,決済トークン,パスワード\r\n",
    );
    s.push_str("山田 花子,ヤマダ ハナコ,Hanako.Yamada@example.jp,090-1111-2222,100-0001,\"東京都千代田区千代田1-1, 101号\",昭和60年1月2日,2026-10-01,tok_abc123,hunter2-さくら\r\n");
    s.push_str("佐藤 次郎,サトウ ジロウ,jiro@example.jp,03-3333-4444,150-0002,東京都渋谷区渋谷2-2,1990/5/6,2026-11-20,tok_def456,$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA\r\n");
    // Refused: a card number in the token column; a bad e-mail; an MD5 password.
    s.push_str("鈴木 三郎,スズキ サブロウ,saburo@example.jp,090-5555-6666,,,,2026-10-01,4111 1111 1111 1111,\r\n");
    s.push_str("高橋 四郎,タカハシ シロウ,shiro-at-example.jp,090-7777-8888,,,,2026-10-01,,\r\n");
    s.push_str("伊藤 五郎,イトウ ゴロウ,goro@example.jp,,,,,2026-10-01,,5f4dcc3b5aa765d61d8327deb882cf99\r\n");
    s
}

async fn vault_dataset(e: &Env) -> i64 {
    let app = &e.app;
    let id = app
        .create_dataset(&e.privacy, entry("会員情報", e.sales))
        .await
        .unwrap();
    let d = app.store.get_dataset(id).await.unwrap();
    let rule = RetentionRule {
        base_field: "shipped".into(),
        after_days: 30,
        action: RetentionAction::Scrub {
            fields: vec!["name".into(), "address".into(), "phone".into()],
        },
    };
    app.set_vault_schema(&e.privacy, id, d.version, SCHEMA, Some(rule))
        .await
        .unwrap();
    // Shift_JIS, as Excel saves a CSV.
    let text = members_csv();
    let (sjis, _, bad) = encoding_rs::SHIFT_JIS.encode(&text);
    assert!(!bad);
    let report = app
        .vault_import(
            &e.privacy,
            &sjis,
            &ImportOptions {
                dataset: "会員情報".into(),
                file_name: "members.csv".into(),
                ..ImportOptions::default()
            },
            &|_| true,
        )
        .await
        .unwrap();
    assert_eq!(
        (report.imported, report.rejected),
        (2, 3),
        "{:?}",
        report.rejects
    );
    let reasons: Vec<String> = report
        .rejects
        .iter()
        .map(|r| format!("{}:{}:{}", r.row_no, r.field, r.reason))
        .collect();
    assert!(
        reasons[0].starts_with("4:token:") && reasons[0].contains("credit card"),
        "{reasons:?}"
    );
    assert!(reasons[1].starts_with("5:email:"), "{reasons:?}");
    assert!(
        reasons[2].starts_with("6:password:") && reasons[2].contains("Argon2id"),
        "{reasons:?}"
    );
    // The mapping came from the Japanese headers.
    let mapped: Vec<Option<&str>> = report.mapping.iter().map(|(_, f)| f.as_deref()).collect();
    assert_eq!(
        mapped,
        [
            Some("name"),
            Some("kana"),
            Some("email"),
            Some("phone"),
            Some("zip"),
            Some("address"),
            Some("birth"),
            Some("shipped"),
            Some("token"),
            Some("password")
        ]
    );
    id
}

async fn audit_actions(app: &App, action: &str) -> Vec<String> {
    app.store
        .search_audit(
            &AuditFilter {
                action: Some(action.into()),
                ..AuditFilter::default()
            },
            100,
        )
        .await
        .unwrap()
        .iter()
        .map(|e| {
            format!(
                "{} {} {} {}",
                e.record.action,
                e.record.target,
                e.record.outcome.code(),
                e.record.detail
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ledger_scope_review_and_csv_round_trip() {
    for e in envs().await {
        let app = &e.app;
        let a = app
            .create_dataset(&e.privacy, entry("会員情報", e.sales))
            .await
            .unwrap();
        let mut health = entry("従業員健康診断", e.sys);
        health.items = vec![Item::Name, Item::HealthCheckResult];
        health.persons = Some(60);
        app.create_dataset(&e.privacy, health).await.unwrap();
        // A department head keeps the own department's entries only.
        app.create_dataset(&e.head_sales, entry("営業名刺", e.sales))
            .await
            .unwrap();
        let err = app
            .create_dataset(&e.head_sales, entry("他部門", e.sys))
            .await
            .unwrap_err();
        assert!(matches!(err, AppError::Invalid(p) if p.field == Some("department_id")));
        assert!(matches!(
            app.create_dataset(&e.staff, entry("x", e.sales)).await,
            Err(AppError::Denied)
        ));
        let head_view = app.ledger(&e.head_sales).await.unwrap();
        assert_eq!(
            head_view.entries.len(),
            2,
            "only the sales department's entries"
        );
        let all = app.ledger(&e.auditor).await.unwrap();
        assert_eq!(all.entries.len(), 3);
        assert!(!all.can_edit);
        assert_eq!(all.totals.persons, 2060);
        assert_eq!(all.totals.sensitive_persons, 60);
        assert!(matches!(
            app.dataset(
                &e.head_sales,
                all.entries
                    .iter()
                    .find(|x| x.row.name == "従業員健康診断")
                    .unwrap()
                    .row
                    .id
            )
            .await,
            Err(AppError::NotFound)
        ));
        // Bad input names the field and stores nothing.
        let mut bad = entry("", e.sales);
        bad.purpose = String::new();
        let err = app.create_dataset(&e.privacy, bad).await.unwrap_err();
        assert!(matches!(err, AppError::Invalid(p) if p.field == Some("name")));
        // A concurrent edit is refused.
        let d = app.store.get_dataset(a).await.unwrap();
        app.update_dataset(&e.privacy, a, d.version, entry("会員情報", e.sales))
            .await
            .unwrap();
        assert!(app
            .update_dataset(&e.privacy, a, d.version, entry("会員情報", e.sales))
            .await
            .is_err());
        // The yearly review moves the due date a year on.
        assert_eq!(d.review_due, "2027-11-24");
        e.clock.advance_micros(200 * 24 * HOUR);
        app.review_dataset(&e.privacy, a, "項目と保管場所を確認した")
            .await
            .unwrap();
        assert_eq!(
            app.store.get_dataset(a).await.unwrap().review_due,
            "2028-06-12"
        );
        assert_eq!(app.store.dataset_reviews(a).await.unwrap().len(), 1);
        // CP932 export for Excel, edited and imported back.
        let csv = app.export_ledger(&e.privacy, true).await.unwrap();
        let (text, _, bad) = encoding_rs::SHIFT_JIS.decode(&csv);
        assert!(!bad);
        assert!(text.starts_with("台帳名,主管部門,項目"));
        assert!(text.contains("従業員健康診断,システム部,氏名、健康診断等の結果,あり,なし,60,"));
        let edited = text.replace(",60,", ",75,")
            + "新規台帳,営業部,氏名、メールアドレス,なし,なし,1250人,キャンペーン,,,,,,,,,,\r\n"
            + "壊れた行,存在しない部,氏名,なし,なし,1,目的,,,,,,,,,,\r\n";
        let (back, _, _) = encoding_rs::SHIFT_JIS.encode(&edited);
        let r = app.import_ledger(&e.privacy, &back).await.unwrap();
        assert_eq!((r.created, r.updated), (1, 3));
        assert_eq!(r.rejected.len(), 1);
        assert_eq!(r.rejected[0].0, 6, "the line of the bad row");
        assert!(r.rejected[0].1.contains("存在しない部"));
        let after = app.ledger(&e.privacy).await.unwrap();
        assert_eq!(
            after
                .entries
                .iter()
                .find(|x| x.row.name == "従業員健康診断")
                .unwrap()
                .row
                .persons,
            Some(75)
        );
        assert_eq!(
            after
                .entries
                .iter()
                .find(|x| x.row.name == "新規台帳")
                .unwrap()
                .row
                .persons,
            Some(1250)
        );
        e.db.cleanup().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lookup_grants_reveal_export_and_the_audit_log() {
    for e in envs().await {
        let app = &e.app;
        let ds = vault_dataset(&e).await;
        // Custodian: standing access, masked by default.
        let (access, found) = app
            .vault_lookup(
                &e.custodian,
                ds,
                &LookupBy::Email(" HANAKO.yamada@Example.JP ".into()),
            )
            .await
            .unwrap();
        assert!(access.custody);
        assert_eq!(found.len(), 1);
        let shown: Vec<&str> = found[0].fields.iter().map(|f| f.shown.as_str()).collect();
        assert_eq!(
            &shown[..4],
            [
                "山田 ＊＊",
                "ヤマダ ＊＊＊",
                "H***@example.jp",
                "090-****-2222"
            ]
        );
        let rec = found[0].id;
        for by in [
            LookupBy::Phone("+81 90 1111 2222".into()),
            LookupBy::Name("やまだ はなこ".into()),
            LookupBy::NameBirth("山田花子".into(), "1985-01-02".into()),
            LookupBy::Record(rec),
        ] {
            let (_, f) = app.vault_lookup(&e.custodian, ds, &by).await.unwrap();
            assert_eq!(f.iter().map(|r| r.id).collect::<Vec<_>>(), [rec], "{by:?}");
        }
        let (_, none) = app
            .vault_lookup(
                &e.custodian,
                ds,
                &LookupBy::NameBirth("山田花子".into(), "1985-01-03".into()),
            )
            .await
            .unwrap();
        assert!(none.is_empty());
        assert!(matches!(
            app.vault_lookup(&e.custodian, ds, &LookupBy::Phone("12".into()))
                .await,
            Err(AppError::Invalid(_))
        ));
        assert_eq!(
            app.vault_reveal(&e.custodian, rec, "email").await.unwrap(),
            "Hanako.Yamada@example.jp"
        );
        let pw = app
            .vault_reveal(&e.custodian, rec, "password")
            .await
            .unwrap();
        assert!(
            pw.starts_with("$argon2id$"),
            "a plaintext password is stored only as its Argon2id hash"
        );
        // Staff: nothing without a grant; privacy office neither (no standing access).
        assert!(matches!(
            app.vault_lookup(&e.staff, ds, &LookupBy::Record(rec)).await,
            Err(AppError::Denied)
        ));
        assert!(matches!(
            app.vault_lookup(&e.privacy, ds, &LookupBy::Record(rec))
                .await,
            Err(AppError::Denied)
        ));
        // Only a custodian issues grants, at most 24 hours, for fields of the schema.
        let req = GrantRequest {
            fields: vec!["name".into(), "phone".into()],
            purpose: "お問い合わせ対応 #1234".into(),
            hours: 2,
            may_export: false,
        };
        assert!(matches!(
            app.issue_grant(&e.privacy, ds, e.staff_id, &req).await,
            Err(AppError::Denied)
        ));
        let long = GrantRequest {
            hours: 25,
            ..req.clone()
        };
        assert!(
            matches!(app.issue_grant(&e.custodian, ds, e.staff_id, &long).await, Err(AppError::Invalid(p)) if p.field == Some("hours"))
        );
        let g = app
            .issue_grant(&e.custodian, ds, e.staff_id, &req)
            .await
            .unwrap();
        let (access, f) = app
            .vault_lookup(&e.staff, ds, &LookupBy::Phone("090-1111-2222".into()))
            .await
            .unwrap();
        assert_eq!(access.basis, format!("grant:{g}"));
        assert!(
            f[0].fields
                .iter()
                .find(|x| x.name == "phone")
                .unwrap()
                .may_reveal
        );
        assert!(
            !f[0]
                .fields
                .iter()
                .find(|x| x.name == "email")
                .unwrap()
                .may_reveal
        );
        assert_eq!(
            app.vault_reveal(&e.staff, rec, "phone").await.unwrap(),
            "090-1111-2222"
        );
        assert!(matches!(
            app.vault_reveal(&e.staff, rec, "email").await,
            Err(AppError::Denied)
        ));
        assert!(matches!(
            app.vault_export(&e.staff, ds, false).await,
            Err(AppError::Denied)
        ));
        // The grant ends by itself: one microsecond before it works, at the end it does not.
        e.clock.advance_micros(2 * HOUR - 1);
        app.vault_reveal(&e.staff, rec, "phone").await.unwrap();
        e.clock.advance_micros(1);
        assert!(matches!(
            app.vault_reveal(&e.staff, rec, "phone").await,
            Err(AppError::Denied)
        ));
        // A new grant with export, revoked: stops at once.
        let g2 = app
            .issue_grant(
                &e.custodian,
                ds,
                e.staff_id,
                &GrantRequest {
                    may_export: true,
                    ..req.clone()
                },
            )
            .await
            .unwrap();
        let (csv, n) = app.vault_export(&e.staff, ds, false).await.unwrap();
        assert_eq!(n, 2);
        let text = String::from_utf8(csv).unwrap();
        assert!(
            text.starts_with("\u{feff}record_id,name,phone\r\n"),
            "only the granted fields: {text}"
        );
        assert!(text.contains("山田 花子,090-1111-2222"));
        app.revoke_grant(&e.custodian, g2).await.unwrap();
        assert!(matches!(
            app.vault_export(&e.staff, ds, false).await,
            Err(AppError::Denied)
        ));
        // The audit log names records and grants, never the values looked for.
        let lookups = audit_actions(app, "vault.lookup").await.join("\n");
        assert!(
            lookups.contains(&format!("\"basis\":\"grant:{g}\"")),
            "{lookups}"
        );
        assert!(
            !lookups.to_lowercase().contains("hanako") && !lookups.contains("1111"),
            "{lookups}"
        );
        let reveals = audit_actions(app, "vault.reveal").await.join("\n");
        assert!(
            reveals.contains("record:")
                && reveals.contains("denied")
                && reveals.contains("\"field\":\"email\""),
            "{reveals}"
        );
        assert!(audit_actions(app, "vault.export")
            .await
            .join("\n")
            .contains(&format!("grant:{g2}")));
        assert!(audit_actions(app, "vault.grant.revoke").await.len() == 1);
        e.db.cleanup().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_erasure_rotation_and_bad_keys() {
    for e in envs().await {
        let app = &e.app;
        let ds = vault_dataset(&e).await;
        let hanako = app
            .vault_lookup(
                &e.custodian,
                ds,
                &LookupBy::Email("hanako.yamada@example.jp".into()),
            )
            .await
            .unwrap()
            .1[0]
            .id;
        // Shipped 2026-10-01: due 30 days later. Today (2026-11-24) it is past; 2026-11-20 is not.
        let runs = app.run_retention().await.unwrap();
        assert_eq!(runs.len(), 1);
        assert_eq!(
            (runs[0].1.scrubbed, runs[0].1.deleted, runs[0].1.failed),
            (1, 0, 0)
        );
        let (_, f) = app
            .vault_lookup(&e.custodian, ds, &LookupBy::Record(hanako))
            .await
            .unwrap();
        let shown = |name: &str| {
            f[0].fields
                .iter()
                .find(|x| x.name == name)
                .unwrap()
                .shown
                .clone()
        };
        assert_eq!(
            (shown("name"), shown("address"), shown("phone")),
            ("削除済".into(), "削除済".into(), "削除済".into())
        );
        assert_eq!(
            shown("email"),
            "H***@example.jp",
            "fields outside the rule stay"
        );
        assert!(
            app.vault_lookup(&e.custodian, ds, &LookupBy::Phone("090-1111-2222".into()))
                .await
                .unwrap()
                .1
                .is_empty(),
            "the scrubbed phone's index row is gone"
        );
        assert!(app
            .vault_lookup(&e.custodian, ds, &LookupBy::Name("山田花子".into()))
            .await
            .unwrap()
            .1
            .is_empty());
        assert_eq!(
            app.run_retention().await.unwrap()[0].1.scrubbed,
            0,
            "a second run finds nothing"
        );
        assert_eq!(app.store.retention_runs(ds, 10).await.unwrap().len(), 1);
        // Erasure on request: key destroyed, index gone, recorded.
        assert!(matches!(
            app.erase_subject(
                &e.staff,
                ds,
                &LookupBy::Email("jiro@example.jp".into()),
                "req-1"
            )
            .await,
            Err(AppError::Denied)
        ));
        assert!(matches!(
            app.erase_subject(
                &e.privacy,
                ds,
                &LookupBy::Email("jiro@example.jp".into()),
                " "
            )
            .await,
            Err(AppError::Invalid(_))
        ));
        let jiro = app
            .vault_lookup(&e.custodian, ds, &LookupBy::Email("jiro@example.jp".into()))
            .await
            .unwrap()
            .1[0]
            .id;
        assert_eq!(
            app.erase_subject(
                &e.privacy,
                ds,
                &LookupBy::Email("JIRO@example.jp".into()),
                "開示等請求 2026-031"
            )
            .await
            .unwrap(),
            1
        );
        assert!(app
            .vault_lookup(&e.custodian, ds, &LookupBy::Email("jiro@example.jp".into()))
            .await
            .unwrap()
            .1
            .is_empty());
        let gone = app.store.get_record(jiro).await.unwrap();
        assert!(gone.wrapped.is_none() && gone.sealed.is_empty() && gone.erased_at.is_some());
        assert_eq!(app.store.count_erasures(ds).await.unwrap(), 1);
        // Key rotation: a new version, every key re-wrapped, the old version retired.
        let v2 = app.rotate_vault_key(&Ctx::local()).await.unwrap();
        assert_eq!(v2, 2);
        assert_eq!(app.rewrap_keys(1, None).await.unwrap(), 1);
        assert_eq!(app.store.deks_per_version().await.unwrap(), vec![(2, 1)]);
        let keys = app.store.vault_keys().await.unwrap();
        assert!(keys[0].retired_at.is_some() && keys[1].retired_at.is_none());
        assert_eq!(
            app.vault_reveal(&e.custodian, hanako, "email")
                .await
                .unwrap(),
            "Hanako.Yamada@example.jp"
        );
        // A second process with the same keys opens; with a wrong master key it refuses.
        let (same, _w) = App::new(
            app.store.clone(),
            Keys::load_or_create(&e.key_dir, false).unwrap(),
            e.clock.clone(),
            Settings::default(),
        );
        same.open_vault_default(false).await.unwrap();
        assert_eq!(
            same.vault_reveal(&e.custodian, hanako, "email")
                .await
                .unwrap(),
            "Hanako.Yamada@example.jp"
        );
        let wrong_dir = temp_dir("wrongkeys");
        let wrong = FileKeyProvider::load(&wrong_dir).unwrap();
        wrong.create(2).unwrap();
        wrong.create_index_root().unwrap();
        let (other, _w) = App::new(
            app.store.clone(),
            Keys::load_or_create(&wrong_dir.join("k"), true).unwrap(),
            e.clock.clone(),
            Settings::default(),
        );
        let err = other.open_vault(Arc::new(wrong), false).await.unwrap_err();
        assert!(
            matches!(err, VaultOpenError::Mismatch { version: 2, .. }),
            "{err}"
        );
        assert!(err.to_string().contains("does not match"));
        let empty = FileKeyProvider::load(&temp_dir("nokeys")).unwrap();
        let err = other.open_vault(Arc::new(empty), false).await.unwrap_err();
        assert!(
            matches!(err, VaultOpenError::Missing { version: 2, .. }),
            "{err}"
        );
        // A record whose sealed fields were altered is reported, never skipped.
        sqlx::query("UPDATE vault_records SET sealed = $1 WHERE id = $2")
            .bind("AQEQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
            .bind(hanako)
            .execute(app.store.pool())
            .await
            .unwrap();
        let (_, f) = app
            .vault_lookup(&e.custodian, ds, &LookupBy::Record(hanako))
            .await
            .unwrap();
        assert!(
            f[0].error
                .as_deref()
                .is_some_and(|m| m.contains("do not decrypt")),
            "{:?}",
            f[0].error
        );
        let err = app.vault_export(&e.custodian, ds, false).await.unwrap_err();
        assert!(
            matches!(&err, AppError::Invalid(p) if p.en.contains(&hanako.to_string())),
            "{err:?}"
        );
        e.db.cleanup().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_resumes_without_duplicates_and_rolls_back() {
    for e in envs().await {
        let app = &e.app;
        let mut csv = String::from("name,email,phone,shipped\n");
        for i in 0..4500 {
            use std::fmt::Write as _;
            let _ = writeln!(
                csv,
                "会員 {i},member{i}@example.jp,090-{:04}-{:04},2026-11-01",
                i / 10000,
                i % 10000
            );
        }
        let opts = ImportOptions {
            batch: Some(2000),
            dataset: "大量会員".into(),
            create: true,
            file_name: "bulk.csv".into(),
            ..ImportOptions::default()
        };
        // Stopped after the first batch (as Ctrl-C in the command line does).
        let first = app
            .vault_import(&e.privacy, csv.as_bytes(), &opts, &|_| false)
            .await
            .unwrap();
        assert!(first.stopped && first.created_dataset);
        assert_eq!(first.imported, 2000);
        let ds = first.dataset_id;
        let schema = app
            .store
            .get_dataset(ds)
            .await
            .unwrap()
            .vault_schema
            .unwrap();
        assert!(
            schema.contains("\"kind\":\"email\"") && schema.contains("\"kind\":\"date\""),
            "{schema}"
        );
        // The same file again resumes after the last batch written.
        let again = app
            .vault_import(&e.privacy, csv.as_bytes(), &opts, &|_| true)
            .await
            .unwrap();
        assert_eq!(again.import_id, first.import_id);
        assert_eq!(again.resumed_from, Some(2002));
        assert_eq!(again.imported, 4500);
        assert_eq!(
            app.store.count_records(ds).await.unwrap(),
            4500,
            "no duplicates"
        );
        let (_, f) = app
            .vault_lookup(
                &e.custodian,
                ds,
                &LookupBy::Email("member4499@example.jp".into()),
            )
            .await
            .unwrap();
        assert_eq!(f.len(), 1);
        // A finished import of the same file is a new import; roll that one back.
        let dup = app
            .vault_import(&e.privacy, csv.as_bytes(), &opts, &|_| true)
            .await
            .unwrap();
        assert_ne!(dup.import_id, first.import_id);
        assert_eq!(app.store.count_records(ds).await.unwrap(), 9000);
        assert_eq!(
            app.vault_import_rollback(&e.privacy, dup.import_id)
                .await
                .unwrap(),
            4500
        );
        assert_eq!(app.store.count_records(ds).await.unwrap(), 4500);
        let (_, f) = app
            .vault_lookup(
                &e.custodian,
                ds,
                &LookupBy::Email("member0@example.jp".into()),
            )
            .await
            .unwrap();
        assert_eq!(
            f.len(),
            1,
            "the rolled-back copies are gone from the index too"
        );
        assert!(matches!(
            app.vault_import_rollback(&e.privacy, dup.import_id).await,
            Err(AppError::Invalid(_))
        ));
        // Bad files: a clear error, nothing stored.
        let bad = app
            .vault_import(
                &e.privacy,
                b"name,email\n\xff\xfe\xfa,x\n",
                &ImportOptions {
                    dataset: "大量会員".into(),
                    file_name: "bad.csv".into(),
                    ..ImportOptions::default()
                },
                &|_| true,
            )
            .await;
        assert!(matches!(bad, Err(AppError::Invalid(_))), "{bad:?}");
        let no_ds = app
            .vault_import(
                &e.privacy,
                csv.as_bytes(),
                &ImportOptions {
                    dataset: "ない".into(),
                    file_name: "x.csv".into(),
                    ..ImportOptions::default()
                },
                &|_| true,
            )
            .await;
        assert!(matches!(no_ds, Err(AppError::Invalid(p)) if p.en.contains("--create")));
        let bad_map = app
            .vault_import(
                &e.privacy,
                csv.as_bytes(),
                &ImportOptions {
                    dataset: "大量会員".into(),
                    file_name: "x.csv".into(),
                    map: vec![("name".into(), "nosuch".into())],
                    ..ImportOptions::default()
                },
                &|_| true,
            )
            .await;
        assert!(matches!(bad_map, Err(AppError::Invalid(p)) if p.field == Some("map")));
        assert_eq!(app.store.count_records(ds).await.unwrap(), 4500);
        e.db.cleanup().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_most_three_custodians() {
    for e in envs().await {
        let app = &e.app;
        let co = e.custodian.user_ref().unwrap().company_id;
        person(app, co, e.sys, "cust2", Role::Custodian).await;
        person(app, co, e.sys, "cust3", Role::Custodian).await;
        let err = app
            .create_user(
                &Ctx::local(),
                &UserInput {
                    company_id: Some(co),
                    department_id: e.sys,
                    login: "cust4".into(),
                    display_name: "四人目".into(),
                    email: "c4@example.co.jp".into(),
                    roles: vec![Role::Custodian],
                    password: Some("correct horse battery".into()),
                    locale: "ja".into(),
                },
            )
            .await
            .unwrap_err();
        assert!(
            matches!(err, AppError::Invalid(p) if p.field == Some("roles") && p.en.contains("at most 3"))
        );
        e.db.cleanup().await;
    }
}

/// The database files (SQLite: main file and WAL) and every text column of the vault tables
/// (PostgreSQL) hold no personal value of the import in plaintext.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_personal_value_in_plaintext_in_the_database() {
    for e in envs().await {
        let app = &e.app;
        vault_dataset(&e).await;
        let secrets = [
            "山田 花子",
            "山田",
            "ヤマダ",
            "Hanako.Yamada",
            "hanako.yamada",
            "090-1111-2222",
            "09011112222",
            "千代田1-1",
            "100-0001",
            "1985-01-02",
            "jiro@example.jp",
            "渋谷2-2",
            "tok_abc123",
            "hunter2",
        ];
        let mut haystacks: Vec<(String, Vec<u8>)> = Vec::new();
        if let Some(path) = mamori_store::sqlite_path(&e.db.url) {
            app.store.pool().close().await;
            for p in [path.clone(), path.with_extension("db-wal")] {
                if let Ok(b) = std::fs::read(&p) {
                    haystacks.push((p.display().to_string(), b));
                }
            }
        } else {
            for (table, sql) in [
                (
                    "vault_records",
                    "SELECT CAST(r.* AS TEXT) FROM vault_records r",
                ),
                ("vault_deks", "SELECT CAST(k.* AS TEXT) FROM vault_deks k"),
                ("vault_index", "SELECT CAST(i.* AS TEXT) FROM vault_index i"),
                (
                    "vault_import_rejects",
                    "SELECT CAST(x.* AS TEXT) FROM vault_import_rejects x",
                ),
                (
                    "vault_imports",
                    "SELECT CAST(x.* AS TEXT) FROM vault_imports x",
                ),
                ("audit_log", "SELECT CAST(a.* AS TEXT) FROM audit_log a"),
            ] {
                let rows: Vec<String> = sqlx::query_scalar(sql)
                    .fetch_all(app.store.pool())
                    .await
                    .unwrap();
                haystacks.push((table.into(), rows.join("\n").into_bytes()));
            }
        }
        assert!(!haystacks.is_empty());
        for (name, hay) in &haystacks {
            for s in secrets {
                for enc in [
                    s.as_bytes().to_vec(),
                    encoding_rs::SHIFT_JIS.encode(s).0.into_owned(),
                ] {
                    assert!(
                        !hay.windows(enc.len()).any(|w| w == enc.as_slice()),
                        "`{s}` found in plaintext in {name}"
                    );
                }
            }
        }
        e.db.cleanup().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_report_names_ledger_datasets_and_their_items_reach_the_assessment() {
    for e in envs().await {
        let app = &e.app;
        let mut health = entry("従業員健康診断", e.sys);
        health.items = vec![Item::Name, Item::HealthCheckResult];
        health.persons = Some(60);
        let ds = app.create_dataset(&e.privacy, health).await.unwrap();
        // Staff may name datasets (names only) without reading the ledger.
        let choices = app.dataset_choices(&e.staff).await.unwrap();
        assert_eq!(
            choices,
            vec![(ds, "従業員健康診断".to_owned(), "システム部".to_owned())]
        );
        assert!(matches!(app.ledger(&e.staff).await, Err(AppError::Denied)));
        let input = mamori_app::incident::FirstReportInput {
            description: "健康診断結果のファイルを誤って共有フォルダに置いた".into(),
            event: "leak".into(),
            persons: "3".into(),
            datasets: vec![ds],
            ..Default::default()
        };
        let (id, _) = app.file_first_report(&e.staff, &input).await.unwrap();
        let view = app.incident_view(&e.privacy, id).await.unwrap();
        assert_eq!(view.datasets, vec![(ds, "従業員健康診断".to_owned())]);
        assert!(view.facts.items.contains(&Item::HealthCheckResult));
        assert!(
            view.assessment.reportable,
            "3 persons, but sensitive: reportable"
        );
        let bad = mamori_app::incident::FirstReportInput {
            datasets: vec![ds + 999],
            ..input
        };
        assert!(
            matches!(app.file_first_report(&e.staff, &bad).await, Err(AppError::Invalid(p)) if p.field == Some("datasets"))
        );
        e.db.cleanup().await;
    }
}

/// Puts one record back into the sealed format of before issue 12 (format 2: bound to the
/// field names of the schema of its day), as a database written by the old code holds it.
async fn seal_the_old_way(e: &Env, ds: i64, record: i64) {
    use mamori_app::vault_keys::{open_record, seal_fields_v2, unwrap_dek, Layout};
    let app = &e.app;
    let d = app.store.get_dataset(ds).await.unwrap();
    let schema: mamori_domain::vault::Schema =
        serde_json::from_str(d.vault_schema.as_deref().unwrap()).unwrap();
    let r = app.store.get_record(record).await.unwrap();
    let provider = FileKeyProvider::load(&e.key_dir).unwrap();
    let dek = unwrap_dek(
        &provider,
        r.key_version.unwrap() as u32,
        r.wrapped.as_deref().unwrap(),
        r.id,
    )
    .unwrap();
    let opened = open_record(&dek, &Layout::of(ds, &schema), r.id, &r.sealed).unwrap();
    let names: Vec<&str> = schema.fields.iter().map(|f| f.name.as_str()).collect();
    let old = seal_fields_v2(&dek, r.id, &names, &opened);
    app.store.replace_sealed(r.id, &old).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_growing_schema_never_locks_records_away() {
    for e in envs().await {
        let app = &e.app;
        let ds = vault_dataset(&e).await;
        let email = |s: &str| LookupBy::Email(s.into());
        let hanako = app
            .vault_lookup(&e.custodian, ds, &email("hanako.yamada@example.jp"))
            .await
            .unwrap()
            .1[0]
            .id;
        let jiro = app
            .vault_lookup(&e.custodian, ds, &email("jiro@example.jp"))
            .await
            .unwrap()
            .1[0]
            .id;
        // Hanako's record as the old code wrote it (bound to the ten field names).
        seal_the_old_way(&e, ds, hanako).await;
        // The review's case: a field appended to the schema. Before the fix every record
        // stopped opening here.
        let d = app.store.get_dataset(ds).await.unwrap();
        let grown = format!("{SCHEMA}, mobile:phone, note:text");
        app.set_vault_schema(&e.privacy, ds, d.version, &grown, None)
            .await
            .unwrap();
        // Changes that would orphan stored values are refused, and nothing is written.
        for (bad, word) in [
            (
                SCHEMA.replace(", password:password_hash", ", mobile:phone, note:text"),
                "削除",
            ),
            (grown.replace("zip:postal_code", "zip:text"), "種類"),
            (
                grown.replace("name:name, kana:kana_name", "kana:kana_name, name:name"),
                "順序",
            ),
        ] {
            let d = app.store.get_dataset(ds).await.unwrap();
            let err = app
                .set_vault_schema(&e.privacy, ds, d.version, &bad, None)
                .await
                .unwrap_err();
            assert!(
                matches!(&err, AppError::Invalid(p) if p.field == Some("schema") && p.ja.contains(word)),
                "{err:?}"
            );
            let after = app.store.get_dataset(ds).await.unwrap();
            assert_eq!(after.version, d.version, "nothing written");
        }
        // Import again, with the new columns.
        let csv = "氏名,メールアドレス,電話番号,携帯,備考,発送日\r\n\
                   中村 六子,mutsuko@example.jp,03-1234-0000,080-9999-0001,再配達希望,2026-11-23\r\n";
        let report = app
            .vault_import(
                &e.privacy,
                csv.as_bytes(),
                &ImportOptions {
                    dataset: "会員情報".into(),
                    file_name: "more.csv".into(),
                    map: vec![
                        ("携帯".into(), "mobile".into()),
                        ("備考".into(), "note".into()),
                    ],
                    ..ImportOptions::default()
                },
                &|_| true,
            )
            .await
            .unwrap();
        assert_eq!(
            (report.imported, report.rejected),
            (1, 0),
            "{:?}",
            report.rejects
        );
        // Every record opens: the old-format one, the one sealed before the change, the new one.
        for (by, want) in [
            (email("hanako.yamada@example.jp"), hanako),
            (email("jiro@example.jp"), jiro),
            (LookupBy::Phone("090-1111-2222".into()), hanako),
            (
                LookupBy::NameBirth("山田花子".into(), "1985-01-02".into()),
                hanako,
            ),
        ] {
            let (_, f) = app.vault_lookup(&e.custodian, ds, &by).await.unwrap();
            assert_eq!(f.iter().map(|r| r.id).collect::<Vec<_>>(), [want], "{by:?}");
            assert!(f[0].error.is_none(), "{:?}", f[0].error);
            assert_eq!(f[0].fields.len(), 12);
        }
        let (_, f) = app
            .vault_lookup(&e.custodian, ds, &LookupBy::Phone("080-9999-0001".into()))
            .await
            .unwrap();
        assert_eq!(f.len(), 1, "the new field is indexed");
        let mutsuko = f[0].id;
        assert_eq!(
            app.vault_reveal(&e.custodian, mutsuko, "note")
                .await
                .unwrap(),
            "再配達希望"
        );
        assert_eq!(
            app.vault_reveal(&e.custodian, hanako, "email")
                .await
                .unwrap(),
            "Hanako.Yamada@example.jp"
        );
        assert_eq!(
            app.vault_reveal(&e.custodian, jiro, "phone").await.unwrap(),
            "03-3333-4444"
        );
        let (_, n) = app.vault_export(&e.custodian, ds, false).await.unwrap();
        assert_eq!(n, 3);
        // The upgrade re-seals the old-format record (and only it) with the same data key.
        let before = app.store.get_record(jiro).await.unwrap().sealed;
        assert_eq!(app.reseal_records(1).await.unwrap(), (1, 0));
        assert_eq!(
            app.reseal_records(100).await.unwrap(),
            (0, 0),
            "nothing left"
        );
        assert_eq!(app.store.get_record(jiro).await.unwrap().sealed, before);
        assert!(app
            .store
            .get_record(hanako)
            .await
            .unwrap()
            .sealed
            .starts_with("v3."));
        assert!(!audit_actions(app, "vault.reseal").await.is_empty());
        assert_eq!(
            app.vault_reveal(&e.custodian, hanako, "phone")
                .await
                .unwrap(),
            "090-1111-2222"
        );
        // Retention scrubs Hanako (shipped 2026-10-01) under the grown schema.
        let d = app.store.get_dataset(ds).await.unwrap();
        let rule = RetentionRule {
            base_field: "shipped".into(),
            after_days: 30,
            action: RetentionAction::Scrub {
                fields: vec!["name".into(), "phone".into(), "mobile".into()],
            },
        };
        app.set_vault_schema(&e.privacy, ds, d.version, &grown, Some(rule))
            .await
            .unwrap();
        let runs = app.run_retention().await.unwrap();
        assert_eq!((runs[0].1.scrubbed, runs[0].1.failed), (1, 0));
        assert!(app
            .vault_lookup(&e.custodian, ds, &LookupBy::Phone("090-1111-2222".into()))
            .await
            .unwrap()
            .1
            .is_empty());
        assert_eq!(
            app.vault_reveal(&e.custodian, hanako, "email")
                .await
                .unwrap(),
            "Hanako.Yamada@example.jp"
        );
        // Erasure, then key rotation: everything left still opens.
        assert_eq!(
            app.erase_subject(&e.privacy, ds, &email("jiro@example.jp"), "請求 2026-040")
                .await
                .unwrap(),
            1
        );
        app.rotate_vault_key(&Ctx::local()).await.unwrap();
        assert_eq!(app.rewrap_keys(10, None).await.unwrap(), 2);
        assert_eq!(
            app.vault_reveal(&e.custodian, mutsuko, "mobile")
                .await
                .unwrap(),
            "080-9999-0001"
        );
        let (_, n) = app.vault_export(&e.custodian, ds, false).await.unwrap();
        assert_eq!(n, 2);
        e.db.cleanup().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lookup_needs_the_fields_it_searches_and_is_rate_limited() {
    for e in envs().await {
        let app = &e.app;
        let ds = vault_dataset(&e).await;
        let rec = app
            .vault_lookup(&e.custodian, ds, &LookupBy::Email("jiro@example.jp".into()))
            .await
            .unwrap()
            .1[0]
            .id;
        // The review's case: a grant for the postal code alone.
        let req = GrantRequest {
            fields: vec!["zip".into()],
            purpose: "発送先の確認".into(),
            hours: 2,
            may_export: false,
        };
        app.issue_grant(&e.custodian, ds, e.staff_id, &req)
            .await
            .unwrap();
        for by in [
            LookupBy::Phone("03-3333-4444".into()),
            LookupBy::Email("jiro@example.jp".into()),
            LookupBy::Name("佐藤次郎".into()),
            LookupBy::NameBirth("佐藤次郎".into(), "1990-05-06".into()),
        ] {
            let err = app.vault_lookup(&e.staff, ds, &by).await.unwrap_err();
            assert!(
                matches!(&err, AppError::Invalid(p) if p.field == Some("by")),
                "{by:?}: {err:?}"
            );
        }
        // By record number it shows masked values, as before.
        let (_, f) = app
            .vault_lookup(&e.staff, ds, &LookupBy::Record(rec))
            .await
            .unwrap();
        assert_eq!(f.len(), 1);
        let refused = app
            .store
            .search_audit(
                &AuditFilter {
                    action: Some("vault.lookup".into()),
                    outcome: Some(mamori_domain::audit::Outcome::Denied),
                    ..AuditFilter::default()
                },
                50,
            )
            .await
            .unwrap();
        assert_eq!(refused.len(), 4);
        // A grant that holds the phone field allows a phone search.
        let req = GrantRequest {
            fields: vec!["phone".into()],
            ..req
        };
        app.issue_grant(&e.custodian, ds, e.staff_id, &req)
            .await
            .unwrap();
        let (_, f) = app
            .vault_lookup(&e.staff, ds, &LookupBy::Phone("03-3333-4444".into()))
            .await
            .unwrap();
        assert_eq!(f.len(), 1);
        // Rate limit: 30 a minute per user (the staff member has made 6 so far, refused
        // ones included); the 31st answers 429 and is in the audit log.
        for _ in 6..30 {
            app.vault_lookup(&e.staff, ds, &LookupBy::Record(rec))
                .await
                .unwrap();
        }
        let err = app
            .vault_lookup(&e.staff, ds, &LookupBy::Record(rec))
            .await
            .unwrap_err();
        assert!(
            matches!(err, AppError::Throttled(s) if (1..=60).contains(&s)),
            "{err:?}"
        );
        assert_eq!(audit_actions(app, "vault.lookup.limited").await.len(), 1);
        // Another user is not affected; a minute later the staff member may search again.
        app.vault_lookup(&e.custodian, ds, &LookupBy::Record(rec))
            .await
            .unwrap();
        e.clock.advance_secs(61);
        app.vault_lookup(&e.staff, ds, &LookupBy::Record(rec))
            .await
            .unwrap();
        e.db.cleanup().await;
    }
}

/// The upgrade on data written by the old code: records sealed in format 2, then migration
/// 0008 applied to that database queues the re-seal, and the worker runs it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_upgrade_re_seals_records_written_by_the_old_code() {
    for e in envs().await {
        let app = &e.app;
        let ds = vault_dataset(&e).await;
        let ids: Vec<i64> = app
            .store
            .records_page(ds, 0, 100)
            .await
            .unwrap()
            .iter()
            .map(|r| r.id)
            .collect();
        assert_eq!(ids.len(), 2);
        for id in &ids {
            seal_the_old_way(&e, ds, *id).await;
        }
        // The database as it was before migration 0008.
        for sql in [
            "DELETE FROM _sqlx_migrations WHERE version = 8",
            "DROP TABLE rate_counts",
            "DELETE FROM jobs WHERE kind = 'vault.reseal'",
        ] {
            sqlx::query(sql).execute(app.store.pool()).await.unwrap();
        }
        app.store.migrate().await.unwrap();
        let queued: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE kind = 'vault.reseal'")
                .fetch_one(app.store.pool())
                .await
                .unwrap();
        assert_eq!(queued, 1, "the migration queues the re-seal");
        // A field added before the re-seal ran: the old records still open.
        let d = app.store.get_dataset(ds).await.unwrap();
        app.set_vault_schema(
            &e.privacy,
            ds,
            d.version,
            &format!("{SCHEMA}, note:text"),
            None,
        )
        .await
        .unwrap();
        assert_eq!(
            app.vault_reveal(&e.custodian, ids[1], "email")
                .await
                .unwrap(),
            "jiro@example.jp"
        );
        assert!(app.work_once("test", &App::job_handlers()).await.unwrap() >= 1);
        for id in &ids {
            let r = app.store.get_record(*id).await.unwrap();
            assert!(r.sealed.starts_with("v3."), "record {id} re-sealed");
        }
        assert_eq!(
            app.vault_reveal(&e.custodian, ids[0], "email")
                .await
                .unwrap(),
            "Hanako.Yamada@example.jp"
        );
        assert_eq!(app.reseal_records(100).await.unwrap(), (0, 0));
        e.db.cleanup().await;
    }
}

/// The text of an export for Excel: CP932, or UTF-8 after its BOM.
fn excel_text(bytes: &[u8], cp932: bool) -> String {
    if cp932 {
        let (text, _, bad) = encoding_rs::SHIFT_JIS.decode(bytes);
        assert!(!bad);
        text.into_owned()
    } else {
        String::from_utf8(bytes.strip_prefix(b"\xEF\xBB\xBF").expect("a BOM").to_vec()).unwrap()
    }
}

/// Issue 12, item 9: a cell that starts with `=`, `+`, `-`, `@`, tab or CR is written so that
/// Excel shows it as text, in UTF-8 and CP932, and comes back unchanged when imported.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exports_for_excel_guard_formula_cells_and_round_trip() {
    let hyperlink = "=HYPERLINK(\"http://evil.example/\",\"台帳\")";
    let dde = "-2+3+cmd|' /C calc'!A0";
    for e in envs().await {
        let app = &e.app;
        let mut d = entry(hyperlink, e.sales);
        d.purpose = dde.into();
        d.source = "@SUM(A1:A9)".into();
        d.access = "=1+1".into();
        d.entrusted_to = "+81 3-1234-5678".into();
        app.create_dataset(&e.privacy, d).await.unwrap();
        for cp932 in [false, true] {
            let bytes = app.export_ledger(&e.privacy, cp932).await.unwrap();
            let text = excel_text(&bytes, cp932);
            assert!(text.ends_with("\r\n"), "{text:?}");
            let line = text.lines().find(|l| l.contains("HYPERLINK")).unwrap();
            assert!(
                line.starts_with("\"'=HYPERLINK(\"\"http://evil.example/\"\",\"\"台帳\"\")\","),
                "{line}"
            );
            for guarded in [
                ",'-2+3+cmd",
                ",'@SUM(A1:A9),",
                ",'=1+1,",
                ",'+81 3-1234-5678,",
            ] {
                assert!(line.contains(guarded), "{guarded:?} in {line}");
            }
            // Imported back: the same entry is updated with the same values, nothing is created.
            let r = app.import_ledger(&e.privacy, &bytes).await.unwrap();
            assert_eq!((r.created, r.rejected.len()), (0, 0), "{:?}", r.rejected);
            let after = app.ledger(&e.privacy).await.unwrap();
            let row = &after
                .entries
                .iter()
                .find(|x| x.row.name == hyperlink)
                .expect("the name came back without the apostrophe")
                .row;
            assert_eq!(row.purpose, dde);
            assert_eq!(row.source, "@SUM(A1:A9)");
            assert_eq!(row.access, "=1+1");
            assert_eq!(row.entrusted_to, "+81 3-1234-5678");
        }

        // The vault: values that start formulas, exported guarded and imported back unchanged.
        let schema = "name:name, email:email, memo:text";
        let mut ids = Vec::new();
        for name in ["会員メモ", "会員メモ（再取込）"] {
            let id = app
                .create_dataset(&e.privacy, entry(name, e.sales))
                .await
                .unwrap();
            let d = app.store.get_dataset(id).await.unwrap();
            app.set_vault_schema(&e.privacy, id, d.version, schema, None)
                .await
                .unwrap();
            ids.push(id);
        }
        let memos = [
            "=1+1",
            dde,
            "@SUM(A1)",
            "'=already quoted",
            "-12",
            "+81 90-1234-5678",
            "普通のメモ",
        ];
        // The file is written the way mamori writes CSV for Excel; an import takes the guard
        // off, so a value that really starts with an apostrophe is stored as it is.
        let mut csv = mamori_detect::csv_out::CsvOut::new();
        csv.record(["氏名", "メールアドレス", "備考"]);
        for (i, m) in memos.iter().enumerate() {
            csv.record(["山田 花子", &format!("hanako{i}@example.jp"), m]);
        }
        let report = app
            .vault_import(
                &e.privacy,
                csv.text().as_bytes(),
                &ImportOptions {
                    dataset: "会員メモ".into(),
                    file_name: "memo.csv".into(),
                    ..ImportOptions::default()
                },
                &|_| true,
            )
            .await
            .unwrap();
        assert_eq!(report.imported, memos.len() as i64, "{:?}", report.rejects);
        for cp932 in [false, true] {
            let (bytes, n) = app.vault_export(&e.custodian, ids[0], cp932).await.unwrap();
            assert_eq!(n, memos.len());
            let text = excel_text(&bytes, cp932);
            for written in [
                ",'=1+1\r\n",
                ",'-2+3+cmd|' /C calc'!A0\r\n",
                ",'@SUM(A1)\r\n",
                ",''=already quoted\r\n",
                ",-12\r\n",
                ",'+81 90-1234-5678\r\n",
                ",普通のメモ\r\n",
            ] {
                assert!(text.contains(written), "{written:?} in {text}");
            }
            // Imported into a second dataset, then exported: the same values.
            let opts = ImportOptions {
                dataset: "会員メモ（再取込）".into(),
                file_name: format!("export-{cp932}.csv"),
                map: vec![
                    ("name".into(), "name".into()),
                    ("email".into(), "email".into()),
                    ("memo".into(), "memo".into()),
                ],
                ..ImportOptions::default()
            };
            let report = app
                .vault_import(&e.privacy, &bytes, &opts, &|_| true)
                .await
                .unwrap();
            assert_eq!(report.imported, memos.len() as i64, "{:?}", report.rejects);
            let (again, _) = app.vault_export(&e.custodian, ids[1], false).await.unwrap();
            let again = excel_text(&again, false);
            let mut rdr = csv::ReaderBuilder::new().from_reader(again.as_bytes());
            let mut got: Vec<String> = rdr
                .records()
                .map(|r| mamori_detect::csv_out::from_excel_cell(&r.unwrap()[3]).to_owned())
                .collect();
            got.sort();
            got.dedup();
            let mut want: Vec<String> = memos.iter().map(|m| (*m).to_owned()).collect();
            want.sort();
            assert_eq!(got, want);
        }
        e.db.cleanup().await;
    }
}

/// Issue 12, item 8: a workbook over the spreadsheet limits is refused before anything is
/// written, naming the file and the reason; one cell at XFD1048576 no longer takes the process
/// down.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spreadsheet_bomb_is_refused_by_the_vault_import() {
    use mamori_detect::testdata::{ods, xls_numbers, xlsx_cells};
    for e in envs().await {
        let app = &e.app;
        let id = app
            .create_dataset(&e.privacy, entry("会員", e.sales))
            .await
            .unwrap();
        let d = app.store.get_dataset(id).await.unwrap();
        app.set_vault_schema(&e.privacy, id, d.version, "name:name, email:email", None)
            .await
            .unwrap();
        let privacy = &e.privacy;
        let import = |bytes: Vec<u8>, file: &'static str| {
            let opts = ImportOptions {
                dataset: "会員".into(),
                file_name: file.into(),
                ..ImportOptions::default()
            };
            async move { app.vault_import(privacy, &bytes, &opts, &|_| true).await }
        };
        // A sheet whose rows, filled out from column A, span 6.5 million cells.
        let refs: Vec<(String, &str)> = (1..=400)
            .flat_map(|r| [(format!("A{r}"), "氏名"), (format!("XFD{r}"), "x")])
            .collect();
        let cells: Vec<(&str, &str)> = refs.iter().map(|(r, v)| (r.as_str(), *v)).collect();
        let ods_bomb = ods(
            r#"<table:table-row table:number-rows-repeated="6000"><table:table-cell office:value-type="string" table:number-columns-repeated="16384"><text:p>x</text:p></table:table-cell></table:table-row>"#,
        );
        let xls_bomb = xls_numbers(&[(0, 0, 1.0), (65_535, 65_535, 2.0)]);
        for (bytes, file) in [
            (xlsx_cells(&cells), "wide.xlsx"),
            (ods_bomb, "bomb.ods"),
            (xls_bomb, "bomb.xls"),
        ] {
            let err = import(bytes, file).await.unwrap_err();
            assert!(
                matches!(&err, AppError::Invalid(p)
                    if p.field == Some("file")
                        && p.ja.starts_with(&format!("{file}: "))
                        && p.ja.contains("上限")
                        && p.en.contains("cells")),
                "{file}: {err:?}"
            );
        }
        // Nothing was written: no import was started.
        assert_eq!(app.store.records_page(id, 0, 10).await.unwrap().len(), 0);
        // A1 and XFD1048576: read as two cells, imported as one row.
        let report = import(
            xlsx_cells(&[
                ("A1", "氏名"),
                ("B1", "メールアドレス"),
                ("A1048576", "山田 花子"),
                ("B1048576", "hanako@example.jp"),
                ("XFD1048576", "x"),
            ]),
            "sparse.xlsx",
        )
        .await
        .unwrap();
        assert_eq!(report.imported, 1, "{:?}", report.rejects);
        e.db.cleanup().await;
    }
}
