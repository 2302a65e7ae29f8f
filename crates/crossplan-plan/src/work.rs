//! The input of the cost model: the work one variant still needs.

/// One derivation that must be built.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BuildNode {
    /// Derivation name with version (`gcc-14.2.0`).
    pub name: String,
    /// Its `system` (`riscv64-linux`, `x86_64-linux`, `builtin`).
    pub system: String,
    /// Indices (into [`VariantWork::builds`]) of the derivations it needs
    /// built first.
    pub deps: Vec<usize>,
    /// `requiredSystemFeatures`.
    pub required_features: Vec<String>,
    /// `preferLocalBuild`: Nix tries this host before remote builders.
    pub prefer_local_build: bool,
}

/// What a variant still needs: the build graph and the downloads.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VariantWork {
    /// The derivations to build; edges are indices into this list.
    pub builds: Vec<BuildNode>,
    /// Compressed bytes to download.
    pub download_bytes: u64,
    /// Unpacked bytes of the downloads.
    pub nar_bytes: u64,
    /// Number of store paths to fetch.
    pub fetch_count: usize,
    /// Paths Nix does not know how to get: the variant cannot be realised.
    pub unknown: Vec<String>,
}

impl VariantWork {
    /// Build a graph from `(key, name, system, dep keys)` tuples; deps that are
    /// not themselves keys are ignored (they are available already).
    pub fn from_keyed<'a, I>(nodes: I) -> Self
    where
        I: IntoIterator<Item = (&'a str, BuildNode, Vec<&'a str>)>,
    {
        let nodes: Vec<_> = nodes.into_iter().collect();
        let index: std::collections::HashMap<&str, usize> = nodes
            .iter()
            .enumerate()
            .map(|(i, (k, _, _))| (*k, i))
            .collect();
        let builds = nodes
            .into_iter()
            .map(|(_, mut node, deps)| {
                let mut d: Vec<usize> = deps.iter().filter_map(|k| index.get(k).copied()).collect();
                d.sort_unstable();
                d.dedup();
                node.deps = d;
                node
            })
            .collect();
        VariantWork {
            builds,
            ..Default::default()
        }
    }
}
