//! `nix/strategy.json`: read, merge, write atomically.
//!
//! Format (design.md §4), one target per line so diffs stay readable:
//!
//! ```json
//! {
//!   "version": 1,
//!   "targets": {
//!     "riscv64": { "strategy": "cross", "reason": "emulated needs 812 builds under QEMU (~9 h); cross needs 37 (~25 min)" }
//!   }
//! }
//! ```
//!
//! Targets are sorted by name; fields other than `strategy` and `reason`
//! that someone added by hand are kept.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::PlanError;

/// The only version this crossplan reads and writes.
pub const VERSION: u64 = 1;

/// One target's entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StrategyEntry {
    /// `cross`, `emulated` or `purego`.
    pub strategy: String,
    /// One line for humans.
    #[serde(default)]
    pub reason: String,
    /// Anything else found in the entry, kept as it was.
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

/// The whole file.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StrategyFile {
    /// Entries by target name.
    pub targets: BTreeMap<String, StrategyEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    version: u64,
    #[serde(default)]
    targets: BTreeMap<String, StrategyEntry>,
}

impl StrategyFile {
    /// Parse the text of `path`.
    pub fn parse(path: &Path, text: &str) -> Result<Self, PlanError> {
        let raw: Raw = serde_json::from_str(text).map_err(|e| PlanError::Corrupt {
            path: path.to_path_buf(),
            what: "strategy",
            reason: e.to_string(),
        })?;
        if raw.version != VERSION {
            return Err(PlanError::Version {
                path: path.to_path_buf(),
                what: "strategy",
                found: raw.version,
            });
        }
        Ok(StrategyFile {
            targets: raw.targets,
        })
    }

    /// Read `path`; a missing file is an empty one.
    pub fn load(path: &Path) -> Result<Self, PlanError> {
        match read_optional(path)? {
            Some(text) => Self::parse(path, &text),
            None => Ok(Self::default()),
        }
    }

    /// Set one target's strategy and reason, keeping its extra fields.
    pub fn set(&mut self, target: &str, strategy: &str, reason: &str) {
        let entry = self
            .targets
            .entry(target.to_string())
            .or_insert_with(|| StrategyEntry {
                strategy: String::new(),
                reason: String::new(),
                extra: BTreeMap::new(),
            });
        entry.strategy = strategy.to_string();
        entry.reason = reason.to_string();
    }

    /// The file's text: stable order, one target per line, trailing newline.
    pub fn render(&self) -> String {
        render_entries(
            "targets",
            self.targets.iter().map(|(name, e)| {
                let mut fields = vec![
                    format!("\"strategy\": {}", json_str(&e.strategy)),
                    format!("\"reason\": {}", json_str(&e.reason)),
                ];
                fields.extend(extra_fields(&e.extra));
                (name.as_str(), fields)
            }),
        )
    }

    /// Write to `path` atomically (see [`write_atomic`]); whether the
    /// content changed.
    pub fn write_atomic(&self, path: &Path) -> Result<bool, PlanError> {
        write_atomic(path, &self.render())
    }
}

/// A versioned file's text: `{ "version": 1, "<section>": { … } }` with one
/// entry per line (`"name": { field, field }`), in the order given.
pub(crate) fn render_entries<'a>(
    section: &str,
    entries: impl ExactSizeIterator<Item = (&'a str, Vec<String>)>,
) -> String {
    let mut out = format!("{{\n  \"version\": {VERSION},\n  {}: {{", json_str(section));
    let n = entries.len();
    for (i, (name, fields)) in entries.enumerate() {
        out.push_str(&format!(
            "\n    {}: {{ {} }}{}",
            json_str(name),
            fields.join(", "),
            if i + 1 < n { "," } else { "" }
        ));
    }
    if n > 0 {
        out.push_str("\n  ");
    }
    out.push_str("}\n}\n");
    out
}

/// The fields someone added by hand, as `"key": value`.
pub(crate) fn extra_fields(extra: &BTreeMap<String, Value>) -> impl Iterator<Item = String> + '_ {
    extra.iter().map(|(k, v)| format!("{}: {}", json_str(k), v))
}

/// The text of `path`, or None when it does not exist.
pub(crate) fn read_optional(path: &Path) -> Result<Option<String>, PlanError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(PlanError::Read {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// Write `text` to `path` atomically: a temporary file in the same
/// directory, flushed, then renamed over `path`. Returns whether the content
/// changed (an unchanged file is left untouched, mtime included).
pub(crate) fn write_atomic(path: &Path, text: &str) -> Result<bool, PlanError> {
    if std::fs::read_to_string(path).is_ok_and(|old| old == text) {
        return Ok(false);
    }
    let err = |source| PlanError::Write {
        path: path.to_path_buf(),
        source,
    };
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "crossplan.json".into());
    let tmp = dir.join(format!(".{file_name}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(err(e));
    }
    Ok(true)
}

pub(crate) fn json_str(s: &str) -> String {
    // serde_json escapes strings exactly as JSON requires; it cannot fail for &str.
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}
