//! What a hostile or broken client cannot do: use the control API without a certificate, get a
//! `100 Continue` for a body that will be refused, hold connections beyond the limits.

mod common;

use std::time::{Duration, Instant};

use bankid_sim::{ControlApi, Fault, Timings};
use common::*;
use rustls::pki_types::ServerName;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

/// A raw TLS connection (RP `rp`'s certificate, or none) for writing HTTP by hand.
async fn raw(sim: &bankid_sim::SimHandle, rp: Option<usize>) -> std::io::Result<TlsStream<TcpStream>> {
    let id = rp.map(|i| sim.pki().client_identity(i).expect("identity").clone());
    let tcp = TcpStream::connect(sim.local_addr()).await?;
    let name = ServerName::try_from("localhost").expect("name");
    TlsConnector::from(tls(sim, id.as_ref())).connect(name, tcp).await
}

/// Reads until the server closes (EOF or an error); the bytes read.
async fn read_until_closed(stream: &mut TlsStream<TcpStream>) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    loop {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return out,
            Ok(n) => out.extend_from_slice(&buf[..n]),
        }
    }
}

#[tokio::test]
async fn the_control_api_needs_a_client_certificate_or_is_off() {
    let sim = sim().await;
    assert_eq!(sim.control_api(), ControlApi::ClientCertificate);
    let mut rp = connect(&sim, Some(0)).await;
    let (_, start) = rp.post("/rp/v6.0/auth", &json!({"endUserIp": "127.0.0.1"})).await;
    let order_ref = start["orderRef"].as_str().expect("orderRef").to_owned();

    let mut anyone = connect(&sim, None).await;
    for (path, body) in [
        ("/sim/approve", json!({"orderRef": order_ref})),
        ("/sim/add-fault", json!({"fault": "oversized", "bytes": 67_108_864})),
        ("/sim/advance-clock", json!({"advanceMs": 3_153_600_000_000u64})),
        ("/sim/status", json!({})),
        ("/sim/nope", json!({})),
    ] {
        let (s, v) = anyone.post(path, &body).await;
        assert_eq!(s, 401, "{path}");
        assert!(v["error"].as_str().is_some_and(|e| e.contains("client certificate")), "{path}: {v}");
    }
    // Nothing happened: no fault, no clock jump, the order still waits.
    assert_eq!(sim.order(&order_ref).expect("order").hint_code.as_deref(), Some("outstandingTransaction"));
    let (s, _) = rp.post("/rp/v6.0/collect", &json!({"orderRef": order_ref})).await;
    assert_eq!(s, 200);

    // With a certificate of this simulator, any RP's.
    let mut phone = connect(&sim, Some(1)).await;
    let (s, v) = phone.post("/sim/status", &json!({})).await;
    assert_eq!((s, v["orders"].as_u64()), (200, Some(1)));

    let off = builder().control_api(ControlApi::Off).start().await.expect("starts");
    let mut phone = connect(&off, Some(0)).await;
    for path in ["/sim/status", "/sim/add-fault", "/sim"] {
        let (s, v) = phone.post(path, &json!({})).await;
        assert_eq!((s, v["error"].as_str()), (404, Some("the /sim/ control API is off")), "{path}");
    }
    let (s, _) = phone.post("/rp/v6.0/auth", &json!({"endUserIp": "127.0.0.1"})).await;
    assert_eq!(s, 200, "/rp/ is served as usual");
}

#[tokio::test]
async fn no_100_continue_for_a_body_that_will_be_refused() {
    let sim = sim().await;
    let head = |path: &str, len: usize| {
        format!(
            "POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
             Content-Length: {len}\r\nExpect: 100-continue\r\n\r\n"
        )
    };
    for (path, len) in [("/rp/v6.0/auth", 600 * 1024), ("/sim/status", 65 * 1024)] {
        let mut s = raw(&sim, Some(0)).await.expect("connects");
        s.write_all(head(path, len).as_bytes()).await.unwrap();
        let answer = String::from_utf8_lossy(&read_until_closed(&mut s).await).into_owned();
        assert!(answer.starts_with("HTTP/1.1 400 "), "{path}: {answer}");
        assert!(!answer.contains("100 Continue"), "{path}: {answer}");
        assert!(answer.contains("Too big content"), "{path}: {answer}");
    }
    // Nor for a body refused for another reason: no certificate, a wrong content type, a
    // wrong method, an unknown path.
    for (rp, head, status) in [
        (None, head("/rp/v6.0/auth", 30), "401"),
        (Some(0), head("/rp/v6.0/auth", 30).replace("application/json", "text/plain"), "415"),
        (Some(0), head("/rp/v6.0/auth", 30).replace("POST", "PUT"), "405"),
        (Some(0), head("/rp/v6.0/nope", 30), "404"),
        (None, head("/sim/status", 30), "401"),
    ] {
        let mut s = raw(&sim, rp).await.expect("connects");
        s.write_all(head.as_bytes()).await.unwrap();
        let answer = String::from_utf8_lossy(&read_until(&mut s, b"}").await).into_owned();
        assert!(answer.starts_with(&format!("HTTP/1.1 {status} ")), "{head}: {answer}");
        assert!(!answer.contains("100 Continue"), "{head}: {answer}");
    }
    // A body that will be read gets its 100 Continue, then the answer.
    let body = br#"{"endUserIp":"127.0.0.1"}"#;
    let mut s = raw(&sim, Some(0)).await.expect("connects");
    s.write_all(head("/rp/v6.0/auth", body.len()).as_bytes()).await.unwrap();
    let continued = read_until(&mut s, b"\r\n\r\n").await;
    assert!(continued.starts_with(b"HTTP/1.1 100 Continue"), "{}", String::from_utf8_lossy(&continued));
    s.write_all(body).await.unwrap();
    let answer = read_until(&mut s, b"}").await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer}");
    assert!(answer.contains("\"orderRef\""), "{answer}");
}

