//! The cost model's constants and its configuration file format.
//!
//! Everything here can be overridden by `$XDG_CONFIG_HOME/crossplan/config.toml`
//! (or `--config FILE`, TOML or JSON); `docs/cost-model.md` explains each
//! number and where it comes from.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use crate::name::{parse_drv_name, strip_host_suffix};

/// Priors that match a package name only exactly, never as a `-<key>`
/// suffix: `linux` is the kernel, but `initrd-linux` and `stdenv-linux` are
/// small derivations that merely end in the same word.
pub const EXACT_ONLY_PRIORS: &[&str] = &["linux"];

/// Build time priors in seconds, for a native build on one modern x86-64 box
/// (8 cores), used until this host has built the package itself. Keys are
/// package names without version; a derivation whose name *ends with*
/// `-<key>` also matches (so `riscv64-unknown-linux-gnu-gcc` is `gcc`), the
/// longest key winning. Rough orders of magnitude from Hydra build times; the
/// history database replaces them after the first real build.
pub const BUILTIN_PRIORS: &[(&str, f64)] = &[
    // toolchains: the heavy ones
    ("gcc", 1800.0),
    ("xgcc", 1800.0),
    ("gcc-unwrapped", 1800.0),
    ("glibc", 600.0),
    ("musl", 60.0),
    ("binutils", 240.0),
    ("binutils-unwrapped", 240.0),
    ("go", 600.0),
    ("rustc", 3600.0),
    ("llvm", 3000.0),
    ("clang", 2400.0),
    ("compiler-rt", 300.0),
    ("gfortran", 1800.0),
    // what every stdenv bootstrap builds
    ("perl", 300.0),
    ("python3", 600.0),
    ("python3-minimal", 300.0),
    ("bash", 90.0),
    ("coreutils", 240.0),
    ("gnum4", 30.0),
    ("bison", 90.0),
    ("flex", 40.0),
    ("gmp", 120.0),
    ("gmp-with-cxx", 120.0),
    ("mpfr", 90.0),
    ("libmpc", 40.0),
    ("isl", 120.0),
    ("zlib", 15.0),
    ("xz", 40.0),
    ("openssl", 300.0),
    ("linux-headers", 60.0),
    // A NixOS kernel with its modules (`linux-6.12.4`, and the config step
    // `linux-config-…` is small). About 45 min native: nixpkgs#260754
    // reports 12 h emulated on x86_64, ÷ riscv64's factor of 15.6.
    ("linux", 2700.0),
    ("texinfo", 90.0),
    ("gettext", 240.0),
    ("ncurses", 120.0),
    ("cmake", 600.0),
    ("util-linux", 240.0),
    ("systemd", 900.0),
    ("sqlite", 90.0),
    ("libffi", 30.0),
    ("gnugrep", 40.0),
    ("gnused", 30.0),
    ("gawk", 60.0),
    ("gnutar", 60.0),
    ("gnumake", 40.0),
    ("patch", 20.0),
    ("findutils", 60.0),
    ("diffutils", 40.0),
    ("file", 20.0),
    ("autoconf", 30.0),
    ("automake", 30.0),
    ("libtool", 40.0),
    ("pkg-config", 20.0),
    ("expand-response-params", 5.0),
    // cheap glue: wrappers, hooks, stdenv itself
    ("gcc-wrapper", 5.0),
    ("binutils-wrapper", 5.0),
    ("clang-wrapper", 5.0),
    ("stdenv-linux", 2.0),
    ("stdenv-darwin", 2.0),
    ("hook", 1.0),
    // our own
    ("cup", 120.0),
    ("cup-go-modules", 60.0),
    ("go-modules", 60.0),
];

/// Default emulation factors (QEMU user mode on an x86-64 host vs native),
/// per guest system, with their source in `../shared/cache-semantics.md` §3.
/// `crossplan calibrate` replaces them with this host's own measurement.
pub const DEFAULT_EMULATION_FACTORS: &[(&str, f64, &str)] = &[
    (
        "aarch64-linux",
        9.0,
        "go build: 1314 s under QEMU vs 146 s native (nuts-foundation/nuts-node PR #4525)",
    ),
    (
        "riscv64-linux",
        15.6,
        "codegen step: 196 s under QEMU vs 12.6 s native (kairos-io/AuroraBoot PR #758)",
    ),
    (
        "armv7l-linux",
        7.0,
        "Rust build: 45 min under QEMU vs 6-7 min cross (jamesmortensen/geckodriver-arm-binaries PR #3)",
    ),
    (
        "armv6l-linux",
        7.0,
        "as armv7l: Rust build 45 min vs 6-7 min (jamesmortensen/geckodriver-arm-binaries PR #3)",
    ),
    (
        "x86_64-linux",
        20.0,
        "Nix GNU hello: 5 min under QEMU vs 15 s (nix-community/nixos-apple-silicon PR #3)",
    ),
];

