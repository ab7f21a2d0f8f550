//! An async client for the Swedish BankID Relying Party API v6, on [hyper] 1's connection API.
//!
//! This crate moves bytes and sleeps; everything else - building requests, reading responses,
//! when to collect, what to retry, the QR code, the user messages - is [`bankid_core`]'s. Its
//! siblings `bankid-blocking` (ureq) and `bankid-reqwest` have the same API and pass the same
//! conformance suite. It needs a tokio runtime.
//!
//! ```toml
#![doc = concat!("bankid-hyper = \"", env!("CARGO_PKG_VERSION"), "\"")]
//! ```
//!
//! # Quick start
//!
//! ```no_run
//! use std::ops::ControlFlow;
//! use std::time::Instant;
//! use bankid_core::{AuthRequest, Config, Event, Language, Order, StartMode};
//! use bankid_hyper::Client;
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
//!   the TLS configuration is [`Config::rustls_client_config`], shared with `bankid-reqwest`.
//!   HTTP/1.1 only, `https` only, straight over hyper's connection API and tokio-rustls: no
//!   client framework between the order and the socket.
//! - Keeps its own pool of at most [`Config::max_connections`] keep-alive connections: a
//!   request takes an idle connection or opens one, and gives it back when its response has
//!   been read. With the client's limit on requests in flight, no more connections than that
//!   are ever open. A connection the server closed while idle is replaced before the request is
//!   written.
//! - Never follows redirects and hands every response to the core whatever its status, reading
//!   at most [`bankid_core::MAX_RESPONSE_BODY`] bytes.
//! - Applies [`Config::request_timeout`] to each request as a whole (connect, send, receive),
//!   ignores proxy environment variables (like the other two transports).
//! - Reports failures as [`bankid_core::TransportError`] with a kind (timeout, connect, TLS,
//!   I/O, body too large); no hyper type appears in this crate's API.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::error::Error as StdError;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bankid_core::{Config, Endpoint, Error, MAX_RESPONSE_BODY, TransportError, TransportErrorKind};
use bankid_tokio::HttpTransport;
use bytes::Bytes;
use http::HeaderValue;
use http::header::HOST;
use http::uri::{Authority, PathAndQuery};
use http_body_util::{BodyExt as _, Full, LengthLimitError, Limited};
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

/// An async BankID client on hyper, with its own connection pool; clones share the pool. Its
/// methods (`authenticate`, `sign`, ..., `wait`, `wait_until`) are [`bankid_tokio::Client`]'s,
/// shared with `bankid-reqwest`.
pub type Client = bankid_tokio::Client<HyperTransport>;

/// The hyper side of [`Client`]: HTTP/1.1 connections over tokio-rustls with
/// [`Config::rustls_client_config`], pooled by this crate, with the request timeout around
/// connect, send and the whole body.
#[derive(Clone)]
pub struct HyperTransport {
    tls: TlsConnector,
    idle: Arc<Mutex<Vec<SendRequest<Full<Bytes>>>>>,
    max_idle: usize,
    timeout: Duration,
    /// The configured server's authority and its `Host` header, made once.
    host: Option<(Authority, HeaderValue)>,
}

impl fmt::Debug for HyperTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HyperTransport")
            .field("max_idle", &self.max_idle)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl HttpTransport for HyperTransport {
    const NAME: &'static str = "hyper";

    fn new(config: &Config) -> Result<Self, Error> {
        let uri = config.endpoint_uri(Endpoint::Collect);
        let host = uri
            .authority()
            .and_then(|authority| Some((authority.clone(), HeaderValue::from_str(authority.as_str()).ok()?)));
        Ok(Self {
            tls: TlsConnector::from(config.rustls_client_config()?),
            idle: Arc::default(),
            max_idle: config.max_connections(),
            timeout: config.request_timeout(),
            host,
        })
    }

    /// The only code that is hyper's: one request out, one response back, within the timeout.
    async fn execute(&self, request: http::Request<Vec<u8>>) -> Result<http::Response<Vec<u8>>, TransportError> {
        tokio::time::timeout(self.timeout, self.exchange(request))
            .await
            .map_err(|elapsed| TransportError::new(TransportErrorKind::Timeout, elapsed))?
    }
}

