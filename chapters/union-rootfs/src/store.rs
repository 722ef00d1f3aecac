//! The store: every image, layer and container lives under one `--root`.
//!
//! ```text
//! <root>/                       default /var/lib/rebox, or $REBOX_ROOT; mode 0700
//!   repositories.json           "busybox:latest" -> image id
//!   images/<id>.json            the image's OCI config, byte for byte (its sha256 is the id)
//!   layers/<chain id>/diff/     a layer, unpacked; shared by every image that has it
//!   layers/<chain id>/size      its size in bytes
//!   containers/<id>/            config.json, state.json (once started), hostname, hosts,
//!                               resolv.conf, init/ (the init layer), upper/, work/, merged/
//!   tmp/                        work in progress, renamed into place when complete
//! ```
//!
//! Nothing is ever half-written: a file is written to a temporary name and
//! renamed over the real one (`rename(2)` is atomic within a filesystem), and
//! a layer is unpacked under `tmp/` and renamed into `layers/` once complete.
//! Changes to the store are made under an exclusive `flock(2)` on `<root>/lock`,
//! so two runtimes never pick the same container name.
//!
//! The store is private: its root is mode 0700, made so on first use, and
//! tightened if an older runtime left it open. Its layers and read-write
//! layers hold files owned by root with their set-user-ID bit, exactly as the
//! image or the container made them; if another user of the host could reach
//! them, running one would make that user root. Docker keeps `/var/lib/docker`
//! at 0710 for the same reason. The directories below the root keep their
//! modes: a layer's `diff/` is the image's `/`. A rootless store is its user's
//! own, 0700 too; the overlay reads its layers with that user's rights.
//! Introduced in chapter 3.

use std::fs::{self, File};
use std::io::{ErrorKind, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use nix::fcntl::{Flock, FlockArg};
use nix::unistd::Uid;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::digest::hex_part;

/// The default `--root`, like Docker's `/var/lib/docker`.
pub const DEFAULT_ROOT: &str = "/var/lib/rebox";

/// The mode of the store's root: its owner's alone.
pub const PRIVATE: u32 = 0o700;

/// The state directory of the runtime.
#[derive(Debug, Clone)]
pub struct Store {
    root: PathBuf,
}

/// Held while the store is being changed; dropping it releases the lock.
#[derive(Debug)]
pub struct StoreLock {
    _lock: Flock<File>,
}

impl Store {
    /// Opens (and creates, if needed) the store at `root`, private.
    pub fn open(root: &Path) -> Result<Self> {
        let root = std::path::absolute(root).with_context(|| format!("resolve the store path {}", root.display()))?;
        make_private(&root)?;
        for dir in ["images", "layers", "containers", "tmp"] {
            let path = root.join(dir);
            fs::create_dir_all(&path).with_context(|| format!("create the store directory {}", path.display()))?;
        }
        Ok(Self { root })
    }

    /// The store's root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Takes the store's exclusive lock (blocking until it is free).
    pub fn lock(&self) -> Result<StoreLock> {
        let path = self.root.join("lock");
        let file = File::create(&path).with_context(|| format!("open the store lock {}", path.display()))?;
        let lock = Flock::lock(file, FlockArg::LockExclusive)
            .map_err(|(_, errno)| errno)
            .with_context(|| format!("lock the store (flock {} LOCK_EX)", path.display()))?;
        Ok(StoreLock { _lock: lock })
    }

    /// `repositories.json`: image names to image ids.
    pub fn repositories_file(&self) -> PathBuf {
        self.root.join("repositories.json")
    }

    /// `layers/<hex>/`, the directory of the layer with chain id `sha256:<hex>`.
    pub fn layer_dir(&self, chain_id: &str) -> Result<PathBuf> {
        Ok(self.root.join("layers").join(hex_part(chain_id)?))
    }

    /// `containers/<id>/`.
    pub fn container_dir(&self, id: &str) -> PathBuf {
        self.root.join("containers").join(id)
    }

    /// Where work in progress goes: on the same filesystem, so it can be renamed into place.
    pub fn tmp_dir(&self) -> PathBuf {
        self.root.join("tmp")
    }

    /// A fresh temporary directory under `tmp/`, removed when dropped unless kept.
    pub fn temp_dir(&self, prefix: &str) -> Result<tempfile::TempDir> {
        tempfile::Builder::new()
            .prefix(prefix)
            .tempdir_in(self.tmp_dir())
            .with_context(|| format!("create a temporary directory in {}", self.tmp_dir().display()))
    }
}

/// What opening a store does about its root's mode.
#[derive(Debug, PartialEq, Eq)]
pub enum Privacy {
    /// Only its owner may enter it: nothing to do.
    Private,
    /// Others may enter it, and it is the caller's: make it [`PRIVATE`].
    Tighten,
    /// Others may enter it, and it is another user's, or a shared directory (sticky, like `/tmp`): refuse.
    Refuse,
}

/// What to do about a store root of `mode`, owned by `owner`, opened by the user `caller`.
pub fn privacy(mode: u32, owner: u32, caller: u32) -> Privacy {
    if mode & 0o077 == 0 {
        Privacy::Private
    } else if owner == caller && mode & 0o1000 == 0 {
        Privacy::Tighten
    } else {
        Privacy::Refuse
    }
}

/// Creates the store's root, mode 0700, or makes an existing one private (see the module's doc).
fn make_private(root: &Path) -> Result<()> {
    if let Some(parent) = root.parent() {
        fs::create_dir_all(parent).with_context(|| format!("create the store's parent {}", parent.display()))?;
    }
    // The mode is given at creation (the umask only takes bits away): the store is never open, even for a moment.
    match fs::DirBuilder::new().mode(PRIVATE).create(root) {
        Err(err) if err.kind() != ErrorKind::AlreadyExists => {
            return Err(err).with_context(|| format!("create the store {} (mode 700)", root.display()));
        }
        _ => {}
    }
    let meta = fs::metadata(root).with_context(|| format!("look at the store {}", root.display()))?;
    let mode = meta.mode() & 0o7777;
    match privacy(mode, meta.uid(), Uid::effective().as_raw()) {
        Privacy::Private => Ok(()),
        Privacy::Tighten => fs::set_permissions(root, fs::Permissions::from_mode(PRIVATE))
            .with_context(|| format!("make the store {} private (chmod 700)", root.display())),
        Privacy::Refuse => bail!(
            "the store {} is open to other users (mode {mode:o}, owner uid {}): they could run the set-user-ID \
             files of its images and containers as root; make it private (chmod 700) or choose another --root",
            root.display(),
            meta.uid()
        ),
    }
}

/// Removes a directory tree, if it exists: a layer, a container.
///
/// Overlayfs leaves its scratch directory `work/work` with mode 000; root
/// removes it anyway, an unprivileged user (a rootless container's) must
/// first give themselves the right to look inside.
pub fn remove_tree(path: &Path) -> Result<()> {
    let mut result = fs::remove_dir_all(path);
    if matches!(&result, Err(err) if err.kind() == ErrorKind::PermissionDenied) {
        open_up(path);
        result = fs::remove_dir_all(path);
    }
    match result {
        Err(err) if err.kind() != ErrorKind::NotFound => Err(err).with_context(|| format!("remove {}", path.display())),
        _ => Ok(()),
    }
}

/// Makes every directory under `dir` (and `dir`) readable, writable and searchable by its owner.
fn open_up(dir: &Path) {
    if fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).is_err() {
        return;
    }
    for entry in fs::read_dir(dir).into_iter().flatten().flatten() {
        if entry.file_type().is_ok_and(|kind| kind.is_dir()) {
            open_up(&entry.path());
        }
    }
}

