//! The mailer against the real sink over loopback TCP, and the sink against a raw client.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use mamori_mail::sink::{SinkMode, SmtpSink};
use mamori_mail::{Mail, MailError, Mailer, SmtpConfig, SmtpTls};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

const WAIT: Duration = Duration::from_secs(10);

fn mailer_for(port: u16) -> Mailer {
    Mailer::new(&SmtpConfig {
        port,
        from: "mamori <no-reply@example.co.jp>".into(),
        timeout_secs: 5,
        ..SmtpConfig::default()
    })
    .expect("valid config")
}

fn mail(to: &[&str], subject: &str, text: &str) -> Mail {
    Mail {
        to: to.iter().map(|s| (*s).to_owned()).collect(),
        subject: subject.to_owned(),
        text: text.to_owned(),
        ..Mail::default()
    }
}

#[tokio::test]
async fn japanese_mail_arrives_once_with_both_recipients() {
    let sink = SmtpSink::start().await;
    let subject = "【重要】個人情報漏えいの第一報（訓練）";
    let text = "各位\n\n\
                個人情報の漏えいが発生した可能性があります（訓練）。\n\
                詳細は次のページをご確認ください。\n\
                https://mamori.example.co.jp/incidents/2025-0001?tab=報告\n\
                \n\
                ―― まもり 事故対応システム\n";
    let mut m = mail(
        &["山田 太郎 <yamada@example.co.jp>", "dpo@example.co.jp"],
        subject,
        text,
    );
    m.reply_to = Some("privacy@example.co.jp".into());
    m.headers = vec![
        ("X-Mamori-Incident".into(), "2025-0001".into()),
        ("X-Mamori-Title".into(), "顧客名簿の誤送信".into()),
    ];

    let id = mailer_for(sink.port()).send(&m).await.expect("sent");

    let received = sink.wait_for(1, WAIT).await;
    // Give a duplicate delivery a moment to show up before counting.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(sink.messages().len(), 1);
    let r = &received[0];
    assert_eq!(r.from, "no-reply@example.co.jp");
    assert_eq!(r.to, ["yamada@example.co.jp", "dpo@example.co.jp"]);

    let head_end = r
        .data
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("header/body separator");
    let head = &r.data[..head_end];
    assert!(head.is_ascii(), "{}", String::from_utf8_lossy(head));
    // The body too: non-ASCII text goes base64, so no relay needs 8BITMIME.
    assert!(r.data.is_ascii(), "{}", String::from_utf8_lossy(&r.data));
    let head = String::from_utf8_lossy(head);
    assert!(
        head.contains("Subject: =?utf-8?") || head.contains("Subject: =?UTF-8?"),
        "{head}"
    );

    let p = r.parsed();
    assert_eq!(p.subject.as_deref(), Some(subject));
    assert_eq!(p.text, text);
    assert_eq!(p.to, ["yamada@example.co.jp", "dpo@example.co.jp"]);
    assert_eq!(p.from.as_deref(), Some("no-reply@example.co.jp"));
    assert_eq!(p.message_id.as_deref(), Some(id.as_str()));
    assert_eq!(p.header("x-mamori-incident"), Some("2025-0001"));
    assert_eq!(p.header("X-Mamori-Title"), Some("顧客名簿の誤送信"));
    assert_eq!(
        p.header("To"),
        Some("山田 太郎 <yamada@example.co.jp>, dpo@example.co.jp")
    );
    assert_eq!(p.header("Auto-Submitted"), Some("auto-generated"));
    assert!(p.header("Date").is_some());
    assert!(p
        .header("Reply-To")
        .unwrap()
        .contains("privacy@example.co.jp"));
}

#[tokio::test]
async fn pooled_connection_carries_several_messages() {
    let sink = SmtpSink::start().await;
    let mailer = mailer_for(sink.port());
    for i in 0..3 {
        mailer
            .send(&mail(&["a@example.jp"], &format!("第{i}報"), "本文"))
            .await
            .expect("sent");
    }
    let received = sink.wait_for(3, WAIT).await;
    let subjects: Vec<_> = received
        .iter()
        .map(|r| r.parsed().subject.unwrap_or_default())
        .collect();
    assert_eq!(subjects, ["第0報", "第1報", "第2報"]);
}

