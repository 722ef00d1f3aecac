//! The container's lifecycle as of chapter 1, parent side and child side.
//!
//! Parent: block signals → clone into new namespaces → (rootless) write the
//! id maps → release the child → wait for it to end, forwarding signals →
//! exit with its status.
//!
//! Child: wait to be released → make mounts private → mount `/proc` →
//! bring up `lo` → set the hostname → unblock signals → exec the command.
//!
//! It is in the library, not the binary, so that chapter 2 can run the
//! same child steps after its own: [`set_up_container`].

use std::convert::Infallible;
use std::ffi::OsString;
use std::path::Path;

use anyhow::Result;
use nix::unistd::Uid;

use crate::args::RunArgs;
use crate::lifecycle::{self, start};
use crate::namespaces::Isolation;
use crate::{mounts, wait};

/// `run`: start the container, wait for it, return its exit code.
pub fn run(args: &RunArgs) -> Result<i32> {
    args.terminal.note_no_tty_yet("ns-isolation");
    // Without root, only a user namespace grants the rights to create the others.
    let isolation = args.isolation.isolation(!Uid::effective().is_root())?;
    let hostname = args.isolation.hostname_or_random_id()?;
    wait::block_signals()?;
    let container = start(&isolation, || set_up_container(&isolation, &hostname, &args.command))?;
    let status = container.wait()?;
    Ok(wait::exit_code(status))
}

/// The child's side: everything between `clone` and `exec`, in this order.
pub fn set_up_container(isolation: &Isolation, hostname: &str, command: &[OsString]) -> Result<Infallible> {
    // EXERCISE(child-order): make mounts private first, mount /proc, then lifecycle::finish, then lifecycle::exec
    todo!(
        "ns-isolation step 4 of 10 (child-order): make mounts private first, mount /proc, then lifecycle::finish, then lifecycle::exec — book: ns-isolation.html#child-order"
    )
}
