//! The container's lifecycle as of chapter 5: chapter 4's, with volumes.
//!
//! `run`: check every `-v` (refused before anything exists) → chapter 4's
//! `prepare` (the options checked, the container created) → make, find or
//! fill each volume and record the container's mounts → chapter 4's
//! `launch`, whose monitor binds them into the root filesystem, in the
//! container's mount namespace, after the init layer's files and before
//! `pivot_root` (chapter 3's `Rootfs::mount` walks the list). A refused
//! run removes the container and the anonymous volumes it made. A `--rm`
//! container's anonymous volumes go with it.

use anyhow::Result;

use setns_exec::run::{Prepared, launch, prepare};
use union_rootfs::containers;
use union_rootfs::store::Store;

use crate::args::RunArgs;
use crate::mounts::provide;
use crate::spec::parse_all;
use crate::volumes;

/// `run`: chapter 4's, with the volumes made and bound.
pub fn run(store: &Store, args: &RunArgs) -> Result<i32> {
    let specs = parse_all(&args.volumes)?;
    let mut prepared = prepare(store, &args.base)?;
    let auto_remove = prepared.hostconfig.auto_remove;
    match provide(store, &prepared.container, &specs, auto_remove) {
        Ok(mounts) => prepared.hostconfig.mounts = mounts,
        Err(err) => return Err(refuse(store, &prepared, &args.base.base.cid, err)),
    }
    let ended = launch(store, prepared, args.base.detach);
    volumes::collect_removed(store)?;
    ended
}

/// Undoes a run refused after its container was created: the container, its anonymous volumes, its cidfile.
fn refuse(
    store: &Store,
    prepared: &Prepared,
    cid: &cgroup_limits::args::CidfileArgs,
    err: anyhow::Error,
) -> anyhow::Error {
    let id = &prepared.container.config.id;
    let removed = containers::remove(store, id, true).and_then(|()| volumes::remove_anonymous_of(store, id));
    cid.remove();
    match removed {
        Ok(()) => err,
        Err(cleanup) => err.context(format!("and removing the refused container failed too: {cleanup:#}")),
    }
}
