//! A process as the store records it: its pid, and the moment it started.
//!
//! A pid is only a number: once a process is reaped, the kernel gives its
//! pid to the next one that needs it, and `kill` then reaches a stranger.
//! A runtime that was killed cannot reap its container, so a pid written in
//! `state.json` may name anything a while later. With the pid, the store
//! keeps the process's start time (field 22 of `/proc/<pid>/stat`, clock
//! ticks since boot), which no later process with the same pid can have.
//! To signal it, the runtime opens a pidfd first (Linux 5.3), which pins
//! that very process, then checks the start time, then signals through the
//! pidfd: no window is left for a reuse. See `man 5 proc`, `man 2 pidfd_open`.
//! Introduced in chapter 3.

use std::fs;
use std::thread::sleep;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use nix::errno::Errno;
use nix::sys::signal::Signal;
use nix::unistd::Pid;
use serde::{Deserialize, Serialize};

use ns_isolation::sys;

/// A process on the host: its pid and its start time, which together name it for good.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostProcess {
    /// Its pid, as the host sees it.
    pub pid: i32,
    /// When it started, in clock ticks since boot (`/proc/<pid>/stat`, field 22).
    pub start_time: u64,
}

impl HostProcess {
    /// The process that has `pid` now.
    pub fn of(pid: Pid) -> Result<Self> {
        let stat = read_stat(pid.as_raw()).with_context(|| format!("read /proc/{pid}/stat"))?;
        let (_, start_time) = parse_stat(&stat).with_context(|| format!("parse /proc/{pid}/stat"))?;
        Ok(Self { pid: pid.as_raw(), start_time })
    }

    /// This process's pid.
    pub fn pid(&self) -> Pid {
        Pid::from_raw(self.pid)
    }

    /// Whether this very process still runs: its pid has the same start time and is not a zombie.
    pub fn is_alive(&self) -> bool {
        let Ok(stat) = read_stat(self.pid) else { return false };
        matches!(parse_stat(&stat), Some((state, start)) if start == self.start_time && state != 'Z' && state != 'X')
    }

    /// Sends `signal` to this process, if it still runs; `Ok(false)` if it is gone.
    pub fn signal(&self, signal: Signal) -> Result<bool> {
        let pidfd = match sys::pidfd_open(self.pid()) {
            Ok(pidfd) => pidfd,
            Err(Errno::ESRCH) => return Ok(false),
            Err(errno) => return Err(errno).with_context(|| format!("open a pidfd for process {}", self.pid)),
        };
        // The pidfd pins the process that has the pid now: is it ours?
        if !self.is_alive() {
            return Ok(false);
        }
        match sys::pidfd_send_signal(&pidfd, signal) {
            Ok(()) => Ok(true),
            Err(Errno::ESRCH) => Ok(false),
            Err(errno) => Err(errno).with_context(|| format!("send {signal} to process {}", self.pid)),
        }
    }

    /// Waits up to `timeout` for this process to be gone; whether it is.
    pub fn wait_gone(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while self.is_alive() {
            if Instant::now() >= deadline {
                return false;
            }
            sleep(Duration::from_millis(10));
        }
        true
    }
}

fn read_stat(pid: i32) -> std::io::Result<String> {
    fs::read_to_string(format!("/proc/{pid}/stat"))
}

/// The state letter and the start time from the text of `/proc/<pid>/stat`.
///
/// The command name, field 2, is in parentheses and may hold spaces and
/// parentheses itself: the fields are counted from the last `)`.
pub fn parse_stat(stat: &str) -> Option<(char, u64)> {
    let after_name = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // after_name starts with field 3 (the state); field 22 is the start time.
    let state = fields.first()?.chars().next()?;
    let start_time = fields.get(22 - 3)?.parse().ok()?;
    Some((state, start_time))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_start_time_is_found_after_a_command_name_with_spaces_and_parentheses() {
        let stat = "4242 (my (odd) cmd) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 200";
        assert_eq!(parse_stat(stat), Some(('S', 987654)));
    }

    #[test]
    fn this_process_is_alive_and_a_made_up_start_time_is_not() {
        let me = HostProcess::of(Pid::this()).unwrap();
        assert!(me.is_alive());
        assert!(!HostProcess { start_time: me.start_time + 1, ..me }.is_alive(), "a reused pid must not pass");
    }
}
