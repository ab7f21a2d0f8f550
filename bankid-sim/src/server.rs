//! The HTTPS server: TLS with client certificates, HTTP/1.1 keep-alive, routing, the `/rp/v6.0/`
//! endpoints and fault injection.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{ALLOW, CONTENT_TYPE, EXPECT, LOCATION};
use http::request::Parts;
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode};
use hyper::body::Incoming;
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
use crate::endpoint::Endpoint;
use crate::fault::{DEFAULT_REDIRECT, Fault};
use crate::http::{
    DropConnection, Resp, SimBody, chunked_response, error_response, json_response, read_body, response,
};
use crate::order::{CollectBody, Order, foreign_answer};
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
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    roots.add(CertificateDer::from(pki.rp_ca_der().to_vec())).map_err(Error::Tls)?;
    let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .allow_unauthenticated()
        .build()
        .map_err(|e| Error::Tls(rustls::Error::General(e.to_string())))?;
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(pki.server_key_der().to_vec()));
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(Error::Tls)?
        .with_client_cert_verifier(verifier)
        .with_single_cert(vec![CertificateDer::from(pki.server_cert_der().to_vec())], key)
        .map_err(Error::Tls)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
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
            Response::from_parts(parts, body.truncated())
        }
        _ => resp,
    }
}

async fn handle(sim: &SimHandle, rp: Option<[u8; 32]>, req: Request<Incoming>) -> Result<Resp, DropConnection> {
    let (parts, body) = req.into_parts();
    match route(sim, rp, &parts, body).await {
        Routed::Answer(resp) => Ok(resp),
        Routed::Unread(resp, body) => {
            discard(&parts, body, sim.shared().ctx.timings.request_timeout).await;
            Ok(resp)
        }
        Routed::Drop => Err(DropConnection),
    }
}

/// What becomes of a request.
enum Routed {
    /// This answer; the body has been dealt with.
    Answer(Resp),
    /// This answer, given before the body was read.
    Unread(Resp, Incoming),
    /// Close the connection without an answer.
    Drop,
}

/// Why an `/rp/` request gets no normal answer.
enum Failure {
    /// An error answer.
    Api(ApiError),
    /// Close the connection without an answer.
    Drop,
}

impl From<ApiError> for Failure {
    fn from(e: ApiError) -> Self {
        Self::Api(e)
    }
}

/// Reads and drops the body of a request answered without it, so that closing or reusing the
/// connection does not leave the client's data unread (closing a socket with unread data
/// resets the connection, and the client may lose the answer). Not when the client waits for
/// `100 Continue`: it has not sent the body, and is not invited to. Bodies over the limit are
/// left unread too (the connection is then closed).
async fn discard(parts: &Parts, body: Incoming, deadline: Duration) {
    let expects_continue =
        parts.headers.get(EXPECT).is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
    if !expects_continue {
        let _ = read_body(body, MAX_BODY, deadline).await;
    }
}

async fn route(sim: &SimHandle, rp: Option<[u8; 32]>, parts: &Parts, body: Incoming) -> Routed {
    let path = parts.uri.path();
    if path == "/sim" || path.starts_with("/sim/") {
        return match (sim.control_api(), rp) {
            (ControlApi::Off, _) => {
                Routed::Unread(json_response(404, &json!({ "error": "the /sim/ control API is off" })), body)
            }
            (ControlApi::ClientCertificate, None) => {
                Routed::Unread(json_response(401, &json!({ "error": SIM_UNAUTHORIZED })), body)
            }
            (ControlApi::ClientCertificate, Some(_)) => {
                Routed::Answer(crate::simapi::handle(sim, &parts.method, path, body).await)
            }
        };
    }
    let refuse = |e: ApiError, body| Routed::Unread(error_response(&e), body);
    let Some(rp) = rp else {
        return refuse(
            ApiError::new(401, "unauthorized", "A client certificate issued for the BankID RP API is required"),
            body,
        );
    };
    let Some(endpoint) = Endpoint::from_path(path) else {
        return refuse(ApiError::new(404, "notFound", "Not found"), body);
    };
    if parts.method != Method::POST {
        let mut resp = error_response(&ApiError::new(405, "methodNotAllowed", "Only HTTP method POST is allowed"));
        resp.headers_mut().insert(ALLOW, HeaderValue::from_static("POST"));
        return Routed::Unread(resp, body);
    }
    let mut spoiler = None;
    if let Some(fault) = sim.shared().faults.take(endpoint) {
        match apply(fault).await {
            Action::Respond(r) => return Routed::Unread(r, body),
            Action::Drop => return Routed::Drop,
            Action::Modify(f) => spoiler = Some(f),
            Action::Continue => {}
        }
    }
    if let Err(e) = check_content_type(&parts.headers) {
        return Routed::Unread(spoil(error_response(&e), spoiler), body);
    }
    match rp_request(sim, rp, endpoint, body, &mut spoiler).await {
        Ok(resp) => Routed::Answer(spoil(resp, spoiler)),
        Err(Failure::Api(e)) => Routed::Answer(spoil(error_response(&e), spoiler)),
        Err(Failure::Drop) => Routed::Drop,
    }
}

fn check_content_type(headers: &HeaderMap) -> Result<(), ApiError> {
    let unsupported = |d: &str| ApiError::new(415, "unsupportedMediaType", d);
    let Some(ct) = headers.get(CONTENT_TYPE) else {
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

/// An `/rp/` request with an acceptable content type: reads the body, validates it, and
/// answers (per-order faults apply here, after the body is read).
async fn rp_request(
    sim: &SimHandle,
    rp: [u8; 32],
    endpoint: Endpoint,
    body: Incoming,
    spoiler: &mut Option<Fault>,
) -> Result<Resp, Failure> {
    let shared = sim.shared();
    let bytes = read_body(body, MAX_BODY, shared.ctx.timings.request_timeout).await?;
    let body = validate::parse_body(&bytes)?;
    if endpoint.starts_order() {
        return Ok(start(sim, rp, endpoint, body)?);
    }
    let order_ref = validate::order_ref(&body)?;
    if let Some(fault) = shared.store.take_fault(&shared.ctx, &rp, order_ref) {
        match apply(fault).await {
            Action::Respond(r) => return Ok(r),
            Action::Drop => return Err(Failure::Drop),
            Action::Modify(f) => *spoiler = Some(f),
            Action::Continue => {}
        }
    }
    if endpoint == Endpoint::Collect && *spoiler == Some(Fault::ForeignOrderRef) {
        *spoiler = None;
        return Ok(foreign_collect(sim, rp)?);
    }
    if endpoint == Endpoint::Collect {
        let view = shared.store.collect(&shared.ctx, &rp, order_ref)?;
        let body = CollectBody {
            order_ref,
            status: view.status,
            hint_code: view.hint.as_deref(),
            completion_data: view.data.as_deref(),
        };
        Ok(json_response(200, &body))
    } else {
        shared.store.cancel(&shared.ctx, &rp, order_ref)?;
        Ok(json_response(200, &json!({})))
    }
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
            let bytes = body.to_vec();
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
