//! Chapter 2's demo: a container's resources are limited by its cgroup.
//!
//! `$CG` is `cgroup-limits-solution`; the steps are shown as `cgroup-limits`.
//! The commands work on cgroup v1 and v2 alike: the host finds a container's
//! cgroup through `/proc/<pid>/cgroup`, as the lesson's thought question 3 asks.

use super::{Chapter, Step, nothing_to_clean_up, nothing_to_prepare};

/// The steps of chapter 2.
pub const DEMO: Chapter = Chapter {
    name: "cgroup-limits",
    var: "CG",
    prepare: nothing_to_prepare,
    clean_up: nothing_to_clean_up,
    steps: &[
        Step {
            say: "A memory hog under -m 32m: the kernel's OOM killer ends it, and the runtime says so, with Docker's 137:",
            shell: r#"$CG run -m 32m -- busybox sh -c 'x=a; while :; do x=$x$x; done' || echo "exit $?""#,
        },
        Step {
            say: "--pids-limit 20 stops a loop that starts 40 sleeps: the shell and 19 sleeps make 20, the next fork fails:",
            shell: r#"$CG run --pids-limit 20 -- busybox sh -c 'for i in $(busybox seq 40); do busybox sleep 5 & echo -n "$i "; done' || echo "exit $?""#,
        },
        Step {
            say: "--cpus 0.5: a busy loop gets half a CPU, 1 s of CPU time in 2 s:",
            shell: r#"$CG run --cpus 0.5 -- busybox time busybox timeout 2 busybox sh -c 'trap "exit 0" TERM; while :; do :; done'"#,
        },
        Step {
            say: "Inside, the cgroup namespace makes the container's own cgroup look like the root, /:",
            shell: "$CG run -- busybox cat /proc/self/cgroup",
        },
        Step {
            say: "From the host, /proc/<pid>/cgroup names the container's cgroups, and their files hold the limits:",
            shell: r#"$CG run -m 64m --pids-limit 64 -- busybox sleep 60 &
runtime=$!
# Wait until the runtime's child, the container, has joined its cgroups.
for try in $(seq 50); do pid=$(pgrep -P $runtime) && grep -qs rebox /proc/$pid/cgroup && break; sleep 0.1; done
grep rebox /proc/$pid/cgroup
if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
  # cgroup v2: one tree, and one line, 0::/rebox/<id>.
  dir=/sys/fs/cgroup$(sed -n 's/^0:://p' /proc/$pid/cgroup)
  grep -H . $dir/memory.max $dir/pids.max
else
  # cgroup v1: one tree per controller, and one line each, like 4:memory:/rebox/<id>.
  grep -H . /sys/fs/cgroup/memory$(awk -F: '$2 == "memory" {print $3}' /proc/$pid/cgroup)/memory.limit_in_bytes
  grep -H . /sys/fs/cgroup/pids$(awk -F: '$2 == "pids" {print $3}' /proc/$pid/cgroup)/pids.max
fi
# SIGKILL from the host: 137 again, but no OOM message.
kill -KILL $pid
wait $runtime || echo "exit $?""#,
        },
        Step {
            say: "Every run removed its cgroups, and the shared rebox parent once it was empty:",
            shell: r#"echo "rebox cgroups left: $(find /sys/fs/cgroup -maxdepth 2 -name rebox | wc -l)""#,
        },
    ],
};
