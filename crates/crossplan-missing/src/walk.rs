//! The walk of Nix's `Store::queryMissing` (Nix 2.8, src/libstore/misc.cc),
//! as an event loop over asynchronous narinfo lookups.
//!
//! Nix's rules, which this reproduces exactly:
//! - A request is processed once per spelling: `drv!out` and `drv!dev` are two
//!   requests (Nix's `done` set is keyed by `DerivedPath::to_string`).
//! - `drv!outputs`: an invalid (unregistered) `.drv` is *unknown*. If every
//!   output has a known path and every wanted one is valid, nothing is needed.
//!   If substitution is on and the derivation allows it (`allowSubstitutes`,
//!   or `always-allow-substitutes`), every invalid wanted output is looked up:
//!   all found → each is fetched (as an opaque path); any missing → the
//!   derivation is *built* and its input derivations (with the outputs it
//!   uses) are requested. Input sources are never visited: a valid `.drv`'s
//!   references are valid.
//! - An opaque path: valid → nothing; else looked up: missing → *unknown*;
//!   found → *fetched*, its `FileSize`/`NarSize` are summed and each of its
//!   `References` is requested in turn.
//!
//! What differs is only how lookups are scheduled: every invalid output of
//! the closure is queued for lookup up front in breadth-first order
//! ("speculative"), behind the lookups the walk is actually waiting for
//! ("demanded"), so a deep graph does not pay one round trip per level. The
//! answer is computed from the demanded results only, so it is the same as
//! Nix's; lookups nobody needed are dropped when the walk ends and their
//! failures are not reported.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crossplan_store::drv::DrvInfo;
use crossplan_store::request::{Outputs, Request};
use crossplan_store::store::{DrvGraph, LocalStore};
use crossplan_store::{StoreError, StorePath};
use futures::stream::{FuturesUnordered, StreamExt};
// Fx, not SipHash: keys are store paths we read ourselves (no hash flooding
// to defend against), and hashing was a visible share of a warm run.
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use crate::{BuildInfo, FetchInfo, LookupFailure, Missing, Rejected};

/// What one lookup of a store path across all substituters found.
#[derive(Debug, Clone, Default)]
pub struct PathLookup {
    /// The accepted narinfo, from the first substituter (in priority order) that had one.
    pub hit: Option<PathHit>,
    /// Lookups that failed for good on the way.
    pub errors: Vec<LookupFailure>,
    /// Narinfo records refused on the way (bad signature, wrong path, …).
    pub rejected: Vec<Rejected>,
}

/// An accepted narinfo.
#[derive(Debug, Clone, Default)]
pub struct PathHit {
    /// The substituter that serves it (credentials redacted).
    pub substituter: String,
    /// `References`.
    pub references: Vec<StorePath>,
    /// `FileSize` (0 when absent).
    pub file_size: u64,
    /// `NarSize`.
    pub nar_size: u64,
}

/// Where narinfo lookups come from: the substituters, in priority order.
pub trait Lookups {
    /// Look `path` up in every substituter until one has it.
    fn lookup(&self, path: StorePath) -> impl Future<Output = PathLookup>;
    /// The answer to `lookup(path)` if it is at hand without waiting (already in
    /// memory); `None` means: call `lookup`. A warm run answers nearly every
    /// lookup here, without a future or a task switch.
    fn lookup_now(&self, _path: &StorePath) -> Option<PathLookup> {
        None
    }
    /// How many lookups are worth having in flight now, if the source knows
    /// better than [`Options::jobs`] (e.g. it found the caches fast and lets
    /// fewer requests run at once); the walk keeps no more than that going.
    fn capacity(&self) -> Option<usize> {
        None
    }
    /// Whether `lookup_now(path)` would very likely answer: then looking the
    /// path up ahead of the walk (speculatively) gains nothing.
    fn at_hand(&self, _path: &StorePath) -> bool {
        false
    }
    /// A hint that these paths may be looked up soon (e.g. to load a disk cache in bulk).
    fn preload(&self, _paths: &[StorePath]) -> impl Future<Output = ()> {
        async {}
    }
}

