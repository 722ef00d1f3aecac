//! `inspect`: a container or an image as Docker's JSON shows it, for the fields this runtime has.
//!
//! The lesson reads a container's host pid with
//! `docker inspect --format '{{ .State.Pid }}' <id>`, then looks at
//! `/proc/<pid>/ns/`. The shape is Docker's (`State`, `Config`,
//! `HostConfig`, `GraphDriver`, `NetworkSettings`), so the same commands
//! work; `--format` takes the template subset of `template.rs`.
//! Introduced in chapter 4.

use anyhow::Result;
use docker_cli::clock::rfc3339;
use serde_json::{Map, Value, json};

use union_rootfs::containers::{self, Container, Status};
use union_rootfs::image::{self, Image};
use union_rootfs::layer;
use union_rootfs::overlay::Overlay;
use union_rootfs::store::Store;

use crate::hostconfig::HostConfig;
use crate::ports::PortBinding;

/// Docker's zero time, for a container that has not started or not ended.
const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

/// The JSON of `reference`: a container if one has that name or id, else an image.
pub fn inspect(store: &Store, reference: &str) -> Result<Value> {
    match containers::find(store, reference) {
        Ok(container) => container_json(store, &container),
        Err(container_err) => match image::resolve(store, reference) {
            Ok(image) => Ok(image_json(store, &image)),
            Err(_) => Err(container_err.context(format!("no such container or image: {reference}"))),
        },
    }
}

/// A container, as `docker inspect` shows it.
pub fn container_json(store: &Store, container: &Container) -> Result<Value> {
    let (config, state) = (&container.config, &container.state);
    let hostconfig = HostConfig::load(container)?;
    let running = container.is_running();
    let status = match state.status {
        Status::Created => "created",
        Status::Running if running => "running",
        _ => "exited",
    };
    let exit_code = if container.ended_unrecorded() { 255 } else { state.exit_code.unwrap_or(0) };
    let image = image::read_image(store, &config.image_id)?;
    let layers = image.chain_ids.iter().map(|chain| layer::diff_dir(store, chain)).collect::<Result<Vec<_>>>()?;
    let overlay = Overlay::for_container(&container.dir, &layers, false);
    let lower: Vec<String> = overlay.lower.iter().map(|dir| dir.display().to_string()).collect();
    let ports = ports_json(&hostconfig.port_bindings);
    Ok(json!({
        "Id": config.id,
        "Created": rfc3339(config.created),
        "Path": config.command.first(),
        "Args": config.command.get(1..).unwrap_or_default(),
        "State": {
            "Status": status,
            "Running": running,
            "Paused": false,
            "Pid": if running { state.process.map_or(0, |process| process.pid) } else { 0 },
            "ExitCode": exit_code,
            "OOMKilled": state.oom_killed,
            "StartedAt": state.started.map_or(ZERO_TIME.to_owned(), rfc3339),
            "FinishedAt": state.finished.map_or(ZERO_TIME.to_owned(), rfc3339),
        },
        "Image": config.image_id,
        "Name": format!("/{}", config.name),
        "HostConfig": {
            "Memory": hostconfig.memory.unwrap_or(0),
            "MemorySwap": hostconfig.memory_swap.unwrap_or(0),
            "NanoCpus": hostconfig.nano_cpus.unwrap_or(0),
            "PidsLimit": hostconfig.pids_limit,
            "NetworkMode": hostconfig.network_mode,
            "PortBindings": ports,
            "AutoRemove": hostconfig.auto_remove,
        },
        "GraphDriver": {
            "Name": "overlay",
            "Data": {
                "LowerDir": lower.join(":"),
                "UpperDir": overlay.upper.display().to_string(),
                "WorkDir": overlay.work.display().to_string(),
                "MergedDir": container.dir.join("merged").display().to_string(),
            },
        },
        "Config": {
            "Hostname": config.hostname,
            "Env": config.env,
            "Cmd": config.command,
            "Entrypoint": Value::Null,
            "WorkingDir": config.cwd,
            "Image": config.image,
            "Tty": hostconfig.tty,
            "OpenStdin": hostconfig.interactive,
        },
        "Mounts": hostconfig.mounts.iter().map(|mount| json!({
            "Type": mount.kind,
            "Name": mount.name,
            "Source": mount.source.display().to_string(),
            "Destination": mount.destination.display().to_string(),
            "RW": mount.rw,
        })).collect::<Vec<_>>(),
        "NetworkSettings": { "Ports": ports },
    }))
}

/// `{"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "4000"}]}`.
fn ports_json(bindings: &[PortBinding]) -> Value {
    let mut ports = Map::new();
    for binding in bindings {
        let entry = json!({ "HostIp": binding.host_ip.to_string(), "HostPort": binding.host_port.to_string() });
        let key = format!("{}/tcp", binding.container_port);
        let list = ports.entry(key).or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(list) = list {
            list.push(entry);
        }
    }
    Value::Object(ports)
}

/// An image, as `docker inspect` shows it.
pub fn image_json(store: &Store, image: &Image) -> Value {
    let names: Vec<String> = image::repositories(store)
        .map(|names| names.into_iter().filter(|(_, id)| *id == image.id).map(|(name, _)| name).collect())
        .unwrap_or_default();
    let config = image.config.config().clone().unwrap_or_default();
    json!({
        "Id": image.id,
        "RepoTags": names,
        "Created": image.config.created(),
        "Config": {
            "Cmd": config.cmd(),
            "Entrypoint": config.entrypoint(),
            "Env": config.env(),
            "WorkingDir": config.working_dir(),
            "ExposedPorts": config.exposed_ports().as_ref().map(|ports| ports.iter().map(|port| (port.clone(), json!({}))).collect::<Map<_, _>>()),
        },
        "RootFS": { "Type": "layers", "Layers": image.config.rootfs().diff_ids() },
    })
}

/// Pretty JSON indented by four spaces, as Docker prints it.
pub fn pretty(value: &Value) -> Result<String> {
    let mut out = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, formatter);
    serde::Serialize::serialize(value, &mut serializer)?;
    Ok(String::from_utf8(out)?)
}
