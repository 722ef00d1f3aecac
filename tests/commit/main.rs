//! Chapter 6 suite: a commit is the read-write layer, and only it, as a new image; a build is run + commit in a loop.
//!
//! Every test runs the chapter's binary on the sample images in a store of
//! its own, and looks from the host (the container's `upper/`, the layer
//! tar, the store's images and layers, the freezer's files, the mount
//! table) and from inside (a container of the committed image). Tests of
//! one step's function call the library (`below::lookup`, `pack_layer`,
//! `write_blob`). Each test names the step it confirms
//! (`chapter!("diff")`). Containers a failing test leaves are removed with
//! `rm -f` when its `Chapter` is dropped.
//!
//! Needs: root, overlayfs, /bin/busybox (busybox-static), the cgroup freezer
//! (v1's freezer tree, or v2).

#[cfg(solution)]
extern crate commit_solution as commit;

mod build;
mod save;

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use commit::below::lookup;
use commit::blob::write_blob;
use commit::dockerfile::{Instruction, instruction};
use commit::pack::pack_layer;
use rebox_support::sample_image::{helloworld_image, sample_image};
use rebox_support::{Chapter, Outcome, chapter, mount_table, redact_table_times, require_root};
use sha2::{Digest as _, Sha256};
use union_rootfs::image;
use union_rootfs::layer::diff_dir;
use union_rootfs::store::Store;

/// A chapter for a test of `step`, whose store holds `busybox` and `helloworld`.
pub fn with_images(step: &str) -> Chapter {
    require_root("to run containers");
    let filesystems = fs::read_to_string("/proc/filesystems").unwrap_or_default();
    assert!(filesystems.contains("\toverlay\n"), "this test needs overlayfs: `sudo modprobe overlay`");
    let ch = chapter!(step);
    for image in [sample_image(), helloworld_image()] {
        ch.run(["image".as_ref(), "load".as_ref(), image.as_os_str()]).expect_code(0);
    }
    ch
}

/// `run -d <args>`; returns the container's id.
pub fn detached(ch: &Chapter, args: &[&str]) -> String {
    ch.run([&["run", "-d"][..], args].concat()).success().trim().to_owned()
}

/// Snapshots `text`, with this test's store as `[ROOT]`, ids redacted and table times as `[DURATION]`.
pub fn snapshot(ch: &Chapter, name: &str, text: &str) {
    let text = redact_table_times(&text.replace(ch.root().to_str().unwrap(), "[ROOT]"));
    let _redacted = rebox_support::snapshot_settings();
    insta::assert_snapshot!(name, text);
}

/// `images -a`, its times redacted: what a refused command must leave as it was.
pub fn images_all(ch: &Chapter) -> String {
    redact_table_times(ch.run(["images", "-a"]).success())
}

/// The changes the lesson's container makes: one of each kind `diff` reports, and two it must not.
///
/// In `busybox` (the sample image): a file added, a file changed, a file
/// deleted, a directory replaced (opaque), `/etc/hosts` written (the init
/// layer's file, bound from outside the overlay) and a file written into the
/// volume at `/data` (outside the overlay too).
const CHANGES: &str = "echo added > /app/added.txt; echo more >> /app/hello; rm /etc/group; \
                       rm -rf /app/www; mkdir /app/www; echo new > /app/www/index.html; \
                       echo '10.0.0.9 db' >> /etc/hosts; echo kept > /data/in-volume";

/// Runs a container of `helloworld` named `name` with a volume at `/data`, makes [`CHANGES`], and stops it.
fn changed_container(ch: &Chapter, name: &str) -> PathBuf {
    ch.run(["run", "--name", name, "-v", "/data", "helloworld", "sh", "-c", CHANGES]).expect_code(0);
    let id = container_id(ch, name);
    ch.root().join("containers").join(id).join("upper")
}

/// The full id of the container `name`.
fn container_id(ch: &Chapter, name: &str) -> String {
    let outcome = ch.run(["inspect", "-f", "{{.Id}}", name]);
    outcome.success().trim().to_owned()
}

