//! The cache status of *every* derivation in a closure, not only of those
//! the walk reaches: what `crossplan hybrid` needs to predict the work of a
//! package set whose attributes are swapped, before the swapped set exists.
//!
//! A swap re-hashes the swapped derivation's dependents; once they must be
//! built, Nix visits their inputs, which the walk of the unswapped closure
//! may never have reached (a cached dependent stops the walk). So each
//! derivation's status is computed on its own: whether every output is valid
//! here or substitutable (Nix's rule for skipping a build), and which paths
//! substituting it fetches — its invalid outputs and, through the narinfo
//! `References`, their runtime closure.

use std::sync::Arc;

use crossplan_store::drv::DrvInfo;
use crossplan_store::store::LocalStore;
use crossplan_store::{StoreError, StorePath};
use futures::stream::{FuturesUnordered, StreamExt};
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use crate::walk::{Lookups, MissingError, Options, PathLookup};
use crate::{FetchInfo, LookupFailure, Rejected};

/// One derivation of the closure and its status.
#[derive(Debug, Clone)]
pub struct NodeStatus {
    pub drv: StorePath,
    pub info: Arc<DrvInfo>,
    /// Input derivations, as indices into [`ClosureStatus::nodes`].
    pub inputs: Vec<usize>,
    /// Every output is valid here, or substitution is allowed and each
    /// invalid output is substitutable: Nix would not build it.
    pub cached: bool,
    /// What substituting it fetches, as indices into
    /// [`ClosureStatus::paths`] (empty when not cached or all valid).
    pub fetches: Vec<usize>,
    /// Paths in that runtime closure no cache has: Nix fetches the rest and
    /// reports these as unknown (it does not build the derivation for it).
    pub unknown: Vec<StorePath>,
}

/// The closure of some root derivations, each node with its status.
#[derive(Debug, Clone, Default)]
pub struct ClosureStatus {
    pub nodes: Vec<NodeStatus>,
    /// The roots, as indices.
    pub roots: Vec<usize>,
    /// Root `.drv` files that do not exist.
    pub missing_roots: Vec<StorePath>,
    /// Every path some node would fetch, with where from and its sizes.
    pub paths: Vec<(StorePath, FetchInfo)>,
    /// Referenced paths no cache has (Nix: "don't know how to build").
    pub unknown: Vec<StorePath>,
    pub errors: Vec<LookupFailure>,
    pub rejected: Vec<Rejected>,
}

impl ClosureStatus {
    /// The index of `drv`.
    pub fn index_of(&self, drv: &StorePath) -> Option<usize> {
        self.nodes.iter().position(|n| &n.drv == drv)
    }
}

