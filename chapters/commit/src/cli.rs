//! The command line of the chapter 6 runtime: chapter 5's, with the commands on images.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use bind_volume::args::RunArgs;
use bind_volume::commands::VolumeCommand;
use commit::commands::{ImageCommand, ImageSubcommand, ImagesArgs};
use setns_exec::commands::ContainerCommand;
use union_rootfs::commands::{PsArgs, RmArgs};
use union_rootfs::store::DEFAULT_ROOT;

/// Chapter 6 of Rebox: diff, commit, tag, history, save, and build as run + commit in a loop.
#[derive(Debug, Parser)]
#[command(name = "commit", bin_name = "commit", version, arg_required_else_help = true)]
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
    /// List containers.
    Ps(PsArgs),
    /// Remove containers.
    Rm(RmArgs),
    /// List images.
    Images(ImagesArgs),
    /// Manage images.
    #[command(subcommand)]
    Image(ImageSubcommand),
    /// Manage volumes.
    #[command(subcommand)]
    Volume(VolumeCommand),
    #[command(flatten)]
    OnImages(ImageCommand),
    #[command(flatten)]
    Container(ContainerCommand),
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
    fn commit_reads_as_dockers() {
        let cli = Cli::try_parse_from([
            "commit",
            "commit",
            "-m",
            "add test.txt",
            "-c",
            "CMD [\"sh\"]",
            "web",
            "helloworld:v2",
        ])
        .unwrap();
        let Command::OnImages(ImageCommand::Commit(args)) = cli.command else { panic!("not commit") };
        assert_eq!((args.container.as_str(), args.name.as_deref(), args.pause), ("web", Some("helloworld:v2"), true));
        let cli = Cli::try_parse_from(["commit", "commit", "--pause=false", "web"]).unwrap();
        let Command::OnImages(ImageCommand::Commit(args)) = cli.command else { panic!("not commit") };
        assert!(!args.pause);
    }
}
