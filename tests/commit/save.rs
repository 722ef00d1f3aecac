//! `save` (step `save`): the archive real tools read, and the ids that survive a round trip.
//!
//! Each test commits the lesson's changes to `helloworld` (a file added, a
//! file deleted, a directory replaced) as `lesson:v1`, saves it, and hands
//! the archive to another reader: `skopeo` (the OCI side and the Docker
//! side), `umoci` (which unpacks it into a root filesystem, whiteouts
//! applied), and this runtime itself, in an empty store, where the images
//! must keep their ids. Needs: root, overlayfs, skopeo and umoci.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use rebox_support::sample_image::{helloworld_image, sample_image};
use rebox_support::{Chapter, Outcome, chapter, require_root};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

/// The lesson's changes: a file added, a file deleted, and `/app/www` replaced by a new directory (opaque).
const CHANGES: &str = "echo saved > /app/added.txt; rm /etc/group; rm -rf /app/www; mkdir /app/www; \
                       echo new > /app/www/index.html";

/// What a container of the committed image must show: the changes, the deletion and the opaque directory included.
const LOOK: &str = "cat /app/added.txt; ls /app/www; ls /etc/group 2>&1; ls /etc";

/// A store with `busybox`, `helloworld`, and `lesson:v1`: `helloworld` with [`CHANGES`] committed.
fn with_lesson() -> Chapter {
    require_root("to run containers and unpack layers with their owners");
    let filesystems = fs::read_to_string("/proc/filesystems").unwrap_or_default();
    assert!(filesystems.contains("\toverlay\n"), "this test needs overlayfs: `sudo modprobe overlay`");
    let ch = chapter!("save");
    for image in [sample_image(), helloworld_image()] {
        ch.run(["image".as_ref(), "load".as_ref(), image.as_os_str()]).expect_code(0);
    }
    ch.run(["run", "--name", "lesson", "helloworld", "sh", "-c", CHANGES]).expect_code(0);
    ch.run(["commit", "lesson", "lesson:v1"]).expect_code(0);
    ch
}

/// Fails unless `tool` runs.
fn require_tool(tool: &str) {
    let found = Command::new(tool).arg("--version").output().is_ok_and(|out| out.status.success());
    assert!(found, "this test needs {tool}: `sudo apt-get install {tool}` (or `cargo xtask setup`)");
}

