//! The tokio driver shared by the async BankID transports.
//!
//! `bankid-reqwest` and `bankid-hyper` differ only in how one HTTP request goes out and its
//! response comes back. Everything above that - the API methods, the driver that runs an
//! [`Order`] to its end, cancelling at BankID when the caller stops or drops it - is written
//! once, here, as [`Client`] over an [`HttpTransport`]. Everything below the API - requests,
//! responses, timing, retries - is [`bankid_core`]'s.
//!
//! Use `bankid_reqwest::Client` or `bankid_hyper::Client` (aliases of [`Client`] with their
//! transport); implement [`HttpTransport`] to drive BankID with another async HTTP client.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::fmt;
use std::future::Future;
use std::ops::ControlFlow;
use std::sync::Arc;
use std::time::Instant;

use bankid_core::{
    Action, AuthRequest, CancelRequest, CollectRequest, CollectResponse, Config, Endpoint, Error, Event, Operation,
    Order, OrderResponse, OtherPaymentRequest, PaymentRequest, PhoneAuthRequest, PhoneOrderResponse, PhoneSignRequest,
    SignRequest, TransportError,
};

/// One async HTTP client, as the BankID driver needs it.
///
/// An implementation must trust only [`Config::roots`] and present [`Config::identity`]
/// ([`Config::rustls_client_config`] does both), never follow redirects, return every response
/// whatever its status, read at most [`bankid_core::MAX_RESPONSE_BODY`] bytes of a body and
/// apply [`Config::request_timeout`] to each request as a whole.
pub trait HttpTransport: Clone + Send + Sync + 'static {
    /// A short name for `Debug` output, e.g. `"reqwest"`.
    const NAME: &'static str;

    /// The transport for `config`.
    ///
    /// # Errors
    /// [`Error::Identity`] when the roots or the identity are unusable, [`Error::Transport`]
    /// when the HTTP client cannot be built.
    fn new(config: &Config) -> Result<Self, Error>;

    /// Sends one request and returns its response, whatever its status.
    fn execute(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> impl Future<Output = Result<http::Response<Vec<u8>>, TransportError>> + Send;
}

/// An async BankID client over the transport `T`. Clones share the transport's connection pool.
pub struct Client<T> {
    transport: T,
    config: Arc<Config>,
}

impl<T: Clone> Clone for Client<T> {
    fn clone(&self) -> Self {
        Self { transport: self.transport.clone(), config: Arc::clone(&self.config) }
    }
}

impl<T: HttpTransport> fmt::Debug for Client<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client").field("transport", &T::NAME).field("config", &self.config).finish()
    }
}

impl<T: HttpTransport> Client<T> {
    /// A client for `config`: its base URL, roots, identity and request timeout.
    ///
    /// # Errors
    /// [`Error::Identity`] when the roots or the identity are unusable, [`Error::Transport`]
    /// when the HTTP client cannot be built.
    pub fn new(config: Config) -> Result<Self, Error> {
        Ok(Self { transport: T::new(&config)?, config: Arc::new(config) })
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
                    result = self.transport.execute(request) => order.handle_result(Instant::now(), result),
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
        O::parse(self.transport.execute(operation.to_http(&self.config)?).await?)
    }
}

/// Cancels the order at BankID, on the current tokio runtime, when dropped armed.
struct CancelOnDrop<T: HttpTransport>(Option<(Client<T>, String)>);

impl<T: HttpTransport> Drop for CancelOnDrop<T> {
    fn drop(&mut self) {
        if let (Some((client, order_ref)), Ok(runtime)) = (self.0.take(), tokio::runtime::Handle::try_current()) {
            runtime.spawn(async move { client.cancel(&order_ref).await.ok() });
        }
    }
}
