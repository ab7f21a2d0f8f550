//! # bankid-sim: a BankID RP API v6 server you can run
//!
//! A real HTTPS server, speaking the BankID Relying Party API v6 over **mutual TLS**, for tests,
//! demos and local development. It is built on hyper 1 and tokio-rustls (crypto provider: ring,
//! passed explicitly) and runs in-process (`127.0.0.1:0`) from async or blocking code, or as the
//! `bankid-sim` binary.
//!
//! ```no_run
//! # async fn demo() -> Result<(), bankid_sim::Error> {
//! use std::time::Duration;
//! let sim = bankid_sim::Simulator::builder()
//!     .auto_approve(Some(Duration::from_secs(2)))
//!     .bind("127.0.0.1:0")
//!     .start()
//!     .await?;
//! let base = sim.base_url(); // "https://127.0.0.1:PORT" - append "/rp/v6.0/auth" etc.
//! let root = sim.pki().ca_pem(); // the only root a client must trust
//! let rp = sim.pki().client_identity(0).expect("two identities by default");
//! let (cert, key) = (rp.cert_pem(), rp.key_pem()); // or rp.p12() with rp.p12_password()
//! # let _ = (base, root, cert, key);
//! sim.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! ## What it does
//! * **Mutual TLS.** The RP CA of the simulator's throwaway PKI ([`Pki`]) is the only client
//!   trust anchor. A certificate from any other CA fails the handshake; a connection without a
//!   certificate completes it and gets HTTP 401 `unauthorized` on every `/rp/` request. After a
//!   failed handshake the server sends its alert, shuts down its side and reads (and drops) what
//!   the client still sends for up to a second before closing: with TLS 1.3 the client has
//!   already written its first request by then, and closing with it unread would reset the
//!   connection, so the client would see "broken pipe" instead of the alert. An RP is
//!   the SHA-256 of its leaf certificate; each order belongs to the RP that created it (collect or
//!   cancel with another certificate: 400 `invalidParameters` "No such order").
//! * **Every v6 endpoint** under `/rp/v6.0/`: `auth`, `sign`, `payment`, `phone/auth`,
//!   `phone/sign`, `other/payment`, `collect`, `cancel`, with BankID's validation and `details`
//!   strings, 404/405/415 handling and HTTP/1.1 keep-alive.
//! * **Bounded clients** (see [`Timings`] and [`SimConfig::max_connections`]): at most 256
//!   connections at once (more wait in the listen backlog); a request head must arrive within
//!   30 s (which also closes idle keep-alive connections), a body within 10 s (408); a client
//!   that stops reading its answer is dropped after 30 s; a body whose `Content-Length` is over
//!   the limit (512 KiB on `/rp/`, 64 KiB on `/sim/`) is refused unread, without
//!   `100 Continue`, and the connection closed.
//! * **Orders that live on the server's clock** (see [`Timings`]): `outstandingTransaction` until
//!   the QR is scanned (HMAC and age checked like the app does) or the autostart token is used,
//!   then `started` (autostart) / `userCallConfirm` (phone orders) / `userMrtd` (MRTD requirement)
//!   / `userSign`, then `complete`. A QR or autostart order nobody starts fails with
//!   `startFailed` 30 s after creation; a pushed order (phone/auth, phone/sign, other/payment)
//!   has no QR code or autostart token and waits in the user's app until it expires
//!   (`expiredTransaction`), like any order left unfinished.
//! * **A final status is collected once**, as BankID documents ("the order cannot be collected
//!   twice"): the collect that delivers `complete` or `failed` is the last one answered; the next
//!   gets 400 `invalidParameters`. The first may come within BankID's windows: 3 minutes after
//!   completion, 5 minutes after a failure, 3 minutes 10 seconds after an order nobody picked up
//!   timed out; then the order is purged ("No such order").
//! * **Personal numbers as BankID checks them**: twelve digits; the date and check digit are
//!   not checked ([`is_accepted_personal_number`]; BankID's test service accepts numbers with
//!   a wrong check digit). [`is_valid_personal_number`] is the strict check of a real number.
//! * **`alreadyInProgress`**: a second order for a personal number (from
//!   `requirement.personalNumber` or the `personalNumber` of phone and other/payment orders) while
//!   one is pending gets 400 `alreadyInProgress` "Order already in progress for pno", no order is
//!   created, **and the first order fails with hint `cancelled`**, as BankID does ("the system
//!   received a new order for the user"). A third attempt therefore succeeds.
//! * **A simulated phone** ([`SimHandle::scan_qr`], [`SimHandle::use_autostart`],
//!   [`SimHandle::approve`], ...; over HTTP under `/sim/`) and an auto mode
//!   ([`SimulatorBuilder::auto_approve`]) in which every order is picked up and approved after a
//!   delay; QR orders are picked up by computing the QR content for the current second and
//!   feeding it through the same check as a real scan.
//! * **Completion data that looks real**: user fields, `device`, `bankIdIssueDate`, `stepUp`,
//!   `risk`, an XML-DSig `signature` signed like BankID's (the genuine samples' element order,
//!   namespaces, Ids and canonical form; RSA-2048 `rsa-sha256`, or ECDSA P-256 with
//!   [`Pki::generate_with`]; `srvInfo/name` the RP certificate's subject; chain leaf -> customer
//!   CA -> bank CA -> root) and an `ocspResponse` shaped like BankID's (responder certificate
//!   issued by the customer CA, SHA-1 CertID, the nonce bound to the signature string). The
//!   tests check every kind of order with the independent verifier `bankid-verify`.
//! * **Faults** per run ([`FaultRule`]) and per order ([`SimHandle::inject_fault`]): 503
//!   maintenance, 500, 408, an HTML error page with any status (502 by default), a delay, a
//!   dropped connection, a truncated body, a wrong content type, a redirect, a body that is not
//!   valid JSON, an oversized body, a collect answered with another order's reference and
//!   completion data (see [`Fault`]).
//! * **A connection counter** ([`SimHandle::connections_accepted`]): TCP connections accepted,
//!   whether or not their handshake succeeded, to check that a client reuses its connections.
//!
//! ## The `/sim/` control endpoints
//! On the same listener, JSON in and out, `POST` only; errors are `400 {"error": "..."}`. They
//! can fail any order, send 64 MiB answers or move the clock by a century, so by default
//! ([`ControlApi::ClientCertificate`]) they need a client certificate from the simulator's RP CA,
//! like `/rp/` (any RP's: the phone acts on any order); without one they answer
//! `401 {"error": ...}`. [`ControlApi::Off`] (`--no-control-api`) turns them off (404). The
//! `bankid-sim` binary says which in its startup banner. [`SimHandle`] is not affected.
//!
//! | path | body | answer |
//! |---|---|---|
//! | `/sim/scan-qr` | `{"qr": "bankid.<token>.<time>.<code>"}` | `{"orderRef"}` |
//! | `/sim/use-autostart` | `{"autoStartToken"}` | `{"orderRef"}` |
//! | `/sim/open-app` | `{"orderRef"}` (phone and other/payment orders: the app opens the pushed order) | `{"hintCode"}` |
//! | `/sim/next-step` | `{"orderRef"}` (next pending step) | `{"hintCode"}` |
//! | `/sim/approve` | `{"orderRef"}` | `{}` |
//! | `/sim/user-cancel` | `{"orderRef"}` (the user cancels in the app: `userCancel`) | `{}` |
//! | `/sim/fail-order` | `{"orderRef", "hintCode"}` | `{}` |
//! | `/sim/current-qr` | `{"orderRef"}` (what the RP's screen shows now) | `{"qr"}` |
//! | `/sim/order` | `{"orderRef"}` | the order: request, status, hint, completion data |
//! | `/sim/inject-fault` | `{"orderRef", "fault": "maintenance", "times"?: 1, "delayMs"?, "location"?, "status"?, "bytes"?}` (see below) | `{}` |
//! | `/sim/add-fault` | `{"fault": "maintenance", "times"?, "endpoint"?, "delayMs"?, "location"?, "status"?, "bytes"?}` (see below) | `{}` |
//! | `/sim/clear-faults` | `{}` | `{}` |
//! | `/sim/advance-clock` | `{"advanceMs": 30000}` | `{}` |
//! | `/sim/status` | `{}` | `{"orders": n, "connections": n}` ([`SimHandle::status`]) |
//!
//! Each route is `/sim/` and the name of the [`SimHandle`] method it calls, in kebab case.
//!
//! The `fault` names: `maintenance`, `internalError`, `requestTimeout`, `html` (`status`:
//! 200-599, default 502), `delay` (`delayMs`, default 1000), `drop`, `truncate`,
//! `wrongContentType`, `redirect` (`location`), `malformedJson`, `oversized` (`bytes`: up to
//! 64 MiB, default 2 MiB), `foreignOrderRef` (collect only). `/sim/add-fault` applies the fault
//! to the next `times` requests (all of them if absent) to `endpoint` (all `/rp/` endpoints if
//! absent); `/sim/inject-fault` to the next `times` (default 1) collect/cancel requests about
//! the order `orderRef`.
//!
//! ## Where the `details` strings come from
//! The `details` of an error answer are free text for logs. The simulator sends BankID's own
//! where they have been observed on its test service (spec §4.1): "Invalid endUserIp",
//! "Incorrect personalNumber", "Incorrect callInitiator", "Invalid requirement",
//! "Invalid userVisibleData", "No such order", "Order already in progress for pno",
//! "Recipient name is invalid", "money has invalid amount or currency",
//! "transactionType is not a valid transaction type" and "userNonVisible data requires
//! userVisibleData". **Every other `details` string is invented** by the simulator in BankID's
//! style (e.g. "Invalid web", "Invalid riskFlags", "Invalid orderRef", "Too big content",
//! "No such order (its final status has already been collected)", the texts of 401, 404, 405,
//! 408, 415 and of the simulated faults); a client must not match on them. Likewise the limits
//! BankID does not document are the simulator's own, chosen never to refuse what BankID
//! accepts: the `app` members (1-256 characters), `riskWarning` (any non-empty text), any
//! number of certificate policies of any length (the 512 KiB body cap bounds them), and the sign
//! limits for the texts of payment and other/payment.
//!
//! ## An independent oracle
//! The library does not depend on `bankid-core`: request validation, personal numbers and the
//! QR code's HMAC-SHA256 are implemented here again on purpose, so that a bug in the client
//! library's QR generator or validation shows up as a failing scan or an unexpected error
//! instead of agreeing with itself. (The integration tests use bankid-core as the client.)
//!
//! ## What it does not simulate
//! BankID's risk engine (`risk` is always `"low"`), real user certificates from the BankID
//! hierarchy (the signature chains to a throwaway "Simulated BankID Root CA", and the
//! `ocspResponse` is a well-formed RFC 6960 `BasicOCSPResponse` signed by a simulated responder
//! with sha256WithRSA where BankID uses sha1WithRSA, not an answer from a real OCSP service; the
//! hierarchy's RSA keys are fixed test keys, see `keys/README.md`), canonicalisation of XML other than what the
//! simulator itself emits (its XML is already in C14N form), `web`/`app` device checks beyond
//! syntax, `returnUrl` delivery, the ID-card API, and HTTP/2. The order lifetime after pickup
//! (`expiredTransaction`, 3 minutes here) is not documented by BankID.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod blocking;
pub mod cli;
mod clock;
mod config;
mod der;
mod endpoint;
mod fault;
mod http;
mod order;
mod pki;
mod pnr;
mod qr;
mod server;
mod signature;
mod simapi;
mod simulator;
mod stall;
mod store;
mod validate;

