//! Chapter 3 suite: a container runs on its own root filesystem, made from an image.
//!
//! Every test loads the sample image (`busybox:latest`, built from the
//! host's busybox by `rebox_support::sample_image`) into its own `--root`
//! store, runs the chapter's binary, and looks from inside the container
//! (what the command prints) and from the host (the store's directories,
//! the mount table). Images made by real tools (`umoci`, `skopeo`) and
//! hostile tarballs go through the same `image load` and `image import`.
//!
//! Tests named `cli_*` check the command line the starter already has; every
//! other test fails until the learner's steps are done.
//!
//! Needs: root, overlayfs, /bin/busybox (busybox-static), umoci and skopeo.

use std::fs;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::process::Command;

use rebox_support::sample_image::sample_image;
use rebox_support::{Chapter, Outcome, chapter, mount_table, require_root};

/// A chapter whose store holds the sample image.
fn with_sample(why: &str) -> Chapter {
    require_root(why);
    require_overlayfs();
    let ch = chapter!();
    ch.run(["image".as_ref(), "load".as_ref(), sample_image().as_os_str()]).expect_code(0);
    ch
}

#[track_caller]
fn require_overlayfs() {
    let filesystems = fs::read_to_string("/proc/filesystems").unwrap_or_default();
    assert!(
        filesystems.contains("\toverlay\n"),
        "this test needs overlayfs: `sudo modprobe overlay` (or a kernel built with CONFIG_OVERLAY_FS)"
    );
}

#[track_caller]
fn require_tool(tool: &str, package: &str) {
    let found = Command::new(tool).arg("--version").output().is_ok_and(|out| out.status.success());
    assert!(found, "this test needs {tool}: `sudo apt-get install {package}`");
}

/// `run <args>` with a cidfile; returns the outcome and the container's directory in the store.
fn run_keeping(ch: &Chapter, args: &[&str]) -> (Outcome, PathBuf) {
    let cidfile = ch.root().join(format!("cid-{}", fs::read_dir(ch.root()).unwrap().count()));
    let mut all = vec!["run", "--cidfile", cidfile.to_str().unwrap()];
    all.extend_from_slice(args);
    let outcome = ch.run(all);
    let id = fs::read_to_string(&cidfile).unwrap_or_else(|_| panic!("no container id written\n{}", outcome.dump()));
    (outcome, ch.root().join("containers").join(id.trim()))
}

/// Every path under `dir` with its type and size, to compare a tree before and after.
fn tree(dir: &Path) -> Vec<String> {
    let mut entries = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(path) = pending.pop() {
        for entry in fs::read_dir(&path).unwrap() {
            let entry = entry.unwrap();
            let meta = entry.path().symlink_metadata().unwrap();
            entries.push(format!("{} {:o} {}", entry.path().display(), meta.mode(), meta.len()));
            if meta.is_dir() {
                pending.push(entry.path());
            }
        }
    }
    entries.sort();
    entries
}

