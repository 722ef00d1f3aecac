//! The kernel the VM boots: a Debian distribution kernel, fetched as a `.deb`
//! and unpacked under `target/vm/kernel/`, never installed on the host.
//!
//! `apt-get download` fetches the package (`vm/apt.rs`, no root needed),
//! `dpkg-deb -x` unpacks it; both are cached, so a second run downloads
//! nothing. The VM boots its `/boot/vmlinuz-*` (uncompressed by
//! `vm/pvh.rs`) and loads the few modules the suites need (`overlay`, and
//! `veth` when the kernel has it), with the modules they depend on, which
//! each `.ko` names in its `depends=` field (`man 8 modinfo`).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use super::apt::{self, DebianPackage};
use crate::process;

/// The Debian kernel package the VM boots, at an exact version.
///
/// It is the package bookworm's `linux-image-amd64` depends on. To bump it:
/// `apt-get update`, then `apt-cache depends linux-image-amd64` names the
/// package (`linux-image-6.1.0-NN-amd64`) and `apt-cache policy <package>`
/// its version; change both here, and run `cargo xtask vm` (the old cache
/// under `target/vm/kernel/` can go). Security updates replace the package
/// in the archive, so an old pin eventually stops downloading; the VM then
/// boots the current one and warns (see [`fetch`]): bump the pin then.
/// Bookworm's modules are plain `.ko` files, which busybox `insmod` loads;
/// a kernel whose modules are compressed (`.ko.xz`) would need them unpacked.
pub const KERNEL: DebianPackage<'static> = DebianPackage { name: "linux-image-6.1.0-57-amd64", version: "6.1.192-3" };

/// The modules the suites need, loaded in this order (each after its dependencies).
pub const MODULES: [Module; 6] = [
    Module { name: "overlay", required: true }, // chapter 3's root filesystem
    Module { name: "veth", required: false },   // the network chapters' veth pairs
    // The disk (`vm/disk.rs`): virtio on PCI, the block device, its ext2 filesystem and its checksum.
    Module { name: "virtio_pci", required: false },
    Module { name: "virtio_blk", required: false },
    Module { name: "crc32c_generic", required: false }, // ext4 asks the crypto API for crc32c at mount
    Module { name: "ext4", required: false },
];

/// A kernel module the VM loads.
#[derive(Debug, Clone, Copy)]
pub struct Module {
    pub name: &'static str,
    /// Whether a kernel without it is an error (otherwise it is skipped).
    pub required: bool,
}

/// The unpacked kernel package.
#[derive(Debug)]
pub struct Kernel {
    root: PathBuf,
    release: String,
    /// The Debian package it came from.
    pub package: String,
}

/// Downloads (once) and unpacks (once) [`KERNEL`] under `cache`.
///
/// If the archive no longer has it, the kernel `linux-image-amd64` depends
/// on today is used instead, with a warning to bump the pin: the VM still
/// runs, and the pin says which kernel the snapshots were recorded on.
pub fn fetch(cache: &Path) -> Result<Kernel> {
    let pinned = unpack(cache, KERNEL);
    let Err(err) = pinned else { return pinned };
    let (name, version) = apt::dependency_of("linux-image-amd64").with_context(|| format!("{err:#}"))?;
    if (name.as_str(), version.as_str()) == (KERNEL.name, KERNEL.version) {
        return Err(err);
    }
    eprintln!(
        "warning: {err:#}\nwarning: the VM boots {name} {version} instead, what linux-image-amd64 depends on \
         today; bump the pin in xtask/src/vm/kernel.rs"
    );
    unpack(cache, DebianPackage { name: &name, version: &version })
}