/// Settings of the walk.
#[derive(Debug, Clone)]
pub struct Options {
    /// Nix's `substitute` setting.
    pub use_substitutes: bool,
    /// Nix's `always-allow-substitutes` setting.
    pub always_allow_substitutes: bool,
    /// Lookups in flight at most.
    pub jobs: usize,
    /// Look up the whole closure's outputs ahead of the walk.
    pub speculate: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            use_substitutes: true,
            always_allow_substitutes: false,
            jobs: 512,
            speculate: true,
        }
    }
}

/// Counters a progress display may read while the walk runs.
#[derive(Debug, Default)]
pub struct Progress {
    /// Derivations read from the store.
    pub drvs_read: AtomicU64,
    /// Lookups queued (demanded or speculative).
    pub lookups_queued: AtomicU64,
    /// Lookups answered.
    pub lookups_done: AtomicU64,
    /// Derivations found to need building so far.
    pub builds: AtomicU64,
    /// Paths found to be fetched so far.
    pub fetches: AtomicU64,
}

/// Why the walk could not answer.
#[derive(Debug, thiserror::Error)]
pub enum MissingError {
    /// Reading the store or asking Nix failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl MissingError {
    /// How to fix it, where known.
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::Store(e) => e.hint(),
        }
    }
}

type LookupFuture<'a> = Pin<Box<dyn Future<Output = (StorePath, PathLookup)> + 'a>>;

enum Waiter {
    /// A derivation whose invalid wanted outputs are being looked up.
    Outputs {
        drv: StorePath,
        outputs: Vec<StorePath>,
        remaining: usize,
        decided: bool,
    },
    /// An opaque path being looked up.
    Opaque(StorePath),
}

struct Walk<'s> {
    store: &'s LocalStore,
    graph: DrvGraph,
    valid: HashMap<StorePath, bool>,
    opts: Options,
    progress: &'s Progress,

    queue: VecDeque<Request>,
    /// The roots, until the speculative queue is built from them.
    speculate_from: Option<Vec<Request>>,
    done: HashSet<Request>,
    deferred: Vec<StorePath>,

    waiters: Vec<Waiter>,
    waiting_on: HashMap<StorePath, Vec<usize>>,
    results: HashMap<StorePath, Arc<PathLookup>>,
    requested: HashSet<StorePath>,
    demand: VecDeque<StorePath>,
    speculative: VecDeque<StorePath>,

    build: BTreeSet<StorePath>,
    fetch: BTreeMap<StorePath, Arc<PathLookup>>,
    unknown: BTreeSet<StorePath>,
    consumed: HashSet<StorePath>,

    stats: WalkStats,
}

/// Where the walk's time went, for `-vv` (the time breakdown of a cold run).
#[derive(Debug, Default)]
struct WalkStats {
    /// Time spent waiting for a lookup to finish.
    waiting: std::time::Duration,
    /// Of that, time with fewer lookups in flight than the window allows.
    underfilled: std::time::Duration,
    /// Of that, time when nothing more was queued to go out.
    starved: std::time::Duration,
    /// Lookups in flight × seconds, summed over the waits.
    in_flight_secs: f64,
}

impl WalkStats {
    fn record(&mut self, since: std::time::Instant, in_flight: usize, window: usize, queued: bool) {
        let waited = since.elapsed();
        self.waiting += waited;
        self.in_flight_secs += in_flight as f64 * waited.as_secs_f64();
        if in_flight < window {
            self.underfilled += waited;
            if !queued {
                self.starved += waited;
            }
        }
    }
}

