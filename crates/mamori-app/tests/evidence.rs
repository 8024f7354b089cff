//! Leaked material on an incident (issue 14, item 1) against real databases (SQLite and
//! PostgreSQL): files sealed in chunks and read back, tampering detected, the upload limit,
//! who may attach and read, the audit entry of every read, the scan job, and the rows read
//! from CSV (CP932 with a header, UTF-8 without), xlsx, e-mail, encrypted zip and files with
//! nothing personal.

use mamori_app::admin::UserInput;
use mamori_app::clock::{Clock, ManualClock};
use mamori_app::evidence::{rows_from_bytes, EvidenceProblem, CHUNK, SCAN_JOB};
use mamori_app::incident::FirstReportInput;
use mamori_app::keys::Keys;
use mamori_app::{App, AppError, Ctx, Settings};
use mamori_domain::impact::LeakedField;
use mamori_domain::role::Role;
use mamori_store::audit::AuditFilter;
use mamori_store::testing::{temp_dir, TestDb};
use std::fmt::Write as _;
use std::sync::Arc;

// 2026-11-24T01:00:00Z = 2026-11-24 10:00 JST.
const T0: i64 = 1_795_482_000_000_000;

struct Env {
    app: App,
    clock: Arc<ManualClock>,
    db: TestDb,
    incident: i64,
    reporter: Ctx,
    privacy: Ctx,
    colleague: Ctx,
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

async fn envs(max_upload_bytes: u64) -> Vec<Env> {
    let mut out = Vec::new();
    for db in TestDb::all().await {
        let clock = Arc::new(ManualClock::new(T0));
        let key_dir = temp_dir("keys").join("k");
        let keys = Keys::load_or_create(&key_dir, true).unwrap();
        let settings = Settings {
            max_upload_bytes,
            ..Settings::default()
        };
        let (app, _writer) = App::new(db.store.clone(), keys, clock.clone(), settings);
        app.open_vault_default(true).await.unwrap();
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
        let other = app.create_company(&l, "other", "他社").await.unwrap();
        let other_hq = app
            .create_department(&l, other, None, "本社")
            .await
            .unwrap();
        let reporter = person(&app, co, sales, "yamada", Role::Staff).await;
        let (incident, _) = app
            .file_first_report(
                &reporter,
                &FirstReportInput {
                    description: "顧客一覧が外部に流出した".into(),
                    event: "leak".into(),
                    ..FirstReportInput::default()
                },
            )
            .await
            .unwrap();
        out.push(Env {
            privacy: person(&app, co, hq, "tanaka", Role::PrivacyOffice).await,
            colleague: person(&app, co, sales, "sato", Role::Staff).await,
            other_company: person(&app, other, other_hq, "other", Role::PrivacyOffice).await,
            reporter,
            incident,
            app,
            clock,
            db,
        });
    }
    out
}

/// Deterministic bytes that do not compress and are not text.
fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// Attaches `data` written in uneven pieces, as a network delivers it.
async fn attach(e: &Env, name: &str, data: &[u8]) -> Result<i64, AppError> {
    let mut w = e.app.begin_evidence(&e.privacy, e.incident, name).await?;
    let mut at = 0;
    let mut step = 1000;
    while at < data.len() {
        let end = (at + step).min(data.len());
        if let Err(err) = w.write(&data[at..end]).await {
            w.abort().await?;
            return Err(err);
        }
        at = end;
        step = step * 3 + 7;
    }
    w.finish().await
}

fn is_integrity(r: &Result<Vec<u8>, AppError>) -> bool {
    match r {
        Err(AppError::Invalid(p)) => p.en == EvidenceProblem::Integrity.en(),
        _ => false,
    }
}

#[tokio::test]
async fn files_round_trip_in_sealed_chunks() {
    for e in envs(512 << 20).await {
        let app = &e.app;
        // Two full chunks and a part, exactly two chunks, and an empty file.
        for (len, chunks) in [(2 * CHUNK + 12_345, 3), (2 * CHUNK, 2), (0, 1)] {
            let data = noise(len, len as u64 + 1);
            let id = attach(&e, "dump.bin", &data).await.unwrap();
            let row = app.store.get_incident_file(id).await.unwrap();
            assert_eq!(row.chunk_count, chunks, "{} len {len}", e.db.name);
            assert_eq!(row.size, len as i64);
            assert_eq!(row.scan_state, "queued");
            assert_eq!(
                app.store.incident_file_chunk_count(id).await.unwrap(),
                chunks
            );
            // The stored chunks are not the plaintext.
            if len > 0 {
                let c0 = app.store.incident_file_chunk(id, 0).await.unwrap().unwrap();
                assert!(!c0.windows(64).any(|w| w == &data[..64]));
            }
            let mut r = app.open_evidence(&e.privacy, e.incident, id).await.unwrap();
            let mut back = Vec::new();
            r.copy_to(&mut back).await.unwrap();
            assert_eq!(back, data, "{} len {len}", e.db.name);
        }
        // Every upload queued its scan.
        let jobs: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE kind = $1")
            .bind(SCAN_JOB)
            .fetch_one(app.store.pool())
            .await
            .unwrap();
        assert_eq!(jobs, 3);
        e.db.cleanup().await;
    }
}

#[tokio::test]
async fn swapped_moved_truncated_and_altered_chunks_are_detected() {
    for e in envs(512 << 20).await {
        let app = &e.app;
        let data = noise(3 * CHUNK + 10, 7);
        let a = attach(&e, "a.bin", &data).await.unwrap();
        let b = attach(&e, "b.bin", &noise(3 * CHUNK + 10, 8))
            .await
            .unwrap();
        let chunk =
            |f, n| async move { app.store.incident_file_chunk(f, n).await.unwrap().unwrap() };
        assert_eq!(app.read_evidence_unchecked(a).await.unwrap(), data);

        // Two chunks swapped.
        let (c0, c1) = (chunk(a, 0).await, chunk(a, 1).await);
        app.store
            .replace_incident_file_chunk(a, 0, &c1)
            .await
            .unwrap();
        app.store
            .replace_incident_file_chunk(a, 1, &c0)
            .await
            .unwrap();
        assert!(
            is_integrity(&app.read_evidence_unchecked(a).await),
            "{}",
            e.db.name
        );
        app.store
            .replace_incident_file_chunk(a, 0, &c0)
            .await
            .unwrap();
        app.store
            .replace_incident_file_chunk(a, 1, &c1)
            .await
            .unwrap();
        assert_eq!(app.read_evidence_unchecked(a).await.unwrap(), data);

        // A chunk of another file in its place.
        app.store
            .replace_incident_file_chunk(a, 1, &chunk(b, 1).await)
            .await
            .unwrap();
        assert!(is_integrity(&app.read_evidence_unchecked(a).await));
        app.store
            .replace_incident_file_chunk(a, 1, &c1)
            .await
            .unwrap();

        // One byte altered.
        let mut bad = c1.clone();
        let mid = bad.len() / 2;
        bad[mid] ^= 1;
        app.store
            .replace_incident_file_chunk(a, 1, &bad)
            .await
            .unwrap();
        assert!(is_integrity(&app.read_evidence_unchecked(a).await));
        app.store
            .replace_incident_file_chunk(a, 1, &c1)
            .await
            .unwrap();

        // Cut short: the last chunk removed, and the row's count lowered to match.
        app.store.remove_incident_file_chunk(a, 3).await.unwrap();
        assert!(is_integrity(&app.read_evidence_unchecked(a).await));
        sqlx::query("UPDATE incident_files SET chunk_count = 3, size = $1 WHERE id = $2")
            .bind((3 * CHUNK) as i64)
            .bind(a)
            .execute(app.store.pool())
            .await
            .unwrap();
        assert!(is_integrity(&app.read_evidence_unchecked(a).await));

        // The scan of a tampered file marks it failed with the integrity problem and reads
        // nothing of it.
        app.scan_evidence(a).await.unwrap();
        let row = app.store.get_incident_file(a).await.unwrap();
        assert_eq!(row.scan_state, "failed");
        assert_eq!(row.problem.as_deref(), Some("integrity"));
        assert_eq!(row.rows_found, 0);
        let shown = app.evidence_files(&e.privacy, e.incident).await.unwrap();
        let view = shown.iter().find(|f| f.id == a).unwrap();
        assert!(view.problem_ja.as_deref().unwrap().contains("完全性"));
        assert!(view.problem_en.as_deref().unwrap().contains("integrity"));
        e.db.cleanup().await;
    }
}

#[tokio::test]
async fn an_upload_over_the_limit_is_refused_naming_it_and_leaves_nothing() {
    for e in envs(CHUNK as u64 + 100).await {
        let app = &e.app;
        let err = attach(&e, "big.csv", &noise(2 * CHUNK, 3))
            .await
            .unwrap_err();
        match err {
            AppError::Invalid(p) => {
                assert!(p.ja.contains("256.1 KiB"), "{}", p.ja);
                assert!(p.en.contains("upload limit is 256.1 KiB"), "{}", p.en);
            }
            other => panic!("{other:?}"),
        }
        assert!(app
            .store
            .incident_file_rows_all(e.incident)
            .await
            .unwrap()
            .is_empty());
        assert_eq!(app.store.all_incident_file_chunks().await.unwrap(), 0);
        // Within the limit it is kept.
        attach(&e, "small.csv", b"a,b\n").await.unwrap();
        assert_eq!(app.store.incident_files(e.incident).await.unwrap().len(), 1);
        e.db.cleanup().await;
    }
}

#[tokio::test]
async fn only_managers_attach_only_viewers_read_and_every_read_is_audited() {
    for e in envs(512 << 20).await {
        let app = &e.app;
        let id = attach(&e, "list.csv", b"name\n").await.unwrap();
        // The reporter sees the incident but may not manage it; others do not see it at all.
        assert!(matches!(
            app.begin_evidence(&e.reporter, e.incident, "x.csv").await,
            Err(AppError::Denied)
        ));
        for outsider in [&e.colleague, &e.other_company] {
            assert!(matches!(
                app.begin_evidence(outsider, e.incident, "x.csv").await,
                Err(AppError::NotFound)
            ));
            assert!(matches!(
                app.evidence_files(outsider, e.incident).await,
                Err(AppError::NotFound)
            ));
            assert!(matches!(
                app.open_evidence(outsider, e.incident, id).await,
                Err(AppError::NotFound)
            ));
        }
        assert!(
            app.store
                .incident_file_rows_all(e.incident)
                .await
                .unwrap()
                .len()
                == 1
        );
        // A viewer (the reporter) lists and reads; a file id of no file, or under another
        // incident, is not found.
        assert_eq!(
            app.evidence_files(&e.reporter, e.incident)
                .await
                .unwrap()
                .len(),
            1
        );
        assert!(matches!(
            app.open_evidence(&e.reporter, e.incident, id + 100).await,
            Err(AppError::NotFound)
        ));
        for _ in 0..2 {
            app.open_evidence(&e.reporter, e.incident, id)
                .await
                .unwrap();
        }
        app.open_evidence(&e.privacy, e.incident, id).await.unwrap();
        let reads = app
            .store
            .search_audit(
                &AuditFilter {
                    action: Some("incident.file.read".into()),
                    ..AuditFilter::default()
                },
                100,
            )
            .await
            .unwrap();
        assert_eq!(reads.len(), 3, "{}", e.db.name);
        assert!(reads
            .iter()
            .all(|r| r.record.target == format!("incident:{}", e.incident)));
        let uploads = app
            .store
            .search_audit(
                &AuditFilter {
                    action: Some("incident.file.upload".into()),
                    ..AuditFilter::default()
                },
                100,
            )
            .await
            .unwrap();
        // One upload, and the reporter's refused attempt.
        assert_eq!(uploads.len(), 2);
        e.db.cleanup().await;
    }
}

#[tokio::test]
async fn attach_from_a_path_streams_the_file_from_disk() {
    for e in envs(512 << 20).await {
        let dir = temp_dir("attach");
        let path = dir.join("顧客一覧.csv");
        let data = noise(CHUNK + 5, 11);
        std::fs::write(&path, &data).unwrap();
        let id = e
            .app
            .attach_path(&Ctx::local(), e.incident, &path)
            .await
            .unwrap();
        let row = e.app.store.get_incident_file(id).await.unwrap();
        assert_eq!(row.file_name, "顧客一覧.csv");
        assert_eq!(row.uploaded_by, None);
        assert_eq!(e.app.read_evidence_unchecked(id).await.unwrap(), data);
        let missing = e
            .app
            .attach_path(&Ctx::local(), e.incident, &dir.join("none.csv"))
            .await;
        assert!(matches!(missing, Err(AppError::Invalid(_))));
        e.db.cleanup().await;
    }
}

#[tokio::test]
async fn the_scan_job_reports_nothing_personal_and_retries_a_failed_match() {
    for e in envs(512 << 20).await {
        let app = &e.app;
        let plain = attach(
            &e,
            "memo.txt",
            "会議は10時から。資料は共有フォルダに置きました。\n".as_bytes(),
        )
        .await
        .unwrap();
        let leaked = attach(
            &e,
            "list.csv",
            "氏名,メールアドレス\n山田 花子,hanako@example.jp\n".as_bytes(),
        )
        .await
        .unwrap();
        // Run the queue as the worker does.
        let mut rounds = 0;
        while app.work_once("t", &App::job_handlers()).await.unwrap() > 0 && rounds < 5 {
            rounds += 1;
        }
        let p = app.store.get_incident_file(plain).await.unwrap();
        assert_eq!(p.scan_state, "done", "{}", e.db.name);
        assert_eq!(p.problem.as_deref(), Some("no_personal_data"));
        assert_eq!(p.bytes_done, p.size);
        let views = app.evidence_files(&e.privacy, e.incident).await.unwrap();
        let pv = views.iter().find(|v| v.id == plain).unwrap();
        assert_eq!(
            pv.problem_ja.as_deref(),
            Some("個人データは見つかりませんでした")
        );
        assert!(!pv.problem_is_error);
        let l = app.store.get_incident_file(leaked).await.unwrap();
        assert_eq!((l.scan_state.as_str(), l.rows_found), ("done", 1));
        assert_eq!(l.problem, None);

        // Matching fails (its table is out of reach): the file waits with the message and the
        // job is retried; once matching works again the retry finishes it.
        sqlx::query("ALTER TABLE impact_sources RENAME TO impact_sources_away")
            .execute(app.store.pool())
            .await
            .unwrap();
        let again = attach(
            &e,
            "list2.csv",
            "氏名,メールアドレス\n佐藤 次郎,jiro@example.jp\n".as_bytes(),
        )
        .await
        .unwrap();
        app.work_once("t", &App::job_handlers()).await.unwrap();
        let a = app.store.get_incident_file(again).await.unwrap();
        assert_eq!(
            (a.scan_state.as_str(), a.problem.as_deref()),
            ("queued", Some("match_failed")),
            "{}",
            e.db.name
        );
        let views = app.evidence_files(&e.privacy, e.incident).await.unwrap();
        let av = views.iter().find(|v| v.id == again).unwrap();
        assert!(av
            .problem_ja
            .as_deref()
            .unwrap()
            .starts_with("照合に失敗しました。しばらくして自動で再試行します"));
        assert!(av.problem_is_error);
        let pending: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM jobs WHERE kind = $1 AND done_at IS NULL AND last_error IS NOT NULL",
        )
        .bind(SCAN_JOB)
        .fetch_one(app.store.pool())
        .await
        .unwrap();
        assert_eq!(pending, 1);
        sqlx::query("ALTER TABLE impact_sources_away RENAME TO impact_sources")
            .execute(app.store.pool())
            .await
            .unwrap();
        e.clock.advance_secs(3600);
        app.work_once("t", &App::job_handlers()).await.unwrap();
        let a = app.store.get_incident_file(again).await.unwrap();
        assert_eq!((a.scan_state.as_str(), a.rows_found), ("done", 1));
        assert_eq!(a.problem, None);
        // Progress as the page polls it: no names, no values.
        let progress =
            serde_json::to_string(&app.evidence_progress(&e.privacy, e.incident).await.unwrap())
                .unwrap();
        assert!(!progress.contains("list.csv") && !progress.contains("hanako"));
        e.db.cleanup().await;
    }
}

