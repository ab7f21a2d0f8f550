//! The order state machine: when to collect, when the QR code changes, what to retry, when to
//! give up. It never reads the clock and never does I/O: time comes in as arguments, requests go
//! out as values, responses come back in.
//!
//! The lifecycle is drawn in the [crate docs](crate#the-order-lifecycle).
//!
//! The driver loop every transport runs:
//!
//! ```text
//! loop {
//!     while let Some(event) = order.poll_event() { /* show QR, progress, result */ }
//!     if order.is_finished() { break }
//!     if let Some(request) = order.poll_request(now) {
//!         match send(request.to_http(&config)?) {
//!             Ok(response) => order.handle_response(now, response),
//!             Err(transport_error) => order.handle_transport_error(now, transport_error),
//!         }
//!     } else if let Some(deadline) = order.poll_timeout() {
//!         sleep_until(deadline);
//!     }
//!     now = Instant::now();
//! }
//! ```

use std::collections::VecDeque;
use std::fmt;
use std::time::{Duration, Instant, SystemTime};

use serde::{Deserialize, Serialize};

use crate::codes::{DeviceKind, Endpoint, FailedHintCode, PendingHintCode, StartMode};
use crate::config::Config;
use crate::error::{Error, TransportError};
use crate::messages::Rfa;
use crate::qr::QrGenerator;
use crate::request::{CancelRequest, CollectRequest, Operation};
use crate::response::{CollectStatus, CompletionData, OrderResponse, PhoneOrderResponse};

/// Emits a `tracing` event with the `tracing` feature; nothing otherwise. Events carry the
/// order reference, endpoints, hint codes and outcomes only: never personal data.
macro_rules! trace_event {
    ($($arg:tt)*) => {
        #[cfg(feature = "tracing")]
        tracing::debug!(target: "bankid_core::order", $($arg)*);
    };
}

/// How an [`Order`] paces itself and when it gives up.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct OrderOptions {
    /// The device the user started from, for the user messages (RFA15A or RFA15B).
    pub device: DeviceKind,
    /// The time between two collects; BankID asks for 2 s. Never less than 1 s.
    pub collect_interval: Duration,
    /// The order is cancelled at BankID when it has not ended this long after it started.
    pub deadline: Duration,
    /// How many `maintenance` answers in a row are retried before the order fails.
    pub max_maintenance_retries: u32,
    /// How many transport failures of collect in a row are retried before the order fails.
    pub max_transport_retries: u32,
    /// The longest wait between two retries.
    pub max_backoff: Duration,
}

/// The shortest time between two collects of one order (spec §3.2).
pub const MIN_COLLECT_SPACING: Duration = Duration::from_secs(1);

impl Default for OrderOptions {
    fn default() -> Self {
        Self {
            device: DeviceKind::Computer,
            collect_interval: Duration::from_secs(2),
            deadline: Duration::from_secs(5 * 60),
            max_maintenance_retries: 5,
            max_transport_retries: 3,
            max_backoff: Duration::from_secs(30),
        }
    }
}

impl OrderOptions {
    /// Sets the user's device kind.
    #[must_use]
    pub fn device(mut self, device: DeviceKind) -> Self {
        self.device = device;
        self
    }

    /// Sets the overall deadline.
    #[must_use]
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = deadline;
        self
    }

    /// Sets the collect interval (at least 1 s).
    #[must_use]
    pub fn collect_interval(mut self, interval: Duration) -> Self {
        self.collect_interval = interval.max(MIN_COLLECT_SPACING);
        self
    }

    /// Sets how many `maintenance` answers in a row are retried.
    #[must_use]
    pub fn max_maintenance_retries(mut self, retries: u32) -> Self {
        self.max_maintenance_retries = retries;
        self
    }

    /// Sets how many transport failures of collect in a row are retried.
    #[must_use]
    pub fn max_transport_retries(mut self, retries: u32) -> Self {
        self.max_transport_retries = retries;
        self
    }
}

