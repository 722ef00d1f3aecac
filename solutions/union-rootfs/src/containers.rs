//! Containers in the store: create, find, record their state, remove.
//!
//! A container is a directory, `containers/<id>/`: `config.json` (what it
//! runs, from which image, under which name), `state.json` (running with a
//! pid, or exited with a code; none yet while it is only created), the init
//! layer and its files, and the overlay's `upper/`, `work/` and `merged/`.
//! It is prepared under `tmp/` and renamed into place, under the store lock
//! once its name is known to be free: a refused name leaves nothing behind.
//! The runtime records when it starts (its pid) and how it ended (its exit
//! code, whether the OOM killer ended it). A stopped container stays until
//! `rm` (or `run --rm`), like Docker's. Introduced in chapter 3.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use docker_cli::clock;
use nix::sys::signal::Signal;
use nix::unistd::Pid;
use serde::{Deserialize, Serialize};

use cgroup_limits::cgroup::Cgroup;
use cgroup_limits::lifecycle::Ended;
use ns_isolation::exit::Failure;

use crate::init_layer;
use crate::pid::HostProcess;
use crate::store::{Store, read_json, remove_tree, write_json, write_json_even_when_full};

/// What a container is: fixed when it is created.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ContainerConfig {
    /// 64 hex digits.
    pub id: String,
    /// Unique in the store.
    pub name: String,
    /// The image as the user named it.
    pub image: String,
    /// The image's id.
    pub image_id: String,
    /// The command line (Entrypoint + Cmd, after the flags).
    pub command: Vec<String>,
    /// The environment.
    pub env: Vec<String>,
    /// The working directory.
    pub cwd: String,
    /// Whom the command runs as (`-u`, else the image's `User`): a name or uid, then `:group`; empty for root.
    #[serde(default)]
    pub user: String,
    /// The hostname.
    pub hostname: String,
    /// When it was created (Unix time).
    pub created: i64,
    /// Removed when it ends (`run --rm`); if its runtime is killed first, by the next command (see `leftovers.rs`).
    #[serde(default)]
    pub auto_remove: bool,
}

/// Where a container is in its life.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Created, not started.
    #[default]
    Created,
    /// Its process runs.
    Running,
    /// Its process has ended.
    Exited,
}

/// What a container is doing: changes as it runs.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct State {
    /// Created, running or exited.
    pub status: Status,
    /// Its PID 1, as the host sees it, while running.
    pub process: Option<HostProcess>,
    /// The runtime process that waits for it, records its end and removes its cgroup.
    pub monitor: Option<HostProcess>,
    /// Its exit code, once exited.
    pub exit_code: Option<i32>,
    /// When it started and when it ended (Unix times).
    pub started: Option<i64>,
    /// When it ended.
    pub finished: Option<i64>,
    /// Whether the OOM killer ended it (Docker's `OOMKilled`).
    #[serde(default)]
    pub oom_killed: bool,
}

/// A container and its directory.
#[derive(Debug, Clone)]
pub struct Container {
    /// `containers/<id>/`.
    pub dir: PathBuf,
    /// What it is.
    pub config: ContainerConfig,
    /// What it is doing.
    pub state: State,
}

/// Refuses `name` if a container of the store has it; the caller holds the store's lock.
pub fn claim_name(store: &Store, name: &str) -> Result<String> {
    if let Some(other) = list(store)?.into_iter().find(|c| c.config.name == name) {
        bail!(
            "the container name {name:?} is already in use by container {}: remove it or choose another name",
            other.config.id
        );
    }
    Ok(name.to_owned())
}

/// Creates the container's directory (init layer included); the caller holds the store's lock.
pub fn create_locked(store: &Store, config: ContainerConfig) -> Result<Container> {
    let staging = store.temp_dir(".container-")?;
    for sub in ["upper", "work", "merged"] {
        let path = staging.path().join(sub);
        fs::create_dir(&path).with_context(|| format!("create {}", path.display()))?;
    }
    init_layer::create(staging.path(), &config.hostname)?;
    write_json(&staging.path().join("config.json"), &config)?;
    // No state.json until the container starts, so that the first one is a new file, not a
    // replacement. Renaming a file over an existing one makes ext4 start writing the new one
    // to disk at once (its `auto_da_alloc` safeguard), and deleting it then waits for that
    // write: a `--rm` container, deleted milliseconds after it starts, would wait for the disk.
    let dir = store.container_dir(&config.id);
    fs::rename(staging.path(), &dir).with_context(|| format!("move the container into place at {}", dir.display()))?;
    // Renamed away: nothing is left at the temporary path to remove.
    let _ = staging.keep();
    Ok(Container { dir, config, state: State::default() })
}