fn values(rows: &[mamori_domain::impact::LeakedRow], i: usize) -> Vec<(LeakedField, &str)> {
    rows[i]
        .values
        .iter()
        .map(|(f, v)| (*f, v.as_str()))
        .collect()
}

#[test]
fn rows_of_a_cp932_csv_with_a_header() {
    let text = "氏名,メールアドレス,電話番号,住所\r\n\
        山田 花子,hanako@example.jp,090-1111-2222,東京都千代田区千代田1-1\r\n\
        佐藤 次郎,jiro@example.jp,03-3333-4444,大阪府大阪市北区梅田1-1\r\n";
    let (bytes, _, _) = encoding_rs::SHIFT_JIS.encode(text);
    let (rows, ex) = rows_from_bytes("顧客一覧.csv", &bytes);
    assert_eq!(ex.problem, None);
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows[0].locator, "顧客一覧.csv:2");
    assert_eq!(rows[1].locator, "顧客一覧.csv:3");
    let r0 = values(&rows, 0);
    assert!(r0.contains(&(LeakedField::Name, "山田 花子")), "{r0:?}");
    assert!(r0.contains(&(LeakedField::Email, "hanako@example.jp")));
    assert!(r0.contains(&(LeakedField::Phone, "090-1111-2222")));
    assert!(r0
        .iter()
        .any(|(f, v)| *f == LeakedField::Address && v.starts_with("東京都千代田区")));
    assert_eq!(rows[1].first(LeakedField::Email), Some("jiro@example.jp"));
    assert_eq!(ex.kind_counts[mamori_detect::Kind::Email.index()], 2);
}

