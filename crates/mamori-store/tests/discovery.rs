//! Discovery storage (issue 16, part 2) on SQLite and PostgreSQL: the schedule queues a due
//! location once, a scan is claimed once and taken over when its lease runs out, a file's
//! results keep its history (previous counts, when it changed, its ledger entry), a report is
//! imported once, and a database from before discovery upgrades with its ledger intact.

use mamori_store::discovery::{FileResult, NewLocation, ReportScan, ScanProgress};
use mamori_store::ledger::DatasetFields;
use mamori_store::testing::TestDb;
use mamori_store::{Store, StoreError};

async fn company(s: &Store) -> (i64, i64) {
    let co = s
        .create_company("mirai", "株式会社みらい", 1)
        .await
        .unwrap();
    let dept = s.create_department(co, None, "営業部", 1).await.unwrap();
    (co, dept)
}

fn folder(co: i64, dept: i64, name: &str, next: Option<i64>) -> NewLocation {
    NewLocation {
        company_id: co,
        department_id: dept,
        kind: "folder".into(),
        name: name.into(),
        path: format!("/srv/share/{name}"),
        owner_user_id: None,
        interval_hours: 24,
        next_scan_at: next,
        created_at: 1,
        created_by: "tanaka".into(),
    }
}

fn result(loc: i64, co: i64, scan: i64, path: &str, counts: &str, change: &str) -> FileResult {
    FileResult {
        location_id: loc,
        company_id: co,
        path: path.into(),
        size: 10,
        mtime: 5,
        sha256: "ab".into(),
        scanner: "1".into(),
        format: "csv".into(),
        status: "scanned".into(),
        reason: None,
        counts: counts.into(),
        change: change.into(),
        samples_sealed: None,
        scan_id: scan,
    }
}

#[tokio::test]
async fn the_schedule_queues_a_due_folder_once_and_a_scan_is_claimed_once() {
    for db in TestDb::all().await {
        let s = &db.store;
        let (co, dept) = company(s).await;
        let due = s
            .insert_location(&folder(co, dept, "a", Some(100)))
            .await
            .unwrap();
        let later = s
            .insert_location(&folder(co, dept, "b", Some(10_000)))
            .await
            .unwrap();
        let manual = s
            .insert_location(&folder(co, dept, "c", None))
            .await
            .unwrap();
        // The same name twice in a company is refused.
        assert!(matches!(
            s.insert_location(&folder(co, dept, "a", None)).await,
            Err(StoreError::Conflict(_))
        ));
        let q = s.queue_due_scans(200).await.unwrap();
        assert_eq!(q.len(), 1, "{}", db.name);
        assert_eq!(s.scan(q[0]).await.unwrap().location_id, due);
        // Moved on by its interval: not queued again now.
        assert_eq!(
            s.location(due).await.unwrap().next_scan_at,
            Some(200 + 24 * 3_600_000_000)
        );
        assert!(s.queue_due_scans(300).await.unwrap().is_empty());
        // A person's request while one is queued: refused.
        assert_eq!(s.queue_scan(due, co, "tanaka", 300).await.unwrap(), None);
        let m = s
            .queue_scan(manual, co, "tanaka", 300)
            .await
            .unwrap()
            .unwrap();
        assert!(s.location(later).await.unwrap().next_scan_at.is_some());

        // Claimed once, oldest first.
        let one = s.claim_scan("w1", 400, 1_000).await.unwrap().unwrap();
        assert_eq!(one.id, q[0]);
        assert_eq!(one.status, "running");
        let two = s.claim_scan("w2", 400, 1_000).await.unwrap().unwrap();
        assert_eq!(two.id, m);
        assert!(s.claim_scan("w3", 400, 1_000).await.unwrap().is_none());
        // Progress extends the lease of its own worker only.
        let p = ScanProgress {
            files_seen: 3,
            ..ScanProgress::default()
        };
        assert!(s.scan_progress(one.id, "w1", &p, 2_000).await.unwrap());
        assert!(!s.scan_progress(one.id, "w2", &p, 2_000).await.unwrap());
        // w2's lease runs out (its process died): another worker takes the scan over.
        let again = s.claim_scan("w3", 1_500, 5_000).await.unwrap().unwrap();
        assert_eq!(again.id, m);
        assert!(!s.scan_progress(m, "w2", &p, 9_000).await.unwrap());
        assert!(s.scan_progress(m, "w3", &p, 9_000).await.unwrap());
        // w3's process stops: the scan goes back to the queue, only by its own worker.
        s.release_scan(m, "w1").await.unwrap();
        assert_eq!(s.scan(m).await.unwrap().status, "running");
        s.release_scan(m, "w3").await.unwrap();
        assert_eq!(s.scan(m).await.unwrap().status, "queued");
        assert_eq!(
            s.claim_scan("w4", 1_600, 5_000).await.unwrap().unwrap().id,
            m
        );
        db.cleanup().await;
    }
}

