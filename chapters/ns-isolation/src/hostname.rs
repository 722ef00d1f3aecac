//! The UTS namespace's hostname, and the random ids Docker names things with.
//!
//! `sethostname(2)` changes the hostname of the caller's UTS namespace only;
//! in a new one, the host keeps its own. Docker's default hostname is the
//! container's short id, 12 hex digits (the lesson's `4ddf4638572d`).
//! See `man 2 sethostname`, `man 7 uts_namespaces`. Introduced in chapter 1.

use std::fs::File;
use std::io::Read;

use anyhow::{Context, Result};
use nix::unistd::sethostname;

use crate::trace;

/// Sets the hostname of this process's UTS namespace.
pub fn set_hostname(name: &str) -> Result<()> {
    // EXERCISE(sethostname): call sethostname(2) with `name`
    todo!("ns-isolation step 7 of 9 (sethostname): call sethostname(2) with `name` — book: ns-isolation.md#sethostname")
}

/// A random id of `bytes` bytes, as lowercase hex (twice as many digits).
pub fn random_hex_id(bytes: usize) -> Result<String> {
    let mut raw = vec![0u8; bytes];
    File::open("/dev/urandom")
        .and_then(|mut urandom| urandom.read_exact(&mut raw))
        .context("read random bytes from /dev/urandom")?;
    Ok(raw.iter().map(|byte| format!("{byte:02x}")).collect())
}

/// Refuses names `sethostname(2)` would refuse, before anything is created.
pub fn validate_hostname(name: &str) -> Result<(), String> {
    let valid_char = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '.';
    if name.is_empty() || name.len() > 64 || !name.chars().all(valid_char) || name.starts_with('-') {
        return Err(format!(
            "invalid hostname {name:?}: use 1 to 64 letters, digits, '-' and '.', not starting with '-'"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_lowercase_hex_of_twice_the_length() {
        let id = random_hex_id(6).unwrap();
        assert_eq!(id.len(), 12);
        assert!(id.chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
    }

    #[test]
    fn hostnames_are_checked_before_use() {
        assert!(validate_hostname("box-1.local").is_ok());
        assert!(validate_hostname("").is_err());
        assert!(validate_hostname("has space").is_err());
        assert!(validate_hostname(&"a".repeat(65)).is_err());
    }
}
