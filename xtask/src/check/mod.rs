//! `check <chapter>` and `grade`: run a chapter's suite on the learner's code
//! and say, on one screen, which steps are done and which comes next.
//!
//! Every test names the step it confirms; a step is done when all its tests
//! pass and no test stops at its `todo!()`. The first step not done is the
//! learner's next one, shown with the reason each of its tests fails (the
//! step's own `todo!()`, an assertion, a snapshot diff), the page of the
//! book that explains it, and the unit tests of its module.

mod suite;

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};

pub use suite::{TestResult, parse, run_suite};

use crate::chapters::{CHAPTERS, Chapter, Paths, workspace};
use crate::{book, process};

/// Which steps of `chapter` the suite's `results` show done, in order.
pub fn steps_done(chapter: &Chapter, results: &[TestResult]) -> Vec<bool> {
    (1..=chapter.steps.len())
        .map(|number| {
            let mut tests = results.iter().filter(|test| test.step == Some(number)).peekable();
            tests.peek().is_some()
                && tests.all(|test| test.passed)
                && !results.iter().any(|test| test.todo == Some(number))
        })
        .collect()
}

/// `cargo xtask check <chapter>`: the learner's one-screen progress report.
pub fn run(chapter: &Chapter) -> Result<()> {
    refuse_changed_snapshots()?;
    let results = run_suite(chapter, chapter.name)?;
    let report = report(chapter, &results);
    print!("{report}");
    if results.iter().all(|test| test.passed) {
        return Ok(());
    }
    bail!("chapter `{}` is not done yet", chapter.name)
}

/// The report `check` prints: the count, a line per step done, then the next step and why its tests fail.
pub fn report(chapter: &Chapter, results: &[TestResult]) -> String {
    let passed = results.iter().filter(|test| test.passed).count();
    let mut out = format!("{}: {passed} of {} tests pass\n", chapter.name, results.len());
    let done = steps_done(chapter, results);
    let next = done.iter().position(|done| !done);
    for (i, id) in chapter.steps.iter().enumerate() {
        if done[i] && next.is_none_or(|next| i < next) {
            out.push_str(&format!("✓ step {} ({id})\n", i + 1));
        }
    }
    let Some(next) = next else {
        let failing: Vec<&TestResult> = results.iter().filter(|test| !test.passed).collect();
        if failing.is_empty() {
            out.push_str(&format!("all green: chapter `{}` is done\n", chapter.name));
        }
        for test in failing {
            out.push_str(&format!("✗ {} (a test of the command line)\n{}\n", test.name, indent(&test.reason)));
        }
        return out;
    };
    let (number, id) = (next + 1, chapter.steps[next]);
    out.push_str(&format!("next: step {number} of {} ({id})\n", chapter.steps.len()));
    out.push_str(&format!("  book: {}\n", book_page(chapter, id).display()));
    if let Some(module) = unit_test_module(chapter, id) {
        out.push_str(&format!("  its unit tests: sudo -E cargo test -p {} --lib {module}\n", chapter.name));
    }
    // The step's own tests, in full; a `todo!()` failure needs only its one line.
    for test in results.iter().filter(|test| !test.passed && test.step == Some(number)) {
        let reason = match test.todo == Some(number) {
            true => test.reason.lines().find(|line| line.contains("not yet implemented")).unwrap_or(&test.reason),
            false => &test.reason,
        };
        out.push_str(&format!("  ✗ {}\n{}\n", test.name, indent(reason.trim())));
    }
    let later: Vec<&TestResult> =
        results.iter().filter(|test| !test.passed && test.step.is_some_and(|step| step > number)).collect();
    let stopped_here = later.iter().filter(|test| test.todo == Some(number)).count();
    if stopped_here > 0 {
        out.push_str(&format!("  {stopped_here} test(s) of later steps stop at this step's todo!() too\n"));
    }
    let waiting = later.len() - stopped_here;
    if waiting > 0 {
        out.push_str(&format!("  {waiting} more test(s) belong to later steps\n"));
    }
    out
}

fn indent(text: &str) -> String {
    text.lines().map(|line| format!("      {line}")).collect::<Vec<_>>().join("\n")
}

/// The built page of the book for a step; builds the book first if it is missing, else names its source.
fn book_page(chapter: &Chapter, step: &str) -> PathBuf {
    let build = workspace().join("book/build");
    if !build.join("index.html").exists() {
        eprintln!("building the book once, to point at its pages (cargo xtask book)");
        if let Err(err) = book::build() {
            eprintln!("xtask: the book could not be built: {err:#}");
            return PathBuf::from(format!("book/src/{}.md (section {{#{step}}})", chapter.name));
        }
    }
    PathBuf::from(format!("{}#{step}", build.join(format!("{}.html", chapter.name)).display()))
}

/// The module whose unit tests check a step: the file of its `EXERCISE` in the library, as a test filter.
fn unit_test_module(chapter: &Chapter, step: &str) -> Option<String> {
    let src = chapter.solution_dir().join("src");
    let file = find_exercise(&src, &format!("// EXERCISE({step})"))?;
    let relative = file.strip_prefix(&src).ok()?.with_extension("");
    let module = relative.to_string_lossy().replace('/', "::").trim_end_matches("::mod").to_owned();
    (module != "main" && module != "cli").then(|| format!("{module}::"))
}

