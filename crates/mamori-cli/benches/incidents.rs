//! Incident benchmarks (issue 3), on SQLite and PostgreSQL, with the server wired as
//! `mamori serve` wires it: the axum router on loopback, the background worker, the audit
//! writer (every request is recorded durably before it is answered) and a mailer that speaks
//! SMTP to a real SMTP server on loopback (`mamori_mail::sink::SmtpSink`).
//!
//! (a) **Alert latency.** The staff user `yamada` files 50 first reports at once
//!     (`POST /incidents`, as the form does), five rounds. For each incident: from the moment
//!     its request was sent to the moment the SMTP server accepted the last of its level-1
//!     alert mails (the demo call tree has two people at level 1). Target: p99 < 2 s.
//! (b) **The incident list with 100,000 incidents** (three years, ~10 % open, ~5 % drills):
//!     wrk, 2 threads, 32 connections, 8 s, three runs per page, on three filtered pages.
//!     Target: p99 < 50 ms.
//!
//! The 100,000 incidents are inserted before (a), so the filing also runs against a full table.
//! The query plans of the list query are printed for each page (EXPLAIN QUERY PLAN on SQLite,
//! EXPLAIN ANALYZE on PostgreSQL).
//!
//! Run: `cargo bench -p mamori-cli --bench incidents` (needs `wrk`: apt-get install wrk).
//! `MAMORI_SKIP_POSTGRES=1` measures SQLite only, `MAMORI_BENCH_SKIP_ALERTS=1` skips (a), and
//! `MAMORI_BENCH_KEEP=1` keeps the SQLite file (the PostgreSQL database `mamori_bench_incidents`
//! is always kept until the next run) for looking at query plans afterwards.

#[path = "common.rs"]
mod common;

use chrono::{Datelike, FixedOffset, NaiveDate, TimeZone};
use mamori_app::clock::SystemClock;
use mamori_app::keys::Keys;
use mamori_app::{App, Ctx, Settings};
use mamori_mail::sink::SmtpSink;
use mamori_mail::{Mailer, SmtpConfig};
use mamori_store::incidents::{escape_like, IncidentFilter, ListScope};
use mamori_store::{Backend, Store};
use sqlx::Row;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

/// Incidents in the table for (b).
const INCIDENTS: usize = 100_000;
/// First reports filed at once in (a), and how many times.
const CONCURRENT: usize = 50;
const ROUNDS: usize = 5;
/// wrk's connections in (b).
const CONNECTIONS: &str = "-c32";
const DAY: i64 = 86_400_000_000;
const MINUTE: i64 = 60_000_000;
/// The word searched in (b); only one incident template (about 0.3 % of rows) contains it.
const SEARCH_WORD: &str = "ランサムウェア";

// ───────────────────────────── the server ─────────────────────────────

struct Server {
    app: App,
    sink: SmtpSink,
    addr: SocketAddr,
    passwords: HashMap<String, String>,
    http: tokio::task::JoinHandle<()>,
    worker: tokio::task::JoinHandle<()>,
    stop: tokio::sync::watch::Sender<bool>,
}

/// The key directory of this run (one for both databases, removed at the end).
fn keys_dir() -> std::path::PathBuf {
    std::env::temp_dir().join(format!(
        "mamori-bench-keys-incidents-{}",
        std::process::id()
    ))
}

async fn start(store: Store) -> Server {
    let keys = Keys::load_or_create(&keys_dir(), true).unwrap();
    let sink = SmtpSink::start().await;
    let mailer = Mailer::new(&SmtpConfig {
        host: "127.0.0.1".into(),
        port: sink.port(),
        ..SmtpConfig::default()
    })
    .unwrap();
    let (app, _writer) = App::new(store, keys, Arc::new(SystemClock), Settings::default());
    let app = app.with_mailer(mailer);
    let passwords = app
        .seed_demo()
        .await
        .unwrap()
        .into_iter()
        .map(|l| (l.login, l.password))
        .collect();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = mamori_web::router(app.clone(), mamori_web::WebConfig::default());
    let http = tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });
    // The worker, exactly as `mamori serve` runs it.
    let (stop, stop_rx) = tokio::sync::watch::channel(false);
    let worker = tokio::spawn(
        app.clone()
            .run_worker("bench".into(), App::job_handlers(), stop_rx),
    );
    Server {
        app,
        sink,
        addr,
        passwords,
        http,
        worker,
        stop,
    }
}

impl Server {
    /// Logs `login` in through the use case; returns the session token.
    async fn login(&self, login: &str) -> String {
        self.app
            .login(
                &Ctx::anonymous("127.0.0.1"),
                login,
                &self.passwords[login],
                "bench",
            )
            .await
            .unwrap()
            .token
    }

    async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.worker.await;
        self.http.abort();
        self.sink.stop();
    }
}

