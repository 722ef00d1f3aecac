//! `cargo xtask walkthrough [<chapter>]`: follow a learner through the book,
//! one step at a time, and check that every step turns a test green.
//!
//! For each chapter, the starter is written with its first `k` steps solved
//! (as the solution solves them), for `k` from 0 to the last, and the suite
//! runs each time. Step `k` must then be done (every test of it passes), the
//! number of passing tests must have risen, and `check` must name step
//! `k + 1` next. The report lines `check` would print are shown for each
//! step. Runs only on an untouched checkout (starters as generated), and
//! leaves the starters as generated, whatever happens. Part of `cargo xtask test`.

use anyhow::{Result, bail, ensure};

use crate::chapters::{CHAPTERS, Chapter};
use crate::check::{report, run_suite, steps_done};
use crate::starters;

/// Walks every chapter, or only `only`.
pub fn run(only: Option<&Chapter>) -> Result<()> {
    starters::sync(true)
        .map_err(|err| err.context("the walkthrough rewrites the starters: run it on a clean checkout"))?;
    let chapters: Vec<&Chapter> = match only {
        Some(chapter) => vec![chapter],
        None => CHAPTERS.iter().collect(),
    };
    let walked = chapters.iter().try_for_each(|chapter| walk(chapter));
    let restored = starters::sync(false);
    walked?;
    restored
}

fn walk(chapter: &Chapter) -> Result<()> {
    let mut previous = 0;
    for solved in 0..=chapter.steps.len() {
        starters::write_partly_solved(chapter, solved)?;
        let results = run_suite(chapter, chapter.name)?;
        let passed = results.iter().filter(|test| test.passed).count();
        let text = report(chapter, &results);
        let summary: Vec<&str> =
            text.lines().filter(|line| !line.starts_with(' ') && !line.starts_with("✓ step ")).collect();
        let done = steps_done(chapter, &results);
        match solved {
            0 => eprintln!("walkthrough {}: the starter: {}", chapter.name, summary.join(" | ")),
            _ => eprintln!(
                "walkthrough {}: step {solved} written: ✓ {} | {}",
                chapter.name,
                chapter.steps[solved - 1],
                summary.join(" | ")
            ),
        }
        if solved > 0 {
            let id = chapter.steps[solved - 1];
            if !done[..solved].iter().all(|done| *done) {
                bail!("{}: after step {solved} ({id}), not every step up to it is done:\n{text}", chapter.name);
            }
            ensure!(
                passed > previous,
                "{}: step {solved} ({id}) turned no test green ({passed} pass, as before):\n{text}",
                chapter.name
            );
        }
        if solved < chapter.steps.len() {
            let next = format!("next: step {} of", solved + 1);
            ensure!(
                text.contains(&next),
                "{}: after {solved} step(s), check does not name step {} next:\n{text}",
                chapter.name,
                solved + 1
            );
        } else {
            ensure!(passed == results.len(), "{}: every step is written but tests fail:\n{text}", chapter.name);
        }
        previous = passed;
    }
    Ok(())
}
