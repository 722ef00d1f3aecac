//! Chapter 6's benches: `commit` against `tar -czf` of the same layer, and `build`, cold and from its cache.
//!
//! Both work on stores in a tmpfs the bench mounts in its own directory,
//! and unmounts on every path, so that what is measured is the work, not
//! the disk: a commit `fsync`s its blob, which `tar` does not.
//!
//! - **commit.** A stopped container of `busybox` whose read-write layer
//!   holds [`FILES`] files, [`BYTES`] in all, written by [`fill_layer`]:
//!   two files in three text (words, which gzip shrinks about threefold),
//!   one in three random bytes (which it cannot shrink), as a layer of
//!   `pip install` holds `.py` files and `.so`s. `commit` of it packs the
//!   tar, hashes it, gzips it, hashes the blob, then stores the layer as
//!   chapter 3 stores every layer: the blob kept, unpacked once. Each run
//!   commits it anew: the image, and with it the layer, is removed before
//!   (untimed). `tar -czf` of the same `upper/` is the floor: the same
//!   files, tarred and gzipped, at gzip's default level, as the commit's.
//! - **build.** `build -t helloworld examples/helloworld`, the lesson's
//!   example: cold, on a store that has only `busybox` (made again before
//!   each run, untimed); and warm, on a store where the same build ran
//!   before, so that every step is `Using cache`.
//!
//! The two commands of each pair run in turn, one of each at a time
//! ([`alternating`]), and their medians are compared: a machine that gets
//! busier or quieter meanwhile does so for both.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context, Result, ensure};

use super::Times;
use super::tmpfs::measure_in_tmpfs;
use crate::chapters::workspace;

/// How many files the committed layer holds.
pub const FILES: usize = 2000;
/// How many bytes they hold in all: 50 MiB.
pub const BYTES: usize = 50 << 20;

/// Runs chapter 6's benches with `commit` in `work`, on the sample image layout `layout`.
pub fn measure(commit: &Path, work: &Path, layout: &Path) -> Result<Vec<(String, Times)>> {
    measure_in_tmpfs(&work.join("commit-tmpfs"), "3g", |tmpfs| measure_in(commit, tmpfs, layout))
}

fn measure_in(commit: &Path, dir: &Path, layout: &Path) -> Result<Vec<(String, Times)>> {
    let runtime = |store: &Path, args: &[&str]| {
        let mut words = vec![commit.display().to_string(), "--root".to_owned(), store.display().to_string()];
        words.extend(args.iter().map(|arg| arg.to_string()));
        words
    };
    let layout = layout.display().to_string();
    let store = dir.join("store");
    run_quietly(&runtime(&store, &["image", "load", &layout]))?;
    run_quietly(&runtime(&store, &["run", "--name", "big", "busybox", "true"]))?;
    let upper = only_container(&store)?.join("upper");
    let written = fill_layer(&upper)?;
    eprintln!("commit bench: {FILES} files, {written} bytes, in {}", upper.display());

    let archive = dir.join("upper.tar.gz");
    let commit_words = runtime(&store, &["commit", "big", "big:bench"]);
    let rmi = format!("{} rmi big:bench >/dev/null 2>&1 || true", runtime(&store, &[]).join(" "));
    let tar_words: Vec<String> =
        ["tar", "-czf", &archive.display().to_string(), "-C", &upper.display().to_string(), "."]
            .map(str::to_owned)
            .to_vec();
    let rm_archive = format!("rm -f {}", archive.display());
    let mut times = alternating(
        &[
            Timed { name: "commit", prepare: Some(rmi), words: commit_words },
            Timed { name: "tar -czf", prepare: Some(rm_archive), words: tar_words },
        ],
        10,
    )?;

    let example = workspace().join("examples/helloworld").display().to_string();
    let (cold, warm) = (dir.join("cold"), dir.join("warm"));
    run_quietly(&runtime(&warm, &["image", "load", &layout]))?;
    run_quietly(&runtime(&warm, &["build", "-t", "helloworld", &example]))?;
    let fresh =
        format!("rm -rf {0} && {1} image load {2} >/dev/null", cold.display(), runtime(&cold, &[]).join(" "), layout);
    times.extend(alternating(
        &[
            Timed {
                name: "build, cold",
                prepare: Some(fresh),
                words: runtime(&cold, &["build", "-t", "helloworld", &example]),
            },
            Timed {
                name: "build, warm",
                prepare: None,
                words: runtime(&warm, &["build", "-t", "helloworld", &example]),
            },
        ],
        20,
    )?);
    Ok(times)
}

