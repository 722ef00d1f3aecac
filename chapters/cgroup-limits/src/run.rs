//! The container's lifecycle as of chapter 2: chapter 1's, inside a cgroup.
//!
//! Parent: check the limits → block signals → create the cgroup
//! (`rebox/<id>`, limits written) → clone into new namespaces (on v2, into
//! the cgroup too: `clone3` with `CLONE_INTO_CGROUP`) → (rootless)
//! write the id maps → release the child → wait for it to end, forwarding
//! signals → ask the cgroup whether the OOM killer did it → remove the
//! cgroup → exit with its status.
//!
//! Child: wait to be released → (v1) move itself into the cgroup → enter a new
//! cgroup namespace → chapter 1's steps: make mounts private, mount `/proc`,
//! bring up `lo`, set the hostname, unblock signals, exec the command.

use anyhow::Result;
use nix::unistd::Uid;

use ns_isolation::{run::set_up_container, wait};

use crate::args::RunArgs;
use crate::id::ContainerId;
use crate::lifecycle::{enter, start, with_cgroup};

/// `run`: chapter 1's run, in a cgroup made for it and removed after it.
pub fn run(args: &RunArgs) -> Result<i32> {
    args.terminal.note_no_tty_yet("cgroup-limits");
    let rootless = !Uid::effective().is_root();
    // Every limit is checked before anything exists.
    let limits = args.limits.cgroup_limits(rootless)?;
    let id = ContainerId::random()?;
    args.cid.write(&id)?;
    let isolation = args.isolation.isolation(rootless)?;
    let hostname = args.isolation.hostname_or(id.short());
    wait::block_signals()?;
    let ended = with_cgroup(&id, limits.as_ref(), |cgroup| {
        let container = start(cgroup, &isolation, || {
            enter(cgroup)?;
            set_up_container(&isolation, &hostname, &args.command)
        })?;
        container.wait()
    })?;
    ended.into_exit_code()
}
