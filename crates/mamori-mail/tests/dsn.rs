//! Delivery status notifications (RFC 3464) as Postfix, Exim and Gmail write them, read from
//! single .eml files and from an mbox that also holds mail that is not a DSN.

use mamori_mail::dsn::{normalize_message_id, parse_dsn, read_mailbox, split_mbox, Action, Bounce};

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/dsn/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn one(name: &str) -> Bounce {
    let mut all = parse_dsn(&fixture(name)).unwrap_or_else(|| panic!("{name} is a DSN"));
    assert_eq!(all.len(), 1, "{name}: {all:?}");
    all.remove(0)
}

#[test]
fn postfix_bounce_with_the_whole_original_attached() {
    let b = one("postfix.eml");
    assert_eq!(
        b.original_message_id.as_deref(),
        Some("c42.r1007.a1@mamori.example.jp")
    );
    assert_eq!(b.final_recipient, "taro.yamada@example.net");
    assert_eq!(
        b.original_recipient.as_deref(),
        Some("taro.yamada@example.net")
    );
    assert_eq!(b.action, Action::Failed);
    assert_eq!(b.status, "5.1.1");
    assert_eq!(
        b.diagnostic.as_deref(),
        Some(
            "550 5.1.1 <taro.yamada@example.net>: Recipient address rejected: \
             User unknown in virtual mailbox table"
        )
    );
    assert_eq!(b.reporting_mta.as_deref(), Some("mail.mamori.example.jp"));
    assert!(b.is_bounce());
    assert!(b.is_about("<c42.r1007.a1@mamori.example.jp>"));
    assert!(b.is_about(" c42.r1007.a1@mamori.example.jp "));
    assert!(!b.is_about("<c42.r1008.a1@mamori.example.jp>"));
    assert!(!b.is_about(""));
}

#[test]
fn exim_bounce_with_only_the_headers_and_a_folded_message_id() {
    let b = one("exim.eml");
    assert_eq!(
        b.original_message_id.as_deref(),
        Some("c42.r2044.a1@mamori.example.jp")
    );
    assert_eq!(b.final_recipient, "hanako.suzuki@example.org");
    assert_eq!(b.original_recipient, None);
    assert_eq!(b.action, Action::Failed);
    assert_eq!(b.status, "5.1.1");
    assert_eq!(
        b.diagnostic.as_deref(),
        Some("550 5.1.1 <hanako.suzuki@example.org>... No such user")
    );
    assert_eq!(b.reporting_mta.as_deref(), Some("smtp.relay.example.jp"));
}

#[test]
fn gmail_bounce_nested_parts_and_a_long_folded_diagnostic() {
    let b = one("gmail.eml");
    assert_eq!(
        b.original_message_id.as_deref(),
        Some("c42.r3001.a2@mamori.example.jp")
    );
    assert_eq!(b.final_recipient, "ichiro.sato@gmail.example");
    assert!(b.is_bounce());
    let d = b.diagnostic.unwrap();
    assert!(
        d.starts_with(
            "The email account that you tried to reach does not exist. Please try double-checking"
        ),
        "{d}"
    );
    assert!(d.ends_with("- gsmtp"), "{d}");
    assert_eq!(b.reporting_mta.as_deref(), Some("googlemail.com"));
}

#[test]
fn gmail_original_message_id_falls_back_to_the_per_message_field() {
    // Without the attached original, X-Original-Message-ID still names the message.
    let raw = String::from_utf8(fixture("gmail.eml")).unwrap();
    let cut = raw
        .find("--000000000000a1b2c3d4e5f60718\nContent-Type: message/rfc822")
        .unwrap();
    let stripped = format!("{}--000000000000a1b2c3d4e5f60718--\n", &raw[..cut]);
    let b = parse_dsn(stripped.as_bytes()).unwrap().remove(0);
    assert_eq!(
        b.original_message_id.as_deref(),
        Some("c42.r3001.a2@mamori.example.jp")
    );
}

#[test]
fn a_delayed_dsn_is_not_a_bounce() {
    let b = one("postfix-delayed.eml");
    assert_eq!(b.action, Action::Delayed);
    assert_eq!(b.status, "4.4.1");
    assert!(!b.is_bounce());
    assert_eq!(
        b.original_message_id.as_deref(),
        Some("c42.r1010.a1@mamori.example.jp")
    );
    assert_eq!(
        b.diagnostic.as_deref(),
        Some("connect to mx.slow.example.com[198.51.100.99]:25: Connection timed out")
    );
}

#[test]
fn plain_mail_is_not_a_dsn() {
    assert_eq!(parse_dsn(&fixture("reply.eml")), None);
    assert_eq!(parse_dsn(b""), None);
    assert_eq!(parse_dsn(b"\x00\xff garbage"), None);
    // A read receipt is a multipart/report too, but not a delivery status.
    let mdn = b"From: a@example.jp\nTo: b@example.jp\nSubject: Read\nMIME-Version: 1.0\n\
Content-Type: multipart/report; report-type=disposition-notification; boundary=\"b\"\n\n\
--b\nContent-Type: text/plain\n\nRead.\n--b\nContent-Type: message/disposition-notification\n\n\
Final-Recipient: rfc822; b@example.jp\nDisposition: manual-action/MDN-sent-manually; displayed\n--b--\n";
    assert_eq!(parse_dsn(mdn), None);
}

