//! Nix's settings: the one reading of them every crossplan command acts on.
//!
//! Two sources, one type. By default crossplan asks Nix itself, so its
//! defaults are exactly the ones a `nix build` would use (nix.conf,
//! `NIX_CONFIG`, …): Nix 2.8 prints them with `nix show-config --json`, newer
//! Nix with `nix config show --json` (the old spelling is deprecated there);
//! both print `{ "<name>": { "value": … }, … }`. With `--nix-conf FILE`
//! crossplan reads that file (and what it includes) *instead of* asking Nix,
//! on top of Nix's built-in defaults for every key the file leaves out — as
//! Nix does when that file is its only nix.conf.
//!
//! The settings are kept raw (name → nix.conf text, lists space-separated)
//! and read through typed accessors. Every value an accessor parses is
//! checked when the settings are read, so a bad value (`max-jobs = banana`)
//! fails at once, naming the file or command it came from.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::error::StoreError;

/// The experimental features every Nix CLI call of ours enables.
pub const NIX_FEATURES: &str = "nix-command flakes";

/// Nix's public key of cache.nixos.org, the default `trusted-public-keys`.
pub const CACHE_NIXOS_ORG_KEY: &str =
    "cache.nixos.org-1:6NCHdD59X431o0gWypbMrAURkbJ16ZPMQFGspcDShjY=";

/// Where a [`NixSettings`] came from (for messages).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// Nix's built-in defaults only.
    Defaults,
    /// Printed by Nix (the command).
    Nix(String),
    /// Read from these nix.conf files, in order, over Nix's defaults.
    Files(Vec<PathBuf>),
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::Defaults => f.write_str("Nix's defaults"),
            Origin::Nix(command) => write!(f, "`{command}`"),
            Origin::Files(files) => match files.first() {
                Some(p) => write!(f, "{}", p.display()),
                None => f.write_str("nix.conf"),
            },
        }
    }
}

/// Nix's settings by name, values as nix.conf text, with typed accessors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NixSettings {
    values: BTreeMap<String, String>,
    origin: Origin,
    store_dir: String,
}

/// Settings whose own name starts with `extra-`: `extra-platforms = X`
/// replaces the setting (Nix's `Config::set` looks the full name up first).
pub const SETTINGS_NAMED_EXTRA: &[&str] = &["extra-platforms"];

/// Settings read as booleans.
const BOOLS: &[&str] = &["require-sigs", "substitute", "always-allow-substitutes"];
/// Settings read as whole numbers.
const NUMBERS: &[&str] = &[
    "narinfo-cache-positive-ttl",
    "narinfo-cache-negative-ttl",
    "cores",
];

impl NixSettings {
    /// Nix's built-in defaults (Nix's `globals.hh`), for the machine crossplan
    /// runs on: what Nix uses for a key no nix.conf sets.
    pub fn defaults() -> Self {
        let system = default_system();
        let mut values = BTreeMap::new();
        let mut put = |k: &str, v: String| {
            values.insert(k.to_owned(), v);
        };
        put("system", system.clone());
        put(
            "extra-platforms",
            default_extra_platforms(&system).join(" "),
        );
        put("substituters", "https://cache.nixos.org/".into());
        put("trusted-public-keys", CACHE_NIXOS_ORG_KEY.into());
        put("require-sigs", "true".into());
        put("substitute", "true".into());
        put("always-allow-substitutes", "false".into());
        put("netrc-file", "/etc/nix/netrc".into());
        put("narinfo-cache-positive-ttl", (30 * 24 * 3600).to_string());
        put("narinfo-cache-negative-ttl", "3600".into());
        put("builders", "@/etc/nix/machines".into());
        put("max-jobs", "1".into());
        put("cores", cpus().to_string());
        put(
            "sandbox",
            if cfg!(target_os = "linux") {
                "true"
            } else {
                "false"
            }
            .into(),
        );
        put("sandbox-paths", String::new());
        put("system-features", default_system_features().join(" "));
        Self {
            values,
            origin: Origin::Defaults,
            store_dir: store_dir_from_env(),
        }
    }

