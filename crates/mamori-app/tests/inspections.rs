//! Self-inspections (issue 17 part 1) against real databases (SQLite and PostgreSQL) and a real
//! SMTP server on loopback: the rounds and their windows, answers and what is refused, scores
//! per item and department within each person's reach, the follow-up list and its interviews,
//! question sets in versions, and the reminders on the right JST days — including the 17th of
//! January 2027, a Sunday, when nothing is sent and the inspection moves to Monday the 18th.

use chrono::TimeZone;
use mamori_app::admin::UserInput;
use mamori_app::clock::ManualClock;
use mamori_app::inspection::REMINDER_TASK;
use mamori_app::keys::Keys;
use mamori_app::{App, AppError, Ctx, Settings};
use mamori_domain::programme::inspection::{Audience, ReplyInput};
use mamori_domain::role::Role;
use mamori_mail::sink::SmtpSink;
use mamori_mail::{Mailer, SmtpConfig};
use mamori_store::audit::AuditFilter;
use mamori_store::testing::{temp_dir, TestDb};
use std::sync::Arc;
use std::time::Duration;

/// Microseconds of a JST wall-clock time.
fn jst(y: i32, m: u32, d: u32, h: u32) -> i64 {
    chrono::FixedOffset::east_opt(9 * 3600)
        .unwrap()
        .with_ymd_and_hms(y, m, d, h, 0, 0)
        .unwrap()
        .timestamp_micros()
}

struct Env {
    app: App,
    clock: Arc<ManualClock>,
    sink: SmtpSink,
    db: TestDb,
    privacy: Ctx,
    sales_head: Ctx,
    sales_staff: Ctx,
    sales_staff2: Ctx,
    hr_staff: Ctx,
    exec: Ctx,
    other_company: Ctx,
    sales: i64,
    hr: i64,
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
                locale: if login == "carol" {
                    "en".into()
                } else {
                    "ja".into()
                },
            },
        )
        .await
        .unwrap();
    Ctx::user(app.store.get_user(id).await.unwrap(), "10.0.0.9")
}

async fn envs(start: i64) -> Vec<Env> {
    let mut out = Vec::new();
    for db in TestDb::all().await {
        let clock = Arc::new(ManualClock::new(start));
        let keys = Keys::load_or_create(&temp_dir("insp-keys"), true).unwrap();
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
                from: "mamori <mamori@example.co.jp>".into(),
                ..SmtpConfig::default()
            })
            .unwrap(),
        );
        let l = Ctx::local();
        let co = app
            .create_company(&l, "mirai", "株式会社みらい")
            .await
            .unwrap();
        let hq = app.create_department(&l, co, None, "本社").await.unwrap();
        let sales = app
            .create_department(&l, co, Some(hq), "営業部")
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
            sales_head: person(&app, co, sales, "suzuki", Role::DepartmentHead).await,
            sales_staff: person(&app, co, sales, "yamada", Role::Staff).await,
            sales_staff2: person(&app, co, sales, "carol", Role::Staff).await,
            hr_staff: person(&app, co, hr, "sato", Role::Staff).await,
            exec: person(&app, co, hq, "watanabe", Role::Executive).await,
            other_company: person(&app, other, other_hq, "other", Role::PrivacyOffice).await,
            app,
            clock,
            sink,
            db,
            sales,
            hr,
        });
    }
    out
}

fn replies(codes: &str) -> Vec<ReplyInput> {
    codes
        .chars()
        .map(|c| ReplyInput {
            reply: match c {
                'y' => Some("yes".into()),
                'n' => Some("no".into()),
                'a' => Some("na".into()),
                _ => None,
            },
            note: if c == 'n' {
                "鍵付きの棚が足りない".into()
            } else {
                String::new()
            },
        })
        .collect()
}

fn field(e: &AppError) -> Vec<Option<&'static str>> {
    match e {
        AppError::Invalid(p) => p.all().iter().map(|p| p.field).collect(),
        other => panic!("expected a problem, got {other:?}"),
    }
}

/// Recipients of the mails received since `from`, sorted.
fn recipients(sink: &SmtpSink, from: usize) -> Vec<String> {
    let mut to: Vec<String> = sink.messages()[from..]
        .iter()
        .flat_map(|m| m.to.clone())
        .collect();
    to.sort();
    to
}

