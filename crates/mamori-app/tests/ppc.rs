//! The report to the PPC against real databases (SQLite and PostgreSQL): the draft from the
//! incident, versions of both stages, the final report's nine items, submitting (once) with
//! the obligation, PDF and JSON, who may see and who may change, and the audit log.

use mamori_app::admin::UserInput;
use mamori_app::clock::ManualClock;
use mamori_app::incident::{FirstReportInput, SecondReport};
use mamori_app::keys::Keys;
use mamori_app::ppc::Basis;
use mamori_app::{App, AppError, Ctx, Settings};
use mamori_domain::audit::Outcome;
use mamori_domain::incident::ppc::{Report, Stage, ITEMS};
use mamori_domain::role::Role;
use mamori_store::audit::AuditFilter;
use mamori_store::incidents::IncidentFilter;
use mamori_store::testing::{temp_dir, TestDb};
use std::sync::Arc;

// 2026-11-24T01:00:00Z = 2026-11-24 10:00 JST.
const T0: i64 = 1_795_482_000_000_000;
const HOUR: i64 = 3_600_000_000;

struct Env {
    app: App,
    clock: Arc<ManualClock>,
    db: TestDb,
    p: People,
    incident: i64,
    drill: i64,
}

struct People {
    reporter: Ctx,
    colleague: Ctx,
    head_sales: Ctx,
    privacy: Ctx,
    ciso: Ctx,
    other_company: Ctx,
}

async fn person(app: &App, company: i64, dept: i64, login: &str, name: &str, role: Role) -> Ctx {
    let (id, _) = app
        .create_user(
            &Ctx::local(),
            &UserInput {
                company_id: Some(company),
                department_id: dept,
                login: login.into(),
                display_name: name.into(),
                email: format!("{login}@example.co.jp"),
                roles: vec![role],
                password: Some("correct horse battery".into()),
                locale: "ja".into(),
            },
        )
        .await
        .unwrap();
    Ctx::user(app.store.get_user(id).await.unwrap(), "10.0.0.1")
}

/// 本社 ─ 営業部; a reportable incident (card numbers of 1,200 customers) and a drill, both
/// filed by 山田 of 営業部.
async fn envs() -> Vec<Env> {
    let mut out = Vec::new();
    for db in TestDb::all().await {
        let clock = Arc::new(ManualClock::new(T0));
        let keys = Keys::load_or_create(&temp_dir("keys").join("k"), true).unwrap();
        let (app, _writer) = App::new(db.store.clone(), keys, clock.clone(), Settings::default());
        let local = Ctx::local();
        let c = app
            .create_company(&local, "sample-co", "株式会社サンプル")
            .await
            .unwrap();
        let top = app
            .create_department(&local, c, None, "本社")
            .await
            .unwrap();
        let sales = app
            .create_department(&local, c, Some(top), "営業部")
            .await
            .unwrap();
        let other = app
            .create_company(&local, "other-co", "他社株式会社")
            .await
            .unwrap();
        let other_top = app
            .create_department(&local, other, None, "本社")
            .await
            .unwrap();
        let p = People {
            reporter: person(&app, c, sales, "yamada", "山田 太郎", Role::Staff).await,
            colleague: person(&app, c, sales, "sasaki", "佐々木 次郎", Role::Staff).await,
            head_sales: person(&app, c, sales, "suzuki", "鈴木 一郎", Role::DepartmentHead).await,
            privacy: person(&app, c, top, "tanaka", "田中 美咲", Role::PrivacyOffice).await,
            ciso: person(&app, c, top, "takahashi", "高橋 健", Role::Ciso).await,
            other_company: person(
                &app,
                other,
                other_top,
                "other",
                "他社 職員",
                Role::PrivacyOffice,
            )
            .await,
        };
        let file = |drill: bool| FirstReportInput {
            drill,
            title: "ECサイトの決済画面改ざん".into(),
            event: "leak".into(),
            certainty: "confirmed".into(),
            items: vec!["name".into(), "credit_card_number".into()],
            persons: "1,200".into(),
            found_by: "システム部 小林".into(),
            description: "決済画面に不正なスクリプトが埋め込まれていた".into(),
            actions_taken: "決済画面を停止した".into(),
            ..FirstReportInput::default()
        };
        let (incident, _) = app
            .file_first_report(&p.reporter, &file(false))
            .await
            .unwrap();
        let (drill, _) = app
            .file_first_report(&p.reporter, &file(true))
            .await
            .unwrap();
        out.push(Env {
            app,
            clock,
            db,
            p,
            incident,
            drill,
        });
    }
    out
}

