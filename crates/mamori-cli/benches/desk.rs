//! Contact desk and public page benchmark (issue 15): the public page of an incident in the
//! news while the contact desk keeps logging calls.
//!
//! Target (issue 15, "Performance (benchmark)"): at least 2,000 requests/s for the notice and
//! FAQ page with p99 under 50 ms at 256 concurrent connections, while operators keep logging
//! inquiries with p99 under 100 ms — on SQLite and PostgreSQL, load generator on loopback.
//!
//! Per database: the demo company (`seed_demo`, vault open) with its incident, campaign and
//! desk data; the campaign's public notice published by the privacy office; FAQ entries
//! approved until the page shows ten; the real router on 127.0.0.1. The operators are
//! `wrk -t1 -c8 --latency -s desk.lua /desk/inquiries`: each request a call logged through
//! the real form handler (`application/x-www-form-urlencoded`, the session cookie of "ito" of
//! the contact desk, obtained through the real login form, the CSRF token in `X-CSRF-Token`,
//! `Accept: application/json`), recorded in the audit log as in production. Per run, after a
//! warm-up, four measurements of the same duration, each with the operators calling and,
//! beside them, at the same time:
//!
//! 1. `page` — the public: `wrk -t2 -c256 --latency /notice/{slug}`, as fast as wrk can ask.
//!    The notice and the FAQ are one page (`/notice/{slug}#faq` is the same request: a
//!    fragment never reaches the server). No cookies, as a first-time reader comes.
//! 2. `static` — the baseline: the static asset closest in size to the page (of `app.css`,
//!    `desk.js`, `htmx.min.js`, `pow.js`, `evidence.js`; the page is about 11 KB, `desk.js`
//!    10.7 KB) through the same stack, the same way, so the ratio shows what the page costs
//!    over serving the same number of bytes.
//! 3. `paced` — the public page at about the issue's rate (each connection waits 0–220 ms
//!    before each request: at most ≈ 2,330 requests/s).
//! 4. `alone` — nothing: what a call costs without the public.
//!
//! Before the runs one POST must answer 200 JSON; after each measurement the inquiries in the
//! database must have grown by the operators' completed requests (plus at most the requests
//! in flight when wrk stopped), and no response may be other than 2xx.
//!
//! Run: `cargo bench -p mamori-cli --bench desk [-- RUNS [SECONDS]]` (default 3 runs of 20 s;
//! needs `wrk`: apt-get install wrk). PostgreSQL as in `common::stores`
//! (`MAMORI_BENCH_POSTGRES_URL`, `MAMORI_SKIP_POSTGRES=1` to skip).
//! `MAMORI_BENCH_DESK_PHASES=page,static,paced,alone` picks measurements;
//! `MAMORI_BENCH_DESK_OPS_PACE_MS=N` makes each operator wait 0–2N ms before each call.

#[path = "common.rs"]
mod common;

use mamori_app::clock::SystemClock;
use mamori_app::desk_faq::FaqText;
use mamori_app::keys::Keys;
use mamori_app::{App, Ctx, Settings};
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

/// Connections of the public and of the operators.
const PUBLIC_CONNECTIONS: u32 = 256;
const OPERATOR_CONNECTIONS: u32 = 8;
const WARMUP_SECS: u32 = 3;
/// The issue's targets.
const TARGET_RPS: f64 = 2_000.0;
const TARGET_PAGE_P99_MS: f64 = 50.0;
const TARGET_OPS_P99_MS: f64 = 100.0;
/// The static assets the baseline is chosen from (the one closest in size to the page).
const STATIC_FILES: [&str; 5] = ["app.css", "desk.js", "htmx.min.js", "pow.js", "evidence.js"];

