//! `diff`: what a container added, changed and deleted, read from its read-write layer.
//!
//! Everything a container writes lands in its `upper/` directory, and only
//! there: the image's layers are never touched. So `upper/` *is* the
//! change, and reading it gives Docker's `A`/`C`/`D` lines. A whiteout (a
//! 0/0 character device) is a deletion. An opaque directory that the
//! layers below also have is the old directory deleted and a new one made
//! in its place (`rm -rf dir; mkdir dir`): a deletion, and what is in it
//! now is added. Anything else is added if the layers below have nothing
//! at its path ([`below::lookup`]), changed otherwise; a directory that is
//! in `upper/` only because something under it changed, and whose own size,
//! mode and modification time are those below, is not a change itself.
//! When something is added or deleted, its directory is reported changed
//! (its listing is), just before it. The walk goes in name order, parents
//! first, which is the order Docker prints.
//!
//! What `diff` never shows: the init layer's files (`/etc/hosts` and
//! friends are bind mounts of files outside the overlay, so writing them
//! changes nothing in `upper/`) and a volume's content (a bind mount of a
//! directory outside it). A volume's *mountpoint* is made in the root
//! filesystem, so it shows, as `A /test`. Docker's
//! `daemon/graphdriver/overlay2` reads changes the same way
//! (`archive.OverlayChanges`). Introduced in chapter 6.

use std::collections::BTreeSet;
use std::fmt;
use std::fs::Metadata;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::below::{self, is_opaque, is_whiteout};
use crate::walk;

/// What happened to a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `A`: the layers below have nothing there.
    Added,
    /// `C`: the layers below have something there, which the container changed.
    Changed,
    /// `D`: the container deleted what the layers below have there.
    Deleted,
}

/// One line of `diff`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// What happened.
    pub kind: Kind,
    /// The path in the container, absolute.
    pub path: PathBuf,
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let letter = match self.kind {
            Kind::Added => 'A',
            Kind::Changed => 'C',
            Kind::Deleted => 'D',
        };
        write!(f, "{letter} {}", self.path.display())
    }
}

/// The changes in `upper` over `lower` (the layers below it, top first), in the order Docker prints them.
pub fn changes(upper: &Path, lower: &[PathBuf]) -> Result<Vec<Change>> {
    let mut walk = Walk { upper, lower, changes: Vec::new(), reported_dirs: BTreeSet::new() };
    walk::walk(upper, |path, meta| walk.entry(path, meta))?;
    Ok(walk.changes)
}

/// The state of one walk of `upper/`.
struct Walk<'a> {
    upper: &'a Path,
    lower: &'a [PathBuf],
    changes: Vec<Change>,
    /// Directories already reported, or walked as changes: their parents need no `C` line of their own.
    reported_dirs: BTreeSet<PathBuf>,
}

impl Walk<'_> {
    /// Reports one entry of `upper/`, and its directory before it if that is news.
    fn entry(&mut self, path: &Path, meta: &Metadata) -> Result<()> {
        let Some(kind) = self.kind(path, meta)? else { return Ok(()) };
        if meta.is_dir() {
            self.reported_dirs.insert(path.to_path_buf());
        }
        if kind != Kind::Changed
            && let Some(parent) = path.parent().filter(|parent| !parent.as_os_str().is_empty())
            && self.reported_dirs.insert(parent.to_path_buf())
        {
            self.changes.push(Change { kind: Kind::Changed, path: Path::new("/").join(parent) });
        }
        self.changes.push(Change { kind, path: Path::new("/").join(path) });
        Ok(())
    }

    /// What the entry at `path` of `upper/` is a change of; `None` for a directory that is only on the way.
    fn kind(&self, path: &Path, meta: &Metadata) -> Result<Option<Kind>> {
        // EXERCISE(diff): a whiteout is Deleted; an opaque directory with something below is Deleted; nothing below is Added; a directory the same as below is None; else Changed
        todo!(
            "commit step 2 of 9 (diff): a whiteout is Deleted; an opaque directory with something below is Deleted; nothing below is Added; a directory the same as below is None; else Changed — book: commit.html#diff"
        )
    }
}

/// Whether two directories look the same: size, mode and modification time (a time without nanoseconds matches any).
fn same_directory(a: &Metadata, b: &Metadata) -> bool {
    let same_time =
        a.mtime() == b.mtime() && (a.mtime_nsec() == b.mtime_nsec() || a.mtime_nsec() == 0 || b.mtime_nsec() == 0);
    a.size() == b.size() && a.mode() == b.mode() && same_time
}

#[cfg(test)]
mod tests {
    use super::*;
    use nix::sys::stat::{Mode, SFlag, makedev, mknod};
    use std::fs;

    fn write(root: &Path, file: &str) {
        let path = root.join(file);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, file).unwrap();
    }

    fn lines(changes: &[Change]) -> Vec<String> {
        changes.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn added_files_bring_their_changed_directory_first() {
        let (image, upper) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        write(image.path(), "etc/motd");
        write(upper.path(), "etc/new.conf");
        write(upper.path(), "app/test.txt");
        let changes = changes(upper.path(), &[image.path().to_path_buf()]).unwrap();
        assert_eq!(lines(&changes), ["A /app", "A /app/test.txt", "C /etc", "A /etc/new.conf"]);
    }

    #[test]
    fn a_changed_file_is_c_and_a_whiteout_or_a_replaced_directory_is_d() {
        rebox_support::require_root("mknod of a 0/0 device, trusted.* xattrs");
        let (image, upper) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        for file in ["etc/motd", "etc/passwd", "var/cache/old"] {
            write(image.path(), file);
        }
        write(upper.path(), "etc/passwd");
        mknod(&upper.path().join("etc/motd"), SFlag::S_IFCHR, Mode::empty(), makedev(0, 0)).unwrap();
        write(upper.path(), "var/cache/new");
        union_rootfs::whiteout::make_opaque(&upper.path().join("var/cache")).unwrap();
        let changes = changes(upper.path(), &[image.path().to_path_buf()]).unwrap();
        assert_eq!(
            lines(&changes),
            ["C /etc", "D /etc/motd", "C /etc/passwd", "C /var", "D /var/cache", "A /var/cache/new"]
        );
    }
}
