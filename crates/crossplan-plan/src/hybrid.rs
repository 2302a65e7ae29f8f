//! The per-derivation decision (`crossplan hybrid`): keep the native
//! (emulated) build of a configuration as the base, and swap chosen
//! attributes for their cross-built counterparts.
//!
//! Swapping an attribute changes the hash of everything that depends on it
//! in the native set, exactly as an overlay does in nixpkgs: those dependents
//! can no longer be fetched and become native builds (under QEMU or on a
//! remote builder). So the cost of a swap set is found by *simulating* Nix's
//! `queryMissing` walk over the native closure with the swapped nodes cut
//! out, their dependents re-hashed, and each swap's cross closure added:
//!
//! - a swapped node contributes its cross work (build closure minus what the
//!   caches hold; a derivation shared by two swaps, such as the cross
//!   toolchain, is counted once) and is not walked natively;
//! - a node that is re-hashed (it depends on a swapped node) or was not
//!   cached is built natively, and its inputs are walked;
//! - any other node is fetched (or already valid), and its inputs are not
//!   walked, as in Nix.
//!
//! The result is an ordinary [`VariantWork`] (native and cross builds with
//! their `system`), so [`estimate`] routes and weighs it like any variant.
//! The best swap set is exact (every subset) for up to
//! [`EXACT_LIMIT`] candidates, and greedy (the largest saving first, while
//! one saves time) above that. Only candidates the user named are decided
//! on; suggested ones get a row with what swapping them alone would save.
//!
//! Pure: the caller supplies the native graph with what the caches hold for
//! every node, and each candidate's cross work.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::estimate::{Route, VariantEstimate, estimate, impossible_reason, route};
use crate::host::HostView;
use crate::model::{CostModel, History};
use crate::name::{parse_drv_name, strip_host_suffix};
use crate::work::{BuildNode, VariantWork};

/// At most this many candidates are decided by trying every subset
/// (2^12 = 4096 simulations of the walk); more are decided greedily.
pub const EXACT_LIMIT: usize = 12;

/// A store path that is fetched, with its sizes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetch {
    pub path: String,
    pub download_bytes: u64,
    pub nar_bytes: u64,
}

/// One derivation of the native closure.
#[derive(Debug, Clone, PartialEq)]
pub struct NativeNode {
    /// Its `.drv` path (the key; names the node in predictions).
    pub drv: String,
    /// Name, system, features of the derivation (its `deps` are unused here).
    pub build: BuildNode,
    /// Input derivations, as indices into [`NativeGraph::nodes`].
    pub inputs: Vec<usize>,
    /// Every wanted output is valid here or substitutable from a trusted
    /// cache (what the status engine found for it).
    pub cached: bool,
    /// The paths fetched when it is substituted: its outputs that are not
    /// valid here and their runtime closure, as the caches describe it.
    pub fetches: Vec<Fetch>,
}

/// The native (emulated) variant's derivation closure.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NativeGraph {
    pub nodes: Vec<NativeNode>,
    /// What is built (`nix build ROOTS`), as indices.
    pub roots: Vec<usize>,
}

/// The cross-built counterpart of one attribute: its work as the status
/// engine found it for `pkgsCross.<attr>.<path>`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CrossWork {
    /// `(drv path, node, input drv paths)` of every derivation to build.
    pub builds: Vec<(String, BuildNode, Vec<String>)>,
    /// The cross derivation that replaces the native one (its `.drv`).
    pub top: String,
    /// Paths to fetch.
    pub fetches: Vec<Fetch>,
    /// Paths nobody can provide.
    pub unknown: Vec<String>,
}

/// One attribute that may be swapped.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// Attribute path in the package set (`linuxPackages.kernel`).
    pub attr: String,
    /// The native derivation it names, as an index into the graph.
    pub native: usize,
    pub cross: CrossWork,
    /// Named by the user (`--swap`, the hybrid file, a board's kernel), as
    /// opposed to only suggested.
    pub named: bool,
}

