//! Contact-desk storage (issue 15) on SQLite and PostgreSQL: inquiries filtered and paged;
//! state changes as compare-and-set (a stale editor or a second escalation changes nothing);
//! one inquiry per mail thread and each mail once; FAQ versions numbered, approved once and
//! published; survey counts; "am I affected?" checks claimed once and emptied when answered;
//! a digest claimed once per company and day.

use mamori_domain::role::Role;
use mamori_store::desk::{FaqVersionRow, InquiryEdit, InquiryFilter, NewInquiry};
use mamori_store::incidents::{NewEntry, NewIncident};
use mamori_store::testing::TestDb;
use mamori_store::users::NewUser;
use mamori_store::Store;

async fn incident(s: &Store) -> i64 {
    let c = s
        .create_company("sample", "株式会社サンプル", 1)
        .await
        .unwrap();
    let d = s.create_department(c, None, "営業部", 1).await.unwrap();
    let u = s
        .create_user(
            &NewUser {
                company_id: c,
                department_id: d,
                login: "tanaka",
                display_name: "田中 美咲",
                email: "tanaka@example.jp",
                password_hash: "$argon2id$x",
                roles: &[Role::PrivacyOffice],
                locale: "ja",
            },
            1,
        )
        .await
        .unwrap();
    s.create_incident(
        &NewIncident {
            company_id: c,
            year: 2026,
            drill: false,
            title: "誤送信",
            description: "説明",
            actions_taken: "",
            found_by: "",
            reporter_id: u,
            department_id: d,
            phase: "task_force",
            facts: "{}",
            assessment: "{}",
            reportable: true,
            persons: Some(3),
            occurred_at: None,
            found_at: 10,
            knew_at: 10,
            first_report: "{}",
            line: &[d],
        },
        &[NewEntry::new("tanaka", "first_report", "第一報")],
        10,
    )
    .await
    .unwrap()
    .0
}

fn inquiry(incident_id: i64, company_id: i64, status: &str, at: i64) -> NewInquiry {
    NewInquiry {
        company_id,
        incident_id,
        channel: "phone".into(),
        caller_type: "customer".into(),
        category: "affected".into(),
        status: status.into(),
        source: "desk".into(),
        caller_sealed: None,
        question_sealed: "v1:sealed-question".into(),
        answer_sealed: None,
        operator: "suzuki".into(),
        operator_id: Some(7),
        handling_secs: Some(120),
        created_at: at,
        day: "2026-12-07".into(),
        ..NewInquiry::default()
    }
}

