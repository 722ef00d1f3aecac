//! `images` and `rmi`, now that images have parents.
//!
//! A build makes one image per step, and only the last is named. Docker
//! lists the others only with `images -a`: an untagged image that another
//! image was made from is an *intermediate image*, kept as the build cache
//! and as the history's ids. An untagged image with no child is *dangling*
//! (`<none>`), and is listed. `rmi` removes as chapter 3's `image rm` does
//! (refused while a container uses the image, unless `-f`), and then goes
//! up the parents, removing each that has no name, no other child and no
//! container: a built image takes its steps' images with it. An image that
//! others were made from is untagged but kept (by id, it is refused), as its
//! children stand on its layers. Introduced in chapter 6.

use anyhow::{Result, bail};
use union_rootfs::catalog::images_table_of;
use union_rootfs::containers;
use union_rootfs::image::{self, normalize};
use union_rootfs::store::Store;

use crate::lineage;

/// `images [-a]`: every image with `all`; else not the intermediate ones.
pub fn images_table(store: &Store, all: bool) -> Result<String> {
    let names = image::repositories(store)?;
    images_table_of(store, |id| {
        let named = names.values().any(|named| named == id);
        Ok(all || named || lineage::children(store, id)?.is_empty())
    })
}

/// `rmi [-f] IMAGE`: untags, removes the image if nothing needs it, then its unneeded parents; returns Docker's lines.
pub fn remove(store: &Store, reference: &str, force: bool) -> Result<Vec<String>> {
    let image = image::resolve(store, reference)?;
    let repositories = image::repositories(store)?;
    let by_name = repositories.contains_key(&normalize(reference));
    let in_use = |id: &str| containers::using_image(store, id);
    if !lineage::children(store, &image.id)?.is_empty() {
        if !by_name {
            bail!("unable to delete {} (cannot be forced): image has dependent child images", image.short_id());
        }
        let last_name = repositories.values().filter(|id| **id == image.id).count() == 1;
        if let Some(container) = in_use(&image.id).filter(|_| last_name && !force) {
            bail!(
                "unable to remove image {reference}: container {container} is using it \
                 (remove the container first, or untag it with image rm -f)"
            );
        }
        return untag(store, &normalize(reference));
    }
    let parent = lineage::parent(store, &image.id)?;
    let mut report = image::remove(store, reference, force, in_use)?;
    let mut next = parent.filter(|_| !image::all_ids(store).unwrap_or_default().contains(&image.id));
    while let Some(id) = next {
        let named = image::repositories(store)?.values().any(|named| *named == id);
        if named || !lineage::children(store, &id)?.is_empty() || in_use(&id).is_some() {
            break;
        }
        next = lineage::parent(store, &id)?;
        report.extend(image::remove(store, &id, false, in_use)?);
    }
    lineage::forget_removed(store)?;
    Ok(report)
}

/// Takes the name `name` away, keeping the image.
fn untag(store: &Store, name: &str) -> Result<Vec<String>> {
    let _lock = store.lock()?;
    let mut repositories = image::repositories(store)?;
    repositories.remove(name);
    union_rootfs::store::write_json(&store.repositories_file(), &repositories)?;
    Ok(vec![format!("Untagged: {name}")])
}
