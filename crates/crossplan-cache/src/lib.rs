//! crossplan-cache: an async client for Nix binary caches.
//!
//! It answers, for a store path, what Nix's `querySubstitutablePathInfos` would: the first
//! substituter in priority order that has an acceptable `.narinfo`. Unlike `queryMissing`,
//! it also checks signatures the way substitution later will (`require-sigs`,
//! `trusted-public-keys`, `?trusted=1`, content-addressed paths), so a path promised as
//! "will be fetched" is not rejected later (NixOS/nix#8254).
//!
//! ```no_run
//! # async fn demo() -> Result<(), crossplan_cache::CacheError> {
//! use crossplan_cache::{ClientConfig, Substituters, TrustedKeys, parse_substituters};
//! let specs = parse_substituters("https://cache.nixos.org")?;
//! let config = ClientConfig {
//!     trusted_keys: TrustedKeys::parse("cache.nixos.org-1:6NCHdD59X431o0gWypbMrAURkbJ16ZPMQFGspcDShjY=")?,
//!     ..ClientConfig::default()
//! };
//! let caches = Substituters::open(specs, config).await?;
//! let path = "/nix/store/syd87l2rxw8cbsxmxl853h0r6pdwhwjr-curl-7.82.0-bin".parse().unwrap();
//! let lookup = caches.lookup(&path).await;
//! println!("{:?}", lookup.hit.map(|hit| hit.nar_size));
//! caches.flush().await?;
//! # Ok(()) }
//! ```

mod cache_info;
mod client;
mod disk;
mod error;
mod fdlimit;
mod h1;
mod keys;
mod netrc;
mod retry;
mod spec;
mod window;

pub use cache_info::{CacheInfoFile, DEFAULT_PRIORITY, parse_cache_info};
pub use client::{
    CacheInfo, ClientConfig, DEFAULT_JOBS, DEFAULT_MAX_ATTEMPTS, DEFAULT_STREAMS_PER_CONNECTION,
    DEFAULT_TIMEOUT, Hit, Lookup, LookupError, MAX_BODY_SIZE, Rejection, Stats, Substituters,
    hash_part,
};
pub use disk::{DEFAULT_NEGATIVE_TTL, DEFAULT_POSITIVE_TTL, DiskCacheConfig, META_TTL};
pub use error::CacheError;
pub use keys::TrustedKeys;
pub use netrc::{Credentials, Netrc};
pub use nix_derivation::{StoreDir, StorePath};
pub use retry::{StatusClass, backoff, classify_status, parse_retry_after};
pub use spec::{SubstituterSpec, parse_substituters, redact_text};
