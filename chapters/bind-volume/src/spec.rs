//! `-v`: what a container's volume is, as Docker writes it.
//!
//! `-v /data` asks for an anonymous volume on `/data`: a new directory the
//! store keeps, named by 64 random hex digits. `-v name:/data` asks for the
//! named volume `name` (made on first use). `-v /host/path:/data` binds a
//! host directory or file. Each may end in `:ro` (the container may only
//! read it), `:rw`, or, for a volume, `:nocopy` (do not fill an empty volume
//! with what the image has there). Everything is checked before anything
//! exists: the container's path must be absolute, free of `..`, not `/`, and
//! not taken by another `-v`. Introduced in chapter 5.

use std::path::{Component, Path, PathBuf};

use anyhow::{Result, bail};
use docker_cli::names::validate_name;

/// Where a volume's content comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A new volume, named by a random id: `-v /data`.
    Anonymous,
    /// The named volume, made if it does not exist: `-v name:/data`.
    Named(String),
    /// A host file or directory: `-v /host/path:/data`.
    Host(PathBuf),
}

/// One `-v`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolumeSpec {
    /// Where its content comes from.
    pub source: Source,
    /// Where it shows in the container: absolute, clean.
    pub destination: PathBuf,
    /// `:ro`.
    pub readonly: bool,
    /// `:nocopy`.
    pub nocopy: bool,
}

/// Parses one `-v` value.
pub fn parse_volume(text: &str) -> Result<VolumeSpec> {
    let invalid = |why: String| anyhow::anyhow!("invalid volume {text:?}: {why}");
    let parts: Vec<&str> = text.split(':').collect();
    // EXERCISE(volume-spec): split [SOURCE:]DESTINATION[:MODE]: an absolute SOURCE is a host path, another a volume name, none an anonymous volume; MODE is ro, rw or nocopy, comma-separated
    todo!(
        "bind-volume step 1 of 5 (volume-spec): split [SOURCE:]DESTINATION[:MODE]: an absolute SOURCE is a host path, another a volume name, none an anonymous volume; MODE is ro, rw or nocopy, comma-separated — book: bind-volume.html#volume-spec"
    )
}

/// Checks a container path: absolute, no `..`, not `/`; returns it clean.
pub fn container_path(text: &str) -> Result<PathBuf, String> {
    let path = Path::new(text);
    if !path.is_absolute() {
        return Err(format!("the container path {text:?} must be absolute"));
    }
    if path.components().any(|component| component == Component::ParentDir) {
        return Err(format!("the container path {text:?} must not climb with \"..\""));
    }
    let clean: PathBuf = path.components().collect();
    if clean == Path::new("/") {
        return Err("a volume cannot be mounted on the container's /".to_owned());
    }
    Ok(clean)
}

/// Parses every `-v`, and refuses two on one mountpoint.
pub fn parse_all(values: &[String]) -> Result<Vec<VolumeSpec>> {
    let specs = values.iter().map(|value| parse_volume(value)).collect::<Result<Vec<_>>>()?;
    for (i, spec) in specs.iter().enumerate() {
        if specs[..i].iter().any(|other| other.destination == spec.destination) {
            bail!("two volumes on one mountpoint: {}", spec.destination.display());
        }
    }
    Ok(specs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_three_kinds_of_volume_and_their_modes() {
        let spec = |text| parse_volume(text).unwrap();
        assert_eq!(spec("/data").source, Source::Anonymous);
        assert_eq!(spec("cache:/var/cache").source, Source::Named("cache".to_owned()));
        assert_eq!(spec("/srv/www:/app/www:ro").source, Source::Host(PathBuf::from("/srv/www")));
        assert!(spec("/srv/www:/app/www:ro").readonly && spec("/data:ro").readonly);
        assert!(spec("cache:/c:nocopy").nocopy);
    }

    #[test]
    fn bad_specs_are_refused() {
        for bad in ["data", "./here:/data", "/h:data", "/h:/a/../b", "/h:/", "/h:/c:rx", "/h:/c:nocopy", "a:b:c:d"] {
            assert!(parse_volume(bad).is_err(), "{bad} was accepted");
        }
        assert!(parse_all(&["/a".to_owned(), "x1:/a".to_owned()]).is_err());
    }
}
