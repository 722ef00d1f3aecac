//! The container's root filesystem, in the order the child sets it up.
//!
//! Two phases, both in the child, inside its own mount namespace (made
//! private first, so none of it reaches the host):
//!
//! - [`Rootfs::mount`], from the host's side of the new root: the overlay
//!   on `merged/` (the image's layers, the init layer, the read-write
//!   layer), then `/proc`, `/sys` and `/dev`, then each of [`Rootfs::binds`]
//!   into it (the init layer's `/etc/hostname`, `/etc/hosts`,
//!   `/etc/resolv.conf`; chapter 5 adds its volumes to the list).
//! - [`Rootfs::enter`]: `pivot_root` into it (`chroot` with `--no-pivot`),
//!   then Docker's masked and read-only paths.
//!
//! Every mount is made before `pivot_root`, as runc makes them: the host's
//! `/proc` and `/dev` must still be in sight for some of them (see
//! `proc.rs` and `dev.rs`).
//!
//! Everything the child will need is decided by the parent, before the
//! clone, as plain data. Introduced in chapter 3.

use std::path::PathBuf;

use anyhow::Result;

use ns_isolation::namespaces::Isolation;

use crate::bind::Bind;
use crate::containers::Container;
use crate::image;
use crate::overlay::Overlay;
use crate::store::Store;
use crate::{dev, init_layer, layer, pivot, proc};

/// Everything the child needs to build and enter the container's root.
#[derive(Debug, Clone)]
pub struct Rootfs {
    /// The layers, top first, and the read-write layer.
    pub overlay: Overlay,
    /// Where the overlay is mounted: the new root, seen from the host's side.
    pub merged: PathBuf,
    /// What is bound into the new root before `pivot_root`, in order.
    pub binds: Vec<Bind>,
    /// The container has a user namespace: device nodes and `/sys` come from the host, by bind mounts.
    pub user_namespace: bool,
    /// The container shares the host's network: with a user namespace, it cannot mount a sysfs.
    pub host_network: bool,
    /// `--no-pivot`: `chroot` instead of `pivot_root` (insecure, for the escape demo).
    pub no_pivot: bool,
}

impl Rootfs {
    /// The root of `container`: its image's layers, its own directories, its init layer's binds.
    ///
    /// `volatile` is for a container removed when it ends (`--rm`): its
    /// writes need reach the disk no more than they need to exist at all.
    pub fn for_container(
        store: &Store,
        container: &Container,
        isolation: &Isolation,
        volatile: bool,
        no_pivot: bool,
    ) -> Result<Self> {
        let image = image::read_image(store, &container.config.image_id)?;
        let layers = image.chain_ids.iter().map(|chain| layer::diff_dir(store, chain)).collect::<Result<Vec<_>>>()?;
        let mut overlay = Overlay::for_container(&container.dir, &layers, volatile);
        overlay.userxattr = isolation.user_namespace;
        Ok(Self {
            overlay,
            merged: container.dir.join("merged"),
            binds: init_layer::binds(&container.dir),
            user_namespace: isolation.user_namespace,
            host_network: isolation.host_network,
            no_pivot,
        })
    }

    // ANCHOR: mount
    /// Mounts the new root on `merged`: the overlay, `/proc`, `/sys`, `/dev`, then the binds.
    ///
    /// The binds come last, as runc mounts a container's own mounts after
    /// the system ones: a volume at `/dev/shm/x` or `/sys/fs/cgroup` lands on
    /// the container's `/dev` or `/sys`, rather than under it, hidden.
    pub fn mount(&self) -> Result<()> {
        self.overlay.mount(&self.merged)?;
        proc::mount_proc_and_sys(&self.merged, self.user_namespace && self.host_network)?;
        dev::mount_dev(&self.merged.join("dev"), self.user_namespace)?;
        for bind in &self.binds {
            bind.apply(&self.merged)?;
        }
        Ok(())
    }
    // ANCHOR_END: mount

    // ANCHOR: enter
    /// Makes the new root `/`, then masks Docker's paths in it.
    pub fn enter(&self) -> Result<()> {
        if self.no_pivot {
            pivot::chroot_into(&self.merged)?
        } else {
            pivot::pivot_into(&self.merged)?
        }
        proc::restrict_proc_and_sys()
    }
    // ANCHOR_END: enter
}
