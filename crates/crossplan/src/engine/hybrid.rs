//! Glue for `crossplan hybrid` (issue 11): the status engine's answers in
//! the shapes [`crossplan_plan::hybrid`] decides on.
//!
//! - [`native_graph`]: the base's closure, each derivation with its own
//!   cache status ([`crossplan_missing::closure_status`]), as a
//!   [`NativeGraph`];
//! - [`cross_work`]: the walk's answer for a swapped attribute's cross
//!   counterpart ([`crossplan_missing::query_missing`]) as a [`CrossWork`].
//!
//! - [`differences`]: the verification — what the walk of the instantiated
//!   hybrid builds against the plan's prediction.
//!
//! The tests below check the whole chain against Nix: the plan's
//! prediction for a swap set must be what Nix's dry run of the instantiated
//! hybrid builds.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use anyhow::Context as _;
use crossplan_missing::cache::CacheLookups;
use crossplan_missing::{ClosureStatus, Missing, Progress, closure_status};
use crossplan_plan::hybrid::{
    Candidate, CrossWork, Fetch, HybridPlan, NativeGraph, NativeNode, plan, suggestions,
};
use crossplan_plan::hybrid_file::is_attr_path;
use crossplan_plan::{BuildNode, estimate};
use crossplan_store::dryrun::{self, Answer, DryRun};
use crossplan_store::store::LocalStore;
use serde::Serialize;

use super::EngineError;
use super::cancel::GroupChild;
use super::hybrid_spec::{
    EvaluatedSpec, HybridEval, by_attr, entry_name, eval_json, hybrid_apply, known_keys,
    spec_apply, spec_installable,
};
use super::plan::{Planner, build_node, work_from_missing};
use super::progress::ProgressLine;

/// The native graph of a closure's status: every derivation with its name,
/// system, features, `preferLocalBuild`, inputs, whether the caches (or the
/// store) hold it, and what substituting it fetches, with sizes.
pub fn native_graph(status: &ClosureStatus, store: &LocalStore) -> NativeGraph {
    let nodes = status
        .nodes
        .iter()
        .map(|n| NativeNode {
            drv: store.render(&n.drv),
            build: BuildNode {
                name: n.info.name.clone(),
                system: n.info.system.clone(),
                deps: Vec::new(),
                required_features: n.info.required_features.clone(),
                prefer_local_build: n.info.prefer_local_build,
            },
            inputs: n.inputs.clone(),
            cached: n.cached,
            fetches: n
                .fetches
                .iter()
                .filter_map(|&i| status.paths.get(i))
                .map(|(p, f)| Fetch {
                    path: store.render(p),
                    download_bytes: f.file_size,
                    nar_bytes: f.nar_size,
                })
                .collect(),
        })
        .collect();
    NativeGraph {
        nodes,
        roots: status.roots.clone(),
    }
}

/// The cross work of one swap: every derivation the walk of its cross
/// counterpart builds (keyed by `.drv`, with the edges to its inputs that
/// are built too), what it fetches, and what nobody provides. `top` is the
/// cross derivation that replaces the native one.
pub fn cross_work(m: &Missing, top: &str) -> CrossWork {
    CrossWork {
        builds: m
            .build
            .iter()
            .map(|(drv, info)| (drv.clone(), build_node(info), info.input_drvs.clone()))
            .collect(),
        top: top.to_owned(),
        fetches: m
            .fetch
            .iter()
            .map(|(p, f)| Fetch {
                path: p.clone(),
                download_bytes: f.file_size,
                nar_bytes: f.nar_size,
            })
            .collect(),
        unknown: m.unknown.iter().cloned().collect(),
    }
}

/// How the builds of the instantiated hybrid (`built`, the walk's answer
/// for it) differ from the prediction: native builds by name and count
/// (their `.drv` paths change with the swap), cross builds by exact path.
/// Empty when they agree. A build that is not a predicted cross build counts
/// as native, so an unexpected cross build shows up as an unpredicted name.
///
/// `done`: by name, the derivations of the hybrid's closure that are not in
/// the base's (re-hashed by the swaps) and that the hybrid does not build —
/// their outputs are valid here or substitutable (a hybrid built before).
/// The plan cannot know those paths before instantiating, so it predicts
/// them as rebuilds; up to that many missing builds of a name are no
/// difference. A dependent the swap did not re-hash is still one.
pub fn differences(
    predicted_native: &BTreeMap<String, usize>,
    predicted_cross: &BTreeSet<String>,
    built: &Missing,
    done: &BTreeMap<String, usize>,
) -> Vec<String> {
    let mut native: BTreeMap<&str, usize> = BTreeMap::new();
    for (drv, info) in &built.build {
        if !predicted_cross.contains(drv) {
            *native.entry(info.name.as_str()).or_insert(0) += 1;
        }
    }
    let mut out = Vec::new();
    let names: BTreeSet<&str> = native
        .keys()
        .copied()
        .chain(predicted_native.keys().map(String::as_str))
        .collect();
    for name in names {
        let want = predicted_native.get(name).copied().unwrap_or(0);
        let got = native.get(name).copied().unwrap_or(0);
        let excused = done.get(name).copied().unwrap_or(0);
        if !(got..=got + excused).contains(&want) {
            out.push(format!(
                "{name}: predicted {want} build{}, the hybrid builds {got}",
                if want == 1 { "" } else { "s" }
            ));
        }
    }
    for drv in predicted_cross {
        if !built.build.contains_key(drv) {
            out.push(format!(
                "{drv}: predicted as a cross build, but the hybrid does not build it"
            ));
        }
    }
    out
}

