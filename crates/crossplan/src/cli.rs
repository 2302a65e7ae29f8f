//! Command-line definitions: every clap type of every command lives here, so
//! commands share options without importing each other, and completions and
//! the man page are generated from one place. Doc comments are the `--help`
//! text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

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
    Status(StatusArgs),
    /// For each target, compare its variants (cross, emulated, purego) and choose.
    #[command(after_help = crate::exit::HELP)]
    Plan(PlanArgs),
    /// Per derivation: keep what the native cache holds, cross-build the
    /// expensive rest (the kernel first); verified against the instantiated hybrid.
    #[command(after_help = crate::exit::HELP)]
    Hybrid(HybridArgs),
    /// Plan, then `nix build` the chosen variant with live progress.
    #[command(after_help = crate::exit::HELP)]
    Build(BuildArgs),
    /// Measure this host's emulation factor per system, natively vs under QEMU.
    #[command(after_help = crate::exit::HELP)]
    Calibrate(CalibrateArgs),
    /// Check what emulated and remote builds need on this host, and say how to fix it.
    #[command(after_help = crate::exit::HELP)]
    Doctor(DoctorArgs),
    /// Why a derivation must be built: the chain from the root to the first
    /// derivations that are not cached.
    #[command(after_help = crate::exit::HELP)]
    Explain(ExplainArgs),
    /// Print a shell completion script, e.g.
    /// `crossplan completions bash > ~/.local/share/bash-completion/completions/crossplan`.
    Completions(CompletionsArgs),
    /// Print the man page (roff), e.g. `crossplan man > crossplan.1; man -l crossplan.1`.
    Man,
}

/// Arguments of `crossplan completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum, value_name = "SHELL")]
    pub shell: clap_complete::Shell,
}

/// Where Nix's settings come from.
#[derive(Debug, Clone, Default, Args)]
pub struct NixConfArgs {
    /// Read Nix's settings from this nix.conf (and its includes), over Nix's
    /// built-in defaults, instead of asking `nix show-config`; it then decides
    /// the caches and keys as well as the host facts.
    #[arg(long, value_name = "FILE")]
    pub nix_conf: Option<PathBuf>,
}

/// Where lookups go and how: Nix's settings unless overridden here.
#[derive(Debug, Clone, Args)]
pub struct CacheArgs {
    #[command(flatten)]
    pub nix: NixConfArgs,
    /// Binary caches to ask, space-separated as in nix.conf (`URL?priority=N&trusted=1`);
    /// default: Nix's `substituters`.
    #[arg(long, value_name = "URLS")]
    pub substituters: Option<String>,
    /// Keys whose signatures are accepted, space-separated `name:base64`;
    /// default: Nix's `trusted-public-keys`.
    #[arg(long, value_name = "KEYS")]
    pub trusted_public_keys: Option<String>,
    /// Whether narinfo records must carry a trusted signature; default: Nix's `require-sigs`.
    #[arg(long, value_name = "BOOL")]
    pub require_sigs: Option<bool>,
    /// Narinfo lookups in flight at most (at least 1); fewer when the caches
    /// answer within a few milliseconds (the window shrinks to round trip ÷ 20 µs,
    /// at least 32), or when the open-file limit cannot be raised far enough
    /// (said with -v).
    #[arg(
        long,
        value_name = "N",
        default_value_t = crossplan_cache::DEFAULT_JOBS as u64,
        value_parser = clap::value_parser!(u64).range(1..)
    )]
    pub jobs: u64,
    /// Time limit of one HTTP request, in seconds (at least 1).
    #[arg(
        long,
        value_name = "SECS",
        default_value_t = crossplan_cache::DEFAULT_TIMEOUT.as_secs(),
        value_parser = clap::value_parser!(u64).range(1..)
    )]
    pub timeout: u64,
    /// Ignore the local narinfo and closure caches (results are still
    /// stored in them).
    #[arg(long)]
    pub refresh: bool,
    /// Do not read or write the local narinfo and closure caches at all.
    #[arg(long)]
    pub no_disk_cache: bool,
    /// Stop with an error when a binary cache cannot be reached or is not a
    /// binary cache (no nix-cache-info over HTTP). By default crossplan does
    /// what Nix does: warn, treat that cache as absent, carry on, and exit 3
    /// so scripts can tell.
    #[arg(long)]
    pub strict_caches: bool,
}

/// Arguments of `crossplan status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Derivations (`/nix/store/…-x.drv`, optionally `^out,dev`), store paths, or
    /// flake installables (`.#cup-riscv64`, `path#attr`), instantiated with `nix eval`.
    #[arg(required = true, value_name = "DRV_OR_INSTALLABLE")]
    pub roots: Vec<String>,
    /// Print one JSON object instead of the summary.
    #[arg(long)]
    pub json: bool,
    /// How many of the heaviest builds the summary lists.
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub top: usize,
    #[command(flatten)]
    pub cache: CacheArgs,
}

