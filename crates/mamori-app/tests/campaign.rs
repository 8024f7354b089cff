//! Notification campaigns (issue 14) against real databases (SQLite and PostgreSQL) and the
//! real SMTP sink on loopback: the notice's versions and approval, e-mail sent exactly once
//! (claims, a stopped sender's in-doubt messages resolved from the relay's log, two senders on
//! one database), a relay refusing everything, bounces, letters and returns, calls, the public
//! notice and the completion of the NoticeToSubjects obligation.

use mamori_app::admin::UserInput;
use mamori_app::campaign::{
    message_id, Bounce, CallOutcome, CampaignOptions, Channel, Notice, State,
};
use mamori_app::clock::ManualClock;
use mamori_app::impact::{AffectedPerson, Contact};
use mamori_app::incident::FirstReportInput;
use mamori_app::keys::Keys;
use mamori_app::{App, AppError, Ctx, Settings};
use mamori_domain::appi::Item;
use mamori_domain::role::Role;
use mamori_mail::sink::{Received, SinkMode, SmtpSink};
use mamori_mail::{Mail, Mailer, SmtpConfig};
use mamori_store::testing::{temp_dir, TestDb};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

// 2026-11-24T01:00:00Z = 2026-11-24 10:00 JST.
const T0: i64 = 1_795_482_000_000_000;

struct Env {
    app: App,
    clock: Arc<ManualClock>,
    sink: SmtpSink,
    db: TestDb,
    privacy: Ctx,
    exec: Ctx,
    desk: Ctx,
    staff: Ctx,
}

