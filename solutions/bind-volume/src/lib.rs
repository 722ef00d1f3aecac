//! Chapter 5, `bind-volume`: a volume is a bind mount, made at the right moment.
//!
//! How does a container get files in, and the host get files out? Not
//! through its layers: they are the image's and its own. A volume is a
//! directory of the host (one the store keeps, or any host path) bound into
//! the container's root filesystem, in the container's own mount
//! namespace, after its root is mounted and before `pivot_root`: there the
//! host's path is still in sight, and the mount is the container's alone.
//! This chapter parses Docker's `-v`, keeps volumes, fills an empty one with
//! the image's content (copyData), and gives chapter 3's root filesystem
//! the binds; the library holds the mechanism and [`run`], chapter 4's
//! lifecycle with the volumes added.
//!
//! Read in this order: [`spec`] (`-v`), [`volumes`] (the store's volumes),
//! [`copy`] and [`image_view`] (copyData), [`mounts`] (from `-v` to binds),
//! then [`run`]; [`commands`] is `volume ...` and `rm -v`; [`args`] holds
//! the option later chapters flatten.

pub mod args;
pub mod commands;
pub mod copy;
pub mod image_view;
pub mod mounts;
pub mod run;
pub mod spec;
pub mod volumes;
