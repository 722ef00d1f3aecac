//! Chapter 5's demo: the lesson's volume session, `docker run -d -v /test` to `docker rm -v`.
//!
//! `$BV` is `bind-volume-solution`; the steps are shown as `bind-volume`.
//! Before the steps, the sample images `busybox` and `helloworld` are
//! written into the chapter's directory, `$REBOX_ROOT` names an empty store
//! there, and `$WORK/home` is a host directory with one file, the lesson's
//! `/home`. Every volume lives in the store, every host directory the steps
//! bind is under `$WORK`, and both go with the chapter's directory.
//! Afterwards every container left in the store is removed with `rm -f -v`,
//! whether the steps succeeded or not: with the containers go their
//! monitors, cgroups and mount namespaces, and so every mount a volume made.

use std::fs;
use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result};

use super::{Chapter, Step, Vars};
use crate::process;

/// The steps of chapter 5.
pub const DEMO: Chapter = Chapter {
    name: "bind-volume",
    var: "BV",
    prepare,
    clean_up,
    steps: &[
        Step {
            say: "In a scratch directory: the sample images busybox and helloworld, an empty store, and a host directory, the lesson's /home:",
            shell: r#"echo "WORK=$WORK"; echo "REBOX_ROOT=$REBOX_ROOT"; ls $WORK; ls $WORK/home"#,
        },
        Step {
            say: "The host's mount table, before any container (the count is kept, to compare at the end):",
            shell: "wc -l < /proc/self/mounts | tee $WORK/mounts-before",
        },
        Step { say: "Load both images:", shell: "$BV image load $WORK/busybox; $BV image load $WORK/helloworld" },
        Step {
            say: "The lesson's docker run -d -v /test: a volume with no name, on the container's /test:",
            shell: "$BV run -d -v /test helloworld | tee $WORK/id",
        },
        Step {
            say: "docker volume ls: the runtime made the volume, named by 64 random hex digits:",
            shell: "$BV volume ls; $BV volume ls | awk 'NR == 2 { print $2 }' > $WORK/volume",
        },
        Step {
            say: "Its Mountpoint is a directory of the store, <root>/volumes/<name>/_data, empty for now:",
            shell: r#"$BV volume inspect $(cat $WORK/volume); ls $REBOX_ROOT/volumes/$(cat $WORK/volume)/_data; echo "($(ls $REBOX_ROOT/volumes/$(cat $WORK/volume)/_data | wc -l) files)""#,
        },
        Step {
            say: "The lesson's exec: a shell in the container creates test/text.txt:",
            shell: "$BV exec $(cut -c1-12 $WORK/id) sh -c 'cd /test; touch text.txt; ls -l /test'",
        },
        Step {
            say: "On the host, the file is in the volume's directory:",
            shell: "ls -l $REBOX_ROOT/volumes/$(cat $WORK/volume)/_data",
        },
        Step {
            say: "The mountpoint /test was made in the container's read-write layer, where the host sees it empty: a commit (chapter 6) would carry the directory, not the file:",
            shell: r#"ls -ld $REBOX_ROOT/containers/$(cat $WORK/id)/upper/test; echo "($(ls -A $REBOX_ROOT/containers/$(cat $WORK/id)/upper/test | wc -l) files)""#,
        },
        Step {
            say: "Inside, /test is a mount point; on the host, no mount names the store: the bind was made in the container's mount namespace:",
            shell: r#"$BV exec $(cut -c1-12 $WORK/id) sh -c 'cut -d" " -f2 /proc/mounts | grep -x /test'; echo "host mounts under the store: $(grep -c "$REBOX_ROOT" /proc/self/mounts)""#,
        },
        Step {
            say: "A volume in use is not removed:",
            shell: r#"$BV volume rm $(cat $WORK/volume) || echo "exit $?""#,
        },
        Step {
            say: "Thought question 2, first half: the image's /app, and a host directory bound over it, which hides it and takes nothing from it:",
            shell: r#"$BV run --rm helloworld ls /app; $BV run --rm -v $WORK/home:/app helloworld ls /app; echo "in $WORK/home:"; ls $WORK/home"#,
        },
        Step {
            say: "Second half, copyData: a new, empty named volume takes what the image has at its mountpoint, from both of its layers:",
            shell: r#"$BV run --rm -v app:/app helloworld ls /app; echo "in the volume:"; ls $REBOX_ROOT/volumes/app/_data"#,
        },
        Step {
            say: ":nocopy leaves a new volume empty, and the image's /app hidden:",
            shell: r#"$BV run --rm -v empty:/app:nocopy helloworld ls /app; echo "($(ls $REBOX_ROOT/volumes/empty/_data | wc -l) files)""#,
        },
        Step {
            say: ":ro: the container may read the host's directory, not write to it (a read-only remount of the bind):",
            shell: r#"$BV run --rm -v $WORK/home:/data:ro busybox sh -c 'cat /data/note; touch /data/x' || echo "exit $?""#,
        },
        Step {
            say: "rm -f -v removes the container and its anonymous volume; the named ones stay:",
            shell: "$BV rm -f -v $(cat $WORK/id); $BV volume ls",
        },
        Step {
            say: "Named volumes go when asked:",
            shell: r#"$BV volume rm app empty; $BV volume ls; echo "containers left: $(ls $REBOX_ROOT/containers | wc -l)""#,
        },
        Step {
            say: "The host's mount table has as many lines as before:",
            shell: r#"wc -l < /proc/self/mounts | diff $WORK/mounts-before - && echo "$(cat $WORK/mounts-before) lines, as before""#,
        },
    ],
};

/// Writes the sample images into `dir`, names an empty store, `dir/root`, and makes the host directory `dir/home`.
fn prepare(dir: &Path) -> Result<Vars> {
    crate::image::build(dir)?;
    let home = dir.join("home");
    fs::create_dir(&home).with_context(|| format!("create {}", home.display()))?;
    fs::write(home.join("note"), "from the host\n").with_context(|| format!("write {}/note", home.display()))?;
    Ok(vec![("WORK", dir.to_path_buf()), ("REBOX_ROOT", dir.join("root"))])
}

/// Removes, with `rm -f -v`, every container the steps left in the store `dir/root`, and its anonymous volumes.
fn clean_up(dir: &Path, binary: &Path) -> Result<()> {
    let root = dir.join("root");
    let containers = root.join("containers");
    let Ok(entries) = fs::read_dir(&containers) else {
        return Ok(()); // The steps stopped before the store was made.
    };
    for entry in entries {
        let entry = entry.with_context(|| format!("list {}", containers.display()))?;
        let mut rm = Command::new(binary);
        rm.arg("--root").arg(&root).args(["rm", "--force", "--volumes"]).arg(entry.file_name());
        process::run(rm)?;
    }
    Ok(())
}
