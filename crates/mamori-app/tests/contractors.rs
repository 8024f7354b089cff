//! Contractors (委託先) and internal audit (issue 17, parts 5 and 6) against real databases
//! (SQLite and PostgreSQL) and a real SMTP server on loopback: the register with its ledger
//! entries, the checklist with its history, reviews and their reminders on JST days, the
//! incident that names a contractor, the audit plan with the independence of auditors,
//! findings, corrective actions and their reminders, who sees and changes what, and the
//! audit log.

use mamori_app::admin::UserInput;
use mamori_app::clock::ManualClock;
use mamori_app::contractors::{CheckInput, ContractorInput, ReviewInput, REMINDER_TASK};
use mamori_app::incident::FirstReportInput;
use mamori_app::internal_audit::{
    ActionChange, ActionInput, AuditDoneInput, AuditInput, FindingInput, PlanInput,
};
use mamori_app::keys::Keys;
use mamori_app::{App, AppError, Ctx, Settings};
use mamori_domain::appi::item::Item;
use mamori_domain::audit::Outcome;
use mamori_domain::ledger::DatasetInput;
use mamori_domain::programme::contractors::{CheckItem, CheckStatus};
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
const DAY: i64 = 24 * HOUR;

struct Env {
    app: App,
    clock: Arc<ManualClock>,
    sink: SmtpSink,
    db: TestDb,
    // Departments: 本社 ─┬─ 営業本部 ── 営業部
    //                    ├─ 管理部 ── 個人情報保護事務局
    //                    └─ 内部監査室
    hq: i64,
    sales_hq: i64,
    sales: i64,
    admin_dept: i64,
    privacy: Ctx,
    sales_head: Ctx,
    admin_head: Ctx,
    staff: Ctx,
    auditor: Ctx,
    /// An auditor who works in the sales department.
    sales_auditor: Ctx,
    /// An auditor who also holds the privacy office role.
    privacy_auditor: Ctx,
    exec: Ctx,
    other_company: Ctx,
}

async fn person(app: &App, company: i64, dept: i64, login: &str, roles: Vec<Role>) -> Ctx {
    let (id, _) = app
        .create_user(
            &Ctx::local(),
            &UserInput {
                company_id: Some(company),
                department_id: dept,
                login: login.into(),
                display_name: format!("{login} さん"),
                email: format!("{login}@example.co.jp"),
                roles,
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
        let settings = Settings {
            public_url: "http://mamori.test".into(),
            ..Settings::default()
        };
        let (app, _writer) = App::new(db.store.clone(), keys, clock.clone(), settings);
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
        let sales_hq = app
            .create_department(&l, co, Some(hq), "営業本部")
            .await
            .unwrap();
        let sales = app
            .create_department(&l, co, Some(sales_hq), "営業部")
            .await
            .unwrap();
        let admin_dept = app
            .create_department(&l, co, Some(hq), "管理部")
            .await
            .unwrap();
        let po = app
            .create_department(&l, co, Some(admin_dept), "個人情報保護事務局")
            .await
            .unwrap();
        let audit_dept = app
            .create_department(&l, co, Some(hq), "内部監査室")
            .await
            .unwrap();
        let other = app.create_company(&l, "other", "他社").await.unwrap();
        let other_hq = app
            .create_department(&l, other, None, "本社")
            .await
            .unwrap();
        out.push(Env {
            privacy: person(&app, co, po, "tanaka", vec![Role::PrivacyOffice]).await,
            sales_head: person(&app, co, sales, "eigyo", vec![Role::DepartmentHead]).await,
            admin_head: person(&app, co, admin_dept, "kanri", vec![Role::DepartmentHead]).await,
            staff: person(&app, co, sales, "yamada", vec![Role::Staff]).await,
            auditor: person(&app, co, audit_dept, "kato", vec![Role::Auditor]).await,
            sales_auditor: person(&app, co, sales, "sato", vec![Role::Auditor]).await,
            privacy_auditor: person(
                &app,
                co,
                audit_dept,
                "mori",
                vec![Role::Auditor, Role::PrivacyOffice],
            )
            .await,
            exec: person(&app, co, hq, "watanabe", vec![Role::Executive]).await,
            other_company: person(&app, other, other_hq, "other", vec![Role::PrivacyOffice]).await,
            app,
            clock,
            sink,
            db,
            hq,
            sales_hq,
            sales,
            admin_dept,
        });
    }
    out
}

fn fields(e: &AppError) -> Vec<&'static str> {
    match e {
        AppError::Invalid(p) => p.all().iter().filter_map(|p| p.field).collect(),
        other => panic!("expected a refusal of the input, got {other:?}"),
    }
}

