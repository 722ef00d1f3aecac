//! Volumes: directories the store keeps, outside every container's layers.
//!
//! A volume is `<root>/volumes/<name>/_data`, a plain directory, and a
//! `volume.json` that says when it was made and, for an anonymous volume,
//! for which container. Its content outlives the containers that mount it,
//! and is no layer of any of them: `commit` never carries it (chapter 6).
//! A named volume is made the first time a container asks for it; an
//! anonymous one for each container that asks, and removed with the
//! container if that was run with `--rm` (or removed with `rm -v`). A
//! volume in use by a container, running or stopped, is not removed.
//! Introduced in chapter 5.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use docker_cli::clock;
use docker_cli::names::validate_name;
use docker_cli::random::random_hex_id;
use serde::{Deserialize, Serialize};

use setns_exec::hostconfig::HostConfig;
use union_rootfs::containers;
use union_rootfs::store::{Store, read_json, remove_tree, write_json};

/// What `volume.json` says of a volume.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Volume {
    /// Its name: given, or 64 hex digits for an anonymous one.
    pub name: String,
    /// When it was made (Unix time).
    pub created: i64,
    /// For an anonymous volume: the container it was made for.
    pub anonymous_for: Option<String>,
    /// Whether it goes when that container is removed (`--rm`).
    pub remove_with_container: bool,
}

/// `<root>/volumes/`.
pub fn volumes_dir(store: &Store) -> PathBuf {
    store.root().join("volumes")
}

/// `<root>/volumes/<name>`.
pub fn volume_dir(store: &Store, name: &str) -> PathBuf {
    volumes_dir(store).join(name)
}

impl Volume {
    /// The directory a container sees: `<root>/volumes/<name>/_data`.
    pub fn data(&self, store: &Store) -> PathBuf {
        volume_dir(store, &self.name).join("_data")
    }
}

/// Makes the volume `name` (its `_data` directory and `volume.json`), unless it exists; returns it.
pub fn create(store: &Store, name: &str, anonymous_for: Option<&str>, remove_with_container: bool) -> Result<Volume> {
    if let Ok(volume) = find(store, name) {
        return Ok(volume);
    }
    let volume = Volume {
        name: name.to_owned(),
        created: clock::now(),
        anonymous_for: anonymous_for.map(str::to_owned),
        remove_with_container,
    };
    let dir = volume_dir(store, name);
    // ANCHOR: create_volume
    // EXERCISE(volume-dir): make <root>/volumes/<name>/_data (and its parents), then write volume.json beside _data with write_json
    let data = dir.join("_data");
    fs::create_dir_all(&data).with_context(|| format!("create the volume directory {}", data.display()))?;
    write_json(&dir.join("volume.json"), &volume)?;
    Ok(volume)
    // END EXERCISE
    // ANCHOR_END: create_volume
}

/// A new anonymous volume, named by 64 random hex digits, for container `id`.
pub fn create_anonymous(store: &Store, id: &str, remove_with_container: bool) -> Result<Volume> {
    create(store, &random_hex_id(32)?, Some(id), remove_with_container)
}

/// The volume called `name`.
pub fn find(store: &Store, name: &str) -> Result<Volume> {
    let path = volume_dir(store, name).join("volume.json");
    if validate_name(name).is_err() || !path.is_file() {
        bail!("no such volume: {name}");
    }
    read_json(&path)
}

/// Every volume, by name.
pub fn list(store: &Store) -> Result<Vec<Volume>> {
    let dir = volumes_dir(store);
    let Ok(entries) = fs::read_dir(&dir) else { return Ok(Vec::new()) };
    let mut volumes: Vec<Volume> =
        entries.flatten().filter_map(|entry| read_json(&entry.path().join("volume.json")).ok()).collect();
    volumes.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(volumes)
}

/// The containers (names) whose mounts name volume `name`, running or not.
pub fn users(store: &Store, name: &str) -> Result<Vec<String>> {
    let mut users = Vec::new();
    for container in containers::list(store)? {
        let mounts = HostConfig::load(&container)?.mounts;
        // ANCHOR: users
        // EXERCISE(volume-in-use): the container uses the volume if one of its mounts is of kind "volume" with this name
        if mounts.iter().any(|mount| mount.kind == "volume" && mount.name.as_deref() == Some(name)) {
            users.push(container.config.name.clone());
        }
        // END EXERCISE
        // ANCHOR_END: users
    }
    Ok(users)
}

/// `volume rm`: removes a volume no container uses.
pub fn remove(store: &Store, name: &str) -> Result<()> {
    let volume = find(store, name)?;
    let users = users(store, &volume.name)?;
    if !users.is_empty() {
        bail!("cannot remove volume {name}: it is in use by container {}", users.join(", "));
    }
    remove_tree(&volume_dir(store, &volume.name))
}

/// Removes every anonymous volume whose container is gone and was run with `--rm`; returns their names.
///
/// A container removed when it ends takes its anonymous volumes along, as
/// Docker's `--rm` does; its monitor removes the container, and the next
/// command of this chapter removes the volumes.
pub fn collect_removed(store: &Store) -> Result<Vec<String>> {
    let mut removed = Vec::new();
    for volume in list(store)? {
        let gone = volume.anonymous_for.as_deref().is_some_and(|id| !store.container_dir(id).exists());
        if volume.remove_with_container && gone {
            remove_tree(&volume_dir(store, &volume.name))?;
            removed.push(volume.name);
        }
    }
    Ok(removed)
}

/// Removes the anonymous volumes made for container `id`: `rm -v`, or a refused run.
pub fn remove_anonymous_of(store: &Store, id: &str) -> Result<()> {
    for volume in list(store)? {
        if volume.anonymous_for.as_deref() == Some(id) {
            remove_tree(&volume_dir(store, &volume.name))?;
        }
    }
    Ok(())
}

/// Whether a directory is empty (a volume that was never filled).
pub fn is_empty(dir: &Path) -> Result<bool> {
    Ok(fs::read_dir(dir).with_context(|| format!("read {}", dir.display()))?.next().is_none())
}
