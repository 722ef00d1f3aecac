//! A Dockerfile, read into instructions: the part of the format `build` runs.
//!
//! One instruction per line, its keyword first (any case); a line ending
//! in `\` goes on on the next; a line starting with `#` is a comment. The
//! instructions: `FROM` (an image of the store, or `scratch`), `RUN`,
//! `CMD` and `ENTRYPOINT` (shell form, or a JSON array for exec form),
//! `ENV` (`K V` or `K=V …`), `WORKDIR`, `ADD` and `COPY` (files of the
//! context, no URLs), `EXPOSE`, `LABEL`, `USER`. Anything else is refused
//! with its line number. Introduced in chapter 6.

use anyhow::{Result, bail};

/// One instruction of a Dockerfile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Instruction {
    /// `FROM image` or `FROM scratch`.
    From(String),
    /// `RUN` a command: its argv (shell form is `/bin/sh -c LINE`).
    Run(Vec<String>),
    /// `CMD`: the argv.
    Cmd(Vec<String>),
    /// `ENTRYPOINT`: the argv.
    Entrypoint(Vec<String>),
    /// `ENV`: `KEY=VALUE` pairs.
    Env(Vec<(String, String)>),
    /// `WORKDIR path`.
    Workdir(String),
    /// `ADD`/`COPY`: sources in the context, and a destination in the image.
    Copy {
        /// Written as `ADD` (which this builder runs as `COPY`).
        add: bool,
        /// Paths in the build context.
        sources: Vec<String>,
        /// Where they go in the image.
        destination: String,
    },
    /// `EXPOSE port[/tcp]`...
    Expose(Vec<String>),
    /// `LABEL key=value`...
    Label(Vec<(String, String)>),
    /// `USER name[:group]`.
    User(String),
}

/// An instruction, the text it was written as (for the history and the cache), and its line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// What it does.
    pub instruction: Instruction,
    /// As written, continuations joined: `RUN apk add x`.
    pub text: String,
    /// The line it starts on, from 1.
    pub line: usize,
}

/// Reads a Dockerfile.
pub fn parse(text: &str) -> Result<Vec<Step>> {
    let mut steps = Vec::new();
    let mut pending = String::new();
    let mut start = 0;
    for (number, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if pending.is_empty() && (line.is_empty() || line.starts_with('#')) {
            continue;
        }
        if pending.is_empty() {
            start = number + 1;
        }
        match line.strip_suffix('\\') {
            Some(part) => {
                pending.push_str(part.trim_end());
                pending.push(' ');
            }
            None => {
                pending.push_str(line);
                steps.push(Step {
                    instruction: instruction(&pending, start)?,
                    text: pending.trim().to_owned(),
                    line: start,
                });
                pending.clear();
            }
        }
    }
    if !pending.trim().is_empty() {
        steps.push(Step { instruction: instruction(&pending, start)?, text: pending.trim().to_owned(), line: start });
    }
    match steps.first() {
        Some(Step { instruction: Instruction::From(_), .. }) => Ok(steps),
        Some(step) => bail!("line {}: a Dockerfile starts with FROM, not {:?}", step.line, step.text),
        None => bail!("the Dockerfile has no instruction"),
    }
}

/// One instruction from its text.
pub fn instruction(text: &str, line: usize) -> Result<Instruction> {
    let text = text.trim();
    let (keyword, rest) = text.split_once(char::is_whitespace).unwrap_or((text, ""));
    let rest = rest.trim();
    let needs = |what: &str| -> Result<()> {
        if rest.is_empty() {
            bail!("line {line}: {} needs {what}", keyword.to_uppercase());
        }
        Ok(())
    };
    // EXERCISE(instruction): match the keyword (any case) to its Instruction; RUN, CMD and ENTRYPOINT take command_form(rest); refuse an unknown keyword with its line
    todo!(
        "commit step 5 of 9 (instruction): match the keyword (any case) to its Instruction; RUN, CMD and ENTRYPOINT take command_form(rest); refuse an unknown keyword with its line — book: commit.html#instruction"
    )
}

