//! Swedish BankID in the browser, for [axum](https://docs.rs/axum) 0.8: a stateless login and
//! signing flow on the [`bankid_tokio::Client`].
//!
//! [`BankId::router`] is a `Router` you mount under any path (e.g. `/bankid`). It starts orders
//! (auth, sign, payment) built from the HTTP request, reports their status once a second with
//! the user message, the animated QR code (as SVG and as content) and the app's launch URL for
//! the user's device, cancels them, and serves a small widget (`widget.js`, a few KB, no
//! framework, no CDN). A completed order reaches you through [`Rp::completed`], where you
//! create your own session; you never handle the QR secret.
//!
//! ```no_run
//! use std::net::SocketAddr;
//! use bankid_axum::{BankId, Completed, Key, Reply, Rejection, Rp, Settings};
//!
//! struct Site;
//!
//! impl Rp for Site {
//!     async fn completed(&self, done: Completed) -> Result<Reply, Rejection> {
//!         // Create your session for done.data.user here; keep done.data for audit.
//!         Ok(Reply::new(serde_json::json!({ "redirect": "/" })))
//!     }
//! }
//!
//! # async fn run(client: bankid_tokio::Client<impl bankid_tokio::HttpTransport>) -> std::io::Result<()> {
//! let key = Key::from_hex("00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff").unwrap();
//! let bankid = BankId::new(client, Settings::new(vec![key]), Site).expect("a key");
//! let app = axum::Router::new().nest("/bankid", bankid.router());
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
//! axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await
//! # }
//! ```
//!
//! and in the page:
//!
//! ```html
//! <div data-bankid="auth" data-bankid-base="/bankid" data-lang="sv"></div>
//! <script src="/bankid/widget.js" defer></script>
//! ```
//!
//! # Stateless across instances
//! Nothing is stored on the server. The order's state - what the core needs to resume it (order
//! reference, tokens, the QR secret, the start time as wall-clock time), the time of the last
//! collect, the latest hint code, the device, the return nonce, the restart count and the
//! per-session count of orders - lives in a cookie sealed with AES-256-GCM ([`seal`]) under the
//! keys of [`Settings::keys`] (the first seals, all open: rotation). A tampered, expired,
//! foreign-key or other-purpose cookie is refused with `401 invalid_session`. Each status poll
//! opens the cookie, collects when a collect is due (2 s after the last one, never within 1 s,
//! whichever instance sent it), computes the QR content for the current second and seals the
//! new state. Run as many instances as you like with the same keys; no sticky sessions.
//!
//! Polls of one browser must not overlap (the widget waits for each answer before the next):
//! two overlapping polls read the same cookie and could both collect.
//!
//! # The JSON API, for single-page apps that bring their own UI
//! Every endpoint is `POST` with a JSON body (an empty body counts as `{}`), answers JSON with
//! `Cache-Control: no-store`, and needs the browser's `Origin` header naming an allowed origin
//! ([`Settings::allowed_origins`], by default the request's own `Host`). Send cookies along
//! (`credentials: "same-origin"`).
//!
//! | endpoint | body | answer |
//! |---|---|---|
//! | `POST /auth`, `/sign`, `/payment` | `{"mode"?: "qr" \| "autoStart", "lang"?: "en" \| "sv", "context"?: string, "returnPath"?: "/path"}` | a status (below) and the sealed cookie |
//! | `POST /status` | `{"lang"?, "returnNonce"?}` | a status |
//! | `POST /cancel` | `{}` | `{"status": "cancelled", ...}` |
//! | `GET /widget.js` | | the widget |
//!
//! - `mode` defaults to `qr` on computers and `autoStart` on phones and tablets (from the
//!   `User-Agent`); it only chooses the user messages: the launch URL works in both.
//! - `context` (at most [`MAX_CONTEXT_LEN`] characters) goes to [`Rp::start`], e.g. which text
//!   to sign; it is sealed in the cookie and handed back in [`Completed::context`].
//! - `returnPath` is the page the BankID app returns to on iOS Safari (`returnUrl`), as
//!   `origin + returnPath + "#bankid-return=" + nonce`. That page polls status with
//!   `returnNonce` set to the nonce; a nonce that does not belong to this browser's order gets
//!   `403 foreign_return` (the widget does this by itself).
//!
//! A status:
//!
//! ```json
//! {
//!   "status": "pending",                // pending | complete | failed | cancelled | error
//!   "kind": "auth",                      // auth | sign | payment
//!   "orderRef": "131daac9-16c6-4618-beb0-365768f37288",
//!   "mode": "qr",                        // qr | autoStart
//!   "hintCode": "outstandingTransaction",// pending, failed; the error code for error
//!   "message": {"code": "RFA1", "text": "Start your BankID app."},
//!   "qr": {"content": "bankid.<token>.<seconds>.<code>", "svg": "<svg ...>"},
//!   "launchUrl": "bankid:///?autostarttoken=...&redirect=null",
//!   "restarts": 0, "restarted": false,   // restarted: a new order replaced one that got startFailed
//!   "result": {},                        // complete: the body of your Rp::completed reply
//!   "pollAfterMs": 1000                  // pending: poll again after this long
//! }
//! ```
//!
//! Show `qr.svg` (or draw `qr.content` yourself) while `qr` is present; it changes every
//! second. Link `launchUrl` from a button ("Open BankID on this device"): on a computer it is
//! `bankid:///...&redirect=null` (set `window.location.href`); on Android and in in-app
//! browsers the app link with `redirect=null`; on iOS the app link with a redirect back to the
//! page (Safari, with the nonce), `googlechrome://` (Chrome) or `firefox://` (Firefox); see
//! [`device::Platform`]. After `startFailed` the order is restarted automatically at most
//! [`Settings::max_restarts`] times (`restarted: true`, a new QR code); then the status is
//! `failed`.
//!
//! Errors are `{"error": code, "message": text, "rfa"?: {"code", "text"}}` with these codes:
//! `400 bad_request`, `401 invalid_session` (the cookie was refused and is cleared),
//! `403 origin_refused`, `403 foreign_return`, `404 no_order`, `404 not_offered` (from the
//! default [`Rp::start`]), `429 too_many_orders` ([`Settings::max_orders_per_session`]),
//! `502 bankid_error` (with the user message for BankID's error code, e.g. RFA4 for
//! `alreadyInProgress`; also for answers that are not BankID's), `502 bankid_unreachable`
//! (a transport failure), `400 invalid_input` (your start request breaks BankID's rules, e.g. a
//! text too long: nothing was sent), `500 no_client_ip`, and any [`Rejection`] of yours.
//!
//! # Security
//! - Cookies are `HttpOnly`, `SameSite=Strict`, and `Secure` except on loopback hosts
//!   ([`SecureCookies`]); the QR secret is only ever in the sealed cookie.
//! - Every endpoint that changes state checks `Origin` (and `Sec-Fetch-Site` when sent).
//! - `endUserIp` comes from the configured [`IpSource`] only: the socket, or a header your own
//!   proxy sets (its last value).
//! - One browser session starts at most [`Settings::max_orders_per_session`] orders per
//!   window. The count lives in the cookie, so a client that drops cookies escapes it: it
//!   bounds honest browsers and scripts that keep cookies; rate-limit by IP address in front.
//! - The crate logs nothing; `Debug` output of personal data prints `[redacted]`.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod api;
#[doc(hidden)]
pub mod bench;
mod cookie;
pub mod device;
mod flow;
mod rp;
pub mod seal;
mod settings;
mod state;
pub mod svg;

