//! The lean HTTP/1.1 path for `http://` caches (`h1.rs`) against a raw server written
//! here, which logs every request head and answers exactly as told: a reused connection
//! the server closed, redirects, chunked and compressed bodies, and a proxy from the
//! environment (in a child process, since the environment is process-wide).

use std::io::Write as _;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crossplan_cache::{ClientConfig, Substituters};

use crate::common::*;

/// What the server does with the `n`th request (from 0) of a connection, given its head:
/// the bytes to write back, or `None` to close the connection without an answer (with a
/// reset when the server was started with `reset`).
type Handler = dyn Fn(usize, &str) -> Option<Vec<u8>> + Send + Sync;

struct RawServer {
    url: String,
    heads: Arc<Mutex<Vec<String>>>,
    connections: Arc<AtomicUsize>,
}

impl RawServer {
    /// Every request head so far, lower-cased.
    fn heads(&self) -> Vec<String> {
        self.heads.lock().unwrap().clone()
    }
}

async fn raw_server(handler: Arc<Handler>) -> RawServer {
    raw_server_closing(handler, false).await
}

async fn raw_server_closing(handler: Arc<Handler>, reset: bool) -> RawServer {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let heads = Arc::new(Mutex::new(Vec::new()));
    let connections = Arc::new(AtomicUsize::new(0));
    let (log, count) = (heads.clone(), connections.clone());
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            let (log, handler) = (log.clone(), handler.clone());
            tokio::spawn(async move {
                let mut buffer = Vec::new();
                for n in 0.. {
                    let end = loop {
                        if let Some(at) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                            break at + 4;
                        }
                        let mut chunk = [0_u8; 4096];
                        match socket.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(read) => buffer.extend_from_slice(&chunk[..read]),
                        }
                    };
                    let head = String::from_utf8_lossy(&buffer[..end]).to_lowercase();
                    buffer.drain(..end);
                    log.lock().unwrap().push(head.clone());
                    match handler(n, &head) {
                        Some(bytes) => {
                            if socket.write_all(&bytes).await.is_err() {
                                return;
                            }
                        }
                        None => {
                            if reset {
                                socket.set_zero_linger().unwrap();
                            }
                            return;
                        }
                    }
                }
            });
        }
    });
    RawServer {
        url,
        heads,
        connections,
    }
}

/// The request target of a head: `get /x http/1.1` → `/x`.
fn target(head: &str) -> &str {
    head.split(' ').nth(1).unwrap_or("")
}

