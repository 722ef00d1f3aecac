//! `cargo xtask <command>`: the workshop's own tools.
//!
//! Learners use `doctor`, `setup`, `book`, `check`, `reset`, `demo`, `vm`;
//! instructors `grade`; maintainers `sync-starters`, `test` (what CI runs),
//! `walkthrough`, `bench`, `vm --record`.

#![forbid(unsafe_code)]

mod bench;
mod book;
mod chapters;
mod check;
mod demo;
mod doctor;
mod image;
mod process;
mod setup;
mod starters;
mod test;
mod vm;
mod walkthrough;

use anyhow::{Result, bail};

const USAGE: &str = "\
usage: cargo xtask <command>

learners
  doctor                 what this machine has, and how to get what it lacks
  setup                  install what a fresh machine lacks (Debian packages, mdBook)
  book                   build the book into book/build (open book/build/index.html)
  check <chapter>        run a chapter's suite on your code: steps done, the next one and why
  reset <chapter> [--yes]  a fresh starter for a chapter (your code is kept in backups/)
  demo [<chapter>]       the end-to-end demo of every chapter, the lesson replayed last (needs root)
  image [DIR]            write the sample images busybox and helloworld, OCI layouts (default DIR: target/sample-image)
  vm [--chapter C] [--starter]
                         the suites in a VM with Debian's kernel and only cgroup v2, no root needed
                         (`cargo xtask vm --help`: recording snapshots, running a command)
instructors
  grade                  one screen: every chapter's steps done and tests passing in this checkout
maintainers
  test                   everything CI runs: fmt, clippy, starters, suites, walkthrough, book, the suites in the VM
  sync-starters [--check]  write chapters/ from solutions/ (or check they match)
  walkthrough [<chapter>]  solve the starters step by step; every step must turn a test green
  partly-solved <chapter> <n>
                         overwrite chapters/<chapter> with its first n steps solved (to try one step)
  bench [commit]         compare the runtimes with unshare, runc, tar, cp (needs root); `commit`: chapter 6's alone";

/// The usage text, ending with the chapters as the workshop lists them.
fn usage() -> String {
    let chapters: Vec<&str> = chapters::CHAPTERS.iter().map(|chapter| chapter.name).collect();
    format!("{USAGE}\nchapters: {}", chapters.join(", "))
}

fn main() {
    if let Err(err) = run() {
        eprintln!("xtask: {err:#}");
        std::process::exit(1);
    }
}

fn run() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["doctor"] => doctor::run(),
        ["setup"] => setup::run(),
        ["check", chapter] => check::run(chapters::find(chapter)?),
        ["grade"] => check::grade(),
        ["reset", chapter] => starters::reset(chapters::find(chapter)?, false),
        ["reset", "--yes", chapter] | ["reset", chapter, "--yes"] => starters::reset(chapters::find(chapter)?, true),
        ["sync-starters"] => starters::sync(false),
        ["sync-starters", "--check"] => starters::sync(true),
        ["test"] => test::run(),
        ["book"] => book::build(),
        ["demo"] => demo::run(None),
        ["demo", chapter] => demo::run(Some(chapter)),
        ["image"] => image::run(None),
        ["image", dir] => image::run(Some(dir)),
        ["bench"] => bench::run(None),
        ["bench", chapter] => bench::run(Some(chapter)),
        ["walkthrough"] => walkthrough::run(None),
        ["partly-solved", chapter, n] => starters::write_partly_solved(chapters::find(chapter)?, n.parse()?),
        ["walkthrough", chapter] => walkthrough::run(Some(chapters::find(chapter)?)),
        ["vm", options @ ..] => vm::run(options),
        [] | ["help" | "--help" | "-h"] => {
            println!("{}", usage());
            Ok(())
        }
        _ => bail!("unknown command `{}`\n\n{}", args.join(" "), usage()),
    }
}