/// What a simulation of one swap set gives.
#[derive(Debug, Clone, PartialEq)]
pub struct Simulation {
    pub work: VariantWork,
    /// Native nodes built, by index.
    pub native_builds: Vec<usize>,
    /// Native nodes built because they depend on a swapped node (re-hashed):
    /// the swap's dependents. Some of them would be fetched without it.
    pub rebuilt_dependents: Vec<usize>,
    /// Cross derivations built (exact `.drv` paths).
    pub cross_builds: BTreeSet<String>,
}

/// The decision for one candidate, as a table row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CandidateRow {
    pub attr: String,
    /// The native derivation's name (`linux-6.12.4`).
    pub name: String,
    /// How the native build of it would be done without a swap.
    pub native: NativeCost,
    /// Weighted seconds of its cross closure's builds, alone.
    pub cross_seconds: f64,
    /// Cross derivations to build for it, alone.
    pub cross_builds: usize,
    /// Native derivations it forces to be rebuilt, alone.
    pub dependents_rebuilt: usize,
    /// Names of those dependents (at most 8).
    pub dependents: Vec<String>,
    /// Estimated wall time of the base with only this swap, minus the base's
    /// (negative = a saving). `None` when either is impossible.
    pub delta_seconds: Option<f64>,
    /// Whether the best set swaps it.
    pub swap: bool,
    pub named: bool,
    pub reason: String,
}

/// The native side of a candidate.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum NativeCost {
    /// Substituted from a cache (or valid here).
    Fetched,
    /// Built here by this CPU.
    Native { seconds: f64 },
    /// Built here under QEMU.
    Emulated { seconds: f64 },
    /// Built on a remote builder.
    Remote { seconds: f64, machine: String },
    /// No builder can build it.
    Impossible { reason: String },
}

/// The whole answer of `crossplan hybrid`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HybridPlan {
    /// All native (emulated): no swaps.
    pub all_emulated: VariantEstimate,
    /// All cross, when the caller has it.
    pub all_cross: Option<VariantEstimate>,
    /// The best swap set's estimate.
    pub hybrid: VariantEstimate,
    /// The attributes swapped, in candidate order.
    pub swaps: Vec<String>,
    pub rows: Vec<CandidateRow>,
    /// `exact` or `greedy`.
    pub method: String,
    /// Safety warnings (libraries swapped under native dependents).
    pub warnings: Vec<String>,
    /// When even the best set cannot be built here: each native derivation
    /// that stays impossible, with why (and which candidate would remove it).
    pub unbuildable: Vec<String>,
    /// The prediction the verification checks: native builds by name and
    /// count (their `.drv` paths change with the swap), cross builds exactly.
    pub predicted_native: BTreeMap<String, usize>,
    pub predicted_cross: BTreeSet<String>,
}

/// Which native nodes change hash when `swapped` nodes are replaced: the
/// swapped ones and everything that depends on them.
fn rehashed(g: &NativeGraph, swapped: &[bool]) -> Vec<bool> {
    let n = g.nodes.len();
    // 0 = unknown, 1 = in progress, 2 = done
    let mut state = vec![0u8; n];
    let mut out = vec![false; n];
    for start in 0..n {
        if state[start] == 2 {
            continue;
        }
        let mut stack = vec![(start, 0usize)];
        state[start] = 1;
        while let Some((i, next)) = stack.pop() {
            if let Some(&d) = g.nodes[i].inputs.get(next) {
                stack.push((i, next + 1));
                if d < n && state[d] == 0 {
                    state[d] = 1;
                    stack.push((d, 0));
                }
                continue;
            }
            out[i] = swapped[i]
                || g.nodes[i]
                    .inputs
                    .iter()
                    .any(|&d| d < n && state[d] == 2 && out[d]);
            state[i] = 2;
        }
    }
    out
}

