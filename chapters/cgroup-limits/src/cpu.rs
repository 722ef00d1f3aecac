//! The cpu controller: `--cpus` as a CFS quota per period.
//!
//! The scheduler (CFS) gives a group at most `quota` microseconds of CPU time
//! in every `period`; once it has used them, all its threads wait, *throttled*,
//! until the next period starts. `--cpus 0.5` is Docker's shorthand for a
//! quota of 50000 µs per period of 100000 µs: half of one CPU, however many
//! threads share it. `cpu.stat` counts the periods and how many of them ended
//! throttled. v1 writes `cpu.cfs_period_us` and `cpu.cfs_quota_us`; v2 writes
//! both at once to `cpu.max` as `"quota period"`. The kernel refuses a quota
//! below 1 ms, hence Docker's smallest `--cpus`, 0.01. See the kernel's
//! `scheduler/sched-bwc.rst`. Introduced in chapter 2.

/// Docker's CFS period: 100 ms.
pub const PERIOD_US: u64 = 100_000;

/// One CPU, in the nano-CPUs Docker counts `--cpus` in.
const NANO_CPUS_PER_CPU: i64 = 1_000_000_000;

/// Parses `--cpus`, a decimal number of CPUs, into nano-CPUs (`0.5` is 500000000).
///
/// The range depends on the host, so [`check_cpus`] checks it.
pub fn parse_cpus(text: &str) -> Result<i64, String> {
    let invalid = || format!("invalid number of CPUs {text:?}: use a decimal number like 0.5 or 2");
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let all_digits = |part: &str| part.chars().all(|c| c.is_ascii_digit());
    if whole.is_empty() && fraction.is_empty() || !all_digits(whole) || !all_digits(fraction) {
        return Err(invalid());
    }
    if fraction.len() > 9 {
        return Err(format!("invalid number of CPUs {text:?}: too precise, use at most 9 decimals"));
    }
    let whole: i64 = if whole.is_empty() { 0 } else { whole.parse().map_err(|_| invalid())? };
    let fraction: i64 = format!("{fraction:0<9}").parse().map_err(|_| invalid())?;
    let nano = whole.checked_mul(NANO_CPUS_PER_CPU).and_then(|n| n.checked_add(fraction)).ok_or_else(invalid)?;
    Ok(if negative { -nano } else { nano })
}

/// Refuses `nano_cpus` outside Docker's range for a host with `cpus` CPUs: 0.01 to all of them (or 0).
pub fn check_cpus(nano_cpus: i64, cpus: usize) -> Result<i64, String> {
    let max = cpus as i64 * NANO_CPUS_PER_CPU;
    if nano_cpus != 0 && !(NANO_CPUS_PER_CPU / 100..=max).contains(&nano_cpus) {
        return Err(format!("the range of CPUs is from 0.01 to {cpus}.00, as there are only {cpus} CPUs available"));
    }
    Ok(nano_cpus)
}

/// A CFS bandwidth limit: `quota_us` of CPU time in every `period_us`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CpuQuota {
    /// Microseconds of CPU time the group may use per period.
    pub quota_us: u64,
    /// The length of a period, in microseconds.
    pub period_us: u64,
}

impl CpuQuota {
    /// The quota for `nano_cpus` (from `--cpus`); `None` for 0, which Docker takes as no limit.
    pub fn from_nano_cpus(nano_cpus: i64) -> Option<Self> {
        (nano_cpus != 0).then(|| Self { quota_us: quota_for(nano_cpus, PERIOD_US), period_us: PERIOD_US })
    }

    /// The v1 files: the period first, then the quota that is counted against it.
    pub fn v1_files(&self) -> Vec<(&'static str, String)> {
        vec![("cpu.cfs_period_us", self.period_us.to_string()), ("cpu.cfs_quota_us", self.quota_us.to_string())]
    }

    /// The v2 file: `cpu.max` holds `"quota period"`.
    pub fn v2_files(&self) -> Vec<(&'static str, String)> {
        vec![("cpu.max", format!("{} {}", self.quota_us, self.period_us))]
    }
}

/// The CPU time per period that `nano_cpus` CPUs amount to: `--cpus 0.5` is 50000 of 100000 µs.
pub fn quota_for(nano_cpus: i64, period_us: u64) -> u64 {
    // EXERCISE(cpu-quota): scale the period by the fraction of a CPU: nano_cpus * period_us / 1e9
    todo!(
        "cgroup-limits step 3 of 10 (cpu-quota): scale the period by the fraction of a CPU: nano_cpus * period_us / 1e9 — book: cgroup-limits.html#cpu-quota"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpus_are_decimal_numbers() {
        assert_eq!(parse_cpus("0.5"), Ok(500_000_000));
        assert_eq!(parse_cpus("2"), Ok(2_000_000_000));
        assert_eq!(parse_cpus(".25"), Ok(250_000_000));
        assert_eq!(parse_cpus("-1"), Ok(-1_000_000_000));
        assert!(parse_cpus("half").is_err());
        assert!(parse_cpus("0.0000000001").unwrap_err().contains("too precise"));
    }

    #[test]
    fn half_a_cpu_is_50000_of_100000_microseconds() {
        let quota = CpuQuota::from_nano_cpus(500_000_000).unwrap();
        assert_eq!(quota, CpuQuota { quota_us: 50_000, period_us: 100_000 });
        assert_eq!(quota.v2_files(), [("cpu.max", "50000 100000".to_owned())]);
        assert_eq!(quota_for(1_500_000_000, 100_000), 150_000);
    }

    #[test]
    fn cpus_outside_the_hosts_range_are_refused() {
        let range = "the range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available";
        assert_eq!(check_cpus(-1_000_000_000, 2).unwrap_err(), range);
        assert_eq!(check_cpus(3_000_000_000, 2).unwrap_err(), range);
        assert_eq!(check_cpus(1_000_000, 2).unwrap_err(), range, "0.001 CPUs is a quota below 1 ms");
        assert_eq!(check_cpus(2_000_000_000, 2), Ok(2_000_000_000));
        assert_eq!(CpuQuota::from_nano_cpus(0), None, "0 means no limit, as in Docker");
    }
}
