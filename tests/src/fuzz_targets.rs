//! The bodies of the fuzz targets in `fuzz/` (cargo-fuzz, nightly), written as plain functions so
//! that the stable test `tests/fuzz_corpus.rs` replays every committed corpus file through the
//! same code.
//!
//! Each function takes the fuzzer's bytes, decodes a small header from them (which operation,
//! which status, which password...) and hands the rest to the code under test. A function
//! panics only when an invariant breaks: the code under test panicked, or it answered something
//! it must never answer (a success for a non-200 status, a simulator answer that the core cannot
//! read, ...). Bad input is never a panic.
//!
//! Under `cfg(fuzzing)` bankid-core checks encrypted keys against lower key-derivation caps (see
//! `bankid-core/src/tls.rs`), so that one execution stays in milliseconds; the corpus holds no
//! key between those caps and the real ones, so the replay on stable is as fast.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use bankid_core::tls::IdentityError;
use bankid_core::{
    AuthRequest, CancelRequest, CollectRequest, Error, Identity, Operation, OtherPaymentRequest, PaymentRequest,
    PhoneAuthRequest, PhoneSignRequest, SignRequest,
};

use crate::Sim;

/// The names of the targets, as directories under `fuzz/corpus/`.
pub const TARGETS: [&str; 5] = ["parse_response", "identity_pem", "identity_pkcs12", "sim_request", "verify"];

/// Runs target `name` on `data`.
///
/// # Panics
/// If `name` is not one of [`TARGETS`], or when the target finds a bug.
pub fn run(name: &str, data: &[u8]) {
    match name {
        "parse_response" => parse_response(data),
        "identity_pem" => identity_pem(data),
        "identity_pkcs12" => identity_pkcs12(data),
        "sim_request" => sim_request(data),
        "verify" => verify(data),
        other => panic!("no fuzz target {other}"),
    }
}

/// Takes `n` bytes off the front of `data` (fewer if it is shorter).
fn take<'a>(data: &mut &'a [u8], n: usize) -> &'a [u8] {
    let (head, tail) = data.split_at(n.min(data.len()));
    *data = tail;
    head
}

fn take_u8(data: &mut &[u8]) -> u8 {
    take(data, 1).first().copied().unwrap_or(0)
}

fn take_u16(data: &mut &[u8]) -> u16 {
    let bytes = take(data, 2);
    u16::from_be_bytes([bytes.first().copied().unwrap_or(0), bytes.get(1).copied().unwrap_or(0)])
}

/// A content type chosen by `selector`; the last choices take a raw value from `data`.
fn content_type(selector: u8, data: &mut &[u8]) -> Option<Vec<u8>> {
    Some(match selector % 8 {
        0 => return None,
        1 | 2 => b"application/json".to_vec(),
        3 => b"application/json; charset=utf-8".to_vec(),
        4 => b"APPLICATION/JSON".to_vec(),
        5 => b"text/html".to_vec(),
        _ => {
            let len = usize::from(take_u8(data) % 48);
            take(data, len).to_vec()
        }
    })
}

// --- every Operation::parse ----------------------------------------------------------------------

/// Every `Operation::parse` (the six start operations, collect and cancel) on a response with an
/// arbitrary status, content type and body.
///
/// Layout: operation (1 byte), status (2 bytes: below 0x8000 is 200, else 100 + n % 900),
/// content-type selector (1 byte, maybe followed by a raw value), then the body.
///
/// # Panics
/// If a parser panics, accepts a non-200 response, or answers a 200 with a JSON error.
pub fn parse_response(mut data: &[u8]) {
    let operation = take_u8(&mut data);
    let status = match take_u16(&mut data) {
        n if n < 0x8000 => 200,
        n => 100 + n % 900,
    };
    let selector = take_u8(&mut data);
    let content_type = content_type(selector, &mut data);
    let mut builder = http::Response::builder().status(status);
    if let Some(value) = content_type.as_deref().and_then(|v| http::HeaderValue::from_bytes(v).ok()) {
        builder = builder.header(http::header::CONTENT_TYPE, value);
    }
    let Ok(response) = builder.body(data.to_vec()) else {
        return;
    };
    match operation % 8 {
        0 => check_parse::<AuthRequest>(response),
        1 => check_parse::<SignRequest>(response),
        2 => check_parse::<PaymentRequest>(response),
        3 => check_parse::<OtherPaymentRequest>(response),
        4 => check_parse::<PhoneAuthRequest>(response),
        5 => check_parse::<PhoneSignRequest>(response),
        6 => check_parse::<CollectRequest>(response),
        _ => check_parse::<CancelRequest>(response),
    }
}