/// Compute what realising `roots` needs: Nix's `queryMissing`, plus the
/// substituter of each fetched path and the narinfo records refused.
pub async fn query_missing<L: Lookups>(
    store: &LocalStore,
    roots: &[Request],
    lookups: &L,
    opts: &Options,
    progress: &Progress,
) -> Result<Missing, MissingError> {
    // Roots first: an unregistered root .drv is unknown and must not be read.
    let mut root_paths: Vec<StorePath> = roots
        .iter()
        .map(|r| match r {
            Request::Built { drv, .. } => drv.clone(),
            Request::Opaque(p) => p.clone(),
        })
        .collect();
    root_paths.sort();
    root_paths.dedup();
    let t0 = std::time::Instant::now();
    let valid_roots = store.valid_paths(&root_paths)?;
    let root_drvs: Vec<StorePath> = roots
        .iter()
        .filter_map(|r| match r {
            Request::Built { drv, .. } if valid_roots.contains(drv) => Some(drv.clone()),
            _ => None,
        })
        .collect();
    let graph = store.load_closure(&root_drvs)?;
    tracing::info!(
        rss_mib = crossplan_store::rss_mib(),
        drvs = graph.drvs.len(),
        elapsed_ms = t0.elapsed().as_millis() as u64,
        "read the derivation closure"
    );
    progress
        .drvs_read
        .store(graph.drvs.len() as u64, Ordering::Relaxed);

    // Validity of every .drv and every known output of the closure, in one
    // batch; meanwhile the narinfo disk cache is read for every output (those
    // turn out to be nearly all the lookups: outputs are rarely valid already).
    //
    // The .drv files themselves need no check: the graph was read from valid
    // roots only, and a valid path's references are valid (the store's
    // closure invariant), so every derivation in it is valid, exactly as
    // `isValidPath` would say.
    let mut outputs: Vec<StorePath> = Vec::with_capacity(graph.drvs.len() * 2);
    for info in graph.drvs.values() {
        outputs.extend(info.output_paths().cloned());
    }
    outputs.sort_unstable();
    outputs.dedup();
    let t1 = std::time::Instant::now();
    let check = {
        let store = store.clone();
        let outputs = outputs.clone();
        tokio::task::spawn_blocking(move || {
            let t = std::time::Instant::now();
            let valid = store.valid_paths(&outputs);
            tracing::debug!(
                elapsed_ms = t.elapsed().as_millis() as u64,
                "validity query"
            );
            valid
        })
    };
    if opts.use_substitutes && opts.speculate {
        lookups.preload(&outputs).await;
        tracing::info!(
            rss_mib = crossplan_store::rss_mib(),
            paths = outputs.len(),
            elapsed_ms = t1.elapsed().as_millis() as u64,
            "preloaded the narinfo cache"
        );
    }
    let valid_set = check.await.map_err(|e| {
        MissingError::Store(StoreError::NixOutput {
            command: "check validity".into(),
            reason: e.to_string(),
        })
    })??;
    tracing::info!(
        rss_mib = crossplan_store::rss_mib(),
        paths = outputs.len(),
        valid = valid_set.len(),
        elapsed_ms = t1.elapsed().as_millis() as u64,
        "checked validity"
    );
    let mut valid: HashMap<StorePath, bool> = HashMap::with_capacity_and_hasher(
        outputs.len() + graph.drvs.len() + root_paths.len(),
        Default::default(),
    );
    for p in &outputs {
        valid.insert(p.clone(), valid_set.contains(p));
    }
    for p in graph.drvs.keys() {
        valid.insert(p.clone(), true);
    }
    for p in &root_paths {
        valid.insert(p.clone(), valid_roots.contains(p));
    }

    let mut walk = Walk {
        store,
        graph,
        valid,
        opts: opts.clone(),
        progress,
        queue: roots.iter().cloned().collect(),
        // Built the first time the walk waits for the network (see `run`).
        speculate_from: (opts.use_substitutes && opts.speculate).then(|| roots.to_vec()),
        done: HashSet::default(),
        deferred: Vec::new(),
        waiters: Vec::new(),
        waiting_on: HashMap::default(),
        results: HashMap::default(),
        requested: HashSet::default(),
        demand: VecDeque::new(),
        speculative: VecDeque::new(),
        build: BTreeSet::new(),
        fetch: BTreeMap::new(),
        unknown: BTreeSet::new(),
        consumed: HashSet::default(),
        stats: WalkStats::default(),
    };
    let t2 = std::time::Instant::now();
    walk.run(lookups).await?;
    let walked = t2.elapsed();
    let stats = &walk.stats;
    tracing::info!(
        rss_mib = crossplan_store::rss_mib(),
        lookups = walk.requested.len(),
        elapsed_ms = walked.as_millis() as u64,
        "walked"
    );
    tracing::debug!(
        waiting_ms = stats.waiting.as_millis() as u64,
        working_ms = walked.saturating_sub(stats.waiting).as_millis() as u64,
        underfilled_ms = stats.underfilled.as_millis() as u64,
        starved_ms = stats.starved.as_millis() as u64,
        mean_in_flight = (stats.in_flight_secs / walked.as_secs_f64().max(1e-9)).round() as u64,
        "where the walk's time went (waiting for lookups / handling answers; \
         underfilled: fewer lookups in flight than the window; starved: nothing left to send)"
    );
    let t3 = std::time::Instant::now();
    let answer = walk.answer();
    tracing::info!(
        rss_mib = crossplan_store::rss_mib(),
        elapsed_ms = t3.elapsed().as_millis() as u64,
        "answer assembled"
    );
    // Freeing the walk's maps (the graph's derivations, tens of thousands of paths
    // and lookups) took ~25 ms of an 18k warm run on this thread; the answer does not
    // need to wait for it.
    let Walk {
        graph,
        valid,
        queue,
        done,
        waiting_on,
        results,
        requested,
        build,
        fetch,
        unknown,
        consumed,
        ..
    } = walk;
    tokio::task::spawn_blocking(move || {
        drop((
            graph, valid, queue, done, waiting_on, results, requested, build, fetch, unknown,
            consumed,
        ));
    });
    Ok(answer)
}

