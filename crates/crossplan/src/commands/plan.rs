//! `crossplan plan`: for each target, compare its variants (cross, emulated,
//! purego) by estimated wall time on this host and choose one.
//!
//! The pieces: the flake's `lib.targets` (which variants exist), the engine
//! (what each variant still needs, what this host can build and how fast),
//! `crossplan-plan` (the cost model and the choice).

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::Path;

use anyhow::Context as _;
use crossplan_plan::format::{bytes, duration};
use crossplan_plan::{CostModel, HostView, PlanOptions, StrategyFile, VariantEstimate};
use serde::Serialize;

use crate::cli::{GlobalArgs, PlanArgs, VariantSpec};
use crate::engine::EngineError;
use crate::engine::plan::{Planner, TargetPlan};
use crate::engine::progress;
use crate::engine::targets::{default_strategy_file, select_targets, variant_set};
use crate::{exit, render};

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
        allow_purego: args.allow_purego,
    };
    let sets: Vec<(String, Vec<VariantSpec>)> = if args.variants.is_empty() {
        let flake = args.common.flake.clone();
        let targets = args.targets.clone();
        tokio::task::spawn_blocking(move || select_targets(&flake, &targets))
            .await
            .context("reading lib.targets")??
    } else {
        variant_set(&args.variants)?
    };
    // Read the strategy file first: a corrupt one fails before any slow work.
    let strategy_path = args
        .strategy_file
        .clone()
        .unwrap_or_else(|| default_strategy_file(&args.common.flake));
    let mut strategy = if args.write {
        Some(StrategyFile::load(&strategy_path)?)
    } else {
        None
    };

    let mut planner = Planner::open(&args.common).await?;
    planner.progress = progress::wanted(args.json);
    let mut plans = Vec::new();
    for (name, variants) in sets {
        plans.push(planner.plan(&name, variants, &options).await?);
    }
    let partial = plans
        .iter()
        .any(|p| p.missing.iter().any(|m| !m.errors.is_empty()));

    let mut out = std::io::stdout().lock();
    if args.json {
        let json = PlanJson {
            host: &planner.host,
            model: &planner.model,
            model_file: planner.model_file.as_deref(),
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
        serde_json::to_writer_pretty(&mut out, &json).map_err(std::io::Error::from)?;
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
        let changed = file.write_atomic(&strategy_path)?;
        eprintln!(
            "{} {}",
            if changed { "wrote" } else { "unchanged:" },
            strategy_path.display()
        );
    }
    if let Some(p) = plans.iter().find(|p| p.decision.choice.is_none()) {
        return Err(EngineError::NoVariant {
            target: p.name.clone(),
            reason: p.decision.reason.clone(),
        }
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
            let builds = render::builds_cell(e);
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
