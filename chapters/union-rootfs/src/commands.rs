//! The commands besides `run`: `ps`, `rm`, `images` and `image load|import|ls|rm`.
//!
//! They live in the library, as one clap subcommand enum, so that every
//! later chapter's command line takes them whole (`#[command(flatten)]`)
//! and adds its own. Introduced in chapter 3.

use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, Subcommand};

use crate::store::Store;
use crate::{catalog, containers, image, import};

/// The commands on the store that every chapter from 3 on has.
#[derive(Debug, Subcommand)]
pub enum StoreCommand {
    /// List containers.
    Ps(PsArgs),
    /// Remove containers.
    Rm(RmArgs),
    /// List images.
    Images,
    /// Manage images.
    #[command(subcommand)]
    Image(ImageCommand),
}

/// `ps [-a]`.
#[derive(Debug, Clone, Args)]
pub struct PsArgs {
    /// Show all containers, not only running ones.
    #[arg(short, long)]
    pub all: bool,
}

/// `rm [-f] CONTAINER...`.
#[derive(Debug, Clone, Args)]
pub struct RmArgs {
    /// Kill a running container first.
    #[arg(short, long)]
    pub force: bool,

    /// Also remove the container's anonymous volumes (chapter 5 on; before, containers have none).
    #[arg(short = 'v', long)]
    pub volumes: bool,

    /// Container names or ids (or unique id prefixes).
    #[arg(required = true, value_name = "CONTAINER")]
    pub containers: Vec<String>,
}

/// `image ...`.
#[derive(Debug, Subcommand)]
pub enum ImageCommand {
    /// Load images from an OCI image layout (a directory or its .tar) or a `docker save` archive.
    Load(LoadArgs),
    /// Make a one-layer image from a root filesystem: a directory, a .tar or a .tar.gz.
    Import(ImportArgs),
    /// List images.
    Ls,
    /// Remove images (untag them; delete an image once it has no name and no container).
    Rm {
        /// Untag an image even if a container uses it (the image stays, nameless, for its containers).
        #[arg(short, long)]
        force: bool,
        /// Image names or ids.
        #[arg(required = true, value_name = "IMAGE")]
        images: Vec<String>,
    },
}

/// `image load PATH`.
#[derive(Debug, Args)]
pub struct LoadArgs {
    /// The layout directory or archive.
    #[arg(value_name = "PATH")]
    pub input: PathBuf,
}

/// `image import [-c INSTRUCTION] SOURCE NAME`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Apply a Dockerfile instruction to the image: CMD, ENTRYPOINT, ENV or WORKDIR.
    #[arg(short, long, value_name = "INSTRUCTION")]
    pub change: Vec<String>,
    /// The root filesystem.
    #[arg(value_name = "SOURCE")]
    pub source: PathBuf,
    /// The image's name, NAME[:TAG].
    #[arg(value_name = "NAME")]
    pub name: String,
}

/// `image load`: loads, printing Docker's lines.
pub fn load(store: &Store, args: &LoadArgs) -> Result<()> {
    for line in image::load(store, &args.input)? {
        println!("{line}");
    }
    Ok(())
}

/// `image import`: imports, printing the new image's id.
pub fn import(store: &Store, args: &ImportArgs) -> Result<()> {
    println!("{}", import::import(store, &args.source, &args.name, &args.change)?);
    Ok(())
}

/// Runs one of the store's commands and returns the exit code.
pub fn run_store_command(store: &Store, command: StoreCommand) -> Result<i32> {
    if matches!(command, StoreCommand::Ps(_) | StoreCommand::Images | StoreCommand::Image(ImageCommand::Ls)) {
        ns_isolation::exit::die_on_broken_pipe();
    }
    match command {
        StoreCommand::Ps(args) => print!("{}", catalog::ps_table(store, args.all)?),
        StoreCommand::Rm(args) => {
            for container in &args.containers {
                containers::remove(store, container, args.force)?;
                println!("{container}");
            }
        }
        StoreCommand::Images | StoreCommand::Image(ImageCommand::Ls) => print!("{}", catalog::images_table(store)?),
        StoreCommand::Image(ImageCommand::Load(args)) => load(store, &args)?,
        StoreCommand::Image(ImageCommand::Import(args)) => import(store, &args)?,
        StoreCommand::Image(ImageCommand::Rm { force, images }) => {
            for reference in &images {
                for line in image::remove(store, reference, force, |id| containers::using_image(store, id))? {
                    println!("{line}");
                }
            }
        }
    }
    Ok(0)
}
