//! Images in the store: load, name, find, list and remove them.
//!
//! An image is its config (`images/<id>.json`, byte for byte: the id is the
//! sha256 of those bytes, as in Docker) plus the layers its config lists by
//! diff id, found in `layers/` by chain id. Names (`busybox:latest`) map to
//! ids in `repositories.json`. Loading is all or nothing: whatever makes an
//! image fail half-way (a bad blob, a full disk), the layers and the config
//! it added are removed again, and the store is as it was. Removing is
//! deleting first and renaming last: on a full disk, a new file (the next
//! `repositories.json`) has no room until something is deleted; a name
//! left pointing at a deleted image, should the runtime die in between,
//! is read as no name. Introduced in chapter 3.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use oci_spec::image::ImageConfiguration;

use crate::digest::{Digest, chain_ids, hex_part, sha256_of};
use crate::layer::{self, Expected, StoredLayer};
use crate::source::Source;
use crate::store::{Store, read_json, write_atomic, write_json};
use crate::{docker_archive, oci};

/// An image about to be stored: its config bytes, names and layer blobs.
#[derive(Debug)]
pub struct ImageSpec {
    /// The config JSON, exactly as found.
    pub config: Vec<u8>,
    /// `repository:tag` names.
    pub names: Vec<String>,
    /// The layer blobs, bottom first.
    pub layers: Vec<LayerRef>,
}

/// Where a layer blob is in its source, and its digest when known.
#[derive(Debug)]
pub struct LayerRef {
    /// The file in the image directory or archive.
    pub member: String,
    /// The blob's digest.
    pub blob: Option<Digest>,
}

/// An image in the store.
#[derive(Debug, Clone)]
pub struct Image {
    /// `sha256:` of the config.
    pub id: Digest,
    /// The OCI image config.
    pub config: ImageConfiguration,
    /// The chain ids of its layers, bottom first.
    pub chain_ids: Vec<Digest>,
}

impl Image {
    /// The 12 hex digits Docker shows.
    pub fn short_id(&self) -> &str {
        &self.id[7..19]
    }
}

/// `busybox` → `busybox:latest`; a name with a tag is kept; Docker Hub's prefix is dropped.
pub fn normalize(reference: &str) -> String {
    let reference = reference.strip_prefix("docker.io/").unwrap_or(reference);
    let reference = reference.strip_prefix("library/").unwrap_or(reference);
    let last = reference.rsplit('/').next().unwrap_or(reference);
    if last.contains(':') { reference.to_owned() } else { format!("{reference}:latest") }
}

/// Loads every image of an OCI layout or a `docker save` archive; returns Docker's report lines.
pub fn load(store: &Store, path: &Path) -> Result<Vec<String>> {
    let source = Source::open(path)?;
    let specs = if docker_archive::is_archive(&source) {
        docker_archive::read_archive(&source)?
    } else if oci::is_layout(&source) {
        oci::read_layout(&source)?
    } else {
        bail!(
            "{} is neither an OCI image layout (oci-layout, index.json) nor a docker archive (manifest.json)",
            path.display()
        );
    };
    let _lock = store.lock()?;
    let mut report = Vec::new();
    for spec in specs {
        let id = store_image(store, &source, &spec)?;
        match spec.names.is_empty() {
            true => report.push(format!("Loaded image ID: {id}")),
            false => report.extend(spec.names.iter().map(|name| format!("Loaded image: {}", normalize(name)))),
        }
    }
    Ok(report)
}

/// Stores one image's layers, config and names; takes out what it added if any step fails.
pub fn store_image(store: &Store, source: &Source, spec: &ImageSpec) -> Result<Digest> {
    let config = ImageConfiguration::from_reader(&spec.config[..]).context("parse the image config")?;
    let diff_ids = config.rootfs().diff_ids();
    if diff_ids.len() != spec.layers.len() {
        bail!("the image config lists {} layers but the manifest has {}", diff_ids.len(), spec.layers.len());
    }
    all_or_nothing(store, |added| {
        for ((chain, diff), blob) in chain_ids(diff_ids).iter().zip(diff_ids).zip(&spec.layers) {
            let expected = Expected { blob: blob.blob.clone(), diff_id: Some(diff.clone()) };
            let layer = source
                .reader(&blob.member)
                .and_then(|reader| layer::store_layer(store, Some(chain), &expected, reader))
                .with_context(|| format!("unpack layer {diff} ({})", blob.member))?;
            added.layer(&layer);
        }
        add_config_and_names(store, &spec.config, &spec.names, added)
    })
}

