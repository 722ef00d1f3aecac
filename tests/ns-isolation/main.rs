//! Chapter 1 suite: a container is a process in new namespaces.
//!
//! Every test runs the chapter's binary (the learner's `ns-isolation` or the
//! reference `ns-isolation-solution`) and looks at the result from inside the
//! container (what the command prints) and from the host (namespace links,
//! the mount table, the hostname, signals).
//!
//! Each test names the step of the book it confirms (`chapter!("make-private")`)
//! and turns green as soon as that step is written: a run that stops at a
//! later step's `todo!()` still shows, in its `--trace`, the calls made
//! before it. The first steps are checked by calling the library; the last,
//! `exit-code`, by everything a container does. Tests named `cli_*` check
//! the command line the starter already has.
//!
//! Needs: root (for all but the rootless test), /bin/busybox (busybox-static),
//! setpriv (util-linux) and unprivileged user namespaces for the rootless test.

#[cfg(solution)]
extern crate ns_isolation_solution as ns_isolation;

use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};
use std::{fs, thread};

use ns_isolation::namespaces::{Isolation, clone_flags, describe_flags};
use rebox_support::{Chapter, Outcome, Running, busybox, chapter, host_namespace, mount_table, require_root};

/// Runs `busybox <args>` in a new container with `options` before the command.
fn run_busybox(ch: &Chapter, options: &[&str], args: &[&str]) -> rebox_support::Outcome {
    busybox();
    let mut all = vec!["run"];
    all.extend_from_slice(options);
    all.push("--");
    all.push("busybox");
    all.extend_from_slice(args);
    ch.run(all)
}

/// `--trace` of `busybox true` in a container named `box`, with `options`; it may stop at a later step.
fn traced(ch: &Chapter, options: &[&str]) -> Outcome {
    let mut all = vec!["--trace", "--hostname", "box"];
    all.extend_from_slice(options);
    run_busybox(ch, &all, &["true"])
}

/// Asserts that the trace of `outcome` has a line starting with `call`, and that it succeeded.
#[track_caller]
fn assert_traced(outcome: &Outcome, call: &str) {
    let line = outcome.stderr.lines().find(|line| line.starts_with(call));
    let line = line.unwrap_or_else(|| panic!("no `{call}` in the trace:\n{}", outcome.stderr));
    assert!(!line.contains("= -1 "), "the call failed: {line}");
    assert!(outcome.code == 0 || outcome.todo_step().is_some(), "the run failed:\n{}", outcome.dump());
}

#[test]
fn clone_flags_ask_for_the_namespaces_of_the_isolation() {
    let _step = chapter!("clone-flags");
    let flags = |host_network, user_namespace| {
        describe_flags(clone_flags(&Isolation { host_network, user_namespace }.namespaces()))
    };
    assert_eq!(flags(false, false), "CLONE_NEWNS|CLONE_NEWUTS|CLONE_NEWIPC|CLONE_NEWPID|CLONE_NEWNET");
    assert_eq!(flags(true, false), "CLONE_NEWNS|CLONE_NEWUTS|CLONE_NEWIPC|CLONE_NEWPID");
    assert_eq!(flags(false, true), "CLONE_NEWNS|CLONE_NEWUTS|CLONE_NEWIPC|CLONE_NEWUSER|CLONE_NEWPID|CLONE_NEWNET");
}

#[test]
fn the_runtime_clones_its_child_into_new_namespaces() {
    require_root("to create namespaces");
    let ch = chapter!("clone-child");
    let outcome = traced(&ch, &[]);
    assert_traced(&outcome, "clone(CLONE_NEWNS|CLONE_NEWUTS|CLONE_NEWIPC|CLONE_NEWPID|CLONE_NEWNET|SIGCHLD) = ");
}

#[test]
fn with_a_user_namespace_the_parent_writes_the_id_maps() {
    require_root("to create namespaces");
    let ch = chapter!("id-maps");
    let outcome = traced(&ch, &["--userns"]);
    for call in
        ["write(\"/proc/", "\"0 0 1\", 5) = 5", "/setgroups\", \"deny\", 4) = 4", "/gid_map\", \"0 0 1\", 5) = 5"]
    {
        assert!(outcome.stderr.contains(call), "no `{call}` in the trace:\n{}", outcome.stderr);
    }
    let maps: Vec<&str> = outcome.stderr.lines().filter(|line| line.starts_with("write(\"/proc/")).collect();
    let names: Vec<&str> = maps.iter().filter_map(|line| line.split('/').nth(3)?.split('"').next()).collect();
    assert_eq!(names, ["uid_map", "setgroups", "gid_map"], "the maps must be written in this order: {maps:?}");
}

