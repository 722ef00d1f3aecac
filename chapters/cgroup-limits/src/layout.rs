//! Which cgroup layout the host has, and where each controller lives.
//!
//! Cgroups are a filesystem: a directory is a group of processes, and the
//! files in it are its limits and counters. There are two versions:
//!
//! - **v1** (legacy): one tree per controller, each mounted on its own, e.g.
//!   `/sys/fs/cgroup/memory`, `/sys/fs/cgroup/cpu`, `/sys/fs/cgroup/pids`.
//!   `/sys/fs/cgroup` itself is a tmpfs holding the mount points.
//! - **v2** (unified): one tree for every controller, mounted on
//!   `/sys/fs/cgroup` itself; `cgroup.controllers` lists those available.
//! - **hybrid**: v1 for the controllers, plus an empty v2 tree on
//!   `/sys/fs/cgroup/unified` that systemd uses to track processes. A runtime
//!   limits through the v1 trees, as on a legacy host.
//!
//! `statfs(2)` on `/sys/fs/cgroup` tells them apart by the filesystem's magic
//! number; `/proc/self/mountinfo` says where each v1 controller is mounted.
//! See `man 7 cgroups`, `man 2 statfs`, `man 5 proc` (mountinfo).
//! Introduced in chapter 2.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use nix::sys::statfs::{CGROUP_SUPER_MAGIC, CGROUP2_SUPER_MAGIC, FsType, TMPFS_MAGIC, statfs};
use ns_isolation::trace;

use crate::mountinfo::v1_mounts;

/// Where cgroup filesystems are mounted on every modern distribution.
pub const CGROUP_ROOT: &str = "/sys/fs/cgroup";

/// A resource controller this runtime uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Controller {
    /// Memory use, its limit and the OOM killer (`-m`, `--memory-swap`).
    Memory,
    /// CPU time: the CFS quota per period (`--cpus`).
    Cpu,
    /// CPU time accounting; a controller of its own on v1 only, part of `cpu` on v2.
    Cpuacct,
    /// The number of processes (`--pids-limit`).
    Pids,
    /// No limit: it stops every process of the group at once and resumes them (`docker pause`, and
    /// chapter 6's `commit` of a running container). A controller of its own on v1 only; on v2 every
    /// group has `cgroup.freeze`.
    Freezer,
}

impl Controller {
    /// Every controller, in the order their directories are created and joined.
    pub const ALL: [Controller; 5] =
        [Controller::Memory, Controller::Cpu, Controller::Cpuacct, Controller::Pids, Controller::Freezer];

    /// The controller's name, as the kernel spells it in mount options and `cgroup.controllers`.
    pub fn name(self) -> &'static str {
        match self {
            Controller::Memory => "memory",
            Controller::Cpu => "cpu",
            Controller::Cpuacct => "cpuacct",
            Controller::Pids => "pids",
            Controller::Freezer => "freezer",
        }
    }
}

/// The cgroup version a hierarchy speaks: its files differ (`memory.limit_in_bytes` or `memory.max`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// Legacy: a tree per controller.
    V1,
    /// Unified: one tree for all.
    V2,
}

impl Version {
    /// The file a process writes `0` to, to move itself in: `tasks` on v1, `cgroup.procs` on v2.
    ///
    /// Moving a whole process (`cgroup.procs`, or any pid but the writer's
    /// own) makes the kernel hold off every fork and exit on the machine
    /// while it moves the threads, and taking that lock waits for an RCU
    /// grace period: milliseconds. A thread moving only itself needs no
    /// such lock (`cgroup_procs_write_start` in `kernel/cgroup/cgroup.c`).
    /// v1's `tasks` moves one thread, and the child, a copy of a
    /// single-threaded runtime, has only one: it moves all of itself. v2 has
    /// no `tasks`; its `cgroup.threads` works only in threaded groups.
    pub fn join_file(self) -> &'static str {
        match self {
            Version::V1 => "tasks",
            Version::V2 => "cgroup.procs",
        }
    }
}

/// The host's cgroup layout, as `statfs` on the cgroup root reveals it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// cgroup v2 only: the root is a `cgroup2` filesystem.
    Unified,
    /// cgroup v1 only: the root is a tmpfs of per-controller mounts.
    Legacy,
    /// v1 controllers, and a controller-less v2 tree on `<root>/unified`.
    Hybrid,
}

