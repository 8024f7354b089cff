//! The report to the PPC through the real router: the editor with its stages and missing
//! items, saving versions with CSRF, submitting once, the printable page, PDF and JSON
//! downloads, and who may do what.

use axum::http::{header, StatusCode};
use axum::Router;
use mamori_app::clock::{Clock, ManualClock};
use mamori_app::incident::FirstReportInput;
use mamori_app::{Ctx, Settings};
use mamori_store::testing::TestDb;
use std::collections::HashMap;
use std::sync::Arc;

mod common;
use common::{Client, Resp};

// 2026-11-24T01:00:00Z = 2026-11-24 10:00 JST.
const T0: i64 = 1_795_482_000_000_000;

struct Env {
    router: Router,
    clock: Arc<ManualClock>,
    passwords: HashMap<String, String>,
    db: TestDb,
    incident: i64,
    ref_no: String,
    drill: i64,
}

/// The demo company; a reportable incident (card numbers of 1,200 customers) and a drill, both
/// filed by 山田 (バイヤー部).
async fn envs() -> Vec<Env> {
    let mut out = Vec::new();
    for db in TestDb::all().await {
        let (app, clock, passwords) = common::demo_app(&db, T0, Settings::default()).await;
        let yamada = app
            .store
            .find_user_by_login("yamada")
            .await
            .unwrap()
            .unwrap();
        let ctx = Ctx::user(yamada, "10.0.0.1");
        let file = |drill: bool| FirstReportInput {
            drill,
            title: "ECサイトの決済画面改ざん".into(),
            event: "leak".into(),
            certainty: "confirmed".into(),
            items: vec!["name".into(), "credit_card_number".into()],
            persons: "1,200".into(),
            description: "決済画面に不正なスクリプトが埋め込まれていた".into(),
            ..FirstReportInput::default()
        };
        let (incident, ref_no) = app.file_first_report(&ctx, &file(false)).await.unwrap();
        let (drill, _) = app.file_first_report(&ctx, &file(true)).await.unwrap();
        let router = mamori_web::router(app.clone(), mamori_web::WebConfig::default());
        out.push(Env {
            router,
            clock,
            passwords,
            db,
            incident,
            ref_no,
            drill,
        });
    }
    out
}

impl<'a> Client<'a> {
    async fn login(env: &'a Env, login: &str) -> Client<'a> {
        let mut c = Client::new(&env.router);
        c.sign_in(login, &env.passwords[login], env.clock.now_secs())
            .await;
        c
    }
}

const FIELDS: [&str; 10] = [
    "summary",
    "items",
    "persons",
    "cause",
    "secondary_damage",
    "response_to_persons",
    "publication",
    "prevention_done",
    "prevention_planned",
    "other",
];

/// A form with every item filled except those named.
fn form<'a>(stage: &'a str, empty: &[&str]) -> Vec<(&'a str, String)> {
    let mut out = vec![("stage", stage.to_owned())];
    for f in FIELDS {
        let text = if empty.contains(&f) {
            String::new()
        } else {
            format!("{f}について<記載>")
        };
        out.push((f, text));
    }
    out
}

/// Whether the page holds `text` HTML-escaped (and never raw).
fn escaped(body: &str, text: &str) -> bool {
    let a = text.replace('<', "&lt;").replace('>', "&gt;");
    let b = text.replace('<', "&#60;").replace('>', "&#62;");
    !body.contains(text) && (body.contains(&a) || body.contains(&b))
}

async fn post_form(c: &mut Client<'_>, path: &str, fields: Vec<(&str, String)>) -> Resp {
    c.post(path, &pairs(&fields)).await
}

