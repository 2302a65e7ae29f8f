//! `crossplan hybrid`: per derivation, keep what the native cache holds and
//! cross-build the expensive rest (docs/hybrid.md). Parses its arguments,
//! runs `engine::hybrid`, prints the table (or JSON), records the swaps with
//! `--write`, and fails when the instantiated hybrid does not build what was
//! predicted (or, with `--check`, when Nix's dry run disagrees).

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use crossplan_plan::format::{bytes, duration};
use crossplan_plan::hybrid::NativeCost;
use crossplan_plan::{CostModel, HostView, HybridFile, VariantEstimate};
use serde::Serialize;

use crate::cli::{GlobalArgs, HybridArgs};
use crate::engine::build::nix_options;
use crate::engine::hybrid::{HybridOutcome, HybridRequest, Origin, run as run_hybrid};
use crate::engine::plan::Planner;
use crate::engine::targets::default_flake_file;
use crate::engine::{EngineError, plural, progress};
use crate::{exit, render};

#[derive(Serialize)]
struct HybridJson<'a> {
    host: &'a HostView,
    model: &'a CostModel,
    #[serde(flatten)]
    outcome: &'a HybridOutcome,
    /// The hybrid file written (`--write`), and whether it changed.
    written: Option<Written<'a>>,
}

#[derive(Serialize)]
struct Written<'a> {
    path: &'a Path,
    changed: bool,
}

/// The hybrid file of `args`: `--hybrid-file`, else `nix/hybrid.json` of a
/// local flake.
pub fn hybrid_file(args: &HybridArgs) -> PathBuf {
    args.hybrid_file
        .clone()
        .unwrap_or_else(|| default_hybrid_file(&args.common.flake, &args.key))
}

/// `nix/hybrid.json` of the flake the spec comes from: the installable's
/// when the key is one (`path#attr`), else `--flake`'s.
fn default_hybrid_file(flake: &str, key: &str) -> PathBuf {
    let flake = if key.contains('#') { key } else { flake };
    default_flake_file(flake, "hybrid.json")
}

pub async fn run(args: HybridArgs, _global: &GlobalArgs) -> anyhow::Result<u8> {
    // Read the hybrid file first: a corrupt one fails before any slow work.
    let file_path = hybrid_file(&args);
    let mut file = if args.write {
        Some(HybridFile::load(&file_path)?)
    } else {
        None
    };
    let common = args.common.clone();
    let planner = Planner::open(&common).await?;
    let request = HybridRequest {
        flake: args.common.flake.clone(),
        key: args.key.clone(),
        swaps: args.swaps.clone(),
        suggest: args.suggest,
        check: args
            .check
            .then(|| nix_options(&args.common.cache, &planner.engine)),
        progress: progress::wanted(args.json),
    };
    let outcome = run_hybrid(&planner, &request).await?;

    let mut written = None;
    let refused = refusal(&outcome);
    if let Some(f) = file.as_mut()
        && refused.is_none()
    {
        if !same_swaps(f, &outcome.entry, &outcome.plan.swaps) {
            f.set(&outcome.entry, &outcome.plan.swaps, &reason(&outcome));
        }
        let changed = f.write_atomic(&file_path)?;
        written = Some(Written {
            path: &file_path,
            changed,
        });
    }

    let mut out = std::io::stdout().lock();
    if args.json {
        let json = HybridJson {
            host: &planner.host,
            model: &planner.model,
            outcome: &outcome,
            written: written.as_ref().map(|w| Written {
                path: w.path,
                changed: w.changed,
            }),
        };
        serde_json::to_writer_pretty(&mut out, &json).map_err(std::io::Error::from)?;
        writeln!(out)?;
    } else {
        write!(out, "{}", render_outcome(&outcome, &planner.host))?;
    }
    out.flush()?;
    if let Some(w) = &written {
        eprintln!(
            "{} {}",
            if w.changed { "wrote" } else { "unchanged:" },
            w.path.display()
        );
    } else if let Some(why) = refused
        && args.write
    {
        if why.starts_with("answer") {
            eprintln!("not written: {} (the {why})", file_path.display());
        } else {
            eprintln!("not written: {} (the hybrid {why})", file_path.display());
        }
    }

    if !outcome.verification.is_empty() {
        return Err(EngineError::Verification {
            key: outcome.key.clone(),
            drv: outcome.hybrid_drv.clone(),
            differences: outcome.verification.clone(),
        }
        .into());
    }
    if let Some(c) = &outcome.check
        && !c.differences.is_empty()
    {
        return Err(EngineError::CheckFailed {
            key: outcome.key.clone(),
            drv: outcome.hybrid_drv.clone(),
            differences: c.differences.clone(),
        }
        .into());
    }
    if !outcome.plan.hybrid.possible {
        return Err(EngineError::NoHybrid {
            key: outcome.key.clone(),
            system: outcome.spec.system.clone(),
            reason: outcome
                .plan
                .unbuildable
                .first()
                .cloned()
                .unwrap_or_else(|| "no swap set makes every native build possible".into()),
        }
        .into());
    }
    Ok(if outcome.lookup_errors > 0 {
        exit::PARTIAL
    } else {
        exit::OK
    })
}