/// What a started order needs to be resumed, possibly in another process: serialise it into
/// the user's session and [`Order::resume`] it later.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct OrderStart {
    /// The order reference.
    pub order_ref: String,
    /// How the order was started.
    pub mode: StartMode,
    /// The autostart token (not for phone orders).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_start_token: Option<String>,
    /// The QR start token (not for phone orders).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qr_start_token: Option<String>,
    /// The QR start secret (not for phone orders). Keep it server-side.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qr_start_secret: Option<String>,
    /// When the start response arrived (wall clock).
    pub started_at: SystemTime,
}

impl fmt::Debug for OrderStart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OrderStart")
            .field("order_ref", &self.order_ref)
            .field("mode", &self.mode)
            .field("auto_start_token", &self.auto_start_token.as_ref().map(|_| "[redacted]"))
            .field("qr_start_token", &self.qr_start_token)
            .field("qr_start_secret", &self.qr_start_secret.as_ref().map(|_| "[redacted]"))
            .field("started_at", &self.started_at)
            .finish()
    }
}

/// Why an order was cancelled at BankID.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CancelReason {
    /// The caller called [`Order::cancel`].
    Caller,
    /// The order's deadline passed.
    Deadline,
}

/// What happened to an order; drain them with [`Order::poll_event`].
#[derive(Debug)]
#[non_exhaustive]
pub enum Event {
    /// Show this QR content now (QR mode, once a second while the app has not picked the
    /// order up).
    QrChanged(String),
    /// The pending hint code changed; show the message.
    Progress {
        /// What the user is doing.
        hint_code: PendingHintCode,
        /// The message to show.
        message: Rfa,
    },
    /// A request failed and will be sent again.
    Retrying {
        /// How many retries of this kind in a row, this one included.
        attempt: u32,
        /// When the request will be sent again.
        at: Instant,
        /// Why.
        error: Error,
    },
    /// The order completed: the final event.
    Completed(Box<CompletionData>),
    /// The order failed at BankID: the final event.
    Failed {
        /// Why it failed.
        hint_code: FailedHintCode,
        /// The message to show.
        message: Rfa,
    },
    /// The order was cancelled at BankID: the final event. `error` holds the cancel request's
    /// failure, if it failed.
    Cancelled {
        /// Why it was cancelled.
        reason: CancelReason,
        /// Why the cancel request itself failed, if it did.
        error: Option<Error>,
    },
    /// The order ended with an error that must not be retried: the final event.
    Error(Error),
}

impl Event {
    /// Whether this is the last event of the order.
    #[must_use]
    pub fn is_final(&self) -> bool {
        matches!(self, Self::Completed(_) | Self::Failed { .. } | Self::Cancelled { .. } | Self::Error(_))
    }
}

/// What a driver must do next; see [`Order::drive`].
#[derive(Debug)]
pub enum Action {
    /// Hand this event to the caller; the order goes on.
    Event(Event),
    /// Send this request and hand the result to [`Order::handle_result`].
    Send {
        /// The request.
        request: http::Request<Vec<u8>>,
        /// Its endpoint. A collect may be abandoned (after [`Order::cancel`]); a cancel may not.
        endpoint: Endpoint,
    },
    /// Nothing to do before this instant (or before the caller cancels).
    Sleep(Instant),
    /// The final event: the order is over. Later calls return
    /// [`Event::Error`] with [`Error::InvalidInput`] for the field `order`.
    Done(Event),
}

/// The next request an [`Order`] wants sent.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum OrderRequest {
    /// Collect the order.
    Collect(CollectRequest),
    /// Cancel the order.
    Cancel(CancelRequest),
}

impl OrderRequest {
    /// The endpoint.
    #[must_use]
    pub fn endpoint(&self) -> Endpoint {
        match self {
            Self::Collect(_) => Endpoint::Collect,
            Self::Cancel(_) => Endpoint::Cancel,
        }
    }

