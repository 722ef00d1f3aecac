//! What the container runs: Docker's rules for Entrypoint, Cmd, Env and WorkingDir.
//!
//! The image config says how to start it: `Entrypoint` + `Cmd` is the
//! command line (the lesson: "the full form is ENTRYPOINT CMD"), `Env` its
//! environment, `WorkingDir` its directory. `docker run` overrides them:
//! a COMMAND after the image replaces `Cmd`; `--entrypoint` replaces
//! `Entrypoint` *and* drops the image's `Cmd`; `-e` adds or replaces
//! variables; `-w` sets the directory. A Dockerfile's shell form
//! (`CMD python app.py`) is stored as `["/bin/sh", "-c", "python app.py"]`:
//! the shell is the process, the line its argument. Introduced in chapter 3.

use std::fs;
use std::path::Path;

use anyhow::{Context, Result, bail};
use ns_isolation::exit::{Failure, RUNTIME_FAILED};
use ns_isolation::sys;

/// The PATH a container gets when its image sets none (Docker's default).
pub const DEFAULT_PATH: &str = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// The command line: Entrypoint then Cmd, after `--entrypoint` and COMMAND.
pub fn command_line(
    image_entrypoint: &[String],
    image_cmd: &[String],
    entrypoint_flag: Option<&str>,
    command: &[String],
) -> Result<Vec<String>> {
    // EXERCISE(entrypoint-cmd): --entrypoint replaces Entrypoint and drops Cmd; COMMAND replaces Cmd
    todo!(
        "union-rootfs step 4 of 12 (entrypoint-cmd): --entrypoint replaces Entrypoint and drops Cmd; COMMAND replaces Cmd — book: union-rootfs.html#entrypoint-cmd"
    )
}

/// The environment: Docker's PATH and HOSTNAME, then the image's Env, then `-e`.
///
/// A later `KEY=` replaces an earlier one in place. `-e KEY` without `=`
/// takes the value from the runtime's own environment (`lookup`), and is
/// dropped when it has none, as in Docker.
pub fn environment(
    image_env: &[String],
    flags: &[String],
    hostname: &str,
    lookup: impl Fn(&str) -> Option<String>,
) -> Vec<String> {
    let mut env = vec![DEFAULT_PATH.to_owned(), format!("HOSTNAME={hostname}")];
    let from_flags = flags.iter().filter_map(|flag| match flag.split_once('=') {
        Some(_) => Some(flag.clone()),
        None => lookup(flag).map(|value| format!("{flag}={value}")),
    });
    for var in image_env.iter().cloned().chain(from_flags) {
        let key = var.split_once('=').map_or(var.as_str(), |(key, _)| key).to_owned();
        match env.iter_mut().find(|old| old.split_once('=').is_some_and(|(k, _)| k == key)) {
            Some(old) => *old = var,
            None => env.push(var),
        }
    }
    if !env.iter().any(|var| var.starts_with("HOME=")) {
        env.push("HOME=/root".to_owned());
    }
    env
}

/// The working directory: `-w`, else the image's WorkingDir, else `/`.
pub fn working_dir(image_dir: Option<&str>, flag: Option<&str>) -> Result<String> {
    let dir = flag.or(image_dir).filter(|dir| !dir.is_empty()).unwrap_or("/");
    if !dir.starts_with('/') {
        bail!("the working directory {dir:?} is invalid: it needs to be an absolute path");
    }
    Ok(dir.to_owned())
}

/// The child's last step before exec: its working directory and environment.
///
/// Called after `pivot_root`, so the directory is made and entered inside
/// the container's root, whatever symlinks the image has on the way.
pub fn enter(cwd: &str, env: &[String]) -> Result<()> {
    enter_working_dir(cwd)?;
    enter_environment(env);
    Ok(())
}

/// Creates the working directory if the image lacks it (as Docker does), and enters it.
pub fn enter_working_dir(cwd: &str) -> Result<()> {
    fs::create_dir_all(cwd).with_context(|| format!("create the working directory {cwd}"))?;
    sys::chdir(Path::new(cwd)).with_context(|| format!("enter the working directory {cwd} (chdir)"))?;
    Ok(())
}

