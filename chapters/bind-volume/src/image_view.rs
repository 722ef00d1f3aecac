//! What the image has at a path: read from its layers, mounted read-only in a mount namespace of their own.
//!
//! copyData needs the image's content at the volume's mountpoint, as the
//! container would see it: the union of the image's layers, whiteouts and
//! opaque directories applied. Only overlayfs computes that union, and a
//! mount must not reach the host: so the runtime clones a short-lived child
//! into a new mount namespace (chapter 1's `clone_child`; with a user
//! namespace too, for a rootless store), which makes its mounts private,
//! mounts the image's layers as a read-only overlay (lower layers only, no
//! upper: nothing can be written), copies what is at the mountpoint into
//! the volume, gives the volume the directory's owner, mode and times (as
//! Docker does: a database's data directory stays its user's), and exits.
//! Its mount namespace, and the overlay with it, vanish when it does.
//!
//! Most mountpoints are paths the image does not have (`-v /test`), and
//! that needs no overlay to know: the union has an entry only where one of
//! its layers has one, so when no layer has some directory on the way, no
//! child is cloned at all. A new mount namespace costs a few milliseconds
//! to make and to tear down; a `stat` per layer costs microseconds.
//! Introduced in chapter 5.

use std::fs;
use std::io::ErrorKind;
use std::path::{Component, Path, PathBuf};

use anyhow::{Context, Result, bail};
use nix::mount::MsFlags;
use nix::sched::CloneFlags;
use nix::sys::wait::WaitStatus;
use nix::unistd::Uid;

use ns_isolation::clone::clone_child;
use ns_isolation::lifecycle::Started;
use ns_isolation::{mounts, sys, userns, wait};
use union_rootfs::containers::Container;
use union_rootfs::in_root::resolve_in_root;
use union_rootfs::store::Store;
use union_rootfs::{image, layer};

use crate::copy::{copy_tree, keep_metadata};

/// Copies into `data` what the image of `container` has at `destination`, if it has a directory there, and gives
/// `data` that directory's owner, mode and times.
pub fn copy_image_content(store: &Store, container: &Container, destination: &Path, data: &Path) -> Result<()> {
    let image = image::read_image(store, &container.config.image_id)?;
    let layers = image.chain_ids.iter().map(|chain| layer::diff_dir(store, chain)).collect::<Result<Vec<_>>>()?;
    if !some_layer_has(&layers, destination) {
        return Ok(());
    }
    let view = store.temp_dir(".image-view-")?;
    let rootless = !Uid::effective().is_root();
    let flags = if rootless { CloneFlags::CLONE_NEWUSER | CloneFlags::CLONE_NEWNS } else { CloneFlags::CLONE_NEWNS };
    // As for every child the runtime waits for: its SIGCHLD must wait for `sigwait`, not be lost (chapter 1).
    wait::block_signals()?;
    let child = clone_child(flags, || {
        mounts::make_mounts_private()?;
        let root = mount_layers(&layers, view.path(), rootless)?;
        let source = resolve_in_root(&root, destination)?;
        if source.is_dir() {
            copy_tree(&source, data)?;
            // The volume itself takes the directory's owner, mode and times, as Docker's does:
            // a database's data directory, its user's and mode 700 in the image, stays so.
            let meta = fs::symlink_metadata(&source).with_context(|| format!("look at {}", source.display()))?;
            keep_metadata(&meta, data)?;
        }
        // `_exit`, not `exit`: the child must not flush the parent's buffers a second time (man 2 _exit).
        // SAFETY: `_exit` ends the process at once; it has no preconditions.
        unsafe { libc::_exit(0) }
    })?;
    let maps = if rootless { userns::map_caller_to_root(child.pid) } else { Ok(()) };
    match Started::release(child, maps)?.wait()? {
        WaitStatus::Exited(_, 0) => Ok(()),
        other => bail!("copying the image's {} into the volume ended with {other:?}", destination.display()),
    }
}

/// Whether the union of `layers` may have something at `destination`; `false` only when it surely has not.
///
/// Walks the path one directory at a time: when no layer has the next
/// component, neither has the union, nor anything under it. A symlink, a
/// file or a whiteout on the way (anything but a directory), or a path that
/// cannot be looked at, is left to the overlay to resolve: `true`.
fn some_layer_has(layers: &[PathBuf], destination: &Path) -> bool {
    let mut path = PathBuf::new();
    for component in destination.components() {
        let Component::Normal(name) = component else { continue };
        path.push(name);
        let mut directory = false;
        for layer in layers {
            match fs::symlink_metadata(layer.join(&path)) {
                Ok(meta) if meta.is_dir() => directory = true,
                Err(err) if err.kind() == ErrorKind::NotFound => {}
                _ => return true,
            }
        }
        if !directory {
            return false;
        }
    }
    true
}

/// Mounts `layers` (bottom first) read-only on `target`; a single layer is its own directory, no mount needed.
fn mount_layers(layers: &[PathBuf], target: &Path, userxattr: bool) -> Result<PathBuf> {
    match layers {
        [] => bail!("the image has no layer"),
        [only] => Ok(only.clone()),
        _ => {
            let lower: Vec<String> = layers.iter().rev().map(|dir| dir.display().to_string()).collect();
            let mut options = format!("lowerdir={}", lower.join(":"));
            if userxattr {
                options.push_str(",userxattr");
            }
            sys::mount(Some("overlay"), target, Some("overlay"), MsFlags::MS_RDONLY, Some(&options))
                .with_context(|| format!("mount the image's layers read-only on {}", target.display()))?;
            Ok(target.to_path_buf())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn no_mount_is_needed_to_know_that_no_layer_has_a_path() {
        let (bottom, top) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        fs::create_dir_all(bottom.path().join("var/lib")).unwrap();
        fs::create_dir_all(top.path().join("app")).unwrap();
        symlink("/app", top.path().join("link")).unwrap();
        let layers = [bottom.path().to_path_buf(), top.path().to_path_buf()];
        for absent in ["/test", "/var/lib/db", "/app/data/deeper"] {
            assert!(!some_layer_has(&layers, Path::new(absent)), "{absent}");
        }
        for maybe in ["/var/lib", "/app", "/link/data"] {
            assert!(some_layer_has(&layers, Path::new(maybe)), "{maybe}");
        }
    }
}