    /// Builds the HTTP request.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when the order reference is unusable.
    pub fn to_http(&self, config: &Config) -> Result<http::Request<Vec<u8>>, Error> {
        match self {
            Self::Collect(request) => request.to_http(config),
            Self::Cancel(request) => request.to_http(config),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Collecting,
    Cancelling(CancelReason),
    Finished,
}

/// A started order, driven to its end by a transport; see the [module docs](self).
pub struct Order {
    order_ref: String,
    mode: StartMode,
    auto_start_token: Option<String>,
    qr: Option<(QrGenerator, String)>,
    started: Instant,
    options: OrderOptions,
    phase: Phase,
    /// The endpoint and send time of the request awaiting its response.
    in_flight: Option<(Endpoint, Instant)>,
    last_collect_sent: Option<Instant>,
    next_collect: Instant,
    last_hint: Option<PendingHintCode>,
    last_qr_second: Option<u64>,
    maintenance_retries: u32,
    transport_retries: u32,
    latest_now: Instant,
    events: VecDeque<Event>,
}

impl Order {
    /// An auth, sign or payment order whose start `response` arrived at `now`, shown to the
    /// user as a QR code ([`StartMode::Qr`]) or launched with the autostart token
    /// ([`StartMode::AutoStart`]).
    #[must_use]
    pub fn new(response: &OrderResponse, mode: StartMode, now: Instant) -> Self {
        Self::with_options(response, mode, now, OrderOptions::default())
    }

    /// Like [`Order::new`], with options.
    #[must_use]
    pub fn with_options(response: &OrderResponse, mode: StartMode, now: Instant, options: OrderOptions) -> Self {
        let qr =
            (mode == StartMode::Qr).then_some((response.qr_start_token.as_str(), response.qr_start_secret.as_str()));
        Self::build(response.order_ref.clone(), mode, Some(response.auto_start_token.clone()), qr, now, now, options)
    }

    /// A phone/auth, phone/sign or other/payment order whose start `response` arrived at `now`.
    #[must_use]
    pub fn phone(response: &PhoneOrderResponse, now: Instant, options: OrderOptions) -> Self {
        Self::build(response.order_ref.clone(), StartMode::Phone, None, None, now, now, options)
    }

    /// Resumes an order from its [`OrderStart`]; `now` and `wall_now` are the same moment on
    /// the monotonic and the wall clock.
    #[must_use]
    pub fn resume(start: OrderStart, now: Instant, wall_now: SystemTime, options: OrderOptions) -> Self {
        let age = wall_now.duration_since(start.started_at).unwrap_or(Duration::ZERO);
        let started = now.checked_sub(age).unwrap_or(now);
        let qr = match (start.mode, &start.qr_start_token, &start.qr_start_secret) {
            (StartMode::Qr, Some(token), Some(secret)) => Some((token.as_str(), secret.as_str())),
            _ => None,
        };
        Self::build(start.order_ref.clone(), start.mode, start.auto_start_token.clone(), qr, started, now, options)
    }

    fn build(
        order_ref: String,
        mode: StartMode,
        auto_start_token: Option<String>,
        qr: Option<(&str, &str)>,
        started: Instant,
        now: Instant,
        mut options: OrderOptions,
    ) -> Self {
        let qr = qr.map(|(token, secret)| (QrGenerator::new(token, secret), secret.to_owned()));
        options.collect_interval = options.collect_interval.max(MIN_COLLECT_SPACING);
        let mut order = Self {
            order_ref,
            mode,
            auto_start_token,
            qr,
            started,
            options,
            phase: Phase::Collecting,
            in_flight: None,
            last_collect_sent: None,
            next_collect: now,
            last_hint: None,
            last_qr_second: None,
            maintenance_retries: 0,
            transport_retries: 0,
            latest_now: now,
            events: VecDeque::new(),
        };
        order.tick(now);
        order
    }

    /// The state to resume this order from elsewhere; `now` and `wall_now` are the same moment
    /// on the monotonic and the wall clock.
    #[must_use]
    pub fn start_state(&self, now: Instant, wall_now: SystemTime) -> OrderStart {
        let age = now.saturating_duration_since(self.started);
        OrderStart {
            order_ref: self.order_ref.clone(),
            mode: self.mode,
            auto_start_token: self.auto_start_token.clone(),
            qr_start_token: self.qr.as_ref().map(|(generator, _)| generator.token().to_owned()),
            qr_start_secret: self.qr.as_ref().map(|(_, secret)| secret.clone()),
            started_at: wall_now.checked_sub(age).unwrap_or(wall_now),
        }
    }

    /// The order reference.
    #[must_use]
    pub fn order_ref(&self) -> &str {
        &self.order_ref
    }

    /// How the order was started.
    #[must_use]
    pub fn mode(&self) -> StartMode {
        self.mode
    }

    /// The autostart token, for the launch URL (not for phone orders).
    #[must_use]
    pub fn auto_start_token(&self) -> Option<&str> {
        self.auto_start_token.as_deref()
    }

    /// The latest pending hint code.
    #[must_use]
    pub fn hint_code(&self) -> Option<&PendingHintCode> {
        self.last_hint.as_ref()
    }

    /// The QR content to show at `now`, or `None` when no QR code should be shown (not QR
    /// mode, the app has picked the order up, or the order ended).
    #[must_use]
    pub fn qr_content(&self, now: Instant) -> Option<String> {
        let (generator, _) = self.qr.as_ref().filter(|_| self.shows_qr())?;
        Some(generator.content_at(self.started, now))
    }

    /// Whether the order has ended; drain [`Order::poll_event`] before dropping it.
    #[must_use]
    pub fn is_finished(&self) -> bool {
        self.phase == Phase::Finished
    }

    /// The next event, if any.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// Cancels the order: the next [`Order::poll_request`] yields the cancel request, and the
    /// order ends with [`Event::Cancelled`] once its response (or failure) is handled. A
    /// collect still awaiting its response is abandoned; do not hand its response in.
    pub fn cancel(&mut self) {
        if self.phase == Phase::Collecting {
            self.phase = Phase::Cancelling(CancelReason::Caller);
            self.in_flight = None;
        }
    }

    /// The request to send now, if any. Call it whenever time has passed; it also advances the
    /// QR code and the deadline. At most one request is awaiting its response at a time.
    pub fn poll_request(&mut self, now: Instant) -> Option<OrderRequest> {
        self.tick(now);
        if self.in_flight.is_some() {
            return None;
        }
        match self.phase {
            Phase::Finished => None,
            Phase::Cancelling(_) => {
                trace_event!(order_ref = %self.order_ref, endpoint = "cancel", "sending");
                self.in_flight = Some((Endpoint::Cancel, now));
                Some(OrderRequest::Cancel(CancelRequest::new(self.order_ref.clone())))
            }
            Phase::Collecting if now >= self.next_collect => {
                trace_event!(order_ref = %self.order_ref, endpoint = "collect", "sending");
                self.in_flight = Some((Endpoint::Collect, now));
                self.last_collect_sent = Some(now);
                Some(OrderRequest::Collect(CollectRequest::new(self.order_ref.clone())))
            }
            Phase::Collecting => None,
        }
    }

    /// When [`Order::poll_request`] should be called next: the next collect, the next QR
    /// change or the deadline; never earlier than the latest `now` seen. `None` once finished,
    /// or while only the response to the cancel request in flight can move the order on.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        let next = match self.phase {
            Phase::Finished => return None,
            Phase::Cancelling(_) if self.in_flight.is_none() => self.latest_now,
            Phase::Cancelling(_) => return None,
            Phase::Collecting => {
                let mut next = self.started + self.options.deadline;
                if self.in_flight.is_none() {
                    next = next.min(self.next_collect);
                }
                if self.shows_qr() {
                    let second = self.latest_now.saturating_duration_since(self.started).as_secs() + 1;
                    next = next.min(self.started + Duration::from_secs(second));
                }
                next
            }
        };
        Some(next.max(self.latest_now))
    }