#[tokio::test]
async fn reminders_go_out_on_the_inspection_day_and_three_business_days_later_never_on_a_sunday() {
    // Thursday 17 December 2026, 07:00 JST: the inspection day, before the reminder hour.
    for e in envs(jst(2026, 12, 17, 7)).await {
        let app = &e.app;
        app.set_inspection_schedule(&e.privacy, "17", true)
            .await
            .unwrap();
        assert_eq!(
            app.send_inspection_reminders().await.unwrap(),
            0,
            "{}: not before 8:00",
            e.db.name
        );
        assert!(app
            .inspection_rounds(&e.privacy, 24)
            .await
            .unwrap()
            .is_empty());

        // 09:00: the round opens and everybody who has not answered is reminded: six people
        // for their own inspection, and the department head once more for the workplace.
        e.clock.advance_secs(2 * 3600);
        app.run_periodic(REMINDER_TASK).await.unwrap();
        let mails = e.sink.wait_for(7, Duration::from_secs(10)).await;
        assert_eq!(mails.len(), 7, "{}", e.db.name);
        let to = recipients(&e.sink, 0);
        assert_eq!(
            to,
            vec![
                "carol@example.co.jp",
                "sato@example.co.jp",
                "suzuki@example.co.jp",
                "suzuki@example.co.jp",
                "tanaka@example.co.jp",
                "watanabe@example.co.jp",
                "yamada@example.co.jp"
            ],
            "{}: the other company is not reminded",
            e.db.name
        );
        let subjects: Vec<String> = mails
            .iter()
            .map(|m| m.parsed().subject.unwrap_or_default())
            .collect();
        assert!(
            subjects
                .iter()
                .any(|s| s == "【総点検】2026年12月の個人の総点検に回答してください"),
            "{subjects:?}"
        );
        assert!(
            subjects
                .iter()
                .any(|s| s.contains("職場の総点検（管理者）")),
            "{subjects:?}"
        );
        assert!(
            subjects
                .iter()
                .any(|s| s == "[Inspection] Please answer the self-inspection for December 2026"),
            "the English reader gets English: {subjects:?}"
        );
        let body = mails
            .iter()
            .map(mamori_mail::sink::Received::parsed)
            .find(|p| p.to.iter().any(|t| t.contains("yamada")))
            .unwrap()
            .text;
        assert!(body.contains("回答期限は 2027-01-17 です"), "{body}");
        assert!(body.contains("http://mamori.test/programme/inspections/answer?for=individual"));

        // The same day again: nobody is reminded twice.
        e.clock.advance_secs(3600);
        assert_eq!(app.send_inspection_reminders().await.unwrap(), 0);

        // Yamada answers; Friday the 18th is not a reminder day.
        let round = app.inspection_rounds(&e.privacy, 24).await.unwrap()[0].clone();
        assert_eq!(
            (round.opens_on.as_str(), round.closes_on.as_str()),
            ("2026-12-17", "2027-01-17")
        );
        app.submit_inspection(
            &e.sales_staff,
            round.id,
            "individual",
            &replies("yyyyyyyyyyyyyyy"),
        )
        .await
        .unwrap();
        e.clock.advance_secs(24 * 3600);
        assert_eq!(
            app.send_inspection_reminders().await.unwrap(),
            0,
            "the 18th is no reminder day"
        );

        // Tuesday the 22nd is the third business day (18 Fri, 21 Mon, 22 Tue): the others
        // are reminded again, yamada is not.
        e.clock.advance_secs(4 * 24 * 3600);
        assert_eq!(
            app.send_inspection_reminders().await.unwrap(),
            6,
            "{}",
            e.db.name
        );
        let mails = e.sink.wait_for(13, Duration::from_secs(10)).await;
        assert!(!recipients(&e.sink, 7).contains(&"yamada@example.co.jp".to_owned()));
        assert_eq!(mails.len(), 13);

        // Sunday 17 January 2027, 10:00: the 17th is a Sunday. The January round is not
        // opened and nobody is mailed; December's round still takes answers today.
        e.clock
            .advance_micros(jst(2027, 1, 17, 10) - jst(2026, 12, 22, 10));
        assert_eq!(
            app.send_inspection_reminders().await.unwrap(),
            0,
            "{}: nothing on a Sunday",
            e.db.name
        );
        assert_eq!(
            app.inspection_rounds(&e.privacy, 24).await.unwrap().len(),
            1
        );
        let tasks = app.my_inspection_tasks(&e.hr_staff).await.unwrap();
        assert_eq!(tasks[0].round.month, "2026-12");

        // Monday the 18th: the January round opens and everybody is reminded.
        e.clock.advance_secs(24 * 3600);
        assert_eq!(
            app.send_inspection_reminders().await.unwrap(),
            7,
            "{}",
            e.db.name
        );
        let rounds = app.inspection_rounds(&e.privacy, 24).await.unwrap();
        assert_eq!(rounds[0].month, "2027-01");
        assert_eq!(
            (rounds[0].opens_on.as_str(), rounds[0].closes_on.as_str()),
            ("2027-01-18", "2027-02-16")
        );
        let mails = e.sink.wait_for(20, Duration::from_secs(10)).await;
        assert!(mails[13..].iter().any(|m| m
            .parsed()
            .subject
            .unwrap_or_default()
            .contains("2027年1月")));
        // December's round no longer takes answers.
        let late = app
            .submit_inspection(
                &e.hr_staff,
                round.id,
                "individual",
                &replies("yyyyyyyyyyyyyyy"),
            )
            .await
            .unwrap_err();
        assert!(
            matches!(&late, AppError::Invalid(p) if p.ja.contains("2027-01-17 まで")),
            "{late:?}"
        );
    }
}

