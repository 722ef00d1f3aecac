//! Chapter 2's phases: a cgroup around the container's whole life, and the child's way into it.
//!
//! The parent makes the container's cgroup before the clone, so that it is
//! ready when the child is released, and removes it when the container has
//! ended, whatever ended it ([`with_cgroup`]). On cgroup v2 the child is
//! born in it ([`start`]: `clone3` with `CLONE_INTO_CGROUP`); on v1, where it
//! has a group in each tree, it moves itself in once released. Then it takes
//! a cgroup namespace rooted there ([`enter`]). Introduced in chapter 2;
//! every later chapter runs its containers through these three.

use std::convert::Infallible;
use std::path::Path;

use anyhow::Result;
use nix::sys::wait::WaitStatus;
use ns_isolation::clone::started_in_cgroup;
use ns_isolation::exit::Failure;
use ns_isolation::lifecycle::{self, Started};
use ns_isolation::namespaces::Isolation;
use ns_isolation::wait;

use crate::cgroup::Cgroup;
use crate::id::ContainerId;
use crate::layout::{CGROUP_ROOT, Hierarchy};
use crate::plan::{Limits, plan};
use crate::{namespace, oom};

/// How a container ended: its wait status, and whether the OOM killer ended it.
#[derive(Debug)]
pub struct Ended {
    /// What `wait4` said.
    pub status: WaitStatus,
    /// Set when the memory cgroup counted an OOM kill and the command died of SIGKILL.
    pub oom_killed: Option<Failure>,
}

impl Ended {
    /// Docker's exit code: the command's status, or 128 + N (137 for an OOM kill, as for any SIGKILL).
    pub fn exit_code(&self) -> i32 {
        wait::exit_code(self.status)
    }

    /// The exit code, or, for an OOM kill, an error that says so and still exits 137.
    pub fn into_exit_code(self) -> Result<i32> {
        match self.oom_killed {
            Some(failure) => Err(failure.into()),
            None => Ok(self.exit_code()),
        }
    }
}

/// Makes the container's cgroup `rebox/<id>` with `limits`, runs the container
/// in it with `run`, asks it about the OOM killer, and removes it.
///
/// The cgroup goes on every path: after the command ends, whatever killed it,
/// and after a failure anywhere in `run`. With `limits` `None` the container
/// gets no cgroup at all (rootless: the cgroup trees are root's).
pub fn with_cgroup(
    id: &ContainerId,
    limits: Option<&Limits>,
    run: impl FnOnce(Option<&Cgroup>) -> Result<WaitStatus>,
) -> Result<Ended> {
    let Some(limits) = limits else {
        return Ok(Ended { status: run(None)?, oom_killed: None });
    };
    let hierarchy = Hierarchy::detect(Path::new(CGROUP_ROOT))?;
    let cgroup = Cgroup::create(&plan(&hierarchy, id.as_str(), limits)?)?;
    let ended = run(Some(&cgroup));
    let oom_killed = match &ended {
        Ok(status) => oom::oom_failure(&cgroup, *status),
        Err(_) => Ok(None),
    };
    // What is left in the cgroup is killed, then its directories are removed.
    let removed = cgroup.remove();
    let status = ended?;
    removed?;
    Ok(Ended { status, oom_killed: oom_killed? })
}

/// Set (to anything) to have the child join its cgroup by a write on v2 too,
/// as on v1: for measuring what `clone3(CLONE_INTO_CGROUP)` saves.
pub const JOIN_BY_WRITE: &str = "REBOX_CGROUP_JOIN_BY_WRITE";

/// Chapter 1's [`lifecycle::start`], with the child born in `cgroup` where the kernel can do that (v2, Linux 5.7).
pub fn start(
    cgroup: Option<&Cgroup>,
    isolation: &Isolation,
    set_up: impl FnOnce() -> Result<Infallible>,
) -> Result<Started> {
    match cgroup.and_then(Cgroup::clone_target) {
        Some(dir) if std::env::var_os(JOIN_BY_WRITE).is_none() => lifecycle::start_in_cgroup(isolation, dir, set_up),
        _ => lifecycle::start(isolation, set_up),
    }
}

// ANCHOR: enter
/// The child's first step: into its cgroup (unless it was born there), then a cgroup namespace rooted there.
pub fn enter(cgroup: Option<&Cgroup>) -> Result<()> {
    // EXERCISE(enter-cgroup): join the cgroup (if there is one, and the child was not born in it), then enter a new cgroup namespace
    if let Some(cgroup) = cgroup.filter(|_| !started_in_cgroup()) {
        cgroup.join()?;
    }
    namespace::enter_cgroup_namespace()
    // END EXERCISE
}
// ANCHOR_END: enter
