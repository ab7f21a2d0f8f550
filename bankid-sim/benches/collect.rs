//! Collect requests per second against an in-process simulator over mutual TLS:
//! one keep-alive connection, and 8 concurrent keep-alive connections.
//!
//! `cargo bench -p bankid-sim --bench collect`
// criterion's macros generate undocumented public functions.
#![allow(missing_docs)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use bankid_core::{AuthRequest, CollectRequest, Operation};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const CONCURRENT: usize = 8;

fn collect(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    // The benched orders must stay pending for the whole run (an unscanned order fails after
    // 30 s, and a failed order answers one collect).
    let mut timings = bankid_sim::Timings::default();
    timings.start_failed = Duration::from_secs(24 * 3600);
    timings.order_lifetime = Duration::from_secs(24 * 3600);
    let sim = rt.block_on(async { common::builder().timings(timings).start().await.expect("simulator starts") });
    let cfg = common::config(&sim);
    let (mut conns, order_refs) = rt.block_on(async {
        let mut conns = Vec::new();
        let mut refs = Vec::new();
        for _ in 0..CONCURRENT {
            let mut conn = common::connect(&sim, Some(0)).await;
            let start = conn.call(&cfg, &AuthRequest::new("127.0.0.1".parse().expect("ip"))).await.expect("auth");
            refs.push(start.order_ref);
            conns.push(conn);
        }
        (conns, refs)
    });
    let request = CollectRequest::new(&order_refs[0]).to_http(&cfg).expect("request");

    let mut group = c.benchmark_group("collect");
    group.throughput(Throughput::Elements(1));
    group.measurement_time(Duration::from_secs(8));
    group.bench_function("one keep-alive mTLS connection", |b| {
        b.iter(|| {
            rt.block_on(async {
                let resp = conns[0].send(request.clone()).await.expect("collect");
                assert_eq!(resp.status(), 200);
            });
        });
    });
    group.bench_function(format!("{CONCURRENT} concurrent keep-alive mTLS connections"), |b| {
        b.iter_custom(|iters| {
            let per_conn = iters.div_ceil(CONCURRENT as u64);
            rt.block_on(async {
                let start = Instant::now();
                let mut tasks = Vec::new();
                for (mut conn, order_ref) in std::mem::take(&mut conns).into_iter().zip(&order_refs) {
                    let req = CollectRequest::new(order_ref).to_http(&cfg).expect("request");
                    tasks.push(tokio::spawn(async move {
                        for _ in 0..per_conn {
                            let resp = conn.send(req.clone()).await.expect("collect");
                            assert_eq!(resp.status(), 200);
                        }
                        conn
                    }));
                }
                for t in tasks {
                    conns.push(t.await.expect("task"));
                }
                // Scale to the requested iteration count.
                start.elapsed().mul_f64(iters as f64 / (per_conn * CONCURRENT as u64) as f64)
            })
        });
    });
    group.finish();
}

criterion_group!(benches, collect);
criterion_main!(benches);
