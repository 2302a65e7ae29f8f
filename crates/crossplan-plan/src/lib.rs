//! The pure half of `crossplan plan`: given the work each variant of a target
//! still needs (derivations to build, bytes to download) and what this host
//! can do (its systems, emulation factors, remote builders, history), estimate
//! each variant's wall time and choose one, with a one-line reason.
//!
//! No I/O here apart from `nix/strategy.json` ([`strategy`]) and
//! `nix/hybrid.json` ([`hybrid_file`]): host facts come
//! in as a [`HostView`] (built by `crossplan-host`), build history as a
//! [`History`] implementation. The cost model itself is documented in
//! `docs/cost-model.md`; every constant lives in [`model`].

pub mod decide;
pub mod error;
pub mod estimate;
pub mod format;
pub mod host;
pub mod hybrid;
pub mod hybrid_file;
pub mod model;
pub mod name;
pub mod strategy;
pub mod work;

pub use decide::{Decision, PlanOptions, decide};
pub use error::PlanError;
pub use estimate::{Route, VariantEstimate, estimate};
pub use host::{HostView, Machine};
pub use hybrid_file::{HybridEntry, HybridFile};
pub use model::{CostModel, History, HistoryTable};
pub use name::parse_drv_name;
pub use strategy::{StrategyEntry, StrategyFile};
pub use work::{BuildNode, VariantWork};
