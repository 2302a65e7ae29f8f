//! A whole oracle fixture: a random graph instantiated by Nix, some of it
//! realised (valid locally), a few paths built, signed, `nix copy`-ed to a
//! cache and deleted again (real Nix-made records), and two binary caches of
//! different priority filled with generated, signed narinfo records — some
//! signed badly. The oracle (Nix's dry run, which checks no signatures) reads
//! a *view* of the caches without the badly signed records; crossplan reads
//! the full caches and must reject those records to reach the same answer.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::io;
use std::path::{Path, PathBuf};

use crate::cache::{Cache, Key, NarInfo, Record, SigState, base_name, phantom_path};
use crate::graph::{Graph, GraphSpec};
use crate::nix::{self, NodeInfo};
use crate::rng::Rng;

/// Priority of the high-priority cache (lower wins) and the low one.
pub const HI_PRIORITY: u32 = 30;
pub const LO_PRIORITY: u32 = 50;

#[derive(Debug, Clone)]
pub struct FixtureSpec {
    pub graph: GraphSpec,
    /// Build some nodes so their outputs are valid locally (needs a graph of
    /// `builtins.currentSystem`).
    pub realise: bool,
    /// Fraction of all nodes, taken from the lowest `valid_layers` of the
    /// layers, to realise (their closures come along).
    pub valid_seeds: f64,
    /// Fraction of the layers (from the bottom) the valid seeds come from.
    pub valid_layers: f64,
    /// How many low nodes to build, sign, `nix copy` to the high cache and
    /// delete again.
    pub real_records: usize,
    /// Fraction of nodes whose outputs are cached.
    pub cached: f64,
    /// Of cached multi-output nodes: only some outputs cached.
    pub partial: f64,
    /// Of cached outputs: in both caches (with different sizes).
    pub both: f64,
    /// Of generated records: a broken signature.
    pub bad_sig: f64,
    /// Chance that a record references an input output no cache holds.
    pub missing_ref: f64,
    /// Chance that a record references a path that exists nowhere.
    pub phantom_ref: f64,
    /// Chance that a record references its own path.
    pub self_ref: f64,
}

impl FixtureSpec {
    pub fn new(graph: GraphSpec) -> Self {
        FixtureSpec {
            graph,
            realise: true,
            valid_seeds: 0.02,
            valid_layers: 1.0 / 3.0,
            real_records: 4,
            cached: 0.45,
            partial: 0.3,
            both: 0.3,
            bad_sig: 0.1,
            missing_ref: 0.03,
            phantom_ref: 0.02,
            self_ref: 0.3,
        }
    }
}

/// What to request for one root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub drv: String,
    /// `None`: all outputs.
    pub outputs: Option<Vec<String>>,
}

impl Target {
    /// Nix 2.8's syntax: `drv!out,dev`.
    pub fn nix(&self) -> String {
        match &self.outputs {
            None => self.drv.clone(),
            Some(o) => format!("{}!{}", self.drv, o.join(",")),
        }
    }
    /// crossplan's syntax: `drv^out,dev`.
    pub fn crossplan(&self) -> String {
        match &self.outputs {
            None => self.drv.clone(),
            Some(o) => format!("{}^{}", self.drv, o.join(",")),
        }
    }
}

/// Which records a reader accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trust {
    /// Only well-signed records (`require-sigs = true`, both keys trusted).
    GoodSigs,
    /// Every record (`require-sigs = false`).
    Everything,
    /// Only the low cache's key is trusted.
    LoKeyOnly,
}

#[derive(Debug)]
pub struct Fixture {
    pub dir: PathBuf,
    pub spec: FixtureSpec,
    pub graph: Graph,
    pub info: Vec<NodeInfo>,
    /// Output paths of the graph that are valid locally.
    pub valid: HashSet<String>,
    /// Output paths that have Nix-made records.
    pub real: BTreeSet<String>,
    pub hi: Cache,
    pub lo: Cache,
    pub hi_key: Key,
    pub lo_key: Key,
    pub untrusted_key: Key,
}

