//! `mamori scan`: find Japanese personal data in files (pii-detection.md). The engine lives in
//! the `mamori-detect` crate; this module is the command-line front.

use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct ScanArgs {
    /// Files and folders to scan.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
}

pub fn run(args: &ScanArgs) -> ExitCode {
    eprintln!("mamori scan: the scanner is being built ({} paths)", args.paths.len());
    ExitCode::from(1)
}
