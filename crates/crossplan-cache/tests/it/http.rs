use crossplan_cache::{CacheError, ClientConfig, StoreDir, Substituters};
use crossplan_testkit::server::{CacheServer, FaultConfig};

use crate::common::*;

fn serve(dir: &std::path::Path) -> CacheServer {
    CacheServer::start(dir.to_owned(), FaultConfig::default()).unwrap()
}

#[tokio::test]
async fn hit_miss_and_references() {
    let tmp = tempfile::tempdir().unwrap();
    let key = key("test-1", 1);
    write_cache(tmp.path(), Some(CACHE_INFO), &signed_entries(3, &key));
    let server = serve(tmp.path());
    let caches = open(&server.url(), config(&[&key])).await;
    assert_eq!(caches.caches().len(), 1);
    assert_eq!(caches.caches()[0].priority, 40);
    assert!(caches.caches()[0].want_mass_query);
    let hit = caches.lookup(&path(0)).await.hit.unwrap();
    assert_eq!(hit.references, vec![path(1)]);
    assert_eq!((hit.nar_size, hit.file_size), (4000, 1000));
    assert_eq!(hit.cache_index, 0);
    assert_eq!(hit.cache_url, server.url());
    let miss = caches.lookup(&path(99)).await;
    assert!(miss.hit.is_none() && miss.errors.is_empty() && miss.rejected.is_empty());
    // A second lookup is answered from memory.
    let before = server.requests();
    assert!(caches.lookup(&path(0)).await.hit.is_some());
    assert_eq!(server.requests(), before);
    assert!(caches.stats().memory_hits >= 1);
}

/// Over HTTP/2 one pool keeps one connection per host, and a server caps the streams of a
/// connection: the window is spread over `jobs ÷ streams_per_connection` pools, so it is
/// not capped at one connection's streams. h2c (prior knowledge) stands in for HTTP/2
/// negotiated by TLS, which this machine's loopback caches cannot offer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http2_window_is_spread_over_connections_past_the_servers_stream_cap() {
    let tmp = tempfile::tempdir().unwrap();
    let key = key("test-1", 1);
    write_cache(tmp.path(), Some(CACHE_INFO), &signed_entries(24, &key));
    // (streams one connection is trusted with, most requests the server may see at once)
    for (streams_per_connection, cap) in [(24, 4), (4, 24)] {
        let server = CacheServer::start(
            tmp.path().to_owned(),
            FaultConfig {
                // Long enough that all 24 requests are out before the first answer.
                latency: std::time::Duration::from_millis(400),
                http2_streams: Some(4),
                ..FaultConfig::default()
            },
        )
        .unwrap();
        let config = ClientConfig {
            jobs: 24,
            streams_per_connection,
            http2_prior_knowledge: true,
            ..config(&[&key])
        };
        let caches = open(&server.url(), config).await;
        let lookups = futures::future::join_all((0..24).map(|i| {
            let caches = caches.clone();
            async move { caches.lookup(&path(i)).await }
        }))
        .await;
        assert!(lookups.iter().all(|lookup| lookup.hit.is_some()));
        let most = server.most_in_flight();
        if cap == 4 {
            // One pool: HTTP/2 really is spoken, and the server's cap holds.
            assert_eq!(most, 4, "one connection carried {most} requests at once");
        } else {
            // Six pools of four streams.
            assert!(
                most > 4 && most <= cap,
                "{most} requests at once over six connections"
            );
        }
    }
}

#[tokio::test]
async fn priority_order_and_url_override() {
    let tmp = tempfile::tempdir().unwrap();
    let key = key("test-1", 1);
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    write_cache(
        &a,
        Some("StoreDir: /nix/store\nPriority: 30\n"),
        &signed_entries(2, &key),
    );
    write_cache(
        &b,
        Some("StoreDir: /nix/store\nPriority: 10\n"),
        &signed_entries(1, &key),
    );
    let (sa, sb) = (serve(&a), serve(&b));
    let caches = open(&format!("{} {}", sa.url(), sb.url()), config(&[&key])).await;
    let urls: Vec<_> = caches.caches().iter().map(|c| c.url.clone()).collect();
    assert_eq!(urls, [sb.url(), sa.url()]);
    // path(0) is in both: the lower priority number (b) wins; path(1) only in a.
    assert_eq!(
        caches.lookup(&path(0)).await.hit.unwrap().cache_url,
        sb.url()
    );
    assert_eq!(caches.lookup(&path(1)).await.hit.unwrap().cache_index, 1);

    let caches = open(
        &format!("{}?priority=5 {}", sa.url(), sb.url()),
        config(&[&key]),
    )
    .await;
    assert_eq!(caches.caches()[0].url, sa.url());
    assert_eq!(caches.caches()[0].priority, 5);

    // Equal priorities keep list order (stable sort); no Priority line = Priority 50.
    let c = tmp.path().join("c");
    write_cache(&c, Some("StoreDir: /nix/store\n"), &signed_entries(1, &key));
    let sc = serve(&c);
    let caches = open(
        &format!("{}?priority=50 {}", sa.url(), sc.url()),
        config(&[&key]),
    )
    .await;
    assert_eq!(caches.caches()[1].url, sc.url());
    assert_eq!(caches.caches()[1].priority, 50);
    assert!(!caches.caches()[1].want_mass_query);
}

