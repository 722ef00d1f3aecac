//! What a bench could leave on the host, and the check that it left nothing:
//! mounts (`/proc/self/mountinfo`); cgroups, `rebox/<id>` from the
//! chapters' runtimes and `rebox-bench*` from runc, in any hierarchy (v1 or
//! v2); processes of its own, a solution binary of the bench's build (a
//! detached container's monitor) or `runc`, or anything in a `rebox-bench*`
//! cgroup; and listening TCP sockets (a published port) in the host's
//! network namespace. The suites of another checkout may come and go on
//! the same machine meanwhile, so a difference must last to count: the
//! check looks again for a few seconds before it fails.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::thread::sleep;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// The cgroup filesystems' mount point.
const CGROUP_ROOT: &str = "/sys/fs/cgroup";

/// The cgroups the bench's runs make: the runtimes' shared parent, and runc's containers.
const CGROUP_NAMES: [&str; 3] = ["rebox", "rebox-bench", super::containers::RUNC_CONTAINER];

/// How long a difference must last to be a leftover.
const SETTLE: Duration = Duration::from_secs(5);

/// The host's mounts, and the bench's cgroups, processes and listeners, at one moment.
#[derive(Debug)]
pub struct Host {
    mounts: BTreeSet<String>,
    cgroups: BTreeSet<PathBuf>,
    processes: BTreeSet<String>,
    listeners: BTreeSet<String>,
}

impl Host {
    /// Looks at the host; `binaries` is the directory of the bench's build, whose processes are the bench's.
    pub fn now(binaries: &Path) -> Result<Self> {
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
        Ok(Self {
            mounts: mountinfo.lines().map(str::to_owned).collect(),
            cgroups,
            processes: bench_processes(binaries)?,
            listeners: listeners()?,
        })
    }

    /// Fails, naming them, if mounts, cgroups, processes or listeners exist now that did not exist `before`.
    pub fn left_since(&self, before: &Host) -> Result<()> {
        let mounts: Vec<&String> = self.mounts.difference(&before.mounts).collect();
        let cgroups: Vec<&PathBuf> = self.cgroups.difference(&before.cgroups).collect();
        let processes: Vec<&String> = self.processes.difference(&before.processes).collect();
        let listeners: Vec<&String> = self.listeners.difference(&before.listeners).collect();
        let mut left = Vec::new();
        if !mounts.is_empty() {
            left.push(format!("mounts: {mounts:#?}"));
        }
        if !cgroups.is_empty() {
            left.push(format!("cgroups: {cgroups:#?}"));
        }
        if !processes.is_empty() {
            left.push(format!("processes: {processes:#?}"));
        }
        if !listeners.is_empty() {
            left.push(format!("listening sockets: {listeners:#?}"));
        }
        if !left.is_empty() {
            bail!("the bench left on the host {}", left.join("; "));
        }
        Ok(())
    }
}

/// Fails if something the bench made is still on the host after [`SETTLE`], compared with `before`.
pub fn check_since(before: &Host, binaries: &Path) -> Result<()> {
    let deadline = Instant::now() + SETTLE;
    loop {
        let left = Host::now(binaries)?.left_since(before);
        if left.is_ok() || Instant::now() >= deadline {
            return left;
        }
        sleep(Duration::from_millis(100));
    }
}

/// The processes that are the bench's: `pid exe` of each run from `binaries` or runc, or in a `rebox-bench*` cgroup.
fn bench_processes(binaries: &Path) -> Result<BTreeSet<String>> {
    let mut found = BTreeSet::new();
    for entry in fs::read_dir("/proc").context("list /proc")? {
        let Ok(entry) = entry else { continue };
        let Some(pid) = entry.file_name().to_str().and_then(|name| name.parse::<u32>().ok()) else { continue };
        // A process may end while it is looked at: what cannot be read is not there.
        let exe = fs::read_link(format!("/proc/{pid}/exe")).unwrap_or_default();
        let cgroup = fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap_or_default();
        let ours = exe.starts_with(binaries) || exe.file_name().is_some_and(|name| name == "runc");
        if ours || cgroup.contains("/rebox-bench") {
            found.insert(format!("{pid} {}", exe.display()));
        }
    }
    Ok(found)
}

/// The host network namespace's listening TCP sockets, from `/proc/net/tcp` and `tcp6`: `port 4000 (00000000:0FA0)`.
fn listeners() -> Result<BTreeSet<String>> {
    let mut found = BTreeSet::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let text = match fs::read_to_string(table) {
            Ok(text) => text,
            // No IPv6 in this kernel.
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => continue,
            Err(err) => return Err(err).with_context(|| format!("read {table}")),
        };
        for line in text.lines().skip(1) {
            let fields: Vec<&str> = line.split_whitespace().collect();
            // Field 3 is the state; 0A is TCP_LISTEN.
            if fields.get(3) == Some(&"0A") {
                let port = fields[1].rsplit(':').next().and_then(|hex| u16::from_str_radix(hex, 16).ok());
                found.insert(format!("port {} ({})", port.unwrap_or_default(), fields[1]));
            }
        }
    }
    Ok(found)
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
