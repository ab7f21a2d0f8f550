//! The one error type of the workspace.
//!
//! Every failure - a BankID error response, a response that is not what BankID sends, bad input
//! caught before sending, unusable TLS material, a transport failure - is an [`Error`]. Each one
//! answers three questions: which [`ErrorCode`] (if any), may it be retried, and which user
//! message ([`Rfa`]) to show.

use std::fmt;

use http::StatusCode;

use crate::codes::{Endpoint, ErrorCode};
pub use crate::input::InvalidInput;
use crate::messages::Rfa;
use crate::tls::IdentityError;

/// How many bytes of an unexpected response body an error keeps.
pub const BODY_EXCERPT_LIMIT: usize = 512;

/// Everything that can go wrong talking to BankID.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// BankID answered with an error (`{"errorCode": ..., "details": ...}`), or with an error
    /// status whose body could not be read, in which case the code follows from the status.
    #[error(transparent)]
    Api(#[from] ApiError),
    /// The response was not what BankID sends: a wrong status, content type or body.
    #[error(transparent)]
    UnexpectedResponse(#[from] UnexpectedResponse),
    /// The request was rejected before anything was sent.
    #[error(transparent)]
    InvalidInput(#[from] InvalidInput),
    /// The client identity or the trust roots could not be loaded.
    #[error(transparent)]
    Identity(#[from] IdentityError),
    /// The request or response did not make it across the network.
    #[error(transparent)]
    Transport(#[from] TransportError),
}

impl Error {
    /// The BankID error code, for API errors.
    #[must_use]
    pub fn error_code(&self) -> Option<&ErrorCode> {
        match self {
            Self::Api(api) => Some(&api.code),
            _ => None,
        }
    }

    /// Whether the request that failed with this error may be sent again automatically.
    ///
    /// Only `maintenance` may be retried (spec §4.2), and transport failures of requests that
    /// only read (`collect`): a start or cancel request that timed out may have reached BankID.
    /// `internalError`, `requestTimeout` and every 4xx must not be retried.
    #[must_use]
    pub fn is_retryable(&self, endpoint: Endpoint) -> bool {
        match self {
            Self::Api(api) => api.code == ErrorCode::Maintenance,
            // The same oversized answer would come again.
            Self::Transport(error) if error.kind() == TransportErrorKind::BodyTooLarge => false,
            Self::Transport(_) => endpoint.is_idempotent_read(),
            Self::UnexpectedResponse(_) | Self::InvalidInput(_) | Self::Identity(_) => false,
        }
    }

    /// The message the user should see (spec §5.2): RFA4 for `alreadyInProgress`, RFA5 for
    /// `requestTimeout`, `internalError`, `maintenance` and network failures, RFA22 otherwise.
    #[must_use]
    pub fn user_message(&self) -> Rfa {
        match self {
            Self::Api(api) => Rfa::for_error_code(&api.code),
            Self::Transport(_) => Rfa::Rfa5,
            _ => Rfa::Rfa22,
        }
    }
}

/// An error response from BankID.
#[derive(Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
#[error("bankid error {code} (http {}): {details}", status.as_u16())]
pub struct ApiError {
    /// The error code.
    pub code: ErrorCode,
    /// BankID's free-text details, for logs only (never for the end user).
    pub details: String,
    /// The HTTP status.
    pub status: StatusCode,
    /// The body as received, bounded to [`BODY_EXCERPT_LIMIT`] bytes (lossy UTF-8).
    pub body: String,
    /// True when the body held no usable `errorCode` and the code was taken from the status.
    pub inferred_from_status: bool,
}

impl fmt::Debug for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiError")
            .field("code", &self.code)
            .field("details", &self.details)
            .field("status", &self.status.as_u16())
            .field("inferred_from_status", &self.inferred_from_status)
            .finish_non_exhaustive()
    }
}

/// What was wrong with an [`UnexpectedResponse`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum UnexpectedKind {
    /// A status BankID does not use (a redirect, a 502 from a proxy, ...).
    Status,
    /// A success status with a content type other than `application/json`.
    ContentType,
    /// A success status with an empty body.
    EmptyBody,
    /// A body that is not the JSON document the endpoint answers with.
    Body(String),
    /// A well-formed answer about another order than the one asked about.
    ForeignOrder,
}

/// A response that is not what BankID sends; keeps the status and a bounded excerpt of the body.
#[derive(Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
#[error("unexpected response from bankid (http {}): {}", status.as_u16(), describe(kind))]
pub struct UnexpectedResponse {
    /// What was wrong.
    pub kind: UnexpectedKind,
    /// The HTTP status.
    pub status: StatusCode,
    /// The `Content-Type` header, if any.
    pub content_type: Option<String>,
    /// The first [`BODY_EXCERPT_LIMIT`] bytes of the body (lossy UTF-8).
    pub excerpt: String,
}

fn describe(kind: &UnexpectedKind) -> String {
    match kind {
        UnexpectedKind::Status => "status not used by the bankid api".to_owned(),
        UnexpectedKind::ContentType => "content type is not application/json".to_owned(),
        UnexpectedKind::EmptyBody => "empty body".to_owned(),
        UnexpectedKind::Body(why) => format!("malformed body: {why}"),
        UnexpectedKind::ForeignOrder => "the answer is about another order".to_owned(),
    }
}

impl fmt::Debug for UnexpectedResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The excerpt of a success body may hold personal data: only its length is shown.
        f.debug_struct("UnexpectedResponse")
            .field("kind", &self.kind)
            .field("status", &self.status.as_u16())
            .field("content_type", &self.content_type)
            .field("excerpt_len", &self.excerpt.len())
            .finish()
    }
}

