//! `join`: the lesson's `set_ns` program. Open a namespace file, `setns()` into it, exec a command.
//!
//! Every namespace a process is in is a file, `/proc/<pid>/ns/<kind>`, a
//! magic link to the namespace itself (`net:[4026532281]`). A process that
//! opens one can join that namespace with `setns(2)`, then exec a command
//! that starts inside it: with a container's `net` file, the command sees
//! the container's network devices and nothing of the host's. That is the
//! whole trick behind `docker exec`; `exec.rs` does it for every namespace
//! at once. The kind is read from the link (`net:[…]`) and passed to
//! `setns`, so that the kernel checks the file is the kind of namespace
//! meant; the lesson's C program passes 0, "any kind". A PID namespace is
//! joined only by the children of the caller (see `exec.rs`): `join` of a
//! `pid` file execs the command *outside* it. See `man 2 setns`,
//! `man 7 namespaces`. Introduced in chapter 4.

use std::convert::Infallible;
use std::ffi::OsString;
use std::fs;
use std::path::Path;

use anyhow::{Context, Result};

use ns_isolation::namespaces::Namespace;
use ns_isolation::{exec, sys};

/// The kind of the namespace a `/proc/<pid>/ns/*` file links to: `net:[4026532281]` is a network namespace.
pub fn kind_of(file: &Path) -> Result<Namespace> {
    let link = fs::read_link(file).with_context(|| format!("read the namespace link {}", file.display()))?;
    let link = link.to_string_lossy();
    let name = link.split(':').next().unwrap_or_default();
    Namespace::from_proc_name(name).with_context(|| format!("{} is no namespace file ({link})", file.display()))
}

/// Joins the namespace of `file` and execs `command` in it; returns only if that failed.
pub fn join(file: &Path, command: &[OsString]) -> Result<Infallible> {
    let kind = kind_of(file)?;
    let namespace = sys::open_read(file).with_context(|| format!("open the namespace file {}", file.display()))?;
    // EXERCISE(setns): sys::setns into `namespace`, with the CLONE_NEW* flag of its `kind`, then exec the command
    todo!(
        "setns-exec step 1 of 10 (setns): sys::setns into `namespace`, with the CLONE_NEW* flag of its `kind`, then exec the command — book: setns-exec.html#setns"
    )
}