/// The child's steps, in the order `set_up_container` must take them, and the trace line each begins with.
const CHILD_STEPS: [(&str, &str); 5] = [
    ("make-private", "[child] mount(NULL, \"/\""),
    ("mount-proc", "[child] mount(\"proc\""),
    ("loopback-up", "[child] ioctl("),
    ("sethostname", "[child] sethostname("),
    ("exec", "[child] execvp("),
];

#[test]
fn the_child_makes_its_mounts_private_before_anything_else() {
    require_root("to create namespaces");
    let ch = chapter!("child-order");
    let outcome = traced(&ch, &[]);
    // What the child did, step by step, then the step it stopped at, if any.
    let mut taken: Vec<&str> = Vec::new();
    for line in outcome.stderr.lines() {
        if let Some((step, _)) = CHILD_STEPS.iter().find(|(_, start)| line.starts_with(start))
            && taken.last() != Some(step)
        {
            taken.push(step);
        }
    }
    if let Some((_, message)) = outcome.todo_step()
        && let Some((step, _)) = CHILD_STEPS.iter().find(|(step, _)| message.contains(&format!("({step})")))
        && taken.last() != Some(step)
    {
        taken.push(step);
    }
    let order: Vec<&str> = CHILD_STEPS.iter().map(|(step, _)| *step).collect();
    assert!(!taken.is_empty(), "the child took none of its steps:\n{}", outcome.dump());
    assert_eq!(taken, order[..taken.len()], "the child's steps come in this order: {order:?}\n{}", outcome.dump());
}

#[test]
fn the_child_makes_every_mount_private() {
    require_root("to create namespaces");
    let ch = chapter!("make-private");
    assert_traced(&traced(&ch, &[]), "[child] mount(NULL, \"/\", NULL, MS_REC|MS_PRIVATE, NULL) = 0");
}

#[test]
fn the_child_mounts_a_new_proc() {
    require_root("to create namespaces");
    let ch = chapter!("mount-proc");
    let expected = "[child] mount(\"proc\", \"/proc\", \"proc\", MS_NOSUID|MS_NODEV|MS_NOEXEC, NULL) = 0";
    assert_traced(&traced(&ch, &[]), expected);
}

#[test]
fn the_child_brings_lo_up_unless_it_shares_the_hosts_network() {
    require_root("to create namespaces");
    let ch = chapter!("loopback-up");
    assert_traced(&traced(&ch, &[]), "[child] ioctl(");
    let shared = traced(&ch, &["--net", "host"]);
    assert!(!shared.stderr.contains("SIOCSIFFLAGS"), "lo was configured in the host's network:\n{}", shared.stderr);
}

#[test]
fn the_child_sets_its_own_hostname_and_the_hosts_stays() {
    require_root("to create namespaces");
    let ch = chapter!("sethostname");
    let host_before = fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    assert_traced(&traced(&ch, &[]), "[child] sethostname(\"box\", 3) = 0");
    assert_eq!(fs::read_to_string("/proc/sys/kernel/hostname").unwrap(), host_before);
}

#[test]
fn the_command_runs_in_the_container() {
    require_root("to create namespaces");
    let ch = chapter!("exec");
    let outcome = run_busybox(&ch, &["--hostname", "box"], &["echo", "hello from the container"]);
    assert_eq!(outcome.stdout, "hello from the container\n", "{}", outcome.dump());
}

#[test]
fn descriptors_the_runtime_inherits_do_not_reach_the_command() {
    require_root("to create namespaces");
    // The run must end with the command's status 0: the exit-code step.
    let ch = chapter!("exit-code");
    busybox();
    // A shell opens descriptor 7 without close-on-exec, as a CI runner or a pipeline may, and execs the runtime.
    let script = format!("exec 7</dev/null; exec {} run -- busybox ls /proc/self/fd", ch.binary().display());
    let mut shell = std::process::Command::new("sh");
    shell.args(["-c", &script]).env("REBOX_ROOT", ch.root()).stdin(std::process::Stdio::null());
    let outcome = Outcome::new(ch.name(), &["run".to_owned()], shell.output().expect("run sh"));
    // 0, 1 and 2, and 3: the directory `ls` itself opened to list /proc/self/fd.
    assert_eq!(outcome.success(), "0\n1\n2\n3\n", "a descriptor of the runtime's caller reached the command");
}

