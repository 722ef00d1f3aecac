//! `logs [-f] [--tail N] [-t] CONTAINER`: a container's output, read back from its log.
//!
//! Each line goes back to the stream it came from: what the container wrote
//! to its standard error, `logs` writes to its own. `-t` puts the time the
//! line was read before it; `--tail N` keeps the last N; `-f` goes on
//! printing lines as they come, until the container stops. Introduced in chapter 4.

use std::io::Write;
use std::thread::sleep;
use std::time::Duration;

use anyhow::Result;

use union_rootfs::containers;
use union_rootfs::store::Store;

use crate::log::{Entry, path, read_from};

/// How often `-f` looks for new lines.
const FOLLOW_EVERY: Duration = Duration::from_millis(100);

/// Prints the log of container `reference`.
pub fn logs(store: &Store, reference: &str, follow: bool, tail: Option<usize>, timestamps: bool) -> Result<()> {
    let container = containers::find(store, reference)?;
    let log = path(&container.dir);
    let (mut entries, mut offset) = read_from(&log, 0)?;
    if let Some(tail) = tail {
        entries.drain(..entries.len().saturating_sub(tail));
    }
    print(&entries, timestamps);
    if !follow {
        return Ok(());
    }
    loop {
        let running = containers::find(store, reference).is_ok_and(|container| container.is_running());
        let (more, next) = read_from(&log, offset)?;
        print(&more, timestamps);
        offset = next;
        if more.is_empty() && !running {
            return Ok(());
        }
        sleep(FOLLOW_EVERY);
    }
}

fn print(entries: &[Entry], timestamps: bool) {
    let (mut stdout, mut stderr) = (std::io::stdout().lock(), std::io::stderr().lock());
    for entry in entries {
        let out: &mut dyn Write = if entry.stream == "stderr" { &mut stderr } else { &mut stdout };
        let _ = match timestamps {
            true => write!(out, "{} {}", entry.time, entry.log),
            false => write!(out, "{}", entry.log),
        };
    }
    let _ = stdout.flush();
}
