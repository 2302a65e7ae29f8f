//! Nix's settings, read from Nix itself so crossplan's defaults are exactly
//! the ones a `nix build` would use (nix.conf, `NIX_CONFIG`, `--option` of the
//! environment…).
//!
//! Nix 2.8 prints them with `nix show-config --json`; newer Nix with
//! `nix config show --json` (the old spelling is deprecated there). Both print
//! `{ "<name>": { "value": … }, … }`.

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

use crate::error::StoreError;

/// The experimental features every Nix CLI call of ours enables.
pub const NIX_FEATURES: &str = "nix-command flakes";

/// The settings crossplan uses, with Nix's defaults where a setting is absent.
#[derive(Debug, Clone, PartialEq)]
pub struct NixSettings {
    /// Logical store directory (`/nix/store`).
    pub store_dir: String,
    /// `substituters` (already merged with `extra-substituters` by Nix).
    pub substituters: Vec<String>,
    /// `trusted-public-keys`.
    pub trusted_public_keys: Vec<String>,
    /// `require-sigs`.
    pub require_sigs: bool,
    /// `substitute`: false turns substitution off altogether.
    pub substitute: bool,
    /// `always-allow-substitutes` (Nix ≥ 2.19; false when absent).
    pub always_allow_substitutes: bool,
    /// `netrc-file`.
    pub netrc_file: Option<PathBuf>,
    /// `narinfo-cache-positive-ttl`, seconds.
    pub narinfo_cache_positive_ttl: u64,
    /// `narinfo-cache-negative-ttl`, seconds.
    pub narinfo_cache_negative_ttl: u64,
    /// `system`.
    pub system: String,
    /// `extra-platforms`.
    pub extra_platforms: Vec<String>,
    /// `builders` (raw; `@file` means "read that file").
    pub builders: String,
    /// `max-jobs` (`auto` is resolved to the number of CPUs by Nix itself).
    pub max_jobs: u64,
    /// `cores` (0 = all).
    pub cores: u64,
    /// `system-features`.
    pub system_features: Vec<String>,
}

impl Default for NixSettings {
    /// Nix's built-in defaults (globals.hh), used for settings Nix does not print.
    fn default() -> Self {
        Self {
            store_dir: "/nix/store".into(),
            substituters: vec!["https://cache.nixos.org/".into()],
            trusted_public_keys: vec![
                "cache.nixos.org-1:6NCHdD59X431o0gWypbMrAURkbJ16ZPMQFGspcDShjY=".into(),
            ],
            require_sigs: true,
            substitute: true,
            always_allow_substitutes: false,
            netrc_file: Some(PathBuf::from("/etc/nix/netrc")),
            narinfo_cache_positive_ttl: 30 * 24 * 3600,
            narinfo_cache_negative_ttl: 3600,
            system: String::new(),
            extra_platforms: Vec::new(),
            builders: String::new(),
            max_jobs: 1,
            cores: 0,
            system_features: Vec::new(),
        }
    }
}

impl NixSettings {
    /// Ask Nix for its settings. Tries `nix config show --json` only if the
    /// old `nix show-config` is refused, so Nix 2.8 runs one process.
    pub fn load() -> Result<Self, StoreError> {
        let attempts: [&[&str]; 2] = [&["show-config", "--json"], &["config", "show", "--json"]];
        let mut last_err = None;
        for args in attempts {
            match run_nix("nix", args) {
                Ok(stdout) => {
                    let mut settings = Self::from_json(&stdout, "nix show-config --json")?;
                    settings.store_dir = store_dir_from_env();
                    return Ok(settings);
                }
                Err(err @ StoreError::NixMissing { .. }) => return Err(err),
                Err(err) => last_err = Some(err),
            }
        }
        Err(last_err.unwrap_or_else(|| StoreError::NixOutput {
            command: "nix show-config --json".into(),
            reason: "no output".into(),
        }))
    }

