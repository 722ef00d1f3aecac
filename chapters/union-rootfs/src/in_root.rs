//! Resolve a path inside the container's root, as if that root were `/`.
//!
//! Before `pivot_root` the runtime works on the container's root from the
//! host, at `<container>/merged`. A path the container names, like a
//! volume's `/data`, must be looked up *inside* it, and the image decides
//! what it holds: if `/data` is a symlink to `/etc`, or to
//! `../../../../etc`, a naive `merged.join("data")` followed by the kernel
//! lands on the host's `/etc`, and a bind mount or a `mkdir` there changes
//! the host. Runtimes have been escaped this way (runc's CVE-2021-30465).
//! So every component is walked here, each symlink read and resolved
//! against the container's root, and `..` stops at that root, as the
//! kernel's `openat2(2)` `RESOLVE_IN_ROOT` does. Missing directories on the
//! way are created, inside the root. Introduced in chapter 3 for its bind
//! mounts; chapter 5's volumes are what put it to the test.

use std::fs;
use std::io::ErrorKind;
use std::path::{Component, Path, PathBuf};

use anyhow::{Context, Result, bail};
use ns_isolation::sys;

/// How many symlinks one lookup may follow, as the kernel's `MAXSYMLINKS`.
const MAX_SYMLINKS: usize = 40;

/// The host path of `path` (absolute, as the container sees it) inside the root at `root`.
///
/// Symlinks are followed within the root, including the last component;
/// missing components are not created. The result is `root` joined with a
/// clean path that names no symlink on the way.
pub fn resolve_in_root(root: &Path, path: &Path) -> Result<PathBuf> {
    let mut resolved = PathBuf::new();
    let mut pending: Vec<PathBuf> = components(path);
    let mut followed = 0;
    while let Some(part) = pending.pop() {
        if part == Path::new("..") {
            resolved.pop();
            continue;
        }
        let candidate = resolved.join(&part);
        match fs::symlink_metadata(root.join(&candidate)) {
            Ok(meta) if meta.file_type().is_symlink() => {
                followed += 1;
                if followed > MAX_SYMLINKS {
                    bail!("too many symlinks resolving {} in the container", path.display());
                }
                let target = fs::read_link(root.join(&candidate))
                    .with_context(|| format!("read the symlink {} in the container", candidate.display()))?;
                if target.is_absolute() {
                    resolved = PathBuf::new();
                }
                pending.extend(components(&target));
            }
            Ok(_) => resolved = candidate,
            Err(err) if err.kind() == ErrorKind::NotFound => resolved = candidate,
            Err(err) => return Err(err).with_context(|| format!("look up {} in the container", candidate.display())),
        }
    }
    Ok(root.join(resolved))
}

/// The normal and `..` components of `path`, last first (a stack to pop from).
fn components(path: &Path) -> Vec<PathBuf> {
    let mut parts: Vec<PathBuf> = path
        .components()
        .filter_map(|component| match component {
            Component::Normal(part) => Some(PathBuf::from(part)),
            Component::ParentDir => Some(PathBuf::from("..")),
            _ => None,
        })
        .collect();
    parts.reverse();
    parts
}

/// Resolves `path` inside `root` and makes sure something is there to mount on:
/// a directory, or with `file` an empty file, creating missing parents inside the root.
pub fn make_mountpoint(root: &Path, path: &Path, file: bool) -> Result<PathBuf> {
    let target = resolve_in_root(root, path)?;
    let parent = target.parent().unwrap_or(root);
    // Every parent of a resolved path is itself resolved: creating it cannot leave the root.
    fs::create_dir_all(parent).with_context(|| format!("create {} in the container", parent.display()))?;
    match fs::symlink_metadata(&target) {
        Ok(_) => {}
        Err(err) if err.kind() == ErrorKind::NotFound && file => {
            fs::write(&target, "").with_context(|| format!("create the mountpoint {}", target.display()))?
        }
        Err(err) if err.kind() == ErrorKind::NotFound => {
            sys::mkdir(&target, 0o755).with_context(|| format!("create the mountpoint {}", target.display()))?
        }
        Err(err) => return Err(err).with_context(|| format!("look at the mountpoint {}", target.display())),
    }
    Ok(target)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn symlinks_resolve_against_the_container_root_not_the_hosts() {
        let root = tempfile::tempdir().unwrap();
        let root = root.path();
        fs::create_dir(root.join("etc")).unwrap();
        symlink("/etc", root.join("abs")).unwrap();
        symlink("../../../../etc", root.join("climb")).unwrap();
        symlink("etc", root.join("rel")).unwrap();
        for link in ["abs", "climb", "rel"] {
            assert_eq!(resolve_in_root(root, &Path::new("/").join(link)).unwrap(), root.join("etc"), "{link}");
        }
        assert_eq!(resolve_in_root(root, Path::new("/../../x")).unwrap(), root.join("x"));
    }

    #[test]
    fn a_symlink_loop_is_refused() {
        let root = tempfile::tempdir().unwrap();
        symlink("/b", root.path().join("a")).unwrap();
        symlink("/a", root.path().join("b")).unwrap();
        assert!(resolve_in_root(root.path(), Path::new("/a")).is_err());
    }

    #[test]
    fn mountpoints_are_made_inside_the_root() {
        let root = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        symlink(outside.path(), root.path().join("escape")).unwrap();
        let made = make_mountpoint(root.path(), Path::new("/escape/data"), false).unwrap();
        assert!(made.starts_with(root.path()) && made.is_dir());
        assert_eq!(fs::read_dir(outside.path()).unwrap().count(), 0, "a directory was made outside the root");
        let file = make_mountpoint(root.path(), Path::new("/etc/hosts"), true).unwrap();
        assert!(file.is_file());
    }
}
