//! User namespaces: map the caller's uid and gid to root inside.
//!
//! A new user namespace starts with no mappings: every id inside shows as
//! the overflow id (65534). The parent, from outside, writes one line to the
//! child's `/proc/<pid>/uid_map` and `gid_map`: "inside outside count". An
//! unprivileged process may map only its own ids, and must first write
//! `deny` to `setgroups` before it may write `gid_map`. This is what makes
//! rootless containers possible. See `man 7 user_namespaces`. Introduced in
//! chapter 1.

use std::path::PathBuf;

use anyhow::{Context, Result};
use nix::unistd::{Gid, Pid, Uid};

use crate::sys;

/// One `uid_map`/`gid_map` line: ids `inside..inside+count` are `outside..` on the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdMap {
    /// First id inside the namespace.
    pub inside: u32,
    /// First id outside, on the host.
    pub outside: u32,
    /// How many ids the line maps.
    pub count: u32,
}

impl IdMap {
    /// The line to write to the map file.
    pub fn line(&self) -> String {
        format!("{} {} {}", self.inside, self.outside, self.count)
    }
}

/// Maps the calling user and group to root inside the child's user namespace.
pub fn map_caller_to_root(child: Pid) -> Result<()> {
    let uid = IdMap { inside: 0, outside: Uid::current().as_raw(), count: 1 };
    let gid = IdMap { inside: 0, outside: Gid::current().as_raw(), count: 1 };
    write_id_maps(child, uid, gid)
}

/// Writes the child's uid map, `setgroups`, then its gid map (in that order, as the kernel requires).
pub fn write_id_maps(child: Pid, uid: IdMap, gid: IdMap) -> Result<()> {
    // EXERCISE(id-maps): write uid_map, then "deny" to setgroups, then gid_map, under /proc/<child>/
    todo!(
        "ns-isolation step 3 of 10 (id-maps): write uid_map, then \"deny\" to setgroups, then gid_map, under /proc/<child>/ — book: ns-isolation.html#id-maps"
    )
}

fn write_proc_file(child: Pid, name: &str, contents: &str) -> Result<()> {
    let path = PathBuf::from(format!("/proc/{child}/{name}"));
    sys::write_file(&path, contents).with_context(|| format!("write {contents:?} to {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_map_line_is_inside_outside_count() {
        assert_eq!(IdMap { inside: 0, outside: 1000, count: 1 }.line(), "0 1000 1");
    }
}
