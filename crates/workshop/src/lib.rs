//! The workshop's plan: its chapters, in order, and each chapter's steps, in
//! the order the book gives them.
//!
//! One list, read by the suites (a test names the step it confirms, and a
//! `todo!()` of a later step does not fail it) and by `cargo xtask` (which
//! generates the starters, and tells a learner which step comes next). The
//! order of the steps is the order in which a run reaches them, so that a
//! learner following the book sees a test turn green after every step.

#![forbid(unsafe_code)]

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
            "remove-cgroup",
            "enter-cgroup",
            "join-cgroup",
            "cgroup-namespace",
            "oom-kills",
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
            "dev-nodes",
            "bind-mount",
            "pivot-root",
            "mask-paths",
        ],
    },
    Chapter {
        name: "setns-exec",
        steps: &[
            "setns",
            "json-log",
            "detach",
            "namespace-files",
            "pid-namespace",
            "join-order",
            "stop",
            "join-network",
            "pty",
            "port-relay",
        ],
    },
    Chapter {
        name: "bind-volume",
        steps: &["volume-spec", "volume-dir", "copy-data", "volume-mounts", "volume-in-use"],
    },
    Chapter {
        name: "commit",
        steps: &[
            "lower-lookup",
            "diff",
            "whiteout-entries",
            "layer-blob",
            "instruction",
            "image-config",
            "freeze",
            "build-step",
            "save",
        ],
    },
];

impl Chapter {
    /// 1-based position of a step, if it is one of this chapter's.
    pub fn step_number(&self, id: &str) -> Option<usize> {
        self.steps.iter().position(|step| *step == id).map(|i| i + 1)
    }
}

/// The chapter called `name`, if there is one.
pub fn chapter(name: &str) -> Option<&'static Chapter> {
    CHAPTERS.iter().find(|chapter| chapter.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_ids_are_unique_within_a_chapter() {
        for chapter in CHAPTERS {
            for (i, step) in chapter.steps.iter().enumerate() {
                assert_eq!(chapter.step_number(step), Some(i + 1), "{} lists {step} twice", chapter.name);
            }
        }
    }
}
