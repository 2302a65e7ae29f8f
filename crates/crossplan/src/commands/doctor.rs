//! `crossplan doctor`.

use clap::Args;

use crate::cli::GlobalArgs;

#[derive(Debug, Args)]
pub struct DoctorArgs {}

pub async fn run(_args: DoctorArgs, _global: &GlobalArgs) -> anyhow::Result<u8> {
    anyhow::bail!("crossplan doctor is not built yet")
}
