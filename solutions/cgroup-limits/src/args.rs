//! The `run` options chapter 2 adds: how much the container may use, and `--cidfile`.
//!
//! They live in the library, beside chapter 1's `IsolationArgs`, so that
//! every later chapter's `run` can flatten them. Docker's flag names and
//! value formats; a malformed or out-of-range value is refused while the
//! command line is parsed, before anything exists, and the runtime exits 125.

use std::ffi::OsString;
use std::path::PathBuf;

use anyhow::{Result, bail};
use clap::Args;
use ns_isolation::args::{IsolationArgs, TerminalArgs};

use crate::cpu::{CpuQuota, check_cpus, parse_cpus};
use crate::id::ContainerId;
use crate::memory::{MemoryLimit, Swap, parse_memory, parse_swap};
use crate::pids::{PidsLimit, parse_pids_limit};
use crate::plan::Limits;

/// `cgroup-limits run [OPTIONS] -- COMMAND [ARGS...]`.
#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub isolation: IsolationArgs,

    #[command(flatten)]
    pub terminal: TerminalArgs,

    #[command(flatten)]
    pub limits: LimitArgs,

    #[command(flatten)]
    pub cid: CidfileArgs,

    /// The command to run, and its arguments.
    #[arg(required = true, trailing_var_arg = true, value_name = "COMMAND")]
    pub command: Vec<OsString>,
}

/// `-m/--memory`, `--memory-swap`, `--cpus`, `--pids-limit`.
#[derive(Debug, Clone, Args)]
pub struct LimitArgs {
    /// Memory limit: a size like 64m or 1g (units b, k, m, g), at least 6m.
    #[arg(short = 'm', long, value_name = "SIZE", value_parser = parse_memory)]
    pub memory: Option<u64>,

    /// Memory plus swap: a size at least --memory, or -1 for unlimited swap [default: twice --memory].
    #[arg(long, value_name = "SIZE", allow_negative_numbers = true, value_parser = parse_swap)]
    pub memory_swap: Option<Swap>,

    /// CPUs the container may use, e.g. 0.5 (50 ms of CPU time in every 100 ms).
    #[arg(long, value_name = "N", allow_negative_numbers = true, value_parser = parse_cpus_on_this_host)]
    pub cpus: Option<i64>,

    /// Most processes the container may have at once (-1 for unlimited).
    #[arg(long, value_name = "N", allow_negative_numbers = true, value_parser = parse_pids_limit)]
    pub pids_limit: Option<i64>,
}

impl LimitArgs {
    /// The limits, once the flags have been checked against each other.
    pub fn limits(&self) -> Result<Limits> {
        Ok(Limits {
            memory: MemoryLimit::from_flags(self.memory, self.memory_swap)?,
            cpu: self.cpus.and_then(CpuQuota::from_nano_cpus),
            pids: self.pids_limit.and_then(PidsLimit::from_flag),
        })
    }

    /// The limits of a container's cgroup, or `None` for no cgroup at all when `rootless`.
    ///
    /// Only root may make a cgroup, so a rootless run with a limit is refused.
    pub fn cgroup_limits(&self, rootless: bool) -> Result<Option<Limits>> {
        let limits = self.limits()?;
        match (rootless, limits.is_empty()) {
            (false, _) => Ok(Some(limits)),
            (true, true) => Ok(None),
            (true, false) => bail!(
                "cgroup limits need root: the cgroup trees belong to root (run with sudo, or without -m, --memory-swap, --cpus and --pids-limit)"
            ),
        }
    }
}

/// `--cpus`, in nano-CPUs, within what this host has.
fn parse_cpus_on_this_host(text: &str) -> Result<i64, String> {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    check_cpus(parse_cpus(text)?, cpus)
}

/// `--cidfile`: where to write the container's id.
#[derive(Debug, Clone, Args)]
pub struct CidfileArgs {
    /// Write the container's id to this file (which must not exist), as `docker run --cidfile` does.
    #[arg(long, value_name = "PATH")]
    pub cidfile: Option<PathBuf>,
}

impl CidfileArgs {
    /// Writes `id` to the `--cidfile`, if one was given; refuses a file that exists.
    pub fn write(&self, id: &ContainerId) -> Result<()> {
        self.cidfile.as_deref().map_or(Ok(()), |path| id.write_cidfile(path))
    }

    /// Removes the `--cidfile` again, for a run refused before its container existed.
    pub fn remove(&self) {
        if let Some(path) = &self.cidfile {
            let _ = std::fs::remove_file(path);
        }
    }
}
