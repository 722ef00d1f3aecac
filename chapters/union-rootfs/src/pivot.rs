//! Switch the container's root: `pivot_root(2)`, or `chroot(2)` with `--no-pivot`.
//!
//! `chroot` only changes where *paths* start for this process; the old root
//! stays mounted in its mount namespace, and a process with enough
//! privilege can get back to it (for one, `setns(2)` into its own mount
//! namespace resets its root to the namespace's root: the host's). That is
//! why `--no-pivot` is insecure, as Docker's own `--no-pivot` warns.
//!
//! `pivot_root` changes the root *mount* of the whole mount namespace: the
//! new root becomes `/`, the old one is stacked on it, and we detach it, so
//! the host's filesystem is gone from the namespace. The sequence is the one
//! `man 2 pivot_root` and runc use: bind the new root onto itself (it must be
//! a mount point, not shared), `chdir` into it, `pivot_root(".", ".")`,
//! `umount2(".", MNT_DETACH)`, `chdir("/")`. See `man 2 pivot_root`,
//! `man 2 chroot`. Introduced in chapter 3.

use std::path::Path;

use anyhow::{Context, Result};
use nix::mount::MntFlags;

use ns_isolation::sys;

use crate::bind::bind_mount;

/// Makes `new_root` the root of this mount namespace and detaches the old root.
pub fn pivot_into(new_root: &Path) -> Result<()> {
    // pivot_root needs the new root to be a mount point of its own.
    bind_mount(new_root, new_root)?;
    // EXERCISE(pivot-root): sys::chdir into `new_root`, sys::pivot_root(".", "."), sys::umount2(".", MNT_DETACH), sys::chdir("/")
    todo!(
        "union-rootfs step 11 of 12 (pivot-root): sys::chdir into `new_root`, sys::pivot_root(\".\", \".\"), sys::umount2(\".\", MNT_DETACH), sys::chdir(\"/\") — book: union-rootfs.html#pivot-root"
    )
}

/// `--no-pivot`: only changes this process's root directory. Insecure: the old root stays reachable.
pub fn chroot_into(new_root: &Path) -> Result<()> {
    sys::chdir(new_root).with_context(|| format!("enter the new root {} (chdir)", new_root.display()))?;
    sys::chroot(Path::new(".")).context("change the root directory (chroot .)")?;
    sys::chdir(Path::new("/")).context("enter the new root (chdir /)")?;
    Ok(())
}
