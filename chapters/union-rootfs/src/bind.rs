//! Bind mounts: the same file or directory, seen at a second place.
//!
//! `mount --bind A B` makes `B` show `A`'s inode; what is written through
//! `B` lands in `A`. A bind mount made in the container's mount namespace,
//! into its root, before `pivot_root`, is how a host file or directory gets
//! *into* a container: the init layer's `/etc/hosts` (chapter 3), a volume
//! (chapter 5). The host never sees the mount: it lives in the container's
//! mount namespace, made private first. A container's binds are data, a
//! list of [`Bind`]s the root filesystem walks ([`crate::rootfs::Rootfs`]),
//! as runc walks its config's `mounts`. The runtime also binds a path onto
//! itself, before `pivot_root` and to make a path read-only.
//! See `man 2 mount` (MS_BIND, MS_REMOUNT), `man 8 mount` ("bind mount
//! operation"). Introduced in chapter 3.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use nix::mount::MsFlags;
use nix::sys::statvfs::{FsFlags, statvfs};

use ns_isolation::sys;

use crate::in_root::make_mountpoint;

/// A bind mount into the container's root: `source` on the host shows at `destination` inside.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bind {
    /// A file or directory on the host.
    pub source: PathBuf,
    /// Where it shows in the container: an absolute path, resolved inside the container's root.
    pub destination: PathBuf,
    /// Whether the container may only read it (`:ro`).
    pub readonly: bool,
}

impl Bind {
    /// Makes the bind in the root mounted at `root` (before `pivot_root`).
    ///
    /// The mountpoint is resolved inside the root, and made there (a
    /// directory, or an empty file for a file) if the image lacks it.
    pub fn apply(&self, root: &Path) -> Result<()> {
        let file = !self.source.is_dir();
        let target = make_mountpoint(root, &self.destination, file)?;
        bind_mount(&self.source, &target)?;
        if self.readonly {
            remount_read_only(&target, locked_flags(&self.source)?)?;
        }
        Ok(())
    }
}

/// The path as UTF-8, which `mount(2)` sources in this runtime always are.
pub fn utf8(path: &Path) -> Result<&str> {
    path.to_str().with_context(|| format!("the path {} is not UTF-8", path.display()))
}

/// Binds `source` onto `target` (recursively: submounts come along).
pub fn bind_mount(source: &Path, target: &Path) -> Result<()> {
    let source_text = utf8(source)?;
    // EXERCISE(bind-mount): sys::mount source on target, fstype "bind", flags MS_BIND | MS_REC, no data
    todo!(
        "union-rootfs step 10 of 12 (bind-mount): sys::mount source on target, fstype \"bind\", flags MS_BIND | MS_REC, no data — book: union-rootfs.html#bind-mount"
    )
}

/// Makes the bind mount at `target` read-only, keeping `keep`, flags that must stay set.
///
/// A bind mount's flags can only be changed by remounting it: the first
/// `mount` creates it with the source's flags, this one changes them. The
/// flags the source was mounted with (`nosuid`, `nodev`, `noexec`) must be
/// given again, or the kernel refuses to clear them: they are *locked* when
/// the mount came from a more privileged mount namespace.
pub fn remount_read_only(target: &Path, keep: MsFlags) -> Result<()> {
    let flags = MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY | keep;
    sys::mount(Some(utf8(target)?), target, Some("bind"), flags, None)
        .with_context(|| format!("remount {} read-only", target.display()))
}

/// The `nosuid`, `nodev` and `noexec` flags of the mount `path` is on (`statvfs(3)`).
pub fn locked_flags(path: &Path) -> Result<MsFlags> {
    let flags = statvfs(path).with_context(|| format!("read the mount flags of {} (statvfs)", path.display()))?.flags();
    let pairs = [
        (FsFlags::ST_NOSUID, MsFlags::MS_NOSUID),
        (FsFlags::ST_NODEV, MsFlags::MS_NODEV),
        (FsFlags::ST_NOEXEC, MsFlags::MS_NOEXEC),
    ];
    Ok(pairs.into_iter().filter(|(st, _)| flags.contains(*st)).fold(MsFlags::empty(), |all, (_, ms)| all | ms))
}
