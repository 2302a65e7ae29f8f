use std::time::Duration;

use crossplan_cache::{Lookup, Substituters};
use crossplan_testkit::server::{CacheServer, FaultConfig};

use crate::common::*;

/// What a lookup says, for comparing runs.
fn summary(lookup: &Lookup) -> Option<(usize, Vec<String>, u64)> {
    lookup.hit.as_ref().map(|hit| {
        (
            hit.cache_index,
            hit.references.iter().map(|r| r.to_basename()).collect(),
            hit.nar_size,
        )
    })
}

async fn lookup_all(caches: &Substituters, n: u32) -> Vec<Lookup> {
    futures::future::join_all((0..n).map(|i| {
        let caches = caches.clone();
        async move { caches.lookup(&path(i)).await }
    }))
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_transient_faults_give_the_fault_free_answer() {
    let tmp = tempfile::tempdir().unwrap();
    let key = key("test-1", 1);
    // 300 paths asked, 200 present.
    write_cache(tmp.path(), Some(CACHE_INFO), &signed_entries(200, &key));
    let clean = CacheServer::start(tmp.path().to_owned(), FaultConfig::default()).unwrap();
    let expected: Vec<_> = lookup_all(&open(&clean.url(), config(&[&key])).await, 300)
        .await
        .iter()
        .map(summary)
        .collect();
    assert_eq!(expected.iter().filter(|s| s.is_some()).count(), 200);

    // The same faults over HTTP/2 (h2c): a reset or cut-short answer resets its stream,
    // not the connection the other requests share.
    for (seed, http2) in [(1, false), (2, false), (3, true), (4, true)] {
        let faulty = CacheServer::start(
            tmp.path().to_owned(),
            FaultConfig {
                latency: Duration::from_millis(2),
                error_rate: 0.05,
                reset_rate: 0.05,
                truncate_rate: 0.05,
                seed,
                http2_streams: http2.then_some(16),
                ..FaultConfig::default()
            },
        )
        .unwrap();
        let mut config = config(&[&key]);
        // 14 % of requests fail; 10 tries make a spurious error about 1e-8 per path.
        config.max_attempts = 10;
        config.jobs = 64;
        config.http2_prior_knowledge = http2;
        let caches = open(&faulty.url(), config).await;
        let lookups = lookup_all(&caches, 300).await;
        for lookup in &lookups {
            assert!(
                lookup.errors.is_empty(),
                "http2 {http2}: {:?}",
                lookup.errors
            );
            assert!(lookup.rejected.is_empty(), "{:?}", lookup.rejected);
        }
        let got: Vec<_> = lookups.iter().map(summary).collect();
        assert_eq!(got, expected);
        let stats = caches.stats();
        assert!(stats.retries > 0, "no faults were injected: {stats:?}");
        // 300 narinfos and one nix-cache-info, each attempt once, or twice where a reused
        // HTTP/1.1 connection was reset before the answer came (sent again at once).
        let attempts = 301 + stats.retries;
        assert!(
            (attempts..=2 * attempts).contains(&stats.requests),
            "{stats:?}"
        );
        if http2 {
            assert_eq!(stats.requests, attempts);
        }
    }
}

#[tokio::test]
async fn persistent_failure_is_a_lookup_error_and_next_cache_answers() {
    let tmp = tempfile::tempdir().unwrap();
    let key = key("test-1", 1);
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    write_cache(
        &a,
        Some("StoreDir: /nix/store\nPriority: 10\n"),
        &signed_entries(3, &key),
    );
    write_cache(
        &b,
        Some("StoreDir: /nix/store\nPriority: 20\n"),
        &signed_entries(3, &key),
    );
    let broken = hash(&path(1));
    let sa = CacheServer::start(
        a.clone(),
        FaultConfig {
            always_fail: vec![broken.clone()],
            ..FaultConfig::default()
        },
    )
    .unwrap();
    let sb = CacheServer::start(
        b,
        FaultConfig {
            always_fail: vec![format!("{broken}.narinfo")],
            ..FaultConfig::default()
        },
    )
    .unwrap();
    let mut config = config(&[&key]);
    config.max_attempts = 3;
    let caches = open(&format!("{} {}", sa.url(), sb.url()), config.clone()).await;
    let lookup = caches.lookup(&path(1)).await;
    assert!(lookup.hit.is_none());
    assert_eq!(lookup.errors.len(), 2);
    assert_eq!(
        lookup.errors[0].url,
        format!("{}/{broken}.narinfo", sa.url().trim_end_matches('/'))
    );
    assert!(
        lookup.errors[0]
            .reason
            .contains(&format!("{broken}.narinfo"))
    );
    assert!(
        lookup.errors[0]
            .reason
            .contains("HTTP 500 (after 3 attempts)"),
        "{:?}",
        lookup.errors
    );
    assert!(caches.lookup(&path(0)).await.errors.is_empty());

    // Only the first cache fails: the second one answers, the error is still reported.
    let sb2 = CacheServer::start(tmp.path().join("b"), FaultConfig::default()).unwrap();
    let caches = open(&format!("{} {}", sa.url(), sb2.url()), config).await;
    let lookup = caches.lookup(&path(1)).await;
    assert_eq!(lookup.hit.unwrap().cache_url, sb2.url());
    assert_eq!(lookup.errors.len(), 1);
}

#[tokio::test]
async fn garbage_body_is_retried_then_reported() {
    let tmp = tempfile::tempdir().unwrap();
    write_cache(
        tmp.path(),
        Some(CACHE_INFO),
        &[(path(0), "this is not a narinfo".to_owned())],
    );
    let server = CacheServer::start(tmp.path().to_owned(), FaultConfig::default()).unwrap();
    let mut config = config(&[]);
    config.max_attempts = 2;
    let caches = open(&server.url(), config).await;
    let lookup = caches.lookup(&path(0)).await;
    assert!(
        lookup.errors[0].reason.contains("invalid response"),
        "{:?}",
        lookup.errors
    );
    assert_eq!(caches.stats().retries, 1);
}

#[tokio::test]
async fn slow_server_times_out() {
    let tmp = tempfile::tempdir().unwrap();
    write_cache(tmp.path(), None, &[]);
    let server = CacheServer::start(
        tmp.path().to_owned(),
        FaultConfig {
            latency: Duration::from_millis(500),
            ..FaultConfig::default()
        },
    )
    .unwrap();
    let mut config = config(&[]);
    config.timeout = Duration::from_millis(100);
    config.max_attempts = 2;
    let error = Substituters::open(specs(&server.url()), config)
        .await
        .unwrap_err();
    assert!(error.to_string().contains("timed out"), "{error}");
}

/// Over HTTP/2 an answer cut short (the stream ends before its `Content-Length`) fails
/// reading the body, and a reset fails the request: both are errors, never a short
/// `nix-cache-info` or narinfo taken as the whole.
#[tokio::test]
async fn http2_cut_short_and_reset_answers_are_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let key = key("test-1", 1);
    write_cache(tmp.path(), Some(CACHE_INFO), &signed_entries(1, &key));
    for (truncate_rate, reset_rate, expected) in [
        (1.0, 0.0, "error reading a body"),
        (0.0, 1.0, "stream error received"),
    ] {
        let server = CacheServer::start(
            tmp.path().to_owned(),
            FaultConfig {
                truncate_rate,
                reset_rate,
                http2_streams: Some(8),
                ..FaultConfig::default()
            },
        )
        .unwrap();
        let mut config = config(&[&key]);
        config.max_attempts = 1;
        config.http2_prior_knowledge = true;
        let error = Substituters::open(specs(&server.url()), config)
            .await
            .expect_err("a faulty nix-cache-info is an error");
        let message = error.to_string();
        assert!(message.contains("nix-cache-info"), "{message}");
        assert!(message.contains(expected), "{message}");
    }
}
