//! `clone(2)` the container's first process into new namespaces, and the two
//! pipes that keep parent and child in step.
//!
//! The child cannot start right away: the parent still has work to do on it
//! from outside (write its uid map, put it in a cgroup). So the child first
//! blocks on the *release* pipe. Once released it sets itself up and execs the
//! command; if a step fails it writes an exit code and a message to the
//! *report* pipe. The report pipe is close-on-exec, so a successful `execve`
//! closes it and the parent reads end-of-file: no message means the command
//! is running. See `man 2 clone`, `man 2 pipe`. Introduced in chapter 1.

use std::convert::Infallible;
use std::os::fd::{AsRawFd, OwnedFd};
use std::panic::{self, AssertUnwindSafe};

use anyhow::{Context, Result, bail};
use nix::fcntl::OFlag;
use nix::sched::CloneFlags;
use nix::sys::prctl;
use nix::sys::signal::Signal;
use nix::unistd::{Pid, pipe2, read, write};

use crate::exit::Failure;
use crate::namespaces::describe_flags;
use crate::trace;

/// The child runs on its own stack; 8 MiB, like a main thread's, is
/// reserved but only the pages it touches are ever allocated.
const CHILD_STACK_SIZE: usize = 8 * 1024 * 1024;

/// The parent's handle on a cloned child that is waiting to be released.
#[derive(Debug)]
pub struct Child {
    /// The child's pid, as the host sees it.
    pub pid: Pid,
    release: OwnedFd,
    report: OwnedFd,
}

/// The child's ends of the two pipes.
#[derive(Debug)]
pub struct ChildPipes {
    release: OwnedFd,
    report: OwnedFd,
}

/// Clones a child into the namespaces in `flags` and runs `setup` in it.
///
/// `setup` runs in the child, after the parent calls [`Child::release`]; it
/// must end in `execve` and only returns on error. The child's error becomes
/// the parent's error in [`Child::wait_for_exec`].
pub fn clone_child(flags: CloneFlags, setup: impl FnOnce() -> Result<Infallible>) -> Result<Child> {
    let (release_read, release_write) = traced_pipe()?;
    let (report_read, report_write) = traced_pipe()?;
    let parent_ends = [release_write.as_raw_fd(), report_read.as_raw_fd()];
    let mut child_pipes = Some(ChildPipes { release: release_read, report: report_write });
    let mut setup = Some(setup);

    let mut stack = vec![0u8; CHILD_STACK_SIZE];
    let child_main = Box::new(move || {
        // `clone` copies the parent's memory, so the closure's captures exist
        // in both processes; only the child ever runs this body.
        let pipes = child_pipes.take().expect("clone runs the child callback once");
        let setup = setup.take().expect("clone runs the child callback once");
        run_child(pipes, &parent_ends, setup)
    });
    // ANCHOR: clone
    // EXERCISE(clone-child): clone the child with `flags` plus SIGCHLD as its exit signal
    // SAFETY: the runtime starts no thread before clone (an invariant, see
    // ARCHITECTURE.md), so the child, a copy of this single-threaded process,
    // may allocate and lock freely until it execs; its stack is the `stack`
    // buffer, which outlives the call.
    let result = unsafe { nix::sched::clone(child_main, &mut stack, flags, Some(Signal::SIGCHLD as i32)) };
    let pid = trace::syscall(|| format!("clone({}|SIGCHLD)", describe_flags(flags)), result)
        .with_context(|| format!("clone a child into new namespaces ({})", describe_flags(flags)))?;
    Ok(Child { pid, release: release_write, report: report_read })
    // END EXERCISE
    // ANCHOR_END: clone
}

fn traced_pipe() -> Result<(OwnedFd, OwnedFd)> {
    // Both ends close on exec: the command inherits neither.
    let (read_end, write_end) =
        pipe2(OFlag::O_CLOEXEC).context("create a pipe between the runtime and the container (pipe2)")?;
    trace::line(|| format!("pipe2([{}, {}], O_CLOEXEC) = 0", read_end.as_raw_fd(), write_end.as_raw_fd()));
    Ok((read_end, write_end))
}