/// An mboxrd file: `From ` separator lines, body lines matching `>*From ` get one more `>`.
fn mbox(messages: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for m in messages {
        out.extend_from_slice(b"From MAILER-DAEMON Mon Dec  7 14:03:11 2026\n");
        let text = String::from_utf8(m.clone()).unwrap();
        for line in text.lines() {
            if line.trim_start_matches('>').starts_with("From ") {
                out.push(b'>');
            }
            out.extend_from_slice(line.as_bytes());
            out.push(b'\n');
        }
        out.push(b'\n');
    }
    out
}

#[test]
fn an_mbox_yields_the_dsns_and_counts_the_rest() {
    let data = mbox(&[
        fixture("postfix.eml"),
        fixture("reply.eml"),
        fixture("exim.eml"),
        fixture("postfix-delayed.eml"),
        fixture("gmail.eml"),
        b"From: someone@example.jp\nSubject: hello\n\nnot a report\n".to_vec(),
    ]);
    let messages = split_mbox(&data);
    assert_eq!(messages.len(), 6);
    // The reply's body line "From now on" was escaped in the file and is restored.
    let reply = String::from_utf8(messages[1].to_vec()).unwrap();
    assert!(reply.contains("\nFrom now on please"), "{reply}");
    assert!(!reply.contains(">From"));

    let report = read_mailbox(&data);
    assert_eq!(report.messages, 6);
    assert_eq!(report.skipped, 2);
    assert_eq!(report.reports.len(), 4);
    let failed: Vec<(&str, &str)> = report
        .bounces()
        .map(|b| {
            (
                b.original_message_id.as_deref().unwrap(),
                b.final_recipient.as_str(),
            )
        })
        .collect();
    assert_eq!(
        failed,
        vec![
            ("c42.r1007.a1@mamori.example.jp", "taro.yamada@example.net"),
            (
                "c42.r2044.a1@mamori.example.jp",
                "hanako.suzuki@example.org"
            ),
            (
                "c42.r3001.a2@mamori.example.jp",
                "ichiro.sato@gmail.example"
            ),
        ]
    );
}

#[test]
fn a_single_eml_and_empty_input() {
    let report = read_mailbox(&fixture("exim.eml"));
    assert_eq!(
        (report.messages, report.skipped, report.reports.len()),
        (1, 0, 1)
    );
    let report = read_mailbox(&fixture("reply.eml"));
    assert_eq!(
        (report.messages, report.skipped, report.reports.len()),
        (1, 1, 0)
    );
    let report = read_mailbox(b"");
    assert_eq!((report.messages, report.skipped), (0, 0));
    // CRLF mbox as some Windows tools write it.
    let crlf: Vec<u8> = String::from_utf8(mbox(&[fixture("postfix.eml"), fixture("exim.eml")]))
        .unwrap()
        .replace('\n', "\r\n")
        .into_bytes();
    let report = read_mailbox(&crlf);
    assert_eq!((report.messages, report.skipped), (2, 0));
    assert_eq!(report.bounces().count(), 2);
    assert_eq!(
        report.reports[1].original_message_id.as_deref(),
        Some("c42.r2044.a1@mamori.example.jp")
    );
}

#[test]
fn several_recipients_in_one_dsn() {
    let raw = String::from_utf8(fixture("postfix.eml")).unwrap().replace(
        "Diagnostic-Code: smtp; 550 5.1.1 <taro.yamada@example.net>: Recipient address\n    rejected: User unknown in virtual mailbox table\n",
        "Diagnostic-Code: smtp; 550 5.1.1 <taro.yamada@example.net>: Recipient address\n    rejected: User unknown in virtual mailbox table\n\n\
Final-Recipient: rfc822; jiro@example.net\nAction: delivered\nStatus: 2.0.0\n\n\
Final-Recipient: rfc822; saburo@example.net\nAction: FAILED (mailbox full)\nStatus: 5.2.2 (over quota)\n",
    );
    let all = parse_dsn(raw.as_bytes()).unwrap();
    let got: Vec<(&str, &Action, &str)> = all
        .iter()
        .map(|b| (b.final_recipient.as_str(), &b.action, b.status.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            ("taro.yamada@example.net", &Action::Failed, "5.1.1"),
            ("jiro@example.net", &Action::Delivered, "2.0.0"),
            ("saburo@example.net", &Action::Failed, "5.2.2"),
        ]
    );
    assert!(all
        .iter()
        .all(|b| b.original_message_id.as_deref() == Some("c42.r1007.a1@mamori.example.jp")));
}

#[test]
fn message_ids_are_normalised() {
    assert_eq!(normalize_message_id(" <a.b@c> "), "a.b@c");
    assert_eq!(normalize_message_id("a.b@c"), "a.b@c");
    assert_eq!(normalize_message_id("<>"), "");
}