/// Writes `bytes` to `path` atomically: a temporary file beside it, then `rename(2)`.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().with_context(|| format!("{} has no parent directory", path.display()))?;
    let mut file = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("create a temporary file in {}", dir.display()))?;
    file.write_all(bytes).with_context(|| format!("write a temporary file for {}", path.display()))?;
    file.persist(path).with_context(|| format!("rename a temporary file over {}", path.display()))?;
    Ok(())
}

/// Writes `value` as pretty JSON to `path`, atomically.
pub fn write_json(path: &Path, value: &impl Serialize) -> Result<()> {
    let mut bytes = serde_json::to_vec_pretty(value).context("serialize JSON")?;
    bytes.push(b'\n');
    write_atomic(path, &bytes)
}

/// Reads JSON from `path`.
pub fn read_json<T: DeserializeOwned>(path: &Path) -> Result<T> {
    let bytes = fs::read(path).with_context(|| format!("read {}", path.display()))?;
    serde_json::from_slice(&bytes).with_context(|| format!("parse {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opening_a_store_lays_out_its_directories() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        for sub in ["images", "layers", "containers", "tmp"] {
            assert!(dir.path().join(sub).is_dir(), "{sub} missing");
        }
        let digest = crate::digest::sha256_of(b"layer");
        assert_eq!(store.layer_dir(&digest).unwrap(), dir.path().join("layers").join(&digest[7..]));
        assert!(store.layer_dir("busybox").is_err());
    }

    #[test]
    fn a_new_store_is_private_and_an_open_one_is_made_private() {
        let dir = tempfile::tempdir().unwrap();
        let mode = |path: &Path| fs::metadata(path).unwrap().mode() & 0o7777;
        let new = dir.path().join("var/lib/rebox");
        Store::open(&new).unwrap();
        assert_eq!(mode(&new), 0o700);
        fs::set_permissions(&new, fs::Permissions::from_mode(0o755)).unwrap();
        Store::open(&new).unwrap();
        assert_eq!(mode(&new), 0o700);
    }

    #[test]
    fn only_the_owner_of_an_open_store_makes_it_private() {
        assert_eq!(privacy(0o700, 1000, 1000), Privacy::Private);
        assert_eq!(privacy(0o755, 1000, 1000), Privacy::Tighten);
        assert_eq!(privacy(0o750, 0, 0), Privacy::Tighten);
        assert_eq!(privacy(0o755, 1000, 0), Privacy::Refuse, "another user's directory is theirs to change");
        assert_eq!(privacy(0o1777, 0, 0), Privacy::Refuse, "a shared directory like /tmp is not made private");
    }

    #[test]
    fn atomic_writes_leave_only_the_final_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        write_json(&path, &vec!["a"]).unwrap();
        write_json(&path, &vec!["b"]).unwrap();
        assert_eq!(read_json::<Vec<String>>(&path).unwrap(), ["b"]);
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
        let _lock = Store::open(dir.path()).unwrap().lock().unwrap();
    }
}