/// What `crossplan hybrid` (and `build --hybrid`) was asked.
#[derive(Debug, Clone)]
pub struct HybridRequest {
    pub flake: String,
    /// A key of the flake's `hybridSpecs`, or an installable naming a spec.
    pub key: String,
    /// `--swap`, in order.
    pub swaps: Vec<String>,
    /// How many candidates to suggest.
    pub suggest: usize,
    /// Also ask Nix's dry run of the hybrid (the `nix` options to use).
    pub check: Option<Vec<(&'static str, String)>>,
    /// Draw progress lines.
    pub progress: bool,
}

/// Where a candidate came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Origin {
    /// `--swap`.
    Swap,
    /// The hybrid file's entry for the key.
    HybridFile,
    /// The spec's default candidates (a board's kernel).
    Default,
    /// Suggested by crossplan.
    Suggested,
}

/// A candidate with its derivations, as the command shows it.
#[derive(Debug, Clone, Serialize)]
pub struct CandidateSource {
    pub attr: String,
    pub origin: Origin,
    pub native_drv: String,
    pub cross_drv: String,
    /// For a suggestion: whether `attr` (its package name) is the
    /// attribute of that derivation in the native set. Named ones: true.
    pub attr_checked: bool,
}

/// Nix's dry run of the hybrid, compared with crossplan's walk of it.
#[derive(Debug, Clone, Serialize)]
pub struct CheckOutcome {
    pub nix_builds: usize,
    pub nix_fetches: usize,
    pub nix_download: String,
    pub differences: Vec<String>,
}

/// The whole answer of `crossplan hybrid`.
#[derive(Debug, Clone, Serialize)]
pub struct HybridOutcome {
    pub key: String,
    /// The hybrid file entry name of the key.
    pub entry: String,
    pub installable: String,
    pub spec: EvaluatedSpec,
    pub candidates: Vec<CandidateSource>,
    pub plan: HybridPlan,
    /// The instantiated hybrid of the chosen swaps.
    pub hybrid_drv: String,
    /// What crossplan's walk of `hybrid_drv` builds: native (by name and
    /// count) and cross.
    pub hybrid_builds: usize,
    /// Verification: how the walk of the hybrid differs from the
    /// prediction (empty: it matches).
    pub verification: Vec<String>,
    /// Predicted native rebuilds that the hybrid does not build because its
    /// re-hashed derivation is already valid here or substitutable (a
    /// hybrid built before); the plan's numbers still count them.
    pub already_done: usize,
    pub check: Option<CheckOutcome>,
    /// Candidates left out, and why.
    pub notes: Vec<String>,
    /// Lookups that failed for good, over every walk.
    pub lookup_errors: usize,
}

/// Add `attr` to `named` unless it is there already.
fn push_named(named: &mut Vec<(String, Origin)>, attr: &str, origin: Origin) {
    if !named.iter().any(|(a, _)| a == attr) {
        named.push((attr.to_owned(), origin));
    }
}

/// Evaluate the spec of `req.key`; an unknown key lists the known ones.
async fn evaluate_spec(
    req: &HybridRequest,
    system: &str,
) -> anyhow::Result<(String, EvaluatedSpec)> {
    let installable = spec_installable(&req.flake, system, &req.key);
    let apply = spec_apply(&req.swaps);
    let inst = installable.clone();
    let evaluated = tokio::task::spawn_blocking(move || eval_json::<EvaluatedSpec>(&inst, &apply))
        .await
        .context("nix eval thread")?;
    match evaluated {
        Ok(spec) => Ok((installable, spec)),
        Err(err) if !req.key.contains('#') => {
            let (flake, sys) = (req.flake.clone(), system.to_owned());
            let known = tokio::task::spawn_blocking(move || known_keys(&flake, &sys))
                .await
                .unwrap_or_default();
            if !known.is_empty() && !known.contains(&req.key) {
                Err(anyhow::Error::new(err).context(format!(
                    "{} has no hybrid spec `{}`; it has: {}",
                    req.flake,
                    req.key,
                    known.join(", ")
                )))
            } else {
                Err(err.into())
            }
        }
        Err(err) => Err(err.into()),
    }
}

