//! Mutual TLS, RP binding, keep-alive, start and shutdown.

mod common;

use std::time::Duration;

use bankid_core::{AuthRequest, CancelRequest, CollectRequest, ErrorCode, Identity, Operation};
use bankid_sim::{SimConfig, Simulator};
use common::*;
use serde_json::json;

#[tokio::test]
async fn no_client_certificate_gets_401_unauthorized() {
    let sim = sim().await;
    let mut conn = connect(&sim, None).await;
    let req = AuthRequest::new("127.0.0.1".parse().unwrap()).to_http(&config(&sim)).unwrap();
    let resp = conn.send(req).await.unwrap();
    assert_eq!(resp.status(), 401);
    let err = AuthRequest::parse(resp).unwrap_err();
    assert_eq!(err.error_code(), Some(&ErrorCode::Unauthorized));
    // Also on collect and unknown paths: nothing under /rp/ without a certificate.
    let (status, body) = conn.post("/rp/v6.0/collect", &json!({"orderRef": "x"})).await;
    assert_eq!(error_of(status, &body).1, "unauthorized");
}

#[tokio::test]
async fn certificate_from_unknown_ca_fails_the_handshake() {
    let sim = sim().await;
    let foreign = sim.pki().foreign_identity().clone();
    let result = async {
        let mut conn = connect_with(&sim, tls(&sim, Some(&foreign))).await?;
        // With TLS 1.3 the client learns of the rejection on its first read.
        let req = AuthRequest::new("127.0.0.1".parse().unwrap()).to_http(&config(&sim)).unwrap();
        conn.send(req).await.map_err(std::io::Error::other)
    }
    .await;
    assert!(result.is_err(), "a foreign client certificate must not get an answer");
    assert_eq!(sim.connections_accepted(), 1, "a failed handshake counts as an accepted connection");
}

/// With TLS 1.3 the client's handshake is done before the server rejects its certificate, so it
/// sends its request into a connection the server is about to close. The server reads and drops
/// that request instead of closing with it unread (which would send a TCP reset): the client
/// reads the server's alert, not "connection reset", and its writes do not fail with EPIPE.
#[tokio::test]
async fn a_rejected_client_reads_the_alert_not_a_reset() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let sim = sim().await;
    let foreign = sim.pki().foreign_identity().clone();
    let tcp = tokio::net::TcpStream::connect(sim.local_addr()).await.unwrap();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let mut tls = tokio_rustls::TlsConnector::from(tls(&sim, Some(&foreign)))
        .connect(name, tcp)
        .await
        .expect("with TLS 1.3 the client's side of the handshake completes");
    let request = b"POST /rp/v6.0/auth HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\n\
                    content-length: 28\r\n\r\n{\"endUserIp\": \"127.0.0.1\"}";
    tls.write_all(request).await.expect("first write");
    // By now the server has rejected the certificate and, before the fix, closed the socket
    // with the request unread: a reset, so the next write or the read failed.
    tokio::time::sleep(Duration::from_millis(200)).await;
    tls.write_all(request).await.expect("the connection is not reset: no EPIPE");
    let mut answer = Vec::new();
    let err = tls.read_to_end(&mut answer).await.expect_err("no answer for a foreign certificate");
    let alert = err.get_ref().and_then(|e| e.downcast_ref::<rustls::Error>());
    assert!(matches!(alert, Some(rustls::Error::AlertReceived(_))), "expected the server's alert, got {err:?}");
    assert!(answer.is_empty());
    assert_eq!(sim.connections_accepted(), 1);
}

#[tokio::test]
async fn orders_are_bound_to_the_rp_certificate() {
    let sim = sim().await;
    let cfg = config(&sim);
    let mut rp1 = connect(&sim, Some(0)).await;
    let mut rp2 = connect(&sim, Some(1)).await;
    let start = rp1.call(&cfg, &AuthRequest::new("127.0.0.1".parse().unwrap())).await.unwrap();
    let err = rp2.call(&cfg, &CollectRequest::new(&start.order_ref)).await.unwrap_err();
    assert_eq!(err.error_code(), Some(&ErrorCode::InvalidParameters));
    let err = rp2.call(&cfg, &CancelRequest::new(&start.order_ref)).await.unwrap_err();
    assert_eq!(err.error_code(), Some(&ErrorCode::InvalidParameters));
    // The owner still sees it, pending.
    rp1.call(&cfg, &CollectRequest::new(&start.order_ref)).await.unwrap();
    assert_eq!(sim.order(&start.order_ref).unwrap().rp_fingerprint, hex_fp(&sim, 0));
}

fn hex_fp(sim: &bankid_sim::SimHandle, i: usize) -> String {
    sim.pki().client_identity(i).unwrap().fingerprint().iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test]
async fn keep_alive_serves_many_requests_on_one_connection() {
    let sim = sim().await;
    let cfg = config(&sim);
    let mut conn = connect(&sim, Some(0)).await;
    let start = conn.call(&cfg, &AuthRequest::new("::1".parse().unwrap())).await.unwrap();
    for _ in 0..200 {
        conn.call(&cfg, &CollectRequest::new(&start.order_ref)).await.unwrap();
    }
    assert_eq!(sim.connections_accepted(), 1);
    let _second = connect(&sim, None).await;
    assert_eq!(sim.connections_accepted(), 2);
}

