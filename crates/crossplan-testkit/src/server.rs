//! A loopback HTTP/1.1 server for binary-cache directories, with fault injection.
//!
//! It serves `nix-cache-info`, `*.narinfo` and `nar/…` from a directory on `127.0.0.1`, and
//! can add latency, answer 500, reset the connection or cut a body short at random (seeded),
//! or always fail chosen files. It speaks plain HTTP/1.1 with keep-alive, `Content-Length`
//! and `HEAD`, which is what Nix's curl client and reqwest need; the HTTP layer is written
//! by hand so that resets and truncated bodies can be produced on purpose.
//!
//! ```no_run
//! use crossplan_testkit::server::{CacheServer, FaultConfig};
//! let server = CacheServer::start("/tmp/cache".into(), FaultConfig::default())?;
//! println!("{}", server.url()); // http://127.0.0.1:PORT
//! # Ok::<(), std::io::Error>(())
//! ```

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};

/// Faults applied per request. Random choices are drawn from `seed` and the request's
/// sequence number, so a run with the same seed injects the same number of faults.
#[derive(Clone, Debug, Default)]
pub struct FaultConfig {
    /// Delay before every response (like a far-away cache).
    pub latency: Duration,
    /// Probability of answering `500 Internal Server Error`.
    pub error_rate: f64,
    /// Probability of resetting the connection (TCP RST) instead of answering.
    pub reset_rate: f64,
    /// Probability of sending the headers and only half of the body, then closing.
    pub truncate_rate: f64,
    /// Seed of the random choices.
    pub seed: u64,
    /// Files that always answer 500: a file name (`abc.narinfo`, `nix-cache-info`) or the
    /// part before the first dot (a hash part).
    pub always_fail: Vec<String>,
    /// Files that always answer with the given status (matched like `always_fail`).
    pub status_override: Vec<(String, u16)>,
    /// `Retry-After` seconds sent with 429 and 503 answers.
    pub retry_after: Option<u64>,
    /// Require HTTP Basic auth with this login and password (401 otherwise).
    pub basic_auth: Option<(String, String)>,
    /// Also speak HTTP/2 over cleartext (h2c with prior knowledge, as a client that
    /// opens with the HTTP/2 preface does), allowing this many concurrent streams per
    /// connection. `None`: HTTP/1.1 only.
    pub http2_streams: Option<u32>,
}

/// Largest request head we accept; Nix's and reqwest's are a few hundred bytes.
const MAX_HEAD: usize = 64 * 1024;

/// Listen backlog: the default 128 makes bursts of hundreds of connects wait for SYN
/// retransmits (1 s each); the kernel caps this at `net.core.somaxconn` anyway.
const BACKLOG: u32 = 4096;

/// Tokio worker threads of the server: the machines running tests have few cores, and the
/// server only copies small files.
const WORKER_THREADS: usize = 2;

/// A running server; stops on drop or [`CacheServer::shutdown`].
pub struct CacheServer {
    addr: SocketAddr,
    requests: Arc<AtomicU64>,
    load: Arc<Load>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

struct State {
    dir: PathBuf,
    faults: FaultConfig,
    requests: Arc<AtomicU64>,
    load: Arc<Load>,
}

/// Requests being answered now, and the most at any one time.
#[derive(Default)]
struct Load {
    now: AtomicU64,
    most: AtomicU64,
}

/// One request being answered; counted in [`Load`] until dropped.
struct Answering<'a>(&'a Load);

impl<'a> Answering<'a> {
    fn start(load: &'a Load) -> Self {
        let now = load.now.fetch_add(1, Ordering::Relaxed) + 1;
        load.most.fetch_max(now, Ordering::Relaxed);
        Self(load)
    }
}

impl Drop for Answering<'_> {
    fn drop(&mut self) {
        self.0.now.fetch_sub(1, Ordering::Relaxed);
    }
}

