//! Chapter 3's demo: a container runs on its own root filesystem, made from an image.
//!
//! `$UR` is `union-rootfs-solution`; the steps are shown as `union-rootfs`.
//! Before the steps, the sample image is written to `$IMAGE` (what
//! `cargo xtask image` does), and `$REBOX_ROOT` names an empty store, so the
//! steps need no `--root`. Afterwards every container left in the store is
//! removed with `rm -f`, whether the steps succeeded or not.

use std::fs;
use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result};

use super::{Chapter, Step, Vars};
use crate::process;

/// The steps of chapter 3.
pub const DEMO: Chapter = Chapter {
    name: "union-rootfs",
    var: "UR",
    prepare,
    clean_up,
    steps: &[
        Step {
            say: "In a scratch directory: the sample image busybox:latest as an OCI layout (what `cargo xtask image` writes), and an empty store:",
            shell: r#"echo "WORK=$WORK"; echo "IMAGE=$IMAGE"; echo "REBOX_ROOT=$REBOX_ROOT"; ls $IMAGE $IMAGE/blobs/sha256"#,
        },
        Step {
            say: "The host's mount table, before any container (the count is kept, to compare at the end):",
            shell: "wc -l < /proc/self/mounts | tee $WORK/mounts-before",
        },
        Step {
            say: "Load the image into the store: its layers are unpacked once, shared by every container:",
            shell: "$UR image load $IMAGE",
        },
        Step { say: "The store's images:", shell: "$UR images" },
        Step {
            say: "Run the image's CMD, ./hello in WORKDIR /app: the lesson's page, and the hostname is the container's short id:",
            shell: "$UR run --rm busybox",
        },
        Step { say: "-e overrides the image's ENV NAME=World:", shell: "$UR run --rm -e NAME=rebox busybox" },
        Step { say: "The container's / is the image, not the host's:", shell: "$UR run --rm busybox ls /" },
        Step {
            say: "The base layer keeps /etc/motd; the top layer's whiteout, a 0/0 character device for overlayfs, hides it:",
            shell: r#"ls -l $REBOX_ROOT/layers/*/diff/etc/motd; $UR run --rm busybox cat /etc/motd || echo "exit $?""#,
        },
        Step {
            say: "A container kept after it exits (--name, no --rm) writes a file:",
            shell: "$UR run --name scratch busybox sh -c 'echo hi > /app/note; cat /app/note'",
        },
        Step {
            say: "On the host, the write is in the container's read-write layer, containers/<id>/upper; the image's layers are unchanged:",
            shell: "find $REBOX_ROOT/containers/*/upper; ls $REBOX_ROOT/layers/*/diff/app",
        },
        Step { say: "ps -a lists the stopped container:", shell: "$UR ps -a" },
        Step {
            say: "rm removes it, and its layer with it:",
            shell: r#"$UR rm scratch; echo "containers left: $(ls $REBOX_ROOT/containers | wc -l)""#,
        },
        Step {
            say: "The host's mount table has as many lines as before: every mount was in a container's mount namespace:",
            shell: r#"wc -l < /proc/self/mounts | diff $WORK/mounts-before - && echo "$(cat $WORK/mounts-before) lines, as before""#,
        },
    ],
};

/// Writes the sample images into `dir/busybox` and `dir/helloworld`, and names an empty store, `dir/root`.
fn prepare(dir: &Path) -> Result<Vars> {
    crate::image::build(dir)?;
    let image = dir.join("busybox");
    Ok(vec![("WORK", dir.to_path_buf()), ("IMAGE", image), ("REBOX_ROOT", dir.join("root"))])
}

/// Removes, with `rm -f`, every container the steps left in the store `dir/root` (chapter 4's demo too).
pub(super) fn clean_up(dir: &Path, binary: &Path) -> Result<()> {
    let root = dir.join("root");
    let containers = root.join("containers");
    let Ok(entries) = fs::read_dir(&containers) else {
        return Ok(()); // The steps stopped before the store was made.
    };
    for entry in entries {
        let entry = entry.with_context(|| format!("list {}", containers.display()))?;
        let mut rm = Command::new(binary);
        rm.arg("--root").arg(&root).args(["rm", "--force"]).arg(entry.file_name());
        process::run(rm)?;
    }
    Ok(())
}
