//! The command line of the chapter 4 runtime: chapter 3's, with detached
//! containers, `exec`, and the commands that manage a running container.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use setns_exec_solution::args::RunArgs;
use setns_exec_solution::commands::ContainerCommand;
use union_rootfs::commands::StoreCommand;
use union_rootfs::store::DEFAULT_ROOT;

/// Chapter 4 of Rebox: detached containers, and exec into them by joining their namespaces with setns().
#[derive(Debug, Parser)]
#[command(name = "setns-exec", bin_name = "setns-exec", version, arg_required_else_help = true)]
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
    /// Run a command in a new container, in the foreground or detached (-d).
    Run(Box<RunArgs>),
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
    fn run_takes_chapter_3s_options_and_its_own() {
        let cli =
            Cli::try_parse_from(["setns-exec", "run", "-d", "-p", "4000:80", "--name", "web", "helloworld"]).unwrap();
        let Command::Run(args) = cli.command else { panic!("not run") };
        assert!(args.detach);
        assert_eq!(args.publish[0].host_port, 4000);
        assert_eq!((args.base.rootfs.name.as_deref(), args.base.image.as_str()), (Some("web"), "helloworld"));
    }

    #[test]
    fn exec_keeps_the_commands_own_flags() {
        let cli = Cli::try_parse_from(["setns-exec", "exec", "-it", "web", "ls", "-l"]).unwrap();
        let Command::Container(ContainerCommand::Exec(args)) = cli.command else { panic!("not exec") };
        assert!(args.interactive && args.tty);
        assert_eq!(args.command, ["ls", "-l"]);
    }
}
