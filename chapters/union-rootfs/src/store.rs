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
//! renamed over the real one, and a layer is unpacked under `tmp/` and
//! renamed into `layers/` once complete (see `atomic.rs`). Changes to the
//! store are made under an exclusive `flock(2)` on `<root>/lock`, so two
//! runtimes never pick the same container name; a layer is only ever added
//! under it, together with its image. Opening the store collects what a
//! killed runtime left in it (see `leftovers.rs`).
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
use std::io::ErrorKind;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};
use nix::sys::statvfs::statvfs;
use nix::unistd::Uid;

use crate::digest::hex_part;
use crate::leftovers;

// The store's files are written whole (see `atomic.rs`); later chapters find these here.
pub use crate::atomic::{
    no_room_errno, owned_prefix, owner_of, read_json, remove_tree, write_atomic, write_json, write_json_even_when_full,
};

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
    /// Opens (and creates, if needed) the store at `root`, private, and collects what killed runtimes left in it.
    pub fn open(root: &Path) -> Result<Self> {
        let root = std::path::absolute(root).with_context(|| format!("resolve the store path {}", root.display()))?;
        make_private(&root)?;
        for dir in ["images", "layers", "containers", "tmp"] {
            let path = root.join(dir);
            fs::create_dir_all(&path).with_context(|| format!("create the store directory {}", path.display()))?;
        }
        let store = Self { root };
        leftovers::collect(&store);
        Ok(store)
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

    /// Takes the store's exclusive lock if no other process holds it; `None` if one does.
    pub fn try_lock(&self) -> Result<Option<StoreLock>> {
        let path = self.root.join("lock");
        let file = File::create(&path).with_context(|| format!("open the store lock {}", path.display()))?;
        match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
            Ok(lock) => Ok(Some(StoreLock { _lock: lock })),
            Err((_, Errno::EWOULDBLOCK)) => Ok(None),
            Err((_, errno)) => {
                Err(errno).with_context(|| format!("lock the store (flock {} LOCK_EX|LOCK_NB)", path.display()))
            }
        }
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

    /// A fresh temporary directory under `tmp/`, named `<prefix><pid>-<start time>-XXXXXX` after
    /// this process; removed when dropped unless kept.
    pub fn temp_dir(&self, prefix: &str) -> Result<tempfile::TempDir> {
        tempfile::Builder::new()
            .prefix(&owned_prefix(prefix)?)
            .tempdir_in(self.tmp_dir())
            .with_context(|| format!("create a temporary directory in {}", self.tmp_dir().display()))
    }

    /// Adds to `err`, if the store's filesystem ran out of room, what ran out: space, inodes or quota.
    ///
    /// Called where the failure happens, before what was written is
    /// removed again, so that the filesystem is still as full as it was.
    pub fn what_ran_out(&self, err: anyhow::Error) -> anyhow::Error {
        let Some(errno) = no_room_errno(&err) else { return err };
        if err.downcast_ref::<RanOut>().is_some() {
            return err;
        }
        let root = self.root.display();
        let what = match statvfs(&self.root) {
            _ if errno == Errno::EDQUOT => format!("the disk quota of the store {root} is used up"),
            Ok(stats) if stats.files_available() == 0 && stats.files() > 0 => {
                format!("the store's filesystem ({root}) has no inodes left")
            }
            _ => format!("the store's filesystem ({root}) has no space left"),
        };
        err.context(RanOut(what))
    }
}

/// What ran out, said once in an error chain by [`Store::what_ran_out`].
#[derive(Debug)]
struct RanOut(String);

impl std::fmt::Display for RanOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
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
    fn the_lock_is_taken_once_at_a_time() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let lock = store.lock().unwrap();
        assert!(store.try_lock().unwrap().is_none(), "the lock was taken twice");
        drop(lock);
        assert!(store.try_lock().unwrap().is_some());
    }

    #[test]
    fn a_full_filesystem_is_said_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let full = || anyhow::Error::from(std::io::Error::from_raw_os_error(libc::ENOSPC)).context("write file x");
        let said = store.what_ran_out(store.what_ran_out(full()).context("unpack layer y"));
        let text = format!("{said:#}");
        assert_eq!(text.matches("has no space left").count(), 1, "{text}");
        assert!(text.starts_with("unpack layer y: the store's filesystem ("), "{text}");
        let other = store.what_ran_out(anyhow::anyhow!("refused"));
        assert_eq!(format!("{other:#}"), "refused");
        assert_eq!(no_room_errno(&full()), Some(Errno::ENOSPC));
    }
}
