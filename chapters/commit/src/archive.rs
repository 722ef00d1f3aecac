//! The tar `save` writes: an OCI image layout with Docker's `manifest.json` beside it, or Docker's legacy layout.
//!
//! An OCI image layout (the OCI image spec, `image-layout.md`) is content
//! addressed: every blob is a file `blobs/sha256/<hex>` named by its own
//! digest. An image is three kinds of blob: its layers, its config, and a
//! *manifest* that names the config and the layers, bottom first, each by
//! a descriptor (media type, digest, size). `index.json` lists the
//! manifests, each annotated with its name: `org.opencontainers.image.ref.name`
//! holds the tag (what `umoci --image DIR:TAG` and `skopeo oci:DIR:TAG`
//! look up), `io.containerd.image.name` the full name (what containerd and
//! Docker load it as). `oci-layout` says which version of the layout it is.
//! A blob two images share is written once.
//!
//! Docker's `docker save` (from Docker 25) writes that layout, plus its own
//! older index beside it, `manifest.json`: for each image, its config file,
//! its names (`RepoTags`) and its layer files, pointing at the same blobs.
//! So one file loads into both worlds: OCI tools read `index.json`,
//! `docker load` and chapter 3's `image load` read `manifest.json`. The
//! legacy layout (`--format docker-archive`, as skopeo writes it) has only
//! `manifest.json`, the config as `<hex>.json` and each layer as a plain
//! tar, `<diff id hex>.tar`. Every member has the same owner, mode and
//! time (root, 0644, the epoch), so the same images always save to the same
//! bytes. Introduced in chapter 6.

use std::collections::{HashMap, HashSet};
use std::io::{self, Read, Write};
use std::path::Path;
use std::str::FromStr;

use anyhow::{Context, Result, bail};
use oci_spec::image::{Descriptor, ImageManifestBuilder, MediaType};
use serde_json::{Value, json};
use union_rootfs::digest::{Digest, HashingReader, hex_part, sha256_of};

use crate::layer_blob::{LayerBlob, uncompressed};

/// The annotation OCI tools look a tag up by.
pub const REF_NAME: &str = "org.opencontainers.image.ref.name";
/// The annotation containerd and Docker take an image's full name from.
pub const IMAGE_NAME: &str = "io.containerd.image.name";

/// The images to save, and their layers' blobs.
#[derive(Debug, Default)]
pub struct Saved {
    /// The images, in the order asked for.
    pub images: Vec<SavedImage>,
    /// Every layer blob, once, by its digest.
    pub blobs: HashMap<Digest, LayerBlob>,
}

/// One image to save.
#[derive(Debug)]
pub struct SavedImage {
    /// Its config, as it will be written: the stored bytes, unless a layer had to be packed again.
    pub config: Vec<u8>,
    /// The names it is saved under (`busybox:latest`); none if it was asked for by id.
    pub names: Vec<String>,
    /// Its layers' blob digests, bottom first.
    pub layers: Vec<Digest>,
}

/// Writes `saved` as an OCI image layout, plus Docker's `manifest.json`, in a tar.
pub fn write_oci_archive(mut saved: Saved, out: impl Write) -> Result<()> {
    // EXERCISE(save): into blobs/sha256/, each image's layer blobs (once each), its config and its OCI manifest; an index.json entry per name; Docker's manifest.json; oci-layout
    todo!(
        "commit step 9 of 9 (save): into blobs/sha256/, each image's layer blobs (once each), its config and its OCI manifest; an index.json entry per name; Docker's manifest.json; oci-layout — book: commit.html#save"
    )
}

/// Writes `saved` in Docker's legacy layout: `manifest.json`, `<config hex>.json`, `<diff id hex>.tar`.
pub fn write_docker_archive(mut saved: Saved, staging: &Path, out: impl Write) -> Result<()> {
    let mut tar = Members::new(out);
    let (mut docker, mut diff_ids) = (Vec::new(), HashMap::new());
    for image in &saved.images {
        for digest in &image.layers {
            if let Some(blob) = saved.blobs.remove(digest) {
                let name = format!("{}.tar", hex_part(&blob.diff_id)?);
                diff_ids.insert(digest.clone(), name.clone());
                // Two blobs, compressed differently, may hold the same tar: it is written once.
                if !tar.written.contains(&name) {
                    let diff_id = blob.diff_id.clone();
                    let (file, size) = uncompressed(blob, staging)?;
                    tar.file(&name, file, size, &diff_id)?;
                }
            }
        }
        let config = format!("{}.json", hex_part(&sha256_of(&image.config))?);
        if !tar.written.contains(&config) {
            tar.bytes(&config, &image.config)?;
        }
        let layer_files = image.layers.iter().map(|digest| diff_ids[digest].clone()).collect();
        docker.push(manifest_item(config, &image.names, layer_files));
    }
    tar.bytes("manifest.json", &serde_json::to_vec(&docker)?)?;
    tar.finish()
}

/// `blobs/sha256/<hex>`.
fn blob_path(digest: &str) -> Result<String> {
    Ok(format!("blobs/sha256/{}", hex_part(digest)?))
}

