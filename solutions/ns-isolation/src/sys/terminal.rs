//! Traced calls for a pseudo-terminal (chapter 4): open its master and
//! slave, make the slave the caller's controlling terminal and standard
//! streams, and pass the master to another process over a Unix socket.

use std::io::{IoSlice, IoSliceMut};
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;
use std::path::Path;

use nix::errno::Errno;
use nix::fcntl::{OFlag, open};
use nix::pty::{PtyMaster, posix_openpt, ptsname_r, unlockpt};
use nix::sys::socket::{ControlMessage, ControlMessageOwned, MsgFlags, recvmsg, sendmsg};
use nix::sys::stat::Mode;
use nix::unistd::{Pid, dup2_stderr, dup2_stdin, dup2_stdout};

use crate::trace::{self, quote};

nix::ioctl_write_int_bad!(set_controlling_terminal_ioctl, libc::TIOCSCTTY);

/// `posix_openpt(3)`: a new pseudo-terminal master from `/dev/ptmx`, unlocked, and its slave's path.
pub fn open_pty_master() -> nix::Result<(PtyMaster, String)> {
    let result = posix_openpt(OFlag::O_RDWR | OFlag::O_NOCTTY | OFlag::O_CLOEXEC);
    let master =
        trace::syscall(|| "open(\"/dev/ptmx\", O_RDWR|O_NOCTTY|O_CLOEXEC)".to_owned(), result.map(OwnedFd::from))?;
    // SAFETY: the descriptor was just returned by open(/dev/ptmx) and is owned by nothing else.
    let master = unsafe { PtyMaster::from_owned_fd(master) };
    let fd = master.as_raw_fd();
    trace::syscall(|| format!("ioctl({fd}, TIOCSPTLCK, [0])"), unlockpt(&master))?;
    let name = trace::syscall(|| format!("ioctl({fd}, TIOCGPTN, [N])"), ptsname_r(&master).map(drop))
        .and_then(|()| ptsname_r(&master))?;
    Ok((master, name))
}

/// `open(2)` of a pseudo-terminal's slave, `/dev/pts/N`, read and write, not (yet) as controlling terminal.
pub fn open_pty_slave(path: &str) -> nix::Result<OwnedFd> {
    let flags = OFlag::O_RDWR | OFlag::O_NOCTTY | OFlag::O_CLOEXEC;
    trace::syscall(
        || format!("open({}, O_RDWR|O_NOCTTY|O_CLOEXEC)", quote(path)),
        open(Path::new(path), flags, Mode::empty()),
    )
}

/// `setsid(2)`: a new session, led by the caller, with no controlling terminal yet.
pub fn setsid() -> nix::Result<Pid> {
    trace::syscall(|| "setsid()".to_owned(), nix::unistd::setsid())
}

/// `ioctl(TIOCSCTTY)`: make `terminal` the controlling terminal of the caller's session.
pub fn set_controlling_terminal(terminal: impl AsFd) -> nix::Result<()> {
    let fd = terminal.as_fd().as_raw_fd();
    // SAFETY: the descriptor is open for the whole call; TIOCSCTTY takes an int, not a pointer.
    let result = unsafe { set_controlling_terminal_ioctl(fd, 0) }.map(drop);
    trace::syscall(|| format!("ioctl({fd}, TIOCSCTTY, 0)"), result)
}

/// `dup2(2)` of `fd` onto standard input, output and error.
pub fn dup2_stdio(fd: impl AsFd) -> nix::Result<()> {
    let raw = fd.as_fd().as_raw_fd();
    for (target, result) in [(0, dup2_stdin(&fd)), (1, dup2_stdout(&fd)), (2, dup2_stderr(&fd))] {
        trace::syscall(|| format!("dup2({raw}, {target})"), result.map(|()| target))?;
    }
    Ok(())
}

/// `dup2(2)` of `fd` onto descriptor `target` (0, 1 or 2).
pub fn dup2_onto(fd: impl AsFd, target: RawFd) -> nix::Result<()> {
    let raw = fd.as_fd().as_raw_fd();
    let result = match target {
        0 => dup2_stdin(&fd),
        1 => dup2_stdout(&fd),
        2 => dup2_stderr(&fd),
        _ => Err(Errno::EINVAL),
    };
    trace::syscall(|| format!("dup2({raw}, {target})"), result.map(|()| target)).map(drop)
}

/// `sendmsg(2)` with `SCM_RIGHTS`: gives the receiver of `socket` its own copy of descriptor `fd`.
pub fn send_fd(socket: &UnixStream, fd: impl AsFd) -> nix::Result<()> {
    let raw = fd.as_fd().as_raw_fd();
    let fds = [raw];
    let message = [ControlMessage::ScmRights(&fds)];
    let result = sendmsg::<()>(socket.as_raw_fd(), &[IoSlice::new(b"t")], &message, MsgFlags::empty(), None);
    trace::syscall(|| format!("sendmsg({}, {{SCM_RIGHTS=[{raw}]}}, 0)", socket.as_raw_fd()), result)?;
    Ok(())
}

/// `recvmsg(2)` with `SCM_RIGHTS`: the descriptor the other end of `socket` sent; `None` if it closed instead.
pub fn receive_fd(socket: &UnixStream) -> nix::Result<Option<OwnedFd>> {
    let mut byte = [0u8; 1];
    let mut iov = [IoSliceMut::new(&mut byte)];
    let mut space = nix::cmsg_space!([RawFd; 1]);
    let message = recvmsg::<()>(socket.as_raw_fd(), &mut iov, Some(&mut space), MsgFlags::MSG_CMSG_CLOEXEC)?;
    let received = message.cmsgs()?.find_map(|cmsg| match cmsg {
        ControlMessageOwned::ScmRights(fds) => fds.first().copied(),
        _ => None,
    });
    trace::line(|| {
        format!(
            "recvmsg({}, {{SCM_RIGHTS=[{}]}}, MSG_CMSG_CLOEXEC) = {}",
            socket.as_raw_fd(),
            received.map_or("".to_owned(), |fd| fd.to_string()),
            message.bytes
        )
    });
    // SAFETY: the kernel has just installed this descriptor in our table for us; nothing else owns it.
    Ok(received.map(|fd| unsafe { OwnedFd::from_raw_fd(fd) }))
}
