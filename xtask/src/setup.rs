//! `cargo xtask setup`: install what a fresh machine lacks, and nothing else.
//!
//! Debian packages: busybox-static (the sample image and the suites'
//! commands), util-linux (setpriv, unshare, nsenter), procps (pgrep, in the
//! demo), curl (the lesson's request to a published port, in the demo),
//! runc and hyperfine (bench peers), skopeo and umoci (real OCI tools, from
//! chapter 3), and for `cargo xtask vm`: qemu-system-x86 (the VM), binutils
//! (objcopy, to strip what goes into it), xz-utils (to unpack its
//! kernel) and e2fsprogs (mke2fs, to format its disk). The book needs mdBook, pinned, built from crates.io.

use anyhow::{Result, bail};

use crate::process;

/// (program to look for, Debian package that provides it).
const PACKAGES: &[(&str, &str)] = &[
    ("/bin/busybox", "busybox-static"),
    ("setpriv", "util-linux"),
    ("pgrep", "procps"),
    ("curl", "curl"),
    ("runc", "runc"),
    ("hyperfine", "hyperfine"),
    ("skopeo", "skopeo"),
    ("umoci", "umoci"),
    ("qemu-system-x86_64", "qemu-system-x86"),
    ("objcopy", "binutils"),
    ("xz", "xz-utils"),
    ("mke2fs", "e2fsprogs"),
];

/// The mdBook the book is written for.
pub const MDBOOK_VERSION: &str = "0.5.4";

/// Installs the missing packages and mdBook.
pub fn run() -> Result<()> {
    let missing: Vec<&str> =
        PACKAGES.iter().filter(|(program, _)| !present(program)).map(|(_, package)| *package).collect();
    if !missing.is_empty() {
        if !process::is_root() || !process::found("apt-get") {
            bail!("missing Debian packages; install them with: sudo apt-get install {}", missing.join(" "));
        }
        process::run(process::command("apt-get", &["update", "-qq"]))?;
        let mut install = process::command("apt-get", &["install", "-y", "-qq", "--no-install-recommends"]);
        install.args(&missing).env("DEBIAN_FRONTEND", "noninteractive");
        process::run(install)?;
    }
    if mdbook_version().as_deref() != Some(MDBOOK_VERSION) {
        let mut install = process::command(
            "cargo",
            &[
                "install",
                "mdbook",
                "--version",
                MDBOOK_VERSION,
                "--locked",
                "--no-default-features",
                "--features",
                "search",
            ],
        );
        install.env_remove("CARGO_TARGET_DIR");
        process::run(install)?;
    }
    Ok(())
}

/// The installed mdBook's version, if any (`mdbook v0.5.4`).
pub fn mdbook_version() -> Option<String> {
    let output = std::process::Command::new(crate::book::mdbook()).arg("--version").output().ok()?;
    String::from_utf8(output.stdout).ok()?.trim().strip_prefix("mdbook v").map(str::to_owned)
}

fn present(program: &str) -> bool {
    if program.starts_with('/') { std::path::Path::new(program).exists() } else { process::found(program) }
}
