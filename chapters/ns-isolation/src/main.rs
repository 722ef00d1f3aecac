//! `ns-isolation`: parse the command line, run, exit with Docker's codes.
//!
//! Errors are printed once, here, with their whole chain:
//! `ns-isolation: <what failed>: <why>`.

// Until every todo!() is done, some imports and arguments are unused: this keeps the
// build quiet. Delete it when your chapter is green, to see if anything is left over.
#![allow(unused_imports, unused_variables, unused_mut, dead_code, unreachable_code)]

mod cli;
mod run;

use std::process::exit;

use clap::Parser;
use clap::error::ErrorKind;

use ns_isolation::exit::{Failure, RUNTIME_FAILED};

fn main() {
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) if matches!(err.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) => err.exit(),
        Err(err) => {
            // Docker exits 125 on bad flags: the runtime failed before the command started.
            let _ = err.print();
            exit(RUNTIME_FAILED);
        }
    };
    match run::main(cli) {
        Ok(code) => exit(code),
        Err(err) => {
            eprintln!("ns-isolation: {err:#}");
            exit(Failure::code_of(&err));
        }
    }
}
