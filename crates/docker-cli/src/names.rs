//! Container names: what a human types instead of an id.
//!
//! `--name web`, or a generated `adjective_scientist` pair as Docker makes
//! (`admiring_lovelace`). Docker accepts names matching
//! `[a-zA-Z0-9][a-zA-Z0-9_.-]+`.

use anyhow::Result;

use crate::random::random_hex_id;

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
    let hex = random_hex_id(2)?;
    let byte = |i: usize| usize::from_str_radix(&hex[i..i + 2], 16).unwrap_or(0);
    Ok(format!("{}_{}", ADJECTIVES[byte(0) % ADJECTIVES.len()], SCIENTISTS[byte(2) % SCIENTISTS.len()]))
}

#[cfg(test)]
mod tests {
    use super::*;

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
