//! Nix settings: `nix.conf` files (with `include`, `!include` and `extra-`
//! settings, as Nix's `Config::applyConfigFile` reads them) or the JSON of
//! `nix show-config --json` / `nix config show --json`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::HostError;

/// Settings by name, values as nix.conf text (lists space-separated).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NixSettings {
    /// Setting name → value.
    pub values: BTreeMap<String, String>,
    /// Files read, in order (for messages).
    pub files: Vec<PathBuf>,
}

impl NixSettings {
    /// Read one nix.conf and what it includes.
    pub fn from_file(path: &Path) -> Result<Self, HostError> {
        let mut s = NixSettings::default();
        s.apply_file(path, false, 0)?;
        Ok(s)
    }

    /// Apply a file on top of what is set: `ignore_missing` for `!include`.
    pub fn apply_file(
        &mut self,
        path: &Path,
        ignore_missing: bool,
        depth: usize,
    ) -> Result<(), HostError> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if ignore_missing && e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(source) => {
                return Err(HostError::Read {
                    path: path.to_path_buf(),
                    source,
                });
            }
        };
        self.files.push(path.to_path_buf());
        let dir = path.parent().unwrap_or(Path::new("/")).to_path_buf();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.split('#').next().unwrap_or("");
            let tokens: Vec<&str> = line.split_whitespace().collect();
            if tokens.is_empty() {
                continue;
            }
            let syntax = |reason: &str| HostError::Syntax {
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

    /// Apply `NIX_CONFIG`-style text (lines of `name = value`).
    pub fn apply_text(&mut self, text: &str) {
        for line in text.lines() {
            let line = line.split('#').next().unwrap_or("");
            if let Some((k, v)) = line.split_once('=') {
                let v: Vec<&str> = v.split_whitespace().collect();
                self.set(k.trim(), &v.join(" "));
            }
        }
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

    /// Parse the JSON of `nix show-config --json` (`{"name": {"value": …}}`,
    /// Nix ≥ 2.4) or a flat `{"name": value}` object.
    pub fn from_show_config_json(text: &str) -> Result<Self, String> {
        let v: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let obj = v.as_object().ok_or("not a JSON object")?;
        let mut s = NixSettings::default();
        for (k, v) in obj {
            let value = v.get("value").unwrap_or(v);
            s.values.insert(k.clone(), json_to_conf(value));
        }
        Ok(s)
    }

    /// Ask the installed Nix (`nix show-config --json`, falling back to
    /// `nix config show --json` on Nix versions that removed the former).
    pub fn from_nix() -> Result<Self, HostError> {
        let attempts: [&[&str]; 2] = [&["show-config", "--json"], &["config", "show", "--json"]];
        let mut last = String::new();
        for args in attempts {
            let out = Command::new("nix")
                .args(["--extra-experimental-features", "nix-command"])
                .args(args)
                .output();
            match out {
                Ok(o) if o.status.success() => {
                    return Self::from_show_config_json(&String::from_utf8_lossy(&o.stdout))
                        .map_err(|reason| HostError::Command {
                            command: format!("nix {}", args.join(" ")),
                            reason,
                        });
                }
                Ok(o) => last = String::from_utf8_lossy(&o.stderr).trim().to_string(),
                Err(e) => {
                    return Err(HostError::Command {
                        command: "nix show-config --json".into(),
                        reason: e.to_string(),
                    });
                }
            }
        }
        Err(HostError::Command {
            command: "nix show-config --json".into(),
            reason: last,
        })
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

    /// `system`, or the system crossplan was built for.
    pub fn system(&self) -> String {
        self.get("system")
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .unwrap_or_else(default_system)
    }

    /// `max-jobs` (`auto` = number of CPUs; default 1).
    pub fn max_jobs(&self) -> u32 {
        match self.get("max-jobs") {
            Some("auto") => cpus(),
            Some(v) => v.trim().parse().unwrap_or(1),
            None => 1,
        }
    }

    /// `cores` (0 or unset = all CPUs).
    pub fn cores(&self) -> u32 {
        match self.get("cores").and_then(|v| v.trim().parse::<u32>().ok()) {
            Some(0) | None => cpus(),
            Some(n) => n,
        }
    }
}

/// Settings whose own name starts with `extra-`.
pub const SETTINGS_NAMED_EXTRA: &[&str] = &["extra-platforms"];

fn json_to_conf(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Array(a) => a.iter().map(json_to_conf).collect::<Vec<_>>().join(" "),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    }
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
        "loongarch64" => "loongarch64",
        a => a,
    };
    format!("{arch}-{}", std::env::consts::OS)
}
