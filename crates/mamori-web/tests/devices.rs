//! The device register and take-out pages through the real router, on SQLite and PostgreSQL,
//! with the demo company: who gets which page, the export for Excel in CP932, a take-out asked,
//! refused without a reason (422 at the field), approved, and CSRF on the forms.

use axum::http::{header, StatusCode};
use mamori_app::clock::{Clock, ManualClock};
use mamori_app::Settings;
use mamori_store::testing::TestDb;
use std::collections::HashMap;
use std::sync::Arc;

mod common;
use common::Client;

// 2026-12-07T01:00:00Z = 2026-12-07 10:00 JST.
const T0: i64 = 1_796_605_200_000_000;

async fn client<'a>(
    router: &'a axum::Router,
    clock: &Arc<ManualClock>,
    passwords: &HashMap<String, String>,
    login: &str,
) -> Client<'a> {
    let mut c = Client::new(router);
    c.sign_in(login, &passwords[login], clock.now_secs()).await;
    c
}

#[tokio::test]
async fn who_gets_which_page_and_a_takeout_through_the_forms() {
    for db in TestDb::all().await {
        let (app, clock, passwords) = common::demo_app(&db, T0, Settings::default()).await;
        let router = mamori_web::router(app.clone(), mamori_web::WebConfig::default());
        // (login, register form, import, approval queue, export)
        for (login, manage, queue, export) in [
            ("yamada", false, false, false),
            ("suzuki", false, true, true),
            ("tanaka", true, true, true),
            ("kato", false, false, true),
        ] {
            let mut c = client(&router, &clock, &passwords, login).await;
            let ok = |b: bool| {
                if b {
                    StatusCode::OK
                } else {
                    StatusCode::FORBIDDEN
                }
            };
            assert_eq!(
                c.get("/programme/devices").await.status,
                StatusCode::OK,
                "{login}"
            );
            assert_eq!(
                c.get("/programme/takeouts").await.status,
                StatusCode::OK,
                "{login}"
            );
            assert_eq!(
                c.get("/programme/takeouts/new").await.status,
                StatusCode::OK,
                "{login}"
            );
            assert_eq!(
                c.get("/programme/devices/new").await.status,
                ok(manage),
                "{login}"
            );
            assert_eq!(
                c.get("/programme/devices/import").await.status,
                ok(manage),
                "{login}"
            );
            assert_eq!(
                c.get("/programme/takeouts/queue").await.status,
                ok(queue),
                "{login}"
            );
            let r = c.get("/programme/devices/export?enc=cp932").await;
            assert_eq!(r.status, ok(export), "{login}");
            if export {
                assert_eq!(
                    r.header(header::CONTENT_TYPE),
                    "text/csv; charset=Shift_JIS"
                );
                let (text, _, bad) = encoding_rs::SHIFT_JIS.decode(&r.bytes);
                assert!(!bad);
                assert!(text.starts_with("資産番号,種別,機種"), "{login}");
                // A head exports the own departments only; the office the whole register.
                let lines = text.lines().count();
                if login == "suzuki" {
                    assert!((100..300).contains(&lines), "{lines}");
                } else {
                    assert!(lines > 300, "{lines}");
                }
            }
            let hub = c.get("/programme").await;
            assert_eq!(
                hub.body.contains("href=\"/programme/devices\""),
                export,
                "{login}: the register's card"
            );
        }

        // ito asks on the form; suzuki refuses without a reason, then approves. (The demo's
        // ledger comes with an opened vault; this test brings its own entry.)
        let company = app.store.list_companies().await.unwrap()[0].id;
        let support = app
            .store
            .list_departments(company)
            .await
            .unwrap()
            .into_iter()
            .find(|d| d.name == "カスタマーサポート課")
            .unwrap()
            .id;
        app.create_dataset(
            &mamori_app::Ctx::local(),
            mamori_domain::ledger::DatasetInput {
                name: "問い合わせ履歴".into(),
                department_id: support,
                items: vec![mamori_domain::appi::item::Item::Name],
                persons: Some(100),
                purpose: "問い合わせ対応".into(),
                ..mamori_domain::ledger::DatasetInput::default()
            },
        )
        .await
        .unwrap();
        let mut ito = client(&router, &clock, &passwords, "ito").await;
        let form = ito.get("/programme/takeouts/new").await;
        let i = form.body.find("name=\"dataset_id\"").unwrap();
        let opt = &form.body[i..];
        let v = opt.find("<option value=\"").unwrap();
        let rest = &opt[v + 15..];
        let rest = &rest[rest.find("<option value=\"").unwrap() + 15..];
        let dataset = &rest[..rest.find('"').unwrap()];
        // Without the CSRF token: refused, nothing filed.
        let r = ito
            .post_raw(
                "/programme/takeouts",
                &[
                    ("dataset_id", dataset),
                    ("carrier", "paper"),
                    ("purpose", "x"),
                    ("until", "2026-12-09"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let r = ito
            .post(
                "/programme/takeouts",
                &[
                    ("dataset_id", dataset),
                    ("carrier", "paper"),
                    ("purpose", ""),
                    ("until", ""),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            r.body.contains("id=\"takeout-purpose\"") && r.body.contains("aria-invalid=\"true\"")
        );
        let r = ito
            .post(
                "/programme/takeouts",
                &[
                    ("dataset_id", dataset),
                    ("carrier", "paper"),
                    ("purpose", "顧客訪問のため"),
                    ("until", "2026-12-09"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let id = r
            .location
            .trim_start_matches("/programme/takeouts/")
            .trim_end_matches("?sent=1")
            .to_owned();
        // The requester has no decision form.
        let own = ito.get(&format!("/programme/takeouts/{id}")).await;
        assert!(!own.body.contains("data-testid=\"decide-form\""));
        let mut suzuki = client(&router, &clock, &passwords, "suzuki").await;
        let page = suzuki.get(&format!("/programme/takeouts/{id}")).await;
        assert!(page.body.contains("data-testid=\"decide-form\""));
        let r = suzuki
            .post(
                &format!("/programme/takeouts/{id}/decide"),
                &[("decision", "refuse"), ("reason", "")],
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains("id=\"decide-reason\"") && r.body.contains("却下する理由"));
        let r = suzuki
            .post(
                &format!("/programme/takeouts/{id}/decide"),
                &[("decision", "approve"), ("reason", "")],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert!(r.location.ends_with("?done=approved"));
        let page = ito.get(&format!("/programme/takeouts/{id}")).await;
        assert!(page.body.contains("data-status=\"approved\""));
        assert!(page.body.contains("data-testid=\"evidence-form\""));
        db.cleanup().await;
    }
}