use std::fmt;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use bankid_tokio::{Client, HttpTransport};
use http::HeaderValue;
use http::header::{CACHE_CONTROL, CONTENT_TYPE};

pub use api::MAX_CONTEXT_LEN;
pub use rp::{Completed, OrderKind, Rejection, Reply, Rp, StartContext, StartRequest, Started};
pub use seal::{Key, KeyError};
pub use settings::{IpSource, SecureCookies, Settings};

/// The widget served at `GET /widget.js`.
pub const WIDGET_JS: &str = include_str!("../assets/widget.js");

/// The settings cannot be used.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SettingsError {
    /// [`Settings::keys`] is empty.
    NoKeys,
    /// The cookie path or a cookie name holds characters a cookie cannot.
    InvalidCookie(&'static str),
}

impl fmt::Display for SettingsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoKeys => f.write_str("no cookie keys: give at least one"),
            Self::InvalidCookie(what) => write!(f, "the {what} holds characters a cookie cannot"),
        }
    }
}

impl std::error::Error for SettingsError {}

/// BankID for an axum site: the client, the settings and your [`Rp`]. Clones share them.
pub struct BankId<T, R> {
    inner: Arc<api::Inner<T, R>>,
}

impl<T, R> Clone for BankId<T, R> {
    fn clone(&self) -> Self {
        Self { inner: Arc::clone(&self.inner) }
    }
}