fn answer(status: &str, headers: &str, body: &[u8]) -> Vec<u8> {
    let mut bytes = format!(
        "HTTP/1.1 {status}\r\n{headers}Content-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

fn chunked(body: &[u8]) -> Vec<u8> {
    let mut bytes = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for part in body.chunks(100) {
        bytes.extend_from_slice(format!("{:x}\r\n", part.len()).as_bytes());
        bytes.extend_from_slice(part);
        bytes.extend_from_slice(b"\r\n");
    }
    bytes.extend_from_slice(b"0\r\n\r\n");
    bytes
}

fn gzip(body: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(body).unwrap();
    encoder.finish().unwrap()
}

/// A narinfo-serving handler: `nix-cache-info`, the first `n` paths (`serve` renders a
/// record's answer), 404 for the rest.
fn cache_handler(
    n: u32,
    key: &Key,
    serve: impl Fn(&str, String) -> Vec<u8> + Send + Sync + 'static,
) -> impl Fn(&str) -> Vec<u8> + Send + Sync + 'static {
    let records: Vec<(String, String)> = (0..n)
        .map(|i| {
            (
                format!("/{}.narinfo", hash(&path(i))),
                narinfo(&path(i), &[], &[key]),
            )
        })
        .collect();
    move |target: &str| {
        let target = target.rsplit_once('/').map_or(target, |(_, name)| name);
        if target == "nix-cache-info" {
            return answer("200 OK", "", CACHE_INFO.as_bytes());
        }
        match records.iter().find(|(name, _)| name[1..] == *target) {
            Some((name, text)) => serve(name, text.clone()),
            None => answer("404 Not Found", "", b"404"),
        }
    }
}

/// A server answering with `serve` for the cache's own files, and with the records
/// under `/moved/` (where `serve` may redirect to).
async fn with_moved(
    n: u32,
    key: &Key,
    serve: impl Fn(&str) -> Vec<u8> + Send + Sync + 'static,
) -> RawServer {
    let moved = cache_handler(n, key, |_, text| answer("200 OK", "", text.as_bytes()));
    raw_server(Arc::new(move |_, head: &str| {
        let target = target(head);
        Some(if target.starts_with("/moved/") {
            moved(target)
        } else {
            serve(target)
        })
    }))
    .await
}

/// A keep-alive connection that the server closes (cleanly, or with a reset) when the
/// next request arrives, as a server does whose idle timeout is shorter than ours at the
/// wrong moment, costs no retry: the request goes again at once on a new connection, so
/// no backoff is waited and no attempt is used up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reused_connection_closed_by_the_server_is_sent_again_on_a_new_one() {
    for reset in [false, true] {
        let key = key("test-1", 1);
        let serve = cache_handler(3, &key, |_, text| answer("200 OK", "", text.as_bytes()));
        let handler = Arc::new(move |n, head: &str| (n == 0).then(|| serve(target(head))));
        let server = raw_server_closing(handler, reset).await;
        let caches = open(&server.url, config(&[&key])).await;
        for i in 0..3 {
            let lookup = caches.lookup(&path(i)).await;
            assert!(
                lookup.hit.is_some(),
                "reset {reset}, path {i}: {:?}",
                lookup.errors
            );
        }
        assert_eq!(caches.stats().retries, 0, "reset {reset}");
        // nix-cache-info, then each lookup: the reused connection fails, a new one answers.
        assert_eq!(
            server.connections.load(Ordering::SeqCst),
            4,
            "reset {reset}"
        );
        assert_eq!(server.heads().len(), 7, "reset {reset}");
        assert_eq!(caches.stats().requests, 7, "reset {reset}");
    }
}

/// ... but only once: when the new connection fails too, that is the attempt's error,
/// and the next attempt (after the backoff) starts on a new connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_is_sent_again_only_once() {
    let key = key("test-1", 1);
    let serve = cache_handler(1, &key, |_, text| answer("200 OK", "", text.as_bytes()));
    let answered = AtomicUsize::new(0);
    // Only the very first request (nix-cache-info) is answered; every later one has its
    // connection closed.
    let server = raw_server(Arc::new(move |_, head: &str| {
        (answered.fetch_add(1, Ordering::SeqCst) == 0).then(|| serve(target(head)))
    }))
    .await;
    let config = ClientConfig {
        max_attempts: 2,
        ..config(&[&key])
    };
    let caches = open(&server.url, config).await;
    let lookup = caches.lookup(&path(0)).await;
    assert!(lookup.hit.is_none());
    assert_eq!(lookup.errors.len(), 1, "{:?}", lookup.errors);
    assert!(
        lookup.errors[0].reason.contains("(after 2 attempts)"),
        "{:?}",
        lookup.errors
    );
    // Attempt 1: the idle connection, then once more on a new one; attempt 2: a new one.
    let narinfo_gets = server
        .heads()
        .iter()
        .filter(|h| h.contains(".narinfo"))
        .count();
    assert_eq!(narinfo_gets, 3, "{:#?}", server.heads());
    assert_eq!(server.connections.load(Ordering::SeqCst), 3);
    assert_eq!(caches.stats().requests, 4);
    assert_eq!(caches.stats().retries, 1);
}

