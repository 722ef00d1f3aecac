//! The plan: which cgroup directories to make and which files to write, as data.
//!
//! Making a cgroup is nothing but `mkdir` and small writes, so the runtime
//! first computes them, purely, from the hierarchy and the limits, and
//! [`crate::cgroup::Cgroup::create`] then carries them out. The plan can be
//! read (it prints as the shell commands that would do the same by hand),
//! unit-tested without root, and checked before anything is touched: a
//! limit on a controller the host does not offer is an error here.
//!
//! Every container gets `rebox/<id>` under each hierarchy it uses, even
//! with no limit at all, as Docker does: the directory is what accounts for
//! the container's memory, CPU time and processes (what `docker stats`
//! reads), and on v1 the freezer's group is what stops them all at once
//! (chapter 6 freezes a running container to commit it). A controller that
//! is missing is then simply not used. On v2 a
//! controller is only usable in a group if every ancestor has enabled it in
//! its `cgroup.subtree_control`. Introduced in chapter 2.

use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::{Result, bail};

use crate::cpu::CpuQuota;
use crate::layout::{Controller, Hierarchy, Version};
use crate::memory::MemoryLimit;
use crate::pids::PidsLimit;

/// The directory every container's cgroup is made in, under each hierarchy's root.
pub const PARENT: &str = "rebox";

/// What the container may use; `None` is no limit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Limits {
    /// `-m/--memory`, `--memory-swap`.
    pub memory: Option<MemoryLimit>,
    /// `--cpus`.
    pub cpu: Option<CpuQuota>,
    /// `--pids-limit`.
    pub pids: Option<PidsLimit>,
}

impl Limits {
    /// Whether no limit was asked for.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// The files and values to write for `controller`, in the order the kernel needs them.
    fn files(&self, controller: Controller, version: Version, swap_accounting: bool) -> Result<Vec<(&str, String)>> {
        Ok(match (controller, version) {
            (Controller::Memory, Version::V1) => self.memory.map(|m| m.v1_files(swap_accounting)).transpose()?,
            (Controller::Memory, Version::V2) => self.memory.map(|m| m.v2_files()),
            (Controller::Cpu, Version::V1) => self.cpu.map(|cpu| cpu.v1_files()),
            (Controller::Cpu, Version::V2) => self.cpu.map(|cpu| cpu.v2_files()),
            (Controller::Pids, _) => self.pids.map(|pids| pids.files()),
            (Controller::Cpuacct | Controller::Freezer, _) => None,
        }
        .unwrap_or_default())
    }

    /// Whether a limit needs `controller`.
    fn needs(&self, controller: Controller) -> bool {
        match controller {
            Controller::Memory => self.memory.is_some(),
            Controller::Cpu => self.cpu.is_some(),
            Controller::Pids => self.pids.is_some(),
            Controller::Cpuacct | Controller::Freezer => false,
        }
    }
}

/// One thing to do to the cgroup filesystem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// `mkdir(2)`; a `shared` directory (the `rebox` parent) may exist already.
    MakeDir {
        /// The directory.
        path: PathBuf,
        /// Whether another container may have made it first.
        shared: bool,
    },
    /// Write `value` to the file at `path`.
    Write {
        /// A cgroup interface file.
        path: PathBuf,
        /// What to write to it.
        value: String,
    },
}

/// Everything [`crate::cgroup::Cgroup`] does, computed before doing any of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// Whose files these are.
    pub version: Version,
    /// The directories to make and files to write, in order.
    pub steps: Vec<Step>,
    /// The container's own directories: joined, emptied and removed.
    pub dirs: Vec<PathBuf>,
    /// Their `rebox` parents, removed when no other container is left in them.
    pub parents: Vec<PathBuf>,
    /// The directory whose memory counters tell of OOM kills, if the memory controller is used.
    pub memory_dir: Option<PathBuf>,
    /// The directory whose processes freeze together: v1's freezer group, or the v2 group itself.
    pub freezer_dir: Option<PathBuf>,
    /// The memory limit, for the OOM report.
    pub memory_limit: Option<u64>,
}

