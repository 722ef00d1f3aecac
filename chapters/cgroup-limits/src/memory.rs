//! The memory controller: `-m/--memory` and `--memory-swap`, and their files.
//!
//! v1 limits memory with `memory.limit_in_bytes` and memory plus swap with
//! `memory.memsw.limit_in_bytes` (present only with swap accounting). v2
//! limits memory with `memory.max` and swap *alone* with `memory.swap.max`.
//! When a group needs more than its limit and cannot reclaim enough, the
//! kernel's OOM killer kills a process in it (see [`crate::oom`]).
//!
//! Docker's rules, which this follows: the limit is at least 6 MiB;
//! `--memory-swap` is memory plus swap, so it is at least `--memory`, and it
//! means nothing without `--memory`; `-1` is unlimited swap, `0` is unset;
//! unset, the container may swap as much as its memory limit (memory plus
//! swap is twice the limit). See the kernel's `cgroup-v1/memory.rst` and
//! `cgroup-v2.rst`. Introduced in chapter 2.

use anyhow::{Result, bail};

use crate::size::{format_size, parse_size};

/// Docker's smallest memory limit: below it, a container cannot even start.
pub const MIN_MEMORY: u64 = 6 * 1024 * 1024;

/// `--memory-swap`: the limit on memory plus swap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Swap {
    /// Not given (or `0`): as much swap as memory, so memory plus swap is twice `--memory`.
    Default,
    /// `-1`: as much swap as the host has.
    Unlimited,
    /// A size: memory and swap together.
    Total(u64),
}

/// Parses `-m/--memory`: a size of at least 6 MiB.
pub fn parse_memory(text: &str) -> Result<u64, String> {
    let bytes = parse_size(text)?;
    if bytes < MIN_MEMORY {
        return Err(format!("memory limit {} is below the minimum of {}", format_size(bytes), format_size(MIN_MEMORY)));
    }
    Ok(bytes)
}

/// Parses `--memory-swap`: a size, `-1` (unlimited) or `0` (unset).
pub fn parse_swap(text: &str) -> Result<Swap, String> {
    match text {
        "-1" => Ok(Swap::Unlimited),
        _ => match parse_size(text) {
            Ok(0) => Ok(Swap::Default),
            Ok(bytes) => Ok(Swap::Total(bytes)),
            Err(err) => Err(format!("{err}, or -1 for unlimited swap")),
        },
    }
}

/// A memory limit, with its swap allowance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryLimit {
    /// Bytes of memory the group may use.
    pub limit: u64,
    /// What `--memory-swap` said.
    pub swap: Swap,
}

impl MemoryLimit {
    /// The limit `-m` and `--memory-swap` ask for, if any; refuses what Docker refuses.
    pub fn from_flags(memory: Option<u64>, swap: Option<Swap>) -> Result<Option<Self>> {
        let swap = swap.unwrap_or(Swap::Default);
        let Some(limit) = memory else {
            if swap != Swap::Default {
                bail!("--memory-swap needs -m/--memory too: it limits memory plus swap, so set the memory limit first");
            }
            return Ok(None);
        };
        if let Swap::Total(total) = swap
            && total < limit
        {
            bail!(
                "--memory-swap {} is less than -m/--memory {}: it counts memory plus swap, so it must be at least the memory limit (or -1 for unlimited swap)",
                format_size(total),
                format_size(limit)
            );
        }
        Ok(Some(Self { limit, swap }))
    }

    /// The v1 files and values: the memory limit first, then memory plus swap.
    ///
    /// Without swap accounting there is no `memsw` file: the default is then
    /// skipped, as Docker does, but an explicit `--memory-swap` is an error.
    pub fn v1_files(&self, swap_accounting: bool) -> Result<Vec<(&'static str, String)>> {
        // EXERCISE(memory-files): memory.limit_in_bytes, then memory.memsw.limit_in_bytes (default: twice the limit)
        todo!(
            "cgroup-limits step 2 of 10 (memory-files): memory.limit_in_bytes, then memory.memsw.limit_in_bytes (default: twice the limit) — book: cgroup-limits.html#memory-files"
        )
    }

    /// The v2 files and values: `memory.max`, and `memory.swap.max` for swap alone.
    pub fn v2_files(&self) -> Vec<(&'static str, String)> {
        let swap = match self.swap {
            Swap::Default => self.limit.to_string(),
            Swap::Unlimited => "max".to_owned(),
            Swap::Total(total) => (total - self.limit).to_string(),
        };
        vec![("memory.max", self.limit.to_string()), ("memory.swap.max", swap)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1 << 20;

    #[test]
    fn memory_below_6_mib_is_refused() {
        assert_eq!(parse_memory("6m"), Ok(6 * MIB));
        assert_eq!(parse_memory("1k").unwrap_err(), "memory limit 1 KiB is below the minimum of 6 MiB");
    }

    #[test]
    fn swap_takes_a_size_minus_one_or_zero() {
        assert_eq!(parse_swap("-1"), Ok(Swap::Unlimited));
        assert_eq!(parse_swap("0"), Ok(Swap::Default));
        assert_eq!(parse_swap("1g"), Ok(Swap::Total(1024 * MIB)));
        assert!(parse_swap("-2").unwrap_err().contains("or -1 for unlimited swap"));
    }

    #[test]
    fn swap_needs_memory_and_must_cover_it() {
        assert!(MemoryLimit::from_flags(None, Some(Swap::Total(64 * MIB))).is_err());
        assert!(MemoryLimit::from_flags(Some(64 * MIB), Some(Swap::Total(32 * MIB))).is_err());
        assert_eq!(MemoryLimit::from_flags(None, None).unwrap(), None);
    }

    #[test]
    fn v1_memsw_defaults_to_twice_the_limit() {
        let limit = MemoryLimit { limit: 64 * MIB, swap: Swap::Default };
        let files = limit.v1_files(true).unwrap();
        assert_eq!(
            files,
            [("memory.limit_in_bytes", "67108864".to_owned()), ("memory.memsw.limit_in_bytes", "134217728".to_owned())]
        );
        assert_eq!(limit.v1_files(false).unwrap().len(), 1, "no memsw file, no default swap limit");
        let explicit = MemoryLimit { limit: 64 * MIB, swap: Swap::Unlimited };
        assert!(explicit.v1_files(false).is_err(), "an explicit --memory-swap cannot be dropped silently");
    }

    #[test]
    fn v2_swap_max_counts_swap_alone() {
        let limit = MemoryLimit { limit: 300 * MIB, swap: Swap::Total(1024 * MIB) };
        assert_eq!(limit.v2_files()[1], ("memory.swap.max", (724 * MIB).to_string()));
    }
}
