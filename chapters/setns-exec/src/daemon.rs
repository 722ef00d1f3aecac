//! `run -d`: the container's monitor, a process of its own that outlives the command line.
//!
//! Someone must stay the container's parent: to reap it when it ends, to
//! record its exit status, to copy its output into its log, to serve its
//! published ports, to remove its cgroup. Docker's containerd-shim and
//! Podman's conmon are that process; this runtime forks one, its
//! *monitor*. The monitor leaves the caller's session (`setsid`) and
//! terminal (its standard streams become `/dev/null`), so that closing the
//! terminal, or Ctrl-C in it, does not reach it. The command line waits
//! until the monitor reports that the container's command was exec'd (or
//! why it was not), prints the container's id and exits; the monitor goes
//! on. See `man 2 fork`, `man 2 setsid`, `man 7 credentials` (sessions).
//! Introduced in chapter 4.

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::OwnedFd;

use anyhow::{Context, Result, bail};
use nix::fcntl::OFlag;
use nix::unistd::{ForkResult, fork, pipe2};

use ns_isolation::exit::{Failure, RUNTIME_FAILED};
use ns_isolation::{sys, trace};

/// The monitor's end of the pipe over which it tells the command line how the start went.
#[derive(Debug)]
pub struct Ready {
    pipe: Option<File>,
}

impl Ready {
    /// Tells the command line that the container's command runs; later calls do nothing.
    pub fn started(&mut self) {
        if let Some(mut pipe) = self.pipe.take() {
            let _ = pipe.write_all(b"ok");
        }
    }

    /// Tells the command line why the container did not start, and its exit code; later calls do nothing.
    pub fn failed(&mut self, err: &anyhow::Error) {
        if let Some(mut pipe) = self.pipe.take() {
            let _ = write!(pipe, "{}\t{err:#}", Failure::code_of(err));
        }
    }
}

/// Runs `monitor` in a new, detached process; returns once it reports that the container started, or with its error.
pub fn spawn_detached(monitor: impl FnOnce(&mut Ready) -> Result<i32>) -> Result<()> {
    let (report, ready) = pipe2(OFlag::O_CLOEXEC).context("create a pipe to hear from the monitor (pipe2)")?;
    // EXERCISE(detach): fork; in the child detach() and run `monitor` with Ready { pipe: Some(ready) }, then exit with its code; in the parent close `ready` and wait_for_report(report)
    todo!(
        "setns-exec step 3 of 10 (detach): fork; in the child detach() and run `monitor` with Ready {{ pipe: Some(ready) }}, then exit with its code; in the parent close `ready` and wait_for_report(report) — book: setns-exec.html#detach"
    )
}

/// Leaves the caller's session and terminal: a new session, and `/dev/null` for standard input, output and error.
pub fn detach() -> Result<()> {
    sys::setsid().context("start the monitor's own session (setsid)")?;
    let null = File::options().read(true).write(true).open("/dev/null").context("open /dev/null")?;
    sys::dup2_stdio(OwnedFd::from(null)).context("point the monitor's standard streams at /dev/null (dup2)")?;
    Ok(())
}

/// Reads the monitor's report: `ok`, or an exit code and a message; nothing at all if it died first.
pub fn wait_for_report(report: OwnedFd) -> Result<()> {
    let mut text = String::new();
    File::from(report).read_to_string(&mut text).context("read the monitor's report")?;
    if text == "ok" {
        return Ok(());
    }
    let Some((code, message)) = text.split_once('\t') else {
        bail!(Failure::new(RUNTIME_FAILED, "the container's monitor ended before it said how the start went"));
    };
    bail!(Failure::new(code.parse().unwrap_or(RUNTIME_FAILED), message))
}
