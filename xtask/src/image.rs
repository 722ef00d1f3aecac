//! `cargo xtask image [DIR]`: write the sample image, `busybox:latest`, as an OCI image layout.
//!
//! Chapter 3 on runs it: `union-rootfs image load DIR` loads it into a store.
//! The image is built from the host's static busybox by
//! `rebox_support::sample_image`, the same code the suites use, so the demo,
//! the bench and the suites all run the same bytes.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use rebox_support::sample_image::{HOST_BUSYBOX, SAMPLE_IMAGE, build_sample_image};

use crate::{process, setup};

/// Writes the sample image into `dir`, or into `target/sample-image/busybox`, and says how to load it.
pub fn run(dir: Option<&str>) -> Result<()> {
    let dir = match dir {
        Some(dir) => PathBuf::from(dir),
        None => process::target_dir()?.join("sample-image/busybox"),
    };
    build(&dir)?;
    println!("wrote the sample image {SAMPLE_IMAGE} as an OCI image layout in {}", dir.display());
    println!("load it into a store with: union-rootfs image load {}", dir.display());
    Ok(())
}

/// Writes the sample image into `dir`, installing busybox-static first if the host lacks it.
pub fn build(dir: &Path) -> Result<()> {
    if !Path::new(HOST_BUSYBOX).exists() {
        setup::run()?;
    }
    build_sample_image(dir).with_context(|| format!("write the sample image {SAMPLE_IMAGE} into {}", dir.display()))
}
