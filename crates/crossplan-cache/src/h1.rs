//! A lean HTTP/1.1 GET for plain `http://` caches: hyper's connection-level client
//! with a pool of our own, one per cache.
//!
//! A cold run sends tens of thousands of tiny GETs (a narinfo is ~1 KiB, a miss is
//! a 404), so what each request costs the client counts: through `reqwest` a request
//! also cloned the client and its connector, parsed its URL twice (into a `Url`, then
//! into an `http::Uri`), looked its pool up by a hashed key and armed a timer of its
//! own. Here a request takes an idle connection from a stack, writes a path known in
//! advance and reads the answer; everything else stays with `reqwest`, which this
//! path hands a request back to (the caller's [`Plain::get`] returns `None`): a
//! redirect, a compressed body, any proxy from the environment, TLS, HTTP/2.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt as _, Empty};
use hyper::client::conn::http1::SendRequest;
use hyper::header::{AUTHORIZATION, CONTENT_ENCODING, HOST, HeaderValue, RETRY_AFTER, USER_AGENT};
use hyper_util::rt::TokioIo;

/// What came back for one GET.
pub(crate) struct Reply {
    pub status: u16,
    pub retry_after: Option<HeaderValue>,
    /// The whole body, or why it could not be read; `Err(None)`: larger than the limit.
    pub body: Result<Vec<u8>, Option<String>>,
}

/// The environment variables through which `reqwest` (like curl, and so Nix) sends
/// `http://` requests through a proxy. With any of them set, this path stays unused.
const PROXY_VARIABLES: [&str; 4] = ["http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"];

/// Whether the environment asks for a proxy for `http://` URLs.
#[must_use]
pub(crate) fn proxy_configured() -> bool {
    PROXY_VARIABLES
        .iter()
        .any(|name| std::env::var_os(name).is_some_and(|value| !value.is_empty()))
}

/// Idle connections to one cache, last used first.
pub(crate) struct Plain {
    /// `host:port` to connect to.
    address: String,
    /// The `Host` header.
    host: HeaderValue,
    /// The base URL's path without its trailing `/`.
    prefix: String,
    user_agent: HeaderValue,
    /// Most idle connections kept.
    max_idle: usize,
    idle_timeout: Duration,
    idle: Mutex<Vec<(SendRequest<Empty<Bytes>>, Instant)>>,
}

impl Plain {
    /// For a parsed `http://` base URL without query, fragment or credentials; `None`
    /// for anything else (which `reqwest` serves).
    pub(crate) fn new(
        base: &url::Url,
        user_agent: &'static str,
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
        let host = base.host_str()?;
        let port = base.port_or_known_default()?;
        let host_header = match base.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_owned(),
        };
        Some(Self {
            address: format!("{host}:{port}"),
            host: HeaderValue::from_str(&host_header).ok()?,
            prefix: base.path().trim_end_matches('/').to_owned(),
            user_agent: HeaderValue::from_static(user_agent),
            max_idle,
            idle_timeout,
            idle: Mutex::new(Vec::new()),
        })
    }

    fn take_idle(&self) -> Option<SendRequest<Empty<Bytes>>> {
        let mut idle = self
            .idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        while let Some((sender, since)) = idle.pop() {
            if !sender.is_closed() && since.elapsed() < self.idle_timeout {
                return Some(sender);
            }
        }
        None
    }

    fn put_idle(&self, sender: SendRequest<Empty<Bytes>>) {
        if sender.is_closed() {
            return;
        }
        let mut idle = self
            .idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if idle.len() < self.max_idle {
            idle.push((sender, Instant::now()));
        }
    }

    async fn connect(&self) -> Result<SendRequest<Empty<Bytes>>, String> {
        let stream = tokio::net::TcpStream::connect(&self.address)
            .await
            .map_err(|error| {
                format!(
                    "error sending request: connecting to {}: {error}",
                    self.address
                )
            })?;
        // As reqwest was set up: requests are small and must not wait for Nagle.
        let _ = stream.set_nodelay(true);
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|error| describe(&error))?;
        tokio::spawn(async move {
            // Ends when the server closes the connection or every sender is dropped;
            // an error here is seen by the request that was using it.
            let _ = connection.await;
        });
        Ok(sender)
    }

    /// GET `<base>/<name>`, within `timeout` (connecting included). `Ok(None)`: an
    /// answer this path does not handle (a redirect, an encoded body), to be asked again
    /// through `reqwest`. A request on a reused connection that the server had closed
    /// meanwhile is sent again once on a new one, as `reqwest` does.
    pub(crate) async fn get(
        &self,
        name: &str,
        authorization: Option<&HeaderValue>,
        timeout: Duration,
        limit: usize,
    ) -> Result<Option<Reply>, String> {
        match tokio::time::timeout(timeout, self.get_untimed(name, authorization, limit)).await {
            Ok(result) => result,
            Err(_) => Err("timed out".to_owned()),
        }
    }

    async fn get_untimed(
        &self,
        name: &str,
        authorization: Option<&HeaderValue>,
        limit: usize,
    ) -> Result<Option<Reply>, String> {
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
                .header(USER_AGENT, self.user_agent.clone());
            if let Some(value) = authorization {
                request = request.header(AUTHORIZATION, value.clone());
            }
            let request = request
                .body(Empty::new())
                .map_err(|error| format!("invalid request for '{path}': {error}"))?;
            let response = match sender.send_request(request).await {
                Ok(response) => response,
                // The server closed an idle connection before our request was read.
                Err(error) if was_reused && stale(&error) => continue,
                Err(error) => return Err(describe(&error)),
            };
            let status = response.status().as_u16();
            if (300..400).contains(&status)
                || response
                    .headers()
                    .get(CONTENT_ENCODING)
                    .is_some_and(|value| value.as_bytes() != b"identity")
            {
                return Ok(None);
            }
            let retry_after = response.headers().get(RETRY_AFTER).cloned();
            let too_large = response
                .headers()
                .get(hyper::header::CONTENT_LENGTH)
                .and_then(|value| value.to_str().ok())
                .and_then(|value| value.parse::<u64>().ok())
                .is_some_and(|length| length > limit as u64);
            if too_large {
                return Ok(Some(Reply {
                    status,
                    retry_after,
                    body: Err(None),
                }));
            }
            let mut body = response.into_body();
            let mut bytes = Vec::new();
            let read = loop {
                match body.frame().await {
                    None => break Ok(bytes),
                    Some(Err(error)) => break Err(Some(describe(&error))),
                    Some(Ok(frame)) => {
                        if let Ok(data) = frame.into_data() {
                            if bytes.len() + data.len() > limit {
                                break Err(None);
                            }
                            bytes.extend_from_slice(&data);
                        }
                    }
                }
            };
            if read.is_ok() {
                // The whole answer was read: the connection can carry the next request.
                // hyper says it is ready again once it has seen the end of the message.
                if sender.ready().await.is_ok() {
                    self.put_idle(sender);
                }
            }
            return Ok(Some(Reply {
                status,
                retry_after,
                body: read,
            }));
        }
    }
}

/// An error meaning the request never reached a server that had closed the connection.
fn stale(error: &hyper::Error) -> bool {
    error.is_canceled() || error.is_incomplete_message() || error.is_closed()
}

/// A hyper error with its causes, worded as `reqwest`'s are.
fn describe(error: &hyper::Error) -> String {
    use std::error::Error as _;
    let mut text = format!("error sending request: {error}");
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}