/// Reads until `end` has been seen (or the connection ends, or 5 s pass).
async fn read_until(stream: &mut TlsStream<TcpStream>, end: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !out.windows(end.len()).any(|w| w == end) {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => out.extend_from_slice(&buf[..n]),
            _ => break,
        }
    }
    out
}

fn fast_timings() -> Timings {
    let mut t = Timings::default();
    t.header_read_timeout = Duration::from_millis(300);
    t.write_timeout = Duration::from_millis(300);
    t
}

#[tokio::test]
async fn a_client_that_sends_its_head_slowly_is_dropped() {
    let sim = builder().timings(fast_timings()).start().await.expect("starts");
    let mut s = raw(&sim, Some(0)).await.expect("connects");
    s.write_all(b"POST /rp/v6.0/auth HTTP/1.1\r\nHost: local").await.unwrap();
    let t = Instant::now();
    let answer = tokio::time::timeout(Duration::from_secs(5), read_until_closed(&mut s)).await;
    assert!(answer.is_ok(), "the server must close the connection");
    assert!(t.elapsed() >= Duration::from_millis(200), "{:?}", t.elapsed());
    // An idle keep-alive connection is closed after the same time.
    let mut s = raw(&sim, Some(0)).await.expect("connects");
    let t = Instant::now();
    let answer = tokio::time::timeout(Duration::from_secs(5), read_until_closed(&mut s)).await;
    assert!(answer.is_ok(), "idle connections are closed");
    assert!(t.elapsed() >= Duration::from_millis(200));
    // Default: 30 s, not the 120 s of before.
    assert_eq!(Timings::default().header_read_timeout, Duration::from_secs(30));
}

#[tokio::test]
async fn a_client_that_stops_reading_is_dropped() {
    let sim = builder().timings(fast_timings()).start().await.expect("starts");
    sim.add_fault(bankid_sim::FaultRule::new(Fault::Oversized(Fault::MAX_OVERSIZED)).times(1));
    let mut s = raw(&sim, Some(0)).await.expect("connects");
    let body = br#"{"endUserIp":"127.0.0.1"}"#;
    let req = format!(
        "POST /rp/v6.0/auth HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    s.write_all(req.as_bytes()).await.unwrap();
    s.write_all(body).await.unwrap();
    // Read nothing for a while: the server's writes stall and it gives up.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let got = tokio::time::timeout(Duration::from_secs(20), read_until_closed(&mut s)).await.expect("closed");
    assert!(!got.is_empty(), "the answer had started");
    assert!(got.len() < Fault::MAX_OVERSIZED, "{} bytes: the whole answer was sent", got.len());
    // The server is fine.
    let mut conn = connect(&sim, Some(0)).await;
    let (status, _) = conn.post("/rp/v6.0/auth", &json!({"endUserIp": "127.0.0.1"})).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn at_most_max_connections_are_open() {
    let sim = builder().max_connections(2).start().await.expect("starts");
    let mut a = connect(&sim, Some(0)).await;
    let _b = connect(&sim, Some(0)).await;
    let (status, _) = a.post("/rp/v6.0/auth", &json!({"endUserIp": "127.0.0.1"})).await;
    assert_eq!(status, 200);
    // A third client waits in the backlog: no handshake, no connection accepted.
    let sim2 = sim.handle();
    let third = tokio::spawn(async move { connect(&sim2, Some(0)).await });
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!third.is_finished(), "a third connection must wait");
    assert_eq!(sim.connections_accepted(), 2);
    // One closes: the third gets in.
    drop(a);
    let mut c = tokio::time::timeout(Duration::from_secs(5), third).await.expect("gets in").expect("task");
    let (status, _) = c.post("/rp/v6.0/auth", &json!({"endUserIp": "127.0.0.1"})).await;
    assert_eq!(status, 200);
    assert_eq!(sim.connections_accepted(), 3);
}
