//! The container's output, in Docker's json-file log.
//!
//! A detached container has no terminal to write to: its standard output
//! and error are pipes to its monitor, which writes every line it reads to
//! `containers/<id>/<id>-json.log`, one JSON object per line, as Docker's
//! default logging driver does:
//!
//! ```text
//! {"log":"<h3>Hello World!</h3>\n","stream":"stdout","time":"2018-09-10T08:59:43.123456789Z"}
//! ```
//!
//! `logs` reads them back, each to the stream it came from. A line is
//! written when its newline comes, or when 16 KiB of it have come; the rest
//! when the pipe closes. Introduced in chapter 4.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::SystemTime;

use anyhow::{Context, Result};
use docker_cli::clock::rfc3339_nanos;
use serde::{Deserialize, Serialize};

/// The longest part of a line written as one entry, as Docker's.
const MAX_LINE: usize = 16 * 1024;

/// One line of the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// What the container wrote, newline included.
    pub log: String,
    /// `stdout` or `stderr`.
    pub stream: String,
    /// When the monitor read it: RFC 3339 with nanoseconds.
    pub time: String,
}

/// The JSON line for `bytes` written to `stream` at `time`: `{"log":…,"stream":…,"time":…}`.
pub fn entry_line(bytes: &[u8], stream: &str, time: SystemTime) -> String {
    // ANCHOR: entry_line
    // EXERCISE(json-log): serialize an Entry (log: the bytes as text, stream, time as rfc3339_nanos) with serde_json, then a newline
    let entry = Entry {
        log: String::from_utf8_lossy(bytes).into_owned(),
        stream: stream.to_owned(),
        time: rfc3339_nanos(time),
    };
    let mut line = serde_json::to_string(&entry).expect("an Entry always serializes");
    line.push('\n');
    line
    // END EXERCISE
    // ANCHOR_END: entry_line
}

/// The path of a container's log.
pub fn path(container_dir: &Path) -> PathBuf {
    let id = container_dir.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
    container_dir.join(format!("{id}-json.log"))
}

/// A container's log file, shared by the threads that copy its two streams.
#[derive(Debug)]
pub struct Log {
    file: Mutex<File>,
}

impl Log {
    /// Opens (creates, or appends to) the log of the container in `container_dir`.
    pub fn open(container_dir: &Path) -> Result<Arc<Self>> {
        let path = path(container_dir);
        let file = OpenOptions::new().create(true).append(true).open(&path);
        let file = file.with_context(|| format!("open the container's log {}", path.display()))?;
        Ok(Arc::new(Self { file: Mutex::new(file) }))
    }

    fn write(&self, bytes: &[u8], stream: &str) {
        let line = entry_line(bytes, stream, SystemTime::now());
        let mut file = self.file.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        // A log that cannot be written must not stop the container: the line is lost, the container runs on.
        let _ = file.write_all(line.as_bytes());
    }
}

/// Where else a stream goes: a foreground container's output also reaches the caller's terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Echo {
    /// Only to the log.
    None,
    /// Also to the runtime's standard output.
    Stdout,
    /// Also to the runtime's standard error.
    Stderr,
}

/// Starts a thread that copies `source` (a pipe or a terminal from the container) into `log` as `stream`, line by line.
///
/// What is read is echoed at once, whole lines or not (a prompt has no newline); the log gets whole lines.
pub fn copy_stream(mut source: File, stream: &'static str, log: Arc<Log>, echo: Echo) -> JoinHandle<()> {
    thread::spawn(move || {
        let mut buffer = vec![0u8; MAX_LINE];
        let mut pending: Vec<u8> = Vec::new();
        // A pipe reads 0 at its end; a terminal's master EIO, once every process has closed its slave.
        while let Ok(read @ 1..) = source.read(&mut buffer) {
            let chunk = &buffer[..read];
            match echo {
                Echo::None => {}
                Echo::Stdout => write_through(&mut std::io::stdout(), chunk),
                Echo::Stderr => write_through(&mut std::io::stderr(), chunk),
            }
            pending.extend_from_slice(chunk);
            while let Some(end) =
                pending.iter().position(|byte| *byte == b'\n').or((pending.len() >= MAX_LINE).then_some(MAX_LINE - 1))
            {
                let line: Vec<u8> = pending.drain(..=end).collect();
                log.write(&line, stream);
            }
        }
        if !pending.is_empty() {
            log.write(&pending, stream);
        }
    })
}

/// Starts a thread that copies `source` (a terminal's master) to the runtime's standard output, unlogged: `exec -t`.
pub fn copy_to_stdout(mut source: File) -> JoinHandle<()> {
    thread::spawn(move || {
        let mut buffer = [0u8; 4096];
        // A terminal's master reads EIO once every process has closed its slave: that is its end.
        while let Ok(read @ 1..) = source.read(&mut buffer) {
            write_through(&mut std::io::stdout(), &buffer[..read]);
        }
    })
}

/// Writes `bytes` and flushes them at once: a prompt has no newline, and must show before one comes.
fn write_through(out: &mut impl Write, bytes: &[u8]) {
    let _ = out.write_all(bytes).and_then(|()| out.flush());
}

/// Reads the log's entries from byte `offset` on; returns them and the offset after the last complete line.
pub fn read_from(path: &Path, offset: u64) -> Result<(Vec<Entry>, u64)> {
    let mut file = match File::open(path) {
        Ok(file) => file,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok((Vec::new(), offset)),
        Err(err) => return Err(err).with_context(|| format!("open {}", path.display())),
    };
    file.seek(SeekFrom::Start(offset)).with_context(|| format!("read {}", path.display()))?;
    let mut entries = Vec::new();
    let mut position = offset;
    for line in BufReader::new(file).split(b'\n') {
        let line = line.with_context(|| format!("read {}", path.display()))?;
        // A line still being written has no newline yet, and does not parse: it is read next time.
        let Ok(entry) = serde_json::from_slice::<Entry>(&line) else { break };
        position += line.len() as u64 + 1;
        entries.push(entry);
    }
    Ok((entries, position))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn a_line_is_one_json_object() {
        let time = UNIX_EPOCH + Duration::new(1_536_569_983, 123_456_789);
        assert_eq!(
            entry_line(b"<h3>Hello \"World\"!</h3>\n", "stdout", time),
            "{\"log\":\"<h3>Hello \\\"World\\\"!</h3>\\n\",\"stream\":\"stdout\",\"time\":\"2018-09-10T08:59:43.123456789Z\"}\n"
        );
    }
}