impl<'s> Walk<'s> {
    /// Queue, in breadth-first order, the invalid outputs a build request
    /// may ask for: those a root or a derivation of the closure wants (an
    /// input derivation is requested with the outputs its user names, so a
    /// `dev` or `doc` output nobody uses is never looked up by Nix's walk,
    /// and looking it up ahead of the walk was about one in fifteen of a
    /// cold run's lookups). A path only a narinfo's `References` lead to is looked up
    /// when the walk demands it.
    fn queue_speculative(&mut self, roots: &[Request]) {
        let mut wanted: HashSet<&StorePath> = HashSet::default();
        let mut want = |drv: &StorePath, outputs: &dyn Fn(&str) -> bool| {
            if let Some(info) = self.graph.drvs.get(drv) {
                for (name, path) in &info.outputs {
                    if let Some(path) = path
                        && outputs(name)
                    {
                        wanted.insert(path);
                    }
                }
            }
        };
        for request in roots {
            if let Request::Built { drv, outputs } = request {
                want(drv, &|name| outputs.wants(name));
            }
        }
        for info in self.graph.drvs.values() {
            for (input, names) in &info.input_drvs {
                want(input, &|name| names.iter().any(|n| n == name));
            }
        }
        let mut queued = HashSet::default();
        for drv in &self.graph.order {
            let Some(info) = self.graph.drvs.get(drv) else {
                continue;
            };
            if !info.substitutes_allowed(self.opts.always_allow_substitutes) {
                continue;
            }
            for out in info.output_paths() {
                if wanted.contains(out) && !self.is_valid(out) && queued.insert(out) {
                    self.speculative.push_back(out.clone());
                }
            }
        }
        self.progress
            .lookups_queued
            .fetch_add(self.speculative.len() as u64, Ordering::Relaxed);
    }

    fn is_valid(&self, path: &StorePath) -> bool {
        self.valid.get(path).copied().unwrap_or(false)
    }

    /// Whether lookups are queued that the window has no room for yet.
    fn has_queued(&self) -> bool {
        !self.demand.is_empty() || !self.speculative.is_empty()
    }

