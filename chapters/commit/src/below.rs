//! What the layers below show at a path: overlayfs's own lookup, done by hand.
//!
//! `diff` must tell a file the container *added* from one it *changed*, and
//! both are simply files in `upper/`: the difference is whether the layers
//! below had something at that path. Below means as overlayfs sees it, not
//! as a `stat` of each layer would: a layer hides everything under a path
//! with a whiteout there (a 0/0 character device), with a file there (a
//! file is not a directory to look into), or with an opaque directory on
//! the way (`trusted.overlay.opaque=y`: nothing deeper shows through it).
//! So the lookup walks the layers top first and, in each, the path one
//! component at a time, and stops at the first layer that decides. See the
//! kernel's `Documentation/filesystems/overlayfs.rst` ("whiteouts and
//! opaque directories"). Introduced in chapter 6.

use std::fs::{self, Metadata};
use std::io::ErrorKind;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Component, Path, PathBuf};

use anyhow::{Context, Result};
use union_rootfs::whiteout::OPAQUE_XATTRS;

use crate::xattr;

/// What one layer says about a path.
#[derive(Debug)]
enum Verdict {
    /// It has the path: this is what the union shows.
    Found(Metadata),
    /// It hides the path from every layer under it.
    Hidden,
    /// It says nothing: look in the next layer down.
    Silent,
}

/// What the union of `layers` (top first) has at `path`, relative to their roots; `None` if nothing.
pub fn lookup(layers: &[PathBuf], path: &Path) -> Result<Option<Metadata>> {
    for layer in layers {
        match look_in(layer, path)? {
            Verdict::Found(meta) => return Ok(Some(meta)),
            Verdict::Hidden => return Ok(None),
            Verdict::Silent => {}
        }
    }
    Ok(None)
}

/// Whether `meta` is overlayfs's whiteout: a character device with device number 0/0.
pub fn is_whiteout(meta: &Metadata) -> bool {
    meta.file_type().is_char_device() && meta.rdev() == 0
}

/// Whether the directory `dir` is opaque: it hides whatever the layers below have in it.
pub fn is_opaque(dir: &Path) -> Result<bool> {
    for name in OPAQUE_XATTRS {
        if xattr::get(dir, name)?.as_deref() == Some(b"y") {
            return Ok(true);
        }
    }
    Ok(false)
}

/// One layer's verdict on `path`: each directory on the way, then the path itself.
fn look_in(layer: &Path, path: &Path) -> Result<Verdict> {
    // EXERCISE(lower-lookup): walk the components: absent → Silent (Hidden if an opaque dir was passed), a whiteout or a non-directory on the way → Hidden; at the end a whiteout → Hidden, else Found
    todo!(
        "commit step 1 of 9 (lower-lookup): walk the components: absent → Silent (Hidden if an opaque dir was passed), a whiteout or a non-directory on the way → Hidden; at the end a whiteout → Hidden, else Found — book: commit.html#lower-lookup"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use nix::sys::stat::{Mode, SFlag, makedev, mknod};

    fn layer_with(files: &[&str]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for file in files {
            let path = dir.path().join(file);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            if file.ends_with('/') {
                fs::create_dir_all(&path).unwrap();
            } else {
                fs::write(&path, file).unwrap();
            }
        }
        dir
    }

    #[test]
    fn the_top_layer_that_has_a_path_decides() {
        let base = layer_with(&["etc/motd", "app/hello"]);
        let top = layer_with(&["app/hello"]);
        let layers = [top.path().to_path_buf(), base.path().to_path_buf()];
        let found = |path: &str| lookup(&layers, Path::new(path)).unwrap().map(|meta| meta.len());
        assert_eq!(found("etc/motd"), Some("etc/motd".len() as u64));
        assert_eq!(found("app/hello"), Some("app/hello".len() as u64));
        assert_eq!(found("app/nothing"), None);
        assert_eq!(found("tmp"), None);
    }

    #[test]
    fn a_file_on_the_way_hides_the_directories_below() {
        let base = layer_with(&["app/hello"]);
        let top = layer_with(&["app"]);
        let layers = [top.path().to_path_buf(), base.path().to_path_buf()];
        assert!(lookup(&layers, Path::new("app/hello")).unwrap().is_none());
    }

    #[test]
    fn whiteouts_and_opaque_directories_hide_what_is_below() {
        rebox_support::require_root("mknod of a 0/0 device, trusted.* xattrs");
        let base = layer_with(&["etc/motd", "var/cache/old"]);
        let top = layer_with(&["var/cache/new"]);
        fs::create_dir(top.path().join("etc")).unwrap();
        mknod(&top.path().join("etc/motd"), SFlag::S_IFCHR, Mode::empty(), makedev(0, 0)).unwrap();
        union_rootfs::whiteout::make_opaque(&top.path().join("var/cache")).unwrap();
        let layers = [top.path().to_path_buf(), base.path().to_path_buf()];
        assert!(lookup(&layers, Path::new("etc/motd")).unwrap().is_none(), "a whiteout hides it");
        assert!(lookup(&layers, Path::new("var/cache/old")).unwrap().is_none(), "the opaque directory hides it");
        assert!(lookup(&layers, Path::new("var/cache/new")).unwrap().is_some());
        assert!(lookup(&layers, Path::new("var/cache")).unwrap().is_some_and(|meta| meta.is_dir()));
    }
}
