//! `mamori assess` end to end: the real binary, its standard input, files, exit codes and the
//! §9 JSON contract.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use serde_json::{json, Value};

const CONTRACT_EXAMPLE: &str = r#"{
  "knew_at": "2026-04-07T10:00:00+09:00",
  "event": "leak",
  "suspected": false,
  "recovered_before_viewed": false,
  "same_data_held_elsewhere": false,
  "intentional_provision": false,
  "pseudonymized": false,
  "high_grade_encryption": false,
  "malicious": false,
  "being_acquired": false,
  "items": ["name", "address", "credit_card_number"],
  "persons": 1200,
  "role": "controller",
  "notified_entruster_at": null,
  "contact_info_available": true
}"#;

fn mamori(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mamori"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start mamori");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("mamori runs")
}

fn assess_stdin(input: &str) -> Output {
    mamori(&["assess", "--json", "-"], input)
}

fn stdout_json(out: &Output) -> Value {
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("stdout is one JSON object")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn temp_file(name: &str, contents: &str) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::write(&path, contents).expect("write temp file");
    path
}

#[test]
fn reads_standard_input_and_prints_the_contract() {
    let v = stdout_json(&assess_stdin(CONTRACT_EXAMPLE));
    let object = v.as_object().expect("an object");
    assert_eq!(object.len(), 9);
    assert_eq!(v["reportable"], true);
    assert_eq!(v["categories"], json!(["financial", "over_1000"]));
    assert_eq!(v["preliminary_report_due"], "2026-04-11");
    assert_eq!(v["final_report_due"], "2026-05-07");
    assert_eq!(v["notify_individuals"], true);
    assert_eq!(v["notice_method"], "direct");
    assert_eq!(v["must_notify_entruster"], false);
    assert_eq!(v["my_number_act"], Value::Null);
    let reasons = v["reasons"].as_array().expect("reasons");
    assert!(reasons.iter().any(|r| r.as_str()
        == Some("施行規則7条2号: クレジットカード番号（不正利用により財産的被害が生じるおそれ）")));
}

#[test]
fn reads_a_file_with_the_same_result() {
    let path = temp_file("assess-contract-example.json", CONTRACT_EXAMPLE);
    let from_file = mamori(
        &["assess", "--json", path.to_str().expect("utf-8 path")],
        "",
    );
    let from_stdin = assess_stdin(CONTRACT_EXAMPLE);
    assert_eq!(stdout_json(&from_file), stdout_json(&from_stdin));
}

#[test]
fn prints_exactly_one_json_object() {
    let out = assess_stdin(CONTRACT_EXAMPLE);
    let mut stream = serde_json::Deserializer::from_slice(&out.stdout).into_iter::<Value>();
    assert!(stream
        .next()
        .is_some_and(|v| v.is_ok_and(|v| v.is_object())));
    assert!(stream.next().is_none());
    assert!(out.stderr.is_empty(), "{}", stderr(&out));
}

#[test]
fn unknown_field_is_bad_input_naming_the_field() {
    let out = assess_stdin(
        r#"{"knew_at":"2026-04-07","event":"leak","items":[],"persons":1,"colour":"red"}"#,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert!(
        stderr(&out).contains("unknown field `colour`"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn unknown_item_code_is_bad_input_naming_it() {
    let out = assess_stdin(
        r#"{"knew_at":"2026-04-07","event":"leak","items":["name","bogus"],"persons":1}"#,
    );
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("items[1]") && err.contains("`bogus`"), "{err}");
}

#[test]
fn missing_field_and_bad_values_name_the_field() {
    let cases = [
        (r#"{"event":"leak","items":[],"persons":1}"#, "knew_at"),
        (
            r#"{"knew_at":"2026-04-07","event":"leak","items":[],"persons":-1}"#,
            "persons: must not be negative",
        ),
        (
            r#"{"knew_at":"not a date","event":"leak","items":[],"persons":1}"#,
            "knew_at:",
        ),
        ("this is not json", "expected"),
    ];
    for (input, needle) in cases {
        let out = assess_stdin(input);
        assert_eq!(out.status.code(), Some(2), "{input}");
        assert!(stderr(&out).contains(needle), "{input}: {}", stderr(&out));
    }
}

#[test]
fn a_missing_file_is_an_io_error() {
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("no-such-incident.json");
    let out = mamori(
        &["assess", "--json", path.to_str().expect("utf-8 path")],
        "",
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("cannot read"), "{}", stderr(&out));
}

#[test]
fn holiday_deadline_and_utc_knowing_time() {
    // appi.md §10: knew 2025-08-17, day 30 is 敬老の日 2025-09-15 → due 2025-09-16.
    let v = stdout_json(&assess_stdin(
        r#"{"knew_at":"2025-08-17","event":"leak","items":["credit_card_number"],"persons":1,
            "contact_info_available":true}"#,
    ));
    assert_eq!(v["final_report_due"], "2025-09-16");
    // 20:00 UTC on 6 April is already 7 April in Japan.
    let v = stdout_json(&assess_stdin(
        r#"{"knew_at":"2026-04-06T20:00:00Z","event":"leak","malicious":true,"items":["name"],
            "persons":1,"contact_info_available":true}"#,
    ));
    assert_eq!(v["preliminary_report_due"], "2026-04-11");
    assert_eq!(v["final_report_due"], "2026-06-05");
}

#[test]
fn not_reportable_has_empty_categories_and_null_dates() {
    let v = stdout_json(&assess_stdin(
        r#"{"knew_at":"2026-04-07","event":"leak","items":["name","email"],"persons":1000,
            "contact_info_available":true}"#,
    ));
    assert_eq!(v["reportable"], false);
    assert_eq!(v["categories"], json!([]));
    assert_eq!(v["preliminary_report_due"], Value::Null);
    assert_eq!(v["final_report_due"], Value::Null);
    assert_eq!(v["notice_method"], Value::Null);
}
