//! A runtime left running in the background, for the tests that act on a
//! live container from the host: read its cgroup files, send it signals.

use std::fs;
use std::io::{BufRead, BufReader, Read};
use std::process::{Child, ChildStdout, Command, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::{Chapter, Outcome};

/// How long a container started by a test may take to end once told to.
const END_TIMEOUT: Duration = Duration::from_secs(30);

/// A runtime whose container has printed `ready` and runs on.
///
/// Dropped before [`Running::finish`] (a test that failed half-way), it
/// kills the container and lets the runtime clean up: nothing is left running.
#[derive(Debug)]
pub struct Running {
    runtime: Child,
    stdout: BufReader<ChildStdout>,
    chapter: &'static str,
    args: Vec<String>,
    step: Option<usize>,
}

impl Running {
    /// Starts the chapter's binary with `args`, and waits for the container's first line, `ready`.
    ///
    /// If another line comes first, the test fails: with the learner's next
    /// step if the runtime reached a `todo!()`, with its stderr otherwise.
    pub fn start(ch: &Chapter, args: &[&str]) -> Self {
        Self::try_start(ch, args).unwrap_or_else(|outcome| Self::fail_to_start(ch, &outcome))
    }

    /// Like [`Running::start`], but a container that does not start is returned as the runtime's outcome.
    pub fn try_start(ch: &Chapter, args: &[&str]) -> Result<Self, Outcome> {
        let mut runtime =
            ch.command(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("start the runtime");
        let mut stdout = BufReader::new(runtime.stdout.take().expect("stdout is piped"));
        let args: Vec<String> = args.iter().map(|arg| arg.to_string()).collect();
        let mut first = String::new();
        stdout.read_line(&mut first).expect("read the container's first line");
        if first != "ready\n" {
            let mut output = runtime.wait_with_output().expect("wait for the runtime");
            output.stdout = [first.into_bytes(), output.stdout].concat();
            return Err(Outcome::new(ch.name(), &args, output));
        }
        Ok(Self { runtime, stdout, chapter: ch.name(), args, step: ch.step() })
    }

    /// Fails the test for a container that did not start: with the learner's next step if a `todo!()` stopped it.
    pub fn fail_to_start(ch: &Chapter, outcome: &Outcome) -> ! {
        outcome.fail_on_todo(ch.step());
        panic!("the container did not start:\n{}", outcome.dump());
    }

    /// The command line, as a learner would type it.
    pub fn command_line(&self) -> String {
        let nothing = Output { status: Default::default(), stdout: Vec::new(), stderr: Vec::new() };
        Outcome::new(self.chapter, &self.args, nothing).command_line
    }

    /// The runtime's pid.
    pub fn runtime_pid(&self) -> i32 {
        i32::try_from(self.runtime.id()).expect("pids fit in an i32")
    }

    /// The container's PID 1 as the host sees it: the runtime's only child.
    pub fn container_pid(&self) -> i32 {
        let children = format!("/proc/{0}/task/{0}/children", self.runtime.id());
        let text = fs::read_to_string(&children).unwrap_or_else(|err| panic!("read {children}: {err}"));
        text.split_whitespace().next().expect("the runtime has a child").parse().expect("a pid")
    }

    /// Sends `signal` (a name, as `kill -s` takes it) to the host process `pid`, as a user at a shell would.
    pub fn signal(&self, pid: i32, signal: &str) {
        let status = Command::new("kill").args(["-s", signal, &pid.to_string()]).status().expect("run kill");
        assert!(status.success(), "kill -s {signal} {pid}");
    }

    /// Waits for the runtime to end; its outcome holds what it printed after `ready`.
    ///
    /// Fails the test, naming the step, if the runtime stopped at the `todo!()` of this test's step or an earlier one.
    pub fn finish(self) -> Outcome {
        let step = self.step;
        let outcome = self.finish_unchecked();
        outcome.fail_on_todo(step);
        outcome
    }

    /// Waits for the runtime to end, even if it stopped at a `todo!()`.
    pub fn finish_unchecked(mut self) -> Outcome {
        let deadline = Instant::now() + END_TIMEOUT;
        let status = loop {
            if let Some(status) = self.runtime.try_wait().expect("poll the runtime") {
                break status;
            }
            assert!(Instant::now() < deadline, "the container did not end within {END_TIMEOUT:?}");
            thread::sleep(Duration::from_millis(20));
        };
        let mut stdout = Vec::new();
        self.stdout.read_to_end(&mut stdout).expect("read the runtime's stdout");
        let mut stderr = Vec::new();
        if let Some(mut pipe) = self.runtime.stderr.take() {
            pipe.read_to_end(&mut stderr).expect("read the runtime's stderr");
        }
        Outcome::new(self.chapter, &self.args, Output { status, stdout, stderr })
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(None) = self.runtime.try_wait() {
            let children = format!("/proc/{0}/task/{0}/children", self.runtime.id());
            for pid in fs::read_to_string(&children).unwrap_or_default().split_whitespace() {
                let _ = Command::new("kill").args(["-s", "KILL", pid]).status();
            }
            let _ = self.runtime.wait();
        }
    }
}
