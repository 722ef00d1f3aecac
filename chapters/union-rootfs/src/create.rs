//! Create a container from `run`'s options: image, process, name, directory.
//!
//! Everything the container *is* is decided first, from the image's config
//! and the flags: the command line (Entrypoint + Cmd), environment, working
//! directory and hostname (see `process.rs`). Then, under the store's lock,
//! the image is looked up, the name is checked (or one is generated) and
//! claimed, and the container's directory is made (see `containers.rs`), so
//! that no other runtime can take the name or remove the image meanwhile.
//! A run refused at any point creates nothing. Introduced in chapter 3.

use anyhow::Result;
use docker_cli::clock;
use docker_cli::names::random_name;

use cgroup_limits::id::ContainerId;

use crate::args::RunArgs;
use crate::containers::{self, Container, ContainerConfig};
use crate::image::{self, Image};
use crate::store::Store;
use crate::{process, user};

/// Creates the container `id` as `run`'s options say, or refuses with nothing made.
pub fn create(store: &Store, id: &ContainerId, args: &RunArgs) -> Result<Container> {
    let _lock = store.lock()?;
    let image = image::resolve(store, &args.image)?;
    let mut config = configure(id, args, &image)?;
    config.name = match &args.rootfs.name {
        Some(name) => containers::claim_name(store, name)?,
        None => unused_name(store)?,
    };
    containers::create_locked(store, config)
}

/// What the container is: its image, process and hostname (its name is given under the lock).
fn configure(id: &ContainerId, args: &RunArgs, image: &Image) -> Result<ContainerConfig> {
    let config = image.config.config().clone().unwrap_or_default();
    let command = process::command_line(
        config.entrypoint().as_deref().unwrap_or_default(),
        config.cmd().as_deref().unwrap_or_default(),
        args.rootfs.entrypoint.as_deref(),
        &args.command,
    )?;
    let hostname = args.isolation.hostname_or(id.short());
    let image_env = config.env().as_deref().unwrap_or_default();
    let mut env = process::environment(image_env, &args.rootfs.env, &hostname, |key| std::env::var(key).ok());
    let user = args.rootfs.user.clone().or_else(|| config.user().clone()).unwrap_or_default();
    user::leave_home_to_user(&mut env, &user, &[image_env, &args.rootfs.env].concat());
    let cwd = process::working_dir(config.working_dir().as_deref(), args.rootfs.workdir.as_deref())?;
    Ok(ContainerConfig {
        id: id.as_str().to_owned(),
        name: String::new(),
        image: args.image.clone(),
        image_id: image.id.clone(),
        command,
        env,
        cwd,
        user,
        hostname,
        created: clock::now(),
        auto_remove: args.rootfs.rm,
    })
}

/// A generated `adjective_scientist` name no container of the store has (the caller holds the lock).
fn unused_name(store: &Store) -> Result<String> {
    let taken: Vec<String> = containers::list(store)?.into_iter().map(|c| c.config.name).collect();
    for _ in 0..32 {
        let name = random_name()?;
        if !taken.contains(&name) {
            return Ok(name);
        }
    }
    Ok(format!("{}_{}", random_name()?, taken.len()))
}
