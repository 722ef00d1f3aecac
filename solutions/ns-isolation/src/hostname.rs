//! The UTS namespace's hostname.
//!
//! `sethostname(2)` changes the hostname of the caller's UTS namespace only;
//! in a new one, the host keeps its own. Docker's default hostname is the
//! container's short id, 12 hex digits (the lesson's `4ddf4638572d`).
//! See `man 2 sethostname`, `man 7 uts_namespaces`. Introduced in chapter 1.

use anyhow::{Context, Result};

use crate::sys;

/// Sets the hostname of this process's UTS namespace.
pub fn set_hostname(name: &str) -> Result<()> {
    // ANCHOR: set_hostname
    // EXERCISE(sethostname): call sethostname(2) with `name`, through sys::sethostname
    sys::sethostname(name).with_context(|| format!("set the hostname to {name:?} (sethostname)"))?;
    Ok(())
    // END EXERCISE
    // ANCHOR_END: set_hostname
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
    fn hostnames_are_checked_before_use() {
        assert!(validate_hostname("box-1.local").is_ok());
        assert!(validate_hostname("").is_err());
        assert!(validate_hostname("has space").is_err());
        assert!(validate_hostname(&"a".repeat(65)).is_err());
    }
}
