//! An async client for the Swedish BankID Relying Party API v6, on [reqwest].
//!
//! This crate moves bytes and sleeps; everything else - building requests, reading responses,
//! when to collect, what to retry, the QR code, the user messages - is [`bankid_core`]'s. Its
//! siblings `bankid-blocking` (ureq) and `bankid-hyper` have the same API and pass the same
//! conformance suite. It needs a tokio runtime.
//!
//! ```toml
#![doc = concat!("bankid-reqwest = \"", env!("CARGO_PKG_VERSION"), "\"")]
//! ```
//!
//! # Quick start
//!
//! ```no_run
//! use std::ops::ControlFlow;
//! use std::time::Instant;
//! use bankid_core::{AuthRequest, Config, Event, Language, Order, StartMode};
//! use bankid_reqwest::Client;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! // BankID's test service with the public test identity; `Config::production(identity)` or
//! // `Config::custom(url, roots)` for the others.
//! let client = Client::new(Config::test())?;
//! let start = client.authenticate(&AuthRequest::new("192.0.2.10".parse()?)).await?;
//! let order = Order::new(&start, StartMode::Qr, Instant::now());
//! let end = client
//!     .wait(order, |event| {
//!         match event {
//!             Event::QrChanged(content) => println!("show this QR code: {content}"),
//!             Event::Progress { message, .. } => println!("{}", message.text(Language::En)),
//!             _ => {}
//!         }
//!         ControlFlow::Continue(()) // `ControlFlow::Break(())` cancels the order at BankID
//!     })
//!     .await;
//! match end {
//!     Event::Completed(data) => println!("hello {}", data.user.given_name),
//!     other => println!("no login: {other:?}"),
//! }
//! # Ok(()) }
//! ```
//!
//! # Stopping an order
//! Return [`ControlFlow::Break`](std::ops::ControlFlow::Break) from the callback, resolve the `stop` future of
//! [`Client::wait_until`] (a `tokio::sync::oneshot` receiver, a `watch` change, a
//! shutdown signal), or drop the future: in each case the order is cancelled at BankID. After
//! a drop, the cancel request is spawned on the current tokio runtime.
//!
//! # What the transport does
//! - Trusts only the configured roots (never webpki or system roots), speaks TLS 1.2 and 1.3
//!   with *ring* as the explicit crypto provider, and always presents the configured identity:
//!   the TLS configuration is [`Config::rustls_client_config`], shared with `bankid-hyper`.
//! - Never follows redirects and hands every response to the core whatever its status, reading
//!   at most [`bankid_core::MAX_RESPONSE_BODY`] bytes.
//! - Applies [`Config::request_timeout`] to each request as a whole (connect, send, receive),
//!   keeps connections alive (one TLS handshake for a whole order), ignores proxy environment
//!   variables (like the other two transports).
//! - Reports failures as [`bankid_core::TransportError`] with a kind (timeout, connect, TLS,
//!   I/O, body too large); no reqwest type appears in this crate's API.
//! - Opens at most [`Config::max_connections`] connections while they stay open. The client
//!   lets that many requests be in flight; reqwest's pool has no limit of its own, and hands a
//!   connection back to its pool on a task of its own, a moment after the response was read.
//!   So a request that finds no idle connection while others are in flight waits up to
//!   [`LATE_CONNECTION_GRACE`] for one to come back before it opens a new one, and its
//!   connect is dropped, unstarted, once the pool serves it.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use bankid_core::{Config, Endpoint, Error, MAX_RESPONSE_BODY, TransportError, TransportErrorKind};
use bankid_tokio::HttpTransport;

/// How long a request that finds no idle connection, while the transport's other requests
/// are in flight and it has opened [`Config::max_connections`] connections already, waits for
/// one of theirs to come back to reqwest's pool before it opens one more.
pub const LATE_CONNECTION_GRACE: Duration = Duration::from_millis(20);

tokio::task_local! {
    /// Set while a request of this transport is being sent: a connect polled without it was
    /// moved to a task of its own by reqwest's pool, because the pool served its request.
    static SENDING: ();
}

/// An async BankID client on reqwest, with its own connection pool; clones share the pool. Its
/// methods (`authenticate`, `sign`, ..., `wait`, `wait_until`) are [`bankid_tokio::Client`]'s,
/// shared with `bankid-hyper`.
pub type Client = bankid_tokio::Client<ReqwestTransport>;

/// The reqwest side of [`Client`]: a `reqwest::Client` with [`Config::rustls_client_config`],
/// no redirects, `https` only, no proxy and the request timeout.
#[derive(Clone, Debug)]
pub struct ReqwestTransport {
    http: reqwest::Client,
    /// Each endpoint's URL as reqwest wants it, parsed once: converting an `http::Uri` costs a
    /// whole URL parse (with IDNA) per request.
    urls: Arc<Vec<(http::Uri, reqwest::Url)>>,
    connections: Arc<Connections>,
}

/// What the transport knows of its connections: how many it has opened or is opening, and its
/// requests in flight. reqwest does not tell when a connection closes, so `opened` only grows.
#[derive(Debug)]
struct Connections {
    limit: usize,
    opened: AtomicUsize,
    in_flight: AtomicUsize,
}

/// A request in flight, counted in [`Connections::in_flight`] until it is dropped.
struct InFlight<'a>(&'a Connections);

