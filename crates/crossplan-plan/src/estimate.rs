//! Wall-time estimate of one variant: route every derivation the way Nix
//! would (here natively, here under QEMU, on a remote builder, or nowhere),
//! weigh it, and combine the weights with the shape of the graph.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::host::HostView;
use crate::model::{CostModel, History};
use crate::name::parse_drv_name;
use crate::work::VariantWork;

/// Where one derivation would be built.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum Route {
    /// On this host, by this CPU.
    Native,
    /// On this host, under QEMU user mode (binfmt_misc), `factor` times slower.
    Emulated { factor: f64 },
    /// On remote builder number `machine` of [`HostView::machines`].
    Remote { machine: usize },
    /// Nowhere: no local platform and no remote builder accepts it.
    Impossible,
}

/// One emulation factor used by an estimate, and where it came from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FactorUsed {
    pub factor: f64,
    pub source: String,
}

/// The estimate of one variant. All times are in seconds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VariantEstimate {
    /// `cross`, `emulated`, `purego`, or the name given to `--variant`.
    pub label: String,
    /// Whether this host (with its remote builders) can realise it at all.
    pub possible: bool,
    /// Why not, when it is not possible.
    pub impossible_reason: Option<String>,
    /// Derivations to build.
    pub builds: usize,
    /// … of which natively here.
    pub native_builds: usize,
    /// … of which under QEMU here.
    pub emulated_builds: usize,
    /// … of which on remote builders.
    pub remote_builds: usize,
    /// Store paths to fetch.
    pub fetches: usize,
    /// Compressed download bytes.
    pub download_bytes: u64,
    /// Unpacked bytes of the downloads.
    pub nar_bytes: u64,
    /// Paths nobody can provide.
    pub unknown: usize,
    /// Sum of every derivation's weighted build time.
    pub total_work_seconds: f64,
    /// The longest chain of dependent builds.
    pub critical_path_seconds: f64,
    /// Build phase: max(critical path, work of each pool ÷ its slots).
    pub build_seconds: f64,
    /// Download bytes ÷ bandwidth.
    pub download_seconds: f64,
    /// `build_seconds + download_seconds`.
    pub total_seconds: f64,
    /// Emulation factors that were applied, by system.
    pub emulation_factors: BTreeMap<String, FactorUsed>,
    /// The heaviest derivations (name, weighted seconds), at most 3.
    pub heaviest: Vec<(String, f64)>,
    /// The remote builders used, by URI.
    pub remote_machines: Vec<String>,
}

/// Decide where Nix would build a derivation of `system` with `required`
/// features: a remote builder that accepts it (highest speed factor first)
/// unless `prefer_local` and it can build here; else here (natively or under
/// QEMU); else nowhere. See cache-semantics.md §5.
pub fn route(
    host: &HostView,
    model: &CostModel,
    system: &str,
    required: &[String],
    prefer_local: bool,
) -> Route {
    let local = host.can_build_locally(system, required);
    let remote = host
        .machines
        .iter()
        .enumerate()
        .filter(|(_, m)| m.accepts(system, required) && m.max_jobs > 0)
        .max_by(|(_, a), (_, b)| a.speed_factor.total_cmp(&b.speed_factor))
        .map(|(i, _)| i);
    match (remote, local) {
        (Some(_), true) if prefer_local || system == "builtin" => local_route(host, model, system),
        (Some(machine), _) => Route::Remote { machine },
        (None, true) => local_route(host, model, system),
        (None, false) => Route::Impossible,
    }
}

fn local_route(host: &HostView, model: &CostModel, system: &str) -> Route {
    if host.runs_natively(system) {
        Route::Native
    } else {
        Route::Emulated {
            factor: model.emulation_factor(system, &host.emulation_factors).0,
        }
    }
}

/// Why a derivation of `system` cannot be built here, in words.
pub fn impossible_reason(host: &HostView, system: &str, required: &[String]) -> String {
    let known_system = system == host.system
        || host.extra_platforms.iter().any(|s| s == system)
        || host
            .machines
            .iter()
            .any(|m| m.systems.iter().any(|s| s == system));
    if known_system {
        if host.max_jobs == 0
            && !host
                .machines
                .iter()
                .any(|m| m.systems.iter().any(|s| s == system))
        {
            return format!("max-jobs is 0 and no remote builder builds {system}");
        }
        format!(
            "no builder here or remote offers the features {{{}}} for {system}",
            required.join(", ")
        )
    } else {
        format!(
            "{system} is neither this host's system ({}) nor in extra-platforms (no binfmt emulation), and no remote builder builds it",
            host.system
        )
    }
}

