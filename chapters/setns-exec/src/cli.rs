//! The command line of the chapter 4 runtime: chapter 3's, with detached
//! containers, `exec`, and the commands that manage a running container.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use setns_exec::args::{ExecArgs, RunArgs};
use setns_exec::stop::parse_signal;
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
    /// Run a command in a running container, by joining its namespaces.
    Exec(Box<ExecArgs>),
    /// Start stopped containers again, detached.
    Start(Containers),
    /// Stop running containers: SIGTERM, then SIGKILL after a grace period.
    Stop(StopArgs),
    /// Send a signal to running containers.
    Kill(KillArgs),
    /// Print a container's output.
    Logs(LogsArgs),
    /// Show containers or images as Docker's JSON.
    Inspect(InspectArgs),
    /// List a container's published ports.
    Port(Container),
    /// Run a command in one namespace of a process: the lesson's set_ns program.
    Join(JoinArgs),
    #[command(flatten)]
    Store(StoreCommand),
}

/// One container.
#[derive(Debug, Args)]
pub struct Container {
    /// A name, an id or a unique id prefix.
    #[arg(value_name = "CONTAINER")]
    pub container: String,
}

/// Containers.
#[derive(Debug, Args)]
pub struct Containers {
    /// Names, ids or unique id prefixes.
    #[arg(required = true, value_name = "CONTAINER")]
    pub containers: Vec<String>,
}

/// `stop [-t SECONDS] CONTAINER...`.
#[derive(Debug, Args)]
pub struct StopArgs {
    /// Seconds to wait after SIGTERM before SIGKILL.
    #[arg(short = 't', long = "time", default_value_t = 10, value_name = "SECONDS")]
    pub time: u64,
    #[command(flatten)]
    pub containers: Containers,
}

/// `kill [-s SIGNAL] CONTAINER...`.
#[derive(Debug, Args)]
pub struct KillArgs {
    /// The signal: a name (KILL, TERM, SIGHUP) or a number.
    #[arg(short = 's', long = "signal", default_value = "KILL", value_parser = parse_signal, value_name = "SIGNAL")]
    pub signal: nix::sys::signal::Signal,
    #[command(flatten)]
    pub containers: Containers,
}

/// `logs [-f] [--tail N] [-t] CONTAINER`.
#[derive(Debug, Args)]
pub struct LogsArgs {
    /// Follow the output as it comes, until the container stops.
    #[arg(short = 'f', long)]
    pub follow: bool,
    /// Only the last N lines.
    #[arg(short = 'n', long, value_name = "N")]
    pub tail: Option<usize>,
    /// Show the time each line was written.
    #[arg(short = 't', long)]
    pub timestamps: bool,
    #[command(flatten)]
    pub container: Container,
}

/// `inspect [-f TEMPLATE] CONTAINER|IMAGE...`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// Print each through a Go-style template, e.g. '{{ .State.Pid }}'.
    #[arg(short = 'f', long = "format", value_name = "TEMPLATE")]
    pub format: Option<String>,
    /// Containers or images.
    #[arg(required = true, value_name = "NAME")]
    pub names: Vec<String>,
}

/// `join /proc/PID/ns/KIND COMMAND...`.
#[derive(Debug, Args)]
pub struct JoinArgs {
    /// A namespace file, /proc/<pid>/ns/<kind>.
    #[arg(value_name = "NAMESPACE_FILE")]
    pub file: PathBuf,
    /// The command to run there, and its arguments.
    #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true, value_name = "COMMAND")]
    pub command: Vec<OsString>,
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
        let Command::Exec(args) = cli.command else { panic!("not exec") };
        assert!(args.interactive && args.tty);
        assert_eq!(args.command, ["ls", "-l"]);
    }
}