/// Replaces this process's environment with `env`, so `execvp` searches the container's PATH.
///
/// Called in the container's child after `pivot_root`, just before exec,
/// as runc does: the command is found, and runs, with the container's
/// variables, not the runtime's.
pub fn enter_environment(env: &[String]) {
    for (key, _) in std::env::vars_os() {
        // SAFETY: the container's child is single-threaded (see ns_isolation::clone),
        // so nothing reads the environment while it changes.
        unsafe { std::env::remove_var(key) };
    }
    for var in env {
        let (key, value) = var.split_once('=').unwrap_or((var, ""));
        if !key.is_empty() {
            // SAFETY: as above, single-threaded.
            unsafe { std::env::set_var(key, value) };
        }
    }
}

/// A Dockerfile-style command: a JSON array is exec form, anything else shell form.
pub fn parse_command_form(text: &str) -> Vec<String> {
    match serde_json::from_str::<Vec<String>>(text.trim()) {
        Ok(exec_form) => exec_form,
        Err(_) => vec!["/bin/sh".to_owned(), "-c".to_owned(), text.trim().to_owned()],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| (*w).to_owned()).collect()
    }

    #[test]
    fn entrypoint_then_cmd() {
        let argv = command_line(&strings(&["/bin/echo"]), &strings(&["hi"]), None, &[]).unwrap();
        assert_eq!(argv, ["/bin/echo", "hi"]);
    }

    #[test]
    fn a_command_replaces_cmd_only() {
        let argv = command_line(&strings(&["/bin/echo"]), &strings(&["hi"]), None, &strings(&["bye"])).unwrap();
        assert_eq!(argv, ["/bin/echo", "bye"]);
    }

    #[test]
    fn entrypoint_flag_replaces_entrypoint_and_drops_cmd() {
        let image_cmd = strings(&["./hello"]);
        assert_eq!(command_line(&[], &image_cmd, Some("/bin/date"), &[]).unwrap(), ["/bin/date"]);
        assert_eq!(command_line(&[], &image_cmd, Some("ls"), &strings(&["-a"])).unwrap(), ["ls", "-a"]);
        assert!(
            command_line(&strings(&["x"]), &image_cmd, Some(""), &[]).is_err(),
            "an empty --entrypoint clears both"
        );
    }

    #[test]
    fn nothing_to_run_is_a_runtime_error() {
        let err = command_line(&[], &[], None, &[]).unwrap_err();
        assert_eq!(Failure::code_of(&err), 125);
    }

    #[test]
    fn env_flags_override_the_image_in_place() {
        let image = strings(&["PATH=/bin", "NAME=World"]);
        let env = environment(&image, &strings(&["NAME=rebox", "EXTRA=1"]), "4ddf4638572d", |_| None);
        assert_eq!(env, ["PATH=/bin", "HOSTNAME=4ddf4638572d", "NAME=rebox", "EXTRA=1", "HOME=/root"]);
    }

    #[test]
    fn a_bare_env_flag_comes_from_the_host_or_not_at_all() {
        let env = environment(&[], &strings(&["TERM", "UNSET"]), "h", |k| (k == "TERM").then(|| "xterm".to_owned()));
        assert_eq!(env, [DEFAULT_PATH, "HOSTNAME=h", "TERM=xterm", "HOME=/root"]);
    }

    #[test]
    fn working_dir_prefers_the_flag_and_must_be_absolute() {
        assert_eq!(working_dir(Some("/app"), None).unwrap(), "/app");
        assert_eq!(working_dir(Some("/app"), Some("/tmp")).unwrap(), "/tmp");
        assert_eq!(working_dir(None, None).unwrap(), "/");
        assert!(working_dir(None, Some("tmp")).is_err());
    }

    #[test]
    fn shell_form_runs_under_sh_c() {
        assert_eq!(parse_command_form("python app.py"), ["/bin/sh", "-c", "python app.py"]);
        assert_eq!(parse_command_form(r#"["python", "app.py"]"#), ["python", "app.py"]);
    }
}
