//! The host's side of a container's cgroups: where they are, what they hold,
//! and that they are gone afterwards.
//!
//! As the article's thought question 3 asks: a process's cgroups are named in
//! `/proc/<pid>/cgroup` (`4:memory:/rebox/<id>` on v1, `0::/rebox/<id>` on
//! v2), as paths inside each hierarchy, which `/proc/self/mountinfo` says
//! where to find. These helpers read them as a learner would, with `cat`.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use rebox_support::Outcome;

/// The cgroup filesystems' mount point.
const ROOT: &str = "/sys/fs/cgroup";

/// `v2` if `/sys/fs/cgroup` is the unified hierarchy, `v1` otherwise (legacy or hybrid).
pub fn cgroup_version() -> &'static str {
    if Path::new(ROOT).join("cgroup.controllers").exists() { "v2" } else { "v1" }
}

/// Fails the test unless the host offers `controllers` (memory, cpu, pids) to limit with.
#[track_caller]
pub fn require_controllers(controllers: &[&str]) {
    for controller in controllers {
        let found = match cgroup_version() {
            "v2" => fs::read_to_string(Path::new(ROOT).join("cgroup.controllers"))
                .is_ok_and(|text| text.split_whitespace().any(|name| name == *controller)),
            _ => v1_mount(controller).is_some(),
        };
        assert!(
            found,
            "this test needs the cgroup {controller} controller, which this host does not offer: \
             on v1, mount it (`mount -t cgroup -o {controller} cgroup /sys/fs/cgroup/{controller}`); \
             on v2, enable it in /sys/fs/cgroup/cgroup.subtree_control (`cargo xtask doctor` checks)"
        );
    }
}

/// The host's cgroup trees, one line each: filesystem type, mount point, and controllers on v1.
///
/// This is what decides the paths a container's cgroup gets, and so what
/// `--trace` and `/proc/self/cgroup` show: `cpu` and `cpuacct` are two trees
/// on some v1 hosts and one (`cpu,cpuacct`) on others; v2 has a single tree.
pub fn cgroup_layout() -> String {
    let mut trees: Vec<String> = cgroup_mounts()
        .into_iter()
        .map(|tree| match tree.kind.as_str() {
            "cgroup2" => format!("cgroup2 {}", tree.mount_point.display()),
            _ => format!("cgroup {} {}", tree.mount_point.display(), tree.controllers.join(",")),
        })
        .collect();
    trees.sort();
    trees.join("\n")
}

/// The layouts the layout-dependent snapshots were recorded on, by version.
///
/// v1: a hybrid host, every controller in a tree of its own (record the
/// `*_v1` snapshots there with `INSTA_UPDATE=always`). v2: one cgroup2 tree
/// on `/sys/fs/cgroup`, as systemd mounts it on a distribution's kernel, and
/// as `cargo xtask vm` boots Debian's; `cargo xtask vm --chapter
/// cgroup-limits --record` records the `*_v2` snapshots there.
const RECORDED_LAYOUTS: &[(&str, &str)] = &[
    (
        "v1",
        "cgroup /sys/fs/cgroup/blkio blkio\ncgroup /sys/fs/cgroup/cpu cpu\ncgroup /sys/fs/cgroup/cpuacct cpuacct\n\
         cgroup /sys/fs/cgroup/cpuset cpuset\ncgroup /sys/fs/cgroup/devices devices\ncgroup /sys/fs/cgroup/freezer freezer\n\
         cgroup /sys/fs/cgroup/memory memory\ncgroup /sys/fs/cgroup/pids pids\ncgroup2 /sys/fs/cgroup/unified",
    ),
    ("v2", "cgroup2 /sys/fs/cgroup"),
];

/// Snapshots `text` as `<name>_<version>`, if the snapshots were recorded on a host laid out like this one.
///
/// The paths in such a transcript are the host's own, so another layout
/// gives other (equally right) text. There, the test has already asserted
/// the behaviour itself; this prints the transcript and says why it was not
/// compared, rather than failing a learner for their machine.
pub fn assert_layout_snapshot(name: &str, text: &str) {
    let version = cgroup_version();
    let layout = cgroup_layout();
    let name = format!("{name}_{version}");
    if RECORDED_LAYOUTS.contains(&(version, layout.as_str())) {
        insta::assert_snapshot!(name, text);
    } else {
        // Written to stderr itself, not through `eprintln!`, which the test harness hides when a test
        // passes: a comparison that was not made must not go unnoticed.
        let note = format!(
            "note: snapshot `{name}` not compared: it was recorded on another cgroup layout than this host's\n\
             {layout}\nthis host's transcript, for a maintainer to record:\n{text}\n"
        );
        std::io::stderr().write_all(note.as_bytes()).expect("write to stderr");
    }
}

/// How many cgroup trees hold a container's memory, cpu, cpuacct and pids groups: 1 on v2.
pub fn trees_per_container() -> usize {
    if cgroup_version() == "v2" {
        return 1;
    }
    let mut mounts: Vec<PathBuf> =
        ["memory", "cpu", "cpuacct", "pids", "freezer"].iter().filter_map(|c| v1_mount(c)).collect();
    mounts.sort();
    mounts.dedup();
    mounts.len()
}

/// Fails unless the trace of `outcome` writes `value` to `file` of the container's cgroup.
#[track_caller]
pub fn assert_traced_write(outcome: &Outcome, file: &str, value: &str) {
    let call = format!("/{file}\", \"{value}\", {}) = {}", value.len(), value.len());
    assert!(outcome.stderr.contains(&call), "the trace has no write of {value:?} to {file}:\n{}", outcome.stderr);
}