#[test]
fn rows_of_a_utf8_csv_without_a_header() {
    let text = "hanako@example.jp,090-1111-2222\njiro@example.jp,080-3333-4444\n\nsaburo@example.jp,070-5555-6666\n";
    let (rows, ex) = rows_from_bytes("export.csv", text.as_bytes());
    assert_eq!(ex.problem, None);
    assert_eq!(
        rows.iter().map(|r| r.locator.as_str()).collect::<Vec<_>>(),
        ["export.csv:1", "export.csv:2", "export.csv:4"]
    );
    assert_eq!(
        values(&rows, 2),
        [
            (LeakedField::Email, "saburo@example.jp"),
            (LeakedField::Phone, "070-5555-6666")
        ]
    );
}

#[test]
fn rows_of_an_xlsx_name_the_sheet_and_row() {
    let rows_in = vec![
        vec!["氏名".to_owned(), "メール".to_owned()],
        vec!["山田 花子".to_owned(), "hanako@example.jp".to_owned()],
        vec!["佐藤 次郎".to_owned(), "jiro@example.jp".to_owned()],
    ];
    let book = mamori_detect::testdata::xlsx(&rows_in);
    let (rows, ex) = rows_from_bytes("members.xlsx", &book);
    assert_eq!(ex.problem, None);
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert!(
        rows[0].locator.starts_with("members.xlsx!"),
        "{}",
        rows[0].locator
    );
    assert!(rows[0].locator.ends_with(":2"), "{}", rows[0].locator);
    assert_eq!(rows[1].first(LeakedField::Email), Some("jiro@example.jp"));
    assert_eq!(rows[1].first(LeakedField::Name), Some("佐藤 次郎"));
}