impl HyperTransport {
    async fn exchange(&self, request: http::Request<Vec<u8>>) -> Result<http::Response<Vec<u8>>, TransportError> {
        let (mut parts, body) = request.into_parts();
        let authority = parts.uri.authority().cloned().ok_or_else(|| other("the request has no host"))?;
        // Origin form on the wire, the host in its header.
        parts.uri = parts.uri.path_and_query().cloned().unwrap_or_else(|| PathAndQuery::from_static("/")).into();
        let host = match &self.host {
            Some((known, value)) if *known == authority => value.clone(),
            _ => authority.as_str().parse().map_err(other)?,
        };
        parts.headers.insert(HOST, host);
        let mut sender = self.connection(&authority).await?;
        let response = sender
            .send_request(http::Request::from_parts(parts, Full::new(Bytes::from(body))))
            .await
            .map_err(|error| transport_error(false, error.into()))?;
        let (parts, body) = response.into_parts();
        let body =
            Limited::new(body, MAX_RESPONSE_BODY).collect().await.map_err(|error| transport_error(false, error))?;
        self.give_back(sender);
        Ok(http::Response::from_parts(parts, Vec::from(body.to_bytes())))
    }

    /// An idle connection that is still open and ready, or a new one.
    async fn connection(&self, authority: &Authority) -> Result<SendRequest<Full<Bytes>>, TransportError> {
        loop {
            let idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner).pop();
            let Some(mut sender) = idle else { break };
            // A connection the server closed while it was idle fails here, before anything
            // of the request is written: take the next one.
            if !sender.is_closed() && sender.ready().await.is_ok() {
                return Ok(sender);
            }
        }
        // Boxed: connecting is rare and its future large (a TLS handshake); every request in
        // flight would carry its size otherwise.
        Box::pin(self.connect(authority)).await
    }

    async fn connect(&self, authority: &Authority) -> Result<SendRequest<Full<Bytes>>, TransportError> {
        let host = authority.host().trim_start_matches('[').trim_end_matches(']');
        let server_name = ServerName::try_from(host.to_owned()).map_err(|error| connect_error(error.into()))?;
        let tcp = TcpStream::connect((host, authority.port_u16().unwrap_or(443)))
            .await
            .map_err(|error| connect_error(error.into()))?;
        tcp.set_nodelay(true).map_err(|error| connect_error(error.into()))?;
        let tls = self.tls.connect(server_name, tcp).await.map_err(|error| connect_error(error.into()))?;
        let (sender, connection) =
            http1::handshake(TokioIo::new(tls)).await.map_err(|error| connect_error(error.into()))?;
        // The connection's I/O runs on its own task until the sender is dropped or it breaks.
        tokio::spawn(connection);
        Ok(sender)
    }

    /// Keeps a connection for the next request, up to the pool's size.
    fn give_back(&self, sender: SendRequest<Full<Bytes>>) {
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        if !sender.is_closed() && idle.len() < self.max_idle {
            idle.push(sender);
        }
    }
}

/// A failure before the request could be sent: a connect failure unless TLS says otherwise.
fn connect_error(error: Box<dyn StdError + Send + Sync>) -> TransportError {
    transport_error(true, error)
}

fn other(error: impl Into<Box<dyn StdError + Send + Sync>>) -> TransportError {
    TransportError::new(TransportErrorKind::Other, error)
}

fn transport_error(connect: bool, error: Box<dyn StdError + Send + Sync>) -> TransportError {
    let kind = match TransportErrorKind::from_error_chain(&*error) {
        _ if error.is::<LengthLimitError>() => TransportErrorKind::BodyTooLarge,
        Some(TransportErrorKind::Tls) => TransportErrorKind::Tls,
        _ if connect => TransportErrorKind::Connect,
        kind => kind.unwrap_or(TransportErrorKind::Io),
    };
    TransportError::new(kind, error)
}
