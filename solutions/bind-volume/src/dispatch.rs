//! Runs the subcommand the command line names.

use anyhow::Result;

use bind_volume_solution::commands::{rm, run_volume_command};
use bind_volume_solution::{run, volumes};
use ns_isolation::trace;
use setns_exec::commands::{self, ContainerCommand, run_container_command};
use setns_exec::join;
use union_rootfs::commands::{StoreCommand, run_store_command};
use union_rootfs::store::Store;

use crate::cli::{Cli, Command};

/// Runs the subcommand and returns the exit code.
pub fn main(cli: Cli) -> Result<i32> {
    if cli.trace {
        trace::enable();
    }
    // `join` needs no store: the lesson's set_ns works on any process.
    if let Command::Container(ContainerCommand::Join(args)) = &cli.command {
        let never = join::join(&args.file, &args.command)?;
        match never {}
    }
    let store = Store::open(&cli.root)?;
    // The anonymous volumes of `--rm` containers that ended since go now.
    volumes::collect_removed(&store)?;
    match cli.command {
        Command::Run(args) => run::run(&store, &args),
        Command::Volume(command) => run_volume_command(&store, command),
        Command::Container(command) => run_container_command(&store, command),
        Command::Store(StoreCommand::Ps(args)) => commands::ps(&store, args.all),
        Command::Store(StoreCommand::Rm(args)) => rm(&store, &args),
        Command::Store(command) => run_store_command(&store, command),
    }
}
