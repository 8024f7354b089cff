//! Campaign storage (issue 14) on SQLite and PostgreSQL: notice versions numbered per incident
//! and approved once; recipients added once per person; transitions and e-mail claims as
//! compare-and-set (a stale reader or a second claimer changes nothing); expired claims become
//! in doubt; the public notice covers the unreachable; counts per state and per day; the job
//! check that keeps one e-mail job waiting per campaign.

use mamori_domain::role::Role;
use mamori_store::campaigns::{EmailOutcome, EventRow, NewRecipient, RecipientChange};
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

fn recipient(person: i64, channel: Option<&str>, state: &str) -> NewRecipient {
    NewRecipient {
        person_id: person,
        reach: "pet".into(),
        contact: format!("sealed-{person}"),
        items: "name,email".into(),
        channel: channel.map(str::to_owned),
        state: state.into(),
        problem: None,
    }
}

fn ev(event: &str) -> EventRow<'_> {
    EventRow {
        channel: Some("post"),
        event,
        message_id: None,
        note: None,
        actor: "tanaka",
        day: "2026-11-24",
    }
}

#[tokio::test]
async fn campaign_storage_on_both_backends() {
    for db in TestDb::all().await {
        let s = &db.store;
        let inc = incident(s).await;
        // Notice versions.
        assert_eq!(
            s.save_notice_version(inc, "{\"v\":1}", "tanaka", 20)
                .await
                .unwrap(),
            1
        );
        assert_eq!(
            s.save_notice_version(inc, "{\"v\":2}", "tanaka", 21)
                .await
                .unwrap(),
            2
        );
        assert!(s
            .approve_notice_version(inc, 2, "watanabe", 22)
            .await
            .unwrap());
        assert!(!s
            .approve_notice_version(inc, 2, "watanabe", 23)
            .await
            .unwrap());
        let vs = s.notice_versions(inc).await.unwrap();
        assert_eq!(vs.iter().map(|v| v.version).collect::<Vec<_>>(), vec![2, 1]);
        assert_eq!(vs[0].approved_by.as_deref(), Some("watanabe"));
        assert_eq!(s.notice_version(inc, 1).await.unwrap().body, "{\"v\":1}");
        assert_eq!(s.notice_by_id(vs[0].id).await.unwrap().version, 2);
        // A campaign and its recipients; a person is added once.
        let c = s
            .create_campaign(inc, vs[0].id, "post,email", 50, 1, "tanaka", 30)
            .await
            .unwrap();
        let rows = vec![
            recipient(1, Some("post"), "queued"),
            recipient(2, Some("email"), "queued"),
            recipient(3, Some("email"), "queued"),
            recipient(4, None, "unreachable"),
        ];
        assert_eq!(s.add_recipients(c, &rows, 30).await.unwrap(), 4);
        assert_eq!(s.add_recipients(c, &rows[..1], 31).await.unwrap(), 0);
        assert_eq!(s.campaigns_of(inc).await.unwrap()[0].id, c);
        assert_eq!(s.active_campaigns().await.unwrap(), vec![c]);
        let all = s.campaign_recipients(c, 0, 10).await.unwrap();
        let ids: Vec<i64> = all.iter().map(|r| r.id).collect();
        // A transition is a compare-and-set on what was read.
        let posted = RecipientChange {
            channel: Some("post".into()),
            state: "sent".into(),
            no_answers: 0,
            not_before: None,
            problem: None,
        };
        assert!(s
            .transition_recipient(
                ids[0],
                (Some("post"), "queued", 0),
                &posted,
                &ev("posted"),
                40
            )
            .await
            .unwrap());
        assert!(
            !s.transition_recipient(
                ids[0],
                (Some("post"), "queued", 0),
                &posted,
                &ev("posted"),
                41
            )
            .await
            .unwrap(),
            "stale read"
        );
        assert_eq!(s.recipient_events(ids[0]).await.unwrap().len(), 1);
        // E-mail claims: a second claimer gets nothing already claimed; the Message-ID is
        // stored with the claim.
        let mid = |r: i64, a: i64| format!("m.r{r}.a{a}@x");
        let first = s
            .claim_email_batch(c, "w1", 50, 50 + 1_000_000, 1, "2026-11-24", &mid)
            .await
            .unwrap();
        let second = s
            .claim_email_batch(c, "w2", 50, 50 + 1_000_000, 10, "2026-11-24", &mid)
            .await
            .unwrap();
        assert_eq!(first.len(), 1);
        assert_eq!(second.len(), 1);
        assert_ne!(first[0].id, second[0].id);
        assert_eq!(
            s.get_recipient(first[0].id).await.unwrap().message_id,
            Some(mid(first[0].id, 1))
        );
        assert_eq!(
            s.recipient_by_message_id(&mid(first[0].id, 1))
                .await
                .unwrap(),
            Some(first[0].id)
        );
        // The first sender records its outcome; an outcome for a wrong attempt changes nothing.
        let sent = |id: i64, attempt: i64| EmailOutcome {
            id,
            attempt,
            change: RecipientChange {
                channel: Some("email".into()),
                state: "sent".into(),
                no_answers: 0,
                not_before: None,
                problem: None,
            },
            event: "accepted".into(),
            message_id: mid(id, attempt),
        };
        assert_eq!(
            s.record_email_outcomes(
                &[sent(first[0].id, 1), sent(second[0].id, 7)],
                "w1",
                "2026-11-24",
                60
            )
            .await
            .unwrap(),
            1
        );
        // The second sender "dies": after its lease the claim is in doubt, once.
        assert!(
            s.expire_email_claims(c, 60, "2026-11-24")
                .await
                .unwrap()
                .is_empty(),
            "lease not over"
        );
        let lost = s
            .expire_email_claims(c, 2_000_000, "2026-11-25")
            .await
            .unwrap();
        assert_eq!(lost, vec![(second[0].id, mid(second[0].id, 1))]);
        assert!(s
            .expire_email_claims(c, 3_000_000, "2026-11-25")
            .await
            .unwrap()
            .is_empty());
        assert_eq!(
            s.record_email_outcomes(&[sent(second[0].id, 1)], "w2", "2026-11-25", 61)
                .await
                .unwrap(),
            0,
            "too late"
        );
        // The public notice covers the unreachable.
        assert_eq!(
            s.cover_unreachable(c, "tanaka", "2026-11-26", 70)
                .await
                .unwrap(),
            1
        );
        assert!(s
            .set_campaign_public(c, "slug", "tanaka", 70)
            .await
            .unwrap());
        assert!(!s
            .set_campaign_public(c, "other", "tanaka", 71)
            .await
            .unwrap());
        assert_eq!(s.campaign_by_slug("slug").await.unwrap().id, c);
        // Counts.
        let states: Vec<(Option<String>, String, i64)> = s
            .campaign_states(c)
            .await
            .unwrap()
            .into_iter()
            .map(|r| (r.channel, r.what, r.count))
            .collect();
        assert!(states.contains(&(None, "covered".into(), 1)), "{states:?}");
        assert!(
            states.contains(&(Some("email".into()), "in_doubt".into(), 1)),
            "{states:?}"
        );
        assert!(
            states.contains(&(Some("email".into()), "sent".into(), 1)),
            "{states:?}"
        );
        let days = s.campaign_days(c).await.unwrap();
        assert!(days.iter().any(|d| d.day.as_deref() == Some("2026-11-25")
            && d.what == "in_doubt"
            && d.count == 1));
        assert!(days.iter().any(|d| d.day.as_deref() == Some("2026-11-24")
            && d.what == "claimed"
            && d.count == 2));
        // Errors shown on the campaign; the waiting e-mail job.
        s.set_campaign_error(c, Some("451 try later"), 80)
            .await
            .unwrap();
        assert_eq!(
            s.get_campaign(c).await.unwrap().last_error.as_deref(),
            Some("451 try later")
        );
        s.set_campaign_error(c, None, 81).await.unwrap();
        assert!(s.get_campaign(c).await.unwrap().last_error.is_none());
        assert!(!s
            .job_waiting("campaign.email", &c.to_string(), 90)
            .await
            .unwrap());
        let job = s
            .enqueue_job("campaign.email", &c.to_string(), 90, 90)
            .await
            .unwrap();
        assert!(s
            .job_waiting("campaign.email", &c.to_string(), 90)
            .await
            .unwrap());
        // A job resting until later is woken to run now.
        let later = s
            .enqueue_job("campaign.email", "999", 5_000, 90)
            .await
            .unwrap();
        assert!(s.wake_job("campaign.email", "999", 95).await.unwrap());
        assert_eq!(
            s.claim_job("w2", 96, 500).await.unwrap().map(|j| j.id),
            Some(job),
            "the older job first"
        );
        assert_eq!(
            s.claim_job("w2", 96, 500).await.unwrap().map(|j| j.id),
            Some(later),
            "the woken job is due now, not at 5,000"
        );
        assert!(!s.wake_job("campaign.email", "998", 95).await.unwrap());
        s.fail_job(job, "retry", 90).await.unwrap();
        assert!(s.claim_job_by_id(job, "w", 90, 1_000).await.unwrap());
        assert!(
            !s.job_waiting("campaign.email", &c.to_string(), 100)
                .await
                .unwrap(),
            "held by a worker"
        );
        assert!(
            s.job_waiting("campaign.email", &c.to_string(), 2_000)
                .await
                .unwrap(),
            "its worker stopped"
        );
        s.set_campaign_status(c, "done").await.unwrap();
        assert!(s.active_campaigns().await.unwrap().is_empty());
        assert_eq!(
            s.recipients_in(c, "post", "sent", 0, 100, 10)
                .await
                .unwrap()
                .len(),
            1
        );
        db.cleanup().await;
    }
}
