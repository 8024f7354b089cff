//! Impact analysis against real databases (SQLite and PostgreSQL): matching leaked rows through
//! the blind index (e-mail, phone, name + birth date, name + address, with spelling variants),
//! deduplication across files and of unmatched rows, idempotent batches, the system side (a
//! dataset and a window, an account's reveals and exports), the proposal and its application
//! (the assessment changes at 1,000 → 1,001 persons), rights on the persons list, and the
//! blind-index upgrade that gives old records their name + address terms.

use mamori_app::admin::UserInput;
use mamori_app::clock::ManualClock;
use mamori_app::impact::{Contact, MatchStats};
use mamori_app::incident::FirstReportInput;
use mamori_app::keys::Keys;
use mamori_app::vault_import::ImportOptions;
use mamori_app::{App, AppError, Ctx, Settings};
use mamori_domain::appi::item::Item;
use mamori_domain::appi::Category;
use mamori_domain::impact::{LeakedField as F, LeakedRow};
use mamori_domain::ledger::DatasetInput;
use mamori_domain::role::Role;
use mamori_domain::vault::GrantRequest;
use mamori_store::testing::{temp_dir, TestDb};
use std::sync::Arc;

// 2026-11-24T01:00:00Z = 2026-11-24 10:00 JST.
const T0: i64 = 1_795_482_000_000_000;
const HOUR: i64 = 3_600_000_000;

