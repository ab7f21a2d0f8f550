//! The Swedish BankID Relying Party API v6 as a sans-IO core.
//!
//! `bankid-core` turns typed requests into [`http::Request<Vec<u8>>`] and `http::Response`
//! bytes into typed results or typed errors. It owns everything about BankID that is not moving
//! bytes: validation, the order state machine, the animated QR code, the user messages, launch
//! URLs and the TLS material. Any HTTP client can drive it; `bankid-blocking` (ureq),
//! `bankid-reqwest` and `bankid-hyper` are thin transports built on it.
//!
//! # In scope
//! - Every endpoint: auth, sign, payment, phone/auth, phone/sign, other/payment, collect,
//!   cancel ([`Operation`]), with every field of the spec typed and checked before sending.
//! - Forward-compatible responses: unknown fields are ignored, unknown hint, error and risk
//!   codes are kept as `Unknown(String)` ([`codes`]).
//! - One error type ([`Error`]) that says which [`ErrorCode`], whether to retry and which user
//!   message ([`Rfa`]) to show.
//! - The order state machine ([`Order`]): collect every 2 s, never twice within 1 s, QR code
//!   every second (also while a request is in flight), bounded retries, a deadline,
//!   cancellation, each response tied to the request it answers ([`order`]).
//! - The animated QR code ([`qr`]), user messages RFA1-RFA23 in Swedish and English
//!   ([`messages`]), app launch URLs ([`launch`]).
//! - TLS material ([`tls`]): the BankID roots, client identities from PEM and PKCS#12, and with
//!   the `rustls` feature (on by default) a `rustls::ClientConfig` pinned to those roots.
//!
//! # Out of scope
//! - Sockets, TLS handshakes, HTTP framing, sleeping: the transport's job.
//! - Clocks: every function that needs the time takes it as an argument (`Instant::now` and
//!   `SystemTime::now` are banned in this crate by clippy).
//! - Verifying the XML signature and OCSP response of a completed order (spec §9): that is
//!   `bankid-verify`'s job. Keep the [`CompletionData`], and the `signature` string exactly as
//!   received, for audit.
//!
//! # Design
//! - **Sans-IO.** Building a request and reading a response are pure functions of bytes:
//!   [`Operation::to_http`] and [`Operation::read_response`] (or the static
//!   [`Operation::parse`]). One response check (status, content type, empty body, JSON error
//!   body) serves every endpoint: it is the only place in the workspace where a status code is
//!   interpreted. A transport sends bytes and hands back bytes, whatever the status.
//! - **One driving contract.** [`Order`] takes inputs (responses and failures tagged with the
//!   [`RequestId`] of the request they answer) and hands out outputs (events, requests, the
//!   instant to wake up, the end), in the style of quinn-proto and str0m: see [`order`]. Every
//!   transport, the CLI and the web flow drive orders through it, so the collect cadence, the QR
//!   code, retries and the deadline are written once.
//! - **The API once.** Each client has one generic `send` for any [`Operation`];
//!   [`client_methods!`] gives it PyBankID's names.
//! - **Strict at the edges.** Caller input is checked before anything is sent
//!   ([`Error::InvalidInput`] names the field); server answers are taken only in the shape
//!   BankID sends ([`Error::UnexpectedResponse`] says why not), and a collect answer must name
//!   the order asked about.
//!
//! # Privacy
//! Personal numbers, names, IP addresses, the QR secret, the autostart token, signatures and
//! OCSP responses print as `[redacted]` in `Debug`. The crate logs nothing.
//!
//! # The order lifecycle
//!
//! [`Order`] drives a started order to its end:
//!
//! ```text
//!                 start response (auth / sign / payment / phone / other-payment)
//!                                   |
//!                                   v
//!   +------------------------- Collecting ---------------------------+
//!   |  every 2 s (never twice within 1 s): collect                    |
//!   |  pending  -> Progress { hint, rfa }    (QR mode: QrChanged each  |
//!   |              second while outstandingTransaction)               |
//!   |  maintenance / transport failure -> Retrying, bounded backoff   |
//!   +---+-----------------+-------------------+-----------------+----+
//!       | complete        | failed            | cancel() or     | other error or
//!       v                 v                   | deadline        | retries spent
//!   Completed(data)   Failed { hint, rfa }    v                 v
//!                                        Cancelling --cancel--> Cancelled { reason }   Error(e)
//! ```
//!
//! # A whole identification, on canned responses
//!
//! The driver below is what every transport does, with canned answers instead of a network and
//! a virtual clock instead of sleeping ([`order`] describes the contract):
//!
//! ```
//! use std::time::{Duration, Instant};
//! use bankid_core::{AuthRequest, Config, Event, Input, Operation, Order, Output, Rfa, StartMode};
//!
//! let config = Config::test();
//! let json = |body: &str| {
//!     http::Response::builder()
//!         .status(200)
//!         .header("content-type", "application/json")
//!         .body(body.as_bytes().to_vec())
//!         .unwrap()
//! };
//!
//! // 1. Start the order.
//! let request = AuthRequest::new("192.0.2.10".parse()?);
//! let http_request = request.to_http(&config)?; // send this with any HTTP client
//! assert_eq!(http_request.uri(), "https://appapi2.test.bankid.com/rp/v6.0/auth");
//! let start = request.read_response(json(
//!     r#"{"orderRef":"a1","autoStartToken":"b2","qrStartToken":"c3","qrStartSecret":"d4"}"#,
//! ))?;
//!
//! // 2. Drive it on a virtual clock; the "server" answers each collect after 300 ms.
//! let t0 = Instant::now();
//! let mut order = Order::new(&start, StartMode::Qr, t0);
//! let mut answers = vec![
//!     r#"{"orderRef":"a1","status":"complete","completionData":{
//!         "user":{"personalNumber":"199001011239","name":"Karl Karlsson","givenName":"Karl","surname":"Karlsson"},
//!         "device":{"ipAddress":"192.0.2.10","uhi":"u"},"bankIdIssueDate":"2023-11-29Z",
//!         "signature":"PHNpZ25hdHVyZS8+","ocspResponse":"AAAA"}}"#,
//!     r#"{"orderRef":"a1","status":"pending","hintCode":"userSign"}"#,
//!     r#"{"orderRef":"a1","status":"pending","hintCode":"outstandingTransaction"}"#,
//! ];
//! let (mut now, mut in_flight, mut qr_seconds, mut messages, mut user) = (t0, None, vec![], vec![], None);
//! loop {
//!     match order.poll_output(now, &config) {
//!         Output::Event(Event::QrChanged(content)) => {
//!             assert!(content.starts_with("bankid.c3."));
//!             qr_seconds.push((now - t0).as_millis()); // each QR code at its own second
//!         }
//!         Output::Event(Event::Progress { message, .. }) => messages.push(message),
//!         Output::Event(Event::Completed(data)) => user = Some(data.user),
//!         Output::Event(other) => panic!("unexpected {other:?}"),
//!         Output::Send { id, request, .. } => {
//!             assert_eq!(request.body(), br#"{"orderRef":"a1"}"#);
//!             in_flight = Some((id, now + Duration::from_millis(300), answers.pop().unwrap()));
//!         }
//!         Output::Wait(until) => match in_flight.take() {
//!             // The response arrives before the next timer: hand it in at its time.
//!             Some((id, at, answer)) if at <= until => {
//!                 now = at;
//!                 order.handle_input(now, Input::Response(id, json(answer)))?;
//!             }
//!             other => {
//!                 in_flight = other;
//!                 now = until; // a real driver sleeps until then
//!             }
//!         },
//!         Output::Done => break,
//!     }
//! }
//! assert_eq!(messages, [Rfa::Rfa1, Rfa::Rfa9]);
//! assert_eq!(qr_seconds, [0, 1000, 2000]); // QR codes kept coming while a collect was in flight
//! assert_eq!(user.unwrap().given_name, "Karl");
//! assert_eq!(now - t0, Duration::from_millis(4300));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod client_methods;
pub mod codes;
mod config;
mod error;
mod input;
pub mod launch;
pub mod messages;
pub mod order;
mod pipeline;
pub mod qr;
mod request;
mod response;
pub mod tls;
pub mod validate;

