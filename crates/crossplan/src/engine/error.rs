//! Errors of the engine and of the commands' own checks. Like the library
//! crates' errors, each knows its fix ([`EngineError::hint`]); `exit.rs` asks
//! every error in a chain for one, so nothing is turned into a string early.

use std::path::PathBuf;

/// What the engine or a command refuses, with the fix in [`EngineError::hint`].
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// `nix eval <flake>#lib.targets` failed.
    #[error("`nix eval --json {attr}` failed: {stderr}")]
    TargetsEval { attr: String, stderr: String },
    /// `lib.targets` is not an object of targets.
    #[error("{attr} is not a JSON object of targets: {reason}")]
    TargetsJson { attr: String, reason: String },
    /// A target name the flake does not define.
    #[error("unknown target `{target}` in {flake}#lib.targets")]
    UnknownTarget {
        target: String,
        flake: String,
        known: Vec<String>,
    },
    /// No variant of a target can be built on this host.
    #[error("no variant of {target} can be built here: {reason}")]
    NoVariant { target: String, reason: String },
    /// Not even the best swap set of a hybrid can be built on this host.
    #[error("the hybrid of {key} cannot be built here: {reason}")]
    NoHybrid {
        key: String,
        system: String,
        reason: String,
    },
    /// The same `--variant` label twice.
    #[error("--variant label `{label}` is given twice")]
    DuplicateVariant { label: String },
    /// A `--workload` that is not SYSTEM=BINARY.
    #[error("--workload `{spec}` is not SYSTEM=BINARY")]
    WorkloadSpec { spec: String },
    /// `--workload` for some systems but not this host's.
    #[error("--workload gives no binary for {}{system}", if *host { "this host's system " } else { "" })]
    WorkloadMissing { system: String, host: bool },
    /// The built-in workload needs Go.
    #[error("the built-in workload needs `go` on PATH to cross-compile it")]
    NoGo,
    /// QEMU computed something else than the host.
    #[error("the workload printed {emulated:?} under QEMU but {native:?} natively")]
    Miscomputed { emulated: String, native: String },
    /// The target table given to `doctor` cannot be used.
    #[error("cannot use the target table {path}: {reason}")]
    TargetsFile { path: PathBuf, reason: String },
    /// `nix eval` of a hybrid spec failed.
    #[error("`nix eval --json {installable}` failed: {stderr}")]
    SpecEval { installable: String, stderr: String },
    /// A hybrid spec evaluated to something else than crossplan expects.
    #[error("{installable} is not a hybrid spec crossplan understands: {reason}")]
    SpecJson { installable: String, reason: String },
    /// `--swap` that is not an attribute path.
    #[error(
        "--swap `{attr}` is not an attribute path (dot-separated names such as linuxPackages.kernel)"
    )]
    BadSwap { attr: String },
    /// A candidate that one of the spec's sets does not have.
    #[error(
        "cannot swap `{attr}` ({origin}) in {key}: the {side} set has no derivation at `{attr}`"
    )]
    SwapNotFound {
        attr: String,
        key: String,
        /// `native` or `cross`.
        side: &'static str,
        /// Where the candidate came from (`--swap`, the hybrid file, the spec).
        origin: &'static str,
        /// The spec's installable.
        installable: String,
    },
    /// A candidate whose native derivation the base does not use.
    #[error(
        "cannot swap `{attr}` in {key}: its native derivation {drv} is not in the closure of the base {base}, so swapping it changes nothing"
    )]
    SwapNotInClosure {
        attr: String,
        key: String,
        drv: String,
        base: String,
    },
    /// The instantiated hybrid does not build what the plan predicted.
    #[error("the hybrid of {key} ({drv}) does not build what the plan predicted:\n  {}", differences.join("\n  "))]
    Verification {
        key: String,
        drv: String,
        differences: Vec<String>,
    },
    /// Nix's dry run of the hybrid disagrees with crossplan's.
    #[error("Nix's dry run of the hybrid of {key} ({drv}) disagrees with crossplan's answer:\n  {}", differences.join("\n  "))]
    CheckFailed {
        key: String,
        drv: String,
        differences: Vec<String>,
    },
    /// A derivation has no output of that name.
    #[error("{drv} has no output `{output}`; its outputs: {known}")]
    NoSuchOutput {
        drv: String,
        output: String,
        known: String,
    },
}

