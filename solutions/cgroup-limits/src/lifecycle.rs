//! Chapter 2's phases: a cgroup around the container's whole life, and the child's way into it.
//!
//! The parent makes the container's cgroup before the clone, so that it is
//! ready when the child is released, and removes it when the container has
//! ended, whatever ended it ([`with_cgroup`]). The child, once released,
//! moves itself in and only then takes a cgroup namespace rooted there
//! ([`enter`]). Introduced in chapter 2; every later chapter runs its
//! containers through these two.

use std::path::Path;

use anyhow::Result;
use nix::sys::wait::WaitStatus;
use ns_isolation::exit::Failure;
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

// ANCHOR: enter
/// The child's first step: into its cgroup, then a cgroup namespace rooted there.
pub fn enter(cgroup: Option<&Cgroup>) -> Result<()> {
    // EXERCISE(enter-cgroup): join the cgroup (if there is one) first, then enter a new cgroup namespace
    if let Some(cgroup) = cgroup {
        cgroup.join()?;
    }
    namespace::enter_cgroup_namespace()
    // END EXERCISE
}
// ANCHOR_END: enter
