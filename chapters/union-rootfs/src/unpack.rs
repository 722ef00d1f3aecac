//! Turn a layer tar into a directory, safely.
//!
//! A layer comes from someone else, so every entry is checked before
//! anything is written: its path must stay inside the layer (no `..`, not
//! absolute), no directory on the way to it may be a symlink (a hostile
//! layer could plant `etc -> /etc` and then write `etc/passwd`), a symlink
//! may not point above the layer's root, and a hard link must name a file
//! already in the layer. A refused entry fails the whole layer with an error
//! naming it; the caller unpacks into a temporary directory and only renames
//! it into the store when everything is in (see `layer.rs`).
//!
//! Whiteouts become overlayfs whiteouts on the way (see `whiteout.rs`).
//! Owners, modes and file mtimes are kept; an unprivileged user's store
//! (rootless) keeps modes and mtimes, and every file is that user's, who is
//! root inside their containers. See `man 5 tar`, the OCI image spec
//! `layer.md`. Introduced in chapter 3.

use std::fs::{self, File};
use std::io::{self, Read};
use std::os::unix::fs::{PermissionsExt, lchown, symlink};
use std::path::{Component, Path, PathBuf};
use std::time::{Duration, SystemTime};

use anyhow::{Context, Result, bail};
use nix::sys::stat::{Mode, SFlag, makedev, mknod};
use nix::unistd::Uid;
use tar::EntryType;

use crate::whiteout::{self, Whiteout};

/// Unpacks the layer tar read from `tar` into the existing directory `dest`.
///
/// Returns the size of the layer's content: the bytes of its regular files.
pub fn unpack_layer(tar: impl Read, dest: &Path) -> Result<u64> {
    let mut archive = tar::Archive::new(tar);
    let mut size = 0;
    for entry in archive.entries().context("read the layer tar")? {
        let mut entry = entry.context("read an entry of the layer tar")?;
        let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        size += unpack_entry(&mut entry, dest).with_context(|| format!("refuse layer entry {name:?}"))?;
    }
    Ok(size)
}

/// The path of a tar entry inside the layer, or an error if it would leave it.
pub fn layer_path(name: &Path) -> Result<PathBuf> {
    // EXERCISE(safe-path): keep the normal components of `name`; refuse ".." and absolute paths
    todo!(
        "union-rootfs step 1 of 12 (safe-path): keep the normal components of `name`; refuse \"..\" and absolute paths — book: union-rootfs.html#safe-path"
    )
}

/// Whether a symlink at `link` (a clean layer path) pointing to `target` stays in the layer.
///
/// Absolute targets are resolved against the container's root when used,
/// so they stay inside; a relative one must not climb above the layer root.
pub fn symlink_stays_inside(link: &Path, target: &Path) -> bool {
    if target.is_absolute() {
        return true;
    }
    let mut depth = link.components().count().saturating_sub(1);
    for component in target.components() {
        match component {
            Component::ParentDir if depth == 0 => return false,
            Component::ParentDir => depth -= 1,
            Component::Normal(_) => depth += 1,
            _ => {}
        }
    }
    true
}

