//! Docker's exit codes, and the error that carries one.
//!
//! `docker run` exits with the command's own status, or: 125 when the
//! runtime fails before the command starts, 126 when the command cannot be
//! executed, 127 when it is not found, 128+N when it was killed by signal N.
//! A [`Failure`] anywhere in an error chain sets the code; any other error
//! is the runtime's and means 125. Introduced in chapter 1.

use std::fmt;
use std::io::Write;
use std::process::exit;

use clap::Parser;
use clap::error::ErrorKind;

/// The runtime failed before the command started.
pub const RUNTIME_FAILED: i32 = 125;
/// The command was found but could not be executed.
pub const CANNOT_EXECUTE: i32 = 126;
/// The command was not found.
pub const NOT_FOUND: i32 = 127;

/// An error with the exit code it must end the runtime with.
#[derive(Debug)]
pub struct Failure {
    code: i32,
    message: String,
}

impl Failure {
    /// An error that ends the runtime with `code`.
    pub fn new(code: i32, message: impl Into<String>) -> Self {
        Self { code, message: message.into() }
    }

    /// The exit code for an error: the first [`Failure`] in its chain, else 125.
    pub fn code_of(err: &anyhow::Error) -> i32 {
        err.chain().find_map(|cause| cause.downcast_ref::<Failure>()).map_or(RUNTIME_FAILED, |failure| failure.code)
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Failure {}

/// Parses the command line as Docker does: `--help` and `--version` print
/// and exit 0, and so does a bare command with nothing to do; a bad flag or
/// value exits 125, before anything was created.
///
/// First of all, the runtime closes every descriptor it was started with
/// beyond 0, 1 and 2 (a shell's, a test runner's): none is its own, none
/// must reach a container, and its own then always start at 3, as the
/// traces show them on every machine.
pub fn parse_command_line<C: Parser>() -> C {
    crate::exec::close_inherited_fds();
    match C::try_parse() {
        Ok(cli) => cli,
        Err(err) if matches!(err.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) => err.exit(),
        Err(err) if err.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = std::io::stdout().write_all(err.render().to_string().as_bytes());
            exit(0);
        }
        // `REBOX_ROOT` in the environment counts as an argument for clap, but not for a learner.
        Err(err) if err.kind() == ErrorKind::MissingSubcommand && std::env::args_os().len() == 1 => {
            let _ = std::io::stdout().write_all(C::command().render_help().to_string().as_bytes());
            exit(0);
        }
        Err(err) => {
            let _ = err.print();
            exit(RUNTIME_FAILED);
        }
    }
}

/// Ends the runtime with the command's exit code, or with the error's,
/// after printing it once, with its whole chain: `<program>: <what failed>: <why>`.
pub fn exit_with(program: &str, result: anyhow::Result<i32>) -> ! {
    match result {
        Ok(code) => exit(code),
        Err(err) => {
            eprintln!("{program}: {err:#}");
            exit(Failure::code_of(&err));
        }
    }
}

/// Lets a command that only prints die quietly when its reader goes away (`ps | head -1`), as Docker's does.
///
/// Rust starts every program with SIGPIPE ignored, so a write to a closed
/// pipe fails with EPIPE, and `println!` panics on it. A command that only
/// prints a table has nothing to clean up: SIGPIPE back to its default ends
/// it silently. The runtime keeps SIGPIPE ignored everywhere else: a monitor
/// whose terminal, log reader or `-p` client went away must go on, to record
/// its container's end and remove its cgroup.
pub fn die_on_broken_pipe() {
    // SAFETY: setting a signal's disposition to its default has no preconditions; no handler is installed.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;

    #[test]
    fn plain_errors_are_the_runtimes() {
        assert_eq!(Failure::code_of(&anyhow::anyhow!("mount failed")), RUNTIME_FAILED);
    }

    #[test]
    fn a_failure_under_context_keeps_its_code() {
        let err = Err::<(), _>(Failure::new(NOT_FOUND, "no such command")).context("exec").unwrap_err();
        assert_eq!(Failure::code_of(&err), NOT_FOUND);
    }
}