#[tokio::test]
async fn bankid_core_tls_config_and_pkcs12_identity_work_against_the_simulator() {
    let sim = sim().await;
    let id = sim.pki().client_identity(1).unwrap();
    for identity in [
        Identity::from_pkcs12(id.p12(), id.p12_password()).expect("core reads the simulator's PKCS#12"),
        Identity::from_pem(id.cert_pem().as_bytes(), id.key_pem().as_bytes(), None).expect("core reads PEM"),
    ] {
        let cfg = config(&sim).with_identity(identity);
        let tls = cfg.rustls_client_config().expect("core builds the rustls config");
        let mut conn = connect_with(&sim, tls).await.unwrap();
        let start = conn.call(&cfg, &AuthRequest::new("127.0.0.1".parse().unwrap())).await.unwrap();
        assert_eq!(sim.order(&start.order_ref).unwrap().rp_fingerprint, hex_fp(&sim, 1));
    }
}

#[tokio::test]
async fn default_start_generates_and_writes_a_pki() {
    let dir = std::env::temp_dir().join(format!("bankid-sim-mtls-{}", std::process::id()));
    let sim = Simulator::builder().write_pki_to(&dir).start().await.unwrap();
    assert!(sim.base_url().starts_with("https://127.0.0.1:"));
    assert_eq!(sim.pki().client_identities().len(), 2);
    for f in ["ca.pem", "rp-1.cert.pem", "rp-1.key.pem", "rp-1.p12", "rp-2.p12", "foreign-rp.p12"] {
        assert!(dir.join(f).exists(), "{f}");
    }
    let pem = std::fs::read(dir.join("rp-1.pem")).unwrap();
    Identity::from_pem_bundle(&pem, None).expect("combined PEM loads");
    let mut conn = connect(&sim, Some(0)).await;
    conn.call(&config(&sim), &AuthRequest::new("127.0.0.1".parse().unwrap())).await.unwrap();
    sim.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn graceful_shutdown_and_drop_stop_the_server() {
    let sim = sim().await;
    let handle = sim.handle();
    let addr = sim.local_addr();
    let mut idle = connect(&sim, Some(0)).await;
    tokio::time::timeout(Duration::from_secs(10), sim.shutdown()).await.expect("shutdown finishes");
    assert!(tokio::net::TcpStream::connect(addr).await.is_err(), "listener closed");
    let req = AuthRequest::new("127.0.0.1".parse().unwrap()).to_http(&config(&handle)).unwrap();
    assert!(idle.send(req).await.is_err(), "idle keep-alive connection closed");

    let sim = builder().start().await.unwrap();
    let addr = sim.local_addr();
    drop(sim);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}

#[test]
fn blocking_simulator_runs_on_its_own_threads() {
    let mut sim_config = SimConfig::default();
    sim_config.pki = Some(pki());
    let sim = Simulator::start_blocking(sim_config).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let order_ref = rt.block_on(async {
        let mut conn = connect(&sim, Some(0)).await;
        conn.call(&config(&sim), &AuthRequest::new("127.0.0.1".parse().unwrap())).await.unwrap().order_ref
    });
    assert_eq!(sim.order_count(), 1);
    assert!(sim.order(&order_ref).is_some());
    sim.shutdown();
    // Inside a runtime it refuses instead of panicking.
    rt.block_on(async {
        let err = Simulator::start_blocking(SimConfig::default()).unwrap_err();
        assert!(matches!(err, bankid_sim::Error::InsideAsyncRuntime), "{err:?}");
    });
}

/// Start errors say what is wrong, as variants, not strings (and never print the test person's
/// personal number).
#[tokio::test]
async fn start_errors_are_structured() {
    let err = builder().bind("not an address").start().await.unwrap_err();
    let bankid_sim::Error::Bind { addr, .. } = &err else { panic!("{err:?}") };
    assert_eq!(addr, "not an address");
    let mut config = SimConfig::default();
    config.client_identities = 0;
    let err = Simulator::start(config).await.unwrap_err();
    assert!(matches!(err, bankid_sim::Error::NoClientIdentities), "{err:?}");
    let err = builder().person(bankid_sim::TestPerson::new("199001011234", "A", "B")).start().await.unwrap_err();
    assert!(matches!(err, bankid_sim::Error::InvalidPersonalNumber), "{err:?}");
    assert!(!err.to_string().contains("199001011234"));
    let file = std::env::temp_dir().join(format!("bankid-sim-not-a-dir-{}", std::process::id()));
    std::fs::write(&file, b"a file, not a folder").unwrap();
    let err = builder().write_pki_to(file.join("pki")).start().await.unwrap_err();
    assert!(matches!(&err, bankid_sim::Error::WritePki { dir, .. } if dir == &file.join("pki")), "{err:?}");
    let _ = std::fs::remove_file(&file);
}
