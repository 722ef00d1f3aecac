//! `cgroup-limits`: parse the command line, run, exit with Docker's codes.
//!
//! Errors are printed once, here, with their whole chain:
//! `cgroup-limits: <what failed>: <why>`. An OOM kill is reported the same
//! way: `cgroup-limits: container killed by the OOM killer (memory limit 64 MiB)`.

mod cli;

use ns_isolation::exit;

fn main() {
    let cli = exit::parse_command_line::<cli::Cli>();
    exit::exit_with("cgroup-limits", cli::dispatch(cli));
}