fn check_parse<O: Operation>(response: http::Response<Vec<u8>>) {
    let status = response.status();
    let result = O::parse(response);
    match &result {
        Ok(_) => assert_eq!(status, http::StatusCode::OK, "a {status} response parsed as a success"),
        Err(Error::Api(api)) => {
            assert!(status.is_client_error() || status.is_server_error(), "an API error from a {status} response");
            assert_eq!(api.status, status);
        }
        Err(_) => {}
    }
    // Formatting must not panic either (Debug redacts; Display describes).
    if let Err(err) = &result {
        let _ = err.to_string();
    }
    let _ = format!("{:?}", result.as_ref().map(|_| ()));
}

// --- identities ------------------------------------------------------------------------------

/// The password of the BankID test credentials and of the crafted seeds.
const PASSWORD: &str = "qwerty123";

/// Identities from PEM: `Identity::from_pem` with the input split into certificate and key,
/// `Identity::from_pem_bundle`, or a raw DER `EncryptedPrivateKeyInfo` wrapped in an
/// `ENCRYPTED PRIVATE KEY` block by this function (so that the fuzzer mutates the DER, KDF
/// parameters included, not base64).
///
/// Layout: mode (1 byte: bits 0-1 the entry point, bits 2-3 the password: none, the test
/// password, empty, or the next up-to-15 bytes), split point (2 bytes), then the data.
///
/// # Panics
/// If loading panics, or refuses a key-derivation limit without naming it.
pub fn identity_pem(mut data: &[u8]) {
    let mode = take_u8(&mut data);
    let split = usize::from(take_u16(&mut data));
    let custom;
    let password = match (mode >> 2) & 3 {
        0 => None,
        1 => Some(PASSWORD),
        2 => Some(""),
        _ => {
            let len = usize::from(take_u8(&mut data) % 16);
            custom = String::from_utf8_lossy(take(&mut data, len)).into_owned();
            Some(custom.as_str())
        }
    };
    let result = match mode & 3 {
        0 => Identity::from_pem_bundle(data, password),
        1 => {
            let (cert, key) = data.split_at(split.min(data.len()));
            Identity::from_pem(cert, key, password)
        }
        _ => {
            let (cert, key_der) = data.split_at(split.min(data.len()));
            Identity::from_pem(cert, &encrypted_key_pem(key_der), password)
        }
    };
    check_identity(&result);
}

/// Identities from PKCS#12 data.
///
/// Layout: password selector (1 byte: the test password, empty, or the next up-to-15 bytes),
/// then the data.
///
/// # Panics
/// If loading panics or the result breaks an invariant.
pub fn identity_pkcs12(mut data: &[u8]) {
    let selector = take_u8(&mut data);
    let password = match selector % 4 {
        0 | 1 => PASSWORD.to_owned(),
        2 => String::new(),
        _ => {
            let len = usize::from(take_u8(&mut data) % 16);
            String::from_utf8_lossy(take(&mut data, len)).into_owned()
        }
    };
    check_identity(&Identity::from_pkcs12(data, &password));
}

fn check_identity(result: &Result<Identity, IdentityError>) {
    match result {
        Ok(identity) => {
            assert!(!identity.certificate_chain().is_empty());
            assert_eq!(identity.certificate_chain()[0], *identity.certificate());
            assert!(format!("{identity:?}").contains("[redacted]"));
        }
        Err(IdentityError::KdfLimitExceeded { parameter, value, limit }) => {
            assert!(value > limit, "{parameter}: {value} refused under its limit {limit}");
        }
        Err(err) => {
            let _ = err.to_string();
        }
    }
}

/// `der` as an `ENCRYPTED PRIVATE KEY` PEM block.
pub fn encrypted_key_pem(der: &[u8]) -> Vec<u8> {
    use base64::Engine as _;
    let body = base64::engine::general_purpose::STANDARD.encode(der);
    let mut pem = b"-----BEGIN ENCRYPTED PRIVATE KEY-----\n".to_vec();
    for line in body.as_bytes().chunks(64) {
        pem.extend_from_slice(line);
        pem.push(b'\n');
    }
    pem.extend_from_slice(b"-----END ENCRYPTED PRIVATE KEY-----\n");
    pem
}

