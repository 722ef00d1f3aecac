//! `ns-isolation`: parse the command line, run, exit with Docker's codes.
//!
//! Errors are printed once, here, with their whole chain:
//! `ns-isolation: <what failed>: <why>`.

mod cli;

use ns_isolation_solution::exit;

fn main() {
    let cli = exit::parse_command_line::<cli::Cli>();
    exit::exit_with("ns-isolation", cli::dispatch(cli));
}
