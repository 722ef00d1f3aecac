//! Chapter 4 suite: a container outlives its command line, and `exec` joins it with `setns()`.
//!
//! Every test runs the chapter's binary on the sample images (`busybox`,
//! and `helloworld`, the lesson's app on port 80) in a store of its own, and
//! looks from inside the container and from the host: `/proc/<pid>/ns/*`
//! of the container's PID 1 and of an `exec`'d process, the monitor's
//! session, the log file, the published port with a real HTTP request, a
//! pseudo-terminal driven as a person would. Each test names the step it
//! confirms (`chapter!("detach")`); one stopped at a later step's `todo!()`
//! still shows its own step in `--trace`. Containers left running by a
//! failing test are removed with `rm -f` when its `Chapter` is dropped.
//!
//! Needs: root, overlayfs, /bin/busybox (busybox-static), unshare (util-linux).

#[cfg(solution)]
extern crate setns_exec_solution as setns_exec;

mod host;
mod terminal;

use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::Duration;

use host::{ends_and_reaped, namespace_link, ppid_sid_tty, processes_in_pid_namespace};
use rebox_support::sample_image::{helloworld_image, sample_image};
use rebox_support::{Chapter, Outcome, chapter, mount_table, require_root};

/// A chapter for a test of `step`, whose store holds `busybox` and `helloworld`.
fn with_images(step: &str) -> Chapter {
    require_root("to run containers");
    host::require_overlayfs();
    let ch = chapter!(step);
    for image in [sample_image(), helloworld_image()] {
        ch.run(["image".as_ref(), "load".as_ref(), image.as_os_str()]).expect_code(0);
    }
    ch
}

/// A chapter for a test of the command line alone (which the starter has), whose store holds the images.
fn with_images_for_cli() -> Chapter {
    require_root("to load images");
    let ch = chapter!();
    for image in [sample_image(), helloworld_image()] {
        ch.run(["image".as_ref(), "load".as_ref(), image.as_os_str()]).expect_code(0);
    }
    ch
}

/// `run -d <args>`; returns the container's id.
fn detached(ch: &Chapter, args: &[&str]) -> String {
    let outcome = ch.run([&["run", "-d"][..], args].concat());
    let id = outcome.success().trim().to_owned();
    assert!(id.len() == 64 && id.bytes().all(|b| b.is_ascii_hexdigit()), "run -d printed no id:\n{}", outcome.dump());
    id
}

/// The host pid of the container's PID 1, as the lesson asks for it.
fn pid_1(ch: &Chapter, container: &str) -> i32 {
    let outcome = ch.run(["inspect", "--format", "{{ .State.Pid }}", container]);
    outcome.success().trim().parse().unwrap_or_else(|_| panic!("no pid:\n{}", outcome.dump()))
}

