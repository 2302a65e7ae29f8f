//! `crossplan calibrate`.

use clap::Args;

use crate::cli::GlobalArgs;

#[derive(Debug, Args)]
pub struct CalibrateArgs {}

pub async fn run(_args: CalibrateArgs, _global: &GlobalArgs) -> anyhow::Result<u8> {
    anyhow::bail!("crossplan calibrate is not built yet")
}
