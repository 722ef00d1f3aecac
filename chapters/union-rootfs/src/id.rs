//! Container ids and names, as Docker shows them.
//!
//! A container id (chapter 2's [`ContainerId`]) is 32 random bytes written as
//! 64 lowercase hex digits; Docker prints the first 12 (the lesson's
//! `4ddf4638572d`), which is also the container's default hostname. From
//! this chapter on it also names the container's directory in the store.
//! A name is what a human types instead:
//! `--name web`, or a generated `adjective_scientist` pair. Both are unique
//! in the store. Introduced in chapter 3.

use anyhow::Result;
use ns_isolation::hostname::random_hex_id;

/// How many hex digits Docker shows of an id.
pub const SHORT_LEN: usize = 12;

/// A container's id: chapter 2's, 64 random hex digits, shown as 12.
pub use cgroup_limits::id::ContainerId;

/// Whether `text` is non-empty lowercase hex.
pub fn is_lower_hex(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Refuses names Docker refuses: `[a-zA-Z0-9][a-zA-Z0-9_.-]+`.
pub fn validate_name(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphanumeric());
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
    if name.len() < 2 || !first_ok || !rest_ok {
        return Err(format!("invalid container name {name:?}: only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"));
    }
    Ok(())
}

const ADJECTIVES: [&str; 16] = [
    "admiring", "bold", "brave", "clever", "eager", "focused", "gallant", "happy", "jolly", "keen", "nifty", "quirky",
    "serene", "tender", "vibrant", "zealous",
];
const SCIENTISTS: [&str; 16] = [
    "curie", "darwin", "einstein", "euler", "hopper", "kepler", "lamport", "lovelace", "noether", "pike", "ritchie",
    "shannon", "thompson", "torvalds", "turing", "wozniak",
];

/// A name in Docker's style, `adjective_scientist`, picked with two random bytes.
pub fn random_name() -> Result<String> {
    let bytes = hex::decode(random_hex_id(2)?)?;
    let adjective = ADJECTIVES[usize::from(bytes[0]) % ADJECTIVES.len()];
    let scientist = SCIENTISTS[usize::from(bytes[1]) % SCIENTISTS.len()];
    Ok(format!("{adjective}_{scientist}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_lowercase_hex() {
        let id = ContainerId::random().unwrap();
        assert!(is_lower_hex(id.as_str()) && id.short().len() == SHORT_LEN);
        assert!(!is_lower_hex("4DDF") && !is_lower_hex(""));
    }

    #[test]
    fn names_follow_dockers_rule() {
        assert!(validate_name("web").is_ok());
        assert!(validate_name("my_app.v2-1").is_ok());
        assert!(validate_name("-web").is_err());
        assert!(validate_name("a").is_err());
        assert!(validate_name("has space").is_err());
        assert!(validate_name(&random_name().unwrap()).is_ok());
    }
}
