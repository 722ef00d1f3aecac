//! `volume create|ls|inspect|rm|prune`, and `rm -v`. Introduced in chapter 5.

use anyhow::Result;
use clap::{Args, Subcommand};
use docker_cli::clock::rfc3339;
use docker_cli::random::random_hex_id;
use docker_cli::table::render;
use serde_json::{Value, json};

use setns_exec::inspect::pretty;
use union_rootfs::commands::RmArgs;
use union_rootfs::containers;
use union_rootfs::store::Store;

use crate::volumes::{self, Volume};

/// `volume ...`.
#[derive(Debug, Subcommand)]
pub enum VolumeCommand {
    /// Make a volume (a random name if none is given).
    Create {
        /// Its name.
        #[arg(value_name = "NAME")]
        name: Option<String>,
    },
    /// List volumes.
    Ls,
    /// Show volumes as Docker's JSON.
    Inspect(VolumeNames),
    /// Remove volumes no container uses.
    Rm(VolumeNames),
    /// Remove every anonymous volume no container uses.
    Prune,
}

/// Volume names.
#[derive(Debug, Args)]
pub struct VolumeNames {
    /// Volume names.
    #[arg(required = true, value_name = "VOLUME")]
    pub names: Vec<String>,
}

/// Runs a `volume` command.
pub fn run_volume_command(store: &Store, command: VolumeCommand) -> Result<i32> {
    if matches!(command, VolumeCommand::Ls | VolumeCommand::Inspect(_)) {
        ns_isolation::exit::die_on_broken_pipe();
    }
    match command {
        VolumeCommand::Create { name } => {
            let name = match name {
                Some(name) => name,
                None => random_hex_id(32)?,
            };
            docker_cli::names::validate_name(&name).map_err(anyhow::Error::msg)?;
            println!("{}", volumes::create(store, &name, None, false)?.name);
        }
        VolumeCommand::Ls => {
            let rows: Vec<Vec<String>> =
                volumes::list(store)?.into_iter().map(|volume| vec!["local".to_owned(), volume.name]).collect();
            print!("{}", render(&["DRIVER", "VOLUME NAME"], &rows));
        }
        VolumeCommand::Inspect(args) => {
            let values = args
                .names
                .iter()
                .map(|name| Ok(volume_json(store, &volumes::find(store, name)?)))
                .collect::<Result<Vec<_>>>()?;
            println!("{}", pretty(&Value::Array(values))?);
        }
        VolumeCommand::Rm(args) => {
            for name in &args.names {
                volumes::remove(store, name)?;
                println!("{name}");
            }
        }
        VolumeCommand::Prune => {
            println!("Deleted Volumes:");
            for volume in volumes::list(store)? {
                if volume.anonymous_for.is_some() && volumes::users(store, &volume.name)?.is_empty() {
                    volumes::remove(store, &volume.name)?;
                    println!("{}", volume.name);
                }
            }
        }
    }
    Ok(0)
}

/// A volume, as `docker volume inspect` shows it.
pub fn volume_json(store: &Store, volume: &Volume) -> Value {
    json!({
        "CreatedAt": rfc3339(volume.created),
        "Driver": "local",
        "Labels": Value::Null,
        "Mountpoint": volume.data(store).display().to_string(),
        "Name": volume.name,
        "Options": Value::Null,
        "Scope": "local",
    })
}

/// `rm [-f] [-v] CONTAINER...`: chapter 3's, and with `-v` the containers' anonymous volumes too.
pub fn rm(store: &Store, args: &RmArgs) -> Result<i32> {
    for reference in &args.containers {
        let id = containers::find(store, reference)?.config.id;
        containers::remove(store, reference, args.force)?;
        if args.volumes {
            volumes::remove_anonymous_of(store, &id)?;
        }
        println!("{reference}");
    }
    Ok(0)
}