/// Simulate the walk of the base with the candidates where `chosen` is true
/// swapped.
pub fn simulate(g: &NativeGraph, candidates: &[Candidate], chosen: &[bool]) -> Simulation {
    let n = g.nodes.len();
    let mut swapped_by: Vec<Option<usize>> = vec![None; n];
    for (ci, c) in candidates.iter().enumerate() {
        if chosen.get(ci).copied().unwrap_or(false) && c.native < n {
            swapped_by[c.native] = Some(ci);
        }
    }
    let swapped: Vec<bool> = swapped_by.iter().map(Option::is_some).collect();
    let changed = rehashed(g, &swapped);

    let mut seen = vec![false; n];
    let mut stack: Vec<usize> = g.roots.iter().copied().filter(|&r| r < n).collect();
    let mut native_builds = Vec::new();
    let mut rebuilt_dependents = Vec::new();
    let mut used_cross: BTreeSet<usize> = BTreeSet::new();
    let mut fetches: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    let mut unknown: BTreeSet<String> = BTreeSet::new();
    while let Some(i) = stack.pop() {
        if std::mem::replace(&mut seen[i], true) {
            continue;
        }
        if let Some(ci) = swapped_by[i] {
            used_cross.insert(ci);
            continue;
        }
        let node = &g.nodes[i];
        if node.cached && !changed[i] {
            for f in &node.fetches {
                fetches.insert(&f.path, (f.download_bytes, f.nar_bytes));
            }
            continue;
        }
        native_builds.push(i);
        if changed[i] {
            rebuilt_dependents.push(i);
        }
        stack.extend(node.inputs.iter().copied().filter(|&d| d < n));
    }

    // One keyed graph: native builds by their (old) drv path, cross builds by
    // theirs; a native build's swapped input becomes an edge to that swap's
    // top cross derivation.
    let mut keyed: Vec<(String, BuildNode, Vec<String>)> = Vec::new();
    for &i in &native_builds {
        let node = &g.nodes[i];
        let deps = node
            .inputs
            .iter()
            .filter(|&&d| d < n)
            .map(|&d| match swapped_by[d] {
                Some(ci) => candidates[ci].cross.top.clone(),
                None => g.nodes[d].drv.clone(),
            })
            .collect();
        keyed.push((node.drv.clone(), node.build.clone(), deps));
    }
    let mut cross_builds = BTreeSet::new();
    for &ci in &used_cross {
        let cw = &candidates[ci].cross;
        for (drv, b, deps) in &cw.builds {
            if cross_builds.insert(drv.clone()) {
                keyed.push((drv.clone(), b.clone(), deps.clone()));
            }
        }
        for f in &cw.fetches {
            fetches.insert(&f.path, (f.download_bytes, f.nar_bytes));
        }
        unknown.extend(cw.unknown.iter().cloned());
    }
    let mut work = VariantWork::from_keyed(keyed.iter().map(|(k, b, d)| {
        (
            k.as_str(),
            b.clone(),
            d.iter().map(String::as_str).collect(),
        )
    }));
    work.fetch_count = fetches.len();
    work.download_bytes = fetches.values().map(|v| v.0).sum();
    work.nar_bytes = fetches.values().map(|v| v.1).sum();
    work.unknown = unknown.into_iter().collect();
    Simulation {
        work,
        native_builds,
        rebuilt_dependents,
        cross_builds,
    }
}

/// A derivation crossplan suggests swapping: a heavy native build whose
/// cross counterpart it found by name.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Suggestion {
    /// The native node (index into the graph).
    pub native: usize,
    /// The cross variant's derivation of the same package and version.
    pub cross_drv: String,
    /// The attribute path it probably has: its package name.
    pub attr_guess: String,
    /// Its own estimated build time as the base would build it.
    pub seconds: f64,
}

