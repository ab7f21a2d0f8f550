//! What bankid-blocking's own TLS transport promises beyond the conformance suite, against a
//! TLS server of this test's (rustls) that misbehaves on cue: a server certificate not trusted
//! ends the request before anything of it is sent; a body cut short, with or without the
//! server's `close_notify`, is an error and never a short success; a body that ends with the
//! connection is whole only with `close_notify`; a pooled connection whose server sent
//! `close_notify` is replaced.
#![allow(missing_docs)]

use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::thread;
use std::time::Duration;

use bankid_blocking::Client;
use bankid_core::{CollectRequest, Config, Error, Roots, TransportErrorKind};
use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{ServerConfig, ServerConnection, StreamOwned};

const ORDER_REF: &str = "131daac9-16c6-4618-beb0-365768f37288";

/// A pending collect's answer.
fn pending_body() -> String {
    format!(r#"{{"orderRef":"{ORDER_REF}","status":"pending","hintCode":"outstandingTransaction"}}"#)
}

/// A CA (its PEM) and a server certificate for 127.0.0.1 it issued, with the server's key.
struct Pki {
    ca_pem: String,
    server: ServerConfig,
}

impl Pki {
    fn generate() -> Self {
        Self::generate_with(rustls::DEFAULT_VERSIONS)
    }

    /// A server speaking only the TLS versions `versions`.
    fn generate_with(versions: &[&'static rustls::SupportedProtocolVersion]) -> Self {
        let ca_key = KeyPair::generate().unwrap();
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca = ca_params.self_signed(&ca_key).unwrap();
        let key = KeyPair::generate().unwrap();
        let cert = CertificateParams::new(vec!["127.0.0.1".to_owned()]).unwrap().signed_by(&key, &ca, &ca_key).unwrap();
        let server = ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_protocol_versions(versions)
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(
                vec![CertificateDer::from(cert.der().to_vec())],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
            )
            .unwrap();
        Self { ca_pem: ca.pem(), server }
    }

    fn shared() -> &'static Self {
        static PKI: OnceLock<Pki> = OnceLock::new();
        PKI.get_or_init(Self::generate)
    }
}

/// A connection as the server sees it, counting the plaintext it receives.
struct Connection {
    /// The connection's number, from 0.
    number: usize,
    tls: StreamOwned<ServerConnection, TcpStream>,
    received: Arc<AtomicUsize>,
}

/// A TLS server with `pki`'s certificate that hands each connection to `serve` on a thread of
/// its own; what the clients sent, in plaintext, is counted.
struct Server {
    base_url: String,
    connections: Arc<AtomicUsize>,
    plaintext_received: Arc<AtomicUsize>,
}

impl Server {
    fn start(pki: &Pki, serve: impl Fn(&mut Connection) + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base_url = format!("https://{}", listener.local_addr().unwrap());
        let config = Arc::new(pki.server.clone());
        let connections = Arc::new(AtomicUsize::new(0));
        let plaintext_received = Arc::new(AtomicUsize::new(0));
        let serve = Arc::new(serve);
        let (counter, received) = (connections.clone(), plaintext_received.clone());
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let number = counter.fetch_add(1, Ordering::SeqCst);
                let (config, serve, received) = (config.clone(), serve.clone(), received.clone());
                thread::spawn(move || {
                    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
                    let tls = StreamOwned::new(ServerConnection::new(config).unwrap(), stream);
                    serve(&mut Connection { number, tls, received });
                });
            }
        });
        Self { base_url, connections, plaintext_received }
    }
}

