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
//! Return [`ControlFlow::Break`] from the callback, resolve the `stop` future of
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
use std::future::Future;
use std::ops::ControlFlow;
use std::sync::Arc;
use std::time::Instant;

use bankid_core::{
    Action, AuthRequest, CancelRequest, CollectRequest, CollectResponse, Config, Endpoint, Error, Event,
    MAX_RESPONSE_BODY, Operation, Order, OrderResponse, OtherPaymentRequest, PaymentRequest, PhoneAuthRequest,
    PhoneOrderResponse, PhoneSignRequest, SignRequest, TransportError, TransportErrorKind,
};
use bytes::Bytes;
use http_body_util::{BodyExt as _, Full, LengthLimitError, Limited};
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::{self, connect::HttpConnector};
use hyper_util::rt::TokioExecutor;

type Http = legacy::Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

/// An async BankID client with its own connection pool. Clones share the pool.
#[derive(Clone)]
pub struct Client {
    http: Http,
    config: Arc<Config>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client").field("transport", &"hyper").field("config", &self.config).finish()
    }
}

impl Client {
    /// A client for `config`: its base URL, roots, identity and request timeout.
    ///
    /// # Errors
    /// [`Error::Identity`] when the roots or the identity are unusable.
    pub fn new(config: Config) -> Result<Self, Error> {
        let tls = rustls::ClientConfig::clone(&*config.rustls_client_config()?);
        let mut tcp = HttpConnector::new();
        tcp.enforce_http(false);
        tcp.set_nodelay(true);
        let https = HttpsConnectorBuilder::new().with_tls_config(tls).https_only().enable_http1().wrap_connector(tcp);
        let http = legacy::Client::builder(TokioExecutor::new()).build(https);
        Ok(Self { http, config: Arc::new(config) })
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Starts an identification order (`/auth`).
    ///
    /// # Errors
    /// Any [`Error`]: invalid input (nothing sent), BankID's error answers, unexpected
    /// responses, transport failures.
    pub async fn authenticate(&self, request: &AuthRequest) -> Result<OrderResponse, Error> {
        self.send(request).await
    }

    /// Starts a signing order (`/sign`).
    ///
    /// # Errors
    /// As [`Client::authenticate`].
    pub async fn sign(&self, request: &SignRequest) -> Result<OrderResponse, Error> {
        self.send(request).await
    }

    /// Starts a payment order (`/payment`).
    ///
    /// # Errors
    /// As [`Client::authenticate`].
    pub async fn payment(&self, request: &PaymentRequest) -> Result<OrderResponse, Error> {
        self.send(request).await
    }

    /// Starts an identification over the phone (`/phone/auth`).
    ///
    /// # Errors
    /// As [`Client::authenticate`].
    pub async fn phone_authenticate(&self, request: &PhoneAuthRequest) -> Result<PhoneOrderResponse, Error> {
        self.send(request).await
    }

    /// Starts a signing over the phone (`/phone/sign`).
    ///
    /// # Errors
    /// As [`Client::authenticate`].
    pub async fn phone_sign(&self, request: &PhoneSignRequest) -> Result<PhoneOrderResponse, Error> {
        self.send(request).await
    }

    /// Starts a payment the user approves on another device (`/other/payment`).
    ///
    /// # Errors
    /// As [`Client::authenticate`].
    pub async fn other_payment(&self, request: &OtherPaymentRequest) -> Result<PhoneOrderResponse, Error> {
        self.send(request).await
    }

    /// Collects an order once (`/collect`). [`Client::wait`] does this at the right pace.
    ///
    /// # Errors
    /// As [`Client::authenticate`].
    pub async fn collect(&self, order_ref: &str) -> Result<CollectResponse, Error> {
        self.send(&CollectRequest::new(order_ref)).await
    }

    /// Cancels an order (`/cancel`).
    ///
    /// # Errors
    /// As [`Client::authenticate`].
    pub async fn cancel(&self, order_ref: &str) -> Result<(), Error> {
        self.send(&CancelRequest::new(order_ref)).await.map(drop)
    }

    /// Runs `order` to its end: collects it, sleeps between requests, and hands every event to
    /// `on_event`, the final one included, which is also returned ([`Event::is_final`]:
    /// completed, failed, cancelled or error).
    ///
    /// When `on_event` returns [`ControlFlow::Break`], the order is cancelled at BankID and ends
    /// with [`Event::Cancelled`]. When the future is dropped before the end, the cancel request
    /// is spawned on the current tokio runtime.
    pub async fn wait(&self, order: Order, on_event: impl FnMut(&Event) -> ControlFlow<()>) -> Event {
        self.wait_until(order, std::future::pending(), on_event).await
    }

    /// Like [`Client::wait`], and when `stop` resolves first the order is cancelled at BankID
    /// and ends with [`Event::Cancelled`].
    pub async fn wait_until(
        &self,
        mut order: Order,
        stop: impl Future<Output = ()>,
        mut on_event: impl FnMut(&Event) -> ControlFlow<()>,
    ) -> Event {
        let mut guard = CancelOnDrop(Some((self.clone(), order.order_ref().to_owned())));
        let mut stop = std::pin::pin!(stop);
        let mut stopped = false;
        let end = loop {
            match order.drive(Instant::now(), &self.config) {
                Action::Event(event) => {
                    if on_event(&event).is_break() {
                        stopped = true;
                        order.cancel();
                    }
                }
                // A collect may be abandoned when the caller stops; a cancel is seen through.
                Action::Send { request, endpoint } => tokio::select! {
                    result = self.execute(request) => order.handle_result(Instant::now(), result),
                    () = &mut stop, if !stopped && endpoint == Endpoint::Collect => {
                        stopped = true;
                        order.cancel();
                    }
                },
                Action::Sleep(until) => tokio::select! {
                    () = tokio::time::sleep_until(until.into()) => {}
                    () = &mut stop, if !stopped => {
                        stopped = true;
                        order.cancel();
                    }
                },
                Action::Done(event) => {
                    let _ = on_event(&event);
                    break event;
                }
            }
        };
        guard.0 = None;
        end
    }

    async fn send<O: Operation>(&self, operation: &O) -> Result<O::Output, Error> {
        O::parse(self.execute(operation.to_http(&self.config)?).await?)
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
        tokio::time::timeout(self.config.request_timeout(), exchange)
            .await
            .map_err(|elapsed| TransportError::new(TransportErrorKind::Timeout, elapsed))?
    }
}

/// Cancels the order at BankID, on the current tokio runtime, when dropped armed.
struct CancelOnDrop(Option<(Client, String)>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        if let (Some((client, order_ref)), Ok(runtime)) = (self.0.take(), tokio::runtime::Handle::try_current()) {
            runtime.spawn(async move { client.cancel(&order_ref).await.ok() });
        }
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
