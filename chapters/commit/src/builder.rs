//! `build`: a Dockerfile is run + commit, in a loop.
//!
//! The lesson: each instruction of a Dockerfile makes one layer. `FROM`
//! picks the image to start from; then every step makes a child of the
//! image so far, as `commit` does (`commit::store_child`):
//!
//! - `RUN` creates a container of the image so far, runs the command in it
//!   through this chapter's own `run` (the same lifecycle as every
//!   container, `--net host` so the command can reach what the host can),
//!   commits its read-write layer, and removes it;
//! - `COPY`/`ADD` writes the context's files into an overlay of the image
//!   so far and packs the upper directory (`copy_step.rs`);
//! - `ENV`, `WORKDIR`, `CMD`, `ENTRYPOINT`, `EXPOSE`, `LABEL`, `USER` change
//!   the config only: the step commits nothing, and its history entry is
//!   an empty layer.
//!
//! Every step's image is kept, untagged, as Docker's classic builder keeps
//! them: it is the build cache. Before running a step, the builder looks
//! for a child of the image so far that was made by the same instruction
//! (its last history entry; for `COPY`, that names the digest of the files
//! copied): found, the step is `Using cache` and costs nothing. So a second
//! build of the same Dockerfile and context reuses every step, and changing
//! one file rebuilds from the first step that copies it: the steps after it
//! have a new parent, which has no children yet.
//!
//! A failing `RUN` stops the build with its exit code; its container, and
//! the images this build made before it, are removed (images reused from
//! the cache stay). Introduced in chapter 6.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::{Args, Parser};
use oci_spec::image::{Config, ImageConfiguration};
use union_rootfs::containers;
use union_rootfs::digest::Digest;
use union_rootfs::image::{self, Image};
use union_rootfs::store::Store;

use ns_isolation::exit::Failure;

use crate::commit::{read_layer, store_child};
use crate::config::{HistoryEntry, apply, is_metadata};
use crate::context::{BuildContext, ContextFile};
use crate::copy_step::{CopySources, copy_layer};
use crate::dockerfile::{Instruction, Step, parse};
use crate::lineage;
use crate::tag::check_reference;

/// `build [-t NAME[:TAG]] [-f Dockerfile] CONTEXT`.
#[derive(Debug, Args)]
pub struct BuildArgs {
    /// Name the image, NAME[:TAG]; may be given more than once.
    #[arg(short, long = "tag", value_name = "NAME[:TAG]")]
    pub tags: Vec<String>,
    /// The Dockerfile [default: CONTEXT/Dockerfile].
    #[arg(short, long = "file", value_name = "PATH")]
    pub file: Option<PathBuf>,
    /// Build every step again, using no cached step.
    #[arg(long)]
    pub no_cache: bool,
    /// The directory whose files COPY and ADD may take.
    #[arg(value_name = "CONTEXT")]
    pub context: PathBuf,
}

/// `run`'s command line, parsed as the user would type it: how a `RUN` step starts its container.
#[derive(Debug, Parser)]
#[command(no_binary_name = true)]
struct RunLine {
    #[command(flatten)]
    args: bind_volume::args::RunArgs,
}

/// Builds the image; returns the exit code (a failing `RUN`'s own).
pub fn build(store: &Store, args: &BuildArgs) -> Result<i32> {
    let names = args.tags.iter().map(|name| check_reference(name)).collect::<Result<Vec<_>>>()?;
    let context = BuildContext::open(&args.context)?;
    let file = args.file.clone().unwrap_or_else(|| context.root.join("Dockerfile"));
    let text = std::fs::read_to_string(&file).with_context(|| format!("read the Dockerfile {}", file.display()))?;
    let steps = parse(&text)?;
    // A bad EXPOSE on the last line, or a COPY from outside the context, is refused before the first step runs.
    for step in &steps {
        match &step.instruction {
            Instruction::Copy { sources, .. } => {
                for source in sources {
                    context.source(source).with_context(|| format!("line {}", step.line))?;
                }
            }
            metadata if is_metadata(metadata) => {
                apply(&mut Config::default(), metadata).with_context(|| format!("line {}", step.line))?
            }
            _ => {}
        }
    }
    let mut made = Vec::new();
    match run_steps(store, &context, &steps, args.no_cache, &mut made) {
        Ok(id) => {
            println!("Successfully built {}", &id[7..19]);
            let _lock = store.lock()?;
            let mut repositories = image::repositories(store)?;
            for name in names {
                repositories.insert(name.clone(), id.clone());
                println!("Successfully tagged {name}");
            }
            union_rootfs::store::write_json(&store.repositories_file(), &repositories)?;
            Ok(0)
        }
        Err(err) => {
            remove_images(store, &made);
            Err(err)
        }
    }
}

