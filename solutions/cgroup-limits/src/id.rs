//! Container ids, which name the container's cgroup, and Docker's `--cidfile`.
//!
//! Docker names a container with 32 random bytes in hex (64 digits) and
//! shows the first 12 (`4ddf4638572d`), which is also its default hostname.
//! From this chapter on the id has a use on the host: the cgroup is
//! `rebox/<id>`. `--cidfile PATH` writes the id to a file, so a script (or a
//! test) can find the container's cgroup while it runs. Introduced in chapter 2.

use std::fs::OpenOptions;
use std::io::{ErrorKind, Write};
use std::path::Path;

use anyhow::{Context, Result, bail};
use docker_cli::random::random_hex_id;

/// A container's id: 64 lowercase hex digits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerId(String);

impl ContainerId {
    /// A new random id, from `/dev/urandom`.
    pub fn random() -> Result<Self> {
        Ok(Self(random_hex_id(32)?))
    }

    /// The whole id.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The 12-digit short id Docker shows, and uses as the default hostname.
    pub fn short(&self) -> &str {
        &self.0[..12]
    }

    /// Writes the id to `path`, which must not exist yet (as `docker run --cidfile` does).
    pub fn write_cidfile(&self, path: &Path) -> Result<()> {
        let file = OpenOptions::new().write(true).create_new(true).open(path);
        let mut file = match file {
            Err(err) if err.kind() == ErrorKind::AlreadyExists => bail!(
                "the container id file {} exists already: make sure the other container is not running, then delete it",
                path.display()
            ),
            other => other.with_context(|| format!("create the container id file {}", path.display()))?,
        };
        file.write_all(self.0.as_bytes()).with_context(|| format!("write the container id to {}", path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_short_id_is_the_first_12_digits() {
        let id = ContainerId::random().unwrap();
        assert_eq!(id.as_str().len(), 64);
        assert_eq!(id.short(), &id.as_str()[..12]);
    }

    #[test]
    fn a_cidfile_is_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cid");
        let id = ContainerId::random().unwrap();
        id.write_cidfile(&path).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), id.as_str());
        let err = ContainerId::random().unwrap().write_cidfile(&path).unwrap_err();
        assert!(err.to_string().contains("exists already"), "{err}");
    }
}