    /// Ask Nix for its settings. Tries `nix config show --json` only if the
    /// old `nix show-config` is refused, so Nix 2.8 runs one process.
    pub fn load() -> Result<Self, StoreError> {
        let attempts: [&[&str]; 2] = [&["show-config", "--json"], &["config", "show", "--json"]];
        let mut first_err: Option<StoreError> = None;
        for args in attempts {
            match run_nix("nix", args) {
                Ok(stdout) => return Self::from_json(&stdout, &format!("nix {}", args.join(" "))),
                Err(err @ StoreError::NixMissing { .. }) => return Err(err),
                // The second spelling's error is the one to show only when
                // the first was refused as a command (a Nix without it);
                // otherwise Nix's own complaint (a bad nix.conf line, …) is
                // the first error, and the second repeats or hides it.
                Err(err) => match &first_err {
                    Some(first) if !refused_command(first) => {}
                    _ => first_err = Some(err),
                },
            }
        }
        Err(first_err.unwrap_or_else(|| StoreError::NixOutput {
            command: "nix show-config --json".into(),
            reason: "no output".into(),
        }))
    }

    /// Read `path` (and its includes) instead of asking Nix: Nix's defaults,
    /// then the file's settings over them.
    pub fn from_file(path: &Path) -> Result<Self, StoreError> {
        let mut s = Self::defaults();
        s.origin = Origin::Files(Vec::new());
        s.apply_file(path, false, 0)?;
        s.validate()?;
        Ok(s)
    }

    /// Parse the JSON printed by `nix show-config --json` / `nix config show
    /// --json` (`{"name": {"value": …}}`) or a flat `{"name": value}` object.
    pub fn from_json(text: &str, command: &str) -> Result<Self, StoreError> {
        let doc: Value = serde_json::from_str(text).map_err(|e| StoreError::NixOutput {
            command: command.into(),
            reason: e.to_string(),
        })?;
        let obj = doc.as_object().ok_or_else(|| StoreError::NixOutput {
            command: command.into(),
            reason: "not a JSON object".into(),
        })?;
        let mut s = Self::defaults();
        s.origin = Origin::Nix(command.into());
        for (k, v) in obj {
            let value = v.get("value").unwrap_or(v);
            s.values.insert(k.clone(), json_to_conf(value));
        }
        s.validate()?;
        Ok(s)
    }

