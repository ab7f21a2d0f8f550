//! 1,000 concurrent orders driven to completion by one async client (bankid-reqwest, then
//! bankid-hyper), against bankid-sim with a phone that approves every order on its own; then
//! the same orders with bankid-blocking on a pool of threads (`BLOCKING_THREADS`, 100 by
//! default: the documented pattern for many orders with the blocking client). Prints wall
//! time, CPU time and peak memory of the client process, the connections it opened (counted by
//! the simulator) and the cost per order.
//!
//! `cargo bench -p bankid-conformance --bench concurrent` (`ORDERS=n` to change the count,
//! `BLOCKING_ORDERS=n` for the blocking client, 1,000 by default)
//!
//! The simulator runs in a child process (this same binary, `BENCH_ROLE=sim`) and so does each
//! client (`BENCH_ROLE=reqwest|hyper|blocking`), so that each client's CPU time and peak memory
//! (`/proc/self/stat`, `VmHWM` in `/proc/self/status`) are its own. The simulator answers
//! `count` on its stdin with the number of connections it has accepted.
#![allow(missing_docs)]

use std::io::{BufRead, BufReader, Write};
use std::net::IpAddr;
use std::ops::ControlFlow;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use bankid_core::{
    AuthRequest, Config, DEFAULT_MAX_CONNECTIONS, Event, Identity, Order, OrderOptions, Roots, StartMode,
};

/// How long the simulated phone takes for each step (pick up, sign, approve).
const PHONE_DELAY: Duration = Duration::from_millis(500);

fn main() {
    match std::env::var("BENCH_ROLE").as_deref() {
        Ok("sim") => sim(),
        Ok(transport @ ("reqwest" | "hyper")) => client(transport),
        Ok("blocking") => blocking_client(),
        // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing that matters.
        _ if std::env::args().any(|arg| arg == "--bench") => coordinator(),
        _ => println!("run with `cargo bench --bench concurrent`"),
    }
}

fn coordinator() {
    let dir = std::env::temp_dir().join(format!("bankid-bench-{}", std::process::id()));
    let exe = std::env::current_exe().unwrap();
    let mut sim = Command::new(&exe)
        .env("BENCH_ROLE", "sim")
        .env("PKI_DIR", &dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut base_url = String::new();
    let mut sim_out = BufReader::new(sim.stdout.take().unwrap());
    sim_out.read_line(&mut base_url).unwrap();
    let mut sim_in = sim.stdin.take().unwrap();
    let mut connections = || {
        writeln!(sim_in, "count").unwrap();
        let mut line = String::new();
        sim_out.read_line(&mut line).unwrap();
        line.trim().parse::<u64>().unwrap()
    };
    let orders = std::env::var("ORDERS").unwrap_or_else(|_| "1000".to_owned());
    let blocking_orders = std::env::var("BLOCKING_ORDERS").unwrap_or_else(|_| "1000".to_owned());
    println!(
        "{orders} concurrent orders, phone step {PHONE_DELAY:?}, collect every 2 s, async clients on 2 worker threads, \
         at most {DEFAULT_MAX_CONNECTIONS} connections"
    );
    for (transport, orders) in [("reqwest", &orders), ("hyper", &orders), ("blocking", &blocking_orders)] {
        let before = connections();
        let output = Command::new(&exe)
            .env("BENCH_ROLE", transport)
            .env("PKI_DIR", &dir)
            .env("BASE_URL", base_url.trim())
            .env("ORDERS", orders)
            .stderr(Stdio::inherit())
            .output()
            .unwrap();
        assert!(output.status.success());
        let line = String::from_utf8(output.stdout).unwrap();
        println!("{}  connections {}", line.trim_end(), connections() - before);
    }
    drop(sim_in); // the simulator stops when its stdin closes
    let mut last = String::new();
    sim_out.read_line(&mut last).unwrap();
    print!("{last}");
    sim.wait().unwrap();
    let _ = std::fs::remove_dir_all(dir);
}

fn sim() {
    let sim = bankid_sim::Simulator::builder()
        .auto_approve(Some(PHONE_DELAY))
        .write_pki_to(std::env::var("PKI_DIR").unwrap())
        .start_blocking()
        .unwrap();
    println!("{}", sim.base_url());
    std::io::stdout().flush().unwrap();
    for line in std::io::stdin().lines() {
        if line.unwrap().trim() == "count" {
            println!("{}", sim.connections_accepted());
            std::io::stdout().flush().unwrap();
        }
    }
    println!("bankid-sim peak RSS {} kB over the whole run (orders of every client above)", peak_kib());
}

/// User plus system CPU time of this process.
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    // Fields after the command name (which is in parentheses): utime is the 12th, stime the 13th.
    let fields: Vec<&str> = stat.rsplit_once(')').unwrap().1.split_whitespace().collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    Duration::from_millis(ticks * 10) // USER_HZ is 100 on Linux
}

