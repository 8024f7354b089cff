//! Two `mamori serve` processes on one PostgreSQL database work as one: a session made by one
//! is valid at the other, failed logins counted by one throttle the other, and the audit chain
//! written by both verifies. Also the command-line front: admin, migrate, audit verify/export.

use mamori_store::testing::{temp_dir, TestDb};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_mamori");

fn mamori(url: &str, keys: &Path, args: &[&str], stdin: Option<&str>) -> (bool, String, String) {
    mamori_logging(url, keys, args, stdin, "warn")
}

/// `mamori ARGS` with the log filter `log` (`MAMORI_LOG`); (success, stdout, stderr).
fn mamori_logging(
    url: &str,
    keys: &Path,
    args: &[&str],
    stdin: Option<&str>,
    log: &str,
) -> (bool, String, String) {
    let mut child = Command::new(BIN)
        .args(args)
        .env("MAMORI_DATABASE_URL", url)
        .env("MAMORI_KEY_DIR", keys)
        .env("MAMORI_LOG", log)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    }
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(url: &str, keys: &Path) -> Server {
    let port = free_port();
    let mut child = Command::new(BIN)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .env("MAMORI_DATABASE_URL", url)
        .env("MAMORI_KEY_DIR", keys)
        .env("MAMORI_CHECKPOINT_INTERVAL_SECS", "1")
        .env("MAMORI_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        assert!(Instant::now() < deadline, "server did not start");
        match lines.next() {
            Some(Ok(l)) if l.starts_with("mamori: http://") => break,
            Some(_) => {}
            None => panic!("server exited before listening"),
        }
    }
    std::thread::spawn(move || for _ in lines {});
    Server {
        child,
        base: format!("http://127.0.0.1:{port}"),
    }
}

/// Cookies by hand: the session cookie is `Secure`, which a client would not send over http.
#[derive(Default, Clone)]
struct Jar(Vec<(String, String)>);

impl Jar {
    fn header(&self) -> String {
        self.0
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }
    fn take(&mut self, res: &reqwest::Response) {
        for h in res.headers().get_all("set-cookie") {
            let s = h.to_str().unwrap();
            let kv = s.split(';').next().unwrap();
            let (k, v) = kv.split_once('=').unwrap();
            self.0.retain(|(n, _)| n != k);
            if !v.is_empty() {
                self.0.push((k.to_owned(), v.to_owned()));
            }
        }
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn csrf_of(html: &str) -> String {
    let i = html.find("name=\"csrf\" value=\"").unwrap() + 19;
    html[i..i + html[i..].find('"').unwrap()].to_owned()
}

async fn login(base: &str, jar: &mut Jar, login: &str, password: &str) -> reqwest::StatusCode {
    let c = client();
    let page = c
        .get(format!("{base}/login"))
        .header("cookie", jar.header())
        .send()
        .await
        .unwrap();
    jar.take(&page);
    let csrf = csrf_of(&page.text().await.unwrap());
    let res = c
        .post(format!("{base}/login"))
        .header("cookie", jar.header())
        .form(&[
            ("csrf", csrf.as_str()),
            ("login", login),
            ("password", password),
        ])
        .send()
        .await
        .unwrap();
    jar.take(&res);
    res.status()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_on_one_postgres_work_as_one() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let keys = temp_dir("two").join("keys");
    let url = db.url.clone();
    assert!(
        mamori(
            &url,
            &keys,
            &[
                "admin",
                "create-company",
                "--code",
                "test-co",
                "--name",
                "テスト株式会社"
            ],
            None
        )
        .0
    );
    assert!(
        mamori(
            &url,
            &keys,
            &["admin", "create-department", "--name", "本社"],
            None
        )
        .0
    );
    for (l, role) in [("yamada", "staff"), ("suzuki", "staff")] {
        let (ok, out, err) = mamori(
            &url,
            &keys,
            &[
                "admin",
                "create-user",
                "--login",
                l,
                "--name",
                "山田 太郎",
                "--email",
                &format!("{l}@example.jp"),
                "--department",
                "本社",
                "--role",
                role,
                "--password-stdin",
            ],
            Some("correct horse battery\n"),
        );
        assert!(ok, "{out}{err}");
    }
    let a = start(&url, &keys);
    let b = start(&url, &keys);
    let c = client();

    // A session made at A is valid at B.
    let mut jar = Jar::default();
    assert_eq!(
        login(&a.base, &mut jar, "yamada", "correct horse battery").await,
        303
    );
    let home = c
        .get(format!("{}/", b.base))
        .header("cookie", jar.header())
        .send()
        .await
        .unwrap();
    assert_eq!(home.status(), 200);
    let html = home.text().await.unwrap();
    assert!(html.contains("山田 太郎"));
    // Logging out at B ends it at A.
    let csrf = csrf_of(&html);
    let out = c
        .post(format!("{}/logout", b.base))
        .header("cookie", jar.header())
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 303);
    let again = c
        .get(format!("{}/", a.base))
        .header("cookie", jar.header())
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 303, "the session ended everywhere");

