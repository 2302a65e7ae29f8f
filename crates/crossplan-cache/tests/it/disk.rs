use std::path::Path;
use std::time::Duration;

use crossplan_cache::{ClientConfig, DiskCacheConfig, Substituters};
use crossplan_testkit::server::{CacheServer, FaultConfig};

use crate::common::*;

fn with_disk(config: ClientConfig, db: &Path) -> ClientConfig {
    ClientConfig {
        disk_cache: Some(DiskCacheConfig::new(db.to_owned())),
        ..config
    }
}

#[tokio::test]
async fn warm_run_needs_no_requests() {
    let tmp = tempfile::tempdir().unwrap();
    let key = key("test-1", 1);
    let dir = tmp.path().join("cache");
    write_cache(&dir, Some(CACHE_INFO), &signed_entries(50, &key));
    let db = tmp.path().join("xdg/crossplan/narinfo-v1.sqlite");
    let server = CacheServer::start(dir, FaultConfig::default()).unwrap();
    let paths: Vec<_> = (0..80).map(path).collect();

    let cold = open(&server.url(), with_disk(config(&[&key]), &db)).await;
    assert!(cold.has_disk_cache());
    let mut cold_hits = Vec::new();
    for p in &paths {
        cold_hits.push(cold.lookup(p).await.hit);
    }
    cold.flush().await.unwrap();
    let sent = server.requests();
    assert_eq!(sent, 81);

    let warm = open(&server.url(), with_disk(config(&[&key]), &db)).await;
    warm.preload(&paths).await;
    for (p, expected) in paths.iter().zip(&cold_hits) {
        assert_eq!(&warm.lookup(p).await.hit, expected);
    }
    assert_eq!(server.requests(), sent, "warm run sent requests");
    assert_eq!(warm.stats().disk_hits, 80);
    assert_eq!(warm.caches(), cold.caches());

    // Without preload, each lookup reads its row.
    let warm = open(&server.url(), with_disk(config(&[&key]), &db)).await;
    assert!(warm.lookup(&path(3)).await.hit.is_some());
    assert!(warm.lookup(&path(70)).await.hit.is_none());
    assert_eq!(server.requests(), sent);

    // Answers without waiting: memory, else the disk row read on the spot; a path
    // never looked up needs the network.
    let warm = open(&server.url(), with_disk(config(&[&key]), &db)).await;
    assert!(!warm.is_memoized(&path(4)), "nothing is in memory yet");
    let now = warm.lookup_memoized(&path(4)).expect("on disk");
    assert_eq!(now.hit, cold_hits[4]);
    assert!(warm.is_memoized(&path(4)), "the row read is kept in memory");
    assert!(
        warm.lookup_memoized(&path(70))
            .is_some_and(|l| l.hit.is_none())
    );
    assert!(warm.lookup_memoized(&path(200)).is_none());
    assert!(!warm.is_memoized(&path(200)));
    assert_eq!(
        server.requests(),
        sent,
        "answers without waiting sent requests"
    );
}

