//! The read-write layer as a layer tar: overlayfs's markers turned back into OCI's.
//!
//! Chapter 3 unpacked layer tars into directories, turning OCI whiteouts
//! into overlayfs's. Committing runs the other way: `upper/` is walked in
//! name order, parents first, and each entry becomes a tar entry that keeps
//! what the file is: its type, mode, owner, modification time, the target
//! of a symlink, its extended attributes (as PAX records `SCHILY.xattr.*`).
//! A file with several names in the layer is stored once, then as hard
//! links to that first name. Two entries are overlayfs's and must become
//! OCI's on the way:
//!
//! - a whiteout, the 0/0 character device `dir/name`, becomes an empty file
//!   `dir/.wh.name`;
//! - an opaque directory (`trusted.overlay.opaque=y`) stays a directory,
//!   followed by an empty file `dir/.wh..wh..opq` inside it.
//!
//! The same content always gives the same bytes (sorted names, no times but
//! the files' own), so the same layer always has the same diff id. Sockets
//! are skipped: a tar cannot hold one. The xattrs kept are those Docker
//! keeps: a file's capabilities (`security.capability`) and the
//! application's `user.*`; a SELinux label or an ACL is the host's.
//!
//! Some content cannot go into a layer, and is refused rather than packed
//! wrong: a directory overlayfs renamed with `redirect_dir`, or a file it
//! copied up metadata-only (`metacopy`), whose content is in another layer;
//! a file of the container's own named `.wh.*`, which every reader would
//! take for a whiteout; a file that shrinks while it is read (a running
//! container committed with `--pause=false`), which would leave the tar
//! shorter than its headers say. In a rootless store, the files of the
//! store's user are root's inside the container: they go in as 0:0, as
//! chapter 3 unpacks them. See the OCI image spec `layer.md`, `man 5 tar`
//! (pax). Introduced in chapter 6.

use std::collections::HashMap;
use std::fs::{self, File, Metadata};
use std::io::{self, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use tar::{EntryType, Header};
use union_rootfs::whiteout::{OPAQUE_MARKER, OPAQUE_XATTRS, WHITEOUT_PREFIX};

use crate::below::is_whiteout;
use crate::walk;
use crate::xattr;

/// The xattrs overlayfs sets when a directory was renamed, or a file copied up without its data.
const CONTENT_ELSEWHERE: [&str; 4] =
    ["trusted.overlay.redirect", "user.overlay.redirect", "trusted.overlay.metacopy", "user.overlay.metacopy"];

/// Largest uid or gid a ustar header holds in its octal fields; larger ones go in PAX records.
const USTAR_MAX_ID: u64 = 0o7777777;
/// Latest modification time a ustar header holds: 11 octal digits of seconds, in the year 2242.
const USTAR_MAX_MTIME: i64 = 0o77777777777;

/// Writes the layer tar of the read-write layer `upper` to `out`; returns `out`.
pub fn pack_layer<W: Write>(upper: &Path, out: W) -> Result<W> {
    // Rootless, the store's user is root inside its containers (chapter 1's id map).
    let (uid, gid) = (nix::unistd::geteuid().as_raw(), nix::unistd::getegid().as_raw());
    let root_is = (uid != 0).then_some((uid, gid));
    let mut packer = Packer { upper, builder: tar::Builder::new(out), first_names: HashMap::new(), root_is };
    walk::walk(upper, |path, meta| {
        packer.entry(path, meta).with_context(|| format!("pack {} into the layer", path.display()))
    })?;
    packer.builder.into_inner().context("finish the layer tar")
}

/// One walk of `upper/`, writing as it goes.
struct Packer<'a, W: Write> {
    upper: &'a Path,
    builder: tar::Builder<W>,
    /// The first name under which each multiply-linked file went in: (device, inode) → path.
    first_names: HashMap<(u64, u64), PathBuf>,
    /// In a rootless store, the host uid and gid that are root inside.
    root_is: Option<(u32, u32)>,
}