#[test]
fn a_corrupt_xlsx_is_unreadable_not_a_crash() {
    let mut book = mamori_detect::testdata::xlsx(&[vec!["a@example.jp".to_owned()]]);
    let cut = book.len() / 2;
    book.truncate(cut);
    let (rows, ex) = rows_from_bytes("broken.xlsx", &book);
    assert!(rows.is_empty());
    match ex.problem {
        Some(p @ EvidenceProblem::Unreadable { .. }) => {
            assert!(p
                .ja()
                .starts_with("broken.xlsx: ファイルを読み取れませんでした"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn text_lines_and_a_mail_make_rows_of_their_findings() {
    let text = "お問い合わせ: 山田 花子 様 hanako@example.jp\n本日は晴れ\n連絡先 090-1111-2222 jiro@example.jp\n";
    let (rows, _) = rows_from_bytes("notes.txt", text.as_bytes());
    assert_eq!(
        rows.iter().map(|r| r.locator.as_str()).collect::<Vec<_>>(),
        ["notes.txt:1", "notes.txt:3"]
    );
    assert_eq!(rows[1].first(LeakedField::Phone), Some("090-1111-2222"));
    assert_eq!(rows[1].first(LeakedField::Email), Some("jiro@example.jp"));

    let mail = "From: support@example.co.jp\r\nTo: hanako@example.jp\r\nSubject: =?UTF-8?B?5ZWP44GE5ZCI44KP44Gb?=\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\n\
        山田 花子 様\r\nご登録の電話番号 090-1111-2222 を確認しました。\r\n";
    let (rows, ex) = rows_from_bytes("reply.eml", mail.as_bytes());
    assert_eq!(ex.problem, None);
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].locator, "reply.eml");
    assert_eq!(rows[0].first(LeakedField::Phone), Some("090-1111-2222"));
    assert!(rows[0].first(LeakedField::Email).is_some());
}

/// A zip whose entries are flagged as encrypted (general-purpose bit 0), as a password-protected
/// archive is.
fn encrypted_zip() -> Vec<u8> {
    let mut z =
        mamori_detect::testdata::zip(&[("list.csv".to_owned(), b"hanako@example.jp\n".to_vec())]);
    let mut i = 0;
    while i + 4 <= z.len() {
        match &z[i..i + 4] {
            b"PK\x03\x04" => z[i + 6] |= 1,
            b"PK\x01\x02" => z[i + 8] |= 1,
            _ => {}
        }
        i += 1;
    }
    z
}

#[test]
fn an_encrypted_zip_is_named_as_such() {
    let (rows, ex) = rows_from_bytes("leak.zip", &encrypted_zip());
    assert!(rows.is_empty());
    let p = ex.problem.unwrap();
    assert_eq!(p, EvidenceProblem::Encrypted { entries: 1 });
    assert!(p.ja().contains("パスワードのないファイル"));
    assert!(p.en().contains("encrypted"));
    // A plain zip is read through.
    let plain = mamori_detect::testdata::zip(&[(
        "list.csv".to_owned(),
        b"hanako@example.jp,090-1111-2222\n".to_vec(),
    )]);
    let (rows, ex) = rows_from_bytes("leak.zip", &plain);
    assert_eq!(ex.problem, None);
    assert_eq!(rows[0].locator, "leak.zip!list.csv:1");
}

#[test]
fn a_zip_bomb_stops_at_the_limit_with_a_message() {
    let zeros = vec![0u8; 4 << 20];
    let bomb = mamori_detect::testdata::zip(&[
        ("a.txt".to_owned(), zeros.clone()),
        ("b.txt".to_owned(), zeros),
    ]);
    let limits = mamori_detect::Limits {
        max_expanded: 1 << 20,
        ..mamori_detect::Limits::default()
    };
    let ex = mamori_app::evidence::extract_rows(
        "bomb.zip",
        std::io::Cursor::new(&bomb),
        bomb.len() as u64,
        limits,
        0,
        &mut |_| true,
    );
    match ex.problem {
        Some(p @ EvidenceProblem::ArchiveLimit { .. }) => assert!(p.ja().contains("zip爆弾")),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_file_without_personal_data_says_so() {
    let (rows, ex) = rows_from_bytes("minutes.txt", "議事録\n次回は来週の月曜日\n".as_bytes());
    assert!(rows.is_empty());
    assert_eq!(ex.problem, Some(EvidenceProblem::NoPersonalData));
    assert_eq!(
        EvidenceProblem::NoPersonalData.ja(),
        "個人データは見つかりませんでした"
    );
    // A resumed scan skips the rows already matched.
    let text = "a@example.jp\nb@example.jp\nc@example.jp\n";
    let mut got = Vec::new();
    let ex = mamori_app::evidence::extract_rows(
        "m.txt",
        std::io::Cursor::new(text.as_bytes()),
        text.len() as u64,
        mamori_detect::Limits::default(),
        2,
        &mut |r| {
            got.push(r.locator);
            true
        },
    );
    assert_eq!(ex.rows, 3);
    assert_eq!(got, ["m.txt:3"]);
}

#[tokio::test]
async fn a_key_rotation_rewraps_file_keys_before_the_old_version_retires() {
    for e in envs(512 << 20).await {
        let app = &e.app;
        let data = noise(CHUNK + 1, 21);
        let id = attach(&e, "a.bin", &data).await.unwrap();
        assert_eq!(
            app.store.get_incident_file(id).await.unwrap().key_version,
            1
        );
        let v2 = app.rotate_vault_key(&Ctx::local()).await.unwrap();
        assert_eq!(
            app.rewrap_keys(100, None).await.unwrap(),
            1,
            "{}",
            e.db.name
        );
        let row = app.store.get_incident_file(id).await.unwrap();
        assert_eq!(row.key_version, i64::from(v2));
        assert_eq!(app.read_evidence_unchecked(id).await.unwrap(), data);
        // No record and no file uses version 1 any more: it is retired.
        let keys = app.store.vault_keys().await.unwrap();
        assert!(keys
            .iter()
            .any(|k| k.version == 1 && k.retired_at.is_some()));
        e.db.cleanup().await;
    }
}

#[tokio::test]
async fn a_cut_off_upload_is_purged_and_a_scan_held_elsewhere_waits_for_its_lease() {
    for e in envs(512 << 20).await {
        let app = &e.app;
        // An upload that never finished (the process died): removed a day later.
        let mut w = app
            .begin_evidence(&e.privacy, e.incident, "cut.csv")
            .await
            .unwrap();
        w.write(&noise(CHUNK + 10, 5)).await.unwrap();
        drop(w);
        assert_eq!(app.store.all_incident_file_chunks().await.unwrap(), 1);
        assert!(app
            .store
            .incident_files(e.incident)
            .await
            .unwrap()
            .is_empty());
        assert_eq!(app.purge_stale_uploads().await.unwrap(), 0);
        e.clock.advance_secs(25 * 3600);
        assert_eq!(app.purge_stale_uploads().await.unwrap(), 1);
        assert_eq!(app.store.all_incident_file_chunks().await.unwrap(), 0);
        assert!(app
            .store
            .incident_file_rows_all(e.incident)
            .await
            .unwrap()
            .is_empty());

        // A scan another process holds: this one waits (the job is retried) until the lease
        // runs out, then takes it over.
        let id = attach(&e, "memo.txt", b"nothing personal\n").await.unwrap();
        let now = e.clock.now_micros();
        assert!(app
            .store
            .claim_incident_file_scan(id, now, now + 600_000_000)
            .await
            .unwrap());
        let err = app.scan_evidence(id).await.unwrap_err();
        assert!(err.contains("another process"), "{err}");
        assert_eq!(
            app.store.get_incident_file(id).await.unwrap().scan_state,
            "scanning"
        );
        e.clock.advance_secs(601);
        app.scan_evidence(id).await.unwrap();
        let row = app.store.get_incident_file(id).await.unwrap();
        assert_eq!(row.scan_state, "done");
        assert_eq!(row.problem.as_deref(), Some("no_personal_data"));
        // Done is done: running the job again changes nothing.
        app.scan_evidence(id).await.unwrap();

        // A scan that fails for another reason (here a damaged key) gives the file back at
        // once: the retry runs it again instead of waiting for the lease.
        let id = attach(&e, "memo2.txt", b"nothing\n").await.unwrap();
        app.store.set_incident_file_key(id, "!!", 1).await.unwrap();
        for _ in 0..2 {
            let err = app.scan_evidence(id).await.unwrap_err();
            assert!(err.contains("bad key"), "{err}");
            assert_eq!(
                app.store.get_incident_file(id).await.unwrap().scan_state,
                "queued"
            );
        }
        e.db.cleanup().await;
    }
}

#[test]
fn the_browser_fixture_gives_six_rows() {
    let data = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/browser/fixtures/leaked-cp932.csv"
    ))
    .unwrap();
    let (rows, ex) = rows_from_bytes("leaked-cp932.csv", &data);
    assert_eq!(ex.problem, None);
    assert_eq!(
        rows.len(),
        6,
        "{:?}",
        rows.iter().map(|r| &r.locator).collect::<Vec<_>>()
    );
    assert!(rows.iter().all(|r| r.first(LeakedField::Name).is_some()));
}

#[tokio::test]
async fn a_resumed_scan_skips_the_rows_done_and_batches_sent_again_change_nothing() {
    for e in envs(512 << 20).await {
        let app = &e.app;
        let mut csv = String::from("メールアドレス,電話番号\n");
        for i in 0..12_000 {
            let _ = writeln!(
                csv,
                "user{i}@example.jp,090-{:04}-{:04}",
                i / 1000,
                i % 10000
            );
        }
        let id = attach(&e, "leak.csv", csv.as_bytes()).await.unwrap();
        app.scan_evidence(id).await.unwrap();
        let row = app.store.get_incident_file(id).await.unwrap();
        assert_eq!(
            (row.scan_state.as_str(), row.rows_found),
            ("done", 12_000),
            "{}",
            e.db.name
        );
        assert_eq!(row.bytes_done, row.size);
        assert!(
            row.kind_counts.contains("\"email\":12000"),
            "{}",
            row.kind_counts
        );
        let sources = app.store.impact_source_count(e.incident).await.unwrap();
        let total = app
            .impact_counts(&e.privacy, e.incident)
            .await
            .unwrap()
            .total;
        assert_eq!(total, 12_000);

        // As after a restart in the middle: 5,000 rows were confirmed; the scan goes on from
        // there (7,000 rows sent), and sending rows again records nothing twice.
        for done in [5_000, 0] {
            sqlx::query(
                "UPDATE incident_files SET scan_state = 'queued', rows_found = $1 WHERE id = $2",
            )
            .bind(done)
            .bind(id)
            .execute(app.store.pool())
            .await
            .unwrap();
            app.scan_evidence(id).await.unwrap();
            let row = app.store.get_incident_file(id).await.unwrap();
            assert_eq!(row.rows_found, 12_000);
            assert_eq!(
                app.store.impact_source_count(e.incident).await.unwrap(),
                sources
            );
            assert_eq!(
                app.impact_counts(&e.privacy, e.incident)
                    .await
                    .unwrap()
                    .total,
                total
            );
        }
        e.db.cleanup().await;
    }
}
