//! A lean HTTP/1.1 GET for plain `http://` caches: hyper's connection-level client
//! with a pool of our own, one per cache.
//!
//! A cold run sends tens of thousands of tiny GETs (a narinfo is ~1 KiB, a miss is
//! a 404), so what each request costs the client counts: through `reqwest` a request
//! also cloned the client and its connector, parsed its URL twice (into a `Url`, then
//! into an `http::Uri`), looked its pool up by a hashed key and armed a timer of its
//! own. Here a request takes an idle connection from a stack, writes a path known in
//! advance and reads the answer. Connections are made by hyper-util's connector, set
//! up as `reqwest` sets it up (both address families in turn, the second after 300 ms;
//! TCP keep-alive; no Nagle). Everything else stays with `reqwest`, which this path
//! hands a request back to ([`Plain::get`] returns `None`): a redirect, a compressed
//! body, any proxy from the environment, TLS, HTTP/2.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Empty};
use hyper::body::Incoming;
use hyper::client::conn::http1::SendRequest;
use hyper::header::{
    ACCEPT, AUTHORIZATION, CONTENT_ENCODING, CONTENT_LENGTH, HOST, HeaderValue, RETRY_AFTER,
    USER_AGENT,
};
use hyper_util::client::legacy::connect::HttpConnector;
use tokio::time::Instant;
use tower_service::Service as _;

/// What came back for one GET.
pub(crate) struct Reply {
    pub status: u16,
    pub retry_after: Option<HeaderValue>,
    /// A success's whole body, or why it could not be read; `Err(None)`: larger than the
    /// limit. Empty for any other status (its body is not used).
    pub body: Result<Vec<u8>, Option<String>>,
}

/// The environment variables through which `reqwest` (like curl, and so Nix) sends
/// `http://` requests through a proxy. With any of them set, this path stays unused
/// (also where `reqwest` would not use the proxy after all: `NO_PROXY`, CGI; that
/// costs speed, never an answer).
const PROXY_VARIABLES: [&str; 4] = ["http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"];

/// Whether the environment asks for a proxy for `http://` URLs.
#[must_use]
pub(crate) fn proxy_configured() -> bool {
    PROXY_VARIABLES
        .iter()
        .any(|name| std::env::var_os(name).is_some_and(|value| !value.is_empty()))
}

/// How long an answered connection may take to be ready for the next request before it
/// is dropped instead of kept (it is ready at once unless the server misbehaves).
const READY_WAIT: Duration = Duration::from_secs(1);

/// TCP keep-alive as `reqwest` sets it: a connection silently dropped by a middlebox is
/// found dead instead of holding a request until its timeout.
const KEEPALIVE: Duration = Duration::from_secs(15);
const KEEPALIVE_PROBES: u32 = 3;

/// Answers handed back to `reqwest` after which a cache is left to `reqwest` alone (and
/// its idle connections here are closed): a cache that redirects or compresses its
/// narinfos would otherwise cost two requests each, and keep idle connections in two
/// pools (the open-file budget of `fdlimit.rs` counts one).
const HANDOFF_LIMIT: usize = 16;

/// Idle connections to one cache, last used first.
pub(crate) struct Plain {
    /// `http://host:port`, for the connector.
    origin: hyper::Uri,
    /// The `Host` header.
    host: HeaderValue,
    /// The base URL's path without its trailing `/`.
    prefix: String,
    user_agent: HeaderValue,
    connector: HttpConnector,
    /// Most idle connections kept.
    max_idle: usize,
    idle_timeout: Duration,
    idle: Mutex<Vec<(SendRequest<Empty<Bytes>>, Instant)>>,
    handoffs: AtomicUsize,
    /// Set after [`HANDOFF_LIMIT`] hand-offs.
    off: AtomicBool,
}

