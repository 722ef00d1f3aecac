//! Random ids, as lowercase hex, and the check that a text is one.
//!
//! Docker's container ids are 32 random bytes (64 hex digits), shown as
//! their first 12 (the lesson's `4ddf4638572d`, also the default hostname).
//! The bytes come from `/dev/urandom` (`man 4 urandom`).

use std::fs::File;
use std::io::Read;

use anyhow::{Context, Result};

/// A random id of `bytes` bytes, as lowercase hex (twice as many digits).
pub fn random_hex_id(bytes: usize) -> Result<String> {
    let mut raw = vec![0u8; bytes];
    File::open("/dev/urandom")
        .and_then(|mut urandom| urandom.read_exact(&mut raw))
        .context("read random bytes from /dev/urandom")?;
    Ok(raw.iter().map(|byte| format!("{byte:02x}")).collect())
}

/// Whether `text` is non-empty lowercase hex.
pub fn is_lower_hex(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_lowercase_hex_of_twice_the_length() {
        let id = random_hex_id(6).unwrap();
        assert_eq!(id.len(), 12);
        assert!(is_lower_hex(&id));
        assert!(!is_lower_hex("4DDF") && !is_lower_hex(""));
    }
}