/// `fields` as the client posts them.
fn pairs<'a>(fields: &'a [(&'a str, String)]) -> Vec<(&'a str, &'a str)> {
    fields.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

#[tokio::test]
async fn the_editor_shows_the_draft_and_saves_versions_of_both_stages() {
    for env in envs().await {
        let name = env.db.name;
        let page = format!("/incidents/{}/ppc", env.incident);
        let mut c = Client::login(&env, "tanaka").await;

        let r = c.get(&page).await;
        assert_eq!(r.status, StatusCode::OK, "{name}: {}", r.body);
        let body = &r.body;
        assert!(body.contains("個人情報保護委員会への報告"));
        assert!(body.contains("data-testid=\"ppc-form\""));
        // Tab titles name the incident, not just 「事故」 (issue 13, item 10).
        let subject = format!("{} ECサイトの決済画面改ざん", env.ref_no);
        assert!(
            body.contains(&format!(
                "<title>個人情報保護委員会への報告 · {subject} — mamori 守り</title>"
            )),
            "{body}"
        );
        let incident = c.get(&format!("/incidents/{}", env.incident)).await;
        assert!(
            incident
                .body
                .contains(&format!("<title>{subject} — mamori 守り</title>")),
            "{}",
            incident.body
        );
        assert!(body.contains("data-testid=\"ppc-basis\">まだ保存されていません"));
        assert!(body.contains("data-testid=\"ppc-no-versions\""));
        // The nine items, in the rule's order, as textareas under their numbered headings.
        let mut at = 0;
        for f in FIELDS {
            let needle = format!("name=\"{f}\"");
            let pos = body[at..]
                .find(&needle)
                .unwrap_or_else(|| panic!("{f} in order"));
            at += pos + needle.len();
        }
        assert!(body.contains("1. 概要"));
        assert!(body.contains("9. その他参考となる事項"));
        // The draft is filled from the incident; item 9 is still empty and flagged.
        assert!(body.contains("ECサイトの決済画面改ざん"));
        assert!(body.contains("1,200人（最大）"));
        assert!(body.contains("data-testid=\"missing-other\""));
        assert!(!body.contains("data-testid=\"missing-summary\""));
        // The note counts the empty items and names them, so 「9」 is not read as nine items.
        assert!(
            body.contains("未記入の項目: 1件 — 第9項「その他参考となる事項」"),
            "{body}"
        );
        c.get(&format!("/lang/en?next={page}")).await;
        let r = c.get(&page).await;
        assert!(
            r.body
                .contains("Empty items: 1 item — No. 9 (Anything else that helps)"),
            "{}",
            r.body
        );
        c.get(&format!("/lang/ja?next={page}")).await;
        assert!(
            body.contains("2026-11-28"),
            "the preliminary due date (day 5)"
        );

        // Save: a new version, back to the stage with a message.
        let r = post_form(&mut c, &page, form("preliminary", &["other"])).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{name}: {}", r.body);
        assert_eq!(r.location, format!("{page}?stage=preliminary&saved=1"));
        let r = c.get(&r.location).await;
        let body = &r.body;
        assert!(body.contains("第1版として保存しました"));
        assert!(body.contains("data-testid=\"ppc-version-1\""));
        assert!(body.contains("最新の第1版を表示しています"));
        // Saved text is escaped on the way out.
        assert!(escaped(body, "summaryについて<記載>"), "{body}");
        let r = post_form(&mut c, &page, form("preliminary", &[])).await;
        assert_eq!(r.location, format!("{page}?stage=preliminary&saved=2"));

        // The final report starts from the latest preliminary version…
        let r = c.get(&format!("{page}?stage=final")).await;
        let body = &r.body;
        assert_eq!(r.status, StatusCode::OK);
        assert!(body.contains("速報の第2版をもとにしています"), "{name}");
        assert!(body.contains("name=\"stage\" value=\"final\""));
        assert!(body
            .contains("class=\"ppc-tab active\" aria-current=\"page\" data-testid=\"tab-final\""));
        // …and is refused with an empty item, naming it, showing what was typed.
        let r = post_form(&mut c, &page, form("final", &["cause"])).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{name}");
        let body = &r.body;
        assert!(body.contains("4「原因」が空です"), "{body}");
        assert!(body.contains(
            "id=\"f-cause\" name=\"cause\" rows=\"4\" maxlength=\"8000\" aria-invalid=\"true\""
        ));
        assert!(escaped(body, "summaryについて<記載>"));
        assert!(body.contains("data-testid=\"missing-cause\""));
        let r = post_form(&mut c, &page, form("final", &[])).await;
        assert_eq!(r.location, format!("{page}?stage=final&saved=1"), "{name}");

        // An unknown stage is not found.
        let r = post_form(&mut c, &page, form("interim", &[])).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        let r = c.get(&format!("{page}?stage=interim")).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        // Without the CSRF token nothing is saved.
        let mut bad = vec![("csrf", "wrong".to_owned())];
        bad.extend(form("preliminary", &[]));
        let r = c.post_raw(&page, &pairs(&bad)).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let r = c.get(&page).await;
        assert!(!r.body.contains("data-testid=\"ppc-version-3\""));
        env.db.cleanup().await;
    }
}

#[tokio::test]
async fn submitting_once_and_who_may_do_what() {
    for env in envs().await {
        let name = env.db.name;
        let page = format!("/incidents/{}/ppc", env.incident);
        let submit = format!("{page}/preliminary/1/submit");
        let mut c = Client::login(&env, "tanaka").await;
        c.get(&page).await;
        post_form(&mut c, &page, form("preliminary", &[])).await;
        let r = c.get(&page).await;
        assert!(r.body.contains("data-testid=\"ppc-submit-1\""));

        // Others see the page without the forms and are refused when they post.
        for login in ["yamada", "watanabe"] {
            let mut o = Client::login(&env, login).await;
            let r = o.get(&page).await;
            assert_eq!(r.status, StatusCode::OK, "{name} {login}");
            let body = &r.body;
            assert!(body.contains("data-testid=\"ppc-readonly\""));
            assert!(!body.contains("data-testid=\"ppc-form\""));
            assert!(!body.contains("ppc-submit-1"));
            let r = o.post(&submit, &[]).await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{name} {login}");
            let r = post_form(&mut o, &page, form("preliminary", &[])).await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{name} {login}");
        }
        // Somebody who may not see the incident does not learn that it exists.
        let mut k = Client::login(&env, "kobayashi").await;
        k.get("/").await;
        for path in [
            page.clone(),
            format!("{page}/preliminary/1/pdf"),
            format!("{page}/preliminary/1/json"),
            format!("{page}/preliminary/1/print"),
        ] {
            assert_eq!(k.get(&path).await.status, StatusCode::NOT_FOUND, "{path}");
        }
        assert_eq!(k.post(&submit, &[]).await.status, StatusCode::NOT_FOUND);

        // Ten minutes later (sessions end after 30 idle minutes).
        env.clock.advance_secs(600);
        let r = c.post(&submit, &[]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{name}: {}", r.body);
        assert_eq!(r.location, format!("{page}?stage=preliminary&submitted=1"));
        let r = c.get(&r.location).await;
        let body = &r.body;
        assert!(body.contains("第1版を提出済みにしました"));
        assert!(
            body.contains("2026-11-24 10:10:00 田中 美咲（tanaka）"),
            "{body}"
        );
        assert!(!body.contains("data-testid=\"ppc-submit-1\""));
        assert!(
            body.contains("data-testid=\"ppc-obligation\">完了"),
            "{name}"
        );

        // A second submission is refused with a message.
        let r = c.post(&submit, &[]).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{name}");
        assert!(r.body.contains("すでに提出済みです"));
        // An unknown version is not found.
        let r = c.post(&format!("{page}/final/7/submit"), &[]).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        env.db.cleanup().await;
    }
}

#[tokio::test]
async fn printable_page_pdf_and_json() {
    for env in envs().await {
        let name = env.db.name;
        let mut c = Client::login(&env, "tanaka").await;
        for id in [env.incident, env.drill] {
            let page = format!("/incidents/{id}/ppc");
            c.get(&page).await;
            post_form(&mut c, &page, form("preliminary", &["other"])).await;
        }
        let base = format!("/incidents/{}/ppc/preliminary/1", env.incident);

        // The reporter may print and download.
        let mut y = Client::login(&env, "yamada").await;
        let r = y.get(&format!("{base}/print")).await;
        assert_eq!(r.status, StatusCode::OK, "{name}: {}", r.body);
        let body = &r.body;
        assert!(body.contains("<h1>個人情報保護委員会への漏えい等報告（速報）</h1>"));
        assert!(body.contains("報告日：令和8年11月24日"));
        assert!(body.contains("data-testid=\"print-draft\""));
        assert!(!body.contains("print-drill"));
        assert!(
            !body.contains("<nav"),
            "no navigation on the printable page"
        );
        assert!(
            !body.contains("style=") && !body.contains("<style"),
            "CSP: no inline styles"
        );
        assert!(!body.contains("<script"));
        assert!(body.contains("9. その他参考となる事項</th><td class=\"pre\">（未記入）"));
        assert!(escaped(body, "summaryについて<記載>"));

        let r = y.get(&format!("{base}/pdf")).await;
        assert_eq!(r.status, StatusCode::OK, "{name}");
        assert_eq!(r.header(header::CONTENT_TYPE), "application/pdf");
        assert_eq!(
            r.header(header::CONTENT_DISPOSITION),
            format!(
                "attachment; filename=\"ppc-{}-preliminary-v1.pdf\"",
                env.ref_no
            )
        );
        assert!(r.bytes.starts_with(b"%PDF-"));
        assert!(r.bytes.windows(5).any(|w| w == b"%%EOF"), "a whole PDF");

        let r = y.get(&format!("{base}/json")).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r
            .header(header::CONTENT_TYPE)
            .starts_with("application/json"));
        assert_eq!(
            r.header(header::CONTENT_DISPOSITION),
            format!(
                "attachment; filename=\"ppc-{}-preliminary-v1.json\"",
                env.ref_no
            )
        );
        let j: serde_json::Value = serde_json::from_slice(&r.bytes).unwrap();
        assert_eq!(j["incident"], env.ref_no.as_str());
        assert_eq!(j["stage"], "preliminary");
        assert_eq!(j["version"], 1);
        let items = j["items"].as_array().unwrap();
        assert_eq!(items.len(), 10);
        assert_eq!(items[0]["number"], 1);
        assert_eq!(items[0]["text"], "summaryについて<記載>");
        assert_eq!(items[9]["number"], 9);
        assert_eq!(items[9]["text"], "");

        // A drill says so on the printed page.
        let r = y
            .get(&format!("/incidents/{}/ppc/preliminary/1/print", env.drill))
            .await;
        assert!(r.body.contains("data-testid=\"print-drill\""), "{name}");

        // Unknown stages and versions are not found.
        for path in [
            format!("/incidents/{}/ppc/interim/1/pdf", env.incident),
            format!("/incidents/{}/ppc/final/1/pdf", env.incident),
            format!("/incidents/{}/ppc/preliminary/9/json", env.incident),
        ] {
            assert_eq!(y.get(&path).await.status, StatusCode::NOT_FOUND, "{path}");
        }
        env.db.cleanup().await;
    }
}

/// Issue 13, item 10: one tap no longer marks the 速報 done. The first submit shows a
/// confirmation (「本当に完了にしますか」) and changes nothing; only the second, carrying
/// `confirm=1` and the CSRF token, records it.
#[tokio::test]
async fn marking_the_preliminary_report_done_asks_for_confirmation() {
    for env in envs().await {
        let name = env.db.name;
        let incident = format!("/incidents/{}", env.incident);
        let mut c = Client::login(&env, "tanaka").await;
        let r = c.get(&incident).await;
        let body = &r.body;
        let prefix = "個人情報保護委員会への速報</td>";
        let row = &body[body
            .find(prefix)
            .unwrap_or_else(|| panic!("{name}: {body}"))..];
        let needle = format!("action=\"{incident}/obligations/");
        let at = row.find(&needle).unwrap() + needle.len();
        let oid: String = row[at..].chars().take_while(char::is_ascii_digit).collect();
        let action = format!("{incident}/obligations/{oid}");

        // The first submit: a confirmation page, nothing recorded.
        let r = c.post(&action, &[("done", "1")]).await;
        assert_eq!(r.status, StatusCode::OK, "{name}: {}", r.body);
        assert!(r.body.contains("本当に完了にしますか"), "{}", r.body);
        assert!(r.body.contains("data-testid=\"obligation-confirm\""));
        assert!(r.body.contains("name=\"confirm\" value=\"1\""));
        assert!(r.body.contains("個人情報保護委員会への速報"));
        let page = c.get(&incident).await.body;
        let row = &page[page.find(prefix).unwrap()..];
        let row = &row[..row.find("</tr>").unwrap()];
        assert!(row.contains("data-label=\"状態\">未完了"), "{name}: {row}");

        // Without the token the confirmation is refused.
        let r = c
            .post_raw(&action, &[("done", "1"), ("confirm", "1")])
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);

        // The second submit records it.
        c.post(&action, &[("done", "1")]).await;
        let r = c.post(&action, &[("done", "1"), ("confirm", "1")]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{name}: {}", r.body);
        let page = c.get(&incident).await.body;
        let row = &page[page.find(prefix).unwrap()..];
        let row = &row[..row.find("</tr>").unwrap()];
        assert!(
            row.contains("data-label=\"状態\">完了<br>"),
            "{name}: {row}"
        );
        env.db.cleanup().await;
    }
}
