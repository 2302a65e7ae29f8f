//! `crossplan plan`: for each target, compare its variants (cross, emulated,
//! purego) by estimated wall time on this host and choose one.
//!
//! The pieces: the flake's `lib.targets` (which variants exist), the status
//! engine (what each variant still needs), `crossplan-host` (what this host
//! can build and how fast), `crossplan-plan` (the cost model and the choice).

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Context as _;
use clap::Args;
use crossplan_host::history::HistoryDb;
use crossplan_host::nixconf::NixSettings;
use crossplan_missing::{Missing, Progress};
use crossplan_plan::format::{bytes, duration};
use crossplan_plan::{
    BuildNode, CostModel, Decision, HistoryTable, HostView, PlanOptions, StrategyFile,
    VariantEstimate, VariantWork, decide, estimate,
};
use serde::Serialize;

use crate::cli::GlobalArgs;
use crate::commands::status::{CacheArgs, Engine};
use crate::exit::{self, Hinted};

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

/// Arguments of `crossplan plan`.
#[derive(Debug, Args)]
#[command(after_long_help = COST_MODEL_HELP)]
pub struct PlanArgs {
    /// Targets to plan (names in the flake's `lib.targets`); default: all of them.
    #[arg(value_name = "TARGET")]
    pub targets: Vec<String>,
    #[command(flatten)]
    pub common: PlanCommon,
    /// Print every number as JSON instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Update the strategy file with the choices (atomically; other targets are kept).
    #[arg(long)]
    pub write: bool,
    /// The strategy file to update; default: `nix/strategy.json` of a local flake.
    #[arg(long, value_name = "FILE")]
    pub strategy_file: Option<PathBuf>,
    /// Compare these installables instead of targets, as LABEL=INSTALLABLE
    /// (e.g. `--variant cross=.#a --variant emulated=.#b`); repeatable.
    #[arg(
        long = "variant",
        value_name = "LABEL=INSTALLABLE",
        conflicts_with = "targets"
    )]
    pub variants: Vec<String>,
}

/// Options `plan` and `build` share.
#[derive(Debug, Clone, Args)]
pub struct PlanCommon {
    /// The flake whose `lib.targets` and `cup-<target>-<variant>` packages are planned.
    #[arg(long, value_name = "REF", default_value = ".")]
    pub flake: String,
    /// Let purego (CGO_ENABLED=0, pure-Go fallbacks) compete on time.
    #[arg(long)]
    pub allow_purego: bool,
    /// Cost model config (TOML, or JSON for *.json); default:
    /// $XDG_CONFIG_HOME/crossplan/config.toml when it exists.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Read host settings (system, extra-platforms, builders, max-jobs) from this
    /// nix.conf instead of asking `nix show-config`.
    #[arg(long, value_name = "FILE")]
    pub nix_conf: Option<PathBuf>,
    /// The history / calibration database; default: $XDG_STATE_HOME/crossplan/history.sqlite.
    #[arg(long, value_name = "FILE")]
    pub history: Option<PathBuf>,
    #[command(flatten)]
    pub cache: CacheArgs,
}

/// One variant to evaluate.
#[derive(Debug, Clone, Serialize)]
pub struct VariantSpec {
    pub label: String,
    pub installable: String,
}

/// One planned target: its variants' estimates, the decision, and the work graphs.
#[derive(Debug)]
pub struct TargetPlan {
    pub name: String,
    pub variants: Vec<VariantSpec>,
    pub estimates: Vec<VariantEstimate>,
    pub decision: Decision,
    pub missing: Vec<Missing>,
}

/// Host facts, model and history, loaded once.
pub struct Context {
    pub host: HostView,
    pub model: CostModel,
    pub model_file: Option<PathBuf>,
    pub history: HistoryTable,
    pub history_path: PathBuf,
    pub engine: Engine,
}