// ───────────────────────────── 100,000 incidents ─────────────────────────────

/// A small deterministic generator (SplitMix64), so every run inserts the same table.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// True with probability `per_mille` / 1000.
    fn chance(&mut self, per_mille: u64) -> bool {
        self.below(1000) < per_mille
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }

    fn weighted<T: Copy>(&mut self, items: &[(T, u64)]) -> T {
        let total: u64 = items.iter().map(|(_, w)| w).sum();
        let mut r = self.below(total);
        for &(t, w) in items {
            if r < w {
                return t;
            }
            r -= w;
        }
        items[items.len() - 1].0
    }
}

/// What kind of incident, in per mille of all incidents: (title, what happened, event kind,
/// reportable by nature).
const KINDS: &[((&str, &str, bool), u64)] = &[
    (("会員向けメールマガジンの誤送信（BCC漏れ）", "会員向けのお知らせメールを、宛先をBCCではなくTOに入れて送信した。受信者同士にメールアドレスが見える状態になった。", false), 140),
    (("注文確認メールの宛先誤り", "注文確認メールの送信先の設定を誤り、別の顧客に氏名・住所・購入商品が記載されたメールが届いた。", false), 100),
    (("配送伝票の誤封入", "出荷作業で別の顧客の納品書を同梱して発送した。受け取った顧客からの問い合わせで判明した。", false), 120),
    (("宛名ラベルの貼り間違いによる誤配送", "梱包時に宛名ラベルを取り違え、商品と納品書が別の顧客に配送された。", false), 100),
    (("顧客リストを保存したノートPCの紛失", "出張中に顧客リストを保存したノートPCを電車内に置き忘れた。ディスクは暗号化されていたか確認中。", false), 50),
    (("USBメモリの紛失", "社内規程に反して顧客データをUSBメモリに複製し、持ち帰る途中で紛失した。", false), 50),
    (("FAXの誤送信", "取引先へ送るはずの注文書を、番号の押し間違いにより無関係の事業者へFAXした。", false), 80),
    (("申込書（紙）の紛失", "店頭で受け付けた会員申込書の束が保管庫から見つからない。廃棄された可能性もある。", false), 60),
    (("共有フォルダのアクセス権設定誤り", "顧客対応記録を置いた共有フォルダが全社員から閲覧できる設定になっていた。", false), 50),
    (("ECサイトへの不正ログイン", "リスト型攻撃とみられる大量のログイン試行があり、一部の会員アカウントへの不正ログインを確認した。", true), 60),
    (("委託先での顧客名簿の紛失", "発送業務の委託先から、預けた顧客名簿の一部を紛失したとの報告があった。", false), 40),
    (("退職予定者による顧客データの持ち出し", "退職予定の従業員が顧客データを私用のクラウドストレージへ転送していたことがログから判明した。", true), 20),
    (("クレジットカード情報の漏えいの疑い", "決済代行会社から、当社サイト経由で決済されたカードの不正利用が多発しているとの連絡があった。", true), 20),
    (("問い合わせフォームの設定誤りによる情報の閲覧可能状態", "問い合わせフォームの改修後、他の利用者の入力内容が確認画面に表示される不具合があった。", false), 40),
    (("コールセンターでの本人確認不備による誤回答", "電話での本人確認が不十分なまま、第三者に会員の登録住所と注文履歴を回答した。", false), 67),
    (("ランサムウェア感染によるファイルサーバーの暗号化", "ファイルサーバーがランサムウェアに感染し、顧客台帳を含むファイルが暗号化された。外部への送信の有無を調査中。", true), 3),
];

const PLACES: &[&str] = &[
    "本社",
    "大阪物流センター",
    "横浜倉庫",
    "福岡コールセンター",
    "名古屋支店",
    "札幌営業所",
    "仙台コールセンター",
    "委託先（発送代行）",
    "委託先（システム保守）",
    "新宿店",
    "梅田店",
    "オンラインストア",
];

const ACTIONS: &[&str] = &[
    "該当する顧客へ連絡し、お詫びと削除の依頼を行った。",
    "送信システムを停止し、原因を調査中。",
    "受け取った方から回収の同意を得た。",
    "警察へ遺失届を提出した。",
    "アクセス権を修正し、閲覧ログを確認中。",
    "パスワードのリセットを行い、対象の会員へ通知した。",
    "",
];

/// Departments where incidents happen (names of the demo company), in per mille.
const WHERE: &[(&str, u64)] = &[
    ("カスタマーサポート課", 300),
    ("物流課", 200),
    ("システム部", 120),
    ("バイヤー部", 100),
    ("オペレーションサービス部", 50),
    ("経営戦略室", 50),
    ("管理部", 50),
    ("個人情報保護事務局", 50),
    ("内部監査室", 30),
    ("取締役会", 50),
];

