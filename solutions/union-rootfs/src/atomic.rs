//! Files written whole: a temporary file, then `rename(2)` over the real one.
//!
//! `rename(2)` replaces a file atomically within a filesystem: a reader sees
//! the old file or the new one, never half of one. Every file of the store
//! is written so ([`write_atomic`], [`write_json`]), and every directory
//! (a layer, a container) is made under a temporary name and renamed into
//! place. A temporary name tells which process made it,
//! `.<what>-<pid>-<start time>-XXXXXX` ([`owned_prefix`], [`owner_of`]): a
//! process killed half-way leaves it, and the next command removes it once
//! that very process is gone (see `leftovers.rs`, and `pid.rs` for why a
//! pid alone is not enough). A new file needs room on the disk; on a full
//! one, a container's state is written over the old file in place
//! ([`write_json_even_when_full`]). See `man 2 rename`. Introduced in chapter 3.

use std::fs;
use std::io::{ErrorKind, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use anyhow::{Context, Result};
use nix::errno::Errno;
use nix::unistd::Pid;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::pid::HostProcess;

/// The start of a temporary name made by this process: `<prefix><pid>-<start time>-`.
pub fn owned_prefix(prefix: &str) -> Result<String> {
    let me = HostProcess::of(Pid::this())?;
    Ok(format!("{prefix}{}-{}-", me.pid, me.start_time))
}

/// The process that made the temporary file or directory `name`, read from the name; `None` for any other name.
///
/// Temporary names are `.<what>-<pid>-<start time>-<random letters>`.
pub fn owner_of(name: &str) -> Option<HostProcess> {
    let mut parts = name.rsplitn(4, '-');
    let (random, start_time, pid, what) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let well_formed = what.len() > 1 && what.starts_with('.') && random.chars().all(|c| c.is_ascii_alphanumeric());
    let process = HostProcess { pid: pid.parse().ok()?, start_time: start_time.parse().ok()? };
    (well_formed && !random.is_empty() && process.pid > 0).then_some(process)
}

/// Removes a directory tree, if it exists: a layer, a container.
///
/// Overlayfs leaves its scratch directory `work/work` with mode 000; root
/// removes it anyway, an unprivileged user (a rootless container's) must
/// first give themselves the right to look inside.
pub fn remove_tree(path: &Path) -> Result<()> {
    let mut result = fs::remove_dir_all(path);
    if matches!(&result, Err(err) if err.kind() == ErrorKind::PermissionDenied) {
        open_up(path);
        result = fs::remove_dir_all(path);
    }
    match result {
        Err(err) if err.kind() != ErrorKind::NotFound => Err(err).with_context(|| format!("remove {}", path.display())),
        _ => Ok(()),
    }
}

/// Makes every directory under `dir` (and `dir`) readable, writable and searchable by its owner.
fn open_up(dir: &Path) {
    if fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).is_err() {
        return;
    }
    for entry in fs::read_dir(dir).into_iter().flatten().flatten() {
        if entry.file_type().is_ok_and(|kind| kind.is_dir()) {
            open_up(&entry.path());
        }
    }
}

/// Writes `bytes` to `path` atomically: a temporary file beside it, then `rename(2)`.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().with_context(|| format!("{} has no parent directory", path.display()))?;
    let mut file = tempfile::Builder::new()
        .prefix(&owned_prefix(".tmp-")?)
        .tempfile_in(dir)
        .with_context(|| format!("create a temporary file in {}", dir.display()))?;
    file.write_all(bytes).with_context(|| format!("write a temporary file for {}", path.display()))?;
    file.persist(path).with_context(|| format!("rename a temporary file over {}", path.display()))?;
    Ok(())
}

/// Writes `value` as pretty JSON to `path`, atomically.
pub fn write_json(path: &Path, value: &impl Serialize) -> Result<()> {
    write_atomic(path, &json_bytes(value)?)
}