// --- the simulator's request validation ------------------------------------------------------

/// The RP endpoints, by the first byte of a `sim_request` input.
const ENDPOINTS: [&str; 8] =
    ["auth", "sign", "payment", "phone/auth", "phone/sign", "other/payment", "collect", "cancel"];

/// The simulator's request validation (`bankid-sim/src/validate.rs`, not public), driven through
/// its public entry point: an HTTP/1.1 request over mutual TLS to an in-process simulator, on
/// one kept-alive connection.
///
/// Layout: endpoint (1 byte), content-type selector (1 byte, maybe followed by a raw value),
/// then the request body.
///
/// # Panics
/// If the simulator panics, does not answer, or answers something that is not a BankID answer:
/// a status other than 200, 400, 401, 404, 405, 408, 413, 415, 500 or 503, a content type other
/// than `application/json`, or a body that bankid-core does not read as a success (200) or as
/// an API error (otherwise).
pub fn sim_request(mut data: &[u8]) {
    let endpoint = ENDPOINTS[usize::from(take_u8(&mut data) % 8)];
    let selector = take_u8(&mut data);
    let content_type = content_type(selector, &mut data)
        .filter(|value| value.iter().all(|byte| (0x20..0x7f).contains(byte) || *byte == b'\t'));
    let mut request = format!("POST /rp/v6.0/{endpoint} HTTP/1.1\r\nhost: 127.0.0.1\r\n").into_bytes();
    if let Some(value) = content_type {
        request.extend_from_slice(b"content-type: ");
        request.extend_from_slice(&value);
        request.extend_from_slice(b"\r\n");
    }
    request.extend_from_slice(format!("content-length: {}\r\n\r\n", data.len()).as_bytes());
    request.extend_from_slice(data);

    let fuzz_sim = FuzzSim::get();
    let (status, content_type, body) = fuzz_sim.exchange(&request);
    fuzz_sim.tidy();

    assert!(
        matches!(status, 200 | 400 | 401 | 404 | 405 | 408 | 413 | 415 | 500 | 503),
        "status {status} for {endpoint}"
    );
    assert_eq!(content_type.as_deref(), Some("application/json"), "content type for {endpoint}, status {status}");
    let response = http::Response::builder()
        .status(status)
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(body.clone())
        .expect("a response");
    let understood = match endpoint {
        "auth" => understood::<AuthRequest>(response),
        "sign" => understood::<SignRequest>(response),
        "payment" => understood::<PaymentRequest>(response),
        "phone/auth" => understood::<PhoneAuthRequest>(response),
        "phone/sign" => understood::<PhoneSignRequest>(response),
        "other/payment" => understood::<OtherPaymentRequest>(response),
        "collect" => understood::<CollectRequest>(response),
        _ => understood::<CancelRequest>(response),
    };
    assert!(understood, "bankid-core cannot read the simulator's {status} answer to {endpoint}: {}", excerpt(&body));
}

/// Whether the core reads `response` as BankID's: a success for 200, an API error otherwise.
fn understood<O: Operation>(response: http::Response<Vec<u8>>) -> bool {
    let ok = response.status() == http::StatusCode::OK;
    match O::parse(response) {
        Ok(_) => ok,
        Err(Error::Api(_)) => !ok,
        Err(_) => false,
    }
}

fn excerpt(body: &[u8]) -> String {
    String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned()
}

type TlsStream = rustls::StreamOwned<rustls::ClientConnection, TcpStream>;

/// One simulator for the process, and the kept-alive connection to it.
struct FuzzSim {
    sim: Sim,
    tls: Arc<rustls::ClientConfig>,
    connection: Mutex<Option<BufReader<TlsStream>>>,
    requests: std::sync::atomic::AtomicU64,
}

