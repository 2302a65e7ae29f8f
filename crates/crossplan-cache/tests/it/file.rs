use crossplan_cache::{CacheError, Substituters};

use crate::common::*;

#[tokio::test]
async fn file_cache_hits_misses_and_rejections() {
    let tmp = tempfile::tempdir().unwrap();
    let key = key("test-1", 1);
    let mut entries = signed_entries(2, &key);
    entries.push((path(5), narinfo(&path(5), &[], &[])));
    write_cache(tmp.path(), Some(CACHE_INFO), &entries);
    let url = format!("file://{}", tmp.path().display());
    let caches = open(&url, config(&[&key])).await;
    assert_eq!(caches.caches()[0].url, url);
    assert_eq!(caches.caches()[0].priority, 40);
    assert_eq!(
        caches.lookup(&path(0)).await.hit.unwrap().references,
        vec![path(1)]
    );
    let miss = caches.lookup(&path(3)).await;
    assert!(miss.hit.is_none() && miss.errors.is_empty());
    assert_eq!(caches.lookup(&path(5)).await.rejected.len(), 1);
    assert_eq!(caches.stats().requests, 0);
}

#[tokio::test]
async fn file_cache_without_info_uses_defaults_and_checks_store_dir() {
    let tmp = tempfile::tempdir().unwrap();
    write_cache(tmp.path(), None, &[]);
    let caches = open(&format!("file://{}", tmp.path().display()), config(&[])).await;
    assert_eq!(caches.caches()[0].priority, 50);

    write_cache(tmp.path(), Some("StoreDir: /other/store\n"), &[]);
    let error = Substituters::open(
        specs(&format!("file://{}", tmp.path().display())),
        config(&[]),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(error, CacheError::StoreDirMismatch { .. }),
        "{error}"
    );

    // An unreadable narinfo (a directory in its place) is an error, not a miss.
    write_cache(tmp.path(), Some(CACHE_INFO), &[]);
    std::fs::create_dir(tmp.path().join(format!("{}.narinfo", hash(&path(0))))).unwrap();
    let caches = open(&format!("file://{}", tmp.path().display()), config(&[])).await;
    assert_eq!(caches.lookup(&path(0)).await.errors.len(), 1);
}
