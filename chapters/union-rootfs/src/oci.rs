//! Read an OCI image layout: `oci-layout`, `index.json`, `blobs/sha256/...`.
//!
//! The index lists manifests (or nested indexes, one per platform); a
//! manifest names the config blob and the layer blobs, bottom first, each by
//! digest. Every JSON blob read is checked against its digest here; layer
//! blobs are checked while they are unpacked (`layer.rs`). The image's name
//! comes from the manifest's annotations: `io.containerd.image.name`, or
//! `org.opencontainers.image.ref.name` (a bare tag like `latest` is put
//! after the layout's own name, as in `busybox:latest`).
//! See the OCI image spec, `image-layout.md`. Introduced in chapter 3.

use anyhow::{Context, Result, bail};
use oci_spec::image::{Descriptor, ImageIndex, ImageManifest, MediaType, OciLayout};

use crate::digest::{hex_part, sha256_of};
use crate::image::{ImageSpec, LayerRef};
use crate::source::Source;

const NAME_ANNOTATION: &str = "io.containerd.image.name";
const REF_ANNOTATION: &str = "org.opencontainers.image.ref.name";

/// Whether `source` is an OCI image layout.
pub fn is_layout(source: &Source) -> bool {
    source.has("oci-layout") && source.has("index.json")
}

/// The images of an OCI layout, for this machine's platform.
pub fn read_layout(source: &Source) -> Result<Vec<ImageSpec>> {
    let layout = OciLayout::from_reader(&source.read("oci-layout")?[..]).context("parse oci-layout")?;
    if !layout.image_layout_version().starts_with("1.") {
        bail!("unsupported OCI layout version {}", layout.image_layout_version());
    }
    let index = ImageIndex::from_reader(&source.read("index.json")?[..]).context("parse index.json")?;
    let mut images = Vec::new();
    for descriptor in index.manifests() {
        collect(source, descriptor, &names_of(source, descriptor), &mut images, 0)?;
    }
    if images.is_empty() {
        bail!("the OCI layout has no image for linux/{}", host_arch());
    }
    Ok(images)
}

fn collect(
    source: &Source,
    descriptor: &Descriptor,
    names: &[String],
    images: &mut Vec<ImageSpec>,
    depth: u8,
) -> Result<()> {
    if let Some(platform) = descriptor.platform()
        && (platform.os().to_string() != "linux" || platform.architecture().to_string() != host_arch())
    {
        return Ok(());
    }
    let bytes = read_blob(source, descriptor)?;
    if *descriptor.media_type() == MediaType::ImageIndex && depth < 2 {
        let index = ImageIndex::from_reader(&bytes[..]).context("parse a nested image index")?;
        for inner in index.manifests() {
            collect(source, inner, names, images, depth + 1)?;
        }
        return Ok(());
    }
    let manifest = ImageManifest::from_reader(&bytes[..])
        .with_context(|| format!("parse the image manifest {}", descriptor.digest()))?;
    let config = read_blob(source, manifest.config())?;
    let layers = manifest
        .layers()
        .iter()
        .map(|layer| {
            let digest = layer.digest().to_string();
            Ok(LayerRef { member: format!("blobs/sha256/{}", hex_part(&digest)?), blob: Some(digest) })
        })
        .collect::<Result<_>>()?;
    images.push(ImageSpec { config, names: names.to_vec(), layers });
    Ok(())
}

/// Reads a JSON blob and checks it against its descriptor's digest.
fn read_blob(source: &Source, descriptor: &Descriptor) -> Result<Vec<u8>> {
    let digest = descriptor.digest().to_string();
    let bytes = source.read(&format!("blobs/sha256/{}", hex_part(&digest)?))?;
    let actual = sha256_of(&bytes);
    if actual != digest {
        bail!("blob {digest} does not match its digest (got {actual})");
    }
    Ok(bytes)
}

fn names_of(source: &Source, descriptor: &Descriptor) -> Vec<String> {
    let annotations = descriptor.annotations().as_ref();
    let get = |key: &str| annotations.and_then(|a| a.get(key)).cloned();
    match (get(NAME_ANNOTATION), get(REF_ANNOTATION)) {
        (Some(name), _) => vec![name],
        (None, Some(reference)) if reference.contains(':') || reference.contains('/') => vec![reference],
        (None, Some(tag)) => vec![format!("{}:{tag}", source.name_hint())],
        (None, None) => Vec::new(),
    }
}

/// The machine's architecture as Go and OCI name it.
pub fn host_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        other => other,
    }
}