#[tokio::test]
async fn status_403_and_404_are_absent() {
    let tmp = tempfile::tempdir().unwrap();
    let key = key("test-1", 1);
    write_cache(tmp.path(), Some(CACHE_INFO), &signed_entries(2, &key));
    let server = CacheServer::start(
        tmp.path().to_owned(),
        FaultConfig {
            status_override: vec![(hash(&path(0)), 403), (hash(&path(1)), 401)],
            ..FaultConfig::default()
        },
    )
    .unwrap();
    let caches = open(&server.url(), config(&[&key])).await;
    let lookup = caches.lookup(&path(0)).await;
    assert!(lookup.hit.is_none() && lookup.errors.is_empty());
    // 401 is not "absent": it is an error that names the fix, and is not retried.
    let before = server.requests();
    let lookup = caches.lookup(&path(1)).await;
    assert_eq!(server.requests() - before, 1);
    assert!(
        lookup.errors[0].reason.contains("HTTP 401"),
        "{:?}",
        lookup.errors
    );
    assert!(
        lookup.errors[0].reason.contains("netrc"),
        "{:?}",
        lookup.errors
    );
}

#[tokio::test]
async fn unsigned_or_untrusted_is_rejected_and_next_cache_used() {
    let tmp = tempfile::tempdir().unwrap();
    let good = key("good-1", 1);
    let evil = key("evil-1", 2);
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    write_cache(
        &a,
        Some("StoreDir: /nix/store\nPriority: 10\n"),
        &[
            (path(0), narinfo(&path(0), &[], &[&evil])),
            (path(1), narinfo(&path(1), &[], &[])),
        ],
    );
    write_cache(
        &b,
        Some("StoreDir: /nix/store\nPriority: 20\n"),
        &signed_entries(1, &good),
    );
    let (sa, sb) = (serve(&a), serve(&b));
    let list = format!("{} {}", sa.url(), sb.url());
    let caches = open(&list, config(&[&good])).await;
    let lookup = caches.lookup(&path(0)).await;
    assert_eq!(lookup.hit.unwrap().cache_url, sb.url());
    assert_eq!(lookup.rejected.len(), 1);
    assert_eq!(lookup.rejected[0].cache_url, sa.url());
    assert_eq!(
        lookup.rejected[0].path,
        StoreDir::default().render_path(&path(0))
    );
    assert_eq!(
        lookup.rejected[0].reason,
        "no signature by a trusted key (signed by: evil-1)"
    );
    let lookup = caches.lookup(&path(1)).await;
    assert!(lookup.hit.is_none());
    assert_eq!(
        lookup.rejected[0].reason,
        "no signature by a trusted key (unsigned)"
    );

    // ?trusted=1 accepts them; so does require-sigs = false.
    let caches = open(&format!("{}?trusted=1", sa.url()), config(&[&good])).await;
    assert!(caches.caches()[0].trusted);
    assert!(caches.lookup(&path(1)).await.hit.is_some());
    let mut relaxed = config(&[&good]);
    relaxed.require_sigs = false;
    let caches = open(&sa.url(), relaxed).await;
    assert!(caches.lookup(&path(0)).await.hit.is_some());
}

#[tokio::test]
async fn wrong_store_path_is_rejected() {
    let tmp = tempfile::tempdir().unwrap();
    let key = key("test-1", 1);
    // The file for path(0) holds path(1)'s narinfo.
    write_cache(
        tmp.path(),
        Some(CACHE_INFO),
        &[(path(0), narinfo(&path(1), &[], &[&key]))],
    );
    let server = serve(tmp.path());
    let caches = open(&server.url(), config(&[&key])).await;
    let lookup = caches.lookup(&path(0)).await;
    assert!(lookup.hit.is_none());
    assert!(
        lookup.rejected[0]
            .reason
            .contains("not for the requested path")
    );
}

/// No `nix-cache-info` over HTTP (404, or 403 from an unlistable bucket): not a binary
/// cache, as Nix says; the error names the URL and the hint the likely typo. A
/// `file://` cache without one is used with the defaults (see `file.rs`), as in Nix.
#[tokio::test]
async fn http_cache_without_cache_info_is_not_a_binary_cache() {
    let tmp = tempfile::tempdir().unwrap();
    let key = key("test-1", 1);
    write_cache(tmp.path(), None, &signed_entries(1, &key));
    let server = serve(tmp.path());
    let url = format!("{}/sub", server.url());
    let error = Substituters::open(specs(&url), config(&[&key]))
        .await
        .unwrap_err();
    assert!(
        matches!(&error, CacheError::NotABinaryCache { url: u } if *u == url),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        format!("'{url}' does not appear to be a binary cache: it has no nix-cache-info")
    );
    assert!(error.hint().unwrap().contains("path"), "{:?}", error.hint());
    assert_eq!(
        error.unusable_cache().map(|(u, _)| u.to_owned()),
        Some(url.clone())
    );
    // Absent, not a failure: asked once, not retried.
    assert_eq!(server.requests(), 1);
}

