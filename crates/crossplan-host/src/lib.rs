//! What this host can build, and how fast: Nix's settings (read by
//! `crossplan_store::settings`, the workspace's one reading of them), remote
//! builders (`builders` / `/etc/nix/machines`), binfmt_misc registrations,
//! QEMU user-mode binaries, the emulation factors `crossplan calibrate`
//! measures, and the build history `crossplan build` records.
//!
//! [`view`] turns all of it into the [`crossplan_plan::HostView`] the cost
//! model takes.

pub mod binfmt;
pub mod calibrate;
pub mod config;
pub mod error;
pub mod history;
pub mod machines;
pub mod paths;
pub mod qemu;
pub mod view;

pub use error::HostError;
