//! What `images` and `ps` print: the store as Docker's tables.
//!
//! `images`: REPOSITORY TAG IMAGE ID CREATED SIZE, newest first; an image
//! without a name shows `<none>`. `ps`: CONTAINER ID IMAGE COMMAND CREATED
//! STATUS PORTS NAMES, running containers only unless `-a`; PORTS stays
//! empty until chapter 4 publishes ports. Introduced in chapter 3.

use anyhow::Result;

use crate::containers::{self, Container, Status};
use crate::image::{all_ids, read_image, repositories};
use crate::layer::layer_size;
use crate::store::Store;
use docker_cli::clock::{ago, human_duration, now, parse_rfc3339};
use docker_cli::table::{command_cell, human_size, render};

/// `images`.
pub fn images_table(store: &Store) -> Result<String> {
    images_table_of(store, |_| Ok(true))
}

/// `images`, listing only the images `listed` keeps (chapter 6 leaves out a build's intermediate images).
pub fn images_table_of(store: &Store, listed: impl Fn(&str) -> Result<bool>) -> Result<String> {
    let names = repositories(store)?;
    let mut rows = Vec::new();
    for id in all_ids(store)? {
        if !listed(&id)? {
            continue;
        }
        let image = read_image(store, &id)?;
        let created = image.config.created().as_deref().and_then(parse_rfc3339);
        let size: u64 = image.chain_ids.iter().map(|chain| layer_size(store, chain).unwrap_or(0)).sum();
        let mut tags: Vec<(String, String)> = names
            .iter()
            .filter(|(_, target)| **target == id)
            .map(|(name, _)| {
                let (repo, tag) = name.rsplit_once(':').unwrap_or((name, "latest"));
                (repo.to_owned(), tag.to_owned())
            })
            .collect();
        if tags.is_empty() {
            tags.push(("<none>".to_owned(), "<none>".to_owned()));
        }
        for (repo, tag) in tags {
            let created_cell = created.map_or_else(|| "N/A".to_owned(), ago);
            rows.push((
                created.unwrap_or(0),
                vec![repo, tag, image.short_id().to_owned(), created_cell, human_size(size)],
            ));
        }
    }
    rows.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    let rows: Vec<Vec<String>> = rows.into_iter().map(|(_, row)| row).collect();
    Ok(render(&["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"], &rows))
}

/// `ps [-a]`, for a runtime that publishes no ports.
pub fn ps_table(store: &Store, all: bool) -> Result<String> {
    ps_table_with_ports(store, all, |_| String::new())
}

/// `ps [-a]`, with the PORTS column `ports` gives for each container.
pub fn ps_table_with_ports(store: &Store, all: bool, ports: impl Fn(&Container) -> String) -> Result<String> {
    let mut rows = Vec::new();
    for container in containers::list(store)? {
        let running = container.state.status == Status::Running && !container.ended_unrecorded();
        if !all && !running {
            continue;
        }
        let state = &container.state;
        let status = match state.status {
            // Its runtime was killed, or the host rebooted: the exit status is lost, as Docker's 255 says.
            Status::Running if container.ended_unrecorded() => {
                format!("Exited (255) {}", ago(state.started.unwrap_or(now())))
            }
            Status::Running => format!("Up {}", human_duration(now() - state.started.unwrap_or(now()))),
            Status::Created => "Created".to_owned(),
            Status::Exited => {
                format!("Exited ({}) {}", state.exit_code.unwrap_or(-1), ago(state.finished.unwrap_or(now())))
            }
        };
        let config = &container.config;
        rows.push(vec![
            config.id[..12].to_owned(),
            config.image.clone(),
            command_cell(&config.command),
            ago(config.created),
            status,
            ports(&container),
            config.name.clone(),
        ]);
    }
    Ok(render(&["CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"], &rows))
}
