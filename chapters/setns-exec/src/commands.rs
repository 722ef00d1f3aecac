//! The commands chapter 4 adds: `exec`, `start`, `stop`, `kill`, `logs`, `inspect`, `port`, `join`.
//!
//! One clap subcommand enum, in the library, so that chapter 5's command
//! line takes them whole (`#[command(flatten)]`), beside chapter 3's store
//! commands; `ps` is chapter 3's with the PORTS column filled. Introduced in chapter 4.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Result;
use clap::{Args, Subcommand};

use ns_isolation::exit;
use union_rootfs::catalog::ps_table_with_ports;
use union_rootfs::containers::{self, Container};
use union_rootfs::store::Store;

use crate::args::ExecArgs;
use crate::hostconfig::HostConfig;
use crate::inspect::{inspect, pretty};
use crate::stop::{parse_signal, running_process};
use crate::{exec, join, logs, run, stop, template};

/// The commands on running containers.
#[derive(Debug, Subcommand)]
pub enum ContainerCommand {
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
    Port(ContainerArg),
    /// Run a command in one namespace of a process: the lesson's set_ns program.
    Join(JoinArgs),
}

/// One container.
#[derive(Debug, Args)]
pub struct ContainerArg {
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
    pub container: ContainerArg,
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

/// Runs one of the container commands; `join` needs no store and is run before one is opened.
pub fn run_container_command(store: &Store, command: ContainerCommand) -> Result<i32> {
    match command {
        ContainerCommand::Exec(args) => return exec::exec(store, &args),
        ContainerCommand::Start(args) => each(&args.containers, |name| run::start(store, name))?,
        ContainerCommand::Stop(args) => {
            let grace = Duration::from_secs(args.time);
            each(&args.containers.containers, |name| stop::stop(store, name, grace))?
        }
        ContainerCommand::Kill(args) => each(&args.containers.containers, |name| stop::kill(store, name, args.signal))?,
        ContainerCommand::Logs(args) => {
            exit::die_on_broken_pipe();
            logs::logs(store, &args.container.container, args.follow, args.tail, args.timestamps)?
        }
        ContainerCommand::Inspect(args) => {
            exit::die_on_broken_pipe();
            let values = args.names.iter().map(|name| inspect(store, name)).collect::<Result<Vec<_>>>()?;
            match &args.format {
                Some(format) => {
                    for value in &values {
                        println!("{}", template::render(format, value)?);
                    }
                }
                None => println!("{}", pretty(&serde_json::Value::Array(values))?),
            }
        }
        ContainerCommand::Port(args) => {
            let container = containers::find(store, &args.container)?;
            for binding in HostConfig::load(&container)?.port_bindings {
                println!("{}", binding.describe());
            }
        }
        ContainerCommand::Join(args) => {
            let never = join::join(&args.file, &args.command)?;
            match never {}
        }
    }
    Ok(0)
}

/// `ps [-a]`, with the PORTS column: `0.0.0.0:4000->80/tcp`.
pub fn ps(store: &Store, all: bool) -> Result<i32> {
    exit::die_on_broken_pipe();
    print!("{}", ps_table_with_ports(store, all, ports_cell)?);
    Ok(0)
}

/// Runs `action` on each container named, printing each name once done, as Docker does.
fn each(names: &[String], action: impl Fn(&str) -> Result<()>) -> Result<()> {
    for name in names {
        action(name)?;
        println!("{name}");
    }
    Ok(())
}

/// The PORTS cell: a running container's published ports; none once it has stopped, as in Docker.
fn ports_cell(container: &Container) -> String {
    if running_process(container).is_none() {
        return String::new();
    }
    let bindings = HostConfig::load(container).map(|config| config.port_bindings).unwrap_or_default();
    let cells: Vec<String> = bindings
        .iter()
        .map(|binding| format!("{}:{}->{}/tcp", binding.host_ip, binding.host_port, binding.container_port))
        .collect();
    cells.join(", ")
}
