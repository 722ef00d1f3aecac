//! A container's cgroup: made from a [`Plan`], joined, then removed.
//!
//! Everything here is `mkdir(2)`, `write(2)` and `rmdir(2)` on cgroupfs. A
//! new directory in a cgroup tree is a new, empty group: the kernel fills it
//! with interface files (`cgroup.procs`, `memory.limit_in_bytes`, …). Writing
//! a pid to its `cgroup.procs` moves that process (all its threads) into it;
//! writing `0` moves the writer itself. Children forked later start in their
//! parent's group, so the whole container stays inside. A group can only be
//! removed once no process is left in it, so removal first kills any that
//! are, then waits for them to go. Nothing removes a group by itself: the
//! runtime removes it on every path, success or failure; there is
//! deliberately no `Drop` doing it behind the reader's back.
//! See `man 7 cgroups`. Introduced in chapter 2.

use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::thread::sleep;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use nix::errno::Errno;
use nix::sys::signal::Signal;
use nix::unistd::Pid;
use ns_isolation::{sys, trace};

use crate::layout::{CGROUP_ROOT, Hierarchy, Version};
use crate::plan::{Limits, Plan, Step, plan};

/// How often, and how long, to wait for the kernel to empty a group.
const POLL: Duration = Duration::from_millis(10);
const POLLS: u32 = 300;

/// A container's cgroup directories, as far as they have been made.
#[derive(Debug)]
pub struct Cgroup {
    version: Version,
    dirs: Vec<PathBuf>,
    parents: Vec<PathBuf>,
    memory_dir: Option<PathBuf>,
    freezer_dir: Option<PathBuf>,
    memory_limit: Option<u64>,
}

impl Cgroup {
    /// Carries out `plan`; if a step fails, removes what was made before returning the error.
    pub fn create(plan: &Plan) -> Result<Self> {
        let mut attempts = 0;
        loop {
            let mut cgroup = Cgroup {
                version: plan.version,
                dirs: Vec::new(),
                parents: plan.parents.clone(),
                memory_dir: plan.memory_dir.clone(),
                freezer_dir: plan.freezer_dir.clone(),
                memory_limit: plan.memory_limit,
            };
            let Err(err) = plan.steps.iter().try_for_each(|step| cgroup.apply(step)) else { return Ok(cgroup) };
            let removed = cgroup.remove();
            attempts += 1;
            // Another container's cleanup may remove the empty `rebox` parent
            // between our mkdirs, or between our mkdir of it and our write to
            // its `cgroup.subtree_control` (v2); then the whole plan is simply
            // done again.
            if attempts < 3 && is_gone(&err) && removed.is_ok() {
                continue;
            }
            return Err(match removed {
                Ok(()) => err,
                Err(cleanup) => err.context(format!("and removing the half-made cgroup failed too: {cleanup:#}")),
            });
        }
    }

    /// The cgroup of container `id` as it is now on this host: the directories of it that exist.
    ///
    /// For a container started by another runtime process: `exec` joins it,
    /// `rm` removes what a runtime that was killed left behind. `None` if
    /// nothing of it exists.
    pub fn existing(id: &str) -> Result<Option<Self>> {
        let hierarchy = Hierarchy::detect(Path::new(CGROUP_ROOT))?;
        let plan = plan(&hierarchy, id, &Limits::default())?;
        let dirs: Vec<PathBuf> = plan.dirs.into_iter().filter(|dir| dir.is_dir()).collect();
        if dirs.is_empty() {
            return Ok(None);
        }
        let memory_dir = plan.memory_dir.filter(|dir| dir.is_dir());
        let freezer_dir = plan.freezer_dir.filter(|dir| dir.is_dir());
        Ok(Some(Cgroup {
            version: plan.version,
            dirs,
            parents: plan.parents,
            memory_dir,
            freezer_dir,
            memory_limit: None,
        }))
    }

    /// One step of the plan: make a directory, or write a limit.
    fn apply(&mut self, step: &Step) -> Result<()> {
        // EXERCISE(create-cgroup): mkdir (EEXIST is fine if shared; push own dirs to self.dirs), or write_file
        todo!(
            "cgroup-limits step 5 of 10 (create-cgroup): mkdir (EEXIST is fine if shared; push own dirs to self.dirs), or write_file — book: cgroup-limits.html#create-cgroup"
        )
    }

    /// The directory a child can be born in with `clone3(CLONE_INTO_CGROUP)`: the group's one directory on v2.
    ///
    /// `None` on v1, where a process is in one group per tree and `clone3`
    /// can place it in only one: there the child joins with [`Cgroup::join`].
    pub fn clone_target(&self) -> Option<&Path> {
        match self.version {
            Version::V2 => self.dirs.first().map(PathBuf::as_path),
            Version::V1 => None,
        }
    }