impl Plain {
    /// For a parsed `http://` base URL without query, fragment or credentials; `None`
    /// for anything else (which `reqwest` serves). `connect_timeout` bounds each
    /// connection attempt (split among the addresses a name resolves to).
    pub(crate) fn new(
        base: &url::Url,
        user_agent: &'static str,
        connect_timeout: Duration,
        max_idle: usize,
        idle_timeout: Duration,
    ) -> Option<Self> {
        if base.scheme() != "http"
            || base.query().is_some()
            || base.fragment().is_some()
            || !base.username().is_empty()
            || base.password().is_some()
        {
            return None;
        }
        // IPv6 literals come bracketed and international names as punycode, as `Host`
        // and the connector want them; the default port is left out of `Host`.
        let host = base.host_str()?;
        let port = base.port_or_known_default()?;
        let host_header = match base.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_owned(),
        };
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(connect_timeout));
        connector.set_keepalive(Some(KEEPALIVE));
        connector.set_keepalive_interval(Some(KEEPALIVE));
        connector.set_keepalive_retries(Some(KEEPALIVE_PROBES));
        Some(Self {
            origin: format!("http://{host}:{port}").parse().ok()?,
            host: HeaderValue::from_str(&host_header).ok()?,
            prefix: base.path().trim_end_matches('/').to_owned(),
            user_agent: HeaderValue::from_static(user_agent),
            connector,
            max_idle,
            idle_timeout,
            idle: Mutex::new(Vec::new()),
            handoffs: AtomicUsize::new(0),
            off: AtomicBool::new(false),
        })
    }

    /// Whether requests to this cache still take this path.
    pub(crate) fn is_on(&self) -> bool {
        !self.off.load(Ordering::Relaxed)
    }

    /// Count a hand-off; at the limit, turn this path off and close the idle connections.
    fn handed_off(&self) {
        if self.handoffs.fetch_add(1, Ordering::Relaxed) + 1 >= HANDOFF_LIMIT {
            self.off.store(true, Ordering::Relaxed);
            self.lock_idle().clear();
            tracing::debug!(
                "{}: {HANDOFF_LIMIT} answers were redirects or encoded; asking through reqwest only",
                self.origin
            );
        }
    }

    fn lock_idle(&self) -> std::sync::MutexGuard<'_, Vec<(SendRequest<Empty<Bytes>>, Instant)>> {
        self.idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn take_idle(&self) -> Option<SendRequest<Empty<Bytes>>> {
        let mut idle = self.lock_idle();
        while let Some((sender, since)) = idle.pop() {
            if !sender.is_closed() && since.elapsed() < self.idle_timeout {
                return Some(sender);
            }
        }
        None
    }

    fn put_idle(&self, sender: SendRequest<Empty<Bytes>>) {
        if sender.is_closed() || !self.is_on() {
            return;
        }
        let mut idle = self.lock_idle();
        if idle.len() < self.max_idle {
            idle.push((sender, Instant::now()));
        }
    }

    async fn connect(&self) -> Result<SendRequest<Empty<Bytes>>, String> {
        let stream = self
            .connector
            .clone()
            .call(self.origin.clone())
            .await
            .map_err(|error| describe("error sending request", &error))?;
        let (sender, connection) = hyper::client::conn::http1::handshake(stream)
            .await
            .map_err(|error| describe("error sending request", &error))?;
        tokio::spawn(async move {
            // Ends when the server closes the connection or every sender is dropped;
            // an error here is seen by the request that was using it.
            let _ = connection.await;
        });
        Ok(sender)
    }

    /// GET `<base>/<name>`, done by `deadline` (connecting and the body included).
    /// `Ok(None)`: a success this path does not read (a redirect, an encoded body), to
    /// be asked again through `reqwest`. `sent` is called for every GET written: a
    /// request on a reused connection that the server had closed meanwhile (cleanly or
    /// with a reset) is sent again once, at once, on a new one, as `reqwest` does.
    pub(crate) async fn get(
        &self,
        name: &str,
        authorization: Option<&HeaderValue>,
        deadline: Instant,
        limit: usize,
        sent: impl Fn(),
    ) -> Result<Option<Reply>, String> {
        let timed_out = || "timed out".to_owned();
        let head = tokio::time::timeout_at(deadline, self.head(name, authorization, &sent));
        let (mut sender, response) = head.await.map_err(|_| timed_out())??;
        let status = response.status().as_u16();
        let success = (200..300).contains(&status);
        if (300..400).contains(&status)
            || (success
                && response
                    .headers()
                    .get(CONTENT_ENCODING)
                    .is_some_and(|value| value.as_bytes() != b"identity"))
        {
            self.handed_off();
            return Ok(None);
        }
        let retry_after = response.headers().get(RETRY_AFTER).cloned();
        let too_large = response
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.parse::<u64>().ok())
            .is_some_and(|length| length > limit as u64);
        let body = if too_large {
            Err(None)
        } else {
            let read = tokio::time::timeout_at(deadline, read_body(response.into_body(), limit));
            let body = read.await.unwrap_or_else(|_| Err(Some(timed_out())));
            if body.is_ok() {
                // The whole answer was read, so the connection can carry the next
                // request once hyper has seen the end of the message (at once, as a
                // rule); the answer is kept either way.
                if let Ok(Ok(())) = tokio::time::timeout(READY_WAIT, sender.ready()).await {
                    self.put_idle(sender);
                }
            }
            body
        };
        // Only a success's body is used; any other status stands however its body went.
        let body = if success { body } else { Ok(Vec::new()) };
        Ok(Some(Reply {
            status,
            retry_after,
            body,
        }))
    }

    /// Send the GET and wait for the response's head, on an idle connection or a new one.
    async fn head(
        &self,
        name: &str,
        authorization: Option<&HeaderValue>,
        sent: &impl Fn(),
    ) -> Result<(SendRequest<Empty<Bytes>>, hyper::Response<Incoming>), String> {
        let path = format!("{}/{name}", self.prefix);
        let mut reused = self.take_idle();
        loop {
            let was_reused = reused.is_some();
            let mut sender = match reused.take() {
                Some(sender) => sender,
                None => self.connect().await?,
            };
            let mut request = hyper::Request::get(path.as_str())
                .header(HOST, self.host.clone())
                .header(USER_AGENT, self.user_agent.clone())
                .header(ACCEPT, HeaderValue::from_static("*/*"));
            if let Some(value) = authorization {
                request = request.header(AUTHORIZATION, value.clone());
            }
            let request = request
                .body(Empty::new())
                .map_err(|error| format!("invalid request for '{path}': {error}"))?;
            sent();
            match sender.send_request(request).await {
                Ok(response) => return Ok((sender, response)),
                // No response head came: the server had closed the idle connection.
                Err(error) if was_reused && stale(&error) => {}
                Err(error) => return Err(describe("error sending request", &error)),
            }
        }
    }
}