impl<'a> InFlight<'a> {
    fn new(connections: &'a Connections) -> Self {
        connections.in_flight.fetch_add(1, Ordering::Relaxed);
        Self(connections)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

impl HttpTransport for ReqwestTransport {
    const NAME: &'static str = "reqwest";

    fn new(config: &Config) -> Result<Self, Error> {
        let connections = Arc::new(Connections {
            limit: config.max_connections(),
            opened: AtomicUsize::new(0),
            in_flight: AtomicUsize::new(0),
        });
        let tls = rustls::ClientConfig::clone(&*config.rustls_client_config()?);
        let http = reqwest::Client::builder()
            .use_preconfigured_tls(tls)
            .redirect(reqwest::redirect::Policy::none())
            .https_only(true)
            .no_proxy()
            .retry(reqwest::retry::never())
            .pool_max_idle_per_host(config.max_connections())
            .timeout(config.request_timeout())
            .connector_layer(LateConnect(Arc::clone(&connections)))
            .build()
            .map_err(transport_error)?;
        let urls = Endpoint::ALL
            .iter()
            .filter_map(|&endpoint| {
                let url = reqwest::Url::parse(&config.endpoint_url(endpoint)).ok()?;
                Some((config.endpoint_uri(endpoint), url))
            })
            .collect();
        Ok(Self { http, urls: Arc::new(urls), connections })
    }

    /// The only code that is reqwest's: one request out, one response back.
    async fn execute(&self, request: http::Request<Vec<u8>>) -> Result<http::Response<Vec<u8>>, TransportError> {
        // By path first: comparing whole URIs (scheme, authority without case) costs more.
        let path = request.uri().path();
        let known = self.urls.iter().find(|(uri, _)| uri.path() == path).filter(|(uri, _)| uri == request.uri());
        let request = match known {
            Some((_, url)) => {
                let (parts, body) = request.into_parts();
                let mut built = reqwest::Request::new(parts.method, url.clone());
                *built.headers_mut() = parts.headers;
                *built.body_mut() = Some(body.into());
                built
            }
            None => reqwest::Request::try_from(request).map_err(transport_error)?,
        };
        let _in_flight = InFlight::new(&self.connections);
        let mut response = SENDING.scope((), self.http.execute(request)).await.map_err(transport_error)?;
        let announced = response.content_length().and_then(|len| usize::try_from(len).ok()).unwrap_or(0);
        if announced > MAX_RESPONSE_BODY {
            return Err(TransportError::from_kind(TransportErrorKind::BodyTooLarge));
        }
        let mut body = Vec::with_capacity(announced);
        while let Some(chunk) = response.chunk().await.map_err(transport_error)? {
            if body.len() + chunk.len() > MAX_RESPONSE_BODY {
                return Err(TransportError::from_kind(TransportErrorKind::BodyTooLarge));
            }
            body.extend_from_slice(&chunk);
        }
        let mut out = http::Response::new(body);
        *out.status_mut() = response.status();
        *out.version_mut() = response.version();
        *out.headers_mut() = std::mem::take(response.headers_mut());
        Ok(out)
    }
}

fn transport_error(error: reqwest::Error) -> TransportError {
    let kind = match TransportErrorKind::from_error_chain(&error) {
        Some(TransportErrorKind::Tls) => TransportErrorKind::Tls,
        _ if error.is_timeout() => TransportErrorKind::Timeout,
        _ if error.is_connect() => TransportErrorKind::Connect,
        _ if error.is_builder() => TransportErrorKind::Other,
        kind => kind.unwrap_or(TransportErrorKind::Io),
    };
    TransportError::new(kind, error)
}

/// The connector layer that keeps reqwest's pool within [`Config::max_connections`]; see the
/// [crate docs](crate#what-the-transport-does).
#[derive(Clone)]
struct LateConnect(Arc<Connections>);

impl<S> tower_layer::Layer<S> for LateConnect {
    type Service = LateConnectService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        LateConnectService { inner, connections: Arc::clone(&self.0) }
    }
}

#[derive(Clone)]
struct LateConnectService<S> {
    inner: S,
    connections: Arc<Connections>,
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl<S, R> tower_service::Service<R> for LateConnectService<S>
where
    S: tower_service::Service<R, Error = BoxError>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, destination: R) -> Self::Future {
        let connections = Arc::clone(&self.connections);
        // A future does nothing until polled: this connect starts only if it is still needed.
        let connect = self.inner.call(destination);
        Box::pin(async move {
            let others_in_flight = connections.in_flight.load(Ordering::Relaxed) > 1;
            if others_in_flight && connections.opened.load(Ordering::Relaxed) >= connections.limit {
                let mut grace = std::pin::pin!(tokio::time::sleep(LATE_CONNECTION_GRACE));
                std::future::poll_fn(|cx| {
                    if SENDING.try_with(|()| ()).is_err() {
                        // The pool served the request with a connection that came back, and
                        // moved this connect to a task of its own: it is not needed.
                        return Poll::Ready(Err(BoxError::from("a pooled connection served the request")));
                    }
                    grace.as_mut().poll(cx).map(Ok)
                })
                .await?;
            }
            // Counted from the start, so that requests starting together see the others' connects.
            connections.opened.fetch_add(1, Ordering::Relaxed);
            connect.await.inspect_err(|_| {
                connections.opened.fetch_sub(1, Ordering::Relaxed);
            })
        })
    }
}
