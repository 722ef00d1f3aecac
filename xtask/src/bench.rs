//! `cargo xtask bench`: how fast each chapter's runtime starts a container,
//! next to the floor (`unshare`) and a real peer (`runc`), in one hyperfine
//! run; how fast chapter 3 loads an image, next to `tar -x` of its layers;
//! and chapter 4's `exec` into a running container, next to `nsenter` and
//! `runc exec`, and its `-p` relay's throughput, next to a direct read.
//!
//! Targets are checked here, never by timed assertions in tests: chapter 1
//! within 1.5x of `unshare` and at least 5x faster than `runc`; chapter 3 at
//! least 3x faster than `runc`, and its `image load` within 1.3x of `tar -x`;
//! chapter 4's `exec` within 1.5x of `nsenter --all` (the floor: the same
//! joins, with no store to read and no cgroup to join) and at least 5x
//! faster than `runc exec`, and `-p` at least 70% of a direct read's
//! throughput. What chapter 2's cgroup adds to a start is reported, with no
//! target.
//!
//! The `-p` comparison is made fair this way: one server, busybox's
//! `nc -ll` in a detached container, sends 200 MiB to each connection
//! (`containers.rs`), and one client, bash reading `/dev/tcp/127.0.0.1/<port>`
//! into `/dev/null`, reads it twice over: once from the host's network
//! namespace through the published port (the monitor accepts, connects a
//! socket in the container's namespace, and splices), once from inside the
//! container's network namespace, from the server's own port 80. Both
//! clients start under `nsenter --net`, into the host's namespace or the
//! container's, so that they do the same work but the relay. Before the
//! timing, each read is checked to get every byte. The ratio of mean times,
//! direct over relayed, is the relay's share of the direct throughput.
//!
//! Everything the bench makes (stores, runc bundles and their state,
//! detached containers) lives in one temporary directory under the target
//! directory, or is removed at the end; the bench fails if a mount, a
//! cgroup, a process of its own or a listening socket is left on the host.

mod containers;
mod fixtures;
mod leftovers;

use std::fs;
use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, ensure};
use serde_json::Value;

use crate::process;