/// FAQ entries approved on top of the demo's one (categories other than `what_to_do`).
const MORE_FAQ: [(&str, &str, &str); 9] = [
    (
        "affected",
        "自分の情報が含まれているか確認できますか",
        "このページの「対象かどうかの確認」にメールアドレスを入力してください。結果をそのアドレスにお送りします。",
    ),
    (
        "items",
        "どの情報が漏えいしましたか",
        "氏名、住所、電話番号、メールアドレス、購入履歴です。クレジットカード番号は含まれていません。",
    ),
    (
        "cause",
        "なぜ漏えいしたのですか",
        "委託先のサーバーに対する不正アクセスによるものです。詳しい経緯は調査の進捗に合わせてこのページでお知らせします。",
    ),
    (
        "damage",
        "不審なメールが届きました",
        "リンクを開かず、添付ファイルも開かずに削除してください。当社からパスワードをお尋ねするメールはお送りしません。",
    ),
    (
        "letter",
        "通知の手紙が届きましたが本物ですか",
        "本物です。差出人と窓口の電話番号がこのページの記載と同じかご確認ください。",
    ),
    (
        "compensation",
        "お詫びや補償はありますか",
        "お詫びの内容は検討中です。決まり次第、対象の皆様に書面でご案内します。",
    ),
    (
        "deletion",
        "退会して情報を削除してほしい",
        "お客様相談窓口で承ります。ご本人確認のうえ、退会と情報の削除を行います。",
    ),
    (
        "complaint",
        "対応が遅いのではないですか",
        "ご心配とご迷惑をおかけし申し訳ございません。いただいたご意見は対策本部で共有しています。",
    ),
    (
        "other",
        "窓口の受付時間を教えてください",
        "平日9時から18時まで（土日祝日を除く）です。期間中は土日も10時から17時まで受け付けます。",
    ),
];

/// What one wrk run said.
#[derive(Debug, Clone, Default)]
struct Wrk {
    rps: f64,
    requests: u64,
    p50: f64,
    p99: f64,
    non_2xx: u64,
    /// connect, read, write, timeout.
    socket_errors: [u64; 4],
    text: String,
}

impl Wrk {
    fn parse(text: String) -> Wrk {
        let mut w = Wrk {
            p50: f64::NAN,
            p99: f64::NAN,
            rps: f64::NAN,
            ..Wrk::default()
        };
        let mut in_dist = false;
        for line in text.lines() {
            let t = line.trim();
            if t.starts_with("Latency Distribution") {
                in_dist = true;
                continue;
            }
            if in_dist {
                let parts: Vec<&str> = t.split_whitespace().collect();
                if parts.len() == 2 && parts[0].ends_with('%') {
                    match parts[0] {
                        "50%" => w.p50 = millis(parts[1]),
                        "99%" => w.p99 = millis(parts[1]),
                        _ => {}
                    }
                    continue;
                }
                in_dist = false;
            }
            if let Some(x) = t.strip_prefix("Requests/sec:") {
                w.rps = x.trim().parse().unwrap_or(f64::NAN);
            } else if let Some(x) = t.strip_prefix("Non-2xx or 3xx responses:") {
                w.non_2xx = x.trim().parse().unwrap_or(u64::MAX);
            } else if let Some(x) = t.strip_prefix("Socket errors:") {
                // "connect 0, read 0, write 0, timeout 0"
                for (i, part) in x.split(',').enumerate().take(4) {
                    w.socket_errors[i] = part
                        .split_whitespace()
                        .nth(1)
                        .and_then(|n| n.parse().ok())
                        .unwrap_or(u64::MAX);
                }
            } else if t.contains(" requests in ") {
                w.requests = t
                    .split_whitespace()
                    .next()
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(0);
            }
        }
        w.text = text;
        w
    }

    fn errors(&self) -> u64 {
        self.socket_errors.iter().sum()
    }
}

/// A wrk duration ("812.00us", "3.21ms", "1.02s", "1.50m") in milliseconds.
fn millis(t: &str) -> f64 {
    let num = |x: &str| x.parse::<f64>().unwrap_or(f64::NAN);
    if let Some(x) = t.strip_suffix("us") {
        num(x) / 1000.0
    } else if let Some(x) = t.strip_suffix("ms") {
        num(x)
    } else if let Some(x) = t.strip_suffix('s') {
        num(x) * 1000.0
    } else if let Some(x) = t.strip_suffix('m') {
        num(x) * 60_000.0
    } else {
        f64::NAN
    }
}

