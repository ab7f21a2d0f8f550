//! Test support: a real mTLS HTTP/1.1 client connection to the simulator (tokio-rustls + hyper),
//! bankid-core for building requests and parsing answers, and a shared PKI so tests start fast.
#![allow(dead_code, unreachable_pub)]

use std::sync::{Arc, OnceLock};

use bankid_core::{Config, Operation, Roots};
use bankid_sim::{ClientIdentity, Pki, SimHandle, Simulator, SimulatorBuilder};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

pub const PNR: &str = "198001019994";
pub const PNR2: &str = "199001012385";

/// One PKI for the whole test binary (generation is the slow part of a start).
pub fn pki() -> Arc<Pki> {
    static PKI: OnceLock<Arc<Pki>> = OnceLock::new();
    PKI.get_or_init(|| Arc::new(Pki::generate(2, "qwerty123").expect("pki"))).clone()
}

pub fn builder() -> SimulatorBuilder {
    Simulator::builder().pki(pki()).bind("127.0.0.1:0")
}

pub async fn sim() -> Simulator {
    builder().start().await.expect("simulator starts")
}

/// bankid-core's configuration for the simulator (the client identity is used by our own
/// connection; the config only builds requests).
pub fn config(sim: &SimHandle) -> Config {
    let roots = Roots::from_pem(sim.pki().ca_pem().as_bytes()).expect("roots");
    Config::custom(sim.base_url(), roots).expect("config")
}

/// A rustls client config trusting the simulator's CA, with an optional client identity.
pub fn tls(sim: &SimHandle, identity: Option<&ClientIdentity>) -> Arc<rustls::ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    roots.add(CertificateDer::from(sim.pki().ca_der().to_vec())).expect("root");
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(roots);
    let config = match identity {
        Some(id) => builder
            .with_client_auth_cert(
                vec![CertificateDer::from(id.cert_der().to_vec())],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(id.key_der().to_vec())),
            )
            .expect("client auth"),
        None => builder.with_no_client_auth(),
    };
    Arc::new(config)
}

/// One keep-alive HTTP/1.1 connection over TLS.
pub struct Conn {
    sender: SendRequest<Full<Bytes>>,
    host: String,
}

/// Connects with `config`; the error is the handshake's (or the first read's) failure.
pub async fn connect_with(sim: &SimHandle, config: Arc<rustls::ClientConfig>) -> std::io::Result<Conn> {
    let tcp = TcpStream::connect(sim.local_addr()).await?;
    let name = ServerName::try_from("localhost").expect("name");
    let tls = TlsConnector::from(config).connect(name, tcp).await?;
    let (sender, conn) =
        hyper::client::conn::http1::handshake(TokioIo::new(tls)).await.map_err(std::io::Error::other)?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(Conn { sender, host: sim.local_addr().to_string() })
}

/// Connects as RP `i` (0-based) of the simulator's PKI, or without a certificate.
pub async fn connect(sim: &SimHandle, rp: Option<usize>) -> Conn {
    let id = rp.map(|i| sim.pki().client_identity(i).expect("identity").clone());
    connect_with(sim, tls(sim, id.as_ref())).await.expect("connects")
}

impl Conn {
    /// Sends a request (absolute URI allowed: it is sent in origin form with a Host header).
    pub async fn send(&mut self, req: http::Request<Vec<u8>>) -> Result<http::Response<Bytes>, hyper::Error> {
        let (mut parts, body) = req.into_parts();
        let path = parts.uri.path_and_query().map_or("/", |p| p.as_str()).to_owned();
        parts.uri = path.parse().expect("path");
        parts.headers.insert(http::header::HOST, self.host.parse().expect("host"));
        let req = http::Request::from_parts(parts, Full::new(Bytes::from(body)));
        self.sender.ready().await?;
        let resp = self.sender.send_request(req).await?;
        let (parts, body) = resp.into_parts();
        let body = body.collect().await?.to_bytes();
        Ok(http::Response::from_parts(parts, body))
    }

    /// Builds `op` with bankid-core, sends it, parses the answer with bankid-core.
    pub async fn call<O: Operation>(&mut self, config: &Config, op: &O) -> Result<O::Output, bankid_core::Error> {
        let req = op.to_http(config).expect("bankid-core builds the request");
        let resp = self.send(req).await.expect("HTTP exchange");
        O::parse(resp)
    }

    /// POSTs raw bytes with the given content type (None: no header).
    pub async fn post_raw(&mut self, path: &str, content_type: Option<&str>, body: &[u8]) -> http::Response<Bytes> {
        let mut b = http::Request::builder().method("POST").uri(path);
        if let Some(ct) = content_type {
            b = b.header("content-type", ct);
        }
        self.send(b.body(body.to_vec()).expect("request")).await.expect("HTTP exchange")
    }

    /// POSTs JSON; returns status and parsed body (Null if not JSON).
    pub async fn post(&mut self, path: &str, body: &Value) -> (u16, Value) {
        let resp = self.post_raw(path, Some("application/json"), body.to_string().as_bytes()).await;
        let status = resp.status().as_u16();
        (status, serde_json::from_slice(resp.body()).unwrap_or(Value::Null))
    }
}

/// `(status, errorCode, details)` of a JSON error answer.
pub fn error_of(status: u16, body: &Value) -> (u16, String, String) {
    (
        status,
        body["errorCode"].as_str().unwrap_or_default().to_owned(),
        body["details"].as_str().unwrap_or_default().to_owned(),
    )
}
