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
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};

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
pub trait Lookups: Sync {
    /// Look `path` up in every substituter until one has it.
    fn lookup(&self, path: StorePath) -> impl Future<Output = PathLookup> + Send;
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
    fn preload(&self, _paths: &[StorePath]) -> impl Future<Output = ()> + Send {
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
            jobs: crossplan_cache::DEFAULT_JOBS,
            speculate: true,
        }
    }
}

/// Counters a progress display may read while the walk runs.
#[derive(Debug, Default)]
pub struct Progress {
    /// Derivations read from the store.
    pub drvs_read: AtomicU64,
    /// Lookups known so far: each path the walk asked for or queued ahead of it,
    /// once. Speculative ones the walk turns out not to need leave it again
    /// (when skipped, or all at once when the walk ends), so at the end it
    /// equals `lookups_done`.
    pub lookups_queued: AtomicU64,
    /// Lookups answered.
    pub lookups_done: AtomicU64,
    /// Derivations found to need building so far.
    pub builds: AtomicU64,
    /// Paths found to be fetched so far.
    pub fetches: AtomicU64,
    /// What the work is doing now (a [`Stage`]).
    stage: AtomicU8,
}

/// What a walk is doing, for a progress display: the counters alone cannot
/// tell a walk that is reading `.drv` files from one that is saving its
/// results after its last lookup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Evaluating installables (`nix eval`) to find the roots' derivations.
    Evaluating,
    /// Reading the roots' derivation closure.
    Reading,
    /// Asking the store which outputs are valid, and the narinfo disk cache
    /// what it holds.
    Checking,
    /// Looking paths up in the caches.
    LookingUp,
    /// Putting the answer together.
    Answering,
    /// Saving what was learnt (the narinfo disk cache, the closure cache).
    Saving,
}

impl Stage {
    const ALL: [Self; 6] = [
        Self::Evaluating,
        Self::Reading,
        Self::Checking,
        Self::LookingUp,
        Self::Answering,
        Self::Saving,
    ];

    /// A few words for a progress line.
    #[must_use]
    pub fn describe(self) -> &'static str {
        match self {
            Self::Evaluating => "evaluating",
            Self::Reading => "reading derivations",
            Self::Checking => "checking validity",
            Self::LookingUp => "looking up",
            Self::Answering => "assembling the answer",
            Self::Saving => "saving caches",
        }
    }
}

impl Progress {
    /// What the work is doing now ([`Stage::Evaluating`] until told).
    #[must_use]
    pub fn stage(&self) -> Stage {
        let index = usize::from(self.stage.load(Ordering::Relaxed));
        Stage::ALL.get(index).copied().unwrap_or(Stage::Evaluating)
    }

    /// Say what the work does from now on.
    pub fn set_stage(&self, stage: Stage) {
        self.stage.store(stage as u8, Ordering::Relaxed);
    }
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

/// The derivation closure of some roots, and which roots are valid: what the
/// walk reads from the local store before it asks any cache.
#[derive(Debug)]
pub struct RootClosure {
    /// The roots, as given.
    roots: Vec<Request>,
    /// The roots' store paths (`.drv` or opaque), sorted, without duplicates.
    root_paths: Vec<StorePath>,
    /// Those of them that are valid.
    valid_roots: std::collections::HashSet<StorePath>,
    /// The closure of the valid root derivations.
    graph: DrvGraph,
}

impl RootClosure {
    /// Read it: the roots' validity, then the closure of the valid root
    /// derivations (an unregistered root `.drv` is unknown and must not be
    /// read). Blocking; a caller may run it beside other work (e.g. while
    /// Nix's settings load) and hand it to [`query_missing_in`], which walks
    /// from these roots.
    pub fn load(store: &LocalStore, roots: &[Request]) -> Result<Self, MissingError> {
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
        Ok(Self {
            roots: roots.to_vec(),
            root_paths,
            valid_roots,
            graph,
        })
    }

