//! Leaked files on an incident through the real router, on SQLite and PostgreSQL: the streamed
//! upload (CSRF from the header or the form's first field, checked before anything is stored;
//! the size limit named; nothing left of a refused upload), the files page, the download with
//! its audit entry, and 404 for whoever does not see the incident.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use mamori_app::clock::{Clock, ManualClock};
use mamori_app::{App, Settings};
use mamori_store::audit::AuditFilter;
use mamori_store::testing::TestDb;
use std::collections::HashMap;
use std::sync::Arc;

mod common;
use common::{Client, Resp};

// 2026-11-24T01:00:00Z = 2026-11-24 10:00 JST.
const T0: i64 = 1_795_482_000_000_000;

struct Env {
    router: Router,
    app: App,
    clock: Arc<ManualClock>,
    passwords: HashMap<String, String>,
    db: TestDb,
    /// The demo incident 伊藤 (contact desk) filed.
    incident: i64,
}

async fn envs(max_upload_bytes: u64) -> Vec<Env> {
    let mut out = Vec::new();
    for db in TestDb::all().await {
        let settings = Settings {
            max_upload_bytes,
            ..Settings::default()
        };
        let (app, clock, passwords) = common::demo_app(&db, T0, settings).await;
        app.open_vault_default(true).await.unwrap();
        let incident: i64 = sqlx::query_scalar(
            "SELECT i.id FROM incidents i JOIN users u ON u.id = i.reporter_id WHERE u.login = 'ito'",
        )
        .fetch_one(app.store.pool())
        .await
        .unwrap();
        let router = mamori_web::router(app.clone(), mamori_web::WebConfig::default());
        out.push(Env {
            router,
            app,
            clock,
            passwords,
            db,
            incident,
        });
    }
    out
}

/// How the token travels with an upload.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Token<'t> {
    None,
    /// As the first form field (the plain form).
    Field(&'t str),
    /// As a field after the file (refused: it must come first).
    FieldLast(&'t str),
    /// In `X-CSRF-Token`, with `Accept: application/json` (the page's script).
    Header(&'t str),
}

async fn upload(c: &mut Client<'_>, path: &str, files: &[(&str, &[u8])], token: Token<'_>) -> Resp {
    let b = "----mamoriEvidence42";
    let field = |t: &str| {
        format!("--{b}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{t}\r\n")
            .into_bytes()
    };
    let mut body = Vec::new();
    if let Token::Field(t) = token {
        body.extend(field(t));
    }
    for (name, data) in files {
        body.extend_from_slice(
            format!("--{b}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes(),
        );
        body.extend_from_slice(data);
        body.extend_from_slice(b"\r\n");
    }
    if let Token::FieldLast(t) = token {
        body.extend(field(t));
    }
    body.extend_from_slice(format!("--{b}--\r\n").as_bytes());
    let mut req = Request::post(path)
        .header(header::COOKIE, c.cookie_header())
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={b}"),
        );
    if let Token::Header(t) = token {
        req = req
            .header("x-csrf-token", t)
            .header(header::ACCEPT, "application/json");
    }
    c.send(req.body(Body::from(body)).unwrap()).await
}

async fn login<'a>(env: &'a Env, who: &str) -> Client<'a> {
    let mut c = Client::new(&env.router);
    c.sign_in(who, &env.passwords[who], env.clock.now_secs())
        .await;
    c
}

async fn stored(env: &Env) -> (usize, i64) {
    (
        env.app
            .store
            .incident_file_rows_all(env.incident)
            .await
            .unwrap()
            .len(),
        env.app.store.all_incident_file_chunks().await.unwrap(),
    )
}

