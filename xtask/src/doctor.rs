//! `cargo xtask doctor`: what this machine has for the workshop, and the fix for what it lacks.

use std::fs;
use std::path::Path;

use anyhow::Result;

use crate::process;

/// One line of the table.
struct Row {
    what: &'static str,
    found: String,
    ok: bool,
    fix: &'static str,
}

/// Prints the table; never fails, since its job is to say what is missing.
pub fn run() -> Result<()> {
    let rows = [
        kernel(),
        root(),
        user_namespaces(),
        overlayfs(),
        cgroups(),
        shared_root(),
        tool("busybox", Path::new("/bin/busybox").exists(), "sudo apt-get install busybox-static"),
        tool("setpriv", process::found("setpriv"), "sudo apt-get install util-linux"),
        tool("mdbook (book)", crate::setup::mdbook_version().is_some(), "cargo xtask setup"),
        tool(
            "runc, hyperfine (bench)",
            process::found("runc") && process::found("hyperfine"),
            "sudo apt-get install runc hyperfine",
        ),
        tool(
            "skopeo, umoci (chapter 3)",
            process::found("skopeo") && process::found("umoci"),
            "sudo apt-get install skopeo umoci",
        ),
        tool("qemu (cargo xtask vm)", process::found("qemu-system-x86_64"), "sudo apt-get install qemu-system-x86"),
    ];
    println!("{:<26} {:<4} {:<44} fix", "check", "ok", "found");
    for row in &rows {
        let fix = if row.ok { "" } else { row.fix };
        println!("{:<26} {:<4} {:<44} {fix}", row.what, if row.ok { "yes" } else { "NO" }, row.found);
    }
    Ok(())
}

fn read(path: &str) -> String {
    fs::read_to_string(path).unwrap_or_default().trim().to_owned()
}

fn kernel() -> Row {
    let release = read("/proc/sys/kernel/osrelease");
    let mut numbers = release.split(|c: char| !c.is_ascii_digit()).filter_map(|n| n.parse::<u32>().ok());
    let version = (numbers.next().unwrap_or(0), numbers.next().unwrap_or(0));
    // 4.6 brought cgroup namespaces; 5.10 volatile overlays (`run --rm`); 5.11 overlayfs in user namespaces (rootless).
    Row {
        what: "kernel",
        found: release,
        ok: version >= (5, 10),
        fix: "a kernel 5.10 or newer (5.11+ for rootless overlay)",
    }
}

fn root() -> Row {
    let root = process::is_root();
    Row {
        what: "root",
        found: if root { "running as root".into() } else { "not root".into() },
        ok: root,
        fix: "run the suites with sudo -E (chapter 1 also runs rootless)",
    }
}

fn user_namespaces() -> Row {
    let max = read("/proc/sys/user/max_user_namespaces");
    let clone = read("/proc/sys/kernel/unprivileged_userns_clone");
    let ok = max != "0" && clone != "0";
    Row {
        what: "user namespaces",
        found: format!(
            "max_user_namespaces={max}{}",
            if clone.is_empty() { String::new() } else { format!(", unprivileged={clone}") }
        ),
        ok,
        fix: "sysctl -w user.max_user_namespaces=15000 kernel.unprivileged_userns_clone=1",
    }
}

fn overlayfs() -> Row {
    let ok = read("/proc/filesystems").lines().any(|line| line.ends_with("\toverlay"));
    Row {
        what: "overlayfs",
        found: if ok { "overlay in /proc/filesystems".into() } else { "not loaded".into() },
        ok,
        fix: "sudo modprobe overlay",
    }
}

fn cgroups() -> Row {
    let mountinfo = read("/proc/self/mountinfo");
    let v2_root = mountinfo.lines().any(|line| line.contains(" /sys/fs/cgroup ") && line.contains(" - cgroup2 "));
    let (found, ok) = if v2_root {
        let controllers = read("/sys/fs/cgroup/cgroup.controllers");
        let ok = ["memory", "cpu", "pids"].iter().all(|c| controllers.split_whitespace().any(|x| x == *c));
        (format!("v2: {controllers}"), ok)
    } else {
        let mut controllers: Vec<&str> = mountinfo
            .lines()
            .filter(|line| line.contains(" - cgroup "))
            .filter_map(|line| line.rsplit(' ').next())
            .flat_map(|options| options.split(','))
            .filter(|option| ["memory", "cpu", "pids", "cpuacct", "cpuset"].contains(option))
            .collect();
        controllers.sort_unstable();
        controllers.dedup();
        let ok = ["memory", "cpu", "pids"].iter().all(|c| controllers.contains(c));
        (format!("v1 (hybrid or legacy): {}", controllers.join(" ")), ok)
    };
    Row { what: "cgroups", found, ok, fix: "mount the memory, cpu and pids controllers (v1) or enable them (v2)" }
}

fn shared_root() -> Row {
    let mountinfo = read("/proc/self/mountinfo");
    let root = mountinfo.lines().find(|line| line.split(' ').nth(4) == Some("/"));
    let shared = root.is_some_and(|line| line.split(" - ").next().unwrap_or("").contains("shared:"));
    Row {
        what: "/ propagation",
        found: if shared { "shared (containers make it private)".into() } else { "private".into() },
        ok: true,
        fix: "",
    }
}

fn tool(what: &'static str, ok: bool, fix: &'static str) -> Row {
    Row { what, found: if ok { "installed".into() } else { "missing".into() }, ok, fix }
}