impl<W: Write> Packer<'_, W> {
    /// Packs one entry of `upper/`: a whiteout as `.wh.<name>`, anything else as itself.
    fn entry(&mut self, path: &Path, meta: &Metadata) -> Result<()> {
        let full = self.upper.join(path);
        let name = path.file_name().unwrap_or_default().as_bytes();
        if name.starts_with(WHITEOUT_PREFIX.as_bytes()) && !is_whiteout(meta) {
            bail!(
                "its name starts with {WHITEOUT_PREFIX:?}, which a layer reserves for whiteouts: rename it to commit"
            );
        }
        let all_xattrs = xattr::list_all(&full)?;
        if let Some((name, _)) = all_xattrs.iter().find(|(name, _)| CONTENT_ELSEWHERE.contains(&name.as_str())) {
            bail!(
                "overlayfs marked it {name}: its content is in another layer, which a layer tar cannot point to \
                 (mount overlays with redirect_dir=off,metacopy=off to commit)"
            );
        }
        let opaque = all_xattrs.iter().any(|(name, value)| OPAQUE_XATTRS.contains(&name.as_str()) && value == b"y");
        let xattrs: Vec<(String, Vec<u8>)> = all_xattrs
            .into_iter()
            .filter(|(name, _)| {
                (name.starts_with("user.") && !xattr::is_overlay_marker(name)) || name == "security.capability"
            })
            .collect();
        // ANCHOR: whiteout_entries
        // EXERCISE(whiteout-entries): a whiteout → an empty file `.wh.<name>` beside it; an opaque directory → the directory, then an empty `.wh..wh..opq` in it; anything else as it is
        if is_whiteout(meta) {
            let name = format!("{WHITEOUT_PREFIX}{}", path.file_name().unwrap_or_default().to_string_lossy());
            let mut header = self.header_for(meta, EntryType::Regular);
            header.set_mode(0);
            return self.append(&header, &path.with_file_name(name), &[], None, io::empty());
        }
        self.append_as_it_is(path, meta, &xattrs)?;
        if opaque && meta.is_dir() {
            let mut marker = self.header_for(meta, EntryType::Regular);
            marker.set_mode(meta.mode() & 0o777);
            self.append(&marker, &path.join(OPAQUE_MARKER), &[], None, io::empty())?;
        }
        Ok(())
        // END EXERCISE
        // ANCHOR_END: whiteout_entries
    }

    /// Packs a file, a directory, a symlink, a device or a FIFO with its metadata; a socket is skipped.
    fn append_as_it_is(&mut self, path: &Path, meta: &Metadata, xattrs: &[(String, Vec<u8>)]) -> Result<()> {
        let kind = meta.file_type();
        let full = self.upper.join(path);
        if kind.is_dir() {
            return self.append(&self.header_for(meta, EntryType::Directory), path, xattrs, None, io::empty());
        }
        if kind.is_symlink() {
            let target = fs::read_link(&full).with_context(|| format!("read the symlink {}", full.display()))?;
            return self.append(&self.header_for(meta, EntryType::Symlink), path, xattrs, Some(&target), io::empty());
        }
        if kind.is_socket() {
            return Ok(());
        }
        if kind.is_char_device() || kind.is_block_device() || kind.is_fifo() {
            let entry = match () {
                _ if kind.is_char_device() => EntryType::Char,
                _ if kind.is_block_device() => EntryType::Block,
                _ => EntryType::Fifo,
            };
            let mut header = self.header_for(meta, entry);
            if !kind.is_fifo() {
                header.set_device_major(nix::sys::stat::major(meta.rdev()) as u32)?;
                header.set_device_minor(nix::sys::stat::minor(meta.rdev()) as u32)?;
            }
            return self.append(&header, path, xattrs, None, io::empty());
        }
        if meta.nlink() > 1 {
            match self.first_names.get(&(meta.dev(), meta.ino())) {
                Some(first) => {
                    let first = first.clone();
                    return self.append(
                        &self.header_for(meta, EntryType::Link),
                        path,
                        xattrs,
                        Some(&first),
                        io::empty(),
                    );
                }
                None => {
                    self.first_names.insert((meta.dev(), meta.ino()), path.to_path_buf());
                }
            }
        }
        let mut header = self.header_for(meta, EntryType::Regular);
        header.set_size(meta.len());
        let file = File::open(&full).with_context(|| format!("open {}", full.display()))?;
        // Exactly what the header promised: more would shift the whole tar, less is refused.
        let content = ExactLength { inner: io::Read::take(file, meta.len()), left: meta.len() };
        self.append(&header, path, xattrs, None, content)
    }

    /// Writes a PAX header if the entry needs one (xattrs, a long name, a large id), then the entry.
    fn append(
        &mut self,
        header: &Header,
        path: &Path,
        xattrs: &[(String, Vec<u8>)],
        link: Option<&Path>,
        content: impl io::Read,
    ) -> Result<()> {
        let mut header = header.clone();
        let mut records: Vec<(String, Vec<u8>)> =
            xattrs.iter().map(|(name, value)| (format!("SCHILY.xattr.{name}"), value.clone())).collect();
        let mut name = path.as_os_str().as_bytes().to_vec();
        if header.entry_type() == EntryType::Directory {
            name.push(b'/');
        }
        if header.set_path(Path::new(std::ffi::OsStr::from_bytes(&name))).is_err() {
            records.push(("path".to_owned(), name.clone()));
            header.set_path(short_name(&name))?;
        }
        if let Some(link) = link
            && header.set_link_name_literal(link.as_os_str().as_bytes()).is_err()
        {
            records.push(("linkpath".to_owned(), link.as_os_str().as_bytes().to_vec()));
            header.set_link_name_literal(short_name(link.as_os_str().as_bytes()).as_os_str().as_bytes())?;
        }
        for (key, value) in [("uid", header.uid()?), ("gid", header.gid()?)] {
            if value > USTAR_MAX_ID {
                records.push((key.to_owned(), value.to_string().into_bytes()));
            }
        }
        if header.uid()? > USTAR_MAX_ID {
            header.set_uid(0);
        }
        if header.gid()? > USTAR_MAX_ID {
            header.set_gid(0);
        }
        if !records.is_empty() {
            let data = pax_records(&records);
            let mut pax = Header::new_ustar();
            pax.set_entry_type(EntryType::XHeader);
            pax.set_path(short_name(&[b"PaxHeaders.0/", short_name(&name).as_os_str().as_bytes()].concat()))?;
            pax.set_mode(0o644);
            pax.set_uid(0);
            pax.set_gid(0);
            pax.set_mtime(0);
            pax.set_size(data.len() as u64);
            pax.set_cksum();
            self.builder.append(&pax, &data[..]).context("write a PAX header")?;
        }
        header.set_cksum();
        self.builder.append(&header, content).context("write a tar entry")?;
        Ok(())
    }
}

