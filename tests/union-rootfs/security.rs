//! What the store keeps from the host's other users.
//!
//! A layer or a read-write layer holds root's set-user-ID files; the store
//! is private, so no other user reaches them.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

use rebox_support::{chapter, require_root};

use super::require_overlayfs;

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
