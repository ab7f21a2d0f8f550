//! The order state machine: when to collect, when the QR code changes, what to retry, when to
//! give up. It never reads the clock and never does I/O: time comes in as an argument, requests
//! go out as values, responses come back in, each tagged with the [`RequestId`] of the request
//! it answers.
//!
//! The lifecycle is drawn in the [crate docs](crate#the-order-lifecycle).
//!
//! # The driving contract
//!
//! An [`Order`] has one entry for what happens to it and one exit for what it wants, in the
//! style of quinn-proto and str0m:
//!
//! - [`Order::handle_input`] takes an [`Input`]: the response to a request, or the transport's
//!   failure to get one, tagged with the request's [`RequestId`]. An input for a request that is
//!   not awaited (answered already, abandoned by [`Order::cancel`] or by the deadline, or handed
//!   out by another order) is refused with an [`InputError`] and changes nothing.
//! - [`Order::poll_output`] returns the next [`Output`]: an [`Event`] to show, a request to
//!   [`Send`](Output::Send), the instant to [`Wait`](Output::Wait) until, or
//!   [`Done`](Output::Done) after the final event. Everything due at `now` comes out when the
//!   driver calls at `now`: each QR code at its own second, even while a request is in flight.
//!
//! A driver calls `poll_output` until it says `Wait` or `Done`, sends what it is asked to send,
//! and sleeps until the `Wait` instant **or** until a response arrives, whichever comes first:
//!
//! ```text
//! loop {
//!     match order.poll_output(now, &config) {
//!         Output::Event(event) => show(event),                        // call order.cancel() to stop
//!         Output::Send { id, request, .. } => start_sending(id, request), // its result comes back tagged with id
//!         Output::Wait(until) => {
//!             // sleep until `until` or until a response arrives, whichever is first:
//!             if let Some((id, result)) = next_result_before(until) {
//!                 order.handle_input(now(), Input::from_result(id, result))?;
//!             }
//!         }
//!         Output::Done => break,
//!     }
//!     now = Instant::now();
//! }
//! ```
//!
//! A driver that shares a few connections among many orders (bankid-tokio's client) builds a
//! request only once it has a connection for it: without one it calls
//! [`Order::poll_output_while_busy`], which hands out events and QR codes but never a request,
//! and when [`Order::wants_to_send`] says so, it waits for a connection and the `Wait` instant
//! together. Thousands of orders queued for a connection then hold no request each.
//!
//! At most one request is in flight at a time. A collect in flight may be abandoned
//! (`abandonable: true`): after [`Order::cancel`] or the deadline the order sends its cancel
//! request without waiting for it. A cancel is never abandoned. A request whose result has not
//! been handed in within the configured request timeout plus [`RESPONSE_GRACE`] counts as timed
//! out, so a driver that loses a request does not stall the order.
//!
//! # Rules the order keeps
//! - Collect every [`OrderOptions::collect_interval`] (2 s), never twice within 1 s, never
//!   after `complete` or `failed`, never after the order ended.
//! - A new QR code every whole second since the start response arrived, while the order is
//!   `outstandingTransaction` in QR mode.
//! - `maintenance` is retried with bounded exponential backoff, a transport failure of collect
//!   (a read) a bounded number of times; `internalError`, `requestTimeout`, every 4xx, an
//!   unexpected response and a body over the size cap are not retried.
//! - A collect answer that names another order is an error ([`UnexpectedKind::ForeignOrder`]),
//!   never an event about that other order.
//! - The deadline ([`OrderOptions::deadline`]) cancels the order at BankID.
//!
//! [`UnexpectedKind::ForeignOrder`]: crate::UnexpectedKind::ForeignOrder

use std::collections::VecDeque;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use serde::{Deserialize, Serialize};

use crate::codes::{DeviceKind, Endpoint, FailedHintCode, PendingHintCode, StartMode};
use crate::config::Config;
use crate::error::{Error, TransportError, TransportErrorKind};
use crate::messages::Rfa;
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

/// How long past the configured request timeout an [`Order`] waits for the result of a request
/// before it counts the request as timed out.
pub const RESPONSE_GRACE: Duration = Duration::from_secs(1);

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