/// `crossplan hybrid`: evaluate the spec, walk the base, each candidate's
/// cross closure and the all-cross variant, decide the swaps, then
/// instantiate the hybrid and check it builds what was predicted.
pub async fn run(planner: &Planner, req: &HybridRequest) -> anyhow::Result<HybridOutcome> {
    if let Some(bad) = req.swaps.iter().find(|s| !is_attr_path(s)) {
        return Err(EngineError::BadSwap { attr: bad.clone() }.into());
    }
    let engine = &planner.engine;
    let store = &engine.store;
    let (installable, spec) = evaluate_spec(req, &planner.host.system).await?;
    tracing::info!(%installable, base = %spec.base, "evaluated the hybrid spec");
    let entry = entry_name(&req.key).to_owned();

    let mut named: Vec<(String, Origin)> = Vec::new();
    for s in &req.swaps {
        push_named(&mut named, s, Origin::Swap);
    }
    for s in &spec.swaps {
        push_named(&mut named, s, Origin::HybridFile);
    }
    for s in &spec.candidates {
        push_named(&mut named, s, Origin::Default);
    }
    let resolved = by_attr(&spec);

    // The base's closure, each derivation with its own status.
    let base_path = store.parse_path(&spec.base)?;
    let lookups = CacheLookups(&engine.substituters);
    let status = closure_status(store, &[base_path], &lookups, &engine.options)
        .await
        .with_context(|| format!("the status of every derivation of {}", spec.base))?;
    let mut lookup_errors = status.errors.len();
    let graph = native_graph(&status, store);
    let index: BTreeMap<&str, usize> = graph
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.drv.as_str(), i))
        .collect();

    let mut candidates: Vec<Candidate> = Vec::new();
    let mut sources: Vec<CandidateSource> = Vec::new();
    let mut notes: Vec<String> = Vec::new();
    for (attr, origin) in &named {
        let r = resolved.get(attr.as_str());
        let side_missing = |side| EngineError::SwapNotFound {
            attr: attr.clone(),
            key: req.key.clone(),
            side,
            origin: match origin {
                Origin::Swap => "--swap",
                Origin::HybridFile => "from the hybrid file",
                Origin::Default => "a default candidate of the spec",
                Origin::Suggested => "suggested",
            },
            installable: installable.clone(),
        };
        let native_drv = r.and_then(|r| r.native.clone());
        let cross_drv = r.and_then(|r| r.cross.clone());
        // A default the spec offers that does not apply here (the cross
        // set throws on a build host of the board's own system; a board
        // without that kernel) is left out with a note; a named one is an
        // error.
        let usable =
            native_drv.as_deref().is_some_and(|d| index.contains_key(d)) && cross_drv.is_some();
        if *origin == Origin::Default && !usable {
            notes.push(format!(
                "the spec's default candidate {attr} is left out: {}",
                if native_drv.is_none() {
                    "the native set has no derivation there"
                } else if cross_drv.is_none() {
                    "the cross set has no derivation there (on a build host of the base's own system nothing is cross-built)"
                } else {
                    "its native derivation is not in the base's closure"
                }
            ));
            continue;
        }
        let native_drv = native_drv.ok_or_else(|| side_missing("native"))?;
        let cross_drv = cross_drv.ok_or_else(|| side_missing("cross"))?;
        let Some(&native) = index.get(native_drv.as_str()) else {
            return Err(EngineError::SwapNotInClosure {
                attr: attr.clone(),
                key: req.key.clone(),
                drv: native_drv,
                base: spec.base.clone(),
            }
            .into());
        };
        let m = walk(
            planner,
            &cross_drv,
            &format!("{attr} (cross)"),
            req.progress,
        )
        .await?;
        lookup_errors += m.errors.len();
        candidates.push(Candidate {
            attr: attr.clone(),
            native,
            cross: cross_work(&m, &cross_drv),
            named: true,
        });
        sources.push(CandidateSource {
            attr: attr.clone(),
            origin: *origin,
            native_drv,
            cross_drv,
            attr_checked: true,
        });
    }

    // All cross: its estimate for the totals, its closure's names for the
    // suggestions.
    let mut cross_names: Vec<(String, String)> = Vec::new();
    let all_cross = match &spec.all_cross {
        Some(drv) => {
            let m = walk(planner, drv, "all cross", req.progress).await?;
            lookup_errors += m.errors.len();
            let path = store.parse_path(drv)?;
            let closure = store.load_closure(&[path])?;
            cross_names = closure
                .drvs
                .iter()
                .map(|(p, info)| (info.name.clone(), store.render(p)))
                .collect();
            cross_names.sort();
            Some(estimate(
                "cross",
                &work_from_missing(&m),
                &planner.host,
                &planner.model,
                &planner.history,
            ))
        }
        None => None,
    };
    let exclude: Vec<usize> = candidates.iter().map(|c| c.native).collect();
    let suggested = suggestions(
        &graph,
        &exclude,
        &cross_names,
        req.suggest,
        &planner.host,
        &planner.model,
        &planner.history,
    );
    for s in &suggested {
        let m = walk(
            planner,
            &s.cross_drv,
            &format!("{} (cross)", s.attr_guess),
            req.progress,
        )
        .await?;
        lookup_errors += m.errors.len();
        candidates.push(Candidate {
            attr: s.attr_guess.clone(),
            native: s.native,
            cross: cross_work(&m, &s.cross_drv),
            named: false,
        });
        sources.push(CandidateSource {
            attr: s.attr_guess.clone(),
            origin: Origin::Suggested,
            native_drv: graph.nodes[s.native].drv.clone(),
            cross_drv: s.cross_drv.clone(),
            attr_checked: false,
        });
    }

    let mut plan = plan(
        &graph,
        &candidates,
        all_cross,
        &planner.host,
        &planner.model,
        &planner.history,
    );

    // Instantiate the hybrid of the chosen swaps (and check the guessed
    // attributes of the suggestions), then walk it.
    let guesses: Vec<String> = suggested.iter().map(|s| s.attr_guess.clone()).collect();
    let apply = hybrid_apply(&plan.swaps, &guesses);
    let inst = installable.clone();
    let evaluated: HybridEval =
        tokio::task::spawn_blocking(move || eval_json::<HybridEval>(&inst, &apply))
            .await
            .context("nix eval thread")??;
    for (s, got) in sources
        .iter_mut()
        .filter(|s| s.origin == Origin::Suggested)
        .zip(&evaluated.guesses)
    {
        s.attr_checked = got.as_deref() == Some(s.native_drv.as_str());
    }
    let hybrid_drv = evaluated.hybrid;
    if plan.swaps.is_empty() && hybrid_drv != spec.base {
        return Err(EngineError::Verification {
            key: req.key.clone(),
            drv: hybrid_drv,
            differences: vec![format!(
                "the spec's `hybrid [ ]` is not its base {}",
                spec.base
            )],
        }
        .into());
    }
    let built = walk(planner, &hybrid_drv, "hybrid", req.progress).await?;
    lookup_errors += built.errors.len();
    // Only when builds are missing: reading the hybrid's closure costs.
    let done = if differences(
        &plan.predicted_native,
        &plan.predicted_cross,
        &built,
        &BTreeMap::new(),
    )
    .is_empty()
    {
        BTreeMap::new()
    } else {
        rehashed_not_built(planner, &graph, &hybrid_drv, &built)?
    };
    let verification = differences(&plan.predicted_native, &plan.predicted_cross, &built, &done);
    let already_done = plan
        .predicted_native
        .iter()
        .map(|(name, &want)| {
            let got = built
                .build
                .iter()
                .filter(|(d, b)| b.name == *name && !plan.predicted_cross.contains(*d))
                .count();
            want.saturating_sub(got)
                .min(done.get(name).copied().unwrap_or(0))
        })
        .sum();

    // Derivations the prediction counted as builds but that are built or
    // cached already: the walk of the instantiated hybrid is then the exact
    // work, and the hybrid's total is estimated from it.
    if verification.is_empty() && already_done > 0 {
        plan.hybrid = estimate(
            "hybrid",
            &work_from_missing(&built),
            &planner.host,
            &planner.model,
            &planner.history,
        );
    }

    let check = match &req.check {
        Some(options) => {
            let (drv, options) = (hybrid_drv.clone(), options.clone());
            let dry = tokio::task::spawn_blocking(move || nix_dry_run(&drv, &options))
                .await
                .context("nix-store thread")??;
            let ours = Answer {
                build: built.build.keys().cloned().collect(),
                fetch: built.fetch.keys().cloned().collect(),
                unknown: built.unknown.clone(),
                download_bytes: built.download_bytes,
                nar_bytes: built.nar_bytes,
            };
            Some(CheckOutcome {
                nix_builds: dry.build.len(),
                nix_fetches: dry.fetch.len(),
                differences: dryrun::differences(&dry, &ours),
                nix_download: dry.download,
            })
        }
        None => None,
    };

    Ok(HybridOutcome {
        key: req.key.clone(),
        entry,
        installable,
        spec,
        candidates: sources,
        hybrid_builds: built.build.len(),
        plan,
        hybrid_drv,
        verification,
        already_done,
        check,
        notes,
        lookup_errors,
    })
}

