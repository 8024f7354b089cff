//! Campaign e-mail benchmark (issue 14): N notices (650,000 by default) sent by
//! `App::send_campaign_emails` — claims by compare-and-set with the Message-ID stored first,
//! Japanese MIME through lettre, outcomes recorded in the database — to a minimal SMTP
//! acceptor on loopback, against a plain loop over the same mailer (lettre with nothing
//! around it) sending the same messages. Memory is sampled every second (VmRSS) to show it
//! stays flat; the acceptor checks that every recipient got exactly one message.
//!
//! Run: `scripts/bench-campaign [N]` (= `cargo bench -p mamori-cli --bench campaign -- N`).
//! SQLite in a temporary directory; `MAMORI_BENCH_POSTGRES_URL` (an empty database) measures
//! PostgreSQL instead.

use futures_util::stream::{self, StreamExt};
use mamori_app::admin::UserInput;
use mamori_app::campaign::{CampaignOptions, Channel};
use mamori_app::clock::SystemClock;
use mamori_app::impact::{AffectedPerson, Contact};
use mamori_app::incident::FirstReportInput;
use mamori_app::keys::Keys;
use mamori_app::{App, Ctx, Settings};
use mamori_domain::appi::Item;
use mamori_domain::lang::Lang;
use mamori_domain::notice;
use mamori_domain::role::Role;
use mamori_mail::{Mail, Mailer, SmtpConfig};
use mamori_store::testing::temp_dir;
use mamori_store::Store;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// What the acceptor saw: messages, and per recipient number how many (campaign messages carry
/// `mamori.c…r<N>.a…`, baseline ones `base.<N>@`).
struct Seen {
    total: AtomicU64,
    campaign: Vec<AtomicU8>,
    base: Vec<AtomicU8>,
}

