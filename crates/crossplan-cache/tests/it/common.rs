use std::path::Path;
use std::time::Duration;

use base64::Engine as _;
use crossplan_cache::{
    ClientConfig, StoreDir, StorePath, SubstituterSpec, Substituters, TrustedKeys,
    parse_substituters,
};
use ed25519_dalek::{Signer as _, SigningKey};
use nix_derivation::nixbase32;
use nix_narinfo::NarInfo;

/// A deterministic Ed25519 key named `name`.
pub struct Key {
    pub name: String,
    signing: SigningKey,
}

impl Key {
    pub fn new(name: &str, seed: u8) -> Self {
        Self {
            name: name.to_owned(),
            signing: SigningKey::from_bytes(&[seed; 32]),
        }
    }

    /// `name:base64(public key)`.
    pub fn public(&self) -> String {
        format!(
            "{}:{}",
            self.name,
            base64::engine::general_purpose::STANDARD
                .encode(self.signing.verifying_key().as_bytes())
        )
    }

    fn sign(&self, fingerprint: &str) -> String {
        let signature = self.signing.sign(fingerprint.as_bytes());
        format!(
            "{}:{}",
            self.name,
            base64::engine::general_purpose::STANDARD.encode(signature.to_bytes())
        )
    }
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
    let refs: Vec<String> = references.iter().map(StorePath::to_basename).collect();
    let nar_hash = nixbase32::encode(&[7_u8; 32]);
    let mut text = format!(
        "StorePath: {}\nURL: nar/{}.nar.xz\nCompression: xz\nFileSize: 1000\nNarHash: sha256:{nar_hash}\nNarSize: 4000\nReferences: {}\n",
        store_dir.render_path(path),
        hash(path),
        refs.join(" ")
    );
    let info = NarInfo::parse_in(&store_dir, text.as_bytes()).unwrap();
    let fingerprint = info.fingerprint(&store_dir);
    for key in keys {
        text.push_str(&format!("Sig: {}\n", key.sign(&fingerprint)));
    }
    text
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
