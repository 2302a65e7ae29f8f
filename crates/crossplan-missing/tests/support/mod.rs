//! Helpers the integration tests of this crate share.

use crossplan_cache::{ClientConfig, Substituters, TrustedKeys, parse_substituters};
use crossplan_store::store::LocalStore;
use crossplan_testkit::fixture::{Fixture, Trust};

/// The fixture's caches, all signatures good, opened as crossplan opens
/// them (signatures required, no disk cache): the client, and the
/// `substituters` and `trusted-public-keys` lines Nix's dry run gets.
pub async fn open_good_caches(fx: &Fixture, store: &LocalStore) -> (Substituters, String, String) {
    let trust = Trust::GoodSigs;
    let dirs = fx.view(trust).expect("cache view");
    let subs = Fixture::file_substituters(&dirs);
    let keys = fx.trusted_keys(trust);
    let config = ClientConfig {
        store_dir: store.dir().clone(),
        trusted_keys: TrustedKeys::parse(&keys).expect("keys"),
        require_sigs: true,
        disk_cache: None,
        ..ClientConfig::default()
    };
    let substituters = Substituters::open(parse_substituters(&subs).expect("subs"), config)
        .await
        .expect("open caches");
    (substituters, subs, keys)
}
