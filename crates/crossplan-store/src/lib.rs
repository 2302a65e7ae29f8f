//! The local Nix store as crossplan sees it.
//!
//! - [`settings`]: Nix's own settings (`nix show-config --json`), the source of
//!   every default crossplan uses.
//! - [`closure_cache`]: parsed closures kept between runs, keyed by their roots.
//! - [`drv`]: `.drv` files read straight from the store and reduced to what the
//!   missing-set walk needs ([`drv::DrvInfo`]).
//! - [`dryrun`]: Nix's dry-run output, parsed.
//! - [`store`]: which paths are valid, asked of Nix in batches, so the answer is
//!   exact also with a multi-user daemon.
//! - [`request`]: command-line roots (`/nix/store/…drv^out`, `.#attr`) and their
//!   instantiation through the Nix CLI.

pub mod closure_cache;
pub mod drv;
pub mod dryrun;
pub mod error;
pub mod request;
pub mod settings;
pub mod store;

pub use error::StoreError;
pub use nix_derivation::{StoreDir, StorePath};

/// This process's resident set size in MiB (Linux; 0 elsewhere), for the
/// phase timings in the debug log.
#[must_use]
pub fn rss_mib() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |pages| pages * 4096 / (1024 * 1024))
}

/// A Nix string literal: `"…"` with `"`, `\\`, `$` and newlines escaped, so
/// no `${…}` in it is interpolated.
#[must_use]
pub fn nix_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '$' => out.push_str("\\$"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
