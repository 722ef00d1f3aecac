//! The last demo: the lesson's whole session, replayed in its order on chapter 6's runtime.
//!
//! `$CM` is `commit-solution`; the commands are shown as `commit`. The
//! scenes follow the lesson: `build -t helloworld` of `examples/helloworld`,
//! `images`, `run -d -p 4000:80`, `ps`, `curl`, `tag`, `exec -it … sh` and
//! `touch test.txt` typed on a terminal, `commit`, `inspect` and the
//! namespace files, the lesson's `set_ns` (`join`), `--net container:`, the
//! volume `-v /test` and its commit, `-m 100m --cpus 0.5` and the cgroup
//! files (thought question 3), and `save` read by `skopeo`, which is how
//! `push` would upload the image. A few scenes beyond the lesson show what
//! chapter 6's page explains: `diff`, the init layer's `/etc/hosts` left
//! out of a commit, the freezer, a build's cache and a `RUN` step.
//!
//! Before the scenes, the sample image `busybox` is written into the demo's
//! directory, `$REBOX_ROOT` names an empty store there, and `$PORT` is the
//! host port (the lesson's 4000 if free, as chapter 4's demo picks it).
//! Afterwards every container left is removed with `rm -f -v`, whether the
//! scenes succeeded or not: with them go their monitors, cgroups, mount
//! namespaces, listeners and anonymous volumes; the store, the saved
//! archive and skopeo's copy go with the directory.
//!
//! The demo records what each scene printed, and on success writes it to
//! `book/transcripts/lesson-replayed.txt`, one `ANCHOR` per scene, which
//! the book's last page and chapter 6's page include: the book shows this
//! run's output, not text typed by hand. The demo's directory is shown as
//! `$WORK`, its store as `$REBOX_ROOT`, and a terminal's carriage returns
//! and escape sequences are dropped.

use std::fmt::Write as _;
use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use super::Vars;
use crate::chapters::workspace;
use crate::process;

/// One command of the replay, and why it is shown.
struct Scene {
    /// The transcript's anchor for it; scenes in a row with the same anchor share one.
    anchor: &'static str,
    say: &'static str,
    shell: &'static str,
    /// Typed on the command's terminal once its shell prompts: the scene runs on a pseudo-terminal.
    typed: Option<&'static str>,
    /// The variable that keeps what the scene printed, for the scenes after it (an id as its short form).
    keep: Option<&'static str>,
    /// Whether the scene runs on this host: the cgroup files differ between v1 and v2.
    when: fn() -> bool,
}

const fn scene(anchor: &'static str, say: &'static str, shell: &'static str) -> Scene {
    Scene { anchor, say, shell, typed: None, keep: None, when: always }
}

fn always() -> bool {
    true
}

/// Whether the host has cgroup v2 alone, one tree at `/sys/fs/cgroup`.
fn cgroup_v2() -> bool {
    Path::new("/sys/fs/cgroup/cgroup.controllers").exists()
}

fn cgroup_v1() -> bool {
    !cgroup_v2()
}

impl Scene {
    const fn typing(self, typed: &'static str) -> Scene {
        Scene { typed: Some(typed), ..self }
    }

    const fn keeping(self, variable: &'static str) -> Scene {
        Scene { keep: Some(variable), ..self }
    }

    const fn only_if(self, when: fn() -> bool) -> Scene {
        Scene { when, ..self }
    }
}

/// The chapter's name, and the binary a learner runs.
pub const NAME: &str = "commit";

/// Where the transcript goes, from the workspace's root.
const TRANSCRIPT: &str = "book/transcripts/lesson-replayed.txt";

