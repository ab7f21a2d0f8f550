//! Sequential collect round trips over one keep-alive mutual-TLS connection to bankid-sim, for
//! each transport and for a raw hyper + tokio-rustls loop doing the same requests (built and
//! parsed by bankid-core too): the baseline the transports are measured against.
//!
//! `cargo bench -p bankid-conformance --bench collect -- --warm-up-time 1 --measurement-time 3`
#![allow(missing_docs)]

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bankid_conformance::Sim;
use bankid_core::{AuthRequest, CollectRequest, Config, Operation};
use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use http_body_util::{BodyExt as _, Full};
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;
use tokio::net::TcpStream;
use tokio::runtime::Runtime;
use tokio_rustls::TlsConnector;

/// One HTTP/1.1 connection over tokio-rustls, nothing else: the baseline.
struct Raw {
    sender: http1::SendRequest<Full<Bytes>>,
    config: Config,
    host: String,
}

impl Raw {
    async fn connect(config: Config, sim: &Sim) -> Self {
        let tls = TlsConnector::from(config.rustls_client_config().unwrap());
        let tcp = TcpStream::connect(sim.local_addr()).await.unwrap();
        tcp.set_nodelay(true).unwrap();
        let stream = tls.connect(ServerName::IpAddress(Ipv4Addr::LOCALHOST.into()), tcp).await.unwrap();
        let (sender, connection) = http1::handshake(TokioIo::new(stream)).await.unwrap();
        tokio::spawn(connection);
        Self { sender, config, host: sim.local_addr().to_string() }
    }

    async fn collect(&mut self, order_ref: &str) {
        let request = CollectRequest::new(order_ref).to_http(&self.config).unwrap();
        let (mut parts, body) = request.into_parts();
        parts.uri = parts.uri.path().parse().unwrap();
        parts.headers.insert(http::header::HOST, self.host.parse().unwrap());
        self.sender.ready().await.unwrap();
        let response = self.sender.send_request(http::Request::from_parts(parts, Full::new(Bytes::from(body)))).await;
        let (parts, body) = response.unwrap().into_parts();
        let body = body.collect().await.unwrap().to_bytes();
        CollectRequest::parse(http::Response::from_parts(parts, body)).unwrap();
    }
}

fn async_loop<F: Future<Output = ()>>(runtime: &Runtime, iters: u64, mut once: impl FnMut() -> F) -> Duration {
    runtime.block_on(async {
        let start = Instant::now();
        for _ in 0..iters {
            once().await;
        }
        start.elapsed()
    })
}

fn collect(c: &mut Criterion) {
    // The benched order must stay pending for the whole run: BankID (and the simulator) answer
    // a failed order's collect once, and an order nobody scans fails with startFailed after 30 s.
    let mut timings = bankid_sim::Timings::default();
    timings.start_failed = Duration::from_secs(24 * 3600);
    timings.order_lifetime = Duration::from_secs(24 * 3600);
    let sim = Sim::with(bankid_sim::Simulator::builder().timings(timings));
    let config = sim.config();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let blocking = bankid_blocking::Client::new(config.clone()).unwrap();
    let reqwest = bankid_reqwest::Client::new(config.clone()).unwrap();
    let hyper = bankid_hyper::Client::new(config.clone()).unwrap();
    // A pending order nobody picks up: every collect answers `outstandingTransaction`.
    let order_ref = Arc::new(blocking.authenticate(&AuthRequest::new(IpAddr::from([192, 0, 2, 1]))).unwrap().order_ref);
    let raw = std::cell::RefCell::new(runtime.block_on(Raw::connect(config, &sim)));

    let mut group = c.benchmark_group("collect");
    group.throughput(Throughput::Elements(1));
    let bench_raw = |b: &mut criterion::Bencher<'_>| {
        b.iter_custom(|iters| {
            let mut raw = raw.borrow_mut();
            let raw = &mut *raw;
            runtime.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    raw.collect(&order_ref).await;
                }
                start.elapsed()
            })
        });
    };
    group.bench_function("raw-hyper-rustls", bench_raw);
    group.bench_function("bankid-blocking", |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            for _ in 0..iters {
                blocking.collect(&order_ref).unwrap();
            }
            start.elapsed()
        });
    });
    group.bench_function("bankid-reqwest", |b| {
        b.iter_custom(|iters| {
            async_loop(&runtime, iters, || async { drop(reqwest.collect(&order_ref).await.unwrap()) })
        });
    });
    group.bench_function("bankid-hyper", |b| {
        b.iter_custom(|iters| async_loop(&runtime, iters, || async { drop(hyper.collect(&order_ref).await.unwrap()) }));
    });
    // The baseline again: the drift between its two runs is the noise of this machine.
    group.bench_function("raw-hyper-rustls-again", bench_raw);
    group.finish();
}

criterion_group!(benches, collect);
criterion_main!(benches);
