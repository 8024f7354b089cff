//! The desk page of an incident through the real router (SQLite and PostgreSQL): the figures
//! as SVG charts after inquiries logged by the contact desk; who may open it (the privacy
//! office, the desk of an incident it answers for, not staff); the FAQ created, refused with
//! its problems at their fields, revised, approved onto the public page and retired; the
//! exports (CSV with a BOM and formula-safe, CP932, the PDF); the mail import with a broken
//! message quarantined with its reason; the dashboard's desk card.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use mamori_app::clock::{Clock, ManualClock};
use mamori_app::desk::{Caller, InquiryInput};
use mamori_app::incident::FirstReportInput;
use mamori_app::keys::Keys;
use mamori_app::{App, Ctx, Settings};
use mamori_store::testing::{temp_dir, TestDb};
use std::collections::HashMap;
use std::sync::Arc;

mod common;
use common::{Client, Resp};

// 2026-11-24T01:00:00Z = 2026-11-24 10:00 JST.
const T0: i64 = 1_795_482_000_000_000;

struct Env {
    router: axum::Router,
    app: App,
    clock: Arc<ManualClock>,
    passwords: HashMap<String, String>,
    db: TestDb,
    /// The demo incident the desk answers for (it has a campaign).
    incident: i64,
    slug: String,
}

async fn ctx_of(app: &App, login: &str) -> Ctx {
    Ctx::user(
        app.store.find_user_by_login(login).await.unwrap().unwrap(),
        "10.0.0.1",
    )
}

async fn envs() -> Vec<Env> {
    let mut out = Vec::new();
    for db in TestDb::all().await {
        let clock = Arc::new(ManualClock::new(T0));
        let keys = Keys::load_or_create(&temp_dir("webkeys").join("k"), true).unwrap();
        let (app, _w) = App::new(db.store.clone(), keys, clock.clone(), Settings::default());
        // With the vault open, the demo seeds an incident with a campaign: the desk's.
        app.open_vault_default(true).await.unwrap();
        let passwords = app
            .seed_demo()
            .await
            .unwrap()
            .into_iter()
            .map(|l| (l.login, l.password))
            .collect();
        // These tests count what they log themselves: the demo's own calls, mails and FAQ
        // entry are taken away first.
        for sql in [
            "DELETE FROM inquiry_messages",
            "DELETE FROM inquiry_quarantine",
            "DELETE FROM inquiries",
            "DELETE FROM faq_versions",
            "DELETE FROM faq_entries",
        ] {
            sqlx::query(sql).execute(app.store.pool()).await.unwrap();
        }
        let desk = ctx_of(&app, "ito").await;
        let incident = app.desk_incidents(&desk).await.unwrap()[0].id;
        let privacy = ctx_of(&app, "tanaka").await;
        let campaign = app.campaigns(&privacy, incident).await.unwrap()[0].id;
        let slug = app.publish_public_notice(&privacy, campaign).await.unwrap();
        let router = mamori_web::router(app.clone(), mamori_web::WebConfig::default());
        out.push(Env {
            router,
            app,
            clock,
            passwords,
            db,
            incident,
            slug,
        });
    }
    out
}

async fn login<'a>(env: &'a Env, login: &str) -> Client<'a> {
    let mut c = Client::new(&env.router);
    c.sign_in(login, &env.passwords[login], env.clock.now_secs())
        .await;
    c
}

fn call(incident: i64, channel: &str, category: &str, name: &str, q: &str) -> InquiryInput {
    InquiryInput {
        incident_id: incident,
        channel: channel.into(),
        caller_type: "customer".into(),
        category: category.into(),
        caller: Caller {
            name: name.into(),
            contact: "090-1111-2222".into(),
        },
        question: q.into(),
        answer: "通知に記載の窓口でご案内しています".into(),
        close: true,
        handling_secs: Some(125),
        ..InquiryInput::default()
    }
}