/// Open phases an unfinished incident may be in.
const OPEN_PHASES: &[&str] = &[
    "task_force",
    "containment",
    "analysis",
    "remediation",
    "contact_desk",
    "publication",
];

/// One row of `incidents` in the column order of the bulk inserts (`facts`, `assessment` and
/// `version` are common to all rows and bound separately).
fn row_json(out: &mut Vec<serde_json::Value>, r: &Generated) {
    out.push(serde_json::json!([
        r.id,
        r.company_id,
        r.ref_no,
        i64::from(r.drill),
        r.title,
        r.description,
        r.actions_taken,
        r.found_by,
        r.reporter_id,
        r.department_id,
        if r.open { "open" } else { "closed" },
        r.phase,
        i64::from(r.reportable),
        r.persons,
        r.occurred_at,
        r.found_at,
        r.found_at,
        r.acknowledged_at,
        r.acknowledged_by,
        r.created_at,
        r.updated_at,
        r.closed_at,
    ]));
}

const INSERT_INCIDENTS_SQLITE: &str = "INSERT INTO incidents (id, company_id, ref_no, drill, \
    title, description, actions_taken, found_by, reporter_id, department_id, status, phase, \
    facts, assessment, reportable, persons, occurred_at, found_at, knew_at, acknowledged_at, \
    acknowledged_by, version, created_at, updated_at, closed_at) \
    SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]'), \
    json_extract(value, '$[3]'), json_extract(value, '$[4]'), json_extract(value, '$[5]'), \
    json_extract(value, '$[6]'), json_extract(value, '$[7]'), json_extract(value, '$[8]'), \
    json_extract(value, '$[9]'), json_extract(value, '$[10]'), json_extract(value, '$[11]'), \
    $2, $3, json_extract(value, '$[12]'), json_extract(value, '$[13]'), \
    json_extract(value, '$[14]'), json_extract(value, '$[15]'), json_extract(value, '$[16]'), \
    json_extract(value, '$[17]'), json_extract(value, '$[18]'), 1, json_extract(value, '$[19]'), \
    json_extract(value, '$[20]'), json_extract(value, '$[21]') FROM json_each($1)";

const INSERT_INCIDENTS_POSTGRES: &str = "INSERT INTO incidents (id, company_id, ref_no, drill, \
    title, description, actions_taken, found_by, reporter_id, department_id, status, phase, \
    facts, assessment, reportable, persons, occurred_at, found_at, knew_at, acknowledged_at, \
    acknowledged_by, version, created_at, updated_at, closed_at) \
    SELECT (e->>0)::bigint, (e->>1)::bigint, e->>2, (e->>3)::bigint, e->>4, e->>5, e->>6, e->>7, \
    (e->>8)::bigint, (e->>9)::bigint, e->>10, e->>11, CAST($2 AS TEXT), CAST($3 AS TEXT), \
    (e->>12)::bigint, (e->>13)::bigint, (e->>14)::bigint, (e->>15)::bigint, (e->>16)::bigint, \
    (e->>17)::bigint, e->>18, 1, (e->>19)::bigint, (e->>20)::bigint, (e->>21)::bigint \
    FROM jsonb_array_elements(CAST($1 AS TEXT)::jsonb) AS e";

const INSERT_LINE_SQLITE: &str = "INSERT INTO incident_line (incident_id, department_id) \
    SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each($1)";

const INSERT_LINE_POSTGRES: &str = "INSERT INTO incident_line (incident_id, department_id) \
    SELECT (e->>0)::bigint, (e->>1)::bigint FROM jsonb_array_elements(CAST($1 AS TEXT)::jsonb) AS e";

struct Generated {
    id: i64,
    company_id: i64,
    ref_no: String,
    drill: bool,
    title: String,
    description: String,
    actions_taken: String,
    found_by: String,
    reporter_id: i64,
    department_id: i64,
    open: bool,
    phase: &'static str,
    reportable: bool,
    persons: i64,
    occurred_at: Option<i64>,
    found_at: i64,
    acknowledged_at: Option<i64>,
    acknowledged_by: Option<String>,
    created_at: i64,
    updated_at: i64,
    closed_at: Option<i64>,
    line: Vec<i64>,
}

fn jst() -> FixedOffset {
    FixedOffset::east_opt(9 * 3600).unwrap()
}

/// Microseconds of midnight of a date in Japan.
fn jst_midnight(y: i32, m: u32, d: u32) -> i64 {
    let date = NaiveDate::from_ymd_opt(y, m, d).unwrap();
    jst()
        .from_local_datetime(&date.and_hms_opt(0, 0, 0).unwrap())
        .unwrap()
        .timestamp_micros()
}

fn jst_year(micros: i64) -> i32 {
    chrono::DateTime::from_timestamp_micros(micros)
        .unwrap()
        .with_timezone(&jst())
        .year()
}

