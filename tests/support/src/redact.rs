//! Redactions shared by every suite: what changes from run to run.
//!
//! Each filter hides one volatile thing (a host pid, a random id, a
//! namespace inode, a temporary path) and names what it hid, so the
//! snapshot still reads well. None hides what a test is about: PID 1 inside
//! a container is never a host pid, so it is never redacted.

use insta::Settings;

/// The filters, as (regex, replacement) pairs.
pub fn redactions() -> Vec<(&'static str, &'static str)> {
    vec![
        // The test's private state directory.
        (r"[^\s\x22']*/rebox-test-[A-Za-z0-9]+", "[ROOT]"),
        // Host pids in trace lines: the return value of clone, /proc/<pid>/, wait4/kill arguments.
        (r"(clone3?\([^)]*\)) = \d+", "$1 = [PID]"),
        (r"/proc/\d+/", "/proc/[PID]/"),
        (r"(wait4|kill)\(\d+", "$1([PID]"),
        (r"(wait4\(\[PID\].*\)) = \d+", "$1 = [PID]"),
        (r"\(pid \d+\)", "(pid [PID])"),
        // Namespace inode numbers: `net:[4026532281]`.
        (r"\b(cgroup|ipc|mnt|net|pid|time|user|uts):\[\d+\]", "$1:[INODE]"),
        // Container ids: 64 hex digits, and the 12-digit short form.
        (r"\b[0-9a-f]{64}\b", "[ID]"),
        (r"\b[0-9a-f]{12}\b", "[SHORT-ID]"),
    ]
}

/// insta settings with the shared redactions, bound for the rest of the scope.
///
/// ```text
/// let _redacted = rebox_support::snapshot_settings();
/// insta::assert_snapshot!("ps_inside", outcome.transcript());
/// ```
pub fn snapshot_settings() -> insta::internals::SettingsBindDropGuard {
    let mut settings = Settings::clone_current();
    for (regex, replacement) in redactions() {
        settings.add_filter(regex, replacement);
    }
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.bind_to_scope()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redact(text: &str) -> String {
        redactions().iter().fold(text.to_owned(), |text, (regex, replacement)| {
            regex_lite(regex).replace_all(&text, *replacement).into_owned()
        })
    }

    fn regex_lite(pattern: &str) -> regex::Regex {
        regex::Regex::new(pattern).unwrap()
    }

    #[test]
    fn host_pids_are_redacted_but_pid_1_is_not() {
        assert_eq!(redact("clone(CLONE_NEWPID|SIGCHLD) = 4242"), "clone(CLONE_NEWPID|SIGCHLD) = [PID]");
        assert_eq!(
            redact("clone3({flags=CLONE_NEWPID|CLONE_INTO_CGROUP, exit_signal=SIGCHLD, cgroup=7}, 88) = 4242"),
            "clone3({flags=CLONE_NEWPID|CLONE_INTO_CGROUP, exit_signal=SIGCHLD, cgroup=7}, 88) = [PID]"
        );
        assert_eq!(redact("write(\"/proc/4242/uid_map\""), "write(\"/proc/[PID]/uid_map\"");
        assert_eq!(redact("    1 root     busybox ps"), "    1 root     busybox ps");
    }

    #[test]
    fn namespace_inodes_and_ids_are_redacted() {
        assert_eq!(redact("net:[4026532281]"), "net:[INODE]");
        assert_eq!(redact("Hostname: 4ddf4638572d"), "Hostname: [SHORT-ID]");
    }

    #[test]
    fn temporary_roots_are_redacted() {
        assert_eq!(redact("--root /tmp/rebox-test-AbC123/x"), "--root [ROOT]/x");
    }
}
