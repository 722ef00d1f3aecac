//! Runs the subcommand the command line names.

use anyhow::Result;

use bind_volume::commands::{rm, run_volume_command};
use bind_volume::{run, volumes};
use commit::commands::{run_image_command, run_image_subcommand};
use commit::images::images_table;
use ns_isolation::trace;
use setns_exec::commands::{self, ContainerCommand, run_container_command};
use setns_exec::join;
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
    volumes::collect_removed(&store)?;
    match cli.command {
        Command::Run(args) => run::run(&store, &args),
        Command::Ps(args) => commands::ps(&store, args.all),
        Command::Rm(args) => rm(&store, &args),
        Command::Images(args) => {
            ns_isolation::exit::die_on_broken_pipe();
            print!("{}", images_table(&store, args.all)?);
            Ok(0)
        }
        Command::Image(command) => run_image_subcommand(&store, command),
        Command::Volume(command) => run_volume_command(&store, command),
        Command::OnImages(command) => run_image_command(&store, command),
        Command::Container(command) => run_container_command(&store, command),
    }
}