fn unpack_entry(entry: &mut tar::Entry<impl Read>, dest: &Path) -> Result<u64> {
    let rel = layer_path(&entry.path().context("its name is not a valid path")?)?;
    if rel.as_os_str().is_empty() {
        // The layer's root directory itself ("./"): nothing to create.
        return Ok(0);
    }
    if let Some(marker) = whiteout::classify(&rel) {
        return apply_whiteout(marker, dest).map(|()| 0);
    }
    let path = prepare_parents(dest, &rel)?;
    let header = entry.header();
    let (mode, uid, gid) = (header.mode()? & 0o7777, header.uid()?, header.gid()?);
    let kind = header.entry_type();
    match kind {
        EntryType::Directory => {
            if fs::symlink_metadata(&path).is_ok_and(|meta| !meta.is_dir()) {
                remove_existing(&path)?;
            }
            if !path.is_dir() {
                fs::create_dir(&path).with_context(|| format!("create directory {}", path.display()))?;
            }
        }
        EntryType::Regular | EntryType::Continuous => {
            remove_existing(&path)?;
            let mut file = File::create_new(&path).with_context(|| format!("create file {}", path.display()))?;
            io::copy(entry, &mut file).with_context(|| format!("write file {}", path.display()))?;
            if let Ok(mtime) = entry.header().mtime() {
                file.set_modified(SystemTime::UNIX_EPOCH + Duration::from_secs(mtime)).ok();
            }
        }
        EntryType::Symlink => {
            let target = entry.link_name()?.context("the symlink has no target")?.into_owned();
            if !symlink_stays_inside(&rel, &target) {
                bail!("its symlink target {:?} leads out of the layer", target.display().to_string());
            }
            remove_existing(&path)?;
            symlink(&target, &path).with_context(|| format!("create symlink {}", path.display()))?;
        }
        EntryType::Link => {
            let name = entry.link_name()?.context("the hard link has no target")?.into_owned();
            let target = layer_path(&name).map_err(|_| {
                anyhow::anyhow!("its hard link target {:?} leads out of the layer", name.display().to_string())
            })?;
            let source = prepare_parents(dest, &target)?;
            if fs::symlink_metadata(&source).is_err() {
                bail!("its hard link target {:?} is not in the layer", name.display().to_string());
            }
            remove_existing(&path)?;
            fs::hard_link(&source, &path).with_context(|| format!("create hard link {}", path.display()))?;
            return Ok(0);
        }
        EntryType::Char | EntryType::Block if !Uid::effective().is_root() => {
            bail!("it is a device node, and only root may make one (mknod): load this image as root")
        }
        EntryType::Char | EntryType::Block | EntryType::Fifo => {
            let file_type = match kind {
                EntryType::Char => SFlag::S_IFCHR,
                EntryType::Block => SFlag::S_IFBLK,
                _ => SFlag::S_IFIFO,
            };
            let dev = makedev(
                entry.header().device_major()?.unwrap_or(0).into(),
                entry.header().device_minor()?.unwrap_or(0).into(),
            );
            remove_existing(&path)?;
            mknod(&path, file_type, Mode::from_bits_truncate(mode), dev)
                .with_context(|| format!("create device node {} (mknod)", path.display()))?;
        }
        other => bail!("its type {other:?} is not supported in a layer"),
    }
    // Without root, every file stays the unpacking user's: the one a rootless container maps to root.
    if Uid::effective().is_root() {
        lchown(&path, Some(uid as u32), Some(gid as u32))
            .with_context(|| format!("chown {} to {uid}:{gid}", path.display()))?;
    }
    if kind != EntryType::Symlink {
        // After chown, which clears set-user-id bits.
        fs::set_permissions(&path, fs::Permissions::from_mode(mode))
            .with_context(|| format!("chmod {} to {mode:o}", path.display()))?;
    }
    Ok(if kind.is_file() { entry.header().size()? } else { 0 })
}

/// Checks that no directory on the way to `rel` is a symlink, creating missing ones.
fn prepare_parents(dest: &Path, rel: &Path) -> Result<PathBuf> {
    let mut path = dest.to_path_buf();
    let mut walked = PathBuf::new();
    if let Some(parent) = rel.parent() {
        for part in parent.components() {
            path.push(part);
            walked.push(part);
            match fs::symlink_metadata(&path) {
                Ok(meta) if meta.file_type().is_symlink() => {
                    bail!("its path goes through the symlink {:?}", walked.display().to_string())
                }
                Ok(meta) if meta.is_dir() => {}
                Ok(_) => bail!("its path goes through {:?}, which is not a directory", walked.display().to_string()),
                Err(_) => fs::create_dir(&path).with_context(|| format!("create directory {}", path.display()))?,
            }
        }
    }
    Ok(dest.join(rel))
}