impl FuzzSim {
    fn get() -> &'static Self {
        static SIM: OnceLock<FuzzSim> = OnceLock::new();
        SIM.get_or_init(|| {
            let sim = Sim::start();
            let identity = sim.identity(0);
            let tls = bankid_core::tls::client_config(&sim.roots(), Some(&identity)).expect("TLS configuration");
            Self { sim, tls, connection: Mutex::new(None), requests: std::sync::atomic::AtomicU64::new(0) }
        })
    }

    fn connect(&self) -> BufReader<TlsStream> {
        let tcp = TcpStream::connect(self.sim.local_addr()).expect("connect to the simulator");
        tcp.set_read_timeout(Some(Duration::from_secs(10))).expect("read timeout");
        tcp.set_nodelay(true).expect("nodelay");
        let name = rustls::pki_types::ServerName::try_from("127.0.0.1").expect("server name");
        let connection = rustls::ClientConnection::new(Arc::clone(&self.tls), name).expect("TLS client");
        BufReader::new(rustls::StreamOwned::new(connection, tcp))
    }

    /// Sends `request` and reads the answer: (status, content type, body). On a kept-alive
    /// connection that the simulator has closed, tries once more on a new one.
    fn exchange(&self, request: &[u8]) -> (u16, Option<String>, Vec<u8>) {
        let mut slot = self.connection.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let reused = slot.is_some();
        let mut stream = slot.take().unwrap_or_else(|| self.connect());
        let answer = match send(&mut stream, request) {
            Ok(answer) => answer,
            Err(_) if reused => {
                stream = self.connect();
                send(&mut stream, request).unwrap_or_else(|err| panic!("the simulator did not answer: {err}"))
            }
            Err(err) => panic!("the simulator did not answer: {err}"),
        };
        if answer.keep_alive {
            *slot = Some(stream);
        }
        (answer.status, answer.content_type, answer.body)
    }

    /// Every 4096 requests, moves the simulator's clock by an hour and purges the orders the
    /// fuzzer created, so that memory stays flat over millions of runs.
    fn tidy(&self) {
        let n = self.requests.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if n % 4096 == 4095 {
            self.sim.advance_clock(Duration::from_secs(3600));
            self.sim.sweep();
        }
    }
}

struct Answer {
    status: u16,
    content_type: Option<String>,
    body: Vec<u8>,
    keep_alive: bool,
}

fn send(stream: &mut BufReader<TlsStream>, request: &[u8]) -> std::io::Result<Answer> {
    stream.get_mut().write_all(request)?;
    stream.get_mut().flush()?;
    read_answer(stream)
}

fn read_answer(stream: &mut BufReader<TlsStream>) -> std::io::Result<Answer> {
    let bad = |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_owned());
    let mut line = String::new();
    if stream.read_line(&mut line)? == 0 {
        return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "closed"));
    }
    let status = line.split(' ').nth(1).and_then(|s| s.parse::<u16>().ok()).ok_or_else(|| bad("status line"))?;
    let (mut content_type, mut length, mut keep_alive) = (None, None, true);
    loop {
        line.clear();
        stream.read_line(&mut line)?;
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        let (name, value) = header.split_once(':').ok_or_else(|| bad("header line"))?;
        let value = value.trim();
        match name.to_ascii_lowercase().as_str() {
            "content-type" => content_type = Some(value.to_owned()),
            "content-length" => length = Some(value.parse::<usize>().map_err(|_| bad("content-length"))?),
            "connection" if value.eq_ignore_ascii_case("close") => keep_alive = false,
            "transfer-encoding" => return Err(bad("chunked answer")),
            _ => {}
        }
    }
    let mut body = vec![0; length.ok_or_else(|| bad("no content-length"))?];
    stream.read_exact(&mut body)?;
    Ok(Answer { status, content_type, body, keep_alive })
}

// --- bankid-verify ---------------------------------------------------------------------------------

/// [`bankid_verify::verify`] on an arbitrary signature XML and OCSP response, judged by
/// BankID's test root, at the OCSP time and at a fixed time.
///
/// Layout: the length of the XML (2 bytes, big endian; capped at the rest), the XML, then the
/// OCSP response's DER. Both are base64-encoded as BankID sends them.
///
/// # Panics
/// If verification panics. (Its seed is a genuine BankID signature with its OCSP response,
/// which verifies; every mutation of it must fail with an error, never a panic.)
pub fn verify(mut data: &[u8]) {
    use bankid_verify::{Environment, Expectations, Timestamp, TrustAnchors};
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD as BASE64;

    let split = usize::from(take_u16(&mut data));
    let (xml, der) = data.split_at(split.min(data.len()));
    let (signature, ocsp) = (BASE64.encode(xml), BASE64.encode(der));
    let expect = Expectations::new(TrustAnchors::bankid(Environment::Test));
    let _ = bankid_verify::verify(&signature, Some(&ocsp), &expect);
    let _ = bankid_verify::verify(&signature, None, &expect.at(Timestamp::from_unix_seconds(1_470_388_874)));
}
