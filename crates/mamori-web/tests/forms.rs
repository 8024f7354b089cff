//! Refused forms (issue 13, item 6): every problem at its field (`aria-invalid`, a message tied
//! by `aria-describedby`) and in a summary above the form with a link to each field, the first
//! field focused (`autofocus`), no browser bubble (`novalidate`), 422 with every value as typed.

use axum::http::StatusCode;
use axum::Router;
use mamori_app::clock::{Clock, ManualClock};
use mamori_app::Settings;
use mamori_store::testing::TestDb;
use std::collections::HashMap;
use std::sync::Arc;

mod common;
use common::{Client, Resp};

const T0: i64 = 1_795_482_000_000_000;

struct Env {
    router: Router,
    clock: Arc<ManualClock>,
    passwords: HashMap<String, String>,
    db: TestDb,
}

async fn sqlite_env() -> Env {
    let mut all = TestDb::all().await;
    let db = all.remove(0);
    for other in all {
        other.cleanup().await;
    }
    let (app, clock, passwords) = common::demo_app(&db, T0, Settings::default()).await;
    let router = mamori_web::router(app, mamori_web::WebConfig::default());
    Env {
        router,
        clock,
        passwords,
        db,
    }
}

impl Client<'_> {
    async fn login(&mut self, env: &Env, login: &str) -> Resp {
        let now = env.clock.now_secs();
        self.sign_in(login, &env.passwords[login], now).await.0
    }
}

/// The summary's links, in order: (href, text).
fn summary_links(body: &str) -> Vec<(String, String)> {
    let start = body
        .find("data-testid=\"form-errors\"")
        .expect("a summary of the problems");
    let end = start + body[start..].find("</div>").unwrap();
    let part = &body[start..end];
    let mut out = Vec::new();
    let mut rest = part;
    while let Some(i) = rest.find("<a href=\"#") {
        rest = &rest[i + 10..];
        let href = rest[..rest.find('"').unwrap()].to_owned();
        let text_start = rest.find('>').unwrap() + 1;
        let text =
            rest[text_start..text_start + rest[text_start..].find("</a>").unwrap()].to_owned();
        out.push((href, text));
    }
    out
}

/// The opening tag of the element with `id`.
fn tag_of<'a>(body: &'a str, id: &str) -> &'a str {
    let needle = format!("id=\"{id}\"");
    let i = body
        .find(&needle)
        .unwrap_or_else(|| panic!("no element #{id}"));
    let start = body[..i].rfind('<').unwrap();
    &body[start..=i + body[i..].find('>').unwrap()]
}

/// Every linked field is marked invalid, described by its message, and the message is there.
fn assert_marked(body: &str, links: &[(String, String)]) {
    for (id, _) in links {
        let tag = tag_of(body, id);
        assert!(tag.contains("aria-invalid=\"true\""), "{tag}");
        assert!(
            tag.contains(&format!("aria-describedby=\"{id}-error\"")),
            "{tag}"
        );
        assert!(
            body.contains(&format!("<span class=\"field-error\" id=\"{id}-error\">")),
            "message of #{id}"
        );
    }
    // Exactly one field takes the focus: the first one of the summary.
    assert_eq!(body.matches(" autofocus").count(), 1, "one autofocus");
    assert!(tag_of(body, &links[0].0).contains(" autofocus"));
}

#[tokio::test]
async fn an_empty_first_report_names_its_problem_at_the_field_and_in_the_summary() {
    let env = sqlite_env().await;
    let mut c = Client::new(&env.router);
    c.login(&env, "yamada").await;
    let page = c.get("/incidents/new").await;
    assert!(page
        .body
        .contains("data-testid=\"first-report\" novalidate"));
    assert!(!page.body.contains("data-testid=\"form-errors\""));
    assert!(!page.body.contains("autofocus"));
    let csrf = c.csrf.clone();
    let r = c.post_raw("/incidents", &[("csrf", &csrf)]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body.contains("入力内容を確認してください（1件）"),
        "{}",
        r.body
    );
    assert!(r.body.contains("role=\"alert\" tabindex=\"-1\""));
    let links = summary_links(&r.body);
    assert_eq!(
        links,
        [(
            "report-description".to_owned(),
            "何が起きたかを入力してください".to_owned()
        )]
    );
    assert_marked(&r.body, &links);
    // No second banner repeating the problem.
    assert!(!r.body.contains("<p class=\"error\""));
    env.db.cleanup().await;
}