/// Suggest up to `n` candidates: the heaviest derivations the base builds
/// natively (not cached, not `preferLocalBuild`, not in `exclude`) whose
/// name, minus the cross host suffix nixpkgs adds (`linux-riscv64-unknown-
/// linux-gnu-6.12.4` → `linux`, version `6.12.4`), matches a derivation of
/// the cross variant (`cross`: name and `.drv` of each). Heaviest first;
/// ties by name.
pub fn suggestions(
    g: &NativeGraph,
    exclude: &[usize],
    cross: &[(String, String)],
    n: usize,
    host: &HostView,
    model: &CostModel,
    history: &dyn History,
) -> Vec<Suggestion> {
    if n == 0 {
        return Vec::new();
    }
    let mut by_name: BTreeMap<(&str, &str), &str> = BTreeMap::new();
    for (name, drv) in cross {
        let (pname, version) = parse_drv_name(name);
        by_name
            .entry((strip_host_suffix(pname), version))
            .or_insert(drv.as_str());
    }
    let base = simulate(g, &[], &[]);
    let mut out: Vec<Suggestion> = base
        .native_builds
        .iter()
        .filter(|i| !exclude.contains(i))
        .filter_map(|&i| {
            let b = &g.nodes[i].build;
            if b.prefer_local_build {
                return None;
            }
            let (pname, version) = parse_drv_name(&b.name);
            let cross_drv = by_name.get(&(pname, version))?;
            let e = build_alone(b, host, model, history);
            Some(Suggestion {
                native: i,
                cross_drv: (*cross_drv).to_owned(),
                attr_guess: pname.to_owned(),
                seconds: e.total_work_seconds,
            })
        })
        .collect();
    out.sort_by(|a, b| {
        b.seconds.total_cmp(&a.seconds).then_with(|| {
            g.nodes[a.native]
                .build
                .name
                .cmp(&g.nodes[b.native].build.name)
        })
    });
    out.truncate(n);
    out
}

/// The estimate of building `b` alone, as the base would (its route and
/// weight, no dependencies).
fn build_alone(
    b: &BuildNode,
    host: &HostView,
    model: &CostModel,
    history: &dyn History,
) -> VariantEstimate {
    let one = VariantWork {
        builds: vec![BuildNode {
            deps: Vec::new(),
            ..b.clone()
        }],
        ..VariantWork::default()
    };
    estimate("native", &one, host, model, history)
}

/// Two wall times closer than this are the same to the decision: 30 s, or
/// 1 % of the time (estimates are not more exact than that).
fn tolerance(seconds: f64) -> f64 {
    (seconds.abs() * 0.01).max(30.0)
}

/// Kernels, firmware and boot loaders share no C runtime with userland:
/// swapping them is safe whatever depends on them.
fn self_contained(name: &str) -> bool {
    let (pname, _) = parse_drv_name(name);
    let p = pname.to_ascii_lowercase();
    p == "linux"
        || p.starts_with("linux-")
        || p.starts_with("kernel")
        || p.contains("firmware")
        || p.contains("uboot")
        || p.contains("u-boot")
        || p.contains("opensbi")
        || p.contains("bootloader")
        || p.contains("grub")
}

/// The names of `nodes` (indices into `g`), each with how often it occurs:
/// how the prediction counts native builds, whose `.drv` paths the swaps
/// change.
pub fn name_counts(g: &NativeGraph, nodes: &[usize]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for &i in nodes {
        *counts.entry(g.nodes[i].build.name.clone()).or_insert(0) += 1;
    }
    counts
}