    /// Apply a nix.conf on top of what is set (`ignore_missing` for
    /// `!include`), as Nix's `Config::applyConfigFile` reads it.
    fn apply_file(
        &mut self,
        path: &Path,
        ignore_missing: bool,
        depth: usize,
    ) -> Result<(), StoreError> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if ignore_missing && e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(source) => {
                return Err(StoreError::ConfRead {
                    path: path.to_path_buf(),
                    source,
                });
            }
        };
        if let Origin::Files(files) = &mut self.origin {
            files.push(path.to_path_buf());
        }
        let dir = path.parent().unwrap_or(Path::new("/")).to_path_buf();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.split('#').next().unwrap_or("");
            let tokens: Vec<&str> = line.split_whitespace().collect();
            if tokens.is_empty() {
                continue;
            }
            let syntax = |reason: &str| StoreError::ConfSyntax {
                path: path.to_path_buf(),
                line: i + 1,
                reason: reason.to_string(),
            };
            if tokens[0] == "include" || tokens[0] == "!include" {
                if tokens.len() != 2 {
                    return Err(syntax("syntax error in include statement"));
                }
                if depth > 16 {
                    return Err(syntax("includes nested too deep (a cycle?)"));
                }
                let target = dir.join(tokens[1]);
                self.apply_file(&target, tokens[0] == "!include", depth + 1)?;
                continue;
            }
            if tokens.len() < 2 || tokens[1] != "=" {
                return Err(syntax("illegal configuration line"));
            }
            self.set(tokens[0], &tokens[2..].join(" "));
        }
        Ok(())
    }

    /// Set `name` (an `extra-` prefix appends to the list instead, unless
    /// the name is itself a setting, like `extra-platforms`: then
    /// `extra-extra-platforms` appends to it, as in Nix's `Config::set`).
    pub fn set(&mut self, name: &str, value: &str) {
        if let Some(base) = name
            .strip_prefix("extra-")
            .filter(|_| !SETTINGS_NAMED_EXTRA.contains(&name))
        {
            let entry = self.values.entry(base.to_string()).or_default();
            if !value.is_empty() {
                if !entry.is_empty() {
                    entry.push(' ');
                }
                entry.push_str(value);
            }
        } else {
            self.values.insert(name.to_string(), value.to_string());
        }
    }

    /// Check every value an accessor parses.
    fn validate(&self) -> Result<(), StoreError> {
        for name in BOOLS {
            if let Some(v) = self.get(name) {
                parse_bool(v).ok_or_else(|| self.bad(name, v, "expected true or false"))?;
            }
        }
        for name in NUMBERS {
            if let Some(v) = self.get(name) {
                v.parse::<u64>()
                    .map_err(|_| self.bad(name, v, "expected a whole number"))?;
            }
        }
        if let Some(v) = self.get("max-jobs")
            && v != "auto"
            && v.parse::<u32>().is_err()
        {
            return Err(self.bad("max-jobs", v, "expected `auto` or a whole number"));
        }
        if let Some(v) = self.get("sandbox")
            && v != "relaxed"
            && parse_bool(v).is_none()
        {
            return Err(self.bad("sandbox", v, "expected true, false or relaxed"));
        }
        Ok(())
    }

    fn bad(&self, name: &str, value: &str, reason: &str) -> StoreError {
        StoreError::BadSetting {
            name: name.into(),
            value: value.into(),
            origin: self.origin.to_string(),
            reason: reason.into(),
        }
    }

    /// Where these settings came from.
    pub fn origin(&self) -> &Origin {
        &self.origin
    }

    /// The raw value of a setting.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    /// A list setting, split on whitespace (empty if unset).
    pub fn list(&self, name: &str) -> Vec<String> {
        self.get(name)
            .map(|v| v.split_whitespace().map(str::to_string).collect())
            .unwrap_or_default()
    }

    fn bool_or(&self, name: &str, default: bool) -> bool {
        self.get(name).and_then(parse_bool).unwrap_or(default)
    }

    fn number_or(&self, name: &str, default: u64) -> u64 {
        self.get(name)
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    }

    /// Logical store directory (`NIX_STORE_DIR`, else `/nix/store`).
    pub fn store_dir(&self) -> &str {
        &self.store_dir
    }

    /// `substituters` (with `extra-substituters` merged in).
    pub fn substituters(&self) -> Vec<String> {
        self.list("substituters")
    }

    /// `trusted-public-keys` (with `extra-trusted-public-keys` merged in).
    pub fn trusted_public_keys(&self) -> Vec<String> {
        self.list("trusted-public-keys")
    }

    /// `require-sigs`.
    pub fn require_sigs(&self) -> bool {
        self.bool_or("require-sigs", true)
    }

    /// `substitute`: false turns substitution off altogether.
    pub fn substitute(&self) -> bool {
        self.bool_or("substitute", true)
    }

    /// `always-allow-substitutes` (Nix ≥ 2.19; false when absent).
    pub fn always_allow_substitutes(&self) -> bool {
        self.bool_or("always-allow-substitutes", false)
    }

    /// `netrc-file` (`None` when empty).
    pub fn netrc_file(&self) -> Option<PathBuf> {
        self.get("netrc-file")
            .filter(|p| !p.is_empty())
            .map(PathBuf::from)
    }

    /// `narinfo-cache-positive-ttl`, seconds.
    pub fn narinfo_cache_positive_ttl(&self) -> u64 {
        self.number_or("narinfo-cache-positive-ttl", 30 * 24 * 3600)
    }

    /// `narinfo-cache-negative-ttl`, seconds.
    pub fn narinfo_cache_negative_ttl(&self) -> u64 {
        self.number_or("narinfo-cache-negative-ttl", 3600)
    }

    /// `system`, or the system crossplan was built for.
    pub fn system(&self) -> String {
        self.get("system")
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .unwrap_or_else(default_system)
    }

    /// `extra-platforms`.
    pub fn extra_platforms(&self) -> Vec<String> {
        self.list("extra-platforms")
    }

    /// `builders` (raw; `@file` means "read that file").
    pub fn builders(&self) -> &str {
        self.get("builders").unwrap_or("@/etc/nix/machines")
    }

    /// `max-jobs` (`auto` = number of CPUs).
    pub fn max_jobs(&self) -> u32 {
        match self.get("max-jobs") {
            Some("auto") => cpus(),
            Some(v) => v.trim().parse().unwrap_or(1),
            None => 1,
        }
    }

    /// `cores` (0 = all CPUs).
    pub fn cores(&self) -> u32 {
        match self.get("cores").and_then(|v| v.trim().parse::<u32>().ok()) {
            Some(0) | None => cpus(),
            Some(n) => n,
        }
    }

    /// `system-features`.
    pub fn system_features(&self) -> Vec<String> {
        self.list("system-features")
    }

    /// `sandbox` is on (`true` or `relaxed`).
    pub fn sandbox(&self) -> bool {
        self.get("sandbox")
            .is_none_or(|v| v == "true" || v == "relaxed")
    }

    /// `sandbox-paths` (with `extra-sandbox-paths` merged in).
    pub fn sandbox_paths(&self) -> Vec<String> {
        self.list("sandbox-paths")
    }
}

