//! The local Nix store as crossplan sees it.
//!
//! - [`settings`]: Nix's own settings (`nix show-config --json`), the source of
//!   every default crossplan uses.
//! - [`drv`]: `.drv` files read straight from the store and reduced to what the
//!   missing-set walk needs ([`drv::DrvInfo`]).
//! - [`store`]: which paths are valid, asked of Nix in batches, so the answer is
//!   exact also with a multi-user daemon.
//! - [`request`]: command-line roots (`/nix/store/…drv^out`, `.#attr`) and their
//!   instantiation through the Nix CLI.

pub mod drv;
pub mod error;
pub mod request;
pub mod settings;
pub mod store;

pub use error::StoreError;
pub use nix_derivation::{StoreDir, StorePath};
