//! Loopback helpers: a TCP relay that counts connections, and a TLS server with a canned answer.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;
use std::time::Duration;

use bankid_core::Roots;
use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// Accepts on a loopback port until dropped, running `serve` on a thread per connection.
#[derive(Debug)]
struct Acceptor {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    connections: Arc<AtomicUsize>,
}

impl Acceptor {
    fn start(serve: impl Fn(TcpStream) + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let addr = listener.local_addr().expect("local address");
        let stop = Arc::new(AtomicBool::new(false));
        let connections = Arc::new(AtomicUsize::new(0));
        let (stopped, count, serve) = (stop.clone(), connections.clone(), Arc::new(serve));
        thread::spawn(move || {
            for stream in listener.incoming() {
                if stopped.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                count.fetch_add(1, Ordering::SeqCst);
                let serve = serve.clone();
                thread::spawn(move || serve(stream));
            }
        });
        Self { addr, stop, connections }
    }
}

impl Drop for Acceptor {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr); // wakes the accepting thread up
    }
}

/// A TCP relay in front of a server that counts the connections made through it: each is one
/// TLS handshake with the server behind it.
#[derive(Debug)]
pub struct CountingRelay(Acceptor);

impl CountingRelay {
    /// Relays connections to `target`.
    pub fn start(target: SocketAddr) -> Self {
        Self(Acceptor::start(move |client| {
            let Ok(server) = TcpStream::connect(target) else { return };
            let (Ok(client_reader), Ok(server_writer)) = (client.try_clone(), server.try_clone()) else { return };
            thread::spawn(move || pipe(client_reader, server_writer));
            pipe(server, client);
        }))
    }

    /// `https://127.0.0.1:PORT` of the relay.
    pub fn base_url(&self) -> String {
        format!("https://{}", self.0.addr)
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.0.connections.load(Ordering::SeqCst)
    }
}

fn pipe(mut from: TcpStream, mut to: TcpStream) {
    let _ = io::copy(&mut from, &mut to);
    let _ = to.shutdown(Shutdown::Write);
}

/// An HTTPS server (its own throwaway CA, no client certificates) that answers every request
/// with the same bytes and closes the connection: for answers bankid-sim does not give.
#[derive(Debug)]
pub struct CannedServer {
    acceptor: Acceptor,
    requests: Arc<AtomicUsize>,
    ca_pem: String,
}

impl CannedServer {
    /// A server answering `status` with `content_type` and `body`.
    pub fn start(status: &str, content_type: &str, body: &[u8]) -> Self {
        let mut response = format!(
            "HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
            body.len()
        )
        .into_bytes();
        response.extend_from_slice(body);
        let (ca_pem, tls) = tls_config();
        let requests = Arc::new(AtomicUsize::new(0));
        let count = requests.clone();
        let acceptor = Acceptor::start(move |tcp| {
            let _ = tcp.set_read_timeout(Some(Duration::from_secs(5)));
            let Ok(connection) = rustls::ServerConnection::new(tls.clone()) else { return };
            let mut stream = BufReader::new(rustls::StreamOwned::new(connection, tcp));
            if read_request(&mut stream).is_ok() {
                count.fetch_add(1, Ordering::SeqCst);
                let stream = stream.get_mut();
                let _ = stream.write_all(&response).and_then(|()| stream.flush());
                stream.conn.send_close_notify();
                let _ = stream.flush();
            }
        });
        Self { acceptor, requests, ca_pem }
    }

    /// `https://127.0.0.1:PORT` of the server.
    pub fn base_url(&self) -> String {
        format!("https://{}", self.acceptor.addr)
    }

    /// The root its certificate chains to.
    pub fn roots(&self) -> Roots {
        Roots::from_pem(self.ca_pem.as_bytes()).expect("the canned server's CA")
    }

    /// Requests received so far.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.acceptor.connections.load(Ordering::SeqCst)
    }
}

/// Reads one request: the head, then `content-length` bytes of body.
fn read_request(stream: &mut impl BufRead) -> io::Result<()> {
    let mut length = 0;
    loop {
        let mut line = String::new();
        if stream.read_line(&mut line)? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().map_err(|_| io::Error::from(io::ErrorKind::InvalidData))?;
            }
        }
    }
    io::copy(&mut stream.take(length), &mut io::sink()).map(drop)
}

/// A CA and a server certificate for 127.0.0.1, as the CA's PEM and a rustls configuration.
fn tls_config() -> (String, Arc<rustls::ServerConfig>) {
    let ca_key = KeyPair::generate().expect("CA key");
    let mut ca = CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = ca.self_signed(&ca_key).expect("CA certificate");
    let key = KeyPair::generate().expect("server key");
    let leaf = CertificateParams::new(vec!["127.0.0.1".to_owned()]).expect("server parameters");
    let leaf = leaf.signed_by(&key, &ca, &ca_key).expect("server certificate");
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_no_client_auth()
        .with_single_cert(
            vec![CertificateDer::from(leaf.der().to_vec())],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        )
        .expect("server configuration");
    (ca.pem(), Arc::new(config))
}
