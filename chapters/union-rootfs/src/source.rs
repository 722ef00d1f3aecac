//! Where an image is read from: a directory, or a tar of that directory.
//!
//! `image load` accepts an OCI image layout or a `docker save` archive,
//! either as a directory or as a single `.tar`. A tar is read once to list
//! its members and where their bytes start; a member is then read in place
//! with a seek, never extracted to a temporary copy. Introduced in chapter 3.

use std::collections::HashMap;
use std::fs::{self, File};
use std::io::{Read, Seek, SeekFrom};
use std::path::{Component, Path, PathBuf};

use anyhow::{Context, Result, bail};

/// JSON files (index, manifests, configs) larger than this are refused.
const MAX_JSON: u64 = 16 << 20;

/// An image directory or archive.
#[derive(Debug)]
pub enum Source {
    /// A directory on disk.
    Dir(PathBuf),
    /// A tar file: member name to (offset of its data, size).
    Tar(PathBuf, HashMap<String, (u64, u64)>),
}

impl Source {
    /// Opens `path`, a directory or a tar file.
    pub fn open(path: &Path) -> Result<Self> {
        let meta = fs::metadata(path).with_context(|| format!("open the image {}", path.display()))?;
        if meta.is_dir() {
            return Ok(Self::Dir(path.to_path_buf()));
        }
        let file = File::open(path).with_context(|| format!("open the image archive {}", path.display()))?;
        let mut archive = tar::Archive::new(file);
        let mut members = HashMap::new();
        for entry in archive.entries().with_context(|| format!("read the image archive {}", path.display()))? {
            let entry = entry.with_context(|| format!("read an entry of {}", path.display()))?;
            if entry.header().entry_type().is_file() {
                let name = clean_name(&entry.path()?)?;
                members.insert(name, (entry.raw_file_position(), entry.size()));
            }
        }
        Ok(Self::Tar(path.to_path_buf(), members))
    }

    /// A name for images that carry none: the file or directory name, without `.tar`.
    pub fn name_hint(&self) -> String {
        let path = match self {
            Self::Dir(path) | Self::Tar(path, _) => path,
        };
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        name.strip_suffix(".tar").unwrap_or(&name).to_owned()
    }

    /// Whether the image has a file `name`.
    pub fn has(&self, name: &str) -> bool {
        match self {
            Self::Dir(dir) => dir.join(name).is_file(),
            Self::Tar(_, members) => members.contains_key(name),
        }
    }

    /// Opens the file `name` for reading.
    pub fn reader(&self, name: &str) -> Result<Box<dyn Read>> {
        let clean = clean_name(Path::new(name))?;
        match self {
            Self::Dir(dir) => {
                let path = dir.join(&clean);
                let file = File::open(&path).with_context(|| format!("open {}", path.display()))?;
                Ok(Box::new(file))
            }
            Self::Tar(path, members) => {
                let &(offset, size) =
                    members.get(&clean).with_context(|| format!("{} has no member {clean:?}", path.display()))?;
                let mut file = File::open(path).with_context(|| format!("open {}", path.display()))?;
                file.seek(SeekFrom::Start(offset))
                    .with_context(|| format!("seek to {clean:?} in {}", path.display()))?;
                Ok(Box::new(file.take(size)))
            }
        }
    }

    /// Reads a small file (JSON) whole.
    pub fn read(&self, name: &str) -> Result<Vec<u8>> {
        let mut bytes = Vec::new();
        self.reader(name)?.take(MAX_JSON).read_to_end(&mut bytes).with_context(|| format!("read {name}"))?;
        Ok(bytes)
    }
}

/// A member name without `./`, refusing names that climb out with `..`.
fn clean_name(name: &Path) -> Result<String> {
    let mut parts = Vec::new();
    for component in name.components() {
        match component {
            Component::Normal(part) => parts.push(part.to_string_lossy().into_owned()),
            Component::CurDir => {}
            _ => bail!("refuse the image member {:?}: it leaves the image", name.display().to_string()),
        }
    }
    Ok(parts.join("/"))
}
