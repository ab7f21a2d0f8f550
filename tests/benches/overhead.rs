//! Per-request overhead at the floor: the client CPU time per collect of each transport
//! (bankid-blocking, bankid-reqwest, bankid-hyper) and of a raw hyper http1 + tokio-rustls loop
//! (a prebuilt request, the answer's bytes read, no BankID code), against one bankid-sim, in
//! interleaved rounds. `core-only` is bankid-core alone building the collect request and
//! reading the answer (no I/O): the raw loop plus it is the floor of a transport. `raw-reqwest`
//! and `raw-ureq` are the same prebuilt request through a plain reqwest client and a plain ureq
//! agent, configured as the transports must be (the roots, the identity, no redirects; the
//! timeout too, except for ureq: with one, ureq resolves every host on a thread of its own,
//! which bankid-blocking avoids): the floor of the HTTP client each transport is built on.
//!
//! The simulator runs in this process on its own runtime threads; every client runs on this
//! bench's thread (the async ones on a current-thread runtime, so their connection tasks do
//! too), and what is measured is this thread's CPU time (`CLOCK_THREAD_CPUTIME_ID`, through
//! the `cpu-time` crate), not wall time: the simulator's work and the machine's other load do not count.
//! The machine drifts, so the transports take turns, round after round (the order rotates each
//! round), and the figures are medians over rounds.
//!
//! `cargo bench -p bankid-conformance --bench overhead` (`ROUNDS`, default 61, and `COLLECTS`
//! per transport and round, default 500: short rounds, so that all transports of a round see the
//! same load; `ONLY=bankid-hyper` runs one transport
//! alone, for a profiler: `perf record -g` of the bench then shows that transport's work). Output: one line per transport with the
//! median CPU per collect, its spread over rounds, the median wall time, and the ratio to the
//! raw loop: the median of the per-round ratios (robust when the machine's load changes between
//! rounds: even thread CPU time grows under load, in a VM by steal time too), and the ratio of
//! the medians.
#![allow(missing_docs)]

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use bankid_conformance::Sim;
use bankid_core::{AuthRequest, CollectRequest, CollectResponse, Config, Operation};
use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;
use tokio::net::TcpStream;
use tokio::runtime::Runtime;
use tokio_rustls::TlsConnector;

/// This thread's CPU time so far (`CLOCK_THREAD_CPUTIME_ID`, which, unlike
/// `/proc/thread-self/schedstat`, includes the time since the thread was last scheduled).
fn thread_cpu() -> Duration {
    cpu_time::ThreadTime::now().as_duration()
}

/// One HTTP/1.1 connection over tokio-rustls and a request built once: the floor.
struct Raw {
    sender: http1::SendRequest<Full<Bytes>>,
    uri: http::Uri,
    host: http::HeaderValue,
    body: Bytes,
    /// The last answer's body, for the core-only loop.
    last: Bytes,
}

impl Raw {
    async fn connect(config: &Config, sim: &Sim, order_ref: &str) -> Self {
        let tls = TlsConnector::from(config.rustls_client_config().expect("TLS configuration"));
        let tcp = TcpStream::connect(sim.local_addr()).await.expect("connect");
        tcp.set_nodelay(true).expect("nodelay");
        let stream = tls.connect(ServerName::IpAddress(Ipv4Addr::LOCALHOST.into()), tcp).await.expect("handshake");
        let (sender, connection) = http1::handshake(TokioIo::new(stream)).await.expect("http1 handshake");
        tokio::spawn(connection);
        let mut raw = Self {
            sender,
            uri: http::Uri::from_static("/rp/v6.0/collect"),
            host: sim.local_addr().to_string().parse().expect("host header"),
            body: Bytes::new(),
            last: Bytes::new(),
        };
        raw.set_order(order_ref);
        raw
    }

    fn set_order(&mut self, order_ref: &str) {
        self.body = Bytes::from(format!("{{\"orderRef\":\"{order_ref}\"}}"));
    }

    async fn collect(&mut self) {
        let request = http::Request::post(self.uri.clone())
            .header(http::header::HOST, self.host.clone())
            .header(http::header::CONTENT_TYPE, http::HeaderValue::from_static("application/json"))
            .header(http::header::ACCEPT, http::HeaderValue::from_static("application/json"))
            .body(Full::new(self.body.clone()))
            .expect("request");
        self.sender.ready().await.expect("connection ready");
        let response = self.sender.send_request(request).await.expect("response");
        assert_eq!(response.status(), http::StatusCode::OK);
        self.last = response.into_body().collect().await.expect("body").to_bytes();
        assert!(!self.last.is_empty());
    }
}

