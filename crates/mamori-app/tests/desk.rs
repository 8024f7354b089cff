//! The contact desk (issue 15) against real databases (SQLite and PostgreSQL) and a real SMTP
//! server on loopback: inquiries logged, escalated, answered and closed with the rights of each
//! role; every problem of a bad inquiry named at once; texts sealed at rest; the FAQ proposed
//! from recurring categories, versioned, approved and found by Japanese search; figures; the
//! exports (formula-safe CSV in UTF-8 and CP932, the PDF page); the public form, survey and
//! "am I affected?" check answered by mail with the same words on screen; the operator's search
//! for the caller; the daily digest sent once.

use mamori_app::admin::UserInput;
use mamori_app::campaign::CampaignOptions;
use mamori_app::clock::ManualClock;
use mamori_app::desk::{Caller, InquiryInput, PersonLink};
use mamori_app::desk_faq::FaqText;
use mamori_app::desk_public::PublicInquiry;
use mamori_app::incident::FirstReportInput;
use mamori_app::keys::Keys;
use mamori_app::vault_import::ImportOptions;
use mamori_app::{App, AppError, Ctx, Settings};
use mamori_domain::appi::item::Item;
use mamori_domain::desk::{Category, Status};
use mamori_domain::impact::{LeakedField as F, LeakedRow};
use mamori_domain::lang::Lang;
use mamori_domain::ledger::DatasetInput;
use mamori_domain::role::Role;
use mamori_mail::sink::SmtpSink;
use mamori_mail::{Mailer, SmtpConfig};
use mamori_store::testing::{temp_dir, TestDb};
use std::sync::Arc;

// 2026-11-24T01:00:00Z = 2026-11-24 10:00 JST.
const T0: i64 = 1_795_482_000_000_000;

