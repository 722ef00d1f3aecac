//! Chapter 5's benches: what volumes add to a run, and copyData against `cp -a`.
//!
//! Both work on a store in a tmpfs the bench mounts in its own directory,
//! and unmounts on every path: what they measure is the runtime's work
//! (the binds, the volumes' directories, the copy), not the disk's. On a
//! disk mounted with `discard`, removing a directory can take a
//! millisecond, which would be most of what is measured.
//!
//! - **Three volumes on a run.** `run --rm busybox /bin/true` with none,
//!   and with an anonymous volume, a named one and a host directory
//!   read-only (`-v /test -v data:/data -v <host>:/host:ro`), on paths the
//!   image does not have, so nothing is copied: what the three add is the
//!   volumes' directories, the mountpoints, the binds and the remount.
//!   A difference under a millisecond is smaller than what a busy machine
//!   makes of one run or the next, so the two commands run in turn, one
//!   of each at a time, and each one's median is taken ([`interleaved`]).
//! - **copyData.** A `/usr`-like tree of [`FILES`] files, in directories,
//!   with symlinks, executables and sizes up to 32 KiB, made by
//!   [`usr_tree`] and imported as the one-layer image `fixture`.
//!   `run --rm -v big:/usr fixture /bin/true`, with the volume removed
//!   before each run so that each run fills a new one, is a whole run:
//!   the clone that reads the image, the copy, then the container. Its
//!   median is compared with `cp -a` of the same tree, from the same layer
//!   to the same tmpfs, alone.

use std::fs;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context, Result, ensure};

use super::{Times, hyperfine};
use crate::process;

/// How many entries the copyData tree has: files, and one symlink in ten.
pub const FILES: usize = 4000;

/// How many runs of each command [`interleaved`] times.
const PAIRS: usize = 200;

/// Runs chapter 5's benches with `bind_volume` in `work`, on the sample image layout `layout`.
pub fn measure(bind_volume: &Path, work: &Path, layout: &Path) -> Result<Vec<(String, Times)>> {
    let tmpfs = work.join("volumes-tmpfs");
    fs::create_dir(&tmpfs).with_context(|| format!("create {}", tmpfs.display()))?;
    let mut mount = process::command("mount", &["-t", "tmpfs", "-o", "size=2g,mode=0700", "rebox-bench"]);
    mount.arg(&tmpfs);
    process::run(mount)?;
    let measured = measure_in(bind_volume, &tmpfs, layout);
    let mut umount = process::command("umount", &[]);
    umount.arg(&tmpfs);
    let unmounted = process::run(umount);
    if let (Err(_), Err(err)) = (&measured, &unmounted) {
        eprintln!("xtask: {err:#}");
    }
    let times = measured?;
    unmounted?;
    Ok(times)
}

fn measure_in(bind_volume: &Path, dir: &Path, layout: &Path) -> Result<Vec<(String, Times)>> {
    let store = dir.join("store");
    let runtime = |args: &[&str]| {
        let mut words = vec![bind_volume.display().to_string(), "--root".to_owned(), store.display().to_string()];
        words.extend(args.iter().map(|arg| arg.to_string()));
        words
    };
    let tree = dir.join("tree");
    usr_tree(&tree)?;
    let host = dir.join("host");
    fs::create_dir(&host).with_context(|| format!("create {}", host.display()))?;
    let (layout, tree_text) = (layout.display().to_string(), tree.display().to_string());
    for args in
        [&["image", "load", &layout][..], &["image", "import", &tree_text, "fixture"], &["volume", "create", "big"]]
    {
        run_quietly(&runtime(args))?;
    }

    let host_ro = format!("{}:/host:ro", host.display());
    let without = runtime(&["run", "--rm", "busybox", "/bin/true"]);
    let with = runtime(&["run", "--rm", "-v", "/test", "-v", "data:/data", "-v", &host_ro, "busybox", "/bin/true"]);
    let mut times = interleaved(&[("run --rm", &without), ("run --rm, 3 volumes", &with)], PAIRS)?;

    let layer = fs::read_dir(store.join("layers"))
        .with_context(|| format!("list {}", store.join("layers").display()))?
        .flatten()
        .map(|entry| entry.path().join("diff/usr"))
        .find(|usr| usr.is_dir())
        .context("the fixture image's layer has no usr/")?;
    let copied = dir.join("cp-a");
    let copy = [
        ("copyData", runtime(&["run", "--rm", "-v", "big:/usr", "fixture", "/bin/true"]).join(" ")),
        ("cp -a", format!("cp -a {} {}", layer.display(), copied.display())),
    ];
    let prepare = [runtime(&["volume", "rm", "big"]).join(" "), format!("rm -rf {}", copied.display())];
    times.extend(hyperfine(&dir.join("copy.json"), &copy, &prepare, 20)?);
    Ok(times)
}