    /// Hands in the response to the request [`Order::poll_request`] returned last, whatever
    /// its status.
    pub fn handle_response<B: AsRef<[u8]>>(&mut self, now: Instant, response: http::Response<B>) {
        self.tick(now);
        match self.in_flight.take() {
            Some((Endpoint::Collect, sent)) => match CollectRequest::parse(response) {
                Ok(collect) => self.on_collect(sent, collect.status),
                Err(error) => self.on_collect_error(now, sent, error),
            },
            Some((_, _)) => {
                let error = CancelRequest::parse(response).err();
                self.finish_cancel(error);
            }
            None => {}
        }
    }

    /// One turn of a driver loop: the next event, request or sleep. This is the whole loop
    /// of a transport:
    ///
    /// ```
    /// # use std::time::Instant;
    /// # use bankid_core::{Config, Event, TransportError, order::{Action, Order}};
    /// # fn send(_: http::Request<Vec<u8>>) -> Result<http::Response<Vec<u8>>, TransportError> {
    /// #     Ok(http::Response::builder().status(200).header("content-type", "application/json")
    /// #         .body(br#"{"orderRef":"o","status":"failed","hintCode":"userCancel"}"#.to_vec()).unwrap())
    /// # }
    /// # let start = serde_json::from_str(r#"{"orderRef":"o","autoStartToken":"a","qrStartToken":"q","qrStartSecret":"s"}"#).unwrap();
    /// # let config = Config::test();
    /// let mut order = Order::new(&start, bankid_core::StartMode::Qr, Instant::now());
    /// let last = loop {
    ///     match order.drive(Instant::now(), &config) {
    ///         Action::Event(event) => println!("{event:?}"), // call order.cancel() to stop
    ///         Action::Send { request, .. } => order.handle_result(Instant::now(), send(request)),
    ///         Action::Sleep(until) => std::thread::sleep(until.saturating_duration_since(Instant::now())),
    ///         Action::Done(event) => break event,
    ///     }
    /// };
    /// assert!(matches!(last, Event::Failed { .. }));
    /// ```
    pub fn drive(&mut self, now: Instant, config: &Config) -> Action {
        // Advance time first, so that a QR change or the deadline due now is handed out now.
        self.tick(now);
        if let Some(event) = self.poll_event() {
            if event.is_final() {
                return Action::Done(event);
            }
            return Action::Event(event);
        }
        if let Some(request) = self.poll_request(now) {
            let endpoint = request.endpoint();
            match request.to_http(config) {
                Ok(request) => return Action::Send { request, endpoint },
                Err(error) => {
                    self.finish(Event::Error(error));
                    return self.drive(now, config);
                }
            }
        }
        match self.poll_timeout() {
            Some(until) => Action::Sleep(until),
            // Finished and drained: the final event was handed out already.
            None if self.is_finished() => Action::Done(Event::Error(
                crate::error::InvalidInput::new("order", "has already ended; its final event was returned").into(),
            )),
            // Only the response to the request in flight can move the order on; that request
            // was abandoned by the driver without handing in a result.
            None => {
                self.handle_transport_error(now, TransportError::from_kind(crate::TransportErrorKind::Other));
                self.drive(now, config)
            }
        }
    }

