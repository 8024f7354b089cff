//! Incident use cases against real databases (SQLite and PostgreSQL) and a real SMTP server on
//! loopback: filing, alerts, acknowledgement, escalation, delivery failures, facts changes,
//! obligations, visibility, tasks and reminders.

use mamori_app::admin::UserInput;
use mamori_app::clock::ManualClock;
use mamori_app::incident::{FactsInput, FirstReportInput, SecondReport};
use mamori_app::keys::Keys;
use mamori_app::{App, AppError, Ctx, Settings};
use mamori_domain::role::Role;
use mamori_mail::sink::{SinkMode, SmtpSink};
use mamori_mail::{Mailer, SmtpConfig};
use mamori_store::incidents::IncidentFilter;
use mamori_store::testing::{temp_dir, TestDb};
use std::sync::Arc;
use std::time::Duration;

// 2026-11-24T01:00:00Z = 2026-11-24 10:00 JST.
const T0: i64 = 1_795_482_000_000_000;

struct Env {
    app: App,
    clock: Arc<ManualClock>,
    sink: SmtpSink,
    db: TestDb,
    people: People,
    keys: std::path::PathBuf,
}

#[derive(Clone)]
struct People {
    reporter: Ctx,
    colleague: Ctx,
    head_sales: Ctx,
    head_sys: Ctx,
    privacy: Ctx,
    ciso: Ctx,
    exec: Ctx,
    auditor: Ctx,
    admin: Ctx,
    other_company: Ctx,
    head_sales_dept: i64,
}

