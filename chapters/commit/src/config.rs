//! A new image's config: its parent's, with changes, one more history entry, and maybe one more layer.
//!
//! An image is its config: the layers it stands on (`rootfs.diff_ids`,
//! bottom first), how to run it (`config`: Cmd, Entrypoint, Env, WorkingDir,
//! ExposedPorts, Labels, User) and how it was made (`history`, one entry per
//! step, each marked `empty_layer` if the step added no layer). A commit,
//! and each step of a build, makes a child of an image: the parent's config,
//! the step's changes applied, its history entry appended, and its layer's
//! diff id appended, unless the layer is empty. The parent's layers are
//! named, not copied: the child costs one layer, or nothing.
//!
//! The changes are Dockerfile instructions, whether they come from a
//! Dockerfile or from `commit -c 'CMD ...'`: `CMD`, `ENTRYPOINT`, `ENV`,
//! `WORKDIR`, `EXPOSE`, `LABEL`, `USER`. The lesson's thought: CMD is drawn
//! in the read-only layers, but it is no file: it is a line of the config.
//! Introduced in chapter 6.

use std::collections::{BTreeMap, HashMap};

use anyhow::{Context, Result, bail};
use docker_cli::clock;
use oci_spec::image::{Config, HistoryBuilder, ImageConfiguration};
use serde_json::Value;
use union_rootfs::digest::Digest;

use crate::dockerfile::{Instruction, instruction};

/// What the history says about one step.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HistoryEntry {
    /// What made it: a command line, or a Dockerfile instruction (`/bin/sh -c #(nop)  ENV NAME=World`).
    pub created_by: String,
    /// `commit -a`.
    pub author: Option<String>,
    /// `commit -m`.
    pub comment: Option<String>,
}

/// The child of `parent`: `changes` applied, `history` appended, and `layer` (a diff id) on top unless `None`.
pub fn child(
    parent: &ImageConfiguration,
    changes: &[Instruction],
    layer: Option<&Digest>,
    history: HistoryEntry,
) -> Result<ImageConfiguration> {
    let now = clock::rfc3339_nanos(std::time::SystemTime::now());
    let mut image = parent.clone();
    image.set_created(Some(now.clone()));
    if history.author.is_some() {
        image.set_author(history.author.clone());
    }
    add_step(&mut image, changes, layer, history, &now)?;
    Ok(image)
}

/// One step on top of `image`: its changes to the run config, its layer if it made one, its history entry.
fn add_step(
    image: &mut ImageConfiguration,
    changes: &[Instruction],
    layer: Option<&Digest>,
    history: HistoryEntry,
    now: &str,
) -> Result<()> {
    // EXERCISE(image-config): apply each change to the run config, push the layer's diff id (if any) and a history entry (empty_layer when no layer)
    todo!(
        "commit step 6 of 9 (image-config): apply each change to the run config, push the layer's diff id (if any) and a history entry (empty_layer when no layer) — book: commit.html#image-config"
    )
}

/// Reads `commit -c` text as a Dockerfile instruction, refusing those that are no change of the config.
pub fn parse_change(text: &str) -> Result<Instruction> {
    let change = instruction(text, 1).map_err(|err| anyhow::anyhow!("invalid change {text:?}: {err:#}"))?;
    if !is_metadata(&change) {
        bail!("invalid change {text:?}: only CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER and WORKDIR change a config");
    }
    apply(&mut Config::default(), &change).map_err(|err| anyhow::anyhow!("invalid change {text:?}: {err:#}"))?;
    Ok(change)
}

/// Whether an instruction changes only the config (no layer content).
pub fn is_metadata(instruction: &Instruction) -> bool {
    !matches!(instruction, Instruction::From(_) | Instruction::Run(_) | Instruction::Copy { .. })
}

