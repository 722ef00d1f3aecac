//! Chapter 2 suite: a container's resources are a directory of files.
//!
//! Every test runs the chapter's binary (the learner's `cgroup-limits` or the
//! reference `cgroup-limits-solution`) with real limits, and looks at the
//! result from inside the container and from the host: the OOM killer, a
//! fork bomb stopped by `pids.max`, a busy loop throttled by its CFS quota,
//! the limit files read through `/proc/<pid>/cgroup`, `/proc/self/cgroup`
//! inside, and no `rebox/<id>` left behind however a run ends. Each run
//! writes its id with `--cidfile`, so that tests running in parallel only
//! ever look at their own container's cgroup.
//!
//! Snapshots of what differs between cgroup v1 and v2 carry the version in
//! their name (`trace_v1`). The v2 code path is also tested in the library,
//! against a fake cgroupfs. Needs: root, /bin/busybox (busybox-static), the
//! memory, cpu and pids controllers; setpriv (util-linux) and unprivileged
//! user namespaces for the rootless tests.
//!
//! Each test names the step of the book it confirms (`chapter!("join-cgroup")`).
//! The first steps compute the plan of files and values, and are checked by
//! calling the library; the others by running the binary, whose `--trace`
//! shows each step's calls even when the run stops at a later step's `todo!()`.

#[cfg(solution)]
extern crate cgroup_limits_solution as cgroup_limits;

mod host;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use std::{fs, thread};

use cgroup_limits::cpu::CpuQuota;
use cgroup_limits::layout::{Controller, Hierarchy, detect_layout};
use cgroup_limits::lifecycle::JOIN_BY_WRITE;
use cgroup_limits::memory::{MemoryLimit, Swap};
use cgroup_limits::mountinfo::v1_mounts;
use cgroup_limits::pids::PidsLimit;
use cgroup_limits::plan::{Limits, plan};
use host::{assert_no_cgroup_left, cgroup_dir, cgroup_version, counter, read, rebox_lines, require_controllers};
use rebox_support::{Chapter, Outcome, Running, busybox, chapter, host_namespace, require_root};

/// The memory hog: a string that doubles until something stops it.
const MEMORY_HOG: &str = "x=a; while :; do x=$x$x; done";

/// A shell that starts up to 40 sleeps, printing each one's number, inside a shell that reports how it ended.
const FORK_BOMB: &str = "busybox sh -c 'for i in $(busybox seq 1 40); do busybox sleep 5 & echo -n \"$i \"; done'; \
                         status=$?; echo; echo \"the forking shell stopped with status $status\"";

/// A CPU-bound loop that ends cleanly on SIGTERM.
const BUSY_LOOP: &str = "trap 'exit 0' TERM; echo ready; while :; do :; done";

/// Snapshot settings: the shared redactions, plus this chapter's.
///
/// Tests run in parallel, so whether the shared `rebox` parent had to be made
/// (or could be removed, or was removed first by another run's cleanup)
/// depends on the other runs: every outcome is named.
struct Redacted {
    _chapter: insta::internals::SettingsBindDropGuard,
    _shared: insta::internals::SettingsBindDropGuard,
}