#[test]
fn command_runs_as_pid_1() {
    require_root("to create PID namespaces");
    let ch = chapter!("exit-code");
    let outcome = run_busybox(&ch, &["--hostname", "box"], &["sh", "-c", "echo $$"]);
    assert_eq!(outcome.success(), "1\n");
    let _redacted = rebox_support::snapshot_settings();
    insta::assert_snapshot!("pid_1_inside", outcome.transcript());
}

#[test]
fn ps_inside_lists_only_the_container() {
    require_root("to create PID namespaces");
    let ch = chapter!("exit-code");
    let outcome = run_busybox(&ch, &["--hostname", "box"], &["ps"]);
    let lines: Vec<&str> = outcome.success().lines().collect();
    assert_eq!(lines.len(), 2, "a header and the ps process itself:\n{}", outcome.stdout);
    let _redacted = rebox_support::snapshot_settings();
    insta::assert_snapshot!("ps_inside", outcome.transcript());
}

#[test]
fn uts_namespace_hides_the_hostname_from_the_host() {
    require_root("to create UTS namespaces");
    let ch = chapter!("exit-code");
    let host_before = fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    let outcome = run_busybox(&ch, &["--hostname", "box"], &["hostname"]);
    assert_eq!(outcome.success(), "box\n");
    assert_eq!(fs::read_to_string("/proc/sys/kernel/hostname").unwrap(), host_before);
    let _redacted = rebox_support::snapshot_settings();
    insta::assert_snapshot!("hostname_inside", outcome.transcript());
}

#[test]
fn default_hostname_is_a_random_12_hex_id() {
    require_root("to create UTS namespaces");
    let ch = chapter!("exit-code");
    let first = run_busybox(&ch, &[], &["hostname"]).success().trim().to_owned();
    let second = run_busybox(&ch, &[], &["hostname"]).success().trim().to_owned();
    for name in [&first, &second] {
        assert!(name.len() == 12 && name.chars().all(|c| c.is_ascii_hexdigit()), "not a 12-hex id: {name:?}");
    }
    assert_ne!(first, second, "two containers got the same random hostname");
}

#[test]
fn new_network_namespace_has_only_loopback_and_it_is_up() {
    require_root("to create network namespaces");
    let ch = chapter!("exit-code");
    let outcome = run_busybox(&ch, &["--hostname", "box"], &["ip", "link"]);
    let stdout = outcome.success();
    assert!(stdout.starts_with("1: lo: <LOOPBACK,UP,LOWER_UP>"), "lo is missing or down:\n{stdout}");
    assert!(!stdout.contains("2: "), "more than lo in a new network namespace:\n{stdout}");
    let ping = run_busybox(&ch, &[], &["ping", "-c", "1", "-W", "1", "127.0.0.1"]);
    ping.expect_code(0);
    let _redacted = rebox_support::snapshot_settings();
    insta::assert_snapshot!("loopback_only", outcome.transcript());
}

/// The namespace links `/proc/self/ns/<name>` of a command run in a container.
fn container_namespaces(ch: &Chapter, options: &[&str], names: &[&str]) -> Vec<String> {
    let script = format!("for name in {}; do busybox readlink /proc/self/ns/$name; done", names.join(" "));
    run_busybox(ch, options, &["sh", "-c", &script]).success().lines().map(str::to_owned).collect()
}

#[test]
fn each_created_namespace_differs_from_the_hosts() {
    require_root("to create namespaces");
    let ch = chapter!("exit-code");
    let names = ["pid", "uts", "mnt", "ipc", "net"];
    let inside = container_namespaces(&ch, &[], &names);
    assert_eq!(inside.len(), names.len(), "one link per namespace: {inside:?}");
    for (name, link) in names.iter().zip(&inside) {
        assert!(link.starts_with(&format!("{name}:[")), "unexpected link for {name}: {link}");
        assert_ne!(*link, host_namespace(name), "the container shares the host's {name} namespace");
    }
    // Chapter 1 creates no user namespace when run as root.
    assert_eq!(container_namespaces(&ch, &[], &["user"]), [host_namespace("user")]);
}