/// A command as a Dockerfile writes it: a JSON array is the argv (exec form); anything else runs under `/bin/sh -c`.
pub fn command_form(text: &str) -> Vec<String> {
    match serde_json::from_str::<Vec<String>>(text.trim()) {
        Ok(argv) => argv,
        Err(_) => vec!["/bin/sh".to_owned(), "-c".to_owned(), text.trim().to_owned()],
    }
}

fn words(text: &str) -> Vec<String> {
    match serde_json::from_str::<Vec<String>>(text) {
        Ok(words) => words,
        Err(_) => text.split_whitespace().map(str::to_owned).collect(),
    }
}

/// `KEY VALUE` (the rest of the line is the value) or `KEY=VALUE KEY2="a b"`.
fn pairs(text: &str, line: usize) -> Result<Vec<(String, String)>> {
    let first = text.split_whitespace().next().unwrap_or_default();
    if !first.contains('=') {
        let value = text[first.len()..].trim();
        return Ok(vec![(first.to_owned(), unquote(value))]);
    }
    let mut pairs = Vec::new();
    let mut rest = text.trim();
    while !rest.is_empty() {
        let (key, after) =
            rest.split_once('=').ok_or_else(|| anyhow::anyhow!("line {line}: {rest:?} is no KEY=VALUE"))?;
        let (value, after) = match after.strip_prefix('"') {
            Some(quoted) => {
                let end = quoted.find('"').ok_or_else(|| anyhow::anyhow!("line {line}: an unclosed quote"))?;
                (&quoted[..end], &quoted[end + 1..])
            }
            None => after.split_once(char::is_whitespace).unwrap_or((after, "")),
        };
        pairs.push((key.trim().to_owned(), value.to_owned()));
        rest = after.trim();
    }
    Ok(pairs)
}

fn unquote(value: &str) -> String {
    value.strip_prefix('"').and_then(|v| v.strip_suffix('"')).unwrap_or(value).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const LESSON: &str = "# The lesson's Dockerfile, for busybox\nFROM busybox\nWORKDIR /app\nADD . /app\n\
                          RUN echo built > /app/built \\\n    && ls /app\nEXPOSE 80\nENV NAME World\n\
                          CMD [\"httpd\", \"-f\", \"-p\", \"80\"]\n";

    #[test]
    fn the_lessons_dockerfile_reads_as_its_instructions() {
        let steps = parse(LESSON).unwrap();
        let instructions: Vec<Instruction> = steps.iter().map(|step| step.instruction.clone()).collect();
        assert_eq!(instructions[0], Instruction::From("busybox".to_owned()));
        assert_eq!(
            instructions[2],
            Instruction::Copy { add: true, sources: vec![".".to_owned()], destination: "/app".to_owned() }
        );
        assert_eq!(
            instructions[3],
            Instruction::Run(vec!["/bin/sh".into(), "-c".into(), "echo built > /app/built && ls /app".into()])
        );
        assert_eq!(instructions[5], Instruction::Env(vec![("NAME".to_owned(), "World".to_owned())]));
        assert_eq!(steps[3].line, 5);
    }

    #[test]
    fn both_env_forms_and_unknown_instructions() {
        assert_eq!(
            instruction("ENV A=1 B=\"two words\"", 1).unwrap(),
            Instruction::Env(vec![("A".into(), "1".into()), ("B".into(), "two words".into())])
        );
        assert_eq!(
            instruction("env NAME the world", 1).unwrap(),
            Instruction::Env(vec![("NAME".into(), "the world".into())])
        );
        assert_eq!(instruction("FORM busybox", 7).unwrap_err().to_string(), "line 7: unknown instruction \"FORM\"");
        assert!(parse("RUN true\n").is_err(), "a Dockerfile starts with FROM");
    }
}