impl Fixture {
    /// Build the fixture in `dir` (created; should be empty).
    pub fn build(spec: FixtureSpec, dir: &Path) -> io::Result<Fixture> {
        std::fs::create_dir_all(dir)?;
        let xdg = dir.join("xdg");
        std::fs::create_dir_all(&xdg)?;
        let mut rng = Rng::new(spec.graph.seed.wrapping_mul(31).wrapping_add(17));
        let graph = Graph::generate(&spec.graph);
        let expr = dir.join("graph.nix");
        std::fs::write(&expr, graph.to_nix())?;
        let info = nix::instantiate_info(&expr, &xdg)?;
        if info.len() != graph.nodes.len() {
            return Err(io::Error::other("info length differs from node count"));
        }
        let hi_key = Key::generate("cupcross-hi-1", &mut rng);
        let lo_key = Key::generate("cupcross-lo-1", &mut rng);
        let untrusted_key = Key::generate("evil-1", &mut rng);
        let impostor = Key::generate("cupcross-hi-1", &mut rng);
        let mut hi = Cache::new(dir.join("cache-hi"), HI_PRIORITY);
        let mut lo = Cache::new(dir.join("cache-lo"), LO_PRIORITY);

        let mut real = BTreeSet::new();
        if spec.realise {
            let n = graph.nodes.len();
            let low_layers = ((graph.spec.layers as f64 * spec.valid_layers) as usize).max(1);
            let low: Vec<usize> = (0..n)
                .filter(|&i| graph.nodes[i].layer < low_layers)
                .collect();
            let mut seeds: Vec<usize> = Vec::new();
            let want = ((spec.valid_seeds * n as f64).ceil() as usize).min(low.len());
            while seeds.len() < want {
                let c = *rng.pick(&low);
                if !seeds.contains(&c) {
                    seeds.push(c);
                }
            }
            let valid_closure = closure(&graph, &seeds);
            // Real records: a few nodes of the lowest layers outside the valid
            // closure, with their closures minus the valid closure.
            let mut candidates: Vec<usize> = Vec::new();
            let lowest: Vec<usize> = (0..n)
                .filter(|&i| graph.nodes[i].layer <= 1 && !valid_closure.contains(&i))
                .collect();
            let mut tries = 0;
            while candidates.len() < spec.real_records.min(lowest.len()) && tries < 1000 {
                tries += 1;
                let c = *rng.pick(&lowest);
                if !candidates.contains(&c) {
                    candidates.push(c);
                }
            }
            let real_nodes: BTreeSet<usize> = closure(&graph, &candidates)
                .difference(&valid_closure)
                .copied()
                .collect();
            let mut to_build: Vec<String> = seeds.iter().map(|&i| info[i].drv.clone()).collect();
            to_build.extend(candidates.iter().map(|&i| info[i].drv.clone()));
            nix::realise(&to_build, &xdg)?;
            if !real_nodes.is_empty() {
                let outs: Vec<String> = real_nodes
                    .iter()
                    .flat_map(|&i| info[i].outs.values().cloned())
                    .collect();
                let sk = dir.join("hi.secret");
                std::fs::write(&sk, hi_key.secret())?;
                let copy_dir = dir.join("nix-copy");
                nix::sign_and_copy(&outs, &sk, &copy_dir, &xdg)?;
                for p in &outs {
                    let text = std::fs::read_to_string(
                        copy_dir.join(format!("{}.narinfo", crate::cache::hash_part(p))),
                    )?;
                    let ni = NarInfo::parse(&text)?;
                    // Nix signed it: our fingerprint and key format must agree.
                    let expected = hi_key.sign(&ni.fingerprint());
                    if !ni.sigs.contains(&expected) {
                        return Err(io::Error::other(format!(
                            "Nix's signature on {p} differs from ours: {:?} vs {expected}",
                            ni.sigs
                        )));
                    }
                    hi.add_raw(text, SigState::Good)?;
                    real.insert(p.clone());
                }
                nix::delete(&outs, &xdg)?;
            }
        }
        let all_outs: Vec<String> = info.iter().flat_map(|i| i.outs.values().cloned()).collect();
        let valid = nix::valid_paths(&all_outs, &xdg)?;

        // Which outputs are cached where (and with what sizes and signatures).
        #[derive(Clone, Copy)]
        struct Placement {
            hi: Option<(u64, u64, SigState)>,
            lo: Option<(u64, u64, SigState)>,
        }
        let bad_kinds = [
            SigState::UntrustedKey,
            SigState::WrongKeySameName,
            SigState::Tampered,
            SigState::Unsigned,
        ];
        let mut placed: BTreeMap<String, (usize, Placement)> = BTreeMap::new();
        for (i, node) in graph.nodes.iter().enumerate() {
            if !rng.chance(spec.cached) {
                continue;
            }
            let mut outputs: Vec<&String> = node.outputs.iter().collect();
            if outputs.len() > 1 && rng.chance(spec.partial) {
                let keep = 1 + rng.below(outputs.len() - 1);
                while outputs.len() > keep {
                    let j = rng.below(outputs.len());
                    outputs.remove(j);
                }
            }
            for o in outputs {
                let path = &info[i].outs[o];
                if valid.contains(path) || real.contains(path) {
                    continue;
                }
                let sizes = |rng: &mut Rng| {
                    let nar = rng.log_uniform(4 << 10, 48 << 20);
                    let file = if rng.chance(0.1) {
                        nar
                    } else {
                        nar * rng.range(20, 70) / 100
                    };
                    let sig = if rng.chance(spec.bad_sig) {
                        *rng.pick(&bad_kinds)
                    } else {
                        SigState::Good
                    };
                    (nar, file.max(1), sig)
                };
                let r = rng.unit();
                let mut p = Placement { hi: None, lo: None };
                if r < spec.both {
                    let first = sizes(&mut rng);
                    p.hi = Some(first);
                    let (n0, f0, _) = first;
                    let (_, _, sig) = sizes(&mut rng);
                    // Clearly different sizes, so the priority winner shows.
                    let extra = rng.log_uniform(64 << 10, 8 << 20);
                    p.lo = Some((n0 + extra, f0 + extra / 2, sig));
                } else if r < spec.both + (1.0 - spec.both) / 2.0 {
                    p.hi = Some(sizes(&mut rng));
                } else {
                    p.lo = Some(sizes(&mut rng));
                }
                placed.insert(path.clone(), (i, p));
            }
        }
        let cached_anywhere =
            |p: &str| placed.contains_key(p) || real.contains(p) || valid.contains(p);
        let mut refs_of: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (path, (i, _)) in &placed {
            let node = &graph.nodes[*i];
            let mut refs: Vec<String> = Vec::new();
            for d in &node.deps {
                let dp = &info[d.node].outs[&d.output];
                if cached_anywhere(dp) || rng.chance(spec.missing_ref) {
                    refs.push(dp.clone());
                }
            }
            if rng.chance(spec.self_ref) {
                refs.push(path.clone());
            }
            if rng.chance(spec.phantom_ref) {
                refs.push(phantom_path(&mut rng, "phantom"));
            }
            refs.sort();
            refs.dedup();
            refs_of.insert(path.clone(), refs);
        }
        for (path, (i, p)) in &placed {
            let deriver = Some(base_name(&info[*i].drv).to_owned());
            let refs = &refs_of[path];
            if let Some((nar, file, sig)) = p.hi {
                let ni =
                    NarInfo::generated(path, nar, file, refs.clone(), deriver.clone(), &mut rng);
                hi.add_signed(ni, sig, &hi_key, &untrusted_key, &impostor);
            }
            if let Some((nar, file, sig)) = p.lo {
                let ni =
                    NarInfo::generated(path, nar, file, refs.clone(), deriver.clone(), &mut rng);
                lo.add_signed(ni, sig, &lo_key, &untrusted_key, &impostor);
            }
        }
        hi.write()?;
        lo.write()?;
        Ok(Fixture {
            dir: dir.to_owned(),
            spec,
            graph,
            info,
            valid,
            real,
            hi,
            lo,
            hi_key,
            lo_key,
            untrusted_key,
        })
    }

