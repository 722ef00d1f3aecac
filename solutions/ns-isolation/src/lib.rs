//! Chapter 1, `ns-isolation`: a container is a process in new namespaces.
//!
//! The library holds the mechanism, one kernel concept per module, the
//! container's lifecycle as phases ([`lifecycle`]), and [`run`], the story
//! they tell at this chapter. The binary (`main.rs`, `cli.rs`) parses the
//! command line and calls it. Later chapters import this crate as
//! `ns_isolation` and call the same phases from their own `run`.
//!
//! Read in this order: [`namespaces`], [`clone`], [`userns`], [`mounts`],
//! [`loopback`], [`hostname`], [`exec`], [`wait`], then [`lifecycle`] and
//! [`run`], which string them together. [`sys`] makes every syscall and
//! [`trace`] is the `--trace` x-ray they report through; [`exit`] maps
//! outcomes to Docker's exit codes, and [`args`] holds the `run` options.

pub mod args;
pub mod clone;
pub mod exec;
pub mod exit;
pub mod hostname;
pub mod lifecycle;
pub mod loopback;
pub mod mounts;
pub mod namespaces;
pub mod run;
pub mod sys;
pub mod trace;
pub mod userns;
pub mod wait;
