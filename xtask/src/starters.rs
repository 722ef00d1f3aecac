//! `sync-starters` and `reset`: write each learner starter from its solution.
//!
//! A starter is its solution with every `// EXERCISE(<step>): <hint>` …
//! `// END EXERCISE` region replaced by a `todo!()` that names the step, its
//! hint and its book section; the package and binary lose their `-solution`
//! suffix, and `ANCHOR` markers (for the book) are dropped. Nothing else
//! differs, so the book, the starters and the solutions never drift.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail, ensure};

use crate::chapters::{CHAPTERS, Chapter, Paths, workspace};

/// Writes (or, with `check`, compares) every chapter's starter.
pub fn sync(check: bool) -> Result<()> {
    let mut stale = Vec::new();
    for chapter in CHAPTERS {
        let files = generate(chapter, 0)?;
        if check {
            stale.extend(differences(chapter, &files)?);
        } else {
            write_starter(chapter, &files)?;
            eprintln!("wrote {}", chapter.starter_dir().display());
        }
    }
    ensure!(
        stale.is_empty(),
        "starters differ from their solutions; run `cargo xtask sync-starters`:\n  {}",
        stale.join("\n  ")
    );
    if check {
        eprintln!("starters match their solutions");
    }
    Ok(())
}

/// Gives a learner a fresh starter, after asking (or with `--yes`), keeping their code in `backups/`.
pub fn reset(chapter: &Chapter, yes: bool) -> Result<()> {
    let starter = chapter.starter_dir();
    if !yes {
        eprint!("replace {} with a fresh starter? your code is kept in backups/ [y/N] ", starter.display());
        let mut answer = String::new();
        std::io::stdin().read_line(&mut answer).context("read the answer")?;
        ensure!(answer.trim().eq_ignore_ascii_case("y"), "nothing changed (answer y, or pass --yes)");
    }
    let files = generate(chapter, 0)?;
    if starter.exists() {
        let backup = back_up(&starter, &workspace().join("backups"), chapter.name)?;
        eprintln!("your code is saved in {}", backup.display());
        eprintln!(
            "to get it back: rm -r {0} && cp -r {1} {0}",
            starter.strip_prefix(workspace()).unwrap_or(&starter).display(),
            backup.strip_prefix(workspace()).unwrap_or(&backup).display()
        );
    }
    write_starter(chapter, &files)?;
    eprintln!("{} is a fresh starter again; next: sudo -E cargo xtask check {}", starter.display(), chapter.name);
    Ok(())
}

/// Copies `starter` to `root/<name>-<n>`, the first number not taken, so no backup is ever overwritten.
///
/// `root` is the workspace's `backups/`: outside `target/`, which `cargo clean` empties, and ignored by git.
fn back_up(starter: &Path, root: &Path, name: &str) -> Result<PathBuf> {
    fs::create_dir_all(root).with_context(|| format!("create {}", root.display()))?;
    let taken = |n: &usize| root.join(format!("{name}-{n}")).exists();
    let n = (1..).find(|n| !taken(n)).expect("some number is free");
    let backup = root.join(format!("{name}-{n}"));
    copy_tree(starter, &backup)?;
    Ok(backup)
}

/// Writes the starter of `chapter` with its first `solved` steps done as the solution does them.
///
/// The walkthrough (`cargo xtask test`) uses it to follow a learner through the book.
pub fn write_partly_solved(chapter: &Chapter, solved: usize) -> Result<()> {
    write_starter(chapter, &generate(chapter, solved)?)
}

/// The starter's files, relative path → contents, with the first `solved` steps left solved.
fn generate(chapter: &Chapter, solved: usize) -> Result<Vec<(PathBuf, String)>> {
    let root = chapter.solution_dir();
    let mut files = Vec::new();
    let mut seen_steps = Vec::new();
    for path in list_files(&root)? {
        let relative = path.strip_prefix(&root)?.to_path_buf();
        let text = fs::read_to_string(&path).with_context(|| format!("read {}", path.display()))?;
        let text = match path.extension().and_then(|e| e.to_str()) {
            Some("rs") => starter_source(chapter, &relative, &text, solved, &mut seen_steps)?,
            Some("toml") => starter_manifest(chapter, &text),
            _ => text,
        };
        files.push((relative, text));
    }
    let mut declared: Vec<&str> = chapter.steps.to_vec();
    declared.sort_unstable();
    seen_steps.sort_unstable();
    ensure!(
        seen_steps == declared,
        "{}: EXERCISE steps in the solution {:?} differ from xtask's list {:?} (xtask/src/chapters.rs)",
        chapter.name,
        seen_steps,
        chapter.steps
    );
    Ok(files)
}

