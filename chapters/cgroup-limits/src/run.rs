//! The container's lifecycle as of chapter 2, step by step.
//!
//! Parent: check the limits → block signals → create the cgroup
//! (`rebox/<id>`, limits written) → clone into new namespaces → (rootless)
//! write the id maps → release the child → wait for its exec → wait for it
//! to end, forwarding signals → ask the cgroup whether the OOM killer did it
//! → remove the cgroup → exit with its status.
//!
//! Child: wait to be released → move itself into the cgroup → enter a new
//! cgroup namespace → make mounts private → mount `/proc` → bring up `lo` →
//! set the hostname → unblock signals → exec the command.
//!
//! The cgroup is removed on every path: after the command ends, whatever
//! killed it, and after a failure anywhere between creating and joining.

use std::convert::Infallible;
use std::path::Path;

use anyhow::{Result, bail};
use nix::sys::signal::{Signal, kill};
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::{Pid, Uid};

use cgroup_limits::cgroup::Cgroup;
use cgroup_limits::id::ContainerId;
use cgroup_limits::layout::{CGROUP_ROOT, Hierarchy};
use cgroup_limits::plan::{Limits, plan};
use cgroup_limits::{namespace, oom};
use ns_isolation::clone::Child;
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
    let rootless = !Uid::effective().is_root();
    // Every limit is checked before anything exists.
    let limits = args.limits.limits()?;
    if rootless && !limits.is_empty() {
        bail!(
            "cgroup limits need root: the cgroup trees belong to root (run with sudo, or without -m, --memory-swap, --cpus and --pids-limit)"
        );
    }
    let id = ContainerId::random()?;
    if let Some(path) = &args.cid.cidfile {
        id.write_cidfile(path)?;
    }

    wait::block_signals()?;
    // Rootless, there is no cgroup at all: only root may make one.
    let cgroup = if rootless { None } else { Some(create_cgroup(&id, &limits)?) };
    let ended = run_container(args, &id, rootless, cgroup.as_ref());
    let oom_killed = match (&ended, &cgroup) {
        (Ok(status), Some(cgroup)) => oom::oom_failure(cgroup, *status),
        _ => Ok(None),
    };
    // However the run ended, the cgroup goes: what is left in it is killed, its directories removed.
    let removed = cgroup.map_or(Ok(()), Cgroup::remove);
    let status = ended?;
    removed?;
    if let Some(failure) = oom_killed? {
        return Err(failure.into());
    }
    Ok(wait::exit_code(status))
}

/// Makes `rebox/<id>` in each hierarchy the host has, with the limits written.
fn create_cgroup(id: &ContainerId, limits: &Limits) -> Result<Cgroup> {
    let hierarchy = Hierarchy::detect(Path::new(CGROUP_ROOT))?;
    Cgroup::create(&plan(&hierarchy, id.as_str(), limits)?)
}

/// Clones the child, releases it into its cgroup, lets it exec, and waits for it to end.
fn run_container(args: &RunArgs, id: &ContainerId, rootless: bool, cgroup: Option<&Cgroup>) -> Result<WaitStatus> {
    // Without root, only a user namespace grants the rights to create the others.
    let isolation = args.isolation.isolation(rootless);
    let hostname = args.isolation.hostname.clone().unwrap_or_else(|| id.short().to_owned());
    let flags = clone_flags(&isolation.namespaces());
    let child = clone::clone_child(flags, || set_up_container(args, isolation, &hostname, cgroup))?;
    if let Err(err) = prepare_child(&child, isolation) {
        stop(child.pid);
        return Err(err);
    }
    let started = child.wait_for_exec();
    let status = wait::wait_forwarding_signals(child.pid)?;
    started?;
    Ok(status)
}

/// The parent's work on the child from outside, while the child waits: id maps, release.
fn prepare_child(child: &Child, isolation: Isolation) -> Result<()> {
    if isolation.user_namespace {
        userns::map_caller_to_root(child.pid)?;
    }
    child.release()
}

/// The child's side: everything between `clone` and `exec`.
fn set_up_container(
    args: &RunArgs,
    isolation: Isolation,
    hostname: &str,
    cgroup: Option<&Cgroup>,
) -> Result<Infallible> {
    // First of all, into the cgroup: nothing of the command will ever run outside its limits.
    if let Some(cgroup) = cgroup {
        cgroup.join()?;
    }
    // Our cgroup becomes the root of our view.
    namespace::enter_cgroup_namespace()?;
    mounts::make_mounts_private()?;
    mounts::mount_proc(Path::new("/proc"))?;
    if !isolation.host_network {
        loopback::bring_up_loopback()?;
    }
    hostname::set_hostname(hostname)?;
    wait::unblock_signals()?;
    exec::exec_command(&args.command)
}

/// Ends a child that cannot be started after all, and reaps it.
fn stop(child: Pid) {
    trace::syscall(|| format!("kill({child}, SIGKILL)"), kill(child, Signal::SIGKILL)).ok();
    waitpid(child, None).ok();
}
