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
//!   of each at a time, and each one's median is taken ([`interleaved`]);
//!   a machine that gets busier or quieter meanwhile does so for both.
//! - **copyData.** A `/usr`-like tree of [`FILES`] files, in directories,
//!   with symlinks, executables and sizes up to 32 KiB, made by
//!   [`usr_tree`] and imported as the one-layer image `fixture`.
//!   `run --rm -v big:/usr fixture /bin/true`, with the volume removed
//!   before each run so that each run fills a new one, is a whole run:
//!   the clone that reads the image, the copy, then the container. Its
//!   median is compared with `cp -a` of the same tree, from the same layer
//!   to the same tmpfs, alone, each copy removed before the next; the two
//!   run in turn too.

use std::fs;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context, Result, ensure};

use super::Times;
use super::tmpfs::measure_in_tmpfs;

/// How many entries the copyData tree has: files, and one symlink in ten.
pub const FILES: usize = 4000;

/// How many runs of each command [`interleaved`] times, after 10 of each to warm up: a run, and a copy.
const RUNS: usize = 200;
const COPIES: usize = 30;

/// A command to time, and the one to run before each time it runs, untimed.
struct Timed<'a> {
    name: &'a str,
    prepare: Option<Vec<String>>,
    words: Vec<String>,
}

/// Runs chapter 5's benches with `bind_volume` in `work`, on the sample image layout `layout`.
pub fn measure(bind_volume: &Path, work: &Path, layout: &Path) -> Result<Vec<(String, Times)>> {
    measure_in_tmpfs(&work.join("volumes-tmpfs"), "2g", |tmpfs| measure_in(bind_volume, tmpfs, layout))
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
    let runs = [
        Timed { name: "run --rm", prepare: None, words: without },
        Timed { name: "run --rm, 3 volumes", prepare: None, words: with },
    ];
    let mut times = interleaved(&runs, RUNS)?;

    let layer = fs::read_dir(store.join("layers"))
        .with_context(|| format!("list {}", store.join("layers").display()))?
        .flatten()
        .map(|entry| entry.path().join("diff/usr"))
        // The sample image's layers may have a usr/ too: the fixture's is the one with its first package.
        .find(|usr| usr.join("bin/pkg00").is_dir())
        .context("no layer of the store has the fixture's usr/")?;
    let copied = dir.join("cp-a").display().to_string();
    let words = |words: &[&str]| words.iter().map(|word| word.to_string()).collect::<Vec<_>>();
    let copies = [
        Timed {
            name: "copyData",
            prepare: Some(runtime(&["volume", "rm", "big"])),
            words: runtime(&["run", "--rm", "-v", "big:/usr", "fixture", "/bin/true"]),
        },
        Timed {
            name: "cp -a",
            prepare: Some(words(&["rm", "-rf", &copied])),
            words: words(&["cp", "-a", &layer.display().to_string(), &copied]),
        },
    ];
    times.extend(interleaved(&copies, COPIES)?);
    Ok(times)
}

/// Runs each of `commands` `runs` times, in turn (one of each, then again), after 10 of each to warm up;
/// returns each one's median and mean. A command's `prepare` runs before each of its runs, untimed.
///
/// It also prints the CPU time each command's processes used, on average: on a machine busy with other
/// work, a run waits for a CPU, and that CPU time tells what the run itself cost.
fn interleaved(commands: &[Timed], runs: usize) -> Result<Vec<(String, Times)>> {
    let mut seconds: Vec<Vec<f64>> = vec![Vec::with_capacity(runs); commands.len()];
    let mut cpu = vec![0.0; commands.len()];
    for round in 0..runs + 10 {
        for (i, command) in commands.iter().enumerate() {
            if let Some(prepare) = &command.prepare {
                run_quietly(prepare)?;
            }
            let (started, used) = (Instant::now(), children_cpu()?);
            run_quietly(&command.words)?;
            if round >= 10 {
                seconds[i].push(started.elapsed().as_secs_f64());
                cpu[i] += children_cpu()? - used;
            }
        }
    }
    eprintln!("interleaved, {runs} runs each:");
    let mut times = Vec::new();
    for ((Timed { name, words, .. }, mut samples), cpu) in commands.iter().zip(seconds).zip(cpu) {
        samples.sort_by(f64::total_cmp);
        let median = (samples[runs / 2] + samples[(runs - 1) / 2]) / 2.0;
        let mean = samples.iter().sum::<f64>() / runs as f64;
        let cpu = cpu / runs as f64;
        eprintln!(
            "  {name}: median {:.2} ms, mean {:.2} ms, CPU {:.2} ms ({})",
            median * 1e3,
            mean * 1e3,
            cpu * 1e3,
            words.join(" ")
        );
        times.push((name.to_string(), Times { mean, median }));
    }
    Ok(times)
}

/// The CPU time, user and system, of this process's children that have ended, in seconds.
///
/// Fields 16 and 17 of `/proc/self/stat` (`man 5 proc`), in clock ticks of 10 ms: coarse for one run,
/// but the ticks a run is charged for average out over many.
fn children_cpu() -> Result<f64> {
    let stat = fs::read_to_string("/proc/self/stat").context("read /proc/self/stat")?;
    // The command's name, field 2, is in parentheses and may hold spaces: count from after it.
    let fields: Vec<&str> = stat.rsplit_once(") ").context("parse /proc/self/stat")?.1.split(' ').collect();
    let ticks = |n: usize| fields.get(n - 3).and_then(|field| field.parse::<f64>().ok());
    let (user, system) = (ticks(16), ticks(17));
    Ok((user.context("cutime")? + system.context("cstime")?) / CLOCK_TICKS)
}

/// Clock ticks per second, `getconf CLK_TCK`: 100 on every Linux the workshop runs on.
const CLOCK_TICKS: f64 = 100.0;

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
