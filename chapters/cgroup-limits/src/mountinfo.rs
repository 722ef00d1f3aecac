//! Where each cgroup v1 controller is mounted: `/proc/self/mountinfo`.
//!
//! On v1 every controller is a filesystem of its own, mounted with the
//! controller's name among its options (`mount -t cgroup -o memory cgroup
//! /sys/fs/cgroup/memory`); several may share one mount (`cpu,cpuacct`).
//! `/proc/self/mountinfo` lists every mount the process can see, with those
//! options. See `man 5 proc` (mountinfo), `man 7 cgroups`. Introduced in
//! chapter 2.

use std::path::PathBuf;

use crate::layout::Controller;

/// The mount point of each v1 controller, from the text of `/proc/self/mountinfo`.
///
/// A line reads `36 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory`:
/// the fifth field is the mount point; after the ` - ` come the filesystem
/// type and source, then the superblock options, which name the controllers.
pub fn v1_mounts(mountinfo: &str) -> Vec<(Controller, PathBuf)> {
    let mut mounts: Vec<(Controller, PathBuf)> = Vec::new();
    for line in mountinfo.lines() {
        let Some((before, after)) = line.split_once(" - ") else { continue };
        let (Some(mount_point), mut after) = (before.split(' ').nth(4), after.split(' ')) else { continue };
        if after.next() != Some("cgroup") {
            continue;
        }
        let options: Vec<&str> = after.nth(1).unwrap_or_default().split(',').collect();
        for controller in Controller::ALL {
            let known = mounts.iter().any(|(mounted, _)| *mounted == controller);
            if options.contains(&controller.name()) && !known {
                mounts.push((controller, PathBuf::from(mount_point)));
            }
        }
    }
    mounts.sort();
    mounts
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    const HYBRID: &str = "\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
";

    #[test]
    fn v1_controllers_are_found_in_mountinfo() {
        let mounts = v1_mounts(HYBRID);
        let path = |p: &str| PathBuf::from(p);
        assert_eq!(
            mounts,
            [
                (Controller::Memory, path("/sys/fs/cgroup/memory")),
                (Controller::Cpu, path("/sys/fs/cgroup/cpu")),
                (Controller::Cpuacct, path("/sys/fs/cgroup/cpuacct")),
                (Controller::Pids, path("/sys/fs/cgroup/pids")),
            ]
        );
    }

    #[test]
    fn comounted_controllers_share_a_mount_point() {
        let line = "25 24 0:22 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n";
        let mounts = v1_mounts(line);
        assert_eq!(mounts.len(), 2);
        assert!(mounts.iter().all(|(_, mount)| mount == Path::new("/sys/fs/cgroup/cpu,cpuacct")));
    }
}
