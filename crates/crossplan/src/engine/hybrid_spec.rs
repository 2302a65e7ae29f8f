//! The flake's hybrid specs: what `crossplan hybrid KEY` evaluates.
//!
//! A hybrid spec is an attribute set at
//! `<flake>#legacyPackages.<build system>.hybridSpecs.<key>` (or any
//! installable naming one, `path#attr`), with (docs/hybrid.md):
//!
//! - `system`: the native system of the base;
//! - `base`: the native (emulated) derivation; `allCross`: the all-cross
//!   one (optional);
//! - `native`, `cross`: the sets an attribute path is resolved in, to the
//!   native derivation in the base's closure and its cross counterpart;
//! - `hybrid`: swaps (a list of attribute paths) → the hybrid derivation;
//! - `swaps`: the swaps the hybrid file records for the key; `candidates`:
//!   the attributes to consider by default (a board's kernel);
//! - `built`: `hybrid swaps`, what `crossplan build --hybrid` builds.
//!
//! Everything is asked in one `nix eval --json … --apply`, so nixpkgs is
//! evaluated once; the hybrid of the chosen swaps in a second.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crossplan_store::nix_string;

use super::EngineError;
use super::cancel::GroupChild;
use super::targets::nix;

/// Where a spec is: `<flake>#legacyPackages.<system>.hybridSpecs.<key>`,
/// or the installable itself when `key` has a `#`.
pub fn spec_installable(flake: &str, system: &str, key: &str) -> String {
    if key.contains('#') {
        key.to_owned()
    } else {
        format!("{flake}#legacyPackages.{system}.hybridSpecs.{key}")
    }
}

/// The name an entry of the hybrid file has for `key`: the key itself, or
/// the last attribute of an installable (`path#a.b.board` → `board`).
pub fn entry_name(key: &str) -> &str {
    match key.rsplit_once('#') {
        Some((_, attr)) => attr.rsplit('.').next().unwrap_or(attr),
        None => key,
    }
}

/// One attribute path resolved in both sets.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct ResolvedAttr {
    pub attr: String,
    /// The native derivation's `.drv`, or None when the native set has no
    /// derivation at that path.
    pub native: Option<String>,
    /// The cross counterpart's `.drv`, likewise.
    pub cross: Option<String>,
}

/// A spec, evaluated.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct EvaluatedSpec {
    pub system: String,
    pub base: String,
    #[serde(rename = "allCross")]
    pub all_cross: Option<String>,
    /// The hybrid file's swaps for this key.
    pub swaps: Vec<String>,
    /// The spec's default candidates.
    pub candidates: Vec<String>,
    /// Every attribute asked for, the spec's defaults and swaps included.
    pub attrs: Vec<ResolvedAttr>,
}

fn nix_list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| nix_string(s)).collect();
    format!("[ {} ]", quoted.join(" "))
}

/// The helpers of every `--apply`: `get` (an attribute path, or null) and
/// `drv` (a derivation's `.drv`, or null; a throw while evaluating it is
/// null too).
const HELPERS: &str = r#"let
    inherit (builtins) filter foldl' isAttrs isString split tryEval;
    get = set: path: foldl' (acc: n: if isAttrs acc && acc ? ${n} then acc.${n} else null) set (filter isString (split "\\." path));
    drv = v: let r = tryEval (if isAttrs v && v ? drvPath then v.drvPath else null); in if r.success then r.value else null;
  in"#;

/// The `--apply` function that evaluates a spec with the attributes `names`
/// (and the spec's own candidates and swaps) resolved.
pub fn spec_apply(names: &[String]) -> String {
    format!(
        r#"spec:
  {HELPERS}
  let
    names = {} ++ (spec.candidates or [ ]) ++ (spec.swaps or [ ]);
  in
  {{
    system = spec.system;
    base = spec.base.drvPath;
    allCross = if spec ? allCross then spec.allCross.drvPath else null;
    swaps = spec.swaps or [ ];
    candidates = spec.candidates or [ ];
    attrs = map (a: {{ attr = a; native = drv (get spec.native a); cross = drv (get spec.cross a); }}) names;
  }}"#,
        nix_list(names)
    )
}