impl Context {
    /// Load everything `plan` needs.
    pub async fn load(common: &PlanCommon) -> anyhow::Result<Self> {
        let settings = match &common.nix_conf {
            Some(p) => NixSettings::from_file(p).map_err(host_err)?,
            None => tokio::task::spawn_blocking(NixSettings::from_nix)
                .await
                .context("reading Nix's settings")?
                .map_err(host_err)?,
        };
        let (model, model_file) =
            crossplan_host::config::load_cost_model(common.config.as_deref()).map_err(host_err)?;
        let history_path = common
            .history
            .clone()
            .unwrap_or_else(crossplan_host::paths::history_db);
        let (history, calibrated) = match HistoryDb::open(&history_path) {
            Ok(db) => {
                let t = db.table().map_err(host_err)?;
                let c = db
                    .calibrations()
                    .map_err(host_err)?
                    .into_iter()
                    .map(|(s, c)| (s, c.factor))
                    .collect();
                (t, c)
            }
            Err(e) => {
                tracing::warn!("no build history ({e}); using priors");
                (HistoryTable::default(), BTreeMap::new())
            }
        };
        let host = crossplan_host::view::host_view(&settings, calibrated).map_err(host_err)?;
        let engine = Engine::open(&common.cache).await?;
        Ok(Context {
            host,
            model,
            model_file,
            history,
            history_path,
            engine,
        })
    }

    /// Plan one set of variants.
    pub async fn plan(
        &self,
        name: &str,
        variants: Vec<VariantSpec>,
        options: &PlanOptions,
    ) -> anyhow::Result<TargetPlan> {
        let mut estimates = Vec::new();
        let mut missing = Vec::new();
        for v in &variants {
            let m = self
                .engine
                .missing(std::slice::from_ref(&v.installable), &Progress::default())
                .await
                .with_context(|| format!("computing what {} needs", v.installable))?;
            let work = work_from_missing(&m);
            estimates.push(estimate(
                &v.label,
                &work,
                &self.host,
                &self.model,
                &self.history,
            ));
            missing.push(m);
        }
        let decision = decide(&estimates, options);
        Ok(TargetPlan {
            name: name.to_string(),
            variants,
            estimates,
            decision,
            missing,
        })
    }
}

/// Wrap a host error with its hint.
pub fn host_err(e: crossplan_host::HostError) -> anyhow::Error {
    match e.hint() {
        Some(h) => Hinted::new(e.to_string(), h).into(),
        None => anyhow::Error::new(e),
    }
}

/// The cost model's input from the status engine's answer.
pub fn work_from_missing(m: &Missing) -> VariantWork {
    let mut w = VariantWork::from_keyed(m.build.iter().map(|(path, info)| {
        (
            path.as_str(),
            BuildNode {
                name: info.name.clone(),
                system: info.system.clone(),
                deps: Vec::new(),
                required_features: info.required_features.clone(),
                prefer_local_build: info.prefer_local_build,
            },
            info.input_drvs.iter().map(String::as_str).collect(),
        )
    }));
    w.download_bytes = m.download_bytes;
    w.nar_bytes = m.nar_bytes;
    w.fetch_count = m.fetch.len();
    w.unknown = m.unknown.iter().cloned().collect();
    w
}

/// `nix` with the experimental features a flake needs on Nix 2.8.
pub fn nix() -> Command {
    let mut c = Command::new("nix");
    c.args(["--extra-experimental-features", "nix-command flakes"]);
    c
}