const SCENES: &[Scene] = &[
    scene(
        "load",
        "The lesson's FROM image: the sample busybox, loaded into an empty store:",
        "$CM image load $WORK/busybox",
    ),
    scene(
        "build",
        "docker build -t helloworld .: each instruction of examples/helloworld/Dockerfile runs and is committed, one image per step:",
        "cat examples/helloworld/Dockerfile; $CM build -t helloworld examples/helloworld",
    ),
    scene("images", "docker image ls:", "$CM images"),
    scene(
        "history",
        "The image's history: ENV, EXPOSE and CMD made empty layers (0B), ADD one of 201 bytes, on busybox's:",
        "$CM history helloworld",
    ),
    scene(
        "run",
        "docker run -d -p 4000:80 helloworld: the Dockerfile's CMD, so nothing after the image's name:",
        "$CM run -d -p $PORT:80 helloworld",
    )
    .keeping("ID"),
    scene("ps", "docker ps:", "$CM ps"),
    scene(
        "curl",
        "The lesson's curl, on the host's port: the page comes from the container, whose hostname is its short id:",
        "curl -s --retry 5 --retry-all-errors http://localhost:$PORT",
    ),
    scene(
        "tag",
        "docker tag helloworld geektime/helloworld:v1: one image, two names:",
        "$CM tag helloworld geektime/helloworld:v1; $CM images",
    ),
    scene(
        "exec-it",
        "docker exec -it … /bin/sh, on a terminal; the demo types `touch test.txt; exit`:",
        "$CM exec -it $ID sh",
    )
    .typing("touch test.txt; exit\n"),
    scene(
        "init-layer",
        "Beyond the lesson: the runtime's own /etc/hosts, written by a process of the container (it is the init layer's file):",
        r#"$CM exec $ID sh -c 'echo "10.0.0.9 db" >> /etc/hosts; tail -n 2 /etc/hosts'"#,
    ),
    scene(
        "diff",
        "docker diff: the read-write layer holds test.txt, and /app changed with it; /etc/hosts is not there:",
        "$CM diff $ID",
    ),
    scene(
        "commit",
        "docker commit 4ddf4638572d geektime/helloworld:v2: the read-write layer becomes a layer of a new image:",
        "$CM commit $ID geektime/helloworld:v2",
    ),
    scene(
        "v2",
        "Its history: helloworld's layers, shared, and one more, the container's; a container of it has test.txt:",
        "$CM history geektime/helloworld:v2; $CM run --rm geektime/helloworld:v2 ls /app",
    ),
    scene(
        "init-layer-image",
        "The line written to /etc/hosts is in the container's own hosts file, which the init layer binds; no layer of any image has it:",
        r#"tail -n 1 $REBOX_ROOT/containers/$ID*/hosts; grep -rl 10.0.0.9 $REBOX_ROOT/layers || echo "no layer holds 10.0.0.9""#,
    ),
    scene(
        "inspect",
        "docker inspect --format '{{ .State.Pid }}': the container's PID 1, an ordinary process of the host:",
        "$CM inspect --format '{{ .State.Pid }}' $ID",
    )
    .keeping("PID"),
    scene("inspect", "Its namespaces are files:", "ls -l /proc/$PID/ns"),
    scene(
        "join",
        "The lesson's set_ns: join the container's network namespace, and run ifconfig there (the host's busybox): only the container's lo:",
        "$CM join /proc/$PID/ns/net -- busybox ifconfig",
    ),
    scene(
        "join",
        "The joined process and the container's PID 1 name the same network namespace:",
        r#"$CM join /proc/$PID/ns/net -- sh -c 'readlink /proc/$$/ns/net'; readlink /proc/$PID/ns/net"#,
    ),
    scene(
        "net-container",
        "docker run --net container:4ddf4638572d busybox ifconfig: the same devices, from a new container:",
        "$CM run --rm --net container:$ID busybox ifconfig",
    ),
    scene(
        "volume-run",
        "docker run -d -v /test helloworld: a volume with no name, on /test:",
        "$CM run -d -v /test helloworld",
    )
    .keeping("VID"),
    scene("volume-ls", "docker volume ls:", "$CM volume ls"),
    scene(
        "volume-exec",
        "A shell in the container creates /test/text.txt:",
        "$CM exec $VID sh -c 'cd /test && touch text.txt'",
    ),
    scene("volume-host", "On the host, the file is in the volume's _data:", "ls $REBOX_ROOT/volumes/*/_data/"),
    scene(
        "volume-upper",
        "The read-write layer has /test, made as the mountpoint, and nothing in it:",
        r#"ls -ld $REBOX_ROOT/containers/$VID*/upper/test; echo "$(ls -A $REBOX_ROOT/containers/$VID*/upper/test | wc -l) files in it""#,
    ),
    scene(
        "volume-commit",
        "commit, traced: the running container is frozen while its layer is read, then thawed (the freezer's lines of --trace):",
        "$CM --trace commit $VID geektime/helloworld:v3 2> $WORK/trace; grep -E 'freezer.state|cgroup.freeze' $WORK/trace",
    ),
    scene(
        "volume-image",
        "The new image has an empty /test, and no text.txt:",
        r#"$CM run --rm geektime/helloworld:v3 sh -c 'ls -ld /test; echo "$(ls -A /test | wc -l) files in it"'"#,
    ),
    scene(
        "limits",
        "Thought question 3: the app with a memory and a CPU limit:",
        "$CM run -d -m 100m --cpus 0.5 helloworld",
    )
    .keeping("LID"),
    scene("limits", "", "$CM inspect --format '{{ .State.Pid }}' $LID").keeping("LPID"),
    scene(
        "limits",
        "Its cgroups, as the host sees them:",
        "grep rebox /proc/$LPID/cgroup | grep -E 'memory|cpu' | sort",
    ),
    scene(
        "limits",
        "And the files that hold the limits, in each controller's tree (cgroup v1):",
        "cd /sys/fs/cgroup; grep -H . memory/rebox/$LID*/memory.limit_in_bytes cpu/rebox/$LID*/cpu.cfs_quota_us cpu/rebox/$LID*/cpu.cfs_period_us",
    )
    .only_if(cgroup_v1),
    scene(
        "limits",
        "And the files that hold the limits, in the one tree (cgroup v2):",
        "cd /sys/fs/cgroup; grep -H . rebox/$LID*/memory.max rebox/$LID*/cpu.max",
    )
    .only_if(cgroup_v2),
    scene(
        "save",
        "docker push uploads the image's blobs; save writes the same blobs into an OCI layout, in a tar:",
        "$CM save -o $WORK/helloworld-v2.tar geektime/helloworld:v2; tar -tf $WORK/helloworld-v2.tar",
    ),
    scene(
        "skopeo-inspect",
        "skopeo, the tool that copies images to and from registries, reads it:",
        "skopeo inspect oci-archive:$WORK/helloworld-v2.tar",
    ),
    scene(
        "skopeo-copy",
        "And copies it, blob by blob, as a push to docker://<registry>/geektime/helloworld:v2 would; here into a directory:",
        "skopeo copy oci-archive:$WORK/helloworld-v2.tar dir:$WORK/pushed; ls $WORK/pushed",
    ),
    scene(
        "cache",
        "Beyond the lesson: build again, and every step is found in the build cache:",
        "$CM build -t helloworld examples/helloworld",
    ),
    scene(
        "run-step",
        "A RUN step, the lesson's pip install: a container runs the command, and its read-write layer is committed:",
        "cat $WORK/pip/Dockerfile; $CM build -t geektime/helloworld:pip $WORK/pip",
    ),
    scene(
        "run-step",
        "Committed, the file is in the image's top layer, read-only; a new container of it starts with an empty read-write layer:",
        r#"$CM history geektime/helloworld:pip | head -n 2; $CM run --name pip geektime/helloworld:pip cat /usr/lib/python2.7/site-packages/flask.txt; echo "diff: $($CM diff pip | wc -l) changes""#,
    ),
    scene(
        "clean-up",
        "rm -f -v removes the containers and the anonymous volume; the port is free again:",
        r#"ls $REBOX_ROOT/containers > $WORK/containers
$CM rm -f -v $ID $VID $LID pip; $CM ps -a; $CM volume ls
curl -s http://localhost:$PORT || echo "curl: exit $?, nothing listens on $PORT""#,
    ),
    scene(
        "clean-up",
        "No cgroup of theirs and no mount is left on the host:",
        r#"echo "cgroups left: $(for id in $(cat $WORK/containers); do find /sys/fs/cgroup -maxdepth 3 -name $id; done | wc -l)"
wc -l < /proc/self/mounts | diff $WORK/mounts-before - && echo "$(cat $WORK/mounts-before) mounts, as before""#,
    ),
];

