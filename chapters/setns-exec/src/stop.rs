//! `stop` and `kill`: signal a container's PID 1 from the host.
//!
//! `docker stop` sends `SIGTERM`, waits (10 seconds by default), then sends
//! `SIGKILL`. A PID 1 gets from outside its PID namespace only the signals
//! it has a handler for (and `SIGKILL`, which it cannot refuse): a shell
//! script that does not `trap` TERM ignores it, and is killed after the
//! wait, with status 137 (the lesson's learners asked why their scripts took
//! 10 seconds to stop; `trap 'exit 0' TERM` is the answer). The signal goes
//! through a pidfd checked against the recorded start time (`pid.rs`), so a
//! process that took a dead container's pid is never hit. Then `stop`
//! waits for the monitor to record the end, so that `ps` right after shows
//! the container exited. See `man 7 pid_namespaces` ("signals to init").
//! Introduced in chapter 4.

use std::thread::sleep;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use nix::sys::signal::Signal;

use union_rootfs::containers::{self, Container, Status};
use union_rootfs::pid::HostProcess;
use union_rootfs::store::Store;

/// How long `stop` waits for a container to end after `SIGTERM`, unless `-t` says otherwise: Docker's 10 s.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(10);

/// How long to wait for the monitor to record a container's end.
const RECORD_TIMEOUT: Duration = Duration::from_secs(10);

/// Ends `process`: `SIGTERM`, up to `grace` to end, then `SIGKILL`.
pub fn stop_process(process: &HostProcess, grace: Duration) -> Result<()> {
    // EXERCISE(stop): signal SIGTERM; unless the process is gone within `grace` (wait_gone), signal SIGKILL and wait for it to go
    todo!(
        "setns-exec step 7 of 10 (stop): signal SIGTERM; unless the process is gone within `grace` (wait_gone), signal SIGKILL and wait for it to go — book: setns-exec.html#stop"
    )
}

/// `stop [-t SECS] CONTAINER`: a stopped container stays stopped; a running one is ended and its end recorded.
pub fn stop(store: &Store, reference: &str, grace: Duration) -> Result<()> {
    let container = containers::find(store, reference)?;
    if let Some(process) = running_process(&container) {
        stop_process(&process, grace)?;
        wait_recorded(store, &container);
    }
    Ok(())
}

/// `kill [-s SIGNAL] CONTAINER`: sends `signal` to a running container's PID 1.
pub fn kill(store: &Store, reference: &str, signal: Signal) -> Result<()> {
    let container = containers::find(store, reference)?;
    let Some(process) = running_process(&container) else {
        bail!("cannot kill container {reference}: it is not running");
    };
    process.signal(signal)?;
    if signal == Signal::SIGKILL {
        process.wait_gone(RECORD_TIMEOUT);
        wait_recorded(store, &container);
    }
    Ok(())
}

/// The container's PID 1, if it runs.
pub fn running_process(container: &Container) -> Option<HostProcess> {
    container.state.process.filter(|_| container.is_running())
}

/// Waits until the monitor has recorded the container's end (or is gone itself).
pub fn wait_recorded(store: &Store, container: &Container) {
    let deadline = Instant::now() + RECORD_TIMEOUT;
    while Instant::now() < deadline {
        match containers::find(store, &container.config.id) {
            Ok(now) if now.state.status == Status::Running && !now.ended_unrecorded() => {
                sleep(Duration::from_millis(10))
            }
            _ => return,
        }
    }
}

/// Parses a signal as `kill -s` takes it: `KILL`, `SIGKILL` or `9`.
pub fn parse_signal(text: &str) -> Result<Signal, String> {
    let upper = text.to_ascii_uppercase();
    let named = if upper.starts_with("SIG") { upper } else { format!("SIG{upper}") };
    named
        .parse::<Signal>()
        .or_else(|_| text.parse::<i32>().map_err(|_| ()).and_then(|n| Signal::try_from(n).map_err(|_| ())))
        .map_err(|()| format!("invalid signal {text:?}: use a name (TERM, KILL) or a number"))
}
