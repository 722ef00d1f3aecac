//! The command line of the chapter 2 runtime: chapter 1's, plus Docker's limit flags.

use anyhow::Result;
use clap::{Parser, Subcommand};

use cgroup_limits_solution::args::RunArgs;
use cgroup_limits_solution::run;
use ns_isolation::trace;

/// Chapter 2 of Rebox: run a command in new namespaces, with memory, CPU and process limits.
#[derive(Debug, Parser)]
#[command(name = "cgroup-limits", bin_name = "cgroup-limits", version, arg_required_else_help = true)]
pub struct Cli {
    /// Print every syscall and cgroup file write the runtime makes, strace style, to stderr.
    #[arg(long, global = true)]
    pub trace: bool,

    #[command(subcommand)]
    pub command: Command,
}

/// What to do.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a command in new namespaces and its own cgroup, with the limits given.
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

    fn parse(args: &[&str]) -> Result<RunArgs, clap::Error> {
        let cli = Cli::try_parse_from(["cgroup-limits", "run"].iter().chain(args))?;
        let Command::Run(args) = cli.command;
        Ok(args)
    }

    #[test]
    fn verify_cli() {
        Cli::command().debug_assert();
    }

    #[test]
    fn docker_limit_flags_are_parsed() {
        let args = parse(&["-m", "64m", "--cpus", "0.5", "--pids-limit", "-1", "--", "sh"]).unwrap();
        assert_eq!(args.limits.memory, Some(64 << 20));
        assert_eq!(args.limits.cpus, Some(500_000_000));
        assert_eq!(args.limits.pids_limit, Some(-1));
        assert_eq!(args.command, ["sh"]);
    }

    #[test]
    fn bad_values_are_refused_while_parsing() {
        for bad in [&["-m", "12Q"][..], &["-m", "1k"], &["--cpus", "-1"], &["--pids-limit", "-5"]] {
            let args: Vec<&str> = bad.iter().copied().chain(["--", "sh"]).collect();
            assert!(parse(&args).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn runtime_flags_after_the_command_belong_to_the_command() {
        let args = parse(&["sh", "-m", "64m"]).unwrap();
        assert_eq!(args.command, ["sh", "-m", "64m"]);
        assert_eq!(args.limits.memory, None);
    }
}
