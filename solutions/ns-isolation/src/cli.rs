//! The command line of the chapter 1 runtime, Docker's words where Docker has one.
//!
//! Later chapters flatten [`RunArgs`] into their own `run` arguments and add
//! their flags beside it.

use std::ffi::OsString;

use clap::{Args, Parser, Subcommand};

use ns_isolation_solution::hostname::validate_hostname;

/// Chapter 1 of Rebox: run a command in new Linux namespaces.
#[derive(Debug, Parser)]
#[command(name = "ns-isolation", bin_name = "ns-isolation", version)]
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

/// `run`'s options, shared by every later chapter.
#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// Hostname inside the container [default: a random 12-hex id, as Docker does].
    #[arg(long, value_parser = parse_hostname)]
    pub hostname: Option<String>,

    /// Network: "none" (a new namespace with only lo, up) or "host" (share the host's).
    #[arg(long, value_enum, default_value_t = NetMode::None)]
    pub net: NetMode,

    /// Also create a user namespace mapping you to root inside (always on when not root).
    #[arg(long)]
    pub userns: bool,

    /// The command to run, and its arguments.
    #[arg(required = true, trailing_var_arg = true, value_name = "COMMAND")]
    pub command: Vec<OsString>,
}

/// `--net`: which network namespace the container gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum NetMode {
    /// A new network namespace with only the loopback device, up.
    None,
    /// The host's network namespace: no isolation of the network.
    Host,
}

fn parse_hostname(name: &str) -> Result<String, String> {
    validate_hostname(name).map(|()| name.to_owned())
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
}
