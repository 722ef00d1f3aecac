//! The command line of the chapter 3 runtime: chapter 2's `run`, an image
//! store, and Docker's container and image commands.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use union_rootfs_solution::args::RunArgs;
use union_rootfs_solution::commands::StoreCommand;
use union_rootfs_solution::store::DEFAULT_ROOT;

/// Chapter 3 of Rebox: run a command in a container with its own root filesystem, made from an image.
#[derive(Debug, Parser)]
#[command(name = "union-rootfs", bin_name = "union-rootfs", version, arg_required_else_help = true)]
pub struct Cli {
    /// Print every syscall and cgroup file write the runtime makes, strace style, to stderr.
    #[arg(long, global = true)]
    pub trace: bool,

    /// Where images, layers and containers are kept.
    #[arg(long, global = true, env = "REBOX_ROOT", hide_env_values = true, default_value = DEFAULT_ROOT, value_name = "DIR")]
    pub root: PathBuf,

    #[command(subcommand)]
    pub command: Command,
}

/// What to do.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a command in a new container, on the image's root filesystem.
    Run(Box<RunArgs>),
    #[command(flatten)]
    Store(StoreCommand),
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn parse_run(args: &[&str]) -> RunArgs {
        let cli = Cli::try_parse_from(["union-rootfs", "run"].iter().chain(args)).unwrap();
        let Command::Run(args) = cli.command else { panic!("not run") };
        *args
    }

    #[test]
    fn verify_cli() {
        Cli::command().debug_assert();
    }

    #[test]
    fn everything_after_the_image_is_the_command() {
        let args = parse_run(&["--name", "web", "busybox", "ls", "-l", "--name", "x"]);
        assert_eq!(args.image, "busybox");
        assert_eq!(args.rootfs.name.as_deref(), Some("web"));
        assert_eq!(args.command, ["ls", "-l", "--name", "x"]);
    }

    #[test]
    fn the_command_may_start_with_a_dash_and_may_be_absent() {
        assert_eq!(parse_run(&["--entrypoint", "/bin/ls", "busybox", "-a"]).command, ["-a"]);
        assert!(parse_run(&["busybox"]).command.is_empty());
    }
}
