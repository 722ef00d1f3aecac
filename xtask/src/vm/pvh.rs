//! The kernel uncompressed, for QEMU to start it through its PVH entry point.
//!
//! A bzImage decompresses itself once the firmware has loaded it, which
//! under emulation (TCG) takes about six seconds of every boot. QEMU starts
//! an ELF `vmlinux` directly when the kernel was built with `CONFIG_PVH`, so
//! the payload is decompressed once here, with `xz`, and cached beside the
//! bzImage. Where the payload is, the bzImage's setup header says
//! (`Documentation/arch/x86/boot.rst`): the protected-mode code starts after
//! `setup_sects + 1` sectors, and `payload_offset` and `payload_length` place
//! the compressed kernel in it; its last 4 bytes are the uncompressed size,
//! which is not part of the xz stream. Without `xz`, or for another kernel,
//! the VM boots the bzImage.

use std::fs::{self, File};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail, ensure};

use crate::process;

/// The xz stream's first bytes.
const XZ_MAGIC: &[u8] = b"\xfd7zXZ\0";

/// The kernel to boot: `vmlinux-<release>`, extracted once from `bzimage`, or `bzimage` itself.
pub fn bootable(bzimage: &Path, config: &Path) -> Result<PathBuf> {
    let name = bzimage.file_name().context("the kernel image has a file name")?.to_string_lossy();
    let vmlinux = bzimage.with_file_name(name.replace("vmlinuz", "vmlinux"));
    if vmlinux.exists() {
        return Ok(vmlinux);
    }
    let pvh = fs::read_to_string(config).is_ok_and(|text| text.lines().any(|line| line == "CONFIG_PVH=y"));
    let image = fs::read(bzimage).with_context(|| format!("read the kernel image {}", bzimage.display()))?;
    let payload = payload(&image)?;
    if !pvh || !image[payload.clone()].starts_with(XZ_MAGIC) || !process::found("xz") {
        return Ok(bzimage.to_path_buf());
    }
    let compressed = vmlinux.with_extension("xz.partial");
    let partial = vmlinux.with_extension("partial");
    fs::write(&compressed, &image[payload]).with_context(|| format!("write {}", compressed.display()))?;
    let out = File::create(&partial).with_context(|| format!("create {}", partial.display()))?;
    let status = Command::new("xz").arg("-dc").arg(&compressed).stdout(out).status().context("run xz")?;
    let _ = fs::remove_file(&compressed);
    ensure!(status.success(), "`xz -dc` of the kernel's payload from {} failed ({status})", bzimage.display());
    fs::rename(&partial, &vmlinux).with_context(|| format!("rename {} to {}", partial.display(), vmlinux.display()))?;
    Ok(vmlinux)
}

/// Where the compressed kernel is in a bzImage, without the 4-byte size that follows it.
fn payload(image: &[u8]) -> Result<Range<usize>> {
    let u32_at = |at: usize| image.get(at..at + 4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize);
    if image.get(0x202..0x206) != Some(b"HdrS") {
        bail!("not a bzImage: no HdrS setup header");
    }
    let setup_sectors = *image.get(0x1f1).context("a bzImage's setup_sects")? as usize;
    let (offset, length) = (u32_at(0x248).context("payload_offset")?, u32_at(0x24c).context("payload_length")?);
    let start = (setup_sectors + 1) * 512 + offset;
    let end = (start + length).checked_sub(4).filter(|end| *end > start && *end <= image.len());
    end.map(|end| start..end).context("a bzImage's payload outside the file")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_payload_is_found_through_the_setup_header() {
        let mut image = vec![0u8; 4096];
        image[0x1f1] = 3; // setup_sects: the protected-mode code starts at (3 + 1) * 512 = 2048
        image[0x202..0x206].copy_from_slice(b"HdrS");
        image[0x248..0x24c].copy_from_slice(&100u32.to_le_bytes());
        image[0x24c..0x250].copy_from_slice(&20u32.to_le_bytes());
        assert_eq!(payload(&image).unwrap(), 2148..2164);
        image[0x24c..0x250].copy_from_slice(&5000u32.to_le_bytes());
        assert!(payload(&image).is_err(), "a payload past the end of the file");
        assert!(payload(&[0; 600]).is_err(), "no setup header");
    }
}