/// The cost model, shown by `crossplan plan --help`.
pub const COST_MODEL_HELP: &str = "Cost model (docs/cost-model.md):
  build work   per derivation: this host's history (median of the last 5 builds of the
               package, by name without version, system, emulated or not), else a prior
               by package name (gcc 30 min, rustc 60 min, llvm 50 min, glibc 10 min,
               go 10 min, ..., unknown 1 min), + 5 s overhead per derivation
  routing      as Nix: a remote builder for the system (builders / /etc/nix/machines)
               takes it (work / speed factor); else this host if the system is in
               `system` + `extra-platforms` (under QEMU via binfmt: work x emulation
               factor, from `crossplan calibrate`, else a documented default:
               aarch64 9x, riscv64 15.6x, armv6l/armv7l 7x, others 10x); else impossible
  wall time    max(critical path, local work / max-jobs, remote work / its max jobs)
               + download bytes / bandwidth (default 100 Mbit/s)
  choice       the cheapest possible variant; purego (no cgo) only with --allow-purego
               or when it is the only possible one
  config       $XDG_CONFIG_HOME/crossplan/config.toml or --config FILE (TOML, or JSON
               for *.json): bandwidth-mbit, default-build-seconds,
               per-build-overhead-seconds, host-slowness, [priors], [emulation-factors]";

/// One variant to evaluate: `LABEL=INSTALLABLE`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct VariantSpec {
    pub label: String,
    pub installable: String,
}

/// Parse `--variant LABEL=INSTALLABLE` (a usage error otherwise).
pub fn parse_variant(spec: &str) -> Result<VariantSpec, String> {
    match spec.split_once('=') {
        Some((label, installable)) if !label.is_empty() && !installable.is_empty() => {
            Ok(VariantSpec {
                label: label.to_string(),
                installable: installable.to_string(),
            })
        }
        _ => Err(format!(
            "`{spec}` is not LABEL=INSTALLABLE (e.g. --variant cross=.#cup-riscv64-cross)"
        )),
    }
}

/// Arguments of `crossplan plan`.
#[derive(Debug, Args)]
#[command(after_long_help = COST_MODEL_HELP)]
pub struct PlanArgs {
    /// Targets to plan (names in the flake's `lib.targets`); default: all of them.
    #[arg(value_name = "TARGET")]
    pub targets: Vec<String>,
    #[command(flatten)]
    pub common: PlanCommon,
    /// Let purego (CGO_ENABLED=0, pure-Go fallbacks) compete on time.
    #[arg(long)]
    pub allow_purego: bool,
    /// Print every number as JSON instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Update the strategy file with the choices (atomically; other targets are kept).
    #[arg(long, conflicts_with = "variants")]
    pub write: bool,
    /// The strategy file to update; default: `nix/strategy.json` of a local flake.
    #[arg(long, value_name = "FILE")]
    pub strategy_file: Option<PathBuf>,
    /// Compare these installables instead of targets, as LABEL=INSTALLABLE
    /// (e.g. `--variant cross=.#a --variant emulated=.#b`); repeatable, each
    /// label once.
    #[arg(
        long = "variant",
        value_name = "LABEL=INSTALLABLE",
        conflicts_with = "targets",
        value_parser = parse_variant
    )]
    pub variants: Vec<VariantSpec>,
}

/// Options `plan`, `build` and `hybrid` share.
#[derive(Debug, Clone, Args)]
pub struct PlanCommon {
    /// The flake whose `lib.targets` and `cup-<target>-<variant>` packages are
    /// planned (for `hybrid`, whose `legacyPackages.<system>.hybridSpecs`).
    #[arg(long, value_name = "REF", default_value = ".")]
    pub flake: String,
    /// Cost model config (TOML, or JSON for *.json); default:
    /// $XDG_CONFIG_HOME/crossplan/config.toml when it exists.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The history / calibration database; default: $XDG_STATE_HOME/crossplan/history.sqlite.
    #[arg(long, value_name = "FILE")]
    pub history: Option<PathBuf>,
    #[command(flatten)]
    pub cache: CacheArgs,
}

/// Arguments of `crossplan build`.
#[derive(Debug, Args)]
pub struct BuildArgs {
    /// Targets to build (names in the flake's `lib.targets`).
    #[arg(required_unless_present = "hybrid", value_name = "TARGET")]
    pub targets: Vec<String>,
    /// Build the hybrid of a board configuration or target instead (its
    /// spec's `built`: the swaps nix/hybrid.json records; see `crossplan hybrid`).
    #[arg(long, value_name = "CONFIG_OR_TARGET", conflicts_with = "targets")]
    pub hybrid: Option<String>,
    #[command(flatten)]
    pub common: PlanCommon,
    /// Let purego (CGO_ENABLED=0, pure-Go fallbacks) compete on time.
    #[arg(long, conflicts_with = "hybrid")]
    pub allow_purego: bool,
    /// Plan and print the exact `nix build` command, but do not run it.
    #[arg(long)]
    pub dry_run: bool,
}