fn parse_bool(v: &str) -> Option<bool> {
    match v {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

fn json_to_conf(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(a) => a.iter().map(json_to_conf).collect::<Vec<_>>().join(" "),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Nix's default `extra-platforms` (`getDefaultExtraPlatforms`): i686-linux
/// on x86_64-linux, plus the x86-64 micro-architecture levels this CPU
/// supports (`x86_64-v1-linux` …).
pub fn default_extra_platforms(system: &str) -> Vec<String> {
    let mut out = Vec::new();
    if system == "x86_64-linux" {
        out.push("i686-linux".to_owned());
        let flags = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|t| {
                t.lines()
                    .find(|l| l.starts_with("flags"))
                    .map(|l| l.split_whitespace().map(str::to_owned).collect::<Vec<_>>())
            })
            .unwrap_or_default();
        let has = |fs: &[&str]| fs.iter().all(|f| flags.iter().any(|g| g == f));
        // The x86-64 psABI levels, as Nix's computeLevels checks them.
        let v2 = ["cx16", "lahf_lm", "popcnt", "sse4_1", "sse4_2", "ssse3"];
        let v3 = [
            "avx", "avx2", "bmi1", "bmi2", "f16c", "fma", "movbe", "xsave",
        ];
        let v4 = ["avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl"];
        if !flags.is_empty() {
            out.push("x86_64-v1-linux".to_owned());
            if has(&v2) {
                out.push("x86_64-v2-linux".to_owned());
                if has(&v3) {
                    out.push("x86_64-v3-linux".to_owned());
                    if has(&v4) {
                        out.push("x86_64-v4-linux".to_owned());
                    }
                }
            }
        }
    }
    out
}

/// Nix's default `system-features`: benchmark, big-parallel, nixos-test, and
/// kvm where `/dev/kvm` can be opened.
pub fn default_system_features() -> Vec<String> {
    let mut f: Vec<String> = vec!["benchmark".into(), "big-parallel".into()];
    if std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/kvm")
        .is_ok()
    {
        f.push("kvm".into());
    }
    f.push("nixos-test".into());
    f
}

/// Number of CPUs of this machine.
pub fn cpus() -> u32 {
    std::thread::available_parallelism()
        .map(|n| u32::try_from(n.get()).unwrap_or(1))
        .unwrap_or(1)
}

/// The Nix system name of the machine crossplan runs on.
pub fn default_system() -> String {
    let arch = match std::env::consts::ARCH {
        "x86" => "i686",
        "powerpc64" if cfg!(target_endian = "little") => "powerpc64le",
        a => a,
    };
    format!("{arch}-{}", std::env::consts::OS)
}

/// The logical store directory: `NIX_STORE_DIR` as Nix itself reads it, else
/// the compiled-in default. (Nix prints no setting for it.)
///
/// As Nix's `Settings` (libstore/globals.cc): `NIX_STORE_DIR`, else
/// `NIX_STORE`, else `/nix/store`, made canonical the way `canonPath` does
/// (`/nix//store/` is `/nix/store`). A relative value is returned as it is,
/// for `LocalStore::new` to refuse with the variable's name.
pub fn store_dir_from_env() -> String {
    let set = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let dir = set("NIX_STORE_DIR")
        .or_else(|| set("NIX_STORE"))
        .unwrap_or_else(|| "/nix/store".into());
    canon_path(&dir)
}

/// Nix's `canonPath` without following symlinks: repeated slashes, `.` and a
/// trailing slash removed, `..` taken lexically. Relative paths are left alone.
fn canon_path(path: &str) -> String {
    if !path.starts_with('/') {
        return path.to_owned();
    }
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            part => parts.push(part),
        }
    }
    format!("/{}", parts.join("/"))
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
    let text = strip_ansi(text);
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let start = lines.len().saturating_sub(n);
    lines[start..].join(" | ")
}

