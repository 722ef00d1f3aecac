//! The v2 code path, against a fake cgroupfs: a temporary directory laid out
//! as the kernel's `cgroup-v2.rst` documents the root of the tree.
//!
//! A plain directory is not cgroupfs: `mkdir` does not fill in interface
//! files and `rmdir` refuses a directory with files in it. So these tests
//! check what the runtime *writes*, and where; the suite checks the real
//! thing on the machine's own hierarchy.

use std::fs;

use nix::sys::wait::WaitStatus;

use super::*;
use crate::cpu::CpuQuota;
use crate::layout::{Controller, Hierarchy};
use crate::memory::{MemoryLimit, Swap};
use crate::oom::oom_failure;
use crate::pids::PidsLimit;
use crate::plan::{Limits, plan};

const ID: &str = "4ddf4638572d0000000000000000000000000000000000000000000000000000";

/// A v2 root with the files the kernel puts there.
fn fake_v2_root() -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| fs::write(root.path().join(name), text).unwrap();
    write("cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc\n");
    write("cgroup.subtree_control", "");
    write("cgroup.procs", "1\n");
    write("cgroup.max.depth", "max\n");
    write("cgroup.stat", "nr_descendants 0\nnr_dying_descendants 0\n");
    root
}

fn limits() -> Limits {
    Limits {
        memory: Some(MemoryLimit { limit: 64 << 20, swap: Swap::Default }),
        cpu: CpuQuota::from_nano_cpus(500_000_000),
        pids: Some(PidsLimit::Max(64)),
    }
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|err| panic!("read {}: {err}", path.display()))
}

#[test]
fn create_enables_controllers_and_writes_v2_limits() {
    let root = fake_v2_root();
    let hierarchy = Hierarchy::unified(root.path()).unwrap();
    let cgroup = Cgroup::create(&plan(&hierarchy, ID, &limits()).unwrap()).unwrap();
    let dir = root.path().join("rebox").join(ID);
    assert_eq!(cgroup.dirs(), std::slice::from_ref(&dir));
    assert_eq!(read(&root.path().join("cgroup.subtree_control")), "+memory +cpu +pids");
    assert_eq!(read(&root.path().join("rebox/cgroup.subtree_control")), "+memory +cpu +pids");
    assert_eq!(read(&dir.join("memory.max")), "67108864");
    assert_eq!(read(&dir.join("memory.swap.max")), "67108864", "Docker's default: as much swap as memory");
    assert_eq!(read(&dir.join("cpu.max")), "50000 100000");
    assert_eq!(read(&dir.join("pids.max")), "64");
}

#[test]
fn joining_writes_0_to_cgroup_procs_on_v2() {
    let root = fake_v2_root();
    let hierarchy = Hierarchy::unified(root.path()).unwrap();
    let cgroup = Cgroup::create(&plan(&hierarchy, ID, &Limits::default()).unwrap()).unwrap();
    cgroup.join().unwrap();
    assert_eq!(read(&root.path().join("rebox").join(ID).join("cgroup.procs")), "0");
}

#[test]
fn the_oom_killer_is_named_from_memory_events() {
    let root = fake_v2_root();
    let hierarchy = Hierarchy::unified(root.path()).unwrap();
    let cgroup = Cgroup::create(&plan(&hierarchy, ID, &limits()).unwrap()).unwrap();
    let events = root.path().join("rebox").join(ID).join("memory.events");
    let pid = Pid::from_raw(4242);
    let killed = WaitStatus::Signaled(pid, Signal::SIGKILL, false);

    fs::write(&events, "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n").unwrap();
    assert!(oom_failure(&cgroup, killed).unwrap().is_none(), "a plain kill -9 is not the OOM killer");

    fs::write(&events, "low 0\nhigh 0\nmax 41\noom 1\noom_kill 1\n").unwrap();
    let failure = oom_failure(&cgroup, killed).unwrap().expect("an OOM kill");
    assert_eq!(failure.to_string(), "container killed by the OOM killer (memory limit 64 MiB)");
    assert_eq!(ns_isolation::exit::Failure::code_of(&failure.into()), 137);
    assert!(oom_failure(&cgroup, WaitStatus::Exited(pid, 0)).unwrap().is_none(), "it exited by itself");
}

