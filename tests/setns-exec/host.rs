//! What the host sees of a container: its processes' namespaces, sessions
//! and cgroups, read from `/proc` and `/sys/fs/cgroup` as a learner would.

use std::fs;
use std::path::{Path, PathBuf};
use std::thread::sleep;
use std::time::{Duration, Instant};

/// Fails the test unless the kernel has overlayfs.
#[track_caller]
pub fn require_overlayfs() {
    let filesystems = fs::read_to_string("/proc/filesystems").unwrap_or_default();
    assert!(filesystems.contains("\toverlay\n"), "this test needs overlayfs: `sudo modprobe overlay`");
}

/// The link `/proc/<pid>/ns/<kind>`: `net:[4026532281]`.
pub fn namespace_link(pid: i32, kind: &str) -> String {
    let path = format!("/proc/{pid}/ns/{kind}");
    fs::read_link(&path).unwrap_or_else(|err| panic!("read {path}: {err}")).to_string_lossy().into_owned()
}

/// The parent pid, session id and controlling terminal (0: none) of process `pid` (fields 4, 6, 7 of its stat).
pub fn ppid_sid_tty(pid: i32) -> (i32, i32, i32) {
    let stat =
        fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_else(|err| panic!("read /proc/{pid}/stat: {err}"));
    let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..].split_whitespace().collect();
    let field = |n: usize| fields[n - 3].parse().unwrap();
    (field(4), field(6), field(7))
}

/// The command line of process `pid`, its arguments joined by spaces.
pub fn cmdline(pid: i32) -> String {
    fs::read_to_string(format!("/proc/{pid}/cmdline")).unwrap_or_default().replace('\0', " ")
}

/// Waits up to 10 s for process `pid` to be gone (or a zombie, dead and waiting to be reaped); whether it is.
pub fn ends_and_reaped(pid: i32) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        match fs::read_to_string(format!("/proc/{pid}/stat")) {
            Ok(stat) if !stat[stat.rfind(')').unwrap() + 1..].trim_start().starts_with('Z') => {
                sleep(Duration::from_millis(20))
            }
            _ => return true,
        }
    }
    false
}

/// The host pids of the processes called `comm` in the PID namespace of process `pid_1`.
pub fn processes_in_pid_namespace(pid_1: i32, comm: &str) -> Vec<i32> {
    let namespace = namespace_link(pid_1, "pid");
    let mut found: Vec<i32> = fs::read_dir("/proc")
        .unwrap()
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            fs::read_link(format!("/proc/{pid}/ns/pid")).is_ok_and(|link| link.to_string_lossy() == namespace)
        })
        .filter(|pid| fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|name| name.trim() == comm))
        .collect();
    found.sort_unstable();
    found
}

/// The cgroup directories of container `id` that exist, in every tree.
pub fn cgroups_of(id: &str) -> Vec<PathBuf> {
    let mut dirs = vec![Path::new("/sys/fs/cgroup/rebox").join(id)];
    for entry in fs::read_dir("/sys/fs/cgroup").unwrap().flatten() {
        dirs.push(entry.path().join("rebox").join(id));
    }
    dirs.retain(|dir| dir.is_dir());
    dirs
}

/// Polls `done` for up to 10 s; fails the test if it never holds.
#[track_caller]
pub fn wait_until(done: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(Instant::now() < deadline, "waited 10 s for something that did not happen");
        sleep(Duration::from_millis(20));
    }
}

/// Folds what depends on the host's cgroup layout (which trees, where) into one line each.
pub fn fold_cgroup_lines(text: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    for line in text.lines() {
        let folded = if line.starts_with("statfs(\"/sys/fs/cgroup") {
            "[statfs of this host's cgroup trees, to find the container's cgroup]"
        } else if line.starts_with("[child] write(\"/sys/fs/cgroup/") {
            "[child] [\"0\" written to join the container's cgroup, in each of this host's cgroup trees]"
        } else {
            line
        };
        if folded == line || out.last() != Some(&folded) {
            out.push(folded);
        }
    }
    out.join("\n") + "\n"
}
