//! `check <chapter>` and `grade`: run a chapter's suite on the learner's code
//! and say, on one screen, which step comes next.
//!
//! A failing test whose binary reached a `todo!()` names its step (the
//! starter's `todo!` text); the lowest such step is the learner's next one.

use std::collections::BTreeSet;

use anyhow::{Result, bail};

use crate::chapters::{CHAPTERS, Chapter};
use crate::process;

/// What one run of a chapter's suite showed.
#[derive(Debug)]
pub struct SuiteReport {
    /// Tests that passed.
    pub passed: Vec<String>,
    /// Tests that failed, each with the step it names, if any.
    pub failed: Vec<(String, Option<Step>)>,
}

/// A step named by a `todo!()`: its number and the message the starter gives.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Step {
    /// 1-based position in the chapter.
    pub number: usize,
    /// `ns-isolation step 3 of 9 (id-maps): <hint> — book: ns-isolation.md#id-maps`.
    pub message: String,
}

/// Runs `package`'s suite (the learner's starter or a solution) and reads the result.
pub fn run_suite(chapter: &Chapter, package: &str) -> Result<SuiteReport> {
    let mut command =
        process::command("cargo", &["test", "-p", package, "--test", "suite", "--no-fail-fast", "--", "--color=never"]);
    command.env("INSTA_UPDATE", "no").env("RUST_BACKTRACE", "0");
    let output = process::capture(command)?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let report = parse(chapter, &stdout);
    if report.passed.is_empty() && report.failed.is_empty() {
        bail!("the suite of {package} did not run:\n{}", String::from_utf8_lossy(&output.stderr));
    }
    Ok(report)
}

/// Reads libtest's output: `test name ... ok|FAILED` lines and `---- name stdout ----` sections.
pub(crate) fn parse(chapter: &Chapter, stdout: &str) -> SuiteReport {
    let mut passed = Vec::new();
    let mut failed_names = BTreeSet::new();
    for line in stdout.lines() {
        if let Some(rest) = line.strip_prefix("test ") {
            if let Some(name) = rest.strip_suffix(" ... ok") {
                passed.push(name.to_owned());
            } else if let Some(name) = rest.strip_suffix(" ... FAILED") {
                failed_names.insert(name.to_owned());
            }
        }
    }
    let failed = failed_names
        .into_iter()
        .map(|name| {
            let step = section(stdout, &name).and_then(|text| named_step(chapter, text));
            (name, step)
        })
        .collect();
    SuiteReport { passed, failed }
}

/// The failure section libtest prints for `test`, from its `---- <test> stdout ----` line on.
pub(crate) fn section<'a>(stdout: &'a str, test: &str) -> Option<&'a str> {
    let start = stdout.find(&format!("---- {test} stdout ----"))?;
    let rest = &stdout[start + 5..];
    let end = rest.find("\n---- ").or_else(|| rest.find("\nfailures:")).unwrap_or(rest.len());
    Some(&rest[..end])
}

/// The step a failure names, from the `todo!()` message it quotes.
pub fn named_step(chapter: &Chapter, text: &str) -> Option<Step> {
    let prefix = format!("{} step ", chapter.name);
    text.lines().filter_map(|line| line.find(&prefix).map(|at| &line[at..])).find_map(|message| {
        let number = message[prefix.len()..].split_whitespace().next()?.parse().ok()?;
        Some(Step { number, message: message.to_owned() })
    })
}

/// `cargo xtask check <chapter>`: the learner's one-screen progress report.
pub fn run(chapter: &Chapter) -> Result<()> {
    let report = run_suite(chapter, chapter.name)?;
    let total = report.passed.len() + report.failed.len();
    println!("{}: {} of {total} tests pass", chapter.name, report.passed.len());
    if report.failed.is_empty() {
        println!("all green: chapter `{}` is done", chapter.name);
        return Ok(());
    }
    match report.failed.iter().filter_map(|(_, step)| step.clone()).min() {
        Some(step) => println!("next: {}", step.message),
        None => println!("every step is written; these tests still fail:"),
    }
    let mut waiting: std::collections::BTreeMap<usize, Vec<&str>> = Default::default();
    for (name, step) in &report.failed {
        match step {
            Some(step) => waiting.entry(step.number).or_default().push(name),
            None => println!("  {name}: fails (run `sudo -E cargo test -p {} --test suite {name}`)", chapter.name),
        }
    }
    for (number, names) in waiting {
        println!("  {} test(s) wait for step {number}: {}", names.len(), names.join(", "));
    }
    bail!("chapter `{}` is not done yet", chapter.name)
}

/// `cargo xtask grade`: every chapter of this checkout, one line each.
pub fn grade() -> Result<()> {
    println!("{:<14} {:>7}  next", "chapter", "tests");
    for chapter in CHAPTERS {
        let line = match run_suite(chapter, chapter.name) {
            Ok(report) => {
                let total = report.passed.len() + report.failed.len();
                let next = match report.failed.iter().filter_map(|(_, step)| step.clone()).min() {
                    Some(step) => format!("step {} of {}", step.number, chapter.steps.len()),
                    None if report.failed.is_empty() => "done".to_owned(),
                    None => "all steps written, some tests fail".to_owned(),
                };
                format!("{:>3}/{:<3}  {next}", report.passed.len(), total)
            }
            Err(err) => format!("  error  {}", err.to_string().lines().next().unwrap_or_default()),
        };
        println!("{:<14} {line}", chapter.name);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHAPTER: Chapter = Chapter { name: "demo", steps: &["one", "two"] };

    #[test]
    fn failures_name_their_step_and_the_lowest_comes_next() {
        let stdout = "test a ... FAILED\ntest b ... FAILED\ntest c ... ok\n\nfailures:\n\n\
                      ---- a stdout ----\nstep not done yet: demo step 2 of 2 (two): do two — book: demo.md#two\n\n\
                      ---- b stdout ----\nstep not done yet: demo step 1 of 2 (one): do one — book: demo.md#one\n\nfailures:\n    a\n    b\n";
        let report = parse(&CHAPTER, stdout);
        assert_eq!(report.passed, ["c"]);
        let next = report.failed.iter().filter_map(|(_, step)| step.clone()).min().unwrap();
        assert_eq!(next.number, 1);
        assert_eq!(next.message, "demo step 1 of 2 (one): do one — book: demo.md#one");
    }
}
