//! `commit`: parse the command line, run, exit with Docker's codes.
//!
//! Errors are printed once, here, with their whole chain:
//! `commit: <what failed>: <why>`.

mod cli;
mod dispatch;

use ns_isolation::exit;

fn main() {
    let cli = exit::parse_command_line::<cli::Cli>();
    exit::exit_with("commit", dispatch::main(cli));
}