    /// The roots it was read for.
    #[must_use]
    pub fn roots(&self) -> &[Request] {
        &self.roots
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
    progress.set_stage(Stage::Reading);
    let closure = RootClosure::load(store, roots)?;
    query_missing_in(store, closure, lookups, opts, progress).await
}

/// [`query_missing`] of the roots of a closure already read by
/// [`RootClosure::load`] from the same `store`.
pub async fn query_missing_in<L: Lookups>(
    store: &LocalStore,
    closure: RootClosure,
    lookups: &L,
    opts: &Options,
    progress: &Progress,
) -> Result<Missing, MissingError> {
    let RootClosure {
        roots,
        root_paths,
        valid_roots,
        graph,
    } = closure;
    progress
        .drvs_read
        .store(graph.drvs.len() as u64, Ordering::Relaxed);
    progress.set_stage(Stage::Checking);

    // Validity of every known output of the closure, in one batch; meanwhile
    // the narinfo disk cache is read for every output (those turn out to be
    // nearly all the lookups: outputs are rarely valid already) and the walk's
    // tables are built.
    //
    // The .drv files themselves need no check: the graph was read from valid
    // roots only, and a valid path's references are valid (the store's
    // closure invariant), so every derivation in it is valid, exactly as
    // `isValidPath` would say.
    let mut outputs: Vec<StorePath> = Vec::with_capacity(graph.drvs.len() * 2);
    for info in graph.drvs.values() {
        outputs.extend(info.output_paths().cloned());
    }
    // Any order that groups duplicates will do (the validity query, the
    // preload and the ids do not depend on it); StorePath's own order compares
    // base-32 text, several times slower than the raw digest.
    outputs.sort_unstable_by(|a, b| (a.digest(), a.name()).cmp(&(b.digest(), b.name())));
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
    // The walk's tables are built meanwhile: ids for every derivation and
    // output (validity filled in when the query is back).
    let interned = async { Walk::new(store, graph, &outputs, opts.clone(), progress) };
    let mut walk = if opts.use_substitutes && opts.speculate {
        let ((), walk) = futures::join!(lookups.preload(&outputs), interned);
        tracing::info!(
            rss_mib = crossplan_store::rss_mib(),
            paths = outputs.len(),
            elapsed_ms = t1.elapsed().as_millis() as u64,
            "preloaded the narinfo cache"
        );
        walk
    } else {
        interned.await
    };
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
    walk.set_validity(&valid_set, &root_paths, &valid_roots);
    drop((outputs, valid_set, valid_roots));
    let roots: Vec<Req> = roots.iter().map(|r| walk.intern_request(r)).collect();
    walk.queue = roots.iter().copied().collect();
    // Built the first time the walk waits for the network (see `run`).
    walk.speculate_from = (opts.use_substitutes && opts.speculate).then_some(roots);
    let t2 = std::time::Instant::now();
    progress.set_stage(Stage::LookingUp);
    walk.run(lookups).await?;
    let walked = t2.elapsed();
    let stats = &walk.stats;
    tracing::info!(
        rss_mib = crossplan_store::rss_mib(),
        lookups = walk.requested,
        unused = walk
            .nodes
            .iter()
            .filter(|n| n.lookup.is_some() && !n.consumed)
            .count(),
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
    progress.set_stage(Stage::Answering);
    let answer = walk.answer();
    tracing::info!(
        rss_mib = crossplan_store::rss_mib(),
        elapsed_ms = t3.elapsed().as_millis() as u64,
        "answer assembled"
    );
    // Freeing the walk's tables (tens of thousands of paths, derivations and
    // lookups) took ~25 ms of an 18k warm run on this thread; the answer does
    // not need to wait for it.
    let Walk {
        paths,
        ids,
        nodes,
        done_built,
        ..
    } = walk;
    tokio::task::spawn_blocking(move || drop((paths, ids, nodes, done_built)));
    Ok(answer)
}

/// A store path's index in the walk's tables: the walk gives each path one
/// when it first meets it (keeping the path in its id map and its path list),
/// and works with ids from then on.
type Id = u32;

/// An output selection's index in [`Walk::sets`]; [`ALL`] is every output.
type SetId = u32;

/// `^*` (and a bare `.drv`): every output.
const ALL: SetId = 0;

/// No index (a derivation not built).
const NONE: u32 = u32::MAX;

/// One request of the walk, as Nix's `DerivedPath`, in ids. Two requests are
/// the same exactly when Nix spells them the same (`drv!out` and `drv!dev`
/// are two), since an output selection's id stands for its sorted names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Req {
    Built(Id, SetId),
    Opaque(Id),
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum Validity {
    /// Not asked yet (a path met only in a narinfo's `References`).
    #[default]
    Unchecked,
    Invalid,
    Valid,
}

/// What the walk knows of one store path.
#[derive(Default)]
struct Node {
    validity: Validity,
    /// The derivation, when the path is one of the closure's `.drv` files.
    drv: Option<Arc<DrvInfo>>,
    /// The ids of the derivation's outputs, beside `drv.outputs` (`None`:
    /// known only after building).
    outs: Box<[Option<Id>]>,
    /// The lookup's result, once it is in.
    lookup: Option<Arc<PathLookup>>,
    /// Waiters (indices into [`Walk::waiters`]) for the lookup.
    waiters: Vec<u32>,
    /// The lookup went out (or was answered from memory).
    requested: bool,
    /// Counted in [`Progress::lookups_queued`].
    counted: bool,
    /// `Opaque(path)` was handled.
    opaque_done: bool,
    /// Somebody used the lookup's result (its failures are reported).
    consumed: bool,
    /// Listed in `unknown`.
    unknown: bool,
    /// Position in `build`, or [`NONE`].
    build_index: u32,
}

type LookupFuture<'a> = Pin<Box<dyn Future<Output = (Id, PathLookup)> + Send + 'a>>;

enum Waiter {
    /// A derivation whose invalid wanted outputs are being looked up.
    Outputs {
        drv: Id,
        outputs: Vec<Id>,
        remaining: usize,
        decided: bool,
    },
    /// An opaque path being looked up.
    Opaque(Id),
}

struct Walk<'s> {
    store: &'s LocalStore,
    opts: Options,
    progress: &'s Progress,

    /// Every path met, by id.
    paths: Vec<StorePath>,
    ids: HashMap<StorePath, Id>,
    nodes: Vec<Node>,
    /// Output selections by id; `sets[ALL]` is every output.
    sets: Vec<Outputs>,
    set_ids: HashMap<Vec<String>, SetId>,
    /// The roots whose `.drv` was read.
    closure_roots: Vec<StorePath>,

    queue: VecDeque<Req>,
    /// The roots, until the speculative queue is built from them.
    speculate_from: Option<Vec<Req>>,
    done_built: HashSet<(Id, SetId)>,
    deferred: Vec<Id>,

    waiters: Vec<Waiter>,
    /// Paths somebody waits for whose lookup is not in.
    waiting: usize,
    /// Lookups made (sent, or answered from memory).
    requested: usize,
    demand: VecDeque<Id>,
    speculative: VecDeque<Id>,
    /// Lookups counted in the progress by this walk, and answered.
    counted: u64,
    answered: u64,

    build: Vec<Id>,
    fetch: Vec<Id>,
    unknown: Vec<Id>,

    stats: WalkStats,
}

impl<'s> Walk<'s> {
    /// The tables of a walk over `graph`: an id for every derivation (valid,
    /// see [`query_missing_in`]) and every output in `outputs` (invalid until
    /// [`Walk::set_validity`] says otherwise).
    fn new(
        store: &'s LocalStore,
        graph: DrvGraph,
        outputs: &[StorePath],
        opts: Options,
        progress: &'s Progress,
    ) -> Self {
        let n = graph.drvs.len() + outputs.len();
        let mut walk = Self {
            store,
            opts,
            progress,
            paths: Vec::with_capacity(n),
            ids: HashMap::with_capacity_and_hasher(n, Default::default()),
            nodes: Vec::with_capacity(n),
            sets: vec![Outputs::All],
            set_ids: HashMap::default(),
            closure_roots: graph.roots,
            queue: VecDeque::new(),
            speculate_from: None,
            done_built: HashSet::with_capacity_and_hasher(graph.drvs.len(), Default::default()),
            deferred: Vec::new(),
            waiters: Vec::new(),
            waiting: 0,
            requested: 0,
            demand: VecDeque::new(),
            speculative: VecDeque::new(),
            counted: 0,
            answered: 0,
            build: Vec::new(),
            fetch: Vec::new(),
            unknown: Vec::new(),
            stats: WalkStats::default(),
        };
        // Derivations first: a path that is both (never in practice) stays
        // valid, as the derivation's validity is known.
        for (path, info) in graph.drvs {
            let id = walk.intern_owned(path);
            let node = walk.node_mut(id);
            node.drv = Some(info);
            node.validity = Validity::Valid;
        }
        for path in outputs {
            let id = walk.intern(path);
            let node = walk.node_mut(id);
            if node.drv.is_none() {
                node.validity = Validity::Invalid;
            }
        }
        for id in 0..walk.nodes.len() {
            let Some(info) = walk.nodes[id].drv.clone() else {
                continue;
            };
            walk.nodes[id].outs = info
                .outputs
                .iter()
                .map(|(_, path)| path.as_ref().and_then(|p| walk.ids.get(p).copied()))
                .collect();
        }
        walk
    }

