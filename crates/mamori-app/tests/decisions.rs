//! The publication decision and the recurrence-prevention report, against real databases
//! (SQLite and PostgreSQL): who may do what, required reasons and comments, the way of the
//! report through the company, the timeline and the audit log.

use mamori_app::admin::UserInput;
use mamori_app::clock::ManualClock;
use mamori_app::decisions::Decision;
use mamori_app::incident::FirstReportInput;
use mamori_app::keys::Keys;
use mamori_app::{App, AppError, Ctx, Settings};
use mamori_domain::audit::Outcome;
use mamori_domain::incident::publication::{
    Content, Damage, LeakForm, Manager, Recommendation, Viewpoints,
};
use mamori_domain::incident::recurrence::{Action, Measure, Report, State};
use mamori_domain::role::Role;
use mamori_store::audit::AuditFilter;
use mamori_store::testing::{temp_dir, TestDb};
use std::sync::Arc;

// 2026-11-24T01:00:00Z = 2026-11-24 10:00 JST.
const T0: i64 = 1_795_482_000_000_000;

struct Env {
    app: App,
    clock: Arc<ManualClock>,
    db: TestDb,
    p: People,
    incident: i64,
}

struct People {
    reporter: Ctx,
    colleague: Ctx,
    head_sales: Ctx,
    head_sibling: Ctx,
    privacy: Ctx,
    ciso: Ctx,
    exec: Ctx,
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

/// 本社 ─ 営業部 (the reporter's) and 本社 ─ 総務部 (a sibling); one incident filed by 山田 of
/// 営業部 about three customers.
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
        let general = app
            .create_department(&local, c, Some(top), "総務部")
            .await
            .unwrap();
        let p = People {
            reporter: person(&app, c, sales, "yamada", "山田 太郎", Role::Staff).await,
            colleague: person(&app, c, sales, "sasaki", "佐々木 次郎", Role::Staff).await,
            head_sales: person(&app, c, sales, "suzuki", "鈴木 一郎", Role::DepartmentHead).await,
            head_sibling: person(&app, c, general, "mori", "森 花子", Role::DepartmentHead).await,
            privacy: person(&app, c, top, "tanaka", "田中 美咲", Role::PrivacyOffice).await,
            ciso: person(&app, c, top, "takahashi", "高橋 健", Role::Ciso).await,
            exec: person(&app, c, top, "watanabe", "渡辺 直子", Role::Executive).await,
        };
        let (incident, _) = app
            .file_first_report(
                &p.reporter,
                &FirstReportInput {
                    event: "leak".into(),
                    certainty: "confirmed".into(),
                    items: vec!["name".into(), "email".into()],
                    persons: "3".into(),
                    description: "顧客3名宛てのメールを誤ってBCCではなくTOで送信した".into(),
                    ..FirstReportInput::default()
                },
            )
            .await
            .unwrap();
        out.push(Env {
            app,
            clock,
            db,
            p,
            incident,
        });
    }
    out
}

