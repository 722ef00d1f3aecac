//! Traced calls on files and directories: `chdir`, `chroot`, `mkdir`, `rmdir`,
//! `mknod`, `symlink`, `lsetxattr`, and the small writes that configure the
//! kernel (`/proc/<pid>/uid_map`, cgroup files).

use std::ffi::CString;
use std::fs;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::DirBuilderExt;
use std::path::Path;

use nix::errno::Errno;

use nix::sys::stat::{Mode, SFlag, major, minor};

use crate::trace::{self, quote};

/// `open(2)` for reading, close-on-exec: `open("/proc/42/ns/net", O_RDONLY|O_CLOEXEC) = 3`.
pub fn open_read(path: &Path) -> std::io::Result<OwnedFd> {
    let result = fs::File::open(path).map(OwnedFd::from);
    trace::io(|| format!("open({}, O_RDONLY|O_CLOEXEC)", quote(path.display())), result)
}

/// `chdir(2)`.
pub fn chdir(path: &Path) -> nix::Result<()> {
    trace::syscall(|| format!("chdir({})", quote(path.display())), nix::unistd::chdir(path))
}

/// `chroot(2)`.
pub fn chroot(path: &Path) -> nix::Result<()> {
    trace::syscall(|| format!("chroot({})", quote(path.display())), nix::unistd::chroot(path))
}

/// `mkdir(2)` with `mode` (before the umask).
pub fn mkdir(path: &Path, mode: u32) -> std::io::Result<()> {
    let result = fs::DirBuilder::new().mode(mode).create(path);
    trace::io(|| format!("mkdir({}, {mode:04o})", quote(path.display())), result)
}

/// `rmdir(2)`.
pub fn rmdir(path: &Path) -> std::io::Result<()> {
    trace::io(|| format!("rmdir({})", quote(path.display())), fs::remove_dir(path))
}

/// `mknod(2)`: a device node of `kind` (`S_IFCHR`, `S_IFBLK`) with device number `dev`.
pub fn mknod(path: &Path, kind: SFlag, mode: Mode, dev: u64) -> nix::Result<()> {
    let result = nix::sys::stat::mknod(path, kind, mode, dev);
    let kind_name = if kind == SFlag::S_IFBLK { "S_IFBLK" } else { "S_IFCHR" };
    trace::syscall(
        || {
            format!(
                "mknod({}, {kind_name}|{:04o}, makedev({}, {}))",
                quote(path.display()),
                mode.bits(),
                major(dev),
                minor(dev)
            )
        },
        result,
    )
}

/// `symlink(2)`: `link` points to `target`.
pub fn symlink(target: &str, link: &Path) -> std::io::Result<()> {
    let result = std::os::unix::fs::symlink(target, link);
    trace::io(|| format!("symlink({}, {})", quote(target), quote(link.display())), result)
}

/// Writes `contents` to a kernel file in one `write(2)`: `write("/proc/42/uid_map", "0 0 1", 5) = 5`.
pub fn write_file(path: &Path, contents: &str) -> std::io::Result<()> {
    let result = fs::write(path, contents).map(|()| contents.len());
    trace::io(|| format!("write({}, {}, {})", quote(path.display()), quote(contents), contents.len()), result).map(drop)
}

/// `lsetxattr(2)`: set the extended attribute `name` of `path` (not following a symlink) to `value`.
///
/// nix has no xattr calls, so this one goes to libc itself.
pub fn lsetxattr(path: &Path, name: &str, value: impl AsRef<[u8]>) -> nix::Result<()> {
    let value = value.as_ref();
    let c_path = CString::new(path.as_os_str().as_bytes()).map_err(|_| Errno::EINVAL)?;
    let c_name = CString::new(name).map_err(|_| Errno::EINVAL)?;
    // SAFETY: both strings are NUL-terminated and live across the call;
    // `value` is a valid buffer of `value.len()` bytes.
    let rc = unsafe { libc::lsetxattr(c_path.as_ptr(), c_name.as_ptr(), value.as_ptr().cast(), value.len(), 0) };
    let result = Errno::result(rc).map(drop);
    trace::syscall(
        || {
            format!(
                "lsetxattr({}, {}, {}, {}, 0)",
                quote(path.display()),
                quote(name),
                quote(String::from_utf8_lossy(value)),
                value.len()
            )
        },
        result,
    )
}
