//! The `run` options chapter 2 adds: how much the container may use, and `--cidfile`.
//!
//! They live in the library, beside chapter 1's `IsolationArgs`, so that
//! every later chapter's `run` can flatten them. Docker's flag names and
//! value formats; a malformed or out-of-range value is refused while the
//! command line is parsed, before anything exists, and the runtime exits 125.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use crate::cpu::{CpuQuota, check_cpus, parse_cpus};
use crate::memory::{MemoryLimit, Swap, parse_memory, parse_swap};
use crate::pids::{PidsLimit, parse_pids_limit};
use crate::plan::Limits;

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