/// A cache under a path (`http://host/some/cache`): the request target is that path
/// and the file's name, exactly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cache_under_a_path() {
    let key = key("test-1", 1);
    let serve = cache_handler(1, &key, |_, text| answer("200 OK", "", text.as_bytes()));
    let server = raw_server(Arc::new(move |_, head: &str| {
        Some(match target(head).strip_prefix("/some/cache/") {
            Some(name) if !name.contains('/') => serve(&format!("/{name}")),
            _ => answer("404 Not Found", "", b"elsewhere"),
        })
    }))
    .await;
    let caches = open(&format!("{}/some/cache", server.url), config(&[&key])).await;
    assert_eq!(
        caches.caches()[0].priority,
        40,
        "nix-cache-info was not read"
    );
    let lookup = caches.lookup(&path(0)).await;
    assert!(lookup.hit.is_some(), "{:?}", lookup.errors);
    let targets: Vec<String> = server
        .heads()
        .iter()
        .map(|h| target(h).to_owned())
        .collect();
    assert_eq!(
        targets,
        vec![
            "/some/cache/nix-cache-info".to_owned(),
            format!("/some/cache/{}.narinfo", hash(&path(0))),
        ]
    );
}

/// A cache that redirects every narinfo is left to reqwest after 16 hand-offs, so it
/// does not cost two requests a lookup for the whole run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cache_that_keeps_redirecting_is_left_to_reqwest() {
    let key = key("test-1", 1);
    let serve = cache_handler(40, &key, |name, _| {
        answer(
            "301 Moved Permanently",
            &format!("Location: /moved{name}\r\n"),
            b"",
        )
    });
    let server = with_moved(40, &key, serve).await;
    let caches = open(&server.url, config(&[&key])).await;
    for i in 0..40 {
        let lookup = caches.lookup(&path(i)).await;
        assert!(lookup.hit.is_some(), "path {i}: {:?}", lookup.errors);
    }
    let heads = server.heads();
    let lean = heads
        .iter()
        .filter(|h| h.contains(".narinfo") && !h.contains("accept-encoding"))
        .count();
    assert_eq!(lean, 16, "{heads:#?}");
    assert_eq!(heads.len(), 1 + 16 + 40 * 2, "{heads:#?}");
}

/// A redirect is followed (by `reqwest`, which this path hands it to), a chunked body is
/// read, and the lean request carries `Host` and `User-Agent` and asks for no encoding.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirected_and_chunked_answers() {
    let key = key("test-1", 1);
    let serve = cache_handler(2, &key, |name, text| {
        if name.starts_with(&format!("/{}", hash(&path(0)))) {
            chunked(text.as_bytes())
        } else {
            answer("302 Found", &format!("Location: /moved{name}\r\n"), b"")
        }
    });
    let server = with_moved(2, &key, serve).await;
    let caches = open(&server.url, config(&[&key])).await;
    let chunked_hit = caches.lookup(&path(0)).await;
    assert!(chunked_hit.hit.is_some(), "{:?}", chunked_hit.errors);
    let redirected = caches.lookup(&path(1)).await;
    assert!(redirected.hit.is_some(), "{:?}", redirected.errors);
    assert_eq!(caches.stats().retries, 0);
    let heads = server.heads();
    let port = server.url.rsplit_once(':').unwrap().1;
    let lean: Vec<&String> = heads
        .iter()
        .filter(|head| !head.contains("accept-encoding"))
        .collect();
    let through_reqwest: Vec<&str> = heads
        .iter()
        .filter(|head| head.contains("accept-encoding: gzip"))
        .map(|head| target(head))
        .collect();
    // nix-cache-info, the chunked record and the redirect went the lean way ...
    assert_eq!(lean.len(), 3, "{heads:#?}");
    for head in &lean {
        assert!(
            head.contains(&format!("\r\nhost: 127.0.0.1:{port}\r\n")),
            "{head}"
        );
        assert!(head.contains("\r\nuser-agent: crossplan/"), "{head}");
    }
    // ... and the redirected request was asked again through reqwest, which followed it.
    let name = format!("{}.narinfo", hash(&path(1)));
    assert_eq!(
        through_reqwest,
        vec![format!("/{name}"), format!("/moved/{name}")],
        "{heads:#?}"
    );
}