/// Tells v1, v2 and hybrid apart by the filesystem mounted on `root`.
pub fn detect_layout(root: &Path) -> Result<Layout> {
    // EXERCISE(detect-layout): statfs: cgroup2 is Unified; tmpfs is Legacy, or Hybrid if root/unified is cgroup2
    todo!(
        "cgroup-limits step 1 of 10 (detect-layout): statfs: cgroup2 is Unified; tmpfs is Legacy, or Hybrid if root/unified is cgroup2 — book: cgroup-limits.html#detect-layout"
    )
}

/// `statfs(2)`: the magic number of the filesystem mounted at `path`.
fn filesystem_type(path: &Path) -> Result<FsType> {
    let result = statfs(path).map(|fs| fs.filesystem_type());
    let kind = result.as_ref().ok().copied();
    let call = || format!("statfs({}, {{f_type={}}})", trace::quote(path.display()), magic_name(kind));
    trace::syscall(call, result.map(drop))
        .with_context(|| format!("find the filesystem of {} (statfs)", path.display()))?;
    kind.context("statfs succeeded without a filesystem type")
}

fn magic_name(kind: Option<FsType>) -> String {
    match kind {
        Some(kind) if kind == CGROUP2_SUPER_MAGIC => "CGROUP2_SUPER_MAGIC".to_owned(),
        Some(kind) if kind == CGROUP_SUPER_MAGIC => "CGROUP_SUPER_MAGIC".to_owned(),
        Some(kind) if kind == TMPFS_MAGIC => "TMPFS_MAGIC".to_owned(),
        Some(kind) => format!("{kind:?}"),
        None => "?".to_owned(),
    }
}

/// Where the container's cgroup directories go: one tree (v2) or one per controller (v1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hierarchy {
    /// cgroup v2: every controller in one tree rooted at `root`.
    Unified {
        /// The tree's root, normally `/sys/fs/cgroup`.
        root: PathBuf,
        /// What the root's `cgroup.controllers` offers.
        controllers: Vec<Controller>,
    },
    /// cgroup v1: each controller's own tree, where it is mounted.
    Legacy {
        /// Mount point of each mounted controller (several may share one: `cpu,cpuacct`).
        mounts: Vec<(Controller, PathBuf)>,
        /// Whether the memory tree has `memory.memsw.*`, the memory+swap limit (swap accounting).
        swap_accounting: bool,
    },
}

impl Hierarchy {
    /// Which version's files this hierarchy has.
    pub fn version(&self) -> Version {
        match self {
            Hierarchy::Unified { .. } => Version::V2,
            Hierarchy::Legacy { .. } => Version::V1,
        }
    }

    /// Detects the host's hierarchy: the layout under `root`, then its controllers.
    pub fn detect(root: &Path) -> Result<Self> {
        match detect_layout(root)? {
            Layout::Unified => Self::unified(root),
            Layout::Legacy | Layout::Hybrid => {
                let mountinfo = fs::read_to_string("/proc/self/mountinfo").context("read /proc/self/mountinfo")?;
                Ok(Self::legacy(&mountinfo))
            }
        }
    }

    /// A v2 tree at `root`, with the controllers its `cgroup.controllers` lists.
    pub fn unified(root: &Path) -> Result<Self> {
        let file = root.join("cgroup.controllers");
        let text = fs::read_to_string(&file).with_context(|| format!("read {}", file.display()))?;
        let listed: Vec<&str> = text.split_whitespace().collect();
        // cpuacct is no controller of its own on v2: cpu.stat does its accounting.
        let controllers = [Controller::Memory, Controller::Cpu, Controller::Pids]
            .into_iter()
            .filter(|controller| listed.contains(&controller.name()))
            .collect();
        Ok(Hierarchy::Unified { root: root.to_path_buf(), controllers })
    }

    /// The v1 trees that `mountinfo` (the text of `/proc/self/mountinfo`) shows.
    pub fn legacy(mountinfo: &str) -> Self {
        let mounts = v1_mounts(mountinfo);
        let swap_accounting = mounts
            .iter()
            .find(|(controller, _)| *controller == Controller::Memory)
            .is_some_and(|(_, mount)| mount.join("memory.memsw.limit_in_bytes").exists());
        Hierarchy::Legacy { mounts, swap_accounting }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_v2_tree_offers_what_cgroup_controllers_lists() {
        let root = tempfile::tempdir().unwrap();
        fs::write(root.path().join("cgroup.controllers"), "cpuset cpu io memory hugetlb misc\n").unwrap();
        let hierarchy = Hierarchy::unified(root.path()).unwrap();
        let Hierarchy::Unified { controllers, .. } = hierarchy else { panic!("not unified") };
        assert_eq!(controllers, [Controller::Memory, Controller::Cpu]);
    }
}