#[tokio::test]
async fn inquiries_states_threads_faq_survey_checks_and_digests() {
    for db in TestDb::all().await {
        let s = &db.store;
        let inc = incident(s).await;
        let company = s.get_incident(inc).await.unwrap().company_id;

        // Inquiries: a closed one gets its closed_at at once; filters and paging.
        let a = s
            .insert_inquiry(&inquiry(inc, company, "open", 100))
            .await
            .unwrap();
        let b = s
            .insert_inquiry(&inquiry(inc, company, "closed", 200))
            .await
            .unwrap();
        let mut c_new = inquiry(inc, company, "open", 300);
        c_new.category = "cause".into();
        c_new.operator_id = Some(8);
        let c = s.insert_inquiry(&c_new).await.unwrap();
        assert_eq!(s.get_inquiry(b).await.unwrap().closed_at, Some(200));
        assert_eq!(s.get_inquiry(a).await.unwrap().closed_at, None);
        let all = s
            .inquiries(&InquiryFilter {
                company_id: company,
                limit: 10,
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(all.iter().map(|r| r.id).collect::<Vec<_>>(), vec![c, b, a]);
        let open = s
            .inquiries(&InquiryFilter {
                company_id: company,
                incident_id: Some(inc),
                statuses: vec!["open".into(), "escalated".into()],
                limit: 10,
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(open.iter().map(|r| r.id).collect::<Vec<_>>(), vec![c, a]);
        let mine = s
            .inquiries(&InquiryFilter {
                company_id: company,
                operator_id: Some(8),
                limit: 10,
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(mine.len(), 1);
        let page = s
            .inquiries(&InquiryFilter {
                company_id: company,
                before_id: Some(c),
                limit: 1,
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(page[0].id, b);
        let other_company = s
            .inquiries(&InquiryFilter {
                company_id: company + 1000,
                limit: 10,
                ..Default::default()
            })
            .await
            .unwrap();
        assert!(other_company.is_empty());

        // An edit applies only to what the editor read.
        let read = s.get_inquiry(a).await.unwrap();
        let edit = InquiryEdit {
            id: a,
            expect_updated_at: read.updated_at,
            caller_type: "relative".into(),
            category: "items".into(),
            caller_sealed: Some("v1:caller".into()),
            question_sealed: "v1:q2".into(),
            answer_sealed: Some("v1:a".into()),
            person_kind: Some("vault".into()),
            person_id: Some(42),
            handling_secs: None,
            now: 150,
        };
        assert!(s.edit_inquiry(&edit).await.unwrap());
        assert!(!s.edit_inquiry(&edit).await.unwrap(), "stale edit refused");
        let after = s.get_inquiry(a).await.unwrap();
        assert_eq!(after.category, "items");
        assert_eq!(after.handling_secs, Some(120), "kept when not given");
        assert_eq!(after.person_id, Some(42));

        // Escalate, reply, close: each once, from the state read.
        assert!(s
            .escalate_inquiry(a, "open", "v1:why", "suzuki", 160)
            .await
            .unwrap());
        assert!(!s
            .escalate_inquiry(a, "open", "v1:why", "suzuki", 161)
            .await
            .unwrap());
        assert_eq!(s.escalations_waiting(company).await.unwrap(), 1);
        assert!(s.reply_inquiry(a, "v1:reply", "tanaka", 170).await.unwrap());
        assert!(!s.reply_inquiry(a, "v1:reply", "tanaka", 171).await.unwrap());
        let r = s.get_inquiry(a).await.unwrap();
        assert_eq!(
            (r.status.as_str(), r.replied_by.as_deref()),
            ("replied", Some("tanaka"))
        );
        assert!(s
            .set_inquiry_status(a, "replied", "closed", Some("v1:ans"), 180)
            .await
            .unwrap());
        let r = s.get_inquiry(a).await.unwrap();
        assert_eq!(
            (r.closed_at, r.answer_sealed.as_deref()),
            (Some(180), Some("v1:ans"))
        );
        assert!(s
            .set_inquiry_status(a, "closed", "open", None, 190)
            .await
            .unwrap());
        let r = s.get_inquiry(a).await.unwrap();
        assert_eq!(
            (r.closed_at, r.answer_sealed.as_deref()),
            (None, Some("v1:ans"))
        );
        assert_eq!(s.escalations_waiting(company).await.unwrap(), 0);

        // Figures and categories.
        let facts = s.inquiry_facts(company, Some(inc), 0).await.unwrap();
        assert_eq!(facts.len(), 3);
        assert_eq!(s.inquiry_facts(company, None, 250).await.unwrap().len(), 1);
        let counts = s.inquiry_category_counts(inc).await.unwrap();
        assert_eq!(
            counts,
            vec![
                ("affected".into(), 1),
                ("cause".into(), 1),
                ("items".into(), 1)
            ]
        );
        assert_eq!(
            s.inquiries_in_category(inc, "cause", 5).await.unwrap()[0].id,
            c
        );
        assert_eq!(
            s.inquiries_of_day(company, "2026-12-07")
                .await
                .unwrap()
                .len(),
            3
        );
        assert_eq!(
            s.companies_with_inquiries("2026-12-07").await.unwrap(),
            vec![company]
        );

        // One inquiry per thread; each mail once.
        let mut m = inquiry(inc, company, "open", 400);
        m.channel = "mail".into();
        m.thread_key = Some("thread-1".into());
        let t = s.insert_inquiry(&m).await.unwrap();
        assert!(
            s.insert_inquiry(&m).await.is_err(),
            "a second inquiry for one thread"
        );
        assert_eq!(
            s.inquiry_by_thread(inc, "thread-1")
                .await
                .unwrap()
                .unwrap()
                .id,
            t
        );
        assert!(s
            .inquiry_by_thread(inc, "thread-2")
            .await
            .unwrap()
            .is_none());
        assert!(s
            .add_inquiry_message(
                t,
                "mk1",
                Some("v1:s"),
                "v1:subj",
                "v1:body",
                Some(1),
                410,
                "x"
            )
            .await
            .unwrap());
        assert!(!s
            .add_inquiry_message(
                t,
                "mk1",
                Some("v1:s"),
                "v1:subj",
                "v1:body",
                Some(1),
                411,
                "x"
            )
            .await
            .unwrap());
        assert!(s.inquiry_message_known("mk1").await.unwrap());
        assert_eq!(s.inquiry_messages(t).await.unwrap().len(), 1);
        assert_eq!(s.get_inquiry(t).await.unwrap().updated_at, 410);
        s.quarantine_mail(inc, "in.mbox", 3, "no_from", 120, Some("v1:raw"), 420, "x")
            .await
            .unwrap();
        let q = s.quarantined_mails(inc).await.unwrap();
        assert_eq!((q[0].position, q[0].reason.as_str()), (3, "no_from"));

        // FAQ: a proposal becomes a draft with a new version; approval publishes it once.
        let v = FaqVersionRow {
            question_ja: "私の情報は漏えいしましたか".into(),
            answer_ja: "通知をお送りした方が対象です".into(),
            created_by: "system".into(),
            created_at: 500,
            ..Default::default()
        };
        let e = s.create_faq(inc, "affected", "proposed", &v).await.unwrap();
        let e2 = s.create_faq(inc, "cause", "draft", &v).await.unwrap();
        assert!(s.published_faq(inc).await.unwrap().is_empty());
        let n = s
            .add_faq_version(
                e,
                &FaqVersionRow {
                    answer_ja: "改訂".into(),
                    ..v.clone()
                },
            )
            .await
            .unwrap();
        assert_eq!(n, 2);
        assert_eq!(s.get_faq(e).await.unwrap().status, "draft");
        assert!(s.approve_faq_version(e, 2, "tanaka", 510).await.unwrap());
        assert!(!s.approve_faq_version(e, 2, "tanaka", 511).await.unwrap());
        let published = s.published_faq(inc).await.unwrap();
        assert_eq!(published.len(), 1);
        assert_eq!(
            (published[0].version, published[0].answer_ja.as_str()),
            (2, "改訂")
        );
        assert_eq!(published[0].approved_by.as_deref(), Some("tanaka"));
        let entries = s.faq_entries(inc).await.unwrap();
        assert_eq!(
            entries.iter().map(|x| x.id).collect::<Vec<_>>(),
            vec![e, e2]
        );
        assert_eq!(s.faq_versions(inc).await.unwrap().len(), 3);
        assert!(s.retire_faq(e).await.unwrap());
        assert!(!s.retire_faq(e).await.unwrap());
        assert!(s.published_faq(inc).await.unwrap().is_empty());

        // Survey.
        s.add_survey(inc, 5, Some(true), None, 600, "2026-12-07")
            .await
            .unwrap();
        s.add_survey(inc, 5, Some(false), Some("v1:c"), 601, "2026-12-07")
            .await
            .unwrap();
        s.add_survey(inc, 2, None, None, 602, "2026-12-07")
            .await
            .unwrap();
        let (scores, yes, no) = s.survey_counts(inc).await.unwrap();
        assert_eq!((scores, yes, no), ([0, 1, 0, 0, 2], 1, 1));
        assert_eq!(s.surveys(inc, 2).await.unwrap().len(), 2);

        // "Am I affected?" checks: claimed once per lease, emptied when answered.
        let k = s
            .add_affected_check(inc, "v1:addr", "ja", 700)
            .await
            .unwrap();
        let first = s.claim_affected_checks(700, 800, 10).await.unwrap();
        assert_eq!(first.len(), 1);
        assert!(s
            .claim_affected_checks(750, 850, 10)
            .await
            .unwrap()
            .is_empty());
        s.fail_affected_check(k, "smtp").await.unwrap();
        let again = s.claim_affected_checks(801, 900, 10).await.unwrap();
        assert_eq!(again[0].attempts, 2);
        s.finish_affected_check(k, 810).await.unwrap();
        assert_eq!(s.affected_checks_pending().await.unwrap(), 0);
        assert!(s
            .claim_affected_checks(2000, 3000, 10)
            .await
            .unwrap()
            .is_empty());

        // A digest once per company and day, given back when its mail failed.
        assert!(s.claim_digest(company, "2026-12-07", 900, 3).await.unwrap());
        assert!(!s.claim_digest(company, "2026-12-07", 901, 3).await.unwrap());
        s.release_digest(company, "2026-12-07").await.unwrap();
        assert!(s.claim_digest(company, "2026-12-07", 902, 3).await.unwrap());
        db.cleanup().await;
    }
}

/// A database as the release before the desk left it (migrations up to 0014, an incident with
/// its notice and campaign) is upgraded through 0015: the incident, its notice and campaign are
/// untouched, and the desk takes inquiries for it at once.
#[tokio::test]
async fn a_database_from_before_the_desk_upgrades_and_keeps_its_campaigns() {
    for db in TestDb::all_at(14).await {
        let s = &db.store;
        let inc = incident(s).await;
        let company = s.get_incident(inc).await.unwrap().company_id;
        s.save_notice_version(inc, "{\"v\":1}", "tanaka", 20)
            .await
            .unwrap();
        let v = s.notice_versions(inc).await.unwrap()[0].id;
        let c = s
            .create_campaign(inc, v, "post,email", 50, 1, "tanaka", 30)
            .await
            .unwrap();
        s.migrate().await.unwrap();
        assert_eq!(
            s.get_campaign(c).await.unwrap().incident_id,
            inc,
            "{}",
            db.name
        );
        assert_eq!(s.notice_versions(inc).await.unwrap()[0].body, "{\"v\":1}");
        let desk = s.desk_incidents(company).await.unwrap();
        assert_eq!(desk.len(), 1);
        assert_eq!(desk[0].id, inc);
        let id = s
            .insert_inquiry(&inquiry(inc, company, "open", 100))
            .await
            .unwrap();
        assert_eq!(s.get_inquiry(id).await.unwrap().incident_id, inc);
        assert!(s.faq_entries(inc).await.unwrap().is_empty());
        db.cleanup().await;
    }
}
