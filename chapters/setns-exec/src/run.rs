//! The container's lifecycle as of chapter 4: chapter 3's, with a monitor that outlives the command line.
//!
//! `run`: check the options (limits, network, ports: a host port in use
//! refuses the run before anything exists) → create the container (chapter
//! 3) and write its `hostconfig.json` → in the foreground, be its monitor;
//! with `-d`, fork a monitor (`daemon.rs`), print the id once it reports
//! the command exec'd, and exit. `start` runs a stopped container again
//! through the same monitor.
//!
//! The monitor: chapter 3's lifecycle, plus: the child first joins another
//! container's network namespace (`--net container:`), and last puts its
//! standard streams in place (the log pipes, or its terminal); the parent
//! copies the container's output into its log (and to the terminal, in the
//! foreground), records it running, serves its published ports, and after
//! it ends records how, removes its cgroup, and honours `--rm`.

use std::convert::Infallible;

use anyhow::Result;

use cgroup_limits::id::ContainerId;
use cgroup_limits::lifecycle::{start as clone_and_release, with_cgroup};
use ns_isolation::exit::Failure;
use ns_isolation::wait;
use union_rootfs::containers::{self, Container};
use union_rootfs::create::create;
use union_rootfs::rootfs::Rootfs;
use union_rootfs::run::{Setup, set_up_root, start_process};
use union_rootfs::store::Store;

use crate::args::RunArgs;
use crate::daemon::{self, Ready};
use crate::hostconfig::{HostConfig, MountRecord};
use crate::log::Log;
use crate::network::Network;
use crate::ports::{self, Listeners};
use crate::stdio::Stdio;
use crate::stop::running_process;

/// `run`: creates the container, then runs it in the foreground, or detached (`-d`), printing its id.
pub fn run(store: &Store, args: &RunArgs) -> Result<i32> {
    let prepared = prepare(store, args)?;
    launch(store, prepared, args.detach)
}

/// A container created, with what its monitor will need, not yet started.
#[derive(Debug)]
pub struct Prepared {
    /// The container, in the store.
    pub container: Container,
    /// What `run` decided: saved by [`launch`], so a later chapter may add to it first (chapter 5's mounts).
    pub hostconfig: HostConfig,
    /// Its network namespace to be.
    pub network: Network,
    /// Its published ports, already taken on the host.
    pub listeners: Listeners,
}

/// Checks `run`'s options (a host port in use refuses the run before anything exists) and creates the container.
pub fn prepare(store: &Store, args: &RunArgs) -> Result<Prepared> {
    let hostconfig = HostConfig::from_args(args)?;
    hostconfig.limits()?;
    let network = Network::resolve(store, &hostconfig.net_mode(), hostconfig.userns)?;
    let listeners = ports::bind(&hostconfig.port_bindings)?;
    let id = ContainerId::random()?;
    args.base.cid.write(&id)?;
    let container = create(store, &id, &args.base).inspect_err(|_| args.base.cid.remove())?;
    Ok(Prepared { container, hostconfig, network, listeners })
}

/// Saves the container's `hostconfig.json`, then runs it: in the foreground, or under a monitor of its own.
pub fn launch(store: &Store, prepared: Prepared, detach: bool) -> Result<i32> {
    let Prepared { container, hostconfig, network, listeners } = prepared;
    hostconfig.save(&container)?;
    if !detach {
        return monitor(store, container, &hostconfig, network, listeners, None);
    }
    let id = container.config.id.clone();
    daemon::spawn_detached(|ready| monitor(store, container, &hostconfig, network, listeners, Some(ready)))?;
    println!("{id}");
    Ok(0)
}

/// `start`: runs a stopped container again, detached, on its kept read-write layer.
pub fn start(store: &Store, reference: &str) -> Result<()> {
    let container = containers::find(store, reference)?;
    if running_process(&container).is_some() {
        return Ok(());
    }
    let hostconfig = HostConfig::load(&container)?;
    let network = Network::resolve(store, &hostconfig.net_mode(), hostconfig.userns)?;
    let listeners = ports::bind(&hostconfig.port_bindings)?;
    daemon::spawn_detached(|ready| monitor(store, container, &hostconfig, network, listeners, Some(ready)))
}

/// The container's parent, from its clone to its end; `ready` hears when it is exec'd, if detached.
pub fn monitor(
    store: &Store,
    mut container: Container,
    hostconfig: &HostConfig,
    network: Network,
    listeners: Listeners,
    mut ready: Option<&mut Ready>,
) -> Result<i32> {
    let id = ContainerId::parse(&container.config.id)?;
    let isolation = network.isolation(hostconfig.userns);
    let mut rootfs = Rootfs::for_container(store, &container, &isolation, hostconfig.auto_remove, hostconfig.no_pivot)?;
    rootfs.binds.extend(hostconfig.mounts.iter().map(MountRecord::bind));
    let foreground = ready.is_none();
    let stdio = Stdio::for_container(hostconfig.tty, hostconfig.interactive, foreground)?;
    let log = Log::open(&container.dir)?;
    let config = container.config.clone();
    wait::block_signals()?;
    let ended = with_cgroup(&id, hostconfig.limits()?.as_ref(), |cgroup| {
        let setup = Setup { cgroup, isolation: &isolation, rootfs: &rootfs, config: &config };
        let started = clone_and_release(cgroup, &isolation, || set_up_container(&network, &setup, &stdio))?;
        let output = stdio.connect(Some(log), foreground)?;
        if let Err(err) = started.wait_for_exec() {
            let _ = started.wait();
            output.finish();
            return Err(err);
        }
        container.record_start(started.pid())?;
        let serving = listeners.serve(started.pid())?;
        if let Some(ready) = ready.as_mut() {
            ready.started();
        }
        let status = started.wait();
        serving.stop();
        output.finish();
        status
    });
    // Recorded before the command line hears of a failure: a `ps` right after it shows the container exited.
    let failure = ended.as_ref().err().map(|err| Failure::new(Failure::code_of(err), format!("{err:#}")));
    let code = container.record_end(ended, hostconfig.auto_remove);
    if let (Some(failure), Some(ready)) = (failure, ready) {
        ready.failed(&failure.into());
    }
    code
}

/// The child's side: chapter 3's, between another container's network and the container's own streams.
pub fn set_up_container(network: &Network, setup: &Setup, stdio: &Stdio) -> Result<Infallible> {
    network.join()?;
    set_up_root(setup)?;
    stdio.attach()?;
    start_process(setup)
}