/// One cgroup filesystem mount, as a line of `/proc/self/mountinfo` shows it.
struct CgroupMount {
    /// `cgroup` (a v1 tree) or `cgroup2`.
    kind: String,
    mount_point: PathBuf,
    /// The v1 controllers the tree holds (`cpu`, `cpuacct`); none for v2 or a named tree like `name=systemd`.
    controllers: Vec<String>,
}

/// Every v2 tree and every v1 tree with controllers, from `/proc/self/mountinfo`.
fn cgroup_mounts() -> Vec<CgroupMount> {
    let mountinfo = fs::read_to_string("/proc/self/mountinfo").expect("read /proc/self/mountinfo");
    mountinfo
        .lines()
        .filter_map(|line| {
            let (before, after) = line.split_once(" - ")?;
            let mut after = after.split(' ');
            let kind = after.next()?;
            let options = after.nth(1)?;
            let mount_point = PathBuf::from(before.split(' ').nth(4)?);
            let controllers: Vec<String> = options
                .split(',')
                .filter(|option| !matches!(*option, "rw" | "ro") && !option.contains('='))
                .map(str::to_owned)
                .collect();
            let keep = kind == "cgroup2" || (kind == "cgroup" && !controllers.is_empty());
            keep.then(|| CgroupMount { kind: kind.to_owned(), mount_point, controllers })
        })
        .collect()
}

/// Where the v1 hierarchy with `controller` is mounted.
fn v1_mount(controller: &str) -> Option<PathBuf> {
    cgroup_mounts()
        .into_iter()
        .find(|tree| tree.kind == "cgroup" && tree.controllers.iter().any(|name| name == controller))
        .map(|tree| tree.mount_point)
}

/// The lines of `/proc/<pid>/cgroup` that name a `rebox` cgroup.
pub fn rebox_lines(pid: i32) -> Vec<String> {
    let path = format!("/proc/{pid}/cgroup");
    let text = fs::read_to_string(&path).unwrap_or_else(|err| panic!("read {path}: {err}"));
    text.lines().filter(|line| line.contains("/rebox/")).map(str::to_owned).collect()
}

/// The directory of process `pid`'s cgroup for `controller`, as the host sees it.
pub fn cgroup_dir(pid: i32, controller: &str) -> PathBuf {
    let path = format!("/proc/{pid}/cgroup");
    let text = fs::read_to_string(&path).unwrap_or_else(|err| panic!("read {path}: {err}"));
    for line in text.lines() {
        let mut fields = line.splitn(3, ':');
        let (_, controllers, group) = (fields.next(), fields.next().unwrap_or(""), fields.next().unwrap_or(""));
        let relative = group.trim_start_matches('/');
        if cgroup_version() == "v2" && controllers.is_empty() {
            return Path::new(ROOT).join(relative);
        }
        if controllers.split(',').any(|name| name == controller) {
            let mount = v1_mount(controller).unwrap_or_else(|| panic!("no v1 mount for {controller}"));
            return mount.join(relative);
        }
    }
    panic!("process {pid} has no {controller} cgroup:\n{text}");
}

/// Reads a cgroup file, trimmed, as `cat` would show it.
pub fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|err| panic!("read {}: {err}", path.display())).trim_end().to_owned()
}

/// The value of the `name N` line of a flat-keyed file like `cpu.stat`.
pub fn counter(text: &str, name: &str) -> u64 {
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {name} in:\n{text}"))
}

/// Fails if any cgroup directory of container `id` is left, in any hierarchy.
#[track_caller]
pub fn assert_no_cgroup_left(id: &str) {
    assert_eq!(id.len(), 64, "not a container id: {id:?}");
    let mut left: Vec<PathBuf> = vec![Path::new(ROOT).join("rebox").join(id)];
    for entry in fs::read_dir(ROOT).expect("list /sys/fs/cgroup").flatten() {
        left.push(entry.path().join("rebox").join(id));
    }
    left.retain(|dir| dir.exists());
    assert!(left.is_empty(), "the container's cgroup is left behind: {left:?}");
}

/// Removes the cgroup of container `id` that a runtime stopped at a later step's `todo!()` left behind.
///
/// A learner's runtime that cannot remove its cgroup yet would otherwise
/// leave one behind for every test of the steps before: the test tidies up.
pub fn remove_left_by_unfinished_runtime(id: &str) {
    assert_eq!(id.len(), 64, "not a container id: {id:?}");
    let mut dirs: Vec<PathBuf> = vec![Path::new(ROOT).join("rebox").join(id)];
    for entry in fs::read_dir(ROOT).expect("list /sys/fs/cgroup").flatten() {
        dirs.push(entry.path().join("rebox").join(id));
    }
    for dir in dirs.iter().filter(|dir| dir.exists()) {
        fs::remove_dir(dir).unwrap_or_else(|err| panic!("remove {} left by the runtime: {err}", dir.display()));
    }
}

/// The layout `statfs` of `/sys/fs/cgroup` should report, named as the library names it.
pub fn expected_layout() -> &'static str {
    match cgroup_version() {
        "v2" => "Unified",
        _ if cgroup_mounts().iter().any(|tree| tree.kind == "cgroup2") => "Hybrid",
        _ => "Legacy",
    }
}
