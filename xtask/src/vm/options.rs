//! `cargo xtask vm`'s options, and the script they make the VM run (`/rebox/run`).

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result, bail};

use super::build::{Code, Suite};
use crate::chapters::{self, CHAPTERS, Chapter};

/// How long the VM may take to boot, and then each suite, before it is stopped: under emulation
/// it boots in about 10 s and chapter 3's suite, the slowest so far, takes about 2 minutes.
const BOOT_TIMEOUT: Duration = Duration::from_secs(5 * 60);
const SUITE_TIMEOUT: Duration = Duration::from_secs(8 * 60);

pub const USAGE: &str = "\
usage: cargo xtask vm [--chapter C] [--starter] [--record] [--keep] [--shell-command CMD] [--timeout SECONDS]
  --chapter C          only chapter C's suite (default: every chapter)
  --starter            the learner's code (the starter packages) instead of the reference solutions
  --record             write the snapshots the suites take in the VM into tests/ (INSTA_UPDATE=always)
  --keep               keep the VM's work directory (initramfs, console log, report) and say where
  --shell-command CMD  run CMD with sh in the VM, in the workspace's directory, instead of the suites
  --timeout SECONDS    stop the VM after this long (default: 5 minutes, plus 8 per suite)";

/// What to run in the VM.
#[derive(Debug)]
pub struct Options {
    pub chapters: Vec<&'static Chapter>,
    pub code: Code,
    pub record: bool,
    pub keep: bool,
    pub shell_command: Option<String>,
    timeout: Option<Duration>,
}

impl Options {
    /// Reads the arguments after `vm`.
    pub fn parse(args: &[&str]) -> Result<Self> {
        let mut options = Options {
            chapters: CHAPTERS.iter().collect(),
            code: Code::Solution,
            record: false,
            keep: false,
            shell_command: None,
            timeout: None,
        };
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            let mut value = || args.next().with_context(|| format!("{arg} needs a value\n\n{USAGE}"));
            match *arg {
                "--chapter" => options.chapters = vec![chapters::find(value()?)?],
                "--starter" => options.code = Code::Starter,
                "--record" => options.record = true,
                "--keep" => options.keep = true,
                "--shell-command" => options.shell_command = Some(value()?.to_string()),
                "--timeout" => {
                    let seconds = value()?.parse().with_context(|| format!("--timeout takes seconds\n\n{USAGE}"))?;
                    options.timeout = Some(Duration::from_secs(seconds));
                }
                _ => bail!("unknown option `{arg}`\n\n{USAGE}"),
            }
        }
        if options.record && (options.shell_command.is_some() || options.code == Code::Starter) {
            bail!(
                "--record records the reference solutions' snapshots; it goes with neither --shell-command nor --starter"
            );
        }
        Ok(options)
    }

    /// How long the VM may run.
    pub fn timeout(&self) -> Duration {
        let suites = if self.shell_command.is_some() { 1 } else { self.chapters.len() as u32 };
        self.timeout.unwrap_or(BOOT_TIMEOUT + SUITE_TIMEOUT * suites)
    }

    /// `/rebox/run`: the environment, then each suite (or the command), in the functions of `stage2.sh`.
    pub fn run_script(&self, workspace: &Path, suites: &[Suite]) -> String {
        let mut script = String::from("# What this boot runs, written by `cargo xtask vm`.\n");
        script += &format!("export INSTA_WORKSPACE_ROOT={} RUST_BACKTRACE=0\n", quote(workspace));
        // The disk, where the suites' `CARGO_TARGET_TMPDIR` is, for tests that need a block device.
        script += &format!("mount_disk {}\n", quote(&workspace.join("target/tmp")));
        if self.record {
            script += "export INSTA_UPDATE=always INSTA_FORCE_PASS=1\n";
        } else {
            script += "export INSTA_UPDATE=no\n";
        }
        if self.shell_command.is_some() {
            // The chapter binaries by name, as after `cargo build`.
            if let Some(dir) = suites.first().and_then(|suite| suite.binary.parent()) {
                script += &format!("export PATH={}:\"$PATH\"\n", quote(dir));
            }
            script += "run_command\n";
            return script;
        }
        for suite in suites {
            script += &format!(
                "run_suite {} {} {}\n",
                suite.chapter.name,
                quote(&suite.executable),
                quote(&suite.package_dir)
            );
        }
        if self.record {
            script += "send_snapshots\n";
        }
        script
    }
}

/// `path` in single quotes, for sh.
fn quote(path: &Path) -> String {
    format!("'{}'", path.display().to_string().replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_choose_chapters_and_modes() {
        let options = Options::parse(&[]).unwrap();
        assert_eq!(options.chapters.len(), CHAPTERS.len());
        assert_eq!(options.timeout(), BOOT_TIMEOUT + SUITE_TIMEOUT * CHAPTERS.len() as u32);
        let options = Options::parse(&["--chapter", "cgroup-limits", "--keep", "--timeout", "60"]).unwrap();
        assert_eq!(options.chapters[0].name, "cgroup-limits");
        assert!(options.keep && !options.record);
        assert_eq!(options.timeout(), Duration::from_secs(60));
        assert!(Options::parse(&["--chapter"]).is_err());
        assert!(Options::parse(&["--record", "--starter"]).is_err());
        assert!(Options::parse(&["--chapter", "nosuch"]).is_err());
    }

    #[test]
    fn paths_are_quoted_for_sh() {
        assert_eq!(quote(Path::new("/work/it's")), r"'/work/it'\''s'");
    }
}
