//! Issue 13, item 8: the incident page speaks the reader's language — the assessment's
//! reasons, the obligations' bases, the phase tasks and the lines mamori writes on the
//! timeline are English for an English reader (names of people and departments aside), and
//! no category code such as 「(over_1000)」 shows in Japanese.

use axum::http::StatusCode;
use mamori_app::clock::Clock;
use mamori_app::incident::{FactsInput, FirstReportInput};
use mamori_app::{Ctx, Settings};
use mamori_store::testing::TestDb;

mod common;
use common::Client;

// 2026-11-24T01:00:00Z = 2026-11-24 10:00 JST.
const T0: i64 = 1_795_482_000_000_000;

fn has_japanese(s: &str) -> bool {
    s.chars().any(|c| {
        ('\u{3040}'..='\u{30ff}').contains(&c)
            || ('\u{4e00}'..='\u{9fff}').contains(&c)
            || ('\u{ff00}'..='\u{ffef}').contains(&c)
    })
}

/// The texts between `open` and `close`, in order.
fn all_between<'a>(body: &'a str, open: &str, close: &str) -> Vec<&'a str> {
    body.split(open)
        .skip(1)
        .filter_map(|p| p.split(close).next())
        .collect()
}

#[tokio::test]
async fn the_incident_page_speaks_the_readers_language() {
    for db in TestDb::all().await {
        let name = db.name;
        let (app, clock, passwords) = common::demo_app(&db, T0, Settings::default()).await;
        let user = |login: &'static str| {
            let app = app.clone();
            async move { app.store.find_user_by_login(login).await.unwrap().unwrap() }
        };
        let yamada = user("yamada").await;
        let (id, _) = app
            .file_first_report(
                &Ctx::user(yamada.clone(), "10.0.0.1"),
                &FirstReportInput {
                    event: "leak".into(),
                    certainty: "confirmed".into(),
                    items: vec!["name".into(), "credit_card_number".into()],
                    persons: "1,500".into(),
                    description: "カード情報を含むファイルが外部から閲覧できた".into(),
                    ..FirstReportInput::default()
                },
            )
            .await
            .unwrap();
        let office = Ctx::user(user("tanaka").await, "10.0.0.2");
        let view = app.incident_view(&office, id).await.unwrap();
        app.update_facts(
            &office,
            id,
            &FactsInput {
                version: view.incident.version,
                knew_at: mamori_domain::incident::facts::format_jst(view.facts.knew_at),
                found_at: mamori_domain::incident::facts::format_jst(view.facts.found_at),
                event: "leak".into(),
                certainty: "confirmed".into(),
                items: vec!["name".into(), "credit_card_number".into()],
                persons: "2000".into(),
                contact_info: "no".into(),
                malicious: true,
                ..FactsInput::default()
            },
        )
        .await
        .unwrap();
        app.enter_phase(&office, id, "containment").await.unwrap();
        let view = app.incident_view(&office, id).await.unwrap();
        app.set_obligation(&office, view.obligations[0].id, true)
            .await
            .unwrap();
        // Names of people and departments are the data's own words, not the page's.
        let mut names: Vec<String> = app
            .store
            .list_users(None)
            .await
            .unwrap()
            .into_iter()
            .map(|u| u.display_name)
            .collect();
        for c in app.store.list_companies().await.unwrap() {
            names.extend(
                app.store
                    .list_departments(c.id)
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|d| d.name),
            );
        }
        names.sort_by_key(|n| std::cmp::Reverse(n.len()));
        let without_names = |s: &str| {
            let mut s = s.to_owned();
            for n in &names {
                s = s.replace(n.as_str(), "");
            }
            s
        };

        let router = mamori_web::router(app.clone(), mamori_web::WebConfig::default());
        let mut c = Client::new(&router);
        c.sign_in("tanaka", &passwords["tanaka"], clock.now_secs())
            .await;
        let page = format!("/incidents/{id}");

        // Japanese: words, not codes.
        let r = c.get(&page).await;
        assert_eq!(r.status, StatusCode::OK, "{name}");
        for code in [
            "over_1000",
            "financial",
            "malicious",
            "(over",
            "preliminary_report",
        ] {
            assert!(!r.body.contains(&format!(">{code}")), "{name}: {code}");
        }
        let timeline = r.body.split("data-testid=\"timeline\"").nth(1).unwrap();
        assert!(!timeline.contains("over_1000"), "{name}: {timeline}");
        assert!(timeline.contains("千人超"), "{name}: {timeline}");
        assert!(timeline.contains("本人の数: 1,500 → 2,000"), "{name}");

        // English.
        c.get(&format!("/lang/en?next={page}")).await;
        let r = c.get(&page).await;
        assert_eq!(r.status, StatusCode::OK, "{name}");
        assert!(r.body.contains("<html lang=\"en\">"));
        let body = r.body.as_str();
        let reasons = all_between(body, "<ol class=\"reasons\">", "</ol>");
        let reasons = all_between(reasons[0], "<li>", "</li>");
        assert!(reasons.len() >= 5, "{name}: {reasons:?}");
        assert!(
            reasons
                .iter()
                .any(|r| r.contains("Enforcement Rules Art. 7(iv)")),
            "{name}: {reasons:?}"
        );
        let bases = all_between(body, "<small>", "</small>");
        assert!(bases.len() >= 3, "{name}: {bases:?}");
        let tasks = all_between(body, "<span class=\"task-title\">", "</span>");
        assert!(
            tasks.iter().any(|t| t.contains("Set up the task force")),
            "{name}: {tasks:?}"
        );
        let lines = all_between(body, "<p class=\"pre\">", "</p>");
        assert!(
            lines
                .iter()
                .any(|l| l.contains("Assessment: reportable to the PPC")
                    && l.contains("more than 1,000 persons")),
            "{name}: {lines:?}"
        );
        assert!(
            lines.iter().any(|l| l.contains("Persons: 1,500 → 2,000")),
            "{name}: {lines:?}"
        );
        for (what, texts) in [
            ("reason", &reasons),
            ("basis", &bases),
            ("task", &tasks),
            ("timeline line", &lines),
        ] {
            for t in texts {
                assert!(
                    !has_japanese(&without_names(t)),
                    "{name}: a {what} in Japanese on the English page: {t}"
                );
            }
        }
        db.cleanup().await;
    }
}
