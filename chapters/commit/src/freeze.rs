//! Freezing a running container while its layer is read: cgroups again.
//!
//! A running container keeps writing: a layer read while a file is half
//! written holds half a file. Docker's `commit` pauses the container first
//! (`--pause`, on by default), through the cgroup freezer: every process of
//! the group stops where it is, no signal sent, none can tell, and all go
//! on when thawed. On v1 the freezer is a tree of its own (chapter 2 gave
//! every container a group in it): write `FROZEN` to `freezer.state`, and
//! read it until it says `FROZEN` rather than `FREEZING`. On v2 every group
//! has `cgroup.freeze`: write `1`, and wait for `frozen 1` in
//! `cgroup.events`. `0` and `THAWED` undo it.
//!
//! A container left frozen would be hung for good, so the thaw runs on
//! every path: after the read, whether it worked or not; and the signals
//! that would kill the runtime mid-way (Ctrl-C, `kill`) are held while the
//! container is frozen, and delivered once it is thawed. Only SIGKILL cannot
//! be held; `rm -f` then still ends the container (chapter 2 thaws a v1
//! group before killing what is in it). See the kernel's
//! `Documentation/admin-guide/cgroup-v1/freezer-subsystem.rst` and
//! `cgroup-v2.rst` ("cgroup.freeze"). Introduced in chapter 6.

use std::fs;
use std::path::PathBuf;
use std::thread::sleep;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use nix::sys::signal::{SigSet, SigmaskHow, Signal, pthread_sigmask};

use cgroup_limits::cgroup::{Cgroup, write_file};
use cgroup_limits::layout::Version;

/// How long the kernel may take to stop every process of the group.
const FREEZE_TIMEOUT: Duration = Duration::from_secs(10);
const POLL: Duration = Duration::from_millis(1);

/// A container's freezer: the file to write, and how its state reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Freezer {
    /// Which version's files.
    pub version: Version,
    /// The group whose processes freeze together.
    pub dir: PathBuf,
}

impl Freezer {
    /// The freezer of container `id`'s cgroup.
    pub fn of_container(id: &str) -> Result<Self> {
        let cgroup = Cgroup::existing(id)?.with_context(|| format!("the container {id} has no cgroup to freeze"))?;
        let dir = cgroup.freezer_dir().with_context(|| {
            format!("the container {id} has no freezer group: mount the cgroup v1 freezer controller, or use cgroup v2")
        })?;
        Ok(Freezer { version: cgroup.version(), dir: dir.to_path_buf() })
    }

    /// Stops every process of the group, and waits until the kernel says they all are.
    pub fn freeze(&self) -> Result<()> {
        // EXERCISE(freeze): write FROZEN to freezer.state (v1) or 1 to cgroup.freeze (v2), then wait until self.is_frozen()
        todo!(
            "commit step 7 of 9 (freeze): write FROZEN to freezer.state (v1) or 1 to cgroup.freeze (v2), then wait until self.is_frozen() — book: commit.html#freeze"
        )
    }

    /// Lets every process of the group go on.
    pub fn thaw(&self) -> Result<()> {
        match self.version {
            Version::V1 => write_file(&self.dir.join("freezer.state"), "THAWED"),
            Version::V2 => write_file(&self.dir.join("cgroup.freeze"), "0"),
        }
    }

    /// Whether every process of the group has stopped: `FROZEN` (v1), `frozen 1` (v2).
    pub fn is_frozen(&self) -> Result<bool> {
        let (file, frozen): (&str, fn(&str) -> bool) = match self.version {
            Version::V1 => ("freezer.state", |text| text.trim() == "FROZEN"),
            Version::V2 => ("cgroup.events", |text| text.lines().any(|line| line.trim() == "frozen 1")),
        };
        let path = self.dir.join(file);
        Ok(frozen(&fs::read_to_string(&path).with_context(|| format!("read {}", path.display()))?))
    }
}

/// Runs `read` with the container's processes frozen, and thaws them after, whatever `read` did.
///
/// SIGINT, SIGTERM, SIGHUP and SIGQUIT wait until the thaw: they would end
/// the runtime and leave the container frozen.
pub fn while_frozen<T>(freezer: &Freezer, read: impl FnOnce() -> Result<T>) -> Result<T> {
    let held = SigSet::from_iter([Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP, Signal::SIGQUIT]);
    let mut before = SigSet::empty();
    pthread_sigmask(SigmaskHow::SIG_BLOCK, Some(&held), Some(&mut before)).context("hold signals (sigprocmask)")?;
    let result = freezer.freeze().and_then(|()| read());
    let thawed = freezer.thaw();
    pthread_sigmask(SigmaskHow::SIG_SETMASK, Some(&before), None).context("restore the signal mask")?;
    match (result, thawed) {
        (Ok(value), Ok(())) => Ok(value),
        (Err(err), Ok(())) => Err(err),
        (Ok(_), Err(thaw)) => Err(thaw.context("thaw the container")),
        (Err(err), Err(thaw)) => Err(err.context(format!("and thawing the container failed too: {thaw:#}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A v2 group as cgroupfs would show it, in a plain directory: `cgroup.freeze` and `cgroup.events`.
    fn fake_v2_group(frozen_after_write: bool) -> (tempfile::TempDir, Freezer) {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("cgroup.freeze"), "0\n").unwrap();
        let events = if frozen_after_write { "populated 1\nfrozen 1\n" } else { "populated 1\nfrozen 0\n" };
        fs::write(dir.path().join("cgroup.events"), events).unwrap();
        let freezer = Freezer { version: Version::V2, dir: dir.path().to_path_buf() };
        (dir, freezer)
    }

    #[test]
    fn v2_freezes_with_cgroup_freeze_and_thaws_on_every_path() {
        let (dir, freezer) = fake_v2_group(true);
        let inside = while_frozen(&freezer, || Ok(fs::read_to_string(dir.path().join("cgroup.freeze"))?)).unwrap();
        assert_eq!(inside, "1", "frozen during the read");
        assert_eq!(fs::read_to_string(dir.path().join("cgroup.freeze")).unwrap(), "0", "thawed after");
        let failed: Result<()> = while_frozen(&freezer, || bail!("the read failed"));
        assert_eq!(failed.unwrap_err().to_string(), "the read failed");
        assert_eq!(fs::read_to_string(dir.path().join("cgroup.freeze")).unwrap(), "0", "thawed after a failure too");
    }

    #[test]
    fn v1_reads_freezer_state() {
        let dir = tempfile::tempdir().unwrap();
        let freezer = Freezer { version: Version::V1, dir: dir.path().to_path_buf() };
        fs::write(dir.path().join("freezer.state"), "FREEZING\n").unwrap();
        assert!(!freezer.is_frozen().unwrap());
        fs::write(dir.path().join("freezer.state"), "FROZEN\n").unwrap();
        assert!(freezer.is_frozen().unwrap());
    }
}