#[tokio::test]
async fn answers_scores_follow_up_and_who_sees_what() {
    // Wednesday 2 December 2026: November's round would be open, but none was opened.
    for e in envs(jst(2026, 12, 2, 10)).await {
        let app = &e.app;
        assert!(app
            .my_inspection_tasks(&e.sales_staff)
            .await
            .unwrap()
            .is_empty());
        // Staff cannot open rounds; a bad month is named at its field.
        assert!(matches!(
            app.open_inspection_round(&e.sales_staff, "2026-12").await,
            Err(AppError::Denied)
        ));
        let bad = app
            .open_inspection_round(&e.privacy, "十二月")
            .await
            .unwrap_err();
        assert_eq!(field(&bad), vec![Some("month")]);
        // Opened early by the privacy office: answers are taken from today.
        let round = app
            .open_inspection_round(&e.privacy, "2026-12")
            .await
            .unwrap();
        assert_eq!(
            (round.opens_on.as_str(), round.closes_on.as_str()),
            ("2026-12-02", "2027-01-17")
        );

        // Every unanswered item is named; nothing is stored.
        let err = app
            .submit_inspection(
                &e.sales_staff,
                round.id,
                "individual",
                &replies("y-yyyyyyyyyyyy-"),
            )
            .await
            .unwrap_err();
        assert_eq!(field(&err), vec![Some("q-2"), Some("q-15")]);
        let err = app
            .submit_inspection(&e.sales_staff, round.id, "individual", &replies("yyy"))
            .await
            .unwrap_err();
        assert!(matches!(err, AppError::Invalid(_)));
        // Staff do not answer the managers' set.
        assert!(matches!(
            app.submit_inspection(&e.sales_staff, round.id, "manager", &replies("yyyyyyyyyy"))
                .await,
            Err(AppError::Denied)
        ));
        // Another company's round does not exist for them.
        assert!(matches!(
            app.submit_inspection(
                &e.other_company,
                round.id,
                "individual",
                &replies("yyyyyyyyyyyyyyy")
            )
            .await,
            Err(AppError::NotFound)
        ));

        // Sales: yamada 13 yes + 2 no; carol all yes but item 13 does not apply; the head
        // answers both sets. HR: sato says no to item 1.
        app.submit_inspection(
            &e.sales_staff,
            round.id,
            "individual",
            &replies("nyyyyyyyyynyyyy"),
        )
        .await
        .unwrap();
        app.submit_inspection(
            &e.sales_staff2,
            round.id,
            "individual",
            &replies("yyyyyyyyyyyyayy"),
        )
        .await
        .unwrap();
        app.submit_inspection(
            &e.sales_head,
            round.id,
            "individual",
            &replies("yyyyyyyyyyyyyyy"),
        )
        .await
        .unwrap();
        app.submit_inspection(&e.sales_head, round.id, "manager", &replies("yyyyynyyyy"))
            .await
            .unwrap();
        app.submit_inspection(
            &e.hr_staff,
            round.id,
            "individual",
            &replies("nyyyyyyyyyyyyyy"),
        )
        .await
        .unwrap();
        let twice = app
            .submit_inspection(
                &e.sales_staff,
                round.id,
                "individual",
                &replies("yyyyyyyyyyyyyyy"),
            )
            .await
            .unwrap_err();
        assert!(
            matches!(&twice, AppError::Invalid(p) if p.ja.contains("回答済み")),
            "{twice:?}"
        );

        // The counts kept as answers arrive are what a recount from the answers gives.
        let kept = app.store.inspection_tallies(round.id).await.unwrap();
        let expected_before = app.store.inspection_expected(round.id).await.unwrap();
        app.store.recount_inspection_round(round.id).await.unwrap();
        assert_eq!(
            app.store.inspection_tallies(round.id).await.unwrap(),
            kept,
            "{}",
            e.db.name
        );
        assert_eq!(
            app.store.inspection_expected(round.id).await.unwrap(),
            expected_before
        );
        assert_eq!(
            kept.len(),
            15 * 2 + 10,
            "sales and HR individual, sales workplace"
        );

        // The answer comes back read-only, with its note (sealed at rest).
        let form = app
            .inspection_answer_form(&e.sales_staff, "individual")
            .await
            .unwrap()
            .unwrap();
        let (_, got) = form.answered.unwrap();
        assert_eq!(got[0].note.as_deref(), Some("鍵付きの棚が足りない"));
        let row = app
            .store
            .inspection_answer_of(round.id, "individual", e.sales_staff.actor_id().unwrap())
            .await
            .unwrap()
            .unwrap();
        assert!(
            !row.notes_sealed.unwrap().contains("鍵付き"),
            "notes are sealed at rest"
        );

        // The privacy office sees every department: sales item 1 is 2 of 3 (67), item 13 is
        // 2 of 2 (carol's 該当なし does not count), item 11 is 2 of 3; HR item 1 is 0.
        let f = app
            .inspection_round_figures(&e.privacy, round.id)
            .await
            .unwrap();
        let sales = f
            .departments
            .iter()
            .find(|d| d.department_id == e.sales)
            .unwrap();
        let t = &sales.tallies[&Audience::Individual];
        assert_eq!((t[0].yes, t[0].no, t[0].na), (2, 1, 0));
        assert_eq!(t[12].score(), Some(100.0));
        assert!((t[0].score().unwrap() - 66.666).abs() < 0.01);
        assert_eq!(sales.answered[&Audience::Individual], 3);
        assert_eq!(sales.expected[&Audience::Individual], 3);
        assert_eq!(sales.answered[&Audience::Manager], 1);
        let hr = f
            .departments
            .iter()
            .find(|d| d.department_id == e.hr)
            .unwrap();
        assert_eq!(hr.tallies[&Audience::Individual][0].score(), Some(0.0));
        assert_eq!(f.company[&Audience::Individual][0].score(), Some(50.0));
        // yamada, sato, and the head's own workplace answer (item 6).
        assert_eq!(f.follow_up_open, 3);

        // The sales head sees sales only; staff see no figures; the other company nothing.
        let f = app
            .inspection_round_figures(&e.sales_head, round.id)
            .await
            .unwrap();
        assert_eq!(
            f.departments
                .iter()
                .map(|d| d.department_id)
                .collect::<Vec<_>>(),
            vec![e.sales]
        );
        assert_eq!(f.follow_up_open, 2);
        assert!(matches!(
            app.inspection_round_figures(&e.sales_staff, round.id).await,
            Err(AppError::Denied)
        ));
        assert!(matches!(
            app.inspection_round_figures(&e.other_company, round.id)
                .await,
            Err(AppError::NotFound)
        ));
        assert!(matches!(
            app.inspection_trend(&e.sales_head, e.hr, 12).await,
            Err(AppError::NotFound)
        ));
        let trend = app.inspection_trend(&e.exec, e.sales, 12).await.unwrap();
        assert_eq!(trend.len(), 1);
        assert!(trend[0].manager.unwrap() < 100.0);

        // The follow-up list: the head sees yamada with items 1 and 11 and the note.
        let list = app
            .inspection_follow_up_list(&e.sales_head, round.id)
            .await
            .unwrap();
        assert_eq!(list.len(), 2, "yamada, and the head's workplace answer");
        let y = list.iter().find(|p| p.person == "yamada さん").unwrap();
        assert_eq!(y.noes.iter().map(|n| n.0).collect::<Vec<_>>(), vec![1, 11]);
        assert_eq!(y.noes[0].1.label, "ルールの理解");
        assert_eq!(y.noes[0].2.as_deref(), Some("鍵付きの棚が足りない"));
        let head = list
            .iter()
            .find(|p| p.answer.audience == "manager")
            .unwrap();
        assert_eq!(head.noes[0].1.label, "廃棄の証跡");
        let answer = y.answer.id;
        // A date after today, no outcome: both named; staff may not record.
        let bad = app
            .record_inspection_followup(&e.sales_head, answer, "2026-12-09", "", "")
            .await
            .unwrap_err();
        assert_eq!(field(&bad), vec![Some("interviewed_on"), Some("outcome")]);
        assert!(matches!(
            app.record_inspection_followup(&e.sales_staff2, answer, "2026-12-02", "improved", "")
                .await,
            Err(AppError::Denied)
        ));
        // The HR person is outside the sales head's reach.
        let hr_answer = app
            .inspection_follow_up_list(&e.privacy, round.id)
            .await
            .unwrap()
            .into_iter()
            .find(|p| p.answer.department_id == e.hr)
            .unwrap()
            .answer
            .id;
        assert!(matches!(
            app.record_inspection_followup(&e.sales_head, hr_answer, "2026-12-02", "improved", "")
                .await,
            Err(AppError::NotFound)
        ));
        app.record_inspection_followup(
            &e.sales_head,
            answer,
            "2026-12-02",
            "planned",
            "棚を発注した",
        )
        .await
        .unwrap();
        let list = app
            .inspection_follow_up_list(&e.sales_head, round.id)
            .await
            .unwrap();
        let y = list.iter().find(|p| p.answer.id == answer).unwrap();
        assert_eq!(y.followups.len(), 1);
        assert_eq!(y.followups[0].note.as_deref(), Some("棚を発注した"));
        assert_eq!(
            app.inspection_round_figures(&e.sales_head, round.id)
                .await
                .unwrap()
                .follow_up_open,
            1
        );

        // Every answer, view of the list and interview is in the audit log, without the notes.
        let log = app
            .store
            .search_audit(&AuditFilter::default(), 500)
            .await
            .unwrap();
        let actions: Vec<&str> = log.iter().map(|e| e.record.action.as_str()).collect();
        assert_eq!(
            actions
                .iter()
                .filter(|a| **a == "inspection.answer")
                .count(),
            5
        );
        assert!(actions.contains(&"inspection.followup.view"));
        assert!(actions.contains(&"inspection.followup.record"));
        assert!(actions.contains(&"inspection.round.open"));
        assert!(!log.iter().any(|e| e.record.detail.contains("鍵付き")));
    }
}