/// A command to time, and the shell command that prepares each of its runs, untimed.
struct Timed {
    name: &'static str,
    prepare: Option<String>,
    words: Vec<String>,
}

/// Runs each command `runs` times, in turn (one of each, then again), after one of each to warm up;
/// returns each one's median and mean.
fn alternating(commands: &[Timed], runs: usize) -> Result<Vec<(String, Times)>> {
    let mut seconds: Vec<Vec<f64>> = vec![Vec::with_capacity(runs); commands.len()];
    for round in 0..=runs {
        for (i, timed) in commands.iter().enumerate() {
            if let Some(prepare) = &timed.prepare {
                run_quietly(&["sh".to_owned(), "-c".to_owned(), prepare.clone()])?;
            }
            let started = Instant::now();
            run_quietly(&timed.words)?;
            if round > 0 {
                seconds[i].push(started.elapsed().as_secs_f64());
            }
        }
    }
    eprintln!("alternating, {runs} runs each:");
    let mut times = Vec::new();
    for (timed, mut samples) in commands.iter().zip(seconds) {
        samples.sort_by(f64::total_cmp);
        let median = (samples[runs / 2] + samples[(runs - 1) / 2]) / 2.0;
        let mean = samples.iter().sum::<f64>() / runs as f64;
        eprintln!(
            "  {}: median {:.1} ms, mean {:.1} ms ({})",
            timed.name,
            median * 1e3,
            mean * 1e3,
            timed.words.join(" ")
        );
        times.push((timed.name.to_owned(), Times { mean, median }));
    }
    Ok(times)
}

/// The directory of the one container in `store`.
fn only_container(store: &Path) -> Result<PathBuf> {
    let containers = store.join("containers");
    let mut found = fs::read_dir(&containers).with_context(|| format!("list {}", containers.display()))?;
    let entry = found.next().context("the store has no container")?;
    Ok(entry.with_context(|| format!("list {}", containers.display()))?.path())
}

/// Writes [`FILES`] files of [`BYTES`] in all under `upper/usr/lib/python2.7/site-packages/`; returns the bytes written.
///
/// 40 packages of 50 files; file `i` is text (words of a fixed list) when
/// `i % 3 != 0`, else pseudo-random bytes; sizes spread from 1 KiB to about
/// 50 KiB. The same on every machine: the generator is seeded by the index.
fn fill_layer(upper: &Path) -> Result<usize> {
    let mut words: Vec<Vec<u8>> = Vec::new();
    let mut seed = Rng(0x5eed);
    for _ in 0..512 {
        let len = 2 + (seed.next() % 9) as usize;
        words.push((0..len).map(|_| b'a' + (seed.next() % 26) as u8).collect());
    }
    let sizes: Vec<usize> = (0..FILES).map(|i| 1024 + (i * 26693) % 50176).collect();
    let scale = BYTES as f64 / sizes.iter().sum::<usize>() as f64;
    let mut written = 0;
    for (i, size) in sizes.iter().enumerate() {
        let size = if i + 1 == FILES { BYTES - written } else { (*size as f64 * scale) as usize };
        let dir = upper.join(format!("usr/lib/python2.7/site-packages/pkg{:02}", i / 50));
        fs::create_dir_all(&dir).with_context(|| format!("create {}", dir.display()))?;
        let mut rng = Rng(i as u64 + 1);
        let mut content = Vec::with_capacity(size + 16);
        while content.len() < size {
            if i.is_multiple_of(3) {
                content.extend_from_slice(&rng.next().to_le_bytes());
            } else {
                content.extend_from_slice(&words[(rng.next() % 512) as usize]);
                content.push(if rng.next().is_multiple_of(12) { b'\n' } else { b' ' });
            }
        }
        content.truncate(size);
        let path = dir.join(format!("module{i:04}.py"));
        fs::write(&path, &content).with_context(|| format!("write {}", path.display()))?;
        written += size;
    }
    ensure!(written == BYTES, "the layer holds {written} bytes, not {BYTES}");
    Ok(written)
}

/// xorshift64: the same numbers on every machine, and no crate for it.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// Runs `words` with no input or output, and fails if it fails.
fn run_quietly(words: &[String]) -> Result<()> {
    let status = Command::new(&words[0])
        .args(&words[1..])
        .current_dir(workspace())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .with_context(|| format!("start `{}`", words.join(" ")))?;
    ensure!(status.success(), "`{}` failed ({status})", words.join(" "));
    Ok(())
}