/// Why `--write` must not record the outcome: the hybrid cannot be built
/// here, does not build what was predicted, or Nix's dry run (`--check`)
/// disagrees; `None` when it may.
fn refusal(o: &HybridOutcome) -> Option<&'static str> {
    refusal_of(
        o.plan.hybrid.possible,
        o.verification.is_empty(),
        o.check.as_ref().is_none_or(|c| c.differences.is_empty()),
    )
    .or((o.lookup_errors > 0).then_some(
        "answer is partial: lookups failed or a cache was unreachable, so the costs may be overstated",
    ))
}

fn refusal_of(possible: bool, verified: bool, checked: bool) -> Option<&'static str> {
    if !possible {
        Some("cannot be built here")
    } else if !verified {
        Some("does not build what was predicted")
    } else if !checked {
        Some("is not what Nix's dry run builds")
    } else {
        None
    }
}

/// Whether the file's entry for `entry` has exactly `swaps` already (its
/// reason, made of this host's estimates, is then kept: the file changes
/// only when the decision does).
fn same_swaps(file: &HybridFile, entry: &str, swaps: &[String]) -> bool {
    let sorted = |v: &[String]| {
        let mut v = v.to_vec();
        v.sort();
        v.dedup();
        v
    };
    file.swaps(entry)
        .is_some_and(|old| sorted(old) == sorted(swaps))
}

/// The one line the hybrid file records.
fn reason(o: &HybridOutcome) -> String {
    let p = &o.plan;
    if p.swaps.is_empty() {
        return format!(
            "no swap pays for itself: all emulated ~{}",
            duration(p.all_emulated.total_seconds)
        );
    }
    let mut s = format!(
        "hybrid ~{} vs all emulated ~{}",
        duration(p.hybrid.total_seconds),
        if p.all_emulated.possible {
            duration(p.all_emulated.total_seconds)
        } else {
            "impossible".into()
        }
    );
    if let Some(c) = &p.all_cross {
        let _ = write!(
            s,
            " and all cross ~{}",
            if c.possible {
                duration(c.total_seconds)
            } else {
                "impossible".into()
            }
        );
    }
    s
}

fn native_cell(n: &NativeCost) -> String {
    match n {
        NativeCost::Fetched => "fetched".into(),
        NativeCost::Native { seconds } => format!("{} (here)", duration(*seconds)),
        NativeCost::Emulated { seconds } => format!("{} (QEMU)", duration(*seconds)),
        NativeCost::Remote { seconds, machine } => {
            format!("{} ({machine})", duration(*seconds))
        }
        NativeCost::Impossible { .. } => "impossible".into(),
    }
}

fn total_row(label: &str, e: &VariantEstimate, host: &HostView) -> Vec<String> {
    let builds = render::builds_cell(e);
    let estimate = if e.possible {
        format!(
            "~{} (critical path {}, max-jobs {})",
            duration(e.total_seconds),
            duration(e.critical_path_seconds),
            host.max_jobs
        )
    } else {
        format!(
            "impossible: {}",
            e.impossible_reason.as_deref().unwrap_or("no builder")
        )
    };
    vec![
        label.into(),
        builds,
        e.fetches.to_string(),
        bytes(e.download_bytes),
        estimate,
    ]
}