fn starter_manifest(chapter: &Chapter, text: &str) -> String {
    let header = format!(
        "# Your starter for chapter `{0}`, generated from solutions/{0} by `cargo xtask sync-starters`.\n",
        chapter.name
    );
    header + &text.replace(&chapter.solution_package(), chapter.name)
}

/// Replaces the exercise regions of one source file (but those of the first `solved` steps), and renames the solution crate.
pub fn starter_source(
    chapter: &Chapter,
    file: &Path,
    text: &str,
    solved: usize,
    steps: &mut Vec<String>,
) -> Result<String> {
    let solution_crate = chapter.solution_package().replace('-', "_");
    let starter_crate = chapter.name.replace('-', "_");
    let mut out = Vec::new();
    let mut lines = text.lines().enumerate().peekable();
    while let Some((number, line)) = lines.next() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("// ANCHOR:") || trimmed.starts_with("// ANCHOR_END:") {
            continue;
        }
        let Some(marker) = trimmed.strip_prefix("// EXERCISE(") else {
            out.push(line.replace(&solution_crate, &starter_crate));
            continue;
        };
        let at = || format!("{}:{}", file.display(), number + 1);
        let (step, hint) = marker.split_once("): ").with_context(|| format!("{}: malformed EXERCISE marker", at()))?;
        let position = chapter.step_number(step).with_context(|| format!("{}: unknown step `{step}`", at()))?;
        steps.push(step.to_owned());
        // Skip the solution up to END EXERCISE (keep it, for a solved step), then check nothing but the closing brace follows.
        let indent = &line[..line.len() - trimmed.len()];
        let mut solution = Vec::new();
        loop {
            let (_, skipped) = lines.next().with_context(|| format!("{}: EXERCISE without END EXERCISE", at()))?;
            if skipped.trim() == "// END EXERCISE" {
                break;
            }
            if !skipped.trim_start().starts_with("// ANCHOR") {
                solution.push(skipped.replace(&solution_crate, &starter_crate));
            }
        }
        while let Some((_, next)) = lines.peek() {
            if next.trim().starts_with("// ANCHOR_END:") {
                lines.next();
                continue;
            }
            if !next.trim().starts_with('}') {
                bail!("{}: code after END EXERCISE; a region must be the tail of its function", at());
            }
            break;
        }
        out.push(line.to_owned());
        if position <= solved {
            out.extend(solution);
            continue;
        }
        let message = format!(
            "{} step {position} of {} ({step}): {hint} — book: {}.html#{step}",
            chapter.name,
            chapter.steps.len(),
            chapter.name
        );
        let escaped = message.replace('\\', "\\\\").replace('"', "\\\"").replace('{', "{{").replace('}', "}}");
        // Laid out as rustfmt would, so `cargo fmt --check` passes on starters.
        if indent.len() + "todo!(\"\")".len() + escaped.chars().count() <= 120 {
            out.push(format!("{indent}todo!(\"{escaped}\")"));
        } else {
            out.push(format!("{indent}todo!(\n{indent}    \"{escaped}\"\n{indent})"));
        }
    }
    let mut text = out.join("\n") + "\n";
    if file == Path::new("src/lib.rs") || file == Path::new("src/main.rs") {
        text = allow_unused_until_done(&text);
    }
    Ok(text)
}

/// Inserts, after the crate's `//!` docs, the allow that keeps an unfinished starter quiet.
fn allow_unused_until_done(text: &str) -> String {
    let docs_end = text.lines().take_while(|line| line.starts_with("//!")).map(|line| line.len() + 1).sum::<usize>();
    let (docs, rest) = text.split_at(docs_end);
    format!(
        "{docs}\n// Until every todo!() is done, some imports and arguments are unused: this keeps the\n\
         // build quiet. Delete it when your chapter is green, to see if anything is left over.\n\
         #![allow(unused_imports, unused_variables, unused_mut, dead_code, unreachable_code)]\n{rest}"
    )
}

