//! The command line of the chapter 1 runtime, with Docker's words.

use anyhow::Result;
use clap::{Parser, Subcommand};

use ns_isolation::args::RunArgs;
use ns_isolation::{run, trace};

/// Chapter 1 of Rebox: run a command in new Linux namespaces.
#[derive(Debug, Parser)]
#[command(name = "ns-isolation", bin_name = "ns-isolation", version, arg_required_else_help = true)]
pub struct Cli {
    /// Print every syscall the runtime makes, strace style, to stderr.
    #[arg(long, global = true)]
    pub trace: bool,

    #[command(subcommand)]
    pub command: Command,
}

/// What to do.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a command in new PID, UTS, mount, IPC and network namespaces.
    Run(RunArgs),
}

/// Runs the subcommand and returns the exit code.
pub fn dispatch(cli: Cli) -> Result<i32> {
    if cli.trace {
        trace::enable();
    }
    match cli.command {
        Command::Run(args) => run::run(&args),
    }
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
    fn the_command_keeps_its_own_flags() {
        let cli = Cli::try_parse_from(["ns-isolation", "run", "--", "ls", "-l"]).unwrap();
        let Command::Run(args) = cli.command;
        assert_eq!(args.command, ["ls", "-l"]);
    }

    #[test]
    fn runtime_flags_after_the_command_belong_to_the_command() {
        let cli = Cli::try_parse_from(["ns-isolation", "run", "sh", "--net", "host"]).unwrap();
        let Command::Run(args) = cli.command;
        assert_eq!(args.command, ["sh", "--net", "host"]);
    }
}