const NAMES: [&str; 7] =
    ["raw-hyper-rustls", "bankid-blocking", "bankid-reqwest", "bankid-hyper", "core-only", "raw-reqwest", "raw-ureq"];

/// The collect request, prebuilt, through a plain reqwest client and a plain ureq agent.
struct Plain {
    reqwest: reqwest::Client,
    ureq: ureq::Agent,
    url: String,
    body: Bytes,
}

impl Plain {
    fn new(config: &Config) -> Self {
        let reqwest = reqwest::Client::builder()
            .use_preconfigured_tls(rustls::ClientConfig::clone(&config.rustls_client_config().expect("TLS")))
            .redirect(reqwest::redirect::Policy::none())
            .https_only(true)
            .no_proxy()
            .timeout(config.request_timeout())
            .build()
            .expect("reqwest client");
        let identity = config.identity().expect("identity");
        let certificates =
            identity.certificate_chain().iter().map(|cert| ureq::tls::Certificate::from_der(cert).to_owned());
        let key = ureq::tls::PrivateKey::from_pem(identity.private_key_pem().expect("key").as_bytes()).expect("key");
        let roots = config.roots().certificates().iter().map(|root| ureq::tls::Certificate::from_der(root).to_owned());
        let tls = ureq::tls::TlsConfig::builder()
            .provider(ureq::tls::TlsProvider::Rustls)
            .unversioned_rustls_crypto_provider(std::sync::Arc::new(rustls::crypto::ring::default_provider()))
            .root_certs(ureq::tls::RootCerts::from(roots))
            .client_cert(Some(ureq::tls::ClientCert::new_with_certs(&certificates.collect::<Vec<_>>(), key)))
            .build();
        let ureq = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .tls_config(tls)
            .build()
            .new_agent();
        Self { reqwest, ureq, url: config.endpoint_url(bankid_core::Endpoint::Collect), body: Bytes::new() }
    }

    async fn reqwest(&self) -> Bytes {
        let response = self
            .reqwest
            .post(&self.url)
            .header(http::header::CONTENT_TYPE, "application/json")
            .header(http::header::ACCEPT, "application/json")
            .body(self.body.clone())
            .send()
            .await
            .expect("reqwest response");
        assert_eq!(response.status(), http::StatusCode::OK);
        response.bytes().await.expect("reqwest body")
    }

    fn ureq(&self) -> Vec<u8> {
        let mut response = self
            .ureq
            .post(&self.url)
            .header(http::header::CONTENT_TYPE, "application/json")
            .header(http::header::ACCEPT, "application/json")
            .send(&self.body[..])
            .expect("ureq response");
        assert_eq!(response.status(), http::StatusCode::OK);
        response.body_mut().read_to_vec().expect("ureq body")
    }
}

struct Clients {
    runtime: Runtime,
    raw: Raw,
    plain: Plain,
    blocking: bankid_blocking::Client,
    reqwest: bankid_reqwest::Client,
    hyper: bankid_hyper::Client,
    config: Config,
}

impl Clients {
    /// `n` collects of `order_ref` with client `which`.
    fn run(&mut self, which: usize, order_ref: &str, n: usize) {
        let pending = |response: CollectResponse| assert_eq!(response.order_ref, order_ref);
        match which {
            0 => self.runtime.block_on(async {
                for _ in 0..n {
                    self.raw.collect().await;
                }
            }),
            1 => {
                for _ in 0..n {
                    pending(self.blocking.collect(order_ref).expect("blocking collect"));
                }
            }
            2 => self.runtime.block_on(async {
                for _ in 0..n {
                    pending(self.reqwest.collect(order_ref).await.expect("reqwest collect"));
                }
            }),
            3 => self.runtime.block_on(async {
                for _ in 0..n {
                    pending(self.hyper.collect(order_ref).await.expect("hyper collect"));
                }
            }),
            5 => self.runtime.block_on(async {
                for _ in 0..n {
                    assert!(!self.plain.reqwest().await.is_empty());
                }
            }),
            6 => {
                for _ in 0..n {
                    assert!(!self.plain.ureq().is_empty());
                }
            }
            // What every transport adds to the raw loop at least: bankid-core building the
            // request and reading the simulator's answer (the raw loop's last one), no I/O.
            _ => {
                for _ in 0..n {
                    let request = CollectRequest::new(order_ref).to_http(&self.config).expect("request");
                    std::hint::black_box(request);
                    let response = http::Response::builder()
                        .status(http::StatusCode::OK)
                        .header(http::header::CONTENT_TYPE, "application/json")
                        .body(self.raw.last.to_vec())
                        .expect("response");
                    pending(CollectRequest::parse(response).expect("parse"));
                }
            }
        }
    }
}

