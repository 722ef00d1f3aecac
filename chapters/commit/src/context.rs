//! The build context: the directory whose files `COPY` and `ADD` may take, less what `.dockerignore` leaves out.
//!
//! `docker build .` sends the directory `.` to the daemon; a Dockerfile can
//! only copy from it. So every source is a path inside it: `../secret` or a
//! symlink out of it is refused. `.dockerignore`, one pattern per line,
//! leaves files out (`*` and `?` within a name, `**` across directories, a
//! pattern naming a directory leaves out all of it, `!` takes a file back
//! in, the last pattern that matches wins). The files a step copies are
//! also what makes its cache key: a digest of their names, types, modes,
//! link targets and contents (not their times: a fresh checkout of the
//! same files still hits the cache), so changing one file rebuilds from the
//! first step that copies it. Introduced in chapter 6.

use std::fs::{self, File, Metadata};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use sha2::{Digest as _, Sha256};

/// A build context: its directory and its ignore patterns.
#[derive(Debug)]
pub struct BuildContext {
    /// The directory.
    pub root: PathBuf,
    patterns: Vec<Pattern>,
}

/// One line of `.dockerignore`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Pattern {
    /// The path's segments, each a glob (`**` for any number of segments).
    segments: Vec<String>,
    /// `!`: takes matching files back in.
    exception: bool,
}

/// A file of the context that a step copies.
#[derive(Debug)]
pub struct ContextFile {
    /// Its path in the context.
    pub relative: PathBuf,
    /// What it is.
    pub meta: Metadata,
}

impl BuildContext {
    /// The context `root`, with its `.dockerignore` if it has one.
    pub fn open(root: &Path) -> Result<Self> {
        let root = fs::canonicalize(root).with_context(|| format!("the build context {}", root.display()))?;
        if !root.is_dir() {
            bail!("the build context {} is not a directory", root.display());
        }
        let patterns = match fs::read_to_string(root.join(".dockerignore")) {
            Ok(text) => parse_ignore(&text),
            Err(err) if err.kind() == io::ErrorKind::NotFound => Vec::new(),
            Err(err) => return Err(err).context("read .dockerignore"),
        };
        Ok(BuildContext { root, patterns })
    }

    /// A `COPY` source as a clean path inside the context; refused if it leaves it.
    pub fn source(&self, text: &str) -> Result<PathBuf> {
        let mut clean = PathBuf::new();
        for component in Path::new(text).components() {
            match component {
                Component::Normal(part) => clean.push(part),
                Component::ParentDir if !clean.pop() => {
                    bail!("COPY failed: forbidden path outside the build context: {text}")
                }
                _ => {}
            }
        }
        let path = self.root.join(&clean);
        let meta = fs::symlink_metadata(&path)
            .with_context(|| format!("COPY failed: {text}: no such file in the build context"))?;
        if meta.file_type().is_symlink() {
            let target = fs::canonicalize(&path).with_context(|| format!("COPY failed: {text}: a broken symlink"))?;
            if !target.starts_with(&self.root) {
                bail!(
                    "COPY failed: forbidden path outside the build context: {text} (a symlink to {})",
                    target.display()
                );
            }
        }
        Ok(clean)
    }

    /// The files at `source` (a path from [`Self::source`]): itself, or everything under it, in name order, less the ignored.
    pub fn files(&self, source: &Path) -> Result<Vec<ContextFile>> {
        let mut files = Vec::new();
        self.walk(source, &mut files)?;
        Ok(files)
    }

    fn walk(&self, relative: &Path, files: &mut Vec<ContextFile>) -> Result<()> {
        if !relative.as_os_str().is_empty() && self.ignored(relative) {
            return Ok(());
        }
        let path = self.root.join(relative);
        let meta = fs::symlink_metadata(&path).with_context(|| format!("look at {}", path.display()))?;
        let is_dir = meta.is_dir();
        if !relative.as_os_str().is_empty() {
            files.push(ContextFile { relative: relative.to_path_buf(), meta });
        }
        if is_dir {
            for name in crate::walk::sorted_names(&path)? {
                self.walk(&relative.join(name), files)?;
            }
        }
        Ok(())
    }

    /// Whether `.dockerignore` leaves `relative` out: the last pattern matching it, or a directory above it, decides.
    pub fn ignored(&self, relative: &Path) -> bool {
        let segments: Vec<String> =
            relative.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
        let mut ignored = false;
        for pattern in &self.patterns {
            let matched = (1..=segments.len()).any(|len| glob_segments(&pattern.segments, &segments[..len]));
            if matched {
                ignored = !pattern.exception;
            }
        }
        ignored
    }

