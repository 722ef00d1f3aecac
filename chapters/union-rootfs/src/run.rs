//! The container's lifecycle as of chapter 3: chapter 2's, on a root filesystem made from an image.
//!
//! Parent: check the limits → create the container (image, process, name,
//! directory with its init layer) → block signals → create the cgroup →
//! clone into new namespaces → (user namespace) write the id maps → release
//! the child → record it running → wait for it, forwarding signals → ask
//! about the OOM killer → remove the cgroup → record its exit (or remove
//! the container, with `--rm`) → exit with its status.
//!
//! Child: move itself into the cgroup → enter a cgroup namespace → make
//! mounts private → mount the overlay → bind the init layer's files →
//! mount `/proc`, `/sys` and `/dev` in it → pivot_root into it (or chroot,
//! with `--no-pivot`) → mask Docker's paths → bring up `lo` → set the
//! hostname → enter the working directory and environment → exec.
//!
//! Every failure before the container's directory exists (unknown image, a
//! name in use, an existing `--cidfile`, nothing to run) exits 125 with
//! nothing created. The overlay and every other mount live in the
//! container's mount namespace only: they vanish with it, and the host's
//! mount table never changes. The child's side is two phases,
//! [`set_up_root`] and [`start_process`], so that chapter 4 can put its own
//! steps between them.

use std::convert::Infallible;

use anyhow::Result;
use nix::unistd::Uid;

use cgroup_limits::cgroup::Cgroup;
use cgroup_limits::id::ContainerId;
use cgroup_limits::lifecycle::{enter, start, with_cgroup};
use ns_isolation::lifecycle;
use ns_isolation::namespaces::Isolation;
use ns_isolation::{mounts, wait};

use crate::args::RunArgs;
use crate::containers::ContainerConfig;
use crate::create::create;
use crate::rootfs::Rootfs;
use crate::store::Store;
use crate::{process, user};

/// `run`: creates the container, runs it in the foreground, returns its exit code.
pub fn run(store: &Store, args: &RunArgs) -> Result<i32> {
    args.terminal.note_no_tty_yet("union-rootfs");
    let rootless = !Uid::effective().is_root();
    let limits = args.limits.cgroup_limits(rootless)?;
    let isolation = args.isolation.isolation(rootless)?;
    let id = ContainerId::random()?;
    args.cid.write(&id)?;
    let mut container = create(store, &id, args).inspect_err(|_| args.cid.remove())?;
    let rootfs = Rootfs::for_container(store, &container, &isolation, args.rootfs.rm, args.rootfs.no_pivot)?;
    wait::block_signals()?;
    let ended = with_cgroup(&id, limits.as_ref(), |cgroup| {
        let setup = Setup { cgroup, isolation: &isolation, rootfs: &rootfs, config: &container.config.clone() };
        let started = start(cgroup, &isolation, || {
            set_up_root(&setup)?;
            start_process(&setup)
        })?;
        container.record_start(started.pid())?;
        started.wait()
    });
    container.record_end(ended, args.rootfs.rm)
}

/// What the child needs, decided by the parent before the clone.
#[derive(Debug)]
pub struct Setup<'a> {
    /// The container's cgroup, if it has one.
    pub cgroup: Option<&'a Cgroup>,
    /// Which namespaces it has.
    pub isolation: &'a Isolation,
    /// Its root filesystem.
    pub rootfs: &'a Rootfs,
    /// Its hostname and process.
    pub config: &'a ContainerConfig,
}

/// The child's first half: into its cgroup, then onto its own root filesystem.
pub fn set_up_root(setup: &Setup) -> Result<()> {
    // EXERCISE(rootfs-order): enter the cgroup, make mounts private, then mount the rootfs and enter it
    todo!(
        "union-rootfs step 6 of 12 (rootfs-order): enter the cgroup, make mounts private, then mount the rootfs and enter it — book: union-rootfs.html#rootfs-order"
    )
}

/// The child's second half: `lo` and hostname, the working directory and environment, the user, exec.
pub fn start_process(setup: &Setup) -> Result<Infallible> {
    lifecycle::finish(setup.isolation, &setup.config.hostname)?;
    process::enter(&setup.config.cwd, &setup.config.env)?;
    user::become_user(&setup.config.user)?;
    lifecycle::exec(&setup.config.command)
}