/// Waits until `container` has printed `line` (its log has it).
fn wait_for_log(ch: &Chapter, container: &str, line: &str) {
    for _ in 0..500 {
        if ch.run(["logs", container]).stdout.lines().any(|printed| printed == line) {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("{container} never printed {line:?}:\n{}", ch.run(["logs", container]).dump());
}

/// `GET /` on the host's `port`, as `curl localhost:PORT` does; the response's body.
fn http_get(port: u16) -> String {
    let mut stream =
        TcpStream::connect(("127.0.0.1", port)).unwrap_or_else(|err| panic!("connect to port {port}: {err}"));
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    stream.write_all(b"GET / HTTP/1.0\r\nHost: localhost\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response.split_once("\r\n\r\n").map(|(_, body)| body.to_owned()).unwrap_or(response)
}

/// A port nobody listens on now, on the host.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Snapshots `text`, with this test's store shown as `[ROOT]`.
fn snapshot(ch: &Chapter, name: &str, text: &str) {
    let text = text.replace(ch.root().to_str().unwrap(), "[ROOT]");
    let _redacted = rebox_support::snapshot_settings();
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z", "[TIME]");
    settings.add_filter(r"/proc/\d+/", "/proc/[PID]/");
    settings.bind(|| insta::assert_snapshot!(name, text));
}

// Step `setns`: the lesson's set_ns program.

#[test]
fn join_runs_a_command_in_a_namespace_of_another_process() {
    require_root("to create namespaces with unshare");
    let ch = chapter!("setns");
    let mut target = Command::new("unshare")
        .args(["--uts", "--net", "sh", "-c", "hostname far-away; echo ready; exec sleep 60"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("run unshare (util-linux)");
    let mut ready = String::new();
    BufReader::new(target.stdout.take().unwrap()).read_line(&mut ready).unwrap();
    let pid = target.id();
    let uts = ch.run(["join", &format!("/proc/{pid}/ns/uts"), "--", "busybox", "hostname"]);
    let net = ch.run(["join", &format!("/proc/{pid}/ns/net"), "--", "busybox", "ip", "-o", "link"]);
    let link = ch.run(["join", &format!("/proc/{pid}/ns/net"), "--", "busybox", "readlink", "/proc/self/ns/net"]);
    let expected_link = namespace_link(pid as i32, "net");
    target.kill().unwrap();
    target.wait().unwrap();
    assert_eq!(uts.success(), "far-away\n");
    let devices: Vec<&str> = net.success().lines().collect();
    assert!(devices.len() == 1 && devices[0].starts_with("1: lo:"), "only the other namespace's lo:\n{}", net.stdout);
    assert_eq!(link.success().trim(), expected_link, "the command runs in the joined namespace");
    snapshot(&ch, "join", &[uts, net].map(|o| o.transcript()).concat().replace(&pid.to_string(), "[PID]"));
}

#[test]
fn cli_join_refuses_a_file_that_is_no_namespace() {
    let ch = chapter!();
    let outcome = ch.run(["join", "/etc/hostname", "--", "true"]);
    outcome.expect_code(125);
    assert!(outcome.stderr.contains("/etc/hostname"), "{}", outcome.dump());
}

// Step `json-log`: the container's output, logged.

#[test]
fn a_foreground_container_writes_to_the_terminal_and_to_its_log() {
    let ch = with_images("json-log");
    let outcome = ch.run(["run", "--name", "fg", "busybox", "sh", "-c", "echo out; echo err >&2; echo -n no newline"]);
    assert_eq!((outcome.code, outcome.stdout.as_str(), outcome.stderr.as_str()), (0, "out\nno newline", "err\n"));
    let dir = fs::read_dir(ch.root().join("containers")).unwrap().next().unwrap().unwrap().path();
    let id = dir.file_name().unwrap().to_string_lossy().into_owned();
    let log = fs::read_to_string(dir.join(format!("{id}-json.log"))).expect("the log is containers/<id>/<id>-json.log");
    let entries: Vec<serde_json::Value> = log.lines().map(|line| serde_json::from_str(line).unwrap()).collect();
    let streams: Vec<(&str, &str)> =
        entries.iter().map(|entry| (entry["log"].as_str().unwrap(), entry["stream"].as_str().unwrap())).collect();
    let mut sorted = streams.clone();
    sorted.sort();
    assert_eq!(sorted, [("err\n", "stderr"), ("no newline", "stdout"), ("out\n", "stdout")], "{log}");
    let logs = ch.run(["logs", "fg"]);
    assert_eq!((logs.stdout.as_str(), logs.stderr.as_str()), ("out\nno newline", "err\n"), "each line to its stream");
    let stamped = ch.run(["logs", "-t", "fg"]);
    assert!(stamped.success().starts_with("20") && stamped.stdout.contains("Z out\n"), "{}", stamped.dump());
    ch.run(["run", "--name", "count", "busybox", "seq", "5"]).expect_code(0);
    assert_eq!(ch.run(["logs", "--tail", "2", "count"]).success(), "4\n5\n");
    snapshot(&ch, "log_file", &log.lines().filter(|line| line.contains("stdout")).collect::<Vec<_>>().join("\n"));
}

// Step `detach`: run -d and the monitor.

#[test]
fn run_d_prints_the_id_and_the_container_runs_on_under_its_monitor() {
    let ch = with_images("detach");
    let id = detached(&ch, &["--name", "web", "busybox", "sh", "-c", "echo started; exec sleep 60"]);
    wait_for_log(&ch, "web", "started");
    let pid = pid_1(&ch, "web");
    let (monitor, _, _) = ppid_sid_tty(pid);
    let (_, session, tty) = ppid_sid_tty(monitor);
    assert_eq!(session, monitor, "the monitor leads a session of its own");
    assert_eq!(tty, 0, "the monitor has no controlling terminal");
    assert_ne!(monitor, std::process::id() as i32);
    let ps = ch.run(["ps"]);
    assert!(ps.success().contains(&id[..12]) && ps.stdout.contains("Up "), "{}", ps.stdout);
    let state = ch.run(["inspect", "-f", "{{.Name}} {{.State.Status}} {{.State.Running}} {{.Config.Image}}", "web"]);
    assert_eq!(state.success(), "/web running true busybox\n");
    assert_ne!(namespace_link(pid, "pid"), namespace_link(std::process::id() as i32, "pid"));
    ch.run(["rm", "-f", "web"]).expect_code(0);
    assert!(ends_and_reaped(pid), "rm -f left the container's process");
}

#[test]
fn a_monitor_killed_with_sigkill_takes_its_container_along_and_ps_and_rm_reconcile() {
    let ch = with_images("detach");
    let id = detached(&ch, &["--name", "orphan", "busybox", "sleep", "60"]);
    let pid = pid_1(&ch, "orphan");
    let (monitor, _, _) = ppid_sid_tty(pid);
    Command::new("kill").args(["-9", &monitor.to_string()]).status().unwrap();
    assert!(ends_and_reaped(pid), "the container outlived its monitor");
    let ps = ch.run(["ps", "-a"]);
    assert!(ps.success().contains("Exited (255)"), "{}", ps.stdout);
    assert!(!host::cgroups_of(&id).is_empty(), "the killed monitor could not remove the cgroup; rm must");
    ch.run(["rm", "orphan"]).expect_code(0);
    assert_eq!(host::cgroups_of(&id), Vec::<std::path::PathBuf>::new());
}

#[test]
fn a_failing_command_run_detached_exits_with_its_code_and_the_reason() {
    let ch = with_images("detach");
    let outcome = ch.run(["run", "-d", "--name", "nope", "busybox", "nosuchcommand"]);
    outcome.expect_code(127);
    assert!(outcome.stderr.contains("nosuchcommand"), "{}", outcome.dump());
    assert!(ch.run(["ps", "-a"]).success().contains("Exited (127)"));
}

// Step `namespace-files`: exec opens them all first.

#[test]
fn exec_opens_every_namespace_file_of_pid_1_before_joining_any() {
    let ch = with_images("namespace-files");
    detached(&ch, &["--name", "web", "busybox", "sleep", "60"]);
    let pid = pid_1(&ch, "web");
    let outcome = ch.run(["--trace", "exec", "web", "true"]);
    let opens: Vec<&str> = outcome
        .stderr
        .lines()
        .filter(|line| line.starts_with(&format!("open(\"/proc/{pid}/ns/")))
        .map(|line| line.split("/ns/").nth(1).unwrap().split('"').next().unwrap())
        .collect();
    assert_eq!(
        opens,
        ["ipc", "uts", "net", "pid", "mnt", "cgroup"],
        "user first (if any), then these:\n{}",
        outcome.stderr
    );
    let first_setns = outcome.stderr.find("setns(").unwrap_or(outcome.stderr.len());
    assert!(outcome.stderr.rfind("/ns/cgroup").unwrap() < first_setns, "every file is opened before any join");
}

#[test]
fn exec_of_a_stopped_container_exits_125() {
    let ch = with_images("namespace-files");
    ch.run(["run", "--name", "done", "busybox", "echo", "done"]).expect_code(0);
    let outcome = ch.run(["exec", "done", "true"]);
    outcome.expect_code(125);
    assert_eq!(outcome.stderr, "setns-exec: container done is not running\n");
}

// Step `pid-namespace`: the parent joins it, for its child.

#[test]
fn exec_joins_the_pid_namespace_in_the_parent_clones_then_returns() {
    let ch = with_images("pid-namespace");
    detached(&ch, &["--name", "web", "busybox", "sleep", "60"]);
    let outcome = ch.run(["--trace", "exec", "web", "true"]);
    let lines: Vec<&str> = outcome.stderr.lines().filter(|line| !line.starts_with("[child]")).collect();
    let at = |start: &str| lines.iter().position(|line| line.starts_with(start) && line.contains("= "));
    let (join, clone) = (at("setns("), at("clone(SIGCHLD)"));
    assert!(join.is_some() && lines[join.unwrap()].contains("CLONE_NEWPID) = 0"), "{}", outcome.stderr);
    assert!(join < clone, "the PID namespace is joined before the clone:\n{}", outcome.stderr);
    let back =
        lines[clone.unwrap()..].iter().any(|line| line.starts_with("setns(") && line.contains("CLONE_NEWPID) = 0"));
    assert!(back, "and left after it, for this process's own threads:\n{}", outcome.stderr);
}

// Step `join-order`: the exec'd process, inside.

#[test]
fn an_execd_process_shares_every_namespace_of_pid_1_and_is_a_new_process() {
    let ch = with_images("join-order");
    detached(&ch, &["--name", "web", "busybox", "sleep", "60"]);
    let pid = pid_1(&ch, "web");
    let kinds = ["ipc", "mnt", "net", "pid", "uts", "cgroup"];
    let script =
        format!("for n in {}; do readlink /proc/self/ns/$n; done; grep PPid /proc/$$/status; echo $$", kinds.join(" "));
    let outcome = ch.run(["exec", "web", "sh", "-c", &script]);
    let lines: Vec<&str> = outcome.success().lines().collect();
    for (kind, link) in kinds.iter().zip(&lines) {
        assert_eq!(*link, namespace_link(pid, kind), "the exec'd process is not in PID 1's {kind} namespace");
    }
    assert_eq!(
        lines[6].split_whitespace().collect::<Vec<_>>(),
        ["PPid:", "0"],
        "its parent is outside the PID namespace"
    );
    assert_ne!(lines[7], "1", "a new process, not PID 1");
    snapshot(&ch, "exec_inside", &outcome.stdout.lines().skip(6).map(|line| format!("{line}\n")).collect::<String>());
}

#[test]
fn an_execd_process_gets_the_containers_env_workdir_and_cgroup() {
    let ch = with_images("join-order");
    let id = detached(&ch, &["--name", "web", "busybox", "sleep", "60"]);
    let outcome = ch.run([
        "exec",
        "-e",
        "FOO=bar",
        "-w",
        "/tmp",
        "web",
        "sh",
        "-c",
        "echo $FOO $NAME $HOSTNAME; pwd; cat /proc/self/cgroup",
    ]);
    let lines: Vec<&str> = outcome.success().lines().collect();
    assert_eq!(lines[..2], [format!("bar World {}", &id[..12]).as_str(), "/tmp"]);
    assert!(
        lines[2..].iter().all(|line| line.ends_with(":/")),
        "the cgroup namespace's root is the container's:\n{}",
        outcome.stdout
    );
    // From the host: a process exec'd in the background is in the container's cgroup.
    ch.run(["exec", "-d", "web", "sleep", "55"]).expect_code(0);
    let sleeper = processes_in_pid_namespace(pid_1(&ch, "web"), "sleep")
        .into_iter()
        .find(|pid| host::cmdline(*pid).contains("55"));
    let cgroup = fs::read_to_string(format!("/proc/{}/cgroup", sleeper.expect("the exec'd sleep"))).unwrap();
    assert!(
        cgroup.lines().filter(|line| !line.contains("name=")).any(|line| line.ends_with(&format!("/rebox/{id}"))),
        "{cgroup}"
    );
}

#[test]
fn exec_exits_with_the_commands_status_126_or_127() {
    let ch = with_images("join-order");
    detached(&ch, &["--name", "web", "busybox", "sleep", "60"]);
    let runs = [
        ch.run(["exec", "web", "true"]),
        ch.run(["exec", "web", "sh", "-c", "exit 3"]),
        ch.run(["exec", "web", "/etc/passwd"]),
        ch.run(["exec", "web", "nosuchcommand"]),
    ];
    let codes: Vec<i32> = runs.iter().map(|outcome| outcome.code).collect();
    assert_eq!(codes, [0, 3, 126, 127]);
    snapshot(&ch, "exec_exit_codes", &runs.map(|outcome| outcome.transcript()).concat());
}

#[test]
fn processes_started_by_exec_die_when_pid_1_ends() {
    let ch = with_images("join-order");
    detached(&ch, &["--name", "web", "busybox", "sleep", "60"]);
    let pid = pid_1(&ch, "web");
    ch.run(["exec", "-d", "web", "sleep", "77"]).expect_code(0);
    let sleepers = processes_in_pid_namespace(pid, "sleep");
    assert_eq!(sleepers.len(), 2, "PID 1 and the exec'd sleep");
    let inside = ch.run(["exec", "web", "ps", "-o", "pid,ppid,args"]);
    inside.expect_code(0);
    snapshot(&ch, "exec_ps", &inside.transcript());
    ch.run(["rm", "-f", "web"]).expect_code(0);
    for sleeper in sleepers {
        assert!(ends_and_reaped(sleeper), "process {sleeper} outlived the container's PID 1");
    }
}

#[test]
fn an_execd_memory_hog_is_killed_under_the_containers_limit() {
    let ch = with_images("join-order");
    detached(&ch, &["--name", "small", "-m", "32m", "busybox", "sleep", "60"]);
    let outcome = ch.run(["exec", "small", "sh", "-c", "x=a; while :; do x=$x$x; done"]);
    outcome.expect_code(137);
}

#[test]
fn trace_shows_the_opens_the_setns_calls_the_cgroup_join_and_the_clone_in_order() {
    let ch = with_images("join-order");
    detached(&ch, &["--name", "web", "busybox", "sleep", "60"]);
    let outcome = ch.run(["--trace", "exec", "web", "true"]);
    outcome.expect_code(0);
    let text = host::fold_cgroup_lines(&outcome.transcript());
    snapshot(&ch, "exec_trace", &text);
}

// Step `stop`.

#[test]
fn stop_lets_a_shell_that_traps_term_exit_and_kills_one_that_does_not() {
    let ch = with_images("stop");
    detached(
        &ch,
        &[
            "--name",
            "polite",
            "busybox",
            "sh",
            "-c",
            "trap 'echo bye; exit 0' TERM; echo ready; while :; do sleep 0.1; done",
        ],
    );
    detached(&ch, &["--name", "deaf", "busybox", "sh", "-c", "echo ready; while :; do sleep 0.1; done"]);
    wait_for_log(&ch, "polite", "ready");
    wait_for_log(&ch, "deaf", "ready");
    let stops = [ch.run(["stop", "polite"]), ch.run(["stop", "-t", "1", "deaf"])];
    for stop in &stops {
        stop.expect_code(0);
    }
    let ps = ch.run(["ps", "-a"]);
    let logs = ch.run(["logs", "polite"]);
    let status = |name: &str| ps.stdout.lines().find(|line| line.ends_with(name)).unwrap_or_default().to_owned();
    assert!(status("polite").contains("Exited (0)") && logs.stdout.ends_with("bye\n"));
    assert!(status("deaf").contains("Exited (137)"), "a shell without a trap ignores SIGTERM as PID 1:\n{}", ps.stdout);
    let text = [&stops[0], &stops[1], &ps, &logs].map(|outcome| outcome.transcript()).concat();
    snapshot(&ch, "stop", &rebox_support::redact_table_times(&text));
}

#[test]
fn kill_sends_the_signal_asked_and_start_runs_the_container_again_on_its_layer() {
    let ch = with_images("stop");
    let script = "trap 'exit 5' HUP; echo run >> /runs; cat /runs; while :; do sleep 0.1; done";
    detached(&ch, &["--name", "again", "busybox", "sh", "-c", script]);
    wait_for_log(&ch, "again", "run");
    ch.run(["kill", "-s", "HUP", "again"]).expect_code(0);
    host::wait_until(|| ch.run(["ps", "-a"]).stdout.contains("Exited (5)"));
    ch.run(["start", "again"]).expect_code(0);
    host::wait_until(|| ch.run(["logs", "again"]).stdout == "run\nrun\nrun\n");
    ch.run(["kill", "again"]).expect_code(0);
    assert!(ch.run(["ps", "-a"]).stdout.contains("Exited (137)"));
}

// Step `join-network`.

#[test]
fn net_container_joins_the_other_containers_network_and_reaches_its_port() {
    let ch = with_images("join-network");
    detached(&ch, &["--name", "server", "helloworld"]);
    let server = pid_1(&ch, "server");
    let outcome = ch.run([
        "run",
        "--rm",
        "--net",
        "container:server",
        "busybox",
        "sh",
        "-c",
        "readlink /proc/self/ns/net; wget -qO- localhost:80",
    ]);
    let lines: Vec<&str> = outcome.success().lines().collect();
    assert_eq!(lines[0], namespace_link(server, "net"), "one network namespace for both");
    assert!(lines[1].starts_with("<h3>Hello World!</h3>"), "{}", outcome.stdout);
    let refused = ch.run(["run", "--rm", "--net", "container:nosuch", "busybox", "true"]);
    refused.expect_code(125);
    assert_eq!(fs::read_dir(ch.root().join("containers")).unwrap().count(), 1, "a refused run created a container");
    snapshot(&ch, "net_container", &[outcome.transcript(), refused.transcript()].concat());
}

// Step `pty`.

#[test]
fn exec_it_gives_a_terminal_from_the_containers_devpts() {
    let ch = with_images("pty");
    detached(&ch, &["--name", "web", "busybox", "sleep", "60"]);
    let output =
        terminal::drive(&ch, &["exec", "-it", "web", "sh"], "tty; echo $((6 * 7)); touch /made-by-a-person; exit\n");
    assert!(output.contains("/dev/pts/0"), "the terminal is the container's:\n{output}");
    assert!(output.contains("42"), "{output}");
    let check = ch.run(["exec", "web", "ls", "/made-by-a-person"]);
    check.expect_code(0);
}

#[test]
fn run_it_gives_the_container_a_terminal_too() {
    let ch = with_images("pty");
    let output = terminal::drive(&ch, &["run", "-it", "--rm", "busybox", "sh"], "tty; stty size; exit 4\n");
    assert!(output.contains("/dev/pts/0"), "{output}");
    assert!(output.contains("24 80"), "the window size is passed on:\n{output}");
}

// Step `port-relay`.

#[test]
fn publish_serves_the_lessons_page_on_the_host_port() {
    let ch = with_images("port-relay");
    let port = free_port();
    let run = ch.run(["run", "-d", "-p", &format!("{port}:80"), "--name", "hello", "helloworld"]);
    let id = run.success().trim().to_owned();
    let page = (0..100).find_map(|_| {
        std::thread::sleep(Duration::from_millis(20));
        let page = http_get(port);
        page.starts_with("<h3>").then_some(page)
    });
    assert_eq!(page.as_deref(), Some(format!("<h3>Hello World!</h3><b>Hostname:</b> {}<br/>\n", &id[..12]).as_str()));
    let published = ch.run(["port", "hello"]);
    assert_eq!(published.success(), format!("80/tcp -> 0.0.0.0:{port}\n"));
    assert!(ch.run(["ps"]).success().contains(&format!("0.0.0.0:{port}->80/tcp")));
    let stop = ch.run(["stop", "-t", "1", "hello"]);
    stop.expect_code(0);
    assert!(TcpStream::connect(("127.0.0.1", port)).is_err(), "the listener outlived the container");
    // The test's own GET, shown as the lesson's curl; the port, which the kernel picked, as [PORT].
    let get = format!("$ curl -s http://localhost:{port}\n{}", page.unwrap_or_default());
    let text = [run.transcript(), get, published.transcript(), stop.transcript()].concat();
    snapshot(&ch, "publish", &text.replace(&format!(":{port}"), ":[PORT]").replace(&format!(" {port}:"), " [PORT]:"));
}

#[test]
fn cli_a_host_port_in_use_refuses_the_run_and_creates_nothing() {
    let ch = with_images_for_cli();
    let taken = TcpListener::bind("0.0.0.0:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let outcome = ch.run(["run", "-d", "-p", &format!("{port}:80"), "helloworld"]);
    outcome.expect_code(125);
    assert!(outcome.stderr.contains(&format!("publish port 80: bind the host's 0.0.0.0:{port}")), "{}", outcome.dump());
    assert!(outcome.stderr.contains("Address already in use"), "{}", outcome.dump());
    assert_eq!(fs::read_dir(ch.root().join("containers")).unwrap().count(), 0, "a refused run created a container");
}

// Everything at once, then nothing left.

#[test]
fn nothing_is_left_after_detached_runs_execs_ports_and_removal() {
    let ch = with_images("port-relay");
    let mounts = mount_table();
    let port = free_port();
    let ids = [
        detached(&ch, &["-p", &format!("{port}:80"), "--name", "web1", "helloworld"]),
        detached(&ch, &["--name", "web2", "busybox", "sleep", "60"]),
    ];
    let pids = [pid_1(&ch, "web1"), pid_1(&ch, "web2")];
    ch.run(["exec", "-d", "web2", "sleep", "70"]).expect_code(0);
    ch.run(["exec", "web1", "true"]).expect_code(0);
    ch.run(["stop", "-t", "1", "web1"]).expect_code(0);
    ch.run(["rm", "-f", "web1", "web2"]).expect_code(0);
    for pid in pids {
        assert!(ends_and_reaped(pid));
    }
    for id in &ids {
        assert_eq!(host::cgroups_of(id), Vec::<std::path::PathBuf>::new(), "a cgroup is left");
    }
    assert_eq!(mount_table(), mounts, "a mount is left on the host");
    assert!(TcpStream::connect(("127.0.0.1", port)).is_err(), "a listener is left");
    assert_eq!(fs::read_dir(ch.root().join("containers")).unwrap().count(), 0);
}

#[test]
fn cli_run_help_lists_chapter_4s_options() {
    let ch = chapter!();
    let outcome = ch.run(["run", "--help"]);
    outcome.expect_code(0);
    assert!(outcome.stdout.contains("-d, --detach") && outcome.stdout.contains("-p, --publish <PORTS>"));
    snapshot(&ch, "run_help", &outcome.transcript());
}

#[test]
fn cli_bad_port_mappings_are_refused_before_anything_exists() {
    let ch = chapter!();
    for bad in ["80", "4000:80/udp", "0:80", "nohost:4000:80"] {
        let outcome: Outcome = ch.run(["run", "-p", bad, "busybox"]);
        outcome.expect_code(125);
        assert!(outcome.stderr.contains("invalid port mapping"), "{bad}: {}", outcome.dump());
    }
}
