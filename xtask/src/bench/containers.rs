//! The running containers chapter 4's benches work on, started detached and removed on every path.
//!
//! - `exec-target`, a busybox `sleep` run by `setns-exec -d`: what `exec`
//!   and `nsenter` enter.
//! - `rebox-bench-exec`, the same `sleep` run by `runc run -d`: what
//!   `runc exec` enters.
//! - `relay`, run by `setns-exec -d -p <port>:80`: busybox's `nc -ll` on
//!   the container's port 80, which sends [`RELAY_BYTES`] of zeros to each
//!   connection (a new `dd` for each) and closes it.

use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread::sleep;
use std::time::Duration;

use anyhow::{Context, Result, bail, ensure};

use super::fixtures;
use crate::process;

/// What the relay's server sends to each connection: 200 MiB.
pub const RELAY_BYTES: u64 = 200 << 20;

/// runc's name for its running container (a cgroup of that name, too).
pub const RUNC_CONTAINER: &str = "rebox-bench-exec";

/// The containers, running.
#[derive(Debug)]
pub struct Containers {
    /// `setns-exec-solution`.
    pub setns_exec: PathBuf,
    /// Its store.
    pub store: PathBuf,
    /// runc's `--root`.
    pub runc_state: PathBuf,
    /// The host pid of `exec-target`'s PID 1.
    pub exec_target: i32,
    /// The host pid of `relay`'s PID 1.
    pub relay: i32,
    /// The host port `relay` publishes its port 80 on.
    pub port: u16,
}

/// Starts the containers, runs `bench` on them, then removes them, whether it succeeded or not.
pub fn with_containers<T>(
    setns_exec: &Path,
    work: &Path,
    layout: &Path,
    bench: impl FnOnce(&Containers) -> Result<T>,
) -> Result<T> {
    let store = work.join("exec-store");
    let runc_state = work.join("runc-exec-state");
    let started = start(setns_exec, &store, &runc_state, work, layout);
    let outcome = started.and_then(|containers| bench(&containers));
    let removed = remove(setns_exec, &store, &runc_state);
    if let (Err(_), Err(err)) = (&outcome, &removed) {
        eprintln!("xtask: {err:#}");
    }
    let value = outcome?;
    removed?;
    Ok(value)
}

fn start(setns_exec: &Path, store: &Path, runc_state: &Path, work: &Path, layout: &Path) -> Result<Containers> {
    let runtime = |args: &[&str]| {
        let mut command = Command::new(setns_exec);
        command.arg("--root").arg(store).args(args);
        command
    };
    let mut load = runtime(&["image", "load"]);
    load.arg(layout);
    process::run(load)?;
    process::run(runtime(&["run", "-d", "--name", "exec-target", "busybox", "sleep", "3600"]))?;
    let port = free_port()?;
    let publish = format!("{port}:80");
    let server = format!("dd if=/dev/zero bs=1M count={} 2>/dev/null", RELAY_BYTES >> 20);
    let relay = ["run", "-d", "-p", &publish, "--name", "relay", "busybox", "nc", "-ll", "-p", "80", "-e", "sh", "-c"];
    process::run(runtime(&[&relay[..], &[server.as_str()]].concat()))?;
    let pid = |name: &str| -> Result<i32> {
        let output = process::capture(runtime(&["inspect", "--format", "{{ .State.Pid }}", name]))?;
        let text = String::from_utf8_lossy(&output.stdout);
        text.trim().parse().with_context(|| format!("the pid of container {name}: {text:?}"))
    };
    let bundle = fixtures::runc_bundle(work, "runc-exec-bundle", &["/bin/sleep", "3600"])?;
    let mut runc = process::command("runc", &["--root"]);
    runc.arg(runc_state).args(["run", "--detach", "--bundle"]).arg(&bundle).arg(RUNC_CONTAINER);
    // The container keeps the standard streams it is given: none of the bench's.
    runc.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null());
    process::run(runc)?;
    Ok(Containers {
        setns_exec: setns_exec.to_path_buf(),
        store: store.to_path_buf(),
        runc_state: runc_state.to_path_buf(),
        exec_target: pid("exec-target")?,
        relay: pid("relay")?,
        port,
    })
}

/// Removes every container of the store and runc's, whichever were started.
fn remove(setns_exec: &Path, store: &Path, runc_state: &Path) -> Result<()> {
    let mut removed = Ok(());
    if let Ok(entries) = std::fs::read_dir(store.join("containers")) {
        for entry in entries.flatten() {
            let mut rm = Command::new(setns_exec);
            rm.arg("--root").arg(store).args(["rm", "--force"]).arg(entry.file_name());
            removed = removed.and(process::run(rm));
        }
    }
    if runc_state.join(RUNC_CONTAINER).exists() {
        let mut delete = process::command("runc", &["--root"]);
        delete.arg(runc_state).args(["delete", "--force", RUNC_CONTAINER]);
        removed = removed.and(process::run(delete));
    }
    removed
}

/// A host port nothing listens on, as the kernel picks one; `-p` binds `0.0.0.0`.
fn free_port() -> Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::UNSPECIFIED, 0)).context("find a free host port (bind 0.0.0.0:0)")?;
    Ok(listener.local_addr().context("read the free port's number")?.port())
}

/// Runs `reader` (a shell command that writes what it read to its standard output) until it reads
/// [`RELAY_BYTES`]: the relay's server may not listen yet. Fails after 5 s.
pub fn check_reads_everything(what: &str, reader: &str) -> Result<()> {
    let mut last = String::new();
    for _ in 0..50 {
        let output = process::capture(process::command("sh", &["-c", &format!("{reader} | wc -c")]))?;
        last = String::from_utf8_lossy(&output.stdout).trim().to_owned();
        if last == RELAY_BYTES.to_string() {
            return Ok(());
        }
        sleep(Duration::from_millis(100));
    }
    ensure!(!last.is_empty(), "{what}: `{reader}` printed nothing");
    bail!("{what}: `{reader}` read {last} bytes, not {RELAY_BYTES}")
}