    /// Record the validity query's answer: the valid outputs, and each root
    /// as checked.
    fn set_validity(
        &mut self,
        valid_outputs: &std::collections::HashSet<StorePath>,
        roots: &[StorePath],
        valid_roots: &std::collections::HashSet<StorePath>,
    ) {
        for path in valid_outputs {
            if let Some(&id) = self.ids.get(path) {
                self.node_mut(id).validity = Validity::Valid;
            }
        }
        for path in roots {
            let id = self.intern(path);
            self.node_mut(id).validity = if valid_roots.contains(path) {
                Validity::Valid
            } else {
                Validity::Invalid
            };
        }
    }

    fn intern(&mut self, path: &StorePath) -> Id {
        match self.ids.get(path) {
            Some(&id) => id,
            None => self.push_new(path.clone()),
        }
    }

    fn intern_owned(&mut self, path: StorePath) -> Id {
        match self.ids.get(&path) {
            Some(&id) => id,
            None => self.push_new(path),
        }
    }

    /// Give a path not met before its id and its row.
    fn push_new(&mut self, path: StorePath) -> Id {
        // 4 billion paths would need hundreds of GiB of tables before this
        // saturated; the walk's memory runs out long before.
        let id = Id::try_from(self.paths.len()).unwrap_or(NONE - 1);
        self.ids.insert(path.clone(), id);
        self.paths.push(path);
        self.nodes.push(Node {
            build_index: NONE,
            ..Node::default()
        });
        id
    }