/// Starts wrk; `script` is a Lua file for the operators' POSTs.
fn spawn_wrk(
    threads: u32,
    conns: u32,
    secs: u32,
    url: &str,
    script: Option<&str>,
) -> std::process::Child {
    let mut args = vec![
        format!("-t{threads}"),
        format!("-c{conns}"),
        format!("-d{secs}s"),
        "--timeout".into(),
        "10s".into(),
        "--latency".into(),
    ];
    if let Some(s) = script {
        args.push("-s".into());
        args.push(s.into());
    }
    args.push(url.into());
    Command::new("wrk")
        .args(&args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("wrk runs (apt-get install wrk)")
}

fn finish(child: std::process::Child) -> Wrk {
    let out = child.wait_with_output().expect("wrk finishes");
    assert!(
        out.status.success(),
        "wrk failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Wrk::parse(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The operators and, beside them, the public load `public` (a URL and an optional Lua
/// script), at the same time for `secs`.
async fn pair(
    public: Option<(String, Option<String>)>,
    ops_url: &str,
    script: &str,
    secs: u32,
) -> (Option<Wrk>, Wrk) {
    let (ops_url, script) = (ops_url.to_owned(), script.to_owned());
    tokio::task::spawn_blocking(move || {
        let public =
            public.map(|(url, lua)| spawn_wrk(2, PUBLIC_CONNECTIONS, secs, &url, lua.as_deref()));
        let ops = spawn_wrk(1, OPERATOR_CONNECTIONS, secs, &ops_url, Some(&script));
        (public.map(finish), finish(ops))
    })
    .await
    .expect("wrk thread")
}

/// Drops the database `common::stores("desk")` made on the PostgreSQL server.
async fn drop_postgres_database() {
    let admin_url = std::env::var("MAMORI_BENCH_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let admin = mamori_store::Store::connect(&admin_url, false)
        .await
        .expect("PostgreSQL admin connection");
    sqlx::query("DROP DATABASE IF EXISTS mamori_bench_desk WITH (FORCE)")
        .execute(admin.pool())
        .await
        .expect("drop the benchmark database");
    admin.close().await;
}

async fn inquiries(app: &App) -> i64 {
    sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM inquiries")
        .fetch_one(app.store.pool())
        .await
        .expect("count inquiries")
}

/// The cookies a response sets, as `name=value`.
fn set_cookies(r: &reqwest::Response) -> Vec<(String, String)> {
    r.headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|h| h.to_str().ok())
        .filter_map(|c| c.split(';').next())
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect()
}

/// The value of the first `name="csrf"` field of a page.
fn csrf_of(html: &str) -> String {
    let key = "name=\"csrf\" value=\"";
    let i = html.find(key).expect("the page has a CSRF field") + key.len();
    html[i..].split('"').next().unwrap_or_default().to_owned()
}

/// Signs "ito" in through the login form; the session cookie and the session's CSRF token.
async fn sign_in(base: &str, login: &str, password: &str) -> (String, String) {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("http client");
    let r = http
        .get(format!("{base}/login"))
        .send()
        .await
        .expect("GET /login");
    let anon = set_cookies(&r)
        .into_iter()
        .find(|(k, _)| k == "mamori_csrf")
        .expect("the login page sets the anonymous CSRF cookie");
    let token = csrf_of(&r.text().await.expect("login page"));
    let r = http
        .post(format!("{base}/login"))
        .header("Cookie", format!("mamori_csrf={}", anon.1))
        .form(&[
            ("csrf", token.as_str()),
            ("login", login),
            ("password", password),
        ])
        .send()
        .await
        .expect("POST /login");
    assert_eq!(r.status().as_u16(), 303, "login answers with a redirect");
    let session = set_cookies(&r)
        .into_iter()
        .find(|(k, _)| k == "mamori_session")
        .expect("the login sets the session cookie")
        .1;
    let r = http
        .get(format!("{base}/desk"))
        .header("Cookie", format!("mamori_session={session}"))
        .send()
        .await
        .expect("GET /desk");
    assert_eq!(
        r.status().as_u16(),
        200,
        "the desk opens for the contact desk"
    );
    let csrf = csrf_of(&r.text().await.expect("desk page"));
    (session, csrf)
}

/// The form of one logged call (the question numbered so each is distinct).
fn call_form(incident: i64, n: &str) -> String {
    let q = format!("通知の手紙が届きました。私の情報は含まれていますか（{n}）");
    let fields = [
        ("incident", incident.to_string()),
        ("channel", "phone".into()),
        ("caller_type", "customer".into()),
        ("category", "affected".into()),
        ("question", q),
        (
            "answer",
            "このページの確認フォームか窓口でご案内しています".into(),
        ),
        ("outcome", "close".into()),
    ];
    fields
        .iter()
        .map(|(k, v)| format!("{k}={}", urlencode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn urlencode(s: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 15)]));
        }
    }
    out
}

