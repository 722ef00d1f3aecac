//! A cpio archive in the "newc" format, the one the kernel unpacks as an initramfs.
//!
//! Each entry is a 110-byte ASCII header (`070701` and thirteen 8-digit hex
//! fields), the NUL-terminated name and the data, each padded to 4 bytes; a
//! `TRAILER!!!` entry ends the archive (the kernel's
//! `Documentation/driver-api/early-userspace/buffer-format.rst`). Entries are
//! kept by path, so every directory is written before what it holds, as the
//! kernel needs; owners are root and times are 0, so the same tree gives the
//! same bytes. Nothing here needs root: the archive only describes the files.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

/// What one path of the archive is.
#[derive(Debug, Clone)]
enum Entry {
    Dir {
        mode: u32,
    },
    /// A file whose bytes are read from the host when the archive is written.
    Copy {
        mode: u32,
        source: PathBuf,
    },
    Bytes {
        mode: u32,
        data: Vec<u8>,
    },
    Symlink {
        target: String,
    },
}

/// The tree an archive will hold, by path inside it (relative, no leading `/`).
#[derive(Debug, Default)]
pub struct Archive {
    entries: BTreeMap<PathBuf, Entry>,
}

impl Archive {
    /// A directory with permission bits `mode` (its parents are made 0755 if absent).
    pub fn dir(&mut self, path: impl AsRef<Path>, mode: u32) {
        let path = self.place(path.as_ref());
        self.entries.insert(path, Entry::Dir { mode });
    }

    /// A file holding `data`.
    pub fn bytes(&mut self, path: impl AsRef<Path>, mode: u32, data: impl Into<Vec<u8>>) {
        let path = self.place(path.as_ref());
        self.entries.insert(path, Entry::Bytes { mode, data: data.into() });
    }

    /// A file copied from `source` on the host when the archive is written.
    pub fn copy(&mut self, path: impl AsRef<Path>, mode: u32, source: impl Into<PathBuf>) {
        let path = self.place(path.as_ref());
        self.entries.insert(path, Entry::Copy { mode, source: source.into() });
    }

    /// A symbolic link to `target`.
    pub fn symlink(&mut self, path: impl AsRef<Path>, target: &str) {
        let path = self.place(path.as_ref());
        self.entries.insert(path, Entry::Symlink { target: target.to_owned() });
    }

    /// Whether the archive already holds `path`.
    pub fn contains(&self, path: impl AsRef<Path>) -> bool {
        self.entries.contains_key(&relative(path.as_ref()))
    }

    /// The path inside the archive, after adding its missing parent directories.
    fn place(&mut self, path: &Path) -> PathBuf {
        let path = relative(path);
        for parent in path.ancestors().skip(1).filter(|p| !p.as_os_str().is_empty()) {
            self.entries.entry(parent.to_path_buf()).or_insert(Entry::Dir { mode: 0o755 });
        }
        path
    }

    /// Writes the archive to `out`.
    pub fn write(&self, out: &Path) -> Result<()> {
        let file = File::create(out).with_context(|| format!("create the archive {}", out.display()))?;
        let mut writer = BufWriter::new(file);
        self.write_to(&mut writer).with_context(|| format!("write the archive {}", out.display()))?;
        writer.flush().with_context(|| format!("write the archive {}", out.display()))
    }

    fn write_to(&self, out: &mut impl Write) -> Result<()> {
        for (inode, (path, entry)) in (1..).zip(&self.entries) {
            let name = path.to_str().with_context(|| format!("a path that is not UTF-8: {}", path.display()))?;
            let header = |kind: u32, mode: u32, links: u32, size: u64| Header { inode, mode: kind | mode, links, size };
            match entry {
                Entry::Dir { mode } => write_entry(out, name, header(0o040000, *mode, 2, 0), &mut io::empty())?,
                Entry::Bytes { mode, data } => {
                    write_entry(out, name, header(0o100000, *mode, 1, data.len() as u64), &mut data.as_slice())?
                }
                Entry::Symlink { target } => {
                    let size = target.len() as u64;
                    write_entry(out, name, header(0o120000, 0o777, 1, size), &mut target.as_bytes())?
                }
                Entry::Copy { mode, source } => {
                    let mut file = File::open(source).with_context(|| format!("open {}", source.display()))?;
                    let size = file.metadata().with_context(|| format!("stat {}", source.display()))?.len();
                    write_entry(out, name, header(0o100000, *mode, 1, size), &mut file)
                        .with_context(|| format!("copy {} into the archive", source.display()))?
                }
            }
        }
        write_entry(out, "TRAILER!!!", Header { inode: 0, mode: 0, links: 1, size: 0 }, &mut io::empty())
    }
}

