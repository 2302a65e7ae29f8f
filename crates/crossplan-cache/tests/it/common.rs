//! Helpers of the cache client's tests. Keys, narinfo records and their
//! signatures come from `crossplan-testkit` (the same code the oracle
//! fixtures use against Nix), base-32 from `nix-derivation`.

use std::path::Path;
use std::time::Duration;

use crossplan_cache::{
    ClientConfig, StoreDir, StorePath, SubstituterSpec, Substituters, TrustedKeys,
    parse_substituters,
};
pub use crossplan_testkit::cache::Key;
use crossplan_testkit::cache::NarInfo;
use crossplan_testkit::rng::Rng;
use nix_derivation::nixbase32;

/// A deterministic key named `name` (the same `seed` gives the same key).
pub fn key(name: &str, seed: u64) -> Key {
    Key::generate(name, &mut Rng::new(seed))
}

/// Store path number `i` (distinct digests, name `pkg-<i>`).
pub fn path(i: u32) -> StorePath {
    let mut digest = [0_u8; 20];
    digest[..4].copy_from_slice(&i.to_le_bytes());
    digest[19] = 0xAB;
    StorePath::from_parts(digest, &format!("pkg-{i}")).unwrap()
}

pub fn hash(path: &StorePath) -> String {
    nixbase32::encode(path.digest())
}

/// A narinfo for `path` with `references`, signed by `keys`.
pub fn narinfo(path: &StorePath, references: &[StorePath], keys: &[&Key]) -> String {
    let store_dir = StoreDir::default();
    let mut info = NarInfo {
        store_path: store_dir.render_path(path),
        url: format!("nar/{}.nar.xz", hash(path)),
        compression: "xz".into(),
        file_hash: None,
        file_size: Some(1000),
        nar_hash: format!("sha256:{}", nixbase32::encode(&[7_u8; 32])),
        nar_size: 4000,
        references: references
            .iter()
            .map(|r| store_dir.render_path(r))
            .collect(),
        deriver: None,
        sigs: Vec::new(),
    };
    let fingerprint = info.fingerprint();
    info.sigs = keys.iter().map(|k| k.sign(&fingerprint)).collect();
    info.render()
}

/// Write a cache directory: `nix-cache-info` (if `info` is Some) and the given narinfos.
pub fn write_cache(dir: &Path, info: Option<&str>, entries: &[(StorePath, String)]) {
    std::fs::create_dir_all(dir).unwrap();
    if let Some(info) = info {
        std::fs::write(dir.join("nix-cache-info"), info).unwrap();
    }
    for (path, text) in entries {
        std::fs::write(dir.join(format!("{}.narinfo", hash(path))), text).unwrap();
    }
}

/// A chain graph of `n` signed paths: path i references path i+1.
pub fn signed_entries(n: u32, key: &Key) -> Vec<(StorePath, String)> {
    (0..n)
        .map(|i| {
            let refs = if i + 1 < n { vec![path(i + 1)] } else { vec![] };
            (path(i), narinfo(&path(i), &refs, &[key]))
        })
        .collect()
}

pub const CACHE_INFO: &str = "StoreDir: /nix/store\nWantMassQuery: 1\nPriority: 40\n";

/// A config trusting `keys`, with fast retries for tests.
pub fn config(keys: &[&Key]) -> ClientConfig {
    let list: Vec<String> = keys.iter().map(|k| k.public()).collect();
    ClientConfig {
        trusted_keys: TrustedKeys::parse(&list.join(" ")).unwrap(),
        timeout: Duration::from_secs(5),
        ..ClientConfig::default()
    }
}

pub fn specs(list: &str) -> Vec<SubstituterSpec> {
    parse_substituters(list).unwrap()
}

pub async fn open(list: &str, config: ClientConfig) -> Substituters {
    Substituters::open(specs(list), config).await.unwrap()
}