    /// The id of an output selection, by its sorted names.
    fn intern_names(&mut self, names: &[String]) -> SetId {
        if let Some(&id) = self.set_ids.get(names) {
            return id;
        }
        let id = SetId::try_from(self.sets.len()).unwrap_or(NONE - 1);
        self.sets
            .push(Outputs::Names(names.iter().cloned().collect()));
        self.set_ids.insert(names.to_vec(), id);
        id
    }

    fn intern_request(&mut self, request: &Request) -> Req {
        match request {
            Request::Built { drv, outputs } => {
                let drv = self.intern(drv);
                let set = match outputs {
                    Outputs::All => ALL,
                    Outputs::Names(names) => {
                        let names: Vec<String> = names.iter().cloned().collect();
                        self.intern_names(&names)
                    }
                };
                Req::Built(drv, set)
            }
            Request::Opaque(path) => Req::Opaque(self.intern(path)),
        }
    }

    fn node(&self, id: Id) -> &Node {
        &self.nodes[id as usize]
    }

    fn node_mut(&mut self, id: Id) -> &mut Node {
        &mut self.nodes[id as usize]
    }

    fn path(&self, id: Id) -> &StorePath {
        &self.paths[id as usize]
    }

    fn is_valid(&self, id: Id) -> bool {
        self.node(id).validity == Validity::Valid
    }

