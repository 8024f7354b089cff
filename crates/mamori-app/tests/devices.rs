//! The device register and take-outs (issue 17, parts 3 and 4) against real databases (SQLite
//! and PostgreSQL) and the real SMTP sink: who sees and changes what, lending and return with
//! the history, register CSVs in CP932 and UTF-8 with a BOM (preview, problems with line and
//! column, nothing stored until the person says, only the good rows when asked), the export for
//! Excel, take-out requests decided by the right head and never by the requester, evidence,
//! the month's open take-outs, and the reminders of overdue loans and take-outs once per person
//! and JST day.

use mamori_app::admin::UserInput;
use mamori_app::clock::{Clock, ManualClock};
use mamori_app::devices::{DeviceFilter, DeviceInput, LOAN_REMINDER_TASK};
use mamori_app::keys::Keys;
use mamori_app::takeouts::{Show, TakeoutInput, TAKEOUT_REMINDER_TASK};
use mamori_app::{App, AppError, Ctx, Settings};
use mamori_domain::appi::item::Item;
use mamori_domain::ledger::DatasetInput;
use mamori_domain::programme::schedule::Month;
use mamori_domain::role::Role;
use mamori_mail::sink::SmtpSink;
use mamori_mail::{Mailer, SmtpConfig};
use mamori_store::audit::AuditFilter;
use mamori_store::testing::{temp_dir, TestDb};
use std::sync::Arc;
use std::time::Duration;

// 2026-12-07T01:00:00Z = 2026-12-07 10:00 JST (a Monday).
const T0: i64 = 1_796_605_200_000_000;
const HOUR: i64 = 3_600_000_000;

struct Env {
    app: App,
    clock: Arc<ManualClock>,
    sink: SmtpSink,
    db: TestDb,
    sales: i64,
    support: i64,
    hr: i64,
    privacy: Ctx,
    sales_head: Ctx,
    hr_head: Ctx,
    staff: Ctx,
    support_staff: Ctx,
    auditor: Ctx,
    other_company: Ctx,
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

async fn envs() -> Vec<Env> {
    let mut out = Vec::new();
    for db in TestDb::all().await {
        let clock = Arc::new(ManualClock::new(T0));
        let keys = Keys::load_or_create(&temp_dir("keys").join("k"), true).unwrap();
        let (app, _writer) = App::new(db.store.clone(), keys, clock.clone(), Settings::default());
        let sink = SmtpSink::start().await;
        let app = app.with_mailer(
            Mailer::new(&SmtpConfig {
                host: "127.0.0.1".into(),
                port: sink.port(),
                from: "mamori <alerts@example.co.jp>".into(),
                ..SmtpConfig::default()
            })
            .unwrap(),
        );
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
        let support = app
            .create_department(&l, co, Some(sales), "営業サポート課")
            .await
            .unwrap();
        let hr = app
            .create_department(&l, co, Some(hq), "人事部")
            .await
            .unwrap();
        let other = app.create_company(&l, "other", "他社").await.unwrap();
        let other_hq = app
            .create_department(&l, other, None, "本社")
            .await
            .unwrap();
        out.push(Env {
            privacy: person(&app, co, hq, "tanaka", Role::PrivacyOffice).await,
            sales_head: person(&app, co, sales, "eigyo", Role::DepartmentHead).await,
            hr_head: person(&app, co, hr, "jinji", Role::DepartmentHead).await,
            staff: person(&app, co, sales, "yamada", Role::Staff).await,
            support_staff: person(&app, co, support, "sato", Role::Staff).await,
            auditor: person(&app, co, hq, "kato", Role::Auditor).await,
            other_company: person(&app, other, other_hq, "other", Role::PrivacyOffice).await,
            app,
            clock,
            sink,
            db,
            sales,
            support,
            hr,
        });
    }
    out
}

fn laptop(tag: &str, dept: i64) -> DeviceInput {
    DeviceInput {
        asset_tag: tag.into(),
        kind: "laptop".into(),
        model: "ThinkPad X1".into(),
        serial: format!("SN-{tag}"),
        department_id: dept,
        owner: String::new(),
        pool: true,
        encryption: "yes".into(),
        remote_wipe: "unknown".into(),
        state: "in_stock".into(),
        note: String::new(),
    }
}

fn fields(e: &AppError) -> Vec<&'static str> {
    match e {
        AppError::Invalid(p) => p.all().iter().filter_map(|p| p.field).collect(),
        other => panic!("expected a problem, got {other:?}"),
    }
}