/// The child's side: close the parent's pipe ends, wait, set up, exec.
fn run_child(pipes: ChildPipes, parent_ends: &[i32], setup: impl FnOnce() -> Result<Infallible>) -> isize {
    trace::enter_child();
    for fd in parent_ends {
        // Closing our copies of the parent's ends lets each side see EOF when the other dies.
        // SAFETY: these descriptors are the parent's pipe ends, duplicated by clone
        // into this process; nothing in the child owns or uses them.
        unsafe { libc::close(*fd) };
    }
    let outcome = panic::catch_unwind(AssertUnwindSafe(|| {
        wait_for_release(&pipes.release)?;
        setup()
    }));
    let failure = match outcome {
        Ok(Ok(never)) => match never {},
        Ok(Err(err)) => err,
        // A panic must not unwind out of clone's callback; report it like any error.
        Err(panic) => anyhow::anyhow!("the container's setup panicked: {}", panic_text(&panic)),
    };
    let code = Failure::code_of(&failure);
    let mut message = vec![code as u8];
    message.extend_from_slice(format!("{failure:#}").as_bytes());
    let _ = write(&pipes.report, &message);
    // `_exit`, not `exit`: the child must not run the parent's atexit handlers
    // or flush buffers that the parent will flush too (man 2 _exit).
    // SAFETY: `_exit` ends the process at once; it has no preconditions.
    unsafe { libc::_exit(code) }
}

fn panic_text(panic: &Box<dyn std::any::Any + Send>) -> &str {
    panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("(no message)")
}

/// Arms the parent-death signal, then blocks until the parent releases us.
///
/// If the runtime dies (even by SIGKILL), the container must not live on with
/// nobody to wait for it: PR_SET_PDEATHSIG asks the kernel to SIGKILL us then
/// (man 2 prctl). It is armed first; should the runtime be gone already, the
/// release pipe reads end-of-file. Both calls are traced once released, so
/// the child's lines never interleave with the parent's work on it.
fn wait_for_release(release: &OwnedFd) -> Result<()> {
    let armed = prctl::set_pdeathsig(Signal::SIGKILL);
    let mut byte = [0u8; 1];
    let released = read(release, &mut byte);
    trace::syscall(|| "prctl(PR_SET_PDEATHSIG, SIGKILL)".to_owned(), armed)
        .context("ask to be killed if the runtime dies (prctl PR_SET_PDEATHSIG)")?;
    let n = trace::syscall(|| format!("read({}, \"1\", 1)", release.as_raw_fd()), released)
        .context("wait for the runtime to release the container (read on the release pipe)")?;
    if n == 0 {
        bail!("the runtime exited before releasing the container");
    }
    Ok(())
}

impl Child {
    /// Lets the child go on with its setup: everything done from outside is done.
    pub fn release(&self) -> Result<()> {
        // Traced before the call: the child runs the moment the byte lands,
        // and its trace lines must come after this one.
        trace::line(|| format!("write({}, \"1\", 1) = 1", self.release.as_raw_fd()));
        write(&self.release, b"1")
            .with_context(|| format!("release the container (pid {}) through its pipe (write)", self.pid))?;
        Ok(())
    }

    /// Waits until the child has exec'd its command, or returns its setup error.
    ///
    /// The error carries the child's exit code (125, 126 or 127); the child
    /// has already exited with it, and the caller still reaps it with `wait`.
    pub fn wait_for_exec(&self) -> Result<()> {
        let mut report = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            let n = read(&self.report, &mut buf)
                .with_context(|| format!("read the setup report of the container (pid {})", self.pid))?;
            // End of file means the child exec'd (its end was close-on-exec) or died.
            trace::line(|| format!("read({}, \"{}\", 4096) = {n}", self.report.as_raw_fd(), buf[..n].escape_ascii()));
            if n == 0 {
                break;
            }
            report.extend_from_slice(&buf[..n]);
        }
        match report.split_first() {
            None => Ok(()),
            Some((code, message)) => Err(Failure::new(i32::from(*code), String::from_utf8_lossy(message)).into()),
        }
    }
}
