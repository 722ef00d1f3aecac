//! `cgroup-limits`: parse the command line, run, exit with Docker's codes.
//!
//! Errors are printed once, here, with their whole chain:
//! `cgroup-limits: <what failed>: <why>`. An OOM kill is reported the same
//! way: `cgroup-limits: container killed by the OOM killer (memory limit 64 MiB)`.

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
            // Docker exits 125 on bad flags and values: nothing has been created.
            let _ = err.print();
            exit(RUNTIME_FAILED);
        }
    };
    match run::main(cli) {
        Ok(code) => exit(code),
        Err(err) => {
            eprintln!("cgroup-limits: {err:#}");
            exit(Failure::code_of(&err));
        }
    }
}
