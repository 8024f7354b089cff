//! Issue 13, item 8: words at display time, on real data upgraded from the release before
//! migration 0011. Rows written before it (Japanese text only) still show their text; rows
//! written after it carry a code that is shown in the reader's language.

use mamori_app::clock::ManualClock;
use mamori_app::keys::Keys;
use mamori_app::{App, Ctx, Settings};
use mamori_domain::incident::line::show_row;
use mamori_domain::incident::obligation::show_basis;
use mamori_domain::incident::Phase;
use mamori_domain::lang::Lang;
use mamori_store::testing::{temp_dir, TestDb};
use std::sync::Arc;

const T0: i64 = 1_767_225_600_000_000; // 2026-01-01T00:00:00Z

const OLD_ASSESSMENT: &str =
    "判定: 個人情報保護委員会への報告対象（financial, over_1000）。速報期限 2026-01-05、確報期限 2026-01-30";
const OLD_BASIS: &str = "個人情報保護法26条1項・施行規則8条1項: 速やかに（3〜5日目安）";

fn has_japanese(s: &str) -> bool {
    s.chars().any(|c| {
        ('\u{3040}'..='\u{30ff}').contains(&c)
            || ('\u{4e00}'..='\u{9fff}').contains(&c)
            || ('\u{ff00}'..='\u{ffef}').contains(&c)
    })
}

#[tokio::test]
async fn rows_from_before_migration_0011_keep_their_text_and_new_rows_speak_the_readers_language() {
    for db in TestDb::all_at(10).await {
        let s = &db.store;
        let name = db.name;
        // The old release's data, in its columns.
        let facts = serde_json::json!({
            "found_at": T0, "knew_at": T0, "event": "leak", "suspected": false,
            "items": ["credit_card_number"], "persons": 1500
        })
        .to_string();
        for sql in [
            "INSERT INTO companies (id, code, name, created_at) VALUES (5, 'old-co', '旧株式会社', 1)",
            "INSERT INTO departments (id, company_id, parent_id, name, created_at) \
             VALUES (6, 5, NULL, '本社', 1)",
            "INSERT INTO users (id, company_id, department_id, login, display_name, email, \
             password_hash, created_at, updated_at) \
             VALUES (7, 5, 6, 'office', '個人 情報', 'office@example.jp', '$argon2id$x', 1, 1)",
            "INSERT INTO user_roles (user_id, role) VALUES (7, 'privacy_office')",
        ] {
            sqlx::query(sql).execute(s.pool()).await.unwrap();
        }
        sqlx::query(
            "INSERT INTO incidents (id, company_id, ref_no, drill, title, description, \
             actions_taken, found_by, reporter_id, department_id, status, phase, facts, \
             assessment, reportable, persons, found_at, knew_at, created_at, updated_at) \
             VALUES (9, 5, '2026-0001', 0, '誤送信', '説明', '', '', 7, 6, 'open', 'task_force', \
             $1, '{}', 1, 1500, $2, $2, $2, $2)",
        )
        .bind(&facts)
        .bind(T0)
        .execute(s.pool())
        .await
        .unwrap();
        sqlx::query("INSERT INTO incident_line (incident_id, department_id) VALUES (9, 6)")
            .execute(s.pool())
            .await
            .unwrap();
        sqlx::query(
            "INSERT INTO incident_events (incident_id, at, actor, kind, text, detail) \
             VALUES (9, $1, 'mamori', 'assessment', $2, '{}')",
        )
        .bind(T0)
        .bind(OLD_ASSESSMENT)
        .execute(s.pool())
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO obligations (incident_id, kind, due_on, warn_on, basis, status, \
             updated_at) VALUES (9, 'preliminary_report', '2026-01-05', '2026-01-03', $1, \
             'open', $2)",
        )
        .bind(OLD_BASIS)
        .bind(T0)
        .execute(s.pool())
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO tasks (incident_id, phase, title, status, created_at, updated_at) \
             VALUES (9, 'task_force', '対策本部を設置し責任者を決める', 'todo', $1, $1)",
        )
        .bind(T0)
        .execute(s.pool())
        .await
        .unwrap();

        s.migrate().await.unwrap();

        let clock = Arc::new(ManualClock::new(T0 + 3_600_000_000));
        let keys = Keys::load_or_create(&temp_dir("keys").join("k"), true).unwrap();
        let (app, _writer) = App::new(s.clone(), keys, clock, Settings::default());
        let office = Ctx::user(s.get_user(7).await.unwrap(), "127.0.0.1");
        // New rows after the upgrade: a phase with its tasks, an obligation fulfilled.
        app.enter_phase(&office, 9, "containment").await.unwrap();
        let view = app.incident_view(&office, 9).await.unwrap();
        let o = &view.obligations[0];
        app.set_obligation(&office, o.id, true).await.unwrap();

        let view = app.incident_view(&office, 9).await.unwrap();
        // The old rows: no code, their text as stored (the category codes put into words).
        let old = &view.timeline[0];
        assert_eq!(old.msg, None, "{name}");
        assert_eq!(
            old.text, OLD_ASSESSMENT,
            "{name}: the stored text is not rewritten"
        );
        let shown = show_row(old.msg.as_deref(), &old.text, Lang::En);
        assert!(
            shown.contains("財産的被害のおそれ、千人超"),
            "{name}: {shown}"
        );
        assert!(!shown.contains("over_1000"), "{name}: {shown}");
        let o = &view.obligations[0];
        assert_eq!(o.basis_msg, None);
        assert_eq!(show_basis(None, &o.basis, Lang::En), OLD_BASIS, "{name}");
        let old_task = &view.tasks[0];
        assert_eq!(old_task.template, None);
        assert_eq!(
            Phase::show_task_title(None, &old_task.title, Lang::En),
            "対策本部を設置し責任者を決める"
        );
        // The new rows: a code, shown in English without Japanese, and the Japanese text kept.
        let new_lines: Vec<_> = view.timeline.iter().skip(1).collect();
        assert_eq!(new_lines.len(), 2, "{name}: {new_lines:?}");
        for e in &new_lines {
            assert!(e.msg.is_some(), "{name}: {e:?}");
            assert!(
                has_japanese(&e.text),
                "{name}: the text column stays Japanese"
            );
            let en = show_row(e.msg.as_deref(), &e.text, Lang::En);
            assert!(!has_japanese(&en), "{name}: {en}");
        }
        assert_eq!(
            show_row(new_lines[0].msg.as_deref(), &new_lines[0].text, Lang::En),
            "Moved to phase 2 “Containment”"
        );
        let new_task = view
            .tasks
            .iter()
            .find(|t| t.phase == "containment")
            .unwrap();
        assert_eq!(
            Phase::show_task_title(new_task.template.as_deref(), &new_task.title, Lang::En),
            "Cut off the leak (stop access, change passwords)"
        );
        assert_eq!(
            Phase::show_task_title(new_task.template.as_deref(), &new_task.title, Lang::Ja),
            new_task.title
        );
        db.cleanup().await;
    }
}
