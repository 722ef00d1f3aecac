//! The commands besides `run`: `ps`, `rm`, `images` and `image load|import|ls|rm`.

use anyhow::Result;

use ns_isolation::trace;
use union_rootfs::store::Store;
use union_rootfs::{catalog, containers, image, import, run};

use crate::cli::{Cli, Command, ImageCommand};

/// Runs the subcommand and returns the exit code.
pub fn main(cli: Cli) -> Result<i32> {
    if cli.trace {
        trace::enable();
    }
    let store = Store::open(&cli.root)?;
    match cli.command {
        Command::Run(args) => return run::run(&store, &args),
        Command::Ps(args) => print!("{}", catalog::ps_table(&store, args.all)?),
        Command::Rm(args) => {
            for container in &args.containers {
                containers::remove(&store, container, args.force)?;
                println!("{container}");
            }
        }
        Command::Images | Command::Image(ImageCommand::Ls) => print!("{}", catalog::images_table(&store)?),
        Command::Image(ImageCommand::Load { input }) => {
            for line in image::load(&store, &input)? {
                println!("{line}");
            }
        }
        Command::Image(ImageCommand::Import { change, source, name }) => {
            println!("{}", import::import(&store, &source, &name, &change)?);
        }
        Command::Image(ImageCommand::Rm { images }) => {
            for reference in &images {
                for line in image::remove(&store, reference, |id| containers::using_image(&store, id))? {
                    println!("{line}");
                }
            }
        }
    }
    Ok(0)
}