    async fn run<L: Lookups>(&mut self, lookups: &'s L) -> Result<(), MissingError> {
        let mut inflight: FuturesUnordered<LookupFuture<'s>> = FuturesUnordered::new();
        loop {
            while let Some(req) = self.queue.pop_front() {
                self.handle(req);
            }
            if !self.deferred.is_empty() {
                self.check_deferred()?;
                continue;
            }
            let jobs = lookups
                .capacity()
                .map_or(self.opts.jobs, |c| c.min(self.opts.jobs))
                .max(1);
            while inflight.len() < jobs {
                // Speculative lookups only while the walk waits for the
                // network anyway: a walk that answers everything from memory
                // (a warm run) never waits, and needs none of them.
                let next = match self.demand.pop_front() {
                    Some(path) => Some((path, false)),
                    None if !self.waiting_on.is_empty() => {
                        // The queue is built the first time the walk waits: a
                        // warm run never does, and building it was a tenth of
                        // such a run's work on its own thread.
                        if let Some(roots) = self.speculate_from.take() {
                            self.queue_speculative(&roots);
                        }
                        self.speculative.pop_front().map(|path| (path, true))
                    }
                    None => None,
                };
                let Some((path, speculative)) = next else {
                    break;
                };
                if self.requested.contains(&path) {
                    continue;
                }
                if speculative && lookups.at_hand(&path) {
                    // Answered at once if the walk ever asks; asking now
                    // would only do work the walk may not need.
                    self.progress.lookups_queued.fetch_sub(1, Ordering::Relaxed);
                    continue;
                }
                self.requested.insert(path.clone());
                if let Some(result) = lookups.lookup_now(&path) {
                    self.progress.lookups_done.fetch_add(1, Ordering::Relaxed);
                    self.deliver(path, Arc::new(result));
                    if !self.queue.is_empty() {
                        // New requests first: they may demand lookups that
                        // must go ahead of the speculative ones.
                        break;
                    }
                    continue;
                }
                tracing::trace!(
                    path = %self.store.render(&path),
                    speculative,
                    "lookup goes out"
                );
                inflight.push(Box::pin(async move {
                    let result = lookups.lookup(path.clone()).await;
                    (path, result)
                }));
            }
            if !self.queue.is_empty() {
                continue;
            }
            if self.waiting_on.is_empty() {
                // Every question the walk asked is answered; lookups still in
                // flight were speculative and are dropped (cancelled) here.
                break;
            }
            let waited = std::time::Instant::now();
            let next = inflight.next().await;
            self.stats
                .record(waited, inflight.len() + 1, jobs, self.has_queued());
            let Some((path, result)) = next else {
                // Nothing in flight, yet somebody waits: cannot happen, since a
                // waited-for path is always queued as demanded. Fail loudly.
                return Err(MissingError::Store(StoreError::NixOutput {
                    command: "queryMissing walk".into(),
                    reason: "internal error: a lookup was awaited but never started".into(),
                }));
            };
            self.progress.lookups_done.fetch_add(1, Ordering::Relaxed);
            self.deliver(path, Arc::new(result));
        }
        Ok(())
    }

    fn handle(&mut self, req: Request) {
        if !self.done.insert(req.clone()) {
            return;
        }
        match req {
            Request::Built { drv, outputs } => self.handle_built(drv, &outputs),
            Request::Opaque(path) => {
                if self.valid.contains_key(&path) {
                    self.handle_opaque(path);
                } else {
                    self.deferred.push(path);
                }
            }
        }
    }

    fn handle_built(&mut self, drv: StorePath, outputs: &Outputs) {
        if !self.is_valid(&drv) {
            self.unknown.insert(drv);
            return;
        }
        let Some(info) = self.graph.drvs.get(&drv).cloned() else {
            // A valid .drv that is not in the graph: only possible for an
            // input of an unregistered root, which we never read. Nix would
            // read it; treat it as Nix treats an unreadable derivation.
            self.unknown.insert(drv);
            return;
        };
        let known = info.outputs.iter().all(|(_, path)| path.is_some());
        let mut invalid: Vec<StorePath> = Vec::new();
        for (name, path) in &info.outputs {
            if let Some(path) = path
                && outputs.wants(name)
                && !self.is_valid(path)
                && !invalid.contains(path)
            {
                invalid.push(path.clone());
            }
        }
        if known && invalid.is_empty() {
            return;
        }
        if known
            && self.opts.use_substitutes
            && info.substitutes_allowed(self.opts.always_allow_substitutes)
        {
            let id = self.waiters.len();
            self.waiters.push(Waiter::Outputs {
                drv,
                outputs: invalid.clone(),
                remaining: invalid.len(),
                decided: false,
            });
            for out in invalid {
                self.wait_for(out, id);
            }
        } else {
            self.must_build(drv, &info);
        }
    }

    fn handle_opaque(&mut self, path: StorePath) {
        if self.is_valid(&path) {
            return;
        }
        if !self.opts.use_substitutes {
            self.unknown.insert(path);
            return;
        }
        let id = self.waiters.len();
        self.waiters.push(Waiter::Opaque(path.clone()));
        self.wait_for(path, id);
    }

    fn check_deferred(&mut self) -> Result<(), MissingError> {
        let mut paths = std::mem::take(&mut self.deferred);
        paths.sort();
        paths.dedup();
        let unchecked: Vec<StorePath> = paths
            .iter()
            .filter(|p| !self.valid.contains_key(*p))
            .cloned()
            .collect();
        let valid = self.store.valid_paths(&unchecked)?;
        for p in unchecked {
            let ok = valid.contains(&p);
            self.valid.insert(p, ok);
        }
        for p in paths {
            self.handle_opaque(p);
        }
        Ok(())
    }