async fn person(app: &App, company: i64, dept: i64, login: &str, name: &str, role: Role) -> Ctx {
    let (id, _) = app
        .create_user(
            &Ctx::local(),
            &UserInput {
                company_id: Some(company),
                department_id: dept,
                login: login.into(),
                display_name: name.into(),
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
        let key_dir = temp_dir("keys").join("k");
        let keys = Keys::load_or_create(&key_dir, true).unwrap();
        let settings = Settings {
            public_url: "http://mamori.test".into(),
            mail_max_attempts: 3,
            // The webhook receivers of these tests listen on loopback; only this name may
            // reach it (the operator's allow-list in the configuration file).
            webhook_allow_hosts: vec!["localhost".into()],
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
        let sys = app
            .create_department(&l, co, Some(hq), "システム部")
            .await
            .unwrap();
        let other = app
            .create_company(&l, "other", "他社株式会社")
            .await
            .unwrap();
        let other_hq = app
            .create_department(&l, other, None, "本社")
            .await
            .unwrap();
        let people = People {
            reporter: person(&app, co, sales, "yamada", "山田 太郎", Role::Staff).await,
            colleague: person(&app, co, sales, "sato", "佐藤 花子", Role::Staff).await,
            head_sales: person(
                &app,
                co,
                sales_hq,
                "suzuki",
                "鈴木 一郎",
                Role::DepartmentHead,
            )
            .await,
            head_sys: person(&app, co, sys, "inoue", "井上 修", Role::DepartmentHead).await,
            privacy: person(&app, co, sys, "tanaka", "田中 美咲", Role::PrivacyOffice).await,
            ciso: person(&app, co, sys, "takahashi", "高橋 健", Role::Ciso).await,
            exec: person(&app, co, hq, "watanabe", "渡辺 直子", Role::Executive).await,
            auditor: person(&app, co, hq, "kato", "加藤 恵", Role::Auditor).await,
            admin: person(&app, co, sys, "admin", "管理者", Role::Admin).await,
            other_company: person(
                &app,
                other,
                other_hq,
                "other",
                "他社 職員",
                Role::PrivacyOffice,
            )
            .await,
            head_sales_dept: sales_hq,
        };
        out.push(Env {
            app,
            clock,
            sink,
            db,
            people,
            keys: key_dir,
        });
    }
    out
}

fn report(description: &str) -> FirstReportInput {
    FirstReportInput {
        description: description.into(),
        event: "leak".into(),
        ..FirstReportInput::default()
    }
}

async fn timeline_text(app: &App, id: i64) -> String {
    app.store
        .timeline(id)
        .await
        .unwrap()
        .iter()
        .map(|e| e.text.clone())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Runs the worker until nothing is due (the fast path runs in spawned tasks; give them time).
async fn settle(app: &App) {
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(40)).await;
        let ran = app.work_once("test", &App::job_handlers()).await.unwrap();
        if ran == 0 {
            tokio::time::sleep(Duration::from_millis(40)).await;
            if app.work_once("test", &App::job_handlers()).await.unwrap() == 0 {
                return;
            }
        }
    }
}

#[tokio::test]
async fn first_report_alerts_by_mail_and_the_link_acknowledges() {
    for Env {
        app,
        sink,
        db,
        people,
        ..
    } in envs().await
    {
        let app = &app;
        let mut input = report("顧客リストを添付したメールを社外に誤送信した");
        input.drill = true;
        input.persons = "1,200".into();
        input.items = vec!["name".into(), "email".into()];
        let (id, ref_no) = app
            .file_first_report(&people.reporter, &input)
            .await
            .unwrap();
        assert_eq!(ref_no, "2026-0001");
        // No call tree configured: the privacy office and the CISO get the alert at once.
        let mails = sink.wait_for(2, Duration::from_secs(10)).await;
        let mut to: Vec<String> = mails.iter().flat_map(|m| m.to.clone()).collect();
        to.sort();
        assert_eq!(
            to,
            vec!["takahashi@example.co.jp", "tanaka@example.co.jp"],
            "{}",
            db.name
        );
        let parsed = mails[0].parsed();
        let subject = parsed.subject.clone().unwrap();
        assert!(
            subject.starts_with("【訓練】【個人情報事故 第一報】2026-0001"),
            "{subject}"
        );
        assert!(parsed.text.contains("これは訓練です"));
        assert!(parsed
            .text
            .contains(&format!("http://mamori.test/incidents/{id}")));
        // Headers are 7-bit: the Japanese subject is encoded.
        let raw = String::from_utf8_lossy(&mails[0].data);
        let head = raw.split("\r\n\r\n").next().unwrap();
        assert!(head.is_ascii(), "raw headers must be ASCII:\n{head}");
        // The acknowledge link works (a token from the mail).
        let token = parsed
            .text
            .split("http://mamori.test/ack/")
            .nth(1)
            .and_then(|r| r.split_whitespace().next())
            .unwrap()
            .to_owned();
        let anon = Ctx::anonymous("203.0.113.5");
        let (acked, already) = app.acknowledge_by_token(&anon, &token).await.unwrap();
        assert_eq!((acked, already), (id, false));
        assert!(matches!(
            app.acknowledge_by_token(&anon, "deadbeef").await,
            Err(AppError::NotFound)
        ));
        let incident = app.store.get_incident(id).await.unwrap();
        assert!(incident.acknowledged_at.is_some());
        assert!(incident.drill);
        settle(app).await;
        let tl = timeline_text(app, id).await;
        assert!(tl.contains("【訓練】第一報を受け付けました"), "{tl}");
        assert!(tl.contains("アラートを送信します（レベル1"), "{tl}");
        // tanaka@ and takahashi@ share the mask t***@; the names tell the two mails apart.
        assert!(
            tl.contains("メールを配信しました → 田中 美咲（t***@example.co.jp）"),
            "{tl}"
        );
        assert!(
            tl.contains("メールを配信しました → 高橋 健（t***@example.co.jp）"),
            "{tl}"
        );
        assert!(tl.contains("アラートを確認しました"), "{tl}");
        // 1,200 persons: reportable, with its obligations on the timeline.
        assert!(
            tl.contains("義務を追加: 個人情報保護委員会への確報"),
            "{tl}"
        );
        db.cleanup().await;
    }
}

#[tokio::test]
async fn nobody_acknowledges_so_the_alert_escalates_until_somebody_does() {
    for Env {
        app,
        clock,
        sink,
        db,
        people,
        ..
    } in envs().await
    {
        let privacy_id = people.privacy.actor_id().unwrap();
        let exec_id = people.exec.actor_id().unwrap();
        let ciso_id = people.ciso.actor_id().unwrap();
        let company = people.privacy.company_scope().unwrap();
        app.store
            .set_call_tree(
                company,
                &[
                    mamori_store::alerts::CallTreeEntry {
                        level: 1,
                        user_id: privacy_id,
                    },
                    mamori_store::alerts::CallTreeEntry {
                        level: 2,
                        user_id: ciso_id,
                    },
                    mamori_store::alerts::CallTreeEntry {
                        level: 3,
                        user_id: exec_id,
                    },
                ],
                300,
            )
            .await
            .unwrap();
        let (id, _) = app
            .file_first_report(&people.reporter, &report("ノートPCを紛失"))
            .await
            .unwrap();
        sink.wait_for(1, Duration::from_secs(10)).await;
        settle(&app).await;
        assert_eq!(sink.messages().len(), 1, "{}", db.name);
        // Five minutes without acknowledgement: level 2.
        clock.advance_secs(301);
        settle(&app).await;
        let mails = sink.wait_for(2, Duration::from_secs(10)).await;
        assert_eq!(mails[1].to, vec!["takahashi@example.co.jp"]);
        assert!(mails[1]
            .parsed()
            .subject
            .unwrap()
            .contains("【エスカレーション】"));
        // The CISO acknowledges on the page: level 3 is never alerted.
        app.acknowledge(&people.ciso, id).await.unwrap();
        clock.advance_secs(301);
        settle(&app).await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(sink.messages().len(), 2, "escalation must stop");
        let tl = timeline_text(&app, id).await;
        assert!(
            tl.contains("レベル1の誰も5分以内に確認しなかったため"),
            "{tl}"
        );
        assert!(
            tl.contains("確認済みのため、レベル3へのエスカレーションは行いません"),
            "{tl}"
        );
        db.cleanup().await;
    }
}

#[tokio::test]
async fn smtp_down_is_retried_shown_and_resumed() {
    for Env {
        app,
        clock,
        sink,
        db,
        people,
        keys,
    } in envs().await
    {
        sink.set_mode(SinkMode::TempFail);
        let (id, _) = app
            .file_first_report(&people.reporter, &report("サーバーに不正アクセス"))
            .await
            .unwrap();
        // Both first attempts fail; on a loaded machine one may still be running when the queue
        // first looks idle, so look again (for at most five seconds) before judging.
        let mut outbox = Vec::new();
        for _ in 0..10 {
            settle(&app).await;
            outbox = app.store.outbox_of(id).await.unwrap();
            if outbox.len() == 2 && outbox.iter().all(|m| m.status == "retrying") {
                break;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        assert!(sink.messages().is_empty());
        assert_eq!(outbox.len(), 2);
        assert!(
            outbox.iter().all(|m| m.status == "retrying"),
            "{}: {:?}",
            db.name,
            outbox.iter().map(|m| &m.status).collect::<Vec<_>>()
        );
        let tl = timeline_text(&app, id).await;
        assert!(tl.contains("メールの配信に失敗しました"), "{tl}");
        assert!(tl.contains("再試行します"), "{tl}");
        // A new process on the same database and key directory resumes the queue once SMTP
        // is back; the first one is gone.
        let mailer = app.mailer.clone().unwrap();
        drop(app);
        sink.set_mode(SinkMode::Accept);
        clock.advance_secs(61);
        let keys = Keys::load_or_create(&keys, false).unwrap();
        let (app, _w) = App::new(db.store.clone(), keys, clock.clone(), Settings::default());
        let app = app.with_mailer(mailer);
        settle(&app).await;
        sink.wait_for(2, Duration::from_secs(10)).await;
        let outbox = app.store.outbox_of(id).await.unwrap();
        assert!(outbox.iter().all(|m| m.status == "sent"), "{outbox:?}");
        db.cleanup().await;
    }
}

#[tokio::test]
async fn undeliverable_mail_is_shown_as_failed_never_dropped() {
    for Env {
        app,
        clock,
        sink,
        db,
        people,
        ..
    } in envs().await
    {
        sink.set_mode(SinkMode::Reject);
        let (id, _) = app
            .file_first_report(&people.reporter, &report("USBメモリを紛失"))
            .await
            .unwrap();
        settle(&app).await;
        let outbox = app.store.outbox_of(id).await.unwrap();
        assert!(
            outbox.iter().all(|m| m.status == "failed"),
            "{} {outbox:?}",
            db.name
        );
        assert!(timeline_text(&app, id).await.contains("恒久的なエラー"));
        // Transient failures give up after mail_max_attempts (3 here), visibly.
        sink.set_mode(SinkMode::TempFail);
        let (id2, _) = app
            .file_first_report(&people.reporter, &report("書類を誤廃棄"))
            .await
            .unwrap();
        for _ in 0..4 {
            settle(&app).await;
            clock.advance_secs(3600);
        }
        settle(&app).await;
        // The two alerts of the first round (later rounds of the escalation fail too).
        let outbox = app.store.outbox_of(id2).await.unwrap();
        assert!(
            outbox[..2]
                .iter()
                .all(|m| m.status == "failed" && m.attempts == 3),
            "{outbox:?}"
        );
        assert!(timeline_text(&app, id2)
            .await
            .contains("3回失敗したため断念"));
        db.cleanup().await;
    }
}

#[tokio::test]
async fn bad_input_names_the_field_and_changes_nothing() {
    for Env {
        app, db, people, ..
    } in envs().await
    {
        let cases: Vec<(FirstReportInput, &str)> = vec![
            (report("  "), "description"),
            (
                FirstReportInput {
                    persons: "-5".into(),
                    ..report("x")
                },
                "persons",
            ),
            (
                FirstReportInput {
                    persons: "たくさん".into(),
                    ..report("x")
                },
                "persons",
            ),
            (
                // A bound is not a count: which end is meant decides the APPI threshold.
                FirstReportInput {
                    persons: "1000人以上".into(),
                    ..report("x")
                },
                "persons",
            ),
            (
                FirstReportInput {
                    items: vec!["name".into(), "shoe_size".into()],
                    ..report("x")
                },
                "items",
            ),
            (
                FirstReportInput {
                    occurred_at: "2026-11-24T09:00".into(),
                    found_at: "2026-11-24T08:00".into(),
                    ..report("x")
                },
                "found_at",
            ),
            (
                FirstReportInput {
                    found_at: "2026-11-25T10:00".into(),
                    ..report("x")
                },
                "found_at",
            ),
            (
                FirstReportInput {
                    occurred_at: "yesterday".into(),
                    ..report("x")
                },
                "occurred_at",
            ),
            (
                FirstReportInput {
                    event: "explosion".into(),
                    ..report("x")
                },
                "event",
            ),
        ];
        for (input, field) in cases {
            match app.file_first_report(&people.reporter, &input).await {
                Err(AppError::Invalid(p)) => {
                    assert_eq!(p.field, Some(field), "{}: {}", db.name, p.en);
                }
                other => panic!("{field}: expected a problem, got {other:?}"),
            }
        }
        assert!(app
            .store
            .list_incidents(
                mamori_store::incidents::ListScope {
                    company_id: people.reporter.company_scope().unwrap(),
                    all: true,
                    user_id: 0,
                    head_of: None
                },
                &IncidentFilter::default(),
                10
            )
            .await
            .unwrap()
            .is_empty());
        // A knowing time in the future on the facts form is refused and the facts are kept.
        let (id, _) = app
            .file_first_report(&people.reporter, &report("x"))
            .await
            .unwrap();
        let before = app.store.get_incident(id).await.unwrap();
        let err = app
            .update_facts(
                &people.privacy,
                id,
                &FactsInput {
                    version: before.version,
                    knew_at: "2027-01-01T00:00".into(),
                    event: "leak".into(),
                    ..FactsInput::default()
                },
            )
            .await
            .unwrap_err();
        assert!(
            matches!(err, AppError::Invalid(ref p) if p.field == Some("knew_at")),
            "{err:?}"
        );
        assert_eq!(app.store.get_incident(id).await.unwrap(), before);
        db.cleanup().await;
    }
}

#[tokio::test]
async fn count_passing_1000_creates_obligations_and_says_why() {
    for Env {
        app,
        clock,
        db,
        people,
        ..
    } in envs().await
    {
        let mut input = report("設定不備で会員情報が公開状態になっていた");
        input.items = vec!["name".into(), "address".into(), "phone".into()];
        // Typed with an IME, as an estimate: 「約８００人」 is 800.
        input.persons = "約８００人".into();
        input.certainty = "confirmed".into();
        let (id, _) = app
            .file_first_report(&people.reporter, &input)
            .await
            .unwrap();
        assert!(app.store.obligations(id).await.unwrap().is_empty());
        clock.advance_secs(3600);
        let v = app.store.get_incident(id).await.unwrap().version;
        let mut facts = FactsInput {
            version: v,
            event: "leak".into(),
            certainty: "confirmed".into(),
            items: input.items.clone(),
            // In kanji numerals: 千一 is 1,001, one past the threshold.
            persons: "千一".into(),
            contact_info: "yes".into(),
            found_at: "2026-11-24T10:00".into(),
            knew_at: "2026-11-24T10:00".into(),
            ..FactsInput::default()
        };
        app.update_facts(&people.privacy, id, &facts).await.unwrap();
        let obligations = app.store.obligations(id).await.unwrap();
        let kinds: Vec<&str> = obligations.iter().map(|o| o.kind.as_str()).collect();
        assert_eq!(
            kinds,
            vec!["preliminary_report", "final_report", "notice_to_subjects"],
            "{}",
            db.name
        );
        // Knew 2026-11-24: day 5 is 11-28, day 30 is 2026-12-23 (a Wednesday).
        assert_eq!(obligations[0].due_on.as_deref(), Some("2026-11-28"));
        assert_eq!(obligations[1].due_on.as_deref(), Some("2026-12-23"));
        let tl = timeline_text(&app, id).await;
        assert!(tl.contains("本人の数: 800 → 1,001"), "{tl}");
        assert!(tl.contains("義務を追加: 個人情報保護委員会への確報（期限 2026-12-23）（本人の数: 800 → 1,001 /"), "{tl}");
        // A stale version is refused: somebody else changed it in between.
        facts.persons = "1002".into();
        let stale = app
            .update_facts(&people.privacy, id, &facts)
            .await
            .unwrap_err();
        assert!(matches!(stale, AppError::Invalid(_)), "{stale:?}");
        // Malicious: 60 days, moved past the year-end closure? 2027-01-22 is a Friday.
        facts.version = app.store.get_incident(id).await.unwrap().version;
        facts.persons = "1001".into();
        facts.malicious = true;
        app.update_facts(&people.privacy, id, &facts).await.unwrap();
        let o = app.store.obligations(id).await.unwrap();
        assert_eq!(o[1].due_on.as_deref(), Some("2027-01-22"));
        assert!(timeline_text(&app, id)
            .await
            .contains("期限を変更: 個人情報保護委員会への確報 2026-12-23 → 2027-01-22"));
        // Staff cannot change facts.
        assert!(matches!(
            app.update_facts(&people.reporter, id, &facts).await,
            Err(AppError::Denied)
        ));
        // Second report keeps versions.
        let r = SecondReport {
            why: "公開設定の誤り".into(),
            ..SecondReport::default()
        };
        assert_eq!(
            app.save_second_report(&people.privacy, id, &r)
                .await
                .unwrap(),
            1
        );
        assert_eq!(
            app.save_second_report(&people.privacy, id, &r)
                .await
                .unwrap(),
            2
        );
        assert_eq!(
            app.store.report_versions(id, "second").await.unwrap().len(),
            2
        );
        db.cleanup().await;
    }
}

#[tokio::test]
async fn who_sees_what() {
    for Env {
        app, db, people, ..
    } in envs().await
    {
        let (id, _) = app
            .file_first_report(&people.reporter, &report("営業部の顧客名簿を紛失"))
            .await
            .unwrap();
        let p = &people;
        let cases: Vec<(&str, &Ctx, bool)> = vec![
            ("reporter", &p.reporter, true),
            ("colleague", &p.colleague, false),
            ("head of the department above", &p.head_sales, true),
            ("head of a sibling department", &p.head_sys, false),
            ("privacy office", &p.privacy, true),
            ("CISO", &p.ciso, true),
            ("executive", &p.exec, true),
            ("auditor", &p.auditor, true),
            ("administrator", &p.admin, false),
            ("another company", &p.other_company, false),
        ];
        for (who, ctx, visible) in cases {
            let r = app.incident_view(ctx, id).await;
            assert_eq!(r.is_ok(), visible, "{}: {who}", db.name);
            if !visible {
                assert!(
                    matches!(r, Err(AppError::NotFound)),
                    "{who}: no hint that it exists"
                );
            }
            let listed = app
                .list_incidents(ctx, &IncidentFilter::default(), 10)
                .await
                .is_ok_and(|l| l.iter().any(|i| i.id == id));
            assert_eq!(listed, visible, "{}: {who} in the list", db.name);
        }
        assert_eq!(
            p.head_sales.user_ref().unwrap().department_id,
            p.head_sales_dept
        );
        // Every view is in the audit log, the refused ones too.
        let entries = app
            .store
            .search_audit(&mamori_store::audit::AuditFilter::default(), 500)
            .await
            .unwrap();
        let views = entries
            .iter()
            .filter(|e| e.record.action == "incident.view")
            .count();
        assert!(views >= 10, "{views}");
        db.cleanup().await;
    }
}

#[tokio::test]
async fn phases_tasks_and_reminders() {
    for Env {
        app,
        clock,
        sink,
        db,
        people,
        ..
    } in envs().await
    {
        let mut input = report("カード番号を含むファイルが外部に送信された");
        input.items = vec!["credit_card_number".into()];
        input.persons = "3".into();
        let (id, _) = app
            .file_first_report(&people.reporter, &input)
            .await
            .unwrap();
        settle(&app).await;
        let before = sink.messages().len();
        // Phase 1's tasks exist; moving on creates phase 2's.
        let tasks = app.store.tasks(id).await.unwrap();
        assert_eq!(tasks.len(), 3);
        assert!(tasks.iter().all(|t| t.phase == "task_force"));
        app.enter_phase(&people.privacy, id, "containment")
            .await
            .unwrap();
        assert_eq!(app.store.tasks(id).await.unwrap().len(), 6);
        assert!(matches!(
            app.enter_phase(&people.reporter, id, "analysis").await,
            Err(AppError::Denied)
        ));
        // Assign a task to the reporter, due tomorrow: a reminder mail goes to the owner.
        let task = app.store.tasks(id).await.unwrap()[3].clone();
        let owner = people.reporter.actor_id();
        app.update_task(&people.privacy, task.id, owner, "2026-11-25", "doing")
            .await
            .unwrap();
        // The owner may change the status of their own task, not its owner.
        app.update_task(&people.reporter, task.id, None, "", "done")
            .await
            .unwrap();
        assert_eq!(app.store.get_task(task.id).await.unwrap().status, "done");
        assert_eq!(app.store.get_task(task.id).await.unwrap().owner_id, owner);
        assert!(matches!(
            app.update_task(&people.colleague, task.id, None, "", "todo")
                .await,
            Err(AppError::NotFound)
        ));
        let other = app.store.tasks(id).await.unwrap()[4].clone();
        app.update_task(&people.privacy, other.id, owner, "2026-11-25", "todo")
            .await
            .unwrap();
        app.send_reminders().await.unwrap();
        settle(&app).await;
        let mails = sink.wait_for(before + 1, Duration::from_secs(10)).await;
        let reminder = mails.last().unwrap().parsed();
        assert!(reminder.subject.unwrap().contains("期限は明日 2026-11-25"));
        // Sent once only.
        app.send_reminders().await.unwrap();
        settle(&app).await;
        let count = sink.messages().len();
        // Day 3 of the preliminary report (knew 11-24 → day 3 is 11-26): the privacy office.
        clock.advance_secs(2 * 86_400);
        app.send_reminders().await.unwrap();
        settle(&app).await;
        let mails = sink.wait_for(count + 1, Duration::from_secs(10)).await;
        let subjects: Vec<String> = mails[count..]
            .iter()
            .filter_map(|m| m.parsed().subject)
            .collect();
        assert!(
            subjects.iter().any(|s| s.contains("本日が3日目です")),
            "{subjects:?}"
        );
        assert!(mails[count..]
            .iter()
            .any(|m| m.to == vec!["tanaka@example.co.jp"]));
        // The task is now overdue: the owner is told, and the privacy office gets the list.
        assert!(
            subjects.iter().any(|s| s.contains("を過ぎています")),
            "{subjects:?}"
        );
        assert!(
            subjects.iter().any(|s| s.contains("【期限切れ一覧】")),
            "{subjects:?}"
        );
        let dash = app.dashboard(&people.privacy).await.unwrap();
        assert_eq!(dash.open, 1, "{}", db.name);
        // Phase 1's three tasks (due 11-24, 11-24, 11-25) and phase 2's two open ones (11-25).
        assert_eq!(dash.overdue_tasks.len(), 5);
        db.cleanup().await;
    }
}

#[tokio::test]
async fn webhooks_are_signed_and_on_the_timeline() {
    use axum::http::{HeaderMap, StatusCode};
    use std::sync::Mutex;
    for Env {
        app, db, people, ..
    } in envs().await
    {
        let got: Arc<Mutex<Vec<(HeaderMap, String)>>> = Arc::default();
        let sink = got.clone();
        let router = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: HeaderMap, body: String| {
                let sink = sink.clone();
                async move {
                    sink.lock().unwrap().push((headers, body));
                    StatusCode::NO_CONTENT
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        // Only the privacy office (or an administrator) configures webhooks.
        assert!(matches!(
            app.add_webhook(&people.reporter, "http://x.test/").await,
            Err(AppError::Denied)
        ));
        assert!(matches!(
            app.add_webhook(&people.privacy, "ftp://x.test/").await,
            Err(AppError::Invalid(_))
        ));
        // Internal addresses are refused when configured, with a message naming the problem
        // and the setting that allows them.
        for (url, why) in [
            (format!("http://{addr}/hook"), "ループバック"),
            (
                "http://169.254.169.254/latest/meta-data/".into(),
                "メタデータ",
            ),
            ("http://10.0.0.8/hook".into(), "プライベート"),
            ("http://[::1]/hook".into(), "ループバック"),
        ] {
            match app.add_webhook(&people.privacy, &url).await {
                Err(AppError::Invalid(p)) => {
                    assert!(
                        p.ja.contains(why) && p.ja.contains("webhook_allow_hosts"),
                        "{url}: {}",
                        p.ja
                    );
                    assert_eq!(p.field, Some("url"));
                }
                other => panic!("{url}: {other:?}"),
            }
        }
        // A row that points at loopback without the allow-list (written before the check
        // existed) is refused at delivery, and nothing is sent to it.
        let company = people.privacy.user_ref().unwrap().company_id;
        let sealed = app.keys.seal(b"old", &format!("webhook:{company}"));
        app.store
            .add_webhook(company, &format!("http://{addr}/hook"), &sealed, T0)
            .await
            .unwrap();
        let secret = app
            .add_webhook(
                &people.privacy,
                &format!("http://localhost:{}/hook", addr.port()),
            )
            .await
            .unwrap();
        let mut input = report("不正アクセスの痕跡");
        input.drill = true;
        let (id, ref_no) = app
            .file_first_report(&people.reporter, &input)
            .await
            .unwrap();
        settle(&app).await;
        let calls = got.lock().unwrap().clone();
        assert_eq!(calls.len(), 1, "{}", db.name);
        let (headers, body) = &calls[0];
        let ts: i64 = headers["x-mamori-timestamp"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        let sig = headers["x-mamori-signature"].to_str().unwrap();
        assert!(mamori_mail::webhook::verify(
            secret.as_bytes(),
            ts,
            body.as_bytes(),
            sig,
            ts,
            300
        ));
        let json: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(json["ref"], ref_no.as_str());
        assert_eq!(json["drill"], true);
        assert!(json["title"].as_str().unwrap().starts_with("【訓練】"));
        let timeline = timeline_text(&app, id).await;
        assert!(timeline.contains("Webhookで通知しました"), "{timeline}");
        assert!(
            timeline.contains("Webhookの送信先が許可されていないため送信しませんでした"),
            "{timeline}"
        );
        server.abort();
        db.cleanup().await;
    }
}

/// Issue 13, item 7: saving the facts form with only 本人の数 changed logged four
/// 「発見日時: 05:20 → 05:20」 lines, because `datetime-local` sends the minute and the stored
/// time has seconds. The timeline is a legal record: only the real change, once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_save_that_changes_one_fact_records_only_that_change() {
    for Env {
        app,
        clock,
        db,
        people,
        ..
    } in envs().await
    {
        clock.advance_secs(37);
        let mut input = report("宛先を誤ってメールを送信した");
        input.persons = "3".into();
        let (id, _) = app
            .file_first_report(&people.reporter, &input)
            .await
            .unwrap();
        let before = app.store.get_incident(id).await.unwrap();
        // What the form shows and sends back: 2026-11-24 10:00 (the stored time is 10:00:37).
        let shown = "2026-11-24T10:00".to_owned();
        let facts = FactsInput {
            version: before.version,
            event: "leak".into(),
            found_at: shown.clone(),
            knew_at: shown,
            persons: "4".into(),
            ..FactsInput::default()
        };
        app.update_facts(&people.privacy, id, &facts).await.unwrap();
        let tl = timeline_text(&app, id).await;
        let line = tl
            .lines()
            .find(|l| l.starts_with("事実を更新しました"))
            .unwrap_or_else(|| panic!("{}: {tl}", db.name));
        assert_eq!(line, "事実を更新しました: 本人の数: 3 → 4", "{}", db.name);
        assert!(
            !tl.contains("日時: 2026-11-24 10:00 → 2026-11-24 10:00"),
            "{tl}"
        );
        // The stored times keep their seconds: nobody changed them.
        let after = app.store.get_incident(id).await.unwrap();
        let f: serde_json::Value = serde_json::from_str(&after.facts).unwrap();
        let b: serde_json::Value = serde_json::from_str(&before.facts).unwrap();
        assert_eq!(f["found_at"], b["found_at"]);
        assert_eq!(f["knew_at"], b["knew_at"]);
        // Saving the same form again changes nothing and logs nothing.
        let again = FactsInput {
            version: after.version,
            ..facts
        };
        app.update_facts(&people.privacy, id, &again).await.unwrap();
        let tl2 = timeline_text(&app, id).await;
        assert_eq!(tl2.matches("事実を更新しました").count(), 1, "{tl2}");
        db.cleanup().await;
    }
}