#[tokio::test]
async fn negative_ttl_refresh_and_key_rotation() {
    let tmp = tempfile::tempdir().unwrap();
    let old = key("old-1", 1);
    let new = key("new-1", 2);
    let dir = tmp.path().join("cache");
    write_cache(&dir, Some(CACHE_INFO), &signed_entries(1, &old));
    let db = tmp.path().join("narinfo.sqlite");
    let server = CacheServer::start(dir.clone(), FaultConfig::default()).unwrap();

    let run = open(&server.url(), with_disk(config(&[&old]), &db)).await;
    assert!(run.lookup(&path(0)).await.hit.is_some());
    assert!(run.lookup(&path(1)).await.hit.is_none());
    run.flush().await.unwrap();
    // path(1) appears in the cache after the negative answer was stored.
    write_cache(&dir, None, &[(path(1), narinfo(&path(1), &[], &[&old]))]);

    let run = open(&server.url(), with_disk(config(&[&old]), &db)).await;
    assert!(
        run.lookup(&path(1)).await.hit.is_none(),
        "negative entry within TTL"
    );

    let mut short = with_disk(config(&[&old]), &db);
    if let Some(disk) = &mut short.disk_cache {
        disk.negative_ttl = Duration::ZERO;
    }
    let run = open(&server.url(), short).await;
    assert!(
        run.lookup(&path(1)).await.hit.is_some(),
        "expired negative entry"
    );

    let mut refresh = with_disk(config(&[&old]), &db);
    if let Some(disk) = &mut refresh.disk_cache {
        disk.refresh = true;
    }
    let run = open(&server.url(), refresh).await;
    let before = server.requests();
    run.preload(&[path(1)]).await;
    assert!(run.lookup(&path(1)).await.hit.is_some());
    assert_eq!(server.requests() - before, 1);
    run.flush().await.unwrap();

    // The stored "verified by old-1" is not trusted once only new-1 is.
    let run = open(&server.url(), with_disk(config(&[&new]), &db)).await;
    run.preload(&[path(0)]).await;
    let lookup = run.lookup(&path(0)).await;
    assert!(lookup.hit.is_none());
    assert!(lookup.rejected[0].reason.contains("old-1"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_concurrent_runs_share_the_database() {
    let tmp = tempfile::tempdir().unwrap();
    let key = key("test-1", 1);
    let dir = tmp.path().join("cache");
    write_cache(&dir, Some(CACHE_INFO), &signed_entries(400, &key));
    let db = tmp.path().join("narinfo.sqlite");
    let server = CacheServer::start(dir, FaultConfig::default()).unwrap();
    let run = |offset: u32| {
        let (url, config) = (server.url(), with_disk(config(&[&key]), &db));
        async move {
            let caches = open(&url, config).await;
            for chunk in 0..4 {
                let lookups = futures::future::join_all((0..100).map(|i| {
                    let caches = caches.clone();
                    async move { caches.lookup(&path(offset + chunk * 100 + i)).await }
                }))
                .await;
                assert!(
                    lookups
                        .iter()
                        .all(|l| l.hit.is_some() || offset + chunk * 100 >= 400)
                );
                caches.flush().await.unwrap();
            }
        }
    };
    tokio::join!(run(0), run(200));
    let warm = open(&server.url(), with_disk(config(&[&key]), &db)).await;
    let paths: Vec<_> = (0..600).map(path).collect();
    warm.preload(&paths).await;
    let before = server.requests();
    for p in &paths {
        warm.lookup(p).await;
    }
    assert_eq!(server.requests(), before);
    assert_eq!(warm.stats().disk_hits, 600);
}

#[tokio::test]
async fn corrupt_database_is_ignored() {
    let tmp = tempfile::tempdir().unwrap();
    let key = key("test-1", 1);
    let dir = tmp.path().join("cache");
    write_cache(&dir, Some(CACHE_INFO), &signed_entries(2, &key));
    let db = tmp.path().join("narinfo.sqlite");
    std::fs::write(
        &db,
        b"SQLite format 3\0 but then garbage garbage garbage".repeat(200),
    )
    .unwrap();
    let server = CacheServer::start(dir, FaultConfig::default()).unwrap();
    let caches = Substituters::open(specs(&server.url()), with_disk(config(&[&key]), &db))
        .await
        .unwrap();
    assert!(!caches.has_disk_cache());
    assert!(caches.lookup(&path(0)).await.hit.is_some());
    caches.flush().await.unwrap();
}

#[tokio::test]
async fn stored_record_that_does_not_parse_is_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let key = key("test-1", 1);
    let dir = tmp.path().join("cache");
    write_cache(&dir, Some(CACHE_INFO), &signed_entries(3, &key));
    let db = tmp.path().join("narinfo.sqlite");
    let server = CacheServer::start(dir, FaultConfig::default()).unwrap();
    let paths: Vec<_> = (0..3).map(path).collect();

    let cold = open(&server.url(), with_disk(config(&[&key]), &db)).await;
    for p in &paths {
        assert!(cold.lookup(p).await.hit.is_some());
    }
    cold.flush().await.unwrap();
    let conn = rusqlite::Connection::open(&db).unwrap();
    let changed = conn
        .execute(
            "UPDATE narinfo SET narinfo = 'StorePath: garbage' WHERE hash_part = ?1",
            [hash(&paths[1])],
        )
        .unwrap();
    assert_eq!(changed, 1);
    drop(conn);
    let sent = server.requests();

    // The same answer whether the record was preloaded (and parsed then) or read on
    // demand: the cache counts as failed for that path, the others are hits.
    for preload in [true, false] {
        let warm = open(&server.url(), with_disk(config(&[&key]), &db)).await;
        if preload {
            warm.preload(&paths).await;
        }
        assert!(warm.lookup(&paths[0]).await.hit.is_some());
        let bad = warm.lookup(&paths[1]).await;
        assert!(bad.hit.is_none(), "preload {preload}");
        assert_eq!(bad.errors.len(), 1, "preload {preload}");
        assert!(
            bad.errors[0].reason.starts_with(&format!(
                "stored narinfo for '{}' is invalid",
                hash(&paths[1])
            )),
            "preload {preload}: {}",
            bad.errors[0].reason
        );
        assert!(warm.lookup(&paths[2]).await.hit.is_some());
        assert_eq!(server.requests(), sent, "preload {preload}");
    }
}

/// A flush that starts while another is writing returns only once those rows are
/// written too: what a cancelled run relies on when it saves while the walk's periodic
/// save is under way (it then exits at once).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_flush_waits_for_the_rows_being_written() {
    let tmp = tempfile::tempdir().unwrap();
    let key = key("test-1", 1);
    let dir = tmp.path().join("cache");
    let n = 20_000;
    write_cache(&dir, Some(CACHE_INFO), &signed_entries(n, &key));
    let db = tmp.path().join("narinfo.sqlite");
    let server = CacheServer::start(dir, FaultConfig::default()).unwrap();
    let caches = open(&server.url(), with_disk(config(&[&key]), &db)).await;
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let caches = caches.clone();
            tokio::spawn(async move { caches.lookup(&path(i)).await.hit.is_some() })
        })
        .collect();
    for task in tasks {
        assert!(task.await.unwrap());
    }
    // The first flush takes every row; the second, started right after, has none of
    // its own and must still wait for the first one's write.
    let first = {
        let caches = caches.clone();
        tokio::spawn(async move { caches.flush().await })
    };
    // Taking the rows takes well under a millisecond, writing 20,000 of them tens.
    tokio::time::sleep(Duration::from_millis(3)).await;
    assert!(
        !first.is_finished(),
        "the first flush ended too soon to test"
    );
    caches.flush().await.unwrap();
    let conn = rusqlite::Connection::open(&db).unwrap();
    let rows: u32 = conn
        .query_row("SELECT count(*) FROM narinfo", [], |row| row.get(0))
        .unwrap();
    assert_eq!(rows, n, "rows on disk when the second flush returned");
    first.await.unwrap().unwrap();
}

