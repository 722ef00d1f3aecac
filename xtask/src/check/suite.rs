//! Run a chapter's suite and read libtest's output: each test, whether it
//! passed, the step it confirms, the step whose `todo!()` stopped it, and why
//! it failed.
//!
//! The suite runs with `--show-output`, so the captured output of passing
//! tests is printed too: every test prints `rebox step: <id>` (see
//! `rebox_support::chapter!`), and failing ones the panic that failed them.

use anyhow::{Result, bail};
use rebox_support::STEP_MARKER;

use crate::chapters::Chapter;
use crate::process;

/// One test of a suite, as the run left it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestResult {
    /// The test function's name.
    pub name: String,
    /// Whether it passed.
    pub passed: bool,
    /// The step it confirms (`None` for tests of the command line alone).
    pub step: Option<usize>,
    /// The step whose `todo!()` failed it, if one did.
    pub todo: Option<usize>,
    /// Why it failed: the panic message or the snapshot diff, trimmed.
    pub reason: String,
}

/// Runs `package`'s suite (the learner's starter, or a solution) and reads every test's result.
pub fn run_suite(chapter: &Chapter, package: &str) -> Result<Vec<TestResult>> {
    let args = ["test", "-p", package, "--test", "suite", "--no-fail-fast", "--", "--color=never", "--show-output"];
    let mut command = process::command("cargo", &args);
    // Snapshots are the spec: never write or accept one while checking.
    command.env("INSTA_UPDATE", "no").env("INSTA_FORCE_PASS", "0").env("RUST_BACKTRACE", "0");
    let output = process::capture(command)?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let results = parse(chapter, &stdout);
    if results.is_empty() {
        bail!("the suite of {package} did not run:\n{}", String::from_utf8_lossy(&output.stderr));
    }
    Ok(results)
}

/// Reads libtest's `test <name> ... ok|FAILED` lines and each test's `---- <name> stdout ----` section.
pub fn parse(chapter: &Chapter, stdout: &str) -> Vec<TestResult> {
    let mut results = Vec::new();
    for line in stdout.lines() {
        let Some(rest) = line.strip_prefix("test ") else { continue };
        let (name, passed) = match (rest.strip_suffix(" ... ok"), rest.strip_suffix(" ... FAILED")) {
            (Some(name), _) => (name, true),
            (_, Some(name)) => (name, false),
            _ => continue,
        };
        let section = section(stdout, name).unwrap_or_default();
        let step =
            section.lines().find_map(|line| line.strip_prefix(STEP_MARKER)).and_then(|id| chapter.step_number(id));
        let todo = if passed { None } else { todo_step(chapter, section) };
        let reason = if passed { String::new() } else { reason(section) };
        results.push(TestResult { name: name.to_owned(), passed, step, todo, reason });
    }
    results.sort_by(|a, b| a.name.cmp(&b.name));
    results
}

/// The captured output of test `name`.
fn section<'a>(stdout: &'a str, name: &str) -> Option<&'a str> {
    let start = stdout.find(&format!("---- {name} stdout ----\n"))?;
    let rest = &stdout[start..];
    let rest = &rest[rest.find('\n')? + 1..];
    let end = ["\n---- ", "\nsuccesses:\n", "\nfailures:\n"].iter().filter_map(|end| rest.find(end)).min();
    Some(&rest[..end.unwrap_or(rest.len())])
}

/// The number of the step named by a `todo!()` message in `text`: `<chapter> step N of M (id): …`.
pub fn todo_step(chapter: &Chapter, text: &str) -> Option<usize> {
    let prefix = format!("{} step ", chapter.name);
    let message = text.lines().filter(|line| line.contains("not yet implemented")).find_map(|line| {
        let at = line.find(&prefix)?;
        Some(&line[at + prefix.len()..])
    })?;
    message.split_whitespace().next()?.parse().ok()
}

/// Why a test failed, as a learner wants to read it: without the step marker, backtrace notes, or blank runs.
fn reason(section: &str) -> String {
    let lines: Vec<&str> = section
        .lines()
        .filter(|line| !line.starts_with(STEP_MARKER) && !line.starts_with("note: run with `RUST_BACKTRACE"))
        .filter(|line| !line.contains("Run `cargo insta test`") && !line.contains("To update snapshots"))
        .collect();
    let text = lines.join("\n");
    let text = text.trim();
    const MAX_LINES: usize = 40;
    let mut shown: Vec<&str> = text.lines().take(MAX_LINES).collect();
    if text.lines().count() > MAX_LINES {
        shown.push("…");
    }
    shown.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHAPTER: Chapter = Chapter { name: "demo", steps: &["one", "two"] };

    #[test]
    fn each_test_carries_its_step_and_the_todo_that_stopped_it() {
        let stdout = "test a ... FAILED\ntest b ... ok\n\nsuccesses:\n\n---- b stdout ----\nrebox step: one\n\n\
                      successes:\n    b\n\nfailures:\n\n---- a stdout ----\nrebox step: two\n\n\
                      thread 'a' panicked at x.rs:1:1:\nnot yet implemented: demo step 2 of 2 (two): do two — book: demo.html#two\n\
                      note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace\n\nfailures:\n    a\n";
        let results = parse(&CHAPTER, stdout);
        assert_eq!(results.len(), 2);
        let (a, b) = (&results[0], &results[1]);
        assert_eq!((a.passed, a.step, a.todo), (false, Some(2), Some(2)));
        assert!(a.reason.contains("not yet implemented: demo step 2") && !a.reason.contains("RUST_BACKTRACE"));
        assert_eq!((b.passed, b.step, b.todo), (true, Some(1), None));
    }
}
