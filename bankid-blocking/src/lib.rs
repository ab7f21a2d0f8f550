//! A blocking client for the Swedish BankID Relying Party API v6, on [ureq] 3 and [rustls].
//!
//! This crate moves bytes and sleeps; everything else - building requests, reading responses,
//! when to collect, what to retry, the QR code, the user messages - is [`bankid_core`]'s. Its
//! async siblings `bankid-reqwest` and `bankid-hyper` have the same API and pass the same
//! conformance suite.
//!
//! ```toml
#![doc = concat!("bankid-blocking = \"", env!("CARGO_PKG_VERSION"), "\"")]
//! ```
//!
//! # Quick start
//!
//! ```no_run
//! use std::ops::ControlFlow;
//! use std::time::Instant;
//! use bankid_blocking::Client;
//! use bankid_core::{AuthRequest, Config, Event, Language, Order, StartMode};
//!
//! // BankID's test service with the public test identity; `Config::production(identity)` or
//! // `Config::custom(url, roots)` for the others.
//! let client = Client::new(Config::test())?;
//! let start = client.authenticate(&AuthRequest::new("192.0.2.10".parse()?))?;
//! let order = Order::new(&start, StartMode::Qr, Instant::now());
//! let end = client.wait(order, |event| {
//!     match event {
//!         Event::QrChanged(content) => println!("show this QR code: {content}"),
//!         Event::Progress { message, .. } => println!("{}", message.text(Language::En)),
//!         _ => {}
//!     }
//!     ControlFlow::Continue(()) // `ControlFlow::Break(())` cancels the order at BankID
//! });
//! match end {
//!     Event::Completed(data) => println!("hello {}", data.user.given_name),
//!     other => println!("no login: {other:?}"),
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # What the transport does
//! - Trusts only the configured roots (never webpki or system roots), speaks TLS 1.2 and 1.3
//!   with *ring* as the explicit crypto provider, and always presents the configured identity:
//!   the core's [`Config::rustls_client_config`], as in `bankid-reqwest` and `bankid-hyper`.
//! - Never follows redirects and hands every response to the core whatever its status (ureq's
//!   `http_status_as_error` is off), reading at most [`bankid_core::MAX_RESPONSE_BODY`] bytes.
//! - Applies [`Config::request_timeout`] to each request as a whole (connect, send, receive):
//!   a request that hits it ends at most 20 ms after it (plus the thread's scheduling), however
//!   the server stalls or trickles. Keeps connections alive (one TLS handshake for a whole
//!   order), ignores proxy environment variables and has no proxy support (like the other two
//!   transports).
//! - Does little per request on a pooled connection: TCP and TLS of this crate's own, straight
//!   over a [`rustls::ClientConnection`] with the core's [`Config::rustls_client_config`] (the
//!   TLS configuration the async transports use), that sends a request as one TLS record in one
//!   `send`, checks a pooled connection with one `recv(MSG_PEEK | MSG_DONTWAIT)`, and sets the
//!   socket's timeouts only when they must change (three system calls a request: the send, the
//!   read of the answer, the check).
//! - Takes only the server's `close_notify` for a clean end of a connection: a body cut short
//!   by an end of the TCP stream without it (or by a reset) is an I/O error, even a body that
//!   ends with the connection.
//! - Reports failures as [`bankid_core::TransportError`] with a kind (timeout, connect, TLS,
//!   I/O, body too large); no ureq type appears in this crate's API.
//! - Opens at most [`Config::max_connections`] connections: at most that many requests are in
//!   flight, and a request beyond them waits (its thread blocks) until one has ended and its
//!   connection is back in the pool.
//!
//! # QR codes while a request is in flight
//! [`Client::wait`] sends each request from a second thread of its own (one per `wait`, for the
//! order's lifetime) and waits for its result and for the order's next timer together, so the
//! QR code changes every second even when a collect takes seconds to answer.
//!
//! # Many orders at once
//! Share one `Client` (clones share its connection pool and its limit of
//! [`Config::max_connections`] connections) and run orders on a fixed pool of threads,
//! each taking the next order from a queue and driving it with [`Client::wait`]. A `wait` uses
//! its own thread plus a sender thread while it runs, so the pool's size bounds both the
//! threads and the orders in progress; `cargo bench -p bankid-conformance --bench concurrent`
//! measures 1,000 orders this way on 100 threads.
//!
//! ```no_run
//! use std::ops::ControlFlow;
//! use std::sync::Mutex;
//! use std::time::Instant;
//! use bankid_core::{AuthRequest, Config, Order, StartMode};
//!
//! let client = bankid_blocking::Client::new(Config::test())?;
//! let queue = Mutex::new((0..1_000).map(|_| AuthRequest::new("192.0.2.10".parse().unwrap())).collect::<Vec<_>>());
//! std::thread::scope(|scope| {
//!     for _ in 0..100 {
//!         scope.spawn(|| {
//!             while let Some(request) = queue.lock().unwrap().pop() {
//!                 let Ok(start) = client.authenticate(&request) else { continue };
//!                 let order = Order::new(&start, StartMode::Qr, Instant::now());
//!                 let _end = client.wait(order, |_event| ControlFlow::Continue(()));
//!             }
//!         });
//!     }
//! });
//! # Ok::<(), bankid_core::Error>(())
//! ```
//!
//! # From async code
//! Every method blocks the calling thread, for seconds in [`Client::wait`]. In async code use
//! `bankid-reqwest` or `bankid-hyper`, or run this client on a blocking thread
//! (`tokio::task::spawn_blocking`).
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::fmt;
use std::io::Read as _;
use std::net::{IpAddr, SocketAddr};
use std::ops::ControlFlow;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::Instant;