/// Runs `tool` with `args`; returns its standard output, failing the test if it fails.
fn run_tool(tool: &str, args: &[&str]) -> String {
    let out = Command::new(tool).args(args).output().unwrap_or_else(|err| panic!("run {tool}: {err}"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{tool} {args:?} failed:\n{stderr}");
    String::from_utf8(out.stdout).unwrap()
}

/// `save -o <root>/<file> <args>`; returns the archive's path and the run.
fn save(ch: &Chapter, file: &str, args: &[&str]) -> (PathBuf, Outcome) {
    let path = ch.root().join(file);
    let outcome = ch.run([&["save", "-o", path.to_str().unwrap()][..], args].concat());
    outcome.expect_code(0);
    (path, outcome)
}

/// `sha256:<hex>` of `bytes`.
fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// The image names of a store and their ids, from its `repositories.json`.
fn ids(root: &Path) -> BTreeMap<String, String> {
    serde_json::from_slice(&fs::read(root.join("repositories.json")).unwrap()).unwrap()
}

/// The members of a tar, in order: (path, content).
fn members(archive: &Path) -> Vec<(String, Vec<u8>)> {
    let mut tar = tar::Archive::new(fs::File::open(archive).unwrap());
    let mut members = Vec::new();
    for entry in tar.entries().unwrap() {
        let mut entry = entry.unwrap();
        let path = entry.path().unwrap().display().to_string();
        let mut content = Vec::new();
        std::io::Read::read_to_end(&mut entry, &mut content).unwrap();
        members.push((path, content));
    }
    members
}

/// The JSON member `name` of an archive.
fn json(members: &[(String, Vec<u8>)], name: &str) -> Value {
    let (_, bytes) = members.iter().find(|(path, _)| path == name).unwrap_or_else(|| panic!("no {name}"));
    serde_json::from_slice(bytes).unwrap()
}

/// A name for each digest of an OCI archive, from its own index: `manifest of lesson:v1`, `layer 4 of lesson:v1`.
fn labels(members: &[(String, Vec<u8>)]) -> Vec<(String, String)> {
    let mut labels: Vec<(String, String)> = Vec::new();
    let mut label = |digest: &Value, what: String| {
        let hex = digest.as_str().unwrap().trim_start_matches("sha256:").to_owned();
        if !labels.iter().any(|(known, _)| *known == hex) {
            labels.push((hex, what));
        }
    };
    for entry in json(members, "index.json")["manifests"].as_array().unwrap() {
        let name = entry["annotations"]["io.containerd.image.name"].as_str().unwrap();
        let name = name.trim_start_matches("docker.io/library/").to_owned();
        label(&entry["digest"], format!("manifest of {name}"));
        let hex = entry["digest"].as_str().unwrap().trim_start_matches("sha256:");
        let manifest = json(members, &format!("blobs/sha256/{hex}"));
        label(&manifest["config"]["digest"], format!("config of {name}"));
        for (i, layer) in manifest["layers"].as_array().unwrap().iter().enumerate() {
            label(&layer["digest"], format!("layer {} of {name}", i + 1));
        }
    }
    labels
}

/// `text` with each digest named by its label, and the sizes (which follow the host's busybox) hidden.
fn named(text: &str, labels: &[(String, String)]) -> String {
    let text = labels.iter().fold(text.to_owned(), |text, (hex, label)| text.replace(hex, &format!("<{label}>")));
    text.lines()
        .map(|line| match line.split_once("\"size\": ") {
            Some((before, after)) => format!("{before}\"size\": [SIZE]{}", if after.ends_with(',') { "," } else { "" }),
            None => line.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Unpacks an archive into the directory `dir`.
fn extract(archive: &Path, dir: &Path) {
    fs::create_dir_all(dir).unwrap();
    tar::Archive::new(fs::File::open(archive).unwrap()).unpack(dir).unwrap();
}

fn snapshot(ch: &Chapter, name: &str, text: &str) {
    let text = text.replace(ch.root().to_str().unwrap(), "[ROOT]");
    let _redacted = rebox_support::snapshot_settings();
    insta::assert_snapshot!(name, text);
}

#[test]
fn save_writes_an_oci_layout_with_dockers_manifest_and_each_shared_blob_once() {
    let ch = with_lesson();
    let (archive, saved) = save(&ch, "lesson.tar", &["helloworld", "lesson:v1"]);
    let members = members(&archive);
    let paths: Vec<&str> = members.iter().map(|(path, _)| path.as_str()).collect();
    let blobs: Vec<&(String, Vec<u8>)> =
        members.iter().filter(|(path, _)| path.starts_with("blobs/sha256/") && path.len() > 13).collect();
    assert_eq!(blobs.len(), 4 + 1 + 2 * 2, "helloworld's 4 layers, lesson's 1 more, a config and a manifest each");
    for (path, content) in blobs {
        assert_eq!(sha256(content)[7..], path[13..], "{path} is named by its digest");
    }
    let docker = json(&members, "manifest.json");
    let lesson = &ids(ch.root())["lesson:v1"];
    assert_eq!(docker[1]["RepoTags"], json!(["lesson:v1"]));
    assert_eq!(docker[1]["Config"], format!("blobs/sha256/{}", &lesson[7..]), "the config, byte for byte");
    let listing = format!(
        "{}{}\n--- index.json ---\n{}\n--- manifest.json ---\n{}\n",
        saved.transcript(),
        paths.join("\n"),
        serde_json::to_string_pretty(&json(&members, "index.json")).unwrap(),
        serde_json::to_string_pretty(&docker).unwrap()
    );
    snapshot(&ch, "save_listing", &named(&listing, &labels(&members)));
}

#[test]
fn skopeo_inspects_the_saved_image_from_both_of_its_indexes() {
    require_tool("skopeo");
    let ch = with_lesson();
    let (archive, _) = save(&ch, "lesson.tar", &["helloworld", "lesson:v1"]);
    let members = members(&archive);
    let docker = json(&members, "manifest.json");
    let layers: Vec<String> = docker[1]["Layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|path| path.as_str().unwrap().replace("blobs/sha256/", "sha256:"))
        .collect();
    let oci: Value =
        serde_json::from_str(&run_tool("skopeo", &["inspect", &format!("oci-archive:{}:v1", archive.display())]))
            .unwrap();
    assert_eq!(oci["Layers"], json!(layers), "skopeo lists the layer blobs the manifest names");
    let config: Value = serde_json::from_str(&run_tool(
        "skopeo",
        &["inspect", "--config", &format!("oci-archive:{}:v1", archive.display())],
    ))
    .unwrap();
    let stored: Value = serde_json::from_slice(
        &fs::read(ch.root().join(format!("images/{}.json", &ids(ch.root())["lesson:v1"][7..]))).unwrap(),
    )
    .unwrap();
    assert_eq!(config["rootfs"], stored["rootfs"], "the config's diff ids, as stored");
    let docker_side: Value = serde_json::from_str(&run_tool(
        "skopeo",
        &["inspect", &format!("docker-archive:{}:lesson:v1", archive.display())],
    ))
    .unwrap();
    assert_eq!(docker_side["Layers"].as_array().unwrap().len(), 5, "the same file read as a docker archive");
}

#[test]
fn umoci_unpacks_the_committed_changes_with_the_deletion_applied() {
    require_tool("umoci");
    let ch = with_lesson();
    let (archive, _) = save(&ch, "lesson.tar", &["lesson:v1"]);
    let layout = ch.root().join("layout");
    extract(&archive, &layout);
    let bundle = ch.root().join("bundle");
    run_tool("umoci", &["unpack", "--image", &format!("{}:v1", layout.display()), bundle.to_str().unwrap()]);
    let rootfs = bundle.join("rootfs");
    assert_eq!(fs::read_to_string(rootfs.join("app/added.txt")).unwrap(), "saved\n", "the file the container added");
    assert!(!rootfs.join("etc/group").exists(), "the file the container deleted is gone: the whiteout was applied");
    assert!(rootfs.join("etc/passwd").is_file(), "its neighbours are not");
    let www: Vec<String> =
        fs::read_dir(rootfs.join("app/www")).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    assert_eq!(www, ["index.html"], "the replaced directory is opaque: helloworld's cgi-bin/ is hidden");
}

#[test]
fn skopeo_copies_the_saved_image_into_a_docker_archive_that_loads_with_the_same_id() {
    require_tool("skopeo");
    let ch = with_lesson();
    let (archive, _) = save(&ch, "lesson.tar", &["lesson:v1"]);
    let copy = ch.root().join("copy.tar");
    run_tool(
        "skopeo",
        &[
            "copy",
            "--quiet",
            &format!("oci-archive:{}:v1", archive.display()),
            &format!("docker-archive:{}:lesson:copied", copy.display()),
        ],
    );
    let fresh = chapter!("save");
    assert_eq!(fresh.run(["image", "load", copy.to_str().unwrap()]).success(), "Loaded image: lesson:copied\n");
    assert_eq!(ids(fresh.root())["lesson:copied"], ids(ch.root())["lesson:v1"], "the same config, the same id");
}

#[test]
fn the_saved_images_load_into_an_empty_store_with_their_ids_and_files() {
    let ch = with_lesson();
    let (archive, _) = save(&ch, "all.tar", &["busybox", "helloworld", "lesson:v1"]);
    let fresh = chapter!("save");
    let load = fresh.run(["image", "load", archive.to_str().unwrap()]);
    assert_eq!(ids(fresh.root()), ids(ch.root()), "every image, by name, with the same id");
    let before = ch.run(["run", "--rm", "lesson:v1", "sh", "-c", LOOK]);
    let after = fresh.run(["run", "--rm", "lesson:v1", "sh", "-c", LOOK]);
    assert_eq!(after.success(), before.success(), "the same files, deletions included");
    assert!(after.stdout.contains("No such file or directory"), "/etc/group stays deleted: {}", after.dump());
    snapshot(&ch, "save_load", &format!("{}{}", load.transcript(), after.transcript()));
}

#[test]
fn the_docker_archive_format_holds_the_same_images_as_the_oci_one() {
    require_tool("skopeo");
    let ch = with_lesson();
    let (archive, _) = save(&ch, "legacy.tar", &["--format", "docker-archive", "helloworld", "lesson:v1"]);
    let members = members(&archive);
    let kinds: Vec<&str> = members.iter().map(|(path, _)| path.rsplit_once('.').map_or("", |(_, ext)| ext)).collect();
    assert_eq!(
        kinds,
        ["tar", "tar", "tar", "tar", "json", "tar", "json", "json"],
        "layers, config; layer, config; manifest"
    );
    for (path, content) in members.iter().filter(|(path, _)| path != "manifest.json") {
        let digest = sha256(content);
        assert_eq!(digest[7..], path[..64], "{path} is named by its digest (a diff id, an image id)");
    }
    let docker = json(&members, "manifest.json");
    assert_eq!(docker[1]["Layers"].as_array().unwrap().len(), 5);
    run_tool("skopeo", &["inspect", &format!("docker-archive:{}:lesson:v1", archive.display())]);
    let (oci, _) = save(&ch, "oci.tar", &["helloworld", "lesson:v1"]);
    let (legacy, layout) = (chapter!("save"), chapter!("save"));
    legacy.run(["image", "load", archive.to_str().unwrap()]).expect_code(0);
    layout.run(["image", "load", oci.to_str().unwrap()]).expect_code(0);
    let mut expected = ids(ch.root());
    expected.remove("busybox:latest");
    assert_eq!((ids(legacy.root()), ids(layout.root())), (expected.clone(), expected), "the same ids, either way");
}

#[test]
fn without_o_the_archive_goes_to_standard_output_and_is_the_same_every_time() {
    let ch = with_lesson();
    let (archive, _) = save(&ch, "lesson.tar", &["lesson:v1"]);
    let output = ch.command(["save", "lesson:v1"]).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(output.stdout == fs::read(&archive).unwrap(), "the same images save to the same bytes");
}

#[test]
fn an_unknown_image_exits_125_and_writes_nothing() {
    let ch = with_lesson();
    let target = ch.root().join("kept.tar");
    fs::write(&target, "what was there\n").unwrap();
    let outcome = ch.run(["save", "-o", target.to_str().unwrap(), "lesson:v1", "nosuch"]);
    outcome.expect_code(125);
    assert_eq!(fs::read_to_string(&target).unwrap(), "what was there\n", "the file is left as it was");
    let missing = ch.root().join("never.tar");
    ch.run(["save", "-o", missing.to_str().unwrap(), "nosuch"]).expect_code(125);
    let left: Vec<String> = fs::read_dir(ch.root())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.ends_with(".tar") || name.starts_with(".rebox-save-"))
        .collect();
    assert_eq!(left, ["kept.tar"], "no archive, and no temporary file beside it");
    save(&ch, "kept.tar", &["lesson:v1"]);
    let replaced = members(&target);
    assert!(replaced.iter().any(|(path, _)| path == "index.json"), "a save that succeeds replaces the file");
    snapshot(&ch, "save_unknown", &outcome.transcript());
}

#[test]
fn a_layer_stored_without_its_blob_is_packed_again_under_a_new_id_that_is_said() {
    require_tool("umoci");
    let ch = with_lesson();
    // A store made before blobs were kept: the layers' files only.
    for layer in fs::read_dir(ch.root().join("layers")).unwrap() {
        let layer = layer.unwrap().path();
        fs::remove_file(layer.join("blob")).unwrap();
        fs::remove_file(layer.join("blob.json")).unwrap();
    }
    let (archive, saved) = save(&ch, "repacked.tar", &["lesson:v1"]);
    assert!(saved.stderr.contains("WARNING: lesson:v1"), "{}", saved.dump());
    let fresh = chapter!("save");
    fresh.run(["image", "load", archive.to_str().unwrap()]).expect_code(0);
    let id = &ids(fresh.root())["lesson:v1"];
    assert_ne!(id, &ids(ch.root())["lesson:v1"], "packed again, the layers have other diff ids");
    assert!(saved.stderr.contains(id.as_str()), "the new id is said: {}", saved.dump());
    let after = fresh.run(["run", "--rm", "lesson:v1", "sh", "-c", LOOK]);
    assert_eq!(after.success(), ch.run(["run", "--rm", "lesson:v1", "sh", "-c", LOOK]).success(), "the same files");
    let layout = ch.root().join("layout");
    extract(&archive, &layout);
    let bundle = ch.root().join("bundle");
    run_tool("umoci", &["unpack", "--image", &format!("{}:v1", layout.display()), bundle.to_str().unwrap()]);
    assert!(!bundle.join("rootfs/etc/group").exists(), "the whiteout, packed again, still deletes");
}
