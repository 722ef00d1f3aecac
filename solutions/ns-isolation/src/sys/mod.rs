//! The syscalls the runtime makes, each reported to `--trace` as strace prints it.
//!
//! Every chapter reaches the kernel through these thin wrappers: each makes
//! one call (through nix, or `std` for file writes), prints one trace line
//! (`mount("proc", "/proc", "proc", MS_NOSUID|MS_NODEV|MS_NOEXEC, NULL) = 0`,
//! or `... = -1 EPERM (Operation not permitted)`), and returns the result
//! untouched. So an exercise holds only the call and what it means, and the
//! trace lines the suites compare are written in one place, not by hand in
//! each step. `clone(2)` and `execve(2)` are traced where they are made, in
//! [`crate::clone`] and [`crate::exec`]: they do not return like the others.
//! Introduced in chapter 1; later chapters add the calls they teach.

mod files;
mod mount;
mod process;
mod terminal;

pub use files::{chdir, chroot, lsetxattr, mkdir, mknod, open_read, rmdir, symlink, write_file};
pub use mount::{describe_ms_flags, mount, pivot_root, umount2};
pub use process::{kill, pidfd_open, pidfd_send_signal, setgid, setgroups, sethostname, setns, setuid, unshare};
pub use terminal::{
    dup2_onto, dup2_stdio, open_pty_master, open_pty_slave, receive_fd, send_fd, set_controlling_terminal, setsid,
};