/// What one load or import has put in the store so far, to be taken out again if it fails.
#[derive(Debug, Default)]
pub struct Added {
    layers: Vec<Digest>,
    config: Option<PathBuf>,
}

impl Added {
    /// Notes a layer, if this load unpacked it: one that was in the store before stays.
    pub fn layer(&mut self, layer: &StoredLayer) {
        if layer.created {
            self.layers.push(layer.chain_id.clone());
        }
    }

    /// Removes what was added, the config first (an image never lacks a layer); returns the first error.
    fn undo(self, store: &Store) -> Result<()> {
        let mut result = match &self.config {
            Some(path) => fs::remove_file(path).with_context(|| format!("remove {}", path.display())),
            None => Ok(()),
        };
        for chain in &self.layers {
            result = result.and(layer::remove_layer(store, chain));
        }
        result
    }
}

/// Runs `add`, which stores an image piece by piece (noting each in [`Added`]); if it fails, takes every piece out.
///
/// The error says what ran out, if the store's filesystem did (see [`Store::what_ran_out`]).
pub fn all_or_nothing(store: &Store, add: impl FnOnce(&mut Added) -> Result<Digest>) -> Result<Digest> {
    let mut added = Added::default();
    let err = match add(&mut added) {
        Ok(id) => return Ok(id),
        Err(err) => store.what_ran_out(err),
    };
    match added.undo(store) {
        Ok(()) => Err(err),
        Err(undo) => Err(err.context(format!("and removing what it had added failed too: {undo:#}"))),
    }
}

/// Writes an image's config (its id is the config's sha256), then gives it `names`: the last steps of a load.
pub fn add_config_and_names(store: &Store, config: &[u8], names: &[String], added: &mut Added) -> Result<Digest> {
    let id = sha256_of(config);
    let path = image_file(store, &id)?;
    if !path.is_file() {
        write_atomic(&path, config)?;
        added.config = Some(path);
    }
    if !names.is_empty() {
        let mut repositories = repositories(store)?;
        for name in names {
            repositories.insert(normalize(name), id.clone());
        }
        write_json(&store.repositories_file(), &repositories)?;
    }
    Ok(id)
}

/// Finds an image by name (`busybox`, `busybox:latest`) or by id or id prefix.
pub fn resolve(store: &Store, reference: &str) -> Result<Image> {
    if let Some(id) = repositories(store)?.get(&normalize(reference)) {
        return read_image(store, id);
    }
    let prefix = reference.strip_prefix("sha256:").unwrap_or(reference);
    if prefix.len() >= 4 && docker_cli::random::is_lower_hex(prefix) {
        let ids: Vec<Digest> = all_ids(store)?.into_iter().filter(|id| id[7..].starts_with(prefix)).collect();
        if let [id] = ids.as_slice() {
            return read_image(store, id);
        }
    }
    bail!(
        "unknown image {:?}: it is not in the store {} (load it with `image load` or `image import`)",
        normalize(reference),
        store.root().display()
    )
}

/// Reads the image with id `id`.
pub fn read_image(store: &Store, id: &str) -> Result<Image> {
    let path = image_file(store, id)?;
    let config =
        ImageConfiguration::from_file(&path).with_context(|| format!("read the image config {}", path.display()))?;
    let chain_ids = chain_ids(config.rootfs().diff_ids());
    Ok(Image { id: id.to_owned(), config, chain_ids })
}

/// `repositories.json`: name → image id, without names whose image is gone (an `image rm` cut short).
pub fn repositories(store: &Store) -> Result<BTreeMap<String, Digest>> {
    let path = store.repositories_file();
    if !path.exists() {
        return Ok(BTreeMap::new());
    }
    let mut names: BTreeMap<String, Digest> = read_json(&path)?;
    names.retain(|_, id| image_file(store, id).is_ok_and(|file| file.is_file()));
    Ok(names)
}

