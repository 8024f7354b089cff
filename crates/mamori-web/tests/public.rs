//! The public page of an incident through the real router (SQLite and PostgreSQL): the notice,
//! the contact point, the approved FAQ and the three forms without a login; what each form
//! stores (and what it must not: a honeypot, a refused form); the same answer to the
//! "am I affected?" check for a known and an unknown address; malicious input stored as text
//! and shown escaped; body limits; the per-network limits; form stamps; proof-of-work under
//! load; the language switch; an unknown slug.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use mamori_app::clock::ManualClock;
use mamori_app::desk_faq::FaqText;
use mamori_app::keys::Keys;
use mamori_app::{App, Ctx, Settings};
use mamori_domain::abuse::pow;
use mamori_domain::impact::{LeakedField as F, LeakedRow};
use mamori_store::testing::{temp_dir, TestDb};
use mamori_web::public_guard::PublicGuard;
use mamori_web::{WebConfig, WebState};
use std::sync::Arc;
use std::time::{Duration, Instant};

mod common;
use common::{Client, Resp};

// 2026-11-24T01:00:00Z = 2026-11-24 10:00 JST.
const T0: i64 = 1_795_482_000_000_000;
const KNOWN: &str = "known.person@example.jp";

struct Env {
    router: Router,
    app: App,
    clock: Arc<ManualClock>,
    db: TestDb,
    incident: i64,
    slug: String,
    /// The privacy office (reads the inquiries, manages the FAQ).
    office: Ctx,
}

/// The demo company with its campaign (a published notice), an affected person with a known
/// e-mail address, and the router on a guard changed by `tune`.
async fn env_on(db: TestDb, tune: &dyn Fn(&mut PublicGuard)) -> Env {
    let clock = Arc::new(ManualClock::new(T0));
    let keys = Keys::load_or_create(&temp_dir("webkeys").join("k"), true).unwrap();
    let (app, _w) = App::new(db.store.clone(), keys, clock.clone(), Settings::default());
    app.open_vault_default(true).await.unwrap();
    app.seed_demo().await.unwrap();
    let tanaka = app
        .store
        .find_user_by_login("tanaka")
        .await
        .unwrap()
        .unwrap();
    let office = Ctx::user(tanaka, "10.0.0.1");
    // The demo campaign (its notice approved, letters posted, three returned): published.
    let campaign = app.store.get_campaign(1).await.unwrap();
    let incident = campaign.incident_id;
    let slug = app.publish_public_notice(&office, 1).await.unwrap();
    app.match_leaked(
        incident,
        None,
        vec![LeakedRow {
            locator: "extra.csv:2".into(),
            values: vec![(F::Name, "森 一郎".into()), (F::Email, KNOWN.into())],
        }],
    )
    .await
    .unwrap();
    let mut state = WebState::new(app.clone(), WebConfig::default());
    let mut guard = PublicGuard::new(&app.keys);
    tune(&mut guard);
    state.public = Arc::new(guard);
    Env {
        router: mamori_web::router_with(state),
        app,
        clock,
        db,
        incident,
        slug,
        office,
    }
}

async fn envs() -> Vec<Env> {
    let mut out = Vec::new();
    for db in TestDb::all().await {
        out.push(env_on(db, &|_| {}).await);
    }
    out
}

/// The value of hidden field `name` in the form posting to `action`.
fn field_in(body: &str, action: &str, name: &str) -> String {
    let start = body
        .find(&format!("action=\"{action}\""))
        .unwrap_or_else(|| panic!("no form {action}"));
    let form = &body[start..start + body[start..].find("</form>").unwrap()];
    let marker = format!("name=\"{name}\" value=\"");
    let i = form
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} in {action}"))
        + marker.len();
    form[i..i + form[i..].find('"').unwrap()].to_owned()
}

/// The `data-pow` attribute of the form posting to `action`, if any.
fn pow_of(body: &str, action: &str) -> Option<String> {
    let start = body.find(&format!("action=\"{action}\""))?;
    let tag = &body[start..start + body[start..].find('>')?];
    let i = tag.find("data-pow=\"")? + 10;
    Some(tag[i..i + tag[i..].find('"')?].to_owned())
}

impl Env {
    fn page(&self) -> String {
        format!("/notice/{}", self.slug)
    }

    fn action(&self, form: &str) -> String {
        format!("/notice/{}/{form}", self.slug)
    }

