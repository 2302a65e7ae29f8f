//! Seeded random derivation graphs, emitted as a Nix expression built from
//! `builtins.derivation` with `/bin/sh` builders.
//!
//! The graph is layered: a node depends only on nodes of lower layers, mostly
//! the layer just below. Some nodes have several outputs (`out`, `dev`, `lib`)
//! and consumers depend on one specific output (`dep.dev`); some have an input
//! source (`builtins.toFile`); some set `allowSubstitutes = false`. Every
//! derivation carries the graph's salt, so each test run gets fresh store paths.
//! The builder writes every output and echoes its inputs' paths into each, so
//! the outputs have runtime references to what they were built from.

use std::fmt::Write as _;

use crate::rng::Rng;

/// What graph to generate.
#[derive(Debug, Clone)]
pub struct GraphSpec {
    pub nodes: usize,
    pub layers: usize,
    pub seed: u64,
    /// Put into every derivation (and so into every store path).
    pub salt: String,
    /// `None`: `builtins.currentSystem` (buildable here); `Some("riscv64-linux")`:
    /// a graph that can only be instantiated.
    pub system: Option<String>,
    /// Fraction of nodes with outputs `out`, `dev`, `lib`.
    pub multi_output: f64,
    /// Fraction of nodes with `allowSubstitutes = false`.
    pub no_substitutes: f64,
    /// Fraction of nodes with an input source.
    pub with_source: f64,
    /// At most this many input derivations per node.
    pub max_deps: usize,
}

impl GraphSpec {
    /// A realistic mix with `nodes` nodes.
    pub fn new(nodes: usize, seed: u64, salt: impl Into<String>) -> Self {
        GraphSpec {
            nodes,
            layers: ((nodes as f64).sqrt() as usize / 3).clamp(3, 40),
            seed,
            salt: salt.into(),
            system: None,
            multi_output: 0.2,
            no_substitutes: 0.05,
            with_source: 0.1,
            max_deps: 5,
        }
    }
}

/// One input of a node: another node's specific output.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Dep {
    pub node: usize,
    pub output: String,
}

#[derive(Debug, Clone)]
pub struct Node {
    pub id: usize,
    pub layer: usize,
    pub outputs: Vec<String>,
    pub deps: Vec<Dep>,
    /// Content of its input source, if it has one.
    pub source: Option<String>,
    pub allow_substitutes: bool,
}

impl Node {
    pub fn name(&self) -> String {
        format!("n{}", self.id)
    }
}

#[derive(Debug, Clone)]
pub struct Graph {
    pub spec: GraphSpec,
    pub nodes: Vec<Node>,
    /// Nodes no other node depends on (what a user would ask for).
    pub roots: Vec<usize>,
}

impl Graph {
    pub fn generate(spec: &GraphSpec) -> Graph {
        let mut rng = Rng::new(spec.seed);
        let n = spec.nodes.max(1);
        let layers = spec.layers.clamp(1, n);
        let layer_of = |i: usize| i * layers / n;
        // First node index of each layer.
        let layer_start: Vec<usize> = (0..=layers)
            .map(|l| (0..n).find(|&i| layer_of(i) >= l).unwrap_or(n))
            .collect();
        let mut consumed = vec![false; n];
        // Nodes not yet consumed, to keep the number of sinks realistic.
        let mut unconsumed: Vec<usize> = Vec::new();
        let mut this_layer: Vec<usize> = Vec::new();
        let mut cur_layer = 0;
        let mut nodes: Vec<Node> = Vec::with_capacity(n);
        for id in 0..n {
            let layer = layer_of(id);
            if layer != cur_layer {
                cur_layer = layer;
                unconsumed.append(&mut this_layer);
                unconsumed.retain(|&u| !consumed[u]);
            }
            let outputs: Vec<String> = if rng.chance(spec.multi_output) {
                vec!["out".into(), "dev".into(), "lib".into()]
            } else {
                vec!["out".into()]
            };
            let mut deps: Vec<Dep> = Vec::new();
            if layer > 0 {
                let k = 1 + rng.below(spec.max_deps.max(1));
                let below_start = layer_start[layer - 1];
                let below_end = layer_start[layer];
                for _ in 0..k {
                    let r = rng.unit();
                    let dep = if r < 0.45 && !unconsumed.is_empty() {
                        let i = rng.below(unconsumed.len());
                        let u = unconsumed.swap_remove(i);
                        if consumed[u] {
                            below_start + rng.below(below_end - below_start)
                        } else {
                            u
                        }
                    } else if r < 0.85 && below_end > below_start {
                        below_start + rng.below(below_end - below_start)
                    } else {
                        rng.below(below_end)
                    };
                    let dnode: &Node = &nodes[dep];
                    let output = if dnode.outputs.len() > 1 {
                        // `dev` most often, as with real libraries.
                        match rng.below(4) {
                            0 => "out",
                            1 => "lib",
                            _ => "dev",
                        }
                    } else {
                        "out"
                    };
                    consumed[dep] = true;
                    let d = Dep {
                        node: dep,
                        output: output.into(),
                    };
                    if !deps.contains(&d) {
                        deps.push(d);
                    }
                }
                deps.sort();
            }
            let source = rng
                .chance(spec.with_source)
                .then(|| format!("source of n{id}, seed {}, salt {}", spec.seed, spec.salt));
            let allow_substitutes = !rng.chance(spec.no_substitutes);
            nodes.push(Node {
                id,
                layer,
                outputs,
                deps,
                source,
                allow_substitutes,
            });
            // Joins the pool of unconsumed nodes once the next layer starts.
            this_layer.push(id);
        }
        let roots = (0..n).filter(|&i| !consumed[i]).collect();
        Graph {
            spec: spec.clone(),
            nodes,
            roots,
        }
    }

