//! Store a layer once, unpacked, under its chain id.
//!
//! A layer blob (gzip or plain tar) is unpacked into a temporary directory
//! while two digests are computed on the fly: the blob's (it must match the
//! manifest) and the uncompressed tar's, the *diff id* (it must match the
//! image config). Only when the layer is complete and both digests match is
//! the directory renamed to `layers/<chain id>/`: a failure leaves nothing
//! behind. A layer already in the store is not unpacked again; that is how
//! two images sharing a base share its directory.
//!
//! The blob itself is kept too, byte for byte, as it is read (`blob`, with
//! its descriptor `blob.json`: media type, digest, size), for chapter 6's
//! `save`: an image's id names its config, and the config names each layer
//! by the digest of its tar, which the unpacked files do not give back (a
//! tar's order, header format and padding are the writer's choice).
//! Introduced in chapter 3.

use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::path::PathBuf;
use std::str::FromStr;

use anyhow::{Context, Result, bail};
use flate2::read::MultiGzDecoder;
use oci_spec::image::{Descriptor, MediaType};

use crate::digest::{Digest, HashingReader};
use crate::store::{Store, read_json, remove_tree, write_atomic, write_json};
use crate::unpack::unpack_layer;

/// The file in a layer's directory that holds its blob as it came, and the one that describes it.
pub const BLOB: &str = "blob";
/// The blob's OCI descriptor: its media type, digest and size.
pub const BLOB_DESCRIPTOR: &str = "blob.json";

/// What the manifest and the config say a layer must be.
#[derive(Debug, Clone, Default)]
pub struct Expected {
    /// The digest of the blob as stored (compressed), when known.
    pub blob: Option<Digest>,
    /// The diff id: the digest of the uncompressed tar, when known.
    pub diff_id: Option<Digest>,
}

/// A layer that is in the store.
#[derive(Debug, Clone)]
pub struct StoredLayer {
    /// Its chain id, which names its directory.
    pub chain_id: Digest,
    /// Its diff id.
    pub diff_id: Digest,
    /// Whether this call unpacked it (false: it was already there).
    pub created: bool,
}

/// The directory an overlay uses as a lowerdir: `layers/<chain id>/diff`.
pub fn diff_dir(store: &Store, chain_id: &str) -> Result<PathBuf> {
    Ok(store.layer_dir(chain_id)?.join("diff"))
}

/// The size of a stored layer's content, in bytes.
pub fn layer_size(store: &Store, chain_id: &str) -> Result<u64> {
    let path = store.layer_dir(chain_id)?.join("size");
    let text = fs::read_to_string(&path).with_context(|| format!("read {}", path.display()))?;
    text.trim().parse().with_context(|| format!("parse the layer size in {}", path.display()))
}

/// Unpacks `blob` into the store as the layer `chain_id`, unless it is there already.
///
/// `chain_id` is `None` for a single-layer import, whose chain id is its
/// diff id, known only once the layer has been read.
pub fn store_layer(store: &Store, chain_id: Option<&str>, expected: &Expected, blob: impl Read) -> Result<StoredLayer> {
    if let (Some(chain_id), Some(diff_id)) = (chain_id, &expected.diff_id)
        && store.layer_dir(chain_id)?.is_dir()
    {
        return Ok(StoredLayer { chain_id: chain_id.to_owned(), diff_id: diff_id.clone(), created: false });
    }
    let staging = store.temp_dir(".layer-")?;
    let content = staging.path().join("diff");
    fs::create_dir(&content).with_context(|| format!("create {}", content.display()))?;

    let kept = staging.path().join(BLOB);
    let copy = File::create(&kept).with_context(|| format!("create {}", kept.display()))?;
    let tee = Tee { inner: blob, copy: BufWriter::with_capacity(1 << 20, copy), path: kept };
    let mut buffered = BufReader::with_capacity(1 << 20, tee);
    let gzipped = buffered.fill_buf().context("read the layer blob")?.starts_with(&[0x1f, 0x8b]);
    let mut compressed = HashingReader::new(buffered);
    let tar: Box<dyn Read + '_> =
        if gzipped { Box::new(MultiGzDecoder::new(&mut compressed)) } else { Box::new(&mut compressed) };
    let mut plain = HashingReader::new(tar);
    // Said while the half-unpacked layer still fills the disk: whether space or inodes ran out.
    let size = unpack_layer(&mut plain, &content).map_err(|err| store.what_ran_out(err))?;
    let (diff_id, _, tar) = plain.finish().context("read the rest of the layer tar")?;
    drop(tar);
    let (blob_digest, blob_size, buffered) = compressed.finish().context("read the rest of the layer blob")?;
    buffered.into_inner().finish().map_err(|err| store.what_ran_out(err))?;

    check("layer blob", expected.blob.as_deref(), &blob_digest)?;
    check("layer diff id", expected.diff_id.as_deref(), &diff_id)?;
    let media_type = if gzipped { MediaType::ImageLayerGzip } else { MediaType::ImageLayer };
    let descriptor = Descriptor::new(media_type, blob_size, oci_spec::image::Digest::from_str(&blob_digest)?);
    write_json(&staging.path().join(BLOB_DESCRIPTOR), &descriptor).map_err(|err| store.what_ran_out(err))?;
    let chain_id = chain_id.unwrap_or(&diff_id).to_owned();
    let target = store.layer_dir(&chain_id)?;
    if target.is_dir() {
        return Ok(StoredLayer { chain_id, diff_id, created: false });
    }
    write_atomic(&staging.path().join("size"), format!("{size}\n").as_bytes())
        .map_err(|err| store.what_ran_out(err))?;
    fs::rename(staging.path(), &target).with_context(|| {
        format!("move the unpacked layer {} into place at {}", staging.path().display(), target.display())
    })?;
    // Renamed away: nothing is left at the temporary path to remove.
    let _ = staging.keep();
    Ok(StoredLayer { chain_id, diff_id, created: true })
}

