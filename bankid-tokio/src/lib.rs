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
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::Instant;

use bankid_core::{Config, Error, Event, Input, InvalidInput, Operation, Order, Output, RequestId, TransportError};
use tokio::sync::{Semaphore, SemaphorePermit};

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

/// An async BankID client over the transport `T`. Clones share the transport's connection pool
/// and its limit of [`Config::max_connections`] requests in flight (so at most that many
/// connections); requests beyond it wait their turn.
pub struct Client<T> {
    transport: T,
    config: Arc<Config>,
    connections: Arc<Semaphore>,
}

impl<T: Clone> Clone for Client<T> {
    fn clone(&self) -> Self {
        Self {
            transport: self.transport.clone(),
            config: Arc::clone(&self.config),
            connections: Arc::clone(&self.connections),
        }
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
        let connections = Arc::new(Semaphore::new(config.max_connections()));
        Ok(Self { transport: T::new(&config)?, config: Arc::new(config), connections })
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Sends any [`Operation`] and reads its answer; the methods below are this with
    /// PyBankID's names.
    ///
    /// # Errors
    /// Any [`Error`]: invalid input (nothing sent), BankID's error answers, unexpected
    /// responses, transport failures.
    pub async fn send<O: Operation>(&self, operation: &O) -> Result<O::Output, Error> {
        // Wait for a connection before the request is built: thousands of orders started at
        // once then queue as small futures, not as built requests.
        let _permit = self.connection().await;
        operation.read_response(self.transport_execute(operation.to_http(&self.config)?).await?)
    }

    /// Sends one HTTP request as it is and returns its response, whatever its status: for
    /// drivers of their own (an [`Output::Send`] of an [`Order`], say). Waits for a free
    /// connection first when [`Config::max_connections`] requests are in flight.
    ///
    /// # Errors
    /// The transport's failure.
    #[allow(clippy::manual_async_fn, reason = "an async fn would keep the request twice in its future")]
    pub fn execute(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> impl Future<Output = Result<http::Response<Vec<u8>>, TransportError>> + Send + '_ {
        async move {
            let _permit = self.connection().await;
            self.transport_execute(request).await
        }
    }

    /// The transport's exchange, on the heap: only the requests that hold a connection pay
    /// for its (large) future, not every order waiting for one.
    fn transport_execute(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Pin<Box<impl Future<Output = Result<http::Response<Vec<u8>>, TransportError>> + Send + '_>> {
        Box::pin(self.transport.execute(request))
    }

    /// A turn on one of the [`Config::max_connections`] connections.
    async fn connection(&self) -> Option<SemaphorePermit<'_>> {
        // The semaphore is never closed, so acquiring never fails; without a permit, go anyway.
        self.connections.acquire().await.ok()
    }

    bankid_core::client_methods!(async);

    /// Runs `order` to its end: collects it, waits between requests, and hands every event to
    /// `on_event`, the final one included, which is also returned ([`Event::is_final`]:
    /// completed, failed, cancelled or error). QR codes keep coming while a request is in
    /// flight: the driver waits for the response and the order's next timer together.
    ///
    /// When `on_event` returns [`ControlFlow::Break`], the order is cancelled at BankID and ends
    /// with [`Event::Cancelled`]. When the future is dropped before the end, the cancel request
    /// is spawned on the current tokio runtime.
    pub fn wait(&self, order: Order, on_event: impl FnMut(&Event) -> ControlFlow<()>) -> impl Future<Output = Event> {
        // Not an `async fn`: that would keep a second copy of `order` in its future.
        self.wait_until(order, std::future::pending(), on_event)
    }