/// The lesson's `RUN pip install`, with no network and no Python: a file where pip would put Flask.
const PIP_DOCKERFILE: &str = "FROM helloworld
RUN mkdir -p /usr/lib/python2.7/site-packages && echo 'Flask 0.12.4' > /usr/lib/python2.7/site-packages/flask.txt
";

/// Replays the lesson in `work/commit` with the binary `work/commit-solution`, then cleans up, however it went.
pub fn run(work: &Path) -> Result<()> {
    let dir = work.join(NAME);
    fs::create_dir(&dir).with_context(|| format!("create {}", dir.display()))?;
    let binary = work.join(format!("{NAME}-solution"));
    let started = Instant::now();
    let ran = prepare(&dir).and_then(|vars| replay(&binary, &vars));
    if ran.is_err() {
        eprintln!("\nxtask: the lesson's replay stopped; cleaning up");
    }
    let cleaned = clean_up(&dir, &binary);
    let removed = fs::remove_dir_all(&dir).with_context(|| format!("remove {}", dir.display()));
    let transcript = ran?;
    cleaned?;
    removed?;
    let path = workspace().join(TRANSCRIPT);
    fs::write(&path, transcript).with_context(|| format!("write {}", path.display()))?;
    println!("\nthe lesson, replayed in {:.1} s; its transcript is {TRANSCRIPT}", started.elapsed().as_secs_f64());
    Ok(())
}