/// Factor for systems without a default above: the middle of the "5-10×" and
/// "8×" reports for compile workloads (cache-semantics.md §3: balovess/aria2_rust
/// PR #11, docker/buildx#2810, multiarch/qemu-user-static#104).
pub const FALLBACK_EMULATION_FACTOR: (f64, &str) = (
    10.0,
    "compile workloads under QEMU are 5-10x slower (balovess/aria2_rust PR #11, docker/buildx#2810)",
);

/// The cost model's tunables. Every field has a default; a config file sets
/// only what it changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct CostModel {
    /// Download bandwidth in megabits per second (downloads take bytes ÷ this).
    pub bandwidth_mbit: f64,
    /// Prior for a package found neither in history nor in the priors table.
    pub default_build_seconds: f64,
    /// Fixed cost per derivation (sandbox setup, unpack, fixup), added to its
    /// work before the emulation factor applies.
    pub per_build_overhead_seconds: f64,
    /// Extra priors or overrides of [`BUILTIN_PRIORS`], seconds by package name.
    pub priors: BTreeMap<String, f64>,
    /// Emulation factors by system, overriding calibration and defaults.
    pub emulation_factors: BTreeMap<String, f64>,
    /// Multiply every native time (history and priors) by this, e.g. 2.0 on a
    /// host half as fast as the reference box of the priors.
    pub host_slowness: f64,
}

impl Default for CostModel {
    fn default() -> Self {
        CostModel {
            bandwidth_mbit: 100.0,
            default_build_seconds: 60.0,
            per_build_overhead_seconds: 5.0,
            priors: BTreeMap::new(),
            emulation_factors: BTreeMap::new(),
            host_slowness: 1.0,
        }
    }
}

impl CostModel {
    /// Bytes per second of the download link.
    pub fn bandwidth_bytes_per_sec(&self) -> f64 {
        (self.bandwidth_mbit.max(0.001) * 1_000_000.0) / 8.0
    }

    /// Native build seconds of a derivation by its name, from the priors
    /// (config first, then [`BUILTIN_PRIORS`]), exact package name first,
    /// then the longest `-<key>` suffix; else [`CostModel::default_build_seconds`].
    /// A cross-built package's host suffix is ignored
    /// ([`crate::name::strip_host_suffix`]).
    /// Returns the seconds and where they came from.
    pub fn prior(&self, drv_name: &str) -> (f64, String) {
        // A cross-built package weighs what its native build does.
        let pname = strip_host_suffix(parse_drv_name(drv_name).0);
        if let Some(s) = self.priors.get(pname) {
            return (*s, format!("config prior for {pname}"));
        }
        if let Some((_, s)) = BUILTIN_PRIORS.iter().find(|(k, _)| *k == pname) {
            return (*s, format!("prior for {pname}"));
        }
        let config = self.priors.iter().map(|(k, v)| (k.as_str(), *v));
        let builtin = BUILTIN_PRIORS.iter().copied();
        let best = config
            .chain(builtin)
            .filter(|(k, _)| {
                !EXACT_ONLY_PRIORS.contains(k)
                    && pname.len() > k.len()
                    && pname.ends_with(k)
                    && pname.as_bytes()[pname.len() - k.len() - 1] == b'-'
            })
            .max_by_key(|(k, _)| k.len());
        match best {
            Some((k, s)) => (s, format!("prior for {k}")),
            None => (self.default_build_seconds, "default prior".into()),
        }
    }

    /// The emulation factor for `system` and its source: the config file, then
    /// this host's calibration, then [`DEFAULT_EMULATION_FACTORS`], then
    /// [`FALLBACK_EMULATION_FACTOR`].
    pub fn emulation_factor(
        &self,
        system: &str,
        calibrated: &BTreeMap<String, f64>,
    ) -> (f64, String) {
        if let Some(f) = self.emulation_factors.get(system) {
            return (*f, "config file".into());
        }
        if let Some(f) = calibrated.get(system) {
            return (*f, "crossplan calibrate on this host".into());
        }
        if let Some((_, f, src)) = DEFAULT_EMULATION_FACTORS
            .iter()
            .find(|(s, _, _)| *s == system)
        {
            return (*f, format!("default: {src}"));
        }
        (
            FALLBACK_EMULATION_FACTOR.0,
            format!("default: {}", FALLBACK_EMULATION_FACTOR.1),
        )
    }
}

/// Recorded build times on this host.
pub trait History {
    /// Typical seconds a build of package `pname` (no version) for `system`
    /// took here, `emulated` or not; `None` if never seen.
    fn seconds(&self, pname: &str, system: &str, emulated: bool) -> Option<f64>;
}

/// An in-memory [`History`]: (pname, system, emulated) → seconds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HistoryTable(pub HashMap<(String, String, bool), f64>);

impl HistoryTable {
    /// Record a typical time.
    pub fn insert(&mut self, pname: &str, system: &str, emulated: bool, seconds: f64) {
        self.0
            .insert((pname.to_string(), system.to_string(), emulated), seconds);
    }
}

impl History for HistoryTable {
    fn seconds(&self, pname: &str, system: &str, emulated: bool) -> Option<f64> {
        self.0
            .get(&(pname.to_string(), system.to_string(), emulated))
            .copied()
    }
}
