//! The container's standard input, output and error: decided before the
//! clone, put in place by the child just before it execs.
//!
//! Three cases. A detached container (`run -d`) writes to pipes whose other
//! ends its monitor reads, into the container's log (`log.rs`); so does a
//! foreground one, whose output the runtime also copies to its own. With
//! `-t`, the container gets a pseudo-terminal instead (`pty.rs`), whose
//! master the runtime reads. Without `-i`, standard input is `/dev/null`,
//! as in Docker; with it, a foreground container reads the caller's.
//! `exec` uses the same, without the pipes: its output goes straight to the
//! caller. Introduced in chapter 4.

use std::fs::File;
use std::os::fd::OwnedFd;
use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::thread::JoinHandle;

use anyhow::{Context, Result};
use nix::fcntl::OFlag;
use nix::unistd::pipe2;

use ns_isolation::sys;

use crate::log::{Echo, Log, copy_stream};
use crate::pty::{self, RawTerminal};

/// A pipe: the parent's read end, the child's write end.
#[derive(Debug)]
struct Pipe {
    read: OwnedFd,
    write: OwnedFd,
}

/// How the container's streams are wired.
#[derive(Debug)]
pub struct Stdio {
    /// `/dev/null`, opened by the parent, to become the child's standard input; `None`: keep the caller's.
    stdin: Option<OwnedFd>,
    /// Standard output and error, as pipes to the parent.
    outputs: Option<[Pipe; 2]>,
    /// The socket pair over which the child sends its terminal's master: (the parent's end, the child's).
    terminal: Option<(UnixStream, UnixStream)>,
}

impl Stdio {
    /// A container's streams: a terminal with `tty`, else pipes to its log; `/dev/null` as input unless `interactive` in the foreground.
    pub fn for_container(tty: bool, interactive: bool, foreground: bool) -> Result<Self> {
        if tty {
            return Ok(Self { stdin: None, outputs: None, terminal: Some(socket_pair()?) });
        }
        let outputs = Some([pipe()?, pipe()?]);
        let stdin = if interactive && foreground { None } else { Some(dev_null()?) };
        Ok(Self { stdin, outputs, terminal: None })
    }

    /// An `exec`'d process's streams: a terminal with `tty`, else the caller's, with `/dev/null` as input unless `interactive`.
    pub fn for_exec(tty: bool, interactive: bool) -> Result<Self> {
        if tty {
            return Ok(Self { stdin: None, outputs: None, terminal: Some(socket_pair()?) });
        }
        Ok(Self { stdin: if interactive { None } else { Some(dev_null()?) }, outputs: None, terminal: None })
    }

    /// In the child, last before exec: the terminal, or the pipes and `/dev/null`, become its standard streams.
    pub fn attach(&self) -> Result<()> {
        if let Some((_, child_end)) = &self.terminal {
            return pty::open_in_container(child_end);
        }
        if let Some(null) = &self.stdin {
            sys::dup2_onto(null, 0).context("make /dev/null standard input (dup2)")?;
        }
        if let Some([out, err]) = &self.outputs {
            sys::dup2_onto(&out.write, 1).context("make the log pipe standard output (dup2)")?;
            sys::dup2_onto(&err.write, 2).context("make the log pipe standard error (dup2)")?;
        }
        Ok(())
    }

    /// In the parent, right after the clone: starts copying the container's output to `log`
    /// (and, in the `foreground`, to the caller's terminal), and its terminal's input from the caller's.
    pub fn connect(self, log: Option<Arc<Log>>, foreground: bool) -> Result<Connected> {
        let mut connected = Connected { copies: Vec::new(), _raw: None };
        if let Some([out, err]) = self.outputs {
            // The child has its own copies of the write ends; closing ours lets the pipes end with it.
            drop((out.write, err.write));
            let echo = |echo| if foreground { echo } else { Echo::None };
            if let Some(log) = &log {
                let (out_log, err_log) = (Arc::clone(log), Arc::clone(log));
                connected.copies.push(copy_stream(File::from(out.read), "stdout", out_log, echo(Echo::Stdout)));
                connected.copies.push(copy_stream(File::from(err.read), "stderr", err_log, echo(Echo::Stderr)));
            }
        }
        if let Some((parent_end, child_end)) = self.terminal {
            drop(child_end);
            // Nothing comes if the child failed before it had a terminal: its error comes from its report.
            let Some(master) = sys::receive_fd(&parent_end).context("receive the container's terminal (recvmsg)")?
            else {
                return Ok(connected);
            };
            if foreground {
                connected._raw = RawTerminal::enter()?;
                pty::follow_window_size(&master)?;
                pty::forward_input(&master)?;
            }
            let echo = if foreground { Echo::Stdout } else { Echo::None };
            let output = File::from(master);
            connected.copies.push(match log {
                Some(log) => copy_stream(output, "stdout", log, echo),
                None => crate::log::copy_to_stdout(output),
            });
        }
        Ok(connected)
    }
}

/// The copies of a container's output, running until it ends.
#[derive(Debug)]
pub struct Connected {
    copies: Vec<JoinHandle<()>>,
    /// The caller's terminal, in raw mode until this is dropped.
    _raw: Option<RawTerminal>,
}

impl Connected {
    /// Waits for the output to end (every process of the container has closed it), then restores the terminal.
    pub fn finish(self) {
        for copy in self.copies {
            let _ = copy.join();
        }
    }
}

fn pipe() -> Result<Pipe> {
    let (read, write) = pipe2(OFlag::O_CLOEXEC).context("create a pipe for the container's output (pipe2)")?;
    Ok(Pipe { read, write })
}

fn socket_pair() -> Result<(UnixStream, UnixStream)> {
    UnixStream::pair().context("create a socket pair to receive the container's terminal (socketpair)")
}

fn dev_null() -> Result<OwnedFd> {
    Ok(File::open("/dev/null").context("open /dev/null")?.into())
}