/// The image's layer directories, top first, as an overlay's lowerdir lists them.
fn layers_top_first(ch: &Chapter, reference: &str) -> Vec<PathBuf> {
    let store = Store::open(ch.root()).unwrap();
    let image = image::resolve(&store, reference).unwrap();
    image.chain_ids.iter().rev().map(|chain| diff_dir(&store, chain).unwrap()).collect()
}

/// The image config of `reference`, as JSON.
fn config_of(ch: &Chapter, reference: &str) -> serde_json::Value {
    let store = Store::open(ch.root()).unwrap();
    let image = image::resolve(&store, reference).unwrap();
    serde_json::to_value(&image.config).unwrap()
}

/// `sha256:<hex>` of `bytes`.
fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{}", hex_string(&Sha256::digest(bytes)))
}

fn hex_string(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

// Step `lower-lookup`.

#[test]
fn the_layers_below_are_looked_through_as_overlayfs_does() {
    let ch = with_images("lower-lookup");
    let layers = layers_top_first(&ch, "helloworld");
    let found = |path: &str| lookup(&layers, Path::new(path)).unwrap().map(|meta| meta.is_dir());
    assert_eq!(found("app/hello"), Some(false), "in the app's layer");
    assert_eq!(found("app/www/cgi-bin"), Some(true), "in the top layer");
    assert_eq!(found("etc/passwd"), Some(false), "in the base layer, under two layers that lack it");
    assert_eq!(found("etc/motd"), None, "the base layer has it, and the third layer's whiteout hides it");
    assert_eq!(found("tmp/nothing"), None);
}

// Step `diff`.

#[test]
fn diff_shows_what_the_container_added_changed_and_deleted_and_nothing_else() {
    let ch = with_images("diff");
    let upper = changed_container(&ch, "lesson");
    let outcome = ch.run(["diff", "lesson"]);
    let lines: Vec<&str> = outcome.success().lines().collect();
    assert_eq!(
        lines,
        [
            "C /app",
            "A /app/added.txt",
            "C /app/hello",
            "D /app/www",
            "A /app/www/index.html",
            "A /data",
            "C /etc",
            "D /etc/group"
        ],
        "{}",
        outcome.dump()
    );
    assert!(
        upper.join("data").is_dir() && !upper.join("data/in-volume").exists(),
        "the volume's file is not in upper/"
    );
    assert!(!upper.join("etc/hosts").exists(), "/etc/hosts is the init layer's bind mount, not in upper/");
    snapshot(&ch, "diff", &outcome.transcript());
}

// Step `whiteout-entries`.

#[test]
fn the_layer_tar_carries_oci_whiteouts_and_the_opaque_marker() {
    let ch = with_images("whiteout-entries");
    let upper = changed_container(&ch, "lesson");
    let tar = pack_layer(&upper, Vec::new()).unwrap();
    let mut listing = String::new();
    let mut archive = tar::Archive::new(&tar[..]);
    for entry in archive.entries().unwrap() {
        let entry = entry.unwrap();
        let header = entry.header();
        let line = format!(
            "{:<9} {:04o} {}:{} {:>3} {}\n",
            format!("{:?}", header.entry_type()),
            header.mode().unwrap(),
            header.uid().unwrap(),
            header.gid().unwrap(),
            header.size().unwrap(),
            entry.path().unwrap().display()
        );
        listing.push_str(&line);
    }
    assert!(listing.contains(" etc/.wh.group\n"), "a deletion is a .wh. file:\n{listing}");
    assert!(listing.contains(" app/www/.wh..wh..opq\n"), "a replaced directory is opaque:\n{listing}");
    assert!(!listing.contains("hosts") && !listing.contains("in-volume"), "{listing}");
    assert_eq!(pack_layer(&upper, Vec::new()).unwrap(), tar, "the same layer packs to the same bytes");
    snapshot(&ch, "layer_tar", &listing);
}

// Step `layer-blob`.

#[test]
fn the_blob_is_named_by_the_digests_of_its_bytes_and_of_its_tar() {
    let ch = with_images("layer-blob");
    let upper = changed_container(&ch, "lesson");
    let out = ch.root().join("blob.tar.gz");
    let blob = write_blob(&upper, &out).unwrap();
    let bytes = fs::read(&out).unwrap();
    assert_eq!((blob.digest.as_str(), blob.size), (sha256(&bytes).as_str(), bytes.len() as u64), "the blob's digest");
    let mut tar = Vec::new();
    flate2::read::GzDecoder::new(&bytes[..]).read_to_end(&mut tar).unwrap();
    assert_eq!(blob.diff_id, sha256(&tar), "the diff id is the uncompressed tar's digest");
    assert_eq!(tar, pack_layer(&upper, Vec::new()).unwrap(), "the blob is the layer tar, gzipped");
}

// Step `instruction`.

#[test]
fn dockerfile_lines_read_as_instructions() {
    let _step = chapter!("instruction");
    let read = |text: &str| instruction(text, 4).map_err(|err| err.to_string());
    assert_eq!(read("FROM busybox").unwrap(), Instruction::From("busybox".to_owned()));
    assert_eq!(read("run echo hi").unwrap(), Instruction::Run(vec!["/bin/sh".into(), "-c".into(), "echo hi".into()]));
    assert_eq!(read(r#"CMD ["httpd", "-f"]"#).unwrap(), Instruction::Cmd(vec!["httpd".into(), "-f".into()]));
    assert_eq!(read("ENV NAME World").unwrap(), Instruction::Env(vec![("NAME".into(), "World".into())]));
    assert_eq!(
        read("ADD . /app").unwrap(),
        Instruction::Copy { add: true, sources: vec![".".into()], destination: "/app".into() }
    );
    assert_eq!(read("EXPOSE 80 443/udp").unwrap(), Instruction::Expose(vec!["80".into(), "443/udp".into()]));
    assert_eq!(read("FORM busybox").unwrap_err(), "line 4: unknown instruction \"FORM\"");
    assert_eq!(read("COPY onlyone").unwrap_err(), "line 4: COPY needs a source and a destination");
}

// Step `image-config`: commit, and the commands around images.

#[test]
fn a_committed_image_runs_with_the_changes_deletions_included() {
    let ch = with_images("image-config");
    changed_container(&ch, "lesson");
    let parent = config_of(&ch, "helloworld");
    let layers_before = fs::read_dir(ch.root().join("layers")).unwrap().count();
    let committed =
        ch.run(["commit", "-m", "the lesson's changes", "-a", "Rebox <rebox@example.com>", "lesson", "lesson:v1"]);
    let id = committed.success().trim().to_owned();
    assert!(id.starts_with("sha256:") && id.len() == 71, "commit prints the image id: {}", committed.dump());
    assert_eq!(
        fs::read_dir(ch.root().join("layers")).unwrap().count(),
        layers_before + 1,
        "one layer more, none copied"
    );
    let config = config_of(&ch, "lesson:v1");
    let diff_ids = |config: &serde_json::Value| config["rootfs"]["diff_ids"].as_array().unwrap().clone();
    assert_eq!(diff_ids(&config)[..diff_ids(&parent).len()], diff_ids(&parent)[..], "the parent's layers, shared");
    assert_eq!(diff_ids(&config).len(), diff_ids(&parent).len() + 1);
    let last = config["history"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (last["comment"].as_str(), last["author"].as_str()),
        (Some("the lesson's changes"), Some("Rebox <rebox@example.com>"))
    );
    assert_eq!(config["config"], parent["config"], "no -c: the parent's run config");
    let inside = ch.run([
        "run",
        "--rm",
        "lesson:v1",
        "sh",
        "-c",
        "cat /app/added.txt /app/www/index.html; ls /app/www; ls /etc/group; ls -A /data",
    ]);
    assert_eq!(inside.stdout, "added\nnew\nindex.html\n", "{}", inside.dump());
    assert!(inside.stderr.contains("/etc/group: No such file or directory"), "the deletion: {}", inside.dump());
    let hosts = ch.run(["run", "--rm", "lesson:v1", "cat", "/etc/hosts"]);
    assert!(!hosts.success().contains("10.0.0.9"), "the container's /etc/hosts was committed:\n{}", hosts.stdout);
    snapshot(&ch, "commit_run", &inside.transcript());
}

#[test]
fn an_unchanged_container_commits_an_empty_layer() {
    let ch = with_images("image-config");
    ch.run(["run", "--name", "idle", "busybox", "true"]).expect_code(0);
    let layers_before = fs::read_dir(ch.root().join("layers")).unwrap().count();
    ch.run(["commit", "idle", "idle:v1"]).expect_code(0);
    assert_eq!(fs::read_dir(ch.root().join("layers")).unwrap().count(), layers_before, "no layer for nothing");
    let config = config_of(&ch, "idle:v1");
    let parent = config_of(&ch, "busybox");
    assert_eq!(config["rootfs"], parent["rootfs"]);
    assert_eq!(config["history"].as_array().unwrap().last().unwrap()["empty_layer"], true);
}

#[test]
fn changes_given_with_c_set_the_config() {
    let ch = with_images("image-config");
    ch.run(["run", "--name", "plain", "busybox", "true"]).expect_code(0);
    let changes = ["-c", "ENV NAME=Rebox", "-c", "EXPOSE 8080", "-c", "LABEL lesson=commit", "-c", "WORKDIR /app"];
    ch.run([&["commit"][..], &changes, &["plain", "configured"]].concat()).expect_code(0);
    let config = config_of(&ch, "configured");
    assert_eq!(config["config"]["ExposedPorts"], serde_json::json!({"80/tcp": {}, "8080/tcp": {}}));
    assert_eq!(config["config"]["Labels"], serde_json::json!({"lesson": "commit"}));
    let page = ch.run(["run", "--rm", "configured"]);
    assert!(page.success().starts_with("<h3>Hello Rebox!</h3>"), "the image's Cmd, with the new ENV:\n{}", page.dump());
}

#[test]
fn history_tag_and_rmi_read_like_docker() {
    let ch = with_images("image-config");
    changed_container(&ch, "lesson");
    ch.run(["commit", "-m", "the lesson's changes", "lesson", "lesson:v1"]).expect_code(0);
    let mut transcript = String::new();
    for args in [
        &["tag", "lesson:v1", "geektime/lesson:v1"][..],
        &["images"],
        &["history", "lesson:v1"],
        &["rmi", "helloworld"],
        &["rmi", "geektime/lesson:v1"],
        &["rm", "lesson"],
        &["rmi", "lesson:v1"],
        &["images"],
    ] {
        let outcome = ch.run(args);
        transcript.push_str(&outcome.transcript());
    }
    assert!(transcript.contains("unable to remove image helloworld: container"), "{transcript}");
    snapshot(&ch, "history_tag_rmi", &transcript);
}

// Step `freeze`.

#[test]
fn a_running_container_is_frozen_while_its_layer_is_read_and_runs_after() {
    let ch = with_images("freeze");
    let id = detached(&ch, &["--name", "busy", "busybox", "sh", "-c", "echo ready > /app/state; sleep 60"]);
    // `run -d` returns once the shell is exec'd: its first line may not have run yet.
    let ready = (0..100).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(20));
        ch.run_unchecked(["exec", "busy", "cat", "/app/state"]).stdout == "ready\n"
    });
    assert!(ready, "the container never wrote /app/state");
    let outcome = ch.run(["--trace", "commit", "busy", "busy:v1"]);
    outcome.expect_code(0);
    let writes: Vec<&str> = outcome
        .stderr
        .lines()
        .filter(|line| line.contains("freezer.state") || line.contains("cgroup.freeze"))
        .collect();
    let expected: [&str; 2] = if Path::new("/sys/fs/cgroup/cgroup.controllers").exists() {
        ["cgroup.freeze\", \"1\", 1) = 1", "cgroup.freeze\", \"0\", 1) = 1"]
    } else {
        ["freezer.state\", \"FROZEN\", 6) = 6", "freezer.state\", \"THAWED\", 6) = 6"]
    };
    assert_eq!(writes.len(), 2, "frozen once, thawed once:\n{}", outcome.stderr);
    assert!(writes[0].ends_with(expected[0]) && writes[1].ends_with(expected[1]), "{writes:?}");
    assert!(writes[0].contains(&id), "the container's own group: {writes:?}");
    assert_eq!(ch.run(["exec", "busy", "cat", "/app/state"]).success(), "ready\n", "it runs after the commit");
    let inside = ch.run(["run", "--rm", "busy:v1", "cat", "/app/state"]);
    assert_eq!(inside.success(), "ready\n", "the running container's layer was committed");
    let unpaused = ch.run(["--trace", "commit", "--pause=false", "busy"]);
    unpaused.expect_code(0);
    assert!(!unpaused.stderr.contains("freeze"), "--pause=false freezes nothing:\n{}", unpaused.stderr);
    ch.run(["rm", "-f", "busy"]).expect_code(0);
    assert_no_cgroup_left(&id);
}

