//! From `-v` to bind mounts: each volume made (or found), filled, and recorded as one of the container's mounts.
//!
//! A volume is no new kernel object: it is a directory of the store, and
//! the container gets it by a bind mount, made in its own mount namespace
//! after its root filesystem is mounted and before `pivot_root` (chapter
//! 3's `Rootfs::mount` walks the container's binds there, in order). So
//! this chapter only decides, before the container starts, which directory
//! goes where: a host path as it is (a missing directory is made, as
//! Docker's `-v` does), a named volume (made on first use), a new anonymous
//! one; an empty volume first takes the image's content (`copy.rs`), unless
//! `:nocopy`. The mounts are kept in the container's `hostconfig.json`
//! (chapter 4), so `start` mounts them again, and `inspect` shows them.
//! Introduced in chapter 5.

use std::fs;

use anyhow::{Context, Result};

use setns_exec::hostconfig::MountRecord;
use union_rootfs::containers::Container;
use union_rootfs::store::Store;

use crate::image_view::copy_image_content;
use crate::spec::{Source, VolumeSpec};
use crate::volumes::{self, Volume, is_empty};

/// Makes what each of `specs` needs, and returns the container's mounts, in order.
pub fn provide(
    store: &Store,
    container: &Container,
    specs: &[VolumeSpec],
    auto_remove: bool,
) -> Result<Vec<MountRecord>> {
    specs.iter().map(|spec| provide_one(store, container, spec, auto_remove)).collect()
}

fn provide_one(store: &Store, container: &Container, spec: &VolumeSpec, auto_remove: bool) -> Result<MountRecord> {
    let volume = match &spec.source {
        Source::Host(path) => {
            if !path.exists() {
                fs::create_dir_all(path).with_context(|| format!("create the host directory {}", path.display()))?;
            }
            None
        }
        Source::Named(name) => Some(volumes::create(store, name, None, false)?),
        Source::Anonymous => Some(volumes::create_anonymous(store, &container.config.id, auto_remove)?),
    };
    if let Some(volume) = &volume
        && !spec.nocopy
        && is_empty(&volume.data(store))?
    {
        copy_image_content(store, container, &spec.destination, &volume.data(store))?;
    }
    Ok(record(store, spec, volume.as_ref()))
}

/// The mount that puts `spec` in the container: its kind, its source on the host, its destination, read-write or not.
pub fn record(store: &Store, spec: &VolumeSpec, volume: Option<&Volume>) -> MountRecord {
    // ANCHOR: record
    // EXERCISE(volume-mounts): a volume's source is its _data directory (kind "volume", with its name); a host path's is itself (kind "bind"); rw unless readonly
    let (kind, name, source) = match (volume, &spec.source) {
        (Some(volume), _) => ("volume", Some(volume.name.clone()), volume.data(store)),
        (None, Source::Host(path)) => ("bind", None, path.clone()),
        (None, _) => unreachable!("a volume's spec always comes with its volume"),
    };
    MountRecord { kind: kind.to_owned(), name, source, destination: spec.destination.clone(), rw: !spec.readonly }
    // END EXERCISE
    // ANCHOR_END: record
}
