//! Replace the runtime's child with the container's command: `execvp(3)`.
//!
//! The process that was cloned into the namespaces *becomes* the command:
//! same pid (1 inside), same namespaces, new program. This is why there is no
//! separate "container process" on the host: the container is the command.
//! `execvp` searches `PATH` when the name has no slash. A command that is not
//! found exits 127, one that cannot be executed 126, as in Docker and POSIX
//! shells.
//!
//! A new program keeps every open file descriptor not marked close-on-exec:
//! whatever the runtime was started with beyond 0, 1 and 2 (a pipe of the
//! shell that ran it, a descriptor of a CI runner) would reach the
//! container, a door back to the host. So before the exec every descriptor
//! from 3 up is marked close-on-exec, in one `close_range(2)` call, as runc
//! does. It is housekeeping, not a step of the lesson: it is not traced.
//! See `man 2 execve`, `man 3 execvp`, `man 2 close_range`. Introduced in chapter 1.

use std::convert::Infallible;
use std::ffi::{CString, OsStr};
use std::os::unix::ffi::OsStrExt;

use anyhow::{Context, Result};
use nix::errno::Errno;
use nix::unistd::execvp;

use crate::exit::{CANNOT_EXECUTE, Failure, NOT_FOUND};
use crate::trace;

/// Execs `argv` (searching `PATH`); only returns if the exec failed.
pub fn exec_command(argv: &[impl AsRef<OsStr>]) -> Result<Infallible> {
    let argv: Vec<&OsStr> = argv.iter().map(AsRef::as_ref).collect();
    let args = argv
        .iter()
        .map(|arg| CString::new(arg.as_bytes()))
        .collect::<Result<Vec<_>, _>>()
        .context("a command argument contains a NUL byte")?;
    let program = args.first().context("no command to run")?;
    close_on_exec_from(3).context("mark the inherited file descriptors close-on-exec")?;
    trace::line(|| format!("execvp({}, {:?}) ...", trace::quote(program.to_string_lossy()), argv));
    // EXERCISE(exec): execvp the program with `args`; map ENOENT to 127 and other errors to 126 (exec_failure)
    todo!(
        "ns-isolation step 9 of 10 (exec): execvp the program with `args`; map ENOENT to 127 and other errors to 126 (exec_failure) — book: ns-isolation.html#exec"
    )
}

/// Marks every file descriptor from `first` up close-on-exec: `close_range(first, ~0U, CLOSE_RANGE_CLOEXEC)`.
///
/// Before Linux 5.11 the kernel lacks the flag (EINVAL) or the call (ENOSYS);
/// then each descriptor listed in `/proc/self/fd` is marked with `fcntl(2)`.
pub fn close_on_exec_from(first: u32) -> Result<()> {
    // SAFETY: close_range with CLOSE_RANGE_CLOEXEC only sets a flag on descriptors; it closes none.
    let rc = unsafe { libc::syscall(libc::SYS_close_range, first, u32::MAX, libc::CLOSE_RANGE_CLOEXEC) };
    match Errno::result(rc) {
        Ok(_) => Ok(()),
        Err(Errno::ENOSYS | Errno::EINVAL) => {
            for entry in std::fs::read_dir("/proc/self/fd").context("list /proc/self/fd")? {
                let fd: i32 = entry?.file_name().to_string_lossy().parse().unwrap_or(-1);
                if fd >= first as i32 {
                    // A descriptor gone since the listing (the listing's own) is no matter: EBADF.
                    let _ = nix::fcntl::fcntl(
                        // SAFETY: the descriptor is only used for this one fcntl; it is not owned or closed here.
                        unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) },
                        nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::FD_CLOEXEC),
                    );
                }
            }
            Ok(())
        }
        Err(errno) => Err(errno.into()),
    }
}

/// Closes every descriptor from 3 up: `close_range(3, ~0U, 0)`, or one by one before Linux 5.9.
pub fn close_inherited_fds() {
    // SAFETY: the runtime owns no descriptor yet when it calls this, first thing in main.
    let rc = unsafe { libc::syscall(libc::SYS_close_range, 3, u32::MAX, 0) };
    if rc != 0 {
        let open: Vec<i32> = std::fs::read_dir("/proc/self/fd")
            .map(|entries| entries.flatten().filter_map(|e| e.file_name().to_string_lossy().parse().ok()).collect())
            .unwrap_or_default();
        for fd in open.into_iter().filter(|fd| *fd >= 3) {
            // SAFETY: as above; the listing's own descriptor is closed already, so this one fails with EBADF.
            unsafe { libc::close(fd) };
        }
    }
}

/// The error, and Docker's exit code, for a failed exec.
pub fn exec_failure(program: &str, errno: Errno) -> Failure {
    let code = match errno {
        Errno::ENOENT | Errno::ENOTDIR => NOT_FOUND,
        _ => CANNOT_EXECUTE,
    };
    let reason = match errno {
        Errno::ENOENT if !program.contains('/') => "executable file not found in $PATH".to_owned(),
        _ => errno.desc().to_lowercase(),
    };
    Failure::new(code, format!("exec {program:?}: {reason} (execvp: {errno:?})"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exit::Failure;

    #[test]
    fn missing_commands_exit_127_and_say_path() {
        let failure = exec_failure("nosuchcmd", Errno::ENOENT);
        assert_eq!(Failure::code_of(&failure.into()), 127);
        assert_eq!(
            exec_failure("nosuchcmd", Errno::ENOENT).to_string(),
            "exec \"nosuchcmd\": executable file not found in $PATH (execvp: ENOENT)"
        );
    }

    #[test]
    fn non_executable_files_exit_126() {
        let failure = exec_failure("/etc/hostname", Errno::EACCES);
        assert_eq!(Failure::code_of(&failure.into()), 126);
    }
}