/// The fields of a newc header that differ between entries; the others are 0.
struct Header {
    inode: u32,
    mode: u32,
    links: u32,
    size: u64,
}

/// One entry: header, name, padding, data, padding.
fn write_entry(out: &mut impl Write, name: &str, header: Header, data: &mut impl io::Read) -> Result<()> {
    let Ok(size) = u32::try_from(header.size) else { bail!("{name} is too large for a newc archive (4 GiB)") };
    let name_size = name.len() as u32 + 1;
    // magic, ino, mode, uid, gid, nlink, mtime, filesize, devmajor, devminor, rdevmajor, rdevminor, namesize, check
    let fields = [header.inode, header.mode, 0, 0, header.links, 0, size, 0, 0, 0, 0, name_size, 0];
    let mut head = String::from("070701");
    for field in fields {
        head.push_str(&format!("{field:08X}"));
    }
    out.write_all(head.as_bytes())?;
    out.write_all(name.as_bytes())?;
    out.write_all(&[0])?;
    out.write_all(&[0; 3][..padding(head.len() + name_size as usize)])?;
    let copied = io::copy(&mut io::Read::take(data, header.size), out)?;
    if copied != header.size {
        bail!("{name}: {copied} bytes read, {} expected (did the file change?)", header.size);
    }
    out.write_all(&[0; 3][..padding(header.size as usize)])?;
    Ok(())
}

/// Zero bytes that bring `len` to a multiple of 4.
fn padding(len: usize) -> usize {
    (4 - len % 4) % 4
}

/// `path` without its leading `/`.
fn relative(path: &Path) -> PathBuf {
    path.strip_prefix("/").unwrap_or(path).to_path_buf()
}

#[cfg(test)]
mod tests {
    use std::process::Command;

    use super::*;

    fn bytes_of(archive: &Archive) -> Vec<u8> {
        let mut out = Vec::new();
        archive.write_to(&mut out).unwrap();
        out
    }

    #[test]
    fn a_file_gets_a_newc_header_its_parents_and_padding() {
        let mut archive = Archive::default();
        archive.bytes("/etc/hostname", 0o644, "vm\n");
        let out = bytes_of(&archive);
        // The parent directory comes first: inode 1, a directory 0755 with 2 links, name "etc" (4 bytes with NUL).
        let dir = concat!(
            "070701", "00000001", "000041ED", "00000000", "00000000", "00000002", "00000000", "00000000", "00000000",
            "00000000", "00000000", "00000000", "00000004", "00000000",
        );
        assert_eq!(&out[..110], dir.as_bytes());
        assert_eq!(&out[110..116], b"etc\0\0\0", "110 + 4 is padded to 116");
        // Then the file: inode 2, a regular file 0644, 3 bytes, name "etc/hostname" (13 bytes with NUL).
        let file = &out[116..];
        assert_eq!(&file[..6], b"070701");
        assert_eq!(&file[6..22], b"00000002000081A4");
        assert_eq!(&file[54..62], b"00000003", "filesize");
        assert_eq!(&file[94..102], b"0000000D", "namesize");
        assert_eq!(&file[110..124], b"etc/hostname\0\0", "110 + 13 is padded to 124");
        assert_eq!(&file[124..128], b"vm\n\0", "3 bytes of data padded to 4");
        assert!(file[128..].starts_with(b"070701"));
        assert!(out.ends_with(b"TRAILER!!!\0\0\0\0"), "the trailer ends the archive");
        assert_eq!(out.len() % 4, 0);
    }

    #[test]
    fn cpio_lists_what_was_written() {
        let dir = tempfile::tempdir().unwrap();
        let source = dir.path().join("source");
        std::fs::write(&source, "copied").unwrap();
        let mut archive = Archive::default();
        archive.copy("/usr/bin/tool", 0o755, &source);
        archive.symlink("/bin/sh", "busybox");
        archive.dir("/tmp", 0o1777);
        let out = dir.path().join("initramfs.cpio");
        archive.write(&out).unwrap();

        // GNU cpio if the machine has it, else busybox's (setup installs busybox-static).
        let (program, args) = if crate::process::found("cpio") {
            ("cpio", ["-t", "--quiet"].as_slice())
        } else {
            ("/bin/busybox", ["cpio", "-t"].as_slice())
        };
        let listed = Command::new(program)
            .args(args)
            .stdin(File::open(&out).unwrap())
            .output()
            .unwrap_or_else(|err| panic!("run {program} to list the archive: {err}"));
        assert!(listed.status.success(), "{program} failed: {}", String::from_utf8_lossy(&listed.stderr));
        assert_eq!(String::from_utf8_lossy(&listed.stdout), "bin\nbin/sh\ntmp\nusr\nusr/bin\nusr/bin/tool\n");
    }
}