/// What a ratio of mean times must be.
enum Bound {
    AtMost(f64),
    AtLeast(f64),
    /// No target: the ratio is reported for what it says.
    Report(&'static str),
}

/// A ratio `numerator / denominator` of two commands' mean times, and its bound.
struct Target {
    what: &'static str,
    numerator: &'static str,
    denominator: &'static str,
    bound: Bound,
}

const TARGETS: &[Target] = &[
    Target {
        what: "ns-isolation vs unshare",
        numerator: "ns-isolation",
        denominator: "unshare",
        bound: Bound::AtMost(1.5),
    },
    Target { what: "runc vs ns-isolation", numerator: "runc", denominator: "ns-isolation", bound: Bound::AtLeast(5.0) },
    Target {
        what: "cgroup-limits vs ns-isolation",
        numerator: "cgroup-limits",
        denominator: "ns-isolation",
        bound: Bound::Report("what the cgroup step adds"),
    },
    Target { what: "runc vs union-rootfs", numerator: "runc", denominator: "union-rootfs", bound: Bound::AtLeast(3.0) },
    Target { what: "image load vs tar -x", numerator: "image load", denominator: "tar -x", bound: Bound::AtMost(1.3) },
    Target { what: "exec vs nsenter", numerator: "exec", denominator: "nsenter", bound: Bound::AtMost(1.5) },
    Target { what: "runc exec vs exec", numerator: "runc exec", denominator: "exec", bound: Bound::AtLeast(5.0) },
    Target {
        what: "-p throughput vs direct",
        numerator: "direct read",
        denominator: "read through -p",
        bound: Bound::AtLeast(0.7),
    },
];

/// The solution binaries the bench runs.
const SOLUTIONS: [&str; 4] =
    ["ns-isolation-solution", "cgroup-limits-solution", "union-rootfs-solution", "setns-exec-solution"];

/// Builds in release mode, runs hyperfine twice, prints the ratios, fails if a target is missed or a trace is left.
pub fn run() -> Result<()> {
    crate::setup::run()?;
    ensure!(process::is_root(), "the bench creates namespaces, cgroups and mounts: run `sudo -E cargo xtask bench`");
    let mut build = process::command("cargo", &["build", "--release", "--quiet"]);
    for package in SOLUTIONS {
        build.args(["--package", package]);
    }
    process::run(build)?;
    let target = process::target_dir()?;
    let release = target.join("release");
    let before = leftovers::Host::now(&release)?;
    let work = tempfile::Builder::new()
        .prefix("bench-")
        .tempdir_in(&target)
        .with_context(|| format!("create a bench directory in {}", target.display()))?;
    let outcome = measure(&release, work.path()).and_then(|means| report(&means));
    let dir = work.path().display().to_string();
    let removed = work.close().with_context(|| format!("remove the bench directory {dir}"));
    let cleaned = removed.and_then(|()| leftovers::check_since(&before, &release));
    if let (Err(_), Err(err)) = (&outcome, &cleaned) {
        eprintln!("xtask: {err:#}");
    }
    let missed = outcome?;
    cleaned?;
    ensure!(missed.is_empty(), "targets missed: {}", missed.join(", "));
    Ok(())
}

/// Runs both hyperfine runs in `work`; returns each command's mean time, in seconds.
fn measure(release: &Path, work: &Path) -> Result<Vec<(String, f64)>> {
    let bin = |name: &str| release.join(name).display().to_string();
    let bundle = fixtures::runc_bundle(work, "runc-bundle", &["/bin/true"])?;
    crate::image::build(work)?;
    let layout = work.join("busybox");
    let store = work.join("store");
    let mut load = Command::new(release.join("union-rootfs-solution"));
    load.arg("--root").arg(&store).args(["image", "load"]).arg(&layout);
    process::run(load)?;

    let runc_state = work.join("runc-state");
    let start = [
        ("unshare", "unshare --pid --fork --mount --uts --ipc --net /bin/true".to_owned()),
        ("ns-isolation", format!("{} run -- /bin/true", bin("ns-isolation-solution"))),
        ("cgroup-limits", format!("{} run -m 64m --pids-limit 64 -- /bin/true", bin("cgroup-limits-solution"))),
        (
            "union-rootfs",
            format!("{} --root {} run --rm busybox /bin/true", bin("union-rootfs-solution"), store.display()),
        ),
        ("runc", format!("runc --root {} run --bundle {} rebox-bench", runc_state.display(), bundle.display())),
    ];
    let mut means = hyperfine(&work.join("start.json"), &start, &[], 200)?;

    let (fresh_store, untarred) = (work.join("fresh-store"), work.join("untarred"));
    let layers: Vec<String> = fixtures::layer_blobs(&layout)?.iter().map(|blob| blob.display().to_string()).collect();
    let unpack = format!(
        "sh -ec 'i=0; for layer; do i=$((i+1)); mkdir -p {0}/$i; tar -xzf \"$layer\" -C {0}/$i; done' sh {1}",
        untarred.display(),
        layers.join(" ")
    );
    let load = [
        (
            "image load",
            format!(
                "{} --root {} image load {}",
                bin("union-rootfs-solution"),
                fresh_store.display(),
                layout.display()
            ),
        ),
        ("tar -x", unpack),
    ];
    let prepare = [format!("rm -rf {}", fresh_store.display()), format!("rm -rf {}", untarred.display())];
    means.extend(hyperfine(&work.join("load.json"), &load, &prepare, 50)?);
    let setns_exec = release.join("setns-exec-solution");
    means.extend(containers::with_containers(&setns_exec, work, &layout, |running| measure_exec(running, work))?);
    Ok(means)
}

/// Runs chapter 4's two hyperfine runs on its running containers: `exec`, then `-p`.
fn measure_exec(running: &containers::Containers, work: &Path) -> Result<Vec<(String, f64)>> {
    let exec = [
        (
            "exec",
            format!("{} --root {} exec exec-target /bin/true", running.setns_exec.display(), running.store.display()),
        ),
        ("nsenter", format!("nsenter --target {} --all /bin/true", running.exec_target)),
        (
            "runc exec",
            format!("runc --root {} exec {} /bin/true", running.runc_state.display(), containers::RUNC_CONTAINER),
        ),
    ];
    let mut means = hyperfine(&work.join("exec.json"), &exec, &[], 200)?;

    let read = |port: u16| format!("bash -c 'cat </dev/tcp/127.0.0.1/{port} >/dev/null'");
    let relayed = format!("nsenter --net=/proc/self/ns/net {}", read(running.port));
    let direct = format!("nsenter --net=/proc/{}/ns/net {}", running.relay, read(80));
    for (what, reader) in [("read through -p", &relayed), ("direct read", &direct)] {
        containers::check_reads_everything(what, &reader.replace(">/dev/null", ""))?;
    }
    let relay = [("read through -p", relayed), ("direct read", direct)];
    means.extend(hyperfine(&work.join("relay.json"), &relay, &[], 30)?);
    Ok(means)
}

/// Runs hyperfine on `commands` (each with its `prepare` command, if given) and reads their mean times.
fn hyperfine(json: &Path, commands: &[(&str, String)], prepare: &[String], runs: u32) -> Result<Vec<(String, f64)>> {
    let runs = runs.to_string();
    let mut hyperfine = process::command("hyperfine", &["-N", "--warmup", "10", "--runs", &runs, "--export-json"]);
    hyperfine.arg(json);
    for command in prepare {
        hyperfine.args(["--prepare", command]);
    }
    for (name, command) in commands {
        hyperfine.args(["--command-name", name, command]);
    }
    process::run(hyperfine)?;
    let text = fs::read_to_string(json).with_context(|| format!("read {}", json.display()))?;
    let value: Value = serde_json::from_str(&text).with_context(|| format!("parse {}", json.display()))?;
    let results = value["results"].as_array().with_context(|| format!("{} has no results", json.display()))?;
    results
        .iter()
        .map(|r| Ok((r["command"].as_str().context("command")?.to_owned(), r["mean"].as_f64().context("mean")?)))
        .collect()
}

/// Prints every ratio and its target; returns the targets missed.
fn report(means: &[(String, f64)]) -> Result<Vec<&'static str>> {
    let mean = |name: &str| {
        means.iter().find(|(n, _)| n == name).map(|(_, m)| *m).with_context(|| format!("no result for {name}"))
    };
    let mut missed = Vec::new();
    println!("\n{:<30} {:>8}  target", "ratio (mean time)", "value");
    for t in TARGETS {
        let ratio = mean(t.numerator)? / mean(t.denominator)?;
        let (met, target) = match t.bound {
            Bound::AtMost(bound) => (ratio <= bound, format!("<= {bound:.1}x")),
            Bound::AtLeast(bound) => (ratio >= bound, format!(">= {bound:.1}x")),
            Bound::Report(why) => (true, format!("none: {why}")),
        };
        let verdict = match t.bound {
            Bound::Report(_) => "",
            _ if met => " met",
            _ => " MISSED",
        };
        println!("{:<30} {ratio:>7.2}x  {target}{verdict}", t.what);
        if !met {
            missed.push(t.what);
        }
    }
    Ok(missed)
}
