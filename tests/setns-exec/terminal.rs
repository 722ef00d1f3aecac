//! A person at a terminal, played by the test: a pseudo-terminal whose
//! slave is the runtime's standard streams, and whose master the test
//! types into and reads from, as `script(1)` or an SSH session would.

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::OwnedFd;
use std::process::Stdio;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use nix::pty::{Winsize, openpty};
use rebox_support::Chapter;

/// Runs the chapter's binary with `args` on a new 24x80 terminal, types `input`, and returns all it printed.
pub fn drive(ch: &Chapter, args: &[&str], input: &str) -> String {
    let size = Winsize { ws_row: 24, ws_col: 80, ws_xpixel: 0, ws_ypixel: 0 };
    let pty = openpty(Some(&size), None).expect("open a pseudo-terminal (openpty)");
    let slave = |fd: &OwnedFd| Stdio::from(fd.try_clone().expect("duplicate the terminal's slave"));
    let mut runtime = ch
        .command(args)
        .stdin(slave(&pty.slave))
        .stdout(slave(&pty.slave))
        .stderr(slave(&pty.slave))
        .spawn()
        .expect("start the chapter binary on the terminal");
    drop(pty.slave);
    let mut master = File::from(pty.master);
    let mut reader = master.try_clone().unwrap();
    let (sender, received) = mpsc::channel();
    thread::spawn(move || {
        let mut output = Vec::new();
        let mut buffer = [0u8; 4096];
        // The master reads EIO once nothing has the slave open any more: the session is over.
        while let Ok(read @ 1..) = reader.read(&mut buffer) {
            output.extend_from_slice(&buffer[..read]);
        }
        let _ = sender.send(output);
    });
    thread::sleep(Duration::from_millis(300));
    master.write_all(input.as_bytes()).expect("type into the terminal");
    let output = received.recv_timeout(Duration::from_secs(30));
    let _ = runtime.kill();
    let status = runtime.wait().unwrap();
    let output = output.unwrap_or_else(|_| panic!("the session did not end within 30 s ({status})"));
    String::from_utf8_lossy(&output).into_owned()
}
