//! `cargo xtask demo`: the workshop's end-to-end demo, every chapter so far.
//!
//! Chapters 1 to 5 each run their own short session; the last, chapter 6's
//! (`commit.rs`), replays the whole lesson in its order, on the runtime that
//! does all of it, and writes the transcript the book's last page shows.
//! `cargo xtask demo <chapter>` runs one chapter's demo.
//!
//! Each step prints the command, then runs it, so the demo reads like a
//! terminal session. Steps run with `sh -e`: a step fails if any of its
//! commands fails, except where the failure is the point, shown with
//! `|| echo "exit $?"`. It builds the reference solutions first, and runs each
//! chapter's binary under the name a learner types (`$NS` is shown as
//! `ns-isolation`). A chapter whose step fails stops there; its clean-up runs
//! anyway, the next chapter goes on, and the demo fails at the end.

mod bind_volume;
mod cgroup_limits;
mod commit;
mod ns_isolation;
mod setns_exec;
mod union_rootfs;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail, ensure};

use crate::process;
use crate::setup;

/// One command of the demo and why it is shown.
pub struct Step {
    say: &'static str,
    shell: &'static str,
}

/// Shell variables the steps of a chapter use, and their values (`REBOX_ROOT`, a path).
type Vars = Vec<(&'static str, PathBuf)>;

/// One chapter's demo.
pub struct Chapter {
    /// The chapter's name, which is also the binary a learner runs.
    name: &'static str,
    /// The shell variable that holds the path of the chapter's binary in the steps (`NS` for `$NS`).
    var: &'static str,
    /// Prepares what the steps need in the chapter's own directory; returns the variables that name it.
    prepare: fn(&Path) -> Result<Vars>,
    /// Removes what the steps may have left outside that directory, whether they succeeded or not.
    clean_up: fn(&Path, &Path) -> Result<()>,
    steps: &'static [Step],
}

/// Every chapter's demo, in the workshop's order.
const DEMOS: &[Chapter] =
    &[ns_isolation::DEMO, cgroup_limits::DEMO, union_rootfs::DEMO, setns_exec::DEMO, bind_volume::DEMO];

/// Builds the solutions and runs every chapter's demo, or only `only`'s.
pub fn run(only: Option<&str>) -> Result<()> {
    let known: Vec<&str> = DEMOS.iter().map(|demo| demo.name).chain([commit::NAME]).collect();
    if let Some(name) = only {
        ensure!(known.contains(&name), "no demo for `{name}`; demos: {}", known.join(", "));
    }
    setup::run()?;
    ensure!(process::is_root(), "the demo creates namespaces, cgroups and mounts: run `sudo -E cargo xtask demo`");
    let mut build = process::command("cargo", &["build", "--quiet", "--bins"]);
    for name in &known {
        build.args(["--package", &format!("{name}-solution")]);
    }
    process::run(build)?;
    let work = runnable_by_anyone(&process::target_dir()?.join("debug"), &known)?;
    let mut failed = Vec::new();
    for demo in DEMOS.iter().filter(|demo| only.is_none_or(|name| name == demo.name)) {
        println!("\n=== chapter {} ===", demo.name);
        if let Err(err) = run_chapter(demo, work.path()) {
            eprintln!("xtask: the demo of {} failed: {err:#}", demo.name);
            failed.push(demo.name);
        }
    }
    if only.is_none_or(|name| name == commit::NAME) {
        println!("\n=== chapter {}: the lesson, replayed ===", commit::NAME);
        if let Err(err) = commit::run(work.path()) {
            eprintln!("xtask: the demo of {} failed: {err:#}", commit::NAME);
            failed.push(commit::NAME);
        }
    }
    let dir = work.path().display().to_string();
    let removed = work.close().with_context(|| format!("remove the demo's directory {dir}"));
    if !failed.is_empty() {
        if let Err(err) = removed {
            eprintln!("xtask: {err:#}");
        }
        bail!("the demo failed in: {}", failed.join(", "));
    }
    removed?;
    println!("\ndemo finished: every chapter ran on this machine, and the lesson was replayed on the last");
    Ok(())
}

/// Runs one chapter's steps in its own directory, then cleans up, however the steps ended.
fn run_chapter(demo: &Chapter, work: &Path) -> Result<()> {
    let dir = work.join(demo.name);
    fs::create_dir(&dir).with_context(|| format!("create {}", dir.display()))?;
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o755))
        .with_context(|| format!("chmod 755 {}", dir.display()))?;
    let binary = work.join(solution(demo));
    let ran = (demo.prepare)(&dir).and_then(|vars| run_steps(demo, &binary, &vars));
    if ran.is_err() {
        eprintln!("\nxtask: the demo of {} stopped; cleaning up", demo.name);
    }
    let cleaned = (demo.clean_up)(&dir, &binary);
    let removed = fs::remove_dir_all(&dir).with_context(|| format!("remove {}", dir.display()));
    ran.and(cleaned).and(removed)
}

/// Prints each step and runs it with `sh -ec`; stops at the first that fails.
fn run_steps(demo: &Chapter, binary: &Path, vars: &Vars) -> Result<()> {
    for step in demo.steps {
        println!("\n# {}", step.say);
        let shown = step.shell.replace(&format!("${}", demo.var), demo.name);
        for (i, line) in shown.lines().enumerate() {
            println!("{} {line}", if i == 0 { "$" } else { " " });
        }
        let mut command = process::command("sh", &["-ec", step.shell]);
        command.env(demo.var, binary).envs(vars.iter().map(|(name, value)| (name, value)));
        process::run_quietly(command).with_context(|| format!("step `{}`", step.say))?;
    }
    Ok(())
}

/// Copies the solution binaries into a fresh directory the demo's unprivileged
/// user can enter (the build directory may be under a home only its owner can).
fn runnable_by_anyone(build: &Path, chapters: &[&str]) -> Result<tempfile::TempDir> {
    let dir = tempfile::Builder::new().prefix("rebox-demo-").tempdir().context("create the demo's directory")?;
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755))
        .with_context(|| format!("chmod 755 {}", dir.path().display()))?;
    for chapter in chapters {
        let name = format!("{chapter}-solution");
        let copy = dir.path().join(&name);
        fs::copy(build.join(&name), &copy).with_context(|| format!("copy {name} into {}", dir.path().display()))?;
        fs::set_permissions(&copy, fs::Permissions::from_mode(0o755))
            .with_context(|| format!("chmod 755 {}", copy.display()))?;
    }
    Ok(dir)
}

/// The reference solution's package and binary.
fn solution(demo: &Chapter) -> String {
    format!("{}-solution", demo.name)
}

/// For chapters whose steps need nothing prepared.
fn nothing_to_prepare(_dir: &Path) -> Result<Vars> {
    Ok(Vec::new())
}

/// For chapters whose steps leave nothing outside their directory.
fn nothing_to_clean_up(_dir: &Path, _binary: &Path) -> Result<()> {
    Ok(())
}