    /// Hands in the outcome of the request [`Order::poll_request`] (or [`Order::drive`])
    /// returned last: the response, whatever its status, or the transport's failure.
    pub fn handle_result<B: AsRef<[u8]>>(&mut self, now: Instant, result: Result<http::Response<B>, TransportError>) {
        match result {
            Ok(response) => self.handle_response(now, response),
            Err(error) => self.handle_transport_error(now, error),
        }
    }

    /// Hands in the failure of the request [`Order::poll_request`] returned last.
    pub fn handle_transport_error(&mut self, now: Instant, error: TransportError) {
        self.tick(now);
        match self.in_flight.take() {
            Some((Endpoint::Collect, sent)) => self.on_collect_error(now, sent, error.into()),
            Some((_, _)) => self.finish_cancel(Some(error.into())),
            None => {}
        }
    }

    fn on_collect(&mut self, sent: Instant, status: CollectStatus) {
        self.maintenance_retries = 0;
        self.transport_retries = 0;
        if self.phase != Phase::Collecting {
            return;
        }
        let hint_code = match status {
            CollectStatus::Pending { hint_code } => hint_code,
            CollectStatus::Unknown { status, hint_code } => PendingHintCode::Unknown(hint_code.unwrap_or(status)),
            CollectStatus::Failed { hint_code } => {
                let message = Rfa::for_failed(&hint_code, self.mode, self.options.device);
                return self.finish(Event::Failed { hint_code, message });
            }
            CollectStatus::Complete(data) => return self.finish(Event::Completed(data)),
        };
        if self.last_hint.as_ref() != Some(&hint_code) {
            trace_event!(order_ref = %self.order_ref, hint_code = %hint_code, "pending");
            let message = Rfa::for_pending(&hint_code, self.mode, self.options.device);
            self.last_hint = Some(hint_code.clone());
            self.events.push_back(Event::Progress { hint_code, message });
        }
        self.next_collect = sent + self.options.collect_interval;
    }