use bankid_core::{
    Config, Error, Event, Input, InvalidInput, MAX_RESPONSE_BODY, Operation, Order, Output, RequestId, TransportError,
    TransportErrorKind,
};
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{Connector as _, NextTimeout};

mod tcp;
mod tls;

/// A blocking BankID client with its own connection pool. Clones share the pool.
#[derive(Clone)]
pub struct Client {
    agent: ureq::Agent,
    config: Arc<Config>,
    /// The `Host` header of every request, made once (ureq would format it for each).
    host: Option<http::HeaderValue>,
    turns: Arc<Turns>,
}

/// Turns on the [`Config::max_connections`] connections: a request takes one before it goes
/// out and gives it back once its answer is read (and its connection back in ureq's pool).
#[derive(Debug)]
struct Turns {
    state: Mutex<TurnState>,
    freed: Condvar,
}

/// The turns free, and the requests waiting for one: a turn given back wakes a waiting request
/// only when there is one (waking costs a system call even when nobody waits).
#[derive(Debug)]
struct TurnState {
    free: usize,
    waiting: usize,
}

impl Turns {
    fn new(turns: usize) -> Self {
        Self { state: Mutex::new(TurnState { free: turns, waiting: 0 }), freed: Condvar::new() }
    }

    /// Blocks until a turn is free, and takes it.
    fn take(&self) -> Turn<'_> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        while state.free == 0 {
            state.waiting += 1;
            state = self.freed.wait(state).unwrap_or_else(PoisonError::into_inner);
            state.waiting -= 1;
        }
        state.free -= 1;
        Turn(self)
    }
}

/// A request's turn, given back when dropped.
struct Turn<'a>(&'a Turns);

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        let mut state = self.0.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.free += 1;
        let wake = state.waiting > 0;
        drop(state);
        if wake {
            self.0.freed.notify_one();
        }
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client").field("transport", &"ureq").field("config", &self.config).finish()
    }
}

