//! `nix/hybrid.json`: the swaps `crossplan hybrid --write` chose, per board
//! configuration or target; read by the flake (`nix/lib/read-hybrid-file.nix`,
//! which checks the same rules as [`HybridFile::parse`]).
//!
//! Format, one entry per line so diffs stay readable:
//!
//! ```json
//! {
//!   "version": 1,
//!   "entries": {
//!     "visionfive2": { "swaps": ["linuxPackages.kernel"], "reason": "cross saves 11 h" }
//!   }
//! }
//! ```
//!
//! Entries are sorted by name and their swaps sorted and deduplicated;
//! fields other than `swaps` and `reason` that someone added by hand are
//! kept. Writing is atomic, and an unchanged file is not touched.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::PlanError;
use crate::strategy::{
    VERSION, extra_fields, json_str, read_optional, render_entries, write_atomic,
};

const WHAT: &str = "hybrid";

/// One entry: the attribute paths swapped for their cross-built counterparts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HybridEntry {
    pub swaps: Vec<String>,
    /// One line for humans.
    #[serde(default)]
    pub reason: String,
    /// Anything else found in the entry, kept as it was.
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

/// The whole file.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HybridFile {
    /// Entries by board configuration or target name.
    pub entries: BTreeMap<String, HybridEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    version: u64,
    #[serde(default)]
    entries: BTreeMap<String, HybridEntry>,
}

/// Whether `s` is an attribute path: dot-separated, non-empty names.
pub fn is_attr_path(s: &str) -> bool {
    !s.is_empty() && s.split('.').all(|seg| !seg.is_empty())
}

impl HybridFile {
    /// Parse the text of `path`: valid JSON of version 1, every swap an
    /// attribute path.
    pub fn parse(path: &Path, text: &str) -> Result<Self, PlanError> {
        let corrupt = |reason: String| PlanError::Corrupt {
            path: path.to_path_buf(),
            what: WHAT,
            reason,
        };
        let raw: Raw = serde_json::from_str(text).map_err(|e| corrupt(e.to_string()))?;
        if raw.version != VERSION {
            return Err(PlanError::Version {
                path: path.to_path_buf(),
                what: WHAT,
                found: raw.version,
            });
        }
        for (key, entry) in &raw.entries {
            if let Some(bad) = entry.swaps.iter().find(|s| !is_attr_path(s)) {
                return Err(corrupt(format!(
                    "entries.{key}.swaps has {}, which is not an attribute path (dot-separated names such as \"linuxPackages.kernel\")",
                    json_str(bad)
                )));
            }
        }
        Ok(HybridFile {
            entries: raw.entries,
        })
    }

    /// Read `path`; a missing file is an empty one.
    pub fn load(path: &Path) -> Result<Self, PlanError> {
        match read_optional(path)? {
            Some(text) => Self::parse(path, &text),
            None => Ok(Self::default()),
        }
    }

    /// The swaps of `key`, if it has an entry.
    pub fn swaps(&self, key: &str) -> Option<&[String]> {
        self.entries.get(key).map(|e| e.swaps.as_slice())
    }

    /// Set one entry's swaps and reason, keeping its extra fields.
    pub fn set(&mut self, key: &str, swaps: &[String], reason: &str) {
        let entry = self
            .entries
            .entry(key.to_string())
            .or_insert_with(|| HybridEntry {
                swaps: Vec::new(),
                reason: String::new(),
                extra: BTreeMap::new(),
            });
        entry.swaps = swaps.to_vec();
        entry.reason = reason.to_string();
    }

