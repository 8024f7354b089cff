//! E-learning and pledges (issue 17, part 2) against real databases (SQLite and PostgreSQL) and
//! the real SMTP sink: a course written, assigned and taken (failed, then passed; the attempt
//! shown again exactly from its stored seed), images checked by their bytes, the certificate,
//! completion per department with temporary staff apart and the department head's reach, the
//! reminders on their JST days (7 days and 1 day before, the first business day after), the
//! yearly copy, pledges in versions, employment types, and the audit log.

use chrono::NaiveDate;
use mamori_app::admin::UserInput;
use mamori_app::clock::ManualClock;
use mamori_app::keys::Keys;
use mamori_app::learning::{CourseInput, REMINDER_TASK};
use mamori_app::{App, AppError, Ctx, Settings};
use mamori_domain::incident::jst_midnight;
use mamori_domain::programme::learning::{EmploymentType, QuestionInput};
use mamori_domain::role::Role;
use mamori_mail::sink::SmtpSink;
use mamori_mail::{Mailer, SmtpConfig};
use mamori_store::audit::AuditFilter;
use mamori_store::testing::{temp_dir, TestDb};
use std::sync::Arc;
use std::time::Duration;

/// 10:00 JST on a day.
fn at(day: &str) -> i64 {
    jst_midnight(day.parse::<NaiveDate>().unwrap()) + 10 * 3_600_000_000
}

fn set(clock: &ManualClock, t: i64) {
    use mamori_app::clock::Clock;
    clock.advance_micros(t - clock.now_micros());
}

struct Env {
    app: App,
    clock: Arc<ManualClock>,
    db: TestDb,
    sink: SmtpSink,
    privacy: Ctx,
    sales_head: Ctx,
    staff: Ctx,
    temp: Ctx,
    hr_staff: Ctx,
    admin: Ctx,
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
        let clock = Arc::new(ManualClock::new(at("2026-12-07")));
        let keys = Keys::load_or_create(&temp_dir("keys").join("k"), true).unwrap();
        let settings = Settings {
            public_url: "https://mamori.example.jp".into(),
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
        let sales = app
            .create_department(&l, co, Some(hq), "営業部")
            .await
            .unwrap();
        let sales1 = app
            .create_department(&l, co, Some(sales), "営業一課")
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
        let admin = person(&app, co, hq, "admin", Role::Admin).await;
        let temp = person(&app, co, sales1, "haken", Role::Staff).await;
        app.set_employment_type(&admin, temp.actor_id().unwrap(), "temporary")
            .await
            .unwrap();
        out.push(Env {
            privacy: person(&app, co, hq, "tanaka", Role::PrivacyOffice).await,
            sales_head: person(&app, co, sales, "eigyo", Role::DepartmentHead).await,
            staff: person(&app, co, sales, "yamada", Role::Staff).await,
            hr_staff: person(&app, co, hr, "jinji", Role::Staff).await,
            other_company: person(&app, other, other_hq, "other", Role::PrivacyOffice).await,
            temp,
            admin,
            app,
            clock,
            db,
            sink,
        });
    }
    out
}

fn course_input(title: &str) -> CourseInput {
    CourseInput {
        title: title.into(),
        summary: "年に1回の教育".into(),
        year: "２０２６".into(),
        pass_mark: "80%".into(),
        questions: "20問".into(),
    }
}

/// Question `i` has 3 choices; the right one is `右{i}`.
fn question(i: usize) -> QuestionInput {
    let mut choices = vec![format!("左{i}"), format!("右{i}"), format!("中{i}")];
    choices.rotate_left(i % 3);
    let correct = choices.iter().position(|c| c.starts_with('右')).unwrap() + 1;
    QuestionInput {
        text: format!("問題{i}"),
        choices,
        correct: Some(correct),
        explanation: format!("解説{i}"),
    }
}

/// A course with 25 questions assigned to everybody until `deadline`.
async fn ready_course(e: &Env, deadline: &str) -> i64 {
    let app = &e.app;
    let c = app
        .create_course(&e.privacy, &course_input("個人情報保護教育"))
        .await
        .unwrap();
    app.add_page(&e.privacy, c, "はじめに", "# ようこそ\n本文")
        .await
        .unwrap();
    for i in 1..=25 {
        app.save_question(&e.privacy, c, None, &question(i))
            .await
            .unwrap();
    }
    app.assign_course(&e.privacy, c, "all", deadline)
        .await
        .unwrap();
    c
}

