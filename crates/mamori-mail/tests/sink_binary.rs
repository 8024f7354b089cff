//! The `mamori-smtp-sink` binary: spawn it, send a mail, see `.eml` and `.json` appear.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use mamori_mail::{Mail, Mailer, SmtpConfig};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

fn temp_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "mamori-smtp-sink-test-{}-{:x}",
        std::process::id(),
        rand::random::<u64>()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn wait_for_file(path: &Path) -> Vec<u8> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(bytes) = std::fs::read(path) {
            return bytes;
        }
        assert!(
            Instant::now() < deadline,
            "{} did not appear",
            path.display()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn binary_writes_eml_and_json() {
    let dir = temp_dir();
    // A leftover from an earlier run: numbering continues after it.
    std::fs::write(dir.join("7.json"), "{}").unwrap();

    let mut child = Command::new(env!("CARGO_BIN_EXE_mamori-smtp-sink"))
        .args(["--listen", "127.0.0.1:0", "--dir"])
        .arg(&dir)
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn mamori-smtp-sink");
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    tokio::time::timeout(Duration::from_secs(10), stdout.read_line(&mut line))
        .await
        .expect("it announces its address")
        .unwrap();
    let addr: std::net::SocketAddr = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .parse()
        .unwrap();

    let mailer = Mailer::new(&SmtpConfig {
        port: addr.port(),
        from: "mamori <no-reply@example.co.jp>".into(),
        ..SmtpConfig::default()
    })
    .unwrap();
    let subject = "【重要】個人情報漏えいの第一報（訓練）";
    let text = "訓練です。\nhttps://mamori.example.co.jp/incidents/1\n";
    mailer
        .send(&Mail {
            to: vec!["dpo@example.co.jp".into(), "cso@example.co.jp".into()],
            subject: subject.into(),
            text: text.into(),
            headers: vec![("X-Mamori-Incident".into(), "1".into())],
            ..Mail::default()
        })
        .await
        .unwrap();

    let json = wait_for_file(&dir.join("8.json")).await;
    let eml = std::fs::read(dir.join("8.eml")).expect(".eml is written before .json");
    let json: serde_json::Value = serde_json::from_slice(&json).unwrap();
    assert_eq!(json["from"], "no-reply@example.co.jp");
    assert_eq!(
        json["to"],
        serde_json::json!(["dpo@example.co.jp", "cso@example.co.jp"])
    );
    assert_eq!(json["subject"], subject);
    assert_eq!(json["text"], text);
    assert_eq!(json["headers"]["X-Mamori-Incident"], "1");
    assert!(eml.starts_with(b"From: ") || eml.windows(6).any(|w| w == b"From: "));
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    child.kill().await.unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}