    /// Opens the page, waits like a person (three seconds) and sends `form` with its stamp.
    async fn send(&self, c: &mut Client<'_>, form: &str, fields: &[(&str, &str)]) -> Resp {
        let page = c.get(&self.page()).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        let stamp = field_in(&page.body, &self.action(form), "stamp");
        self.clock.advance_secs(3);
        let mut all = vec![("stamp", stamp.as_str())];
        all.extend_from_slice(fields);
        c.post(&self.action(form), &all).await
    }

    /// The inquiries sent through the public form (the demo's calls and mails are not).
    async fn inquiries(&self) -> Vec<mamori_app::desk::InquiryView> {
        self.app
            .inquiries(&self.office, Some(self.incident), &[], false, None, 500)
            .await
            .unwrap()
            .into_iter()
            .filter(|v| v.source == "public")
            .collect()
    }

    async fn surveys(&self) -> usize {
        self.app
            .store
            .surveys(self.incident, 500)
            .await
            .unwrap()
            .len()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_shows_notice_contact_faq_and_forms_without_login() {
    for e in envs().await {
        let mut anon = Client::new(&e.router);
        let r = anon.get(&e.page()).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let b = &r.body;
        assert!(b.contains(r#"data-testid="public-notice""#));
        assert!(b.contains("配送委託先"), "the notice's words");
        // The contact point with its hours as written, in its own card.
        assert!(b.contains(r#"data-testid="public-contact""#));
        assert!(b.contains("電話 0120-000-000（平日9時〜18時）"), "{b}");
        for form in ["check", "inquiry", "survey"] {
            assert!(b.contains(&format!("action=\"/notice/{}/{form}\"", e.slug)));
            assert!(!field_in(b, &e.action(form), "stamp").is_empty());
            assert!(!field_in(b, &e.action(form), "csrf").is_empty());
            assert_eq!(pow_of(b, &e.action(form)), None, "no load, no challenge");
        }
        for score in 1..=5 {
            assert!(b.contains(&format!(r#"type="radio" name="score" value="{score}""#)));
        }
        // The honeypot: out of reach of people and of autofill.
        assert!(b.contains(
            r#"<div class="public-extra" aria-hidden="true"><label>この欄には何も入力しないでください<input name="ref_code" value="" tabindex="-1" autocomplete="off"></label></div>"#
        ));
        // Only the proof-of-work script; no navigation of the logged-in application.
        assert!(b.contains(r#"<script src="/static/pow.js" defer></script>"#));
        assert!(!b.contains("htmx") && !b.contains("app.js"));
        assert!(!b.contains("href=\"/incidents\"") && !b.contains("/logout"));
        assert!(b.contains("株式会社みらい通販"));
        assert_eq!(r.header(header::CACHE_CONTROL), "no-store");
        // The demo's approved entry is there already.
        assert!(b.contains(r#"data-testid="public-faq""#));
        assert!(b.contains("不審な電話や郵便物が届いたらどうすればよいですか"));
        // The script it loads is served.
        let js = anon.get("/static/pow.js").await;
        assert_eq!(js.status, StatusCode::OK);
        assert!(js.body.contains("data-pow"));
        assert!(js
            .header(header::CONTENT_TYPE)
            .starts_with("text/javascript"));

        // An FAQ entry approved by the privacy office appears at once, as a <details>.
        let entry = e
            .app
            .create_faq(
                &e.office,
                e.incident,
                "items",
                &FaqText {
                    question_ja: "どの情報が漏えいしましたか".into(),
                    answer_ja: "氏名・電話番号・住所です。".into(),
                    question_en: "What information leaked?".into(),
                    answer_en: "Names, telephone numbers and addresses.".into(),
                },
            )
            .await
            .unwrap();
        let draft = anon.get(&e.page()).await;
        assert!(
            !draft.body.contains("どの情報が漏えいしましたか"),
            "a draft is not shown"
        );
        e.app.approve_faq(&e.office, entry, 1).await.unwrap();
        let r = anon.get(&e.page()).await;
        assert!(r.body.contains(r#"data-testid="public-faq""#), "{}", r.body);
        assert!(r.body.contains(
            r#"<details class="faq" lang="ja"><summary>どの情報が漏えいしましたか</summary><p class="pre">氏名・電話番号・住所です。</p></details>"#
        ));
        assert!(r.body.contains(r##"href="#faq""##));

        // English through the language switch: the page's words, the FAQ's and the contact's.
        let i = r.body.find("data-testid=\"lang-switch\"").unwrap();
        let start = r.body[..i].rfind("href=\"").unwrap() + 6;
        let switch = r.body[start..start + r.body[start..].find('"').unwrap()].to_owned();
        assert_eq!(switch, format!("/lang/en?next=/notice/{}", e.slug));
        let r = anon.get(&switch).await;
        assert_eq!(r.location, e.page());
        let r = anon.get(&e.page()).await;
        assert!(r.body.contains("<html lang=\"en\">"));
        assert!(r.body.contains("Am I affected?") && r.body.contains("Survey"));
        assert!(r.body.contains("weekdays 9:00–18:00"), "{}", r.body);
        assert!(r
            .body
            .contains("<summary>What information leaked?</summary>"));
        assert!(
            !r.body.contains("対象かどうかの確認"),
            "no Japanese label left"
        );
        anon.get("/lang/ja?next=/").await;

        // Unknown slugs: not found, whatever the method.
        let r = anon.get("/notice/nosuchnoticeatallxxxxxxxxx").await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        let r = anon.get("/notice/..%2F..%2Fetc").await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        anon.get(&e.page()).await;
        let r = anon
            .post(
                "/notice/nosuchnoticeatallxxxxxxxxx/inquiry",
                &[("contact", "a@example.jp"), ("question", "q")],
            )
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        e.db.cleanup().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inquiries_and_surveys_are_stored_and_refusals_keep_the_values() {
    for e in envs().await {
        let mut anon = Client::new(&e.router);
        assert!(e.inquiries().await.is_empty());

        // An inquiry: stored for the desk, the page says thank you at the form.
        let r = e
            .send(
                &mut anon,
                "inquiry",
                &[
                    ("name", "佐藤 陽子"),
                    ("contact", "sato@example.jp"),
                    ("question", "届いた封筒に心当たりがありません。"),
                    ("ref_code", ""),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert_eq!(r.location, format!("{}?sent=inquiry#inquiry", e.page()));
        let thanks = anon.get(&r.location).await;
        assert!(thanks.body.contains(r#"data-testid="sent-inquiry""#));
        assert!(thanks.body.contains("お問い合わせを受け付けました"));
        let stored = e.inquiries().await;
        assert_eq!(stored.len(), 1);
        assert_eq!(stored[0].question, "届いた封筒に心当たりがありません。");
        assert_eq!(stored[0].caller.contact, "sato@example.jp");
        assert_eq!(stored[0].caller.name, "佐藤 陽子");
        assert_eq!(stored[0].source, "public");

        // A script and SQL in the question: stored as text, shown escaped when the form comes
        // back (here for the missing contact), never executed.
        let payload = "<script>alert('x')</script>'); DROP TABLE inquiries;--";
        let r = e
            .send(
                &mut anon,
                "inquiry",
                &[("contact", ""), ("question", payload)],
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        assert!(!r.body.contains("<script>alert"), "escaped");
        assert!(
            r.body.contains(
                "&#60;script&#62;alert(&#39;x&#39;)&#60;/script&#62;&#39;); DROP TABLE inquiries;--"
            ),
            "{}",
            r.body
        );
        assert!(r.body.contains(r#"id="inquiry-contact""#));
        assert!(r
            .body
            .contains(r#"aria-describedby="inquiry-contact-error""#));
        assert!(r.body.contains("回答のご連絡先"), "the use case's message");
        assert!(r.body.contains(r#"data-testid="form-errors""#));
        assert_eq!(e.inquiries().await.len(), 1, "nothing stored");
        let r = e
            .send(
                &mut anon,
                "inquiry",
                &[("contact", "090-1234-5678"), ("question", payload)],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let stored = e.inquiries().await;
        assert_eq!(stored.len(), 2);
        assert_eq!(stored[0].question, payload, "stored as typed");

        // Too long: refused at its field, the text kept.
        let long = "あ".repeat(2001);
        let r = e
            .send(
                &mut anon,
                "inquiry",
                &[("contact", "a@example.jp"), ("question", &long)],
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains("2000文字以内"));
        assert!(r.body.contains(&long));

        // The survey.
        assert_eq!(e.surveys().await, 0);
        let r = e
            .send(
                &mut anon,
                "survey",
                &[("understood", "yes"), ("comment", "分かりやすかったです")],
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "no score");
        assert!(r.body.contains("満足度を1〜5から選んでください"));
        assert!(
            r.body.contains("分かりやすかったです"),
            "the comment is kept"
        );
        assert!(r
            .body
            .contains(r#"type="radio" name="understood" value="yes" checked"#));
        assert!(r.body.contains(
            r#"id="survey-score" class="public-choices" tabindex="-1" aria-invalid="true""#
        ));
        assert_eq!(e.surveys().await, 0);
        let r = e
            .send(
                &mut anon,
                "survey",
                &[
                    ("score", "4"),
                    ("understood", "yes"),
                    ("comment", "分かりやすかったです"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert_eq!(r.location, format!("{}?sent=survey#survey", e.page()));
        let rows = e.app.store.surveys(e.incident, 10).await.unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].score, 4);
        assert_eq!(rows[0].understood, Some(1));
        assert!(rows[0].comment_sealed.is_some());
        assert!(
            !rows[0]
                .comment_sealed
                .as_deref()
                .unwrap()
                .contains("分かりやすかった"),
            "sealed"
        );

        // A honeypot filled in: the same thank-you, nothing stored.
        let r = e
            .send(
                &mut anon,
                "inquiry",
                &[
                    ("contact", "bot@example.jp"),
                    ("question", "buy now"),
                    ("ref_code", "https://spam.example/"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert_eq!(r.location, format!("{}?sent=inquiry#inquiry", e.page()));
        let r = e
            .send(&mut anon, "survey", &[("score", "1"), ("ref_code", "x")])
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert_eq!(e.inquiries().await.len(), 2);
        assert_eq!(e.surveys().await, 1);

        // Without a stamp: a clear message, the values kept, a fresh stamp.
        anon.get(&e.page()).await;
        let r = anon
            .post(
                &e.action("inquiry"),
                &[
                    ("contact", "c@example.jp"),
                    ("question", "スタンプなしの質問"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains("フォームの確認用データが届きませんでした"));
        assert!(r.body.contains("スタンプなしの質問") && r.body.contains("c@example.jp"));
        let fresh = field_in(&r.body, &e.action("inquiry"), "stamp");
        assert!(fresh.starts_with("s1."));
        // Sent again with it, after a moment: accepted.
        e.clock.advance_secs(3);
        let r = anon
            .post(
                &e.action("inquiry"),
                &[
                    ("stamp", &fresh),
                    ("contact", "c@example.jp"),
                    ("question", "スタンプなしの質問"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        // The same stamp twice: refused, nothing stored twice.
        let r = anon
            .post(
                &e.action("inquiry"),
                &[
                    ("stamp", &fresh),
                    ("contact", "c@example.jp"),
                    ("question", "スタンプなしの質問"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains("既に送信されています"));
        assert_eq!(e.inquiries().await.len(), 3);
        // Sent within two seconds of opening the page: refused, kept.
        let page = anon.get(&e.page()).await;
        let stamp = field_in(&page.body, &e.action("survey"), "stamp");
        let r = anon
            .post(&e.action("survey"), &[("stamp", &stamp), ("score", "5")])
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains("送信までが短すぎた"));
        assert!(r.body.contains(r#"name="score" value="5" checked"#));
        // An expired stamp (two hours): refused with its own words.
        e.clock.advance_secs(2 * 3600);
        let r = anon
            .post(&e.action("survey"), &[("stamp", &stamp), ("score", "5")])
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains("2時間以上"), "{}", r.body);
        assert_eq!(e.surveys().await, 1);

        // Without the CSRF token: refused before anything.
        let r = anon
            .post_raw(&e.action("survey"), &[("stamp", &stamp), ("score", "5")])
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        e.db.cleanup().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_check_answers_the_same_for_any_address_and_queues_a_job() {
    for e in envs().await {
        let mut anon = Client::new(&e.router);
        let jobs = e.app.store.pending_jobs().await.unwrap();
        let mut answers = Vec::new();
        for address in [KNOWN, "nobody.at.all@example.jp"] {
            let r = e.send(&mut anon, "check", &[("email", address)]).await;
            assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
            let page = anon.get(&r.location).await;
            let i = page.body.find(r#"data-testid="sent-check""#).unwrap();
            let message = &page.body[i..i + page.body[i..].find("</p>").unwrap()];
            assert!(message.contains("確認結果を入力されたメールアドレスにお送りしました"));
            assert!(!page.body.contains(address), "the address is not shown");
            answers.push((
                r.status,
                r.location.clone(),
                r.body.clone(),
                message.to_owned(),
            ));
        }
        assert_eq!(answers[0], answers[1], "the same answer for both");
        assert_eq!(e.app.store.affected_checks_pending().await.unwrap(), 2);
        assert_eq!(e.app.store.pending_jobs().await.unwrap(), jobs + 2);

        // A malformed address is the one refusal on screen; the value is kept.
        let r = e
            .send(&mut anon, "check", &[("email", "not-an-address")])
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains("メールアドレスの形式が正しくありません"));
        assert!(r.body.contains(r#"value="not-an-address""#));
        assert!(r
            .body
            .contains(r#"aria-describedby="check-email-error" autofocus"#));
        assert_eq!(e.app.store.affected_checks_pending().await.unwrap(), 2);

        // The same address asked about too often (the use case's limit per address, from
        // another network so that the network's own limit is not what answers): 429.
        let mut other = Client::new(&e.router).peer("198.51.100.1");
        let mut statuses = Vec::new();
        let mut last = None;
        for _ in 0..3 {
            let r = e.send(&mut other, "check", &[("email", KNOWN)]).await;
            statuses.push(r.status);
            last = Some(r);
        }
        assert_eq!(
            statuses,
            [
                StatusCode::SEE_OTHER,
                StatusCode::SEE_OTHER,
                StatusCode::TOO_MANY_REQUESTS
            ]
        );
        let r = last.unwrap();
        assert!(r.body.contains(r#"data-testid="public-throttled""#));
        assert!(!r.header(header::RETRY_AFTER).is_empty());
        assert_eq!(e.app.store.affected_checks_pending().await.unwrap(), 4);
        e.db.cleanup().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_over_the_limit_are_refused() {
    let e = env_on(TestDb::sqlite().await, &|_| {}).await;
    let mut anon = Client::new(&e.router);
    anon.get(&e.page()).await;
    let (csrf, cookies) = (anon.csrf.clone(), anon.cookie_header());
    let send = |size: usize| {
        let body = format!(
            "csrf={csrf}&contact=a%40example.jp&question={}",
            "a".repeat(size)
        );
        Request::post(e.action("inquiry"))
            .header(header::COOKIE, cookies.as_str())
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap()
    };
    // 10 MB: refused without reading it all.
    let big = send(10 * 1024 * 1024);
    let started = Instant::now();
    let r = anon.send(big).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(r.body.contains("送信されたデータが大きすぎます"));
    // 100 KB: under the site's limit, over the public forms' 64 KiB.
    let r = anon.send(send(100 * 1024)).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.body);
    // 60 KB passes the size check (and is then refused: it has no stamp).
    let r = anon.send(send(60 * 1024)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("フォームの確認用データが届きませんでした"));
    assert!(e.inquiries().await.is_empty());
    e.db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_network_is_limited_and_told_when_to_retry() {
    let e = env_on(TestDb::sqlite().await, &|g| g.pow_bits = 8).await;
    let mut bot = Client::new(&e.router).peer("203.0.113.7");
    bot.get(&e.page()).await;
    let mut statuses = Vec::new();
    for i in 0..100 {
        let q = format!("質問 {i}");
        let r = bot
            .post(
                &e.action("inquiry"),
                &[("contact", "bot@example.jp"), ("question", &q)],
            )
            .await;
        statuses.push(r.status);
        if i == 20 {
            assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
            assert_eq!(r.header(header::RETRY_AFTER), "600");
            assert!(r.body.contains("約10分後（10:10頃）以降"), "{}", r.body);
            assert!(
                r.body.contains("0120-000-000"),
                "the contact point for what is urgent"
            );
        }
    }
    assert!(statuses[..20]
        .iter()
        .all(|s| *s == StatusCode::UNPROCESSABLE_ENTITY));
    assert!(statuses[20..]
        .iter()
        .all(|s| *s == StatusCode::TOO_MANY_REQUESTS));
    // Another address of the same /24 shares the counter; another network does not.
    let mut neighbour = Client::new(&e.router).peer("203.0.113.200");
    neighbour.get(&e.page()).await;
    let r = neighbour.post(&e.action("survey"), &[("score", "3")]).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    // The flood (over 30 submissions in a minute) put the process under load: a person of
    // another network gets a challenge with the form, and is accepted with it solved.
    let mut person = Client::new(&e.router).peer("198.51.100.20");
    let page = person.get(&e.page()).await;
    let action = e.action("survey");
    let token = pow_of(&page.body, &action).expect("under load");
    let stamp = field_in(&page.body, &action, "stamp");
    let solution = (0u64..10_000_000)
        .map(|n| n.to_string())
        .find(|s| pow::solves(&token, s, 8))
        .unwrap();
    e.clock.advance_secs(3);
    let r = person
        .post(
            &action,
            &[
                ("stamp", &stamp),
                ("pow_token", &token),
                ("pow", &solution),
                ("score", "3"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(e.inquiries().await.is_empty());
    assert_eq!(e.surveys().await, 1);
    // A minute later the load is over (the limits of the bot's network are not).
    e.clock.advance_secs(61);
    let page = person.get(&e.page()).await;
    assert_eq!(pow_of(&page.body, &action), None);
    let r = neighbour.post(&e.action("survey"), &[("score", "3")]).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);

    // The check: five per network and hour, in English when the visitor reads English.
    let mut checker = Client::new(&e.router).peer("[2001:db8:5:6::1]");
    checker.get("/lang/en?next=/").await;
    for i in 0..5 {
        let r = e
            .send(
                &mut checker,
                "check",
                &[("email", &format!("p{i}@example.jp"))],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    }
    let r = e
        .send(&mut checker, "check", &[("email", "p9@example.jp")])
        .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(r.body.contains("Please try again in about"), "{}", r.body);
    let retry: u64 = r.header(header::RETRY_AFTER).parse().unwrap();
    assert!(retry > 3000 && retry <= 3600, "{retry}");
    // Another address of the same /64 too.
    let mut same64 = Client::new(&e.router).peer("[2001:db8:5:6:ffff::9]");
    let r = e
        .send(&mut same64, "check", &[("email", "p10@example.jp")])
        .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(e.app.store.affected_checks_pending().await.unwrap(), 5);
    // The window passes.
    e.clock.advance_secs(3600);
    let r = e
        .send(&mut same64, "check", &[("email", "p10@example.jp")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    e.db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_load_a_solved_challenge_is_required() {
    let e = env_on(TestDb::sqlite().await, &|g| {
        g.load_threshold = 0;
        g.pow_bits = 8;
    })
    .await;
    let mut anon = Client::new(&e.router);
    let page = anon.get(&e.page()).await;
    let action = e.action("inquiry");
    let token = pow_of(&page.body, &action).expect("a challenge under load");
    assert!(page.body.contains(r#"data-pow-bits="8""#));
    assert_eq!(pow::bits_of(&token), Some(8));
    assert_eq!(field_in(&page.body, &action, "pow_token"), token);
    let stamp = field_in(&page.body, &action, "stamp");
    e.clock.advance_secs(3);
    // Without a solution (no script): refused, the values kept, a new challenge.
    let r = anon
        .post(
            &action,
            &[
                ("stamp", &stamp),
                ("pow_token", &token),
                ("pow", ""),
                ("contact", "p@example.jp"),
                ("question", "計算なしの質問"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("JavaScript を有効にし"), "{}", r.body);
    assert!(r.body.contains("計算なしの質問"));
    let token2 = pow_of(&r.body, &action).unwrap();
    assert_ne!(token2, token);
    // A wrong solution: refused.
    let wrong = (0u64..10_000_000)
        .map(|n| n.to_string())
        .find(|s| !pow::solves(&token, s, 8))
        .unwrap();
    let r = anon
        .post(
            &action,
            &[
                ("stamp", &stamp),
                ("pow_token", &token),
                ("pow", &wrong),
                ("contact", "p@example.jp"),
                ("question", "計算なしの質問"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(e.inquiries().await.is_empty());
    // Solved as pow.js does (the smallest counter): accepted.
    let solution = (0u64..10_000_000)
        .map(|n| n.to_string())
        .find(|s| pow::solves(&token, s, 8))
        .unwrap();
    let r = anon
        .post(
            &action,
            &[
                ("stamp", &stamp),
                ("pow_token", &token),
                ("pow", &solution),
                ("contact", "p@example.jp"),
                ("question", "計算した質問"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(e.inquiries().await.len(), 1);
    // The same challenge again, with a fresh stamp: used.
    let page = anon.get(&e.page()).await;
    let stamp = field_in(&page.body, &action, "stamp");
    e.clock.advance_secs(3);
    let r = anon
        .post(
            &action,
            &[
                ("stamp", &stamp),
                ("pow_token", &token),
                ("pow", &solution),
                ("contact", "p@example.jp"),
                ("question", "二度目"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("既に送信されています"));
    assert_eq!(e.inquiries().await.len(), 1);
    e.db.cleanup().await;
}