impl CacheServer {
    /// Serve `dir` on `127.0.0.1` at a free port.
    pub fn start(dir: PathBuf, faults: FaultConfig) -> io::Result<Self> {
        Self::start_on(dir, faults, SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
    }

    /// Serve `dir` on `addr`. The server runs on a thread and runtime of its own, so it
    /// works from synchronous and asynchronous tests alike.
    pub fn start_on(dir: PathBuf, faults: FaultConfig, addr: SocketAddr) -> io::Result<Self> {
        let requests = Arc::new(AtomicU64::new(0));
        let load = Arc::new(Load::default());
        let state = Arc::new(State {
            dir,
            faults,
            requests: requests.clone(),
            load: load.clone(),
        });
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<io::Result<SocketAddr>>();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("crossplan-cachesrv".to_owned())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(WORKER_THREADS)
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime,
                    Err(error) => {
                        let _ = ready_tx.send(Err(error));
                        return;
                    }
                };
                runtime.block_on(async move {
                    let listener = match bind(addr) {
                        Ok(listener) => listener,
                        Err(error) => {
                            let _ = ready_tx.send(Err(error));
                            return;
                        }
                    };
                    let _ = ready_tx.send(listener.local_addr());
                    tokio::select! {
                        () = accept_loop(listener, state) => {}
                        _ = stop_rx => {}
                    }
                });
                // Drop open connections without waiting for them.
                runtime.shutdown_background();
            })?;
        let addr = ready_rx
            .recv()
            .map_err(|_| io::Error::other("server thread exited before listening"))??;
        Ok(Self {
            addr,
            requests,
            load,
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash.
    #[must_use]
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The bound address.
    #[must_use]
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Requests received so far (every parsed request, faulty answers included).
    #[must_use]
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// The most requests that were being answered at one time (over all connections and
    /// HTTP/2 streams; the latency counts as answering).
    #[must_use]
    pub fn most_in_flight(&self) -> u64 {
        self.load.most.load(Ordering::Relaxed)
    }

    /// Stop serving and wait for the server thread.
    pub fn shutdown(mut self) {
        self.stop_now();
    }

    /// Serve until the process is killed.
    pub fn wait(mut self) {
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }

    fn stop_now(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for CacheServer {
    fn drop(&mut self) {
        self.stop_now();
    }
}

fn bind(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(BACKLOG)
}

async fn accept_loop(listener: TcpListener, state: Arc<State>) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                let _ = stream.set_nodelay(true);
                tokio::spawn(serve_connection(stream, state.clone()));
            }
            Err(_) => {
                // Out of file descriptors or similar: back off briefly instead of spinning.
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
}

/// What to do with one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fault {
    None,
    Status(u16),
    Reset,
    Truncate,
}

/// splitmix64: a tiny, good-enough mixer for seeded per-request draws.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A uniform draw in [0, 1) for request `n`, stream `k`.
fn draw(seed: u64, n: u64, k: u64) -> f64 {
    let z = mix(mix(seed ^ mix(n)) ^ k);
    // The top 53 bits fill an f64 mantissa exactly.
    (z >> 11) as f64 / (1_u64 << 53) as f64
}

fn matches_name(patterns: &[String], file: &str) -> bool {
    let stem = file.split('.').next().unwrap_or(file);
    patterns.iter().any(|p| p == file || p == stem)
}

fn choose_fault(faults: &FaultConfig, file: &str, n: u64) -> Fault {
    if matches_name(&faults.always_fail, file) {
        return Fault::Status(500);
    }
    if let Some((_, status)) = faults
        .status_override
        .iter()
        .find(|(p, _)| matches_name(std::slice::from_ref(p), file))
    {
        return Fault::Status(*status);
    }
    if draw(faults.seed, n, 1) < faults.error_rate {
        Fault::Status(500)
    } else if draw(faults.seed, n, 2) < faults.reset_rate {
        Fault::Reset
    } else if draw(faults.seed, n, 3) < faults.truncate_rate {
        Fault::Truncate
    } else {
        Fault::None
    }
}

struct Request {
    method: String,
    target: String,
    keep_alive: bool,
    authorization: Option<String>,
}

/// Parse a request head (without the final blank line). Returns the request and the
/// declared body length.
fn parse_head(head: &[u8]) -> Option<(Request, usize)> {
    let text = std::str::from_utf8(head).ok()?;
    let mut lines = text.split("\r\n");
    let mut parts = lines.next()?.split(' ');
    let method = parts.next()?.to_owned();
    let target = parts.next()?.to_owned();
    let version = parts.next().unwrap_or("HTTP/1.0");
    let mut keep_alive = version == "HTTP/1.1";
    let mut body_len = 0;
    let mut authorization = None;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            body_len = value.parse().ok()?;
        } else if name.eq_ignore_ascii_case("authorization") {
            authorization = Some(value.to_owned());
        } else if name.eq_ignore_ascii_case("connection") {
            if value.eq_ignore_ascii_case("close") {
                keep_alive = false;
            } else if value.eq_ignore_ascii_case("keep-alive") {
                keep_alive = true;
            }
        }
    }
    Some((
        Request {
            method,
            target,
            keep_alive,
            authorization,
        },
        body_len,
    ))
}

