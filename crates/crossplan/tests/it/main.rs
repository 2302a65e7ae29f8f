//! The `crossplan` integration tests, one binary (`cargo test --test it`).
//!
//! Tests whose names contain `oracle` need a real Nix (store, `nix-store`,
//! `nix-instantiate`); the flake's sandboxed check leaves them out.

mod build;
mod calibrate;
mod cancel;
mod cli_errors;
mod completions;
mod doctor;
mod faults;
mod hybrid;
mod issue9;
mod oracle;
mod plan;
mod progress;
mod support;