#[test]
fn a_missing_controller_is_refused_before_anything_is_made() {
    let root = fake_v2_root();
    fs::write(root.path().join("cgroup.controllers"), "cpuset cpu io memory\n").unwrap();
    let hierarchy = Hierarchy::unified(root.path()).unwrap();
    assert!(plan(&hierarchy, ID, &limits()).is_err());
    assert!(!root.path().join("rebox").exists());
}

#[test]
fn a_failed_step_removes_what_was_made() {
    let root = fake_v2_root();
    // The kernel would refuse the write; a directory in the file's place refuses it here.
    fs::remove_file(root.path().join("cgroup.subtree_control")).unwrap();
    fs::create_dir(root.path().join("cgroup.subtree_control")).unwrap();
    let hierarchy = Hierarchy::unified(root.path()).unwrap();
    let err = Cgroup::create(&plan(&hierarchy, ID, &limits()).unwrap()).unwrap_err();
    assert!(format!("{err:#}").contains("cgroup.subtree_control"), "{err:#}");
    assert!(!root.path().join("rebox").exists(), "the rebox parent was made, and must be gone again");
}

#[test]
fn v1_writes_each_controllers_files_in_its_own_tree() {
    let root = tempfile::tempdir().unwrap();
    let mounts: Vec<_> = [Controller::Memory, Controller::Cpu, Controller::Pids]
        .into_iter()
        .map(|controller| {
            let mount = root.path().join(controller.name());
            fs::create_dir(&mount).unwrap();
            (controller, mount)
        })
        .collect();
    let hierarchy = Hierarchy::Legacy { mounts, swap_accounting: true };
    let cgroup = Cgroup::create(&plan(&hierarchy, ID, &limits()).unwrap()).unwrap();
    assert_eq!(cgroup.dirs().len(), 3);
    let file = |tree: &str, name: &str| read(&root.path().join(tree).join("rebox").join(ID).join(name));
    assert_eq!(file("memory", "memory.limit_in_bytes"), "67108864");
    assert_eq!(file("memory", "memory.memsw.limit_in_bytes"), "134217728");
    assert_eq!(file("cpu", "cpu.cfs_period_us"), "100000");
    assert_eq!(file("cpu", "cpu.cfs_quota_us"), "50000");
    assert_eq!(file("pids", "pids.max"), "64");
    // The child moves its one thread through `tasks`, in every tree.
    cgroup.join().unwrap();
    for tree in ["memory", "cpu", "pids"] {
        assert_eq!(file(tree, "tasks"), "0", "{tree}");
        assert!(!root.path().join(tree).join("rebox").join(ID).join("cgroup.procs").exists(), "{tree}");
    }
}

#[test]
fn a_group_removed_under_us_is_gone_whether_its_path_or_its_file_says_so() {
    let gone = |errno: Errno| is_gone(&anyhow::Error::from(std::io::Error::from(errno)).context("write"));
    // ENOENT: a path in a removed directory; ENODEV: a file of a group removed after it was found.
    assert!(gone(Errno::ENOENT) && gone(Errno::ENODEV));
    assert!(!gone(Errno::EINVAL), "a limit the kernel refuses is no race: it must not be retried");
}

#[test]
fn clone_target_is_the_groups_one_directory_on_v2() {
    let root = fake_v2_root();
    let hierarchy = Hierarchy::unified(root.path()).unwrap();
    let cgroup = Cgroup::create(&plan(&hierarchy, ID, &limits()).unwrap()).unwrap();
    assert_eq!(cgroup.clone_target(), Some(root.path().join("rebox").join(ID).as_path()));
}