fn field(e: &AppError) -> Option<&'static str> {
    match e {
        AppError::Invalid(p) => p.field,
        _ => None,
    }
}

fn message(e: &AppError) -> String {
    match e {
        AppError::Invalid(p) => p.ja.clone(),
        other => format!("{other:?}"),
    }
}

async fn audited(env: &Env, action: &str, outcome: Outcome) -> usize {
    env.app
        .store
        .search_audit(
            &AuditFilter {
                action: Some(action.into()),
                outcome: Some(outcome),
                ..Default::default()
            },
            100,
        )
        .await
        .unwrap()
        .len()
}

async fn timeline(env: &Env, id: i64) -> String {
    env.app
        .store
        .timeline(id)
        .await
        .unwrap()
        .iter()
        .map(|e| e.text.clone())
        .collect::<Vec<_>>()
        .join("\n")
}

fn complete() -> Report {
    let mut r = Report::default();
    for (n, f, ja, _) in ITEMS {
        r.set(f, format!("{n}. {ja}の内容")).unwrap();
    }
    r
}

/// All text of a PDF, without whitespace (extraction inserts line breaks).
fn pdf_text(bytes: &[u8]) -> (usize, String) {
    assert!(bytes.starts_with(b"%PDF-"), "not a PDF");
    let pdf = lopdf::Document::load_mem(bytes).expect("lopdf parses the PDF");
    let pages: Vec<u32> = pdf.get_pages().keys().copied().collect();
    let text = pdf
        .extract_text(&pages)
        .unwrap()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    (pages.len(), text)
}

#[tokio::test]
async fn the_draft_is_filled_from_the_incident_and_the_second_report() {
    for env in envs().await {
        let app = &env.app;
        let name = env.db.name;
        let view = app.ppc_view(&env.p.privacy, env.incident).await.unwrap();
        assert!(view.can_manage);
        assert_eq!(view.company_name, "株式会社サンプル");
        for s in [&view.preliminary, &view.final_report] {
            assert!(s.versions.is_empty(), "{name}: nothing saved yet");
            assert_eq!(s.basis, Basis::Draft);
            assert!(s.obligation.is_some(), "{name}: the incident is reportable");
        }
        let d = &view.preliminary.current;
        assert!(
            d.summary.contains("ECサイトの決済画面改ざん"),
            "{}",
            d.summary
        );
        assert!(d.summary.contains("決済画面に不正なスクリプト"));
        assert!(
            d.summary.contains("システム部 小林（営業部）"),
            "{}",
            d.summary
        );
        assert!(d.summary.contains("2026-11-24 10:00"));
        assert!(d.items.contains("クレジットカード番号"));
        assert_eq!(d.persons, "1,200人（最大）");
        assert_eq!(d.response_to_persons, "決済画面を停止した");
        assert_eq!(d.cause, "調査中");
        // A fresh draft is not stored.
        assert!(app
            .store
            .ppc_reports(env.incident, None)
            .await
            .unwrap()
            .is_empty());

        // The latest second report fills cause, sequence, damage and measures.
        app.save_second_report(
            &env.p.privacy,
            env.incident,
            &SecondReport {
                when: "11月23日 22時 改ざん".into(),
                place: "決済サーバ".into(),
                how: "管理画面への不正ログイン".into(),
                what: "顧客DB（電子データ）".into(),
                why: "管理画面のパスワードが推測可能だった".into(),
                secondary_damage: "不正利用の報告1件".into(),
                measures_done: "パスワードを変更した".into(),
                measures_planned: "多要素認証を導入する".into(),
                ..SecondReport::default()
            },
        )
        .await
        .unwrap();
        let d = app
            .ppc_view(&env.p.ciso, env.incident)
            .await
            .unwrap()
            .preliminary
            .current;
        assert_eq!(d.cause, "管理画面のパスワードが推測可能だった", "{name}");
        assert!(d
            .summary
            .contains("11月23日 22時 改ざん\n管理画面への不正ログイン"));
        assert!(d.summary.contains("場所: 決済サーバ"));
        assert!(
            d.items.contains("（媒体・種類: 顧客DB（電子データ））"),
            "{}",
            d.items
        );
        assert_eq!(d.secondary_damage, "不正利用の報告1件");
        assert_eq!(d.prevention_done, "パスワードを変更した");
        assert_eq!(d.prevention_planned, "多要素認証を導入する");

        // A drill's draft says so.
        let drill = app.ppc_view(&env.p.privacy, env.drill).await.unwrap();
        assert!(drill.preliminary.current.summary.starts_with("【訓練】"));
        assert!(audited(&env, "incident.ppc.view", Outcome::Success).await >= 3);
        env.db.cleanup().await;
    }
}

