//! A derivation reduced to what the missing-set walk and the planner need.

use nix_derivation::{Derivation, StoreDir, StorePath};
use serde_json::Value;

/// The parts of one `.drv` crossplan uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DrvInfo {
    /// `name` (the store path name without `.drv`).
    pub name: String,
    /// `system`.
    pub system: String,
    /// Output name → output path, sorted by name; `None` for floating/deferred/impure
    /// outputs (content-addressed derivations whose paths are known only after building).
    /// A sorted list, not a map: derivations have a handful of outputs and inputs, and
    /// tens of thousands of small B-tree nodes cost more memory and time than the lookups
    /// they would save.
    pub outputs: Vec<(String, Option<StorePath>)>,
    /// Input derivation → the outputs wanted of it, sorted by path.
    pub input_drvs: Vec<(StorePath, Vec<String>)>,
    /// Whether the derivation is fixed-output (its output is content-addressed).
    pub fixed_output: bool,
    /// `allowSubstitutes` (default true; Nix's `getBoolAttr`).
    pub allow_substitutes: bool,
    /// `preferLocalBuild` (default false).
    pub prefer_local_build: bool,
    /// `requiredSystemFeatures`.
    pub required_features: Vec<String>,
}

/// Why a `.drv` could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DrvParseError(pub String);

impl DrvInfo {
    /// Parse the ATerm bytes of a derivation whose store path name is `name.drv`.
    pub fn parse(bytes: &[u8], name: &str, store_dir: &StoreDir) -> Result<Self, DrvParseError> {
        let drv = Derivation::from_aterm_bytes_in(bytes, name, store_dir.clone())
            .map_err(|e| DrvParseError(e.to_string()))?;
        // The parser's maps iterate in key order, so both lists come out sorted.
        let mut outputs = Vec::with_capacity(drv.outputs().len());
        for (out_name, output) in drv.outputs() {
            let path = output
                .path_in(store_dir, name, out_name)
                .map_err(|e| DrvParseError(format!("output '{out_name}': {e}")))?;
            outputs.push((out_name.clone(), path));
        }
        let fixed_output = drv.is_fixed_output().unwrap_or(false);
        let input_drvs = drv
            .input_derivations()
            .iter()
            .map(|(path, input)| (path.clone(), input.outputs().iter().cloned().collect()))
            .collect();
        let attrs = Attrs { drv: &drv };
        Ok(Self {
            name: name.to_owned(),
            system: drv.system().to_owned(),
            outputs,
            input_drvs,
            fixed_output,
            allow_substitutes: attrs.boolean("allowSubstitutes", true),
            prefer_local_build: attrs.boolean("preferLocalBuild", false),
            required_features: attrs.strings("requiredSystemFeatures"),
        })
    }

    /// The path of output `name`: `None` when there is no such output, `Some(None)` when
    /// its path is known only after building.
    pub fn output(&self, name: &str) -> Option<Option<&StorePath>> {
        self.outputs
            .binary_search_by(|(n, _)| n.as_str().cmp(name))
            .ok()
            .map(|i| self.outputs[i].1.as_ref())
    }

    /// The output paths known before building.
    pub fn output_paths(&self) -> impl Iterator<Item = &StorePath> {
        self.outputs.iter().filter_map(|(_, path)| path.as_ref())
    }

    /// The input derivations.
    pub fn input_paths(&self) -> impl Iterator<Item = &StorePath> {
        self.input_drvs.iter().map(|(path, _)| path)
    }

    /// Whether substitution may be tried for this derivation's outputs
    /// (Nix's `ParsedDerivation::substitutesAllowed`).
    pub fn substitutes_allowed(&self, always_allow_substitutes: bool) -> bool {
        always_allow_substitutes || self.allow_substitutes
    }
}

/// Reads derivation attributes the way Nix's `ParsedDerivation` does: from the
/// structured-attrs JSON when there is one, else from the environment, where
/// a boolean is true exactly when its value is `"1"`.
struct Attrs<'a> {
    drv: &'a Derivation,
}

