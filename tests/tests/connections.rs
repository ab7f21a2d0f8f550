//! The clients' connection limit (`Config::max_connections`), over real mTLS against
//! bankid-sim: requests beyond the limit wait for a connection instead of opening one (all
//! three clients), and for the async clients, orders waiting for one keep showing their QR
//! codes, and a connection the server closes is replaced.

use std::net::IpAddr;
use std::ops::ControlFlow;
use std::time::{Duration, Instant};

use bankid_conformance::{Sim, order};
use bankid_core::{AuthRequest, CancelReason, Event, StartMode};
use bankid_sim::{Endpoint, Fault, FaultRule};
use bankid_tokio::{Client, HttpTransport};

fn ip() -> IpAddr {
    IpAddr::from([192, 0, 2, 1])
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime")
}

/// `n` start requests at once, each on a task of its own; how many were answered.
fn start_orders_at_once<T: HttpTransport>(client: &Client<T>, n: usize) -> usize {
    runtime().block_on(async {
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..n {
            let client = client.clone();
            tasks.spawn(async move { client.authenticate(&AuthRequest::new(ip())).await });
        }
        tasks.join_all().await.into_iter().filter(Result::is_ok).count()
    })
}

/// 40 start requests at once, each held 100 ms by the server, through 3 connections: all are
/// answered, and the server sees 3 connections.
fn requests_beyond_the_limit_wait_for_a_connection<T: HttpTransport>() {
    let sim = Sim::start();
    sim.add_fault(FaultRule::new(Fault::Delay(Duration::from_millis(100))).on(Endpoint::Auth));
    let client = Client::<T>::new(sim.config().with_max_connections(3)).expect("client");
    let started = Instant::now();
    let answered = start_orders_at_once(&client, 40);
    assert_eq!(answered, 40);
    assert_eq!(sim.connections_accepted(), 3, "{}", T::NAME);
    // 40 answers of 100 ms each, 3 at a time: at least 14 rounds.
    assert!(started.elapsed() >= Duration::from_millis(1_300), "{:?}", started.elapsed());
}

/// 5,000 start requests at once through 2 connections, answered at once: a connection goes
/// back to the client's pool just as the next request wants one, again and again, and the
/// client must never open a third.
fn busy_connections_are_reused_not_added<T: HttpTransport>() {
    let sim = Sim::start();
    let client = Client::<T>::new(sim.config().with_max_connections(2)).expect("client");
    let answered = start_orders_at_once(&client, 5_000);
    assert_eq!(answered, 5_000);
    assert_eq!(sim.connections_accepted(), 2, "{}", T::NAME);
}

/// One connection, two orders, every collect held 2.5 s by the server: each order waits
/// seconds for the connection, and its QR code still changes at every second.
fn qr_codes_keep_coming_while_waiting_for_a_connection<T: HttpTransport>() {
    let sim = Sim::start();
    let client = Client::<T>::new(sim.config().with_max_connections(1)).expect("client");
    let runtime = runtime();
    let starts: Vec<_> =
        (0..2).map(|_| runtime.block_on(client.authenticate(&AuthRequest::new(ip()))).expect("auth")).collect();
    sim.add_fault(FaultRule::new(Fault::Delay(Duration::from_millis(2_500))).on(Endpoint::Collect));
    let t0 = Instant::now();
    let shown = runtime.block_on(async {
        let mut tasks = tokio::task::JoinSet::new();
        for start in &starts {
            let (client, order) = (client.clone(), order(start, StartMode::Qr));
            tasks.spawn(async move {
                let mut shown: Vec<(u64, Duration)> = Vec::new();
                let end = client
                    .wait(order, |event| {
                        if let Event::QrChanged(content) = event {
                            let second = content.split('.').nth(2).and_then(|s| s.parse().ok()).expect("seconds");
                            shown.push((second, t0.elapsed()));
                        }
                        if shown.len() == 6 { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
                    })
                    .await;
                assert!(matches!(end, Event::Cancelled { reason: CancelReason::Caller, .. }), "{end:?}");
                shown
            });
        }
        tasks.join_all().await
    });
    for shown in shown {
        let seconds: Vec<u64> = shown.iter().map(|(second, _)| *second).collect();
        assert_eq!(seconds, [0, 1, 2, 3, 4, 5], "{}", T::NAME);
        for (second, at) in &shown {
            assert!(*at + Duration::from_millis(50) >= Duration::from_secs(*second), "{shown:?}");
            assert!(*at < Duration::from_secs(*second) + Duration::from_millis(900), "{} {shown:?}", T::NAME);
        }
    }
    assert_eq!(sim.connections_accepted(), 1, "{}", T::NAME);
}

/// Two connections, and the server closes one of them instead of answering: that request
/// fails, and the requests after it get a new connection (never more than two open at once).
fn a_closed_connection_is_replaced<T: HttpTransport>() {
    let sim = Sim::start();
    sim.add_fault(FaultRule::new(Fault::Delay(Duration::from_millis(200))).on(Endpoint::Auth));
    let client = Client::<T>::new(sim.config().with_max_connections(2)).expect("client");
    let runtime = runtime();
    let both = || {
        let request = AuthRequest::new(ip());
        runtime.block_on(async {
            let (a, b) = tokio::join!(client.authenticate(&request), client.authenticate(&request));
            [a.is_ok(), b.is_ok()]
        })
    };
    assert_eq!(both(), [true, true]);
    assert_eq!(sim.connections_accepted(), 2);
    sim.clear_faults();
    sim.add_fault(FaultRule::new(Fault::Drop).on(Endpoint::Auth).times(1));
    sim.add_fault(FaultRule::new(Fault::Delay(Duration::from_millis(200))).on(Endpoint::Auth));
    let outcomes = both();
    assert_eq!(outcomes.iter().filter(|ok| **ok).count(), 1, "{outcomes:?}");
    assert_eq!(both(), [true, true], "{}", T::NAME);
    assert_eq!(sim.connections_accepted(), 3, "{}", T::NAME);
}

/// 40 threads start an order each, every answer held 100 ms, through 3 connections of one
/// blocking client: all are answered, over 3 connections.
#[test]
fn blocking_requests_beyond_the_limit_wait_for_a_connection() {
    let sim = Sim::start();
    sim.add_fault(FaultRule::new(Fault::Delay(Duration::from_millis(100))).on(Endpoint::Auth));
    let client = bankid_blocking::Client::new(sim.config().with_max_connections(3)).expect("client");
    let answered = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..40 {
            scope.spawn(|| {
                if client.authenticate(&AuthRequest::new(ip())).is_ok() {
                    answered.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
            });
        }
    });
    assert_eq!(answered.into_inner(), 40);
    assert_eq!(sim.connections_accepted(), 3);
}

macro_rules! for_each_async_transport {
    ($($test:ident),* $(,)?) => {
        mod hyper {
            $(#[test] fn $test() { super::$test::<bankid_hyper::HyperTransport>(); })*
        }
        mod reqwest {
            $(#[test] fn $test() { super::$test::<bankid_reqwest::ReqwestTransport>(); })*
        }
    };
}

for_each_async_transport!(
    requests_beyond_the_limit_wait_for_a_connection,
    busy_connections_are_reused_not_added,
    qr_codes_keep_coming_while_waiting_for_a_connection,
    a_closed_connection_is_replaced,
);
