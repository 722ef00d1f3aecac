//! The cgroup namespace: the container sees its own cgroup as `/`.
//!
//! `/proc/self/cgroup` names the cgroup of a process in each hierarchy, as a
//! path from the root of the reader's cgroup *namespace*. Without a namespace
//! of its own, a container reads `4:memory:/rebox/<id>`: the host's layout
//! and its own id leak in. A new cgroup namespace takes the caller's cgroups
//! *at that moment* as its root, so the container reads `4:memory:/`, and a
//! cgroupfs it mounts shows only its own subtree (the article's thought
//! question 1; Linux 4.6).
//!
//! Hence the order: the child moves itself into its cgroup first, and only
//! then unshares. Had `clone(2)` been given `CLONE_NEWCGROUP`, the
//! namespace's root would be the runtime's cgroup, and the container would
//! read `/../../rebox/<id>`.
//! See `man 7 cgroup_namespaces`, `man 2 unshare`. Introduced in chapter 2.

use anyhow::{Context, Result};
use nix::sched::CloneFlags;
use ns_isolation::sys;

/// Puts the calling process in a new cgroup namespace rooted at its current cgroups.
pub fn enter_cgroup_namespace() -> Result<()> {
    // ANCHOR: enter_cgroup_namespace
    // EXERCISE(cgroup-namespace): unshare(2) with CLONE_NEWCGROUP, through sys::unshare
    sys::unshare(CloneFlags::CLONE_NEWCGROUP).context("create a cgroup namespace (unshare CLONE_NEWCGROUP)")?;
    Ok(())
    // END EXERCISE
    // ANCHOR_END: enter_cgroup_namespace
}