/// The flake's `lib.targets`: target name → its entry (with `strategies`).
pub fn flake_targets(flake: &str) -> anyhow::Result<BTreeMap<String, serde_json::Value>> {
    let attr = format!("{flake}#lib.targets");
    let out = nix()
        .args(["eval", "--json", &attr])
        .output()
        .with_context(|| format!("running `nix eval --json {attr}`"))?;
    if !out.status.success() {
        return Err(Hinted::new(
            format!(
                "`nix eval --json {attr}` failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ),
            "pass --flake with the flake that defines lib.targets (default: the current directory)",
        )
        .into());
    }
    serde_json::from_slice(&out.stdout)
        .with_context(|| format!("{attr} is not a JSON object of targets"))
}

/// The variants of one target: `<flake>#cup-<t>-<strategy>` for each of its `strategies`.
pub fn target_variants(flake: &str, name: &str, entry: &serde_json::Value) -> Vec<VariantSpec> {
    let strategies: Vec<String> = entry
        .get("strategies")
        .and_then(|s| s.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_else(|| vec!["cross".into(), "emulated".into(), "purego".into()]);
    strategies
        .into_iter()
        .map(|s| VariantSpec {
            installable: format!("{flake}#cup-{name}-{s}"),
            label: s,
        })
        .collect()
}

/// Which targets to plan and their variants.
pub fn select_targets(
    flake: &str,
    wanted: &[String],
) -> anyhow::Result<Vec<(String, Vec<VariantSpec>)>> {
    let all = flake_targets(flake)?;
    let names: Vec<String> = if wanted.is_empty() {
        all.keys().cloned().collect()
    } else {
        for w in wanted {
            if !all.contains_key(w) {
                return Err(Hinted::new(
                    format!("unknown target `{w}` in {flake}#lib.targets"),
                    format!(
                        "known targets: {}",
                        all.keys().cloned().collect::<Vec<_>>().join(", ")
                    ),
                )
                .into());
            }
        }
        wanted.to_vec()
    };
    Ok(names
        .into_iter()
        .map(|n| {
            let v = target_variants(flake, &n, &all[&n]);
            (n, v)
        })
        .collect())
}

/// The default strategy file: `<flake dir>/nix/strategy.json` for a local flake.
pub fn default_strategy_file(flake: &str) -> PathBuf {
    let local = flake.strip_prefix("path:").unwrap_or(flake);
    let local = local.split(['?', '#']).next().unwrap_or(local);
    if local.contains(':') {
        PathBuf::from("nix/strategy.json")
    } else {
        Path::new(local).join("nix").join("strategy.json")
    }
}

#[derive(Serialize)]
struct PlanJson<'a> {
    host: &'a HostView,
    model: &'a CostModel,
    model_file: Option<&'a Path>,
    targets: BTreeMap<&'a str, TargetJson<'a>>,
}

#[derive(Serialize)]
struct TargetJson<'a> {
    choice: Option<&'a str>,
    reason: &'a str,
    purego_note: Option<&'a str>,
    variants: Vec<VariantJson<'a>>,
}

#[derive(Serialize)]
struct VariantJson<'a> {
    installable: &'a str,
    #[serde(flatten)]
    estimate: &'a VariantEstimate,
    lookup_errors: usize,
}

pub async fn run(args: PlanArgs, _global: &GlobalArgs) -> anyhow::Result<u8> {
    let options = PlanOptions {
        allow_purego: args.common.allow_purego,
    };
    let sets: Vec<(String, Vec<VariantSpec>)> = if args.variants.is_empty() {
        let flake = args.common.flake.clone();
        let targets = args.targets.clone();
        tokio::task::spawn_blocking(move || select_targets(&flake, &targets))
            .await
            .context("reading lib.targets")??
    } else {
        let mut v = Vec::new();
        for spec in &args.variants {
            let (label, installable) = spec.split_once('=').ok_or_else(|| {
                Hinted::new(
                    format!("--variant `{spec}` is not LABEL=INSTALLABLE"),
                    "write e.g. --variant cross=.#cup-riscv64-cross",
                )
            })?;
            v.push(VariantSpec {
                label: label.to_string(),
                installable: installable.to_string(),
            });
        }
        vec![("variants".to_string(), v)]
    };
    if args.write && !args.variants.is_empty() {
        return Err(Hinted::new(
            "--write needs targets, not --variant",
            "drop --write, or plan targets by name",
        )
        .into());
    }
    // Read the strategy file first: a corrupt one fails before any slow work.
    let strategy_path = args
        .strategy_file
        .clone()
        .unwrap_or_else(|| default_strategy_file(&args.common.flake));
    let mut strategy = if args.write {
        Some(StrategyFile::load(&strategy_path).map_err(|e| Hinted::new(e.to_string(), e.hint()))?)
    } else {
        None
    };

    let ctx = Context::load(&args.common).await?;
    let mut plans = Vec::new();
    for (name, variants) in sets {
        plans.push(ctx.plan(&name, variants, &options).await?);
    }
    let partial = plans
        .iter()
        .any(|p| p.missing.iter().any(|m| !m.errors.is_empty()));

    let mut out = std::io::stdout().lock();
    if args.json {
        let json = PlanJson {
            host: &ctx.host,
            model: &ctx.model,
            model_file: ctx.model_file.as_deref(),
            targets: plans
                .iter()
                .map(|p| {
                    (
                        p.name.as_str(),
                        TargetJson {
                            choice: p.decision.choice.as_deref(),
                            reason: &p.decision.reason,
                            purego_note: p.decision.purego_note.as_deref(),
                            variants: p
                                .variants
                                .iter()
                                .zip(&p.estimates)
                                .zip(&p.missing)
                                .map(|((v, e), m)| VariantJson {
                                    installable: &v.installable,
                                    estimate: e,
                                    lookup_errors: m.errors.len(),
                                })
                                .collect(),
                        },
                    )
                })
                .collect(),
        };
        serde_json::to_writer_pretty(&mut out, &json)?;
        writeln!(out)?;
    } else {
        write!(out, "{}", render_table(&plans))?;
    }

    if let Some(file) = strategy.as_mut() {
        for p in &plans {
            if let Some(choice) = &p.decision.choice {
                file.set(&p.name, choice, &p.decision.reason);
            }
        }
        let changed = file
            .write_atomic(&strategy_path)
            .map_err(|e| Hinted::new(e.to_string(), e.hint()))?;
        eprintln!(
            "{} {}",
            if changed { "wrote" } else { "unchanged:" },
            strategy_path.display()
        );
    }
    if let Some(p) = plans.iter().find(|p| p.decision.choice.is_none()) {
        return Err(Hinted::new(
            format!("no variant of {} can be built here: {}", p.name, p.decision.reason),
            "run `crossplan doctor` to see how to enable emulation or remote builders, or pass --allow-purego",
        )
        .into());
    }
    Ok(if partial { exit::PARTIAL } else { exit::OK })
}

