//! The VM's disk: an empty ext2 filesystem in a sparse file, attached as `/dev/vda`.
//!
//! The VM's root is a tmpfs, and some tests need a filesystem on a block
//! device: chapter 3's masks probe mounts the host's disk from inside a
//! container, as root there may. `stage2.sh` mounts this one at the
//! workspace's `target/tmp`, which is the suites' `CARGO_TARGET_TMPDIR`.
//! Formatted with `mke2fs` (e2fsprogs), which writes into a file without
//! root; ext2, which the kernel's ext4 driver mounts with nothing more
//! loaded (no journal, no checksums).

use std::fs::File;
use std::path::Path;

use anyhow::{Context, Result};

use crate::process;

/// The disk's size; sparse, so it costs only what the tests write.
const SIZE: u64 = 1 << 30;

/// Writes the empty filesystem to `path`.
pub fn make(path: &Path) -> Result<()> {
    let file = File::create(path).with_context(|| format!("create the VM's disk {}", path.display()))?;
    file.set_len(SIZE).with_context(|| format!("size the VM's disk {}", path.display()))?;
    let path = path.to_str().context("the VM's disk path is not UTF-8")?;
    process::run(process::command("mke2fs", &["-q", "-F", "-t", "ext2", "-L", "rebox-vm", path]))
        .context("format the VM's disk (Debian: apt-get install e2fsprogs)")
}
