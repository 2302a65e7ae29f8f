//! Binary-cache directories: `nix-cache-info` plus narinfo records, signed
//! with Ed25519 keys in Nix's format, some of them deliberately badly.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::Signer as _;

use crate::nix32;
use crate::rng::Rng;

/// An Ed25519 signing key with Nix's key name.
#[derive(Debug, Clone)]
pub struct Key {
    pub name: String,
    key: ed25519_dalek::SigningKey,
}

impl Key {
    /// A key from 32 seed bytes drawn from `rng`.
    pub fn generate(name: &str, rng: &mut Rng) -> Key {
        Key {
            name: name.to_owned(),
            key: ed25519_dalek::SigningKey::from_bytes(&rng.bytes::<32>()),
        }
    }

    /// `name:base64(32-byte public key)`, as in `trusted-public-keys`.
    pub fn public(&self) -> String {
        format!(
            "{}:{}",
            self.name,
            B64.encode(self.key.verifying_key().as_bytes())
        )
    }

    /// `name:base64(seed ‖ public)` (64 bytes), as `nix-store
    /// --generate-binary-cache-key` writes and `secret-key-files` reads.
    pub fn secret(&self) -> String {
        format!("{}:{}", self.name, B64.encode(self.key.to_keypair_bytes()))
    }

    /// `name:base64(signature)` over `fingerprint`.
    pub fn sign(&self, fingerprint: &str) -> String {
        let sig = self.key.sign(fingerprint.as_bytes());
        format!("{}:{}", self.name, B64.encode(sig.to_bytes()))
    }
}

/// A narinfo record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NarInfo {
    pub store_path: String,
    pub url: String,
    pub compression: String,
    pub file_hash: Option<String>,
    pub file_size: Option<u64>,
    pub nar_hash: String,
    pub nar_size: u64,
    /// Full store paths.
    pub references: Vec<String>,
    /// Basename of the `.drv`.
    pub deriver: Option<String>,
    pub sigs: Vec<String>,
}

/// `/nix/store/<hash>-<name>` → `<hash>`.
pub fn hash_part(path: &str) -> &str {
    let base = path.rsplit('/').next().unwrap_or(path);
    base.split('-').next().unwrap_or(base)
}

/// `/nix/store/<base>` → `<base>`.
pub fn base_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

impl NarInfo {
    /// `1;<path>;<narHash>;<narSize>;<refs,sorted,comma-joined>`.
    pub fn fingerprint(&self) -> String {
        let mut refs = self.references.clone();
        refs.sort();
        refs.dedup();
        format!(
            "1;{};{};{};{}",
            self.store_path,
            self.nar_hash,
            self.nar_size,
            refs.join(",")
        )
    }

    pub fn render(&self) -> String {
        let mut s = format!(
            "StorePath: {}\nURL: {}\nCompression: {}\n",
            self.store_path, self.url, self.compression
        );
        if let Some(h) = &self.file_hash {
            s.push_str(&format!("FileHash: {h}\n"));
        }
        if let Some(n) = self.file_size {
            s.push_str(&format!("FileSize: {n}\n"));
        }
        let refs: Vec<&str> = self.references.iter().map(|r| base_name(r)).collect();
        s.push_str(&format!(
            "NarHash: {}\nNarSize: {}\nReferences: {}\n",
            self.nar_hash,
            self.nar_size,
            refs.join(" ")
        ));
        if let Some(d) = &self.deriver {
            s.push_str(&format!("Deriver: {d}\n"));
        }
        for sig in &self.sigs {
            s.push_str(&format!("Sig: {sig}\n"));
        }
        s
    }

    /// Parse the fields the fixtures need from a narinfo Nix wrote.
    pub fn parse(text: &str) -> io::Result<NarInfo> {
        let mut ni = NarInfo {
            store_path: String::new(),
            url: String::new(),
            compression: "bzip2".into(),
            file_hash: None,
            file_size: None,
            nar_hash: String::new(),
            nar_size: 0,
            references: Vec::new(),
            deriver: None,
            sigs: Vec::new(),
        };
        for line in text.lines() {
            let Some((k, v)) = line.split_once(": ").or_else(|| line.split_once(':')) else {
                continue;
            };
            let v = v.trim();
            let num = |v: &str| v.parse::<u64>().map_err(io::Error::other);
            match k {
                "StorePath" => ni.store_path = v.into(),
                "URL" => ni.url = v.into(),
                "Compression" => ni.compression = v.into(),
                "FileHash" => ni.file_hash = Some(v.into()),
                "FileSize" => ni.file_size = Some(num(v)?),
                "NarHash" => ni.nar_hash = v.into(),
                "NarSize" => ni.nar_size = num(v)?,
                "References" => {
                    ni.references = v
                        .split_whitespace()
                        .map(|r| format!("/nix/store/{r}"))
                        .collect()
                }
                "Deriver" => ni.deriver = Some(v.into()),
                "Sig" => ni.sigs.push(v.into()),
                _ => {}
            }
        }
        if ni.store_path.is_empty() {
            return Err(io::Error::other("narinfo without StorePath"));
        }
        Ok(ni)
    }

    /// A generated record with random hashes and the given sizes.
    pub fn generated(
        store_path: &str,
        nar_size: u64,
        file_size: u64,
        references: Vec<String>,
        deriver: Option<String>,
        rng: &mut Rng,
    ) -> NarInfo {
        let file_hash = nix32::encode(&rng.bytes::<32>());
        let compression = if file_size == nar_size { "none" } else { "xz" };
        let ext = if compression == "none" { "" } else { ".xz" };
        NarInfo {
            store_path: store_path.into(),
            url: format!("nar/{file_hash}.nar{ext}"),
            compression: compression.into(),
            file_hash: Some(format!("sha256:{file_hash}")),
            file_size: Some(file_size),
            nar_hash: nix32::sha256_string(&rng.bytes::<32>()),
            nar_size,
            references,
            deriver,
            sigs: Vec::new(),
        }
    }
}

