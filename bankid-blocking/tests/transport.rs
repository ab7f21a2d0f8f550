//! What bankid-blocking's own TCP transport promises beyond the conformance suite: a pooled
//! connection the server closed while idle is replaced, and the request timeout holds for the
//! request as a whole whatever the socket's timeout was left at (a pooled connection, a server
//! that stalls the TLS handshake, one that trickles bytes then stalls).
#![allow(missing_docs)]

use std::io::{Read, Write};
use std::net::{IpAddr, TcpListener};
use std::sync::{Arc, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use bankid_blocking::Client;
use bankid_core::{AuthRequest, CollectRequest, Config, Error, Identity, Roots, TransportErrorKind};
use bankid_sim::{BlockingSimulator, Endpoint, Fault, FaultRule, Pki, Simulator, Timings};

/// How late a timed-out request may end: the transport's 20 ms (a socket timeout may exceed the
/// time left by that much) plus the scheduling of a loaded test machine.
const LATE: Duration = Duration::from_millis(250);

fn pki() -> Arc<Pki> {
    static PKI: OnceLock<Arc<Pki>> = OnceLock::new();
    PKI.get_or_init(|| Arc::new(Pki::generate(1, "qwerty123").expect("generate a PKI"))).clone()
}

fn roots() -> Roots {
    Roots::from_pem(pki().ca_pem().as_bytes()).expect("the simulator's CA")
}

fn identity() -> Identity {
    let pki = pki();
    let rp = pki.client_identity(0).expect("client identity");
    Identity::from_pem(rp.cert_pem().as_bytes(), rp.key_pem().as_bytes(), None).expect("PEM identity")
}

fn sim(timings: Timings) -> BlockingSimulator {
    Simulator::builder().pki(pki()).timings(timings).start_blocking().expect("start bankid-sim")
}

fn client(base_url: &str, timeout: Duration) -> Client {
    let config = Config::custom(base_url, roots()).expect("base URL").with_identity(identity());
    Client::new(config.with_request_timeout(timeout)).expect("client")
}

fn auth(client: &Client) -> Result<String, Error> {
    client.send(&AuthRequest::new(IpAddr::from([192, 0, 2, 1]))).map(|start| start.order_ref)
}

fn transport_kind(result: Result<impl std::fmt::Debug, Error>) -> TransportErrorKind {
    match result {
        Err(Error::Transport(error)) => error.kind(),
        other => panic!("expected a transport error, got {other:?}"),
    }
}

/// Asserts that a request that timed out after `timeout` took neither less nor much more.
fn assert_timed_out_on_time(started: Instant, timeout: Duration) {
    let elapsed = started.elapsed();
    assert!(elapsed >= timeout - Duration::from_millis(5), "ended early: {elapsed:?}");
    assert!(elapsed < timeout + LATE, "ended late: {elapsed:?} for a timeout of {timeout:?}");
}

/// The server closes a keep-alive connection that stays idle (here after 200 ms): the next
/// request finds it closed before sending and goes out on a new connection, without an error.
#[test]
fn a_connection_the_server_closed_while_idle_is_replaced() {
    let mut timings = Timings::default();
    timings.header_read_timeout = Duration::from_millis(200);
    let sim = sim(timings);
    let client = client(sim.base_url(), Duration::from_secs(5));
    let order_ref = auth(&client).unwrap();
    for _ in 0..3 {
        client.send(&CollectRequest::new(&order_ref)).unwrap();
    }
    assert_eq!(sim.connections_accepted(), 1, "quick requests share one connection");
    for round in 2..4 {
        thread::sleep(Duration::from_millis(600));
        client.send(&CollectRequest::new(&order_ref)).unwrap();
        assert_eq!(sim.connections_accepted(), round);
    }
}

/// Quick requests leave the pooled connection's socket timeout at about the whole request
/// timeout; a slow answer on it still times out at the request timeout.
#[test]
fn a_slow_answer_on_a_pooled_connection_times_out_on_time() {
    let sim = sim(Timings::default());
    let timeout = Duration::from_millis(500);
    let client = client(sim.base_url(), timeout);
    let order_ref = auth(&client).unwrap();
    for _ in 0..5 {
        client.send(&CollectRequest::new(&order_ref)).unwrap();
    }
    sim.add_fault(FaultRule::new(Fault::Delay(Duration::from_secs(5))).on(Endpoint::Collect).times(1));
    let started = Instant::now();
    assert_eq!(transport_kind(client.send(&CollectRequest::new(&order_ref))), TransportErrorKind::Timeout);
    assert_timed_out_on_time(started, timeout);
    // The timed-out connection is not reused with a late answer in it: the next request works.
    client.send(&CollectRequest::new(&order_ref)).unwrap();
}

/// A listener that accepts connections and hands each to `serve` on a thread of its own.
fn server(serve: impl Fn(std::net::TcpStream) + Send + Sync + 'static) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    let serve = Arc::new(serve);
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let serve = serve.clone();
            thread::spawn(move || serve(stream));
        }
    });
    format!("https://{address}")
}

/// A server that accepts the connection and never answers the TLS handshake.
#[test]
fn a_stalled_tls_handshake_times_out_on_time() {
    let base_url = server(|mut stream| {
        let _ = stream.read(&mut [0; 4096]);
        thread::sleep(Duration::from_secs(5));
    });
    let timeout = Duration::from_millis(400);
    let client = client(&base_url, timeout);
    let started = Instant::now();
    assert_eq!(transport_kind(auth(&client)), TransportErrorKind::Timeout);
    assert_timed_out_on_time(started, timeout);
}

/// A server that sends the start of a TLS record a byte every 100 ms, then stalls: each read
/// makes progress, yet the request ends at its timeout, not a socket timeout later.
#[test]
fn a_trickling_server_times_out_on_time() {
    let base_url = server(|mut stream| {
        let _ = stream.read(&mut [0; 4096]);
        for byte in [0x16, 0x03, 0x03, 0x40] {
            thread::sleep(Duration::from_millis(100));
            if stream.write_all(&[byte]).is_err() {
                return;
            }
        }
        thread::sleep(Duration::from_secs(5));
    });
    let timeout = Duration::from_millis(700);
    let client = client(&base_url, timeout);
    let started = Instant::now();
    assert_eq!(transport_kind(auth(&client)), TransportErrorKind::Timeout);
    assert_timed_out_on_time(started, timeout);
}

/// Many requests on one connection, each with its own deadline: none fails for a socket timeout
/// left over from an earlier one (the transport keeps it while it fits the time left).
#[test]
fn many_quick_requests_share_one_connection() {
    let sim = sim(Timings::default());
    let client = client(sim.base_url(), Duration::from_millis(300));
    let order_ref = auth(&client).unwrap();
    for _ in 0..200 {
        client.send(&CollectRequest::new(&order_ref)).unwrap();
    }
    assert_eq!(sim.connections_accepted(), 1);
}