/// Fails if any cgroup directory of the container `id` is left, in any tree.
fn assert_no_cgroup_left(id: &str) {
    let trees: Vec<PathBuf> = match fs::read_dir("/sys/fs/cgroup") {
        Ok(entries) => entries.flatten().map(|entry| entry.path()).chain([PathBuf::from("/sys/fs/cgroup")]).collect(),
        Err(_) => Vec::new(),
    };
    for tree in trees {
        let dir = tree.join("rebox").join(id);
        assert!(!dir.exists(), "the container's cgroup {} is left", dir.display());
    }
}

// Bad input, and what is left.

#[test]
fn bad_input_exits_125_and_changes_nothing() {
    let ch = with_images("image-config");
    ch.run(["run", "--name", "done", "busybox", "true"]).expect_code(0);
    let images_before = images_all(&ch);
    let layers_before = fs::read_dir(ch.root().join("layers")).unwrap().count();
    let mut transcript = String::new();
    for args in [
        &["commit", "nosuch"][..],
        &["commit", "-c", "RUN rm -rf /", "done"],
        &["commit", "-c", "EXPOSE http", "done"],
        &["commit", "done", "Not/A:Name"],
        &["tag", "busybox", "bad name"],
        &["history", "nosuch"],
        &["rmi", "nosuch"],
    ] {
        let outcome = ch.run(args);
        outcome.expect_code(125);
        transcript.push_str(&outcome.transcript());
    }
    assert_eq!(images_all(&ch), images_before, "a refused command changed the images");
    assert_eq!(fs::read_dir(ch.root().join("layers")).unwrap().count(), layers_before);
    assert_eq!(fs::read_dir(ch.root().join("tmp")).map(|d| d.count()).unwrap_or(0), 0, "staging left in tmp/");
    snapshot(&ch, "bad_input", &transcript);
}