/// Writes the sample images and the `RUN` step's Dockerfile into `dir`, names an empty store, and picks the port.
fn prepare(dir: &Path) -> Result<Vars> {
    crate::image::build(dir)?;
    let pip = dir.join("pip");
    fs::create_dir(&pip).with_context(|| format!("create {}", pip.display()))?;
    fs::write(pip.join("Dockerfile"), PIP_DOCKERFILE).with_context(|| format!("write {}/Dockerfile", pip.display()))?;
    let mounts = fs::read_to_string("/proc/self/mounts").context("read /proc/self/mounts")?;
    fs::write(dir.join("mounts-before"), format!("{}\n", mounts.lines().count()))
        .with_context(|| format!("write {}/mounts-before", dir.display()))?;
    let port = super::setns_exec::free_port()?;
    Ok(vec![("WORK", dir.to_path_buf()), ("REBOX_ROOT", dir.join("root")), ("PORT", port.to_string().into())])
}

/// Runs every scene, printing it as it goes; returns the transcript, with an anchor per scene.
fn replay(binary: &Path, vars: &Vars) -> Result<String> {
    let mut vars = vars.clone();
    let mut transcript = String::new();
    let mut open: Option<&str> = None;
    for scene in SCENES.iter().filter(|scene| (scene.when)()) {
        if open != Some(scene.anchor) {
            if let Some(anchor) = open {
                writeln!(transcript, "ANCHOR_END: {anchor}")?;
            }
            writeln!(transcript, "ANCHOR: {}", scene.anchor)?;
            open = Some(scene.anchor);
        }
        if !scene.say.is_empty() {
            println!("\n# {}", scene.say);
        }
        let shown = shown(scene.shell, &vars);
        println!("{shown}");
        let output = match scene.typed {
            None => run_in_shell(scene, binary, &vars)?,
            Some(typed) => run_on_terminal(scene, typed, binary, &vars)?,
        };
        if let Some(name) = scene.keep {
            vars.push((name, kept(&output).into()));
        }
        let output = as_shown(&output, &vars);
        print!("{output}");
        transcript.push_str(&shown);
        transcript.push('\n');
        transcript.push_str(&output);
    }
    if let Some(anchor) = open {
        writeln!(transcript, "ANCHOR_END: {anchor}")?;
    }
    Ok(transcript)
}

/// What a scene printed, kept for later scenes: a container's id as its first 12 digits, as the lesson types it.
fn kept(output: &str) -> String {
    let output = output.trim();
    match output.len() == 64 && output.bytes().all(|b| b.is_ascii_hexdigit()) {
        true => output[..12].to_owned(),
        false => output.to_owned(),
    }
}

/// The scene's commands as a learner types them: `$ commit …`, with the values kept and the port, continuation lines indented.
fn shown(shell: &str, vars: &Vars) -> String {
    let mut shell = shell.replace("$CM", NAME);
    for (name, value) in vars.iter().filter(|(name, _)| !matches!(*name, "WORK" | "REBOX_ROOT")) {
        shell = shell.replace(&format!("${name}"), &value.display().to_string());
    }
    let lines: Vec<String> =
        shell.lines().enumerate().map(|(i, line)| format!("{} {line}", if i == 0 { "$" } else { " " })).collect();
    lines.join("\n")
}

/// The scene's shell: `sh -ec`, its errors on its output, in the workspace, with the demo's variables.
fn shell_command(program: &str, args: &[&str], binary: &Path, vars: &Vars) -> Command {
    let mut command = process::command(program, args);
    command.env("CM", binary).envs(vars.iter().map(|(name, value)| (name, value)));
    command
}

