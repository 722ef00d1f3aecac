//! Helpers every chapter suite uses: run the chapter's binary, check what a
//! test needs from the machine, and redact what changes from run to run.
//!
//! A suite starts with `let ch = rebox_support::chapter!();`, which finds the
//! binary of the package under test (the learner's starter or the reference
//! solution), then runs it with [`Chapter::run`] and looks at the
//! [`Outcome`]. Tests never fork or clone inside the harness themselves.

mod machine;
mod outcome;
mod redact;
mod running;
pub mod sample_image;
mod table;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub use machine::{busybox, host_namespace, mount_table, require_root, require_user_namespaces};
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
#[macro_export]
macro_rules! chapter {
    () => {
        $crate::Chapter::new(
            env!("CARGO_PKG_NAME").trim_end_matches("-solution"),
            env!(concat!("CARGO_BIN_EXE_", env!("CARGO_PKG_NAME"))),
        )
    };
}

/// A chapter's runtime binary, and a private state directory for it.
#[derive(Debug)]
pub struct Chapter {
    name: &'static str,
    binary: PathBuf,
    root: tempfile::TempDir,
}

impl Chapter {
    /// The chapter `name` (e.g. `ns-isolation`), whose binary is at `binary`.
    pub fn new(name: &'static str, binary: &str) -> Self {
        let root =
            tempfile::Builder::new().prefix("rebox-test-").tempdir().expect("create a temporary --root for the test");
        Self { name, binary: PathBuf::from(binary), root }
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
        outcome.fail_on_todo();
        outcome
    }

    /// Runs the binary with `args` and returns what happened.
    ///
    /// If the runtime hit a `todo!()`, the test fails here, naming the step
    /// the learner has still to do.
    pub fn run<I, S>(&self, args: I) -> Outcome
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let args: Vec<String> = args.into_iter().map(|a| a.as_ref().to_string_lossy().into_owned()).collect();
        // assert_cmd closes stdin and, past the timeout, kills a run that hangs.
        let output = assert_cmd::Command::from_std(self.command(&args))
            .timeout(RUN_TIMEOUT)
            .output()
            .expect("start the chapter binary");
        let outcome = Outcome::new(self.name, &args, output);
        outcome.fail_on_todo();
        outcome
    }
}