    /// `trusted-public-keys` for a reader with this trust.
    pub fn trusted_keys(&self, trust: Trust) -> String {
        match trust {
            Trust::LoKeyOnly => self.lo_key.public(),
            _ => format!("{} {}", self.hi_key.public(), self.lo_key.public()),
        }
    }

    fn accepts(trust: Trust, cache_is_hi: bool, rec: &Record) -> bool {
        match trust {
            Trust::Everything => true,
            Trust::GoodSigs => rec.sig.is_good(),
            Trust::LoKeyOnly => !cache_is_hi && rec.sig.is_good(),
        }
    }

    /// Write (once) the caches as a reader with `trust` sees them; returns the
    /// `[hi, lo]` directories.
    pub fn view(&self, trust: Trust) -> io::Result<[PathBuf; 2]> {
        let name = format!("{trust:?}").to_lowercase();
        let dirs = [
            self.dir.join(format!("view-{name}-hi")),
            self.dir.join(format!("view-{name}-lo")),
        ];
        if !dirs[0].exists() {
            self.hi
                .write_filtered(&dirs[0], |r| Self::accepts(trust, true, r))?;
            self.lo
                .write_filtered(&dirs[1], |r| Self::accepts(trust, false, r))?;
        }
        Ok(dirs)
    }

