//! `mamori incident …`: leaked material attached from files on this machine. The command line
//! acts as `cli` in the audit log and uses the same writer as the web upload (streamed from
//! disk, sealed in chunks, scanned in the background by `mamori serve`'s worker).

use crate::config::Config;
use anyhow::Result;
use mamori_app::{AppError, Ctx};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Subcommand)]
pub enum IncidentCommand {
    /// Attach leaked files (CSV, Excel, text, e-mail, zip) to an incident. Each file is stored
    /// encrypted and queued for the scan that finds the affected persons.
    Attach {
        /// The incident number (as in /incidents/ID).
        id: i64,
        /// One or more files.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
}

pub async fn run(cfg: Config, cmd: IncidentCommand) -> Result<ExitCode> {
    let (app, writer) = crate::serve::app(&cfg, false).await?;
    let ctx = Ctx::local();
    let mut code = ExitCode::SUCCESS;
    match cmd {
        IncidentCommand::Attach { id, paths } => {
            for path in paths {
                match app.attach_path(&ctx, id, &path).await {
                    Ok(file_id) => {
                        let f = app.store.get_incident_file(file_id).await?;
                        println!(
                            "{}: 添付しました / attached (file {file_id}, {} bytes, sha256 {})",
                            path.display(),
                            f.size,
                            f.sha256
                        );
                    }
                    Err(AppError::Invalid(p)) => {
                        eprintln!("{}: {} / {}", path.display(), p.ja, p.en);
                        code = ExitCode::from(1);
                    }
                    Err(AppError::NotFound) => {
                        eprintln!("事故 {id} が見つかりません / incident {id} not found");
                        code = ExitCode::from(1);
                        break;
                    }
                    Err(e) => return Err(e.into()),
                }
            }
        }
    }
    let store = app.store.clone();
    drop(app);
    let _ = writer.await;
    store.close().await;
    Ok(code)
}