pub use blocking::BlockingSimulator;
pub use config::{ControlApi, DEFAULT_MAX_CONNECTIONS, SimConfig, TestPerson, Timings};
pub use endpoint::{Endpoint, UnknownEndpoint};
pub use fault::{Fault, FaultRule};
pub use order::{OrderInfo, PhoneError};
pub use pki::{ClientIdentity, Pki, SignatureKeyType};
pub use pnr::{is_accepted_personal_number, is_valid_personal_number};
pub use qr::{qr_auth_code, qr_content};
pub use simulator::{SimHandle, SimStatus, Simulator, SimulatorBuilder};
pub use validate::{Refusal, validate_request};

/// Errors from starting or configuring the simulator.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The test person's personal number is not a real one (12 digits, a real date, a valid
    /// check digit: [`is_valid_personal_number`]). The number itself is not repeated.
    #[error("the test person's personal number is not a valid personal identity number")]
    InvalidPersonalNumber,
    /// The auto-approve delay is not a number of seconds from 0 up (`--auto-approve`).
    #[error("--auto-approve takes a number of seconds from 0 up, not {0}")]
    InvalidAutoApprove(f64),
    /// [`SimConfig::client_identities`] is 0: at least one RP identity is needed.
    #[error("at least one client identity is needed")]
    NoClientIdentities,
    /// [`BlockingSimulator::start`] was called from inside an async runtime.
    #[error("BlockingSimulator cannot start inside an async runtime; use Simulator::start")]
    InsideAsyncRuntime,
    /// Binding the listener (or reading its address) failed.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for ([`SimConfig::bind`]).
        addr: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Writing the PKI files failed.
    #[error("cannot write the PKI files to {}: {source}", dir.display())]
    WritePki {
        /// The folder ([`SimConfig::pki_dir`]).
        dir: std::path::PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Starting the runtime threads of a [`BlockingSimulator`] failed.
    #[error("cannot start the simulator's runtime: {0}")]
    Runtime(#[source] std::io::Error),
    /// Building the TLS server configuration failed.
    #[error("TLS configuration failed: {0}")]
    Tls(#[source] rustls::Error),
    /// Generating the throwaway PKI failed: the certificate library's (or the key
    /// generator's) error.
    #[error("certificate generation failed: {0}")]
    Pki(#[source] Box<dyn std::error::Error + Send + Sync>),
}