fn recipient_no(line: &str, tag: &str) -> Option<usize> {
    let i = line.find(tag)? + tag.len();
    let digits: String = line[i..].chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// A minimal ESMTP acceptor: enough for lettre, keeps nothing but counts.
async fn acceptor(seen: Arc<Seen>) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((sock, _)) = listener.accept().await else {
                continue;
            };
            let _ = sock.set_nodelay(true);
            let seen = seen.clone();
            tokio::spawn(async move {
                let (r, mut w) = sock.into_split();
                let mut r = BufReader::new(r);
                let mut line = String::new();
                if w.write_all(b"220 bench ESMTP\r\n").await.is_err() {
                    return;
                }
                loop {
                    line.clear();
                    quickack(r.get_ref());
                    if r.read_line(&mut line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    let cmd = line.get(..4).unwrap_or("").to_ascii_uppercase();
                    let reply: &[u8] = match cmd.as_str() {
                        "EHLO" => {
                            b"250-bench\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n"
                        }
                        "DATA" => {
                            if w.write_all(b"354 go\r\n").await.is_err() {
                                return;
                            }
                            let mut c = None;
                            let mut b = None;
                            loop {
                                line.clear();
                                quickack(r.get_ref());
                                if r.read_line(&mut line).await.unwrap_or(0) == 0 {
                                    return;
                                }
                                if line == ".\r\n" || line == ".\n" {
                                    break;
                                }
                                if c.is_none()
                                    && b.is_none()
                                    && line.len() > 11
                                    && line[..11].eq_ignore_ascii_case("message-id:")
                                {
                                    c = recipient_no(&line, ".r");
                                    b = recipient_no(&line, "base.");
                                }
                            }
                            seen.total.fetch_add(1, Ordering::Relaxed);
                            if let Some(n) = c {
                                if let Some(x) = seen.campaign.get(n) {
                                    x.fetch_add(1, Ordering::Relaxed);
                                }
                            } else if let Some(n) = b {
                                if let Some(x) = seen.base.get(n) {
                                    x.fetch_add(1, Ordering::Relaxed);
                                }
                            }
                            b"250 ok\r\n"
                        }
                        "QUIT" => {
                            let _ = w.write_all(b"221 bye\r\n").await;
                            return;
                        }
                        _ => b"250 ok\r\n",
                    };
                    if w.write_all(reply).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    port
}

/// Acknowledges received data at once. lettre writes a message's body and its final
/// `CRLF.CRLF` in two writes without TCP_NODELAY, so Nagle holds the second until the first is
/// acknowledged; a receiver that delays its ACK (Linux: up to 40 ms) then costs every message
/// 40 ms — 25 messages/s per connection. The acceptor ACKs at once so the benchmark measures
/// mamori, not that interplay (see docs/benchmarks.md).
fn quickack(r: &tokio::net::tcp::OwnedReadHalf) {
    let _ = socket2::SockRef::from(r.as_ref()).set_tcp_quickack(true);
}

fn rss_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn person(i: i64) -> AffectedPerson {
    AffectedPerson {
        id: i,
        record_id: None,
        items: if i % 3 == 0 {
            vec![Item::Name, Item::Email, Item::Phone]
        } else {
            vec![Item::Name, Item::Email]
        },
        contact: Contact {
            name: Some(format!("顧客 {i}")),
            email: Some(format!("kokyaku{i}@example.jp")),
            ..Contact::default()
        },
    }
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

#[tokio::main]
async fn main() {
    let n: i64 = std::env::args()
        .skip(1)
        .find_map(|a| a.replace(['_', ','], "").parse().ok())
        .unwrap_or(650_000);
    let seen = Arc::new(Seen {
        total: AtomicU64::new(0),
        campaign: (0..=n as usize * 2 + 16)
            .map(|_| AtomicU8::new(0))
            .collect(),
        base: (0..=n as usize).map(|_| AtomicU8::new(0)).collect(),
    });
    let port = acceptor(seen.clone()).await;
    let dir = temp_dir("mamori_bench_campaign");
    let (url, backend) = match std::env::var("MAMORI_BENCH_POSTGRES_URL") {
        Ok(u) => (u, "postgres"),
        Err(_) => (
            format!("sqlite://{}", dir.join("bench.db").display()),
            "sqlite",
        ),
    };
    let store = Store::connect(&url, true).await.unwrap();
    store.migrate().await.unwrap();
    let keys = Keys::load_or_create(&dir.join("keys"), true).unwrap();
    let (app, _w) = App::new(store, keys, Arc::new(SystemClock), Settings::default());
    let cfg = SmtpConfig {
        host: "127.0.0.1".into(),
        port,
        from: "お客様相談室 <notice@example.co.jp>".into(),
        ..SmtpConfig::default()
    };
    let app = app.with_mailer(Mailer::new(&cfg).unwrap());
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
                items: vec!["name".into(), "email".into(), "phone".into()],
                ..FirstReportInput::default()
            },
        )
        .await
        .unwrap();
    let mut nt = app.draft_notice(&privacy, incident).await.unwrap();
    nt.ja.contact = "お客様相談室 0120-000-000（平日9時〜17時）".into();
    nt.en.as_mut().unwrap().contact = "Customer desk +81-120-000-000".into();
    let v = app.save_notice(&privacy, incident, &nt).await.unwrap();
    app.approve_notice(&exec, incident, v).await.unwrap();
    let campaign = app
        .create_campaign_for(
            &privacy,
            incident,
            &CampaignOptions {
                channels: vec![Channel::Email],
                rate_per_sec: 10_000,
                lease_secs: 120,
            },
            vec![],
        )
        .await
        .unwrap();
    println!("campaign benchmark: {n} e-mails, {backend}, acceptor on 127.0.0.1:{port}");
    let t = Instant::now();
    let mut i = 1;
    while i <= n {
        let end = (i + 9_999).min(n);
        let chunk: Vec<AffectedPerson> = (i..=end).map(person).collect();
        app.add_campaign_persons(&privacy, campaign, chunk)
            .await
            .unwrap();
        i = end + 1;
    }
    let load_secs = t.elapsed().as_secs_f64();
    println!("  loaded {n} recipients (contact data sealed) in {load_secs:.1} s");
    let rss_before = rss_kib("VmRSS:");

    // mamori: the campaign sender.
    let samples = Arc::new(std::sync::Mutex::new(Vec::<(f64, u64)>::new()));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sampler = {
        let samples = samples.clone();
        let stop = stop.clone();
        let seen = seen.clone();
        tokio::spawn(async move {
            let t = Instant::now();
            let mut last = 0;
            while !stop.load(Ordering::Relaxed) {
                tokio::time::sleep(Duration::from_secs(1)).await;
                let total = seen.total.load(Ordering::Relaxed);
                samples
                    .lock()
                    .unwrap()
                    .push((t.elapsed().as_secs_f64(), rss_kib("VmRSS:")));
                if t.elapsed().as_secs().is_multiple_of(10) {
                    println!(
                        "    {:>4.0} s  {:>8} sent  {:>6} msg/s  RSS {} MiB",
                        t.elapsed().as_secs_f64(),
                        total,
                        total - last,
                        rss_kib("VmRSS:") / 1024
                    );
                }
                last = total;
            }
        })
    };
    let t = Instant::now();
    loop {
        let pass = app
            .send_campaign_emails(campaign, Duration::from_secs(10))
            .await
            .unwrap();
        assert_eq!(pass.temp_failed, 0, "the acceptor refused");
        if pass.sent == 0 {
            break;
        }
    }
    let mamori_secs = t.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    let _ = sampler.await;
    let mamori_peak = rss_kib("VmHWM:");
    let s = samples.lock().unwrap().clone();
    let steady: Vec<u64> = s.iter().skip(s.len() / 10).map(|x| x.1).collect();
    let (lo, hi) = (
        steady.iter().min().copied().unwrap_or(0),
        steady.iter().max().copied().unwrap_or(0),
    );
    let f = app.campaign_funnel(&privacy, campaign).await.unwrap();
    let once = seen
        .campaign
        .iter()
        .filter(|x| x.load(Ordering::Relaxed) == 1)
        .count();
    let twice = seen
        .campaign
        .iter()
        .filter(|x| x.load(Ordering::Relaxed) > 1)
        .count();

    // Baseline: the same messages through the same mailer, nothing around it.
    let mailer = Mailer::new(&cfg).unwrap();
    let text_of = |i: i64| {
        let p = person(i);
        let ja = notice::letter(
            &nt,
            Lang::Ja,
            p.contact.name.as_deref(),
            &p.items,
            "0000000-0",
        );
        let mut text = notice::mail_text(&ja);
        let en = notice::letter(&nt, Lang::En, None, &p.items, "0000000-0");
        text.push_str("\n----- English -----\n\n");
        text.push_str(&notice::mail_text(&en));
        Mail {
            to: vec![p.contact.email.unwrap()],
            subject: nt.ja.subject.clone(),
            text,
            reply_to: None,
            headers: vec![("X-Mamori-Kind".into(), "notice".into())],
        }
    };
    let t = Instant::now();
    stream::iter(1..=n)
        .map(|i| {
            let mailer = mailer.clone();
            let mail = text_of(i);
            async move {
                mailer
                    .send_with_id(&mail, &format!("base.{i}@example.co.jp"))
                    .await
                    .unwrap();
            }
        })
        .buffer_unordered(4)
        .collect::<Vec<()>>()
        .await;
    let base_secs = t.elapsed().as_secs_f64();
    let base_once = seen
        .base
        .iter()
        .filter(|x| x.load(Ordering::Relaxed) == 1)
        .count();

    let nf = n as f64;
    println!();
    println!("| sender | messages | seconds | messages/s | RSS while sending | peak RSS |");
    println!("|---|---:|---:|---:|---:|---:|");
    println!(
        "| mamori campaign (claim, Message-ID stored, outcome recorded) | {n} | {mamori_secs:.1} | {:.0} | {}–{} MiB | {} MiB |",
        nf / mamori_secs,
        lo / 1024,
        hi / 1024,
        mamori_peak / 1024
    );
    println!(
        "| plain lettre loop (same mailer, same messages, 4 in flight) | {n} | {base_secs:.1} | {:.0} | – | {} MiB |",
        nf / base_secs,
        rss_kib("VmHWM:") / 1024
    );
    println!();
    println!(
        "RSS after loading: {} MiB. Campaign: {} notified, {} exactly once at the acceptor, {} more than once; baseline: {} exactly once.",
        rss_before / 1024,
        f.notified,
        once,
        twice,
        base_once
    );
    assert_eq!(twice, 0);
    assert_eq!(once as i64, n);
    let _ = std::fs::remove_dir_all(&dir);
}
