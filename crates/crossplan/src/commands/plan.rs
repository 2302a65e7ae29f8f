//! `crossplan plan`.

use clap::Args;

use crate::cli::GlobalArgs;

#[derive(Debug, Args)]
pub struct PlanArgs {}

pub async fn run(_args: PlanArgs, _global: &GlobalArgs) -> anyhow::Result<u8> {
    anyhow::bail!("crossplan plan is not built yet")
}
