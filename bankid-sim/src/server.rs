//! The HTTPS server: TLS with client certificates, HTTP/1.1 keep-alive, routing, the `/rp/v6.0/`
//! endpoints and fault injection.

use std::collections::VecDeque;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::header::{ALLOW, CONTENT_LENGTH, CONTENT_TYPE, LOCATION};
use http::{HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Limited};
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use rustls::ServerConfig;
use rustls::server::WebPkiClientVerifier;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

use crate::Error;
use crate::config::ControlApi;
use crate::fault::{DEFAULT_REDIRECT, Endpoint, Fault};
use crate::orders::{CollectBody, Order, foreign_answer};
use crate::pki::Pki;
use crate::simulator::SimHandle;
use crate::stall::StallGuard;
use crate::validate::{self, ApiError};

/// Largest accepted `/rp/` request body (sign allows 40 000 + 200 000 base64 characters).
const MAX_BODY: usize = 512 * 1024;
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// After a failed handshake: how long the socket is kept open (write side shut) to read what
/// the client still sends, so that closing it does not reset the connection.
const LINGER_TIMEOUT: Duration = Duration::from_secs(1);
/// After a failed handshake: at most this much is read and discarded before the socket closes.
const LINGER_MAX_BYTES: u64 = 64 * 1024;
/// Longest `Fault::Delay` honoured.
const MAX_DELAY: Duration = Duration::from_secs(600);
/// The 401 answer of `/sim/` without a client certificate.
const SIM_UNAUTHORIZED: &str =
    "the /sim/ control API needs a client certificate from the simulator's RP CA (e.g. rp-1.pem), as /rp/ does";
const CHARSET_DETAILS: &str = "Adding a 'charset' parameter after 'application/json' is not allowed since the MIME type 'application/json' has neither optional nor required parameters";