/// A preload that finds no row of a cache on disk (a cold run) makes no slot per path and
/// looks no later path up on disk for that cache: a row another run writes meanwhile is
/// missed (one request more, the same answer). A cache with rows is still read row by
/// row for paths the preload did not cover.
#[tokio::test]
async fn preload_of_a_cache_with_no_rows_skips_the_disk() {
    let tmp = tempfile::tempdir().unwrap();
    let key = key("test-1", 1);
    let dir = tmp.path().join("cache");
    write_cache(&dir, Some(CACHE_INFO), &signed_entries(10, &key));
    let db = tmp.path().join("narinfo.sqlite");
    let server = CacheServer::start(dir, FaultConfig::default()).unwrap();

    // Run A preloads while the disk cache is empty; run B then saves path 5's row.
    let a = open(&server.url(), with_disk(config(&[&key]), &db)).await;
    a.preload(&[path(1), path(2)]).await;
    let b = open(&server.url(), with_disk(config(&[&key]), &db)).await;
    assert!(b.lookup(&path(5)).await.hit.is_some());
    b.flush().await.unwrap();
    let before = server.requests();
    // A asks the network for path 5 all the same.
    assert!(a.lookup(&path(5)).await.hit.is_some());
    assert_eq!(server.requests(), before + 1);
    assert_eq!(a.stats().disk_hits, 0);

    // Run C preloads other paths with path 5's row on disk: path 5 is read from disk.
    let c = open(&server.url(), with_disk(config(&[&key]), &db)).await;
    c.preload(&[path(1), path(2)]).await;
    assert!(c.lookup(&path(5)).await.hit.is_some());
    assert_eq!(server.requests(), before + 1);
    assert_eq!(c.stats().disk_hits, 1);
}