    /// Queue, in breadth-first order, the invalid outputs a build request
    /// may ask for: those a root or a derivation of the closure wants (an
    /// input derivation is requested with the outputs its user names, so a
    /// `dev` or `doc` output nobody uses is never looked up by Nix's walk,
    /// and looking it up ahead of the walk was about one in fifteen of a
    /// cold run's lookups). A path only a narinfo's `References` lead to is looked up
    /// when the walk demands it.
    fn queue_speculative(&mut self, roots: &[Req]) {
        let mut wanted = vec![false; self.nodes.len()];
        let mut want = |node: &Node, outputs: &dyn Fn(&str) -> bool| {
            if let Some(info) = &node.drv {
                for ((name, _), out) in info.outputs.iter().zip(node.outs.iter()) {
                    if let Some(out) = out
                        && outputs(name)
                    {
                        wanted[*out as usize] = true;
                    }
                }
            }
        };
        for request in roots {
            if let Req::Built(drv, set) = *request {
                let outputs = &self.sets[set as usize];
                want(self.node(drv), &|name| outputs.wants(name));
            }
        }
        for node in &self.nodes {
            let Some(info) = &node.drv else {
                continue;
            };
            for (input, names) in &info.input_drvs {
                if let Some(&input) = self.ids.get(input) {
                    want(self.node(input), &|name| names.iter().any(|n| n == name));
                }
            }
        }
        let mut queued = vec![false; self.nodes.len()];
        let mut speculative = VecDeque::new();
        for id in self.breadth_first() {
            let node = self.node(id);
            let Some(info) = &node.drv else {
                continue;
            };
            if !info.substitutes_allowed(self.opts.always_allow_substitutes) {
                continue;
            }
            for &out in node.outs.iter().flatten() {
                let o = out as usize;
                if wanted[o] && !self.is_valid(out) && !queued[o] {
                    queued[o] = true;
                    speculative.push_back(out);
                }
            }
        }
        for &id in &speculative {
            self.count_lookup(id);
        }
        self.speculative = speculative;
    }

