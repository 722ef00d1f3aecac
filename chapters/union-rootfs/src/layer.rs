//! Store a layer once, unpacked, under its chain id.
//!
//! A layer blob (gzip or plain tar) is unpacked into a temporary directory
//! while two digests are computed on the fly: the blob's (it must match the
//! manifest) and the uncompressed tar's, the *diff id* (it must match the
//! image config). Only when the layer is complete and both digests match is
//! the directory renamed to `layers/<chain id>/`: a failure leaves nothing
//! behind. A layer already in the store is not unpacked again; that is how
//! two images sharing a base share its directory. Introduced in chapter 3.

use std::fs;
use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use flate2::read::MultiGzDecoder;

use crate::digest::{Digest, HashingReader};
use crate::store::{Store, remove_tree, write_atomic};
use crate::unpack::unpack_layer;

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

    let mut buffered = BufReader::with_capacity(1 << 20, blob);
    let gzipped = buffered.fill_buf().context("read the layer blob")?.starts_with(&[0x1f, 0x8b]);
    let mut compressed = HashingReader::new(buffered);
    let tar: Box<dyn Read + '_> =
        if gzipped { Box::new(MultiGzDecoder::new(&mut compressed)) } else { Box::new(&mut compressed) };
    let mut plain = HashingReader::new(tar);
    // Said while the half-unpacked layer still fills the disk: whether space or inodes ran out.
    let size = unpack_layer(&mut plain, &content).map_err(|err| store.what_ran_out(err))?;
    let (diff_id, _, tar) = plain.finish().context("read the rest of the layer tar")?;
    drop(tar);
    let (blob_digest, _, _) = compressed.finish().context("read the rest of the layer blob")?;

    check("layer blob", expected.blob.as_deref(), &blob_digest)?;
    check("layer diff id", expected.diff_id.as_deref(), &diff_id)?;
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

/// Removes a layer directory (one no image uses any more).
pub fn remove_layer(store: &Store, chain_id: &str) -> Result<()> {
    remove_tree(&store.layer_dir(chain_id)?)
}

fn check(what: &str, expected: Option<&str>, actual: &str) -> Result<()> {
    match expected {
        Some(expected) if expected != actual => bail!("{what} does not match: expected {expected}, got {actual}"),
        _ => Ok(()),
    }
}