#[tokio::test]
async fn dot_stuffing_keeps_leading_dots() {
    let sink = SmtpSink::start().await;
    // ASCII only, so lettre sends it as 7bit and the dots reach the SMTP layer as written.
    let text = "first\n.hidden line\n..two dots\n.\nlast\n";
    mailer_for(sink.port())
        .send(&mail(&["a@example.jp"], "dots", text))
        .await
        .expect("sent");
    let received = sink.wait_for(1, WAIT).await;
    assert_eq!(received[0].parsed().text, text);
    let raw = String::from_utf8_lossy(&received[0].data);
    assert!(raw.contains("\r\n.hidden line\r\n"), "{raw}");
    assert!(raw.contains("\r\n.\r\nlast"), "{raw}");
}

#[tokio::test]
async fn temp_fail_is_transient() {
    let sink = SmtpSink::start().await;
    sink.set_mode(SinkMode::TempFail);
    let err = mailer_for(sink.port())
        .send(&mail(&["a@example.jp"], "s", "t"))
        .await
        .unwrap_err();
    assert!(matches!(err, MailError::Transient(_)), "{err:?}");
    assert!(err.to_string().contains("451"), "{err}");
    assert!(sink.messages().is_empty());
}

#[tokio::test]
async fn reject_is_permanent() {
    let sink = SmtpSink::start().await;
    sink.set_mode(SinkMode::Reject);
    let err = mailer_for(sink.port())
        .send(&mail(&["a@example.jp"], "s", "t"))
        .await
        .unwrap_err();
    assert!(matches!(err, MailError::Permanent(_)), "{err:?}");
    assert!(err.to_string().contains("550"), "{err}");
    assert!(sink.messages().is_empty());
}

#[tokio::test]
async fn mode_change_applies_to_the_next_message() {
    let sink = SmtpSink::start().await;
    let mailer = mailer_for(sink.port());
    sink.set_mode(SinkMode::TempFail);
    assert!(mailer
        .send(&mail(&["a@example.jp"], "s", "t"))
        .await
        .unwrap_err()
        .is_transient());
    sink.set_mode(SinkMode::Accept);
    mailer
        .send(&mail(&["a@example.jp"], "retry", "t"))
        .await
        .expect("retry succeeds");
    assert_eq!(sink.wait_for(1, WAIT).await.len(), 1);
}

#[tokio::test]
async fn nothing_listening_is_transient() {
    let port = {
        let listener = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        listener.local_addr().unwrap().port()
    };
    let err = mailer_for(port)
        .send(&mail(&["a@example.jp"], "s", "t"))
        .await
        .unwrap_err();
    assert!(matches!(err, MailError::Transient(_)), "{err:?}");
}

#[tokio::test]
async fn implicit_tls_against_plain_server_is_transient() {
    // Also proves the rustls crypto provider is usable without any global set-up.
    let sink = SmtpSink::start().await;
    let mailer = Mailer::new(&SmtpConfig {
        host: "localhost".into(),
        port: sink.port(),
        tls: SmtpTls::Tls,
        timeout_secs: 5,
        ..SmtpConfig::default()
    })
    .unwrap();
    let err = mailer
        .send(&mail(&["a@example.jp"], "s", "t"))
        .await
        .unwrap_err();
    assert!(matches!(err, MailError::Transient(_)), "{err:?}");
}

#[tokio::test]
async fn starttls_required_but_not_offered_is_permanent() {
    let sink = SmtpSink::start().await;
    let mailer = Mailer::new(&SmtpConfig {
        host: "localhost".into(),
        port: sink.port(),
        tls: SmtpTls::StartTls,
        timeout_secs: 5,
        ..SmtpConfig::default()
    })
    .unwrap();
    let err = mailer
        .send(&mail(&["a@example.jp"], "s", "t"))
        .await
        .unwrap_err();
    assert!(matches!(err, MailError::Permanent(_)), "{err:?}");
    assert!(sink.messages().is_empty());
}

