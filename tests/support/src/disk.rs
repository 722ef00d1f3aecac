//! A small disk, for the tests of a full one: a tmpfs of a given size, in a mount namespace of its own.
//!
//! The tmpfs is mounted on a directory of the test's own, but in a mount
//! namespace that a sleeping process holds (`unshare --mount`), so the
//! host's mount table never shows it, and the tests that compare that table
//! before and after a run see nothing of it. The test's commands run in that
//! namespace through `nsenter`; the test itself reads and writes the disk
//! through `/proc/<holder>/root`, which resolves paths in the holder's
//! mounts. Dropped, the disk is unmounted and the holder ended, its
//! namespace with it; were the test itself killed, the holder would die
//! with it (its parent-death signal), and the kernel would unmount the rest.

use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

/// How long the holder may take to enter its mount namespace.
const HOLDER_TIMEOUT: Duration = Duration::from_secs(10);

/// A tmpfs of a fixed size, mounted in a mount namespace of its own; unmounted when dropped.
#[derive(Debug)]
pub struct SmallDisk {
    holder: Child,
    dir: PathBuf,
}

impl SmallDisk {
    /// Mounts a tmpfs with `options` (its size, as `mount -o` takes it: `size=640k`, `nr_inodes=300`) on `dir`, made if missing.
    ///
    /// Needs root, `setpriv`, `unshare` and `nsenter` (util-linux, or busybox's).
    pub fn mount(dir: &Path, options: &str) -> Self {
        fs::create_dir_all(dir).unwrap_or_else(|err| panic!("create {}: {err}", dir.display()));
        let holder = Command::new("setpriv")
            .args(["--pdeathsig", "KILL", "--", "unshare", "--mount", "--propagation", "private", "sleep", "1000000"])
            .stdin(Stdio::null())
            .spawn()
            .expect("start a process holding a mount namespace (setpriv and unshare, util-linux)");
        let disk = Self { holder, dir: dir.to_path_buf() };
        disk.wait_for_namespace();
        let mounted = disk
            .command("mount")
            .args(["-t", "tmpfs", "-o", &format!("{options},mode=755"), "small-disk"])
            .arg(dir)
            .status()
            .expect("run mount through nsenter");
        assert!(mounted.success(), "mount a tmpfs with {options} on {}", dir.display());
        disk
    }

    /// Waits until the holder has its own mount namespace: it has exec'd `sleep`, which `unshare` runs after.
    fn wait_for_namespace(&self) {
        let comm = format!("/proc/{}/comm", self.holder.id());
        let deadline = Instant::now() + HOLDER_TIMEOUT;
        while fs::read_to_string(&comm).map(|name| name.trim().to_owned()).unwrap_or_default() != "sleep" {
            assert!(Instant::now() < deadline, "the mount namespace holder did not start within {HOLDER_TIMEOUT:?}");
            sleep(Duration::from_millis(10));
        }
    }

    /// Where the disk is mounted, as the commands run in its namespace see it.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The disk as the test sees it, from the host's namespace: its directory through the holder's root.
    pub fn path(&self) -> PathBuf {
        let relative = self.dir.strip_prefix("/").unwrap_or(&self.dir);
        Path::new("/proc").join(self.holder.id().to_string()).join("root").join(relative)
    }

    /// A command that runs `program` in the disk's mount namespace.
    pub fn command(&self, program: impl AsRef<OsStr>) -> Command {
        let mut command = Command::new("nsenter");
        command.args(["-t", &self.holder.id().to_string(), "-m", "--"]).arg(program).stdin(Stdio::null());
        command
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = self.command("umount").arg(&self.dir).stdout(Stdio::null()).stderr(Stdio::null()).status();
        let _ = self.holder.kill();
        let _ = self.holder.wait();
    }
}