    // Failed logins at A and B together lock the account at both.
    for i in 0..5 {
        let server = if i % 2 == 0 { &a.base } else { &b.base };
        assert_eq!(
            login(server, &mut Jar::default(), "suzuki", "wrong password!").await,
            401
        );
    }
    assert_eq!(
        login(
            &a.base,
            &mut Jar::default(),
            "suzuki",
            "correct horse battery"
        )
        .await,
        429
    );
    assert_eq!(
        login(
            &b.base,
            &mut Jar::default(),
            "suzuki",
            "correct horse battery"
        )
        .await,
        429
    );

    // Both append to one chain at the same time.
    let mut tasks = Vec::new();
    for i in 0..40 {
        let base = if i % 2 == 0 {
            a.base.clone()
        } else {
            b.base.clone()
        };
        tasks.push(tokio::spawn(async move {
            client()
                .get(format!("{base}/login"))
                .send()
                .await
                .unwrap()
                .status()
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), 200);
    }
    tokio::time::sleep(Duration::from_millis(2500)).await;
    drop(a);
    drop(b);
    let (ok, out, err) = mamori(&url, &keys, &["audit", "verify"], None);
    assert!(ok, "verify failed: {out}{err}");
    assert!(out.starts_with("OK:"), "{out}");
    let checkpoints: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_checkpoints")
        .fetch_one(db.store.pool())
        .await
        .unwrap();
    assert!(checkpoints >= 1, "the shared schedule wrote checkpoints");
    db.cleanup().await;
}

#[test]
fn command_line_admin_migrate_and_audit_on_sqlite() {
    let dir = temp_dir("cli");
    let url = format!("sqlite://{}", dir.join("db/mamori.db").display());
    let keys = dir.join("keys");
    // A mistyped path is never silently created.
    let (ok, _, err) = mamori(&url, &keys, &["admin", "list-users"], None);
    assert!(!ok && err.contains("does not exist"), "{err}");
    assert!(!dir.join("db/mamori.db").exists());
    let (ok, out, err) = mamori(&url, &keys, &["migrate", "--create"], None);
    assert!(ok && out.contains("applied"), "{out}{err}");
    assert!(
        mamori(
            &url,
            &keys,
            &[
                "admin",
                "create-company",
                "--code",
                "kaisha",
                "--name",
                "会社"
            ],
            None
        )
        .0
    );
    assert!(
        mamori(
            &url,
            &keys,
            &["admin", "create-department", "--name", "本社"],
            None
        )
        .0
    );
    let (ok, out, _) = mamori(
        &url,
        &keys,
        &[
            "admin",
            "create-user",
            "--login",
            "sato",
            "--name",
            "佐藤",
            "--email",
            "s@example.jp",
            "--department",
            "本社",
            "--role",
            "auditor",
        ],
        None,
    );
    assert!(ok && out.contains("password: "), "{out}");
    let (ok, _, err) = mamori(
        &url,
        &keys,
        &[
            "admin",
            "create-user",
            "--login",
            "x",
            "--name",
            "x",
            "--email",
            "x@example.jp",
            "--department",
            "本社",
            "--role",
            "staff",
        ],
        None,
    );
    assert!(
        !ok && err.contains("login"),
        "the bad field is named: {err}"
    );
    let (ok, _, err) = mamori(
        &url,
        &keys,
        &[
            "admin",
            "create-user",
            "--login",
            "abc",
            "--name",
            "x",
            "--email",
            "x@example.jp",
            "--department",
            "本社",
            "--role",
            "boss",
        ],
        None,
    );
    assert!(!ok && err.contains("unknown role `boss`"), "{err}");
    let (ok, out, _) = mamori(&url, &keys, &["admin", "list-users"], None);
    assert!(ok && out.contains("sato") && out.contains("auditor"));
    assert!(
        mamori(
            &url,
            &keys,
            &["admin", "disable-user", "--login", "sato"],
            None
        )
        .0
    );
    assert!(
        mamori(
            &url,
            &keys,
            &[
                "admin",
                "set-password",
                "--login",
                "sato",
                "--password-stdin"
            ],
            Some("another long password\n")
        )
        .0
    );
    let (ok, out, _) = mamori(&url, &keys, &["audit", "checkpoint"], None);
    assert!(ok && out.contains("checkpoint signed"), "{out}");
    let (ok, out, err) = mamori(&url, &keys, &["audit", "verify"], None);
    assert!(ok && out.starts_with("OK:"), "{out}{err}");
    let (ok, out, _) = mamori(
        &url,
        &keys,
        &["audit", "export", "--since", "2000-01-01"],
        None,
    );
    assert!(ok);
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(lines
        .iter()
        .any(|e| e["action"] == "admin.users.create" && e["actor"] == "cli"));
    assert!(lines
        .iter()
        .all(|e| e["hash"].as_str().unwrap().len() == 64));
    assert!(
        !out.contains("s@example.jp"),
        "no personal data in the audit log"
    );
    let (ok, _, err) = mamori(
        &url,
        &keys,
        &["audit", "export", "--since", "last week"],
        None,
    );
    assert!(!ok && err.contains("--since"), "{err}");

    // Somebody edits the file directly: verify names the entry and fails.
    let db = dir.join("db/mamori.db");
    let conn = std::process::Command::new("python3")
        .args(["-c", &format!(
            "import sqlite3; c=sqlite3.connect('{}'); c.execute('DROP TRIGGER audit_log_no_update'); c.execute(\"UPDATE audit_log SET actor='x' WHERE seq=3\"); c.commit()",
            db.display()
        )])
        .status()
        .unwrap();
    assert!(conn.success());
    let (ok, out, _) = mamori(&url, &keys, &["audit", "verify"], None);
    assert!(!ok && out.contains("FAILED at entry 3"), "{out}");
    // Keys cannot be silently replaced once checkpoints exist.
    std::fs::remove_dir_all(&keys).unwrap();
    let (ok, _, err) = mamori(&url, &keys, &["admin", "list-users"], None);
    assert!(!ok && err.contains("restore the key directory"), "{err}");
}

#[test]
fn help_is_complete() {
    for args in [
        vec!["--help"],
        vec!["serve", "--help"],
        vec!["admin", "--help"],
        vec!["audit", "verify", "--help"],
        vec!["admin", "create-user", "--help"],
    ] {
        let out = Command::new(BIN).args(&args).output().unwrap();
        assert!(out.status.success(), "{args:?}");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("Usage"), "{args:?}");
    }
    let out = Command::new(BIN)
        .args(["serve", "--listen", "nonsense"])
        .env("MAMORI_DATA_DIR", temp_dir("x"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("HOST:PORT"));
    let out = Command::new(BIN).arg("frobnicate").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn sigterm_shuts_down_gracefully_and_signs_the_last_checkpoint() {
    let dir = temp_dir("graceful");
    let url = format!("sqlite://{}", dir.join("mamori.db").display());
    let keys = dir.join("keys");
    assert!(mamori(&url, &keys, &["migrate", "--create"], None).0);
    let mut server = start(&url, &keys);
    let health = std::process::Command::new("curl")
        .args(["-s", &format!("{}/healthz", server.base)])
        .output();
    if let Ok(h) = health {
        assert_eq!(String::from_utf8_lossy(&h.stdout), "ok\n");
    }
    let pid = server.child.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let status = server.child.wait().unwrap();
    assert!(status.success(), "exit after SIGTERM: {status:?}");
    let (ok, out, _) = mamori(&url, &keys, &["audit", "export"], None);
    assert!(ok);
    assert!(
        out.contains("\"system.start\"") && out.contains("\"system.stop\""),
        "{out}"
    );
    let (ok, out, _) = mamori(&url, &keys, &["audit", "verify"], None);
    assert!(
        ok && out.starts_with("OK:") && !out.contains(" 0 signed checkpoints"),
        "the last checkpoint was signed: {out}"
    );
}

/// The vault from the command line, on SQLite and PostgreSQL: an import from a Shift_JIS file
/// with its columns mapped from the Japanese headers (a card number and a bad e-mail
/// rejected and named), erasure, key rotation with re-wrap, and the ledger export. Every
/// command runs with debug logging, and neither the database files nor anything the commands
/// printed or logged holds a personal value of the import in plaintext.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vault_from_the_command_line_with_no_plaintext_in_files_or_logs() {
    for db in TestDb::all().await {
        let name = db.name;
        let dir = temp_dir("vaultcli");
        let keys = dir.join("keys");
        let mut printed = String::new();
        let mut run = |args: &[&str]| {
            let (ok, out, err) = mamori_logging(&db.url, &keys, args, None, "debug");
            printed.push_str(&out);
            printed.push_str(&err);
            (ok, out, err)
        };
        assert!(
            run(&[
                "admin",
                "create-company",
                "--code",
                "kaisha",
                "--name",
                "会社"
            ])
            .0
        );
        assert!(run(&["admin", "create-department", "--name", "本社"]).0);
        let csv = "氏名,フリガナ,メールアドレス,電話番号,生年月日,カード番号,備考\r\n\
                   山田 花子,ヤマダ ハナコ,Hanako.Yamada@example.jp,090-1111-2222,1985-01-02,,千代田の件\r\n\
                   佐藤 次郎,サトウ ジロウ,jiro@example.jp,080-3333-4444,昭和60年3月4日,,\r\n\
                   鈴木 三郎,スズキ サブロウ,saburo@example.jp,070-5555-6666,1990-12-31,,4111-1111-1111-1111\r\n\
                   高橋 四郎,タカハシ シロウ,not-an-address,03-1234-5678,1970-07-07,,\r\n";
        let file = dir.join("members.csv");
        std::fs::write(&file, encoding_rs::SHIFT_JIS.encode(csv).0).unwrap();
        let file = file.display().to_string();
        let (ok, out, err) = run(&[
            "vault",
            "import",
            &file,
            "--dataset",
            "会員名簿",
            "--create",
            "--department",
            "本社",
            "--purpose",
            "商品の発送",
            "--map",
            "カード番号=-",
        ]);
        assert!(ok, "{name}: {out}{err}");
        assert!(out.contains("created dataset `会員名簿`"), "{out}");
        assert!(out.contains("imported 2 / rejected 2"), "{name}: {out}");
        assert!(out.contains("メールアドレス → "), "{out}");
        assert!(
            out.contains("カード番号 → (取り込みません: カード番号は保存できません"),
            "{out}"
        );
        // The rejected rows are named by line and column, never by value: the card number
        // (line 4) and the bad e-mail (line 5).
        assert!(out.contains("row 4") && out.contains("row 5"), "{out}");
        let (ok, _, err) = run(&[
            "vault",
            "import",
            &file,
            "--dataset",
            "会員名簿",
            "--map",
            "氏名=nope",
        ]);
        assert!(!ok && err.contains("map"), "{name}: {err}");

        let (ok, out, err) = run(&[
            "vault",
            "erase",
            "--dataset",
            "会員名簿",
            "--email",
            "HANAKO.yamada@example.jp",
            "--reason",
            "本人からの削除依頼 2026-11-24",
        ]);
        assert!(
            ok && out.contains("erased 1 record(s)"),
            "{name}: {out}{err}"
        );
        let (ok, out, _) = run(&[
            "vault",
            "erase",
            "--dataset",
            "会員名簿",
            "--email",
            "hanako.yamada@example.jp",
            "--reason",
            "二度目",
        ]);
        assert!(!ok && out.contains("erased 0 record(s)"), "{name}: {out}");
        let (ok, out, err) = run(&["vault", "rotate-key"]);
        assert!(ok, "{name}: {out}{err}");
        assert!(out.contains("master key version 2 is current"), "{out}");
        assert!(out.contains("re-wrapped 1 data keys"), "{name}: {out}");
        let (ok, out, err) = run(&[
            "admin",
            "create-user",
            "--login",
            "tanaka",
            "--name",
            "田中",
            "--email",
            "tanaka@example.co.jp",
            "--department",
            "本社",
            "--role",
            "privacy_office",
        ]);
        assert!(ok, "{name}: {out}{err}");
        let (ok, out, err) = run(&["ledger", "export", "-"]);
        assert!(ok && out.contains("会員名簿"), "{name}: {out}{err}");

        let secrets = [
            "山田 花子",
            "ヤマダ",
            "Hanako.Yamada",
            "hanako.yamada",
            "090-1111-2222",
            "09011112222",
            "1985-01-02",
            "佐藤 次郎",
            "jiro@example.jp",
            "080-3333-4444",
            "4111111111111111",
            "4111-1111-1111-1111",
            "鈴木 三郎",
            "not-an-address",
            "03-1234-5678",
        ];
        let mut haystacks = vec![(
            "the commands' output and logs".to_owned(),
            printed.into_bytes(),
        )];
        if let Some(path) = mamori_store::sqlite_path(&db.url) {
            db.store.pool().close().await;
            for p in [path.clone(), path.with_extension("db-wal")] {
                if let Ok(b) = std::fs::read(&p) {
                    haystacks.push((p.display().to_string(), b));
                }
            }
            assert!(haystacks.len() >= 2, "the database file was read");
        }
        for (what, hay) in &haystacks {
            for s in secrets {
                for enc in [
                    s.as_bytes().to_vec(),
                    encoding_rs::SHIFT_JIS.encode(s).0.into_owned(),
                ] {
                    assert!(
                        !hay.windows(enc.len()).any(|w| w == enc.as_slice()),
                        "{name}: `{s}` in plaintext in {what}"
                    );
                }
            }
        }
        db.cleanup().await;
    }
}

/// `mamori ARGS` with the checkpoint file `file` configured (`MAMORI_CHECKPOINT_FILE`).
fn mamori_with_checkpoint_file(
    url: &str,
    keys: &Path,
    file: &Path,
    args: &[&str],
) -> (bool, String, String) {
    let out = Command::new(BIN)
        .args(args)
        .env("MAMORI_DATABASE_URL", url)
        .env("MAMORI_KEY_DIR", keys)
        .env("MAMORI_LOG", "warn")
        .env("MAMORI_CHECKPOINT_FILE", file)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Issue 12, item 13: checkpoints go to the checkpoint file as well, and `audit verify
/// --checkpoints FILE` finds a database tail that was cut back together with its checkpoints,
/// which the database alone no longer shows.
#[test]
fn audit_verify_compares_the_database_with_the_checkpoint_file() {
    let dir = temp_dir("cli_cp");
    let db = dir.join("mamori.db");
    let url = format!("sqlite://{}", db.display());
    let keys = dir.join("keys");
    let file = dir.join("checkpoints.jsonl");
    let file_arg = file.to_str().unwrap();
    let run = |args: &[&str]| mamori_with_checkpoint_file(&url, &keys, &file, args);
    assert!(run(&["migrate", "--create"]).0);
    assert!(
        run(&[
            "admin",
            "create-company",
            "--code",
            "kaisha",
            "--name",
            "会社"
        ])
        .0
    );
    let (ok, out, err) = run(&["audit", "checkpoint"]);
    assert!(ok && out.contains("checkpoint signed"), "{out}{err}");
    assert!(run(&["admin", "create-department", "--name", "本社"]).0);
    assert!(run(&["admin", "create-department", "--name", "支社"]).0);
    let (ok, out, err) = run(&["audit", "checkpoint"]);
    assert!(ok && out.contains("checkpoint signed"), "{out}{err}");
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&file)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    let first = lines[0]["seq"].as_i64().unwrap();
    let last = lines[1]["seq"].as_i64().unwrap();
    assert!(first < last);
    let (ok, out, err) = run(&["audit", "verify", "--checkpoints", file_arg, "--json"]);
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert!(
        ok && v["ok"] == true && v["file_checkpoints"] == 2,
        "{out}{err}"
    );

    // Somebody cuts the tail after the first checkpoint and removes the later checkpoint.
    let status = Command::new("python3")
        .args(["-c", &format!(
            "import sqlite3; c=sqlite3.connect('{}'); c.execute('DROP TRIGGER audit_log_no_delete'); \
             c.execute('DELETE FROM audit_log WHERE seq > {first}'); \
             c.execute('DELETE FROM audit_checkpoints WHERE seq > {first}'); \
             h=c.execute('SELECT hash FROM audit_log WHERE seq = {first}').fetchone()[0]; \
             c.execute('UPDATE audit_head SET last_seq = {first}, last_hash = ?', (h,)); c.commit()",
            db.display()
        )])
        .status()
        .unwrap();
    assert!(status.success());
    let (ok, out, err) = run(&["audit", "verify"]);
    assert!(
        ok && out.starts_with("OK:"),
        "the database alone cannot tell: {out}{err}"
    );
    let (ok, out, _) = run(&["audit", "verify", "--checkpoints", file_arg]);
    assert!(!ok && out.contains("checkpoint file"), "{out}");
    let (ok, out, _) = run(&["audit", "verify", "--checkpoints", file_arg, "--json"]);
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert!(!ok);
    assert_eq!(v["ok"], false);
    assert_eq!(v["found_by"], "checkpoint_file");
    assert_eq!(v["first_bad_seq"], first + 1);
    // A file that is not a checkpoint file is named as such.
    std::fs::write(dir.join("bad.jsonl"), "not json\n").unwrap();
    let (ok, _, err) = run(&[
        "audit",
        "verify",
        "--checkpoints",
        dir.join("bad.jsonl").to_str().unwrap(),
    ]);
    assert!(!ok && err.contains("line 1"), "{err}");
}

/// Issue 12, item 8: a 1.5 KB xlsx with cells A1 and XFD1048576 made `mamori scan` abort
/// (exit 134) and lose the other files' findings. Now it is read as two cells, a workbook over
/// the cell limit is reported as skipped, and the other files' findings are printed.
#[test]
fn scan_survives_spreadsheet_bombs() {
    use mamori_detect::testdata::xlsx_cells;
    let dir = temp_dir("scan-bombs");
    std::fs::write(
        dir.join("bomb.xlsx"),
        xlsx_cells(&[("A1", "電話"), ("XFD1048576", "090-1234-5678")]),
    )
    .unwrap();
    let refs: Vec<(String, &str)> = (1..=400)
        .flat_map(|r| [(format!("A{r}"), "x"), (format!("XFD{r}"), "y")])
        .collect();
    let cells: Vec<(&str, &str)> = refs.iter().map(|(r, v)| (r.as_str(), *v)).collect();
    std::fs::write(dir.join("wide.xlsx"), xlsx_cells(&cells)).unwrap();
    std::fs::write(dir.join("a.csv"), "氏名,電話\n山田 太郎,090-1111-2222\n").unwrap();
    let out = Command::new(BIN)
        .args(["scan", "--format", "jsonl"])
        .arg(&dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{:?}\n{stdout}\n{stderr}", out.status);
    assert!(stdout.contains("a.csv"), "{stdout}");
    assert!(
        stdout.contains("bomb.xlsx") && stdout.contains("\"line\":1048576"),
        "{stdout}"
    );
    assert!(
        stderr.contains("wide.xlsx") && stderr.contains("5,000,000 cells"),
        "{stderr}"
    );
}
