//! `clone(2)` the container's first process into new namespaces, and the two
//! pipes that keep parent and child in step.
//!
//! The child cannot start right away: the parent still has work to do on it
//! from outside (write its uid map, put it in a cgroup). So the child first
//! blocks on the *release* pipe. Once released it sets itself up and execs the
//! command; if a step fails it writes an exit code and a message to the
//! *report* pipe (`127<tab>exec "x": …`). The report pipe is close-on-exec,
//! so a successful `execve` closes it and the parent reads end-of-file: no
//! message means the command is running. See `man 2 clone`, `man 2 pipe`. Introduced in chapter 1.
//!
//! From chapter 2 on, on cgroup v2, the child is born in its cgroup:
//! [`clone_into_cgroup`] calls `clone3(2)` with `CLONE_INTO_CGROUP` (Linux
//! 5.7), so it never has to move itself there (see [`started_in_cgroup`]).

use std::convert::Infallible;
use std::fs::OpenOptions;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::panic::{self, AssertUnwindSafe};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context, Result, bail};
use nix::errno::Errno;
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
    // EXERCISE(clone-child): clone the child with `flags` plus SIGCHLD as its exit signal
    todo!(
        "ns-isolation step 2 of 10 (clone-child): clone the child with `flags` plus SIGCHLD as its exit signal — book: ns-isolation.html#clone-child"
    )
}

/// `clone3(2)`'s flag that starts the child in the cgroup whose directory `cgroup` is open on.
const CLONE_INTO_CGROUP: u64 = 0x2_0000_0000;

/// `struct clone_args` (linux/sched.h), as large as Linux 5.7 made it with its `cgroup` field.
#[repr(C)]
#[derive(Debug, Default)]
struct CloneArgs {
    flags: u64,
    pidfd: u64,
    child_tid: u64,
    parent_tid: u64,
    exit_signal: u64,
    stack: u64,
    stack_size: u64,
    tls: u64,
    set_tid: u64,
    set_tid_size: u64,
    cgroup: u64,
}

/// Set in a child that [`clone_into_cgroup`] started in its cgroup; it then has nothing to join.
static STARTED_IN_CGROUP: AtomicBool = AtomicBool::new(false);

/// Whether this process was born in its container's cgroup by `clone3(CLONE_INTO_CGROUP)`.
pub fn started_in_cgroup() -> bool {
    STARTED_IN_CGROUP.load(Ordering::Relaxed)
}

/// Like [`clone_child`], but the child starts in the cgroup v2 directory `cgroup`: `clone3` with `CLONE_INTO_CGROUP`.
///
/// Nothing is migrated: the kernel places the child as it creates it, so the
/// child never writes to `cgroup.procs`, and never takes the lock a move
/// takes on every cgroup of the host. `Ok(None)` when the kernel has no
/// `clone3` (before 5.3) or no `CLONE_INTO_CGROUP` (before 5.7): the caller
/// then clones with [`clone_child`] and the child joins its cgroup itself.
///
/// With no stack given, `clone3` returns twice, as `fork` does: in the child
/// on a copy of the parent's stack (there is no `CLONE_VM`, so it is a copy),
/// which runs `setup` and never returns from this function.
pub fn clone_into_cgroup(
    flags: CloneFlags,
    cgroup: &Path,
    setup: impl FnOnce() -> Result<Infallible>,
) -> Result<Option<Child>> {
    let (release_read, release_write) = traced_pipe()?;
    let (report_read, report_write) = traced_pipe()?;
    // The directory is open only across the call: the kernel takes the cgroup from it.
    let directory = OpenOptions::new().read(true).custom_flags(libc::O_DIRECTORY).open(cgroup).map(OwnedFd::from);
    let directory =
        trace::io(|| format!("open({}, O_RDONLY|O_DIRECTORY|O_CLOEXEC)", trace::quote(cgroup.display())), directory)
            .with_context(|| format!("open the container's cgroup {}", cgroup.display()))?;
    let args = CloneArgs {
        flags: u64::from(flags.bits() as u32) | CLONE_INTO_CGROUP,
        exit_signal: Signal::SIGCHLD as u64,
        cgroup: directory.as_raw_fd() as u64,
        ..CloneArgs::default()
    };
    // SAFETY: `args` is a valid `struct clone_args` of the size passed. With
    // no stack and no CLONE_VM the child gets a copy of this process, as
    // after `fork`, and the runtime starts no thread before it (an invariant,
    // see ARCHITECTURE.md), so the child may allocate and lock until it execs.
    let returned = unsafe { libc::syscall(libc::SYS_clone3, &args as *const CloneArgs, size_of::<CloneArgs>()) };
    if returned == 0 {
        // The child: mark how it was born, close the parent's ends, and never return.
        STARTED_IN_CGROUP.store(true, Ordering::Relaxed);
        let parent_ends = [release_write.as_raw_fd(), report_read.as_raw_fd()];
        let code = run_child(ChildPipes { release: release_read, report: report_write }, &parent_ends, setup);
        // SAFETY: `run_child` has already ended the process; this is never reached.
        unsafe { libc::_exit(code as i32) }
    }
    let result = if returned < 0 { Err(Errno::last()) } else { Ok(Pid::from_raw(returned as i32)) };
    let call = || {
        format!(
            "clone3({{flags={}|CLONE_INTO_CGROUP, exit_signal=SIGCHLD, cgroup={}}}, {})",
            describe_flags(flags),
            directory.as_raw_fd(),
            size_of::<CloneArgs>()
        )
    };
    match trace::syscall(call, result) {
        Ok(pid) => Ok(Some(Child { pid, release: release_write, report: report_read })),
        // No clone3 (ENOSYS), or one that does not know the `cgroup` field (E2BIG) or the flag (EINVAL).
        Err(Errno::ENOSYS | Errno::E2BIG | Errno::EINVAL) => Ok(None),
        Err(errno) => Err(errno).with_context(|| {
            format!("clone a child into new namespaces ({}) and its cgroup (clone3)", describe_flags(flags))
        }),
    }
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
    // The report reads as it is traced: the exit code in digits, a tab, the message.
    let _ = write(&pipes.report, format!("{code}\t{failure:#}").as_bytes());
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
        if report.is_empty() {
            return Ok(());
        }
        let report = String::from_utf8_lossy(&report);
        let (code, message) = report.split_once('\t').unwrap_or(("125", &report));
        Err(Failure::new(code.parse().unwrap_or(crate::exit::RUNTIME_FAILED), message).into())
    }
}