#[test]
fn host_network_shares_the_hosts_net_namespace_only() {
    require_root("to create namespaces");
    let ch = chapter!("exit-code");
    let inside = container_namespaces(&ch, &["--net", "host"], &["net", "uts"]);
    assert_eq!(inside[0], host_namespace("net"), "--net host must keep the host's network namespace");
    assert_ne!(inside[1], host_namespace("uts"), "--net host must still isolate the hostname");
}

#[test]
fn exit_status_is_the_commands() {
    require_root("to create namespaces");
    let ch = chapter!("exit-code");
    let outcome = run_busybox(&ch, &["--hostname", "box"], &["sh", "-c", "exit 3"]);
    outcome.expect_code(3);
    let _redacted = rebox_support::snapshot_settings();
    insta::assert_snapshot!("exit_status", outcome.transcript());
}

#[test]
fn missing_command_exits_127_and_names_it() {
    require_root("to create namespaces");
    let ch = chapter!("exec");
    let outcome = ch.run(["run", "--hostname", "box", "--", "nosuchcmd"]);
    outcome.assert().failure().code(127).stdout("");
    assert!(outcome.stderr.contains("nosuchcmd"), "{}", outcome.dump());
    let _redacted = rebox_support::snapshot_settings();
    insta::assert_snapshot!("command_not_found", outcome.transcript());
}

#[test]
fn non_executable_file_exits_126() {
    require_root("to create namespaces");
    let ch = chapter!("exec");
    let script = ch.root().join("not-executable");
    fs::write(&script, "echo hi\n").unwrap();
    fs::set_permissions(&script, fs::Permissions::from_mode(0o644)).unwrap();
    let outcome = ch.run(["run".as_ref(), "--hostname".as_ref(), "box".as_ref(), "--".as_ref(), script.as_os_str()]);
    outcome.expect_code(126);
    let _redacted = rebox_support::snapshot_settings();
    insta::assert_snapshot!("cannot_execute", outcome.transcript());
}

#[test]
fn cli_bad_input_exits_125_and_says_what_is_accepted() {
    let ch = chapter!();
    let flag = ch.run(["run", "--memory", "64m", "--", "true"]);
    flag.expect_code(125);
    let hostname = ch.run(["run", "--hostname", "bad name", "--", "true"]);
    hostname.expect_code(125);
    assert!(hostname.stderr.contains("invalid hostname"), "{}", hostname.dump());
    let _redacted = rebox_support::snapshot_settings();
    insta::assert_snapshot!("bad_flag", flag.transcript());
    insta::assert_snapshot!("bad_hostname", hostname.transcript());
}

#[test]
fn cli_run_help_lists_the_options() {
    let ch = chapter!();
    let outcome = ch.run(["run", "--help"]);
    outcome.expect_code(0);
    let _redacted = rebox_support::snapshot_settings();
    insta::assert_snapshot!("run_help", outcome.transcript());
}

#[test]
fn pid_1_ignores_its_own_sigkill() {
    require_root("to create PID namespaces");
    let ch = chapter!("exit-code");
    let outcome = run_busybox(&ch, &["--hostname", "box"], &["sh", "-c", "kill -9 $$; echo still alive"]);
    assert_eq!(outcome.success(), "still alive\n");
    let _redacted = rebox_support::snapshot_settings();
    insta::assert_snapshot!("pid_1_ignores_its_own_sigkill", outcome.transcript());
}

/// Starts `sh -c script` in a container, in the background, once it has printed "ready".
fn start(ch: &Chapter, script: &str) -> Running {
    busybox();
    Running::start(ch, &["run", "--hostname", "box", "--", "busybox", "sh", "-c", script])
}

#[test]
fn sigterm_to_the_runtime_is_forwarded_to_the_container() {
    require_root("to create PID namespaces");
    let ch = chapter!("exit-code");
    let running = start(&ch, "trap 'echo got TERM; exit 143' TERM; echo ready; while :; do busybox sleep 0.1; done");
    running.signal(running.runtime_pid(), "TERM");
    let outcome = running.finish();
    assert_eq!((outcome.code, outcome.stdout.as_str()), (143, "got TERM\n"), "the trap in the container did not run");
}

