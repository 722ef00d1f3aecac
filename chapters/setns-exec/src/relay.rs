//! Copy bytes between two connected sockets, both ways, until both sides are done.
//!
//! Each direction runs in a thread of its own and moves the bytes with
//! `splice(2)` through a pipe: from one socket into the pipe, from the pipe
//! into the other socket, without copying them through the runtime's memory.
//! When one side has no more to send, the other side's write half is shut
//! down, so that it sees end-of-file too. Not a kernel mechanism this
//! workshop teaches; `-p` needs it (see `ports.rs`). Introduced in chapter 4.

use std::net::{Shutdown, TcpStream};
use std::os::fd::AsFd;
use std::thread;

use nix::fcntl::{FcntlArg, OFlag, SpliceFFlags, fcntl, splice};
use nix::unistd::pipe2;

/// How much a pipe may hold at once: larger than the default 64 KiB, for fewer calls.
const PIPE_SIZE: i32 = 1 << 20;

/// Relays between `client` and `server` until both directions have ended.
pub fn relay(client: TcpStream, server: TcpStream) {
    let (Ok(client_back), Ok(server_back)) = (client.try_clone(), server.try_clone()) else { return };
    let upstream = thread::spawn(move || copy(&client, &server));
    copy(&server_back, &client_back);
    let _ = upstream.join();
}

/// Copies from `from` to `to` until `from` ends, then shuts `to` down for writing.
fn copy(from: &TcpStream, to: &TcpStream) {
    let _ = splice_all(from, to);
    let _ = to.shutdown(Shutdown::Write);
}

fn splice_all(from: &TcpStream, to: &TcpStream) -> nix::Result<()> {
    let (pipe_out, pipe_in) = pipe2(OFlag::O_CLOEXEC)?;
    let _ = fcntl(&pipe_in, FcntlArg::F_SETPIPE_SZ(PIPE_SIZE));
    let flags = SpliceFFlags::SPLICE_F_MOVE | SpliceFFlags::SPLICE_F_MORE;
    loop {
        let read = splice(from.as_fd(), None, &pipe_in, None, PIPE_SIZE as usize, flags)?;
        if read == 0 {
            return Ok(());
        }
        let mut left = read;
        while left > 0 {
            left -= splice(&pipe_out, None, to.as_fd(), None, left, flags)?;
        }
    }
}