    fn wait_for(&mut self, path: StorePath, waiter: usize) {
        if let Some(result) = self.results.get(&path).cloned() {
            self.resolve(waiter, &path, result);
            return;
        }
        let list = self.waiting_on.entry(path.clone()).or_default();
        list.push(waiter);
        if list.len() == 1 {
            self.progress.lookups_queued.fetch_add(1, Ordering::Relaxed);
            self.demand.push_back(path);
        }
    }

    fn deliver(&mut self, path: StorePath, result: Arc<PathLookup>) {
        self.results.insert(path.clone(), result.clone());
        if let Some(waiters) = self.waiting_on.remove(&path) {
            for w in waiters {
                self.resolve(w, &path, result.clone());
            }
        }
    }

    fn resolve(&mut self, waiter: usize, path: &StorePath, result: Arc<PathLookup>) {
        self.consumed.insert(path.clone());
        let Some(w) = self.waiters.get_mut(waiter) else {
            return;
        };
        match w {
            Waiter::Outputs {
                drv,
                outputs,
                remaining,
                decided,
            } => {
                if *decided {
                    return;
                }
                if result.hit.is_none() {
                    *decided = true;
                    let drv = drv.clone();
                    if let Some(info) = self.graph.drvs.get(&drv).cloned() {
                        self.must_build(drv, &info);
                    }
                    return;
                }
                *remaining -= 1;
                if *remaining == 0 {
                    *decided = true;
                    let outs = outputs.clone();
                    self.queue.extend(outs.into_iter().map(Request::Opaque));
                }
            }
            Waiter::Opaque(p) => {
                let p = p.clone();
                match &result.hit {
                    None => {
                        self.unknown.insert(p);
                    }
                    Some(hit) => {
                        self.progress.fetches.fetch_add(1, Ordering::Relaxed);
                        self.queue
                            .extend(hit.references.iter().cloned().map(Request::Opaque));
                        self.fetch.insert(p, result);
                    }
                }
            }
        }
    }

    fn must_build(&mut self, drv: StorePath, info: &DrvInfo) {
        if self.build.insert(drv) {
            self.progress.builds.fetch_add(1, Ordering::Relaxed);
        }
        for (input, outs) in &info.input_drvs {
            self.queue.push_back(Request::Built {
                drv: input.clone(),
                outputs: Outputs::Names(outs.iter().cloned().collect()),
            });
        }
    }

    fn answer(&self) -> Missing {
        let render = |p: &StorePath| self.store.render(p);
        let mut missing = Missing::default();
        // Each built derivation rendered once; its map also answers "is this
        // input built too?" for the edges.
        let rendered: HashMap<&StorePath, String> =
            self.build.iter().map(|drv| (drv, render(drv))).collect();
        for drv in &self.build {
            let build_info = match self.graph.drvs.get(drv) {
                Some(info) => BuildInfo {
                    name: info.name.clone(),
                    system: info.system.clone(),
                    input_drvs: info
                        .input_paths()
                        .filter_map(|i| rendered.get(i).cloned())
                        .collect(),
                    required_features: info.required_features.clone(),
                    prefer_local_build: info.prefer_local_build,
                },
                None => BuildInfo::default(),
            };
            let key = rendered.get(drv).cloned().unwrap_or_else(|| render(drv));
            missing.build.insert(key, build_info);
        }
        for (path, lookup) in &self.fetch {
            if let Some(hit) = &lookup.hit {
                missing.download_bytes += hit.file_size;
                missing.nar_bytes += hit.nar_size;
                missing.fetch.insert(
                    render(path),
                    FetchInfo {
                        substituter: hit.substituter.clone(),
                        file_size: hit.file_size,
                        nar_size: hit.nar_size,
                    },
                );
            }
        }
        missing.unknown = self.unknown.iter().map(render).collect();
        let mut errors = BTreeSet::new();
        let mut rejected = BTreeSet::new();
        for path in &self.consumed {
            if let Some(result) = self.results.get(path) {
                errors.extend(result.errors.iter().cloned());
                rejected.extend(result.rejected.iter().cloned());
            }
        }
        missing.errors = errors.into_iter().collect();
        missing.rejected = rejected.into_iter().collect();
        missing
    }
}
