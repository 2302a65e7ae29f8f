use crossplan_cache::{StoreDir, TrustedKeys};
use crossplan_testkit::server::{CacheServer, FaultConfig};
use nix_narinfo::NarInfo;

use crate::common::{config, open};

const NIXOS_KEY: &str = "cache.nixos.org-1:6NCHdD59X431o0gWypbMrAURkbJ16ZPMQFGspcDShjY=";
const RECORD: &str = include_str!("../fixtures/syd87l2rxw8cbsxmxl853h0r6pdwhwjr.narinfo");
const PATH: &str = "/nix/store/syd87l2rxw8cbsxmxl853h0r6pdwhwjr-curl-7.82.0-bin";

fn keys() -> TrustedKeys {
    TrustedKeys::parse(NIXOS_KEY).unwrap()
}

#[test]
fn real_record_verifies_under_cache_nixos_org_key() {
    let store_dir = StoreDir::default();
    let info = NarInfo::parse_in(&store_dir, RECORD.as_bytes()).unwrap();
    assert_eq!(
        info.fingerprint(&store_dir),
        "1;/nix/store/syd87l2rxw8cbsxmxl853h0r6pdwhwjr-curl-7.82.0-bin;\
         sha256:1b4sb93wp679q4zx9k1ignby1yna3z7c4c2ri3wphylbc2dwsys0;196040;\
         /nix/store/0jqd0rlxzra1rs38rdxl43yh6rxchgc6-curl-7.82.0,\
         /nix/store/6w8g7njm4mck5dmjxws0z1xnrxvl81xa-glibc-2.34-115,\
         /nix/store/j5jxw3iy7bbz4a57fh9g2xm2gxmyal8h-zlib-1.2.12,\
         /nix/store/yxvjs9drzsphm9pcf42a4byzj1kb9m7k-openssl-1.1.1n"
    );
    assert_eq!(keys().verifying_key(&store_dir, &info), Some(NIXOS_KEY));
}

#[test]
fn one_changed_byte_breaks_the_signature() {
    let store_dir = StoreDir::default();
    // NarSize, a reference, and a byte of the signature itself.
    for (from, to) in [
        ("NarSize: 196040", "NarSize: 196041"),
        ("glibc-2.34-115", "glibc-2.34-116"),
        (
            "Sig: cache.nixos.org-1:TsTTb3",
            "Sig: cache.nixos.org-1:TsTTb4",
        ),
    ] {
        let changed = RECORD.replacen(from, to, 1);
        assert_ne!(changed, RECORD);
        let info = NarInfo::parse_in(&store_dir, changed.as_bytes()).unwrap();
        assert_eq!(
            keys().verifying_key(&store_dir, &info),
            None,
            "{from} -> {to}"
        );
    }
    // The same key under another name does not count.
    let renamed =
        TrustedKeys::parse("cache.nixos.org-2:6NCHdD59X431o0gWypbMrAURkbJ16ZPMQFGspcDShjY=")
            .unwrap();
    let info = NarInfo::parse_in(&store_dir, RECORD.as_bytes()).unwrap();
    assert_eq!(renamed.verifying_key(&store_dir, &info), None);
}

#[tokio::test]
async fn real_record_over_http() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("nix-cache-info"),
        "StoreDir: /nix/store\nWantMassQuery: 1\nPriority: 40\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("syd87l2rxw8cbsxmxl853h0r6pdwhwjr.narinfo"),
        RECORD,
    )
    .unwrap();
    let server = CacheServer::start(dir.path().to_owned(), FaultConfig::default()).unwrap();
    let mut config = config(&[]);
    config.trusted_keys = keys();
    let caches = open(&server.url(), config).await;
    let lookup = caches.lookup(&PATH.parse().unwrap()).await;
    let hit = lookup.hit.expect("hit");
    assert_eq!(hit.nar_size, 196_040);
    assert_eq!(hit.file_size, 68_852);
    assert_eq!(hit.references.len(), 4);
    assert_eq!(
        hit.deriver.unwrap().to_basename(),
        "5rwxzi7pal3qhpsyfc16gzkh939q1np6-curl-7.82.0.drv"
    );
    assert!(!hit.content_addressed);
    assert!(lookup.errors.is_empty() && lookup.rejected.is_empty());
}
