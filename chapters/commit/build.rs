//! Tells the chapter's suite which package it is compiled into, as `cfg(solution)`.
//!
//! The suite is shared by the reference package (`<chapter>-solution`,
//! library `<chapter>_solution`) and the learner's starter (`<chapter>`,
//! library `<chapter>`); with this cfg it calls the library under test by one
//! name, for the steps it checks by calling a function rather than by
//! running the binary.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(solution)");
    if std::env::var("CARGO_PKG_NAME").is_ok_and(|name| name.ends_with("-solution")) {
        println!("cargo::rustc-cfg=solution");
    }
}
