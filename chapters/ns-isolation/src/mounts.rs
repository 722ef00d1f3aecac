//! Mount propagation and `/proc`, seen from a new mount namespace.
//!
//! A new mount namespace starts as a copy of the parent's mount table, and
//! on most hosts `/` is a *shared* mount (systemd makes it so): a mount made
//! under a shared mount propagates to its peers, the host included. So the
//! child's first act is to make every mount private, recursively; only then
//! are its mounts its own. Then it mounts a fresh `proc` over `/proc`: a
//! procfs instance shows the PID namespace of the process that mounted it,
//! which is why `ps` inside lists only the container's processes.
//! See `man 2 mount`, `man 7 mount_namespaces`, `man 5 proc`.
//! Introduced in chapter 1; chapter 3 mounts `/proc` inside the new root.

use std::path::Path;

use anyhow::{Context, Result};
use nix::mount::{MsFlags, mount};

use crate::trace;

/// Makes every mount in this mount namespace private, so nothing we mount reaches the host.
pub fn make_mounts_private() -> Result<()> {
    // EXERCISE(make-private): remount "/" with MS_REC | MS_PRIVATE (no source, no fstype, no data)
    todo!(
        "ns-isolation step 4 of 9 (make-private): remount \"/\" with MS_REC | MS_PRIVATE (no source, no fstype, no data) — book: ns-isolation.md#make-private"
    )
}

/// Mounts a new procfs on `target`: it shows the mounting process's PID namespace.
pub fn mount_proc(target: &Path) -> Result<()> {
    // EXERCISE(mount-proc): mount a "proc" filesystem on `target` with MS_NOSUID | MS_NODEV | MS_NOEXEC
    todo!(
        "ns-isolation step 5 of 9 (mount-proc): mount a \"proc\" filesystem on `target` with MS_NOSUID | MS_NODEV | MS_NOEXEC — book: ns-isolation.md#mount-proc"
    )
}

/// `mount(2)` with a source, a target and a filesystem type, traced.
///
/// Later chapters mount overlay, tmpfs, devpts and bind mounts through this.
pub fn traced_mount(source: &str, target: &Path, fstype: &str, flags: MsFlags, data: Option<&str>) -> nix::Result<()> {
    let result = mount(Some(source), target, Some(fstype), flags, data);
    trace::syscall(
        || {
            let data = data.map_or("NULL".to_owned(), trace::quote);
            format!(
                "mount({}, {}, {}, {}, {data})",
                trace::quote(source),
                trace::quote(target.display()),
                trace::quote(fstype),
                describe_ms_flags(flags)
            )
        },
        result,
    )
}

/// Names mount flags as strace does: `MS_NOSUID|MS_NODEV`, or `0`.
pub fn describe_ms_flags(flags: MsFlags) -> String {
    let names: Vec<&str> = flags.iter_names().map(|(name, _)| name).collect();
    if names.is_empty() { "0".to_owned() } else { names.join("|") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_are_named_like_strace() {
        assert_eq!(describe_ms_flags(MsFlags::empty()), "0");
        assert_eq!(describe_ms_flags(MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC), "MS_NOSUID|MS_NOEXEC");
    }
}
