//! Extended attributes: read them off a file, as a layer tar must carry them.
//!
//! A file's xattrs are part of what it is: `security.capability` is what
//! lets `ping` open a raw socket without being set-user-id root, `user.*`
//! is the application's own. A layer keeps them (in the tar, as PAX records
//! `SCHILY.xattr.<name>`, see `pack.rs`), except overlayfs's own markers
//! (`trusted.overlay.*`, `user.overlay.*`), which describe the layer, not the
//! file. nix has no xattr calls, so these go to libc. See `man 7 xattr`,
//! `man 2 listxattr`, `man 2 getxattr`. Introduced in chapter 6.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use anyhow::{Context, Result};
use nix::errno::Errno;

/// The prefixes of the xattrs overlayfs keeps its own markers in: never part of a file's content.
pub const OVERLAY_PREFIXES: [&str; 2] = ["trusted.overlay.", "user.overlay."];

/// The value of the xattr `name` of `path` (not following a symlink); `None` if it has none.
pub fn get(path: &Path, name: &str) -> Result<Option<Vec<u8>>> {
    let c_path = c_path(path)?;
    let c_name = CString::new(name).context("an xattr name holds a NUL byte")?;
    let read = |buffer: &mut [u8]| {
        // SAFETY: both strings are NUL-terminated and live across the call; `buffer` is writable
        // for the length passed (a null pointer with length 0 asks for the size only).
        let len =
            unsafe { libc::lgetxattr(c_path.as_ptr(), c_name.as_ptr(), buffer.as_mut_ptr().cast(), buffer.len()) };
        Errno::result(len).map(|len| len as usize)
    };
    match fetch(read) {
        Ok(value) => Ok(Some(value)),
        Err(Errno::ENODATA | Errno::ENOTSUP) => Ok(None),
        Err(err) => Err(err).with_context(|| format!("read the xattr {name} of {} (lgetxattr)", path.display())),
    }
}

/// Whether the xattr `name` is one of overlayfs's markers rather than part of the file.
pub fn is_overlay_marker(name: &str) -> bool {
    OVERLAY_PREFIXES.iter().any(|prefix| name.starts_with(prefix))
}

/// Every xattr of `path`, overlayfs's markers included, sorted by name; none where the filesystem has none.
pub fn list_all(path: &Path) -> Result<Vec<(String, Vec<u8>)>> {
    let c_path = c_path(path)?;
    let read = |buffer: &mut [u8]| {
        // SAFETY: the path is NUL-terminated and lives across the call; `buffer` is writable for
        // the length passed.
        let len = unsafe { libc::llistxattr(c_path.as_ptr(), buffer.as_mut_ptr().cast(), buffer.len()) };
        Errno::result(len).map(|len| len as usize)
    };
    let names = match fetch(read) {
        Ok(names) => names,
        Err(Errno::ENOTSUP) => return Ok(Vec::new()),
        Err(err) => return Err(err).with_context(|| format!("list the xattrs of {} (llistxattr)", path.display())),
    };
    let mut xattrs = Vec::new();
    for name in names.split(|byte| *byte == 0).filter(|name| !name.is_empty()) {
        let name = String::from_utf8_lossy(name).into_owned();
        // Gone since the list was read: nothing to keep.
        if let Some(value) = get(path, &name)? {
            xattrs.push((name, value));
        }
    }
    xattrs.sort();
    Ok(xattrs)
}

/// Calls `read` for the size, then with a buffer that large; again if the value grew in between (ERANGE).
fn fetch(read: impl Fn(&mut [u8]) -> nix::Result<usize>) -> nix::Result<Vec<u8>> {
    loop {
        let size = read(&mut [])?;
        let mut buffer = vec![0; size];
        match read(&mut buffer) {
            Ok(len) => {
                buffer.truncate(len);
                return Ok(buffer);
            }
            Err(Errno::ERANGE) => continue,
            Err(err) => return Err(err),
        }
    }
}

fn c_path(path: &Path) -> Result<CString> {
    CString::new(path.as_os_str().as_bytes()).with_context(|| format!("the path {} holds a NUL byte", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_xattrs_and_overlay_markers_are_listed_and_told_apart() {
        let dir = tempfile::tempdir_in(env!("CARGO_MANIFEST_DIR")).unwrap();
        let file = dir.path().join("file");
        std::fs::write(&file, "").unwrap();
        if ns_isolation::sys::lsetxattr(&file, "user.origin", "lesson").is_err() {
            panic!("this test needs user.* xattrs on the filesystem of {}", dir.path().display());
        }
        ns_isolation::sys::lsetxattr(&file, "user.overlay.opaque", "y").unwrap();
        let listed = list_all(&file).unwrap();
        assert_eq!(
            listed,
            [("user.origin".to_owned(), b"lesson".to_vec()), ("user.overlay.opaque".to_owned(), b"y".to_vec())]
        );
        assert!(!is_overlay_marker(&listed[0].0) && is_overlay_marker(&listed[1].0));
        assert_eq!(get(&file, "user.overlay.opaque").unwrap().as_deref(), Some(&b"y"[..]));
        assert_eq!(get(&file, "user.none").unwrap(), None);
    }
}
