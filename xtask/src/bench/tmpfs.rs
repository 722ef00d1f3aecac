//! A bench's store on a tmpfs of its own, so that disk writeback does not time the disk.

use std::fs;
use std::path::Path;

use anyhow::{Context, Result};

use crate::process;

/// Mounts a tmpfs of `size` on the new directory `dir`, runs `measure` in it, and unmounts it, whatever `measure` returned.
pub fn measure_in_tmpfs<T>(dir: &Path, size: &str, measure: impl FnOnce(&Path) -> Result<T>) -> Result<T> {
    fs::create_dir(dir).with_context(|| format!("create {}", dir.display()))?;
    let mut mount = process::command("mount", &["-t", "tmpfs", "-o", &format!("size={size},mode=0700"), "rebox-bench"]);
    mount.arg(dir);
    process::run(mount)?;
    let measured = measure(dir);
    let mut umount = process::command("umount", &[]);
    umount.arg(dir);
    let unmounted = process::run(umount);
    if let (Err(_), Err(err)) = (&measured, &unmounted) {
        eprintln!("xtask: {err:#}");
    }
    let measured = measured?;
    unmounted?;
    Ok(measured)
}
