//! `cargo xtask book`: generated output and solutions, the include check, then `mdbook build`.
//!
//! Nothing the book shows is typed by hand. The body of every snapshot
//! `tests/<chapter>/snapshots/<name>.snap` is copied to
//! `book/src/generated/<chapter>/<name>.txt`. Every `EXERCISE` region of a
//! solution is written, markers and `ANCHOR` lines removed and dedented, to
//! `book/src/generated/solutions/<chapter>/<step>.rs`, which the step's
//! folded solution includes. Every solution source file is also written as
//! a learner's starter has it (each region a `todo!()`), under
//! `book/src/generated/starters/<chapter>/`, so that a page can quote a
//! whole file, such as a chapter's `run.rs`, without giving a step away.
//!
//! Then every `{{#include path:anchor}}` must resolve to a file and an
//! `ANCHOR` in it (mdBook only warns), and every step of every chapter must
//! have its section, `{#<step-id>}`, which the starters' `todo!()`s point
//! at, with its solution's include in it.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::chapters::{CHAPTERS, Chapter, Paths, workspace};
use crate::{process, starters};

/// Builds the book into `book/build`.
pub fn build() -> Result<()> {
    let src = workspace().join("book/src");
    let generated = src.join("generated");
    if generated.exists() {
        fs::remove_dir_all(&generated).with_context(|| format!("remove {}", generated.display()))?;
    }
    write_generated_output(&generated)?;
    for chapter in CHAPTERS {
        write_solutions(chapter, &generated)?;
    }
    let mut problems = Vec::new();
    for page in markdown_pages(&src)? {
        problems.extend(check_includes(&page)?);
    }
    for chapter in CHAPTERS {
        let page = src.join(format!("{}.md", chapter.name));
        let text = fs::read_to_string(&page).unwrap_or_default();
        problems
            .extend(check_steps(chapter, &text).into_iter().map(|problem| format!("{}: {problem}", page.display())));
    }
    if !problems.is_empty() {
        bail!("the book has broken references:\n  {}", problems.join("\n  "));
    }
    process::run(process::command(&mdbook(), &["build", "book"]))?;
    eprintln!("book: {}", workspace().join("book/build/index.html").display());
    Ok(())
}

fn write_generated_output(generated: &Path) -> Result<()> {
    for chapter in CHAPTERS {
        let dir = chapter.snapshot_dir();
        let Ok(entries) = fs::read_dir(&dir) else { continue };
        let out = generated.join(chapter.name);
        fs::create_dir_all(&out)?;
        for entry in entries {
            let path = entry?.path();
            if path.extension().is_some_and(|e| e == "snap") {
                let text = fs::read_to_string(&path)?;
                let name = path.file_stem().unwrap().to_string_lossy();
                fs::write(out.join(format!("{name}.txt")), snapshot_body(&text))?;
            }
        }
    }
    Ok(())
}

/// An insta snapshot without its `---` … `---` header.
fn snapshot_body(text: &str) -> &str {
    text.strip_prefix("---\n").and_then(|rest| rest.split_once("\n---\n")).map_or(text, |(_, body)| body)
}

/// One `// EXERCISE(<step>): <hint>` … `// END EXERCISE` region of a solution file.
#[derive(Debug, PartialEq, Eq)]
struct Region {
    step: String,
    hint: String,
    /// The region's code: no markers, no `ANCHOR` lines, dedented.
    code: String,
}

/// Writes `generated/solutions/<chapter>/<step>.rs` for every region, and `generated/starters/<chapter>/<file>`.
fn write_solutions(chapter: &Chapter, generated: &Path) -> Result<()> {
    let root = chapter.solution_dir();
    let solutions = generated.join("solutions").join(chapter.name);
    fs::create_dir_all(&solutions)?;
    for path in rust_files(&root)? {
        let text = fs::read_to_string(&path).with_context(|| format!("read {}", path.display()))?;
        let regions = exercise_regions(&text).with_context(|| format!("read the exercises of {}", path.display()))?;
        for region in &regions {
            let out = solutions.join(format!("{}.rs", region.step));
            if out.exists() {
                bail!("{}: a second EXERCISE region for step `{}`", path.display(), region.step);
            }
            fs::write(&out, &region.code).with_context(|| format!("write {}", out.display()))?;
        }
        let relative = path.strip_prefix(&root)?;
        let view = generated.join("starters").join(chapter.name).join(relative);
        fs::create_dir_all(view.parent().unwrap())?;
        // The file exactly as `sync-starters` writes it into the learner's starter.
        let starter = starters::starter_source(chapter, relative, &text, 0, &mut Vec::new())?;
        fs::write(&view, starter).with_context(|| format!("write {}", view.display()))?;
    }
    Ok(())
}

