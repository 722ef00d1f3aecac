//! Chapter 5 suite: a volume is a bind mount, made in the container's mount namespace before `pivot_root`.
//!
//! Every test runs the chapter's binary on the sample images in a store of
//! its own, and looks from inside the container and from the host: the
//! volume's directory under `<root>/volumes/`, the container's read-write
//! layer, the host's mount table while the container runs, a marker file
//! a hostile image's symlink points at. Each test names the step it
//! confirms (`chapter!("copy-data")`). Containers left by a failing test are
//! removed with `rm -f` when its `Chapter` is dropped.
//!
//! Needs: root, overlayfs, /bin/busybox (busybox-static).

#[cfg(solution)]
extern crate bind_volume_solution as bind_volume;

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::time::Duration;

use bind_volume::spec::{Source, parse_volume};
use rebox_support::sample_image::{helloworld_image, sample_image};
use rebox_support::{Chapter, Outcome, chapter, mount_table, require_root};

/// A chapter for a test of `step`, whose store holds `busybox` and `helloworld`.
fn with_images(step: &str) -> Chapter {
    require_root("to run containers");
    let filesystems = fs::read_to_string("/proc/filesystems").unwrap_or_default();
    assert!(filesystems.contains("\toverlay\n"), "this test needs overlayfs: `sudo modprobe overlay`");
    let ch = chapter!(step);
    for image in [sample_image(), helloworld_image()] {
        ch.run(["image".as_ref(), "load".as_ref(), image.as_os_str()]).expect_code(0);
    }
    ch
}

/// The host directory of volume `name`: `<root>/volumes/<name>/_data`.
fn volume_data(ch: &Chapter, name: &str) -> PathBuf {
    ch.root().join("volumes").join(name).join("_data")
}

/// The names `volume ls` lists.
fn volume_names(ch: &Chapter) -> Vec<String> {
    let outcome = ch.run(["volume", "ls"]);
    outcome.success().lines().skip(1).map(|line| line.split_whitespace().nth(1).unwrap().to_owned()).collect()
}

/// `run -d <args>`; returns the container's id.
fn detached(ch: &Chapter, args: &[&str]) -> String {
    let outcome = ch.run([&["run", "-d"][..], args].concat());
    outcome.success().trim().to_owned()
}

/// Runs `program` on the host, as a transcript shows it: the host's side of a volume.
fn on_host(program: &str, args: &[&str]) -> Outcome {
    let output =
        std::process::Command::new(program).args(args).output().unwrap_or_else(|err| panic!("{program}: {err}"));
    Outcome::new(program, &args.iter().map(|arg| arg.to_string()).collect::<Vec<_>>(), output)
}

/// Snapshots `text`, with this test's store shown as `[ROOT]`.
fn snapshot(ch: &Chapter, name: &str, text: &str) {
    let text = text.replace(ch.root().to_str().unwrap(), "[ROOT]");
    let _redacted = rebox_support::snapshot_settings();
    insta::assert_snapshot!(name, text);
}

// Step `volume-spec`.

#[test]
fn a_volume_spec_reads_as_dockers() {
    let _step = chapter!("volume-spec");
    let spec = |text: &str| parse_volume(text).map_err(|err| err.to_string());
    assert_eq!(spec("/data").unwrap().source, Source::Anonymous);
    assert_eq!(spec("cache:/var/cache").unwrap().source, Source::Named("cache".to_owned()));
    let bind = spec("/srv/www:/app/www:ro").unwrap();
    assert_eq!(
        (bind.source, bind.destination, bind.readonly),
        (Source::Host("/srv/www".into()), "/app/www".into(), true)
    );
    assert!(spec("cache:/c:nocopy").unwrap().nocopy);
    assert_eq!(
        spec("./here:/data").unwrap_err(),
        "invalid volume \"./here:/data\": \"./here\" is neither an absolute host path nor a volume name ([a-zA-Z0-9][a-zA-Z0-9_.-]+)"
    );
    assert_eq!(
        spec("/h:data").unwrap_err(),
        "invalid volume \"/h:data\": the container path \"data\" must be absolute"
    );
    assert_eq!(
        spec("/h:/a/../b").unwrap_err(),
        "invalid volume \"/h:/a/../b\": the container path \"/a/../b\" must not climb with \"..\""
    );
}