    /// Count `id`'s lookup in the progress, once.
    fn count_lookup(&mut self, id: Id) {
        let node = self.node_mut(id);
        if !node.counted {
            node.counted = true;
            self.counted += 1;
            self.progress.lookups_queued.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Take back the count of a speculative lookup dropped before it went out.
    fn uncount_lookup(&mut self, id: Id) {
        let node = self.node_mut(id);
        if node.counted && node.waiters.is_empty() {
            node.counted = false;
            self.counted -= 1;
            self.progress.lookups_queued.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// One lookup answered.
    fn lookup_done(&mut self) {
        self.answered += 1;
        self.progress.lookups_done.fetch_add(1, Ordering::Relaxed);
    }

    /// The closure's derivations breadth-first from the roots, each input in
    /// the order its dependant lists it: the order lookups are worth making in.
    fn breadth_first(&self) -> Vec<Id> {
        let mut seen = vec![false; self.nodes.len()];
        let mut order: Vec<Id> = Vec::with_capacity(self.nodes.len());
        for root in &self.closure_roots {
            if let Some(&id) = self.ids.get(root)
                && !std::mem::replace(&mut seen[id as usize], true)
            {
                order.push(id);
            }
        }
        let mut next = 0;
        while let Some(&id) = order.get(next) {
            next += 1;
            if let Some(info) = &self.node(id).drv {
                for input in info.input_paths() {
                    if let Some(&input) = self.ids.get(input)
                        && !std::mem::replace(&mut seen[input as usize], true)
                    {
                        order.push(input);
                    }
                }
            }
        }
        order
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
                    Some(id) => Some((id, false)),
                    None if self.waiting > 0 => {
                        // The queue is built the first time the walk waits: a
                        // warm run never does, and building it was a tenth of
                        // such a run's work on its own thread.
                        if let Some(roots) = self.speculate_from.take() {
                            self.queue_speculative(&roots);
                        }
                        self.speculative.pop_front().map(|id| (id, true))
                    }
                    None => None,
                };
                let Some((id, speculative)) = next else {
                    break;
                };
                if self.node(id).requested {
                    continue;
                }
                if speculative && lookups.at_hand(self.path(id)) {
                    // Answered at once if the walk ever asks; asking now
                    // would only do work the walk may not need.
                    self.uncount_lookup(id);
                    continue;
                }
                self.node_mut(id).requested = true;
                self.requested += 1;
                if let Some(result) = lookups.lookup_now(self.path(id)) {
                    self.lookup_done();
                    self.deliver(id, Arc::new(result));
                    if !self.queue.is_empty() {
                        // New requests first: they may demand lookups that
                        // must go ahead of the speculative ones.
                        break;
                    }
                    continue;
                }
                tracing::trace!(
                    path = %self.store.render(self.path(id)),
                    speculative,
                    "lookup goes out"
                );
                let path = self.path(id).clone();
                inflight.push(Box::pin(async move { (id, lookups.lookup(path).await) }));
            }
            if !self.queue.is_empty() {
                continue;
            }
            if self.waiting == 0 {
                // Every question the walk asked is answered; lookups still in
                // flight or queued were speculative and are dropped
                // (cancelled) here, and leave the progress's count.
                let dropped = self.counted.saturating_sub(self.answered);
                self.progress
                    .lookups_queued
                    .fetch_sub(dropped, Ordering::Relaxed);
                break;
            }
            let waited = std::time::Instant::now();
            let next = inflight.next().await;
            self.stats
                .record(waited, inflight.len() + 1, jobs, self.has_queued());
            let Some((id, result)) = next else {
                // Nothing in flight, yet somebody waits: cannot happen, since a
                // waited-for path is always queued as demanded. Fail loudly.
                return Err(MissingError::Store(StoreError::NixOutput {
                    command: "queryMissing walk".into(),
                    reason: "internal error: a lookup was awaited but never started".into(),
                }));
            };
            self.lookup_done();
            self.deliver(id, Arc::new(result));
        }
        Ok(())
    }

    fn handle(&mut self, req: Req) {
        match req {
            Req::Built(drv, set) => {
                if self.done_built.insert((drv, set)) {
                    self.handle_built(drv, set);
                }
            }
            Req::Opaque(id) => {
                let node = self.node_mut(id);
                if node.opaque_done {
                    return;
                }
                node.opaque_done = true;
                if node.validity == Validity::Unchecked {
                    self.deferred.push(id);
                } else {
                    self.handle_opaque(id);
                }
            }
        }
    }

    fn mark_unknown(&mut self, id: Id) {
        let node = self.node_mut(id);
        if !node.unknown {
            node.unknown = true;
            self.unknown.push(id);
        }
    }

    fn handle_built(&mut self, drv: Id, set: SetId) {
        if !self.is_valid(drv) {
            self.mark_unknown(drv);
            return;
        }
        let node = self.node(drv);
        let Some(info) = node.drv.clone() else {
            // A valid .drv that is not in the graph: only possible for an
            // input of an unregistered root, which we never read. Nix would
            // read it; treat it as Nix treats an unreadable derivation.
            self.mark_unknown(drv);
            return;
        };
        let wanted = &self.sets[set as usize];
        let known = node.outs.iter().all(Option::is_some);
        let mut invalid: Vec<Id> = Vec::new();
        for ((name, _), out) in info.outputs.iter().zip(node.outs.iter()) {
            if let Some(out) = *out
                && wanted.wants(name)
                && !self.is_valid(out)
                && !invalid.contains(&out)
            {
                invalid.push(out);
            }
        }
        if known && invalid.is_empty() {
            return;
        }
        if known
            && self.opts.use_substitutes
            && info.substitutes_allowed(self.opts.always_allow_substitutes)
        {
            let waiter = self.waiters.len() as u32;
            self.waiters.push(Waiter::Outputs {
                drv,
                outputs: invalid.clone(),
                remaining: invalid.len(),
                decided: false,
            });
            for out in invalid {
                self.wait_for(out, waiter);
            }
        } else {
            self.must_build(drv);
        }
    }

    fn handle_opaque(&mut self, id: Id) {
        if self.is_valid(id) {
            return;
        }
        if !self.opts.use_substitutes {
            self.mark_unknown(id);
            return;
        }
        let waiter = self.waiters.len() as u32;
        self.waiters.push(Waiter::Opaque(id));
        self.wait_for(id, waiter);
    }

    fn check_deferred(&mut self) -> Result<(), MissingError> {
        let mut ids = std::mem::take(&mut self.deferred);
        ids.sort_unstable();
        ids.dedup();
        let unchecked: Vec<Id> = ids
            .iter()
            .copied()
            .filter(|&id| self.node(id).validity == Validity::Unchecked)
            .collect();
        let paths: Vec<StorePath> = unchecked.iter().map(|&id| self.path(id).clone()).collect();
        let valid = self.store.valid_paths(&paths)?;
        for (id, path) in unchecked.into_iter().zip(&paths) {
            self.node_mut(id).validity = if valid.contains(path) {
                Validity::Valid
            } else {
                Validity::Invalid
            };
        }
        for id in ids {
            self.handle_opaque(id);
        }
        Ok(())
    }

    fn wait_for(&mut self, id: Id, waiter: u32) {
        if let Some(result) = self.node(id).lookup.clone() {
            self.resolve(waiter, id, &result);
            return;
        }
        let node = self.node_mut(id);
        node.waiters.push(waiter);
        if node.waiters.len() == 1 {
            self.waiting += 1;
            self.demand.push_back(id);
            self.count_lookup(id);
        }
    }

    fn deliver(&mut self, id: Id, result: Arc<PathLookup>) {
        let node = self.node_mut(id);
        node.lookup = Some(result.clone());
        let waiters = std::mem::take(&mut node.waiters);
        if !waiters.is_empty() {
            self.waiting -= 1;
            for w in waiters {
                self.resolve(w, id, &result);
            }
        }
    }

    fn resolve(&mut self, waiter: u32, id: Id, result: &Arc<PathLookup>) {
        self.node_mut(id).consumed = true;
        let Some(w) = self.waiters.get_mut(waiter as usize) else {
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
                    let drv = *drv;
                    self.must_build(drv);
                    return;
                }
                *remaining -= 1;
                if *remaining == 0 {
                    *decided = true;
                    let outs = std::mem::take(outputs);
                    self.queue.extend(outs.into_iter().map(Req::Opaque));
                }
            }
            Waiter::Opaque(p) => {
                let p = *p;
                match &result.hit {
                    None => self.mark_unknown(p),
                    Some(hit) => {
                        self.progress.fetches.fetch_add(1, Ordering::Relaxed);
                        for reference in &hit.references {
                            let r = self.intern(reference);
                            self.queue.push_back(Req::Opaque(r));
                        }
                        self.fetch.push(p);
                    }
                }
            }
        }
    }

