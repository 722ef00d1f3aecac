//! Which image an image was made from: its parent, kept beside its config.
//!
//! An image config names its layers, not the image it was committed on.
//! Docker keeps that link outside the config, in its image store's
//! metadata (`imagedb/metadata/sha256/<id>/parent`): this store keeps it in
//! `images/<id>.parent`. Three things read it: `history` (the id of the
//! image each step made), `images` (an untagged image that is some other
//! image's parent is a build step's, and is not listed, as Docker hides
//! "intermediate images"), and `rmi` (removing a built image removes the
//! steps' images that nothing else needs). A loaded image has no parent
//! here: its history shows `<missing>`, as in Docker. Introduced in chapter 6.

use std::fs;
use std::io::ErrorKind;
use std::path::PathBuf;

use anyhow::{Context, Result};
use union_rootfs::digest::{Digest, hex_part};
use union_rootfs::image;
use union_rootfs::store::{Store, write_atomic};

/// Records that `child` was made from `parent`.
pub fn set_parent(store: &Store, child: &str, parent: &str) -> Result<()> {
    write_atomic(&parent_file(store, child)?, format!("{parent}\n").as_bytes())
}

/// The image `id` was made from, if it is known and still in the store.
pub fn parent(store: &Store, id: &str) -> Result<Option<Digest>> {
    let path = parent_file(store, id)?;
    let parent = match fs::read_to_string(&path) {
        Ok(text) => text.trim().to_owned(),
        Err(err) if err.kind() == ErrorKind::NotFound => return Ok(None),
        Err(err) => return Err(err).with_context(|| format!("read {}", path.display())),
    };
    Ok(image::all_ids(store)?.contains(&parent).then_some(parent))
}

/// The images made from `id`.
pub fn children(store: &Store, id: &str) -> Result<Vec<Digest>> {
    let mut children = Vec::new();
    for image in image::all_ids(store)? {
        if parent(store, &image)?.as_deref() == Some(id) {
            children.push(image);
        }
    }
    Ok(children)
}

/// Forgets the parent of an image that is gone; and every record whose image is gone (an `image rm` of chapter 3's).
pub fn forget_removed(store: &Store) -> Result<()> {
    let dir = store.root().join("images");
    let ids = image::all_ids(store)?;
    for entry in fs::read_dir(&dir).with_context(|| format!("list {}", dir.display()))? {
        let name = entry?.file_name().to_string_lossy().into_owned();
        if let Some(hex) = name.strip_suffix(".parent")
            && !ids.contains(&format!("sha256:{hex}"))
        {
            let path = dir.join(&name);
            fs::remove_file(&path).with_context(|| format!("remove {}", path.display()))?;
        }
    }
    Ok(())
}

fn parent_file(store: &Store, id: &str) -> Result<PathBuf> {
    Ok(store.root().join("images").join(format!("{}.parent", hex_part(id)?)))
}
