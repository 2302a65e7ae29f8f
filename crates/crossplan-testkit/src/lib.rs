//! crossplan-testkit: test support for crossplan — a fault-injecting binary-cache
//! server, and oracle fixtures (random derivation graphs, Nix drivers, signed caches).

pub mod cache;
pub mod fixture;
pub mod graph;
pub mod hybrid;
pub mod nix;
pub mod nix32;
pub mod rng;
pub mod server;
pub mod skip;