/// `package`, downloaded and unpacked under `cache` unless it already is.
fn unpack(cache: &Path, package: DebianPackage) -> Result<Kernel> {
    let release =
        package.name.strip_prefix("linux-image-").context("a kernel package is named linux-image-<release>")?;
    let root = cache.join(format!("{}_{}", package.name, package.version));
    if !root.join("boot").exists() {
        let deb = package.download(cache)?;
        let unpacking = cache.join(format!("{}.unpacking", package.name));
        let _ = fs::remove_dir_all(&unpacking);
        process::run(process::command("dpkg-deb", &["-x", path_str(&deb)?, path_str(&unpacking)?]))?;
        fs::rename(&unpacking, &root)
            .with_context(|| format!("rename {} to {}", unpacking.display(), root.display()))?;
    }
    Ok(Kernel { root, release: release.to_owned(), package: package.name.to_owned() })
}

impl Kernel {
    /// The compressed kernel image (a bzImage) QEMU boots.
    pub fn image(&self) -> PathBuf {
        self.root.join("boot").join(format!("vmlinuz-{}", self.release))
    }

    /// The configuration the kernel was built with (`CONFIG_PVH=y`...).
    pub fn config(&self) -> PathBuf {
        self.root.join("boot").join(format!("config-{}", self.release))
    }

    /// The `.ko` files of [`MODULES`] and their dependencies, each after what it depends on.
    pub fn modules(&self) -> Result<Vec<PathBuf>> {
        let dir = self.root.join("lib/modules").join(&self.release);
        let mut index = BTreeMap::new();
        index_modules(&dir, &mut index)?;
        let mut ordered = Vec::new();
        for module in MODULES {
            match index.get(&canonical(module.name)) {
                Some(_) => add_with_dependencies(module.name, &index, &mut ordered)?,
                None if module.required => bail!("kernel module {}.ko not found under {}", module.name, dir.display()),
                None => {}
            }
        }
        Ok(ordered)
    }
}

/// Every `<name>.ko` under `dir`, by canonical name.
fn index_modules(dir: &Path, index: &mut BTreeMap<String, PathBuf>) -> Result<()> {
    for entry in fs::read_dir(dir).with_context(|| format!("list kernel modules in {}", dir.display()))? {
        let path = entry.with_context(|| format!("list kernel modules in {}", dir.display()))?.path();
        if path.is_dir() {
            index_modules(&path, index)?;
        } else if let Some(name) = path.file_name().and_then(|n| n.to_str()).and_then(|n| n.strip_suffix(".ko")) {
            index.insert(canonical(name), path);
        }
    }
    Ok(())
}

/// Appends `name`'s dependencies, then `name`, to `ordered`, each once.
fn add_with_dependencies(name: &str, index: &BTreeMap<String, PathBuf>, ordered: &mut Vec<PathBuf>) -> Result<()> {
    let path = index.get(&canonical(name)).with_context(|| format!("kernel module {name}.ko not found"))?;
    if ordered.contains(path) {
        return Ok(());
    }
    let bytes = fs::read(path).with_context(|| format!("read kernel module {}", path.display()))?;
    for dependency in dependencies(&bytes) {
        add_with_dependencies(&dependency, index, ordered)?;
    }
    ordered.push(path.clone());
    Ok(())
}

/// The modules a `.ko` depends on: its `.modinfo` string `depends=a,b`.
fn dependencies(module: &[u8]) -> Vec<String> {
    module
        .split(|byte| *byte == 0)
        .find_map(|field| field.strip_prefix(b"depends="))
        .map(|list| String::from_utf8_lossy(list).split(',').filter(|n| !n.is_empty()).map(str::to_owned).collect())
        .unwrap_or_default()
}

/// Module names treat `-` and `_` alike (`nf_conntrack`, `nf-conntrack`).
fn canonical(name: &str) -> String {
    name.replace('-', "_")
}

fn path_str(path: &Path) -> Result<&str> {
    path.to_str().with_context(|| format!("a path that is not UTF-8: {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dependencies_come_from_the_modinfo_depends_field() {
        let module = b"\x7fELF...\0license=GPL\0depends=libcrc32c,nf_conntrack\0retpoline=Y\0name=nf_nat\0";
        assert_eq!(dependencies(module), ["libcrc32c", "nf_conntrack"]);
        assert!(dependencies(b"\0depends=\0name=overlay\0").is_empty());
    }
}