/// Posts a file in a multipart form, the CSRF token as the form's first field.
async fn post_file(c: &mut Client<'_>, path: &str, name: &str, data: &[u8]) -> Resp {
    let b = "----mamoriDeskBoundary7";
    let mut body = Vec::new();
    body.extend_from_slice(
        format!(
            "--{b}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{}\r\n",
            c.csrf
        )
        .as_bytes(),
    );
    body.extend_from_slice(
        format!(
            "--{b}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: application/mbox\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(data);
    body.extend_from_slice(format!("\r\n--{b}--\r\n").as_bytes());
    let req = Request::post(path)
        .header(header::COOKIE, c.cookie_header())
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={b}"),
        )
        .body(Body::from(body))
        .unwrap();
    c.send(req).await
}

const MBOX: &str = "From hanako@example.jp Mon Nov 23 09:00:00 2026\r\n\
From: Hanako Yamada <hanako@example.jp>\r\n\
To: desk@mirai-tsuhan.example\r\n\
Subject: =?UTF-8?B?6YCa55+l44Gr44Gk44GE44Gm?=\r\n\
Message-ID: <q1@example.jp>\r\n\
Date: Mon, 23 Nov 2026 09:00:00 +0900\r\n\
MIME-Version: 1.0\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
\r\n\
通知が届きましたが、どうすればよいですか。\r\n\
\r\n\
From nobody Mon Nov 23 09:05:00 2026\r\n\
To: desk@mirai-tsuhan.example\r\n\
Subject: no sender\r\n\
Message-ID: <q2@example.jp>\r\n\
\r\n\
差出人のないメールです。\r\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_desk_page_figures_faq_exports_and_mail() {
    for e in envs().await {
        let id = e.incident;
        let page = format!("/incidents/{id}/desk");
        let desk = ctx_of(&e.app, "ito").await;
        // Four calls and a web form, one with text a spreadsheet would run as a formula.
        for (channel, category, name, q) in [
            ("phone", "what_to_do", "山田 花子", "何をすればよいですか"),
            (
                "phone",
                "what_to_do",
                "=HYPERLINK(\"http://x\")",
                "パスワードは変えるべき？",
            ),
            (
                "mail",
                "what_to_do",
                "佐藤 次郎",
                "不審なメールが来たらどうする",
            ),
            ("phone", "affected", "鈴木 一郎", "@SUM(A1) 私は対象ですか"),
            ("web", "items", "高橋 健", "漏れた情報は何ですか"),
        ] {
            e.app
                .log_inquiry(&desk, &call(id, channel, category, name, q))
                .await
                .unwrap();
        }

        // The privacy office: the figures and three charts, drawn on the server.
        let mut tanaka = login(&e, "tanaka").await;
        let r = tanaka.get(&page).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        for chart in ["chart-per-day", "chart-per-hour", "chart-per-category"] {
            assert!(
                r.body.contains(&format!("data-testid=\"{chart}\"><svg")),
                "{chart}"
            );
        }
        assert!(
            r.body.contains(r#"data-testid="fig-total">5件<"#),
            "{}",
            r.body
        );
        assert!(r
            .body
            .contains(r#"data-testid="fig-open">0件（うちエスカレーション中 0件）<"#));
        assert!(r.body.contains(r#"data-testid="fig-handling">2:05<"#));
        assert!(r.body.contains("10時台 5件"), "the busiest hour");
        assert!(r.body.contains(r#"role="img""#) && r.body.contains("数値を表で見る"));
        assert!(
            r.body.contains("とるべき対応：3件（60.0%）"),
            "a category bar"
        );
        // The recurring category is proposed, with its questions; the survey is there.
        assert!(r.body.contains(r#"data-testid="proposal-what_to_do""#));
        assert!(r.body.contains("不審なメールが来たらどうする"));
        assert!(r.body.contains(r#"data-testid="survey-answers">0件<"#));
        assert!(
            !r.body.contains(r#"data-testid="proposal-affected""#),
            "only one call"
        );
        // The period: 7, 14 or 30 days; anything else is 14.
        let r = tanaka.get(&format!("{page}?days=7")).await;
        assert!(
            r.body.contains(r#"aria-current="page">7日間<"#),
            "{}",
            r.body
        );
        let r = tanaka.get(&format!("{page}?days=%3Cscript%3E")).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.body.contains(r#"aria-current="page">14日間<"#));
        // The incident page links here.
        let r = tanaka.get(&format!("/incidents/{id}")).await;
        assert!(r.body.contains(&format!("href=\"{page}\"")), "{}", r.body);

        // The contact desk sees the figures, the FAQ and the mail import, not the proposals
        // (their questions are personal data), the survey or the exports.
        let mut ito = login(&e, "ito").await;
        let r = ito.get(&page).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert!(r.body.contains(r#"data-testid="chart-per-day""#));
        assert!(r.body.contains(r#"data-testid="desk-mail""#));
        for hidden in ["faq-proposals", "desk-survey", "desk-exports", "faq-new"] {
            assert!(
                !r.body.contains(&format!("data-testid=\"{hidden}\"")),
                "{hidden}"
            );
        }
        assert!(!r.body.contains("不審なメールが来たらどうする"));
        let r = ito.get(&format!("{page}/inquiries.csv")).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        // Staff: refused; nobody sees an incident that does not exist.
        let mut yamada = login(&e, "yamada").await;
        let r = yamada.get(&page).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
        assert!(!r.body.contains("<svg"));
        let r = yamada
            .post(&format!("{page}/faq"), &[("category", "items")])
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let r = tanaka.get("/incidents/999999/desk").await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);

        // An entry from the proposal, refused first: every problem at its field, as typed.
        let faq = format!("{page}/faq");
        tanaka.get(&page).await;
        let r = tanaka
            .post(
                &faq,
                &[
                    ("category", "what_to_do"),
                    ("question_ja", "不審な連絡が来たら？"),
                    ("answer_ja", "  "),
                    ("question_en", "What if somebody contacts me?"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        assert!(
            r.body.contains("入力内容を確認してください（2件）"),
            "{}",
            r.body
        );
        assert!(r.body.contains("href=\"#faq_create-what_to_do-answer_ja\""));
        assert!(r.body.contains("日本語の回答: 入力してください"));
        assert!(r
            .body
            .contains(r#"aria-describedby="faq_create-what_to_do-answer_ja-error" autofocus"#));
        assert!(r
            .body
            .contains(r#"id="faq_create-what_to_do-answer_ja-error""#));
        assert!(
            r.body.contains(">不審な連絡が来たら？</textarea>"),
            "kept as typed"
        );
        assert!(r
            .body
            .contains("英語版は質問と回答の両方を入力してください"));
        // A proposal's form for a category not (or no longer) proposed comes back as the form
        // by hand, its category chosen, so that its problems are shown.
        let r = tanaka
            .post(
                &faq,
                &[("category", "affected"), ("question_ja", "対象ですか")],
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            r.body.contains("href=\"#faq_create-new-answer_ja\""),
            "{}",
            r.body
        );
        assert!(r.body.contains(r#"<option value="affected" selected>"#));
        assert!(r.body.contains(">対象ですか</textarea>"));
        // The form by hand without a category names it too.
        let r = tanaka
            .post(
                &faq,
                &[
                    ("from", "new"),
                    ("category", ""),
                    ("question_ja", "x"),
                    ("answer_ja", "y"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            r.body.contains("href=\"#faq_create-new-category\""),
            "{}",
            r.body
        );
        assert!(r.body.contains("分類を選んでください"));
        // Saved.
        let r = tanaka
            .post(
                &faq,
                &[
                    ("category", "what_to_do"),
                    ("question_ja", "不審な連絡が来たらどうすればよいですか"),
                    (
                        "answer_ja",
                        "当社からパスワードをお尋ねすることはありません。",
                    ),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let entry: i64 = r.location.rsplit("#faq-").next().unwrap().parse().unwrap();
        assert!(r.location.starts_with(&format!("{page}?done=created")));
        let back = r.location.split('#').next().unwrap().to_owned();
        let r = tanaka.get(&back).await;
        assert!(r.body.contains("FAQ の案を保存しました。"));
        assert!(
            !r.body.contains(r#"data-testid="proposal-what_to_do""#),
            "no longer proposed"
        );
        assert!(r
            .body
            .contains(&format!("data-testid=\"faq-approve-{entry}-1\"")));
        // The revise form starts from the latest version.
        assert!(r
            .body
            .contains(">当社からパスワードをお尋ねすることはありません。</textarea>"));
        // A new version, refused when the English half is missing, then saved.
        let revise = format!("{faq}/{entry}/revise");
        let r = tanaka
            .post(
                &revise,
                &[
                    ("question_ja", "不審な連絡が来たらどうすればよいですか"),
                    (
                        "answer_ja",
                        "はい、ご注意ください。当社からパスワードをお尋ねすることはありません。",
                    ),
                    ("answer_en", "We never ask for your password."),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r
            .body
            .contains(&format!("href=\"#faq_revise-{entry}-question_en\"")));
        let r = tanaka
            .post(
                &revise,
                &[
                    ("question_ja", "不審な連絡が来たらどうすればよいですか"),
                    (
                        "answer_ja",
                        "はい、ご注意ください。当社からパスワードをお尋ねすることはありません。",
                    ),
                    ("question_en", "What if somebody contacts me?"),
                    ("answer_en", "We never ask for your password."),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert!(e.app.public_page(&e.slug).await.unwrap().faq.is_empty());
        // Approved: on the public page at once.
        let approve = format!("{faq}/{entry}/approve");
        tanaka.get(&page).await;
        let r = tanaka.post(&approve, &[("version", "2")]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let public = e.app.public_page(&e.slug).await.unwrap();
        assert_eq!(public.faq.len(), 1);
        assert!(public.faq[0]
            .answer_ja
            .starts_with("はい、ご注意ください。"));
        assert_eq!(
            public.faq[0].answer_en.as_deref(),
            Some("We never ask for your password.")
        );
        let r = tanaka.get(&page).await;
        assert!(r
            .body
            .contains(&format!("data-testid=\"faq-status-{entry}\">承認済み<")));
        assert!(r.body.contains("公開中: 第2版"));
        // The older draft is history now: it cannot be approved over the published version.
        assert!(!r.body.contains(&format!("faq-approve-{entry}-1\"")));
        assert!(r.body.contains("田中 美咲"), "who wrote and approved it");
        // Twice: refused, said in the banner; a version that is not a number too.
        let r = tanaka.post(&approve, &[("version", "2")]).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            r.body.contains("この版は承認済みか、存在しません"),
            "{}",
            r.body
        );
        let r = tanaka.post(&approve, &[("version", "二")]).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains("承認する版を選んでください"));
        // Only the office approves; an entry under another incident's address is not found.
        let r = ito.post(&approve, &[("version", "1")]).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let privacy = ctx_of(&e.app, "tanaka").await;
        let (other, _) = e
            .app
            .file_first_report(
                &privacy,
                &FirstReportInput {
                    title: "別の事故".into(),
                    event: "loss".into(),
                    certainty: "confirmed".into(),
                    items: vec!["name".into()],
                    description: "書類の紛失".into(),
                    ..FirstReportInput::default()
                },
            )
            .await
            .unwrap();
        tanaka.get(&page).await;
        let r = tanaka
            .post(&format!("/incidents/{other}/desk/faq/{entry}/retire"), &[])
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        // Retired: off the public page.
        let r = tanaka.post(&format!("{faq}/{entry}/retire"), &[]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert!(e.app.public_page(&e.slug).await.unwrap().faq.is_empty());

        // The list for the call-centre company: UTF-8 with a BOM, formula-safe.
        let r = tanaka.get(&format!("{page}/inquiries.csv?enc=utf8")).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.header(header::CONTENT_TYPE), "text/csv; charset=utf-8");
        let ref_no = e.app.store.get_incident(id).await.unwrap().ref_no;
        let disposition = r.header(header::CONTENT_DISPOSITION).to_owned();
        assert!(disposition.starts_with("attachment; filename=\""));
        assert!(
            disposition.contains(&format!("{ref_no}-inquiries.csv")),
            "{disposition}"
        );
        assert!(r.bytes.starts_with(&[0xEF, 0xBB, 0xBF]), "a BOM");
        let csv = String::from_utf8(r.bytes[3..].to_vec()).unwrap();
        assert!(csv.starts_with("番号,受付日時,"), "{csv}");
        assert!(csv.contains("\"'=HYPERLINK(\"\"http://x\"\")\""), "{csv}");
        assert!(csv.contains("'@SUM(A1) 私は対象ですか"), "{csv}");
        assert!(!csv.contains(",=HYPERLINK") && !csv.contains(",@SUM"));
        // CP932 for older Excel.
        let r = tanaka.get(&format!("{page}/inquiries.csv?enc=cp932")).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(
            r.header(header::CONTENT_TYPE),
            "text/csv; charset=Shift_JIS"
        );
        let (text, _, bad) = encoding_rs::SHIFT_JIS.decode(&r.bytes);
        assert!(!bad, "every byte is CP932");
        assert!(text.contains("お問い合わせ内容") && text.contains("漏れた情報は何ですか"));
        // The figures on one page.
        let r = tanaka.get(&format!("{page}/report.pdf")).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.header(header::CONTENT_TYPE), "application/pdf");
        assert!(r.bytes.starts_with(b"%PDF"));
        assert_eq!(
            yamada.get(&format!("{page}/report.pdf")).await.status,
            StatusCode::FORBIDDEN
        );

        // Mail: one inquiry, one mail quarantined with its reason.
        let mut ito = login(&e, "ito").await;
        ito.get(&page).await;
        let r = post_file(
            &mut ito,
            &format!("{page}/mail"),
            "inbox.mbox",
            MBOX.as_bytes(),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert!(
            r.body.contains("新しいお問い合わせ 1 件") && r.body.contains("隔離 1 通"),
            "{}",
            r.body
        );
        assert!(
            r.body.contains("2通目: 差出人（From）がありません"),
            "{}",
            r.body
        );
        let r = ito.get(&page).await;
        assert!(r.body.contains(r#"data-testid="quarantine""#));
        assert!(r.body.contains("inbox.mbox") && r.body.contains("差出人（From）がありません"));
        // The same file again: the mail is known; a form without a file is refused.
        let r = post_file(
            &mut ito,
            &format!("{page}/mail"),
            "inbox.mbox",
            MBOX.as_bytes(),
        )
        .await;
        assert!(
            r.body.contains("取り込み済みのため飛ばしたもの 1 通"),
            "{}",
            r.body
        );
        let r = post_file(&mut ito, &format!("{page}/mail"), "", b"").await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains("href=\"#mail-file\""), "{}", r.body);
        let r = post_file(
            &mut ito,
            &format!("{page}/mail"),
            "x.eml",
            b"\x00\x01 garbage",
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert!(
            r.body.contains("1通目: メールとして読めません"),
            "{}",
            r.body
        );
        // Without the token nothing is imported.
        ito.csrf = "forged".into();
        let r = post_file(
            &mut ito,
            &format!("{page}/mail"),
            "inbox.mbox",
            MBOX.as_bytes(),
        )
        .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);

        // The dashboard: the desk's week for the office and the desk, not for staff.
        let r = tanaka.get("/").await;
        assert!(r.body.contains(r#"data-testid="desk-card""#), "{}", r.body);
        assert!(r.body.contains("直近7日の受付 6件"), "{}", r.body);
        assert!(r.body.contains("href=\"/desk\""));
        let r = ito.get("/").await;
        assert!(r.body.contains(r#"data-testid="desk-card""#));
        let r = yamada.get("/").await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(!r.body.contains(r#"data-testid="desk-card""#));

        // In English: the charts and figures speak English.
        tanaka.get(&format!("/lang/en?next={page}")).await;
        let r = tanaka.get(&page).await;
        assert!(
            r.body.contains("Inquiries per day by channel (JST)"),
            "{}",
            r.body
        );
        assert!(
            r.body.contains(r#"data-testid="fig-total">6<"#),
            "{}",
            r.body
        );
        assert!(
            !r.body.contains("とるべき対応"),
            "category labels in English"
        );
        e.db.cleanup().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quiet_desk_shows_empty_charts_and_no_dashboard_card() {
    for e in envs().await {
        let mut tanaka = login(&e, "tanaka").await;
        let r = tanaka.get(&format!("/incidents/{}/desk", e.incident)).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert!(r.body.contains("この期間のお問い合わせはありません"));
        assert!(r.body.contains(r#"data-testid="fig-handling">—<"#));
        assert!(r.body.contains(r#"data-testid="no-proposals""#));
        assert!(r.body.contains(r#"data-testid="no-quarantine""#));
        let r = tanaka.get("/").await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(!r.body.contains(r#"data-testid="desk-card""#));
        // The CISO manages the incident: the page, the PDF and the inquiries as CSV; the mail
        // import belongs to the desk.
        let mut ciso = login(&e, "takahashi").await;
        let r = ciso.get(&format!("/incidents/{}/desk", e.incident)).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert!(r.body.contains(r#"data-testid="desk-pdf""#));
        assert!(r.body.contains(r#"data-testid="csv-utf8""#));
        let csv = ciso
            .get(&format!(
                "/incidents/{}/desk/inquiries.csv?enc=utf8",
                e.incident
            ))
            .await;
        assert_eq!(csv.status, StatusCode::OK);
        assert!(!r.body.contains(r#"data-testid="desk-mail""#));
        e.db.cleanup().await;
    }
}
