//! The incident list on SQLite and PostgreSQL: visibility scope, filters, literal text search and
//! keyset paging.

use mamori_domain::role::Role;
use mamori_store::incidents::{IncidentFilter, ListScope, NewEntry, NewIncident};
use mamori_store::testing::TestDb;
use mamori_store::users::NewUser;

#[tokio::test]
async fn list_filters_scope_and_pages() {
    for db in TestDb::all().await {
        let s = &db.store;
        let c = s.create_company("co", "株式会社テスト", 1).await.unwrap();
        let top = s.create_department(c, None, "本社", 1).await.unwrap();
        let sales = s
            .create_department(c, Some(top), "営業部", 1)
            .await
            .unwrap();
        let sys = s
            .create_department(c, Some(top), "システム部", 1)
            .await
            .unwrap();
        let u = s
            .create_user(
                &NewUser {
                    company_id: c,
                    department_id: sales,
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
        let titles = ["誤送信 100%", "紛失", "不正アクセス", "誤送信", "FAX誤送信"];
        let mut ids = Vec::new();
        for (n, title) in titles.iter().enumerate() {
            let at = 1_000 + n as i64 * 100;
            let line = if n == 2 {
                vec![sys, top]
            } else {
                vec![sales, top]
            };
            let (id, _) = s
                .create_incident(
                    &NewIncident {
                        company_id: c,
                        year: 2026,
                        drill: n == 4,
                        title,
                        description: "説明",
                        actions_taken: "",
                        found_by: "",
                        reporter_id: u,
                        department_id: if n == 2 { sys } else { sales },
                        phase: "task_force",
                        facts: "{}",
                        assessment: "{}",
                        reportable: false,
                        persons: None,
                        occurred_at: None,
                        found_at: at,
                        knew_at: at,
                        first_report: "{}",
                        line: &line,
                    },
                    &[NewEntry::new("yamada", "first_report", "第一報")],
                    at,
                )
                .await
                .unwrap();
            ids.push(id);
        }
        let all = ListScope {
            company_id: c,
            all: true,
            user_id: 0,
            head_of: None,
        };
        let list = |scope, f: IncidentFilter, limit| async move {
            s.list_incidents(scope, &f, limit)
                .await
                .unwrap()
                .iter()
                .map(|i| i.id)
                .collect::<Vec<_>>()
        };
        // Newest first.
        let mut newest = ids.clone();
        newest.reverse();
        assert_eq!(
            list(all, IncidentFilter::default(), 10).await,
            newest,
            "{}",
            db.name
        );
        // `%` is searched literally.
        let f = IncidentFilter {
            text: Some("100%".into()),
            ..IncidentFilter::default()
        };
        assert_eq!(list(all, f, 10).await, vec![ids[0]]);
        let f = IncidentFilter {
            text: Some("誤送信".into()),
            drill: Some(false),
            ..IncidentFilter::default()
        };
        assert_eq!(list(all, f, 10).await, vec![ids[3], ids[0]]);
        // From (inclusive) and until (exclusive).
        let f = IncidentFilter {
            from: Some(1_100),
            until: Some(1_300),
            ..IncidentFilter::default()
        };
        assert_eq!(list(all, f, 10).await, vec![ids[2], ids[1]]);
        // Keyset paging: two pages of two, then one.
        let p1 = s
            .list_incidents(all, &IncidentFilter::default(), 2)
            .await
            .unwrap();
        let last = p1.last().unwrap();
        let f = IncidentFilter {
            before: Some((last.created_at, last.id)),
            ..IncidentFilter::default()
        };
        assert_eq!(list(all, f, 2).await, vec![ids[2], ids[1]]);
        // The head of システム部 sees only the incident on their line; a stranger nothing;
        // the head of the top department everything on its lines.
        let head = |d| ListScope {
            company_id: c,
            all: false,
            user_id: 999,
            head_of: Some(d),
        };
        assert_eq!(
            list(head(sys), IncidentFilter::default(), 10).await,
            vec![ids[2]]
        );
        assert_eq!(list(head(top), IncidentFilter::default(), 10).await, newest);
        let stranger = ListScope {
            company_id: c,
            all: false,
            user_id: 999,
            head_of: None,
        };
        assert!(list(stranger, IncidentFilter::default(), 10)
            .await
            .is_empty());
        let reporter = ListScope {
            company_id: c,
            all: false,
            user_id: u,
            head_of: None,
        };
        assert_eq!(list(reporter, IncidentFilter::default(), 10).await.len(), 5);
        db.cleanup().await;
    }
}
