//! Runs the subcommand the command line names.

use std::time::Duration;

use anyhow::Result;

use ns_isolation::trace;
use setns_exec::inspect::{inspect, pretty};
use setns_exec::{exec, hostconfig, join, logs, run, stop, template};
use union_rootfs::catalog::ps_table_with_ports;
use union_rootfs::commands::{StoreCommand, run_store_command};
use union_rootfs::containers;
use union_rootfs::store::Store;

use crate::cli::{Cli, Command};

/// Runs the subcommand and returns the exit code.
pub fn main(cli: Cli) -> Result<i32> {
    if cli.trace {
        trace::enable();
    }
    if let Command::Join(args) = &cli.command {
        let never = join::join(&args.file, &args.command)?;
        match never {}
    }
    let store = Store::open(&cli.root)?;
    match cli.command {
        Command::Run(args) => return run::run(&store, &args),
        Command::Exec(args) => return exec::exec(&store, &args),
        Command::Start(args) => each(&args.containers, |name| run::start(&store, name))?,
        Command::Stop(args) => {
            let grace = Duration::from_secs(args.time);
            each(&args.containers.containers, |name| stop::stop(&store, name, grace))?
        }
        Command::Kill(args) => each(&args.containers.containers, |name| stop::kill(&store, name, args.signal))?,
        Command::Logs(args) => logs::logs(&store, &args.container.container, args.follow, args.tail, args.timestamps)?,
        Command::Inspect(args) => {
            let values = args.names.iter().map(|name| inspect(&store, name)).collect::<Result<Vec<_>>>()?;
            match &args.format {
                Some(format) => {
                    for value in &values {
                        println!("{}", template::render(format, value)?);
                    }
                }
                None => println!("{}", pretty(&serde_json::Value::Array(values))?),
            }
        }
        Command::Port(args) => {
            let container = containers::find(&store, &args.container)?;
            for binding in hostconfig::HostConfig::load(&container)?.port_bindings {
                println!("{}", binding.describe());
            }
        }
        Command::Store(StoreCommand::Ps(args)) => print!("{}", ps_table_with_ports(&store, args.all, ports_cell)?),
        Command::Store(command) => return run_store_command(&store, command),
        Command::Join(_) => unreachable!("handled above"),
    }
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

/// The PORTS column of `ps`: `0.0.0.0:4000->80/tcp`.
fn ports_cell(container: &containers::Container) -> String {
    let bindings = hostconfig::HostConfig::load(container).map(|config| config.port_bindings).unwrap_or_default();
    let cells: Vec<String> = bindings
        .iter()
        .map(|binding| format!("{}:{}->{}/tcp", binding.host_ip, binding.host_port, binding.container_port))
        .collect();
    cells.join(", ")
}