impl<T: HttpTransport, R: Rp> fmt::Debug for BankId<T, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BankId")
            .field("client", &self.inner.client)
            .field("sealer", &self.inner.sealer)
            .finish_non_exhaustive()
    }
}

/// The purpose the order cookie is sealed for (part of the authenticated data).
const PURPOSE: &str = "bankid-axum/order/v1";

impl<T: HttpTransport, R: Rp> BankId<T, R> {
    /// BankID with this client, these settings and your RP.
    ///
    /// # Errors
    /// [`SettingsError`] when there is no key or a cookie attribute is unusable.
    pub fn new(client: Client<T>, settings: Settings, rp: R) -> Result<Self, SettingsError> {
        let cookie_safe = |text: &str| {
            !text.is_empty() && text.bytes().all(|b| b.is_ascii_graphic() && !matches!(b, b';' | b',' | b'=' | b'"'))
        };
        if !cookie_safe(&settings.cookie_name) || !cookie_safe(&settings.device_cookie_name) {
            return Err(SettingsError::InvalidCookie("cookie name"));
        }
        if !settings.cookie_path.starts_with('/') || !cookie_safe(&settings.cookie_path) {
            return Err(SettingsError::InvalidCookie("cookie path"));
        }
        let purpose = format!("{PURPOSE}/{}", settings.cookie_name);
        let sealer = seal::Sealer::new(&settings.keys, &purpose).ok_or(SettingsError::NoKeys)?;
        let rng = ring::rand::SystemRandom::new();
        Ok(Self { inner: Arc::new(api::Inner { client, settings, sealer, rp, rng }) })
    }

    /// Your RP.
    #[must_use]
    pub fn rp(&self) -> &R {
        &self.inner.rp
    }

    /// The router: `POST /auth`, `/sign`, `/payment`, `/status`, `/cancel` and
    /// `GET /widget.js`. Mount it with `Router::nest`; it fits a router of any state `S`.
    pub fn router<S: Clone + Send + Sync + 'static>(&self) -> Router<S> {
        let start = |kind: OrderKind| {
            post(move |State(app): State<api::App<T, R>>, request: Request| api::start(app, kind, request))
        };
        Router::new()
            .route("/auth", start(OrderKind::Auth))
            .route("/sign", start(OrderKind::Sign))
            .route("/payment", start(OrderKind::Payment))
            .route("/status", post(|State(app): State<api::App<T, R>>, request: Request| api::status(app, request)))
            .route("/cancel", post(|State(app): State<api::App<T, R>>, request: Request| api::cancel(app, request)))
            .route("/widget.js", get(widget))
            .with_state(Arc::clone(&self.inner))
    }
}

async fn widget() -> impl IntoResponse {
    (
        [
            (CONTENT_TYPE, HeaderValue::from_static("text/javascript; charset=utf-8")),
            (CACHE_CONTROL, HeaderValue::from_static("max-age=300")),
        ],
        WIDGET_JS,
    )
}
