//! The open-file limit: a client opened with a window larger than its soft limit allows
//! raises the limit (as far as the hard one) or narrows the window to fit, and answers
//! every lookup either way. The limit is process-wide and a lowered hard limit cannot be
//! raised again, so each case runs in a child process (this test binary again, with
//! `FDLIMIT_CHILD` set); the servers run in the parent, so their sockets do not count
//! against the child's limit.

use std::process::Command;
use std::time::Duration;

use crossplan_cache::{ClientConfig, StorePath};
use crossplan_testkit::server::{CacheServer, FaultConfig};
use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};

use crate::common::*;

/// Paths looked up; the first cache holds the first half, the second the rest, so half
/// the lookups ask both.
const N: u32 = 3000;
/// Asked for in every case: more sockets than the lowered limits allow.
const JOBS: usize = 1024;
const CHILD_VAR: &str = "FDLIMIT_CHILD";

fn entries(range: std::ops::Range<u32>, key: &Key) -> Vec<(StorePath, String)> {
    range
        .map(|i| (path(i), narinfo(&path(i), &[], &[key])))
        .collect()
}

/// What the child saw: (window, soft limit after opening, hits, lookups with errors).
type Seen = (usize, u64, u32, u32);

/// In the child: set the limits, open both caches with [`JOBS`] in flight, look every
/// path up at once.
fn child(soft: u64, hard: Option<u64>, urls: &str) -> Seen {
    let before = getrlimit(Resource::Nofile);
    setrlimit(
        Resource::Nofile,
        Rlimit {
            current: Some(soft),
            maximum: hard.or(before.maximum),
        },
    )
    .unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let key = key("test-1", 1);
        let config = ClientConfig {
            jobs: JOBS,
            timeout: Duration::from_secs(20),
            ..config(&[&key])
        };
        let caches = open(urls, config).await;
        let window = caches.window();
        let after = getrlimit(Resource::Nofile).current.unwrap_or(u64::MAX);
        let tasks: Vec<_> = (0..N)
            .map(|i| {
                let caches = caches.clone();
                tokio::spawn(async move { caches.lookup(&path(i)).await })
            })
            .collect();
        let (mut hits, mut failed) = (0, 0);
        for task in tasks {
            let lookup = task.await.unwrap();
            hits += u32::from(lookup.hit.is_some());
            if !lookup.errors.is_empty() {
                eprintln!("lookup errors: {:?}", lookup.errors);
                failed += 1;
            }
        }
        (window, after, hits, failed)
    })
}

/// Run `test` in a child with the given limits against two servers `latency` away; returns
/// what the child saw and the most requests each server had in flight at once.
fn run(test: &str, soft: u64, hard: Option<u64>, latency: Duration) -> (Seen, [u64; 2]) {
    if let Ok(urls) = std::env::var(CHILD_VAR) {
        let seen = child(soft, hard, &urls);
        println!("fdlimit-child {} {} {} {}", seen.0, seen.1, seen.2, seen.3);
        std::process::exit(0);
    }
    // The servers' sockets are ours: make room for them (on a machine whose soft limit
    // is 1024, the default window alone would not fit).
    let limit = getrlimit(Resource::Nofile);
    let want = limit.maximum.map_or(8192, |hard| hard.min(8192));
    if limit.current.is_some_and(|soft| soft < want) {
        setrlimit(
            Resource::Nofile,
            Rlimit {
                current: Some(want),
                maximum: limit.maximum,
            },
        )
        .unwrap();
    }
    let tmp = tempfile::tempdir().unwrap();
    let key = key("test-1", 1);
    let servers: Vec<CacheServer> = [0..N / 2, N / 2..N]
        .into_iter()
        .enumerate()
        .map(|(i, range)| {
            let dir = tmp.path().join(format!("cache{i}"));
            write_cache(&dir, Some(CACHE_INFO), &entries(range, &key));
            let faults = FaultConfig {
                latency,
                ..FaultConfig::default()
            };
            CacheServer::start(dir, faults).unwrap()
        })
        .collect();
    let urls = format!("{} {}", servers[0].url(), servers[1].url());
    let output = Command::new(std::env::current_exe().unwrap())
        .args([test, "--exact", "--nocapture", "--test-threads", "1"])
        .env(CHILD_VAR, &urls)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "child failed: {}\nstdout:\n{stdout}\nstderr:\n{}",
        output.status,
        stderr
    );
    let line = stdout
        .lines()
        .find_map(|l| l.split_once("fdlimit-child ").map(|(_, rest)| rest))
        .unwrap_or_else(|| panic!("no result from the child; stdout:\n{stdout}"));
    let fields: Vec<u64> = line.split(' ').map(|f| f.parse().unwrap()).collect();
    let seen = (
        usize::try_from(fields[0]).unwrap(),
        fields[1],
        u32::try_from(fields[2]).unwrap(),
        u32::try_from(fields[3]).unwrap(),
    );
    (
        seen,
        [servers[0].most_in_flight(), servers[1].most_in_flight()],
    )
}

/// A soft limit of 256 under a high hard limit (the usual 1024 soft limit, smaller):
/// raised to exactly what 1024 requests to two caches need (1024 × 3 + 256), and more
/// sockets than 256 really were open at once.
#[test]
fn soft_limit_is_raised_for_the_window() {
    // The child keeps this process's hard limit (usually far above what is needed).
    let hard = getrlimit(Resource::Nofile).maximum.unwrap_or(u64::MAX);
    let need = 3 * 1024 + 256;
    // A long round trip, so that the window fills even when this debug build is slow to
    // send its requests.
    let ((window, soft, hits, failed), most) = run(
        "fdlimit::soft_limit_is_raised_for_the_window",
        256,
        None,
        Duration::from_millis(250),
    );
    assert_eq!((hits, failed), (N, 0));
    assert_eq!(soft, need.min(hard), "hard limit {hard}");
    if hard >= need {
        assert_eq!(window, JOBS);
        // More requests in flight at once (a socket each) than the soft limit allowed.
        assert!(most[0] + most[1] > 300, "most in flight {most:?}");
    } else {
        assert!(
            window < JOBS,
            "window {window} under a hard limit of {hard}"
        );
    }
}

/// A hard limit of 400: the window narrows to what fits (400 less a quarter kept for
/// files, ÷ 3 sockets per request with two caches = 100), and every lookup is answered.
#[test]
fn window_fits_a_low_hard_limit() {
    let ((window, soft, hits, failed), most) = run(
        "fdlimit::window_fits_a_low_hard_limit",
        400,
        Some(400),
        Duration::from_millis(50),
    );
    assert_eq!((hits, failed), (N, 0));
    assert_eq!(window, 100);
    assert_eq!(soft, 400);
    assert!(most.iter().all(|&m| m <= 100), "most in flight {most:?}");
    assert!(most[0] > 50, "most in flight {most:?}");
}