#[test]
fn killed_by_sigkill_from_the_host_exits_137() {
    require_root("to create PID namespaces");
    let ch = chapter!("exit-code");
    let running = start(&ch, "echo ready; exec busybox sleep 100");
    let pid = running.container_pid();
    running.signal(pid, "KILL");
    let code = running.finish().code;
    assert_eq!(code, 137, "128 + SIGKILL (9)");
    let _redacted = rebox_support::snapshot_settings();
    let transcript = format!(
        "$ ns-isolation run -- busybox sh -c 'echo ready; exec busybox sleep 100' &\nready\n\
         $ kill -9 <the container's pid on the host>\n[exit status {code}]\n"
    );
    insta::assert_snapshot!("killed_by_sigkill", transcript);
}

#[test]
fn killing_the_runtime_kills_the_container() {
    require_root("to create PID namespaces");
    let ch = chapter!("exit-code");
    let running = start(&ch, "echo ready; exec busybox sleep 100");
    let pid = running.container_pid();
    running.signal(running.runtime_pid(), "KILL");
    running.finish();
    // The orphan is reparented and reaped on the host once the kernel kills it.
    let deadline = Instant::now() + Duration::from_secs(10);
    let alive = || {
        fs::read_to_string(format!("/proc/{pid}/stat"))
            .is_ok_and(|stat| !stat.rsplit(')').next().unwrap_or("").trim_start().starts_with('Z'))
    };
    while alive() {
        assert!(Instant::now() < deadline, "the container (pid {pid}) outlived its runtime");
        thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn host_mount_table_and_hostname_are_unchanged_after_runs() {
    require_root("to create mount namespaces");
    let ch = chapter!("exit-code");
    let mounts_before = mount_table();
    let hostname_before = fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    run_busybox(&ch, &["--hostname", "box"], &["true"]).expect_code(0);
    run_busybox(&ch, &["--hostname", "box"], &["sh", "-c", "exit 7"]).expect_code(7);
    ch.run(["run", "--", "nosuchcmd"]).expect_code(127);
    assert_eq!(mount_table(), mounts_before, "a run left a mount on the host");
    assert_eq!(fs::read_to_string("/proc/sys/kernel/hostname").unwrap(), hostname_before);
}

#[test]
fn trace_shows_every_syscall_of_a_run() {
    require_root("to create namespaces");
    let ch = chapter!("exit-code");
    let outcome = run_busybox(&ch, &["--trace", "--hostname", "box"], &["true"]);
    outcome.expect_code(0);
    let _redacted = rebox_support::snapshot_settings();
    insta::assert_snapshot!("trace", outcome.transcript());
}

#[test]
fn rootless_run_is_root_inside_a_user_namespace() {
    require_root("to drop to an unprivileged user with setpriv");
    let ch = chapter!("exit-code");
    let outcome = ch.run_as_nobody(&["run", "--hostname", "box", "--", "busybox", "id"]);
    assert_eq!(outcome.success(), "uid=0(root) gid=0(root)\n");
    let inside = ch.run_as_nobody(&["run", "--", "busybox", "readlink", "/proc/self/ns/user"]);
    assert_ne!(inside.success().trim(), host_namespace("user"), "rootless runs need their own user namespace");
    let traced = ch.run_as_nobody(&["run", "--trace", "--hostname", "box", "--", "busybox", "true"]);
    traced.expect_code(0);
    let _redacted = rebox_support::snapshot_settings();
    insta::assert_snapshot!("rootless_id", outcome.transcript());
    insta::assert_snapshot!("rootless_trace", traced.transcript());
}

#[test]
fn cli_a_bare_command_prints_its_help_and_exits_0() {
    let ch = chapter!();
    let outcome = ch.run(Vec::<&str>::new());
    outcome.expect_code(0);
    assert!(outcome.stdout.contains("Usage: ns-isolation [OPTIONS] <COMMAND>"), "{}", outcome.dump());
}

#[test]
fn dockers_it_is_accepted_and_t_says_what_it_waits_for() {
    require_root("to create namespaces");
    let ch = chapter!("exit-code");
    let outcome = ch.run(["run", "-it", "--hostname", "box", "busybox", "echo", "hi"]);
    assert_eq!(outcome.success(), "hi\n");
    assert!(
        outcome.stderr.contains("-t: this runtime has no pseudo-terminal of its own yet (chapter 4"),
        "{}",
        outcome.dump()
    );
}