fn find_exercise(dir: &Path, marker: &str) -> Option<PathBuf> {
    for entry in std::fs::read_dir(dir).ok()?.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if let Some(found) = find_exercise(&path, marker) {
                return Some(found);
            }
        } else if std::fs::read_to_string(&path).is_ok_and(|text| text.contains(marker)) {
            return Some(path);
        }
    }
    None
}

/// Snapshots are the spec: a learner never accepts one, so a changed or new snapshot fails the check.
pub fn refuse_changed_snapshots() -> Result<()> {
    refuse_changed_snapshots_in(&crate::chapters::workspace())
}

/// [`refuse_changed_snapshots`] for the git checkout at `root`; a directory that is no checkout passes.
fn refuse_changed_snapshots_in(root: &std::path::Path) -> Result<()> {
    let mut status = process::command("git", &["status", "--porcelain", "--untracked-files=all", "--", "tests"]);
    status.env_remove("GIT_DIR").current_dir(root);
    let Ok(output) = process::capture(status) else { return Ok(()) };
    let changed: Vec<String> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|line| line.contains("/snapshots/"))
        .map(|line| line[3..].to_owned())
        .collect();
    if changed.is_empty() {
        return Ok(());
    }
    bail!(
        "snapshots differ from git: {}\n\
         The snapshots are the spec: a learner never accepts one. Put them back with\n  \
         git checkout -- tests/ && git clean -f -- tests/",
        changed.join(", ")
    )
}

/// `cargo xtask grade`: every chapter of this checkout, one line each.
pub fn grade() -> Result<()> {
    println!("{:<14} {:>7} {:>7}  next", "chapter", "steps", "tests");
    for chapter in CHAPTERS {
        let line = match run_suite(chapter, chapter.name) {
            Ok(results) => {
                let done = steps_done(chapter, &results);
                let steps = done.iter().filter(|done| **done).count();
                let passed = results.iter().filter(|test| test.passed).count();
                let next = match done.iter().position(|done| !done) {
                    Some(i) => format!("step {} ({})", i + 1, chapter.steps[i]),
                    None if passed == results.len() => "done".to_owned(),
                    None => "every step done; a test of the command line fails".to_owned(),
                };
                let total = chapter.steps.len();
                format!("{:>7} {:>7}  {next}", format!("{steps}/{total}"), format!("{passed}/{}", results.len()))
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

    const CHAPTER: Chapter = Chapter { name: "demo", steps: &["one", "two", "three"] };

    #[test]
    fn a_changed_or_new_snapshot_fails_the_check_and_says_how_to_put_it_back() {
        let repo = tempfile::tempdir().unwrap();
        let git = |args: &[&str]| {
            let status = std::process::Command::new("git").args(args).current_dir(repo.path()).status().unwrap();
            assert!(status.success(), "git {args:?}");
        };
        let snapshots = repo.path().join("tests/demo/snapshots");
        std::fs::create_dir_all(&snapshots).unwrap();
        std::fs::write(snapshots.join("trace.snap"), "sethostname(\"box\", 3) = 0\n").unwrap();
        git(&["init", "-q"]);
        git(&["add", "."]);
        git(&["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "the spec"]);
        assert!(refuse_changed_snapshots_in(repo.path()).is_ok(), "an untouched checkout passes");
        std::fs::write(snapshots.join("trace.snap"), "sethostname(\"oops\", 4) = 0\n").unwrap();
        let err = refuse_changed_snapshots_in(repo.path()).unwrap_err().to_string();
        assert!(err.contains("tests/demo/snapshots/trace.snap") && err.contains("git checkout -- tests/"), "{err}");
        git(&["checkout", "--", "tests/"]);
        std::fs::write(snapshots.join("accepted.snap.new"), "").unwrap();
        std::fs::write(snapshots.join("accepted.snap"), "").unwrap();
        assert!(refuse_changed_snapshots_in(repo.path()).is_err(), "a new snapshot fails too");
    }

    fn test(name: &str, passed: bool, step: usize, todo: Option<usize>) -> TestResult {
        TestResult { name: name.to_owned(), passed, step: Some(step), todo, reason: "why".to_owned() }
    }

    #[test]
    fn a_step_is_done_when_its_tests_pass_and_none_stops_at_its_todo() {
        let results = [test("a", true, 1, None), test("b", false, 2, Some(2)), test("c", false, 3, Some(2))];
        assert_eq!(steps_done(&CHAPTER, &results), [true, false, false]);
        let report = report(&CHAPTER, &results);
        assert!(report.starts_with("demo: 1 of 3 tests pass\n✓ step 1 (one)\nnext: step 2 of 3 (two)\n"), "{report}");
        assert!(
            report.contains("  ✗ b\n      why\n  1 test(s) of later steps stop at this step's todo!() too\n"),
            "{report}"
        );
    }

    #[test]
    fn a_wrong_step_without_a_todo_is_still_named_with_its_reason() {
        let results = [test("a", true, 1, None), test("b", false, 2, None), test("c", true, 3, None)];
        let report = report(&CHAPTER, &results);
        assert!(report.contains("next: step 2 of 3 (two)") && report.contains("✗ b\n      why"), "{report}");
    }
}
