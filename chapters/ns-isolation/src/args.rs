//! The `run` options chapter 1 adds: how the container is isolated.
//!
//! They live in the library, not the binary, so that every later chapter's
//! `run` can flatten them (`#[command(flatten)]`) and add its own beside them.

use std::ffi::OsString;

use anyhow::{Result, bail};
use clap::Args;
use docker_cli::random::random_hex_id;

use crate::hostname::validate_hostname;
use crate::namespaces::Isolation;

/// `ns-isolation run [OPTIONS] -- COMMAND [ARGS...]`.
#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub isolation: IsolationArgs,

    #[command(flatten)]
    pub terminal: TerminalArgs,

    /// The command to run, and its arguments.
    #[arg(required = true, trailing_var_arg = true, value_name = "COMMAND")]
    pub command: Vec<OsString>,
}

/// `--hostname`, `--net`, `--userns`.
#[derive(Debug, Clone, Args)]
pub struct IsolationArgs {
    /// Hostname inside the container [default: a random 12-hex id, as Docker does].
    #[arg(long, value_parser = parse_hostname)]
    pub hostname: Option<String>,

    /// Network: "none" (a new namespace with only lo, up), "host" (share the host's), or "container:NAME" (chapter 4 on).
    #[arg(long, value_name = "MODE", default_value = "none", value_parser = parse_net)]
    pub net: NetMode,

    /// Also create a user namespace mapping you to root inside (always on when not root).
    #[arg(long)]
    pub userns: bool,
}

/// `--net`: which network namespace the container gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetMode {
    /// A new network namespace with only the loopback device, up.
    None,
    /// The host's network namespace: no isolation of the network.
    Host,
    /// The network namespace of another, running container: from chapter 4, which has containers to join.
    Container(String),
}

fn parse_net(text: &str) -> Result<NetMode, String> {
    match text {
        "none" => Ok(NetMode::None),
        "host" => Ok(NetMode::Host),
        _ => match text.strip_prefix("container:") {
            Some(other) if !other.is_empty() => Ok(NetMode::Container(other.to_owned())),
            _ => Err(format!("invalid network mode {text:?}: use none, host or container:NAME")),
        },
    }
}

impl IsolationArgs {
    /// The namespaces these options ask for; `rootless` forces a user namespace.
    ///
    /// `--net container:NAME` is refused: joining another container's
    /// network namespace needs containers that outlive the command that
    /// started them, which chapter 4 (`setns-exec`) brings.
    pub fn isolation(&self, rootless: bool) -> Result<Isolation> {
        if let NetMode::Container(other) = &self.net {
            bail!(
                "--net container:{other}: joining another container's network namespace comes in chapter 4 (setns-exec)"
            );
        }
        Ok(Isolation { host_network: self.net == NetMode::Host, user_namespace: self.userns || rootless })
    }

    /// `--hostname`, or `default`.
    pub fn hostname_or(&self, default: &str) -> String {
        self.hostname.clone().unwrap_or_else(|| default.to_owned())
    }

    /// `--hostname`, or a random 12-hex id, as Docker names a container with no id of its own yet.
    pub fn hostname_or_random_id(&self) -> Result<String> {
        match &self.hostname {
            Some(name) => Ok(name.clone()),
            None => random_hex_id(6),
        }
    }
}

fn parse_hostname(name: &str) -> Result<String, String> {
    validate_hostname(name).map(|()| name.to_owned())
}

/// `-i`, `-t`: Docker's terminal flags, accepted from chapter 1 so that `run -it busybox sh` works as typed.
///
/// Until chapter 4 a container runs in the foreground on the caller's own
/// terminal: its standard input, output and error are the runtime's, so
/// `-i` changes nothing, and `-t` says, once, that a pseudo-terminal of the
/// container's own comes in chapter 4.
#[derive(Debug, Clone, Args)]
pub struct TerminalArgs {
    /// Keep standard input open (chapters 1-3 always give a foreground container the caller's).
    #[arg(short = 'i', long)]
    pub interactive: bool,

    /// Allocate a pseudo-terminal for the container (chapters 1-3 use the caller's terminal as it is).
    #[arg(short = 't', long)]
    pub tty: bool,
}

impl TerminalArgs {
    /// Says plainly, on stderr, what `-t` does not do yet, in a chapter before 4.
    pub fn note_no_tty_yet(&self, program: &str) {
        if self.tty {
            eprintln!(
                "{program}: -t: this runtime has no pseudo-terminal of its own yet (chapter 4, setns-exec, makes one); \
                 the container uses your terminal as it is"
            );
        }
    }
}