/// The human answer: the candidates' table, the three totals, warnings,
/// what cannot be built, and the verification.
pub fn render_outcome(o: &HybridOutcome, host: &HostView) -> String {
    let p = &o.plan;
    let mut s = format!("{} (base {})\n\n", o.key, o.spec.base);
    let mut rows: Vec<Vec<String>> = vec![
        [
            "CANDIDATE",
            "FROM",
            "NATIVE",
            "CROSS",
            "REBUILT",
            "DECISION",
            "REASON",
        ]
        .map(String::from)
        .to_vec(),
    ];
    for (r, c) in p.rows.iter().zip(&o.candidates) {
        let from = match c.origin {
            Origin::Swap => "--swap",
            Origin::HybridFile => "file",
            Origin::Default => "default",
            Origin::Suggested => "suggested",
        };
        let attr = if c.attr_checked {
            r.attr.clone()
        } else {
            format!("{} ({}?)", r.name, r.attr)
        };
        let mut reason = r.reason.clone();
        if c.origin == Origin::Suggested && r.delta_seconds.is_some_and(|d| d < 0.0) {
            if c.attr_checked {
                let _ = write!(reason, "; name it with --swap {}", r.attr);
            } else {
                reason.push_str("; name its attribute path with --swap");
            }
        }
        rows.push(vec![
            attr,
            from.into(),
            native_cell(&r.native),
            format!(
                "{} ({})",
                duration(r.cross_seconds),
                plural(r.cross_builds, "build", "builds")
            ),
            r.dependents_rebuilt.to_string(),
            if r.swap { "swap" } else { "native" }.into(),
            reason,
        ]);
    }
    if p.rows.is_empty() {
        s.push_str("no candidates: name attributes with --swap ATTR\n");
    } else {
        s.push_str(&render::columns(&rows, &[4]));
    }
    s.push('\n');
    let mut totals: Vec<Vec<String>> = vec![
        ["VARIANT", "BUILDS", "FETCHES", "DOWNLOAD", "ESTIMATE"]
            .map(String::from)
            .to_vec(),
    ];
    totals.push(total_row("all emulated", &p.all_emulated, host));
    if let Some(c) = &p.all_cross {
        totals.push(total_row("all cross", c, host));
    }
    totals.push(total_row("hybrid *", &p.hybrid, host));
    s.push_str(&render::columns(&totals, &[1, 2, 3]));
    let named = o
        .candidates
        .iter()
        .filter(|c| c.origin != Origin::Suggested)
        .count();
    let _ = writeln!(
        s,
        "\nswaps: {} ({} over {})",
        if p.swaps.is_empty() {
            "none".to_string()
        } else {
            p.swaps.join(" ")
        },
        if p.method == "exact" {
            "every subset tried"
        } else {
            "greedy, largest saving first"
        },
        plural(named, "named candidate", "named candidates")
    );
    for n in &o.notes {
        let _ = writeln!(s, "note: {n}");
    }
    for w in &p.warnings {
        let _ = writeln!(s, "warning: {w}");
    }
    if !p.unbuildable.is_empty() {
        s.push_str("cannot be built here:\n");
        render::list(
            &mut s,
            p.unbuildable.iter().cloned(),
            p.unbuildable.len(),
            20,
        );
    }
    if o.verification.is_empty() {
        let cross = p.predicted_cross.len();
        let _ = writeln!(
            s,
            "verified: the hybrid {} builds {} ({} native, {} cross), as predicted{}",
            o.hybrid_drv,
            plural(o.hybrid_builds, "derivation", "derivations"),
            o.hybrid_builds.saturating_sub(cross),
            cross,
            if o.already_done > 0 {
                format!(
                    "; {} of the predicted rebuilds {} already valid here or in a cache (the estimates above still count {})",
                    o.already_done,
                    if o.already_done == 1 { "is" } else { "are" },
                    if o.already_done == 1 { "it" } else { "them" },
                )
            } else {
                String::new()
            }
        );
    } else {
        let _ = writeln!(
            s,
            "NOT verified: the hybrid {} differs from the prediction:",
            o.hybrid_drv
        );
        render::list(
            &mut s,
            o.verification.iter().cloned(),
            o.verification.len(),
            20,
        );
    }
    if let Some(c) = &o.check {
        if c.differences.is_empty() {
            let _ = writeln!(
                s,
                "checked: Nix's dry run agrees ({}, {}{})",
                plural(c.nix_builds, "build", "builds"),
                plural(c.nix_fetches, "fetch", "fetches"),
                if c.nix_download.is_empty() {
                    String::new()
                } else {
                    format!(", {} download", c.nix_download)
                }
            );
        } else {
            s.push_str("Nix's dry run disagrees:\n");
            render::list(
                &mut s,
                c.differences.iter().cloned(),
                c.differences.len(),
                20,
            );
        }
    }
    if o.lookup_errors > 0 {
        let _ = writeln!(
            s,
            "{} failed: the answer may overstate the work",
            plural(o.lookup_errors, "lookup", "lookups")
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Review of issue 11: `crossplan hybrid /other/flake#…hybridSpecs.board
    /// --write` wrote `./nix/hybrid.json` of the current directory (the
    /// default `--flake .`), not the file the spec's flake reads.
    /// Review of issue 11: `--write --check` recorded the swaps even when
    /// Nix's dry run disagreed (and then exited 1); docs/hybrid.md says
    /// nothing is written unless the hybrid verifies.
    #[test]
    fn write_only_what_verifies_and_checks() {
        assert_eq!(refusal_of(true, true, true), None);
        assert_eq!(refusal_of(false, true, true), Some("cannot be built here"));
        assert_eq!(
            refusal_of(true, false, true),
            Some("does not build what was predicted")
        );
        assert_eq!(
            refusal_of(true, true, false),
            Some("is not what Nix's dry run builds")
        );
    }

    #[test]
    fn an_installable_key_writes_its_own_flakes_file() {
        assert_eq!(
            default_hybrid_file(
                ".",
                "/other/flake#legacyPackages.x86_64-linux.hybridSpecs.board"
            ),
            Path::new("/other/flake/nix/hybrid.json")
        );
        assert_eq!(
            default_hybrid_file("/f", "board"),
            Path::new("/f/nix/hybrid.json")
        );
    }
}