impl Connection {
    /// Reads one request (head and `Content-Length` body); `None` when the client is gone or
    /// the TLS handshake failed.
    fn read_request(&mut self) -> Option<Vec<u8>> {
        let mut request = Vec::new();
        let mut buf = [0; 4096];
        loop {
            let n = match self.tls.read(&mut buf) {
                Ok(0) | Err(_) => return None,
                Ok(n) => n,
            };
            self.received.fetch_add(n, Ordering::SeqCst);
            request.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&request);
            if let Some(end) = text.find("\r\n\r\n") {
                let length = text[..end]
                    .lines()
                    .find_map(|line| {
                        let (name, value) = line.split_once(':')?;
                        name.eq_ignore_ascii_case("content-length").then(|| value.trim().parse::<usize>().ok())?
                    })
                    .unwrap_or(0);
                if request.len() >= end + 4 + length {
                    return Some(request);
                }
            }
        }
    }

    /// Queues a pending collect's answer, its body cut after `body_bytes` bytes (all of it when
    /// `None`), as one TLS record.
    fn queue_answer(&mut self, body_bytes: Option<usize>) -> io::Result<()> {
        let body = pending_body();
        let sent = &body[..body_bytes.unwrap_or(body.len())];
        let answer = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{sent}",
            body.len()
        );
        self.tls.conn.writer().write_all(answer.as_bytes())
    }

    /// Queues a whole pending collect's answer whose body ends where the connection ends (no
    /// `Content-Length`, `Connection: close`).
    fn queue_close_delimited_answer(&mut self) -> io::Result<()> {
        let answer =
            format!("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n{}", pending_body());
        self.tls.conn.writer().write_all(answer.as_bytes())
    }

    /// Queues the TLS `close_notify` alert.
    fn queue_close_notify(&mut self) {
        self.tls.conn.send_close_notify();
    }

    /// Writes all that is queued (the TCP connection stays open).
    fn flush(&mut self) -> io::Result<()> {
        while self.tls.conn.wants_write() {
            self.tls.conn.write_tls(&mut self.tls.sock)?;
        }
        Ok(())
    }

    /// Writes a pending collect's answer (cut as [`Connection::queue_answer`] says).
    fn answer(&mut self, body_bytes: Option<usize>) -> io::Result<()> {
        self.queue_answer(body_bytes)?;
        self.flush()
    }
}

fn client(server: &Server, roots_pem: &str) -> Client {
    let roots = Roots::from_pem(roots_pem.as_bytes()).unwrap();
    let config = Config::custom(&server.base_url, roots).unwrap().with_request_timeout(Duration::from_secs(5));
    Client::new(config).unwrap()
}

fn collect(client: &Client) -> Result<(), Error> {
    client.send(&CollectRequest::new(ORDER_REF)).map(|response| assert_eq!(response.order_ref, ORDER_REF))
}

fn transport_kind(result: Result<(), Error>) -> TransportErrorKind {
    match result {
        Err(Error::Transport(error)) => error.kind(),
        other => panic!("expected a transport error, got {other:?}"),
    }
}

/// A server whose certificate chains to a root the client does not trust: a TLS error, and
/// the server receives nothing of the request (the handshake ends before it goes out).
#[test]
fn an_untrusted_server_certificate_is_a_tls_error_and_nothing_is_sent() {
    let served = Arc::new(AtomicUsize::new(0));
    let requests = served.clone();
    let server = Server::start(Pki::shared(), move |connection| {
        if connection.read_request().is_some() {
            requests.fetch_add(1, Ordering::SeqCst);
            let _ = connection.answer(None);
        }
    });
    let other_ca = Pki::generate().ca_pem;
    assert_eq!(transport_kind(collect(&client(&server, &other_ca))), TransportErrorKind::Tls);
    // The server's thread has read what there was to read by the time its connection closed.
    thread::sleep(Duration::from_millis(100));
    assert_eq!(server.connections.load(Ordering::SeqCst), 1);
    assert_eq!(server.plaintext_received.load(Ordering::SeqCst), 0, "nothing of the request reached the server");
    assert_eq!(served.load(Ordering::SeqCst), 0);
    // The same server with its root trusted answers.
    collect(&client(&server, &Pki::shared().ca_pem)).unwrap();
    assert_eq!(served.load(Ordering::SeqCst), 1);
}

/// A server that speaks only TLS 1.2 (whose handshake ends with the server's `Finished`) and
/// ends each connection with `close_notify` behind its second answer: requests go out and answers
/// come back, two on each connection, and the second connection resumes the first's session.
#[test]
fn tls_1_2_works() {
    let pki = Pki::generate_with(&[&rustls::version::TLS12]);
    let resumed = Arc::new(std::sync::Mutex::new(Vec::new()));
    let kinds = resumed.clone();
    let server = Server::start(&pki, move |connection| {
        for answer in 0..2 {
            if connection.read_request().is_none() || connection.queue_answer(None).is_err() {
                return;
            }
            if answer == 1 {
                // In the same write as the last answer, so that no request crosses it.
                connection.queue_close_notify();
            }
            if connection.flush().is_err() {
                return;
            }
        }
        kinds.lock().unwrap().push(connection.tls.conn.handshake_kind() == Some(rustls::HandshakeKind::Resumed));
        thread::sleep(Duration::from_secs(5));
    });
    let client = client(&server, &pki.ca_pem);
    for _ in 0..4 {
        collect(&client).unwrap();
    }
    assert_eq!(server.connections.load(Ordering::SeqCst), 2);
    thread::sleep(Duration::from_millis(50));
    assert_eq!(*resumed.lock().unwrap(), [false, true]);
}