/// How a record's signature is broken, if it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SigState {
    /// Signed by the cache's trusted key.
    Good,
    /// Signed by a key that is not trusted (a different name).
    UntrustedKey,
    /// Carries the trusted key's name, but the signature is from another key.
    WrongKeySameName,
    /// Correctly signed, then a field changed (the fingerprint no longer matches).
    Tampered,
    /// No `Sig:` line at all.
    Unsigned,
}

impl SigState {
    pub fn is_good(self) -> bool {
        self == SigState::Good
    }
}

/// One record in a cache.
#[derive(Debug, Clone)]
pub struct Record {
    pub info: NarInfo,
    pub sig: SigState,
    /// Text to write (a Nix-made record keeps Nix's exact text).
    pub text: String,
}

/// A binary cache being assembled.
#[derive(Debug, Clone)]
pub struct Cache {
    pub dir: PathBuf,
    pub priority: u32,
    pub store_dir: String,
    /// By store path.
    pub records: BTreeMap<String, Record>,
}

impl Cache {
    pub fn new(dir: PathBuf, priority: u32) -> Cache {
        Cache {
            dir,
            priority,
            store_dir: "/nix/store".into(),
            records: BTreeMap::new(),
        }
    }

    /// Sign `info` (according to `sig`) and add it.
    pub fn add_signed(
        &mut self,
        mut info: NarInfo,
        sig: SigState,
        key: &Key,
        untrusted: &Key,
        impostor: &Key,
    ) {
        info.sigs.clear();
        match sig {
            SigState::Good => info.sigs.push(key.sign(&info.fingerprint())),
            SigState::UntrustedKey => info.sigs.push(untrusted.sign(&info.fingerprint())),
            SigState::WrongKeySameName => {
                let forged = impostor.sign(&info.fingerprint());
                let b64 = forged.split_once(':').map(|(_, b)| b).unwrap_or("");
                info.sigs.push(format!("{}:{b64}", key.name));
            }
            SigState::Tampered => {
                info.sigs.push(key.sign(&info.fingerprint()));
                info.nar_size += 1;
            }
            SigState::Unsigned => {}
        }
        let text = info.render();
        self.records
            .insert(info.store_path.clone(), Record { info, sig, text });
    }

    /// Add a record Nix wrote, verbatim.
    pub fn add_raw(&mut self, text: String, sig: SigState) -> io::Result<()> {
        let info = NarInfo::parse(&text)?;
        self.records
            .insert(info.store_path.clone(), Record { info, sig, text });
        Ok(())
    }

    pub fn cache_info(&self) -> String {
        format!(
            "StoreDir: {}\nWantMassQuery: 1\nPriority: {}\n",
            self.store_dir, self.priority
        )
    }

    /// Write `nix-cache-info` and every record into `self.dir`.
    pub fn write(&self) -> io::Result<()> {
        self.write_filtered(&self.dir, |_| true)
    }

    /// Write the cache into `dir`, keeping only records for which `keep` holds
    /// (the oracle's view: no badly signed records).
    pub fn write_filtered(&self, dir: &Path, keep: impl Fn(&Record) -> bool) -> io::Result<()> {
        std::fs::create_dir_all(dir)?;
        std::fs::write(dir.join("nix-cache-info"), self.cache_info())?;
        for (path, rec) in &self.records {
            if keep(rec) {
                std::fs::write(dir.join(format!("{}.narinfo", hash_part(path))), &rec.text)?;
            }
        }
        Ok(())
    }

    /// The good record for `path`, if there is one.
    pub fn good(&self, path: &str) -> Option<&Record> {
        self.records.get(path).filter(|r| r.sig.is_good())
    }
}

/// A store path that no cache and no store holds.
pub fn phantom_path(rng: &mut Rng, name: &str) -> String {
    format!(
        "/nix/store/{}-{name}",
        nix32::store_hash(&rng.bytes::<20>())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_sorts_refs_and_sig_verifies() {
        let mut rng = Rng::new(1);
        let key = Key::generate("k-1", &mut rng);
        let ni = NarInfo::generated(
            "/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-x",
            100,
            50,
            vec![
                "/nix/store/cccccccccccccccccccccccccccccccc-z".into(),
                "/nix/store/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-y".into(),
            ],
            None,
            &mut rng,
        );
        let fp = ni.fingerprint();
        assert!(fp.starts_with("1;/nix/store/aaaa"));
        assert!(fp.ends_with(";100;/nix/store/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-y,/nix/store/cccccccccccccccccccccccccccccccc-z"));
        let sig = key.sign(&fp);
        let (name, b64) = sig.split_once(':').expect("sig");
        assert_eq!(name, "k-1");
        let bytes: [u8; 64] = B64.decode(b64).expect("b64").try_into().expect("64");
        let pk = key.public();
        let pk_bytes: [u8; 32] = B64
            .decode(pk.split_once(':').expect("pk").1)
            .expect("b64")
            .try_into()
            .expect("32");
        let vk = ed25519_dalek::VerifyingKey::from_bytes(&pk_bytes).expect("vk");
        vk.verify_strict(fp.as_bytes(), &ed25519_dalek::Signature::from_bytes(&bytes))
            .expect("verifies");
        let parsed = NarInfo::parse(&ni.render()).expect("parse");
        assert_eq!(parsed.fingerprint(), fp);
    }
}
