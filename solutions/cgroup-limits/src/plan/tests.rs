//! The plans for v1 and v2. The chapter's suite snapshots them as the shell
//! commands they amount to (`tests/cgroup-limits/snapshots/plan_*.snap`),
//! which the book shows.

use super::*;
use crate::cpu::CpuQuota;
use crate::memory::Swap;
use crate::mountinfo::v1_mounts;

/// The lesson's container id, made 64 digits long.
const ID: &str = "4ddf4638572d0000000000000000000000000000000000000000000000000000";

/// This workshop's machine: v1 controllers in a hybrid layout.
const MOUNTINFO: &str = "\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
";

fn v1() -> Hierarchy {
    Hierarchy::Legacy { mounts: v1_mounts(MOUNTINFO), swap_accounting: true }
}

fn v2(controllers: &[Controller]) -> Hierarchy {
    Hierarchy::Unified { root: PathBuf::from("/sys/fs/cgroup"), controllers: controllers.to_vec() }
}

/// `-m 64m --cpus 0.5 --pids-limit 64`.
fn limits() -> Limits {
    Limits {
        memory: Some(MemoryLimit { limit: 64 << 20, swap: Swap::Default }),
        cpu: CpuQuota::from_nano_cpus(500_000_000),
        pids: Some(PidsLimit::Max(64)),
    }
}

#[test]
fn v1_plan_makes_one_directory_per_controller() {
    let plan = plan(&v1(), ID, &limits()).unwrap();
    assert_eq!(plan.dirs.len(), 5, "memory, cpu, cpuacct, pids and freezer each have their own tree");
    assert_eq!(plan.freezer_dir, Some(PathBuf::from(format!("/sys/fs/cgroup/freezer/rebox/{ID}"))));
    assert!(plan.to_string().contains("echo 0 > /sys/fs/cgroup/memory/rebox/4ddf4638572d"));
}

#[test]
fn v2_plan_enables_controllers_in_every_ancestor() {
    let plan = plan(&v2(&[Controller::Memory, Controller::Cpu, Controller::Pids]), ID, &limits()).unwrap();
    assert_eq!(plan.dirs, [PathBuf::from(format!("/sys/fs/cgroup/rebox/{ID}"))]);
    assert_eq!(plan.freezer_dir.as_ref(), plan.dirs.first(), "every v2 group has cgroup.freeze");
    assert!(plan.to_string().contains("echo 0 > /sys/fs/cgroup/rebox/4ddf4638572d"));
}

#[test]
fn without_limits_the_cgroup_still_accounts() {
    let plan = plan(&v1(), ID, &Limits::default()).unwrap();
    assert!(plan.steps.iter().all(|step| matches!(step, Step::MakeDir { .. })), "no limit, no write");
    assert_eq!(plan.dirs.len(), 5);
}

#[test]
fn comounted_controllers_share_one_directory() {
    let mountinfo = "25 24 0:22 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n";
    let hierarchy = Hierarchy::Legacy { mounts: v1_mounts(mountinfo), swap_accounting: false };
    let limits = Limits { cpu: CpuQuota::from_nano_cpus(500_000_000), ..Limits::default() };
    let plan = plan(&hierarchy, ID, &limits).unwrap();
    assert_eq!(plan.dirs, [PathBuf::from(format!("/sys/fs/cgroup/cpu,cpuacct/rebox/{ID}"))]);
}

#[test]
fn a_limit_on_a_missing_controller_is_an_error() {
    let only_memory = Hierarchy::Legacy {
        mounts: vec![(Controller::Memory, PathBuf::from("/sys/fs/cgroup/memory"))],
        swap_accounting: true,
    };
    let err = plan(&only_memory, ID, &limits()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot apply the cpu limit: the cgroup cpu controller is not mounted (no cgroup mount with it in /proc/self/mountinfo)"
    );
    let err = plan(&v2(&[Controller::Memory, Controller::Cpu]), ID, &limits()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot apply the pids limit: the cgroup pids controller is not available (not in /sys/fs/cgroup/cgroup.controllers)"
    );
    // Without that limit, the missing controller is just not used.
    let limits = Limits { pids: None, ..limits() };
    assert!(plan(&v2(&[Controller::Memory, Controller::Cpu]), ID, &limits).is_ok());
}

#[test]
fn ancestors_are_enabled_from_the_root_down() {
    let steps = enable_controllers(
        &[PathBuf::from("/sys/fs/cgroup"), PathBuf::from("/sys/fs/cgroup/rebox")],
        &[Controller::Memory, Controller::Pids],
    );
    let write = |path: &str| Step::Write { path: PathBuf::from(path), value: "+memory +pids".to_owned() };
    assert_eq!(
        steps,
        [write("/sys/fs/cgroup/cgroup.subtree_control"), write("/sys/fs/cgroup/rebox/cgroup.subtree_control")]
    );
    assert!(enable_controllers(&[PathBuf::from("/sys/fs/cgroup")], &[]).is_empty());
}