fn find_head_end(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n")
}

/// The start of the HTTP/2 connection preface (RFC 9113 §3.4); no HTTP/1.1 method starts
/// with it.
const PREFACE_START: &[u8] = b"PRI ";

async fn serve_connection(stream: TcpStream, state: Arc<State>) {
    if let Some(streams) = state.faults.http2_streams
        && opens_with_preface(&stream).await
    {
        serve_http2(stream, state, streams).await;
    } else {
        serve_http1(stream, state).await;
    }
}

/// Whether the client's first bytes are the HTTP/2 preface's (without consuming them).
async fn opens_with_preface(stream: &TcpStream) -> bool {
    let mut first = [0_u8; 4];
    for _ in 0..100 {
        match stream.peek(&mut first).await {
            Ok(0) | Err(_) => return false,
            Ok(n) if n >= PREFACE_START.len() => return first == PREFACE_START,
            Ok(n) if !PREFACE_START.starts_with(&first[..n]) => return false,
            // A partial preface: wait for the rest of it.
            Ok(_) => tokio::time::sleep(Duration::from_millis(1)).await,
        }
    }
    false
}

/// Serve one HTTP/2 connection: every stream is answered on a task of its own, like
/// HTTP/1.1 connections are, so the latency of one does not delay the others.
async fn serve_http2(stream: TcpStream, state: Arc<State>, streams: u32) {
    let Ok(mut connection) = h2::server::Builder::new()
        .max_concurrent_streams(streams)
        .handshake::<_, Bytes>(stream)
        .await
    else {
        return;
    };
    while let Some(accepted) = connection.accept().await {
        let Ok((request, respond)) = accepted else {
            return;
        };
        let n = state.requests.fetch_add(1, Ordering::Relaxed);
        tokio::spawn(serve_http2_stream(request, respond, state.clone(), n));
    }
}

