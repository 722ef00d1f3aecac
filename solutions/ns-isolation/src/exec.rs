//! Replace the runtime's child with the container's command: `execvp(3)`.
//!
//! The process that was cloned into the namespaces *becomes* the command:
//! same pid (1 inside), same namespaces, new program. This is why there is no
//! separate "container process" on the host: the container is the command.
//! `execvp` searches `PATH` when the name has no slash. A command that is not
//! found exits 127, one that cannot be executed 126, as in Docker and POSIX
//! shells. See `man 2 execve`, `man 3 execvp`. Introduced in chapter 1.

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
    trace::line(|| format!("execvp({}, {:?}) ...", trace::quote(program.to_string_lossy()), argv));
    // ANCHOR: exec
    // EXERCISE(exec): execvp the program with `args`; map ENOENT to 127 and other errors to 126 (exec_failure)
    let errno = match execvp(program, &args) {
        Ok(never) => match never {},
        Err(errno) => errno,
    };
    trace::line(|| format!("<... execvp resumed> = -1 {errno:?} ({})", errno.desc()));
    Err(exec_failure(&program.to_string_lossy(), errno).into())
    // END EXERCISE
    // ANCHOR_END: exec
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
