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
use nix::mount::{MntFlags, umount2};
use nix::unistd::{chdir, chroot, pivot_root};

use ns_isolation::trace;

use crate::bind::bind_mount;

/// Makes `new_root` the root of this mount namespace and detaches the old root.
pub fn pivot_into(new_root: &Path) -> Result<()> {
    // pivot_root needs the new root to be a mount point of its own.
    bind_mount(new_root, new_root)?;
    // ANCHOR: pivot_into
    // EXERCISE(pivot-root): chdir into `new_root`, pivot_root(".", "."), umount2(".", MNT_DETACH), chdir("/")
    let result = chdir(new_root);
    trace::syscall(|| format!("chdir({})", trace::quote(new_root.display())), result)
        .with_context(|| format!("enter the new root {} (chdir)", new_root.display()))?;
    // With both arguments ".", the old root ends up mounted on top of the new one...
    trace::syscall(|| "pivot_root(\".\", \".\")".to_owned(), pivot_root(".", "."))
        .with_context(|| format!("make {} the root (pivot_root)", new_root.display()))?;
    // ...so unmounting "." removes the old root and reveals the new one. MNT_DETACH:
    // the old root is busy (we hold it), so detach it now and let the kernel free it later.
    trace::syscall(|| "umount2(\".\", MNT_DETACH)".to_owned(), umount2(".", MntFlags::MNT_DETACH))
        .context("detach the old root (umount2 . MNT_DETACH)")?;
    trace::syscall(|| "chdir(\"/\")".to_owned(), chdir("/")).context("enter the new root (chdir /)")?;
    Ok(())
    // END EXERCISE
    // ANCHOR_END: pivot_into
}

/// `--no-pivot`: only changes this process's root directory. Insecure: the old root stays reachable.
pub fn chroot_into(new_root: &Path) -> Result<()> {
    let result = chdir(new_root);
    trace::syscall(|| format!("chdir({})", trace::quote(new_root.display())), result)
        .with_context(|| format!("enter the new root {} (chdir)", new_root.display()))?;
    trace::syscall(|| "chroot(\".\")".to_owned(), chroot(".")).context("change the root directory (chroot .)")?;
    trace::syscall(|| "chdir(\"/\")".to_owned(), chdir("/")).context("enter the new root (chdir /)")?;
    Ok(())
}