    /// The derivation will be built: so are the outputs of its inputs it
    /// uses requested (Nix requests them again on every call; the second
    /// time is a no-op, since each spelling is handled once).
    fn must_build(&mut self, drv: Id) {
        if self.node(drv).build_index != NONE {
            return;
        }
        let Some(info) = self.node(drv).drv.clone() else {
            return;
        };
        self.node_mut(drv).build_index = self.build.len() as u32;
        self.build.push(drv);
        self.progress.builds.fetch_add(1, Ordering::Relaxed);
        for (input, names) in &info.input_drvs {
            let input = self.intern(input);
            let set = self.intern_names(names);
            self.queue.push_back(Req::Built(input, set));
        }
    }

    fn answer(&self) -> Missing {
        // The derivations built are most of the answer's work: they are
        // rendered on a thread of their own beside the rest.
        // (If no thread can be started, e.g. at a process limit, the builds
        // are rendered here after the rest.)
        std::thread::scope(|scope| {
            let builds = std::thread::Builder::new()
                .name("answer".into())
                .spawn_scoped(scope, || self.answer_builds());
            let mut missing = self.answer_rest();
            missing.build = match builds {
                Ok(handle) => match handle.join() {
                    Ok(build) => build,
                    Err(panic) => std::panic::resume_unwind(panic),
                },
                Err(_) => self.answer_builds(),
            };
            missing
        })
    }

