//! The option chapter 5 adds to `run`: `-v`, as many times as there are volumes.
//!
//! `RunArgs` flattens chapter 4's whole, as chapter 6's will flatten this one.

use clap::Args;

/// `bind-volume run [OPTIONS] IMAGE [COMMAND [ARGS...]]`.
#[derive(Debug, Clone, Args)]
// Chapters 3 and 4 already name clap's groups `RunArgs`.
#[group(skip)]
pub struct RunArgs {
    #[command(flatten)]
    pub base: setns_exec::args::RunArgs,

    /// Mount a volume: /CONTAINER/PATH (anonymous), NAME:/PATH (named) or /HOST/PATH:/PATH (bind), then :ro, :rw or :nocopy.
    #[arg(short = 'v', long = "volume", value_name = "VOLUME")]
    pub volumes: Vec<String>,
}
