//! `mamori`: the one binary. It reads the configuration, wires the store, keys and use cases,
//! and runs the web application or one command. Commands call the same use cases as the web.

mod admin;
mod assess;
mod audit;
mod config;
mod incident;
mod scan;
mod serve;
mod vault;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// mamori (守り) — personal-information protection and breach response for Japanese companies.
#[derive(Debug, Parser)]
#[command(name = "mamori", version, about, long_about = None, propagate_version = true)]
struct Cli {
    /// Configuration file (TOML). Defaults to ./mamori.toml when it exists, or $MAMORI_CONFIG.
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the web application (default 127.0.0.1:8080, SQLite in ./mamori-data).
    Serve(serve::ServeArgs),
    /// Apply database migrations (also done at every start of `serve`).
    Migrate(serve::MigrateArgs),
    /// Manage companies, departments and users from the command line.
    #[command(subcommand)]
    Admin(admin::AdminCommand),
    /// Verify or export the tamper-evident audit log.
    #[command(subcommand)]
    Audit(audit::AuditCommand),
    /// Show the effective configuration and where each part came from.
    Config,
    /// Find Japanese personal data in files and folders.
    Scan(scan::ScanArgs),
    /// Decide whether an incident must be reported under the APPI (JSON in, JSON out).
    Assess(assess::AssessArgs),
    /// The ledger of personal data (個人情報管理台帳) as CSV for Excel.
    #[command(subcommand)]
    Ledger(vault::LedgerCommand),
    /// The vault: import records, rotate keys, erase a person, run retention.
    #[command(subcommand)]
    Vault(vault::VaultCommand),
    /// Incidents: attach leaked files.
    #[command(subcommand)]
    Incident(incident::IncidentCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Scan(args) => return scan::run(&args),
        Command::Assess(args) => return assess::run(&args),
        _ => {}
    }
    let (cfg, sources) = match config::Config::load(cli.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("mamori: {e:#}");
            return ExitCode::from(2);
        }
    };
    if let Command::Config = cli.command {
        return serve::print_config(&cfg, &sources);
    }
    init_logging(&cfg);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("mamori: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Serve(args) => serve::serve(cfg, args).await,
            Command::Migrate(args) => serve::migrate(cfg, args).await,
            Command::Admin(cmd) => admin::run(cfg, cmd).await,
            Command::Audit(cmd) => audit::run(cfg, cmd).await,
            Command::Ledger(cmd) => vault::run_ledger(cfg, cmd).await,
            Command::Vault(cmd) => vault::run_vault(cfg, cmd).await,
            Command::Incident(cmd) => incident::run(cfg, cmd).await,
            Command::Config | Command::Scan(_) | Command::Assess(_) => {
                unreachable!("handled above")
            }
        }
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("mamori: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn init_logging(cfg: &config::Config) {
    let filter = tracing_subscriber::EnvFilter::try_new(&cfg.log)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if cfg.log_format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}
