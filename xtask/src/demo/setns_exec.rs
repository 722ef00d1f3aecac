//! Chapter 4's demo: the lesson's session, from `docker run -d -p 4000:80` to `docker rm`.
//!
//! `$SE` is `setns-exec-solution`; the steps are shown as `setns-exec`.
//! Before the steps, the sample images `busybox` and `helloworld` are
//! written into the chapter's directory, `$REBOX_ROOT` names an empty store,
//! and `$PORT` is the host port to publish: the lesson's 4000 when nothing
//! listens on it, else one the kernel picks as free. Afterwards every
//! container left in the store is removed with `rm -f`, whether the steps
//! succeeded or not; with the containers go their monitors and the host port.

use std::net::{Ipv4Addr, TcpListener};
use std::path::Path;

use anyhow::{Context, Result};

use super::{Chapter, Step, Vars};

/// The host port the lesson publishes its app on.
const LESSON_PORT: u16 = 4000;

/// The steps of chapter 4.
pub const DEMO: Chapter = Chapter {
    name: "setns-exec",
    var: "SE",
    prepare,
    clean_up: super::union_rootfs::clean_up,
    steps: &[
        Step {
            say: "In a scratch directory: the sample images busybox and helloworld, an empty store, and the host port to publish (the lesson's 4000 if it is free):",
            shell: r#"echo "WORK=$WORK"; echo "REBOX_ROOT=$REBOX_ROOT"; echo "PORT=$PORT"; ls $WORK"#,
        },
        Step {
            say: "The host's mount table, before any container (the count is kept, to compare at the end):",
            shell: "wc -l < /proc/self/mounts | tee $WORK/mounts-before",
        },
        Step {
            say: "Load both images; helloworld is the lesson's app, busybox's httpd serving its page on port 80:",
            shell: "$SE image load $WORK/busybox; $SE image load $WORK/helloworld",
        },
        Step {
            say: "docker run -d -p: the container runs on under its monitor, and the command line prints its id and returns:",
            shell: "$SE run -d -p $PORT:80 --name hello helloworld",
        },
        Step { say: "ps lists it running, with its published port:", shell: "$SE ps" },
        Step {
            say: "The lesson's curl, on the host's port: the page comes from inside the container, whose hostname is its short id (a retry covers the moment before httpd listens):",
            shell: "curl -s --retry 5 --retry-all-errors http://localhost:$PORT",
        },
        Step {
            say: "The container's PID 1, as the lesson asks for it, is an ordinary process of the host:",
            shell: "$SE inspect --format '{{ .State.Pid }}' hello | tee $WORK/pid",
        },
        Step {
            say: "Its namespaces are files; those that differ from the host's (below) are the container's own:",
            shell: "ls -l /proc/$(cat $WORK/pid)/ns; readlink /proc/self/ns/net",
        },
        Step {
            say: "The lesson's set_ns: join the container's network namespace alone, and run the host's ip there; only the container's lo:",
            shell: "$SE join /proc/$(cat $WORK/pid)/ns/net -- ip addr",
        },
        Step {
            say: "exec joins every namespace: ps inside sees httpd as PID 1, and itself as a new process:",
            shell: "$SE exec hello ps -o pid,ppid,args",
        },
        Step {
            say: "An exec'd shell: a new pid of the container, a parent outside it (0), the container's hostname, PID 1's network namespace:",
            shell: r#"$SE exec hello sh -c 'echo "pid $$, parent $PPID, hostname $(hostname)"; readlink /proc/1/ns/net; readlink /proc/self/ns/net'"#,
        },
        Step {
            say: "--net container:hello: a second container in the first one's network namespace reaches its port 80 on localhost:",
            shell: "$SE run --name client --net container:hello busybox wget -qO- localhost:80",
        },
        Step {
            say: "What the client printed is in its log, Docker's json-file, and logs reads it back:",
            shell: "$SE logs client; cat $REBOX_ROOT/containers/*/*-json.log",
        },
        Step {
            say: "stop sends SIGTERM; httpd, a PID 1 with no handler for it, ignores it, and is killed after the 1 s grace period:",
            shell: "$SE stop -t 1 hello",
        },
        Step { say: "Both containers have exited; 137 is 128 + SIGKILL:", shell: "$SE ps -a" },
        Step {
            say: "rm removes them; the host's port is free again:",
            shell: r#"$SE rm hello client; echo "containers left: $(ls $REBOX_ROOT/containers | wc -l)"; curl -s http://localhost:$PORT || echo "curl: exit $?, nothing listens on $PORT""#,
        },
        Step {
            say: "The host's mount table has as many lines as before:",
            shell: r#"wc -l < /proc/self/mounts | diff $WORK/mounts-before - && echo "$(cat $WORK/mounts-before) lines, as before""#,
        },
    ],
};

/// Writes the sample images into `dir`, names an empty store, `dir/root`, and picks the host port.
fn prepare(dir: &Path) -> Result<Vars> {
    crate::image::build(dir)?;
    let port = free_port()?;
    Ok(vec![("WORK", dir.to_path_buf()), ("REBOX_ROOT", dir.join("root")), ("PORT", port.to_string().into())])
}

/// The lesson's port if nothing listens on it, else a port the kernel says is free.
///
/// The runtime binds `0.0.0.0`, so that is what is tried; the listener is closed again at once.
pub(super) fn free_port() -> Result<u16> {
    if TcpListener::bind((Ipv4Addr::UNSPECIFIED, LESSON_PORT)).is_ok() {
        return Ok(LESSON_PORT);
    }
    let listener = TcpListener::bind((Ipv4Addr::UNSPECIFIED, 0)).context("find a free host port (bind 0.0.0.0:0)")?;
    let port = listener.local_addr().context("read the free port's number")?.port();
    println!("the lesson's port {LESSON_PORT} is in use on this host: the demo publishes {port} instead");
    Ok(port)
}