/// Every `.rs` file under `dir`, sorted, skipping build output.
fn rust_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).with_context(|| format!("read {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() && path.file_name().is_some_and(|name| name != "target") {
            files.extend(rust_files(&path)?);
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

fn is_anchor(line: &str) -> bool {
    let line = line.trim_start();
    line.starts_with("// ANCHOR:") || line.starts_with("// ANCHOR_END:")
}

/// The `EXERCISE` regions of a source file, in order.
fn exercise_regions(text: &str) -> Result<Vec<Region>> {
    let mut regions = Vec::new();
    let mut lines = text.lines().enumerate();
    while let Some((number, line)) = lines.next() {
        let Some(marker) = line.trim_start().strip_prefix("// EXERCISE(") else { continue };
        let (step, hint) =
            marker.split_once("): ").with_context(|| format!("line {}: malformed EXERCISE marker", number + 1))?;
        let mut code = Vec::new();
        loop {
            let (_, line) =
                lines.next().with_context(|| format!("line {}: EXERCISE without END EXERCISE", number + 1))?;
            if line.trim() == "// END EXERCISE" {
                break;
            }
            if !is_anchor(line) {
                code.push(line);
            }
        }
        regions.push(Region { step: step.to_owned(), hint: hint.to_owned(), code: dedent(&code) });
    }
    Ok(regions)
}

/// The lines without the indentation they all share; blank lines stay blank.
fn dedent(lines: &[&str]) -> String {
    let indent = |line: &&str| line.len() - line.trim_start().len();
    let common = lines.iter().filter(|line| !line.trim().is_empty()).map(indent).min().unwrap_or(0);
    lines.iter().map(|line| format!("{}\n", line.get(common..).unwrap_or("").trim_end())).collect()
}

/// What is missing for the steps of `chapter` on its page: a section, or the section's folded solution.
fn check_steps(chapter: &Chapter, page: &str) -> Vec<String> {
    let mut problems = Vec::new();
    for step in chapter.steps {
        let include = format!("{{{{#include generated/solutions/{}/{step}.rs}}}}", chapter.name);
        match section(page, step) {
            None => problems.push(format!("no section for step `{step}` (a heading ending in {{#{step}}})")),
            Some(text) if !text.contains(&include) => {
                problems.push(format!("the section of step `{step}` has no folded solution: {include}"))
            }
            Some(_) => {}
        }
    }
    problems
}

/// The section whose heading ends in `{#id}`: its lines up to the next heading of the same level or above.
///
/// Lines in fenced code blocks are never headings.
fn section(page: &str, id: &str) -> Option<String> {
    let anchor = format!("{{#{id}}}");
    let level = |line: &str| {
        let hashes = line.len() - line.trim_start_matches('#').len();
        (hashes > 0 && line[hashes..].starts_with(' ')).then_some(hashes)
    };
    let mut fenced = false;
    let mut found: Option<(usize, Vec<&str>)> = None;
    for line in page.lines() {
        let heading = if fenced { None } else { level(line) };
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
        }
        match (&mut found, heading) {
            (Some((open, _)), Some(level)) if level <= *open => break,
            (Some((_, lines)), _) => lines.push(line),
            (None, Some(level)) if line.trim_end().ends_with(&anchor) => found = Some((level, vec![line])),
            (None, _) => {}
        }
    }
    found.map(|(_, lines)| lines.join("\n"))
}

fn markdown_pages(src: &Path) -> Result<Vec<PathBuf>> {
    let mut pages = Vec::new();
    for entry in fs::read_dir(src).with_context(|| format!("read {}", src.display()))? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "md") {
            pages.push(path);
        }
    }
    pages.sort();
    Ok(pages)
}

/// Every include of a page that resolves to nothing.
fn check_includes(page: &Path) -> Result<Vec<String>> {
    let text = fs::read_to_string(page)?;
    let mut problems = Vec::new();
    for (line_number, line) in text.lines().enumerate() {
        let mut rest = line;
        while let Some(start) = rest.find("{{#include ") {
            let after = &rest[start + "{{#include ".len()..];
            let Some(end) = after.find("}}") else { break };
            let target = after[..end].trim();
            let at = format!("{}:{}", page.display(), line_number + 1);
            if let Some(problem) = check_include(page, target) {
                problems.push(format!("{at}: {problem}"));
            }
            rest = &after[end..];
        }
    }
    Ok(problems)
}