#[tokio::test]
async fn a_bad_first_report_names_every_problem_in_the_order_of_the_form_and_keeps_what_was_typed()
{
    let env = sqlite_env().await;
    let mut c = Client::new(&env.router);
    c.login(&env, "yamada").await;
    c.get("/incidents/new").await;
    let csrf = c.csrf.clone();
    let r = c
        .post_raw(
            "/incidents",
            &[
                ("csrf", &csrf),
                ("description", "   "),
                ("found_at", "きのう"),
                ("occurred_at", "2099-01-01T10:00"),
                ("found_by", "佐藤"),
                ("persons", "1000人以上"),
                ("title", "名簿の誤送信"),
                ("actions_taken", "メールの削除を依頼"),
                ("items", "name"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body.contains("入力内容を確認してください（4件）"),
        "{}",
        r.body
    );
    let links = summary_links(&r.body);
    let ids: Vec<&str> = links.iter().map(|(h, _)| h.as_str()).collect();
    assert_eq!(
        ids,
        [
            "report-description",
            "report-found_at",
            "report-occurred_at",
            "report-persons"
        ],
        "{links:?}"
    );
    assert!(
        links[1].1.contains("「きのう」は日時として読めません"),
        "{links:?}"
    );
    assert!(links[2].1.contains("発生日時が未来の日時です"), "{links:?}");
    assert!(links[3].1.contains("1000人以上"), "{links:?}");
    assert_marked(&r.body, &links);
    // Everything typed is still there.
    for kept in [
        "value=\"きのう\"",
        "value=\"2099-01-01T10:00\"",
        "value=\"佐藤\"",
        "value=\"1000人以上\"",
        "value=\"名簿の誤送信\"",
        ">メールの削除を依頼</textarea>",
        "value=\"name\" checked",
    ] {
        assert!(r.body.contains(kept), "{kept} kept");
    }
    // In English, the same problems in English.
    let r = c.get("/lang/en?next=/incidents/new").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let csrf = c.csrf.clone();
    let r = c
        .post_raw("/incidents", &[("csrf", &csrf), ("persons", "-3")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body.contains("Please check what you entered (2)"),
        "{}",
        r.body
    );
    assert!(r.body.contains("description is required"));
    env.db.cleanup().await;
}

#[tokio::test]
async fn a_bad_ledger_entry_names_every_problem_at_its_field() {
    let env = sqlite_env().await;
    let mut c = Client::new(&env.router);
    c.login(&env, "tanaka").await;
    let page = c.get("/ledger/new").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("data-testid=\"ledger-form\" novalidate"));
    let r = c
        .post(
            "/ledger",
            &[
                ("name", ""),
                ("department_id", "0"),
                ("persons", "多数"),
                ("purpose", ""),
                ("source", "会員登録フォーム"),
                ("use_until", "2030-01-01"),
                ("retain_until", "2029-01-01"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let links = summary_links(&r.body);
    let ids: Vec<&str> = links.iter().map(|(h, _)| h.as_str()).collect();
    assert_eq!(
        ids,
        [
            "ledger-name",
            "ledger-department_id",
            "ledger-persons",
            "ledger-items",
            "ledger-purpose",
            "ledger-retain_until"
        ],
        "{links:?}"
    );
    assert!(r.body.contains("入力内容を確認してください（6件）"));
    assert!(links[2].1.contains("数として読めません"), "{links:?}");
    assert_marked(&r.body, &links);
    for kept in [
        "value=\"多数\"",
        "value=\"会員登録フォーム\"",
        "value=\"2030-01-01\"",
        "value=\"2029-01-01\"",
    ] {
        assert!(r.body.contains(kept), "{kept} kept");
    }
    env.db.cleanup().await;
}

#[tokio::test]
async fn the_facts_form_of_an_incident_names_every_problem_and_keeps_what_was_typed() {
    let env = sqlite_env().await;
    let mut c = Client::new(&env.router);
    c.login(&env, "tanaka").await;
    let page = c.get("/incidents/1").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("data-testid=\"facts-form\" novalidate"));
    let version = {
        let i = page.body.find("name=\"version\" value=\"").unwrap() + 22;
        page.body[i..i + page.body[i..].find('"').unwrap()].to_owned()
    };
    let r = c
        .post(
            "/incidents/1/facts",
            &[
                ("version", &version),
                ("event", "leak"),
                ("knew_at", "2099-01-01T09:00"),
                ("persons", "1000人以上"),
                ("role", "contractor"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let links = summary_links(&r.body);
    let ids: Vec<&str> = links.iter().map(|(h, _)| h.as_str()).collect();
    assert_eq!(ids, ["facts-knew_at", "facts-persons"], "{links:?}");
    assert_marked(&r.body, &links);
    // The form is open and shows what was typed, not the stored facts.
    assert!(r
        .body
        .contains("<details open><summary><h2 class=\"inline-h\">"));
    assert!(r.body.contains("value=\"2099-01-01T09:00\""));
    assert!(r.body.contains("value=\"1000人以上\""));
    assert!(r.body.contains("<option value=\"contractor\" selected>"));
    env.db.cleanup().await;
}

#[tokio::test]
async fn an_empty_login_names_both_fields_without_a_try() {
    let env = sqlite_env().await;
    let mut c = Client::new(&env.router);
    let page = c.get("/login").await;
    assert!(page.body.contains("data-testid=\"login-form\" novalidate"));
    let r = c.post("/login", &[("login", ""), ("password", "")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let links = summary_links(&r.body);
    let ids: Vec<&str> = links.iter().map(|(h, _)| h.as_str()).collect();
    assert_eq!(ids, ["login-login", "login-password"]);
    assert_marked(&r.body, &links);
    assert!(r.body.contains("ログイン名を入力してください"));
    // Only a login name: the password is named, the name kept.
    let r = c
        .post("/login", &[("login", "yamada"), ("password", "")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("value=\"yamada\""));
    assert_eq!(summary_links(&r.body).len(), 1);
    env.db.cleanup().await;
}
