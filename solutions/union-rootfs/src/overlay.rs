//! The container's root filesystem: an overlay of read-only layers and a writable one.
//!
//! Overlayfs shows several directories as one. `lowerdir` is a
//! colon-separated list of read-only layers, *top first*; `upperdir` takes
//! every change; `workdir` (empty, on the same filesystem as upperdir) is
//! overlayfs's scratch space for atomic copy-up. A write to a lower file
//! first copies it up; a delete leaves a whiteout (a 0/0 character device)
//! in upperdir. The container's lowerdir is its init layer over the image's
//! layers, so the image's directories are never written and are shared by
//! every container of the image.
//!
//! When an overlay is unmounted, the kernel syncs its upper layer's whole
//! filesystem to disk, as `syncfs(2)` would: the container's writes are made
//! durable. A `--rm` container's writes are deleted a moment later, so its
//! overlay is mounted `volatile` (Linux 5.10), which skips every sync of the
//! upper layer; should the host crash meanwhile, the layer may be lost,
//! which for `--rm` it is anyway.
//!
//! Overlayfs keeps its markers (an opaque directory, a redirect) in
//! `trusted.overlay.*` xattrs, which only the host's root can read. An
//! overlay mounted in a user namespace is given `userxattr` (Linux 5.11)
//! and uses `user.overlay.*` instead; the store writes both on its layers
//! (see `whiteout.rs`). See the kernel's `Documentation/filesystems/overlayfs.rst`,
//! `man 2 mount`. Introduced in chapter 3.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use nix::mount::MsFlags;

use ns_isolation::sys;

/// `mount(2)` copies its data argument into one page: options longer than this are refused.
pub const MAX_OPTIONS: usize = 4095;

/// The directories of one overlay mount.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overlay {
    /// Read-only layers, top first: the init layer, then the image's top layer ... base layer.
    pub lower: Vec<PathBuf>,
    /// The container's read-write layer.
    pub upper: PathBuf,
    /// Overlayfs's work directory, beside `upper`.
    pub work: PathBuf,
    /// Never sync the upper layer to disk: for a container removed when it ends.
    pub volatile: bool,
    /// Keep overlayfs's own markers in `user.overlay.*` xattrs: for an overlay mounted in a user namespace.
    pub userxattr: bool,
}

impl Overlay {
    /// The overlay's directories for a container directory and the image layers (bottom first).
    pub fn for_container(container_dir: &Path, image_layers_bottom_first: &[PathBuf], volatile: bool) -> Self {
        let mut lower = vec![container_dir.join("init")];
        lower.extend(image_layers_bottom_first.iter().rev().cloned());
        let (upper, work) = (container_dir.join("upper"), container_dir.join("work"));
        Self { lower, upper, work, volatile, userxattr: false }
    }

    /// The mount options: `lowerdir=TOP:...:BASE,upperdir=UPPER,workdir=WORK`, then `,volatile` and `,userxattr` if asked.
    pub fn options(&self) -> Result<String> {
        for path in self.lower.iter().chain([&self.upper, &self.work]) {
            let text = path.to_str().with_context(|| format!("the layer path {} is not UTF-8", path.display()))?;
            if text.contains([',', ':', '\\']) {
                bail!("the layer path {text:?} contains ',', ':' or '\\', which overlay options cannot hold");
            }
        }
        // ANCHOR: overlay_options
        // EXERCISE(overlay-options): join the lower layers (top first) with ':', add upperdir, workdir, then ",volatile" and ",userxattr" if set
        let lower: Vec<String> = self.lower.iter().map(|path| path.display().to_string()).collect();
        let mut options =
            format!("lowerdir={},upperdir={},workdir={}", lower.join(":"), self.upper.display(), self.work.display());
        if self.volatile {
            options.push_str(",volatile");
        }
        if self.userxattr {
            options.push_str(",userxattr");
        }
        if options.len() > MAX_OPTIONS {
            bail!("the overlay options are {} bytes, more than mount(2) accepts ({MAX_OPTIONS})", options.len());
        }
        Ok(options)
        // END EXERCISE
        // ANCHOR_END: overlay_options
    }

    /// Mounts the overlay on `merged`, in the caller's mount namespace.
    pub fn mount(&self, merged: &Path) -> Result<()> {
        let options = self.options()?;
        // ANCHOR: mount_overlay
        // EXERCISE(mount-overlay): sys::mount an "overlay" filesystem (source "overlay") on `merged` with `options`
        sys::mount(Some("overlay"), merged, Some("overlay"), MsFlags::empty(), Some(&options))
            .with_context(|| format!("mount the overlay on {} ({options})", merged.display()))?;
        Ok(())
        // END EXERCISE
        // ANCHOR_END: mount_overlay
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lowerdir_is_the_init_layer_over_the_image_top_first() {
        let layers = [PathBuf::from("/s/layers/base/diff"), PathBuf::from("/s/layers/app/diff")];
        let overlay = Overlay::for_container(Path::new("/s/containers/c"), &layers, false);
        assert_eq!(
            overlay.options().unwrap(),
            "lowerdir=/s/containers/c/init:/s/layers/app/diff:/s/layers/base/diff,\
             upperdir=/s/containers/c/upper,workdir=/s/containers/c/work"
        );
    }

    #[test]
    fn a_container_removed_when_it_ends_gets_a_volatile_upper_layer() {
        let overlay = Overlay::for_container(Path::new("/c"), &[PathBuf::from("/l")], true);
        assert_eq!(overlay.options().unwrap(), "lowerdir=/c/init:/l,upperdir=/c/upper,workdir=/c/work,volatile");
    }

    #[test]
    fn an_overlay_in_a_user_namespace_keeps_its_markers_in_user_xattrs() {
        let overlay =
            Overlay { userxattr: true, ..Overlay::for_container(Path::new("/c"), &[PathBuf::from("/l")], false) };
        assert_eq!(overlay.options().unwrap(), "lowerdir=/c/init:/l,upperdir=/c/upper,workdir=/c/work,userxattr");
    }

    #[test]
    fn paths_that_would_break_the_options_are_refused() {
        let overlay = Overlay::for_container(Path::new("/s/a,b"), &[], false);
        assert!(overlay.options().is_err());
        let many: Vec<PathBuf> = (0..60).map(|i| PathBuf::from(format!("/{}/{i}", "x".repeat(80)))).collect();
        assert!(
            Overlay::for_container(Path::new("/c"), &many, false).options().unwrap_err().to_string().contains("4095")
        );
    }
}
