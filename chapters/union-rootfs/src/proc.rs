//! `/proc` and `/sys` inside the container, with Docker's masked and read-only paths.
//!
//! A fresh procfs shows the container's PID namespace; a fresh sysfs,
//! mounted read-only, its network namespace. Both still expose the host's
//! kernel: `/proc/kcore` is its memory, `/proc/sysrq-trigger` can reboot it,
//! `/proc/sys` sets its parameters. Docker *masks* the dangerous paths
//! (a read-only empty tmpfs over a directory, `/dev/null` over a file) and
//! makes the control files *read-only* (bind each onto itself, then remount
//! it read-only). The lists are moby's defaults (`oci/defaults.go`).
//! See `man 5 proc`, `man 5 sysfs`. Introduced in chapter 3.

use std::fs;
use std::io::ErrorKind;
use std::path::Path;

use anyhow::{Context, Result};
use nix::mount::MsFlags;

use ns_isolation::mounts::mount_proc;
use ns_isolation::sys;

use crate::bind::{bind_mount, remount_read_only};

/// Hidden from the container: Docker's default `MaskedPaths`.
pub const MASKED_PATHS: [&str; 11] = [
    "/proc/asound",
    "/proc/acpi",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
];

/// Read-only in the container: Docker's default `ReadonlyPaths`.
pub const READONLY_PATHS: [&str; 5] = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"];

/// The flags every `/proc` and `/sys` mount keeps.
const SAFE: MsFlags = MsFlags::MS_NOSUID.union(MsFlags::MS_NODEV).union(MsFlags::MS_NOEXEC);

/// Mounts a new `/proc`, then `/sys` read-only, in the new root at `root`, before `pivot_root`.
///
/// Before, because of a rule of the kernel's (`mount_too_revealing`): in a
/// user namespace, a new procfs or sysfs may only be mounted while one that
/// shows at least as much is visible in the mount namespace. Once the old
/// root is detached, none is, so runc, and this runtime, mount both while
/// the host's are still in sight. A sysfs also shows the network namespace
/// of whoever mounts it, and may only be mounted by a user namespace that
/// owns that network namespace: a container with a user namespace that
/// shares the host's network (`bind_host_sys`) gets the host's `/sys`
/// bound, read-only, instead.
pub fn mount_proc_and_sys(root: &Path, bind_host_sys: bool) -> Result<()> {
    mount_proc(&root.join("proc"))?;
    let sys = root.join("sys");
    if bind_host_sys {
        bind_mount(Path::new("/sys"), &sys)?;
        return remount_read_only(&sys, SAFE);
    }
    sys::mount(Some("sysfs"), &sys, Some("sysfs"), SAFE | MsFlags::MS_RDONLY, None)
        .with_context(|| format!("mount sysfs read-only on {}", sys.display()))?;
    Ok(())
}

/// Masks every path of [`MASKED_PATHS`] and makes every path of [`READONLY_PATHS`] read-only, after `pivot_root`.
pub fn restrict_proc_and_sys() -> Result<()> {
    for path in MASKED_PATHS {
        mask_path(Path::new(path))?;
    }
    for path in READONLY_PATHS {
        make_read_only(Path::new(path))?;
    }
    Ok(())
}

/// Hides `path`: an empty read-only tmpfs over a directory, `/dev/null` over a file.
///
/// A path this kernel does not have is skipped.
pub fn mask_path(path: &Path) -> Result<()> {
    let meta = match fs::metadata(path) {
        Err(err) if err.kind() == ErrorKind::NotFound => return Ok(()),
        other => other.with_context(|| format!("look at the path to mask {}", path.display()))?,
    };
    // EXERCISE(mask-paths): over a directory sys::mount a read-only "tmpfs"; over a file bind-mount /dev/null
    todo!(
        "union-rootfs step 12 of 12 (mask-paths): over a directory sys::mount a read-only \"tmpfs\"; over a file bind-mount /dev/null — book: union-rootfs.html#mask-paths"
    )
}

/// Makes `path` read-only: bind it onto itself, then remount that bind read-only.
pub fn make_read_only(path: &Path) -> Result<()> {
    if !path.exists() {
        return Ok(());
    }
    bind_mount(path, path)?;
    remount_read_only(path, SAFE)
}