    /// The file's text: stable order, one entry per line, sorted swaps,
    /// trailing newline.
    pub fn render(&self) -> String {
        render_entries(
            "entries",
            self.entries.iter().map(|(name, e)| {
                let mut swaps: Vec<&str> = e.swaps.iter().map(String::as_str).collect();
                swaps.sort_unstable();
                swaps.dedup();
                let swaps: Vec<String> = swaps.into_iter().map(json_str).collect();
                let mut fields = vec![
                    format!("\"swaps\": [{}]", swaps.join(", ")),
                    format!("\"reason\": {}", json_str(&e.reason)),
                ];
                fields.extend(extra_fields(&e.extra));
                (name.as_str(), fields)
            }),
        )
    }

    /// Write to `path` atomically; whether the content changed (an
    /// unchanged file is left untouched, mtime included).
    pub fn write_atomic(&self, path: &Path) -> Result<bool, PlanError> {
        write_atomic(path, &self.render())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p() -> &'static Path {
        Path::new("nix/hybrid.json")
    }

    #[test]
    fn render_sorts_entries_and_swaps_and_parses_back() {
        let mut f = HybridFile::default();
        f.set(
            "visionfive2",
            &["linuxPackages.kernel".into(), "firmware".into()],
            "cross saves 11 h",
        );
        f.set("aarch64", &[], "nothing to swap");
        let text = f.render();
        assert_eq!(
            text,
            "{\n  \"version\": 1,\n  \"entries\": {\n    \"aarch64\": { \"swaps\": [], \"reason\": \"nothing to swap\" },\n    \"visionfive2\": { \"swaps\": [\"firmware\", \"linuxPackages.kernel\"], \"reason\": \"cross saves 11 h\" }\n  }\n}\n"
        );
        let back = HybridFile::parse(p(), &text).expect("parse");
        assert_eq!(back.render(), text);
        assert_eq!(
            back.swaps("visionfive2"),
            Some(&["firmware".to_string(), "linuxPackages.kernel".to_string()][..])
        );
    }

    #[test]
    fn extra_fields_are_kept() {
        let text = r#"{"version": 1, "entries": {"rpi": {"swaps": ["a"], "reason": "r", "note": "by hand"}}}"#;
        let mut f = HybridFile::parse(p(), text).expect("parse");
        f.set("rpi", &["b".into()], "new");
        assert!(
            f.render().contains(r#""note": "by hand""#),
            "{}",
            f.render()
        );
    }

    #[test]
    fn bad_files_name_the_file_and_the_entry() {
        for (text, want) in [
            ("{", "nix/hybrid.json is not a valid hybrid file"),
            (r#"{"version": 2, "entries": {}}"#, "has version 2"),
            (
                r#"{"version": 1, "entries": {"x": {"swaps": ["a..b"]}}}"#,
                "entries.x.swaps has \"a..b\"",
            ),
            (
                r#"{"version": 1, "entries": {"x": {"swaps": "a"}}}"#,
                "not a valid hybrid file",
            ),
            (r#"{"version": 1, "targets": {}}"#, "unknown field"),
        ] {
            let err = HybridFile::parse(p(), text).expect_err(text).to_string();
            assert!(err.contains(want), "{text}: {err}");
            assert!(err.contains("nix/hybrid.json"), "{err}");
        }
        let err = HybridFile::parse(p(), "[]").expect_err("array");
        assert!(err.hint().contains("crossplan hybrid"), "{}", err.hint());
    }

    #[test]
    fn attr_paths() {
        for (s, ok) in [
            ("linuxPackages.kernel", true),
            ("hello", true),
            ("", false),
            (".a", false),
            ("a.", false),
            ("a..b", false),
        ] {
            assert_eq!(is_attr_path(s), ok, "{s:?}");
        }
    }

    /// The flake's own file is in the form `--write` writes, so a first
    /// `crossplan hybrid --write` changes only what it decides.
    #[test]
    fn the_flakes_own_file_is_canonical() {
        let text = include_str!("../../../nix/hybrid.json");
        let f = HybridFile::parse(Path::new("nix/hybrid.json"), text).expect("nix/hybrid.json");
        assert_eq!(f.render(), text);
        assert!(f.swaps("visionfive2").is_some());
    }
}