/// Runs every step, printing Docker's lines; returns the last image. `made` collects the images this build made.
fn run_steps(
    store: &Store,
    context: &BuildContext,
    steps: &[Step],
    no_cache: bool,
    made: &mut Vec<Digest>,
) -> Result<Digest> {
    let total = steps.len();
    let mut current: Option<Image> = None;
    for (index, step) in steps.iter().enumerate() {
        println!("Step {}/{total} : {}", index + 1, step.text);
        let image = match (&step.instruction, &current) {
            (Instruction::From(reference), _) => from(store, reference)?,
            (_, None) => bail!("line {}: a Dockerfile starts with FROM", step.line),
            (instruction, Some(parent)) => {
                let created_by = created_by(context, instruction)?;
                match cached(store, parent, &created_by, no_cache)? {
                    Some(id) => {
                        println!(" ---> Using cache");
                        image::read_image(store, &id)?
                    }
                    None => {
                        let id = run_step(store, context, parent, instruction, created_by)?;
                        made.push(id.clone());
                        image::read_image(store, &id)?
                    }
                }
            }
        };
        println!(" ---> {}", image.short_id());
        current = Some(image);
    }
    current.map(|image| image.id).context("the Dockerfile has no instruction")
}

/// `FROM`: an image of the store, or `scratch`, the empty image.
fn from(store: &Store, reference: &str) -> Result<Image> {
    if reference != "scratch" {
        return image::resolve(store, reference);
    }
    let config = ImageConfiguration::default();
    let bytes = crate::config::config_bytes(&config)?;
    let _lock = store.lock()?;
    let id = image::all_or_nothing(store, |added| image::add_config_and_names(store, &bytes, &[], added))?;
    image::read_image(store, &id)
}

/// One step that is not `FROM`, not in the cache: makes the child image and returns its id.
fn run_step(
    store: &Store,
    context: &BuildContext,
    parent: &Image,
    instruction: &Instruction,
    created_by: String,
) -> Result<Digest> {
    // EXERCISE(build-step): RUN: run_container, read_layer, store_child, then remove the container; COPY: copy_layer, store_child; anything else: store_child with the instruction as the change and no layer
    todo!(
        "commit step 8 of 9 (build-step): RUN: run_container, read_layer, store_child, then remove the container; COPY: copy_layer, store_child; anything else: store_child with the instruction as the change and no layer — book: commit.html#build-step"
    )
}

/// Runs `argv` in a new container of `parent`, in the foreground; returns the container once it exited 0.
fn run_container(store: &Store, parent: &Image, argv: &[String]) -> Result<containers::Container> {
    let mut line = vec!["--net".to_owned(), "host".to_owned(), parent.id.clone()];
    line.extend(argv.iter().cloned());
    let run = RunLine::try_parse_from(&line).context("the RUN step's command line")?;
    let prepared = setns_exec::run::prepare(store, &run.args.base)?;
    let container = prepared.container.clone();
    println!(" ---> Running in {}", &container.config.id[..12]);
    let code = setns_exec::run::launch(store, prepared, false);
    let code = match code {
        Ok(code) => code,
        Err(err) => {
            let _ = containers::remove(store, &container.config.id, true);
            return Err(err);
        }
    };
    if code != 0 {
        let _ = containers::remove(store, &container.config.id, true);
        bail!(Failure::new(code, format!("the command '{}' returned a non-zero code: {code}", argv.join(" "))));
    }
    containers::find(store, &container.config.id)
}

