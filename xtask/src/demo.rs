//! `cargo xtask demo`: the workshop's end-to-end demo, every chapter so far.
//!
//! Each step prints the command, then runs it, so the demo reads like a
//! terminal session. It builds the reference solutions first.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, ensure};

use crate::process;
use crate::setup;

/// One command of the demo and why it is shown.
struct Step {
    say: &'static str,
    shell: &'static str,
}

const NS_ISOLATION: &[Step] = &[
    Step {
        say: "The host's hostname and namespaces:",
        shell: "hostname; ls -l /proc/self/ns | awk '{print $9, $10, $11}'",
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
        shell: "$NS run -- busybox sh -c 'exit 3'; echo \"exit $?\"; $NS run -- nosuchcmd; echo \"exit $?\"",
    },
    Step {
        say: "Rootless: an unprivileged user is root inside a user namespace:",
        shell: "setpriv --reuid 65534 --regid 65534 --clear-groups $NS run -- busybox id",
    },
    Step { say: "--trace shows every syscall of the run:", shell: "$NS run --trace --hostname box -- busybox true" },
    Step { say: "And the host is unchanged:", shell: "hostname" },
];

/// Builds the solutions and runs every chapter's demo.
pub fn run() -> Result<()> {
    setup::run()?;
    ensure!(process::is_root(), "the demo creates namespaces, cgroups and mounts: run `sudo -E cargo xtask demo`");
    process::run(process::command("cargo", &["build", "--quiet", "--workspace", "--bins"]))?;
    let binaries = runnable_by_anyone(&process::target_dir()?.join("debug"))?;
    let chapters = [("ns-isolation", NS_ISOLATION)];
    for (chapter, steps) in chapters {
        println!("\n=== chapter {chapter} ===");
        for step in steps {
            println!("\n# {}\n$ {}", step.say, step.shell.replace("$NS", chapter));
            let mut command = process::command("sh", &["-c", step.shell]);
            command.env("NS", binaries.join(format!("{chapter}-solution")));
            process::run_quietly(command)?;
        }
    }
    fs::remove_dir_all(&binaries)?;
    println!("\ndemo finished: every chapter so far ran on this machine");
    Ok(())
}

/// Copies the solution binaries where the demo's unprivileged user can run them
/// (the build directory may be under a home only its owner can enter).
fn runnable_by_anyone(build: &Path) -> Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("rebox-demo-{}", std::process::id()));
    fs::create_dir_all(&dir)?;
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o755))?;
    for chapter in crate::chapters::CHAPTERS {
        let name = chapter.solution_package();
        let copy = dir.join(&name);
        fs::copy(build.join(&name), &copy).with_context(|| format!("copy {name} for the demo"))?;
        fs::set_permissions(&copy, fs::Permissions::from_mode(0o755))?;
    }
    Ok(dir)
}
