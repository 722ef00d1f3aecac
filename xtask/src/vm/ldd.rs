//! The shared libraries a dynamically linked program loads, as `ldd` lists them.
//!
//! The VM's root holds only what is put in it, so each program copied in
//! (the suites, the chapter binaries, `setpriv`, `skopeo`, `umoci`) brings
//! its libraries and the dynamic loader, at the paths the host's loader
//! found them (`man 1 ldd`, `man 8 ld.so`).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::process;

/// The libraries `program` loads, and the dynamic loader; none for a static program.
pub fn libraries(program: &Path) -> Result<Vec<PathBuf>> {
    let output = process::capture(process::command("ldd", &[program.to_str().context("a path that is not UTF-8")?]))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    if stdout.contains("not a dynamic executable") || stderr.contains("not a dynamic executable") {
        return Ok(Vec::new());
    }
    if !output.status.success() {
        bail!("`ldd {}` failed: {stderr}", program.display());
    }
    parse(&stdout).with_context(|| format!("read what `ldd {}` says", program.display()))
}

/// Reads `ldd`'s lines: `libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x…)`, `/lib64/ld-linux-x86-64.so.2 (0x…)`.
fn parse(text: &str) -> Result<Vec<PathBuf>> {
    let mut libraries = Vec::new();
    for line in text.lines().map(str::trim).filter(|line| !line.is_empty()) {
        if line.contains("statically linked") {
            continue;
        }
        let path = match line.split_once(" => ") {
            Some((name, _)) if line.ends_with("=> not found") => bail!("library {name} not found"),
            Some((_, rest)) => rest,
            // The vDSO is the kernel's, and has no file; the loader is named by its path.
            None if line.starts_with('/') => line,
            None => continue,
        };
        let path = path.split(" (0x").next().unwrap_or(path).trim();
        if path.starts_with('/') {
            libraries.push(PathBuf::from(path));
        }
    }
    Ok(libraries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libraries_and_the_loader_are_listed_and_the_vdso_is_not() {
        let text = "\tlinux-vdso.so.1 (0x00007ffd5b9e0000)\n\
                    \tlibcap-ng.so.0 => /lib/x86_64-linux-gnu/libcap-ng.so.0 (0x00007f5b6a4d6000)\n\
                    \tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f5b6a2f4000)\n\
                    \t/lib64/ld-linux-x86-64.so.2 (0x00007f5b6a505000)\n";
        let expected =
            ["/lib/x86_64-linux-gnu/libcap-ng.so.0", "/lib/x86_64-linux-gnu/libc.so.6", "/lib64/ld-linux-x86-64.so.2"];
        assert_eq!(parse(text).unwrap(), expected.map(PathBuf::from));
    }

    #[test]
    fn a_missing_library_is_an_error() {
        let err = parse("\tlibgpgme.so.11 => not found\n").unwrap_err();
        assert_eq!(err.to_string(), "library libgpgme.so.11 not found");
    }
}
