//! `mamori assess`: the APPI breach assessment of one incident, as the fixed JSON contract of
//! appi.md §9. The rules themselves live in `mamori_domain::appi`; this is only the shell around
//! them: read the facts, print one JSON object, and say what is wrong with bad input.
//!
//! Exit codes: 0 success, 2 bad input (the message on standard error names the field), 1 an I/O
//! error. A closed standard output (`mamori assess … | head`) is not an error.

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use mamori_domain::appi;

#[derive(Debug, clap::Args)]
pub struct AssessArgs {
    /// The incident facts as JSON (appi.md §9); `-` reads standard input.
    #[arg(long = "json", value_name = "FILE")]
    pub json: PathBuf,
}

const BAD_INPUT: u8 = 2;
const IO_ERROR: u8 = 1;

pub fn run(args: &AssessArgs) -> ExitCode {
    let bytes = match read_input(&args.json) {
        Ok(bytes) => bytes,
        Err(e) => {
            eprintln!(
                "mamori assess: cannot read {}: {e}",
                source_name(&args.json)
            );
            return ExitCode::from(IO_ERROR);
        }
    };
    let Ok(text) = std::str::from_utf8(&bytes) else {
        eprintln!(
            "mamori assess: {} is not UTF-8 text",
            source_name(&args.json)
        );
        return ExitCode::from(BAD_INPUT);
    };
    let assessment = match appi::assess_json(text) {
        Ok(assessment) => assessment,
        Err(e) => {
            eprintln!("mamori assess: {e}");
            return ExitCode::from(BAD_INPUT);
        }
    };
    let json = match serde_json::to_string_pretty(&assessment) {
        Ok(json) => json,
        Err(e) => {
            eprintln!("mamori assess: cannot write the result: {e}");
            return ExitCode::from(IO_ERROR);
        }
    };
    let mut out = io::stdout().lock();
    match writeln!(out, "{json}").and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mamori assess: cannot write the result: {e}");
            ExitCode::from(IO_ERROR)
        }
    }
}

fn read_input(path: &Path) -> io::Result<Vec<u8>> {
    if path.as_os_str() == "-" {
        let mut bytes = Vec::new();
        io::stdin().lock().read_to_end(&mut bytes)?;
        Ok(bytes)
    } else {
        std::fs::read(path)
    }
}

fn source_name(path: &Path) -> String {
    if path.as_os_str() == "-" {
        "standard input".to_owned()
    } else {
        path.display().to_string()
    }
}
