//! Chapter 3 suite: a container runs on its own root filesystem, made from an image.
//!
//! Every test loads the sample image (`busybox:latest`, built from the
//! host's busybox by `rebox_support::sample_image`) into its own `--root`
//! store, runs the chapter's binary, and looks from inside the container
//! (what the command prints) and from the host (the store's directories,
//! the mount table). Images made by real tools (`umoci`, `skopeo`) and
//! hostile tarballs go through the same `image load` and `image import`.
//!
//! Each test names the step of the book it confirms (`chapter!("pivot-root")`).
//! The steps run in the order a learner writes them: loading an image
//! (`safe-path`, `whiteout`, `opaque`), then creating a container
//! (`entrypoint-cmd`, `init-layer`), then the child's root filesystem, whose
//! calls `--trace` shows even when the run stops at a later step's `todo!()`.
//! Tests named `cli_*` check the command line the starter already has.
//!
//! Needs: root, overlayfs, /bin/busybox (busybox-static), umoci and skopeo;
//! setpriv (util-linux), unprivileged user namespaces and a kernel that lets
//! them mount overlayfs (5.11) for the rootless test.

#[cfg(solution)]
extern crate union_rootfs_solution as union_rootfs;

mod faults;
mod security;

use std::fs;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

use rebox_support::sample_image::sample_image;
use rebox_support::{Chapter, Outcome, Running, chapter, mount_table, require_root};
use union_rootfs::overlay::Overlay;