/// The operators' Lua script: every request a POST of a new call, numbered per thread; with
/// `pace_ms`, each operator waits 0 to twice that many milliseconds before each call.
fn lua_script(incident: i64, session: &str, csrf: &str, pace_ms: Option<u32>) -> String {
    let marker = "@@N@@";
    let body = call_form(incident, marker);
    let (head, tail) = body
        .split_once(&urlencode(marker))
        .expect("the body has the marker");
    format!(
        r#"wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Accept"] = "application/json"
wrk.headers["Cookie"] = "mamori_session={session}"
wrk.headers["X-CSRF-Token"] = "{csrf}"
local n = 0
request = function()
  n = n + 1
  return wrk.format(nil, nil, nil, "{head}" .. n .. "{tail}")
end
{delay}"#,
        delay = pace_ms.map_or(String::new(), |ms| format!(
            "delay = function()\n  return math.random(0, {})\nend\n",
            2 * ms
        ))
    )
}

/// What runs beside the operators in one measurement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// The public page, as fast as wrk can ask (the issue's load, unpaced).
    Page,
    /// The static asset of the page's size, as fast as wrk can ask (the baseline).
    Static,
    /// The public page paced to about the issue's 2,000 requests/s (see [`PACED_LUA`]).
    Paced,
    /// Nothing: the operators alone (what a call costs without the public).
    Alone,
}

impl Phase {
    const ALL: [Phase; 4] = [Phase::Page, Phase::Static, Phase::Paced, Phase::Alone];

    fn code(self) -> &'static str {
        match self {
            Phase::Page => "page",
            Phase::Static => "static",
            Phase::Paced => "paced",
            Phase::Alone => "alone",
        }
    }
}

/// wrk's `delay` hook: each of the 256 connections waits 0–220 ms (110 ms on average) before
/// each request, so the page is asked for at most 256 / 0.110 s ≈ 2,330 times a second, a
/// little above the issue's 2,000, spread out rather than in bursts.
const PACED_LUA: &str = "delay = function()\n  return math.random(0, 220)\nend\n";

/// One database's measurements, per phase: per run the public's wrk and the operators'.
struct Runs {
    name: &'static str,
    results: Vec<(Phase, Option<Wrk>, Wrk)>,
    page_bytes: usize,
    static_file: &'static str,
    static_bytes: usize,
    faq: usize,
    load: Vec<String>,
}

impl Runs {
    /// The median over the runs of `phase` of `f` of the public's wrk.
    fn public(&self, phase: Phase, f: impl Fn(&Wrk) -> f64) -> f64 {
        self.median(phase, |(p, _)| p.map_or(f64::NAN, &f))
    }

    /// The median over the runs of `phase` of `f` of the operators' wrk.
    fn ops(&self, phase: Phase, f: impl Fn(&Wrk) -> f64) -> f64 {
        self.median(phase, |(_, o)| f(o))
    }

