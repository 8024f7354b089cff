//! `mamori serve`, `mamori migrate` and `mamori config`.

use crate::config::{Config, Sources};
use anyhow::{bail, Context, Result};
use mamori_app::clock::SystemClock;
use mamori_app::keys::Keys;
use mamori_app::{App, Ctx};
use mamori_domain::audit::Outcome;
use mamori_store::Store;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Fill an empty database with a fictional company and one user per role, and print their
    /// passwords (new ones at every start).
    #[arg(long)]
    pub demo: bool,
    /// Address to listen on (overrides the configuration).
    #[arg(long, value_name = "HOST:PORT")]
    pub listen: Option<String>,
    /// Data directory (overrides the configuration).
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<std::path::PathBuf>,
    /// Create the database if it does not exist yet (only the default location is created
    /// without this flag, so that a mistyped path never starts an empty database).
    #[arg(long)]
    pub create: bool,
}

#[derive(Debug, clap::Args)]
pub struct MigrateArgs {
    /// Create the database if it does not exist yet.
    #[arg(long)]
    pub create: bool,
    /// Only show which migrations are applied.
    #[arg(long)]
    pub status: bool,
}

/// Opens the store, creating it only where allowed, and migrates it.
pub async fn open_store(cfg: &Config, create: bool) -> Result<Store> {
    let url = cfg.database_url();
    let create = create || cfg.is_default_location();
    let store = Store::connect(&url, create)
        .await
        .with_context(|| format!("opening the database {}", mamori_store::redact_url(&url)))?;
    store.migrate().await.context("applying migrations")?;
    Ok(store)
}

/// Loads the keys; new keys are made only while no checkpoint needs the old ones.
pub async fn open_keys(cfg: &Config, store: &Store) -> Result<Keys> {
    let dir = cfg.key_dir();
    let fresh = store.last_checkpoint_seq().await? == 0;
    Keys::load_or_create(&dir, fresh).with_context(|| {
        format!(
            "loading the keys from {} (the audit log already has signed checkpoints, so new keys \
             would not verify them: restore the key directory)",
            dir.display()
        )
    })
}

pub async fn app(cfg: &Config, create: bool) -> Result<(App, tokio::task::JoinHandle<()>)> {
    let store = open_store(cfg, create).await?;
    let keys = open_keys(cfg, &store).await?;
    let (app, writer) = App::new(store, keys, Arc::new(SystemClock), cfg.settings());
    // A wrong or missing vault key stops here, before anything is served or decrypted.
    app.open_vault_default(true)
        .await
        .map_err(|e| anyhow::anyhow!("vault keys: {e}"))?;
    let app = match &cfg.smtp {
        Some(smtp) => app.with_mailer(
            mamori_mail::Mailer::new(smtp)
                .map_err(|e| anyhow::anyhow!("[smtp] configuration: {e}"))?,
        ),
        None => app,
    };
    Ok((app, writer))
}