fn now_micros() -> i64 {
    chrono::Utc::now().timestamp_micros()
}

/// Inserts `INCIDENTS` incidents of the demo company spread over the last three years, with
/// their reporting lines, in transactions of 2,000; numbers them per year after the numbers
/// already given and moves the counters on. Returns how many line rows were written.
async fn insert_incidents(store: &Store, company_id: i64, facts: &str, assessment: &str) -> usize {
    let pool = store.pool();
    let departments: Vec<(i64, Option<i64>, String)> =
        sqlx::query("SELECT id, parent_id, name FROM departments WHERE company_id = $1")
            .bind(company_id)
            .fetch_all(pool)
            .await
            .unwrap()
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect();
    let users: Vec<(i64, i64, String)> = sqlx::query(
        "SELECT id, department_id, display_name FROM users WHERE company_id = $1 ORDER BY id",
    )
    .bind(company_id)
    .fetch_all(pool)
    .await
    .unwrap()
    .iter()
    .map(|r| (r.get(0), r.get(1), r.get(2)))
    .collect();
    let dept_id = |name: &str| departments.iter().find(|d| d.2 == name).unwrap().0;
    let up = |mut d: i64| {
        let mut line = vec![d];
        while let Some(p) = departments.iter().find(|x| x.0 == d).and_then(|x| x.1) {
            line.push(p);
            d = p;
        }
        line
    };
    let acknowledger = users
        .iter()
        .find(|u| u.2.starts_with("田中"))
        .map_or_else(|| "privacy office".to_owned(), |u| u.2.clone());
    let mut counters: HashMap<i32, i64> =
        sqlx::query("SELECT year, last FROM incident_counters WHERE company_id = $1")
            .bind(company_id)
            .fetch_all(pool)
            .await
            .unwrap()
            .iter()
            .map(|r| (r.get::<i64, _>(0) as i32, r.get(1)))
            .collect();
    let first_id: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) + 1 FROM incidents")
        .fetch_one(pool)
        .await
        .unwrap();

    let mut rng = Rng(0x6d61_6d6f_7269);
    let now = now_micros();
    let span = 3 * 365 * DAY;
    let mut created: Vec<i64> = (0..INCIDENTS)
        .map(|_| now - DAY / 24 - rng.below(span as u64) as i64)
        .collect();
    created.sort_unstable();
    let everyone: Vec<&(i64, i64, String)> = users.iter().collect();
    let mut rows = Vec::with_capacity(INCIDENTS);
    for (n, created_at) in created.into_iter().enumerate() {
        let (title, what, serious) = rng.weighted(KINDS);
        let place = rng.pick(PLACES);
        let department_id = dept_id(rng.weighted(WHERE));
        let in_dept: Vec<&(i64, i64, String)> =
            users.iter().filter(|u| u.1 == department_id).collect();
        let reporter = if in_dept.is_empty() || rng.chance(50) {
            rng.pick(&everyone)
        } else {
            rng.pick(&in_dept)
        };
        let drill = rng.chance(50);
        let open = rng.chance(100);
        let persons = match rng.below(10) {
            0..=5 => 1 + rng.below(20) as i64,
            6..=8 => 20 + rng.below(1_000) as i64,
            _ => 1_000 + rng.below(50_000) as i64,
        };
        let found_at = created_at - rng.below(6 * 60) as i64 * MINUTE;
        let occurred_at = rng
            .chance(700)
            .then(|| found_at - rng.below(14 * 24 * 60) as i64 * MINUTE);
        let acknowledged = !open || rng.chance(800);
        let closed_at = (!open).then(|| (created_at + (1 + rng.below(90) as i64) * DAY).min(now));
        let year = jst_year(created_at);
        let seq = counters.entry(year).or_insert(0);
        *seq += 1;
        let mut line = up(reporter.1);
        line.extend(up(department_id));
        line.sort_unstable();
        line.dedup();
        rows.push(Generated {
            id: first_id + n as i64,
            company_id,
            ref_no: format!("{year}-{:04}", *seq),
            drill,
            title: format!(
                "{title}（{place}）{}",
                if drill { "（訓練）" } else { "" }
            ),
            description: format!(
                "{}{place}にて発生。{what}対象は約{persons}名。発見者からの第一報を受け、事実関係を確認している。",
                if drill { "【訓練シナリオ】" } else { "" }
            ),
            actions_taken: rng.pick(ACTIONS).to_owned(),
            found_by: reporter.2.clone(),
            reporter_id: reporter.0,
            department_id,
            open,
            phase: if open { rng.pick(OPEN_PHASES) } else { "closed" },
            reportable: !drill && (serious || persons > 1_000),
            persons,
            occurred_at,
            found_at,
            acknowledged_at: acknowledged.then(|| created_at + (1 + rng.below(30) as i64) * MINUTE),
            acknowledged_by: acknowledged.then(|| acknowledger.clone()),
            created_at,
            updated_at: closed_at.unwrap_or(created_at),
            closed_at,
            line,
        });
    }

    let (insert, insert_line) = match store.backend() {
        Backend::Sqlite => (INSERT_INCIDENTS_SQLITE, INSERT_LINE_SQLITE),
        Backend::Postgres => (INSERT_INCIDENTS_POSTGRES, INSERT_LINE_POSTGRES),
    };
    let mut lines = 0;
    for chunk in rows.chunks(2_000) {
        let mut json = Vec::with_capacity(chunk.len());
        let mut line_json = Vec::new();
        for r in chunk {
            row_json(&mut json, r);
            for d in &r.line {
                line_json.push(serde_json::json!([r.id, d]));
            }
        }
        lines += line_json.len();
        let mut tx = pool.begin().await.unwrap();
        sqlx::query(insert)
            .bind(serde_json::to_string(&json).unwrap())
            .bind(facts)
            .bind(assessment)
            .execute(&mut *tx)
            .await
            .unwrap();
        sqlx::query(insert_line)
            .bind(serde_json::to_string(&line_json).unwrap())
            .execute(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }
    for (year, last) in &counters {
        sqlx::query(
            "INSERT INTO incident_counters (company_id, year, last) VALUES ($1, $2, $3) \
             ON CONFLICT (company_id, year) DO UPDATE SET last = excluded.last",
        )
        .bind(company_id)
        .bind(i64::from(*year))
        .bind(*last)
        .execute(pool)
        .await
        .unwrap();
    }
    if store.backend() == Backend::Postgres {
        // Explicit ids do not move the identity sequence. VACUUM ANALYZE does what autovacuum
        // (on by default, off on the bench server) would have done on a production server after
        // so many inserts: statistics for the planner and a visibility map for index-only scans.
        sqlx::query(
            "SELECT setval(pg_get_serial_sequence('incidents', 'id'), (SELECT MAX(id) FROM incidents))",
        )
        .execute(pool)
        .await
        .unwrap();
        sqlx::raw_sql("VACUUM ANALYZE").execute(pool).await.unwrap();
    }
    lines
}