struct Env {
    app: App,
    clock: Arc<ManualClock>,
    _db: TestDb,
    staff: Ctx,
    staff_id: i64,
    privacy: Ctx,
    privacy_id: i64,
    custodian: Ctx,
    custodian_id: i64,
    ds: i64,
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

const SCHEMA: &str = "name:name, kana:kana_name, email:email, phone:phone, zip:postal_code, \
    address:address, birth:birth_date";

fn members_csv() -> String {
    let mut s = String::from("氏名,フリガナ,メールアドレス,電話番号,郵便番号,住所,生年月日\r\n");
    s.push_str("山田 花子,ヤマダ ハナコ,hanako@example.jp,090-1111-2222,100-0001,東京都千代田区千代田1-1-1,1985-01-02\r\n");
    s.push_str("佐藤 次郎,サトウ ジロウ,jiro@example.jp,03-3333-4444,150-0002,東京都渋谷区渋谷2丁目2番2号,1990-05-06\r\n");
    s.push_str("鈴木 三郎,スズキ サブロウ,saburo@example.jp,080-5555-6666,,大阪府大阪市北区梅田3-2-1,1970-03-04\r\n");
    s.push_str("高橋 四郎,タカハシ シロウ,shiro@example.jp,070-7777-8888,,福岡県福岡市中央区天神1-1-1,1980-12-12\r\n");
    s
}

async fn env(db: TestDb) -> Env {
    let clock = Arc::new(ManualClock::new(T0));
    let keys = Keys::load_or_create(&temp_dir("keys").join("k"), true).unwrap();
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
    let staff = person(&app, co, sales, "yamada", Role::Staff).await;
    let privacy = person(&app, co, hq, "tanaka", Role::PrivacyOffice).await;
    let custodian = person(&app, co, hq, "kobayashi", Role::Custodian).await;
    let ds = app
        .create_dataset(
            &privacy,
            DatasetInput {
                name: "会員情報".into(),
                department_id: sales,
                items: vec![Item::Name, Item::Email],
                persons: Some(4),
                purpose: "商品の発送".into(),
                ..DatasetInput::default()
            },
        )
        .await
        .unwrap();
    let d = app.store.get_dataset(ds).await.unwrap();
    app.set_vault_schema(&privacy, ds, d.version, SCHEMA, None)
        .await
        .unwrap();
    let report = app
        .vault_import(
            &privacy,
            members_csv().as_bytes(),
            &ImportOptions {
                dataset: "会員情報".into(),
                file_name: "members.csv".into(),
                ..ImportOptions::default()
            },
            &|_| true,
        )
        .await
        .unwrap();
    assert_eq!(report.imported, 4, "{:?}", report.rejects);
    Env {
        staff_id: staff.actor_id().unwrap(),
        privacy_id: privacy.actor_id().unwrap(),
        custodian_id: custodian.actor_id().unwrap(),
        app,
        clock,
        _db: db,
        staff,
        privacy,
        custodian,
        ds,
    }
}

async fn envs() -> Vec<Env> {
    let mut out = Vec::new();
    for db in TestDb::all().await {
        out.push(env(db).await);
    }
    out
}

async fn incident(e: &Env) -> i64 {
    let (id, _) = e
        .app
        .file_first_report(
            &e.staff,
            &FirstReportInput {
                description: "会員リストが外部に流出".into(),
                event: "leak".into(),
                certainty: "confirmed".into(),
                items: vec!["name".into()],
                ..FirstReportInput::default()
            },
        )
        .await
        .unwrap();
    id
}

fn row(locator: &str, values: &[(F, &str)]) -> LeakedRow {
    LeakedRow {
        locator: locator.into(),
        values: values.iter().map(|(f, v)| (*f, (*v).to_owned())).collect(),
    }
}

async fn record_of(e: &Env, email: &str) -> i64 {
    let (_, f) = e
        .app
        .vault_lookup(
            &e.custodian,
            e.ds,
            &mamori_app::vault::LookupBy::Email(email.into()),
        )
        .await
        .unwrap();
    assert_eq!(f.len(), 1, "{email}");
    f[0].id
}

fn file_a() -> Vec<LeakedRow> {
    vec![
        // Full-width, upper case.
        row("a.csv:2", &[(F::Email, "ＨＡＮＡＫＯ@Example.JP")]),
        // +81 and a name.
        row(
            "a.csv:3",
            &[(F::Name, "佐藤次郎"), (F::Phone, "+81 3 3333 4444")],
        ),
        // Hiragana against the katakana of the vault, a 和暦 birth date.
        row(
            "a.csv:4",
            &[
                (F::KanaName, "すずき さぶろう"),
                (F::BirthDate, "昭和45年3月4日"),
            ],
        ),
        // Kanji numerals and 丁目/番/号 against hyphens; the prefecture left out, 〒 added.
        row(
            "a.csv:5",
            &[
                (F::Name, "高橋　四郎"),
                (F::Address, "〒810-0001 福岡市中央区天神一丁目1番1号"),
            ],
        ),
        // A bare name never matches.
        row("a.csv:6", &[(F::Name, "山田 花子")]),
        // Nobody in the vault.
        row(
            "a.csv:7",
            &[(F::Name, "見知らぬ 人"), (F::Email, "stranger@example.com")],
        ),
        row(
            "a.csv:8",
            &[
                (F::Email, "Stranger@Example.com"),
                (F::Phone, "090-0000-0000"),
            ],
        ),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn matching_variants_dedupe_and_idempotent_batches() {
    for e in envs().await {
        let app = &e.app;
        let id = incident(&e).await;
        let stats = app.match_leaked(id, Some(1), file_a()).await.unwrap();
        assert_eq!(
            stats,
            MatchStats {
                rows: 7,
                matched: 4,
                unmatched: 3
            }
        );
        let hanako = record_of(&e, "hanako@example.jp").await;
        let jiro = record_of(&e, "jiro@example.jp").await;
        let saburo = record_of(&e, "saburo@example.jp").await;
        let shiro = record_of(&e, "shiro@example.jp").await;
        let persons = app.store.impact_persons(id, 0, 100).await.unwrap();
        let by_record = |r: i64| persons.iter().find(|p| p.record_id == Some(r)).unwrap();
        assert_eq!(by_record(hanako).strength, "identifier");
        assert_eq!(by_record(jiro).strength, "identifier");
        assert_eq!(by_record(saburo).strength, "name");
        assert_eq!(by_record(shiro).strength, "name");
        let unmatched: Vec<_> = persons.iter().filter(|p| p.record_id.is_none()).collect();
        assert_eq!(unmatched.len(), 2, "the stranger twice is one person");
        assert!(unmatched.iter().all(|p| p.strength == "none"));
        let stranger = unmatched.iter().find(|p| p.sources == 2).unwrap();
        assert_eq!(stranger.first_locator, "a.csv:7");
        assert_eq!(stranger.items, "email,name,phone");
        // No plain value in the dedupe keys or in the sealed contact.
        for p in &persons {
            assert!(!p.dedupe_key.contains("stranger") && !p.dedupe_key.contains('@'));
            if let Some(c) = &p.contact_sealed {
                assert!(!c.contains("stranger") && !c.contains("見知らぬ"));
            }
        }
        // The same person in a second file: one person, the union of items.
        let b = vec![
            row(
                "b.csv:2",
                &[
                    (F::Email, "hanako@example.jp"),
                    (F::CreditCard, "4111111111111111"),
                ],
            ),
            row("b.csv:3", &[(F::Email, "STRANGER@example.com")]),
        ];
        assert_eq!(
            app.match_leaked(id, Some(2), b.clone()).await.unwrap(),
            MatchStats {
                rows: 2,
                matched: 1,
                unmatched: 1
            }
        );
        let before = app.store.impact_persons(id, 0, 100).await.unwrap();
        assert_eq!(before.len(), 6);
        let h = before.iter().find(|p| p.record_id == Some(hanako)).unwrap();
        assert_eq!(h.sources, 2);
        let items = mamori_app::impact::items_of(h);
        assert_eq!(items, vec![Item::Email, Item::CreditCardNumber]);
        // Sent again (a resumed scan): nothing changes.
        app.match_leaked(id, Some(1), file_a()).await.unwrap();
        app.match_leaked(id, Some(2), b).await.unwrap();
        let after = app.store.impact_persons(id, 0, 100).await.unwrap();
        assert_eq!(
            after
                .iter()
                .map(|p| (p.id, p.sources, p.items.clone()))
                .collect::<Vec<_>>(),
            before
                .iter()
                .map(|p| (p.id, p.sources, p.items.clone()))
                .collect::<Vec<_>>()
        );
        assert_eq!(app.store.impact_source_count(id).await.unwrap(), 9);
        // Counts for every viewer.
        let c = app.impact_counts(&e.staff, id).await.unwrap();
        assert_eq!((c.total, c.identifier, c.name, c.unmatched), (6, 2, 2, 2));
        assert!(c.per_item.contains(&(Item::CreditCardNumber, 1)));
        assert!(c.per_item.contains(&(Item::Email, 2)));
        // Campaign contacts: from the vault for matched persons, from the leak otherwise.
        let all = app.affected_persons(id, 0, 100).await.unwrap();
        assert_eq!(all.len(), 6);
        let hc = all.iter().find(|p| p.record_id == Some(hanako)).unwrap();
        assert_eq!(
            hc.contact,
            Contact {
                name: Some("山田 花子".into()),
                postal_code: Some("100-0001".into()),
                address: Some("東京都千代田区千代田1-1-1".into()),
                email: Some("hanako@example.jp".into()),
                phone: Some("090-1111-2222".into()),
            }
        );
        let sc = all
            .iter()
            .find(|p| p.contact.email.as_deref() == Some("stranger@example.com"))
            .unwrap();
        assert_eq!(sc.contact.name.as_deref(), Some("見知らぬ 人"));
        assert_eq!(sc.record_id, None);
        // Paging by id.
        let first = app.affected_persons(id, 0, 2).await.unwrap();
        let rest = app.affected_persons(id, first[1].id, 100).await.unwrap();
        assert_eq!(first.len() + rest.len(), 6);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn persons_need_custody_or_a_grant_others_see_counts() {
    for e in envs().await {
        let app = &e.app;
        let id = incident(&e).await;
        app.match_leaked(id, Some(1), file_a()).await.unwrap();
        // The reporter sees the incident: counts only.
        let (p, withheld) = app.impact_persons(&e.staff, id, 0, 100).await.unwrap();
        assert!(p.is_empty());
        assert_eq!(withheld, 6);
        // The privacy office without a grant: unmatched persons only.
        let (p, withheld) = app.impact_persons(&e.privacy, id, 0, 100).await.unwrap();
        assert_eq!((p.len(), withheld), (2, 4));
        assert!(p.iter().all(|x| x.record_id.is_none()));
        // A custodian who is no viewer of the incident sees nothing of it.
        assert!(matches!(
            app.impact_persons(&e.custodian, id, 0, 100).await,
            Err(AppError::NotFound)
        ));
        // A grant on the dataset opens its persons to the privacy office.
        app.issue_grant(
            &e.custodian,
            e.ds,
            e.privacy_id,
            &GrantRequest {
                fields: vec!["name".into(), "email".into()],
                purpose: "影響範囲の確認".into(),
                hours: 4,
                may_export: false,
            },
        )
        .await
        .unwrap();
        let (p, withheld) = app.impact_persons(&e.privacy, id, 0, 100).await.unwrap();
        assert_eq!((p.len(), withheld), (6, 0));
        let matched: Vec<_> = p.iter().filter(|x| x.record_id.is_some()).collect();
        assert_eq!(matched.len(), 4);
        let h = matched
            .iter()
            .find(|x| x.shown.iter().any(|(f, _)| f == "email"))
            .unwrap();
        // Masked, and only the granted fields (no phone).
        for (f, shown) in &h.shown {
            assert!(f == "name" || f == "email", "{f}");
            assert!(
                !shown.contains("@example.jp") || shown.contains('*'),
                "{shown}"
            );
            assert!(!shown.contains("花子"), "{shown}");
        }
        // Each list is in the audit log with the records shown.
        let log = app
            .store
            .search_audit(
                &mamori_store::audit::AuditFilter {
                    action: Some("impact.persons".into()),
                    ..Default::default()
                },
                10,
            )
            .await
            .unwrap();
        assert_eq!(log.len(), 3);
        assert!(log[0].record.detail.contains("\"records\":["));
        let _ = (e.staff_id, e.custodian_id);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn system_side_by_dataset_window_and_by_account() {
    for e in envs().await {
        let app = &e.app;
        // Records imported at T0; one more imported two days later.
        e.clock.advance_secs(48 * 3600);
        app.vault_import(
            &e.privacy,
            "氏名,メールアドレス\r\n伊藤 五郎,goro@example.jp\r\n".as_bytes(),
            &ImportOptions {
                dataset: "会員情報".into(),
                file_name: "late.csv".into(),
                ..ImportOptions::default()
            },
            &|_| true,
        )
        .await
        .unwrap();
        let id = incident(&e).await;
        // A window around the late import only (JST dates).
        let w = mamori_app::impact::parse_window("2026-11-26", "2026-11-26").unwrap();
        let s = app
            .impact_from_dataset(&e.privacy, id, e.ds, w)
            .await
            .unwrap();
        assert_eq!(s.rows, 1);
        let s = app
            .impact_from_dataset(&e.privacy, id, e.ds, None)
            .await
            .unwrap();
        assert_eq!(s.rows, 5);
        let c = app.impact_counts(&e.privacy, id).await.unwrap();
        assert_eq!((c.total, c.identifier), (5, 5), "the late record once");
        // Only incident managers may scope.
        assert!(matches!(
            app.impact_from_dataset(&e.staff, id, e.ds, None).await,
            Err(AppError::Denied)
        ));
        assert!(parse_bad_window());
        // An account: the custodian revealed one phone and exported nothing.
        let hanako = record_of(&e, "hanako@example.jp").await;
        app.vault_reveal(&e.custodian, hanako, "phone")
            .await
            .unwrap();
        let id2 = incident(&e).await;
        let s = app
            .impact_from_account(&e.privacy, id2, e.custodian_id, None)
            .await
            .unwrap();
        assert_eq!(s.rows, 1);
        let p = app.store.impact_persons(id2, 0, 10).await.unwrap();
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].record_id, Some(hanako));
        assert_eq!(p[0].items, "phone");
        // An export by the custodian: every record with the exported fields' items.
        e.clock.advance_secs(3600);
        app.vault_export(&e.custodian, e.ds, false).await.unwrap();
        let s = app
            .impact_from_account(&e.privacy, id2, e.custodian_id, None)
            .await
            .unwrap();
        assert_eq!(s.rows, 5);
        let p = app.store.impact_persons(id2, 0, 10).await.unwrap();
        assert_eq!(p.len(), 5);
        // A window before the reveal and the export finds nothing.
        let id3 = incident(&e).await;
        let s = app
            .impact_from_account(&e.privacy, id3, e.custodian_id, Some((T0, T0 + HOUR)))
            .await
            .unwrap();
        assert_eq!(s.rows, 0);
    }
}

fn parse_bad_window() -> bool {
    matches!(
        mamori_app::impact::parse_window("2026-11-27", "2026-11-26"),
        Err(AppError::Invalid(_))
    ) && matches!(
        mamori_app::impact::parse_window("昨日", ""),
        Err(AppError::Invalid(_))
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proposal_and_apply_change_the_assessment_at_1001() {
    for e in envs().await {
        let app = &e.app;
        let id = incident(&e).await;
        let rows: Vec<LeakedRow> = (0..1000)
            .map(|i| {
                row(
                    &format!("list.csv:{}", i + 2),
                    &[(F::Email, &format!("p{i}@example.com"))],
                )
            })
            .collect();
        app.match_leaked(id, Some(1), rows).await.unwrap();
        let p = app.impact_proposal(&e.privacy, id).await.unwrap();
        assert_eq!(p.counts.total, 1000);
        assert_eq!(p.proposed.persons, Some(1000));
        assert!(p.proposed.items.contains(&Item::Email));
        assert!(!p.changes.is_empty());
        assert!(!p
            .proposed_assessment
            .categories
            .contains(&Category::Over1000));
        // Only the privacy office applies.
        assert!(matches!(
            app.apply_impact_proposal(&e.staff, id, p.version).await,
            Err(AppError::Denied)
        ));
        app.apply_impact_proposal(&e.privacy, id, p.version)
            .await
            .unwrap();
        let inc = app.store.get_incident(id).await.unwrap();
        assert_eq!(inc.persons, Some(1000));
        assert!(!inc.reportable);
        // One more person: 1,001 is over 1,000.
        app.match_leaked(
            id,
            Some(2),
            vec![row("more.csv:2", &[(F::Email, "p1000@example.com")])],
        )
        .await
        .unwrap();
        let p = app.impact_proposal(&e.privacy, id).await.unwrap();
        assert_eq!(p.current.persons, Some(1000));
        assert_eq!(p.proposed.persons, Some(1001));
        assert!(!p
            .current_assessment
            .categories
            .contains(&Category::Over1000));
        assert!(p
            .proposed_assessment
            .categories
            .contains(&Category::Over1000));
        // A stale version is refused, as for a hand edit.
        assert!(app
            .apply_impact_proposal(&e.privacy, id, p.version - 1)
            .await
            .is_err());
        app.apply_impact_proposal(&e.privacy, id, p.version)
            .await
            .unwrap();
        let inc = app.store.get_incident(id).await.unwrap();
        assert_eq!(inc.persons, Some(1001));
        assert!(inc.reportable);
        let tl: Vec<String> = app
            .store
            .timeline(id)
            .await
            .unwrap()
            .iter()
            .map(|t| t.text.clone())
            .collect();
        let tl = tl.join("\n");
        assert!(tl.contains("1001") || tl.contains("1,001"), "{tl}");
        assert!(tl.contains("報告対象"), "{tl}");
        // Nothing left to apply.
        let p = app.impact_proposal(&e.privacy, id).await.unwrap();
        assert!(p.changes.is_empty());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reindex_upgrade_gives_old_records_name_address_terms() {
    for e in envs().await {
        let app = &e.app;
        // The database as written before index format 2: no name + address rows. (Every index
        // row is removed and the older classes put back by the upgrade as well: the re-index
        // writes every class.)
        for sql in [
            "DELETE FROM vault_index",
            "DELETE FROM _sqlx_migrations WHERE version = 13",
            "DROP TABLE impact_sources",
            "DROP TABLE impact_persons",
        ] {
            sqlx::query(sql).execute(app.store.pool()).await.unwrap();
        }
        app.store.migrate().await.unwrap();
        let queued: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE kind = 'vault.reindex'")
                .fetch_one(app.store.pool())
                .await
                .unwrap();
        assert_eq!(queued, 1, "the migration queues the re-index");
        let id = incident(&e).await;
        let leak = vec![row(
            "x.csv:2",
            &[
                (F::Name, "タカハシ シロウ"),
                (F::Address, "福岡市中央区天神１－１－１"),
            ],
        )];
        let s = app.match_leaked(id, Some(1), leak.clone()).await.unwrap();
        assert_eq!(s.matched, 0, "not indexed yet");
        // The worker runs the job.
        for _ in 0..20 {
            app.work_once("test", &App::job_handlers()).await.unwrap();
            let left: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM jobs WHERE kind = 'vault.reindex' AND done_at IS NULL",
            )
            .fetch_one(app.store.pool())
            .await
            .unwrap();
            if left == 0 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert_eq!(
            app.store
                .get_setting("vault.index_format")
                .await
                .unwrap()
                .as_deref(),
            Some("2")
        );
        let s = app
            .match_leaked(id, Some(2), {
                let mut l = leak.clone();
                l[0].locator = "y.csv:2".into();
                l
            })
            .await
            .unwrap();
        assert_eq!(s.matched, 1, "name + address after the upgrade");
        // Running it again adds nothing and loses nothing.
        assert_eq!(app.reindex_records(2).await.unwrap(), (4, 0));
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM vault_index")
            .fetch_one(app.store.pool())
            .await
            .unwrap();
        assert!(n > 0);
        let (_, f) = app
            .vault_lookup(
                &e.custodian,
                e.ds,
                &mamori_app::vault::LookupBy::Phone("070-7777-8888".into()),
            )
            .await
            .unwrap();
        assert_eq!(f.len(), 1);
    }
}
