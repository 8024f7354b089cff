//! Publication records and recurrence-report steps, on SQLite and PostgreSQL.

use mamori_domain::role::Role;
use mamori_store::decisions::{NewPublication, NewStep};
use mamori_store::incidents::{NewEntry, NewIncident};
use mamori_store::testing::TestDb;
use mamori_store::users::NewUser;
use mamori_store::{Store, StoreError};

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
                login: "yamada",
                display_name: "山田 太郎",
                email: "yamada@example.jp",
                password_hash: "$argon2id$x",
                roles: &[Role::Staff],
                locale: "ja",
            },
            1,
        )
        .await
        .unwrap();
    let (id, _) = s
        .create_incident(
            &NewIncident {
                company_id: c,
                year: 2026,
                drill: false,
                title: "誤送信",
                description: "メールの誤送信",
                actions_taken: "",
                found_by: "",
                reporter_id: u,
                department_id: d,
                phase: "task_force",
                facts: "{}",
                assessment: "{}",
                reportable: false,
                persons: Some(3),
                occurred_at: None,
                found_at: 10,
                knew_at: 10,
                first_report: "{}",
                line: &[d],
            },
            &[NewEntry::new("yamada", "first_report", "第一報")],
            10,
        )
        .await
        .unwrap();
    id
}

#[tokio::test]
async fn publication_records_are_kept_newest_first_with_their_timeline_lines() {
    for db in TestDb::all().await {
        let s = &db.store;
        let id = incident(s).await;
        assert!(s.publication_records(id).await.unwrap().is_empty());
        let first = s
            .add_publication_record(
                id,
                None,
                &NewPublication {
                    viewpoints: r#"{"volume":3}"#,
                    recommendation: "not_needed",
                    reasons: r#"["理由"]"#,
                    decision: None,
                    decision_reason: None,
                    recorded_by: "田中（tanaka）",
                },
                &[NewEntry::new("田中（tanaka）", "publication", "視点を記録")],
                20,
            )
            .await
            .unwrap();
        // Based on an out-of-date view: refused, nothing written.
        let stale = s
            .add_publication_record(
                id,
                None,
                &NewPublication {
                    viewpoints: "{}",
                    recommendation: "publish",
                    reasons: "[]",
                    decision: None,
                    decision_reason: None,
                    recorded_by: "x",
                },
                &[NewEntry::new("x", "publication", "古い画面から")],
                25,
            )
            .await;
        assert!(
            matches!(stale, Err(StoreError::Conflict("publication record"))),
            "{}",
            db.name
        );
        let second = s
            .add_publication_record(
                id,
                Some(first),
                &NewPublication {
                    viewpoints: r#"{"volume":3}"#,
                    recommendation: "not_needed",
                    reasons: r#"["理由"]"#,
                    decision: Some("not_publish"),
                    decision_reason: Some("個別に連絡済み"),
                    recorded_by: "渡辺（watanabe）",
                },
                &[NewEntry::new(
                    "渡辺（watanabe）",
                    "publication",
                    "公表しない",
                )],
                30,
            )
            .await
            .unwrap();
        let all = s.publication_records(id).await.unwrap();
        assert_eq!(
            all.iter().map(|r| r.id).collect::<Vec<_>>(),
            vec![second, first]
        );
        assert_eq!(all[0].decision.as_deref(), Some("not_publish"));
        assert_eq!(all[0].decision_reason.as_deref(), Some("個別に連絡済み"));
        assert_eq!(all[0].created_at, 30);
        assert_eq!(all[1].decision, None);
        assert_eq!(all[1].reasons, r#"["理由"]"#);
        let texts: Vec<String> = s
            .timeline(id)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.text)
            .collect();
        assert_eq!(
            texts,
            vec!["第一報", "視点を記録", "公表しない"],
            "{}",
            db.name
        );
        // An incident that does not exist.
        assert!(matches!(
            s.add_publication_record(
                id + 100,
                None,
                &NewPublication {
                    viewpoints: "{}",
                    recommendation: "publish",
                    reasons: "[]",
                    decision: None,
                    decision_reason: None,
                    recorded_by: "x",
                },
                &[],
                40,
            )
            .await,
            Err(StoreError::NotFound)
        ));
        db.cleanup().await;
    }
}

#[tokio::test]
async fn recurrence_steps_are_appended_in_order_and_refused_when_stale() {
    for db in TestDb::all().await {
        let s = &db.store;
        let id = incident(s).await;
        let step = |state: &'static str, comment: &'static str| NewStep {
            state,
            body: r#"{"cause":"確認不足","done":[],"planned":[]}"#,
            comment,
            actor: "someone",
        };
        let a = s
            .add_recurrence_step(
                id,
                None,
                &step("submitted", ""),
                &[NewEntry::new(
                    "山田",
                    "recurrence",
                    "再発防止策: 事務局へ提出",
                )],
                20,
            )
            .await
            .unwrap();
        let b = s
            .add_recurrence_step(
                id,
                Some(a),
                &step("returned", "原因をもっと具体的に"),
                &[NewEntry::new("田中", "recurrence", "再発防止策: 差し戻し")],
                30,
            )
            .await
            .unwrap();
        // Two people acting on the same state: the second is refused and writes nothing.
        let stale = s
            .add_recurrence_step(
                id,
                Some(a),
                &step("forwarded", ""),
                &[NewEntry::new("田中", "recurrence", "二重")],
                31,
            )
            .await;
        assert!(
            matches!(stale, Err(StoreError::Conflict("recurrence step"))),
            "{}",
            db.name
        );
        let steps = s.recurrence_steps(id).await.unwrap();
        assert_eq!(steps.len(), 2, "{}", db.name);
        assert_eq!(steps[0].id, a);
        assert_eq!(steps[1].id, b);
        assert_eq!(steps[1].state, "returned");
        assert_eq!(steps[1].comment, "原因をもっと具体的に");
        assert_eq!(steps[1].created_at, 30);
        let timeline = s.timeline(id).await.unwrap();
        assert_eq!(timeline.len(), 3, "no line for the refused step");
        assert_eq!(timeline[2].text, "再発防止策: 差し戻し");
        assert_eq!(timeline[2].at, 30);
        db.cleanup().await;
    }
}
