//! `cargo xtask test`: everything CI runs, in order, stopping at the first failure.
//!
//! Set up the machine; fmt; clippy with warnings denied (starters included,
//! so they compile without warnings); starters match their solutions; every
//! solution suite and unit test; every starter suite fails, each failure
//! naming its step; the book builds and all its includes resolve; and every
//! solution suite again, in a VM with a distribution's kernel and only
//! cgroup v2 (`cargo xtask vm`), whatever this host runs.

use anyhow::{Result, bail, ensure};

use crate::chapters::CHAPTERS;
use crate::check::run_suite;
use crate::{book, process, setup, starters, vm};

/// Runs the whole pipeline.
pub fn run() -> Result<()> {
    setup::run()?;
    ensure!(process::is_root(), "the suites create namespaces, cgroups and mounts: run `sudo -E cargo xtask test`");

    process::run(process::command("cargo", &["fmt", "--all", "--check"]))?;
    process::run(process::command("cargo", &["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"]))?;
    starters::sync(true)?;

    let mut tests = process::command("cargo", &["test", "--workspace"]);
    for chapter in CHAPTERS {
        tests.args(["--exclude", chapter.name]);
    }
    tests.env("INSTA_UPDATE", "no");
    process::run(tests)?;

    for chapter in CHAPTERS {
        check_starter_fails_with_its_steps(chapter)?;
    }
    book::build()?;
    vm::run(&[])?;
    eprintln!("xtask test: all checks passed");
    Ok(())
}

/// A starter's suite must fail, every failure naming a step, and every test but the command line's must name its step.
///
/// Tests named `cli_*` check the command line, which the starter already
/// has; they may pass. Any other passing test would be one a learner gets
/// for free, and any failure without a step would send them nowhere.
fn check_starter_fails_with_its_steps(chapter: &crate::chapters::Chapter) -> Result<()> {
    eprintln!("$ cargo test -p {} --test suite   (the starter: every failure must name a step)", chapter.name);
    let results = run_suite(chapter, chapter.name)?;
    let free: Vec<&str> =
        results.iter().filter(|t| t.passed && !t.name.starts_with("cli_")).map(|t| t.name.as_str()).collect();
    let lost: Vec<&str> = results.iter().filter(|t| !t.passed && t.todo.is_none()).map(|t| t.name.as_str()).collect();
    let unclaimed: Vec<&str> =
        results.iter().filter(|t| t.step.is_none() != t.name.starts_with("cli_")).map(|t| t.name.as_str()).collect();
    let failing = results.iter().filter(|t| !t.passed).count();
    if failing == 0 || !free.is_empty() || !lost.is_empty() || !unclaimed.is_empty() {
        bail!(
            "starter `{}`: {failing} failing; passing without any step done: {free:?}; failing without naming a step: \
             {lost:?}; naming no step (only cli_* tests may) or cli_* naming one: {unclaimed:?}",
            chapter.name
        );
    }
    eprintln!("starter `{}`: {failing} tests fail, each naming its step", chapter.name);
    Ok(())
}