#[tokio::test]
async fn question_sets_are_versioned_and_a_round_keeps_its_own() {
    for e in envs(jst(2026, 12, 17, 10)).await {
        let app = &e.app;
        let first = app
            .open_inspection_round(&e.privacy, "2026-12")
            .await
            .unwrap();
        let rows = |v: &[(&str, &str)]| -> Vec<(String, String)> {
            v.iter().map(|(a, b)| ((*a).into(), (*b).into())).collect()
        };
        // Every problem named at its field; staff may not publish.
        let bad = app
            .publish_inspection_set(
                &e.privacy,
                "individual",
                &rows(&[
                    ("画面ロック", "離席時にロックしている"),
                    ("", "見出しなし"),
                    ("画面ロック", ""),
                ]),
            )
            .await
            .unwrap_err();
        assert_eq!(
            field(&bad),
            vec![Some("label-2"), Some("label-3"), Some("text-3")]
        );
        assert!(matches!(
            app.publish_inspection_set(&e.sales_head, "individual", &rows(&[("a", "b")]))
                .await,
            Err(AppError::Denied)
        ));
        assert!(app
            .publish_inspection_set(&e.privacy, "everyone", &rows(&[("a", "b")]))
            .await
            .is_err());
        let v2 = app
            .publish_inspection_set(
                &e.privacy,
                "individual",
                &rows(&[
                    ("画面ロック", "離席時にロックしている"),
                    ("", ""),
                    ("施錠", "書類を施錠保管している"),
                    ("廃棄", "シュレッダーで廃棄している"),
                ]),
            )
            .await
            .unwrap();
        assert_eq!(v2.version, 2);
        let versions = app
            .inspection_set_versions(&e.privacy, "individual")
            .await
            .unwrap();
        assert_eq!(versions.len(), 2);
        assert_eq!(versions[0].1.len(), 3, "the blank row is dropped");
        assert_eq!(versions[1].1.len(), 15, "the default set is version 1");

        // December's round keeps its 15 questions; January's (opened early) has 3.
        let form = app
            .inspection_answer_form(&e.sales_staff, "individual")
            .await
            .unwrap()
            .unwrap();
        assert_eq!((form.round.id, form.questions.len()), (first.id, 15));
        app.submit_inspection(
            &e.sales_staff,
            first.id,
            "individual",
            &replies("yyyyyyyyyyyyyyy"),
        )
        .await
        .unwrap();
        e.clock
            .advance_micros(jst(2027, 1, 18, 10) - jst(2026, 12, 17, 10));
        let jan = app
            .open_inspection_round(&e.privacy, "2027-01")
            .await
            .unwrap();
        let form = app
            .inspection_answer_form(&e.sales_staff, "individual")
            .await
            .unwrap()
            .unwrap();
        assert_eq!((form.round.id, form.questions.len()), (jan.id, 3));
        app.submit_inspection(&e.sales_staff, jan.id, "individual", &replies("ynn"))
            .await
            .unwrap();
        let dec = app
            .inspection_round_figures(&e.privacy, first.id)
            .await
            .unwrap();
        assert_eq!(dec.info.individual.len(), 15);
        let trend = app.inspection_trend(&e.privacy, e.sales, 12).await.unwrap();
        assert_eq!(
            trend.iter().map(|p| p.month.as_str()).collect::<Vec<_>>(),
            vec!["2026-12", "2027-01"]
        );
        assert!((trend[1].individual.unwrap() - 33.333).abs() < 0.01);

        // The schedule: a day out of range is named; the schedule's day moves January's
        // window only for rounds not yet opened.
        let bad = app
            .set_inspection_schedule(&e.privacy, "32", true)
            .await
            .unwrap_err();
        assert_eq!(field(&bad), vec![Some("day")]);
        app.set_inspection_schedule(&e.privacy, "１０", true)
            .await
            .unwrap();
        let s = app.inspection_settings(&e.privacy).await.unwrap();
        assert_eq!(
            (s.day_of_month, s.enabled, s.individual.version),
            (10, true, 2)
        );
        assert!(matches!(
            app.set_inspection_schedule(&e.exec, "10", true).await,
            Err(AppError::Denied)
        ));
    }
}

