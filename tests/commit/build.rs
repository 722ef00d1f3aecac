//! `build`: the lesson's example, the cache, and a failing `RUN` (step `build-step`).

use std::fs;
use std::path::{Path, PathBuf};

use rebox_support::{Chapter, mount_table};

use crate::{images_all, snapshot, with_images};

/// The lesson's project: `examples/helloworld`, its Dockerfile and its page.
fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/helloworld")
}

/// A copy of the example, to change, in this test's store directory.
fn example_copy(ch: &Chapter) -> PathBuf {
    let copy = ch.root().join("context");
    copy_dir(&example(), &copy);
    copy
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &to.join(entry.file_name()));
        } else {
            fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
    }
}

/// A build's `Step n/N : ...` lines, each with whether it was `Using cache`.
fn cache_use(output: &str) -> Vec<String> {
    let mut steps: Vec<String> = Vec::new();
    for line in output.lines() {
        if line.starts_with("Step ") {
            steps.push(line.split(" : ").nth(1).unwrap_or_default().to_owned());
        } else if line == " ---> Using cache"
            && let Some(last) = steps.last_mut()
        {
            last.push_str("  (cache)");
        }
    }
    steps
}

#[test]
fn the_lessons_example_builds_one_layer_per_instruction() {
    let ch = with_images("build-step");
    let built = ch.run(["build".as_ref(), "-t".as_ref(), "helloworld".as_ref(), example().as_os_str()]);
    built.expect_code(0);
    let history = ch.run(["history", "helloworld"]);
    let lines: Vec<&str> = history.success().lines().skip(1).collect();
    let env = lines.iter().find(|line| line.contains("ENV NAME=World")).expect("the ENV step in the history");
    assert!(env.contains(" 0B "), "ENV makes an empty layer: {env}");
    let add = lines.iter().find(|line| line.contains("ADD dir:")).expect("the ADD step");
    assert!(!add.contains(" 0B "), "ADD makes a layer: {add}");
    let inside = ch.run(["run", "--rm", "helloworld", "sh", "-c", "ls -A /app /app/www/cgi-bin; echo $NAME; pwd"]);
    assert_eq!(
        inside.success(),
        "/app:\nhello\nwww\n\n/app/www/cgi-bin:\nindex.cgi\nWorld\n/app\n",
        ".dockerignore keeps the Dockerfile out of the image"
    );
    let mode = ch.run(["run", "--rm", "helloworld", "stat", "-c", "%a %u:%g", "/app/www/cgi-bin/index.cgi"]);
    assert_eq!(mode.success(), "755 0:0\n", "COPY keeps the mode and gives the file to root");
    let redacted = |text: String| regex_lite_dir_digest(&text);
    snapshot(&ch, "build_output", &redacted(built.transcript().replace(example().to_str().unwrap(), "[EXAMPLE]")));
    snapshot(&ch, "build_history", &redacted(history.transcript()));
}

