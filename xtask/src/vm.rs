//! `cargo xtask vm`: the chapters' suites on pure cgroup v2, in a VM with a distribution's kernel.
//!
//! Builds the suites, fetches a pinned Debian kernel (`vm/kernel.rs`, and
//! `vm/pvh.rs` uncompresses it, to boot faster), writes an initramfs holding
//! everything the suites need (`vm/initramfs.rs`, as a cpio archive from
//! `vm/cpio.rs`), boots it under QEMU with only cgroup2 mounted and an
//! empty disk (`vm/qemu.rs`, `vm/disk.rs`), and shows each test's result as the VM reports it
//! (`vm/report.rs`). Needs no root: nothing is installed or mounted on
//! the host. Everything lives under `target/vm/`: the kernel's cache, and
//! one work directory per run (`--keep` keeps it, as does a VM that does
//! not finish).
//!
//! `--record` runs the suites with `INSTA_UPDATE=always` and writes the
//! snapshots they wrote back into `tests/`, for a maintainer to review;
//! `--shell-command` runs one command in the VM instead of the suites.

mod apt;
mod build;
mod cpio;
mod disk;
mod initramfs;
mod kernel;
mod ldd;
mod options;
mod pvh;
mod qemu;
mod report;

use std::fs;
use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result, bail, ensure};

use crate::{image, process, setup};
use options::Options;
use report::Progress;

/// Runs `cargo xtask vm` with its arguments.
pub fn run(args: &[&str]) -> Result<()> {
    if args.iter().any(|arg| matches!(*arg, "--help" | "-h")) {
        println!("{}", options::USAGE);
        return Ok(());
    }
    let options = Options::parse(args)?;
    ensure!(
        std::env::consts::ARCH == "x86_64",
        "the VM is an x86-64 PC, which cannot run what cargo builds on this {} machine",
        std::env::consts::ARCH
    );
    let started = Instant::now();
    if ["qemu-system-x86_64", "objcopy", "dpkg-deb", "apt-get"].iter().any(|program| !process::found(program)) {
        setup::run()?;
    }
    let suites = build::suites(&options.chapters, options.code)?;
    let target = process::target_dir()?;
    let cache = target.join("vm");
    let kernel = kernel::fetch(&cache.join("kernel"))?;
    let modules = kernel.modules()?;

    fs::create_dir_all(&cache).with_context(|| format!("create {}", cache.display()))?;
    let work = tempfile::Builder::new()
        .prefix("run-")
        .tempdir_in(&cache)
        .with_context(|| format!("create a work directory in {}", cache.display()))?;
    let staging = work.path().join("staging");
    fs::create_dir_all(&staging).with_context(|| format!("create {}", staging.display()))?;
    let image_dir = staging.join("sample-image");
    image::build(&image_dir)?;
    let workspace = crate::chapters::workspace();
    let contents = initramfs::Contents {
        workspace: &workspace,
        suites: &suites,
        modules: &modules,
        run: options.run_script(&workspace, &suites),
        command: options.shell_command.as_deref(),
        sample_images: (&image_dir, &target.join("sample-image")),
        staging: &staging,
    };
    let initrd = work.path().join("initramfs.cpio");
    initramfs::write(&contents, &initrd)?;
    eprintln!("vm: booting Debian's {} with only cgroup v2 ({} MB of initramfs)", kernel.package, size_mb(&initrd));

    let disk = work.path().join("disk.img");
    disk::make(&disk)?;
    let bootable = pvh::bootable(&kernel.image(), &kernel.config())?;
    let boot =
        qemu::Boot { kernel: &bootable, initrd: &initrd, disk: &disk, work: work.path(), timeout: options.timeout() };
    let mut progress = Progress::new();
    let ran = qemu::run(&boot, |report| progress.update(report));
    // A VM that did not finish is kept, so that its console log can be read.
    let finished = ran.is_ok() && progress.done;
    let outcome = ran.and_then(|()| conclude(&options, &progress, &workspace));
    if options.keep || !finished {
        let kept = work.keep();
        eprintln!("vm: kept the VM's work directory (initramfs, console.log, report): {}", kept.display());
    }
    eprintln!("vm: {:.0} s in all, with the build", started.elapsed().as_secs_f64());
    outcome
}

/// Says what the VM's report adds up to, writes back recorded snapshots, and fails if anything did.
fn conclude(options: &Options, progress: &Progress, workspace: &Path) -> Result<()> {
    if !progress.done {
        bail!("the VM stopped before it finished (its console above says where)");
    }
    if options.record {
        write_snapshots(progress, workspace)?;
    }
    if let Some(status) = progress.command {
        if status != 0 {
            bail!("the command failed in the VM (exit status {status})");
        }
        return Ok(());
    }
    let passed: usize = progress.suites.iter().map(|suite| suite.passed).sum();
    let failed: usize = progress.suites.iter().map(|suite| suite.failed).sum();
    let seconds: f64 = progress.suites.iter().map(|suite| suite.seconds).sum();
    for suite in &progress.suites {
        eprintln!(
            "vm: {:<14} {:>3} passed, {} failed, {:>5.1} s",
            suite.chapter, suite.passed, suite.failed, suite.seconds
        );
    }
    if let Some((init, _)) = progress.boot {
        eprintln!("vm: init after {init:.1} s of boot; the suites took {seconds:.0} s");
    }
    println!("vm: {passed} passed, {failed} failed");
    if progress.suites.len() != options.chapters.len() {
        bail!("{} suites were to run in the VM, {} reported", options.chapters.len(), progress.suites.len());
    }
    if failed > 0 {
        bail!("{failed} tests failed on cgroup v2 in the VM");
    }
    Ok(())
}

/// Writes the snapshots the VM's suites wrote into the workspace's `tests/`, and lists those that changed.
fn write_snapshots(progress: &Progress, workspace: &Path) -> Result<()> {
    let mut changed = 0;
    for (path, contents) in &progress.snapshots {
        if !path.starts_with("tests/") || path.contains("..") || !path.ends_with(".snap") {
            bail!("the VM sent a snapshot outside tests/: {path}");
        }
        let file = workspace.join(path);
        if fs::read(&file).ok().as_ref() != Some(contents) {
            fs::write(&file, contents).with_context(|| format!("write the recorded snapshot {}", file.display()))?;
            eprintln!("vm: recorded {path}");
            changed += 1;
        }
    }
    eprintln!("vm: {changed} snapshots recorded; review them with `git diff tests/` and `git status tests/`");
    Ok(())
}

fn size_mb(path: &Path) -> u64 {
    fs::metadata(path).map(|meta| meta.len() / 1_000_000).unwrap_or(0)
}