#[tokio::test]
async fn an_upgraded_database_keeps_its_records_and_runs_inspections() {
    // A database as the release before the programme left it (migration 16), with a user.
    for db in TestDb::all_at(16).await {
        let clock = Arc::new(ManualClock::new(jst(2026, 12, 17, 10)));
        let keys = Keys::load_or_create(&temp_dir("insp-up"), true).unwrap();
        let (app, _w) = App::new(db.store.clone(), keys, clock, Settings::default());
        let l = Ctx::local();
        let co = app.create_company(&l, "old", "旧社").await.unwrap();
        let d = app.create_department(&l, co, None, "本社").await.unwrap();
        let before = person(&app, co, d, "olduser", Role::Staff).await;
        db.store.migrate().await.unwrap();
        let privacy = person(&app, co, d, "tanaka", Role::PrivacyOffice).await;
        let round = app
            .open_inspection_round(&privacy, "2026-12")
            .await
            .unwrap();
        app.submit_inspection(&before, round.id, "individual", &replies("yyyyyyyyyyyyyyy"))
            .await
            .unwrap();
        let f = app
            .inspection_round_figures(&privacy, round.id)
            .await
            .unwrap();
        assert_eq!(
            f.departments[0].answered[&Audience::Individual],
            1,
            "{}",
            db.name
        );
        assert_eq!(f.departments[0].expected[&Audience::Individual], 2);
    }
}
