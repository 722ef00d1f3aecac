//! Whom the command runs as: the image's `User` (a Dockerfile's `USER`), or `run -u`.
//!
//! A container's first process starts as root, and stays root unless told
//! otherwise. `USER www-data`, `-u 1000` or `-u app:staff` names a user,
//! and maybe a group, that only the *container's* `/etc/passwd` and
//! `/etc/group` know: so they are read after `pivot_root`, inside the
//! container's root, as runc does. A name must be found there; a number
//! need not be (`-u 1000` on an image without such a user runs as uid 1000,
//! gid 0). The user's other groups are those of `/etc/group` that list it.
//! Then the child drops root for good, in the only order that works:
//! `setgroups` (only root may), `setgid` (only root may), `setuid` last.
//! `HOME` is the user's home, unless the image or `-e` set it.
//! See `man 5 passwd`, `man 5 group`, `man 2 setuid`. Introduced in chapter 3.

use std::fs;

use anyhow::{Context, Result, bail};
use ns_isolation::sys;

/// A user to become, as the container's files say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// The user id.
    pub uid: u32,
    /// The primary group id.
    pub gid: u32,
    /// Every group, the primary one first.
    pub groups: Vec<u32>,
    /// The home directory, if the user has an entry in `/etc/passwd`.
    pub home: Option<String>,
}

/// Reads `spec` (`user`, `uid`, `user:group`, `uid:gid`) against the text of `/etc/passwd` and `/etc/group`.
pub fn lookup(spec: &str, passwd: &str, group: &str) -> Result<User> {
    let (user, group_spec) = match spec.split_once(':') {
        Some((user, group)) => (user, Some(group)),
        None => (spec, None),
    };
    let entry = passwd
        .lines()
        .map(|line| line.split(':').collect::<Vec<_>>())
        .find(|fields| fields.len() >= 7 && (fields[0] == user || (user.parse::<u32>().is_ok() && fields[2] == user)));
    let (name, uid, mut gid, home) = match (&entry, user.parse::<u32>()) {
        (Some(fields), _) => (
            Some(fields[0]),
            fields[2].parse().with_context(|| format!("the uid of {user} in /etc/passwd"))?,
            fields[3].parse().with_context(|| format!("the gid of {user} in /etc/passwd"))?,
            Some(fields[5].to_owned()),
        ),
        (None, Ok(uid)) => (None, uid, 0, None),
        (None, Err(_)) => bail!("unable to find user {user}: no matching entries in passwd file"),
    };
    let groups: Vec<Vec<&str>> = group.lines().map(|line| line.split(':').collect::<Vec<_>>()).collect();
    if let Some(wanted) = group_spec {
        let found = groups.iter().find(|fields| fields.len() >= 3 && fields[0] == wanted);
        gid = match (found, wanted.parse::<u32>()) {
            (Some(fields), _) => fields[2].parse().with_context(|| format!("the gid of {wanted} in /etc/group"))?,
            (None, Ok(gid)) => gid,
            (None, Err(_)) => bail!("unable to find group {wanted}: no matching entries in group file"),
        };
    }
    let mut all = vec![gid];
    if let Some(name) = name {
        for fields in groups.iter().filter(|fields| fields.len() >= 4) {
            if fields[3].split(',').any(|member| member == name)
                && let Ok(other) = fields[2].parse::<u32>()
                && !all.contains(&other)
            {
                all.push(other);
            }
        }
    }
    Ok(User { uid, gid, groups: all, home })
}

/// Leaves `HOME` out of `env` for a user other than root, unless `explicit` (the image's Env, `-e`) sets it.
///
/// Docker's default `HOME=/root` is root's; another user gets their own home from
/// `/etc/passwd`, which only the child can read ([`become_user`]).
pub fn leave_home_to_user(env: &mut Vec<String>, user: &str, explicit: &[String]) {
    if !user.is_empty() && !explicit.iter().any(|var| var.starts_with("HOME=")) {
        env.retain(|var| !var.starts_with("HOME="));
    }
}

/// Becomes the user `spec` names (nothing to do when it is empty), looked up in this root's files.
///
/// Called in the container's child after `pivot_root` and after its
/// environment is in place, just before exec.
pub fn become_user(spec: &str) -> Result<()> {
    if spec.is_empty() {
        return Ok(());
    }
    let passwd = fs::read_to_string("/etc/passwd").unwrap_or_default();
    let group = fs::read_to_string("/etc/group").unwrap_or_default();
    let user = lookup(spec, &passwd, &group)?;
    if std::env::var_os("HOME").is_none() {
        // SAFETY: the container's child is single-threaded (see ns_isolation::clone).
        unsafe { std::env::set_var("HOME", user.home.as_deref().unwrap_or("/")) };
    }
    // ANCHOR: drop_root
    sys::setgroups(&user.groups).context("set the user's groups (setgroups)")?;
    sys::setgid(user.gid).with_context(|| format!("become group {} (setgid)", user.gid))?;
    sys::setuid(user.uid).with_context(|| format!("become user {} (setuid)", user.uid))?;
    // ANCHOR_END: drop_root
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWD: &str = "root:x:0:0:root:/root:/bin/sh\nwww-data:x:33:33:www-data:/var/www:/bin/false\n";
    const GROUP: &str = "root:x:0:\nwww-data:x:33:\nstaff:x:50:www-data,other\n";

    #[test]
    fn names_and_numbers_are_read_from_the_containers_files() {
        let www = lookup("www-data", PASSWD, GROUP).unwrap();
        assert_eq!(www, User { uid: 33, gid: 33, groups: vec![33, 50], home: Some("/var/www".to_owned()) });
        assert_eq!(lookup("33", PASSWD, GROUP).unwrap().home.as_deref(), Some("/var/www"));
        assert_eq!(lookup("1000", PASSWD, GROUP).unwrap(), User { uid: 1000, gid: 0, groups: vec![0], home: None });
        assert_eq!(lookup("www-data:staff", PASSWD, GROUP).unwrap().gid, 50);
        assert_eq!(lookup("1000:1000", PASSWD, GROUP).unwrap().gid, 1000);
    }

    #[test]
    fn unknown_names_are_refused() {
        assert_eq!(
            lookup("nobody", PASSWD, GROUP).unwrap_err().to_string(),
            "unable to find user nobody: no matching entries in passwd file"
        );
        assert!(lookup("root:wheel", PASSWD, GROUP).is_err());
    }
}
