//! The options chapter 4 adds: `run -d -p`, and `exec`'s.
//!
//! `RunArgs` flattens chapter 3's whole and adds its flags, as every later
//! chapter's will flatten this one. Docker's flag names.

use clap::Args;

use crate::ports::{PortBinding, parse_port_binding};

/// `setns-exec run [OPTIONS] IMAGE [COMMAND [ARGS...]]`.
#[derive(Debug, Clone, Args)]
// Chapter 3's `RunArgs` already names clap's group of these arguments `RunArgs`.
#[group(skip)]
pub struct RunArgs {
    #[command(flatten)]
    pub base: union_rootfs::args::RunArgs,

    /// Run the container in the background, print its id, and return.
    #[arg(short = 'd', long)]
    pub detach: bool,

    /// Publish a container's port on the host: [IP:]HOSTPORT:CONTAINERPORT[/tcp].
    #[arg(short = 'p', long = "publish", value_name = "PORTS", value_parser = parse_port_binding)]
    pub publish: Vec<PortBinding>,
}

/// `setns-exec exec [OPTIONS] CONTAINER COMMAND [ARGS...]`.
#[derive(Debug, Clone, Args)]
pub struct ExecArgs {
    /// Run the command in the background.
    #[arg(short = 'd', long)]
    pub detach: bool,

    /// Keep standard input open.
    #[arg(short = 'i', long)]
    pub interactive: bool,

    /// Allocate a pseudo-terminal, from the container's own /dev/pts.
    #[arg(short = 't', long)]
    pub tty: bool,

    /// Set an environment variable (KEY=VALUE, or KEY to pass the caller's own value).
    #[arg(short = 'e', long = "env", value_name = "KEY=VALUE")]
    pub env: Vec<String>,

    /// Run as this user (NAME or UID, then :GROUP or :GID) [default: the container's].
    #[arg(short = 'u', long, value_name = "USER[:GROUP]")]
    pub user: Option<String>,

    /// Working directory inside the container [default: the container's].
    #[arg(short = 'w', long = "workdir", value_name = "DIR")]
    pub workdir: Option<String>,

    /// The container: a name, an id or a unique id prefix.
    #[arg(value_name = "CONTAINER")]
    pub container: String,

    /// The command to run and its arguments.
    #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true, value_name = "COMMAND")]
    pub command: Vec<String>,
}
