//! What the cost model needs to know about this host, already resolved
//! (`crossplan-host` builds it from Nix's settings, `/etc/nix/machines`,
//! calibration and binfmt_misc).

use std::collections::BTreeMap;

use serde::Serialize;

/// A remote builder (one `builders` / `/etc/nix/machines` entry).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Machine {
    /// Store URI, e.g. `ssh://rv` (shown in reasons).
    pub uri: String,
    /// Systems it builds.
    pub systems: Vec<String>,
    /// Parallel builds it accepts (default 1).
    pub max_jobs: u32,
    /// Relative speed: work on it takes native work ÷ this (default 1).
    pub speed_factor: f64,
    /// `supportedFeatures`.
    pub supported_features: Vec<String>,
    /// `mandatoryFeatures`: only derivations requiring all of these go there.
    pub mandatory_features: Vec<String>,
}

impl Machine {
    /// Whether Nix's build hook would accept a derivation of `system` with
    /// `required` features on this machine (build-remote.cc's rules).
    pub fn accepts(&self, system: &str, required: &[String]) -> bool {
        (self.systems.iter().any(|s| s == system) || system == "builtin")
            && required
                .iter()
                .all(|f| self.supported_features.contains(f) || self.mandatory_features.contains(f))
            && self.mandatory_features.iter().all(|f| required.contains(f))
    }
}

/// This host, as far as building is concerned.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HostView {
    /// Nix's `system` setting (`x86_64-linux`).
    pub system: String,
    /// `extra-platforms`: systems Nix builds locally besides `system`.
    pub extra_platforms: Vec<String>,
    /// `max-jobs` (0 = no local builds).
    pub max_jobs: u32,
    /// `system-features`.
    pub system_features: Vec<String>,
    /// Remote builders.
    pub machines: Vec<Machine>,
    /// Measured emulation factor per system (`crossplan calibrate`); systems
    /// absent here use the model's defaults.
    pub emulation_factors: BTreeMap<String, f64>,
}

impl HostView {
    /// Whether `system` is executed by this CPU without QEMU: the host's own
    /// system, its 32-bit companion (i686 on x86_64), x86-64 micro-architecture
    /// levels, and Rosetta on Apple Silicon. Everything else in
    /// `extra-platforms` is assumed to go through binfmt_misc + QEMU.
    pub fn runs_natively(&self, system: &str) -> bool {
        if system == self.system || system == "builtin" {
            return true;
        }
        match self.system.as_str() {
            "x86_64-linux" => {
                system == "i686-linux"
                    || (system.starts_with("x86_64-v") && system.ends_with("-linux"))
            }
            "aarch64-darwin" => system == "x86_64-darwin",
            _ => false,
        }
    }

    /// Whether Nix would build `system` here at all (`system` ∪ `extra-platforms`).
    pub fn can_build_locally(&self, system: &str, required: &[String]) -> bool {
        self.max_jobs > 0
            && (system == self.system
                || system == "builtin"
                || self.extra_platforms.iter().any(|s| s == system))
            && required.iter().all(|f| self.system_features.contains(f))
    }
}
