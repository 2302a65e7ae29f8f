//! One module per subcommand, each an async `run` that parses its `Args`
//! (defined in `crate::cli`), calls the engine, renders the answer, and
//! returns the process exit code (see `crate::exit`). Command files import
//! `cli`, `engine`, `render` and `exit`, never each other.

pub mod build;
pub mod calibrate;
pub mod completions;
pub mod doctor;
pub mod explain;
pub mod hybrid;
pub mod plan;
pub mod status;

use crate::cli::{Cli, Command};

pub async fn run(cli: Cli) -> anyhow::Result<u8> {
    match cli.command {
        Command::Status(args) => status::run(args, &cli.global).await,
        Command::Plan(args) => plan::run(args, &cli.global).await,
        Command::Hybrid(args) => hybrid::run(args, &cli.global).await,
        Command::Build(args) => build::run(args, &cli.global).await,
        Command::Calibrate(args) => calibrate::run(args, &cli.global).await,
        Command::Doctor(args) => doctor::run(args, &cli.global).await,
        Command::Explain(args) => explain::run(args, &cli.global).await,
        Command::Completions(args) => completions::completions(&args),
        Command::Man => completions::man(),
    }
}
