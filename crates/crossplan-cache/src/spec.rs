//! Substituter URLs: parsing the `substituters` list, store parameters, redaction.

use std::fmt;
use std::path::PathBuf;

use url::Url;

use crate::error::CacheError;

/// Where a substituter lives.
#[derive(Clone, PartialEq, Eq)]
pub(crate) enum Location {
    /// `http://` or `https://`: the base URL without userinfo, query or trailing slash.
    Http(String),
    /// `file://`: the cache directory.
    File(PathBuf),
}

/// One entry of the `substituters` list, e.g. `https://cache.nixos.org?priority=40`.
///
/// Credentials in the URL are kept for requests but never shown: `Display`, `Debug` and
/// [`SubstituterSpec::url`] give the redacted form.
#[derive(Clone)]
pub struct SubstituterSpec {
    pub(crate) location: Location,
    /// Redacted URL without store parameters (what users see and the disk-cache key).
    redacted: String,
    /// Basic-auth user and password taken from the URL's userinfo.
    pub(crate) userinfo: Option<(String, String)>,
    /// `?priority=N`: overrides the `Priority` of the cache's `nix-cache-info`.
    pub priority: Option<i64>,
    /// `?trusted=1|true`: accept this cache's narinfos without signatures.
    pub trusted: bool,
}

impl SubstituterSpec {
    /// Parse one substituter URL.
    pub fn parse(text: &str) -> Result<Self, CacheError> {
        let url = Url::parse(text).map_err(|error| CacheError::InvalidSubstituter {
            url: redact_text(text),
            reason: error.to_string(),
        })?;
        let mut priority = None;
        let mut trusted = false;
        for (key, value) in url.query_pairs() {
            match &*key {
                "priority" => {
                    let parsed = value.trim().parse::<i64>().map_err(|_| {
                        CacheError::InvalidSubstituter {
                            url: redact_url(&url),
                            reason: format!("priority '{value}' is not an integer"),
                        }
                    })?;
                    priority = Some(parsed);
                }
                "trusted" => trusted = matches!(&*value, "1" | "true"),
                // Other store parameters (compression, want-mass-query, …) do not change
                // what a lookup returns.
                _ => {}
            }
        }
        let userinfo = if url.username().is_empty() && url.password().is_none() {
            None
        } else {
            Some((
                percent_decode(url.username()),
                percent_decode(url.password().unwrap_or("")),
            ))
        };
        let location = match url.scheme() {
            "http" | "https" => {
                if url.host_str().is_none_or(str::is_empty) {
                    return Err(CacheError::InvalidSubstituter {
                        url: redact_url(&url),
                        reason: "the URL has no host".to_owned(),
                    });
                }
                let mut bare = url.clone();
                // Infallible for http(s) URLs with a host.
                let _ = bare.set_username("");
                let _ = bare.set_password(None);
                bare.set_query(None);
                bare.set_fragment(None);
                Location::Http(bare.as_str().trim_end_matches('/').to_owned())
            }
            "file" => {
                let path = url
                    .to_file_path()
                    .map_err(|()| CacheError::InvalidSubstituter {
                        url: redact_url(&url),
                        reason: "not a local directory".to_owned(),
                    })?;
                Location::File(path)
            }
            scheme => {
                return Err(CacheError::UnsupportedScheme {
                    url: redact_url(&url),
                    scheme: scheme.to_owned(),
                });
            }
        };
        Ok(Self {
            location,
            redacted: redact_url(&url),
            userinfo,
            priority,
            trusted,
        })
    }

    /// The redacted URL, without store parameters, e.g. `https://***@cache.example.org/x`.
    #[must_use]
    pub fn url(&self) -> &str {
        &self.redacted
    }
}

impl fmt::Display for SubstituterSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted)
    }
}

impl fmt::Debug for SubstituterSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SubstituterSpec")
            .field("url", &self.redacted)
            .field("priority", &self.priority)
            .field("trusted", &self.trusted)
            .finish_non_exhaustive()
    }
}

/// Parse a space-separated `substituters` list as in `nix.conf`. Duplicates (same URL
/// without parameters and credentials) are dropped, keeping the first.
pub fn parse_substituters(list: &str) -> Result<Vec<SubstituterSpec>, CacheError> {
    let mut specs: Vec<SubstituterSpec> = Vec::new();
    for item in list.split_ascii_whitespace() {
        let spec = SubstituterSpec::parse(item)?;
        if !specs.iter().any(|seen| seen.location == spec.location) {
            specs.push(spec);
        }
    }
    Ok(specs)
}

/// Redact a parsed URL: userinfo becomes `***`, the query and fragment are dropped, and a
/// trailing slash is removed.
pub(crate) fn redact_url(url: &Url) -> String {
    let mut shown = url.clone();
    let had_userinfo = !url.username().is_empty() || url.password().is_some();
    // Setting userinfo fails only for URLs that cannot have it; those have none to hide.
    let _ = shown.set_password(None);
    if had_userinfo {
        let _ = shown.set_username("***");
    }
    shown.set_query(None);
    shown.set_fragment(None);
    let text = shown.as_str();
    if text.ends_with(":///") {
        // `file:///` keeps its root.
        text.to_owned()
    } else {
        text.trim_end_matches('/').to_owned()
    }
}

