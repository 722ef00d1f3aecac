//! `/dev` inside the container: a small tmpfs with only the devices a program expects.
//!
//! The host's `/dev` holds every disk and terminal; a container gets a fresh
//! tmpfs instead, with the six character devices every program may use
//! (`null`, `zero`, `full`, `random`, `urandom`, `tty`), a private `devpts`
//! instance for pseudo-terminals (`newinstance`: the container never sees
//! the host's ptys), `shm` for POSIX shared memory, and the `fd`, `stdin`,
//! `stdout`, `stderr` and `ptmx` symlinks. It is mounted after `pivot_root`,
//! so the nodes are made with `mknod(2)` rather than bound from the host.
//! The same set as runc's and Docker's defaults. See `man 2 mknod`,
//! `man 4 null`, `man 4 pts`, `man 5 tmpfs`. Introduced in chapter 3.

use std::fs;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::Path;

use anyhow::{Context, Result};
use nix::mount::MsFlags;
use nix::sys::stat::{Mode, SFlag, makedev, mknod};

use ns_isolation::mounts::traced_mount;
use ns_isolation::trace;

/// A character device: its name under `/dev` and its major/minor numbers (`man 4 mem`, `man 4 tty`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Device {
    /// The file name under `/dev`.
    pub name: &'static str,
    /// The driver's major number.
    pub major: u64,
    /// The device's minor number.
    pub minor: u64,
}

/// The devices of a container's `/dev`, as in Docker.
pub const DEVICES: [Device; 6] = [
    Device { name: "null", major: 1, minor: 3 },
    Device { name: "zero", major: 1, minor: 5 },
    Device { name: "full", major: 1, minor: 7 },
    Device { name: "random", major: 1, minor: 8 },
    Device { name: "urandom", major: 1, minor: 9 },
    Device { name: "tty", major: 5, minor: 0 },
];

/// The symlinks of a container's `/dev`: name and target.
pub const LINKS: [(&str, &str); 5] = [
    ("fd", "/proc/self/fd"),
    ("stdin", "/proc/self/fd/0"),
    ("stdout", "/proc/self/fd/1"),
    ("stderr", "/proc/self/fd/2"),
    ("ptmx", "pts/ptmx"),
];

/// Mounts the container's `/dev` at `dev`: tmpfs, device nodes, `pts`, `shm`, symlinks.
pub fn mount_dev(dev: &Path) -> Result<()> {
    traced_mount("tmpfs", dev, "tmpfs", MsFlags::MS_NOSUID | MsFlags::MS_STRICTATIME, Some("mode=755,size=65536k"))
        .with_context(|| format!("mount a tmpfs on {}", dev.display()))?;
    make_device_nodes(dev)?;
    let pts = dev.join("pts");
    make_dir(&pts)?;
    let flags = MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC;
    traced_mount("devpts", &pts, "devpts", flags, Some("newinstance,ptmxmode=0666,mode=0620,gid=5"))
        .with_context(|| format!("mount a new devpts instance on {}", pts.display()))?;
    let shm = dev.join("shm");
    make_dir(&shm)?;
    let flags = MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
    traced_mount("shm", &shm, "tmpfs", flags, Some("mode=1777,size=65536k"))
        .with_context(|| format!("mount a tmpfs on {}", shm.display()))?;
    for (name, target) in LINKS {
        let link = dev.join(name);
        let result = symlink(target, &link);
        trace::io(|| format!("symlink({}, {})", trace::quote(target), trace::quote(link.display())), result)
            .with_context(|| format!("create the symlink {} -> {target}", link.display()))?;
    }
    Ok(())
}

/// Creates each of [`DEVICES`] under `dev`, readable and writable by everyone.
pub fn make_device_nodes(dev: &Path) -> Result<()> {
    // EXERCISE(dev-nodes): mknod(2) each of DEVICES as a character device, then chmod it to 0666
    todo!(
        "union-rootfs step 8 of 10 (dev-nodes): mknod(2) each of DEVICES as a character device, then chmod it to 0666 — book: union-rootfs.md#dev-nodes"
    )
}

fn make_dir(path: &Path) -> Result<()> {
    fs::create_dir_all(path).with_context(|| format!("create {}", path.display()))
}