fn redacted() -> Redacted {
    let shared = rebox_support::snapshot_settings();
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(r#"(mkdir\("[^"]*/rebox", 0755\)) = (0|-1 EEXIST \(File exists\))"#, "$1 = [0 or EEXIST]");
    settings.add_filter(
        r#"(rmdir\("[^"]*/rebox"\)) = (0|-1 EBUSY \(Device or resource busy\)|-1 ENOENT \(No such file or directory\))"#,
        "$1 = [0, EBUSY or ENOENT]",
    );
    Redacted { _chapter: settings.bind_to_scope(), _shared: shared }
}

/// Where this test's run writes its container id.
fn cidfile(ch: &Chapter) -> PathBuf {
    ch.root().join("cid")
}

/// The id the last run wrote with `--cidfile`.
fn container_id(ch: &Chapter) -> String {
    let path = cidfile(ch);
    fs::read_to_string(&path).unwrap_or_else(|err| panic!("the run wrote no container id to {}: {err}", path.display()))
}

/// The `--cidfile` option for the next run, after removing the last run's file (the runtime refuses an existing one).
fn fresh_cidfile(ch: &Chapter) -> String {
    let path = cidfile(ch);
    if path.exists() {
        fs::remove_file(&path).unwrap();
    }
    path.to_str().unwrap().to_owned()
}

/// Runs `busybox <args>` in a new container with `options`, writing its id to the cidfile.
fn run_busybox(ch: &Chapter, options: &[&str], args: &[&str]) -> Outcome {
    run_busybox_with(ch, &[], options, args)
}

/// [`run_busybox`] with extra environment variables for the runtime.
fn run_busybox_with(ch: &Chapter, env: &[(&str, &str)], options: &[&str], args: &[&str]) -> Outcome {
    busybox();
    let cid = fresh_cidfile(ch);
    let mut all = vec!["run", "--cidfile", &cid];
    all.extend_from_slice(options);
    all.push("--");
    all.push("busybox");
    all.extend_from_slice(args);
    let outcome = ch.run_unchecked_with_env(all, env);
    tidy_up_after(ch, &outcome);
    outcome.fail_on_todo(ch.step());
    outcome
}

/// Waits for a container started with [`start`] to end, tidying up after an unfinished runtime.
fn finish(ch: &Chapter, running: Running) -> Outcome {
    let outcome = running.finish_unchecked();
    tidy_up_after(ch, &outcome);
    outcome.fail_on_todo(ch.step());
    outcome
}

/// A runtime stopped at a `todo!()` may not have removed its cgroup yet: the test does it for it.
fn tidy_up_after(ch: &Chapter, outcome: &Outcome) {
    if outcome.todo_step().is_some()
        && let Ok(id) = fs::read_to_string(cidfile(ch))
    {
        host::remove_left_by_unfinished_runtime(id.trim());
    }
}

fn require_limits() {
    require_root("to create cgroups");
    require_controllers(&["memory", "cpu", "pids"]);
}

/// The lesson's container id, made 64 digits long.
const LESSON_ID: &str = "4ddf4638572d0000000000000000000000000000000000000000000000000000";

/// A v1 host laid out as this workshop's machine: a tree per controller, in a hybrid layout.
const V1_MOUNTINFO: &str = "\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
";

/// `-m 64m --cpus 0.5 --pids-limit 64`.
fn lesson_limits() -> Limits {
    Limits {
        memory: Some(MemoryLimit { limit: 64 << 20, swap: Swap::Default }),
        cpu: CpuQuota::from_nano_cpus(500_000_000),
        pids: Some(PidsLimit::Max(64)),
    }
}

fn v1_hierarchy() -> Hierarchy {
    Hierarchy::Legacy { mounts: v1_mounts(V1_MOUNTINFO), swap_accounting: true }
}

#[test]
fn the_layout_is_told_by_the_filesystem_on_sys_fs_cgroup() {
    let _step = chapter!("detect-layout");
    let layout = detect_layout(Path::new("/sys/fs/cgroup")).expect("statfs /sys/fs/cgroup");
    assert_eq!(format!("{layout:?}"), host::expected_layout(), "this host's layout, from /proc/self/mountinfo");
}

#[test]
fn a_memory_limit_becomes_the_files_of_each_version() {
    let _step = chapter!("memory-files");
    let limit = MemoryLimit::from_flags(Some(64 << 20), None).unwrap().unwrap();
    let v1 = [("memory.limit_in_bytes", "67108864"), ("memory.memsw.limit_in_bytes", "134217728")];
    let owned = |files: &[(&'static str, &str)]| files.iter().map(|(f, v)| (*f, v.to_string())).collect::<Vec<_>>();
    assert_eq!(limit.v1_files(true).unwrap(), owned(&v1), "memsw is memory plus swap: twice the limit by default");
    assert_eq!(limit.v1_files(false).unwrap(), owned(&v1[..1]), "no swap accounting, no memsw file");
    let unlimited = MemoryLimit::from_flags(Some(64 << 20), Some(Swap::Unlimited)).unwrap().unwrap();
    assert_eq!(unlimited.v1_files(true).unwrap(), owned(&[v1[0], ("memory.memsw.limit_in_bytes", "-1")]));
}

#[test]
fn cpus_become_a_quota_in_each_period() {
    let _step = chapter!("cpu-quota");
    let half = CpuQuota::from_nano_cpus(500_000_000).unwrap();
    let owned = |files: &[(&'static str, &str)]| files.iter().map(|(f, v)| (*f, v.to_string())).collect::<Vec<_>>();
    assert_eq!(half.v1_files(), owned(&[("cpu.cfs_period_us", "100000"), ("cpu.cfs_quota_us", "50000")]));
    assert_eq!(half.v2_files(), owned(&[("cpu.max", "50000 100000")]));
    let two = CpuQuota::from_nano_cpus(2_000_000_000).unwrap();
    assert_eq!(two.v2_files(), owned(&[("cpu.max", "200000 100000")]));
    // The whole plan on a v1 host: every file the limits become, in the order they are written.
    let _redacted = redacted();
    insta::assert_snapshot!("plan_v1", plan(&v1_hierarchy(), LESSON_ID, &lesson_limits()).unwrap().to_string());
    insta::assert_snapshot!(
        "plan_v1_without_limits",
        plan(&v1_hierarchy(), LESSON_ID, &Limits::default()).unwrap().to_string()
    );
}

#[test]
fn on_v2_the_controllers_are_enabled_in_every_ancestor() {
    let _step = chapter!("enable-controllers");
    let v2 = Hierarchy::Unified {
        root: PathBuf::from("/sys/fs/cgroup"),
        controllers: vec![Controller::Memory, Controller::Cpu, Controller::Pids],
    };
    let plan = plan(&v2, LESSON_ID, &lesson_limits()).unwrap();
    let text = plan.to_string();
    let root = text.find("echo '+memory +cpu +pids' > /sys/fs/cgroup/cgroup.subtree_control");
    let parent = text.find("echo '+memory +cpu +pids' > /sys/fs/cgroup/rebox/cgroup.subtree_control");
    assert!(root.is_some() && root < parent, "enabled in the root, then in rebox:\n{text}");
    let _redacted = redacted();
    insta::assert_snapshot!("plan_v2", text);
}

/// `--trace` of `busybox true` with `-m 64m`; it may stop at a later step.
fn traced_with_a_limit(ch: &Chapter) -> Outcome {
    traced_with_a_limit_in(ch, &[])
}

/// [`traced_with_a_limit`], with the child joining its cgroup by a write even
/// on v2, where it is otherwise born in it (`clone3` with `CLONE_INTO_CGROUP`).
fn traced_joining_by_write(ch: &Chapter) -> Outcome {
    traced_with_a_limit_in(ch, &[(JOIN_BY_WRITE, "1")])
}

fn traced_with_a_limit_in(ch: &Chapter, env: &[(&str, &str)]) -> Outcome {
    let outcome = run_busybox_with(ch, env, &["--trace", "--hostname", "box", "-m", "64m"], &["true"]);
    assert!(outcome.code == 0 || outcome.todo_step().is_some(), "the run failed:\n{}", outcome.dump());
    outcome
}

/// Where the trace's clone is: `clone(` on v1, `clone3(` where the child is born in its cgroup.
fn clone_at(outcome: &Outcome) -> usize {
    let at = |call: &str| outcome.stderr.find(&format!("\n{call}"));
    at("clone(").or_else(|| at("clone3(")).unwrap_or_else(|| panic!("no clone in:\n{}", outcome.stderr))
}

/// Whether the child was born in its cgroup: a `clone3` with `CLONE_INTO_CGROUP` that succeeded.
fn born_in_its_cgroup(outcome: &Outcome) -> bool {
    outcome.stderr.lines().any(|line| {
        line.starts_with("clone3({flags=") && line.contains("|CLONE_INTO_CGROUP,") && !line.contains(") = -1 ")
    })
}

#[test]
fn the_cgroup_is_made_with_its_limits_before_the_clone() {
    require_limits();
    let ch = chapter!("create-cgroup");
    let outcome = traced_with_a_limit(&ch);
    let made = outcome
        .stderr
        .lines()
        .filter(|line| line.starts_with("mkdir(\"/sys/fs/cgroup/") && line.ends_with(", 0755) = 0"));
    assert_eq!(
        made.filter(|line| !line.contains("/rebox\"")).count(),
        host::trees_per_container(),
        "{}",
        outcome.stderr
    );
    let limit_file = if cgroup_version() == "v2" { "memory.max" } else { "memory.limit_in_bytes" };
    host::assert_traced_write(&outcome, limit_file, "67108864");
    let at = |call: &str| outcome.stderr.find(call).unwrap_or_else(|| panic!("no {call} in:\n{}", outcome.stderr));
    assert!(at(limit_file) < clone_at(&outcome), "the limits are written before the clone:\n{}", outcome.stderr);
}

#[test]
fn a_run_leaves_no_cgroup_behind_even_a_failed_one() {
    require_limits();
    let ch = chapter!("remove-cgroup");
    let outcome = run_busybox(&ch, &["-m", "64m"], &["true"]);
    assert!(outcome.code == 0 || outcome.todo_step().is_some(), "the run failed:\n{}", outcome.dump());
    assert_no_cgroup_left(&container_id(&ch));
}

#[test]
fn the_child_is_in_its_cgroup_before_anything_else() {
    require_limits();
    let ch = chapter!("enter-cgroup");
    // On v2 the child is born in its cgroup, and has nothing to join: its first step is the namespace.
    let outcome = traced_with_a_limit(&ch);
    if cgroup_version() == "v2" {
        assert!(born_in_its_cgroup(&outcome), "on v2 the child is cloned into its cgroup:\n{}", outcome.stderr);
        assert!(
            !outcome.stderr.contains("[child] write(\"/sys/fs/cgroup/"),
            "born there, it joins nothing:\n{}",
            outcome.stderr
        );
    }
    // Joining by a write (v1 always, v2 on request), the join comes first.
    let outcome = traced_joining_by_write(&ch);
    let released = outcome.stderr.find("[child] read(3, \"1\", 1) = 1").expect("the child is released");
    let after = &outcome.stderr[released..];
    let first = after.lines().nth(1).unwrap_or_default();
    let stopped_at_join = outcome.todo_step().is_some_and(|(_, message)| message.contains("(join-cgroup)"));
    assert!(
        first.starts_with("[child] write(\"/sys/fs/cgroup/") || (stopped_at_join && !after.contains("unshare(")),
        "the child's first step after its release must be the join, before its cgroup namespace:\n{}",
        outcome.stderr
    );
}

#[test]
fn the_child_writes_0_to_join_each_tree() {
    require_limits();
    let ch = chapter!("join-cgroup");
    let outcome = traced_joining_by_write(&ch);
    let join_file = format!("/{}\", \"0\", 1) = 1", if cgroup_version() == "v2" { "cgroup.procs" } else { "tasks" });
    let joins = outcome.stderr.lines().filter(|line| line.starts_with("[child] write(") && line.ends_with(&join_file));
    assert_eq!(joins.count(), host::trees_per_container(), "one join per tree:\n{}", outcome.stderr);
}

#[test]
fn the_child_takes_a_cgroup_namespace_rooted_in_its_cgroup() {
    require_limits();
    let ch = chapter!("cgroup-namespace");
    let outcome = traced_with_a_limit(&ch);
    assert!(outcome.stderr.contains("[child] unshare(CLONE_NEWCGROUP) = 0"), "{}", outcome.stderr);
}

#[test]
fn memory_hog_is_killed_by_the_oom_killer_with_137() {
    require_limits();
    let ch = chapter!("oom-kills");
    let outcome = run_busybox(&ch, &["-m", "32m"], &["sh", "-c", MEMORY_HOG]);
    outcome.expect_code(137);
    assert_eq!(outcome.stderr, "cgroup-limits: container killed by the OOM killer (memory limit 32 MiB)\n");
    assert_no_cgroup_left(&container_id(&ch));
    let _redacted = redacted();
    insta::assert_snapshot!("oom_killed", outcome.transcript());
}

#[test]
fn pids_limit_stops_a_fork_bomb() {
    require_limits();
    let ch = chapter!("cgroup-namespace");
    let outcome = run_busybox(&ch, &["--pids-limit", "20"], &["sh", "-c", FORK_BOMB]);
    let stdout = outcome.success();
    // 20 processes: the two shells and 18 sleeps. The 19th sleep cannot be forked.
    let started: Vec<&str> = stdout.lines().next().unwrap_or_default().split_whitespace().collect();
    assert_eq!(started.last(), Some(&"18"), "the shells and the sleeps started must add up to 20:\n{stdout}");
    assert!(outcome.stderr.contains("can't fork: Resource temporarily unavailable"), "{}", outcome.dump());
    assert_no_cgroup_left(&container_id(&ch));
    let _redacted = redacted();
    insta::assert_snapshot!("fork_bomb_stopped", outcome.transcript());
}

/// Starts `sh -c script` in a container with `options`, in the background, once it has printed "ready".
fn start(ch: &Chapter, options: &[&str], script: &str) -> Running {
    busybox();
    let cid = fresh_cidfile(ch);
    let mut args = vec!["run", "--cidfile", &cid];
    args.extend_from_slice(options);
    args.extend(["--", "busybox", "sh", "-c", script]);
    Running::try_start(ch, &args).unwrap_or_else(|outcome| {
        tidy_up_after(ch, &outcome);
        Running::fail_to_start(ch, &outcome)
    })
}

#[test]
fn limit_files_hold_the_requested_values_while_the_container_runs() {
    require_limits();
    let ch = chapter!("oom-kills");
    let options = ["-m", "64m", "--cpus", "0.5", "--pids-limit", "64"];
    let running = start(&ch, &options, "echo ready; exec busybox sleep 100");
    let pid = running.container_pid();
    let id = container_id(&ch);
    let lines = rebox_lines(pid);
    assert!(lines.iter().all(|line| line.ends_with(&format!(":/rebox/{id}"))), "{lines:?}");
    let expected: &[(&str, &str, &str)] = match cgroup_version() {
        "v2" => &[
            ("memory", "memory.max", "67108864"),
            ("memory", "memory.swap.max", "67108864"),
            ("cpu", "cpu.max", "50000 100000"),
            ("pids", "pids.max", "64"),
        ],
        _ => &[
            ("memory", "memory.limit_in_bytes", "67108864"),
            ("memory", "memory.memsw.limit_in_bytes", "134217728"),
            ("cpu", "cpu.cfs_quota_us", "50000"),
            ("cpu", "cpu.cfs_period_us", "100000"),
            ("pids", "pids.max", "64"),
        ],
    };
    let mut transcript = format!("$ {} &\nready\n$ grep rebox /proc/{pid}/cgroup\n", running.command_line());
    for line in &lines {
        transcript.push_str(&format!("{line}\n"));
    }
    for (controller, file, value) in expected {
        let path = cgroup_dir(pid, controller).join(file);
        if *file == "memory.memsw.limit_in_bytes" && !path.exists() {
            continue; // No swap accounting on this host: Docker skips the default too.
        }
        let found = read(&path);
        assert_eq!(found, *value, "{}", path.display());
        transcript.push_str(&format!("$ cat {}\n{found}\n", path.display()));
    }
    running.signal(pid, "KILL");
    let outcome = finish(&ch, running);
    assert_eq!((outcome.code, outcome.stderr.as_str()), (137, ""), "a kill -9 from the host is no OOM kill");
    assert_no_cgroup_left(&id);
    let _redacted = redacted();
    host::assert_layout_snapshot("limit_files", &transcript);
}

#[test]
fn cpus_throttle_a_busy_loop() {
    require_limits();
    let ch = chapter!("cgroup-namespace");
    let running = start(&ch, &["--cpus", "0.5"], BUSY_LOOP);
    let pid = running.container_pid();
    let cpu_stat = cgroup_dir(pid, "cpu").join("cpu.stat");
    // CPU time, in ns, as the cgroup itself accounts it.
    let usage = || match cgroup_version() {
        "v2" => counter(&read(&cpu_stat), "usage_usec") * 1000,
        _ => read(&cgroup_dir(pid, "cpuacct").join("cpuacct.usage")).parse::<u64>().unwrap(),
    };
    let (start, usage_before, stat_before) = (Instant::now(), usage(), read(&cpu_stat));
    thread::sleep(Duration::from_millis(1500));
    let (usage_after, stat_after, wall) = (usage(), read(&cpu_stat), start.elapsed());
    running.signal(running.runtime_pid(), "TERM");
    let command_line = running.command_line();

    let periods = counter(&stat_after, "nr_periods") - counter(&stat_before, "nr_periods");
    let throttled = counter(&stat_after, "nr_throttled") - counter(&stat_before, "nr_throttled");
    let cpu_time = usage_after - usage_before;
    assert!(throttled > 0, "the busy loop was never throttled:\n{stat_after}");
    // The quota, 50 ms per 100 ms period, bounds the CPU time by the group's own count of periods
    // (give or take the periods at either end, as the two files are not read at the same instant).
    assert!(cpu_time <= (periods + 2) * 50_000_000, "{cpu_time} ns of CPU in {periods} periods of 100 ms");
    assert!((cpu_time as f64) < 0.75 * wall.as_nanos() as f64, "{cpu_time} ns of CPU in {wall:?}: not limited");

    let outcome = finish(&ch, running);
    let code = outcome.code;
    assert_eq!((code, outcome.stderr.as_str()), (0, ""), "the trap ends the loop cleanly");
    assert_no_cgroup_left(&container_id(&ch));
    // The counters change from run to run; what matters is which are above 0. Newer kernels add
    // counters of their own (nr_bursts, …): the transcript keeps the three this test is about.
    let stat: Vec<String> = stat_after
        .lines()
        .filter(|line| {
            ["nr_periods ", "nr_throttled ", "throttled_time ", "throttled_usec "]
                .iter()
                .any(|key| line.starts_with(key))
        })
        .map(|line| match line.split_once(' ') {
            Some((name, "0")) => format!("{name} 0"),
            Some((name, _)) => format!("{name} [N>0]"),
            None => line.to_owned(),
        })
        .collect();
    let transcript = format!(
        "$ {} &\nready\n$ cat {}\n{}\n$ kill -TERM %1\n[exit status {code}]\n",
        command_line,
        cpu_stat.display(),
        stat.join("\n")
    );
    let _redacted = redacted();
    host::assert_layout_snapshot("cpu_throttled", &transcript);
}

#[test]
fn proc_self_cgroup_is_root_inside() {
    require_limits();
    let ch = chapter!("cgroup-namespace");
    let outcome = run_busybox(&ch, &["--hostname", "box"], &["cat", "/proc/self/cgroup"]);
    let stdout = outcome.success();
    assert!(!stdout.is_empty() && stdout.lines().all(|line| line.ends_with(":/")), "{stdout}");
    assert_no_cgroup_left(&container_id(&ch));
    let namespace = run_busybox(&ch, &[], &["readlink", "/proc/self/ns/cgroup"]);
    assert_ne!(
        namespace.success().trim(),
        host_namespace("cgroup"),
        "the container shares the host's cgroup namespace"
    );
    assert_no_cgroup_left(&container_id(&ch));
    let _redacted = redacted();
    host::assert_layout_snapshot("proc_self_cgroup", &outcome.transcript());
}

#[test]
fn without_limits_the_container_still_gets_a_cgroup() {
    require_limits();
    let ch = chapter!("oom-kills");
    let running = start(&ch, &[], "echo ready; exec busybox sleep 100");
    let pid = running.container_pid();
    let id = container_id(&ch);
    let lines = rebox_lines(pid);
    running.signal(pid, "KILL");
    finish(&ch, running);
    // Memory, CPU time and processes are accounted per container, as `docker stats` shows them.
    let expected = host::trees_per_container();
    assert_eq!(
        lines.len(),
        expected,
        "the trees of memory, cpu, cpuacct, pids and freezer on v1; the one tree on v2: {lines:?}"
    );
    assert!(lines.iter().all(|line| line.ends_with(&format!("/rebox/{id}"))), "{lines:?}");
    assert_no_cgroup_left(&id);
}

#[test]
fn runtime_error_after_creating_the_cgroup_removes_it() {
    require_limits();
    let ch = chapter!("remove-cgroup");
    // Docker puts no upper bound on --pids-limit; the kernel refuses more than PID_MAX_LIMIT when
    // pids.max is written, after the cgroup's directories exist and before the container joins them.
    let outcome = run_busybox(&ch, &["--trace", "-m", "64m", "--pids-limit", "4194305"], &["true"]);
    outcome.expect_code(125);
    assert!(outcome.stderr.contains("pids.max: Invalid argument"), "{}", outcome.dump());
    assert!(!outcome.stderr.contains("clone("), "the container must not have been started:\n{}", outcome.stderr);
    assert_no_cgroup_left(&container_id(&ch));
    let _redacted = redacted();
    host::assert_layout_snapshot("runtime_error_cleanup", &outcome.transcript());
}

#[test]
fn a_command_that_fails_to_start_leaves_no_cgroup() {
    require_limits();
    let ch = chapter!("cgroup-namespace");
    // The child is released, joins the cgroup, then fails to exec: it exits, and the cgroup must go.
    let cid = fresh_cidfile(&ch);
    let outcome = ch.run_unchecked(["run", "--cidfile", &cid, "-m", "64m", "--", "nosuchcmd"]);
    tidy_up_after(&ch, &outcome);
    outcome.fail_on_todo(ch.step());
    outcome.expect_code(127);
    assert!(outcome.stderr.contains("nosuchcmd"), "{}", outcome.dump());
    assert_no_cgroup_left(&container_id(&ch));
}

#[test]
fn trace_shows_every_cgroup_file_written() {
    require_limits();
    let ch = chapter!("cgroup-namespace");
    let outcome = run_busybox(
        &ch,
        &["--trace", "--hostname", "box", "-m", "64m", "--cpus", "0.5", "--pids-limit", "64"],
        &["true"],
    );
    outcome.expect_code(0);
    let limits: &[(&str, &str)] = match cgroup_version() {
        "v2" => &[("memory.max", "67108864"), ("cpu.max", "50000 100000"), ("pids.max", "64")],
        _ => &[
            ("memory.limit_in_bytes", "67108864"),
            ("cpu.cfs_period_us", "100000"),
            ("cpu.cfs_quota_us", "50000"),
            ("pids.max", "64"),
        ],
    };
    for (file, value) in limits {
        host::assert_traced_write(&outcome, file, value);
    }
    // The order the chapter teaches: limits written, then clone, release, and the child
    // is in its cgroup before anything else, the cgroup namespace after it: born there on
    // v2 (clone3 with CLONE_INTO_CGROUP), moving itself in ("0": the writer) on v1.
    let join = "[child] write(\"/sys/fs/cgroup/";
    let at = |call: &str| outcome.stderr.find(call).unwrap_or_else(|| panic!("no {call} in:\n{}", outcome.stderr));
    let clone = clone_at(&outcome);
    assert!(at("pids.max") < clone && clone < at("write(4, \"1\", 1)"), "{}", outcome.stderr);
    if cgroup_version() == "v2" {
        assert!(born_in_its_cgroup(&outcome), "on v2 the child is cloned into its cgroup:\n{}", outcome.stderr);
        assert!(!outcome.stderr.contains(join), "born in its cgroup, the child joins nothing:\n{}", outcome.stderr);
        assert_no_cgroup_left(&container_id(&ch));
        let _redacted = redacted();
        host::assert_layout_snapshot("trace", &outcome.transcript());
        return;
    }
    assert!(at("[child] read(3, \"1\", 1)") < at(join), "joined before release:\n{}", outcome.stderr);
    assert!(at(join) < at("[child] unshare(CLONE_NEWCGROUP)"), "unshared before joining:\n{}", outcome.stderr);
    let joins: Vec<&str> = outcome.stderr.lines().filter(|line| line.starts_with(join)).collect();
    assert_eq!(joins.len(), host::trees_per_container(), "one join per tree:\n{}", outcome.stderr);
    let join_file = if cgroup_version() == "v2" { "/cgroup.procs\"" } else { "/tasks\"" };
    assert!(
        joins.iter().all(|line| line.contains(join_file) && line.ends_with("\"0\", 1) = 1")),
        "each join writes \"0\" to {join_file}: {joins:?}"
    );
    assert_no_cgroup_left(&container_id(&ch));
    let _redacted = redacted();
    host::assert_layout_snapshot("trace", &outcome.transcript());
}

#[test]
fn cli_bad_limits_exit_125_and_create_nothing() {
    let ch = chapter!();
    let cases: &[(&str, &[&str], &str)] = &[
        ("bad_size", &["-m", "12Q"], "invalid size \"12Q\""),
        ("memory_below_minimum", &["-m", "1k"], "below the minimum of 6 MiB"),
        ("swap_below_memory", &["-m", "64m", "--memory-swap", "32m"], "must be at least the memory limit"),
        ("swap_without_memory", &["--memory-swap", "1g"], "--memory-swap needs -m/--memory"),
        ("negative_cpus", &["--cpus", "-1"], "the range of CPUs is from 0.01 to"),
        ("bad_pids_limit", &["--pids-limit", "-5"], "use a positive number of processes, or -1"),
    ];
    for (name, options, message) in cases {
        let outcome = run_busybox(&ch, &[&["--trace"], *options].concat(), &["true"]);
        outcome.expect_code(125);
        assert!(outcome.stderr.contains(message), "{name}: {}", outcome.dump());
        // Refused before a container id exists, so before any cgroup: no syscall was made at all.
        assert!(!cidfile(&ch).exists(), "{name}: a container id was made");
        assert!(!outcome.stderr.contains("mkdir("), "{name}: a directory was made:\n{}", outcome.stderr);
        // The number of CPUs in the message is the host's: only the size errors are snapshotted.
        if !name.contains("cpus") {
            let _redacted = redacted();
            insta::assert_snapshot!(*name, outcome.transcript());
        }
    }
}

#[test]
fn cli_an_existing_cidfile_is_refused_before_anything_is_made() {
    let ch = chapter!();
    let cid = cidfile(&ch);
    fs::write(&cid, "another container\n").unwrap();
    let outcome = ch.run(["run", "--cidfile", cid.to_str().unwrap(), "--trace", "-m", "64m", "--", "busybox", "true"]);
    outcome.expect_code(125);
    assert!(outcome.stderr.contains("exists already"), "{}", outcome.dump());
    assert!(!outcome.stderr.contains("mkdir("), "a directory was made:\n{}", outcome.stderr);
    assert_eq!(fs::read_to_string(cidfile(&ch)).unwrap(), "another container\n", "the file was overwritten");
}

#[test]
fn cli_run_help_lists_the_limit_flags() {
    let ch = chapter!();
    let outcome = ch.run(["run", "--help"]);
    outcome.expect_code(0);
    let _redacted = redacted();
    insta::assert_snapshot!("run_help", outcome.transcript());
}

#[test]
fn cli_limits_without_root_exit_125_before_anything_is_made() {
    require_root("to drop to an unprivileged user with setpriv");
    let ch = chapter!();
    let outcome = ch.run_as_nobody(&["run", "--trace", "-m", "64m", "--", "busybox", "true"]);
    outcome.expect_code(125);
    assert!(outcome.stderr.contains("cgroup limits need root"), "{}", outcome.dump());
    assert!(!outcome.stderr.contains("mkdir("), "a directory was made:\n{}", outcome.stderr);
    let _redacted = redacted();
    insta::assert_snapshot!("rootless_limits_refused", outcome.transcript());
}

#[test]
fn rootless_run_without_limits_works_without_a_cgroup() {
    require_root("to drop to an unprivileged user with setpriv");
    let ch = chapter!("cgroup-namespace");
    let outcome = ch.run_as_nobody(&["run", "--trace", "--hostname", "box", "--", "busybox", "id", "-u"]);
    assert_eq!(outcome.success(), "0\n");
    assert!(!outcome.stderr.contains("mkdir("), "a rootless run made a cgroup:\n{}", outcome.stderr);
    assert!(outcome.stderr.contains("unshare(CLONE_NEWCGROUP) = 0"), "{}", outcome.stderr);
}

#[test]
fn cli_a_bare_command_prints_its_help_and_exits_0() {
    let ch = chapter!();
    let outcome = ch.run(Vec::<&str>::new());
    outcome.expect_code(0);
    assert!(outcome.stdout.contains("Usage: cgroup-limits [OPTIONS] <COMMAND>"), "{}", outcome.dump());
}
