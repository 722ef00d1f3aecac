//! The pids controller: `--pids-limit`, the number of processes a group may hold.
//!
//! `pids.max` caps how many processes (threads, in fact) the group may hold;
//! once it is reached, `fork(2)` and `clone(2)` in the group fail with
//! `EAGAIN`, "Resource temporarily unavailable", which is how a fork bomb
//! stops. Moving a process *into* the group is never refused. The file is the
//! same on v1 and v2; `max` means no limit. Docker takes `-1` for unlimited,
//! `0` for unset, and puts no upper bound on the number: the kernel refuses
//! more than `PID_MAX_LIMIT` (4194304) when the file is written. See the
//! kernel's `cgroup-v1/pids.rst`. Introduced in chapter 2.

/// `--pids-limit`: how many processes the container may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PidsLimit {
    /// `-1`: explicitly unlimited.
    Unlimited,
    /// At most this many processes.
    Max(u64),
}

/// Parses `--pids-limit`: a positive number, `-1` for unlimited, or `0` for unset.
pub fn parse_pids_limit(text: &str) -> Result<i64, String> {
    match text.parse::<i64>() {
        Ok(limit) if limit >= -1 => Ok(limit),
        _ => Err(format!("invalid pids limit {text:?}: use a positive number of processes, or -1 for unlimited")),
    }
}

impl PidsLimit {
    /// The limit `--pids-limit` asks for: `None` for 0 (unset).
    pub fn from_flag(limit: i64) -> Option<Self> {
        match limit {
            0 => None,
            max if max > 0 => Some(PidsLimit::Max(max as u64)),
            _ => Some(PidsLimit::Unlimited),
        }
    }

    /// The one file, the same on v1 and v2: `pids.max`, a number or `max`.
    pub fn files(&self) -> Vec<(&'static str, String)> {
        let value = match self {
            PidsLimit::Unlimited => "max".to_owned(),
            PidsLimit::Max(max) => max.to_string(),
        };
        vec![("pids.max", value)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minus_one_is_unlimited_and_zero_unset() {
        assert_eq!(parse_pids_limit("-1").map(PidsLimit::from_flag), Ok(Some(PidsLimit::Unlimited)));
        assert_eq!(parse_pids_limit("0").map(PidsLimit::from_flag), Ok(None));
        assert_eq!(parse_pids_limit("20").map(PidsLimit::from_flag), Ok(Some(PidsLimit::Max(20))));
        assert!(parse_pids_limit("-2").is_err());
        assert!(parse_pids_limit("lots").is_err());
    }

    #[test]
    fn unlimited_is_written_max() {
        assert_eq!(PidsLimit::Unlimited.files(), [("pids.max", "max".to_owned())]);
        assert_eq!(PidsLimit::Max(64).files(), [("pids.max", "64".to_owned())]);
    }
}
