//! `crossplan status`.

use clap::Args;

use crate::cli::GlobalArgs;

#[derive(Debug, Args)]
pub struct StatusArgs {}

pub async fn run(_args: StatusArgs, _global: &GlobalArgs) -> anyhow::Result<u8> {
    anyhow::bail!("crossplan status is not built yet")
}