/// Look up every invalid output of every derivation in the closure of
/// `roots`, then the references of what is found, and give each derivation
/// its status.
pub async fn closure_status<L: Lookups>(
    store: &LocalStore,
    roots: &[StorePath],
    lookups: &L,
    opts: &Options,
) -> Result<ClosureStatus, MissingError> {
    let graph = store.load_closure(roots)?;
    let mut order = graph.order();
    // The graph's breadth-first order holds what the roots reach; keep any
    // stragglers too
    let ordered: HashSet<&StorePath> = order.iter().collect();
    let mut stragglers: Vec<StorePath> = graph
        .drvs
        .keys()
        .filter(|k| !ordered.contains(k))
        .cloned()
        .collect();
    stragglers.sort();
    order.extend(stragglers);
    let index: HashMap<StorePath, usize> = order
        .iter()
        .enumerate()
        .map(|(i, p)| (p.clone(), i))
        .collect();

    let mut outputs: Vec<StorePath> = graph
        .drvs
        .values()
        .flat_map(|d| d.output_paths().cloned())
        .collect();
    outputs.sort_unstable();
    outputs.dedup();
    let valid_outputs = {
        let store = store.clone();
        let outputs = outputs.clone();
        tokio::task::spawn_blocking(move || store.valid_paths(&outputs))
            .await
            .map_err(|e| {
                MissingError::Store(StoreError::NixOutput {
                    command: "check validity".into(),
                    reason: e.to_string(),
                })
            })??
    };

    // Look up every invalid output, then every reference of what was found,
    // until nothing new turns up.
    let mut results: HashMap<StorePath, Arc<PathLookup>> = HashMap::default();
    let mut valid: HashSet<StorePath> = valid_outputs.into_iter().collect();
    let mut todo: Vec<StorePath> = if opts.use_substitutes {
        outputs
            .iter()
            .filter(|p| !valid.contains(*p))
            .cloned()
            .collect()
    } else {
        Vec::new()
    };
    lookups.preload(&todo).await;
    let jobs = lookups.capacity().unwrap_or(opts.jobs).max(1);
    while !todo.is_empty() {
        let batch = std::mem::take(&mut todo);
        let mut inflight = FuturesUnordered::new();
        let mut found: Vec<(StorePath, PathLookup)> = Vec::with_capacity(batch.len());
        for path in batch {
            if results.contains_key(&path) {
                continue;
            }
            if let Some(now) = lookups.lookup_now(&path) {
                found.push((path, now));
                continue;
            }
            let p = path.clone();
            inflight.push(async move { (p, lookups.lookup(path).await) });
            while inflight.len() >= jobs {
                if let Some(done) = inflight.next().await {
                    found.push(done);
                }
            }
        }
        while let Some(done) = inflight.next().await {
            found.push(done);
        }
        let mut refs: Vec<StorePath> = Vec::new();
        for (path, lookup) in found {
            if let Some(hit) = &lookup.hit {
                refs.extend(hit.references.iter().cloned());
            }
            results.insert(path, Arc::new(lookup));
        }
        refs.sort_unstable();
        refs.dedup();
        refs.retain(|r| !results.contains_key(r) && !valid.contains(r));
        if !refs.is_empty() {
            // references are store paths the closure may not list: ask once
            let store = store.clone();
            let asked = refs.clone();
            let v = tokio::task::spawn_blocking(move || store.valid_paths(&asked))
                .await
                .map_err(|e| {
                    MissingError::Store(StoreError::NixOutput {
                        command: "check validity".into(),
                        reason: e.to_string(),
                    })
                })??;
            valid.extend(v.iter().cloned());
            todo = refs.into_iter().filter(|r| !v.contains(r)).collect();
        }
    }

    // Statuses. Fetch sets: the invalid outputs and their reference closure.
    let mut paths: Vec<(StorePath, FetchInfo)> = Vec::new();
    let mut path_index: HashMap<StorePath, usize> = HashMap::default();
    let mut unknown: HashSet<StorePath> = HashSet::default();
    let mut nodes = Vec::with_capacity(order.len());
    for drv in &order {
        let info = graph.drvs[drv].clone();
        let inputs = info
            .input_paths()
            .filter_map(|p| index.get(p).copied())
            .collect();
        let invalid: Vec<&StorePath> = info
            .output_paths()
            .filter(|p| !valid.contains(*p))
            .collect();
        let floating = info.outputs.iter().any(|(_, p)| p.is_none());
        let substitutable = opts.use_substitutes
            && info.substitutes_allowed(opts.always_allow_substitutes)
            && invalid
                .iter()
                .all(|p| results.get(*p).is_some_and(|l| l.hit.is_some()));
        let cached = !floating && (invalid.is_empty() || substitutable);
        let mut fetches = Vec::new();
        let mut node_unknown = Vec::new();
        if cached && !invalid.is_empty() {
            let mut seen: HashSet<StorePath> = HashSet::default();
            let mut stack: Vec<StorePath> = invalid.into_iter().cloned().collect();
            while let Some(p) = stack.pop() {
                if valid.contains(&p) || !seen.insert(p.clone()) {
                    continue;
                }
                let Some(hit) = results.get(&p).and_then(|l| l.hit.as_ref()) else {
                    unknown.insert(p.clone());
                    node_unknown.push(p);
                    continue;
                };
                let at = *path_index.entry(p.clone()).or_insert_with(|| {
                    paths.push((
                        p.clone(),
                        FetchInfo {
                            substituter: hit.substituter.clone(),
                            file_size: hit.file_size,
                            nar_size: hit.nar_size,
                        },
                    ));
                    paths.len() - 1
                });
                fetches.push(at);
                stack.extend(hit.references.iter().filter(|r| **r != p).cloned());
            }
            fetches.sort_unstable();
            node_unknown.sort();
        }
        nodes.push(NodeStatus {
            drv: drv.clone(),
            info,
            inputs,
            cached,
            fetches,
            unknown: node_unknown,
        });
    }
    let roots_idx = roots.iter().filter_map(|r| index.get(r).copied()).collect();
    let mut errors: Vec<LookupFailure> = Vec::new();
    let mut rejected: Vec<Rejected> = Vec::new();
    for l in results.values() {
        errors.extend(l.errors.iter().cloned());
        rejected.extend(l.rejected.iter().cloned());
    }
    errors.sort();
    errors.dedup();
    rejected.sort();
    rejected.dedup();
    let mut unknown: Vec<StorePath> = unknown.into_iter().collect();
    unknown.sort();
    Ok(ClosureStatus {
        nodes,
        roots: roots_idx,
        missing_roots: graph.missing,
        paths,
        unknown,
        errors,
        rejected,
    })
}
