//! Turn a layer tar into a directory, safely.
//!
//! A layer comes from someone else, so every entry is checked before
//! anything is written: its path must stay inside the layer (no `..`, not
//! absolute), no directory on the way to it may be a symlink (a hostile
//! layer could plant `etc -> /etc` and then write `etc/passwd`), a symlink
//! may not point above the layer's root, and a hard link must name a file
//! already in the layer. A refused entry fails the whole layer with an error
//! naming it, `refuse layer entry "<name>": <why>`; the caller unpacks into
//! a temporary directory and only renames it into the store when everything
//! is in (see `layer.rs`). An entry that could not be read (the blob is cut
//! short) or written (the disk is full) fails it too, but is not refused:
//! `unpack layer entry "<name>": <what failed>`, for the archive is not to
//! blame for the store's disk.
//!
//! Whiteouts become overlayfs whiteouts on the way (see `whiteout.rs`).
//! Owners, modes and file mtimes are kept; an unprivileged user's store
//! (rootless) keeps modes and mtimes, and every file is that user's, who is
//! root inside their containers. See `man 5 tar`, the OCI image spec
//! `layer.md`. Introduced in chapter 3.

use std::fs::{self, File};
use std::io::{self, Read, Write};
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
        size += unpack_entry(&mut entry, dest).map_err(|err| {
            let verb = if err.downcast_ref::<Refused>().is_some() { "refuse" } else { "unpack" };
            err.context(format!("{verb} layer entry {name:?}"))
        })?;
    }
    Ok(size)
}

/// Why an entry may not be in a layer: the archive's fault, unlike a read or a write that failed.
#[derive(Debug)]
pub struct Refused(String);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Refused {}

/// The error for an entry the layer may not have.
fn refuse(why: impl Into<String>) -> anyhow::Error {
    Refused(why.into()).into()
}

/// The path of a tar entry inside the layer, or an error if it would leave it.
pub fn layer_path(name: &Path) -> Result<PathBuf> {
    // ANCHOR: layer_path
    // EXERCISE(safe-path): keep the normal components of `name`; refuse ".." and absolute paths
    let mut clean = PathBuf::new();
    for component in name.components() {
        match component {
            Component::Normal(part) => clean.push(part),
            Component::CurDir => {}
            Component::ParentDir => bail!("its path climbs out of the layer with \"..\""),
            Component::RootDir | Component::Prefix(_) => bail!("its path is absolute"),
        }
    }
    Ok(clean)
    // END EXERCISE
    // ANCHOR_END: layer_path
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
    let name = entry.path().map_err(|_| refuse("its name is not a valid path"))?;
    let rel = layer_path(&name).map_err(|err| refuse(format!("{err:#}")))?;
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
            copy_data(entry, &mut file, &path)?;
            if let Ok(mtime) = entry.header().mtime() {
                file.set_modified(SystemTime::UNIX_EPOCH + Duration::from_secs(mtime)).ok();
            }
        }
        EntryType::Symlink => {
            let target = entry.link_name()?.ok_or_else(|| refuse("the symlink has no target"))?.into_owned();
            if !symlink_stays_inside(&rel, &target) {
                return Err(refuse(format!(
                    "its symlink target {:?} leads out of the layer",
                    target.display().to_string()
                )));
            }
            remove_existing(&path)?;
            symlink(&target, &path).with_context(|| format!("create symlink {}", path.display()))?;
        }
        EntryType::Link => {
            let name = entry.link_name()?.ok_or_else(|| refuse("the hard link has no target"))?.into_owned();
            let target = layer_path(&name).map_err(|_| {
                refuse(format!("its hard link target {:?} leads out of the layer", name.display().to_string()))
            })?;
            let source = prepare_parents(dest, &target)?;
            if fs::symlink_metadata(&source).is_err() {
                return Err(refuse(format!(
                    "its hard link target {:?} is not in the layer",
                    name.display().to_string()
                )));
            }
            remove_existing(&path)?;
            fs::hard_link(&source, &path).with_context(|| format!("create hard link {}", path.display()))?;
            return Ok(0);
        }
        EntryType::Char | EntryType::Block if !Uid::effective().is_root() => {
            return Err(refuse("it is a device node, and only root may make one (mknod): load this image as root"));
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
        other => return Err(refuse(format!("its type {other:?} is not supported in a layer"))),
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
    // After chown too, which clears a file's capabilities.
    restore_xattrs(entry, &path)?;
    Ok(if kind.is_file() { entry.header().size()? } else { 0 })
}