/// Applies one metadata instruction to a run config, as a Dockerfile does.
pub fn apply(config: &mut Config, instruction: &Instruction) -> Result<()> {
    match instruction {
        Instruction::Cmd(argv) => config.set_cmd(Some(argv.clone())),
        // An ENTRYPOINT resets the Cmd it inherits: that Cmd was written for another entrypoint.
        Instruction::Entrypoint(argv) => config.set_entrypoint(Some(argv.clone())).set_cmd(None),
        Instruction::Env(pairs) => {
            let mut env = config.env().clone().unwrap_or_default();
            for (key, value) in pairs {
                env.retain(|var| var.split_once('=').map_or(var.as_str(), |(k, _)| k) != key);
                env.push(format!("{key}={value}"));
            }
            config.set_env(Some(env))
        }
        Instruction::Workdir(dir) => {
            // A relative WORKDIR goes on from the one before.
            let base = config.working_dir().clone().unwrap_or_else(|| "/".to_owned());
            let dir = std::path::Path::new(&base).join(dir);
            config.set_working_dir(Some(dir.display().to_string()))
        }
        Instruction::Expose(ports) => {
            let mut exposed = config.exposed_ports().clone().unwrap_or_default();
            for port in ports {
                let port = if port.contains('/') { port.clone() } else { format!("{port}/tcp") };
                let number = port.split('/').next().unwrap_or_default();
                if number.parse::<u16>().is_err() {
                    bail!("invalid EXPOSE port {port:?}: a port number, then /tcp or /udp");
                }
                if !exposed.contains(&port) {
                    exposed.push(port);
                }
            }
            exposed.sort();
            config.set_exposed_ports(Some(exposed))
        }
        Instruction::Label(pairs) => {
            let mut labels: HashMap<String, String> = config.labels().clone().unwrap_or_default();
            labels.extend(pairs.iter().cloned());
            config.set_labels(Some(labels))
        }
        Instruction::User(user) => config.set_user(Some(user.clone())),
        other => bail!("{other:?} changes the image's files, not its config"),
    };
    Ok(())
}

/// The config as stored: JSON with labels in name order, so the same config always has the same bytes (and id).
pub fn config_bytes(image: &ImageConfiguration) -> Result<Vec<u8>> {
    let mut value = serde_json::to_value(image).context("serialize the image config")?;
    if let Some(Value::Object(labels)) = value.pointer_mut("/config/Labels") {
        let sorted: BTreeMap<String, Value> = std::mem::take(labels).into_iter().collect();
        labels.extend(sorted);
    }
    serde_json::to_vec(&value).context("serialize the image config")
}

#[cfg(test)]
mod tests {
    use super::*;
    use oci_spec::image::{ConfigBuilder, ImageConfigurationBuilder, RootFsBuilder};

    fn parent() -> ImageConfiguration {
        let config = ConfigBuilder::default()
            .cmd(vec!["./hello".to_owned()])
            .env(vec!["PATH=/bin".to_owned(), "NAME=World".to_owned()])
            .working_dir("/app")
            .build()
            .unwrap();
        let rootfs = RootFsBuilder::default().typ("layers").diff_ids(vec!["sha256:base".to_owned()]).build().unwrap();
        ImageConfigurationBuilder::default().rootfs(rootfs).config(config).build().unwrap()
    }

    #[test]
    fn a_commit_adds_one_layer_and_one_history_entry_to_its_parent() {
        let history = HistoryEntry {
            created_by: "sh".to_owned(),
            comment: Some("add test.txt".to_owned()),
            ..Default::default()
        };
        let child = child(&parent(), &[], Some(&"sha256:top".to_owned()), history).unwrap();
        assert_eq!(child.rootfs().diff_ids(), &["sha256:base".to_owned(), "sha256:top".to_owned()]);
        let last = child.history().as_ref().unwrap().last().unwrap().clone();
        assert_eq!(
            (last.created_by().as_deref(), last.comment().as_deref(), last.empty_layer()),
            (Some("sh"), Some("add test.txt"), None)
        );
        assert_eq!(child.config(), parent().config(), "no change, the same run config");
    }

    #[test]
    fn metadata_changes_make_an_empty_layer() {
        let changes = ["ENV NAME=Rebox", "EXPOSE 80", "WORKDIR www", "ENTRYPOINT [\"httpd\"]", "LABEL lesson=docker"]
            .map(|text| parse_change(text).unwrap());
        let child = child(&parent(), &changes, None, HistoryEntry::default()).unwrap();
        let config = child.config().clone().unwrap();
        assert_eq!(config.env().as_deref(), Some(&["PATH=/bin".to_owned(), "NAME=Rebox".to_owned()][..]));
        assert_eq!(config.exposed_ports().as_deref(), Some(&["80/tcp".to_owned()][..]));
        assert_eq!(config.working_dir().as_deref(), Some("/app/www"));
        assert_eq!((config.entrypoint().as_deref(), config.cmd()), (Some(&["httpd".to_owned()][..]), &None));
        assert_eq!(child.rootfs().diff_ids().len(), 1);
        assert_eq!(child.history().as_ref().unwrap().last().unwrap().empty_layer(), Some(true));
    }

    #[test]
    fn changes_that_are_no_metadata_are_refused() {
        assert!(parse_change("RUN rm -rf /").unwrap_err().to_string().contains("only CMD, ENTRYPOINT"));
        assert!(parse_change("EXPOSE http").unwrap_err().to_string().contains("a port number"));
        assert!(parse_change("FORM busybox").unwrap_err().to_string().contains("unknown instruction"));
    }
}