/// A body the server compressed without being asked is asked again through `reqwest`,
/// which decodes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compressed_answer_is_decoded() {
    let key = key("test-1", 1);
    let serve = cache_handler(1, &key, |_, text| {
        answer(
            "200 OK",
            "Content-Encoding: gzip\r\n",
            &gzip(text.as_bytes()),
        )
    });
    let server = raw_server(Arc::new(move |_, head: &str| Some(serve(target(head))))).await;
    let caches = open(&server.url, config(&[&key])).await;
    let lookup = caches.lookup(&path(0)).await;
    assert!(lookup.hit.is_some(), "{:?}", lookup.errors);
    let narinfo_gets = server
        .heads()
        .iter()
        .filter(|head| head.contains(".narinfo"))
        .count();
    assert_eq!(narinfo_gets, 2, "{:#?}", server.heads());
}

const PROXY_CHILD: &str = "LEAN_PROXY_CHILD";

/// With `http_proxy` set, every request goes through the proxy, as with Nix (curl): the
/// cache's host does not resolve, and only the proxy can answer. The environment is the
/// process's, so the client runs in a child (this test binary again).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_proxy_from_the_environment_is_used() {
    let key = key("test-1", 1);
    if std::env::var_os(PROXY_CHILD).is_some_and(|v| v == "dead") {
        // The proxy is down: the error blames the cache, so the hint names the proxy.
        let config = ClientConfig {
            max_attempts: 1,
            ..config(&[&key])
        };
        let error = Substituters::open(specs("http://cache.invalid"), config)
            .await
            .unwrap_err();
        println!("proxy-child hint={:?}", error.hint());
        return;
    }
    if std::env::var_os(PROXY_CHILD).is_some() {
        let caches = open("http://cache.invalid", config(&[&key])).await;
        let lookup = caches.lookup(&path(0)).await;
        println!(
            "proxy-child hit={} errors={:?}",
            lookup.hit.is_some(),
            lookup.errors
        );
        return;
    }
    let serve = cache_handler(1, &key, |_, text| answer("200 OK", "", text.as_bytes()));
    let proxy = raw_server(Arc::new(move |_, head: &str| {
        let target = target(head);
        Some(match target.strip_prefix("http://cache.invalid") {
            Some(rest) => serve(rest),
            None => answer("400 Bad Request", "", b"not through the proxy"),
        })
    }))
    .await;
    let child = |mode: &'static str, proxy_url: String| {
        tokio::task::spawn_blocking(move || {
            Command::new(std::env::current_exe().unwrap())
                .args([
                    "lean::http_proxy_from_the_environment_is_used",
                    "--exact",
                    "--nocapture",
                ])
                .env(PROXY_CHILD, mode)
                .env("http_proxy", proxy_url)
                .env_remove("HTTP_PROXY")
                .env_remove("all_proxy")
                .env_remove("ALL_PROXY")
                .env_remove("no_proxy")
                .env_remove("NO_PROXY")
                // Under CGI, reqwest leaves every proxy out.
                .env_remove("REQUEST_METHOD")
                .output()
                .unwrap()
        })
    };
    let output = child("1", proxy.url.clone()).await.unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("proxy-child hit=true errors=[]"),
        "child: {}\nstdout:\n{stdout}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let targets: Vec<String> = proxy.heads().iter().map(|h| target(h).to_owned()).collect();
    assert_eq!(
        targets,
        vec![
            "http://cache.invalid/nix-cache-info".to_owned(),
            format!("http://cache.invalid/{}.narinfo", hash(&path(0))),
        ]
    );
    let dead = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    let output = child("dead", dead).await.unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("proxy-child hint=Some(") && stdout.contains("the proxy in http_proxy"),
        "stdout:\n{stdout}\nstderr:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
