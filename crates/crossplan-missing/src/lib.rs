//! The missing-set engine: for a set of requested derivation outputs and
//! store paths, which derivations Nix will build, which paths it will fetch
//! and from where, and which it does not know how to get. It reproduces
//! `Store::queryMissing` (Nix src/libstore/misc.cc) exactly, and checks
//! narinfo signatures on top (see `../shared/cache-semantics.md` §1.1).

pub mod cache;
mod closure;
mod walk;

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

pub use closure::{ClosureStatus, NodeStatus, closure_status};
pub use walk::{
    Lookups, MissingError, Options, PathHit, PathLookup, Progress, RootClosure, Stage,
    query_missing, query_missing_in,
};

/// The answer: what a `nix build` of the requests would do.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Missing {
    /// Derivations that will be built, by absolute `.drv` path.
    pub build: BTreeMap<String, BuildInfo>,
    /// Store paths that will be substituted, by absolute path.
    pub fetch: BTreeMap<String, FetchInfo>,
    /// Paths Nix does not know how to get (not valid, not buildable, not substitutable).
    pub unknown: BTreeSet<String>,
    /// Sum of `FileSize` over `fetch`.
    pub download_bytes: u64,
    /// Sum of `NarSize` over `fetch`.
    pub nar_bytes: u64,
    /// Lookups that failed for good (after all retries). Non-empty means the
    /// answer may overstate the work.
    pub errors: Vec<LookupFailure>,
    /// Narinfo records that were found but refused (no valid trusted signature,
    /// wrong `StorePath`, …). Each counts as absent from that cache.
    pub rejected: Vec<Rejected>,
}

/// One derivation that will be built.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct BuildInfo {
    /// Derivation name (`name` attribute, e.g. `gcc-14.2.0`).
    pub name: String,
    /// `system` of the derivation (`riscv64-linux`, `builtin`, …).
    pub system: String,
    /// Input derivations that are themselves in [`Missing::build`] (the edges
    /// of the build graph that remains).
    pub input_drvs: Vec<String>,
    /// `requiredSystemFeatures` of the derivation.
    pub required_features: Vec<String>,
    /// `preferLocalBuild`.
    pub prefer_local_build: bool,
}

/// One path that will be fetched.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct FetchInfo {
    /// The substituter that serves it (credentials redacted).
    pub substituter: String,
    /// Compressed download size (`FileSize`, 0 if the narinfo has none).
    pub file_size: u64,
    /// Unpacked size (`NarSize`).
    pub nar_size: u64,
}

/// A lookup that failed after all retries.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct LookupFailure {
    /// The URL (credentials redacted) or file that failed.
    pub url: String,
    /// Why, in one line.
    pub reason: String,
}

/// A narinfo that was found but not accepted.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct Rejected {
    /// The store path it claims to describe.
    pub path: String,
    /// The substituter that served it (credentials redacted).
    pub substituter: String,
    /// Why it was refused.
    pub reason: String,
}