struct Env {
    app: App,
    clock: Arc<ManualClock>,
    sink: SmtpSink,
    db: TestDb,
    privacy: Ctx,
    desk: Ctx,
    staff: Ctx,
    other_desk: Ctx,
    incident: i64,
    slug: String,
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

const SCHEMA: &str = "name:name, email:email, phone:phone, address:address";

fn members_csv() -> String {
    let mut s = String::from("氏名,メールアドレス,電話番号,住所\r\n");
    s.push_str("山田 花子,hanako@example.jp,090-1111-2222,東京都千代田区千代田1-1-1\r\n");
    s.push_str("佐藤 次郎,jiro@example.jp,03-3333-4444,東京都渋谷区渋谷2丁目2番2号\r\n");
    s
}

fn row(locator: &str, values: &[(F, &str)]) -> LeakedRow {
    LeakedRow {
        locator: locator.into(),
        values: values.iter().map(|(f, v)| (*f, (*v).to_owned())).collect(),
    }
}

async fn env(db: TestDb) -> Env {
    let clock = Arc::new(ManualClock::new(T0));
    let keys = Keys::load_or_create(&temp_dir("keys").join("k"), true).unwrap();
    let (app, _writer) = App::new(db.store.clone(), keys, clock.clone(), Settings::default());
    let sink = SmtpSink::start().await;
    let app = app.with_mailer(
        Mailer::new(&SmtpConfig {
            host: "127.0.0.1".into(),
            port: sink.port(),
            from: "お客様相談室 <desk@example.co.jp>".into(),
            ..SmtpConfig::default()
        })
        .unwrap(),
    );
    app.open_vault_default(true).await.unwrap();
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
    let other = app.create_company(&l, "other", "他社").await.unwrap();
    let other_hq = app
        .create_department(&l, other, None, "本社")
        .await
        .unwrap();
    let other_desk = person(&app, other, other_hq, "sato", Role::ContactDesk).await;
    let ds = app
        .create_dataset(
            &privacy,
            DatasetInput {
                name: "会員情報".into(),
                department_id: hq,
                items: vec![Item::Name, Item::Email],
                persons: Some(2),
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
    app.vault_import(
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
    let (incident, _) = app
        .file_first_report(
            &staff,
            &FirstReportInput {
                description: "会員リストを添付したメールを誤送信した".into(),
                event: "leak".into(),
                certainty: "confirmed".into(),
                items: vec!["name".into(), "email".into()],
                ..FirstReportInput::default()
            },
        )
        .await
        .unwrap();
    // Hanako is in the vault; the second row is only in the leak.
    app.match_leaked(
        incident,
        Some(1),
        vec![
            row(
                "list.csv:2",
                &[(F::Name, "山田 花子"), (F::Email, "hanako@example.jp")],
            ),
            row(
                "list.csv:3",
                &[
                    (F::Name, "木村 三郎"),
                    (F::Email, "saburo@leak.example"),
                    (F::Phone, "080-9999-0000"),
                ],
            ),
        ],
    )
    .await
    .unwrap();
    let mut n = app.draft_notice(&privacy, incident).await.unwrap();
    n.ja.contact = "お客様相談室 0120-000-000（平日9時〜17時）".into();
    n.en.as_mut().unwrap().contact = "Customer desk +81-120-000-000".into();
    let v = app.save_notice(&privacy, incident, &n).await.unwrap();
    app.approve_notice(&exec, incident, v).await.unwrap();
    let c = app
        .create_campaign(&privacy, incident, &CampaignOptions::default())
        .await
        .unwrap();
    let slug = app.publish_public_notice(&privacy, c).await.unwrap();
    Env {
        app,
        clock,
        sink,
        db,
        privacy,
        desk,
        staff,
        other_desk,
        incident,
        slug,
    }
}

async fn envs() -> Vec<Env> {
    let mut out = Vec::new();
    for db in TestDb::all().await {
        out.push(env(db).await);
    }
    out
}

fn call(incident: i64, category: &str, q: &str) -> InquiryInput {
    InquiryInput {
        incident_id: incident,
        channel: "phone".into(),
        caller_type: "customer".into(),
        category: category.into(),
        caller: Caller {
            name: "山田 花子".into(),
            contact: "090-1111-2222".into(),
        },
        question: q.into(),
        ..InquiryInput::default()
    }
}

fn fields(e: &AppError) -> Vec<&'static str> {
    match e {
        AppError::Invalid(p) => p.all().iter().filter_map(|x| x.field).collect(),
        other => panic!("expected problems, got {other:?}"),
    }
}

#[tokio::test]
async fn inquiries_escalation_rights_and_sealing() {
    for e in envs().await {
        let app = &e.app;
        let name = e.db.name;
        assert_eq!(
            app.desk_incidents(&e.desk).await.unwrap()[0].id,
            e.incident,
            "{name}"
        );
        // Answered at once: saved closed.
        let mut first = call(e.incident, "affected", "私の情報は漏れましたか");
        first.answer = "通知をお送りした方が対象です".into();
        first.close = true;
        first.handling_secs = Some(95);
        let a = app.log_inquiry(&e.desk, &first).await.unwrap();
        assert_eq!(a.status, Status::Closed);
        assert_eq!(a.handling_secs, Some(95));
        // Escalated with a reason; the privacy office replies; the operator closes.
        let mut hard = call(e.incident, "compensation", "補償はありますか");
        hard.escalate = Some("補償方針が未定".into());
        let b = app.log_inquiry(&e.desk, &hard).await.unwrap();
        assert_eq!(b.status, Status::Escalated);
        assert_eq!(app.escalations_waiting(&e.privacy).await.unwrap(), 1);
        assert!(matches!(
            app.reply_inquiry(&e.desk, b.id, "x").await,
            Err(AppError::Denied)
        ));
        app.reply_inquiry(&e.privacy, b.id, "500円分のお詫びを検討中とお伝えください")
            .await
            .unwrap();
        let b2 = app.inquiry(&e.desk, b.id).await.unwrap();
        assert_eq!(b2.status, Status::Replied);
        assert!(b2.reply.unwrap().contains("500円"));
        assert!(app.reply_inquiry(&e.privacy, b.id, "again").await.is_err());
        assert!(
            app.close_inquiry(&e.desk, b.id, "").await.is_err(),
            "no answer yet"
        );
        app.close_inquiry(&e.desk, b.id, "検討中とお伝えした")
            .await
            .unwrap();
        let err = app
            .escalate_inquiry(&e.desk, b.id, "再度")
            .await
            .unwrap_err();
        assert!(format!("{err:?}").contains("完了"), "{err:?}");
        app.reopen_inquiry(&e.desk, b.id).await.unwrap();

        // A stale edit is refused; a fresh one applies.
        let c = app
            .log_inquiry(&e.desk, &call(e.incident, "other", "テスト"))
            .await
            .unwrap();
        let mut edit = call(e.incident, "cause", "原因は何ですか");
        edit.answer = "調査中".into();
        app.edit_inquiry(&e.desk, c.id, c.updated_at, &edit)
            .await
            .unwrap();
        e.clock.advance_secs(1);
        assert!(app
            .edit_inquiry(&e.desk, c.id, c.updated_at, &edit)
            .await
            .is_err());
        assert_eq!(
            app.inquiry(&e.desk, c.id).await.unwrap().category,
            Category::Cause
        );

        // Every problem at once, named by field.
        let bad = InquiryInput {
            incident_id: e.incident,
            channel: "fax".into(),
            caller_type: "alien".into(),
            category: "nope".into(),
            question: "あ".repeat(5000),
            close: true,
            ..InquiryInput::default()
        };
        let err = app.log_inquiry(&e.desk, &bad).await.unwrap_err();
        let f = fields(&err);
        for want in ["channel", "caller_type", "category", "question", "answer"] {
            assert!(f.contains(&want), "{want} in {f:?}");
        }
        // Rights: staff may not, another company's desk sees nothing, a link must exist.
        assert!(matches!(
            app.log_inquiry(&e.staff, &call(e.incident, "other", "x"))
                .await,
            Err(AppError::Denied)
        ));
        assert!(matches!(
            app.log_inquiry(&e.other_desk, &call(e.incident, "other", "x"))
                .await,
            Err(AppError::NotFound)
        ));
        assert!(matches!(
            app.inquiry(&e.other_desk, a.id).await,
            Err(AppError::NotFound)
        ));
        let mut linked = call(e.incident, "other", "x");
        linked.person = Some(PersonLink::Affected(999_999));
        assert!(app.log_inquiry(&e.desk, &linked).await.is_err());

        // Sealed at rest: no plain question, caller or reply in the row.
        let raw = app.store.get_inquiry(b.id).await.unwrap();
        for plain in ["補償", "山田", "090-1111", "500円"] {
            for col in [
                Some(&raw.question_sealed),
                raw.caller_sealed.as_ref(),
                raw.reply_sealed.as_ref(),
                raw.escalation_sealed.as_ref(),
            ]
            .into_iter()
            .flatten()
            {
                assert!(!col.contains(plain), "{plain} in the clear");
            }
        }
        // Lists are audited with the inquiries named; a person's list only their own.
        let all = app
            .inquiries(&e.desk, Some(e.incident), &[], false, None, 50)
            .await
            .unwrap();
        assert_eq!(all.len(), 3);
        let open = app
            .inquiries(&e.desk, None, &[Status::Open], true, None, 50)
            .await
            .unwrap();
        assert_eq!(open.len(), 2, "{name}");
        let audit = app
            .store
            .search_audit(&mamori_store::audit::AuditFilter::default(), 500)
            .await
            .unwrap();
        assert!(audit.iter().any(|r| r.record.action == "desk.inquiry.list"));
        assert!(audit
            .iter()
            .any(|r| r.record.action == "desk.inquiry.escalate"));
        assert!(
            !audit.iter().any(|r| r.record.detail.contains("補償")),
            "no personal text in the audit log"
        );
        e.db.cleanup().await;
    }
}

#[tokio::test]
async fn faq_grows_from_inquiries_and_is_found_and_published() {
    for e in envs().await {
        let app = &e.app;
        for q in [
            "パスワードは変えたほうがいいですか",
            "パスワードを変更すべき？",
            "どうすればいいですか",
        ] {
            app.log_inquiry(&e.desk, &call(e.incident, "what_to_do", q))
                .await
                .unwrap();
        }
        app.log_inquiry(&e.desk, &call(e.incident, "cause", "原因は"))
            .await
            .unwrap();
        let props = app.faq_proposals(&e.privacy, e.incident).await.unwrap();
        assert_eq!(props.len(), 1);
        assert_eq!(props[0].category, Category::WhatToDo);
        assert_eq!(props[0].count, 3);
        assert_eq!(props[0].samples.len(), 3);
        assert!(matches!(
            app.faq_proposals(&e.desk, e.incident).await,
            Err(AppError::Denied)
        ));
        // Both English fields or neither.
        let half = FaqText {
            question_ja: "q".into(),
            answer_ja: "a".into(),
            question_en: "q".into(),
            ..FaqText::default()
        };
        assert!(app
            .create_faq(&e.privacy, e.incident, "what_to_do", &half)
            .await
            .is_err());
        let entry = app
            .create_faq(
                &e.privacy,
                e.incident,
                "what_to_do",
                &FaqText {
                    question_ja: "パスワードを変更すべきですか".into(),
                    answer_ja: "念のため変更をお勧めします".into(),
                    ..FaqText::default()
                },
            )
            .await
            .unwrap();
        assert!(app
            .faq_proposals(&e.privacy, e.incident)
            .await
            .unwrap()
            .is_empty());
        // Not on the public page until approved; version 2 is approved and published.
        let page = app.public_page(&e.slug).await.unwrap();
        assert!(page.faq.is_empty());
        let v2 = app
            .revise_faq(
                &e.privacy,
                entry,
                &FaqText {
                    question_ja: "パスワードを変更すべきですか".into(),
                    answer_ja: "はい。同じパスワードをお使いのサービスも変更してください".into(),
                    question_en: "Should I change my password?".into(),
                    answer_en: "Yes, and on other services using it.".into(),
                },
            )
            .await
            .unwrap();
        assert_eq!(v2, 2);
        assert!(app
            .faq_suggest(&e.desk, e.incident, "パスワード", 5)
            .await
            .unwrap()
            .is_empty());
        app.approve_faq(&e.privacy, entry, v2).await.unwrap();
        assert!(app.approve_faq(&e.privacy, entry, v2).await.is_err());
        let page = app.public_page(&e.slug).await.unwrap();
        assert_eq!(page.faq.len(), 1, "the cache is refreshed on approval");
        assert!(page.faq[0].answer_ja.starts_with("はい"));
        let hits = app
            .faq_suggest(&e.desk, e.incident, "パスワード変えたほうがいい？", 5)
            .await
            .unwrap();
        assert_eq!(hits[0].entry_id, entry);
        let faq = app.faq(&e.desk, e.incident).await.unwrap();
        assert_eq!(faq[0].versions.len(), 2);
        assert_eq!(faq[0].published().unwrap().version, 2);
        app.retire_faq(&e.privacy, entry).await.unwrap();
        assert!(app.public_page(&e.slug).await.unwrap().faq.is_empty());

        // Figures count today's inquiries by channel and category.
        let v = app
            .desk_volumes(&e.desk, Some(e.incident), 7)
            .await
            .unwrap();
        assert_eq!(v.total, 4);
        assert_eq!(v.open, 4);
        assert_eq!(v.days.len(), 7);
        assert_eq!(v.days.last().unwrap().total, 4);
        assert!(v
            .by_category
            .iter()
            .any(|(c, n)| *c == Category::WhatToDo && *n == 3));
        e.db.cleanup().await;
    }
}

#[tokio::test]
async fn exports_are_formula_safe_in_both_encodings_and_the_pdf_has_figures_only() {
    for e in envs().await {
        let app = &e.app;
        let mut evil = call(e.incident, "complaint", "=HYPERLINK(\"http://x\")");
        evil.caller.name = "+81 山田".into();
        evil.answer = "@SUM(A1)".into();
        app.log_inquiry(&e.desk, &evil).await.unwrap();
        app.log_inquiry(
            &e.desk,
            &call(e.incident, "items", "髙橋です、どの情報が？"),
        )
        .await
        .unwrap();
        assert!(matches!(
            app.inquiries_csv(&e.desk, e.incident, false).await,
            Err(AppError::Denied)
        ));
        let utf8 = app
            .inquiries_csv(&e.privacy, e.incident, false)
            .await
            .unwrap();
        let text = String::from_utf8(utf8).unwrap();
        assert!(text.starts_with('\u{feff}'));
        assert!(text.contains("'=HYPERLINK"), "{text}");
        assert!(text.contains("'+81 山田") && text.contains("'@SUM"));
        assert!(!text.contains(",=HYPERLINK") && !text.contains(",\"=HYPERLINK"));
        let sjis = app
            .inquiries_csv(&e.privacy, e.incident, true)
            .await
            .unwrap();
        let (decoded, _, bad) = encoding_rs::SHIFT_JIS.decode(&sjis);
        assert!(!bad || decoded.contains('?'), "CP932 decodes");
        assert!(decoded.contains("お問い合わせ内容") && decoded.contains("どの情報"));
        let pdf = app.desk_report_pdf(&e.privacy, e.incident).await.unwrap();
        assert!(pdf.starts_with(b"%PDF"));
        assert!(!pdf.windows(6).any(|w| w == "山田".as_bytes()));
        e.db.cleanup().await;
    }
}

#[tokio::test]
async fn the_public_side_and_am_i_affected_by_mail() {
    for e in envs().await {
        let app = &e.app;
        let anon = Ctx::anonymous("203.0.113.5");
        assert!(matches!(
            app.public_page("nosuchslugnosuchslugnosuch").await,
            Err(AppError::NotFound)
        ));
        assert!(matches!(
            app.public_page("../../etc").await,
            Err(AppError::NotFound)
        ));
        let page = app.public_page(&e.slug).await.unwrap();
        assert!(page.contact_ja.contains("0120-000-000"));
        // The form: stored sealed, shown to the desk, never in the clear.
        let id = app
            .public_inquiry(
                &anon,
                &e.slug,
                &PublicInquiry {
                    name: "<script>alert(1)</script>".into(),
                    contact: "x@example.jp".into(),
                    question: "'; DROP TABLE inquiries; --".into(),
                },
            )
            .await
            .unwrap();
        let v = app.inquiry(&e.desk, id).await.unwrap();
        assert_eq!(v.question, "'; DROP TABLE inquiries; --");
        assert_eq!(v.source, "public");
        assert!(app
            .public_inquiry(&anon, &e.slug, &PublicInquiry::default())
            .await
            .is_err());
        let huge = PublicInquiry {
            contact: "x@example.jp".into(),
            question: "あ".repeat(3000),
            ..PublicInquiry::default()
        };
        assert!(app.public_inquiry(&anon, &e.slug, &huge).await.is_err());
        // The survey.
        app.public_survey(&anon, &e.slug, "4", "yes", "わかりやすかった")
            .await
            .unwrap();
        assert!(app
            .public_survey(&anon, &e.slug, "9", "", "")
            .await
            .is_err());
        let (scores, yes, _) = app.store.survey_counts(e.incident).await.unwrap();
        assert_eq!((scores[3], yes), (1, 1));

        // "Am I affected?": three addresses, the same on screen, the mail says it.
        for addr in [
            "hanako@example.jp",
            "saburo@leak.example",
            "nobody@example.jp",
        ] {
            app.public_affected_check(&anon, &e.slug, addr, Lang::Ja)
                .await
                .unwrap();
        }
        assert!(app
            .public_affected_check(&anon, &e.slug, "not an address", Lang::Ja)
            .await
            .is_err());
        let raw: Vec<String> = sqlx_rows(&e).await;
        assert!(raw.iter().all(|s| !s.contains("hanako")), "sealed");
        assert_eq!(app.answer_affected_checks().await.unwrap(), 3);
        assert_eq!(app.answer_affected_checks().await.unwrap(), 0, "once");
        let mails: Vec<_> = e
            .sink
            .messages()
            .into_iter()
            .filter(|m| m.parsed().header("X-Mamori-Kind") == Some("desk.affected"))
            .collect();
        assert_eq!(mails.len(), 3);
        let body = |to: &str| {
            mails
                .iter()
                .find(|m| m.to.iter().any(|t| t == to))
                .map(mamori_mail::sink::Received::parsed)
                .unwrap()
        };
        let subjects: Vec<_> = ["hanako@example.jp", "nobody@example.jp"]
            .iter()
            .map(|a| body(a).subject)
            .collect();
        assert_eq!(subjects[0], subjects[1], "the subject tells nothing");
        assert!(body("hanako@example.jp").text.contains("含まれていました"));
        assert!(body("hanako@example.jp").text.contains("氏名"));
        assert!(body("saburo@leak.example")
            .text
            .contains("含まれていました"));
        assert!(body("nobody@example.jp")
            .text
            .contains("見つかりませんでした"));
        assert!(body("nobody@example.jp")
            .text
            .contains(&format!("/notice/{}", e.slug)));
        assert_eq!(app.store.affected_checks_pending().await.unwrap(), 0);
        // The same address at most three times an hour.
        for _ in 0..2 {
            app.public_affected_check(&anon, &e.slug, "HANAKO@example.jp", Lang::En)
                .await
                .unwrap();
        }
        assert!(matches!(
            app.public_affected_check(&anon, &e.slug, "hanako@example.jp", Lang::Ja)
                .await,
            Err(AppError::Throttled(_))
        ));

        // The operator finds the caller among the affected persons: an unmatched person by any
        // contact value of their row (keyed by the e-mail address, found by the phone).
        let found = app
            .desk_find_person(&e.desk, e.incident, "080-9999-0000")
            .await
            .unwrap();
        let by_mail = app
            .desk_find_person(&e.desk, e.incident, "saburo@leak.example")
            .await
            .unwrap();
        assert_eq!(by_mail.len(), 1);
        assert_eq!(by_mail[0].link, found[0].link);
        assert_eq!(found.len(), 1);
        assert!(matches!(found[0].link, PersonLink::Affected(_)));
        assert_eq!(
            found[0].affected_items.as_deref(),
            Some(&[Item::Name, Item::Phone, Item::Email][..])
        );
        let mut linked = call(e.incident, "affected", "対象ですか");
        linked.person = Some(found[0].link);
        let v = app.log_inquiry(&e.desk, &linked).await.unwrap();
        assert_eq!(v.person, Some(found[0].link));
        assert!(app
            .desk_find_person(&e.desk, e.incident, "hello")
            .await
            .is_err());
        assert!(matches!(
            app.desk_find_person(&e.staff, e.incident, "080-9999-0000")
                .await,
            Err(AppError::Denied)
        ));
        e.db.cleanup().await;
    }
}

async fn sqlx_rows(e: &Env) -> Vec<String> {
    use mamori_store::Row;
    sqlx::query("SELECT address_sealed FROM affected_checks")
        .fetch_all(e.app.store.pool())
        .await
        .unwrap()
        .iter()
        .map(|r| r.get::<String, _>(0))
        .collect()
}

#[tokio::test]
async fn the_daily_digest_goes_once_after_six_in_the_evening() {
    for e in envs().await {
        let app = &e.app;
        let mut q = call(e.incident, "cause", "原因を教えてください");
        q.answer = "調査中です".into();
        app.log_inquiry(&e.desk, &q).await.unwrap();
        assert_eq!(app.send_desk_digests().await.unwrap(), 0, "10:00 JST");
        e.clock.advance_secs(8 * 3600 + 60); // 18:01 JST
        assert_eq!(app.send_desk_digests().await.unwrap(), 1);
        assert_eq!(app.send_desk_digests().await.unwrap(), 0, "once a day");
        let digest = e
            .sink
            .messages()
            .into_iter()
            .find(|m| m.parsed().header("X-Mamori-Kind") == Some("desk.digest"))
            .unwrap();
        assert_eq!(digest.to, vec!["tanaka@example.co.jp".to_string()]);
        let text = digest.parsed().text;
        assert!(text.contains("原因を教えてください") && text.contains("調査中です"));
        assert!(!text.contains("090-1111-2222"), "no caller contact in mail");
        e.db.cleanup().await;
    }
}

fn mbox() -> Vec<u8> {
    let mut s = String::new();
    s.push_str("From hanako@example.jp Mon Dec  7 09:00:00 2026\n");
    s.push_str(
        "From: =?UTF-8?B?5bGx55SwIOiKseWtkA==?= <hanako@example.jp>\nTo: desk@example.co.jp\n",
    );
    s.push_str("Subject: =?UTF-8?B?5ryP44GI44GE44Gr44Gk44GE44Gm?=\nMessage-ID: <m1@example.jp>\n");
    s.push_str(
        "Date: Mon, 23 Nov 2026 09:00:00 +0900\nContent-Type: text/plain; charset=UTF-8\n\n",
    );
    s.push_str("私の情報は含まれていますか。\n\n");
    s.push_str("From hanako@example.jp Mon Dec  7 10:00:00 2026\n");
    s.push_str("From: hanako@example.jp\nTo: desk@example.co.jp\nSubject: Re: test\n");
    s.push_str(
        "Message-ID: <m2@example.jp>\nIn-Reply-To: <m1@example.jp>\nReferences: <m1@example.jp>\n",
    );
    s.push_str("Date: Mon, 23 Nov 2026 10:00:00 +0900\n\n追加の質問です。\n> 私の情報は含まれていますか。\n\n");
    s.push_str("From nobody Mon Dec  7 11:00:00 2026\n");
    s.push_str("To: desk@example.co.jp\nSubject: no sender\nMessage-ID: <m3@example.jp>\n\nbody\n");
    s.into_bytes()
}

#[tokio::test]
async fn mail_inquiries_become_threads_and_broken_mail_is_quarantined() {
    for e in envs().await {
        let app = &e.app;
        let r = app
            .import_inquiry_mail(&e.desk, e.incident, "inbox.mbox", &mbox())
            .await
            .unwrap();
        assert_eq!(
            (r.created, r.threaded, r.duplicates),
            (1, 1, 0),
            "{}",
            e.db.name
        );
        assert_eq!(r.quarantined.len(), 1);
        assert_eq!(r.quarantined[0].0, 3);
        assert!(r.quarantined[0].1.contains("差出人") || r.quarantined[0].2.contains("From"));
        let list = app
            .inquiries(&e.desk, Some(e.incident), &[], false, None, 10)
            .await
            .unwrap();
        assert_eq!(list.len(), 1);
        let v = &list[0];
        assert_eq!(v.channel, mamori_domain::desk::InquiryChannel::Mail);
        assert_eq!(v.caller.contact, "hanako@example.jp");
        assert!(v.question.contains("漏えいについて") && v.question.contains("含まれていますか"));
        let thread = app.inquiry_thread(&e.desk, v.id).await.unwrap();
        assert_eq!(thread.len(), 2);
        assert!(thread[1].2.contains("追加の質問"));
        // Closed, then the same file again: nothing twice; a new reply reopens the thread.
        app.close_inquiry(&e.desk, v.id, "回答済み").await.unwrap();
        let again = app
            .import_inquiry_mail(&e.desk, e.incident, "inbox.mbox", &mbox())
            .await
            .unwrap();
        assert_eq!((again.created, again.threaded, again.duplicates), (0, 0, 2));
        let reply = "From: hanako@example.jp\nSubject: Re: x\nMessage-ID: <m4@example.jp>\n\
                     References: <m1@example.jp> <m2@example.jp>\n\nもう一度お願いします\n";
        app.import_inquiry_mail(&e.desk, e.incident, "reply.eml", reply.as_bytes())
            .await
            .unwrap();
        assert_eq!(
            app.inquiry(&e.desk, v.id).await.unwrap().status,
            Status::Open
        );
        assert_eq!(
            app.store.quarantined_mails(e.incident).await.unwrap().len(),
            2
        );
        // Garbage and emptiness give a clear refusal or a quarantine, never a panic.
        assert!(app
            .import_inquiry_mail(&e.desk, e.incident, "empty.mbox", b"")
            .await
            .is_err());
        let junk: Vec<u8> = (0..5000u32).map(|i| (i * 7919 % 251) as u8).collect();
        let j = app
            .import_inquiry_mail(&e.desk, e.incident, "junk.bin", &junk)
            .await;
        assert!(j.map_or(true, |r| r.created == 0));
        assert!(matches!(
            app.import_inquiry_mail(&e.staff, e.incident, "x", &mbox())
                .await,
            Err(AppError::Denied)
        ));
        e.db.cleanup().await;
    }
}
