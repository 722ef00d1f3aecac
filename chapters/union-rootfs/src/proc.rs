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

use ns_isolation::mounts::{mount_proc, traced_mount};

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

/// Mounts `/proc`, then `/sys` read-only, in the new root.
pub fn mount_proc_and_sys() -> Result<()> {
    mount_proc(Path::new("/proc"))?;
    traced_mount("sysfs", Path::new("/sys"), "sysfs", SAFE | MsFlags::MS_RDONLY, None)
        .context("mount sysfs read-only on /sys")?;
    Ok(())
}

/// Masks every path of [`MASKED_PATHS`] and makes every path of [`READONLY_PATHS`] read-only.
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
    // EXERCISE(mask-paths): over a directory mount a read-only "tmpfs"; over a file bind-mount /dev/null
    todo!(
        "union-rootfs step 9 of 10 (mask-paths): over a directory mount a read-only \"tmpfs\"; over a file bind-mount /dev/null — book: union-rootfs.md#mask-paths"
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
