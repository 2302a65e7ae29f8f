//! `crossplan build`: plan, then `nix build` the chosen variant with live
//! progress (see `engine::build`), one target after another.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::Context as _;
use crossplan_plan::PlanOptions;
use crossplan_plan::format::duration;

use crate::cli::{BuildArgs, GlobalArgs};
use crate::engine::build::{Expected, nix_build_args, nix_options, run_nix_build, shell_line};
use crate::engine::plan::Planner;
use crate::engine::targets::select_targets;
use crate::engine::{EngineError, cancel, plural};
use crate::exit;

pub async fn run(args: BuildArgs, _global: &GlobalArgs) -> anyhow::Result<u8> {
    let flake = args.common.flake.clone();
    let targets = args.targets.clone();
    let sets = tokio::task::spawn_blocking(move || select_targets(&flake, &targets))
        .await
        .context("reading lib.targets")??;
    let planner = Planner::open(&args.common).await?;
    let options = PlanOptions {
        allow_purego: args.common.allow_purego,
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
        let installable = plan.variants[idx].installable.clone();
        let est = &plan.estimates[idx];
        eprintln!("{name}: {choice} ({})", plan.decision.reason);
        let nix_args = nix_build_args(
            &installable,
            &nix_options(&args.common.cache, &planner.engine),
        );
        if args.dry_run {
            println!(
                "{}   # {}, ~{}",
                shell_line(&nix_args),
                plural(est.builds, "build", "builds"),
                duration(est.total_seconds)
            );
            continue;
        }
        // drv path → (name, system) for recording
        let graph: BTreeMap<String, (String, String)> = plan.missing[idx]
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
            let rest: Vec<String> = names[i + 1..].to_vec();
            let target = name.clone();
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
        let result = tokio::task::spawn_blocking(move || {
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
        .context("nix build thread")??;
        if result != exit::OK {
            return Ok(result);
        }
    }
    Ok(exit::OK)
}