/// The `--apply` function that instantiates the hybrid with `swaps`, and
/// resolves `guesses` in the native set (to check suggested attributes).
/// Without swaps the hybrid is the base: a spec whose `hybrid [ ]` throws
/// (a board on a build host of its own system, where nothing can be
/// cross-built) gives its base.
pub fn hybrid_apply(swaps: &[String], guesses: &[String]) -> String {
    format!(
        r#"spec:
  {HELPERS}
  let
    swaps = {};
    none = tryEval (spec.hybrid [ ]).drvPath;
  in
  {{
    hybrid =
      if swaps == [ ] then (if none.success then none.value else spec.base.drvPath)
      else (spec.hybrid swaps).drvPath;
    guesses = map (a: drv (get spec.native a)) {};
  }}"#,
        nix_list(swaps),
        nix_list(guesses)
    )
}

/// `nix eval --json INSTALLABLE --apply APPLY`, parsed as `T`. A failure
/// names the installable and shows Nix's error.
pub fn eval_json<T: serde::de::DeserializeOwned>(
    installable: &str,
    apply: &str,
) -> Result<T, EngineError> {
    let out = GroupChild::output(nix().args(["eval", "--json", installable, "--apply", apply]))
        .map_err(|e| EngineError::SpecEval {
            installable: installable.to_owned(),
            stderr: format!("cannot run nix: {e}"),
        })?;
    if !out.status.success() {
        return Err(EngineError::SpecEval {
            installable: installable.to_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
        });
    }
    serde_json::from_slice(&out.stdout).map_err(|e| EngineError::SpecJson {
        installable: installable.to_owned(),
        reason: e.to_string(),
    })
}

/// The keys a flake has specs for (for the hint of an unknown key); empty
/// when they cannot be listed.
pub fn known_keys(flake: &str, system: &str) -> Vec<String> {
    let attr = format!("{flake}#legacyPackages.{system}.hybridSpecs");
    eval_json::<Vec<String>>(&attr, "builtins.attrNames").unwrap_or_default()
}

/// The instantiated hybrid and the guesses' native derivations.
#[derive(Debug, Deserialize)]
pub struct HybridEval {
    pub hybrid: String,
    pub guesses: Vec<Option<String>>,
}

/// Resolved attributes by name (the first of each).
pub fn by_attr(spec: &EvaluatedSpec) -> BTreeMap<&str, &ResolvedAttr> {
    let mut m = BTreeMap::new();
    for a in &spec.attrs {
        m.entry(a.attr.as_str()).or_insert(a);
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn installables_and_entry_names() {
        assert_eq!(
            spec_installable(".", "x86_64-linux", "visionfive2"),
            ".#legacyPackages.x86_64-linux.hybridSpecs.visionfive2"
        );
        assert_eq!(
            spec_installable(".", "x86_64-linux", "path:/f#specs.board"),
            "path:/f#specs.board"
        );
        assert_eq!(entry_name("visionfive2"), "visionfive2");
        assert_eq!(entry_name("path:/f#specs.board"), "board");
        assert_eq!(entry_name("path:/f#board"), "board");
    }

    #[test]
    fn strings_are_quoted_for_nix() {
        assert_eq!(nix_string("a.b"), "\"a.b\"");
        assert_eq!(nix_string("x${y}\"\\"), "\"x\\${y}\\\"\\\\\"");
        assert_eq!(nix_list(&["a".into(), "b.c".into()]), "[ \"a\" \"b.c\" ]");
        assert!(
            spec_apply(&["linuxPackages.kernel".into()]).contains("[ \"linuxPackages.kernel\" ]")
        );
    }
}
