//! Exactly once under `kill -9` (issue 14): real `mamori serve` processes send a campaign of a
//! few hundred e-mails to the real SMTP sink on loopback; one is killed with SIGKILL mid-way
//! and started again. The in-doubt messages (claimed, maybe accepted by the relay, never
//! confirmed) are settled from the relay's log, and every person must have exactly one
//! message at the sink — on SQLite, on PostgreSQL, and with two servers on one PostgreSQL.

use mamori_app::admin::UserInput;
use mamori_app::campaign::{CampaignOptions, Channel};
use mamori_app::clock::SystemClock;
use mamori_app::impact::{AffectedPerson, Contact};
use mamori_app::incident::FirstReportInput;
use mamori_app::keys::Keys;
use mamori_app::{App, Ctx, Settings};
use mamori_domain::appi::Item;
use mamori_domain::role::Role;
use mamori_mail::sink::{Received, SmtpSink};
use mamori_store::testing::{temp_dir, TestDb};
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_mamori");
const PERSONS: i64 = 300;

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Server {
    /// SIGKILL: no shutdown, no flush, the process is gone at once.
    fn kill9(mut self) {
        self.0.kill().unwrap();
        self.0.wait().unwrap();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start(url: &str, keys: &Path, smtp_port: u16) -> Server {
    let port = free_port();
    let mut child = Command::new(BIN)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .env("MAMORI_DATABASE_URL", url)
        .env("MAMORI_KEY_DIR", keys)
        .env("MAMORI_SMTP_HOST", "127.0.0.1")
        .env("MAMORI_SMTP_PORT", smtp_port.to_string())
        .env("MAMORI_LOG", "error")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let deadline = Instant::now() + Duration::from_mins(1);
    loop {
        assert!(Instant::now() < deadline, "server did not start");
        match lines.next() {
            Some(Ok(l)) if l.starts_with("mamori: http://") => break,
            Some(_) => {}
            None => panic!("server exited before listening"),
        }
    }
    std::thread::spawn(move || for _ in lines {});
    Server(child)
}

fn notices(sink: &SmtpSink) -> Vec<Received> {
    sink.messages()
        .into_iter()
        .filter(|m| m.parsed().header("X-Mamori-Kind") == Some("notice"))
        .collect()
}

async fn user(app: &App, co: i64, dept: i64, login: &str, role: Role) -> Ctx {
    let (id, _) = app
        .create_user(
            &Ctx::local(),
            &UserInput {
                company_id: Some(co),
                department_id: dept,
                login: login.into(),
                display_name: login.into(),
                email: format!("{login}@example.co.jp"),
                roles: vec![role],
                password: Some("correct horse battery".into()),
                locale: "ja".into(),
            },
        )
        .await
        .unwrap();
    Ctx::user(app.store.get_user(id).await.unwrap(), "127.0.0.1")
}

/// An App in the test process on the same database and keys as the servers; makes the
/// incident, the approved notice and the campaign. Returns the app and the campaign id.
async fn setup(db: &TestDb, keys: &Path) -> (App, i64) {
    let k = Keys::load_or_create(keys, true).unwrap();
    let (app, _w) = App::new(
        db.store.clone(),
        k,
        Arc::new(SystemClock),
        Settings::default(),
    );
    let l = Ctx::local();
    let co = app
        .create_company(&l, "mirai", "株式会社みらい通販")
        .await
        .unwrap();
    let hq = app.create_department(&l, co, None, "本社").await.unwrap();
    let privacy = user(&app, co, hq, "tanaka", Role::PrivacyOffice).await;
    let exec = user(&app, co, hq, "watanabe", Role::Executive).await;
    let (incident, _) = app
        .file_first_report(
            &privacy,
            &FirstReportInput {
                description: "顧客リストの誤送信".into(),
                event: "leak".into(),
                items: vec!["name".into(), "email".into()],
                ..FirstReportInput::default()
            },
        )
        .await
        .unwrap();
    let mut n = app.draft_notice(&privacy, incident).await.unwrap();
    n.ja.contact = "お客様相談室 0120-000-000".into();
    n.en = None;
    let v = app.save_notice(&privacy, incident, &n).await.unwrap();
    app.approve_notice(&exec, incident, v).await.unwrap();
    let persons = (1..=PERSONS)
        .map(|i| AffectedPerson {
            id: i,
            record_id: None,
            items: vec![Item::Name, Item::Email],
            contact: Contact {
                name: Some(format!("顧客 {i}")),
                email: Some(format!("kokyaku{i}@example.jp")),
                ..Contact::default()
            },
        })
        .collect();
    let campaign = app
        .create_campaign_for(
            &privacy,
            incident,
            &CampaignOptions {
                channels: vec![Channel::Email],
                rate_per_sec: 60,
                lease_secs: 3,
            },
            persons,
        )
        .await
        .unwrap();
    (app, campaign)
}

async fn wait_until(what: &str, secs: u64, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until nothing is queued or sending, settles the in-doubt messages from the sink's
/// log, waits for the resent ones, and checks one message per person.
async fn finish_and_check(app: &App, campaign: i64, sink: &SmtpSink, name: &str) {
    let ctx = Ctx::local();
    let deadline = Instant::now() + Duration::from_mins(2);
    let mut resolved = (0, 0);
    loop {
        assert!(Instant::now() < deadline, "{name}: campaign did not finish");
        let f = app.campaign_funnel(&ctx, campaign).await.unwrap();
        let doubt = f
            .states
            .iter()
            .filter(|(_, s, _)| s.code() == "in_doubt")
            .map(|(_, _, n)| *n)
            .sum::<i64>();
        if f.notified == PERSONS {
            break;
        }
        if doubt > 0 && f.pending == doubt {
            let log: Vec<String> = notices(sink)
                .iter()
                .filter_map(|m| m.parsed().message_id)
                .collect();
            let (c, r) = app.resolve_in_doubt(&ctx, campaign, &log).await.unwrap();
            resolved.0 += c;
            resolved.1 += r;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let got = notices(sink);
    let mut per: HashMap<String, usize> = HashMap::new();
    for m in &got {
        for to in &m.to {
            *per.entry(to.clone()).or_default() += 1;
        }
    }
    let twice: Vec<_> = per.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "{name}: sent twice: {twice:?}");
    assert_eq!(per.len() as i64, PERSONS, "{name}: every person once");
    assert_eq!(got.len() as i64, PERSONS, "{name}");
    eprintln!(
        "{name}: in doubt after the kill: {} confirmed from the log, {} resent",
        resolved.0, resolved.1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_mid_campaign_sends_exactly_once() {
    for db in TestDb::all().await {
        let keys = temp_dir("keys").join("k");
        let sink = SmtpSink::start().await;
        let (app, campaign) = setup(&db, &keys).await;
        let server = start(&db.url, &keys, sink.port());
        wait_until("the first messages", 60, || notices(&sink).len() >= 60).await;
        server.kill9();
        let at_kill = notices(&sink).len();
        assert!(
            (at_kill as i64) < PERSONS,
            "{}: killed too late ({at_kill})",
            db.name
        );
        let server = start(&db.url, &keys, sink.port());
        finish_and_check(&app, campaign, &sink, db.name).await;
        drop(server);
        db.cleanup().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_on_one_postgres_one_killed_send_exactly_once() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let keys = temp_dir("keys").join("k");
    let sink = SmtpSink::start().await;
    let (app, campaign) = setup(&db, &keys).await;
    let a = start(&db.url, &keys, sink.port());
    let b = start(&db.url, &keys, sink.port());
    wait_until("the first messages", 60, || notices(&sink).len() >= 60).await;
    a.kill9();
    let a = start(&db.url, &keys, sink.port());
    finish_and_check(&app, campaign, &sink, "two servers on postgres").await;
    drop((a, b));
    db.cleanup().await;
}
