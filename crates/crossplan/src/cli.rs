//! Command-line definitions. Doc comments here are the `--help` text.

use clap::{Args, Parser, Subcommand};

use crate::commands;

/// Decide per target whether to build cross, emulated or purego, from what the
/// Nix binary caches hold — with reasons and numbers.
#[derive(Debug, Parser)]
#[command(name = "crossplan", version, after_help = crate::exit::HELP)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// More log output on stderr (-v info, -vv debug, -vvv trace); CROSSPLAN_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// What Nix would build, fetch, or not know how to get — with sizes and the
    /// substituter of each path. Agrees with `nix-store --realise --dry-run`, and
    /// checks signatures now, which Nix's dry run does not.
    #[command(after_help = crate::exit::HELP)]
    Status(commands::status::StatusArgs),
    /// For each target, compare its variants (cross, emulated, purego) and choose.
    #[command(after_help = crate::exit::HELP)]
    Plan(commands::plan::PlanArgs),
    /// Plan, then `nix build` the chosen variant with live progress.
    #[command(after_help = crate::exit::HELP)]
    Build(commands::build::BuildArgs),
    /// Measure this host's emulation factor per system, natively vs under QEMU.
    #[command(after_help = crate::exit::HELP)]
    Calibrate(commands::calibrate::CalibrateArgs),
    /// Check what emulated and remote builds need on this host, and say how to fix it.
    #[command(after_help = crate::exit::HELP)]
    Doctor(commands::doctor::DoctorArgs),
    /// Why a derivation must be built: the chain from the root to the first
    /// derivations that are not cached.
    #[command(after_help = crate::exit::HELP)]
    Explain(commands::explain::ExplainArgs),
}
