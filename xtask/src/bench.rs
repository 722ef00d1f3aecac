//! `cargo xtask bench`: how fast each chapter's runtime starts a container,
//! next to the floor (`unshare`) and a real peer (`runc`), in one hyperfine
//! run; how fast chapter 3 loads an image, next to `tar -x` of its layers;
//! chapter 4's `exec` into a running container, next to `nsenter` and
//! `runc exec`, and its `-p` relay's throughput, next to a direct read; and
//! what chapter 5's volumes add to a run, and its copyData, next to `cp -a`;
//! chapter 6's `commit`, next to `tar -czf` of the same layer, and `build`
//! of the lesson's example, cold and from its cache (`commit.rs`).
//! `cargo xtask bench commit` runs chapter 6's alone.
//!
//! Targets are checked here, never by timed assertions in tests: chapter 1
//! within 1.5x of `unshare` and at least 5x faster than `runc`; chapter 3 at
//! least 3x faster than `runc`, and its `image load` within 1.3x of `tar -x`;
//! chapter 4's `exec` within 1.5x of `nsenter --all` (the floor: the same
//! joins, with no store to read and no cgroup to join) and at least 5x
//! faster than `runc exec`, and `-p` at least 70% of a direct read's
//! throughput; chapter 5's three volumes adding less than 1 ms to a run
//! (`volumes.rs`), and a run that fills a volume with copyData within 1.3x
//! of `cp -a` of the same tree; chapter 6's `commit` of a 50 MiB layer
//! within 1.3x of `tar -czf`, and a build that the cache answers whole in
//! under 50 ms (a cold build is reported, with no target). What chapter
//! 2's cgroup adds to a start is reported, with no target. Chapters 1 to 4 compare mean times; chapter 5
//! medians, since a millisecond is within the noise of a mean.
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

mod commit;
mod containers;
mod fixtures;
mod leftovers;
mod tmpfs;
mod volumes;

use std::fs;
use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, ensure};
use serde_json::Value;

use crate::process;

/// A command's run times, in seconds.
#[derive(Debug, Clone, Copy)]
pub struct Times {
    mean: f64,
    median: f64,
}

/// Which of a command's [`Times`] a target compares.
#[derive(Debug, Clone, Copy)]
enum Statistic {
    Mean,
    Median,
}

/// What a comparison of two commands' times must be.
enum Bound {
    /// The ratio, at most.
    AtMost(f64),
    /// The ratio, at least.
    AtLeast(f64),
    /// No target: the ratio is reported for what it says.
    Report(&'static str),
    /// The difference `numerator - denominator`, at most, in seconds.
    AddsAtMost(f64),
    /// The numerator's own time, at most this many seconds if given, else only reported.
    Takes(Option<f64>),
}

/// A comparison of two commands' times (`numerator / denominator`, or their difference), and its bound.
struct Target {
    what: &'static str,
    numerator: &'static str,
    denominator: &'static str,
    statistic: Statistic,
    bound: Bound,
}

impl Target {
    /// A ratio of mean times.
    const fn mean(what: &'static str, numerator: &'static str, denominator: &'static str, bound: Bound) -> Self {
        Self { what, numerator, denominator, statistic: Statistic::Mean, bound }
    }