#[tokio::test]
async fn bad_recipient_names_the_field() {
    let sink = SmtpSink::start().await;
    let mailer = mailer_for(sink.port());
    let err = mailer
        .send(&mail(&["ok@example.jp", "not an address"], "s", "t"))
        .await
        .unwrap_err();
    assert_eq!(
        err,
        MailError::BadAddress {
            field: "to",
            value: "not an address".into()
        }
    );
    let err = mailer.send(&mail(&[], "s", "t")).await.unwrap_err();
    assert!(
        matches!(err, MailError::BadAddress { field: "to", .. }),
        "{err:?}"
    );
    let mut m = mail(&["ok@example.jp"], "s", "t");
    m.reply_to = Some("@@".into());
    let err = mailer.send(&m).await.unwrap_err();
    assert!(
        matches!(
            err,
            MailError::BadAddress {
                field: "reply_to",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(sink.messages().is_empty());
}

/// A line-oriented raw SMTP client.
struct Raw {
    reader: BufReader<tokio::net::tcp::OwnedReadHalf>,
    writer: tokio::net::tcp::OwnedWriteHalf,
}

impl Raw {
    async fn connect(addr: SocketAddr) -> Raw {
        let (r, w) = TcpStream::connect(addr).await.unwrap().into_split();
        let mut raw = Raw {
            reader: BufReader::new(r),
            writer: w,
        };
        assert!(raw.reply().await.starts_with("220 "));
        raw
    }

    /// Reads one (possibly multi-line) reply.
    async fn reply(&mut self) -> String {
        let mut all = String::new();
        loop {
            let mut line = String::new();
            let n = tokio::time::timeout(WAIT, self.reader.read_line(&mut line))
                .await
                .expect("reply in time")
                .unwrap();
            assert!(n > 0, "connection closed; got so far: {all:?}");
            all.push_str(&line);
            if line.as_bytes().get(3) != Some(&b'-') {
                return all;
            }
        }
    }

    async fn send(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).await.unwrap();
    }

    async fn cmd(&mut self, line: &str) -> String {
        self.send(format!("{line}\r\n").as_bytes()).await;
        self.reply().await
    }
}

#[tokio::test]
async fn sink_speaks_esmtp() {
    let sink = SmtpSink::start().await;
    let mut c = Raw::connect(sink.addr()).await;
    assert!(c.cmd("MAIL FROM:<a@b.jp>").await.starts_with("503"));
    let ehlo = c.cmd("EHLO client.example.jp\r250 injected").await;
    assert!(!ehlo.contains("\r250 injected"), "{ehlo:?}");
    for ext in ["8BITMIME", "SMTPUTF8", "SIZE "] {
        assert!(ehlo.contains(ext), "{ehlo}");
    }
    assert!(ehlo.lines().last().unwrap().starts_with("250 "), "{ehlo}");
    assert!(c.cmd("NOOP").await.starts_with("250"));
    assert!(c.cmd("XYZZY").await.starts_with("502"));
    assert!(c.cmd("STARTTLS").await.starts_with("502"));
    assert!(c.cmd("RCPT TO:<x@y.jp>").await.starts_with("503"));
    assert!(c.cmd("DATA").await.starts_with("503"));

    // Two messages on one connection, the first abandoned with RSET.
    assert!(c
        .cmd("mail from:<a@b.jp> BODY=8BITMIME SMTPUTF8")
        .await
        .starts_with("250"));
    assert!(c.cmd("RCPT TO:<dropped@y.jp>").await.starts_with("250"));
    assert!(c.cmd("RSET").await.starts_with("250"));
    assert!(c
        .cmd("MAIL FROM:<a@b.jp> SIZE=999999999")
        .await
        .starts_with("552"));
    assert!(c.cmd("MAIL FROM:<a@b.jp>").await.starts_with("250"));
    assert!(c.cmd("MAIL FROM:<a@b.jp>").await.starts_with("503"));
    assert!(c.cmd("DATA").await.starts_with("554"));
    assert!(c.cmd("RCPT TO:<x@y.jp>").await.starts_with("250"));
    assert!(c.cmd("RCPT TO:<z@y.jp>").await.starts_with("250"));
    assert!(c.cmd("DATA").await.starts_with("354"));
    c.send(b"Subject: one\r\n\r\n..leading dot\r\nbody\r\n.\r\n")
        .await;
    assert!(c.reply().await.starts_with("250"));

    assert!(c.cmd("MAIL FROM:<>").await.starts_with("250"));
    assert!(c.cmd("RCPT TO:<x@y.jp>").await.starts_with("250"));
    assert!(c.cmd("DATA").await.starts_with("354"));
    // The end marker is CRLF.CRLF only: a bare-LF dot line is content.
    c.send(b"Subject: two\r\n\r\n.\nstill body\r\n.\r\n").await;
    assert!(c.reply().await.starts_with("250"));

    let long = format!("NOOP {}", "x".repeat(600));
    assert!(c.cmd(&long).await.starts_with("500"));
    assert!(
        c.cmd("NOOP").await.starts_with("250"),
        "recovers after a long line"
    );

    // A text line over 1000 octets refuses the message but keeps the session.
    assert!(c.cmd("MAIL FROM:<a@b.jp>").await.starts_with("250"));
    assert!(c.cmd("RCPT TO:<x@y.jp>").await.starts_with("250"));
    assert!(c.cmd("DATA").await.starts_with("354"));
    c.send(format!("Subject: long\r\n\r\n{}\r\n.\r\n", "y".repeat(1200)).as_bytes())
        .await;
    assert!(c.reply().await.starts_with("500"));

    assert!(c.cmd("QUIT").await.starts_with("221"));
    let mut rest = Vec::new();
    c.reader.read_to_end(&mut rest).await.unwrap();
    assert!(rest.is_empty());

    let received = sink.messages();
    assert_eq!(received.len(), 2);
    assert_eq!(received[0].from, "a@b.jp");
    assert_eq!(received[0].to, ["x@y.jp", "z@y.jp"]);
    assert_eq!(
        received[0].data,
        b"Subject: one\r\n\r\n.leading dot\r\nbody\r\n"
    );
    assert_eq!(received[1].from, "");
    assert_eq!(received[1].data, b"Subject: two\r\n\r\n\nstill body\r\n");
}

#[tokio::test]
async fn sink_accepts_pipelined_commands_and_helo() {
    let sink = SmtpSink::start().await;
    let mut c = Raw::connect(sink.addr()).await;
    c.send(
        b"HELO old.example.jp\r\nMAIL FROM:<a@b.jp>\r\nRCPT TO:<x@y.jp>\r\nDATA\r\n\
          Subject: piped\r\n\r\nhi\r\n.\r\nQUIT\r\n",
    )
    .await;
    for expected in ["250", "250", "250", "354", "250", "221"] {
        let reply = c.reply().await;
        assert!(reply.starts_with(expected), "{expected}: {reply}");
    }
    let received = sink.wait_for(1, WAIT).await;
    assert_eq!(received[0].parsed().subject.as_deref(), Some("piped"));
}

#[tokio::test]
async fn sink_survives_garbage_and_serves_concurrent_clients() {
    let sink = SmtpSink::start().await;
    // Garbage: invalid UTF-8, NULs, a huge line without newline, then hang up.
    {
        let mut c = Raw::connect(sink.addr()).await;
        c.send(b"\xff\xfe\x00garbage\r\nMAIL FROM:<\xff>\r\n").await;
        let _ = c.reply().await;
        let _ = c.reply().await;
        c.send(&vec![b'z'; 100_000]).await;
    }
    // An abusive client is cut off after repeated errors.
    {
        // Exactly the limit, so the sink has read everything when it hangs up (unread data
        // would turn its close into a reset).
        let mut c = Raw::connect(sink.addr()).await;
        for _ in 0..20 {
            c.send(b"BOGUS\r\n").await;
        }
        let mut all = String::new();
        tokio::time::timeout(WAIT, c.reader.read_to_string(&mut all))
            .await
            .expect("the sink hangs up")
            .unwrap();
        assert_eq!(all.matches("502").count(), 20, "{all}");
        assert!(
            all.ends_with("421 4.7.0 Too many errors, closing connection\r\n"),
            "{all}"
        );
    }
    // Several clients at once, each keeping its connection open across the others.
    let mut clients = Vec::new();
    for _ in 0..5 {
        let mut c = Raw::connect(sink.addr()).await;
        assert!(c.cmd("EHLO c").await.starts_with("250"));
        clients.push(c);
    }
    for (i, c) in clients.iter_mut().enumerate().rev() {
        assert!(c.cmd("MAIL FROM:<a@b.jp>").await.starts_with("250"));
        assert!(c
            .cmd(&format!("RCPT TO:<{i}@y.jp>"))
            .await
            .starts_with("250"));
        assert!(c.cmd("DATA").await.starts_with("354"));
        c.send(format!("Subject: {i}\r\n\r\nbody\r\n.\r\n").as_bytes())
            .await;
        assert!(c.reply().await.starts_with("250"));
    }
    assert_eq!(sink.wait_for(5, WAIT).await.len(), 5);
}

#[tokio::test]
async fn stop_closes_the_listener() {
    let sink = SmtpSink::start().await;
    let addr = sink.addr();
    sink.stop();
    tokio::task::yield_now().await;
    let mut refused = false;
    for _ in 0..50 {
        if TcpStream::connect(addr).await.is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(refused, "still accepting on {addr}");
}

#[tokio::test]
#[should_panic(expected = "expected 1 message(s)")]
async fn wait_for_panics_clearly() {
    let sink = SmtpSink::start().await;
    sink.wait_for(1, Duration::from_millis(50)).await;
}

#[test]
fn mailer_outlives_its_runtime_without_panicking() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mailer = rt.block_on(async {
        let sink = SmtpSink::start().await;
        let mailer = mailer_for(sink.port());
        mailer
            .send(&mail(&["a@example.jp"], "s", "t"))
            .await
            .expect("sent");
        sink.wait_for(1, WAIT).await;
        mailer
    });
    drop(rt);
    drop(mailer);
}