impl EngineError {
    /// How to fix it.
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            Self::TargetsEval { .. } => {
                "pass --flake with the flake that defines lib.targets (default: the current directory)"
                    .into()
            }
            Self::TargetsJson { .. } => {
                "lib.targets must be an attribute set of target name → entry (see nix/targets.json)"
                    .into()
            }
            Self::UnknownTarget { known, .. } => format!("known targets: {}", known.join(", ")),
            Self::NoVariant { .. } => "run `crossplan doctor` to see how to enable emulation or remote builders, or pass --allow-purego".into(),
            Self::NoHybrid { key, system, .. } => format!(
                "enable emulation of {system} (binfmt + extra-platforms) or add a remote builder for it (`crossplan doctor {system}` says how), or swap what cannot be built (`crossplan hybrid {key} --swap ATTR`)"
            ),
            Self::DuplicateVariant { .. } => "give every --variant its own label, e.g. --variant cross=.#a --variant emulated=.#b".into(),
            Self::WorkloadSpec { .. } => "write e.g. --workload riscv64-linux=out/cup-riscv64".into(),
            Self::WorkloadMissing { system, host: true } => format!(
                "add --workload {system}=BINARY: the same program built for this host"
            ),
            Self::WorkloadMissing { system, host: false } => {
                format!("add --workload {system}=BINARY")
            }
            Self::NoGo => "install Go (it is in the cup dev shell), or pass --workload SYSTEM=BINARY for every system and this host".into(),
            Self::Miscomputed { .. } => "the emulator miscomputes: try another QEMU version".into(),
            Self::TargetsFile { .. } => "pass --targets-file with the project's nix/targets.json, or name the systems to check (e.g. `crossplan doctor riscv64-linux`)".into(),
            Self::SpecEval { installable, stderr } => {
                if stderr.contains("does not provide attribute") || stderr.contains("missing attribute") {
                    "name a board configuration or target the flake has a hybrid spec for (legacyPackages.<system>.hybridSpecs; `nix eval .#legacyPackages.x86_64-linux.hybridSpecs --apply builtins.attrNames` lists them), or pass --flake".into()
                } else {
                    format!("the error above is Nix's: `nix eval -- {installable}` reproduces it (add --show-trace for where)")
                }
            }
            Self::SpecJson { .. } => "a hybrid spec needs system, base, native, cross and hybrid (docs/hybrid.md, \"The hybrid spec\")".into(),
            Self::BadSwap { .. } => "write e.g. --swap linuxPackages.kernel".into(),
            Self::SwapNotFound { attr, side, installable, .. } => format!(
                "check the attribute path with `nix eval '{installable}.{side}.{attr}.name'`, and drop it from --swap or the hybrid file (or fix the spec's `candidates`)"
            ),
            Self::SwapNotInClosure { .. } => "swap an attribute the configuration actually uses (its kernel is linuxPackages.kernel), or drop it".into(),
            Self::Verification { .. } => "this is a bug in crossplan's prediction or in the spec's `hybrid` function: please report it with `crossplan hybrid --json` output".into(),
            Self::CheckFailed { .. } => "crossplan's walk and Nix disagree: run `crossplan status` and `nix-store --realise --dry-run` on the .drv to compare, and report it".into(),
            Self::NoSuchOutput { drv, .. } => format!(
                "name one of its outputs (e.g. {drv}^out), or leave `^…` out for all of them"
            ),
        })
    }

    /// Whether this is wrong command-line usage (exit 2).
    pub fn is_usage(&self) -> bool {
        matches!(
            self,
            Self::DuplicateVariant { .. } | Self::WorkloadSpec { .. } | Self::BadSwap { .. }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Review of issue 11: the hint of a missing swap showed a fixed
    /// `.#legacyPackages.x86_64-linux…<key>.native.<attr>` whatever the
    /// flake, key and side; the message did not say where the swap came from.
    #[test]
    fn a_missing_swap_names_its_origin_and_the_exact_nix_eval() {
        let e = EngineError::SwapNotFound {
            attr: "stdenv".into(),
            key: "board".into(),
            side: "cross",
            origin: "--swap",
            installable: "/f#legacyPackages.x86_64-linux.hybridSpecs.board".into(),
        };
        assert_eq!(
            e.to_string(),
            "cannot swap `stdenv` (--swap) in board: the cross set has no derivation at `stdenv`"
        );
        let hint = e.hint().expect("hint");
        assert!(
            hint.contains(
                "`nix eval '/f#legacyPackages.x86_64-linux.hybridSpecs.board.cross.stdenv.name'`"
            ),
            "{hint}"
        );
    }

    /// Review of issue 11: `crossplan hybrid` with no way to build the
    /// board's system ended with the plan's hint to "pass --allow-purego",
    /// an option `hybrid` does not have.
    #[test]
    fn an_impossible_hybrid_hints_at_emulation_builders_and_swap() {
        let e = EngineError::NoHybrid {
            key: "board".into(),
            system: "riscv64-linux".into(),
            reason: "kernel-modules-6.12.4 (…): no builder".into(),
        };
        assert!(e.to_string().contains("hybrid of board"), "{e}");
        let hint = e.hint().expect("hint");
        assert!(!hint.contains("--allow-purego"), "{hint}");
        assert!(
            hint.contains("riscv64-linux") && hint.contains("--swap"),
            "{hint}"
        );
    }
}
