use std::time::{Duration, Instant};

use crossplan_cache::{ClientConfig, DiskCacheConfig};
use crossplan_testkit::server::{CacheServer, FaultConfig};

use crate::common::*;

/// `n` concurrent lookups (half present) against a server adding `latency`; returns the
/// wall time of the lookups, then of a warm run from the disk cache.
async fn measure(n: u32, latency: Duration, jobs: usize) -> (Duration, Duration) {
    let tmp = tempfile::tempdir().unwrap();
    let key = key("test-1", 1);
    let dir = tmp.path().join("cache");
    write_cache(&dir, Some(CACHE_INFO), &signed_entries(n / 2, &key));
    let server = CacheServer::start(
        dir,
        FaultConfig {
            latency,
            ..FaultConfig::default()
        },
    )
    .unwrap();
    let db = tmp.path().join("narinfo.sqlite");
    let config = ClientConfig {
        jobs,
        disk_cache: Some(DiskCacheConfig::new(db)),
        // BENCH_NO_SIGS=1 shows what signature checks cost.
        require_sigs: std::env::var_os("BENCH_NO_SIGS").is_none(),
        ..config(&[&key])
    };
    let paths: Vec<_> = (0..n).map(path).collect();

    let (start, cpu) = (Instant::now(), cpu_time());
    let caches = open(&server.url(), config.clone()).await;
    let hits = lookup_all(&caches, &paths).await;
    caches.flush().await.unwrap();
    let cold = start.elapsed();
    eprintln!(
        "cold: {cold:?} wall, {:?} cpu (client and server)",
        cpu_time() - cpu
    );
    assert_eq!(hits, n / 2);

    let (start, cpu) = (Instant::now(), cpu_time());
    let caches = open(&server.url(), config).await;
    caches.preload(&paths).await;
    let hits = lookup_all(&caches, &paths).await;
    let warm = start.elapsed();
    eprintln!("warm: {warm:?} wall, {:?} cpu", cpu_time() - cpu);
    assert_eq!(hits, n / 2);
    assert_eq!(caches.stats().requests, 0);
    (cold, warm)
}

/// User + system CPU time of this process so far (Linux; zero elsewhere).
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields 14 and 15 (utime, stime) in clock ticks, counted after the ")" of the name.
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let ticks: u64 = fields
        .get(11..13)
        .map_or(0, |f| f.iter().filter_map(|x| x.parse::<u64>().ok()).sum());
    // USER_HZ is 100 on Linux.
    Duration::from_millis(ticks * 10)
}

async fn lookup_all(
    caches: &crossplan_cache::Substituters,
    paths: &[crossplan_cache::StorePath],
) -> u32 {
    let tasks: Vec<_> = paths
        .iter()
        .map(|p| {
            let (caches, p) = (caches.clone(), p.clone());
            tokio::spawn(async move { caches.lookup(&p).await.hit.is_some() })
        })
        .collect();
    let mut hits = 0;
    for task in tasks {
        hits += u32::from(task.await.unwrap());
    }
    hits
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_lookups_in_flight() {
    // 2,000 lookups at 20 ms: one at a time this would take 40 s; 256 in flight ~0.2 s.
    let (cold, warm) = measure(2_000, Duration::from_millis(20), 256).await;
    eprintln!("2000 lookups at 20 ms: cold {cold:?}, warm {warm:?}");
    assert!(cold < Duration::from_secs(8), "cold {cold:?}");
}

/// The target workload: `cargo nextest run -p crossplan-cache --run-ignored only perf`,
/// best with `--release`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: 18,000 lookups"]
async fn eighteen_thousand_lookups() {
    let n = std::env::var("BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(18_000);
    let latency = std::env::var("BENCH_LATENCY_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    for jobs in [512, crossplan_cache::DEFAULT_JOBS] {
        let (cold, warm) = measure(n, Duration::from_millis(latency), jobs).await;
        eprintln!("{n} lookups at {latency} ms, jobs {jobs}: cold {cold:?}, warm {warm:?}");
    }
}