    fn median(&self, phase: Phase, f: impl Fn((Option<&Wrk>, &Wrk)) -> f64) -> f64 {
        let v: Vec<f64> = self
            .results
            .iter()
            .filter(|(p, _, _)| *p == phase)
            .map(|(_, public, ops)| f((public.as_ref(), ops)))
            .collect();
        if v.is_empty() {
            f64::NAN
        } else {
            common::median(v)
        }
    }
}

#[tokio::main]
async fn main() {
    assert!(
        Command::new("wrk").arg("--version").output().is_ok(),
        "install wrk: apt-get install wrk"
    );
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let runs: usize = args
        .first()
        .and_then(|a| a.parse().ok())
        .unwrap_or(3)
        .max(1);
    let secs: u32 = args
        .get(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20)
        .max(1);
    // MAMORI_BENCH_DESK_PHASES=page,static,paced,alone (the default: all four).
    let phases: Vec<Phase> = match std::env::var("MAMORI_BENCH_DESK_PHASES") {
        Ok(list) => Phase::ALL
            .into_iter()
            .filter(|p| list.split(',').any(|x| x.trim() == p.code()))
            .collect(),
        Err(_) => Phase::ALL.to_vec(),
    };
    // MAMORI_BENCH_DESK_OPS_PACE_MS=N: each operator waits 0–2N ms before each call (by
    // default they call back to back).
    let ops_pace: Option<u32> = std::env::var("MAMORI_BENCH_DESK_OPS_PACE_MS")
        .ok()
        .and_then(|v| v.parse().ok());
    println!(
        "load average at start: {} ({runs} runs of {secs} s per database)",
        common::loadavg()
    );
    let mut all = Vec::new();
    for (name, store) in common::stores("desk").await {
        let keys = Keys::load_or_create(
            &std::env::temp_dir().join(format!("mamori-bench-desk-keys-{}", std::process::id())),
            true,
        )
        .expect("keys");
        let (app, writer) = App::new(
            store.clone(),
            keys,
            Arc::new(SystemClock),
            Settings::default(),
        );
        app.open_vault_default(true).await.expect("vault");
        let logins = app.seed_demo().await.expect("demo");
        let password = |login: &str| {
            logins
                .iter()
                .find(|l| l.login == login)
                .map(|l| l.password.clone())
                .expect("demo login")
        };
        let user = |login: &'static str| {
            let app = app.clone();
            async move {
                Ctx::user(
                    app.store
                        .find_user_by_login(login)
                        .await
                        .expect("user")
                        .expect("demo user"),
                    "127.0.0.1",
                )
            }
        };
        let (ito, tanaka) = (user("ito").await, user("tanaka").await);
        let incident = app.desk_incidents(&ito).await.expect("desk incidents")[0].id;
        let campaign = app.campaigns(&tanaka, incident).await.expect("campaigns")[0].id;
        let slug = app
            .publish_public_notice(&tanaka, campaign)
            .await
            .expect("publish");
        for (category, q, a) in MORE_FAQ {
            let entry = app
                .create_faq(
                    &tanaka,
                    incident,
                    category,
                    &FaqText {
                        question_ja: q.into(),
                        answer_ja: a.into(),
                        ..FaqText::default()
                    },
                )
                .await
                .expect("FAQ entry");
            app.approve_faq(&tanaka, entry, 1).await.expect("approve");
        }
        let faq = store.published_faq(incident).await.expect("FAQ").len();

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("address");
        let router = mamori_web::router(app.clone(), mamori_web::WebConfig::default());
        let server = tokio::spawn(async move {
            axum::serve(
                listener,
                router.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await
            .expect("serve");
        });
        let base = format!("http://{addr}");
        let page_url = format!("{base}/notice/{slug}");
        let ops_url = format!("{base}/desk/inquiries");

        // What the loads will ask for answers as it should.
        let http = reqwest::Client::new();
        let page = http.get(&page_url).send().await.expect("GET page");
        assert_eq!(page.status().as_u16(), 200, "the public page opens");
        let page = page.text().await.expect("page body");
        for (_, q, _) in MORE_FAQ {
            assert!(page.contains(q), "the page shows the FAQ entry {q}");
        }
        // The baseline: the static asset closest in size to the page.
        let mut sizes = Vec::new();
        for file in STATIC_FILES {
            let r = http
                .get(format!("{base}/static/{file}"))
                .send()
                .await
                .expect("GET static");
            assert_eq!(r.status().as_u16(), 200, "/static/{file}");
            sizes.push((file, r.bytes().await.expect("static body").len()));
        }
        let (static_file, static_bytes) = sizes
            .into_iter()
            .min_by_key(|(_, n)| n.abs_diff(page.len()))
            .expect("static files");
        let static_url = format!("{base}/static/{static_file}");
        let (session, csrf) = sign_in(&base, "ito", &password("ito")).await;
        let before = inquiries(&app).await;
        let r = http
            .post(&ops_url)
            .header("Cookie", format!("mamori_session={session}"))
            .header("X-CSRF-Token", &csrf)
            .header("Accept", "application/json")
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(call_form(incident, "check"))
            .send()
            .await
            .expect("POST a call");
        let status = r.status().as_u16();
        let ctype = r
            .headers()
            .get("content-type")
            .and_then(|h| h.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let body = r.text().await.unwrap_or_default();
        assert!(
            status == 200 && ctype.starts_with("application/json") && body.contains("\"id\""),
            "one logged call answers 200 JSON: {status} {ctype} {body}"
        );
        assert_eq!(inquiries(&app).await, before + 1, "the call is stored");

        let dir = std::env::temp_dir().join(format!("mamori-bench-desk-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let script_path = dir.join("desk.lua");
        std::fs::write(
            &script_path,
            lua_script(incident, &session, &csrf, ops_pace),
        )
        .expect("lua script");
        let script = script_path.display().to_string();

        let paced_path = dir.join("paced.lua");
        std::fs::write(&paced_path, PACED_LUA).expect("lua script");
        let paced = paced_path.display().to_string();

        let mut r = Runs {
            name,
            results: Vec::new(),
            page_bytes: page.len(),
            static_file,
            static_bytes,
            faq,
            load: Vec::new(),
        };
        for run in 1..=runs {
            pair(
                Some((page_url.clone(), None)),
                &ops_url,
                &script,
                WARMUP_SECS,
            )
            .await;
            for &phase in &phases {
                let public = match phase {
                    Phase::Page => Some((page_url.clone(), None)),
                    Phase::Static => Some((static_url.clone(), None)),
                    Phase::Paced => Some((page_url.clone(), Some(paced.clone()))),
                    Phase::Alone => None,
                };
                tokio::time::sleep(Duration::from_millis(500)).await;
                let before = inquiries(&app).await;
                let (public, ops) = pair(public, &ops_url, &script, secs).await;
                // Requests in flight when wrk stopped still complete on the server.
                tokio::time::sleep(Duration::from_secs(1)).await;
                let grown = inquiries(&app).await - before;
                let what = phase.code();
                println!(
                    "--- {name} run {run}, {what} + operators (load {}) ---\n{}\n{}",
                    common::loadavg(),
                    public.as_ref().map_or("", |p| p.text.as_str()),
                    ops.text
                );
                if let Some(p) = &public {
                    assert_eq!(p.non_2xx, 0, "{what}: every response 2xx");
                }
                assert_eq!(ops.non_2xx, 0, "operators: every response 2xx");
                let done = i64::try_from(ops.requests).unwrap_or(i64::MAX);
                assert!(
                    grown >= done && grown <= done + i64::from(OPERATOR_CONNECTIONS),
                    "inquiries grew by {grown}, wrk completed {done} calls"
                );
                println!(
                    "inquiries stored: +{grown} for {done} completed calls (+{} in flight at the end); socket errors: public {:?}, operators {:?}",
                    grown - done,
                    public.as_ref().map(|p| p.socket_errors),
                    ops.socket_errors
                );
                r.results.push((phase, public, ops));
            }
            r.load.push(common::loadavg());
        }
        all.push(r);
        server.abort();
        let _ = server.await;
        drop(app);
        // Every clone of the app gone, the audit writer flushes and ends.
        let _ = tokio::time::timeout(Duration::from_secs(30), writer).await;
        store.close().await;
        if name == "PostgreSQL" {
            drop_postgres_database().await;
        }
    }
    // The SQLite file, the scripts and the keys of this run.
    let pid = std::process::id();
    for dir in [
        format!("mamori-bench-desk-{pid}"),
        format!("mamori-bench-desk-keys-{pid}"),
    ] {
        let path = std::env::temp_dir().join(dir);
        let _ = std::fs::remove_dir_all(&path).or_else(|_| std::fs::remove_file(&path));
    }
    println!("load average at end: {}", common::loadavg());
    println!();
    println!(
        "| database | page rps | p50 (ms) | p99 (ms) | ops rps | ops p50 (ms) | ops p99 (ms) | static rps | static p99 (ms) | ratio page/static (rps) |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in &all {
        let page_rps = r.public(Phase::Page, |w| w.rps);
        let stat_rps = r.public(Phase::Static, |w| w.rps);
        println!(
            "| {} | {:.0} | {:.2} | {:.2} | {:.0} | {:.2} | {:.2} | {:.0} | {:.2} | {:.2} |",
            r.name,
            page_rps,
            r.public(Phase::Page, |w| w.p50),
            r.public(Phase::Page, |w| w.p99),
            r.ops(Phase::Page, |w| w.rps),
            r.ops(Phase::Page, |w| w.p50),
            r.ops(Phase::Page, |w| w.p99),
            stat_rps,
            r.public(Phase::Static, |w| w.p99),
            page_rps / stat_rps,
        );
    }
    println!();
    println!(
        "| database | paced page rps | p50 (ms) | p99 (ms) | ops rps | ops p50 (ms) | ops p99 (ms) | ops beside static: p99 (ms) | ops alone: rps | p50 (ms) | p99 (ms) |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in &all {
        println!(
            "| {} | {:.0} | {:.2} | {:.2} | {:.0} | {:.2} | {:.2} | {:.2} | {:.0} | {:.2} | {:.2} |",
            r.name,
            r.public(Phase::Paced, |w| w.rps),
            r.public(Phase::Paced, |w| w.p50),
            r.public(Phase::Paced, |w| w.p99),
            r.ops(Phase::Paced, |w| w.rps),
            r.ops(Phase::Paced, |w| w.p50),
            r.ops(Phase::Paced, |w| w.p99),
            r.ops(Phase::Static, |w| w.p99),
            r.ops(Phase::Alone, |w| w.rps),
            r.ops(Phase::Alone, |w| w.p50),
            r.ops(Phase::Alone, |w| w.p99),
        );
    }
    println!();
    let yes = |b: bool| if b { "met" } else { "MISSED" };
    for r in &all {
        println!(
            "{}: page {} bytes with {} FAQ entries, static /static/{} {} bytes; loads after each run: {}",
            r.name,
            r.page_bytes,
            r.faq,
            r.static_file,
            r.static_bytes,
            r.load.join(" / ")
        );
        let errors: u64 = r
            .results
            .iter()
            .map(|(_, p, o)| p.as_ref().map_or(0, Wrk::errors) + o.errors())
            .sum();
        for (phase, label) in [(Phase::Page, "unpaced"), (Phase::Paced, "paced")] {
            if !r.results.iter().any(|(p, _, _)| *p == phase) {
                continue;
            }
            let page_rps = r.public(phase, |w| w.rps);
            let page_p99 = r.public(phase, |w| w.p99);
            let ops_p99 = r.ops(phase, |w| w.p99);
            println!(
                "{} ({label}): page ≥ {TARGET_RPS:.0} rps {}; page p99 < {TARGET_PAGE_P99_MS:.0} ms {}; operators p99 < {TARGET_OPS_P99_MS:.0} ms {}",
                r.name,
                yes(page_rps >= TARGET_RPS),
                yes(page_p99 < TARGET_PAGE_P99_MS),
                yes(ops_p99 < TARGET_OPS_P99_MS),
            );
        }
        println!("{}: socket errors {errors}", r.name);
    }
}
