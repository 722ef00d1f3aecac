//! The container's lifecycle as of chapter 3, step by step.
//!
//! Parent: find the image → work out the process (Entrypoint, Cmd, Env,
//! WorkingDir) → create the container's directory (init layer, upper/,
//! work/) → block signals → create the cgroup → clone into new namespaces →
//! release the child → record it running → wait for it, forwarding signals →
//! remove the cgroup → record its exit (or remove it, with `--rm`) → exit
//! with its status.
//!
//! Child: move itself into the cgroup → enter a cgroup namespace → make
//! mounts private → mount the overlay → bind the init layer's files →
//! pivot_root into it (or chroot, with `--no-pivot`) → mount /proc, /sys and
//! /dev → mask Docker's paths → bring up lo → set the hostname → enter the
//! working directory and environment → exec the command.
//!
//! Every failure before the container directory exists (unknown image, a
//! name in use, nothing to run) exits 125 with nothing created. The overlay
//! and every other mount live in the container's mount namespace only: they
//! vanish with it, and the host's mount table never changes.

use std::convert::Infallible;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use nix::sys::signal::{Signal, kill};
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::{Pid, Uid, chdir};

use cgroup_limits::cgroup::Cgroup;
use cgroup_limits::layout::{CGROUP_ROOT, Hierarchy};
use cgroup_limits::plan::{Limits, plan};
use cgroup_limits::{namespace, oom};
use ns_isolation::exit::Failure;
use ns_isolation::namespaces::{Isolation, clone_flags};
use ns_isolation::{clone, exec, hostname, loopback, mounts, trace, wait};
use union_rootfs_solution::containers::{self, Container, ContainerConfig, State, Status};
use union_rootfs_solution::id::{ContainerId, random_name};
use union_rootfs_solution::image::{self, Image};
use union_rootfs_solution::overlay::Overlay;
use union_rootfs_solution::store::Store;
use union_rootfs_solution::{clock, dev, init_layer, layer, pivot, proc, process};

use crate::cli::RunArgs;

/// `run`: creates the container, runs it in the foreground, returns its exit code.
pub fn run(store: &Store, args: &RunArgs) -> Result<i32> {
    if !Uid::effective().is_root() {
        bail!("union-rootfs run needs root: overlay mounts, whiteouts and device nodes are root's (run it with sudo)");
    }
    let limits = args.limits.limits()?;
    let image = image::resolve(store, &args.image)?;
    let id = ContainerId::random()?;
    let mut container = containers::create(store, container_config(store, args, &image, &id)?)?;
    if let Some(path) = &args.cid.cidfile {
        id.write_cidfile(path)?;
    }
    let layers = image.chain_ids.iter().map(|chain| layer::diff_dir(store, chain)).collect::<Result<Vec<_>>>()?;
    // A container removed when it ends needs its writes on disk no more than it needs them at all.
    let overlay = Overlay::for_container(&container.dir, &layers, args.rootfs.rm);

    let ended = run_in_cgroup(args, &id, &limits, &mut container, &overlay);
    let code = match &ended {
        Ok(status) => wait::exit_code(*status),
        Err(err) => Failure::code_of(err),
    };
    let finished = State {
        status: Status::Exited,
        exit_code: Some(code),
        finished: Some(clock::now()),
        ..container.state.clone()
    };
    let recorded = if args.rootfs.rm { layer::remove_tree(&container.dir) } else { container.set_state(finished) };
    ended?;
    recorded?;
    Ok(code)
}

/// What the container is: its name, image, process and hostname.
fn container_config(store: &Store, args: &RunArgs, image: &Image, id: &ContainerId) -> Result<ContainerConfig> {
    let config = image.config.config().clone().unwrap_or_default();
    let command = process::command_line(
        config.entrypoint().as_deref().unwrap_or_default(),
        config.cmd().as_deref().unwrap_or_default(),
        args.rootfs.entrypoint.as_deref(),
        &args.command,
    )?;
    let hostname = args.isolation.hostname.clone().unwrap_or_else(|| id.short().to_owned());
    let env = process::environment(config.env().as_deref().unwrap_or_default(), &args.rootfs.env, &hostname, |key| {
        std::env::var(key).ok()
    });
    let cwd = process::working_dir(config.working_dir().as_deref(), args.rootfs.workdir.as_deref())?;
    let name = match &args.rootfs.name {
        Some(name) => name.clone(),
        None => unused_name(store)?,
    };
    Ok(ContainerConfig {
        id: id.as_str().to_owned(),
        name,
        image: args.image.clone(),
        image_id: image.id.clone(),
        command,
        env,
        cwd,
        hostname,
        created: clock::now(),
    })
}

