//! `exec`: a new process in a running container, by joining its namespaces with `setns()`.
//!
//! There is no door into a container, and none is needed: `docker exec` is
//! a new process, started from the host, that joins every namespace of the
//! container's PID 1 through `/proc/<pid>/ns/*`, and its cgroup, then
//! execs the command. In order:
//!
//! 1. open every namespace file first (`nsfiles.rs`), while `/proc` is the host's;
//! 2. join the PID namespace in the *parent*: `setns` of a PID namespace
//!    changes where the caller's *children* are born, never the caller
//!    itself, so the runtime joins it, clones the child (chapter 1's
//!    `clone_child`, with no new namespace at all), and goes back to its own;
//! 3. in the child: join the container's cgroup (chapter 2's join, writing
//!    `0`), then the other namespaces, user first, then the terminal, the
//!    container's environment and working directory, and exec (chapter 3's
//!    and chapter 1's last steps);
//! 4. in the parent: wait for it, forwarding signals (chapter 1's wait).
//!
//! Inside, its parent is outside the PID namespace, so `ps` shows its
//! parent pid as 0; it dies with the container's PID 1, like every process
//! of a PID namespace. See `man 2 setns`, `man 7 pid_namespaces`.
//! Introduced in chapter 4.

use std::convert::Infallible;
use std::path::Path;

use anyhow::{Context, Result, bail};
use nix::sched::CloneFlags;

use cgroup_limits::cgroup::Cgroup;
use ns_isolation::clone::clone_child;
use ns_isolation::exit::{Failure, RUNTIME_FAILED};
use ns_isolation::lifecycle::{self, Started};
use ns_isolation::namespaces::Namespace;
use ns_isolation::{sys, wait};
use union_rootfs::containers;
use union_rootfs::store::Store;
use union_rootfs::{process, user};

use crate::args::ExecArgs;
use crate::daemon::{self, Ready};
use crate::nsfiles::NamespaceFiles;
use crate::stdio::Stdio;
use crate::stop::running_process;

/// What the exec'd process needs, decided before it is cloned.
#[derive(Debug)]
struct Plan<'a> {
    files: NamespaceFiles,
    cgroup: Option<Cgroup>,
    stdio: Stdio,
    cwd: String,
    env: Vec<String>,
    user: String,
    command: &'a [String],
}

/// `exec [-d] [-i] [-t] [-e K=V] [-w DIR] CONTAINER COMMAND...`: returns the command's exit code.
pub fn exec(store: &Store, args: &ExecArgs) -> Result<i32> {
    let container = containers::find(store, &args.container)?;
    let Some(process) = running_process(&container) else {
        bail!(Failure::new(RUNTIME_FAILED, format!("container {} is not running", args.container)));
    };
    let config = &container.config;
    let user = args.user.clone().unwrap_or_else(|| config.user.clone());
    let mut env = process::environment(&config.env, &args.env, &config.hostname, |key| std::env::var(key).ok());
    user::leave_home_to_user(&mut env, &user, &[&config.env[..], &args.env].concat());
    let plan = Plan {
        files: NamespaceFiles::open(process.pid())?,
        cgroup: Cgroup::existing(&config.id)?,
        stdio: if args.detach { Stdio::for_exec(false, false)? } else { Stdio::for_exec(args.tty, args.interactive)? },
        cwd: process::working_dir(Some(&config.cwd), args.workdir.as_deref())?,
        env,
        user,
        command: &args.command,
    };
    if args.detach {
        daemon::spawn_detached(|ready| run(plan, Some(ready)))?;
        return Ok(0);
    }
    run(plan, None)
}

/// Starts the process in the container and waits for it; reports to `ready` once it is exec'd, if detached.
fn run(plan: Plan, mut ready: Option<&mut Ready>) -> Result<i32> {
    wait::block_signals()?;
    let started = start_in(&plan.files, || set_up(&plan))?;
    let output = plan.stdio.connect(None, ready.is_none())?;
    if let Some(ready) = ready.as_mut() {
        match started.wait_for_exec() {
            Ok(()) => ready.started(),
            Err(err) => ready.failed(&err),
        }
    }
    let status = started.wait();
    output.finish();
    Ok(wait::exit_code(status?))
}

/// The parent's side: into the PID namespace for the child to come, clone it, release it, back to our own.
fn start_in(files: &NamespaceFiles, set_up: impl FnOnce() -> Result<Infallible>) -> Result<Started> {
    let own = sys::open_read(Path::new("/proc/self/ns/pid")).context("open our own PID namespace")?;
    join_pid_namespace(files)?;
    let child = clone_child(CloneFlags::empty(), set_up);
    // Back to our own: the kernel lets no process start a thread while its children's PID
    // namespace differs from its own, and the terminal's copies are threads.
    if files.get(Namespace::Pid).is_some() {
        sys::setns(&own, CloneFlags::CLONE_NEWPID).context("return to our own PID namespace (setns)")?;
    }
    Started::release(child?, Ok(()))
}

/// Joins the container's PID namespace, for the children this process will have: not for itself.
pub fn join_pid_namespace(files: &NamespaceFiles) -> Result<()> {
    // ANCHOR: join_pid_namespace
    // EXERCISE(pid-namespace): if `files` has a PID namespace, sys::setns into it (CLONE_NEWPID): the next child is born inside
    if let Some(pid_namespace) = files.get(Namespace::Pid) {
        sys::setns(pid_namespace, CloneFlags::CLONE_NEWPID).context("join the container's PID namespace (setns)")?;
    }
    Ok(())
    // END EXERCISE
    // ANCHOR_END: join_pid_namespace
}

/// The child's side, in order: the cgroup, the namespaces, the terminal, the process.
fn set_up(plan: &Plan) -> Result<Infallible> {
    if let Some(cgroup) = &plan.cgroup {
        cgroup.join()?;
    }
    enter_namespaces(&plan.files)?;
    plan.stdio.attach()?;
    process::enter(&plan.cwd, &plan.env)?;
    user::become_user(&plan.user)?;
    lifecycle::exec(plan.command)
}

/// Joins each namespace of `files` but the PID namespace (the parent's part), in the order they were opened.
pub fn enter_namespaces(files: &NamespaceFiles) -> Result<()> {
    // ANCHOR: enter_namespaces
    // EXERCISE(join-order): sys::setns into each (kind, file) of files.files in order, skipping Namespace::Pid, with kind.clone_flag()
    for (kind, file) in &files.files {
        if *kind == Namespace::Pid {
            continue;
        }
        sys::setns(file, kind.clone_flag())
            .with_context(|| format!("join the container's {} namespace (setns)", kind.proc_name()))?;
    }
    Ok(())
    // END EXERCISE
    // ANCHOR_END: enter_namespaces
}