    /// Moves the calling process into the cgroup: `0`, "the writer", written to [`Version::join_file`] in each directory.
    ///
    /// The container's first process calls this itself, after it is released
    /// and before it execs: nothing of the command runs outside the limits.
    pub fn join(&self) -> Result<()> {
        // EXERCISE(join-cgroup): write "0" to self.version.join_file() in each of self.dirs
        todo!(
            "cgroup-limits step 8 of 10 (join-cgroup): write \"0\" to self.version.join_file() in each of self.dirs — book: cgroup-limits.html#join-cgroup"
        )
    }

    /// Kills whatever is left in the cgroup, removes its directories, then the `rebox` parents if empty.
    ///
    /// Goes on after a failure, so as much as possible is removed, and returns the first error.
    pub fn remove(self) -> Result<()> {
        // EXERCISE(remove-cgroup): kill_leftovers, remove_dir each of self.dirs, then remove_parent each parent
        todo!(
            "cgroup-limits step 6 of 10 (remove-cgroup): kill_leftovers, remove_dir each of self.dirs, then remove_parent each parent — book: cgroup-limits.html#remove-cgroup"
        )
    }

    /// SIGKILLs every process still in the cgroup, until `cgroup.procs` is empty everywhere.
    pub fn kill_leftovers(&self) -> Result<()> {
        for _ in 0..POLLS {
            let mut left = Vec::new();
            for dir in &self.dirs {
                left.extend(processes_in(dir)?);
            }
            if left.is_empty() {
                return Ok(());
            }
            for pid in left {
                // ESRCH: it exited on its own since we read the list.
                sys::kill(pid, Signal::SIGKILL).ok();
            }
            self.thaw_for_kill();
            sleep(POLL);
        }
        bail!("processes are still in the cgroup {:?} after SIGKILL", self.dirs)
    }

    /// Lets a v1 group frozen by a `commit` that was itself killed take its SIGKILLs: v1 holds them while frozen.
    ///
    /// On v2 a fatal signal ends a frozen process all the same.
    fn thaw_for_kill(&self) {
        if let (Version::V1, Some(dir)) = (self.version, &self.freezer_dir) {
            let state = dir.join("freezer.state");
            if fs::read_to_string(&state).is_ok_and(|text| text.trim() != "THAWED") {
                write_file(&state, "THAWED").ok();
            }
        }
    }

    /// The container's own directories.
    pub fn dirs(&self) -> &[PathBuf] {
        &self.dirs
    }

    /// The cgroup version of the directories.
    pub fn version(&self) -> Version {
        self.version
    }

    /// The directory whose memory counters tell of OOM kills, if the memory controller is used.
    pub fn memory_dir(&self) -> Option<&Path> {
        self.memory_dir.as_deref()
    }

    /// The directory whose processes freeze together (v1's freezer group, the v2 group), if there is one.
    pub fn freezer_dir(&self) -> Option<&Path> {
        self.freezer_dir.as_deref()
    }

    /// The memory limit, if one was set.
    pub fn memory_limit(&self) -> Option<u64> {
        self.memory_limit
    }
}

/// Writes `value` to a cgroup file, traced as `write("<path>", "<value>", <len>) = <len>`.
pub fn write_file(path: &Path, value: &str) -> Result<()> {
    sys::write_file(path, value).with_context(|| format!("write {value:?} to {}", path.display()))
}

/// The processes listed in `dir/cgroup.procs`; none if the directory is gone.
fn processes_in(dir: &Path) -> Result<Vec<Pid>> {
    let file = dir.join("cgroup.procs");
    let text = match fs::read_to_string(&file) {
        Err(err) if err.kind() == ErrorKind::NotFound => return Ok(Vec::new()),
        other => other.with_context(|| format!("read {}", file.display()))?,
    };
    text.split_whitespace()
        .map(|pid| pid.parse().map(Pid::from_raw).with_context(|| format!("read a pid from {}", file.display())))
        .collect()
}

/// `rmdir(2)` a group, waiting while the kernel still counts a process that has just died (EBUSY).
fn remove_dir(dir: &Path) -> Result<()> {
    for _ in 0..POLLS {
        let result = fs::remove_dir(dir);
        if matches!(&result, Err(err) if err.raw_os_error() == Some(Errno::EBUSY as i32)) {
            sleep(POLL);
            continue;
        }
        // Only the last attempt is traced: a busy retry says nothing the reader needs.
        return match trace::io(|| format!("rmdir({})", trace::quote(dir.display())), result) {
            Err(err) if err.kind() == ErrorKind::NotFound => Ok(()),
            other => other.with_context(|| format!("remove the cgroup {} (rmdir)", dir.display())),
        };
    }
    bail!("remove the cgroup {} (rmdir): still busy", dir.display())
}

/// Removes the shared `rebox` parent; it stays while other containers are in it (EBUSY).
fn remove_parent(parent: &Path) {
    sys::rmdir(parent).ok();
}

/// Whether `err` says a directory went away under us: ENOENT for a path in
/// it, or ENODEV for a file of a group that was removed after the file was
/// found (the kernel's answer for a dead cgroup).
fn is_gone(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == ErrorKind::NotFound || io.raw_os_error() == Some(Errno::ENODEV as i32))
    })
}

#[cfg(test)]
mod tests;
