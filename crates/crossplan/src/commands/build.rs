//! `crossplan build`: plan, then `nix build` the chosen variant with live
//! progress (see `engine::build`), one target after another; or, with
//! `--hybrid KEY`, the hybrid of a board configuration or target (the swaps
//! its hybrid file records).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::Context as _;
use crossplan_missing::{Missing, Progress};
use crossplan_plan::format::duration;
use crossplan_plan::{PlanOptions, VariantEstimate, estimate};

use crate::cli::{BuildArgs, GlobalArgs};
use crate::engine::build::{Expected, nix_build_args, nix_options, run_nix_build, shell_line};
use crate::engine::hybrid::built_installable;
use crate::engine::hybrid_spec::known_keys;
use crate::engine::plan::{Planner, work_from_missing};
use crate::engine::progress::{self, ProgressLine};
use crate::engine::targets::select_targets;
use crate::engine::{EngineError, cancel, plural};
use crate::exit;

pub async fn run(args: BuildArgs, _global: &GlobalArgs) -> anyhow::Result<u8> {
    if let Some(key) = &args.hybrid {
        return build_hybrid(&args, key).await;
    }
    let flake = args.common.flake.clone();
    let targets = args.targets.clone();
    let sets = tokio::task::spawn_blocking(move || select_targets(&flake, &targets))
        .await
        .context("reading lib.targets")??;
    let planner = Planner::open(&args.common).await?;
    let options = PlanOptions {
        allow_purego: args.allow_purego,
    };
    let names: Vec<String> = sets.iter().map(|(n, _)| n.clone()).collect();
    for (i, (name, variants)) in sets.into_iter().enumerate() {
        let plan = planner.plan(&name, variants, &options).await?;
        let Some(choice) = plan.decision.choice.clone() else {
            return Err(EngineError::NoVariant {
                target: name,
                reason: plan.decision.reason,
            }
            .into());
        };
        let idx = plan
            .variants
            .iter()
            .position(|v| v.label == choice)
            .context("chosen variant")?;
        eprintln!("{name}: {choice} ({})", plan.decision.reason);
        let result = build_one(
            &planner,
            &args,
            &name,
            &plan.variants[idx].installable,
            &plan.missing[idx],
            &plan.estimates[idx],
            &names[i + 1..],
        )
        .await?;
        if result != exit::OK {
            return Ok(result);
        }
    }
    Ok(exit::OK)
}

/// `--hybrid KEY`: walk the spec's `built`, then build it.
async fn build_hybrid(args: &BuildArgs, key: &str) -> anyhow::Result<u8> {
    let planner = Planner::open(&args.common).await?;
    let installable = built_installable(&args.common.flake, &planner.host.system, key);
    let p = Arc::new(Progress::default());
    let line = ProgressLine::start(p.clone(), progress::wanted(false), key);
    let m = planner
        .engine
        .missing(std::slice::from_ref(&installable), &p)
        .await;
    line.finish();
    let m = match m {
        Ok(m) => m,
        Err(err) => {
            // An unknown key: say which keys the flake has.
            let (flake, sys) = (args.common.flake.clone(), planner.host.system.clone());
            let known = if key.contains('#') {
                Vec::new()
            } else {
                tokio::task::spawn_blocking(move || known_keys(&flake, &sys))
                    .await
                    .unwrap_or_default()
            };
            return Err(if !known.is_empty() && !known.iter().any(|k| k == key) {
                err.context(format!(
                    "{} has no hybrid spec `{key}`; it has: {}",
                    args.common.flake,
                    known.join(", ")
                ))
            } else {
                err.context(format!("computing what {installable} needs"))
            });
        }
    };
    let est = estimate(
        "hybrid",
        &work_from_missing(&m),
        &planner.host,
        &planner.model,
        &planner.history,
    );
    if !est.possible {
        let system = m
            .build
            .values()
            .map(|b| b.system.as_str())
            .find(|s| *s != planner.host.system)
            .unwrap_or(planner.host.system.as_str());
        return Err(EngineError::NoHybrid {
            key: key.to_owned(),
            system: system.to_owned(),
            reason: est
                .impossible_reason
                .clone()
                .unwrap_or_else(|| "no builder".into()),
        }
        .into());
    }
    eprintln!("{key}: hybrid (the swaps of its hybrid file entry)");
    build_one(&planner, args, key, &installable, &m, &est, &[]).await
}

/// Build one installable with the progress display, recording build times.
async fn build_one(
    planner: &Planner,
    args: &BuildArgs,
    name: &str,
    installable: &str,
    missing: &Missing,
    est: &VariantEstimate,
    rest: &[String],
) -> anyhow::Result<u8> {
    let nix_args = nix_build_args(
        installable,
        &nix_options(&args.common.cache, &planner.engine),
    );
    if args.dry_run {
        println!(
            "{}   # {}, ~{}",
            shell_line(&nix_args),
            plural(est.builds, "build", "builds"),
            duration(est.total_seconds)
        );
        return Ok(exit::OK);
    }
    // drv path → (name, system) for recording
    let graph: BTreeMap<String, (String, String)> = missing
        .build
        .iter()
        .map(|(p, b)| (p.clone(), (b.name.clone(), b.system.clone())))
        .collect();
    let expected = Expected {
        builds: est.builds,
        fetches: est.fetches,
        seconds: est.total_seconds,
    };
    let done = Arc::new(AtomicUsize::new(0));
    {
        let done = done.clone();
        let total = est.builds;
        let rest: Vec<String> = rest.to_vec();
        let target = name.to_owned();
        cancel::set_undone(move || {
            let mut s = format!(
                "building {target} was stopped after {} of {}",
                done.load(Ordering::Relaxed),
                plural(total, "build", "builds")
            );
            if !rest.is_empty() {
                s.push_str(&format!("; not started: {}", rest.join(", ")));
            }
            s
        });
    }
    let history_path = planner.history_path.clone();
    let host = planner.host.clone();
    let installable = installable.to_owned();
    tokio::task::spawn_blocking(move || {
        run_nix_build(
            &installable,
            &nix_args,
            &graph,
            &expected,
            &history_path,
            &host,
            &done,
        )
    })
    .await
    .context("nix build thread")?
}
