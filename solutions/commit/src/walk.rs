//! A directory tree in the order Docker reads a layer: parents first, names in byte order.
//!
//! `diff`, the layer tar and a build context's digest all read a tree, and
//! all must read it the same way every time: the same tree gives the same
//! `diff` lines, the same tar bytes, the same cache key. `read_dir` returns
//! names in whatever order the filesystem keeps them, so they are sorted
//! first, as Go's `filepath.Walk` (which Docker's readers use) sorts them.
//! Introduced in chapter 6.

use std::ffi::OsString;
use std::fs::{self, Metadata};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use anyhow::{Context, Result};

/// The names in `dir`, sorted by their bytes.
pub fn sorted_names(dir: &Path) -> Result<Vec<OsString>> {
    let mut names: Vec<OsString> = fs::read_dir(dir)
        .with_context(|| format!("read {}", dir.display()))?
        .map(|entry| entry.map(|entry| entry.file_name()))
        .collect::<std::io::Result<_>>()
        .with_context(|| format!("read {}", dir.display()))?;
    names.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    Ok(names)
}

/// Calls `visit` with the path (relative to `root`) and metadata of everything under `root`, parents first.
pub fn walk(root: &Path, mut visit: impl FnMut(&Path, &Metadata) -> Result<()>) -> Result<()> {
    walk_from(root, Path::new(""), &mut visit)
}

fn walk_from(root: &Path, relative: &Path, visit: &mut impl FnMut(&Path, &Metadata) -> Result<()>) -> Result<()> {
    for name in sorted_names(&root.join(relative))? {
        let path = relative.join(&name);
        let full = root.join(&path);
        let meta = fs::symlink_metadata(&full).with_context(|| format!("look at {}", full.display()))?;
        visit(&path, &meta)?;
        if meta.is_dir() {
            walk_from(root, &path, visit)?;
        }
    }
    Ok(())
}
