//! Faults and races: a runtime killed half-way, runs at once, a full disk.
//!
//! The store keeps its promises however a command ends: what a killed
//! runtime leaves is collected by the next command, concurrent runs each get
//! a name and their image, `image rm` never pulls an image from under a
//! `run`, and a full disk leaves the store as it was, lets `image rm` free
//! space, and never costs a container its exit status. The full disk is a
//! small tmpfs, mounted where only the test's commands see it
//! ([`SmallDisk`]).

use std::fs;
use std::io::{ErrorKind, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Output, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use nix::sys::stat::Mode;
use rebox_support::sample_image::sample_image;
use rebox_support::{Chapter, Outcome, RUN_TIMEOUT, Running, SmallDisk, chapter, require_root};

use super::{
    cgroups_of, copy_tree_readable, only_container, require_overlayfs, snapshot, wait_until_gone,
    wait_until_recorded_running, with_sample,
};

/// Names in a store directory (`tmp`, `layers`...), sorted.
fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap_or_else(|err| panic!("list {}: {err}", dir.display()))
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Waits, up to a minute, for `done`; fails the test with `what` if it never happens.
#[track_caller]
fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done() {
        assert!(Instant::now() < deadline, "{what} did not happen within a minute");
        sleep(Duration::from_millis(10));
    }
}

#[test]
fn a_run_rm_whose_runtime_was_killed_is_collected_by_the_next_command() {
    let ch = with_sample("mask-paths", "to run containers");
    let running =
        Running::start(&ch, &["run", "--rm", "--name", "gone", "busybox", "sh", "-c", "echo ready; exec sleep 100"]);
    let (runtime, container) = (running.runtime_pid(), running.container_pid());
    let id = only_container(&ch);
    wait_until_recorded_running(&ch, &id);
    running.signal(runtime, "KILL");
    running.finish_unchecked();
    wait_until_gone(container);
    assert!(!cgroups_of(&id).is_empty(), "the killed runtime's cgroup should be there for the next command to remove");
    let ps = ch.run(["ps", "-a"]);
    assert!(!ps.success().contains("gone"), "a --rm container outlived its runtime:\n{}", ps.stdout);
    assert_eq!(entries(&ch.root().join("containers")), Vec::<String>::new(), "its directory was left");
    assert_eq!(cgroups_of(&id), Vec::<PathBuf>::new(), "its cgroup was left");
}

/// The blob of the sample's top layer in the OCI layout at `layout`.
fn top_layer_blob(layout: &Path) -> PathBuf {
    let json = |path: PathBuf| -> serde_json::Value { serde_json::from_slice(&fs::read(path).unwrap()).unwrap() };
    let blob = |digest: &serde_json::Value| layout.join("blobs/sha256").join(&digest.as_str().unwrap()[7..]);
    let index = json(layout.join("index.json"));
    let manifest = json(blob(&index["manifests"][0]["digest"]));
    blob(&manifest["layers"].as_array().unwrap().last().unwrap()["digest"])
}

/// Opens the FIFO at `path` for writing, once a reader has it open.
fn open_fifo_for_writing(path: &Path, reader: &mut Child) -> Option<fs::File> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        // Non-blocking: ENXIO until a reader opened it, instead of blocking for ever if none comes.
        match fs::OpenOptions::new().write(true).custom_flags(libc::O_NONBLOCK).open(path) {
            Ok(file) => return Some(file),
            Err(err) if err.raw_os_error() == Some(libc::ENXIO) => {}
            Err(err) => panic!("open {} for writing: {err}", path.display()),
        }
        if reader.try_wait().unwrap().is_some() {
            return None;
        }
        assert!(Instant::now() < deadline, "image load did not open the layer within a minute");
        sleep(Duration::from_millis(10));
    }
}