/// Snapshots `text`, with this test's store shown as `[ROOT]` (so overlay options stay readable),
/// and the times in `ps` and `images` tables as `[DURATION]`, their columns still aligned.
fn snapshot(ch: &Chapter, name: &str, text: &str) {
    let text = rebox_support::redact_table_times(&text.replace(ch.root().to_str().unwrap(), "[ROOT]"));
    let _redacted = rebox_support::snapshot_settings();
    let mut settings = insta::Settings::clone_current();
    // Host pids written to cgroup.procs, and their length.
    settings.add_filter(r#"(cgroup\.procs", )"\d+", \d+\) = \d+"#, "$1\"[PID]\", [LEN]) = [LEN]");
    settings.bind(|| insta::assert_snapshot!(name, text));
}

#[test]
fn the_root_is_the_image_not_the_host() {
    let ch = with_sample("to mount an overlay and pivot_root");
    let outcome = ch.run(["run", "--rm", "busybox", "ls", "/"]);
    let listing = outcome.success();
    assert!(listing.contains("app\n") && listing.contains("bin\n"), "{listing}");
    assert!(!listing.contains("boot\n") && !listing.contains("work\n"), "the host's / shows through:\n{listing}");
    snapshot(&ch, "ls_root", &outcome.transcript());
}

#[test]
fn the_command_is_pid_1_and_the_hostname_is_the_short_id() {
    let ch = with_sample("to create namespaces");
    let (outcome, dir) = run_keeping(&ch, &["busybox", "sh", "-c", "echo $$; hostname"]);
    let id = dir.file_name().unwrap().to_string_lossy().into_owned();
    assert_eq!(outcome.success(), format!("1\n{}\n", &id[..12]));
    assert_eq!(fs::read_to_string(dir.join("hostname")).unwrap(), format!("{}\n", &id[..12]));
}

#[test]
fn hello_prints_the_lessons_page_and_env_changes_it() {
    let ch = with_sample("to run containers");
    let hello = ch.run(["run", "--rm", "--hostname", "4ddf4638572d", "busybox"]);
    assert_eq!(hello.success(), "<h3>Hello World!</h3><b>Hostname:</b> 4ddf4638572d<br/>\n");
    let rebox = ch.run(["run", "--rm", "-e", "NAME=rebox", "busybox"]);
    assert!(rebox.success().starts_with("<h3>Hello rebox!</h3><b>Hostname:</b> "), "{}", rebox.dump());
    snapshot(&ch, "hello", &hello.transcript());
    snapshot(&ch, "hello_rebox", &rebox.transcript());
}

#[test]
fn the_images_whiteout_hides_the_base_layers_motd() {
    let ch = with_sample("to run containers");
    let base = fs::read_dir(ch.root().join("layers"))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().join("diff/etc/motd").is_file());
    assert_eq!(base.count(), 1, "the base layer keeps its /etc/motd on disk");
    let outcome = ch.run(["run", "--rm", "busybox", "cat", "/etc/motd"]);
    outcome.expect_code(1);
    assert!(outcome.stderr.contains("No such file"), "{}", outcome.dump());
    snapshot(&ch, "motd_whited_out", &outcome.transcript());
}

#[test]
fn writes_land_in_upper_and_the_image_layers_do_not_change() {
    let ch = with_sample("to run containers");
    let layers_before = tree(&ch.root().join("layers"));
    let (outcome, dir) = run_keeping(&ch, &["busybox", "sh", "-c", "echo hi > /app/note; echo more >> /etc/group"]);
    outcome.expect_code(0);
    assert_eq!(fs::read_to_string(dir.join("upper/app/note")).unwrap(), "hi\n");
    assert!(fs::read_to_string(dir.join("upper/etc/group")).unwrap().ends_with("more\n"), "copy-up of /etc/group");
    assert_eq!(tree(&ch.root().join("layers")), layers_before, "a container wrote into an image layer");
}

#[test]
fn only_a_container_removed_when_it_ends_skips_syncing_its_writes() {
    let ch = with_sample("to run containers");
    let root_mount = ["busybox", "grep", " / ", "/proc/mounts"];
    let removed = ch.run([&["run", "--rm"][..], &root_mount].concat());
    assert!(removed.success().starts_with("overlay / overlay "), "{}", removed.dump());
    // Shown as `volatile`, or by newer kernels as `fsync=volatile`.
    assert!(removed.stdout.contains("volatile"), "a --rm container's overlay is volatile:\n{}", removed.dump());
    let (kept, dir) = run_keeping(&ch, &root_mount);
    assert!(!kept.success().contains("volatile"), "a kept container's writes must reach the disk:\n{}", kept.dump());
    // Seen from the host: overlayfs marks a work directory once mounted volatile, and refuses it ever after.
    assert!(dir.join("work/work").is_dir() && !dir.join("work/work/incompat/volatile").exists());
}

