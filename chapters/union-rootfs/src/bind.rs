//! Bind mounts: the same file or directory, seen at a second place.
//!
//! `mount --bind A B` makes `B` show `A`'s inode; what is written through
//! `B` lands in `A`. Chapter 3 uses it for the init layer's files, for the
//! new root onto itself before `pivot_root`, and for read-only and masked
//! paths. See `man 2 mount` (MS_BIND, MS_REMOUNT). Introduced in chapter 3;
//! chapter 5's volumes are bind mounts too.

use std::path::Path;

use anyhow::{Context, Result};
use nix::mount::MsFlags;

use ns_isolation::mounts::traced_mount;

/// The path as UTF-8, which `mount(2)` sources in this runtime always are.
pub fn utf8(path: &Path) -> Result<&str> {
    path.to_str().with_context(|| format!("the path {} is not UTF-8", path.display()))
}

/// Binds `source` onto `target` (recursively: submounts come along).
pub fn bind_mount(source: &Path, target: &Path) -> Result<()> {
    traced_mount(utf8(source)?, target, "bind", MsFlags::MS_BIND | MsFlags::MS_REC, None)
        .with_context(|| format!("bind mount {} on {}", source.display(), target.display()))
}

/// Makes the bind mount at `target` read-only, keeping `extra` flags that must stay set.
///
/// A bind mount's flags can only be changed by remounting it: the first
/// `mount` creates it with the source's flags, this one changes them.
pub fn remount_read_only(target: &Path, extra: MsFlags) -> Result<()> {
    let flags = MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY | extra;
    traced_mount(utf8(target)?, target, "bind", flags, None)
        .with_context(|| format!("remount {} read-only", target.display()))
}