async fn serve_http2_stream(
    request: http::Request<h2::RecvStream>,
    mut respond: h2::server::SendResponse<Bytes>,
    state: Arc<State>,
    n: u64,
) {
    let method = request.method().as_str().to_owned();
    let head_only = method == "HEAD";
    let authorization = request
        .headers()
        .get(http::header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let target = request
        .uri()
        .path_and_query()
        .map_or_else(|| "/".to_owned(), |p| p.as_str().to_owned());
    let reply = decide(&state, &method, &target, authorization.as_deref(), n).await;
    let (status, content_type, body, retry_after, truncate) = match reply {
        Reply::Reset => {
            respond.send_reset(h2::Reason::INTERNAL_ERROR);
            return;
        }
        Reply::Answer {
            status,
            content_type,
            body,
            retry_after,
        } => (status, content_type, body, retry_after, false),
        Reply::Truncate { content_type, body } => (200, content_type, body, None, true),
    };
    let mut response = http::Response::builder()
        .status(status)
        .header(http::header::CONTENT_TYPE, content_type)
        .header(http::header::CONTENT_LENGTH, body.len());
    if let Some(seconds) = retry_after {
        response = response.header(http::header::RETRY_AFTER, seconds);
    }
    let Ok(response) = response.body(()) else {
        respond.send_reset(h2::Reason::INTERNAL_ERROR);
        return;
    };
    let end_now = head_only || body.is_empty();
    let Ok(mut send) = respond.send_response(response, end_now) else {
        return;
    };
    if end_now {
        return;
    }
    if truncate {
        // Half the body, then the end of the stream, under the whole body's
        // Content-Length: the client sees the body end short (a reset right after
        // the data would drop the still queued headers and data with it).
        let half = body.len() / 2;
        let _ = send.send_data(Bytes::from(body).slice(..half), true);
    } else {
        let _ = send.send_data(Bytes::from(body), true);
    }
}

async fn serve_http1(mut stream: TcpStream, state: Arc<State>) {
    let mut buf: Vec<u8> = Vec::with_capacity(1024);
    loop {
        let head_end = loop {
            if let Some(end) = find_head_end(&buf) {
                break end;
            }
            if buf.len() > MAX_HEAD {
                let _ = respond(
                    &mut stream,
                    431,
                    "text/plain",
                    b"head too large",
                    false,
                    false,
                )
                .await;
                return;
            }
            match stream.read_buf(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        };
        let Some((request, body_len)) = parse_head(&buf[..head_end]) else {
            let _ = respond(&mut stream, 400, "text/plain", b"bad request", false, false).await;
            return;
        };
        // Skip a request body, which GET and HEAD do not have in practice.
        let total = head_end + 4 + body_len;
        while buf.len() < total {
            match stream.read_buf(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
        buf.drain(..total);

        let n = state.requests.fetch_add(1, Ordering::Relaxed);
        let keep_alive = request.keep_alive;
        if !handle(&mut stream, &state, &request, n).await || !keep_alive {
            let _ = stream.shutdown().await;
            return;
        }
    }
}

/// What the server does with one request, whatever the protocol.
#[derive(Debug, PartialEq, Eq)]
enum Reply {
    /// A complete answer.
    Answer {
        status: u16,
        content_type: &'static str,
        body: Vec<u8>,
        retry_after: Option<u64>,
    },
    /// Reset the connection (HTTP/1.1) or the stream (HTTP/2).
    Reset,
    /// Send the headers and half of the body, then close the connection (HTTP/1.1) or
    /// end the stream (HTTP/2), under the whole body's `Content-Length`.
    Truncate {
        content_type: &'static str,
        body: Vec<u8>,
    },
}

impl Reply {
    fn text(status: u16, body: &[u8]) -> Self {
        Self::Answer {
            status,
            content_type: "text/plain",
            body: body.to_vec(),
            retry_after: None,
        }
    }
}

/// Decide the reply to one request (after the configured latency).
async fn decide(
    state: &State,
    method: &str,
    target: &str,
    authorization: Option<&str>,
    n: u64,
) -> Reply {
    let path = target.split(['?', '#']).next().unwrap_or_default();
    let file = path.rsplit('/').next().unwrap_or_default();
    let faults = &state.faults;
    let _answering = Answering::start(&state.load);
    if !faults.latency.is_zero() {
        tokio::time::sleep(faults.latency).await;
    }
    if method != "GET" && method != "HEAD" {
        return Reply::text(405, b"method not allowed");
    }
    if let Some((login, password)) = &faults.basic_auth {
        let expected = format!(
            "Basic {}",
            base64_encode(format!("{login}:{password}").as_bytes())
        );
        if authorization != Some(expected.as_str()) {
            return Reply::text(401, b"unauthorized\n");
        }
    }
    match choose_fault(faults, file, n) {
        Fault::None => {}
        Fault::Status(status) => {
            return Reply::Answer {
                status,
                content_type: "text/plain",
                body: b"injected fault\n".to_vec(),
                retry_after: faults.retry_after.filter(|_| matches!(status, 429 | 503)),
            };
        }
        Fault::Reset => return Reply::Reset,
        Fault::Truncate => {
            if let Some((body, content_type)) = read_file(&state.dir, path) {
                return Reply::Truncate { content_type, body };
            }
        }
    }
    match read_file(&state.dir, path) {
        Some((body, content_type)) => Reply::Answer {
            status: 200,
            content_type,
            body,
            retry_after: None,
        },
        None => Reply::text(404, b"not found\n"),
    }
}

/// Answer one HTTP/1.1 request; false if the connection must be closed.
async fn handle(stream: &mut TcpStream, state: &State, request: &Request, n: u64) -> bool {
    let head_only = request.method == "HEAD";
    let reply = decide(
        state,
        &request.method,
        &request.target,
        request.authorization.as_deref(),
        n,
    )
    .await;
    match reply {
        Reply::Answer {
            status,
            content_type,
            body,
            retry_after,
        } => {
            respond_with(
                stream,
                status,
                content_type,
                &body,
                head_only,
                true,
                retry_after,
            )
            .await
        }
        Reply::Reset => {
            let _ = stream.set_zero_linger();
            false
        }
        Reply::Truncate { content_type, body } => {
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes()).await;
            if !head_only {
                let _ = stream.write_all(&body[..body.len() / 2]).await;
            }
            let _ = stream.flush().await;
            false
        }
    }
}

/// The file under `dir` for a request path, with its content type; `None` if absent or
/// outside `dir`.
fn read_file(dir: &Path, path: &str) -> Option<(Vec<u8>, &'static str)> {
    let relative = percent_decode(path.trim_start_matches('/'));
    let relative = Path::new(&relative);
    if relative
        .components()
        .any(|c| !matches!(c, Component::Normal(_)))
    {
        return None;
    }
    let full = dir.join(relative);
    // A plain read: cache files are small and in the page cache, and tokio::fs would hand
    // every read to a blocking thread, which costs more than the read itself.
    let body = std::fs::read(&full).ok()?;
    let name = relative.file_name()?.to_str()?;
    let content_type = if name == "nix-cache-info" {
        "text/x-nix-cache-info"
    } else if name.ends_with(".narinfo") {
        "text/x-nix-narinfo"
    } else {
        "application/octet-stream"
    };
    Some((body, content_type))
}

fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(byte) = bytes
                .get(i + 1..i + 3)
                .and_then(|hex| std::str::from_utf8(hex).ok())
                .and_then(|hex| u8::from_str_radix(hex, 16).ok())
        {
            out.push(byte);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

async fn respond(
    stream: &mut TcpStream,
    status: u16,
    content_type: &str,
    body: &[u8],
    head_only: bool,
    keep_alive: bool,
) -> bool {
    respond_with(
        stream,
        status,
        content_type,
        body,
        head_only,
        keep_alive,
        None,
    )
    .await
}

async fn respond_with(
    stream: &mut TcpStream,
    status: u16,
    content_type: &str,
    body: &[u8],
    head_only: bool,
    keep_alive: bool,
    retry_after: Option<u64>,
) -> bool {
    let mut out = format!(
        "HTTP/1.1 {status} {}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n",
        reason(status),
        body.len()
    );
    if let Some(seconds) = retry_after {
        out.push_str(&format!("Retry-After: {seconds}\r\n"));
    }
    if !keep_alive {
        out.push_str("Connection: close\r\n");
    }
    out.push_str("\r\n");
    let mut bytes = out.into_bytes();
    if !head_only {
        bytes.extend_from_slice(body);
    }
    stream.write_all(&bytes).await.is_ok() && keep_alive
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn fault_draws_follow_the_rates() {
        let faults = FaultConfig {
            error_rate: 0.1,
            reset_rate: 0.1,
            truncate_rate: 0.1,
            seed: 7,
            ..FaultConfig::default()
        };
        let mut counts = [0_u32; 4];
        for n in 0..10_000 {
            let index = match choose_fault(&faults, "x.narinfo", n) {
                Fault::None => 0,
                Fault::Status(_) => 1,
                Fault::Reset => 2,
                Fault::Truncate => 3,
            };
            counts[index] += 1;
        }
        // 10 %, then 10 % of the rest, then 10 % of the rest: 1000, 900, 810.
        assert!((900..1100).contains(&counts[1]), "{counts:?}");
        assert!((800..1000).contains(&counts[2]), "{counts:?}");
        assert!((700..920).contains(&counts[3]), "{counts:?}");
    }

    #[test]
    fn always_fail_matches_file_or_hash_part() {
        let faults = FaultConfig {
            always_fail: vec!["abc".to_owned(), "nix-cache-info".to_owned()],
            status_override: vec![("def.narinfo".to_owned(), 403)],
            ..FaultConfig::default()
        };
        assert_eq!(choose_fault(&faults, "abc.narinfo", 0), Fault::Status(500));
        assert_eq!(
            choose_fault(&faults, "nix-cache-info", 0),
            Fault::Status(500)
        );
        assert_eq!(choose_fault(&faults, "def.narinfo", 0), Fault::Status(403));
        assert_eq!(choose_fault(&faults, "abcd.narinfo", 0), Fault::None);
    }

    #[test]
    fn parses_heads() {
        let (request, len) =
            parse_head(b"GET /x.narinfo HTTP/1.1\r\nHost: a\r\nConnection: close").unwrap();
        assert_eq!(request.method, "GET");
        assert_eq!(request.target, "/x.narinfo");
        assert!(!request.keep_alive);
        assert_eq!(len, 0);
        let (request, _) = parse_head(b"HEAD / HTTP/1.0\r\nContent-Length: 0").unwrap();
        assert!(!request.keep_alive);
        assert!(parse_head(b"\xff").is_none());
    }

    #[tokio::test]
    async fn serves_get_head_404_and_keeps_alive() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("nix-cache-info"), "StoreDir: /nix/store\n").unwrap();
        std::fs::create_dir(dir.path().join("nar")).unwrap();
        std::fs::write(dir.path().join("nar/a.nar"), "NAR").unwrap();
        let server = CacheServer::start(dir.path().to_owned(), FaultConfig::default()).unwrap();
        let mut stream = TcpStream::connect(server.addr()).await.unwrap();
        stream
            .write_all(
                b"GET /nix-cache-info HTTP/1.1\r\nHost: x\r\n\r\nHEAD /nar/a.nar HTTP/1.1\r\nHost: x\r\n\r\n\
                  GET /missing.narinfo HTTP/1.1\r\nHost: x\r\n\r\nGET /../etc/passwd HTTP/1.1\r\nConnection: close\r\n\r\n",
            )
            .await
            .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).await.unwrap();
        assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
        assert!(response.contains("Content-Type: text/x-nix-cache-info\r\nContent-Length: 21\r\n\r\nStoreDir: /nix/store\n"));
        assert!(
            response.contains("Content-Length: 3\r\n\r\nHTTP/1.1 404"),
            "{response}"
        );
        assert_eq!(response.matches("HTTP/1.1 404").count(), 2, "{response}");
        assert!(!response.contains("NAR"));
        assert_eq!(server.requests(), 4);
        server.shutdown();
    }

    #[tokio::test]
    async fn injects_resets_and_truncation() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("f"), "0123456789").unwrap();
        let server = CacheServer::start(
            dir.path().to_owned(),
            FaultConfig {
                truncate_rate: 1.0,
                ..FaultConfig::default()
            },
        )
        .unwrap();
        let mut stream = TcpStream::connect(server.addr()).await.unwrap();
        stream.write_all(b"GET /f HTTP/1.1\r\n\r\n").await.unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).await.unwrap();
        assert!(
            response.ends_with("Content-Length: 10\r\n\r\n01234"),
            "{response}"
        );
        drop(server);

        let server = CacheServer::start(
            dir.path().to_owned(),
            FaultConfig {
                reset_rate: 1.0,
                ..FaultConfig::default()
            },
        )
        .unwrap();
        let mut stream = TcpStream::connect(server.addr()).await.unwrap();
        stream.write_all(b"GET /f HTTP/1.1\r\n\r\n").await.unwrap();
        let mut response = Vec::new();
        let result = stream.read_to_end(&mut response).await;
        assert!(result.is_err() || response.is_empty(), "{response:?}");
    }
}