/// The ids of every image in the store.
pub fn all_ids(store: &Store) -> Result<Vec<Digest>> {
    let dir = store.root().join("images");
    let mut ids = Vec::new();
    for entry in fs::read_dir(&dir).with_context(|| format!("list {}", dir.display()))? {
        let name = entry?.file_name().to_string_lossy().into_owned();
        if let Some(hex) = name.strip_suffix(".json") {
            ids.push(format!("sha256:{hex}"));
        }
    }
    Ok(ids)
}

/// Untags `reference`; deletes the image when no name is left and `in_use` finds no container.
///
/// `in_use` returns a container that uses the image, if any: then the
/// image is not removed, unless `force`, which takes its names away and
/// keeps it, nameless, for its containers (Docker's `rmi -f` of an image a
/// running container uses). Holds the store's lock from the check to the
/// last deletion, so no `run` can start using the image meanwhile. Returns
/// Docker's report lines (`Untagged: ...`, `Deleted: ...`).
pub fn remove(
    store: &Store,
    reference: &str,
    force: bool,
    in_use: impl Fn(&str) -> Option<String>,
) -> Result<Vec<String>> {
    let _lock = store.lock()?;
    let image = resolve(store, reference)?;
    let mut repositories = repositories(store)?;
    let name = normalize(reference);
    let by_name = repositories.get(&name) == Some(&image.id);
    let names: Vec<String> = repositories.iter().filter(|(_, id)| **id == image.id).map(|(n, _)| n.clone()).collect();
    let untagged: Vec<String> = names.iter().map(|n| format!("Untagged: {n}")).collect();
    if by_name && names.len() > 1 {
        repositories.remove(&name);
        write_json(&store.repositories_file(), &repositories)?;
        return Ok(vec![format!("Untagged: {name}")]);
    }
    if let Some(container) = in_use(&image.id) {
        if !force || names.is_empty() {
            let how = if names.is_empty() { "" } else { ", or untag it with image rm -f" };
            bail!(
                "unable to remove image {reference}: container {container} is using it (remove the container first{how})"
            );
        }
        repositories.retain(|_, id| *id != image.id);
        write_json(&store.repositories_file(), &repositories)?;
        return Ok(untagged);
    }
    // Deleting needs no room; the new repositories.json does, which a full disk has only once these are gone.
    let path = image_file(store, &image.id)?;
    fs::remove_file(&path).with_context(|| format!("remove {}", path.display()))?;
    let mut report = untagged;
    report.push(format!("Deleted: {}", image.id));
    report.extend(remove_unused_layers(store)?.into_iter().map(|chain| format!("Deleted: {chain}")));
    if !names.is_empty() {
        repositories.retain(|_, id| *id != image.id);
        write_json(&store.repositories_file(), &repositories)?;
    }
    Ok(report)
}

/// Removes the layers no image lists any more; returns their chain ids. The caller holds the store's lock.
pub fn remove_unused_layers(store: &Store) -> Result<Vec<Digest>> {
    let mut used = BTreeSet::new();
    for id in all_ids(store)? {
        used.extend(read_image(store, &id)?.chain_ids);
    }
    let dir = store.root().join("layers");
    let mut removed = Vec::new();
    for entry in fs::read_dir(&dir).with_context(|| format!("list {}", dir.display()))? {
        let chain = format!("sha256:{}", entry?.file_name().to_string_lossy());
        if hex_part(&chain).is_ok() && !used.contains(&chain) {
            layer::remove_layer(store, &chain)?;
            removed.push(chain);
        }
    }
    Ok(removed)
}

fn image_file(store: &Store, id: &str) -> Result<PathBuf> {
    Ok(store.root().join("images").join(format!("{}.json", hex_part(id)?)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_get_the_latest_tag_by_default() {
        assert_eq!(normalize("busybox"), "busybox:latest");
        assert_eq!(normalize("busybox:1.36"), "busybox:1.36");
        assert_eq!(normalize("localhost:5000/app"), "localhost:5000/app:latest");
        assert_eq!(normalize("docker.io/library/busybox:saved"), "busybox:saved");
    }
}