#[tokio::test]
async fn store_dir_mismatch_names_both_dirs() {
    let tmp = tempfile::tempdir().unwrap();
    write_cache(tmp.path(), Some("StoreDir: /gnu/store\n"), &[]);
    let server = serve(tmp.path());
    let error = Substituters::open(specs(&server.url()), ClientConfig::default())
        .await
        .unwrap_err();
    assert!(matches!(error, CacheError::StoreDirMismatch { .. }));
    let message = error.to_string();
    assert!(message.contains(&server.url()), "{message}");
    assert!(
        message.contains("/gnu/store") && message.contains("/nix/store"),
        "{message}"
    );
    assert!(error.hint().is_some());
}

#[tokio::test]
async fn unreachable_cache_is_an_error_with_hint() {
    // Bind and drop a listener to get a port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = ClientConfig {
        max_attempts: 2,
        ..ClientConfig::default()
    };
    let url = format!("http://user:hunter2@127.0.0.1:{port}");
    let error = Substituters::open(specs(&url), config).await.unwrap_err();
    assert!(matches!(error, CacheError::Unreachable { .. }));
    let message = error.to_string();
    assert!(
        message.contains(&format!("http://***@127.0.0.1:{port}")),
        "{message}"
    );
    assert!(!message.contains("hunter2"), "{message}");
    assert!(error.hint().unwrap().contains("network"));
}

#[tokio::test]
async fn netrc_and_url_credentials_are_sent() {
    let tmp = tempfile::tempdir().unwrap();
    let key = key("test-1", 1);
    write_cache(tmp.path(), Some(CACHE_INFO), &signed_entries(1, &key));
    let server = CacheServer::start(
        tmp.path().to_owned(),
        FaultConfig {
            basic_auth: Some(("alice".to_owned(), "s3cret".to_owned())),
            ..FaultConfig::default()
        },
    )
    .unwrap();
    // Without credentials nix-cache-info is refused (401 is a permanent error).
    let error = Substituters::open(specs(&server.url()), config(&[&key]))
        .await
        .unwrap_err();
    assert!(error.to_string().contains("401"), "{error}");

    let netrc = tmp.path().join("netrc");
    std::fs::write(&netrc, "machine 127.0.0.1 login alice password s3cret\n").unwrap();
    let mut with_netrc = config(&[&key]);
    with_netrc.netrc_file = Some(netrc);
    let caches = open(&server.url(), with_netrc).await;
    assert!(caches.lookup(&path(0)).await.hit.is_some());

    let url = server.url().replace("http://", "http://alice:s3cret@");
    let caches = open(&url, config(&[&key])).await;
    assert!(caches.caches()[0].url.starts_with("http://***@127.0.0.1:"));
    assert!(caches.lookup(&path(0)).await.hit.is_some());
    assert!(!format!("{caches:?}").contains("s3cret"));

    // A missing netrc file means no credentials, not an error.
    let mut missing = config(&[&key]);
    missing.netrc_file = Some(tmp.path().join("nope"));
    assert!(Substituters::open(specs(&url), missing).await.is_ok());
}

#[tokio::test]
async fn retry_after_is_honoured() {
    let tmp = tempfile::tempdir().unwrap();
    let key = key("test-1", 1);
    write_cache(tmp.path(), Some(CACHE_INFO), &signed_entries(1, &key));
    let server = CacheServer::start(
        tmp.path().to_owned(),
        FaultConfig {
            status_override: vec![(hash(&path(0)), 429)],
            retry_after: Some(1),
            ..FaultConfig::default()
        },
    )
    .unwrap();
    let mut config = config(&[&key]);
    config.max_attempts = 2;
    let caches = open(&server.url(), config).await;
    let start = std::time::Instant::now();
    let lookup = caches.lookup(&path(0)).await;
    assert!(start.elapsed() >= std::time::Duration::from_secs(1));
    assert!(lookup.errors[0].reason.contains("HTTP 429"));
    assert!(lookup.errors[0].reason.contains("after 2 attempts"));
}

#[tokio::test]
async fn oversized_narinfo_is_an_error_without_retries() {
    let tmp = tempfile::tempdir().unwrap();
    let huge = format!(
        "StorePath: x\n{}",
        "X-Pad: 0123456789abcdef\n".repeat(100_000)
    );
    write_cache(tmp.path(), Some(CACHE_INFO), &[(path(0), huge)]);
    let server = serve(tmp.path());
    let caches = open(&server.url(), config(&[])).await;
    let lookup = caches.lookup(&path(0)).await;
    assert_eq!(server.requests(), 2);
    let reason = &lookup.errors[0].reason;
    assert!(
        reason.contains("larger than") && reason.contains(&server.url()),
        "{reason}"
    );
}
