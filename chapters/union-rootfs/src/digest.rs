//! Content addressing: sha256 digests, diff ids and chain ids.
//!
//! Everything an image is made of is named by the sha256 of its bytes: a
//! blob by the digest of what is stored (the compressed layer), a layer by
//! its *diff id* (the digest of the uncompressed tar), and a stack of layers
//! by its *chain id*: the chain id of the bottom layer is its diff id, and
//! each layer above is `sha256(chain id below + " " + its diff id)`. Two
//! images that start with the same layers share their chain ids, which is
//! why they share those layers' directories on disk. See the OCI image spec,
//! `config.md` ("Layer ChainID"). Introduced in chapter 3.

use std::io::{self, Read};

use anyhow::{Result, bail};
use sha2::{Digest as _, Sha256};

/// A `sha256:<64 hex>` digest.
pub type Digest = String;

/// The digest of `bytes`, as `sha256:<hex>`.
pub fn sha256_of(bytes: &[u8]) -> Digest {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// The hex part of a `sha256:` digest, checked, for use in a file name.
pub fn hex_part(digest: &str) -> Result<&str> {
    match digest.strip_prefix("sha256:") {
        Some(hex) if hex.len() == 64 && docker_cli::random::is_lower_hex(hex) => Ok(hex),
        _ => bail!("unsupported digest {digest:?}: expected sha256:<64 lowercase hex digits>"),
    }
}

/// The chain ids of a stack of layers, bottom first, from their diff ids.
pub fn chain_ids(diff_ids: &[Digest]) -> Vec<Digest> {
    let mut chain: Vec<Digest> = Vec::with_capacity(diff_ids.len());
    for diff_id in diff_ids {
        let next = match chain.last() {
            None => diff_id.clone(),
            Some(below) => sha256_of(format!("{below} {diff_id}").as_bytes()),
        };
        chain.push(next);
    }
    chain
}

/// A reader that hashes what passes through it.
#[derive(Debug)]
pub struct HashingReader<R> {
    inner: R,
    hasher: Sha256,
    count: u64,
}

impl<R: Read> HashingReader<R> {
    /// Wraps `inner`.
    pub fn new(inner: R) -> Self {
        Self { inner, hasher: Sha256::new(), count: 0 }
    }

    /// Reads what is left (a tar's trailing padding, say), so the digest covers every byte.
    pub fn finish(mut self) -> io::Result<(Digest, u64, R)> {
        io::copy(&mut self, &mut io::sink())?;
        Ok((format!("sha256:{}", hex::encode(self.hasher.finalize())), self.count, self.inner))
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.count += n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bottom_chain_id_is_the_diff_id() {
        let a = sha256_of(b"a");
        let b = sha256_of(b"b");
        let chain = chain_ids(&[a.clone(), b.clone()]);
        assert_eq!(chain[0], a);
        assert_eq!(chain[1], sha256_of(format!("{a} {b}").as_bytes()));
    }

    #[test]
    fn a_shared_base_gives_a_shared_chain_id_and_order_matters() {
        let (a, b, c) = (sha256_of(b"a"), sha256_of(b"b"), sha256_of(b"c"));
        assert_eq!(chain_ids(&[a.clone(), b.clone()])[0], chain_ids(&[a.clone(), c.clone()])[0]);
        assert_ne!(chain_ids(&[a.clone(), b.clone()])[1], chain_ids(&[b, a])[1]);
    }

    #[test]
    fn hashing_reader_hashes_everything_read() {
        let reader = HashingReader::new(&b"hello"[..]);
        let (digest, count, _) = reader.finish().unwrap();
        assert_eq!((digest, count), (sha256_of(b"hello"), 5));
        assert!(hex_part(&sha256_of(b"x")).is_ok());
        assert!(hex_part("md5:abc").is_err());
    }
}
