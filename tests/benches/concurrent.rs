//! 1,000 concurrent orders driven to completion by one async client (bankid-reqwest, then
//! bankid-hyper), against bankid-sim with a phone that approves every order on its own.
//! Prints wall time, CPU time and peak memory of the client process.
//!
//! `cargo bench -p bankid-conformance --bench concurrent` (`ORDERS=n` to change the count)
//!
//! The simulator runs in a child process (this same binary, `BENCH_ROLE=sim`) and so does each
//! client (`BENCH_ROLE=reqwest|hyper`), so that each client's CPU time and peak memory
//! (`/proc/self/stat`, `VmHWM` in `/proc/self/status`) are its own.
#![allow(missing_docs)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::IpAddr;
use std::ops::ControlFlow;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use bankid_core::{AuthRequest, Config, Event, Identity, Order, OrderOptions, Roots, StartMode};

/// How long the simulated phone takes for each step (pick up, sign, approve).
const PHONE_DELAY: Duration = Duration::from_millis(500);

fn main() {
    match std::env::var("BENCH_ROLE").as_deref() {
        Ok("sim") => sim(),
        Ok(transport @ ("reqwest" | "hyper")) => client(transport),
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
    BufReader::new(sim.stdout.take().unwrap()).read_line(&mut base_url).unwrap();
    let orders = std::env::var("ORDERS").unwrap_or_else(|_| "1000".to_owned());
    println!("{orders} concurrent orders, phone step {PHONE_DELAY:?}, collect every 2 s, client on 2 worker threads");
    for transport in ["reqwest", "hyper"] {
        let status = Command::new(&exe)
            .env("BENCH_ROLE", transport)
            .env("PKI_DIR", &dir)
            .env("BASE_URL", base_url.trim())
            .env("ORDERS", &orders)
            .status()
            .unwrap();
        assert!(status.success());
    }
    drop(sim.stdin.take()); // the simulator stops when its stdin closes
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
    let _ = std::io::stdin().read_to_end(&mut Vec::new());
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

fn client(transport: &str) {
    let dir = std::env::var("PKI_DIR").unwrap();
    let read = |name: &str| std::fs::read(Path::new(&dir).join(name)).unwrap();
    let identity = Identity::from_pem(&read("rp-1.cert.pem"), &read("rp-1.key.pem"), None).unwrap();
    let config = Config::custom(&std::env::var("BASE_URL").unwrap(), Roots::from_pem(&read("ca.pem")).unwrap())
        .unwrap()
        .with_identity(identity)
        .with_request_timeout(Duration::from_secs(30));
    let orders: usize = std::env::var("ORDERS").unwrap().parse().unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let before = (status("VmHWM:"), cpu_time());
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
    let wall = started.elapsed();
    let cpu = cpu_time() - before.1;
    println!(
        "bankid-{transport:<8} {completed}/{orders} completed  wall {wall:.2?}  client CPU {cpu:.2?}  \
         peak RSS {} (before the run {})",
        status("VmHWM:"),
        before.0
    );
}
