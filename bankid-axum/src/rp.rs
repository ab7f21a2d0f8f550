//! What the relying party plugs in: which orders it starts ([`Rp::start`]) and what happens
//! when one completes ([`Rp::completed`]), where it creates its own session.

use std::fmt;
use std::future::Future;
use std::net::IpAddr;

use bankid_core::{AuthRequest, CompletionData, PaymentRequest, SignRequest, StartMode};
use http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};

/// The kind of order: the endpoint it was started at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub enum OrderKind {
    /// Identification (`/auth`).
    Auth,
    /// Signature (`/sign`).
    Sign,
    /// Approval of a payment (`/payment`).
    Payment,
}

impl OrderKind {
    /// `auth`, `sign` or `payment`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Auth => "auth",
            Self::Sign => "sign",
            Self::Payment => "payment",
        }
    }
}

/// What the router knows when an order is about to start.
#[derive(Debug)]
#[non_exhaustive]
pub struct StartContext<'a> {
    /// What the browser asked for.
    pub kind: OrderKind,
    /// The user's IP address from the trusted source ([`crate::IpSource`]): the `endUserIp`.
    pub end_user_ip: IpAddr,
    /// The `context` the browser sent (e.g. the id of what to sign), at most
    /// [`crate::MAX_CONTEXT_LEN`] characters. It comes from the browser: check it. It is kept
    /// sealed in the cookie and handed back in [`Completed::context`] and on restarts.
    pub context: Option<&'a str>,
    /// The request's headers (e.g. to find the RP's own session cookie).
    pub headers: &'a HeaderMap,
    /// How many times this order has been restarted after `startFailed` (0 on the first start).
    pub restart: u32,
}

/// The start request the RP builds for a [`StartContext`]. The router adds the `web` device
/// data and, on iOS Safari, the `returnUrl`, replacing any the RP set.
#[derive(Debug)]
#[non_exhaustive]
pub enum StartRequest {
    /// Identification.
    Auth(AuthRequest),
    /// Signature.
    Sign(SignRequest),
    /// Approval of a payment.
    Payment(PaymentRequest),
}

impl StartRequest {
    /// The kind of order.
    #[must_use]
    pub fn kind(&self) -> OrderKind {
        match self {
            Self::Auth(_) => OrderKind::Auth,
            Self::Sign(_) => OrderKind::Sign,
            Self::Payment(_) => OrderKind::Payment,
        }
    }
}

impl From<AuthRequest> for StartRequest {
    fn from(request: AuthRequest) -> Self {
        Self::Auth(request)
    }
}

impl From<SignRequest> for StartRequest {
    fn from(request: SignRequest) -> Self {
        Self::Sign(request)
    }
}

impl From<PaymentRequest> for StartRequest {
    fn from(request: PaymentRequest) -> Self {
        Self::Payment(request)
    }
}

/// An order just started (for observers; no secrets).
#[derive(Debug)]
#[non_exhaustive]
pub struct Started<'a> {
    /// The kind of order.
    pub kind: OrderKind,
    /// The order reference.
    pub order_ref: &'a str,
    /// How the user's app gets the order.
    pub mode: StartMode,
    /// How many restarts after `startFailed` came before this start.
    pub restart: u32,
}

/// A completed order, handed to [`Rp::completed`] exactly once by the status poll that saw it
/// complete. Create your session here.
#[non_exhaustive]
pub struct Completed {
    /// The kind of order.
    pub kind: OrderKind,
    /// The order reference.
    pub order_ref: String,
    /// The `context` the order was started with.
    pub context: Option<String>,
    /// Who identified or signed, the signature and the OCSP response: keep them for audit.
    pub data: Box<CompletionData>,
    /// The headers of the status request that saw the completion.
    pub headers: HeaderMap,
}

impl fmt::Debug for Completed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Completed")
            .field("kind", &self.kind)
            .field("order_ref", &self.order_ref)
            .field("context", &self.context.as_ref().map(|_| "[redacted]"))
            .field("data", &self.data)
            .finish_non_exhaustive()
    }
}

/// What the status response carries after [`Rp::completed`]: a JSON value for the page (as
/// `result`) and headers (e.g. `Set-Cookie` for the RP's session).
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct Reply {
    /// Handed to the page as the `result` member of the status response.
    pub body: serde_json::Value,
    /// Added to the status response (e.g. `Set-Cookie`).
    pub headers: HeaderMap,
}

impl Reply {
    /// A reply with this body and no headers.
    #[must_use]
    pub fn new(body: serde_json::Value) -> Self {
        Self { body, headers: HeaderMap::new() }
    }

    /// Adds a header (e.g. `Set-Cookie`).
    #[must_use]
    pub fn header(mut self, name: http::header::HeaderName, value: http::HeaderValue) -> Self {
        self.headers.append(name, value);
        self
    }
}

/// A refusal by the RP, sent to the browser as `{"error": code, "message": message}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    /// The HTTP status.
    pub status: StatusCode,
    /// A short machine-readable code, e.g. `not_offered`.
    pub code: String,
    /// A message for the page.
    pub message: String,
}

impl Rejection {
    /// A refusal with this status, code and message.
    #[must_use]
    pub fn new(status: StatusCode, code: impl Into<String>, message: impl Into<String>) -> Self {
        Self { status, code: code.into(), message: message.into() }
    }
}

/// The relying party's part of the flow.
pub trait Rp: Send + Sync + 'static {
    /// Builds the start request. The default starts identifications only
    /// (`AuthRequest::new(end_user_ip)`) and refuses signing and payments.
    ///
    /// # Errors
    /// A [`Rejection`] is sent to the browser and nothing is started.
    fn start(&self, start: &StartContext<'_>) -> Result<StartRequest, Rejection> {
        match start.kind {
            OrderKind::Auth => Ok(AuthRequest::new(start.end_user_ip).into()),
            kind => Err(Rejection::new(
                StatusCode::NOT_FOUND,
                "not_offered",
                format!("this site does not offer {} orders", kind.as_str()),
            )),
        }
    }

    /// The order completed: create the session, keep the completion data for audit. Called
    /// once per order.
    fn completed(&self, completed: Completed) -> impl Future<Output = Result<Reply, Rejection>> + Send;

    /// An order started (also after each restart). For observers; the default does nothing.
    fn started(&self, _started: &Started<'_>) {}

    /// The QR content handed to the browser for `order_ref` (it is public: the browser draws
    /// it). For tests and demos whose simulated phone scans what the page shows; the default
    /// does nothing.
    fn qr_shown(&self, _order_ref: &str, _content: &str) {}
}