/// A chapter whose store holds the sample image, for a test of `step`.
fn with_sample(step: &str, why: &str) -> Chapter {
    require_root(why);
    require_overlayfs();
    let ch = chapter!(step);
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
fn a_layer_path_stays_inside_the_layer() {
    let _step = chapter!("safe-path");
    let path = |name: &str| union_rootfs::unpack::layer_path(Path::new(name)).map_err(|err| err.to_string());
    assert_eq!(path("./etc/passwd"), Ok(PathBuf::from("etc/passwd")));
    assert_eq!(path("bin/../etc/hosts").unwrap_err(), "its path climbs out of the layer with \"..\"");
    assert_eq!(path("/etc/shadow").unwrap_err(), "its path is absolute");
}

#[test]
fn loading_the_sample_makes_its_whiteout_an_overlay_whiteout() {
    require_root("to make device nodes");
    let ch = chapter!("whiteout");
    ch.run(["image".as_ref(), "load".as_ref(), sample_image().as_os_str()]).expect_code(0);
    // The image's third layer is nothing but `etc/.wh.motd`: it must be a 0/0 character device now.
    let whiteouts: Vec<PathBuf> = fs::read_dir(ch.root().join("layers"))
        .unwrap()
        .map(|entry| entry.unwrap().path().join("diff/etc/motd"))
        .filter(|motd| {
            fs::symlink_metadata(motd).is_ok_and(|meta| meta.file_type().is_char_device() && meta.rdev() == 0)
        })
        .collect();
    assert_eq!(whiteouts.len(), 1, "one layer deletes /etc/motd with an overlay whiteout");
    assert!(!fs::read_dir(whiteouts[0].parent().unwrap()).unwrap().any(|e| e.unwrap().file_name() == ".wh.motd"));
}

#[test]
fn an_opaque_marker_becomes_the_overlay_xattrs() {
    require_root("to set trusted.* xattrs");
    let ch = chapter!("opaque");
    let tar = ch.root().join("opaque.tar");
    let mut builder = tar::Builder::new(fs::File::create(&tar).unwrap());
    let mut header = tar::Header::new_ustar();
    header.set_size(0);
    header.set_mode(0o644);
    header.set_mtime(0);
    builder.append_data(&mut header, "data/.wh..wh..opq", &b""[..]).unwrap();
    builder.finish().unwrap();
    ch.run(["image", "import", tar.to_str().unwrap(), "opaque"]).expect_code(0);
    let data = fs::read_dir(ch.root().join("layers")).unwrap().next().unwrap().unwrap().path().join("diff/data");
    // `user.overlay.opaque` too, for an overlay in a user namespace, where the filesystem takes it.
    let user = rebox_support::takes_user_xattrs(ch.root());
    for (name, expected) in [("trusted.overlay.opaque", Some("y")), ("user.overlay.opaque", user.then_some("y"))] {
        assert_eq!(rebox_support::xattr(&data, name).as_deref(), expected, "{name} on {}", data.display());
    }
    assert!(!data.join(".wh..wh..opq").exists(), "the marker itself must not be unpacked");
}

#[test]
fn the_command_is_entrypoint_then_cmd_after_the_flags() {
    let _step = chapter!("entrypoint-cmd");
    let strings = |words: &[&str]| words.iter().map(|w| w.to_string()).collect::<Vec<_>>();
    let line = |entrypoint: &[&str], cmd: &[&str], flag: Option<&str>, command: &[&str]| {
        union_rootfs::process::command_line(&strings(entrypoint), &strings(cmd), flag, &strings(command))
            .map_err(|err| err.to_string())
    };
    assert_eq!(line(&["/bin/echo"], &["hi"], None, &[]), Ok(strings(&["/bin/echo", "hi"])));
    assert_eq!(line(&["/bin/echo"], &["hi"], None, &["bye"]), Ok(strings(&["/bin/echo", "bye"])));
    assert_eq!(line(&[], &["./hello"], Some("/bin/date"), &[]), Ok(strings(&["/bin/date"])));
    assert_eq!(line(&["x"], &["./hello"], Some(""), &["ls"]), Ok(strings(&["ls"])));
    assert_eq!(
        line(&[], &[], None, &[]).unwrap_err(),
        "no command specified: the image has no Entrypoint or Cmd; give a COMMAND"
    );
}

#[test]
fn the_init_layer_binds_the_containers_own_files() {
    let _step = chapter!("init-layer");
    let binds = union_rootfs::init_layer::binds(Path::new("/store/containers/c"));
    let shown: Vec<String> = binds
        .iter()
        .map(|bind| format!("{} -> {} ro={}", bind.source.display(), bind.destination.display(), bind.readonly))
        .collect();
    assert_eq!(
        shown,
        [
            "/store/containers/c/hostname -> /etc/hostname ro=false",
            "/store/containers/c/hosts -> /etc/hosts ro=false",
            "/store/containers/c/resolv.conf -> /etc/resolv.conf ro=false",
        ]
    );
}

/// `--trace` of `run --rm busybox true`, which may stop at a later step's `todo!()`.
fn traced(ch: &Chapter) -> Outcome {
    let outcome = ch.run(["run", "--trace", "--rm", "--hostname", "box", "busybox", "true"]);
    assert!(outcome.code == 0 || outcome.todo_step().is_some(), "the run failed:\n{}", outcome.dump());
    outcome
}

/// Asserts that a line of the trace of `outcome` starts with `call` and succeeded.
#[track_caller]
fn assert_traced(outcome: &Outcome, call: &str) {
    let line = outcome.stderr.lines().find(|line| line.starts_with(call));
    let line = line.unwrap_or_else(|| panic!("no `{call}` in the trace:\n{}", outcome.stderr));
    assert!(!line.contains("= -1 "), "the call failed: {line}");
}

#[test]
fn the_child_enters_its_cgroup_then_makes_mounts_private_then_mounts_its_root() {
    let ch = with_sample("rootfs-order", "to run containers");
    let outcome = traced(&ch);
    let child: Vec<&str> = outcome.stderr.lines().filter(|line| line.starts_with("[child] ")).collect();
    let at = |start: &str| child.iter().position(|line| line.starts_with(start));
    let (unshare, private) = (at("[child] unshare(CLONE_NEWCGROUP)"), at("[child] mount(NULL, \"/\""));
    assert!(
        unshare.is_some() && private.is_some() && unshare < private,
        "cgroup, then private mounts:\n{}",
        outcome.stderr
    );
    let overlay = at("[child] mount(\"overlay\"");
    let stopped_at_overlay = outcome.todo_step().is_some_and(|(_, message)| message.contains("overlay"));
    assert!(overlay > private || (overlay.is_none() && stopped_at_overlay), "then the overlay:\n{}", outcome.stderr);
}

#[test]
fn the_overlay_options_stack_the_init_layer_over_the_image() {
    let _step = chapter!("overlay-options");
    let layers = [PathBuf::from("/s/layers/base/diff"), PathBuf::from("/s/layers/app/diff")];
    let overlay = Overlay::for_container(Path::new("/s/containers/c"), &layers, false);
    assert_eq!(
        overlay.options().unwrap(),
        "lowerdir=/s/containers/c/init:/s/layers/app/diff:/s/layers/base/diff,upperdir=/s/containers/c/upper,workdir=/s/containers/c/work"
    );
    let removed = Overlay::for_container(Path::new("/c"), &layers[..1], true);
    assert_eq!(
        removed.options().unwrap(),
        "lowerdir=/c/init:/s/layers/base/diff,upperdir=/c/upper,workdir=/c/work,volatile"
    );
    let userns = Overlay { userxattr: true, ..Overlay::for_container(Path::new("/c"), &layers[..1], false) };
    assert!(userns.options().unwrap().ends_with(",workdir=/c/work,userxattr"));
}

#[test]
fn the_child_mounts_the_overlay_on_merged() {
    let ch = with_sample("mount-overlay", "to run containers");
    let outcome = traced(&ch);
    let root = ch.root().display().to_string();
    assert_traced(&outcome, &format!("[child] mount(\"overlay\", \"{root}/containers/"));
    assert!(outcome.stderr.contains("/merged\", \"overlay\", 0, \"lowerdir="), "{}", outcome.stderr);
}

#[test]
fn the_init_layers_files_are_bound_over_their_placeholders() {
    let ch = with_sample("bind-mount", "to run containers");
    let outcome = traced(&ch);
    for file in ["hostname", "hosts", "resolv.conf"] {
        let call = format!("/merged/etc/{file}\", \"bind\", MS_BIND|MS_REC, NULL) = 0");
        assert!(
            outcome.stderr.lines().any(|line| line.ends_with(&call)),
            "no bind of /etc/{file}:\n{}",
            outcome.stderr
        );
    }
}

#[test]
fn the_child_makes_the_six_device_nodes() {
    let ch = with_sample("dev-nodes", "to run containers");
    let outcome = traced(&ch);
    for (name, major, minor) in
        [("null", 1, 3), ("zero", 1, 5), ("full", 1, 7), ("random", 1, 8), ("urandom", 1, 9), ("tty", 5, 0)]
    {
        let call = format!("/merged/dev/{name}\", S_IFCHR|0666, makedev({major}, {minor})) = 0");
        assert!(
            outcome.stderr.lines().any(|line| line.ends_with(&call)),
            "no mknod of /dev/{name}:\n{}",
            outcome.stderr
        );
    }
}

#[test]
fn the_child_pivots_into_its_root_and_detaches_the_old_one() {
    let ch = with_sample("pivot-root", "to run containers");
    let outcome = traced(&ch);
    let calls =
        ["[child] pivot_root(\".\", \".\") = 0", "[child] umount2(\".\", MNT_DETACH) = 0", "[child] chdir(\"/\") = 0"];
    let at = |call: &str| outcome.stderr.find(call).unwrap_or_else(|| panic!("no {call} in:\n{}", outcome.stderr));
    assert!(at(calls[0]) < at(calls[1]) && at(calls[1]) < at(calls[2]), "{}", outcome.stderr);
}

#[test]
fn the_root_is_the_image_not_the_host() {
    let ch = with_sample("mask-paths", "to mount an overlay and pivot_root");
    let outcome = ch.run(["run", "--rm", "busybox", "ls", "/"]);
    let listing = outcome.success();
    assert!(listing.contains("app\n") && listing.contains("bin\n"), "{listing}");
    assert!(!listing.contains("boot\n") && !listing.contains("work\n"), "the host's / shows through:\n{listing}");
    snapshot(&ch, "ls_root", &outcome.transcript());
}

#[test]
fn the_command_is_pid_1_and_the_hostname_is_the_short_id() {
    let ch = with_sample("mask-paths", "to create namespaces");
    let (outcome, dir) = run_keeping(&ch, &["busybox", "sh", "-c", "echo $$; hostname"]);
    let id = dir.file_name().unwrap().to_string_lossy().into_owned();
    assert_eq!(outcome.success(), format!("1\n{}\n", &id[..12]));
    assert_eq!(fs::read_to_string(dir.join("hostname")).unwrap(), format!("{}\n", &id[..12]));
}

#[test]
fn hello_prints_the_lessons_page_and_env_changes_it() {
    let ch = with_sample("mask-paths", "to run containers");
    let hello = ch.run(["run", "--rm", "--hostname", "4ddf4638572d", "busybox"]);
    assert_eq!(hello.success(), "<h3>Hello World!</h3><b>Hostname:</b> 4ddf4638572d<br/>\n");
    let rebox = ch.run(["run", "--rm", "-e", "NAME=rebox", "busybox"]);
    assert!(rebox.success().starts_with("<h3>Hello rebox!</h3><b>Hostname:</b> "), "{}", rebox.dump());
    snapshot(&ch, "hello", &hello.transcript());
    snapshot(&ch, "hello_rebox", &rebox.transcript());
}

#[test]
fn u_runs_the_command_as_a_user_of_the_containers_passwd() {
    let ch = with_sample("mask-paths", "to run containers");
    let nobody = ch.run(["run", "--rm", "-u", "nobody", "busybox", "sh", "-c", "id; echo $HOME"]);
    assert_eq!(nobody.success(), "uid=65534(nobody) gid=65534(nogroup) groups=65534(nogroup)\n/home\n");
    let numbers = ch.run(["run", "--rm", "-u", "1000:5", "busybox", "id"]);
    assert_eq!(numbers.success(), "uid=1000 gid=5(tty) groups=5(tty)\n", "a uid the image does not know is fine");
    let root_only = ch.run(["run", "--rm", "-u", "daemon", "busybox", "cat", "/root/.profile"]);
    assert!(root_only.stderr.contains("Permission denied"), "root's files are root's: {}", root_only.dump());
    let unknown = ch.run(["run", "--rm", "-u", "www-data", "busybox", "id"]);
    unknown.expect_code(125);
    assert!(
        unknown.stderr.contains("unable to find user www-data: no matching entries in passwd file"),
        "{}",
        unknown.dump()
    );
    snapshot(&ch, "run_as_nobody", &[nobody.transcript(), unknown.transcript()].concat());
}

#[test]
fn the_images_whiteout_hides_the_base_layers_motd() {
    let ch = with_sample("mask-paths", "to run containers");
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
    let ch = with_sample("mask-paths", "to run containers");
    let layers_before = tree(&ch.root().join("layers"));
    let (outcome, dir) = run_keeping(&ch, &["busybox", "sh", "-c", "echo hi > /app/note; echo more >> /etc/group"]);
    outcome.expect_code(0);
    assert_eq!(fs::read_to_string(dir.join("upper/app/note")).unwrap(), "hi\n");
    assert!(fs::read_to_string(dir.join("upper/etc/group")).unwrap().ends_with("more\n"), "copy-up of /etc/group");
    assert_eq!(tree(&ch.root().join("layers")), layers_before, "a container wrote into an image layer");
}

#[test]
fn only_a_container_removed_when_it_ends_skips_syncing_its_writes() {
    let ch = with_sample("mask-paths", "to run containers");
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
    let ch = with_sample("mask-paths", "to run containers");
    let (outcome, dir) = run_keeping(&ch, &["busybox", "rm", "/bin/cat"]);
    outcome.expect_code(0);
    let meta = fs::symlink_metadata(dir.join("upper/bin/cat")).expect("no whiteout in upper/bin");
    assert!(meta.file_type().is_char_device() && meta.rdev() == 0, "not a 0/0 character device: {meta:?}");
    let again = ch.run(["run", "--rm", "busybox", "ls", "/bin/cat"]);
    again.expect_code(0);
}

#[test]
fn two_containers_of_one_image_do_not_see_each_others_writes() {
    let ch = with_sample("mask-paths", "to run containers");
    run_keeping(&ch, &["--name", "first", "busybox", "sh", "-c", "echo mine > /app/secret"]).0.expect_code(0);
    let second = ch.run(["run", "--rm", "busybox", "ls", "/app"]);
    assert_eq!(second.success(), "hello\n");
}

#[test]
fn writes_to_etc_hosts_go_to_the_container_dir_not_upper() {
    let ch = with_sample("mask-paths", "to run containers");
    let (outcome, dir) = run_keeping(&ch, &["busybox", "sh", "-c", "echo '10.0.0.1 db' >> /etc/hosts; cat /etc/hosts"]);
    assert!(outcome.success().ends_with("10.0.0.1 db\n"), "{}", outcome.dump());
    assert!(fs::read_to_string(dir.join("hosts")).unwrap().ends_with("10.0.0.1 db\n"));
    assert!(!dir.join("upper/etc/hosts").exists(), "/etc/hosts landed in the read-write layer");
    snapshot(&ch, "etc_hosts", &outcome.transcript());
}

#[test]
fn the_chroot_escape_works_with_no_pivot_and_fails_under_pivot_root() {
    let ch = with_sample("mask-paths", "to run containers");
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
    let ch = with_sample("mask-paths", "to run containers");
    // The NIS domain name is the host's (each host has its own): the script compares it before and after.
    let script = "ls /sys/firmware | wc -l; cat /proc/keys /proc/timer_list | wc -c; \
                  cat /proc/sys/kernel/domainname > /tmp/before; echo rebox > /proc/sys/kernel/domainname; \
                  cmp -s /tmp/before /proc/sys/kernel/domainname && echo domainname unchanged";
    let outcome = ch.run(["run", "--rm", "busybox", "sh", "-c", script]);
    let lines: Vec<&str> = outcome.stdout.lines().map(str::trim).collect();
    assert_eq!(lines[..2], ["0", "0"], "masked paths show content:\n{}", outcome.dump());
    assert!(outcome.stderr.contains("Read-only file system"), "{}", outcome.dump());
    assert_eq!(lines.get(2), Some(&"domainname unchanged"), "/proc/sys was writable:\n{}", outcome.dump());
    snapshot(&ch, "masked_and_read_only", &outcome.transcript());
}

#[test]
fn the_devices_work_and_have_their_numbers_and_modes() {
    let ch = with_sample("mask-paths", "to run containers");
    let script = "echo gone > /dev/null && echo wrote /dev/null; head -c 4 /dev/zero | od -An -tx1; \
                  head -c 16 /dev/urandom | wc -c; echo x > /dev/full || echo /dev/full is full; \
                  stat -c '%n %F %t,%T %a' /dev/null /dev/zero /dev/full /dev/random /dev/urandom /dev/tty";
    let outcome = ch.run(["run", "--rm", "busybox", "sh", "-c", script]);
    let lines: Vec<&str> = outcome.stdout.lines().map(str::trim).collect();
    assert_eq!(lines[..4], ["wrote /dev/null", "00 00 00 00", "16", "/dev/full is full"], "{}", outcome.dump());
    for (name, numbers) in
        [("null", "1,3"), ("zero", "1,5"), ("full", "1,7"), ("random", "1,8"), ("urandom", "1,9"), ("tty", "5,0")]
    {
        let line = format!("/dev/{name} character special file {numbers} 666");
        assert!(lines.contains(&line.as_str()), "{line} missing:\n{}", outcome.dump());
    }
    snapshot(&ch, "devices", &outcome.transcript());
}

#[test]
fn with_a_user_namespace_root_inside_is_the_mapped_root_outside() {
    let ch = with_sample("mask-paths", "to run containers");
    let script = "id; cat /proc/self/uid_map; ls /etc/motd 2>&1; echo x > /dev/null && echo /dev/null works";
    let outcome = ch.run(["run", "--rm", "--userns", "busybox", "sh", "-c", script]);
    let stdout = outcome.success();
    assert!(stdout.starts_with("uid=0(root) gid=0(root)\n"), "{}", outcome.dump());
    let map: Vec<&str> = stdout.lines().nth(1).unwrap_or_default().split_whitespace().collect();
    assert_eq!(map, ["0", "0", "1"], "root inside is the caller, root, outside:\n{stdout}");
    assert!(stdout.contains("No such file"), "the image's whiteout must hold in a user namespace:\n{stdout}");
    assert!(stdout.ends_with("/dev/null works\n"), "{stdout}");
    // From the host: the container's process is in a user namespace of its own, under the mapped ids.
    let running =
        Running::start(&ch, &["run", "--rm", "--userns", "busybox", "sh", "-c", "echo ready; exec sleep 100"]);
    let pid = running.container_pid();
    let user_ns = fs::read_link(format!("/proc/{pid}/ns/user")).unwrap();
    assert_ne!(user_ns, fs::read_link("/proc/self/ns/user").unwrap(), "no user namespace of its own");
    let uid_map: Vec<String> =
        fs::read_to_string(format!("/proc/{pid}/uid_map")).unwrap().split_whitespace().map(str::to_owned).collect();
    assert_eq!(uid_map, ["0", "0", "1"]);
    let status = fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    assert!(status.lines().any(|line| line.split_whitespace().eq(["Uid:", "0", "0", "0", "0"])), "{status}");
    running.signal(pid, "KILL");
    running.finish();
    snapshot(&ch, "userns_as_root", &outcome.transcript());
}

#[test]
fn rootless_run_works_with_a_store_of_its_own() {
    require_root("to drop to an unprivileged user with setpriv");
    require_overlayfs();
    require_rootless_overlay();
    let ch = chapter!("mask-paths");
    let store = ch.root().join("nobody-store");
    fs::create_dir(&store).unwrap();
    std::os::unix::fs::chown(&store, Some(65534), Some(65534)).unwrap();
    let image = ch.root().join("image");
    copy_tree_readable(sample_image(), &image);
    let root = store.to_str().unwrap();
    ch.run_as_nobody(&["--root", root, "image", "load", image.to_str().unwrap()]).expect_code(0);
    let outcome = ch.run_as_nobody(&[
        "--root",
        root,
        "run",
        "--rm",
        "busybox",
        "sh",
        "-c",
        "id; cat /proc/self/uid_map; cat /etc/motd 2>&1; ./hello",
    ]);
    let stdout = outcome.success();
    assert!(stdout.starts_with("uid=0(root) gid=0(root)\n"), "{}", outcome.dump());
    let map: Vec<&str> = stdout.lines().nth(1).unwrap_or_default().split_whitespace().collect();
    assert_eq!(map, ["0", "65534", "1"], "root inside is nobody outside:\n{stdout}");
    assert!(stdout.contains("No such file") && stdout.contains("<h3>Hello World!</h3>"), "{stdout}");
    let limits = ch.run_as_nobody(&["--root", root, "run", "--rm", "-m", "64m", "busybox", "true"]);
    limits.expect_code(125);
    assert!(limits.stderr.contains("cgroup limits need root"), "{}", limits.dump());
    assert_eq!(fs::read_dir(store.join("containers")).unwrap().count(), 0, "a container was left");
}

/// Fails the test unless this kernel lets a user namespace mount overlayfs (Linux 5.11).
#[track_caller]
fn require_rootless_overlay() {
    let release = fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let mut numbers = release.split(|c: char| !c.is_ascii_digit()).filter_map(|n| n.parse::<u32>().ok());
    let version = (numbers.next().unwrap_or(0), numbers.next().unwrap_or(0));
    assert!(
        version >= (5, 11),
        "this test needs Linux 5.11 or newer, for overlayfs in a user namespace (this is {release})"
    );
    rebox_support::require_user_namespaces();
}

/// Copies the tree `from` to `to`, readable by every user.
fn copy_tree_readable(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    fs::set_permissions(to, fs::Permissions::from_mode(0o755)).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_tree_readable(&path, &target);
        } else {
            fs::copy(&path, &target).unwrap();
            fs::set_permissions(&target, fs::Permissions::from_mode(0o644)).unwrap();
        }
    }
}

