//! Chapter 4, `setns-exec`: a container outlives its command line, and `exec` joins it with `setns()`.
//!
//! Every namespace of a process is a file, `/proc/<pid>/ns/<kind>`; a new
//! process that opens those files of a container's PID 1 and joins them
//! with `setns(2)` is *in* the container: that is `docker exec`. This
//! chapter builds it, and what makes it worth having: containers that run
//! detached, under a monitor process that keeps their log, records their
//! end and serves their published ports; `stop`, `kill`, `start`, `logs`,
//! `inspect`; a pseudo-terminal of the container's own; a network shared
//! between containers. The library holds the mechanism and [`run`], chapter
//! 3's lifecycle with the monitor added; the binary parses the command line.
//!
//! Read in this order: [`join`] (the lesson's `set_ns`), [`nsfiles`] and
//! [`exec`] (every namespace, in order, and the PID namespace's fork),
//! [`log`] and [`stdio`] (the container's streams), [`daemon`] (the
//! monitor), [`run`], [`stop`], [`network`] (`--net container:`), [`pty`]
//! (`-t`), [`ports`] and [`relay`] (`-p`). [`hostconfig`] keeps what `run`
//! decided; [`inspect`], [`template`] and [`logs`] show it; [`args`] holds
//! the options later chapters flatten, and [`commands`] the subcommands
//! they take whole.

pub mod args;
pub mod commands;
pub mod daemon;
pub mod exec;
pub mod hostconfig;
pub mod inspect;
pub mod join;
pub mod log;
pub mod logs;
pub mod network;
pub mod nsfiles;
pub mod ports;
pub mod pty;
pub mod relay;
pub mod run;
pub mod stdio;
pub mod stop;
pub mod template;
