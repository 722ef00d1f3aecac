//! The VM's root filesystem: what the initramfs holds, and where.
//!
//! busybox with a link in `/bin` for each of its commands, the two stages of init (`init.sh`, `stage2.sh`); the suites
//! and the chapter binaries at the paths cargo compiled into them, with the
//! workspace's `tests/` tree where insta looks for snapshots, and its
//! `examples/` (chapter 6 builds the lesson's project); the tools the
//! suites run (`setpriv`, `umoci`, `skopeo`) and every library they load;
//! the kernel modules; `/etc/passwd` with `nobody`; and the sample images
//! under `target/sample-image/` (`busybox` and `helloworld`), for commands run with
//! `--shell-command`. The Rust binaries go in without their debug info
//! (`objcopy --strip-debug`), a fifth of their size.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use rebox_support::sample_image::HOST_BUSYBOX;

use super::build::Suite;
use super::cpio::Archive;
use super::ldd;
use crate::chapters::{CHAPTERS, Paths};
use crate::process;

/// The two stages of the VM's init.
const INIT: &str = include_str!("init.sh");
const STAGE2: &str = include_str!("stage2.sh");

/// The programs the suites run besides busybox, which must be on the host.
const TOOLS: [&str; 3] = ["setpriv", "umoci", "skopeo"];
/// Programs taken along when the host has them, for commands run in the VM.
const OPTIONAL_TOOLS: [&str; 1] = ["hyperfine"];

const PASSWD: &str = "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n";
const GROUP: &str = "root:x:0:\ntty:x:5:\nnogroup:x:65534:\n";
/// skopeo's signature policy when the host has none: accept any image (only local layouts are copied).
const POLICY: &str = "{\"default\": [{\"type\": \"insecureAcceptAnything\"}]}\n";

/// What goes into the VM, besides the fixed parts.
#[derive(Debug)]
pub struct Contents<'a> {
    /// The workspace's root on the host, and in the VM.
    pub workspace: &'a Path,
    pub suites: &'a [Suite],
    /// Kernel modules, in the order to load them.
    pub modules: &'a [PathBuf],
    /// `/rebox/run`: what this boot does, sourced by stage 2.
    pub run: String,
    /// `/rebox/command`, for `--shell-command`.
    pub command: Option<&'a str>,
    /// The directory of the sample images' OCI layouts (`busybox`, `helloworld`), and where it goes in the VM.
    pub sample_images: (&'a Path, &'a Path),
    /// A scratch directory for the stripped copies.
    pub staging: &'a Path,
}

/// Lays out the VM's root and writes it as a newc archive to `out`.
pub fn write(contents: &Contents, out: &Path) -> Result<()> {
    let mut archive = Archive::default();
    archive.bytes("init", 0o755, INIT);
    archive.bytes("rebox/stage2", 0o755, STAGE2);
    archive.bytes("rebox/run", 0o644, contents.run.as_str());
    if let Some(command) = contents.command {
        archive.bytes("rebox/command", 0o644, format!("{command}\n"));
    }
    for dir in ["proc", "sys", "dev", "etc", "usr/bin", "usr/sbin", "sbin", "run"] {
        archive.dir(dir, 0o755);
    }
    archive.dir("root", 0o700);
    archive.dir("tmp", 0o1777);
    archive.dir("var/tmp", 0o1777);
    archive.bytes("etc/passwd", 0o644, PASSWD);
    archive.bytes("etc/group", 0o644, GROUP);
    let policy = fs::read("/etc/containers/policy.json").unwrap_or_else(|_| POLICY.into());
    archive.bytes("etc/containers/policy.json", 0o644, policy);
    add_program(&mut archive, Path::new(HOST_BUSYBOX), Path::new("/bin/busybox"))?;
    for applet in busybox_applets()? {
        archive.symlink(Path::new("bin").join(applet), "busybox");
    }

    for (number, module) in (1..).zip(contents.modules) {
        let name = module.file_name().context("a module path has a file name")?.to_string_lossy();
        archive.copy(format!("rebox/modules/{number:02}-{name}"), 0o644, module);
    }
    for tool in TOOLS {
        let path = on_path(tool).with_context(|| format!("the suites need {tool}: run `cargo xtask setup`"))?;
        add_program(&mut archive, &path, &path)?;
    }
    for tool in OPTIONAL_TOOLS.iter().filter_map(|tool| on_path(tool)) {
        add_program(&mut archive, &tool, &tool)?;
    }
    for (index, suite) in contents.suites.iter().enumerate() {
        for (kind, program) in [("suite", &suite.executable), ("binary", &suite.binary)] {
            let stripped = contents.staging.join(format!("{index}-{kind}"));
            strip(program, &stripped)?;
            add_program(&mut archive, &stripped, program)?;
        }
    }

    // insta finds a snapshot from the suite's source path, `solutions/<chapter>/../../tests/...`,
    // so each package's directory must exist for `..` to lead back to `tests/`.
    for chapter in CHAPTERS {
        archive.dir(chapter.solution_dir(), 0o755);
        archive.dir(chapter.starter_dir(), 0o755);
    }
    add_tree(&mut archive, &contents.workspace.join("tests"), &contents.workspace.join("tests"))?;
    add_tree(&mut archive, &contents.workspace.join("examples"), &contents.workspace.join("examples"))?;
    let (images, images_in_vm) = contents.sample_images;
    add_tree(&mut archive, images, images_in_vm)?;
    archive.write(out)
}

