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
//! the volume, and exits. Its mount namespace, and the overlay with it,
//! vanish when it does. Introduced in chapter 5.

use std::path::{Path, PathBuf};

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

use crate::copy::copy_tree;
use crate::volumes::is_empty;

/// Copies into `data` what the image of `container` has at `destination`, if it has a directory with content there.
pub fn copy_image_content(store: &Store, container: &Container, destination: &Path, data: &Path) -> Result<()> {
    let image = image::read_image(store, &container.config.image_id)?;
    let layers = image.chain_ids.iter().map(|chain| layer::diff_dir(store, chain)).collect::<Result<Vec<_>>>()?;
    let view = store.temp_dir(".image-view-")?;
    let rootless = !Uid::effective().is_root();
    let flags = if rootless { CloneFlags::CLONE_NEWUSER | CloneFlags::CLONE_NEWNS } else { CloneFlags::CLONE_NEWNS };
    // As for every child the runtime waits for: its SIGCHLD must wait for `sigwait`, not be lost (chapter 1).
    wait::block_signals()?;
    let child = clone_child(flags, || {
        mounts::make_mounts_private()?;
        let root = mount_layers(&layers, view.path(), rootless)?;
        let source = resolve_in_root(&root, destination)?;
        if source.is_dir() && !is_empty(&source)? {
            copy_tree(&source, data)?;
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
