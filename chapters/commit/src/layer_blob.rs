//! The bytes a stored layer is saved as: the blob it came in, or its files packed again.
//!
//! An image's id is the sha256 of its config, and the config names each
//! layer by its *diff id*, the sha256 of the layer's tar. So an image saved
//! and loaded again keeps its id only if every layer is written as the very
//! tar it was: the same files are not enough. A directory does not decide
//! its tar: the order of the entries, the header format (ustar, GNU, PAX),
//! which name of a hard-linked file comes first, the fields a writer fills
//! or leaves empty are all the writer's choice, and none survives
//! unpacking. Chapter 3's store therefore keeps each layer's blob as it was
//! loaded or committed (`layers/<chain id>/blob`, described by `blob.json`),
//! and `save` writes it back byte for byte. Docker keeps less: for each
//! layer, the *tar-split* metadata (every header and padding, without the
//! files' content), from which it reassembles the same tar out of the
//! unpacked files.
//!
//! A layer stored before the store kept blobs has only its files. It is
//! packed again, as a commit packs `upper/` (`pack.rs`: overlayfs's
//! whiteouts and opaque directories become OCI's `.wh.` files again): a
//! layer with the same content, and most likely another diff id. Such an
//! image cannot keep its id; `save.rs` writes it with a new config, and says
//! so. For Docker's legacy layout, whose layers are plain tars, a gzip blob
//! is uncompressed into a staging file first, as a tar entry's size must be
//! known before its bytes. Introduced in chapter 6.

use std::fs::File;
use std::io::{self, BufWriter};
use std::path::Path;
use std::str::FromStr;

use anyhow::{Context, Result, bail};
use flate2::read::MultiGzDecoder;
use oci_spec::image::{Descriptor, MediaType};
use union_rootfs::digest::{Digest, HashingReader, hex_part};
use union_rootfs::layer::{diff_dir, kept_blob};
use union_rootfs::store::Store;

use crate::blob::write_blob;

/// A layer, ready to be written into an archive.
#[derive(Debug)]
pub struct LayerBlob {
    /// The blob, open: a layer removed from the store meanwhile is still read whole.
    pub file: File,
    /// Its media type (a gzip or a plain tar), digest and size.
    pub descriptor: Descriptor,
    /// The digest of the uncompressed tar.
    pub diff_id: Digest,
    /// Whether it was packed again from the layer's files, having no kept blob.
    pub repacked: bool,
}

/// The layer `chain_id` as a blob: the one the store kept, or its files packed into `staging`.
pub fn layer_blob(store: &Store, chain_id: &str, diff_id: &str, staging: &Path) -> Result<LayerBlob> {
    if let Some((path, descriptor)) = kept_blob(store, chain_id)? {
        let file = File::open(&path).with_context(|| format!("open {}", path.display()))?;
        let size = file.metadata().with_context(|| format!("look at {}", path.display()))?.len();
        if size != descriptor.size() {
            bail!("the kept blob {} is {size} bytes, but its descriptor says {}", path.display(), descriptor.size());
        }
        return Ok(LayerBlob { file, descriptor, diff_id: diff_id.to_owned(), repacked: false });
    }
    let path = staging.join(format!("{}.tar.gz", hex_part(chain_id)?));
    let blob = write_blob(&diff_dir(store, chain_id)?, &path)
        .with_context(|| format!("pack the layer {chain_id} again from its files"))?;
    let file = File::open(&path).with_context(|| format!("open {}", path.display()))?;
    let descriptor =
        Descriptor::new(MediaType::ImageLayerGzip, blob.size, oci_spec::image::Digest::from_str(&blob.digest)?);
    Ok(LayerBlob { file, descriptor, diff_id: blob.diff_id, repacked: true })
}

/// The layer as a plain tar and its size: the blob itself, or, if it is a gzip, uncompressed into `staging`.
pub fn uncompressed(layer: LayerBlob, staging: &Path) -> Result<(File, u64)> {
    if *layer.descriptor.media_type() == MediaType::ImageLayer {
        return Ok((layer.file, layer.descriptor.size()));
    }
    let path = staging.join(format!("{}.tar", hex_part(&layer.diff_id)?));
    let mut out = BufWriter::new(File::create(&path).with_context(|| format!("create {}", path.display()))?);
    let mut tar = HashingReader::new(MultiGzDecoder::new(io::BufReader::new(layer.file)));
    let size = io::copy(&mut tar, &mut out).with_context(|| format!("uncompress the layer {}", layer.diff_id))?;
    let (diff_id, _, _) = tar.finish().with_context(|| format!("uncompress the layer {}", layer.diff_id))?;
    if diff_id != layer.diff_id {
        bail!("the layer {} uncompresses to a tar with another digest, {diff_id}", layer.diff_id);
    }
    out.into_inner().map_err(io::IntoInnerError::into_error).with_context(|| format!("write {}", path.display()))?;
    let file = File::open(&path).with_context(|| format!("open {}", path.display()))?;
    Ok((file, size))
}
