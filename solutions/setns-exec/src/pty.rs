//! `-t`: a pseudo-terminal for the container, made from its own `/dev/pts`.
//!
//! A shell wants a terminal: line editing, job control, Ctrl-C. A
//! pseudo-terminal is a pair of devices: whatever is written to the
//! *master* is what the program reads from the *slave*, its terminal, and
//! the other way round. The container's terminal must be one of *its*
//! devpts instance (chapter 3 mounted a new one on `/dev/pts`), so that
//! `tty` inside says `/dev/pts/0` and the host's terminals stay out of
//! sight: the child opens `/dev/ptmx` after `pivot_root`, sends the master
//! to the runtime over a Unix socket (`SCM_RIGHTS`, as runc's console
//! socket), then makes the slave its controlling terminal and its standard
//! input, output and error. The runtime copies between its own terminal
//! and the master, its terminal in raw mode (every key goes through as it
//! is typed, Ctrl-C included, for the container's line discipline to
//! handle), and passes on its window size (`SIGWINCH`). See `man 7 pty`,
//! `man 4 pts`, `man 3 termios`, `man 7 unix` (SCM_RIGHTS).
//! Introduced in chapter 4.

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::thread;

use anyhow::{Context, Result};
use nix::sys::signal::{SigSet, Signal};
use nix::sys::termios::{SetArg, Termios, cfmakeraw, tcgetattr, tcsetattr};
use nix::unistd::isatty;

use ns_isolation::sys;

nix::ioctl_read_bad!(get_window_size, libc::TIOCGWINSZ, libc::winsize);
nix::ioctl_write_ptr_bad!(set_window_size, libc::TIOCSWINSZ, libc::winsize);

/// In the child, after `pivot_root`: makes a terminal from the container's `/dev/ptmx`, sends
/// its master to the runtime over `socket`, and makes its slave the child's terminal.
pub fn open_in_container(socket: &UnixStream) -> Result<()> {
    // ANCHOR: open_in_container
    // EXERCISE(pty): sys::open_pty_master, open its slave, sys::send_fd the master over `socket`; then sys::setsid, sys::set_controlling_terminal(slave), sys::dup2_stdio(slave)
    let (master, slave_path) = sys::open_pty_master().context("open a pseudo-terminal master (/dev/ptmx)")?;
    let slave = sys::open_pty_slave(&slave_path).with_context(|| format!("open the terminal {slave_path}"))?;
    sys::send_fd(socket, &master).context("send the terminal's master to the runtime (sendmsg SCM_RIGHTS)")?;
    sys::setsid().context("start a session of the container's own (setsid)")?;
    sys::set_controlling_terminal(&slave).with_context(|| format!("make {slave_path} the controlling terminal"))?;
    sys::dup2_stdio(&slave).with_context(|| format!("make {slave_path} standard input, output and error"))?;
    Ok(())
    // END EXERCISE
    // ANCHOR_END: open_in_container
}

/// The caller's terminal in raw mode, until dropped: then its settings come back, on every path.
#[derive(Debug)]
pub struct RawTerminal {
    saved: Termios,
}

impl RawTerminal {
    /// Puts standard input in raw mode, if it is a terminal at all.
    pub fn enter() -> Result<Option<Self>> {
        let stdin = std::io::stdin();
        if !isatty(stdin.as_fd()).unwrap_or(false) {
            return Ok(None);
        }
        let saved = tcgetattr(stdin.as_fd()).context("read the terminal's settings (tcgetattr)")?;
        let mut raw = saved.clone();
        cfmakeraw(&mut raw);
        tcsetattr(stdin.as_fd(), SetArg::TCSANOW, &raw).context("put the terminal in raw mode (tcsetattr)")?;
        Ok(Some(Self { saved }))
    }
}

impl Drop for RawTerminal {
    fn drop(&mut self) {
        let _ = tcsetattr(std::io::stdin().as_fd(), SetArg::TCSANOW, &self.saved);
    }
}

/// Gives the container's terminal the size of the caller's, now and each time it changes (`SIGWINCH`).
///
/// Call it after the clone: it blocks `SIGWINCH` in this thread, and the threads it starts.
pub fn follow_window_size(master: &OwnedFd) -> Result<()> {
    copy_window_size(master);
    let winch = SigSet::from_iter([Signal::SIGWINCH]);
    winch.thread_block().context("block SIGWINCH (sigprocmask)")?;
    let master = master.try_clone().context("duplicate the terminal's master")?;
    thread::spawn(move || {
        while winch.wait().is_ok() {
            copy_window_size(&master);
        }
    });
    Ok(())
}

fn copy_window_size(master: &OwnedFd) {
    // SAFETY: winsize is plain old data; all zeroes is a valid value.
    let mut size: libc::winsize = unsafe { std::mem::zeroed() };
    // SAFETY: TIOCGWINSZ writes one winsize into `size`, which lives across the call.
    if unsafe { get_window_size(std::io::stdin().as_raw_fd(), &mut size) }.is_ok() {
        // SAFETY: TIOCSWINSZ reads one winsize from `size`, which lives across the call.
        let _ = unsafe { set_window_size(master.as_raw_fd(), &size) };
    }
}

/// Copies the caller's standard input into the terminal's master, in a thread that ends with the runtime.
pub fn forward_input(master: &OwnedFd) -> Result<()> {
    let mut master = File::from(master.try_clone().context("duplicate the terminal's master")?);
    thread::spawn(move || {
        let mut buffer = [0u8; 4096];
        while let Ok(read) = std::io::stdin().read(&mut buffer) {
            if read == 0 || master.write_all(&buffer[..read]).is_err() {
                break;
            }
        }
    });
    Ok(())
}
