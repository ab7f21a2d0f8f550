//! An async client for the Swedish BankID Relying Party API v6, on [hyper] 1 and hyper-util.
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
//!   HTTP/1.1 only, `https` only, over hyper-util's pooling client and hyper-rustls.
//! - Never follows redirects and hands every response to the core whatever its status, reading
//!   at most [`bankid_core::MAX_RESPONSE_BODY`] bytes.
//! - Applies [`Config::request_timeout`] to each request as a whole (connect, send, receive),
//!   keeps connections alive (one TLS handshake for a whole order), ignores proxy environment
//!   variables (like the other two transports).
//! - Reports failures as [`bankid_core::TransportError`] with a kind (timeout, connect, TLS,
//!   I/O, body too large); no hyper type appears in this crate's API.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::error::Error as StdError;
use std::fmt;

use bankid_core::{Config, Error, MAX_RESPONSE_BODY, TransportError, TransportErrorKind};
use bankid_tokio::HttpTransport;
use bytes::Bytes;
use http_body_util::{BodyExt as _, Full, LengthLimitError, Limited};
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::{self, connect::HttpConnector};
use hyper_util::rt::TokioExecutor;

/// An async BankID client on hyper, with its own connection pool; clones share the pool. Its
/// methods (`authenticate`, `sign`, ..., `wait`, `wait_until`) are [`bankid_tokio::Client`]'s,
/// shared with `bankid-reqwest`.
pub type Client = bankid_tokio::Client<HyperTransport>;

/// The hyper side of [`Client`]: hyper-util's pooling client over hyper-rustls, HTTP/1.1,
/// `https` only, with [`Config::rustls_client_config`] and the request timeout around
/// connect, send and the whole body.
#[derive(Clone)]
pub struct HyperTransport {
    http: legacy::Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    timeout: std::time::Duration,
}

impl fmt::Debug for HyperTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HyperTransport").field("timeout", &self.timeout).finish_non_exhaustive()
    }
}

impl HttpTransport for HyperTransport {
    const NAME: &'static str = "hyper";

    fn new(config: &Config) -> Result<Self, Error> {
        let tls = rustls::ClientConfig::clone(&*config.rustls_client_config()?);
        let mut tcp = HttpConnector::new();
        tcp.enforce_http(false);
        tcp.set_nodelay(true);
        let https = HttpsConnectorBuilder::new().with_tls_config(tls).https_only().enable_http1().wrap_connector(tcp);
        let http =
            legacy::Client::builder(TokioExecutor::new()).pool_max_idle_per_host(config.max_connections()).build(https);
        Ok(Self { http, timeout: config.request_timeout() })
    }

    /// The only code that is hyper's: one request out, one response back, within the timeout.
    async fn execute(&self, request: http::Request<Vec<u8>>) -> Result<http::Response<Vec<u8>>, TransportError> {
        let exchange = async {
            let response = self.http.request(request.map(|body| Full::new(Bytes::from(body)))).await;
            let (parts, body) =
                response.map_err(|error| transport_error(error.is_connect(), error.into()))?.into_parts();
            let body =
                Limited::new(body, MAX_RESPONSE_BODY).collect().await.map_err(|error| transport_error(false, error))?;
            Ok(http::Response::from_parts(parts, Vec::from(body.to_bytes())))
        };
        tokio::time::timeout(self.timeout, exchange)
            .await
            .map_err(|elapsed| TransportError::new(TransportErrorKind::Timeout, elapsed))?
    }
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
