//! The chapters, in the workshop's order, and where each one's files are.
//!
//! The list itself (chapters and steps, in order) is the `workshop` crate's,
//! shared with the suites; the book's SUMMARY.md gives the same order, and
//! `sync-starters` checks the steps against the `EXERCISE` markers of each
//! solution.

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};

pub use workshop::{CHAPTERS, Chapter};

/// Where a chapter's files are, and its reference package's name.
pub trait Paths {
    /// The reference solution's package (and binary) name.
    fn solution_package(&self) -> String;
    /// `solutions/<chapter>`.
    fn solution_dir(&self) -> PathBuf;
    /// `chapters/<chapter>`.
    fn starter_dir(&self) -> PathBuf;
    /// `tests/<chapter>/snapshots`.
    fn snapshot_dir(&self) -> PathBuf;
}

impl Paths for Chapter {
    fn solution_package(&self) -> String {
        format!("{}-solution", self.name)
    }

    fn solution_dir(&self) -> PathBuf {
        workspace().join("solutions").join(self.name)
    }

    fn starter_dir(&self) -> PathBuf {
        workspace().join("chapters").join(self.name)
    }

    fn snapshot_dir(&self) -> PathBuf {
        workspace().join("tests").join(self.name).join("snapshots")
    }
}

/// The chapter called `name`.
pub fn find(name: &str) -> Result<&'static Chapter> {
    match workshop::chapter(name) {
        Some(chapter) => Ok(chapter),
        None => {
            let known: Vec<&str> = CHAPTERS.iter().map(|c| c.name).collect();
            bail!("unknown chapter `{name}`; chapters: {}", known.join(", "))
        }
    }
}

/// The workspace root (the parent of `xtask/`).
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask lives in the workspace").to_path_buf()
}
