//! `cargo xtask image [DIR]`: write the sample images, `busybox:latest` and
//! `helloworld:latest`, as OCI image layouts in `DIR/busybox` and `DIR/helloworld`.
//!
//! Chapter 3 on runs them: `union-rootfs image load DIR/busybox` loads one into a store.
//! The image is built from the host's static busybox by
//! `rebox_support::sample_image`, the same code the suites use, so the demo,
//! the bench and the suites all run the same bytes.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use rebox_support::sample_image::{
    HELLOWORLD_IMAGE, HOST_BUSYBOX, SAMPLE_IMAGE, build_helloworld_image, build_sample_image,
};

use crate::{process, setup};

/// Writes the sample images into `dir`, or into `target/sample-image/`, and says how to load them.
pub fn run(dir: Option<&str>) -> Result<()> {
    let dir = match dir {
        Some(dir) => PathBuf::from(dir),
        None => process::target_dir()?.join("sample-image"),
    };
    build(&dir)?;
    println!("wrote the sample images {SAMPLE_IMAGE} and {HELLOWORLD_IMAGE} as OCI image layouts in {}", dir.display());
    println!("load one into a store with: union-rootfs image load {}", dir.join("busybox").display());
    Ok(())
}

/// Writes the sample images into `dir/busybox` and `dir/helloworld`, installing busybox-static first if the host lacks it.
pub fn build(dir: &Path) -> Result<()> {
    if !Path::new(HOST_BUSYBOX).exists() {
        setup::run()?;
    }
    let busybox = dir.join("busybox");
    build_sample_image(&busybox).with_context(|| format!("write {SAMPLE_IMAGE} into {}", busybox.display()))?;
    let helloworld = dir.join("helloworld");
    build_helloworld_image(&helloworld)
        .with_context(|| format!("write {HELLOWORLD_IMAGE} into {}", helloworld.display()))
}