    /// `file://` substituters, listed low priority first (so listing order is
    /// not priority order).
    pub fn file_substituters(dirs: &[PathBuf; 2]) -> String {
        format!("file://{} file://{}", dirs[1].display(), dirs[0].display())
    }

    /// The record a reader with `trust` takes `path` from (priority order),
    /// and whether it is the high cache's.
    pub fn winner(&self, trust: Trust, path: &str) -> Option<(bool, &Record)> {
        if let Some(r) = self
            .hi
            .records
            .get(path)
            .filter(|r| Self::accepts(trust, true, r))
        {
            return Some((true, r));
        }
        self.lo
            .records
            .get(path)
            .filter(|r| Self::accepts(trust, false, r))
            .map(|r| (false, r))
    }

    /// `(download, unpacked)` bytes of fetching `paths` for a reader with `trust`.
    pub fn expected_sizes<'a>(
        &self,
        trust: Trust,
        paths: impl IntoIterator<Item = &'a String>,
    ) -> (u64, u64) {
        let mut sums = (0, 0);
        for p in paths {
            if let Some((_, r)) = self.winner(trust, p) {
                sums.0 += r.info.file_size.unwrap_or(0);
                sums.1 += r.info.nar_size;
            }
        }
        sums
    }

    /// The graph's roots, all outputs.
    pub fn targets(&self) -> Vec<Target> {
        self.graph
            .roots
            .iter()
            .map(|&i| Target {
                drv: self.info[i].drv.clone(),
                outputs: None,
            })
            .collect()
    }

    /// The graph's roots, asking multi-output roots for specific outputs.
    pub fn targets_with_outputs(&self, seed: u64) -> Vec<Target> {
        let mut rng = Rng::new(seed ^ 0xdead_beef);
        let mut targets = Vec::new();
        for &i in &self.graph.roots {
            let outs: Vec<String> = self.info[i].outs.keys().cloned().collect();
            let outputs = if outs.len() > 1 {
                let chosen: Vec<String> =
                    outs.iter().filter(|_| rng.chance(0.5)).cloned().collect();
                if chosen.is_empty() {
                    Some(vec!["dev".to_owned()])
                } else {
                    Some(chosen)
                }
            } else if rng.chance(0.3) {
                Some(vec!["out".to_owned()])
            } else {
                None
            };
            targets.push(Target {
                drv: self.info[i].drv.clone(),
                outputs,
            });
        }
        // Also request intermediate nodes for a specific output.
        for node in self
            .graph
            .nodes
            .iter()
            .filter(|n| n.outputs.len() > 1)
            .take(20)
        {
            targets.push(Target {
                drv: self.info[node.id].drv.clone(),
                outputs: Some(vec!["lib".to_owned()]),
            });
        }
        targets
    }

    /// Counts for logs.
    pub fn summary(&self) -> String {
        let bad = |c: &Cache| c.records.values().filter(|r| !r.sig.is_good()).count();
        format!(
            "{} nodes, {} roots, {} valid outputs, {} real records, hi {} records ({} bad), lo {} records ({} bad)",
            self.graph.nodes.len(),
            self.graph.roots.len(),
            self.valid.len(),
            self.real.len(),
            self.hi.records.len(),
            bad(&self.hi),
            self.lo.records.len(),
            bad(&self.lo)
        )
    }

    /// A JSON description for scripts (the benchmark).
    pub fn describe(&self) -> serde_json::Value {
        let targets = self.targets();
        serde_json::json!({
            "nodes": self.graph.nodes.len(),
            "roots": targets.iter().map(Target::crossplan).collect::<Vec<_>>(),
            "hi_dir": self.hi.dir,
            "lo_dir": self.lo.dir,
            "hi_priority": HI_PRIORITY,
            "lo_priority": LO_PRIORITY,
            "trusted_public_keys": self.trusted_keys(Trust::GoodSigs),
            "valid_outputs": self.valid.len(),
            "hi_records": self.hi.records.len(),
            "lo_records": self.lo.records.len(),
            "summary": self.summary(),
        })
    }
}

/// Node ids of the closure (over input derivations) of `seeds`.
pub fn closure(graph: &Graph, seeds: &[usize]) -> BTreeSet<usize> {
    let mut seen = BTreeSet::new();
    let mut stack: Vec<usize> = seeds.to_vec();
    while let Some(i) = stack.pop() {
        if seen.insert(i) {
            stack.extend(graph.nodes[i].deps.iter().map(|d| d.node));
        }
    }
    seen
}

/// A fresh, unique salt for one test run.
pub fn fresh_salt(tag: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{tag}-{}-{nanos}", std::process::id())
}
