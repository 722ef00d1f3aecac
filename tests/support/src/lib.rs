//! Helpers every chapter suite uses: run the chapter's binary, check what a
//! test needs from the machine, and redact what changes from run to run.
//!
//! A test starts with `let ch = rebox_support::chapter!("mount-proc");`,
//! naming the step of the book it confirms. That finds the binary of the
//! package under test (the learner's starter or the reference solution);
//! the test runs it with [`Chapter::run`] and looks at the [`Outcome`]. A
//! run that stops at the `todo!()` of a *later* step does not fail the test:
//! the test asserts what the run did before it (a trace line, say), so a
//! learner sees it turn green as soon as its step is written. A `todo!()` of
//! this step or an earlier one fails it, naming that step. Tests of the
//! command line alone (`cli_*`) name no step: `chapter!()`. Tests never fork
//! or clone inside the harness themselves.

mod disk;
mod machine;
mod outcome;
mod redact;
mod running;
pub mod sample_image;
mod table;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub use disk::SmallDisk;
pub use machine::{
    busybox, host_namespace, mount_table, require_root, require_user_namespaces, takes_user_xattrs, xattr,
};
pub use outcome::Outcome;
pub use redact::{redactions, snapshot_settings};
pub use running::Running;
pub use table::redact_table_times;

/// Longest a single run may take before the test kills it and fails.
pub const RUN_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// The binary of the package this suite is compiled into.
///
/// `cargo test -p ns-isolation` runs the suite against the learner's
/// `ns-isolation`; `cargo test -p ns-isolation-solution` against the reference.
///
/// `chapter!("step-id")` declares the step of the book the test confirms;
/// `chapter!()` is for tests of the command line alone.
#[macro_export]
macro_rules! chapter {
    () => {
        $crate::Chapter::new(
            env!("CARGO_PKG_NAME").trim_end_matches("-solution"),
            env!(concat!("CARGO_BIN_EXE_", env!("CARGO_PKG_NAME"))),
            None,
        )
    };
    ($step:expr) => {
        $crate::Chapter::new(
            env!("CARGO_PKG_NAME").trim_end_matches("-solution"),
            env!(concat!("CARGO_BIN_EXE_", env!("CARGO_PKG_NAME"))),
            Some($step),
        )
    };
}

/// The line a test prints (captured by libtest) to say which step it confirms; `cargo xtask check` reads it.
pub const STEP_MARKER: &str = "rebox step: ";

/// A chapter's runtime binary, and a private state directory for it.
///
/// Dropped (the test ended, passed or failed), it removes with `rm -f`
/// every container left in its store, so that no detached container, its
/// monitor, its cgroup or its published port outlives the test.
#[derive(Debug)]
pub struct Chapter {
    name: &'static str,
    binary: PathBuf,
    root: tempfile::TempDir,
    step: Option<usize>,
}

impl Chapter {
    /// The chapter `name` (e.g. `ns-isolation`), whose binary is at `binary`, for a test of `step`.
    pub fn new(name: &'static str, binary: &str, step: Option<&str>) -> Self {
        let step = step.map(|id| {
            let plan = workshop::chapter(name).unwrap_or_else(|| panic!("{name} is not in the workshop's plan"));
            println!("{STEP_MARKER}{id}");
            plan.step_number(id).unwrap_or_else(|| panic!("{name} has no step {id:?} (crates/workshop)"))
        });
        let root =
            tempfile::Builder::new().prefix("rebox-test-").tempdir().expect("create a temporary --root for the test");
        Self { name, binary: PathBuf::from(binary), root, step }
    }

    /// The number of the step this test confirms, if it names one.
    pub fn step(&self) -> Option<usize> {
        self.step
    }

    /// The chapter's name as the book spells it, e.g. `ns-isolation`.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The binary under test.
    pub fn binary(&self) -> &Path {
        &self.binary
    }

    /// A copy of the binary that any user may run, for tests that drop privileges.
    ///
    /// The build directory may sit under a home only its owner can enter
    /// (`/root` is mode 700), so the copy goes to a world-readable temp dir.
    pub fn binary_for_any_user(&self) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let dir = self.root.path().join("any-user");
        std::fs::create_dir_all(&dir).expect("create a directory for a world-runnable binary");
        let copy = dir.join(self.name);
        std::fs::copy(&self.binary, &copy).expect("copy the chapter binary");
        for path in [self.root.path(), dir.as_path(), copy.as_path()] {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("make it world-runnable");
        }
        copy
    }

    /// This test's private state directory (the runtime's `--root`, from chapter 3 on).
    pub fn root(&self) -> &Path {
        self.root.path()
    }

    /// A command for the binary with `args`, stdin closed, state under [`Chapter::root`].
    ///
    /// Use it for runs a test must watch or signal while they go on;
    /// `assert_cmd::assert::OutputAssertExt` adds `.assert()` to it.
    pub fn command<I, S>(&self, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut command = Command::new(&self.binary);
        command.args(args).stdin(Stdio::null()).env("REBOX_ROOT", self.root.path());
        command
    }

    /// Runs the binary with `args` as `nobody` (uid 65534), through `setpriv`, as an unprivileged learner would.
    ///
    /// Fails the test unless unprivileged users may create user namespaces.
    pub fn run_as_nobody(&self, args: &[&str]) -> Outcome {
        require_user_namespaces();
        let output = Command::new("setpriv")
            .args(["--reuid", "65534", "--regid", "65534", "--clear-groups", "--"])
            .arg(self.binary_for_any_user())
            .args(args)
            .current_dir("/")
            .stdin(Stdio::null())
            .output()
            .expect("run setpriv (util-linux) to drop to an unprivileged user");
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        let outcome = Outcome::new(self.name, &args, output);
        outcome.fail_on_todo(self.step);
        outcome
    }

    /// Runs the binary with `args` and returns what happened.
    ///
    /// If the runtime hit the `todo!()` of this test's step or an earlier
    /// one, the test fails here, naming the step the learner has still to do.
    pub fn run<I, S>(&self, args: I) -> Outcome
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let outcome = self.run_unchecked(args);
        outcome.fail_on_todo(self.step);
        outcome
    }

    /// Runs the binary with `args` and returns what happened, even if it stopped at any `todo!()`.
    pub fn run_unchecked<I, S>(&self, args: I) -> Outcome
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.run_unchecked_with_env(args, &[])
    }

    /// [`Chapter::run_unchecked`], with `env` added to the binary's environment.
    pub fn run_unchecked_with_env<I, S>(&self, args: I, env: &[(&str, &str)]) -> Outcome
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let args: Vec<String> = args.into_iter().map(|a| a.as_ref().to_string_lossy().into_owned()).collect();
        let mut command = self.command(&args);
        command.envs(env.iter().copied());
        // assert_cmd closes stdin and, past the timeout, kills a run that hangs.
        let output =
            assert_cmd::Command::from_std(command).timeout(RUN_TIMEOUT).output().expect("start the chapter binary");
        Outcome::new(self.name, &args, output)
    }
}

impl Drop for Chapter {
    fn drop(&mut self) {
        let Ok(entries) = std::fs::read_dir(self.root.path().join("containers")) else { return };
        for entry in entries.flatten() {
            let id = entry.file_name();
            let _ = self
                .command([OsStr::new("rm"), OsStr::new("-f"), &id])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
    }
}
