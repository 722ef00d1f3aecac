//! `cargo xtask book`: generated output, the include check, then `mdbook build`.
//!
//! Terminal output in the book is never typed by hand: the body of every
//! snapshot `tests/<chapter>/snapshots/<name>.snap` is copied to
//! `book/src/generated/<chapter>/<name>.txt` and included from there. Then
//! every `{{#include path:anchor}}` must resolve to a file and an `ANCHOR`
//! in it (mdBook only warns), and every step of every chapter must have its
//! section, `{#<step-id>}`, which the starters' `todo!()`s point at.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::chapters::{CHAPTERS, Paths, workspace};
use crate::process;

/// Builds the book into `book/build`.
pub fn build() -> Result<()> {
    let src = workspace().join("book/src");
    write_generated_output(&src)?;
    let mut problems = Vec::new();
    for page in markdown_pages(&src)? {
        problems.extend(check_includes(&page)?);
    }
    for chapter in CHAPTERS {
        let page = src.join(format!("{}.md", chapter.name));
        let text = fs::read_to_string(&page).unwrap_or_default();
        for step in chapter.steps {
            if !text.contains(&format!("{{#{step}}}")) {
                problems.push(format!(
                    "{}: no section for step `{step}` (a heading ending in {{#{step}}})",
                    page.display()
                ));
            }
        }
    }
    if !problems.is_empty() {
        bail!("the book has broken references:\n  {}", problems.join("\n  "));
    }
    process::run(process::command(&mdbook(), &["build", "book"]))?;
    eprintln!("book: {}", workspace().join("book/build/index.html").display());
    Ok(())
}

fn write_generated_output(src: &Path) -> Result<()> {
    let generated = src.join("generated");
    if generated.exists() {
        fs::remove_dir_all(&generated)?;
    }
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
    fn snapshot_headers_are_dropped() {
        assert_eq!(snapshot_body("---\nsource: x.rs\n---\n$ run\n[exit status 0]\n"), "$ run\n[exit status 0]\n");
    }
}
