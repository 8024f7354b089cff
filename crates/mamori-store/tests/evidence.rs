//! The storage of leaked files (incident_files, incident_file_chunks) on SQLite and PostgreSQL:
//! every byte value through BLOB/BYTEA, the life of a file row (uploading → queued → scanning →
//! done), progress, the scan lease, key re-wrap by compare-and-set, and removal with chunks.

use mamori_domain::role::Role;
use mamori_store::evidence::ScanProgress;
use mamori_store::incidents::{NewEntry, NewIncident};
use mamori_store::testing::TestDb;
use mamori_store::users::NewUser;

#[tokio::test]
async fn file_rows_chunks_progress_leases_and_keys() {
    for db in TestDb::all().await {
        let s = &db.store;
        let c = s.create_company("co", "株式会社テスト", 1).await.unwrap();
        let d = s.create_department(c, None, "本社", 1).await.unwrap();
        let u = s
            .create_user(
                &NewUser {
                    company_id: c,
                    department_id: d,
                    login: "tanaka",
                    display_name: "田中",
                    email: "tanaka@example.jp",
                    password_hash: "$argon2id$x",
                    roles: &[Role::PrivacyOffice],
                    locale: "ja",
                },
                1,
            )
            .await
            .unwrap();
        let (inc, _) = s
            .create_incident(
                &NewIncident {
                    company_id: c,
                    year: 2026,
                    drill: false,
                    title: "流出",
                    description: "説明",
                    actions_taken: "",
                    found_by: "",
                    reporter_id: u,
                    department_id: d,
                    phase: "task_force",
                    facts: "{}",
                    assessment: "{}",
                    reportable: false,
                    persons: None,
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

        let id = s
            .insert_incident_file(inc, "顧客一覧.csv", Some(u), 100)
            .await
            .unwrap();
        s.set_incident_file_key(id, "wrapped-1", 1).await.unwrap();
        // Uploading: not listed yet, but its row exists.
        assert!(s.incident_files(inc).await.unwrap().is_empty());
        assert_eq!(s.incident_file_rows_all(inc).await.unwrap().len(), 1);
        assert_eq!(s.stale_incident_uploads(101).await.unwrap(), vec![id]);
        assert!(s.stale_incident_uploads(100).await.unwrap().is_empty());

        let every_byte: Vec<u8> = (0..=255u8).cycle().take(1000).collect();
        s.put_incident_file_chunk(id, 0, &every_byte).await.unwrap();
        s.put_incident_file_chunk(id, 1, &[0, 0, 0]).await.unwrap();
        assert!(
            s.put_incident_file_chunk(id, 1, &[1]).await.is_err(),
            "one chunk per number"
        );
        s.finish_incident_file(id, 1003, "ab12", 2).await.unwrap();
        let f = s.get_incident_file(id).await.unwrap();
        assert_eq!(
            (
                f.scan_state.as_str(),
                f.size,
                f.sha256.as_str(),
                f.chunk_count
            ),
            ("queued", 1003, "ab12", 2)
        );
        assert_eq!(f.uploaded_by, Some(u));
        assert_eq!(s.incident_files(inc).await.unwrap().len(), 1);
        assert_eq!(
            s.incident_file_chunk(id, 0).await.unwrap().unwrap(),
            every_byte
        );
        assert_eq!(s.incident_file_chunk(id, 2).await.unwrap(), None);
        assert_eq!(s.incident_file_chunk_count(id).await.unwrap(), 2);
        s.replace_incident_file_chunk(id, 1, &[9]).await.unwrap();
        assert_eq!(
            s.incident_file_chunk(id, 1).await.unwrap().unwrap(),
            vec![9]
        );
        s.remove_incident_file_chunk(id, 1).await.unwrap();
        assert_eq!(s.incident_file_chunk_count(id).await.unwrap(), 1);

        // The scan lease: one holder at a time, taken over when it runs out.
        assert!(s.claim_incident_file_scan(id, 1_000, 2_000).await.unwrap());
        assert!(!s.claim_incident_file_scan(id, 1_500, 2_500).await.unwrap());
        s.renew_incident_file_scan(id, 3_000).await.unwrap();
        assert!(!s.claim_incident_file_scan(id, 2_500, 3_500).await.unwrap());
        assert!(s.claim_incident_file_scan(id, 3_001, 4_000).await.unwrap());
        let p = ScanProgress {
            bytes_done: 500,
            rows_found: 7,
            rows_matched: 3,
            kind_counts: r#"{"email":7}"#.into(),
        };
        s.set_incident_file_progress(id, &p).await.unwrap();
        s.set_incident_file_state(id, "done", Some("no_personal_data"), Some("{}"))
            .await
            .unwrap();
        let f = s.get_incident_file(id).await.unwrap();
        assert_eq!((f.bytes_done, f.rows_found, f.rows_matched), (500, 7, 3));
        assert_eq!(f.kind_counts, r#"{"email":7}"#);
        assert_eq!(f.problem.as_deref(), Some("no_personal_data"));
        assert_eq!(f.scan_state, "done");
        // The lease is let go with the scan, and a finished scan is not taken again.
        assert_eq!(
            s.get_setting(&format!("evidence.scan_lease.{id}"))
                .await
                .unwrap(),
            None
        );
        assert!(!s
            .claim_incident_file_scan(id, 10_000, 11_000)
            .await
            .unwrap());

        // Keys: listed until re-wrapped under the current version, by compare-and-set.
        assert_eq!(s.evidence_key_versions().await.unwrap(), vec![1]);
        assert_eq!(
            s.evidence_keys_to_rewrap(2, 0, 10).await.unwrap(),
            vec![(id, 1, "wrapped-1".to_owned())]
        );
        assert_eq!(s.rewrap_incident_file_key(id, 3, 2, "x").await.unwrap(), 0);
        assert_eq!(
            s.rewrap_incident_file_key(id, 1, 2, "wrapped-2")
                .await
                .unwrap(),
            1
        );
        assert!(s
            .evidence_keys_to_rewrap(2, 0, 10)
            .await
            .unwrap()
            .is_empty());
        assert_eq!(s.evidence_key_versions().await.unwrap(), vec![2]);

        s.delete_incident_file(id).await.unwrap();
        assert!(s.incident_file_rows_all(inc).await.unwrap().is_empty());
        assert_eq!(s.all_incident_file_chunks().await.unwrap(), 0);
        assert!(matches!(
            s.get_incident_file(id).await,
            Err(mamori_store::StoreError::NotFound)
        ));
        db.cleanup().await;
    }
}
