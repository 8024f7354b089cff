//! Versions of the report to the PPC, on SQLite and PostgreSQL: numbering per incident and
//! stage, reading back, submitting once, and the timeline lines written with them.

use mamori_domain::role::Role;
use mamori_store::incidents::{NewEntry, NewIncident};
use mamori_store::testing::TestDb;
use mamori_store::users::NewUser;
use mamori_store::{Store, StoreError};

/// A company with one user and two incidents; returns (user, first incident, second incident).
async fn setup(s: &Store) -> (i64, i64, i64) {
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
    let mut ids = Vec::new();
    for title in ["誤送信", "紛失"] {
        let (id, _) = s
            .create_incident(
                &NewIncident {
                    company_id: c,
                    year: 2026,
                    drill: false,
                    title,
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
            .unwrap();
        ids.push(id);
    }
    (u, ids[0], ids[1])
}

async fn timeline_kinds(s: &Store, id: i64) -> Vec<(String, String)> {
    s.timeline(id)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.kind, e.text))
        .collect()
}

#[tokio::test]
async fn versions_are_numbered_per_incident_and_stage_and_kept() {
    for db in TestDb::all().await {
        let s = &db.store;
        let name = db.name;
        let (u, a, b) = setup(s).await;
        let save = |id: i64, stage: &'static str, body: &'static str, at: i64| async move {
            s.save_ppc_report(
                id,
                stage,
                body,
                Some(u),
                &NewEntry::new(
                    "田中 美咲（tanaka）",
                    "ppc",
                    format!("{stage} 第{{version}}版"),
                ),
                at,
            )
            .await
            .unwrap()
        };
        assert_eq!(save(a, "preliminary", r#"{"v":1}"#, 100).await, 1, "{name}");
        assert_eq!(save(a, "preliminary", r#"{"v":2}"#, 200).await, 2, "{name}");
        assert_eq!(save(a, "final", r#"{"f":1}"#, 300).await, 1, "{name}");
        assert_eq!(save(b, "preliminary", r#"{"b":1}"#, 400).await, 1, "{name}");

        let all = s.ppc_reports(a, None).await.unwrap();
        let order: Vec<(&str, i64)> = all.iter().map(|r| (r.stage.as_str(), r.version)).collect();
        assert_eq!(
            order,
            vec![("preliminary", 2), ("preliminary", 1), ("final", 1)],
            "{name}"
        );
        let pre = s.ppc_reports(a, Some("preliminary")).await.unwrap();
        assert_eq!(pre.len(), 2, "{name}");
        assert_eq!(pre[0].body, r#"{"v":2}"#, "{name}");
        assert_eq!(
            pre[1].body, r#"{"v":1}"#,
            "earlier versions are kept: {name}"
        );
        assert_eq!(s.ppc_reports(b, Some("final")).await.unwrap(), vec![]);

        let one = s.get_ppc_report(a, "preliminary", 1).await.unwrap();
        assert_eq!(one.incident_id, a);
        assert_eq!(one.created_by, Some(u));
        assert_eq!(one.created_at, 100);
        assert_eq!(one.submitted_at, None);
        assert_eq!(one.submitted_by, None);
        assert!(matches!(
            s.get_ppc_report(a, "final", 2).await,
            Err(StoreError::NotFound)
        ));
        assert!(matches!(
            s.get_ppc_report(b, "final", 1).await,
            Err(StoreError::NotFound)
        ));

        // Each save wrote its line, with its version number, on its own incident's timeline.
        let lines = timeline_kinds(s, a).await;
        let ppc: Vec<&str> = lines
            .iter()
            .filter(|(k, _)| k == "ppc")
            .map(|(_, t)| t.as_str())
            .collect();
        assert_eq!(
            ppc,
            vec!["preliminary 第1版", "preliminary 第2版", "final 第1版"],
            "{name}"
        );
        assert_eq!(
            timeline_kinds(s, b)
                .await
                .iter()
                .filter(|(k, _)| k == "ppc")
                .count(),
            1
        );
        // The incident was touched.
        assert_eq!(s.get_incident(a).await.unwrap().updated_at, 300, "{name}");

        // An unknown incident is refused and nothing is written.
        let r = s
            .save_ppc_report(
                a + b + 100,
                "preliminary",
                "{}",
                None,
                &NewEntry::new("x", "ppc", "x"),
                500,
            )
            .await;
        assert!(matches!(r, Err(StoreError::NotFound)), "{name}: {r:?}");
        db.cleanup().await;
    }
}

#[tokio::test]
async fn a_version_is_submitted_once_with_when_and_by_whom() {
    for db in TestDb::all().await {
        let s = &db.store;
        let name = db.name;
        let (u, a, _) = setup(s).await;
        for at in [100, 200] {
            s.save_ppc_report(
                a,
                "preliminary",
                "{}",
                Some(u),
                &NewEntry::new("田中 美咲（tanaka）", "ppc", "保存"),
                at,
            )
            .await
            .unwrap();
        }
        s.submit_ppc_report(
            a,
            "preliminary",
            2,
            "田中 美咲（tanaka）",
            &NewEntry::new("田中 美咲（tanaka）", "ppc", "速報 第2版を提出"),
            1_000,
        )
        .await
        .unwrap();
        let r = s.get_ppc_report(a, "preliminary", 2).await.unwrap();
        assert_eq!(r.submitted_at, Some(1_000), "{name}");
        assert_eq!(r.submitted_by.as_deref(), Some("田中 美咲（tanaka）"));
        assert_eq!(
            s.get_ppc_report(a, "preliminary", 1)
                .await
                .unwrap()
                .submitted_at,
            None,
            "only the version named is submitted"
        );

        // A second attempt is refused and changes nothing (no second timeline line either).
        let again = s
            .submit_ppc_report(
                a,
                "preliminary",
                2,
                "高橋 健（takahashi）",
                &NewEntry::new("高橋 健（takahashi）", "ppc", "二度目"),
                2_000,
            )
            .await;
        assert!(
            matches!(again, Err(StoreError::Conflict("submission"))),
            "{name}: {again:?}"
        );
        let r = s.get_ppc_report(a, "preliminary", 2).await.unwrap();
        assert_eq!(r.submitted_at, Some(1_000));
        assert_eq!(r.submitted_by.as_deref(), Some("田中 美咲（tanaka）"));
        let lines = timeline_kinds(s, a).await;
        assert!(lines.iter().any(|(_, t)| t == "速報 第2版を提出"));
        assert!(!lines.iter().any(|(_, t)| t == "二度目"), "{name}");

        // An unknown version is not found.
        let missing = s
            .submit_ppc_report(a, "final", 1, "x", &NewEntry::new("x", "ppc", "x"), 3_000)
            .await;
        assert!(matches!(missing, Err(StoreError::NotFound)), "{name}");
        db.cleanup().await;
    }
}