/// The child of `parent` made earlier by the same instruction, unless `no_cache`.
fn cached(store: &Store, parent: &Image, created_by: &str, no_cache: bool) -> Result<Option<Digest>> {
    if no_cache {
        return Ok(None);
    }
    let mut found: Option<(String, Digest)> = None;
    for child in lineage::children(store, &parent.id)? {
        let image = image::read_image(store, &child)?;
        let last = image.config.history().as_ref().and_then(|history| history.last().cloned());
        if last.as_ref().and_then(|entry| entry.created_by().as_deref()) == Some(created_by) {
            let created = image.config.created().clone().unwrap_or_default();
            if found.as_ref().is_none_or(|(newest, _)| created > *newest) {
                found = Some((created, child));
            }
        }
    }
    Ok(found.map(|(_, id)| id))
}

/// What the history says made a step: the command of a `RUN`; `#(nop)` and the instruction for the others.
fn created_by(context: &BuildContext, instruction: &Instruction) -> Result<String> {
    Ok(match instruction {
        Instruction::Run(argv) => argv.join(" "),
        Instruction::Copy { add, sources, destination } => {
            let sources = copy_sources(context, sources)?;
            let files: Vec<&ContextFile> = sources.sources.iter().flat_map(|(_, files)| files).collect();
            let single_dir = sources.sources.len() == 1 && files.first().is_some_and(|file| file.meta.is_dir());
            let kind = if single_dir { "dir" } else { "file" };
            let keyword = if *add { "ADD" } else { "COPY" };
            format!("/bin/sh -c #(nop) {keyword} {kind}:{} in {destination}", context.digest(files)?)
        }
        other => format!("/bin/sh -c #(nop) {}", describe(other)),
    })
}

/// A metadata instruction written out the way Docker's history does.
fn describe(instruction: &Instruction) -> String {
    let quoted =
        |argv: &[String]| format!("[{}]", argv.iter().map(|word| format!("{word:?}")).collect::<Vec<_>>().join(" "));
    match instruction {
        Instruction::Cmd(argv) => format!("CMD {}", quoted(argv)),
        Instruction::Entrypoint(argv) => format!("ENTRYPOINT {}", quoted(argv)),
        Instruction::Env(pairs) => {
            format!("ENV {}", pairs.iter().map(|(key, value)| format!("{key}={value}")).collect::<Vec<_>>().join(" "))
        }
        Instruction::Label(pairs) => {
            format!("LABEL {}", pairs.iter().map(|(key, value)| format!("{key}={value}")).collect::<Vec<_>>().join(" "))
        }
        Instruction::Workdir(dir) => format!("WORKDIR {dir}"),
        Instruction::Expose(ports) => format!("EXPOSE {}", ports.join(" ")),
        Instruction::User(user) => format!("USER {user}"),
        other => format!("{other:?}"),
    }
}

/// Each source of a `COPY`, checked to be in the context, with its files.
fn copy_sources(context: &BuildContext, sources: &[String]) -> Result<CopySources> {
    let mut resolved = Vec::new();
    for text in sources {
        let source = context.source(text)?;
        let files = context.files(&source)?;
        resolved.push((source, files));
    }
    Ok(CopySources { sources: resolved })
}

/// A `COPY` destination: absolute, or under the image's WORKDIR; a trailing `/` kept.
fn in_workdir(image: &Image, destination: &str) -> PathBuf {
    let workdir = image
        .config
        .config()
        .as_ref()
        .and_then(|config| config.working_dir().clone())
        .unwrap_or_else(|| "/".to_owned());
    let mut path = Path::new(&workdir).join(destination).display().to_string();
    if destination.ends_with('/') && !path.ends_with('/') {
        path.push('/');
    }
    PathBuf::from(path)
}

/// Removes the images a failed build made, newest first; what cannot be removed is left.
fn remove_images(store: &Store, made: &[Digest]) {
    for id in made.iter().rev() {
        let _ = image::remove(store, id, false, |_| None);
    }
    let _ = lineage::forget_removed(store);
}