/// `text` without terminal colour sequences (`ESC [ … letter`), which Nix
/// writes into its error messages even when they are not for a terminal.
fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            if chars.next() == Some('[') {
                for c in chars.by_ref() {
                    if c.is_ascii_alphabetic() {
                        break;
                    }
                }
            }
            continue;
        }
        out.push(c);
    }
    out
}

/// Whether Nix refused the command itself (`'show-config' is not a
/// recognised command`), as opposed to failing while running it.
fn refused_command(err: &StoreError) -> bool {
    matches!(err, StoreError::NixFailed { stderr, .. } if stderr.contains("not a recognised command"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_dir_is_made_canonical_as_nix_does() {
        for (given, canonical) in [
            ("/nix/store", "/nix/store"),
            ("/nix//store/", "/nix/store"),
            ("/nix/./store", "/nix/store"),
            ("/nix/x/../store", "/nix/store"),
            ("/", "/"),
            ("relative/store", "relative/store"),
        ] {
            assert_eq!(canon_path(given), canonical, "{given}");
        }
    }

    #[test]
    fn colour_sequences_are_taken_out_of_nix_s_messages() {
        let text = "\u{1b}[31;1merror:\u{1b}[0m not an absolute path: 'x'\n\n";
        assert_eq!(last_lines(text, 4), "error: not an absolute path: 'x'");
    }

    #[test]
    fn only_a_refused_command_gives_way_to_the_other_spelling() {
        let failed = |stderr: &str| StoreError::NixFailed {
            command: "nix show-config --json".into(),
            status: "exit status: 1".into(),
            stderr: stderr.into(),
        };
        assert!(refused_command(&failed(
            "error: 'show-config' is not a recognised command"
        )));
        assert!(!refused_command(&failed(
            "error: illegal configuration line 'x' in 'NIX_CONFIG'"
        )));
    }

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
        assert_eq!(s.substituters(), ["http://a/", "file:///b"]);
        assert_eq!(s.trusted_public_keys(), ["k:AAAA"]);
        assert!(!s.require_sigs());
        assert_eq!(s.netrc_file(), None);
        assert_eq!(s.narinfo_cache_positive_ttl(), 10);
        assert_eq!(s.narinfo_cache_negative_ttl(), 20);
        assert_eq!(s.extra_platforms(), ["i686-linux"]);
        assert_eq!(s.max_jobs(), 4);
        assert!(!s.always_allow_substitutes(), "absent in Nix 2.8: false");
    }

    #[test]
    fn bad_values_name_the_setting() {
        let err = NixSettings::from_json(r#"{"require-sigs": {"value": 3}}"#, "t").unwrap_err();
        assert!(err.to_string().contains("require-sigs"), "{err}");
        let err = NixSettings::from_json("[1]", "nix show-config --json").unwrap_err();
        assert!(err.to_string().contains("nix show-config"), "{err}");
    }

    fn conf(text: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nix.conf");
        std::fs::write(&path, text).unwrap();
        (dir, path)
    }

    /// Bug 2 of issue 9: a nix.conf that leaves `extra-platforms` out gets
    /// Nix's default (i686-linux on x86_64-linux), and the cache settings too.
    #[test]
    fn nix_conf_file_keeps_nix_defaults_for_keys_it_leaves_out() {
        let (_d, path) = conf("sandbox = false\n");
        let s = NixSettings::from_file(&path).unwrap();
        assert!(!s.sandbox());
        assert_eq!(s.substituters(), ["https://cache.nixos.org/"]);
        assert_eq!(s.trusted_public_keys(), [CACHE_NIXOS_ORG_KEY]);
        assert!(s.require_sigs());
        assert_eq!(s.max_jobs(), 1);
        assert_eq!(s.builders(), "@/etc/nix/machines");
        if default_system() == "x86_64-linux" {
            assert!(
                s.extra_platforms().iter().any(|p| p == "i686-linux"),
                "{:?}",
                s.extra_platforms()
            );
        }
        assert_eq!(s.origin(), &Origin::Files(vec![path.clone()]));
    }

    #[test]
    fn nix_conf_extra_settings_append_and_extra_platforms_replaces() {
        let (_d, path) = conf(
            "substituters = http://a\nextra-substituters = http://b\nextra-platforms = aarch64-linux\nextra-extra-platforms = riscv64-linux\n",
        );
        let s = NixSettings::from_file(&path).unwrap();
        assert_eq!(s.substituters(), ["http://a", "http://b"]);
        assert_eq!(s.extra_platforms(), ["aarch64-linux", "riscv64-linux"]);
    }

    /// Bug 9 of issue 9: `max-jobs = banana` is refused, naming the file.
    #[test]
    fn nix_conf_bad_max_jobs_is_an_error_naming_the_file() {
        let (_d, path) = conf("max-jobs = banana\n");
        let err = NixSettings::from_file(&path).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("max-jobs") && msg.contains("banana"), "{msg}");
        assert!(msg.contains(&path.display().to_string()), "{msg}");
        assert!(err.hint().is_some());
        let (_d, path) = conf("max-jobs = auto\ncores = 3\n");
        let s = NixSettings::from_file(&path).unwrap();
        assert_eq!(s.max_jobs(), cpus());
        assert_eq!(s.cores(), 3);
    }

    /// Bug 9 of issue 9: a missing file says so once, with a hint.
    #[test]
    fn nix_conf_missing_file_is_one_error_with_a_hint() {
        let err = NixSettings::from_file(Path::new("/nonexistent/nix.conf")).unwrap_err();
        assert!(err.to_string().contains("/nonexistent/nix.conf"), "{err}");
        assert!(
            !err.to_string().contains("No such file"),
            "the cause is the source: {err}"
        );
        assert!(err.hint().is_some());
    }

    #[test]
    fn nix_conf_syntax_errors_name_the_line() {
        let (_d, path) = conf("sandbox = false\nwhat is this\n");
        let err = NixSettings::from_file(&path).unwrap_err();
        assert!(err.to_string().contains(":2:"), "{err}");
    }
}
