//! `mamori scan --report FILE --report-key KEYFILE` end to end: the real binary writes a signed
//! scan report that `discovery_report::verify` accepts with the key's public half.

use std::path::Path;
use std::process::{Command, Output};

use ed25519_dalek::SigningKey;
use mamori_domain::discovery_report::{self, key_id_of, ReportStatus, ScanKeyFile};
use mamori_store::testing::temp_dir;

fn mamori(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mamori"))
        .args(args)
        .output()
        .expect("mamori runs")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A folder with a CSV of names and phones, a clean text file and an unknown binary file.
fn sample_folder(root: &Path) -> std::path::PathBuf {
    let dir = root.join("docs");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("顧客.csv"),
        "氏名,電話番号,メモ\n山田太郎,090-1234-5678,初回\n佐藤花子,03-3456-7890,\n鈴木一郎,080-2345-6789,再送\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("memo.txt"),
        "今日の会議は十時からです。\n議題は予算です。\n",
    )
    .unwrap();
    let mut bin = vec![0x13u8, 0x37, 0, 0, 0, 0, 0xde, 0xad, 0xbe, 0xef];
    bin.extend((0u8..=255).map(|b| b.wrapping_mul(31)));
    bin.extend_from_slice(&[0, 0, 0, 0, 7, 7, 7, 0, 0, 0]);
    std::fs::write(dir.join("blob.bin"), bin).unwrap();
    dir
}

fn fresh_key(root: &Path) -> (SigningKey, String, std::path::PathBuf) {
    let key = SigningKey::from_bytes(&rand::random::<[u8; 32]>());
    let id = key_id_of(&key.verifying_key());
    let path = root.join("scan.key");
    std::fs::write(&path, ScanKeyFile::render(&id, &key, "山田 太郎")).unwrap();
    (key, id, path)
}

#[test]
fn the_report_is_signed_and_verifies() {
    let root = temp_dir("scan-report");
    let dir = sample_folder(&root);
    let (key, id, key_path) = fresh_key(&root);
    let report = root.join("report.jsonl");
    let dir_s = dir.to_str().unwrap();
    let out = mamori(&[
        "scan",
        dir_s,
        "--format",
        "jsonl",
        "--no-prose",
        "--threads",
        "1",
        "--report",
        report.to_str().unwrap(),
        "--report-key",
        key_path.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    // The findings still go to standard output as before.
    let stdout = String::from_utf8(out.stdout.clone()).unwrap();
    assert!(stdout.contains("\"kind\":\"phone\""), "{stdout}");
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "report written: {} (1 files with personal data, 1 not read), signed with key {id}",
            report.display()
        )),
        "{err}"
    );

    let bytes = std::fs::read(&report).unwrap();
    assert_eq!(discovery_report::key_id(&bytes).unwrap(), id);
    let (header, files) =
        discovery_report::verify(&bytes, &key.verifying_key()).expect("the report verifies");
    assert_eq!(header.key_id, id);
    assert_eq!(header.roots, vec![dir_s.to_owned()]);
    assert!(!header.host.is_empty());
    assert_eq!(header.scanner, env!("CARGO_PKG_VERSION"));
    assert!(
        header.started_at.ends_with("+09:00"),
        "{}",
        header.started_at
    );
    assert!(
        header.finished_at.ends_with("+09:00"),
        "{}",
        header.finished_at
    );
    assert!(header.started_at <= header.finished_at);
    assert_eq!(header.files_scanned, 3, "{files:?}");
    assert_eq!(header.files_clean, 1, "{files:?}");
    assert_eq!(files.len(), 2, "{files:?}");

    let csv = files
        .iter()
        .find(|f| f.path.ends_with("顧客.csv"))
        .expect("the CSV has a line");
    assert_eq!(csv.status, ReportStatus::Scanned);
    assert_eq!(csv.format, "csv");
    assert_eq!(csv.reason, None);
    assert_eq!(csv.counts.get("phone"), Some(&3), "{csv:?}");
    assert_eq!(csv.counts.get("person_name"), Some(&3), "{csv:?}");
    assert!(csv.counts.values().all(|&n| n > 0));
    assert!(csv.bytes > 0);

    assert!(
        !files.iter().any(|f| f.path.ends_with("memo.txt")),
        "the clean file is only counted"
    );
    let blob = files
        .iter()
        .find(|f| f.path.ends_with("blob.bin"))
        .expect("the file not read has a line");
    assert_eq!(blob.status, ReportStatus::Skipped);
    assert!(
        blob.reason.as_deref().is_some_and(|r| !r.is_empty()),
        "{blob:?}"
    );
    assert!(blob.counts.is_empty());

    // No value, not even a masked one, is in the report.
    let text = String::from_utf8(bytes.clone()).unwrap();
    for v in ["090-1234-5678", "山田", "***"] {
        assert!(!text.contains(v), "{v} in the report: {text}");
    }

    // Only the owner may read it.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&report).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    }

    // A second run replaces the report whole, still private; nothing is left beside it.
    std::fs::set_permissions(&report, {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::Permissions::from_mode(0o644)
        }
        #[cfg(not(unix))]
        {
            std::fs::metadata(&report).unwrap().permissions()
        }
    })
    .unwrap();
    let out = mamori(&[
        "scan",
        dir_s,
        "--quiet",
        "--no-prose",
        "--report",
        report.to_str().unwrap(),
        "--report-key",
        key_path.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    assert!(
        !stderr(&out).contains("report written"),
        "--quiet: {}",
        stderr(&out)
    );
    let again = std::fs::read(&report).unwrap();
    assert!(discovery_report::verify(&again, &key.verifying_key()).is_ok());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&report).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    }
    let left: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".report.jsonl."))
        .collect();
    assert!(left.is_empty(), "{left:?}");

    // Verified with another key, the report is refused.
    let other = SigningKey::from_bytes(&[3u8; 32]).verifying_key();
    assert_eq!(
        discovery_report::verify(&again, &other),
        Err(discovery_report::ReportError::Edited)
    );
}