// ───────────────────────────── (a) alert latency ─────────────────────────────

/// `application/x-www-form-urlencoded` (and query string) encoding of one value.
fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

fn form(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| format!("{k}={}", url_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// The reference number in an alert's subject: `【個人情報事故 第一報】2026-0042 title`.
fn ref_of(subject: &str) -> Option<&str> {
    let rest = &subject[subject.find("第一報】")? + "第一報】".len()..];
    rest.split_whitespace().next()
}

/// Nearest-rank percentile of sorted values.
fn pct(sorted: &[f64], q: f64) -> f64 {
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

struct Filed {
    id: i64,
    sent: SystemTime,
    answered_ms: f64,
}

/// Files `CONCURRENT` first reports at once over HTTP.
async fn file_round(
    client: &reqwest::Client,
    base: &str,
    cookie: &str,
    csrf: &str,
    round: usize,
) -> Vec<Filed> {
    let mut set = tokio::task::JoinSet::new();
    for k in 0..CONCURRENT {
        let description = format!(
            "配送伝票の誤封入（負荷試験 {}-{}）。別の顧客の納品書を同梱して発送した。",
            round + 1,
            k + 1
        );
        let body = form(&[
            ("csrf", csrf),
            ("description", &description),
            ("event", "leak"),
            ("persons", "10"),
            ("items", "name"),
        ]);
        let (client, url, cookie) = (
            client.clone(),
            format!("{base}/incidents"),
            cookie.to_owned(),
        );
        set.spawn(async move {
            let sent = SystemTime::now();
            let started = Instant::now();
            let r = client
                .post(&url)
                .header("cookie", cookie)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
                .await
                .unwrap();
            let answered_ms = started.elapsed().as_secs_f64() * 1000.0;
            assert_eq!(r.status().as_u16(), 303, "filing must redirect");
            let location = r.headers()["location"].to_str().unwrap().to_owned();
            let id = location
                .strip_prefix("/incidents/")
                .and_then(|x| x.split('?').next())
                .and_then(|x| x.parse().ok())
                .unwrap_or_else(|| panic!("unexpected redirect {location}"));
            Filed {
                id,
                sent,
                answered_ms,
            }
        });
    }
    set.join_all().await
}

/// Reads mail from the sink until every reference in `refs` has `per` level-1 alerts; keeps
/// the acceptance times of each reference's alerts in `accepted`.
async fn collect_alerts(
    sink: &SmtpSink,
    seen: &mut usize,
    accepted: &mut HashMap<String, Vec<SystemTime>>,
    refs: &[String],
    per: usize,
) {
    let deadline = Instant::now() + Duration::from_mins(5);
    while !refs
        .iter()
        .all(|r| accepted.get(r).map_or(0, Vec::len) >= per)
    {
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(
            !left.is_zero(),
            "alerts missing after 300 s: {:?}",
            refs.iter()
                .filter(|r| accepted.get(*r).map_or(0, Vec::len) < per)
                .collect::<Vec<_>>()
        );
        let Ok(new) = tokio::time::timeout(left, sink.wait_new(*seen)).await else {
            continue;
        };
        for m in new {
            *seen += 1;
            let p = m.parsed();
            if p.header("X-Mamori-Kind") != Some("alert") {
                continue;
            }
            let Some(subject) = p.subject.as_deref() else {
                continue;
            };
            if subject.contains("エスカレーション") {
                continue;
            }
            if let Some(r) = ref_of(subject) {
                accepted.entry(r.to_owned()).or_default().push(m.at);
            }
        }
    }
}

struct AlertResult {
    /// Send → last level-1 alert accepted by SMTP, ms, sorted.
    alert: Vec<f64>,
    /// Send → the 303 answer, ms, sorted.
    answer: Vec<f64>,
}

async fn alert_latency(s: &Server) -> AlertResult {
    let token = s.login("yamada").await;
    let csrf = s
        .app
        .session(&token)
        .await
        .unwrap()
        .expect("yamada's session")
        .csrf_token;
    let yamada = s
        .app
        .store
        .find_user_by_login("yamada")
        .await
        .unwrap()
        .unwrap();
    let level1 = s
        .app
        .store
        .call_tree(yamada.company_id)
        .await
        .unwrap()
        .iter()
        .filter(|e| e.level == 1)
        .count();
    assert!(level1 > 0, "the demo call tree has people at level 1");
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(CONCURRENT)
        .build()
        .unwrap();
    let base = format!("http://{}", s.addr);
    let cookie = format!("mamori_session={token}");
    let mut seen = 0;
    let mut accepted = HashMap::new();
    let mut alert = Vec::new();
    let mut answer = Vec::new();
    for round in 0..ROUNDS {
        let filed = file_round(&client, &base, &cookie, &csrf, round).await;
        let mut refs = Vec::new();
        for f in &filed {
            refs.push(s.app.store.get_incident(f.id).await.unwrap().ref_no);
        }
        collect_alerts(&s.sink, &mut seen, &mut accepted, &refs, level1).await;
        for (f, r) in filed.iter().zip(&refs) {
            let last = accepted[r].iter().max().copied().unwrap();
            let took = last.duration_since(f.sent).unwrap_or_default();
            alert.push(took.as_secs_f64() * 1000.0);
            answer.push(f.answered_ms);
        }
        println!(
            "  round {}: {} filed, slowest alert {:.0} ms",
            round + 1,
            filed.len(),
            alert[alert.len() - filed.len()..]
                .iter()
                .copied()
                .fold(0.0, f64::max)
        );
        // Let the fast-path jobs finish their bookkeeping before the next burst.
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    alert.sort_by(f64::total_cmp);
    answer.sort_by(f64::total_cmp);
    AlertResult { alert, answer }
}

// ───────────────────────────── (b) the list ─────────────────────────────

/// A copy of the statement of `Store::list_incidents` (crates/mamori-store/src/incidents.rs),
/// for EXPLAIN only: keep it in step with the store.
macro_rules! list_sql {
    () => {
        "SELECT i.id, i.ref_no, i.drill, i.title, i.status, i.phase, i.reportable, i.persons, \
         i.department_id, i.created_at, i.acknowledged_at FROM incidents i \
         WHERE i.company_id = $1 \
         AND ($2 = 1 OR i.reporter_id = $3 OR (CAST($4 AS BIGINT) IS NOT NULL AND EXISTS \
             (SELECT 1 FROM incident_line l WHERE l.incident_id = i.id AND l.department_id = $4))) \
         AND (CAST($5 AS TEXT) IS NULL OR i.ref_no LIKE $5 ESCAPE '\\' OR i.title LIKE $5 ESCAPE '\\' \
              OR i.description LIKE $5 ESCAPE '\\') \
         AND (CAST($6 AS TEXT) IS NULL OR i.status = $6) \
         AND (CAST($7 AS BIGINT) IS NULL OR i.created_at >= $7) \
         AND (CAST($8 AS BIGINT) IS NULL OR i.created_at < $8) \
         AND (CAST($9 AS BIGINT) IS NULL OR i.drill = $9) \
         AND (CAST($10 AS BIGINT) IS NULL OR i.created_at < $10 OR (i.created_at = $10 AND i.id < $11)) \
         ORDER BY i.created_at DESC, i.id DESC LIMIT $12"
    };
}

const EXPLAIN_SQLITE: &str = concat!("EXPLAIN QUERY PLAN ", list_sql!());
const EXPLAIN_POSTGRES: &str = concat!("EXPLAIN (ANALYZE, BUFFERS) ", list_sql!());

/// The query plan of the list query for one page, as text lines.
async fn explain(store: &Store, scope: ListScope, f: &IncidentFilter) -> Vec<String> {
    let sql = match store.backend() {
        Backend::Sqlite => EXPLAIN_SQLITE,
        Backend::Postgres => EXPLAIN_POSTGRES,
    };
    let rows = sqlx::query(sql)
        .bind(scope.company_id)
        .bind(i64::from(scope.all))
        .bind(scope.user_id)
        .bind(scope.head_of)
        .bind(f.text.as_ref().map(|t| format!("%{}%", escape_like(t))))
        .bind(f.status.as_deref())
        .bind(f.from)
        .bind(f.until)
        .bind(f.drill.map(i64::from))
        .bind(None::<i64>)
        .bind(None::<i64>)
        .bind(51_i64)
        .fetch_all(store.pool())
        .await
        .unwrap();
    rows.iter()
        .map(|r| match store.backend() {
            Backend::Sqlite => r.get::<String, _>(3),
            Backend::Postgres => r.get::<String, _>(0),
        })
        .collect()
}

struct Page {
    name: &'static str,
    login: &'static str,
    path: String,
    scope: ListScope,
    filter: IncidentFilter,
}

struct PageResult {
    name: &'static str,
    matching: usize,
    query_ms: f64,
    p99: f64,
    last: Vec<(String, f64)>,
    rps: f64,
}

/// wrk's "Latency Distribution" lines: 50%, 75%, 90%, 99% in milliseconds.
fn percentiles(out: &str) -> Vec<(String, f64)> {
    let mut v = Vec::new();
    let mut on = false;
    for line in out.lines() {
        if line.contains("Latency Distribution") {
            on = true;
            continue;
        }
        if on {
            let parts: Vec<&str> = line.split_whitespace().collect();
            if parts.len() != 2 || !parts[0].ends_with('%') {
                break;
            }
            let t = parts[1];
            let ms = if let Some(x) = t.strip_suffix("us") {
                x.parse::<f64>().unwrap() / 1000.0
            } else if let Some(x) = t.strip_suffix("ms") {
                x.parse::<f64>().unwrap()
            } else if let Some(x) = t.strip_suffix('s') {
                x.parse::<f64>().unwrap() * 1000.0
            } else {
                f64::NAN
            };
            v.push((parts[0].to_owned(), ms));
        }
    }
    v
}

fn get(p: &[(String, f64)], k: &str) -> f64 {
    p.iter().find(|(x, _)| x == k).map_or(f64::NAN, |x| x.1)
}

async fn wrk(cookie: &str, url: &str) -> String {
    let (cookie, url) = (format!("Cookie: {cookie}"), url.to_owned());
    let out = tokio::task::spawn_blocking(move || {
        Command::new("wrk")
            .args(["-t2", CONNECTIONS, "-d8s", "--latency", "-H", &cookie, &url])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        !text.contains("Non-2xx"),
        "the list must answer 200 to a logged-in session:\n{text}"
    );
    text
}

async fn pages(s: &Server, name: &str) -> Vec<PageResult> {
    let store = &s.app.store;
    let tanaka = store.find_user_by_login("tanaka").await.unwrap().unwrap();
    let suzuki = store.find_user_by_login("suzuki").await.unwrap().unwrap();
    let everything = ListScope {
        company_id: tanaka.company_id,
        all: true,
        user_id: tanaka.id,
        head_of: None,
    };
    let line = ListScope {
        company_id: suzuki.company_id,
        all: false,
        user_id: suzuki.id,
        head_of: Some(suzuki.department_id),
    };
    let open = || Some("open".to_owned());
    let list = [
        Page {
            name: "privacy office: open, filed in 2025",
            login: "tanaka",
            path: "/incidents?status=open&from=2025-01-01&to=2025-12-31".into(),
            scope: everything,
            filter: IncidentFilter {
                status: open(),
                from: Some(jst_midnight(2025, 1, 1)),
                until: Some(jst_midnight(2025, 12, 31) + DAY),
                ..IncidentFilter::default()
            },
        },
        Page {
            name: "privacy office: text search",
            login: "tanaka",
            path: format!("/incidents?q={}", url_encode(SEARCH_WORD)),
            scope: everything,
            filter: IncidentFilter {
                text: Some(SEARCH_WORD.into()),
                ..IncidentFilter::default()
            },
        },
        Page {
            name: "department head: open (reporting line)",
            login: "suzuki",
            path: "/incidents?status=open".into(),
            scope: line,
            filter: IncidentFilter {
                status: open(),
                ..IncidentFilter::default()
            },
        },
    ];
    let mut out = Vec::new();
    for p in list {
        // The query alone, without HTTP and the audit log.
        let matching = store
            .list_incidents(p.scope, &p.filter, 1_000_000)
            .await
            .unwrap()
            .len();
        let mut times = Vec::new();
        for _ in 0..30 {
            let t = Instant::now();
            store.list_incidents(p.scope, &p.filter, 51).await.unwrap();
            times.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        let query_ms = common::median(times);
        println!(
            "--- {name}: {} — {matching} matching incidents, query alone {query_ms:.2} ms (median of 30)",
            p.name
        );
        println!("    plan:");
        for l in explain(store, p.scope, &p.filter).await {
            println!("      {l}");
        }
        let cookie = format!("mamori_session={}", s.login(p.login).await);
        let url = format!("http://{}{}", s.addr, p.path);
        let mut p99s = Vec::new();
        let mut last = String::new();
        for _ in 0..3 {
            last = wrk(&cookie, &url).await;
            p99s.push(get(&percentiles(&last), "99%"));
        }
        println!("    last wrk run:\n{last}");
        let rps = last
            .lines()
            .find(|l| l.starts_with("Requests/sec"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|x| x.parse::<f64>().ok())
            .unwrap_or(f64::NAN);
        out.push(PageResult {
            name: p.name,
            matching,
            query_ms,
            p99: common::median(p99s),
            last: percentiles(&last),
            rps,
        });
    }
    out
}

// ───────────────────────────── main ─────────────────────────────

#[tokio::main]
async fn main() {
    assert!(
        Command::new("wrk").arg("--version").output().is_ok(),
        "install wrk: apt-get install wrk"
    );
    println!("load average at start: {}", common::loadavg());
    let mut alerts = Vec::new();
    let mut lists = Vec::new();
    for (name, store) in common::stores("incidents").await {
        let s = start(store.clone()).await;
        let demo = store.get_incident(1).await.unwrap();
        let t = Instant::now();
        let lines = insert_incidents(&store, demo.company_id, &demo.facts, &demo.assessment).await;
        println!(
            "=== {name}: inserted {INCIDENTS} incidents ({lines} line rows; facts {} B and assessment {} B each, as the demo incident) in {:.1} s",
            demo.facts.len(),
            demo.assessment.len(),
            t.elapsed().as_secs_f64()
        );

        if std::env::var("MAMORI_BENCH_SKIP_ALERTS").as_deref() != Ok("1") {
            println!("(a) alert latency, {ROUNDS} rounds of {CONCURRENT} concurrent first reports");
            alerts.push((name, alert_latency(&s).await));
        }

        println!("(b) incident list, wrk {CONNECTIONS}");
        lists.push((name, pages(&s, name).await));
        s.stop().await;
        store.close().await;
    }
    let dir = std::env::temp_dir().join(format!("mamori-bench-incidents-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(keys_dir());
    if std::env::var("MAMORI_BENCH_KEEP").as_deref() == Ok("1") {
        println!("kept the SQLite database in {}", dir.display());
    } else {
        let _ = std::fs::remove_dir_all(dir);
    }
    println!("load average at end: {}", common::loadavg());

    println!();
    println!(
        "(a) Send of `POST /incidents` → SMTP server accepted the last level-1 alert ({ROUNDS} rounds × {CONCURRENT} concurrent filings)"
    );
    println!();
    println!("| database | samples | 303 answer p50 (ms) | 303 answer p99 (ms) | alert p50 (ms) | alert p90 (ms) | alert p99 (ms) | alert max (ms) | p99 < 2 s |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---|");
    for (name, a) in &alerts {
        let p99 = pct(&a.alert, 0.99);
        println!(
            "| {name} | {} | {:.0} | {:.0} | {:.0} | {:.0} | {p99:.0} | {:.0} | {} |",
            a.alert.len(),
            pct(&a.answer, 0.5),
            pct(&a.answer, 0.99),
            pct(&a.alert, 0.5),
            pct(&a.alert, 0.9),
            a.alert[a.alert.len() - 1],
            if p99 < 2000.0 { "met" } else { "**not met**" }
        );
    }
    println!();
    println!("(b) Incident list, {INCIDENTS} incidents, wrk -t2 {CONNECTIONS} -d8s");
    println!();
    println!("| database | page | matching | query alone (ms) | p50 (ms) | p90 (ms) | p99 (ms, median of 3 runs) | requests/s | p99 < 50 ms |");
    println!("|---|---|---:|---:|---:|---:|---:|---:|---|");
    for (name, results) in &lists {
        for r in results {
            println!(
                "| {name} | {} | {} | {:.2} | {:.2} | {:.2} | {:.2} | {:.0} | {} |",
                r.name,
                r.matching,
                r.query_ms,
                get(&r.last, "50%"),
                get(&r.last, "90%"),
                r.p99,
                r.rps,
                if r.p99 < 50.0 { "met" } else { "**not met**" }
            );
        }
    }
}
