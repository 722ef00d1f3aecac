//! The chapters, in the workshop's order, and the steps of each.
//!
//! The order of chapters lives here and in the book's SUMMARY.md; the order
//! of steps lives here and is checked against the `EXERCISE` markers of the
//! solution by `sync-starters`.

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};

/// One chapter of the workshop.
#[derive(Debug)]
pub struct Chapter {
    /// Folder, package and binary name of the learner's starter.
    pub name: &'static str,
    /// The exercise step ids, in the order a learner does them.
    pub steps: &'static [&'static str],
}

/// Every chapter that exists so far, in order.
pub const CHAPTERS: &[Chapter] = &[
    Chapter {
        name: "ns-isolation",
        steps: &[
            "clone-flags",
            "clone-child",
            "id-maps",
            "child-order",
            "make-private",
            "mount-proc",
            "loopback-up",
            "sethostname",
            "exec",
            "exit-code",
        ],
    },
    Chapter {
        name: "cgroup-limits",
        steps: &[
            "detect-layout",
            "memory-files",
            "cpu-quota",
            "enable-controllers",
            "create-cgroup",
            "enter-cgroup",
            "join-cgroup",
            "cgroup-namespace",
            "oom-kills",
            "remove-cgroup",
        ],
    },
    Chapter {
        name: "union-rootfs",
        steps: &[
            "safe-path",
            "whiteout",
            "opaque",
            "entrypoint-cmd",
            "init-layer",
            "rootfs-order",
            "overlay-options",
            "mount-overlay",
            "bind-mount",
            "dev-nodes",
            "pivot-root",
            "mask-paths",
        ],
    },
];

impl Chapter {
    /// The reference solution's package (and binary) name.
    pub fn solution_package(&self) -> String {
        format!("{}-solution", self.name)
    }

    /// `solutions/<chapter>`.
    pub fn solution_dir(&self) -> PathBuf {
        workspace().join("solutions").join(self.name)
    }

    /// `chapters/<chapter>`.
    pub fn starter_dir(&self) -> PathBuf {
        workspace().join("chapters").join(self.name)
    }

    /// `tests/<chapter>/snapshots`.
    pub fn snapshot_dir(&self) -> PathBuf {
        workspace().join("tests").join(self.name).join("snapshots")
    }

    /// 1-based position of a step, if it is one of this chapter's.
    pub fn step_number(&self, id: &str) -> Option<usize> {
        self.steps.iter().position(|step| *step == id).map(|i| i + 1)
    }
}

/// The chapter called `name`.
pub fn find(name: &str) -> Result<&'static Chapter> {
    match CHAPTERS.iter().find(|chapter| chapter.name == name) {
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
