//! `tag`: one more name for an image, and what a name may be.
//!
//! A name is `[REGISTRY/]REPOSITORY[:TAG]`, `latest` when no tag is given;
//! the lesson's `geektime/helloworld:v1` is a repository of the user
//! `geektime` on Docker Hub, tagged `v1`. Tagging writes nothing but the
//! store's `repositories.json`: the image, its config and its layers are
//! the same, which is why `images` shows one IMAGE ID under two names.
//! Introduced in chapter 6.

use anyhow::{Result, bail};
use union_rootfs::image::{self, normalize};
use union_rootfs::store::{Store, write_json};

/// Checks a name as Docker's reference grammar does, and returns it with its tag (`busybox` → `busybox:latest`).
///
/// Path components are lowercase letters and digits, joined by `.`, `_`,
/// `__` or `-`; the first may be a registry host (with a `:port`); a tag is
/// up to 128 letters, digits, `_`, `.` and `-`, not starting with `.` or `-`.
pub fn check_reference(name: &str) -> Result<String> {
    let invalid = |why: &str| -> Result<String> { bail!("invalid reference format {name:?}: {why}") };
    let (repository, tag) = match name.rsplit_once(':') {
        Some((repository, tag)) if !tag.contains('/') => (repository, Some(tag)),
        _ => (name, None),
    };
    if let Some(tag) = tag {
        let starts_well = tag.chars().next().is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
        if !starts_well || tag.len() > 128 || !tag.chars().all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c)) {
            return invalid("a tag is up to 128 letters, digits, '_', '.' or '-', not starting with '.' or '-'");
        }
    }
    if repository.is_empty() || repository.len() > 255 {
        return invalid("the repository name is empty or too long");
    }
    let components: Vec<&str> = repository.split('/').collect();
    for (index, component) in components.iter().enumerate() {
        let host = index == 0 && components.len() > 1 && (component.contains(['.', ':']) || *component == "localhost");
        if !(host || path_component(component)) {
            return invalid(
                "a repository is lowercase letters and digits, separated by '.', '_', '__' or '-', and '/'",
            );
        }
    }
    Ok(normalize(name))
}

/// `[a-z0-9]+` runs joined by one separator: `.`, `_`, `__`, or one or more `-`.
fn path_component(component: &str) -> bool {
    let alnum = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    let bytes: Vec<char> = component.chars().collect();
    if bytes.is_empty() || !alnum(bytes[0]) || !alnum(bytes[bytes.len() - 1]) {
        return false;
    }
    let mut separator = String::new();
    for c in bytes {
        if alnum(c) {
            if !(separator.is_empty()
                || matches!(separator.as_str(), "." | "_" | "__")
                || separator.chars().all(|s| s == '-'))
            {
                return false;
            }
            separator.clear();
        } else {
            separator.push(c);
        }
    }
    true
}

/// `tag SOURCE TARGET`: gives the image `source` names the name `target` too.
pub fn tag(store: &Store, source: &str, target: &str) -> Result<()> {
    let target = check_reference(target)?;
    let _lock = store.lock()?;
    let image = image::resolve(store, source)?;
    let mut repositories = image::repositories(store)?;
    repositories.insert(target, image.id);
    write_json(&store.repositories_file(), &repositories)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_read_as_dockers_references() {
        assert_eq!(check_reference("helloworld").unwrap(), "helloworld:latest");
        assert_eq!(check_reference("geektime/helloworld:v1").unwrap(), "geektime/helloworld:v1");
        assert_eq!(check_reference("localhost:5000/app").unwrap(), "localhost:5000/app:latest");
        assert!(check_reference("a__b-c.d").is_ok());
        for bad in ["HelloWorld", "hello world", "app:", "app:-v1", "/app", "app//x", "a___b", ""] {
            assert!(check_reference(bad).is_err(), "{bad:?} must be refused");
        }
    }
}