fn message_at(e: &AppError, field: &str) -> String {
    match e {
        AppError::Invalid(p) => p
            .all()
            .into_iter()
            .find(|p| p.field == Some(field))
            .map(|p| p.ja)
            .unwrap_or_default(),
        other => panic!("expected a refusal of the input, got {other:?}"),
    }
}

fn contractor(name: &str, dept: i64) -> ContractorInput {
    ContractorInput {
        name: name.into(),
        address: "東京都千代田区丸の内1-1-1".into(),
        contact_person: "配送 花子".into(),
        contact: "03-0000-0000".into(),
        work: "商品の発送（氏名・住所・電話番号を扱う）".into(),
        department_id: dept,
        interval_months: "１２".into(),
        ..ContractorInput::default()
    }
}

/// How many entries of `action` the audit log holds with `outcome`.
async fn logged(app: &App, action: &str, outcome: Outcome) -> usize {
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
        .filter(|a| a.record.action == action && a.record.outcome == outcome)
        .count()
}

async fn actions_logged(app: &App, action: &str) -> usize {
    logged(app, action, Outcome::Success).await
}

fn set_clock(clock: &ManualClock, at: i64) {
    use mamori_app::clock::Clock;
    clock.advance_micros(at - clock.now_micros());
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

#[tokio::test]
async fn the_register_its_checklist_and_reviews_with_their_history_and_reach() {
    for e in envs().await {
        let app = &e.app;
        let name = e.db.name;
        let ds = app
            .create_dataset(
                &e.privacy,
                DatasetInput {
                    name: "会員情報".into(),
                    department_id: e.sales,
                    items: vec![Item::Name, Item::Address],
                    persons: Some(1000),
                    purpose: "商品の発送".into(),
                    ..DatasetInput::default()
                },
            )
            .await
            .unwrap();
        // Every problem of the form at once, at its field.
        let bad = ContractorInput {
            name: " ".into(),
            work: String::new(),
            department_id: 0,
            interval_months: "61".into(),
            next_review_on: "きのう".into(),
            datasets: vec![ds + 1000],
            ..ContractorInput::default()
        };
        let err = app.create_contractor(&e.privacy, &bad).await.unwrap_err();
        assert_eq!(
            fields(&err),
            [
                "name",
                "work",
                "department_id",
                "interval_months",
                "next_review_on",
                "datasets"
            ],
            "{name}"
        );
        assert!(message_at(&err, "interval_months").contains("1〜60か月"));
        // Only the privacy office (and the CISO) keeps the register.
        for who in [&e.sales_head, &e.staff, &e.auditor, &e.exec] {
            assert!(matches!(
                app.create_contractor(who, &contractor("X運輸", e.sales))
                    .await,
                Err(AppError::Denied)
            ));
        }
        let mut input = contractor("みらい配送株式会社", e.sales);
        input.datasets = vec![ds];
        let id = app.create_contractor(&e.privacy, &input).await.unwrap();
        let dup = app.create_contractor(&e.privacy, &input).await.unwrap_err();
        assert!(
            matches!(dup, AppError::Invalid(_)),
            "{name}: the same name twice"
        );
        let other = app
            .create_contractor(&e.privacy, &contractor("管理サービス", e.admin_dept))
            .await
            .unwrap();

        let d = app.contractor_detail(&e.privacy, id).await.unwrap();
        assert_eq!(d.row.interval_months, 12);
        assert_eq!(
            d.row.next_review_on, "2027-12-07",
            "{name}: a year from today (JST)"
        );
        assert_eq!(d.datasets, vec![(ds, "会員情報".to_owned())]);
        assert_eq!(
            app.dataset_contractors(&e.sales_head, ds).await.unwrap(),
            vec![(id, "みらい配送株式会社".to_owned())],
            "{name}: the ledger entry shows its contractors"
        );
        assert!(app
            .dataset_contractors(&e.staff, ds)
            .await
            .unwrap()
            .is_empty());
        assert_eq!(d.checks.len(), 7);
        assert_eq!(d.summary.unchecked, 7);
        assert!(d.can_edit && d.can_record);

        // The checklist: a met item needs its evidence; each record is a new row.
        let check = |item: &str, status: &str, document: &str| CheckInput {
            item: item.into(),
            status: status.into(),
            document: document.into(),
            document_on: "2026/4/1".into(),
            note: String::new(),
        };
        let err = app
            .record_contractor_check(&e.privacy, id, &check("purpose", "met", ""))
            .await
            .unwrap_err();
        assert_eq!(fields(&err), ["document"], "{name}");
        let err = app
            .record_contractor_check(&e.privacy, id, &check("nda", "maybe", ""))
            .await
            .unwrap_err();
        assert_eq!(fields(&err), ["item", "status"], "{name}");
        app.record_contractor_check(
            &e.privacy,
            id,
            &check("subcontracting", "not_met", "業務委託契約書 第8条"),
        )
        .await
        .unwrap();
        // The department head of the owning department records too (and is kept as who).
        e.clock.advance_micros(HOUR);
        app.record_contractor_check(
            &e.sales_head,
            id,
            &check("subcontracting", "met", "覚書（再委託の事前承認）"),
        )
        .await
        .unwrap();
        app.record_contractor_check(
            &e.sales_head,
            id,
            &check("purpose", "met", "業務委託契約書 第3条"),
        )
        .await
        .unwrap();
        let d = app.contractor_detail(&e.sales_head, id).await.unwrap();
        let sub = d
            .checks
            .iter()
            .find(|c| c.item == CheckItem::Subcontracting)
            .unwrap();
        assert_eq!(sub.status, CheckStatus::Met);
        assert_eq!(sub.history.len(), 2, "{name}: the history stays");
        assert_eq!(sub.history[0].by_name, "eigyo");
        assert_eq!(sub.history[1].status, "not_met");
        assert_eq!(sub.history[1].by_name, "tanaka");
        assert_eq!(sub.history[0].document_on.as_deref(), Some("2026-04-01"));
        assert_eq!(
            (d.summary.met, d.summary.not_met, d.summary.unchecked),
            (2, 0, 5)
        );
        assert!(d.can_record && !d.can_edit);

        // Reviews: the date, the result; the next one is the interval later.
        let err = app
            .record_contractor_review(
                &e.sales_head,
                id,
                &ReviewInput {
                    reviewed_on: "2026-12-31".into(),
                    result: "improvements".into(),
                    note: String::new(),
                },
            )
            .await
            .unwrap_err();
        assert_eq!(fields(&err), ["reviewed_on", "note"], "{name}");
        app.record_contractor_review(
            &e.sales_head,
            id,
            &ReviewInput {
                reviewed_on: "２０２６年１２月１日".into(),
                result: "satisfactory".into(),
                note: "現地確認。入退室管理・アクセスログを確認した。".into(),
            },
        )
        .await
        .unwrap();
        let d = app.contractor_detail(&e.privacy, id).await.unwrap();
        assert_eq!(d.row.next_review_on, "2027-12-01");
        assert_eq!(d.reviews.len(), 1);
        assert_eq!(d.reviews[0].by_name, "eigyo");

        // Who sees what: department heads their departments, staff nothing, other companies
        // nothing; auditors and executives read everything.
        let list = |c: &Ctx| {
            let c = c.clone();
            async move {
                app.contractors_overview(&c).await.map(|o| {
                    o.lines
                        .iter()
                        .map(|l| l.row.name.clone())
                        .collect::<Vec<_>>()
                })
            }
        };
        assert_eq!(list(&e.sales_head).await.unwrap(), ["みらい配送株式会社"]);
        assert_eq!(list(&e.admin_head).await.unwrap(), ["管理サービス"]);
        assert_eq!(list(&e.exec).await.unwrap().len(), 2);
        assert_eq!(list(&e.auditor).await.unwrap().len(), 2);
        assert!(matches!(list(&e.staff).await, Err(AppError::Denied)));
        assert!(list(&e.other_company).await.unwrap().is_empty());
        assert!(matches!(
            app.contractor_detail(&e.admin_head, id).await,
            Err(AppError::NotFound)
        ));
        assert!(matches!(
            app.contractor_detail(&e.other_company, id).await,
            Err(AppError::NotFound)
        ));
        assert!(matches!(
            app.record_contractor_check(&e.admin_head, id, &check("audit", "met", "契約書"))
                .await,
            Err(AppError::NotFound)
        ));
        assert!(matches!(
            app.record_contractor_check(&e.auditor, id, &check("audit", "met", "契約書"))
                .await,
            Err(AppError::Denied)
        ));
        assert!(matches!(
            app.record_contractor_review(&e.exec, other, &ReviewInput::default())
                .await,
            Err(AppError::Denied)
        ));

        // An edit keeps the version: a stale one is refused.
        let mut edit = contractor("みらい配送株式会社", e.sales);
        edit.version = d.row.version;
        edit.datasets = vec![];
        edit.interval_months = "6".into();
        edit.next_review_on = "2027-06-01".into();
        app.update_contractor(&e.privacy, id, &edit).await.unwrap();
        assert!(
            app.update_contractor(&e.privacy, id, &edit).await.is_err(),
            "{name}: stale"
        );
        let d = app.contractor_detail(&e.privacy, id).await.unwrap();
        assert!(d.datasets.is_empty());
        assert_eq!(
            (d.row.interval_months, d.row.next_review_on.as_str()),
            (6, "2027-06-01")
        );

        // The report's helpers.
        assert!(app
            .contractors_review_overdue(&e.privacy)
            .await
            .unwrap()
            .is_empty());
        e.clock.advance_micros(200 * DAY);
        let overdue = app.contractors_review_overdue(&e.privacy).await.unwrap();
        assert_eq!(overdue.len(), 1, "{name}");
        assert_eq!(overdue[0].row.id, id);
        assert!(app
            .contractors_review_overdue(&e.admin_head)
            .await
            .unwrap()
            .is_empty());

        // Every change and view is in the audit log.
        assert_eq!(actions_logged(app, "contractor.create").await, 2);
        assert_eq!(actions_logged(app, "contractor.check").await, 3);
        assert_eq!(actions_logged(app, "contractor.review").await, 1);
        assert_eq!(actions_logged(app, "contractor.update").await, 1);
        assert!(actions_logged(app, "contractor.view").await >= 4);
        // The refusals too: four creations, a check of another department's contractor (as
        // "not found"), an auditor's check, an executive's review.
        assert_eq!(
            logged(app, "contractor.create", Outcome::Denied).await,
            4,
            "{name}"
        );
        assert_eq!(
            logged(app, "contractor.check", Outcome::Denied).await,
            2,
            "{name}"
        );
        assert_eq!(
            logged(app, "contractor.review", Outcome::Denied).await,
            1,
            "{name}"
        );
    }
}

#[tokio::test]
async fn review_reminders_go_to_the_department_heads_and_the_privacy_office_once_a_day_in_japan() {
    for e in envs().await {
        let app = &e.app;
        let name = e.db.name;
        let mut input = contractor("みらい配送株式会社", e.sales);
        input.next_review_on = "2026-12-14".into();
        let id = app.create_contractor(&e.privacy, &input).await.unwrap();
        // Today (the 7th in Japan) is 7 days before: one reminder to the head of the sales
        // department and the privacy office — not to the head of another department.
        app.run_periodic(REMINDER_TASK).await.unwrap();
        settle(app).await;
        let mails = e.sink.wait_for(3, Duration::from_secs(10)).await;
        let mut to: Vec<String> = mails.iter().flat_map(|m| m.to.clone()).collect();
        to.sort();
        assert_eq!(
            to,
            [
                "eigyo@example.co.jp",
                "mori@example.co.jp",
                "tanaka@example.co.jp"
            ],
            "{name}"
        );
        let parsed = mails[0].parsed();
        assert!(
            parsed
                .subject
                .clone()
                .unwrap()
                .contains("見直し期限まであと7日"),
            "{name}"
        );
        assert!(parsed
            .text
            .contains(&format!("http://mamori.test/programme/contractors/{id}")));
        // Again the same day: nothing more.
        e.clock.advance_micros(3 * HOUR);
        app.run_periodic(REMINDER_TASK).await.unwrap();
        settle(app).await;
        assert_eq!(e.sink.messages().len(), 3, "{name}: once a day");
        // 2026-12-14T15:30Z is already the 15th in Japan: the day after the due date.
        set_clock(&e.clock, T0 + 7 * DAY + 14 * HOUR + 30 * 60_000_000);
        app.run_periodic(REMINDER_TASK).await.unwrap();
        settle(app).await;
        let mails = e.sink.wait_for(6, Duration::from_secs(10)).await;
        assert!(
            mails[5]
                .parsed()
                .subject
                .unwrap()
                .contains("1日過ぎています"),
            "{name}"
        );
        // Recording the review ends the reminders of that due date.
        app.record_contractor_review(
            &e.privacy,
            id,
            &ReviewInput {
                reviewed_on: "2026-12-15".into(),
                result: "satisfactory".into(),
                note: String::new(),
            },
        )
        .await
        .unwrap();
        e.clock.advance_micros(7 * DAY);
        app.run_periodic(REMINDER_TASK).await.unwrap();
        settle(app).await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(e.sink.messages().len(), 6, "{name}");
    }
}

#[tokio::test]
async fn an_incident_names_the_contractor_involved() {
    for e in envs().await {
        let app = &e.app;
        let name = e.db.name;
        let id = app
            .create_contractor(&e.privacy, &contractor("みらい配送株式会社", e.sales))
            .await
            .unwrap();
        let foreign = app
            .create_contractor(&e.other_company, &contractor("他社の委託先", 0).clone())
            .await;
        assert!(
            foreign.is_err(),
            "{name}: a department of the other company is needed"
        );
        let (incident, _) = app
            .file_first_report(
                &e.staff,
                &FirstReportInput {
                    title: "配送伝票の誤配布".into(),
                    description: "委託先の配送業者が別の顧客の伝票を同梱した。".into(),
                    event: "leak".into(),
                    certainty: "confirmed".into(),
                    items: vec!["name".into(), "address".into()],
                    persons: "3".into(),
                    ..FirstReportInput::default()
                },
            )
            .await
            .unwrap();
        let c = app.incident_contractor(&e.privacy, incident).await.unwrap();
        assert!(c.current.is_none() && c.can_set);
        assert_eq!(c.options, vec![(id, "みらい配送株式会社".to_owned())]);
        // Staff who filed it see it but do not set it.
        let c = app.incident_contractor(&e.staff, incident).await.unwrap();
        assert!(!c.can_set);
        assert!(matches!(
            app.set_incident_contractor(&e.staff, incident, Some(id))
                .await,
            Err(AppError::Denied)
        ));
        let err = app
            .set_incident_contractor(&e.privacy, incident, Some(id + 1000))
            .await
            .unwrap_err();
        assert_eq!(fields(&err), ["contractor_id"]);
        app.set_incident_contractor(&e.privacy, incident, Some(id))
            .await
            .unwrap();
        let c = app.incident_contractor(&e.staff, incident).await.unwrap();
        assert_eq!(c.current, Some((id, "みらい配送株式会社".to_owned())));
        let d = app.contractor_detail(&e.privacy, id).await.unwrap();
        assert_eq!(d.incidents.len(), 1, "{name}");
        assert_eq!(d.incidents[0].id, incident);
        assert!(matches!(
            app.incident_contractor(&e.other_company, incident).await,
            Err(AppError::NotFound)
        ));
        app.set_incident_contractor(&e.privacy, incident, None)
            .await
            .unwrap();
        assert!(app
            .contractor_detail(&e.privacy, id)
            .await
            .unwrap()
            .incidents
            .is_empty());
        assert_eq!(
            actions_logged(app, "incident.contractor").await,
            2,
            "{name}"
        );
        assert_eq!(
            logged(app, "incident.contractor", Outcome::Denied).await,
            1,
            "{name}"
        );
    }
}

#[tokio::test]
async fn the_plan_refuses_an_auditor_who_is_not_independent_with_the_reason_at_the_field() {
    for e in envs().await {
        let app = &e.app;
        let name = e.db.name;
        let plan = PlanInput {
            year: "２０２６".into(),
            note: "年2回（6月・12月）".into(),
        };
        for who in [&e.auditor, &e.sales_head, &e.staff, &e.exec] {
            assert!(matches!(
                app.create_audit_plan(who, &plan).await,
                Err(AppError::Denied)
            ));
        }
        let err = app
            .create_audit_plan(
                &e.privacy,
                &PlanInput {
                    year: "来年".into(),
                    note: String::new(),
                },
            )
            .await
            .unwrap_err();
        assert_eq!(fields(&err), ["year"]);
        assert_eq!(
            app.create_audit_plan(&e.privacy, &plan).await.unwrap(),
            2026
        );
        let err = app.create_audit_plan(&e.privacy, &plan).await.unwrap_err();
        assert!(message_at(&err, "year").contains("すでに"), "{name}");

        let uid = |c: &Ctx| c.user_ref().unwrap().id;
        let audit = |dept: i64, auditor: &Ctx| AuditInput {
            department_id: dept,
            planned_on: "2026-12-10".into(),
            auditor_id: uid(auditor),
        };
        for (input, reason) in [
            // Own department.
            (audit(e.sales, &e.sales_auditor), "自分の部署"),
            // A department containing the auditor's own.
            (audit(e.sales_hq, &e.sales_auditor), "下の部署に所属"),
            (audit(e.hq, &e.auditor), "下の部署に所属"),
            // The privacy manager, even from another department.
            (audit(e.sales, &e.privacy_auditor), "個人情報保護管理者"),
            (audit(e.sales, &e.privacy), "個人情報保護管理者"),
        ] {
            let err = app
                .add_planned_audit(&e.privacy, 2026, &input)
                .await
                .unwrap_err();
            assert_eq!(fields(&err), ["auditor_id"], "{name} {reason}");
            assert!(
                message_at(&err, "auditor_id").contains(reason),
                "{name}: {reason}"
            );
        }
        // Below the auditor's department: the head of 管理部 may not audit its privacy office.
        let po_dept = e.privacy.user_ref().unwrap().department_id;
        let err = app
            .add_planned_audit(&e.privacy, 2026, &audit(po_dept, &e.admin_head))
            .await
            .unwrap_err();
        assert!(
            message_at(&err, "auditor_id").contains("監査員の部署の下"),
            "{name}"
        );
        let err = app
            .add_planned_audit(
                &e.privacy,
                2026,
                &AuditInput {
                    department_id: 0,
                    planned_on: "2027-01-10".into(),
                    auditor_id: 0,
                },
            )
            .await
            .unwrap_err();
        assert_eq!(
            fields(&err),
            ["department_id", "planned_on", "auditor_id"],
            "{name}"
        );
        assert!(matches!(
            app.add_planned_audit(&e.privacy, 2025, &audit(e.sales, &e.auditor))
                .await,
            Err(AppError::NotFound)
        ));
        // Independent: the internal audit office audits sales; a sales auditor audits 管理部.
        let a1 = app
            .add_planned_audit(&e.privacy, 2026, &audit(e.sales, &e.auditor))
            .await
            .unwrap();
        let a2 = app
            .add_planned_audit(&e.privacy, 2026, &audit(e.admin_dept, &e.sales_auditor))
            .await
            .unwrap();
        let y = app.audit_year(&e.exec, Some(2026)).await.unwrap();
        assert_eq!(y.audits.len(), 2);
        assert!(!y.can_plan);
        assert_eq!(
            app.audit_year(&e.sales_head, Some(2026))
                .await
                .unwrap()
                .audits
                .len(),
            1
        );
        assert!(matches!(
            app.audit_year(&e.staff, Some(2026)).await,
            Err(AppError::Denied)
        ));
        assert!(app
            .audit_year(&e.other_company, Some(2026))
            .await
            .unwrap()
            .plan
            .is_none());

        // A finding from somebody who is not independent is refused with the reason, even
        // from an auditor; the planned auditor records it.
        let finding = FindingInput {
            severity: "minor".into(),
            description: "退職者のアカウントが2件残っていた。".into(),
            rule: "個人情報保護規程 第15条".into(),
        };
        let err = app
            .record_finding(&e.sales_auditor, a1, &finding)
            .await
            .unwrap_err();
        assert!(
            matches!(&err, AppError::Invalid(p) if p.ja.contains("自分の部署")),
            "{name}"
        );
        assert!(matches!(
            app.record_finding(&e.sales_head, a1, &finding).await,
            Err(AppError::Denied)
        ));
        app.record_finding(&e.auditor, a1, &finding).await.unwrap();
        app.record_finding(&e.sales_auditor, a2, &finding)
            .await
            .unwrap();
        assert!(actions_logged(app, "internal_audit.audit.create").await == 2);
    }
}

#[tokio::test]
async fn findings_actions_their_owners_counts_and_reminders() {
    for e in envs().await {
        let app = &e.app;
        let name = e.db.name;
        app.create_audit_plan(
            &e.privacy,
            &PlanInput {
                year: "2026".into(),
                note: String::new(),
            },
        )
        .await
        .unwrap();
        let uid = |c: &Ctx| c.user_ref().unwrap().id;
        let audit = app
            .add_planned_audit(
                &e.privacy,
                2026,
                &AuditInput {
                    department_id: e.sales,
                    planned_on: "2026-12-07".into(),
                    auditor_id: uid(&e.auditor),
                },
            )
            .await
            .unwrap();
        // The auditor has it as a task.
        let tasks = app.my_audit_tasks(&e.auditor).await.unwrap();
        assert_eq!(tasks.len(), 1);
        assert_eq!((tasks[0].kind, tasks[0].audit_id), ("audit", audit));

        let err = app
            .record_finding(
                &e.auditor,
                audit,
                &FindingInput {
                    severity: "major".into(),
                    description: String::new(),
                    rule: String::new(),
                },
            )
            .await
            .unwrap_err();
        assert_eq!(
            fields(&err),
            ["description", "rule"],
            "{name}: a non-conformity names its rule"
        );
        let major = app
            .record_finding(
                &e.auditor,
                audit,
                &FindingInput {
                    severity: "major".into(),
                    description: "顧客リストが施錠されていない棚に保管されていた。".into(),
                    rule: "JIS Q 15001 A.7.3 安全管理措置".into(),
                },
            )
            .await
            .unwrap();
        app.record_finding(
            &e.auditor,
            audit,
            &FindingInput {
                severity: "observation".into(),
                description: "教育記録の様式を統一するとよい。".into(),
                rule: String::new(),
            },
        )
        .await
        .unwrap();
        let counts = app.audit_counts(&e.privacy).await.unwrap();
        assert_eq!(
            (counts.open_findings, counts.open_major, counts.open_actions),
            (1, 1, 0),
            "{name}"
        );

        // A corrective action, owned by the staff member, due in 7 days.
        let err = app
            .add_corrective_action(
                &e.auditor,
                audit,
                &ActionInput {
                    finding_id: major,
                    description: String::new(),
                    owner_id: 0,
                    due_on: "2026-12-01".into(),
                },
            )
            .await
            .unwrap_err();
        assert_eq!(
            fields(&err),
            ["description", "owner_id", "due_on"],
            "{name}"
        );
        assert!(matches!(
            app.add_corrective_action(&e.staff, audit, &ActionInput::default())
                .await,
            Err(AppError::NotFound)
        ));
        let action = app
            .add_corrective_action(
                &e.sales_head,
                audit,
                &ActionInput {
                    finding_id: major,
                    description: "鍵付きキャビネットを導入し、保管ルールを周知する".into(),
                    owner_id: uid(&e.staff),
                    due_on: "2026-12-14".into(),
                },
            )
            .await
            .unwrap();
        app.finish_audit(
            &e.auditor,
            audit,
            &AuditDoneInput {
                done_on: "2026-12-07".into(),
                summary: "概ね適切。保管に重大な不適合1件。".into(),
            },
        )
        .await
        .unwrap();
        assert!(app.my_audit_tasks(&e.auditor).await.unwrap().is_empty());
        // The owner sees the action as a task and the audit it belongs to.
        let tasks = app.my_audit_tasks(&e.staff).await.unwrap();
        assert_eq!(tasks.len(), 1);
        assert_eq!(
            (tasks[0].kind, tasks[0].due.as_str()),
            ("action", "2026-12-14")
        );
        let d = app.audit_detail(&e.staff, audit).await.unwrap();
        assert!(d.findings[0].actions[0].can_update && !d.can_conduct && !d.can_add_actions);
        assert!(matches!(
            app.audit_detail(&e.admin_head, audit).await,
            Err(AppError::NotFound)
        ));

        // Reminders: 7 days before (today) to the owner; late, the privacy office too.
        app.run_periodic(REMINDER_TASK).await.unwrap();
        settle(app).await;
        let mails = e.sink.wait_for(1, Duration::from_secs(10)).await;
        assert_eq!(mails[0].to, ["yamada@example.co.jp"], "{name}");
        assert!(mails[0]
            .parsed()
            .subject
            .unwrap()
            .contains("期限まであと7日"));
        app.run_periodic(REMINDER_TASK).await.unwrap();
        settle(app).await;
        assert_eq!(e.sink.messages().len(), 1, "{name}: once");
        set_clock(&e.clock, T0 + 8 * DAY);
        app.run_periodic(REMINDER_TASK).await.unwrap();
        settle(app).await;
        let mails = e.sink.wait_for(4, Duration::from_secs(10)).await;
        let mut to: Vec<String> = mails[1..].iter().flat_map(|m| m.to.clone()).collect();
        to.sort();
        assert_eq!(
            to,
            [
                "mori@example.co.jp",
                "tanaka@example.co.jp",
                "yamada@example.co.jp"
            ],
            "{name}: late, the privacy office hears too"
        );
        assert!(mails[3]
            .parsed()
            .subject
            .unwrap()
            .contains("1日過ぎています"));
        let counts = app.audit_counts(&e.sales_head).await.unwrap();
        assert_eq!(
            (
                counts.open_actions,
                counts.overdue_actions,
                counts.audits_done
            ),
            (1, 1, 1),
            "{name}"
        );
        assert!(matches!(
            app.audit_counts(&e.staff).await,
            Err(AppError::Denied)
        ));

        // The owner updates it; done needs what was done; somebody else may not.
        assert!(matches!(
            app.update_corrective_action(
                &e.admin_head,
                action,
                &ActionChange {
                    status: "done".into(),
                    note: "x".into()
                }
            )
            .await,
            Err(AppError::NotFound)
        ));
        let err = app
            .update_corrective_action(
                &e.staff,
                action,
                &ActionChange {
                    status: "done".into(),
                    note: String::new(),
                },
            )
            .await
            .unwrap_err();
        assert_eq!(fields(&err), ["note"]);
        app.update_corrective_action(
            &e.staff,
            action,
            &ActionChange {
                status: "in_progress".into(),
                note: "見積中".into(),
            },
        )
        .await
        .unwrap();
        app.update_corrective_action(
            &e.staff,
            action,
            &ActionChange {
                status: "done".into(),
                note: "キャビネット設置、朝礼で周知".into(),
            },
        )
        .await
        .unwrap();
        let d = app.audit_detail(&e.privacy, audit).await.unwrap();
        let a = &d.findings[0].actions[0];
        assert_eq!(a.row.status, "done");
        assert_eq!(
            a.history
                .iter()
                .map(|h| h.status.as_str())
                .collect::<Vec<_>>(),
            ["open", "in_progress", "done"]
        );
        assert!(
            !d.findings[0].open,
            "{name}: a finding with its actions done is closed"
        );
        let counts = app.audit_counts(&e.exec).await.unwrap();
        assert_eq!(
            (counts.open_findings, counts.open_actions),
            (0, 0),
            "{name}"
        );
        assert!(app.my_audit_tasks(&e.staff).await.unwrap().is_empty());
        // No reminder for a done action.
        let before = e.sink.messages().len();
        set_clock(&e.clock, T0 + 15 * DAY);
        app.run_periodic(REMINDER_TASK).await.unwrap();
        settle(app).await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(e.sink.messages().len(), before, "{name}");
        assert_eq!(
            actions_logged(app, "internal_audit.action.update").await,
            2,
            "{name}"
        );
        assert_eq!(
            logged(app, "internal_audit.action.update", Outcome::Denied).await,
            1,
            "{name}: the refusal"
        );
        assert_eq!(
            actions_logged(app, "internal_audit.finding.create").await,
            2
        );
    }
}

#[tokio::test]
async fn the_demo_has_a_contractor_with_a_clause_not_met_and_a_late_review_and_an_audit_done() {
    for db in TestDb::all().await {
        let clock = Arc::new(ManualClock::new(T0));
        let keys = Keys::load_or_create(&temp_dir("keys").join("k"), true).unwrap();
        let (app, _writer) = App::new(db.store.clone(), keys, clock, Settings::default());
        app.seed_demo().await.unwrap();
        // A second start adds nothing twice.
        app.seed_demo().await.unwrap();
        let tanaka = Ctx::user(
            app.store
                .find_user_by_login("tanaka")
                .await
                .unwrap()
                .unwrap(),
            "10.0.0.9",
        );
        let o = app.contractors_overview(&tanaka).await.unwrap();
        assert_eq!(o.lines.len(), 3, "{}", db.name);
        let late = app.contractors_review_overdue(&tanaka).await.unwrap();
        assert_eq!(late.len(), 1);
        assert_eq!(late[0].row.name, "株式会社コールパートナーズ");
        let unmet = app.contractors_with_unmet_items(&tanaka).await.unwrap();
        assert_eq!(unmet[0].summary.not_met, 1);
        let y = app.audit_year(&tanaka, Some(2026)).await.unwrap();
        assert_eq!(y.audits.len(), 2);
        let counts = app.audit_counts(&tanaka).await.unwrap();
        assert_eq!(
            (
                counts.open_findings,
                counts.open_major,
                counts.open_actions,
                counts.overdue_actions
            ),
            (2, 1, 2, 1),
            "{}",
            db.name
        );
        assert_eq!((counts.audits_done, counts.audits_planned), (1, 1));
        // The owners have their actions as tasks.
        let suzuki = Ctx::user(
            app.store
                .find_user_by_login("suzuki")
                .await
                .unwrap()
                .unwrap(),
            "10.0.0.9",
        );
        assert_eq!(app.my_audit_tasks(&suzuki).await.unwrap().len(), 1);
        assert!(app.my_audit_tasks(&tanaka).await.unwrap()[0].overdue);
    }
}