/// The rustls server configuration: the simulator's server certificate, and client
/// certificates verified against the RP CA, optional at the handshake (a client without one
/// gets HTTP 401), rejected at the handshake if from any other CA.
pub(crate) fn tls_config(pki: &Pki) -> Result<Arc<ServerConfig>, Error> {
    let tls = |e: &dyn std::fmt::Display| Error::Tls(e.to_string());
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    roots.add(CertificateDer::from(pki.rp_ca_der().to_vec())).map_err(|e| tls(&e))?;
    let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .allow_unauthenticated()
        .build()
        .map_err(|e| tls(&e))?;
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(pki.server_key_der().to_vec()));
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| tls(&e))?
        .with_client_cert_verifier(verifier)
        .with_single_cert(vec![CertificateDer::from(pki.server_cert_der().to_vec())], key)
        .map_err(|e| tls(&e))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

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
    fn chunked(chunks: impl IntoIterator<Item = Bytes>) -> Self {
        Self { chunks: chunks.into_iter().filter(|c| !c.is_empty()).collect(), then_fail: false }
    }

    fn len(&self) -> usize {
        self.chunks.iter().map(Bytes::len).sum()
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

fn chunked_response(status: u16, content_type: &'static str, body: SimBody) -> Resp {
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

/// Accepts connections (at most `max_connections` open at once) until `shutdown` fires, then
/// lets open connections finish (at most 5 s) and stops.
pub(crate) async fn serve(
    listener: TcpListener,
    tls: Arc<ServerConfig>,
    sim: SimHandle,
    max_connections: usize,
    mut shutdown: watch::Receiver<bool>,
) {
    let acceptor = TlsAcceptor::from(tls);
    let mut conns = JoinSet::new();
    let slots = Arc::new(Semaphore::new(max_connections.clamp(1, Semaphore::MAX_PERMITS)));
    loop {
        // Take a connection slot first: at the limit, new clients wait in the listen backlog.
        let slot = tokio::select! {
            _ = shutdown.changed() => break,
            slot = slots.clone().acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break, // never closed
            },
            Some(_) = conns.join_next(), if !conns.is_empty() => continue,
        };
        tokio::select! {
            _ = shutdown.changed() => break,
            accepted = listener.accept() => match accepted {
                Ok((tcp, _)) => {
                    sim.shared().connection_accepted();
                    let conn = connection(acceptor.clone(), tcp, sim.clone(), shutdown.clone());
                    conns.spawn(async move {
                        conn.await;
                        drop(slot);
                    });
                }
                Err(e) => {
                    // E.g. too many open files: back off instead of spinning.
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
    drop(listener);
    let drain = async { while conns.join_next().await.is_some() {} };
    let _ = tokio::time::timeout(Duration::from_secs(5), drain).await;
    conns.shutdown().await;
}

async fn connection(acceptor: TlsAcceptor, tcp: TcpStream, sim: SimHandle, mut shutdown: watch::Receiver<bool>) {
    let _ = tcp.set_nodelay(true);
    let timings = sim.shared().ctx.timings;
    let tcp = StallGuard::new(tcp, timings.write_timeout);
    let tls = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp).into_fallible()).await {
        Ok(Ok(tls)) => tls,
        Ok(Err((e, tcp))) => {
            tracing::debug!("TLS handshake failed: {e}");
            linger(tcp.into_inner()).await;
            return;
        }
        Err(_) => return,
    };
    let rp: Option<[u8; 32]> = tls
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|certs| certs.first())
        .map(|leaf| Sha256::digest(leaf.as_ref()).into());
    let service = service_fn(move |req| {
        let sim = sim.clone();
        async move { handle(&sim, rp, req).await }
    });
    let conn = http1::Builder::new()
        .keep_alive(true)
        .timer(TokioTimer::new())
        .header_read_timeout(timings.header_read_timeout)
        .serve_connection(TokioIo::new(tls), service);
    tokio::pin!(conn);
    tokio::select! {
        res = conn.as_mut() => {
            if let Err(e) = res {
                tracing::debug!("connection ended: {e}");
            }
        }
        _ = shutdown.changed() => {
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        }
    }
}

/// Closes the socket of a failed handshake without resetting the connection.
///
/// With TLS 1.3 a client's handshake is over before the server has checked its certificate, so
/// the client may already be sending its first request when the server rejects it. Closing a
/// socket with unread data makes the kernel send a TCP reset instead of a FIN, and a client
/// that is writing then fails with "broken pipe" (or "connection reset") before it has read the
/// alert that says why. So: the alert (written by rustls into the socket before the handshake
/// future failed; a `TcpStream` has no buffer of its own, so flushing is only for form) is
/// followed by a FIN (shut down the write side), then whatever the client sends is read and
/// discarded until it closes, for at most [`LINGER_TIMEOUT`] and [`LINGER_MAX_BYTES`].
async fn linger(mut tcp: TcpStream) {
    let _ = tcp.flush().await;
    if tcp.shutdown().await.is_err() {
        return; // already reset or closed by the client
    }
    let (mut unread, mut sink) = ((&mut tcp).take(LINGER_MAX_BYTES), tokio::io::sink());
    let _ = tokio::time::timeout(LINGER_TIMEOUT, tokio::io::copy(&mut unread, &mut sink)).await;
}

/// What a fault does to a request.
enum Action {
    Respond(Resp),
    Drop,
    /// Answer normally, then spoil the answer.
    Modify(Fault),
    Continue,
}

async fn apply(fault: Fault) -> Action {
    match fault {
        Fault::Maintenance => Action::Respond(error_response(&ApiError::new(
            503,
            "maintenance",
            "The service is temporarily unavailable (simulated maintenance)",
        ))),
        Fault::InternalError => Action::Respond(error_response(&ApiError::new(
            500,
            "internalError",
            "Internal technical error (simulated)",
        ))),
        Fault::RequestTimeout => Action::Respond(error_response(&ApiError::new(
            408,
            "requestTimeout",
            "It took too long to transmit the request (simulated)",
        ))),
        Fault::Html { status } => Action::Respond(html_page(status)),
        Fault::MalformedJson => Action::Respond(response(200, "application/json", MALFORMED_JSON)),
        Fault::Oversized(size) => Action::Respond(chunked_response(200, "application/json", oversized_body(size))),
        Fault::Delay(d) => {
            tokio::time::sleep(d.min(MAX_DELAY)).await;
            Action::Continue
        }
        Fault::Drop => Action::Drop,
        Fault::Redirect(location) => {
            let mut resp = response(302, "text/html", "<html><body>Moved</body></html>");
            let value = HeaderValue::try_from(location).unwrap_or_else(|_| HeaderValue::from_static(DEFAULT_REDIRECT));
            resp.headers_mut().insert(LOCATION, value);
            Action::Respond(resp)
        }
        f @ (Fault::Truncate | Fault::WrongContentType | Fault::ForeignOrderRef) => Action::Modify(f),
    }
}

/// The body of [`Fault::MalformedJson`]: JSON that stops after a member name.
const MALFORMED_JSON: &str = r#"{"orderRef": "131daac9-16c6-4618-beb0-365768f37288", "status": "#;

/// The error page of [`Fault::Html`] (a status outside 200-599 becomes 502).
fn html_page(status: u16) -> Resp {
    let status = if Fault::is_html_status(status) { status } else { Fault::DEFAULT_HTML_STATUS };
    let reason = StatusCode::from_u16(status).ok().and_then(|s| s.canonical_reason()).unwrap_or("Error");
    let text = match status {
        502 => "The proxy server received an invalid response from an upstream server",
        503 => "The service is temporarily unavailable",
        _ => "An error page from a proxy in front of the service",
    };
    let page = format!(
        "<!DOCTYPE html>\n<html><head><title>{status} {reason}</title></head>\
         <body><h1>{reason}</h1><p>{text} (simulated by bankid-sim).</p></body></html>\n"
    );
    response(status, "text/html", page)
}

/// The body of [`Fault::Oversized`]: exactly `size` bytes (at most [`Fault::MAX_OVERSIZED`]),
/// a JSON object `{"padding":"xxx..."}` if it fits, else spaces. The padding is sent in slices
/// of one static block, so even 64 MiB answers take no memory of their own.
fn oversized_body(size: usize) -> SimBody {
    const HEAD: &[u8] = br#"{"padding":""#;
    const TAIL: &[u8] = br#""}"#;
    static XS: [u8; 64 * 1024] = [b'x'; 64 * 1024];
    let size = size.min(Fault::MAX_OVERSIZED);
    let Some(mut padding) = size.checked_sub(HEAD.len() + TAIL.len()) else {
        return SimBody::full(vec![b' '; size]);
    };
    let mut chunks = vec![Bytes::from_static(HEAD)];
    while padding > 0 {
        let n = padding.min(XS.len());
        chunks.push(Bytes::from_static(&XS[..n]));
        padding -= n;
    }
    chunks.push(Bytes::from_static(TAIL));
    SimBody::chunked(chunks)
}

fn spoil(mut resp: Resp, fault: Option<Fault>) -> Resp {
    match fault {
        Some(Fault::WrongContentType) => {
            resp.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
            resp
        }
        Some(Fault::Truncate) => {
            let (parts, body) = resp.into_parts();
            let full: Vec<u8> = body.chunks.iter().flat_map(|c| c.iter().copied()).collect();
            let half = Bytes::from(full).slice(..body.len() / 2);
            Response::from_parts(parts, SimBody { chunks: VecDeque::from([half]), then_fail: true })
        }
        _ => resp,
    }
}

async fn handle(sim: &SimHandle, rp: Option<[u8; 32]>, req: Request<Incoming>) -> Result<Resp, DropConnection> {
    let path = req.uri().path();
    if path == "/sim" || path.starts_with("/sim/") {
        return Ok(match (sim.control_api(), rp) {
            (ControlApi::Off, _) => json_response(404, &json!({ "error": "the /sim/ control API is off" })),
            (ControlApi::ClientCertificate, None) => json_response(401, &json!({ "error": SIM_UNAUTHORIZED })),
            (ControlApi::ClientCertificate, Some(_)) => crate::simapi::handle(sim, req).await,
        });
    }
    let Some(rp) = rp else {
        return Ok(error_response(&ApiError::new(
            401,
            "unauthorized",
            "A client certificate issued for the BankID RP API is required",
        )));
    };
    let Some(endpoint) = path.strip_prefix("/rp/v6.0/").and_then(Endpoint::from_path) else {
        return Ok(error_response(&ApiError::new(404, "notFound", "Not found")));
    };
    if req.method() != Method::POST {
        let mut resp = error_response(&ApiError::new(405, "methodNotAllowed", "Only HTTP method POST is allowed"));
        resp.headers_mut().insert(ALLOW, HeaderValue::from_static("POST"));
        return Ok(resp);
    }
    let mut spoiler = None;
    if let Some(fault) = sim.shared().faults.take(endpoint) {
        match apply(fault).await {
            Action::Respond(r) => return Ok(r),
            Action::Drop => return Err(DropConnection),
            Action::Modify(f) => spoiler = Some(f),
            Action::Continue => {}
        }
    }
    let result = rp_request(sim, rp, endpoint, req, &mut spoiler).await;
    match result {
        Ok(Ok(resp)) => Ok(spoil(resp, spoiler)),
        Ok(Err(e)) => Ok(spoil(error_response(&e), spoiler)),
        Err(drop) => Err(drop),
    }
}

fn check_content_type(req: &Request<Incoming>) -> Result<(), ApiError> {
    let unsupported = |d: &str| ApiError::new(415, "unsupportedMediaType", d);
    let Some(ct) = req.headers().get(CONTENT_TYPE) else {
        return Err(unsupported("Content-Type application/json is required"));
    };
    let ct = ct.to_str().map_err(|_| unsupported("Invalid Content-Type"))?;
    if ct.to_ascii_lowercase().contains("charset") {
        return Err(unsupported(CHARSET_DETAILS));
    }
    if ct.contains(';') {
        return Err(unsupported("The MIME type 'application/json' has neither optional nor required parameters"));
    }
    if !ct.trim().eq_ignore_ascii_case("application/json") {
        return Err(unsupported("Content-Type application/json is required"));
    }
    Ok(())
}

async fn rp_request(
    sim: &SimHandle,
    rp: [u8; 32],
    endpoint: Endpoint,
    req: Request<Incoming>,
    spoiler: &mut Option<Fault>,
) -> Result<Result<Resp, ApiError>, DropConnection> {
    if let Err(e) = check_content_type(&req) {
        return Ok(Err(e));
    }
    let shared = sim.shared();
    let bytes = match read_body(req.into_body(), MAX_BODY, shared.ctx.timings.request_timeout).await {
        Ok(b) => b,
        Err(e) => return Ok(Err(e)),
    };
    let Ok(body) = serde_json::from_slice::<Value>(&bytes) else {
        return Ok(Err(ApiError::invalid("Invalid JSON")));
    };
    if endpoint.starts_order() {
        return Ok(start(sim, rp, endpoint, body));
    }
    let order_ref = match validate::order_ref(&body) {
        Ok(r) => r,
        Err(e) => return Ok(Err(e)),
    };
    if let Some(fault) = shared.store.take_fault(&shared.ctx, &rp, order_ref) {
        match apply(fault).await {
            Action::Respond(r) => return Ok(Ok(r)),
            Action::Drop => return Err(DropConnection),
            Action::Modify(f) => *spoiler = Some(f),
            Action::Continue => {}
        }
    }
    if endpoint == Endpoint::Collect && *spoiler == Some(Fault::ForeignOrderRef) {
        *spoiler = None;
        return Ok(foreign_collect(sim, rp));
    }
    Ok(if endpoint == Endpoint::Collect {
        shared.store.collect(&shared.ctx, &rp, order_ref).map(|view| {
            json_response(
                200,
                &CollectBody {
                    order_ref,
                    status: view.status,
                    hint_code: view.hint.as_deref(),
                    completion_data: view.data.as_deref(),
                },
            )
        })
    } else {
        shared.store.cancel(&shared.ctx, &rp, order_ref).map(|()| json_response(200, &json!({})))
    })
}

/// The answer of [`Fault::ForeignOrderRef`] to a collect: another order's completion.
fn foreign_collect(sim: &SimHandle, rp: [u8; 32]) -> Result<Resp, ApiError> {
    let (order_ref, data) = foreign_answer(&sim.shared().ctx, rp).map_err(|e| {
        tracing::error!("foreign answer failed: {e}");
        ApiError::new(500, "internalError", "Internal technical error (simulated)")
    })?;
    let body = CollectBody { order_ref: &order_ref, status: "complete", hint_code: None, completion_data: Some(&data) };
    Ok(json_response(200, &body))
}

fn start(sim: &SimHandle, rp: [u8; 32], endpoint: Endpoint, body: Value) -> Result<Resp, ApiError> {
    let shared = sim.shared();
    let request = validate::start_request(endpoint, body)?;
    let order = Order::new(rp, shared.ctx.clock.now(), request, shared.ctx.auto);
    let order_ref = order.order_ref().to_string();
    let answer = match order.tokens() {
        Some(t) => json!({
            "orderRef": order_ref,
            "autoStartToken": t.auto_start_token,
            "qrStartToken": t.qr_start_token,
            "qrStartSecret": t.qr_start_secret,
        }),
        None => json!({ "orderRef": order_ref }),
    };
    shared.store.create(&shared.ctx, order)?;
    tracing::debug!(%endpoint, order_ref, "order created");
    Ok(json_response(200, &answer))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oversized_bodies_have_the_size_asked_for_up_to_the_maximum() {
        for size in [0, 1, 13, 14, 15, 4096, 64 * 1024 + 13, 64 * 1024 + 14, 64 * 1024 + 15, 300_000] {
            let body = oversized_body(size);
            assert_eq!(body.len(), size);
            let bytes: Vec<u8> = body.chunks.iter().flat_map(|c| c.iter().copied()).collect();
            assert_eq!(bytes.len(), size);
            assert_eq!(serde_json::from_slice::<Value>(&bytes).is_ok(), size >= 14, "{size}");
        }
        assert_eq!(oversized_body(usize::MAX).len(), Fault::MAX_OVERSIZED);
    }

    #[test]
    fn html_pages_fall_back_to_502() {
        for (asked, sent) in [(503, 503), (200, 200), (599, 599), (0, 502), (199, 502), (600, 502), (u16::MAX, 502)] {
            let page = html_page(asked);
            assert_eq!(page.status().as_u16(), sent, "{asked}");
            assert_eq!(page.headers()[CONTENT_TYPE], "text/html");
        }
        assert!(serde_json::from_str::<Value>(MALFORMED_JSON).is_err());
    }
}
