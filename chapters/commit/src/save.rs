//! `save`: images out of the store, as one tar that OCI tools and Docker both load.
//!
//! `image load` (chapter 3) read an image in; `save` writes it out, so that
//! an image committed here runs elsewhere: in Docker (`docker load`), in
//! containerd, through `skopeo` to a registry, or back into an empty store
//! with the same id. The order: every image named is resolved first (an
//! unknown one is refused before anything is written) → under the store's
//! lock, each layer's blob is opened (or packed again, see `layer_blob.rs`)
//! so that an `rmi` meanwhile takes nothing from under the save → the
//! archive is written (`archive.rs`). With `-o FILE` it goes to a
//! temporary file beside FILE, renamed over it when complete, as Docker's
//! command line does: a save that fails leaves no FILE, nor half of one.
//! Without `-o` it goes to the standard output, unless that is a terminal.
//! Introduced in chapter 6.

use std::collections::HashMap;
use std::fs;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use serde_json::Value;
use union_rootfs::digest::{Digest, hex_part, sha256_of};
use union_rootfs::image::{self, Image, normalize};
use union_rootfs::store::Store;

use crate::archive::{Saved, SavedImage, write_docker_archive, write_oci_archive};
use crate::layer_blob::layer_blob;

/// `save [-o FILE] [--format FORMAT] IMAGE...`, also `image save`.
#[derive(Debug, Args)]
pub struct SaveArgs {
    /// Write to a file, instead of STDOUT.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// The archive's layout.
    #[arg(long, value_enum, default_value_t = Format::OciArchive)]
    pub format: Format,
    /// Image names or ids.
    #[arg(required = true, value_name = "IMAGE")]
    pub images: Vec<String>,
}

/// What the archive is laid out as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// An OCI image layout, with Docker's manifest.json beside it, as Docker 25's `docker save` writes.
    OciArchive,
    /// Docker's legacy layout: manifest.json, the configs, the layers as plain tars.
    DockerArchive,
}

/// Saves the images `args.images` into the archive `args.output`, or to the standard output.
pub fn save(store: &Store, args: &SaveArgs) -> Result<()> {
    if args.output.is_none() && io::stdout().is_terminal() {
        bail!("cowardly refusing to save to a terminal. Use the -o flag or redirect");
    }
    let lock = store.lock()?;
    let images = resolve_all(store, &args.images)?;
    let staging = store.temp_dir(".save-")?;
    let saved = open_layers(store, &images, staging.path()).map_err(|err| store.what_ran_out(err))?;
    drop(lock);
    let write = |out: &mut dyn Write| match args.format {
        Format::OciArchive => write_oci_archive(saved, out),
        Format::DockerArchive => write_docker_archive(saved, staging.path(), out),
    };
    match &args.output {
        Some(path) => write_beside_then_rename(path, write),
        None => {
            let mut out = BufWriter::with_capacity(1 << 20, io::stdout().lock());
            write(&mut out)?;
            out.flush().context("write the archive to the standard output")
        }
    }
}

/// Each image named, once, with the names it was asked for by (none if by id), in the order given.
fn resolve_all(store: &Store, references: &[String]) -> Result<Vec<(Image, Vec<String>)>> {
    let repositories = image::repositories(store)?;
    let mut images: Vec<(Image, Vec<String>)> = Vec::new();
    for reference in references {
        let image = image::resolve(store, reference)?;
        let name = normalize(reference);
        let names: Vec<String> = (repositories.get(&name) == Some(&image.id)).then_some(name).into_iter().collect();
        match images.iter_mut().find(|(known, _)| known.id == image.id) {
            Some((_, known)) => {
                for name in names {
                    if !known.contains(&name) {
                        known.push(name);
                    }
                }
            }
            None => images.push((image, names)),
        }
    }
    Ok(images)
}

/// Opens every layer's blob (packing again those the store did not keep), and reads every config.
fn open_layers(store: &Store, images: &[(Image, Vec<String>)], staging: &Path) -> Result<Saved> {
    let mut saved = Saved::default();
    let mut by_chain: HashMap<Digest, (Digest, Digest)> = HashMap::new();
    for (image, names) in images {
        let mut layers = Vec::new();
        let mut diff_ids = Vec::new();
        for (chain, diff_id) in image.chain_ids.iter().zip(image.config.rootfs().diff_ids()) {
            if !by_chain.contains_key(chain) {
                let blob = layer_blob(store, chain, diff_id, staging)?;
                let known = (blob.descriptor.digest().to_string(), blob.diff_id.clone());
                saved.blobs.entry(known.0.clone()).or_insert(blob);
                by_chain.insert(chain.clone(), known);
            }
            let (digest, diff_id) = &by_chain[chain];
            layers.push(digest.clone());
            diff_ids.push(diff_id.clone());
        }
        let config = config_for(store, image, names, &diff_ids)?;
        saved.images.push(SavedImage { config, names: names.clone(), layers });
    }
    Ok(saved)
}

/// The stored config, byte for byte; or, if a layer packed again has another diff id, a config that says so.
///
/// The new config has another id: the image cannot be saved as it was,
/// since the store lost its layers' tars (see `layer_blob.rs`). Said on
/// standard error, as the id is what a user would compare.
fn config_for(store: &Store, image: &Image, names: &[String], diff_ids: &[Digest]) -> Result<Vec<u8>> {
    let path = store.root().join("images").join(format!("{}.json", hex_part(&image.id)?));
    let bytes = fs::read(&path).with_context(|| format!("read the image config {}", path.display()))?;
    if diff_ids == image.config.rootfs().diff_ids().as_slice() {
        return Ok(bytes);
    }
    let mut config: Value = serde_json::from_slice(&bytes).with_context(|| format!("parse {}", path.display()))?;
    let slot = config.pointer_mut("/rootfs/diff_ids").context("the image config has no rootfs.diff_ids")?;
    *slot = Value::from(diff_ids.to_vec());
    let bytes = serde_json::to_vec(&config).context("serialize the image config")?;
    let name = names.first().map_or(image.id.as_str(), String::as_str);
    eprintln!(
        "WARNING: {name} ({}) has layers stored without their blob: packed again from their files, their tars \
         have other digests, so it is saved as a new image, {}",
        image.short_id(),
        sha256_of(&bytes)
    );
    Ok(bytes)
}

/// Runs `write` on a temporary file beside `path`, then renames it over `path`; removes it if anything fails.
fn write_beside_then_rename(path: &Path, write: impl FnOnce(&mut dyn Write) -> Result<()>) -> Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let mut temp = tempfile::Builder::new()
        .prefix(".rebox-save-")
        .tempfile_in(dir)
        .with_context(|| format!("create a temporary file in {} for {}", dir.display(), path.display()))?;
    let mut out = BufWriter::with_capacity(1 << 20, temp.as_file_mut());
    write(&mut out).with_context(|| format!("write {}", path.display()))?;
    let file = out
        .into_inner()
        .map_err(io::IntoInnerError::into_error)
        .with_context(|| format!("write {}", path.display()))?;
    file.sync_all().with_context(|| format!("write {}", path.display()))?;
    temp.persist(path).with_context(|| format!("rename the archive into place at {}", path.display()))?;
    Ok(())
}