/// Writes `value` as JSON to `path`: atomically, or, if the filesystem is full, over the old file in place.
///
/// A rename needs a new file, and a new file needs a free block; the old
/// file's blocks are its own already, and a few bytes more or less still
/// fit in them. Written in place, the file is not replaced atomically: a
/// crash half-way would leave it torn. So this is the way out only when the
/// atomic write found no room: for a container's state, whose exit status
/// would otherwise be lost.
pub fn write_json_even_when_full(path: &Path, value: &impl Serialize) -> Result<()> {
    let written = write_json(path, value);
    match &written {
        Err(err) if no_room_errno(err).is_some() && path.is_file() => {
            let bytes = json_bytes(value)?;
            let mut file = fs::OpenOptions::new()
                .write(true)
                .open(path)
                .with_context(|| format!("open {} to write it in place", path.display()))?;
            file.write_all(&bytes).with_context(|| format!("write {} in place", path.display()))?;
            file.set_len(bytes.len() as u64).with_context(|| format!("truncate {}", path.display()))
        }
        _ => written,
    }
}

fn json_bytes(value: &impl Serialize) -> Result<Vec<u8>> {
    let mut bytes = serde_json::to_vec_pretty(value).context("serialize JSON")?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// Reads JSON from `path`.
pub fn read_json<T: DeserializeOwned>(path: &Path) -> Result<T> {
    let bytes = fs::read(path).with_context(|| format!("read {}", path.display()))?;
    serde_json::from_slice(&bytes).with_context(|| format!("parse {}", path.display()))
}

/// `ENOSPC` or `EDQUOT`, if one is the cause of `err`: the filesystem had no room for what was written.
pub fn no_room_errno(err: &anyhow::Error) -> Option<Errno> {
    err.chain().find_map(|cause| {
        // By its kind: an error wrapped with its path (as the tempfile crate does) keeps its kind, not its errno.
        let errno = match (cause.downcast_ref::<std::io::Error>(), cause.downcast_ref::<Errno>()) {
            (Some(io), _) if io.kind() == ErrorKind::StorageFull => Errno::ENOSPC,
            (Some(io), _) if io.kind() == ErrorKind::QuotaExceeded => Errno::EDQUOT,
            (None, Some(errno)) => *errno,
            _ => return None,
        };
        matches!(errno, Errno::ENOSPC | Errno::EDQUOT).then_some(errno)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_temporary_name_tells_which_process_made_it() {
        let prefix = owned_prefix(".layer-").unwrap();
        let me = HostProcess::of(Pid::this()).unwrap();
        assert_eq!(owner_of(&format!("{prefix}Xk3fQ9")), Some(me));
        assert_eq!(owner_of(".image-view-4242-81234-a1B2c3"), Some(HostProcess { pid: 4242, start_time: 81234 }));
        for other in [".layer-Xk3fQ9", "repositories.json", "4242-81234-abc", ".layer-x-81234-abc", ".tmp-1-2-"] {
            assert_eq!(owner_of(other), None, "{other}");
        }
    }

    #[test]
    fn atomic_writes_leave_only_the_final_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        write_json(&path, &vec!["a"]).unwrap();
        write_json_even_when_full(&path, &vec!["b"]).unwrap();
        assert_eq!(read_json::<Vec<String>>(&path).unwrap(), ["b"]);
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn no_room_is_found_under_the_path_a_temporary_file_wraps_it_in() {
        let full = std::io::Error::from_raw_os_error(libc::ENOSPC);
        let wrapped = std::io::Error::new(full.kind(), format!("{full} at path \"/s/.tmp-1-2-x\""));
        let err = anyhow::Error::from(wrapped).context("write a temporary file for /s/state.json");
        assert_eq!(no_room_errno(&err), Some(Errno::ENOSPC));
        assert_eq!(no_room_errno(&anyhow::anyhow!("refused")), None);
    }
}