impl<W: Write> Packer<'_, W> {
    /// A ustar header of `kind` with the mode, owner (as the container sees it) and modification time of `meta`.
    fn header_for(&self, meta: &Metadata, kind: EntryType) -> Header {
        let (uid, gid) = match self.root_is {
            Some((uid, gid)) => {
                (if meta.uid() == uid { 0 } else { meta.uid() }, if meta.gid() == gid { 0 } else { meta.gid() })
            }
            None => (meta.uid(), meta.gid()),
        };
        let mut header = Header::new_ustar();
        header.set_entry_type(kind);
        header.set_mode(meta.mode() & 0o7777);
        header.set_uid(u64::from(uid));
        header.set_gid(u64::from(gid));
        header.set_mtime(meta.mtime().clamp(0, USTAR_MAX_MTIME) as u64);
        header.set_size(0);
        header
    }
}

/// A file's content, read to exactly the length its header gave: ending early is an error.
struct ExactLength<R> {
    inner: R,
    left: u64,
}

impl<R: io::Read> io::Read for ExactLength<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n == 0 && self.left > 0 && !buf.is_empty() {
            return Err(io::Error::other(
                "the file shrank while it was read: commit a running container with --pause (the default)",
            ));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

/// The first 99 bytes of a name, for a header whose real name is in a PAX record.
fn short_name(name: &[u8]) -> PathBuf {
    let end = name.len().min(99);
    PathBuf::from(std::ffi::OsStr::from_bytes(&name[..end]))
}

/// PAX records, each `"<length> <key>=<value>\n"`, where the length counts the whole record, itself included.
fn pax_records(records: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut data = Vec::new();
    for (key, value) in records {
        let rest = key.len() + value.len() + 3; // ' ', '=', '\n'
        let mut length = rest + 1;
        while length != rest + length.to_string().len() {
            length = rest + length.to_string().len();
        }
        data.extend_from_slice(format!("{length} {key}=").as_bytes());
        data.extend_from_slice(value);
        data.push(b'\n');
    }
    data
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    /// The names, types and link targets of a tar's entries.
    fn entries(tar: &[u8]) -> Vec<String> {
        let mut archive = tar::Archive::new(tar);
        archive
            .entries()
            .unwrap()
            .map(|entry| {
                let entry = entry.unwrap();
                let link = entry.link_name().unwrap().map(|l| format!(" -> {}", l.display())).unwrap_or_default();
                format!("{:?} {}{link}", entry.header().entry_type(), entry.path().unwrap().display())
            })
            .collect()
    }

    #[test]
    fn files_directories_symlinks_and_hard_links_keep_what_they_are() {
        let upper = tempfile::tempdir().unwrap();
        fs::create_dir(upper.path().join("app")).unwrap();
        fs::write(upper.path().join("app/test.txt"), "hello").unwrap();
        fs::hard_link(upper.path().join("app/test.txt"), upper.path().join("app/again")).unwrap();
        symlink("test.txt", upper.path().join("app/link")).unwrap();
        let tar = pack_layer(upper.path(), Vec::new()).unwrap();
        assert_eq!(
            entries(&tar),
            ["Directory app/", "Regular app/again", "Symlink app/link -> test.txt", "Link app/test.txt -> app/again"]
        );
        assert_eq!(pack_layer(upper.path(), Vec::new()).unwrap(), tar, "the same layer gives the same bytes");
    }

    #[test]
    fn long_names_and_xattrs_go_into_pax_records() {
        let upper = tempfile::tempdir_in(env!("CARGO_MANIFEST_DIR")).unwrap();
        let long = "d".repeat(120);
        fs::create_dir(upper.path().join(&long)).unwrap();
        fs::write(upper.path().join(&long).join("file"), "x").unwrap();
        ns_isolation::sys::lsetxattr(&upper.path().join(&long).join("file"), "user.origin", "lesson").unwrap();
        let tar = pack_layer(upper.path(), Vec::new()).unwrap();
        let mut archive = tar::Archive::new(&tar[..]);
        let mut found = Vec::new();
        for entry in archive.entries().unwrap() {
            let mut entry = entry.unwrap();
            let path = entry.path().unwrap().display().to_string();
            let xattrs: Vec<String> = match entry.pax_extensions().unwrap() {
                Some(pax) => pax
                    .map(|record| record.unwrap().key().unwrap().to_owned())
                    .filter(|key| key.starts_with("SCHILY"))
                    .collect(),
                None => Vec::new(),
            };
            found.push((path, xattrs));
        }
        assert_eq!(
            found,
            [(format!("{long}/"), vec![]), (format!("{long}/file"), vec!["SCHILY.xattr.user.origin".to_owned()])]
        );
    }

    #[test]
    fn a_file_named_like_a_whiteout_is_refused() {
        let upper = tempfile::tempdir().unwrap();
        fs::write(upper.path().join(".wh.notes"), "mine").unwrap();
        let err = pack_layer(upper.path(), Vec::new()).unwrap_err();
        assert!(format!("{err:#}").contains("reserves for whiteouts"), "{err:#}");
    }

    #[test]
    fn only_capabilities_and_user_xattrs_are_kept() {
        rebox_support::require_root("trusted.* xattrs");
        let upper = tempfile::tempdir_in(env!("CARGO_MANIFEST_DIR")).unwrap();
        let file = upper.path().join("file");
        fs::write(&file, "x").unwrap();
        ns_isolation::sys::lsetxattr(&file, "user.origin", "lesson").unwrap();
        ns_isolation::sys::lsetxattr(&file, "trusted.host", "mine").unwrap();
        let tar = pack_layer(upper.path(), Vec::new()).unwrap();
        let mut archive = tar::Archive::new(&tar[..]);
        let mut entry = archive.entries().unwrap().next().unwrap().unwrap();
        let keys: Vec<String> =
            entry.pax_extensions().unwrap().unwrap().map(|record| record.unwrap().key().unwrap().to_owned()).collect();
        assert_eq!(keys, ["SCHILY.xattr.user.origin"]);
    }

    #[test]
    fn a_file_that_ends_early_is_an_error_not_a_short_tar() {
        let mut short = ExactLength { inner: &b"abc"[..], left: 5 };
        let mut out = Vec::new();
        assert!(io::copy(&mut short, &mut out).unwrap_err().to_string().contains("shrank"));
    }

    #[test]
    fn a_pax_record_counts_its_own_length() {
        assert_eq!(pax_records(&[("path".to_owned(), b"abc".to_vec())]), b"12 path=abc\n");
        let record = pax_records(&[("k".to_owned(), vec![b'v'; 95])]);
        assert_eq!(record.len(), 102);
        assert!(record.starts_with(b"102 k="));
    }
}