    /// Parse the JSON printed by `nix show-config --json`.
    pub fn from_json(text: &str, command: &str) -> Result<Self, StoreError> {
        let doc: Value = serde_json::from_str(text).map_err(|e| StoreError::NixOutput {
            command: command.into(),
            reason: e.to_string(),
        })?;
        let obj = doc.as_object().ok_or_else(|| StoreError::NixOutput {
            command: command.into(),
            reason: "not a JSON object".into(),
        })?;
        let get = |name: &str| obj.get(name).and_then(|s| s.get("value"));
        let mut s = Self::default();
        if let Some(v) = get("substituters") {
            s.substituters = strings(v, "substituters")?;
        }
        if let Some(v) = get("trusted-public-keys") {
            s.trusted_public_keys = strings(v, "trusted-public-keys")?;
        }
        if let Some(v) = get("require-sigs") {
            s.require_sigs = boolean(v, "require-sigs")?;
        }
        if let Some(v) = get("substitute") {
            s.substitute = boolean(v, "substitute")?;
        }
        if let Some(v) = get("always-allow-substitutes") {
            s.always_allow_substitutes = boolean(v, "always-allow-substitutes")?;
        }
        if let Some(v) = get("netrc-file") {
            let path = string(v, "netrc-file")?;
            s.netrc_file = (!path.is_empty()).then(|| PathBuf::from(path));
        }
        if let Some(v) = get("narinfo-cache-positive-ttl") {
            s.narinfo_cache_positive_ttl = unsigned(v, "narinfo-cache-positive-ttl")?;
        }
        if let Some(v) = get("narinfo-cache-negative-ttl") {
            s.narinfo_cache_negative_ttl = unsigned(v, "narinfo-cache-negative-ttl")?;
        }
        if let Some(v) = get("system") {
            s.system = string(v, "system")?;
        }
        if let Some(v) = get("extra-platforms") {
            s.extra_platforms = strings(v, "extra-platforms")?;
        }
        if let Some(v) = get("builders") {
            s.builders = string(v, "builders")?;
        }
        if let Some(v) = get("max-jobs") {
            s.max_jobs = unsigned(v, "max-jobs")?;
        }
        if let Some(v) = get("cores") {
            s.cores = unsigned(v, "cores")?;
        }
        if let Some(v) = get("system-features") {
            s.system_features = strings(v, "system-features")?;
        }
        Ok(s)
    }
}

/// The logical store directory: `NIX_STORE_DIR` as Nix itself reads it, else
/// the compiled-in default. (Nix prints no setting for it.)
pub fn store_dir_from_env() -> String {
    match std::env::var("NIX_STORE_DIR") {
        Ok(dir) if !dir.is_empty() => dir.trim_end_matches('/').to_owned(),
        _ => "/nix/store".into(),
    }
}

fn bad(name: &str, reason: &str) -> StoreError {
    StoreError::BadSetting {
        name: name.into(),
        reason: reason.into(),
    }
}

fn strings(v: &Value, name: &str) -> Result<Vec<String>, StoreError> {
    match v {
        Value::Array(items) => items
            .iter()
            .map(|i| {
                i.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| bad(name, "list item is not a string"))
            })
            .collect(),
        // Some versions print lists as one space-separated string.
        Value::String(s) => Ok(s.split_whitespace().map(str::to_owned).collect()),
        _ => Err(bad(name, "expected a list of strings")),
    }
}

fn string(v: &Value, name: &str) -> Result<String, StoreError> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        _ => Err(bad(name, "expected a string")),
    }
}

fn boolean(v: &Value, name: &str) -> Result<bool, StoreError> {
    match v {
        Value::Bool(b) => Ok(*b),
        Value::String(s) if s == "true" => Ok(true),
        Value::String(s) if s == "false" => Ok(false),
        _ => Err(bad(name, "expected true or false")),
    }
}

fn unsigned(v: &Value, name: &str) -> Result<u64, StoreError> {
    match v {
        Value::Number(n) => n
            .as_u64()
            .ok_or_else(|| bad(name, "expected a whole number")),
        Value::String(s) => s.parse().map_err(|_| bad(name, "expected a whole number")),
        _ => Err(bad(name, "expected a whole number")),
    }
}

