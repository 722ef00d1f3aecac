//! Traced calls on processes and their namespaces: `kill`, `unshare`,
//! `setns`, `sethostname`.

use std::os::fd::{AsFd, AsRawFd};

use nix::sched::CloneFlags;
use nix::sys::signal::Signal;
use nix::unistd::Pid;

use crate::namespaces::describe_flags;
use crate::trace::{self, quote};

/// `kill(2)`.
pub fn kill(pid: Pid, signal: Signal) -> nix::Result<()> {
    trace::syscall(|| format!("kill({pid}, {signal})"), nix::sys::signal::kill(pid, signal))
}

/// `unshare(2)`: move the caller into new namespaces of the kinds in `flags`.
pub fn unshare(flags: CloneFlags) -> nix::Result<()> {
    trace::syscall(|| format!("unshare({})", describe_flags(flags)), nix::sched::unshare(flags))
}

/// `setns(2)`: move the caller into the namespace `fd` refers to, which must be of the kind in `flags`.
pub fn setns(fd: impl AsFd, flags: CloneFlags) -> nix::Result<()> {
    let raw = fd.as_fd().as_raw_fd();
    trace::syscall(|| format!("setns({raw}, {})", describe_flags(flags)), nix::sched::setns(fd, flags))
}

/// `sethostname(2)`: the hostname of the caller's UTS namespace.
pub fn sethostname(name: &str) -> nix::Result<()> {
    trace::syscall(|| format!("sethostname({}, {})", quote(name), name.len()), nix::unistd::sethostname(name))
}