/// What a started order needs to be resumed, possibly in another process or on another server
/// instance: keep it server-side (or sealed) in the user's session and [`Order::resume`] it
/// later. It holds the QR secret: never send it to a browser in clear.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct OrderState {
    /// The order reference.
    pub order_ref: String,
    /// How the order was started.
    pub mode: StartMode,
    /// The autostart token (not for phone orders).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_start_token: Option<String>,
    /// The QR start token (QR mode only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qr_start_token: Option<String>,
    /// The QR start secret (QR mode only). Keep it server-side.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qr_start_secret: Option<String>,
    /// When the start response arrived (wall clock).
    pub started_at: SystemTime,
    /// When the latest collect was sent (wall clock), if one was: a resumed order keeps the
    /// collect cadence across processes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_collect_at: Option<SystemTime>,
    /// The latest pending hint code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint_code: Option<PendingHintCode>,
    /// How many `maintenance` answers in a row have been retried: the bound on retries holds
    /// across resumes too.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub maintenance_retries: u32,
    /// How many transport failures of collect in a row have been retried.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub transport_retries: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl OrderState {
    /// The state of an auth, sign or payment order whose start `response` arrived at `wall_now`.
    #[must_use]
    pub fn new(response: &OrderResponse, mode: StartMode, wall_now: SystemTime) -> Self {
        let qr = mode == StartMode::Qr;
        Self {
            order_ref: response.order_ref.clone(),
            mode,
            auto_start_token: Some(response.auto_start_token.clone()),
            qr_start_token: qr.then(|| response.qr_start_token.clone()),
            qr_start_secret: qr.then(|| response.qr_start_secret.clone()),
            started_at: wall_now,
            last_collect_at: None,
            hint_code: None,
            maintenance_retries: 0,
            transport_retries: 0,
        }
    }
}

impl fmt::Debug for OrderState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OrderState")
            .field("order_ref", &self.order_ref)
            .field("mode", &self.mode)
            .field("auto_start_token", &self.auto_start_token.as_ref().map(|_| "[redacted]"))
            .field("qr_start_token", &self.qr_start_token)
            .field("qr_start_secret", &self.qr_start_secret.as_ref().map(|_| "[redacted]"))
            .field("started_at", &self.started_at)
            .field("last_collect_at", &self.last_collect_at)
            .field("hint_code", &self.hint_code)
            .field("maintenance_retries", &self.maintenance_retries)
            .field("transport_retries", &self.transport_retries)
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

/// What happened to an order; [`Order::poll_output`] hands them out.
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

/// Names one request an [`Order`] handed out, so that its result finds its way back; see
/// [`Input`]. Unique across every order of the process.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct RequestId {
    order: u64,
    seq: u64,
}

impl fmt::Debug for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RequestId({}.{})", self.order, self.seq)
    }
}

/// What a driver hands in to [`Order::handle_input`].
#[derive(Debug)]
pub enum Input {
    /// The response to request `id`, whatever its status (its body capped at
    /// [`MAX_RESPONSE_BODY`](crate::MAX_RESPONSE_BODY) bytes by the transport).
    Response(RequestId, http::Response<Vec<u8>>),
    /// Request `id` got no response: the transport failed.
    Failure(RequestId, TransportError),
}

impl Input {
    /// The input for the result of request `id`.
    #[must_use]
    pub fn from_result(id: RequestId, result: Result<http::Response<Vec<u8>>, TransportError>) -> Self {
        match result {
            Ok(response) => Self::Response(id, response),
            Err(error) => Self::Failure(id, error),
        }
    }

    /// The request this input answers.
    #[must_use]
    pub fn id(&self) -> RequestId {
        match self {
            Self::Response(id, _) | Self::Failure(id, _) => *id,
        }
    }
}

/// Why [`Order::handle_input`] refused an input. The order is unchanged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InputError {
    /// The input answers a request another order handed out.
    #[error("{0:?} was handed out by another order")]
    Foreign(RequestId),
    /// The input answers a request of this order that is no longer awaited: answered already,
    /// abandoned (after a cancel or the deadline), timed out, or the order has ended.
    #[error("{0:?} is no longer awaited by this order")]
    Stale(RequestId),
}