pub async fn serve(mut cfg: Config, args: ServeArgs) -> Result<ExitCode> {
    if let Some(l) = args.listen {
        cfg.listen = l;
    }
    if let Some(d) = args.data_dir {
        cfg.data_dir = d;
    }
    cfg.validate()?;
    let addr: SocketAddr = cfg.listen.parse().context("listen address")?;
    // The demo without an SMTP server of its own: alerts go over real SMTP to a local mailbox
    // that saves each mail under <data_dir>/demo-mail/, so the whole flow can be tried.
    let _demo_mailbox = if args.demo && cfg.smtp.is_none() {
        let dir = cfg.data_dir.join("demo-mail");
        let sink = demo_mailbox(&dir).await?;
        cfg.smtp = Some(mamori_mail::SmtpConfig {
            host: "127.0.0.1".into(),
            port: sink.port(),
            from: "mamori <alerts@mirai-tsuhan.example>".into(),
            ..mamori_mail::SmtpConfig::default()
        });
        println!(
            "デモ用メールボックス / demo mailbox: alerts are delivered over SMTP to 127.0.0.1:{} and saved in {}",
            sink.port(),
            dir.display()
        );
        Some(sink)
    } else {
        None
    };
    // The demo's share for discovery: a folder beside the data folder (never inside it),
    // allowed for scanning unless the configuration names its own folders.
    let demo_share = if args.demo && cfg.discovery_roots.is_empty() {
        let name = cfg.data_dir.file_name().map_or_else(
            || "mamori-data".into(),
            |n| n.to_string_lossy().into_owned(),
        );
        let dir = cfg.data_dir.with_file_name(format!("{name}-share"));
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot make the demo share {}", dir.display()))?;
        let dir = std::fs::canonicalize(&dir)?;
        cfg.discovery_roots = vec![dir.to_string_lossy().into_owned()];
        Some(dir)
    } else {
        None
    };
    let (app, writer) = app(&cfg, args.create).await?;
    if args.demo {
        let logins = app
            .seed_demo()
            .await
            .map_err(|e| anyhow::anyhow!("demo data: {e}"))?;
        if let Some(dir) = &demo_share {
            app.seed_demo_discovery(dir)
                .await
                .map_err(|e| anyhow::anyhow!("demo discovery: {e}"))?;
            println!(
                "デモ用共有フォルダ / demo share for discovery: {}",
                dir.display()
            );
        }
        print_demo(&logins, &addr);
    }
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    let ctx = Ctx::local();
    app.audit(
        &ctx,
        "system.start",
        &format!("listen:{addr}"),
        Outcome::Success,
        serde_json::json!({}),
    )
    .await
    .map_err(|e| anyhow::anyhow!("audit log: {e}"))?;
    tracing::info!(%addr, backend = ?app.store.backend(), "mamori is listening");
    println!("mamori: http://{addr}/");

    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let worker_name = format!("{}-{}", hostname(), std::process::id());
    let worker = tokio::spawn(
        app.clone()
            .run_worker(worker_name, App::job_handlers(), stop_rx),
    );
    let router = mamori_web::router(
        app.clone(),
        mamori_web::WebConfig {
            cookie_secure: cfg.cookie_secure,
            max_body_bytes: cfg.max_body_bytes,
            trusted_proxies: cfg.trusted_proxies()?,
        },
    );
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await
    .context("serving")?;

    tracing::info!("shutting down");
    let _ = stop_tx.send(true);
    app.stopping
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let _ = worker.await;
    let _ = app
        .audit(
            &ctx,
            "system.stop",
            &format!("listen:{addr}"),
            Outcome::Success,
            serde_json::json!({}),
        )
        .await;
    if let Err(e) = app.checkpoint_audit().await {
        tracing::warn!(error = %e, "final checkpoint failed");
    }
    let store = app.store.clone();
    drop(app);
    let _ = writer.await;
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname").map_or_else(|_| "host".into(), |s| s.trim().to_owned())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

/// Terminal columns a string takes: East Asian wide characters take two.
fn display_width(s: &str) -> usize {
    s.chars()
        .map(|c| {
            let u = c as u32;
            if (0x1100..=0x115F).contains(&u)
                || (0x2E80..=0xA4CF).contains(&u)
                || (0xAC00..=0xD7A3).contains(&u)
                || (0xF900..=0xFAFF).contains(&u)
                || (0xFE30..=0xFE4F).contains(&u)
                || (0xFF00..=0xFF60).contains(&u)
                || (0xFFE0..=0xFFE6).contains(&u)
            {
                2
            } else {
                1
            }
        })
        .sum()
}

/// Pads to `width` terminal columns (format's `{:<n}` counts characters, not columns).
fn pad(s: &str, width: usize) -> String {
    format!("{s}{}", " ".repeat(width.saturating_sub(display_width(s))))
}

/// A local SMTP server for the demo that writes every mail it accepts to `dir` as `N.eml`.
async fn demo_mailbox(
    dir: &std::path::Path,
) -> Result<std::sync::Arc<mamori_mail::sink::SmtpSink>> {
    mamori_store::create_private_dir(dir).with_context(|| format!("creating {}", dir.display()))?;
    let sink = std::sync::Arc::new(
        mamori_mail::sink::SmtpSink::start_on("127.0.0.1:0".parse().context("address")?)
            .await
            .context("starting the demo mailbox")?,
    );
    let watch = sink.clone();
    let dir = dir.to_path_buf();
    tokio::spawn(async move {
        let mut seen = 0;
        loop {
            for m in watch.wait_new(seen).await {
                seen += 1;
                let path = dir.join(format!("{seen}.eml"));
                if let Err(e) = std::fs::write(&path, &m.data) {
                    tracing::warn!(error = %e, "demo mailbox cannot write");
                }
            }
        }
    });
    Ok(sink)
}

fn print_demo(logins: &[mamori_app::demo::DemoLogin], addr: &SocketAddr) {
    println!("デモデータ / demo data — 株式会社みらい通販 (fictional)");
    println!(
        "{} {} {} password",
        pad("login", 11),
        pad("name", 18),
        pad("role", 44)
    );
    for l in logins {
        let totp = if l.role.requires_totp() {
            "  (二要素認証を初回ログイン時に設定 / sets up 2FA at first login)"
        } else {
            ""
        };
        let role = format!("{} / {}", l.role.code(), l.role.label_ja());
        println!(
            "{} {} {} {}{}",
            pad(&l.login, 11),
            pad(&l.display_name, 18),
            pad(&role, 44),
            l.password,
            totp
        );
    }
    println!("ログイン / log in: http://{addr}/login");
}

pub async fn migrate(cfg: Config, args: MigrateArgs) -> Result<ExitCode> {
    let url = cfg.database_url();
    let create = args.create || cfg.is_default_location();
    let store = Store::connect(&url, create && !args.status)
        .await
        .with_context(|| format!("opening the database {}", mamori_store::redact_url(&url)))?;
    if !args.status {
        store.migrate().await.context("applying migrations")?;
    }
    let status = store.migration_status().await?;
    for (version, desc, applied) in &status {
        println!(
            "{version:>4}  {}  {desc}",
            if *applied { "applied" } else { "pending" }
        );
    }
    if status.iter().any(|(_, _, a)| !a) && !args.status {
        bail!("some migrations are still pending");
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

pub fn print_config(cfg: &Config, sources: &Sources) -> ExitCode {
    let mut shown = cfg.clone();
    shown.database_url = mamori_store::redact_url(&cfg.database_url());
    shown.key_dir = cfg.key_dir().display().to_string();
    if let Some(smtp) = shown.smtp.as_mut() {
        if smtp.password.is_some() {
            smtp.password = Some("***".into());
        }
    }
    match toml::to_string_pretty(&shown) {
        Ok(t) => print!("{t}"),
        Err(e) => {
            eprintln!("mamori: {e}");
            return ExitCode::from(1);
        }
    }
    println!();
    match &sources.file {
        Some(f) => println!("# file: {}", f.display()),
        None => println!("# file: (none; defaults)"),
    }
    if sources.env.is_empty() {
        println!("# environment: (none)");
    } else {
        println!("# environment: {}", sources.env.join(", "));
    }
    ExitCode::SUCCESS
}