fn viewpoints(volume: u64) -> Viewpoints {
    Viewpoints {
        manager: Manager::Own,
        form: LeakForm::MisSending,
        content: Content::Contact,
        volume,
        damage: Damage::None,
    }
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

async fn timeline(env: &Env) -> Vec<String> {
    env.app
        .store
        .timeline(env.incident)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.text)
        .collect()
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

fn report() -> Report {
    Report {
        cause: "宛先をTOに入れたまま送信した。送信前の確認手順がなかった".into(),
        done: vec![Measure {
            what: "誤送信先へ削除を依頼".into(),
            owner: "営業部".into(),
            date: "2026-11-24".parse().ok(),
        }],
        planned: vec![Measure {
            what: "一斉送信は配信システムに限る".into(),
            owner: "営業部 鈴木".into(),
            date: "2026-12-15".parse().ok(),
        }],
    }
}

#[tokio::test]
async fn publication_is_recommended_on_the_viewpoints_and_decided_by_management_with_a_reason() {
    for env in envs().await {
        let (app, p, id) = (&env.app, &env.p, env.incident);
        let name = env.db.name;

        // Everybody on the line sees the page; the form starts from the incident's persons.
        let view = app.publication_view(&p.reporter, id).await.unwrap();
        assert!(view.entries.is_empty() && !view.can_record && !view.can_decide);
        assert_eq!(view.suggested.volume, 3, "{name}");
        assert_eq!(view.suggested.content, Content::Contact);
        assert!(matches!(
            app.publication_view(&p.head_sibling, id).await,
            Err(AppError::NotFound)
        ));

        // Viewpoints are the secretariat's; the decision is management's.
        assert!(matches!(
            app.record_viewpoints(&p.reporter, id, &viewpoints(3)).await,
            Err(AppError::Denied)
        ));
        let e = app
            .decide_publication(&p.exec, id, "publish", "理由")
            .await
            .unwrap_err();
        assert_eq!(field(&e), Some("viewpoints"), "{name}: viewpoints first");

        app.record_viewpoints(&p.privacy, id, &viewpoints(3))
            .await
            .unwrap();
        env.clock.advance_secs(60);
        app.record_viewpoints(&p.privacy, id, &viewpoints(1500))
            .await
            .unwrap();
        let view = app.publication_view(&p.privacy, id).await.unwrap();
        assert!(view.can_record && !view.can_decide);
        assert_eq!(view.entries.len(), 2);
        let latest = view.latest().unwrap();
        assert_eq!(latest.recommendation, Recommendation::Publish, "{name}");
        assert!(latest.reasons.iter().any(|r| r.contains("1,500人分")));
        assert_eq!(view.entries[1].recommendation, Recommendation::NotNeeded);
        assert_eq!(view.suggested.volume, 1500, "the form shows the latest");
        let lines = timeline(&env).await;
        assert!(lines
            .iter()
            .any(|l| l.starts_with("公表判断の視点を記録しました（推奨: 公表は不要）")));
        assert!(lines.iter().any(|l| l
            .starts_with("公表判断の視点を記録しました（推奨: 公表する）")
            && l.contains("漏えい情報量: 1,500人")));

        // Staff and the privacy office cannot decide; an executive can, with a reason.
        for who in [&p.reporter, &p.colleague, &p.head_sales, &p.privacy] {
            assert!(matches!(
                app.decide_publication(who, id, "publish", "理由").await,
                Err(AppError::Denied | AppError::NotFound)
            ));
        }
        let e = app
            .decide_publication(&p.exec, id, "publish", "  ")
            .await
            .unwrap_err();
        assert_eq!(field(&e), Some("reason"), "{name}: reason required");
        let e = app
            .decide_publication(&p.exec, id, "maybe", "理由")
            .await
            .unwrap_err();
        assert_eq!(field(&e), Some("decision"));
        env.clock.advance_secs(60);
        app.decide_publication(
            &p.exec,
            id,
            "not_publish",
            "全員に個別に連絡し削除を確認できたため",
        )
        .await
        .unwrap();
        let view = app.publication_view(&p.exec, id).await.unwrap();
        assert!(view.can_decide && !view.can_record);
        assert_eq!(view.entries.len(), 3);
        let d = view.decision().unwrap();
        assert_eq!(d.decision, Some(Decision::NotPublish), "{name}");
        assert_eq!(
            d.decision_reason.as_deref(),
            Some("全員に個別に連絡し削除を確認できたため")
        );
        assert_eq!(
            d.viewpoints.volume, 1500,
            "the decision copies the viewpoints"
        );
        assert_eq!(d.recommendation, Recommendation::Publish);
        assert!(d.recorded_by.contains("watanabe"));
        assert!(
            view.recorded().unwrap().recorded_by.contains("tanaka"),
            "the viewpoints were recorded by the secretariat"
        );
        assert!(timeline(&env).await.iter().any(|l| l
            == "公表判断: 「公表しない」と決定しました（推奨: 公表する）\n理由: 全員に個別に連絡し削除を確認できたため"));
        // The CISO also decides.
        app.decide_publication(&p.ciso, id, "publish", "再検討の結果")
            .await
            .unwrap();
        assert_eq!(
            app.publication_view(&p.ciso, id)
                .await
                .unwrap()
                .decision()
                .unwrap()
                .decision,
            Some(Decision::Publish)
        );

        assert_eq!(
            audited(&env, "incident.publication.decide", Outcome::Success).await,
            2
        );
        assert_eq!(
            audited(&env, "incident.publication.decide", Outcome::Denied).await,
            3,
            "{name}: staff, head and privacy office refused (the colleague cannot even see it)"
        );
        assert_eq!(
            audited(&env, "incident.publication.record", Outcome::Success).await,
            2
        );
        assert!(audited(&env, "incident.publication.view", Outcome::Success).await >= 4);
        env.db.cleanup().await;
    }
}

#[tokio::test]
async fn the_recurrence_report_goes_department_secretariat_department_secretariat_management() {
    for env in envs().await {
        let (app, p, id) = (&env.app, &env.p, env.incident);
        let name = env.db.name;

        let v = app.recurrence_view(&p.reporter, id).await.unwrap();
        assert_eq!(v.state, State::Draft);
        assert_eq!(v.actions, vec![Action::Save, Action::Submit], "{name}");
        assert!(v.can_edit());
        let v = app.recurrence_view(&p.privacy, id).await.unwrap();
        assert!(v.actions.is_empty(), "the secretariat waits");

        // The department: an incomplete report cannot be submitted; a draft can be saved.
        let mut draft = Report {
            cause: "確認不足".into(),
            ..Report::default()
        };
        let e = app
            .recurrence_step(&p.reporter, id, "submit", Some(&draft), "")
            .await
            .unwrap_err();
        assert_eq!(field(&e), Some("planned"), "{name}");
        assert_eq!(
            app.recurrence_step(&p.reporter, id, "save", Some(&draft), "")
                .await
                .unwrap(),
            State::Draft
        );
        draft = report();
        // The privacy office never acts as the department.
        assert!(matches!(
            app.recurrence_step(&p.privacy, id, "submit", Some(&draft), "")
                .await,
            Err(AppError::Denied)
        ));
        env.clock.advance_secs(60);
        assert_eq!(
            app.recurrence_step(&p.reporter, id, "submit", Some(&draft), "")
                .await
                .unwrap(),
            State::Submitted
        );

        // Out of turn: management cannot approve what the secretariat has not forwarded.
        let e = app
            .recurrence_step(&p.exec, id, "approve", None, "")
            .await
            .unwrap_err();
        assert_eq!(field(&e), Some("action"));
        let m = message(&e);
        assert!(
            m.contains("「事務局確認中」の状態では「承認」はできません")
                && m.contains("事務局の確認待ち"),
            "{name}: {m}"
        );
        // Not their part at all.
        assert!(matches!(
            app.recurrence_step(&p.reporter, id, "forward", None, "")
                .await,
            Err(AppError::Denied)
        ));
        assert!(matches!(
            app.recurrence_step(&p.colleague, id, "save", Some(&draft), "")
                .await,
            Err(AppError::NotFound)
        ));
        // A sibling department head neither sees nor acts.
        assert!(matches!(
            app.recurrence_view(&p.head_sibling, id).await,
            Err(AppError::NotFound)
        ));
        assert!(matches!(
            app.recurrence_step(&p.head_sibling, id, "submit", Some(&draft), "")
                .await,
            Err(AppError::NotFound)
        ));

        // The secretariat returns it, with a comment (required).
        let e = app
            .recurrence_step(&p.privacy, id, "return", None, " ")
            .await
            .unwrap_err();
        assert_eq!(field(&e), Some("comment"), "{name}");
        let e = app
            .recurrence_step(
                &p.privacy,
                id,
                "return",
                Some(&report_edited()),
                "直しました",
            )
            .await
            .unwrap_err();
        assert_eq!(field(&e), Some("cause"), "only the department edits");
        env.clock.advance_secs(60);
        assert_eq!(
            app.recurrence_step(
                &p.privacy,
                id,
                "return",
                None,
                "原因の「確認手順がなかった」理由まで書いてください"
            )
            .await
            .unwrap(),
            State::Returned
        );

        // The department (its head this time) revises and submits again.
        let v = app.recurrence_view(&p.head_sales, id).await.unwrap();
        assert_eq!(v.state, State::Returned);
        assert_eq!(v.actions, vec![Action::Save, Action::Submit]);
        assert_eq!(v.report, draft, "the returned text is kept for revision");
        env.clock.advance_secs(60);
        assert_eq!(
            app.recurrence_step(
                &p.head_sales,
                id,
                "submit",
                Some(&report_edited()),
                "原因を追記しました"
            )
            .await
            .unwrap(),
            State::Submitted
        );
        // The secretariat forwards; management approves.
        let v = app.recurrence_view(&p.privacy, id).await.unwrap();
        assert_eq!(v.actions, vec![Action::Return, Action::Forward], "{name}");
        assert!(!v.can_edit());
        env.clock.advance_secs(60);
        assert_eq!(
            app.recurrence_step(&p.privacy, id, "forward", None, "")
                .await
                .unwrap(),
            State::Forwarded
        );
        let v = app.recurrence_view(&p.exec, id).await.unwrap();
        assert_eq!(v.actions, vec![Action::Approve, Action::SendBack]);
        env.clock.advance_secs(60);
        assert_eq!(
            app.recurrence_step(&p.exec, id, "approve", None, "承認します")
                .await
                .unwrap(),
            State::Approved
        );

        let v = app.recurrence_view(&p.reporter, id).await.unwrap();
        assert_eq!(v.state, State::Approved);
        assert!(v.actions.is_empty());
        assert_eq!(v.report, report_edited());
        let actions: Vec<Action> = v.steps.iter().map(|s| s.action).collect();
        assert_eq!(
            actions,
            vec![
                Action::Save,
                Action::Submit,
                Action::Return,
                Action::Submit,
                Action::Forward,
                Action::Approve
            ],
            "{name}"
        );
        assert_eq!(
            v.steps[2].comment,
            "原因の「確認手順がなかった」理由まで書いてください"
        );
        assert!(v.steps[2].actor.contains("tanaka"));
        let e = app
            .recurrence_step(&p.reporter, id, "submit", Some(&draft), "")
            .await
            .unwrap_err();
        assert!(message(&e).contains("承認済み"), "{}", message(&e));

        let lines: Vec<String> = timeline(&env)
            .await
            .into_iter()
            .filter(|l| l.starts_with("再発防止策"))
            .collect();
        assert_eq!(
            lines,
            vec![
                "再発防止策: 保存（営業部 山田 太郎）".to_owned(),
                "再発防止策: 事務局へ提出（営業部 山田 太郎）".to_owned(),
                "再発防止策: コメントを付けて差し戻す（本社 田中 美咲）\nコメント: 原因の「確認手順がなかった」理由まで書いてください".to_owned(),
                "再発防止策: 事務局へ提出（営業部 鈴木 一郎）\nコメント: 原因を追記しました".to_owned(),
                "再発防止策: 経営会議へ報告（本社 田中 美咲）".to_owned(),
                "再発防止策: 承認（本社 渡辺 直子）\nコメント: 承認します".to_owned(),
            ],
            "{name}"
        );
        assert_eq!(
            audited(&env, "incident.recurrence.submit", Outcome::Success).await,
            2
        );
        assert_eq!(
            audited(&env, "incident.recurrence.approve", Outcome::Success).await,
            1
        );
        assert_eq!(
            audited(&env, "incident.recurrence.submit", Outcome::Denied).await,
            1,
            "the privacy office as department"
        );
        assert_eq!(
            audited(&env, "incident.recurrence.forward", Outcome::Denied).await,
            1
        );
        assert!(audited(&env, "incident.recurrence.view", Outcome::Success).await >= 5);
        env.db.cleanup().await;
    }
}

fn report_edited() -> Report {
    let mut r = report();
    r.cause
        .push_str("（一斉送信の手順書がなく、個人のメールソフトで送っていた）");
    r
}

#[tokio::test]
async fn management_sends_back_and_one_person_may_be_two_parties() {
    for env in envs().await {
        let (app, p, id) = (&env.app, &env.p, env.incident);
        app.recurrence_step(&p.reporter, id, "submit", Some(&report()), "")
            .await
            .unwrap();
        // The CISO is both secretariat and management: it forwards, then may approve or send
        // back.
        let v = app.recurrence_view(&p.ciso, id).await.unwrap();
        assert_eq!(v.actions, vec![Action::Return, Action::Forward]);
        app.recurrence_step(&p.ciso, id, "forward", None, "")
            .await
            .unwrap();
        let v = app.recurrence_view(&p.ciso, id).await.unwrap();
        assert_eq!(v.actions, vec![Action::Approve, Action::SendBack]);
        let e = app
            .recurrence_step(&p.exec, id, "send_back", None, "")
            .await
            .unwrap_err();
        assert_eq!(field(&e), Some("comment"));
        assert_eq!(
            app.recurrence_step(&p.exec, id, "send_back", None, "期日を前倒ししてください")
                .await
                .unwrap(),
            State::Returned,
            "{}",
            env.db.name
        );
        let v = app.recurrence_view(&p.reporter, id).await.unwrap();
        assert_eq!(v.steps.last().unwrap().action, Action::SendBack);
        // Too many measures, or a measure without text, are named.
        let mut r = report();
        r.planned = (0..6)
            .map(|i| Measure {
                what: format!("対策{i}"),
                owner: "営業部".into(),
                date: None,
            })
            .collect();
        let e = app
            .recurrence_step(&p.reporter, id, "save", Some(&r), "")
            .await
            .unwrap_err();
        assert_eq!(field(&e), Some("planned"));
        r.planned = vec![Measure {
            what: String::new(),
            owner: "営業部".into(),
            date: None,
        }];
        let e = app
            .recurrence_step(&p.reporter, id, "save", Some(&r), "")
            .await
            .unwrap_err();
        assert_eq!(field(&e), Some("planned"));
        let e = app
            .recurrence_step(&p.reporter, id, "approve!", None, "")
            .await
            .unwrap_err();
        assert_eq!(field(&e), Some("action"));
        env.db.cleanup().await;
    }
}