/// Decide the swap set. `all_cross` is the all-cross variant's estimate,
/// when the caller has one, for the totals.
pub fn plan(
    g: &NativeGraph,
    candidates: &[Candidate],
    all_cross: Option<VariantEstimate>,
    host: &HostView,
    model: &CostModel,
    history: &dyn History,
) -> HybridPlan {
    let k = candidates.len();
    let none = vec![false; k];
    let base_sim = simulate(g, candidates, &none);
    let base = estimate("emulated", &base_sim.work, host, model, history);
    let est = |chosen: &[bool]| {
        let sim = simulate(g, candidates, chosen);
        let e = estimate("hybrid", &sim.work, host, model, history);
        (sim, e)
    };
    // A swap must pay for itself: sets whose wall time is within
    // `TOLERANCE` of the best are equal, and among them the one with the
    // least total work (then the fewest swaps) wins. Without this, a cached
    // app whose cross build fits into an idle slot beside the kernel "saves"
    // its 0.1 s download and gets swapped for nothing.
    let swaps = |chosen: &[bool]| chosen.iter().filter(|&&c| c).count();
    // Only named candidates are decided on; suggested ones get a row with
    // their saving, and are swapped only once the user names them.
    let named: Vec<usize> = (0..k).filter(|&i| candidates[i].named).collect();
    let (method, best_chosen) = if named.len() <= EXACT_LIMIT {
        let mut all: Vec<(Vec<bool>, VariantEstimate)> = vec![(none.clone(), base.clone())];
        for mask in 1u32..(1u32 << named.len()) {
            let mut chosen = none.clone();
            for (bit, &i) in named.iter().enumerate() {
                chosen[i] = mask & (1 << bit) != 0;
            }
            let (_, e) = est(&chosen);
            all.push((chosen, e));
        }
        let any_possible = all.iter().any(|(_, e)| e.possible);
        let pool: Vec<&(Vec<bool>, VariantEstimate)> = all
            .iter()
            .filter(|(_, e)| e.possible == any_possible)
            .collect();
        let fastest = pool
            .iter()
            .map(|(_, e)| e.total_seconds)
            .fold(f64::INFINITY, f64::min);
        let best = pool
            .iter()
            .filter(|(_, e)| e.total_seconds <= fastest + tolerance(fastest))
            .min_by(|a, b| {
                a.1.total_work_seconds
                    .total_cmp(&b.1.total_work_seconds)
                    .then(swaps(&a.0).cmp(&swaps(&b.0)))
            })
            .map(|(c, _)| c.clone())
            .unwrap_or_else(|| none.clone());
        ("exact", best)
    } else {
        // Greedy: add the swap that saves the most, while one saves more
        // than the tolerance (or makes an impossible build possible).
        let mut chosen = none.clone();
        let mut cur = base.clone();
        loop {
            let mut step: Option<(usize, VariantEstimate)> = None;
            for &i in &named {
                if chosen[i] {
                    continue;
                }
                chosen[i] = true;
                let (_, e) = est(&chosen);
                chosen[i] = false;
                let gains = if e.possible != cur.possible {
                    e.possible
                } else {
                    e.total_seconds + tolerance(cur.total_seconds) < cur.total_seconds
                };
                let beats_step = step.as_ref().is_none_or(|(_, b)| {
                    (e.possible && !b.possible) || e.total_seconds < b.total_seconds
                });
                if gains && beats_step {
                    step = Some((i, e));
                }
            }
            match step {
                Some((i, e)) => {
                    chosen[i] = true;
                    cur = e;
                }
                None => break,
            }
        }
        ("greedy", chosen)
    };
    let (best_sim, mut best) = est(&best_chosen);
    best.label = "hybrid".into();

    let mut rows: Vec<CandidateRow> = candidates
        .iter()
        .enumerate()
        .map(|(ci, c)| {
            let mut alone = none.clone();
            alone[ci] = true;
            let (sim, e) = est(&alone);
            row(g, c, &sim, &e, &base, best_chosen[ci], host, model, history)
        })
        .collect();
    // A named candidate that saves time alone but is not in the best set:
    // the comparison that decided is with the chosen swaps, not with the
    // base, so say that (the row's own delta would read "cheaper by 0 s").
    for (ci, r) in rows.iter_mut().enumerate() {
        let saves_alone = r.delta_seconds.filter(|d| *d < 0.0);
        if let Some(d) = saves_alone
            && r.named
            && !r.swap
            && best.possible
        {
            let mut with = best_chosen.clone();
            with[ci] = true;
            let (_, e) = est(&with);
            let chosen = if best_chosen.iter().any(|&b| b) {
                "the chosen swaps"
            } else {
                "no swap"
            };
            r.reason = if !e.possible {
                format!(
                    "swapping it alone saves {}, but not with the chosen swaps: that set cannot be built here",
                    crate::format::duration(-d)
                )
            } else if e.total_seconds > best.total_seconds {
                format!(
                    "swapping it alone saves {}, but not with the chosen swaps: ~{} with it vs ~{} with {chosen}",
                    crate::format::duration(-d),
                    crate::format::duration(e.total_seconds),
                    crate::format::duration(best.total_seconds)
                )
            } else {
                format!(
                    "swapping it alone saves {}, but not with the chosen swaps: with it ~{} vs ~{} (within the tolerance) for more work",
                    crate::format::duration(-d),
                    crate::format::duration(e.total_seconds),
                    crate::format::duration(best.total_seconds)
                )
            };
        }
    }

    let mut warnings = Vec::new();
    for (ci, c) in candidates.iter().enumerate() {
        if !best_chosen[ci] && !c.named {
            continue;
        }
        let name = &g.nodes[c.native].build.name;
        if self_contained(name) {
            continue;
        }
        let dependents = &rows[ci].dependents;
        if rows[ci].dependents_rebuilt > 0 {
            warnings.push(format!(
                "{} ({name}) is an input of {} native derivation{} ({}{}): if they load it as a library, a cross-built and a native C runtime meet in one process; swap only self-contained programs, kernels, firmware and boot loaders",
                c.attr,
                rows[ci].dependents_rebuilt,
                if rows[ci].dependents_rebuilt == 1 { "" } else { "s" },
                dependents.join(", "),
                if rows[ci].dependents_rebuilt > dependents.len() {
                    format!(", … and {} more", rows[ci].dependents_rebuilt - dependents.len())
                } else {
                    String::new()
                }
            ));
        }
    }

    let mut unbuildable = Vec::new();
    if !best.possible {
        for &i in &best_sim.native_builds {
            let b = &g.nodes[i].build;
            if route(
                host,
                model,
                &b.system,
                &b.required_features,
                b.prefer_local_build,
            ) == Route::Impossible
            {
                let cover = candidates
                    .iter()
                    .find(|c| c.native == i)
                    .map(|c| {
                        format!(
                            "; swapping {}{} would cross-build it, but no set of the candidates makes every native build possible",
                            c.attr,
                            if c.named {
                                ""
                            } else {
                                " (suggested; its attribute path is a guess)"
                            }
                        )
                    })
                    .unwrap_or_else(|| {
                        "; no candidate covers it: name its attribute with --swap".into()
                    });
                unbuildable.push(format!(
                    "{} ({}): {}{cover}",
                    b.name,
                    g.nodes[i].drv,
                    impossible_reason(host, &b.system, &b.required_features)
                ));
            }
        }
        if unbuildable.is_empty()
            && let Some(r) = &best.impossible_reason
        {
            unbuildable.push(r.clone());
        }
    }

    let predicted_native = name_counts(g, &best_sim.native_builds);
    HybridPlan {
        all_emulated: base,
        all_cross,
        hybrid: best,
        swaps: candidates
            .iter()
            .zip(&best_chosen)
            .filter(|(_, c)| **c)
            .map(|(c, _)| c.attr.clone())
            .collect(),
        rows,
        method: method.into(),
        warnings,
        unbuildable,
        predicted_native,
        predicted_cross: best_sim.cross_builds,
    }
}

