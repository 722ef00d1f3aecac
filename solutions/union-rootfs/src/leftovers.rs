//! What a killed runtime leaves in the store, collected by the next command.
//!
//! A runtime killed with `SIGKILL` (or by the OOM killer, or a reboot) runs
//! none of its cleanup. It may leave:
//!
//! - a temporary directory under `tmp/`: a layer half unpacked by `image
//!   load`, a container half made by `run`, a tree being packed by `image
//!   import`; or a temporary file beside a JSON file it was replacing;
//! - the layers a killed `image load` had already moved into place, which
//!   no image lists;
//! - a `--rm` container, whose runtime was to remove it when it ended: its
//!   directory, and its cgroup.
//!
//! Every command collects them when it opens the store, under the store's
//! lock, if the lock is free (a command that holds it, a long `image load`,
//! is not waited for: the next command collects). Nothing is taken from a
//! process that still runs: a temporary name carries the pid and start time
//! of the process that made it (see `store.rs`), and is collected only once
//! that very process is gone; a container only once its process and its
//! runtime are both gone; and a layer is only ever added under the lock,
//! with its image, so a layer no image lists, seen under the lock, is
//! nobody's. A stopped container that was not `--rm` stays until `rm`, as
//! after any run. Docker's daemon collects the same things when it starts.
//! Introduced in chapter 3.

use std::fs;
use std::path::Path;

use anyhow::{Context, Result};

use crate::containers;
use crate::image;
use crate::store::{Store, owner_of, remove_tree};

/// Collects what killed runtimes left in `store`, if its lock is free.
///
/// Housekeeping, not the command's own work: what cannot be removed now
/// (a cgroup still busy, say) stays for the next command, and `rm` or
/// `image rm` of it names the error.
pub fn collect(store: &Store) {
    let Ok(Some(_lock)) = store.try_lock() else { return };
    let _ = remove_abandoned_temporaries(store);
    let _ = remove_ended_auto_removed(store);
    let _ = image::remove_unused_layers(store);
}

/// Removes the temporary files and directories whose maker is gone.
fn remove_abandoned_temporaries(store: &Store) -> Result<()> {
    for dir in [store.tmp_dir(), store.root().to_path_buf(), store.root().join("images")] {
        for entry in fs::read_dir(&dir).with_context(|| format!("list {}", dir.display()))? {
            let path = entry?.path();
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            if owner_of(&name).is_some_and(|owner| !owner.is_alive()) {
                remove(&path)?;
            }
        }
    }
    Ok(())
}

/// Removes each `--rm` container whose process and runtime are both gone, and its cgroup.
fn remove_ended_auto_removed(store: &Store) -> Result<()> {
    for container in containers::list(store)? {
        if container.config.auto_remove && container.ended_unrecorded() {
            containers::discard(&container)?;
        }
    }
    Ok(())
}

fn remove(path: &Path) -> Result<()> {
    if path.is_dir() {
        remove_tree(path)
    } else {
        fs::remove_file(path).with_context(|| format!("remove {}", path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::pid::HostProcess;
    use nix::unistd::Pid;

    #[test]
    fn only_what_a_process_that_is_gone_made_is_collected() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let me = HostProcess::of(Pid::this()).unwrap();
        // A process that ran before this one, with this pid: the start time says it is another.
        let gone = format!(".layer-{}-{}-Ab12Cd", me.pid, me.start_time - 1);
        let mine = store.temp_dir(".layer-").unwrap();
        let unnamed = ".layer-Xk3fQ9";
        fs::create_dir_all(store.tmp_dir().join(&gone).join("diff/bin")).unwrap();
        fs::create_dir(store.tmp_dir().join(unnamed)).unwrap();
        fs::write(store.root().join("images").join(format!(".tmp-{}-{}-Zz9", me.pid, me.start_time - 1)), "{").unwrap();
        collect(&store);
        let left = |dir: &Path| {
            let mut names: Vec<String> =
                fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
            names.sort();
            names
        };
        let mut expected = vec![mine.path().file_name().unwrap().to_string_lossy().into_owned(), unnamed.to_owned()];
        expected.sort();
        assert_eq!(left(&store.tmp_dir()), expected);
        assert_eq!(left(&store.root().join("images")), Vec::<String>::new());
    }
}