/// A line of `/proc/self/status`, e.g. `VmHWM` (peak resident memory).
fn status(key: &str) -> String {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|line| line.starts_with(key)).unwrap();
    line[key.len() + 1..].trim().to_owned()
}

/// `VmHWM` in KiB.
fn peak_kib() -> u64 {
    status("VmHWM:").trim_end_matches("kB").trim().parse().unwrap()
}

/// The configuration of a bench client, from the simulator's PKI files.
fn config() -> Config {
    let dir = std::env::var("PKI_DIR").unwrap();
    let read = |name: &str| std::fs::read(Path::new(&dir).join(name)).unwrap();
    let identity = Identity::from_pem(&read("rp-1.cert.pem"), &read("rp-1.key.pem"), None).unwrap();
    Config::custom(&std::env::var("BASE_URL").unwrap(), Roots::from_pem(&read("ca.pem")).unwrap())
        .unwrap()
        .with_identity(identity)
        .with_request_timeout(Duration::from_secs(30))
}

/// The result line: wall, CPU, peak memory, and per order.
fn report(name: &str, completed: usize, orders: usize, wall: Duration, cpu: Duration, before_kib: u64) {
    let peak = peak_kib();
    println!(
        "bankid-{name:<8} {completed}/{orders} completed  wall {wall:.2?}  client CPU {cpu:.2?}  \
         peak RSS {peak} kB (before the run {before_kib} kB)  per order: RSS growth {:.2} KiB, CPU {:.3} ms",
        peak.saturating_sub(before_kib) as f64 / orders as f64,
        cpu.as_secs_f64() * 1000.0 / orders as f64,
    );
}

/// The documented pattern for many orders with the blocking client: a fixed pool of threads
/// taking orders from a shared queue, one client (one connection pool) for all of them.
fn blocking_client() {
    let config = config();
    let orders: usize = std::env::var("ORDERS").unwrap().parse().unwrap();
    let threads: usize = std::env::var("BLOCKING_THREADS").map_or(100, |n| n.parse().unwrap());
    let client = bankid_blocking::Client::new(config).unwrap();
    let before = (peak_kib(), cpu_time());
    let started = Instant::now();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let completed = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                while next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < orders {
                    let start = client.authenticate(&AuthRequest::new(IpAddr::from([192, 0, 2, 1]))).unwrap();
                    let order = Order::with_options(&start, StartMode::Qr, Instant::now(), OrderOptions::default());
                    match client.wait(order, |_| ControlFlow::Continue(())) {
                        Event::Completed(_) => drop(completed.fetch_add(1, std::sync::atomic::Ordering::Relaxed)),
                        other => eprintln!("order did not complete: {other:?}"),
                    }
                }
            });
        }
    });
    let name = format!("blocking ({threads} threads)");
    report(&name, completed.into_inner(), orders, started.elapsed(), cpu_time() - before.1, before.0);
}

fn client(transport: &str) {
    let config = config();
    let orders: usize = std::env::var("ORDERS").unwrap().parse().unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let before = (peak_kib(), cpu_time());
    let started = Instant::now();
    let completed = runtime.block_on(async move {
        let mut tasks = tokio::task::JoinSet::new();
        // The two clients have the same API but no common trait: one body, twice.
        macro_rules! start_all {
            ($client:expr) => {{
                let client = $client;
                for _ in 0..orders {
                    let client = client.clone();
                    tasks.spawn(async move {
                        let start = client.authenticate(&AuthRequest::new(IpAddr::from([192, 0, 2, 1]))).await?;
                        let order = Order::with_options(&start, StartMode::Qr, Instant::now(), OrderOptions::default());
                        drop(start); // not kept in the task while the order runs
                        Ok::<_, bankid_core::Error>(client.wait(order, |_| ControlFlow::Continue(())).await)
                    });
                }
            }};
        }
        if transport == "reqwest" {
            start_all!(bankid_reqwest::Client::new(config).unwrap());
        } else {
            start_all!(bankid_hyper::Client::new(config).unwrap());
        }
        let mut completed = 0;
        while let Some(result) = tasks.join_next().await {
            match result.unwrap() {
                Ok(Event::Completed(_)) => completed += 1,
                other => eprintln!("order did not complete: {other:?}"),
            }
        }
        completed
    });
    report(transport, completed, orders, started.elapsed(), cpu_time() - before.1, before.0);
}