/// Weighted seconds of one derivation on its route.
fn weigh(
    host: &HostView,
    model: &CostModel,
    history: &dyn History,
    name: &str,
    system: &str,
    route: &Route,
) -> f64 {
    let (pname, _) = parse_drv_name(name);
    if system == "builtin" {
        // builtin:fetchurl and friends: no compilation, download time is
        // counted with the source's size unknown; one overhead.
        return model.per_build_overhead_seconds;
    }
    let native = || {
        history
            .seconds(pname, system, false)
            .or_else(|| history.seconds(pname, &host.system, false))
            .unwrap_or_else(|| model.prior(name).0 * model.host_slowness)
            + model.per_build_overhead_seconds
    };
    match route {
        Route::Native => native(),
        Route::Emulated { factor } => history
            .seconds(pname, system, true)
            .unwrap_or_else(|| native() * factor),
        Route::Remote { machine } => {
            let speed = host
                .machines
                .get(*machine)
                .map(|m| {
                    if m.speed_factor > 0.0 {
                        m.speed_factor
                    } else {
                        1.0
                    }
                })
                .unwrap_or(1.0);
            native() / speed
        }
        Route::Impossible => 0.0,
    }
}

/// Estimate one variant's wall time on `host`.
pub fn estimate(
    label: &str,
    work: &VariantWork,
    host: &HostView,
    model: &CostModel,
    history: &dyn History,
) -> VariantEstimate {
    let n = work.builds.len();
    let mut routes = Vec::with_capacity(n);
    let mut cost = Vec::with_capacity(n);
    let mut impossible: Option<String> = None;
    let mut factors = BTreeMap::new();
    let (mut native_builds, mut emulated_builds, mut remote_builds) = (0, 0, 0);
    // pool 0 = local, pool 1 + i = machine i
    let mut pool_work = vec![0.0f64; 1 + host.machines.len()];
    for node in &work.builds {
        let r = route(
            host,
            model,
            &node.system,
            &node.required_features,
            node.prefer_local_build,
        );
        let c = weigh(host, model, history, &node.name, &node.system, &r);
        match &r {
            Route::Native => {
                native_builds += 1;
                pool_work[0] += c;
            }
            Route::Emulated { .. } => {
                emulated_builds += 1;
                pool_work[0] += c;
                let (factor, source) =
                    model.emulation_factor(&node.system, &host.emulation_factors);
                factors
                    .entry(node.system.clone())
                    .or_insert(FactorUsed { factor, source });
            }
            Route::Remote { machine } => {
                remote_builds += 1;
                pool_work[1 + machine] += c;
            }
            Route::Impossible => {
                if impossible.is_none() {
                    impossible = Some(impossible_reason(
                        host,
                        &node.system,
                        &node.required_features,
                    ));
                }
            }
        }
        routes.push(r);
        cost.push(c);
    }
    if impossible.is_none() && !work.unknown.is_empty() {
        impossible = Some(format!(
            "{} path(s) can be neither built nor fetched (e.g. {})",
            work.unknown.len(),
            work.unknown[0]
        ));
    }

    let critical = critical_path(work, &cost);
    let total_work: f64 = cost.iter().sum();
    let mut build_seconds = critical;
    let local_slots = f64::from(host.max_jobs.max(1));
    build_seconds = build_seconds.max(pool_work[0] / local_slots);
    for (i, m) in host.machines.iter().enumerate() {
        build_seconds = build_seconds.max(pool_work[1 + i] / f64::from(m.max_jobs.max(1)));
    }
    let download_seconds = work.download_bytes as f64 / model.bandwidth_bytes_per_sec();

    let mut heaviest: Vec<(String, f64)> = work
        .builds
        .iter()
        .zip(&cost)
        .map(|(b, c)| (b.name.clone(), *c))
        .collect();
    heaviest.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    heaviest.truncate(3);
    let mut remote_machines: Vec<String> = routes
        .iter()
        .filter_map(|r| match r {
            Route::Remote { machine } => host.machines.get(*machine).map(|m| m.uri.clone()),
            _ => None,
        })
        .collect();
    remote_machines.sort();
    remote_machines.dedup();

    VariantEstimate {
        label: label.to_string(),
        possible: impossible.is_none(),
        impossible_reason: impossible,
        builds: n,
        native_builds,
        emulated_builds,
        remote_builds,
        fetches: work.fetch_count,
        download_bytes: work.download_bytes,
        nar_bytes: work.nar_bytes,
        unknown: work.unknown.len(),
        total_work_seconds: total_work,
        critical_path_seconds: critical,
        build_seconds,
        download_seconds,
        total_seconds: build_seconds + download_seconds,
        emulation_factors: factors,
        heaviest,
        remote_machines,
    }
}

/// Longest path through the build graph, each node weighing `cost[i]`.
/// Kahn's algorithm; nodes on a cycle (which a real derivation graph cannot
/// have) count by themselves.
pub fn critical_path(work: &VariantWork, cost: &[f64]) -> f64 {
    let n = work.builds.len();
    let mut indegree = vec![0usize; n];
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (i, node) in work.builds.iter().enumerate() {
        for &d in &node.deps {
            if d < n && d != i {
                indegree[i] += 1;
                dependents[d].push(i);
            }
        }
    }
    let mut finish: Vec<f64> = cost.to_vec();
    let mut queue: Vec<usize> = (0..n).filter(|&i| indegree[i] == 0).collect();
    while let Some(i) = queue.pop() {
        for &j in &dependents[i] {
            finish[j] = finish[j].max(finish[i] + cost[j]);
            indegree[j] -= 1;
            if indegree[j] == 0 {
                queue.push(j);
            }
        }
    }
    finish.into_iter().fold(0.0, f64::max)
}