fn noise(len: usize) -> Vec<u8> {
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

#[tokio::test]
async fn an_upload_without_the_right_token_is_refused_and_nothing_is_stored() {
    for env in envs(512 << 20).await {
        let mut c = login(&env, "tanaka").await;
        let page = c.get(&format!("/incidents/{}/files", env.incident)).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        let good = c.csrf.clone();
        let path = format!("/incidents/{}/files", env.incident);
        let file: &[(&str, &[u8])] = &[("list.csv", b"hanako@example.jp\n")];
        for token in [
            Token::None,
            Token::Field("wrong-token-0123456789abcdef0123456789"),
            Token::Header("wrong-token-0123456789abcdef0123456789"),
            Token::FieldLast(&good),
        ] {
            let r = upload(&mut c, &path, file, token).await;
            assert_eq!(
                r.status,
                StatusCode::FORBIDDEN,
                "{}: {}",
                env.db.name,
                r.body
            );
            assert_eq!(stored(&env).await, (0, 0));
        }
        // With the token it is kept.
        let r = upload(&mut c, &path, file, Token::Field(&good)).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert_eq!(stored(&env).await, (1, 1));
        env.db.cleanup().await;
    }
}

#[tokio::test]
async fn an_upload_over_the_limit_is_refused_naming_it_and_leaves_no_partial_file() {
    for env in envs(300 * 1024).await {
        let mut c = login(&env, "tanaka").await;
        let path = format!("/incidents/{}/files", env.incident);
        c.get(&path).await;
        let token = c.csrf.clone();
        let big = noise(400 * 1024);
        // The plain form: the page again, with the limit in the message.
        let r = upload(&mut c, &path, &[("big.csv", &big)], Token::Field(&token)).await;
        assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", env.db.name);
        assert!(
            r.body.contains("アップロードの上限は 300 KiB です"),
            "{}",
            r.body
        );
        assert!(r.body.contains("form-errors"));
        assert_eq!(stored(&env).await, (0, 0));
        // Two files that together pass the limit: neither is kept.
        let half = noise(200 * 1024);
        let r = upload(
            &mut c,
            &path,
            &[("a.csv", &half), ("b.csv", &half)],
            Token::Header(&token),
        )
        .await;
        assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
        assert!(r.body.contains("300 KiB"), "{}", r.body);
        assert_eq!(stored(&env).await, (0, 0));
        env.db.cleanup().await;
    }
}

#[tokio::test]
async fn files_are_listed_downloaded_and_audited_for_viewers_only() {
    for env in envs(512 << 20).await {
        let mut c = login(&env, "tanaka").await;
        let path = format!("/incidents/{}/files", env.incident);
        c.get(&path).await;
        let token = c.csrf.clone();
        let data = noise(300 * 1024);
        // The script's way: the header and a JSON answer; two files in one request.
        let r = upload(
            &mut c,
            &path,
            &[("顧客一覧.csv", &data), ("memo.txt", b"nothing here\n")],
            Token::Header(&token),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let ids: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        let id = ids["files"][0].as_i64().unwrap();
        assert_eq!(ids["files"].as_array().unwrap().len(), 2);

        let page = c.get(&path).await;
        assert!(page.body.contains("顧客一覧.csv"));
        assert!(page.body.contains("data-testid=\"evidence-upload\""));
        let file_url = format!("{path}/{id}");
        for _ in 0..2 {
            let d = c.get(&file_url).await;
            assert_eq!(d.status, StatusCode::OK);
            assert_eq!(d.bytes, data);
            assert!(d
                .header(header::CONTENT_DISPOSITION)
                .starts_with("attachment;"));
            assert!(d
                .header(header::CONTENT_DISPOSITION)
                .contains("filename*=UTF-8''%E9%A1%A7"));
        }
        // The scan runs in the worker; its outcome is on the row in the reader's language.
        let mut rounds = 0;
        while env.app.work_once("t", &App::job_handlers()).await.unwrap() > 0 && rounds < 5 {
            rounds += 1;
        }
        let page = c.get(&path).await;
        assert!(
            page.body.contains("個人データは見つかりませんでした"),
            "{}",
            page.body
        );
        c.get("/lang/en?next=/").await;
        let page = c.get(&path).await;
        assert!(page.body.contains("No personal data was found"));
        assert!(page.body.contains("Leaked files"));
        c.get("/lang/ja?next=/").await;
        let progress = c.get(&format!("{path}/progress")).await;
        assert_eq!(progress.status, StatusCode::OK);
        assert!(!progress.body.contains("顧客一覧"));
        assert!(progress.body.contains("\"state\":\"done\""));

        // The reporter sees the incident: reads the files, has no upload form, may not upload.
        let mut ito = login(&env, "ito").await;
        let p = ito.get(&path).await;
        assert_eq!(p.status, StatusCode::OK);
        assert!(!p.body.contains("data-testid=\"evidence-upload\""));
        assert_eq!(ito.get(&file_url).await.bytes, data);
        let t = ito.csrf.clone();
        let r = upload(&mut ito, &path, &[("x.csv", b"x")], Token::Field(&t)).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);

        // 山田 (staff of another department) does not see the incident: 404 everywhere.
        let mut yamada = login(&env, "yamada").await;
        yamada.get("/").await;
        let t = yamada.csrf.clone();
        for url in [path.clone(), file_url.clone(), format!("{path}/progress")] {
            assert_eq!(
                yamada.get(&url).await.status,
                StatusCode::NOT_FOUND,
                "{url}"
            );
        }
        let r = upload(&mut yamada, &path, &[("x.csv", b"x")], Token::Field(&t)).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        assert_eq!(stored(&env).await.0, 2);

        // Each download is in the audit log: two by 田中, one by 伊藤.
        let reads = env
            .app
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
        assert_eq!(reads.len(), 3, "{}", env.db.name);

        // A file altered in the database is refused with the integrity message, not sent.
        let mut c0 = env
            .app
            .store
            .incident_file_chunk(id, 0)
            .await
            .unwrap()
            .unwrap();
        c0[40] ^= 0x80;
        env.app
            .store
            .replace_incident_file_chunk(id, 0, &c0)
            .await
            .unwrap();
        let d = c.get(&file_url).await;
        assert_eq!(d.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(d.body.contains("完全性"), "{}", d.body);
        assert!(!d.bytes.windows(64).any(|w| w == &data[100..164]));
        env.db.cleanup().await;
    }
}