/// By name, the derivations of `hybrid_drv`'s closure that the base's
/// closure (`graph`) does not have (re-hashed by the swaps, or cross) and
/// that its walk (`built`) does not build: valid here or substitutable.
fn rehashed_not_built(
    planner: &Planner,
    graph: &NativeGraph,
    hybrid_drv: &str,
    built: &Missing,
) -> anyhow::Result<BTreeMap<String, usize>> {
    let store = &planner.engine.store;
    let base: BTreeSet<&str> = graph.nodes.iter().map(|n| n.drv.as_str()).collect();
    let closure = store
        .load_closure(&[store.parse_path(hybrid_drv)?])
        .with_context(|| format!("reading the derivations of {hybrid_drv}"))?;
    let mut done: BTreeMap<String, usize> = BTreeMap::new();
    for (p, info) in &closure.drvs {
        let drv = store.render(p);
        if !base.contains(drv.as_str()) && !built.build.contains_key(&drv) {
            *done.entry(info.name.clone()).or_insert(0) += 1;
        }
    }
    Ok(done)
}

/// The walk of one `.drv` (all outputs), with a progress line.
async fn walk(planner: &Planner, drv: &str, what: &str, progress: bool) -> anyhow::Result<Missing> {
    let p = Arc::new(Progress::default());
    let line = ProgressLine::start(p.clone(), progress, what);
    let m = planner.engine.missing(&[drv.to_owned()], &p).await;
    line.finish();
    m.with_context(|| format!("computing what {drv} needs ({what})"))
}