#[allow(clippy::too_many_arguments)]
fn row(
    g: &NativeGraph,
    c: &Candidate,
    sim: &Simulation,
    alone: &VariantEstimate,
    base: &VariantEstimate,
    swap: bool,
    host: &HostView,
    model: &CostModel,
    history: &dyn History,
) -> CandidateRow {
    let node = &g.nodes[c.native];
    let b = &node.build;
    let native = if node.cached {
        NativeCost::Fetched
    } else {
        let e = build_alone(b, host, model, history);
        match route(
            host,
            model,
            &b.system,
            &b.required_features,
            b.prefer_local_build,
        ) {
            Route::Native => NativeCost::Native {
                seconds: e.total_work_seconds,
            },
            Route::Emulated { .. } => NativeCost::Emulated {
                seconds: e.total_work_seconds,
            },
            Route::Remote { machine } => NativeCost::Remote {
                seconds: e.total_work_seconds,
                machine: host
                    .machines
                    .get(machine)
                    .map(|m| m.uri.clone())
                    .unwrap_or_default(),
            },
            Route::Impossible => NativeCost::Impossible {
                reason: impossible_reason(host, &b.system, &b.required_features),
            },
        }
    };
    // The cross closure's own builds, weighed alone.
    let cross_only = VariantWork::from_keyed(c.cross.builds.iter().map(|(k, b, d)| {
        (
            k.as_str(),
            b.clone(),
            d.iter().map(String::as_str).collect(),
        )
    }));
    let cross_est = estimate("cross", &cross_only, host, model, history);
    let rebuilt = sim.rebuilt_dependents.len();
    let mut dependents: Vec<String> = sim
        .rebuilt_dependents
        .iter()
        .map(|&i| g.nodes[i].build.name.clone())
        .collect();
    dependents.sort();
    dependents.truncate(8);
    let delta =
        (alone.possible && base.possible).then_some(alone.total_seconds - base.total_seconds);
    let reason = match (&native, swap) {
        (NativeCost::Fetched, _) if !c.named => "suggested, but cached natively".to_string(),
        (_, _) if !c.named => match delta {
            Some(d) if d < 0.0 => format!(
                "suggested: swapping it alone saves {} ({} rebuilt dependent{})",
                crate::format::duration(-d),
                rebuilt,
                if rebuilt == 1 { "" } else { "s" },
            ),
            Some(d) => format!(
                "suggested, but keeping it native is cheaper by {}",
                crate::format::duration(d.max(0.0))
            ),
            None => "suggested: the swap alone does not make the build possible".to_string(),
        },
        (NativeCost::Fetched, false) => "cached natively: nothing to save".to_string(),
        (NativeCost::Impossible { .. }, true) => {
            "cannot be built natively here; the cross build can".to_string()
        }
        (_, true) => match delta {
            Some(d) if d < 0.0 => format!(
                "cross saves {} (native {} vs cross {} + {} rebuilt dependent{})",
                crate::format::duration(-d),
                native_seconds(&native).map_or("-".into(), crate::format::duration),
                crate::format::duration(cross_est.total_work_seconds),
                rebuilt,
                if rebuilt == 1 { "" } else { "s" }
            ),
            _ => "swapped together with the others, which it makes cheaper".to_string(),
        },
        (_, false) => match delta {
            Some(d) => format!(
                "keeping it native is cheaper by {} ({} rebuilt dependent{} and the cross closure cost more)",
                crate::format::duration(d.max(0.0)),
                rebuilt,
                if rebuilt == 1 { "" } else { "s" }
            ),
            None => "not swapped: the swap alone does not make the build possible".to_string(),
        },
    };
    CandidateRow {
        attr: c.attr.clone(),
        name: b.name.clone(),
        native,
        cross_seconds: cross_est.total_work_seconds,
        cross_builds: c.cross.builds.len(),
        dependents_rebuilt: rebuilt,
        dependents,
        delta_seconds: delta,
        swap,
        named: c.named,
        reason,
    }
}

fn native_seconds(n: &NativeCost) -> Option<f64> {
    match n {
        NativeCost::Native { seconds }
        | NativeCost::Emulated { seconds }
        | NativeCost::Remote { seconds, .. } => Some(*seconds),
        NativeCost::Fetched | NativeCost::Impossible { .. } => None,
    }
}
