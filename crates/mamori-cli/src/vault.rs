//! `mamori ledger …` and `mamori vault …`: the ledger as CSV for Excel, and the vault's import,
//! key rotation, re-wrap, rollback and erasure for the people who run mamori. The command line
//! acts as `cli` in the audit log and calls the same use cases as the web pages.

use crate::config::Config;
use anyhow::{anyhow, bail, Context, Result};
use mamori_app::vault::LookupBy;
use mamori_app::vault_import::ImportOptions;
use mamori_app::{AppError, Ctx};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

#[derive(Debug, clap::Subcommand)]
pub enum LedgerCommand {
    /// Write the ledger (個人情報管理台帳) as CSV: UTF-8 with BOM, or CP932 with --cp932.
    Export {
        /// Output file (`-` for standard output).
        file: PathBuf,
        #[arg(long)]
        cp932: bool,
        /// The user whose view is exported (a privacy office or auditor login); default: the
        /// first privacy office user of the company.
        #[arg(long)]
        r#as: Option<String>,
    },
    /// Read a ledger CSV (any encoding; the export's Japanese headers) and create or update
    /// entries by name. Rows with a problem are listed with their line.
    Import {
        file: PathBuf,
        #[arg(long)]
        r#as: Option<String>,
    },
}

#[derive(Debug, clap::Subcommand)]
pub enum VaultCommand {
    /// Import records from CSV/TSV/xlsx into a dataset. Columns are mapped from the headers
    /// unless --map says otherwise. Ctrl-C stops after the current batch; running the same
    /// command again resumes there.
    Import {
        file: PathBuf,
        /// The dataset (ledger entry) name.
        #[arg(long)]
        dataset: String,
        /// Create the dataset (and its schema) from the file's columns if it does not exist.
        #[arg(long)]
        create: bool,
        /// HEADER=FIELD; repeat. FIELD `-` leaves a column out.
        #[arg(long = "map", value_name = "HEADER=FIELD")]
        map: Vec<String>,
        /// With --create: the owning department (name) and the purpose of use.
        #[arg(long)]
        department: Option<String>,
        #[arg(long)]
        purpose: Option<String>,
        /// Company code, when there are several.
        #[arg(long)]
        company: Option<String>,
    },
    /// Undo an import (its records, keys and index rows).
    Rollback {
        /// The import number printed by `vault import`.
        import: i64,
    },
    /// Make a new master key version and re-wrap every data key under it.
    RotateKey,
    /// Re-wrap the data keys not yet under the current master key (resumes a rotation).
    Rewrap,
    /// Re-seal records still in the sealed format of before version 0008 (bound to field names)
    /// in the current one (bound to stable field ids). `serve` does it by itself after the
    /// upgrade; this runs it now.
    Reseal,
    /// Give every record the blind-index terms of the current index format (format 2 added
    /// name + address, migration 0013). `serve` does it by itself after the upgrade (job
    /// `vault.reindex`); this runs it now. Safe to run again.
    Reindex,
    /// Erase a person's records in a dataset (crypto-shredding), on request.
    Erase {
        #[arg(long)]
        dataset: String,
        #[arg(long, group = "who")]
        email: Option<String>,
        #[arg(long, group = "who")]
        phone: Option<String>,
        #[arg(long, group = "who")]
        record: Option<i64>,
        /// Why (the request's reference).
        #[arg(long)]
        reason: String,
        #[arg(long)]
        company: Option<String>,
    },
    /// Run the retention rules now (they also run hourly in `serve`).
    Retention,
}

fn app_error(e: AppError) -> anyhow::Error {
    match e {
        AppError::Invalid(p) => anyhow!("{}", p.en),
        other => anyhow!("{other}"),
    }
}