impl Attrs<'_> {
    fn boolean(&self, key: &str, default: bool) -> bool {
        if let Some(attrs) = self.drv.structured_attrs() {
            return match attrs.get(key) {
                Some(Value::Bool(b)) => *b,
                // Nix throws on a non-boolean here; a build would fail, so
                // the default is as good an answer as any for planning.
                _ => default,
            };
        }
        match self.drv.environment().get(key) {
            Some(value) => value.as_slice() == b"1",
            None => default,
        }
    }

    fn strings(&self, key: &str) -> Vec<String> {
        if let Some(attrs) = self.drv.structured_attrs() {
            return match attrs.get(key) {
                Some(Value::Array(items)) => items
                    .iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect(),
                _ => Vec::new(),
            };
        }
        match self.drv.environment().get(key) {
            Some(value) => String::from_utf8_lossy(value)
                .split_whitespace()
                .map(str::to_owned)
                .collect(),
            None => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn aterm(env: &str) -> String {
        format!(
            "Derive([(\"out\",\"/nix/store/0rm0w4vvprbzrmvr7r2v2xj46z6fabcx-t\",\"\",\"\")],\
             [(\"/nix/store/1rm0w4vvprbzrmvr7r2v2xj46z6fabcx-d.drv\",[\"dev\",\"out\"])],\
             [\"/nix/store/2rm0w4vvprbzrmvr7r2v2xj46z6fabcx-src\"],\"riscv64-linux\",\"/bin/sh\",[\"-c\",\"x\"],\
             [(\"name\",\"t\"),(\"out\",\"/nix/store/0rm0w4vvprbzrmvr7r2v2xj46z6fabcx-t\"),(\"system\",\"riscv64-linux\"){env}])"
        )
    }

    #[test]
    fn reads_outputs_inputs_and_flags() {
        let text =
            aterm(",(\"allowSubstitutes\",\"\"),(\"requiredSystemFeatures\",\"kvm big-parallel\")");
        let d = DrvInfo::parse(text.as_bytes(), "t", &StoreDir::default()).unwrap();
        assert_eq!(d.system, "riscv64-linux");
        assert_eq!(d.outputs.len(), 1);
        assert!(d.output("out").is_some_and(|p| p.is_some()));
        assert_eq!(d.output("dev"), None);
        let wanted: Vec<_> = d.input_drvs.iter().map(|(_, o)| o.clone()).collect();
        assert_eq!(wanted, [vec!["dev".to_owned(), "out".to_owned()]]);
        assert!(!d.allow_substitutes, "\"\" is false, as in Nix");
        assert!(d.substitutes_allowed(true), "always-allow-substitutes wins");
        assert_eq!(d.required_features, ["kvm", "big-parallel"]);
        assert!(!d.fixed_output);
    }

    #[test]
    fn defaults_when_attributes_are_absent() {
        let text = aterm("");
        let d = DrvInfo::parse(text.as_bytes(), "t", &StoreDir::default()).unwrap();
        assert!(d.allow_substitutes);
        assert!(!d.prefer_local_build);
        assert!(d.required_features.is_empty());
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for input in [
            "",
            "Derive(",
            "Derive([],[],[],\"x\",\"y\",[],[])x",
            "\u{0}\u{1}",
        ] {
            assert!(DrvInfo::parse(input.as_bytes(), "t", &StoreDir::default()).is_err());
        }
    }

    proptest::proptest! {
        #[test]
        fn never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..512)) {
            let _ = DrvInfo::parse(&bytes, "t", &StoreDir::default());
        }

        #[test]
        fn never_panics_on_mutated_derivations(pos in 0usize..400, byte in proptest::num::u8::ANY) {
            let mut bytes = aterm("").into_bytes();
            let i = pos % bytes.len();
            bytes[i] = byte;
            let _ = DrvInfo::parse(&bytes, "t", &StoreDir::default());
        }
    }
}