#[test]
fn nothing_is_left_after_commits() {
    let ch = with_images("freeze");
    let mounts = mount_table();
    let id = detached(&ch, &["-v", "/test", "helloworld"]);
    ch.run(["exec", &id, "touch", "/test/text.txt", "/app/test.txt"]).expect_code(0);
    ch.run(["commit", &id, "helloworld:v2"]).expect_code(0);
    assert_eq!(mount_table(), mounts, "a mount is left on the host");
    let inside = ch.run(["run", "--rm", "helloworld:v2", "sh", "-c", "ls -A /test; ls /app"]);
    assert_eq!(inside.success(), "hello\ntest.txt\nwww\n", "the volume's mountpoint is committed empty");
    ch.run(["rm", "-f", "-v", &id]).expect_code(0);
    assert_no_cgroup_left(&id);
    assert_eq!(fs::read_dir(ch.root().join("tmp")).map(|d| d.count()).unwrap_or(0), 0, "staging left in tmp/");
}

#[test]
fn cli_commit_help_reads_like_dockers() {
    let ch = chapter!();
    let outcome: Outcome = ch.run(["commit", "--help"]);
    for option in ["-m, --message <MESSAGE>", "-a, --author <AUTHOR>", "-c, --change <INSTRUCTION>", "-p, --pause"] {
        assert!(outcome.success().contains(option), "{option} in:\n{}", outcome.stdout);
    }
}
