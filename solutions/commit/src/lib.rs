//! Chapter 6, `commit`: an image is layers, and a new layer is what a container changed.
//!
//! `docker commit` takes a container's read-write layer, and only it, and
//! stacks it on the image's read-only layers as a new image: the layers
//! below are shared, not copied. `docker build` is the same thing in a
//! loop: each Dockerfile instruction runs in a container of the image so
//! far and becomes one layer (an empty one, for an instruction that only
//! changes the config, like `ENV`). With this chapter the runtime is a
//! small but real Docker: the whole lesson replays in it.
//!
//! Read in this order: [`walk`] (a tree in Docker's order), [`below`] (what the layers below show at a path),
//! [`diff`] (`A`/`C`/`D` from `upper/`), [`pack`] and [`xattr`] (the layer
//! tar, overlay whiteouts turned into OCI's), [`blob`] (gzip and digests),
//! [`freeze`] (a running container stands still while it is read),
//! [`config`] (the child image's config), then [`commit`] itself; [`tag`],
//! [`history`], [`images`] and [`lineage`] are the commands around images;
//! [`save`] writes images out ([`layer_blob`]: each layer's tar as it came;
//! [`archive`]: the OCI image layout and Docker's `manifest.json`);
//! [`dockerfile`], [`context`], [`copy_step`] and [`builder`] are `build`.
//! `run` is chapter 5's, unchanged: the lifecycle needs nothing new to be
//! committed.

pub mod archive;
pub mod below;
pub mod blob;
pub mod builder;
pub mod commands;
pub mod commit;
pub mod config;
pub mod context;
pub mod copy_step;
pub mod diff;
pub mod dockerfile;
pub mod freeze;
pub mod history;
pub mod images;
pub mod layer_blob;
pub mod lineage;
pub mod pack;
pub mod save;
pub mod tag;
pub mod walk;
pub mod xattr;