/// Redact text that may be a URL, including text that does not parse: everything between
/// `://` and the last `@` of the authority is replaced by `***`; the query is dropped.
#[must_use]
pub fn redact_text(text: &str) -> String {
    if let Ok(url) = Url::parse(text) {
        return redact_url(&url);
    }
    let without_query = text.split(['?', '#']).next().unwrap_or(text);
    let Some((scheme, rest)) = without_query.split_once("://") else {
        return without_query.to_owned();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    match authority.rfind('@') {
        Some(at) => format!("{scheme}://***@{}{path}", &authority[at + 1..]),
        None => without_query.to_owned(),
    }
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let (Some(hi), Some(lo)) = (
                bytes.get(i + 1).and_then(|b| (*b as char).to_digit(16)),
                bytes.get(i + 2).and_then(|b| (*b as char).to_digit(16)),
            )
        {
            // Two hex digits give one byte: hi * 16 + lo < 256.
            out.push(u8::try_from(hi * 16 + lo).unwrap_or(b'?'));
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn parses_priority_and_trusted() {
        let specs = parse_substituters(
            "  https://cache.nixos.org?priority=40\thttp://h:8080/x/?trusted=1 file:///tmp/c?trusted=true ",
        )
        .unwrap();
        assert_eq!(specs.len(), 3);
        assert_eq!(specs[0].priority, Some(40));
        assert!(!specs[0].trusted);
        assert_eq!(specs[0].url(), "https://cache.nixos.org");
        assert_eq!(specs[1].url(), "http://h:8080/x");
        assert!(specs[1].trusted);
        assert!(matches!(&specs[1].location, Location::Http(u) if u == "http://h:8080/x"));
        assert!(specs[2].trusted);
        assert!(matches!(&specs[2].location, Location::File(p) if p == &PathBuf::from("/tmp/c")));
        assert!(
            !SubstituterSpec::parse("http://h?trusted=0")
                .unwrap()
                .trusted
        );
    }

    #[test]
    fn dedups_keeping_first() {
        let specs = parse_substituters(
            "https://a.org?priority=10 https://a.org/ https://b.org https://a.org?priority=3",
        )
        .unwrap();
        assert_eq!(specs.len(), 2);
        assert_eq!(specs[0].priority, Some(10));
        assert_eq!(specs[1].url(), "https://b.org");
    }

    #[test]
    fn rejects_other_schemes_and_bad_priority() {
        let error = parse_substituters("s3://bucket").unwrap_err();
        assert!(matches!(error, CacheError::UnsupportedScheme { .. }));
        assert!(error.to_string().contains("s3://bucket"));
        assert!(error.hint().unwrap().contains("file://"));
        let error = parse_substituters("https://user:pw@a.org?priority=x").unwrap_err();
        let message = error.to_string();
        assert!(message.contains("priority 'x'"), "{message}");
        assert!(!message.contains("pw"), "{message}");
        assert!(parse_substituters("daemon").is_err());
        assert!(parse_substituters("").unwrap().is_empty());
    }

    #[test]
    fn redacts_credentials() {
        let spec = SubstituterSpec::parse("https://alice:s3cret@cache.example.org/sub?priority=5")
            .unwrap();
        assert_eq!(spec.url(), "https://***@cache.example.org/sub");
        assert_eq!(format!("{spec}"), "https://***@cache.example.org/sub");
        assert!(!format!("{spec:?}").contains("s3cret"));
        assert!(!format!("{spec:?}").contains("alice"));
        assert_eq!(
            spec.userinfo,
            Some(("alice".to_owned(), "s3cret".to_owned()))
        );
        assert!(
            matches!(&spec.location, Location::Http(u) if u == "https://cache.example.org/sub")
        );
        let spec = SubstituterSpec::parse("https://tok%40en@h.org").unwrap();
        assert_eq!(spec.userinfo, Some(("tok@en".to_owned(), String::new())));
        assert_eq!(
            redact_text("https://a:b@c@host/x?token=1"),
            "https://***@host/x"
        );
        assert_eq!(redact_text("not a url ://u:p@h"), "not a url ://***@h");
        assert_eq!(redact_text("file:///"), "file:///");
    }

    proptest::proptest! {
        #[test]
        fn never_panics(text in "\\PC*") {
            let _ = parse_substituters(&text);
            let _ = redact_text(&text);
        }

        #[test]
        fn parses_generated_lists(
            hosts in proptest::collection::vec("[a-z]{1,8}(\\.[a-z]{2,4})?", 1..6),
            priorities in proptest::collection::vec(proptest::option::of(-100_i64..100), 6),
            user in "[a-z]{1,6}",
            password in "[a-zA-Z0-9]{8,12}",
        ) {
            let list: Vec<String> = hosts
                .iter()
                .zip(&priorities)
                .map(|(host, priority)| match priority {
                    Some(p) => format!("https://{user}:{password}@{host}/c?priority={p}"),
                    None => format!("http://{host}:8080/"),
                })
                .collect();
            let specs = parse_substituters(&list.join(" \t\n ")).unwrap();
            let mut expected_hosts: Vec<(&String, &Option<i64>)> = Vec::new();
            for (host, priority) in hosts.iter().zip(&priorities) {
                if !expected_hosts.iter().any(|(h, p)| *h == host && p.is_some() == priority.is_some()) {
                    expected_hosts.push((host, priority));
                }
            }
            proptest::prop_assert_eq!(specs.len(), expected_hosts.len());
            for (spec, (host, priority)) in specs.iter().zip(expected_hosts) {
                proptest::prop_assert_eq!(spec.priority, *priority);
                proptest::prop_assert!(spec.url().contains(host.as_str()));
                proptest::prop_assert!(!spec.url().contains(&password));
                let debug = format!("{spec:?}");
                proptest::prop_assert!(!debug.contains(&password));
            }
        }
    }
}