pub use codes::{
    CallInitiator, CardReader, DeviceKind, Endpoint, ErrorCode, FailedHintCode, PendingHintCode, Risk, RiskFlag,
    StartMode, TransactionType, UserVisibleDataFormat,
};
pub use config::{
    API_PREFIX, Config, DEFAULT_MAX_CONNECTIONS, DEFAULT_REQUEST_TIMEOUT, Environment, MAX_RESPONSE_BODY,
    PRODUCTION_URL, TEST_URL, USER_AGENT,
};
pub use error::{
    ApiError, BODY_EXCERPT_LIMIT, Error, InvalidInput, TransportError, TransportErrorKind, UnexpectedKind,
    UnexpectedResponse,
};
pub use messages::{Language, Messages, Rfa};
pub use order::{CancelReason, Event, Input, InputError, Order, OrderOptions, OrderState, Output, RequestId};
pub use pipeline::MAX_REFERENCE_LEN;
pub use request::{
    AppData, AuthRequest, CancelRequest, CollectRequest, DeviceData, Money, Operation, OtherPaymentRequest,
    PaymentRequest, PhoneAuthRequest, PhoneSignRequest, Recipient, Requirement, SignRequest, UserVisibleTransaction,
    WebData,
};
pub use response::{
    CancelResponse, CollectResponse, CollectStatus, CompletionData, Device, OrderResponse, PhoneOrderResponse, StepUp,
    User,
};
pub use tls::{Identity, IdentityError, Roots};