#[test]
fn bad_volumes_exit_125_and_create_nothing() {
    let ch = with_images("volume-spec");
    let host = ch.root().join("never-made");
    let relative_destination = format!("{}:data", host.display());
    let cases = [
        vec!["-v", "relative/path:/data"],
        vec!["-v", "/data/../etc"],
        vec!["-v", "/"],
        vec!["-v", "/a", "-v", "named:/a"],
        vec!["-v", &relative_destination],
    ];
    let mut transcript = String::new();
    for volumes in &cases {
        let outcome = ch.run([&["run", "--rm"][..], volumes, &["busybox", "true"]].concat());
        outcome.expect_code(125);
        transcript.push_str(&outcome.transcript());
    }
    assert!(!host.exists(), "a refused run made a host directory");
    assert_eq!(fs::read_dir(ch.root().join("containers")).unwrap().count(), 0, "a refused run created a container");
    assert!(!ch.root().join("volumes").exists() || volume_names(&ch).is_empty(), "a refused run made a volume");
    snapshot(&ch, "bad_volumes", &transcript);
}

// Step `volume-dir`.

#[test]
fn volume_create_makes_a_directory_of_the_store() {
    let ch = with_images("volume-dir");
    // A name after every hex digit: `volume ls` sorts by name, and the anonymous volume's is random hex.
    assert_eq!(ch.run(["volume", "create", "pgdata"]).success(), "pgdata\n");
    let anonymous = ch.run(["volume", "create"]).success().trim().to_owned();
    assert!(anonymous.len() == 64 && anonymous.bytes().all(|b| b.is_ascii_hexdigit()), "{anonymous}");
    assert!(volume_data(&ch, "pgdata").is_dir() && volume_data(&ch, &anonymous).is_dir());
    let mut names = volume_names(&ch);
    names.sort();
    let mut expected = vec!["pgdata".to_owned(), anonymous];
    expected.sort();
    assert_eq!(names, expected);
    let inspect = ch.run(["volume", "inspect", "--", "pgdata"]);
    let json: serde_json::Value = serde_json::from_str(inspect.success()).unwrap();
    assert_eq!(json[0]["Mountpoint"], volume_data(&ch, "pgdata").display().to_string());
    let listing = ch.run(["volume", "ls"]);
    snapshot(&ch, "volume_ls", &listing.transcript().replace(&expected_anonymous(&names), "[ANONYMOUS]"));
}

/// The one 64-hex name among `names`.
fn expected_anonymous(names: &[String]) -> String {
    names.iter().find(|name| name.len() == 64).cloned().unwrap_or_default()
}

// Step `copy-data`.

