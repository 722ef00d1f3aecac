//! What the store keeps from the host's other users, and what the masks do not keep from a container.
//!
//! A layer or a read-write layer holds root's set-user-ID files; the store
//! is private, so no other user reaches them. The container itself keeps
//! every capability and may use any device: the masks hide paths of
//! `/proc` and `/sys`, but a container can undo them, and reach the host's
//! disk with `mknod` and `mount`. The probe shows it, from the host.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

use rebox_support::{chapter, mount_table, require_root};

use super::{require_overlayfs, snapshot, with_sample};

/// Every path under `dir` named `name`.
fn find(dir: &Path, name: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.file_name().is_some_and(|n| n == name) {
            found.push(path.clone());
        }
        if entry.file_type().unwrap().is_dir() {
            found.extend(find(&path, name));
        }
    }
    found
}

/// Runs `program` as the user `nobody`, as any user of the host could, with `args`; returns its exit code and output.
fn run_as_another_user(program: &Path, args: &[&str]) -> (i32, String) {
    // Through sh: setpriv would look the program up before it dropped root's rights.
    let output = Command::new("setpriv")
        .args(["--reuid", "65534", "--regid", "65534", "--clear-groups", "--", "sh", "-c", "exec \"$0\" \"$@\" 2>&1"])
        .arg(program)
        .args(args)
        .current_dir("/")
        .output()
        .expect("run setpriv (util-linux)");
    (output.status.code().unwrap_or(-1), String::from_utf8_lossy(&output.stdout).into_owned())
}

#[test]
fn no_other_user_can_run_a_set_user_id_file_of_the_store() {
    require_root("to make set-user-ID root files and drop to another user");
    require_overlayfs();
    let ch = chapter!("mask-paths");
    // The store where an installed runtime keeps it: made by the runtime, in a directory anyone may enter (/var/lib).
    fs::set_permissions(ch.root(), fs::Permissions::from_mode(0o755)).unwrap();
    let store = ch.root().join("store");
    let root = store.to_str().unwrap();
    // An image with a set-user-ID root program in its layer: setpriv, which makes whoever runs it root.
    let tree = ch.root().join("tree");
    fs::create_dir_all(tree.join("bin")).unwrap();
    let setpriv = Path::new("/usr/bin/setpriv");
    fs::copy(rebox_support::busybox(), tree.join("bin/busybox")).unwrap();
    for (name, mode) in [("rootme", 0o4755), ("plain", 0o755)] {
        fs::copy(setpriv, tree.join("bin").join(name)).unwrap();
        fs::set_permissions(tree.join("bin").join(name), fs::Permissions::from_mode(mode)).unwrap();
    }
    ch.run(["--root", root, "image", "import", tree.to_str().unwrap(), "suid"]).expect_code(0);
    // A container that makes another in its read-write layer, as root in a container may.
    let make = "/bin/busybox cp /bin/plain /made && /bin/busybox chmod 4755 /made";
    ch.run(["--root", root, "run", "--name", "maker", "suid", "/bin/busybox", "sh", "-c", make]).expect_code(0);
    let in_layer = find(&store.join("layers"), "rootme");
    let in_upper = find(&store.join("containers"), "made");
    for path in in_layer.iter().chain(&in_upper) {
        let meta = fs::metadata(path).unwrap();
        assert!(meta.uid() == 0 && meta.mode() & 0o4000 != 0, "{} is no set-user-ID root file", path.display());
    }
    assert_eq!((in_layer.len(), in_upper.len()), (1, 1), "{in_layer:?} {in_upper:?}");
    for path in in_layer.iter().chain(&in_upper) {
        let (code, output) = run_as_another_user(path, &["--reuid", "0", "--regid", "0", "--clear-groups", "id", "-u"]);
        assert_ne!(output, "0\n", "nobody became root by running {}", path.display());
        assert!(code != 0 && output.contains("Permission denied"), "{}: exit {code}: {output}", path.display());
    }
    let mode = |path: &Path| fs::metadata(path).unwrap().mode() & 0o7777;
    assert_eq!(mode(&store), 0o700, "the store must be its owner's alone");
    // A store an older runtime left open is made private by the next command.
    fs::set_permissions(&store, fs::Permissions::from_mode(0o755)).unwrap();
    ch.run(["--root", root, "ps", "-a"]).expect_code(0);
    assert_eq!(mode(&store), 0o700, "the open store was not made private");
    ch.run(["--root", root, "rm", "maker"]).expect_code(0);
}

/// A disk of the host, seen from a directory on it: its device numbers, its filesystem, and the directory's path inside it.
struct HostDisk {
    major: u64,
    minor: u64,
    filesystem: String,
    inside: PathBuf,
}

