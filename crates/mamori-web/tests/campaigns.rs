//! The notice and campaign pages through the real router (SQLite and PostgreSQL): approval only
//! by an executive or the CISO, the notice form's problems named at their fields, the address
//! list refusing a character CP932 cannot hold (named, with a substitute the office may apply),
//! the call list's form, the contact desk's way in from the home page, the public notice
//! without a login, and nobody else's campaign.

use axum::http::StatusCode;
use axum::Router;
use mamori_app::clock::{Clock, ManualClock};
use mamori_app::incident::FirstReportInput;
use mamori_app::keys::Keys;
use mamori_app::{App, Ctx, Settings};
use mamori_domain::impact::{LeakedField as F, LeakedRow};
use mamori_store::testing::{temp_dir, TestDb};
use std::collections::HashMap;
use std::sync::Arc;

mod common;
use common::Client;

// 2026-11-24T01:00:00Z = 2026-11-24 10:00 JST.
const T0: i64 = 1_795_482_000_000_000;

struct Env {
    router: Router,
    app: App,
    clock: Arc<ManualClock>,
    passwords: HashMap<String, String>,
    db: TestDb,
    incident: i64,
}

async fn envs() -> Vec<Env> {
    let mut out = Vec::new();
    for db in TestDb::all().await {
        let clock = Arc::new(ManualClock::new(T0));
        let keys = Keys::load_or_create(&temp_dir("webkeys").join("k"), true).unwrap();
        let (app, _w) = App::new(db.store.clone(), keys, clock.clone(), Settings::default());
        app.open_vault_default(true).await.unwrap();
        let passwords = app
            .seed_demo()
            .await
            .unwrap()
            .into_iter()
            .map(|l| (l.login, l.password))
            .collect();
        let tanaka = app
            .store
            .find_user_by_login("tanaka")
            .await
            .unwrap()
            .unwrap();
        let (incident, _) = app
            .file_first_report(
                &Ctx::user(tanaka, "10.0.0.1"),
                &FirstReportInput {
                    title: "宛名ラベルの誤送付".into(),
                    event: "leak".into(),
                    certainty: "confirmed".into(),
                    items: vec!["name".into(), "address".into()],
                    description: "宛名ラベルの一覧を取引先に誤って送った".into(),
                    ..FirstReportInput::default()
                },
            )
            .await
            .unwrap();
        // Two persons the vault does not know, one with a name CP932 cannot hold.
        let rows = vec![
            LeakedRow {
                locator: "labels.csv:2".into(),
                values: vec![
                    (F::Name, "𠮷田 太郎".into()),
                    (F::PostalCode, "100-0001".into()),
                    (F::Address, "東京都千代田区千代田1-1".into()),
                ],
            },
            LeakedRow {
                locator: "labels.csv:3".into(),
                values: vec![
                    (F::Name, "山田 花子".into()),
                    (F::PostalCode, "530-0001".into()),
                    (F::Address, "大阪府大阪市北区梅田1-2-3".into()),
                ],
            },
        ];
        app.match_leaked(incident, Some(1), rows).await.unwrap();
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

async fn login<'a>(env: &'a Env, login: &str) -> Client<'a> {
    let mut c = Client::new(&env.router);
    c.sign_in(login, &env.passwords[login], env.clock.now_secs())
        .await;
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notice_campaign_print_list_calls_and_public_page() {
    for e in envs().await {
        let id = e.incident;
        let notice = format!("/incidents/{id}/notice");
        let mut tanaka = login(&e, "tanaka").await;
        let r = tanaka.get(&notice).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.body.contains(r#"data-testid="notice-draft""#));
        // Every part too long is named at its field, in the order of the form.
        let long = "あ".repeat(4001);
        let r = tanaka
            .post(
                &notice,
                &[
                    ("ja_subject", &long),
                    ("ja_what_happened", "起きたこと"),
                    ("ja_cause", &long),
                    ("ja_secondary_damage", "なし"),
                    ("ja_what_to_do", "ご注意ください"),
                    ("ja_contact", "窓口 0120-000-000"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            r.body.contains("入力内容を確認してください（2件）"),
            "{}",
            r.body
        );
        assert!(r.body.contains(r#"id="notice-ja_subject""#));
        assert!(r
            .body
            .contains(r#"aria-describedby="notice-ja_cause-error""#));
        // A whole notice is saved as version 1.
        let fields = [
            ("ja_subject", "【重要】お知らせとお詫び"),
            (
                "ja_what_happened",
                "宛名ラベルの一覧を取引先に誤って送りました。",
            ),
            ("ja_cause", "送付先の確認漏れです。"),
            (
                "ja_secondary_damage",
                "現時点で二次被害は確認されておりません。",
            ),
            ("ja_what_to_do", "不審な郵便物にご注意ください。"),
            ("ja_contact", "お客様相談窓口 0120-000-000"),
        ];
        let r = tanaka.post(&notice, &fields).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        // The privacy office cannot approve it; the CISO can.
        let approve = format!("{notice}/1/approve");
        let r = tanaka.post(&approve, &[]).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
        let mut ciso = login(&e, "takahashi").await;
        let r = ciso.get(&notice).await;
        assert!(r.body.contains(r#"data-testid="notice-approve""#));
        let r = ciso.post(&approve, &[]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);

        // The campaign: both by post.
        let r = tanaka
            .post(
                &format!("/incidents/{id}/campaigns"),
                &[("channel1", "post"), ("channel2", "post"), ("rate", "20")],
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains("同じ手段を二度選んでいます"), "{}", r.body);
        let r = tanaka
            .post(
                &format!("/incidents/{id}/campaigns"),
                &[
                    ("channel1", "post"),
                    ("channel2", "phone"),
                    ("rate", "２０"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let campaign = e
            .app
            .campaigns(&Ctx::local(), id)
            .await
            .unwrap()
            .first()
            .unwrap()
            .id;
        let page = format!("/campaigns/{campaign}");
        let r = tanaka.get(&page).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(
            r.body.contains(r#"data-testid="fig-total">2<"#),
            "{}",
            r.body
        );
        assert!(r.body.contains("<svg"), "the funnel chart");

        // The address list: 𠮷 cannot be written in CP932; the page names it and offers 吉.
        let list = format!("{page}/print-list.csv");
        let r = tanaka.get(&list).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains("U+20BB7"), "{}", r.body);
        assert!(r.body.contains(r#"data-testid="print-substitute""#));
        let r = tanaka.post(&list, &[]).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(
            r.header(axum::http::header::CONTENT_TYPE),
            "text/csv; charset=Shift_JIS"
        );
        let bytes = r.bytes.clone();
        let (csv, _, bad) = encoding_rs::SHIFT_JIS.decode(&bytes);
        assert!(!bad);
        assert!(
            csv.contains("吉田 太郎") && csv.contains("山田 花子"),
            "{csv}"
        );
        // The letters: one PDF.
        let r = tanaka.get(&format!("{page}/letters.pdf")).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.bytes.starts_with(b"%PDF-"));

        // A returned letter with a reference that does not exist is named.
        let r = tanaka
            .post(
                &format!("{page}/returned"),
                &[("reference", "9999999-9"), ("reason", "moved")],
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        assert!(r.body.contains(r#"id="returned-reference""#));

        // Posted, both come back: they go on to the phone, but have no number.
        let refs: Vec<String> = e
            .app
            .letters_to_print(&Ctx::local(), campaign, 0, 10)
            .await
            .unwrap()
            .into_iter()
            .map(|l| l.reference)
            .collect();
        let r = tanaka.post(&format!("{page}/posted"), &[]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        for reference in &refs {
            let r = tanaka
                .post(
                    &format!("{page}/returned"),
                    &[("reference", reference), ("reason", "unknown_address")],
                )
                .await;
            assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        }
        let r = tanaka.get(&page).await;
        assert!(
            r.body.contains(r#"data-testid="fig-unreachable">2<"#),
            "{}",
            r.body
        );
        // The public notice covers them; anybody may read it.
        let r = tanaka.post(&format!("{page}/publish"), &[]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        let r = tanaka.get(&page).await;
        assert!(r.body.contains(r#"data-testid="fig-covered">2<"#));
        let i = r.body.find("/notice/").unwrap();
        let href = &r.body[i..i + r.body[i..].find('"').unwrap()];
        let mut anon = Client::new(&e.router);
        let r = anon.get(href).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.body.contains("お客様相談窓口 0120-000-000"));
        assert!(
            !r.body.contains("𠮷田") && !r.body.contains("山田 花子"),
            "no names"
        );
        let r = anon.get("/notice/nosuchnoticeatallxxxxxxxxx").await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        assert!(
            !anon.get(&page).await.body.contains("fig-total"),
            "login needed"
        );

        // Somebody without the incident sees nothing of the campaign.
        let mut yamada = login(&e, "yamada").await;
        let r = yamada.get(&page).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);

        // The desk: the demo campaign's phone queue is on the home page; a call without an
        // outcome is refused naming the field.
        let mut ito = login(&e, "ito").await;
        let home = ito.get("/").await;
        assert!(
            home.body.contains(r#"data-testid="call-queues""#),
            "{}",
            home.body
        );
        let demo_calls = "/campaigns/1/calls";
        assert!(home.body.contains(demo_calls));
        let r = ito.get(demo_calls).await;
        assert_eq!(r.status, StatusCode::OK);
        let i = r.body.find("action=\"/campaigns/1/calls/").unwrap() + 8;
        let action = &r.body[i..i + r.body[i..].find('"').unwrap()];
        let r = ito.post(action, &[("note", "留守電")]).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains("通話の結果を選んでください"));
        assert!(r.body.contains("留守電"), "the note is kept");
        e.db.cleanup().await;
    }
}