#[tokio::test]
async fn a_file_keeps_its_history_across_scans() {
    for db in TestDb::all().await {
        let s = &db.store;
        let (co, dept) = company(s).await;
        let loc = s
            .insert_location(&folder(co, dept, "a", None))
            .await
            .unwrap();
        let s1 = s.queue_scan(loc, co, "t", 1).await.unwrap().unwrap();
        s.save_files(&[
            result(loc, co, s1, "顧客.csv", "{\"phone\":3}", "new"),
            result(loc, co, s1, "memo.txt", "{}", "new"),
        ])
        .await
        .unwrap();
        s.finish_scan(s1, "done", None, 2).await.unwrap();
        let done = s.scan(s1).await.unwrap();
        assert_eq!(done.files_with_data, 1, "{}", db.name);
        assert_eq!(done.counts, "{\"phone\":3}");
        let seen = s.seen_files(loc).await.unwrap();
        assert_eq!(seen.len(), 2);
        let csv = seen.iter().find(|f| f.path == "顧客.csv").unwrap().id;
        s.set_file_dataset(csv, None).await.unwrap();

        // Second scan: the CSV read again with the same findings keeps "new" from scan 1;
        // then it changes.
        let s2 = s.queue_scan(loc, co, "t", 3).await.unwrap().unwrap();
        assert_eq!(
            s.queue_scan(loc, co, "t", 3).await.unwrap(),
            None,
            "one at a time"
        );
        s.save_files(&[result(
            loc,
            co,
            s2,
            "顧客.csv",
            "{\"phone\":3}",
            "unchanged",
        )])
        .await
        .unwrap();
        let f = s.discovery_file(csv).await.unwrap();
        assert_eq!((f.change.as_str(), f.changed_scan_id), ("new", s1));
        s.save_files(&[result(
            loc,
            co,
            s2,
            "顧客.csv",
            "{\"email\":1,\"phone\":5}",
            "changed",
        )])
        .await
        .unwrap();
        let f = s.discovery_file(csv).await.unwrap();
        assert_eq!(f.change, "changed");
        assert_eq!(f.changed_scan_id, s2);
        assert_eq!(f.prev_counts.as_deref(), Some("{\"phone\":3}"));
        assert_eq!(f.first_scan_id, s1);
        // Removed, then back: new again, without previous counts.
        let memo = seen.iter().find(|f| f.path == "memo.txt").unwrap().id;
        s.mark_removed(&[memo], s2).await.unwrap();
        assert_eq!(s.discovery_file(memo).await.unwrap().change, "removed");
        assert_eq!(s.seen_files(loc).await.unwrap().len(), 1);
        s.save_files(&[result(loc, co, s2, "memo.txt", "{}", "new")])
            .await
            .unwrap();
        let m = s.discovery_file(memo).await.unwrap();
        assert_eq!((m.change.as_str(), m.prev_counts), ("new", None));
        // The list of a location: files with data (a clean file is only counted).
        let listed = s.location_files(loc, s2).await.unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].path, "顧客.csv");
        s.set_file_disposition(csv, Some("deleted"), Some("シュレッダー"), "tanaka", 9)
            .await
            .unwrap();
        let f = s.discovery_file(csv).await.unwrap();
        assert_eq!(f.disposition.as_deref(), Some("deleted"));
        assert_eq!(f.disposition_note.as_deref(), Some("シュレッダー"));
        db.cleanup().await;
    }
}

#[tokio::test]
async fn a_report_is_imported_once_and_keys_are_revoked_once() {
    for db in TestDb::all().await {
        let s = &db.store;
        let (co, dept) = company(s).await;
        let mut dev = folder(co, dept, "pc-01 (yamada)", None);
        dev.kind = "device".into();
        dev.path = "pc-01".into();
        let loc = s.insert_location(&dev).await.unwrap();
        let r = ReportScan {
            location_id: loc,
            company_id: co,
            requested_by: "yamada".into(),
            now: 5,
            sha256: "f00d".into(),
            key_id: "k".into(),
            scanned_at: "2026-12-07T21:30:00+09:00".into(),
            files_total: 12,
        };
        let id = s.begin_report_scan(&r).await.unwrap();
        assert!(matches!(
            s.begin_report_scan(&r).await,
            Err(StoreError::Conflict(_))
        ));
        s.report_scan_done(
            id,
            &ScanProgress {
                files_seen: 12,
                ..ScanProgress::default()
            },
            6,
        )
        .await
        .unwrap();
        let done = s.scan(id).await.unwrap();
        assert_eq!((done.status.as_str(), done.files_seen), ("done", 12));
        assert_eq!(done.report_key_id.as_deref(), Some("k"));
        db.cleanup().await;
    }
}

/// A database as the release before discovery left it (up to 0015, a ledger entry) upgrades
/// through 0016 with the entry intact, and takes locations at once.
#[tokio::test]
async fn a_database_from_before_discovery_upgrades_with_its_ledger() {
    for db in TestDb::all_at(15).await {
        let s = &db.store;
        let (co, dept) = company(s).await;
        let ds = s
            .create_dataset(
                co,
                &DatasetFields {
                    department_id: dept,
                    name: "顧客名簿",
                    items: "[\"name\"]",
                    card_data: false,
                    persons: Some(1200),
                    purpose: "発送",
                    source: "",
                    storage_place: "/srv/share/営業部",
                    storage_method: "",
                    access: "",
                    use_until: None,
                    retain_until: None,
                    entrusted_to: "",
                    entrusted_from: "",
                },
                "2027-12-07",
                None,
                1,
            )
            .await
            .unwrap();
        s.migrate().await.unwrap();
        let d = s.get_dataset(ds).await.unwrap();
        assert_eq!(
            (d.name.as_str(), d.persons),
            ("顧客名簿", Some(1200)),
            "{}",
            db.name
        );
        let loc = s
            .insert_location(&folder(co, dept, "営業部", Some(1)))
            .await
            .unwrap();
        assert_eq!(s.locations(co).await.unwrap()[0].id, loc);
        db.cleanup().await;
    }
}