    /// The derivations that will be built, by rendered path.
    fn answer_builds(&self) -> BTreeMap<String, BuildInfo> {
        // Each built derivation rendered once; `build_index` also answers
        // "is this input built too?" for the edges.
        let rendered: Vec<String> = self
            .build
            .iter()
            .map(|&drv| self.store.render(self.path(drv)))
            .collect();
        let mut builds: Vec<(String, BuildInfo)> = Vec::with_capacity(self.build.len());
        for (drv, key) in self.build.iter().zip(&rendered) {
            let build_info = match &self.node(*drv).drv {
                Some(info) => BuildInfo {
                    name: info.name.clone(),
                    system: info.system.clone(),
                    input_drvs: info
                        .input_paths()
                        .filter_map(|i| {
                            let index = self.node(*self.ids.get(i)?).build_index;
                            rendered.get(index as usize).cloned()
                        })
                        .collect(),
                    required_features: info.required_features.clone(),
                    prefer_local_build: info.prefer_local_build,
                },
                None => BuildInfo::default(),
            };
            builds.push((key.clone(), build_info));
        }
        builds.into_iter().collect()
    }

    /// Everything but the builds: fetched paths and sizes, unknown paths, and
    /// the failures and refusals of the lookups the answer used.
    fn answer_rest(&self) -> Missing {
        let render = |id: Id| self.store.render(self.path(id));
        let mut missing = Missing::default();
        for &id in &self.fetch {
            if let Some(hit) = self.node(id).lookup.as_ref().and_then(|l| l.hit.as_ref()) {
                missing.download_bytes += hit.file_size;
                missing.nar_bytes += hit.nar_size;
                missing.fetch.insert(
                    render(id),
                    FetchInfo {
                        substituter: hit.substituter.clone(),
                        file_size: hit.file_size,
                        nar_size: hit.nar_size,
                    },
                );
            }
        }
        missing.unknown = self.unknown.iter().map(|&id| render(id)).collect();
        let mut errors = BTreeSet::new();
        let mut rejected = BTreeSet::new();
        for node in &self.nodes {
            if node.consumed
                && let Some(result) = &node.lookup
            {
                errors.extend(result.errors.iter().cloned());
                rejected.extend(result.rejected.iter().cloned());
            }
        }
        missing.errors = errors.into_iter().collect();
        missing.rejected = rejected.into_iter().collect();
        missing
    }
}
