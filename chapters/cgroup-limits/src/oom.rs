//! Was the container killed by the OOM killer? Ask its memory cgroup.
//!
//! When a group hits its memory limit and the kernel cannot reclaim enough,
//! the OOM killer picks a process *in that group* and sends it SIGKILL. From
//! the outside that looks like any `kill -9`: the runtime only sees "killed
//! by signal 9". The group's counters tell the difference: v1 has
//! `oom_kill N` in `memory.oom_control` (since Linux 4.13; before it, only
//! `memory.failcnt`, how often the limit was hit), v2 has `oom_kill N` in
//! `memory.events`. Docker records the same as `OOMKilled` in `docker
//! inspect`. See the kernel's `cgroup-v1/memory.rst`, `cgroup-v2.rst`.
//! Introduced in chapter 2.

use std::fs;
use std::path::Path;

use anyhow::{Context, Result};
use nix::sys::signal::Signal;
use nix::sys::wait::WaitStatus;
use ns_isolation::exit::Failure;

use crate::cgroup::Cgroup;
use crate::layout::Version;
use crate::size::format_size;

/// The exit code of a command killed by SIGKILL: 128 + 9.
pub const OOM_EXIT_CODE: i32 = 128 + Signal::SIGKILL as i32;

/// How many times the OOM killer has killed a process of the group in `memory_dir`.
pub fn oom_kills(version: Version, memory_dir: &Path) -> Result<u64> {
    let read = |name: &str| {
        let file = memory_dir.join(name);
        fs::read_to_string(&file).with_context(|| format!("read {}", file.display()))
    };
    // EXERCISE(oom-kills): v1: oom_kill in memory.oom_control, else memory.failcnt; v2: oom_kill in memory.events
    todo!(
        "cgroup-limits step 10 of 10 (oom-kills): v1: oom_kill in memory.oom_control, else memory.failcnt; v2: oom_kill in memory.events — book: cgroup-limits.html#oom-kills"
    )
}

/// The value of the `name N` line of a flat-keyed cgroup file.
pub fn counter(text: &str, name: &str) -> Option<u64> {
    text.lines().find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
}

/// The error to end with when the command died of the OOM killer: Docker's 137, and why.
pub fn oom_failure(cgroup: &Cgroup, status: WaitStatus) -> Result<Option<Failure>> {
    // Only a command killed by SIGKILL can be the OOM killer's victim.
    if !matches!(status, WaitStatus::Signaled(_, Signal::SIGKILL, _)) {
        return Ok(None);
    }
    let Some(memory_dir) = cgroup.memory_dir() else { return Ok(None) };
    if oom_kills(cgroup.version(), memory_dir)? == 0 {
        return Ok(None);
    }
    let limit = match cgroup.memory_limit() {
        Some(limit) => format!("memory limit {}", format_size(limit)),
        None => "no memory limit: the host ran out of memory".to_owned(),
    };
    Ok(Some(Failure::new(OOM_EXIT_CODE, format!("container killed by the OOM killer ({limit})"))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_are_read_from_flat_keyed_files() {
        let v1 = "oom_kill_disable 0\nunder_oom 0\noom_kill 1\n";
        assert_eq!(counter(v1, "oom_kill"), Some(1));
        let v2 = "low 0\nhigh 0\nmax 12\noom 1\noom_kill 1\noom_group_kill 0\n";
        assert_eq!(counter(v2, "oom_kill"), Some(1));
        assert_eq!(counter("oom_kill_disable 0\n", "oom_kill"), None, "oom_kill_disable is another counter");
    }

    #[test]
    fn v1_falls_back_to_failcnt_before_linux_4_13() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("memory.oom_control"), "oom_kill_disable 0\nunder_oom 0\n").unwrap();
        fs::write(dir.path().join("memory.failcnt"), "3\n").unwrap();
        assert_eq!(oom_kills(Version::V1, dir.path()).unwrap(), 3);
    }

    #[test]
    fn v2_reads_memory_events() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("memory.events"), "low 0\nhigh 0\nmax 7\noom 2\noom_kill 2\n").unwrap();
        assert_eq!(oom_kills(Version::V2, dir.path()).unwrap(), 2);
    }
}