#[test]
fn a_killed_image_load_leaves_nothing_once_the_next_command_ran() {
    require_root("to load images with their owners");
    let ch = chapter!("whiteout");
    // The sample, its top layer's blob a FIFO the test feeds: the load stops half-way into that layer.
    let layout = ch.root().join("layout");
    copy_tree_readable(sample_image(), &layout);
    let top = top_layer_blob(&layout);
    let blob = fs::read(&top).unwrap();
    fs::remove_file(&top).unwrap();
    nix::unistd::mkfifo(&top, Mode::from_bits_truncate(0o644)).unwrap();
    let args = ["image", "load", layout.to_str().unwrap()];
    let mut load = spawn(&ch, &args);
    let (tmp, layers) = (ch.root().join("tmp"), ch.root().join("layers"));
    let fifo = open_fifo_for_writing(&top, &mut load).map(|mut fifo| {
        fifo.write_all(&blob[..blob.len() / 2]).unwrap();
        wait_for("unpacking the top layer", || {
            let unpacking = entries(&layers).len() == 2 && entries(&tmp).iter().any(|name| name.starts_with(".layer-"));
            unpacking || load.try_wait().unwrap().is_some()
        });
        fifo
    });
    if fifo.is_none() || load.try_wait().unwrap().is_some() {
        // It ended on its own: at a step's `todo!()`, which the failure names, or on an error it printed.
        let outcome = finish(&ch, &args, load);
        outcome.fail_on_todo(ch.step());
        panic!("image load ended before the test could kill it in its top layer:\n{}", outcome.dump());
    }
    load.kill().unwrap();
    load.wait().unwrap();
    drop(fifo);
    assert_eq!(entries(&layers).len(), 2, "the killed load leaves the two layers it had stored");
    let images = ch.run(["images"]);
    assert_eq!(images.success().lines().count(), 1, "{}", images.stdout);
    for dir in ["tmp", "layers", "images"] {
        assert_eq!(entries(&ch.root().join(dir)), Vec::<String>::new(), "{dir}/ after the next command");
    }
}

/// Spawns the chapter's binary with `args`, its output captured.
fn spawn(ch: &Chapter, args: &[&str]) -> Child {
    ch.command(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("start the runtime")
}

/// Waits for a runtime started with [`spawn`].
fn finish(ch: &Chapter, args: &[&str], child: Child) -> Outcome {
    let args: Vec<String> = args.iter().map(|arg| arg.to_string()).collect();
    Outcome::new(ch.name(), &args, child.wait_with_output().expect("wait for the runtime"))
}

#[test]
fn thirty_unnamed_runs_at_once_all_get_a_name_and_succeed() {
    let ch = with_sample("mask-paths", "to run containers");
    let args = ["run", "--rm", "busybox", "true"];
    // Three times: two runs that pick a name at the same moment are a matter of luck.
    for _ in 0..3 {
        let runs: Vec<Child> = (0..30).map(|_| spawn(&ch, &args)).collect();
        for child in runs {
            finish(&ch, &args, child).expect_code(0);
        }
        assert_eq!(entries(&ch.root().join("containers")), Vec::<String>::new());
    }
}

#[test]
fn image_rm_of_an_image_in_use_is_refused_unless_forced() {
    let ch = with_sample("mask-paths", "to run containers");
    ch.run(["run", "--name", "kept", "busybox", "true"]).expect_code(0);
    let id = only_container(&ch);
    let refused = ch.run(["image", "rm", "busybox"]);
    refused.expect_code(125);
    assert!(refused.stderr.contains(&format!("container {} is using it", &id[..12])), "{}", refused.dump());
    let forced = ch.run(["image", "rm", "-f", "busybox"]);
    assert_eq!(forced.success(), "Untagged: busybox:latest\n");
    let images = ch.run(["images"]);
    assert!(images.success().contains("<none>"), "the image stays for its container:\n{}", images.stdout);
    assert_eq!(entries(&ch.root().join("layers")).len(), 3, "the container's layers must stay");
    let image_id = entries(&ch.root().join("images"))[0].trim_end_matches(".json").to_owned();
    let by_id = ch.run(["image", "rm", &image_id[..12]]);
    by_id.expect_code(125);
    ch.run(["rm", "kept"]).expect_code(0);
    let deleted = ch.run(["image", "rm", &image_id[..12]]);
    assert!(deleted.success().starts_with("Deleted: sha256:"), "{}", deleted.dump());
    for dir in ["layers", "images", "containers"] {
        assert_eq!(entries(&ch.root().join(dir)), Vec::<String>::new(), "{dir}/");
    }
    let transcript = [refused, forced, images, by_id, deleted].map(|o| o.transcript()).concat();
    snapshot(&ch, "image_rm_in_use", &transcript);
}

#[test]
fn image_rm_during_runs_of_its_image_is_refused_or_refuses_them_cleanly() {
    let ch = with_sample("mask-paths", "to run containers");
    let run = ["run", "--rm", "busybox", "true"];
    let remove = ["image", "rm", "busybox"];
    for round in 0..5 {
        if round > 0 {
            ch.run(["image".as_ref(), "load".as_ref(), sample_image().as_os_str()]).expect_code(0);
        }
        let mut runs: Vec<Child> = (0..3).map(|_| spawn(&ch, &run)).collect();
        let rm = spawn(&ch, &remove);
        runs.extend((0..3).map(|_| spawn(&ch, &run)));
        for child in runs {
            let outcome = finish(&ch, &run, child);
            let refused = outcome.code == 125 && outcome.stderr.contains("unknown image \"busybox:latest\"");
            assert!(outcome.code == 0 || refused, "round {round}: a run failed otherwise:\n{}", outcome.dump());
        }
        let rm = finish(&ch, &remove, rm);
        let in_use = rm.code == 125 && rm.stderr.contains("is using it");
        assert!(rm.code == 0 || in_use, "round {round}: image rm failed otherwise:\n{}", rm.dump());
        if in_use {
            ch.run(remove).expect_code(0);
        }
        for dir in ["layers", "images", "containers", "tmp"] {
            assert_eq!(entries(&ch.root().join(dir)), Vec::<String>::new(), "round {round}: {dir}/");
        }
    }
}

/// A [`SmallDisk`] in the test's directory, with a store on it; removes the store's containers before it goes.
struct Disk<'a> {
    ch: &'a Chapter,
    disk: SmallDisk,
}

