//! The init layer: what the runtime itself puts in a container's root.
//!
//! Docker adds a thin read-only layer between the image and the container's
//! read-write layer (the lesson's "Init layer"): the mount points `/proc`,
//! `/sys`, `/dev`, and `/etc/hostname`, `/etc/hosts`, `/etc/resolv.conf`.
//! The real contents of those three files live in the container's
//! directory on the host and are bind-mounted over the placeholders, so a
//! container that edits its `/etc/hosts` changes that file, not its
//! read-write layer: `docker commit` never carries them into an image.
//! Introduced in chapter 3.

use std::fs;
use std::os::unix::fs::symlink;
use std::path::Path;

use anyhow::{Context, Result};

use crate::bind::Bind;

/// The files the runtime writes for each container, and where they show inside.
pub const CONTAINER_FILES: [(&str, &str); 3] =
    [("hostname", "etc/hostname"), ("hosts", "etc/hosts"), ("resolv.conf", "etc/resolv.conf")];

/// Directories the root filesystem must have as mount points.
const MOUNT_POINTS: [&str; 4] = ["dev", "proc", "sys", "etc"];

/// The contents of the container's `hostname`, `hosts` and `resolv.conf`, in [`CONTAINER_FILES`] order.
pub fn file_contents(hostname: &str, host_resolv_conf: &str) -> [String; 3] {
    let hosts = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n\
                 fe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n";
    // A nameserver on the host's loopback is unreachable from the container's own network namespace.
    let resolv: String = host_resolv_conf
        .lines()
        .filter(|line| !(line.starts_with("nameserver 127.") || line.starts_with("nameserver ::1")))
        .map(|line| format!("{line}\n"))
        .collect();
    [format!("{hostname}\n"), hosts.to_owned(), resolv]
}

/// Writes the init layer (`init/`) and the container's own files into `container_dir`.
pub fn create(container_dir: &Path, hostname: &str) -> Result<()> {
    let host_resolv = fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
    let init = container_dir.join("init");
    for dir in MOUNT_POINTS {
        let path = init.join(dir);
        fs::create_dir_all(&path).with_context(|| format!("create {}", path.display()))?;
    }
    for ((name, inside), contents) in CONTAINER_FILES.iter().zip(file_contents(hostname, &host_resolv)) {
        let own = container_dir.join(name);
        fs::write(&own, contents).with_context(|| format!("write {}", own.display()))?;
        let placeholder = init.join(inside);
        fs::write(&placeholder, "").with_context(|| format!("create {}", placeholder.display()))?;
    }
    let mtab = init.join("etc/mtab");
    symlink("/proc/mounts", &mtab).with_context(|| format!("create the symlink {}", mtab.display()))?;
    Ok(())
}

/// The bind mounts that put the container's own files over their placeholders.
pub fn binds(container_dir: &Path) -> Vec<Bind> {
    // EXERCISE(init-layer): one read-write Bind per CONTAINER_FILES entry: container_dir/<name> onto /<inside>
    todo!(
        "union-rootfs step 5 of 12 (init-layer): one read-write Bind per CONTAINER_FILES entry: container_dir/<name> onto /<inside> — book: union-rootfs.html#init-layer"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostname_and_hosts_are_dockers() {
        let [hostname, hosts, _] = file_contents("4ddf4638572d", "");
        assert_eq!(hostname, "4ddf4638572d\n");
        assert!(hosts.starts_with("127.0.0.1\tlocalhost\n"));
    }

    #[test]
    fn loopback_nameservers_are_dropped() {
        let [_, _, resolv] = file_contents("h", "search lan\nnameserver 127.0.0.53\nnameserver 10.0.0.1\n");
        assert_eq!(resolv, "search lan\nnameserver 10.0.0.1\n");
    }

    #[test]
    fn the_init_layer_has_mount_points_and_placeholders() {
        let dir = tempfile::tempdir().unwrap();
        create(dir.path(), "4ddf4638572d").unwrap();
        for path in ["init/proc", "init/dev", "init/sys"] {
            assert!(dir.path().join(path).is_dir(), "{path}");
        }
        assert_eq!(fs::read_to_string(dir.path().join("init/etc/hosts")).unwrap(), "");
        assert_eq!(fs::read_to_string(dir.path().join("hostname")).unwrap(), "4ddf4638572d\n");
    }
}