/// `source` at `place` in the VM, with the libraries it loads at their own paths.
fn add_program(archive: &mut Archive, source: &Path, place: &Path) -> Result<()> {
    archive.copy(place, mode(source)?, source);
    for library in ldd::libraries(source)? {
        if !archive.contains(&library) {
            archive.copy(&library, mode(&library)?, &library);
        }
    }
    Ok(())
}

/// Every file and directory under `source`, at `place` in the VM.
fn add_tree(archive: &mut Archive, source: &Path, place: &Path) -> Result<()> {
    archive.dir(place, mode(source)?);
    for entry in fs::read_dir(source).with_context(|| format!("list {}", source.display()))? {
        let path = entry.with_context(|| format!("list {}", source.display()))?.path();
        let name = path.file_name().context("a directory entry has a name")?;
        let kind = path.symlink_metadata().with_context(|| format!("stat {}", path.display()))?.file_type();
        if kind.is_dir() {
            add_tree(archive, &path, &place.join(name))?;
        } else if kind.is_file() {
            archive.copy(place.join(name), mode(&path)?, &path);
        } else {
            bail!("only files and directories can go into the VM, not {}", path.display());
        }
    }
    Ok(())
}

/// The commands busybox provides (`sh`, `mount`, `cat`, `kill`…), each a link to it in `/bin`, last on the PATH.
fn busybox_applets() -> Result<Vec<String>> {
    let output = process::capture(process::command(HOST_BUSYBOX, &["--list"]))?;
    if !output.status.success() {
        bail!("`{HOST_BUSYBOX} --list` failed: {}", String::from_utf8_lossy(&output.stderr));
    }
    let list = String::from_utf8_lossy(&output.stdout);
    Ok(list
        .lines()
        .filter(|name| !name.is_empty() && !name.contains('/') && *name != "busybox")
        .map(str::to_owned)
        .collect())
}

/// A copy of the executable `program` without its debug info.
fn strip(program: &Path, copy: &Path) -> Result<()> {
    let mut objcopy = process::command("objcopy", &["--strip-debug"]);
    objcopy.arg(program).arg(copy);
    process::run_quietly(objcopy)
        .with_context(|| format!("strip a copy of {} (objcopy, from binutils)", program.display()))
}

/// Where `program` is on the PATH.
fn on_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join(program)).find(|candidate| {
        candidate.metadata().is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
    })
}

/// The permission bits of `path` (following links).
fn mode(path: &Path) -> Result<u32> {
    Ok(fs::metadata(path).with_context(|| format!("stat {}", path.display()))?.permissions().mode() & 0o7777)
}