/// A body cut short by the end of the TCP stream, without `close_notify`: an I/O error.
#[test]
fn a_body_cut_without_close_notify_is_an_io_error() {
    let server = Server::start(Pki::shared(), |connection| {
        if connection.read_request().is_some() {
            let _ = connection.answer(Some(20));
            // The TCP connection ends with no `close_notify`.
            let _ = connection.tls.sock.shutdown(std::net::Shutdown::Both);
        }
    });
    assert_eq!(transport_kind(collect(&client(&server, &Pki::shared().ca_pem))), TransportErrorKind::Io);
}

/// A body cut short by the server's `close_notify` (the TCP connection stays open) is an error
/// too, never a short success: it is shorter than its `Content-Length`.
#[test]
fn a_body_cut_by_close_notify_is_an_error() {
    let server = Server::start(Pki::shared(), |connection| {
        if connection.read_request().is_some() {
            let _ = connection.queue_answer(Some(20));
            connection.queue_close_notify();
            let _ = connection.flush();
            thread::sleep(Duration::from_secs(2));
        }
    });
    assert!(matches!(collect(&client(&server, &Pki::shared().ca_pem)), Err(Error::Transport(_))));
}

/// A body that ends where the connection ends is whole only when the server's `close_notify`
/// says so; an end of the TCP stream without it may be an attacker's cut: an I/O error.
#[test]
fn a_close_delimited_body_needs_close_notify() {
    let server = Server::start(Pki::shared(), |connection| {
        if connection.read_request().is_some() && connection.queue_close_delimited_answer().is_ok() {
            // The first connection ends cleanly, the second without `close_notify`.
            if connection.number == 0 {
                connection.queue_close_notify();
            }
            let _ = connection.flush();
            let _ = connection.tls.sock.shutdown(std::net::Shutdown::Both);
        }
    });
    let client = client(&server, &Pki::shared().ca_pem);
    collect(&client).unwrap();
    assert_eq!(transport_kind(collect(&client)), TransportErrorKind::Io);
    assert_eq!(server.connections.load(Ordering::SeqCst), 2);
}

/// A server that answers `requests` requests on each connection, then sends `close_notify`,
/// `idle` after the last answer (in the same write when zero), and keeps the TCP connection
/// open.
fn closing_server(requests: usize, idle: Duration) -> Server {
    Server::start(Pki::shared(), move |connection| {
        for _ in 0..requests {
            if connection.read_request().is_none() || connection.queue_answer(None).is_err() {
                return;
            }
            if connection.flush().is_err() {
                return;
            }
        }
        thread::sleep(idle);
        connection.queue_close_notify();
        let _ = connection.flush();
        // The TCP connection stays open (a client that wrote to it would wait for an answer).
        thread::sleep(Duration::from_secs(5));
    })
}

/// The server sends `close_notify` while the connection is idle in the pool and keeps TCP
/// open: the next request goes out on a new connection, without an error.
#[test]
fn a_pooled_connection_whose_server_sent_close_notify_while_idle_is_replaced() {
    let server = closing_server(2, Duration::from_millis(100));
    let client = client(&server, &Pki::shared().ca_pem);
    collect(&client).unwrap();
    collect(&client).unwrap();
    assert_eq!(server.connections.load(Ordering::SeqCst), 1);
    thread::sleep(Duration::from_millis(400));
    collect(&client).unwrap();
    assert_eq!(server.connections.load(Ordering::SeqCst), 2);
}

/// The server sends `close_notify` right behind an answer, so that it is read together with
/// it: the connection is not reused, and the next request opens a new one.
#[test]
fn a_connection_closed_right_after_its_answer_is_replaced() {
    let server = Server::start(Pki::shared(), |connection| {
        if connection.read_request().is_some() && connection.queue_answer(None).is_ok() {
            connection.queue_close_notify();
            let _ = connection.flush();
            thread::sleep(Duration::from_secs(5));
        }
    });
    let client = client(&server, &Pki::shared().ca_pem);
    for round in 1..=3 {
        collect(&client).unwrap();
        assert_eq!(server.connections.load(Ordering::SeqCst), round);
    }
}
