//! The `run` options chapter 3 adds: the container's name, process and root.
//!
//! They live in the library so later chapters can flatten them into their
//! own `run`. From this chapter on `run` takes an IMAGE and an optional
//! COMMAND, and every later chapter's `RunArgs` flattens this one whole and
//! adds its flags. Docker's flag names.

use clap::Args;
use docker_cli::names::validate_name;

use cgroup_limits::args::{CidfileArgs, LimitArgs};
use ns_isolation::args::{IsolationArgs, TerminalArgs};

/// `union-rootfs run [OPTIONS] IMAGE [COMMAND [ARGS...]]`.
#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub isolation: IsolationArgs,

    #[command(flatten)]
    pub terminal: TerminalArgs,

    #[command(flatten)]
    pub limits: LimitArgs,

    #[command(flatten)]
    pub cid: CidfileArgs,

    #[command(flatten)]
    pub rootfs: RootfsArgs,

    /// The image: NAME[:TAG] or an image id.
    #[arg(value_name = "IMAGE")]
    pub image: String,

    /// The command to run and its arguments [default: the image's Cmd].
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, value_name = "COMMAND")]
    pub command: Vec<String>,
}

/// `--name`, `--rm`, `-e`, `-w`, `--entrypoint`, `--no-pivot`.
#[derive(Debug, Clone, Args)]
pub struct RootfsArgs {
    /// Name the container [default: a generated adjective_scientist name].
    #[arg(long, value_parser = parse_name)]
    pub name: Option<String>,

    /// Remove the container when it exits.
    #[arg(long)]
    pub rm: bool,

    /// Set an environment variable (KEY=VALUE, or KEY to pass the runtime's own value).
    #[arg(short = 'e', long = "env", value_name = "KEY=VALUE")]
    pub env: Vec<String>,

    /// Working directory inside the container [default: the image's WorkingDir, or /].
    #[arg(short = 'w', long = "workdir", value_name = "DIR")]
    pub workdir: Option<String>,

    /// Run as this user (NAME or UID, then :GROUP or :GID) [default: the image's User, or root].
    #[arg(short = 'u', long, value_name = "USER[:GROUP]")]
    pub user: Option<String>,

    /// Overwrite the image's Entrypoint (and drop its Cmd); "" clears it.
    #[arg(long, value_name = "COMMAND")]
    pub entrypoint: Option<String>,

    /// Switch root with chroot(2) instead of pivot_root(2). INSECURE: the host's root stays reachable.
    #[arg(long)]
    pub no_pivot: bool,
}

fn parse_name(name: &str) -> Result<String, String> {
    validate_name(name).map(|()| name.to_owned())
}