fn message(e: &AppError) -> String {
    match e {
        AppError::Invalid(p) => p.ja.clone(),
        other => panic!("expected a problem, got {other:?}"),
    }
}

async fn actions(app: &App, action: &str) -> Vec<String> {
    app.store
        .search_audit(
            &AuditFilter {
                action: Some(action.into()),
                ..AuditFilter::default()
            },
            200,
        )
        .await
        .unwrap()
        .iter()
        .map(|e| format!("{} {} {}", e.record.action, e.record.actor, e.record.target))
        .collect()
}

/// Runs the worker until nothing is due (mail goes out in spawned tasks; give them time).
async fn settle(app: &App) {
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(40)).await;
        if app.work_once("test", &App::job_handlers()).await.unwrap() == 0 {
            tokio::time::sleep(Duration::from_millis(40)).await;
            if app.work_once("test", &App::job_handlers()).await.unwrap() == 0 {
                return;
            }
        }
    }
}

fn recipients(mails: &[mamori_mail::sink::Received]) -> Vec<String> {
    let mut to: Vec<String> = mails.iter().flat_map(|m| m.to.clone()).collect();
    to.sort();
    to
}

#[tokio::test]
async fn the_register_is_kept_by_the_privacy_office_and_seen_by_scope() {
    for e in envs().await {
        let app = &e.app;
        let id = app
            .register_device(&e.privacy, &laptop("PC-001", e.sales))
            .await
            .unwrap();
        let mut mine = laptop("PC-002", e.support);
        mine.owner = "sato".into();
        mine.pool = false;
        mine.state = "in_use".into();
        app.register_device(&e.privacy, &mine).await.unwrap();
        app.register_device(&e.privacy, &laptop("PC-003", e.hr))
            .await
            .unwrap();
        // The tag is unique in the company, and said so at its field.
        let err = app
            .register_device(&e.privacy, &laptop("ＰＣ－００１", e.hr))
            .await
            .unwrap_err();
        assert_eq!(fields(&err), vec!["asset_tag"], "{}", e.db.name);
        // Every problem of a form at its field.
        let err = app
            .register_device(
                &e.privacy,
                &DeviceInput {
                    asset_tag: String::new(),
                    kind: "printer".into(),
                    department_id: 0,
                    owner: "nobody".into(),
                    encryption: "maybe".into(),
                    remote_wipe: "yes".into(),
                    state: "in_use".into(),
                    ..DeviceInput::default()
                },
            )
            .await
            .unwrap_err();
        assert_eq!(
            fields(&err),
            vec!["asset_tag", "kind", "department_id", "owner", "encryption"]
        );
        // Only the privacy office registers.
        for who in [&e.sales_head, &e.staff, &e.auditor] {
            assert!(matches!(
                app.register_device(who, &laptop("PC-009", e.sales)).await,
                Err(AppError::Denied)
            ));
        }
        // Who sees what: the office all, a head the own department and below, a staff member
        // the own devices, an auditor everything.
        let tags = |l: mamori_app::devices::DeviceList| {
            l.lines
                .iter()
                .map(|d| d.row.asset_tag.clone())
                .collect::<Vec<_>>()
        };
        let all = DeviceFilter::default();
        assert_eq!(
            tags(app.devices(&e.privacy, &all).await.unwrap()),
            vec!["PC-001", "PC-002", "PC-003"]
        );
        assert_eq!(tags(app.devices(&e.auditor, &all).await.unwrap()).len(), 3);
        assert_eq!(
            tags(app.devices(&e.sales_head, &all).await.unwrap()),
            vec!["PC-001", "PC-002"]
        );
        assert_eq!(
            tags(app.devices(&e.support_staff, &all).await.unwrap()),
            vec!["PC-002"]
        );
        assert!(tags(app.devices(&e.staff, &all).await.unwrap()).is_empty());
        assert!(tags(app.devices(&e.other_company, &all).await.unwrap()).is_empty());
        assert!(matches!(
            app.device(&e.hr_head, id).await,
            Err(AppError::Denied)
        ));
        assert!(matches!(
            app.device(&e.other_company, id).await,
            Err(AppError::NotFound)
        ));
        // Filters and paging at the size of seed 002's lending pool.
        for i in 0..120 {
            let mut d = laptop(&format!("LP-{i:03}"), e.sales);
            if i % 3 == 0 {
                d.kind = "usb".into();
            }
            app.register_device(&e.privacy, &d).await.unwrap();
        }
        let page = app
            .devices(
                &e.privacy,
                &DeviceFilter {
                    kind: Some("laptop".into()),
                    department_id: Some(e.sales),
                    page: 2,
                    ..DeviceFilter::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(page.matching, 81, "80 pool laptops and PC-001");
        assert_eq!(page.pages, 2);
        assert_eq!(page.lines.len(), 31);
        let found = app
            .devices(
                &e.privacy,
                &DeviceFilter {
                    q: "lp-10".into(),
                    ..DeviceFilter::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(found.matching, 10);
        // An edit at the shown version; a stale one is refused.
        let v = app.device(&e.privacy, id).await.unwrap();
        let mut edit = laptop("PC-001", e.sales);
        edit.encryption = "no".into();
        app.update_device(&e.privacy, id, v.row.version, &edit)
            .await
            .unwrap();
        assert!(app
            .update_device(&e.privacy, id, v.row.version, &edit)
            .await
            .is_err());
        assert_eq!(
            app.device(&e.privacy, id).await.unwrap().row.encryption,
            "no"
        );
        assert_eq!(actions(app, "devices.create").await.len(), 123);
        assert_eq!(
            actions(app, "devices.update").await,
            vec![format!("devices.update tanaka device:{id}")]
        );
        e.db.cleanup().await;
    }
}

#[tokio::test]
async fn lending_and_return_keep_the_history_and_overdue_returns_are_reminded() {
    for e in envs().await {
        let app = &e.app;
        let id = app
            .register_device(&e.privacy, &laptop("LP-001", e.sales))
            .await
            .unwrap();
        let v = app.device(&e.sales_head, id).await.unwrap();
        assert!(v.can_lend);
        // A head of another department may not lend it.
        assert!(matches!(
            app.lend_device(&e.hr_head, id, v.row.version, "sato", "2026-12-10", "")
                .await,
            Err(AppError::Denied)
        ));
        let err = app
            .lend_device(&e.sales_head, id, v.row.version, "nobody", "きのう", "")
            .await
            .unwrap_err();
        assert_eq!(fields(&err), vec!["borrower", "due"]);
        let err = app
            .lend_device(&e.sales_head, id, v.row.version, "sato", "2026-12-06", "")
            .await
            .unwrap_err();
        assert_eq!(fields(&err), vec!["due"]);
        app.lend_device(
            &e.sales_head,
            id,
            v.row.version,
            "sato",
            "2026-12-10",
            "出張",
        )
        .await
        .unwrap();
        // Lent: not again, and the borrower sees it as theirs.
        let v2 = app.device(&e.support_staff, id).await.unwrap();
        assert_eq!(v2.row.state, "lent");
        assert!(app
            .lend_device(&e.privacy, id, v2.row.version, "yamada", "2026-12-10", "")
            .await
            .is_err());
        assert_eq!(app.my_loans(&e.support_staff).await.unwrap().len(), 1);

        // Due on the 10th: nothing on the 10th at 23:00 JST.
        set_clock(&e.clock, T0 + 3 * 24 * HOUR + 13 * HOUR);
        app.run_periodic(LOAN_REMINDER_TASK).await.unwrap();
        settle(app).await;
        assert!(e.sink.messages().is_empty(), "{}", e.db.name);
        // The 11th at 00:30 JST (the 10th 15:30 UTC): the borrower and the head of the
        // borrower's department (営業サポート課 has none: the head of 営業部 above it).
        set_clock(&e.clock, T0 + 3 * 24 * HOUR + 14 * HOUR + HOUR / 2);
        app.run_periodic(LOAN_REMINDER_TASK).await.unwrap();
        let mails = e.sink.wait_for(2, Duration::from_secs(10)).await;
        assert_eq!(
            recipients(&mails),
            vec!["eigyo@example.co.jp", "sato@example.co.jp"]
        );
        let m = mails[0].parsed();
        assert!(m.subject.unwrap().contains("返却予定日を過ぎた貸出が1件"));
        assert!(
            m.text.contains("LP-001") && m.text.contains("1日超過"),
            "{}",
            m.text
        );
        // Once per person and day.
        e.clock.advance_micros(5 * HOUR);
        app.run_periodic(LOAN_REMINDER_TASK).await.unwrap();
        settle(app).await;
        assert_eq!(e.sink.messages().len(), 2);
        // The next JST day again.
        e.clock.advance_micros(20 * HOUR);
        app.run_periodic(LOAN_REMINDER_TASK).await.unwrap();
        e.sink.wait_for(4, Duration::from_secs(10)).await;
        settle(app).await;
        assert_eq!(e.sink.messages().len(), 4);

        // The return: only by who may lend; the history stays.
        assert!(matches!(
            app.return_device(&e.support_staff, id, "").await,
            Err(AppError::Denied)
        ));
        app.return_device(&e.sales_head, id, "傷なし")
            .await
            .unwrap();
        let err = app.return_device(&e.sales_head, id, "").await.unwrap_err();
        assert!(message(&err).contains("貸し出されていません"));
        let v3 = app.device(&e.privacy, id).await.unwrap();
        assert_eq!(v3.row.state, "in_stock");
        assert!(v3.open_loan.is_none());
        assert_eq!(v3.loans.len(), 1);
        assert_eq!(v3.loans[0].borrower, "sato さん");
        assert_eq!(v3.loans[0].row.return_note.as_deref(), Some("傷なし"));
        // Returned: no more reminders.
        e.clock.advance_micros(24 * HOUR);
        app.run_periodic(LOAN_REMINDER_TASK).await.unwrap();
        settle(app).await;
        assert_eq!(e.sink.messages().len(), 4);
        assert_eq!(actions(app, "devices.lend").await.len(), 1);
        assert_eq!(actions(app, "devices.return").await.len(), 1);
        e.db.cleanup().await;
    }
}

fn set_clock(clock: &ManualClock, at: i64) {
    clock.advance_micros(at - clock.now_micros());
}

async fn count(app: &App, ctx: &Ctx) -> usize {
    app.devices(ctx, &DeviceFilter::default())
        .await
        .unwrap()
        .matching
}

fn cp932(text: &str) -> Vec<u8> {
    let (bytes, _, unmappable) = encoding_rs::SHIFT_JIS.encode(text);
    assert!(!unmappable);
    bytes.into_owned()
}

#[tokio::test]
async fn register_csvs_in_cp932_and_utf8_are_previewed_then_imported() {
    for e in envs().await {
        let app = &e.app;
        let existing = app
            .register_device(&e.privacy, &laptop("PC-100", e.sales))
            .await
            .unwrap();
        // What an IT department keeps in Excel, saved as CSV (CP932), Japanese headers.
        let good = "資産番号,種別,機種,シリアル,部署,利用者,暗号化,リモートワイプ,状態,色\r\n\
                    PC-100,ノートPC,ThinkPad X1,SN-PC-100,営業部,,なし,不明,在庫,黒\r\n\
                    PC-101,ノートパソコン,Let's note,SN-101,営業サポート課,sato,済,○,使用中,銀\r\n\
                    SP-001,スマートフォン,iPhone 15,SN-SP1,人事部,jinji@example.co.jp,あり,あり,使用中,白\r\n\
                    USB-01,ＵＳＢメモリ,暗号化USB 32GB,,営業部,,あり,なし,在庫,\r\n";
        let p = app
            .preview_device_import(&e.privacy, &cp932(good), "台帳.csv")
            .await
            .unwrap();
        assert!(p.problems.is_empty(), "{:?}", p.problems);
        assert_eq!(p.adds.len(), 3, "{}", e.db.name);
        assert_eq!(p.updates.len(), 1);
        assert_eq!(p.updates[0].changes, vec!["暗号化"]);
        assert_eq!(p.ignored, vec!["色"]);
        // A preview stores nothing.
        assert_eq!(count(app, &e.privacy).await, 1);
        let done = app
            .apply_device_import(&e.privacy, p.id, false)
            .await
            .unwrap();
        assert_eq!((done.added, done.updated), (3, 1));
        assert_eq!(count(app, &e.privacy).await, 4);
        let d = app.device(&e.privacy, existing).await.unwrap();
        assert_eq!(d.row.encryption, "no");
        let list = app
            .devices(&e.privacy, &DeviceFilter::default())
            .await
            .unwrap();
        let sp = list
            .lines
            .iter()
            .find(|l| l.row.asset_tag == "SP-001")
            .unwrap();
        assert_eq!(
            (sp.row.kind.as_str(), sp.holder.as_str()),
            ("phone", "jinji さん")
        );
        let usb = list
            .lines
            .iter()
            .find(|l| l.row.asset_tag == "USB-01")
            .unwrap();
        assert_eq!(usb.row.kind, "usb");
        // Imported once only.
        assert!(app
            .apply_device_import(&e.privacy, p.id, false)
            .await
            .is_err());

        // A file with problems, UTF-8 with a BOM and English headers: every problem with its
        // line and column; nothing stored unless the good rows are asked for.
        let bad = "\u{feff}Asset Tag,Kind,Model,Department,User,Encryption,State\n\
                   PC-200,laptop,Dynabook,営業部,,yes,in stock\n\
                   PC-201,printer,LaserJet,経理部,nobody,maybe,in use\n\
                   PC-200,laptop,Dup,営業部,,yes,in stock\n\
                   PC-202,phone,Pixel,人事部,,no,lent\n";
        let p = app
            .preview_device_import(&e.privacy, bad.as_bytes(), "register.csv")
            .await
            .unwrap();
        let probs: Vec<(u64, &str)> = p
            .problems
            .iter()
            .map(|x| (x.line, x.column.as_str()))
            .collect();
        assert_eq!(
            probs,
            vec![
                (3, "Kind"),
                (3, "Department"),
                (3, "User"),
                (3, "Encryption"),
                (4, "Asset Tag"),
                (5, "State"),
            ]
        );
        assert_eq!(p.adds.len(), 1);
        assert_eq!(p.bad_lines(), 3);
        let err = app
            .apply_device_import(&e.privacy, p.id, false)
            .await
            .unwrap_err();
        assert!(
            message(&err).contains("3行に問題がある"),
            "{}",
            message(&err)
        );
        assert_eq!(count(app, &e.privacy).await, 4);
        let done = app
            .apply_device_import(&e.privacy, p.id, true)
            .await
            .unwrap();
        assert_eq!((done.added, done.skipped_lines), (1, 3));
        assert_eq!(count(app, &e.privacy).await, 5);

        // Files that are not a register: clear messages, nothing kept.
        for (bytes, name, says) in [
            (
                b"PK\x03\x04rest".to_vec(),
                "台帳.xlsx",
                "CSVファイルではありません",
            ),
            (vec![0u8; 200], "x.csv", "CSVファイルではありません"),
            (vec![b'a'; 6 << 20], "big.csv", "大きすぎます"),
            (
                {
                    let mut b = "資産番号,種別,部署\nPC-1,ノートPC,営業部\n"
                        .as_bytes()
                        .to_vec();
                    b.extend_from_slice(&[0xE3, 0x81, 0x0A, 0xFF, 0xFE, 0x0A]);
                    b
                },
                "broken.csv",
                "読めない箇所",
            ),
            (
                cp932("機種,部署\nX,営業部\n"),
                "no-tag.csv",
                "「資産番号」「種別」の列がありません",
            ),
        ] {
            let err = app
                .preview_device_import(&e.privacy, &bytes, name)
                .await
                .unwrap_err();
            assert!(message(&err).contains(says), "{name}: {}", message(&err));
            assert_eq!(fields(&err), vec!["file"]);
        }
        // Only the privacy office imports.
        assert!(matches!(
            app.preview_device_import(&e.sales_head, &cp932(good), "x.csv")
                .await,
            Err(AppError::Denied)
        ));

        // The export for Excel: CP932, formula-safe, read back by the import unchanged.
        let mut f = laptop("=cmd|'/c calc'!A1", e.sales);
        f.model = "+SUM(A1)".into();
        app.register_device(&e.privacy, &f).await.unwrap();
        let bytes = app.export_devices(&e.privacy, true).await.unwrap();
        let (text, _, bad_bytes) = encoding_rs::SHIFT_JIS.decode(&bytes);
        assert!(!bad_bytes);
        assert!(text.starts_with(
            "資産番号,種別,機種,シリアル番号,部署,利用者,貸出用,暗号化,リモートワイプ,状態,備考"
        ));
        assert!(
            text.contains("'=cmd") && text.contains("'+SUM(A1)"),
            "{text}"
        );
        assert!(text.contains("SP-001,スマートフォン,iPhone 15,SN-SP1,人事部,jinji,"));
        let back = app
            .preview_device_import(&e.privacy, &bytes, "export.csv")
            .await
            .unwrap();
        assert!(back.problems.is_empty(), "{:?}", back.problems);
        assert_eq!(
            (back.adds.len(), back.updates.len(), back.unchanged),
            (0, 0, 6)
        );
        assert!(matches!(
            app.export_devices(&e.staff, true).await,
            Err(AppError::Denied)
        ));
        assert_eq!(
            actions(app, "devices.import").await.len(),
            3 + 2,
            "three previews, two imports"
        );
        assert_eq!(actions(app, "devices.export").await.len(), 1);
        e.db.cleanup().await;
    }
}

async fn dataset(app: &App, ctx: &Ctx, name: &str, dept: i64) -> i64 {
    app.create_dataset(
        ctx,
        DatasetInput {
            name: name.into(),
            department_id: dept,
            items: vec![Item::Name, Item::Phone],
            persons: Some(300),
            purpose: "顧客対応".into(),
            ..DatasetInput::default()
        },
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn takeouts_are_decided_by_a_head_never_by_the_requester_and_reminded_when_overdue() {
    for e in envs().await {
        let app = &e.app;
        let customers = dataset(app, &e.privacy, "顧客名簿", e.sales).await;
        let staff_list = dataset(app, &e.privacy, "社員名簿", e.hr).await;
        let pc = app
            .register_device(&e.privacy, &laptop("LP-001", e.support))
            .await
            .unwrap();
        // The form offers the entries of the own department and those above, and the own
        // department's devices.
        let ch = app.takeout_choices(&e.support_staff).await.unwrap();
        assert_eq!(ch.datasets, vec![(customers, "顧客名簿".to_owned())]);
        assert_eq!(ch.devices.len(), 1);
        let err = app
            .request_takeout(
                &e.support_staff,
                &TakeoutInput {
                    dataset_id: staff_list,
                    carrier: "999".into(),
                    purpose: " ".into(),
                    until: "2026-12-01".into(),
                },
            )
            .await
            .unwrap_err();
        assert_eq!(
            fields(&err),
            vec!["dataset_id", "carrier", "purpose", "until"]
        );
        let id = app
            .request_takeout(
                &e.support_staff,
                &TakeoutInput {
                    dataset_id: customers,
                    carrier: pc.to_string(),
                    purpose: "顧客訪問で契約内容を確認するため".into(),
                    until: "2026-12-09".into(),
                },
            )
            .await
            .unwrap();
        // The head above is told.
        let mails = e.sink.wait_for(1, Duration::from_secs(10)).await;
        assert_eq!(recipients(&mails), vec!["eigyo@example.co.jp"]);
        // A head asks too: their own request is refused with the reason, whoever they are.
        let own = app
            .request_takeout(
                &e.sales_head,
                &TakeoutInput {
                    dataset_id: customers,
                    carrier: "paper".into(),
                    purpose: "監査対応".into(),
                    until: "2026-12-08".into(),
                },
            )
            .await
            .unwrap();
        let err = app
            .decide_takeout(&e.sales_head, own, true, "")
            .await
            .unwrap_err();
        assert!(message(&err).contains("自分の申請は承認・却下できません"));
        let v = app.takeout(&e.sales_head, own).await.unwrap();
        assert!(!v.can_decide && v.own_request);
        // The head of another department may not decide; staff may not at all.
        let err = app
            .decide_takeout(&e.hr_head, id, true, "")
            .await
            .unwrap_err();
        assert!(message(&err).contains("部門責任者だけ"));
        assert!(matches!(
            app.decide_takeout(&e.staff, id, true, "").await,
            Err(AppError::Denied)
        ));
        // The queues: the sales head sees the staff member's request, not the own one.
        let q: Vec<i64> = app
            .approval_queue(&e.sales_head)
            .await
            .unwrap()
            .iter()
            .map(|l| l.row.id)
            .collect();
        assert_eq!(q, vec![id]);
        assert!(app.approval_queue(&e.hr_head).await.unwrap().is_empty());
        assert_eq!(app.approval_queue(&e.privacy).await.unwrap().len(), 2);
        // A refusal needs its reason; the privacy office refuses the head's request.
        let err = app
            .decide_takeout(&e.privacy, own, false, " ")
            .await
            .unwrap_err();
        assert_eq!(fields(&err), vec!["reason"]);
        app.decide_takeout(&e.privacy, own, false, "紙での持ち出しは不可")
            .await
            .unwrap();
        app.decide_takeout(&e.sales_head, id, true, "")
            .await
            .unwrap();
        let err = app
            .decide_takeout(&e.privacy, id, false, "x")
            .await
            .unwrap_err();
        assert!(message(&err).contains("すでに判断済み"));
        let v = app.takeout(&e.support_staff, id).await.unwrap();
        assert_eq!(v.line.decided_by, "eigyo さん");
        assert!(v.can_close && !v.can_decide);
        // Who sees it: the requester, heads above, the office, the auditor; not the other head.
        assert!(app.takeout(&e.auditor, id).await.is_ok());
        assert!(matches!(
            app.takeout(&e.hr_head, id).await,
            Err(AppError::Denied)
        ));
        assert!(matches!(
            app.takeout(&e.staff, id).await,
            Err(AppError::Denied)
        ));
        let (tasks, _) = app.my_takeout_tasks(&e.support_staff).await.unwrap();
        assert_eq!(tasks.len(), 1);

        // Out until the 9th; the 10th (JST) it is overdue: the requester and the approver.
        settle(app).await;
        let before = e.sink.messages().len();
        set_clock(&e.clock, T0 + 2 * 24 * HOUR + 13 * HOUR); // the 9th, 23:00 JST
        app.run_periodic(TAKEOUT_REMINDER_TASK).await.unwrap();
        settle(app).await;
        assert_eq!(e.sink.messages().len(), before);
        e.clock.advance_micros(2 * HOUR); // the 10th, 01:00 JST
        app.run_periodic(TAKEOUT_REMINDER_TASK).await.unwrap();
        let mails = e.sink.wait_for(before + 2, Duration::from_secs(10)).await;
        assert_eq!(
            recipients(&mails[before..]),
            vec!["eigyo@example.co.jp", "sato@example.co.jp"]
        );
        app.run_periodic(TAKEOUT_REMINDER_TASK).await.unwrap();
        settle(app).await;
        assert_eq!(
            e.sink.messages().len(),
            before + 2,
            "once per person and day"
        );
        let overdue = app
            .takeouts(&e.sales_head, Show::Overdue, None)
            .await
            .unwrap();
        assert_eq!(overdue.lines.len(), 1);
        assert_eq!(overdue.lines[0].overdue_days, 1);

        // The evidence: by the requester, a day between the request and today, with a note.
        assert!(matches!(
            app.close_takeout(&e.sales_head, id, "returned", "2026-12-10", "返却")
                .await,
            Err(AppError::Denied)
        ));
        let err = app
            .close_takeout(&e.support_staff, id, "lost", "2026-12-11", "")
            .await
            .unwrap_err();
        assert_eq!(fields(&err), vec!["evidence", "on", "note"]);
        app.close_takeout(
            &e.support_staff,
            id,
            "returned",
            "2026-12-10",
            "営業部の金庫に返却",
        )
        .await
        .unwrap();
        let v = app.takeout(&e.support_staff, id).await.unwrap();
        assert_eq!(v.line.row.evidence.as_deref(), Some("returned"));
        assert!(!v.can_close);
        assert!(app
            .takeouts(&e.sales_head, Show::Overdue, None)
            .await
            .unwrap()
            .lines
            .is_empty());
        assert_eq!(
            app.takeouts(&e.sales_head, Show::Closed, None)
                .await
                .unwrap()
                .lines
                .len(),
            1
        );
        // Staff see their own only.
        assert!(app
            .takeouts(&e.staff, Show::All, None)
            .await
            .unwrap()
            .lines
            .is_empty());

        // The month's open take-outs for the monthly inspection and report: the one closed in
        // December counts for December, the refused one does not; nothing in January.
        let scope = app.programme_scope(&e.privacy).await.unwrap();
        let dec = Month {
            year: 2026,
            month: 12,
        };
        let open: Vec<i64> = app
            .open_takeouts(&scope, dec)
            .await
            .unwrap()
            .iter()
            .map(|l| l.row.id)
            .collect();
        assert_eq!(open, vec![id]);
        assert!(app
            .open_takeouts(&scope, dec.next())
            .await
            .unwrap()
            .is_empty());
        let hr_scope = app.programme_scope(&e.hr_head).await.unwrap();
        assert!(app.open_takeouts(&hr_scope, dec).await.unwrap().is_empty());
        for a in [
            "takeouts.request",
            "takeouts.approve",
            "takeouts.refuse",
            "takeouts.close",
        ] {
            assert!(!actions(app, a).await.is_empty(), "{a}");
        }
        assert_eq!(
            actions(app, "takeouts.decide").await.len(),
            4,
            "refused attempts"
        );
        e.db.cleanup().await;
    }
}
