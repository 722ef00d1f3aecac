//! What Rebox borrows from Docker's command line that is no kernel mechanism.
//!
//! Docker names a container with 64 random hex digits and shows 12 of them,
//! or with a generated `adjective_scientist` name; it prints times as
//! "5 seconds ago" and sizes as `4.26MB`, in tables whose columns are three
//! spaces apart. A learner looks at these every day, so the runtimes print
//! them as Docker does; none of it is a kernel mechanism, so it lives here,
//! out of the chapters' way. Every chapter may use it; no chapter teaches it.

#![forbid(unsafe_code)]

pub mod clock;
pub mod names;
pub mod random;
pub mod table;