async fn person(app: &App, company: i64, dept: i64, login: &str, role: Role) -> Ctx {
    let (id, _) = app
        .create_user(
            &Ctx::local(),
            &UserInput {
                company_id: Some(company),
                department_id: dept,
                login: login.into(),
                display_name: format!("試験 {login}"),
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

fn mailer(port: u16) -> Mailer {
    Mailer::new(&SmtpConfig {
        host: "127.0.0.1".into(),
        port,
        from: "お客様相談室 <notice@example.co.jp>".into(),
        ..SmtpConfig::default()
    })
    .unwrap()
}

async fn envs() -> Vec<Env> {
    let mut out = Vec::new();
    for db in TestDb::all().await {
        let clock = Arc::new(ManualClock::new(T0));
        let keys = Keys::load_or_create(&temp_dir("keys").join("k"), true).unwrap();
        let (app, _writer) = App::new(db.store.clone(), keys, clock.clone(), Settings::default());
        let sink = SmtpSink::start().await;
        let app = app.with_mailer(mailer(sink.port()));
        let l = Ctx::local();
        let co = app
            .create_company(&l, "mirai", "株式会社みらい通販")
            .await
            .unwrap();
        let hq = app.create_department(&l, co, None, "本社").await.unwrap();
        let privacy = person(&app, co, hq, "tanaka", Role::PrivacyOffice).await;
        let exec = person(&app, co, hq, "watanabe", Role::Executive).await;
        let desk = person(&app, co, hq, "kimura", Role::ContactDesk).await;
        let staff = person(&app, co, hq, "yamada", Role::Staff).await;
        out.push(Env {
            app,
            clock,
            sink,
            db,
            privacy,
            exec,
            desk,
            staff,
        });
    }
    out
}

/// A reportable leak (over 1,000 persons, so the notice to the persons is an obligation).
async fn incident(app: &App, reporter: &Ctx) -> i64 {
    let input = FirstReportInput {
        description: "顧客リストを添付したメールを社外に誤送信した".into(),
        event: "leak".into(),
        certainty: "confirmed".into(),
        persons: "1,200".into(),
        items: vec!["name".into(), "email".into(), "phone".into()],
        ..FirstReportInput::default()
    };
    app.file_first_report(reporter, &input).await.unwrap().0
}

/// Drafts, completes, saves and approves a notice; returns the approved version.
async fn approved_notice(e: &Env, incident: i64) -> i64 {
    let mut n = e.app.draft_notice(&e.privacy, incident).await.unwrap();
    n.ja.contact = "お客様相談室 0120-000-000（平日9時〜17時）".into();
    n.en.as_mut().unwrap().contact = "Customer desk +81-120-000-000".into();
    let v = e.app.save_notice(&e.privacy, incident, &n).await.unwrap();
    e.app.approve_notice(&e.exec, incident, v).await.unwrap();
    v
}

fn p(
    id: i64,
    items: &[Item],
    email: Option<&str>,
    phone: Option<&str>,
    address: Option<&str>,
) -> AffectedPerson {
    AffectedPerson {
        id,
        record_id: None,
        items: items.to_vec(),
        contact: Contact {
            name: Some(format!("顧客 {id}")),
            postal_code: address.map(|_| "100-0001".into()),
            address: address.map(str::to_owned),
            email: email.map(str::to_owned),
            phone: phone.map(str::to_owned),
        },
    }
}

fn notices(sink: &SmtpSink) -> Vec<Received> {
    sink.messages()
        .into_iter()
        .filter(|m| m.parsed().header("X-Mamori-Kind") == Some("notice"))
        .collect()
}

/// Message-ID → how many times the sink received it, per envelope recipient.
fn per_recipient(msgs: &[Received]) -> HashMap<String, usize> {
    let mut m = HashMap::new();
    for r in msgs {
        for to in &r.to {
            *m.entry(to.clone()).or_default() += 1;
        }
    }
    m
}

async fn drain(app: &App, campaign: i64) {
    for _ in 0..50 {
        let pass = app
            .send_campaign_emails(campaign, Duration::from_secs(5))
            .await
            .unwrap();
        if pass.sent + pass.refused + pass.temp_failed == 0 {
            return;
        }
    }
}

async fn obligation(app: &App, incident: i64) -> Option<String> {
    app.store
        .obligations(incident)
        .await
        .unwrap()
        .into_iter()
        .find(|o| o.kind == "notice_to_subjects")
        .map(|o| o.status)
}

fn opts(channels: &[Channel], rate: u32) -> CampaignOptions {
    CampaignOptions {
        channels: channels.to_vec(),
        rate_per_sec: rate,
        lease_secs: 60,
    }
}

#[tokio::test]
async fn notice_versions_need_every_part_and_an_executive_or_ciso() {
    for e in envs().await {
        let app = &e.app;
        let id = incident(app, &e.staff).await;
        let draft = app.draft_notice(&e.privacy, id).await.unwrap();
        assert!(
            draft.ja.subject.contains("漏えい"),
            "{:?}",
            draft.ja.subject
        );
        assert!(draft.ja.what_happened.contains("誤送信"));
        // Staff may not draft.
        assert!(matches!(
            app.draft_notice(&e.staff, id).await,
            Err(AppError::Denied | AppError::NotFound)
        ));
        let v1 = app.save_notice(&e.privacy, id, &draft).await.unwrap();
        assert_eq!(v1, 1);
        // The contact point is missing: approval names it.
        match app.approve_notice(&e.exec, id, v1).await {
            Err(AppError::Invalid(p)) => {
                assert_eq!(p.field, Some("contact"), "{}", e.db.name);
                assert!(p.ja.contains("お問い合わせ窓口"), "{}", p.ja);
            }
            other => panic!("{other:?}"),
        }
        // No campaign without an approved notice.
        assert!(matches!(
            app.create_campaign_for(&e.privacy, id, &CampaignOptions::default(), vec![])
                .await,
            Err(AppError::Invalid(_))
        ));
        let mut n = draft.clone();
        n.ja.contact = "お客様相談室 0120-000-000".into();
        n.en = None;
        let v2 = app.save_notice(&e.privacy, id, &n).await.unwrap();
        // The privacy office may not approve; an executive may.
        assert!(matches!(
            app.approve_notice(&e.privacy, id, v2).await,
            Err(AppError::Denied)
        ));
        app.approve_notice(&e.exec, id, v2).await.unwrap();
        assert!(matches!(
            app.approve_notice(&e.exec, id, v2).await,
            Err(AppError::Invalid(_))
        ));
        // Editing after approval is a new, unapproved version; the approved one stays.
        let mut n3: Notice = n.clone();
        n3.ja.cause = "宛先の確認漏れ".into();
        let v3 = app.save_notice(&e.privacy, id, &n3).await.unwrap();
        let versions = app.notice_versions(&e.privacy, id).await.unwrap();
        assert_eq!(
            versions.iter().map(|v| v.version).collect::<Vec<_>>(),
            vec![3, 2, 1]
        );
        assert!(versions[0].approved_at.is_none());
        assert!(versions[1].approved_at.is_some());
        assert_eq!(
            app.notice_version(&e.privacy, id, v1).await.unwrap().notice,
            draft
        );
        // A campaign sends the approved version (2), not the newer draft (3).
        let c = app
            .create_campaign_for(&e.privacy, id, &CampaignOptions::default(), vec![])
            .await
            .unwrap();
        assert_eq!(
            app.campaign(&e.privacy, c).await.unwrap().notice_version,
            v2
        );
        assert_eq!(v3, 3);
        e.db.cleanup().await;
    }
}

#[tokio::test]
async fn email_goes_once_per_person_with_their_items_and_bounces_move_on() {
    for e in envs().await {
        let app = &e.app;
        let id = incident(app, &e.staff).await;
        approved_notice(&e, id).await;
        let mut persons: Vec<AffectedPerson> = (1..=20)
            .map(|i| {
                p(
                    i,
                    &[Item::Name, Item::Email],
                    Some(&format!("kokyaku{i}@example.jp")),
                    None,
                    None,
                )
            })
            .collect();
        persons.push(p(
            21,
            &[Item::Phone],
            Some("not an address"),
            Some("090-1234-5678"),
            None,
        ));
        persons.push(p(22, &[Item::Name], None, None, None));
        persons.push(p(
            23,
            &[Item::Name, Item::Phone],
            Some("both@example.jp"),
            Some("03-1234-5678"),
            None,
        ));
        let c = app
            .create_campaign_for(
                &e.privacy,
                id,
                &opts(&[Channel::Email, Channel::Phone], 200),
                persons,
            )
            .await
            .unwrap();
        drain(app, c).await;
        let got = notices(&e.sink);
        assert_eq!(got.len(), 21, "{}", e.db.name);
        let counts = per_recipient(&got);
        assert!(counts.values().all(|n| *n == 1), "{counts:?}");
        // Japanese subject encoded on the wire, decoded right; only the person's items.
        let one = got
            .iter()
            .find(|m| m.to == vec!["kokyaku1@example.jp".to_owned()])
            .unwrap();
        let parsed = one.parsed();
        assert!(parsed.subject.as_deref().unwrap().contains("漏えい"));
        assert!(!String::from_utf8_lossy(&one.data)
            .lines()
            .any(|l| l.starts_with("Subject:") && !l.is_ascii()));
        assert!(
            parsed.text.contains("氏名、メールアドレス"),
            "{}",
            parsed.text
        );
        assert!(!parsed.text.contains("電話番号"), "{}", parsed.text);
        let mid = parsed.message_id.clone().unwrap();
        assert!(
            mid.starts_with(&format!("mamori.c{c}.r")) && mid.ends_with(".a1@example.co.jp"),
            "{mid}"
        );
        // The bad address is a problem on that person, who went to the phone straight away;
        // the person without any contact data is unreachable.
        let list = app
            .campaign_recipients(&e.privacy, c, 0, 100)
            .await
            .unwrap();
        let bad = list.iter().find(|r| r.person_id == 21).unwrap();
        assert_eq!(
            (bad.channel, bad.state, bad.problem.as_deref()),
            (Some(Channel::Phone), State::Queued, Some("bad_address"))
        );
        let none = list.iter().find(|r| r.person_id == 22).unwrap();
        assert_eq!(none.state, State::Unreachable);
        // A permanent bounce of person 23's message moves them to the phone; a temporary one
        // and a foreign Message-ID change nothing.
        let r23 = list.iter().find(|r| r.person_id == 23).unwrap();
        let m23 = message_id(c, r23.id, 1, "example.co.jp");
        let report = app
            .apply_bounces(
                &e.privacy,
                c,
                vec![
                    Bounce {
                        message_id: format!("<{m23}>"),
                        recipient: "both@example.jp".into(),
                        permanent: true,
                    },
                    Bounce {
                        message_id: mid.clone(),
                        recipient: "kokyaku1@example.jp".into(),
                        permanent: false,
                    },
                    Bounce {
                        message_id: "other@example.com".into(),
                        recipient: "x@example.jp".into(),
                        permanent: true,
                    },
                ],
            )
            .await
            .unwrap();
        assert_eq!(
            (report.bounced, report.temporary, report.ignored.len()),
            (1, 1, 1)
        );
        let f = app.campaign_funnel(&e.privacy, c).await.unwrap();
        assert_eq!(f.total, 23);
        assert_eq!(f.notified_by.get(&Channel::Email), Some(&20));
        assert_eq!((f.notified, f.pending, f.unreachable), (20, 2, 1));
        assert!(f
            .days
            .iter()
            .any(|d| d.day == "2026-11-24" && d.event == "accepted" && d.count == 21));
        assert!(f.days.iter().any(|d| d.event == "bounced" && d.count == 1));
        e.db.cleanup().await;
    }
}

#[tokio::test]
async fn a_relay_refusing_everything_shows_the_error_and_nothing_is_lost() {
    for e in envs().await {
        let app = &e.app;
        let id = incident(app, &e.staff).await;
        approved_notice(&e, id).await;
        let persons = (1..=5)
            .map(|i| {
                p(
                    i,
                    &[Item::Email],
                    Some(&format!("k{i}@example.jp")),
                    None,
                    None,
                )
            })
            .collect();
        let c = app
            .create_campaign_for(&e.privacy, id, &opts(&[Channel::Email], 100), persons)
            .await
            .unwrap();
        e.sink.set_mode(SinkMode::TempFail);
        let pass = app
            .send_campaign_emails(c, Duration::from_secs(5))
            .await
            .unwrap();
        assert_eq!(pass.sent, 0);
        assert!(pass.temp_failed > 0);
        let view = app.campaign(&e.privacy, c).await.unwrap();
        assert!(
            view.last_error.as_deref().unwrap().contains("temporary"),
            "{:?}",
            view.last_error
        );
        // Through the job: it fails and goes back to the queue with backoff.
        assert!(app.work_once("t", &App::job_handlers()).await.unwrap() >= 1);
        let f = app.campaign_funnel(&e.privacy, c).await.unwrap();
        assert_eq!(f.pending, 5, "{}: every recipient still queued", e.db.name);
        // The relay is back: everything goes, once, and the error is cleared.
        e.sink.set_mode(SinkMode::Accept);
        drain(app, c).await;
        assert_eq!(per_recipient(&notices(&e.sink)).len(), 5);
        assert!(notices(&e.sink).len() == 5);
        assert!(app
            .campaign(&e.privacy, c)
            .await
            .unwrap()
            .last_error
            .is_none());
        e.db.cleanup().await;
    }
}

#[tokio::test]
async fn a_stopped_sender_leaves_in_doubt_messages_resolved_from_the_relay_log() {
    for e in envs().await {
        let app = &e.app;
        let id = incident(app, &e.staff).await;
        approved_notice(&e, id).await;
        let persons = (1..=6)
            .map(|i| {
                p(
                    i,
                    &[Item::Email],
                    Some(&format!("k{i}@example.jp")),
                    None,
                    None,
                )
            })
            .collect();
        let c = app
            .create_campaign_for(&e.privacy, id, &opts(&[Channel::Email], 100), persons)
            .await
            .unwrap();
        // A sender claims three and dies: the relay got the first, not the other two.
        let claimed = app
            .store
            .claim_email_batch(
                c,
                "dead-process",
                T0,
                T0 + 60_000_000,
                3,
                "2026-11-24",
                &|r, a| message_id(c, r, a, "example.co.jp"),
            )
            .await
            .unwrap();
        assert_eq!(claimed.len(), 3);
        // Nobody else may claim them meanwhile.
        assert!(app
            .store
            .claim_email_batch(c, "other", T0, T0 + 60_000_000, 6, "2026-11-24", &|r, a| {
                message_id(c, r, a, "x")
            })
            .await
            .unwrap()
            .iter()
            .all(|x| !claimed.iter().any(|y| y.id == x.id)));
        // (`other` claimed the remaining three; put them back as a stopped sender would leave
        // them by letting the lease run out too.)
        mailer(e.sink.port())
            .send_with_id(
                &Mail {
                    to: vec!["k1@example.jp".into()],
                    subject: "s".into(),
                    text: "t".into(),
                    reply_to: None,
                    headers: vec![("X-Mamori-Kind".into(), "notice".into())],
                },
                &claimed[0].message_id,
            )
            .await
            .unwrap();
        e.clock.advance_secs(61);
        // The next pass finds the six claims expired: in doubt, nothing sent again.
        let pass = app
            .send_campaign_emails(c, Duration::from_secs(5))
            .await
            .unwrap();
        assert_eq!((pass.in_doubt, pass.sent), (6, 0), "{}", e.db.name);
        assert_eq!(notices(&e.sink).len(), 1);
        let doubt = app.in_doubt(&e.privacy, c).await.unwrap();
        assert_eq!(doubt.len(), 6);
        // The relay's log: what the sink accepted.
        let log: Vec<String> = notices(&e.sink)
            .iter()
            .filter_map(|m| m.parsed().message_id)
            .collect();
        let (confirmed, requeued) = app.resolve_in_doubt(&e.privacy, c, &log).await.unwrap();
        assert_eq!((confirmed, requeued), (1, 5));
        drain(app, c).await;
        let got = notices(&e.sink);
        let counts = per_recipient(&got);
        assert_eq!(counts.len(), 6);
        assert!(counts.values().all(|n| *n == 1), "{counts:?}");
        // The resent ones carry their second attempt's Message-ID.
        assert_eq!(
            got.iter()
                .filter(|m| m.parsed().message_id.unwrap().contains(".a2@"))
                .count(),
            5
        );
        e.db.cleanup().await;
    }
}

#[tokio::test]
async fn two_senders_on_one_database_never_send_twice() {
    for e in envs().await {
        let app = &e.app;
        let id = incident(app, &e.staff).await;
        approved_notice(&e, id).await;
        let persons = (1..=120)
            .map(|i| {
                p(
                    i,
                    &[Item::Email],
                    Some(&format!("k{i}@example.jp")),
                    None,
                    None,
                )
            })
            .collect();
        let c = app
            .create_campaign_for(&e.privacy, id, &opts(&[Channel::Email], 1000), persons)
            .await
            .unwrap();
        // A second process: its own connection pool and mailer on the same database.
        let store2 = mamori_store::Store::connect(&e.db.url, false)
            .await
            .unwrap();
        let keys2 = Keys::load_or_create(&temp_dir("keys2").join("k"), true).unwrap();
        let (other, _w) = App::new(store2, keys2, e.clock.clone(), Settings::default());
        let other = App {
            keys: app.keys.clone(),
            ..other.with_mailer(mailer(e.sink.port()))
        };
        let (a, b) = tokio::join!(drain(app, c), drain(&other, c));
        let ((), ()) = (a, b);
        let got = notices(&e.sink);
        let counts = per_recipient(&got);
        assert_eq!(counts.len(), 120, "{}", e.db.name);
        assert!(
            counts.values().all(|n| *n == 1),
            "{}: {counts:?}",
            e.db.name
        );
        assert_eq!(got.len(), 120);
        e.db.cleanup().await;
    }
}

#[tokio::test]
async fn letters_returns_calls_public_notice_and_the_obligation() {
    for e in envs().await {
        let app = &e.app;
        let id = incident(app, &e.staff).await;
        approved_notice(&e, id).await;
        let persons = vec![
            p(1, &[Item::Name], None, None, Some("東京都千代田区1-1")),
            p(
                2,
                &[Item::Name],
                Some("k2@example.jp"),
                None,
                Some("東京都千代田区1-2"),
            ),
            p(
                3,
                &[Item::Name, Item::Phone],
                None,
                Some("090-1111-2222"),
                Some("東京都千代田区1-3"),
            ),
            p(4, &[Item::Name], None, None, Some("東京都千代田区1-4")),
        ];
        let c = app
            .create_campaign_for(&e.privacy, id, &CampaignOptions::default(), persons)
            .await
            .unwrap();
        let letters = app.letters_to_print(&e.privacy, c, 0, 100).await.unwrap();
        assert_eq!(letters.len(), 4);
        assert_eq!(letters[0].letter.salutation, "顧客 1 様");
        assert!(letters[0].letter.sections.iter().any(|(_, b)| b == "氏名"));
        let ids: Vec<i64> = letters.iter().map(|l| l.recipient_id).collect();
        assert_eq!(app.mark_posted(&e.privacy, c, &ids).await.unwrap(), 4);
        // Every letter posted: everybody is notified, the obligation is fulfilled …
        assert_eq!(
            obligation(app, id).await.as_deref(),
            Some("done"),
            "{}",
            e.db.name
        );
        assert_eq!(
            app.mark_posted(&e.privacy, c, &ids).await.unwrap(),
            0,
            "posting twice changes nothing"
        );
        // Returned letters: a CSV with a header, a wrong check digit and an unknown reason.
        let r = |i: usize| letters[i].reference.clone();
        let bad_check = {
            let mut s = r(0);
            let last = s.pop().unwrap();
            s.push(if last == '9' {
                '0'
            } else {
                char::from(last as u8 + 1)
            });
            s
        };
        let csv = format!("管理番号,返戻理由\n{},転居先不明\n{},受取拒否\n{bad_check},宛先不明\n{},なんとなく\n{},\n", r(1), r(2), r(0), r(3));
        let report = app.import_returned(&e.privacy, c, &csv).await.unwrap();
        assert_eq!(report.returned, 3, "{:?}", report.problems);
        assert_eq!(
            report.problems.iter().map(|p| p.line).collect::<Vec<_>>(),
            vec![4, 5]
        );
        assert!(
            report.problems[0].ja.contains("管理番号ではありません"),
            "{}",
            report.problems[0].ja
        );
        // … and letters coming back open it again.
        assert_eq!(obligation(app, id).await.as_deref(), Some("open"));
        // Person 2 went to e-mail and gets it; person 3 to the phone; person 4 unreachable.
        drain(app, c).await;
        assert_eq!(
            per_recipient(&notices(&e.sink)).get("k2@example.jp"),
            Some(&1)
        );
        // The call list: masked for the privacy office, plain for the contact desk.
        let masked = app.call_list(&e.privacy, c, 10).await.unwrap();
        assert_eq!(masked.len(), 1);
        assert_eq!(
            (masked[0].phone.as_str(), masked[0].unmasked),
            ("***-****-2222", false)
        );
        let plain = app.call_list(&e.desk, c, 10).await.unwrap();
        assert_eq!(plain[0].phone, "090-1111-2222");
        assert!(matches!(
            app.call_list(&e.staff, c, 10).await,
            Err(AppError::Denied | AppError::NotFound)
        ));
        let rid = plain[0].recipient_id;
        assert_eq!(
            app.record_call(&e.desk, rid, CallOutcome::NoAnswer, "留守電")
                .await
                .unwrap(),
            State::Queued
        );
        // The note is sealed: the desk reads it back, the privacy office sees the event only.
        let h = app.recipient_history(&e.desk, rid).await.unwrap();
        let last = h.last().unwrap();
        assert_eq!(
            (last.event.as_str(), last.note.as_deref()),
            ("no_answer", Some("留守電"))
        );
        let events: Vec<&str> = h.iter().map(|l| l.event.as_str()).collect();
        assert_eq!(events, vec!["posted", "refused", "no_answer"]);
        let h = app.recipient_history(&e.privacy, rid).await.unwrap();
        assert!(h.last().unwrap().note.is_none());
        // Not before four hours; then two more unanswered calls end the phone channel.
        assert!(matches!(
            app.record_call(&e.desk, rid, CallOutcome::NoAnswer, "")
                .await,
            Err(AppError::Invalid(_))
        ));
        assert!(app.call_list(&e.desk, c, 10).await.unwrap().is_empty());
        e.clock.advance_secs(4 * 3600);
        app.record_call(&e.desk, rid, CallOutcome::NoAnswer, "")
            .await
            .unwrap();
        e.clock.advance_secs(4 * 3600);
        assert_eq!(
            app.record_call(&e.desk, rid, CallOutcome::NoAnswer, "")
                .await
                .unwrap(),
            State::Unreachable
        );
        let f = app.campaign_funnel(&e.privacy, c).await.unwrap();
        assert_eq!((f.notified, f.unreachable, f.pending), (2, 2, 0), "{f:?}");
        assert_eq!(
            obligation(app, id).await.as_deref(),
            Some("open"),
            "{}",
            e.db.name
        );
        // The public notice covers the two unreachable persons and fulfils the obligation.
        let slug = app.publish_public_notice(&e.privacy, c).await.unwrap();
        assert_eq!(slug.len(), 26);
        let f = app.campaign_funnel(&e.privacy, c).await.unwrap();
        assert_eq!((f.covered_by_public_notice, f.unreachable), (2, 0));
        assert_eq!(obligation(app, id).await.as_deref(), Some("done"));
        let public = app.public_notice(&slug).await.unwrap();
        assert!(public
            .ja
            .sections
            .iter()
            .any(|(_, b)| b.contains("お客様相談室")));
        assert!(
            !public.ja.sections.iter().any(|(_, b)| b.contains("顧客 ")),
            "no names in public"
        );
        assert!(matches!(
            app.public_notice("aaaaaaaaaaaaaaaaaaaaaaaaaa").await,
            Err(AppError::NotFound)
        ));
        assert_eq!(
            app.publish_public_notice(&e.privacy, c).await.unwrap(),
            slug,
            "stable path"
        );
        e.db.cleanup().await;
    }
}

#[tokio::test]
async fn a_chosen_message_id_is_used_and_checked() {
    let sink = SmtpSink::start().await;
    let m = mailer(sink.port());
    let mail = Mail {
        to: vec!["k@example.jp".into()],
        subject: "件名".into(),
        text: "本文".into(),
        reply_to: None,
        headers: vec![],
    };
    m.send_with_id(&mail, "mamori.c1.r2.a3@example.co.jp")
        .await
        .unwrap();
    let got = sink.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(
        got[0].parsed().message_id.as_deref(),
        Some("mamori.c1.r2.a3@example.co.jp")
    );
    for bad in ["no-at-sign", "a b@example.jp", "<x@y>", "x@"] {
        assert!(
            matches!(
                m.send_with_id(&mail, bad).await,
                Err(mamori_mail::MailError::Config(_))
            ),
            "{bad}"
        );
    }
    assert_eq!(sink.messages().len(), 1, "nothing sent under a bad id");
}