/// Runs a scene's commands; returns what they printed, standard output and error in the order they came.
fn run_in_shell(scene: &Scene, binary: &Path, vars: &Vars) -> Result<String> {
    let script = format!("exec 2>&1\n{}", scene.shell);
    let output = process::capture(shell_command("sh", &["-ec", &script], binary, vars))?;
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    if !output.status.success() {
        print!("{text}");
        bail!("`{}` failed ({})", scene.shell, output.status);
    }
    Ok(text)
}

/// Runs a scene's command on a pseudo-terminal (`script(1)`), types `typed` once its shell prompts, returns the screen.
///
/// The prompt is waited for so that the keys reach the container's terminal,
/// in raw mode by then, and are echoed once, by it, as a person's would be.
fn run_on_terminal(scene: &Scene, typed: &str, binary: &Path, vars: &Vars) -> Result<String> {
    let mut script =
        shell_command("script", &["--quiet", "--return", "--command", scene.shell, "/dev/null"], binary, vars);
    script.env("SHELL", "/bin/sh").stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::inherit());
    let mut child = script.spawn().context("start script(1), for a terminal (apt-get install util-linux)")?;
    let mut keyboard = child.stdin.take().context("script's standard input")?;
    let mut screen = child.stdout.take().context("script's standard output")?;
    let (sender, received) = mpsc::channel();
    thread::spawn(move || {
        let mut buffer = [0u8; 4096];
        while let Ok(read @ 1..) = screen.read(&mut buffer) {
            if sender.send(buffer[..read].to_vec()).is_err() {
                break;
            }
        }
    });
    let mut output = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut prompted = false;
    loop {
        match received.recv_timeout(Duration::from_millis(100)) {
            Ok(bytes) => output.extend_from_slice(&bytes),
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => {}
        }
        if !prompted && String::from_utf8_lossy(&output).contains("# ") {
            keyboard.write_all(typed.as_bytes()).context("type into the terminal")?;
            prompted = true;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            bail!("`{}` did not end within 30 s; it printed:\n{}", scene.shell, String::from_utf8_lossy(&output));
        }
    }
    drop(keyboard);
    let status = child.wait().context("wait for script(1)")?;
    let text = String::from_utf8_lossy(&output).into_owned();
    if !status.success() {
        bail!("`{}` failed ({status}); it printed:\n{text}", scene.shell);
    }
    Ok(without_escapes(&text))
}

/// A terminal's output as text: no carriage returns, no escape sequences (the shell's cursor-position query).
fn without_escapes(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => {}
            '\x1b' => {
                // CSI: ESC [ parameters, then a final byte in @..~.
                if chars.peek() == Some(&'[') {
                    chars.next();
                    for c in chars.by_ref() {
                        if ('@'..='~').contains(&c) {
                            break;
                        }
                    }
                }
            }
            c => out.push(c),
        }
    }
    out
}

/// Output with the demo's store and directory shown as `$REBOX_ROOT` and `$WORK`.
fn as_shown(text: &str, vars: &Vars) -> String {
    let path = |name: &str| vars.iter().find(|(var, _)| *var == name).map(|(_, value)| value.display().to_string());
    let mut text = text.to_owned();
    for name in ["REBOX_ROOT", "WORK"] {
        if let Some(value) = path(name) {
            text = text.replace(&value, &format!("${name}"));
        }
    }
    text
}

/// Removes, with `rm -f -v`, every container left in the store `dir/root`, with its anonymous volumes.
fn clean_up(dir: &Path, binary: &Path) -> Result<()> {
    let root: PathBuf = dir.join("root");
    let containers = root.join("containers");
    let Ok(entries) = fs::read_dir(&containers) else {
        return Ok(()); // The scenes stopped before the store was made.
    };
    for entry in entries {
        let entry = entry.with_context(|| format!("list {}", containers.display()))?;
        let mut rm = Command::new(binary);
        rm.arg("--root").arg(&root).args(["rm", "--force", "--volumes"]).arg(entry.file_name());
        process::run(rm)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_terminals_escapes_and_carriage_returns_are_dropped() {
        assert_eq!(without_escapes("/app # \x1b[6ntouch test.txt; exit\r\n"), "/app # touch test.txt; exit\n");
    }

    #[test]
    fn commands_are_shown_as_typed() {
        let vars: Vars = vec![("WORK", "/tmp/w".into()), ("ID", "4ddf4638572d".into())];
        assert_eq!(shown("$CM exec $ID ls $WORK\ngrep x y", &vars), "$ commit exec 4ddf4638572d ls $WORK\n  grep x y");
    }
}