/// Every container in the store, newest first.
pub fn list(store: &Store) -> Result<Vec<Container>> {
    let root = store.root().join("containers");
    let mut containers = Vec::new();
    for entry in fs::read_dir(&root).with_context(|| format!("list {}", root.display()))? {
        let dir = entry?.path();
        // A container removed while we list it is simply gone.
        if let (Ok(config), Some(state)) = (read_json(&dir.join("config.json")), read_state(&dir)) {
            containers.push(Container { dir, config, state });
        }
    }
    // Newest first; containers created in the same second by name, so the order is stable.
    containers.sort_by(|a, b| b.config.created.cmp(&a.config.created).then_with(|| a.config.name.cmp(&b.config.name)));
    Ok(containers)
}

/// A container's state: created if it has no `state.json` yet; `None` if that cannot be read.
fn read_state(dir: &Path) -> Option<State> {
    let path = dir.join("state.json");
    if !path.exists() {
        return Some(State::default());
    }
    read_json(&path).ok()
}

/// Finds a container by name, id, or unique id prefix.
pub fn find(store: &Store, reference: &str) -> Result<Container> {
    let all = list(store)?;
    if let Some(found) = all.iter().find(|c| c.config.name == reference || c.config.id == reference) {
        return Ok(found.clone());
    }
    let matches: Vec<&Container> = all.iter().filter(|c| c.config.id.starts_with(reference)).collect();
    match matches.as_slice() {
        [one] if !reference.is_empty() => Ok((*one).clone()),
        [] | [_] => bail!("no such container: {reference}"),
        _ => bail!("the container id prefix {reference:?} is ambiguous: give more digits"),
    }
}

impl Container {
    /// Records that the container's first process, host pid `pid`, has started.
    ///
    /// With the pid go its start time and the runtime's own: see `pid.rs`.
    pub fn record_start(&mut self, pid: Pid) -> Result<()> {
        let running = State {
            status: Status::Running,
            process: Some(HostProcess::of(pid)?),
            monitor: Some(HostProcess::of(Pid::this())?),
            started: Some(clock::now()),
            ..State::default()
        };
        self.set_state(running)
    }

    /// Records how the container ended, or removes it (`remove`, or the config's `auto_remove`); returns Docker's exit code.
    ///
    /// A runtime error before the command ran is recorded with its exit
    /// code (125, 126, 127) and returned; an OOM kill is recorded and
    /// returned as an error that exits 137.
    ///
    /// The container's own status is never lost to a failure to record it
    /// (a full disk, say): then the error returned still exits with that
    /// status, and says both, printed once by `main`:
    /// `container web exited with status 7, but its end could not be recorded: <why>`.
    pub fn record_end(mut self, ended: Result<Ended>, remove: bool) -> Result<i32> {
        let (code, oom_killed) = match &ended {
            Ok(ended) => (ended.exit_code(), ended.oom_killed.is_some()),
            Err(err) => (Failure::code_of(err), false),
        };
        let recorded = if remove || self.config.auto_remove {
            remove_tree(&self.dir)
        } else {
            let finished = Some(clock::now());
            self.set_state(State {
                status: Status::Exited,
                exit_code: Some(code),
                finished,
                oom_killed,
                ..self.state.clone()
            })
        };
        let outcome = ended.and_then(Ended::into_exit_code);
        match recorded {
            Ok(()) => outcome,
            Err(recording) => Err(unrecorded(&self.config.name, code, outcome, &recording)),
        }
    }

    /// Records a new state; does nothing if the container was removed meanwhile (`rm -f`).
    ///
    /// On a full filesystem the state is written over the old one in place (see `store.rs`).
    pub fn set_state(&mut self, state: State) -> Result<()> {
        if self.dir.is_dir() {
            write_json_even_when_full(&self.dir.join("state.json"), &state)?;
        }
        self.state = state;
        Ok(())
    }

    /// Whether its process still runs: recorded as running, and that very process alive.
    pub fn is_running(&self) -> bool {
        self.state.status == Status::Running && self.state.process.is_some_and(|process| process.is_alive())
    }

    /// Whether it is recorded as running but its process is gone with nobody to record it:
    /// the runtime that waited for it was killed, or the host rebooted.
    pub fn ended_unrecorded(&self) -> bool {
        self.state.status == Status::Running
            && !self.is_running()
            && !self.state.monitor.is_some_and(|monitor| monitor.is_alive())
    }
}

