//! Runs the subcommand the command line names.

use anyhow::Result;

use ns_isolation::trace;
use union_rootfs_solution::commands::run_store_command;
use union_rootfs_solution::run;
use union_rootfs_solution::store::Store;

use crate::cli::{Cli, Command};

/// Runs the subcommand and returns the exit code.
pub fn main(cli: Cli) -> Result<i32> {
    if cli.trace {
        trace::enable();
    }
    let store = Store::open(&cli.root)?;
    match cli.command {
        Command::Run(args) => run::run(&store, &args),
        Command::Store(command) => run_store_command(&store, command),
    }
}
