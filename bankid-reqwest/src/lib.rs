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
//! Return [`ControlFlow::Break`] from the callback, resolve the `stop` future of
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
#![forbid(unsafe_code)]
#![deny(missing_docs)]

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

/// An async BankID client with its own connection pool. Clones share the pool.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    config: Arc<Config>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client").field("transport", &"reqwest").field("config", &self.config).finish()
    }
}

impl Client {
    /// A client for `config`: its base URL, roots, identity and request timeout.
    ///
    /// # Errors
    /// [`Error::Identity`] when the roots or the identity are unusable, [`Error::Transport`]
    /// when reqwest cannot build its client.
    pub fn new(config: Config) -> Result<Self, Error> {
        let tls = rustls::ClientConfig::clone(&*config.rustls_client_config()?);
        let http = reqwest::Client::builder()
            .use_preconfigured_tls(tls)
            .redirect(reqwest::redirect::Policy::none())
            .https_only(true)
            .no_proxy()
            .timeout(config.request_timeout())
            .build()
            .map_err(transport_error)?;
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

    /// The only code that is reqwest's: one request out, one response back.
    async fn execute(&self, request: http::Request<Vec<u8>>) -> Result<http::Response<Vec<u8>>, TransportError> {
        let request = reqwest::Request::try_from(request).map_err(transport_error)?;
        let mut response = self.http.execute(request).await.map_err(transport_error)?;
        let mut body = Vec::new();
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

/// Cancels the order at BankID, on the current tokio runtime, when dropped armed.
struct CancelOnDrop(Option<(Client, String)>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        if let (Some((client, order_ref)), Ok(runtime)) = (self.0.take(), tokio::runtime::Handle::try_current()) {
            runtime.spawn(async move { client.cancel(&order_ref).await.ok() });
        }
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