#[test]
fn an_empty_volume_takes_the_images_content_and_keeps_what_it_is() {
    let ch = with_images("copy-data");
    // Seen from the host: the volume's directory, whether or not the run got further (a later step's todo!()).
    let traced = ch.run(["run", "--trace", "--rm", "-v", "app:/app", "busybox", "true"]);
    let copied = fs::metadata(volume_data(&ch, "app").join("hello")).expect("the image's /app/hello, copied");
    let layer = fs::read_dir(ch.root().join("layers"))
        .unwrap()
        .map(|e| e.unwrap().path().join("diff/app/hello"))
        .find(|p| p.exists())
        .unwrap();
    let original = fs::metadata(layer).unwrap();
    assert_eq!((copied.mode(), copied.uid(), copied.mtime()), (original.mode(), original.uid(), original.mtime()));
    ch.run(["run", "--rm", "-v", "/app", "busybox", "true"]);
    let anonymous: Vec<PathBuf> = fs::read_dir(ch.root().join("volumes"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().len() == 64)
        .collect();
    for volume in &anonymous {
        assert!(volume.join("_data/hello").is_file(), "an anonymous volume is filled too: {}", volume.display());
    }
    ch.run(["run", "--rm", "-v", "empty:/app:nocopy", "busybox", "true"]);
    assert_eq!(fs::read_dir(volume_data(&ch, "empty")).unwrap().count(), 0, ":nocopy leaves the volume empty");
    ch.run(["volume", "create", "mine"]).expect_code(0);
    fs::write(volume_data(&ch, "mine").join("note"), "mine\n").unwrap();
    ch.run(["run", "--rm", "-v", "mine:/app", "busybox", "true"]);
    assert_eq!(fs::read_dir(volume_data(&ch, "mine")).unwrap().count(), 1, "a volume with content is not filled");
    snapshot(&ch, "trace_copy_data", &copy_data_lines(&traced.stderr));
}

#[test]
fn a_volume_takes_the_owner_and_mode_of_the_images_directory() {
    let ch = with_images("copy-data");
    // A database's image: its data directory belongs to its user, 999, and no one else may read it.
    let tree = ch.root().join("db-image");
    fs::create_dir_all(tree.join("bin")).unwrap();
    fs::copy(rebox_support::busybox(), tree.join("bin/busybox")).unwrap();
    fs::create_dir(tree.join("db")).unwrap();
    fs::write(tree.join("db/base"), "rows\n").unwrap();
    std::os::unix::fs::chown(tree.join("db"), Some(999), Some(999)).unwrap();
    fs::set_permissions(tree.join("db"), fs::Permissions::from_mode(0o700)).unwrap();
    ch.run(["image", "import", tree.to_str().unwrap(), "db"]).expect_code(0);
    ch.run(["run", "--rm", "-v", "dbdata:/db", "db", "/bin/busybox", "true"]);
    let volume = fs::metadata(volume_data(&ch, "dbdata")).unwrap();
    assert_eq!(
        (volume.uid(), volume.gid(), volume.mode() & 0o7777),
        (999, 999, 0o700),
        "the volume's _data keeps the owner and mode of the image's /db"
    );
    assert!(volume_data(&ch, "dbdata").join("base").is_file(), "and its content");
}

/// The lines of a trace from copyData's clone to its `wait4`: the image's layers mounted in a namespace of their own.
fn copy_data_lines(trace: &str) -> String {
    let lines: Vec<&str> = trace.lines().collect();
    let start = lines.iter().position(|line| line.starts_with("clone(CLONE_NEWNS|SIGCHLD)"));
    let start = start.unwrap_or_else(|| panic!("no clone(CLONE_NEWNS|SIGCHLD) for copyData in:\n{trace}"));
    let end =
        start + lines[start..].iter().position(|line| line.starts_with("wait4(")).expect("a wait4 after the clone");
    lines[start..=end].iter().map(|line| redact_image_view(line) + "\n").collect()
}

/// The line with the random name of copyData's mount point, `.image-view-<random>`, as `.image-view-[TEMP]`.
fn redact_image_view(line: &str) -> String {
    let Some((before, after)) = line.split_once(".image-view-") else { return line.to_owned() };
    let rest = after.find(['/', '"']).map_or("", |end| &after[end..]);
    format!("{before}.image-view-[TEMP]{rest}")
}

#[test]
fn a_host_directory_hides_the_images_content_and_nothing_is_copied() {
    let ch = with_images("volume-mounts");
    let host = ch.root().join("host-dir");
    fs::create_dir(&host).unwrap();
    fs::write(host.join("from-the-host"), "hi\n").unwrap();
    let image = ch.run(["run", "--rm", "busybox", "ls", "/app"]);
    assert_eq!(image.success(), "hello\n");
    let outcome = ch.run(["run", "--rm", "-v", &format!("{}:/app", host.display()), "busybox", "ls", "/app"]);
    assert_eq!(outcome.success(), "from-the-host\n", "the image's /app/hello is hidden, not merged");
    assert_eq!(fs::read_dir(&host).unwrap().count(), 1, "nothing was copied into the host's directory");
    let listing = on_host("ls", &[host.to_str().unwrap()]);
    snapshot(&ch, "host_dir_hides", &[image, outcome, listing].map(|o| o.transcript()).concat());
}

// Step `volume-mounts`: the lesson's transcript, and what a bind is.

#[test]
fn the_container_sees_the_volumes_content_and_what_it_writes_stays() {
    let ch = with_images("volume-mounts");
    let first = ch.run(["run", "--rm", "-v", "app:/app", "busybox", "ls", "/app"]);
    assert_eq!(first.success(), "hello\n");
    ch.run(["run", "--rm", "-v", "app:/app", "busybox", "sh", "-c", "rm /app/hello; echo mine > /app/note"])
        .expect_code(0);
    assert_eq!(
        ch.run(["run", "--rm", "-v", "app:/app", "busybox", "ls", "/app"]).success(),
        "note\n",
        "filled once only"
    );
    let anonymous = ch.run(["run", "--rm", "-v", "/app", "busybox", "ls", "/app"]);
    let nocopy = ch.run(["run", "--rm", "-v", "empty:/app:nocopy", "busybox", "ls", "/app"]);
    assert_eq!((anonymous.success(), nocopy.success()), ("hello\n", ""));
    snapshot(&ch, "copy_data", &[first, anonymous, nocopy].map(|o| o.transcript()).concat());
}

#[test]
fn the_lessons_volume_transcript_seen_from_the_host() {
    let ch = with_images("volume-mounts");
    let mounts = mount_table();
    let run = ch.run(["run", "-d", "-v", "/test", "helloworld"]);
    let id = run.success().trim().to_owned();
    let ls = ch.run(["volume", "ls"]);
    let names = volume_names(&ch);
    assert_eq!(names.len(), 1, "docker volume ls lists one volume");
    let inspect = ch.run(["volume", "inspect", &names[0]]);
    let data = volume_data(&ch, &names[0]);
    let before = on_host("ls", &[data.to_str().unwrap()]);
    let touch = ch.run(["exec", &id[..12], "sh", "-c", "cd /test; touch text.txt"]);
    touch.expect_code(0);
    assert_eq!(mount_table(), mounts, "the volume's mount is the container's alone: the host's table is unchanged");
    assert!(data.join("text.txt").is_file(), "the file is in the volume on the host");
    let after = on_host("ls", &[data.to_str().unwrap()]);
    let upper_test = ch.root().join("containers").join(&id).join("upper/test");
    assert!(upper_test.is_dir(), "the mountpoint was made in the read-write layer");
    assert_eq!(fs::read_dir(&upper_test).unwrap().count(), 0, "and stays empty there: commit will carry only it");
    let upper = on_host("ls", &["-A", upper_test.to_str().unwrap()]);
    let inside = ch.run(["exec", &id[..12], "sh", "-c", "cut -d\" \" -f2 /proc/mounts | grep -x /test"]);
    assert_eq!(inside.success(), "/test\n", "inside, /test is a mountpoint");
    let host = on_host("grep", &["-c", ch.root().to_str().unwrap(), "/proc/self/mounts"]);
    assert_eq!(host.stdout, "0\n", "on the host, no mount under the store");
    let created = serde_json::from_str::<serde_json::Value>(inspect.success()).unwrap()[0]["CreatedAt"].clone();
    let transcript = [run, ls, inspect, before, touch, after, upper, inside, host].map(|o| o.transcript()).concat();
    let transcript = transcript.replace(&names[0], "[VOLUME]").replace(created.as_str().unwrap(), "[TIME]");
    snapshot(&ch, "lesson_volume", &transcript);
    let mounts_json = ch.run(["inspect", "-f", "{{json .Mounts}}", &id]);
    let json: serde_json::Value = serde_json::from_str(mounts_json.success()).unwrap();
    assert_eq!(
        (json[0]["Type"].as_str(), json[0]["Destination"].as_str(), json[0]["RW"].as_bool()),
        (Some("volume"), Some("/test"), Some(true))
    );
    ch.run(["rm", "-f", &id]).expect_code(0);
}

#[test]
fn read_only_binds_refuse_writes_inside_while_the_host_writes() {
    let ch = with_images("volume-mounts");
    let host = ch.root().join("shared");
    fs::create_dir(&host).unwrap();
    let file = ch.root().join("motd");
    fs::write(&file, "from the host\n").unwrap();
    let id = detached(
        &ch,
        &[
            "-v",
            &format!("{}:/shared:ro", host.display()),
            "-v",
            &format!("{}:/etc/motd", file.display()),
            "busybox",
            "sleep",
            "60",
        ],
    );
    let write = ch.run(["exec", &id, "touch", "/shared/x"]);
    write.expect_code(1);
    assert!(write.stderr.contains("Read-only file system"), "{}", write.dump());
    fs::write(host.join("from-host"), "new\n").unwrap();
    assert_eq!(ch.run(["exec", &id, "cat", "/shared/from-host", "/etc/motd"]).success(), "new\nfrom the host\n");
    snapshot(&ch, "read_only", &write.transcript().replace(&id, "[ID]"));
}

#[test]
fn a_volume_under_dev_or_sys_lands_on_the_containers_not_under_it() {
    let ch = with_images("volume-mounts");
    let host = ch.root().join("shared");
    fs::create_dir(&host).unwrap();
    fs::write(host.join("seen"), "").unwrap();
    let dev = format!("{}:/dev/shared", host.display());
    let sys = format!("{}:/sys/fs/cgroup:ro", host.display());
    let outcome = ch.run(["run", "--rm", "-v", &dev, "-v", &sys, "busybox", "ls", "/dev/shared", "/sys/fs/cgroup"]);
    assert_eq!(
        outcome.success(),
        "/dev/shared:\nseen\n\n/sys/fs/cgroup:\nseen\n",
        "the binds are made after /dev and /sys are mounted, as runc makes a container's own mounts"
    );
}

#[test]
fn a_symlink_in_the_image_cannot_take_a_mountpoint_out_of_the_root() {
    let ch = with_images("volume-mounts");
    let outside = ch.root().join("outside");
    fs::create_dir(&outside).unwrap();
    fs::write(outside.join("marker"), "the host's\n").unwrap();
    let tree = ch.root().join("hostile");
    fs::create_dir_all(tree.join("bin")).unwrap();
    fs::copy(rebox_support::busybox(), tree.join("bin/busybox")).unwrap();
    // An absolute symlink: the host's path, if followed from the host. (A relative one that climbs
    // above the layer is refused when the image is loaded; `in_root.rs` resolves both inside.)
    symlink(&outside, tree.join("abs")).unwrap();
    ch.run(["image", "import", tree.to_str().unwrap(), "hostile"]).expect_code(0);
    let volumes = ["-v", "/abs/made-by-the-runtime", "-v", "/abs"];
    let outcome = ch.run([&["run", "--rm"][..], &volumes[..2], &["hostile", "/bin/busybox", "ls", "/abs"]].concat());
    assert_eq!(outcome.success(), "made-by-the-runtime\n", "the mountpoint was made in the container's root");
    assert_eq!(fs::read_dir(&outside).unwrap().count(), 1, "a mountpoint was made outside the container's root");
    let link = on_host("readlink", &[tree.join("abs").to_str().unwrap()]);
    let listing = on_host("ls", &[outside.to_str().unwrap()]);
    snapshot(&ch, "symlink_mountpoint", &[link, outcome, listing].map(|o| o.transcript()).concat());
    let bound = ch.run([&["run", "--rm"][..], &volumes[2..], &["hostile", "/bin/busybox", "ls", "/abs"]].concat());
    bound.expect_code(0);
    assert_eq!(fs::read_to_string(outside.join("marker")).unwrap(), "the host's\n", "the host's file was touched");
    assert!(!Path::new("/made-by-the-runtime").exists());
}

#[test]
fn trace_shows_the_mountpoint_the_bind_and_the_remount_before_pivot_root() {
    let ch = with_images("volume-mounts");
    let outcome = ch.run(["run", "--trace", "--rm", "-v", "data:/data:ro", "busybox", "true"]);
    outcome.expect_code(0);
    let at =
        |needle: &str| outcome.stderr.find(needle).unwrap_or_else(|| panic!("no {needle} in:\n{}", outcome.stderr));
    let (mkdir, bind) = (at("[child] mkdir(\""), at("/volumes/data/_data\", \""));
    let remount = at("MS_RDONLY|MS_REMOUNT|MS_BIND, NULL) = 0");
    assert!(mkdir < bind && bind < remount && remount < at("[child] pivot_root("), "{}", outcome.stderr);
    let lines: Vec<&str> = outcome.stderr.lines().filter(|line| line.contains("/data")).collect();
    let id = fs::read_dir(ch.root().join("containers")).map(|mut d| d.next()).ok().flatten();
    assert!(id.is_none(), "--rm removed the container");
    snapshot(&ch, "trace_volume", &(lines.join("\n") + "\n"));
}

#[test]
fn a_started_container_mounts_its_volumes_again_and_rm_keeps_a_named_one() {
    let ch = with_images("volume-mounts");
    let script = "echo run >> /data/runs; cat /data/runs; sleep 60";
    detached(&ch, &["--name", "again", "-v", "runs:/data", "-v", "/scratch", "busybox", "sh", "-c", script]);
    ch.run(["stop", "-t", "1", "again"]).expect_code(0);
    ch.run(["start", "again"]).expect_code(0);
    let runs = (0..200).find_map(|_| {
        std::thread::sleep(Duration::from_millis(20));
        let logs = ch.run(["logs", "again"]).stdout;
        (logs == "run\nrun\nrun\n").then_some(logs)
    });
    assert!(runs.is_some(), "{}", ch.run(["logs", "again"]).dump());
    let before = ch.run(["volume", "ls"]);
    assert_eq!(volume_names(&ch).len(), 2);
    let anonymous = expected_anonymous(&volume_names(&ch));
    let rm = ch.run(["rm", "-f", "-v", "again"]);
    rm.expect_code(0);
    assert_eq!(volume_names(&ch), ["runs"], "rm -v removes the anonymous volume, keeps the named one");
    let after = ch.run(["volume", "ls"]);
    let transcript = [before, rm, after].map(|o| o.transcript()).concat().replace(&anonymous, "[ANONYMOUS]");
    snapshot(&ch, "rm_v", &transcript);
    ch.run(["run", "--rm", "-v", "/gone", "-v", "kept:/kept", "busybox", "true"]).expect_code(0);
    let mut names = volume_names(&ch);
    names.sort();
    assert_eq!(names, ["kept", "runs"], "--rm removes the anonymous volume, keeps the named one");
}

// Step `volume-in-use`.

#[test]
fn a_volume_in_use_is_not_removed() {
    let ch = with_images("volume-in-use");
    ch.run(["run", "--name", "user", "-v", "shared:/shared", "busybox", "true"]).expect_code(0);
    let refused = ch.run(["volume", "rm", "shared"]);
    refused.expect_code(125);
    assert_eq!(refused.stderr, "bind-volume: cannot remove volume shared: it is in use by container user\n");
    ch.run(["rm", "user"]).expect_code(0);
    ch.run(["volume", "rm", "shared"]).expect_code(0);
    assert!(!ch.root().join("volumes/shared").exists());
    snapshot(&ch, "volume_in_use", &refused.transcript());
}

#[test]
fn nothing_is_left_after_runs_with_volumes() {
    let ch = with_images("volume-in-use");
    let mounts = mount_table();
    let host = ch.root().join("h");
    fs::create_dir(&host).unwrap();
    let id = detached(
        &ch,
        &["-v", "/a", "-v", "named:/b", "-v", &format!("{}:/c:ro", host.display()), "busybox", "sleep", "60"],
    );
    ch.run(["exec", &id, "sh", "-c", "touch /a/x /b/y"]).expect_code(0);
    ch.run(["rm", "-f", "-v", &id]).expect_code(0);
    ch.run(["volume", "rm", "named"]).expect_code(0);
    assert_eq!(mount_table(), mounts, "a mount is left on the host");
    assert!(volume_names(&ch).is_empty(), "a volume is left");
    assert_eq!(fs::read_dir(ch.root().join("containers")).unwrap().count(), 0);
}

#[test]
fn cli_run_help_lists_the_volume_option() {
    let ch = chapter!();
    let outcome: Outcome = ch.run(["run", "--help"]);
    assert!(outcome.success().contains("-v, --volume <VOLUME>"), "{}", outcome.stdout);
    snapshot(&ch, "run_help", &outcome.transcript());
}