/// `nix-store --realise --dry-run DRV` with the plan's cache options.
fn nix_dry_run(drv: &str, options: &[(&'static str, String)]) -> anyhow::Result<DryRun> {
    let mut cmd = std::process::Command::new("nix-store");
    cmd.args(["--realise", "--dry-run"]);
    for (name, value) in options {
        cmd.args(["--option", name, value]);
    }
    cmd.arg(drv);
    let out =
        GroupChild::output(&mut cmd).map_err(|source| crossplan_store::StoreError::NixMissing {
            command: format!("nix-store --realise --dry-run {drv}"),
            source,
        })?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        anyhow::bail!(
            "`nix-store --realise --dry-run {drv}` failed ({}): {}",
            out.status,
            stderr.trim()
        );
    }
    Ok(dryrun::parse(&stderr)?)
}

/// The installable `crossplan build --hybrid KEY` builds: the spec's
/// `built` (its hybrid with the hybrid file's swaps).
pub fn built_installable(flake: &str, system: &str, key: &str) -> String {
    format!("{}.built", spec_installable(flake, system, key))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use crossplan_missing::{BuildInfo, FetchInfo, NodeStatus};
    use crossplan_store::drv::DrvInfo;

    use super::*;

    const H: &str = "/nix/store/";

    fn path(c: char, name: &str) -> String {
        format!("{H}{}-{name}", c.to_string().repeat(32))
    }

    fn drv_info(name: &str, out: &str, store: &LocalStore) -> Arc<DrvInfo> {
        Arc::new(DrvInfo {
            name: name.into(),
            system: "riscv64-linux".into(),
            outputs: vec![("out".into(), Some(store.parse_path(out).expect("out")))],
            input_drvs: Vec::new(),
            fixed_output: false,
            allow_substitutes: true,
            prefer_local_build: name.starts_with("nixos"),
            required_features: if name.starts_with("linux") {
                vec!["big-parallel".into()]
            } else {
                Vec::new()
            },
        })
    }

    #[test]
    fn native_graph_keeps_status_inputs_and_fetch_sizes() {
        let store = LocalStore::new("/nix/store").expect("store");
        let p = |c, n: &str| store.parse_path(&path(c, n)).expect("path");
        let glibc_out = path('b', "glibc-2.40");
        let status = ClosureStatus {
            nodes: vec![
                NodeStatus {
                    drv: p('a', "glibc-2.40.drv"),
                    info: drv_info("glibc-2.40", &glibc_out, &store),
                    inputs: vec![],
                    cached: true,
                    fetches: vec![0],
                    unknown: vec![],
                },
                NodeStatus {
                    drv: p('c', "linux-6.12.4.drv"),
                    info: drv_info("linux-6.12.4", &path('d', "linux-6.12.4"), &store),
                    inputs: vec![0],
                    cached: false,
                    fetches: vec![],
                    unknown: vec![],
                },
                NodeStatus {
                    drv: p('g', "nixos-system-b.drv"),
                    info: drv_info("nixos-system-b", &path('h', "nixos-system-b"), &store),
                    inputs: vec![1, 0],
                    cached: false,
                    fetches: vec![],
                    unknown: vec![],
                },
            ],
            roots: vec![2],
            paths: vec![(
                p('b', "glibc-2.40"),
                FetchInfo {
                    substituter: "file:///c".into(),
                    file_size: 10,
                    nar_size: 30,
                },
            )],
            ..ClosureStatus::default()
        };
        let g = native_graph(&status, &store);
        assert_eq!(g.roots, [2]);
        assert_eq!(g.nodes.len(), 3);
        assert_eq!(g.nodes[0].drv, path('a', "glibc-2.40.drv"));
        assert!(g.nodes[0].cached);
        assert_eq!(
            g.nodes[0].fetches,
            [Fetch {
                path: glibc_out,
                download_bytes: 10,
                nar_bytes: 30
            }]
        );
        let k = &g.nodes[1];
        assert_eq!(
            (k.build.name.as_str(), k.build.system.as_str()),
            ("linux-6.12.4", "riscv64-linux")
        );
        assert_eq!(k.build.required_features, ["big-parallel"]);
        assert!(!k.cached && k.fetches.is_empty());
        assert_eq!(k.inputs, [0]);
        assert!(g.nodes[2].build.prefer_local_build);
        assert_eq!(g.nodes[2].inputs, [1, 0]);
    }

    #[test]
    fn cross_work_keys_builds_with_their_edges() {
        let gcc = path('1', "riscv64-unknown-linux-gnu-gcc-14.2.0.drv");
        let kernel = path('2', "linux-riscv64-unknown-linux-gnu-6.12.4.drv");
        let mut m = Missing::default();
        m.build.insert(
            gcc.clone(),
            BuildInfo {
                name: "riscv64-unknown-linux-gnu-gcc-14.2.0".into(),
                system: "x86_64-linux".into(),
                input_drvs: vec![],
                required_features: vec![],
                prefer_local_build: false,
            },
        );
        m.build.insert(
            kernel.clone(),
            BuildInfo {
                name: "linux-riscv64-unknown-linux-gnu-6.12.4".into(),
                system: "x86_64-linux".into(),
                input_drvs: vec![gcc.clone()],
                required_features: vec!["big-parallel".into()],
                prefer_local_build: true,
            },
        );
        let binutils = path('3', "binutils-2.43");
        m.fetch.insert(
            binutils.clone(),
            FetchInfo {
                substituter: "file:///c".into(),
                file_size: 7,
                nar_size: 21,
            },
        );
        m.unknown.insert(path('4', "nowhere"));
        let w = cross_work(&m, &kernel);
        assert_eq!(w.top, kernel);
        assert_eq!(w.builds.len(), 2);
        let (k, node, deps) = w
            .builds
            .iter()
            .find(|(k, _, _)| *k == kernel)
            .expect("kernel");
        assert_eq!(k, &kernel);
        assert_eq!(deps, std::slice::from_ref(&gcc));
        assert_eq!(node.system, "x86_64-linux");
        assert_eq!(node.required_features, ["big-parallel"]);
        assert!(node.prefer_local_build);
        assert_eq!(
            w.fetches,
            [Fetch {
                path: binutils,
                download_bytes: 7,
                nar_bytes: 21
            }]
        );
        assert_eq!(w.unknown, [path('4', "nowhere")]);
    }

    fn build(name: &str) -> BuildInfo {
        BuildInfo {
            name: name.into(),
            system: "riscv64-linux".into(),
            ..BuildInfo::default()
        }
    }

    #[test]
    fn differences_count_native_names_and_check_cross_paths() {
        let kernel = path('1', "linux-riscv64-unknown-linux-gnu-6.12.4.drv");
        let mut m = Missing::default();
        m.build.insert(
            kernel.clone(),
            build("linux-riscv64-unknown-linux-gnu-6.12.4"),
        );
        m.build.insert(path('2', "app-1.0.drv"), build("app-1.0"));
        m.build.insert(path('3', "app-1.0.drv"), build("app-1.0"));
        m.build.insert(path('4', "initrd.drv"), build("initrd"));
        let native: BTreeMap<String, usize> =
            [("app-1.0".to_string(), 2), ("initrd".to_string(), 1)].into();
        let cross: BTreeSet<String> = [kernel.clone()].into();
        assert!(differences(&native, &cross, &m, &BTreeMap::new()).is_empty());

        // one app fewer predicted, a module predicted that is not built, and
        // another cross kernel predicted than the one built
        let native: BTreeMap<String, usize> = [
            ("app-1.0".to_string(), 1),
            ("initrd".to_string(), 1),
            ("kernel-modules".to_string(), 1),
        ]
        .into();
        let other = path('5', "linux-riscv64-unknown-linux-gnu-6.12.4.drv");
        let cross: BTreeSet<String> = [other.clone()].into();
        let d = differences(&native, &cross, &m, &BTreeMap::new());
        assert_eq!(
            d,
            [
                "app-1.0: predicted 1 build, the hybrid builds 2".to_string(),
                "kernel-modules: predicted 1 build, the hybrid builds 0".to_string(),
                "linux-riscv64-unknown-linux-gnu-6.12.4: predicted 0 builds, the hybrid builds 1"
                    .to_string(),
                format!("{other}: predicted as a cross build, but the hybrid does not build it"),
            ]
        );

        // A predicted rebuild that the hybrid does not build because its
        // re-hashed derivation is valid already is no difference; one more
        // missing than that still is, and so is an extra build.
        let native: BTreeMap<String, usize> = [
            ("app-1.0".to_string(), 2),
            ("initrd".to_string(), 1),
            ("kernel-modules".to_string(), 2),
        ]
        .into();
        let cross: BTreeSet<String> = [kernel.clone()].into();
        let done: BTreeMap<String, usize> = [("kernel-modules".to_string(), 2)].into();
        assert!(differences(&native, &cross, &m, &done).is_empty());
        let short: BTreeMap<String, usize> = [("kernel-modules".to_string(), 1)].into();
        assert_eq!(
            differences(&native, &cross, &m, &short),
            ["kernel-modules: predicted 2 builds, the hybrid builds 0"]
        );
        let mut extra = m.clone();
        extra
            .build
            .insert(path('6', "kernel-modules.drv"), build("kernel-modules"));
        extra
            .build
            .insert(path('7', "kernel-modules.drv"), build("kernel-modules"));
        extra
            .build
            .insert(path('8', "kernel-modules.drv"), build("kernel-modules"));
        assert_eq!(
            differences(&native, &cross, &extra, &done),
            ["kernel-modules: predicted 2 builds, the hybrid builds 3"]
        );
    }
}

/// The chain against Nix on the hybrid fixture (real `nix-instantiate` and
/// `nix-store --realise --dry-run`).
#[cfg(test)]
mod oracle {
    use std::collections::{BTreeMap, BTreeSet};

    use crossplan_cache::{ClientConfig, Substituters, TrustedKeys, parse_substituters};
    use crossplan_missing::cache::CacheLookups;
    use crossplan_missing::{Options, Progress, closure_status, query_missing};
    use crossplan_plan::hybrid::{Candidate, HybridPlan, NativeCost, name_counts, plan, simulate};
    use crossplan_plan::{CostModel, HistoryTable, HostView, Machine, VariantEstimate, estimate};
    use crossplan_store::request::{Outputs, Request};
    use crossplan_testkit::fixture::fresh_salt;
    use crossplan_testkit::hybrid::{CROSS_SYSTEM, HybridFixture, HybridSpec, NATIVE_SYSTEM, Set};
    use crossplan_testkit::nix::{self, DryRun};

    use super::*;
    use crate::engine::plan::work_from_missing;

    const APPS: usize = 6;

    struct Ctx {
        fx: HybridFixture,
        store: LocalStore,
        subs: Substituters,
        _dir: tempfile::TempDir,
        graph: NativeGraph,
        /// kernel (named), app1 (suggested), libfoo (named).
        candidates: Vec<Candidate>,
    }

    async fn prepare(tag: &str, nested_kernel: bool) -> Ctx {
        assert!(
            nix::available(),
            "this test needs Nix (nix-store on PATH): run scripts/setup-nix.sh"
        );
        let dir = tempfile::tempdir().expect("tempdir");
        let mut spec = HybridSpec::new(APPS, fresh_salt(tag));
        spec.nested_kernel = nested_kernel;
        let fx = HybridFixture::build(spec, dir.path()).expect("hybrid fixture");
        let store = LocalStore::new("/nix/store").expect("store");
        let config = ClientConfig {
            store_dir: store.dir().clone(),
            trusted_keys: TrustedKeys::parse(&fx.trusted_keys()).expect("keys"),
            require_sigs: true,
            disk_cache: None,
            ..ClientConfig::default()
        };
        let subs = Substituters::open(
            parse_substituters(&fx.substituters()).expect("substituters"),
            config,
        )
        .await
        .expect("open caches");
        let lookups = CacheLookups(&subs);
        let m = walk_with(
            &store,
            &lookups,
            &fx.package(Set::Cross, "crossGcc").expect("gcc").drv,
        )
        .await;
        assert!(
            m.build.is_empty() && m.fetch.len() == 1,
            "the cross compiler is cached: {m:?}"
        );
        let base = fx.instantiate_base().expect("instantiate base");
        let top = fx.package(Set::Native, "toplevel").expect("toplevel");
        assert_eq!(base, top.drv, "base is the native toplevel");
        let status = closure_status(
            &store,
            &[store.parse_path(&base).expect("base path")],
            &lookups,
            &Options::default(),
        )
        .await
        .expect("closure status");
        assert!(status.errors.is_empty() && status.rejected.is_empty());
        let graph = native_graph(&status, &store);
        assert_eq!(graph.nodes.len(), 7 + APPS, "every native derivation");

        let mut candidates = Vec::new();
        let (kernel, _) = fx.kernel_attrs();
        for (attr, named) in [(kernel, true), ("app1", false), ("libfoo", true)] {
            let cross = &fx.package(Set::Cross, attr).expect("cross").drv;
            let native = &fx.package(Set::Native, attr).expect("native").drv;
            let m = walk_with(&store, &lookups, cross).await;
            candidates.push(Candidate {
                attr: attr.into(),
                native: graph
                    .nodes
                    .iter()
                    .position(|n| &n.drv == native)
                    .expect("native node in the closure"),
                cross: cross_work(&m, cross),
                named,
            });
        }
        Ctx {
            fx,
            store,
            subs,
            _dir: dir,
            graph,
            candidates,
        }
    }

    /// crossplan's walk of one `.drv` (all outputs).
    async fn walk_with(store: &LocalStore, lookups: &CacheLookups<'_>, drv: &str) -> Missing {
        let request = Request::Built {
            drv: store.parse_path(drv).expect("drv path"),
            outputs: Outputs::All,
        };
        query_missing(
            store,
            &[request],
            lookups,
            &Options::default(),
            &Progress::default(),
        )
        .await
        .expect("walk")
    }

    fn host(extra: &[&str], machines: Vec<Machine>) -> HostView {
        HostView {
            system: CROSS_SYSTEM.into(),
            extra_platforms: extra.iter().map(|s| s.to_string()).collect(),
            max_jobs: 2,
            system_features: vec![],
            machines,
            emulation_factors: BTreeMap::new(),
        }
    }

    fn decide(
        ctx: &Ctx,
        cands: &[Candidate],
        all_cross: Option<VariantEstimate>,
        h: &HostView,
    ) -> HybridPlan {
        plan(
            &ctx.graph,
            cands,
            all_cross,
            h,
            &model(),
            &HistoryTable::default(),
        )
    }

    /// The default model: `initrd-linux` does not take the kernel's prior
    /// (`linux` matches only exactly), so no override is needed.
    fn model() -> CostModel {
        CostModel::default()
    }

    /// `name` of a `.drv` path (`/nix/store/<hash>-<name>.drv`).
    fn drv_name(p: &str) -> String {
        let base = p.rsplit('/').next().unwrap_or(p);
        let name = base.split_once('-').map_or(base, |(_, n)| n);
        name.strip_suffix(".drv").unwrap_or(name).to_owned()
    }

    /// Nix's dry run of `drv` against the prediction: native builds by name
    /// and count, cross builds by exact path, and the fetches (count and
    /// download size). Returns a one-line summary of the agreement.
    async fn check_against_nix(
        ctx: &Ctx,
        drv: &str,
        native: &BTreeMap<String, usize>,
        cross: &BTreeSet<String>,
        fetches: usize,
        download_bytes: u64,
    ) -> String {
        let dry: DryRun = nix::dry_run(&[drv.to_owned()], &ctx.fx.dry_run_opts()).expect("dry run");
        let nix_cross: BTreeSet<String> = dry.build.intersection(cross).cloned().collect();
        let mut nix_native: BTreeMap<String, usize> = BTreeMap::new();
        for b in dry.build.difference(cross) {
            *nix_native.entry(drv_name(b)).or_insert(0) += 1;
        }
        assert_eq!(
            &nix_native, native,
            "{drv}: native builds by name differ from Nix's dry run:\n{}",
            dry.stderr
        );
        assert_eq!(
            &nix_cross, cross,
            "{drv}: predicted cross builds missing from Nix's dry run:\n{}",
            dry.stderr
        );
        assert!(dry.unknown.is_empty(), "{}", dry.stderr);
        assert_eq!(dry.fetch.len(), fetches, "{drv}: fetches\n{}", dry.stderr);
        assert!(
            nix::size_matches(download_bytes, &dry.download),
            "{drv}: download {download_bytes} B vs Nix's {}",
            dry.download
        );
        // crossplan's own verification: its walk of the hybrid
        let ours = walk_with(&ctx.store, &CacheLookups(&ctx.subs), drv).await;
        let d = differences(native, cross, &ours, &BTreeMap::new());
        assert!(
            d.is_empty(),
            "{drv}: the verification fails:\n{}",
            d.join("\n")
        );
        assert_eq!(
            ours.build.keys().cloned().collect::<BTreeSet<_>>(),
            dry.build,
            "{drv}: crossplan's walk of the hybrid and Nix's dry run"
        );
        format!(
            "{} builds ({} native, {} cross) and {} fetches ({}) agree with Nix",
            dry.build.len(),
            dry.build.len() - nix_cross.len(),
            nix_cross.len(),
            dry.fetch.len(),
            dry.download
        )
    }

    fn counts(names: &[&str]) -> BTreeMap<String, usize> {
        let mut m = BTreeMap::new();
        for n in names {
            *m.entry(n.to_string()).or_insert(0) += 1;
        }
        m
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn oracle_the_kernel_is_swapped_and_nix_builds_what_the_plan_predicts() {
        kernel_swapped(false).await;
    }

    /// The same with the kernel inside a `linuxPackages` scope, as in
    /// nixpkgs: swapped as `linuxPackages.kernel` through the scope's
    /// `extend`, which re-hashes the modules in the scope.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn oracle_a_kernel_inside_a_scope_is_swapped_through_its_extend() {
        kernel_swapped(true).await;
    }

    async fn kernel_swapped(nested: bool) {
        let ctx = prepare(&format!("hybrid-kernel-{nested}"), nested).await;
        let (kernel_attr, modules_attr) = ctx.fx.kernel_attrs();
        // kernel (named) and app1 (suggested); libfoo is the next test's
        let cands = &ctx.candidates[..2];
        let h = host(&[NATIVE_SYSTEM], vec![]);
        // all cross: the cross set's toplevel, walked by crossplan (and
        // checked against Nix's dry run)
        let all_cross_drv = ctx.fx.instantiate_all_cross().expect("all cross");
        let m = walk_with(&ctx.store, &CacheLookups(&ctx.subs), &all_cross_drv).await;
        let dry = nix::dry_run(std::slice::from_ref(&all_cross_drv), &ctx.fx.dry_run_opts())
            .expect("dry run");
        assert_eq!(m.build.keys().cloned().collect::<BTreeSet<_>>(), dry.build);
        let all_cross = estimate(
            "cross",
            &work_from_missing(&m),
            &h,
            &model(),
            &HistoryTable::default(),
        );
        let p = decide(&ctx, cands, Some(all_cross), &h);
        assert_eq!(p.swaps, [kernel_attr], "{:#?}", p.rows);
        let all_cross = p.all_cross.as_ref().expect("all cross");
        assert!(p.hybrid.possible && p.all_emulated.possible && all_cross.possible);
        assert!(
            p.hybrid.total_seconds < p.all_emulated.total_seconds.min(all_cross.total_seconds),
            "hybrid {} s vs all emulated {} s and all cross {} s",
            p.hybrid.total_seconds,
            p.all_emulated.total_seconds,
            all_cross.total_seconds
        );
        eprintln!(
            "estimates: hybrid {:.0} s, all emulated {:.0} s, all cross {:.0} s ({} cross builds)",
            p.hybrid.total_seconds,
            p.all_emulated.total_seconds,
            all_cross.total_seconds,
            m.build.len()
        );
        assert!(matches!(p.rows[0].native, NativeCost::Emulated { .. }));
        assert!(!p.rows[1].swap, "{:?}", p.rows[1]);
        assert_eq!(p.rows[1].native, NativeCost::Fetched, "app1 is cached");
        let expected = counts(&[
            "kernel-modules-6.12.4",
            "initrd-linux-6.12.4",
            "nixos-system-board-26.05",
        ]);
        assert_eq!(p.predicted_native, expected);
        let cross_kernel = &ctx.fx.package(Set::Cross, kernel_attr).expect("kernel").drv;
        assert_eq!(
            p.predicted_cross.iter().collect::<Vec<_>>(),
            [cross_kernel],
            "only the cross kernel: the cross compiler is cached"
        );
        assert!(p.warnings.is_empty(), "{:?}", p.warnings);

        let drv = ctx.fx.instantiate_hybrid(&[kernel_attr]).expect("hybrid");
        assert_ne!(drv, ctx.fx.instantiate_base().expect("base"));
        let agree = check_against_nix(
            &ctx,
            &drv,
            &p.predicted_native,
            &p.predicted_cross,
            p.hybrid.fetches,
            p.hybrid.download_bytes,
        )
        .await;
        // The native builds are the re-hashed dependents, not the base's.
        let dry = nix::dry_run(std::slice::from_ref(&drv), &ctx.fx.dry_run_opts()).expect("dry");
        let modules = &ctx.fx.package(Set::Native, modules_attr).expect("m").drv;
        assert!(!dry.build.contains(modules), "re-hashed: {modules}");
        eprintln!("hybrid [ {kernel_attr} ]: {agree}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn oracle_a_remote_builder_keeps_the_kernel_native_and_nothing_else_is_impossible() {
        let ctx = prepare("hybrid-remote", false).await;
        let cands = &ctx.candidates[..2];
        let rv = Machine {
            uri: "ssh://rv-builder".into(),
            systems: vec![NATIVE_SYSTEM.into()],
            max_jobs: 4,
            speed_factor: 8.0,
            supported_features: vec![],
            mandatory_features: vec![],
        };
        let p = decide(&ctx, cands, None, &host(&[], vec![rv]));
        assert!(p.swaps.is_empty(), "{:#?}", p.rows);
        assert!(
            matches!(p.rows[0].native, NativeCost::Remote { .. }),
            "{:?}",
            p.rows[0]
        );
        assert!(p.predicted_cross.is_empty());
        let expected = counts(&[
            "linux-6.12.4",
            "kernel-modules-6.12.4",
            "initrd-linux-6.12.4",
            "nixos-system-board-26.05",
        ]);
        assert_eq!(p.predicted_native, expected);
        // the prediction without swaps is the base's dry run
        let base = ctx.fx.instantiate_base().expect("base");
        let agree = check_against_nix(
            &ctx,
            &base,
            &p.predicted_native,
            &p.predicted_cross,
            p.hybrid.fetches,
            p.hybrid.download_bytes,
        )
        .await;
        eprintln!("base (remote builder): {agree}");

        // No binfmt, no builder: the kernel's dependents are riscv64 builds
        // too, so no swap set makes it possible; the plan names them.
        let p = decide(&ctx, cands, None, &host(&[], vec![]));
        assert!(!p.all_emulated.possible && !p.hybrid.possible);
        let text = p.unbuildable.join("\n");
        let modules = &ctx.fx.package(Set::Native, "kernelModules").expect("m").drv;
        assert!(text.contains("kernel-modules-6.12.4"), "{text}");
        assert!(text.contains(modules.as_str()), "{text}");
        assert!(text.contains("--swap"), "{text}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn oracle_swapping_libfoo_rebuilds_its_users_as_nix_does() {
        let ctx = prepare("hybrid-libfoo", false).await;
        let users = ctx.fx.libfoo_users();
        assert!(users.len() >= 2);
        let p = decide(&ctx, &ctx.candidates, None, &host(&[NATIVE_SYSTEM], vec![]));
        let row = p
            .rows
            .iter()
            .find(|r| r.attr == "libfoo")
            .expect("libfoo row");
        assert!(!row.swap, "libfoo is cached natively: {row:?}");
        assert_eq!(
            row.dependents_rebuilt,
            users.len() + 1,
            "its users and the toplevel: {row:?}"
        );
        assert!(
            row.delta_seconds.is_some_and(|d| d > 0.0),
            "its users rebuilt under QEMU cost more than it saves: {row:?}"
        );
        let warn = p.warnings.join("\n");
        assert!(
            warn.contains("libfoo (libfoo-1.0) is an input of"),
            "{warn}"
        );

        // Force the swap and compare the walk with Nix's.
        let chosen: Vec<bool> = ctx.candidates.iter().map(|c| c.attr == "libfoo").collect();
        let sim = simulate(&ctx.graph, &ctx.candidates, &chosen);
        let native = name_counts(&ctx.graph, &sim.native_builds);
        for u in &users {
            let name = &ctx.fx.package(Set::Native, u).expect("user").name;
            assert!(native.contains_key(name), "{u} is rebuilt: {native:?}");
        }
        let app1 = &ctx.fx.package(Set::Native, "app1").expect("app1").name;
        assert!(!native.contains_key(app1), "app1 does not use libfoo");
        assert!(
            native.contains_key("linux-6.12.4"),
            "the kernel still builds"
        );
        let cross_libfoo = &ctx.fx.package(Set::Cross, "libfoo").expect("c").drv;
        assert_eq!(sim.cross_builds.iter().collect::<Vec<_>>(), [cross_libfoo]);
        let drv = ctx.fx.instantiate_hybrid(&["libfoo"]).expect("hybrid");
        let agree = check_against_nix(
            &ctx,
            &drv,
            &native,
            &sim.cross_builds,
            sim.work.fetch_count,
            sim.work.download_bytes,
        )
        .await;
        eprintln!("hybrid [ libfoo ]: {agree}");

        // Both swapped: the cross compiler is fetched once.
        let chosen: Vec<bool> = ctx
            .candidates
            .iter()
            .map(|c| c.attr == "libfoo" || c.attr == "kernel")
            .collect();
        let sim = simulate(&ctx.graph, &ctx.candidates, &chosen);
        let native = name_counts(&ctx.graph, &sim.native_builds);
        let drv = ctx
            .fx
            .instantiate_hybrid(&["kernel", "libfoo"])
            .expect("hybrid");
        let agree = check_against_nix(
            &ctx,
            &drv,
            &native,
            &sim.cross_builds,
            sim.work.fetch_count,
            sim.work.download_bytes,
        )
        .await;
        eprintln!("hybrid [ kernel libfoo ]: {agree}");
    }
}
