//! `crossplan explain`.

use clap::Args;

use crate::cli::GlobalArgs;

#[derive(Debug, Args)]
pub struct ExplainArgs {}

pub async fn run(_args: ExplainArgs, _global: &GlobalArgs) -> anyhow::Result<u8> {
    anyhow::bail!("crossplan explain is not built yet")
}
