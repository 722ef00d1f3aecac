//! `bind-volume`: parse the command line, run, exit with Docker's codes.
//!
//! Errors are printed once, here, with their whole chain:
//! `bind-volume: <what failed>: <why>`.

mod cli;
mod dispatch;

use ns_isolation::exit;

fn main() {
    let cli = exit::parse_command_line::<cli::Cli>();
    exit::exit_with("bind-volume", dispatch::main(cli));
}