/// The entries of `index.json` for a manifest: one per name, or one without a name for an image saved by id.
///
/// Written as JSON by hand rather than as a `Descriptor`, whose annotations
/// are a hash map: in name order, the same images always give the same bytes.
fn index_entries(manifest: &Descriptor, names: &[String]) -> Vec<Value> {
    let entry = json!({
        "mediaType": manifest.media_type().to_string(),
        "digest": manifest.digest().to_string(),
        "size": manifest.size(),
    });
    if names.is_empty() {
        return vec![entry];
    }
    let named = |name: &String| {
        let tag = name.rsplit_once(':').map_or("latest", |(_, tag)| tag);
        let mut entry = entry.clone();
        entry["annotations"] = json!({IMAGE_NAME: full_name(name), REF_NAME: tag});
        entry
    };
    names.iter().map(named).collect()
}

/// An entry of Docker's `manifest.json`; `RepoTags` is null for an image saved by id, as Docker writes it.
fn manifest_item(config: String, names: &[String], layers: Vec<String>) -> Value {
    let tags = if names.is_empty() { Value::Null } else { json!(names) };
    json!({"Config": config, "RepoTags": tags, "Layers": layers})
}

/// Docker's full name of a short one: `busybox:latest` → `docker.io/library/busybox:latest`.
pub fn full_name(name: &str) -> String {
    let first = name.split('/').next().unwrap_or_default();
    let has_domain = name.contains('/') && (first.contains('.') || first.contains(':') || first == "localhost");
    match () {
        _ if has_domain => name.to_owned(),
        _ if name.contains('/') => format!("docker.io/{name}"),
        _ => format!("docker.io/library/{name}"),
    }
}

fn digest_of(digest: &str) -> Result<oci_spec::image::Digest> {
    oci_spec::image::Digest::from_str(digest).with_context(|| format!("parse the digest {digest}"))
}

/// The archive's members, written as they come.
struct Members<W: Write> {
    builder: tar::Builder<W>,
    /// The paths written so far.
    written: HashSet<String>,
}

impl<W: Write> Members<W> {
    fn new(out: W) -> Self {
        Self { builder: tar::Builder::new(out), written: HashSet::new() }
    }

    fn directory(&mut self, path: &str) -> Result<()> {
        self.append(header(tar::EntryType::Directory, 0o755, 0), path, io::empty())
    }

    fn bytes(&mut self, path: &str, bytes: &[u8]) -> Result<()> {
        self.append(header(tar::EntryType::Regular, 0o644, bytes.len() as u64), path, bytes)
    }

    /// Writes a JSON blob (a config, a manifest), unless it is there already; returns its descriptor.
    fn json_blob(&mut self, media_type: MediaType, bytes: &[u8]) -> Result<Descriptor> {
        let digest = sha256_of(bytes);
        let path = blob_path(&digest)?;
        if !self.written.contains(&path) {
            self.bytes(&path, bytes)?;
        }
        Ok(Descriptor::new(media_type, bytes.len() as u64, digest_of(&digest)?))
    }

    /// Writes `size` bytes of `file` as `path`, checking on the way that they are what `digest` names.
    fn file(&mut self, path: &str, file: impl Read, size: u64, digest: &str) -> Result<()> {
        let mut content = HashingReader::new(file.take(size));
        self.append(header(tar::EntryType::Regular, 0o644, size), path, &mut content)?;
        let (actual, count, _) = content.finish().with_context(|| format!("read the blob {digest}"))?;
        if (actual.as_str(), count) != (digest, size) {
            bail!(
                "the blob {digest} of {size} bytes is damaged in the store: its {count} bytes have the digest {actual}"
            );
        }
        Ok(())
    }

    fn append(&mut self, mut header: tar::Header, path: &str, content: impl Read) -> Result<()> {
        self.builder
            .append_data(&mut header, path, content)
            .with_context(|| format!("write {path} into the archive"))?;
        self.written.insert(path.to_owned());
        Ok(())
    }

    fn finish(self) -> Result<()> {
        let mut out = self.builder.into_inner().context("finish the archive")?;
        out.flush().context("write the archive")
    }
}

/// A ustar header: root's, dated the epoch, so the same images give the same archive.
fn header(kind: tar::EntryType, mode: u32, size: u64) -> tar::Header {
    let mut header = tar::Header::new_ustar();
    header.set_entry_type(kind);
    header.set_mode(mode);
    header.set_uid(0);
    header.set_gid(0);
    header.set_mtime(0);
    header.set_size(size);
    header
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_names_get_dockers_full_names() {
        assert_eq!(full_name("busybox:latest"), "docker.io/library/busybox:latest");
        assert_eq!(full_name("me/app:v1"), "docker.io/me/app:v1");
        assert_eq!(full_name("localhost:5000/app:v1"), "localhost:5000/app:v1");
        assert_eq!(full_name("ghcr.io/me/app:v1"), "ghcr.io/me/app:v1");
    }
}