#[test]
fn report_without_key_says_where_keys_come_from() {
    let root = temp_dir("scan-report-nokey");
    let dir = sample_folder(&root);
    let report = root.join("r.jsonl");
    let out = mamori(&[
        "scan",
        dir.to_str().unwrap(),
        "--report",
        report.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2), "stderr: {}", stderr(&out));
    assert!(stderr(&out).contains("自己点検キー"), "{}", stderr(&out));
    assert!(stderr(&out).contains("--report-key"), "{}", stderr(&out));
    assert!(out.stdout.is_empty(), "no scan ran");
    assert!(!report.exists());

    // And the key without a report.
    let (_, _, key_path) = fresh_key(&root);
    let out = mamori(&[
        "scan",
        dir.to_str().unwrap(),
        "--report-key",
        key_path.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2), "stderr: {}", stderr(&out));
    assert!(stderr(&out).contains("--report"), "{}", stderr(&out));
}

#[test]
fn a_bad_key_file_is_refused_before_the_scan() {
    let root = temp_dir("scan-report-badkey");
    let dir = sample_folder(&root);
    let report = root.join("r.jsonl");
    let run = |key: &Path| {
        mamori(&[
            "scan",
            dir.to_str().unwrap(),
            "--report",
            report.to_str().unwrap(),
            "--report-key",
            key.to_str().unwrap(),
        ])
    };
    // Not a key file at all.
    let junk = root.join("junk.key");
    std::fs::write(
        &junk,
        "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEI\n",
    )
    .unwrap();
    let out = run(&junk);
    assert_eq!(out.status.code(), Some(2), "stderr: {}", stderr(&out));
    assert!(
        stderr(&out).contains("not a scan key file"),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("自己点検キー"), "{}", stderr(&out));
    // A secret of the wrong length.
    let short = root.join("short.key");
    std::fs::write(
        &short,
        "mamori-scan-key 1\nkey: 0123456789abcdef0123456789abcdef\nsecret: AAAA\n",
    )
    .unwrap();
    let out = run(&short);
    assert_eq!(out.status.code(), Some(2), "stderr: {}", stderr(&out));
    assert!(stderr(&out).contains("3 bytes long"), "{}", stderr(&out));
    // A file that is not there.
    let out = run(&root.join("missing.key"));
    assert_eq!(out.status.code(), Some(2), "stderr: {}", stderr(&out));
    assert!(stderr(&out).contains("cannot read"), "{}", stderr(&out));
    assert!(out.stdout.is_empty(), "no scan ran");
    assert!(!report.exists());
}
