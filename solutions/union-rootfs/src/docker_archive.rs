//! Read a `docker save` archive: `manifest.json` naming a config and layer tars.
//!
//! `manifest.json` is a list of `{"Config": "<file>", "RepoTags": [...],
//! "Layers": ["<dir>/layer.tar", ...]}`, layers bottom first. Older archives
//! name files by v1 ids, newer ones by digest (`blobs/sha256/<hex>`); when
//! the name carries a digest it is checked. The layers' diff ids in the
//! config are always checked while unpacking. Introduced in chapter 3.

use anyhow::{Context, Result, bail};
use serde::Deserialize;

use crate::digest::sha256_of;
use crate::image::{ImageSpec, LayerRef};
use crate::source::Source;
use docker_cli::random::is_lower_hex;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Entry {
    config: String,
    #[serde(default)]
    repo_tags: Option<Vec<String>>,
    layers: Vec<String>,
}

/// Whether `source` is a `docker save` archive.
pub fn is_archive(source: &Source) -> bool {
    source.has("manifest.json")
}

/// The images of a `docker save` archive.
pub fn read_archive(source: &Source) -> Result<Vec<ImageSpec>> {
    let entries: Vec<Entry> =
        serde_json::from_slice(&source.read("manifest.json")?).context("parse manifest.json of the docker archive")?;
    entries
        .into_iter()
        .map(|entry| {
            let config = source.read(&entry.config)?;
            if let Some(digest) = digest_in_name(&entry.config)
                && sha256_of(&config) != digest
            {
                bail!("the image config {} does not match its digest", entry.config);
            }
            let layers =
                entry.layers.iter().map(|member| LayerRef { member: member.clone(), blob: digest_in_name(member) });
            Ok(ImageSpec { config, names: entry.repo_tags.unwrap_or_default(), layers: layers.collect() })
        })
        .collect()
}

/// `sha256:<hex>` when a member is named `<hex>.json` or `blobs/sha256/<hex>`.
fn digest_in_name(member: &str) -> Option<String> {
    let last = member.rsplit('/').next()?;
    let hex = last.strip_suffix(".json").unwrap_or(last);
    let by_digest = member.starts_with("blobs/sha256/") || last.ends_with(".json");
    (by_digest && hex.len() == 64 && is_lower_hex(hex)).then(|| format!("sha256:{hex}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_are_read_from_names_that_carry_one() {
        let hex = "a".repeat(64);
        assert_eq!(digest_in_name(&format!("{hex}.json")), Some(format!("sha256:{hex}")));
        assert_eq!(digest_in_name(&format!("blobs/sha256/{hex}")), Some(format!("sha256:{hex}")));
        assert_eq!(digest_in_name(&format!("{hex}/layer.tar")), None);
    }
}
