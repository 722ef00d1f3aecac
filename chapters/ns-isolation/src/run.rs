//! The container's lifecycle as of chapter 1, step by step.
//!
//! Parent: block signals → clone into new namespaces → (rootless) write the
//! id maps → release the child → wait for its exec → wait for it to end,
//! forwarding signals → exit with its status.
//!
//! Child: wait to be released → make mounts private → mount `/proc` →
//! bring up `lo` → set the hostname → unblock signals → exec the command.

use std::convert::Infallible;
use std::path::Path;

use anyhow::Result;
use nix::unistd::Uid;

use ns_isolation::namespaces::{Isolation, clone_flags};
use ns_isolation::{clone, exec, hostname, loopback, mounts, trace, userns, wait};

use crate::cli::{Cli, Command, RunArgs};

/// Runs the subcommand and returns the exit code.
pub fn main(cli: Cli) -> Result<i32> {
    if cli.trace {
        trace::enable();
    }
    match cli.command {
        Command::Run(args) => run(&args),
    }
}

fn run(args: &RunArgs) -> Result<i32> {
    // Without root, only a user namespace grants the rights to create the others.
    let isolation = args.isolation.isolation(!Uid::effective().is_root());
    let hostname = match &args.isolation.hostname {
        Some(name) => name.clone(),
        None => hostname::random_hex_id(6)?,
    };

    wait::block_signals()?;
    let flags = clone_flags(&isolation.namespaces());
    let child = clone::clone_child(flags, || set_up_container(args, isolation, &hostname))?;
    if isolation.user_namespace {
        userns::map_caller_to_root(child.pid)?;
    }
    child.release()?;
    let started = child.wait_for_exec();
    let status = wait::wait_forwarding_signals(child.pid)?;
    started?;
    Ok(wait::exit_code(status))
}

/// The child's side: everything between `clone` and `exec`.
fn set_up_container(args: &RunArgs, isolation: Isolation, hostname: &str) -> Result<Infallible> {
    mounts::make_mounts_private()?;
    mounts::mount_proc(Path::new("/proc"))?;
    if !isolation.host_network {
        loopback::bring_up_loopback()?;
    }
    hostname::set_hostname(hostname)?;
    wait::unblock_signals()?;
    exec::exec_command(&args.command)
}
