//! The namespace files of a container's PID 1, opened before any is joined.
//!
//! `exec` joins every namespace of the container's first process, and opens
//! all their files first: once it has joined the container's mount
//! namespace, `/proc/<pid>` would be the container's `/proc`, where that pid
//! means something else or nothing. A namespace the container shares with
//! the caller (the host's network with `--net host`, the host's user
//! namespace for a container without one) is left out: joining it would
//! change nothing, and for a user namespace the kernel refuses it (EINVAL).
//! The order is the one the joins must happen in ([`JOIN_ORDER`]): the user
//! namespace first, since it is what grants the rights to join the others.
//! See `man 2 setns`, `man 7 user_namespaces`. Introduced in chapter 4.

use std::fs;
use std::os::fd::OwnedFd;
use std::path::PathBuf;

use anyhow::{Context, Result};
use nix::unistd::Pid;

use ns_isolation::namespaces::Namespace;
use ns_isolation::sys;

/// The order in which a process joins a container's namespaces, as runc joins them.
///
/// User first: joining it grants every capability in it, which the others
/// need. PID is joined by the parent, for its children only (see `exec.rs`);
/// mount late, since it changes the root; the cgroup namespace last, once
/// the process is in the container's cgroup.
pub const JOIN_ORDER: [Namespace; 7] = [
    Namespace::User,
    Namespace::Ipc,
    Namespace::Uts,
    Namespace::Net,
    Namespace::Pid,
    Namespace::Mount,
    Namespace::Cgroup,
];

/// Open namespace files of a process, in [`JOIN_ORDER`], without those the caller is in already.
#[derive(Debug)]
pub struct NamespaceFiles {
    /// Each namespace kind to join, and its open file.
    pub files: Vec<(Namespace, OwnedFd)>,
}

impl NamespaceFiles {
    /// Opens the namespace files of process `pid` that differ from the caller's.
    pub fn open(pid: Pid) -> Result<Self> {
        let mut files: Vec<(Namespace, OwnedFd)> = Vec::new();
        // ANCHOR: open_files
        // EXERCISE(namespace-files): for each kind of JOIN_ORDER whose /proc/<pid>/ns/<kind> link differs from /proc/self/ns/<kind>, push (kind, sys::open_read of it)
        for kind in JOIN_ORDER {
            let theirs = PathBuf::from(format!("/proc/{pid}/ns/{}", kind.proc_name()));
            let ours = PathBuf::from(format!("/proc/self/ns/{}", kind.proc_name()));
            let link = |path: &PathBuf| fs::read_link(path).with_context(|| format!("read {}", path.display()));
            if link(&theirs)? == link(&ours)? {
                continue;
            }
            let file = sys::open_read(&theirs).with_context(|| format!("open {}", theirs.display()))?;
            files.push((kind, file));
        }
        Ok(Self { files })
        // END EXERCISE
        // ANCHOR_END: open_files
    }

    /// The open file of namespace `kind`, if the process has one of its own.
    pub fn get(&self, kind: Namespace) -> Option<&OwnedFd> {
        self.files.iter().find(|(found, _)| *found == kind).map(|(_, file)| file)
    }
}
