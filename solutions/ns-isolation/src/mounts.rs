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
use nix::mount::MsFlags;

use crate::sys;

/// Makes every mount in this mount namespace private, so nothing we mount reaches the host.
pub fn make_mounts_private() -> Result<()> {
    // ANCHOR: make_mounts_private
    // EXERCISE(make-private): sys::mount "/" with MS_REC | MS_PRIVATE (no source, no fstype, no data)
    sys::mount(None, Path::new("/"), None, MsFlags::MS_REC | MsFlags::MS_PRIVATE, None)
        .context("make all mounts private (mount / with MS_REC|MS_PRIVATE)")?;
    Ok(())
    // END EXERCISE
    // ANCHOR_END: make_mounts_private
}

/// Mounts a new procfs on `target`: it shows the mounting process's PID namespace.
pub fn mount_proc(target: &Path) -> Result<()> {
    // ANCHOR: mount_proc
    // EXERCISE(mount-proc): sys::mount a "proc" filesystem (source "proc") on `target` with MS_NOSUID | MS_NODEV | MS_NOEXEC
    let flags = MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
    sys::mount(Some("proc"), target, Some("proc"), flags, None)
        .with_context(|| format!("mount proc on {}", target.display()))?;
    Ok(())
    // END EXERCISE
    // ANCHOR_END: mount_proc
}
