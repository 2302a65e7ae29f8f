//! `nix-cache-info`: `Key: value` lines describing a binary cache.

/// `Priority` of a cache whose `nix-cache-info` does not set one (Nix's default).
pub const DEFAULT_PRIORITY: i64 = 50;

/// The fields of a `nix-cache-info` file that matter for lookups.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CacheInfoFile {
    /// `StoreDir`, if given.
    pub store_dir: Option<String>,
    /// `WantMassQuery: 1`.
    pub want_mass_query: bool,
    /// `Priority`, if given.
    pub priority: Option<i64>,
}

/// Parse a `nix-cache-info` file like Nix's `BinaryCacheStore::init`: lines without a colon
/// and unknown keys are ignored, values are trimmed. A `Priority` that is not an integer is
/// an error (Nix fails on it too).
pub fn parse_cache_info(text: &str) -> Result<CacheInfoFile, String> {
    let mut info = CacheInfoFile::default();
    for line in text.lines() {
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        match key.trim() {
            "StoreDir" => info.store_dir = Some(value.to_owned()),
            "WantMassQuery" => info.want_mass_query = value == "1",
            "Priority" => {
                info.priority = Some(
                    value
                        .parse::<i64>()
                        .map_err(|_| format!("Priority '{value}' is not an integer"))?,
                );
            }
            _ => {}
        }
    }
    Ok(info)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_cache_nixos_org() {
        let info =
            parse_cache_info("StoreDir: /nix/store\nWantMassQuery: 1\nPriority: 40\n").unwrap();
        assert_eq!(info.store_dir.as_deref(), Some("/nix/store"));
        assert!(info.want_mass_query);
        assert_eq!(info.priority, Some(40));
    }

    #[test]
    fn ignores_junk_and_unknown_keys() {
        let info = parse_cache_info(
            "garbage line\r\n  StoreDir :  /x/store  \r\nFoo: bar\nWantMassQuery: 0\n\n",
        )
        .unwrap();
        assert_eq!(info.store_dir.as_deref(), Some("/x/store"));
        assert!(!info.want_mass_query);
        assert_eq!(info.priority, None);
        assert_eq!(parse_cache_info("").unwrap(), CacheInfoFile::default());
        assert!(parse_cache_info("Priority: high").is_err());
        assert_eq!(parse_cache_info("Priority: -3").unwrap().priority, Some(-3));
    }

    proptest! {
        #[test]
        fn never_panics(text in "\\PC*") {
            let _ = parse_cache_info(&text);
        }

        #[test]
        fn round_trips_fields(dir in "/[a-z/]{1,20}", prio in any::<i64>(), mass in any::<bool>(), junk in "[a-zA-Z ]{0,20}") {
            let text = format!("{junk}\nStoreDir: {dir}\nPriority: {prio}\nWantMassQuery: {}\nX-Other: {junk}\n", u8::from(mass));
            let info = parse_cache_info(&text).unwrap();
            prop_assert_eq!(info.store_dir.as_deref(), Some(dir.as_str()));
            prop_assert_eq!(info.priority, Some(prio));
            prop_assert_eq!(info.want_mass_query, mass);
        }
    }
}