/// Runs each of `commands` `runs` times, in turn (one of each, then again), after 10 of each to warm up;
/// returns each one's median and mean.
fn interleaved(commands: &[(&str, &Vec<String>)], runs: usize) -> Result<Vec<(String, Times)>> {
    let mut seconds: Vec<Vec<f64>> = vec![Vec::with_capacity(runs); commands.len()];
    for round in 0..runs + 10 {
        for (i, (_, words)) in commands.iter().enumerate() {
            let started = Instant::now();
            run_quietly(words)?;
            if round >= 10 {
                seconds[i].push(started.elapsed().as_secs_f64());
            }
        }
    }
    eprintln!("interleaved, {runs} runs each:");
    let mut times = Vec::new();
    for ((name, words), mut samples) in commands.iter().zip(seconds) {
        samples.sort_by(f64::total_cmp);
        let median = (samples[runs / 2] + samples[(runs - 1) / 2]) / 2.0;
        let mean = samples.iter().sum::<f64>() / runs as f64;
        eprintln!("  {name}: median {:.2} ms, mean {:.2} ms ({})", median * 1e3, mean * 1e3, words.join(" "));
        times.push((name.to_string(), Times { mean, median }));
    }
    Ok(times)
}

/// Runs `words` with no input or output, and fails if it fails.
fn run_quietly(words: &[String]) -> Result<()> {
    let status = Command::new(&words[0])
        .args(&words[1..])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .with_context(|| format!("start `{}`", words.join(" ")))?;
    ensure!(status.success(), "`{}` failed ({status})", words.join(" "));
    Ok(())
}

/// Writes a root filesystem to `tree`: busybox as `/bin/true`, and a `/usr` of [`FILES`] entries.
///
/// `usr/{bin,lib,share,include}/pkgNN/subN/fileNN`: 40 packages of five
/// directories of 20 entries; every tenth entry is a symlink to the one
/// before, every fourth file is executable, and the sizes, from 0 to 32 KiB,
/// are the same on every machine.
fn usr_tree(tree: &Path) -> Result<()> {
    let bin = tree.join("bin");
    fs::create_dir_all(&bin).with_context(|| format!("create {}", bin.display()))?;
    fs::copy("/bin/busybox", bin.join("busybox")).context("copy /bin/busybox into the fixture")?;
    symlink("busybox", bin.join("true")).context("link the fixture's /bin/true")?;
    let mut n = 0;
    for package in 0..40 {
        let kind = ["bin", "lib", "share", "include"][package % 4];
        for sub in 0..5 {
            let dir = tree.join(format!("usr/{kind}/pkg{package:02}/sub{sub}"));
            fs::create_dir_all(&dir).with_context(|| format!("create {}", dir.display()))?;
            for file in 0..20 {
                n += 1;
                let path = dir.join(format!("file{file:02}"));
                if file % 10 == 9 {
                    symlink(format!("file{:02}", file - 1), &path)
                        .with_context(|| format!("create {}", path.display()))?;
                    continue;
                }
                fs::write(&path, vec![(n % 251) as u8; n * 7919 % 32768])
                    .with_context(|| format!("write {}", path.display()))?;
                let mode = if file % 4 == 0 { 0o755 } else { 0o644 };
                fs::set_permissions(&path, fs::Permissions::from_mode(mode))
                    .with_context(|| format!("chmod {}", path.display()))?;
            }
        }
    }
    ensure!(n == FILES, "the fixture has {n} entries, not {FILES}");
    Ok(())
}