/// Run a Nix command with our experimental features and return its stdout.
/// Errors name the command (its first few arguments).
pub fn run_nix<S: AsRef<std::ffi::OsStr>>(program: &str, args: &[S]) -> Result<String, StoreError> {
    let mut cmd = Command::new(program);
    if program == "nix" {
        cmd.args(["--extra-experimental-features", NIX_FEATURES]);
    }
    cmd.args(args).stdin(std::process::Stdio::null());
    let mut shown = program.to_owned();
    for a in args.iter().take(3) {
        shown.push(' ');
        shown.push_str(&a.as_ref().to_string_lossy());
    }
    if args.len() > 3 {
        shown.push_str(" …");
    }
    let out = cmd.output().map_err(|source| StoreError::NixMissing {
        command: shown.clone(),
        source,
    })?;
    if !out.status.success() {
        return Err(StoreError::NixFailed {
            command: shown,
            status: out.status.to_string(),
            stderr: last_lines(&String::from_utf8_lossy(&out.stderr), 6),
        });
    }
    String::from_utf8(out.stdout).map_err(|_| StoreError::NixOutput {
        command: shown,
        reason: "not UTF-8".into(),
    })
}

/// Run `f` on every item, each on a thread of its own, and collect the results
/// in order. A panicking thread becomes an error naming `what`.
pub(crate) fn parallel_map<T: Sync, R: Send>(
    items: &[T],
    what: &str,
    f: impl Fn(&T) -> Result<R, StoreError> + Sync,
) -> Vec<Result<R, StoreError>> {
    std::thread::scope(|scope| {
        let f = &f;
        let handles: Vec<_> = items
            .iter()
            .map(|item| scope.spawn(move || f(item)))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    Err(StoreError::NixOutput {
                        command: what.to_owned(),
                        reason: "a worker thread panicked".into(),
                    })
                })
            })
            .collect()
    })
}

/// The last `n` non-empty lines of a command's stderr, joined for a one-line message.
pub fn last_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let start = lines.len().saturating_sub(n);
    lines[start..].join(" | ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_nix_2_8_show_config() {
        let text = r#"{
          "substituters": {"value": ["http://a/", "file:///b"], "defaultValue": []},
          "trusted-public-keys": {"value": ["k:AAAA"]},
          "require-sigs": {"value": false},
          "netrc-file": {"value": ""},
          "narinfo-cache-positive-ttl": {"value": 10},
          "narinfo-cache-negative-ttl": {"value": 20},
          "system": {"value": "x86_64-linux"},
          "extra-platforms": {"value": ["i686-linux"]},
          "builders": {"value": "@/etc/nix/machines"},
          "max-jobs": {"value": 4},
          "cores": {"value": 0},
          "substitute": {"value": true}
        }"#;
        let s = NixSettings::from_json(text, "t").unwrap();
        assert_eq!(s.substituters, ["http://a/", "file:///b"]);
        assert_eq!(s.trusted_public_keys, ["k:AAAA"]);
        assert!(!s.require_sigs);
        assert_eq!(s.netrc_file, None);
        assert_eq!(s.narinfo_cache_positive_ttl, 10);
        assert_eq!(s.narinfo_cache_negative_ttl, 20);
        assert_eq!(s.extra_platforms, ["i686-linux"]);
        assert_eq!(s.max_jobs, 4);
        assert!(!s.always_allow_substitutes, "absent in Nix 2.8: false");
    }

    #[test]
    fn bad_values_name_the_setting() {
        let err = NixSettings::from_json(r#"{"require-sigs": {"value": 3}}"#, "t").unwrap_err();
        assert!(err.to_string().contains("require-sigs"), "{err}");
        let err = NixSettings::from_json("[1]", "nix show-config --json").unwrap_err();
        assert!(err.to_string().contains("nix show-config"), "{err}");
    }
}