#[test]
fn an_existing_cidfile_refuses_the_run_and_leaves_no_container() {
    // Refused before the container is created: the run's first step, entrypoint-cmd, is as far as it goes.
    let ch = with_sample("entrypoint-cmd", "to load the sample image");
    let cidfile = ch.root().join("cid");
    fs::write(&cidfile, "another container\n").unwrap();
    let outcome = ch.run(["run", "--cidfile", cidfile.to_str().unwrap(), "busybox", "true"]);
    outcome.expect_code(125);
    assert!(outcome.stderr.contains("exists already"), "{}", outcome.dump());
    assert_eq!(fs::read_to_string(&cidfile).unwrap(), "another container\n", "the file was overwritten");
    assert_eq!(fs::read_dir(ch.root().join("containers")).unwrap().count(), 0, "a refused run created a container");
    assert_eq!(ch.run(["ps", "-a"]).success().lines().count(), 1, "ps -a lists a container");
}

/// The cgroup directories of container `id` that exist, in every tree.
fn cgroups_of(id: &str) -> Vec<PathBuf> {
    let mut dirs = vec![Path::new("/sys/fs/cgroup/rebox").join(id)];
    for entry in fs::read_dir("/sys/fs/cgroup").unwrap().flatten() {
        dirs.push(entry.path().join("rebox").join(id));
    }
    dirs.retain(|dir| dir.is_dir());
    dirs
}

