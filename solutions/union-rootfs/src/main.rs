//! `union-rootfs`: parse the command line, run, exit with Docker's codes.
//!
//! Errors are printed once, here, with their whole chain:
//! `union-rootfs: <what failed>: <why>`.

mod cli;
mod dispatch;

use ns_isolation::exit;

fn main() {
    let cli = exit::parse_command_line::<cli::Cli>();
    exit::exit_with("union-rootfs", dispatch::main(cli));
}