#[test]
fn deleting_a_base_file_leaves_an_overlay_whiteout_in_upper() {
    let ch = with_sample("to run containers");
    let (outcome, dir) = run_keeping(&ch, &["busybox", "rm", "/bin/cat"]);
    outcome.expect_code(0);
    let meta = fs::symlink_metadata(dir.join("upper/bin/cat")).expect("no whiteout in upper/bin");
    assert!(meta.file_type().is_char_device() && meta.rdev() == 0, "not a 0/0 character device: {meta:?}");
    let again = ch.run(["run", "--rm", "busybox", "ls", "/bin/cat"]);
    again.expect_code(0);
}

#[test]
fn two_containers_of_one_image_do_not_see_each_others_writes() {
    let ch = with_sample("to run containers");
    run_keeping(&ch, &["--name", "first", "busybox", "sh", "-c", "echo mine > /app/secret"]).0.expect_code(0);
    let second = ch.run(["run", "--rm", "busybox", "ls", "/app"]);
    assert_eq!(second.success(), "hello\n");
}

#[test]
fn writes_to_etc_hosts_go_to_the_container_dir_not_upper() {
    let ch = with_sample("to run containers");
    let (outcome, dir) = run_keeping(&ch, &["busybox", "sh", "-c", "echo '10.0.0.1 db' >> /etc/hosts; cat /etc/hosts"]);
    assert!(outcome.success().ends_with("10.0.0.1 db\n"), "{}", outcome.dump());
    assert!(fs::read_to_string(dir.join("hosts")).unwrap().ends_with("10.0.0.1 db\n"));
    assert!(!dir.join("upper/etc/hosts").exists(), "/etc/hosts landed in the read-write layer");
    snapshot(&ch, "etc_hosts", &outcome.transcript());
}

#[test]
fn the_chroot_escape_works_with_no_pivot_and_fails_under_pivot_root() {
    let ch = with_sample("to run containers");
    let secret = ch.root().join("host-secret");
    fs::write(&secret, "the host's file\n").unwrap();
    let secret = secret.to_str().unwrap();
    // setns(2) into our own mount namespace resets our root to the namespace's root.
    let escape = ["busybox", "nsenter", "--mount=/proc/self/ns/mnt", "busybox", "cat", secret];
    let chrooted: Vec<&str> = ["run", "--rm", "--no-pivot"].into_iter().chain(escape).collect();
    let pivoted: Vec<&str> = ["run", "--rm"].into_iter().chain(escape).collect();
    let chrooted = ch.run(chrooted);
    assert_eq!(chrooted.success(), "the host's file\n", "the escape should work under chroot");
    let pivoted = ch.run(pivoted);
    pivoted.expect_code(1);
    snapshot(&ch, "escape_no_pivot", &chrooted.transcript());
    snapshot(&ch, "escape_pivot_root", &pivoted.transcript());
}

#[test]
fn masked_paths_are_empty_and_proc_sys_is_read_only() {
    let ch = with_sample("to run containers");
    let script = "ls /sys/firmware | wc -l; cat /proc/keys /proc/timer_list | wc -c; \
                  echo rebox > /proc/sys/kernel/domainname; cat /proc/sys/kernel/domainname";
    let outcome = ch.run(["run", "--rm", "busybox", "sh", "-c", script]);
    let lines: Vec<&str> = outcome.stdout.lines().map(str::trim).collect();
    assert_eq!(lines[..2], ["0", "0"], "masked paths show content:\n{}", outcome.dump());
    assert!(outcome.stderr.contains("Read-only file system"), "{}", outcome.dump());
    assert_ne!(lines.get(2), Some(&"rebox"), "/proc/sys was writable");
    snapshot(&ch, "masked_and_read_only", &outcome.transcript());
}