/// Answers an attempt: rightly for the first `right` questions, wrongly for the rest.
async fn answer(e: &Env, who: &Ctx, course: i64, attempt: i64, right: usize) -> Vec<Option<usize>> {
    let v = e.app.attempt_view(who, course, attempt).await.unwrap();
    v.questions
        .iter()
        .enumerate()
        .map(|(i, q)| {
            let want = if i < right { '右' } else { '左' };
            q.choices.iter().position(|c| c.starts_with(want))
        })
        .collect()
}

#[tokio::test]
async fn a_course_is_written_taken_failed_then_passed_and_certified() {
    for e in envs().await {
        let app = &e.app;
        let name = e.db.name;
        // Settings are checked, every problem at its field.
        let bad = app
            .create_course(
                &e.privacy,
                &CourseInput {
                    title: " ".into(),
                    summary: String::new(),
                    year: "1999".into(),
                    pass_mark: "120".into(),
                    questions: "たくさん".into(),
                },
            )
            .await
            .unwrap_err();
        let AppError::Invalid(p) = bad else {
            panic!("{bad:?}")
        };
        let fields: Vec<_> = p.all().iter().filter_map(|p| p.field).collect();
        assert_eq!(
            fields,
            vec!["questions", "title", "year", "pass_mark"],
            "{name}"
        );
        // Only the privacy office writes courses.
        assert!(matches!(
            app.create_course(&e.staff, &course_input("x")).await,
            Err(AppError::Denied)
        ));
        let c = ready_course(&e, "2027-01-29").await;
        // A question with one choice is refused at its field.
        let one = app
            .save_question(
                &e.privacy,
                c,
                None,
                &QuestionInput {
                    text: "問".into(),
                    choices: vec!["a".into()],
                    correct: Some(1),
                    explanation: String::new(),
                },
            )
            .await
            .unwrap_err();
        assert!(
            matches!(one, AppError::Invalid(ref p) if p.field == Some("choices")),
            "{one:?}"
        );
        // Images: PNG accepted, an SVG (script) refused by its bytes whatever its name.
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
        let img = app.add_image(&e.privacy, c, "図1.png", &png).await.unwrap();
        let svg = app
            .add_image(&e.privacy, c, "evil.png", b"<svg onload=alert(1)>")
            .await
            .unwrap_err();
        assert!(matches!(svg, AppError::Invalid(ref p) if p.field == Some("image")));
        let (ct, bytes) = app.course_image(&e.staff, c, img).await.unwrap();
        assert_eq!((ct.as_str(), bytes), ("image/png", png.clone()));
        // Another company does not see the course or its image.
        assert!(matches!(
            app.course_view(&e.other_company, c).await,
            Err(AppError::NotFound)
        ));
        assert!(matches!(
            app.course_image(&e.other_company, c, img).await,
            Err(AppError::NotFound)
        ));

        // The staff member's task is on the hub.
        let tasks = app.learning_tasks(&e.staff).await.unwrap();
        assert_eq!(tasks.len(), 1, "{name}");

        // First attempt: 20 of 25 questions, shown again exactly (the stored seed).
        let a1 = app.start_attempt(&e.staff, c).await.unwrap();
        assert_eq!(
            app.start_attempt(&e.staff, c).await.unwrap(),
            a1,
            "the open attempt"
        );
        let v1 = app.attempt_view(&e.staff, c, a1).await.unwrap();
        assert_eq!(v1.questions.len(), 20);
        let v1b = app.attempt_view(&e.staff, c, a1).await.unwrap();
        let order = |v: &mamori_app::learning::AttemptView| {
            v.questions
                .iter()
                .map(|q| (q.text.clone(), q.choices.clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(order(&v1), order(&v1b));
        // Another staff member may not look at it.
        assert!(matches!(
            app.attempt_view(&e.hr_staff, c, a1).await,
            Err(AppError::NotFound)
        ));
        // Unanswered questions are named.
        let mut partial = answer(&e, &e.staff, c, a1, 20).await;
        partial[2] = None;
        partial[6] = None;
        let err = app
            .submit_attempt(&e.staff, c, a1, &partial)
            .await
            .unwrap_err();
        let AppError::Invalid(p) = err else { panic!() };
        assert!(p.ja.contains("問3、問7"), "{}", p.ja);
        // 15 of 20 is below 80 %: failed, and the right answers are not shown.
        let answers = answer(&e, &e.staff, c, a1, 15).await;
        let r1 = app.submit_attempt(&e.staff, c, a1, &answers).await.unwrap();
        assert_eq!(
            (r1.correct, r1.total, r1.passed),
            (Some(15), 20, false),
            "{name}"
        );
        assert!(!app.attempt_view(&e.staff, c, a1).await.unwrap().reveal);
        assert!(
            app.submit_attempt(&e.staff, c, a1, &answers).await.is_err(),
            "submitted once"
        );
        assert!(matches!(
            app.certificate(&e.staff, c, e.staff.actor_id().unwrap())
                .await,
            Err(AppError::NotFound)
        ));
        // Retake: a new draw; 16 of 20 passes.
        let a2 = app.start_attempt(&e.staff, c).await.unwrap();
        assert_ne!(a1, a2);
        let v2 = app.attempt_view(&e.staff, c, a2).await.unwrap();
        assert_ne!(order(&v1), order(&v2), "another seed, another test");
        let answers = answer(&e, &e.staff, c, a2, 16).await;
        let r2 = app.submit_attempt(&e.staff, c, a2, &answers).await.unwrap();
        assert!(r2.passed, "{name}");
        let shown = app.attempt_view(&e.staff, c, a2).await.unwrap();
        assert!(shown.reveal);
        assert_eq!(
            shown
                .questions
                .iter()
                .filter(|q| q.chosen == q.correct)
                .count(),
            16
        );
        // The first attempt still shows what was asked then.
        assert_eq!(
            order(&app.attempt_view(&e.staff, c, a1).await.unwrap()),
            order(&v1)
        );
        // Passed: no more attempts, no more task.
        assert!(matches!(
            app.start_attempt(&e.staff, c).await,
            Err(AppError::Invalid(_))
        ));
        assert!(app.learning_tasks(&e.staff).await.unwrap().is_empty());
        // The certificate: for the person and the privacy office, not for a colleague.
        let me = e.staff.actor_id().unwrap();
        let cert = app.certificate(&e.staff, c, me).await.unwrap();
        assert!(cert.pdf.starts_with(b"%PDF"));
        assert!(app.certificate(&e.privacy, c, me).await.is_ok());
        assert!(matches!(
            app.certificate(&e.hr_staff, c, me).await,
            Err(AppError::Denied)
        ));
        // Every step is in the audit log.
        let log = app
            .store
            .search_audit(&AuditFilter::default(), 500)
            .await
            .unwrap();
        let ok = mamori_domain::audit::Outcome::Success;
        let count = |a: &str| {
            log.iter()
                .filter(|x| x.record.action == a && x.record.outcome == ok)
                .count()
        };
        assert_eq!(count("learning.course.create"), 1);
        assert_eq!(count("learning.question.save"), 25);
        assert_eq!(count("learning.attempt.start"), 2);
        assert_eq!(count("learning.attempt.submit"), 2);
        assert_eq!(count("learning.image.add"), 1);
        assert_eq!(count("learning.assign"), 1);
        assert!(count("learning.certificate") >= 2);
        assert!(log.iter().any(|x| x.record.action == "learning.certificate"
            && x.record.outcome == mamori_domain::audit::Outcome::Denied));
        e.db.cleanup().await;
    }
}

#[tokio::test]
async fn completion_per_department_with_temporary_staff_apart() {
    for e in envs().await {
        let app = &e.app;
        let c = ready_course(&e, "2026-12-20").await;
        // The temporary worker passes; the staff member fails once.
        for (who, right) in [(&e.temp, 20), (&e.staff, 3)] {
            let a = app.start_attempt(who, c).await.unwrap();
            let ans = answer(&e, who, c, a, right).await;
            app.submit_attempt(who, c, a, &ans).await.unwrap();
        }
        set(&e.clock, at("2026-12-21"));
        // The privacy office sees every department.
        let all = app.course_completion(&e.privacy, c).await.unwrap();
        // admin, haken, tanaka, eigyo, yamada, jinji: one passed, the others late.
        assert_eq!(all.total.assigned, 6, "{}", e.db.name);
        assert_eq!(all.total.completed, 1);
        assert_eq!(all.total.overdue, 5);
        assert_eq!((all.temporary.assigned, all.temporary.completed), (1, 1));
        let sales1 = all
            .rows
            .iter()
            .find(|r| r.department == "営業一課")
            .unwrap();
        assert_eq!(
            (sales1.all.assigned, sales1.all.completed, sales1.all.rate()),
            (1, 1, Some(100))
        );
        assert_eq!(sales1.temporary.assigned, 1);
        assert!(all
            .missing
            .iter()
            .any(|m| m.name == "yamada さん" && m.overdue));
        assert!(!all.missing.iter().any(|m| m.name == "haken さん"));
        // Listed by department, then name (all of them late here).
        let order: Vec<(&str, &str)> = all
            .missing
            .iter()
            .map(|m| (m.department.as_str(), m.name.as_str()))
            .collect();
        let mut sorted = order.clone();
        sorted.sort_unstable();
        assert_eq!(order, sorted);
        // The head of sales sees sales and the section below it, nobody else.
        let sales = app.course_completion(&e.sales_head, c).await.unwrap();
        let depts: Vec<_> = sales.rows.iter().map(|r| r.department.as_str()).collect();
        assert_eq!(depts, vec!["営業一課", "営業部"]);
        assert!(!sales.missing.iter().any(|m| m.name == "jinji さん"));
        assert_eq!(sales.total.assigned, 3);
        // Staff see no figures.
        assert!(matches!(
            app.course_completion(&e.staff, c).await,
            Err(AppError::Denied)
        ));
        // The overview counts over the visitor's reach; staff see only their course.
        let o = app.courses_overview(&e.sales_head).await.unwrap();
        assert_eq!(o[0].completion.unwrap().assigned, 3);
        assert!(app.courses_overview(&e.staff).await.unwrap()[0]
            .completion
            .is_none());
        // A course assigned to a department reaches those below it only.
        let c2 = app
            .create_course(&e.privacy, &course_input("営業向け"))
            .await
            .unwrap();
        let sales_id = e.sales_head.user_ref().unwrap().department_id;
        app.assign_course(
            &e.privacy,
            c2,
            &format!("department:{sales_id}"),
            "2027/1/29",
        )
        .await
        .unwrap();
        assert!(matches!(
            app.course_view(&e.hr_staff, c2).await,
            Err(AppError::NotFound)
        ));
        assert!(app.course_view(&e.temp, c2).await.unwrap().may_take);
        // By role.
        let c3 = app
            .create_course(&e.privacy, &course_input("管理職向け"))
            .await
            .unwrap();
        app.assign_course(&e.privacy, c3, "role:department_head", "2027-01-29")
            .await
            .unwrap();
        assert!(app
            .course_view(&e.sales_head, c3)
            .await
            .unwrap()
            .me
            .deadline
            .is_some());
        assert!(matches!(
            app.course_view(&e.staff, c3).await,
            Err(AppError::NotFound)
        ));
        // A bad target and a bad date are both named.
        let err = app
            .assign_course(&e.privacy, c3, "department:99999", "来月")
            .await
            .unwrap_err();
        let AppError::Invalid(p) = err else { panic!() };
        let fields: Vec<_> = p.all().iter().filter_map(|p| p.field).collect();
        assert_eq!(fields, vec!["target", "deadline"]);
        e.db.cleanup().await;
    }
}

#[tokio::test]
async fn reminders_go_on_their_jst_days_once_each_over_smtp() {
    for e in envs().await {
        let app = &e.app;
        // Deadline Friday 15 January 2027: reminders on the 8th, the 14th and Monday the 18th.
        let c = ready_course(&e, "2027-01-15").await;
        // The temporary worker passes and gets no reminders.
        let a = app.start_attempt(&e.temp, c).await.unwrap();
        let ans = answer(&e, &e.temp, c, a, 20).await;
        app.submit_attempt(&e.temp, c, a, &ans).await.unwrap();
        let people = 5; // admin, tanaka, eigyo, yamada, jinji
        let mut seen = 0;
        for (day, want) in [
            ("2027-01-07", 0),
            ("2027-01-08", people),
            ("2027-01-09", 0),
            ("2027-01-14", people),
            ("2027-01-15", 0),
            ("2027-01-16", 0),
            ("2027-01-17", 0),
            ("2027-01-18", people),
            ("2027-01-19", 0),
        ] {
            set(&e.clock, at(day));
            app.run_periodic(REMINDER_TASK).await.unwrap();
            // Twice the same day: still once.
            app.run_periodic(REMINDER_TASK).await.unwrap();
            if want > 0 {
                let mails = e.sink.wait_for(seen + want, Duration::from_secs(10)).await;
                let new = &mails[seen..];
                let mut to: Vec<String> = new.iter().flat_map(|m| m.to.clone()).collect();
                to.sort();
                assert_eq!(
                    to,
                    vec![
                        "admin@example.co.jp",
                        "eigyo@example.co.jp",
                        "jinji@example.co.jp",
                        "tanaka@example.co.jp",
                        "yamada@example.co.jp"
                    ],
                    "{day} {}",
                    e.db.name
                );
                let subject = new[0].parsed().subject.unwrap();
                let expect = match day {
                    "2027-01-08" => "あと7日",
                    "2027-01-14" => "あと1日",
                    _ => "過ぎています",
                };
                assert!(subject.contains(expect), "{day}: {subject}");
                assert!(new[0]
                    .parsed()
                    .text
                    .contains(&format!("https://mamori.example.jp/programme/courses/{c}")));
                seen += want;
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
            assert_eq!(e.sink.messages().len(), seen, "{day} {}", e.db.name);
        }
        e.db.cleanup().await;
    }
}

#[tokio::test]
async fn a_course_is_copied_into_the_next_year() {
    for e in envs().await {
        let app = &e.app;
        let c = ready_course(&e, "2027-01-29").await;
        let png = b"\x89PNG\r\n\x1a\nrest".to_vec();
        let img = app.add_image(&e.privacy, c, "a.png", &png).await.unwrap();
        let page = app
            .add_page(
                &e.privacy,
                c,
                "図",
                &format!("![図](/programme/courses/{c}/images/{img})"),
            )
            .await
            .unwrap();
        let v = app.course_view(&e.privacy, c).await.unwrap();
        let retired = v.questions[0].id;
        app.retire_question(&e.privacy, c, retired).await.unwrap();
        // A changed question replaces the old one at its place.
        let changed = v.questions[1].id;
        let new_q = app
            .save_question(&e.privacy, c, Some(changed), &question(99))
            .await
            .unwrap();
        let n = app.copy_course_to_next_year(&e.privacy, c).await.unwrap();
        let copy = app.course_view(&e.privacy, n).await.unwrap();
        assert_eq!(copy.course.year, 2027);
        assert_eq!(copy.course.copied_from, Some(c));
        assert_eq!(copy.pages.len(), 2);
        assert_eq!(
            copy.questions.len(),
            24,
            "retired and replaced questions stay behind"
        );
        assert_eq!(
            copy.questions[0].text, "問題99",
            "the changed question kept its place"
        );
        assert!(copy.assignments.is_empty(), "a new year has new deadlines");
        assert_eq!(copy.images.len(), 1);
        let new_img = copy.images[0].id;
        assert!(copy.pages[1]
            .body
            .contains(&format!("/programme/courses/{n}/images/{new_img})")));
        assert!(app
            .course_view(&e.privacy, c)
            .await
            .unwrap()
            .pages
            .iter()
            .any(|p| p.id == page));
        let _ = new_q;
        // Copying again into the same year is refused with the reason.
        let again = app
            .copy_course_to_next_year(&e.privacy, c)
            .await
            .unwrap_err();
        assert!(
            matches!(again, AppError::Invalid(ref p) if p.field == Some("year")),
            "{again:?}"
        );
        assert!(matches!(
            app.copy_course_to_next_year(&e.sales_head, c).await,
            Err(AppError::Denied)
        ));
        e.db.cleanup().await;
    }
}

#[tokio::test]
async fn pledges_are_versions_each_person_accepts() {
    for e in envs().await {
        let app = &e.app;
        assert!(matches!(
            app.publish_pledge(&e.staff, "誓約書", "本文").await,
            Err(AppError::Denied)
        ));
        let bad = app.publish_pledge(&e.privacy, "", " ").await.unwrap_err();
        let AppError::Invalid(p) = bad else { panic!() };
        assert_eq!(
            p.all().iter().filter_map(|p| p.field).collect::<Vec<_>>(),
            vec!["title", "body"]
        );
        let v1 = app
            .publish_pledge(
                &e.privacy,
                "誓約書",
                "業務上知り得た個人情報を漏らしません。",
            )
            .await
            .unwrap();
        assert_eq!(v1, 1);
        assert!(matches!(
            app.learning_tasks(&e.staff).await.unwrap()[..],
            [mamori_app::learning::LearningTask::Pledge { version: 1, .. }]
        ));
        app.accept_pledge(&e.staff, 1).await.unwrap();
        app.accept_pledge(&e.staff, 1).await.unwrap(); // twice: recorded once
        assert!(app
            .pledge_view(&e.staff)
            .await
            .unwrap()
            .accepted_at
            .is_some());
        assert!(app.learning_tasks(&e.staff).await.unwrap().is_empty());
        let st = app.pledge_status(&e.sales_head).await.unwrap();
        let names: Vec<_> = st.missing.iter().map(|m| m.0.as_str()).collect();
        assert_eq!(names, vec!["haken さん", "eigyo さん"], "{}", e.db.name);
        assert_eq!(st.missing[0].2, EmploymentType::Temporary);
        // A new version asks everybody again; accepting the old one is refused.
        let v2 = app
            .publish_pledge(&e.privacy, "誓約書", "改訂: 退職後も守ります。")
            .await
            .unwrap();
        assert_eq!(v2, 2);
        assert!(app
            .pledge_view(&e.staff)
            .await
            .unwrap()
            .accepted_at
            .is_none());
        let old = app.accept_pledge(&e.staff, 1).await.unwrap_err();
        assert!(matches!(old, AppError::Invalid(ref p) if p.field == Some("version")));
        app.accept_pledge(&e.staff, 2).await.unwrap();
        let all = app.pledge_status(&e.privacy).await.unwrap();
        assert_eq!(all.rows.iter().map(|r| r.1).sum::<usize>(), 6);
        assert_eq!(all.missing.len(), 5);
        assert!(matches!(
            app.pledge_status(&e.staff).await,
            Err(AppError::Denied)
        ));
        // Acceptances are append-only in the database itself.
        let del = sqlx::query("DELETE FROM pledge_acceptances")
            .execute(app.store.pool())
            .await;
        assert!(del.is_err(), "{}", e.db.name);
        let log = app
            .store
            .search_audit(&AuditFilter::default(), 500)
            .await
            .unwrap();
        assert_eq!(
            log.iter()
                .filter(|x| x.record.action == "learning.pledge.accept")
                .count(),
            2
        );
        assert_eq!(
            log.iter()
                .filter(|x| x.record.action == "learning.pledge.publish"
                    && x.record.outcome == mamori_domain::audit::Outcome::Success)
                .count(),
            2
        );
        e.db.cleanup().await;
    }
}

#[tokio::test]
async fn employment_types_are_set_by_admins() {
    for e in envs().await {
        let app = &e.app;
        let id = e.staff.actor_id().unwrap();
        assert_eq!(
            app.employment_type_of(&e.admin, id).await.unwrap(),
            EmploymentType::Regular
        );
        app.set_employment_type(&e.admin, id, "part_time")
            .await
            .unwrap();
        assert_eq!(
            app.employment_type_of(&e.admin, id).await.unwrap(),
            EmploymentType::PartTime
        );
        assert!(matches!(
            app.set_employment_type(&e.admin, id, "boss").await,
            Err(AppError::Invalid(_))
        ));
        assert!(app
            .set_employment_type(&e.privacy, id, "regular")
            .await
            .is_err());
        assert!(app
            .set_employment_type(&e.other_company, id, "regular")
            .await
            .is_err());
        let log = app
            .store
            .search_audit(&AuditFilter::default(), 500)
            .await
            .unwrap();
        assert_eq!(
            log.iter()
                .filter(|x| x.record.action == "admin.users.employment_type")
                .count(),
            2,
            "the test's temporary worker and this one"
        );
        e.db.cleanup().await;
    }
}
