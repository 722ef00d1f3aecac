//! What `run` decided about a container beyond what it is (chapter 3's
//! `config.json`): its limits, its network, its published ports, its
//! terminal. Kept in the container's `hostconfig.json`, as Docker keeps a
//! `hostconfig.json` beside its `config.v2.json`, so that `start` can run a
//! stopped container again as it first ran, and `inspect` can show it.
//! Introduced in chapter 4.

use std::path::{Path, PathBuf};

use anyhow::Result;
use nix::unistd::Uid;
use serde::{Deserialize, Serialize};

use cgroup_limits::args::LimitArgs;
use cgroup_limits::memory::Swap;
use cgroup_limits::plan::Limits;
use ns_isolation::args::NetMode;
use union_rootfs::bind::Bind;
use union_rootfs::containers::Container;
use union_rootfs::store::{read_json, write_json};

use crate::args::RunArgs;
use crate::ports::{PortBinding, check_distinct};

/// A container's host configuration, as `hostconfig.json` holds it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct HostConfig {
    /// `-m`, in bytes.
    pub memory: Option<u64>,
    /// `--memory-swap`, in bytes; -1 for unlimited.
    pub memory_swap: Option<i64>,
    /// `--cpus`, in billionths of a CPU.
    pub nano_cpus: Option<i64>,
    /// `--pids-limit`.
    pub pids_limit: Option<i64>,
    /// `--net`: `none`, `host` or `container:<name or id>`.
    pub network_mode: String,
    /// `--userns`.
    pub userns: bool,
    /// `-p`.
    pub port_bindings: Vec<PortBinding>,
    /// `-t`.
    pub tty: bool,
    /// `-i`.
    pub interactive: bool,
    /// `--rm`.
    pub auto_remove: bool,
    /// `--no-pivot`.
    pub no_pivot: bool,
    /// What is bound into the container's root besides the init layer's files: chapter 5's volumes.
    #[serde(default)]
    pub mounts: Vec<MountRecord>,
}

/// One of a container's mounts, as `inspect` shows it under `Mounts` and the monitor binds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MountRecord {
    /// `bind` (a host path) or `volume` (a directory the store keeps).
    pub kind: String,
    /// The volume's name, for a volume.
    pub name: Option<String>,
    /// The host path bound.
    pub source: PathBuf,
    /// Where it shows in the container.
    pub destination: PathBuf,
    /// Whether the container may write to it.
    pub rw: bool,
}

impl MountRecord {
    /// The bind mount that puts it in the container's root (chapter 3's [`Bind`]).
    pub fn bind(&self) -> Bind {
        Bind { source: self.source.clone(), destination: self.destination.clone(), readonly: !self.rw }
    }
}

impl HostConfig {
    /// From `run`'s options, checked: limits, network, ports.
    pub fn from_args(args: &RunArgs) -> Result<Self> {
        let base = &args.base;
        base.limits.limits()?;
        check_distinct(&args.publish)?;
        Ok(Self {
            memory: base.limits.memory,
            memory_swap: base.limits.memory_swap.map(|swap| match swap {
                Swap::Default => 0,
                Swap::Unlimited => -1,
                Swap::Total(bytes) => bytes as i64,
            }),
            nano_cpus: base.limits.cpus,
            pids_limit: base.limits.pids_limit,
            network_mode: match &base.isolation.net {
                NetMode::None => "none".to_owned(),
                NetMode::Host => "host".to_owned(),
                NetMode::Container(other) => format!("container:{other}"),
            },
            userns: base.isolation.userns || !Uid::effective().is_root(),
            port_bindings: args.publish.clone(),
            tty: base.terminal.tty,
            interactive: base.terminal.interactive,
            auto_remove: base.rootfs.rm,
            no_pivot: base.rootfs.no_pivot,
            mounts: Vec::new(),
        })
    }

    /// The cgroup limits, or `None` for no cgroup at all (rootless).
    pub fn limits(&self) -> Result<Option<Limits>> {
        let swap = self.memory_swap.map(|bytes| match bytes {
            0 => Swap::Default,
            -1 => Swap::Unlimited,
            bytes => Swap::Total(bytes as u64),
        });
        let flags =
            LimitArgs { memory: self.memory, memory_swap: swap, cpus: self.nano_cpus, pids_limit: self.pids_limit };
        flags.cgroup_limits(!Uid::effective().is_root())
    }

    /// `--net` as its option says it.
    pub fn net_mode(&self) -> NetMode {
        match self.network_mode.as_str() {
            "host" => NetMode::Host,
            mode => mode.strip_prefix("container:").map_or(NetMode::None, |other| NetMode::Container(other.to_owned())),
        }
    }

    /// Writes `hostconfig.json` into the container's directory.
    pub fn save(&self, container: &Container) -> Result<()> {
        write_json(&file(&container.dir), self)
    }

    /// Reads the container's `hostconfig.json`; a container made by chapter 3 has none, and gets the defaults.
    pub fn load(container: &Container) -> Result<Self> {
        let path = file(&container.dir);
        if !path.exists() {
            return Ok(Self { network_mode: "none".to_owned(), ..Self::default() });
        }
        read_json(&path)
    }
}

fn file(dir: &Path) -> std::path::PathBuf {
    dir.join("hostconfig.json")
}
