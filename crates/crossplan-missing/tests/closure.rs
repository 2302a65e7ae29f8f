//! `closure_status` against Nix: for every derivation of a generated graph's
//! closure, "cached" must mean that Nix's dry run of that derivation alone
//! builds nothing, and what it says the derivation fetches must be what that
//! dry run fetches. This is the per-derivation knowledge `crossplan hybrid`
//! predicts with; the walk itself is checked by the oracle suites.

use crossplan_missing::cache::CacheLookups;
use crossplan_missing::{Options, closure_status};
use crossplan_store::store::LocalStore;
use crossplan_testkit::fixture::{Fixture, FixtureSpec, fresh_salt};
use crossplan_testkit::graph::GraphSpec;
use crossplan_testkit::nix::{self, DryRunOpts};

mod support;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oracle_every_node_s_status_matches_nix_s_dry_run_of_it() {
    assert!(
        nix::available(),
        "this test needs Nix (nix-store on PATH): run scripts/setup-nix.sh"
    );
    for seed in [5u64, 23] {
        let dir = tempfile::tempdir().expect("tempdir");
        let spec = FixtureSpec::new(GraphSpec::new(150, seed, fresh_salt("closure")));
        let fx = Fixture::build(spec, dir.path()).expect("fixture");
        let store = LocalStore::new("/nix/store").expect("store");
        let (substituters, subs, keys) = support::open_good_caches(&fx, &store).await;
        let roots: Vec<_> = fx
            .targets()
            .iter()
            .map(|t| store.parse_path(&t.drv).expect("root path"))
            .collect();
        let status = closure_status(
            &store,
            &roots,
            &CacheLookups(&substituters),
            &Options::default(),
        )
        .await
        .expect("closure status");
        assert_eq!(status.roots.len(), roots.len());
        assert!(status.nodes.len() >= roots.len());
        let opts = DryRunOpts {
            substituters: subs.clone(),
            trusted_public_keys: keys.clone(),
            require_sigs: true,
        };
        let (mut cached, mut built) = (0, 0);
        let mut diffs = Vec::new();
        // every node: one dry run each
        for node in &status.nodes {
            let drv = store.render(&node.drv);
            let dry = nix::dry_run(std::slice::from_ref(&drv), &opts).expect("nix dry run");
            // Nix builds nothing for a cached derivation; references no cache
            // has are reported unknown, and the rest is still fetched.
            let nix_cached = dry.build.is_empty();
            if nix_cached != node.cached {
                diffs.push(format!(
                    "{drv}: crossplan cached={}, Nix builds {} / unknown {}",
                    node.cached,
                    dry.build.len(),
                    dry.unknown.len()
                ));
                continue;
            }
            if node.cached {
                cached += 1;
                let ours: std::collections::BTreeSet<String> = node
                    .fetches
                    .iter()
                    .map(|&i| store.render(&status.paths[i].0))
                    .collect();
                let unknown: std::collections::BTreeSet<String> =
                    node.unknown.iter().map(|p| store.render(p)).collect();
                if unknown != dry.unknown {
                    diffs.push(format!(
                        "{drv}: unknown differs: ours {unknown:?}, Nix {:?}",
                        dry.unknown
                    ));
                }
                if ours != dry.fetch {
                    diffs.push(format!(
                        "{drv}: fetches differ: only ours {:?}, only Nix {:?}",
                        ours.difference(&dry.fetch).take(3).collect::<Vec<_>>(),
                        dry.fetch.difference(&ours).take(3).collect::<Vec<_>>()
                    ));
                }
            } else {
                built += 1;
            }
        }
        assert!(
            diffs.is_empty(),
            "seed {seed}: {} of {} nodes differ:\n{}",
            diffs.len(),
            status.nodes.len(),
            diffs.join("\n")
        );
        assert!(
            cached > 0 && built > 0,
            "seed {seed}: a graph with both kinds ({cached} cached, {built} built)"
        );
        eprintln!(
            "seed {seed}: {} nodes agree with Nix ({cached} cached, {built} built)",
            status.nodes.len()
        );
    }
}