#[tokio::test]
async fn versions_are_kept_and_the_final_report_needs_all_nine_items() {
    for env in envs().await {
        let app = &env.app;
        let name = env.db.name;
        let id = env.incident;
        let mut r = app
            .ppc_view(&env.p.privacy, id)
            .await
            .unwrap()
            .preliminary
            .current;
        assert_eq!(
            app.save_ppc(&env.p.privacy, id, Stage::Preliminary, &r)
                .await
                .unwrap(),
            1,
            "{name}"
        );
        env.clock.advance_secs(3600);
        r.cause = "  管理画面のパスワードが推測可能だった\r\n（調査中）  ".into();
        assert_eq!(
            app.save_ppc(&env.p.ciso, id, Stage::Preliminary, &r)
                .await
                .unwrap(),
            2
        );
        let view = app.ppc_view(&env.p.reporter, id).await.unwrap();
        assert!(!view.can_manage);
        let pre = &view.preliminary;
        assert_eq!(pre.versions.len(), 2, "{name}: both versions are kept");
        assert_eq!(pre.basis, Basis::Saved(2));
        assert_eq!(
            pre.current.cause, "管理画面のパスワードが推測可能だった\n（調査中）",
            "trimmed, CRLF normalised"
        );
        assert_eq!(pre.versions[0].version, 2);
        assert_eq!(pre.versions[0].created_by, "高橋 健");
        assert_eq!(pre.versions[0].created_at, T0 + HOUR);
        assert_eq!(pre.versions[1].created_by, "田中 美咲");
        assert_eq!(pre.versions[1].report.cause, "調査中");
        // The final report starts from the latest preliminary one.
        assert_eq!(view.final_report.basis, Basis::Preliminary(2));
        assert_eq!(view.final_report.current, pre.current);

        // The draft leaves item 9 empty: the final report is refused, naming it.
        let e = app
            .save_ppc(&env.p.privacy, id, Stage::Final, &r)
            .await
            .unwrap_err();
        assert_eq!(field(&e), Some("other"), "{name}: {e:?}");
        assert!(
            message(&e).contains("9「その他参考となる事項」"),
            "{}",
            message(&e)
        );
        let mut empty_cause = complete();
        empty_cause.cause = "   ".into();
        let e = app
            .save_ppc(&env.p.privacy, id, Stage::Final, &empty_cause)
            .await
            .unwrap_err();
        assert_eq!(field(&e), Some("cause"));
        assert!(message(&e).contains("4「原因」"));
        // Either half of item 8 is enough.
        let mut half = complete();
        half.prevention_planned.clear();
        assert_eq!(
            app.save_ppc(&env.p.privacy, id, Stage::Final, &half)
                .await
                .unwrap(),
            1
        );

        // Texts are checked: length and control characters, naming the item.
        let mut long = complete();
        long.summary = "あ".repeat(8001);
        let e = app
            .save_ppc(&env.p.privacy, id, Stage::Preliminary, &long)
            .await
            .unwrap_err();
        assert_eq!(field(&e), Some("summary"));
        let mut ctl = complete();
        ctl.publication = "公表\u{7}".into();
        let e = app
            .save_ppc(&env.p.privacy, id, Stage::Preliminary, &ctl)
            .await
            .unwrap_err();
        assert_eq!(field(&e), Some("publication"));
        let e = app
            .save_ppc(&env.p.privacy, id, Stage::Preliminary, &Report::default())
            .await
            .unwrap_err();
        assert!(matches!(e, AppError::Invalid(_)), "an empty report: {e:?}");

        // Only the privacy office and the CISO change the report.
        for who in [&env.p.reporter, &env.p.head_sales] {
            let e = app
                .save_ppc(who, id, Stage::Preliminary, &complete())
                .await
                .unwrap_err();
            assert!(matches!(e, AppError::Denied), "{name}: {e:?}");
        }
        assert_eq!(
            app.store
                .ppc_reports(id, Some("preliminary"))
                .await
                .unwrap()
                .len(),
            2,
            "nothing refused was stored"
        );
        let t = timeline(&env, id).await;
        assert!(t.contains("個人情報保護委員会への報告（速報）第1版を保存しました"));
        assert!(t.contains("個人情報保護委員会への報告（速報）第2版を保存しました"));
        assert!(t.contains("個人情報保護委員会への報告（確報）第1版を保存しました"));
        assert_eq!(
            audited(&env, "incident.ppc.save", Outcome::Success).await,
            3
        );
        assert_eq!(audited(&env, "incident.ppc.save", Outcome::Denied).await, 2);
        env.db.cleanup().await;
    }
}