/// What an [`Order`] wants next; see the [module docs](self).
#[derive(Debug)]
pub enum Output {
    /// Hand this event to the caller. When it [is final](Event::is_final), the next output is
    /// [`Output::Done`].
    Event(Event),
    /// Send this request and hand its result to [`Order::handle_input`] tagged with `id`.
    Send {
        /// The request's id.
        id: RequestId,
        /// The request.
        request: http::Request<Vec<u8>>,
        /// Its endpoint.
        endpoint: Endpoint,
        /// Whether the driver may drop the request unanswered when the caller stops the order
        /// (a collect), or must see it through (a cancel).
        abandonable: bool,
    },
    /// Nothing is due before this instant. Call [`Order::poll_output`] again then, or earlier
    /// when a response arrives (hand it in first).
    Wait(Instant),
    /// The order has ended and its final event was handed out.
    Done,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Collecting,
    Cancelling(CancelReason),
    Finished,
}

#[derive(Clone, Copy, Debug)]
struct InFlight {
    id: RequestId,
    endpoint: Endpoint,
    sent: Instant,
    expires: Instant,
}

/// A started order, driven to its end by a transport; see the [module docs](self).
pub struct Order {
    order_ref: String,
    tag: u64,
    next_seq: u64,
    mode: StartMode,
    auto_start_token: Option<String>,
    /// The QR start token and secret (QR mode only). The HMAC key schedule is not kept: it is
    /// larger than both, and each QR content is made once a second at most.
    qr: Option<(String, String)>,
    started: Instant,
    options: OrderOptions,
    phase: Phase,
    in_flight: Option<InFlight>,
    last_collect_sent: Option<Instant>,
    next_collect: Instant,
    last_hint: Option<PendingHintCode>,
    last_qr_second: Option<u64>,
    maintenance_retries: u32,
    transport_retries: u32,
    latest_now: Instant,
    events: VecDeque<Event>,
}