/// The error of a container that ended with exit code `code` (and `outcome`), whose end was not recorded.
///
/// It exits with `code`, and its message says how the container ended, then why that was not recorded.
fn unrecorded(name: &str, code: i32, outcome: Result<i32>, recording: &anyhow::Error) -> anyhow::Error {
    let ended = match outcome {
        Ok(code) => format!("container {name} exited with status {code}"),
        Err(err) => format!("{err:#}"),
    };
    Failure::new(code, format!("{ended}, but its end could not be recorded: {recording:#}")).into()
}

/// `rm [-f]`: removes a stopped container, or with `force` kills a running one first.
///
/// Its cgroup goes too, if a runtime that was killed left it behind.
pub fn remove(store: &Store, reference: &str, force: bool) -> Result<()> {
    let container = find(store, reference)?;
    let name = &container.config.name;
    if container.is_running() {
        if !force {
            bail!("cannot remove container {name}: it is running (stop it, or use rm -f)");
        }
        if let Some(process) = container.state.process {
            process.signal(Signal::SIGKILL)?;
            process.wait_gone(Duration::from_secs(5));
        }
        // Give its runtime the moment it needs to record the end and remove the cgroup.
        let deadline = Instant::now() + Duration::from_secs(5);
        while find(store, &container.config.id)
            .is_ok_and(|c| c.state.status == Status::Running && !c.ended_unrecorded())
            && Instant::now() < deadline
        {
            std::thread::sleep(Duration::from_millis(10));
        }
    }
    let _lock = store.lock()?;
    discard(&container).with_context(|| format!("remove container {name}"))
}

/// Removes a container that no longer runs: its cgroup, if a killed runtime left it, then its directory.
///
/// The caller holds the store's lock.
pub fn discard(container: &Container) -> Result<()> {
    if let Some(cgroup) = Cgroup::existing(&container.config.id)? {
        cgroup.remove().context("remove its cgroup")?;
    }
    remove_tree(&container.dir)
}

/// A container (its short id) that uses the image `image_id`, if any.
pub fn using_image(store: &Store, image_id: &str) -> Option<String> {
    let containers = list(store).ok()?;
    containers.into_iter().find(|c| c.config.image_id == image_id).map(|c| c.config.id[..12].to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use nix::sys::wait::WaitStatus;

    fn config(name: &str) -> ContainerConfig {
        ContainerConfig {
            id: format!("{:0>64}", name.len()),
            name: name.to_owned(),
            image: "busybox".to_owned(),
            image_id: "sha256:0".to_owned(),
            command: vec!["true".to_owned()],
            env: Vec::new(),
            cwd: "/".to_owned(),
            user: String::new(),
            hostname: "box".to_owned(),
            created: 0,
            auto_remove: false,
        }
    }

    #[test]
    fn a_container_has_no_state_file_until_it_starts_and_lists_as_created() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let mut container = create_locked(&store, config("web")).unwrap();
        assert!(!container.dir.join("state.json").exists());
        assert_eq!(find(&store, "web").unwrap().state.status, Status::Created);

        container.record_start(Pid::this()).unwrap();
        assert!(container.dir.join("state.json").is_file());
        let found = find(&store, "web").unwrap();
        assert_eq!(
            (found.state.status, found.state.process.map(|p| p.pid)),
            (Status::Running, Some(Pid::this().as_raw()))
        );
        assert!(found.is_running());
    }

    #[test]
    fn a_name_in_use_is_refused_and_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        create_locked(&store, config("web")).unwrap();
        let err = claim_name(&store, "web").unwrap_err();
        assert!(err.to_string().contains("already in use"), "{err:#}");
        assert_eq!(list(&store).unwrap().len(), 1);
        assert_eq!(fs::read_dir(store.tmp_dir()).unwrap().count(), 0, "a staging directory was left");
    }

    #[test]
    fn a_status_that_cannot_be_recorded_still_exits_and_both_are_said() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let container = create_locked(&store, config("web")).unwrap();
        // Nothing can be renamed over a directory: recording the end fails.
        fs::create_dir(container.dir.join("state.json")).unwrap();
        let ended = Ended { status: WaitStatus::Exited(Pid::this(), 7), oom_killed: None };
        let err = container.record_end(Ok(ended), false).unwrap_err();
        assert_eq!(Failure::code_of(&err), 7);
        let text = format!("{err:#}");
        assert!(
            text.starts_with("container web exited with status 7, but its end could not be recorded: rename "),
            "{text}"
        );
    }

    #[test]
    fn a_container_made_to_be_removed_is_removed_when_it_ends() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let container = create_locked(&store, ContainerConfig { auto_remove: true, ..config("job") }).unwrap();
        let ended = Ended { status: WaitStatus::Exited(Pid::this(), 3), oom_killed: None };
        assert_eq!(container.record_end(Ok(ended), false).unwrap(), 3);
        assert!(list(&store).unwrap().is_empty());
    }
}
