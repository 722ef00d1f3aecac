//! Traced calls that change the mount table: `mount(2)`, `umount2(2)`, `pivot_root(2)`.

use std::path::Path;

use nix::mount::{MntFlags, MsFlags};

use crate::trace::{self, quote};

/// `mount(2)`. A `None` source or filesystem type is printed `NULL`, as strace does.
pub fn mount(
    source: Option<&str>,
    target: &Path,
    fstype: Option<&str>,
    flags: MsFlags,
    data: Option<&str>,
) -> nix::Result<()> {
    let result = nix::mount::mount(source, target, fstype, flags, data);
    let or_null = |text: Option<&str>| text.map_or("NULL".to_owned(), quote);
    trace::syscall(
        || {
            format!(
                "mount({}, {}, {}, {}, {})",
                or_null(source),
                quote(target.display()),
                or_null(fstype),
                describe_ms_flags(flags),
                or_null(data)
            )
        },
        result,
    )
}

/// `umount2(2)`.
pub fn umount2(target: &Path, flags: MntFlags) -> nix::Result<()> {
    let result = nix::mount::umount2(target, flags);
    let names: Vec<&str> = flags.iter_names().map(|(name, _)| name).collect();
    let flags = if names.is_empty() { "0".to_owned() } else { names.join("|") };
    trace::syscall(|| format!("umount2({}, {flags})", quote(target.display())), result)
}

/// `pivot_root(2)`: make `new_root` the root mount, and put the old one at `put_old`.
pub fn pivot_root(new_root: &Path, put_old: &Path) -> nix::Result<()> {
    let result = nix::unistd::pivot_root(new_root, put_old);
    trace::syscall(|| format!("pivot_root({}, {})", quote(new_root.display()), quote(put_old.display())), result)
}

/// Names mount flags as strace does: `MS_NOSUID|MS_NODEV`, or `0`.
pub fn describe_ms_flags(flags: MsFlags) -> String {
    let names: Vec<&str> = flags.iter_names().map(|(name, _)| name).collect();
    if names.is_empty() { "0".to_owned() } else { names.join("|") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_are_named_like_strace() {
        assert_eq!(describe_ms_flags(MsFlags::empty()), "0");
        assert_eq!(describe_ms_flags(MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC), "MS_NOSUID|MS_NOEXEC");
    }
}
