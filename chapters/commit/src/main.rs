//! `commit`: parse the command line, run, exit with Docker's codes.
//!
//! Errors are printed once, here, with their whole chain:
//! `commit: <what failed>: <why>`.

// Until every todo!() is done, some imports and arguments are unused: this keeps the
// build quiet. Delete it when your chapter is green, to see if anything is left over.
#![allow(unused_imports, unused_variables, unused_mut, dead_code, unreachable_code)]

mod cli;
mod dispatch;

use ns_isolation::exit;

fn main() {
    let cli = exit::parse_command_line::<cli::Cli>();
    exit::exit_with("commit", dispatch::main(cli));
}
