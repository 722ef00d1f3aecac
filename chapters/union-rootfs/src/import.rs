//! `image import`: a one-layer image from a root filesystem tree or tarball.
//!
//! The tree (a directory, or a `.tar`/`.tar.gz` of one) becomes a single
//! layer; its config is written here, with Docker's `--change` instructions
//! (`CMD`, `ENTRYPOINT`, `ENV`, `WORKDIR`) for what the tree cannot say.
//! A directory is first packed into a tar under the store's `tmp/`, so both
//! kinds of input go through the same checked unpacking. Like `docker import`.
//! Introduced in chapter 3.

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;

use anyhow::{Context, Result, bail};
use oci_spec::image::{Config, HistoryBuilder, ImageConfiguration, ImageConfigurationBuilder, RootFsBuilder};

use crate::digest::Digest;
use crate::image;
use crate::layer::{self, Expected};
use crate::process::parse_command_form;
use crate::store::Store;
use docker_cli::clock;

/// Imports `source` as the image `name`; returns its id. All or nothing, as `image load`.
pub fn import(store: &Store, source: &Path, name: &str, changes: &[String]) -> Result<Digest> {
    let mut config = Config::default();
    for change in changes {
        apply_change(&mut config, change)?;
    }
    let staging = store.temp_dir(".import-")?;
    let tar_path = if source.is_dir() {
        let tar_path = staging.path().join("layer.tar");
        pack_directory(source, &tar_path).map_err(|err| store.what_ran_out(err))?;
        tar_path
    } else {
        source.to_path_buf()
    };
    let _lock = store.lock()?;
    image::all_or_nothing(store, |added| {
        let blob = File::open(&tar_path).with_context(|| format!("open {}", tar_path.display()))?;
        let layer = layer::store_layer(store, None, &Expected::default(), blob)
            .with_context(|| format!("import {}", source.display()))?;
        added.layer(&layer);
        let image = image_config(config, &layer.diff_id, &format!("union-rootfs image import {}", source.display()))?;
        let bytes = image.to_string().context("serialize the image config")?.into_bytes();
        image::add_config_and_names(store, &bytes, &[name.to_owned()], added)
    })
}

/// Applies one Dockerfile-style `--change` instruction to `config`.
pub fn apply_change(config: &mut Config, change: &str) -> Result<()> {
    let (instruction, value) = change.trim().split_once(char::is_whitespace).unwrap_or((change.trim(), ""));
    let value = value.trim();
    match instruction.to_ascii_uppercase().as_str() {
        "CMD" => config.set_cmd(Some(parse_command_form(value))),
        "ENTRYPOINT" => config.set_entrypoint(Some(parse_command_form(value))),
        "WORKDIR" => config.set_working_dir(Some(value.to_owned())),
        "ENV" => {
            let (key, val) = value.split_once(['=', ' ']).context("ENV needs KEY=VALUE")?;
            let mut env = config.env().clone().unwrap_or_default();
            env.retain(|var| !var.starts_with(&format!("{key}=")));
            env.push(format!("{key}={}", val.trim()));
            config.set_env(Some(env))
        }
        other => bail!("unsupported --change instruction {other:?}: use CMD, ENTRYPOINT, ENV or WORKDIR"),
    };
    Ok(())
}

fn image_config(config: Config, diff_id: &str, created_by: &str) -> Result<ImageConfiguration> {
    let now = clock::rfc3339(clock::now());
    let rootfs = RootFsBuilder::default().typ("layers").diff_ids(vec![diff_id.to_owned()]).build()?;
    let history = HistoryBuilder::default().created(now.clone()).created_by(created_by).comment("imported").build()?;
    // The builder's default architecture and OS are the machine's own.
    let image = ImageConfigurationBuilder::default().created(now).rootfs(rootfs).history(vec![history]).config(config);
    Ok(image.build()?)
}

/// Packs a directory into a tar, keeping owners, modes and symlinks as they are.
fn pack_directory(dir: &Path, tar_path: &Path) -> Result<()> {
    let file = File::create(tar_path).with_context(|| format!("create {}", tar_path.display()))?;
    let mut builder = tar::Builder::new(BufWriter::new(file));
    builder.follow_symlinks(false);
    builder.append_dir_all(".", dir).with_context(|| format!("pack {} into a layer tar", dir.display()))?;
    builder.into_inner().and_then(|w| w.into_inner().map_err(|e| e.into_error())).context("finish the layer tar")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_set_the_config_like_a_dockerfile() {
        let mut config = Config::default();
        apply_change(&mut config, "CMD /app/hello").unwrap();
        apply_change(&mut config, r#"ENTRYPOINT ["/bin/sh", "-c"]"#).unwrap();
        apply_change(&mut config, "ENV NAME=World").unwrap();
        apply_change(&mut config, "WORKDIR /app").unwrap();
        assert_eq!(
            config.cmd().as_deref(),
            Some(&["/bin/sh".to_owned(), "-c".to_owned(), "/app/hello".to_owned()][..])
        );
        assert_eq!(config.entrypoint().as_deref(), Some(&["/bin/sh".to_owned(), "-c".to_owned()][..]));
        assert_eq!(config.env().as_deref(), Some(&["NAME=World".to_owned()][..]));
        assert!(apply_change(&mut config, "RUN make").is_err());
    }
}