impl<'a> Disk<'a> {
    /// A tmpfs mounted with `options` (`size=2m`, `nr_inodes=300`) at `<test root>/<name>`.
    fn mount(ch: &'a Chapter, name: &str, options: &str) -> Self {
        Self { ch, disk: SmallDisk::mount(&ch.root().join(name), options) }
    }

    /// The store on the disk, as the test sees it.
    fn store(&self) -> PathBuf {
        self.disk.path().join("store")
    }

    /// Runs the chapter's binary on the disk's store.
    fn run(&self, args: &[&str]) -> Outcome {
        let root = self.disk.dir().join("store");
        let mut command = self.disk.command(self.ch.binary());
        command.arg("--root").arg(&root).args(args);
        let output: Output =
            assert_cmd::Command::from_std(command).timeout(RUN_TIMEOUT).output().expect("run the chapter binary");
        let args: Vec<String> = args.iter().map(|arg| arg.to_string()).collect();
        let outcome = Outcome::new(self.ch.name(), &args, output);
        outcome.fail_on_todo(self.ch.step());
        outcome
    }

    /// Free blocks and free inodes of the disk.
    fn free(&self) -> (u64, u64) {
        let stats = nix::sys::statvfs::statvfs(&self.disk.path()).expect("statvfs the small disk");
        (stats.blocks_available() as u64, stats.files_available() as u64)
    }

    /// Used blocks and used inodes of the disk.
    fn used(&self) -> (u64, u64) {
        let stats = nix::sys::statvfs::statvfs(&self.disk.path()).expect("statvfs the small disk");
        ((stats.blocks() - stats.blocks_free()) as u64, (stats.files() - stats.files_free()) as u64)
    }

    /// Writes zeros to a file on the disk until it is full.
    fn fill(&self) {
        let mut file = fs::File::create(self.disk.path().join("filler")).unwrap();
        let zeros = vec![0; 4096];
        loop {
            match file.write(&zeros) {
                Ok(0) => break,
                Ok(_) => {}
                Err(err) if err.kind() == ErrorKind::StorageFull => break,
                Err(err) => panic!("fill the small disk: {err}"),
            }
        }
    }
}

impl Drop for Disk<'_> {
    fn drop(&mut self) {
        for id in fs::read_dir(self.store().join("containers")).into_iter().flatten().flatten() {
            let _ = self.run(&["rm", "-f", &id.file_name().to_string_lossy()]);
        }
    }
}

