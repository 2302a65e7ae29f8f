//! The flake's targets: `lib.targets` and the variants
//! `<flake>#cup-<target>-<strategy>` each one has.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use crossplan_store::settings::NIX_FEATURES;

use super::EngineError;
use super::cancel::GroupChild;
use crate::cli::VariantSpec;

/// `nix` with the experimental features a flake needs on Nix 2.8.
pub fn nix() -> Command {
    let mut c = Command::new("nix");
    c.args(["--extra-experimental-features", NIX_FEATURES]);
    c
}

/// The flake's `lib.targets`: target name → its entry (with `strategies`).
pub fn flake_targets(flake: &str) -> anyhow::Result<BTreeMap<String, serde_json::Value>> {
    let attr = format!("{flake}#lib.targets");
    // In a process group of its own, so a cancel stops it (see `cancel`).
    let out = GroupChild::output(nix().args(["eval", "--json", &attr])).map_err(|source| {
        crossplan_store::StoreError::NixMissing {
            command: format!("nix eval --json {attr}"),
            source,
        }
    })?;
    if !out.status.success() {
        return Err(EngineError::TargetsEval {
            attr,
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
        }
        .into());
    }
    serde_json::from_slice(&out.stdout).map_err(|e| {
        EngineError::TargetsJson {
            attr,
            reason: e.to_string(),
        }
        .into()
    })
}

/// The variants of one target: `<flake>#cup-<t>-<strategy>` for each of its `strategies`.
pub fn target_variants(flake: &str, name: &str, entry: &serde_json::Value) -> Vec<VariantSpec> {
    let strategies: Vec<String> = entry
        .get("strategies")
        .and_then(|s| s.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_else(|| vec!["cross".into(), "emulated".into(), "purego".into()]);
    strategies
        .into_iter()
        .map(|s| VariantSpec {
            installable: format!("{flake}#cup-{name}-{s}"),
            label: s,
        })
        .collect()
}

/// Which targets to plan and their variants (all of them when `wanted` is empty).
pub fn select_targets(
    flake: &str,
    wanted: &[String],
) -> anyhow::Result<Vec<(String, Vec<VariantSpec>)>> {
    let all = flake_targets(flake)?;
    let names: Vec<String> = if wanted.is_empty() {
        all.keys().cloned().collect()
    } else {
        if let Some(w) = wanted.iter().find(|w| !all.contains_key(*w)) {
            return Err(EngineError::UnknownTarget {
                target: w.clone(),
                flake: flake.to_owned(),
                known: all.keys().cloned().collect(),
            }
            .into());
        }
        wanted.to_vec()
    };
    Ok(names
        .into_iter()
        .filter_map(|n| {
            let v = target_variants(flake, &n, all.get(&n)?);
            Some((n, v))
        })
        .collect())
}

/// `--variant` specs as one set to plan; each label may appear once.
pub fn variant_set(
    variants: &[VariantSpec],
) -> Result<Vec<(String, Vec<VariantSpec>)>, EngineError> {
    let mut seen = std::collections::BTreeSet::new();
    for v in variants {
        if !seen.insert(v.label.as_str()) {
            return Err(EngineError::DuplicateVariant {
                label: v.label.clone(),
            });
        }
    }
    Ok(vec![("variants".to_string(), variants.to_vec())])
}

/// The default strategy file: `<flake dir>/nix/strategy.json` for a local flake.
pub fn default_strategy_file(flake: &str) -> PathBuf {
    default_flake_file(flake, "strategy.json")
}

/// `<flake dir>/nix/<name>` for a local flake (`.`, `path:/x`, `/x?dir=sub`:
/// `/x/sub`), else `nix/<name>` of the current directory.
pub fn default_flake_file(flake: &str, name: &str) -> PathBuf {
    let flake = flake.split('#').next().unwrap_or(flake);
    let (base, query) = flake.split_once('?').unwrap_or((flake, ""));
    let local = base.strip_prefix("path:").unwrap_or(base);
    if local.contains(':') {
        return Path::new("nix").join(name);
    }
    let mut dir = PathBuf::from(local);
    if let Some(sub) = query.split('&').find_map(|kv| kv.strip_prefix("dir=")) {
        dir.push(sub);
    }
    dir.join("nix").join(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A local flake's file is in its `nix/`; `?dir=sub` puts the flake
    /// (and so its `nix/`) in `sub` (review of issue 11: the subdirectory
    /// was dropped); an installable's attribute does not matter.
    #[test]
    fn default_flake_files_follow_the_flake_directory() {
        let f = |flake| default_flake_file(flake, "hybrid.json");
        assert_eq!(f("."), Path::new("./nix/hybrid.json"));
        assert_eq!(f("path:/x"), Path::new("/x/nix/hybrid.json"));
        assert_eq!(f("/x#a.b"), Path::new("/x/nix/hybrid.json"));
        assert_eq!(f("/x?dir=sub"), Path::new("/x/sub/nix/hybrid.json"));
        assert_eq!(
            f("path:/x?rev=1&dir=a/b#c"),
            Path::new("/x/a/b/nix/hybrid.json")
        );
        assert_eq!(f("github:o/r"), Path::new("nix/hybrid.json"));
    }

    /// Bug 4 of issue 9: duplicate `--variant` labels are refused.
    #[test]
    fn duplicate_variant_labels_are_refused() {
        let v = |l: &str, i: &str| VariantSpec {
            label: l.into(),
            installable: i.into(),
        };
        let err = variant_set(&[v("cross", ".#a"), v("cross", ".#b")]).unwrap_err();
        assert!(err.to_string().contains("`cross`"), "{err}");
        assert!(err.is_usage());
        assert!(variant_set(&[v("cross", ".#a"), v("emulated", ".#b")]).is_ok());
    }
}