fn env(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len() % 2 == 1 { values[mid] } else { (values[mid - 1] + values[mid]) / 2.0 }
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` runs this too, with a short run.
    let quick = !std::env::args().any(|arg| arg == "--bench");
    let rounds = env("ROUNDS", if quick { 2 } else { 61 });
    let collects = env("COLLECTS", if quick { 20 } else { 500 });
    let only = std::env::var("ONLY").ok();
    if let Some(only) = &only {
        assert!(NAMES.contains(&only.as_str()), "ONLY must be one of {NAMES:?}");
    }

    let sim = Sim::start();
    let config = sim.config();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let blocking = bankid_blocking::Client::new(config.clone()).expect("blocking client");
    let new_order = |client: &bankid_blocking::Client| {
        client.authenticate(&AuthRequest::new(IpAddr::from([192, 0, 2, 1]))).expect("auth").order_ref
    };
    let mut order_ref = new_order(&blocking);
    let raw = runtime.block_on(Raw::connect(&config, &sim, &order_ref));
    let mut clients = {
        let _guard = runtime.enter();
        Clients {
            raw,
            plain: Plain::new(&config),
            blocking,
            reqwest: bankid_reqwest::Client::new(config.clone()).expect("reqwest client"),
            hyper: bankid_hyper::Client::new(config.clone()).expect("hyper client"),
            config,
            runtime,
        }
    };

    // cpu[t][round] and wall[t][round], per collect, in microseconds.
    let mut cpu = vec![Vec::with_capacity(rounds); NAMES.len()];
    let mut wall = vec![Vec::with_capacity(rounds); NAMES.len()];
    let warm_up = (collects / 10).max(5);
    for round in 0..rounds {
        // A fresh pending order each round: an order fails 30 s after it was made.
        order_ref = new_order(&clients.blocking);
        clients.raw.set_order(&order_ref);
        clients.plain.body = clients.raw.body.clone();
        clients.run(0, &order_ref, 1);
        for turn in 0..NAMES.len() {
            let which = (turn + round) % NAMES.len();
            if only.as_deref().is_some_and(|only| only != NAMES[which]) {
                continue;
            }
            clients.run(which, &order_ref, warm_up);
            let (cpu_start, wall_start) = (thread_cpu(), Instant::now());
            clients.run(which, &order_ref, collects);
            let (cpu_used, wall_used) = (thread_cpu() - cpu_start, wall_start.elapsed());
            cpu[which].push(cpu_used.as_secs_f64() * 1e6 / collects as f64);
            wall[which].push(wall_used.as_secs_f64() * 1e6 / collects as f64);
        }
    }

    if let Some(only) = only {
        let i = NAMES.iter().position(|name| *name == only).unwrap_or(0);
        println!("{only:<17} cpu/collect median {:7.1} us over {rounds} rounds", median(&mut cpu[i].clone()));
        return;
    }
    let raw_cpu = median(&mut cpu[0].clone());
    println!("overhead: {rounds} rounds x {collects} collects per transport, client thread CPU per collect");
    for (i, name) in NAMES.iter().enumerate() {
        let per_round_ratio: Vec<f64> = cpu[i].iter().zip(&cpu[0]).map(|(t, r)| t / r).collect();
        let mut sorted = cpu[i].clone();
        let med = median(&mut sorted);
        let (low, high) = (sorted[0], sorted[sorted.len() - 1]);
        println!(
            "{name:<17} cpu/collect median {med:7.1} us (min {low:.1}, max {high:.1})  wall median {:7.1} us  \
             ratio to raw {:.2}x (median of the per-round ratios; ratio of the medians {:.2}x)",
            median(&mut wall[i].clone()),
            median(&mut per_round_ratio.clone()),
            med / raw_cpu,
        );
    }
    let core = median(&mut cpu[4].clone());
    let floor = raw_cpu + core;
    println!(
        "floor (raw loop + core-only) {floor:.1} us; over it, and over the floor of its own HTTP client (raw-reqwest or raw-ureq + core-only):"
    );
    for (i, own) in [(1, 6), (2, 5), (3, 0)] {
        let med = median(&mut cpu[i].clone());
        let own_floor = median(&mut cpu[own].clone()) + core;
        println!(
            "{:<17} {:+6.1} us above the floor ({:.2}x the floor); {:+6.1} us above {} + core ({:.2}x)",
            NAMES[i],
            med - floor,
            med / floor,
            med - own_floor,
            NAMES[own],
            med / own_floor,
        );
    }
}