/// The id of the only container in the store.
fn only_container(ch: &Chapter) -> String {
    let ids: Vec<String> = fs::read_dir(ch.root().join("containers"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(ids.len(), 1, "{ids:?}");
    ids[0].clone()
}

/// Waits until the runtime has recorded the container `id` running: its `state.json` says so.
///
/// The container may print `ready` a moment before its runtime writes that
/// down; a test that kills the runtime means to kill it after.
#[track_caller]
fn wait_until_recorded_running(ch: &Chapter, id: &str) {
    let state = ch.root().join("containers").join(id).join("state.json");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !fs::read_to_string(&state).is_ok_and(|text| text.contains("\"running\"")) {
        assert!(std::time::Instant::now() < deadline, "the runtime did not record the container running");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

/// Waits for the container's process `pid` to end: it dies with its runtime (`PR_SET_PDEATHSIG`).
#[track_caller]
fn wait_until_gone(pid: i32) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| !stat.contains(") Z ")) {
        assert!(std::time::Instant::now() < deadline, "the container outlived its runtime");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[test]
fn a_runtime_killed_with_sigkill_leaves_what_ps_shows_exited_and_rm_removes() {
    let ch = with_sample("mask-paths", "to run containers");
    let running = Running::start(&ch, &["run", "--name", "kk", "busybox", "sh", "-c", "echo ready; exec sleep 100"]);
    let (runtime, container) = (running.runtime_pid(), running.container_pid());
    let id = only_container(&ch);
    wait_until_recorded_running(&ch, &id);
    running.signal(runtime, "KILL");
    running.finish_unchecked();
    wait_until_gone(container);
    assert!(!cgroups_of(&id).is_empty(), "the killed runtime's cgroup should be there for rm to remove");
    let ps = ch.run(["ps", "-a"]);
    assert!(ps.success().contains("Exited (255)") && ps.stdout.contains("kk"), "ps must not say Up:\n{}", ps.stdout);
    assert_eq!(ch.run(["ps"]).success().lines().count(), 1, "ps lists it as running");
    ch.run(["rm", "kk"]).expect_code(0);
    assert_eq!(cgroups_of(&id), Vec::<PathBuf>::new(), "rm left the cgroup");
    assert!(!ch.root().join("containers").join(&id).exists());
}

#[test]
fn rm_f_never_signals_a_process_that_took_the_recorded_pid() {
    let ch = with_sample("mask-paths", "to run containers");
    ch.run(["run", "--name", "victim", "busybox", "true"]).expect_code(0);
    // A stranger now has the pid the store recorded: simulate the reuse with a process of our own.
    let mut stranger = Command::new("sleep").arg("100").spawn().unwrap();
    let state = ch.root().join("containers").join(only_container(&ch)).join("state.json");
    let mut json: serde_json::Value = serde_json::from_str(&fs::read_to_string(&state).unwrap()).unwrap();
    json["status"] = "running".into();
    json["process"] = serde_json::json!({ "pid": stranger.id(), "start_time": 1 });
    json["monitor"] = serde_json::Value::Null;
    fs::write(&state, json.to_string()).unwrap();
    ch.run(["rm", "-f", "victim"]).expect_code(0);
    let alive = stranger.try_wait().unwrap().is_none();
    stranger.kill().unwrap();
    stranger.wait().unwrap();
    assert!(alive, "rm -f killed a process that only had the container's old pid");
    assert_eq!(fs::read_dir(ch.root().join("containers")).unwrap().count(), 0);
}

#[test]
fn the_host_mount_table_is_unchanged_after_runs_even_failed_ones() {
    let ch = with_sample("mask-paths", "to run containers");
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
    let ch = with_sample("mask-paths", "to run containers");
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
    let ch = with_sample("mask-paths", "to run containers");
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
    let ch = chapter!("safe-path");
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
    let ch = with_sample("mask-paths", "to run containers");
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
    let ch = with_sample("mask-paths", "to run containers");
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
    let ch = with_sample("mask-paths", "to run containers");
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
    let ch = with_sample("mask-paths", "to run containers");
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
    // On cgroup v2 the child is born in its cgroup (`clone3` with `CLONE_INTO_CGROUP`) and joins
    // nothing; on v1 it is cloned, then joins: the trace carries the version in its name.
    let version = if Path::new("/sys/fs/cgroup/cgroup.controllers").exists() { "v2" } else { "v1" };
    snapshot(&ch, &format!("trace_{version}"), &text);
}

#[test]
fn cli_run_help_lists_the_options() {
    let ch = chapter!();
    let outcome = ch.run(["run", "--help"]);
    outcome.expect_code(0);
    snapshot(&ch, "run_help", &outcome.transcript());
}

#[test]
fn cli_a_bare_command_prints_its_help_and_exits_0() {
    let ch = chapter!();
    let outcome = ch.run(Vec::<&str>::new());
    outcome.expect_code(0);
    assert!(outcome.stdout.contains("Usage: union-rootfs [OPTIONS] <COMMAND>"), "{}", outcome.dump());
}
