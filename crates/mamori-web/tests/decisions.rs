//! The publication and recurrence pages through the real router: forms with CSRF, who sees
//! which form and button, errors shown again with what was typed, the drill banner.

use axum::http::StatusCode;
use axum::Router;
use mamori_app::clock::{Clock, ManualClock};
use mamori_app::incident::FirstReportInput;
use mamori_app::{Ctx, Settings};
use mamori_store::testing::TestDb;
use std::collections::HashMap;
use std::sync::Arc;

mod common;
use common::Client;

// 2026-11-24T01:00:00Z = 2026-11-24 10:00 JST.
const T0: i64 = 1_795_482_000_000_000;

struct Env {
    router: Router,
    clock: Arc<ManualClock>,
    passwords: HashMap<String, String>,
    db: TestDb,
    incident: i64,
}

/// The demo company, and a drill incident filed by 山田 (バイヤー部) about three customers.
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
        let (incident, _) = app
            .file_first_report(
                &Ctx::user(yamada, "10.0.0.1"),
                &FirstReportInput {
                    drill: true,
                    event: "leak".into(),
                    certainty: "confirmed".into(),
                    items: vec!["name".into(), "email".into()],
                    persons: "3".into(),
                    description: "顧客3名宛てのメールをTOで一斉送信した".into(),
                    ..FirstReportInput::default()
                },
            )
            .await
            .unwrap();
        let router = mamori_web::router(app.clone(), mamori_web::WebConfig::default());
        out.push(Env {
            router,
            clock,
            passwords,
            db,
            incident,
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

#[tokio::test]
async fn publication_page_records_viewpoints_and_takes_managements_decision() {
    for env in envs().await {
        let page = format!("/incidents/{}/publication", env.incident);
        let decide = format!("{page}/decide");
        let name = env.db.name;

        // The reporter sees the page (with the drill banner) but neither form.
        let mut staff = Client::login(&env, "yamada").await;
        let r = staff.get(&page).await;
        assert_eq!(r.status, StatusCode::OK, "{name}: {}", r.body);
        assert!(r.body.contains("公表判断") && r.body.contains("drill-banner"));
        assert!(!r.body.contains("viewpoints-form") && !r.body.contains("decide-form"));
        let r = staff
            .post(&decide, &[("decision", "publish"), ("reason", "x")])
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{name}");
        let r = staff
            .post(&page, &[("manager", "own"), ("volume", "zzz")])
            .await;
        assert_eq!(
            r.status,
            StatusCode::FORBIDDEN,
            "bad input is still refused"
        );

        // A head of a sibling department does not see it at all.
        let mut sibling = Client::login(&env, "suzuki").await;
        assert_eq!(sibling.get(&page).await.status, StatusCode::NOT_FOUND);

        // The privacy office records; the number of persons is prefilled.
        let mut office = Client::login(&env, "tanaka").await;
        let r = office.get(&page).await;
        assert!(r.body.contains("viewpoints-form") && !r.body.contains("decide-form"));
        assert!(r.body.contains(
            "name=\"volume\" inputmode=\"numeric\" maxlength=\"20\" required value=\"3\""
        ));
        let r = office
            .post(
                &page,
                &[
                    ("manager", "own"),
                    ("form", "mis_sending"),
                    ("content", "contact"),
                    ("volume", "1000人以上"),
                    ("damage", "none"),
                ],
            )
            .await;
        // A bound is not a count: the APPI threshold depends on which end is meant.
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{name}");
        assert!(
            r.body.contains("一つの数で入力してください")
                && r.body.contains("value=\"1000人以上\""),
            "{}",
            r.body
        );
        assert!(r.body.contains("<option value=\"mis_sending\" selected>"));
        let r = office
            .post(
                &page,
                &[
                    ("manager", "own"),
                    ("form", "mis_sending"),
                    ("content", "contact"),
                    // As an IME or a person writes it: kanji numerals are read.
                    ("volume", "千五百"),
                    ("damage", "none"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{name}: {}", r.body);
        let r = office.get(&r.location).await;
        assert!(r.body.contains("記録しました"));
        assert!(r.body.contains("recommendation-verdict") && r.body.contains(">公表する<"));
        assert!(r.body.contains("1,500人分"), "the reasons are shown");
        // In English, the stored reasons are shown in English words.
        office.get(&format!("/lang/en?next={page}")).await;
        let en = office.get(&page).await;
        let reasons = en.body.split("<ol class=\"reasons\">").nth(1).unwrap();
        let reasons = &reasons[..reasons.find("</ol>").unwrap()];
        assert!(
            reasons.contains("1,500 persons — too many to explain to each one (volume)"),
            "{name}: {reasons}"
        );
        assert!(!reasons.contains("人分"), "{name}: {reasons}");
        office.get(&format!("/lang/ja?next={page}")).await;
        assert!(r.body.contains("まだ決定されていません"));

        // The executive decides; the reason is required.
        let mut exec = Client::login(&env, "watanabe").await;
        let r = exec.get(&page).await;
        assert!(r.body.contains("decide-form") && !r.body.contains("viewpoints-form"));
        let r = exec
            .post(&decide, &[("decision", "not_publish"), ("reason", "")])
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{name}");
        assert!(r.body.contains("判断の理由を入力してください"));
        assert!(r.body.contains("value=\"not_publish\" required checked"));
        let r = exec
            .post(
                &decide,
                &[
                    ("decision", "not_publish"),
                    ("reason", "全員に個別に連絡し<削除>を確認した"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{name}: {}", r.body);
        let r = exec.get(&page).await;
        assert!(r.body.contains("decision-verdict") && r.body.contains(">公表しない<"));
        assert!(
            r.body
                .contains("全員に個別に連絡し&#60;削除&#62;を確認した")
                || r.body.contains("全員に個別に連絡し&lt;削除&gt;を確認した"),
            "escaped"
        );
        assert!(r.body.contains("publication-history"));

        // The incident's timeline has both lines; English works too.
        let r = staff.get(&format!("/incidents/{}", env.incident)).await;
        assert!(r
            .body
            .contains("公表判断の視点を記録しました（推奨: 公表する）"));
        assert!(r.body.contains("公表判断: 「公表しない」と決定しました"));
        staff.get(&format!("/lang/en?next={page}")).await;
        let r = staff.get(&page).await;
        assert!(r.body.contains("Publication decision") && r.body.contains("Do not publish"));
        env.db.cleanup().await;
    }
}

#[tokio::test]
async fn recurrence_page_shows_each_party_its_buttons_and_keeps_the_comments() {
    for env in envs().await {
        let page = format!("/incidents/{}/recurrence", env.incident);
        let name = env.db.name;

        let mut dept = Client::login(&env, "yamada").await;
        let r = dept.get(&page).await;
        assert_eq!(r.status, StatusCode::OK, "{name}: {}", r.body);
        assert!(r.body.contains("drill-banner"));
        assert_eq!(r.body.matches("name=\"done_what\"").count(), 5);
        assert_eq!(r.body.matches("name=\"planned_date\"").count(), 5);
        assert!(r.body.contains("value=\"save\"") && r.body.contains("value=\"submit\""));
        assert!(!r.body.contains("value=\"forward\"") && !r.body.contains("value=\"approve\""));

        // Incomplete: shown again with the error and what was typed.
        let r = dept
            .post(
                &page,
                &[
                    ("action", "submit"),
                    ("cause", ""),
                    ("planned_what", "配信システムを使う"),
                    ("planned_owner", "バイヤー部"),
                    ("planned_date", "2026-12-15"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{name}");
        assert!(r.body.contains("原因を記入してください"));
        assert!(
            r.body.contains("value=\"配信システムを使う\"")
                && r.body.contains("value=\"2026-12-15\"")
        );
        let r = dept
            .post(
                &page,
                &[
                    ("action", "submit"),
                    ("cause", "宛先をTOに入れた"),
                    ("planned_what", "配信システムを使う"),
                    ("planned_owner", "バイヤー部"),
                    ("planned_date", "2026-12-15"),
                    ("planned_what", ""),
                    ("planned_owner", ""),
                    ("planned_date", ""),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{name}: {}", r.body);

        // Management out of turn: a clear message.
        let mut exec = Client::login(&env, "watanabe").await;
        let r = exec.get(&page).await;
        assert!(r.body.contains("no-action"));
        let r = exec.post(&page, &[("action", "approve")]).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{name}");
        assert!(r
            .body
            .contains("「事務局確認中」の状態では「承認」はできません"));

        // The secretariat: read-only text, return or forward; returning needs a comment.
        let mut office = Client::login(&env, "tanaka").await;
        let r = office.get(&page).await;
        assert!(r.body.contains("data-state=\"submitted\""));
        assert!(!r.body.contains("name=\"cause\"") && r.body.contains("宛先をTOに入れた"));
        assert!(r.body.contains("value=\"return\"") && r.body.contains("value=\"forward\""));
        assert!(!r.body.contains("value=\"submit\""));
        let r = office
            .post(&page, &[("action", "return"), ("comment", "")])
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains("差し戻す理由"));
        let r = office
            .post(
                &page,
                &[
                    ("action", "return"),
                    ("comment", "原因の背景まで書いてください"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{name}: {}", r.body);

        // The department sees the comment and its text again, and submits the revision.
        let r = dept.get(&page).await;
        assert!(r.body.contains("data-state=\"returned\""));
        assert!(r.body.contains("原因の背景まで書いてください"));
        assert!(r.body.contains(">宛先をTOに入れた</textarea>"));
        let r = dept
            .post(
                &page,
                &[
                    ("action", "submit"),
                    ("cause", "宛先をTOに入れた。一斉送信の手順がなかった"),
                    ("planned_what", "配信システムを使う"),
                    ("planned_owner", "バイヤー部"),
                    ("planned_date", "2026-12-15"),
                    ("comment", "背景を追記"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{name}: {}", r.body);
        office.get(&page).await;
        let r = office.post(&page, &[("action", "forward")]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{name}: {}", r.body);
        let r = exec.get(&page).await;
        assert!(r.body.contains("value=\"approve\"") && r.body.contains("value=\"send_back\""));
        let r = exec.post(&page, &[("action", "approve")]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{name}: {}", r.body);

        let r = dept.get(&page).await;
        assert!(r.body.contains("data-state=\"approved\"") && r.body.contains("no-action"));
        assert_eq!(r.body.matches("<li class=\"k-recurrence\">").count(), 5);
        let r = dept.get(&format!("/incidents/{}", env.incident)).await;
        assert!(r
            .body
            .contains("再発防止策: 事務局へ提出（バイヤー部 山田 太郎）"));
        assert!(r.body.contains("再発防止策: 承認（経営戦略室 渡辺 直子）"));

        // A sibling department head neither sees nor acts.
        let mut sibling = Client::login(&env, "suzuki").await;
        sibling.get("/").await;
        assert_eq!(sibling.get(&page).await.status, StatusCode::NOT_FOUND);
        let r = sibling
            .post(&page, &[("action", "save"), ("cause", "x")])
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        env.db.cleanup().await;
    }
}