    /// Like [`Client::wait`], and when `stop` resolves first the order is cancelled at BankID
    /// and ends with [`Event::Cancelled`].
    ///
    /// While all [`Config::max_connections`] connections are busy, a waiting order keeps its
    /// place in the queue for one and builds its request only once it has one
    /// ([`Order::poll_output_while_busy`]); its QR codes keep coming meanwhile.
    pub fn wait_until(
        &self,
        order: Order,
        stop: impl Future<Output = ()>,
        on_event: impl FnMut(&Event) -> ControlFlow<()>,
    ) -> impl Future<Output = Event> {
        // Not an `async fn`, and the order goes into `driving` out here: either way the future
        // would keep the order twice (an argument or capture, and the local it is moved into),
        // and every waiting order would pay for both.
        let mut driving = Driving { client: self, order };
        let mut on_event = on_event;
        async move {
            let order = &mut driving.order;
            let mut stop = std::pin::pin!(stop);
            let mut stopped = false;
            // A turn on a connection, taken once the order wants to send and before its
            // request is built; `acquire` keeps the order's place in the queue for one.
            let mut permit: Option<SemaphorePermit<'_>> = None;
            let mut acquire = None;
            // The request in flight: its id, whether it may be abandoned, its future and its turn.
            let mut in_flight: Option<(RequestId, bool, Pin<Box<_>>, Option<SemaphorePermit<'_>>)> = None;
            let mut timer = std::pin::pin!(tokio::time::sleep_until(tokio::time::Instant::now()));
            let end = loop {
                // Take what the order wants apart before waiting, so that no `Output` is held
                // across an await (it would make every waiting order's future larger); not even
                // in a local, whose storage would.
                let until = match poll(order, &self.config, permit.is_some()) {
                    Output::Event(event) if event.is_final() => {
                        let _ = on_event(&event);
                        break event;
                    }
                    Output::Event(event) => {
                        if on_event(&event).is_break() {
                            stopped = true;
                            order.cancel();
                        }
                        continue;
                    }
                    // A new request replaces (drops) one the order abandoned.
                    Output::Send { id, request, abandonable, .. } => {
                        in_flight = Some((id, abandonable, self.transport_execute(request), permit.take()));
                        continue;
                    }
                    Output::Wait(until) => until,
                    Output::Done => {
                        break Event::Error(
                            InvalidInput::new("order", "had ended before it was handed to wait").into(),
                        );
                    }
                };
                if !order.wants_to_send() {
                    (permit, acquire) = (None, None);
                } else if permit.is_none() && acquire.is_none() {
                    match self.connections.try_acquire() {
                        Ok(turn) => {
                            permit = Some(turn);
                            continue;
                        }
                        Err(_) => acquire = Some(Box::pin(self.connections.acquire())),
                    }
                }
                // Wait for the response in flight, a connection, the order's next timer or the
                // caller's stop, whichever comes first. One timer for the whole order, reset
                // each turn.
                timer.as_mut().reset(until.into());
                let woke = std::future::poll_fn(|cx| {
                    if let Some((id, _, future, _)) = in_flight.as_mut()
                        && let Poll::Ready(result) = future.as_mut().poll(cx)
                    {
                        return Poll::Ready(Wake::Result(*id, result));
                    }
                    if let Some(Poll::Ready(turn)) = acquire.as_mut().map(|acquire| acquire.as_mut().poll(cx)) {
                        // The semaphore is never closed, so acquiring never fails.
                        return Poll::Ready(Wake::Connection(turn.ok()));
                    }
                    if !stopped && stop.as_mut().poll(cx).is_ready() {
                        return Poll::Ready(Wake::Stop);
                    }
                    timer.as_mut().poll(cx).map(|()| Wake::Timer)
                })
                .await;
                match woke {
                    Wake::Result(id, result) => {
                        in_flight = None;
                        // An abandoned request's answer is refused as stale, which is right.
                        let _ = order.handle_input(Instant::now(), Input::from_result(id, result));
                    }
                    Wake::Connection(turn) => (permit, acquire) = (turn, None),
                    Wake::Stop => {
                        stopped = true;
                        order.cancel();
                        if in_flight.as_ref().is_some_and(|(_, abandonable, ..)| *abandonable) {
                            in_flight = None;
                        }
                    }
                    Wake::Timer => {}
                }
            };
            drop(driving);
            end
        }
    }
}

/// The order's next output: with a request built only when the driver `can_send`.
fn poll(order: &mut Order, config: &Config, can_send: bool) -> Output {
    let now = Instant::now();
    if can_send { order.poll_output(now, config) } else { order.poll_output_while_busy(now) }
}

/// What woke a waiting order.
enum Wake<'a, T> {
    /// The request in flight got its result.
    Result(RequestId, T),
    /// A connection is free for the order's request.
    Connection(Option<SemaphorePermit<'a>>),
    /// The caller's stop future resolved.
    Stop,
    /// The order's timer ran out.
    Timer,
}

/// An order being driven: dropped before its end (the caller dropped the future), it is
/// cancelled at BankID on the current tokio runtime.
struct Driving<'a, T: HttpTransport> {
    client: &'a Client<T>,
    order: Order,
}

impl<T: HttpTransport> Drop for Driving<'_, T> {
    fn drop(&mut self) {
        if !self.order.is_finished()
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            let (client, order_ref) = (self.client.clone(), self.order.order_ref().to_owned());
            runtime.spawn(async move { client.cancel(&order_ref).await.ok() });
        }
    }
}
