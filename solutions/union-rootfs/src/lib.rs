//! Chapter 3, `union-rootfs`: a container gets its own root filesystem.
//!
//! An image is a stack of read-only layers plus a config; a container is
//! that stack, an init layer and a private read-write layer, joined by
//! overlayfs and made the container's `/` with `pivot_root`. The library
//! holds the mechanism, one concept per module, and [`run`], chapter 2's
//! lifecycle with the root filesystem added; the binary (`main.rs`,
//! `cli.rs`, `commands.rs`) parses the command line and calls it, and the
//! commands besides `run`. Later chapters import this crate as `union_rootfs`.
//!
//! Read in this order. Images: [`digest`] (content addressing, chain ids),
//! [`unpack`] and [`whiteout`] (a layer tar becomes a directory), [`layer`]
//! (stored once, under its chain id), [`source`], [`oci`] and
//! [`docker_archive`] (where images come from), [`image`] and [`import`].
//! Containers: [`store`] (the `--root` layout), [`atomic`] (its files,
//! written whole) and [`leftovers`] (what a killed runtime left in it),
//! [`containers`] and
//! [`create`], [`process`] (Entrypoint, Cmd, Env, WorkingDir),
//! [`init_layer`], [`overlay`], [`in_root`], [`dev`] and [`bind`],
//! [`pivot`], [`proc`], then [`rootfs`] and [`run`], which string them
//! together. [`catalog`] prints what `ps` and `images` show; [`args`] holds
//! the `run` options later chapters flatten.

pub mod args;
pub mod atomic;
pub mod bind;
pub mod catalog;
pub mod commands;
pub mod containers;
pub mod create;
pub mod dev;
pub mod digest;
pub mod docker_archive;
pub mod image;
pub mod import;
pub mod in_root;
pub mod init_layer;
pub mod layer;
pub mod leftovers;
pub mod oci;
pub mod overlay;
pub mod pid;
pub mod pivot;
pub mod proc;
pub mod process;
pub mod rootfs;
pub mod run;
pub mod source;
pub mod store;
pub mod unpack;
pub mod user;
pub mod whiteout;
