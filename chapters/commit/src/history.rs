//! `history IMAGE`: the steps that made an image, newest first, with the size each added.
//!
//! The config's `history` has one entry per step (a Dockerfile instruction,
//! a commit); the entries not marked `empty_layer` each made one layer, in
//! order, so walking both lists together gives each step its layer's size,
//! and the metadata steps `0B`. The IMAGE column is the image each step
//! made, found by walking the parents (`lineage.rs`): one image per step for
//! a build or a commit done here, `<missing>` for steps that happened
//! elsewhere (a loaded image's), as in Docker. Introduced in chapter 6.

use anyhow::Result;
use docker_cli::clock::{ago, parse_rfc3339};
use docker_cli::table::{human_size, render};
use union_rootfs::image;
use union_rootfs::layer::layer_size;
use union_rootfs::store::Store;

use crate::lineage;

/// How wide CREATED BY is, unless `--no-trunc`.
const CREATED_BY_WIDTH: usize = 45;

/// The `history` table of `reference`.
pub fn history_table(store: &Store, reference: &str, no_trunc: bool) -> Result<String> {
    let image = image::resolve(store, reference)?;
    let entries = image.config.history().clone().unwrap_or_default();
    let mut layers = image.chain_ids.iter();
    let mut rows = Vec::new();
    for entry in &entries {
        let size = match entry.empty_layer() {
            Some(true) => 0,
            _ => layers.next().map(|chain| layer_size(store, chain)).transpose()?.unwrap_or(0),
        };
        let created = entry.created().as_deref().and_then(parse_rfc3339).map_or_else(|| "N/A".to_owned(), ago);
        let created_by = entry.created_by().clone().unwrap_or_default();
        let created_by = if no_trunc { created_by } else { truncate(&created_by, CREATED_BY_WIDTH) };
        rows.push(vec![created, created_by, human_size(size), entry.comment().clone().unwrap_or_default()]);
    }
    // Newest first; the image itself, then its parents, one per step, as far as they are known.
    rows.reverse();
    let mut id = Some(image.id.clone());
    for row in &mut rows {
        let cell = match &id {
            Some(id) if no_trunc => id.clone(),
            Some(id) => id[7..19].to_owned(),
            None => "<missing>".to_owned(),
        };
        row.insert(0, cell);
        id = match id {
            Some(id) => lineage::parent(store, &id)?,
            None => None,
        };
    }
    Ok(render(&["IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT"], &rows))
}

/// `text` cut to `width` characters, the last one `…` if anything was cut.
fn truncate(text: &str, width: usize) -> String {
    match text.char_indices().nth(width - 1) {
        Some((end, _)) if text.chars().count() > width => format!("{}…", &text[..end]),
        _ => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_commands_are_cut_with_an_ellipsis() {
        assert_eq!(truncate("/bin/sh -c #(nop)  ENV NAME=World", 45), "/bin/sh -c #(nop)  ENV NAME=World");
        let cut = truncate("/bin/sh -c #(nop)  CMD [\"httpd\" \"-f\" \"-v\" \"-p\" \"80\" \"-h\" \"/app/www\"]", 45);
        assert_eq!(cut.chars().count(), 45);
        assert!(cut.ends_with('…'));
    }
}