/// Tells orders apart, so that a result handed to the wrong order is refused.
static NEXT_ORDER_TAG: AtomicU64 = AtomicU64::new(1);

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

    /// Resumes an order from its [`OrderState`]; `now` and `wall_now` are the same moment on
    /// the monotonic and the wall clock. The collect cadence carries over: the next collect is
    /// due one interval after `last_collect_at`, and never within 1 s of it.
    #[must_use]
    pub fn resume(state: OrderState, now: Instant, wall_now: SystemTime, options: OrderOptions) -> Self {
        let to_instant = |at: SystemTime| now.checked_sub(wall_now.duration_since(at).unwrap_or(Duration::ZERO));
        let started = to_instant(state.started_at).unwrap_or(now);
        let qr = match (state.mode, &state.qr_start_token, &state.qr_start_secret) {
            (StartMode::Qr, Some(token), Some(secret)) => Some((token.as_str(), secret.as_str())),
            _ => None,
        };
        let mut order =
            Self::build(state.order_ref.clone(), state.mode, state.auto_start_token.clone(), qr, started, now, options);
        if let Some(sent) = state.last_collect_at.map(|at| to_instant(at).unwrap_or(now)) {
            order.last_collect_sent = Some(sent);
            order.next_collect = sent + order.options.collect_interval;
        }
        order.last_hint = state.hint_code;
        order.maintenance_retries = state.maintenance_retries;
        order.transport_retries = state.transport_retries;
        order
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
        let qr = qr.map(|(token, secret)| (token.to_owned(), secret.to_owned()));
        options.collect_interval = options.collect_interval.max(MIN_COLLECT_SPACING);
        Self {
            order_ref,
            tag: NEXT_ORDER_TAG.fetch_add(1, Ordering::Relaxed),
            next_seq: 0,
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
        }
    }

    /// The state to resume this order from elsewhere; `now` and `wall_now` are the same moment
    /// on the monotonic and the wall clock.
    #[must_use]
    pub fn state(&self, now: Instant, wall_now: SystemTime) -> OrderState {
        let to_wall = |at: Instant| {
            let age = now.saturating_duration_since(at);
            wall_now.checked_sub(age).unwrap_or(wall_now)
        };
        OrderState {
            order_ref: self.order_ref.clone(),
            mode: self.mode,
            auto_start_token: self.auto_start_token.clone(),
            qr_start_token: self.qr.as_ref().map(|(token, _)| token.clone()),
            qr_start_secret: self.qr.as_ref().map(|(_, secret)| secret.clone()),
            started_at: to_wall(self.started),
            last_collect_at: self.last_collect_sent.map(to_wall),
            hint_code: self.last_hint.clone(),
            maintenance_retries: self.maintenance_retries,
            transport_retries: self.transport_retries,
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
        let (token, secret) = self.qr.as_ref().filter(|_| self.shows_qr())?;
        Some(crate::qr::content_at(token, secret, self.started, now))
    }

    /// Whether the order has ended. Its final event may still be waiting in
    /// [`Order::poll_output`].
    #[must_use]
    pub fn is_finished(&self) -> bool {
        self.phase == Phase::Finished
    }

    /// Cancels the order: the next [`Order::poll_output`] asks for the cancel request, and the
    /// order ends with [`Event::Cancelled`] once its result is handed in. A collect in flight
    /// is abandoned: its result, if it still arrives, is refused as stale.
    pub fn cancel(&mut self) {
        if self.phase == Phase::Collecting {
            trace_event!(order_ref = %self.order_ref, "cancelled by the caller");
            self.phase = Phase::Cancelling(CancelReason::Caller);
            self.in_flight = None;
        }
    }

    /// What the order wants at `now`: the next event, a request to send, the instant to wait
    /// until, or the end. Call it until it answers [`Output::Wait`] or [`Output::Done`];
    /// `config` builds the requests (base URL, headers).
    pub fn poll_output(&mut self, now: Instant, config: &Config) -> Output {
        self.poll(now, Some(config))
    }

    /// [`Order::poll_output`] for a driver that cannot send now, because all its connections
    /// are busy: a request that is due is not built. Events and QR codes come out as usual, and
    /// [`Output::Wait`] names the order's next timer other than that request. When
    /// [`Order::wants_to_send`] says so, the driver gets a connection (waiting for it and for
    /// the `Wait` instant together) and then calls [`Order::poll_output`] for the request.
    ///
    /// An order waiting for a connection this way holds no built request, so thousands of them
    /// queued behind a few connections cost little memory.
    pub fn poll_output_while_busy(&mut self, now: Instant) -> Output {
        self.poll(now, None)
    }

    /// Whether a request is due (a collect or the cancel), as of the last `poll_output`,
    /// `poll_output_while_busy` or `handle_input`: what a driver polling with
    /// [`Order::poll_output_while_busy`] gets a connection for.
    #[must_use]
    pub fn wants_to_send(&self) -> bool {
        self.due_endpoint().is_some()
    }

    /// The request due now, if any: none while one is in flight or after the end.
    fn due_endpoint(&self) -> Option<Endpoint> {
        match self.phase {
            _ if self.in_flight.is_some() => None,
            Phase::Finished => None,
            Phase::Cancelling(_) => Some(Endpoint::Cancel),
            Phase::Collecting => (self.latest_now >= self.next_collect).then_some(Endpoint::Collect),
        }
    }

    /// One output; `config` is `None` when the driver cannot send now.
    fn poll(&mut self, now: Instant, config: Option<&Config>) -> Output {
        self.tick(now);
        if let Some(event) = self.events.pop_front() {
            if self.events.is_empty() {
                // Events are rare (a hint change, the end): a waiting order keeps no buffer.
                self.events.shrink_to_fit();
            }
            return Output::Event(event);
        }
        if let Some(content) = self.due_qr() {
            return Output::Event(Event::QrChanged(content));
        }
        if self.phase == Phase::Finished {
            return Output::Done;
        }
        match (self.due_endpoint(), config) {
            (Some(endpoint), Some(config)) => self.send(self.latest_now, endpoint, config),
            (due, _) => Output::Wait(self.next_timer(due.is_none())),
        }
    }

    /// Hands in the result of request `id`: its response, whatever its status, or the
    /// transport's failure.
    ///
    /// # Errors
    /// [`InputError`] when the order does not await that request (another order's, answered
    /// already, abandoned, timed out, or the order has ended); the order is then unchanged.
    pub fn handle_input(&mut self, now: Instant, input: Input) -> Result<(), InputError> {
        let id = input.id();
        if id.order != self.tag {
            return Err(InputError::Foreign(id));
        }
        let in_flight = match self.in_flight {
            Some(in_flight) if in_flight.id == id => in_flight,
            _ => return Err(InputError::Stale(id)),
        };
        self.in_flight = None;
        self.latest_now = self.latest_now.max(now);
        let now = self.latest_now;
        match (in_flight.endpoint, input) {
            (Endpoint::Collect, Input::Response(_, response)) => {
                match CollectRequest::new(self.order_ref.as_str()).read_response(response) {
                    Ok(collect) => self.on_collect(in_flight.sent, collect.status),
                    Err(error) => self.on_collect_error(now, in_flight.sent, error),
                }
            }
            (Endpoint::Collect, Input::Failure(_, error)) => self.on_collect_error(now, in_flight.sent, error.into()),
            (_, Input::Response(_, response)) => {
                let error = CancelRequest::new(self.order_ref.as_str()).read_response(response).err();
                self.finish_cancel(error);
            }
            (_, Input::Failure(_, error)) => self.finish_cancel(Some(error.into())),
        }
        self.tick(now);
        Ok(())
    }

    fn send(&mut self, now: Instant, endpoint: Endpoint, config: &Config) -> Output {
        let built = match endpoint {
            Endpoint::Collect => CollectRequest::new(self.order_ref.as_str()).to_http(config),
            _ => CancelRequest::new(self.order_ref.as_str()).to_http(config),
        };
        let request = match built {
            Ok(request) => request,
            Err(error) => {
                self.finish(Event::Error(error));
                return self.events.pop_front().map_or(Output::Done, Output::Event);
            }
        };
        let id = RequestId { order: self.tag, seq: self.next_seq };
        self.next_seq += 1;
        trace_event!(order_ref = %self.order_ref, endpoint = endpoint.name(), "sending");
        let expires = now + config.request_timeout() + RESPONSE_GRACE;
        self.in_flight = Some(InFlight { id, endpoint, sent: now, expires });
        if endpoint == Endpoint::Collect {
            self.last_collect_sent = Some(now);
        }
        Output::Send { id, request, endpoint, abandonable: endpoint == Endpoint::Collect }
    }

    /// The next instant something is due: the next collect, the next QR code, the deadline, or
    /// the expiry of the request in flight; never before the latest `now` seen.
    /// The next instant something is due; `with_send` false leaves out a request that is due
    /// already (the driver is waiting for a connection for it).
    fn next_timer(&self, with_send: bool) -> Instant {
        let mut next = match self.phase {
            Phase::Collecting => self.started + self.options.deadline,
            // Only reached with the cancel request in flight or waiting for a connection.
            Phase::Cancelling(_) | Phase::Finished => self.latest_now + self.options.deadline,
        };
        match self.in_flight {
            Some(in_flight) => next = next.min(in_flight.expires),
            None if self.phase == Phase::Collecting && with_send => next = next.min(self.next_collect),
            None => {}
        }
        if self.shows_qr() {
            let second = self.latest_now.saturating_duration_since(self.started).as_secs() + 1;
            next = next.min(self.started + Duration::from_secs(second));
        }
        next.max(self.latest_now)
    }

    fn on_collect(&mut self, sent: Instant, status: CollectStatus) {
        self.maintenance_retries = 0;
        self.transport_retries = 0;
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

    /// Advances time: the expiry of the request in flight and the deadline.
    fn tick(&mut self, now: Instant) {
        self.latest_now = self.latest_now.max(now);
        let now = self.latest_now;
        if let Some(in_flight) = self.in_flight.filter(|in_flight| now >= in_flight.expires) {
            self.in_flight = None;
            let error = TransportError::from_kind(TransportErrorKind::Timeout);
            match in_flight.endpoint {
                Endpoint::Collect => self.on_collect_error(now, in_flight.sent, error.into()),
                _ => self.finish_cancel(Some(error.into())),
            }
        }
        if self.phase == Phase::Collecting && now >= self.started + self.options.deadline {
            trace_event!(order_ref = %self.order_ref, "deadline passed");
            self.phase = Phase::Cancelling(CancelReason::Deadline);
            self.in_flight = None;
        }
    }

    /// The QR code of the current second, when it has not been handed out yet. Made when asked
    /// for, never queued, so that it cannot come out in a later second.
    fn due_qr(&mut self) -> Option<String> {
        let second = self.latest_now.saturating_duration_since(self.started).as_secs();
        if !self.shows_qr() || self.last_qr_second == Some(second) {
            return None;
        }
        self.last_qr_second = Some(second);
        self.qr_content(self.latest_now)
    }
}

impl fmt::Debug for Order {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Order")
            .field("order_ref", &self.order_ref)
            .field("mode", &self.mode)
            .field("phase", &self.phase)
            .field("hint_code", &self.last_hint)
            .field("in_flight", &self.in_flight.map(|in_flight| (in_flight.id, in_flight.endpoint)))
            .finish_non_exhaustive()
    }
}