impl Client {
    /// A client for `config`: its base URL, roots, identity and request timeout. The roots and
    /// the identity were checked when they were loaded.
    ///
    /// # Errors
    /// [`Error::Identity`] when rustls refuses the roots or the identity.
    pub fn new(config: Config) -> Result<Self, Error> {
        let agent_config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .https_only(true)
            .proxy(None)
            .timeout_global(Some(config.request_timeout()))
            .max_idle_connections(config.max_connections())
            .max_idle_connections_per_host(config.max_connections())
            .build();
        // One connector: TCP and TLS of this crate's own, with the core's TLS configuration (see
        // `tls`: a request is one TLS record in one send; `tcp`: one liveness check, socket
        // timeouts set only when they must change); no proxy connectors, no ureq TLS.
        let connector = ().chain(tls::TlsConnector::new(config.rustls_client_config()?));
        let resolver = IpLiteralResolver::new(config.base_url());
        let agent = ureq::Agent::with_parts(agent_config, connector, resolver);
        let host = host_header(config.base_url());
        let turns = Arc::new(Turns::new(config.max_connections()));
        Ok(Self { agent, config: Arc::new(config), host, turns })
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
    pub fn send<O: Operation>(&self, operation: &O) -> Result<O::Output, Error> {
        operation.read_response(self.execute(operation.to_http(&self.config)?)?)
    }

    bankid_core::client_methods!(blocking);

    /// Runs `order` to its end on this thread: collects it, waits between requests, and hands
    /// every event to `on_event`, the final one included, which is also returned
    /// ([`Event::is_final`]: completed, failed, cancelled or error). Requests go out from a
    /// second thread, so QR codes keep coming while one is in flight.
    ///
    /// When `on_event` returns [`ControlFlow::Break`], the order is cancelled at BankID and ends
    /// with [`Event::Cancelled`].
    pub fn wait(&self, mut order: Order, mut on_event: impl FnMut(&Event) -> ControlFlow<()>) -> Event {
        let (to_sender, requests) = mpsc::channel::<(RequestId, http::Request<Vec<u8>>)>();
        let (to_driver, results) = mpsc::channel();
        std::thread::scope(|scope| {
            // Owned by this closure, so that the sender thread's loop ends when it returns.
            let to_sender = to_sender;
            scope.spawn(move || {
                for (id, request) in requests {
                    if to_driver.send((id, self.execute(request))).is_err() {
                        break;
                    }
                }
            });
            loop {
                match order.poll_output(Instant::now(), &self.config) {
                    Output::Event(event) if event.is_final() => {
                        let _ = on_event(&event);
                        return event;
                    }
                    Output::Event(event) => {
                        if on_event(&event).is_break() {
                            order.cancel();
                        }
                    }
                    // The sender lives as long as this loop.
                    Output::Send { id, request, .. } => {
                        let _ = to_sender.send((id, request));
                    }
                    Output::Wait(until) => {
                        match results.recv_timeout(until.saturating_duration_since(Instant::now())) {
                            // An abandoned collect's answer is refused as stale, which is right.
                            Ok((id, result)) => {
                                let _ = order.handle_input(Instant::now(), Input::from_result(id, result));
                            }
                            Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => {}
                        }
                    }
                    Output::Done => {
                        return Event::Error(
                            InvalidInput::new("order", "had ended before it was handed to wait").into(),
                        );
                    }
                }
            }
        })
    }

    /// The only code that calls ureq: one request out, one response back.
    fn execute(&self, mut request: http::Request<Vec<u8>>) -> Result<http::Response<Vec<u8>>, TransportError> {
        // Held until the answer has been read: its connection is back in the pool by then.
        let _turn = self.turns.take();
        // Only for requests to the configured host (the core makes no others).
        if let Some(host) = &self.host
            && request.uri().authority().map(http::uri::Authority::as_str)
                == self.config.base_url().strip_prefix("https://")
        {
            request.headers_mut().entry(http::header::HOST).or_insert_with(|| host.clone());
        }
        let (parts, mut body) = self.agent.run(request).map_err(transport_error)?.into_parts();
        // Room for the announced length (up to a bound: the server's word is not trusted with
        // memory), so that the body is read in one go; the limit applies whatever it announced.
        let announced = body.content_length().unwrap_or(0).min(PREALLOCATE_AT_MOST as u64);
        let mut bytes = Vec::with_capacity(usize::try_from(announced).unwrap_or(0));
        body.with_config()
            .limit(MAX_RESPONSE_BODY as u64)
            .reader()
            .read_to_end(&mut bytes)
            .map_err(|error| transport_error(error.into()))?;
        Ok(http::Response::from_parts(parts, bytes))
    }
}

/// The `Host` header of requests to `base_url` as ureq writes it: the host, and the port
/// unless it is 443.
fn host_header(base_url: &str) -> Option<http::HeaderValue> {
    let uri = base_url.parse::<http::Uri>().ok()?;
    let host = uri.host()?;
    let value = match uri.port_u16() {
        Some(port) if port != 443 => format!("{host}:{port}"),
        _ => host.to_owned(),
    };
    http::HeaderValue::from_str(&value).ok()
}

/// The most room made for a response body before reading it (a completed collect with its
/// signature and OCSP response is a few KiB).
const PREALLOCATE_AT_MOST: usize = 64 * 1024;

/// ureq resolves the host before every request, even one that reuses a connection, and with a
/// timeout set it does so on a new thread. An IP address needs no resolving; take it as it is
/// (and the configured host's address, parsed once, is compared as a string).
#[derive(Debug, Default)]
struct IpLiteralResolver {
    /// The configured authority (`host:port`) when its host is an IP address, and its address.
    configured: Option<(String, SocketAddr)>,
    names: DefaultResolver,
}

impl IpLiteralResolver {
    /// A resolver that knows the address of `base_url`'s host if it is an IP address.
    fn new(base_url: &str) -> Self {
        let configured = base_url.parse::<http::Uri>().ok().and_then(|uri| {
            let address = ip_literal(&uri)?;
            Some((uri.authority()?.as_str().to_owned(), address))
        });
        Self { configured, names: DefaultResolver::default() }
    }
}

/// The address of `uri`'s host when it is an IP address (port 443 unless given).
fn ip_literal(uri: &http::Uri) -> Option<SocketAddr> {
    let host = uri.host()?.trim_start_matches('[').trim_end_matches(']');
    let ip = host.parse::<IpAddr>().ok()?;
    Some(SocketAddr::new(ip, uri.port_u16().unwrap_or(443)))
}

impl Resolver for IpLiteralResolver {
    fn resolve(
        &self,
        uri: &http::Uri,
        config: &ureq::config::Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let configured = self
            .configured
            .as_ref()
            .filter(|(authority, _)| uri.authority().is_some_and(|a| a.as_str() == authority))
            .map(|(_, address)| *address);
        match configured.or_else(|| ip_literal(uri)) {
            Some(address) => {
                let mut addresses = self.empty();
                addresses.push(address);
                Ok(addresses)
            }
            // A name that does not resolve is a connect failure, as in the other transports.
            None => self.names.resolve(uri, config, timeout).map_err(|error| match error {
                ureq::Error::Io(_) => ureq::Error::HostNotFound,
                other => other,
            }),
        }
    }
}

fn transport_error(error: ureq::Error) -> TransportError {
    use TransportErrorKind::{BodyTooLarge, Connect, Io, Other, Timeout, Tls};
    let kind = match &error {
        ureq::Error::Timeout(_) => Timeout,
        ureq::Error::HostNotFound | ureq::Error::ConnectionFailed => Connect,
        ureq::Error::Tls(_) | ureq::Error::Rustls(_) | ureq::Error::Pem(_) | ureq::Error::TlsRequired => Tls,
        ureq::Error::BodyExceedsLimit(_) => BodyTooLarge,
        ureq::Error::Io(io) => TransportErrorKind::from_error_chain(io).unwrap_or(Io),
        ureq::Error::Protocol(_) => Io,
        _ => Other,
    };
    TransportError::new(kind, error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_host_header_is_the_one_ureq_would_write() {
        let host = |url: &str| host_header(url).map(|value| value.to_str().unwrap().to_owned());
        assert_eq!(host("https://appapi2.bankid.com").as_deref(), Some("appapi2.bankid.com"));
        assert_eq!(host("https://appapi2.bankid.com:443").as_deref(), Some("appapi2.bankid.com"));
        assert_eq!(host("https://127.0.0.1:8443").as_deref(), Some("127.0.0.1:8443"));
        assert_eq!(host("https://[::1]:8443").as_deref(), Some("[::1]:8443"));
        assert_eq!(host("not a url"), None);
    }

    #[test]
    fn ip_addresses_are_taken_as_they_are() {
        let resolver = IpLiteralResolver::new("https://127.0.0.1:8443");
        let config = ureq::config::Config::default();
        let resolve = |url: &str| {
            let uri = url.parse::<http::Uri>().unwrap();
            resolver.resolve(&uri, &config, NextTimeout::default()).map(|addresses| addresses.to_vec())
        };
        let addr = |s: &str| s.parse::<SocketAddr>().unwrap();
        assert_eq!(resolve("https://127.0.0.1:8443/rp/v6.0/auth").unwrap(), [addr("127.0.0.1:8443")]);
        assert_eq!(resolve("https://10.0.0.1/rp/v6.0/auth").unwrap(), [addr("10.0.0.1:443")]);
        assert_eq!(resolve("https://[::1]:9000/").unwrap(), [addr("[::1]:9000")]);
        assert!(matches!(resolve("https://no-such-host.invalid/"), Err(ureq::Error::HostNotFound)));
    }
}