fn unused_name(store: &Store) -> Result<String> {
    let taken: Vec<String> = containers::list(store)?.into_iter().map(|c| c.config.name).collect();
    for _ in 0..32 {
        let name = random_name()?;
        if !taken.contains(&name) {
            return Ok(name);
        }
    }
    Ok(format!("{}_{}", random_name()?, taken.len()))
}

/// Creates the cgroup, runs the container in it, and removes it on every path.
fn run_in_cgroup(
    args: &RunArgs,
    id: &ContainerId,
    limits: &Limits,
    container: &mut Container,
    overlay: &Overlay,
) -> Result<WaitStatus> {
    wait::block_signals()?;
    let hierarchy = Hierarchy::detect(Path::new(CGROUP_ROOT))?;
    let cgroup = Cgroup::create(&plan(&hierarchy, id.as_str(), limits)?)?;
    let ended = run_container(args, container, overlay, &cgroup);
    let oom_killed = match &ended {
        Ok(status) => oom::oom_failure(&cgroup, *status),
        Err(_) => Ok(None),
    };
    let removed = cgroup.remove();
    let status = ended?;
    removed?;
    if let Some(failure) = oom_killed? {
        return Err(failure.into());
    }
    Ok(status)
}

// ANCHOR: run
/// Clones the child, releases it into its cgroup, lets it exec, and waits for it to end.
fn run_container(args: &RunArgs, container: &mut Container, overlay: &Overlay, cgroup: &Cgroup) -> Result<WaitStatus> {
    let isolation = args.isolation.isolation(false);
    let flags = clone_flags(&isolation.namespaces());
    let setup = Setup {
        dir: container.dir.clone(),
        config: container.config.clone(),
        overlay,
        isolation,
        no_pivot: args.rootfs.no_pivot,
        cgroup,
    };
    let child = clone::clone_child(flags, || set_up_container(&setup))?;
    if let Err(err) = child.release() {
        stop(child.pid);
        return Err(err);
    }
    let running = State {
        status: Status::Running,
        pid: Some(child.pid.as_raw()),
        started: Some(clock::now()),
        ..State::default()
    };
    container.set_state(running)?;
    let started = child.wait_for_exec();
    let status = wait::wait_forwarding_signals(child.pid)?;
    started?;
    Ok(status)
}

/// What the child needs to build the container's root.
struct Setup<'a> {
    dir: PathBuf,
    config: ContainerConfig,
    overlay: &'a Overlay,
    isolation: Isolation,
    no_pivot: bool,
    cgroup: &'a Cgroup,
}

/// The child's side: everything between `clone` and `exec`.
fn set_up_container(setup: &Setup) -> Result<Infallible> {
    setup.cgroup.join()?;
    namespace::enter_cgroup_namespace()?;
    mounts::make_mounts_private()?;
    let merged = setup.dir.join("merged");
    setup.overlay.mount(&merged)?;
    init_layer::bind_container_files(&setup.dir, &merged)?;
    if setup.no_pivot {
        pivot::chroot_into(&merged)?
    } else {
        pivot::pivot_into(&merged)?
    }
    proc::mount_proc_and_sys()?;
    dev::mount_dev(Path::new("/dev"))?;
    proc::restrict_proc_and_sys()?;
    if !setup.isolation.host_network {
        loopback::bring_up_loopback()?;
    }
    hostname::set_hostname(&setup.config.hostname)?;
    enter_working_dir(&setup.config.cwd)?;
    process::enter_environment(&setup.config.env);
    wait::unblock_signals()?;
    let argv: Vec<_> = setup.config.command.iter().map(Into::into).collect();
    exec::exec_command(&argv)
}
// ANCHOR_END: run

/// Creates the working directory if the image lacks it (as Docker does), and enters it.
fn enter_working_dir(cwd: &str) -> Result<()> {
    fs::create_dir_all(cwd).with_context(|| format!("create the working directory {cwd}"))?;
    trace::syscall(|| format!("chdir({})", trace::quote(cwd)), chdir(cwd))
        .with_context(|| format!("enter the working directory {cwd} (chdir)"))?;
    Ok(())
}

/// Ends a child that cannot be started after all, and reaps it.
fn stop(child: Pid) {
    trace::syscall(|| format!("kill({child}, SIGKILL)"), kill(child, Signal::SIGKILL)).ok();
    waitpid(child, None).ok();
}
