//! `crossplan build`.

use clap::Args;

use crate::cli::GlobalArgs;

#[derive(Debug, Args)]
pub struct BuildArgs {}

pub async fn run(_args: BuildArgs, _global: &GlobalArgs) -> anyhow::Result<u8> {
    anyhow::bail!("crossplan build is not built yet")
}