    /// The digest of what `files` are: names, types, modes, link targets, contents. Times are left out.
    pub fn digest<'a>(&self, files: impl IntoIterator<Item = &'a ContextFile>) -> Result<String> {
        let mut hasher = Sha256::new();
        for file in files {
            hasher.update(file.relative.as_os_str().as_bytes());
            hasher.update(format!("\0{:o}\0", file.meta.mode()).as_bytes());
            let path = self.root.join(&file.relative);
            if file.meta.file_type().is_symlink() {
                hasher.update(fs::read_link(&path)?.as_os_str().as_bytes());
            } else if file.meta.is_file() {
                let mut content = File::open(&path).with_context(|| format!("open {}", path.display()))?;
                io::copy(&mut content, &mut hasher).with_context(|| format!("read {}", path.display()))?;
            }
            hasher.update(b"\n");
        }
        Ok(hex::encode(hasher.finalize()))
    }
}

/// The patterns of a `.dockerignore`: comments and blank lines skipped, paths cleaned.
fn parse_ignore(text: &str) -> Vec<Pattern> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|line| {
            let (exception, line) = match line.strip_prefix('!') {
                Some(rest) => (true, rest.trim()),
                None => (false, line),
            };
            let segments =
                line.split('/').filter(|segment| !segment.is_empty() && *segment != ".").map(str::to_owned).collect();
            Pattern { segments, exception }
        })
        .collect()
}

/// Whether the glob segments match the path segments; `**` matches any number of them.
fn glob_segments(pattern: &[String], path: &[String]) -> bool {
    match pattern.split_first() {
        None => path.is_empty(),
        Some((first, rest)) if first == "**" => (0..=path.len()).any(|skip| glob_segments(rest, &path[skip..])),
        Some((first, rest)) => path
            .split_first()
            .is_some_and(|(name, tail)| glob(first.as_bytes(), name.as_bytes()) && glob_segments(rest, tail)),
    }
}

/// Whether one name matches one glob: `*` any run of characters, `?` any one.
fn glob(pattern: &[u8], name: &[u8]) -> bool {
    match (pattern.split_first(), name.split_first()) {
        (None, None) => true,
        (Some((b'*', rest)), _) => glob(rest, name) || (!name.is_empty() && glob(pattern, &name[1..])),
        (Some((b'?', rest)), Some((_, tail))) => glob(rest, tail),
        (Some((p, rest)), Some((n, tail))) if p == n => glob(rest, tail),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context(ignore: &str, files: &[&str]) -> (tempfile::TempDir, BuildContext) {
        let dir = tempfile::tempdir().unwrap();
        for file in files {
            let path = dir.path().join(file);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, file).unwrap();
        }
        fs::write(dir.path().join(".dockerignore"), ignore).unwrap();
        let context = BuildContext::open(dir.path()).unwrap();
        (dir, context)
    }

    fn names(files: &[ContextFile]) -> Vec<String> {
        files.iter().map(|file| file.relative.display().to_string()).collect()
    }

    #[test]
    fn dockerignore_leaves_files_out_and_takes_exceptions_back() {
        let ignore = "# not for the image\nDockerfile\n.dockerignore\n*.md\n!README.md\nbuild/\n**/*.tmp\n";
        let files =
            ["Dockerfile", "README.md", "NOTES.md", "www/index.cgi", "www/x.tmp", "build/out", "app/deep/y.tmp"];
        let (_dir, context) = context(ignore, &files);
        assert_eq!(
            names(&context.files(Path::new("")).unwrap()),
            ["README.md", "app", "app/deep", "www", "www/index.cgi"]
        );
    }

    #[test]
    fn sources_stay_inside_the_context() {
        let (_dir, context) = context("", &["www/index.cgi"]);
        assert_eq!(context.source("./www/../www").unwrap(), Path::new("www"));
        assert!(context.source("../etc/passwd").unwrap_err().to_string().contains("outside the build context"));
        assert!(context.source("missing").is_err());
    }

    #[test]
    fn the_digest_changes_with_a_file_and_not_with_its_time() {
        let (dir, context) = context("", &["www/index.cgi"]);
        let before = context.digest(&context.files(Path::new("www")).unwrap()).unwrap();
        let file = File::options().write(true).open(dir.path().join("www/index.cgi")).unwrap();
        file.set_modified(std::time::SystemTime::UNIX_EPOCH).unwrap();
        assert_eq!(context.digest(&context.files(Path::new("www")).unwrap()).unwrap(), before);
        fs::write(dir.path().join("www/index.cgi"), "changed").unwrap();
        assert_ne!(context.digest(&context.files(Path::new("www")).unwrap()).unwrap(), before);
    }
}