fn differences(chapter: &Chapter, files: &[(PathBuf, String)]) -> Result<Vec<String>> {
    let starter = chapter.starter_dir();
    let mut stale = Vec::new();
    for (relative, text) in files {
        let path = starter.join(relative);
        if fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
            stale.push(format!("{} differs", path.display()));
        }
    }
    if starter.exists() {
        for path in list_files(&starter)? {
            if !files.iter().any(|(relative, _)| starter.join(relative) == path) {
                stale.push(format!("{} has no solution counterpart", path.display()));
            }
        }
    } else {
        stale.push(format!("{} is missing", starter.display()));
    }
    Ok(stale)
}

fn write_starter(chapter: &Chapter, files: &[(PathBuf, String)]) -> Result<()> {
    let starter = chapter.starter_dir();
    if starter.exists() {
        fs::remove_dir_all(&starter).with_context(|| format!("remove {}", starter.display()))?;
    }
    for (relative, text) in files {
        let path = starter.join(relative);
        fs::create_dir_all(path.parent().unwrap())?;
        fs::write(&path, text).with_context(|| format!("write {}", path.display()))?;
    }
    Ok(())
}

/// Every file under `dir`, sorted, skipping build output.
fn list_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).with_context(|| format!("read {}", dir.display()))? {
        let path = entry?.path();
        if path.file_name().is_some_and(|name| name == "target") {
            continue;
        }
        if path.is_dir() {
            files.extend(list_files(&path)?);
        } else {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    for path in list_files(from)? {
        let target = to.join(path.strip_prefix(from)?);
        fs::create_dir_all(target.parent().unwrap())?;
        fs::copy(&path, &target).with_context(|| format!("copy {}", path.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHAPTER: Chapter = Chapter { name: "demo", steps: &["one"] };

    #[test]
    fn reset_keeps_every_backup_whole_and_numbered_outside_target() {
        let workspace = tempfile::tempdir().unwrap();
        let starter = workspace.path().join("chapters/demo");
        fs::create_dir_all(starter.join("src")).unwrap();
        fs::write(starter.join("src/lib.rs"), "// my step 1\n").unwrap();
        let backups = workspace.path().join("backups");
        let first = back_up(&starter, &backups, "demo").unwrap();
        fs::write(starter.join("src/lib.rs"), "// my step 2\n").unwrap();
        let second = back_up(&starter, &backups, "demo").unwrap();
        assert_eq!((first.file_name().unwrap(), second.file_name().unwrap()), ("demo-1".as_ref(), "demo-2".as_ref()));
        assert!(!first.starts_with(workspace.path().join("target")));
        assert_eq!(fs::read_to_string(first.join("src/lib.rs")).unwrap(), "// my step 1\n", "never overwritten");
        assert_eq!(fs::read_to_string(second.join("src/lib.rs")).unwrap(), "// my step 2\n");
    }

    #[test]
    fn a_region_becomes_a_todo_naming_the_step() {
        let solution = "fn f() -> u8 {\n    // ANCHOR: f\n    // EXERCISE(one): return \"1\"\n    1\n    // END EXERCISE\n    // ANCHOR_END: f\n}\n";
        let mut steps = Vec::new();
        let starter = starter_source(&CHAPTER, Path::new("src/f.rs"), solution, 0, &mut steps).unwrap();
        assert_eq!(
            starter,
            "fn f() -> u8 {\n    // EXERCISE(one): return \"1\"\n    todo!(\"demo step 1 of 1 (one): return \\\"1\\\" — book: demo.html#one\")\n}\n"
        );
        assert_eq!(steps, ["one"]);
        let solved = starter_source(&CHAPTER, Path::new("src/f.rs"), solution, 1, &mut steps).unwrap();
        assert_eq!(solved, "fn f() -> u8 {\n    // EXERCISE(one): return \"1\"\n    1\n}\n");
    }

    #[test]
    fn code_after_a_region_is_refused() {
        let solution = "fn f() -> u8 {\n    // EXERCISE(one): x\n    let x = 1;\n    // END EXERCISE\n    x\n}\n";
        assert!(starter_source(&CHAPTER, Path::new("src/f.rs"), solution, 0, &mut Vec::new()).is_err());
    }

    #[test]
    fn the_solution_crate_is_renamed() {
        let solution = "use demo_solution::x;\n";
        let starter = starter_source(&CHAPTER, Path::new("src/g.rs"), solution, 0, &mut Vec::new()).unwrap();
        assert_eq!(starter, "use demo::x;\n");
    }
}