/// Removes what an entry replaces: a file, a link, or a whole directory.
fn remove_existing(path: &Path) -> Result<()> {
    match fs::symlink_metadata(path) {
        Err(_) => Ok(()),
        Ok(meta) if meta.is_dir() => {
            fs::remove_dir_all(path).with_context(|| format!("replace directory {}", path.display()))
        }
        Ok(_) => fs::remove_file(path).with_context(|| format!("replace {}", path.display())),
    }
}

fn apply_whiteout(marker: Whiteout, dest: &Path) -> Result<()> {
    match marker {
        Whiteout::Delete(deleted) => {
            let path = prepare_parents(dest, &deleted)?;
            remove_existing(&path)?;
            whiteout::make_whiteout(&path)
        }
        Whiteout::Opaque(dir) => {
            let path = prepare_parents(dest, &dir.join(whiteout::OPAQUE_MARKER))?;
            let dir = path.parent().unwrap_or(dest);
            if !dir.is_dir() {
                fs::create_dir(dir).with_context(|| format!("create directory {}", dir.display()))?;
            }
            whiteout::make_opaque(dir)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layer_paths_are_cleaned() {
        assert_eq!(layer_path(Path::new("./etc/passwd")).unwrap(), Path::new("etc/passwd"));
        assert_eq!(layer_path(Path::new("./")).unwrap(), Path::new(""));
    }

    #[test]
    fn paths_that_leave_the_layer_are_refused() {
        assert!(layer_path(Path::new("../evil")).is_err());
        assert!(layer_path(Path::new("etc/../../evil")).is_err());
        assert!(layer_path(Path::new("/etc/passwd")).is_err());
    }

    #[test]
    fn symlinks_may_not_climb_above_the_layer() {
        assert!(symlink_stays_inside(Path::new("bin/sh"), Path::new("/bin/busybox")));
        assert!(symlink_stays_inside(Path::new("lib64/ld.so"), Path::new("../lib/ld.so")));
        assert!(!symlink_stays_inside(Path::new("evil"), Path::new("../etc/shadow")));
        assert!(!symlink_stays_inside(Path::new("a/evil"), Path::new("../../etc")));
    }

    fn tar_of(build: impl FnOnce(&mut tar::Builder<Vec<u8>>)) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        build(&mut builder);
        builder.into_inner().unwrap()
    }

    fn header(kind: EntryType, size: u64) -> tar::Header {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(kind);
        header.set_mode(0o755);
        header.set_size(size);
        header.set_uid(0);
        header.set_gid(0);
        header.set_mtime(0);
        header
    }

    #[test]
    fn files_dirs_and_links_are_unpacked() {
        let tar = tar_of(|b| {
            b.append_data(&mut header(EntryType::Directory, 0), "app/", &[][..]).unwrap();
            b.append_data(&mut header(EntryType::Regular, 3), "app/hi", &b"hi\n"[..]).unwrap();
            b.append_link(&mut header(EntryType::Symlink, 0), "app/sh", "/bin/busybox").unwrap();
            b.append_link(&mut header(EntryType::Link, 0), "app/hello", "app/hi").unwrap();
        });
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(unpack_layer(&tar[..], dir.path()).unwrap(), 3);
        assert_eq!(fs::read_to_string(dir.path().join("app/hello")).unwrap(), "hi\n");
        assert_eq!(fs::read_link(dir.path().join("app/sh")).unwrap(), Path::new("/bin/busybox"));
    }

    #[test]
    fn writing_through_a_symlink_is_refused_and_names_the_entry() {
        let outside = tempfile::tempdir().unwrap();
        let tar = tar_of(|b| {
            b.append_link(&mut header(EntryType::Symlink, 0), "escape", outside.path()).unwrap();
            b.append_data(&mut header(EntryType::Regular, 3), "escape/pwned", &b"hi\n"[..]).unwrap();
        });
        let dir = tempfile::tempdir().unwrap();
        let err = format!("{:#}", unpack_layer(&tar[..], dir.path()).unwrap_err());
        assert!(err.contains("\"escape/pwned\"") && err.contains("symlink \"escape\""), "{err}");
        assert!(!outside.path().join("pwned").exists());
    }
}