fn check_include(page: &Path, target: &str) -> Option<String> {
    let (path, anchor) = match target.split_once(':') {
        Some((path, anchor)) => (path, Some(anchor)),
        None => (target, None),
    };
    let file = page.parent().unwrap().join(path);
    let Ok(text) = fs::read_to_string(&file) else {
        return Some(format!("{path} does not exist"));
    };
    match anchor {
        None => None,
        Some(anchor) if anchor.chars().all(|c| c.is_ascii_digit() || c == ':') => {
            Some(format!("{target}: quote code by anchor, not by line numbers"))
        }
        Some(anchor) if !text.contains(&format!("ANCHOR: {anchor}\n")) => {
            Some(format!("{path} has no anchor `{anchor}`"))
        }
        Some(_) => None,
    }
}

/// The `mdbook` on the PATH, else the one `cargo install` put in `$CARGO_HOME/bin`.
pub fn mdbook() -> String {
    if process::found("mdbook") {
        return "mdbook".to_owned();
    }
    let home =
        std::env::var("CARGO_HOME").unwrap_or_else(|_| format!("{}/.cargo", std::env::var("HOME").unwrap_or_default()));
    format!("{home}/bin/mdbook")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn architecture_draws_the_processes_as_the_book_does() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let diagram = fs::read_to_string(root.join("book/diagrams/processes.txt")).unwrap();
        let architecture = fs::read_to_string(root.join("ARCHITECTURE.md")).unwrap();
        assert!(
            architecture.contains(&diagram),
            "ARCHITECTURE.md must show book/diagrams/processes.txt as it is: copy it over after changing it"
        );
    }

    const CHAPTER: Chapter = Chapter { name: "demo", steps: &["one", "two"] };

    const SOURCE: &str = "\
pub fn f() -> u8 {
    // ANCHOR: f
    // EXERCISE(one): return one
    let x = 1;

    // The answer.
    x
    // END EXERCISE
    // ANCHOR_END: f
}

pub fn g() {
        // EXERCISE(two): nothing
        // ANCHOR: inner
        if true {
            g();
        }
        // ANCHOR_END: inner
        // END EXERCISE
}
";

    #[test]
    fn snapshot_headers_are_dropped() {
        assert_eq!(snapshot_body("---\nsource: x.rs\n---\n$ run\n[exit status 0]\n"), "$ run\n[exit status 0]\n");
    }

    #[test]
    fn a_region_is_its_code_alone_without_markers_or_anchors_and_dedented() {
        let regions = exercise_regions(SOURCE).unwrap();
        assert_eq!(
            regions,
            [
                Region {
                    step: "one".to_owned(),
                    hint: "return one".to_owned(),
                    code: "let x = 1;\n\n// The answer.\nx\n".to_owned()
                },
                Region {
                    step: "two".to_owned(),
                    hint: "nothing".to_owned(),
                    code: "if true {\n    g();\n}\n".to_owned()
                },
            ]
        );
    }

    #[test]
    fn a_region_without_its_end_is_refused() {
        let err = exercise_regions("fn f() {\n    // EXERCISE(one): x\n    1\n}\n").unwrap_err();
        assert!(err.to_string().contains("EXERCISE without END EXERCISE"), "{err}");
    }

    #[test]
    fn a_section_ends_at_the_next_heading_of_its_level_not_in_code() {
        let page =
            "## Step 1 {#one}\n\n```sh\n# a comment, not a heading\n```\n\n### Hints\n\nmore\n\n## Step 2 {#two}\n";
        let one = section(page, "one").unwrap();
        assert!(one.contains("# a comment") && one.contains("### Hints") && !one.contains("Step 2"), "{one}");
        assert_eq!(section(page, "two").unwrap(), "## Step 2 {#two}");
        assert_eq!(section(page, "three"), None);
    }

    #[test]
    fn every_step_needs_a_section_that_includes_its_solution() {
        let page = "## One {#one}\n\n<details>\n\n```rust\n{{#include generated/solutions/demo/one.rs}}\n```\n\n</details>\n\n\
                    ## Two {#two}\n\nNo solution here.\n\n## Later\n\n{{#include generated/solutions/demo/two.rs}}\n";
        assert_eq!(
            check_steps(&CHAPTER, page),
            ["the section of step `two` has no folded solution: {{#include generated/solutions/demo/two.rs}}"]
        );
        let problems = check_steps(&CHAPTER, "## One {#one}\n");
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[1].starts_with("no section for step `two`"), "{problems:?}");
    }
}
