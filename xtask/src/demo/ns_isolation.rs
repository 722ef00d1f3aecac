//! Chapter 1's demo: a container is a process in new namespaces.
//!
//! `$NS` is `ns-isolation-solution`; the steps are shown as `ns-isolation`.

use super::{Chapter, Step, nothing_to_clean_up, nothing_to_prepare};

/// The steps of chapter 1.
pub const DEMO: Chapter = Chapter {
    name: "ns-isolation",
    var: "NS",
    prepare: nothing_to_prepare,
    clean_up: nothing_to_clean_up,
    steps: &[
        Step {
            say: "The host's hostname and namespaces:",
            shell: "hostname; ls -l /proc/self/ns | awk 'NR > 1 {print $9, $10, $11}'",
        },
        Step {
            say: "A container is a process in new namespaces: PID 1, its own hostname, its own namespace inodes.",
            shell: "$NS run --hostname box -- busybox sh -c 'echo \"pid $$ on $(hostname)\"; for n in pid uts mnt ipc net; do busybox readlink /proc/self/ns/$n; done'",
        },
        Step { say: "ps inside sees only the container:", shell: "$NS run -- busybox ps" },
        Step { say: "Its network namespace has only lo, up:", shell: "$NS run -- busybox ip -o link" },
        Step {
            say: "--net host keeps the host's network namespace:",
            shell: "$NS run --net host -- busybox readlink /proc/self/ns/net",
        },
        Step {
            say: "Exit codes: the command's, 127 when not found:",
            shell: "$NS run -- busybox sh -c 'exit 3' || echo \"exit $?\"; $NS run -- nosuchcmd || echo \"exit $?\"",
        },
        Step {
            say: "Rootless: an unprivileged user is root inside a user namespace:",
            shell: "setpriv --reuid 65534 --regid 65534 --clear-groups $NS run -- busybox id",
        },
        Step {
            say: "--trace shows every syscall of the run:",
            shell: "$NS run --trace --hostname box -- busybox true",
        },
        Step { say: "And the host is unchanged:", shell: "hostname" },
    ],
};
