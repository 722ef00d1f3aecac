//! `--net`: a new network namespace, the host's, or another container's.
//!
//! `--net container:NAME` is the lesson's `docker run --net container:4ddf4638572d`:
//! the new container does not get a network namespace of its own, but joins
//! that of a running container, with `setns()` on its PID 1's `net` file,
//! exactly as `exec` joins it. Both then see the same devices, addresses and
//! ports: a server one of them starts on port 80 is reachable from the
//! other's `127.0.0.1:80`. The child joins it first thing, before its root
//! filesystem is mounted, so that its `/sys` shows the network it joined.
//! Introduced in chapter 4.

use std::os::fd::OwnedFd;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use nix::sched::CloneFlags;

use ns_isolation::args::NetMode;
use ns_isolation::exit::{Failure, RUNTIME_FAILED};
use ns_isolation::namespaces::Isolation;
use ns_isolation::sys;
use union_rootfs::containers;
use union_rootfs::store::Store;

/// The network namespace a container will be in.
#[derive(Debug)]
pub enum Network {
    /// A new one, with only `lo`.
    New,
    /// The host's.
    Host,
    /// A running container's: its id, and its PID 1's `net` file, open.
    Container {
        /// The container whose network is joined.
        id: String,
        /// `/proc/<its pid>/ns/net`, opened before the clone.
        file: OwnedFd,
    },
}

impl Network {
    /// Resolves `--net`; `container:NAME` must name a running container.
    pub fn resolve(store: &Store, mode: &NetMode, user_namespace: bool) -> Result<Self> {
        let other = match mode {
            NetMode::None => return Ok(Network::New),
            NetMode::Host => return Ok(Network::Host),
            NetMode::Container(other) => other,
        };
        if user_namespace {
            bail!(
                "--net container:{other} with a user namespace: the container could not join a network namespace of the host's user namespace"
            );
        }
        let container = containers::find(store, other)?;
        let process = container.state.process.filter(|_| container.is_running());
        let Some(process) = process else {
            bail!(Failure::new(
                RUNTIME_FAILED,
                format!("cannot join the network of container {other}: it is not running")
            ));
        };
        let path = PathBuf::from(format!("/proc/{}/ns/net", process.pid));
        let file = sys::open_read(&path).with_context(|| format!("open {}", path.display()))?;
        Ok(Network::Container { id: container.config.id, file })
    }

    /// The namespaces to create: a new network namespace only for [`Network::New`].
    pub fn isolation(&self, user_namespace: bool) -> Isolation {
        Isolation { host_network: !matches!(self, Network::New), user_namespace }
    }

    /// What `inspect` and `hostconfig.json` call it: `none`, `host`, `container:<id>`.
    pub fn mode(&self) -> String {
        match self {
            Network::New => "none".to_owned(),
            Network::Host => "host".to_owned(),
            Network::Container { id, .. } => format!("container:{id}"),
        }
    }

    /// In the child, first of all: joins the other container's network namespace, if that is the one.
    pub fn join(&self) -> Result<()> {
        let Network::Container { id, file } = self else { return Ok(()) };
        // EXERCISE(join-network): sys::setns into the other container's net namespace `file` (CLONE_NEWNET)
        todo!(
            "setns-exec step 8 of 10 (join-network): sys::setns into the other container's net namespace `file` (CLONE_NEWNET) — book: setns-exec.html#join-network"
        )
    }
}
