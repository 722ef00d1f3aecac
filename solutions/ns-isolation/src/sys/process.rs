//! Traced calls on processes and their namespaces: `kill`, `pidfd_open`,
//! `pidfd_send_signal`, `unshare`, `setns`, `sethostname`.

use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};

use nix::errno::Errno;
use nix::sched::CloneFlags;
use nix::sys::signal::Signal;
use nix::unistd::Pid;

use crate::namespaces::describe_flags;
use crate::trace::{self, quote};

/// `kill(2)`.
pub fn kill(pid: Pid, signal: Signal) -> nix::Result<()> {
    trace::syscall(|| format!("kill({pid}, {signal})"), nix::sys::signal::kill(pid, signal))
}

/// `pidfd_open(2)` (Linux 5.3): a file descriptor that names process `pid` for as long as it is open.
///
/// A pid is only a number, which the kernel gives to another process once
/// the first is reaped; a pidfd names the process itself. nix has no call
/// for it, so this goes to the raw syscall.
pub fn pidfd_open(pid: Pid) -> nix::Result<OwnedFd> {
    // SAFETY: pidfd_open takes a pid and flags and returns a new descriptor or -1; it touches no memory of ours.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid.as_raw(), 0) };
    let result = Errno::result(fd).map(|fd| {
        // SAFETY: the kernel has just returned this descriptor to us; nothing else owns it.
        unsafe { OwnedFd::from_raw_fd(fd as i32) }
    });
    trace::syscall(|| format!("pidfd_open({pid}, 0)"), result)
}

/// `pidfd_send_signal(2)`: signal the process `pidfd` names, never another that took its pid.
pub fn pidfd_send_signal(pidfd: impl AsFd, signal: Signal) -> nix::Result<()> {
    let raw = pidfd.as_fd().as_raw_fd();
    // SAFETY: the descriptor is open for the whole call; a null siginfo is allowed (man 2 pidfd_send_signal).
    let rc = unsafe { libc::syscall(libc::SYS_pidfd_send_signal, raw, signal as i32, std::ptr::null::<u8>(), 0) };
    trace::syscall(|| format!("pidfd_send_signal({raw}, {signal}, NULL, 0)"), Errno::result(rc).map(drop))
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

/// `setgroups(2)`: the caller's supplementary groups.
pub fn setgroups(groups: &[u32]) -> nix::Result<()> {
    let gids: Vec<nix::unistd::Gid> = groups.iter().map(|gid| nix::unistd::Gid::from_raw(*gid)).collect();
    trace::syscall(|| format!("setgroups({}, {groups:?})", groups.len()), nix::unistd::setgroups(&gids))
}

/// `setgid(2)`: the caller's group.
pub fn setgid(gid: u32) -> nix::Result<()> {
    trace::syscall(|| format!("setgid({gid})"), nix::unistd::setgid(nix::unistd::Gid::from_raw(gid)))
}

/// `setuid(2)`: the caller's user; for root, every uid of the process, and its capabilities with them.
pub fn setuid(uid: u32) -> nix::Result<()> {
    trace::syscall(|| format!("setuid({uid})"), nix::unistd::setuid(nix::unistd::Uid::from_raw(uid)))
}