#[tokio::test]
async fn submitting_records_when_and_by_whom_and_completes_the_obligation() {
    for env in envs().await {
        let app = &env.app;
        let name = env.db.name;
        let id = env.incident;
        for _ in 0..2 {
            app.save_ppc(&env.p.privacy, id, Stage::Preliminary, &complete())
                .await
                .unwrap();
        }
        env.clock.advance_secs(2 * 3600);
        // Somebody who may not manage cannot submit.
        let e = app
            .submit_ppc(&env.p.reporter, id, Stage::Preliminary, 2)
            .await
            .unwrap_err();
        assert!(matches!(e, AppError::Denied), "{name}: {e:?}");
        app.submit_ppc(&env.p.privacy, id, Stage::Preliminary, 2)
            .await
            .unwrap();
        let view = app.ppc_view(&env.p.privacy, id).await.unwrap();
        let v2 = &view.preliminary.versions[0];
        assert_eq!(v2.version, 2);
        assert_eq!(v2.submitted_at, Some(T0 + 2 * HOUR), "{name}");
        assert_eq!(v2.submitted_by.as_deref(), Some("田中 美咲（tanaka）"));
        assert!(!view.preliminary.versions[1].submitted());
        assert_eq!(view.preliminary.submitted().map(|v| v.version), Some(2));
        let o = view.preliminary.obligation.as_ref().unwrap();
        assert_eq!(o.status, "done", "{name}");
        assert_eq!(o.done_at, Some(T0 + 2 * HOUR));
        assert_eq!(o.done_by.as_deref(), Some("田中 美咲（tanaka）"));
        assert_eq!(
            view.final_report.obligation.as_ref().unwrap().status,
            "open",
            "the final report is still due"
        );

        // A second submission of the same version is refused and changes nothing.
        env.clock.advance_secs(60);
        let e = app
            .submit_ppc(&env.p.ciso, id, Stage::Preliminary, 2)
            .await
            .unwrap_err();
        assert_eq!(field(&e), Some("version"), "{name}: {e:?}");
        assert!(message(&e).contains("すでに提出済み"));
        let again = app
            .store
            .get_ppc_report(id, "preliminary", 2)
            .await
            .unwrap();
        assert_eq!(again.submitted_at, Some(T0 + 2 * HOUR));
        // An unknown version is not found.
        let e = app
            .submit_ppc(&env.p.privacy, id, Stage::Final, 1)
            .await
            .unwrap_err();
        assert!(matches!(e, AppError::NotFound), "{e:?}");

        // The final report completes its own obligation.
        app.save_ppc(&env.p.ciso, id, Stage::Final, &complete())
            .await
            .unwrap();
        app.submit_ppc(&env.p.ciso, id, Stage::Final, 1)
            .await
            .unwrap();
        let o = app.store.obligations(id).await.unwrap();
        let fin = o.iter().find(|o| o.kind == "final_report").unwrap();
        assert_eq!(fin.status, "done");
        assert_eq!(fin.done_by.as_deref(), Some("高橋 健（takahashi）"));

        let t = timeline(&env, id).await;
        assert!(
            t.contains(
                "個人情報保護委員会への報告（速報）第2版を提出済みにしました（2026-11-24 12:00）"
            ),
            "{t}"
        );
        assert!(t.contains("義務を完了しました: "), "{t}");
        assert_eq!(
            audited(&env, "incident.ppc.submit", Outcome::Success).await,
            2
        );
        assert_eq!(
            audited(&env, "incident.ppc.submit", Outcome::Denied).await,
            1
        );
        env.db.cleanup().await;
    }
}

