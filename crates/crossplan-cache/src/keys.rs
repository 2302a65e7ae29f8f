//! `trusted-public-keys`.

use nix_derivation::StoreDir;
use nix_narinfo::{NarInfo, TrustedPublicKey};

use crate::error::CacheError;

/// The keys from the `trusted-public-keys` option, each kept with its original text
/// (`name:base64`), which the disk cache records as "verified by".
#[derive(Clone, Debug, Default)]
pub struct TrustedKeys {
    texts: Vec<String>,
    keys: Vec<TrustedPublicKey>,
}

impl TrustedKeys {
    /// Parse a space-separated list of `name:base64(32-byte Ed25519 key)`.
    pub fn parse(list: &str) -> Result<Self, CacheError> {
        let mut out = Self::default();
        for text in list.split_ascii_whitespace() {
            let key = TrustedPublicKey::parse(text).map_err(|error| CacheError::InvalidKey {
                key: text.to_owned(),
                reason: error.to_string(),
            })?;
            if !out.texts.iter().any(|seen| seen == text) {
                out.texts.push(text.to_owned());
                out.keys.push(key);
            }
        }
        Ok(out)
    }

    /// Whether no key is trusted.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The key texts, in the order given.
    #[must_use]
    pub fn texts(&self) -> &[String] {
        &self.texts
    }

    /// Whether this exact key text is trusted.
    #[must_use]
    pub fn contains_text(&self, text: &str) -> bool {
        self.texts.iter().any(|t| t == text)
    }

    /// The text of the first trusted key that has a valid signature on `info`, if any.
    #[must_use]
    pub fn verifying_key(&self, store_dir: &StoreDir, info: &NarInfo) -> Option<&str> {
        if info.signatures().is_empty() || self.keys.is_empty() {
            return None;
        }
        let fingerprint = info.fingerprint(store_dir);
        for signature in info.signatures() {
            for (text, key) in self.texts.iter().zip(&self.keys) {
                if key.name == signature.key_name
                    && signature
                        .verify(fingerprint.as_bytes(), std::slice::from_ref(key))
                        .unwrap_or(false)
                {
                    return Some(text);
                }
            }
        }
        None
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const NIXOS: &str = "cache.nixos.org-1:6NCHdD59X431o0gWypbMrAURkbJ16ZPMQFGspcDShjY=";

    #[test]
    fn parses_list_and_dedups() {
        let keys = TrustedKeys::parse(&format!(" {NIXOS}\n{NIXOS} ")).unwrap();
        assert_eq!(keys.texts(), [NIXOS]);
        assert!(keys.contains_text(NIXOS));
        assert!(TrustedKeys::parse("").unwrap().is_empty());
    }

    #[test]
    fn malformed_key_names_key_and_option() {
        for bad in ["nocolon", ":AAAA", "k:!!!", "k:AAAA"] {
            let error = TrustedKeys::parse(&format!("{NIXOS} {bad}")).unwrap_err();
            let message = error.to_string();
            assert!(message.contains(bad), "{message}");
            assert!(message.contains("trusted-public-keys"), "{message}");
            assert!(error.hint().is_some());
        }
    }
}
