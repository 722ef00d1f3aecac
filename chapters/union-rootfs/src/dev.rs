//! `/dev` inside the container: a small tmpfs with only the devices a program expects.
//!
//! The host's `/dev` holds every disk and terminal; a container gets a fresh
//! tmpfs instead, with the six character devices every program may use
//! (`null`, `zero`, `full`, `random`, `urandom`, `tty`), a private `devpts`
//! instance for pseudo-terminals (`newinstance`: the container never sees
//! the host's ptys), `shm` for POSIX shared memory, and the `fd`, `stdin`,
//! `stdout`, `stderr` and `ptmx` symlinks: the set runc and Docker give.
//! The nodes are made with `mknod(2)`. In a user namespace that is not
//! allowed (a device node is a key to the host's hardware, which only the
//! host's root may cut), so there the host's own nodes are bind-mounted
//! instead, as runc does for rootless containers. All of it is mounted
//! into the new root before `pivot_root`, while the host's `/dev` is still
//! in sight. See `man 2 mknod`, `man 4 null`, `man 4 pts`, `man 5 tmpfs`.
//! Introduced in chapter 3.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use anyhow::{Context, Result};
use nix::mount::MsFlags;
use nix::sys::stat::{Mode, SFlag, makedev};

use ns_isolation::sys;

use crate::bind::bind_mount;

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

/// Mounts the container's `/dev` at `dev` (in the new root): tmpfs, device nodes, `pts`, `shm`, symlinks.
pub fn mount_dev(dev: &Path, user_namespace: bool) -> Result<()> {
    let flags = MsFlags::MS_NOSUID | MsFlags::MS_STRICTATIME;
    sys::mount(Some("tmpfs"), dev, Some("tmpfs"), flags, Some("mode=755,size=65536k"))
        .with_context(|| format!("mount a tmpfs on {}", dev.display()))?;
    if user_namespace {
        bind_host_devices(dev)?
    } else {
        make_device_nodes(dev)?
    }
    let pts = dev.join("pts");
    make_dir(&pts)?;
    // Group 5 (tty) owns the terminals; a user namespace that does not map it cannot name it.
    let options = if user_namespace {
        "newinstance,ptmxmode=0666,mode=0620"
    } else {
        "newinstance,ptmxmode=0666,mode=0620,gid=5"
    };
    sys::mount(Some("devpts"), &pts, Some("devpts"), MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC, Some(options))
        .with_context(|| format!("mount a new devpts instance on {}", pts.display()))?;
    let shm = dev.join("shm");
    make_dir(&shm)?;
    let flags = MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
    sys::mount(Some("shm"), &shm, Some("tmpfs"), flags, Some("mode=1777,size=65536k"))
        .with_context(|| format!("mount a tmpfs on {}", shm.display()))?;
    for (name, target) in LINKS {
        let link = dev.join(name);
        sys::symlink(target, &link).with_context(|| format!("create the symlink {} -> {target}", link.display()))?;
    }
    Ok(())
}

/// Creates each of [`DEVICES`] under `dev`, readable and writable by everyone.
pub fn make_device_nodes(dev: &Path) -> Result<()> {
    // EXERCISE(dev-nodes): sys::mknod each of DEVICES as a character device (mode 0666), then chmod it to 0666
    todo!(
        "union-rootfs step 9 of 12 (dev-nodes): sys::mknod each of DEVICES as a character device (mode 0666), then chmod it to 0666 — book: union-rootfs.html#dev-nodes"
    )
}

/// In a user namespace: binds the host's node of each of [`DEVICES`] onto an empty file under `dev`.
pub fn bind_host_devices(dev: &Path) -> Result<()> {
    for device in DEVICES {
        let path = dev.join(device.name);
        fs::write(&path, "").with_context(|| format!("create the mountpoint {}", path.display()))?;
        bind_mount(&Path::new("/dev").join(device.name), &path)?;
    }
    Ok(())
}

fn make_dir(path: &Path) -> Result<()> {
    fs::create_dir_all(path).with_context(|| format!("create {}", path.display()))
}