    fn on_collect_error(&mut self, now: Instant, sent: Instant, error: Error) {
        if self.phase != Phase::Collecting {
            return;
        }
        let (count, max) = match &error {
            Error::Transport(_) => (&mut self.transport_retries, self.options.max_transport_retries),
            _ => (&mut self.maintenance_retries, self.options.max_maintenance_retries),
        };
        if !error.is_retryable(Endpoint::Collect) || *count >= max {
            return self.finish(Event::Error(error));
        }
        *count += 1;
        let attempt = *count;
        trace_event!(order_ref = %self.order_ref, attempt, error = %error, "retrying collect");
        let backoff = self
            .options
            .collect_interval
            .saturating_mul(1 << (attempt - 1).min(16))
            .min(self.options.max_backoff.max(MIN_COLLECT_SPACING));
        let at = (now + backoff).max(sent + MIN_COLLECT_SPACING);
        self.next_collect = at;
        self.events.push_back(Event::Retrying { attempt, at, error });
    }

    fn finish_cancel(&mut self, error: Option<Error>) {
        let reason = match self.phase {
            Phase::Cancelling(reason) => reason,
            _ => CancelReason::Caller,
        };
        self.finish(Event::Cancelled { reason, error });
    }

    fn finish(&mut self, event: Event) {
        trace_event!(
            order_ref = %self.order_ref,
            outcome = match &event {
                Event::Completed(_) => "complete",
                Event::Failed { .. } => "failed",
                Event::Cancelled { .. } => "cancelled",
                _ => "error",
            },
            elapsed_ms = self.latest_now.saturating_duration_since(self.started).as_millis() as u64,
            "order finished"
        );
        self.phase = Phase::Finished;
        self.in_flight = None;
        self.events.push_back(event);
    }

    fn shows_qr(&self) -> bool {
        self.qr.is_some()
            && self.phase == Phase::Collecting
            && matches!(self.last_hint, None | Some(PendingHintCode::OutstandingTransaction))
    }

    /// Advances time: the deadline and the QR code.
    fn tick(&mut self, now: Instant) {
        self.latest_now = self.latest_now.max(now);
        let now = self.latest_now;
        if self.phase == Phase::Collecting && now >= self.started + self.options.deadline {
            self.phase = Phase::Cancelling(CancelReason::Deadline);
            self.in_flight = None;
        }
        if self.shows_qr() {
            let second = now.saturating_duration_since(self.started).as_secs();
            if self.last_qr_second != Some(second) {
                self.last_qr_second = Some(second);
                if let Some(content) = self.qr_content(now) {
                    self.events.push_back(Event::QrChanged(content));
                }
            }
        }
    }
}

impl fmt::Debug for Order {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Order")
            .field("order_ref", &self.order_ref)
            .field("mode", &self.mode)
            .field("phase", &self.phase)
            .field("hint_code", &self.last_hint)
            .field("in_flight", &self.in_flight.map(|(endpoint, _)| endpoint))
            .finish_non_exhaustive()
    }
}