/// Loads the sample onto a fresh disk mounted with `options`: the whole image, or an error and the store as it was.
fn load_onto(ch: &Chapter, options: &str) -> Outcome {
    let disk = Disk::mount(ch, &format!("disk-{}", options.replace(['=', ','], "-")), options);
    let sample = sample_image().to_str().unwrap();
    disk.run(&["images"]).expect_code(0);
    let empty = disk.free();
    let load = disk.run(&["image", "load", sample]);
    let images = disk.run(&["images"]);
    let store = disk.store();
    if load.code == 0 {
        assert!(images.success().contains("busybox "), "{options}: loaded but not listed:\n{}", images.stdout);
        assert_eq!(entries(&store.join("layers")).len(), 3, "{options}");
    } else {
        load.expect_code(125);
        let said = load.stderr.contains("has no space left") || load.stderr.contains("has no inodes left");
        assert!(said && !load.stderr.contains("refuse"), "{options}: what ran out is not said:\n{}", load.dump());
        assert_eq!(images.success().lines().count(), 1, "{options}: an image is listed:\n{}", images.stdout);
        for dir in ["layers", "images"] {
            assert_eq!(entries(&store.join(dir)), Vec::<String>::new(), "{options}: {dir}/ after a failed load");
        }
        assert_eq!(disk.free(), empty, "{options}: the failed load left blocks or inodes in use");
    }
    assert_eq!(entries(&store.join("tmp")), Vec::<String>::new(), "{options}: tmp/");
    load
}

#[test]
fn image_load_onto_a_nearly_full_disk_leaves_nothing_or_the_whole_image() {
    require_root("to mount a small tmpfs");
    let ch = chapter!("whiteout");
    // What the sample takes, on a disk with room to spare.
    let (blocks, inodes) = {
        let roomy = Disk::mount(&ch, "roomy", "size=64m");
        roomy.run(&["images"]).expect_code(0);
        let empty = roomy.used();
        roomy.run(&["image", "load", sample_image().to_str().unwrap()]).expect_code(0);
        let loaded = roomy.used();
        (loaded.0 - empty.0, loaded.1)
    };
    // Disks that run out while the big layer is unpacked, then one page or inode at a time around the
    // last steps (the small layers, their size files, the config, repositories.json).
    let page = 4;
    let mut sizes: Vec<String> = [blocks / 8, blocks / 2].iter().map(|b| format!("size={}k", b * page)).collect();
    sizes.extend((blocks.saturating_sub(6)..=blocks + 1).map(|b| format!("size={}k", b * page)));
    sizes.extend([inodes / 2, inodes - 3, inodes - 2, inodes - 1, inodes].map(|n| format!("nr_inodes={n}")));
    let outcomes: Vec<(String, i32)> = sizes.iter().map(|size| (size.clone(), load_onto(&ch, size).code)).collect();
    assert!(outcomes.iter().any(|(_, code)| *code == 0), "no disk was big enough: {outcomes:?}");
    assert!(outcomes.iter().filter(|(_, code)| *code != 0).count() >= 6, "too few disks ran out: {outcomes:?}");
}

#[test]
fn image_rm_frees_space_on_a_full_disk() {
    require_root("to mount a small tmpfs");
    let ch = chapter!("whiteout");
    let disk = Disk::mount(&ch, "disk", "size=8m");
    disk.run(&["image", "load", sample_image().to_str().unwrap()]).expect_code(0);
    disk.fill();
    let full = disk.free();
    let rm = disk.run(&["image", "rm", "busybox"]);
    assert!(rm.success().starts_with("Untagged: busybox:latest\nDeleted: sha256:"), "{}", rm.dump());
    assert!(disk.free().0 > full.0 + 256, "image rm freed {} blocks", disk.free().0 - full.0);
    for dir in ["layers", "images", "tmp"] {
        assert_eq!(entries(&disk.store().join(dir)), Vec::<String>::new(), "{dir}/ after image rm");
    }
    assert_eq!(disk.run(&["images"]).success().lines().count(), 1);
}

#[test]
fn a_container_that_fills_the_disk_keeps_its_exit_status() {
    require_root("to mount a small tmpfs");
    require_overlayfs();
    let ch = chapter!("mask-paths");
    let disk = Disk::mount(&ch, "disk", "size=8m");
    disk.run(&["image", "load", sample_image().to_str().unwrap()]).expect_code(0);
    let script = "dd if=/dev/zero of=/filler bs=64k 2>/dev/null; exit 7";
    let run = disk.run(&["run", "--name", "filler", "busybox", "sh", "-c", script]);
    run.expect_code(7);
    assert_eq!(run.stderr, "", "the end of the container must be recorded on a full disk too");
    let ps = disk.run(&["ps", "-a"]);
    assert!(ps.success().contains("Exited (7)"), "{}", ps.stdout);
    let id = entries(&disk.store().join("containers")).remove(0);
    disk.run(&["rm", "filler"]).expect_code(0);
    assert_eq!(entries(&disk.store().join("containers")), Vec::<String>::new());
    assert_eq!(cgroups_of(&id), Vec::<PathBuf>::new(), "its cgroup was left");
}