/// Read a body of at most `limit` bytes; `Err(None)`: larger than that.
async fn read_body(mut body: Incoming, limit: usize) -> Result<Vec<u8>, Option<String>> {
    let mut bytes = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame =
            frame.map_err(|error| Some(describe("error decoding response body", &error)))?;
        if let Ok(data) = frame.into_data() {
            if bytes.len() + data.len() > limit {
                return Err(None);
            }
            bytes.extend_from_slice(&data);
        }
    }
    Ok(bytes)
}

/// An error, on a connection that had carried a request before, meaning that the server
/// had closed or reset it: no response head came, so the request is safe to send again.
fn stale(error: &hyper::Error) -> bool {
    use std::error::Error as _;
    if error.is_canceled() || error.is_incomplete_message() || error.is_closed() {
        return true;
    }
    let mut source = error.source();
    while let Some(cause) = source {
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            use std::io::ErrorKind::{BrokenPipe, ConnectionAborted, ConnectionReset};
            return matches!(io.kind(), ConnectionReset | BrokenPipe | ConnectionAborted);
        }
        source = cause.source();
    }
    false
}

/// `what: error: cause: …`, worded as `reqwest`'s errors are.
fn describe(what: &str, error: &(dyn std::error::Error + 'static)) -> String {
    crate::error::with_causes(format!("{what}: {error}"), error)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (origin, Host header, path prefix) for a base URL, as `Substituters::open`
    /// parses it (with a trailing `/`).
    fn parts(base: &str) -> Option<(String, String, String)> {
        let url = url::Url::parse(base).ok()?;
        let plain = Plain::new(&url, "t", Duration::from_secs(1), 1, Duration::from_secs(1))?;
        Some((
            plain.origin.to_string(),
            plain.host.to_str().ok()?.to_owned(),
            plain.prefix,
        ))
    }

    /// (origin, Host header, path prefix), or `None` for a base URL left to reqwest.
    type Want = Option<(&'static str, &'static str, &'static str)>;

    #[test]
    fn origin_host_and_prefix_of_base_urls() {
        let table: [(&str, Want); 8] = [
            ("http://h/", Some(("http://h:80/", "h", ""))),
            ("http://h:8080/", Some(("http://h:8080/", "h:8080", ""))),
            ("http://h:80/", Some(("http://h:80/", "h", ""))),
            (
                "http://[::1]:8080/x/y/",
                Some(("http://[::1]:8080/", "[::1]:8080", "/x/y")),
            ),
            (
                "http://Bücher.example/c/",
                Some((
                    "http://xn--bcher-kva.example:80/",
                    "xn--bcher-kva.example",
                    "/c",
                )),
            ),
            ("https://h/", None),
            ("http://h/?a=b", None),
            ("http://u:p@h/", None),
        ];
        for (base, want) in table {
            let got = parts(base);
            let want = want.map(|(o, h, p)| (o.to_owned(), h.to_owned(), p.to_owned()));
            assert_eq!(got, want, "{base}");
        }
    }
}
