//! OCI whiteouts, turned into the overlay filesystem's own.
//!
//! A layer is a tar of what changed. Adding and changing files is plain
//! tar; deleting needs a marker. The OCI image spec marks a deleted `name`
//! with an empty file `.wh.name` beside it, and a directory whose lower
//! contents are all hidden ("opaque") with `.wh..wh..opq` inside it.
//! Overlayfs has its own markers, checked on every lookup in a lower layer:
//! a deleted file is a *character device with device number 0/0*, and an
//! opaque directory carries the xattr `trusted.overlay.opaque=y` (or
//! `user.overlay.opaque=y` for an overlay mounted in a user namespace, which
//! cannot read `trusted.*`; the store writes both, `trusted.*` only when it
//! runs as root). Unpacking converts the first into the second, so the
//! layer directory can be used as an overlay lowerdir as it is.
//!
//! The OCI spec says an opaque whiteout applies before the rest of its
//! layer: it hides the layers below, never the entries of its own layer.
//! The xattr means exactly that to overlayfs (it stops the lookup from going
//! *down*), so entries of the same layer stay visible whatever their order
//! in the tar. See the OCI image spec `layer.md` ("Whiteouts"), the kernel's
//! `Documentation/filesystems/overlayfs.rst`, `man 2 mknod`, `man 2 setxattr`.
//! Introduced in chapter 3.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use nix::errno::Errno;
use nix::sys::stat::{Mode, SFlag, makedev};
use nix::unistd::Uid;

use ns_isolation::sys;

/// The prefix of a whiteout file: `.wh.<name>` deletes `<name>`.
pub const WHITEOUT_PREFIX: &str = ".wh.";
/// The name of an opaque-directory marker.
pub const OPAQUE_MARKER: &str = ".wh..wh..opq";
/// The xattrs that make a directory opaque to overlayfs: one for the host's root, one for a user namespace.
pub const OPAQUE_XATTRS: [&str; 2] = ["trusted.overlay.opaque", "user.overlay.opaque"];

/// What a tar entry's name says, if it is a whiteout.
#[derive(Debug, PartialEq, Eq)]
pub enum Whiteout {
    /// `dir/.wh.name`: `dir/name` is deleted.
    Delete(PathBuf),
    /// `dir/.wh..wh..opq`: nothing below this layer shows through `dir`.
    Opaque(PathBuf),
}

/// Reads a (clean, relative) entry path as a whiteout, or `None` for an ordinary entry.
pub fn classify(path: &Path) -> Option<Whiteout> {
    let name = path.file_name()?.to_str()?;
    let parent = path.parent().unwrap_or(Path::new("")).to_path_buf();
    if name == OPAQUE_MARKER {
        return Some(Whiteout::Opaque(parent));
    }
    let deleted = name.strip_prefix(WHITEOUT_PREFIX)?;
    (!deleted.is_empty()).then(|| Whiteout::Delete(parent.join(deleted)))
}

/// Creates overlayfs's whiteout for `path`: a character device 0/0.
pub fn make_whiteout(path: &Path) -> Result<()> {
    // EXERCISE(whiteout): sys::mknod a character device (S_IFCHR, mode 0) with device number 0/0 at `path`
    todo!(
        "union-rootfs step 2 of 12 (whiteout): sys::mknod a character device (S_IFCHR, mode 0) with device number 0/0 at `path` — book: union-rootfs.html#whiteout"
    )
}

/// Marks `dir` opaque for overlayfs: each of [`OPAQUE_XATTRS`] set to `y`.
///
/// Only the host's root may set a `trusted.*` xattr, so an unprivileged
/// store (a rootless user's) sets the `user.*` one alone. A root store on a
/// filesystem without `user.*` xattrs (tmpfs before Linux 6.6) does without
/// it: only an overlay mounted in a user namespace would have read it.
pub fn make_opaque(dir: &Path) -> Result<()> {
    let [trusted, user] = OPAQUE_XATTRS;
    let root = Uid::effective().is_root();
    if root {
        set_opaque_xattr(dir, trusted)?;
    }
    match set_opaque_xattr(dir, user) {
        Err(err) if root && err.chain().any(|cause| cause.downcast_ref::<Errno>() == Some(&Errno::EOPNOTSUPP)) => {
            Ok(())
        }
        other => other,
    }
}

/// Sets the xattr `name` of the directory `dir` to `y`.
pub fn set_opaque_xattr(dir: &Path, name: &str) -> Result<()> {
    // EXERCISE(opaque): sys::lsetxattr `name` to "y" on `dir`
    todo!(
        "union-rootfs step 3 of 12 (opaque): sys::lsetxattr `name` to \"y\" on `dir` — book: union-rootfs.html#opaque"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whiteout_names_are_read_as_deletions() {
        assert_eq!(classify(Path::new("etc/.wh.motd")), Some(Whiteout::Delete(PathBuf::from("etc/motd"))));
        assert_eq!(classify(Path::new(".wh.app")), Some(Whiteout::Delete(PathBuf::from("app"))));
    }

    #[test]
    fn the_opaque_marker_names_its_directory() {
        assert_eq!(classify(Path::new("var/cache/.wh..wh..opq")), Some(Whiteout::Opaque(PathBuf::from("var/cache"))));
    }

    #[test]
    fn ordinary_names_are_not_whiteouts() {
        assert_eq!(classify(Path::new("etc/motd")), None);
        assert_eq!(classify(Path::new("etc/wh.motd")), None);
        assert_eq!(classify(Path::new("etc/.wh.")), None);
    }
}
