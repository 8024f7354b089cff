//! The impact page through the real router (SQLite and PostgreSQL): counts for every viewer of
//! the incident, persons only with rights, the system-side forms with named errors, the
//! proposal applied by the privacy office with CSRF, and the link from the incident page.

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

impl Env {
    /// Drops the test database (PostgreSQL) or its directory.
    async fn done(self) {
        self.db.cleanup().await;
    }
}

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
        // The vault open before the demo is seeded: the demo gets its shipping dataset.
        app.open_vault_default(true).await.unwrap();
        let passwords = app
            .seed_demo()
            .await
            .unwrap()
            .into_iter()
            .map(|l| (l.login, l.password))
            .collect();
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
                    title: "配送先リストの流出".into(),
                    event: "leak".into(),
                    certainty: "confirmed".into(),
                    items: vec!["name".into()],
                    description: "配送先の一覧が外部に送られた".into(),
                    ..FirstReportInput::default()
                },
            )
            .await
            .unwrap();
        let rows = vec![
            LeakedRow {
                locator: "list.csv:2".into(),
                values: vec![(F::Email, "Customer001@Example.JP".into())],
            },
            LeakedRow {
                locator: "list.csv:3".into(),
                values: vec![
                    (F::Name, "部外 者".into()),
                    (F::Email, "outsider@example.com".into()),
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
async fn impact_page_counts_rights_scope_and_apply() {
    for e in envs().await {
        let id = e.incident;
        let path = format!("/incidents/{id}/impact");
        // The reporter: counts only.
        let mut yamada = login(&e, "yamada").await;
        let page = yamada.get(&format!("/incidents/{id}")).await;
        assert!(
            page.body.contains(&path),
            "the incident page links the impact"
        );
        let r = yamada.get(&path).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(
            r.body.contains(r#"data-testid="impact-total">2<"#),
            "{}",
            r.body
        );
        assert!(r.body.contains(r#"data-testid="impact-withheld""#));
        assert!(!r.body.contains("impact-apply"));
        assert!(!r.body.contains("impact-dataset-form"));
        assert!(!r.body.contains("outsider") && !r.body.contains("ustomer001"));
        // The privacy office: the unmatched person (masked), the forms, the proposal.
        let mut tanaka = login(&e, "tanaka").await;
        let r = tanaka.get(&path).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.body.contains("impact-apply"));
        assert!(r.body.contains("impact-dataset-form"));
        assert!(!r.body.contains("outsider@example.com"), "masked");
        assert!(r.body.contains(r#"data-testid="proposed-persons">2<"#));
        // A bad window is named.
        let ds = e
            .app
            .store
            .list_datasets(e.app.store.get_incident(id).await.unwrap().company_id)
            .await
            .unwrap()
            .into_iter()
            .find(|d| d.vault_schema.is_some())
            .unwrap()
            .id;
        let r = tanaka
            .post(
                &format!("{path}/dataset"),
                &[
                    ("dataset", &ds.to_string()),
                    ("from", "2026-11-30"),
                    ("to", "2026-11-01"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            r.body.contains("期間の終わりが始まりより前です"),
            "{}",
            r.body
        );
        // The whole dataset: 200 records, customer001 already counted.
        let r = tanaka
            .post(&format!("{path}/dataset"), &[("dataset", &ds.to_string())])
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let r = tanaka.get(&path).await;
        assert!(r.body.contains(r#"data-testid="impact-total">201<"#));
        // Without the CSRF token nothing is applied.
        let r = tanaka
            .post_raw(&format!("{path}/apply"), &[("version", "1")])
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let version = e.app.store.get_incident(id).await.unwrap().version;
        let r = tanaka
            .post(
                &format!("{path}/apply"),
                &[("version", &version.to_string())],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert_eq!(
            e.app.store.get_incident(id).await.unwrap().persons,
            Some(201)
        );
        let r = tanaka.get(&format!("{path}?done=apply")).await;
        assert!(r.body.contains("impact-no-changes"));
        // The reporter cannot apply.
        let r = yamada.get(&path).await;
        assert_eq!(r.status, StatusCode::OK);
        let r = yamada
            .post(
                &format!("{path}/apply"),
                &[("version", &version.to_string())],
            )
            .await;
        assert_ne!(r.status, StatusCode::SEE_OTHER);
        e.done().await;
    }
}
