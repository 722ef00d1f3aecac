//! `COPY` and `ADD`: the context's files written into the image by overlayfs itself, then packed like a commit.
//!
//! A build step's layer is always a read-write layer: what changed over the
//! image so far. For `RUN` a container makes it; for `COPY` the runtime
//! makes it itself, the same way: a short-lived child in a mount namespace
//! of its own mounts the image's layers as the lower layers of an overlay
//! with an empty upper directory, and copies the files into the union. The
//! overlay does the rest as it does for a container: a directory the image
//! has is copied up (keeping its owner and mode) before a file goes in it,
//! and a symlink in the image is followed inside the root (chapter 3's
//! `resolve_in_root`), never out of it. Then the upper directory is packed
//! as `commit` packs a container's (`blob.rs`).
//!
//! What `COPY src... dest` does, as Docker: a directory's *content* is
//! copied, not the directory; a file goes to `dest` itself, or into it if
//! `dest` ends with `/`, is a directory already, or there are several
//! sources; a relative `dest` is under the WORKDIR; missing directories are
//! made; the files keep their modes and times, and belong to root (0:0).
//! `ADD` is `COPY` here: no URLs, and a local tar archive is copied as it
//! is, not unpacked. Introduced in chapter 6.

use std::fs;
use std::os::unix::fs::{PermissionsExt, lchown, symlink};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use nix::fcntl::AT_FDCWD;
use nix::mount::MsFlags;
use nix::sched::CloneFlags;
use nix::sys::stat::{UtimensatFlags, utimensat};
use nix::sys::time::TimeSpec;
use nix::sys::wait::WaitStatus;
use nix::unistd::Uid;
use std::os::unix::fs::MetadataExt;

use ns_isolation::clone::clone_child;
use ns_isolation::lifecycle::Started;
use ns_isolation::{mounts, sys, userns, wait};
use union_rootfs::image::Image;
use union_rootfs::in_root::resolve_in_root;
use union_rootfs::layer;
use union_rootfs::store::Store;

use crate::blob::{Blob, write_blob};
use crate::context::{BuildContext, ContextFile};

/// The files of one `COPY`: each source (a clean path in the context) with the files it names.
#[derive(Debug)]
pub struct CopySources {
    /// Each source and its files (the first is the source itself, then what is under it).
    pub sources: Vec<(PathBuf, Vec<ContextFile>)>,
}

/// Makes the layer of `COPY sources destination` over `image`, as a blob under `staging`.
pub fn copy_layer(
    store: &Store,
    image: &Image,
    context: &BuildContext,
    sources: &CopySources,
    destination: &Path,
    staging: &Path,
) -> Result<Blob> {
    let layers = image.chain_ids.iter().map(|chain| layer::diff_dir(store, chain)).collect::<Result<Vec<_>>>()?;
    let (upper, work, merged, empty) =
        (staging.join("upper"), staging.join("work"), staging.join("merged"), staging.join("empty"));
    for dir in [&upper, &work, &merged, &empty] {
        fs::create_dir(dir).with_context(|| format!("create {}", dir.display()))?;
    }
    let lower = if layers.is_empty() { vec![empty.clone()] } else { layers };
    let rootless = !Uid::effective().is_root();
    let flags = if rootless { CloneFlags::CLONE_NEWUSER | CloneFlags::CLONE_NEWNS } else { CloneFlags::CLONE_NEWNS };
    wait::block_signals()?;
    let child = clone_child(flags, || {
        mounts::make_mounts_private()?;
        mount_union(&lower, &upper, &work, &merged, rootless)?;
        copy_sources(context, sources, &merged, destination)?;
        // SAFETY: `_exit` ends the process at once; it has no preconditions.
        unsafe { libc::_exit(0) }
    })?;
    let maps = if rootless { userns::map_caller_to_root(child.pid) } else { Ok(()) };
    match Started::release(child, maps)?.wait()? {
        WaitStatus::Exited(_, 0) => {}
        other => bail!("copying into the image ended with {other:?}"),
    }
    write_blob(&upper, &staging.join("layer.tar.gz"))
}

/// Mounts the union of `lower` (bottom first) with the writable `upper` on `merged`.
fn mount_union(lower: &[PathBuf], upper: &Path, work: &Path, merged: &Path, userxattr: bool) -> Result<()> {
    let lower: Vec<String> = lower.iter().rev().map(|dir| dir.display().to_string()).collect();
    let mut options = format!("lowerdir={},upperdir={},workdir={}", lower.join(":"), upper.display(), work.display());
    if userxattr {
        options.push_str(",userxattr");
    }
    sys::mount(Some("overlay"), merged, Some("overlay"), MsFlags::empty(), Some(&options))
        .with_context(|| format!("mount the image's layers with an empty upper layer on {}", merged.display()))
}

/// Copies every source into the union at `root`, as `COPY` places them.
fn copy_sources(context: &BuildContext, sources: &CopySources, root: &Path, destination: &Path) -> Result<()> {
    let into_directory = destination.as_os_str().as_encoded_bytes().ends_with(b"/")
        || sources.sources.len() > 1
        || resolve_in_root(root, destination)?.is_dir();
    for (source, files) in &sources.sources {
        let Some(first) = files.first() else { continue };
        // A directory's content goes to the destination; a file goes into it, or becomes it.
        let target = match (first.meta.is_dir(), into_directory) {
            (true, _) => destination.to_path_buf(),
            (false, true) => destination.join(source.file_name().unwrap_or_default()),
            (false, false) => destination.to_path_buf(),
        };
        for file in files {
            let inside = match file.relative.strip_prefix(source) {
                Ok(rest) if rest.as_os_str().is_empty() => target.clone(),
                Ok(rest) => target.join(rest),
                Err(_) => continue,
            };
            copy_one(&context.root.join(&file.relative), file, root, &inside)?;
        }
    }
    Ok(())
}

/// Copies one file, directory or symlink of the context to `inside` (a path in the container), root-owned.
fn copy_one(from: &Path, file: &ContextFile, root: &Path, inside: &Path) -> Result<()> {
    let to = resolve_in_root(root, inside)?;
    if let Some(parent) = to.parent() {
        fs::create_dir_all(parent).with_context(|| format!("create {}", parent.display()))?;
    }
    let kind = file.meta.file_type();
    if kind.is_dir() {
        match fs::create_dir(&to) {
            Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists && to.is_dir() => {}
            other => other.with_context(|| format!("create {}", to.display()))?,
        }
    } else if kind.is_symlink() {
        let target = fs::read_link(from).with_context(|| format!("read the symlink {}", from.display()))?;
        let _ = fs::remove_file(&to);
        symlink(&target, &to).with_context(|| format!("create the symlink {}", to.display()))?;
    } else if kind.is_file() {
        fs::copy(from, &to).with_context(|| format!("copy {} to {}", from.display(), to.display()))?;
    } else {
        bail!("COPY failed: {} is neither a file, a directory nor a symlink", file.relative.display());
    }
    lchown(&to, Some(0), Some(0)).with_context(|| format!("chown {}", to.display()))?;
    if !kind.is_symlink() {
        fs::set_permissions(&to, fs::Permissions::from_mode(file.meta.mode() & 0o7777))
            .with_context(|| format!("chmod {}", to.display()))?;
    }
    let modified = TimeSpec::new(file.meta.mtime(), file.meta.mtime_nsec());
    utimensat(AT_FDCWD, &to, &modified, &modified, UtimensatFlags::NoFollowSymlink)
        .with_context(|| format!("set the times of {}", to.display()))
}
