//! Wait for the container, forward signals to it, and turn its end into an exit code.
//!
//! The runtime stays the container's parent until the end, like `docker run`
//! in the foreground. It blocks the signals a user sends to stop a program
//! (SIGINT, SIGTERM, SIGHUP, SIGQUIT) and SIGCHLD, then takes them one at a
//! time with `sigwait(3)`: a stop signal is passed on to the container's
//! PID 1, SIGCHLD means it is time to reap it with `waitpid(2)`. No signal
//! handler, no thread. The child unblocks the signals again before it execs.
//!
//! PID 1 of a PID namespace only receives the signals it has a handler for
//! (SIGKILL and SIGSTOP from outside excepted): a forwarded SIGTERM stops a
//! program that traps it, and is dropped for one that does not.
//! See `man 7 pid_namespaces`, `man 2 wait4`, `man 3 sigwait`. Introduced in chapter 1.

use anyhow::{Context, Result};
use nix::sys::signal::{SigHandler, SigSet, Signal, signal};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::Pid;

use crate::{sys, trace};

/// The signals passed on to the container.
pub const FORWARDED: [Signal; 4] = [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP, Signal::SIGQUIT];

fn watched() -> SigSet {
    let mut set: SigSet = FORWARDED.into_iter().collect();
    set.add(Signal::SIGCHLD);
    set
}

/// Blocks the forwarded signals and SIGCHLD; call before `clone` so none is missed.
pub fn block_signals() -> Result<()> {
    let result = watched().thread_block();
    trace::syscall(|| format!("rt_sigprocmask(SIG_BLOCK, {WATCHED_NAMES}, NULL)"), result)
        .context("block the signals to forward (sigprocmask SIG_BLOCK)")
}

/// Unblocks them again, and gives SIGPIPE back its default action: the command must start as any program does.
///
/// Rust programs ignore SIGPIPE (so that a write to a closed pipe is an
/// error, not death), and an ignored signal stays ignored across `execve`:
/// without this, `yes | head -1` in the container would never end `yes`.
pub fn unblock_signals() -> Result<()> {
    let result = watched().thread_unblock();
    trace::syscall(|| format!("rt_sigprocmask(SIG_UNBLOCK, {WATCHED_NAMES}, NULL)"), result)
        .context("unblock signals before exec (sigprocmask SIG_UNBLOCK)")?;
    // SAFETY: SIG_DFL installs no handler; nothing runs on the signal but the kernel's default action.
    let result = unsafe { signal(Signal::SIGPIPE, SigHandler::SigDfl) }.map(drop);
    trace::syscall(|| "rt_sigaction(SIGPIPE, {sa_handler=SIG_DFL}, NULL)".to_owned(), result)
        .context("restore SIGPIPE's default action before exec (sigaction)")
}

/// The watched set as strace prints it.
const WATCHED_NAMES: &str = "[INT TERM HUP QUIT CHLD]";

/// Waits for `child` to end, passing on every stop signal, and returns how it ended.
pub fn wait_forwarding_signals(child: Pid) -> Result<WaitStatus> {
    let watched = watched();
    // Blocked already by whoever cloned the child (`block_signals`); made sure of, untraced: a SIGCHLD
    // arriving while it is not blocked would be discarded, and `sigwait` would wait for it forever.
    watched.thread_block().context("block the signals to forward (sigprocmask SIG_BLOCK)")?;
    loop {
        let status = waitpid(child, Some(WaitPidFlag::WNOHANG))
            .with_context(|| format!("wait for the container (waitpid {child})"))?;
        if status != WaitStatus::StillAlive {
            trace::line(|| format!("wait4({child}, [{}], WNOHANG, NULL) = {child}", describe_status(status)));
            return Ok(status);
        }
        let signal = watched.wait().context("wait for a signal (sigwait)")?;
        if signal != Signal::SIGCHLD {
            // The container may have just exited: ESRCH is not an error here.
            sys::kill(child, signal).ok();
        }
    }
}

/// Docker's exit code for how the container's process ended.
pub fn exit_code(status: WaitStatus) -> i32 {
    // EXERCISE(exit-code): the command's own status if it exited, 128 + N if killed by signal N
    todo!(
        "ns-isolation step 10 of 10 (exit-code): the command's own status if it exited, 128 + N if killed by signal N — book: ns-isolation.html#exit-code"
    )
}

fn describe_status(status: WaitStatus) -> String {
    match status {
        WaitStatus::Exited(_, code) => format!("{{WIFEXITED(s) && WEXITSTATUS(s) == {code}}}"),
        WaitStatus::Signaled(_, signal, core) => {
            let core = if core { " && WCOREDUMP(s)" } else { "" };
            format!("{{WIFSIGNALED(s) && WTERMSIG(s) == {signal}{core}}}")
        }
        other => format!("{other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_follow_docker() {
        let pid = Pid::from_raw(42);
        assert_eq!(exit_code(WaitStatus::Exited(pid, 3)), 3);
        assert_eq!(exit_code(WaitStatus::Signaled(pid, Signal::SIGKILL, false)), 137);
        assert_eq!(exit_code(WaitStatus::Signaled(pid, Signal::SIGTERM, false)), 143);
    }
}