#[tokio::test]
async fn pdf_and_json_in_the_rules_order() {
    for env in envs().await {
        let app = &env.app;
        let name = env.db.name;
        let id = env.incident;
        let mut r = complete();
        r.cause = "管理画面のパスワードが推測可能だった".into();
        app.save_ppc(&env.p.privacy, id, Stage::Preliminary, &r)
            .await
            .unwrap();

        // The reporter may read and download (anybody who sees the incident).
        let file = app
            .ppc_pdf(&env.p.reporter, id, Stage::Preliminary, 1)
            .await
            .unwrap();
        let (pages, text) = pdf_text(&file.bytes);
        assert!(pages > 0, "{name}");
        assert!(
            text.contains("個人情報保護委員会への漏えい等報告（速報）"),
            "{text}"
        );
        assert!(text.contains("報告日：令和8年11月24日"), "{text}");
        assert!(text.contains("株式会社サンプル"));
        assert!(text.contains("管理画面のパスワードが推測可能だった"));
        assert!(text.contains("未提出（下書き）"));
        // The nine headings in the rule's order.
        let mut at = 0;
        for (n, _, ja, _) in ITEMS {
            let heading: String = format!("{n}.{ja}")
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect();
            let pos = text[at..]
                .find(&heading)
                .unwrap_or_else(|| panic!("{heading} after byte {at} in {text}"));
            at += pos + heading.len();
        }
        assert!(!text.contains("【訓練】"));
        let ref_no = app.store.get_incident(id).await.unwrap().ref_no;
        assert_eq!(
            file.filename,
            format!("ppc-{ref_no}-preliminary-v1.pdf"),
            "{name}"
        );

        // JSON: stable keys, nine numbered items in order.
        let j = app
            .ppc_json(&env.p.reporter, id, Stage::Preliminary, 1)
            .await
            .unwrap();
        assert_eq!(j["incident"], ref_no.as_str());
        assert_eq!(j["stage"], "preliminary");
        assert_eq!(j["version"], 1);
        assert_eq!(j["submitted_at"], serde_json::Value::Null);
        assert_eq!(j["created_at"], "2026-11-24T10:00:00+09:00");
        let items = j["items"].as_array().unwrap();
        let numbers: Vec<u64> = items
            .iter()
            .map(|i| i["number"].as_u64().unwrap())
            .collect();
        assert_eq!(numbers, vec![1, 2, 3, 4, 5, 6, 7, 8, 8, 9]);
        assert_eq!(items[3]["field"], "cause");
        assert_eq!(items[3]["heading_ja"], "原因");
        assert_eq!(items[3]["text"], "管理画面のパスワードが推測可能だった");

        env.clock.advance_secs(3600);
        app.submit_ppc(&env.p.privacy, id, Stage::Preliminary, 1)
            .await
            .unwrap();
        let j = app
            .ppc_json(&env.p.privacy, id, Stage::Preliminary, 1)
            .await
            .unwrap();
        assert_eq!(j["submitted_at"], "2026-11-24T11:00:00+09:00", "{name}");
        assert_eq!(j["submitted_by"], "田中 美咲（tanaka）");
        let (_, text) = pdf_text(
            &app.ppc_pdf(&env.p.privacy, id, Stage::Preliminary, 1)
                .await
                .unwrap()
                .bytes,
        );
        assert!(text.contains("2026-11-2411:00田中美咲（tanaka）"), "{text}");

        // A drill says so on every page.
        app.save_ppc(&env.p.privacy, env.drill, Stage::Preliminary, &complete())
            .await
            .unwrap();
        let (_, text) = pdf_text(
            &app.ppc_pdf(&env.p.privacy, env.drill, Stage::Preliminary, 1)
                .await
                .unwrap()
                .bytes,
        );
        assert!(text.contains("【訓練】株式会社サンプル"), "{text}");
        let j = app
            .ppc_json(&env.p.privacy, env.drill, Stage::Preliminary, 1)
            .await
            .unwrap();
        assert_eq!(j["drill"], true);

        // An unknown version is not found.
        let e = app
            .ppc_pdf(&env.p.privacy, id, Stage::Final, 1)
            .await
            .unwrap_err();
        assert!(matches!(e, AppError::NotFound), "{e:?}");
        assert_eq!(audited(&env, "incident.ppc.pdf", Outcome::Success).await, 3);
        assert_eq!(
            audited(&env, "incident.ppc.json", Outcome::Success).await,
            3
        );
        env.db.cleanup().await;
    }
}

