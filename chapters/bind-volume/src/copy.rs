//! copyData: an empty volume takes what the image has at its mountpoint.
//!
//! When a container mounts an empty volume (named or anonymous) over a
//! directory the image has content in, Docker first copies that content
//! into the volume, once: a database image's `/var/lib/db` with its default
//! files becomes a volume that holds them, and keeps what the container
//! writes. A bind mount of a host directory copies nothing: the host's
//! directory simply hides the image's (the lesson's `-v /home:/test`, and
//! the learner who found the lesson's second thought question answered the
//! wrong way round in the comments). The copy keeps what a file is: its
//! content, its mode, its owner, its times; a symlink stays a symlink.
//! See `man 2 lchown`, `man 2 utimensat`. Introduced in chapter 5.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt, lchown, symlink};
use std::path::Path;

use anyhow::{Context, Result};
use nix::fcntl::AT_FDCWD;
use nix::sys::stat::{UtimensatFlags, utimensat};
use nix::sys::time::TimeSpec;
use nix::unistd::Uid;

/// Copies the content of directory `from` into the existing directory `to`, keeping what each entry is.
pub fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    for entry in fs::read_dir(from).with_context(|| format!("read {}", from.display()))? {
        let entry = entry.with_context(|| format!("read {}", from.display()))?;
        copy_entry(&entry.path(), &to.join(entry.file_name()))?;
    }
    Ok(())
}

/// Copies one entry: a directory with everything in it, a file, or a symlink, then its owner and times.
pub fn copy_entry(from: &Path, to: &Path) -> Result<()> {
    let meta = fs::symlink_metadata(from).with_context(|| format!("look at {}", from.display()))?;
    // EXERCISE(copy-data): a directory: create it and copy_tree into it; a symlink: the same link; a file: fs::copy. Then keep_metadata
    todo!(
        "bind-volume step 3 of 5 (copy-data): a directory: create it and copy_tree into it; a symlink: the same link; a file: fs::copy. Then keep_metadata — book: bind-volume.html#copy-data"
    )
}

/// Gives `to` the owner, mode and times of `meta` (not following a symlink).
pub fn keep_metadata(meta: &fs::Metadata, to: &Path) -> Result<()> {
    // Only root may give a file away; a rootless volume's files are its user's, root inside.
    if Uid::effective().is_root() {
        lchown(to, Some(meta.uid()), Some(meta.gid())).with_context(|| format!("chown {}", to.display()))?;
    }
    if !meta.file_type().is_symlink() {
        // After chown, which clears set-user-id bits.
        fs::set_permissions(to, fs::Permissions::from_mode(meta.mode() & 0o7777))
            .with_context(|| format!("chmod {}", to.display()))?;
    }
    let accessed = TimeSpec::new(meta.atime(), meta.atime_nsec());
    let modified = TimeSpec::new(meta.mtime(), meta.mtime_nsec());
    utimensat(AT_FDCWD, to, &accessed, &modified, UtimensatFlags::NoFollowSymlink)
        .with_context(|| format!("set the times of {}", to.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tree_keeps_its_files_links_modes_and_times() {
        let from = tempfile::tempdir().unwrap();
        fs::create_dir(from.path().join("sub")).unwrap();
        fs::write(from.path().join("sub/file"), "content").unwrap();
        fs::set_permissions(from.path().join("sub/file"), fs::Permissions::from_mode(0o640)).unwrap();
        symlink("sub/file", from.path().join("link")).unwrap();
        let old = TimeSpec::new(1_536_569_983, 0);
        utimensat(AT_FDCWD, &from.path().join("sub/file"), &old, &old, UtimensatFlags::NoFollowSymlink).unwrap();
        let to = tempfile::tempdir().unwrap();
        copy_tree(from.path(), to.path()).unwrap();
        let meta = fs::metadata(to.path().join("sub/file")).unwrap();
        assert_eq!(
            (fs::read_to_string(to.path().join("sub/file")).unwrap().as_str(), meta.mode() & 0o777),
            ("content", 0o640)
        );
        assert_eq!(meta.mtime(), 1_536_569_983);
        assert_eq!(fs::read_link(to.path().join("link")).unwrap(), Path::new("sub/file"));
    }
}