/// The kind of a [`TransportError`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TransportErrorKind {
    /// The request or the response took longer than the configured timeout.
    Timeout,
    /// No connection could be made (DNS, refused, unreachable).
    Connect,
    /// The TLS handshake failed (untrusted server certificate, rejected client certificate, ...).
    Tls,
    /// The connection broke while sending or receiving.
    Io,
    /// The response body was larger than [`MAX_RESPONSE_BODY`](crate::MAX_RESPONSE_BODY).
    /// Never retried: the same answer would come again.
    BodyTooLarge,
    /// The transport could not build or send the request for another reason.
    Other,
}

impl TransportErrorKind {
    /// The kind told by the first telling error in `error`'s chain of sources, for transports
    /// whose errors wrap others: a `rustls::Error` anywhere (even inside an `io::Error`) is
    /// [`Tls`](Self::Tls); an `io::Error` that timed out is [`Timeout`](Self::Timeout), one
    /// that could not reach the server [`Connect`](Self::Connect), any other [`Io`](Self::Io).
    /// `None` when nothing in the chain tells.
    #[must_use]
    pub fn from_error_chain(error: &(dyn std::error::Error + 'static)) -> Option<Self> {
        use std::io::ErrorKind;
        let mut kind = None;
        let mut next = Some(error);
        while let Some(error) = next {
            #[cfg(feature = "rustls")]
            if error.is::<rustls::Error>() {
                return Some(Self::Tls);
            }
            next = error.source();
            if let Some(io) = error.downcast_ref::<std::io::Error>() {
                if kind.is_none() {
                    kind = Some(match io.kind() {
                        ErrorKind::TimedOut | ErrorKind::WouldBlock => Self::Timeout,
                        ErrorKind::ConnectionRefused
                        | ErrorKind::AddrNotAvailable
                        | ErrorKind::HostUnreachable
                        | ErrorKind::NetworkUnreachable => Self::Connect,
                        _ => Self::Io,
                    });
                }
                // `io::Error::source` skips the error it wraps; look at that one too.
                next = io.get_ref().map(|inner| inner as &(dyn std::error::Error + 'static)).or(next);
            }
        }
        kind
    }
}

impl fmt::Display for TransportErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Timeout => "timed out",
            Self::Connect => "connection failed",
            Self::Tls => "tls failure",
            Self::Io => "i/o failure",
            Self::BodyTooLarge => {
                return write!(f, "response body larger than the {}-byte limit", crate::config::MAX_RESPONSE_BODY);
            }
            Self::Other => "transport failure",
        })
    }
}

/// A failure of the HTTP transport, with an opaque source.
///
/// The source is the transport crate's own error (ureq, reqwest, hyper, io); it is reachable
/// through [`std::error::Error::source`] for logs but is not part of this crate's API.
#[derive(Debug, thiserror::Error)]
#[error("{kind}")]
pub struct TransportError {
    kind: TransportErrorKind,
    #[source]
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

impl TransportError {
    /// A transport error of `kind` caused by `source`.
    pub fn new(
        kind: TransportErrorKind,
        source: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>,
    ) -> Self {
        Self { kind, source: Some(source.into()) }
    }

    /// A transport error of `kind` without an underlying error.
    #[must_use]
    pub fn from_kind(kind: TransportErrorKind) -> Self {
        Self { kind, source: None }
    }

    /// The kind of failure.
    #[must_use]
    pub fn kind(&self) -> TransportErrorKind {
        self.kind
    }

    /// Whether the failure was a timeout.
    #[must_use]
    pub fn is_timeout(&self) -> bool {
        self.kind == TransportErrorKind::Timeout
    }
}

/// Lossy UTF-8 of at most [`BODY_EXCERPT_LIMIT`] bytes of `body`, cut at a character boundary.
pub(crate) fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(BODY_EXCERPT_LIMIT)]);
    let mut end = text.len().min(BODY_EXCERPT_LIMIT);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_chains_tell_their_kind() {
        let io = |kind| std::io::Error::new(kind, "x");
        assert_eq!(
            TransportErrorKind::from_error_chain(&io(std::io::ErrorKind::TimedOut)),
            Some(TransportErrorKind::Timeout)
        );
        assert_eq!(
            TransportErrorKind::from_error_chain(&io(std::io::ErrorKind::ConnectionRefused)),
            Some(TransportErrorKind::Connect)
        );
        assert_eq!(
            TransportErrorKind::from_error_chain(&io(std::io::ErrorKind::BrokenPipe)),
            Some(TransportErrorKind::Io)
        );
        assert_eq!(TransportErrorKind::from_error_chain(&fmt::Error), None);
        #[cfg(feature = "rustls")]
        {
            let tls = std::io::Error::new(std::io::ErrorKind::InvalidData, rustls::Error::DecryptError);
            assert_eq!(TransportErrorKind::from_error_chain(&tls), Some(TransportErrorKind::Tls));
        }
    }
}
