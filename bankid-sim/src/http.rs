//! HTTP helpers shared by the `/rp/` endpoints ([`crate::server`]) and the `/sim/` control
//! endpoints ([`crate::simapi`]): the response body, JSON and error answers, and reading a
//! request body with a size cap and a deadline.

use std::collections::VecDeque;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use http::{HeaderValue, Response, StatusCode};
use http_body_util::{BodyExt, Limited};
use hyper::body::{Body, Frame, Incoming, SizeHint};
use serde_json::json;

use crate::validate::ApiError;

/// A response body in chunks, that can stop halfway on purpose.
#[derive(Debug)]
pub(crate) struct SimBody {
    chunks: VecDeque<Bytes>,
    then_fail: bool,
}

impl SimBody {
    pub(crate) fn full(data: impl Into<Bytes>) -> Self {
        Self::chunked([data.into()])
    }

    /// A body sent chunk by chunk (chunks of `'static` data cost no memory per response).
    pub(crate) fn chunked(chunks: impl IntoIterator<Item = Bytes>) -> Self {
        Self { chunks: chunks.into_iter().filter(|c| !c.is_empty()).collect(), then_fail: false }
    }

    pub(crate) fn len(&self) -> usize {
        self.chunks.iter().map(Bytes::len).sum()
    }

    /// The whole body in one buffer.
    pub(crate) fn to_vec(&self) -> Vec<u8> {
        self.chunks.iter().flat_map(|c| c.iter().copied()).collect()
    }

    /// The first half of the body, then an error: the connection closes halfway through.
    pub(crate) fn truncated(self) -> Self {
        let half = Bytes::from(self.to_vec()).slice(..self.len() / 2);
        Self { chunks: VecDeque::from([half]), then_fail: true }
    }
}

impl Body for SimBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        if let Some(d) = self.chunks.pop_front() {
            return Poll::Ready(Some(Ok(Frame::data(d))));
        }
        if std::mem::take(&mut self.then_fail) {
            return Poll::Ready(Some(Err(io::Error::other("body truncated on purpose"))));
        }
        Poll::Ready(None)
    }

    fn is_end_stream(&self) -> bool {
        self.chunks.is_empty() && !self.then_fail
    }

    fn size_hint(&self) -> SizeHint {
        if self.then_fail { SizeHint::default() } else { SizeHint::with_exact(self.len() as u64) }
    }
}

/// The service's error: hyper closes the connection without answering.
#[derive(Debug)]
pub(crate) struct DropConnection;

impl std::fmt::Display for DropConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped on purpose")
    }
}

impl std::error::Error for DropConnection {}

pub(crate) type Resp = Response<SimBody>;

pub(crate) fn response(status: u16, content_type: &'static str, body: impl Into<Bytes>) -> Resp {
    chunked_response(status, content_type, SimBody::full(body))
}

pub(crate) fn chunked_response(status: u16, content_type: &'static str, body: SimBody) -> Resp {
    let len = body.len();
    let mut resp = Response::new(body);
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let h = resp.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(CONTENT_LENGTH, HeaderValue::from(len));
    resp
}

pub(crate) fn json_response(status: u16, value: &impl serde::Serialize) -> Resp {
    let body = serde_json::to_vec(value).unwrap_or_else(|_| b"{}".to_vec());
    response(status, "application/json", body)
}

pub(crate) fn error_response(e: &ApiError) -> Resp {
    json_response(e.status, &json!({ "errorCode": e.code, "details": e.details }))
}

/// Reads a request body with a size cap and a deadline. A body whose `Content-Length` is over
/// the cap is refused before it is read, so a client that asked for `100 Continue` gets the
/// refusal instead (hyper sends `100 Continue` only when the body is first read).
pub(crate) async fn read_body(body: Incoming, limit: usize, deadline: Duration) -> Result<Bytes, ApiError> {
    if body.size_hint().lower() > limit as u64 {
        return Err(too_big());
    }
    match tokio::time::timeout(deadline, Limited::new(body, limit).collect()).await {
        Err(_) => Err(ApiError::new(408, "requestTimeout", "It took too long to transmit the request")),
        Ok(Err(e)) if e.downcast_ref::<http_body_util::LengthLimitError>().is_some() => Err(too_big()),
        Ok(Err(_)) => Err(ApiError::invalid("Invalid request body")),
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
    }
}

fn too_big() -> ApiError {
    ApiError::invalid("Too big content")
}
