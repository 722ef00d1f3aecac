//! `--trace`: print each syscall the runtime makes, strace style, to stderr.
//!
//! This is the workshop's x-ray. Every module reports the calls it makes
//! through [`syscall`] or [`io`], so `--trace` shows the whole container
//! lifecycle as the kernel sees it:
//!
//! ```text
//! clone(CLONE_NEWNS|CLONE_NEWUTS|CLONE_NEWIPC|CLONE_NEWPID|CLONE_NEWNET|SIGCHLD) = 4242
//! [child] mount(NULL, "/", NULL, MS_REC|MS_PRIVATE, NULL) = 0
//! ```
//!
//! Lines written by the container's side of a `clone` start with `[child] `,
//! the way `strace -f` marks the process a line belongs to. Failed calls end
//! like strace's: `= -1 ENOENT (No such file or directory)`.
//! Introduced in chapter 1; every later chapter traces through it.

use std::fmt::Display;
use std::io::Write;
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};

use nix::errno::Errno;
use nix::unistd::Pid;

static ENABLED: AtomicBool = AtomicBool::new(false);
static IN_CHILD: AtomicBool = AtomicBool::new(false);

/// Turns tracing on for the rest of the process (and for children cloned later).
pub fn enable() {
    ENABLED.store(true, Ordering::Relaxed);
}

/// Whether `--trace` is on.
pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// Marks this process as the container side of a `clone`: its lines get `[child] `.
///
/// The child has its own copy of memory, so this never affects the parent.
pub fn enter_child() {
    IN_CHILD.store(true, Ordering::Relaxed);
}

/// Prints one trace line, if tracing is on.
pub fn line(text: impl FnOnce() -> String) {
    if enabled() {
        let prefix = if IN_CHILD.load(Ordering::Relaxed) { "[child] " } else { "" };
        // One write per line, so the parent's and the child's lines never interleave mid-line.
        let _ = std::io::stderr().write_all(format!("{prefix}{}\n", text()).as_bytes());
    }
}

/// Traces a syscall made through nix: `call = value` or `call = -1 ERRNO (text)`.
///
/// `call` is only formatted when tracing is on.
pub fn syscall<T: Returned>(call: impl FnOnce() -> String, result: nix::Result<T>) -> nix::Result<T> {
    line(|| match &result {
        Ok(value) => format!("{} = {}", call(), value.returned()),
        Err(errno) => format!("{} = {}", call(), failure(*errno)),
    });
    result
}

/// Traces a file operation made through `std` (a write to `/proc/<pid>/uid_map`, say).
pub fn io<T: Returned>(call: impl FnOnce() -> String, result: std::io::Result<T>) -> std::io::Result<T> {
    line(|| match &result {
        Ok(value) => format!("{} = {}", call(), value.returned()),
        Err(err) => {
            let errno = err.raw_os_error().map_or(Errno::UnknownErrno, Errno::from_raw);
            format!("{} = {}", call(), failure(errno))
        }
    });
    result
}

fn failure(errno: Errno) -> String {
    format!("-1 {errno:?} ({})", errno.desc())
}

/// Quotes a string the way strace does: `"/proc"`.
pub fn quote(text: impl Display) -> String {
    format!("{:?}", text.to_string())
}

/// How a syscall's return value is printed after `=`.
pub trait Returned {
    /// The text after ` = ` in a trace line.
    fn returned(&self) -> String;
}

impl Returned for () {
    fn returned(&self) -> String {
        "0".to_owned()
    }
}

impl Returned for i32 {
    fn returned(&self) -> String {
        self.to_string()
    }
}

impl Returned for usize {
    fn returned(&self) -> String {
        self.to_string()
    }
}

impl Returned for Pid {
    fn returned(&self) -> String {
        self.to_string()
    }
}

impl Returned for OwnedFd {
    fn returned(&self) -> String {
        self.as_raw_fd().to_string()
    }
}