/// The context digest in `ADD dir:<hex> in /app` depends on the checkout's file modes: each digit shown as `x`.
fn regex_lite_dir_digest(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find("dir:") {
        out.push_str(&rest[..at + 4]);
        rest = &rest[at + 4..];
        let end = rest.find(|c: char| !c.is_ascii_hexdigit()).unwrap_or(rest.len());
        out.push_str(&"x".repeat(end));
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

#[test]
fn a_second_build_uses_the_cache_and_a_changed_file_rebuilds_from_its_step() {
    let ch = with_images("build-step");
    let context = example_copy(&ch);
    let build = |tag: &str| ch.run(["build".as_ref(), "-t".as_ref(), tag.as_ref(), context.as_os_str()]);
    let first = build("first");
    first.expect_code(0);
    assert!(cache_use(&first.stdout).iter().all(|step| !step.ends_with("(cache)")), "{}", first.stdout);
    let again = build("again");
    again.expect_code(0);
    let id = |tag: &str| ch.run(["inspect", "-f", "{{.Id}}", tag]).success().trim().to_owned();
    assert_eq!(id("first"), id("again"), "every step from the cache: the same image");
    assert_eq!(
        cache_use(&again.stdout)[1..].iter().filter(|step| !step.ends_with("(cache)")).count(),
        0,
        "{}",
        again.stdout
    );
    fs::write(context.join("www/cgi-bin/index.cgi"), "#!/bin/sh\necho changed\n").unwrap();
    let changed = build("changed");
    changed.expect_code(0);
    assert_eq!(
        cache_use(&changed.stdout),
        [
            "FROM busybox",
            "WORKDIR /app  (cache)",
            "ADD . /app",
            "ENV NAME World",
            "EXPOSE 80",
            "CMD [\"httpd\", \"-f\", \"-v\", \"-p\", \"80\", \"-h\", \"/app/www\"]"
        ],
        "the ADD reads the changed file: it and every step after it are built again"
    );
    let page = ch.run(["run", "--rm", "changed", "/app/www/cgi-bin/index.cgi"]);
    assert_eq!(page.success(), "changed\n");
}

#[test]
fn run_steps_run_in_containers_and_a_failing_one_leaves_nothing() {
    let ch = with_images("build-step");
    let context = ch.root().join("failing");
    fs::create_dir(&context).unwrap();
    let ok = "FROM busybox\nRUN echo built > /app/built.txt\nCMD [\"cat\", \"/app/built.txt\"]\n";
    fs::write(context.join("Dockerfile"), ok).unwrap();
    ch.run(["build".as_ref(), "-t".as_ref(), "ran".as_ref(), context.as_os_str()]).expect_code(0);
    assert_eq!(ch.run(["run", "--rm", "ran"]).success(), "built\n");
    let mounts = mount_table();
    let images_before = images_all(&ch);
    let failing =
        "FROM busybox\nRUN echo one > /app/one\nENV STEP=two\nRUN echo about to fail; exit 3\nRUN echo never\n";
    fs::write(context.join("Dockerfile"), failing).unwrap();
    let outcome = ch.run(["build".as_ref(), "-t".as_ref(), "never".as_ref(), context.as_os_str()]);
    outcome.expect_code(3);
    assert!(outcome.stdout.contains("about to fail"), "{}", outcome.dump());
    assert!(!outcome.stdout.contains("never\n"), "{}", outcome.dump());
    assert!(outcome.stderr.contains("returned a non-zero code: 3"), "{}", outcome.dump());
    assert_eq!(images_all(&ch), images_before, "the failed build left an image");
    assert_eq!(ch.run(["ps", "-a"]).stdout.lines().count(), 1, "the failed build left a container");
    assert_eq!(mount_table(), mounts);
    assert_eq!(fs::read_dir(ch.root().join("tmp")).map(|d| d.count()).unwrap_or(0), 0, "staging left in tmp/");
}

#[test]
fn bad_dockerfiles_are_refused_before_any_step() {
    let ch = with_images("build-step");
    let context = ch.root().join("bad");
    fs::create_dir(&context).unwrap();
    let images_before = images_all(&ch);
    let mut transcript = String::new();
    for dockerfile in [
        "FROM busybox\nRUN true\nFORM busybox\n",
        "FROM busybox\nCOPY ../../etc/passwd /app/\n",
        "FROM busybox\nRUN true\nEXPOSE http\n",
        "RUN true\n",
        "FROM nosuch\n",
    ] {
        fs::write(context.join("Dockerfile"), dockerfile).unwrap();
        let outcome = ch.run(["build".as_ref(), context.as_os_str()]);
        outcome.expect_code(125);
        assert!(!outcome.stdout.contains("Running in"), "a step ran before the refusal:\n{}", outcome.dump());
        transcript.push_str(&format!("# Dockerfile:\n{dockerfile}"));
        transcript.push_str(&outcome.transcript().replace(context.to_str().unwrap(), "[CONTEXT]"));
    }
    assert_eq!(images_all(&ch), images_before);
    snapshot(&ch, "bad_dockerfiles", &transcript);
}

#[test]
fn user_sets_who_later_steps_and_the_container_run_as() {
    let ch = with_images("build-step");
    let context = ch.root().join("user");
    fs::create_dir(&context).unwrap();
    let dockerfile = "FROM busybox\n\
                      RUN echo app:x:1000:1000::/home/app:/bin/sh >> /etc/passwd && echo app:x:1000: >> /etc/group \\\n\
                      && mkdir /home/app && chown app:app /home/app\n\
                      USER app\n\
                      RUN id > /home/app/built-by\n\
                      CMD [\"sh\", \"-c\", \"cat $HOME/built-by; id\"]\n";
    fs::write(context.join("Dockerfile"), dockerfile).unwrap();
    ch.run(["build".as_ref(), "-t".as_ref(), "app".as_ref(), context.as_os_str()]).expect_code(0);
    let app = "uid=1000(app) gid=1000(app) groups=1000(app)\n";
    assert_eq!(
        ch.run(["run", "--rm", "app"]).success(),
        format!("{app}{app}"),
        "the RUN after USER, and the container"
    );
    assert_eq!(ch.run(["run", "--rm", "-u", "root", "app", "id", "-u"]).success(), "0\n", "-u overrides USER");
}
