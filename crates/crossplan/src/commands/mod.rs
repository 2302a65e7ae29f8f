//! One module per subcommand; each has its `Args` and an async `run` that
//! returns the process exit code (see `crate::exit`).

pub mod build;
pub mod calibrate;
pub mod doctor;
pub mod explain;
pub mod plan;
pub mod status;

use crate::cli::{Cli, Command};

pub async fn run(cli: Cli) -> anyhow::Result<u8> {
    match cli.command {
        Command::Status(args) => status::run(args, &cli.global).await,
        Command::Plan(args) => plan::run(args, &cli.global).await,
        Command::Build(args) => build::run(args, &cli.global).await,
        Command::Calibrate(args) => calibrate::run(args, &cli.global).await,
        Command::Doctor(args) => doctor::run(args, &cli.global).await,
        Command::Explain(args) => explain::run(args, &cli.global).await,
    }
}