#[test]
fn the_host_mount_table_is_unchanged_after_runs_even_failed_ones() {
    let ch = with_sample("to run containers");
    let before = mount_table();
    ch.run(["run", "--rm", "busybox", "true"]).expect_code(0);
    ch.run(["run", "--rm", "busybox", "sh", "-c", "exit 7"]).expect_code(7);
    ch.run(["run", "--rm", "busybox", "nosuchcmd"]).expect_code(127);
    ch.run(["run", "--rm", "nosuchimage"]).expect_code(125);
    // Fails inside the container after the overlay is mounted: the working directory cannot be made.
    ch.run(["run", "--rm", "-w", "/etc/passwd/x", "busybox", "true"]).expect_code(125);
    assert_eq!(mount_table(), before, "a run left a mount on the host");
}

#[test]
fn a_umoci_image_with_a_whiteout_and_an_opaque_dir_loads_and_runs() {
    require_tool("umoci", "umoci");
    let ch = with_sample("to run containers");
    let work = ch.root().join("umoci");
    fs::create_dir(&work).unwrap();
    let umoci = |args: &[&str]| {
        let out = Command::new("umoci").args(args).current_dir(&work).output().expect("run umoci");
        assert!(out.status.success(), "umoci {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    umoci(&["init", "--layout", "app"]);
    umoci(&["new", "--image", "app:v1"]);
    umoci(&["unpack", "--image", "app:v1", "bundle"]);
    let rootfs = work.join("bundle/rootfs");
    for dir in ["bin", "etc", "data"] {
        fs::create_dir_all(rootfs.join(dir)).unwrap();
    }
    fs::copy(rebox_support::busybox(), rootfs.join("bin/busybox")).unwrap();
    fs::write(rootfs.join("etc/gone"), "deleted later\n").unwrap();
    fs::write(rootfs.join("data/old"), "hidden by the opaque dir\n").unwrap();
    umoci(&["repack", "--image", "app:v1", "bundle"]);
    fs::remove_file(rootfs.join("etc/gone")).unwrap();
    umoci(&["repack", "--image", "app:v1", "bundle"]);
    // umoci writes .wh. files for deletions; an opaque directory comes from a layer of our own, added by umoci.
    let opaque = work.join("opaque.tar");
    let mut builder = tar::Builder::new(fs::File::create(&opaque).unwrap());
    for (path, data) in [("data/.wh..wh..opq", &b""[..]), ("data/new", &b"after the opaque dir\n"[..])] {
        let mut header = tar::Header::new_ustar();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(0);
        header.set_uid(0);
        header.set_gid(0);
        builder.append_data(&mut header, path, data).unwrap();
    }
    builder.finish().unwrap();
    umoci(&["raw", "add-layer", "--image", "app:v1", opaque.to_str().unwrap()]);
    umoci(&["config", "--image", "app:v1", "--config.cmd", "/bin/busybox", "--config.cmd", "ls"]);

    let load = ch.run(["image", "load", work.join("app").to_str().unwrap()]);
    assert_eq!(load.success(), "Loaded image: app:v1\n");
    let outcome = ch.run(["run", "--rm", "app:v1", "/bin/busybox", "ls", "/etc", "/data"]);
    assert_eq!(outcome.success(), "/data:\nnew\n\n/etc:\nhostname\nhosts\nmtab\nresolv.conf\n");
    snapshot(&ch, "umoci_image", &format!("{}{}", load.transcript(), outcome.transcript()));
}

#[test]
fn a_docker_archive_made_by_skopeo_loads_runs_and_shares_layers() {
    require_tool("skopeo", "skopeo");
    let ch = with_sample("to run containers");
    let archive = ch.root().join("busybox.tar");
    let out = Command::new("skopeo")
        .args(["copy", "--quiet", &format!("oci:{}:latest", sample_image().display())])
        .arg(format!("docker-archive:{}:busybox:saved", archive.display()))
        .output()
        .expect("run skopeo");
    assert!(out.status.success(), "skopeo copy: {}", String::from_utf8_lossy(&out.stderr));
    let load = ch.run(["image", "load", archive.to_str().unwrap()]);
    assert_eq!(load.success(), "Loaded image: busybox:saved\n");
    assert_eq!(fs::read_dir(ch.root().join("layers")).unwrap().count(), 3, "the two images must share their layers");
    let outcome = ch.run(["run", "--rm", "-e", "NAME=skopeo", "busybox:saved"]);
    assert!(outcome.success().starts_with("<h3>Hello skopeo!</h3>"), "{}", outcome.dump());
    snapshot(&ch, "docker_archive", &format!("{}{}", load.transcript(), outcome.transcript()));
}

/// A tar entry: its name, its type and, for links, its target.
type RawEntry<'a> = (&'a str, tar::EntryType, &'a str);

/// A tar whose entries are written byte for byte, so they can say what the tar crate refuses to write.
fn raw_tar(path: &Path, entries: &[RawEntry]) {
    let mut builder = tar::Builder::new(fs::File::create(path).unwrap());
    for (name, kind, link) in entries {
        let mut header = tar::Header::new_old();
        header.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
        header.as_old_mut().linkname[..link.len()].copy_from_slice(link.as_bytes());
        header.set_entry_type(*kind);
        header.set_mode(0o644);
        header.set_mtime(0);
        header.set_uid(0);
        header.set_gid(0);
        let data = if *kind == tar::EntryType::Regular { &b"pwned\n"[..] } else { &b""[..] };
        header.set_size(data.len() as u64);
        header.set_cksum();
        builder.append(&header, data).unwrap();
    }
    builder.finish().unwrap();
}

#[test]
fn hostile_tarballs_are_refused_and_leave_nothing() {
    require_root("to unpack layers with their owners");
    let ch = chapter!();
    let outside = ch.root().join("outside");
    fs::create_dir(&outside).unwrap();
    let target = outside.to_str().unwrap().to_owned();
    let cases: [(&str, Vec<RawEntry>); 3] = [
        ("dotdot", vec![("../pwned", tar::EntryType::Regular, "")]),
        ("symlink", vec![("escape", tar::EntryType::Symlink, &target), ("escape/pwned", tar::EntryType::Regular, "")]),
        ("hardlink", vec![("shadow", tar::EntryType::Link, "../../../etc/shadow")]),
    ];
    let mut transcript = String::new();
    for (name, entries) in &cases {
        let path = ch.root().join(format!("{name}.tar"));
        raw_tar(&path, entries);
        let outcome = ch.run(["image", "import", path.to_str().unwrap(), name]);
        outcome.expect_code(125);
        let entry = entries.last().unwrap().0;
        assert!(outcome.stderr.contains(&format!("refuse layer entry \"{entry}\"")), "{}", outcome.dump());
        transcript.push_str(&outcome.transcript());
    }
    assert!(!outside.join("pwned").exists() && !ch.root().join("pwned").exists(), "a file was written outside");
    for dir in ["layers", "images", "tmp", "containers"] {
        let left: Vec<_> = fs::read_dir(ch.root().join(dir)).unwrap().collect();
        assert!(left.is_empty(), "{dir}/ is not empty after refused imports: {left:?}");
    }
    snapshot(&ch, "hostile_tarballs", &transcript);
}

#[test]
fn ps_images_and_rm_read_like_docker() {
    let ch = with_sample("to run containers");
    ch.run(["run", "--name", "web", "busybox"]).expect_code(0);
    ch.run(["run", "--name", "job", "busybox", "sh", "-c", "exit 3"]).expect_code(3);
    let ps = ch.run(["ps"]);
    assert_eq!(ps.success().lines().count(), 1, "no container is running: {}", ps.stdout);
    let ps_all = ch.run(["ps", "-a"]);
    assert!(ps_all.success().contains("Exited (3)"), "{}", ps_all.stdout);
    let images = ch.run(["images"]);
    images.expect_code(0);
    let in_use = ch.run(["image", "rm", "busybox"]);
    in_use.expect_code(125);
    let rm = ch.run(["rm", "web", "job"]);
    assert_eq!(rm.success(), "web\njob\n");
    let image_rm = ch.run(["image", "rm", "busybox"]);
    image_rm.expect_code(0);
    for dir in ["layers", "images", "containers"] {
        assert_eq!(fs::read_dir(ch.root().join(dir)).unwrap().count(), 0, "{dir}/ is not empty");
    }
    let all = [ps, ps_all, images, in_use, rm, image_rm].map(|o| o.transcript()).concat();
    snapshot(&ch, "ps_images_rm", &all);
}

#[test]
fn entrypoint_cmd_workdir_and_env_follow_docker() {
    let ch = with_sample("to run containers");
    let runs: [&[&str]; 7] = [
        &["busybox", "echo", "COMMAND replaces Cmd"],
        &["--entrypoint", "/bin/echo", "busybox"],
        &["--entrypoint", "/bin/echo", "busybox", "entrypoint", "then", "COMMAND"],
        &["busybox", "pwd"],
        &["-w", "/", "busybox", "pwd"],
        &["-w", "/made/for/you", "busybox", "pwd"],
        &["-e", "NAME=rebox", "-e", "EXTRA=1", "--hostname", "box", "busybox", "env"],
    ];
    let outcomes: Vec<Outcome> =
        runs.iter().map(|args| ch.run(["run", "--rm"].iter().chain(args.iter()).collect::<Vec<_>>())).collect();
    let stdout: Vec<&str> = outcomes.iter().map(|o| o.success()).collect();
    assert_eq!(
        stdout[..6],
        ["COMMAND replaces Cmd\n", "\n", "entrypoint then COMMAND\n", "/app\n", "/\n", "/made/for/you\n"]
    );
    let env: Vec<&str> = stdout[6].lines().collect();
    for var in ["NAME=rebox", "EXTRA=1", "HOSTNAME=box", "HOME=/root"] {
        assert!(env.contains(&var), "{var} missing from {env:?}");
    }
    let imported = ch.root().join("rootfs");
    fs::create_dir_all(imported.join("bin")).unwrap();
    fs::copy(rebox_support::busybox(), imported.join("bin/sh")).unwrap();
    let import = ch.run(["image", "import", "-c", "CMD echo shell form, $0", imported.to_str().unwrap(), "shell"]);
    import.expect_code(0);
    let shell = ch.run(["run", "--rm", "shell"]);
    assert_eq!(shell.success(), "shell form, /bin/sh\n");
    let transcript: String = outcomes.iter().chain([&shell]).map(Outcome::transcript).collect();
    snapshot(&ch, "entrypoint_cmd", &transcript);
}

#[test]
fn unknown_image_used_name_or_nothing_to_run_exit_125_and_create_nothing() {
    let ch = with_sample("to run containers");
    run_keeping(&ch, &["--name", "web", "busybox", "true"]).0.expect_code(0);
    let unknown = ch.run(["run", "nosuch"]);
    let taken = ch.run(["run", "--name", "web", "busybox"]);
    let nothing = ch.run(["run", "--entrypoint", "", "busybox"]);
    for outcome in [&unknown, &taken, &nothing] {
        outcome.expect_code(125);
    }
    assert_eq!(fs::read_dir(ch.root().join("containers")).unwrap().count(), 1, "a failed run created a container");
    snapshot(&ch, "errors", &[unknown, taken, nothing].map(|o| o.transcript()).concat());
}

/// Docker's default masked paths; which of them exist depends on how the kernel was built.
const MASKED: [&str; 11] = [
    "/proc/asound",
    "/proc/acpi",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
];

/// Docker's default read-only paths: the first four are in every procfs, `sysrq-trigger` comes with a kernel option.
const READ_ONLY: [&str; 5] = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"];

/// Replaces each run of consecutive lines for which `fold` holds by the one line `placeholder`.
fn fold_lines(text: &str, fold: impl Fn(&str) -> bool, placeholder: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    for line in text.lines() {
        if !fold(line) {
            out.push(line);
        } else if out.last() != Some(&placeholder) {
            out.push(placeholder);
        }
    }
    out.join("\n") + "\n"
}

/// Puts `placeholder` right after the last line for which `after` holds, in place of the run of
/// lines there for which `optional` holds: the text is the same whether the kernel made any.
fn fold_after(text: &str, after: impl Fn(&str) -> bool, optional: impl Fn(&str) -> bool, placeholder: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let Some(anchor) = lines.iter().rposition(|line| after(line)) else { return text.to_owned() };
    let end = anchor + 1 + lines[anchor + 1..].iter().take_while(|line| optional(line)).count();
    [&lines[..=anchor], &[placeholder], &lines[end..]].concat().join("\n") + "\n"
}

/// The mount target of a traced `mount(...)` line.
fn mount_target(line: &str) -> Option<&str> {
    line.trim_start_matches("[child] ").strip_prefix("mount(")?.split("\", \"").nth(1)?.split('"').next()
}

#[test]
fn trace_shows_the_overlay_the_pivot_and_each_mount() {
    let ch = with_sample("to run containers");
    let outcome = ch.run(["run", "--trace", "--rm", "--hostname", "box", "busybox", "true"]);
    outcome.expect_code(0);
    for call in ["\"overlay\", 0, \"lowerdir=", "pivot_root(\".\", \".\") = 0", "umount2(\".\", MNT_DETACH) = 0"] {
        assert!(outcome.stderr.contains(call), "{call} missing from the trace:\n{}", outcome.stderr);
    }
    // The container's /proc and /sys are the host kernel's: each path it has is masked or made read-only.
    let targets: Vec<&str> = outcome.stderr.lines().filter_map(mount_target).collect();
    for path in MASKED.iter().chain(&READ_ONLY) {
        let mounted = targets.contains(path);
        assert_eq!(mounted, Path::new(path).exists(), "{path}: mounted over {mounted}:\n{}", outcome.stderr);
    }
    // `/proc/sysrq-trigger`, on a kernel that has it, is made read-only as `/proc/sys` is.
    let mounts_of = |path: &str| -> Vec<String> {
        let lines = outcome.stderr.lines().filter(|line| mount_target(line) == Some(path));
        lines.map(|line| line.replace(path, "<path>")).collect()
    };
    if Path::new("/proc/sysrq-trigger").exists() {
        assert_eq!(mounts_of("/proc/sysrq-trigger"), mounts_of("/proc/sys"), "{}", outcome.stderr);
    }
    // What differs from host to host is folded: the cgroup trees (chapter 2's, laid out as the host
    // lays them out), and which masked paths and whether `/proc/sysrq-trigger` this kernel has
    // (asserted just above).
    let text = fold_lines(
        &outcome.transcript(),
        |line| line.contains("\"/sys/fs/cgroup") && !line.starts_with("[child]"),
        "[the cgroup calls of chapter 2, for this host's cgroup trees]",
    );
    let text = fold_lines(
        &text,
        |line| line.starts_with("[child] write(\"/sys/fs/cgroup"),
        "[child] [chapter 2's join: \"0\" written in each of this host's cgroup trees]",
    );
    let text = fold_lines(
        &text,
        |line| mount_target(line).is_some_and(|target| MASKED.contains(&target)),
        "[child] [a mount over each of Docker's masked paths this kernel has]",
    );
    let text = fold_after(
        &text,
        |line| mount_target(line) == Some("/proc/sys"),
        |line| mount_target(line) == Some("/proc/sysrq-trigger"),
        "[child] [the same two mounts over /proc/sysrq-trigger, if this kernel has it]",
    );
    snapshot(&ch, "trace", &text);
}

#[test]
fn cli_run_help_lists_the_options() {
    let ch = chapter!();
    let outcome = ch.run(["run", "--help"]);
    outcome.expect_code(0);
    snapshot(&ch, "run_help", &outcome.transcript());
}