/// Plans `rebox/<id>` in `hierarchy` with `limits`; fails if a limit's controller is missing.
pub fn plan(hierarchy: &Hierarchy, id: &str, limits: &Limits) -> Result<Plan> {
    let mut plan = Plan {
        version: hierarchy.version(),
        steps: Vec::new(),
        dirs: Vec::new(),
        parents: Vec::new(),
        memory_dir: None,
        freezer_dir: None,
        memory_limit: limits.memory.map(|memory| memory.limit),
    };
    match hierarchy {
        Hierarchy::Legacy { mounts, swap_accounting } => {
            for controller in Controller::ALL {
                let Some((_, mount)) = mounts.iter().find(|(mounted, _)| *mounted == controller) else {
                    refuse_missing(
                        limits,
                        controller,
                        "is not mounted (no cgroup mount with it in /proc/self/mountinfo)",
                    )?;
                    continue;
                };
                let dir = plan.make_dirs(mount, id);
                match controller {
                    Controller::Memory => plan.memory_dir = Some(dir.clone()),
                    Controller::Freezer => plan.freezer_dir = Some(dir.clone()),
                    _ => {}
                }
                plan.write_files(&dir, limits.files(controller, Version::V1, *swap_accounting)?);
            }
        }
        Hierarchy::Unified { root, controllers } => {
            for controller in [Controller::Memory, Controller::Cpu, Controller::Pids] {
                if !controllers.contains(&controller) {
                    let missing = format!("is not available (not in {})", root.join("cgroup.controllers").display());
                    refuse_missing(limits, controller, &missing)?;
                }
            }
            let parent = root.join(PARENT);
            plan.steps.push(Step::MakeDir { path: parent.clone(), shared: true });
            plan.steps.extend(enable_controllers(&[root.clone(), parent.clone()], controllers));
            let dir = parent.join(id);
            plan.steps.push(Step::MakeDir { path: dir.clone(), shared: false });
            if controllers.contains(&Controller::Memory) {
                plan.memory_dir = Some(dir.clone());
            }
            plan.freezer_dir = Some(dir.clone());
            for controller in controllers {
                plan.write_files(&dir, limits.files(*controller, Version::V2, true)?);
            }
            plan.dirs.push(dir);
            plan.parents.push(parent);
        }
    }
    Ok(plan)
}

fn refuse_missing(limits: &Limits, controller: Controller, why: &str) -> Result<()> {
    if limits.needs(controller) {
        bail!("cannot apply the {0} limit: the cgroup {0} controller {why}", controller.name());
    }
    Ok(())
}

/// The steps that let `rebox/<id>` use `controllers` on v2: `+<name>` in each ancestor's `cgroup.subtree_control`.
///
/// A v2 group can only use a controller its parent has enabled for its
/// children, so it must be enabled in every ancestor, from the root down.
pub fn enable_controllers(ancestors: &[PathBuf], controllers: &[Controller]) -> Vec<Step> {
    // EXERCISE(enable-controllers): write "+memory +cpu +pids" to each ancestor's cgroup.subtree_control, top down
    todo!(
        "cgroup-limits step 4 of 10 (enable-controllers): write \"+memory +cpu +pids\" to each ancestor's cgroup.subtree_control, top down — book: cgroup-limits.html#enable-controllers"
    )
}

impl Plan {
    /// Adds `<mount>/rebox` and `<mount>/rebox/<id>`, unless another controller shares the mount.
    fn make_dirs(&mut self, mount: &Path, id: &str) -> PathBuf {
        let parent = mount.join(PARENT);
        let dir = parent.join(id);
        if !self.dirs.contains(&dir) {
            self.steps.push(Step::MakeDir { path: parent.clone(), shared: true });
            self.steps.push(Step::MakeDir { path: dir.clone(), shared: false });
            self.dirs.push(dir.clone());
            self.parents.push(parent);
        }
        dir
    }

    fn write_files(&mut self, dir: &Path, files: Vec<(&str, String)>) {
        for (file, value) in files {
            self.steps.push(Step::Write { path: dir.join(file), value });
        }
    }
}

/// The plan as the shell commands that would do the same by hand.
impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "# create the cgroup and write its limits")?;
        for step in &self.steps {
            match step {
                Step::MakeDir { path, shared: true } => writeln!(f, "mkdir -p {}", path.display())?,
                Step::MakeDir { path, shared: false } => writeln!(f, "mkdir {}", path.display())?,
                Step::Write { path, value } if value.contains(' ') => {
                    writeln!(f, "echo '{value}' > {}", path.display())?
                }
                Step::Write { path, value } => writeln!(f, "echo {value} > {}", path.display())?,
            }
        }
        let join_file = self.version.join_file();
        writeln!(f, "# join: the container's first process moves itself in, before it execs")?;
        for dir in &self.dirs {
            writeln!(f, "echo 0 > {}", dir.join(join_file).display())?;
        }
        writeln!(f, "# remove, once the container has exited")?;
        for dir in self.dirs.iter().chain(&self.parents) {
            writeln!(f, "rmdir {}", dir.display())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
