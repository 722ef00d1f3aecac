//! Running the tools xtask drives (cargo, mdbook, apt-get, hyperfine), loudly.

use std::process::{Command, Output};

use anyhow::{Context, Result, bail};

use crate::chapters::workspace;

/// A command that runs in the workspace root.
pub fn command(program: &str, args: &[&str]) -> Command {
    let mut command = Command::new(program);
    command.args(args).current_dir(workspace());
    command
}

/// Runs a command, echoing it first, and fails if it fails.
pub fn run(mut command: Command) -> Result<()> {
    let shown = show(&command);
    eprintln!("$ {shown}");
    let status = command.status().with_context(|| format!("start `{shown}`"))?;
    if !status.success() {
        bail!("`{shown}` failed ({status})");
    }
    Ok(())
}

/// Runs a command without echoing it, and fails if it fails.
pub fn run_quietly(mut command: Command) -> Result<()> {
    let shown = show(&command);
    let status = command.status().with_context(|| format!("start `{shown}`"))?;
    if !status.success() {
        bail!("`{shown}` failed ({status})");
    }
    Ok(())
}

/// Cargo's target directory for this workspace.
pub fn target_dir() -> Result<std::path::PathBuf> {
    let output = capture(command("cargo", &["metadata", "--format-version", "1", "--no-deps"]))?;
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout).context("parse cargo metadata")?;
    let dir = metadata["target_directory"].as_str().context("cargo metadata has no target_directory")?;
    Ok(dir.into())
}

/// Runs a command and captures its output, whatever its status.
pub fn capture(mut command: Command) -> Result<Output> {
    let shown = show(&command);
    command.output().with_context(|| format!("start `{shown}`"))
}

/// Whether `program` is on the PATH.
pub fn found(program: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .output()
        .is_ok_and(|output| output.status.success())
}

/// Whether xtask runs as root (Debian packages and the suites need it).
pub fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|output| output.stdout == b"0\n")
}

fn show(command: &Command) -> String {
    let mut words = vec![command.get_program().to_string_lossy().into_owned()];
    words.extend(command.get_args().map(|arg| arg.to_string_lossy().into_owned()));
    words.join(" ")
}
