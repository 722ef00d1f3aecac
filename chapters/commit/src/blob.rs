//! A layer blob: the layer tar, gzip-compressed, and the two digests that name it.
//!
//! The tar is written once, through two hashes: the *diff id* is the
//! sha256 of the tar itself (what the image config lists), the blob's
//! digest the sha256 of the compressed bytes (what a manifest lists, and a
//! registry stores). Both are computed on the way, as the bytes stream to
//! the file: nothing is read twice. A layer in which nothing changed is the
//! empty tar (two 512-byte blocks of zeros); Docker gives such a commit no
//! layer at all, only a history entry marked `empty_layer`, which is why
//! `ENV` in a Dockerfile costs nothing. Introduced in chapter 6.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use flate2::Compression;
use flate2::write::GzEncoder;
use sha2::{Digest as _, Sha256};
use union_rootfs::digest::{Digest, sha256_of};

use crate::pack::pack_layer;

/// A layer blob written to a file.
#[derive(Debug, Clone)]
pub struct Blob {
    /// The file.
    pub path: PathBuf,
    /// The sha256 of the file: the blob's digest.
    pub digest: Digest,
    /// The file's size.
    pub size: u64,
    /// The sha256 of the uncompressed tar: the layer's diff id.
    pub diff_id: Digest,
}

impl Blob {
    /// Whether the layer holds nothing: the tar of an unchanged read-write layer.
    pub fn is_empty_layer(&self) -> bool {
        self.diff_id == empty_layer_diff_id()
    }
}

/// The diff id of a layer with nothing in it: the sha256 of the empty tar, 1024 zero bytes.
pub fn empty_layer_diff_id() -> Digest {
    sha256_of(&[0; 1024])
}

/// Packs the read-write layer `upper` into the gzip blob `path`, hashing both the tar and the blob.
pub fn write_blob(upper: &Path, path: &Path) -> Result<Blob> {
    let file = File::create(path).with_context(|| format!("create {}", path.display()))?;
    // EXERCISE(layer-blob): tar → hash (diff id) → gzip → hash (blob digest) → file; finish each, innermost last
    todo!(
        "commit step 4 of 9 (layer-blob): tar → hash (diff id) → gzip → hash (blob digest) → file; finish each, innermost last — book: commit.html#layer-blob"
    )
}

/// A writer that hashes what passes through it, and counts it.
#[derive(Debug)]
pub struct Hashing<W> {
    inner: W,
    hasher: Sha256,
    count: u64,
}

impl<W: Write> Hashing<W> {
    /// Wraps `inner`.
    pub fn new(inner: W) -> Self {
        Self { inner, hasher: Sha256::new(), count: 0 }
    }

    /// The digest of everything written, its length, and the inner writer.
    pub fn finish(self) -> (Digest, u64, W) {
        (format!("sha256:{}", hex::encode(self.hasher.finalize())), self.count, self.inner)
    }
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.count += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn the_digests_name_the_tar_and_the_compressed_file() {
        let upper = tempfile::tempdir().unwrap();
        std::fs::write(upper.path().join("test.txt"), "hello").unwrap();
        let out = tempfile::tempdir().unwrap();
        let blob = write_blob(upper.path(), &out.path().join("layer.tar.gz")).unwrap();
        let bytes = std::fs::read(&blob.path).unwrap();
        assert_eq!((blob.digest.clone(), blob.size), (sha256_of(&bytes), bytes.len() as u64));
        let mut tar = Vec::new();
        flate2::read::GzDecoder::new(&bytes[..]).read_to_end(&mut tar).unwrap();
        assert_eq!(blob.diff_id, sha256_of(&tar));
        assert!(!blob.is_empty_layer());
    }

    #[test]
    fn nothing_changed_is_the_empty_layer() {
        let (upper, out) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let blob = write_blob(upper.path(), &out.path().join("layer.tar.gz")).unwrap();
        assert!(blob.is_empty_layer());
        assert_eq!(blob.diff_id, "sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef");
    }
}