/// The disk that holds `dir`, if a block device holds its filesystem, from `/proc/self/mountinfo`.
fn disk_of(dir: &Path) -> Option<HostDisk> {
    let dir = dir.canonicalize().ok()?;
    let mountinfo = fs::read_to_string("/proc/self/mountinfo").ok()?;
    // The last mount of the longest mount point above `dir` is the one that holds it.
    let mut holder: Option<(PathBuf, PathBuf, String, String, String)> = None;
    for line in mountinfo.lines() {
        let fields: Vec<&str> = line.split(' ').collect();
        let dash = fields.iter().position(|field| *field == "-")?;
        let unescape = |field: &str| PathBuf::from(field.replace("\\040", " "));
        let (root, point) = (unescape(fields[3]), unescape(fields[4]));
        let longer = holder.as_ref().is_none_or(|(best, ..)| point.as_os_str().len() >= best.as_os_str().len());
        if dir.starts_with(&point) && longer {
            let (filesystem, source) = (fields.get(dash + 1)?.to_string(), fields.get(dash + 2)?.to_string());
            holder = Some((point, root, fields[2].to_owned(), filesystem, source));
        }
    }
    let (point, root, numbers, filesystem, source) = holder?;
    let (major, minor) = numbers.split_once(':')?;
    let (mut major, mut minor): (u64, u64) = (major.parse().ok()?, minor.parse().ok()?);
    if major == 0 {
        // A filesystem with anonymous device numbers (btrfs, say): its source names the block device.
        let rdev = fs::metadata(&source).ok().filter(|meta| meta.mode() & 0o170000 == 0o060000)?.rdev();
        (major, minor) = (nix::sys::stat::major(rdev), nix::sys::stat::minor(rdev));
    }
    let inside = root.join(dir.strip_prefix(&point).ok()?);
    let disk = HostDisk { major, minor, filesystem, inside };
    Path::new(&format!("/sys/dev/block/{major}:{minor}")).exists().then_some(disk)
}

#[test]
fn the_masks_do_not_stop_a_container_that_keeps_its_capabilities() {
    let ch = with_sample("mask-paths", "to run containers");
    let candidates = [ch.root().to_path_buf(), PathBuf::from(env!("CARGO_TARGET_TMPDIR"))];
    let (dir, disk) = candidates.iter().find_map(|dir| Some((dir, disk_of(dir)?))).unwrap_or_else(|| {
        panic!(
            "this test needs a directory on a disk (a filesystem on a block device) for the container to mount: \
             neither {} nor {} is on one; run the suite with TMPDIR on a disk",
            candidates[0].display(),
            candidates[1].display()
        )
    });
    let name = format!("rebox-host-file-{}", std::process::id());
    let (file, inside) = (dir.join(&name), disk.inside.join(&name));
    fs::write(&file, "written by the host\n").unwrap();
    let before = mount_table();
    let (major, minor, inside) = (disk.major.to_string(), disk.minor.to_string(), inside.display().to_string());
    let env = [
        format!("MAJOR={major}"),
        format!("MINOR={minor}"),
        format!("TYPE={}", disk.filesystem),
        format!("FILE={inside}"),
    ];
    let script = "mkdir /tmp/disk && mknod /tmp/disk.dev b $MAJOR $MINOR && mount -t $TYPE /tmp/disk.dev /tmp/disk && \
                  cat /tmp/disk$FILE && echo written by the container >> /tmp/disk$FILE";
    let mut args = vec!["run", "--rm"];
    args.extend(env.iter().flat_map(|var| ["-e", var.as_str()]));
    args.extend(["busybox", "sh", "-c", script]);
    let disk_probe = ch.run(args);
    let on_the_host = fs::read_to_string(&file).unwrap();
    fs::remove_file(&file).unwrap();
    assert_eq!(disk_probe.success(), "written by the host\n", "{}", disk_probe.dump());
    assert_eq!(
        on_the_host, "written by the host\nwritten by the container\n",
        "the container did not write the host's file"
    );
    let script = "exec 2>&1; umount /proc/timer_list && head -n 1 /proc/timer_list | cut -d: -f1; \
                  true >> /proc/sys/kernel/core_pattern; \
                  umount /proc/sys && true >> /proc/sys/kernel/core_pattern && echo /proc/sys/kernel/core_pattern opened for writing";
    let masks_probe = ch.run(["run", "--rm", "busybox", "sh", "-c", script]);
    assert_eq!(
        masks_probe.success(),
        "Timer List Version\nsh: can't create /proc/sys/kernel/core_pattern: Read-only file system\n\
         /proc/sys/kernel/core_pattern opened for writing\n",
        "{}",
        masks_probe.dump()
    );
    assert_eq!(mount_table(), before, "a probe left a mount on the host");
    // The disk's numbers and the file's path are the host's: the transcript names them.
    let host = format!("$ cat [FILE]\n{on_the_host}");
    let placeholders = ["MAJOR=[MAJOR]", "MINOR=[MINOR]", "TYPE=[TYPE]", "FILE=[FILE]"];
    let disk_probe =
        env.iter().zip(placeholders).fold(disk_probe.transcript(), |text, (var, shown)| text.replace(var, shown));
    let text = [disk_probe, host, masks_probe.transcript()].concat();
    snapshot(&ch, "masks_probe", &text);
}
