//! The container's lifecycle as phases, parent side and child side.
//!
//! Every chapter's `run.rs` tells its story with these calls, in order, and
//! writes out only the lines its chapter adds. The parent `start`s the
//! container (clone into new namespaces, write the id maps if it has a user
//! namespace, release it) and `wait`s for it; the child, once released, sets
//! itself up and ends with [`finish`] (`lo`, hostname) and [`exec`]. Plain
//! functions and values, no hidden order: the order is the lesson.
//!
//! ```text
//! parent                                   child
//! block signals (SIGINT, SIGTERM, …, SIGCHLD)
//! clone(CLONE_NEW*) ───────────────────────▶ (born in new namespaces)
//! write uid_map/gid_map (user namespace)    read(release) … waits
//! write(release) ──────────────────────────▶ set up: mounts, … , lo, hostname
//! read(report) … waits                      execve(command): report closes
//! ◀──────────────────────── end-of-file (or an error and its exit code)
//! wait4, forwarding SIGINT/TERM/HUP/QUIT     the command runs as PID 1
//! ```
//! Introduced in chapter 1.

use std::convert::Infallible;
use std::ffi::OsStr;
use std::path::Path;

use anyhow::Result;
use nix::sys::signal::Signal;
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::Pid;

use crate::clone::{Child, clone_child, clone_into_cgroup};
use crate::namespaces::{Isolation, clone_flags};
use crate::{exec, hostname, loopback, sys, userns, wait};

/// A container whose first process has been released and is setting itself up, or running.
#[derive(Debug)]
pub struct Started {
    child: Child,
}

/// Clones the container's first process into the namespaces `isolation` asks
/// for, does from outside what must be done before it goes on (the id maps,
/// when it has a user namespace), and releases it to run `set_up`.
///
/// Call [`wait::block_signals`] first, so that no signal sent from then on
/// is lost: the parent takes them with `sigwait` in [`Started::wait`]. If
/// anything fails after the clone, the child is killed and reaped before
/// the error returns.
pub fn start(isolation: &Isolation, set_up: impl FnOnce() -> Result<Infallible>) -> Result<Started> {
    let child = clone_child(clone_flags(&isolation.namespaces()), set_up)?;
    map_and_release(isolation, child)
}

/// [`start`], with the child born in the cgroup v2 directory `cgroup` (`clone3` with `CLONE_INTO_CGROUP`).
///
/// On a kernel without it (before 5.7) the child is cloned as [`start`]
/// does, and [`crate::clone::started_in_cgroup`] tells it to join its cgroup
/// itself. Used from chapter 2 on.
pub fn start_in_cgroup(
    isolation: &Isolation,
    cgroup: &Path,
    set_up: impl FnOnce() -> Result<Infallible>,
) -> Result<Started> {
    let flags = clone_flags(&isolation.namespaces());
    let mut set_up = Some(set_up);
    let child = match clone_into_cgroup(flags, cgroup, || set_up.take().expect("the child sets up once")())? {
        Some(child) => child,
        None => clone_child(flags, set_up.take().expect("clone3 did not start the child"))?,
    };
    map_and_release(isolation, child)
}

/// The outside work on a cloned child (its id maps, with a user namespace), then its release.
fn map_and_release(isolation: &Isolation, child: Child) -> Result<Started> {
    let released = match isolation.user_namespace {
        true => userns::map_caller_to_root(child.pid),
        false => Ok(()),
    };
    Started::release(child, released)
}

impl Started {
    /// Releases a cloned child whose outside work ended with `prepared`; kills it if that failed.
    pub fn release(child: Child, prepared: Result<()>) -> Result<Self> {
        match prepared.and_then(|()| child.release()) {
            Ok(()) => Ok(Self { child }),
            Err(err) => {
                kill_and_reap(child.pid);
                Err(err)
            }
        }
    }

    /// The host pid of the container's first process.
    pub fn pid(&self) -> Pid {
        self.child.pid
    }

    /// Waits until the command is exec'd; returns the child's setup error (with its exit code) otherwise.
    ///
    /// The child has then already exited; [`Started::wait`] still reaps it.
    pub fn wait_for_exec(&self) -> Result<()> {
        self.child.wait_for_exec()
    }

    /// Waits for the container's first process to end, forwarding stop signals to it.
    ///
    /// A setup failure reported by the child is returned as the error, after the child is reaped.
    pub fn wait(self) -> Result<WaitStatus> {
        let started = self.wait_for_exec();
        let status = wait::wait_forwarding_signals(self.child.pid)?;
        started?;
        Ok(status)
    }
}

/// Ends a child that cannot be started after all, and reaps it.
pub fn kill_and_reap(child: Pid) {
    sys::kill(child, Signal::SIGKILL).ok();
    waitpid(child, None).ok();
}

/// The child's last setup, common to every container: bring `lo` up (unless
/// it shares the host's network) and set the hostname.
pub fn finish(isolation: &Isolation, hostname: &str) -> Result<()> {
    if !isolation.host_network {
        loopback::bring_up_loopback()?;
    }
    hostname::set_hostname(hostname)
}

/// The child's last act: unblock the signals the parent blocked, and become the command.
pub fn exec(argv: &[impl AsRef<OsStr>]) -> Result<Infallible> {
    wait::unblock_signals()?;
    exec::exec_command(argv)
}