/// The human table.
pub fn render_table(plans: &[TargetPlan]) -> String {
    let mut rows: Vec<[String; 7]> = vec![[
        "TARGET".into(),
        "CHOICE".into(),
        "VARIANT".into(),
        "BUILDS".into(),
        "FETCHES".into(),
        "DOWNLOAD".into(),
        "ESTIMATE".into(),
    ]];
    let mut notes: Vec<Option<String>> = vec![None];
    for p in plans {
        for (i, e) in p.estimates.iter().enumerate() {
            let est = if e.possible {
                format!("~{}", duration(e.total_seconds))
            } else {
                "impossible".into()
            };
            let mark = if p.decision.choice.as_deref() == Some(e.label.as_str()) {
                format!("{} *", e.label)
            } else {
                e.label.clone()
            };
            let builds = if e.emulated_builds > 0 {
                format!("{} ({} QEMU)", e.builds, e.emulated_builds)
            } else if e.remote_builds > 0 {
                format!("{} ({} remote)", e.builds, e.remote_builds)
            } else {
                e.builds.to_string()
            };
            rows.push([
                if i == 0 {
                    p.name.clone()
                } else {
                    String::new()
                },
                if i == 0 {
                    p.decision.choice.clone().unwrap_or_else(|| "-".into())
                } else {
                    String::new()
                },
                mark,
                builds,
                e.fetches.to_string(),
                bytes(e.download_bytes),
                est,
            ]);
            notes.push(None);
        }
        rows.push(Default::default());
        let mut reason = format!("  reason: {}", p.decision.reason);
        if let Some(n) = &p.decision.purego_note {
            reason.push_str(&format!("\n  note: {n}"));
        }
        notes.push(Some(reason));
    }
    let mut widths = [0usize; 7];
    for r in &rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut s = String::new();
    for (r, note) in rows.iter().zip(&notes) {
        if let Some(n) = note {
            s.push_str(n);
            s.push('\n');
            continue;
        }
        let mut line = String::new();
        for (i, (c, w)) in r.iter().zip(widths).enumerate() {
            if (3..6).contains(&i) {
                line.push_str(&format!("{c:>w$}  "));
            } else {
                line.push_str(&format!("{c:<w$}  "));
            }
        }
        s.push_str(line.trim_end());
        s.push('\n');
    }
    s
}
