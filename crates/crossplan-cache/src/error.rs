//! Errors of the binary-cache client. Every URL in a message is redacted.

use std::path::PathBuf;

/// `text`, then each cause of `error` below it that `text` does not already say, each
/// after `: ` ("error sending request: connection reset by peer").
pub(crate) fn with_causes(mut text: String, error: &(dyn std::error::Error + 'static)) -> String {
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// The proxy variables set in the environment that requests to `url` go through
/// (`reqwest` reads them, as curl does for Nix), as a clause of a hint; empty if none.
fn proxies_named(url: &str) -> String {
    let names: &[&str] = if url.starts_with("https://") {
        &["https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"]
    } else if url.starts_with("http://") {
        &["http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"]
    } else {
        &[]
    };
    let set: Vec<&str> = names
        .iter()
        .copied()
        .filter(|name| std::env::var_os(name).is_some_and(|value| !value.is_empty()))
        .collect();
    if set.is_empty() {
        String::new()
    } else {
        format!(", and the proxy in {}: is it up?", set.join(", "))
    }
}

/// What can go wrong when configuring or opening substituters.
///
/// Messages are lower case and name the URL, file or option involved; [`CacheError::hint`]
/// tells how to fix it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CacheError {
    /// A substituter URL could not be parsed.
    #[error("invalid substituter '{url}' in 'substituters': {reason}")]
    InvalidSubstituter {
        /// The offending entry (redacted).
        url: String,
        /// Why it is invalid.
        reason: String,
    },
    /// A substituter uses a scheme this client does not speak.
    #[error("unsupported substituter '{url}': scheme '{scheme}' is not supported")]
    UnsupportedScheme {
        /// The offending entry (redacted).
        url: String,
        /// Its scheme.
        scheme: String,
    },
    /// A trusted public key could not be parsed.
    #[error("invalid key '{key}' in 'trusted-public-keys': {reason}")]
    InvalidKey {
        /// The key text as given.
        key: String,
        /// Why it is invalid.
        reason: String,
    },
    /// A cache's `nix-cache-info` names another store directory.
    #[error(
        "binary cache '{url}' is for store directory '{cache_store_dir}', but this store is '{our_store_dir}'"
    )]
    StoreDirMismatch {
        /// The cache (redacted).
        url: String,
        /// `StoreDir` from its `nix-cache-info`.
        cache_store_dir: String,
        /// Our store directory.
        our_store_dir: String,
    },
    /// A cache's `nix-cache-info` could not be parsed.
    #[error("invalid nix-cache-info of '{url}': {reason}")]
    InvalidCacheInfo {
        /// The cache (redacted).
        url: String,
        /// What is wrong.
        reason: String,
    },
    /// An HTTP cache answered 404 or 403 for its `nix-cache-info`: Nix then says it
    /// "does not appear to be a binary cache" and leaves it out.
    #[error("'{url}' does not appear to be a binary cache: it has no nix-cache-info")]
    NotABinaryCache {
        /// The cache (redacted).
        url: String,
    },
    /// A cache could not be reached, even after retries.
    #[error("cannot reach binary cache '{url}': {reason}")]
    Unreachable {
        /// The cache (redacted).
        url: String,
        /// The last failure.
        reason: String,
    },
    /// The netrc file exists but could not be read.
    #[error("cannot read netrc file '{}' (option 'netrc-file'): {reason}", path.display())]
    Netrc {
        /// The netrc file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The HTTP client could not be built.
    #[error("cannot set up the HTTP client: {0}")]
    Client(String),
    /// The disk cache could not be written.
    #[error("cannot write the narinfo disk cache '{}': {reason}", path.display())]
    DiskCache {
        /// The SQLite file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
}

impl CacheError {
    /// For a cache that Nix would warn about and leave out (unreachable, or not a
    /// binary cache): its URL and what is wrong, worded to follow "binary cache 'URL'".
    #[must_use]
    pub fn unusable_cache(&self) -> Option<(&str, String)> {
        match self {
            Self::Unreachable { url, reason } => Some((url, format!("is unreachable ({reason})"))),
            Self::NotABinaryCache { url } => Some((
                url,
                "does not appear to be a binary cache (it has no nix-cache-info)".to_owned(),
            )),
            _ => None,
        }
    }

    /// A suggestion for the user on how to fix this error, if there is one.
    #[must_use]
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::InvalidSubstituter { .. } => Some(
                "substituters are space-separated URLs such as 'https://cache.nixos.org?priority=40'"
                    .to_owned(),
            ),
            Self::UnsupportedScheme { .. } => Some(
                "crossplan reads http://, https:// and file:// binary caches; remove this entry from 'substituters'"
                    .to_owned(),
            ),
            Self::InvalidKey { .. } => Some(
                "a key is 'name:base64' of 32 bytes, e.g. 'cache.nixos.org-1:6NCHdD59X431o0gWypbMrAURkbJ16ZPMQFGspcDShjY='; \
                 'nix-store --generate-binary-cache-key' prints one"
                    .to_owned(),
            ),
            Self::StoreDirMismatch { url, .. } => Some(format!(
                "remove '{url}' from 'substituters', or run with the store directory that cache was built for"
            )),
            Self::InvalidCacheInfo { url, .. } => Some(format!(
                "fix the cache's nix-cache-info, or remove '{url}' from 'substituters'"
            )),
            Self::NotABinaryCache { url } => Some(format!(
                "check the URL's host, port and path (a typo gives 404), or the netrc credentials of a private cache; or drop '{url}' from 'substituters'"
            )),
            Self::Unreachable { url, .. } => Some(format!(
                "check the URL and your network (or netrc credentials{}), or drop '{url}' from 'substituters'",
                proxies_named(url)
            )),
            Self::Netrc { .. } => {
                Some("make the file readable, or point 'netrc-file' elsewhere".to_owned())
            }
            Self::Client(_) => None,
            Self::DiskCache { path, .. } => Some(format!(
                "delete '{}' to start a fresh cache, or run without the disk cache",
                path.display()
            )),
        }
    }
}
