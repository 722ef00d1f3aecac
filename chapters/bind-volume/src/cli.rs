//! The command line of the chapter 5 runtime: chapter 4's, with `-v` and `volume`.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use bind_volume::args::RunArgs;
use bind_volume::commands::VolumeCommand;
use setns_exec::commands::ContainerCommand;
use union_rootfs::commands::StoreCommand;
use union_rootfs::store::DEFAULT_ROOT;

/// Chapter 5 of Rebox: volumes and bind mounts, made in the container's mount namespace before pivot_root.
#[derive(Debug, Parser)]
#[command(name = "bind-volume", bin_name = "bind-volume", version, arg_required_else_help = true)]
pub struct Cli {
    /// Print every syscall and cgroup file write the runtime makes, strace style, to stderr.
    #[arg(long, global = true)]
    pub trace: bool,

    /// Where images, layers, containers and volumes are kept.
    #[arg(long, global = true, env = "REBOX_ROOT", hide_env_values = true, default_value = DEFAULT_ROOT, value_name = "DIR")]
    pub root: PathBuf,

    #[command(subcommand)]
    pub command: Command,
}

/// What to do.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a command in a new container, with its volumes, in the foreground or detached (-d).
    Run(Box<RunArgs>),
    /// Manage volumes.
    #[command(subcommand)]
    Volume(VolumeCommand),
    #[command(flatten)]
    Container(ContainerCommand),
    #[command(flatten)]
    Store(StoreCommand),
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn verify_cli() {
        Cli::command().debug_assert();
    }

    #[test]
    fn run_takes_chapter_4s_options_and_volumes() {
        let cli = Cli::try_parse_from(["bind-volume", "run", "-d", "-v", "/test", "-v", "data:/data:ro", "helloworld"])
            .unwrap();
        let Command::Run(args) = cli.command else { panic!("not run") };
        assert!(args.base.detach);
        assert_eq!(args.volumes, ["/test", "data:/data:ro"]);
    }
}
