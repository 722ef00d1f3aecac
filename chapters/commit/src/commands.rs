//! The commands chapter 6 adds: `diff`, `commit`, `tag`, `history`, `rmi`, `build`; and `images` with `-a`.
//!
//! One clap subcommand enum in the library, as every chapter's, beside
//! chapters 3, 4 and 5's. Introduced in chapter 6.

use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, Subcommand};
use union_rootfs::commands::{ImportArgs, LoadArgs, import, load};
use union_rootfs::containers;
use union_rootfs::image;
use union_rootfs::layer::diff_dir;
use union_rootfs::store::Store;

use crate::builder::{self, BuildArgs};
use crate::commit::{self, CommitOptions};
use crate::diff::changes;
use crate::save::{self, SaveArgs};
use crate::{history, images, tag};

/// The commands on images.
#[derive(Debug, Subcommand)]
pub enum ImageCommand {
    /// Show what a container added (A), changed (C) and deleted (D), from its read-write layer.
    Diff {
        /// A name, an id or a unique id prefix.
        #[arg(value_name = "CONTAINER")]
        container: String,
    },
    /// Make an image of a container's read-write layer, on top of its image.
    Commit(CommitArgs),
    /// Give an image another name.
    Tag {
        /// The image.
        #[arg(value_name = "SOURCE_IMAGE")]
        source: String,
        /// Its new name, REPOSITORY[:TAG].
        #[arg(value_name = "TARGET_IMAGE")]
        target: String,
    },
    /// Show the steps that made an image.
    History {
        /// Do not cut CREATED BY short; show whole ids.
        #[arg(long)]
        no_trunc: bool,
        /// The image.
        #[arg(value_name = "IMAGE")]
        image: String,
    },
    /// Remove images, and the build steps' images nothing else needs.
    Rmi(RmiArgs),
    /// Build an image from a Dockerfile: each step run in a container and committed.
    Build(BuildArgs),
    /// Save images to a tar archive (streamed to STDOUT by default).
    Save(SaveArgs),
}

/// `commit [OPTIONS] CONTAINER [REPOSITORY[:TAG]]`.
#[derive(Debug, Args)]
pub struct CommitArgs {
    /// The commit message, kept as the history entry's comment.
    #[arg(short, long, value_name = "MESSAGE")]
    pub message: Option<String>,
    /// The author ("Name <email>").
    #[arg(short, long, value_name = "AUTHOR")]
    pub author: Option<String>,
    /// Apply a Dockerfile instruction to the config: CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER or WORKDIR.
    #[arg(short, long, value_name = "INSTRUCTION")]
    pub change: Vec<String>,
    /// Freeze a running container while its layer is read.
    #[arg(short, long, default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub pause: bool,
    /// The container.
    #[arg(value_name = "CONTAINER")]
    pub container: String,
    /// The new image's name.
    #[arg(value_name = "REPOSITORY[:TAG]")]
    pub name: Option<String>,
}

/// `images [-a]`, which chapter 6 lists its own way.
#[derive(Debug, Args)]
pub struct ImagesArgs {
    /// Show the images of build steps too.
    #[arg(short, long)]
    pub all: bool,
}

/// `rmi [-f] IMAGE...`, also `image rm`.
#[derive(Debug, Args)]
pub struct RmiArgs {
    /// Untag an image even if a container uses it.
    #[arg(short, long)]
    pub force: bool,
    /// Image names or ids.
    #[arg(required = true, value_name = "IMAGE")]
    pub images: Vec<String>,
}

/// `image ...`: chapter 3's, with `ls` and `rm` that know about build steps.
#[derive(Debug, Subcommand)]
pub enum ImageSubcommand {
    /// List images.
    Ls(ImagesArgs),
    /// Remove images, and the build steps' images nothing else needs.
    Rm(RmiArgs),
    /// Load images from an OCI image layout (a directory or its .tar) or a `docker save` archive.
    Load(LoadArgs),
    /// Make a one-layer image from a root filesystem: a directory, a .tar or a .tar.gz.
    Import(ImportArgs),
    /// Save images to a tar archive (streamed to STDOUT by default).
    Save(SaveArgs),
}

/// Runs an `image` subcommand.
pub fn run_image_subcommand(store: &Store, command: ImageSubcommand) -> Result<i32> {
    if matches!(command, ImageSubcommand::Ls(_)) {
        ns_isolation::exit::die_on_broken_pipe();
    }
    match command {
        ImageSubcommand::Ls(args) => print!("{}", images::images_table(store, args.all)?),
        ImageSubcommand::Rm(args) => rmi(store, &args)?,
        ImageSubcommand::Load(args) => load(store, &args)?,
        ImageSubcommand::Import(args) => import(store, &args)?,
        ImageSubcommand::Save(args) => save::save(store, &args)?,
    }
    Ok(0)
}

/// `rmi`: removes each image in turn, printing Docker's lines.
fn rmi(store: &Store, args: &RmiArgs) -> Result<()> {
    for reference in &args.images {
        for line in images::remove(store, reference, args.force)? {
            println!("{line}");
        }
    }
    Ok(())
}

/// Runs one of chapter 6's commands; returns the exit code.
pub fn run_image_command(store: &Store, command: ImageCommand) -> Result<i32> {
    if matches!(command, ImageCommand::Diff { .. } | ImageCommand::History { .. }) {
        ns_isolation::exit::die_on_broken_pipe();
    }
    match command {
        ImageCommand::Diff { container } => {
            for change in container_changes(store, &container)? {
                println!("{change}");
            }
        }
        ImageCommand::Commit(args) => {
            let options =
                CommitOptions { message: args.message, author: args.author, changes: args.change, pause: args.pause };
            println!("{}", commit::commit(store, &args.container, &options, args.name.as_deref())?);
        }
        ImageCommand::Tag { source, target } => tag::tag(store, &source, &target)?,
        ImageCommand::History { no_trunc, image } => print!("{}", history::history_table(store, &image, no_trunc)?),
        ImageCommand::Rmi(args) => rmi(store, &args)?,
        ImageCommand::Build(args) => return builder::build(store, &args),
        ImageCommand::Save(args) => save::save(store, &args)?,
    }
    Ok(0)
}

/// What the container `reference` changed: its `upper/` over its init layer and its image's layers.
pub fn container_changes(store: &Store, reference: &str) -> Result<Vec<crate::diff::Change>> {
    let container = containers::find(store, reference)?;
    let image = image::read_image(store, &container.config.image_id)?;
    let mut lower: Vec<PathBuf> = vec![container.dir.join("init")];
    for chain in image.chain_ids.iter().rev() {
        lower.push(diff_dir(store, chain)?);
    }
    changes(&container.dir.join("upper"), &lower)
}
