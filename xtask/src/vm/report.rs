//! What the VM reports, read on the host as it arrives, and shown.
//!
//! Stage 2 of the VM's init writes records to its second serial port, which
//! QEMU writes to a file: a header line `=== rebox-vm <kind> <word>...
//! <length>`, then exactly `<length>` bytes. Kinds: `boot <uptime at stage 1>
//! <uptime at stage 2>`, `suite <chapter> <status> <start> <end>` with the
//! suite's output, `command <status> <start> <end>` with the command's
//! output, `snapshot <path>` with a snapshot the suites wrote, and `done`.
//! The file is read again while the VM runs, so each suite's results show
//! as soon as it ends.

use std::io::Write;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::chapters;
use crate::check;

/// One record of the report.
#[derive(Debug, PartialEq, Eq)]
pub struct Record {
    pub kind: String,
    pub words: Vec<String>,
    pub body: Vec<u8>,
}

/// The complete records at the start of `bytes`; one still being written is left for a later read.
pub fn parse(bytes: &[u8]) -> Result<Vec<Record>> {
    let mut records = Vec::new();
    let mut rest = bytes;
    while let Some(end) = rest.iter().position(|byte| *byte == b'\n') {
        let line = String::from_utf8_lossy(&rest[..end]);
        let header = line.strip_prefix("=== rebox-vm ").with_context(|| format!("not a record header: {line:?}"))?;
        let mut words: Vec<String> = header.split(' ').filter(|w| !w.is_empty()).map(str::to_owned).collect();
        let length: usize = match words.pop().map(|word| word.parse()) {
            Some(Ok(length)) if !words.is_empty() => length,
            _ => bail!("a record header without a kind and a length: {line:?}"),
        };
        let body = &rest[end + 1..];
        if body.len() < length {
            break;
        }
        records.push(Record { kind: words.remove(0), words, body: body[..length].to_vec() });
        rest = &body[length..];
    }
    Ok(records)
}

/// One suite's results.
#[derive(Debug)]
pub struct SuiteResult {
    pub chapter: String,
    pub passed: usize,
    pub failed: usize,
    pub seconds: f64,
}

/// What the report has said so far.
#[derive(Debug)]
pub struct Progress {
    started: Instant,
    seen: usize,
    /// Seconds from the kernel's start to init, and from QEMU's start to stage 2 (host clock).
    pub boot: Option<(f64, Duration)>,
    pub suites: Vec<SuiteResult>,
    /// The exit status of `--shell-command`'s command.
    pub command: Option<i32>,
    /// Snapshots the suites wrote, by path relative to the workspace.
    pub snapshots: Vec<(String, Vec<u8>)>,
    pub done: bool,
}

impl Progress {
    /// Nothing reported yet; QEMU started now.
    pub fn new() -> Self {
        Progress {
            started: Instant::now(),
            seen: 0,
            boot: None,
            suites: Vec::new(),
            command: None,
            snapshots: Vec::new(),
            done: false,
        }
    }

    /// Reads the whole report again and shows the records not shown yet.
    pub fn update(&mut self, report: &[u8]) -> Result<()> {
        let records = parse(report)?;
        for record in records.into_iter().skip(self.seen) {
            self.seen += 1;
            self.take(record)?;
        }
        Ok(())
    }

    fn take(&mut self, record: Record) -> Result<()> {
        let seconds = |words: &[String]| -> f64 {
            let number = |i: usize| words.get(i).and_then(|w| w.parse::<f64>().ok()).unwrap_or(0.0);
            number(1) - number(0)
        };
        let status = |word: &str| word.parse::<i32>().unwrap_or(-1);
        match (record.kind.as_str(), record.words.as_slice()) {
            ("boot", [init, stage2]) => {
                let init: f64 = init.parse().unwrap_or(0.0);
                let host = self.started.elapsed();
                self.boot = Some((init, host));
                eprintln!(
                    "vm: init started {init:.1} s after the kernel, its stage 2 at {stage2} s; {:.1} s after QEMU started",
                    host.as_secs_f64()
                );
            }
            ("suite", [chapter, code, times @ ..]) => {
                let output = String::from_utf8_lossy(&record.body);
                let result = show_suite(chapter, status(code), seconds(times), &output)?;
                self.suites.push(result);
            }
            ("command", [code, times @ ..]) => {
                std::io::stdout().write_all(&record.body).context("write the command's output")?;
                eprintln!("vm: the command exited with {code} after {:.1} s", seconds(times));
                self.command = Some(status(code));
            }
            ("snapshot", [path]) => self.snapshots.push((path.clone(), record.body)),
            ("done", []) => self.done = true,
            _ => bail!("an unknown record in the VM's report: {} {:?}", record.kind, record.words),
        }
        Ok(())
    }
}

/// Prints one line per test, each failure's reason, and the suite's count.
fn show_suite(chapter: &str, status: i32, seconds: f64, output: &str) -> Result<SuiteResult> {
    let results = check::parse(chapters::find(chapter)?, output);
    for test in &results {
        println!("    {:<7} {chapter}::{}", if test.passed { "ok" } else { "FAILED" }, test.name);
        for line in test.reason.lines() {
            println!("            {line}");
        }
    }
    let passed = results.iter().filter(|test| test.passed).count();
    let mut failed = results.len() - passed;
    if status != 0 && failed == 0 {
        // The suite itself failed (it did not start, or crashed): show the end of what it printed.
        println!("    the {chapter} suite exited with {status} and no test failed; it printed:");
        let lines: Vec<&str> = output.lines().collect();
        for line in &lines[lines.len().saturating_sub(30)..] {
            println!("            {line}");
        }
        failed = 1;
    }
    println!("{chapter}, in the VM: {passed} passed, {failed} failed ({seconds:.1} s)");
    Ok(SuiteResult { chapter: chapter.to_owned(), passed, failed, seconds })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_are_read_whole_and_a_partial_one_waits() {
        let report =
            b"=== rebox-vm boot 1.50 2.25 0\n=== rebox-vm suite ns-isolation 0 3.0 9.5 5\nhello=== rebox-vm done 0\n";
        let records = parse(report).unwrap();
        assert_eq!(records.len(), 3);
        assert_eq!(records[0], Record { kind: "boot".into(), words: vec!["1.50".into(), "2.25".into()], body: vec![] });
        assert_eq!(records[1].words, ["ns-isolation", "0", "3.0", "9.5"]);
        assert_eq!(records[1].body, b"hello");
        assert_eq!(records[2].kind, "done");

        // Cut in the middle of a body, or of a header: only what is complete is read.
        assert_eq!(parse(&report[..60]).unwrap().len(), 1);
        assert_eq!(parse(&report[..20]).unwrap().len(), 0);
    }

    #[test]
    fn bodies_keep_their_bytes_even_when_they_look_like_headers() {
        let report = b"=== rebox-vm snapshot tests/a.snap 23\n=== rebox-vm done 0\nx\n\n=== rebox-vm done 0\n";
        let records = parse(report).unwrap();
        assert_eq!(records[0].body, b"=== rebox-vm done 0\nx\n\n");
        assert_eq!(records[1].kind, "done");
    }

    #[test]
    fn noise_is_an_error_not_a_result() {
        let err = parse(b"[    0.000000] Linux version 6.1.0\n").unwrap_err();
        assert!(err.to_string().starts_with("not a record header"), "{err}");
        assert!(parse(b"=== rebox-vm 12\n").is_err(), "a header needs a kind");
    }
}
