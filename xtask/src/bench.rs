//! `cargo xtask bench`: how fast each chapter's runtime starts a container,
//! next to the floor (`unshare`) and a real peer (`runc`), in one hyperfine run.
//!
//! Targets are checked here, never by timed assertions in tests: chapter 1
//! within 1.5x of `unshare`, and at least 5x faster than `runc`.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, ensure};
use serde_json::Value;

use crate::process;

/// A target: `numerator / denominator` must be at most (or at least) `bound`.
struct Target {
    what: &'static str,
    numerator: &'static str,
    denominator: &'static str,
    at_most: bool,
    bound: f64,
}

const TARGETS: &[Target] = &[
    Target {
        what: "ns-isolation vs unshare",
        numerator: "ns-isolation",
        denominator: "unshare",
        at_most: true,
        bound: 1.5,
    },
    Target { what: "runc vs ns-isolation", numerator: "runc", denominator: "ns-isolation", at_most: false, bound: 5.0 },
];

/// Builds in release mode, runs hyperfine, prints the ratios, fails if a target is missed.
pub fn run() -> Result<()> {
    crate::setup::run()?;
    ensure!(process::is_root(), "the bench creates namespaces: run `sudo -E cargo xtask bench`");
    process::run(process::command("cargo", &["build", "--release", "--quiet", "-p", "ns-isolation-solution"]))?;
    let target = process::target_dir()?;
    let work = target.join("bench");
    let bundle = runc_bundle(&work)?;
    let ns = target.join("release/ns-isolation-solution");

    let commands = [
        ("unshare", "unshare --pid --fork --mount --uts --ipc --net /bin/true".to_owned()),
        ("ns-isolation", format!("{} run -- /bin/true", ns.display())),
        (
            "runc",
            format!("runc --root {} run --bundle {} rebox-bench", work.join("runc-state").display(), bundle.display()),
        ),
    ];
    let json = work.join("hyperfine.json");
    let mut hyperfine = process::command("hyperfine", &["-N", "--warmup", "10", "--runs", "200", "--export-json"]);
    hyperfine.arg(&json);
    for (name, command) in &commands {
        hyperfine.args(["--command-name", name, command]);
    }
    process::run(hyperfine)?;

    let means = read_means(&json)?;
    let mean = |name: &str| means.iter().find(|(n, _)| n == name).map(|(_, m)| *m).context("missing result");
    let mut missed = Vec::new();
    println!("\n{:<28} {:>8}  target", "ratio (mean time)", "value");
    for t in TARGETS {
        let ratio = mean(t.numerator)? / mean(t.denominator)?;
        let met = if t.at_most { ratio <= t.bound } else { ratio >= t.bound };
        let bound = format!("{} {:.1}x", if t.at_most { "<=" } else { ">=" }, t.bound);
        println!("{:<28} {ratio:>7.2}x  {bound} {}", t.what, if met { "met" } else { "MISSED" });
        if !met {
            missed.push(t.what);
        }
    }
    ensure!(missed.is_empty(), "targets missed: {}", missed.join(", "));
    Ok(())
}

/// A runc bundle whose rootfs is busybox and whose process is `/bin/true`.
fn runc_bundle(work: &Path) -> Result<PathBuf> {
    let bundle = work.join("runc-bundle");
    let rootfs = bundle.join("rootfs");
    for dir in ["bin", "proc", "sys", "dev", "tmp", "etc"] {
        fs::create_dir_all(rootfs.join(dir))?;
    }
    let busybox = rootfs.join("bin/busybox");
    if !busybox.exists() {
        fs::copy("/bin/busybox", &busybox).context("copy /bin/busybox into the runc bundle")?;
    }
    let true_link = rootfs.join("bin/true");
    if fs::symlink_metadata(&true_link).is_err() {
        std::os::unix::fs::symlink("busybox", &true_link)?;
    }
    let config = bundle.join("config.json");
    if config.exists() {
        fs::remove_file(&config)?;
    }
    let mut spec = process::command("runc", &["spec"]);
    spec.current_dir(&bundle);
    process::run(spec)?;
    let mut json: Value = serde_json::from_str(&fs::read_to_string(&config)?)?;
    json["process"]["terminal"] = Value::Bool(false);
    json["process"]["args"] = serde_json::json!(["/bin/true"]);
    fs::write(&config, serde_json::to_string_pretty(&json)?)?;
    Ok(bundle)
}

fn read_means(json: &Path) -> Result<Vec<(String, f64)>> {
    let value: Value = serde_json::from_str(&fs::read_to_string(json)?)?;
    let results = value["results"].as_array().context("hyperfine JSON has no results")?;
    results
        .iter()
        .map(|r| Ok((r["command"].as_str().context("command")?.to_owned(), r["mean"].as_f64().context("mean")?)))
        .collect()
}
