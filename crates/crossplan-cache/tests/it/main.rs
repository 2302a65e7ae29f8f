//! Integration tests of crossplan-cache: a real client against real HTTP on 127.0.0.1
//! (crossplan-testkit's fault-injecting server) and against `file://` directories.

#![allow(clippy::unwrap_used)]

/// Building signed cache directories.
mod common;
/// The disk cache across runs: warm lookups, TTLs, refresh, concurrent runs, corruption.
mod disk;
/// Random transient faults and persistent failures.
mod faults;
/// The open-file limit and the window (each case in a child process).
#[cfg(unix)]
mod fdlimit;
/// `file://` caches.
mod file;
/// The public cache.nixos.org record for curl-7.82.0-bin and its real signature.
mod fixture;
/// Lookups over HTTP: priorities, 404/403, signatures, trusted caches, StoreDir, netrc.
mod http;
/// The lean HTTP/1.1 path: closed keep-alive connections, redirects, chunked and
/// compressed bodies, a proxy from the environment.
mod lean;
/// Throughput with many lookups in flight against a server with latency.
mod perf;
