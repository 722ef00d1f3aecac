//! Debian packages fetched with `apt-get download` into a cache, never installed.
//!
//! `apt-get download` needs no root: it writes the `.deb` into the current
//! directory. A fresh machine may have no package lists yet, so a failed
//! download is tried once more after `apt-get update`, where that is allowed.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::process;

/// A Debian package at one version.
#[derive(Debug, Clone, Copy)]
pub struct DebianPackage<'a> {
    pub name: &'a str,
    pub version: &'a str,
}

impl DebianPackage<'_> {
    /// Its `.deb` in `cache`, downloaded if it is not there yet.
    pub fn download(&self, cache: &Path) -> Result<PathBuf> {
        let deb = cache.join(format!("{}_{}_amd64.deb", self.name, self.version));
        if deb.exists() {
            return Ok(deb);
        }
        fs::create_dir_all(cache).with_context(|| format!("create the package cache {}", cache.display()))?;
        let pinned = format!("{}={}", self.name, self.version);
        let download = || {
            let mut command = process::command("apt-get", &["download", "-q", &pinned]);
            command.current_dir(cache);
            process::run(command)
        };
        if download().is_err() && process::is_root() {
            process::run(process::command("apt-get", &["update", "-qq"]))?;
            // Whether this fails shows below; apt-get has said why on the terminal.
            let _ = download();
        }
        if !deb.exists() {
            bail!(
                "Debian's {} version {} could not be downloaded; where apt does not use Debian's archive, \
                 fetch that .deb by hand and put it at {}",
                self.name,
                self.version,
                deb.display()
            );
        }
        Ok(deb)
    }
}

/// The package that `meta` (such as `linux-image-amd64`) depends on, and its candidate version, as apt sees them.
pub fn dependency_of(meta: &str) -> Result<(String, String)> {
    let depends = process::capture(process::command("apt-cache", &["depends", meta]))?;
    let name = first_dependency(&String::from_utf8_lossy(&depends.stdout))
        .with_context(|| format!("`apt-cache depends {meta}` names no package"))?;
    let policy = process::capture(process::command("apt-cache", &["policy", &name]))?;
    let version = candidate(&String::from_utf8_lossy(&policy.stdout))
        .with_context(|| format!("`apt-cache policy {name}` has no candidate version"))?;
    Ok((name, version))
}

/// `  Depends: linux-image-6.1.0-57-amd64` → `linux-image-6.1.0-57-amd64` (virtual packages, `<…>`, skipped).
fn first_dependency(text: &str) -> Option<String> {
    text.lines()
        .filter_map(|line| line.trim().strip_prefix("Depends: "))
        .find(|name| !name.starts_with('<'))
        .map(str::to_owned)
}

/// `  Candidate: 6.1.192-3` → `6.1.192-3`.
fn candidate(text: &str) -> Option<String> {
    let version = text.lines().find_map(|line| line.trim().strip_prefix("Candidate: "))?;
    (version != "(none)").then(|| version.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apt_cache_names_the_dependency_and_its_candidate() {
        let depends = "linux-image-amd64\n  Depends: <linux-image-virtual>\n  Depends: linux-image-6.1.0-57-amd64\n";
        assert_eq!(first_dependency(depends).as_deref(), Some("linux-image-6.1.0-57-amd64"));
        let policy = "linux-image-6.1.0-57-amd64:\n  Installed: (none)\n  Candidate: 6.1.192-3\n  Version table:\n";
        assert_eq!(candidate(policy).as_deref(), Some("6.1.192-3"));
        assert_eq!(candidate("x:\n  Installed: (none)\n  Candidate: (none)\n"), None);
    }
}