/// The blob a layer was stored from, and its descriptor, if the store kept it (layers stored before it did have none).
pub fn kept_blob(store: &Store, chain_id: &str) -> Result<Option<(PathBuf, Descriptor)>> {
    let dir = store.layer_dir(chain_id)?;
    let (blob, descriptor) = (dir.join(BLOB), dir.join(BLOB_DESCRIPTOR));
    if !blob.is_file() || !descriptor.is_file() {
        return Ok(None);
    }
    Ok(Some((blob, read_json(&descriptor)?)))
}

/// Removes a layer directory (one no image uses any more).
pub fn remove_layer(store: &Store, chain_id: &str) -> Result<()> {
    remove_tree(&store.layer_dir(chain_id)?)
}

/// A reader that writes a copy of every byte it reads: the blob, kept while it is unpacked, so it is read once.
struct Tee<R> {
    inner: R,
    copy: BufWriter<File>,
    path: PathBuf,
}

impl<R: Read> Read for Tee<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        // Said with its kind, so that a full disk is still told as one.
        self.copy.write_all(&buf[..n]).map_err(|err| {
            io::Error::new(err.kind(), format!("keep a copy of the layer blob in {}: {err}", self.path.display()))
        })?;
        Ok(n)
    }
}

impl<R> Tee<R> {
    /// Writes out what is left of the copy.
    fn finish(self) -> Result<()> {
        let path = self.path;
        self.copy
            .into_inner()
            .map_err(io::IntoInnerError::into_error)
            .with_context(|| format!("write {}", path.display()))?;
        Ok(())
    }
}

fn check(what: &str, expected: Option<&str>, actual: &str) -> Result<()> {
    match expected {
        Some(expected) if expected != actual => bail!("{what} does not match: expected {expected}, got {actual}"),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::digest::sha256_of;
    use flate2::write::GzEncoder;

    #[test]
    fn the_blob_is_kept_byte_for_byte_with_its_descriptor() {
        let mut tar = tar::Builder::new(Vec::new());
        let mut header = tar::Header::new_ustar();
        header.set_size(5);
        header.set_mode(0o644);
        header.set_uid(0);
        header.set_gid(0);
        header.set_mtime(0);
        tar.append_data(&mut header, "hello", &b"hello"[..]).unwrap();
        let tar = tar.into_inner().unwrap();
        let mut gzip = GzEncoder::new(Vec::new(), flate2::Compression::default());
        gzip.write_all(&tar).unwrap();
        let gzip = gzip.finish().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let expected = Expected { blob: Some(sha256_of(&gzip)), diff_id: Some(sha256_of(&tar)) };
        let layer = store_layer(&store, None, &expected, &gzip[..]).unwrap();
        let (path, descriptor) = kept_blob(&store, &layer.chain_id).unwrap().expect("a kept blob");
        assert_eq!(fs::read(path).unwrap(), gzip);
        assert_eq!(
            (descriptor.media_type(), descriptor.digest().to_string(), descriptor.size()),
            (&MediaType::ImageLayerGzip, sha256_of(&gzip), gzip.len() as u64)
        );
    }
}
