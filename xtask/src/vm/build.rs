//! Building what the VM runs: each chapter's suite executable and its binary.
//!
//! `cargo test --no-run --message-format=json` builds them and names the
//! files. The suites find their binary through the absolute path cargo
//! compiled in (`CARGO_BIN_EXE_<package>`), and their snapshots through the
//! workspace's path, so the VM puts both at the same paths as on the host.

use std::path::PathBuf;
use std::process::Stdio;

use anyhow::{Context, Result, bail};
use serde_json::Value;

use crate::chapters::{CHAPTERS, Chapter, Paths};
use crate::process;

/// Whose code a suite runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    /// The reference solutions (`<chapter>-solution`).
    Solution,
    /// The learner's starters (`<chapter>`).
    Starter,
}

/// One chapter's suite, built.
#[derive(Debug)]
pub struct Suite {
    pub chapter: &'static Chapter,
    /// The package's directory, where cargo runs its tests from.
    pub package_dir: PathBuf,
    /// The test executable (`target/debug/deps/suite-<hash>`).
    pub executable: PathBuf,
    /// The chapter's binary (`target/debug/<package>`), which the suite runs.
    pub binary: PathBuf,
}

/// Builds the suites of `chapters` and returns where cargo put them.
///
/// For the solutions, the packages are chosen as `cargo xtask test` chooses
/// them (the workspace without the starters), so both build the same
/// artifacts and neither rebuilds after the other.
pub fn suites(chapters: &[&'static Chapter], code: Code) -> Result<Vec<Suite>> {
    let mut build = process::command("cargo", &["test", "--no-run", "--message-format=json-render-diagnostics"]);
    match code {
        Code::Solution => {
            build.arg("--workspace");
            for chapter in CHAPTERS {
                build.args(["--exclude", chapter.name]);
            }
        }
        Code::Starter => {
            for chapter in chapters {
                build.args(["--package", chapter.name]);
            }
        }
    }
    build.args(["--test", "suite"]).stdout(Stdio::piped()).stderr(Stdio::inherit());
    eprintln!("$ cargo test --no-run --test suite   (the suites the VM runs)");
    let output = build.output().context("start `cargo test --no-run`")?;
    if !output.status.success() {
        bail!("building the suites failed ({})", output.status);
    }
    let artifacts: Vec<Value> =
        String::from_utf8_lossy(&output.stdout).lines().filter_map(|line| serde_json::from_str(line).ok()).collect();
    chapters.iter().map(|chapter| find(chapter, code, &artifacts)).collect()
}

/// The suite and the binary of `chapter`'s package among cargo's artifact messages.
fn find(chapter: &'static Chapter, code: Code, artifacts: &[Value]) -> Result<Suite> {
    let (package_dir, package) = match code {
        Code::Solution => (chapter.solution_dir(), chapter.solution_package()),
        Code::Starter => (chapter.starter_dir(), chapter.name.to_owned()),
    };
    let manifest = package_dir.join("Cargo.toml");
    let executable = |kind: &str, name: &str| {
        artifacts
            .iter()
            .filter(|a| a["reason"] == "compiler-artifact" && a["manifest_path"].as_str() == manifest.to_str())
            .filter(|a| {
                a["target"]["name"] == name && a["target"]["kind"].as_array().is_some_and(|k| k.contains(&kind.into()))
            })
            .find_map(|a| a["executable"].as_str().map(PathBuf::from))
            .with_context(|| format!("cargo built no {kind} target `{name}` for {package}"))
    };
    Ok(Suite { chapter, executable: executable("test", "suite")?, binary: executable("bin", &package)?, package_dir })
}