/// Arguments of `crossplan hybrid`.
#[derive(Debug, Args)]
#[command(after_long_help = COST_MODEL_HELP)]
pub struct HybridArgs {
    /// A board configuration or target the flake has a hybrid spec for
    /// (`legacyPackages.<system>.hybridSpecs.<key>`: visionfive2,
    /// raspberrypi4, riscv64, …), or an installable naming a spec (`path#attr`).
    #[arg(value_name = "CONFIG_OR_TARGET")]
    pub key: String,
    /// An attribute path of the native package set to consider swapping for
    /// its cross-built counterpart (repeatable), besides the hybrid file's
    /// swaps and the spec's defaults (a board's kernel).
    #[arg(long = "swap", value_name = "ATTR")]
    pub swaps: Vec<String>,
    /// Print every number as JSON instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Record the chosen swaps in the hybrid file (atomically; other entries
    /// are kept; an unchanged file is not touched).
    #[arg(long)]
    pub write: bool,
    /// The hybrid file to update; default: `nix/hybrid.json` of a local flake
    /// (the installable's, for a `path#attr` key).
    #[arg(long, value_name = "FILE")]
    pub hybrid_file: Option<PathBuf>,
    /// Also run Nix's dry run of the hybrid and compare it with crossplan's.
    #[arg(long)]
    pub check: bool,
    /// How many more candidates to suggest: the heaviest native builds
    /// with a cross counterpart of the same name (0: none). Suggestions are
    /// costed, never swapped until named with --swap.
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub suggest: usize,
    #[command(flatten)]
    pub common: PlanCommon,
}

/// Arguments of `crossplan calibrate`.
#[derive(Debug, Args)]
pub struct CalibrateArgs {
    /// Systems to measure (`riscv64-linux`, …); default: riscv64-linux and aarch64-linux.
    #[arg(value_name = "SYSTEM")]
    pub systems: Vec<String>,
    /// Use BINARY as the workload for SYSTEM instead of the built-in Go one;
    /// give one for this host's own system too (e.g. `x86_64-linux=out/cup-x86_64`).
    #[arg(long = "workload", value_name = "SYSTEM=BINARY")]
    pub workloads: Vec<String>,
    /// Arguments passed to every --workload binary (e.g. `selftest`); repeatable.
    #[arg(long = "workload-arg", value_name = "ARG", allow_hyphen_values = true)]
    pub workload_args: Vec<String>,
    /// Measurements per side; the median is kept.
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub repeats: usize,
    /// Rounds of the built-in workload's compute part (each ~25 ms natively on a 2020s x86-64).
    #[arg(long, value_name = "N", default_value_t = 40)]
    pub rounds: u32,
    /// binfmt_misc directory (to run through a registration when there is one).
    #[arg(long, value_name = "DIR", default_value = "/proc/sys/fs/binfmt_misc")]
    pub binfmt_dir: PathBuf,
    /// Where the built-in workload is built; default: $XDG_CACHE_HOME/crossplan/workload.
    #[arg(long, value_name = "DIR")]
    pub work_dir: Option<PathBuf>,
    /// The database the factors go to; default: $XDG_STATE_HOME/crossplan/history.sqlite.
    #[arg(long, value_name = "FILE")]
    pub history: Option<PathBuf>,
    /// Measure and print, but store nothing.
    #[arg(long)]
    pub no_store: bool,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `crossplan doctor`.
#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// Systems to check (default: every emulated target system of the target table).
    #[arg(value_name = "SYSTEM")]
    pub systems: Vec<String>,
    /// The target table whose `system`s are checked when none are given.
    #[arg(long, value_name = "FILE", default_value = "nix/targets.json")]
    pub targets_file: PathBuf,
    /// binfmt_misc directory.
    #[arg(long, value_name = "DIR", default_value = "/proc/sys/fs/binfmt_misc")]
    pub binfmt_dir: PathBuf,
    #[command(flatten)]
    pub nix: NixConfArgs,
    /// Read remote builders from this machines file instead of the `builders` setting.
    #[arg(long, value_name = "FILE")]
    pub machines: Option<PathBuf>,
    /// Skip the substituter checks (no network).
    #[arg(long)]
    pub offline: bool,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `crossplan explain`.
#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// A derivation (`/nix/store/…-x.drv`) or installable (`.#cup-riscv64-emulated`).
    #[arg(value_name = "DRV_OR_INSTALLABLE")]
    pub root: String,
    /// Print the build set as a Graphviz digraph (leaves filled) instead.
    #[arg(long)]
    pub dot: bool,
    #[command(flatten)]
    pub cache: CacheArgs,
}