async fn acting_user(app: &mamori_app::App, login: Option<&str>) -> Result<Ctx> {
    use mamori_domain::role::Role;
    let user = match login {
        Some(l) => app
            .store
            .find_user_by_login(l)
            .await?
            .ok_or_else(|| anyhow!("no user `{l}` (list them with `mamori admin list-users`)"))?,
        None => app
            .store
            .list_users(None)
            .await?
            .into_iter()
            .find(|u| !u.disabled && u.roles.contains(Role::PrivacyOffice))
            .ok_or_else(|| {
                anyhow!(
                    "no active user with the privacy_office role, on whose behalf this would run: \
                     name one with --as LOGIN, or create one with `mamori admin create-user \
                     --login LOGIN --name NAME --email EMAIL --department DEPT --role privacy_office`"
                )
            })?,
    };
    Ok(Ctx::user(user, "local"))
}

pub async fn run_ledger(cfg: Config, cmd: LedgerCommand) -> Result<ExitCode> {
    let (app, writer) = crate::serve::app(&cfg, false).await?;
    match cmd {
        LedgerCommand::Export { file, cp932, r#as } => {
            let ctx = acting_user(&app, r#as.as_deref()).await?;
            let bytes = app.export_ledger(&ctx, cp932).await.map_err(app_error)?;
            if file.as_os_str() == "-" {
                std::io::stdout().write_all(&bytes)?;
            } else {
                std::fs::write(&file, &bytes)
                    .with_context(|| format!("writing {}", file.display()))?;
                eprintln!("台帳を書き出しました / ledger written: {}", file.display());
            }
        }
        LedgerCommand::Import { file, r#as } => {
            let ctx = acting_user(&app, r#as.as_deref()).await?;
            let bytes =
                std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let r = app.import_ledger(&ctx, &bytes).await.map_err(app_error)?;
            println!(
                "created {} / updated {} / rejected {}",
                r.created,
                r.updated,
                r.rejected.len()
            );
            for (line, why) in &r.rejected {
                println!("  line {line}: {why}");
            }
        }
    }
    drop(app);
    let _ = writer.await;
    Ok(ExitCode::SUCCESS)
}

fn company_ctx() -> Ctx {
    Ctx::local()
}

async fn dataset_id(app: &mamori_app::App, name: &str, company: Option<&str>) -> Result<i64> {
    let companies = app.store.list_companies().await?;
    let mut found = Vec::new();
    for c in companies
        .iter()
        .filter(|c| company.is_none_or(|code| c.code == code))
    {
        if let Ok(d) = app.store.dataset_by_name(c.id, name).await {
            found.push(d.id);
        }
    }
    match found.as_slice() {
        [id] => Ok(*id),
        [] => match company {
            Some(code) if !companies.iter().any(|c| c.code == code) => {
                bail!("no company with code `{code}`")
            }
            _ => bail!("no dataset `{name}` (the ledger lists them: `mamori ledger export -`; `mamori vault import FILE --dataset NAME --create` makes one from a file)"),
        },
        _ => bail!("several companies have a dataset `{name}`: name one with --company CODE"),
    }
}

pub async fn run_vault(cfg: Config, cmd: VaultCommand) -> Result<ExitCode> {
    let (app, writer) = crate::serve::app(&cfg, false).await?;
    let ctx = company_ctx();
    let code = match cmd {
        VaultCommand::Import {
            file,
            dataset,
            create,
            map,
            department,
            purpose,
            company,
        } => {
            let map = map
                .iter()
                .map(|m| {
                    m.split_once('=')
                        .map(|(h, f)| (h.trim().to_owned(), f.trim().to_owned()))
                        .ok_or_else(|| anyhow!("--map {m}: write HEADER=FIELD"))
                })
                .collect::<Result<Vec<_>>>()?;
            let bytes =
                std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let stop = Arc::new(AtomicBool::new(false));
            let flag = stop.clone();
            tokio::spawn(async move {
                if tokio::signal::ctrl_c().await.is_ok() {
                    eprintln!(
                        "\n中断します（現在のバッチまで保存） / stopping after the current batch…"
                    );
                    flag.store(true, Ordering::SeqCst);
                }
            });
            let started = std::time::Instant::now();
            let tty = std::io::IsTerminal::is_terminal(&std::io::stderr());
            let progress = move |n: i64| {
                if tty {
                    eprint!("\r{n} rows");
                }
                !stop.load(Ordering::SeqCst)
            };
            let opts = ImportOptions {
                dataset,
                create,
                map,
                file_name: file
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                department,
                purpose,
                company,
                batch: None,
            };
            let r = app
                .vault_import(&ctx, &bytes, &opts, &progress)
                .await
                .map_err(app_error)?;
            if tty {
                eprintln!();
            }
            if let Some(from) = r.resumed_from {
                println!("resumed import #{} at row {from}", r.import_id);
            }
            if r.created_dataset {
                println!("created dataset `{}` (id {})", opts.dataset, r.dataset_id);
            }
            for (h, f) in &r.mapping {
                match f {
                    Some(f) => println!("  {h} → {f}"),
                    None if r.card_columns.contains(h) => println!(
                        "  {h} → (取り込みません: カード番号は保存できません / not imported: card numbers are never stored)"
                    ),
                    None => println!("  {h} → (not imported)"),
                }
            }
            println!(
                "import #{}: imported {} / rejected {} ({:.1} s)",
                r.import_id,
                r.imported,
                r.rejected,
                started.elapsed().as_secs_f64()
            );
            for x in &r.rejects {
                println!("  row {} {}: {}", x.row_no, x.field, x.reason);
            }
            if r.stopped {
                println!(
                    "stopped: run the same command again to resume, or `mamori vault rollback {}`",
                    r.import_id
                );
                ExitCode::from(3)
            } else {
                ExitCode::SUCCESS
            }
        }
        VaultCommand::Rollback { import } => {
            let n = app
                .vault_import_rollback(&ctx, import)
                .await
                .map_err(app_error)?;
            println!("import #{import} rolled back: {n} records removed");
            ExitCode::SUCCESS
        }
        VaultCommand::RotateKey => {
            let v = app.rotate_vault_key(&ctx).await.map_err(app_error)?;
            println!("master key version {v} is current; re-wrapping data keys…");
            let started = std::time::Instant::now();
            let n = app.rewrap_keys(5000, None).await.map_err(app_error)?;
            println!(
                "re-wrapped {n} data keys in {:.1} s",
                started.elapsed().as_secs_f64()
            );
            ExitCode::SUCCESS
        }
        VaultCommand::Rewrap => {
            let n = app.rewrap_keys(5000, None).await.map_err(app_error)?;
            println!("re-wrapped {n} data keys");
            ExitCode::SUCCESS
        }
        VaultCommand::Reseal => {
            let (n, failed) = app.reseal_records(2000).await.map_err(app_error)?;
            println!("re-sealed {n} records");
            if failed > 0 {
                eprintln!(
                    "mamori: {failed} records do not open (altered, or a wrong key); the audit log and the log name them"
                );
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            }
        }
        VaultCommand::Reindex => {
            let (n, failed) = app.reindex_records(2000).await.map_err(app_error)?;
            println!("re-indexed {n} records");
            if failed > 0 {
                eprintln!(
                    "mamori: {failed} records do not open (altered, or a wrong key); the audit log and the log name them"
                );
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            }
        }
        VaultCommand::Erase {
            dataset,
            email,
            phone,
            record,
            reason,
            company,
        } => {
            let id = dataset_id(&app, &dataset, company.as_deref()).await?;
            let by = match (email, phone, record) {
                (Some(e), _, _) => LookupBy::Email(e),
                (_, Some(p), _) => LookupBy::Phone(p),
                (_, _, Some(r)) => LookupBy::Record(r),
                _ => bail!("say whom to erase: --email, --phone or --record"),
            };
            let n = app
                .erase_subject(&ctx, id, &by, &reason)
                .await
                .map_err(app_error)?;
            println!("erased {n} record(s)");
            if n == 0 {
                ExitCode::from(4)
            } else {
                ExitCode::SUCCESS
            }
        }
        VaultCommand::Retention => {
            for (d, run) in app.run_retention().await.map_err(app_error)? {
                println!(
                    "dataset {d}: scrubbed {} / deleted {} / failed {} (cutoff {})",
                    run.scrubbed, run.deleted, run.failed, run.cutoff
                );
            }
            ExitCode::SUCCESS
        }
    };
    drop(app);
    let _ = writer.await;
    Ok(code)
}