    /// A comparison of median times.
    const fn median(what: &'static str, numerator: &'static str, denominator: &'static str, bound: Bound) -> Self {
        Self { what, numerator, denominator, statistic: Statistic::Median, bound }
    }
}

const TARGETS: &[Target] = &[
    Target::mean("ns-isolation vs unshare", "ns-isolation", "unshare", Bound::AtMost(1.5)),
    Target::mean("runc vs ns-isolation", "runc", "ns-isolation", Bound::AtLeast(5.0)),
    Target::mean(
        "cgroup-limits vs ns-isolation",
        "cgroup-limits",
        "ns-isolation",
        Bound::Report("what the cgroup step adds"),
    ),
    Target::mean("runc vs union-rootfs", "runc", "union-rootfs", Bound::AtLeast(3.0)),
    Target::mean("image load vs tar -x", "image load", "tar -x", Bound::AtMost(1.3)),
    Target::mean("exec vs nsenter", "exec", "nsenter", Bound::AtMost(1.5)),
    Target::mean("runc exec vs exec", "runc exec", "exec", Bound::AtLeast(5.0)),
    Target::mean("-p throughput vs direct", "direct read", "read through -p", Bound::AtLeast(0.7)),
    Target::median("3 volumes on run --rm", "run --rm, 3 volumes", "run --rm", Bound::AddsAtMost(0.001)),
    Target::median("copyData vs cp -a", "copyData", "cp -a", Bound::AtMost(1.3)),
    Target::median("commit vs tar -czf, 50 MiB", "commit", "tar -czf", Bound::AtMost(1.3)),
    Target::median("build, cold", "build, cold", "build, cold", Bound::Takes(None)),
    Target::median("build, all from the cache", "build, warm", "build, warm", Bound::Takes(Some(0.050))),
];

/// The solution binaries the bench runs.
const SOLUTIONS: [&str; 6] = [
    "ns-isolation-solution",
    "cgroup-limits-solution",
    "union-rootfs-solution",
    "setns-exec-solution",
    "bind-volume-solution",
    "commit-solution",
];

/// Builds in release mode, runs the benches (every chapter's, or only chapter 6's), prints the comparisons,
/// fails if a target is missed or a trace is left.
pub fn run(only: Option<&str>) -> Result<()> {
    ensure!(only.is_none_or(|name| name == "commit"), "`cargo xtask bench` runs every bench, or `commit` alone");
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
    let outcome = match only {
        Some(_) => measure_commit(&release, work.path()),
        None => measure(&release, work.path()),
    }
    .and_then(|times| report(&times));
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

/// Runs every bench in `work`; returns each command's times.
fn measure(release: &Path, work: &Path) -> Result<Vec<(String, Times)>> {
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
    means.extend(volumes::measure(&release.join("bind-volume-solution"), work, &layout)?);
    means.extend(commit::measure(&release.join("commit-solution"), work, &layout)?);
    Ok(means)
}

/// Runs chapter 6's benches alone, in `work`.
fn measure_commit(release: &Path, work: &Path) -> Result<Vec<(String, Times)>> {
    crate::image::build(work)?;
    commit::measure(&release.join("commit-solution"), work, &work.join("busybox"))
}

/// Runs chapter 4's two hyperfine runs on its running containers: `exec`, then `-p`.
fn measure_exec(running: &containers::Containers, work: &Path) -> Result<Vec<(String, Times)>> {
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

/// Runs hyperfine on `commands` (each with its `prepare` command, if given) and reads their mean and median times.
fn hyperfine(json: &Path, commands: &[(&str, String)], prepare: &[String], runs: u32) -> Result<Vec<(String, Times)>> {
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
        .map(|r| {
            let times =
                Times { mean: r["mean"].as_f64().context("mean")?, median: r["median"].as_f64().context("median")? };
            Ok((r["command"].as_str().context("command")?.to_owned(), times))
        })
        .collect()
}

/// Prints every comparison whose commands ran, and its target; returns the targets missed.
fn report(times: &[(String, Times)]) -> Result<Vec<&'static str>> {
    let time = |name: &str, statistic: Statistic| {
        let times = times.iter().find(|(n, _)| n == name).map(|(_, t)| *t);
        let times = times.with_context(|| format!("no result for {name}"))?;
        anyhow::Ok(match statistic {
            Statistic::Mean => times.mean,
            Statistic::Median => times.median,
        })
    };
    let mut missed = Vec::new();
    println!("\n{:<30} {:>9}  target", "comparison", "value");
    let ran = |name: &str| times.iter().any(|(n, _)| n == name);
    for t in TARGETS.iter().filter(|t| ran(t.numerator) && ran(t.denominator)) {
        let (numerator, denominator) = (time(t.numerator, t.statistic)?, time(t.denominator, t.statistic)?);
        let (ratio, added) = (numerator / denominator, numerator - denominator);
        let (met, value, target) = match t.bound {
            Bound::AtMost(bound) => (ratio <= bound, format!("{ratio:.2}x"), format!("<= {bound:.1}x")),
            Bound::AtLeast(bound) => (ratio >= bound, format!("{ratio:.2}x"), format!(">= {bound:.1}x")),
            Bound::Report(why) => (true, format!("{ratio:.2}x"), format!("none: {why}")),
            Bound::AddsAtMost(bound) => {
                (added <= bound, format!("{:+.2} ms", added * 1e3), format!("<= +{:.1} ms", bound * 1e3))
            }
            Bound::Takes(None) => (true, format!("{:.1} ms", numerator * 1e3), "none: reported".to_owned()),
            Bound::Takes(Some(bound)) => {
                (numerator <= bound, format!("{:.1} ms", numerator * 1e3), format!("<= {:.0} ms", bound * 1e3))
            }
        };
        let statistic = match t.statistic {
            Statistic::Mean => "mean",
            Statistic::Median => "median",
        };
        let verdict = match t.bound {
            Bound::Report(_) | Bound::Takes(None) => "",
            _ if met => " met",
            _ => " MISSED",
        };
        println!("{:<30} {value:>9}  {target} ({statistic}){verdict}", t.what);
        if !met {
            missed.push(t.what);
        }
    }
    Ok(missed)
}