    /// The Nix expression. Attributes: `all` (every node, in id order),
    /// `roots`, `info` (per node: `drv` and `outs.<output>` paths), and
    /// `n<id>` for each node.
    pub fn to_nix(&self) -> String {
        let mut s = String::with_capacity(self.nodes.len() * 300);
        let salt = nix_string(&self.spec.salt);
        let system = match &self.spec.system {
            Some(sys) => nix_string(sys),
            None => "builtins.currentSystem".to_string(),
        };
        let _ = writeln!(s, "let\n  salt = {salt};\n  system = {system};");
        // `$outputs` holds the output names; `eval "p=\$$o"` looks up the path
        // of each (dash has no `${!o}`). Every output gets the salt and the
        // input paths, so it references its inputs.
        s.push_str(
            "  mk = name: inputs: attrs: builtins.derivation ({\n    inherit name salt system;\n    outputs = [ \"out\" ];\n    builder = \"/bin/sh\";\n    args = [ \"-c\" \"for o in $outputs; do eval \\\"p=\\\\$$o\\\"; echo ${salt} ${inputs} > $p; done\" ];\n  } // attrs);\n",
        );
        for node in &self.nodes {
            let name = node.name();
            let mut inputs: Vec<String> = node
                .deps
                .iter()
                .map(|d| format!("${{n{}.{}}}", d.node, d.output))
                .collect();
            if let Some(src) = &node.source {
                let _ = writeln!(
                    s,
                    "  src{} = builtins.toFile \"src{}\" {};",
                    node.id,
                    node.id,
                    nix_string(src)
                );
                inputs.push(format!("${{src{}}}", node.id));
            }
            let mut attrs = String::new();
            if node.outputs.len() > 1 {
                attrs.push_str(" outputs = [");
                for o in &node.outputs {
                    let _ = write!(attrs, " \"{o}\"");
                }
                attrs.push_str(" ];");
            }
            if !node.allow_substitutes {
                attrs.push_str(" allowSubstitutes = false;");
            }
            let _ = writeln!(
                s,
                "  {name} = mk \"{name}\" \"{}\" {{{attrs} }};",
                inputs.join(" ")
            );
        }
        s.push_str("  all = [");
        for node in &self.nodes {
            let _ = write!(s, " n{}", node.id);
        }
        s.push_str(" ];\n  roots = [");
        for r in &self.roots {
            let _ = write!(s, " n{r}");
        }
        s.push_str(" ];\nin {\n  inherit all roots;\n");
        s.push_str("  info = map (d: { drv = d.drvPath; outs = builtins.listToAttrs (map (o: { name = o; value = d.${o}.outPath; }) (d.outputs or [ \"out\" ])); }) all;\n");
        s.push_str("}\n");
        s
    }
}

/// A Nix string literal (one definition: `crossplan_store::nix_string`).
pub use crossplan_store::nix_string;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layered_and_deterministic() {
        let spec = GraphSpec::new(500, 7, "t");
        let g1 = Graph::generate(&spec);
        let g2 = Graph::generate(&spec);
        assert_eq!(g1.to_nix(), g2.to_nix());
        for node in &g1.nodes {
            for d in &node.deps {
                assert!(g1.nodes[d.node].layer < node.layer);
                assert!(g1.nodes[d.node].outputs.contains(&d.output));
            }
        }
        assert!(!g1.roots.is_empty());
        assert!(g1.roots.len() < 250, "too many sinks: {}", g1.roots.len());
        assert!(g1.nodes.iter().any(|n| n.outputs.len() == 3));
        assert!(g1.nodes.iter().any(|n| !n.allow_substitutes));
    }
}
