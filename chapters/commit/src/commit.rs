//! `commit`: the container's read-write layer, and only it, as a new image on top of its own.
//!
//! The lesson's picture: a container stands on its image's read-only
//! layers, the init layer, and its read-write layer. `docker commit` takes
//! the read-write layer alone (`upper/`), packs it as a layer tar, and
//! makes an image whose layers are the parent's plus that one. The parent's
//! layers are shared, not copied: the new image costs what the container
//! changed. The init layer is not taken (that is what it is for: the
//! container's own `/etc/hosts` never ends up in an image), nor is a
//! volume's content (only its mountpoint is in `upper/`).
//!
//! The order: check every `-c` change and the new name (refused before
//! anything is written) → pack `upper/` into a blob under the store's
//! `tmp/`, with the container frozen if it runs (`freeze.rs`) → under the
//! store lock, store the layer as every layer is stored (chapter 3's
//! `store_layer`, by chain id: unpacked once, shared) and the new config,
//! all or nothing → name it. The staging directory goes whatever happens.
//! Introduced in chapter 6.

use std::fs::File;
use std::path::Path;

use anyhow::{Context, Result};
use setns_exec::stop::running_process;
use union_rootfs::containers::{self, Container};
use union_rootfs::digest::{Digest, chain_ids};
use union_rootfs::image::{self, Image};
use union_rootfs::layer::{self, Expected};
use union_rootfs::store::Store;

use crate::blob::{Blob, write_blob};
use crate::config::{self, HistoryEntry, config_bytes, parse_change};
use crate::dockerfile::Instruction;
use crate::freeze::{Freezer, while_frozen};
use crate::lineage;
use crate::tag::check_reference;

/// `commit`'s options.
#[derive(Debug, Clone, Default)]
pub struct CommitOptions {
    /// `-m`: the history entry's comment.
    pub message: Option<String>,
    /// `-a`: the image's author.
    pub author: Option<String>,
    /// `-c`: Dockerfile instructions applied to the config.
    pub changes: Vec<String>,
    /// `-p`: freeze a running container while its layer is read.
    pub pause: bool,
}

/// Commits the container `reference` as a new image, named `name` if given; returns the image's id.
pub fn commit(store: &Store, reference: &str, options: &CommitOptions, name: Option<&str>) -> Result<Digest> {
    let changes = options.changes.iter().map(|text| parse_change(text)).collect::<Result<Vec<_>>>()?;
    let names: Vec<String> = name.map(check_reference).transpose()?.into_iter().collect();
    let container = containers::find(store, reference)?;
    let parent = image::read_image(store, &container.config.image_id)?;
    let staging = store.temp_dir(".commit-")?;
    let blob = read_layer(&container, options.pause, &staging.path().join("layer.tar.gz"))
        .map_err(|err| store.what_ran_out(err))?;
    let history = HistoryEntry {
        created_by: container.config.command.join(" "),
        author: options.author.clone(),
        comment: options.message.clone(),
    };
    store_child(store, &parent, &changes, Some(&blob), history, &names)
}

/// Packs the container's read-write layer into the blob `path`: frozen while it is read, if it runs and `pause`.
pub fn read_layer(container: &Container, pause: bool, path: &Path) -> Result<Blob> {
    let upper = container.dir.join("upper");
    match running_process(container) {
        Some(_) if pause => while_frozen(&Freezer::of_container(&container.config.id)?, || write_blob(&upper, path)),
        _ => write_blob(&upper, path),
    }
}

/// Stores a child of `parent`: its layer (none if `blob` is `None` or empty), its config, its names; all or nothing.
///
/// The child remembers its parent (`lineage.rs`), as Docker's images do:
/// `history` shows the ids of the images each step made, and `rmi` of a
/// built image takes the steps' images no other image needs with it.
pub fn store_child(
    store: &Store,
    parent: &Image,
    changes: &[Instruction],
    blob: Option<&Blob>,
    history: HistoryEntry,
    names: &[String],
) -> Result<Digest> {
    let _lock = store.lock()?;
    image::all_or_nothing(store, |added| {
        let layer = match blob.filter(|blob| !blob.is_empty_layer()) {
            None => None,
            Some(blob) => {
                let mut diff_ids = parent.config.rootfs().diff_ids().clone();
                diff_ids.push(blob.diff_id.clone());
                let chain = chain_ids(&diff_ids).pop().context("a layer has a chain id")?;
                let expected = Expected { blob: Some(blob.digest.clone()), diff_id: Some(blob.diff_id.clone()) };
                let file = File::open(&blob.path).with_context(|| format!("open {}", blob.path.display()))?;
                added.layer(&layer::store_layer(store, Some(&chain), &expected, file)?);
                Some(blob.diff_id.clone())
            }
        };
        let child = config::child(&parent.config, changes, layer.as_ref(), history)?;
        let id = image::add_config_and_names(store, &config_bytes(&child)?, names, added)?;
        lineage::set_parent(store, &id, &parent.id)?;
        Ok(id)
    })
}
