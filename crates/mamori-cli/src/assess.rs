//! `mamori assess`: the APPI breach assessment of one incident, as the fixed JSON contract of
//! appi.md §9. The rules themselves live in `mamori_domain::appi`.

use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct AssessArgs {
    /// The incident facts as JSON (appi.md §9); `-` reads standard input.
    #[arg(long = "json", value_name = "FILE")]
    pub json: PathBuf,
}

pub fn run(args: &AssessArgs) -> ExitCode {
    eprintln!("mamori assess: the assessment engine is being built ({})", args.json.display());
    ExitCode::from(1)
}
