//! What a run of the chapter binary did: its exit code and output.

use std::process::Output;

/// The end of one run of the chapter binary.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The command line, as a learner would type it (`ns-isolation run -- ...`).
    pub command_line: String,
    /// Exit code; a runtime killed by a signal reports 128+N like a shell.
    pub code: i32,
    /// Standard output, lossily decoded.
    pub stdout: String,
    /// Standard error, lossily decoded.
    pub stderr: String,
}

impl Outcome {
    /// Wraps a finished process.
    pub fn new(chapter: &str, args: &[String], output: Output) -> Self {
        use std::os::unix::process::ExitStatusExt;
        let code = output.status.code().unwrap_or_else(|| 128 + output.status.signal().unwrap_or(0));
        let words: Vec<String> =
            std::iter::once(chapter.to_owned()).chain(args.iter().map(|a| shell_word(a))).collect();
        Self {
            command_line: words.join(" "),
            code,
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// The step whose `todo!()` the runtime reached, if it did: its number and the starter's message.
    ///
    /// The child and the parent may each stop at a `todo!()`: the earlier step is the one to do first.
    pub fn todo_step(&self) -> Option<(usize, &str)> {
        let todos = self.stderr.lines().filter_map(|line| {
            let message = line.split("not yet implemented: ").nth(1)?;
            let number = message.split(" step ").nth(1)?.split_whitespace().next()?.parse().ok()?;
            Some((number, message))
        });
        todos.min_by_key(|(number, _)| *number)
    }

    /// Whether the run stopped at the `todo!()` of a step after `step`: what it did before is all there is.
    pub fn stopped_at_later_step(&self, step: Option<usize>) -> bool {
        matches!((self.todo_step(), step), (Some((todo, _)), Some(step)) if todo > step)
    }

    /// Fails the test with the learner's next step if the runtime reached the
    /// `todo!()` of `step` (the test's own) or of an earlier one; any `todo!()` if `step` is `None`.
    pub fn fail_on_todo(&self, step: Option<usize>) {
        if let Some((number, message)) = self.todo_step()
            && step.is_none_or(|step| number <= step)
        {
            panic!("step not done yet: {message}\n\n--- stderr ---\n{}", self.stderr);
        }
    }

    /// assert_cmd's assertions on this run: `outcome.assert().failure().code(127)`.
    pub fn assert(&self) -> assert_cmd::assert::Assert {
        use std::os::unix::process::ExitStatusExt;
        let output = std::process::Output {
            status: std::process::ExitStatus::from_raw((self.code & 0xff) << 8),
            stdout: self.stdout.clone().into_bytes(),
            stderr: self.stderr.clone().into_bytes(),
        };
        assert_cmd::assert::OutputAssertExt::assert(output)
    }

    /// Asserts the exit code, showing everything the run printed if it differs.
    #[track_caller]
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(self.code, code, "`{}` exited {} instead of {code}\n{}", self.command_line, self.code, self.dump());
        self
    }

    /// Asserts success and returns standard output.
    #[track_caller]
    pub fn success(&self) -> &str {
        self.expect_code(0);
        &self.stdout
    }

    /// The run as a terminal transcript: the command, stdout, stderr, the exit code.
    ///
    /// This is what snapshots hold and what the book shows.
    pub fn transcript(&self) -> String {
        let mut text = format!("$ {}\n{}", self.command_line, self.stdout);
        if !self.stdout.is_empty() && !self.stdout.ends_with('\n') {
            text.push('\n');
        }
        text.push_str(&self.stderr);
        if !self.stderr.is_empty() && !self.stderr.ends_with('\n') {
            text.push('\n');
        }
        text.push_str(&format!("[exit status {}]\n", self.code));
        text
    }

    /// Everything, for failure messages.
    pub fn dump(&self) -> String {
        format!("--- stdout ---\n{}\n--- stderr ---\n{}", self.stdout, self.stderr)
    }
}

/// Quotes an argument the way a learner would type it in a shell.
fn shell_word(arg: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_./:=,@%+".contains(c);
    if !arg.is_empty() && arg.chars().all(plain) { arg.to_owned() } else { format!("'{}'", arg.replace('\'', r"'\''")) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_are_quoted_only_when_needed() {
        assert_eq!(shell_word("busybox"), "busybox");
        assert_eq!(shell_word("echo $$"), "'echo $$'");
        assert_eq!(shell_word("it's"), r"'it'\''s'");
    }
}