/// Gives a file the xattrs its entry carries (PAX records `SCHILY.xattr.<name>`), as Docker keeps them:
/// its file capabilities (`security.capability`, which only root may set) and the application's `user.*`.
///
/// A filesystem that holds no such xattr (ENOTSUP) goes without; any other failure fails the layer.
fn restore_xattrs(entry: &mut tar::Entry<impl Read>, path: &Path) -> Result<()> {
    let Some(records) = entry.pax_extensions().context("read the entry's PAX records")? else { return Ok(()) };
    for record in records {
        let record = record.context("read a PAX record")?;
        let Some(name) = record.key().ok().and_then(|key| key.strip_prefix("SCHILY.xattr.")) else { continue };
        let kept = name.starts_with("user.") || (name == "security.capability" && Uid::effective().is_root());
        if !kept {
            continue;
        }
        match ns_isolation::sys::lsetxattr(path, name, record.value_bytes()) {
            Ok(()) | Err(nix::errno::Errno::ENOTSUP) => {}
            Err(err) => return Err(err).with_context(|| format!("set the xattr {name} of {}", path.display())),
        }
    }
    Ok(())
}

/// Copies a file's data from the layer tar into `file`, telling a read that failed from a write that did.
fn copy_data(data: &mut impl Read, file: &mut File, path: &Path) -> Result<()> {
    let mut buffer = vec![0; 64 * 1024];
    loop {
        let read = match data.read(&mut buffer) {
            Ok(0) => return Ok(()),
            Ok(read) => read,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(err) => {
                // Short or garbled data is the blob's; anything else (a full disk, for a copy kept of it) is said as it is.
                let short = matches!(err.kind(), io::ErrorKind::UnexpectedEof | io::ErrorKind::InvalidData);
                let hint = if short { " (is the blob cut short?)" } else { "" };
                return Err(err).with_context(|| format!("read its data from the layer blob{hint}"));
            }
        };
        file.write_all(&buffer[..read]).with_context(|| format!("write file {}", path.display()))?;
    }
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
                    return Err(refuse(format!(
                        "its path goes through the symlink {:?}",
                        walked.display().to_string()
                    )));
                }
                Ok(meta) if meta.is_dir() => {}
                Ok(_) => {
                    let walked = walked.display().to_string();
                    return Err(refuse(format!("its path goes through {walked:?}, which is not a directory")));
                }
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

    #[test]
    fn a_files_user_xattrs_come_back_from_its_pax_records() {
        let record = b"29 SCHILY.xattr.user.app=cgi\n";
        let tar = tar_of(|b| {
            let mut pax = tar::Header::new_ustar();
            pax.set_entry_type(EntryType::XHeader);
            pax.set_size(record.len() as u64);
            pax.set_cksum();
            b.append_data(&mut pax, "PaxHeaders.0/index.cgi", &record[..]).unwrap();
            let mut file = tar::Header::new_ustar();
            file.set_size(2);
            file.set_mode(0o755);
            file.set_uid(0);
            file.set_gid(0);
            file.set_mtime(0);
            file.set_cksum();
            b.append_data(&mut file, "index.cgi", &b"#!"[..]).unwrap();
        });
        let dest = tempfile::tempdir_in(env!("CARGO_MANIFEST_DIR")).unwrap();
        unpack_layer(&tar[..], dest.path()).unwrap();
        let mut value = [0u8; 8];
        let path =
            std::ffi::CString::new(std::os::unix::ffi::OsStrExt::as_bytes(dest.path().join("index.cgi").as_os_str()))
                .unwrap();
        // SAFETY: both strings are NUL-terminated; `value` is writable for its length.
        let len = unsafe { libc::lgetxattr(path.as_ptr(), c"user.app".as_ptr(), value.as_mut_ptr().cast(), 8) };
        assert_eq!(&value[..usize::try_from(len).expect("user.app is set")], b"cgi");
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

    /// A blob that ends with an error after its first `len` bytes, as a gzip stream cut short does.
    struct CutShort<'a>(&'a [u8]);

    impl Read for CutShort<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.0.is_empty() {
                return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "unexpected end of file"));
            }
            self.0.read(buf)
        }
    }

    #[test]
    fn a_blob_cut_short_is_not_refused_but_said_to_be_short() {
        let data = vec![b'x'; 100_000];
        let tar = tar_of(|b| b.append_data(&mut header(EntryType::Regular, 100_000), "big", &data[..]).unwrap());
        let dir = tempfile::tempdir().unwrap();
        let err = format!("{:#}", unpack_layer(CutShort(&tar[..2048]), dir.path()).unwrap_err());
        assert!(err.starts_with("unpack layer entry \"big\": read its data from the layer blob"), "{err}");
    }
}