#[tokio::test]
async fn who_cannot_see_the_incident_gets_not_found() {
    for env in envs().await {
        let app = &env.app;
        let name = env.db.name;
        let id = env.incident;
        app.save_ppc(&env.p.privacy, id, Stage::Preliminary, &complete())
            .await
            .unwrap();
        for who in [&env.p.colleague, &env.p.other_company] {
            let e = app.ppc_view(who, id).await.unwrap_err();
            assert!(matches!(e, AppError::NotFound), "{name}: {e:?}");
            let e = app
                .ppc_pdf(who, id, Stage::Preliminary, 1)
                .await
                .unwrap_err();
            assert!(matches!(e, AppError::NotFound), "{e:?}");
            let e = app
                .ppc_json(who, id, Stage::Preliminary, 1)
                .await
                .unwrap_err();
            assert!(matches!(e, AppError::NotFound), "{e:?}");
            let e = app
                .save_ppc(who, id, Stage::Preliminary, &complete())
                .await
                .unwrap_err();
            assert!(matches!(e, AppError::NotFound), "{e:?}");
            let e = app
                .submit_ppc(who, id, Stage::Preliminary, 1)
                .await
                .unwrap_err();
            assert!(matches!(e, AppError::NotFound), "{e:?}");
        }
        // The department head on the line may read.
        assert!(app.ppc_view(&env.p.head_sales, id).await.is_ok());
        assert!(app
            .ppc_print(&env.p.head_sales, id, Stage::Preliminary, 1)
            .await
            .is_ok());
        assert!(
            app.store
                .get_ppc_report(id, "preliminary", 1)
                .await
                .unwrap()
                .submitted_at
                .is_none(),
            "{name}"
        );
        // Refusals are recorded as denied views of the incident.
        assert!(audited(&env, "incident.view", Outcome::Denied).await >= 10);
        env.db.cleanup().await;
    }
}

/// Writes the reports of the demo incidents to `/tmp/mamori-ppc-*.pdf` for looking at the
/// layout: `cargo test -p mamori-app --test ppc -- --ignored demo`.
#[tokio::test]
#[ignore = "writes files to /tmp for a person to look at"]
async fn demo_reports_for_looking_at() {
    let mut dbs = TestDb::all().await;
    let db = dbs.remove(0);
    for other in dbs {
        other.cleanup().await;
    }
    let clock = Arc::new(ManualClock::new(T0));
    let keys = Keys::load_or_create(&temp_dir("keys").join("k"), true).unwrap();
    let (app, _writer) = App::new(db.store.clone(), keys, clock.clone(), Settings::default());
    app.seed_demo().await.unwrap();
    let tanaka = Ctx::user(
        app.store
            .find_user_by_login("tanaka")
            .await
            .unwrap()
            .unwrap(),
        "10.0.0.1",
    );
    let list = app
        .list_incidents(&tanaka, &IncidentFilter::default(), 10)
        .await
        .unwrap();
    for i in list {
        let view = app.ppc_view(&tanaka, i.id).await.unwrap();
        let mut r = view.preliminary.current.clone();
        app.save_ppc(&tanaka, i.id, Stage::Preliminary, &r)
            .await
            .unwrap();
        let f = app
            .ppc_pdf(&tanaka, i.id, Stage::Preliminary, 1)
            .await
            .unwrap();
        let tag = if i.drill { "drill" } else { "real" };
        std::fs::write(format!("/tmp/mamori-ppc-{tag}-preliminary.pdf"), &f.bytes).unwrap();
        r.other = "警察への相談: なし\n他の行政機関への報告: なし".into();
        app.save_ppc(&tanaka, i.id, Stage::Final, &r).await.unwrap();
        app.submit_ppc(&tanaka, i.id, Stage::Final, 1)
            .await
            .unwrap();
        let f = app.ppc_pdf(&tanaka, i.id, Stage::Final, 1).await.unwrap();
        std::fs::write(format!("/tmp/mamori-ppc-{tag}-final.pdf"), &f.bytes).unwrap();
        println!("{tag}: {}", f.filename);
    }
    db.cleanup().await;
}
