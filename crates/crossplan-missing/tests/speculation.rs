//! Lookups ahead of the walk ("speculative") change when the answer is ready,
//! never what it is: on generated graphs the answer with speculation equals
//! the answer without, and no lookup is made for an output that neither a
//! build could ask for (a root's or a user's wanted outputs) nor a fetched
//! path's references lead to. Multi-output derivations whose `dev` or `lib`
//! nobody uses make the second check bite: the walk before issue 12 looked
//! those up too.

use std::collections::BTreeSet;
use std::sync::Mutex;
use std::sync::atomic::Ordering;

use crossplan_cache::StorePath;
use crossplan_missing::cache::CacheLookups;
use crossplan_missing::{
    Lookups, Options, PathLookup, Progress, RootClosure, Stage, query_missing, query_missing_in,
};
use crossplan_store::request::{Request, resolve_roots};
use crossplan_store::store::LocalStore;
use crossplan_testkit::fixture::{Fixture, FixtureSpec, fresh_salt};
use crossplan_testkit::graph::GraphSpec;
use crossplan_testkit::nix;

mod support;

/// The cache client, recording every path the walk asks about.
struct Recording<'a> {
    inner: CacheLookups<'a>,
    asked: Mutex<Vec<StorePath>>,
}

impl Recording<'_> {
    fn record(&self, path: &StorePath) {
        self.asked
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(path.clone());
    }
}

impl Lookups for Recording<'_> {
    async fn lookup(&self, path: StorePath) -> PathLookup {
        self.record(&path);
        self.inner.lookup(path).await
    }

    fn lookup_now(&self, path: &StorePath) -> Option<PathLookup> {
        let found = self.inner.lookup_now(path);
        if found.is_some() {
            self.record(path);
        }
        found
    }

    fn capacity(&self) -> Option<usize> {
        self.inner.capacity()
    }

    fn at_hand(&self, path: &StorePath) -> bool {
        self.inner.at_hand(path)
    }

    async fn preload(&self, paths: &[StorePath]) {
        self.inner.preload(paths).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn speculation_changes_no_answer_and_skips_outputs_nobody_wants() {
    assert!(
        nix::available(),
        "this test needs Nix (nix-store on PATH): run scripts/setup-nix.sh"
    );
    let mut unwanted_total = 0;
    for seed in [3u64, 17] {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut graph = GraphSpec::new(300, seed, fresh_salt("speculation"));
        graph.multi_output = 0.4;
        let fx = Fixture::build(FixtureSpec::new(graph), dir.path()).expect("fixture");
        let store = LocalStore::new("/nix/store").expect("store");
        let args: Vec<String> = fx
            .targets_with_outputs(seed)
            .iter()
            .map(|t| t.crossplan())
            .collect();
        let roots = resolve_roots(&args, &store).expect("roots");

        let mut answers = Vec::new();
        let mut asked = BTreeSet::new();
        for speculate in [true, false] {
            let (substituters, _, _) = support::open_good_caches(&fx, &store).await;
            let lookups = Recording {
                inner: CacheLookups(&substituters),
                asked: Mutex::new(Vec::new()),
            };
            let opts = Options {
                speculate,
                ..Options::default()
            };
            let progress = Progress::default();
            assert_eq!(progress.stage(), Stage::Evaluating);
            let missing = query_missing(&store, &roots, &lookups, &opts, &progress)
                .await
                .expect("walk");
            // The line says what comes after the last lookup.
            assert_eq!(progress.stage(), Stage::Answering, "seed {seed}: stage");
            // A progress line ends at N of N lookups: the speculative ones the
            // walk did not need leave the count (it once ended near N of 2N).
            let (queued, done) = (
                progress.lookups_queued.load(Ordering::Relaxed),
                progress.lookups_done.load(Ordering::Relaxed),
            );
            assert!(done > 0, "seed {seed}: no lookup counted");
            assert_eq!(
                queued, done,
                "seed {seed}, speculate {speculate}: lookups counted vs answered"
            );
            if speculate {
                asked = lookups
                    .asked
                    .into_inner()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .into_iter()
                    .collect();
            }
            answers.push(missing);
        }
        assert_eq!(
            answers[0], answers[1],
            "seed {seed}: the answer depends on speculation"
        );
        let missing = &answers[0];

        // The closure read ahead (as `status` does while Nix's settings load)
        // gives the same answer, and the progress counters agree with it.
        let (substituters, _, _) = support::open_good_caches(&fx, &store).await;
        let closure = RootClosure::load(&store, &roots).expect("closure");
        let progress = Progress::default();
        assert_eq!(closure.roots(), &roots[..]);
        let early = query_missing_in(
            &store,
            closure,
            &CacheLookups(&substituters),
            &Options::default(),
            &progress,
        )
        .await
        .expect("walk");
        assert_eq!(
            &early, missing,
            "seed {seed}: the closure read ahead changes the answer"
        );
        assert_eq!(
            progress.builds.load(Ordering::Relaxed),
            missing.build.len() as u64,
            "seed {seed}: builds counter"
        );
        assert_eq!(
            progress.fetches.load(Ordering::Relaxed),
            missing.fetch.len() as u64,
            "seed {seed}: fetches counter"
        );
        assert_eq!(
            progress.lookups_queued.load(Ordering::Relaxed),
            progress.lookups_done.load(Ordering::Relaxed),
            "seed {seed}: lookups counted vs answered"
        );

        // What a build may ask for: the roots' wanted outputs and, for every
        // derivation of the closure, the outputs it names of its inputs.
        let root_drvs: Vec<StorePath> = roots
            .iter()
            .filter_map(|r| match r {
                Request::Built { drv, .. } => Some(drv.clone()),
                Request::Opaque(_) => None,
            })
            .collect();
        let graph = store.load_closure(&root_drvs).expect("closure");
        let mut wanted: BTreeSet<StorePath> = BTreeSet::new();
        for root in &roots {
            if let Request::Built { drv, outputs } = root
                && let Some(info) = graph.drvs.get(drv)
            {
                for (name, path) in &info.outputs {
                    if let Some(path) = path
                        && outputs.wants(name)
                    {
                        wanted.insert(path.clone());
                    }
                }
            }
        }
        for info in graph.drvs.values() {
            for (input, names) in &info.input_drvs {
                if let Some(input) = graph.drvs.get(input) {
                    for (name, path) in &input.outputs {
                        if let Some(path) = path
                            && names.contains(name)
                        {
                            wanted.insert(path.clone());
                        }
                    }
                }
            }
        }
        // What the walk demanded through references ends in fetch or unknown.
        let answered: BTreeSet<String> = missing
            .fetch
            .keys()
            .chain(missing.unknown.iter())
            .cloned()
            .collect();
        let stray: Vec<String> = asked
            .iter()
            .filter(|p| !wanted.contains(*p) && !answered.contains(&store.render(p)))
            .map(|p| store.render(p))
            .collect();
        assert!(
            stray.is_empty(),
            "seed {seed}: looked up outputs no build asks for and no reference leads to: {stray:?}"
        );
        // The check bites only if such outputs exist.
        unwanted_total += graph
            .drvs
            .values()
            .flat_map(|info| info.output_paths())
            .filter(|p| !wanted.contains(*p) && !answered.contains(&store.render(p)))
            .count();
    }
    assert!(
        unwanted_total > 0,
        "the graphs have no output nobody wants: the test checks nothing"
    );
}
