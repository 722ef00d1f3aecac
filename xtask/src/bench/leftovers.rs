//! What a bench could leave on the host, and the check that it left nothing:
//! mounts (`/proc/self/mountinfo`), and cgroups, `rebox/<id>` from the
//! chapters' runtimes and `rebox-bench` from runc, in any hierarchy (v1 or v2).

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, ensure};

/// The cgroup filesystems' mount point.
const CGROUP_ROOT: &str = "/sys/fs/cgroup";

/// The cgroups the bench's runs make: the runtimes' shared parent, and runc's container id.
const CGROUP_NAMES: [&str; 2] = ["rebox", "rebox-bench"];

/// The host's mounts and the bench's cgroups at one moment.
#[derive(Debug)]
pub struct Host {
    mounts: BTreeSet<String>,
    cgroups: BTreeSet<PathBuf>,
}

impl Host {
    /// Reads the mount table and looks for the bench's cgroups.
    pub fn now() -> Result<Self> {
        let mountinfo = fs::read_to_string("/proc/self/mountinfo").context("read /proc/self/mountinfo")?;
        let mut hierarchies = vec![PathBuf::from(CGROUP_ROOT)];
        for entry in fs::read_dir(CGROUP_ROOT).with_context(|| format!("list {CGROUP_ROOT}"))? {
            let path = entry.with_context(|| format!("list {CGROUP_ROOT}"))?.path();
            if path.is_dir() {
                hierarchies.push(path);
            }
        }
        let mut cgroups = BTreeSet::new();
        for hierarchy in &hierarchies {
            for name in CGROUP_NAMES {
                add_tree(&hierarchy.join(name), &mut cgroups)?;
            }
        }
        Ok(Self { mounts: mountinfo.lines().map(str::to_owned).collect(), cgroups })
    }

    /// Fails, naming them, if mounts or cgroups exist now that did not exist `before`.
    pub fn left_since(&self, before: &Host) -> Result<()> {
        let mounts: Vec<&String> = self.mounts.difference(&before.mounts).collect();
        let cgroups: Vec<&PathBuf> = self.cgroups.difference(&before.cgroups).collect();
        ensure!(mounts.is_empty(), "the bench left mounts on the host: {mounts:#?}");
        ensure!(cgroups.is_empty(), "the bench left cgroups on the host: {cgroups:#?}");
        Ok(())
    }
}

/// Adds `dir` and every directory under it to `found`, if `dir` exists.
fn add_tree(dir: &Path, found: &mut BTreeSet<PathBuf>) -> Result<()> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        // Absent, or removed by the run that made it since its parent was listed.
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(err) => return Err(err).with_context(|| format!("list {}", dir.display())),
    };
    for entry in entries {
        let path = entry.with_context(|| format!("list {}", dir.display()))?.path();
        if path.is_dir() {
            add_tree(&path, found)?;
        }
    }
    found.insert(dir.to_path_buf());
    Ok(())
}
